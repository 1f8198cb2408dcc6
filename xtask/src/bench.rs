//! `cargo xtask bench`: the criterion suite, and optionally the PyTorch side-by-side comparisons.
//!
//! `cargo xtask bench [FILTER...]` runs `cargo bench -p benches -- FILTER...`. With `--compare` it
//! then runs every `benches/reference/*.py` with `python3`, when `python3 -c "import torch"`
//! works; otherwise it says that it skipped them and why.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Also run the Python/PyTorch reference scripts in benches/reference/ (needs torch).
    #[arg(long)]
    compare: bool,
    /// Passed to criterion after `--` (e.g. a benchmark name filter).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    filter: Vec<String>,
}

/// Runs `cargo xtask bench`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let root = crate::project_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&root).args(["bench", "-p", "benches"]);
    if !args.filter.is_empty() {
        command.arg("--").args(&args.filter);
    }
    run_command(&mut command, "cargo bench -p benches")?;
    if args.compare {
        compare(&root)?;
    }
    Ok(())
}

/// Runs the reference scripts, or says why not.
fn compare(root: &Path) -> anyhow::Result<()> {
    let scripts = reference_scripts(&root.join("benches").join("reference"))?;
    if scripts.is_empty() {
        println!("--compare: no reference scripts in benches/reference/*.py; nothing to compare");
        return Ok(());
    }
    let probe = Command::new("python3")
        .args(["-c", "import torch"])
        .output();
    match probe {
        Err(err) => {
            println!(
                "--compare: skipped {} reference script(s): cannot run python3 ({err})",
                scripts.len()
            );
            return Ok(());
        }
        Ok(output) if !output.status.success() => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr.lines().last().unwrap_or("import failed");
            println!(
                "--compare: skipped {} reference script(s): `python3 -c \"import torch\"` failed: {reason}",
                scripts.len()
            );
            return Ok(());
        }
        Ok(_) => {}
    }
    let mut failures = Vec::new();
    for script in &scripts {
        println!("--compare: python3 {}", script.display());
        let mut command = Command::new("python3");
        command.current_dir(root).arg(script);
        if let Err(err) = run_command(&mut command, &format!("python3 {}", script.display())) {
            failures.push(format!("{err:#}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} reference script(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        )
    }
}

/// Every `*.py` in `dir`, sorted (none when the directory does not exist).
fn reference_scripts(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut scripts = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "py") {
            scripts.push(path);
        }
    }
    scripts.sort();
    Ok(scripts)
}

/// Runs `command` with inherited stdio; an unsuccessful exit is an error naming `what`.
fn run_command(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_scripts_are_the_sorted_py_files() {
        let dir = std::env::temp_dir().join(format!("neuromol-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["b.py", "a.py", "notes.md"] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let names: Vec<String> = reference_scripts(&dir)
            .unwrap()
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.py", "b.py"]);
        assert!(reference_scripts(&dir.join("missing")).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

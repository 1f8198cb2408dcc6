//! `cargo xtask bench`: the criterion suite, and optionally the PyTorch side-by-side comparisons.
//!
//! `cargo xtask bench [FILTER...]` runs `cargo bench -p benches -- FILTER...`.
//!
//! `cargo xtask bench compare` runs the side-by-side comparisons of [`COMPARISONS`]: for each, the
//! criterion bench on the Rust side and its PyTorch reference script in `benches/reference/`, in
//! one go, and prints the ratio against its target (for the meta-gradient episode, timed
//! by forward and by reverse mode against the same script, also both processes' peak RSS against
//! the ≥ 20× memory target). It needs a Python with torch
//! (`NEUROMOL_PYTHON`, default `python3`); without one it says that it skipped and why.
//! `--compare` does the same after the full suite.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// After the suite, also run the side-by-side PyTorch comparisons (needs torch).
    #[arg(long)]
    compare: bool,
    /// Passed to criterion after `--` (e.g. a benchmark name filter); the single word `compare`
    /// runs only the side-by-side comparisons.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    filter: Vec<String>,
}

/// One side-by-side comparison: a criterion bench and the PyTorch script that does the same work.
pub(crate) struct Comparison {
    /// Criterion bench target (file under `benches/benches/`, without `.rs`).
    bench_target: &'static str,
    /// Criterion id `group/function/parameter`, also the directory under `target/criterion/`.
    criterion_id: &'static str,
    /// Script under `benches/reference/`, printing JSON lines `{"name": …, "us_per_step": …}`.
    script: &'static str,
    /// How many threads the script may use: as many as the Rust side.
    threads: Threads,
    /// The PyTorch variant the target refers to, and the speed-up the issue asks for.
    target: (&'static str, f64),
    /// How many times less peak memory than that variant the issue asks for, if it does: the
    /// bench process prints its peak RSS ([`PEAK_RSS_MARKER`]) and the script its
    /// `peak_rss_mb`, both whole processes.
    memory_target: Option<f64>,
}

/// The prefix of the peak-RSS line a bench prints; `benches::PEAK_RSS_MARKER` (a test checks
/// that the two agree, as `xtask` does not depend on the bench crate).
const PEAK_RSS_MARKER: &str = "neuromol-peak-rss-mb:";

/// The threads of a comparison's two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// The Rust code path is sequential: torch gets one intra-op thread.
    One,
    /// The Rust code path runs on rayon's global pool: torch gets as many intra-op threads.
    /// The criterion process sizes its pool as this one does (`RAYON_NUM_THREADS`, else the
    /// available parallelism), so this process's pool size is the bench's.
    Rayon,
}

impl Threads {
    fn count(self) -> usize {
        match self {
            Threads::One => 1,
            Threads::Rayon => rayon::current_num_threads(),
        }
    }
}

/// The comparisons `cargo xtask bench compare` runs.
pub(crate) const COMPARISONS: &[Comparison] = &[
    Comparison {
        bench_target: "plasticity",
        criterion_id: "plasticity/online_step/784-170-130-100-70-47",
        script: "online_step.py",
        threads: Threads::One,
        target: ("torch_manual_no_grad", 4.0),
        memory_target: None,
    },
    // One whole meta-training episode (F^bio, 250 unrolled steps and dL/dΘ): here "µs per
    // step" is µs per episode on both sides. Both sides print their peak RSS (target: ≥ 20×
    // less).
    Comparison {
        bench_target: "meta_plasticity",
        criterion_id: "meta_plasticity/meta_episode/bio",
        script: "meta_episode.py",
        threads: Threads::Rayon,
        target: ("torch_autograd_unrolled", 10.0),
        memory_target: Some(20.0),
    },
    // The same episode by checkpointed reverse mode (`meta_gradient_reverse`), against the same
    // script: PyTorch's autograd is reverse mode through a tape, so this sets like against like.
    Comparison {
        bench_target: "meta_plasticity",
        criterion_id: "meta_plasticity/meta_episode/bio_reverse",
        script: "meta_episode.py",
        threads: Threads::Rayon,
        target: ("torch_autograd_unrolled", 10.0),
        memory_target: Some(20.0),
    },
    // One GSVAE training step (B = 24, L = 4, 9,425 features, Adam); the script also prints
    // "torch_molvae_step_code" (the encoder on all B·L rows, as the paper's code does).
    Comparison {
        bench_target: "mol_vae",
        criterion_id: "mol_vae/molvae_step/24",
        script: "molvae_step.py",
        threads: Threads::Rayon,
        target: ("torch_molvae_step", 3.0),
        memory_target: None,
    },
];

/// Runs `cargo xtask bench`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let root = crate::project_root();
    let compare_only = args.filter.first().is_some_and(|word| word == "compare");
    if !compare_only {
        let mut command = cargo_bench(&root);
        if !args.filter.is_empty() {
            command.arg("--").args(&args.filter);
        }
        run_command(&mut command, "cargo bench -p benches")?;
    }
    if args.compare || compare_only {
        compare(&root, !compare_only)?;
    }
    Ok(())
}

fn cargo_bench(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).args(["bench", "-p", "benches"]);
    command
}

/// Runs every comparison (the Rust bench first unless `already_benched`), or says why not.
fn compare(root: &Path, already_benched: bool) -> anyhow::Result<()> {
    let python = std::env::var("NEUROMOL_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python).args(["-c", "import torch"]).output();
    let skip_reason = match probe {
        Err(err) => Some(format!("cannot run {python} ({err})")),
        Ok(output) if !output.status.success() => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Some(format!(
                "`{python} -c \"import torch\"` failed: {}",
                stderr.lines().last().unwrap_or("import failed")
            ))
        }
        Ok(_) => None,
    };
    if let Some(reason) = skip_reason {
        println!(
            "bench compare: skipped {} comparison(s): {reason} (set NEUROMOL_PYTHON to a Python with torch)",
            COMPARISONS.len()
        );
        return Ok(());
    }
    let mut failures = Vec::new();
    for comparison in COMPARISONS {
        if let Err(err) = compare_one(root, &python, comparison, already_benched) {
            failures.push(format!("{}: {err:#}", comparison.criterion_id));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} comparison(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        )
    }
}

fn compare_one(
    root: &Path,
    python: &str,
    comparison: &Comparison,
    already_benched: bool,
) -> anyhow::Result<()> {
    // The bench's output, when this comparison ran it (for its peak RSS).
    let mut bench_output = None;
    if !already_benched {
        let mut command = cargo_bench(root);
        command.args([
            "--bench",
            comparison.bench_target,
            "--",
            "--noplot",
            &criterion_filter(comparison.criterion_id),
        ]);
        bench_output = Some(run_command_tee(
            &mut command,
            &format!("cargo bench --bench {}", comparison.bench_target),
        )?);
    }
    let estimates = root
        .join("target/criterion")
        .join(comparison.criterion_id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(&estimates)
        .with_context(|| format!("reading {}", estimates.display()))?;
    let rust_ns = json_number_after(&text, "\"mean\"", "\"point_estimate\"")
        .with_context(|| format!("no mean point_estimate in {}", estimates.display()))?;
    let rust_us = rust_ns / 1_000.0;
    let script = root.join("benches/reference").join(comparison.script);
    let threads = comparison.threads.count();
    let output = Command::new(python)
        .current_dir(root)
        .arg(&script)
        .args(["--threads", &threads.to_string()])
        .output()
        .with_context(|| format!("cannot start {python} {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{python} {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!(
        "\n{}: Rust {rust_us:.1} µs per step (criterion mean; both sides on {threads} thread{})",
        comparison.criterion_id,
        if threads == 1 { "" } else { "s" }
    );
    let mut target_met = None;
    for line in stdout.lines().filter(|l| l.trim_start().starts_with('{')) {
        let name = json_string(line, "\"name\"").unwrap_or_else(|| "?".to_string());
        let Some(torch_us) = json_number_after(line, "", "\"us_per_step\"") else {
            continue;
        };
        let ratio = torch_us / rust_us;
        println!("  {name:<28} {torch_us:>9.1} µs   Rust is {ratio:.1}× faster");
        if name == comparison.target.0 {
            target_met = Some(ratio >= comparison.target.1);
            if let Some(memory_target) = comparison.memory_target {
                report_memory(
                    bench_output.as_deref(),
                    json_number_after(line, "", "\"peak_rss_mb\""),
                    memory_target,
                );
            }
        }
    }
    match target_met {
        Some(true) => println!(
            "  target ≥ {}× vs {}: met",
            comparison.target.1, comparison.target.0
        ),
        Some(false) => println!(
            "  target ≥ {}× vs {}: NOT met",
            comparison.target.1, comparison.target.0
        ),
        None => bail!("the script printed no `{}` line", comparison.target.0),
    }
    Ok(())
}

/// The criterion filter that runs exactly `criterion_id`: everything after the group, anchored
/// at the end (criterion matches it as a regex against the whole id).
fn criterion_filter(criterion_id: &str) -> String {
    let function = criterion_id
        .split_once('/')
        .map_or(criterion_id, |(_, rest)| rest);
    format!("{function}$")
}

/// Prints the peak-memory comparison: the bench process's peak RSS (from its output) against
/// the script's, and whether Rust uses at least `target` times less.
fn report_memory(bench_output: Option<&str>, torch_mb: Option<f64>, target: f64) {
    let rust_mb = bench_output.and_then(peak_rss_from);
    match (rust_mb, torch_mb) {
        (Some(rust_mb), Some(torch_mb)) => {
            let ratio = torch_mb / rust_mb;
            println!(
                "  peak RSS (whole processes): Rust {rust_mb:.1} MB, PyTorch {torch_mb:.1} MB → \
                 {ratio:.0}× less; target ≥ {target}× less: {}",
                if ratio >= target { "met" } else { "NOT met" }
            );
        }
        (None, _) => println!(
            "  peak RSS: not measured (the bench ran before this comparison, or its process \
             printed no `{PEAK_RSS_MARKER}` line; run `cargo xtask bench compare` on Linux)"
        ),
        (_, None) => println!("  peak RSS: the script printed no peak_rss_mb"),
    }
}

/// The last peak RSS (MiB) a bench printed after [`PEAK_RSS_MARKER`].
fn peak_rss_from(output: &str) -> Option<f64> {
    output
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix(PEAK_RSS_MARKER))
        .and_then(|rest| rest.trim().parse().ok())
}

/// The number after `key` (which must follow `after`, when given) in a flat JSON text.
fn json_number_after(text: &str, after: &str, key: &str) -> Option<f64> {
    let start = if after.is_empty() {
        0
    } else {
        text.find(after)?
    };
    let rest = &text[start..];
    let at = rest.find(key)? + key.len();
    let rest = rest[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The string value of `key` in a flat JSON line.
fn json_string(line: &str, key: &str) -> Option<String> {
    let at = line.find(key)? + key.len();
    let rest = line[at..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// Every `*.py` in `dir`, sorted (none when the directory does not exist).
#[cfg(test)]
fn reference_scripts(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
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

/// Runs `command` with its standard output echoed line by line and returned (standard error
/// inherited); an unsuccessful exit is an error naming `what`.
fn run_command_tee(command: &mut Command, what: &str) -> anyhow::Result<String> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{what}`"))?;
    let stdout = child
        .stdout
        .take()
        .with_context(|| format!("no standard output from `{what}`"))?;
    let mut text = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.with_context(|| format!("reading the output of `{what}`"))?;
        println!("{line}");
        text.push_str(&line);
        text.push('\n');
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(text)
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

    #[test]
    fn every_reference_script_has_a_comparison_and_every_comparison_its_script() {
        let root = crate::project_root();
        let scripts: Vec<String> = reference_scripts(&root.join("benches/reference"))
            .unwrap()
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let compared: Vec<&str> = COMPARISONS.iter().map(|c| c.script).collect();
        for script in &scripts {
            assert!(
                compared.contains(&script.as_str()),
                "{script} has no entry in COMPARISONS"
            );
        }
        for script in compared {
            assert!(
                scripts.iter().any(|s| s == script),
                "COMPARISONS names a missing script {script}"
            );
        }
    }

    #[test]
    fn criterion_filters_select_exactly_one_bench() {
        assert_eq!(
            criterion_filter("meta_plasticity/meta_episode/bio"),
            "meta_episode/bio$"
        );
        assert_eq!(
            criterion_filter("mol_vae/molvae_step/24"),
            "molvae_step/24$"
        );
        assert_eq!(criterion_filter("alone"), "alone$");
    }

    #[test]
    fn the_peak_rss_line_is_read_from_bench_output() {
        let output = format!(
            "Benchmarking x\n{PEAK_RSS_MARKER} 12.0\ntime: [1 ms]\n{PEAK_RSS_MARKER} 23.5\n"
        );
        assert_eq!(peak_rss_from(&output), Some(23.5));
        assert_eq!(peak_rss_from("no marker here\n"), None);
        assert_eq!(peak_rss_from(&format!("{PEAK_RSS_MARKER} lots\n")), None);
    }

    #[test]
    fn the_peak_rss_marker_matches_the_benches_crate() {
        let lib =
            std::fs::read_to_string(crate::project_root().join("benches/src/lib.rs")).unwrap();
        assert!(
            lib.contains(&format!(
                "pub const PEAK_RSS_MARKER: &str = \"{PEAK_RSS_MARKER}\";"
            )),
            "benches::PEAK_RSS_MARKER differs from xtask's"
        );
    }

    #[test]
    fn json_fields_are_read_from_criterion_and_script_output() {
        let estimates = r#"{"mean":{"confidence_interval":{"lower_bound":1.0},"point_estimate":30929.93,"standard_error":2.1},"median":{"point_estimate":5.0}}"#;
        assert_eq!(
            json_number_after(estimates, "\"mean\"", "\"point_estimate\""),
            Some(30929.93)
        );
        assert_eq!(
            json_number_after(estimates, "\"median\"", "\"point_estimate\""),
            Some(5.0)
        );
        let line = r#"{"name": "torch_manual_no_grad", "us_per_step": 1.15e2}"#;
        assert_eq!(
            json_string(line, "\"name\""),
            Some("torch_manual_no_grad".to_string())
        );
        assert_eq!(json_number_after(line, "", "\"us_per_step\""), Some(115.0));
        assert_eq!(json_number_after("{}", "", "\"us_per_step\""), None);
    }
}

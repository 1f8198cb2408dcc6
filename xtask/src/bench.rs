//! `cargo xtask bench`: the criterion suite, and optionally the PyTorch side-by-side comparisons.
//!
//! `cargo xtask bench [FILTER...]` runs `cargo bench -p benches -- FILTER...`.
//!
//! `cargo xtask bench compare [--quick] [NAME...]` runs the side-by-side comparisons of
//! [`COMPARISONS`] (those whose criterion id contains a NAME, when given). It first writes the
//! Rust reference cases (`cargo run --release -p benches --example reference_case`, into
//! `target/bench-reference/`), which every script checks its own result against before it times
//! anything. Then, at each thread count of [`THREAD_COUNTS`], for each comparison it runs the
//! criterion bench (rayon's pool sized by `RAYON_NUM_THREADS`) and its PyTorch script in
//! `benches/reference/` (torch sized by `--threads`), and prints every PyTorch variant the script
//! reports with the ratio against it, then the target, which refers to the strongest variant (for
//! the meta-gradient episodes also both processes' peak RSS against the ≥ 20× memory target).
//! `--quick` passes the scripts fewer timed steps (a smoke test, not a measurement).
//! It needs a Python with torch (`NEUROMOL_PYTHON`, default `python3`); without one it says that
//! it skipped and why. `--compare` does the same after the full suite.

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
    /// Passed to criterion after `--` (e.g. a benchmark name filter); the word `compare` first
    /// runs only the side-by-side comparisons, and the words after it are `--quick` (fewer timed
    /// steps on the PyTorch side) or names that select comparisons by criterion id.
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
    /// Extra arguments of the script (e.g. which rule family).
    script_args: &'static [&'static str],
    /// The script's arguments for `--quick`: fewer timed steps.
    quick_args: &'static [&'static str],
    /// The strongest PyTorch variant, which the target refers to, and the speed-up asked for.
    target: (&'static str, f64),
    /// How many times less peak memory than that variant the issue asks for, if it does: the
    /// bench process prints its peak RSS ([`PEAK_RSS_MARKER`]) and the script its
    /// `peak_rss_mb`, both whole processes.
    memory_target: Option<f64>,
}

/// The prefix of the peak-RSS line a bench prints; `benches::PEAK_RSS_MARKER` (a test checks
/// that the two agree, as `xtask` does not depend on the bench crate).
const PEAK_RSS_MARKER: &str = "neuromol-peak-rss-mb:";

/// The thread counts every comparison runs at: both sides get the same count (rayon's pool by
/// `RAYON_NUM_THREADS`, torch's intra-op pool by `--threads`).
pub(crate) const THREAD_COUNTS: [usize; 2] = [1, 2];

/// Where `compare` writes the Rust reference cases the scripts check against.
const REFERENCE_DIR: &str = "target/bench-reference";

/// The comparisons `cargo xtask bench compare` runs.
pub(crate) const COMPARISONS: &[Comparison] = &[
    // The sequential Rust step against the manual in-place PyTorch step; the script also prints
    // "torch_autograd" (feedback alignment as a custom autograd Function).
    Comparison {
        bench_target: "plasticity",
        criterion_id: "plasticity/online_step/784-170-130-100-70-47",
        script: "online_step.py",
        script_args: &[],
        quick_args: &["--steps", "200"],
        target: ("torch_manual_inplace", 5.0),
        memory_target: None,
    },
    // One whole meta-training episode (F^bio, 250 unrolled steps and dL/dΘ): here "µs per
    // step" is µs per episode on both sides. The script prints the factored autograd episode
    // (the target's) and the dense one "as the published code writes it"; both sides print
    // their peak RSS (target: ≥ 20× less).
    Comparison {
        bench_target: "meta_plasticity",
        criterion_id: "meta_plasticity/meta_episode/bio",
        script: "meta_episode.py",
        script_args: &["--family", "bio"],
        quick_args: &["--episodes", "1"],
        target: ("torch_autograd_factored", 8.0),
        memory_target: Some(20.0),
    },
    // The same episode by checkpointed reverse mode (`meta_gradient_reverse`): PyTorch's
    // autograd is reverse mode through a tape, so this sets like against like.
    Comparison {
        bench_target: "meta_plasticity",
        criterion_id: "meta_plasticity/meta_episode/bio_reverse",
        script: "meta_episode.py",
        script_args: &["--family", "bio"],
        quick_args: &["--episodes", "1"],
        target: ("torch_autograd_factored", 8.0),
        memory_target: Some(20.0),
    },
    // The ten-term pool, by forward and by reverse mode.
    Comparison {
        bench_target: "meta_plasticity",
        criterion_id: "meta_plasticity/meta_episode/pool",
        script: "meta_episode.py",
        script_args: &["--family", "pool"],
        quick_args: &["--episodes", "1"],
        target: ("torch_autograd_factored", 10.0),
        memory_target: Some(20.0),
    },
    Comparison {
        bench_target: "meta_plasticity",
        criterion_id: "meta_plasticity/meta_episode/pool_reverse",
        script: "meta_episode.py",
        script_args: &["--family", "pool"],
        quick_args: &["--episodes", "1"],
        target: ("torch_autograd_factored", 10.0),
        memory_target: Some(20.0),
    },
    // One GSVAE training step (B = 24, L = 4, 9,425 features, Adam); the script also prints
    // "torch_molvae_step_code" (the encoder on all B·L rows, as the paper's code does).
    Comparison {
        bench_target: "mol_vae",
        criterion_id: "mol_vae/molvae_step/24",
        script: "molvae_step.py",
        script_args: &[],
        quick_args: &["--steps", "20"],
        target: ("torch_molvae_step", 4.0),
        memory_target: None,
    },
];

/// How `compare` runs, from the words after `compare`.
#[derive(Debug, Default, PartialEq)]
struct CompareOptions {
    /// Fewer timed steps on the PyTorch side.
    quick: bool,
    /// Substrings of criterion ids selecting comparisons (all when empty).
    names: Vec<String>,
}

impl CompareOptions {
    fn parse(words: &[String]) -> CompareOptions {
        let mut options = CompareOptions::default();
        for word in words {
            if word == "--quick" {
                options.quick = true;
            } else {
                options.names.push(word.clone());
            }
        }
        options
    }

    fn selects(&self, comparison: &Comparison) -> bool {
        self.names.is_empty()
            || self
                .names
                .iter()
                .any(|name| comparison.criterion_id.contains(name.as_str()))
    }
}

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
        let words = if compare_only {
            &args.filter[1..]
        } else {
            &[][..]
        };
        compare(&root, &CompareOptions::parse(words))?;
    }
    Ok(())
}

fn cargo_bench(root: &Path) -> Command {
    let mut command = cargo(root);
    command.args(["bench", "-p", "benches"]);
    command
}

fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root);
    command
}

/// Runs the selected comparisons at every thread count, or says why not.
fn compare(root: &Path, options: &CompareOptions) -> anyhow::Result<()> {
    let python = std::env::var("NEUROMOL_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let selected: Vec<&Comparison> = COMPARISONS.iter().filter(|c| options.selects(c)).collect();
    if selected.is_empty() {
        bail!(
            "no comparison's criterion id contains any of {:?}",
            options.names
        );
    }
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
            selected.len()
        );
        return Ok(());
    }
    let reference = root.join(REFERENCE_DIR);
    run_command(
        cargo(root)
            .args([
                "run",
                "--release",
                "-p",
                "benches",
                "--example",
                "reference_case",
                "--",
            ])
            .arg(&reference),
        "cargo run --release -p benches --example reference_case",
    )?;
    if options.quick {
        println!(
            "bench compare --quick: fewer timed PyTorch steps; a smoke test, not a measurement"
        );
    }
    let mut failures = Vec::new();
    for threads in THREAD_COUNTS {
        for comparison in &selected {
            if let Err(err) = compare_one(root, &python, &reference, comparison, threads, options) {
                failures.push(format!(
                    "{} ({threads} thread(s)): {err:#}",
                    comparison.criterion_id
                ));
            }
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
    reference: &Path,
    comparison: &Comparison,
    threads: usize,
    options: &CompareOptions,
) -> anyhow::Result<()> {
    let mut command = cargo_bench(root);
    command.env("RAYON_NUM_THREADS", threads.to_string()).args([
        "--bench",
        comparison.bench_target,
        "--",
        "--noplot",
        &criterion_filter(comparison.criterion_id),
    ]);
    let bench_output = run_command_tee(
        &mut command,
        &format!(
            "RAYON_NUM_THREADS={threads} cargo bench --bench {}",
            comparison.bench_target
        ),
    )?;
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
    let mut command = Command::new(python);
    command
        .current_dir(root)
        .arg(&script)
        .args(["--threads", &threads.to_string()])
        .arg("--reference")
        .arg(reference)
        .args(comparison.script_args);
    if options.quick {
        command.args(comparison.quick_args);
    }
    let output = command
        .output()
        .with_context(|| format!("cannot start {python} {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{python} {} failed (it checks its result against Rust's before timing): {}",
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
        let label = if name == comparison.target.0 {
            "strongest"
        } else {
            "as written"
        };
        println!("  {name:<30} {torch_us:>11.1} µs   ({label:<10}) Rust is {ratio:.1}× faster");
        if name == comparison.target.0 {
            target_met = Some(ratio >= comparison.target.1);
            if let Some(memory_target) = comparison.memory_target {
                report_memory(
                    Some(&bench_output),
                    json_number_after(line, "", "\"peak_rss_mb\""),
                    memory_target,
                );
            }
        }
    }
    match target_met {
        Some(met) => println!(
            "  target ≥ {}× vs {} at {threads} thread(s): {}",
            comparison.target.1,
            comparison.target.0,
            if met { "met" } else { "NOT met" }
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
            "  peak RSS: not measured (the bench process printed no `{PEAK_RSS_MARKER}` line; \
             run `cargo xtask bench compare` on Linux)"
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

/// Every `*.py` in `dir` that is a script (modules whose name starts with `_` are helpers the
/// scripts import), sorted (none when the directory does not exist).
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
        let helper = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('_'));
        if path.is_file() && !helper && path.extension().is_some_and(|ext| ext == "py") {
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
        for name in ["b.py", "a.py", "_helper.py", "notes.md"] {
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
    fn compare_words_are_quick_and_names() {
        let words: Vec<String> = ["--quick", "pool"].iter().map(|w| w.to_string()).collect();
        let options = CompareOptions::parse(&words);
        assert_eq!(
            options,
            CompareOptions {
                quick: true,
                names: vec!["pool".to_string()]
            }
        );
        let selected: Vec<&str> = COMPARISONS
            .iter()
            .filter(|c| options.selects(c))
            .map(|c| c.criterion_id)
            .collect();
        assert_eq!(
            selected,
            [
                "meta_plasticity/meta_episode/pool",
                "meta_plasticity/meta_episode/pool_reverse"
            ]
        );
        assert_eq!(
            COMPARISONS
                .iter()
                .filter(|c| CompareOptions::default().selects(c))
                .count(),
            COMPARISONS.len()
        );
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

//! `cargo xtask slurm <experiment>`: run an experiment's independent units on a Slurm cluster.
//!
//! Writes two batch scripts into the run directory: `shards.sbatch`, a job array whose task `K`
//! runs `xtask reproduce <experiment> --shard K/N --out DIR --resume` (its units land in
//! `DIR/units/`), and `merge.sbatch`, which runs `xtask reproduce <experiment> --merge DIR` once
//! the array has finished and writes the report into `DIR/report/`. Both log to `DIR/logs/`.
//! With `--submit` it builds the release binary once, submits the array and then the merge job
//! with `--dependency=afterok:<array>`, and prints both job ids. The tasks run that binary from
//! this checkout, so the checkout must be on a filesystem the nodes share, and nothing compiles
//! on a compute node.
//!
//! The scripts come from one pure function, [`scripts`], tested below.

use std::{
    env,
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context as _, bail, ensure};
use clap::ValueEnum;
use experiments::reproduce::{EXPERIMENTS, Protocol};

use crate::reproduce::Gradient;

/// Arguments of `cargo xtask slurm`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The experiment to run (`cargo xtask reproduce list` prints them).
    experiment: String,
    /// Number of array tasks; each runs one of N balanced groups of the experiment's units.
    /// Clusters cap the array size (Slurm's MaxArraySize, 1001 by default).
    #[arg(long, value_name = "N", default_value_t = 4)]
    shards: u32,
    /// Run directory: scripts, logs/, units/ and report/ (default:
    /// target/slurm/EXPERIMENT/seed-N, with -quick appended in quick mode). Use a fresh one for
    /// each configuration: merge refuses units of another configuration.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The quick version of the experiment (as `reproduce --quick`).
    #[arg(long)]
    quick: bool,
    /// Master seed of the run (as `reproduce --seed`).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A TOML configuration (as `reproduce --config`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one configuration key (as `reproduce --set`; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Seeds per curve of a meta-* experiment (as `reproduce --seeds`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(2..=1000))]
    seeds: Option<u16>,
    /// Meta-gradient mode of a meta-* experiment (as `reproduce --gradient`).
    #[arg(long, value_enum)]
    gradient: Option<Gradient>,
    /// Protocol of meta-baselines and meta-mechanisms (as `reproduce --protocol`).
    #[arg(long, value_enum)]
    protocol: Option<Protocol>,
    /// Data root for the tasks (as `reproduce --data`); without it the tasks see NEUROMOL_DATA
    /// as it is when the scripts are written.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Slurm partition (`#SBATCH --partition`); without it, the cluster's default.
    #[arg(long, value_name = "P")]
    partition: Option<String>,
    /// Time limit of each array task and of the merge job (`#SBATCH --time`), e.g. `90`,
    /// `2:00:00` or `1-12:00:00`; without it, the partition's default.
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// CPUs per array task (`#SBATCH --cpus-per-task`); each task runs that many rayon threads
    /// (RAYON_NUM_THREADS=$SLURM_CPUS_PER_TASK).
    #[arg(long, value_name = "C", default_value_t = 1)]
    cpus_per_task: u32,
    /// Memory per array task and for the merge job (`#SBATCH --mem`), e.g. `4G` or `2000M`.
    #[arg(long, value_name = "M")]
    mem: Option<String>,
    /// Build the release binary, then submit the array and the merge job with sbatch.
    #[arg(long)]
    submit: bool,
}

/// Everything the two batch scripts depend on, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The checkout the tasks run in.
    pub(crate) root: PathBuf,
    /// The release binary the tasks run.
    pub(crate) binary: PathBuf,
    /// The experiment's name.
    pub(crate) experiment: String,
    /// The options of `reproduce` shared by the shards and the merge (seed, mode, configuration).
    pub(crate) reproduce_args: Vec<String>,
    /// `NEUROMOL_DATA` exported to the tasks, when set.
    pub(crate) data_env: Option<PathBuf>,
    /// Number of array tasks.
    pub(crate) shards: u32,
    /// The run directory (absolute).
    pub(crate) dir: PathBuf,
    /// CPUs per array task.
    pub(crate) cpus_per_task: u32,
    /// `#SBATCH --partition`.
    pub(crate) partition: Option<String>,
    /// `#SBATCH --time`.
    pub(crate) time: Option<String>,
    /// `#SBATCH --mem`.
    pub(crate) mem: Option<String>,
}

/// The two batch scripts of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scripts {
    /// `shards.sbatch`: the job array.
    pub(crate) shards: String,
    /// `merge.sbatch`: the merge job.
    pub(crate) merge: String,
}

/// File name of the job-array script inside the run directory.
pub(crate) const SHARDS_SCRIPT: &str = "shards.sbatch";
/// File name of the merge script inside the run directory.
pub(crate) const MERGE_SCRIPT: &str = "merge.sbatch";

/// Runs `cargo xtask slurm`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let root = crate::project_root();
    let cwd = env::current_dir().context("reading the current directory")?;
    let plan = plan(args, &root, &cwd, env::var_os("NEUROMOL_DATA"))?;
    let scripts = scripts(&plan);
    let logs = plan.dir.join("logs");
    fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let shards_path = plan.dir.join(SHARDS_SCRIPT);
    let merge_path = plan.dir.join(MERGE_SCRIPT);
    write_script(&shards_path, &scripts.shards)?;
    write_script(&merge_path, &scripts.merge)?;
    println!("wrote {}", shards_path.display());
    println!("wrote {}", merge_path.display());
    if !args.submit {
        println!(
            "submit with: cargo xtask slurm {} ... --submit, or build the release binary \
             (cargo build --release -p xtask) and run: \
             sbatch --parsable {} (array id A), then sbatch --dependency=afterok:A {}",
            plan.experiment,
            shards_path.display(),
            merge_path.display()
        );
        return Ok(());
    }
    let Some(sbatch) = find_on_path("sbatch") else {
        bail!(
            "--submit needs Slurm's sbatch, which is not on PATH (Slurm is not installed here); \
             the scripts are written in {}: on a cluster's login node, build the release binary \
             and submit {} then {} with --dependency=afterok:<array job id>",
            plan.dir.display(),
            shards_path.display(),
            merge_path.display()
        );
    };
    build_release(&root)?;
    ensure!(
        plan.binary.is_file(),
        "the release build did not produce {}",
        plan.binary.display()
    );
    let array_id = submit(&sbatch, &[], &shards_path)?;
    let merge_id = submit(
        &sbatch,
        &[format!("--dependency=afterok:{array_id}")],
        &merge_path,
    )?;
    println!(
        "submitted shards as job array {array_id} (tasks 0-{}) and merge as job {merge_id} (after the array succeeds)",
        plan.shards - 1
    );
    println!("array job id: {array_id}");
    println!("merge job id: {merge_id}");
    println!(
        "watch with: squeue -j {array_id},{merge_id} (or sacct -j {array_id},{merge_id}); logs in {}; report in {}",
        logs.display(),
        plan.dir.join("report").display()
    );
    Ok(())
}

/// Validates the arguments and resolves every path against `root` and `cwd`.
///
/// # Errors
///
/// An unknown experiment, zero shards or CPUs, a malformed `--set`, `--time`, `--mem` or
/// `--partition`, a missing `--config` file, or a path that cannot be written into a batch
/// script.
pub(crate) fn plan(
    args: &Args,
    root: &Path,
    cwd: &Path,
    neuromol_data: Option<std::ffi::OsString>,
) -> anyhow::Result<Plan> {
    let experiment = args.experiment.as_str();
    let Some(declared) = EXPERIMENTS.iter().find(|e| e.name == experiment) else {
        let known: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
        bail!(
            "unknown experiment '{experiment}' (slurm runs one experiment); known: {}",
            known.join(", ")
        );
    };
    if declared.units.is_none() {
        bail!(
            "'{experiment}' has no independent units to spread over a job array: run it whole with `cargo xtask reproduce {experiment}`"
        );
    }
    ensure!(args.shards >= 1, "--shards must be at least 1");
    ensure!(
        args.cpus_per_task >= 1,
        "--cpus-per-task must be at least 1"
    );
    if let Some(partition) = &args.partition {
        ensure!(
            !partition.is_empty()
                && partition
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.,".contains(c)),
            "--partition '{partition}': expected a partition name (letters, digits, _ - . and , between names)"
        );
    }
    if let Some(time) = &args.time {
        ensure!(
            is_slurm_time(time),
            "--time '{time}': expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED"
        );
    }
    if let Some(mem) = &args.mem {
        ensure!(
            is_slurm_mem(mem),
            "--mem '{mem}': expected a size in megabytes or with a unit, e.g. 4000, 4000M, 4G"
        );
    }
    for set in &args.sets {
        ensure!(
            set.split_once('=').is_some_and(|(key, _)| !key.is_empty()),
            "--set '{set}': expected KEY=VALUE"
        );
        ensure!(!set.contains('\n'), "--set '{set}': contains a newline");
    }

    let absolute = |path: &Path| cwd.join(path);
    let dir = match &args.out {
        Some(out) => absolute(out),
        None => root
            .join("target/slurm")
            .join(experiment)
            .join(default_leaf(args)),
    };
    check_script_path("--out", &dir)?;

    let mut reproduce_args = Vec::new();
    if args.quick {
        reproduce_args.push("--quick".to_string());
    }
    reproduce_args.push("--seed".to_string());
    reproduce_args.push(args.seed.to_string());
    if let Some(seeds) = args.seeds {
        reproduce_args.push("--seeds".to_string());
        reproduce_args.push(seeds.to_string());
    }
    if let Some(gradient) = args.gradient {
        reproduce_args.push("--gradient".to_string());
        reproduce_args.push(value_name(gradient));
    }
    if let Some(protocol) = args.protocol {
        reproduce_args.push("--protocol".to_string());
        reproduce_args.push(value_name(protocol));
    }
    if let Some(data) = &args.data {
        let data = absolute(data);
        check_script_path("--data", &data)?;
        reproduce_args.push("--data".to_string());
        reproduce_args.push(path_string(&data)?);
    }
    if let Some(config) = &args.config {
        let config = absolute(config);
        ensure!(
            config.is_file(),
            "--config {}: no such file",
            config.display()
        );
        check_script_path("--config", &config)?;
        reproduce_args.push("--config".to_string());
        reproduce_args.push(path_string(&config)?);
    }
    for set in &args.sets {
        reproduce_args.push("--set".to_string());
        reproduce_args.push(set.clone());
    }

    let data_env = match (&args.data, neuromol_data) {
        (None, Some(data)) if !data.is_empty() => {
            let data = absolute(Path::new(&data));
            check_script_path("NEUROMOL_DATA", &data)?;
            Some(data)
        }
        _ => None,
    };
    check_script_path("the checkout", root)?;
    Ok(Plan {
        root: root.to_path_buf(),
        binary: target_dir(root).join("release").join("xtask"),
        experiment: experiment.to_string(),
        reproduce_args,
        data_env,
        shards: args.shards,
        dir,
        cpus_per_task: args.cpus_per_task,
        partition: args.partition.clone(),
        time: args.time.clone(),
        mem: args.mem.clone(),
    })
}

/// The job-array and merge scripts of `plan`.
///
/// Paths in `#SBATCH` lines are double-quoted with `%` doubled (Slurm's filename patterns), and
/// every word of a command is single-quoted for the shell; [`plan`] has refused the paths that
/// neither quoting can carry (a `"`, a backslash or a newline).
pub(crate) fn scripts(plan: &Plan) -> Scripts {
    let name = format!("neuromol-{}", plan.experiment);
    let logs = plan.dir.join("logs");
    let binary = shell_quote(&plan.binary.to_string_lossy());
    let experiment = shell_quote(&plan.experiment);
    let dir = shell_quote(&plan.dir.to_string_lossy());
    let options: Vec<String> = plan.reproduce_args.iter().map(|a| shell_quote(a)).collect();
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(" {}", options.join(" "))
    };
    let command_line = format!(
        "reproduce {}{}",
        plan.experiment,
        if plan.reproduce_args.is_empty() {
            String::new()
        } else {
            format!(" {}", plan.reproduce_args.join(" "))
        }
    );

    let mut resources = String::new();
    if let Some(partition) = &plan.partition {
        resources.push_str(&format!("#SBATCH --partition={partition}\n"));
    }
    if let Some(time) = &plan.time {
        resources.push_str(&format!("#SBATCH --time={time}\n"));
    }
    if let Some(mem) = &plan.mem {
        resources.push_str(&format!("#SBATCH --mem={mem}\n"));
    }
    let mut environment = String::new();
    if let Some(data) = &plan.data_env {
        environment.push_str(&format!(
            "export NEUROMOL_DATA={}\n",
            shell_quote(&data.to_string_lossy())
        ));
    }
    let root = shell_quote(&plan.root.to_string_lossy());

    let shards = format!(
        "#!/usr/bin/env bash\n\
         # Job array of `cargo xtask {command_line}`: task K runs shard K/{n} and writes its\n\
         # units to {dir_display}/units/. Written by `cargo xtask slurm`.\n\
         # Submit: sbatch {script}; rerun task K alone (it redoes only missing units): sbatch --array=K {script}\n\
         #SBATCH --job-name={name}\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         {resources}\
         #SBATCH --output={log}\n\
         set -euo pipefail\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n\
         {environment}\
         cd {root}\n\
         exec {binary} reproduce {experiment}{options} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --out {dir} --resume\n",
        n = plan.shards,
        last = plan.shards - 1,
        cpus = plan.cpus_per_task,
        dir_display = plan.dir.display(),
        script = plan.dir.join(SHARDS_SCRIPT).display(),
        log = sbatch_path(&logs.join("%x-%A_%a.out")),
    );
    let merge = format!(
        "#!/usr/bin/env bash\n\
         # Merge of `cargo xtask {command_line}` from the units in {dir_display}/units/:\n\
         # writes the report into {dir_display}/report/. Written by `cargo xtask slurm`.\n\
         # Submit after the array (id A): sbatch --dependency=afterok:A {script}\n\
         #SBATCH --job-name={name}-merge\n\
         #SBATCH --cpus-per-task={cpus}\n\
         {resources}\
         #SBATCH --output={log}\n\
         set -euo pipefail\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n\
         {environment}\
         cd {root}\n\
         exec {binary} reproduce {experiment}{options} --merge {dir} --out {report}\n",
        cpus = plan.cpus_per_task,
        dir_display = plan.dir.display(),
        script = plan.dir.join(MERGE_SCRIPT).display(),
        log = sbatch_path(&logs.join("%x-%j.out")),
        report = shell_quote(&plan.dir.join("report").to_string_lossy()),
    );
    Scripts { shards, merge }
}

/// `seed-<N>`, with `-faithful` under `--protocol faithful` and `-quick` in quick mode, as
/// `reproduce` names its output directories.
fn default_leaf(args: &Args) -> String {
    let mut leaf = format!("seed-{}", args.seed);
    if args.protocol == Some(Protocol::Faithful) {
        leaf.push_str("-faithful");
    }
    if args.quick {
        leaf.push_str("-quick");
    }
    leaf
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the root), else
/// `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// The command-line spelling of a clap value.
fn value_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .expect("no value of these enums is skipped")
        .get_name()
        .to_string()
}

/// Refuses a path that cannot be quoted in a batch script: not UTF-8, or holding a double
/// quote, a backslash or a newline.
fn check_script_path(what: &str, path: &Path) -> anyhow::Result<()> {
    let text = path_string(path).with_context(|| format!("{what} {}", path.display()))?;
    ensure!(
        !text.contains(['"', '\\', '\n', '\r']),
        "{what} {}: a path for a batch script may not contain a double quote, a backslash or a newline",
        path.display()
    );
    Ok(())
}

/// `path` as UTF-8.
fn path_string(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(str::to_string)
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}

/// `text` as one single-quoted shell word (plain words stay bare).
fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A path for an `#SBATCH` line: double-quoted, with `%` doubled except in the file name's
/// own patterns (`%x`, `%A`, `%a`, `%j`).
fn sbatch_path(path: &Path) -> String {
    let parent = path
        .parent()
        .expect("a log path has a directory")
        .to_string_lossy()
        .replace('%', "%%");
    let file = path
        .file_name()
        .map(OsStr::to_string_lossy)
        .unwrap_or_default();
    format!("\"{parent}/{file}\"")
}

/// Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or unlimited.
fn is_slurm_time(time: &str) -> bool {
    if matches!(time.to_ascii_uppercase().as_str(), "UNLIMITED" | "INFINITE") {
        return true;
    }
    let numbers = |part: &str, max_fields: usize| {
        let fields: Vec<&str> = part.split(':').collect();
        fields.len() <= max_fields
            && fields
                .iter()
                .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
    };
    match time.split_once('-') {
        Some((days, rest)) => {
            !days.is_empty() && days.chars().all(|c| c.is_ascii_digit()) && numbers(rest, 3)
        }
        None => numbers(time, 3),
    }
}

/// A memory size: digits with an optional K, M, G or T suffix.
fn is_slurm_mem(mem: &str) -> bool {
    let digits = mem.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    (mem.len() - digits.len()) <= 1
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n > 0)
}

/// Writes an executable script.
fn write_script(path: &Path, text: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("sbatch.tmp");
    fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&temporary, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", temporary.display()))?;
    }
    fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

/// The first `name` in a directory of `PATH` that is a file.
fn find_on_path(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `cargo build --release -p xtask` in the checkout.
fn build_release(root: &Path) -> anyhow::Result<()> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("building the release binary: cargo build --release -p xtask");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "xtask"])
        .current_dir(root)
        .status()
        .with_context(|| format!("running {} build", cargo.to_string_lossy()))?;
    ensure!(
        status.success(),
        "cargo build --release -p xtask failed ({status})"
    );
    Ok(())
}

/// `sbatch --parsable [extra] script`, returning the job id.
fn submit(sbatch: &Path, extra: &[String], script: &Path) -> anyhow::Result<String> {
    let output = Command::new(sbatch)
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .with_context(|| format!("running {}", sbatch.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.success(),
        "sbatch {} {} failed ({}): {}",
        extra.join(" "),
        script.display(),
        output.status,
        stderr.trim()
    );
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let id = stdout
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    ensure!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()),
        "sbatch {}: expected a job id, got '{}'",
        script.display(),
        stdout.trim()
    );
    Ok(id)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    #[track_caller]
    fn check_plan(argv: &[&str]) -> anyhow::Result<Plan> {
        let mut full = vec!["slurm"];
        full.extend_from_slice(argv);
        let cli = Cli::try_parse_from(full)?;
        plan(
            &cli.args,
            Path::new("/repo"),
            Path::new("/home/me"),
            Some("/data".into()),
        )
    }

    #[track_caller]
    fn check_error(argv: &[&str], expected: &str) {
        let err = format!("{:#}", check_plan(argv).unwrap_err());
        assert!(err.contains(expected), "{err:?} lacks {expected:?}");
    }

    #[test]
    fn array_and_merge_scripts_run_the_shards_then_the_merge() {
        let plan = check_plan(&[
            "meta-baselines",
            "--quick",
            "--shards",
            "4",
            "--seeds",
            "4",
            "--set",
            "n_episodes=20",
            "--cpus-per-task",
            "2",
            "--partition",
            "debug",
            "--time",
            "1:00:00",
            "--mem",
            "4G",
        ])
        .unwrap();
        assert_eq!(
            plan.dir,
            Path::new("/repo/target/slurm/meta-baselines/seed-0-quick")
        );
        let scripts = scripts(&plan);
        let expected_shards = "#!/usr/bin/env bash
# Job array of `cargo xtask reproduce meta-baselines --quick --seed 0 --seeds 4 --set n_episodes=20`: task K runs shard K/4 and writes its
# units to /repo/target/slurm/meta-baselines/seed-0-quick/units/. Written by `cargo xtask slurm`.
# Submit: sbatch /repo/target/slurm/meta-baselines/seed-0-quick/shards.sbatch; rerun task K alone (it redoes only missing units): sbatch --array=K /repo/target/slurm/meta-baselines/seed-0-quick/shards.sbatch
#SBATCH --job-name=neuromol-meta-baselines
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --partition=debug
#SBATCH --time=1:00:00
#SBATCH --mem=4G
#SBATCH --output=\"/repo/target/slurm/meta-baselines/seed-0-quick/logs/%x-%A_%a.out\"
set -euo pipefail
export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-2}\"
export NEUROMOL_DATA=/data
cd /repo
exec /repo/target/release/xtask reproduce meta-baselines --quick --seed 0 --seeds 4 --set n_episodes=20 --shard \"${SLURM_ARRAY_TASK_ID}/4\" --out /repo/target/slurm/meta-baselines/seed-0-quick --resume
";
        assert_eq!(scripts.shards, expected_shards);
        let expected_merge = "#!/usr/bin/env bash
# Merge of `cargo xtask reproduce meta-baselines --quick --seed 0 --seeds 4 --set n_episodes=20` from the units in /repo/target/slurm/meta-baselines/seed-0-quick/units/:
# writes the report into /repo/target/slurm/meta-baselines/seed-0-quick/report/. Written by `cargo xtask slurm`.
# Submit after the array (id A): sbatch --dependency=afterok:A /repo/target/slurm/meta-baselines/seed-0-quick/merge.sbatch
#SBATCH --job-name=neuromol-meta-baselines-merge
#SBATCH --cpus-per-task=2
#SBATCH --partition=debug
#SBATCH --time=1:00:00
#SBATCH --mem=4G
#SBATCH --output=\"/repo/target/slurm/meta-baselines/seed-0-quick/logs/%x-%j.out\"
set -euo pipefail
export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-2}\"
export NEUROMOL_DATA=/data
cd /repo
exec /repo/target/release/xtask reproduce meta-baselines --quick --seed 0 --seeds 4 --set n_episodes=20 --merge /repo/target/slurm/meta-baselines/seed-0-quick --out /repo/target/slurm/meta-baselines/seed-0-quick/report
";
        assert_eq!(scripts.merge, expected_merge);
    }

    #[test]
    fn optional_directives_are_left_out_and_one_shard_is_an_array_of_one() {
        let plan = check_plan(&["oja-online", "--shards", "1", "--seed", "7"]).unwrap();
        assert_eq!(plan.dir, Path::new("/repo/target/slurm/oja-online/seed-7"));
        let scripts = scripts(&plan);
        assert!(scripts.shards.contains("#SBATCH --array=0-0\n"));
        assert!(
            scripts
                .shards
                .contains("--shard \"${SLURM_ARRAY_TASK_ID}/1\"")
        );
        for script in [&scripts.shards, &scripts.merge] {
            assert!(!script.contains("--partition"), "{script}");
            assert!(!script.contains("--time"), "{script}");
            assert!(!script.contains("--mem"), "{script}");
            assert!(script.contains("#SBATCH --cpus-per-task=1\n"), "{script}");
        }
    }

    #[test]
    fn paths_and_values_are_quoted_for_the_shell_and_for_sbatch() {
        let dir = tempdir("quoting");
        let config = dir.join("my config's.toml");
        fs::write(&config, "").unwrap();
        let out = dir.join("runs/50% done/it's here");
        let cli = Cli::try_parse_from([
            "slurm",
            "molvae",
            "--config",
            config.to_str().unwrap(),
            "--set",
            "name=a b; rm -rf /",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        let plan = plan(&cli.args, Path::new("/my repo"), &dir, None).unwrap();
        let scripts = scripts(&plan);
        let quoted_out = format!("'{}'", out.to_str().unwrap().replace('\'', r"'\''"));
        let quoted_config = format!("'{}'", config.to_str().unwrap().replace('\'', r"'\''"));
        assert!(
            scripts.shards.contains(&format!(
                "exec '/my repo/target/release/xtask' reproduce molvae --seed 0 --config {quoted_config} \
                 --set 'name=a b; rm -rf /' --shard \"${{SLURM_ARRAY_TASK_ID}}/4\" --out {quoted_out} --resume\n"
            )),
            "{}",
            scripts.shards
        );
        assert!(scripts.shards.contains("cd '/my repo'\n"));
        let log_dir = out.join("logs").to_str().unwrap().replace('%', "%%");
        assert!(
            scripts
                .shards
                .contains(&format!("#SBATCH --output=\"{log_dir}/%x-%A_%a.out\"\n")),
            "{}",
            scripts.shards
        );
        assert!(!scripts.shards.contains("NEUROMOL_DATA"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        let plan = check_plan(&["molvae", "--out", "runs/a", "--data", "../data"]).unwrap();
        assert_eq!(plan.dir, Path::new("/home/me/runs/a"));
        assert!(
            plan.reproduce_args
                .windows(2)
                .any(|pair| pair == ["--data", "/home/me/../data"])
        );
        // An explicit --data replaces NEUROMOL_DATA.
        assert_eq!(plan.data_env, None);
    }

    #[test]
    fn invalid_arguments_are_refused_with_a_reason() {
        check_error(
            &["no-such-experiment"],
            "unknown experiment 'no-such-experiment'",
        );
        check_error(&["all"], "unknown experiment 'all'");
        check_error(&["scattering"], "'scattering' has no independent units");
        check_error(&["molvae", "--shards", "0"], "--shards must be at least 1");
        check_error(
            &["molvae", "--cpus-per-task", "0"],
            "--cpus-per-task must be at least 1",
        );
        check_error(&["molvae", "--time", "1h"], "--time '1h'");
        check_error(&["molvae", "--time", "1-"], "--time '1-'");
        check_error(&["molvae", "--mem", "4GB"], "--mem '4GB'");
        check_error(&["molvae", "--mem", "0"], "--mem '0'");
        check_error(&["molvae", "--partition", "a b"], "--partition 'a b'");
        check_error(&["molvae", "--set", "novalue"], "--set 'novalue'");
        check_error(&["molvae", "--set", "=1"], "--set '=1'");
        check_error(&["molvae", "--config", "/no/such.toml"], "no such file");
        check_error(
            &["molvae", "--out", "a\"b"],
            "may not contain a double quote",
        );
        check_error(&["meta-baselines", "--seeds", "1"], "--seeds");
    }

    #[test]
    fn slurm_time_and_memory_formats() {
        for time in [
            "90",
            "30:00",
            "2:00:00",
            "1-12",
            "1-12:30",
            "1-12:30:00",
            "UNLIMITED",
        ] {
            assert!(is_slurm_time(time), "{time}");
        }
        for time in ["", "1h", "1:2:3:4", "-1", "1-", "a-1", "1::2"] {
            assert!(!is_slurm_time(time), "{time}");
        }
        for mem in ["4000", "4000M", "4G", "1t", "512K"] {
            assert!(is_slurm_mem(mem), "{mem}");
        }
        for mem in ["", "G", "4GB", "0", "-4G", "4.5G"] {
            assert!(!is_slurm_mem(mem), "{mem}");
        }
    }

    fn tempdir(tag: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("xtask-slurm-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}

//! `cargo xtask reproduce <experiment>`: run a paper experiment and write its report.
//!
//! The experiments live in the `experiments` crate; this module parses the shared arguments,
//! builds the run's [`Context`], and writes the report atomically into
//! `target/reproduce/<experiment>/seed-<N>/` (`seed-<N>-quick/` in quick mode, or `--out DIR`).

use std::{path::PathBuf, time::Instant};

use anyhow::bail;
use experiments::{
    reproduce::{Context, EXPERIMENTS, Experiment, Protocol, config},
    units::{ShardDone, Units},
};

/// Arguments of `cargo xtask reproduce`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The experiment to run (`list` prints them).
    experiment: String,
    /// A short version that finishes in seconds to minutes (used by CI).
    #[arg(long)]
    quick: bool,
    /// Master seed of the run; every random stream derives from it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (default: target/reproduce/EXPERIMENT/seed-N, with -quick appended in quick mode).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Data root (overrides NEUROMOL_DATA and the cache directory).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Continue from checkpoints where an experiment keeps them (meta-* and molvae* experiments).
    #[arg(long)]
    resume: bool,
    /// How meta-* experiments compute the meta-gradient: `auto` (the default: reverse mode when
    /// the experiment's largest rule has more than three plastic terms, i.e. for meta-pool,
    /// forward mode otherwise), `forward` (forward-mode tangents) or `reverse` (checkpointed
    /// reverse mode: the same gradient to rounding, about three times faster for meta-pool's ten
    /// terms, another Θ trajectory). The report says which mode ran.
    #[arg(long, value_enum, default_value_t = Gradient::Auto)]
    gradient: Gradient,
    /// Seeds (independent meta-training runs) per curve of a meta-* experiment, instead of its
    /// default (10 in full mode, paper B used 20; 2 in quick mode). Seed k of a run is the same
    /// whatever the count, so `--resume` reuses the finished runs of a smaller count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(2..=1000))]
    seeds: Option<u16>,
    /// Protocol of meta-baselines and meta-mechanisms: `project` (distinct classes and fresh
    /// random images every episode, the exact meta-gradient through BP's feedback; the default)
    /// or `faithful` (paper B's published code: classes drawn with replacement, each class's
    /// first 50 images train and the next 10 query, BP's feedback copied from W without a
    /// gradient path).
    #[arg(long, value_enum, default_value_t = Protocol::Project)]
    protocol: Protocol,
    /// Print the experiment's full configuration (for this mode and protocol) as TOML and stop.
    #[arg(long)]
    print_config: bool,
    /// Run from a TOML configuration (as printed by --print-config or written next to a report
    /// as config.toml); keys it leaves out keep their defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write what `molvae` trains on (features, target graphs, SMILES, meta.json; the format of
    /// reference/gsvae/README.md) into DIR for an independent implementation, then stop:
    /// nothing is trained. Honours --quick, --seed, --config and --set.
    #[arg(long, value_name = "DIR")]
    export_reference: Option<PathBuf>,
    /// Override one configuration key, e.g. `--set n_seeds=20` or
    /// `--set variants.0.1.episode.n_ways=10` (repeatable; applied after --config).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Run only shard K of N (0-based) of the experiment's independent units (seeds, replicas,
    /// sweep points, models) and write each unit's result under `--out DIR`/units/ instead of a
    /// report; with --resume, only the shard's missing units run. `--merge DIR` then builds the
    /// report from all the shards' units.
    #[arg(long, value_name = "K/N", requires = "out", conflicts_with = "merge")]
    shard: Option<String>,
    /// Build the report from the unit files the shards wrote under DIR/units/ (every unit must
    /// be there, complete, and of this configuration and revision); the report goes to --out,
    /// by default DIR/report.
    #[arg(long, value_name = "DIR")]
    merge: Option<PathBuf>,
}

/// `--gradient`: [`meta_plasticity::GradientMode`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Gradient {
    /// Reverse mode above three plastic terms, forward mode otherwise.
    Auto,
    /// Forward-mode tangents.
    Forward,
    /// Checkpointed reverse mode.
    Reverse,
}

impl From<Gradient> for meta_plasticity::GradientMode {
    fn from(gradient: Gradient) -> Self {
        match gradient {
            Gradient::Auto => meta_plasticity::GradientMode::Auto,
            Gradient::Forward => meta_plasticity::GradientMode::Forward,
            Gradient::Reverse => meta_plasticity::GradientMode::Reverse,
        }
    }
}

/// Runs `cargo xtask reproduce`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match args.experiment.as_str() {
        "list" => {
            for experiment in EXPERIMENTS {
                println!("{:<16} {}", experiment.name, experiment.about);
                if let Some(units) = experiment.units {
                    println!("{:<16} units (--shard): {units}", "");
                }
            }
            println!("{:<16} every experiment above, in order", "all");
            Ok(())
        }
        "all" => run_all(args),
        name => {
            let Some(experiment) = EXPERIMENTS.iter().find(|e| e.name == name) else {
                let known: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
                bail!(
                    "unknown experiment '{name}'; known: {}, all, list",
                    known.join(", ")
                );
            };
            if let Some(dir) = &args.export_reference {
                if experiment.name != "molvae" {
                    bail!(
                        "--export-reference applies to molvae only, not to '{}'",
                        experiment.name
                    );
                }
                return crate::molvae::export(&context(args)?, dir);
            }
            let out = match (&args.out, &args.merge) {
                (Some(out), _) => out.clone(),
                (None, Some(dir)) => dir.join("report"),
                (None, None) => default_out(experiment.name, args),
            };
            if let Some(report_path) = run_experiment(experiment, args, &out)? {
                println!("wrote {}", report_path.display());
            }
            Ok(())
        }
    }
}

/// `target/reproduce/<experiment>/seed-<N>`, with `-faithful` appended under
/// `--protocol faithful` and `-quick` for a quick run, so that neither replaces a full run's
/// report of the default protocol.
fn default_out(name: &str, args: &Args) -> PathBuf {
    let mut leaf = format!("seed-{}", args.seed);
    if args.protocol == Protocol::Faithful {
        leaf.push_str("-faithful");
    }
    if args.quick {
        leaf.push_str("-quick");
    }
    crate::project_root()
        .join("target/reproduce")
        .join(name)
        .join(leaf)
}

/// Runs one experiment and writes its report into `out`; an error if a row is outside its band
/// (the report is still written).
fn run_experiment(
    experiment: &Experiment,
    args: &Args,
    out: &std::path::Path,
) -> anyhow::Result<Option<PathBuf>> {
    if !experiment.name.starts_with("meta-")
        && (args.gradient != Gradient::Auto || args.seeds.is_some())
    {
        bail!(
            "--gradient and --seeds apply to the meta-* experiments only, not to '{}'",
            experiment.name
        );
    }
    if args.protocol == Protocol::Faithful
        && !matches!(experiment.name, "meta-baselines" | "meta-mechanisms")
    {
        bail!(
            "--protocol faithful applies to meta-baselines and meta-mechanisms only, not to '{}'",
            experiment.name
        );
    }
    if (args.shard.is_some() || args.merge.is_some()) && experiment.units.is_none() {
        bail!(
            "'{}' has no independent units to shard or merge: run it whole, without --shard or --merge",
            experiment.name
        );
    }
    let mut context = context(args)?;
    context.units = match (&args.shard, &args.merge) {
        (Some(spec), _) => Units::parse_shard(spec, out.to_path_buf())?,
        (None, Some(dir)) => Units::Merge { dir: dir.clone() },
        (None, None) => Units::All,
    };
    let started = Instant::now();
    let mut report = match (experiment.run)(&context) {
        Ok(report) => report,
        Err(err) => {
            if let Some(printed) = err.downcast_ref::<config::PrintedConfig>() {
                print!("{printed}");
                return Ok(None);
            }
            if let Some(done) = err.downcast_ref::<ShardDone>() {
                println!("{done}");
                return Ok(None);
            }
            return Err(err.context(format!("experiment '{}'", experiment.name)));
        }
    };
    if context.units != Units::All && !context.declared_units() {
        bail!(
            "'{}' has no independent units to shard or merge: run it whole, without --shard or --merge",
            experiment.name
        );
    }
    if let Some(dir) = &args.merge {
        report.option(format!("--merge {}", dir.display()));
    }
    if let Some(file) = &args.config {
        report.option(format!("--config {}", file.display()));
    }
    for set in &args.sets {
        report.option(format!("--set {set}"));
    }
    report.timing("whole run", started.elapsed().as_secs_f64());
    let report_path = report.write(out)?;
    println!("{}: {}", experiment.name, report.headline());
    let failed = report.failed_checks();
    if failed > 0 {
        bail!(
            "{failed} check(s) of {} failed (value outside its band)",
            report_path.display()
        );
    }
    Ok(Some(report_path))
}

/// The run's [`Context`] from the command line.
fn context(args: &Args) -> anyhow::Result<Context> {
    let mut context = Context::new(crate::project_root(), args.data.clone());
    context.seed = args.seed;
    context.quick = args.quick;
    context.resume = args.resume;
    context.gradient = args.gradient.into();
    context.seeds = args.seeds.map(usize::from);
    context.protocol = args.protocol;
    context.overrides = config::Overrides {
        print: args.print_config,
        file: args.config.clone(),
        sets: args.sets.clone(),
    };
    if let Some(file) = &args.config {
        config::check_file(file)?;
    }
    Ok(context)
}

/// Runs every experiment (each into its own directory under `--out`, or the default), then
/// prints a summary; an error if any experiment failed.
fn run_all(args: &Args) -> anyhow::Result<()> {
    if args.protocol == Protocol::Faithful {
        bail!(
            "--protocol faithful applies to meta-baselines and meta-mechanisms only, not to 'all'"
        );
    }
    if args.export_reference.is_some() {
        bail!("--export-reference applies to molvae only, not to 'all'");
    }
    if args.print_config || args.config.is_some() || !args.sets.is_empty() {
        bail!("--print-config, --config and --set apply to one experiment, not to 'all'");
    }
    if args.shard.is_some() || args.merge.is_some() {
        bail!("--shard and --merge apply to one experiment, not to 'all'");
    }
    let mut failures = Vec::new();
    let mut summary = String::from("| experiment | outcome |\n|---|---|\n");
    for experiment in EXPERIMENTS {
        println!(
            "== reproduce {}{}",
            experiment.name,
            if args.quick { " --quick" } else { "" }
        );
        let out = match &args.out {
            Some(dir) => dir.join(experiment.name),
            None => default_out(experiment.name, args),
        };
        match run_experiment(experiment, args, &out) {
            Ok(None) => {}
            Ok(Some(path)) => {
                println!("wrote {}", path.display());
                summary.push_str(&format!(
                    "| {} | ok: {} |\n",
                    experiment.name,
                    path.display()
                ));
            }
            Err(err) => {
                eprintln!("error in {}: {err:#}", experiment.name);
                summary.push_str(&format!(
                    "| {} | **failed**: {} |\n",
                    experiment.name,
                    format!("{err:#}").replace('|', "/")
                ));
                failures.push(experiment.name);
            }
        }
    }
    println!("\n{summary}");
    if !failures.is_empty() {
        bail!(
            "{} of {} experiments failed: {}",
            failures.len(),
            EXPERIMENTS.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

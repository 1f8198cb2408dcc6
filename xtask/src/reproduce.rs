//! `cargo xtask reproduce <experiment>`: run a paper experiment and write its report.
//!
//! Each experiment is one module with a `run(&Context) -> anyhow::Result<Report>` function; this
//! module parses the shared arguments, locates the data, and writes the report atomically into
//! `target/reproduce/<experiment>/seed-<N>/` (`seed-<N>-quick/` in quick mode, or `--out DIR`).

mod image_data;
mod meta;
mod molvae;
mod oja;
mod online_mnist;
mod scattering;
mod smoke;

use std::{path::PathBuf, time::Instant};

use anyhow::{Context as _, bail};

use crate::{
    data::{self, Dataset},
    report::{DataProvenance, Report},
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
    /// How meta-* experiments compute the meta-gradient: `forward` (issue 4's forward-mode
    /// tangents, the default) or `reverse` (checkpointed reverse mode: the same gradient to
    /// rounding, about three times faster for meta-pool's ten terms, another Θ trajectory).
    #[arg(long, value_enum, default_value_t = Gradient::Forward)]
    gradient: Gradient,
    /// Seeds (independent meta-training runs) per curve of a meta-* experiment, instead of its
    /// default (10 in full mode, paper B used 20; 2 in quick mode). Seed k of a run is the same
    /// whatever the count, so `--resume` reuses the finished runs of a smaller count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(2..=1000))]
    seeds: Option<u16>,
}

/// `--gradient`: [`meta_plasticity::GradientMode`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Gradient {
    /// Forward-mode tangents.
    Forward,
    /// Checkpointed reverse mode.
    Reverse,
}

impl From<Gradient> for meta_plasticity::GradientMode {
    fn from(gradient: Gradient) -> Self {
        match gradient {
            Gradient::Forward => meta_plasticity::GradientMode::Forward,
            Gradient::Reverse => meta_plasticity::GradientMode::Reverse,
        }
    }
}

/// What an experiment gets: its seed, mode and a way to load verified data.
pub(crate) struct Context {
    /// Master seed.
    pub(crate) seed: u64,
    /// Quick mode.
    pub(crate) quick: bool,
    /// Continue from checkpoints where an experiment keeps them (`--resume`).
    pub(crate) resume: bool,
    /// How meta-* experiments compute the meta-gradient (`--gradient`).
    pub(crate) gradient: meta_plasticity::GradientMode,
    /// Seeds per curve of meta-* experiments, if not their default (`--seeds`).
    pub(crate) seeds: Option<usize>,
    data_arg: Option<PathBuf>,
}

impl Context {
    /// Locates and verifies `dataset` (fetching it when possible) and reads `files` from it,
    /// recording the provenance in `report`.
    pub(crate) fn read_data(
        &self,
        dataset: Dataset,
        files: &[&str],
        report: &mut Report,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let located = data::require(dataset, self.data_arg.as_deref())?;
        let contents = files
            .iter()
            .map(|name| {
                let path = located.dir.join(name);
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                if name.ends_with(".gz") {
                    datasets::idx::require_gzip(&bytes)
                        .with_context(|| format!("reading {}", path.display()))?;
                }
                Ok(bytes)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let used: Vec<(String, String)> = located
            .files
            .iter()
            .filter(|(name, _)| files.contains(&name.as_str()))
            .cloned()
            .collect();
        let user_data: Vec<&str> = located
            .user_data
            .iter()
            .map(String::as_str)
            .filter(|name| files.contains(name))
            .collect();
        let dataset_label = if user_data.is_empty() {
            dataset.name().to_string()
        } else {
            // Files that are not the shipped ones: the provenance says so next to their sha256.
            report.note(format!(
                "**User data**: {dataset} files {} in `{}` have no known checksum; they were \
                 accepted after their structural checks, and their sha256 is recorded above.",
                user_data.join(", "),
                located.dir.display()
            ));
            format!("{} (user data: {})", dataset.name(), user_data.join(", "))
        };
        report.data(DataProvenance {
            dataset: dataset_label,
            dir: located.dir.clone(),
            files: used,
        });
        Ok(contents)
    }
}

/// An experiment: its name, a one-line description, and its entry point.
struct Experiment {
    name: &'static str,
    about: &'static str,
    run: fn(&Context) -> anyhow::Result<Report>,
}

/// Every experiment `reproduce` knows, in the order `list` prints them.
const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "smoke",
        about: "harness check: seeded online softmax regression on MNIST (test accuracy ≥ 0.88)",
        run: smoke::run,
    },
    Experiment {
        name: "online-mnist",
        about: "paper B Fig. 1: online BP, FA, FA+Oja, FA+eHebb on MNIST and Fashion-MNIST",
        run: online_mnist::run,
    },
    Experiment {
        name: "oja-online",
        about: "paper A: BP/FA with and without Oja, batch 1 versus mini-batches",
        run: oja::run_online,
    },
    Experiment {
        name: "oja-depth",
        about: "paper A: accuracy versus depth with and without Oja",
        run: oja::run_depth,
    },
    Experiment {
        name: "oja-init",
        about: "paper A: accuracy, activation norms and effective rank versus initial weight scale",
        run: oja::run_init,
    },
    Experiment {
        name: "scattering",
        about: "paper C encoder: scattering features of every QM9 molecule, cached on disk",
        run: scattering::run,
    },
    Experiment {
        name: "molvae",
        about: "paper C: GSVAE base and constrained models at N = 600, generation metrics",
        run: molvae::run,
    },
    Experiment {
        name: "molvae-uq",
        about: "paper C: Bayesian-bootstrap 1–99 % bands of generated property histograms",
        run: molvae::run_uq,
    },
    Experiment {
        name: "molvae-predict",
        about: "latent μ → QM9 DFT targets: BLR and ridge ensemble, MAE and 90 % coverage",
        run: molvae::run_predict,
    },
    Experiment {
        name: "molvae-design",
        about: "paper C conditional design (CVAE): samples at target TPSA, MolWt and LogP",
        run: molvae::run_design,
    },
    Experiment {
        name: "meta-baselines",
        about: "paper B Fig. 3: meta-learned θ0 under feedback alignment and backprop on EMNIST",
        run: meta::run_baselines,
    },
    Experiment {
        name: "meta-pool",
        about: "paper B Fig. 4: the ten-term pool with L1, sparsification of Θ (checkpointed)",
        run: meta::run_pool,
    },
    Experiment {
        name: "meta-mechanisms",
        about: "paper B Figs. 5, 7, 8: F^eHebb, F^Oja, F^bio — alignment angles and E_W",
        run: meta::run_mechanisms,
    },
    Experiment {
        name: "meta-transfer",
        about: "learned rules on held-out EMNIST classes and 5-way MNIST / Fashion-MNIST",
        run: meta::run_transfer,
    },
];

/// Runs `cargo xtask reproduce`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match args.experiment.as_str() {
        "list" => {
            for experiment in EXPERIMENTS {
                println!("{:<16} {}", experiment.name, experiment.about);
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
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| default_out(experiment.name, args.seed, args.quick));
            let report_path = run_experiment(experiment, args, &out)?;
            println!("wrote {}", report_path.display());
            Ok(())
        }
    }
}

/// `target/reproduce/<experiment>/seed-<N>`, or `seed-<N>-quick` for a quick run, so a quick run
/// never replaces a full run's report.
fn default_out(name: &str, seed: u64, quick: bool) -> PathBuf {
    let leaf = if quick {
        format!("seed-{seed}-quick")
    } else {
        format!("seed-{seed}")
    };
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
) -> anyhow::Result<PathBuf> {
    if !experiment.name.starts_with("meta-")
        && (args.gradient != Gradient::Forward || args.seeds.is_some())
    {
        bail!(
            "--gradient and --seeds apply to the meta-* experiments only, not to '{}'",
            experiment.name
        );
    }
    let context = Context {
        seed: args.seed,
        quick: args.quick,
        resume: args.resume,
        gradient: args.gradient.into(),
        seeds: args.seeds.map(usize::from),
        data_arg: args.data.clone(),
    };
    let started = Instant::now();
    let mut report =
        (experiment.run)(&context).with_context(|| format!("experiment '{}'", experiment.name))?;
    report.timing("whole run", started.elapsed().as_secs_f64());
    let report_path = report.write(out)?;
    if !report.all_ok() {
        bail!(
            "some rows of {} are outside their band",
            report_path.display()
        );
    }
    Ok(report_path)
}

/// Runs every experiment (each into its own directory under `--out`, or the default), then
/// prints a summary; an error if any experiment failed.
fn run_all(args: &Args) -> anyhow::Result<()> {
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
            None => default_out(experiment.name, args.seed, args.quick),
        };
        match run_experiment(experiment, args, &out) {
            Ok(path) => {
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

//! `cargo xtask reproduce <experiment>`: run a paper experiment and write its report.
//!
//! Each experiment is one module with a `run(&Context) -> anyhow::Result<Report>` function; this
//! module parses the shared arguments, locates the data, and writes the report atomically into
//! `target/reproduce/<experiment>/seed-<N>/` (`seed-<N>-quick/` in quick mode, or `--out DIR`).

mod config;
mod image_data;
mod meta;
mod molvae;
mod oja;
mod online_mnist;
mod scattering;
mod smoke;

use std::{
    path::PathBuf,
    sync::{Mutex, PoisonError},
    time::Instant,
};

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
    /// How meta-* experiments compute the meta-gradient: `forward` (forward-mode
    /// tangents, the default) or `reverse` (checkpointed reverse mode: the same gradient to
    /// rounding, about three times faster for meta-pool's ten terms, another Θ trajectory).
    #[arg(long, value_enum, default_value_t = Gradient::Forward)]
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
    /// Override one configuration key, e.g. `--set n_seeds=20` or
    /// `--set variants.0.1.episode.n_ways=10` (repeatable; applied after --config).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

/// `--protocol`: how meta-baselines and meta-mechanisms draw episodes and differentiate BP.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub(crate) enum Protocol {
    /// The project's protocol.
    #[default]
    Project,
    /// The published code's protocol.
    Faithful,
}

impl Protocol {
    /// Sets the episode sampling and BP's feedback gradient of `config` to this protocol.
    pub(crate) fn apply(self, config: &mut meta_plasticity::MetaConfig) {
        let faithful = self == Protocol::Faithful;
        config.episode.faithful = faithful;
        config.detach_backprop_feedback =
            faithful && config.feedback == feedback_alignment::FeedbackKind::Backprop;
    }
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
    /// Protocol of meta-baselines and meta-mechanisms (`--protocol`).
    pub(crate) protocol: Protocol,
    /// `--print-config`, `--config` and `--set`.
    pub(crate) overrides: config::Overrides,
    data_arg: Option<PathBuf>,
    /// Set by [`Context::configure`]: a fingerprint of the effective configuration when
    /// `--config` or `--set` made it differ from the experiment's default, else `None`.
    variant: Mutex<Option<String>>,
}

impl Context {
    /// The configuration to run: `default` (the experiment's protocol for this mode) with
    /// `--config` and `--set` applied; an error holding [`config::PrintedConfig`] under
    /// `--print-config`.
    pub(crate) fn configure<C: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        default: C,
    ) -> anyhow::Result<C> {
        let default_table = config::to_table(&default)?;
        let effective = self.overrides.apply(default)?;
        let effective_table = config::to_table(&effective)?;
        let variant = (effective_table != default_table)
            .then(|| config::fingerprint(&effective_table))
            .transpose()?;
        *self.variant.lock().unwrap_or_else(PoisonError::into_inner) = variant;
        Ok(effective)
    }

    /// The name of a checkpoint folder: `leaf` for the experiment's default configuration, and
    /// `leaf-variant-<fingerprint>` for a configuration that `--config` or `--set` changed, so
    /// that a variant's checkpoints never meet the default's (nor another variant's).
    pub(crate) fn checkpoint_leaf(&self, leaf: String) -> String {
        match &*self.variant.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(fingerprint) => format!("{leaf}-variant-{fingerprint}"),
            None => leaf,
        }
    }

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

/// An experiment: its name, a one-line description, its entry point, and the repository paths
/// its results depend on (a kept report older than the last change to any of them is stale):
/// the sources of its crates and its module in `xtask`; tests, benches and docs are left out.
struct Experiment {
    name: &'static str,
    about: &'static str,
    run: fn(&Context) -> anyhow::Result<Report>,
    depends: &'static [&'static str],
}

/// Paths every image experiment depends on.
const IMAGE: [&str; 5] = [
    "crates/linalg/src",
    "crates/datasets/src",
    "xtask/src/reproduce/image_data.rs",
    "xtask/src/reproduce.rs",
    "xtask/src/reproduce/config.rs",
];
/// Paths the online-learning experiments depend on beyond [`IMAGE`].
const ONLINE: [&str; 3] = [
    "crates/plasticity-core/src",
    "crates/feedback-alignment/src",
    "xtask/src/reproduce/online_mnist.rs",
];
/// Paths the oja-* experiments depend on.
const OJA: &[&str] = &[
    IMAGE[0],
    IMAGE[1],
    IMAGE[2],
    IMAGE[3],
    IMAGE[4],
    ONLINE[0],
    ONLINE[1],
    ONLINE[2],
    "xtask/src/reproduce/oja.rs",
];
/// Paths the meta-* experiments depend on.
const META: [&str; 10] = [
    IMAGE[0],
    IMAGE[1],
    IMAGE[2],
    IMAGE[3],
    IMAGE[4],
    ONLINE[0],
    ONLINE[1],
    "crates/meta-plasticity/src",
    "xtask/src/reproduce/meta.rs",
    "xtask/src/reproduce/meta",
];
/// Paths the molecular experiments depend on.
const MOLECULES: [&str; 11] = [
    "crates/linalg/src",
    "crates/datasets/src",
    "crates/molgraph/src",
    "crates/graph-scattering/src",
    "crates/mol-vae/src",
    "crates/bayes-uq/src",
    "xtask/src/reproduce.rs",
    "xtask/src/reproduce/config.rs",
    "xtask/src/reproduce/scattering.rs",
    "xtask/src/reproduce/molvae.rs",
    "xtask/src/reproduce/molvae",
];

/// Every experiment with the repository paths its results depend on, for `results verify`.
pub(crate) fn dependencies() -> Vec<(&'static str, Vec<&'static str>)> {
    EXPERIMENTS
        .iter()
        .map(|e| {
            let mut paths = e.depends.to_vec();
            paths.sort_unstable();
            paths.dedup();
            (e.name, paths)
        })
        .collect()
}

/// Every experiment `reproduce` knows, in the order `list` prints them.
const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "smoke",
        about: "harness check: seeded online softmax regression on MNIST (test accuracy ≥ 0.88)",
        run: smoke::run,
        depends: &[
            IMAGE[0],
            IMAGE[1],
            IMAGE[2],
            IMAGE[3],
            IMAGE[4],
            "xtask/src/reproduce/smoke.rs",
        ],
    },
    Experiment {
        name: "online-mnist",
        about: "paper B Fig. 1: online BP, FA, FA+Oja, FA+eHebb on MNIST and Fashion-MNIST",
        run: online_mnist::run,
        depends: &[
            IMAGE[0], IMAGE[1], IMAGE[2], IMAGE[3], IMAGE[4], ONLINE[0], ONLINE[1], ONLINE[2],
        ],
    },
    Experiment {
        name: "oja-online",
        about: "paper A: BP/FA with and without Oja, batch 1 versus mini-batches",
        run: oja::run_online,
        depends: OJA,
    },
    Experiment {
        name: "oja-depth",
        about: "paper A: accuracy versus depth with and without Oja",
        run: oja::run_depth,
        depends: OJA,
    },
    Experiment {
        name: "oja-init",
        about: "paper A: accuracy, activation norms and effective rank versus initial weight scale",
        run: oja::run_init,
        depends: OJA,
    },
    Experiment {
        name: "scattering",
        about: "paper C encoder: scattering features of every QM9 molecule, cached on disk",
        run: scattering::run,
        depends: &[
            "crates/linalg/src",
            "crates/datasets/src",
            "crates/molgraph/src",
            "crates/graph-scattering/src",
            "xtask/src/reproduce.rs",
            "xtask/src/reproduce/config.rs",
            "xtask/src/reproduce/scattering.rs",
        ],
    },
    Experiment {
        name: "molvae",
        about: "paper C: GSVAE base and constrained models at N = 600, generation metrics",
        run: molvae::run,
        depends: &MOLECULES,
    },
    Experiment {
        name: "molvae-uq",
        about: "paper C: Bayesian-bootstrap 1–99 % bands of generated property histograms",
        run: molvae::run_uq,
        depends: &MOLECULES,
    },
    Experiment {
        name: "molvae-predict",
        about: "latent μ → QM9 DFT targets: BLR and ridge ensemble, MAE and 90 % coverage",
        run: molvae::run_predict,
        depends: &MOLECULES,
    },
    Experiment {
        name: "molvae-design",
        about: "paper C conditional design (CVAE): samples at target TPSA, MolWt and LogP",
        run: molvae::run_design,
        depends: &MOLECULES,
    },
    Experiment {
        name: "meta-baselines",
        about: "paper B Fig. 3: meta-learned θ0 under feedback alignment and backprop on EMNIST",
        run: meta::run_baselines,
        depends: &META,
    },
    Experiment {
        name: "meta-pool",
        about: "paper B Fig. 4: the ten-term pool with L1, sparsification of Θ (checkpointed)",
        run: meta::run_pool,
        depends: &META,
    },
    Experiment {
        name: "meta-mechanisms",
        about: "paper B Figs. 5, 7, 8: F^eHebb, F^Oja, F^bio — alignment angles and E_W",
        run: meta::run_mechanisms,
        depends: &META,
    },
    Experiment {
        name: "meta-transfer",
        about: "learned rules on held-out EMNIST classes and 5-way MNIST / Fashion-MNIST",
        run: meta::run_transfer,
        depends: &META,
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
                .unwrap_or_else(|| default_out(experiment.name, args));
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
        && (args.gradient != Gradient::Forward || args.seeds.is_some())
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
    let context = Context {
        seed: args.seed,
        quick: args.quick,
        resume: args.resume,
        gradient: args.gradient.into(),
        seeds: args.seeds.map(usize::from),
        protocol: args.protocol,
        overrides: config::Overrides {
            print: args.print_config,
            file: args.config.clone(),
            sets: args.sets.clone(),
        },
        data_arg: args.data.clone(),
        variant: Mutex::new(None),
    };
    if let Some(file) = &args.config {
        config::check_file(file)?;
    }
    let started = Instant::now();
    let mut report = match (experiment.run)(&context) {
        Ok(report) => report,
        Err(err) => {
            if let Some(printed) = err.downcast_ref::<config::PrintedConfig>() {
                print!("{printed}");
                return Ok(None);
            }
            return Err(err.context(format!("experiment '{}'", experiment.name)));
        }
    };
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

/// Runs every experiment (each into its own directory under `--out`, or the default), then
/// prints a summary; an error if any experiment failed.
fn run_all(args: &Args) -> anyhow::Result<()> {
    if args.protocol == Protocol::Faithful {
        bail!(
            "--protocol faithful applies to meta-baselines and meta-mechanisms only, not to 'all'"
        );
    }
    if args.print_config || args.config.is_some() || !args.sets.is_empty() {
        bail!("--print-config, --config and --set apply to one experiment, not to 'all'");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn context(quick: bool, protocol: Protocol, overrides: config::Overrides) -> Context {
        Context {
            seed: 0,
            quick,
            resume: false,
            gradient: meta_plasticity::GradientMode::Forward,
            seeds: None,
            protocol,
            overrides,
            data_arg: None,
            variant: Mutex::new(None),
        }
    }

    /// What `--print-config` prints for `experiment`, with `file` as `--config`.
    fn printed(
        experiment: &Experiment,
        quick: bool,
        protocol: Protocol,
        file: Option<PathBuf>,
    ) -> String {
        let overrides = config::Overrides {
            print: true,
            file,
            sets: Vec::new(),
        };
        let err = (experiment.run)(&context(quick, protocol, overrides))
            .err()
            .unwrap_or_else(|| panic!("{} ran instead of printing", experiment.name));
        match err.downcast_ref::<config::PrintedConfig>() {
            Some(text) => text.0.clone(),
            None => panic!("{}: {err:#}", experiment.name),
        }
    }

    /// Every experiment's configuration, quick and full, prints as TOML that reads back to the
    /// same configuration (printed again from the file, it is the same text).
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Toy {
        episodes: usize,
        lr: f64,
    }

    /// A configuration changed by `--set` (or a file) checkpoints in a folder of its own; the
    /// default, also when a file restates it, keeps the default folder.
    #[test]
    fn a_changed_configuration_gets_its_own_checkpoint_folder() {
        let toy = || Toy {
            episodes: 600,
            lr: 1e-3,
        };
        let ctx = context(false, Protocol::Project, config::Overrides::default());
        ctx.configure(toy()).unwrap();
        assert_eq!(ctx.checkpoint_leaf("seed-0-full".into()), "seed-0-full");

        let dir = std::env::temp_dir().join(format!("neuromol-variant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let same = dir.join("same.toml");
        std::fs::write(&same, "episodes = 600\n").unwrap();
        let overrides = |file: Option<PathBuf>, sets: &[&str]| config::Overrides {
            print: false,
            file,
            sets: sets.iter().map(|s| s.to_string()).collect(),
        };
        let ctx = context(false, Protocol::Project, overrides(Some(same), &[]));
        ctx.configure(toy()).unwrap();
        assert_eq!(ctx.checkpoint_leaf("seed-0-full".into()), "seed-0-full");

        let leaf_with = |sets: &[&str]| {
            let ctx = context(false, Protocol::Project, overrides(None, sets));
            ctx.configure(toy()).unwrap();
            ctx.checkpoint_leaf("seed-0-full".into())
        };
        let a = leaf_with(&["episodes=300"]);
        let b = leaf_with(&["lr=0.01"]);
        assert!(a.starts_with("seed-0-full-variant-"), "{a}");
        assert_eq!(a.len(), "seed-0-full-variant-".len() + 12);
        assert_ne!(a, b);
        assert_eq!(a, leaf_with(&["episodes=300"]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_default_config_round_trips_through_toml() {
        let dir = std::env::temp_dir().join(format!("neuromol-configs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for experiment in EXPERIMENTS {
            let protocols: &[Protocol] =
                if matches!(experiment.name, "meta-baselines" | "meta-mechanisms") {
                    &[Protocol::Project, Protocol::Faithful]
                } else {
                    &[Protocol::Project]
                };
            for &protocol in protocols {
                for quick in [true, false] {
                    let text = printed(experiment, quick, protocol, None);
                    assert!(!text.trim().is_empty(), "{}", experiment.name);
                    let file = dir.join(format!("{}-{quick}-{protocol:?}.toml", experiment.name));
                    std::fs::write(&file, &text).unwrap();
                    assert_eq!(
                        printed(experiment, quick, protocol, Some(file)),
                        text,
                        "{} (quick {quick}, {protocol:?})",
                        experiment.name
                    );
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A bad `--set` stops an experiment before it reads any data, naming the key.
    #[test]
    fn bad_overrides_name_the_key() {
        let meta = EXPERIMENTS
            .iter()
            .find(|e| e.name == "meta-mechanisms")
            .unwrap();
        let cases = [
            ("n_seed=3", "n_seed"),
            ("n_seeds=-1", "n_seeds"),
            ("n_seeds=\"ten\"", "n_seeds"),
            ("variants.0.1.n_episode=3", "n_episode"),
            ("variants.9.1.n_episodes=3", "variants.9"),
            ("late_window=nan", "late_window"),
        ];
        for (set, key) in cases {
            let overrides = config::Overrides {
                print: false,
                file: None,
                sets: vec![set.to_string()],
            };
            let err = (meta.run)(&context(true, Protocol::Project, overrides))
                .err()
                .unwrap_or_else(|| panic!("--set {set} was accepted"));
            let text = format!("{err:#}");
            assert!(text.contains(key), "--set {set}: {text}");
        }
    }
}

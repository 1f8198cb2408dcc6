//! The paper experiments: each is one module with a `run(&Context) -> anyhow::Result<Report>`
//! function, listed with its name, description and source paths in [`EXPERIMENTS`].
//!
//! A [`Context`] carries what a run gets from the command line (seed, mode, checkpoint resume,
//! meta-gradient mode, seed count, protocol, configuration overrides), the data root and the
//! project root whose `target/neuromol-cache/` holds checkpoints and caches.

pub mod config;
mod image_data;
mod meta;
mod molvae;
mod oja;
mod online_mnist;
mod scattering;
mod smoke;

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
};

use anyhow::Context as _;
use sha2::Digest as _;

use crate::{
    data::{self, Dataset},
    report::{DataProvenance, Report},
    units::Units,
};

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
pub enum Protocol {
    /// The project's protocol.
    #[default]
    Project,
    /// The published code's protocol.
    Faithful,
}

impl Protocol {
    /// Sets the episode sampling and BP's feedback gradient of `config` to this protocol.
    pub fn apply(self, config: &mut meta_plasticity::MetaConfig) {
        let faithful = self == Protocol::Faithful;
        config.episode.faithful = faithful;
        config.detach_backprop_feedback =
            faithful && config.feedback == feedback_alignment::FeedbackKind::Backprop;
    }
}

/// What an experiment gets: its seed, mode and a way to load verified data.
pub struct Context {
    /// Master seed.
    pub seed: u64,
    /// Quick mode.
    pub quick: bool,
    /// Continue from checkpoints where an experiment keeps them (`--resume`).
    pub resume: bool,
    /// How meta-* experiments compute the meta-gradient (`--gradient`).
    pub gradient: meta_plasticity::GradientMode,
    /// Seeds per curve of meta-* experiments, if not their default (`--seeds`).
    pub seeds: Option<usize>,
    /// Protocol of meta-baselines and meta-mechanisms (`--protocol`).
    pub protocol: Protocol,
    /// `--print-config`, `--config` and `--set`.
    pub overrides: config::Overrides,
    /// Which of the experiment's independent units this run computes (`--shard`, `--merge`).
    pub units: Units,
    /// The project root: checkpoints and caches live under `<root>/target/neuromol-cache/`.
    root: PathBuf,
    data_arg: Option<PathBuf>,
    /// Set by [`Context::configure`]: a fingerprint of the effective configuration when
    /// `--config` or `--set` made it differ from the experiment's default, else `None`.
    variant: Mutex<Option<String>>,
    /// Set by [`Context::configure`]: the effective configuration as TOML text.
    effective: Mutex<Option<String>>,
    /// Set when the run declared its units ([`Context::units`]).
    declared_units: std::sync::atomic::AtomicBool,
}

impl Context {
    /// A context for seed 0 in full mode with every option at its default, checkpoints and caches
    /// under `<root>/target/neuromol-cache/`, and data located from `data_arg` (`--data`), else
    /// `NEUROMOL_DATA`, else the user cache directory.
    pub fn new(root: PathBuf, data_arg: Option<PathBuf>) -> Context {
        Context {
            seed: 0,
            quick: false,
            resume: false,
            gradient: meta_plasticity::GradientMode::Forward,
            seeds: None,
            protocol: Protocol::Project,
            overrides: config::Overrides::default(),
            units: Units::All,
            root,
            data_arg,
            variant: Mutex::new(None),
            effective: Mutex::new(None),
            declared_units: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The project root given to [`Context::new`].
    pub fn root(&self) -> &Path {
        &self.root
    }

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
        *self
            .effective
            .lock()
            .unwrap_or_else(PoisonError::into_inner) =
            Some(toml::to_string(&effective_table).context("writing the configuration as TOML")?);
        Ok(effective)
    }

    /// Runs the independent units `ids` of `experiment` as `--shard` / `--merge` say (see
    /// [`crate::units`]): `compute` gets the positions in `ids` to compute and returns their
    /// results in that order. A normal run computes them all; a shard computes its share, writes
    /// them and ends the run with [`crate::units::ShardDone`]; a merge reads them all from their files. An
    /// experiment calls this once, after [`Context::configure`], for all of its units.
    pub(crate) fn units<T, F>(
        &self,
        experiment: &str,
        ids: &[String],
        compute: F,
    ) -> anyhow::Result<Vec<T>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: FnOnce(&[usize]) -> anyhow::Result<Vec<T>>,
    {
        self.declared_units
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if self.units == Units::All {
            let all: Vec<usize> = (0..ids.len()).collect();
            return compute(&all);
        }
        let key = self.run_key(experiment)?;
        crate::units::run(&self.units, &key, ids, self.resume, compute)
    }

    /// Whether the run declared its independent units (an experiment that has none cannot be
    /// sharded or merged).
    pub fn declared_units(&self) -> bool {
        self.declared_units
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What identifies this run's units: experiment, seed, mode, revision, and a fingerprint of
    /// the effective configuration with the options that act outside it (`--gradient`,
    /// `--seeds`, `--protocol`).
    fn run_key(&self, experiment: &str) -> anyhow::Result<crate::units::RunKey> {
        let effective = self
            .effective
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .with_context(|| format!("{experiment}: units run before the configuration was set"))?;
        let options = format!(
            "gradient = {:?}\nseeds = {:?}\nprotocol = {:?}\n",
            self.gradient, self.seeds, self.protocol
        );
        let digest = sha2::Sha256::digest(format!("{effective}\n# options\n{options}").as_bytes());
        Ok(crate::units::RunKey {
            experiment: experiment.to_string(),
            seed: self.seed,
            quick: self.quick,
            revision: crate::report::git_revision(),
            fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect(),
        })
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
/// the sources of its crates and its modules in this crate; tests, benches and docs are left out.
pub struct Experiment {
    /// The name `reproduce` takes.
    pub name: &'static str,
    /// A one-line description.
    pub about: &'static str,
    /// The entry point: runs the experiment and returns its report (not yet written).
    pub run: fn(&Context) -> anyhow::Result<Report>,
    /// Repository paths the results depend on.
    pub depends: &'static [&'static str],
    /// Its independent units, which `--shard` spreads over processes (`None`: it has none and
    /// runs whole).
    pub units: Option<&'static str>,
}

/// Paths every image experiment depends on.
const IMAGE: [&str; 5] = [
    "crates/linalg/src",
    "crates/datasets/src",
    "crates/experiments/src/reproduce/image_data.rs",
    "crates/experiments/src/reproduce.rs",
    "crates/experiments/src/reproduce/config.rs",
];
/// Paths the online-learning experiments depend on beyond [`IMAGE`].
const ONLINE: [&str; 3] = [
    "crates/plasticity-core/src",
    "crates/feedback-alignment/src",
    "crates/experiments/src/reproduce/online_mnist.rs",
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
    "crates/experiments/src/reproduce/oja.rs",
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
    "crates/experiments/src/reproduce/meta.rs",
    "crates/experiments/src/reproduce/meta",
];
/// Paths the molecular experiments depend on.
const MOLECULES: [&str; 11] = [
    "crates/linalg/src",
    "crates/datasets/src",
    "crates/molgraph/src",
    "crates/graph-scattering/src",
    "crates/mol-vae/src",
    "crates/bayes-uq/src",
    "crates/experiments/src/reproduce.rs",
    "crates/experiments/src/reproduce/config.rs",
    "crates/experiments/src/reproduce/scattering.rs",
    "crates/experiments/src/reproduce/molvae.rs",
    "crates/experiments/src/reproduce/molvae",
];

/// Every experiment with the repository paths its results depend on, for `results verify`.
pub fn dependencies() -> Vec<(&'static str, Vec<&'static str>)> {
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
pub const EXPERIMENTS: &[Experiment] = &[
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
            "crates/experiments/src/reproduce/smoke.rs",
        ],
        units: None,
    },
    Experiment {
        name: "online-mnist",
        about: "paper B Fig. 1: online BP, FA, FA+Oja, FA+eHebb on MNIST and Fashion-MNIST",
        run: online_mnist::run,
        depends: &[
            IMAGE[0], IMAGE[1], IMAGE[2], IMAGE[3], IMAGE[4], ONLINE[0], ONLINE[1], ONLINE[2],
        ],
        units: Some("one online pass per (dataset, rule, seed)"),
    },
    Experiment {
        name: "oja-online",
        about: "paper A: BP/FA with and without Oja, batch 1 versus mini-batches",
        run: oja::run_online,
        depends: OJA,
        units: Some(
            "one training run per (batch size, learner, seed); the selection runs are redone by every shard",
        ),
    },
    Experiment {
        name: "oja-depth",
        about: "paper A: accuracy versus depth with and without Oja",
        run: oja::run_depth,
        depends: OJA,
        units: Some(
            "one training run per (depth, learner, seed); the selection runs are redone by every shard",
        ),
    },
    Experiment {
        name: "oja-init",
        about: "paper A: accuracy, activation norms and effective rank versus initial weight scale",
        run: oja::run_init,
        depends: OJA,
        units: Some(
            "one training run per (gain, learner, seed); the selection runs are redone by every shard",
        ),
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
            "crates/experiments/src/reproduce.rs",
            "crates/experiments/src/reproduce/config.rs",
            "crates/experiments/src/reproduce/scattering.rs",
        ],
        units: None,
    },
    Experiment {
        name: "molvae",
        about: "paper C: GSVAE base and constrained models at N = 600, generation metrics",
        run: molvae::run,
        depends: &MOLECULES,
        units: Some("the base and the constrained model"),
    },
    Experiment {
        name: "molvae-uq",
        about: "paper C: Bayesian-bootstrap 1–99 % bands of generated property histograms",
        run: molvae::run_uq,
        depends: &MOLECULES,
        units: Some("one bootstrap replica each"),
    },
    Experiment {
        name: "molvae-predict",
        about: "latent μ → QM9 DFT targets: BLR and ridge ensemble, MAE and 90 % coverage",
        run: molvae::run_predict,
        depends: &MOLECULES,
        units: Some("one training size N each"),
    },
    Experiment {
        name: "molvae-design",
        about: "paper C conditional design (CVAE): samples at target TPSA, MolWt and LogP",
        run: molvae::run_design,
        depends: &MOLECULES,
        units: Some("the conditional model (one unit)"),
    },
    Experiment {
        name: "meta-baselines",
        about: "paper B Fig. 3: meta-learned θ0 under feedback alignment and backprop on EMNIST",
        run: meta::run_baselines,
        depends: &META,
        units: Some("one meta-training run per (variant, seed)"),
    },
    Experiment {
        name: "meta-pool",
        about: "paper B Fig. 4: the ten-term pool with L1, sparsification of Θ (checkpointed)",
        run: meta::run_pool,
        depends: &META,
        units: Some("one meta-training run per (variant, seed)"),
    },
    Experiment {
        name: "meta-mechanisms",
        about: "paper B Figs. 5, 7, 8: F^eHebb, F^Oja, F^bio — alignment angles and E_W",
        run: meta::run_mechanisms,
        depends: &META,
        units: Some("one meta-training run per (variant, seed)"),
    },
    Experiment {
        name: "meta-transfer",
        about: "learned rules on held-out EMNIST classes and 5-way MNIST / Fashion-MNIST",
        run: meta::run_transfer,
        depends: &META,
        units: Some("one meta-training run per (variant, seed)"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn context(quick: bool, protocol: Protocol, overrides: config::Overrides) -> Context {
        Context {
            quick,
            protocol,
            overrides,
            ..Context::new(crate::project_root(), None)
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

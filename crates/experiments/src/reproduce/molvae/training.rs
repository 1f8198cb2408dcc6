//! Training one GSVAE with periodic bincode 2 checkpoints (temporary file + rename) and
//! optional `--resume` from them.

use std::{
    fs,
    io::{BufWriter, Write as _},
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use linalg::rng::Rng;
use mol_vae::{
    AdamConfig, Checkpoint, Dataset, EpochStats, MolVae, TrainConfig, constraints::CycleMeasure,
    train_checkpoint,
};
use serde::{Deserialize, Serialize};

/// What is saved: the library checkpoint, the training settings it belongs to, and the
/// per-epoch history so far (for the training curves of a resumed run).
#[derive(Debug, Serialize, Deserialize)]
struct SavedRun {
    /// Format version.
    version: u32,
    /// The settings the run was started with (checked on resume).
    config: TrainConfig,
    /// Statistics of every completed epoch.
    history: Vec<EpochStats>,
    /// Model, Adam, epochs done and the noise generator's position.
    checkpoint: Checkpoint<f32>,
}

/// Format version 2: `TrainConfig` carries R4's `cycle_measure`.
const VERSION: u32 = 2;

/// Format version 1 (before `TrainConfig::cycle_measure`): its runs used the digest's
/// resolvent, so they load as [`CycleMeasure::Resolvent`] and finished runs stay usable.
#[derive(Deserialize)]
struct SavedRunV1 {
    version: u32,
    config: TrainConfigV1,
    history: Vec<EpochStats>,
    checkpoint: Checkpoint<f32>,
}

/// `TrainConfig` as format version 1 stored it.
#[derive(Deserialize)]
struct TrainConfigV1 {
    epochs: usize,
    batches_per_epoch: usize,
    n_samples: Option<usize>,
    constraint_weights: [f64; 4],
    adam: AdamConfig,
}

impl From<SavedRunV1> for SavedRun {
    fn from(old: SavedRunV1) -> SavedRun {
        let c = old.config;
        SavedRun {
            version: old.version,
            config: TrainConfig {
                epochs: c.epochs,
                batches_per_epoch: c.batches_per_epoch,
                n_samples: c.n_samples,
                constraint_weights: c.constraint_weights,
                cycle_measure: CycleMeasure::Resolvent,
                adam: c.adam,
            },
            history: old.history,
            checkpoint: old.checkpoint,
        }
    }
}

/// Where and how often one run checkpoints.
#[derive(Debug, Clone)]
pub(crate) struct Checkpointing {
    /// The checkpoint file.
    pub(crate) path: PathBuf,
    /// Save after every `every`-th epoch and after the last.
    pub(crate) every: usize,
    /// Continue from an existing checkpoint.
    pub(crate) resume: bool,
}

/// `target/neuromol-cache/molvae-checkpoints/<experiment>/seed-<N>-<quick|full>/`, with
/// `-variant-<fingerprint>` appended when `--config` or `--set` changed the configuration.
pub(crate) fn checkpoint_dir(ctx: &crate::reproduce::Context, experiment: &str) -> PathBuf {
    ctx.root()
        .join("target/neuromol-cache/molvae-checkpoints")
        .join(experiment)
        .join(ctx.checkpoint_leaf(format!(
            "seed-{}-{}",
            ctx.seed,
            if ctx.quick { "quick" } else { "full" }
        )))
}

/// A trained model, its full history, and the epoch it resumed at (0 for a fresh run).
#[derive(Serialize, Deserialize)]
pub(crate) struct Trained {
    /// The model after the last epoch.
    pub(crate) model: MolVae<f32>,
    /// Statistics of every epoch from 0.
    pub(crate) history: Vec<EpochStats>,
    /// Epochs restored from a checkpoint.
    pub(crate) resumed_at: usize,
}

/// Trains `initial` on `data` with `config`, drawing the noise from `rng`, checkpointing as
/// asked. With `resume` and a checkpoint of the same settings and data size, continues from it
/// (bit-identically to an uninterrupted run); a checkpoint that does not match is an error.
pub(crate) fn train_model(
    name: &str,
    initial: &MolVae<f32>,
    data: &Dataset<'_, f32>,
    config: &TrainConfig,
    rng: &Rng,
    checkpointing: &Checkpointing,
) -> anyhow::Result<Trained> {
    let (mut checkpoint, mut history) = match load(checkpointing, config, data.len())? {
        Some(saved) => (saved.checkpoint, saved.history),
        None => (
            Checkpoint::start(initial.clone(), data.len(), rng),
            Vec::new(),
        ),
    };
    let resumed_at = checkpoint.epochs_done;
    let mut save_error = None;
    let new_history = train_checkpoint(&mut checkpoint, data, config, |stats, ck| {
        history.push(*stats);
        let done = ck.epochs_done;
        let due = done % checkpointing.every.max(1) == 0 || done == config.epochs;
        if due
            && save_error.is_none()
            && let Err(err) = save(&checkpointing.path, config, &history, ck)
        {
            save_error = Some(err);
        }
    })
    .with_context(|| format!("training the {name} model"))?;
    if let Some(err) = save_error {
        return Err(err.context(format!("checkpointing the {name} model")));
    }
    debug_assert_eq!(history.len(), resumed_at + new_history.len());
    Ok(Trained {
        model: checkpoint.model,
        history,
        resumed_at,
    })
}

/// Reads the checkpoint when resuming; `None` when not resuming or when there is none.
fn load(
    checkpointing: &Checkpointing,
    config: &TrainConfig,
    n_items: usize,
) -> anyhow::Result<Option<SavedRun>> {
    let path = &checkpointing.path;
    if !checkpointing.resume || !path.exists() {
        return Ok(None);
    }
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let standard = bincode::config::standard();
    let decoding = || format!("decoding the checkpoint {}", path.display());
    // Every version starts with its number.
    let (version, _): (u32, usize) =
        bincode::serde::decode_from_slice(&bytes, standard).with_context(decoding)?;
    let saved: SavedRun = match version {
        VERSION => {
            bincode::serde::decode_from_slice(&bytes, standard)
                .with_context(decoding)?
                .0
        }
        1 => bincode::serde::decode_from_slice::<SavedRunV1, _>(&bytes, standard)
            .with_context(decoding)?
            .0
            .into(),
        other => anyhow::bail!(
            "checkpoint {} has format version {other}, expected 1 or {VERSION}",
            path.display()
        ),
    };
    if saved.config != *config {
        anyhow::bail!(
            "checkpoint {} was written with other training settings; delete it or run without --resume",
            path.display()
        );
    }
    if saved.checkpoint.n_items != n_items || saved.history.len() != saved.checkpoint.epochs_done {
        anyhow::bail!(
            "checkpoint {} does not match this run ({} molecules, {} epochs of history for {} done)",
            path.display(),
            saved.checkpoint.n_items,
            saved.history.len(),
            saved.checkpoint.epochs_done
        );
    }
    Ok(Some(saved))
}

/// Writes the checkpoint through a temporary file and a rename.
fn save(
    path: &Path,
    config: &TrainConfig,
    history: &[EpochStats],
    checkpoint: &Checkpoint<f32>,
) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct SavedRunRef<'a> {
        version: u32,
        config: &'a TrainConfig,
        history: &'a [EpochStats],
        checkpoint: &'a Checkpoint<f32>,
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A per-process name, so two runs of the same seed never write the same temporary file.
    let tmp = path.with_extension(format!("ckpt.tmp-{}", std::process::id()));
    let file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut writer = BufWriter::new(file);
    let saved = SavedRunRef {
        version: VERSION,
        config,
        history,
        checkpoint,
    };
    bincode::serde::encode_into_std_write(&saved, &mut writer, bincode::config::standard())
        .with_context(|| format!("writing {}", tmp.display()))?;
    writer
        .flush()
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(writer);
    fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use linalg::{
        Matrix,
        rng::{Stream, stream},
    };
    use mol_vae::{Dataset, ModelConfig, MolVae, TrainConfig};

    use super::*;

    #[test]
    fn resuming_from_a_saved_checkpoint_matches_an_uninterrupted_run() {
        let dir = std::env::temp_dir().join(format!("neuromol-molvae-ckpt-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let targets: Vec<_> = ["CO", "CC", "CN", "CF", "CCO", "C#N"]
            .iter()
            .map(|s| molgraph::parse_smiles(s).unwrap().to_dense())
            .collect();
        let features = Matrix::<f32>::from_fn(6, 6, |i, j| ((i * 5 + j * 3) % 7) as f32 / 7.0);
        let data = Dataset::new(&features, &targets).unwrap();
        let model =
            MolVae::<f32>::new(ModelConfig::small(6), &mut stream(3, Stream::Init)).unwrap();
        let noise = stream(3, Stream::Noise);
        let config = TrainConfig {
            epochs: 4,
            batches_per_epoch: 2,
            ..TrainConfig::default()
        };
        let checkpointing = |name: &str, resume: bool| Checkpointing {
            path: dir.join(format!("{name}.ckpt")),
            every: 1,
            resume,
        };
        let straight = train_model(
            "straight",
            &model,
            &data,
            &config,
            &noise,
            &checkpointing("straight", false),
        )
        .unwrap();
        // Stop after two epochs, then resume from the file.
        let half = TrainConfig {
            epochs: 2,
            ..config.clone()
        };
        train_model(
            "half",
            &model,
            &data,
            &half,
            &noise,
            &checkpointing("run", false),
        )
        .unwrap();
        // The file belongs to the 2-epoch settings: resuming with other settings is refused.
        assert!(
            train_model(
                "run",
                &model,
                &data,
                &config,
                &noise,
                &checkpointing("run", true)
            )
            .is_err()
        );
        // Rewrite it as a checkpoint of the 4-epoch run stopped at epoch 2.
        let saved = load(&checkpointing("run", true), &half, 6)
            .unwrap()
            .unwrap();
        save(
            &checkpointing("run", true).path,
            &config,
            &saved.history,
            &saved.checkpoint,
        )
        .unwrap();
        let resumed = train_model(
            "run",
            &model,
            &data,
            &config,
            &noise,
            &checkpointing("run", true),
        )
        .unwrap();
        assert_eq!(resumed.resumed_at, 2);
        assert_eq!(resumed.model, straight.model);
        assert_eq!(resumed.history, straight.history);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A format-1 file (before `TrainConfig::cycle_measure`) loads as a resolvent run, is refused
    /// for walk-sum settings, and an unknown version is refused by number.
    #[test]
    fn format_1_checkpoints_load_as_resolvent_runs() {
        #[derive(Serialize)]
        struct V1<'a> {
            version: u32,
            config: (usize, usize, Option<usize>, [f64; 4], &'a AdamConfig),
            history: &'a [EpochStats],
            checkpoint: &'a Checkpoint<f32>,
        }
        let dir = std::env::temp_dir().join(format!("neuromol-molvae-v1-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let model =
            MolVae::<f32>::new(ModelConfig::small(6), &mut stream(1, Stream::Init)).unwrap();
        let checkpoint = Checkpoint::start(model, 6, &stream(1, Stream::Noise));
        let config = TrainConfig {
            epochs: 4,
            constraint_weights: [0.1, 0.1, 2.5, 2.5],
            ..TrainConfig::default()
        };
        let write = |version: u32| {
            let old = V1 {
                version,
                config: (
                    config.epochs,
                    config.batches_per_epoch,
                    config.n_samples,
                    config.constraint_weights,
                    &config.adam,
                ),
                history: &[],
                checkpoint: &checkpoint,
            };
            let bytes = bincode::serde::encode_to_vec(&old, bincode::config::standard()).unwrap();
            fs::write(dir.join("run.ckpt"), bytes).unwrap();
        };
        let checkpointing = Checkpointing {
            path: dir.join("run.ckpt"),
            every: 1,
            resume: true,
        };
        write(1);
        let loaded = load(&checkpointing, &config, 6).unwrap().unwrap();
        assert_eq!(loaded.config, config);
        assert_eq!(loaded.config.cycle_measure, CycleMeasure::Resolvent);
        assert_eq!(loaded.checkpoint, checkpoint);
        let walk_sum = TrainConfig {
            cycle_measure: CycleMeasure::WalkSum,
            ..config.clone()
        };
        let refused = load(&checkpointing, &walk_sum, 6).err().unwrap();
        assert!(refused.to_string().contains("other training settings"));
        write(7);
        let unknown = load(&checkpointing, &config, 6).err().unwrap();
        assert!(
            format!("{unknown:#}").contains("format version 7"),
            "{unknown:#}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Checkpoints written before the conditional model existed must still load: an
    /// unconditional model serialises exactly as the old layout (its configuration without
    /// `n_conditions`), and a conditional model round-trips with its `n_conditions` restored from
    /// the first decoder layer's width.
    #[test]
    fn model_bytes_keep_the_old_layout_and_conditional_models_round_trip() {
        use mol_vae::{Parameters, RunningStats};

        #[derive(Serialize)]
        struct OldConfig<'a> {
            n_features: usize,
            n_hidden: usize,
            n_latent: usize,
            decoder_widths: &'a [usize],
            n_nodes: usize,
            bond_embedding: usize,
            leaky_slope: f64,
            bn_momentum: f64,
            bn_eps: f64,
        }
        #[derive(Serialize)]
        struct OldModel<'a> {
            config: OldConfig<'a>,
            params: &'a Parameters<f32>,
            input_stats: &'a RunningStats<f32>,
            hidden_stats: &'a RunningStats<f32>,
        }
        let old_bytes = |model: &MolVae<f32>, n_latent: usize| {
            let c = model.config();
            let old = OldModel {
                config: OldConfig {
                    n_features: c.n_features,
                    n_hidden: c.n_hidden,
                    n_latent,
                    decoder_widths: &c.decoder_widths,
                    n_nodes: c.n_nodes,
                    bond_embedding: c.bond_embedding,
                    leaky_slope: c.leaky_slope,
                    bn_momentum: c.bn_momentum,
                    bn_eps: c.bn_eps,
                },
                params: &model.params,
                input_stats: &model.input_stats,
                hidden_stats: &model.hidden_stats,
            };
            bincode::serde::encode_to_vec(&old, bincode::config::standard()).unwrap()
        };
        let decode = |bytes: &[u8]| {
            bincode::serde::decode_from_slice::<MolVae<f32>, _>(bytes, bincode::config::standard())
                .map(|(model, _)| model)
        };
        let plain =
            MolVae::<f32>::new(ModelConfig::small(6), &mut stream(1, Stream::Init)).unwrap();
        let bytes = bincode::serde::encode_to_vec(&plain, bincode::config::standard()).unwrap();
        assert_eq!(bytes, old_bytes(&plain, 3));
        assert_eq!(decode(&bytes).unwrap(), plain);

        let config = ModelConfig {
            n_conditions: 3,
            ..ModelConfig::small(6)
        };
        let conditional = MolVae::<f32>::new(config, &mut stream(1, Stream::Init)).unwrap();
        let bytes =
            bincode::serde::encode_to_vec(&conditional, bincode::config::standard()).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.config().n_conditions, 3);
        assert_eq!(back, conditional);
        // Tensors that do not fit the configuration are a decoding error, not a panic later.
        assert!(decode(&old_bytes(&conditional, 4)).is_err());
        assert!(decode(&old_bytes(&plain, 4)).is_err());
    }
}

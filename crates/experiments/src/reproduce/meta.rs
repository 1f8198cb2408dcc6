//! `reproduce meta-…`: paper B's meta-learning experiments (Figs. 3–5, 7–8) and a transfer test.
//!
//! Shared by the four experiments: the EMNIST balanced-47 pool (and MNIST / Fashion-MNIST test
//! sets as pools), seeds meta-trained in parallel with per-seed checkpoints ([`meta_train`],
//! [`checkpoint`]), across-seed summaries of per-episode curves, and the figures.
//!
//! Protocol common to all (digest §1.1–1.6): 784-170-130-100-70-47, β = 10, no biases, fresh
//! Xavier-uniform `W` and `B` every episode, 5-way tasks with 50 training images per class learned
//! online (batch 1, one pass) and 10 query images per class, Adam (lr 1e-3) on Θ with θ₀ = 1e-3
//! at the start, f32 inner loop. Classes are drawn without replacement and images at random within
//! a class (not the original code's with-replacement / first-K sampling). Seed `k` of a run with
//! master seed `s` meta-trains with `MetaConfig::seed = 1000·s + k`; every variant of an
//! experiment uses the same seeds, so variants see the same tasks, initial weights and feedback
//! matrices (paired comparisons).

mod baselines;
pub(crate) mod checkpoint;
mod curves;
mod divergence;
mod mechanisms;
mod pool;
mod transfer;

use std::{
    ops::ControlFlow,
    path::PathBuf,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use anyhow::{Context as _, bail};
use datasets::{LabelledImages, emnist, idx};
use meta_plasticity::{EpisodeStats, GradientMode, ImagePool, MetaConfig, MetaTrainer};
use plasticity_core::N_TERMS;
use rayon::prelude::*;

use crate::{
    data::Dataset,
    report::Report,
    reproduce::{Context, Protocol, config},
};

use self::curves::{
    accuracy_chart, band_series, curves, episode_metrics, hidden_angle, late_mean, moving_average,
    paired, summarize_curves, theta_chart, xy_band_series,
};
pub(crate) use self::{
    baselines::run as run_baselines, mechanisms::run as run_mechanisms, pool::run as run_pool,
    transfer::run as run_transfer,
};

/// Images per class of the balanced view (EMNIST Balanced test split: 400) [digest §1.1].
const PER_CLASS: usize = 400;

/// Window of the moving average of per-episode accuracies (the original's `--avg_window 10`).
const MOVING_AVERAGE: usize = 10;

/// The `MetaConfig::seed` of seed index `seed_idx` under master seed `master`.
fn run_seed(master: u64, seed_idx: usize) -> u64 {
    master.wrapping_mul(1000).wrapping_add(seed_idx as u64)
}

/// Reads EMNIST ByClass test, rebuilds the balanced-47 view (first 400 images of each class in
/// file order) and transposes it upright (as MNIST is stored), as an [`ImagePool`].
fn load_emnist(ctx: &Context, report: &mut Report) -> anyhow::Result<ImagePool> {
    let names = [
        "emnist-byclass-test-images-idx3-ubyte.gz",
        "emnist-byclass-test-labels-idx1-ubyte.gz",
    ];
    let bytes = ctx.read_data(Dataset::Emnist, &names, report)?;
    let byclass = idx::parse_dataset(&bytes[0], &bytes[1], &idx::IdxSpec::EMNIST_BYCLASS)
        .with_context(|| format!("reading emnist/{} with {}", names[0], names[1]))?;
    let balanced = emnist::balanced_from_byclass(&byclass, PER_CLASS)
        .context("building the balanced-47 view of EMNIST ByClass test")?;
    // EMNIST stores characters transposed; an MLP does not care, but the transfer experiment
    // feeds MNIST-oriented images to rules learned here, so the pool is made upright.
    let upright = LabelledImages::new(balanced.images().transposed(), balanced.labels().clone())
        .context("transposing EMNIST")?;
    pool_of(&upright).context("EMNIST balanced pool")
}

/// Reads the 10,000-image test split of MNIST or Fashion-MNIST as an [`ImagePool`].
fn load_mnist_like_test(
    ctx: &Context,
    dataset: Dataset,
    report: &mut Report,
) -> anyhow::Result<ImagePool> {
    let names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
    let bytes = ctx.read_data(dataset, &names, report)?;
    let set = idx::parse_dataset(&bytes[0], &bytes[1], &idx::IdxSpec::MNIST)
        .with_context(|| format!("reading {dataset}/{} with {}", names[0], names[1]))?;
    pool_of(&set).with_context(|| format!("{dataset} test pool"))
}

/// Pixels / 255 in row-major order, image after image.
fn pool_of(set: &LabelledImages) -> anyhow::Result<ImagePool> {
    let n_pixels = set.images().image_len();
    let mut pixels = vec![0.0f32; set.len() * n_pixels];
    for (idx, chunk) in pixels.chunks_exact_mut(n_pixels).enumerate() {
        set.images().write_f32(idx, chunk);
    }
    let labels = set
        .labels()
        .as_slice()
        .iter()
        .map(|&l| usize::from(l))
        .collect();
    Ok(ImagePool::new(n_pixels, pixels, labels)?)
}

/// One meta-training run: a named variant (rule family, feedback) at one seed index.
#[derive(Debug, Clone)]
pub(crate) struct RunSpec {
    /// Variant name, also the checkpoint file's stem (`<variant>-seed<k>.ckpt`).
    pub(crate) variant: String,
    /// Seed index within the variant.
    pub(crate) seed_idx: usize,
    /// The run's config (its `seed` is [`run_seed`] of the master seed and `seed_idx`).
    pub(crate) config: MetaConfig,
}

/// Where and how often runs checkpoint, and whether they resume.
#[derive(Debug, Clone)]
pub(crate) struct Checkpointing {
    /// Directory of the `<variant>-seed<k>.ckpt` files.
    pub(crate) dir: PathBuf,
    /// A checkpoint is written after every `every`-th episode and after the last.
    pub(crate) every: usize,
    /// Continue from existing checkpoints (`--resume`).
    pub(crate) resume: bool,
}

impl Checkpointing {
    /// `target/neuromol-cache/meta-checkpoints/<experiment>/seed-<N>-<quick|full>/`, with
    /// `-reverse` appended when the runs use reverse mode, `-faithful` under `--protocol faithful`
    /// and `-variant-<fingerprint>` when `--config` or `--set` changed the configuration (a run
    /// of another mode, protocol or configuration is another config, whose files would be
    /// refused), every 10 episodes in quick mode and 50 in full mode.
    ///
    /// `gradient` is the concrete mode the runs use ([`set_gradient_mode`]), so that a run under
    /// `--gradient auto` shares its folder (and its checkpoints) with a run that named that mode.
    fn for_experiment(ctx: &Context, experiment: &str, gradient: GradientMode) -> Checkpointing {
        let mut mode = match (ctx.quick, gradient) {
            (true, GradientMode::Forward | GradientMode::Auto) => "quick",
            (false, GradientMode::Forward | GradientMode::Auto) => "full",
            (true, GradientMode::Reverse) => "quick-reverse",
            (false, GradientMode::Reverse) => "full-reverse",
        }
        .to_string();
        if ctx.protocol == Protocol::Faithful {
            mode.push_str("-faithful");
        }
        Checkpointing {
            dir: ctx
                .root()
                .join("target/neuromol-cache/meta-checkpoints")
                .join(experiment)
                .join(ctx.checkpoint_leaf(format!("seed-{}-{mode}", ctx.seed))),
            every: if ctx.quick { 10 } else { 50 },
            resume: ctx.resume,
        }
    }
}

/// What a finished run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Finished {
    /// Statistics of every episode from 0 (including those restored from a checkpoint).
    pub(crate) history: Vec<EpisodeStats>,
    /// Θ after the last meta-update.
    pub(crate) theta: [f64; N_TERMS],
    /// The episode the run resumed at (0 for a fresh run).
    pub(crate) resumed_at: usize,
}

/// Meta-trains every run to `config.n_episodes` in parallel (f32 inner loop), or until
/// `stop_at` episodes (a test hook standing in for a kill), checkpointing when asked.
///
/// With checkpointing, every run's checkpoint file is checked before anything runs: with
/// `resume`, a valid one is continued from and an invalid one (truncated, corrupt, another
/// config) is an error naming the file; without `resume`, an invalid one is an error too (it
/// would be overwritten) and a valid one of the same config is started over. A refused file is
/// never written to.
pub(crate) fn meta_train(
    specs: &[RunSpec],
    pool: &ImagePool,
    checkpoints: Option<&Checkpointing>,
    stop_at: Option<usize>,
) -> anyhow::Result<Vec<Finished>> {
    let mut trainers = Vec::with_capacity(specs.len());
    let mut histories = Vec::with_capacity(specs.len());
    let mut resumed = Vec::with_capacity(specs.len());
    for spec in specs {
        let existing = match checkpoints {
            Some(ck) => checkpoint::inspect(&checkpoint_path(ck, spec), &spec.config)?,
            None => None,
        };
        let restore = existing.filter(|_| checkpoints.is_some_and(|ck| ck.resume));
        match restore {
            Some(saved) => {
                let at = saved.state.next_episode;
                let trainer = MetaTrainer::from_state(spec.config.clone(), saved.state)
                    .with_context(|| {
                        format!(
                            "resuming {} from {}",
                            spec.variant,
                            checkpoints
                                .map_or(PathBuf::new(), |ck| checkpoint_path(ck, spec))
                                .display()
                        )
                    })?;
                trainers.push(trainer);
                histories.push(Mutex::new(saved.history));
                resumed.push(at);
            }
            None => {
                trainers.push(MetaTrainer::new(spec.config.clone())?);
                histories.push(Mutex::new(Vec::new()));
                resumed.push(0);
            }
        }
    }
    let total: usize = trainers
        .iter()
        .map(|t| t.config().n_episodes - t.next_episode())
        .sum();
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let on_episode = |idx: usize,
                      stats: EpisodeStats,
                      trainer: &MetaTrainer|
     -> anyhow::Result<ControlFlow<()>> {
        let spec = &specs[idx];
        let mut history = histories[idx].lock().expect("no thread panics holding it");
        history.push(stats);
        let at = trainer.next_episode();
        let stop = stop_at.is_some_and(|k| at >= k);
        if let Some(ck) = checkpoints
            && (at.is_multiple_of(ck.every) || trainer.is_done() || stop)
        {
            checkpoint::save(&checkpoint_path(ck, spec), trainer, &history)?;
        }
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        let step = (total / 20).max(1);
        if finished.is_multiple_of(step) {
            eprintln!(
                "  {finished}/{total} episodes ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(if stop {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    };
    // Seeds run in parallel (rayon, one trainer per task); each trajectory depends only on its
    // own config and state, so results do not depend on the thread count.
    let results: Vec<anyhow::Result<MetaTrainer>> = trainers
        .into_par_iter()
        .enumerate()
        .map(|(idx, mut trainer)| {
            while !trainer.is_done() {
                let episode = trainer.next_episode();
                let stats = trainer
                    .step::<f32>(pool)
                    .with_context(|| format!("episode {episode}"))?;
                if on_episode(idx, stats, &trainer)?.is_break() {
                    break;
                }
            }
            Ok(trainer)
        })
        .collect();
    let mut finished = Vec::with_capacity(specs.len());
    for (((spec, result), history), resumed_at) in
        specs.iter().zip(results).zip(histories).zip(resumed)
    {
        let trainer = result
            .with_context(|| format!("meta-training {} seed {}", spec.variant, spec.seed_idx))?;
        finished.push(Finished {
            history: history.into_inner().expect("no thread panicked"),
            theta: *trainer.theta(),
            resumed_at,
        });
    }
    Ok(finished)
}

/// Number of diverged episodes over all runs of each variant.
fn count_diverged(groups: &[Vec<Finished>]) -> Vec<usize> {
    groups
        .iter()
        .map(|runs| {
            runs.iter()
                .flat_map(|run| &run.history)
                .filter(|s| s.is_diverged())
                .count()
        })
        .collect()
}

/// A note with the diverged episodes of each variant and the first episode where each happened.
fn divergence_note(names: &[String], groups: &[Vec<Finished>]) -> String {
    let counts = count_diverged(groups);
    let parts: Vec<String> = names
        .iter()
        .zip(groups)
        .zip(&counts)
        .map(|((name, runs), count)| {
            let total: usize = runs.iter().map(|r| r.history.len()).sum();
            let first: Vec<String> = runs
                .iter()
                .enumerate()
                .filter_map(|(seed_idx, run)| {
                    run.history
                        .iter()
                        .find(|s| s.is_diverged())
                        .map(|s| format!("seed {seed_idx} first at episode {}", s.episode))
                })
                .collect();
            if first.is_empty() {
                format!("{name}: 0 of {total}")
            } else {
                format!("{name}: {count} of {total} ({})", first.join("; "))
            }
        })
        .collect();
    format!(
        "Diverged episodes (the inner loop reached NaN or ∞; no meta-update from the query loss; Θ is left, retreated or shrunk as the config's `on_divergence` says; accuracy counted as 0, loss, angles and E_W left out of the averages): {}.",
        parts.join(", ")
    )
}

pub(crate) fn checkpoint_path(ck: &Checkpointing, spec: &RunSpec) -> PathBuf {
    ck.dir
        .join(format!("{}-seed{}.ckpt", spec.variant, spec.seed_idx))
}

/// The runs of `variants` × `n_seeds`, in (variant, seed) order.
fn specs_for(variants: &[(String, MetaConfig)], n_seeds: usize, master: u64) -> Vec<RunSpec> {
    variants
        .iter()
        .flat_map(|(name, config)| {
            (0..n_seeds).map(move |seed_idx| RunSpec {
                variant: name.clone(),
                seed_idx,
                config: MetaConfig {
                    seed: run_seed(master, seed_idx),
                    ..config.clone()
                },
            })
        })
        .collect()
}

impl Context {
    /// [`Context::configure`], with `mask` applied to the default's and the effective
    /// configuration's tables before they are compared and fingerprinted: keys that `mask`
    /// overwrites do not make a variant and do not enter its fingerprint
    /// ([`mask_gradient_modes`] for the meta-* experiments).
    pub(crate) fn configure_masked<C: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        default: C,
        mask: impl Fn(&mut toml::Table),
    ) -> anyhow::Result<C> {
        let mut default_table = config::to_table(&default)?;
        mask(&mut default_table);
        let effective = self.overrides.apply(default)?;
        let mut effective_table = config::to_table(&effective)?;
        mask(&mut effective_table);
        let variant = (effective_table != default_table)
            .then(|| config::fingerprint(&effective_table))
            .transpose()?;
        *self.variant.lock().unwrap_or_else(PoisonError::into_inner) = variant;
        // The key of this run's unit files (`--shard`, `--merge`) is made from this text.
        *self
            .effective
            .lock()
            .unwrap_or_else(PoisonError::into_inner) =
            Some(toml::to_string(&effective_table).context("writing the configuration as TOML")?);
        Ok(effective)
    }
}

/// Writes the concrete mode that `chosen` (`--gradient`) resolves to for the largest rule among
/// `variants` ([`GradientMode::resolve`]) into every variant, and returns it: all runs of an
/// experiment use one mode, so that they share one checkpoint folder and the paired references
/// of a run are differentiated as it is. With [`GradientMode::Auto`], meta-pool (ten terms)
/// runs reverse mode and the experiments of at most three terms run forward mode.
pub(crate) fn set_gradient_mode(
    variants: &mut [(String, MetaConfig)],
    chosen: GradientMode,
) -> GradientMode {
    let n_terms = variants
        .iter()
        .map(|(_, config)| config.rule.terms().len())
        .max()
        .unwrap_or(0);
    let mode = chosen.resolve(n_terms);
    for (_, config) in variants {
        config.optimizer.gradient = mode;
    }
    mode
}

/// The mask of [`Context::configure_masked`] for the meta-* experiments: every
/// `optimizer.gradient` key is written as `"Forward"`. The variants carry the mode that
/// `--gradient` resolves to (so `--print-config` and `config.toml` show the mode that runs),
/// but the mode is chosen by `--gradient` alone and named by the checkpoint folder's `-reverse`,
/// so it is not a configuration variant; and `"Forward"` is what every configuration carried when
/// variant fingerprints were introduced, so earlier variants keep their fingerprints.
pub(crate) fn mask_gradient_modes(table: &mut toml::Table) {
    if let Some(toml::Value::Table(optimizer)) = table.get_mut("optimizer")
        && optimizer.contains_key("gradient")
    {
        optimizer.insert("gradient".to_string(), "Forward".into());
    }
    for (_, value) in table.iter_mut() {
        mask_value(value);
    }
}

fn mask_value(value: &mut toml::Value) {
    match value {
        toml::Value::Table(table) => mask_gradient_modes(table),
        toml::Value::Array(items) => items.iter_mut().for_each(mask_value),
        _ => {}
    }
}

/// The report's sentence on the meta-gradient mode that ran and why.
fn gradient_note(
    chosen: GradientMode,
    ran: GradientMode,
    variants: &[(String, MetaConfig)],
) -> String {
    let n_terms = variants
        .iter()
        .map(|(_, config)| config.rule.terms().len())
        .max()
        .unwrap_or(0);
    let why = match chosen {
        GradientMode::Auto => format!(
            "chosen by `--gradient auto` (the default) for the largest rule's {n_terms} plastic term(s): reverse mode above {}",
            GradientMode::AUTO_REVERSE_ABOVE
        ),
        GradientMode::Forward => "`--gradient forward`".to_string(),
        GradientMode::Reverse => "`--gradient reverse`".to_string(),
    };
    match ran {
        GradientMode::Reverse => format!(
            "Meta-gradients by checkpointed reverse mode ({why}). Forward and reverse mode are both exact, but they round differently in f32, and Adam carries rounding-level differences of small gradient components into learning-rate-sized steps: a run in one mode is not the other mode's Θ trajectory, only another sample of it (docs/deviations.md)."
        ),
        GradientMode::Forward | GradientMode::Auto => {
            format!("Meta-gradients by forward-mode tangents ({why}).")
        }
    }
}

/// Everything meta-training all (variant, seed) runs of an experiment produced.
struct Trained {
    /// The runs, in (variant, seed) order.
    specs: Vec<RunSpec>,
    /// Where their checkpoints are.
    ck: Checkpointing,
    /// Their results, in the same order.
    finished: Vec<Finished>,
}

/// Meta-trains `variants` × `n_seeds` on `pool` with checkpoints (resuming under `--resume`),
/// checks that every run completed, and records the timing and the checkpoint note in `report`.
fn train_all(
    ctx: &Context,
    experiment: &str,
    variants: &[(String, MetaConfig)],
    n_seeds: usize,
    pool: &ImagePool,
    report: &mut Report,
) -> anyhow::Result<Trained> {
    let specs = specs_for(variants, n_seeds, ctx.seed);
    let gradient = specs
        .first()
        .map_or(GradientMode::Forward, |spec| spec.config.gradient_mode());
    if ctx.seeds.is_some() {
        report.option(format!("--seeds {n_seeds}"));
    }
    if ctx.protocol == Protocol::Faithful {
        report.option("--protocol faithful");
    }
    match ctx.gradient {
        GradientMode::Forward => report.option("--gradient forward"),
        GradientMode::Reverse => report.option("--gradient reverse"),
        GradientMode::Auto => {}
    }
    report.note(gradient_note(ctx.gradient, gradient, variants));
    let ck = Checkpointing::for_experiment(ctx, experiment, gradient);
    let started = Instant::now();
    // The units: one meta-training run per (variant, seed).
    let ids: Vec<String> = specs
        .iter()
        .map(|spec| format!("{}-seed{}", spec.variant, spec.seed_idx))
        .collect();
    let finished = ctx.units(experiment, &ids, |positions| {
        let subset: Vec<RunSpec> = positions.iter().map(|&p| specs[p].clone()).collect();
        meta_train(&subset, pool, Some(&ck), None)
    })?;
    ensure_complete(&specs, &finished)?;
    let n_episodes = variants.first().map_or(0, |(_, config)| config.n_episodes);
    report.timing(
        &format!(
            "meta-training (episodes run in this invocation): {} variants × {n_seeds} seeds × {n_episodes} episodes",
            variants.len()
        ),
        started.elapsed().as_secs_f64(),
    );
    report.note(checkpoint_note(&ck, &specs, &finished));
    Ok(Trained {
        specs,
        ck,
        finished,
    })
}

/// Regroups `finished` (in [`specs_for`] order) by variant.
fn by_variant(finished: Vec<Finished>, n_seeds: usize) -> Vec<Vec<Finished>> {
    let mut grouped = Vec::new();
    let mut iter = finished.into_iter().peekable();
    while iter.peek().is_some() {
        grouped.push(iter.by_ref().take(n_seeds).collect());
    }
    grouped
}

/// A note on checkpoints: where they are and what was resumed.
fn checkpoint_note(ck: &Checkpointing, specs: &[RunSpec], finished: &[Finished]) -> String {
    let resumed: Vec<String> = specs
        .iter()
        .zip(finished)
        .filter(|(_, f)| f.resumed_at > 0)
        .map(|(s, f)| {
            format!(
                "{} seed {} at episode {}",
                s.variant, s.seed_idx, f.resumed_at
            )
        })
        .collect();
    format!(
        "Checkpoints (bincode 2 of the trainer state and the episode history, every {} episodes) are in `{}`; {}.",
        ck.every,
        ck.dir.display(),
        if resumed.is_empty() {
            "every run started at episode 0".to_string()
        } else {
            format!("resumed: {}", resumed.join(", "))
        }
    )
}

/// Refuses to continue if a run stopped early (it cannot happen without `stop_at`).
fn ensure_complete(specs: &[RunSpec], finished: &[Finished]) -> anyhow::Result<()> {
    for (spec, run) in specs.iter().zip(finished) {
        if run.history.len() != spec.config.n_episodes {
            bail!(
                "{} seed {} has {} of {} episodes",
                spec.variant,
                spec.seed_idx,
                run.history.len(),
                spec.config.n_episodes
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use feedback_alignment::FeedbackKind;
    use meta_plasticity::RuleFamily;
    use plasticity_core::MlpConfig;

    use super::*;

    /// A 6-class pool of 12 random 4-pixel images per class, with class-dependent means.
    fn synthetic_pool() -> ImagePool {
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for idx in 0..72usize {
            let class = idx % 6;
            labels.push(class);
            for p in 0..4usize {
                let base = if (class + p) % 3 == 0 { 0.8 } else { 0.1 };
                let jitter = ((idx * 31 + p * 17) % 13) as f32 / 40.0;
                pixels.push(base + jitter);
            }
        }
        ImagePool::new(4, pixels, labels).unwrap()
    }

    fn tiny_config(seed: u64) -> MetaConfig {
        let mut config = MetaConfig::paper(RuleFamily::Pool, FeedbackKind::Fixed);
        config.mlp = MlpConfig {
            sizes: vec![4, 5, 6],
            ..MlpConfig::default()
        };
        config.episode.n_ways = 3;
        config.episode.n_train_per_class = 4;
        config.episode.n_query_per_class = 2;
        config.n_episodes = 9;
        config.seed = seed;
        // The tests below were written for forward mode; `Auto` would pick reverse for the pool.
        config.optimizer.gradient = GradientMode::Forward;
        config
    }

    fn specs(seed: u64) -> Vec<RunSpec> {
        vec![
            RunSpec {
                variant: "pool".into(),
                seed_idx: 0,
                config: tiny_config(seed),
            },
            RunSpec {
                variant: "pool".into(),
                seed_idx: 1,
                config: tiny_config(seed + 1),
            },
        ]
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("neuromol-meta-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn diverged_episodes_are_rerun_and_located() {
        // θ₀ = 1e30 makes every episode of the tiny pool overflow in f32; θ₀ = 1e-3 none.
        let mut specs = specs(5);
        specs[0].config.theta0_init = 1e30;
        specs[1].config.theta0_init = 1e30;
        let finished = meta_train(&specs, &synthetic_pool(), None, None).unwrap();
        assert!(
            finished
                .iter()
                .all(|run| run.history.iter().all(|s| s.is_diverged()))
        );
        let groups = by_variant(finished, 2);
        let note = divergence::analysis(&["F^pool".into()], &groups, &specs, &synthetic_pool())
            .unwrap()
            .expect("a note for diverged episodes");
        assert!(note.contains("**F^pool**: 2 of 2 seeds diverged"), "{note}");
        // Both seeds diverged at episode 0 and at every episode up to 8; the training detector
        // saw a non-finite value at a training step, and the replay names a layer.
        assert!(note.contains("| 0 | 9 | 0 | 8 | step "), "{note}");
        assert!(note.contains("| 1 | 9 | 0 | 8 | step "), "{note}");
        assert!(note.contains("layer "), "{note}");
        assert!(!note.contains("no divergence on rerun"), "{note}");
        let calm = meta_train(&specs_for_calm(), &synthetic_pool(), None, None).unwrap();
        let groups = by_variant(calm, 2);
        assert!(
            divergence::analysis(
                &["F^pool".into()],
                &groups,
                &specs_for_calm(),
                &synthetic_pool()
            )
            .unwrap()
            .is_none()
        );
    }

    fn specs_for_calm() -> Vec<RunSpec> {
        let mut specs = specs(5);
        for spec in &mut specs {
            spec.config.rule = RuleFamily::PseudoGradient;
            spec.config.optimizer.l1 = 0.0;
        }
        specs
    }

    #[test]
    fn interrupted_and_resumed_run_matches_an_uninterrupted_one_bitwise() {
        check_resume(&specs(5), "resume");
    }

    #[test]
    fn interrupted_and_resumed_reverse_mode_run_matches_too() {
        let mut specs = specs(5);
        for spec in &mut specs {
            spec.config.optimizer.gradient = GradientMode::Reverse;
        }
        check_resume(&specs, "resume-reverse");
    }

    #[test]
    fn reverse_mode_checkpoints_elsewhere() {
        let ctx = |quick, gradient| Context {
            seed: 3,
            quick,
            resume: false,
            gradient,
            seeds: None,
            protocol: Protocol::Project,
            overrides: Default::default(),
            ..Context::new(crate::project_root(), None)
        };
        let leaf = |ctx: &Context| {
            Checkpointing::for_experiment(ctx, "meta-pool", ctx.gradient)
                .dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(leaf(&ctx(true, GradientMode::Forward)), "seed-3-quick");
        assert_eq!(leaf(&ctx(false, GradientMode::Forward)), "seed-3-full");
        assert_eq!(
            leaf(&ctx(true, GradientMode::Reverse)),
            "seed-3-quick-reverse"
        );
        assert_eq!(
            leaf(&ctx(false, GradientMode::Reverse)),
            "seed-3-full-reverse"
        );
        let faithful = Context {
            protocol: Protocol::Faithful,
            ..ctx(false, GradientMode::Reverse)
        };
        assert_eq!(leaf(&faithful), "seed-3-full-reverse-faithful");
    }

    #[test]
    fn the_faithful_protocol_samples_like_the_published_code_and_detaches_bp() {
        use feedback_alignment::FeedbackKind;
        use meta_plasticity::RuleFamily;
        let mut bp = MetaConfig::paper(RuleFamily::PseudoGradient, FeedbackKind::Backprop);
        let mut fa = MetaConfig::paper(RuleFamily::Bio, FeedbackKind::Fixed);
        let (bp0, fa0) = (bp.clone(), fa.clone());
        Protocol::Project.apply(&mut bp);
        Protocol::Project.apply(&mut fa);
        assert_eq!(
            (&bp, &fa),
            (&bp0, &fa0),
            "the project protocol is the default"
        );
        Protocol::Faithful.apply(&mut bp);
        Protocol::Faithful.apply(&mut fa);
        assert!(bp.episode.faithful && bp.detach_backprop_feedback);
        assert!(fa.episode.faithful && !fa.detach_backprop_feedback);
        assert!(bp.validate().is_ok() && fa.validate().is_ok());
    }

    /// Runs `specs` uninterrupted, then killed after 5 episodes and resumed, and checks that
    /// both end with the same Θ and history, bit for bit.
    fn check_resume(specs: &[RunSpec], name: &str) {
        let pool = synthetic_pool();
        let uninterrupted = meta_train(specs, &pool, None, None).unwrap();
        let dir = scratch(name);
        let mut ck = Checkpointing {
            dir: dir.clone(),
            every: 2,
            resume: false,
        };
        // "Kill" after 5 episodes: the callback stops every run there, after checkpointing.
        let partial = meta_train(specs, &pool, Some(&ck), Some(5)).unwrap();
        assert!(partial.iter().all(|f| f.history.len() == 5));
        ck.resume = true;
        let resumed = meta_train(specs, &pool, Some(&ck), None).unwrap();
        for (a, b) in uninterrupted.iter().zip(&resumed) {
            assert_eq!(b.resumed_at, 5);
            let bits = |theta: &[f64; N_TERMS]| theta.map(f64::to_bits);
            assert_eq!(bits(&a.theta), bits(&b.theta));
            assert_eq!(a.history, b.history);
        }
        // A finished run resumes to itself without running anything.
        let again = meta_train(specs, &pool, Some(&ck), None).unwrap();
        assert_eq!(again[0].resumed_at, 9);
        assert_eq!(again[0].history, uninterrupted[0].history);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_checkpoints_are_refused_and_left_untouched() {
        let pool = synthetic_pool();
        let dir = scratch("refuse");
        let ck = Checkpointing {
            dir: dir.clone(),
            every: 3,
            resume: true,
        };
        meta_train(&specs(5), &pool, Some(&ck), None).unwrap();
        let path = dir.join("pool-seed0.ckpt");
        let good = fs::read(&path).unwrap();
        let other_config = fs::read(dir.join("pool-seed1.ckpt")).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        // A file of the previous format (same bytes, version 02 in the magic).
        let mut older = good.clone();
        older[6..8].copy_from_slice(b"02");
        let cases: [(&str, Vec<u8>); 6] = [
            ("older format", older),
            ("truncated", good[..good.len() / 2].to_vec()),
            ("truncated header", good[..5].to_vec()),
            (
                "garbage",
                b"this is not a checkpoint at all, just text".to_vec(),
            ),
            ("flipped bit", flipped),
            ("other config", other_config),
        ];
        for (what, bytes) in cases {
            for resume in [true, false] {
                fs::write(&path, &bytes).unwrap();
                let ck = Checkpointing {
                    resume,
                    ..ck.clone()
                };
                let err = meta_train(&specs(5), &pool, Some(&ck), None)
                    .err()
                    .unwrap_or_else(|| panic!("{what} (resume {resume}) was accepted"));
                let message = format!("{err:#}");
                assert!(
                    message.contains(&path.display().to_string()),
                    "{what}: error does not name the file: {message}"
                );
                if what == "older format" {
                    assert!(
                        message.contains("checkpoint format 02, this build reads format 03"),
                        "{message}"
                    );
                }
                assert_eq!(fs::read(&path).unwrap(), bytes, "{what}: file was modified");
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn moving_average_is_trailing() {
        let ma = moving_average(&[1.0, 3.0, 5.0, 7.0], 2);
        assert_eq!(ma.map_bits(), [1.0, 2.0, 4.0, 6.0].map_bits());
    }

    trait MapBits {
        fn map_bits(&self) -> Vec<u64>;
    }

    impl MapBits for [f64] {
        fn map_bits(&self) -> Vec<u64> {
            self.iter().map(|v| v.to_bits()).collect()
        }
    }

    impl<const N: usize> MapBits for [f64; N] {
        fn map_bits(&self) -> Vec<u64> {
            self.iter().map(|v| v.to_bits()).collect()
        }
    }

    impl MapBits for Vec<f64> {
        fn map_bits(&self) -> Vec<u64> {
            self.iter().map(|v| v.to_bits()).collect()
        }
    }

    /// One command of `docs/results/README.md` (`--seeds 20`, full mode): its checkpoint
    /// folder and a digest of every run's config fingerprint (the key a checkpoint file is
    /// checked against), through the code path `reproduce` takes.
    fn planned_checkpoints(
        experiment: &str,
        seed: u64,
        gradient: GradientMode,
        protocol: Protocol,
        config_file: Option<&str>,
    ) -> (String, String) {
        use sha2::{Digest, Sha256};
        let ctx = Context {
            seed,
            gradient,
            seeds: Some(20),
            protocol,
            overrides: crate::reproduce::config::Overrides {
                print: false,
                file: config_file.map(|file| crate::project_root().join(file)),
                sets: Vec::new(),
            },
            ..Context::new(crate::project_root(), None)
        };
        let (variants, n_seeds) = match experiment {
            "meta-baselines" => super::baselines::planned(&ctx),
            "meta-mechanisms" => super::mechanisms::planned(&ctx),
            "meta-transfer" => super::transfer::planned(&ctx),
            "meta-pool" => super::pool::planned(&ctx),
            other => panic!("not a meta experiment: {other}"),
        }
        .unwrap();
        let specs = specs_for(&variants, n_seeds, ctx.seed);
        let mode = specs[0].config.gradient_mode();
        assert!(
            specs
                .iter()
                .all(|spec| spec.config.optimizer.gradient == mode),
            "every run carries the resolved mode"
        );
        let leaf = Checkpointing::for_experiment(&ctx, experiment, mode)
            .dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let fingerprints: Vec<String> = specs
            .iter()
            .map(|spec| format!("{}:{:016x}", spec.variant, spec.config.fingerprint()))
            .collect();
        let digest = Sha256::digest(fingerprints.join(",").as_bytes());
        let digest: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        (leaf, digest)
    }

    /// The commands behind the kept reports, and the same commands under `--gradient auto`,
    /// resolve to the checkpoint folders and run fingerprints they had before `auto` existed
    /// (values computed at the commit before it; the folders are those in
    /// `target/neuromol-cache/meta-checkpoints/`). The stabilised variant's fingerprints are
    /// those before its data-measured preconditioning.
    #[test]
    fn kept_reports_commands_resolve_to_their_checkpoints() {
        use GradientMode::{Auto, Forward, Reverse};
        let (faithful, project) = (Protocol::Faithful, Protocol::Project);
        let stabilised = Some("configs/meta-pool-stabilised.toml");
        let cases = [
            (
                "meta-baselines",
                0,
                faithful,
                None,
                [Forward, Auto],
                "seed-0-full-faithful",
                "2048060b15d4",
            ),
            (
                "meta-mechanisms",
                0,
                faithful,
                None,
                [Forward, Auto],
                "seed-0-full-faithful",
                "a001d9c92703",
            ),
            (
                "meta-baselines",
                0,
                project,
                None,
                [Forward, Auto],
                "seed-0-full",
                "5a62fa582dbc",
            ),
            (
                "meta-mechanisms",
                0,
                project,
                None,
                [Forward, Auto],
                "seed-0-full",
                "bf3e0d8b87e4",
            ),
            (
                "meta-transfer",
                0,
                project,
                None,
                [Forward, Auto],
                "seed-0-full",
                "f3dc3b125d58",
            ),
            (
                "meta-pool",
                0,
                project,
                None,
                [Reverse, Auto],
                "seed-0-full-reverse",
                "65960235c801",
            ),
            (
                "meta-pool",
                1,
                project,
                None,
                [Reverse, Auto],
                "seed-1-full-reverse",
                "d79b170563ad",
            ),
            (
                "meta-pool",
                0,
                project,
                stabilised,
                [Reverse, Auto],
                "seed-0-full-reverse-variant-a9b30fa4dceb",
                "6913cee77ce8",
            ),
        ];
        for (experiment, seed, protocol, file, modes, leaf, digest) in cases {
            for gradient in modes {
                assert_eq!(
                    planned_checkpoints(experiment, seed, gradient, protocol, file),
                    (leaf.to_string(), digest.to_string()),
                    "{experiment} --seed {seed} --gradient {gradient:?} --protocol {protocol:?} --config {file:?}"
                );
            }
        }
        // Forward mode for meta-pool stays where it was too.
        assert_eq!(
            planned_checkpoints("meta-pool", 0, Forward, project, None).0,
            "seed-0-full"
        );
    }

    /// Every meta-* experiment, once configured, can key its unit files (`--shard`, `--merge`
    /// need the effective configuration), and a `--set` that changes the configuration changes
    /// the key.
    #[test]
    fn configured_meta_experiments_key_their_units() {
        for experiment in [
            "meta-baselines",
            "meta-mechanisms",
            "meta-transfer",
            "meta-pool",
        ] {
            let key = |sets: Vec<String>| {
                let ctx = Context {
                    quick: true,
                    overrides: crate::reproduce::config::Overrides {
                        print: false,
                        file: None,
                        sets,
                    },
                    ..Context::new(crate::project_root(), None)
                };
                match experiment {
                    "meta-baselines" => super::baselines::planned(&ctx).map(drop),
                    "meta-mechanisms" => super::mechanisms::planned(&ctx).map(drop),
                    "meta-transfer" => super::transfer::planned(&ctx).map(drop),
                    _ => super::pool::planned(&ctx).map(drop),
                }
                .unwrap();
                ctx.run_key(experiment)
                    .unwrap_or_else(|err| panic!("{experiment}: {err:#}"))
                    .fingerprint
            };
            let default = key(Vec::new());
            assert_eq!(default, key(Vec::new()), "{experiment}: the key is stable");
            assert_ne!(
                default,
                key(vec!["n_seeds=3".to_string()]),
                "{experiment}: a changed configuration changes the key"
            );
        }
    }

    /// Checkpoints store the mode by its position (bincode): `Forward` and `Reverse` keep the
    /// positions they were written with before `Auto` was added.
    #[test]
    fn gradient_modes_keep_their_checkpoint_encoding() {
        let encode = |mode: GradientMode| {
            bincode::serde::encode_to_vec(mode, bincode::config::standard()).unwrap()
        };
        assert_eq!(encode(GradientMode::Forward), [0]);
        assert_eq!(encode(GradientMode::Reverse), [1]);
    }
}

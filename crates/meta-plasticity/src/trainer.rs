//! The meta-training loop: episodes, Adam + L1 on Θ, per-episode statistics and checkpoints.

use std::ops::ControlFlow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use feedback_alignment::{Feedback, FeedbackKind, alignment_angles, orthonormality_errors};
use linalg::{
    Float,
    rng::{Stream, for_item},
};
use plasticity_core::{Mlp, N_TERMS};

use crate::{
    Adam, Error, GradientMode, ImagePool, InnerLoop, MetaConfig, OnDivergence, Pathway, Phase,
    Result, Sample, eligible_classes, meta_gradient, meta_gradient_reverse, sample_task,
};

/// Item offset of meta-test episodes in the per-episode RNG streams, so that meta-test episode
/// `i` never shares a draw with meta-training episode `i`.
const META_TEST_ITEM_OFFSET: u64 = 1 << 40;

/// Version of the [`MetaState`] layout; bumped when its fields change.
const STATE_VERSION: u32 = 1;

/// What one episode produced, handed to the `on_episode` callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeStats {
    /// Episode index (0-based).
    pub episode: usize,
    /// Meta-training or meta-testing classes.
    pub phase: Phase,
    /// The classes of the task, in draw order.
    pub classes: Vec<usize>,
    /// Query accuracy after the online pass [B §Results, Fig. 3a].
    pub query_accuracy: f64,
    /// Mean query cross-entropy after the online pass [B §Results, Fig. 3b].
    pub query_loss: f64,
    /// `query_loss + λ Σ_r s_r |θ_r|` with the Θ of this episode (`s_r` the optimiser's
    /// [`term_scales`](crate::MetaOptimizerConfig::term_scales), 1 without).
    pub meta_loss: f64,
    /// The Θ the episode ran with (before its meta-update) [B §Results, Fig. 3c].
    pub theta: [f64; N_TERMS],
    /// `dL_query/dθ_r` (without the penalty); zeros when no gradient was asked for.
    pub gradient: [f64; N_TERMS],
    /// `α_ℓ` for ℓ = 0..=L in degrees on the query set after the online pass; `None` where a
    /// mean error is zero; empty without diagnostics [B §Results, Fig. 4c; digest §1.7].
    pub alignment_angles: Vec<Option<f64>>,
    /// `E_W` per weight layer on the query set after the online pass; empty without
    /// diagnostics [B §Results, Eqs. 11–12].
    pub orthonormality: Vec<f64>,
}

impl EpisodeStats {
    /// Whether the episode's inner loop diverged (then skipped, retreated or shrunk, see
    /// [`OnDivergence`]): its query loss is NaN.
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::{EpisodeStats, Phase};
    /// let stats = EpisodeStats {
    ///     episode: 0,
    ///     phase: Phase::MetaTrain,
    ///     classes: Vec::new(),
    ///     query_accuracy: 0.0,
    ///     query_loss: f64::NAN,
    ///     meta_loss: f64::NAN,
    ///     theta: [0.0; 10],
    ///     gradient: [0.0; 10],
    ///     alignment_angles: Vec::new(),
    ///     orthonormality: Vec::new(),
    /// };
    /// assert!(stats.is_diverged());
    /// ```
    pub fn is_diverged(&self) -> bool {
        self.query_loss.is_nan()
    }
}

/// Everything a meta-training run needs to continue bit-identically, for checkpoints (xtask
/// writes it with bincode).
///
/// No RNG positions are stored because none exist between episodes: every random draw of
/// episode `i` (task, shuffle, `W`, `B`) comes from generators derived from `(seed, i)` alone
/// (`linalg::rng::for_item`), so `next_episode` is the whole random state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaState {
    /// Layout version of this struct.
    pub version: u32,
    /// [`MetaConfig::fingerprint`] of the run's config.
    pub config_fingerprint: u64,
    /// The next episode to run (= episodes completed).
    pub next_episode: usize,
    /// Θ.
    pub theta: [f64; N_TERMS],
    /// Adam's moments and step count.
    pub adam: Adam,
}

/// Meta-trains Θ one episode at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaTrainer {
    config: MetaConfig,
    fingerprint: u64,
    plastic: [bool; N_TERMS],
    theta: [f64; N_TERMS],
    adam: Adam,
    next_episode: usize,
}

impl MetaTrainer {
    /// A trainer at episode 0 with θ₀ = `config.theta0_init` and every other θ_r = 0.
    ///
    /// # Errors
    /// As [`MetaConfig::validate`].
    pub fn new(config: MetaConfig) -> Result<Self> {
        config.validate()?;
        let theta = config.initial_theta();
        Ok(MetaTrainer {
            fingerprint: config.fingerprint(),
            plastic: plastic_mask(&config),
            config,
            theta,
            adam: Adam::default(),
            next_episode: 0,
        })
    }

    /// Resumes from a checkpoint state.
    ///
    /// # Errors
    /// As [`MetaConfig::validate`]; [`Error::StateMismatch`] if the state was written under
    /// another config (fingerprint), has another layout version, is past the config's last
    /// episode, or holds a non-finite θ or a non-zero θ_r for a term that is not plastic.
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::{MetaConfig, MetaTrainer};
    /// let trainer = MetaTrainer::new(MetaConfig::default()).unwrap();
    /// let state = trainer.state();
    /// assert!(MetaTrainer::from_state(MetaConfig::default(), state.clone()).is_ok());
    /// let other = MetaConfig { seed: 9, ..MetaConfig::default() };
    /// assert!(MetaTrainer::from_state(other, state).is_err());
    /// ```
    pub fn from_state(config: MetaConfig, state: MetaState) -> Result<Self> {
        let mut trainer = MetaTrainer::new(config)?;
        let refuse = |reason: String| Err(Error::StateMismatch { reason });
        if state.version != STATE_VERSION {
            return refuse(format!(
                "layout version {} (this build reads {STATE_VERSION})",
                state.version
            ));
        }
        if state.config_fingerprint != trainer.fingerprint {
            return refuse(format!(
                "written under config {:016x}, resumed with config {:016x}",
                state.config_fingerprint, trainer.fingerprint
            ));
        }
        if state.next_episode > trainer.config.n_episodes {
            return refuse(format!(
                "next episode {} is past the config's {} episodes",
                state.next_episode, trainer.config.n_episodes
            ));
        }
        let values = state.theta.iter().chain(&state.adam.m).chain(&state.adam.v);
        if values.clone().any(|v| !v.is_finite()) {
            return refuse("non-finite Θ or Adam moment".to_string());
        }
        if let Some(r) = (0..N_TERMS).find(|&r| !trainer.plastic[r] && state.theta[r] != 0.0) {
            return refuse(format!(
                "θ{r} = {} but F{r} is not plastic in this config",
                state.theta[r]
            ));
        }
        trainer.theta = state.theta;
        trainer.adam = state.adam;
        trainer.next_episode = state.next_episode;
        Ok(trainer)
    }

    /// The checkpoint state after the episodes run so far.
    pub fn state(&self) -> MetaState {
        MetaState {
            version: STATE_VERSION,
            config_fingerprint: self.fingerprint,
            next_episode: self.next_episode,
            theta: self.theta,
            adam: self.adam.clone(),
        }
    }

    /// The config.
    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    /// The current Θ.
    pub fn theta(&self) -> &[f64; N_TERMS] {
        &self.theta
    }

    /// The next episode index (= episodes completed).
    pub fn next_episode(&self) -> usize {
        self.next_episode
    }

    /// Whether all `config.n_episodes` episodes have run.
    pub fn is_done(&self) -> bool {
        self.next_episode >= self.config.n_episodes
    }

    /// Runs episode `next_episode()` on meta-training classes and applies its meta-update to Θ.
    /// On error nothing changes.
    ///
    /// A diverged inner loop is handled by `config.optimizer.on_divergence` ([`OnDivergence`]).
    ///
    /// # Errors
    /// As [`run_episode`] (for [`Error::Diverged`] only under [`OnDivergence::Fail`]);
    /// [`Error::NonFiniteTheta`] if the update made a θ_r non-finite.
    pub fn step<T: Float>(&mut self, pool: &ImagePool) -> Result<EpisodeStats> {
        let episode_idx = self.next_episode;
        let outcome = run_episode::<T>(
            &self.config,
            pool,
            &self.theta,
            episode_idx,
            Phase::MetaTrain,
            true,
        );
        let stats = match (outcome, self.config.optimizer.on_divergence) {
            (Err(Error::Diverged { .. }), OnDivergence::Skip) => {
                return Ok(self.diverged(episode_idx));
            }
            (Err(Error::Diverged { .. }), OnDivergence::Retreat) => {
                let stats = self.diverged(episode_idx);
                // One lr in φ_r = s_r θ_r is lr / s_r in θ_r (s_r = 1 without term scales).
                let scales = self.config.optimizer.scales();
                // The rate the next update would take (`lr` under the constant schedule).
                let rate = self.config.optimizer.lr_at(self.adam.t + 1);
                for r in (1..N_TERMS).filter(|&r| self.plastic[r]) {
                    let lr = rate / scales[r];
                    let t = self.theta[r];
                    self.theta[r] = if t.abs() <= lr {
                        0.0
                    } else {
                        t - lr * t.signum()
                    };
                }
                self.adam.m = [0.0; N_TERMS];
                return Ok(stats);
            }
            (Err(Error::Diverged { .. }), OnDivergence::Shrink { factor }) => {
                let stats = self.diverged(episode_idx);
                for r in (0..N_TERMS).filter(|&r| self.plastic[r]) {
                    self.theta[r] *= factor;
                }
                self.adam.m = [0.0; N_TERMS];
                return Ok(stats);
            }
            (outcome, _) => outcome?,
        };
        let mut gradient = stats.gradient;
        if let Some(clip) = self.config.optimizer.clip_norm {
            // The norm of the gradient in φ_r = s_r θ_r (in θ without term scales); scaling
            // the θ-gradient by the clip factor scales the φ-gradient by the same factor.
            let scales = self.config.optimizer.scales();
            let norm = (0..N_TERMS)
                .filter(|&r| self.plastic[r])
                .map(|r| {
                    let g = gradient[r] / scales[r];
                    g * g
                })
                .sum::<f64>()
                .sqrt();
            if norm > clip {
                gradient = gradient.map(|g| g * (clip / norm));
            }
        }
        let mut theta = self.theta;
        let mut adam = self.adam.clone();
        adam.step(&mut theta, &gradient, &self.plastic, &self.config.optimizer);
        if let Some(term) = theta.iter().position(|t| !t.is_finite()) {
            return Err(Error::NonFiniteTheta {
                episode: episode_idx,
                term,
            });
        }
        self.theta = theta;
        self.adam = adam;
        self.next_episode += 1;
        Ok(stats)
    }

    /// The record of diverged episode `episode_idx` (run with the current Θ), moving the episode
    /// counter on; Θ and Adam are the caller's business.
    fn diverged(&mut self, episode_idx: usize) -> EpisodeStats {
        self.next_episode += 1;
        EpisodeStats {
            episode: episode_idx,
            phase: Phase::MetaTrain,
            classes: Vec::new(),
            // A network that outputs NaN or ∞ classifies nothing correctly.
            query_accuracy: 0.0,
            query_loss: f64::NAN,
            meta_loss: f64::NAN,
            theta: self.theta,
            gradient: [0.0; N_TERMS],
            alignment_angles: Vec::new(),
            orthonormality: Vec::new(),
        }
    }

    /// Runs episodes until `config.n_episodes` or until `on_episode` breaks. The callback sees
    /// the episode's statistics and the trainer after its meta-update (so it may checkpoint
    /// [`MetaTrainer::state`]).
    ///
    /// # Errors
    /// As [`MetaTrainer::step`].
    pub fn run<T: Float>(
        &mut self,
        pool: &ImagePool,
        mut on_episode: impl FnMut(&EpisodeStats, &MetaTrainer) -> ControlFlow<()>,
    ) -> Result<()> {
        while !self.is_done() {
            let stats = self.step::<T>(pool)?;
            if on_episode(&stats, self).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Meta-trains from scratch for `config.n_episodes` episodes (or until `on_episode` breaks)
/// and returns the trainer.
///
/// # Errors
/// As [`MetaTrainer::new`] and [`MetaTrainer::step`].
///
/// # Example
/// ```
/// use std::ops::ControlFlow;
/// use feedback_alignment::FeedbackKind;
/// use meta_plasticity::{ImagePool, MetaConfig, RuleFamily};
/// use plasticity_core::MlpConfig;
/// let labels: Vec<usize> = (0..40).map(|i| i % 4).collect();
/// let pixels: Vec<f32> = (0..80).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
/// let pool = ImagePool::new(2, pixels, labels).unwrap();
/// let mut config = MetaConfig::paper(RuleFamily::Bio, FeedbackKind::Fixed);
/// config.mlp = MlpConfig { sizes: vec![2, 6, 4], ..MlpConfig::default() };
/// config.episode.n_ways = 2;
/// config.episode.n_train_per_class = 3;
/// config.episode.n_query_per_class = 2;
/// config.n_episodes = 3;
/// let mut losses = Vec::new();
/// let trainer = meta_plasticity::train::<f32>(config, &pool, |stats| {
///     losses.push(stats.query_loss);
///     ControlFlow::Continue(())
/// })
/// .unwrap();
/// assert_eq!((losses.len(), trainer.next_episode()), (3, 3));
/// ```
pub fn train<T: Float>(
    config: MetaConfig,
    pool: &ImagePool,
    mut on_episode: impl FnMut(&EpisodeStats) -> ControlFlow<()>,
) -> Result<MetaTrainer> {
    let mut trainer = MetaTrainer::new(config)?;
    trainer.run::<T>(pool, |stats, _| on_episode(stats))?;
    Ok(trainer)
}

/// Runs several independent trainers (seeds, rule families; fresh or resumed) to completion in
/// parallel on rayon's pool, one trainer per task, and returns them in input order.
///
/// Each trainer's trajectory depends only on its own config and state, so the results are
/// bit-identical at any thread count (test `parallel_runs_match_sequential_runs_bitwise`).
/// `on_episode` receives the trainer's index; it runs on worker threads, hence `Fn + Sync`
/// (use a mutex or channel to print or to write checkpoints).
///
/// # Errors
/// Each entry carries its own trainer's error (as [`MetaTrainer::step`]).
///
/// # Example
/// ```
/// use std::ops::ControlFlow;
/// use meta_plasticity::MetaTrainer;
/// use feedback_alignment::FeedbackKind;
/// use meta_plasticity::{ImagePool, MetaConfig, RuleFamily};
/// use plasticity_core::MlpConfig;
/// let labels: Vec<usize> = (0..40).map(|i| i % 4).collect();
/// let pixels: Vec<f32> = (0..80).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
/// let pool = ImagePool::new(2, pixels, labels).unwrap();
/// let mut config = MetaConfig::paper(RuleFamily::Bio, FeedbackKind::Fixed);
/// config.mlp = MlpConfig { sizes: vec![2, 6, 4], ..MlpConfig::default() };
/// config.episode.n_ways = 2;
/// config.episode.n_train_per_class = 3;
/// config.episode.n_query_per_class = 2;
/// config.n_episodes = 2;
/// let trainers = (0..2)
///     .map(|seed| MetaTrainer::new(MetaConfig { seed, ..config.clone() }).unwrap())
///     .collect();
/// let done = meta_plasticity::run_parallel::<f32>(trainers, &pool, |_, _, _| ControlFlow::Continue(()));
/// assert!(done.iter().all(|t| t.as_ref().unwrap().is_done()));
/// ```
pub fn run_parallel<T: Float>(
    trainers: Vec<MetaTrainer>,
    pool: &ImagePool,
    on_episode: impl Fn(usize, &EpisodeStats, &MetaTrainer) -> ControlFlow<()> + Sync,
) -> Vec<Result<MetaTrainer>> {
    trainers
        .into_par_iter()
        .enumerate()
        .map(|(idx, mut trainer)| {
            trainer.run::<T>(pool, |stats, state| on_episode(idx, stats, state))?;
            Ok(trainer)
        })
        .collect()
}

/// One episode with fixed Θ: draws the task of episode `episode_idx` from the classes of
/// `phase`, fresh Xavier-uniform `W` (and `B` for feedback alignment), learns the training
/// images online, and scores the query images; with `with_gradient` also the exact
/// `dL_query/dΘ` over the plastic terms (otherwise no tangents are carried).
///
/// All randomness comes from `linalg::rng::for_item(config.seed, stream, item)` with
/// `item = episode_idx` (meta-test: offset by 2⁴⁰) and the streams `Episode` (meta-test:
/// `Evaluation`) for the task and its shuffle, `Init` for `W`, `Feedback` for `B`.
///
/// # Errors
/// [`Error::InvalidConfig`] via the config; [`Error::Data`] if the pool's images do not have
/// `n₀` pixels, a label has no output unit, or the phase has too few classes;
/// [`Error::Diverged`] naming the episode and step.
///
/// # Example
/// ```
/// use meta_plasticity::{run_episode, Phase};
/// use feedback_alignment::FeedbackKind;
/// use meta_plasticity::{ImagePool, MetaConfig, RuleFamily};
/// use plasticity_core::MlpConfig;
/// let labels: Vec<usize> = (0..40).map(|i| i % 4).collect();
/// let pixels: Vec<f32> = (0..80).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
/// let pool = ImagePool::new(2, pixels, labels).unwrap();
/// let mut config = MetaConfig::paper(RuleFamily::Bio, FeedbackKind::Fixed);
/// config.mlp = MlpConfig { sizes: vec![2, 6, 4], ..MlpConfig::default() };
/// config.episode.n_ways = 2;
/// config.episode.n_train_per_class = 3;
/// config.episode.n_query_per_class = 2;
/// config.episode.held_out_classes = vec![2, 3];
/// // A rule evaluated on held-out classes, without tangents.
/// let stats = run_episode::<f32>(&config, &pool, &config.initial_theta(), 0, Phase::MetaTest, false).unwrap();
/// assert!(stats.classes.iter().all(|c| *c >= 2));
/// assert_eq!(stats.alignment_angles.len(), 3);
/// ```
pub fn run_episode<T: Float>(
    config: &MetaConfig,
    pool: &ImagePool,
    theta: &[f64; N_TERMS],
    episode_idx: usize,
    phase: Phase,
    with_gradient: bool,
) -> Result<EpisodeStats> {
    let setup = EpisodeSetup::<T>::new(config, pool, episode_idx, phase)?;
    let sizes = &config.mlp.sizes;
    let inner = &setup.inner;
    let (train, query) = (setup.train(), setup.query());

    let terms = if with_gradient {
        config.rule.terms()
    } else {
        Vec::new()
    };
    let plastic = plastic_mask(config);
    if let Some(r) = (0..N_TERMS).find(|&r| !plastic[r] && theta[r] != 0.0) {
        return Err(Error::InvalidConfig {
            field: "theta",
            reason: format!("θ{r} = {} but F{r} is not plastic", theta[r]),
        });
    }
    let gradient_of = match config.gradient_mode() {
        GradientMode::Forward | GradientMode::Auto => meta_gradient::<T>,
        GradientMode::Reverse => meta_gradient_reverse::<T>,
    };
    let outcome = gradient_of(inner, &terms, theta, &train, &query)
        .map_err(|err| err.at_episode(episode_idx))?;

    let (alignment, orthonormality) = if config.diagnostics {
        let adapted = Mlp::from_weights(outcome.weights.clone(), config.mlp.beta)?;
        let mut feedback = match &inner.pathway {
            Pathway::Fixed(matrices) => {
                Feedback::from_matrices(FeedbackKind::Fixed, sizes, matrices.clone())?
            }
            Pathway::Backprop | Pathway::BackpropDetached => Feedback::backprop(sizes),
        };
        let angles = alignment_angles(&adapted, &mut feedback, query.iter().copied())?;
        let e_w = orthonormality_errors(&adapted, query.iter().map(|&(x, _)| x))?;
        (angles, e_w)
    } else {
        (Vec::new(), Vec::new())
    };
    // λ Σ_r s_r |θ_r| = λ Σ_r |φ_r| (s_r = 1 without term scales).
    let scales = config.optimizer.scales();
    let penalty: f64 = (0..N_TERMS)
        .filter(|&r| plastic[r])
        .map(|r| scales[r] * theta[r].abs())
        .sum::<f64>()
        * config.optimizer.l1;
    Ok(EpisodeStats {
        episode: episode_idx,
        phase,
        classes: setup.classes,
        query_accuracy: outcome.query_accuracy,
        query_loss: outcome.query_loss,
        meta_loss: outcome.query_loss + penalty,
        theta: *theta,
        gradient: outcome.gradient,
        alignment_angles: alignment,
        orthonormality,
    })
}

/// The draws of one episode (task, initial `W`, feedback) and its samples, shared by
/// [`run_episode`] and [`episode_term_norms`](crate::episode_term_norms) so that both see the
/// same episode.
pub(crate) struct EpisodeSetup<T: Float> {
    /// The task's classes, in draw order.
    pub(crate) classes: Vec<usize>,
    /// Initial weights and feedback.
    pub(crate) inner: InnerLoop<T>,
    n_pixels: usize,
    train_inputs: Vec<T>,
    train_labels: Vec<usize>,
    query_inputs: Vec<T>,
    query_labels: Vec<usize>,
}

impl<T: Float> EpisodeSetup<T> {
    /// Validates `config` and the pool, then draws episode `episode_idx` of `phase` (see
    /// [`run_episode`] for the streams).
    pub(crate) fn new(
        config: &MetaConfig,
        pool: &ImagePool,
        episode_idx: usize,
        phase: Phase,
    ) -> Result<Self> {
        config.validate()?;
        let sizes = &config.mlp.sizes;
        let n_outputs = *sizes.last().expect("validated: at least two widths");
        if pool.n_pixels() != sizes[0] {
            return Err(Error::Data {
                reason: format!(
                    "images have {} pixels, the network {} inputs",
                    pool.n_pixels(),
                    sizes[0]
                ),
            });
        }
        if pool.n_classes() > n_outputs {
            return Err(Error::Data {
                reason: format!(
                    "label {} has no output unit ({n_outputs} outputs)",
                    pool.n_classes() - 1
                ),
            });
        }
        let (item, task_stream) = match phase {
            Phase::MetaTrain => (episode_idx as u64, Stream::Episode),
            Phase::MetaTest => (
                episode_idx as u64 + META_TEST_ITEM_OFFSET,
                Stream::Evaluation,
            ),
        };
        let classes = eligible_classes(pool, &config.episode, phase)?;
        let task = sample_task(
            pool,
            &classes,
            &config.episode,
            &mut for_item(config.seed, task_stream, item),
        )?;
        let net = Mlp::<T>::new(&config.mlp, &mut for_item(config.seed, Stream::Init, item))?;
        let pathway = match config.feedback {
            FeedbackKind::Fixed => {
                let feedback = Feedback::<T>::new(
                    FeedbackKind::Fixed,
                    sizes,
                    1.0,
                    &mut for_item(config.seed, Stream::Feedback, item),
                )?;
                Pathway::Fixed(feedback.matrices().to_vec())
            }
            _ if config.detach_backprop_feedback => Pathway::BackpropDetached,
            _ => Pathway::Backprop,
        };
        let gather = |indices: &[usize]| -> Vec<T> {
            indices
                .iter()
                .flat_map(|&idx| pool.image(idx).iter().map(|&p| T::of_f64(f64::from(p))))
                .collect()
        };
        let labels = |indices: &[usize]| -> Vec<usize> {
            indices.iter().map(|&idx| pool.label(idx)).collect()
        };
        Ok(EpisodeSetup {
            inner: InnerLoop {
                weights: net.weights().to_vec(),
                pathway,
                beta: config.mlp.beta,
            },
            n_pixels: pool.n_pixels(),
            train_inputs: gather(&task.train),
            train_labels: labels(&task.train),
            query_inputs: gather(&task.query),
            query_labels: labels(&task.query),
            classes: task.classes,
        })
    }

    /// The training samples in presentation order.
    pub(crate) fn train(&self) -> Vec<Sample<'_, T>> {
        samples(&self.train_inputs, &self.train_labels, self.n_pixels)
    }

    /// The query samples.
    pub(crate) fn query(&self) -> Vec<Sample<'_, T>> {
        samples(&self.query_inputs, &self.query_labels, self.n_pixels)
    }
}

fn samples<'a, T: Float>(inputs: &'a [T], labels: &[usize], n_pixels: usize) -> Vec<Sample<'a, T>> {
    inputs
        .chunks_exact(n_pixels)
        .zip(labels)
        .map(|(x, &label)| (x, label))
        .collect()
}

fn plastic_mask(config: &MetaConfig) -> [bool; N_TERMS] {
    let mut mask = [false; N_TERMS];
    for term in config.rule.terms() {
        mask[term.index()] = true;
    }
    mask
}

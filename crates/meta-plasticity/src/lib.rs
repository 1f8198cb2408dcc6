//! Meta-learning of plasticity-rule coefficients Θ (paper B).
//!
//! Paper B is Shervani-Tabar & Rosenbaum, "Meta-learning biologically plausible plasticity
//! rules with random feedback pathways", Nat. Commun. 14:1805 (2023). An episode draws a 5-way
//! task (50 training + 10 query images per class), re-initialises the network and its feedback
//! matrices, learns the 250 training images online (batch 1, one pass) under the rule
//! `ΔW = Σ_r θ_r F^r`, and scores the query images; Adam with an L1 penalty then moves Θ along
//! the exact gradient of the query loss through all 250 updates. This crate owns
//!
//! - [`ImagePool`], [`sample_task`] and [`Phase`]: tasks from an in-memory pool (no I/O), with
//!   a `faithful` mode that reproduces the original code's sampling and held-out classes for
//!   meta-testing;
//! - [`meta_gradient`]: the inner loop and its exact meta-gradient by forward-mode tangents, and
//!   [`meta_gradient_reverse`]: the same gradient by reverse mode with checkpointed weights,
//!   whose cost does not grow with the number of terms ([`GradientMode`] picks one);
//! - [`MetaTrainer`], [`train`], [`run_parallel`] and [`run_episode`]: the meta-optimiser
//!   (Adam + L1, [`Adam`]), per-episode statistics through a callback, checkpoint states
//!   ([`MetaState`]) from which a run resumes bit-identically, and independent runs (seeds) in
//!   parallel;
//! - [`term_norms`], [`episode_term_norms`] and [`TermNorms`]: the typical size of every term
//!   `F^r` along an inner loop, from which the optimiser's per-term preconditioning
//!   ([`MetaOptimizerConfig::term_scales`]) is set.
//!
//! Layer: depends on `feedback-alignment` (the alignment and orthonormality diagnostics, the
//! feedback kind), `plasticity-core` (the term enumeration [`plasticity_core::Term`] and
//! [`plasticity_core::MlpConfig`]) and `linalg`.
//!
//! The central design decision is forward mode. Θ has at most ten entries, so the loop carries
//! one weight-sized tangent `∂W/∂θ_r` per plastic term instead of taping 250 steps: memory is
//! `O(R·|W|)` (7 MB for the paper's net and all ten terms) and independent of the number of
//! steps, and the gradient is exact, not truncated. The `R` tangents of a layer are stacked into
//! one matrix, so that each step is one fused pass per layer (`linalg::stacked`: update `W` and
//! every tangent, then the next sample's forward product, while the column is in cache). The
//! inner loop is written here rather than reusing `plasticity_core::Mlp::apply_rules`, because
//! every intermediate of the step needs its tangent; the test `primal_matches_plasticity_core`
//! checks that both compute the same update.
//!
//! ```
//! use feedback_alignment::FeedbackKind;
//! use meta_plasticity::{ImagePool, MetaConfig, MetaTrainer, RuleFamily};
//! use plasticity_core::MlpConfig;
//!
//! // A toy pool: 4 classes of 8 two-pixel images.
//! let labels: Vec<usize> = (0..32).map(|i| i % 4).collect();
//! let pixels: Vec<f32> = (0..64).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
//! let pool = ImagePool::new(2, pixels, labels).unwrap();
//! let mut config = MetaConfig::paper(RuleFamily::Oja, FeedbackKind::Fixed);
//! config.mlp = MlpConfig { sizes: vec![2, 6, 4], ..MlpConfig::default() };
//! config.episode.n_ways = 2;
//! config.episode.n_train_per_class = 3;
//! config.episode.n_query_per_class = 2;
//! let mut trainer = MetaTrainer::new(config).unwrap();
//! let stats = trainer.step::<f64>(&pool).unwrap();
//! assert_eq!(stats.episode, 0);
//! assert_ne!(trainer.theta()[0], 1e-3); // Adam moved θ₀.
//! ```

mod adam;
mod config;
mod divergence;
mod episode;
mod error;
mod tangent;
mod term_norms;
mod trainer;

pub use crate::{
    adam::Adam,
    config::{
        EpisodeConfig, GradientMode, LrSchedule, MetaConfig, MetaOptimizerConfig, OnDivergence,
        RuleFamily,
    },
    divergence::{DivergenceSite, Quantity, divergence_site, episode_divergence_site},
    episode::{ImagePool, Phase, Task, eligible_classes, sample_task},
    error::{Error, Result},
    tangent::{InnerLoop, Pathway, Sample, UnrollOutcome, meta_gradient, meta_gradient_reverse},
    term_norms::{TermNorms, episode_term_norms, term_norms},
    trainer::{EpisodeStats, MetaState, MetaTrainer, run_episode, run_parallel, train},
};

//! Teaching signals and online trainers for biologically plausible learning.
//!
//! Paper B (Shervani-Tabar & Rosenbaum, Nat. Commun. 14:1805, 2023) trains a bias-free softplus
//! MLP online, one sample per update, with errors carried backwards either by the transposed
//! forward weights (backprop) or by fixed random matrices (feedback alignment, Lillicrap et al.
//! 2016). This crate owns
//!
//! - [`Feedback`] / [`FeedbackKind`]: backprop (`B = Wᵀ`), feedback alignment (fixed random
//!   Xavier-uniform `B`, drawn from its own RNG stream), direct feedback alignment and
//!   sign-symmetry; [`Feedback::teach`] fills a `plasticity_core::State`'s errors, including the
//!   synthetic input-layer error `e₀` when a rule needs it;
//! - [`online_step`] and [`train_online`] (batch 1, one pass, all layers updated from
//!   pre-update values) and [`train_minibatch`] (plain SGD, batch mean), reporting through
//!   callbacks and stopping with [`Error::Diverged`] on a NaN or an infinity;
//! - diagnostics: [`alignment_angles`], [`orthonormality_errors`] (E_W, Eqs. 11–12),
//!   [`layer_norms`], [`weight_norms`], [`effective_ranks`], and [`evaluate`] for test accuracy.
//!
//! Layer: depends on `plasticity-core` and `linalg`. The design decision is that a teaching
//! signal only *fills errors*; the weight update is always the rule of `plasticity-core`, so
//! "FA with `B = Wᵀ` is backprop" holds by construction and is tested exactly in `f64`.
//!
//! ```
//! use std::ops::ControlFlow;
//! use feedback_alignment::{train_online, Feedback, FeedbackKind};
//! use linalg::rng::{stream, Stream};
//! use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
//!
//! let config = MlpConfig { sizes: vec![2, 16, 2], ..MlpConfig::default() };
//! let mut net = Mlp::<f32>::new(&config, &mut stream(3, Stream::Init)).unwrap();
//! let mut fa = Feedback::new(FeedbackKind::Fixed, net.sizes(), 1.0, &mut stream(3, Stream::Feedback)).unwrap();
//! let data: Vec<([f32; 2], usize)> = (0..1000).map(|i| if i % 2 == 0 { ([1.0, 0.0], 0) } else { ([0.0, 1.0], 1) }).collect();
//! let rules = RuleSet::from(Rule::oja(0.05, 0.001));
//! let summary = train_online(&mut net, &mut fa, &rules, data.iter().map(|(x, y)| (&x[..], *y)), |_| ControlFlow::Continue(())).unwrap();
//! assert!(summary.online_accuracy > 0.8);
//! ```

mod error;
mod evaluate;
mod feedback;
mod metrics;
mod minibatch;
mod online;

pub use crate::{
    error::{Error, Result},
    evaluate::evaluate,
    feedback::{Feedback, FeedbackKind},
    metrics::{
        LayerNorms, alignment_angles, angle_degrees, effective_ranks, layer_norms,
        orthonormality_errors, weight_norms,
    },
    minibatch::{BatchStats, train_minibatch},
    online::{StepOutcome, StepStats, TrainSummary, online_step, train_online},
};

//! Bias-free softplus MLPs and the plasticity-rule term pool of paper B.
//!
//! Paper B is Shervani-Tabar & Rosenbaum, "Meta-learning biologically plausible plasticity
//! rules with random feedback pathways", Nat. Commun. 14:1805 (2023). This crate owns
//!
//! - [`Mlp`]: the multilayer perceptron of any depth and width, without biases, softplus(β)
//!   hidden layers and a softmax/cross-entropy output ([`MlpConfig`], paper default
//!   784-170-130-100-70-47, β = 10);
//! - [`State`]: the per-sample buffers `z_ℓ`, `y_ℓ`, `σ′(z_ℓ)`, `e_ℓ` (preallocated, so a step
//!   allocates nothing) with the error projection of Eq. 3 and the synthetic input-layer error
//!   `e₀` of Eq. 24 ([`State::project_error`]);
//! - [`Term`] (F0–F9, Eqs. 14–23), [`Rule`] (`Σ θ_r F_r`, Eq. 5) and [`RuleSet`] (one Θ shared
//!   by all layers, or one per layer), applied by [`Mlp::apply_rules`] (batch 1) or
//!   [`Mlp::accumulate_rules`] (mini-batches).
//!
//! Layer: depends on `linalg` only. Which teaching signal fills the errors (backprop, feedback
//! alignment, …) is the business of the `feedback-alignment` crate above; this crate only offers
//! the projection primitive.
//!
//! The central design decision is that a rule is applied *fused*: the ten terms are never
//! materialised as matrices. They are regrouped by their left vector into two rank-1 parts
//! (`e_ℓ rₑᵀ` and `y_ℓ r_yᵀ`), and the Oja correction `y_ℓ (Wᵀ y_ℓ)ᵀ` is computed column by
//! column inside the same single pass over `W` (`linalg::fused`). For FA + Oja at batch 1 a layer
//! costs one read of `W` in the forward pass and one read-write pass in the update. Everything is
//! generic over `linalg::Float`, so identities are tested exactly in `f64` while training runs in
//! `f32`.
//!
//! ```
//! use linalg::rng::{stream, Stream};
//! use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
//!
//! let config = MlpConfig { sizes: vec![4, 3, 2], ..MlpConfig::default() };
//! let mut net = Mlp::<f64>::new(&config, &mut stream(1, Stream::Init)).unwrap();
//! let mut state = net.new_state();
//! net.forward(&mut state, &[0.1, 0.2, 0.3, 0.4]).unwrap();
//! state.set_output_error(1).unwrap();
//! let w2 = net.weight(2).unwrap().clone();
//! state.project_error(1, 2, &w2).unwrap(); // backprop: B = Wᵀ
//! let before = state.cross_entropy(1).unwrap();
//! net.apply_rules(&mut state, &RuleSet::from(Rule::oja(0.5, 0.01))).unwrap();
//! net.forward(&mut state, &[0.1, 0.2, 0.3, 0.4]).unwrap();
//! assert!(state.cross_entropy(1).unwrap() < before);
//! ```

mod error;
mod mlp;
mod rule;
mod state;
mod update;

pub use crate::{
    error::{Error, Result},
    mlp::{HiddenActivation, Mlp, MlpConfig},
    rule::{N_TERMS, Rule, RuleSet, Term},
    state::State,
    update::Deltas,
};

//! Applying a rule: the fused batch-1 update and the accumulating (mini-batch) form.
//!
//! The ten terms are never materialised as ten `n × m` matrices. They share left vectors,
//! so for one layer
//!
//! ```text
//! ΔW = e rₑᵀ + y r_yᵀ − θ₃ W − θ₄ 1 eₚᵀ
//! rₑ = −(θ₀ + θ₅ Σy + θ₇ s) yₚ − θ₂ eₚ                 (F0, F2, F5, F7)
//! r_y = −(θ₁ + θ₆ s + θ₈ eᵀz) eₚ + θ₉ (yₚ − Wᵀ y)      (F1, F6, F8, F9)
//! s   = yᵀ W eₚ
//! ```
//!
//! and `linalg::fused::low_rank_update` applies the two rank-1 parts, the decay, and the
//! Oja projection `Wᵀ y` (computed column by column from the old `W`) in one pass over `W`.
//! Only `s` (F6, F7) needs `Wᵀ y` before the pass; then it is computed first with `gemv_t`.
//! `F4` (rare) is a separate pass. Every layer reads only its own pre-update `W` and the
//! state, so updating the layers one after the other equals updating them simultaneously.

use linalg::{
    Float, Matrix, Vector,
    fused::{LowRankUpdate, low_rank_update},
    kernels,
};

use crate::{Error, Mlp, Result, RuleSet, State, Term, rule::Rule};

/// Weight increments accumulated over a mini-batch, one matrix per weight layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Deltas<T: Float = f32> {
    matrices: Vec<Matrix<T>>,
}

impl<T: Float> Deltas<T> {
    /// Zero increments shaped like `net`'s weights.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::{Deltas, Mlp};
    /// let net = Mlp::from_weights(vec![Matrix::<f32>::zeros(3, 4)], 10.0).unwrap();
    /// assert_eq!(Deltas::zeros_like(&net).matrices()[0].shape(), (3, 4));
    /// ```
    pub fn zeros_like(net: &Mlp<T>) -> Self {
        Deltas {
            matrices: net
                .weights()
                .iter()
                .map(|w| Matrix::zeros(w.nrows(), w.ncols()))
                .collect(),
        }
    }

    /// Resets every increment to zero.
    pub fn clear(&mut self) {
        self.matrices.iter_mut().for_each(|m| m.fill(T::zero()));
    }

    /// The increments, `ΔW_{0,1}` first.
    pub fn matrices(&self) -> &[Matrix<T>] {
        &self.matrices
    }
}

impl<T: Float> Mlp<T> {
    /// Applies `ΔW_ℓ = Σ_r θ_r F^r_ℓ` to every weight layer from the state of the last sample
    /// (batch 1) [B §Methods, Eq. 5]. All layers use pre-update values. Allocates nothing.
    ///
    /// The state must hold a forward pass and every error the active terms read; see
    /// [`crate::Term::needs_error`] and [`crate::Term::needs_presynaptic_error`].
    ///
    /// # Errors
    /// [`Error::NonFiniteTheta`], [`Error::RuleCount`], [`Error::NoForwardPass`],
    /// [`Error::MissingError`] (e.g. a term that needs `e₀` when nobody computed it), or
    /// [`Error::ShapeMismatch`] for a state of another architecture. Nothing is updated on error.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::{Mlp, Rule, RuleSet};
    /// let mut net = Mlp::from_weights(vec![Matrix::<f64>::from_element(2, 3, 0.1)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[1.0, 0.5, 0.0]).unwrap();
    /// state.set_output_error(1).unwrap();
    /// net.apply_rules(&mut state, &RuleSet::from(Rule::pseudo_gradient(0.1))).unwrap();
    /// // e = (0.5, −0.5), so W[1, 0] grows by 0.1 · 0.5 · 1.
    /// assert!((net.weight(1).unwrap()[(1, 0)] - 0.15).abs() < 1e-12);
    /// ```
    pub fn apply_rules(&mut self, state: &mut State<T>, rules: &RuleSet) -> Result<()> {
        self.check_ready(state, rules)?;
        for (idx, w) in self.weights_mut().iter_mut().enumerate() {
            let layer = idx + 1;
            let rule = rules.for_layer(layer);
            if rule.is_zero() {
                continue;
            }
            let plan = prepare_layer(w, state, layer, rule, false);
            let (e, y) = (&state.e[layer], &state.y[layer]);
            let e_prev = &state.e[layer - 1];
            let first = plan.uses_error.then_some((e, &state.right_error[idx]));
            let second = plan
                .uses_activation
                .then_some((y, &state.right_activation[idx]));
            let projection = plan.projection.map(|gamma| (gamma, y));
            low_rank_update(
                w,
                &LowRankUpdate {
                    decay: plan.decay,
                    first,
                    second,
                    projection,
                },
            );
            if let Some(coef) = plan.pre_error_rows {
                let n_rows = w.nrows();
                add_to_columns(w.as_mut_slice(), n_rows, coef, e_prev);
            }
        }
        Ok(())
    }

    /// Adds `scale · Σ_r θ_r F^r_ℓ` (computed from the current weights and state) to `deltas`,
    /// for mini-batch learning: sum the samples of a batch with `scale = 1/B`, then call
    /// [`Mlp::add_deltas`]. Uses separate `gemv_t`/`ger` kernels (not fused).
    ///
    /// # Errors
    /// As [`Mlp::apply_rules`], and [`Error::ShapeMismatch`] if `deltas` belongs to another net.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::{Deltas, Mlp, Rule, RuleSet};
    /// let mut net = Mlp::from_weights(vec![Matrix::<f64>::from_element(2, 3, 0.1)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// let mut deltas = Deltas::zeros_like(&net);
    /// let rules = RuleSet::from(Rule::pseudo_gradient(0.1));
    /// for (x, label) in [([1.0, 0.0, 0.0], 0), ([0.0, 1.0, 0.0], 1)] {
    ///     net.forward(&mut state, &x).unwrap();
    ///     state.set_output_error(label).unwrap();
    ///     net.accumulate_rules(&mut state, &rules, 0.5, &mut deltas).unwrap(); // batch mean
    /// }
    /// net.add_deltas(&deltas, 1.0).unwrap();
    /// assert!(net.weight(1).unwrap()[(0, 0)] > 0.1 && net.weight(1).unwrap()[(1, 1)] > 0.1);
    /// ```
    pub fn accumulate_rules(
        &self,
        state: &mut State<T>,
        rules: &RuleSet,
        scale: T,
        deltas: &mut Deltas<T>,
    ) -> Result<()> {
        self.check_ready(state, rules)?;
        self.check_deltas(deltas)?;
        for (idx, w) in self.weights().iter().enumerate() {
            let layer = idx + 1;
            let rule = rules.for_layer(layer);
            if rule.is_zero() {
                continue;
            }
            let plan = prepare_layer(w, state, layer, rule, true);
            let delta = &mut deltas.matrices[idx];
            if plan.uses_error {
                kernels::ger(delta, scale, &state.e[layer], &state.right_error[idx]);
            }
            if plan.uses_activation {
                kernels::ger(delta, scale, &state.y[layer], &state.right_activation[idx]);
            }
            if plan.decay != T::one() {
                kernels::axpy(
                    delta.as_mut_slice(),
                    (plan.decay - T::one()) * scale,
                    w.as_slice(),
                );
            }
            if let Some(coef) = plan.pre_error_rows {
                add_to_columns(
                    delta.as_mut_slice(),
                    w.nrows(),
                    coef * scale,
                    &state.e[layer - 1],
                );
            }
        }
        Ok(())
    }

    /// `W_ℓ ← W_ℓ + scale · ΔW_ℓ` for every layer.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `deltas` belongs to another architecture.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::{Deltas, Mlp};
    /// let mut net = Mlp::from_weights(vec![Matrix::<f64>::zeros(2, 2)], 10.0).unwrap();
    /// let other = Mlp::from_weights(vec![Matrix::<f64>::zeros(3, 2)], 10.0).unwrap();
    /// assert!(net.add_deltas(&Deltas::zeros_like(&other), 1.0).is_err());
    /// ```
    pub fn add_deltas(&mut self, deltas: &Deltas<T>, scale: T) -> Result<()> {
        self.check_deltas(deltas)?;
        for (w, delta) in self.weights_mut().iter_mut().zip(&deltas.matrices) {
            kernels::axpy(w.as_mut_slice(), scale, delta.as_slice());
        }
        Ok(())
    }

    fn check_deltas(&self, deltas: &Deltas<T>) -> Result<()> {
        for (w, delta) in self.weights().iter().zip(&deltas.matrices) {
            if w.shape() != delta.shape() {
                return Err(Error::ShapeMismatch {
                    op: "deltas",
                    expected: w.shape(),
                    got: delta.shape(),
                });
            }
        }
        if self.n_layers() != deltas.matrices.len() {
            return Err(Error::RuleCount {
                expected: self.n_layers(),
                got: deltas.matrices.len(),
            });
        }
        Ok(())
    }

    /// Validates the rules and that the state holds what the active terms read.
    fn check_ready(&self, state: &State<T>, rules: &RuleSet) -> Result<()> {
        state.check_sizes(self.sizes())?;
        rules.validate(self.n_layers())?;
        if !state.forward_done {
            return Err(Error::NoForwardPass);
        }
        for layer in 1..=self.n_layers() {
            let rule = rules.for_layer(layer);
            for term in rule.active_terms() {
                if term.needs_error() && !state.error_ready[layer] {
                    return Err(Error::MissingError {
                        error_layer: layer,
                        layer,
                        term: term.index(),
                    });
                }
                if term.needs_presynaptic_error() && !state.error_ready[layer - 1] {
                    return Err(Error::MissingError {
                        error_layer: layer - 1,
                        layer,
                        term: term.index(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// What the fused pass of one layer does, after the right vectors are in the state's scratch.
struct LayerPlan<T> {
    uses_error: bool,
    uses_activation: bool,
    decay: T,
    /// `γ = −θ₉` when `Wᵀy` is to be computed inside the pass.
    projection: Option<T>,
    /// `−θ₄` for F4's `−θ₄ 1 eₚᵀ`.
    pre_error_rows: Option<T>,
}

/// Computes the layer-wide scalars and the two right vectors `rₑ`, `r_y` into the state's
/// scratch. With `precompute_projection`, `−θ₉ Wᵀy` is folded into `r_y` here (for callers
/// that do not use the fused pass).
fn prepare_layer<T: Float>(
    w: &Matrix<T>,
    state: &mut State<T>,
    layer: usize,
    rule: &Rule,
    precompute_projection: bool,
) -> LayerPlan<T> {
    let idx = layer - 1;
    let theta = |term: Term| T::of_f64(rule.coefficient(term));
    let nonzero = |term: Term| rule.coefficient(term) != 0.0;
    let State {
        y,
        e,
        z,
        right_error,
        right_activation,
        projection,
        ..
    } = state;
    let (y_post, y_pre) = (&y[layer], &y[layer - 1]);
    let (e_post, e_pre) = (&e[layer], &e[layer - 1]);
    let wty = &mut projection[idx];

    // s = yᵀ W eₚ (F6, F7), computed as (Wᵀ y) · eₚ so that Wᵀy can be reused by F9.
    let needs_s = nonzero(Term::ProjectedPostPreError) || nonzero(Term::ProjectedErrorActivation);
    let precompute = needs_s || (precompute_projection && nonzero(Term::Oja));
    let s = if precompute {
        kernels::gemv_t(wty, w, y_post);
        if needs_s {
            kernels::dot(wty.as_slice(), e_pre.as_slice())
        } else {
            T::zero()
        }
    } else {
        T::zero()
    };
    let sum_y = if nonzero(Term::ScaledPseudoGradient) {
        y_post.as_slice().iter().fold(T::zero(), |acc, &v| acc + v)
    } else {
        T::zero()
    };
    let e_dot_z = if nonzero(Term::ProjectedActivationError) {
        kernels::dot(e_post.as_slice(), z[layer].as_slice())
    } else {
        T::zero()
    };

    // Left vector e: F0, F2, F5, F7.
    let uses_error = [
        Term::PseudoGradient,
        Term::ErrorHebb,
        Term::ScaledPseudoGradient,
        Term::ProjectedErrorActivation,
    ]
    .into_iter()
    .any(nonzero);
    if uses_error {
        let coef_pre = -(theta(Term::PseudoGradient)
            + theta(Term::ScaledPseudoGradient) * sum_y
            + theta(Term::ProjectedErrorActivation) * s);
        let right = &mut right_error[idx];
        fill_scaled(right, coef_pre, y_pre);
        if nonzero(Term::ErrorHebb) {
            kernels::axpy(
                right.as_mut_slice(),
                -theta(Term::ErrorHebb),
                e_pre.as_slice(),
            );
        }
    }

    // Left vector y: F1, F6, F8, F9.
    let uses_activation = [
        Term::PostActivationPreError,
        Term::ProjectedPostPreError,
        Term::ProjectedActivationError,
        Term::Oja,
    ]
    .into_iter()
    .any(nonzero);
    let mut in_pass_projection = None;
    if uses_activation {
        let right = &mut right_activation[idx];
        let theta9 = theta(Term::Oja);
        fill_scaled(right, theta9, y_pre);
        let reads_pre_error = [
            Term::PostActivationPreError,
            Term::ProjectedPostPreError,
            Term::ProjectedActivationError,
        ]
        .into_iter()
        .any(nonzero);
        if reads_pre_error {
            let coef = -(theta(Term::PostActivationPreError)
                + theta(Term::ProjectedPostPreError) * s
                + theta(Term::ProjectedActivationError) * e_dot_z);
            kernels::axpy(right.as_mut_slice(), coef, e_pre.as_slice());
        }
        if nonzero(Term::Oja) {
            if precompute {
                kernels::axpy(right.as_mut_slice(), -theta9, wty.as_slice());
            } else {
                in_pass_projection = Some(-theta9);
            }
        }
    }

    LayerPlan {
        uses_error,
        uses_activation,
        decay: T::one() - theta(Term::Decay),
        projection: in_pass_projection,
        pre_error_rows: nonzero(Term::PreError).then(|| -theta(Term::PreError)),
    }
}

/// `dst = α src` (over slices: nalgebra's element iterators do not vectorise).
fn fill_scaled<T: Float>(dst: &mut Vector<T>, alpha: T, src: &Vector<T>) {
    for (d, &s) in dst.as_mut_slice().iter_mut().zip(src.as_slice()) {
        *d = alpha * s;
    }
}

/// Column-major `M[:, j] += α vⱼ` for an `n_rows × v.len()` matrix (F4's `1 vᵀ`).
fn add_to_columns<T: Float>(data: &mut [T], n_rows: usize, alpha: T, v: &Vector<T>) {
    for (col, &vj) in data.chunks_exact_mut(n_rows).zip(v.as_slice()) {
        let add = alpha * vj;
        col.iter_mut().for_each(|x| *x += add);
    }
}

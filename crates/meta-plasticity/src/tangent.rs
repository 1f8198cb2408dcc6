//! The exact meta-gradient `dL_query/dΘ` through an unrolled online inner loop, by forward-mode
//! tangents.
//!
//! For every plastic term `r` the loop carries the tangent `Ẇ_ℓ,r = ∂W_ℓ/∂θ_r` of every weight
//! layer next to the primal `W_ℓ`, and the tangents of everything computed from them in a step:
//! `ż`, `ẏ` (softplus, softmax), `σ̇′`, `ė` (the back-projection, through the fixed `B` or, for
//! backprop, through `Wᵀ` and its tangent `Ẇᵀ`), the layer-wide scalars of F5–F8 and every
//! rank-1 part of the rule. After the last step one reverse pass through the query batch gives
//! `G_ℓ = ∂L/∂W_ℓ`, and `dL/dθ_r = Σ_ℓ ⟨G_ℓ, Ẇ_ℓ,r⟩`. Memory is `O(R·|W|)` whatever the number of
//! steps; nothing is taped.
//!
//! Layout: the `R` tangents of a layer (`n × m`) are stacked into one column-major `(R·n) × m`
//! matrix, block `k` in rows `k·n..(k+1)·n`, so column `j` of every tangent is one contiguous
//! run. Each step makes one pass over every layer's `W` and `Ẇ`
//! (`linalg::stacked::stacked_update`): per column it takes Oja's projection `q = Wᵀy` and its
//! tangent, updates the column of `W` and of every `Ẇ_k`, and adds the updated column's share of
//! the next sample's forward pass `z = W y_{ℓ−1}` and `ż_k = Ẇ_k y_{ℓ−1} + W ẏ_{ℓ−1,k}` (the next
//! input of layer ℓ is known once layer ℓ − 1 has been updated and its forward part done). So
//! `W` and `Ẇ` are read once and written once per step, instead of four reads and two writes
//! with separate kernels. The error back-projection reads each fixed feedback matrix once for
//! `e` and all `ė_k` (`linalg::stacked::stacked_product_t`).
//!
//! [`meta_gradient_reverse`] computes the same gradient in reverse mode, replaying the same
//! primal code from checkpoints; its cost does not grow with the number of terms.

mod query;
mod reverse;
mod rule;
mod unroll;

pub use self::reverse::meta_gradient_reverse;

use linalg::{Float, Matrix};
use plasticity_core::{N_TERMS, Term};

use crate::{Error, Result};

use self::unroll::Unroll;

/// A training or query sample: the input (`n₀` values) and its class label.
pub type Sample<'a, T> = (&'a [T], usize);

/// How errors travel backwards in the inner loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Pathway<T: Float> {
    /// Backprop: `B_ℓ = W_ℓ` (current, pre-update). The meta-gradient includes the path through
    /// `Wᵀ` (its tangent `Ẇᵀ`).
    Backprop,
    /// Backprop in the inner loop, but the meta-gradient treats `B = W` as a constant copy
    /// (no path through `Wᵀ`), as the original code does by copying `W` into `B` through
    /// `.data` [digest §4, pitfall 11]. Not the exact gradient of the query loss.
    BackpropDetached,
    /// Feedback alignment: fixed matrices stored in the shape of `W_ℓ` (`n_ℓ × n_{ℓ−1}`), i.e.
    /// the paper's `B_{ℓ,ℓ−1}` is `matrices[ℓ−1]ᵀ` [B §Methods, Eq. 3]. Their tangent is 0.
    Fixed(Vec<Matrix<T>>),
}

/// The inner loop's starting point: the episode's initial weights and feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct InnerLoop<T: Float> {
    /// `W_{ℓ−1,ℓ}` for ℓ = 1..=L (`n_ℓ × n_{ℓ−1}`).
    pub weights: Vec<Matrix<T>>,
    /// The teaching signal.
    pub pathway: Pathway<T>,
    /// Softplus sharpness β of the hidden layers [B §Methods, Eq. 13].
    pub beta: f64,
}

/// Result of one unrolled inner loop.
#[derive(Debug, Clone, PartialEq)]
pub struct UnrollOutcome<T: Float> {
    /// Mean cross-entropy over the query samples after the last update.
    pub query_loss: f64,
    /// Fraction of query samples whose argmax output is their label.
    pub query_accuracy: f64,
    /// `dL_query/dθ_r` for the plastic terms; 0 for the others.
    pub gradient: [f64; N_TERMS],
    /// The weights after the last update.
    pub weights: Vec<Matrix<T>>,
}

/// Runs the online inner loop (batch 1, one pass over `train` in order) under the rule
/// `ΔW_ℓ = Σ_r θ_r F^r_ℓ`, then scores `query`, and returns the exact gradient of the mean
/// query cross-entropy with respect to every θ_r of `terms` (the differentiated terms; a term
/// outside `terms` acts with its constant θ_r; `terms` may be empty, then no tangent is
/// carried).
///
/// ```text
/// z_ℓ = W_ℓ y_{ℓ−1},  y_ℓ = softplus_β(z_ℓ) (ℓ < L),  y_L = softmax(z_L)   [B §Methods, Eqs. 1–2]
/// e_L = y_L − onehot,  e_{ℓ−1} = (B_ℓᵀ e_ℓ) ⊙ σ′_{ℓ−1},  σ′ = 1 − exp(−β y) [B §Methods, Eq. 3]
/// e₀  = (B_1ᵀ e_1) ⊙ (1 − exp(−β x))  (only if a term reads it)           [B §Methods, Eq. 24]
/// ΔW  = e r_eᵀ + y r_yᵀ − θ₃ W − θ₄ 1 e_pᵀ                                   [B §Methods, Eqs. 5, 14–23]
/// r_e = −(θ₀ + θ₅ Σy + θ₇ s) y_p − θ₂ e_p,   s = yᵀ W e_p
/// r_y = −(θ₁ + θ₆ s + θ₈ eᵀz) e_p + θ₉ (y_p − Wᵀ y)
/// L   = mean_q CE(softmax(z_L(x_q)), label_q)                               [B §Methods, Alg. 1]
/// ```
///
/// All layers use pre-update values; `y_p, e_p` are the layer's presynaptic activation and
/// error. Tangents obey the product rule on each line, with `σ̇′ = β exp(−β y) ẏ` and the
/// softmax tangent `ẏ_L = y_L ⊙ (ż_L − y_Lᵀ ż_L)`.
///
/// # Errors
/// [`Error::InvalidConfig`] for mismatched shapes, a term listed twice, a non-finite θ,
/// a label without output unit or an empty query set; [`Error::Diverged`] (episode 0) naming
/// the step at which the output or its tangent became non-finite.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use meta_plasticity::{meta_gradient, InnerLoop, Pathway};
/// use plasticity_core::Term;
/// let w1 = Matrix::<f64>::from_fn(3, 2, |i, j| 0.1 * (i as f64 - j as f64));
/// let w2 = Matrix::<f64>::from_fn(2, 3, |i, j| 0.2 * (i as f64 + j as f64) - 0.3);
/// let inner = InnerLoop { weights: vec![w1, w2], pathway: Pathway::Backprop, beta: 10.0 };
/// let mut theta = [0.0; 10];
/// theta[0] = 0.5;
/// let x = [1.0, 0.5];
/// let out = meta_gradient(&inner, &[Term::PseudoGradient], &theta, &[(&x[..], 1); 5], &[(&x[..], 1)]).unwrap();
/// // A larger learning rate lowers the loss on the training sample itself.
/// assert!(out.gradient[0] < 0.0);
/// ```
pub fn meta_gradient<T: Float>(
    inner: &InnerLoop<T>,
    terms: &[Term],
    theta: &[f64; N_TERMS],
    train: &[Sample<'_, T>],
    query: &[Sample<'_, T>],
) -> Result<UnrollOutcome<T>> {
    on_pool(|| unrolled(inner, terms, theta, train, query))
}

/// Runs `episode` on a worker of rayon's pool. The fused passes of the widest layers split their
/// columns over the pool (`linalg::stacked`); from a worker each split is a cheap fork, not a
/// hand-off from an outside thread (two per split layer and step).
pub(super) fn on_pool<R: Send>(episode: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_none() {
        return rayon::scope(|_| episode());
    }
    episode()
}

/// [`meta_gradient`] on the calling thread.
fn unrolled<T: Float>(
    inner: &InnerLoop<T>,
    terms: &[Term],
    theta: &[f64; N_TERMS],
    train: &[Sample<'_, T>],
    query: &[Sample<'_, T>],
) -> Result<UnrollOutcome<T>> {
    let mut unroll = Unroll::new(inner, terms, theta)?;
    check_samples(&unroll, train, query)?;
    // Each step's update runs fused with the next sample's forward pass.
    if let Some(&(first, _)) = train.first() {
        unroll.forward(first);
    }
    for (step, &(_, label)) in train.iter().enumerate() {
        unroll.teach(label, step)?;
        unroll.advance(train.get(step + 1).map(|&(input, _)| input));
    }
    unroll.finish(query, train.len())
}

/// Checks every training and query sample against the network, and that there is a query set.
fn check_samples<T: Float>(
    unroll: &Unroll<T>,
    train: &[Sample<'_, T>],
    query: &[Sample<'_, T>],
) -> Result<()> {
    for (step, &(input, label)) in train.iter().enumerate() {
        unroll.check_sample(input, label, "train", step)?;
    }
    if query.is_empty() {
        return Err(Error::InvalidConfig {
            field: "query",
            reason: "no query samples".to_string(),
        });
    }
    for (idx, &(input, label)) in query.iter().enumerate() {
        unroll.check_sample(input, label, "query", idx)?;
    }
    Ok(())
}

/// `dst (rows × cols) ← [dst +] lhs · rhs` on column-major slices; each operand is
/// `(data, stored_rows, stored_cols, transposed)`.
///
/// Calls linalg's slice-level GEMM entry (`Float::faer_matmul`, faer's sequential kernel)
/// directly, because the stacked tangents are read through two reshaped views of one buffer,
/// which the `Matrix`-typed kernels of `linalg::kernels` cannot express.
pub(super) fn matmul<T: Float>(
    dst: &mut [T],
    rows: usize,
    cols: usize,
    accumulate: bool,
    lhs: (&[T], usize, usize, bool),
    rhs: (&[T], usize, usize, bool),
) {
    if rows == 0 || cols == 0 {
        return;
    }
    let inner = if lhs.3 { lhs.1 } else { lhs.2 };
    if inner == 0 {
        if !accumulate {
            dst.fill(T::zero());
        }
        return;
    }
    T::faer_matmul(dst, rows, cols, accumulate, lhs, rhs, T::one());
}

pub(super) fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |acc, (&x, &y)| acc + x * y)
}

pub(super) fn all_finite<T: Float>(values: &[T]) -> bool {
    values.iter().all(|v| v.as_f64().is_finite())
}

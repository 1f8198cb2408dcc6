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
//! matrix, block `k` in rows `k·n..(k+1)·n`. The same memory read as an `n × (R·m)` matrix has
//! `Ẇ_k[:, j]` in column `j·R + k`. So each step does, per layer, one `gemv` for all
//! `Ẇ_k y_{ℓ−1}` (first view), one `gemv_t` for all `Ẇ_kᵀ y_ℓ` (second view), and two rank-2/3
//! `gemm` updates (`[ė_k; ẏ_k] [r_e r_y]ᵀ` in the first view, `[e y 1] [ṙ_e,k ṙ_y,k f₄,k]ᵀ` in
//! the second), instead of `R` small kernels each.

use linalg::{Float, Matrix, activation};
use plasticity_core::{N_TERMS, Term};

use crate::{Error, Result};

/// A training or query sample: the input (`n₀` values) and its class label.
pub type Sample<'a, T> = (&'a [T], usize);

/// How errors travel backwards in the inner loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Pathway<T: Float> {
    /// Backprop: `B_ℓ = W_ℓ` (current, pre-update). The meta-gradient includes the path through
    /// `Wᵀ` (its tangent `Ẇᵀ`).
    Backprop,
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
    let mut unroll = Unroll::new(inner, terms, theta)?;
    for (step, &(input, label)) in train.iter().enumerate() {
        unroll.check_sample(input, label, "train", step)?;
        unroll.step(input, label, step)?;
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
    unroll.finish(query, train.len())
}

/// Buffers and state of one unrolled inner loop.
struct Unroll<T: Float> {
    sizes: Vec<usize>,
    beta: T,
    terms: Vec<Term>,
    /// θ_r as `T`.
    theta: [T; N_TERMS],
    /// Whether term r acts: differentiated (in `terms`) or with θ_r ≠ 0.
    has: [bool; N_TERMS],
    /// Whether the synthetic input error e₀ is needed (a presynaptic-error term is plastic).
    needs_input_error: bool,
    /// Whether `q = Wᵀ y` is needed (F6, F7 or F9 plastic).
    needs_projection: bool,
    w: Vec<Matrix<T>>,
    feedback: Option<Vec<Matrix<T>>>,
    /// Stacked tangents per layer, `(R·n) × m` column-major.
    wdot: Vec<Vec<T>>,
    // Per-sample vectors, index 0..=L.
    y: Vec<Vec<T>>,
    z: Vec<Vec<T>>,
    ds: Vec<Vec<T>>,
    e: Vec<Vec<T>>,
    g: Vec<Vec<T>>,
    /// Tangents, `n × R` column-major ("k-major": tangent k is column k).
    ydot: Vec<Vec<T>>,
    zdot: Vec<Vec<T>>,
    edot: Vec<Vec<T>>,
    /// Tangent of the back-projection, `R × n` column-major ("interleaved": `[j·R + k]`).
    gdot: Vec<Vec<T>>,
    // Per-layer scratch, index ℓ−1.
    q: Vec<Vec<T>>,
    qdot: Vec<Vec<T>>,
    /// `[e | y | 1]`, `n × 3`.
    lhs_primal: Vec<Vec<T>>,
    /// `[r_e | r_y | −θ₄ e_p]`, `m × 3`.
    rhs_primal: Vec<Vec<T>>,
    /// `[ė (stacked) | ẏ (stacked)]`, `(R·n) × 2`.
    lhs_tangent: Vec<Vec<T>>,
    /// `[ṙ_e | ṙ_y | f₄]` interleaved, `(R·m) × 3`.
    rhs_tangent: Vec<Vec<T>>,
}

/// Per-tangent scalars of one layer (`R` entries each).
struct Scalars<T> {
    a_dot: Vec<T>,
    b_dot: Vec<T>,
}

impl<T: Float> Unroll<T> {
    fn new(inner: &InnerLoop<T>, terms: &[Term], theta: &[f64; N_TERMS]) -> Result<Self> {
        let invalid = |field: &'static str, reason: String| Error::InvalidConfig { field, reason };
        let Some(first) = inner.weights.first() else {
            return Err(invalid("weights", "no weight matrices".to_string()));
        };
        let mut sizes = vec![first.ncols()];
        for (idx, w) in inner.weights.iter().enumerate() {
            if w.ncols() != sizes[idx] || w.nrows() == 0 || w.ncols() == 0 {
                return Err(invalid(
                    "weights",
                    format!(
                        "layer {} is {}x{}, expected ?x{}",
                        idx + 1,
                        w.nrows(),
                        w.ncols(),
                        sizes[idx]
                    ),
                ));
            }
            sizes.push(w.nrows());
        }
        if !(inner.beta.is_finite() && inner.beta > 0.0) {
            return Err(invalid(
                "beta",
                format!("must be finite and > 0, got {}", inner.beta),
            ));
        }
        let feedback = match &inner.pathway {
            Pathway::Backprop => None,
            Pathway::Fixed(matrices) => {
                if matrices.len() != inner.weights.len() {
                    return Err(invalid(
                        "pathway",
                        format!(
                            "{} feedback matrices for {} layers",
                            matrices.len(),
                            inner.weights.len()
                        ),
                    ));
                }
                for (idx, (b, w)) in matrices.iter().zip(&inner.weights).enumerate() {
                    if b.shape() != w.shape() {
                        return Err(invalid(
                            "pathway",
                            format!(
                                "feedback of layer {} is {:?}, W is {:?}",
                                idx + 1,
                                b.shape(),
                                w.shape()
                            ),
                        ));
                    }
                }
                Some(matrices.clone())
            }
        };
        let mut has = [false; N_TERMS];
        for &term in terms {
            if has[term.index()] {
                return Err(invalid("terms", format!("{term:?} listed twice")));
            }
            has[term.index()] = true;
        }
        let mut theta_t = [T::zero(); N_TERMS];
        for r in 0..N_TERMS {
            if !theta[r].is_finite() {
                return Err(invalid("theta", format!("θ{r} is not finite")));
            }
            // A term acts if it is differentiated or has a non-zero (then constant) coefficient.
            has[r] |= theta[r] != 0.0;
            theta_t[r] = T::of_f64(theta[r]);
        }
        let mut terms = terms.to_vec();
        terms.sort_by_key(|term| term.index());
        let n_tangents = terms.len();
        let per_node = |f: &dyn Fn(usize) -> usize| -> Vec<Vec<T>> {
            sizes.iter().map(|&n| vec![T::zero(); f(n)]).collect()
        };
        let per_layer = |f: &dyn Fn(usize, usize) -> usize| -> Vec<Vec<T>> {
            sizes
                .windows(2)
                .map(|p| vec![T::zero(); f(p[1], p[0])])
                .collect()
        };
        let needs_input_error = Term::ALL
            .iter()
            .any(|t| has[t.index()] && t.needs_presynaptic_error());
        let needs_projection = has[Term::ProjectedPostPreError.index()]
            || has[Term::ProjectedErrorActivation.index()]
            || has[Term::Oja.index()];
        Ok(Unroll {
            beta: T::of_f64(inner.beta),
            terms,
            theta: theta_t,
            has,
            needs_input_error,
            needs_projection,
            w: inner.weights.clone(),
            feedback,
            wdot: per_layer(&|n, m| n_tangents * n * m),
            y: per_node(&|n| n),
            z: per_node(&|n| n),
            ds: per_node(&|n| n),
            e: per_node(&|n| n),
            g: per_node(&|n| n),
            ydot: per_node(&|n| n * n_tangents),
            zdot: per_node(&|n| n * n_tangents),
            edot: per_node(&|n| n * n_tangents),
            gdot: per_node(&|n| n * n_tangents),
            q: per_layer(&|_, m| m),
            qdot: per_layer(&|_, m| m * n_tangents),
            lhs_primal: per_layer(&|n, _| 3 * n),
            rhs_primal: per_layer(&|_, m| 3 * m),
            lhs_tangent: per_layer(&|n, _| 2 * n * n_tangents),
            rhs_tangent: per_layer(&|_, m| 3 * m * n_tangents),
            sizes,
        })
    }

    fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    fn check_sample(&self, input: &[T], label: usize, what: &str, idx: usize) -> Result<()> {
        if input.len() != self.sizes[0] {
            return Err(Error::InvalidConfig {
                field: "samples",
                reason: format!(
                    "{what} sample {idx} has {} inputs, the network {}",
                    input.len(),
                    self.sizes[0]
                ),
            });
        }
        let n_outputs = self.sizes[self.n_layers()];
        if label >= n_outputs {
            return Err(Error::InvalidConfig {
                field: "samples",
                reason: format!(
                    "{what} sample {idx} has label {label}, the network {n_outputs} outputs"
                ),
            });
        }
        Ok(())
    }

    /// One online step: forward, errors, and the update of `W` and `Ẇ`, with all tangents.
    fn step(&mut self, input: &[T], label: usize, step: usize) -> Result<()> {
        self.forward(input);
        let n_layers = self.n_layers();
        self.e[n_layers].copy_from_slice(&self.y[n_layers]);
        self.e[n_layers][label] -= T::one();
        let (e_out, edot_out) = (&mut self.edot[n_layers], &self.ydot[n_layers]);
        e_out.copy_from_slice(edot_out);
        if !all_finite(&self.e[n_layers]) {
            return Err(Error::Diverged {
                episode: 0,
                step,
                what: "output",
            });
        }
        if !all_finite(&self.edot[n_layers]) {
            return Err(Error::Diverged {
                episode: 0,
                step,
                what: "output tangent",
            });
        }
        self.backward_errors();
        for layer in 1..=n_layers {
            self.update_layer(layer);
        }
        Ok(())
    }

    /// Primal and tangent forward pass (`ẏ₀ = 0`).
    fn forward(&mut self, input: &[T]) {
        let n_layers = self.n_layers();
        let n_tangents = self.terms.len();
        self.y[0].copy_from_slice(input);
        for layer in 1..=n_layers {
            let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
            let w = self.w[layer - 1].as_slice();
            let (y_low, y_high) = self.y.split_at_mut(layer);
            let (y_prev, y) = (&y_low[layer - 1], &mut y_high[0]);
            let z = &mut self.z[layer];
            matmul(z, n, 1, false, (w, n, m, false), (y_prev, m, 1, false));
            if n_tangents > 0 {
                let zdot = &mut self.zdot[layer];
                matmul(
                    zdot,
                    n_tangents * n,
                    1,
                    false,
                    (&self.wdot[layer - 1], n_tangents * n, m, false),
                    (y_prev, m, 1, false),
                );
                if layer > 1 {
                    matmul(
                        zdot,
                        n,
                        n_tangents,
                        true,
                        (w, n, m, false),
                        (&self.ydot[layer - 1], m, n_tangents, false),
                    );
                }
            }
            let zdot = &self.zdot[layer];
            let ydot = &mut self.ydot[layer];
            if layer < n_layers {
                let ds = &mut self.ds[layer];
                activation::softplus_with_derivative(y, ds, z, self.beta);
                for (col_in, col_out) in zdot.chunks_exact(n).zip(ydot.chunks_exact_mut(n)) {
                    for ((out, &zd), &d) in col_out.iter_mut().zip(col_in).zip(ds.iter()) {
                        *out = d * zd;
                    }
                }
            } else {
                activation::softmax(y, z);
                for (col_in, col_out) in zdot.chunks_exact(n).zip(ydot.chunks_exact_mut(n)) {
                    let mean = dot(y, col_in);
                    for ((out, &zd), &p) in col_out.iter_mut().zip(col_in).zip(y.iter()) {
                        *out = p * (zd - mean);
                    }
                }
            }
        }
    }

    /// Back-projection of the output error and its tangents, down to e₁ (or e₀ if needed).
    fn backward_errors(&mut self) {
        let n_layers = self.n_layers();
        let n_tangents = self.terms.len();
        let lowest = if self.needs_input_error { 0 } else { 1 };
        let beta = self.beta;
        if lowest == 0 {
            for (mask, &x) in self.ds[0].iter_mut().zip(&self.y[0]) {
                *mask = T::one() - (-beta * x).exp();
            }
        }
        for target in (lowest..n_layers).rev() {
            let source = target + 1;
            let (n, m) = (self.sizes[source], self.sizes[target]);
            let b = match &self.feedback {
                Some(matrices) => matrices[target].as_slice(),
                None => self.w[target].as_slice(),
            };
            let (e_low, e_high) = self.e.split_at_mut(source);
            let (e_target, e_source) = (&mut e_low[target], &e_high[0]);
            let g = &mut self.g[target];
            matmul(g, m, 1, false, (b, n, m, true), (e_source, n, 1, false));
            for ((et, &gj), &d) in e_target.iter_mut().zip(g.iter()).zip(&self.ds[target]) {
                *et = gj * d;
            }
            if n_tangents == 0 {
                continue;
            }
            let gdot = &mut self.gdot[target];
            // ġ (interleaved R × m) = Ėᵀ B, plus Ẇ_kᵀ e for backprop.
            matmul(
                gdot,
                n_tangents,
                m,
                false,
                (&self.edot[source], n, n_tangents, true),
                (b, n, m, false),
            );
            if self.feedback.is_none() {
                matmul(
                    gdot,
                    1,
                    n_tangents * m,
                    true,
                    (e_source, n, 1, true),
                    (&self.wdot[target], n, n_tangents * m, false),
                );
            }
            let (ds, ydot) = (&self.ds[target], &self.ydot[target]);
            let edot = &mut self.edot[target];
            for k in 0..n_tangents {
                for j in 0..m {
                    let mut value = gdot[j * n_tangents + k] * ds[j];
                    if target > 0 {
                        // σ′ = 1 − exp(−β y) ⇒ σ̇′ = β (1 − σ′) ẏ.
                        value += g[j] * beta * (T::one() - ds[j]) * ydot[k * m + j];
                    }
                    edot[k * m + j] = value;
                }
            }
        }
    }

    /// Rule vectors of layer ℓ and its update of `W_ℓ` and `Ẇ_ℓ` (reads only pre-update
    /// values of this layer).
    fn update_layer(&mut self, layer: usize) {
        let idx = layer - 1;
        let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
        let n_tangents = self.terms.len();
        let th = self.theta;
        let has = |term: Term| self.has[term.index()];
        let w = self.w[idx].as_slice();
        let (y, e, z) = (&self.y[layer], &self.e[layer], &self.z[layer]);
        let (yp, ep) = (&self.y[layer - 1], &self.e[layer - 1]);
        if self.needs_projection {
            matmul(
                &mut self.q[idx],
                m,
                1,
                false,
                (w, n, m, true),
                (y, n, 1, false),
            );
            if n_tangents > 0 {
                let qdot = &mut self.qdot[idx];
                matmul(
                    qdot,
                    n_tangents,
                    m,
                    false,
                    (&self.ydot[layer], n, n_tangents, true),
                    (w, n, m, false),
                );
                matmul(
                    qdot,
                    1,
                    n_tangents * m,
                    true,
                    (y, n, 1, true),
                    (&self.wdot[idx], n, n_tangents * m, false),
                );
            }
        }
        let q = &self.q[idx];
        let sum_y = if has(Term::ScaledPseudoGradient) {
            y.iter().fold(T::zero(), |acc, &v| acc + v)
        } else {
            T::zero()
        };
        let s = if has(Term::ProjectedPostPreError) || has(Term::ProjectedErrorActivation) {
            dot(q, ep)
        } else {
            T::zero()
        };
        let c = if has(Term::ProjectedActivationError) {
            dot(e, z)
        } else {
            T::zero()
        };
        let t = |term: Term| th[term.index()];
        let a = t(Term::PseudoGradient)
            + t(Term::ScaledPseudoGradient) * sum_y
            + t(Term::ProjectedErrorActivation) * s;
        let b = t(Term::PostActivationPreError)
            + t(Term::ProjectedPostPreError) * s
            + t(Term::ProjectedActivationError) * c;
        let scalars = (n_tangents > 0).then(|| self.tangent_scalars(layer, sum_y, s, c));

        let lhs = &mut self.lhs_primal[idx];
        lhs[..n].copy_from_slice(e);
        lhs[n..2 * n].copy_from_slice(y);
        lhs[2 * n..].fill(T::one());
        let rhs = &mut self.rhs_primal[idx];
        let (theta2, theta4, theta9) = (t(Term::ErrorHebb), t(Term::PreError), t(Term::Oja));
        for j in 0..m {
            rhs[j] = -a * yp[j] - theta2 * ep[j];
            let oja = if self.needs_projection {
                yp[j] - q[j]
            } else {
                yp[j]
            };
            rhs[m + j] = -b * ep[j] + theta9 * oja;
            rhs[2 * m + j] = -theta4 * ep[j];
        }
        let rank = if has(Term::PreError) { 3 } else { 2 };

        if let Some(scalars) = scalars {
            let (ydot_p, edot_p) = (&self.ydot[layer - 1], &self.edot[layer - 1]);
            let qdot = &self.qdot[idx];
            let rhs_t = &mut self.rhs_tangent[idx];
            let len = n_tangents * m;
            for (k, term) in self.terms.iter().enumerate() {
                let is = |other: Term| if *term == other { T::one() } else { T::zero() };
                let (k2, k4, k9) = (is(Term::ErrorHebb), is(Term::PreError), is(Term::Oja));
                let (a_dot, b_dot) = (scalars.a_dot[k], scalars.b_dot[k]);
                for j in 0..m {
                    let (ypd, epd) = (ydot_p[k * m + j], edot_p[k * m + j]);
                    let at = j * n_tangents + k;
                    rhs_t[at] = -a_dot * yp[j] - a * ypd - theta2 * epd - k2 * ep[j];
                    let (q_j, qdot_j) = if self.needs_projection {
                        (q[j], qdot[at])
                    } else {
                        (T::zero(), T::zero())
                    };
                    rhs_t[len + at] =
                        -b_dot * ep[j] - b * epd + theta9 * (ypd - qdot_j) + k9 * (yp[j] - q_j);
                    rhs_t[2 * len + at] = -theta4 * epd - k4 * ep[j];
                }
            }
            let lhs_t = &mut self.lhs_tangent[idx];
            let stacked = n_tangents * n;
            lhs_t[..stacked].copy_from_slice(&self.edot[layer]);
            lhs_t[stacked..].copy_from_slice(&self.ydot[layer]);

            // Ẇ ← (1 − θ₃) Ẇ − [r = 3] W + [ė ẏ] [r_e r_y]ᵀ + [e y 1] [ṙ_e ṙ_y f₄]ᵀ.
            let wdot = &mut self.wdot[idx];
            let decay = t(Term::Decay);
            if decay != T::zero() {
                let keep = T::one() - decay;
                wdot.iter_mut().for_each(|v| *v *= keep);
            }
            if let Some(k3) = self.terms.iter().position(|&term| term == Term::Decay) {
                for (col, w_col) in wdot.chunks_exact_mut(stacked).zip(w.chunks_exact(n)) {
                    for (v, &wi) in col[k3 * n..(k3 + 1) * n].iter_mut().zip(w_col) {
                        *v -= wi;
                    }
                }
            }
            matmul(
                wdot,
                stacked,
                m,
                true,
                (lhs_t, stacked, 2, false),
                (&rhs[..2 * m], m, 2, true),
            );
            matmul(
                wdot,
                n,
                len,
                true,
                (&lhs[..rank * n], n, rank, false),
                (&rhs_t[..rank * len], len, rank, true),
            );
        }

        // W ← (1 − θ₃) W + [e y 1] [r_e r_y −θ₄ e_p]ᵀ.
        let w = self.w[idx].as_mut_slice();
        let decay = t(Term::Decay);
        if decay != T::zero() {
            let keep = T::one() - decay;
            w.iter_mut().for_each(|v| *v *= keep);
        }
        let (lhs, rhs) = (&self.lhs_primal[idx], &self.rhs_primal[idx]);
        matmul(
            w,
            n,
            m,
            true,
            (&lhs[..rank * n], n, rank, false),
            (&rhs[..rank * m], m, rank, true),
        );
    }

    /// `ȧ_k = d(θ₀ + θ₅ Σy + θ₇ s)/dθ_{r_k}` and `ḃ_k = d(θ₁ + θ₆ s + θ₈ eᵀz)/dθ_{r_k}`.
    fn tangent_scalars(&self, layer: usize, sum_y: T, s: T, c: T) -> Scalars<T> {
        let idx = layer - 1;
        let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
        let n_tangents = self.terms.len();
        let t = |term: Term| self.theta[term.index()];
        let has = |term: Term| self.has[term.index()];
        let needs_s = has(Term::ProjectedPostPreError) || has(Term::ProjectedErrorActivation);
        let (ep, q, qdot) = (&self.e[layer - 1], &self.q[idx], &self.qdot[idx]);
        let edot_p = &self.edot[layer - 1];
        let mut a_dot = vec![T::zero(); n_tangents];
        let mut b_dot = vec![T::zero(); n_tangents];
        for (k, term) in self.terms.iter().enumerate() {
            let ydot = &self.ydot[layer][k * n..(k + 1) * n];
            let sum_ydot = if has(Term::ScaledPseudoGradient) {
                ydot.iter().fold(T::zero(), |acc, &v| acc + v)
            } else {
                T::zero()
            };
            let s_dot = if needs_s {
                (0..m).fold(T::zero(), |acc, j| {
                    acc + qdot[j * n_tangents + k] * ep[j] + q[j] * edot_p[k * m + j]
                })
            } else {
                T::zero()
            };
            let c_dot = if has(Term::ProjectedActivationError) {
                let (edot, zdot) = (
                    &self.edot[layer][k * n..(k + 1) * n],
                    &self.zdot[layer][k * n..(k + 1) * n],
                );
                dot(edot, &self.z[layer]) + dot(&self.e[layer], zdot)
            } else {
                T::zero()
            };
            let explicit_a = match term {
                Term::PseudoGradient => T::one(),
                Term::ScaledPseudoGradient => sum_y,
                Term::ProjectedErrorActivation => s,
                _ => T::zero(),
            };
            let explicit_b = match term {
                Term::PostActivationPreError => T::one(),
                Term::ProjectedPostPreError => s,
                Term::ProjectedActivationError => c,
                _ => T::zero(),
            };
            a_dot[k] = t(Term::ScaledPseudoGradient) * sum_ydot
                + t(Term::ProjectedErrorActivation) * s_dot
                + explicit_a;
            b_dot[k] = t(Term::ProjectedPostPreError) * s_dot
                + t(Term::ProjectedActivationError) * c_dot
                + explicit_b;
        }
        Scalars { a_dot, b_dot }
    }

    /// Scores the query set on the final weights and contracts `∂L/∂W` with the tangents.
    fn finish(mut self, query: &[Sample<'_, T>], n_steps: usize) -> Result<UnrollOutcome<T>> {
        let n_layers = self.n_layers();
        let n_tangents = self.terms.len();
        let mut grads: Vec<Vec<T>> = self.w.iter().map(|w| vec![T::zero(); w.len()]).collect();
        let mut delta: Vec<Vec<T>> = self.sizes.iter().map(|&n| vec![T::zero(); n]).collect();
        let scale = T::one() / T::of_f64(query.len() as f64);
        let (mut loss, mut n_correct) = (0.0f64, 0usize);
        for &(input, label) in query {
            self.y[0].copy_from_slice(input);
            for layer in 1..=n_layers {
                let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
                let (y_low, y_high) = self.y.split_at_mut(layer);
                let z = &mut self.z[layer];
                matmul(
                    z,
                    n,
                    1,
                    false,
                    (self.w[layer - 1].as_slice(), n, m, false),
                    (&y_low[layer - 1], m, 1, false),
                );
                if layer < n_layers {
                    activation::softplus_with_derivative(
                        &mut y_high[0],
                        &mut self.ds[layer],
                        z,
                        self.beta,
                    );
                } else {
                    activation::softmax(&mut y_high[0], z);
                }
            }
            let logits = &self.z[n_layers];
            let max = logits
                .iter()
                .fold(logits[0], |acc, &v| if v > acc { v } else { acc });
            let log_norm = max
                + logits
                    .iter()
                    .fold(T::zero(), |acc, &v| acc + (v - max).exp())
                    .ln();
            loss += (log_norm - logits[label]).as_f64();
            if activation::argmax(&self.y[n_layers]) == Some(label) {
                n_correct += 1;
            }
            // Reverse pass: δ_L = (p − onehot)/Q, G_ℓ += δ_ℓ y_{ℓ−1}ᵀ, δ_{ℓ−1} = Wᵀ δ_ℓ ⊙ σ′.
            delta[n_layers].copy_from_slice(&self.y[n_layers]);
            delta[n_layers][label] -= T::one();
            delta[n_layers].iter_mut().for_each(|v| *v *= scale);
            for layer in (1..=n_layers).rev() {
                let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
                let (d_low, d_high) = delta.split_at_mut(layer);
                matmul(
                    &mut grads[layer - 1],
                    n,
                    m,
                    true,
                    (&d_high[0], n, 1, false),
                    (&self.y[layer - 1], m, 1, true),
                );
                if layer > 1 {
                    let d_prev = &mut d_low[layer - 1];
                    matmul(
                        d_prev,
                        m,
                        1,
                        false,
                        (self.w[layer - 1].as_slice(), n, m, true),
                        (&d_high[0], n, 1, false),
                    );
                    d_prev
                        .iter_mut()
                        .zip(&self.ds[layer - 1])
                        .for_each(|(d, &s)| *d *= s);
                }
            }
        }
        let query_loss = loss / query.len() as f64;
        if !query_loss.is_finite() {
            return Err(Error::Diverged {
                episode: 0,
                step: n_steps,
                what: "query loss",
            });
        }
        let mut gradient = [0.0f64; N_TERMS];
        for (layer_idx, grad) in grads.iter().enumerate() {
            let n = self.sizes[layer_idx + 1];
            let stacked = n_tangents * n;
            for (k, term) in self.terms.iter().enumerate() {
                let mut total = 0.0f64;
                for (g_col, wdot_col) in grad
                    .chunks_exact(n)
                    .zip(self.wdot[layer_idx].chunks_exact(stacked))
                {
                    total += dot(g_col, &wdot_col[k * n..(k + 1) * n]).as_f64();
                }
                gradient[term.index()] += total;
            }
        }
        if gradient.iter().any(|g| !g.is_finite()) {
            return Err(Error::Diverged {
                episode: 0,
                step: n_steps,
                what: "meta-gradient",
            });
        }
        Ok(UnrollOutcome {
            query_loss,
            query_accuracy: n_correct as f64 / query.len() as f64,
            gradient,
            weights: self.w,
        })
    }
}

/// `dst (rows × cols) ← [dst +] lhs · rhs` on column-major slices; each operand is
/// `(data, stored_rows, stored_cols, transposed)`.
fn matmul<T: Float>(
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

fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |acc, (&x, &y)| acc + x * y)
}

fn all_finite<T: Float>(values: &[T]) -> bool {
    values.iter().all(|v| v.as_f64().is_finite())
}

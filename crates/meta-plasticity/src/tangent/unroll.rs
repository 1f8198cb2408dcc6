//! The state of one unrolled inner loop: buffers, the forward pass and the error back-projection
//! with their tangents.

use linalg::{Float, Matrix, activation};
use plasticity_core::{N_TERMS, Term};

use crate::{
    Error, InnerLoop, Pathway, Result,
    tangent::{all_finite, dot, matmul},
};

/// Buffers and state of one unrolled inner loop.
pub(super) struct Unroll<T: Float> {
    /// Layer widths `[n₀, …, n_L]`.
    pub(super) sizes: Vec<usize>,
    pub(super) beta: T,
    /// The differentiated terms in index order; tangent `k` belongs to `terms[k]`.
    pub(super) terms: Vec<Term>,
    /// θ_r as `T`.
    pub(super) theta: [T; N_TERMS],
    /// Whether term r acts: differentiated (in `terms`) or with θ_r ≠ 0.
    pub(super) has: [bool; N_TERMS],
    /// Whether the synthetic input error e₀ is needed (a presynaptic-error term is plastic).
    pub(super) needs_input_error: bool,
    /// Whether `q = Wᵀ y` is needed (F6, F7 or F9 plastic).
    pub(super) needs_projection: bool,
    /// `W_ℓ` at index ℓ−1, updated in place.
    pub(super) w: Vec<Matrix<T>>,
    /// Fixed `B_ℓ` in the shape of `W_ℓ`; `None` for backprop.
    pub(super) feedback: Option<Vec<Matrix<T>>>,
    /// Backprop whose feedback `B = W` carries no tangent ([`Pathway::BackpropDetached`]).
    pub(super) detach_feedback: bool,
    /// Stacked tangents per layer, `(R·n) × m` column-major.
    pub(super) wdot: Vec<Vec<T>>,
    // Per-sample vectors, index 0..=L: `y`, `z`, `ds` = σ′ (index 0: the input mask
    // 1 − exp(−β x) of e₀), `e`, and `g = Bᵀ e` before the σ′ mask.
    pub(super) y: Vec<Vec<T>>,
    pub(super) z: Vec<Vec<T>>,
    pub(super) ds: Vec<Vec<T>>,
    pub(super) e: Vec<Vec<T>>,
    pub(super) g: Vec<Vec<T>>,
    /// Tangents, `n × R` column-major ("k-major": tangent k is column k).
    pub(super) ydot: Vec<Vec<T>>,
    pub(super) zdot: Vec<Vec<T>>,
    pub(super) edot: Vec<Vec<T>>,
    /// Tangent of the back-projection, `R × n` column-major ("interleaved": `[j·R + k]`).
    pub(super) gdot: Vec<Vec<T>>,
    // Per-layer scratch, index ℓ−1: `q = Wᵀ y` and its tangent (interleaved `R × m`).
    pub(super) q: Vec<Vec<T>>,
    pub(super) qdot: Vec<Vec<T>>,
    /// `[e | y | 1]`, `n × 3`.
    pub(super) lhs_primal: Vec<Vec<T>>,
    /// `[r_e | r_y | −θ₄ e_p]`, `m × 3`.
    pub(super) rhs_primal: Vec<Vec<T>>,
    /// `[ė (stacked) | ẏ (stacked)]`, `(R·n) × 2`.
    pub(super) lhs_tangent: Vec<Vec<T>>,
    /// `[ṙ_e | ṙ_y | f₄]` interleaved, `(R·m) × 3`.
    pub(super) rhs_tangent: Vec<Vec<T>>,
}

impl<T: Float> Unroll<T> {
    pub(super) fn new(
        inner: &InnerLoop<T>,
        terms: &[Term],
        theta: &[f64; N_TERMS],
    ) -> Result<Self> {
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
            Pathway::Backprop | Pathway::BackpropDetached => None,
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
            detach_feedback: inner.pathway == Pathway::BackpropDetached,
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

    pub(super) fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    pub(super) fn check_sample(
        &self,
        input: &[T],
        label: usize,
        what: &str,
        idx: usize,
    ) -> Result<()> {
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
    pub(super) fn step(&mut self, input: &[T], label: usize, step: usize) -> Result<()> {
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
            if self.feedback.is_none() && !self.detach_feedback {
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
}

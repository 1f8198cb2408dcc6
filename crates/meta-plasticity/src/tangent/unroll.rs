//! The state of one unrolled inner loop: buffers, the forward pass and the error back-projection
//! with their tangents.

use linalg::{Float, Matrix, activation, stacked::stacked_product_t};
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
    /// `W_ℓ` at index ℓ−1, updated in place.
    pub(super) w: Vec<Matrix<T>>,
    /// Fixed `B_ℓ` in the shape of `W_ℓ`; `None` for backprop.
    pub(super) feedback: Option<Vec<Matrix<T>>>,
    /// Backprop whose feedback `B = W` carries no tangent ([`Pathway::BackpropDetached`]).
    pub(super) detach_feedback: bool,
    /// Stacked tangents per layer, `(R·n) × m`.
    pub(super) wdot: Vec<Matrix<T>>,
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
    /// `[e | ė_1 … ė_R]` of a layer, `(R + 1)·n`, and its back-projection `Bᵀ[e | ė]`,
    /// `(R + 1)·m` (`k`-major), at the lower layer's index.
    pub(super) stack: Vec<Vec<T>>,
    pub(super) projected: Vec<Vec<T>>,
    // Per-layer scratch, index ℓ−1: `q = Wᵀ y` and its tangent (interleaved `R × m`).
    pub(super) q: Vec<Vec<T>>,
    pub(super) qdot: Vec<Vec<T>>,
    /// The next sample's forward pass, computed during this step's update (`y`, `z`, `ds`, `ẏ`,
    /// `ż` of step t + 1); swapped with the current ones at the end of the step.
    pub(super) y_next: Vec<Vec<T>>,
    pub(super) z_next: Vec<Vec<T>>,
    pub(super) ds_next: Vec<Vec<T>>,
    pub(super) ydot_next: Vec<Vec<T>>,
    pub(super) zdot_next: Vec<Vec<T>>,
    /// Per-column coefficients of the update, `[r_e,j, r_y,j, −θ₄ e_p,j]` at `3j..3j+3`.
    pub(super) rhs_primal: Vec<Vec<T>>,
    /// Their tangents, `[ṙ_e,kj, ṙ_y,kj, ḟ₄,kj]` at `3R·j + 3k..3R·j + 3k + 3`.
    pub(super) rhs_tangent: Vec<Vec<T>>,
}

impl<T: Float> Unroll<T> {
    /// The loop that differentiates `terms` by carrying one tangent per term.
    pub(super) fn new(
        inner: &InnerLoop<T>,
        terms: &[Term],
        theta: &[f64; N_TERMS],
    ) -> Result<Self> {
        Self::build(inner, terms, theta, true)
    }

    /// The primal loop alone for a reverse sweep that differentiates `terms`: no tangents, but
    /// every term of `terms` counts as acting (so the vectors it reads, such as e₀, are
    /// computed even while its θ is 0). The arithmetic is that of [`Unroll::new`] up to the
    /// order of sums: the fused `f32` pass splits and groups its columns by the number of
    /// tangents (`linalg::stacked`), so on the paper's network the weights differ from forward
    /// mode's in the last bits (on the small networks of the tests they are identical).
    pub(super) fn primal_for(
        inner: &InnerLoop<T>,
        terms: &[Term],
        theta: &[f64; N_TERMS],
    ) -> Result<Self> {
        Self::build(inner, terms, theta, false)
    }

    fn build(
        inner: &InnerLoop<T>,
        terms: &[Term],
        theta: &[f64; N_TERMS],
        carry_tangents: bool,
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
        let mut terms = if carry_tangents {
            terms.to_vec()
        } else {
            Vec::new()
        };
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
        Ok(Unroll {
            beta: T::of_f64(inner.beta),
            terms,
            theta: theta_t,
            has,
            needs_input_error,
            w: inner.weights.clone(),
            feedback,
            detach_feedback: inner.pathway == Pathway::BackpropDetached,
            wdot: sizes
                .windows(2)
                .map(|p| Matrix::zeros(n_tangents * p[1], p[0]))
                .collect(),
            y: per_node(&|n| n),
            z: per_node(&|n| n),
            ds: per_node(&|n| n),
            e: per_node(&|n| n),
            g: per_node(&|n| n),
            ydot: per_node(&|n| n * n_tangents),
            zdot: per_node(&|n| n * n_tangents),
            edot: per_node(&|n| n * n_tangents),
            gdot: per_node(&|n| n * n_tangents),
            stack: per_node(&|n| n * (n_tangents + 1)),
            projected: per_node(&|n| n * (n_tangents + 1)),
            q: per_layer(&|_, m| m),
            qdot: per_layer(&|_, m| m * n_tangents),
            y_next: per_node(&|n| n),
            z_next: per_node(&|n| n),
            ds_next: per_node(&|n| n),
            ydot_next: per_node(&|n| n * n_tangents),
            zdot_next: per_node(&|n| n * n_tangents),
            rhs_primal: per_layer(&|_, m| 3 * m),
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

    /// The errors of the current step: the output error (checked for finiteness), then its
    /// back-projection with tangents. The forward pass of this step is already in the buffers.
    pub(super) fn teach(&mut self, label: usize, step: usize) -> Result<()> {
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
        Ok(())
    }

    /// The update of every layer's `W` and `Ẇ` from the current step, fused with the forward pass
    /// of the `next` input (if any) through the updated layers, which becomes the current one.
    ///
    /// Layer ℓ's update reads only this step's vectors; its forward part needs the next input of
    /// layer ℓ, which layer ℓ − 1 (already updated) has just produced. So each layer's `W` and
    /// `Ẇ` are read once and written once per step.
    pub(super) fn advance(&mut self, next: Option<&[T]>) {
        let n_layers = self.n_layers();
        if let Some(input) = next {
            self.y_next[0].copy_from_slice(input);
        }
        for layer in 1..=n_layers {
            self.update_layer(layer, next.is_some());
            if next.is_some() {
                activate(
                    layer == n_layers,
                    self.beta,
                    &self.z_next[layer],
                    &self.zdot_next[layer],
                    &mut self.y_next[layer],
                    &mut self.ds_next[layer],
                    &mut self.ydot_next[layer],
                );
            }
        }
        if next.is_some() {
            std::mem::swap(&mut self.y, &mut self.y_next);
            std::mem::swap(&mut self.z, &mut self.z_next);
            std::mem::swap(&mut self.ds, &mut self.ds_next);
            std::mem::swap(&mut self.ydot, &mut self.ydot_next);
            std::mem::swap(&mut self.zdot, &mut self.zdot_next);
        }
    }

    /// Primal and tangent forward pass of the first sample (`ẏ₀ = 0`); later samples go
    /// through [`Unroll::advance`].
    pub(super) fn forward(&mut self, input: &[T]) {
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
                    (self.wdot[layer - 1].as_slice(), n_tangents * n, m, false),
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
            activate(
                layer == n_layers,
                self.beta,
                z,
                &self.zdot[layer],
                y,
                &mut self.ds[layer],
                &mut self.ydot[layer],
            );
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
                Some(matrices) => &matrices[target],
                None => &self.w[target],
            };
            // [g | ġ_1 … ġ_R] = Bᵀ [e | ė_1 … ė_R] (k-major), each column of B read once.
            let stack = &mut self.stack[source];
            stack[..n].copy_from_slice(&self.e[source]);
            stack[n..].copy_from_slice(&self.edot[source]);
            let projected = &mut self.projected[target];
            stacked_product_t(b, stack, projected);
            let g = &mut self.g[target];
            g.copy_from_slice(&projected[..m]);
            for ((et, &gj), &d) in self.e[target]
                .iter_mut()
                .zip(g.iter())
                .zip(&self.ds[target])
            {
                *et = gj * d;
            }
            if n_tangents == 0 {
                continue;
            }
            // ġ (interleaved R × m): Ėᵀ B, plus Ẇ_kᵀ e for backprop.
            let gdot = &mut self.gdot[target];
            if self.feedback.is_none() && !self.detach_feedback {
                matmul(
                    gdot,
                    1,
                    n_tangents * m,
                    false,
                    (&self.e[source], n, 1, true),
                    (self.wdot[target].as_slice(), n, n_tangents * m, false),
                );
            } else {
                gdot.fill(T::zero());
            }
            for k in 0..n_tangents {
                for (j, &value) in projected[(k + 1) * m..(k + 2) * m].iter().enumerate() {
                    gdot[j * n_tangents + k] += value;
                }
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

/// `y = softplus_β(z)` with `ds = σ′` and `ẏ_k = σ′ ⊙ ż_k` (hidden layers), or the softmax with
/// `ẏ_k = y ⊙ (ż_k − yᵀż_k)` (output layer).
fn activate<T: Float>(
    output: bool,
    beta: T,
    z: &[T],
    zdot: &[T],
    y: &mut [T],
    ds: &mut [T],
    ydot: &mut [T],
) {
    let n = z.len();
    if output {
        activation::softmax(y, z);
        for (col_in, col_out) in zdot.chunks_exact(n).zip(ydot.chunks_exact_mut(n)) {
            let mean = dot(y, col_in);
            for ((out, &zd), &p) in col_out.iter_mut().zip(col_in).zip(y.iter()) {
                *out = p * (zd - mean);
            }
        }
    } else {
        activation::softplus_with_derivative(y, ds, z, beta);
        for (col_in, col_out) in zdot.chunks_exact(n).zip(ydot.chunks_exact_mut(n)) {
            for ((out, &zd), &d) in col_out.iter_mut().zip(col_in).zip(ds.iter()) {
                *out = d * zd;
            }
        }
    }
}

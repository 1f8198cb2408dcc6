//! The query pass after the last update: loss, accuracy, and the contraction of `∂L/∂W` with
//! the tangents into `dL/dΘ`.

use linalg::{Float, activation};
use plasticity_core::N_TERMS;

use crate::{
    Error, Result, Sample, UnrollOutcome,
    tangent::{dot, matmul, unroll::Unroll},
};

/// The query set scored on the final weights.
pub(super) struct Scored<T> {
    /// Mean cross-entropy.
    pub(super) loss: f64,
    /// Fraction of samples whose argmax output is their label.
    pub(super) accuracy: f64,
    /// `∂L/∂W_ℓ` per layer, column-major.
    pub(super) grads: Vec<Vec<T>>,
}

impl<T: Float> Unroll<T> {
    /// Scores the query set on the final weights and contracts `∂L/∂W` with the tangents.
    pub(super) fn finish(
        mut self,
        query: &[Sample<'_, T>],
        n_steps: usize,
    ) -> Result<UnrollOutcome<T>> {
        let n_tangents = self.terms.len();
        let Scored {
            loss: query_loss,
            accuracy: query_accuracy,
            grads,
        } = self.score(query, n_steps)?;
        let mut gradient = [0.0f64; N_TERMS];
        for (layer_idx, grad) in grads.iter().enumerate() {
            let n = self.sizes[layer_idx + 1];
            let stacked = n_tangents * n;
            for (k, term) in self.terms.iter().enumerate() {
                let mut total = 0.0f64;
                for (g_col, wdot_col) in grad
                    .chunks_exact(n)
                    .zip(self.wdot[layer_idx].as_slice().chunks_exact(stacked))
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
            query_accuracy,
            gradient,
            weights: self.w,
        })
    }

    /// The query loss, accuracy and `∂L/∂W` on the current weights (the vectors of the last
    /// training step are overwritten).
    ///
    /// # Errors
    /// [`Error::Diverged`] at `n_steps` if the loss is not finite.
    pub(super) fn score(&mut self, query: &[Sample<'_, T>], n_steps: usize) -> Result<Scored<T>> {
        let n_layers = self.n_layers();
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
        Ok(Scored {
            loss: query_loss,
            accuracy: n_correct as f64 / query.len() as f64,
            grads,
        })
    }
}

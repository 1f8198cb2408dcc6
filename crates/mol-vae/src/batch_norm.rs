//! Batch normalisation over minibatch columns, with PyTorch's train/eval semantics.

use serde::{Deserialize, Serialize};

use linalg::{Float, Matrix, Vector};

/// The trainable part of a BatchNorm layer: scale `γ` (init 1) and shift `β` (init 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Affine<T: Float> {
    /// `γ`.
    pub gamma: Vector<T>,
    /// `β`.
    pub beta: Vector<T>,
}

/// The running statistics of a BatchNorm layer (not trained by gradients): mean (init 0) and
/// unbiased variance (init 1), updated in training mode with momentum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct RunningStats<T: Float> {
    /// Running mean.
    pub mean: Vector<T>,
    /// Running (unbiased) variance.
    pub var: Vector<T>,
}

/// Whether BatchNorm uses the batch's statistics (and updates the running ones) or the running
/// statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Training: normalise by the batch mean and biased variance, update running statistics.
    Train,
    /// Evaluation: normalise by the running statistics; the reparameterisation uses `z = μ`.
    Eval,
}

impl<T: Float> Affine<T> {
    /// `γ = 1`, `β = 0` (PyTorch's initialisation, kept by the code's `weights_init`).
    pub fn identity(n: usize) -> Affine<T> {
        Affine {
            gamma: Vector::from_element(n, T::one()),
            beta: Vector::zeros(n),
        }
    }

    /// A zero affine (gradient accumulator).
    pub fn zeros(n: usize) -> Affine<T> {
        Affine {
            gamma: Vector::zeros(n),
            beta: Vector::zeros(n),
        }
    }
}

impl<T: Float> RunningStats<T> {
    /// Mean 0, variance 1 (PyTorch's initialisation).
    pub fn new(n: usize) -> RunningStats<T> {
        RunningStats {
            mean: Vector::zeros(n),
            var: Vector::from_element(n, T::one()),
        }
    }
}

/// What the backward pass of a BatchNorm needs from its forward pass.
#[derive(Debug, Clone)]
pub(crate) struct BatchNormCache<T: Float> {
    /// The normalised input `x̂` (`n × R`).
    pub(crate) normalized: Matrix<T>,
    /// `1 / √(σ² + ε)` per feature (batch variance in training, running in evaluation).
    pub(crate) inv_std: Vec<T>,
}

/// BatchNorm forward (PyTorch's `BatchNorm1d`):
///
/// ```text
/// train:  m = mean_r x,  v = mean_r (x − m)²,  x̂ = (x − m)/√(v + ε),  y = γ x̂ + β
///         running_mean ← (1 − ρ) running_mean + ρ m
///         running_var  ← (1 − ρ) running_var  + ρ v · n/(n − 1)
/// eval:   x̂ = (x − running_mean)/√(running_var + ε),  y = γ x̂ + β
/// ```
///
/// `n_effective` is the batch size PyTorch would see for the unbiased correction: the GSVAE
/// code replicates each batch L times before the encoder, so the statistics are those of the `R`
/// columns given here but the correction uses `n = R·L` (digest §3.2, "exact speed-up").
/// With a single effective row the running variance is left unchanged (PyTorch rejects such
/// batches; callers validate batch sizes).
pub(crate) fn forward<T: Float>(
    y: &mut Matrix<T>,
    x: &Matrix<T>,
    affine: &Affine<T>,
    stats: &mut RunningStats<T>,
    mode: Mode,
    (momentum, eps): (f64, f64),
    n_effective: usize,
) -> BatchNormCache<T> {
    let (n, cols) = x.shape();
    let eps_t = T::of_f64(eps);
    let (mean, inv_std) = match mode {
        Mode::Train => {
            let mut mean = vec![T::zero(); n];
            for col in x.as_slice().chunks_exact(n) {
                for (m, &v) in mean.iter_mut().zip(col) {
                    *m += v;
                }
            }
            let inv_cols = T::one() / T::of_f64(cols as f64);
            for m in &mut mean {
                *m *= inv_cols;
            }
            let mut var = vec![T::zero(); n];
            for col in x.as_slice().chunks_exact(n) {
                for ((s, &v), &m) in var.iter_mut().zip(col).zip(&mean) {
                    let d = v - m;
                    *s += d * d;
                }
            }
            for s in &mut var {
                *s *= inv_cols;
            }
            let rho = T::of_f64(momentum);
            let keep = T::one() - rho;
            let unbias = if n_effective > 1 {
                Some(T::of_f64(n_effective as f64 / (n_effective as f64 - 1.0)))
            } else {
                None
            };
            for idx in 0..n {
                stats.mean[idx] = keep * stats.mean[idx] + rho * mean[idx];
                if let Some(unbias) = unbias {
                    stats.var[idx] = keep * stats.var[idx] + rho * var[idx] * unbias;
                }
            }
            let inv_std: Vec<T> = var.iter().map(|&v| T::one() / (v + eps_t).sqrt()).collect();
            (mean, inv_std)
        }
        Mode::Eval => {
            let mean = stats.mean.as_slice().to_vec();
            let inv_std = stats
                .var
                .iter()
                .map(|&v| T::one() / (v + eps_t).sqrt())
                .collect();
            (mean, inv_std)
        }
    };
    let mut normalized = Matrix::zeros(n, cols);
    for ((ncol, ycol), xcol) in normalized
        .as_mut_slice()
        .chunks_exact_mut(n)
        .zip(y.as_mut_slice().chunks_exact_mut(n))
        .zip(x.as_slice().chunks_exact(n))
    {
        for idx in 0..n {
            let xh = (xcol[idx] - mean[idx]) * inv_std[idx];
            ncol[idx] = xh;
            ycol[idx] = affine.gamma[idx] * xh + affine.beta[idx];
        }
    }
    BatchNormCache {
        normalized,
        inv_std,
    }
}

/// BatchNorm backward in training mode: accumulates `∂γ = Σ_r ∂y x̂`, `∂β = Σ_r ∂y` into
/// `grad` and, if asked, writes
///
/// ```text
/// ∂x = γ/√(v + ε) · (∂y − mean_r ∂y − x̂ · mean_r(∂y x̂))
/// ```
pub(crate) fn backward<T: Float>(
    cache: &BatchNormCache<T>,
    affine: &Affine<T>,
    grad: &mut Affine<T>,
    dy: &Matrix<T>,
    dx: Option<&mut Matrix<T>>,
) {
    let (n, cols) = dy.shape();
    let mut sum_dy = vec![T::zero(); n];
    let mut sum_dy_xh = vec![T::zero(); n];
    for (dcol, ncol) in dy
        .as_slice()
        .chunks_exact(n)
        .zip(cache.normalized.as_slice().chunks_exact(n))
    {
        for idx in 0..n {
            sum_dy[idx] += dcol[idx];
            sum_dy_xh[idx] += dcol[idx] * ncol[idx];
        }
    }
    for idx in 0..n {
        grad.beta[idx] += sum_dy[idx];
        grad.gamma[idx] += sum_dy_xh[idx];
    }
    if let Some(dx) = dx {
        let inv_cols = T::one() / T::of_f64(cols as f64);
        let scale: Vec<T> = (0..n)
            .map(|idx| affine.gamma[idx] * cache.inv_std[idx])
            .collect();
        for ((xcol, dcol), ncol) in dx
            .as_mut_slice()
            .chunks_exact_mut(n)
            .zip(dy.as_slice().chunks_exact(n))
            .zip(cache.normalized.as_slice().chunks_exact(n))
        {
            for idx in 0..n {
                xcol[idx] = scale[idx]
                    * (dcol[idx] - sum_dy[idx] * inv_cols - ncol[idx] * sum_dy_xh[idx] * inv_cols);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use linalg::{
        gaussian::fill_standard_normal,
        rng::{Stream, stream},
        testing::{check_gradient, tol},
    };

    use super::*;

    /// Loss `Σ c ⊙ BN(x)` in training mode as a function of `(γ, β, x)` flattened.
    fn loss(flat: &[f64], n: usize, cols: usize, c: &Matrix<f64>) -> f64 {
        let affine = Affine {
            gamma: Vector::from_column_slice(&flat[..n]),
            beta: Vector::from_column_slice(&flat[n..2 * n]),
        };
        let x = Matrix::from_column_slice(n, cols, &flat[2 * n..]);
        let mut y = Matrix::zeros(n, cols);
        let mut stats = RunningStats::new(n);
        forward(
            &mut y,
            &x,
            &affine,
            &mut stats,
            Mode::Train,
            (0.1, 1e-5),
            cols,
        );
        y.component_mul(c).sum()
    }

    #[test]
    fn batch_norm_backward_matches_finite_differences() {
        let (n, cols) = (4, 5);
        for seed in 0..3 {
            let mut rng = stream(seed, Stream::Init);
            let mut flat = vec![0.0; 2 * n + n * cols];
            fill_standard_normal(&mut flat, &mut rng);
            let mut c = Matrix::zeros(n, cols);
            fill_standard_normal(c.as_mut_slice(), &mut rng);
            let affine = Affine {
                gamma: Vector::from_column_slice(&flat[..n]),
                beta: Vector::from_column_slice(&flat[n..2 * n]),
            };
            let x = Matrix::from_column_slice(n, cols, &flat[2 * n..]);
            let mut y = Matrix::zeros(n, cols);
            let mut stats = RunningStats::new(n);
            let cache = forward(
                &mut y,
                &x,
                &affine,
                &mut stats,
                Mode::Train,
                (0.1, 1e-5),
                cols,
            );
            let mut grad = Affine::zeros(n);
            let mut dx = Matrix::zeros(n, cols);
            backward(&cache, &affine, &mut grad, &c, Some(&mut dx));
            let analytic = [grad.gamma.as_slice(), grad.beta.as_slice(), dx.as_slice()].concat();
            check_gradient(|p| loss(p, n, cols, &c), &flat, &analytic, tol::GRAD);
        }
    }

    #[test]
    fn running_statistics_follow_pytorch() {
        // Two columns [1, 3] of one feature, counted as n = 4 rows (two copies each).
        let x = Matrix::from_row_slice(1, 2, &[1.0, 3.0]);
        let mut y = Matrix::zeros(1, 2);
        let mut stats = RunningStats::<f64>::new(1);
        forward(
            &mut y,
            &x,
            &Affine::identity(1),
            &mut stats,
            Mode::Train,
            (0.1, 1e-5),
            4,
        );
        // Batch mean 2, biased variance 1, unbiased with n = 4: 4/3.
        linalg::testing::assert_close(stats.mean[0], 0.2, tol::EXACT);
        linalg::testing::assert_close(stats.var[0], 0.9 + 0.1 * 4.0 / 3.0, tol::EXACT);
        linalg::testing::assert_close(y[(0, 0)], -1.0 / (1.0f64 + 1e-5).sqrt(), tol::EXACT);
        // Evaluation uses the running statistics.
        let cache = forward(
            &mut y,
            &x,
            &Affine::identity(1),
            &mut stats,
            Mode::Eval,
            (0.1, 1e-5),
            4,
        );
        let expected = (1.0 - 0.2) / (0.9f64 + 0.4 / 3.0 + 1e-5).sqrt();
        linalg::testing::assert_close(y[(0, 0)], expected, tol::EXACT);
        linalg::testing::assert_close(cache.normalized[(0, 0)], expected, tol::EXACT);
    }
}

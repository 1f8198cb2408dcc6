//! Fully connected layers on minibatches stored one sample per column.

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use linalg::{
    Float, Matrix, Rng, Vector,
    kernels::{Accumulate, Transpose, gemm},
};

/// Widest batch [`Linear::forward_split`] sends through the narrow-`X` kernel (training
/// minibatches are `B = N/25`: 8 at N = 200, 24 at N = 600, 80 at N = 2,000).
pub(crate) const NARROW_BATCH: usize = 96;

/// A fully connected layer `y = W x + b` (PyTorch's `nn.Linear`), `weight` is `n_out × n_in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Linear<T: Float> {
    /// `W`, `n_out × n_in`.
    pub weight: Matrix<T>,
    /// `b`, length `n_out`.
    pub bias: Vector<T>,
}

impl<T: Float> Linear<T> {
    /// Glorot-uniform weights **and biases**, both on the weight's bound (the GSVAE code's
    /// `weights_init`, digest §3.1):
    ///
    /// ```text
    /// Wᵢⱼ, bᵢ ~ U(−a, a),   a = √(6 / (n_in + n_out))      [C §3.1, "init"]
    /// ```
    ///
    /// The weight is drawn first (column-major), then the bias.
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// let layer = mol_vae::Linear::<f64>::glorot(3, 5, &mut stream(0, Stream::Init));
    /// let bound = (6.0f64 / 8.0).sqrt();
    /// assert!(layer.bias.iter().all(|b| b.abs() <= bound));
    /// assert!(layer.bias.iter().any(|b| b.abs() > 0.0));
    /// ```
    pub fn glorot(n_out: usize, n_in: usize, rng: &mut Rng) -> Linear<T> {
        let weight = linalg::init::xavier_uniform(n_out, n_in, 1.0, rng);
        let bound = (6.0 / (n_in + n_out).max(1) as f64).sqrt();
        let bias = Vector::from_fn(n_out, |_, _| {
            let u: f64 = rng.random::<f64>();
            T::of_f64((2.0 * u - 1.0) * bound)
        });
        Linear { weight, bias }
    }

    /// A zero layer of the given shape (gradient accumulators, Adam moments).
    pub fn zeros(n_out: usize, n_in: usize) -> Linear<T> {
        Linear {
            weight: Matrix::zeros(n_out, n_in),
            bias: Vector::zeros(n_out),
        }
    }

    /// Number of outputs.
    pub fn n_out(&self) -> usize {
        self.weight.nrows()
    }

    /// Number of inputs.
    pub fn n_in(&self) -> usize {
        self.weight.ncols()
    }

    /// `Y = W X + b 1ᵀ` for a batch `X` (`n_in × R`), written into `y` (`n_out × R`).
    ///
    /// # Panics
    /// If the shapes do not chain.
    pub fn forward(&self, y: &mut Matrix<T>, x: &Matrix<T>) {
        gemm(
            y,
            T::one(),
            &self.weight,
            Transpose::No,
            x,
            Transpose::No,
            Accumulate::Replace,
        );
        self.add_bias(y);
    }

    /// `Y = W X + b 1ᵀ` for the 9,425 × 400 encoder layer, parallel without depending on the
    /// thread count for its bits: a training minibatch (at most 96 columns) goes
    /// through [`linalg::narrow::matmul_narrow`], which streams `W` once in fixed column blocks;
    /// a wider batch (encoding a dataset) is split into two fixed column halves computed by
    /// `rayon::join`.
    ///
    /// # Panics
    /// If the shapes do not chain.
    pub fn forward_split(&self, y: &mut Matrix<T>, x: &Matrix<T>) {
        let cols = x.ncols();
        if cols <= NARROW_BATCH {
            linalg::narrow::matmul_narrow(y, &self.weight, x);
            self.add_bias(y);
            return;
        }
        let half = cols / 2;
        let (left_x, right_x) = (
            x.columns(0, half).into_owned(),
            x.columns(half, cols - half).into_owned(),
        );
        let mut left = Matrix::zeros(self.n_out(), half);
        let mut right = Matrix::zeros(self.n_out(), cols - half);
        rayon::join(
            || self.forward(&mut left, &left_x),
            || self.forward(&mut right, &right_x),
        );
        let split = self.n_out() * half;
        y.as_mut_slice()[..split].copy_from_slice(left.as_slice());
        y.as_mut_slice()[split..].copy_from_slice(right.as_slice());
    }

    /// `Y += b 1ᵀ`.
    fn add_bias(&self, y: &mut Matrix<T>) {
        let n_out = self.n_out();
        for col in y.as_mut_slice().chunks_exact_mut(n_out) {
            for (yi, &bi) in col.iter_mut().zip(self.bias.iter()) {
                *yi += bi;
            }
        }
    }

    /// Accumulates the parameter gradients of a batch into `grad`
    /// (`∂W += ∂Y Xᵀ`, `∂b += ∂Y 1`) and, if asked, writes `∂X = Wᵀ ∂Y`. The two products are
    /// independent and run under `rayon::join`.
    ///
    /// # Panics
    /// If the shapes do not chain.
    pub fn backward(
        &self,
        grad: &mut Linear<T>,
        x: &Matrix<T>,
        dy: &Matrix<T>,
        dx: Option<&mut Matrix<T>>,
    ) {
        match dx {
            Some(dx) => {
                rayon::join(
                    || Self::backward_params(grad, x, dy),
                    || self.backward_input(dy, dx),
                );
            }
            None => Self::backward_params(grad, x, dy),
        }
    }

    /// `∂W += ∂Y Xᵀ`, `∂b += ∂Y 1`.
    fn backward_params(grad: &mut Linear<T>, x: &Matrix<T>, dy: &Matrix<T>) {
        gemm(
            &mut grad.weight,
            T::one(),
            dy,
            Transpose::No,
            x,
            Transpose::Yes,
            Accumulate::Add,
        );
        let n_out = grad.bias.len();
        for col in dy.as_slice().chunks_exact(n_out) {
            for (gi, &di) in grad.bias.iter_mut().zip(col) {
                *gi += di;
            }
        }
    }

    /// `∂X = Wᵀ ∂Y`.
    fn backward_input(&self, dy: &Matrix<T>, dx: &mut Matrix<T>) {
        gemm(
            dx,
            T::one(),
            &self.weight,
            Transpose::Yes,
            dy,
            Transpose::No,
            Accumulate::Replace,
        );
    }
}

/// LeakyReLU in place: `x ← max(x, 0) + slope · min(x, 0)`.
pub(crate) fn leaky_relu<T: Float>(values: &mut [T], slope: T) {
    for v in values.iter_mut() {
        if *v < T::zero() {
            *v *= slope;
        }
    }
}

/// Backward of LeakyReLU given its output (the sign of the output is the sign of the input for
/// a positive slope): `∂x = ∂y · (1 if y > 0 else slope)`.
pub(crate) fn leaky_relu_backward<T: Float>(grad: &mut [T], output: &[T], slope: T) {
    for (g, &y) in grad.iter_mut().zip(output) {
        if y <= T::zero() {
            *g *= slope;
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

    /// Loss `Σ c ⊙ (W X + b)` as a function of `(W, b, X)` flattened.
    fn loss(flat: &[f64], n_out: usize, n_in: usize, cols: usize, c: &Matrix<f64>) -> f64 {
        let n_w = n_out * n_in;
        let layer = Linear {
            weight: Matrix::from_column_slice(n_out, n_in, &flat[..n_w]),
            bias: Vector::from_column_slice(&flat[n_w..n_w + n_out]),
        };
        let x = Matrix::from_column_slice(n_in, cols, &flat[n_w + n_out..]);
        let mut y = Matrix::zeros(n_out, cols);
        layer.forward(&mut y, &x);
        y.component_mul(c).sum()
    }

    #[test]
    fn linear_backward_matches_finite_differences() {
        let (n_out, n_in, cols) = (4, 5, 3);
        for seed in 0..3 {
            let mut rng = stream(seed, Stream::Init);
            let layer = Linear::<f64>::glorot(n_out, n_in, &mut rng);
            let mut x = Matrix::zeros(n_in, cols);
            fill_standard_normal(x.as_mut_slice(), &mut rng);
            let mut c = Matrix::zeros(n_out, cols);
            fill_standard_normal(c.as_mut_slice(), &mut rng);
            let mut grad = Linear::zeros(n_out, n_in);
            let mut dx = Matrix::zeros(n_in, cols);
            layer.backward(&mut grad, &x, &c, Some(&mut dx));
            let point = [layer.weight.as_slice(), layer.bias.as_slice(), x.as_slice()].concat();
            let analytic = [grad.weight.as_slice(), grad.bias.as_slice(), dx.as_slice()].concat();
            check_gradient(
                |p| loss(p, n_out, n_in, cols, &c),
                &point,
                &analytic,
                tol::GRAD,
            );
        }
    }
}

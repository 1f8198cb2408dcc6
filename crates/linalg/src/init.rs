//! Weight initialisers: Xavier (Glorot) uniform and normal with a gain.

use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

use crate::{Float, Matrix, Rng};

/// Xavier/Glorot uniform initialisation of an `n_out × n_in` weight matrix.
///
/// ```text
/// Wᵢⱼ ~ U(−a, a),   a = gain · √(6 / (n_in + n_out))      [Glorot & Bengio 2010, Eq. 16]
/// ```
///
/// `fan_in = n_in` (columns) and `fan_out = n_out` (rows), PyTorch's convention for
/// `nn.Linear` weights. Entries are drawn in column-major order.
///
/// # Example
/// ```
/// use linalg::{init::xavier_uniform, rng::{stream, Stream}};
/// let w = xavier_uniform::<f32>(170, 784, 1.0, &mut stream(0, Stream::Init));
/// let bound = (6.0f32 / (170.0 + 784.0)).sqrt();
/// assert!(w.iter().all(|v| v.abs() <= bound));
/// ```
pub fn xavier_uniform<T: Float>(n_out: usize, n_in: usize, gain: f64, rng: &mut Rng) -> Matrix<T> {
    let bound = gain * (6.0 / (n_in + n_out).max(1) as f64).sqrt();
    Matrix::from_fn(n_out, n_in, |_, _| {
        let u: f64 = rng.random::<f64>();
        T::of_f64((2.0 * u - 1.0) * bound)
    })
}

/// Xavier/Glorot normal initialisation of an `n_out × n_in` weight matrix.
///
/// ```text
/// Wᵢⱼ ~ N(0, s²),   s = gain · √(2 / (n_in + n_out))
/// ```
///
/// # Example
/// ```
/// use linalg::{init::xavier_normal, rng::{stream, Stream}};
/// let w = xavier_normal::<f64>(100, 100, 1.0, &mut stream(0, Stream::Init));
/// let var = w.iter().map(|v| v * v).sum::<f64>() / 10_000.0;
/// assert!((var - 0.01).abs() < 0.001);
/// ```
pub fn xavier_normal<T: Float>(n_out: usize, n_in: usize, gain: f64, rng: &mut Rng) -> Matrix<T> {
    let std = gain * (2.0 / (n_in + n_out).max(1) as f64).sqrt();
    Matrix::from_fn(n_out, n_in, |_, _| {
        let n: f64 = StandardNormal.sample(rng);
        T::of_f64(n * std)
    })
}

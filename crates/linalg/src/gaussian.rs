//! Standard-normal draws into caller-owned buffers (reparameterisation noise, prior samples).

use rand_distr::{Distribution, StandardNormal};

use crate::{Float, Rng};

/// Fills `out` with independent N(0, 1) draws, in index order (rand_distr's `StandardNormal`,
/// drawn in `f64` and rounded to `T`).
///
/// # Example
/// ```
/// use linalg::{gaussian::fill_standard_normal, rng::{stream, Stream}};
/// let mut eps = vec![0.0f64; 10_000];
/// fill_standard_normal(&mut eps, &mut stream(3, Stream::Noise));
/// let mean = eps.iter().sum::<f64>() / 10_000.0;
/// assert!(mean.abs() < 4.0 / 100.0); // 4 standard errors of the mean.
/// ```
pub fn fill_standard_normal<T: Float>(out: &mut [T], rng: &mut Rng) {
    for value in out.iter_mut() {
        let draw: f64 = StandardNormal.sample(rng);
        *value = T::of_f64(draw);
    }
}

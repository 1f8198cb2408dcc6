//! Small statistics shared by the experiment reports: mean and percentile-bootstrap intervals.

use rand::Rng as _;

use crate::Rng;

/// Arithmetic mean, summed in index order; `None` for an empty slice.
///
/// # Example
/// ```
/// assert_eq!(linalg::stats::mean(&[1.0, 2.0, 3.0]), Some(2.0));
/// ```
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Percentile-bootstrap confidence interval of the mean.
///
/// Draws `n_resamples` resamples with replacement and returns the `(1−level)/2` and `(1+level)/2`
/// quantiles of their means. `None` for an empty slice.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// let values = [0.90, 0.91, 0.89, 0.92, 0.90];
/// let (lo, hi) = linalg::stats::bootstrap_ci(&values, 0.95, 2000, &mut stream(0, Stream::Bootstrap)).unwrap();
/// assert!(lo <= 0.904 && 0.904 <= hi);
/// ```
pub fn bootstrap_ci(
    values: &[f64],
    level: f64,
    n_resamples: usize,
    rng: &mut Rng,
) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let mut means: Vec<f64> = (0..n_resamples.max(1))
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let lo = quantile_sorted(&means, (1.0 - level) / 2.0);
    let hi = quantile_sorted(&means, (1.0 + level) / 2.0);
    Some((lo, hi))
}

/// Quantile `q ∈ [0, 1]` of sorted values by linear interpolation (numpy's default rule).
///
/// # Panics
/// If `sorted` is empty.
///
/// # Example
/// ```
/// assert_eq!(linalg::stats::quantile_sorted(&[0.0, 1.0, 2.0], 0.25), 0.5);
/// ```
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty slice");
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

//! Gaussian predictive distributions: intervals, their empirical coverage, and the mean error.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, normal::standard_normal_quantile};

/// A Gaussian predictive distribution `N(mean, variance)` for one input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Predictive mean.
    pub mean: f64,
    /// Predictive variance (noise plus parameter uncertainty).
    pub variance: f64,
}

impl Prediction {
    /// The predictive standard deviation.
    ///
    /// # Example
    /// ```
    /// let p = bayes_uq::Prediction { mean: 0.0, variance: 4.0 };
    /// assert!((p.sd() - 2.0).abs() < 1e-15);
    /// ```
    pub fn sd(&self) -> f64 {
        self.variance.sqrt()
    }

    /// The central interval holding probability `level`.
    ///
    /// ```text
    /// [μ − z σ, μ + z σ],   z = Φ⁻¹((1 + level)/2)     (level 0.9 ⇒ z = 1.6449)
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `0 < level < 1`.
    ///
    /// # Example
    /// ```
    /// let (lo, hi) = bayes_uq::Prediction { mean: 1.0, variance: 1.0 }.interval(0.9).unwrap();
    /// assert!((hi - 1.0 - 1.6448536269514722).abs() < 1e-12 && (lo + hi - 2.0).abs() < 1e-12);
    /// ```
    pub fn interval(&self, level: f64) -> Result<(f64, f64)> {
        let z = z_of_level(level)?;
        let half_width = z * self.sd();
        Ok((self.mean - half_width, self.mean + half_width))
    }
}

/// The fraction of `targets` inside their predictions' central `level` intervals.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the lengths differ; [`Error::Empty`] for no predictions;
/// [`Error::InvalidConfig`] unless `0 < level < 1`.
///
/// # Example
/// ```
/// use bayes_uq::{Prediction, predictive::interval_coverage};
/// let p = [Prediction { mean: 0.0, variance: 1.0 }; 2];
/// assert!((interval_coverage(&p, &[0.5, 3.0], 0.9).unwrap() - 0.5).abs() < 1e-15);
/// ```
pub fn interval_coverage(predictions: &[Prediction], targets: &[f64], level: f64) -> Result<f64> {
    check_lengths(predictions, targets, "interval coverage")?;
    let z = z_of_level(level)?;
    let n_inside = predictions
        .iter()
        .zip(targets)
        .filter(|(prediction, target)| (**target - prediction.mean).abs() <= z * prediction.sd())
        .count();
    Ok(n_inside as f64 / predictions.len() as f64)
}

/// Mean absolute error of the predictive means.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the lengths differ; [`Error::Empty`] for no predictions.
///
/// # Example
/// ```
/// use bayes_uq::{Prediction, predictive::mean_absolute_error};
/// let p = [Prediction { mean: 1.0, variance: 1.0 }; 2];
/// assert!((mean_absolute_error(&p, &[0.0, 3.0]).unwrap() - 1.5).abs() < 1e-15);
/// ```
pub fn mean_absolute_error(predictions: &[Prediction], targets: &[f64]) -> Result<f64> {
    check_lengths(predictions, targets, "mean absolute error")?;
    let total: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(prediction, target)| (target - prediction.mean).abs())
        .sum();
    Ok(total / predictions.len() as f64)
}

/// `z = Φ⁻¹((1 + level)/2)`, checking `0 < level < 1`.
fn z_of_level(level: f64) -> Result<f64> {
    if level > 0.0 && level < 1.0 {
        Ok(standard_normal_quantile(0.5 * (1.0 + level)))
    } else {
        Err(Error::InvalidConfig {
            name: "interval level",
            reason: format!("must lie in (0, 1), got {level}"),
        })
    }
}

fn check_lengths(predictions: &[Prediction], targets: &[f64], op: &'static str) -> Result<()> {
    if predictions.len() != targets.len() {
        return Err(Error::ShapeMismatch {
            op,
            expected: (predictions.len(), 1),
            got: (targets.len(), 1),
        });
    }
    if predictions.is_empty() {
        return Err(Error::Empty { what: op });
    }
    Ok(())
}

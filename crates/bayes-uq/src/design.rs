//! Checks and centring of regression data (rows of `x` are items, columns are features).

use linalg::{Matrix, Vector};

use crate::{Error, Result};

/// Checks that `x` has one row per target, at least `min_items` rows and one column, and that
/// every entry is finite.
pub(crate) fn check_data(
    x: &Matrix<f64>,
    targets: &[f64],
    min_items: usize,
    op: &'static str,
) -> Result<()> {
    if x.nrows() != targets.len() {
        return Err(Error::ShapeMismatch {
            op,
            expected: (targets.len(), x.ncols()),
            got: (x.nrows(), x.ncols()),
        });
    }
    if x.ncols() == 0 {
        return Err(Error::Empty {
            what: "feature set",
        });
    }
    if x.nrows() < min_items {
        return Err(Error::InvalidConfig {
            name: "number of items",
            reason: format!("{op} needs at least {min_items} items, got {}", x.nrows()),
        });
    }
    if let Some(index) = targets.iter().position(|t| !t.is_finite()) {
        return Err(Error::NonFinite {
            what: "regression target (item)",
            index,
        });
    }
    for item_idx in 0..x.nrows() {
        if x.row(item_idx).iter().any(|value| !value.is_finite()) {
            return Err(Error::NonFinite {
                what: "regression feature row (item)",
                index: item_idx,
            });
        }
    }
    Ok(())
}

/// Checks that an input row for prediction has `n_features` finite entries.
pub(crate) fn check_input(x: &Matrix<f64>, n_features: usize, op: &'static str) -> Result<()> {
    if x.ncols() != n_features {
        return Err(Error::ShapeMismatch {
            op,
            expected: (x.nrows(), n_features),
            got: (x.nrows(), x.ncols()),
        });
    }
    for item_idx in 0..x.nrows() {
        if x.row(item_idx).iter().any(|value| !value.is_finite()) {
            return Err(Error::NonFinite {
                what: "prediction input row",
                index: item_idx,
            });
        }
    }
    Ok(())
}

/// Weighted column means `Σᵢ vᵢ xᵢ / Σᵢ vᵢ` and target mean, summed in item order.
pub(crate) fn weighted_means(
    x: &Matrix<f64>,
    targets: &[f64],
    weights: &[f64],
) -> (Vector<f64>, f64) {
    let total: f64 = weights.iter().sum();
    let mut feature_means = Vector::zeros(x.ncols());
    let mut target_mean = 0.0;
    for (item_idx, (&weight, &target)) in weights.iter().zip(targets).enumerate() {
        for feature in 0..x.ncols() {
            feature_means[feature] += weight * x[(item_idx, feature)];
        }
        target_mean += weight * target;
    }
    (feature_means / total, target_mean / total)
}

/// `x` with `means` subtracted from every row.
pub(crate) fn center_rows(x: &Matrix<f64>, means: &Vector<f64>) -> Matrix<f64> {
    Matrix::from_fn(x.nrows(), x.ncols(), |row, col| x[(row, col)] - means[col])
}

//! Conditions of the conditional design (CVAE, digest molecular.md §3.4): standardisation of the
//! conditioning properties ([`StandardScaler`]) and their Gaussian model
//! ([`ConditionGaussian`]), from which a target's companion conditions are drawn.

use serde::{Deserialize, Serialize};

use linalg::{Matrix, Rng, cholesky::Cholesky, gaussian::fill_standard_normal};

use crate::{Error, Result};

/// Per-property standardisation `(y − mean) / sd` with the population standard deviation, as
/// scikit-learn's `StandardScaler` (fitted on the training molecules in the code) [C §1, §3.4].
/// A property with zero spread gets scale 1, as in scikit-learn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl StandardScaler {
    /// Fits the scaler on `values` (`m × N`: one row per property, one column per molecule).
    ///
    /// ```text
    /// mean_k = (1/N) Σ_i y_ki,   sd_k = √((1/N) Σ_i (y_ki − mean_k)²)   (population sd)
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no row or no column; [`Error::InvalidConditions`] naming the molecule
    /// with a NaN or infinite value.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let y = Matrix::from_row_slice(1, 4, &[1.0, 2.0, 3.0, 4.0]);
    /// let scaler = mol_vae::conditions::StandardScaler::fit(&y).unwrap();
    /// assert_eq!(scaler.mean(), &[2.5]);
    /// assert!((scaler.scale()[0] - 1.25f64.sqrt()).abs() < 1e-15); // population sd, as sklearn
    /// ```
    pub fn fit(values: &Matrix<f64>) -> Result<StandardScaler> {
        let (m, n) = values.shape();
        if m == 0 || n == 0 {
            return Err(Error::Empty {
                what: "property matrix",
            });
        }
        check_finite(values)?;
        let mut mean = Vec::with_capacity(m);
        let mut scale = Vec::with_capacity(m);
        for row in values.row_iter() {
            let mu = row.iter().sum::<f64>() / n as f64;
            let var = row.iter().map(|y| (y - mu) * (y - mu)).sum::<f64>() / n as f64;
            let sd = var.sqrt();
            mean.push(mu);
            scale.push(if sd > 0.0 { sd } else { 1.0 });
        }
        Ok(StandardScaler { mean, scale })
    }

    /// The fitted means, one per property.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The fitted standard deviations (population), one per property.
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Number of properties.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Standardises every column of `values` (`m × N`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `values` does not have one row per property.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let y = Matrix::from_row_slice(2, 2, &[1.0, 3.0, 10.0, 10.0]);
    /// let scaler = mol_vae::conditions::StandardScaler::fit(&y).unwrap();
    /// let z = scaler.transform(&y).unwrap();
    /// assert_eq!(z.row(0).iter().copied().collect::<Vec<_>>(), vec![-1.0, 1.0]);
    /// assert_eq!(z.row(1).iter().copied().collect::<Vec<_>>(), vec![0.0, 0.0]); // zero spread
    /// ```
    pub fn transform(&self, values: &Matrix<f64>) -> Result<Matrix<f64>> {
        if values.nrows() != self.dim() {
            return Err(Error::ShapeMismatch {
                op: "StandardScaler::transform",
                expected: (self.dim(), values.ncols()),
                got: values.shape(),
            });
        }
        Ok(Matrix::from_fn(values.nrows(), values.ncols(), |k, i| {
            (values[(k, i)] - self.mean[k]) / self.scale[k]
        }))
    }

    /// Standardises one value of property `index`.
    ///
    /// # Errors
    /// [`Error::InvalidConditions`] for an index out of range.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let scaler = mol_vae::conditions::StandardScaler::fit(&Matrix::from_row_slice(1, 2, &[0.0, 4.0])).unwrap();
    /// assert_eq!(scaler.standardize(0, 6.0).unwrap(), 2.0);
    /// assert_eq!(scaler.unstandardize(0, 2.0).unwrap(), 6.0);
    /// assert!(scaler.standardize(1, 0.0).is_err());
    /// ```
    pub fn standardize(&self, index: usize, value: f64) -> Result<f64> {
        self.check_index(index)?;
        Ok((value - self.mean[index]) / self.scale[index])
    }

    /// The original-unit value of a standardised value of property `index`.
    ///
    /// # Errors
    /// [`Error::InvalidConditions`] for an index out of range.
    pub fn unstandardize(&self, index: usize, value: f64) -> Result<f64> {
        self.check_index(index)?;
        Ok(value * self.scale[index] + self.mean[index])
    }

    fn check_index(&self, index: usize) -> Result<()> {
        check_index(index, self.dim())
    }
}

/// A Gaussian model `N(μ, Σ)` of the standardised conditions of the training molecules, with
/// its conditional distributions [C §3.4].
///
/// The code's conditional design fixes one standardised property at the target and draws the
/// others from the Gaussian conditional of the training set's standardised mean and covariance.
/// Its conditional-mean expression mis-broadcasts (harmless there, because standardised means
/// are 0); this type implements the textbook conditional for any mean:
///
/// ```text
/// x_a = t   (index a),   b = the other indices                                  [C §3.4]
/// μ_{b|a} = μ_b + Σ_ba (t − μ_a) / Σ_aa
/// Σ_{b|a} = Σ_bb − Σ_ba Σ_abᵀ / Σ_aa
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionGaussian {
    mean: Vec<f64>,
    covariance: Matrix<f64>,
}

impl ConditionGaussian {
    /// A Gaussian with the given mean and covariance.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the covariance is not `m × m` for a mean of length `m`;
    /// [`Error::Empty`] for `m = 0`; [`Error::InvalidConditions`] for a non-finite entry or a
    /// covariance that is not symmetric positive definite.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use mol_vae::conditions::ConditionGaussian;
    /// let cov = Matrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 1.0]);
    /// assert!(ConditionGaussian::new(vec![0.0, 0.0], cov).is_ok());
    /// let singular = Matrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
    /// assert!(ConditionGaussian::new(vec![0.0, 0.0], singular).is_err());
    /// ```
    pub fn new(mean: Vec<f64>, covariance: Matrix<f64>) -> Result<ConditionGaussian> {
        let m = mean.len();
        if m == 0 {
            return Err(Error::Empty {
                what: "condition mean",
            });
        }
        if covariance.shape() != (m, m) {
            return Err(Error::ShapeMismatch {
                op: "ConditionGaussian::new (covariance)",
                expected: (m, m),
                got: covariance.shape(),
            });
        }
        if mean.iter().chain(covariance.iter()).any(|v| !v.is_finite()) {
            return Err(invalid(
                "the mean or covariance has a NaN or infinite entry",
            ));
        }
        for i in 0..m {
            for j in 0..i {
                let (a, b) = (covariance[(i, j)], covariance[(j, i)]);
                if (a - b).abs() > 1e-12 * a.abs().max(b.abs()).max(1.0) {
                    return Err(invalid(format!(
                        "the covariance is not symmetric at ({i}, {j}): {a} vs {b}"
                    )));
                }
            }
        }
        if Cholesky::new(&covariance).is_none() {
            return Err(invalid("the covariance is not positive definite"));
        }
        Ok(ConditionGaussian { mean, covariance })
    }

    /// The sample mean and covariance (divisor `N − 1`, numpy's `cov`) of `values` (`m × N`,
    /// one column per molecule; the standardised training properties).
    ///
    /// # Errors
    /// [`Error::Empty`] for no row; [`Error::InvalidConditions`] for fewer than 2 columns, a
    /// NaN or infinite value, or a singular covariance (e.g. a property that is constant).
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let x = Matrix::from_row_slice(2, 4, &[-1.0, 1.0, -1.0, 1.0,   -1.0, 1.0, 1.0, -1.0]);
    /// let g = mol_vae::conditions::ConditionGaussian::fit(&x).unwrap();
    /// assert_eq!(g.mean(), &[0.0, 0.0]);
    /// assert!((g.covariance()[(0, 0)] - 4.0 / 3.0).abs() < 1e-15);
    /// assert_eq!(g.covariance()[(0, 1)], 0.0);
    /// ```
    pub fn fit(values: &Matrix<f64>) -> Result<ConditionGaussian> {
        let (m, n) = values.shape();
        if m == 0 {
            return Err(Error::Empty {
                what: "condition matrix",
            });
        }
        if n < 2 {
            return Err(invalid(format!(
                "a covariance needs at least 2 molecules, got {n}"
            )));
        }
        check_finite(values)?;
        let mean: Vec<f64> = values
            .row_iter()
            .map(|row| row.iter().sum::<f64>() / n as f64)
            .collect();
        let covariance = Matrix::from_fn(m, m, |a, b| {
            (0..n)
                .map(|i| (values[(a, i)] - mean[a]) * (values[(b, i)] - mean[b]))
                .sum::<f64>()
                / (n - 1) as f64
        });
        ConditionGaussian::new(mean, covariance)
    }

    /// Dimension `m`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean `μ`.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The covariance `Σ`.
    pub fn covariance(&self) -> &Matrix<f64> {
        &self.covariance
    }

    /// Mean and covariance of the other coordinates (in index order, `index` left out) given
    /// coordinate `index` equals `value` (the equations of [`ConditionGaussian`]).
    ///
    /// # Errors
    /// [`Error::InvalidConditions`] for an index out of range or a non-finite value.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use mol_vae::conditions::ConditionGaussian;
    /// // x₁ = x₀ + independent noise of variance 1: E[x₁ | x₀ = 2] = 1 + 2, Var = 1.
    /// let cov = Matrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 2.0]);
    /// let g = ConditionGaussian::new(vec![0.0, 1.0], cov).unwrap();
    /// let (mean, cov) = g.conditional(0, 2.0).unwrap();
    /// assert_eq!(mean, vec![3.0]);
    /// assert_eq!(cov[(0, 0)], 1.0);
    /// ```
    pub fn conditional(&self, index: usize, value: f64) -> Result<(Vec<f64>, Matrix<f64>)> {
        check_index(index, self.dim())?;
        if !value.is_finite() {
            return Err(invalid(format!("the target value {value} is not finite")));
        }
        let rest: Vec<usize> = (0..self.dim()).filter(|&k| k != index).collect();
        let s_aa = self.covariance[(index, index)];
        let shift = (value - self.mean[index]) / s_aa;
        let mean = rest
            .iter()
            .map(|&b| self.mean[b] + self.covariance[(b, index)] * shift)
            .collect();
        let covariance = Matrix::from_fn(rest.len(), rest.len(), |i, j| {
            let (b, c) = (rest[i], rest[j]);
            self.covariance[(b, c)]
                - self.covariance[(b, index)] * self.covariance[(index, c)] / s_aa
        });
        Ok((mean, covariance))
    }

    /// `n_samples` draws from `N(μ, Σ)`, one per column (`m × n`): the baseline's unconditioned
    /// conditions.
    ///
    /// # Errors
    /// [`Error::Empty`] for `n_samples = 0`.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, rng::{stream, Stream}};
    /// use mol_vae::conditions::ConditionGaussian;
    /// let g = ConditionGaussian::new(vec![5.0], Matrix::from_element(1, 1, 4.0)).unwrap();
    /// let x = g.sample(10_000, &mut stream(0, Stream::Sample)).unwrap();
    /// let mean = x.iter().sum::<f64>() / 10_000.0;
    /// assert!((mean - 5.0).abs() < 4.0 * 2.0 / 100.0); // 4 standard errors
    /// ```
    pub fn sample(&self, n_samples: usize, rng: &mut Rng) -> Result<Matrix<f64>> {
        let factor = Cholesky::new(&self.covariance)
            .ok_or_else(|| invalid("the covariance is not positive definite"))?
            .l();
        draw(&self.mean, &factor, n_samples, rng)
    }

    /// `n_samples` condition vectors (`m × n`, one per column) with coordinate `index` fixed at
    /// `value` and the others drawn from their Gaussian conditional
    /// ([`ConditionGaussian::conditional`]): the code's conditional design sampling [C §3.4].
    ///
    /// # Errors
    /// As [`ConditionGaussian::conditional`]; [`Error::Empty`] for `n_samples = 0`.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, rng::{stream, Stream}};
    /// use mol_vae::conditions::ConditionGaussian;
    /// let cov = Matrix::from_row_slice(2, 2, &[1.0, 0.8, 0.8, 1.0]);
    /// let g = ConditionGaussian::new(vec![0.0, 0.0], cov).unwrap();
    /// let x = g.sample_given(0, 1.5, 4_000, &mut stream(0, Stream::Sample)).unwrap();
    /// assert!(x.row(0).iter().all(|&v| v == 1.5));
    /// let mean = x.row(1).iter().sum::<f64>() / 4_000.0;
    /// // E = 0.8 · 1.5, sd = √(1 − 0.64) = 0.6; 4 standard errors.
    /// assert!((mean - 1.2).abs() < 4.0 * 0.6 / 4_000f64.sqrt());
    /// ```
    pub fn sample_given(
        &self,
        index: usize,
        value: f64,
        n_samples: usize,
        rng: &mut Rng,
    ) -> Result<Matrix<f64>> {
        let (mean, covariance) = self.conditional(index, value)?;
        if n_samples == 0 {
            return Err(Error::Empty {
                what: "sample request",
            });
        }
        let rest = if mean.is_empty() {
            Matrix::zeros(0, n_samples)
        } else {
            let factor = Cholesky::new(&covariance)
                .ok_or_else(|| invalid("the conditional covariance is not positive definite"))?
                .l();
            draw(&mean, &factor, n_samples, rng)?
        };
        Ok(Matrix::from_fn(self.dim(), n_samples, |k, j| {
            match k.cmp(&index) {
                std::cmp::Ordering::Less => rest[(k, j)],
                std::cmp::Ordering::Equal => value,
                std::cmp::Ordering::Greater => rest[(k - 1, j)],
            }
        }))
    }
}

/// `n` columns `mean + L ε`, `ε ~ N(0, I)` drawn column by column.
fn draw(mean: &[f64], factor: &Matrix<f64>, n: usize, rng: &mut Rng) -> Result<Matrix<f64>> {
    if n == 0 {
        return Err(Error::Empty {
            what: "sample request",
        });
    }
    let m = mean.len();
    let mut eps = Matrix::<f64>::zeros(m, n);
    fill_standard_normal(eps.as_mut_slice(), rng);
    let mut out = factor * eps;
    for mut column in out.column_iter_mut() {
        for (v, mu) in column.iter_mut().zip(mean) {
            *v += mu;
        }
    }
    Ok(out)
}

fn check_index(index: usize, dim: usize) -> Result<()> {
    if index < dim {
        Ok(())
    } else {
        Err(invalid(format!(
            "property index {index} is out of range for {dim} conditions"
        )))
    }
}

fn check_finite(values: &Matrix<f64>) -> Result<()> {
    match (0..values.ncols()).find(|&j| values.column(j).iter().any(|v| !v.is_finite())) {
        Some(item) => Err(invalid(format!(
            "molecule {item} has a NaN or infinite property"
        ))),
        None => Ok(()),
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidConditions {
        reason: reason.into(),
    }
}

//! Bayesian linear regression with an isotropic Gaussian prior, Gaussian noise, and the
//! evidence-maximising (MacKay) fixed-point updates of the two precisions.

use serde::{Deserialize, Serialize};

use linalg::{Matrix, Vector, cholesky::Cholesky, eigen::symmetric_eigen};

use crate::{
    Error, Result,
    design::{center_rows, check_data, check_input, weighted_means},
    predictive::Prediction,
};

/// Settings of [`BayesianLinearRegression::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlrConfig {
    /// Fit an unpenalised intercept (flat prior) by centring features and targets. Default `true`.
    /// With `false` the model is Bishop's `y = wᵀx` with the prior on every weight [Bishop 2006 §3.3].
    pub fit_intercept: bool,
    /// Starting weight precision α. Default 1. The noise precision β starts at `1/Var(t)`.
    pub alpha_init: f64,
    /// Most fixed-point iterations. Default 1000.
    pub max_iterations: usize,
    /// Stop when `|Δ ln α|` and `|Δ ln β|` both fall below this. Default 1e-10.
    pub tolerance: f64,
}

impl Default for BlrConfig {
    fn default() -> Self {
        Self {
            fit_intercept: true,
            alpha_init: 1.0,
            max_iterations: 1000,
            tolerance: 1e-10,
        }
    }
}

/// A fitted Bayesian linear regression `t = b + wᵀx + ε`, `ε ~ N(0, β⁻¹)`, `w ~ N(0, α⁻¹ I)`.
///
/// ```text
/// S_N⁻¹ = A = α I + β ΦᵀΦ                                    [Bishop 2006 §3.3, Eq. 3.54]
/// m_N   = β S_N Φᵀ t                                         [Bishop 2006 §3.3, Eq. 3.53]
/// y(x)  = m_Nᵀ φ(x),   σ²_N(x) = 1/β + φ(x)ᵀ S_N φ(x)        [Bishop 2006 §3.3, Eq. 3.58–3.59]
/// ```
///
/// `Φ` is the design matrix (rows are items). With `fit_intercept`, `Φ` holds the centred features
/// `xᵢ − x̄`, `t` the centred targets, and the intercept `b` has a flat prior; since the centred
/// columns are orthogonal to the constant column, `b`'s posterior is `N(t̄ − m_Nᵀx̄, 1/(βN))`,
/// independent of `w`, and the predictive variance gains the term `1/(βN)`.
///
/// Field map: `weights` is `m_N`, `covariance` is `S_N`, `alpha` is `α`, `beta` is `β`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BayesianLinearRegression {
    weights: Vector<f64>,
    covariance: Matrix<f64>,
    feature_means: Vector<f64>,
    target_mean: f64,
    fit_intercept: bool,
    n_items: usize,
    alpha: f64,
    beta: f64,
    effective_parameters: f64,
    log_evidence: f64,
    iterations: usize,
}

impl BayesianLinearRegression {
    /// Fits `w` with α and β chosen by maximising the evidence `p(t | α, β)`.
    ///
    /// ```text
    /// λᵢ = eigenvalues of β ΦᵀΦ                                 [Bishop 2006 §3.5.2, Eq. 3.87]
    /// γ  = Σᵢ λᵢ / (α + λᵢ)                                     [Bishop 2006 §3.5.2, Eq. 3.91]
    /// α ← γ / m_Nᵀ m_N                                          [Bishop 2006 §3.5.2, Eq. 3.92]
    /// 1/β ← ‖t − Φ m_N‖² / (N − γ)                               [Bishop 2006 §3.5.2, Eq. 3.95]
    /// ```
    ///
    /// The updates alternate with the posterior (`m_N` depends on α, β) until `ln α` and `ln β`
    /// change by less than `config.tolerance`. With `fit_intercept` the noise update uses
    /// `N − 1 − γ`: the intercept is one more well-determined parameter.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` has not one row per target; [`Error::NonFinite`] naming the
    /// first item with a NaN or infinite value, or the iteration where α or β broke down;
    /// [`Error::Degenerate`] for constant targets; [`Error::InvalidConfig`] for a bad config or
    /// fewer than 2 (3 with intercept) items; [`Error::NotConverged`] after `max_iterations`;
    /// [`Error::NotPositiveDefinite`] if `ΦᵀΦ` overflows or `αI + βΦᵀΦ` fails to factor.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::{BayesianLinearRegression, BlrConfig};
    /// use linalg::Matrix;
    /// // t = 2x + 1 plus a small deterministic wiggle.
    /// let x = Matrix::<f64>::from_fn(40, 1, |i, _| i as f64 / 10.0);
    /// let t: Vec<f64> = (0..40).map(|i| 2.0 * i as f64 / 10.0 + 1.0 + 0.01 * (i as f64).sin()).collect();
    /// let model = BayesianLinearRegression::fit(&x, &t, &BlrConfig::default()).unwrap();
    /// assert!((model.weights()[0] - 2.0).abs() < 1e-2 && (model.intercept() - 1.0).abs() < 1e-2);
    /// ```
    pub fn fit(x: &Matrix<f64>, targets: &[f64], config: &BlrConfig) -> Result<Self> {
        validate_config(config)?;
        let data = Centred::new(x, targets, config.fit_intercept)?;
        let gram = data.phi.transpose() * &data.phi;
        if gram.iter().any(|value| !value.is_finite()) {
            return Err(Error::NotPositiveDefinite {
                what: "Gram matrix PhiᵀPhi (it overflowed)",
            });
        }
        let projected = data.phi.transpose() * &data.t;
        let (eigenvalues, eigenvectors) = symmetric_eigen(&gram);
        // Rounding can leave eigenvalues of a PSD Gram matrix slightly negative.
        let eigenvalues: Vec<f64> = eigenvalues.iter().map(|&value| value.max(0.0)).collect();
        let rotated = eigenvectors.transpose() * &projected;
        let target_variance = data.t.norm_squared() / data.n_residual_dof;
        if target_variance.is_nan() || target_variance <= 0.0 {
            return Err(Error::Degenerate {
                what: "regression targets are constant",
            });
        }
        let mut alpha = config.alpha_init;
        let mut beta = 1.0 / target_variance;
        for iteration in 0..config.max_iterations {
            // Posterior mean in the eigenbasis: m̃ᵢ = β cᵢ / (α + β λᵢ).
            let mean_rotated = Vector::from_iterator(
                eigenvalues.len(),
                eigenvalues
                    .iter()
                    .zip(rotated.iter())
                    .map(|(&lambda, &c)| beta * c / (alpha + beta * lambda)),
            );
            let weights = &eigenvectors * &mean_rotated;
            let gamma: f64 = eigenvalues
                .iter()
                .map(|&lambda| beta * lambda / (alpha + beta * lambda))
                .sum();
            let weight_norm_sq = mean_rotated.norm_squared();
            let residual_sq = (&data.t - &data.phi * &weights).norm_squared();
            if weight_norm_sq.is_nan() || weight_norm_sq <= 0.0 {
                return Err(Error::Degenerate {
                    what: "posterior mean weights vanished (targets orthogonal to the features)",
                });
            }
            let next_alpha = gamma / weight_norm_sq;
            let next_beta = (data.n_residual_dof - gamma) / residual_sq;
            if !(next_alpha.is_finite() && next_alpha > 0.0) {
                return Err(Error::NonFinite {
                    what: "evidence update of alpha (iteration)",
                    index: iteration,
                });
            }
            if !(next_beta.is_finite() && next_beta > 0.0) {
                return Err(Error::NonFinite {
                    what: "evidence update of beta (iteration; residuals vanished?)",
                    index: iteration,
                });
            }
            let converged = (next_alpha.ln() - alpha.ln()).abs() < config.tolerance
                && (next_beta.ln() - beta.ln()).abs() < config.tolerance;
            alpha = next_alpha;
            beta = next_beta;
            if converged {
                let mut model = Self::posterior(&data, alpha, beta)?;
                model.iterations = iteration + 1;
                return Ok(model);
            }
        }
        Err(Error::NotConverged {
            what: "evidence maximisation",
            iterations: config.max_iterations,
        })
    }

    /// The posterior for fixed precisions `alpha` (weights) and `beta` (noise), without
    /// evidence maximisation; [`BayesianLinearRegression::log_evidence`] then evaluates the
    /// evidence at these values.
    ///
    /// # Errors
    /// As [`BayesianLinearRegression::fit`], and [`Error::InvalidConfig`] unless both precisions
    /// are positive and finite.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// use linalg::Matrix;
    /// // One item, one feature, no intercept: m = β x t / (α + β x²) = 1·1·2 / (1 + 1) = 1.
    /// let x = Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 1.0, 1.0, false).unwrap();
    /// assert!((model.weights()[0] - 1.0).abs() < 1e-12);
    /// assert!((model.covariance()[(0, 0)] - 0.5).abs() < 1e-12);
    /// ```
    pub fn with_precisions(
        x: &Matrix<f64>,
        targets: &[f64],
        alpha: f64,
        beta: f64,
        fit_intercept: bool,
    ) -> Result<Self> {
        for (name, value) in [("alpha", alpha), ("beta", beta)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::InvalidConfig {
                    name,
                    reason: format!("must be positive and finite, got {value}"),
                });
            }
        }
        let data = Centred::new_unchecked_size(x, targets, fit_intercept)?;
        Self::posterior(&data, alpha, beta)
    }

    /// The predictive distribution at each row of `x`.
    ///
    /// ```text
    /// mean = b + m_Nᵀ x,   variance = 1/β + φᵀ S_N φ [+ 1/(βN) with intercept]   [Bishop 2006 §3.3, Eq. 3.58–3.59]
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for the wrong number of columns; [`Error::NonFinite`] naming the
    /// first row with a NaN or infinite value.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// use linalg::Matrix;
    /// let x = Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 1.0, 1.0, false).unwrap();
    /// let p = model.predict(&Matrix::<f64>::from_element(1, 1, 2.0)).unwrap();
    /// // mean = 1·2, variance = 1/β + 2·0.5·2 = 3.
    /// assert!((p[0].mean - 2.0).abs() < 1e-12 && (p[0].variance - 3.0).abs() < 1e-12);
    /// ```
    pub fn predict(&self, x: &Matrix<f64>) -> Result<Vec<Prediction>> {
        check_input(x, self.weights.len(), "bayesian linear regression predict")?;
        let phi = center_rows(x, &self.feature_means);
        let intercept_variance = if self.fit_intercept {
            1.0 / (self.beta * self.n_items as f64)
        } else {
            0.0
        };
        Ok((0..phi.nrows())
            .map(|row| {
                let features = phi.row(row).transpose();
                let mean = self.target_mean + self.weights.dot(&features);
                let variance = 1.0 / self.beta
                    + features.dot(&(&self.covariance * &features))
                    + intercept_variance;
                Prediction { mean, variance }
            })
            .collect())
    }

    /// The posterior mean weights `m_N`.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 1.0, 1.0, false).unwrap();
    /// assert_eq!(model.weights().len(), 1);
    /// ```
    pub fn weights(&self) -> &Vector<f64> {
        &self.weights
    }

    /// The posterior covariance `S_N` of the weights.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 3.0, 1.0, false).unwrap();
    /// assert!((model.covariance()[(0, 0)] - 0.25).abs() < 1e-12);
    /// ```
    pub fn covariance(&self) -> &Matrix<f64> {
        &self.covariance
    }

    /// The posterior mean intercept `t̄ − m_Nᵀ x̄` (0 without intercept).
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_row_slice(3, 1, &[0.0, 1.0, 2.0]);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[5.0, 5.0, 5.0], 1.0, 1.0, true).unwrap();
    /// assert!((model.intercept() - 5.0).abs() < 1e-12);
    /// ```
    pub fn intercept(&self) -> f64 {
        self.target_mean - self.weights.dot(&self.feature_means)
    }

    /// The weight precision α.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 3.0, 1.0, false).unwrap();
    /// assert!((model.alpha() - 3.0).abs() < 1e-15);
    /// ```
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The noise precision β.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 3.0, 4.0, false).unwrap();
    /// assert!((model.beta() - 4.0).abs() < 1e-15);
    /// ```
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The effective number of well-determined parameters `γ` [Bishop 2006 §3.5.2, Eq. 3.91].
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// // γ = βλ / (α + βλ) = 1 / (1 + 1).
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 1.0, 1.0, false).unwrap();
    /// assert!((model.effective_parameters() - 0.5).abs() < 1e-12);
    /// ```
    pub fn effective_parameters(&self) -> f64 {
        self.effective_parameters
    }

    /// The log evidence `ln p(t | α, β)` at this model's α and β.
    ///
    /// ```text
    /// ln p(t|α,β) = M/2 ln α + N/2 ln β − E(m_N) − ½ ln|A| − N/2 ln 2π     [Bishop 2006 §3.5.1, Eq. 3.86]
    /// E(m_N)      = β/2 ‖t − Φ m_N‖² + α/2 m_Nᵀ m_N                         [Bishop 2006 §3.5.1, Eq. 3.82]
    /// ```
    ///
    /// With `fit_intercept`, the flat-prior intercept is integrated out, which replaces `N` by
    /// `N − 1` in the `ln β` and `ln 2π` terms and adds `−½ ln N` (an improper prior, so this is the
    /// evidence up to the prior's constant).
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// // One item: t ~ N(0, 1/α + 1/β) = N(0, 2), so ln p(2) = −½ ln(4π) − 1.
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 1.0, 1.0, false).unwrap();
    /// let expected = -0.5 * (4.0 * std::f64::consts::PI).ln() - 1.0;
    /// assert!((model.log_evidence() - expected).abs() < 1e-12);
    /// ```
    pub fn log_evidence(&self) -> f64 {
        self.log_evidence
    }

    /// The number of fixed-point iterations [`BayesianLinearRegression::fit`] ran (0 for
    /// [`BayesianLinearRegression::with_precisions`]).
    ///
    /// # Example
    /// ```
    /// use bayes_uq::linear::BayesianLinearRegression;
    /// let x = linalg::Matrix::<f64>::from_element(1, 1, 1.0);
    /// let model = BayesianLinearRegression::with_precisions(&x, &[2.0], 1.0, 1.0, false).unwrap();
    /// assert_eq!(model.iterations(), 0);
    /// ```
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The posterior and the evidence at fixed α, β (Eqs. 3.53, 3.54, 3.86).
    fn posterior(data: &Centred, alpha: f64, beta: f64) -> Result<Self> {
        let n_features = data.phi.ncols();
        let gram = data.phi.transpose() * &data.phi;
        let precision = Matrix::<f64>::identity(n_features, n_features) * alpha + gram * beta;
        let factor = Cholesky::new(&precision).ok_or(Error::NotPositiveDefinite {
            what: "posterior precision alpha I + beta PhiᵀPhi",
        })?;
        let projected = data.phi.transpose() * &data.t;
        let weights = factor.solve(&projected) * beta;
        let covariance = factor.inverse();
        let residual_sq = (&data.t - &data.phi * &weights).norm_squared();
        let energy = 0.5 * beta * residual_sq + 0.5 * alpha * weights.norm_squared();
        let n_dof = data.n_residual_dof;
        let mut log_evidence = 0.5 * n_features as f64 * alpha.ln() + 0.5 * n_dof * beta.ln()
            - energy
            - 0.5 * factor.ln_determinant()
            - 0.5 * n_dof * (2.0 * std::f64::consts::PI).ln();
        if data.fit_intercept {
            log_evidence -= 0.5 * (data.phi.nrows() as f64).ln();
        }
        // γ = M − α tr(S_N)  [Bishop 2006 §3.5.3].
        let effective_parameters = n_features as f64 - alpha * covariance.trace();
        if !log_evidence.is_finite() {
            return Err(Error::Degenerate {
                what: "the log evidence is not finite",
            });
        }
        Ok(Self {
            weights,
            covariance,
            feature_means: data.feature_means.clone(),
            target_mean: data.target_mean,
            fit_intercept: data.fit_intercept,
            n_items: data.phi.nrows(),
            alpha,
            beta,
            effective_parameters,
            log_evidence,
            iterations: 0,
        })
    }
}

/// The design matrix and targets, centred when an intercept is fitted.
struct Centred {
    phi: Matrix<f64>,
    t: Vector<f64>,
    feature_means: Vector<f64>,
    target_mean: f64,
    fit_intercept: bool,
    /// `N − 1` with an intercept, `N` without.
    n_residual_dof: f64,
}

impl Centred {
    /// Checks the data (at least 2 items, 3 with intercept, so the noise has a residual degree
    /// of freedom beyond the intercept) and centres it.
    fn new(x: &Matrix<f64>, targets: &[f64], fit_intercept: bool) -> Result<Self> {
        let min_items = if fit_intercept { 3 } else { 2 };
        check_data(x, targets, min_items, "bayesian linear regression fit")?;
        Ok(Self::centre(x, targets, fit_intercept))
    }

    /// As [`Centred::new`] but accepts a single item (fixed precisions need no residual).
    fn new_unchecked_size(x: &Matrix<f64>, targets: &[f64], fit_intercept: bool) -> Result<Self> {
        check_data(x, targets, 1, "bayesian linear regression")?;
        Ok(Self::centre(x, targets, fit_intercept))
    }

    fn centre(x: &Matrix<f64>, targets: &[f64], fit_intercept: bool) -> Self {
        // Deviation: Bishop §3.5 puts the isotropic prior on every weight, the bias φ₀ = 1
        // included. We give the intercept a flat prior (centre, then integrate it out), so targets
        // with a large mean are not shrunk towards 0; the noise update then uses N − 1 − γ.
        let n_items = x.nrows();
        let (feature_means, target_mean) = if fit_intercept {
            weighted_means(x, targets, &vec![1.0; n_items])
        } else {
            (Vector::zeros(x.ncols()), 0.0)
        };
        let phi = center_rows(x, &feature_means);
        let t = Vector::from_iterator(n_items, targets.iter().map(|&target| target - target_mean));
        let n_residual_dof = if fit_intercept {
            n_items as f64 - 1.0
        } else {
            n_items as f64
        };
        Self {
            phi,
            t,
            feature_means,
            target_mean,
            fit_intercept,
            n_residual_dof,
        }
    }
}

fn validate_config(config: &BlrConfig) -> Result<()> {
    if !(config.alpha_init.is_finite() && config.alpha_init > 0.0) {
        return Err(Error::InvalidConfig {
            name: "alpha_init",
            reason: format!("must be positive and finite, got {}", config.alpha_init),
        });
    }
    if config.max_iterations == 0 {
        return Err(Error::InvalidConfig {
            name: "max_iterations",
            reason: "must be at least 1".to_string(),
        });
    }
    if !(config.tolerance.is_finite() && config.tolerance > 0.0) {
        return Err(Error::InvalidConfig {
            name: "tolerance",
            reason: format!("must be positive and finite, got {}", config.tolerance),
        });
    }
    Ok(())
}

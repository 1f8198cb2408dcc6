//! A deep-ensemble-style alternative to Bayesian linear regression: ridge regressions fitted on
//! Bayesian-bootstrap reweightings of the data, combined as a Gaussian mixture.

use serde::{Deserialize, Serialize};

use linalg::{Matrix, Vector, cholesky::Cholesky};

use crate::{
    Error, Result,
    bootstrap::bootstrap_replicas,
    design::{center_rows, check_data, check_input, weighted_means},
    predictive::Prediction,
};

/// Settings of [`RidgeEnsemble::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RidgeEnsembleConfig {
    /// Number of members. Default 25, the paper's number of bootstrap replicas [C §4].
    pub n_members: usize,
    /// Ridge penalty `λ` on the weights (not the intercept), for data weighted to sum to `N`.
    /// Default 1 (our choice; for standardised features it is a weak prior).
    pub ridge: f64,
    /// Fit an unpenalised intercept. Default `true`.
    pub fit_intercept: bool,
}

impl Default for RidgeEnsembleConfig {
    fn default() -> Self {
        Self {
            n_members: 25,
            ridge: 1.0,
            fit_intercept: true,
        }
    }
}

/// One member: a weighted ridge regression and its noise variance estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeMember {
    /// Weights `w`.
    pub weights: Vector<f64>,
    /// Intercept `b`.
    pub intercept: f64,
    /// Noise variance `σ²`, the weighted residual sum of squares over its residual degrees of
    /// freedom.
    pub noise_variance: f64,
}

/// An ensemble of ridge regressions on Bayesian-bootstrap weights.
///
/// ```text
/// vᵢ = N wᵢ,  w ~ Dir(1_N)                                                   [Rubin 1981]
/// (b, w)_k = argmin Σᵢ vᵢ (tᵢ − b − wᵀxᵢ)² + λ ‖w‖²
/// σ²_k     = Σᵢ vᵢ rᵢ² / (N − df_k − 1),   df_k = tr((ΦᵀVΦ + λI)⁻¹ ΦᵀVΦ)
/// μ(x)  = (1/K) Σ_k μ_k(x)                                                  [Lakshminarayanan 2017]
/// σ²(x) = (1/K) Σ_k (μ_k(x) − μ(x))² + (1/K) Σ_k σ²_k                       [Lakshminarayanan 2017]
/// ```
///
/// The predictive distribution is the Gaussian with the mixture's mean and variance: the
/// ensemble (between-member) variance plus the mean noise variance. (`− 1` in the degrees of
/// freedom is dropped without intercept.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeEnsemble {
    members: Vec<RidgeMember>,
}

impl RidgeEnsemble {
    /// Fits `config.n_members` members in parallel; member `k` uses the bootstrap weights
    /// `bootstrap::replica_weights(N, seed, k)`, so the result is independent of the thread count.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] / [`Error::NonFinite`] for bad data; [`Error::InvalidConfig`] for
    /// a bad config or fewer than 3 items; [`Error::NotPositiveDefinite`] if a member's normal
    /// matrix fails to factor (only with `ridge = 0` and collinear features);
    /// [`Error::Degenerate`] if a member has no residual degrees of freedom left.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::ensemble::{RidgeEnsemble, RidgeEnsembleConfig};
    /// use linalg::Matrix;
    /// let x = Matrix::<f64>::from_fn(30, 1, |i, _| i as f64 / 10.0);
    /// let t: Vec<f64> = (0..30).map(|i| 3.0 * i as f64 / 10.0 + 0.1 * (i as f64).sin()).collect();
    /// let config = RidgeEnsembleConfig { n_members: 5, ridge: 1e-6, fit_intercept: true };
    /// let ensemble = RidgeEnsemble::fit(&x, &t, &config, 7).unwrap();
    /// let p = ensemble.predict(&Matrix::<f64>::from_element(1, 1, 1.0)).unwrap();
    /// assert!((p[0].mean - 3.0).abs() < 0.1 && p[0].variance > 0.0);
    /// ```
    pub fn fit(
        x: &Matrix<f64>,
        targets: &[f64],
        config: &RidgeEnsembleConfig,
        seed: u64,
    ) -> Result<Self> {
        if config.n_members == 0 {
            return Err(Error::InvalidConfig {
                name: "n_members",
                reason: "must be at least 1".to_string(),
            });
        }
        if !(config.ridge.is_finite() && config.ridge >= 0.0) {
            return Err(Error::InvalidConfig {
                name: "ridge",
                reason: format!("must be non-negative and finite, got {}", config.ridge),
            });
        }
        check_data(x, targets, 3, "ridge ensemble fit")?;
        let n_items = x.nrows();
        // Deviation: beyond paper C, which has no regressor. Deep ensembles (Lakshminarayanan et
        // al. 2017) diversify members by random initialisation; a convex ridge fit has a unique
        // optimum, so members are diversified by Bayesian-bootstrap weights instead.
        let members = bootstrap_replicas(n_items, config.n_members, seed, |_, weights| {
            let scaled: Vec<f64> = weights.iter().map(|w| w * n_items as f64).collect();
            fit_member(x, targets, &scaled, config)
        })?;
        Ok(Self { members })
    }

    /// The members, in replica order.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::ensemble::{RidgeEnsemble, RidgeEnsembleConfig};
    /// let x = linalg::Matrix::<f64>::from_fn(10, 1, |i, _| i as f64);
    /// let t: Vec<f64> = (0..10).map(|i| (i as f64).cos()).collect();
    /// let config = RidgeEnsembleConfig { n_members: 3, ..Default::default() };
    /// assert_eq!(RidgeEnsemble::fit(&x, &t, &config, 0).unwrap().members().len(), 3);
    /// ```
    pub fn members(&self) -> &[RidgeMember] {
        &self.members
    }

    /// The mixture's Gaussian predictive distribution at each row of `x`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for the wrong number of columns; [`Error::NonFinite`] naming the
    /// first row with a NaN or infinite value.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::ensemble::{RidgeEnsemble, RidgeEnsembleConfig};
    /// let x = linalg::Matrix::<f64>::from_fn(10, 1, |i, _| i as f64);
    /// let t: Vec<f64> = (0..10).map(|i| (i as f64).cos()).collect();
    /// let ensemble = RidgeEnsemble::fit(&x, &t, &RidgeEnsembleConfig::default(), 0).unwrap();
    /// let p = ensemble.predict(&x).unwrap();
    /// assert_eq!(p.len(), 10);
    /// assert!(p.iter().all(|p| p.variance > 0.0));
    /// ```
    pub fn predict(&self, x: &Matrix<f64>) -> Result<Vec<Prediction>> {
        let n_features = self.members[0].weights.len();
        check_input(x, n_features, "ridge ensemble predict")?;
        let n_members = self.members.len() as f64;
        let mean_noise = self.members.iter().map(|m| m.noise_variance).sum::<f64>() / n_members;
        Ok((0..x.nrows())
            .map(|row| {
                let input = x.row(row).transpose();
                let member_means: Vec<f64> = self
                    .members
                    .iter()
                    .map(|member| member.intercept + member.weights.dot(&input))
                    .collect();
                let mean = member_means.iter().sum::<f64>() / n_members;
                let spread = member_means
                    .iter()
                    .map(|m| (m - mean) * (m - mean))
                    .sum::<f64>()
                    / n_members;
                Prediction {
                    mean,
                    variance: spread + mean_noise,
                }
            })
            .collect())
    }
}

/// One weighted ridge regression; `weights` sum to `N`.
fn fit_member(
    x: &Matrix<f64>,
    targets: &[f64],
    weights: &[f64],
    config: &RidgeEnsembleConfig,
) -> Result<RidgeMember> {
    let n_items = x.nrows();
    let n_features = x.ncols();
    let (feature_means, target_mean) = if config.fit_intercept {
        weighted_means(x, targets, weights)
    } else {
        (Vector::zeros(n_features), 0.0)
    };
    let phi = center_rows(x, &feature_means);
    // Rows scaled by √vᵢ turn the weighted problem into an ordinary one.
    let sqrt_weights: Vec<f64> = weights.iter().map(|w| w.sqrt()).collect();
    let phi_weighted = Matrix::from_fn(n_items, n_features, |row, col| {
        sqrt_weights[row] * phi[(row, col)]
    });
    let t_weighted = Vector::from_iterator(
        n_items,
        targets
            .iter()
            .zip(&sqrt_weights)
            .map(|(t, s)| s * (t - target_mean)),
    );
    let gram = phi_weighted.transpose() * &phi_weighted;
    let normal = &gram + Matrix::<f64>::identity(n_features, n_features) * config.ridge;
    let factor = Cholesky::new(&normal).ok_or(Error::NotPositiveDefinite {
        what: "ridge normal matrix PhiᵀVPhi + lambda I",
    })?;
    let member_weights = factor.solve(&(phi_weighted.transpose() * &t_weighted));
    let residual_sq = (&t_weighted - &phi_weighted * &member_weights).norm_squared();
    let effective_parameters = factor.solve_matrix(&gram).trace();
    let intercept_dof = if config.fit_intercept { 1.0 } else { 0.0 };
    let residual_dof = n_items as f64 - effective_parameters - intercept_dof;
    if residual_dof <= 0.5 {
        return Err(Error::Degenerate {
            what: "ridge member has no residual degrees of freedom (too few items for the features)",
        });
    }
    Ok(RidgeMember {
        intercept: target_mean - member_weights.dot(&feature_means),
        weights: member_weights,
        noise_variance: residual_sq / residual_dof,
    })
}

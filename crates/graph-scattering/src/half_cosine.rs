//! GSVAE's filter bank: half-cosine uniform translates on the warped spectrum (Shuman et al.).

use crate::{Error, Result, SpectralWarp};

/// Parameters of the spectrum-adapted half-cosine bank.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HalfCosineConfig {
    /// Number of filters `M` (`wlt_scales`): 12 [C §2.3]. The v1 code used 8.
    pub n_filters: usize,
    /// Redundancy `R`, the number of translates overlapping at each point: 3 [C §2.3].
    pub redundancy: usize,
    /// Cosine coefficients `d₀ … d_K`: `[0.5, 0.5]`, i.e. `K = 1` [C §2.3].
    pub coefficients: Vec<f64>,
}

impl Default for HalfCosineConfig {
    fn default() -> Self {
        HalfCosineConfig {
            n_filters: 12,
            redundancy: 3,
            coefficients: vec![0.5, 0.5],
        }
    }
}

/// The fitted bank: `M` half-cosine translates of width `a` placed on the warped spectrum.
///
/// ```text
/// a = R γ′ / (M − R + 1)                                                   [C §2.3]
/// ĝ_U(x) = Σ_{k=0}^{K} d_k cos(2πk (x/a − 1/2)) · 1[0 ≤ x ≤ a]           [C §2.3]
///        = sin²(πx/a) on [0, a] for K = 1, d = [½, ½]                      [C §2.3]
/// ĝ_m(λ) = ĝ_U(ω(λ) − (a/R)(m − R + 1)),   m = 1 … M                       [C §2.3]
/// Σ_m ĝ_m(λ)² = R (d₀² + ½ Σ_{k≥1} d_k²) = 9/8   for ω(λ) ∈ [a/R, γ′ + a/R] [C §2.3]
/// ```
///
/// Filter `m` (1-based in the paper, index `m − 1` here) lives on `[(m − R + 1) a/R, … + a]` in
/// the warped domain. Filter `M`'s support starts at `γ′`, so it vanishes for every `λ ≤ γ`, the
/// largest training eigenvalue; on QM9 `γ = 2 = max spectrum`, so it is dead [C §2.3]. The shift
/// is computed as `γ′ · (m − R + 1)/(M − R + 1)` (algebraically `(a/R)(m − R + 1)`), so filter
/// `M` is exactly 0 at `λ = γ`, not 1e-32.
///
/// Serialised as its configuration and warp; deserialising re-validates through
/// [`HalfCosineBank::new`] (derived quantities are recomputed, never trusted).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "HalfCosineParts", try_from = "HalfCosineParts")]
pub struct HalfCosineBank {
    config: HalfCosineConfig,
    warp: SpectralWarp,
    width: f64,
    gamma_warped: f64,
}

impl HalfCosineBank {
    /// Builds the bank on a fitted warp.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `M = 0`, `R = 0`, `R > M`, the coefficients are empty or not
    /// finite, or `γ′ ≤ 0` (a training set without edges has nothing to adapt to).
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{HalfCosineBank, HalfCosineConfig, SpectralWarp, WarpConfig};
    ///
    /// let pooled: Vec<f64> = (0..20).map(|k| k as f64 / 19.0 * 2.0).collect();
    /// let warp = SpectralWarp::fit(&WarpConfig::default(), &pooled)?;
    /// let bank = HalfCosineBank::new(HalfCosineConfig::default(), warp)?;
    /// let mut g = vec![0.0; 12];
    /// bank.responses(0.9, &mut g);
    /// let energy: f64 = g.iter().map(|v| v * v).sum();
    /// assert!((energy - 9.0 / 8.0).abs() < 1e-12);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn new(config: HalfCosineConfig, warp: SpectralWarp) -> Result<HalfCosineBank> {
        let invalid = |field, reason: &str| {
            Err(Error::InvalidConfig {
                field,
                reason: reason.into(),
            })
        };
        if config.n_filters == 0 {
            return invalid("HalfCosineConfig.n_filters", "must be ≥ 1");
        }
        if config.redundancy == 0 || config.redundancy > config.n_filters {
            return invalid("HalfCosineConfig.redundancy", "must be in 1..=n_filters");
        }
        if config.coefficients.is_empty() || config.coefficients.iter().any(|d| !d.is_finite()) {
            return invalid(
                "HalfCosineConfig.coefficients",
                "must be a non-empty list of finite numbers",
            );
        }
        let gamma_warped = warp.gamma_warped();
        if !(gamma_warped > 0.0 && gamma_warped.is_finite()) {
            return invalid(
                "SpectralWarp",
                "warped spectrum maximum γ′ must be positive (training graphs without edges?)",
            );
        }
        let width = config.redundancy as f64 * gamma_warped
            / (config.n_filters - config.redundancy + 1) as f64;
        Ok(HalfCosineBank {
            config,
            warp,
            width,
            gamma_warped,
        })
    }

    /// `ĝ₁(λ) … ĝ_M(λ)` into `out` (length `M`).
    ///
    /// # Panics
    /// If `out.len() ≠ M`.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{HalfCosineBank, HalfCosineConfig, SpectralWarp, WarpConfig};
    ///
    /// let pooled: Vec<f64> = (0..20).map(|k| k as f64 / 19.0 * 2.0).collect();
    /// let bank = HalfCosineBank::new(HalfCosineConfig::default(), SpectralWarp::fit(&WarpConfig::default(), &pooled)?)?;
    /// let mut g = vec![0.0; 12];
    /// bank.responses(2.0, &mut g);
    /// assert_eq!(g[11], 0.0); // the last filter starts at γ′ = ω(γ)
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn responses(&self, lambda: f64, out: &mut [f64]) {
        let n_filters = self.config.n_filters;
        assert!(
            out.len() == n_filters,
            "responses: buffer has {} slots for {n_filters} filters",
            out.len()
        );
        let warped = self.warp.eval(lambda);
        let shift_den = (n_filters - self.config.redundancy + 1) as f64;
        for (idx, slot) in out.iter_mut().enumerate() {
            // Paper index m = idx + 1; shift (a/R)(m − R + 1) = γ′ (m − R + 1)/(M − R + 1).
            let offset = (idx + 1) as f64 - self.config.redundancy as f64 + 1.0;
            let shift = self.gamma_warped * (offset / shift_den);
            *slot = self.mother(warped - shift);
        }
    }

    /// The mother window `ĝ_U(x)` [C §2.3].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{HalfCosineBank, HalfCosineConfig, SpectralWarp, WarpConfig};
    ///
    /// let pooled: Vec<f64> = (0..20).map(|k| k as f64 / 19.0 * 2.0).collect();
    /// let bank = HalfCosineBank::new(HalfCosineConfig::default(), SpectralWarp::fit(&WarpConfig::default(), &pooled)?)?;
    /// let a = bank.width();
    /// assert!((bank.mother(a / 2.0) - 1.0).abs() < 1e-15 && bank.mother(-0.1) == 0.0);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn mother(&self, x: f64) -> f64 {
        if !(0.0..=self.width).contains(&x) {
            return 0.0;
        }
        let phase = x / self.width - 0.5;
        self.config
            .coefficients
            .iter()
            .enumerate()
            .map(|(k, d)| d * (2.0 * std::f64::consts::PI * k as f64 * phase).cos())
            .sum()
    }

    /// Number of filters `M`.
    pub fn n_filters(&self) -> usize {
        self.config.n_filters
    }

    /// Window width `a` in the warped domain.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The fitted warp ω.
    pub fn warp(&self) -> &SpectralWarp {
        &self.warp
    }

    /// The configuration.
    pub fn config(&self) -> &HalfCosineConfig {
        &self.config
    }

    /// The tight-frame constant `R (d₀² + ½ Σ_{k≥1} d_k²)` (9/8 for GSVAE) [C §2.3].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{HalfCosineBank, HalfCosineConfig, SpectralWarp, WarpConfig};
    ///
    /// let pooled: Vec<f64> = (0..20).map(|k| k as f64 / 19.0 * 2.0).collect();
    /// let bank = HalfCosineBank::new(HalfCosineConfig::default(), SpectralWarp::fit(&WarpConfig::default(), &pooled)?)?;
    /// assert!((bank.frame_constant() - 1.125).abs() < 1e-15);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn frame_constant(&self) -> f64 {
        let d = &self.config.coefficients;
        let tail: f64 = d.iter().skip(1).map(|v| v * v).sum();
        self.config.redundancy as f64 * (d[0] * d[0] + 0.5 * tail)
    }
}

/// The serialised form of a [`HalfCosineBank`].
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct HalfCosineParts {
    config: HalfCosineConfig,
    warp: SpectralWarp,
}

impl From<HalfCosineBank> for HalfCosineParts {
    fn from(bank: HalfCosineBank) -> Self {
        HalfCosineParts {
            config: bank.config,
            warp: bank.warp,
        }
    }
}

impl TryFrom<HalfCosineParts> for HalfCosineBank {
    type Error = Error;

    fn try_from(parts: HalfCosineParts) -> Result<Self> {
        HalfCosineBank::new(parts.config, parts.warp)
    }
}

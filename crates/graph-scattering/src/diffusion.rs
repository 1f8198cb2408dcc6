//! Diffusion wavelets (Gama–Ribeiro–Bruna) and geometric-scattering wavelets (Gao–Wolf–Hirn).

use crate::{Error, Result};

/// The diffusion operator the wavelets are powers of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiffusionOperator {
    /// `T = ½(I + D^{-1/2} W D^{-1/2})`, symmetric [C §7] (Gama, Ribeiro & Bruna, ICLR 2019).
    Symmetric,
    /// The lazy random walk `P = ½(I + W D^{-1}) = D^{1/2} T D^{-1/2}` (Gao, Wolf &
    /// Hirn, ICML 2019) [C §7].
    LazyRandomWalk,
}

/// Parameters of a diffusion-wavelet bank.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DiffusionConfig {
    /// Largest scale `J`: filters `ψ₀ … ψ_J`, so `J + 1` of them. Default 4 (a choice: neither
    /// paper's `J` is in the digest [C §7]).
    pub n_scales: usize,
    /// Which operator is diffused [C §7].
    pub operator: DiffusionOperator,
}

impl Default for DiffusionConfig {
    fn default() -> Self {
        DiffusionConfig {
            n_scales: 4,
            operator: DiffusionOperator::Symmetric,
        }
    }
}

/// Dyadic diffusion wavelets, expressed through the eigenvalues `λ` of the clamped normalised
/// Laplacian `L` (so one eigendecomposition serves every bank).
///
/// ```text
/// T = ½(I + D^{-1/2} W D^{-1/2}) = I − L/2,   μ = 1 − λ/2 ∈ [0, 1]        [C §7 (GRB)]
/// ψ₀ = I − T,   ψ_j = T^{2^{j−1}} − T^{2^j},   j = 1 … J                    [C §7 (GRB)]
/// P = ½(I + W D^{-1}) = D^{1/2} T D^{-1/2},  Ψ_j = D^{1/2} ψ_j D^{-1/2}     [C §7 (GWH)]
/// h₀(λ) = λ/2,   h_j(λ) = μ^{2^{j−1}} − μ^{2^j},   Σ_j h_j = 1 − μ^{2^J} ≤ 1
/// ```
///
/// Deviation: `D` is clamped to `max(1, d)` as in GSVAE's Laplacian [C §2.1] and `T` is defined
/// as `I − L/2`. This equals the papers' operators whenever every degree is ≥ 1 (any graph with
/// integer weights and no isolated node); at an isolated node it makes the walk stay put
/// (`T_ii = 1`) where the literal formula is undefined.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "DiffusionConfig", try_from = "DiffusionConfig")]
pub struct DiffusionBank {
    config: DiffusionConfig,
}

impl DiffusionBank {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `J > 30` (`μ^{2^J}` would underflow everywhere but `μ = 1`).
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig};
    ///
    /// let bank = DiffusionBank::new(DiffusionConfig::default())?;
    /// let mut h = vec![0.0; bank.n_filters()];
    /// bank.responses(1.0, &mut h); // μ = 1/2
    /// assert_eq!(h, vec![0.5, 0.25, 0.1875, 0.05859375, 0.0038909912109375]);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn new(config: DiffusionConfig) -> Result<DiffusionBank> {
        if config.n_scales > 30 {
            return Err(Error::InvalidConfig {
                field: "DiffusionConfig.n_scales",
                reason: "must be ≤ 30".into(),
            });
        }
        Ok(DiffusionBank { config })
    }

    /// `h₀(λ) … h_J(λ)` into `out` (length `J + 1`).
    ///
    /// # Panics
    /// If `out.len() ≠ J + 1`.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig};
    ///
    /// let bank = DiffusionBank::new(DiffusionConfig::default())?;
    /// let mut h = vec![0.0; 5];
    /// bank.responses(0.0, &mut h); // the constant mode is untouched by every wavelet
    /// assert!(h.iter().all(|&v| v == 0.0));
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn responses(&self, lambda: f64, out: &mut [f64]) {
        assert!(
            out.len() == self.n_filters(),
            "responses: buffer has {} slots for {} filters",
            out.len(),
            self.n_filters()
        );
        // Deviation: T = I − L/2 with the clamped L (equal to ½(I + D^{-1/2} W D^{-1/2}) when all
        // degrees are ≥ 1; an isolated node keeps its value instead of halving it).
        let mu = 1.0 - 0.5 * lambda;
        out[0] = 0.5 * lambda;
        let mut power = mu;
        for slot in &mut out[1..] {
            let squared = power * power;
            *slot = power - squared;
            power = squared;
        }
    }

    /// Number of filters `J + 1`.
    pub fn n_filters(&self) -> usize {
        self.config.n_scales + 1
    }

    /// The configuration.
    pub fn config(&self) -> &DiffusionConfig {
        &self.config
    }
}

impl From<DiffusionBank> for DiffusionConfig {
    fn from(bank: DiffusionBank) -> Self {
        bank.config
    }
}

impl TryFrom<DiffusionConfig> for DiffusionBank {
    type Error = Error;

    fn try_from(config: DiffusionConfig) -> Result<Self> {
        DiffusionBank::new(config)
    }
}

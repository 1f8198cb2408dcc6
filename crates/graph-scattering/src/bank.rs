//! One abstraction over the filter banks: every bank is a set of spectral responses of `L`.

use linalg::Matrix;

use crate::{DiffusionBank, DiffusionOperator, Graph, HalfCosineBank, Result, laplacian::Spectrum};

/// In which basis a bank's filters are functions of `L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Basis {
    /// `G_m = U diag(h_m(λ)) Uᵀ`, symmetric (GSVAE's bank, GRB's diffusion wavelets).
    Symmetric,
    /// `G_m = D̃^{1/2} U diag(h_m(λ)) Uᵀ D̃^{-1/2}`, `D̃ = diag(max(1, d))` (GWH's lazy random
    /// walk wavelets; not symmetric).
    RandomWalk,
}

/// A filter bank: `M` spectral responses `h_m(λ)` of the clamped normalised Laplacian, applied as
/// `G_m = S U diag(h_m(λ)) Uᵀ S^{-1}` with `S = I` or `D̃^{1/2}` (see [`Basis`]).
///
/// ```text
/// G_m = V diag(ĝ_m(λ₁ … λₙ)) Vᵀ                                            [C §2.3]
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FilterBank {
    /// GSVAE's spectrum-adapted half-cosine bank [C §2.3].
    HalfCosine(HalfCosineBank),
    /// Dyadic diffusion wavelets, symmetric (GRB) or lazy random walk (GWH) [C §7].
    Diffusion(DiffusionBank),
}

impl FilterBank {
    /// Number of filters `M`.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank};
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// assert_eq!(bank.n_filters(), 5);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn n_filters(&self) -> usize {
        match self {
            FilterBank::HalfCosine(bank) => bank.n_filters(),
            FilterBank::Diffusion(bank) => bank.n_filters(),
        }
    }

    /// The responses `h₁(λ) … h_M(λ)` into `out` (length `M`).
    ///
    /// # Panics
    /// If `out.len() ≠ M`.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank};
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let mut h = vec![0.0; 5];
    /// bank.responses(2.0, &mut h); // μ = 0: only the high-pass ψ₀ responds
    /// assert_eq!(h, vec![1.0, 0.0, 0.0, 0.0, 0.0]);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn responses(&self, lambda: f64, out: &mut [f64]) {
        match self {
            FilterBank::HalfCosine(bank) => bank.responses(lambda, out),
            FilterBank::Diffusion(bank) => bank.responses(lambda, out),
        }
    }

    /// The basis the filters act in.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{Basis, DiffusionBank, DiffusionConfig, DiffusionOperator, FilterBank};
    /// let config = DiffusionConfig { operator: DiffusionOperator::LazyRandomWalk, ..DiffusionConfig::default() };
    /// assert_eq!(FilterBank::Diffusion(DiffusionBank::new(config)?).basis(), Basis::RandomWalk);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn basis(&self) -> Basis {
        match self {
            FilterBank::HalfCosine(_) => Basis::Symmetric,
            FilterBank::Diffusion(bank) => match bank.config().operator {
                DiffusionOperator::Symmetric => Basis::Symmetric,
                DiffusionOperator::LazyRandomWalk => Basis::RandomWalk,
            },
        }
    }

    /// The dense filter matrices `G₁ … G_M` of `graph` (for inspection and tests; the cascade
    /// builds them into a reused buffer instead).
    ///
    /// # Errors
    /// [`crate::Error::Eigen`] if the eigensolver fails.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Graph};
    ///
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let edge = Graph::from_row_slice(2, &[0., 1., 1., 0.])?;
    /// let g = bank.filter_matrices(&edge)?;
    /// // ψ₀ = I − T = L/2 = [[½, −½], [−½, ½]].
    /// assert!((g[0][(0, 0)] - 0.5).abs() < 1e-15 && (g[0][(0, 1)] + 0.5).abs() < 1e-15);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn filter_matrices(&self, graph: &Graph) -> Result<Vec<Matrix<f64>>> {
        let n = graph.n_nodes();
        let spectrum = Spectrum::of(graph)?;
        let sqrt_degree: Vec<f64> = graph.degrees().iter().map(|d| d.max(1.0).sqrt()).collect();
        let mut response = vec![0.0; self.n_filters()];
        let mut responses = Matrix::<f64>::zeros(n, self.n_filters());
        for (e, &lambda) in spectrum.values().iter().enumerate() {
            self.responses(lambda, &mut response);
            for (m, &value) in response.iter().enumerate() {
                responses[(e, m)] = value;
            }
        }
        let u = spectrum.vectors();
        let basis = self.basis();
        Ok((0..self.n_filters())
            .map(|m| {
                Matrix::from_fn(n, n, |i, k| {
                    let value: f64 = (0..n)
                        .map(|e| u[(i, e)] * responses[(e, m)] * u[(k, e)])
                        .sum();
                    match basis {
                        Basis::Symmetric => value,
                        Basis::RandomWalk => value * sqrt_degree[i] / sqrt_degree[k],
                    }
                })
            })
            .collect())
    }
}

//! The scattering cascade: filter, modulus, pool, over every path of length 0 … `max_order`.

use linalg::Matrix;
use rayon::prelude::*;

use crate::{Error, FilterBank, Graph, Result};

mod propagate;

use propagate::propagate;
pub use propagate::{DEAD_RESPONSE, Workspace};

/// Largest accepted `max_order` (the feature count grows as `M^order`).
pub const MAX_ORDER: usize = 4;

/// How the node values of each propagated signal are aggregated into features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pooling {
    /// The mean over all `n` nodes (ghosts included), one feature per path [C §2.4].
    Mean,
    /// Geometric scattering's unnormalised moments `Σ_v u(v)^q`, `q = 1 … max_moment` per path
    /// (order 0 uses the signed signal, higher orders `u = |…| ≥ 0`) [C §7 (GWH)].
    ///
    /// Deviation: every path `(j₁, j₂, …)` is kept, as in GSVAE's cascade; Gao–Wolf–Hirn keep
    /// only increasing scales `j₁ < j₂` at order 2.
    Moments {
        /// Highest moment `Q` (GWH: 4).
        max_moment: usize,
    },
}

/// Parameters of the cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScatteringConfig {
    /// Deepest order `L`: paths of length 0 … L. GSVAE: `scat_layers = 4`, orders 0..3 [C §2.4].
    pub max_order: usize,
    /// Aggregation: GSVAE uses the mean (first moment only) [C §2.4].
    pub pooling: Pooling,
}

impl Default for ScatteringConfig {
    fn default() -> Self {
        ScatteringConfig {
            max_order: 3,
            pooling: Pooling::Mean,
        }
    }
}

impl ScatteringConfig {
    /// Geometric scattering (Gao–Wolf–Hirn): moments `q = 1 … 4`, orders 0..3 [C §7]. Pair it
    /// with a [`crate::DiffusionBank`] using [`crate::DiffusionOperator::LazyRandomWalk`].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{Pooling, ScatteringConfig};
    /// assert_eq!(ScatteringConfig::geometric().pooling, Pooling::Moments { max_moment: 4 });
    /// ```
    pub fn geometric() -> ScatteringConfig {
        ScatteringConfig {
            max_order: 3,
            pooling: Pooling::Moments { max_moment: 4 },
        }
    }
}

/// The scattering transform: a validated configuration plus a filter bank.
///
/// For each channel `c` of the signal `f` (n × C) and each path `p = (j₁ … j_l)`, `l ≤ L`:
///
/// ```text
/// U_∅ = f_c,   U_{(p, j)} = |G_j U_p|                                      [C §2.4]
/// S_p = (1/n) Σ_v U_p(v)          (Pooling::Mean; n = all nodes, ghosts too) [C §2.4]
/// #features = C · Σ_{l=0}^{L} M^l = 5 · (1 + 12 + 144 + 1728) = 9,425       [C §2.4]
/// index(c, p) = c · Σ_l M^l + Σ_{k<l} M^k + Σ_i j_i M^{l−i}  (j₁ major)     [C §2.4]
/// ```
///
/// Filters are applied in the spectral domain, as the equation reads: each propagated signal is
/// projected once, `x̂ = Uᵀ S^{-1} u`, and each filter is a diagonal scale plus back-projection,
/// `G_m u = S U (h_m(λ) ⊙ x̂)`, summing only over the eigenvalues where `h_m ≠ 0`. GSVAE's windows
/// each cover about a third of the warped spectrum, so an eigenvalue feeds at most `R = 3`
/// filters and the 12 filters together cost about `n² + 3n²` multiply-adds per signal instead of
/// the `12 n²` of dense filter matrices.
///
/// The cascade runs breadth-first: all signals of one order (every channel, every path) are the
/// columns of one `n × P` matrix, so each step is a long, vectorisable row operation rather than
/// thousands of length-9 loops. Filters whose responses vanish on the whole spectrum of the graph
/// (GSVAE's filter 12) and channels that are exactly zero (absent one-hot classes) never become
/// columns: their features are exactly 0.
///
/// Deserialising re-validates through [`Scattering::new`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "ScatteringParts", try_from = "ScatteringParts")]
pub struct Scattering {
    config: ScatteringConfig,
    bank: FilterBank,
}

impl Scattering {
    /// Validates the configuration against the bank.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `max_order > MAX_ORDER`, the moment count is 0 or above 8, or
    /// the feature count per channel overflows.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Scattering, ScatteringConfig};
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let config = ScatteringConfig { max_order: 9, ..ScatteringConfig::default() };
    /// assert!(Scattering::new(config, bank).is_err());
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn new(config: ScatteringConfig, bank: FilterBank) -> Result<Scattering> {
        if config.max_order > MAX_ORDER {
            return Err(Error::InvalidConfig {
                field: "ScatteringConfig.max_order",
                reason: format!("{} exceeds the maximum {MAX_ORDER}", config.max_order),
            });
        }
        if let Pooling::Moments { max_moment } = config.pooling
            && !(1..=8).contains(&max_moment)
        {
            return Err(Error::InvalidConfig {
                field: "ScatteringConfig.pooling.max_moment",
                reason: format!("{max_moment} is not in 1..=8"),
            });
        }
        let mut total: usize = 0;
        let mut power: usize = 1;
        for order in 0..=config.max_order {
            total = total.checked_add(power).ok_or_else(|| overflow(order))?;
            power = power
                .checked_mul(bank.n_filters())
                .ok_or_else(|| overflow(order))?;
        }
        Ok(Scattering { config, bank })
    }

    /// Number of paths per channel, `Σ_{l=0}^{L} M^l` (1,885 for GSVAE) [C §2.4].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Scattering, ScatteringConfig};
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let scattering = Scattering::new(ScatteringConfig::default(), bank)?;
    /// assert_eq!(scattering.n_paths(), 1 + 5 + 25 + 125);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn n_paths(&self) -> usize {
        let m = self.bank.n_filters();
        (0..=self.config.max_order)
            .map(|order| m.pow(order as u32))
            .sum()
    }

    /// Features per path and channel: 1 for the mean, `Q` for moments.
    pub fn n_stats(&self) -> usize {
        match self.config.pooling {
            Pooling::Mean => 1,
            Pooling::Moments { max_moment } => max_moment,
        }
    }

    /// Length of the feature vector for `n_channels` channels: `C · n_paths · n_stats`.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Scattering, ScatteringConfig};
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let scattering = Scattering::new(ScatteringConfig::geometric(), bank)?;
    /// assert_eq!(scattering.n_features(2), 2 * 156 * 4);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn n_features(&self, n_channels: usize) -> usize {
        n_channels * self.n_paths() * self.n_stats()
    }

    /// Index of the feature of `channel`, `path = [j₁, …, j_l]` (0-based filters) and moment
    /// `q ∈ 1..=n_stats` (1 for the mean).
    ///
    /// # Panics
    /// If the path is longer than `max_order`, a filter index is `≥ M` or `q` is out of range.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Scattering, ScatteringConfig};
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let scattering = Scattering::new(ScatteringConfig::default(), bank)?;
    /// assert_eq!(scattering.feature_index(0, &[], 1), 0);
    /// assert_eq!(scattering.feature_index(0, &[2, 3], 1), 1 + 5 + 2 * 5 + 3);
    /// assert_eq!(scattering.feature_index(1, &[], 1), 156);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn feature_index(&self, channel: usize, path: &[usize], q: usize) -> usize {
        let m = self.bank.n_filters();
        assert!(
            path.len() <= self.config.max_order,
            "feature_index: path longer than max_order"
        );
        assert!(
            path.iter().all(|&j| j < m),
            "feature_index: filter index ≥ {m}"
        );
        assert!(
            (1..=self.n_stats()).contains(&q),
            "feature_index: moment {q} out of range"
        );
        let offset: usize = (0..path.len()).map(|order| m.pow(order as u32)).sum();
        let within = path.iter().fold(0, |acc, &j| acc * m + j);
        (channel * self.n_paths() + offset + within) * self.n_stats() + (q - 1)
    }

    /// The filter bank.
    pub fn bank(&self) -> &FilterBank {
        &self.bank
    }

    /// The configuration.
    pub fn config(&self) -> &ScatteringConfig {
        &self.config
    }

    /// Scattering features of one graph and its node signal (n × C), in a new vector.
    ///
    /// # Errors
    /// As [`Scattering::transform_into`].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Graph, Scattering, ScatteringConfig};
    /// use linalg::Matrix;
    ///
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let scattering = Scattering::new(ScatteringConfig::default(), bank)?;
    /// let path = Graph::from_row_slice(3, &[0., 1., 0., 1., 0., 1., 0., 1., 0.])?;
    /// let signal = Matrix::from_row_slice(3, 1, &[1.0, 2.0, 3.0]);
    /// let features = scattering.transform(&path, &signal)?;
    /// assert_eq!(features.len(), 156);
    /// assert!((features[0] - 2.0).abs() < 1e-15); // order 0: the mean
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn transform(&self, graph: &Graph, signal: &Matrix<f64>) -> Result<Vec<f64>> {
        let mut out = vec![0.0; self.n_features(signal.ncols())];
        self.transform_into(graph, signal, &mut Workspace::default(), &mut out)?;
        Ok(out)
    }

    /// Scattering features into `out`, reusing `workspace` (allocation-free once warm): one
    /// Laplacian, one Jacobi eigendecomposition, the live filter matrices, then the cascade.
    ///
    /// # Errors
    /// [`Error::SignalShape`] if the signal does not have one row per node, [`Error::NoChannels`],
    /// [`Error::NonFiniteSignal`], [`Error::OutputLength`] if `out.len() ≠ n_features(C)`, and
    /// [`Error::Eigen`] if the eigensolver fails.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, Error, FilterBank, Graph, Scattering, ScatteringConfig, Workspace};
    /// use linalg::Matrix;
    ///
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let scattering = Scattering::new(ScatteringConfig::default(), bank)?;
    /// let edge = Graph::from_row_slice(2, &[0., 1., 1., 0.])?;
    /// let mut workspace = Workspace::default();
    /// let mut out = vec![0.0; scattering.n_features(1)];
    /// let bad = Matrix::from_row_slice(3, 1, &[1.0, 0.0, 0.0]);
    /// assert!(matches!(scattering.transform_into(&edge, &bad, &mut workspace, &mut out), Err(Error::SignalShape { .. })));
    /// scattering.transform_into(&edge, &Matrix::from_row_slice(2, 1, &[1.0, -1.0]), &mut workspace, &mut out)?;
    /// assert!((out[1] - 1.0).abs() < 1e-15); // ψ₀ = L/2 maps (1, −1) to itself
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn transform_into(
        &self,
        graph: &Graph,
        signal: &Matrix<f64>,
        workspace: &mut Workspace,
        out: &mut [f64],
    ) -> Result<()> {
        let n = graph.n_nodes();
        let (rows, cols) = signal.shape();
        if rows != n {
            return Err(Error::SignalShape {
                n_nodes: n,
                rows,
                cols,
            });
        }
        if cols == 0 {
            return Err(Error::NoChannels);
        }
        if let Some(flat) = signal.iter().position(|value| !value.is_finite()) {
            return Err(Error::NonFiniteSignal {
                node: flat % n,
                channel: flat / n,
            });
        }
        let expected = self.n_features(cols);
        if out.len() != expected {
            return Err(Error::OutputLength {
                expected,
                got: out.len(),
            });
        }
        propagate(
            &self.bank,
            &self.config,
            self.n_paths(),
            graph,
            signal,
            workspace,
            out,
        )
    }

    /// Features of many graphs in parallel (rayon, one workspace per worker; the output order and
    /// every value are independent of the thread count).
    ///
    /// # Errors
    /// [`Error::BatchLength`] if the slices differ in length; otherwise the first failing item as
    /// [`Error::AtItem`].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{DiffusionBank, DiffusionConfig, FilterBank, Graph, Scattering, ScatteringConfig};
    /// use linalg::Matrix;
    ///
    /// let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default())?);
    /// let scattering = Scattering::new(ScatteringConfig::default(), bank)?;
    /// let edge = Graph::from_row_slice(2, &[0., 1., 1., 0.])?;
    /// let signal = Matrix::from_row_slice(2, 1, &[1.0, 0.0]);
    /// let batch = scattering.transform_batch(&[edge.clone(), edge], &[signal.clone(), signal])?;
    /// assert_eq!(batch.len(), 2);
    /// assert_eq!(batch[0], batch[1]);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn transform_batch(
        &self,
        graphs: &[Graph],
        signals: &[Matrix<f64>],
    ) -> Result<Vec<Vec<f64>>> {
        if graphs.len() != signals.len() {
            return Err(Error::BatchLength {
                graphs: graphs.len(),
                signals: signals.len(),
            });
        }
        graphs
            .par_iter()
            .zip(signals.par_iter())
            .enumerate()
            .map_init(Workspace::default, |workspace, (index, (graph, signal))| {
                let mut out = vec![0.0; self.n_features(signal.ncols())];
                self.transform_into(graph, signal, workspace, &mut out)
                    .map_err(|source| Error::AtItem {
                        index,
                        source: Box::new(source),
                    })?;
                Ok(out)
            })
            .collect()
    }
}

/// The serialised form of a [`Scattering`].
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct ScatteringParts {
    config: ScatteringConfig,
    bank: FilterBank,
}

impl From<Scattering> for ScatteringParts {
    fn from(scattering: Scattering) -> Self {
        ScatteringParts {
            config: scattering.config,
            bank: scattering.bank,
        }
    }
}

impl TryFrom<ScatteringParts> for Scattering {
    type Error = Error;

    fn try_from(parts: ScatteringParts) -> Result<Self> {
        Scattering::new(parts.config, parts.bank)
    }
}

fn overflow(order: usize) -> Error {
    Error::InvalidConfig {
        field: "ScatteringConfig.max_order",
        reason: format!("feature count overflows at order {order}"),
    }
}

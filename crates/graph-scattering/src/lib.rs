//! Graph scattering transform with spectrum-adapted filter banks (the encoder input of paper C,
//! GSVAE, Shervani-Tabar & Zabaras, arXiv:2009.13878; digest `molecular.md` §2).
//!
//! Layer: depends on `linalg` only. **Architecture Invariant:** this crate knows nothing of
//! molecules. Its input is a weighted undirected [`Graph`] (any `n ≥ 1`, symmetric non-negative
//! weights) and a node signal (`n × C` [`linalg::Matrix<f64>`]); its output is a feature vector.
//!
//! The pipeline, all in `f64`:
//!
//! ```text
//! L = D̃^{-1/2} (D − W) D̃^{-1/2},  D̃ = max(1, d)        laplacian        [C §2.1]
//! L = U diag(λ) Uᵀ                                      Jacobi           [C §2.1]
//! ω = piecewise-linear empirical CDF of training λ's    SpectralWarp     [C §2.2]
//! ĝ_m(λ) = ĝ_U(ω(λ) − (a/R)(m − R + 1)), m = 1…12       HalfCosineBank   [C §2.3]
//! S_p = mean_v |G_{j_l} … |G_{j_1} f||,  |p| ≤ 3         Scattering       [C §2.4]
//! ```
//!
//! Entry points: fit a [`SpectralWarp`] on the training graphs, wrap it in a [`HalfCosineBank`]
//! inside a [`FilterBank`], build a [`Scattering`] with [`ScatteringConfig::default`] (orders
//! 0..3, mean pooling), and call [`Scattering::transform_into`] with a reused [`Workspace`]. For
//! 5 one-hot channels and `M = 12` that is 5 · 1,885 = 9,425 features [C §2.4].
//!
//! Beyond the paper, [`DiffusionBank`] provides Gama–Ribeiro–Bruna diffusion wavelets and, with
//! [`DiffusionOperator::LazyRandomWalk`] and [`ScatteringConfig::geometric`] (moments 1..4),
//! Gao–Wolf–Hirn geometric scattering, behind the same [`FilterBank`].
//!
//! The central design decision: every bank is a set of spectral responses `h_m(λ)` of the *same*
//! clamped Laplacian, so one 9×9 eigendecomposition per graph serves all of them, and a filter is
//! applied in the spectral domain (project once, then a diagonal scale and back-projection per
//! filter, over only the eigenvalues where `h_m ≠ 0`: about 3 per eigenvalue for GSVAE's bank).
//! The cascade runs breadth-first, all signals of one order as the columns of one `n × P` matrix,
//! so the arithmetic is long vectorisable rows; it skips filters that are zero on the graph's
//! spectrum (GSVAE's dead filter 12) and channels that are exactly zero (absent one-hot classes),
//! and reuses one [`Workspace`], so once warm the hot path allocates nothing. About 50 µs per
//! QM9-sized molecule (9 nodes, 5 one-hot channels) on one core.
//!
//! ```
//! use graph_scattering::{FilterBank, Graph, HalfCosineBank, HalfCosineConfig, Scattering,
//!     ScatteringConfig, SpectralWarp, WarpConfig};
//! use linalg::Matrix;
//!
//! let propane = Graph::from_row_slice(3, &[0., 1., 0., 1., 0., 1., 0., 1., 0.])?;
//! let ring = Graph::from_row_slice(4, &[0., 1., 0., 1., 1., 0., 1., 0., 0., 1., 0., 1., 1., 0., 1., 0.])?;
//! let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &[propane.clone(), ring.clone(), ring])?;
//! let bank = FilterBank::HalfCosine(HalfCosineBank::new(HalfCosineConfig::default(), warp)?);
//! let scattering = Scattering::new(ScatteringConfig::default(), bank)?;
//! let one_hot = Matrix::from_row_slice(3, 5, &[1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 0., 1., 0., 0., 0.]);
//! let features = scattering.transform(&propane, &one_hot)?;
//! assert_eq!(features.len(), 9_425);
//! # Ok::<(), graph_scattering::Error>(())
//! ```

mod error;

pub mod laplacian;

mod bank;
mod cascade;
mod diffusion;
mod graph;
mod half_cosine;
mod warp;

pub use crate::{
    bank::{Basis, FilterBank},
    cascade::{DEAD_RESPONSE, MAX_ORDER, Pooling, Scattering, ScatteringConfig, Workspace},
    diffusion::{DiffusionBank, DiffusionConfig, DiffusionOperator},
    error::{Error, Result},
    graph::{Graph, SYMMETRY_TOL},
    half_cosine::{HalfCosineBank, HalfCosineConfig},
    warp::{KNOT_TIE_TOL, SpectralWarp, WarpConfig},
};

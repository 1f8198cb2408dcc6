//! The spectrum-adapted warp ω: a piecewise-linear empirical CDF of the training spectra.

use crate::{Error, Graph, Result, laplacian::Spectrum};

/// Knots closer than this (absolute, in eigenvalue units; spectra lie in `[0, 2]`) are one tie.
pub const KNOT_TIE_TOL: f64 = 1e-10;

/// How the warp places its knots.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WarpConfig {
    /// Knot spacing divisor: one knot every `⌊P / n_intervals⌋ − 1` sorted eigenvalues, `P` the
    /// pooled count. GSVAE: 5, i.e. `intvl = int(9N/5 − 1)` [C §2.2].
    pub n_intervals: usize,
}

impl Default for WarpConfig {
    fn default() -> Self {
        WarpConfig { n_intervals: 5 }
    }
}

/// The fitted warp ω: knots of the empirical spectral CDF, linear in between and linearly
/// extrapolated beyond the first and last knot.
///
/// ```text
/// s = sort(pooled eigenvalues of the training graphs),  P = |s|            [C §2.2]
/// c_k = k / (P − 1)                                                        [C §2.2]
/// intvl = ⌊P / 5⌋ − 1,  knots (s[k], c_k) for k = 0, intvl, 2·intvl, … < P  [C §2.2]
/// (knots with tied s[k] merged into the last of the tie; a deviation, see below)
/// ω(λ) = linear interpolation through the knots, linear extrapolation      [C §2.2]
/// γ = max(s),  γ′ = ω(γ)                                                   [C §2.2]
/// ```
///
/// This is `scipy.interpolate.interp1d(x, y, fill_value='extrapolate')` on the knots, with one
/// deviation: knots whose `x` lie within [`KNOT_TIE_TOL`] of the previous kept knot are merged
/// into the later one (the right-continuous empirical CDF). Ties happen when one eigenvalue (say
/// the ghost zeros) fills more than a knot spacing; scipy then returns NaN at `λ = x₀ = x₁` and
/// jumps at interior ties, so ω would depend on the sign of eigensolver rounding. Merged, ω is
/// continuous and monotone. On GSVAE's N = 600 QM9 subsets no knots tie (13.5 % zeros < 20 %
/// spacing), so there the two agree.
///
/// Deserialising checks the knots (at least two, finite, strictly increasing `x`, equal lengths).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(into = "WarpParts", try_from = "WarpParts")]
pub struct SpectralWarp {
    knots_x: Vec<f64>,
    knots_y: Vec<f64>,
    gamma: f64,
}

impl SpectralWarp {
    /// Fits ω to pooled eigenvalues (any order; ghost zeros included, as GSVAE pools them).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `n_intervals = 0`, [`Error::NonFiniteEigenvalue`], and
    /// [`Error::TooFewEigenvalues`] if fewer than `2 · n_intervals` are given (the knot spacing
    /// would be 0, where the reference code fails too), and [`Error::DegenerateSpectrum`] if the
    /// knots collapse to one (all pooled eigenvalues tied, e.g. edgeless training graphs).
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{SpectralWarp, WarpConfig};
    ///
    /// let pooled: Vec<f64> = (0..10).map(|k| k as f64 / 9.0 * 2.0).collect();
    /// let warp = SpectralWarp::fit(&WarpConfig::default(), &pooled)?;
    /// assert_eq!(warp.knots().0.len(), 10); // intvl = 10/5 − 1 = 1, no ties
    /// assert!((warp.eval(1.0) - 0.5).abs() < 1e-15); // the CDF of a uniform grid
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn fit(config: &WarpConfig, eigenvalues: &[f64]) -> Result<SpectralWarp> {
        if config.n_intervals == 0 {
            return Err(Error::InvalidConfig {
                field: "WarpConfig.n_intervals",
                reason: "must be ≥ 1".into(),
            });
        }
        if let Some(index) = eigenvalues.iter().position(|value| !value.is_finite()) {
            return Err(Error::NonFiniteEigenvalue { index });
        }
        let pooled = eigenvalues.len();
        let min = 2 * config.n_intervals;
        if pooled < min {
            return Err(Error::TooFewEigenvalues { got: pooled, min });
        }
        let mut sorted = eigenvalues.to_vec();
        sorted.sort_by(f64::total_cmp);
        let step = pooled / config.n_intervals - 1;
        let denominator = (pooled - 1) as f64;
        let mut knots_x: Vec<f64> = Vec::new();
        let mut knots_y: Vec<f64> = Vec::new();
        for k in (0..pooled).step_by(step) {
            let (x, y) = (sorted[k], k as f64 / denominator);
            match knots_x.last_mut() {
                // Deviation: merge tied knots into the later one (see the type's docs).
                Some(last_x) if x - *last_x <= KNOT_TIE_TOL => {
                    *last_x = x;
                    *knots_y.last_mut().expect("x and y grow together") = y;
                }
                _ => {
                    knots_x.push(x);
                    knots_y.push(y);
                }
            }
        }
        if knots_x.len() < 2 {
            return Err(Error::DegenerateSpectrum {
                distinct_knots: knots_x.len(),
            });
        }
        let gamma = sorted[pooled - 1];
        Ok(SpectralWarp {
            knots_x,
            knots_y,
            gamma,
        })
    }

    /// Fits ω to the pooled Laplacian eigenvalues of `graphs` (the training set) [C §2.2]. Pass
    /// the graphs as the model sees them: GSVAE pads every molecule to 9 slots, so the ghosts'
    /// zero eigenvalues are pooled too (13.5 % of QM9's pooled spectrum).
    ///
    /// # Errors
    /// As [`SpectralWarp::fit`], or an eigensolver failure as [`Error::AtItem`].
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{Graph, SpectralWarp, WarpConfig};
    ///
    /// let path = Graph::from_row_slice(3, &[0., 1., 0., 1., 0., 1., 0., 1., 0.])?;
    /// let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &vec![path; 4])?;
    /// assert!((warp.gamma() - 2.0).abs() < 1e-14); // paths are bipartite
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn fit_graphs(config: &WarpConfig, graphs: &[Graph]) -> Result<SpectralWarp> {
        let mut pooled = Vec::with_capacity(graphs.iter().map(Graph::n_nodes).sum());
        for (index, graph) in graphs.iter().enumerate() {
            let spectrum = Spectrum::of(graph).map_err(|source| Error::AtItem {
                index,
                source: Box::new(source),
            })?;
            pooled.extend(spectrum.values().iter());
        }
        SpectralWarp::fit(config, &pooled)
    }

    /// ω(λ).
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{SpectralWarp, WarpConfig};
    ///
    /// let pooled: Vec<f64> = (0..10).map(|k| k as f64).collect();
    /// let warp = SpectralWarp::fit(&WarpConfig::default(), &pooled)?;
    /// assert!((warp.eval(18.0) - 2.0).abs() < 1e-15); // linear extrapolation
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn eval(&self, lambda: f64) -> f64 {
        let (x, y) = (&self.knots_x, &self.knots_y);
        let n_knots = x.len(); // ≥ 2: checked by `fit` and by deserialisation.
        // First knot with x ≥ λ (numpy's searchsorted, side = 'left'), clipped to [1, K − 1], as
        // in scipy's interp1d.
        let idx = x
            .partition_point(|&knot| knot < lambda)
            .clamp(1, n_knots - 1);
        let (lo, hi) = (idx - 1, idx);
        // Knots are strictly increasing (ties were merged), so the width is positive.
        let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
        y[lo] + slope * (lambda - x[lo])
    }

    /// The knots `(x, y)`.
    pub fn knots(&self) -> (&[f64], &[f64]) {
        (&self.knots_x, &self.knots_y)
    }

    /// γ, the largest pooled eigenvalue.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// γ′ = ω(γ), the warped top of the training spectrum.
    pub fn gamma_warped(&self) -> f64 {
        self.eval(self.gamma)
    }
}

/// The serialised form of a [`SpectralWarp`].
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct WarpParts {
    knots_x: Vec<f64>,
    knots_y: Vec<f64>,
    gamma: f64,
}

impl From<SpectralWarp> for WarpParts {
    fn from(warp: SpectralWarp) -> Self {
        WarpParts {
            knots_x: warp.knots_x,
            knots_y: warp.knots_y,
            gamma: warp.gamma,
        }
    }
}

impl TryFrom<WarpParts> for SpectralWarp {
    type Error = Error;

    fn try_from(parts: WarpParts) -> Result<Self> {
        let WarpParts {
            knots_x,
            knots_y,
            gamma,
        } = parts;
        let finite = knots_x
            .iter()
            .chain(&knots_y)
            .chain([&gamma])
            .all(|v| v.is_finite());
        let increasing = knots_x.windows(2).all(|pair| pair[0] < pair[1]);
        if knots_x.len() < 2 || knots_x.len() != knots_y.len() || !finite || !increasing {
            return Err(Error::InvalidConfig {
                field: "SpectralWarp",
                reason: "knots must be ≥ 2 finite (x, y) pairs with strictly increasing x".into(),
            });
        }
        Ok(SpectralWarp {
            knots_x,
            knots_y,
            gamma,
        })
    }
}

//! Per-bin quantile bands over bootstrap replicas' histograms, and their coverage of a reference.

use serde::{Deserialize, Serialize};

use linalg::stats::quantile_sorted;

use crate::{
    Error, Result,
    histogram::{BinEdges, Histogram},
};

/// Which quantiles bound the band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandConfig {
    /// Lower quantile, in `[0, 1)`. Default 0.01, the paper's code at HEAD [C §4] (v1: 0.05).
    pub lower: f64,
    /// Upper quantile, in `(lower, 1]`. Default 0.99 [C §4] (v1: 0.95).
    pub upper: f64,
}

impl Default for BandConfig {
    fn default() -> Self {
        Self {
            lower: 0.01,
            upper: 0.99,
        }
    }
}

/// A per-bin band of bin probabilities across replicas.
///
/// ```text
/// p⁽ʳ⁾_k = count⁽ʳ⁾_k / Σⱼ count⁽ʳ⁾_j                     r = 1..R replicas
/// band_k = [Q_lower({p⁽ʳ⁾_k}ᵣ), Q_upper({p⁽ʳ⁾_k}ᵣ)]        [C §4]
/// ```
///
/// `Q` is the linearly interpolated sample quantile (numpy's default), as in the paper's code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileBand {
    /// The shared bin edges.
    pub edges: BinEdges,
    /// Lower quantile per bin.
    pub lower: Vec<f64>,
    /// Median per bin.
    pub median: Vec<f64>,
    /// Upper quantile per bin.
    pub upper: Vec<f64>,
    /// The quantiles used.
    pub config: BandConfig,
}

/// How well a band covers a reference histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Number of bins.
    pub n_bins: usize,
    /// Bins whose reference probability lies inside `[lower, upper]` (inclusive).
    pub n_inside: usize,
    /// `n_inside / n_bins`.
    pub fraction_inside: f64,
    /// The bins outside the band, in bin order.
    pub misses: Vec<BinMiss>,
    /// The largest miss distance, 0 when every bin is inside.
    pub max_miss: f64,
    /// The sum of miss distances over all bins (probability mass outside the band).
    pub total_miss: f64,
}

/// One reference bin outside the band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinMiss {
    /// The bin index.
    pub bin: usize,
    /// The reference probability in this bin.
    pub reference: f64,
    /// Signed distance to the nearest band edge: `reference − upper` above the band (positive),
    /// `reference − lower` below it (negative).
    pub signed_distance: f64,
}

impl BandConfig {
    /// Checks `0 ≤ lower < upper ≤ 1`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] otherwise.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::band::BandConfig;
    /// assert!(BandConfig::default().validate().is_ok());
    /// assert!(BandConfig { lower: 0.9, upper: 0.1 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let ok = (0.0..=1.0).contains(&self.lower)
            && (0.0..=1.0).contains(&self.upper)
            && self.lower < self.upper;
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidConfig {
                name: "band quantiles",
                reason: format!(
                    "need 0 ≤ lower < upper ≤ 1, got lower = {}, upper = {}",
                    self.lower, self.upper
                ),
            })
        }
    }
}

impl QuantileBand {
    /// The band of the replicas' bin probabilities ([`Histogram::probabilities`]).
    ///
    /// # Errors
    /// [`Error::Empty`] with no replicas or a replica with no value inside the edges;
    /// [`Error::EdgesDiffer`] if the replicas' edges differ; [`Error::InvalidConfig`] for a bad
    /// `config`.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::{band::{BandConfig, QuantileBand}, histogram::{BinEdges, Histogram}};
    /// let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    /// let replicas: Vec<Histogram> = [[0.1, 0.2, 0.7], [0.1, 0.6, 0.7], [0.2, 0.3, 0.4]]
    ///     .iter()
    ///     .map(|values| Histogram::new(values, &edges).unwrap())
    ///     .collect();
    /// let band = QuantileBand::from_histograms(&replicas, BandConfig { lower: 0.0, upper: 1.0 }).unwrap();
    /// assert!((band.lower[0] - 1.0 / 3.0).abs() < 1e-12 && band.upper[0] == 1.0);
    /// ```
    pub fn from_histograms(replicas: &[Histogram], config: BandConfig) -> Result<Self> {
        config.validate()?;
        let first = replicas.first().ok_or(Error::Empty {
            what: "replica histograms",
        })?;
        if let Some(index) = replicas
            .iter()
            .position(|replica| replica.edges != first.edges)
        {
            return Err(Error::EdgesDiffer { index });
        }
        let probabilities = replicas
            .iter()
            .map(Histogram::probabilities)
            .collect::<Result<Vec<_>>>()?;
        let n_bins = first.edges.n_bins();
        let mut lower = Vec::with_capacity(n_bins);
        let mut median = Vec::with_capacity(n_bins);
        let mut upper = Vec::with_capacity(n_bins);
        for bin in 0..n_bins {
            let mut column: Vec<f64> = probabilities.iter().map(|p| p[bin]).collect();
            column.sort_by(f64::total_cmp);
            lower.push(quantile_sorted(&column, config.lower));
            median.push(quantile_sorted(&column, 0.5));
            upper.push(quantile_sorted(&column, config.upper));
        }
        Ok(Self {
            edges: first.edges.clone(),
            lower,
            median,
            upper,
            config,
        })
    }

    /// Which bins of `reference` lie inside the band (inclusive), and by how much the others miss.
    ///
    /// # Errors
    /// [`Error::EdgesDiffer`] (index 0) if the reference has other edges; [`Error::Empty`] if it
    /// has no value inside the edges.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::{band::{BandConfig, QuantileBand}, histogram::{BinEdges, Histogram}};
    /// let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    /// let replica = Histogram::new(&[0.1, 0.7], &edges).unwrap();
    /// let band = QuantileBand::from_histograms(&[replica], BandConfig::default()).unwrap();
    /// let reference = Histogram::new(&[0.1, 0.2, 0.3, 0.7], &edges).unwrap();
    /// let coverage = band.coverage(&reference).unwrap();
    /// assert_eq!(coverage.n_inside, 0);
    /// assert!((coverage.misses[0].signed_distance - 0.25).abs() < 1e-12);
    /// ```
    pub fn coverage(&self, reference: &Histogram) -> Result<Coverage> {
        if reference.edges != self.edges {
            return Err(Error::EdgesDiffer { index: 0 });
        }
        let probabilities = reference.probabilities()?;
        Ok(self.coverage_of_probabilities(&probabilities))
    }

    /// As [`QuantileBand::coverage`], for bin probabilities given directly.
    ///
    /// # Panics
    /// If `reference.len()` differs from the number of bins.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::{band::{BandConfig, QuantileBand}, histogram::{BinEdges, Histogram}};
    /// let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    /// let replica = Histogram::new(&[0.1, 0.7], &edges).unwrap();
    /// let band = QuantileBand::from_histograms(&[replica], BandConfig::default()).unwrap();
    /// assert_eq!(band.coverage_of_probabilities(&[0.5, 0.5]).fraction_inside, 1.0);
    /// ```
    pub fn coverage_of_probabilities(&self, reference: &[f64]) -> Coverage {
        assert_eq!(
            reference.len(),
            self.lower.len(),
            "coverage: reference has the wrong number of bins"
        );
        let mut misses = Vec::new();
        for (bin, &value) in reference.iter().enumerate() {
            let signed_distance = if value > self.upper[bin] {
                value - self.upper[bin]
            } else if value < self.lower[bin] {
                value - self.lower[bin]
            } else {
                continue;
            };
            misses.push(BinMiss {
                bin,
                reference: value,
                signed_distance,
            });
        }
        let n_bins = reference.len();
        let n_inside = n_bins - misses.len();
        let max_miss = misses
            .iter()
            .map(|miss| miss.signed_distance.abs())
            .fold(0.0, f64::max);
        let total_miss = misses.iter().map(|miss| miss.signed_distance.abs()).sum();
        Coverage {
            n_bins,
            n_inside,
            fraction_inside: n_inside as f64 / n_bins as f64,
            misses,
            max_miss,
            total_miss,
        }
    }
}

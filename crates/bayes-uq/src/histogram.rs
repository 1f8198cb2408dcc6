//! Histograms on fixed bin edges, normalised to probabilities, as the paper's UQ plots use.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Strictly increasing, finite bin edges `e₀ < e₁ < … < e_K` defining `K ≥ 1` bins.
///
/// Bin `k` is `[e_k, e_{k+1})`, except the last, which is closed: `[e_{K−1}, e_K]` (numpy's
/// `histogram` rule, which the paper's code uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinEdges {
    edges: Vec<f64>,
}

impl BinEdges {
    /// Validates explicit edges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if there are fewer than 2 edges or they are not strictly
    /// increasing; [`Error::NonFinite`] if an edge is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::BinEdges;
    /// assert_eq!(BinEdges::new(vec![0.0, 1.0, 3.0]).unwrap().n_bins(), 2);
    /// assert!(BinEdges::new(vec![0.0, 0.0]).is_err());
    /// ```
    pub fn new(edges: Vec<f64>) -> Result<Self> {
        if let Some(index) = edges.iter().position(|edge| !edge.is_finite()) {
            return Err(Error::NonFinite {
                what: "bin edge",
                index,
            });
        }
        if edges.len() < 2 {
            return Err(Error::InvalidConfig {
                name: "bin edges",
                reason: format!("need at least 2 edges, got {}", edges.len()),
            });
        }
        if let Some(index) = edges.windows(2).position(|pair| pair[0] >= pair[1]) {
            return Err(Error::InvalidConfig {
                name: "bin edges",
                reason: format!("edges {index} and {} are not increasing", index + 1),
            });
        }
        Ok(Self { edges })
    }

    /// `n_bins` equal-width bins on `[lo, hi]`: `e_k = lo + k (hi − lo) / n_bins` (the paper's code
    /// uses 15 bins on the QM9-wide property bounds [C §4]).
    ///
    /// # Errors
    /// As [`BinEdges::new`], and [`Error::InvalidConfig`] if `n_bins` is 0.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::BinEdges;
    /// let edges = BinEdges::uniform(0.0, 1.0, 4).unwrap();
    /// assert_eq!(edges.edges(), &[0.0, 0.25, 0.5, 0.75, 1.0]);
    /// ```
    pub fn uniform(lo: f64, hi: f64, n_bins: usize) -> Result<Self> {
        if n_bins == 0 {
            return Err(Error::InvalidConfig {
                name: "n_bins",
                reason: "must be at least 1".to_string(),
            });
        }
        let width = (hi - lo) / n_bins as f64;
        let mut edges: Vec<f64> = (0..n_bins).map(|k| lo + k as f64 * width).collect();
        edges.push(hi);
        Self::new(edges)
    }

    /// The edges, `n_bins + 1` of them.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::BinEdges;
    /// assert_eq!(BinEdges::uniform(0.0, 2.0, 2).unwrap().edges().len(), 3);
    /// ```
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The number of bins.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::BinEdges;
    /// assert_eq!(BinEdges::uniform(0.0, 2.0, 5).unwrap().n_bins(), 5);
    /// ```
    pub fn n_bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// The bin that holds `value`, or `None` outside `[e₀, e_K]` (or for NaN).
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::BinEdges;
    /// let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    /// assert_eq!(edges.bin_of(0.5), Some(1));
    /// assert_eq!(edges.bin_of(1.0), Some(1));
    /// assert_eq!(edges.bin_of(1.5), None);
    /// ```
    pub fn bin_of(&self, value: f64) -> Option<usize> {
        let first = self.edges[0];
        let last = self.edges[self.edges.len() - 1];
        if !(first..=last).contains(&value) {
            return None;
        }
        // Number of edges ≤ value, minus one, clamped so that the last edge falls in the last bin.
        let n_le = self.edges.partition_point(|&edge| edge <= value);
        Some((n_le - 1).min(self.n_bins() - 1))
    }
}

/// Counts of values per bin on fixed edges, plus the values that fell outside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The bin edges.
    pub edges: BinEdges,
    /// Count per bin.
    pub counts: Vec<usize>,
    /// Values below the first edge.
    pub n_below: usize,
    /// Values above the last edge.
    pub n_above: usize,
}

impl Histogram {
    /// Bins `values` on `edges`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] naming the first NaN or infinite value.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::{BinEdges, Histogram};
    /// let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    /// let h = Histogram::new(&[0.1, 0.2, 0.7, 1.0, 2.0], &edges).unwrap();
    /// assert_eq!(h.counts, vec![2, 2]);
    /// assert_eq!(h.n_above, 1);
    /// ```
    pub fn new(values: &[f64], edges: &BinEdges) -> Result<Self> {
        let mut counts = vec![0; edges.n_bins()];
        let mut n_below = 0;
        let mut n_above = 0;
        for (index, &value) in values.iter().enumerate() {
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    what: "histogram value",
                    index,
                });
            }
            match edges.bin_of(value) {
                Some(bin) => counts[bin] += 1,
                None if value < edges.edges()[0] => n_below += 1,
                None => n_above += 1,
            }
        }
        Ok(Self {
            edges: edges.clone(),
            counts,
            n_below,
            n_above,
        })
    }

    /// The number of values inside the edges.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::{BinEdges, Histogram};
    /// let h = Histogram::new(&[0.5, 5.0], &BinEdges::uniform(0.0, 1.0, 1).unwrap()).unwrap();
    /// assert_eq!(h.n_inside(), 1);
    /// ```
    pub fn n_inside(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Counts divided by the number of values inside the edges, so the bins sum to 1 (the
    /// paper's per-replica histograms are "normalised to probabilities" [C §4]).
    ///
    /// # Errors
    /// [`Error::Empty`] if no value fell inside the edges.
    ///
    /// # Example
    /// ```
    /// use bayes_uq::histogram::{BinEdges, Histogram};
    /// let h = Histogram::new(&[0.1, 0.6, 0.7, 0.8], &BinEdges::uniform(0.0, 1.0, 2).unwrap()).unwrap();
    /// assert_eq!(h.probabilities().unwrap(), vec![0.25, 0.75]);
    /// ```
    pub fn probabilities(&self) -> Result<Vec<f64>> {
        let n_inside = self.n_inside();
        if n_inside == 0 {
            return Err(Error::Empty {
                what: "histogram (no value inside the edges)",
            });
        }
        Ok(self
            .counts
            .iter()
            .map(|&count| count as f64 / n_inside as f64)
            .collect())
    }
}

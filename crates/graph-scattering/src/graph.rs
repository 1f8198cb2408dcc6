//! Weighted undirected graphs: a validated symmetric non-negative weight matrix.

use linalg::Matrix;

use crate::{Error, Result};

/// Relative tolerance for `W = Wᵀ`: `|W_ij − W_ji| ≤ 1e-12 · max(|W_ij|, |W_ji|)`. Anything
/// larger is an [`Error::Asymmetric`]; anything within it is averaged away.
pub const SYMMETRY_TOL: f64 = 1e-12;

/// A weighted undirected graph on `n ≥ 1` nodes, given by its weight matrix `W` (n × n,
/// symmetric, finite, non-negative). Isolated nodes (zero rows) are allowed: they are how
/// GSVAE pads molecules to 9 "ghost" slots [C §2.1].
///
/// The weights carry an invariant, so they are private; read them with [`Graph::weights`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Graph {
    weights: Matrix<f64>,
}

impl Graph {
    /// Validates `weights` and builds the graph.
    ///
    /// # Errors
    /// [`Error::EmptyGraph`] (0 × 0), [`Error::NotSquare`], [`Error::NonFiniteWeight`],
    /// [`Error::NegativeWeight`] or [`Error::Asymmetric`], each naming the offending entry.
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{Error, Graph};
    /// use linalg::Matrix;
    ///
    /// let path = Graph::new(Matrix::from_row_slice(3, 3, &[0., 1., 0., 1., 0., 1., 0., 1., 0.]))?;
    /// assert_eq!(path.n_nodes(), 3);
    /// let bad = Graph::new(Matrix::from_row_slice(2, 2, &[0., 1., 2., 0.]));
    /// assert!(matches!(bad, Err(Error::Asymmetric { row: 0, col: 1, .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new(weights: Matrix<f64>) -> Result<Graph> {
        let (rows, cols) = weights.shape();
        if rows != cols {
            return Err(Error::NotSquare { rows, cols });
        }
        if rows == 0 {
            return Err(Error::EmptyGraph);
        }
        for col in 0..cols {
            for row in 0..rows {
                let value = weights[(row, col)];
                if !value.is_finite() {
                    return Err(Error::NonFiniteWeight { row, col });
                }
                if value < 0.0 {
                    return Err(Error::NegativeWeight { row, col, value });
                }
            }
        }
        let mut weights = weights;
        for row in 0..rows {
            for col in row + 1..cols {
                let upper = weights[(row, col)];
                let lower = weights[(col, row)];
                if (upper - lower).abs() > SYMMETRY_TOL * upper.max(lower) {
                    return Err(Error::Asymmetric {
                        row,
                        col,
                        upper,
                        lower,
                    });
                }
                let mean = 0.5 * (upper + lower);
                weights[(row, col)] = mean;
                weights[(col, row)] = mean;
            }
        }
        Ok(Graph { weights })
    }

    /// Builds a graph from `n × n` weights given row by row.
    ///
    /// # Errors
    /// [`Error::NotSquare`] if `row_major.len() ≠ n²`, otherwise as [`Graph::new`].
    ///
    /// # Example
    /// ```
    /// let triangle = graph_scattering::Graph::from_row_slice(3, &[0., 1., 1., 1., 0., 1., 1., 1., 0.])?;
    /// assert_eq!(triangle.degrees(), vec![2.0, 2.0, 2.0]);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn from_row_slice(n: usize, row_major: &[f64]) -> Result<Graph> {
        if row_major.len() != n * n {
            return Err(Error::NotSquare {
                rows: n,
                cols: row_major.len().checked_div(n).unwrap_or(0),
            });
        }
        Graph::new(Matrix::from_row_slice(n, n, row_major))
    }

    /// Number of nodes `n`.
    pub fn n_nodes(&self) -> usize {
        self.weights.nrows()
    }

    /// The (symmetric) weight matrix `W`.
    pub fn weights(&self) -> &Matrix<f64> {
        &self.weights
    }

    /// Weighted degrees `dᵢ = Σⱼ Wᵢⱼ` (row sums, self-loops included) [C §2.1].
    ///
    /// # Example
    /// ```
    /// let g = graph_scattering::Graph::from_row_slice(2, &[0., 2., 2., 0.])?;
    /// assert_eq!(g.degrees(), vec![2.0, 2.0]);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn degrees(&self) -> Vec<f64> {
        (0..self.n_nodes())
            .map(|row| self.weights.row(row).sum())
            .collect()
    }

    /// The graph with its nodes relabelled: node `i` of the result is node `order[i]` of `self`,
    /// i.e. `W′ = P W Pᵀ` with `P[i, order[i]] = 1`.
    ///
    /// # Panics
    /// If `order` is not a permutation of `0..n`.
    ///
    /// # Example
    /// ```
    /// let path = graph_scattering::Graph::from_row_slice(3, &[0., 1., 0., 1., 0., 1., 0., 1., 0.])?;
    /// let relabelled = path.permuted(&[1, 0, 2]);
    /// assert_eq!(relabelled.degrees(), vec![2.0, 1.0, 1.0]);
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn permuted(&self, order: &[usize]) -> Graph {
        let n = self.n_nodes();
        let mut seen = vec![false; n];
        assert!(
            order.len() == n,
            "permuted: order has {} entries for {n} nodes",
            order.len()
        );
        for &node in order {
            assert!(
                node < n && !seen[node],
                "permuted: order is not a permutation of 0..{n}"
            );
            seen[node] = true;
        }
        let weights = Matrix::from_fn(n, n, |row, col| self.weights[(order[row], order[col])]);
        Graph { weights }
    }
}

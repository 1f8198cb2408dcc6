//! The normalised graph Laplacian with GSVAE's degree clamp, and its eigendecomposition.

use linalg::{Matrix, Vector, jacobi};

use crate::{Graph, Result};

/// The normalised Laplacian with the degree clamp `max(1, d)`.
///
/// ```text
/// dᵢ = Σⱼ Wᵢⱼ,   D̃ = diag(max(1, dᵢ))                            [C §2.1]
/// L  = D̃^{-1/2} (diag(d) − W) D̃^{-1/2}                           [C §2.1]
/// ```
///
/// For nodes with `d ≥ 1` this is the symmetric normalised Laplacian `I − D^{-1/2} W D^{-1/2}`;
/// isolated (ghost) nodes give zero rows, hence eigenvalue 0. The spectrum lies in `[0, 2]` for
/// every non-negative `W` (`0 ⪯ D − W ⪯ 2D` and `dᵢ / max(1, dᵢ) ≤ 1`).
///
/// # Example
/// ```
/// use graph_scattering::{Graph, laplacian::normalized_laplacian};
///
/// // One edge of weight 4 plus an isolated node.
/// let g = Graph::from_row_slice(3, &[0., 4., 0., 4., 0., 0., 0., 0., 0.])?;
/// let l = normalized_laplacian(&g);
/// assert_eq!((l[(0, 0)], l[(0, 1)], l[(2, 2)]), (1.0, -1.0, 0.0));
/// # Ok::<(), graph_scattering::Error>(())
/// ```
pub fn normalized_laplacian(graph: &Graph) -> Matrix<f64> {
    let n = graph.n_nodes();
    let mut lap = vec![0.0; n * n];
    let mut sqrt_degree = vec![0.0; n];
    laplacian_into(graph, &mut lap, &mut sqrt_degree);
    Matrix::from_vec(n, n, lap)
}

/// Eigenvalues (ascending) and orthonormal eigenvectors of the clamped normalised Laplacian.
///
/// ```text
/// L = U diag(λ) Uᵀ,   0 ≤ λ₁ ≤ … ≤ λₙ ≤ 2                          [C §2.1]
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    values: Vector<f64>,
    vectors: Matrix<f64>,
}

impl Spectrum {
    /// Eigendecomposes `L` of `graph` (cyclic Jacobi in `f64`, [`linalg::jacobi`]).
    ///
    /// # Errors
    /// [`crate::Error::Eigen`] if the eigensolver does not converge (it always does on the finite
    /// matrices a [`Graph`] guarantees).
    ///
    /// # Example
    /// ```
    /// use graph_scattering::{Graph, laplacian::Spectrum};
    ///
    /// // Path on 3 nodes: eigenvalues 0, 1, 2.
    /// let path = Graph::from_row_slice(3, &[0., 1., 0., 1., 0., 1., 0., 1., 0.])?;
    /// let spectrum = Spectrum::of(&path)?;
    /// let expected = [0.0, 1.0, 2.0];
    /// assert!(spectrum.values().iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-14));
    /// # Ok::<(), graph_scattering::Error>(())
    /// ```
    pub fn of(graph: &Graph) -> Result<Spectrum> {
        let n = graph.n_nodes();
        let mut lap = vec![0.0; n * n];
        let mut sqrt_degree = vec![0.0; n];
        laplacian_into(graph, &mut lap, &mut sqrt_degree);
        let mut values = vec![0.0; n];
        let mut vectors = vec![0.0; n * n];
        jacobi::symmetric_eigen_in_place(&mut lap, n, &mut values, &mut vectors)?;
        Ok(Spectrum {
            values: Vector::from_vec(values),
            vectors: Matrix::from_vec(n, n, vectors),
        })
    }

    /// Eigenvalues `λ`, ascending.
    pub fn values(&self) -> &Vector<f64> {
        &self.values
    }

    /// Eigenvectors `U`, column `e` belonging to `λₑ`.
    pub fn vectors(&self) -> &Matrix<f64> {
        &self.vectors
    }
}

/// Writes `L` (column-major, `n × n`) into `lap` and `√max(1, dᵢ)` into `sqrt_degree`.
/// Allocates nothing.
pub(crate) fn laplacian_into(graph: &Graph, lap: &mut [f64], sqrt_degree: &mut [f64]) {
    let n = graph.n_nodes();
    let w = graph.weights().as_slice();
    debug_assert!(lap.len() == n * n && sqrt_degree.len() == n);
    for (i, slot) in sqrt_degree.iter_mut().enumerate() {
        // Row sum = column sum (W is symmetric); columns are contiguous. The diagonal of `lap`
        // holds dᵢ until the loop below overwrites it.
        let degree: f64 = w[i * n..(i + 1) * n].iter().sum();
        *slot = degree.max(1.0).sqrt();
        lap[i * n + i] = degree;
    }
    for col in 0..n {
        for row in 0..n {
            let diag = if row == col { lap[col * n + col] } else { 0.0 };
            lap[col * n + row] = (diag - w[col * n + row]) / (sqrt_degree[row] * sqrt_degree[col]);
        }
    }
}

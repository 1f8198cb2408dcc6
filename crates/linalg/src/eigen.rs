//! Symmetric eigendecomposition in `f64`, eigenvalues sorted ascending.

use crate::{Matrix, Vector};

/// Eigenvalues (ascending) and orthonormal eigenvectors (as columns, same order) of a symmetric
/// matrix. Only the lower triangle is read.
///
/// ```text
/// A = U diag(λ) Uᵀ,   λ₁ ≤ λ₂ ≤ … ≤ λₙ
/// ```
///
/// # Panics
/// If `a` is not square.
///
/// # Example
/// ```
/// let a = linalg::Matrix::<f64>::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
/// let (values, vectors) = linalg::eigen::symmetric_eigen(&a);
/// assert!((values[0] - 1.0).abs() < 1e-12 && (values[1] - 3.0).abs() < 1e-12);
/// assert!((vectors.column(1).dot(&vectors.column(1)) - 1.0).abs() < 1e-12);
/// ```
pub fn symmetric_eigen(a: &Matrix<f64>) -> (Vector<f64>, Matrix<f64>) {
    assert!(
        a.is_square(),
        "symmetric_eigen: matrix is {}x{}",
        a.nrows(),
        a.ncols()
    );
    let n = a.nrows();
    let decomposition = nalgebra::SymmetricEigen::new(a.clone());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| decomposition.eigenvalues[i].total_cmp(&decomposition.eigenvalues[j]));
    let values = Vector::from_iterator(n, order.iter().map(|&i| decomposition.eigenvalues[i]));
    let mut vectors = Matrix::zeros(n, n);
    for (dst, &src) in order.iter().enumerate() {
        vectors.set_column(dst, &decomposition.eigenvectors.column(src));
    }
    (values, vectors)
}

//! The batch-1 hot-path kernels: matrix–vector products, rank-1 updates and GEMM.
//!
//! Each kernel writes into a caller-owned buffer, so a training loop allocates nothing per step.
//! All of them run faer's sequential (`Par::Seq`) kernels on views of the nalgebra storage:
//! threading only pays off for minibatch GEMMs, and parallelism in this workspace lives at the
//! level of independent runs (seeds, replicas), where it cannot change results.
//!
//! Shapes are internal invariants here (callers validate configurations once, up front): a
//! mismatch panics with the operation and both shapes in the message.

use crate::{Float, Matrix, Vector};

/// Whether a GEMM operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transpose {
    /// Use the operand as stored.
    No,
    /// Use the operand's transpose.
    Yes,
}

/// Whether a kernel overwrites its output or adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accumulate {
    /// `dst ← result`.
    Replace,
    /// `dst ← dst + result`.
    Add,
}

/// Matrix–vector product `y = W x`.
///
/// ```text
/// yᵢ = Σⱼ Wᵢⱼ xⱼ
/// ```
///
/// # Panics
/// If `w.ncols() != x.len()` or `w.nrows() != y.len()`.
///
/// # Example
/// ```
/// use linalg::{Matrix, Vector, kernels::gemv};
/// let w = Matrix::<f32>::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut y = Vector::zeros(2);
/// gemv(&mut y, &w, &Vector::from_vec(vec![1.0, 1.0]));
/// assert_eq!(y.as_slice(), &[3.0, 7.0]);
/// ```
#[inline]
pub fn gemv<T: Float>(y: &mut Vector<T>, w: &Matrix<T>, x: &Vector<T>) {
    gemv_acc(y, w, x, T::one(), Accumulate::Replace);
}

/// Matrix–vector product with scale and accumulation: `y = α W x` or `y += α W x`.
///
/// # Panics
/// If `w.ncols() != x.len()` or `w.nrows() != y.len()`.
#[inline]
pub fn gemv_acc<T: Float>(
    y: &mut Vector<T>,
    w: &Matrix<T>,
    x: &Vector<T>,
    alpha: T,
    accumulate: Accumulate,
) {
    let (m, n) = w.shape();
    check_shape("gemv: x", (n, 1), (x.len(), 1));
    check_shape("gemv: y", (m, 1), (y.len(), 1));
    T::faer_matmul(
        y.as_mut_slice(),
        m,
        1,
        accumulate == Accumulate::Add,
        (w.as_slice(), m, n, false),
        (x.as_slice(), n, 1, false),
        alpha,
    );
}

/// Transposed matrix–vector product `z = Wᵀ y` (the backprop direction).
///
/// ```text
/// zⱼ = Σᵢ Wᵢⱼ yᵢ
/// ```
///
/// # Panics
/// If `w.nrows() != y.len()` or `w.ncols() != z.len()`.
///
/// # Example
/// ```
/// use linalg::{Matrix, Vector, kernels::gemv_t};
/// let w = Matrix::<f32>::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut z = Vector::zeros(2);
/// gemv_t(&mut z, &w, &Vector::from_vec(vec![1.0, 1.0]));
/// assert_eq!(z.as_slice(), &[4.0, 6.0]);
/// ```
#[inline]
pub fn gemv_t<T: Float>(z: &mut Vector<T>, w: &Matrix<T>, y: &Vector<T>) {
    gemv_t_acc(z, w, y, T::one(), Accumulate::Replace);
}

/// Transposed matrix–vector product with scale and accumulation: `z = α Wᵀ y` or `z += α Wᵀ y`.
///
/// # Panics
/// If `w.nrows() != y.len()` or `w.ncols() != z.len()`.
#[inline]
pub fn gemv_t_acc<T: Float>(
    z: &mut Vector<T>,
    w: &Matrix<T>,
    y: &Vector<T>,
    alpha: T,
    accumulate: Accumulate,
) {
    let (m, n) = w.shape();
    check_shape("gemv_t: y", (m, 1), (y.len(), 1));
    check_shape("gemv_t: z", (n, 1), (z.len(), 1));
    // zᵀ (1×n) = yᵀ (1×m) · W (m×n); a 1×n row and an n×1 column share the same memory layout.
    T::faer_matmul(
        z.as_mut_slice(),
        1,
        n,
        accumulate == Accumulate::Add,
        (y.as_slice(), m, 1, true),
        (w.as_slice(), m, n, false),
        alpha,
    );
}

/// Rank-1 update `W += α a bᵀ` (the shape of every Hebbian and gradient update at batch 1).
///
/// ```text
/// Wᵢⱼ ← Wᵢⱼ + α aᵢ bⱼ
/// ```
///
/// # Panics
/// If `w.nrows() != a.len()` or `w.ncols() != b.len()`.
///
/// # Example
/// ```
/// use linalg::{Matrix, Vector, kernels::ger};
/// let mut w = Matrix::<f32>::zeros(2, 2);
/// ger(&mut w, 2.0, &Vector::from_vec(vec![1.0, 0.0]), &Vector::from_vec(vec![3.0, 4.0]));
/// assert_eq!(w.as_slice(), &[6.0, 0.0, 8.0, 0.0]); // column-major
/// ```
#[inline]
pub fn ger<T: Float>(w: &mut Matrix<T>, alpha: T, a: &Vector<T>, b: &Vector<T>) {
    let (m, n) = w.shape();
    check_shape("ger: a", (m, 1), (a.len(), 1));
    check_shape("ger: b", (n, 1), (b.len(), 1));
    T::faer_matmul(
        w.as_mut_slice(),
        m,
        n,
        true,
        (a.as_slice(), m, 1, false),
        (b.as_slice(), n, 1, true),
        alpha,
    );
}

/// General matrix product `C = α op(A) op(B)` or `C += α op(A) op(B)`.
///
/// ```text
/// C ← α op(A) op(B) + [C]        op(X) = X or Xᵀ
/// ```
///
/// # Panics
/// If the shapes of `op(A)`, `op(B)` and `C` do not chain.
///
/// # Example
/// ```
/// use linalg::{Matrix, kernels::{gemm, Accumulate, Transpose}};
/// let a = Matrix::<f64>::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let mut c = Matrix::zeros(2, 2);
/// gemm(&mut c, 1.0, &a, Transpose::Yes, &a, Transpose::No, Accumulate::Replace);
/// assert_eq!(c, a.transpose() * &a);
/// ```
#[inline]
pub fn gemm<T: Float>(
    c: &mut Matrix<T>,
    alpha: T,
    a: &Matrix<T>,
    transpose_a: Transpose,
    b: &Matrix<T>,
    transpose_b: Transpose,
    accumulate: Accumulate,
) {
    let op_shape = |m: &Matrix<T>, t: Transpose| match t {
        Transpose::No => m.shape(),
        Transpose::Yes => (m.ncols(), m.nrows()),
    };
    let (am, ak) = op_shape(a, transpose_a);
    let (bk, bn) = op_shape(b, transpose_b);
    check_shape("gemm: op(b)", (ak, bn), (bk, bn));
    check_shape("gemm: c", (am, bn), c.shape());
    let (rows, cols) = c.shape();
    T::faer_matmul(
        c.as_mut_slice(),
        rows,
        cols,
        accumulate == Accumulate::Add,
        (
            a.as_slice(),
            a.nrows(),
            a.ncols(),
            transpose_a == Transpose::Yes,
        ),
        (
            b.as_slice(),
            b.nrows(),
            b.ncols(),
            transpose_b == Transpose::Yes,
        ),
        alpha,
    );
}

/// `y += α x` over equal-length slices.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn axpy<T: Float>(y: &mut [T], alpha: T, x: &[T]) {
    assert_eq!(y.len(), x.len(), "axpy: length mismatch");
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Dot product of two equal-length slices, summed in index order.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    assert_eq!(a.len(), b.len(), "dot: length mismatch");
    a.iter()
        .zip(b)
        .fold(T::zero(), |acc, (&ai, &bi)| acc + ai * bi)
}

#[track_caller]
#[inline]
fn check_shape(op: &'static str, expected: (usize, usize), got: (usize, usize)) {
    assert!(
        expected == got,
        "shape mismatch in {op}: expected {}x{}, got {}x{}",
        expected.0,
        expected.1,
        got.0,
        got.1
    );
}

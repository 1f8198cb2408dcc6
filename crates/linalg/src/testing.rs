//! Numerical test helpers shared by the workspace (feature `testing`): named tolerances,
//! `assert_close`, and a central finite-difference gradient checker.
//!
//! Dependents enable it in `[dev-dependencies]`:
//! `linalg = { workspace = true, features = ["testing"] }`.

/// An absolute-or-relative tolerance: `|a − b| ≤ max(abs, rel · max(|a|, |b|))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tol {
    /// Relative part.
    pub rel: f64,
    /// Absolute part.
    pub abs: f64,
}

/// The named tolerances. Tests use these instead of literal epsilons.
pub mod tol {
    use super::Tol;

    /// Results that must agree to rounding in `f64` (identities such as FA with `B = Wᵀ` ≡ BP).
    pub const EXACT: Tol = Tol {
        rel: 1e-12,
        abs: 1e-12,
    };
    /// Analytic gradients against central finite differences in `f64`.
    pub const GRAD: Tol = Tol {
        rel: 1e-6,
        abs: 1e-6,
    };
    /// Iterative solvers and converged fixed points in `f64`.
    pub const ITER: Tol = Tol {
        rel: 1e-8,
        abs: 1e-8,
    };
    /// Results that must agree to `f32` rounding after a few hundred operations.
    pub const F32: Tol = Tol {
        rel: 1e-5,
        abs: 1e-6,
    };
}

impl Tol {
    /// Whether `a` and `b` agree under this tolerance. NaN never agrees.
    pub fn accepts(&self, a: f64, b: f64) -> bool {
        let diff = (a - b).abs();
        diff <= self.abs.max(self.rel * a.abs().max(b.abs()))
    }
}

/// Asserts `|a − b| ≤ max(abs, rel · max(|a|, |b|))`.
///
/// # Panics
/// If the values do not agree (or either is NaN).
///
/// # Example
/// ```
/// use linalg::testing::{assert_close, tol};
/// assert_close(1.0, 1.0 + 1e-13, tol::EXACT);
/// ```
#[track_caller]
pub fn assert_close(a: f64, b: f64, tol: Tol) {
    assert!(
        tol.accepts(a, b),
        "values differ: {a:e} vs {b:e} (|diff| = {:e}, {tol:?})",
        (a - b).abs()
    );
}

/// Asserts elementwise closeness of two equal-length sequences, naming the first bad index.
///
/// # Panics
/// If the lengths differ or any pair does not agree.
///
/// # Example
/// ```
/// use linalg::testing::{assert_all_close, tol};
/// assert_all_close(&[1.0f32, 2.0], &[1.0f32, 2.0], tol::F32);
/// ```
#[track_caller]
pub fn assert_all_close<T: crate::Float>(a: &[T], b: &[T], tol: Tol) {
    assert_eq!(
        a.len(),
        b.len(),
        "lengths differ: {} vs {}",
        a.len(),
        b.len()
    );
    for (idx, (&x, &y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (x.as_f64(), y.as_f64());
        assert!(
            tol.accepts(x, y),
            "element {idx} differs: {x:e} vs {y:e} ({tol:?})"
        );
    }
}

/// Step of the central difference for coordinate value `x`: `h = ε^(1/3) · max(1, |x|)`.
pub fn fd_step(x: f64) -> f64 {
    f64::EPSILON.cbrt() * x.abs().max(1.0)
}

/// Central finite-difference gradient of `f` at `x`.
///
/// ```text
/// ∂f/∂xᵢ ≈ (f(x + hᵢ eᵢ) − f(x − hᵢ eᵢ)) / (2hᵢ),   hᵢ = ε^(1/3) · max(1, |xᵢ|)
/// ```
///
/// # Example
/// ```
/// let g = linalg::testing::central_difference(|x| x[0] * x[0] + 3.0 * x[1], &[2.0, 5.0]);
/// linalg::testing::assert_close(g[0], 4.0, linalg::testing::tol::GRAD);
/// linalg::testing::assert_close(g[1], 3.0, linalg::testing::tol::GRAD);
/// ```
pub fn central_difference(mut f: impl FnMut(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let mut point = x.to_vec();
    (0..x.len())
        .map(|idx| {
            let h = fd_step(x[idx]);
            point[idx] = x[idx] + h;
            let plus = f(&point);
            point[idx] = x[idx] - h;
            let minus = f(&point);
            point[idx] = x[idx];
            (plus - minus) / (2.0 * h)
        })
        .collect()
}

/// Checks an analytic gradient against central finite differences, naming the first coordinate
/// that disagrees.
///
/// # Panics
/// If any coordinate disagrees under `tol`.
///
/// # Example
/// ```
/// use linalg::testing::{check_gradient, tol};
/// check_gradient(|x| x[0].sin(), &[0.3], &[0.3f64.cos()], tol::GRAD);
/// ```
#[track_caller]
pub fn check_gradient(f: impl FnMut(&[f64]) -> f64, x: &[f64], analytic: &[f64], tol: Tol) {
    assert_eq!(
        x.len(),
        analytic.len(),
        "gradient length differs from the point's"
    );
    let numeric = central_difference(f, x);
    for (idx, (&a, &n)) in analytic.iter().zip(&numeric).enumerate() {
        assert!(
            tol.accepts(a, n),
            "gradient coordinate {idx}: analytic {a:e} vs finite difference {n:e} ({tol:?})"
        );
    }
}

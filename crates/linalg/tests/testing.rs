//! The test helpers themselves: the tolerance rule and the finite-difference checker.

use linalg::testing::{Tol, central_difference, check_gradient, tol};

#[test]
fn tolerance_rule_is_max_of_absolute_and_relative() {
    let t = Tol {
        rel: 1e-3,
        abs: 1e-6,
    };
    assert!(t.accepts(1000.0, 1000.9));
    assert!(!t.accepts(1000.0, 1001.1));
    assert!(t.accepts(0.0, 5e-7));
    assert!(!t.accepts(f64::NAN, f64::NAN));
}

#[test]
fn central_difference_is_accurate_on_a_cubic() {
    // f = x³ + 2xy, ∇f = (3x² + 2y, 2x); the central difference is exact up to h²·f‴/6 = h².
    let g = central_difference(|x| x[0].powi(3) + 2.0 * x[0] * x[1], &[1.5, -2.0]);
    check_gradient(
        |x| x[0].powi(3) + 2.0 * x[0] * x[1],
        &[1.5, -2.0],
        &g,
        tol::GRAD,
    );
    assert!((g[0] - (3.0 * 2.25 - 4.0)).abs() < 1e-8);
}

#[test]
#[should_panic(expected = "gradient coordinate 1")]
fn check_gradient_names_the_wrong_coordinate() {
    check_gradient(|x| x[0] + x[1], &[0.0, 0.0], &[1.0, 1.5], tol::GRAD);
}

//! Initialisers: bounds, moments (statistical checks bounded by standard errors), determinism.

use linalg::{
    Matrix,
    init::{xavier_normal, xavier_uniform},
    rng::{Stream, stream},
};

fn moments(w: &Matrix<f64>) -> (f64, f64) {
    let n = w.len() as f64;
    let mean = w.iter().sum::<f64>() / n;
    let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[test]
fn xavier_uniform_has_the_right_bound_and_variance() {
    let (rows, cols, gain) = (130, 170, 3.0);
    let w: Matrix<f64> = xavier_uniform(rows, cols, gain, &mut stream(11, Stream::Init));
    let bound = gain * (6.0 / (rows + cols) as f64).sqrt();
    assert!(w.iter().all(|v| v.abs() <= bound));
    let (mean, var) = moments(&w);
    let n = w.len() as f64;
    let expected_var = bound * bound / 3.0;
    // Standard errors: of the mean, sqrt(var/n); of the variance of U(−a, a), sqrt((a⁴/5 − var²)/n).
    assert!(mean.abs() <= 4.0 * (expected_var / n).sqrt());
    let var_se = ((bound.powi(4) / 5.0 - expected_var.powi(2)) / n).sqrt();
    assert!(
        (var - expected_var).abs() <= 4.0 * var_se,
        "var {var} vs {expected_var}"
    );
}

#[test]
fn xavier_normal_has_the_right_variance() {
    let (rows, cols, gain) = (100, 784, 0.3);
    let w: Matrix<f64> = xavier_normal(rows, cols, gain, &mut stream(12, Stream::Init));
    let (mean, var) = moments(&w);
    let n = w.len() as f64;
    let expected_var = gain * gain * 2.0 / (rows + cols) as f64;
    assert!(mean.abs() <= 4.0 * (expected_var / n).sqrt());
    // Variance of a normal sample variance: 2σ⁴/n.
    assert!((var - expected_var).abs() <= 4.0 * (2.0 * expected_var.powi(2) / n).sqrt());
}

#[test]
fn same_seed_same_bits_other_seed_other_bits() {
    let a: Matrix<f32> = xavier_uniform(5, 4, 1.0, &mut stream(1, Stream::Init));
    let b: Matrix<f32> = xavier_uniform(5, 4, 1.0, &mut stream(1, Stream::Init));
    let c: Matrix<f32> = xavier_uniform(5, 4, 1.0, &mut stream(2, Stream::Init));
    assert!(
        a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    assert!(
        a.iter()
            .zip(c.iter())
            .any(|(x, y)| x.to_bits() != y.to_bits())
    );
}

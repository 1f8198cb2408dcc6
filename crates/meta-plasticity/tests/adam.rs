//! Tests of the Adam + L1 meta-optimiser.

use linalg::testing::{assert_close, tol};
use meta_plasticity::{Adam, MetaOptimizerConfig};

#[test]
fn two_steps_match_the_closed_form() {
    let config = MetaOptimizerConfig::default();
    let mut adam = Adam::default();
    let mut theta = [0.0; 10];
    theta[0] = 0.5;
    let mut plastic = [false; 10];
    plastic[0] = true;
    let mut grad = [0.0; 10];
    grad[0] = 2.0;
    adam.step(&mut theta, &grad, &plastic, &config);
    grad[0] = -1.0;
    adam.step(&mut theta, &grad, &plastic, &config);
    // m₂ = 0.9·0.2 + 0.1·(−1) = 0.08, v₂ = 0.999·0.004 + 0.001·1 = 0.004996.
    let (m, v) = (0.08, 0.004996);
    let step2 = 1e-3 * (m / (1.0 - 0.81)) / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
    let step1 = 1e-3 * 2.0 / (2.0 + 1e-8);
    assert_close(theta[0], 0.5 - step1 - step2, tol::EXACT);
}

#[test]
fn l1_subgradient_is_zero_at_zero_and_sign_elsewhere() {
    let config = MetaOptimizerConfig {
        l1: 2.0,
        ..MetaOptimizerConfig::default()
    };
    let mut adam = Adam::default();
    let mut theta = [0.0; 10];
    theta[1] = -0.1;
    let plastic = [true; 10];
    let grad = [0.0; 10];
    let penalised = adam.step(&mut theta, &grad, &plastic, &config);
    assert_eq!(penalised[0].to_bits(), 0.0f64.to_bits());
    assert_eq!(theta[0].to_bits(), 0.0f64.to_bits());
    assert_close(penalised[1], -2.0, tol::EXACT);
    assert!(theta[1] > -0.1);
}

#[test]
fn non_plastic_terms_never_move() {
    let mut adam = Adam::default();
    let mut theta = [0.0; 10];
    let grad = [1.0; 10];
    let mut plastic = [false; 10];
    plastic[9] = true;
    adam.step(&mut theta, &grad, &plastic, &MetaOptimizerConfig::default());
    assert!(theta[..9].iter().all(|&t| t.to_bits() == 0));
    assert!(theta[9] < 0.0);
}

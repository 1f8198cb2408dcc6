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

/// Paper B's Adam + L1 as written before per-term scales existed (commit 82ea4a3).
fn reference_step(
    m: &mut [f64; 10],
    v: &mut [f64; 10],
    t: i32,
    theta: &mut [f64; 10],
    gradient: &[f64; 10],
    config: &MetaOptimizerConfig,
) {
    let bias1 = 1.0 - config.beta1.powi(t);
    let bias2 = 1.0 - config.beta2.powi(t);
    for r in 0..10 {
        let sign = if theta[r] > 0.0 {
            1.0
        } else if theta[r] < 0.0 {
            -1.0
        } else {
            0.0
        };
        let g = gradient[r] + config.l1 * sign;
        m[r] = config.beta1 * m[r] + (1.0 - config.beta1) * g;
        v[r] = config.beta2 * v[r] + (1.0 - config.beta2) * g * g;
        let denom = v[r].sqrt() / bias2.sqrt() + config.eps;
        theta[r] -= config.lr / bias1 * m[r] / denom;
    }
}

#[test]
fn without_term_scales_the_step_is_the_old_one_bit_for_bit() {
    let config = MetaOptimizerConfig {
        l1: 1.5,
        ..MetaOptimizerConfig::default()
    };
    let mut adam = Adam::default();
    let (mut m, mut v) = ([0.0; 10], [0.0; 10]);
    let mut theta: [f64; 10] = std::array::from_fn(|r| 1e-3 * (r as f64 - 4.0));
    let mut reference = theta;
    for t in 1..=20 {
        let grad: [f64; 10] =
            std::array::from_fn(|r| ((t * 7 + r as i32 * 13) % 11) as f64 * 0.37 - 1.9);
        adam.step(&mut theta, &grad, &[true; 10], &config);
        reference_step(&mut m, &mut v, t, &mut reference, &grad, &config);
    }
    assert_eq!(theta.map(f64::to_bits), reference.map(f64::to_bits));
    assert_eq!(adam.m.map(f64::to_bits), m.map(f64::to_bits));
    assert_eq!(adam.v.map(f64::to_bits), v.map(f64::to_bits));
}

#[test]
fn a_scaled_step_is_adam_on_phi() {
    let mut scales = [1.0; 10];
    scales[2] = 0.05;
    scales[5] = 40.0;
    let config = MetaOptimizerConfig {
        l1: 1.5,
        term_scales: Some(scales),
        ..MetaOptimizerConfig::default()
    };
    let mut adam = Adam::default();
    let mut theta = [0.0; 10];
    theta[0] = 1e-3;
    theta[5] = 2e-4;
    let mut grad = [0.0; 10];
    grad[0] = -3.0;
    grad[2] = -0.3;
    grad[5] = 8.0;
    let penalised = adam.step(&mut theta, &grad, &[true; 10], &config);
    // Gradients in φ = s θ: g_r = ∂L/∂θ_r / s_r + λ sign(θ_r).
    let g0 = -3.0 + 1.5; // s₀ = 1, θ₀ > 0
    let g2 = -0.3 / 0.05; // θ₂ = 0: no L1 subgradient
    let g5 = 8.0 / 40.0 + 1.5;
    for (r, g) in [(0, g0), (2, g2), (5, g5)] {
        assert_close(penalised[r], g, tol::EXACT);
    }
    // First Adam step: m̂ = g, v̂ = g², so φ moves by lr · g / (|g| + ε) and θ by that over s.
    let step = |g: f64, s: f64| 1e-3 * g / (g.abs() + 1e-8) / s;
    assert_close(theta[0], 1e-3 - step(g0, 1.0), tol::EXACT);
    assert_close(theta[2], -step(g2, 0.05), tol::EXACT);
    assert_close(theta[5], 2e-4 - step(g5, 40.0), tol::EXACT);
    // θ₂ moved by lr / s₂ = 0.02, θ₅ by lr / s₅ = 2.5e-5.
    assert!((theta[2] - 0.02).abs() < 1e-9);
    assert!((2e-4 - theta[5] - 2.5e-5).abs() < 1e-12);
    assert_eq!(theta[1].to_bits(), 0.0f64.to_bits());
}

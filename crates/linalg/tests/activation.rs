//! Activations against their direct formulas, PyTorch's softplus threshold, and softmax
//! invariants (proptest).

use linalg::{
    activation::{
        SOFTPLUS_THRESHOLD, argmax, log_softmax, softmax, softplus,
        softplus_derivative_from_output, softplus_with_derivative,
    },
    testing::{Tol, assert_all_close, assert_close, check_gradient, tol},
};
use proptest::prelude::*;

#[test]
fn softplus_matches_the_formula_below_the_threshold_and_is_identity_above() {
    let beta = 10.0f64;
    let z = [-3.0, -0.1, 0.0, 0.05, 1.0, 1.99, 2.01, 5.0];
    let mut y = [0.0; 8];
    softplus(&mut y, &z, beta);
    for (&zi, &yi) in z.iter().zip(&y) {
        let expected = if beta * zi > SOFTPLUS_THRESHOLD {
            zi
        } else {
            (1.0 + (beta * zi).exp()).ln() / beta
        };
        assert_close(yi, expected, tol::EXACT);
    }
    // Above the threshold (β z = 20.1 > 20) the output is z itself, bit for bit.
    assert_eq!(y[6].to_bits(), 2.01f64.to_bits());
}

#[test]
fn softplus_derivative_is_the_gradient_and_equals_sigmoid() {
    let beta = 10.0f64;
    for &z0 in &[-0.7, -0.05, 0.0, 0.03, 0.4, 1.5] {
        let (mut y, mut dy) = ([0.0], [0.0]);
        softplus_with_derivative(&mut y, &mut dy, &[z0], beta);
        check_gradient(
            |x| {
                let mut out = [0.0];
                softplus(&mut out, &[x[0]], beta);
                out[0]
            },
            &[z0],
            &dy,
            tol::GRAD,
        );
        assert_close(dy[0], 1.0 / (1.0 + (-beta * z0).exp()), tol::EXACT);
        let mut from_output = [0.0];
        softplus_derivative_from_output(&mut from_output, &y, beta);
        assert_close(from_output[0], dy[0], tol::EXACT);
    }
}

#[test]
fn log_softmax_gradient_of_cross_entropy_is_p_minus_onehot() {
    let logits = [0.3, -1.2, 2.0, 0.0];
    let target = 2;
    let mut p = [0.0; 4];
    softmax(&mut p, &logits);
    let mut grad = p;
    grad[target] -= 1.0;
    check_gradient(
        |z| {
            let mut out = [0.0; 4];
            log_softmax(&mut out, z);
            -out[target]
        },
        &logits,
        &grad,
        tol::GRAD,
    );
}

#[test]
fn argmax_takes_the_first_maximum_and_refuses_nan() {
    assert_eq!(argmax(&[1.0f32, 3.0, 3.0, 2.0]), Some(1));
    assert_eq!(argmax::<f32>(&[]), None);
    assert_eq!(argmax(&[1.0f64, f64::NAN]), None);
}

proptest! {
    #[test]
    fn softmax_rows_sum_to_one_and_agree_with_log_softmax(
        logits in proptest::collection::vec(-50.0f64..50.0, 1..=8)
    ) {
        let mut p = vec![0.0; logits.len()];
        let mut logp = vec![0.0; logits.len()];
        softmax(&mut p, &logits);
        log_softmax(&mut logp, &logits);
        let sum_tol = Tol { rel: 0.0, abs: 1e-12 };
        prop_assert!(sum_tol.accepts(p.iter().sum::<f64>(), 1.0));
        let exp_logp: Vec<f64> = logp.iter().map(|v| v.exp()).collect();
        assert_all_close(&p, &exp_logp, Tol { rel: 1e-12, abs: 1e-15 });
    }

    #[test]
    fn softmax_is_stable_for_huge_logits(shift in -1e4f32..1e4) {
        let logits = [shift, shift + 1.0, shift - 1.0];
        let mut p = [0.0f32; 3];
        softmax(&mut p, &logits);
        prop_assert!(p.iter().all(|v| v.is_finite()));
        prop_assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn fast_f32_softplus_is_within_a_few_ulp_of_f64() {
    // β = 8 keeps β z exact in f32, so the comparison measures the kernel, not the input rounding.
    let beta = 8.0;
    let z32: Vec<f32> = (0..40_000).map(|i| -12.0 + i as f32 * 0.00055).collect();
    let z64: Vec<f64> = z32.iter().map(|&v| v as f64).collect();
    let (mut y32, mut dy32) = (vec![0.0f32; z32.len()], vec![0.0f32; z32.len()]);
    let (mut y64, mut dy64) = (vec![0.0f64; z32.len()], vec![0.0f64; z32.len()]);
    softplus_with_derivative(&mut y32, &mut dy32, &z32, beta as f32);
    softplus_with_derivative(&mut y64, &mut dy64, &z64, beta);
    // Four ulp of f32 (2⁻²¹ ≈ 4.8e-7) relative; the absolute floor covers σ′ rounding near 1.
    let four_ulp = Tol {
        rel: 4.8e-7,
        abs: 1e-30,
    };
    let near_one = Tol {
        rel: 4.8e-7,
        abs: 2.0 * f32::EPSILON as f64,
    };
    for idx in 0..z32.len() {
        assert!(
            four_ulp.accepts(y32[idx] as f64, y64[idx]),
            "y at z = {}: {} vs {}",
            z32[idx],
            y32[idx],
            y64[idx]
        );
        assert!(
            near_one.accepts(dy32[idx] as f64, dy64[idx]),
            "σ′ at z = {}: {} vs {}",
            z32[idx],
            dy32[idx],
            dy64[idx]
        );
    }
}

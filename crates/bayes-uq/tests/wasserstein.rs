//! Tests of `bayes_uq::wasserstein`: closed forms and metric properties.

use proptest::prelude::*;

use linalg::{
    rng::{Stream, stream},
    testing::{Tol, assert_close, tol},
};

use bayes_uq::{Error, wasserstein_1};

use crate::standard_normal;

/// Sums of up to ~20 terms of size ≤ 200 err by a few ulp of 200; 1e-10 leaves ample room.
const SUM_TOL: Tol = Tol {
    rel: 1e-12,
    abs: 1e-10,
};

#[test]
fn shifted_samples_are_the_shift_apart() {
    let mut rng = stream(4, Stream::Noise);
    let a: Vec<f64> = (0..500).map(|_| standard_normal(&mut rng)).collect();
    for shift in [-3.25, 0.0, 0.5, 10.0] {
        let b: Vec<f64> = a.iter().map(|x| x + shift).collect();
        assert_close(wasserstein_1(&a, &b).unwrap(), f64::abs(shift), SUM_TOL);
    }
}

#[test]
fn closed_forms_for_small_samples() {
    // {0, 1} vs {½}: |F_a − F_b| = ½ on [0, 1] ⇒ ½.
    assert_close(wasserstein_1(&[0.0, 1.0], &[0.5]).unwrap(), 0.5, tol::EXACT);
    // The same law at different sample sizes.
    assert_close(
        wasserstein_1(&[0.0, 1.0], &[1.0, 0.0, 1.0, 0.0]).unwrap(),
        0.0,
        tol::EXACT,
    );
    // Grid of U(0,1) quantiles vs the same grid scaled by 2: W₁ = mean |2x − x| = mean x.
    let a: Vec<f64> = (0..100).map(|i| (i as f64 + 0.5) / 100.0).collect();
    let b: Vec<f64> = a.iter().map(|x| 2.0 * x).collect();
    assert_close(wasserstein_1(&a, &b).unwrap(), 0.5, SUM_TOL);
    // Order of the inputs does not matter.
    let reversed: Vec<f64> = b.iter().rev().copied().collect();
    assert_eq!(
        wasserstein_1(&a, &b).unwrap().to_bits(),
        wasserstein_1(&a, &reversed).unwrap().to_bits()
    );
}

#[test]
fn bad_samples_are_errors() {
    assert!(matches!(
        wasserstein_1(&[], &[1.0]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        wasserstein_1(&[1.0], &[]),
        Err(Error::Empty { .. })
    ));
    assert_eq!(
        wasserstein_1(&[1.0], &[0.0, f64::INFINITY]).unwrap_err(),
        Error::NonFinite {
            what: "second W1 sample",
            index: 1
        }
    );
}

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-100.0..100.0f64, 1..=8)
}

proptest! {
    #[test]
    fn w1_is_non_negative_and_zero_on_itself(a in sample(), b in sample()) {
        prop_assert!(wasserstein_1(&a, &b).unwrap() >= 0.0);
        prop_assert!(SUM_TOL.accepts(wasserstein_1(&a, &a).unwrap(), 0.0));
    }

    #[test]
    fn w1_is_symmetric(a in sample(), b in sample()) {
        let ab = wasserstein_1(&a, &b).unwrap();
        let ba = wasserstein_1(&b, &a).unwrap();
        prop_assert!(SUM_TOL.accepts(ab, ba), "{} vs {}", ab, ba);
    }

    #[test]
    fn w1_satisfies_the_triangle_inequality(a in sample(), b in sample(), c in sample()) {
        let ac = wasserstein_1(&a, &c).unwrap();
        let ab = wasserstein_1(&a, &b).unwrap();
        let bc = wasserstein_1(&b, &c).unwrap();
        prop_assert!(ac <= ab + bc + SUM_TOL.abs, "{} > {} + {}", ac, ab, bc);
    }
}

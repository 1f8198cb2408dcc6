//! Tests of `bayes_uq::predictive`.

use linalg::testing::{assert_close, tol};

use bayes_uq::{
    Error, Prediction,
    predictive::{interval_coverage, mean_absolute_error},
};

#[test]
fn intervals_are_symmetric_and_scale_with_sd() {
    let p = Prediction {
        mean: -2.0,
        variance: 9.0,
    };
    let (lo, hi) = p.interval(0.9).unwrap();
    assert_close(hi - lo, 2.0 * 3.0 * 1.644_853_626_951_472_2, tol::EXACT);
    assert_close(0.5 * (lo + hi), -2.0, tol::EXACT);
    let (lo99, hi99) = p.interval(0.99).unwrap();
    assert!(lo99 < lo && hi < hi99);
}

#[test]
fn coverage_counts_points_inside() {
    let p = [Prediction {
        mean: 0.0,
        variance: 1.0,
    }; 4];
    // ±1.645 at 90 %: 0, 1.6 inside; 1.7, −2 outside.
    assert_close(
        interval_coverage(&p, &[0.0, 1.6, 1.7, -2.0], 0.9).unwrap(),
        0.5,
        tol::EXACT,
    );
    assert_close(
        mean_absolute_error(&p, &[0.0, 1.6, 1.7, -2.0]).unwrap(),
        1.325,
        tol::EXACT,
    );
}

#[test]
fn bad_inputs_are_errors() {
    let p = [Prediction {
        mean: 0.0,
        variance: 1.0,
    }];
    assert!(matches!(
        p[0].interval(1.0),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        interval_coverage(&p, &[0.0], 0.0),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        interval_coverage(&p, &[0.0, 1.0], 0.9),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        mean_absolute_error(&[], &[]),
        Err(Error::Empty { .. })
    ));
}

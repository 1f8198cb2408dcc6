//! Tests of `bayes_uq::normal` against tabulated values.

use linalg::testing::{Tol, assert_close, tol};

use bayes_uq::normal::{standard_normal_cdf, standard_normal_quantile};

/// Relative accuracy for tail probabilities, a few hundred ulp.
const TAIL: Tol = Tol {
    rel: 1e-13,
    abs: 0.0,
};

#[test]
fn cdf_matches_tabulated_values() {
    // Reference values: the exact Φ to 17 digits; Python 3.12's `0.5 * math.erfc(-x / math.sqrt(2))`
    // agrees to 3e-15 relative (printed 0.15865525393145707, 0.0013498980316300957, 2.866515718791946e-07).
    assert_close(standard_normal_cdf(0.0), 0.5, tol::EXACT);
    assert_close(standard_normal_cdf(-1.0), 0.158_655_253_931_457_05, TAIL);
    assert_close(standard_normal_cdf(-3.0), 0.001_349_898_031_630_094_6, TAIL);
    assert_close(standard_normal_cdf(-5.0), 2.866_515_718_791_939e-7, TAIL);
    assert_close(
        standard_normal_cdf(1.0),
        1.0 - 0.158_655_253_931_457_05,
        tol::EXACT,
    );
}

#[test]
fn quantiles_match_tabulated_values() {
    // Python 3.12's `statistics.NormalDist().inv_cdf(p)` prints the same values to 1e-15.
    assert_close(standard_normal_quantile(0.5), 0.0, tol::EXACT);
    assert_close(
        standard_normal_quantile(0.95),
        1.644_853_626_951_472_2,
        tol::EXACT,
    );
    assert_close(
        standard_normal_quantile(0.975),
        1.959_963_984_540_054,
        tol::EXACT,
    );
    assert_close(
        standard_normal_quantile(0.995),
        2.575_829_303_548_900_4,
        tol::EXACT,
    );
    assert_close(
        standard_normal_quantile(0.05),
        -1.644_853_626_951_472_2,
        tol::EXACT,
    );
    assert!(standard_normal_quantile(0.0).is_infinite() && standard_normal_quantile(-0.1).is_nan());
}

#[test]
fn quantile_inverts_the_cdf() {
    for k in 1..1000 {
        let p = k as f64 / 1000.0;
        assert_close(
            standard_normal_cdf(standard_normal_quantile(p)),
            p,
            tol::EXACT,
        );
    }
    for p in [1e-10, 1e-6, 0.01, 0.02425, 0.97575] {
        assert_close(standard_normal_cdf(standard_normal_quantile(p)), p, TAIL);
    }
}

//! Tests of `bayes_uq::linear`: recovery, evidence, calibration and errors.

use linalg::Matrix;

use bayes_uq::{BayesianLinearRegression, Error, linear::BlrConfig, predictive::interval_coverage};

use crate::{NOISE_SD, TRUE_INTERCEPT, TRUE_WEIGHTS, synthetic_linear};

#[test]
fn recovers_weights_within_four_posterior_sds() {
    let (x, t) = synthetic_linear(400, 1);
    let model = BayesianLinearRegression::fit(&x, &t, &BlrConfig::default()).unwrap();
    for (idx, &truth) in TRUE_WEIGHTS.iter().enumerate() {
        let sd = model.covariance()[(idx, idx)].sqrt();
        assert!(
            (model.weights()[idx] - truth).abs() <= 4.0 * sd,
            "w[{idx}] = {} vs {truth} (sd {sd})",
            model.weights()[idx]
        );
    }
    // Intercept posterior sd is 1/√(βN) (flat prior, centred features).
    let intercept_sd = (1.0 / (model.beta() * 400.0)).sqrt();
    assert!((model.intercept() - TRUE_INTERCEPT).abs() <= 4.0 * intercept_sd);
    assert!(model.iterations() > 0);
    // Three strongly determined weights: γ ≈ 3.
    assert!((model.effective_parameters() - 3.0).abs() < 0.01);
}

#[test]
fn evidence_maximised_beta_is_the_inverse_noise_variance() {
    let n_items = 400;
    let (x, t) = synthetic_linear(n_items, 2);
    let model = BayesianLinearRegression::fit(&x, &t, &BlrConfig::default()).unwrap();
    let noise_variance = NOISE_SD * NOISE_SD;
    // The variance estimate from N − γ − 1 residual dof has relative sd √(2/(N − 4)).
    let se = noise_variance * (2.0 / (n_items as f64 - 4.0)).sqrt();
    assert!(
        (1.0 / model.beta() - noise_variance).abs() <= 4.0 * se,
        "1/β = {} vs σ² = {noise_variance}",
        1.0 / model.beta()
    );
}

#[test]
fn ninety_percent_intervals_cover_ninety_percent_of_held_out_points() {
    for fit_intercept in [true, false] {
        // Without an intercept the model is misspecified unless the data has none: drop it.
        let (x, mut t) = synthetic_linear(300, 3);
        let (x_test, mut t_test) = synthetic_linear(2000, 4);
        if !fit_intercept {
            t.iter_mut().for_each(|v| *v -= TRUE_INTERCEPT);
            t_test.iter_mut().for_each(|v| *v -= TRUE_INTERCEPT);
        }
        let config = BlrConfig {
            fit_intercept,
            ..BlrConfig::default()
        };
        let model = BayesianLinearRegression::fit(&x, &t, &config).unwrap();
        let predictions = model.predict(&x_test).unwrap();
        let coverage = interval_coverage(&predictions, &t_test, 0.9).unwrap();
        let se = (0.9 * 0.1 / 2000.0f64).sqrt();
        assert!(
            (coverage - 0.9).abs() <= 4.0 * se,
            "intercept {fit_intercept}: coverage {coverage}"
        );
    }
}

#[test]
fn fitted_precisions_are_a_stationary_point_of_the_evidence() {
    for fit_intercept in [true, false] {
        let (x, t) = synthetic_linear(60, 5);
        let config = BlrConfig {
            fit_intercept,
            ..BlrConfig::default()
        };
        let model = BayesianLinearRegression::fit(&x, &t, &config).unwrap();
        let at = |alpha: f64, beta: f64| {
            BayesianLinearRegression::with_precisions(&x, &t, alpha, beta, fit_intercept)
                .unwrap()
                .log_evidence()
        };
        let best = at(model.alpha(), model.beta());
        assert!((best - model.log_evidence()).abs() < 1e-9);
        for factor in [1.05, 1.0 / 1.05] {
            assert!(
                at(model.alpha() * factor, model.beta()) < best,
                "alpha × {factor}"
            );
            assert!(
                at(model.alpha(), model.beta() * factor) < best,
                "beta × {factor}"
            );
        }
    }
}

#[test]
fn log_evidence_matches_the_gaussian_marginal_likelihood() {
    // t ~ N(0, β⁻¹ I + α⁻¹ Φ Φᵀ) without intercept; check with a 2×2 determinant by hand.
    let x = Matrix::<f64>::from_row_slice(2, 1, &[1.0, 2.0]);
    let t = [0.5, -1.0];
    let (alpha, beta) = (2.0, 4.0);
    let model = BayesianLinearRegression::with_precisions(&x, &t, alpha, beta, false).unwrap();
    let c = [
        [1.0 / beta + 1.0 / alpha, 2.0 / alpha],
        [2.0 / alpha, 1.0 / beta + 4.0 / alpha],
    ];
    let det = c[0][0] * c[1][1] - c[0][1] * c[1][0];
    let quad = (c[1][1] * t[0] * t[0] - 2.0 * c[0][1] * t[0] * t[1] + c[0][0] * t[1] * t[1]) / det;
    let expected = -(2.0 * std::f64::consts::PI).ln() - 0.5 * det.ln() - 0.5 * quad;
    assert!(
        (model.log_evidence() - expected).abs() < 1e-12,
        "{} vs {expected}",
        model.log_evidence()
    );
}

#[test]
fn bad_data_gives_clear_errors() {
    let (mut x, mut t) = synthetic_linear(20, 6);
    let config = BlrConfig::default();
    assert!(matches!(
        BayesianLinearRegression::fit(&x, &t[..19], &config),
        Err(Error::ShapeMismatch { .. })
    ));
    let constant = vec![1.0; 20];
    assert!(matches!(
        BayesianLinearRegression::fit(&x, &constant, &config),
        Err(Error::Degenerate { .. })
    ));
    let bad_config = BlrConfig {
        alpha_init: -1.0,
        ..config
    };
    assert!(matches!(
        BayesianLinearRegression::fit(&x, &t, &bad_config),
        Err(Error::InvalidConfig {
            name: "alpha_init",
            ..
        })
    ));
    let one_step = BlrConfig {
        max_iterations: 1,
        ..config
    };
    assert!(matches!(
        BayesianLinearRegression::fit(&x, &t, &one_step),
        Err(Error::NotConverged { iterations: 1, .. })
    ));
    let model = BayesianLinearRegression::fit(&x, &t, &config).unwrap();
    assert!(matches!(
        model.predict(&Matrix::<f64>::zeros(2, 4)),
        Err(Error::ShapeMismatch { .. })
    ));
    // Entries near f64::MAX overflow the Gram matrix: the precision cannot be factored.
    let huge = Matrix::<f64>::from_element(3, 1, 1e300);
    assert_eq!(
        BayesianLinearRegression::with_precisions(&huge, &[1.0, 2.0, 3.0], 1.0, 1.0, false)
            .unwrap_err(),
        Error::NotPositiveDefinite {
            what: "posterior precision alpha I + beta PhiᵀPhi"
        }
    );
    let no_intercept = BlrConfig {
        fit_intercept: false,
        ..config
    };
    assert!(matches!(
        BayesianLinearRegression::fit(&huge, &[1.0, 2.0, 3.0], &no_intercept),
        Err(Error::NotPositiveDefinite { .. })
    ));
    t[4] = f64::NAN;
    assert_eq!(
        BayesianLinearRegression::fit(&x, &t, &config).unwrap_err(),
        Error::NonFinite {
            what: "regression target (item)",
            index: 4
        }
    );
    t[4] = 0.0;
    x[(7, 2)] = f64::INFINITY;
    assert_eq!(
        BayesianLinearRegression::fit(&x, &t, &config).unwrap_err(),
        Error::NonFinite {
            what: "regression feature row (item)",
            index: 7
        }
    );
}

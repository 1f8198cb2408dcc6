//! Tests of `bayes_uq::ensemble`.

use linalg::Matrix;

use bayes_uq::{
    Error, RidgeEnsemble, ensemble::RidgeEnsembleConfig, predictive::interval_coverage,
};

use crate::{NOISE_SD, TRUE_INTERCEPT, TRUE_WEIGHTS, synthetic_linear};

fn config() -> RidgeEnsembleConfig {
    RidgeEnsembleConfig {
        n_members: 25,
        ridge: 1e-3,
        fit_intercept: true,
    }
}

#[test]
fn members_recover_the_weights_and_noise() {
    let n_items = 300;
    let (x, t) = synthetic_linear(n_items, 7);
    let ensemble = RidgeEnsemble::fit(&x, &t, &config(), 1).unwrap();
    assert_eq!(ensemble.members().len(), 25);
    let n_members = ensemble.members().len() as f64;
    for (idx, &truth) in TRUE_WEIGHTS.iter().enumerate() {
        let mean = ensemble
            .members()
            .iter()
            .map(|m| m.weights[idx])
            .sum::<f64>()
            / n_members;
        // Least-squares sd of each weight ≈ σ/√N = 0.017; 0.07 is 4 of them.
        assert!((mean - truth).abs() < 0.07, "w[{idx}] = {mean}");
    }
    let intercept = ensemble.members().iter().map(|m| m.intercept).sum::<f64>() / n_members;
    assert!((intercept - TRUE_INTERCEPT).abs() < 0.07);
    let noise = ensemble
        .members()
        .iter()
        .map(|m| m.noise_variance)
        .sum::<f64>()
        / n_members;
    let sigma2 = NOISE_SD * NOISE_SD;
    assert!(
        (noise - sigma2).abs() <= 4.0 * sigma2 * (2.0 / n_items as f64).sqrt(),
        "{noise}"
    );
}

#[test]
fn ninety_percent_intervals_cover_ninety_percent_of_held_out_points() {
    let (x, t) = synthetic_linear(300, 8);
    let (x_test, t_test) = synthetic_linear(2000, 9);
    let ensemble = RidgeEnsemble::fit(&x, &t, &config(), 2).unwrap();
    let predictions = ensemble.predict(&x_test).unwrap();
    let coverage = interval_coverage(&predictions, &t_test, 0.9).unwrap();
    let se = (0.9 * 0.1 / 2000.0f64).sqrt();
    assert!((coverage - 0.9).abs() <= 4.0 * se, "coverage {coverage}");
    // Predictive variance exceeds the mean noise variance by the between-member spread.
    let noise = ensemble
        .members()
        .iter()
        .map(|m| m.noise_variance)
        .sum::<f64>()
        / 25.0;
    assert!(predictions.iter().all(|p| p.variance > noise));
}

#[test]
fn ensemble_is_identical_at_one_and_four_threads() {
    let (x, t) = synthetic_linear(100, 10);
    let fit = |n_threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n_threads)
            .build()
            .unwrap()
            .install(|| RidgeEnsemble::fit(&x, &t, &config(), 3).unwrap())
    };
    let one = fit(1);
    let four = fit(4);
    for (a, b) in one.members().iter().zip(four.members()) {
        assert!(
            a.weights
                .iter()
                .zip(&b.weights)
                .all(|(u, v)| u.to_bits() == v.to_bits())
        );
        assert_eq!(a.intercept.to_bits(), b.intercept.to_bits());
        assert_eq!(a.noise_variance.to_bits(), b.noise_variance.to_bits());
    }
}

#[test]
fn bad_inputs_are_errors() {
    let (x, t) = synthetic_linear(10, 11);
    let zero_members = RidgeEnsembleConfig {
        n_members: 0,
        ..config()
    };
    assert!(matches!(
        RidgeEnsemble::fit(&x, &t, &zero_members, 0),
        Err(Error::InvalidConfig {
            name: "n_members",
            ..
        })
    ));
    let negative = RidgeEnsembleConfig {
        ridge: -1.0,
        ..config()
    };
    assert!(matches!(
        RidgeEnsemble::fit(&x, &t, &negative, 0),
        Err(Error::InvalidConfig { name: "ridge", .. })
    ));
    // 4 items, 3 unpenalised-ish features and an intercept leave no residual dof.
    assert!(matches!(
        RidgeEnsemble::fit(&x.rows(0, 4).into_owned(), &t[..4], &config(), 0),
        Err(Error::Degenerate { .. })
    ));
    let ensemble = RidgeEnsemble::fit(&x, &t, &config(), 0).unwrap();
    let mut input = Matrix::<f64>::zeros(2, 3);
    input[(1, 0)] = f64::NAN;
    assert_eq!(
        ensemble.predict(&input).unwrap_err(),
        Error::NonFinite {
            what: "prediction input row",
            index: 1
        }
    );
}

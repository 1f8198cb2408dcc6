//! Conditions of the conditional design: standardisation and the Gaussian conditional.

use linalg::{
    Matrix,
    cholesky::Cholesky,
    rng::{Stream, stream},
    testing::{assert_all_close, assert_close, tol},
};
use mol_vae::{
    Error,
    conditions::{ConditionGaussian, StandardScaler},
};

/// A 3-d Gaussian with a non-zero mean (the code's mis-broadcast conditional mean is only
/// right for a zero mean) and correlated coordinates.
fn known() -> ConditionGaussian {
    let cov = Matrix::from_row_slice(3, 3, &[4.0, 1.2, -0.8, 1.2, 2.0, 0.3, -0.8, 0.3, 1.0]);
    ConditionGaussian::new(vec![1.0, -2.0, 0.5], cov).unwrap()
}

#[test]
fn conditional_of_a_known_gaussian_matches_the_closed_form() {
    let g = known();
    // Fix x₁ = 0: shift = (0 − (−2)) / 2 = 1, so
    // μ₀ = 1 + 1.2 · 1 = 2.2, μ₂ = 0.5 + 0.3 · 1 = 0.8,
    // Σ₀₀ = 4 − 1.2²/2 = 3.28, Σ₀₂ = −0.8 − 1.2 · 0.3 / 2 = −0.98, Σ₂₂ = 1 − 0.3²/2 = 0.955.
    let (mean, cov) = g.conditional(1, 0.0).unwrap();
    assert_all_close(&mean, &[2.2, 0.8], tol::EXACT);
    assert_all_close(cov.as_slice(), &[3.28, -0.98, -0.98, 0.955], tol::EXACT);
}

#[test]
fn conditional_agrees_with_the_precision_matrix_form() {
    // Independent route: with Λ = Σ⁻¹, Σ_{b|a} = (Λ_bb)⁻¹ and μ_{b|a} = μ_b − Λ_bb⁻¹ Λ_ba (t − μ_a).
    let g = known();
    let precision = Cholesky::new(g.covariance()).unwrap().inverse();
    for index in 0..3 {
        let t = 0.7 * index as f64 - 1.1;
        let rest: Vec<usize> = (0..3).filter(|&k| k != index).collect();
        let lambda_bb = Matrix::from_fn(2, 2, |i, j| precision[(rest[i], rest[j])]);
        let cov_bb = Cholesky::new(&lambda_bb).unwrap().inverse();
        let lambda_ba: Vec<f64> = rest.iter().map(|&b| precision[(b, index)]).collect();
        let want_mean: Vec<f64> = (0..2)
            .map(|i| {
                g.mean()[rest[i]]
                    - (0..2)
                        .map(|j| cov_bb[(i, j)] * lambda_ba[j] * (t - g.mean()[index]))
                        .sum::<f64>()
            })
            .collect();
        let (mean, cov) = g.conditional(index, t).unwrap();
        assert_all_close(&mean, &want_mean, tol::ITER);
        assert_all_close(cov.as_slice(), cov_bb.as_slice(), tol::ITER);
    }
}

#[test]
fn conditional_samples_have_the_conditional_moments() {
    let g = known();
    let n = 40_000;
    let x = g
        .sample_given(1, 0.0, n, &mut stream(11, Stream::Sample))
        .unwrap();
    assert_eq!(x.shape(), (3, n));
    assert!(x.row(1).iter().all(|v| v.to_bits() == 0.0f64.to_bits()));
    let (mean, cov) = g.conditional(1, 0.0).unwrap();
    let rows = [0, 2];
    let sample_mean: Vec<f64> = rows
        .iter()
        .map(|&k| x.row(k).iter().sum::<f64>() / n as f64)
        .collect();
    for i in 0..2 {
        // |mean − μ| ≤ 4 σ/√n (STYLE §7).
        let se = (cov[(i, i)] / n as f64).sqrt();
        assert!(
            (sample_mean[i] - mean[i]).abs() <= 4.0 * se,
            "coordinate {}: {} vs {}",
            rows[i],
            sample_mean[i],
            mean[i]
        );
        for j in 0..2 {
            let c = (0..n)
                .map(|s| (x[(rows[i], s)] - sample_mean[i]) * (x[(rows[j], s)] - sample_mean[j]))
                .sum::<f64>()
                / (n - 1) as f64;
            // Standard error of a Gaussian sample covariance: √((σ_ii σ_jj + σ_ij²)/n).
            let se = ((cov[(i, i)] * cov[(j, j)] + cov[(i, j)].powi(2)) / n as f64).sqrt();
            assert!(
                (c - cov[(i, j)]).abs() <= 4.0 * se,
                "cov ({i}, {j}): {c} vs {}",
                cov[(i, j)]
            );
        }
    }
}

#[test]
fn fitting_recovers_the_gaussian_it_was_sampled_from() {
    let g = known();
    let n = 40_000;
    let x = g.sample(n, &mut stream(12, Stream::Sample)).unwrap();
    let fitted = ConditionGaussian::fit(&x).unwrap();
    for k in 0..3 {
        let sd = g.covariance()[(k, k)].sqrt();
        assert!((fitted.mean()[k] - g.mean()[k]).abs() <= 4.0 * sd / (n as f64).sqrt());
    }
    for i in 0..3 {
        for j in 0..3 {
            let c = g.covariance();
            let se = ((c[(i, i)] * c[(j, j)] + c[(i, j)].powi(2)) / n as f64).sqrt();
            assert!((fitted.covariance()[(i, j)] - c[(i, j)]).abs() <= 4.0 * se);
        }
    }
}

#[test]
fn scaler_uses_the_population_standard_deviation() {
    // mean 4, population variance (9 + 4 + 1 + 0 + 36) / 5 = 10 (sklearn's StandardScaler).
    let y = Matrix::from_row_slice(2, 5, &[1.0, 2.0, 3.0, 4.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0]);
    let scaler = StandardScaler::fit(&y).unwrap();
    assert_all_close(scaler.mean(), &[4.0, 5.0], tol::EXACT);
    assert_all_close(scaler.scale(), &[10f64.sqrt(), 1.0], tol::EXACT);
    let z = scaler.transform(&y).unwrap();
    let row: Vec<f64> = z.row(0).iter().copied().collect();
    assert_close(row.iter().sum::<f64>(), 0.0, tol::EXACT);
    assert_close(
        row.iter().map(|v| v * v).sum::<f64>() / 5.0,
        1.0,
        tol::EXACT,
    );
    for k in 0..2 {
        let back = scaler
            .unstandardize(k, scaler.standardize(k, 7.5).unwrap())
            .unwrap();
        assert_close(back, 7.5, tol::EXACT);
    }
}

#[test]
fn bad_conditions_are_errors_not_panics() {
    let g = known();
    let mut rng = stream(0, Stream::Sample);
    assert!(matches!(
        g.sample_given(3, 0.0, 10, &mut rng),
        Err(Error::InvalidConditions { .. })
    ));
    assert!(matches!(
        g.sample_given(0, f64::NAN, 10, &mut rng),
        Err(Error::InvalidConditions { .. })
    ));
    assert!(matches!(
        g.sample_given(0, 0.0, 0, &mut rng),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        ConditionGaussian::fit(&Matrix::zeros(3, 1)),
        Err(Error::InvalidConditions { .. })
    ));
    // A constant property has a singular covariance.
    let constant = Matrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 0.0, 0.0, 0.0]);
    assert!(matches!(
        ConditionGaussian::fit(&constant),
        Err(Error::InvalidConditions { .. })
    ));
    assert!(matches!(
        ConditionGaussian::new(vec![0.0; 2], Matrix::identity(3, 3)),
        Err(Error::ShapeMismatch { .. })
    ));
    let scaler = StandardScaler::fit(&Matrix::from_row_slice(1, 2, &[0.0, 1.0])).unwrap();
    assert!(matches!(
        scaler.transform(&Matrix::zeros(2, 2)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        StandardScaler::fit(&Matrix::from_row_slice(1, 2, &[0.0, f64::INFINITY])),
        Err(Error::InvalidConditions { .. })
    ));
}

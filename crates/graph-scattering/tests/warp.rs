//! Tests of `src/warp.rs`: knot placement as in the reference code, extrapolation, ties, errors.

use graph_scattering::{Error, KNOT_TIE_TOL, SpectralWarp, WarpConfig};
use linalg::testing::{assert_close, tol};

/// Serialisable, as a fitted object must be (checked at compile time).
fn assert_serde<T: serde::Serialize + serde::de::DeserializeOwned>() {}

#[test]
fn fitted_types_are_serde() {
    assert_serde::<SpectralWarp>();
    assert_serde::<graph_scattering::HalfCosineBank>();
    assert_serde::<graph_scattering::Scattering>();
    assert_serde::<graph_scattering::ScatteringConfig>();
}

#[test]
fn knots_sit_every_intvl_entries_as_for_qm9_n_600() {
    // 9N = 5400 distinct pooled values (shuffled): intvl = int(5400/5 − 1) = 1079, knots at
    // indices 0, 1079, …, 5395 and y = k/5399 [C §2.2].
    let pooled: Vec<f64> = (0..5400)
        .map(|k| ((k * 7919) % 5400) as f64 / 2699.5)
        .collect();
    let warp = SpectralWarp::fit(&WarpConfig::default(), &pooled).unwrap();
    let (x, y) = warp.knots();
    let indices = [0, 1079, 2158, 3237, 4316, 5395];
    assert_eq!(x.len(), indices.len());
    for ((&kx, &ky), &k) in x.iter().zip(y).zip(&indices) {
        assert_close(kx, k as f64 / 2699.5, tol::EXACT);
        assert_close(ky, k as f64 / 5399.0, tol::EXACT);
    }
    // γ = max(s) = 2, and γ′ = ω(γ) extrapolates the last segment: 5399/5399 = 1 here.
    assert_close(warp.gamma(), 2.0, tol::EXACT);
    assert_close(warp.gamma_warped(), 1.0, tol::EXACT);
}

#[test]
fn interpolates_and_extrapolates_linearly() {
    // 10 values 0..9: intvl = 1, knots (k, k/9).
    let pooled: Vec<f64> = (0..10).map(f64::from).collect();
    let warp = SpectralWarp::fit(&WarpConfig::default(), &pooled).unwrap();
    assert_close(warp.eval(4.5), 0.5, tol::EXACT);
    assert_close(warp.eval(-9.0), -1.0, tol::EXACT);
    assert_close(warp.eval(18.0), 2.0, tol::EXACT);
}

#[test]
fn tied_knots_merge_into_the_later_one_and_stay_continuous() {
    // 12 values, 6 of them 0: intvl = 12/5 − 1 = 1, knots at 0..11 with x = 0 six times.
    let mut pooled = vec![0.0; 6];
    pooled.extend([0.5, 1.0, 1.0 + KNOT_TIE_TOL / 2.0, 1.5, 2.0, 2.0]);
    let warp = SpectralWarp::fit(&WarpConfig::default(), &pooled).unwrap();
    let (x, y) = warp.knots();
    assert!(
        x.windows(2).all(|pair| pair[1] - pair[0] > KNOT_TIE_TOL),
        "{x:?}"
    );
    // The zero tie keeps the last zero's CDF value 5/11 (right-continuous CDF).
    assert_close(y[0], 5.0 / 11.0, tol::EXACT);
    // Continuity across λ = 0: rounding noise of either sign gives the same ω.
    assert_close(warp.eval(-1e-16), warp.eval(1e-16), tol::EXACT);
    assert!(warp.eval(0.0).is_finite() && warp.eval(3.0).is_finite());
}

#[test]
fn errors_name_the_problem() {
    let config = WarpConfig::default();
    assert_eq!(
        SpectralWarp::fit(&config, &[0.0; 9]),
        Err(Error::TooFewEigenvalues { got: 9, min: 10 })
    );
    let mut pooled = vec![0.5; 12];
    pooled[3] = f64::NAN;
    assert_eq!(
        SpectralWarp::fit(&config, &pooled),
        Err(Error::NonFiniteEigenvalue { index: 3 })
    );
    assert!(matches!(
        SpectralWarp::fit(&WarpConfig { n_intervals: 0 }, &pooled),
        Err(Error::InvalidConfig {
            field: "WarpConfig.n_intervals",
            ..
        })
    ));
}

#[test]
fn fit_graphs_pools_training_spectra() {
    let graphs = crate::training_graphs();
    let warp = crate::training_warp();
    let pooled: Vec<f64> = graphs
        .iter()
        .flat_map(|g| {
            graph_scattering::laplacian::Spectrum::of(g)
                .unwrap()
                .values()
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        warp,
        SpectralWarp::fit(&WarpConfig::default(), &pooled).unwrap()
    );
    assert_close(warp.gamma(), 2.0, tol::EXACT);
}

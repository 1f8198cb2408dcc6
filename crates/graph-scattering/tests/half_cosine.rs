//! Tests of `src/half_cosine.rs`: the tight-frame identity, the dead last filter, validation.

use graph_scattering::{Error, HalfCosineBank, HalfCosineConfig, SpectralWarp, WarpConfig};
use linalg::testing::{assert_close, tol};

/// A warp with ω(0) = 0 and γ = 2: pooled eigenvalues on a uniform grid of [0, 2].
fn uniform_warp() -> SpectralWarp {
    let pooled: Vec<f64> = (0..=100).map(|k| f64::from(k) / 50.0).collect();
    SpectralWarp::fit(&WarpConfig::default(), &pooled).unwrap()
}

fn energy(bank: &HalfCosineBank, lambda: f64) -> f64 {
    let mut g = vec![0.0; bank.n_filters()];
    bank.responses(lambda, &mut g);
    g.iter().map(|v| v * v).sum()
}

#[test]
fn squared_responses_sum_to_nine_eighths_on_the_covered_range() {
    // Σ_m ĝ_m(λ)² = R(d₀² + d₁²/2) = 9/8 wherever three translates cover ω(λ), i.e. on
    // [a/3, γ′ + a/3] ⊇ [a/3, γ′] [C §2.3]; below a/3 the m = 0 translate is missing.
    for (warp, must_see_below) in [(uniform_warp(), true), (crate::training_warp(), false)] {
        let bank = HalfCosineBank::new(HalfCosineConfig::default(), warp.clone()).unwrap();
        let a = bank.width();
        assert_close(a, 0.3 * warp.gamma_warped(), tol::EXACT);
        let (mut covered, mut below) = (0, 0);
        for step in 0..=20_000 {
            let lambda = -0.1 + 2.3 * f64::from(step) / 20_000.0;
            let warped = warp.eval(lambda);
            let sum = energy(&bank, lambda);
            assert!(sum <= 1.125 + 1e-12, "Σ ĝ² = {sum} > 9/8 at λ = {lambda}");
            if warped >= a / 3.0 + 1e-12 && warped <= warp.gamma_warped() + a / 3.0 - 1e-12 {
                assert_close(sum, 1.125, tol::EXACT);
                covered += 1;
            } else if (0.0..0.9 * a / 3.0).contains(&warped) {
                // (Just below a/3 the missing translate's share is below rounding: keep a margin.)
                assert!(sum < 1.125 - 1e-12, "λ = {lambda}");
                below += 1;
            }
        }
        assert!(
            covered > 10_000 && (below > 100 || !must_see_below),
            "{covered} {below}"
        );
    }
    // At ω = 0 only the m = 1 translate (sin²(π/3) = 3/4) is live: 9/16 [C §2.3, measured min].
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), uniform_warp()).unwrap();
    assert_close(energy(&bank, 0.0), 0.5625, tol::EXACT);
}

#[test]
fn last_filter_is_exactly_zero_up_to_the_largest_training_eigenvalue() {
    // Training set with a bipartite graph ⇒ γ = 2 ⇒ filter 12 ≡ 0 on the whole of [0, 2], the
    // range of every normalised Laplacian: dead on every graph, as on QM9 [C §2.3].
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), crate::training_warp()).unwrap();
    let mut g = vec![0.0; 12];
    for step in 0..=20_000 {
        bank.responses(2.0 * f64::from(step) / 20_000.0, &mut g);
        assert_eq!(
            g[11].to_bits(),
            0.0f64.to_bits(),
            "λ = {}",
            2.0 * f64::from(step) / 20_000.0
        );
    }
    // Filter 11 reaches 0.75 only at the top of the spectrum [C §2.3].
    bank.responses(2.0, &mut g);
    assert_close(g[10], 0.75, tol::EXACT);

    // The right general statement is "≡ 0 on [0, γ]": with only triangles and K₄ in training
    // (γ = 3/2), filter 12 lives on (3/2, 2] and is 0 below.
    let k3 = crate::graph(3, &[(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)]);
    let k4 = crate::graph(
        4,
        &[
            (0, 1, 1.0),
            (0, 2, 1.0),
            (0, 3, 1.0),
            (1, 2, 1.0),
            (1, 3, 1.0),
            (2, 3, 1.0),
        ],
    );
    let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &[k3.clone(), k3, k4.clone(), k4])
        .unwrap();
    assert_close(warp.gamma(), 1.5, tol::EXACT);
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), warp).unwrap();
    for step in 0..=1500 {
        bank.responses(f64::from(step) / 1000.0, &mut g);
        assert!(g[11].abs() < 1e-30, "λ = {}", f64::from(step) / 1000.0);
    }
    // ω extrapolates beyond γ: ω(1.55) ≈ γ′ + 0.09, inside filter 12's window [γ′, γ′ + a].
    bank.responses(1.55, &mut g);
    assert!(g[11] > 0.1, "{}", g[11]);
}

#[test]
fn mother_window_is_sin_squared_for_k_1() {
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), uniform_warp()).unwrap();
    let a = bank.width();
    for step in 0..=100 {
        let x = a * f64::from(step) / 100.0;
        assert_close(
            bank.mother(x),
            (std::f64::consts::PI * x / a).sin().powi(2),
            tol::EXACT,
        );
    }
    assert_eq!(bank.mother(a * 1.0001).to_bits(), 0.0f64.to_bits());
    assert_close(bank.frame_constant(), 1.125, tol::EXACT);
}

#[test]
fn invalid_configs_are_errors() {
    let warp = uniform_warp();
    for (config, field) in [
        (
            HalfCosineConfig {
                n_filters: 0,
                ..HalfCosineConfig::default()
            },
            "HalfCosineConfig.n_filters",
        ),
        (
            HalfCosineConfig {
                redundancy: 13,
                ..HalfCosineConfig::default()
            },
            "HalfCosineConfig.redundancy",
        ),
        (
            HalfCosineConfig {
                coefficients: vec![],
                ..HalfCosineConfig::default()
            },
            "HalfCosineConfig.coefficients",
        ),
    ] {
        match HalfCosineBank::new(config, warp.clone()) {
            Err(Error::InvalidConfig { field: got, .. }) => assert_eq!(got, field),
            other => panic!("expected InvalidConfig for {field}, got {other:?}"),
        }
    }
    // A training set of edgeless graphs: all eigenvalues 0, nothing to adapt to.
    assert_eq!(
        SpectralWarp::fit(&WarpConfig::default(), &[0.0; 20]),
        Err(Error::DegenerateSpectrum { distinct_knots: 1 })
    );
}

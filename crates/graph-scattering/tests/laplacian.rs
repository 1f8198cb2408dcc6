//! Tests of `src/laplacian.rs`: the clamp, known spectra, agreement with nalgebra's solver.

use graph_scattering::laplacian::{Spectrum, normalized_laplacian};
use linalg::testing::{assert_close, tol};
use proptest::prelude::*;

use crate::{arb_graph, cycle, graph, path};

#[track_caller]
fn check_spectrum(g: &graph_scattering::Graph, expected: &[f64]) {
    let spectrum = Spectrum::of(g).unwrap();
    assert_eq!(spectrum.values().len(), expected.len());
    for (&got, &want) in spectrum.values().iter().zip(expected) {
        assert_close(got, want, tol::EXACT);
    }
}

#[test]
fn known_spectra() {
    check_spectrum(&path(3), &[0.0, 1.0, 2.0]);
    // C₄: 1 − cos(2πk/4) → 0, 1, 1, 2.
    check_spectrum(&cycle(4), &[0.0, 1.0, 1.0, 2.0]);
    // K₃: 0, 3/2, 3/2. Weights scale out of the normalised Laplacian when d ≥ 1.
    check_spectrum(
        &graph(3, &[(0, 1, 2.0), (1, 2, 2.0), (0, 2, 2.0)]),
        &[0.0, 1.5, 1.5],
    );
}

#[test]
fn isolated_nodes_give_zero_rows_and_zero_eigenvalues() {
    // An edge plus two ghosts [C §2.1].
    let g = graph(4, &[(0, 1, 1.0)]);
    let l = normalized_laplacian(&g);
    assert!(l.row(2).iter().chain(l.row(3).iter()).all(|&v| v == 0.0));
    check_spectrum(&g, &[0.0, 0.0, 0.0, 2.0]);
}

#[test]
fn degree_clamp_uses_max_of_one_and_d() {
    // One edge of weight ½: d = ½ is clamped to 1, so L = [[½, −½], [−½, ½]] and λ = {0, 1},
    // not the unclamped {0, 2}.
    let g = graph(2, &[(0, 1, 0.5)]);
    let l = normalized_laplacian(&g);
    assert_close(l[(0, 0)], 0.5, tol::EXACT);
    assert_close(l[(0, 1)], -0.5, tol::EXACT);
    check_spectrum(&g, &[0.0, 1.0]);
    // Mixed: d = (2, ½·…): entry (0,1) = −W₀₁ / √(max(1,d₀) max(1,d₁)).
    let g = graph(3, &[(0, 1, 0.5), (0, 2, 1.5)]);
    let l = normalized_laplacian(&g);
    assert_close(l[(0, 1)], -0.5 / (2.0f64.sqrt() * 1.0), tol::EXACT);
    assert_close(
        l[(0, 2)],
        -1.5 / (2.0f64.sqrt() * 1.5f64.sqrt()),
        tol::EXACT,
    );
    assert_close(l[(1, 1)], 0.5, tol::EXACT);
}

proptest! {
    #[test]
    fn spectrum_lies_in_0_2_and_matches_nalgebra(g in arb_graph(1..=8)) {
        let spectrum = Spectrum::of(&g).unwrap();
        let (reference, _) = linalg::eigen::symmetric_eigen(&normalized_laplacian(&g));
        for (&ours, &theirs) in spectrum.values().iter().zip(reference.iter()) {
            prop_assert!((-1e-13..=2.0 + 1e-13).contains(&ours), "eigenvalue {ours}");
            prop_assert!(tol::ITER.accepts(ours, theirs), "{ours} vs {theirs}");
        }
        // U diag(λ) Uᵀ reproduces L and U is orthogonal.
        let u = spectrum.vectors();
        let rebuilt = u * linalg::Matrix::from_diagonal(spectrum.values()) * u.transpose();
        let l = normalized_laplacian(&g);
        prop_assert!((rebuilt - &l).amax() < 1e-13);
        let gram = u.transpose() * u;
        prop_assert!((gram - linalg::Matrix::<f64>::identity(g.n_nodes(), g.n_nodes())).amax() < 1e-13);
    }
}

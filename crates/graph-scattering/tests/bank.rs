//! Tests of `src/bank.rs`: filter matrices are `U diag(h(λ)) Uᵀ`, invariant to the eigenbasis.

use graph_scattering::{FilterBank, HalfCosineBank, HalfCosineConfig};
use linalg::testing::assert_close;

#[test]
fn half_cosine_filter_matrices_form_a_frame_with_bound_nine_eighths() {
    // Σ_m G_m² = U diag(Σ_m ĝ_m(λ)²) Uᵀ ⪯ 9/8 I; on a graph whose warped eigenvalues all lie in
    // the covered range it equals 9/8 on the non-null space [C §2.3].
    let bank = FilterBank::HalfCosine(
        HalfCosineBank::new(HalfCosineConfig::default(), crate::training_warp()).unwrap(),
    );
    let g = crate::cycle(6);
    let filters = bank.filter_matrices(&g).unwrap();
    assert_eq!(filters.len(), 12);
    let mut frame = linalg::Matrix::<f64>::zeros(6, 6);
    for filter in &filters {
        // Symmetric basis ⇒ symmetric filters.
        assert!((filter - filter.transpose()).amax() < 1e-15);
        frame += filter * filter;
    }
    let (values, _) = linalg::eigen::symmetric_eigen(&frame);
    assert!(values.iter().all(|&v| v <= 1.125 + 1e-12), "{values}");
    // The filter 12 matrix is exactly zero on a graph of the training family (γ = 2).
    assert!(filters[11].iter().all(|&v| v.abs() < 1e-30));
}

#[test]
fn degenerate_eigenspaces_do_not_matter() {
    // C₆ has two doubly degenerate eigenvalues; relabelling the nodes changes the eigenbasis the
    // solver picks inside them, not the filters.
    let bank = FilterBank::HalfCosine(
        HalfCosineBank::new(HalfCosineConfig::default(), crate::training_warp()).unwrap(),
    );
    let g = crate::cycle(6);
    let order = [3, 0, 5, 1, 4, 2];
    let plain = bank.filter_matrices(&g).unwrap();
    let relabelled = bank.filter_matrices(&g.permuted(&order)).unwrap();
    for (a, b) in plain.iter().zip(&relabelled) {
        for i in 0..6 {
            for j in 0..6 {
                assert_close(b[(i, j)], a[(order[i], order[j])], crate::PIPELINE);
            }
        }
    }
}

//! The scattering bridge: dense graphs → encoder input.

use graph_scattering::{
    FilterBank, HalfCosineBank, HalfCosineConfig, Scattering, ScatteringConfig, SpectralWarp,
    WarpConfig,
};
use linalg::testing::{assert_all_close, tol};
use mol_vae::features::{scattering_features, weighted_graph};

use crate::targets;

#[test]
fn features_ignore_atom_order_and_tell_molecules_apart() {
    let graphs = targets(&["CCO", "OCC", "CC=O", "C1CC1N"]);
    let warp_graphs: Vec<_> = graphs.iter().map(|g| weighted_graph(g).unwrap()).collect();
    let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &warp_graphs).unwrap();
    let bank =
        FilterBank::HalfCosine(HalfCosineBank::new(HalfCosineConfig::default(), warp).unwrap());
    let scattering = Scattering::new(ScatteringConfig::default(), bank).unwrap();
    let x = scattering_features::<f64>(&scattering, &graphs).unwrap();
    assert_eq!(x.shape(), (9_425, 4));
    let col = |j: usize| x.column(j).iter().copied().collect::<Vec<f64>>();
    assert_all_close(&col(0), &col(1), tol::ITER);
    let diff: f64 = col(0).iter().zip(col(2)).map(|(a, b)| (a - b).abs()).sum();
    assert!(diff > 1e-3);
    // Order 0 of the ghost channel (index 4 · 1885) is the fraction of ghost slots: 6/9 for CCO.
    assert!((x[(4 * 1_885, 0)] - 6.0 / 9.0).abs() < 1e-12);
}

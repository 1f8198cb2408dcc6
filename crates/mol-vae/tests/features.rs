//! The scattering bridge: dense graphs → encoder input.

use graph_scattering::{
    FilterBank, HalfCosineBank, HalfCosineConfig, Scattering, ScatteringConfig, SpectralWarp,
    WarpConfig,
};
use linalg::testing::{assert_all_close, tol};
use mol_vae::features::{conditional_scattering_features, scattering_features, weighted_graph};

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

#[test]
fn conditional_features_append_constant_channels_after_the_one_hot_ones() {
    let graphs = targets(&["CCO", "C1CC1N", "CC#N"]);
    let warp_graphs: Vec<_> = graphs.iter().map(|g| weighted_graph(g).unwrap()).collect();
    let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &warp_graphs).unwrap();
    let bank =
        FilterBank::HalfCosine(HalfCosineBank::new(HalfCosineConfig::default(), warp).unwrap());
    let scattering = Scattering::new(ScatteringConfig::default(), bank).unwrap();
    let plain = scattering_features::<f64>(&scattering, &graphs).unwrap();
    // Molecule 1 has condition −2 × molecule 0's first condition.
    let c =
        linalg::Matrix::from_column_slice(3, 3, &[0.5, 1.0, -0.3, -1.0, 1.0, 2.0, 0.0, 0.0, 0.0]);
    let x = conditional_scattering_features::<f64>(&scattering, &graphs, &c).unwrap();
    assert_eq!(x.shape(), (15_080, 3));
    // The one-hot channels are untouched (channel-major layout).
    assert!(
        x.rows(0, 9_425)
            .iter()
            .zip(plain.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    let p = 1_885;
    let channel = |col: usize, k: usize| -> Vec<f64> {
        x.column(col).rows((5 + k) * p, p).iter().copied().collect()
    };
    // Order 0 is the value itself; the cascade is positively homogeneous, so at orders ≥ 1 a
    // constant channel of value a gives |a| times the all-ones channel's features.
    assert!((channel(0, 0)[0] - 0.5).abs() < 1e-12);
    assert!((channel(1, 0)[0] + 1.0).abs() < 1e-12);
    let scaled: Vec<f64> = channel(0, 1)[1..].iter().map(|v| 2.0 * v).collect();
    let same_graph = conditional_scattering_features::<f64>(
        &scattering,
        &graphs[..1],
        &linalg::Matrix::from_column_slice(3, 1, &[0.5, -2.0, 0.0]),
    )
    .unwrap();
    let doubled: Vec<f64> = same_graph
        .column(0)
        .rows(6 * p + 1, p - 1)
        .iter()
        .copied()
        .collect();
    assert_all_close(&scaled, &doubled, tol::ITER);
    // A zero condition gives zero features (ghosts carry it too, so nothing leaks in).
    assert!(channel(2, 0).iter().all(|&v| v.abs() < 1e-12));
    assert!(channel(1, 0)[1..].iter().any(|&v| v > 1e-6));
    // Shapes and values are checked.
    assert!(matches!(
        conditional_scattering_features::<f64>(&scattering, &graphs, &linalg::Matrix::zeros(3, 2)),
        Err(mol_vae::Error::ShapeMismatch { .. })
    ));
    let mut bad = c.clone();
    bad[(1, 2)] = f64::NAN;
    assert!(matches!(
        conditional_scattering_features::<f64>(&scattering, &graphs, &bad),
        Err(mol_vae::Error::InvalidTarget { item: 2, .. })
    ));
}

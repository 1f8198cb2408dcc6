//! Graph scattering benchmarks at QM9 size: one 9-node molecule graph, 5 one-hot channels,
//! Laplacian + Jacobi eigendecomposition + all 1,885 paths per channel (GSVAE, M = 12, orders
//! 0..3). Target: ≤ 100 µs per molecule (≥ 10,000 molecules per second per core).
#![allow(missing_docs)]

use std::hint::black_box;

use benches::configure;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use graph_scattering::{
    FilterBank, Graph, HalfCosineBank, HalfCosineConfig, Scattering, ScatteringConfig,
    SpectralWarp, WarpConfig, Workspace, laplacian::Spectrum,
};
use linalg::Matrix;

/// Bond-order graph on 9 slots from `(i, j, order)` edges.
fn molecule(edges: &[(usize, usize, f64)]) -> Graph {
    let mut w = Matrix::<f64>::zeros(9, 9);
    for &(i, j, order) in edges {
        w[(i, j)] = order;
        w[(j, i)] = order;
    }
    Graph::new(w).expect("bench graphs are valid")
}

/// A few fixed QM9-like graphs (rings, chains, double and triple bonds, ghosts) for the warp.
fn training_set() -> Vec<Graph> {
    vec![
        molecule(&[
            (0, 1, 1.),
            (1, 2, 2.),
            (2, 3, 1.),
            (3, 4, 2.),
            (4, 5, 1.),
            (5, 0, 2.),
            (5, 6, 1.),
            (6, 7, 2.),
            (6, 8, 1.),
        ]),
        molecule(&[
            (0, 1, 1.),
            (1, 2, 1.),
            (2, 3, 1.),
            (3, 4, 1.),
            (4, 0, 1.),
            (1, 5, 1.),
            (5, 6, 3.),
        ]),
        molecule(&[
            (0, 1, 1.),
            (1, 2, 1.),
            (2, 3, 1.),
            (3, 4, 1.),
            (4, 5, 1.),
            (5, 6, 1.),
            (6, 7, 1.),
            (7, 8, 1.),
        ]),
        molecule(&[
            (0, 1, 1.),
            (0, 2, 1.),
            (0, 3, 1.),
            (0, 4, 1.),
            (4, 5, 2.),
            (5, 6, 1.),
            (6, 7, 1.),
            (7, 4, 1.),
        ]),
        molecule(&[
            (0, 1, 1.),
            (1, 2, 1.),
            (2, 0, 1.),
            (2, 3, 1.),
            (3, 4, 2.),
            (4, 5, 1.),
            (5, 6, 1.),
            (6, 7, 1.),
            (7, 8, 3.),
        ]),
        molecule(&[(0, 1, 2.), (1, 2, 1.), (2, 3, 1.), (3, 4, 1.), (4, 5, 1.)]),
    ]
}

fn scattering_molecule(c: &mut Criterion) {
    let warp =
        SpectralWarp::fit_graphs(&WarpConfig::default(), &training_set()).expect("warp fits");
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), warp).expect("bank builds");
    let scattering = Scattering::new(ScatteringConfig::default(), FilterBank::HalfCosine(bank))
        .expect("valid config");
    // A 9-heavy-atom molecule (5-ring, branch with C≡N, an O): classes [C, O, N, F, ghost].
    let graph = molecule(&[
        (0, 1, 1.),
        (1, 2, 1.),
        (2, 3, 2.),
        (3, 4, 1.),
        (4, 0, 1.),
        (1, 5, 1.),
        (5, 6, 3.),
        (3, 7, 1.),
        (7, 8, 1.),
    ]);
    let classes = [0, 0, 0, 0, 2, 0, 2, 0, 1];
    let one_hot = Matrix::from_fn(
        9,
        5,
        |node, class| if classes[node] == class { 1.0 } else { 0.0 },
    );
    // Worst case: 5 dense channels, so no channel can be skipped.
    let dense = Matrix::from_fn(9, 5, |node, channel| {
        ((node * 5 + channel) as f64 * 0.731).sin()
    });
    let mut workspace = Workspace::default();
    let mut out = vec![0.0; scattering.n_features(5)];

    let mut group = c.benchmark_group("graph_scattering");
    configure(&mut group);
    group.bench_function(BenchmarkId::new("scattering_molecule", 9), |b| {
        b.iter(|| {
            scattering.transform_into(
                black_box(&graph),
                black_box(&one_hot),
                &mut workspace,
                &mut out,
            )
        })
    });
    group.bench_function(BenchmarkId::new("scattering_molecule_dense", 9), |b| {
        b.iter(|| {
            scattering.transform_into(
                black_box(&graph),
                black_box(&dense),
                &mut workspace,
                &mut out,
            )
        })
    });
    group.bench_function(BenchmarkId::new("spectrum", 9), |b| {
        b.iter(|| Spectrum::of(black_box(&graph)))
    });
    group.finish();
}

criterion_group!(benches, scattering_molecule);
criterion_main!(benches);

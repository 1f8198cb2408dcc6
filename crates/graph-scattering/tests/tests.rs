//! Integration tests of `graph-scattering`; one module per source file, plus `reference`
//! (values against the independent numpy implementation in `fixtures/make_fixture.py`).

// Helpers outside `#[test]` functions unwrap too (clippy.toml only covers test functions).
#![allow(clippy::unwrap_used)]

mod bank;
mod cascade;
mod diffusion;
mod graph;
mod half_cosine;
mod laplacian;
mod reference;
mod warp;

use graph_scattering::{
    FilterBank, Graph, HalfCosineBank, HalfCosineConfig, Scattering, ScatteringConfig,
    SpectralWarp, WarpConfig,
};
use linalg::{Matrix, testing::Tol};
use proptest::prelude::*;

/// Eigensolver-level agreement: two `f64` pipelines that differ only in rounding (a different
/// node order, LAPACK vs Jacobi) agree to ~1e-13 on features of size O(1); 1e-9 leaves room for
/// the modulus and three filter layers.
pub const PIPELINE: Tol = Tol {
    rel: 1e-9,
    abs: 1e-12,
};

/// Undirected graph on `n` nodes from `(i, j, w)` edges.
pub fn graph(n: usize, edges: &[(usize, usize, f64)]) -> Graph {
    let mut w = Matrix::<f64>::zeros(n, n);
    for &(i, j, value) in edges {
        w[(i, j)] = value;
        w[(j, i)] = value;
    }
    Graph::new(w).unwrap()
}

/// Path on `n` nodes with unit weights.
pub fn path(n: usize) -> Graph {
    let edges: Vec<_> = (1..n).map(|i| (i - 1, i, 1.0)).collect();
    graph(n, &edges)
}

/// Cycle on `n` nodes with unit weights.
pub fn cycle(n: usize) -> Graph {
    let edges: Vec<_> = (0..n).map(|i| (i, (i + 1) % n, 1.0)).collect();
    graph(n, &edges)
}

/// A small fixed training set with bipartite members (so γ = 2, as on QM9).
pub fn training_graphs() -> Vec<Graph> {
    vec![
        path(3),
        cycle(6),
        graph(5, &[(0, 1, 1.0), (0, 2, 2.0), (0, 3, 1.0), (0, 4, 3.0)]),
        graph(
            9,
            &[
                (0, 1, 1.0),
                (1, 2, 2.0),
                (2, 0, 1.0),
                (2, 3, 1.0),
                (3, 4, 3.0),
                (4, 5, 1.0),
            ],
        ),
        graph(
            5,
            &[
                (0, 1, 1.0),
                (1, 2, 1.0),
                (2, 3, 1.0),
                (3, 4, 1.0),
                (4, 0, 1.0),
                (0, 2, 1.0),
            ],
        ),
    ]
}

/// The warp fitted on [`training_graphs`].
pub fn training_warp() -> SpectralWarp {
    SpectralWarp::fit_graphs(&WarpConfig::default(), &training_graphs()).unwrap()
}

/// GSVAE's configuration (M = 12, orders 0..3, mean) on [`training_warp`].
pub fn gsvae() -> Scattering {
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), training_warp()).unwrap();
    Scattering::new(ScatteringConfig::default(), FilterBank::HalfCosine(bank)).unwrap()
}

/// Random weighted graphs on 1..=8 nodes: each pair gets weight 0 (half the time) or a bond order
/// 1..=3 or a real weight in (0, 3).
pub fn arb_graph(sizes: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Graph> {
    sizes.prop_flat_map(|n| {
        proptest::collection::vec((0u8..6, 0.01f64..3.0), n * (n - 1) / 2).prop_map(move |pairs| {
            let mut w = Matrix::<f64>::zeros(n, n);
            let mut pair = pairs.iter();
            for i in 0..n {
                for j in i + 1..n {
                    let &(kind, real) = pair.next().unwrap();
                    let value = match kind {
                        0..=2 => 0.0,
                        3 => real,
                        order => f64::from(order - 2),
                    };
                    w[(i, j)] = value;
                    w[(j, i)] = value;
                }
            }
            Graph::new(w).unwrap()
        })
    })
}

/// A signal of `n` rows and `channels` columns with entries in [−2, 2].
pub fn arb_signal(n: usize, channels: usize) -> impl Strategy<Value = Matrix<f64>> {
    proptest::collection::vec(-2.0f64..2.0, n * channels)
        .prop_map(move |values| Matrix::from_vec(n, channels, values))
}

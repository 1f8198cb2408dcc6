//! Tests of `src/cascade.rs`: feature count and layout, invariance, non-expansiveness, skips,
//! errors, batching.

use graph_scattering::{
    DiffusionBank, DiffusionConfig, DiffusionOperator, Error, FilterBank, Graph, Pooling,
    Scattering, ScatteringConfig, Workspace, laplacian::Spectrum,
};
use linalg::{Matrix, testing::assert_all_close};
use proptest::prelude::*;

use crate::{PIPELINE, arb_graph, arb_signal, gsvae};

fn one_hot(classes: &[usize], n_classes: usize) -> Matrix<f64> {
    Matrix::from_fn(classes.len(), n_classes, |node, class| {
        if classes[node] == class { 1.0 } else { 0.0 }
    })
}

fn molecule() -> Graph {
    // A 9-slot molecule-like graph: 7 heavy atoms (ring + branch, one double and one triple
    // bond) and 2 ghosts.
    crate::graph(
        9,
        &[
            (0, 1, 1.0),
            (1, 2, 2.0),
            (2, 3, 1.0),
            (3, 4, 1.0),
            (4, 0, 1.0),
            (1, 5, 1.0),
            (5, 6, 3.0),
        ],
    )
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn diff_norm(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// `B = max_e Σ_m h_m(λ_e)²`, the upper frame bound of the bank on this graph's spectrum.
fn frame_bound(scattering: &Scattering, graph: &Graph) -> f64 {
    let bank = scattering.bank();
    let mut h = vec![0.0; bank.n_filters()];
    Spectrum::of(graph)
        .unwrap()
        .values()
        .iter()
        .map(|&lambda| {
            bank.responses(lambda, &mut h);
            h.iter().map(|v| v * v).sum::<f64>()
        })
        .fold(0.0, f64::max)
}

fn diffusion(operator: DiffusionOperator, config: ScatteringConfig) -> Scattering {
    let bank = DiffusionBank::new(DiffusionConfig {
        n_scales: 3,
        operator,
    })
    .unwrap();
    Scattering::new(config, FilterBank::Diffusion(bank)).unwrap()
}

#[test]
fn gsvae_has_9425_features_for_5_channels() {
    // 5 · (1 + 12 + 12² + 12³) = 5 · 1885 = 9,425 [C §2.4].
    let scattering = gsvae();
    assert_eq!(scattering.n_paths(), 1885);
    assert_eq!(scattering.n_features(5), 9_425);
    let features = scattering
        .transform(&molecule(), &one_hot(&[0, 0, 1, 0, 2, 0, 3, 4, 4], 5))
        .unwrap();
    assert_eq!(features.len(), 9_425);
    // Conditional-design variant: C = 8 → 15,080 [C §2.4].
    assert_eq!(scattering.n_features(8), 15_080);
}

#[test]
fn pooling_divides_by_all_slots_ghosts_included() {
    // Propane C–C–C padded to 9 slots; classes [C, O, N, F, ghost]: S0 = (3/9, 0, 0, 0, 6/9), and
    // the ghost channel's order-1 features see the isolated slots (λ = 0) [C §2.4, §9].
    let scattering = gsvae();
    let padded = crate::graph(9, &[(0, 1, 1.0), (1, 2, 1.0)]);
    let features = scattering
        .transform(&padded, &one_hot(&[0, 0, 0, 4, 4, 4, 4, 4, 4], 5))
        .unwrap();
    let s0: Vec<f64> = (0..5)
        .map(|channel| features[scattering.feature_index(channel, &[], 1)])
        .collect();
    assert_all_close(
        &s0,
        &[3.0 / 9.0, 0.0, 0.0, 0.0, 6.0 / 9.0],
        linalg::testing::tol::EXACT,
    );
    let mut g = vec![0.0; 12];
    scattering.bank().responses(0.0, &mut g);
    for (j, &response) in g.iter().enumerate() {
        // Each ghost is its own eigenvector with λ = 0, so |G_j 1_ghosts| = ĝ_j(0) on 6 slots.
        let feature = features[scattering.feature_index(4, &[j], 1)];
        assert!(
            PIPELINE.accepts(feature, response.abs() * 6.0 / 9.0),
            "filter {j}"
        );
    }
}

#[test]
fn layout_is_channel_major_then_order_then_j1_major() {
    // S_p = mean_v |G_{j_l} … |G_{j_1} f_c|| at index c·1885 + Σ_{k<l} 12^k + Σ_i j_i 12^{l−i} [C §2.4].
    let scattering = gsvae();
    let g = molecule();
    let signal = Matrix::from_fn(9, 2, |node, channel| {
        ((node * 7 + channel * 3) % 5) as f64 - 1.5
    });
    let features = scattering.transform(&g, &signal).unwrap();
    let filters = scattering.bank().filter_matrices(&g).unwrap();
    for (channel, path) in [
        (0, vec![]),
        (1, vec![4]),
        (0, vec![2, 7]),
        (1, vec![0, 5, 9]),
        (1, vec![10, 10, 10]),
    ] {
        let mut u = signal.column(channel).into_owned();
        for &j in &path {
            u = (&filters[j] * &u).abs();
        }
        let expected = u.sum() / 9.0;
        let got = features[scattering.feature_index(channel, &path, 1)];
        assert!(
            PIPELINE.accepts(got, expected),
            "channel {channel} path {path:?}: {got} vs {expected}"
        );
    }
    assert_eq!(
        scattering.feature_index(1, &[0, 5, 9], 1),
        1885 + 1 + 12 + 144 + 5 * 12 + 9
    );
}

#[test]
fn paths_through_the_dead_filter_are_exactly_zero() {
    // Filter 12 ≡ 0 on [0, γ] = [0, 2] [C §2.3]: every feature on a path through it is 0.
    let scattering = gsvae();
    let features = scattering
        .transform(&molecule(), &one_hot(&[0, 0, 1, 0, 2, 0, 3, 4, 4], 5))
        .unwrap();
    let mut checked = 0;
    for channel in 0..5 {
        for j1 in 0..12 {
            for j2 in 0..12 {
                for j3 in 0..12 {
                    if [j1, j2, j3].contains(&11) {
                        assert_eq!(
                            features[scattering.feature_index(channel, &[j1, j2, j3], 1)].to_bits(),
                            0
                        );
                        checked += 1;
                    }
                }
            }
            assert_eq!(
                features[scattering.feature_index(channel, &[11], 1)].to_bits(),
                0
            );
        }
    }
    assert_eq!(checked, 5 * (1728 - 1331));
}

#[test]
fn channels_are_independent_and_zero_channels_give_zero_features() {
    let scattering = gsvae();
    let g = molecule();
    let signal = one_hot(&[0, 0, 1, 0, 2, 0, 3, 1, 1], 5); // channel 4 (ghost class) absent.
    let all = scattering.transform(&g, &signal).unwrap();
    for channel in 0..5 {
        let single = scattering
            .transform(&g, &signal.columns(channel, 1).into_owned())
            .unwrap();
        assert_eq!(
            &all[channel * 1885..(channel + 1) * 1885],
            single.as_slice()
        );
    }
    assert!(all[4 * 1885..].iter().all(|&v| v.to_bits() == 0));
    assert!(all[..1885].iter().any(|&v| v > 0.0));
}

#[test]
fn a_reused_workspace_gives_the_same_features_as_a_fresh_one() {
    let scattering = gsvae();
    let mut workspace = Workspace::default();
    let cases = [
        (molecule(), 9),
        (crate::path(3), 3),
        (crate::cycle(6), 6),
        (molecule(), 9),
    ];
    for (g, n) in cases {
        let signal = Matrix::from_fn(n, 3, |node, channel| (node as f64 - channel as f64).sin());
        let mut out = vec![0.0; scattering.n_features(3)];
        scattering
            .transform_into(&g, &signal, &mut workspace, &mut out)
            .unwrap();
        let fresh = scattering.transform(&g, &signal).unwrap();
        assert!(
            out.iter()
                .zip(&fresh)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
}

#[test]
fn bad_inputs_are_errors_naming_the_problem() {
    let scattering = gsvae();
    let g = molecule();
    let mut workspace = Workspace::default();
    let mut out = vec![0.0; scattering.n_features(5)];
    let short = Matrix::<f64>::zeros(8, 5);
    assert_eq!(
        scattering.transform_into(&g, &short, &mut workspace, &mut out),
        Err(Error::SignalShape {
            n_nodes: 9,
            rows: 8,
            cols: 5
        })
    );
    let mut nan = Matrix::<f64>::zeros(9, 5);
    nan[(6, 2)] = f64::NAN;
    assert_eq!(
        scattering.transform_into(&g, &nan, &mut workspace, &mut out),
        Err(Error::NonFiniteSignal {
            node: 6,
            channel: 2
        })
    );
    assert_eq!(
        scattering.transform(&g, &Matrix::<f64>::zeros(9, 0)),
        Err(Error::NoChannels)
    );
    let ok = Matrix::<f64>::zeros(9, 4);
    assert_eq!(
        scattering.transform_into(&g, &ok, &mut workspace, &mut out),
        Err(Error::OutputLength {
            expected: 4 * 1885,
            got: 5 * 1885
        })
    );
    assert!(
        Error::SignalShape {
            n_nodes: 9,
            rows: 8,
            cols: 5
        }
        .to_string()
        .contains("9 nodes")
    );
}

#[test]
fn invalid_scattering_configs_are_errors() {
    let bank = FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig::default()).unwrap());
    for config in [
        ScatteringConfig {
            max_order: graph_scattering::MAX_ORDER + 1,
            pooling: Pooling::Mean,
        },
        ScatteringConfig {
            max_order: 2,
            pooling: Pooling::Moments { max_moment: 0 },
        },
    ] {
        assert!(matches!(
            Scattering::new(config, bank.clone()),
            Err(Error::InvalidConfig { .. })
        ));
    }
}

#[test]
fn geometric_moments_follow_the_definition() {
    // Order 0: Σ_v x(v)^q; order 1: Σ_v |Ψ_j x|(v)^q, q = 1..4 [C §7 (GWH)].
    let scattering = diffusion(
        DiffusionOperator::LazyRandomWalk,
        ScatteringConfig::geometric(),
    );
    let g = molecule();
    let x = Matrix::from_fn(9, 1, |node, _| (node as f64 * 0.7).cos());
    let features = scattering.transform(&g, &x).unwrap();
    assert_eq!(features.len(), (1 + 4 + 16 + 64) * 4);
    let filters = scattering.bank().filter_matrices(&g).unwrap();
    for q in 1..=4 {
        let order0: f64 = x.iter().map(|v| v.powi(q as i32)).sum();
        assert!(PIPELINE.accepts(features[scattering.feature_index(0, &[], q)], order0));
        let u = (&filters[2] * &x).abs();
        let order1: f64 = u.iter().map(|v| v.powi(q as i32)).sum();
        assert!(PIPELINE.accepts(features[scattering.feature_index(0, &[2], q)], order1));
    }
}

#[test]
fn batch_matches_sequential_bitwise_for_any_thread_count() {
    let scattering = gsvae();
    let graphs: Vec<Graph> = (0..24)
        .map(|k| {
            if k % 3 == 0 {
                molecule()
            } else {
                crate::cycle(3 + k % 5)
            }
        })
        .collect();
    let signals: Vec<Matrix<f64>> = graphs
        .iter()
        .enumerate()
        .map(|(k, g)| {
            Matrix::from_fn(g.n_nodes(), 2, |node, channel| {
                ((k + node * 3 + channel) % 4) as f64
            })
        })
        .collect();
    let sequential: Vec<Vec<f64>> = graphs
        .iter()
        .zip(&signals)
        .map(|(g, s)| scattering.transform(g, s).unwrap())
        .collect();
    for threads in [1, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let batch = pool
            .install(|| scattering.transform_batch(&graphs, &signals))
            .unwrap();
        for (a, b) in batch.iter().zip(&sequential) {
            assert!(
                a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{threads} threads"
            );
        }
    }
    let mut bad = signals.clone();
    bad[5] = Matrix::zeros(1, 2);
    assert!(matches!(
        scattering.transform_batch(&graphs, &bad),
        Err(Error::AtItem { index: 5, .. })
    ));
    assert_eq!(
        scattering.transform_batch(&graphs, &signals[..3]),
        Err(Error::BatchLength {
            graphs: 24,
            signals: 3
        })
    );
}

#[test]
fn the_literal_feature_map_expands_on_a_single_node() {
    // Φ as defined in [C §2.4] is not non-expansive on small graphs: on one isolated node
    // (λ = 0) with S = Σ_m ĝ_m(0)² > 0, ‖Φ(1) − Φ(0)‖² = 1 + S + S² + S³ > 1 = ‖1 − 0‖².
    let scattering = gsvae();
    let g = crate::graph(1, &[]);
    let one = scattering
        .transform(&g, &Matrix::from_element(1, 1, 1.0))
        .unwrap();
    let zero = scattering
        .transform(&g, &Matrix::from_element(1, 1, 0.0))
        .unwrap();
    let s = frame_bound(&scattering, &g);
    assert!(s > 0.0);
    let expected = (1.0 + s + s * s + s * s * s).sqrt();
    assert!(PIPELINE.accepts(diff_norm(&one, &zero), expected));
    assert!(diff_norm(&one, &zero) > 1.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn features_are_invariant_to_node_relabelling(
        (g, signal, order) in arb_graph(1..=8).prop_flat_map(|g| {
            let n = g.n_nodes();
            (Just(g), (1usize..=3).prop_flat_map(move |c| arb_signal(n, c)), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let permuted_signal = Matrix::from_fn(signal.nrows(), signal.ncols(), |i, c| signal[(order[i], c)]);
        for scattering in [
            gsvae(),
            diffusion(DiffusionOperator::Symmetric, ScatteringConfig::default()),
            diffusion(DiffusionOperator::LazyRandomWalk, ScatteringConfig::geometric()),
        ] {
            let plain = scattering.transform(&g, &signal).unwrap();
            let relabelled = scattering.transform(&g.permuted(&order), &permuted_signal).unwrap();
            assert_all_close(&plain, &relabelled, PIPELINE);
        }
    }

    #[test]
    fn features_are_lipschitz_with_the_frame_bound(
        (g, x, y) in arb_graph(1..=8).prop_flat_map(|g| {
            let n = g.n_nodes();
            (Just(g), arb_signal(n, 2), arb_signal(n, 2))
        })
    ) {
        // With B = max_λ Σ_m h_m(λ)² (9/8 for GSVAE), |mean u − mean v|² ≤ ‖u − v‖²/n,
        // ||a| − |b|| ≤ |a − b| and Σ_m ‖G_m w‖² ≤ B‖w‖², so
        //   ‖Φx − Φy‖² ≤ (Σ_{l=0}^{L} B^l / n) ‖x − y‖².
        // For B = 9/8, L = 3 the factor is 4.81/n: non-expansive for n ≥ 5 (QM9's padded n = 9),
        // not for n ≤ 4 (see `the_literal_feature_map_expands_on_a_single_node`).
        let n = g.n_nodes() as f64;
        for scattering in [gsvae(), diffusion(DiffusionOperator::Symmetric, ScatteringConfig::default())] {
            let b = frame_bound(&scattering, &g);
            let factor: f64 = (0..=3).map(|l| b.powi(l)).sum::<f64>() / n;
            let lhs = diff_norm(&scattering.transform(&g, &x).unwrap(), &scattering.transform(&g, &y).unwrap());
            let rhs = factor.sqrt() * diff_norm(x.as_slice(), y.as_slice());
            prop_assert!(lhs <= rhs * (1.0 + 1e-12) + 1e-12, "{lhs} > {rhs}");
        }
    }

    #[test]
    fn gsvae_features_are_non_expansive_on_graphs_of_at_least_5_nodes(
        (g, x, y) in arb_graph(5..=9).prop_flat_map(|g| {
            let n = g.n_nodes();
            (Just(g), arb_signal(n, 5), arb_signal(n, 5))
        })
    ) {
        // ‖Φx − Φy‖ ≤ ‖x − y‖, literally, for n ≥ 5 (Σ_{l≤3} (9/8)^l = 4.81 < n).
        let scattering = gsvae();
        let lhs = diff_norm(&scattering.transform(&g, &x).unwrap(), &scattering.transform(&g, &y).unwrap());
        prop_assert!(lhs <= diff_norm(x.as_slice(), y.as_slice()) * (1.0 + 1e-12), "{lhs}");
        prop_assert!(norm(&scattering.transform(&g, &x).unwrap()) <= norm(x.as_slice()) * (1.0 + 1e-12));
    }
}

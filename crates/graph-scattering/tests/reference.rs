//! Values against the independent numpy implementation (`fixtures/make_fixture.py`: LAPACK
//! `eigh`, explicit matrix powers, dense `G_m @ u` over `itertools.product` paths), to 1e-9.

use graph_scattering::{
    DiffusionBank, DiffusionConfig, DiffusionOperator, FilterBank, Graph, HalfCosineBank,
    HalfCosineConfig, Pooling, Scattering, ScatteringConfig, SpectralWarp, WarpConfig,
};
use linalg::{Matrix, testing::assert_all_close};

/// Agreement of two independent `f64` implementations of the same formulas (`make_fixture.py`).
const NUMPY: linalg::testing::Tol = linalg::testing::Tol {
    rel: 1e-9,
    abs: 1e-9,
};

struct Fixture {
    warp_x: Vec<f64>,
    warp_y: Vec<f64>,
    gamma: Option<f64>,
    /// `(graph index, channel, features)`.
    records: Vec<(usize, usize, Vec<f64>)>,
}

fn numbers<'a>(tokens: impl Iterator<Item = &'a str>) -> Vec<f64> {
    tokens.map(|token| token.parse().unwrap()).collect()
}

/// `(graph, two-channel signal)` pairs from `graphs.txt`.
fn graphs() -> Vec<(Graph, Matrix<f64>)> {
    let mut lines = include_str!("fixtures/graphs.txt")
        .lines()
        .filter(|line| !line.starts_with('#'));
    let mut out = Vec::new();
    while let Some(header) = lines.next() {
        let fields: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(fields[0], "graph");
        let n: usize = fields[2].parse().unwrap();
        let channels: usize = fields[3].parse().unwrap();
        let weights = numbers(lines.next().unwrap().split_whitespace());
        let signal = numbers(lines.next().unwrap().split_whitespace());
        out.push((
            Graph::from_row_slice(n, &weights).unwrap(),
            Matrix::from_row_slice(n, channels, &signal),
        ));
    }
    assert_eq!(out.len(), 5);
    out
}

fn parse(text: &str) -> Fixture {
    let mut fixture = Fixture {
        warp_x: vec![],
        warp_y: vec![],
        gamma: None,
        records: vec![],
    };
    let mut lines = text.lines().filter(|line| !line.starts_with('#'));
    while let Some(line) = lines.next() {
        let mut tokens = line.split_whitespace();
        match tokens.next().unwrap() {
            "warp_x" => fixture.warp_x = numbers(tokens),
            "warp_y" => fixture.warp_y = numbers(tokens),
            "gamma" => fixture.gamma = Some(numbers(tokens)[0]),
            "features" => {
                let header: Vec<usize> = tokens.map(|token| token.parse().unwrap()).collect();
                let mut values = Vec::with_capacity(header[2]);
                while values.len() < header[2] {
                    values.extend(numbers(lines.next().unwrap().split_whitespace()));
                }
                assert_eq!(values.len(), header[2]);
                fixture.records.push((header[0], header[1], values));
            }
            other => panic!("unknown fixture line {other}"),
        }
    }
    fixture
}

fn warp() -> SpectralWarp {
    let graphs: Vec<Graph> = graphs().into_iter().map(|(g, _)| g).collect();
    SpectralWarp::fit_graphs(&WarpConfig::default(), &graphs).unwrap()
}

#[track_caller]
fn check(scattering: &Scattering, fixture: &Fixture, n_records: usize) {
    let graphs = graphs();
    assert_eq!(fixture.records.len(), n_records);
    for (graph_idx, channel, expected) in &fixture.records {
        let (g, signal) = &graphs[*graph_idx];
        let got = scattering
            .transform(g, &signal.columns(*channel, 1).into_owned())
            .unwrap();
        assert_eq!(
            got.len(),
            expected.len(),
            "graph {graph_idx} channel {channel}"
        );
        assert_all_close(&got, expected, NUMPY);
    }
}

#[test]
fn warp_knots_match_numpy() {
    let fixture = parse(include_str!("fixtures/half_cosine_m12.txt"));
    let warp = warp();
    let (x, y) = warp.knots();
    assert_all_close(x, &fixture.warp_x, NUMPY);
    assert_all_close(y, &fixture.warp_y, NUMPY);
    assert_all_close(&[warp.gamma()], &[fixture.gamma.unwrap()], NUMPY);
}

#[test]
fn gsvae_features_match_numpy() {
    // M = 12, R = 3, K = 1, orders 0..3, mean pooling [C §2.3, §2.4].
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), warp()).unwrap();
    let scattering =
        Scattering::new(ScatteringConfig::default(), FilterBank::HalfCosine(bank)).unwrap();
    check(
        &scattering,
        &parse(include_str!("fixtures/half_cosine_m12.txt")),
        2,
    );
}

#[test]
fn four_filter_half_cosine_features_match_numpy_on_all_graphs() {
    let config = HalfCosineConfig {
        n_filters: 4,
        ..HalfCosineConfig::default()
    };
    let bank = HalfCosineBank::new(config, warp()).unwrap();
    let scattering =
        Scattering::new(ScatteringConfig::default(), FilterBank::HalfCosine(bank)).unwrap();
    check(
        &scattering,
        &parse(include_str!("fixtures/half_cosine_m4.txt")),
        10,
    );
}

#[test]
fn diffusion_features_match_numpy() {
    let bank = DiffusionBank::new(DiffusionConfig {
        n_scales: 3,
        operator: DiffusionOperator::Symmetric,
    })
    .unwrap();
    let scattering =
        Scattering::new(ScatteringConfig::default(), FilterBank::Diffusion(bank)).unwrap();
    check(
        &scattering,
        &parse(include_str!("fixtures/diffusion.txt")),
        10,
    );
}

#[test]
fn geometric_features_match_numpy() {
    let bank = DiffusionBank::new(DiffusionConfig {
        n_scales: 3,
        operator: DiffusionOperator::LazyRandomWalk,
    })
    .unwrap();
    let config = ScatteringConfig {
        max_order: 2,
        pooling: Pooling::Moments { max_moment: 4 },
    };
    let scattering = Scattering::new(config, FilterBank::Diffusion(bank)).unwrap();
    check(
        &scattering,
        &parse(include_str!("fixtures/geometric.txt")),
        10,
    );
}

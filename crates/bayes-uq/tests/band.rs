//! Tests of `bayes_uq::band`.

use linalg::rng::{Stream, for_item};

use bayes_uq::{
    Error, QuantileBand,
    band::BandConfig,
    bootstrap::bootstrap_replicas,
    histogram::{BinEdges, Histogram},
};

use crate::standard_normal;

/// A histogram with `k` of 100 values in bin 0 and the rest in bin 1.
fn two_bin(k: usize, edges: &BinEdges) -> Histogram {
    Histogram {
        edges: edges.clone(),
        counts: vec![k, 100 - k],
        n_below: 0,
        n_above: 0,
    }
}

#[test]
fn quantiles_interpolate_linearly_across_replicas() {
    // 101 replicas with bin-0 probability 0.00, 0.01, …, 1.00: the q-quantile is q exactly.
    let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    let replicas: Vec<Histogram> = (0..=100).rev().map(|k| two_bin(k, &edges)).collect();
    let band = QuantileBand::from_histograms(&replicas, BandConfig::default()).unwrap();
    assert!((band.lower[0] - 0.01).abs() < 1e-12, "{}", band.lower[0]);
    assert!((band.upper[0] - 0.99).abs() < 1e-12, "{}", band.upper[0]);
    assert!((band.median[0] - 0.5).abs() < 1e-12);
    let narrow = BandConfig {
        lower: 0.05,
        upper: 0.95,
    };
    let band = QuantileBand::from_histograms(&replicas, narrow).unwrap();
    assert!((band.lower[1] - 0.05).abs() < 1e-12 && (band.upper[1] - 0.95).abs() < 1e-12);
}

#[test]
fn band_contains_the_median_histogram() {
    // Replicas: bootstrap-weighted histograms of one normal sample, 15 bins as in the paper.
    let edges = BinEdges::uniform(-3.0, 3.0, 15).unwrap();
    let mut rng = for_item(1, Stream::Sample, 0);
    let data: Vec<f64> = (0..2000).map(|_| standard_normal(&mut rng)).collect();
    let replicas = bootstrap_replicas(data.len(), 25, 8, |replica_idx, _| {
        // Each replica draws its own 2000 samples, like a retrained generative model.
        let mut rng = for_item(2, Stream::Sample, replica_idx as u64);
        let samples: Vec<f64> = (0..2000).map(|_| standard_normal(&mut rng)).collect();
        Histogram::new(&samples, &edges)
    })
    .unwrap();
    let band = QuantileBand::from_histograms(&replicas, BandConfig::default()).unwrap();
    let coverage = band.coverage_of_probabilities(&band.median);
    assert_eq!(coverage.n_inside, 15);
    assert!(coverage.misses.is_empty());
    assert!(band.lower.iter().zip(&band.upper).all(|(lo, hi)| lo <= hi));
    // A fresh sample of the same law lies inside the 98 % band in most bins.
    let reference = Histogram::new(&data, &edges).unwrap();
    let coverage = band.coverage(&reference).unwrap();
    assert!(coverage.fraction_inside >= 0.8, "{coverage:?}");
}

#[test]
fn misses_report_signed_distances() {
    let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    let replicas = [
        two_bin(40, &edges),
        two_bin(50, &edges),
        two_bin(60, &edges),
    ];
    let band = QuantileBand::from_histograms(
        &replicas,
        BandConfig {
            lower: 0.0,
            upper: 1.0,
        },
    )
    .unwrap();
    // Band on bin 0: [0.4, 0.6]; on bin 1: [0.4, 0.6]. Reference (0.7, 0.3) misses both by 0.1.
    let coverage = band.coverage(&two_bin(70, &edges)).unwrap();
    assert_eq!(coverage.n_inside, 0);
    assert!((coverage.fraction_inside - 0.0).abs() < 1e-15);
    assert_eq!(coverage.misses.len(), 2);
    assert!((coverage.misses[0].signed_distance - 0.1).abs() < 1e-12);
    assert!((coverage.misses[1].signed_distance + 0.1).abs() < 1e-12);
    assert!((coverage.max_miss - 0.1).abs() < 1e-12);
    assert!((coverage.total_miss - 0.2).abs() < 1e-12);
    // A reference on the band's edge counts as inside.
    assert_eq!(band.coverage(&two_bin(60, &edges)).unwrap().n_inside, 2);
}

#[test]
fn mismatched_or_empty_inputs_are_errors() {
    let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    let other = BinEdges::uniform(0.0, 2.0, 2).unwrap();
    let replicas = [two_bin(40, &edges), two_bin(50, &other)];
    assert_eq!(
        QuantileBand::from_histograms(&replicas, BandConfig::default()).unwrap_err(),
        Error::EdgesDiffer { index: 1 }
    );
    assert!(matches!(
        QuantileBand::from_histograms(&[], BandConfig::default()),
        Err(Error::Empty { .. })
    ));
    let bad = BandConfig {
        lower: 0.5,
        upper: 0.5,
    };
    assert!(matches!(
        QuantileBand::from_histograms(&replicas[..1], bad),
        Err(Error::InvalidConfig { .. })
    ));
    let band = QuantileBand::from_histograms(&replicas[..1], BandConfig::default()).unwrap();
    assert_eq!(
        band.coverage(&two_bin(50, &other)).unwrap_err(),
        Error::EdgesDiffer { index: 0 }
    );
}

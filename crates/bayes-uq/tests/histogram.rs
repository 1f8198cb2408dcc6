//! Tests of `bayes_uq::histogram`.

use bayes_uq::{
    Error,
    histogram::{BinEdges, Histogram},
};

#[test]
fn bins_are_half_open_except_the_last() {
    let edges = BinEdges::new(vec![0.0, 1.0, 2.0, 4.0]).unwrap();
    let h = Histogram::new(&[-0.5, 0.0, 0.999, 1.0, 2.0, 3.9, 4.0, 4.5], &edges).unwrap();
    assert_eq!(h.counts, vec![2, 1, 3]);
    assert_eq!((h.n_below, h.n_above), (1, 1));
    assert_eq!(h.n_inside(), 6);
}

#[test]
fn probabilities_sum_to_one() {
    let edges = BinEdges::uniform(-3.0, 3.0, 15).unwrap();
    let values: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.01).sin() * 2.5).collect();
    let p = Histogram::new(&values, &edges)
        .unwrap()
        .probabilities()
        .unwrap();
    assert_eq!(p.len(), 15);
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn uniform_edges_end_exactly_at_hi() {
    let edges = BinEdges::uniform(16.0, 152.04, 15).unwrap();
    assert_eq!(edges.n_bins(), 15);
    assert_eq!(edges.edges()[15].to_bits(), 152.04f64.to_bits());
}

#[test]
fn bad_edges_and_values_are_errors() {
    assert!(matches!(
        BinEdges::new(vec![1.0]),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        BinEdges::new(vec![0.0, 2.0, 1.0]),
        Err(Error::InvalidConfig { .. })
    ));
    assert_eq!(
        BinEdges::new(vec![0.0, f64::NAN]).unwrap_err(),
        Error::NonFinite {
            what: "bin edge",
            index: 1
        }
    );
    assert!(matches!(
        BinEdges::uniform(0.0, 1.0, 0),
        Err(Error::InvalidConfig { .. })
    ));
    let edges = BinEdges::uniform(0.0, 1.0, 2).unwrap();
    assert_eq!(
        Histogram::new(&[0.5, f64::NAN], &edges).unwrap_err(),
        Error::NonFinite {
            what: "histogram value",
            index: 1
        }
    );
    let empty = Histogram::new(&[5.0], &edges).unwrap();
    assert!(matches!(empty.probabilities(), Err(Error::Empty { .. })));
}

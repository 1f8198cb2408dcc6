//! Tests of `src/graph.rs`: validation errors name the problem; relabelling.

use graph_scattering::{Error, Graph};
use linalg::Matrix;

#[track_caller]
fn check_err(n_rows: usize, n_cols: usize, values: &[f64], expected: Error) {
    let got = Graph::new(Matrix::from_row_slice(n_rows, n_cols, values));
    assert_eq!(got, Err(expected.clone()));
    // The message names the problem.
    let message = expected.to_string();
    assert!(!message.is_empty() && !message.ends_with('.'), "{message}");
}

#[test]
fn rejects_non_square() {
    check_err(2, 3, &[0.0; 6], Error::NotSquare { rows: 2, cols: 3 });
    assert_eq!(
        Graph::from_row_slice(2, &[0.0; 3]),
        Err(Error::NotSquare { rows: 2, cols: 1 })
    );
}

#[test]
fn rejects_empty() {
    assert_eq!(Graph::new(Matrix::zeros(0, 0)), Err(Error::EmptyGraph));
}

#[test]
fn rejects_nan_and_infinity() {
    check_err(
        2,
        2,
        &[0.0, f64::NAN, f64::NAN, 0.0],
        Error::NonFiniteWeight { row: 1, col: 0 },
    );
    check_err(
        2,
        2,
        &[f64::INFINITY, 0.0, 0.0, 0.0],
        Error::NonFiniteWeight { row: 0, col: 0 },
    );
}

#[test]
fn rejects_negative_weights() {
    check_err(
        2,
        2,
        &[0.0, -1.0, -1.0, 0.0],
        Error::NegativeWeight {
            row: 1,
            col: 0,
            value: -1.0,
        },
    );
}

#[test]
fn rejects_asymmetry_and_names_the_entry() {
    let values = [0.0, 1.0, 0.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0];
    check_err(
        3,
        3,
        &values,
        Error::Asymmetric {
            row: 1,
            col: 2,
            upper: 2.0,
            lower: 1.0,
        },
    );
    assert!(
        Error::Asymmetric {
            row: 1,
            col: 2,
            upper: 2.0,
            lower: 1.0
        }
        .to_string()
        .contains("W[1,2] = 2")
    );
}

#[test]
fn accepts_rounding_level_asymmetry_and_symmetrises() {
    let g = Graph::from_row_slice(2, &[0.0, 1.0, 1.0 + 1e-15, 0.0]).unwrap();
    assert_eq!(g.weights()[(0, 1)].to_bits(), g.weights()[(1, 0)].to_bits());
}

#[test]
fn accepts_isolated_nodes_and_self_loops() {
    let g = Graph::from_row_slice(3, &[1.0, 2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    assert_eq!(g.degrees(), vec![3.0, 2.0, 0.0]);
}

#[test]
fn permuted_relabels_nodes() {
    let g = crate::graph(3, &[(0, 1, 2.0), (1, 2, 3.0)]);
    let p = g.permuted(&[2, 0, 1]);
    // Node 0 of p is node 2 of g, node 1 of p is node 0 of g: W′[0, 2] = W[2, 1] = 3.
    assert_eq!(p.weights()[(0, 2)].to_bits(), 3.0f64.to_bits());
    assert_eq!(p.degrees(), vec![3.0, 2.0, 5.0]);
}

#[test]
#[should_panic(expected = "not a permutation")]
fn permuted_panics_on_a_non_permutation() {
    crate::path(3).permuted(&[0, 0, 1]);
}

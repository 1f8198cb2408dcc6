//! Tests of the graph type and its dense view.

use molgraph::{Atom, AtomClass, Bond, BondOrder, Error, MolGraph, parse_smiles};

use crate::fixture;

#[test]
fn dense_view_round_trips_on_the_fixture() {
    for r in fixture() {
        let graph = parse_smiles(&r.smiles).unwrap();
        let dense = graph.to_dense();
        for i in 0..9 {
            assert_eq!(
                dense.one_hot()[i].iter().sum::<f32>() as usize,
                1,
                "line {}",
                r.line
            );
            for j in 0..9 {
                assert_eq!(
                    dense.bond_orders[i][j],
                    graph.bond_order(i, j),
                    "line {}",
                    r.line
                );
            }
        }
        let back = MolGraph::from_dense(&dense).unwrap();
        assert_eq!(
            back.canonical_form(),
            graph.canonical_form(),
            "line {}",
            r.line
        );
        assert_eq!(back.to_dense(), dense);
    }
}

#[test]
fn malformed_graphs_are_errors() {
    let c = Atom::neutral(AtomClass::C);
    let single = |a, b| Bond {
        a,
        b,
        order: BondOrder::Single,
    };
    assert!(matches!(
        MolGraph::new(vec![c; 10], vec![]),
        Err(Error::TooManyAtoms { count: 10, max: 9 })
    ));
    assert!(matches!(
        MolGraph::new(vec![c; 2], vec![single(0, 2)]),
        Err(Error::InvalidGraph { .. })
    ));
    assert!(matches!(
        MolGraph::new(vec![c; 2], vec![single(1, 1)]),
        Err(Error::InvalidGraph { .. })
    ));
    assert!(matches!(
        MolGraph::new(vec![c; 2], vec![single(0, 1), single(1, 0)]),
        Err(Error::InvalidGraph { .. })
    ));
    let mut dense = parse_smiles("CC").unwrap().to_dense();
    dense.bond_orders[0][1] = 4;
    dense.bond_orders[1][0] = 4;
    assert!(matches!(
        MolGraph::from_dense(&dense),
        Err(Error::InvalidGraph { .. })
    ));
    dense.bond_orders[1][0] = 1;
    assert!(matches!(
        MolGraph::from_dense(&dense),
        Err(Error::InvalidGraph { .. })
    ));
}

#[test]
fn implicit_hydrogens_follow_charge_and_bonds() {
    let g = parse_smiles("[O-]C(=O)C[NH3+]").unwrap();
    let h: Vec<u8> = (0..g.n_atoms()).map(|i| g.implicit_hydrogens(i)).collect();
    assert_eq!(h, vec![0, 0, 0, 2, 3]);
}

//! Tests of graph validity: RDKit parity on the fixture's perturbed graphs and the failure
//! reasons.

use molgraph::{Atom, AtomClass, InvalidReason, MAX_ATOMS, MolGraph, Validity, parse_smiles};

use crate::fixture;

/// Applies one fixture perturbation (`b i j o` or `a i X`) to a ghost-padded graph.
fn perturb(graph: &mut MolGraph, op: &str) {
    let b = op.as_bytes();
    let idx = |k: usize| usize::from(b[k] - b'0');
    match b[0] {
        b'b' => graph.set_bond_order(idx(1), idx(2), b[3] - b'0').unwrap(),
        b'a' => {
            let class = match b[2] {
                b'C' => AtomClass::C,
                b'O' => AtomClass::O,
                b'N' => AtomClass::N,
                b'F' => AtomClass::F,
                _ => AtomClass::Ghost,
            };
            graph.set_atom(idx(1), Atom::neutral(class)).unwrap();
        }
        other => panic!("unknown perturbation {}", other as char),
    }
}

#[test]
fn validity_matches_rdkit_on_every_fixture_graph() {
    let records = fixture();
    let mut n_checked = 0;
    let mut n_valid = 0;
    let mut failures = Vec::new();
    for r in &records {
        let padded = MolGraph::from_dense(&r.graph().to_dense()).unwrap();
        assert_eq!(padded.n_atoms(), MAX_ATOMS);
        if padded.validity() != Validity::Valid {
            failures.push(format!(
                "line {} {}: unperturbed graph {:?}",
                r.line,
                r.smiles,
                padded.validity()
            ));
        }
        for (op, rdkit_valid) in &r.perturbed {
            let mut graph = padded.clone();
            perturb(&mut graph, op);
            let ours = graph.validity();
            n_checked += 1;
            n_valid += usize::from(*rdkit_valid);
            if ours.is_valid() != *rdkit_valid {
                failures.push(format!(
                    "line {} {} {op}: ours {ours:?}, rdkit valid = {rdkit_valid}",
                    r.line, r.smiles
                ));
            }
        }
    }
    println!(
        "validity: {} perturbed graphs ({n_valid} valid by RDKit), {} disagreements",
        n_checked,
        failures.len()
    );
    assert!(
        n_valid > n_checked / 5 && n_valid < n_checked * 4 / 5,
        "fixture too one-sided"
    );
    assert!(
        failures.is_empty(),
        "validity mismatches:\n{}",
        failures.join("\n")
    );
}

#[track_caller]
fn check(smiles: &str, expected: Validity) {
    assert_eq!(
        parse_smiles(smiles).unwrap().validity(),
        expected,
        "{smiles}"
    );
}

#[test]
fn reasons_name_the_failing_rule() {
    check("CCO", Validity::Valid);
    // Regression-style cases of digest §8.1: 5-valent N is cleaned up, not rejected.
    check("CN(=O)=O", Validity::Valid);
    check("N#N=C", Validity::Valid);
    check(
        "CO(C)C",
        Validity::Invalid(InvalidReason::Valence {
            atom: 1,
            class: AtomClass::O,
            charge: 0,
            valence: 3,
            max: 2,
        }),
    );
    check(
        "C=N(C)=C",
        Validity::Invalid(InvalidReason::Valence {
            atom: 1,
            class: AtomClass::N,
            charge: 0,
            valence: 5,
            max: 3,
        }),
    );
    let mut split = parse_smiles("CCO").unwrap();
    split.set_bond_order(1, 2, 0).unwrap();
    assert_eq!(
        split.validity(),
        Validity::Invalid(InvalidReason::Disconnected { n_components: 2 })
    );
    let mut ghost = MolGraph::from_dense(&parse_smiles("CC").unwrap().to_dense()).unwrap();
    assert_eq!(ghost.validity(), Validity::Valid);
    ghost.set_bond_order(1, 5, 1).unwrap();
    assert_eq!(
        ghost.validity(),
        Validity::Invalid(InvalidReason::GhostBonded { atom: 5 })
    );
    let empty = MolGraph::new(vec![Atom::neutral(AtomClass::Ghost); 9], Vec::new()).unwrap();
    assert_eq!(empty.validity(), Validity::Invalid(InvalidReason::Empty));
}

//! Tests of the exact canonical form: RDKit identity on the fixture, graphs that
//! Weisfeiler–Lehman refinement cannot tell apart, and invariance under relabelling.

use std::collections::HashMap;

use molgraph::{Atom, AtomClass, Bond, BondOrder, CanonicalForm, MolGraph, parse_smiles};
use proptest::prelude::*;

use crate::fixture;

#[test]
fn equal_rdkit_canonical_smiles_iff_equal_canonical_forms() {
    let records = fixture();
    let mut by_form: HashMap<CanonicalForm, &str> = HashMap::new();
    let mut by_smiles: HashMap<&str, CanonicalForm> = HashMap::new();
    // Each molecule enters twice: from its QM9 Kekulé SMILES and from RDKit's aromatic
    // canonical SMILES (a different string and atom order for the same molecule).
    for r in &records {
        for input in [&r.smiles, &r.canonical] {
            let form = parse_smiles(input).unwrap().aromatic_canonical_form();
            if let Some(other) = by_form.insert(form.clone(), &r.canonical) {
                assert_eq!(
                    other, r.canonical,
                    "line {}: one form, two RDKit SMILES",
                    r.line
                );
            }
            if let Some(other) = by_smiles.insert(&r.canonical, form.clone()) {
                assert_eq!(other, form, "line {}: one RDKit SMILES, two forms", r.line);
            }
        }
    }
    println!(
        "canonical: {} records, {} distinct forms",
        records.len(),
        by_form.len()
    );
    assert_eq!(by_form.len(), by_smiles.len());
}

/// A carbon skeleton with single bonds.
fn skeleton(n: usize, edges: &[(usize, usize)]) -> MolGraph {
    let atoms = vec![Atom::neutral(AtomClass::C); n];
    let bonds = edges
        .iter()
        .map(|&(a, b)| Bond {
            a,
            b,
            order: BondOrder::Single,
        })
        .collect();
    MolGraph::new(atoms, bonds).unwrap()
}

#[track_caller]
fn check_distinct(a: &MolGraph, b: &MolGraph) {
    assert_ne!(a.canonical_form(), b.canonical_form());
}

#[test]
fn regular_graphs_that_refinement_cannot_split_are_told_apart() {
    // 2-regular on 6 vertices: a hexagon vs two triangles (digest §8.2).
    let hexagon = skeleton(6, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)]);
    let triangles = skeleton(6, &[(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]);
    check_distinct(&hexagon, &triangles);
    // 3-regular on 8 vertices: the cube vs the Wagner graph (Möbius ladder, 8-cycle plus the
    // four long diagonals); colour refinement gives every vertex the same colour in both.
    let cube = skeleton(
        8,
        &[
            (0, 1),
            (1, 2),
            (2, 3),
            (3, 0),
            (4, 5),
            (5, 6),
            (6, 7),
            (7, 4),
            (0, 4),
            (1, 5),
            (2, 6),
            (3, 7),
        ],
    );
    let wagner = skeleton(
        8,
        &[
            (0, 1),
            (1, 2),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 6),
            (6, 7),
            (7, 0),
            (0, 4),
            (1, 5),
            (2, 6),
            (3, 7),
        ],
    );
    check_distinct(&cube, &wagner);
    // And a third 3-regular 8-vertex graph: two K4s.
    let two_k4 = skeleton(
        8,
        &[
            (0, 1),
            (0, 2),
            (0, 3),
            (1, 2),
            (1, 3),
            (2, 3),
            (4, 5),
            (4, 6),
            (4, 7),
            (5, 6),
            (5, 7),
            (6, 7),
        ],
    );
    check_distinct(&cube, &two_k4);
    check_distinct(&wagner, &two_k4);
    // The cube relabelled is still the cube.
    let perm = [3, 7, 0, 5, 1, 6, 2, 4];
    assert_eq!(
        relabel(&cube, &perm).canonical_form(),
        cube.canonical_form()
    );
}

#[test]
fn graphs_with_many_interchangeable_nodes_are_canonicalised() {
    // Nine isolated carbons: 9! leaves without twin pruning; one with it.
    let isolated = skeleton(9, &[]);
    let form = isolated.canonical_form();
    assert_eq!(form.atoms().len(), 9);
    assert!(form.bond_labels().iter().all(|&b| b == 0));
    // Twins must not hide a real difference: a 4-star vs a 4-path plus isolated atoms.
    let star = skeleton(9, &[(0, 1), (0, 2), (0, 3), (0, 4)]);
    let path = skeleton(9, &[(0, 1), (1, 2), (2, 3), (3, 4)]);
    check_distinct(&star, &path);
    let perm = [8, 7, 6, 5, 4, 3, 2, 1, 0];
    assert_eq!(
        relabel(&star, &perm).canonical_form(),
        star.canonical_form()
    );
}

#[test]
fn padding_ghosts_do_not_change_the_form() {
    let graph = parse_smiles("CC(=O)N").unwrap();
    let padded = MolGraph::from_dense(&graph.to_dense()).unwrap();
    assert_eq!(graph.canonical_form(), padded.canonical_form());
    let charged = parse_smiles("CC(=O)[O-]").unwrap();
    let neutral = parse_smiles("CC(=O)O").unwrap();
    assert_ne!(charged.canonical_form(), neutral.canonical_form());
}

/// The graph with node `i` moved to position `perm[i]`, bonds listed in a shuffled order.
fn relabel(graph: &MolGraph, perm: &[usize]) -> MolGraph {
    let mut atoms = vec![Atom::neutral(AtomClass::C); graph.n_atoms()];
    for (i, atom) in graph.atoms().iter().enumerate() {
        atoms[perm[i]] = *atom;
    }
    let mut bonds: Vec<Bond> = graph
        .bonds()
        .iter()
        .map(|b| Bond {
            a: perm[b.b],
            b: perm[b.a],
            order: b.order,
        })
        .collect();
    bonds.reverse();
    MolGraph::new(atoms, bonds).unwrap()
}

proptest! {
    #[test]
    fn relabelling_keeps_the_form(idx in 0usize..2072, seed in any::<u64>()) {
        let records = fixture();
        let graph = parse_smiles(&records[idx % records.len()].smiles).unwrap();
        let n = graph.n_atoms();
        // Fisher–Yates with a small LCG driven by the proptest seed.
        let mut perm: Vec<usize> = (0..n).collect();
        let mut state = seed;
        for i in (1..n).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (state >> 33) as usize % (i + 1);
            perm.swap(i, j);
        }
        let moved = relabel(&graph, &perm);
        prop_assert_eq!(moved.canonical_form(), graph.canonical_form());
        prop_assert_eq!(moved.aromatic_canonical_form(), graph.aromatic_canonical_form());
        prop_assert_eq!(moved.to_smiles().unwrap(), graph.to_smiles().unwrap());
    }

    #[test]
    fn random_regular_relabellings_of_the_wagner_graph(seed in any::<u64>()) {
        let wagner = skeleton(
            8,
            &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 0), (0, 4), (1, 5), (2, 6), (3, 7)],
        );
        let mut perm: Vec<usize> = (0..8).collect();
        let mut state = seed;
        for i in (1..8).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (state >> 33) as usize % (i + 1);
            perm.swap(i, j);
        }
        prop_assert_eq!(relabel(&wagner, &perm).canonical_form(), wagner.canonical_form());
    }
}

/// Brute-force labelled isomorphism (all permutations; for small graphs only).
fn isomorphic(a: &MolGraph, b: &MolGraph) -> bool {
    let n = a.n_atoms();
    if n != b.n_atoms() || a.bonds().len() != b.bonds().len() {
        return false;
    }
    let mut perm: Vec<usize> = (0..n).collect();
    permutations(&mut perm, 0, &mut |p| {
        (0..n).all(|i| a.atoms()[i] == b.atoms()[p[i]])
            && (0..n).all(|i| (0..n).all(|j| a.bond_order(i, j) == b.bond_order(p[i], p[j])))
    })
}

fn permutations(perm: &mut Vec<usize>, k: usize, test: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    if k == perm.len() {
        return test(perm);
    }
    for i in k..perm.len() {
        perm.swap(k, i);
        if permutations(perm, k + 1, test) {
            perm.swap(k, i);
            return true;
        }
        perm.swap(k, i);
    }
    false
}

/// A random small labelled graph from proptest-drawn bits.
fn random_graph(n: usize, labels: &[u8], edges: &[u8]) -> MolGraph {
    let atoms = (0..n)
        .map(|i| {
            Atom::neutral(if labels[i].is_multiple_of(4) {
                AtomClass::N
            } else {
                AtomClass::C
            })
        })
        .collect();
    let mut bonds = Vec::new();
    let mut k = 0;
    for i in 0..n {
        for j in i + 1..n {
            let e = edges[k % edges.len()];
            k += 1;
            if let Some(order) = BondOrder::from_value(match e % 6 {
                0 | 1 => 1,
                2 => 2,
                _ => 0,
            }) {
                bonds.push(Bond { a: i, b: j, order });
            }
        }
    }
    MolGraph::new(atoms, bonds).unwrap()
}

proptest! {
    #[test]
    fn equal_forms_iff_isomorphic_on_random_small_graphs(
        n in 1usize..=6,
        labels_a in proptest::collection::vec(any::<u8>(), 6),
        labels_b in proptest::collection::vec(any::<u8>(), 6),
        edges_a in proptest::collection::vec(any::<u8>(), 15),
        edges_b in proptest::collection::vec(any::<u8>(), 15),
    ) {
        let a = random_graph(n, &labels_a, &edges_a);
        let b = random_graph(n, &labels_b, &edges_b);
        prop_assert_eq!(a.canonical_form() == b.canonical_form(), isomorphic(&a, &b));
    }
}

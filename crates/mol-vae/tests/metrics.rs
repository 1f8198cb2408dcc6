//! Generation metrics on hand-made samples.

use linalg::testing::{assert_close, tol};
use mol_vae::metrics::{GenerationMetrics, NoveltyReference, PropertySamples};
use molgraph::{AtomClass, DenseGraph, MolGraph, parse_smiles};

use crate::targets;

fn graphs(smiles: &[&str]) -> Vec<MolGraph> {
    smiles.iter().map(|s| parse_smiles(s).unwrap()).collect()
}

#[track_caller]
fn check(train: &[&str], samples: &[DenseGraph]) -> GenerationMetrics {
    GenerationMetrics::compute(samples, &NoveltyReference::new(&graphs(train))).unwrap()
}

#[test]
fn validity_failures_are_split_into_valence_and_connectivity() {
    let mut ghost_bonded = targets(&["CC"])[0];
    ghost_bonded.bond_orders[1][2] = 1;
    ghost_bonded.bond_orders[2][1] = 1;
    let mut disconnected = targets(&["CC"])[0];
    disconnected.classes[3] = AtomClass::O;
    let samples = [
        targets(&["CCO", "C(C)(C)(C)(C)C"]),
        vec![ghost_bonded, disconnected],
    ]
    .concat();
    let m = check(&["CCO"], &samples);
    assert_eq!(m.n_samples, 4);
    assert_eq!(m.n_valid, 1);
    assert_close(m.valence_failure_rate, 0.25, tol::EXACT);
    assert_close(m.connectivity_failure_rate, 0.5, tol::EXACT);
}

#[test]
fn uniqueness_novelty_and_ring_counts() {
    // Two Kekulé structures of the same 9-atom aromatic molecule, a training molecule twice,
    // a 3-ring and a ring triple bond.
    let samples = targets(&[
        "CC1=C(O)C=CC=C1C",
        "CC1C(O)=CC=CC=1C",
        "CCCCCCCCO",
        "CCCCCCCCO",
        "CC1CC1",
        "C1#CCCCCCC1",
    ]);
    let m = check(&["CCCCCCCCO", "Cc1c(O)cccc1C"], &samples);
    assert_eq!(m.n_valid, 6);
    assert_eq!(m.n_unique, 5);
    assert_eq!(m.n_unique_canonical, 4);
    assert_eq!(m.n_three_ring, 1);
    assert_eq!(m.n_ring_triple, 1);
    // Code: the aromatic molecule is "novel" although it is in the training set; only the two
    // copies of the 9-atom chain are recognised.
    assert_close(m.novelty_code, 4.0 / 6.0, tol::EXACT);
    // Corrected: the chain and both Kekulé forms are known.
    assert_close(m.novelty_canonical, 2.0 / 6.0, tol::EXACT);
    assert_eq!(m.properties.mol_wt.len(), 5);
}

#[test]
fn property_samples_give_histograms_and_wasserstein_distances() {
    let a = PropertySamples::of_graphs(&graphs(&["CCO", "CCCO"]));
    let b = PropertySamples::of_graphs(&graphs(&["CCCO", "CCO"]));
    for d in a.wasserstein_to(&b).unwrap() {
        assert_close(d, 0.0, tol::EXACT);
    }
    let h = a.histograms(mol_vae::metrics::UQ_BINS).unwrap();
    assert_eq!(h[1].n_inside(), 2);
}

//! RDKit-compatible descriptors of a heavy-atom graph: MolWt, TPSA (Ertl 2000) and Crippen
//! LogP (Wildman & Crippen 1999), the three properties GSVAE reports (digest molecular.md §1,
//! §8.4).
//!
//! All three see the graph after the 5-valent N clean-up ([`MolGraph::cleaned_up`]), as RDKit's
//! sanitised molecule does, and TPSA and LogP use RDKit's aromaticity model. They are meant for
//! valid graphs ([`MolGraph::validity`]); isolated ghost nodes contribute nothing.

mod crippen;
mod tpsa;

use serde::{Deserialize, Serialize};

use crate::{MolGraph, aromaticity, atom::HYDROGEN_WEIGHT, rings};

/// The three GSVAE properties of one molecule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Descriptors {
    /// Average molecular weight in g/mol ([`mol_wt`]).
    pub mol_wt: f64,
    /// Topological polar surface area in Å² ([`tpsa`]).
    pub tpsa: f64,
    /// Wildman–Crippen LogP ([`crippen_logp`]).
    pub logp: f64,
}

/// All three descriptors, sharing one ring and aromaticity perception.
///
/// # Example
/// ```
/// let ethanol = molgraph::parse_smiles("CCO").unwrap();
/// let d = molgraph::descriptors::all(&ethanol);
/// assert!((d.mol_wt - 46.069).abs() < 1e-3);
/// assert!((d.tpsa - 20.23).abs() < 1e-9);
/// assert!((d.logp - -0.0014).abs() < 1e-4);
/// ```
pub fn all(graph: &MolGraph) -> Descriptors {
    let cleaned = graph.cleaned_up();
    let rings = rings::find_rings(&cleaned);
    let aromatic = aromaticity::perceive_with(&cleaned, &rings);
    Descriptors {
        mol_wt: mol_wt(&cleaned),
        tpsa: tpsa::tpsa(&cleaned, &rings, &aromatic),
        logp: crippen::logp(&cleaned, &aromatic),
    }
}

/// Average molecular weight, heavy atoms plus implicit hydrogens, with RDKit's atomic weights
/// (H 1.008, C 12.011, N 14.007, O 15.999, F 18.998; digest §8.4).
///
/// ```text
/// MolWt = Σᵢ (w(elementᵢ) + hᵢ · w(H))      [digest §8.4]
/// ```
///
/// # Example
/// ```
/// let methane = molgraph::parse_smiles("C").unwrap();
/// assert!((molgraph::descriptors::mol_wt(&methane) - 16.043).abs() < 1e-9);
/// ```
pub fn mol_wt(graph: &MolGraph) -> f64 {
    (0..graph.n_atoms())
        .filter(|&i| !graph.atoms()[i].class.is_ghost())
        .map(|i| {
            graph.atoms()[i].atomic_weight()
                + f64::from(graph.implicit_hydrogens(i)) * HYDROGEN_WEIGHT
        })
        .sum()
}

/// Topological polar surface area: the sum of Ertl's N and O fragment contributions (RDKit's
/// default, without S and P), by each atom's heavy neighbours, hydrogens, charge, bond types
/// (aromatic bonds by RDKit's model) and 3-ring membership.
///
/// ```text
/// TPSA = Σ_{i ∈ N, O} contribution(environment of i)      [Ertl 2000, Table 1]
/// ```
///
/// # Example
/// ```
/// let pyridine = molgraph::parse_smiles("c1ccncc1").unwrap();
/// assert!((molgraph::descriptors::tpsa(&pyridine) - 12.89).abs() < 1e-9);
/// ```
pub fn tpsa(graph: &MolGraph) -> f64 {
    all(graph).tpsa
}

/// Wildman–Crippen LogP: the sum of per-atom contributions (hydrogens included) of the 1999
/// atom types, assigned by hand-coded rules equivalent to RDKit's ordered SMARTS table
/// (`Crippen.txt`) for C/N/O/F/H chemistry (first matching type wins).
///
/// ```text
/// LogP = Σ_{atoms a, H included} logP(type(a))      [Wildman & Crippen 1999, Table 1]
/// ```
///
/// # Example
/// ```
/// let benzene = molgraph::parse_smiles("c1ccccc1").unwrap();
/// assert!((molgraph::descriptors::crippen_logp(&benzene) - 1.6866).abs() < 1e-4);
/// ```
pub fn crippen_logp(graph: &MolGraph) -> f64 {
    all(graph).logp
}

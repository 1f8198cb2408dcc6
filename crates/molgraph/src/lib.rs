//! Molecular graphs for QM9-sized molecules (paper C, GSVAE; digest `molecular.md` §1, §8).
//!
//! Layer: chemistry only, depends on nothing but serde; it knows nothing of learning. The
//! VAE (`mol-vae`) decodes [`DenseGraph`]s and asks this crate whether they are molecules
//! ([`MolGraph::validity`]), which of them are the same ([`CanonicalForm`]), and what their
//! properties are ([`descriptors`]).
//!
//! Entry points:
//! - [`parse_smiles`]: QM9 SMILES → [`MolGraph`], a heavy-atom graph of at most 9 nodes with
//!   implicit hydrogens, node classes in the paper's order `[C, O, N, F, ghost]`
//!   ([`AtomClass`]), Kekulé bond orders 1/2/3 (aromatic input is kekulised by a perfect
//!   matching) and formal charges;
//! - [`MolGraph::validity`]: the GSVAE code's validity filter as an exact graph rule,
//!   including RDKit's 5-valent N clean-up, with the failing rule ([`InvalidReason`]);
//! - [`admit_smiles`] / [`MolGraph::admissibility`]: the one gate every SMILES passes before it
//!   becomes training or reference data (RDKit-sanitisable, C/N/O/F, ≤ 9 heavy atoms, one
//!   fragment, no charges), with a typed [`Rejection`] and a [`Tally`] of verdicts;
//! - [`MolGraph::canonical_form`] / [`MolGraph::aromatic_canonical_form`]: exact canonical
//!   forms for uniqueness and novelty (individualisation–refinement, not a WL hash);
//! - [`MolGraph::to_smiles`]: a canonical Kekulé SMILES writer that the parser reads back;
//! - [`MolGraph::to_dense`] / [`MolGraph::from_dense`]: the 9×9 bond-order matrix and one-hot
//!   view the VAE uses;
//! - [`descriptors`]: MolWt, TPSA and Crippen LogP, matching RDKit (tested on a committed
//!   fixture of 2,072 QM9 molecules).
//!
//! The central design decision: no cheminformatics crate. The QM9 subset (C, N, O, F, at most 9
//! heavy atoms) is small enough that a hand-written parser, a matching-based kekuliser, RDKit's
//! aromaticity model and hand-coded Crippen/TPSA atom typing are shorter than adapting a general
//! toolkit, and each piece is checked against RDKit itself rather than against a crate that
//! approximates it (`rust-stack.md` §4: smiles-rs accepts 5-valent C, chematic misses
//! `c1cccc1` unless asked, none reproduces the GSVAE validity rule).
//!
//! ```
//! use molgraph::{Validity, parse_smiles};
//!
//! let graph = parse_smiles("OC1=CC=CC=C1").unwrap();
//! assert_eq!(graph.validity(), Validity::Valid);
//! let same = parse_smiles("c1ccc(O)cc1").unwrap();
//! assert_eq!(graph.aromatic_canonical_form(), same.aromatic_canonical_form());
//! let d = molgraph::descriptors::all(&graph);
//! assert!((d.tpsa - 20.23).abs() < 1e-9);
//! ```

mod admission;
mod aromaticity;
mod atom;
mod canonical;
pub mod descriptors;
mod error;
mod graph;
mod kekule;
mod rings;
mod smiles;
mod validity;

pub use crate::{
    admission::{
        Admitted, LineVerdict, Rejection, RejectionKind, Tally, admit_smiles, check_smiles_lines,
    },
    atom::{Atom, AtomClass},
    canonical::CanonicalForm,
    error::{Error, Result, SmilesErrorKind},
    graph::{Bond, BondOrder, DenseGraph, MAX_ATOMS, MolGraph},
    smiles::parse_smiles,
    validity::{InvalidReason, Validity},
};

//! Integration tests of `molgraph`: modules mirror `src/`, and the RDKit parity fixture
//! (`fixtures/qm9_rdkit.csv`, made by `fixtures/make_fixture.py`) is loaded here.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod admission;
mod canonical;
mod descriptors;
mod graph;
mod smiles;
mod validity;

use molgraph::{Atom, AtomClass, Bond, BondOrder, MolGraph};

/// One row of the RDKit parity fixture.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// 1-based line number in the CSV (header = line 1).
    pub(crate) line: usize,
    pub(crate) smiles: String,
    pub(crate) atoms: Vec<Atom>,
    /// (i, j, Kekulé order, RDKit-aromatic).
    pub(crate) bonds: Vec<(usize, usize, u8, bool)>,
    pub(crate) canonical: String,
    /// (op, RDKit validity).
    pub(crate) perturbed: Vec<(String, bool)>,
    pub(crate) mol_wt: f64,
    pub(crate) tpsa: f64,
    pub(crate) logp: f64,
}

impl Record {
    /// The fixture's graph: RDKit's atoms and Kekulé bonds.
    pub(crate) fn graph(&self) -> MolGraph {
        let bonds = self
            .bonds
            .iter()
            .map(|&(a, b, o, _)| Bond {
                a,
                b,
                order: BondOrder::from_value(o).unwrap(),
            })
            .collect();
        MolGraph::new(self.atoms.clone(), bonds).unwrap()
    }
}

/// The parity fixture, parsed once per call.
pub(crate) fn fixture() -> Vec<Record> {
    let text = include_str!("fixtures/qm9_rdkit.csv");
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().unwrap();
    assert_eq!(
        header,
        "smiles,atoms,bonds,canonical,perturbed,mol_wt,tpsa,logp"
    );
    lines
        .map(|(idx, line)| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 8, "line {}: {line}", idx + 1);
            let mut atoms = Vec::new();
            for ch in f[1].chars() {
                match ch {
                    '+' => atoms.last_mut().map(|a: &mut Atom| a.charge = 1).unwrap(),
                    '-' => atoms.last_mut().map(|a: &mut Atom| a.charge = -1).unwrap(),
                    c => atoms.push(Atom::neutral(match c {
                        'C' => AtomClass::C,
                        'O' => AtomClass::O,
                        'N' => AtomClass::N,
                        'F' => AtomClass::F,
                        other => panic!("line {}: unexpected atom {other}", idx + 1),
                    })),
                }
            }
            let digits: Vec<u8> = f[2].bytes().map(|b| b - b'0').collect();
            let bonds = digits
                .chunks(3)
                .map(|c| {
                    let aromatic = c[2] > 3;
                    (
                        usize::from(c[0]),
                        usize::from(c[1]),
                        if aromatic { c[2] - 3 } else { c[2] },
                        aromatic,
                    )
                })
                .collect();
            let perturbed = if f[4].is_empty() {
                Vec::new()
            } else {
                f[4].split(';')
                    .map(|p| {
                        let (op, valid) = p.split_once(':').unwrap();
                        (op.to_string(), valid == "1")
                    })
                    .collect()
            };
            Record {
                line: idx + 1,
                smiles: f[0].to_string(),
                atoms,
                bonds,
                canonical: f[3].to_string(),
                perturbed,
                mol_wt: f[5].parse().unwrap(),
                tpsa: f[6].parse().unwrap(),
                logp: f[7].parse().unwrap(),
            }
        })
        .collect()
}

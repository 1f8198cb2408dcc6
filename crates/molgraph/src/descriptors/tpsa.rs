//! Ertl's TPSA contributions for N and O (RDKit's default table, no S or P).

use crate::{AtomClass, MolGraph, aromaticity::Aromaticity, rings::Rings};

/// TPSA of a cleaned-up graph with its rings and aromaticity.
pub(super) fn tpsa(graph: &MolGraph, rings: &Rings, aromatic: &Aromaticity) -> f64 {
    (0..graph.n_atoms())
        .map(|i| contribution(graph, rings, aromatic, i))
        .sum()
}

/// Bond-type counts of one atom.
#[derive(Default)]
struct Counts {
    single: u8,
    double: u8,
    triple: u8,
    aromatic: u8,
}

fn contribution(graph: &MolGraph, rings: &Rings, aromatic: &Aromaticity, i: usize) -> f64 {
    let atom = graph.atoms()[i];
    if atom.class != AtomClass::N && atom.class != AtomClass::O {
        return 0.0;
    }
    let mut c = Counts::default();
    for (idx, bond) in graph.bonds().iter().enumerate() {
        if bond.a != i && bond.b != i {
            continue;
        }
        if aromatic.bonds[idx] {
            c.aromatic += 1;
        } else {
            match bond.order.value() {
                1 => c.single += 1,
                2 => c.double += 1,
                _ => c.triple += 1,
            }
        }
    }
    let nbrs = graph.degree(i);
    let h = graph.implicit_hydrogens(i);
    let q = atom.charge;
    let in3 = rings.atom_in_ring_of_size(i, 3);
    let table = if atom.class == AtomClass::N {
        nitrogen(nbrs, h, q, &c, in3)
    } else {
        oxygen(nbrs, h, q, &c, in3)
    };
    table.unwrap_or_else(|| {
        // Atoms outside Ertl's table: RDKit's fallback estimate.
        let (base, per_nbr) = if atom.class == AtomClass::N {
            (30.5, 8.2)
        } else {
            (28.5, 8.6)
        };
        (base - per_nbr * nbrs as f64 + 1.5 * f64::from(h)).max(0.0)
    })
}

fn nitrogen(nbrs: usize, h: u8, q: i8, c: &Counts, in3: bool) -> Option<f64> {
    let v = match (nbrs, h, q) {
        (1, 0, 0) if c.triple == 1 => 23.79,
        (1, 1, 0) if c.double == 1 => 23.85,
        (1, 2, 0) if c.single == 1 => 26.02,
        (1, 2, 1) if c.double == 1 => 25.59,
        (1, 3, 1) if c.single == 1 => 27.64,
        (2, 0, 0) if c.single == 1 && c.double == 1 => 12.36,
        (2, 0, 0) if c.triple == 1 && c.double == 1 => 13.60,
        (2, 1, 0) if c.single == 2 => {
            if in3 {
                21.94
            } else {
                12.03
            }
        }
        (2, 0, 1) if c.triple == 1 && c.single == 1 => 4.36,
        (2, 1, 1) if c.double == 1 && c.single == 1 => 13.97,
        (2, 2, 1) if c.single == 2 => 16.61,
        (2, 0, 0) if c.aromatic == 2 => 12.89,
        (2, 1, 0) if c.aromatic == 2 => 15.79,
        (2, 1, 1) if c.aromatic == 2 => 14.14,
        (3, 0, 0) if c.single == 3 => {
            if in3 {
                3.01
            } else {
                3.24
            }
        }
        (3, 0, 0) if c.single == 1 && c.double == 2 => 11.68,
        (3, 0, 1) if c.single == 2 && c.double == 1 => 3.01,
        (3, 1, 1) if c.single == 3 => 4.44,
        (3, 0, 0) if c.aromatic == 3 => 4.41,
        (3, 0, 0) if c.single == 1 && c.aromatic == 2 => 4.93,
        (3, 0, 0) if c.double == 1 && c.aromatic == 2 => 8.39,
        (3, 0, 1) if c.aromatic == 3 => 4.10,
        (3, 0, 1) if c.single == 1 && c.aromatic == 2 => 3.88,
        (4, 0, 1) if c.single == 4 => 0.00,
        _ => return None,
    };
    Some(v)
}

fn oxygen(nbrs: usize, h: u8, q: i8, c: &Counts, in3: bool) -> Option<f64> {
    let v = match (nbrs, h, q) {
        (1, 0, 0) if c.double == 1 => 17.07,
        (1, 1, 0) if c.single == 1 => 20.23,
        (1, 0, -1) if c.single == 1 => 23.06,
        (2, 0, 0) if c.single == 2 => {
            if in3 {
                12.53
            } else {
                9.23
            }
        }
        (2, 0, 0) if c.aromatic == 2 => 13.14,
        _ => return None,
    };
    Some(v)
}

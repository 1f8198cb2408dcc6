//! Aromaticity perception following RDKit's default model, as its documentation and source
//! describe it: ring atoms are classed as π-electron donors, candidate rings (all atoms
//! candidates) are grouped into fused systems (rings sharing one bond), and every connected
//! combination of up to 6 rings of a system is tested with Hückel's 4n + 2 rule. Needed for TPSA
//! and Crippen atom typing and for the aromatic canonical form.

use crate::{
    AtomClass, MolGraph,
    rings::{self, Rings},
};

/// Aromatic flags per atom and per bond (indices of `MolGraph::atoms`/`bonds`).
#[derive(Debug, Clone)]
pub(crate) struct Aromaticity {
    pub(crate) atoms: Vec<bool>,
    pub(crate) bonds: Vec<bool>,
}

/// π-electron donor class of a ring atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Donor {
    /// Empty p orbital: contributes 0 electrons.
    Vacant,
    /// Contributes 1 electron.
    One,
    /// Contributes 2 electrons (a lone pair).
    Two,
    /// Cannot take part in an aromatic ring.
    None,
}

impl Donor {
    fn electrons(self) -> i32 {
        match self {
            Donor::One => 1,
            Donor::Two => 2,
            Donor::Vacant | Donor::None => 0,
        }
    }
}

/// Perceives aromaticity of a (cleaned-up) Kekulé graph.
pub(crate) fn perceive(graph: &MolGraph) -> Aromaticity {
    let rings = rings::find_rings(graph);
    perceive_with(graph, &rings)
}

/// Same as [`perceive`] with rings already found.
pub(crate) fn perceive_with(graph: &MolGraph, rings: &Rings) -> Aromaticity {
    let n = graph.n_atoms();
    let donors: Vec<Donor> = (0..n).map(|i| donor_type(graph, rings, i)).collect();
    let candidate: Vec<bool> = (0..n).map(|i| is_candidate(graph, i, donors[i])).collect();
    // Deviation: RDKit 2026.09 does not make an O lone-pair donor aromatic in a ring of more
    // than 7 atoms (measured: oxonin `O1C=CC=CC=CC=C1` and its aza analogues, the only such
    // QM9 rings, are not aromatic although Hückel's rule holds, while azonine and O in the
    // 6-ring of a fused 10-electron system are). The rule below reproduces that measurement;
    // the documented model does not state it.
    let large_ring_with_o = |r: &rings::Ring| {
        r.atoms.len() > 7
            && r.atoms
                .iter()
                .any(|&a| graph.atoms()[a].class == AtomClass::O && donors[a] == Donor::Two)
    };
    let cand_rings: Vec<&rings::Ring> = rings
        .rings
        .iter()
        .filter(|r| r.atoms.iter().all(|&a| candidate[a]) && !large_ring_with_o(r))
        .collect();
    let mut result = Aromaticity {
        atoms: vec![false; n],
        bonds: vec![false; graph.bonds().len()],
    };
    // Neighbouring candidate rings share exactly one bond.
    let m = cand_rings.len();
    let neighbours: Vec<Vec<bool>> = (0..m)
        .map(|i| {
            (0..m)
                .map(|j| {
                    i != j
                        && cand_rings[i]
                            .bonds
                            .iter()
                            .filter(|b| cand_rings[j].bonds.contains(b))
                            .count()
                            == 1
                })
                .collect()
        })
        .collect();
    let mut system_of = vec![usize::MAX; m];
    let mut n_systems = 0;
    for start in 0..m {
        if system_of[start] != usize::MAX {
            continue;
        }
        system_of[start] = n_systems;
        let mut stack = vec![start];
        while let Some(r) = stack.pop() {
            for s in 0..m {
                if neighbours[r][s] && system_of[s] == usize::MAX {
                    system_of[s] = n_systems;
                    stack.push(s);
                }
            }
        }
        n_systems += 1;
    }
    for system in 0..n_systems {
        let members: Vec<usize> = (0..m).filter(|&r| system_of[r] == system).collect();
        let mut ring_bonds: Vec<usize> = members
            .iter()
            .flat_map(|&r| cand_rings[r].bonds.iter().copied())
            .collect();
        ring_bonds.sort_unstable();
        ring_bonds.dedup();
        let mut done: Vec<usize> = Vec::new();
        let max_size = members.len().min(6);
        for size in 1..=max_size {
            if done.len() >= ring_bonds.len() {
                break;
            }
            for combo in combinations(members.len(), size) {
                let chosen: Vec<usize> = combo.iter().map(|&k| members[k]).collect();
                if !connected(&chosen, &neighbours) {
                    continue;
                }
                let mut atom_count = vec![0usize; n];
                for &r in &chosen {
                    for &a in &cand_rings[r].atoms {
                        atom_count[a] += 1;
                    }
                }
                let counted: Vec<usize> = (0..n)
                    .filter(|&a| atom_count[a] == 1 || atom_count[a] == 2)
                    .collect();
                if !huckel(&counted, &donors) {
                    continue;
                }
                let mut bond_count = vec![0usize; graph.bonds().len()];
                for &r in &chosen {
                    for &a in &cand_rings[r].atoms {
                        result.atoms[a] = true;
                    }
                    for &b in &cand_rings[r].bonds {
                        bond_count[b] += 1;
                    }
                }
                for (b, &count) in bond_count.iter().enumerate() {
                    if count == 1 {
                        result.bonds[b] = true;
                        if !done.contains(&b) {
                            done.push(b);
                        }
                    }
                }
            }
        }
    }
    result
}

/// Hückel's rule on the electron range of the counted atoms.
fn huckel(atoms: &[usize], donors: &[Donor]) -> bool {
    let electrons: i32 = atoms.iter().map(|&a| donors[a].electrons()).sum();
    if electrons >= 6 {
        (electrons - 2) % 4 == 0
    } else {
        electrons == 2
    }
}

/// Whether a set of rings is connected through the one-shared-bond relation.
fn connected(chosen: &[usize], neighbours: &[Vec<bool>]) -> bool {
    let mut reached = vec![false; chosen.len()];
    reached[0] = true;
    let mut stack = vec![0];
    while let Some(k) = stack.pop() {
        for l in 0..chosen.len() {
            if !reached[l] && neighbours[chosen[k]][chosen[l]] {
                reached[l] = true;
                stack.push(l);
            }
        }
    }
    reached.iter().all(|&r| r)
}

/// All `size`-subsets of `0..n`, in lexicographic order.
fn combinations(n: usize, size: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(size);
    fn rec(
        start: usize,
        n: usize,
        size: usize,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if current.len() == size {
            out.push(current.clone());
            return;
        }
        for k in start..n {
            current.push(k);
            rec(k + 1, n, size, current, out);
            current.pop();
        }
    }
    rec(0, n, size, &mut current, &mut out);
    out
}

/// Default valence of the neutral element.
fn default_valence(class: AtomClass) -> i32 {
    match class {
        AtomClass::C => 4,
        AtomClass::N => 3,
        AtomClass::O => 2,
        AtomClass::F | AtomClass::Ghost => 1,
    }
}

/// Electronegativity order used for exocyclic multiple bonds: more valence electrons first,
/// then the lighter element.
fn more_electronegative(a: AtomClass, b: AtomClass) -> bool {
    let (ea, eb) = (a.outer_electrons(), b.outer_electrons());
    ea > eb || (ea == eb && a.atomic_number() < b.atomic_number())
}

/// Electrons atom `i` can give to a π system, or −1 if it cannot take part.
fn count_electrons(graph: &MolGraph, i: usize) -> i32 {
    let atom = graph.atoms()[i];
    let dv = default_valence(atom.class);
    if dv <= 1 {
        return -1;
    }
    let heavy_degree = graph.degree(i) as i32;
    let degree = heavy_degree + i32::from(graph.implicit_hydrogens(i));
    if degree > 3 {
        return -1;
    }
    let lone = (atom.class.outer_electrons() - dv - i32::from(atom.charge)).max(0);
    let mut electrons = dv - degree + lone;
    if electrons > 1 && i32::from(graph.bond_order_sum(i)) - heavy_degree > 1 {
        electrons = 1;
    }
    electrons
}

fn donor_type(graph: &MolGraph, rings: &Rings, i: usize) -> Donor {
    let atom = graph.atoms()[i];
    if atom.class.is_ghost() {
        return Donor::None;
    }
    let electrons = count_electrons(graph, i);
    // First multiple bond not on a ring, and whether a ring multiple bond exists.
    let mut exocyclic: Option<usize> = None;
    let mut cyclic_multiple = false;
    let mut any_multiple = false;
    for (idx, bond) in graph.bonds().iter().enumerate() {
        if bond.a != i && bond.b != i || bond.order.value() < 2 {
            continue;
        }
        any_multiple = true;
        if rings.bond_in_ring[idx] {
            cyclic_multiple = true;
        } else if exocyclic.is_none() {
            exocyclic = Some(bond.other(i));
        }
    }
    let steals = |j: usize| more_electronegative(graph.atoms()[j].class, atom.class);
    match electrons {
        e if e < 0 => Donor::None,
        0 => {
            if exocyclic.is_some() {
                Donor::Vacant
            } else if cyclic_multiple {
                Donor::One
            } else {
                Donor::None
            }
        }
        1 => match exocyclic {
            Some(j) if steals(j) => Donor::Vacant,
            Some(_) => Donor::One,
            None if any_multiple => Donor::One,
            None if atom.charge == 1 => Donor::Vacant,
            None => Donor::None,
        },
        mut e => {
            if exocyclic.is_some_and(steals) {
                e -= 1;
            }
            if e % 2 == 1 { Donor::One } else { Donor::Two }
        }
    }
}

fn is_candidate(graph: &MolGraph, i: usize, donor: Donor) -> bool {
    if donor == Donor::None {
        return false;
    }
    let atom = graph.atoms()[i];
    let total = graph.bond_order_sum(i) + graph.implicit_hydrogens(i);
    if atom.max_valence().is_none_or(|max| total > max) {
        return false;
    }
    let multiple = graph.neighbours(i).filter(|&(_, order)| order >= 2).count();
    multiple <= 1
}

//! Graph validity exactly as the GSVAE code measures it (digest molecular.md §8.1), with the
//! reason for a failure, and RDKit's clean-up of neutral 5-valent nitrogen.

use serde::{Deserialize, Serialize};

use crate::{AtomClass, BondOrder, MolGraph};

/// Outcome of [`MolGraph::validity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Validity {
    /// The graph is a molecule (after the 5-valent N clean-up).
    Valid,
    /// The graph is not a molecule; the first failing rule is given.
    Invalid(InvalidReason),
}

impl Validity {
    /// Whether the graph is valid.
    ///
    /// # Example
    /// ```
    /// assert!(molgraph::parse_smiles("CC=O").unwrap().validity().is_valid());
    /// ```
    pub fn is_valid(&self) -> bool {
        matches!(self, Validity::Valid)
    }
}

/// Why a graph is not a molecule, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvalidReason {
    /// A ghost (padding) node has a bond (rule 1).
    GhostBonded {
        /// The ghost node.
        atom: usize,
    },
    /// There is no heavy atom (rule 2).
    Empty,
    /// The heavy-atom subgraph is not connected (rule 2).
    Disconnected {
        /// Number of connected components of heavy atoms.
        n_components: usize,
    },
    /// A heavy atom's bond-order sum exceeds its allowed valence (rule 4, after rule 3).
    Valence {
        /// The atom.
        atom: usize,
        /// Its class.
        class: AtomClass,
        /// Its formal charge after the clean-up.
        charge: i8,
        /// Its bond-order sum.
        valence: u8,
        /// The allowed maximum, 0 for charges outside B…Ne isoelectronics.
        max: u8,
    },
}

impl MolGraph {
    /// Validity by the GSVAE code's filter, as an exact graph rule (digest §8.1):
    ///
    /// ```text
    /// 1. no ghost node has a bond
    /// 2. at least one heavy atom, and the heavy-atom subgraph is connected
    /// 3. clean-up: neutral N with bond-order sum 5 → [N+]–[O−] / [N+]=[N−]   (cleaned_up)
    /// 4. every heavy atom's bond-order sum ≤ allowed valence
    ///    (C 4, N 3, O 2, F 1, N⁺ 4, O⁻ 1, N⁻ 2; other charges isoelectronically)  [§8.1]
    /// ```
    ///
    /// # Example
    /// ```
    /// use molgraph::{InvalidReason, Validity, parse_smiles};
    /// assert_eq!(parse_smiles("CN(=O)=O").unwrap().validity(), Validity::Valid);
    /// let five_valent_c = parse_smiles("C=C(C)(C)C").unwrap().validity();
    /// assert!(matches!(five_valent_c, Validity::Invalid(InvalidReason::Valence { atom: 1, .. })));
    /// ```
    pub fn validity(&self) -> Validity {
        let n = self.n_atoms();
        for i in 0..n {
            if self.atoms()[i].class.is_ghost() && self.degree(i) > 0 {
                return Validity::Invalid(InvalidReason::GhostBonded { atom: i });
            }
        }
        if self.n_heavy_atoms() == 0 {
            return Validity::Invalid(InvalidReason::Empty);
        }
        let n_components = self.heavy_components();
        if n_components > 1 {
            return Validity::Invalid(InvalidReason::Disconnected { n_components });
        }
        let cleaned = self.cleaned_up();
        for (i, atom) in cleaned.atoms().iter().enumerate() {
            if atom.class.is_ghost() {
                continue;
            }
            // Deviation: digest §8.1 lists the allowed valence of C, N, O, F, N⁺, O⁻ and N⁻
            // only (the GSVAE graphs carry no charges); other charges kept from the input (C⁻,
            // O⁺, …) use the same isoelectronic rule as RDKit (`Atom::max_valence`).
            let valence = cleaned.bond_order_sum(i);
            let max = atom.max_valence().unwrap_or(0);
            if atom.max_valence().is_none() || valence > max {
                return Validity::Invalid(InvalidReason::Valence {
                    atom: i,
                    class: atom.class,
                    charge: atom.charge,
                    valence,
                    max,
                });
            }
        }
        Validity::Valid
    }

    /// RDKit's clean-up of neutral 5-valent N (digest §8.1, rule 3): for each neutral N whose
    /// bond-order sum is exactly 5, the first neighbour (in bond order) that is a neutral O on a
    /// double bond becomes single-bonded with N⁺ and O⁻; failing that, the first neutral N on a
    /// triple bond becomes double-bonded with N⁺ and N⁻. Other graphs are returned unchanged.
    ///
    /// # Example
    /// ```
    /// let nitro = molgraph::parse_smiles("CN(=O)=O").unwrap().cleaned_up();
    /// let charges: Vec<i8> = nitro.atoms().iter().map(|a| a.charge).collect();
    /// assert_eq!(charges, vec![0, 1, -1, 0]);
    /// assert_eq!(nitro.bond_order(1, 2), 1);
    /// ```
    pub fn cleaned_up(&self) -> MolGraph {
        let mut graph = self.clone();
        for i in 0..graph.n_atoms() {
            let atom = graph.atoms()[i];
            if atom.class != AtomClass::N || atom.charge != 0 || graph.bond_order_sum(i) != 5 {
                continue;
            }
            let nbrs: Vec<(usize, usize, u8)> = graph
                .bonds()
                .iter()
                .enumerate()
                .filter(|(_, b)| b.a == i || b.b == i)
                .map(|(idx, b)| (idx, b.other(i), b.order.value()))
                .collect();
            let neutral = |g: &MolGraph, j: usize, class: AtomClass| {
                g.atoms()[j].class == class && g.atoms()[j].charge == 0
            };
            let target = nbrs
                .iter()
                .find(|&&(_, j, o)| o == 2 && neutral(&graph, j, AtomClass::O))
                .map(|&(idx, j, _)| (idx, j, BondOrder::Single))
                .or_else(|| {
                    nbrs.iter()
                        .find(|&&(_, j, o)| o == 3 && neutral(&graph, j, AtomClass::N))
                        .map(|&(idx, j, _)| (idx, j, BondOrder::Double))
                });
            if let Some((bond_idx, j, order)) = target {
                graph.bonds_mut()[bond_idx].order = order;
                graph.atoms_mut()[i].charge = 1;
                graph.atoms_mut()[j].charge = -1;
            }
        }
        graph
    }

    /// Number of connected components among heavy (non-ghost) atoms.
    fn heavy_components(&self) -> usize {
        let n = self.n_atoms();
        let mut component = vec![usize::MAX; n];
        let mut count = 0;
        for start in 0..n {
            if self.atoms()[start].class.is_ghost() || component[start] != usize::MAX {
                continue;
            }
            component[start] = count;
            let mut stack = vec![start];
            while let Some(v) = stack.pop() {
                for (u, _) in self.neighbours(v) {
                    if !self.atoms()[u].class.is_ghost() && component[u] == usize::MAX {
                        component[u] = count;
                        stack.push(u);
                    }
                }
            }
            count += 1;
        }
        count
    }
}

//! The heavy-atom graph with Kekulé bond orders and implicit hydrogens, and its dense 9-node view.

use serde::{Deserialize, Serialize};

use crate::{Atom, AtomClass, Error, Result};

/// Largest number of nodes (heavy atoms plus ghosts) of a QM9 graph (digest molecular.md §1).
pub const MAX_ATOMS: usize = 9;

/// Kekulé bond order. Aromatic input is kekulised, so there is no aromatic order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BondOrder {
    /// Order 1.
    Single,
    /// Order 2.
    Double,
    /// Order 3.
    Triple,
}

impl BondOrder {
    /// The order as a number (1, 2, 3).
    ///
    /// # Example
    /// ```
    /// use molgraph::BondOrder;
    /// assert_eq!(BondOrder::Triple.value(), 3);
    /// ```
    pub fn value(self) -> u8 {
        match self {
            BondOrder::Single => 1,
            BondOrder::Double => 2,
            BondOrder::Triple => 3,
        }
    }

    /// The order for a number 1..=3, `None` otherwise.
    ///
    /// # Example
    /// ```
    /// use molgraph::BondOrder;
    /// assert_eq!(BondOrder::from_value(2), Some(BondOrder::Double));
    /// assert_eq!(BondOrder::from_value(0), None);
    /// ```
    pub fn from_value(value: u8) -> Option<BondOrder> {
        match value {
            1 => Some(BondOrder::Single),
            2 => Some(BondOrder::Double),
            3 => Some(BondOrder::Triple),
            _ => None,
        }
    }
}

/// An undirected bond between nodes `a` and `b` (`a != b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bond {
    /// One end.
    pub a: usize,
    /// The other end.
    pub b: usize,
    /// Kekulé order.
    pub order: BondOrder,
}

impl Bond {
    /// The end that is not `atom` (the bond must touch `atom`).
    pub(crate) fn other(&self, atom: usize) -> usize {
        if self.a == atom { self.b } else { self.a }
    }
}

/// A heavy-atom molecular graph of at most [`MAX_ATOMS`] nodes.
///
/// Hydrogens are implicit: node `i` carries `max(0, allowed − Σ bond orders)` hydrogens, where
/// `allowed` is [`Atom::max_valence`]. Nodes may be ghosts (padding, e.g. decoded by a VAE);
/// [`MolGraph::validity`] says whether the graph is a molecule.
///
/// Invariants (checked by [`MolGraph::new`]): at most 9 nodes, bond ends in range, no self
/// bonds, at most one bond per pair. Bonds keep their insertion order, which fixes the neighbour
/// order used by the 5-valent N clean-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MolGraph {
    atoms: Vec<Atom>,
    bonds: Vec<Bond>,
}

/// The dense view the VAE uses: 9 node classes (ghost-padded) and a symmetric 9×9 matrix of bond
/// orders 0..=3 (digest molecular.md §1, "bond classes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DenseGraph {
    /// Node classes; padding nodes are [`AtomClass::Ghost`].
    pub classes: [AtomClass; MAX_ATOMS],
    /// Formal charges (0 for padding). The GSVAE code drops them; they are kept here.
    pub charges: [i8; MAX_ATOMS],
    /// Symmetric bond-order matrix, 0 = no bond, zero diagonal.
    pub bond_orders: [[u8; MAX_ATOMS]; MAX_ATOMS],
}

impl DenseGraph {
    /// The node one-hots over `[C, O, N, F, ghost]`, one row per node.
    ///
    /// # Example
    /// ```
    /// let dense = molgraph::parse_smiles("CO").unwrap().to_dense();
    /// let one_hot = dense.one_hot();
    /// assert_eq!(one_hot[1], [0.0, 1.0, 0.0, 0.0, 0.0]);
    /// assert_eq!(one_hot[8], [0.0, 0.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn one_hot(&self) -> [[f32; AtomClass::COUNT]; MAX_ATOMS] {
        let mut out = [[0.0; AtomClass::COUNT]; MAX_ATOMS];
        for (row, class) in out.iter_mut().zip(self.classes) {
            row[class.index()] = 1.0;
        }
        out
    }
}

impl MolGraph {
    /// Builds a graph, checking the invariants.
    ///
    /// # Errors
    /// [`Error::TooManyAtoms`] past 9 nodes; [`Error::InvalidGraph`] for a bond end out of
    /// range, a self bond or a repeated pair.
    ///
    /// # Example
    /// ```
    /// use molgraph::{Atom, AtomClass, Bond, BondOrder, MolGraph};
    /// let atoms = vec![Atom::neutral(AtomClass::C), Atom::neutral(AtomClass::O)];
    /// let bonds = vec![Bond { a: 0, b: 1, order: BondOrder::Double }];
    /// let formaldehyde = MolGraph::new(atoms, bonds).unwrap();
    /// assert_eq!(formaldehyde.implicit_hydrogens(0), 2);
    /// ```
    pub fn new(atoms: Vec<Atom>, bonds: Vec<Bond>) -> Result<MolGraph> {
        if atoms.len() > MAX_ATOMS {
            return Err(Error::TooManyAtoms {
                count: atoms.len(),
                max: MAX_ATOMS,
            });
        }
        let mut seen = [[false; MAX_ATOMS]; MAX_ATOMS];
        for (bond_idx, bond) in bonds.iter().enumerate() {
            if bond.a >= atoms.len() || bond.b >= atoms.len() {
                return Err(Error::InvalidGraph {
                    reason: format!(
                        "bond {bond_idx} joins nodes {} and {} but there are {} nodes",
                        bond.a,
                        bond.b,
                        atoms.len()
                    ),
                });
            }
            if bond.a == bond.b {
                return Err(Error::InvalidGraph {
                    reason: format!("bond {bond_idx} joins node {} to itself", bond.a),
                });
            }
            if seen[bond.a][bond.b] {
                return Err(Error::InvalidGraph {
                    reason: format!("nodes {} and {} are bonded twice", bond.a, bond.b),
                });
            }
            seen[bond.a][bond.b] = true;
            seen[bond.b][bond.a] = true;
        }
        Ok(MolGraph { atoms, bonds })
    }

    /// Builds a graph from the dense view, keeping every node (ghosts included) in order.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] if the matrix is not symmetric, has a non-zero diagonal or an
    /// order above 3.
    ///
    /// # Example
    /// ```
    /// let graph = molgraph::parse_smiles("C#N").unwrap();
    /// let back = molgraph::MolGraph::from_dense(&graph.to_dense()).unwrap();
    /// assert_eq!(back.n_atoms(), 9);
    /// assert_eq!(back.bond_order(0, 1), 3);
    /// ```
    pub fn from_dense(dense: &DenseGraph) -> Result<MolGraph> {
        let atoms = (0..MAX_ATOMS)
            .map(|i| Atom {
                class: dense.classes[i],
                charge: dense.charges[i],
            })
            .collect();
        let mut bonds = Vec::new();
        for i in 0..MAX_ATOMS {
            if dense.bond_orders[i][i] != 0 {
                return Err(Error::InvalidGraph {
                    reason: format!("non-zero diagonal at node {i}"),
                });
            }
            for j in i + 1..MAX_ATOMS {
                let order = dense.bond_orders[i][j];
                if order != dense.bond_orders[j][i] {
                    return Err(Error::InvalidGraph {
                        reason: format!("bond matrix not symmetric at ({i}, {j})"),
                    });
                }
                if order == 0 {
                    continue;
                }
                let order = BondOrder::from_value(order).ok_or_else(|| Error::InvalidGraph {
                    reason: format!("bond order {order} at ({i}, {j}) is not 0..=3"),
                })?;
                bonds.push(Bond { a: i, b: j, order });
            }
        }
        MolGraph::new(atoms, bonds)
    }

    /// The dense 9-node view (ghost-padded).
    ///
    /// # Panics
    /// Never: the graph has at most 9 nodes by construction.
    ///
    /// # Example
    /// ```
    /// let dense = molgraph::parse_smiles("C=O").unwrap().to_dense();
    /// assert_eq!(dense.bond_orders[0][1], 2);
    /// assert_eq!(dense.bond_orders[1][0], 2);
    /// assert!(dense.classes[2].is_ghost());
    /// ```
    pub fn to_dense(&self) -> DenseGraph {
        let mut dense = DenseGraph {
            classes: [AtomClass::Ghost; MAX_ATOMS],
            charges: [0; MAX_ATOMS],
            bond_orders: [[0; MAX_ATOMS]; MAX_ATOMS],
        };
        for (i, atom) in self.atoms.iter().enumerate() {
            dense.classes[i] = atom.class;
            dense.charges[i] = atom.charge;
        }
        for bond in &self.bonds {
            dense.bond_orders[bond.a][bond.b] = bond.order.value();
            dense.bond_orders[bond.b][bond.a] = bond.order.value();
        }
        dense
    }

    /// The nodes, in order.
    pub fn atoms(&self) -> &[Atom] {
        &self.atoms
    }

    /// The bonds, in insertion order.
    pub fn bonds(&self) -> &[Bond] {
        &self.bonds
    }

    /// Number of nodes (ghosts included).
    ///
    /// # Example
    /// ```
    /// assert_eq!(molgraph::parse_smiles("CCO").unwrap().n_atoms(), 3);
    /// ```
    pub fn n_atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Number of non-ghost nodes.
    ///
    /// # Example
    /// ```
    /// let dense = molgraph::parse_smiles("CCO").unwrap().to_dense();
    /// assert_eq!(molgraph::MolGraph::from_dense(&dense).unwrap().n_heavy_atoms(), 3);
    /// ```
    pub fn n_heavy_atoms(&self) -> usize {
        self.atoms.iter().filter(|a| !a.class.is_ghost()).count()
    }

    /// Bond order between two nodes, 0 if unbonded (or out of range).
    ///
    /// # Example
    /// ```
    /// let graph = molgraph::parse_smiles("C=CC").unwrap();
    /// assert_eq!((graph.bond_order(1, 0), graph.bond_order(1, 2), graph.bond_order(0, 2)), (2, 1, 0));
    /// ```
    pub fn bond_order(&self, i: usize, j: usize) -> u8 {
        self.bonds
            .iter()
            .find(|b| (b.a == i && b.b == j) || (b.a == j && b.b == i))
            .map_or(0, |b| b.order.value())
    }

    /// Neighbours of node `i` with the bond orders, in bond insertion order.
    ///
    /// # Example
    /// ```
    /// let graph = molgraph::parse_smiles("CC(=O)N").unwrap();
    /// let nbrs: Vec<(usize, u8)> = graph.neighbours(1).collect();
    /// assert_eq!(nbrs, vec![(0, 1), (2, 2), (3, 1)]);
    /// ```
    pub fn neighbours(&self, i: usize) -> impl Iterator<Item = (usize, u8)> + '_ {
        self.bonds
            .iter()
            .filter(move |b| b.a == i || b.b == i)
            .map(move |b| (b.other(i), b.order.value()))
    }

    /// Number of bonds at node `i`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(molgraph::parse_smiles("CC(C)C").unwrap().degree(1), 3);
    /// ```
    pub fn degree(&self, i: usize) -> usize {
        self.neighbours(i).count()
    }

    /// Sum of the bond orders at node `i` (its explicit valence without hydrogens).
    ///
    /// # Example
    /// ```
    /// assert_eq!(molgraph::parse_smiles("C=CC#N").unwrap().bond_order_sum(2), 4);
    /// ```
    pub fn bond_order_sum(&self, i: usize) -> u8 {
        self.neighbours(i).map(|(_, o)| o).sum()
    }

    /// Implicit hydrogens of node `i`: `max(0, allowed − Σ bond orders)`, 0 for a ghost.
    ///
    /// # Example
    /// ```
    /// let graph = molgraph::parse_smiles("C[NH3+]").unwrap();
    /// assert_eq!((graph.implicit_hydrogens(0), graph.implicit_hydrogens(1)), (3, 3));
    /// ```
    pub fn implicit_hydrogens(&self, i: usize) -> u8 {
        let allowed = self.atoms[i].max_valence().unwrap_or(0);
        allowed.saturating_sub(self.bond_order_sum(i))
    }

    /// Sets the order of the bond between `i` and `j` (0 removes it, a missing bond is added at
    /// the end).
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] for a node out of range, `i == j`, or an order above 3.
    ///
    /// # Example
    /// ```
    /// let mut graph = molgraph::parse_smiles("CC").unwrap();
    /// graph.set_bond_order(0, 1, 3).unwrap();
    /// assert_eq!(graph.to_smiles().unwrap(), "C#C");
    /// ```
    pub fn set_bond_order(&mut self, i: usize, j: usize, order: u8) -> Result<()> {
        let n = self.atoms.len();
        if i >= n || j >= n || i == j {
            return Err(Error::InvalidGraph {
                reason: format!("cannot bond nodes {i} and {j} in a graph of {n} nodes"),
            });
        }
        let position = self
            .bonds
            .iter()
            .position(|b| (b.a == i && b.b == j) || (b.a == j && b.b == i));
        match (BondOrder::from_value(order), position) {
            (None, _) if order != 0 => Err(Error::InvalidGraph {
                reason: format!("bond order {order} is not 0..=3"),
            }),
            (None, Some(p)) => {
                self.bonds.remove(p);
                Ok(())
            }
            (None, None) => Ok(()),
            (Some(order), Some(p)) => {
                self.bonds[p].order = order;
                Ok(())
            }
            (Some(order), None) => {
                self.bonds.push(Bond { a: i, b: j, order });
                Ok(())
            }
        }
    }

    /// Replaces node `i`.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] if `i` is out of range.
    ///
    /// # Example
    /// ```
    /// use molgraph::{Atom, AtomClass};
    /// let mut graph = molgraph::parse_smiles("CC").unwrap();
    /// graph.set_atom(1, Atom::neutral(AtomClass::O)).unwrap();
    /// assert_eq!(graph.to_smiles().unwrap(), "CO");
    /// ```
    pub fn set_atom(&mut self, i: usize, atom: Atom) -> Result<()> {
        let n = self.atoms.len();
        let slot = self.atoms.get_mut(i).ok_or_else(|| Error::InvalidGraph {
            reason: format!("node {i} out of range for a graph of {n} nodes"),
        })?;
        *slot = atom;
        Ok(())
    }

    /// Mutable access to the atoms, for crate-internal rewrites that keep the bond invariants.
    pub(crate) fn atoms_mut(&mut self) -> &mut [Atom] {
        &mut self.atoms
    }

    /// Mutable access to the bonds, for crate-internal order changes (ends never change).
    pub(crate) fn bonds_mut(&mut self) -> &mut [Bond] {
        &mut self.bonds
    }
}

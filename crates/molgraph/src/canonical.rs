//! Exact canonical form of a labelled heavy-atom graph, by colour refinement plus
//! individualisation and exhaustive search over the refined cells.
//!
//! Unlike a Weisfeiler–Lehman hash, two graphs get equal forms if and only if they are
//! isomorphic as labelled graphs (node labels: class and charge; edge labels: bond order), also
//! for regular graphs that refinement alone cannot split (digest molecular.md §8.2). The search
//! visits every leaf of the individualisation–refinement tree (pruning only exchangeable twin
//! nodes) and keeps the smallest certificate; with at most 9 nodes this is cheap.

use serde::{Deserialize, Serialize};

use crate::{Atom, MAX_ATOMS, MolGraph, aromaticity};

/// Canonical form of a labelled graph: node labels and the upper triangle of the bond-label
/// matrix, both in canonical node order. Isolated ghost nodes are left out.
///
/// Two graphs have equal forms if and only if they are isomorphic. Bond labels are the Kekulé
/// orders 1..=3 for [`MolGraph::canonical_form`]; [`MolGraph::aromatic_canonical_form`] uses 4
/// for aromatic bonds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CanonicalForm {
    atoms: Vec<(Atom, u8)>,
    bonds: Vec<u8>,
}

impl CanonicalForm {
    /// Node labels in canonical order: the atom and its implicit hydrogen count (implied by the
    /// Kekulé orders, but needed once aromatic bonds are labelled 4: it tells tautomers such as
    /// `Cc1[nH]ncc1` and `Cc1n[nH]cc1` apart).
    pub fn atoms(&self) -> &[(Atom, u8)] {
        &self.atoms
    }

    /// Upper triangle (row-major, `i < j`) of the bond-label matrix in canonical order.
    pub fn bond_labels(&self) -> &[u8] {
        &self.bonds
    }
}

impl MolGraph {
    /// The canonical form over Kekulé bond orders (ghost nodes without bonds are dropped, so a
    /// padded and an unpadded graph of the same molecule agree).
    ///
    /// Kekulé isomers of one aromatic molecule get different forms here (as in the GSVAE code's
    /// uniqueness); use [`MolGraph::aromatic_canonical_form`] to identify them.
    ///
    /// # Example
    /// ```
    /// use molgraph::parse_smiles;
    /// let a = parse_smiles("OCC").unwrap().canonical_form();
    /// let b = parse_smiles("CCO").unwrap().canonical_form();
    /// let c = parse_smiles("COC").unwrap().canonical_form();
    /// assert_eq!(a, b);
    /// assert_ne!(a, c);
    /// ```
    pub fn canonical_form(&self) -> CanonicalForm {
        let labels = self.kekule_labels();
        canonicalise(self, &labels).0
    }

    /// The canonical form with aromatic bonds (RDKit's aromaticity model, after the 5-valent N
    /// clean-up) labelled 4, so that Kekulé isomers of the same molecule agree. This is the
    /// identity RDKit's canonical SMILES expresses (digest §8.3, "corrected metric").
    ///
    /// # Example
    /// ```
    /// use molgraph::parse_smiles;
    /// // o-Cresol in its two Kekulé structures (the substituted ring bond double or single).
    /// let a = parse_smiles("CC1=C(O)C=CC=C1").unwrap();
    /// let b = parse_smiles("CC1C(O)=CC=CC=1").unwrap();
    /// assert_ne!(a.canonical_form(), b.canonical_form());
    /// assert_eq!(a.aromatic_canonical_form(), b.aromatic_canonical_form());
    /// ```
    pub fn aromatic_canonical_form(&self) -> CanonicalForm {
        let cleaned = self.cleaned_up();
        let aromatic = aromaticity::perceive(&cleaned);
        let mut labels = cleaned.kekule_labels();
        for (bond, &is_aromatic) in cleaned.bonds().iter().zip(&aromatic.bonds) {
            if is_aromatic {
                labels[bond.a][bond.b] = 4;
                labels[bond.b][bond.a] = 4;
            }
        }
        canonicalise(&cleaned, &labels).0
    }

    /// Node indices in canonical order (isolated ghosts left out): isomorphic graphs list
    /// corresponding nodes in the same positions. The SMILES writer starts from the first.
    ///
    /// # Example
    /// ```
    /// let order = molgraph::parse_smiles("OCC").unwrap().canonical_order();
    /// assert_eq!(order.len(), 3);
    /// let mut sorted = order.clone();
    /// sorted.sort();
    /// assert_eq!(sorted, vec![0, 1, 2]);
    /// ```
    pub fn canonical_order(&self) -> Vec<usize> {
        let labels = self.kekule_labels();
        canonicalise(self, &labels).1
    }

    /// Which bonds (indices of [`MolGraph::bonds`]) RDKit's aromaticity model marks aromatic,
    /// after the 5-valent N clean-up. The GSVAE code's novelty quirk (digest §8.3) depends on
    /// whether a molecule has an aromatic ring.
    ///
    /// # Example
    /// ```
    /// let toluene = molgraph::parse_smiles("CC1=CC=CC=C1").unwrap();
    /// let aromatic = toluene.aromatic_bonds();
    /// assert_eq!(aromatic.iter().filter(|&&a| a).count(), 6);
    /// assert!(!aromatic[0]);
    /// ```
    pub fn aromatic_bonds(&self) -> Vec<bool> {
        aromaticity::perceive(&self.cleaned_up()).bonds
    }

    fn kekule_labels(&self) -> [[u8; MAX_ATOMS]; MAX_ATOMS] {
        let mut labels = [[0u8; MAX_ATOMS]; MAX_ATOMS];
        for bond in self.bonds() {
            labels[bond.a][bond.b] = bond.order.value();
            labels[bond.b][bond.a] = bond.order.value();
        }
        labels
    }
}

/// Working state of the search on the kept nodes `0..m` (indices into `nodes`).
struct Search<'a> {
    labels: Vec<(Atom, u8)>,
    adj: Vec<Vec<u8>>,
    best: Option<(CanonicalForm, Vec<usize>)>,
    nodes: &'a [usize],
}

fn canonicalise(
    graph: &MolGraph,
    bond_labels: &[[u8; MAX_ATOMS]; MAX_ATOMS],
) -> (CanonicalForm, Vec<usize>) {
    let nodes: Vec<usize> = (0..graph.n_atoms())
        .filter(|&i| !graph.atoms()[i].class.is_ghost() || graph.degree(i) > 0)
        .collect();
    let m = nodes.len();
    let labels: Vec<(Atom, u8)> = nodes
        .iter()
        .map(|&i| (graph.atoms()[i], graph.implicit_hydrogens(i)))
        .collect();
    let adj: Vec<Vec<u8>> = nodes
        .iter()
        .map(|&i| nodes.iter().map(|&j| bond_labels[i][j]).collect())
        .collect();
    // Initial colours: cell start positions of the label-sorted order.
    let mut sorted = labels.clone();
    sorted.sort();
    let colours: Vec<usize> = labels
        .iter()
        .map(|l| sorted.iter().position(|s| s == l).unwrap_or(0))
        .collect();
    let mut search = Search {
        labels,
        adj,
        best: None,
        nodes: &nodes,
    };
    if m == 0 {
        return (
            CanonicalForm {
                atoms: Vec::new(),
                bonds: Vec::new(),
            },
            Vec::new(),
        );
    }
    search.descend(colours);
    search
        .best
        .take()
        .expect("a non-empty graph has at least one leaf in its search tree")
}

impl Search<'_> {
    /// Equitable refinement: split cells by the multiset of (neighbour colour, bond label) until
    /// stable. Colours stay cell start positions, so the cell order is isomorphism-invariant.
    fn refine(&self, mut colours: Vec<usize>) -> Vec<usize> {
        let m = colours.len();
        let mut n_cells = count_cells(&colours);
        loop {
            let signatures: Vec<(usize, Vec<(usize, u8)>)> = (0..m)
                .map(|v| {
                    let mut nbrs: Vec<(usize, u8)> = (0..m)
                        .filter(|&u| self.adj[v][u] > 0)
                        .map(|u| (colours[u], self.adj[v][u]))
                        .collect();
                    nbrs.sort_unstable();
                    (colours[v], nbrs)
                })
                .collect();
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| signatures[a].cmp(&signatures[b]));
            let mut next = vec![0usize; m];
            for (pos, &v) in order.iter().enumerate() {
                next[v] = if pos > 0 && signatures[order[pos - 1]] == signatures[v] {
                    next[order[pos - 1]]
                } else {
                    pos
                };
            }
            colours = next;
            let cells = count_cells(&colours);
            if cells == n_cells {
                return colours;
            }
            n_cells = cells;
        }
    }

    fn descend(&mut self, colours: Vec<usize>) {
        let colours = self.refine(colours);
        let m = colours.len();
        // First non-singleton cell (smallest start position): an invariant choice.
        let target = (0..m)
            .filter(|&v| colours.iter().filter(|&&c| c == colours[v]).count() > 1)
            .map(|v| colours[v])
            .min();
        let Some(cell) = target else {
            self.leaf(&colours);
            return;
        };
        let members: Vec<usize> = (0..m).filter(|&v| colours[v] == cell).collect();
        for (k, &v) in members.iter().enumerate() {
            // Twins (same label, same bonds to every other node) are exchanged by an
            // automorphism that fixes the current colouring, so their subtrees give the same
            // leaves: search only the first of them. This keeps graphs with many
            // interchangeable nodes (isolated atoms, CF₄-like stars) cheap.
            if members[..k].iter().any(|&u| self.twins(u, v)) {
                continue;
            }
            let mut child = colours.clone();
            for &u in &members {
                if u != v {
                    child[u] = cell + 1;
                }
            }
            self.descend(child);
        }
    }

    fn twins(&self, u: usize, v: usize) -> bool {
        self.labels[u] == self.labels[v]
            && (0..self.labels.len())
                .filter(|&w| w != u && w != v)
                .all(|w| self.adj[u][w] == self.adj[v][w])
    }

    fn leaf(&mut self, colours: &[usize]) {
        let m = colours.len();
        let mut order = vec![0usize; m];
        for (v, &c) in colours.iter().enumerate() {
            order[c] = v;
        }
        let atoms: Vec<(Atom, u8)> = order.iter().map(|&v| self.labels[v]).collect();
        let mut bonds = Vec::with_capacity(m * (m.saturating_sub(1)) / 2);
        for i in 0..m {
            for j in i + 1..m {
                bonds.push(self.adj[order[i]][order[j]]);
            }
        }
        let form = CanonicalForm { atoms, bonds };
        let better = match &self.best {
            None => true,
            Some((best, _)) => form < *best,
        };
        if better {
            let original: Vec<usize> = order.iter().map(|&v| self.nodes[v]).collect();
            self.best = Some((form, original));
        }
    }
}

fn count_cells(colours: &[usize]) -> usize {
    let mut seen = [false; MAX_ATOMS];
    for &c in colours {
        seen[c] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

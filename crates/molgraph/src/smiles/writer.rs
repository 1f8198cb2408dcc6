//! SMILES writer: a depth-first walk in canonical node order, Kekulé bond symbols.

use crate::{AtomClass, Error, MolGraph, Result};

impl MolGraph {
    /// Writes the graph as a Kekulé SMILES string.
    ///
    /// The walk starts at the first node of [`MolGraph::canonical_order`] and visits neighbours
    /// in that order, so isomorphic graphs give the same string (a canonical Kekulé SMILES).
    /// Atoms are written in brackets when charged or when the SMILES default H count would
    /// differ from [`MolGraph::implicit_hydrogens`]. Isolated ghost nodes are skipped.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] for a graph without heavy atoms, a bonded ghost, more than one
    /// connected component (the parser rejects `.`), or a charge outside B…Ne isoelectronics.
    ///
    /// # Example
    /// ```
    /// use molgraph::parse_smiles;
    /// let smiles = parse_smiles("OC1=CC=CC=C1").unwrap().to_smiles().unwrap();
    /// let again = parse_smiles(&smiles).unwrap();
    /// assert_eq!(again.canonical_form(), parse_smiles("C1=CC=C(O)C=C1").unwrap().canonical_form());
    /// assert_eq!(parse_smiles("C[NH3+]").unwrap().to_smiles().unwrap(), "C[NH3+]");
    /// ```
    pub fn to_smiles(&self) -> Result<String> {
        let order = self.canonical_order();
        let Some(&root) = order.first() else {
            return Err(Error::InvalidGraph {
                reason: "no heavy atoms to write".into(),
            });
        };
        for (i, atom) in self.atoms().iter().enumerate() {
            if atom.class.is_ghost() && self.degree(i) > 0 {
                return Err(Error::InvalidGraph {
                    reason: format!("ghost node {i} is bonded"),
                });
            }
            if !atom.class.is_ghost() && atom.max_valence().is_none() {
                return Err(Error::InvalidGraph {
                    reason: format!("charge {:+} on node {i} cannot be written", atom.charge),
                });
            }
        }
        let n = self.n_atoms();
        let mut rank = vec![usize::MAX; n];
        for (pos, &v) in order.iter().enumerate() {
            rank[v] = pos;
        }
        // Pass 1: depth-first tree, children in rank order, and ring-closure bonds.
        let mut visited = vec![false; n];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut ring_bonds: Vec<(usize, usize)> = Vec::new(); // (opened at, closed at)
        let mut walk_order = Vec::new();
        self.walk(
            root,
            None,
            &rank,
            &mut visited,
            &mut children,
            &mut ring_bonds,
            &mut walk_order,
        );
        if walk_order.len() != order.len() {
            return Err(Error::InvalidGraph {
                reason: format!(
                    "graph has {} heavy atoms but only {} are connected to the first; \
                     disconnected graphs have no single SMILES",
                    order.len(),
                    walk_order.len()
                ),
            });
        }
        // Pass 2: emit.
        let mut out = String::new();
        let mut digits: Vec<Option<usize>> = vec![None; ring_bonds.len()];
        let mut in_use = [false; 100];
        self.emit(
            root,
            None,
            &children,
            &ring_bonds,
            &mut digits,
            &mut in_use,
            &mut out,
        );
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        v: usize,
        parent: Option<usize>,
        rank: &[usize],
        visited: &mut [bool],
        children: &mut [Vec<usize>],
        ring_bonds: &mut Vec<(usize, usize)>,
        walk_order: &mut Vec<usize>,
    ) {
        visited[v] = true;
        walk_order.push(v);
        let mut nbrs: Vec<usize> = self.neighbours(v).map(|(u, _)| u).collect();
        nbrs.sort_by_key(|&u| rank[u]);
        for u in nbrs {
            if Some(u) == parent {
                continue;
            }
            if visited[u] {
                // A back edge to an ancestor: record it once (from the deeper end).
                if !ring_bonds
                    .iter()
                    .any(|&(a, b)| (a == u && b == v) || (a == v && b == u))
                {
                    ring_bonds.push((u, v));
                }
            } else {
                children[v].push(u);
                self.walk(u, Some(v), rank, visited, children, ring_bonds, walk_order);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        v: usize,
        parent: Option<usize>,
        children: &[Vec<usize>],
        ring_bonds: &[(usize, usize)],
        digits: &mut [Option<usize>],
        in_use: &mut [bool; 100],
        out: &mut String,
    ) {
        if let Some(p) = parent {
            out.push_str(bond_symbol(self.bond_order(p, v)));
        }
        out.push_str(&self.atom_text(v));
        for (idx, &(_, close)) in ring_bonds.iter().enumerate() {
            if close == v
                && let Some(d) = digits[idx]
            {
                push_ring_digit(out, d);
                in_use[d] = false;
            }
        }
        for (idx, &(open, close)) in ring_bonds.iter().enumerate() {
            if open == v {
                let d = (1..100).find(|&d| !in_use[d]).unwrap_or(99);
                in_use[d] = true;
                digits[idx] = Some(d);
                out.push_str(bond_symbol(self.bond_order(open, close)));
                push_ring_digit(out, d);
            }
        }
        let kids = &children[v];
        for (k, &child) in kids.iter().enumerate() {
            let last = k + 1 == kids.len();
            if !last {
                out.push('(');
            }
            self.emit(child, Some(v), children, ring_bonds, digits, in_use, out);
            if !last {
                out.push(')');
            }
        }
    }

    fn atom_text(&self, v: usize) -> String {
        let atom = self.atoms()[v];
        let h = self.implicit_hydrogens(v);
        let sum = self.bond_order_sum(v);
        // The H count a SMILES reader gives an organic-subset atom: the smallest normal valence
        // at or above the bond-order sum, minus that sum.
        let normal: &[u8] = match atom.class {
            AtomClass::C => &[4],
            AtomClass::N => &[3, 5],
            AtomClass::O => &[2],
            AtomClass::F => &[1],
            AtomClass::Ghost => &[1],
        };
        let default_h = normal
            .iter()
            .find(|&&val| val >= sum)
            .map_or(0, |&val| val - sum);
        if atom.charge == 0 && default_h == h {
            return atom.class.symbol().to_string();
        }
        let mut text = format!("[{}", atom.class.symbol());
        match h {
            0 => {}
            1 => text.push('H'),
            _ => text.push_str(&format!("H{h}")),
        }
        match atom.charge {
            0 => {}
            1 => text.push('+'),
            -1 => text.push('-'),
            c => text.push_str(&format!("{c:+}")),
        }
        text.push(']');
        text
    }
}

fn bond_symbol(order: u8) -> &'static str {
    match order {
        2 => "=",
        3 => "#",
        _ => "",
    }
}

fn push_ring_digit(out: &mut String, digit: usize) {
    if digit < 10 {
        out.push_str(&digit.to_string());
    } else {
        out.push_str(&format!("%{digit:02}"));
    }
}

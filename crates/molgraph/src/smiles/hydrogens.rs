//! Explicit hydrogen atoms `[H]` of a SMILES string, folded into their heavy neighbour's
//! hydrogen count before the graph is built.

use crate::{
    Result,
    smiles::{BondKind, Parser},
};

impl Parser<'_> {
    /// Removes explicit hydrogen atoms, adding each to its heavy neighbour's count (returned,
    /// indexed like the remaining atoms), and renumbers the bonds.
    pub(super) fn fold_hydrogens(&mut self) -> Result<Vec<u8>> {
        let n = self.atoms.len();
        let mut explicit = vec![0u8; n];
        for h_idx in (0..n).filter(|&i| self.atoms[i].hydrogen) {
            let position = self.atoms[h_idx].position;
            let mut touching = self
                .bonds
                .iter()
                .filter(|&&(a, b, _)| a == h_idx || b == h_idx);
            let (first, second) = (touching.next(), touching.next());
            match (first, second) {
                (Some(&(a, b, kind)), None) => {
                    let other = if a == h_idx { b } else { a };
                    if self.atoms[other].hydrogen {
                        return self.error(position, "hydrogen atom bonded to another hydrogen");
                    }
                    if !matches!(kind, BondKind::Implicit | BondKind::Single) {
                        return self.error(position, "hydrogen atom on a bond that is not single");
                    }
                    explicit[other] = explicit[other].saturating_add(1);
                }
                (None, _) => {
                    return self.error(position, "hydrogen atom without a heavy neighbour");
                }
                (Some(_), Some(_)) => {
                    return self.error(position, "hydrogen atom with more than one bond");
                }
            }
        }
        let mut new_index = vec![usize::MAX; n];
        let mut next = 0;
        for (i, slot) in new_index.iter_mut().enumerate() {
            if !self.atoms[i].hydrogen {
                *slot = next;
                next += 1;
            }
        }
        self.bonds = self
            .bonds
            .iter()
            .filter(|&&(a, b, _)| !self.atoms[a].hydrogen && !self.atoms[b].hydrogen)
            .map(|&(a, b, kind)| (new_index[a], new_index[b], kind))
            .collect();
        let explicit = (0..n)
            .filter(|&i| !self.atoms[i].hydrogen)
            .map(|i| explicit[i])
            .collect();
        self.atoms.retain(|pa| !pa.hydrogen);
        Ok(explicit)
    }
}

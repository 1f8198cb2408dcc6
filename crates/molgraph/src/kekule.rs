//! Kekulisation: a perfect matching of the aromatic atoms that need a double bond.

/// Chooses which aromatic bonds become double so that every atom with `needs_double[i]` gets
/// exactly one double bond and no other atom gets one (a perfect matching of the needing atoms
/// over the aromatic bonds, found by exhaustive search — at most 9 atoms).
///
/// Returns, per entry of `aromatic_bonds`, whether it is double; `None` when no such matching
/// exists (e.g. `c1cccc1`, five atoms that all need a partner).
pub(crate) fn kekulise(
    needs_double: &[bool],
    aromatic_bonds: &[(usize, usize)],
) -> Option<Vec<bool>> {
    let mut matched = vec![false; needs_double.len()];
    let mut double = vec![false; aromatic_bonds.len()];
    if search(needs_double, aromatic_bonds, &mut matched, &mut double) {
        Some(double)
    } else {
        None
    }
}

fn search(
    needs_double: &[bool],
    aromatic_bonds: &[(usize, usize)],
    matched: &mut [bool],
    double: &mut [bool],
) -> bool {
    // The lowest needing atom still unmatched must be matched now, or never.
    let Some(atom) = (0..needs_double.len()).find(|&i| needs_double[i] && !matched[i]) else {
        return true;
    };
    for (bond_idx, &(a, b)) in aromatic_bonds.iter().enumerate() {
        let partner = if a == atom {
            b
        } else if b == atom {
            a
        } else {
            continue;
        };
        if !needs_double[partner] || matched[partner] {
            continue;
        }
        matched[atom] = true;
        matched[partner] = true;
        double[bond_idx] = true;
        if search(needs_double, aromatic_bonds, matched, double) {
            return true;
        }
        matched[atom] = false;
        matched[partner] = false;
        double[bond_idx] = false;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::kekulise;

    #[test]
    fn benzene_ring_gets_three_alternating_double_bonds() {
        let bonds: Vec<(usize, usize)> = (0..6).map(|i| (i, (i + 1) % 6)).collect();
        let double = kekulise(&[true; 6], &bonds).unwrap();
        assert_eq!(double.iter().filter(|&&d| d).count(), 3);
        for i in 0..6 {
            assert!(
                !(double[i] && double[(i + 1) % 6]),
                "adjacent doubles at {i}"
            );
        }
    }

    #[test]
    fn odd_ring_of_needing_atoms_has_no_matching() {
        let bonds: Vec<(usize, usize)> = (0..5).map(|i| (i, (i + 1) % 5)).collect();
        assert!(kekulise(&[true; 5], &bonds).is_none());
    }
}

//! Ring perception: the relevant cycles (the union of all minimum cycle bases), which for
//! QM9-sized molecules equal RDKit's symmetrised SSSR.

use crate::MolGraph;

/// Rings of a graph.
#[derive(Debug, Clone)]
pub(crate) struct Rings {
    /// Each ring as its atoms (unordered) and its bonds (indices into `MolGraph::bonds`).
    pub(crate) rings: Vec<Ring>,
    /// Whether each bond lies on some ring.
    pub(crate) bond_in_ring: Vec<bool>,
}

/// One ring.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    pub(crate) atoms: Vec<usize>,
    pub(crate) bonds: Vec<usize>,
}

impl Rings {
    /// Whether atom `i` lies on a ring of exactly `size` atoms.
    pub(crate) fn atom_in_ring_of_size(&self, i: usize, size: usize) -> bool {
        self.rings
            .iter()
            .any(|r| r.atoms.len() == size && r.atoms.contains(&i))
    }
}

/// Finds the relevant cycles: every simple cycle that is not a GF(2) sum of strictly shorter
/// cycles.
pub(crate) fn find_rings(graph: &MolGraph) -> Rings {
    let n = graph.n_atoms();
    let bonds = graph.bonds();
    let mut bond_index = vec![vec![usize::MAX; n]; n];
    for (idx, b) in bonds.iter().enumerate() {
        bond_index[b.a][b.b] = idx;
        bond_index[b.b][b.a] = idx;
    }
    let adjacency: Vec<Vec<usize>> = (0..n)
        .map(|i| graph.neighbours(i).map(|(j, _)| j).collect())
        .collect();
    // All simple cycles, each found once: smallest atom first, second atom < last atom.
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        let mut path = vec![start];
        let mut on_path = vec![false; n];
        on_path[start] = true;
        extend(start, &adjacency, &mut path, &mut on_path, &mut cycles);
    }
    cycles.sort_by_key(Vec::len);
    let masks: Vec<u64> = cycles
        .iter()
        .map(|c| {
            (0..c.len()).fold(0u64, |m, k| {
                let (a, b) = (c[k], c[(k + 1) % c.len()]);
                m | (1u64 << bond_index[a][b])
            })
        })
        .collect();
    // Gaussian elimination over GF(2), one length class at a time.
    let mut basis: Vec<u64> = Vec::new();
    let mut rings = Vec::new();
    let mut k = 0;
    while k < cycles.len() {
        let len = cycles[k].len();
        let group_end = (k..cycles.len())
            .find(|&e| cycles[e].len() != len)
            .unwrap_or(cycles.len());
        let shorter = basis.clone();
        for idx in k..group_end {
            if reduce(masks[idx], &shorter) != 0 {
                rings.push(Ring {
                    atoms: cycles[idx].clone(),
                    bonds: (0..bonds.len())
                        .filter(|&b| masks[idx] >> b & 1 == 1)
                        .collect(),
                });
            }
            insert(&mut basis, masks[idx]);
        }
        k = group_end;
    }
    let mut bond_in_ring = vec![false; bonds.len()];
    for mask in &masks {
        for (b, flag) in bond_in_ring.iter_mut().enumerate() {
            if mask >> b & 1 == 1 {
                *flag = true;
            }
        }
    }
    Rings {
        rings,
        bond_in_ring,
    }
}

fn extend(
    start: usize,
    adjacency: &[Vec<usize>],
    path: &mut Vec<usize>,
    on_path: &mut [bool],
    cycles: &mut Vec<Vec<usize>>,
) {
    let v = *path.last().expect("path starts non-empty");
    for &u in &adjacency[v] {
        if u == start && path.len() >= 3 && path[1] < v {
            cycles.push(path.clone());
        } else if u > start && !on_path[u] {
            on_path[u] = true;
            path.push(u);
            extend(start, adjacency, path, on_path, cycles);
            path.pop();
            on_path[u] = false;
        }
    }
}

/// Reduces `v` by a basis kept in echelon form (distinct leading bits).
fn reduce(mut v: u64, basis: &[u64]) -> u64 {
    for &b in basis {
        let lead = 63 - b.leading_zeros();
        if v >> lead & 1 == 1 {
            v ^= b;
        }
    }
    v
}

fn insert(basis: &mut Vec<u64>, v: u64) {
    let r = reduce(v, basis);
    if r != 0 {
        // Keep leading bits distinct: eliminate the new leading bit from existing rows.
        let lead = 63 - r.leading_zeros();
        for b in basis.iter_mut() {
            if *b >> lead & 1 == 1 {
                *b ^= r;
            }
        }
        basis.push(r);
        basis.sort_unstable_by(|a, b| b.cmp(a));
    }
}

#[cfg(test)]
mod tests {
    use super::find_rings;
    use crate::parse_smiles;

    fn ring_sizes(smiles: &str) -> Vec<usize> {
        let mut sizes: Vec<usize> = find_rings(&parse_smiles(smiles).unwrap())
            .rings
            .iter()
            .map(|r| r.atoms.len())
            .collect();
        sizes.sort_unstable();
        sizes
    }

    #[test]
    fn fused_rings_exclude_the_envelope() {
        // Bicyclo[4.3.0]: a 6-ring and a 5-ring; the 9-atom envelope is a sum of the two.
        assert_eq!(ring_sizes("C1CCC2CCCC2C1"), vec![5, 6]);
    }

    #[test]
    fn bridged_rings_keep_every_smallest_ring() {
        // Bicyclo[2.2.2]octane: three 6-rings, any two of which form a minimum basis.
        assert_eq!(ring_sizes("C1CC2CCC1CC2"), vec![6, 6, 6]);
        // Cubane: six 4-rings (a minimum basis has five).
        assert_eq!(ring_sizes("C12C3C4C1C5C2C3C45"), vec![4, 4, 4, 4, 4, 4]);
        assert!(ring_sizes("CCO").is_empty());
    }
}

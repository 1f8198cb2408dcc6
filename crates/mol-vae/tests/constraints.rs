//! R1–R4: finite-difference gradient checks and values on hard graphs.

use linalg::{
    rng::{Stream, stream},
    testing::{assert_close, check_gradient, fd_step, tol},
};
use mol_vae::constraints::{ConstraintSet, CycleMeasure, evaluate};
use rand::Rng as _;

/// Probabilities in (0.05, 0.95) for atoms (`n × 5`) and bonds (`n² × 4`).
fn random_point(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = stream(seed, Stream::Evaluation);
    let atoms = (0..n * 5)
        .map(|_| 0.05 + 0.9 * rng.random::<f64>())
        .collect();
    let bonds = (0..n * n * 4)
        .map(|_| 0.05 + 0.9 * rng.random::<f64>())
        .collect();
    (atoms, bonds)
}

#[track_caller]
fn check(k: usize, n: usize, sharpness: f64) {
    check_with(k, n, sharpness, CycleMeasure::Resolvent);
}

#[track_caller]
fn check_with(k: usize, n: usize, sharpness: f64, cycle_measure: CycleMeasure) {
    let mut checked = 0;
    for seed in 0..50 {
        let (atoms, bonds) = random_point(n, seed);
        let set = ConstraintSet {
            active: std::array::from_fn(|i| i == k),
            sharpness,
            cycle_measure,
        };
        let r = evaluate(&atoms, &bonds, n, &set);
        // R1 is piecewise linear: keep points where every V_u − U_u is far from 0 (STYLE §7).
        if k == 0 && r1_margin(&atoms, &bonds, n) < 100.0 * fd_step(1.0) {
            continue;
        }
        let split = atoms.len();
        let point = [atoms.clone(), bonds.clone()].concat();
        let analytic = [r.grad_atoms[k].clone(), r.grad_bonds[k].clone()].concat();
        check_gradient(
            |p| evaluate(&p[..split], &p[split..], n, &set).values[k],
            &point,
            &analytic,
            tol::GRAD,
        );
        checked += 1;
        if checked == 3 {
            return;
        }
    }
    panic!("fewer than 3 points away from R1's kink");
}

fn r1_margin(atoms: &[f64], bonds: &[f64], n: usize) -> f64 {
    let val = [4.0, 2.0, 3.0, 1.0, 0.0];
    (0..n)
        .map(|u| {
            let v_u: f64 = (0..n)
                .filter(|&v| v != u)
                .map(|v| {
                    (1..4)
                        .map(|t| t as f64 * bonds[(u * n + v) * 4 + t])
                        .sum::<f64>()
                })
                .sum();
            let u_u: f64 = (0..5).map(|c| val[c] * atoms[u * 5 + c]).sum();
            (v_u - u_u).abs()
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn r1_valence_gradient_matches_finite_differences() {
    check(0, 4, 100.0);
}

#[test]
fn r2_connectivity_gradient_matches_finite_differences() {
    // The paper's sharpness 100 saturates most soft steps at random points; sharpness 3 keeps
    // every step in its sensitive range so the check exercises the whole chain.
    check(1, 4, 3.0);
    check(1, 5, 100.0);
}

#[test]
fn r3_three_ring_gradient_matches_finite_differences() {
    check(2, 5, 100.0);
}

#[test]
fn r4_ring_triple_gradient_matches_finite_differences() {
    check(3, 5, 100.0);
}

#[test]
fn r4_walk_sum_gradient_matches_finite_differences() {
    // Random points in (0.05, 0.95) keep s/(1+s) away from saturation for n = 4; n = 9 is the
    // paper's graph size (walks up to length 8).
    check_with(3, 4, 100.0, CycleMeasure::WalkSum);
    check_with(3, 9, 100.0, CycleMeasure::WalkSum);
}

#[test]
fn walk_sum_sees_triple_bonds_on_large_rings_where_the_resolvent_barely_does() {
    const C: usize = 0;
    let walk_sum = ConstraintSet {
        cycle_measure: CycleMeasure::WalkSum,
        ..ConstraintSet::default()
    };
    let r4 = |classes: &[usize], bonds: &[(usize, usize, usize)], set: &ConstraintSet| {
        let (a, b) = hard(classes, bonds);
        evaluate(&a, &b, classes.len(), set).values[3]
    };
    // A 6-ring of 9 nodes (three ghosts) with one triple bond on it.
    let mut ring6 = vec![(0, 1, 3)];
    ring6.extend((1..6).map(|i| (i, (i + 1) % 6, 1)));
    let classes = [C, C, C, C, C, C, 4, 4, 4];
    let resolvent = r4(&classes, &ring6, &ConstraintSet::default());
    let walks = r4(&classes, &ring6, &walk_sum);
    assert!(
        resolvent > 0.0 && resolvent < 1e-5,
        "resolvent: {resolvent}"
    );
    // Without their bond, 0 and 1 are the ends of a 6-node path: one walk of length 5 and five
    // of length 7 (one step back at positions 2..=6) join them: s = 6, c = 6/7.
    assert_close(walks, 6.0 / 7.0, tol::ITER);
    // A 3-ring of 3 nodes: walks up to length 2, one of them joins 0 and 1: c = 1/2.
    let ring3 = r4(&[C, C, C], &[(0, 1, 3), (1, 2, 1), (0, 2, 1)], &walk_sum);
    assert_close(ring3, 0.5, tol::ITER);
    // The same triple bond on a chain of 9 atoms: no other path, c = 0.
    let mut chain = vec![(0, 1, 3)];
    chain.extend((1..8).map(|i| (i, i + 1, 1)));
    assert_close(r4(&[C; 9], &chain, &walk_sum), 0.0, tol::EXACT);
}

/// Hard probabilities of a graph: atom classes and a bond-order matrix.
fn hard(classes: &[usize], bonds: &[(usize, usize, usize)]) -> (Vec<f64>, Vec<f64>) {
    let n = classes.len();
    let mut atoms = vec![0.0; n * 5];
    for (v, &c) in classes.iter().enumerate() {
        atoms[v * 5 + c] = 1.0;
    }
    let mut order = vec![0; n * n];
    for &(u, v, t) in bonds {
        order[u * n + v] = t;
        order[v * n + u] = t;
    }
    let mut pa = vec![0.0; n * n * 4];
    for (pair, &t) in order.iter().enumerate() {
        pa[pair * 4 + t] = 1.0;
    }
    (atoms, pa)
}

fn values(classes: &[usize], bonds: &[(usize, usize, usize)]) -> [f64; 4] {
    let (a, b) = hard(classes, bonds);
    evaluate(&a, &b, classes.len(), &ConstraintSet::default()).values
}

#[test]
fn penalties_vanish_on_a_plain_chain_and_fire_on_their_defects() {
    const C: usize = 0;
    const O: usize = 1;
    const GHOST: usize = 4;
    // C–C–C–O: valences fine, connected, no ring, no triple bond.
    let chain = values(&[C, C, C, O], &[(0, 1, 1), (1, 2, 1), (2, 3, 1)]);
    assert_close(chain[0], 0.0, tol::EXACT);
    assert!(chain[1] < 1e-9, "connected chain: r2 = {}", chain[1]);
    assert_close(chain[2], 0.0, tol::EXACT);
    assert_close(chain[3], 0.0, tol::EXACT);
    // O with three single bonds: valence 3 > 2 by one.
    let over = values(&[O, C, C, C], &[(0, 1, 1), (0, 2, 1), (0, 3, 1)]);
    assert_close(over[0], 1.0, tol::EXACT);
    // Two disconnected C–C pairs: the 4 cross pairs count once each.
    let split = values(&[C, C, C, C], &[(0, 1, 1), (2, 3, 1)]);
    assert_close(split[1], 4.0, tol::ITER);
    // A ghost node that is isolated does not count as disconnected.
    let padded = values(&[C, C, GHOST], &[(0, 1, 1)]);
    assert!(padded[1] < 1e-9);
    // A 3-ring with a triple bond on it (valence aside): r3 = 1, r4 > 0; a chain triple: r4 = 0.
    let ring = values(&[C, C, C], &[(0, 1, 3), (1, 2, 1), (0, 2, 1)]);
    assert_close(ring[2], 1.0, tol::EXACT);
    assert!(ring[3] > 1e-3);
    let chain_triple = values(&[C, C, C], &[(0, 1, 3), (1, 2, 1)]);
    assert_close(chain_triple[3], 0.0, tol::EXACT);
}

/// R4 with the walk sum written out with full matrix powers: `Σ_{u<v} P_uv3 · s/(1+s)`,
/// `s = Σ_{k=2}^{n−1} (B^k)_uv`, `B` = the soft adjacency without the bond u–v.
fn r4_walk_sum_by_matrix_powers(bonds: &[f64], n: usize) -> f64 {
    let mut total = 0.0;
    for u in 0..n {
        for v in u + 1..n {
            let b: Vec<f64> = (0..n * n)
                .map(|idx| {
                    let (i, j) = (idx / n, idx % n);
                    let removed = (i, j) == (u, v) || (i, j) == (v, u);
                    if i == j || removed {
                        0.0
                    } else {
                        1.0 - bonds[idx * 4]
                    }
                })
                .collect();
            let mut power = b.clone();
            let mut s = 0.0;
            for _k in 2..n {
                power = (0..n * n)
                    .map(|idx| {
                        let (i, j) = (idx / n, idx % n);
                        (0..n).map(|l| power[i * n + l] * b[l * n + j]).sum()
                    })
                    .collect();
                s += power[u * n + v];
            }
            total += bonds[(u * n + v) * 4 + 3] * s / (1.0 + s);
        }
    }
    total
}

#[test]
fn walk_sum_matches_full_matrix_powers() {
    let set = ConstraintSet {
        active: [false, false, false, true],
        cycle_measure: CycleMeasure::WalkSum,
        ..ConstraintSet::default()
    };
    for (n, seed) in [(2, 0), (3, 1), (5, 2), (9, 3), (9, 4)] {
        let (atoms, bonds) = random_point(n, seed);
        let r = evaluate(&atoms, &bonds, n, &set);
        assert_close(
            r.values[3],
            r4_walk_sum_by_matrix_powers(&bonds, n),
            tol::ITER,
        );
    }
}

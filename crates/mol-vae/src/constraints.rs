//! The soft "physics" penalties R1–R4 on decoder outputs (digest molecular.md §3.2), with their
//! gradients.
//!
//! Each penalty is a function of one decoded sample: the atom-class probabilities
//! `P^F` (`n × 5`, entry `v·5 + c`) and the bond-class probabilities `P^A` (`n × n × 4`, entry
//! `(u·n + v)·4 + t`). The GSVAE code evaluates them on decodes of prior samples `z̃ ~ N(0, I)`
//! ([`crate::loss_and_gradient`] does the aggregation). Everything here is in `f64`.

use serde::{Deserialize, Serialize};

use crate::{N_ATOM_CLASSES, N_BOND_CLASSES};

/// Maximum valence per atom class `[C, O, N, F, ghost]` = `[4, 2, 3, 1, 0]` (R1) [C §3.2].
pub const MAX_VALENCE: [f64; N_ATOM_CLASSES] = [4.0, 2.0, 3.0, 1.0, 0.0];

/// Sharpness of the soft step `σ(100 (x − ½))` in R2 [C §3.2].
pub const CONNECTIVITY_SHARPNESS: f64 = 100.0;

/// How R4 measures whether the two ends of a bond `u–v` are joined by another path.
///
/// ```text
/// B = A with (u,v), (v,u) zeroed
/// Resolvent: c_uv = [(n I − B)⁻¹]_uv = Σ_{k≥0} (B^k)_uv / n^{k+1}     [C §3.2, R4]
/// WalkSum:   s_uv = Σ_{k=2}^{n−1} (B^k)_uv,  c_uv = s_uv / (1 + s_uv)   (deviation)
/// ```
///
/// The resolvent is the digest's formula. It weighs a path of length `d` by `n^{−(d+1)}`, so for
/// the 5- and 6-rings that carry most ring triple bonds in generated 9-atom graphs `c_uv` is
/// ~1e-6 and R4 all but vanishes. The walk sum counts walks of every length up to `n − 1` (the
/// longest simple path) with equal weight and saturates: `c_uv ≥ ½` whenever a hard graph has
/// another path between `u` and `v`, whatever its length, and `c_uv = 0` when it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CycleMeasure {
    /// `[(n I − B)⁻¹]_uv`, as the digest writes R4 (the default).
    #[default]
    Resolvent,
    /// The saturated walk count `s / (1 + s)` (a documented deviation, docs/deviations.md).
    WalkSum,
}

/// Which of R1–R4 to evaluate, the sharpness of R2's soft step and R4's cycle measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConstraintSet {
    /// Evaluate R1 (ghost + valence), R2 (connectivity), R3 (3-rings), R4 (triple bonds on
    /// cycles).
    pub active: [bool; 4],
    /// R2's soft-step sharpness, [`CONNECTIVITY_SHARPNESS`] in the paper's code.
    pub sharpness: f64,
    /// How R4 decides that a bond lies on a cycle.
    pub cycle_measure: CycleMeasure,
}

impl Default for ConstraintSet {
    fn default() -> Self {
        ConstraintSet {
            active: [true; 4],
            sharpness: CONNECTIVITY_SHARPNESS,
            cycle_measure: CycleMeasure::Resolvent,
        }
    }
}

/// Values of R1–R4 for one sample and their gradients with respect to `P^F` and `P^A`.
/// Inactive penalties have value 0 and zero gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintValues {
    /// `[r1, r2, r3, r4]`.
    pub values: [f64; 4],
    /// `∂r_k/∂P^F`, each of length `n · 5`.
    pub grad_atoms: [Vec<f64>; 4],
    /// `∂r_k/∂P^A`, each of length `n² · 4`.
    pub grad_bonds: [Vec<f64>; 4],
}

/// Evaluates R1–R4 on one decoded sample of `n_nodes` nodes, with gradients:
///
/// ```text
/// E_uv = Σ_t t P^A_uvt,  V_u = Σ_{v≠u} E_uv,  U_u = Σ_k val_k P^F_uk
/// r1 = Σ_u ReLU(V_u − U_u)                                                   [C §3.2, R1]
/// q_u = 1 − P^F_u,ghost,  A_uv = 1 − P^A_uv0 (A_uu = 0)
/// Ã_1 = A,  Ã_k = σ(s (Ã_{k−1} A − ½)), k = 2..n;  B = I + Σ_{k≥2} Ã_k;  C = σ(s (B − ½))
/// r2 = Σ_{u<v} [q_u q_v (1 − C_uv) + (1 − q_u q_v) C_uv]                    [C §3.2, R2]
/// r3 = tr(A³)/6                                                              [C §3.2, R3]
/// r4 = Σ_{u<v} P^A_uv3 · c_uv,  c_uv from `set.cycle_measure`               [C §3.2, R4]
/// ```
///
/// `s` is `set.sharpness` (100); [`CycleMeasure`] defines `c_uv`. The digest writes `9I` and `k = 2..9` for the paper's 9
/// nodes; here `n` is `n_nodes`. At ReLU's kink (`V_u = U_u`) the R1 gradient is 0, as in
/// PyTorch.
///
/// # Panics
/// If `atom_probs` is not `n · 5` long or `bond_probs` not `n² · 4`.
///
/// # Example
/// ```
/// use mol_vae::constraints::{ConstraintSet, evaluate};
/// // Three nodes, all carbon, fully bonded with single bonds: one 3-ring.
/// let n = 3;
/// let atoms: Vec<f64> = (0..n).flat_map(|_| [1.0, 0.0, 0.0, 0.0, 0.0]).collect();
/// let mut bonds = vec![0.0; n * n * 4];
/// for u in 0..n {
///     for v in 0..n {
///         bonds[(u * n + v) * 4 + if u == v { 0 } else { 1 }] = 1.0;
///     }
/// }
/// let r = evaluate(&atoms, &bonds, n, &ConstraintSet::default());
/// assert_eq!(r.values[0], 0.0); // Valence 2 ≤ 4.
/// assert!((r.values[2] - 1.0).abs() < 1e-12); // tr(A³)/6 = 1 triangle.
/// assert_eq!(r.values[3], 0.0); // No triple bonds.
/// ```
pub fn evaluate(
    atom_probs: &[f64],
    bond_probs: &[f64],
    n_nodes: usize,
    set: &ConstraintSet,
) -> ConstraintValues {
    let n = n_nodes;
    assert_eq!(
        atom_probs.len(),
        n * N_ATOM_CLASSES,
        "constraints: atom probabilities must be n·5 long"
    );
    assert_eq!(
        bond_probs.len(),
        n * n * N_BOND_CLASSES,
        "constraints: bond probabilities must be n²·4 long"
    );
    let mut out = ConstraintValues {
        values: [0.0; 4],
        grad_atoms: std::array::from_fn(|_| vec![0.0; n * N_ATOM_CLASSES]),
        grad_bonds: std::array::from_fn(|_| vec![0.0; n * n * N_BOND_CLASSES]),
    };
    let pa = |u: usize, v: usize, t: usize| bond_probs[(u * n + v) * N_BOND_CLASSES + t];
    if set.active[0] {
        let (ga, gb) = (&mut out.grad_atoms[0], &mut out.grad_bonds[0]);
        for u in 0..n {
            let mut valence = 0.0;
            for v in (0..n).filter(|&v| v != u) {
                for t in 1..N_BOND_CLASSES {
                    valence += t as f64 * pa(u, v, t);
                }
            }
            let allowed: f64 = (0..N_ATOM_CLASSES)
                .map(|c| MAX_VALENCE[c] * atom_probs[u * N_ATOM_CLASSES + c])
                .sum();
            if valence > allowed {
                out.values[0] += valence - allowed;
                for v in (0..n).filter(|&v| v != u) {
                    for t in 1..N_BOND_CLASSES {
                        gb[(u * n + v) * N_BOND_CLASSES + t] += t as f64;
                    }
                }
                for c in 0..N_ATOM_CLASSES {
                    ga[u * N_ATOM_CLASSES + c] -= MAX_VALENCE[c];
                }
            }
        }
    }
    let need_adjacency = set.active[1] || set.active[2] || set.active[3];
    if !need_adjacency {
        return out;
    }
    let mut a = vec![0.0; n * n];
    for u in 0..n {
        for v in (0..n).filter(|&v| v != u) {
            a[u * n + v] = 1.0 - pa(u, v, 0);
        }
    }
    // Gradients with respect to A (row-major n × n), mapped to P^A_uv0 at the end.
    let to_bonds = |d_a: &[f64], gb: &mut [f64]| {
        for u in 0..n {
            for v in (0..n).filter(|&v| v != u) {
                gb[(u * n + v) * N_BOND_CLASSES] -= d_a[u * n + v];
            }
        }
    };
    if set.active[1] {
        let (value, d_a, d_q) = connectivity(&a, atom_probs, n, set.sharpness);
        out.values[1] = value;
        to_bonds(&d_a, &mut out.grad_bonds[1]);
        for (row, dq) in out.grad_atoms[1].chunks_exact_mut(N_ATOM_CLASSES).zip(&d_q) {
            row[N_ATOM_CLASSES - 1] -= dq;
        }
    }
    if set.active[2] {
        let a2 = matmul(&a, &a, n);
        let a3 = matmul(&a2, &a, n);
        out.values[2] = (0..n).map(|u| a3[u * n + u]).sum::<f64>() / 6.0;
        // ∂ tr(A³)/∂A = 3 (A²)ᵀ.
        let d_a: Vec<f64> = (0..n * n)
            .map(|idx| 0.5 * a2[(idx % n) * n + idx / n])
            .collect();
        to_bonds(&d_a, &mut out.grad_bonds[2]);
    }
    if set.active[3] {
        let mut d_a = vec![0.0; n * n];
        let mut b = vec![0.0; n * n];
        for u in 0..n {
            for v in u + 1..n {
                b.copy_from_slice(&a);
                b[u * n + v] = 0.0;
                b[v * n + u] = 0.0;
                let triple = pa(u, v, 3);
                // c and ∂c/∂B (for the entries of A that enter B).
                let (c, d_c) = match set.cycle_measure {
                    CycleMeasure::Resolvent => resolvent_pair(&b, n, u, v),
                    CycleMeasure::WalkSum => walk_sum_pair(&b, n, u, v),
                };
                out.values[3] += triple * c;
                out.grad_bonds[3][(u * n + v) * N_BOND_CLASSES + 3] += c;
                for i in 0..n {
                    for j in (0..n).filter(|&j| j != i) {
                        if (i == u && j == v) || (i == v && j == u) {
                            continue;
                        }
                        d_a[i * n + j] += triple * d_c[i * n + j];
                    }
                }
            }
        }
        to_bonds(&d_a, &mut out.grad_bonds[3]);
    }
    out
}

/// Appends the sign of R1's `V_u − U_u` per node (its ReLU's activation pattern).
pub(crate) fn push_valence_pattern(
    atom_probs: &[f64],
    bond_probs: &[f64],
    n: usize,
    out: &mut Vec<bool>,
) {
    out.extend((0..n).map(|u| {
        let valence: f64 = (0..n)
            .filter(|&v| v != u)
            .flat_map(|v| (1..N_BOND_CLASSES).map(move |t| (v, t)))
            .map(|(v, t)| t as f64 * bond_probs[(u * n + v) * N_BOND_CLASSES + t])
            .sum();
        let allowed: f64 = (0..N_ATOM_CLASSES)
            .map(|c| MAX_VALENCE[c] * atom_probs[u * N_ATOM_CLASSES + c])
            .sum();
        valence > allowed
    }));
}

/// R2 and its gradients with respect to `A` (row-major) and `q`.
fn connectivity(
    a: &[f64],
    atom_probs: &[f64],
    n: usize,
    sharpness: f64,
) -> (f64, Vec<f64>, Vec<f64>) {
    let step = |x: f64| 1.0 / (1.0 + (-sharpness * (x - 0.5)).exp());
    // Forward: walks[0] = Ã_1 = A, walks[k-1] = Ã_k.
    let mut walks = vec![a.to_vec()];
    for _ in 2..=n {
        let prev = walks.last().map_or_else(Vec::new, |w| matmul(w, a, n));
        walks.push(prev.into_iter().map(step).collect());
    }
    let mut b = vec![0.0; n * n];
    for u in 0..n {
        b[u * n + u] = 1.0;
    }
    for walk in &walks[1..] {
        for (bi, wi) in b.iter_mut().zip(walk) {
            *bi += wi;
        }
    }
    let c: Vec<f64> = b.iter().map(|&x| step(x)).collect();
    let q: Vec<f64> = (0..n)
        .map(|u| 1.0 - atom_probs[u * N_ATOM_CLASSES + N_ATOM_CLASSES - 1])
        .collect();
    let mut value = 0.0;
    let mut d_c = vec![0.0; n * n];
    let mut d_q = vec![0.0; n];
    for u in 0..n {
        for v in u + 1..n {
            let qq = q[u] * q[v];
            let cuv = c[u * n + v];
            value += qq * (1.0 - cuv) + (1.0 - qq) * cuv;
            d_c[u * n + v] = 1.0 - 2.0 * qq;
            let d_qq = 1.0 - 2.0 * cuv;
            d_q[u] += d_qq * q[v];
            d_q[v] += d_qq * q[u];
        }
    }
    // Backward: ∂B = ∂C ⊙ s C (1 − C); every Ã_k (k ≥ 2) receives ∂B.
    let d_b: Vec<f64> = d_c
        .iter()
        .zip(&c)
        .map(|(&d, &cv)| d * sharpness * cv * (1.0 - cv))
        .collect();
    let mut d_a = vec![0.0; n * n];
    let mut d_walk = d_b.clone();
    for k in (1..walks.len()).rev() {
        // walks[k] = step(walks[k-1] · A).
        let d_pre: Vec<f64> = d_walk
            .iter()
            .zip(&walks[k])
            .map(|(&d, &w)| d * sharpness * w * (1.0 - w))
            .collect();
        // ∂walks[k-1] = ∂pre Aᵀ;  ∂A += walks[k-1]ᵀ ∂pre.
        let mut d_prev = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let mut s_prev = 0.0;
                let mut s_a = 0.0;
                for l in 0..n {
                    s_prev += d_pre[i * n + l] * a[j * n + l];
                    s_a += walks[k - 1][l * n + i] * d_pre[l * n + j];
                }
                d_prev[i * n + j] = s_prev;
                d_a[i * n + j] += s_a;
            }
        }
        if k > 1 {
            for (dp, &db) in d_prev.iter_mut().zip(&d_b) {
                *dp += db;
            }
        }
        d_walk = d_prev;
    }
    // walks[0] = A itself.
    for (da, dw) in d_a.iter_mut().zip(&d_walk) {
        *da += dw;
    }
    (value, d_a, d_q)
}

/// `[(n I − B)⁻¹]_uv` and its gradient `∂/∂B_ij = G_ui G_jv` (row-major).
fn resolvent_pair(b: &[f64], n: usize, u: usize, v: usize) -> (f64, Vec<f64>) {
    let m: Vec<f64> = (0..n * n)
        .map(|idx| {
            let diag = if idx / n == idx % n { n as f64 } else { 0.0 };
            diag - b[idx]
        })
        .collect();
    let g = invert_diagonally_dominant(&m, n);
    let grad = (0..n * n)
        .map(|idx| g[u * n + idx / n] * g[(idx % n) * n + v])
        .collect();
    (g[u * n + v], grad)
}

/// `s / (1 + s)` with `s = Σ_{k=2}^{n−1} (B^k)_uv`, and its gradient (row-major).
///
/// ```text
/// ∂(B^k)_uv/∂B_ij = Σ_{l=0}^{k−1} (B^l)_ui (B^{k−1−l})_jv
/// ∂s/∂B_ij = Σ_{l=0}^{n−2} (B^l)_ui · Σ_{m=max(0, 1−l)}^{n−2−l} (B^m)_jv
/// ```
fn walk_sum_pair(b: &[f64], n: usize, u: usize, v: usize) -> (f64, Vec<f64>) {
    let longest = n.saturating_sub(1);
    // Only row u and column v of the powers enter, so they are carried as vectors:
    // rows[k] = e_uᵀ B^k and cols[k] = B^k e_v for k = 0..longest − 1 (O(n²) per power, not
    // the O(n³) of a matrix power).
    let powers = longest.max(1);
    let mut rows = vec![vec![0.0; n]; powers];
    let mut cols = vec![vec![0.0; n]; powers];
    rows[0][u] = 1.0;
    cols[0][v] = 1.0;
    for k in 1..powers {
        let (done, next) = rows.split_at_mut(k);
        for (l, &r) in done[k - 1].iter().enumerate() {
            for (out, &blj) in next[0].iter_mut().zip(&b[l * n..(l + 1) * n]) {
                *out += r * blj;
            }
        }
        let (done, next) = cols.split_at_mut(k);
        for (i, out) in next[0].iter_mut().enumerate() {
            *out = b[i * n..(i + 1) * n]
                .iter()
                .zip(&done[k - 1])
                .map(|(&bil, &c)| bil * c)
                .sum();
        }
    }
    // s = Σ_{k=2}^{longest} (B^k)_uv with (B^k)_uv = Σ_l (B^{k−1})_ul B_lv.
    let mut s = 0.0;
    for row in rows.iter().take(longest).skip(1) {
        s += (0..n).map(|l| row[l] * b[l * n + v]).sum::<f64>();
    }
    let c = s / (1.0 + s);
    let d_s = 1.0 / ((1.0 + s) * (1.0 + s));
    let mut grad = vec![0.0; n * n];
    if longest < 2 {
        return (c, grad);
    }
    // Prefix sums over m of column v of B^m.
    let mut column_sums = vec![vec![0.0; n]; longest];
    for m in 0..longest {
        for j in 0..n {
            let previous = if m == 0 { 0.0 } else { column_sums[m - 1][j] };
            column_sums[m][j] = previous + cols[m][j];
        }
    }
    for (l, row_u) in rows.iter().enumerate().take(longest) {
        // m runs over max(0, 1 − l) ..= longest − 1 − l.
        let upper = longest - 1 - l;
        for j in 0..n {
            let mut tail = column_sums[upper][j];
            if l == 0 {
                tail -= cols[0][j];
            }
            if tail == 0.0 {
                continue;
            }
            for i in 0..n {
                grad[i * n + j] += d_s * row_u[i] * tail;
            }
        }
    }
    (c, grad)
}

/// Row-major `n × n` product.
fn matmul(x: &[f64], y: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for l in 0..n {
            let xil = x[i * n + l];
            for j in 0..n {
                out[i * n + j] += xil * y[l * n + j];
            }
        }
    }
    out
}

/// Inverse of a strictly diagonally dominant row-major matrix by Gauss–Jordan elimination
/// without pivoting (`n I − A` with entries of `A` in `[0, 1]` and a zero diagonal is strictly
/// diagonally dominant, so no pivot vanishes).
fn invert_diagonally_dominant(m: &[f64], n: usize) -> Vec<f64> {
    let mut work = m.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot = work[col * n + col];
        let inv_pivot = 1.0 / pivot;
        for j in 0..n {
            work[col * n + j] *= inv_pivot;
            inv[col * n + j] *= inv_pivot;
        }
        for row in (0..n).filter(|&r| r != col) {
            let factor = work[row * n + col];
            if factor == 0.0 {
                continue;
            }
            for j in 0..n {
                work[row * n + j] -= factor * work[col * n + j];
                inv[row * n + j] -= factor * inv[col * n + j];
            }
        }
    }
    inv
}

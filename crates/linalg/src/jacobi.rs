//! Allocation-free cyclic Jacobi eigensolver for small symmetric `f64` matrices on plain slices.
//!
//! [`crate::eigen::symmetric_eigen`] is the general entry point; this one exists for hot loops
//! over many tiny matrices (the 9×9 graph Laplacians of the scattering transform), where the
//! clone and the allocations of a nalgebra decomposition cost more than the arithmetic. Jacobi
//! rotations are also accurate to high relative precision for small eigenvalues, which matters
//! when filter responses are evaluated at Laplacian eigenvalues near 0.

use crate::{Error, Result};

/// Most sweeps before the solver gives up. Cyclic Jacobi converges quadratically; a 9×9 matrix
/// needs about 5–8 sweeps.
pub const MAX_SWEEPS: usize = 64;

/// Eigenvalues (ascending) and orthonormal eigenvectors of the symmetric `n × n` matrix stored
/// column-major in `a`, computed in place by cyclic Jacobi rotations.
///
/// ```text
/// A = U diag(λ) Uᵀ,   λ₁ ≤ λ₂ ≤ … ≤ λₙ,   U column-major in `vectors`, column e ↔ λₑ
/// ```
///
/// The full matrix is read (it must be symmetric; only the upper triangle's pivots are used) and
/// `a` is destroyed. A rotation zeroing `a_pq` is skipped once `|a_pq| ≤ ε·√|a_pp·a_qq|`, the
/// relative criterion of Demmel & Veselić, and the solver stops after a sweep with no rotation.
/// Returns the number of sweeps used. Allocates nothing.
///
/// # Errors
/// [`Error::ShapeMismatch`] if a slice length does not match `n`, [`Error::NonFinite`] if `a`
/// holds NaN or ±∞, and [`Error::InvalidArgument`] if the rotations did not settle within
/// [`MAX_SWEEPS`] sweeps.
///
/// # Example
/// ```
/// let mut a = vec![2.0, 1.0, 1.0, 2.0];
/// let (mut values, mut vectors) = (vec![0.0; 2], vec![0.0; 4]);
/// linalg::jacobi::symmetric_eigen_in_place(&mut a, 2, &mut values, &mut vectors).unwrap();
/// assert!((values[0] - 1.0).abs() < 1e-15 && (values[1] - 3.0).abs() < 1e-15);
/// assert!((vectors[2] * vectors[2] + vectors[3] * vectors[3] - 1.0).abs() < 1e-15);
/// ```
pub fn symmetric_eigen_in_place(
    a: &mut [f64],
    n: usize,
    values: &mut [f64],
    vectors: &mut [f64],
) -> Result<usize> {
    if a.len() != n * n {
        return Err(Error::ShapeMismatch {
            op: "jacobi matrix",
            expected: (n, n),
            got: (a.len(), 1),
        });
    }
    if values.len() != n {
        return Err(Error::ShapeMismatch {
            op: "jacobi values",
            expected: (n, 1),
            got: (values.len(), 1),
        });
    }
    if vectors.len() != n * n {
        return Err(Error::ShapeMismatch {
            op: "jacobi vectors",
            expected: (n, n),
            got: (vectors.len(), 1),
        });
    }
    if a.iter().any(|value| !value.is_finite()) {
        return Err(Error::NonFinite {
            what: "jacobi matrix",
        });
    }
    vectors.fill(0.0);
    for i in 0..n {
        vectors[i * n + i] = 1.0;
    }
    let mut sweeps = 0;
    loop {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[q * n + p];
                if apq == 0.0 {
                    continue;
                }
                let app = a[p * n + p];
                let aqq = a[q * n + q];
                if apq.abs() <= f64::EPSILON * (app * aqq).abs().sqrt() {
                    continue;
                }
                rotated = true;
                rotate(a, vectors, n, p, q, app, aqq, apq);
            }
        }
        if !rotated {
            break;
        }
        sweeps += 1;
        if sweeps > MAX_SWEEPS {
            return Err(Error::InvalidArgument {
                name: "matrix",
                reason: format!("Jacobi rotations did not settle within {MAX_SWEEPS} sweeps"),
            });
        }
    }
    for (i, value) in values.iter_mut().enumerate() {
        *value = a[i * n + i];
    }
    sort_ascending(values, vectors, n);
    Ok(sweeps)
}

/// Applies the rotation J(p, q, θ) that zeroes `a_pq`: `A ← Jᵀ A J`, `V ← V J`.
///
/// ```text
/// τ = (a_qq − a_pp) / (2 a_pq),  t = sign(τ) / (|τ| + √(1 + τ²)),  c = 1/√(1 + t²),  s = t c
/// ```
#[allow(clippy::too_many_arguments)]
fn rotate(
    a: &mut [f64],
    vectors: &mut [f64],
    n: usize,
    p: usize,
    q: usize,
    app: f64,
    aqq: f64,
    apq: f64,
) {
    let tau = (aqq - app) / (2.0 * apq);
    // t = sign(τ)/(|τ| + √(1 + τ²)), the smaller root of t² + 2τt − 1 = 0 (|t| ≤ 1); for huge |τ|
    // (where τ² would overflow) t → 1/(2τ). `sqrt` instead of `hypot`: hypot was 6 % of a 9×9
    // scattering transform.
    let t = if tau.abs() > 1e150 {
        0.5 / tau
    } else {
        let root = (1.0 + tau * tau).sqrt();
        if tau >= 0.0 {
            1.0 / (tau + root)
        } else {
            -1.0 / (-tau + root)
        }
    };
    let c = 1.0 / (1.0 + t * t).sqrt();
    let s = t * c;
    for k in 0..n {
        if k == p || k == q {
            continue;
        }
        let akp = a[p * n + k];
        let akq = a[q * n + k];
        let new_kp = c * akp - s * akq;
        let new_kq = s * akp + c * akq;
        a[p * n + k] = new_kp;
        a[k * n + p] = new_kp;
        a[q * n + k] = new_kq;
        a[k * n + q] = new_kq;
    }
    a[p * n + p] = app - t * apq;
    a[q * n + q] = aqq + t * apq;
    a[q * n + p] = 0.0;
    a[p * n + q] = 0.0;
    for k in 0..n {
        let vkp = vectors[p * n + k];
        let vkq = vectors[q * n + k];
        vectors[p * n + k] = c * vkp - s * vkq;
        vectors[q * n + k] = s * vkp + c * vkq;
    }
}

/// Selection sort of the eigenpairs by eigenvalue (n is small; swaps whole columns).
fn sort_ascending(values: &mut [f64], vectors: &mut [f64], n: usize) {
    for i in 0..n {
        let mut min_idx = i;
        for j in i + 1..n {
            if values[j] < values[min_idx] {
                min_idx = j;
            }
        }
        if min_idx != i {
            values.swap(i, min_idx);
            for k in 0..n {
                vectors.swap(i * n + k, min_idx * n + k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_a_random_symmetric_matrix() {
        let n = 9;
        let mut original = vec![0.0; n * n];
        let mut state = 12345_u64;
        for i in 0..n {
            for j in 0..=i {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let value = ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
                original[i * n + j] = value;
                original[j * n + i] = value;
            }
        }
        let mut a = original.clone();
        let (mut values, mut vectors) = (vec![0.0; n], vec![0.0; n * n]);
        let sweeps = symmetric_eigen_in_place(&mut a, n, &mut values, &mut vectors).unwrap();
        assert!(sweeps <= 12, "{sweeps} sweeps");
        assert!(values.windows(2).all(|pair| pair[0] <= pair[1]));
        for i in 0..n {
            for j in 0..n {
                let rebuilt: f64 = (0..n)
                    .map(|e| vectors[e * n + i] * values[e] * vectors[e * n + j])
                    .sum();
                assert!(
                    (rebuilt - original[j * n + i]).abs() < 1e-13,
                    "entry ({i}, {j})"
                );
                let gram: f64 = (0..n)
                    .map(|k| vectors[i * n + k] * vectors[j * n + k])
                    .sum();
                let identity = if i == j { 1.0 } else { 0.0 };
                assert!((gram - identity).abs() < 1e-13, "gram ({i}, {j})");
            }
        }
    }

    #[test]
    fn rejects_non_finite_and_bad_shapes() {
        let (mut values, mut vectors) = (vec![0.0; 2], vec![0.0; 4]);
        let mut a = vec![f64::NAN, 0.0, 0.0, 1.0];
        assert!(matches!(
            symmetric_eigen_in_place(&mut a, 2, &mut values, &mut vectors),
            Err(Error::NonFinite { .. })
        ));
        let mut short = vec![1.0; 3];
        assert!(matches!(
            symmetric_eigen_in_place(&mut short, 2, &mut values, &mut vectors),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}

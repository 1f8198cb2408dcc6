//! A fused low-rank update with an in-pass projection: the single pass over `W` that a
//! batch-1 plasticity step needs.
//!
//! A plasticity step such as pseudo-gradient + Oja,
//!
//! ```text
//! ΔW = −θ₀ e yₚᵀ + θ₉ y (yₚ − Wᵀy)ᵀ        [B §Methods, Eqs. 14 and 23]
//! ```
//!
//! would take three passes over `W` with separate kernels (`gemv_t` for `Wᵀy`, then two `ger`s).
//! Column `j` of `Wᵀy` only needs column `j` of `W`, so [`low_rank_update`] computes that dot
//! product while the column is in L1 and updates the same column right away: `W` is read and
//! written once. W is processed in blocks of
//! 32 columns: faer's kernel computes the block's `Wᵀu`, and plain Rust loops, compiled under the
//! best instruction set the CPU has (pulp's runtime dispatch, the mechanism faer uses), update
//! the block while it is still in L1.

use faer::traits::pulp;

use crate::{Float, Matrix, Vector};

/// One fused update `W ← δ W + a rᵀ + b (s + γ Wᵀu)ᵀ`; see [`low_rank_update`].
///
/// Each optional part is `(left, right)`: `first = (a, r)`, `second = (b, s)`,
/// `projection = (γ, u)`. A part that is `None` contributes nothing (its vectors are never read).
#[derive(Debug, Clone, Copy)]
pub struct LowRankUpdate<'a, T: Float> {
    /// `δ`, the factor on the old weights (`1` for none).
    pub decay: T,
    /// `(a, r)`: the first rank-1 part `a rᵀ`.
    pub first: Option<(&'a Vector<T>, &'a Vector<T>)>,
    /// `(b, s)`: the second rank-1 part `b sᵀ`.
    pub second: Option<(&'a Vector<T>, &'a Vector<T>)>,
    /// `(γ, u)`: adds `γ Wᵀu` (of the old `W`) to the second part's right vector.
    pub projection: Option<(T, &'a Vector<T>)>,
}

/// Fused update in one pass over column-major `W` (`n × m`):
///
/// ```text
/// pⱼ      = Σᵢ Wᵢⱼ uᵢ                                   (old W, p = Wᵀu)
/// W[:,j] ← δ W[:,j] + a rⱼ + b (sⱼ + γ pⱼ)
/// ```
///
/// # Panics
/// If a vector's length does not match `W`, or `projection` is given without `second`.
///
/// # Example
/// ```
/// use linalg::{Matrix, Vector, fused::{low_rank_update, LowRankUpdate}};
/// let mut w = Matrix::<f64>::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]);
/// let y = Vector::from_vec(vec![1.0, 0.0]);
/// let zeros = Vector::zeros(2);
/// // Oja's correction alone with γ = −1: W ← W − y (Wᵀy)ᵀ.
/// low_rank_update(&mut w, &LowRankUpdate {
///     decay: 1.0,
///     first: None,
///     second: Some((&y, &zeros)),
///     projection: Some((-1.0, &y)),
/// });
/// assert_eq!(w.as_slice(), &[0.0, 0.0, 0.0, 1.0]);
/// ```
pub fn low_rank_update<T: Float>(w: &mut Matrix<T>, update: &LowRankUpdate<'_, T>) {
    let (n, m) = w.shape();
    if let Some((a, r)) = update.first {
        assert_eq!(
            a.len(),
            n,
            "low_rank_update: first left vector has length {}, W has {n} rows",
            a.len()
        );
        assert_eq!(
            r.len(),
            m,
            "low_rank_update: first right vector has length {}, W has {m} columns",
            r.len()
        );
    }
    if let Some((b, s)) = update.second {
        assert_eq!(
            b.len(),
            n,
            "low_rank_update: second left vector has length {}, W has {n} rows",
            b.len()
        );
        assert_eq!(
            s.len(),
            m,
            "low_rank_update: second right vector has length {}, W has {m} columns",
            s.len()
        );
    }
    if let Some((_, u)) = update.projection {
        assert!(
            update.second.is_some(),
            "low_rank_update: a projection needs a second part"
        );
        assert_eq!(
            u.len(),
            n,
            "low_rank_update: projection vector has length {}, W has {n} rows",
            u.len()
        );
    }
    if n == 0 || m == 0 {
        return;
    }
    let kernel = Kernel {
        data: w.as_mut_slice(),
        n_rows: n,
        decay: update.decay,
        first: update.first.map(|(a, r)| (a.as_slice(), r.as_slice())),
        second: update.second.map(|(b, s)| (b.as_slice(), s.as_slice())),
        projection: update.projection.map(|(gamma, u)| (gamma, u.as_slice())),
    };
    pulp::Arch::new().dispatch(kernel);
}

/// The column loop, run by pulp under the best instruction set the CPU supports.
struct Kernel<'a, T> {
    data: &'a mut [T],
    n_rows: usize,
    decay: T,
    first: Option<(&'a [T], &'a [T])>,
    second: Option<(&'a [T], &'a [T])>,
    projection: Option<(T, &'a [T])>,
}

impl<T: Float> pulp::WithSimd for Kernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Kernel {
            data,
            n_rows,
            decay,
            first,
            second,
            projection,
        } = self;
        let mut projected = [T::zero(); BLOCK];
        for (block_idx, block) in data.chunks_mut(n_rows * BLOCK).enumerate() {
            let n_cols = block.len() / n_rows;
            let col0 = block_idx * BLOCK;
            if let Some((_, u)) = projection {
                // p = uᵀ W[:, block] with faer's kernel, while the block is in L1.
                T::faer_matmul(
                    &mut projected[..n_cols],
                    1,
                    n_cols,
                    false,
                    (u, n_rows, 1, true),
                    (block, n_rows, n_cols, false),
                    T::one(),
                );
            }
            for (offset, col) in block.chunks_exact_mut(n_rows).enumerate() {
                let col_idx = col0 + offset;
                let second_coef = second.map(|(_, s)| match projection {
                    Some((gamma, _)) => s[col_idx] + gamma * projected[offset],
                    None => s[col_idx],
                });
                update_column(
                    col,
                    decay,
                    first.map(|(a, r)| (a, r[col_idx])),
                    second.zip(second_coef).map(|((b, _), sc)| (b, sc)),
                );
            }
        }
    }
}

/// Columns per block: a 170-row `f32` block of 32 columns is 22 KB and stays in L1.
const BLOCK: usize = 32;

/// `col ← δ col + a·rc + b·sc` for the parts that are present.
#[inline(always)]
fn update_column<T: Float>(
    col: &mut [T],
    decay: T,
    first: Option<(&[T], T)>,
    second: Option<(&[T], T)>,
) {
    match (first, second) {
        (Some((a, rc)), Some((b, sc))) => {
            for ((wi, &ai), &bi) in col.iter_mut().zip(a).zip(b) {
                *wi = decay * *wi + ai * rc + bi * sc;
            }
        }
        (Some((a, rc)), None) | (None, Some((a, rc))) => {
            for (wi, &ai) in col.iter_mut().zip(a) {
                *wi = decay * *wi + ai * rc;
            }
        }
        (None, None) => {
            for wi in col.iter_mut() {
                *wi *= decay;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_dense_formula_for_every_combination_of_parts() {
        let (n, m) = (37, 5);
        let w0 = Matrix::<f64>::from_fn(n, m, |i, j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4);
        let vec_n = |k: usize| Vector::<f64>::from_fn(n, |i, _| ((i + k) % 5) as f64 * 0.1 - 0.2);
        let vec_m =
            |k: usize| Vector::<f64>::from_fn(m, |i, _| ((i * k + 1) % 3) as f64 * 0.3 - 0.1);
        let (a, b, u) = (vec_n(1), vec_n(2), vec_n(3));
        let (r, s) = (vec_m(1), vec_m(2));
        for mask in 0..8u32 {
            let first = (mask & 1 != 0).then_some((&a, &r));
            let second = (mask & 2 != 0).then_some((&b, &s));
            let projection = (mask & 6 == 6).then_some((-0.7, &u));
            let mut w = w0.clone();
            low_rank_update(
                &mut w,
                &LowRankUpdate {
                    decay: 0.9,
                    first,
                    second,
                    projection,
                },
            );
            let mut expected = &w0 * 0.9;
            if first.is_some() {
                expected += &a * r.transpose();
            }
            if second.is_some() {
                let mut right = s.clone();
                if projection.is_some() {
                    right += w0.transpose() * &u * -0.7;
                }
                expected += &b * right.transpose();
            }
            for (x, y) in w.iter().zip(expected.iter()) {
                assert!((x - y).abs() < 1e-12, "mask {mask}: {x} vs {y}");
            }
        }
    }
}

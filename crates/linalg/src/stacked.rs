//! A matrix with stacked forward-mode tangents: one pass that updates `W` and every `Ẇ_k` by a
//! low-rank rule and computes the next product `W x` with its tangents.
//!
//! Forward-mode differentiation through an online plasticity rule carries, next to `W`
//! (`n × m`, column-major), `R` tangents `Ẇ_k` stacked into one column-major `(R·n) × m` matrix
//! (block `k` in rows `k·n..(k+1)·n`, so column `j` of every tangent is one contiguous run).
//! A step of such a rule reads each column of `W` and `Ẇ` up to four times with separate
//! kernels: the projection `Wᵀu` (and its tangent), the update of `Ẇ`, the update of `W`, and the
//! next step's product `W x`. Each of them only needs column `j` to produce entry or column `j`
//! (or to accumulate into a short vector), so [`stacked_update`] does all four while the column
//! is in L1: `W` and `Ẇ` are read from memory once and written once per step.
//!
//! For `f32` (training) the pass runs four columns at a time with explicit SIMD and fused
//! multiply-adds under the best instruction set the CPU has (pulp's runtime dispatch, as faer
//! does), so the last bits depend on the vector width, as faer's do. Other types (`f64`: tests,
//! numerics) take a plain column-by-column loop in the order of the formulas.

use std::any::Any;

use crate::{Float, Matrix};

use self::simd::{product_t_f32, update_f32};

mod simd;

/// The vectors of one update of `W` and its stacked tangents; see [`stacked_update`].
#[derive(Debug)]
pub struct StackedUpdate<'a, T: Float> {
    /// `δ`, the factor on the old `W` and `Ẇ_k` (`1` for none).
    pub decay: T,
    /// The tangent `k` that also gets `−W_old` (the tangent of the coefficient of `−W`).
    pub decay_tangent: Option<usize>,
    /// The left vectors `a`, `b` (`n` each).
    pub left: [&'a [T]; 2],
    /// Their tangents `ȧ_k`, `ḃ_k`, `k`-major (`R·n` each: `ȧ_k` at `k·n..(k+1)·n`).
    pub left_dot: [&'a [T]; 2],
    /// The right vectors, interleaved: `[c₀ⱼ, c₁ⱼ, c₂ⱼ]` at `3j` (`3m` entries).
    pub right: &'a [T],
    /// Their tangents: `ċ_kaⱼ` at `3R·j + 3k + a` (`3R·m` entries).
    pub right_dot: &'a [T],
    /// A projection of the old matrix added to the second right vector, if any.
    pub projection: Option<StackedProjection<'a, T>>,
    /// The product with the updated matrix, if wanted.
    pub product: Option<StackedProduct<'a, T>>,
}

/// `c₁ⱼ += γ pⱼ` and `ċ_k1ⱼ += γ ṗⱼₖ + [k = k_γ] γ̇ pⱼ` with `pⱼ = W_old[:,j]ᵀ u` and
/// `ṗⱼₖ = Ẇ_k,old[:,j]ᵀ u + W_old[:,j]ᵀ u̇_k`: the second right vector gets `γ Wᵀu` of the old
/// matrix, differentiated by the product rule (Oja's `−θ₉ Wᵀy`).
#[derive(Debug, Clone, Copy)]
pub struct StackedProjection<'a, T: Float> {
    /// `γ`.
    pub gamma: T,
    /// `(k_γ, γ̇)`: the tangent in which `γ` itself moves, and its derivative.
    pub gamma_tangent: Option<(usize, T)>,
    /// `u` (`n` entries).
    pub u: &'a [T],
    /// `u̇_k`, `k`-major (`R·n`).
    pub u_dot: &'a [T],
}

/// The next product `z = W_new x`, `ż_k = Ẇ_k,new x + W_new ẋ_k` (overwritten).
#[derive(Debug)]
pub struct StackedProduct<'a, T: Float> {
    /// `x` (`m` entries).
    pub input: &'a [T],
    /// `ẋ_k`, `k`-major (`R·m`); `None` for `ẋ = 0`.
    pub input_dot: Option<&'a [T]>,
    /// `z` (`n` entries).
    pub output: &'a mut [T],
    /// `ż_k`, `k`-major (`R·n`).
    pub output_dot: &'a mut [T],
}

/// Updates `W` (`n × m`) and the stacked tangents `Ẇ` (`(R·n) × m`, `R = Ẇ.nrows() / n`) in
/// one pass over the columns:
///
/// ```text
/// pⱼ, ṗⱼₖ   = W[:,j]ᵀu, Ẇ_k[:,j]ᵀu + W[:,j]ᵀu̇_k                       (old W, Ẇ; if `projection`)
/// c₁ⱼ      += γ pⱼ,  ċ_k1ⱼ += γ ṗⱼₖ + [k = k_γ] γ̇ pⱼ
/// W[:,j]   ← δ W[:,j] + a c₀ + b c₁ + c₂ 1
/// Ẇ_k[:,j] ← δ Ẇ_k[:,j] + ȧ_k c₀ + ḃ_k c₁ + a ċ_k0 + b ċ_k1 + ċ_k2 1 − [k = k₃] W_old[:,j]
/// z, ż_k    = W x, Ẇ_k x + W ẋ_k                                     (new W, Ẇ; if `product`)
/// ```
///
/// Columns are visited in order `j = 0, 1, …`, so `z` sums the columns in order. The `f32`
/// path splits a large pass (`n·m·(R + 1) ≥ 2¹⁶`: the paper's first two layers) into two fixed
/// halves of columns run in parallel (`rayon::join`) and adds the upper half's share of `z`
/// after the lower half's; the split depends on the shape alone, so the bits do not depend on
/// the number of threads. In the `f32` path a group of four columns whose `xⱼ` are all zero
/// (and with `ẋ = 0`) adds nothing to the product (MNIST backgrounds), so a non-finite entry
/// there does not reach `z`.
///
/// # Panics
/// If a shape does not match: `Ẇ` must have `R·n` rows for some `R` and `m` columns, the vectors
/// the sizes above, `decay_tangent < R`.
///
/// # Example
/// ```
/// use linalg::{Matrix, stacked::{stacked_update, StackedProduct, StackedUpdate}};
/// // W = [1 2] (1 × 2), one tangent Ẇ = 0, a = [1], ȧ = [0.5]: W ← W + a cᵀ with c = (1, 1).
/// let mut w = Matrix::<f64>::from_row_slice(1, 2, &[1.0, 2.0]);
/// let mut w_dot = Matrix::<f64>::zeros(1, 2);
/// let (a, a_dot, zero) = ([1.0], [0.5], [0.0]);
/// let (mut z, mut z_dot) = ([0.0], [0.0]);
/// let update = StackedUpdate {
///     decay: 1.0,
///     decay_tangent: None,
///     left: [&a, &zero],
///     left_dot: [&a_dot, &zero],
///     right: &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
///     right_dot: &[0.0; 6],
///     projection: None,
///     product: Some(StackedProduct {
///         input: &[1.0, 1.0],
///         input_dot: None,
///         output: &mut z,
///         output_dot: &mut z_dot,
///     }),
/// };
/// stacked_update(&mut w, &mut w_dot, update);
/// assert_eq!(w.as_slice(), &[2.0, 3.0]);
/// assert_eq!(w_dot.as_slice(), &[0.5, 0.5]); // Ẇ ← Ẇ + ȧ c₀.
/// assert_eq!((z[0], z_dot[0]), (5.0, 1.0));
/// ```
pub fn stacked_update<T: Float>(
    w: &mut Matrix<T>,
    w_dot: &mut Matrix<T>,
    update: StackedUpdate<'_, T>,
) {
    let shape = check_shapes(w, w_dot, &update);
    if shape.m == 0 {
        if let Some(product) = update.product {
            product.output.fill(T::zero());
            product.output_dot.fill(T::zero());
        }
        return;
    }
    if let (Some(w32), Some(w_dot32)) = (
        (w as &mut dyn Any).downcast_mut::<Matrix<f32>>(),
        (w_dot as &mut dyn Any).downcast_mut::<Matrix<f32>>(),
    ) {
        update_f32(shape, w32.as_mut_slice(), w_dot32.as_mut_slice(), update);
        return;
    }
    update_generic(shape, w.as_mut_slice(), w_dot.as_mut_slice(), update);
}

/// `n`, `m` and `R`.
#[derive(Debug, Clone, Copy)]
struct Shape {
    n: usize,
    m: usize,
    r: usize,
}

fn check_shapes<T: Float>(
    w: &Matrix<T>,
    w_dot: &Matrix<T>,
    update: &StackedUpdate<'_, T>,
) -> Shape {
    let (n, m) = w.shape();
    assert!(n > 0, "stacked_update: W has no rows");
    assert!(
        w_dot.nrows().is_multiple_of(n) && w_dot.ncols() == m,
        "stacked_update: Ẇ is {:?}, W is {n}x{m}",
        w_dot.shape()
    );
    let r = w_dot.nrows() / n;
    let check = |name: &str, len: usize, expected: usize| {
        assert_eq!(
            len, expected,
            "stacked_update: {name} has {len} entries, expected {expected}"
        );
    };
    check("a", update.left[0].len(), n);
    check("b", update.left[1].len(), n);
    check("ȧ", update.left_dot[0].len(), r * n);
    check("ḃ", update.left_dot[1].len(), r * n);
    check("right", update.right.len(), 3 * m);
    check("right_dot", update.right_dot.len(), 3 * r * m);
    if let Some(projection) = update.projection {
        check("u", projection.u.len(), n);
        check("u̇", projection.u_dot.len(), r * n);
        if let Some((k, _)) = projection.gamma_tangent {
            assert!(k < r, "stacked_update: γ tangent {k} of {r} tangents");
        }
    }
    if let Some(k) = update.decay_tangent {
        assert!(k < r, "stacked_update: decay tangent {k} of {r} tangents");
    }
    if let Some(product) = &update.product {
        check("x", product.input.len(), m);
        if let Some(x_dot) = product.input_dot {
            check("ẋ", x_dot.len(), r * m);
        }
        check("z", product.output.len(), n);
        check("ż", product.output_dot.len(), r * n);
    }
    Shape { n, m, r }
}

/// The plain path: column by column, each formula in its written order.
fn update_generic<T: Float>(
    Shape { n, m, r }: Shape,
    w: &mut [T],
    w_dot: &mut [T],
    update: StackedUpdate<'_, T>,
) {
    let zero = T::zero();
    let StackedUpdate {
        decay,
        decay_tangent,
        left: [a, b],
        left_dot: [a_dot, b_dot],
        right,
        right_dot,
        projection,
        mut product,
    } = update;
    if let Some(product) = product.as_mut() {
        product.output.fill(zero);
        product.output_dot.fill(zero);
    }
    let mut p_dot = vec![zero; r];
    let mut c_dot = vec![zero; 3 * r];
    let mut w_old = vec![zero; n];
    let stride = r * n;
    for j in 0..m {
        let w_col = &mut w[j * n..(j + 1) * n];
        let wd_col = &mut w_dot[j * stride..(j + 1) * stride];
        let dot = |x: &[T], y: &[T]| x.iter().zip(y).fold(zero, |acc, (&xi, &yi)| acc + xi * yi);
        let mut c = [right[3 * j], right[3 * j + 1], right[3 * j + 2]];
        c_dot.copy_from_slice(&right_dot[3 * r * j..3 * r * (j + 1)]);
        if let Some(projection) = projection {
            let u = projection.u;
            for (k, pd) in p_dot.iter_mut().enumerate() {
                let span = k * n..(k + 1) * n;
                *pd = dot(&wd_col[span.clone()], u) + dot(w_col, &projection.u_dot[span]);
            }
            let p = dot(w_col, u);
            c[1] += projection.gamma * p;
            for (k, &pd) in p_dot.iter().enumerate() {
                c_dot[3 * k + 1] += projection.gamma * pd;
            }
            if let Some((k, gamma_dot)) = projection.gamma_tangent {
                c_dot[3 * k + 1] += gamma_dot * p;
            }
        }
        w_old.copy_from_slice(w_col);
        for ((v, &ai), &bi) in w_col.iter_mut().zip(a).zip(b) {
            *v = decay * *v + ai * c[0] + bi * c[1] + c[2];
        }
        for (k, wd) in wd_col.chunks_exact_mut(n).enumerate() {
            let cd = &c_dot[3 * k..3 * k + 3];
            let left_dot = a_dot[k * n..(k + 1) * n]
                .iter()
                .zip(&b_dot[k * n..(k + 1) * n]);
            for (((v, (&ad, &bd)), (&ai, &bi)), &old) in
                wd.iter_mut().zip(left_dot).zip(a.iter().zip(b)).zip(&w_old)
            {
                *v = decay * *v + ad * c[0] + bd * c[1] + ai * cd[0] + bi * cd[1] + cd[2];
                if decay_tangent == Some(k) {
                    *v -= old;
                }
            }
        }
        if let Some(product) = product.as_mut() {
            let x = product.input[j];
            for (zi, &wi) in product.output.iter_mut().zip(w_col.iter()) {
                *zi += wi * x;
            }
            for (k, (zd, wd)) in product
                .output_dot
                .chunks_exact_mut(n)
                .zip(wd_col.chunks_exact(n))
                .enumerate()
            {
                let x_dot = product.input_dot.map_or(zero, |x_dot| x_dot[k * m + j]);
                for ((zi, &wdi), &wi) in zd.iter_mut().zip(wd).zip(w_col.iter()) {
                    *zi += wdi * x + wi * x_dot;
                }
            }
        }
    }
}

/// `K` transposed products with one matrix: `out_k = Bᵀ v_k` for `B` (`n × m`) and the `K`
/// vectors stacked `k`-major in `vectors` (`K·n`), written `k`-major to `out` (`K·m`). Each
/// column of `B` is read once for all `K` products (the back-projection of an error and its
/// tangents through one feedback matrix).
///
/// # Panics
/// If `vectors` is not a multiple of `n` long (`n > 0`), or `out` is not `K·m` long.
///
/// # Example
/// ```
/// use linalg::{Matrix, stacked::stacked_product_t};
/// let b = Matrix::<f64>::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut out = [0.0; 6];
/// stacked_product_t(&b, &[1.0, 0.0, 0.0, 1.0], &mut out);
/// assert_eq!(out, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]); // Rows of B.
/// ```
pub fn stacked_product_t<T: Float>(b: &Matrix<T>, vectors: &[T], out: &mut [T]) {
    let (n, m) = b.shape();
    assert!(n > 0, "stacked_product_t: B has no rows");
    assert_eq!(
        vectors.len() % n,
        0,
        "stacked_product_t: {} vector entries for {n} rows",
        vectors.len()
    );
    let k_count = vectors.len() / n;
    assert_eq!(
        out.len(),
        k_count * m,
        "stacked_product_t: out has {} entries, expected {k_count}·{m}",
        out.len()
    );
    if let Some(b32) = (b as &dyn Any).downcast_ref::<Matrix<f32>>() {
        let v32: Vec<f32> = vectors.iter().map(|v| v.as_f64() as f32).collect();
        let mut out32 = vec![0.0f32; out.len()];
        product_t_f32(b32.as_slice(), n, &v32, &mut out32);
        for (o, &v) in out.iter_mut().zip(&out32) {
            *o = T::of_f64(f64::from(v));
        }
        return;
    }
    for (j, col) in b.as_slice().chunks_exact(n).enumerate() {
        for (k, v) in vectors.chunks_exact(n).enumerate() {
            out[k * m + j] = col
                .iter()
                .zip(v)
                .fold(T::zero(), |acc, (&bi, &vi)| acc + bi * vi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random value in [−0.5, 0.5) (no RNG needed for shapes tests).
    fn value(seed: usize, idx: usize) -> f32 {
        let h = (seed.wrapping_mul(2_654_435_761) ^ idx.wrapping_mul(40_503)).wrapping_mul(97);
        (h % 1000) as f32 / 1000.0 - 0.5
    }

    fn vector(seed: usize, len: usize) -> Vec<f32> {
        (0..len).map(|idx| value(seed, idx)).collect()
    }

    /// Runs the `f32` path and the plain path on the same `f32` data and compares every output.
    #[track_caller]
    fn check(n: usize, m: usize, r: usize, options: (bool, bool, bool, bool, bool)) {
        let (decayed, with_projection, with_product, with_input_dot, sparse) = options;
        let w0 = Matrix::<f32>::from_fn(n, m, |i, j| value(1, i * m + j));
        let wd0 = Matrix::<f32>::from_fn(r * n, m, |i, j| value(2, i * m + j));
        let (a, b) = (vector(3, n), vector(4, n));
        let (a_dot, b_dot) = (vector(5, r * n), vector(6, r * n));
        let right = vector(7, 3 * m);
        let right_dot = vector(8, 3 * r * m);
        let (u, u_dot) = (vector(9, n), vector(10, r * n));
        let mut x = vector(11, m);
        if sparse {
            // Zero runs longer than a group, as MNIST backgrounds.
            x.iter_mut()
                .enumerate()
                .filter(|(j, _)| j % 11 < 7)
                .for_each(|(_, v)| *v = 0.0);
        }
        let x_dot = vector(12, r * m);
        let run = |f32_path: bool| {
            let (mut w, mut wd) = (w0.clone(), wd0.clone());
            let (mut z, mut z_dot) = (vec![0.0f32; n], vec![0.0f32; r * n]);
            let update = StackedUpdate {
                decay: if decayed { 0.97 } else { 1.0 },
                decay_tangent: (decayed && r > 1).then_some(1),
                left: [&a, &b],
                left_dot: [&a_dot, &b_dot],
                right: &right,
                right_dot: &right_dot,
                projection: with_projection.then(|| StackedProjection {
                    gamma: -0.3,
                    gamma_tangent: (r > 0).then(|| (r - 1, -1.0)),
                    u: &u,
                    u_dot: &u_dot,
                }),
                product: with_product.then(|| StackedProduct {
                    input: &x,
                    input_dot: with_input_dot.then_some(x_dot.as_slice()),
                    output: &mut z,
                    output_dot: &mut z_dot,
                }),
            };
            let shape = Shape { n, m, r };
            if f32_path {
                update_f32(shape, w.as_mut_slice(), wd.as_mut_slice(), update);
            } else {
                update_generic(shape, w.as_mut_slice(), wd.as_mut_slice(), update);
            }
            (w, wd, z, z_dot)
        };
        let fast = run(true);
        let plain = run(false);
        let pairs = [
            (fast.0.as_slice(), plain.0.as_slice()),
            (fast.1.as_slice(), plain.1.as_slice()),
            (&fast.2[..], &plain.2[..]),
            (&fast.3[..], &plain.3[..]),
        ];
        for (what, (got, expected)) in ["W", "Ẇ", "z", "ż"].iter().zip(pairs) {
            assert_eq!(got.len(), expected.len());
            for (idx, (g, e)) in got.iter().zip(expected).enumerate() {
                // f32 sums of ≤ 200 O(1) terms in another order (SIMD lanes, FMA).
                assert!(
                    (g - e).abs() <= 1e-4 * (1.0 + e.abs()),
                    "{what}[{idx}] ({n}x{m}, R = {r}, {options:?}): {g} vs {e}"
                );
            }
        }
    }

    #[test]
    fn simd_path_matches_the_plain_path() {
        let all = [
            (false, true, true, true, false),
            (false, true, true, false, true),
            (false, false, true, true, false),
            (false, true, false, false, false),
            (true, true, true, true, false),
            (true, false, true, false, true),
        ];
        // (130, 170) and (90, 187) with R = 3 are split into two halves (one with a tail).
        for (n, m) in [
            (1, 1),
            (7, 9),
            (17, 23),
            (33, 4),
            (47, 70),
            (170, 13),
            (130, 170),
            (90, 187),
        ] {
            for r in [0, 1, 3] {
                for options in all {
                    check(n, m, r, options);
                }
            }
        }
    }

    #[test]
    fn split_passes_give_the_same_bits_at_any_thread_count() {
        let (n, m, r) = (130, 170, 3);
        let w0 = Matrix::<f32>::from_fn(n, m, |i, j| value(1, i * m + j));
        let wd0 = Matrix::<f32>::from_fn(r * n, m, |i, j| value(2, i * m + j));
        let (a, b) = (vector(3, n), vector(4, n));
        let (a_dot, b_dot) = (vector(5, r * n), vector(6, r * n));
        let (right, right_dot) = (vector(7, 3 * m), vector(8, 3 * r * m));
        let (u, u_dot) = (vector(9, n), vector(10, r * n));
        let (x, x_dot) = (vector(11, m), vector(12, r * m));
        let stack = vector(13, (r + 1) * n);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            pool.install(|| {
                let (mut w, mut wd) = (w0.clone(), wd0.clone());
                let (mut z, mut z_dot) = (vec![0.0f32; n], vec![0.0f32; r * n]);
                let update = StackedUpdate {
                    decay: 0.99,
                    decay_tangent: Some(2),
                    left: [&a, &b],
                    left_dot: [&a_dot, &b_dot],
                    right: &right,
                    right_dot: &right_dot,
                    projection: Some(StackedProjection {
                        gamma: -0.3,
                        gamma_tangent: Some((1, -1.0)),
                        u: &u,
                        u_dot: &u_dot,
                    }),
                    product: Some(StackedProduct {
                        input: &x,
                        input_dot: Some(&x_dot),
                        output: &mut z,
                        output_dot: &mut z_dot,
                    }),
                };
                stacked_update(&mut w, &mut wd, update);
                let mut projected = vec![0.0f32; (r + 1) * m];
                stacked_product_t(&w, &stack, &mut projected);
                (w, wd, z, z_dot, projected)
            })
        };
        let one = run(1);
        assert!(one.2.iter().chain(&one.3).all(|v| v.is_finite()));
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }

    #[test]
    fn zero_coefficients_leave_the_matrices_unchanged() {
        let (n, m, r) = (19, 10, 2);
        let mut w = Matrix::<f32>::from_fn(n, m, |i, j| value(1, i * m + j));
        let mut wd = Matrix::<f32>::from_fn(r * n, m, |i, j| value(2, i * m + j));
        let (w0, wd0) = (w.clone(), wd.clone());
        let (a, a_dot) = (vector(3, n), vector(5, r * n));
        let update = StackedUpdate {
            decay: 1.0,
            decay_tangent: None,
            left: [&a, &a],
            left_dot: [&a_dot, &a_dot],
            right: &vec![0.0; 3 * m],
            right_dot: &vec![0.0; 3 * r * m],
            projection: None,
            product: None,
        };
        stacked_update(&mut w, &mut wd, update);
        assert_eq!(w, w0);
        assert_eq!(wd, wd0);
    }

    #[test]
    fn transposed_products_match_the_plain_loop() {
        // The last two are split into two halves of columns.
        for (n, m, k_count) in [
            (1, 1, 1),
            (9, 7, 4),
            (47, 70, 2),
            (170, 33, 5),
            (170, 390, 1),
            (170, 99, 4),
        ] {
            let b = Matrix::<f32>::from_fn(n, m, |i, j| value(13, i * m + j));
            let vectors = vector(14, k_count * n);
            let mut out = vec![0.0f32; k_count * m];
            stacked_product_t(&b, &vectors, &mut out);
            for k in 0..k_count {
                for j in 0..m {
                    let expected: f32 = (0..n).map(|i| b[(i, j)] * vectors[k * n + i]).sum();
                    let got = out[k * m + j];
                    assert!(
                        (got - expected).abs() <= 1e-4,
                        "{n}x{m}: {got} vs {expected}"
                    );
                }
            }
        }
    }
}

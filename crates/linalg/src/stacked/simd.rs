//! The `f32` path of [`super::stacked_update`] and [`super::stacked_product_t`]: explicit SIMD
//! under pulp's runtime dispatch, four columns at a time.

use faer::traits::pulp;

use crate::Float;

use super::{Shape, StackedUpdate};

/// Columns per group of the `f32` path.
const GROUP: usize = 4;

/// The `f32` path: the vectors copied to `f32` (exact, as `T` is `f32`), the columns in groups
/// of [`GROUP`] under pulp's dispatch, the product copied back.
pub(super) fn update_f32<T: Float>(
    shape: Shape,
    w: &mut [f32],
    w_dot: &mut [f32],
    update: StackedUpdate<'_, T>,
) {
    let Shape { n, r, .. } = shape;
    let to32 = |v: &[T]| -> Vec<f32> { v.iter().map(|x| x.as_f64() as f32).collect() };
    let (x, x_dot) = match &update.product {
        Some(product) => (to32(product.input), product.input_dot.map(to32)),
        None => (Vec::new(), None),
    };
    let projection = update.projection.map(|projection| Projection32 {
        gamma: projection.gamma.as_f64() as f32,
        gamma_tangent: projection
            .gamma_tangent
            .map(|(k, gamma_dot)| (k, gamma_dot.as_f64() as f32)),
        u: to32(projection.u),
        u_dot: to32(projection.u_dot),
    });
    let with_product = update.product.is_some();
    let mut z = vec![0.0f32; if with_product { n } else { 0 }];
    let mut z_dot = vec![0.0f32; if with_product { r * n } else { 0 }];
    let vectors = Vectors32 {
        shape,
        decay: update.decay.as_f64() as f32,
        decay_tangent: update.decay_tangent,
        a: to32(update.left[0]),
        b: to32(update.left[1]),
        a_dot: to32(update.left_dot[0]),
        b_dot: to32(update.left_dot[1]),
        right: to32(update.right),
        right_dot: to32(update.right_dot),
        projection,
        x,
        x_dot,
    };
    // The pass over the columns from `first` on held in `w`, `w_dot`.
    let pass =
        |first: usize, w: &mut [f32], w_dot: &mut [f32], z: &mut [f32], z_dot: &mut [f32]| {
            pulp::Arch::new().dispatch(Kernel32 {
                vectors: &vectors,
                first,
                w,
                w_dot,
                z,
                z_dot,
            })
        };
    match split_point(shape.n * shape.m * (r + 1), shape.m) {
        None => pass(0, w, w_dot, &mut z, &mut z_dot),
        Some(half) => {
            // Two fixed halves of the columns in parallel; the upper half's share of the
            // product is added after the lower half's, whatever the thread count.
            let (w_low, w_high) = w.split_at_mut(half * n);
            let (wd_low, wd_high) = w_dot.split_at_mut(half * r * n);
            let mut z_high = vec![0.0f32; z.len()];
            let mut z_dot_high = vec![0.0f32; z_dot.len()];
            rayon::join(
                || pass(0, w_low, wd_low, &mut z, &mut z_dot),
                || pass(half, w_high, wd_high, &mut z_high, &mut z_dot_high),
            );
            for (low, high) in z.iter_mut().zip(&z_high) {
                *low += high;
            }
            for (low, high) in z_dot.iter_mut().zip(&z_dot_high) {
                *low += high;
            }
        }
    }
    if let Some(product) = update.product {
        for (out, &v) in product.output.iter_mut().zip(&z) {
            *out = T::of_f64(f64::from(v));
        }
        for (out, &v) in product.output_dot.iter_mut().zip(&z_dot) {
            *out = T::of_f64(f64::from(v));
        }
    }
}

/// [`StackedProjection`] in `f32`.
struct Projection32 {
    gamma: f32,
    gamma_tangent: Option<(usize, f32)>,
    u: Vec<f32>,
    u_dot: Vec<f32>,
}

/// The update's vectors in `f32`.
struct Vectors32 {
    shape: Shape,
    decay: f32,
    decay_tangent: Option<usize>,
    a: Vec<f32>,
    b: Vec<f32>,
    a_dot: Vec<f32>,
    b_dot: Vec<f32>,
    right: Vec<f32>,
    right_dot: Vec<f32>,
    projection: Option<Projection32>,
    /// Empty without a product.
    x: Vec<f32>,
    x_dot: Option<Vec<f32>>,
}

/// The smallest amount of work (`n·m·(R + 1)` matrix entries per pass) that [`update_f32`] and
/// [`product_t_f32`] split into two halves of columns run in parallel: the paper's first two
/// layers (784 → 170 and 170 → 130 with three tangents), where a pass takes tens to hundreds
/// of microseconds against a few for `rayon::join`.
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Where a pass over `m` columns with `work` entries is split for two threads: the first
/// multiple of [`GROUP`] at or above `m / 2`, or `None` for a small pass. It depends on the
/// shape alone, so the results do not depend on the number of threads.
fn split_point(work: usize, m: usize) -> Option<usize> {
    (work >= PARALLEL_MIN_WORK && m >= 2 * GROUP).then(|| (m / 2).next_multiple_of(GROUP))
}

/// The pass over the columns `first..first + w.len() / n` (`w`, `w_dot`: those columns only),
/// accumulating their share of the product into `z`, `z_dot`.
struct Kernel32<'a> {
    vectors: &'a Vectors32,
    first: usize,
    w: &'a mut [f32],
    w_dot: &'a mut [f32],
    /// Empty without a product.
    z: &'a mut [f32],
    z_dot: &'a mut [f32],
}

impl pulp::WithSimd for Kernel32<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Kernel32 {
            vectors,
            first,
            w,
            w_dot,
            z,
            z_dot,
        } = self;
        let Shape { n, r, .. } = vectors.shape;
        let stride = r * n;
        let m = w.len() / n;
        let mut scratch = Scratch32 {
            c_dot: vec![0.0; GROUP * 3 * r],
            w_old: vec![
                0.0;
                if vectors.decay_tangent.is_some() {
                    GROUP * n
                } else {
                    0
                }
            ],
        };
        let n_grouped = m - m % GROUP;
        let (w_grouped, w_rest) = w.split_at_mut(n_grouped * n);
        let (wd_grouped, wd_rest) = w_dot.split_at_mut(n_grouped * stride);
        for group_idx in 0..n_grouped / GROUP {
            let cols = group_idx * GROUP * n..(group_idx + 1) * GROUP * n;
            let tangent_cols = group_idx * GROUP * stride..(group_idx + 1) * GROUP * stride;
            group::<S, GROUP>(
                simd,
                vectors,
                first + group_idx * GROUP,
                &mut w_grouped[cols],
                &mut wd_grouped[tangent_cols],
                (&mut *z, &mut *z_dot),
                &mut scratch,
            );
        }
        for offset in 0..m - n_grouped {
            group::<S, 1>(
                simd,
                vectors,
                first + n_grouped + offset,
                &mut w_rest[offset * n..(offset + 1) * n],
                &mut wd_rest[offset * stride..(offset + 1) * stride],
                (&mut *z, &mut *z_dot),
                &mut scratch,
            );
        }
    }
}

/// Per-group scratch of the `f32` path.
struct Scratch32 {
    c_dot: Vec<f32>,
    w_old: Vec<f32>,
}

/// The whole pass for `C` adjacent columns starting at `col0` (`w_group`: `C·n` entries,
/// `wd_group`: `C·R·n`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn group<S: pulp::Simd, const C: usize>(
    simd: S,
    v: &Vectors32,
    col0: usize,
    w_group: &mut [f32],
    wd_group: &mut [f32],
    (z, z_dot): (&mut [f32], &mut [f32]),
    scratch: &mut Scratch32,
) {
    let Shape { n, m, r } = v.shape;
    let stride = r * n;
    // 1. Coefficients, with the projection of the old columns if any.
    let mut coef: [[f32; 3]; C] = array_of(|c| {
        let at = 3 * (col0 + c);
        [v.right[at], v.right[at + 1], v.right[at + 2]]
    });
    let c_dot = &mut scratch.c_dot[..C * 3 * r];
    c_dot.copy_from_slice(&v.right_dot[3 * r * col0..3 * r * (col0 + C)]);
    if let Some(projection) = &v.projection {
        let w_cols: [&[f32]; C] = columns(w_group, n, 0, n);
        let p = multi_dot::<S, C>(simd, w_cols, &projection.u);
        for (coef_c, &pc) in coef.iter_mut().zip(&p) {
            coef_c[1] += projection.gamma * pc;
        }
        for k in 0..r {
            let wd_cols: [&[f32]; C] = columns(wd_group, stride, k * n, n);
            let u_dot = &projection.u_dot[k * n..(k + 1) * n];
            let p_dot = multi_dot2::<S, C>(simd, wd_cols, &projection.u, w_cols, u_dot);
            for (c, &pd) in p_dot.iter().enumerate() {
                c_dot[c * 3 * r + 3 * k + 1] += projection.gamma * pd;
            }
        }
        if let Some((k, gamma_dot)) = projection.gamma_tangent {
            for (c, &pc) in p.iter().enumerate() {
                c_dot[c * 3 * r + 3 * k + 1] += gamma_dot * pc;
            }
        }
    }
    let with_product = !v.x.is_empty();
    let x: [f32; C] = array_of(|c| if with_product { v.x[col0 + c] } else { 0.0 });
    // A group with x = 0 (and ẋ = 0) adds nothing to the product.
    let product = with_product && (v.x_dot.is_some() || x.iter().any(|&xc| xc != 0.0));
    let scaled = v.decay.to_bits() != 1.0f32.to_bits();
    // 3. W (keeping the old columns if a tangent needs them) and its part of the product.
    if v.decay_tangent.is_some() {
        scratch.w_old[..C * n].copy_from_slice(w_group);
    }
    let primal = Primal {
        decay: v.decay,
        a: &v.a,
        b: &v.b,
        coef,
        x,
    };
    let w_cols: [&mut [f32]; C] = columns_mut(w_group, n, 0, n);
    match (scaled, product) {
        (false, false) => primal.run::<S, false, false>(simd, w_cols, z),
        (false, true) => primal.run::<S, false, true>(simd, w_cols, z),
        (true, false) => primal.run::<S, true, false>(simd, w_cols, z),
        (true, true) => primal.run::<S, true, true>(simd, w_cols, z),
    }
    // 4. Every Ẇ_k and its part of the product.
    for k in 0..r {
        let span = k * n..(k + 1) * n;
        let x_dot: [f32; C] = match &v.x_dot {
            Some(x_dot) => array_of(|c| x_dot[k * m + col0 + c]),
            None => [0.0; C],
        };
        let tangent = Tangent {
            decay: v.decay,
            a_dot: &v.a_dot[span.clone()],
            b_dot: &v.b_dot[span.clone()],
            a: &v.a,
            b: &v.b,
            coef: array_of(|c| {
                let at = c * 3 * r + 3 * k;
                [
                    coef[c][0],
                    coef[c][1],
                    c_dot[at],
                    c_dot[at + 1],
                    c_dot[at + 2],
                ]
            }),
            x,
            x_dot,
        };
        let w_new: [&[f32]; C] = columns(w_group, n, 0, n);
        let wd_cols: [&mut [f32]; C] = columns_mut(wd_group, stride, k * n, n);
        let z_k: &mut [f32] = if with_product {
            &mut z_dot[span]
        } else {
            &mut []
        };
        if v.decay_tangent == Some(k) {
            let w_old: [&[f32]; C] = columns(&scratch.w_old, n, 0, n);
            tangent.run::<S, true, true, true>(simd, wd_cols, w_new, w_old, z_k, product);
        } else {
            let none = [&[][..]; C];
            let t = &tangent;
            match (scaled, v.x_dot.is_some() && product) {
                (false, false) => {
                    t.run::<S, false, false, false>(simd, wd_cols, w_new, none, z_k, product)
                }
                (false, true) => {
                    t.run::<S, false, true, false>(simd, wd_cols, w_new, none, z_k, product)
                }
                (true, false) => {
                    t.run::<S, true, false, false>(simd, wd_cols, w_new, none, z_k, product)
                }
                (true, true) => {
                    t.run::<S, true, true, false>(simd, wd_cols, w_new, none, z_k, product)
                }
            }
        }
    }
}

/// `C` column slices `data[c·stride + offset..][..len]`.
#[inline(always)]
fn columns<T, const C: usize>(data: &[T], stride: usize, offset: usize, len: usize) -> [&[T]; C] {
    let mut chunks = data.chunks_exact(stride.max(1));
    array_of(|_| &chunks.next().expect("the group holds C columns")[offset..offset + len])
}

/// Mutable [`columns`].
#[inline(always)]
fn columns_mut<T, const C: usize>(
    data: &mut [T],
    stride: usize,
    offset: usize,
    len: usize,
) -> [&mut [T]; C] {
    let mut chunks = data.chunks_exact_mut(stride.max(1));
    std::array::from_fn(|_| {
        &mut chunks.next().expect("the group holds C columns")[offset..offset + len]
    })
}

/// `W[:,c] ← δ W[:,c] + a c₀ + b c₁ + c₂ 1` for `C` columns, and `z += Σ_c x_c W_new[:,c]`.
struct Primal<'a, const C: usize> {
    decay: f32,
    a: &'a [f32],
    b: &'a [f32],
    coef: [[f32; 3]; C],
    x: [f32; C],
}

impl<const C: usize> Primal<'_, C> {
    // The column index addresses several per-column arrays at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn run<S: pulp::Simd, const SCALED: bool, const PRODUCT: bool>(
        &self,
        simd: S,
        cols: [&mut [f32]; C],
        z: &mut [f32],
    ) {
        let (a_head, a_tail) = S::as_simd_f32s(self.a);
        let (b_head, b_tail) = S::as_simd_f32s(self.b);
        let split = cols.map(|col| S::as_mut_simd_f32s(col));
        let splat =
            |f: &dyn Fn(usize) -> f32| -> [S::f32s; C] { array_of(|c| simd.splat_f32s(f(c))) };
        let c0 = splat(&|c| self.coef[c][0]);
        let c1 = splat(&|c| self.coef[c][1]);
        let c2 = splat(&|c| self.coef[c][2]);
        let xs = splat(&|c| self.x[c]);
        let decay = simd.splat_f32s(self.decay);
        // One chain of fused multiply-adds onto `δ v + c₂`.
        let step = |v: S::f32s, av: S::f32s, bv: S::f32s, c: usize| {
            let old = if SCALED { simd.mul_f32s(v, decay) } else { v };
            let acc = simd.mul_add_e_f32s(bv, c1[c], simd.add_f32s(old, c2[c]));
            simd.mul_add_e_f32s(av, c0[c], acc)
        };
        if PRODUCT {
            let (z_head, z_tail) = S::as_mut_simd_f32s(z);
            for (i, ((&av, &bv), zv)) in a_head.iter().zip(b_head).zip(z_head).enumerate() {
                let mut parts = [simd.splat_f32s(0.0); C];
                for c in 0..C {
                    let new = step(split[c].0[i], av, bv, c);
                    split[c].0[i] = new;
                    parts[c] = simd.mul_f32s(new, xs[c]);
                }
                *zv = simd.add_f32s(*zv, tree_sum(simd, parts));
            }
            for (i, ((&ai, &bi), zi)) in a_tail.iter().zip(b_tail).zip(z_tail).enumerate() {
                for c in 0..C {
                    let new =
                        scalar_step::<SCALED>(split[c].1[i], self.decay, ai, bi, self.coef[c]);
                    split[c].1[i] = new;
                    *zi += new * self.x[c];
                }
            }
        } else {
            for (i, (&av, &bv)) in a_head.iter().zip(b_head).enumerate() {
                for c in 0..C {
                    split[c].0[i] = step(split[c].0[i], av, bv, c);
                }
            }
            for (i, (&ai, &bi)) in a_tail.iter().zip(b_tail).enumerate() {
                for c in 0..C {
                    split[c].1[i] =
                        scalar_step::<SCALED>(split[c].1[i], self.decay, ai, bi, self.coef[c]);
                }
            }
        }
    }
}

/// `δ v + c₂ + b c₁ + a c₀` in the order of the SIMD path.
#[inline(always)]
fn scalar_step<const SCALED: bool>(
    v: f32,
    decay: f32,
    a: f32,
    b: f32,
    [c0, c1, c2]: [f32; 3],
) -> f32 {
    let old = if SCALED { v * decay } else { v };
    a * c0 + (b * c1 + (old + c2))
}

/// `Ẇ_k[:,c] ← δ Ẇ_k[:,c] + ȧ_k c₀ + ḃ_k c₁ + a ċ₀ + b ċ₁ + ċ₂ 1 (− W_old[:,c])` for `C`
/// columns, and `ż_k += Σ_c (x_c Ẇ_k,new[:,c] + ẋ_c W_new[:,c])`.
struct Tangent<'a, const C: usize> {
    decay: f32,
    a_dot: &'a [f32],
    b_dot: &'a [f32],
    a: &'a [f32],
    b: &'a [f32],
    /// `[c₀, c₁, ċ₀, ċ₁, ċ₂]` per column.
    coef: [[f32; 5]; C],
    x: [f32; C],
    x_dot: [f32; C],
}

impl<const C: usize> Tangent<'_, C> {
    // The column index addresses several per-column arrays at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn run<S: pulp::Simd, const SCALED: bool, const X_DOT: bool, const OLD: bool>(
        &self,
        simd: S,
        cols: [&mut [f32]; C],
        w_new: [&[f32]; C],
        w_old: [&[f32]; C],
        z: &mut [f32],
        product: bool,
    ) {
        let (ad_head, ad_tail) = S::as_simd_f32s(self.a_dot);
        let (bd_head, bd_tail) = S::as_simd_f32s(self.b_dot);
        let (a_head, a_tail) = S::as_simd_f32s(self.a);
        let (b_head, b_tail) = S::as_simd_f32s(self.b);
        let len = ad_head.len();
        // Every head re-sliced to `len`, so that indexing by `i < len` needs no bounds checks.
        let (ad_head, bd_head) = (&ad_head[..len], &bd_head[..len]);
        let (a_head, b_head) = (&a_head[..len], &b_head[..len]);
        let split = cols.map(|col| {
            let (head, tail) = S::as_mut_simd_f32s(col);
            (&mut head[..len], tail)
        });
        let new_heads: [&[S::f32s]; C] = w_new.map(|col| &S::as_simd_f32s(col).0[..len]);
        let new_tails: [&[f32]; C] = w_new.map(|col| S::as_simd_f32s(col).1);
        let old_heads: [&[S::f32s]; C] = w_old.map(|col| S::as_simd_f32s(col).0);
        let old_tails: [&[f32]; C] = w_old.map(|col| S::as_simd_f32s(col).1);
        let splat =
            |f: &dyn Fn(usize) -> f32| -> [S::f32s; C] { array_of(|c| simd.splat_f32s(f(c))) };
        let coef: [[S::f32s; C]; 5] = array_of(|idx| splat(&|c| self.coef[c][idx]));
        let xs = splat(&|c| self.x[c]);
        let xds = splat(&|c| self.x_dot[c]);
        let decay = simd.splat_f32s(self.decay);
        // One chain of fused multiply-adds onto `δ v + ċ₂` (five operations per entry).
        let step = |v: S::f32s, adv: S::f32s, bdv: S::f32s, av: S::f32s, bv: S::f32s, c: usize| {
            let old = if SCALED { simd.mul_f32s(v, decay) } else { v };
            let acc = simd.mul_add_e_f32s(bv, coef[3][c], simd.add_f32s(old, coef[4][c]));
            let acc = simd.mul_add_e_f32s(av, coef[2][c], acc);
            let acc = simd.mul_add_e_f32s(bdv, coef[1][c], acc);
            simd.mul_add_e_f32s(adv, coef[0][c], acc)
        };
        let scalar = |v: f32, ad: f32, bd: f32, ai: f32, bi: f32, c: usize| {
            let [c0, c1, c0_dot, c1_dot, c2_dot] = self.coef[c];
            let old = if SCALED { v * self.decay } else { v };
            let second = ai * c0_dot + (bi * c1_dot + (old + c2_dot));
            ad * c0 + (bd * c1 + second)
        };
        let inputs = ad_head.iter().zip(bd_head).zip(a_head).zip(b_head);
        let tail_inputs = ad_tail.iter().zip(bd_tail).zip(a_tail).zip(b_tail);
        if product {
            let (z_head, z_tail) = S::as_mut_simd_f32s(z);
            let z_head = &mut z_head[..len];
            for i in 0..len {
                let (adv, bdv, av, bv) = (ad_head[i], bd_head[i], a_head[i], b_head[i]);
                let zv = &mut z_head[i];
                let mut parts = [simd.splat_f32s(0.0); C];
                for c in 0..C {
                    let mut new = step(split[c].0[i], adv, bdv, av, bv, c);
                    if OLD {
                        new = simd.sub_f32s(new, old_heads[c][i]);
                    }
                    split[c].0[i] = new;
                    parts[c] = if X_DOT {
                        simd.mul_add_e_f32s(new_heads[c][i], xds[c], simd.mul_f32s(new, xs[c]))
                    } else {
                        simd.mul_f32s(new, xs[c])
                    };
                }
                *zv = simd.add_f32s(*zv, tree_sum(simd, parts));
            }
            for (i, ((((&ad, &bd), &ai), &bi), zi)) in tail_inputs.zip(z_tail).enumerate() {
                for c in 0..C {
                    let mut new = scalar(split[c].1[i], ad, bd, ai, bi, c);
                    if OLD {
                        new -= old_tails[c][i];
                    }
                    split[c].1[i] = new;
                    *zi += new * self.x[c];
                    if X_DOT {
                        *zi += new_tails[c][i] * self.x_dot[c];
                    }
                }
            }
        } else {
            for (i, (((&adv, &bdv), &av), &bv)) in inputs.enumerate() {
                for c in 0..C {
                    let mut new = step(split[c].0[i], adv, bdv, av, bv, c);
                    if OLD {
                        new = simd.sub_f32s(new, old_heads[c][i]);
                    }
                    split[c].0[i] = new;
                }
            }
            for (i, (((&ad, &bd), &ai), &bi)) in tail_inputs.enumerate() {
                for c in 0..C {
                    let mut new = scalar(split[c].1[i], ad, bd, ai, bi, c);
                    if OLD {
                        new -= old_tails[c][i];
                    }
                    split[c].1[i] = new;
                }
            }
        }
    }
}

/// `[colᵀu for col in cols]`, two SIMD accumulators per column.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn multi_dot<S: pulp::Simd, const C: usize>(simd: S, cols: [&[f32]; C], u: &[f32]) -> [f32; C] {
    let (u_head, u_tail) = S::as_simd_f32s(u);
    let heads: [&[S::f32s]; C] = cols.map(|col| S::as_simd_f32s(col).0);
    let tails: [&[f32]; C] = cols.map(|col| S::as_simd_f32s(col).1);
    let zero = simd.splat_f32s(0.0);
    let (mut even, mut odd) = ([zero; C], [zero; C]);
    let (u_pairs, u_last) = u_head.as_chunks::<2>();
    for (i, pair) in u_pairs.iter().enumerate() {
        for c in 0..C {
            even[c] = simd.mul_add_e_f32s(heads[c][2 * i], pair[0], even[c]);
            odd[c] = simd.mul_add_e_f32s(heads[c][2 * i + 1], pair[1], odd[c]);
        }
    }
    if let Some(&last) = u_last.first() {
        let i = u_head.len() - 1;
        for c in 0..C {
            even[c] = simd.mul_add_e_f32s(heads[c][i], last, even[c]);
        }
    }
    array_of(|c| {
        let tail = tails[c]
            .iter()
            .zip(u_tail)
            .fold(0.0f32, |sum, (&wi, &ui)| sum + wi * ui);
        simd.reduce_sum_f32s(simd.add_f32s(even[c], odd[c])) + tail
    })
}

/// `[aᵀu + bᵀv for (a, b) in (a_cols, b_cols)]`, one SIMD accumulator per column and part.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn multi_dot2<S: pulp::Simd, const C: usize>(
    simd: S,
    a_cols: [&[f32]; C],
    u: &[f32],
    b_cols: [&[f32]; C],
    v: &[f32],
) -> [f32; C] {
    let (u_head, u_tail) = S::as_simd_f32s(u);
    let (v_head, v_tail) = S::as_simd_f32s(v);
    let a_heads: [&[S::f32s]; C] = a_cols.map(|col| S::as_simd_f32s(col).0);
    let a_tails: [&[f32]; C] = a_cols.map(|col| S::as_simd_f32s(col).1);
    let b_heads: [&[S::f32s]; C] = b_cols.map(|col| S::as_simd_f32s(col).0);
    let b_tails: [&[f32]; C] = b_cols.map(|col| S::as_simd_f32s(col).1);
    let zero = simd.splat_f32s(0.0);
    let (mut acc_a, mut acc_b) = ([zero; C], [zero; C]);
    for (i, (&uv, &vv)) in u_head.iter().zip(v_head).enumerate() {
        for c in 0..C {
            acc_a[c] = simd.mul_add_e_f32s(a_heads[c][i], uv, acc_a[c]);
            acc_b[c] = simd.mul_add_e_f32s(b_heads[c][i], vv, acc_b[c]);
        }
    }
    array_of(|c| {
        let tail = a_tails[c]
            .iter()
            .zip(u_tail)
            .zip(b_tails[c].iter().zip(v_tail))
            .fold(0.0f32, |sum, ((&ai, &ui), (&bi, &vi))| {
                sum + (ai * ui + bi * vi)
            });
        simd.reduce_sum_f32s(simd.add_f32s(acc_a[c], acc_b[c])) + tail
    })
}

/// `[f(0), …, f(C − 1)]`, always inlined (`std::array::from_fn` is not always inlined into
/// the dispatched function, and a scalar `f32` operation outside it loses the CPU features).
#[inline(always)]
fn array_of<T: Copy, const C: usize>(mut f: impl FnMut(usize) -> T) -> [T; C] {
    let first = f(0);
    let mut out = [first; C];
    for (idx, value) in out.iter_mut().enumerate().skip(1) {
        *value = f(idx);
    }
    out
}

/// Sum of `C` vectors as a balanced tree (short dependency chains).
#[inline(always)]
fn tree_sum<S: pulp::Simd, const C: usize>(simd: S, parts: [S::f32s; C]) -> S::f32s {
    let mut width = C;
    let mut parts = parts;
    while width > 1 {
        let half = width / 2;
        for idx in 0..half {
            parts[idx] = simd.add_f32s(parts[idx], parts[idx + half]);
        }
        if width % 2 == 1 {
            parts[0] = simd.add_f32s(parts[0], parts[width - 1]);
        }
        width = half;
    }
    parts[0]
}

/// `out_k = Bᵀ v_k` for column-major `b` (`n` rows) and `k`-major `vectors`, `out` (`k`-major).
///
/// A large product is split into two halves of columns run in parallel (see [`split_point`]);
/// every output entry is one column's dot product either way.
pub(super) fn product_t_f32(b: &[f32], n: usize, vectors: &[f32], out: &mut [f32]) {
    let m = b.len() / n;
    let k_count = vectors.len() / n;
    let Some(half) = split_point(b.len() * k_count, m) else {
        pulp::Arch::new().dispatch(ProductT32 { b, n, vectors, out });
        return;
    };
    let (b_low, b_high) = b.split_at(half * n);
    let mut out_low = vec![0.0f32; k_count * half];
    let mut out_high = vec![0.0f32; k_count * (m - half)];
    let pass =
        |b: &[f32], out: &mut [f32]| pulp::Arch::new().dispatch(ProductT32 { b, n, vectors, out });
    rayon::join(|| pass(b_low, &mut out_low), || pass(b_high, &mut out_high));
    for (k, out_k) in out.chunks_exact_mut(m).enumerate() {
        out_k[..half].copy_from_slice(&out_low[k * half..(k + 1) * half]);
        out_k[half..].copy_from_slice(&out_high[k * (m - half)..(k + 1) * (m - half)]);
    }
}

struct ProductT32<'a> {
    b: &'a [f32],
    n: usize,
    vectors: &'a [f32],
    out: &'a mut [f32],
}

impl pulp::WithSimd for ProductT32<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let ProductT32 { b, n, vectors, out } = self;
        let m = b.len() / n;
        let n_grouped = m - m % GROUP;
        for col0 in (0..n_grouped).step_by(GROUP) {
            let cols: [&[f32]; GROUP] = columns(&b[col0 * n..(col0 + GROUP) * n], n, 0, n);
            for (k, v) in vectors.chunks_exact(n).enumerate() {
                let values = multi_dot::<S, GROUP>(simd, cols, v);
                out[k * m + col0..k * m + col0 + GROUP].copy_from_slice(&values);
            }
        }
        for col in n_grouped..m {
            let cols: [&[f32]; 1] = [&b[col * n..(col + 1) * n]];
            for (k, v) in vectors.chunks_exact(n).enumerate() {
                out[k * m + col] = multi_dot::<S, 1>(simd, cols, v)[0];
            }
        }
    }
}

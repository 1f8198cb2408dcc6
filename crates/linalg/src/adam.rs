//! The elementwise Adam update over flat parameter buffers, run under the best instruction set
//! the CPU has (pulp's runtime dispatch, as in [`crate::fused`]).
//!
//! The update uses only correctly rounded operations (`+`, `×`, `÷`, `√`, no fused
//! multiply-add), so its results are bit-identical at every vector width.

use std::any::Any;

use faer::traits::pulp;

use crate::{Float, Matrix};

/// The per-step constants of an Adam update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep<T> {
    /// `β₁`.
    pub beta1: T,
    /// `β₂`.
    pub beta2: T,
    /// `1 − β₁`, rounded once from `f64` (PyTorch passes it as a Python float).
    pub one_minus_beta1: T,
    /// `1 − β₂`, rounded once from `f64`.
    pub one_minus_beta2: T,
    /// `lr / (1 − β₁ᵗ)`.
    pub step_size: T,
    /// `1 / √(1 − β₂ᵗ)`.
    pub inv_sqrt_bias2: T,
    /// `ε`.
    pub eps: T,
}

impl<T: Float> AdamStep<T> {
    /// The constants of update number `t` (1-based) with PyTorch's bias corrections.
    ///
    /// # Example
    /// ```
    /// let step = linalg::adam::AdamStep::<f64>::new(1e-3, 0.9, 0.999, 1e-8, 1);
    /// assert!((step.step_size - 1e-2).abs() < 1e-15);
    /// ```
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, t: u64) -> AdamStep<T> {
        let t = i32::try_from(t).unwrap_or(i32::MAX);
        AdamStep {
            beta1: T::of_f64(beta1),
            beta2: T::of_f64(beta2),
            one_minus_beta1: T::of_f64(1.0 - beta1),
            one_minus_beta2: T::of_f64(1.0 - beta2),
            step_size: T::of_f64(lr / (1.0 - beta1.powi(t))),
            inv_sqrt_bias2: T::of_f64(1.0 / (1.0 - beta2.powi(t)).sqrt()),
            eps: T::of_f64(eps),
        }
    }
}

/// One Adam update in PyTorch's order of operations, elementwise:
///
/// ```text
/// m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
/// θ ← θ − step_size · m / (√v · inv_sqrt_bias2 + ε)           [Kingma & Ba 2015, Alg. 1]
/// ```
///
/// # Panics
/// If the four slices differ in length.
///
/// # Example
/// ```
/// use linalg::adam::{AdamStep, adam_update};
/// let (mut p, mut m, mut v) = (vec![1.0f32; 3], vec![0.0; 3], vec![0.0; 3]);
/// adam_update(&mut p, &[2.0, -2.0, 0.5], &mut m, &mut v, &AdamStep::new(1e-3, 0.9, 0.999, 1e-8, 1));
/// // The first step moves each coordinate by lr against the gradient's sign.
/// assert!((p[0] - 0.999).abs() < 1e-6 && (p[1] - 1.001).abs() < 1e-6);
/// ```
pub fn adam_update<T: Float>(
    params: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    step: &AdamStep<T>,
) {
    let n = params.len();
    assert!(
        grad.len() == n && m.len() == n && v.len() == n,
        "adam_update: lengths differ ({n}, {}, {}, {})",
        grad.len(),
        m.len(),
        v.len()
    );
    pulp::Arch::new().dispatch(Kernel {
        params,
        grad,
        m,
        v,
        step: *step,
    });
}

/// One column of `W` against `NB` consecutive batch columns of `∂Y`, from batch column `first`.
struct Rows<'a, T> {
    w: &'a [T],
    dy: &'a [T],
    n_out: usize,
    first: usize,
    /// `n_out` rounded down to a multiple of [`LANES`].
    full: usize,
}

impl<T: Float> Rows<'_, T> {
    /// Adds `Σ_q ∂Y[:, first + q] · x_q` to `g` (in the order q = 0, 1, …) and writes
    /// `out[q] = W[:, i] · ∂Y[:, first + q]`. `NB` is a constant so the accumulators stay in
    /// registers and the lane loops vectorise.
    #[inline(always)]
    fn group<const NB: usize>(&self, g: &mut [T], xs: [T; NB], out: &mut [T]) {
        let Rows {
            w,
            dy,
            n_out,
            first,
            full,
        } = *self;
        let columns: [&[T]; NB] = std::array::from_fn(|q| &dy[(first + q) * n_out..][..n_out]);
        let mut acc = [[T::zero(); LANES]; NB];
        for (k, (wc, gc)) in w[..full]
            .chunks_exact(LANES)
            .zip(g[..full].chunks_exact_mut(LANES))
            .enumerate()
        {
            let wl: [T; LANES] = wc.try_into().expect("chunks of LANES");
            let mut gl: [T; LANES] = (&*gc).try_into().expect("chunks of LANES");
            for q in 0..NB {
                let d: [T; LANES] = columns[q][k * LANES..][..LANES]
                    .try_into()
                    .expect("chunks of LANES");
                for l in 0..LANES {
                    acc[q][l] += wl[l] * d[l];
                    gl[l] += d[l] * xs[q];
                }
            }
            gc.copy_from_slice(&gl);
        }
        for q in 0..NB {
            let mut tail = T::zero();
            for j in full..n_out {
                let d = columns[q][j];
                tail += w[j] * d;
                g[j] += d * xs[q];
            }
            let a = &acc[q];
            out[q] = (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))) + tail;
        }
    }
}

/// The elementwise update of [`adam_update`], inlined into each caller's SIMD context.
#[inline(always)]
fn update<T: Float>(params: &mut [T], grad: &[T], m: &mut [T], v: &mut [T], step: &AdamStep<T>) {
    let (c1, c2) = (step.one_minus_beta1, step.one_minus_beta2);
    for (((p, &g), m), v) in params
        .iter_mut()
        .zip(grad)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
    {
        *m = step.beta1 * *m + c1 * g;
        *v = step.beta2 * *v + c2 * g * g;
        let denom = v.sqrt() * step.inv_sqrt_bias2 + step.eps;
        *p -= step.step_size * *m / denom;
    }
}

struct Kernel<'a, T> {
    params: &'a mut [T],
    grad: &'a [T],
    m: &'a mut [T],
    v: &'a mut [T],
    step: AdamStep<T>,
}

impl<T: Float> pulp::WithSimd for Kernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Kernel {
            params,
            grad,
            m,
            v,
            step,
        } = self;
        update(params, grad, m, v, &step);
    }
}

/// Columns of `W` per parallel task of [`linear_backward_adam`]. Fixed, so the split (and the
/// bits) do not depend on the thread count; each column's result does not depend on it anyway.
const FUSED_COLUMNS: usize = 32;
/// Explicit lanes of the fused kernel's sums: the reduction order is written out, so the bits
/// do not depend on the vector width the CPU has.
const LANES: usize = 8;
/// Batch columns whose accumulators are kept together (registers) in the fused kernel.
const GROUP: usize = 4;

/// A linear layer's weight backward and its Adam update in one pass over `W`, for a layer whose
/// input gradient is also needed and whose weight gradient is used only by Adam (the GSVAE's
/// 9,425 × 400 encoder layer, where `∂W`, its zeroing and a separate Adam pass would each stream
/// the whole matrix through memory again). For every column `i` of `W` (`n_out × n_in`), with
/// `X` (`n_in × B`) the layer's input and `∂Y` (`n_out × B`) its output gradient:
///
/// ```text
/// ∂Xᵢ,b = Σⱼ Wⱼᵢ ∂Yⱼ,b          (with W before the update)
/// gⱼ    = Σ_b ∂Yⱼ,b Xᵢ,b         (∂W's column i, summed in the order b = 0, 1, …)
/// m, v, W[:, i] ← Adam(g)        (as adam_update)                    [Kingma & Ba 2015, Alg. 1]
/// ```
///
/// `dx_t` receives `∂X` **transposed** (`B × n_in`: column `i`'s `B` values are contiguous).
/// Columns are processed in fixed blocks and each column's arithmetic does not depend on the
/// block, so the bits are the same at any thread count. `f32` runs an explicit-SIMD kernel
/// (fused multiply-add, vector-wide partial sums: bits depend on the CPU's vector width, as the
/// GEMMs' do); other types run a portable loop with eight interleaved partial sums. Both
/// differ from "GEMM, then Adam" only in the last places of the sums.
///
/// # Panics
/// If the shapes do not chain.
///
/// # Example
/// ```
/// use linalg::{Matrix, adam::{AdamStep, linear_backward_adam}};
/// // W = [1 2; 3 4], one batch column x = (1, −1), ∂Y = (1, 1).
/// let mut w = Matrix::<f64>::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let (mut m, mut v) = (Matrix::zeros(2, 2), Matrix::zeros(2, 2));
/// let (x, dy) = (Matrix::from_column_slice(2, 1, &[1.0, -1.0]), Matrix::from_column_slice(2, 1, &[1.0, 1.0]));
/// let mut dx_t = Matrix::zeros(1, 2);
/// let step = AdamStep::new(1e-3, 0.9, 0.999, 1e-8, 1);
/// linear_backward_adam(&mut w, &mut m, &mut v, &x, &dy, &mut dx_t, &step);
/// assert_eq!(dx_t.as_slice(), &[4.0, 6.0]); // Wᵀ ∂Y with the old W
/// // ∂W = ∂Y xᵀ = [1 −1; 1 −1]: Adam's first step moves each weight by lr against its sign.
/// assert!((w[(0, 0)] - 0.999).abs() < 1e-9 && (w[(0, 1)] - 2.001).abs() < 1e-9);
/// ```
pub fn linear_backward_adam<T: Float>(
    w: &mut Matrix<T>,
    m: &mut Matrix<T>,
    v: &mut Matrix<T>,
    x: &Matrix<T>,
    dy: &Matrix<T>,
    dx_t: &mut Matrix<T>,
    step: &AdamStep<T>,
) {
    let (n_out, n_in) = w.shape();
    let batch = x.ncols();
    assert!(
        n_out > 0
            && m.shape() == w.shape()
            && v.shape() == w.shape()
            && x.shape() == (n_in, batch)
            && dy.shape() == (n_out, batch)
            && dx_t.shape() == (batch, n_in),
        "linear_backward_adam: shapes do not chain (W {:?}, m {:?}, v {:?}, X {:?}, ∂Y {:?}, ∂Xᵀ {:?})",
        w.shape(),
        m.shape(),
        v.shape(),
        x.shape(),
        dy.shape(),
        dx_t.shape()
    );
    if batch == 0 {
        return;
    }
    let step_f32 = (step as &dyn Any).downcast_ref::<AdamStep<f32>>().copied();
    if let (Some(step), Some(w), Some(m), Some(v), Some(x), Some(dy), Some(dx_t)) = (
        step_f32,
        as_f32(w),
        as_f32(m),
        as_f32(v),
        as_f32_ref(x),
        as_f32_ref(dy),
        as_f32(dx_t),
    ) {
        for_blocks(
            w,
            m,
            v,
            dx_t,
            n_out,
            batch,
            |first_column, w, m, v, dx_t| {
                pulp::Arch::new().dispatch(FusedColumnsF32 {
                    w,
                    m,
                    v,
                    n_out,
                    n_in,
                    first_column,
                    x,
                    dy,
                    dx_t,
                    step,
                });
            },
        );
        return;
    }
    let (x, dy) = (x.as_slice(), dy.as_slice());
    for_blocks(
        w.as_mut_slice(),
        m.as_mut_slice(),
        v.as_mut_slice(),
        dx_t.as_mut_slice(),
        n_out,
        batch,
        |first_column, w, m, v, dx_t| {
            pulp::Arch::new().dispatch(FusedColumns {
                w,
                m,
                v,
                n_out,
                n_in,
                first_column,
                x,
                dy,
                dx_t,
                step: *step,
            });
        },
    );
}

/// `Some` when `T` is `f32` (a safe downcast through `Any`).
fn as_f32<T: Float>(a: &mut Matrix<T>) -> Option<&mut [f32]> {
    (a as &mut dyn Any)
        .downcast_mut::<Matrix<f32>>()
        .map(|a| a.as_mut_slice())
}

/// `Some` when `T` is `f32`.
fn as_f32_ref<T: Float>(a: &Matrix<T>) -> Option<&[f32]> {
    (a as &dyn Any)
        .downcast_ref::<Matrix<f32>>()
        .map(|a| a.as_slice())
}

/// Runs `kernel(first column, W, m, v, ∂Xᵀ)` on fixed blocks of [`FUSED_COLUMNS`] columns in
/// parallel.
#[allow(clippy::type_complexity)]
fn for_blocks<T: Float>(
    w: &mut [T],
    m: &mut [T],
    v: &mut [T],
    dx_t: &mut [T],
    n_out: usize,
    batch: usize,
    kernel: impl Fn(usize, &mut [T], &mut [T], &mut [T], &mut [T]) + Sync,
) {
    use rayon::prelude::*;
    let block = FUSED_COLUMNS * n_out;
    w.par_chunks_mut(block)
        .zip(m.par_chunks_mut(block))
        .zip(v.par_chunks_mut(block))
        .zip(dx_t.par_chunks_mut(FUSED_COLUMNS * batch))
        .enumerate()
        .for_each(|(k, (((w, m), v), dx_t))| kernel(k * FUSED_COLUMNS, w, m, v, dx_t));
}

/// The `f32` kernel of [`linear_backward_adam`] on one block of columns: explicit SIMD with
/// fused multiply-add, [`GROUP`] batch columns' accumulators in registers.
struct FusedColumnsF32<'a> {
    w: &'a mut [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
    n_out: usize,
    n_in: usize,
    first_column: usize,
    x: &'a [f32],
    dy: &'a [f32],
    dx_t: &'a mut [f32],
    step: AdamStep<f32>,
}

impl pulp::WithSimd for FusedColumnsF32<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let FusedColumnsF32 {
            w,
            m,
            v,
            n_out,
            n_in,
            first_column,
            x,
            dy,
            dx_t,
            step,
        } = self;
        let batch = dy.len() / n_out;
        let mut g = vec![0.0f32; n_out];
        for (c, (((w, m), v), dx)) in w
            .chunks_exact_mut(n_out)
            .zip(m.chunks_exact_mut(n_out))
            .zip(v.chunks_exact_mut(n_out))
            .zip(dx_t.chunks_exact_mut(batch))
            .enumerate()
        {
            let i = first_column + c;
            g.fill(0.0);
            for b0 in (0..batch).step_by(GROUP) {
                let x_at = |q: usize| x[i + (b0 + q) * n_in];
                let out = &mut dx[b0..];
                match batch - b0 {
                    1 => group_f32::<S, 1>(simd, w, &mut g, dy, b0, std::array::from_fn(x_at), out),
                    2 => group_f32::<S, 2>(simd, w, &mut g, dy, b0, std::array::from_fn(x_at), out),
                    3 => group_f32::<S, 3>(simd, w, &mut g, dy, b0, std::array::from_fn(x_at), out),
                    _ => group_f32::<S, GROUP>(
                        simd,
                        w,
                        &mut g,
                        dy,
                        b0,
                        std::array::from_fn(x_at),
                        out,
                    ),
                }
            }
            update(w, &g, m, v, &step);
        }
    }
}

/// The `f32` form of `Rows::group`: `g += Σ_q ∂Y[:, first + q] x_q`,
/// `out[q] = w · ∂Y[:, first + q]`.
#[inline(always)]
fn group_f32<S: pulp::Simd, const NB: usize>(
    simd: S,
    w: &[f32],
    g: &mut [f32],
    dy: &[f32],
    first: usize,
    xs: [f32; NB],
    out: &mut [f32],
) {
    let n_out = w.len();
    let columns: [&[f32]; NB] = std::array::from_fn(|q| &dy[(first + q) * n_out..][..n_out]);
    let (w_head, w_tail) = S::as_simd_f32s(w);
    let (g_head, g_tail) = S::as_mut_simd_f32s(g);
    let heads: [&[S::f32s]; NB] = std::array::from_fn(|q| S::as_simd_f32s(columns[q]).0);
    let xv: [S::f32s; NB] = std::array::from_fn(|q| simd.splat_f32s(xs[q]));
    let mut acc = [simd.splat_f32s(0.0); NB];
    for (k, (&wv, gv)) in w_head.iter().zip(g_head.iter_mut()).enumerate() {
        let mut gk = *gv;
        for q in 0..NB {
            let d = heads[q][k];
            acc[q] = simd.mul_add_e_f32s(wv, d, acc[q]);
            gk = simd.mul_add_e_f32s(d, xv[q], gk);
        }
        *gv = gk;
    }
    let full = n_out - w_tail.len();
    for q in 0..NB {
        let mut tail = 0.0f32;
        for (j, (&wj, gj)) in w_tail.iter().zip(g_tail.iter_mut()).enumerate() {
            let d = columns[q][full + j];
            tail += wj * d;
            *gj += d * xs[q];
        }
        out[q] = simd.reduce_sum_f32s(acc[q]) + tail;
    }
}

struct FusedColumns<'a, T> {
    w: &'a mut [T],
    m: &'a mut [T],
    v: &'a mut [T],
    n_out: usize,
    n_in: usize,
    first_column: usize,
    x: &'a [T],
    dy: &'a [T],
    dx_t: &'a mut [T],
    step: AdamStep<T>,
}

impl<T: Float> pulp::WithSimd for FusedColumns<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let FusedColumns {
            w,
            m,
            v,
            n_out,
            n_in,
            first_column,
            x,
            dy,
            dx_t,
            step,
        } = self;
        let batch = dy.len() / n_out;
        let full = n_out / LANES * LANES;
        let mut g = vec![T::zero(); n_out];
        for (c, (((w, m), v), dx)) in w
            .chunks_exact_mut(n_out)
            .zip(m.chunks_exact_mut(n_out))
            .zip(v.chunks_exact_mut(n_out))
            .zip(dx_t.chunks_exact_mut(batch))
            .enumerate()
        {
            let i = first_column + c;
            g.fill(T::zero());
            for b0 in (0..batch).step_by(GROUP) {
                let rows = Rows {
                    w,
                    dy,
                    n_out,
                    first: b0,
                    full,
                };
                let x_at = |q: usize| x[i + (b0 + q) * n_in];
                let out = &mut dx[b0..];
                match batch - b0 {
                    1 => rows.group::<1>(&mut g, std::array::from_fn(x_at), out),
                    2 => rows.group::<2>(&mut g, std::array::from_fn(x_at), out),
                    3 => rows.group::<3>(&mut g, std::array::from_fn(x_at), out),
                    _ => rows.group::<GROUP>(&mut g, std::array::from_fn(x_at), out),
                }
            }
            debug_assert!(i < n_in);
            update(w, &g, m, v, &step);
        }
    }
}

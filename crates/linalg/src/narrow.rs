//! `Y = W X` for a wide `W` and a narrow `X` (a minibatch of a few columns): the GSVAE
//! encoder's 400 × 9,425 layer at `B = 8` or `24`, where a GEMM call is bound by streaming `W`
//! and splitting the batch across threads would stream it once per part.
//!
//! `W` is cut into fixed blocks of columns, each block's partial product is computed on its
//! own (in parallel) and the partials are summed in block order: the bits do not depend on the
//! thread count.

use std::any::Any;

use faer::traits::pulp;
use rayon::prelude::*;

use crate::{
    Float, Matrix,
    kernels::{Accumulate, Transpose, gemm},
};

/// Columns of `W` per block.
const BLOCK: usize = 512;
/// Columns of `W` whose contributions are added in one pass over a column of `Y`.
const STRIDE: usize = 4;

/// `Y = W X` (`n_out × n_in` times `n_in × B`), streaming `W` once.
///
/// ```text
/// Y = Σ_blocks W[:, block] X[block, :]     (blocks of 512 columns, summed in order)
/// ```
///
/// `f32` runs an explicit-SIMD kernel (fused multiply-add); other types call [`gemm`] per block.
///
/// # Panics
/// If the shapes do not chain.
///
/// # Example
/// ```
/// use linalg::{Matrix, narrow::matmul_narrow};
/// let w = Matrix::<f32>::from_fn(3, 1000, |i, j| (i + j % 7) as f32);
/// let x = Matrix::<f32>::from_fn(1000, 2, |i, j| ((i * 3 + j) % 5) as f32 - 2.0);
/// let mut y = Matrix::zeros(3, 2);
/// matmul_narrow(&mut y, &w, &x);
/// // Integer data: both summation orders are exact in f32.
/// assert_eq!(y, &w * &x);
/// ```
pub fn matmul_narrow<T: Float>(y: &mut Matrix<T>, w: &Matrix<T>, x: &Matrix<T>) {
    let (n_out, n_in) = w.shape();
    let batch = x.ncols();
    assert!(
        x.nrows() == n_in && y.shape() == (n_out, batch),
        "matmul_narrow: shapes do not chain (Y {:?} = W {:?} X {:?})",
        y.shape(),
        w.shape(),
        x.shape()
    );
    y.fill(T::zero());
    if n_out == 0 || batch == 0 || n_in == 0 {
        return;
    }
    let blocks: Vec<usize> = (0..n_in.div_ceil(BLOCK)).collect();
    let partials: Vec<Matrix<T>> = blocks
        .par_iter()
        .map(|&k| {
            let first = k * BLOCK;
            let cols = BLOCK.min(n_in - first);
            let mut part = Matrix::<T>::zeros(n_out, batch);
            let f32_parts = (
                (&mut part as &mut dyn Any).downcast_mut::<Matrix<f32>>(),
                (w as &dyn Any).downcast_ref::<Matrix<f32>>(),
                (x as &dyn Any).downcast_ref::<Matrix<f32>>(),
            );
            if let (Some(part), Some(w), Some(x)) = f32_parts {
                pulp::Arch::new().dispatch(BlockF32 {
                    y: part.as_mut_slice(),
                    w: &w.as_slice()[first * n_out..(first + cols) * n_out],
                    x: x.as_slice(),
                    n_out,
                    n_in,
                    first,
                });
            } else {
                gemm(
                    &mut part,
                    T::one(),
                    &w.columns(first, cols).into_owned(),
                    Transpose::No,
                    &x.rows(first, cols).into_owned(),
                    Transpose::No,
                    Accumulate::Replace,
                );
            }
            part
        })
        .collect();
    for part in &partials {
        *y += part;
    }
}

/// One block's partial product in `f32`: `y += W_block X[first.., :]`.
struct BlockF32<'a> {
    y: &'a mut [f32],
    w: &'a [f32],
    x: &'a [f32],
    n_out: usize,
    n_in: usize,
    first: usize,
}

impl pulp::WithSimd for BlockF32<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let BlockF32 {
            y,
            w,
            x,
            n_out,
            n_in,
            first,
        } = self;
        let columns: Vec<&[f32]> = w.chunks_exact(n_out).collect();
        for (s, group) in columns.chunks(STRIDE).enumerate() {
            let i0 = first + s * STRIDE;
            for (b, yb) in y.chunks_exact_mut(n_out).enumerate() {
                let xb = &x[b * n_in + i0..][..group.len()];
                if let ([w0, w1, w2, w3], [x0, x1, x2, x3]) = (group, xb) {
                    let (h0, t0) = S::as_simd_f32s(w0);
                    let (h1, t1) = S::as_simd_f32s(w1);
                    let (h2, t2) = S::as_simd_f32s(w2);
                    let (h3, t3) = S::as_simd_f32s(w3);
                    let xv = [x0, x1, x2, x3].map(|&a| simd.splat_f32s(a));
                    let (yh, yt) = S::as_mut_simd_f32s(yb);
                    for ((((yk, &a), &b1), &c), &d) in yh.iter_mut().zip(h0).zip(h1).zip(h2).zip(h3)
                    {
                        let mut acc = simd.mul_add_e_f32s(a, xv[0], *yk);
                        acc = simd.mul_add_e_f32s(b1, xv[1], acc);
                        acc = simd.mul_add_e_f32s(c, xv[2], acc);
                        *yk = simd.mul_add_e_f32s(d, xv[3], acc);
                    }
                    for (j, yj) in yt.iter_mut().enumerate() {
                        *yj = (((*yj + t0[j] * x0) + t1[j] * x1) + t2[j] * x2) + t3[j] * x3;
                    }
                } else {
                    for (col, &xi) in group.iter().zip(xb) {
                        let xv = simd.splat_f32s(xi);
                        let (h, t) = S::as_simd_f32s(col);
                        let (yh, yt) = S::as_mut_simd_f32s(yb);
                        for (yk, &a) in yh.iter_mut().zip(h) {
                            *yk = simd.mul_add_e_f32s(a, xv, *yk);
                        }
                        for (yj, &a) in yt.iter_mut().zip(t) {
                            *yj += a * xi;
                        }
                    }
                }
            }
        }
    }
}

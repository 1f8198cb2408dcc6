//! The small float trait that lets one routine serve `f32` (training) and `f64` (numerics).

use std::fmt::{Debug, Display};

/// Scalar types the workspace computes in: `f32` and `f64`.
///
/// It bundles nalgebra's `RealField` with the faer kernels for the type, so generic code can call
/// [`crate::kernels`] without naming either library. The trait is sealed: only `f32` and `f64`
/// implement it.
pub trait Float:
    nalgebra::RealField
    + nalgebra::Scalar
    + Copy
    + Default
    + Debug
    + Display
    + PartialOrd
    + Send
    + Sync
    + serde::Serialize
    + for<'de> serde::Deserialize<'de>
    + sealed::Sealed
    + 'static
{
    /// Machine epsilon of the type.
    const EPSILON: Self;

    /// Converts from `f64`, rounding to nearest.
    fn of_f64(value: f64) -> Self;

    /// Widens to `f64` (exact for both implementors).
    fn as_f64(self) -> f64;

    /// Column-major `dst (m×n) ← α·op(lhs)·op(rhs) + [dst]`, dispatching to faer.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn faer_matmul(
        dst: &mut [Self],
        dst_rows: usize,
        dst_cols: usize,
        accumulate: bool,
        lhs: (&[Self], usize, usize, bool),
        rhs: (&[Self], usize, usize, bool),
        alpha: Self,
    );

    /// Fused softplus(β) and (optionally) its derivative; `f32` uses the vectorisable fast path.
    #[doc(hidden)]
    fn softplus_kernel(
        y: &mut [Self],
        dy: Option<&mut [Self]>,
        z: &[Self],
        beta: Self,
        threshold: Self,
    );
}

macro_rules! impl_float {
    ($t:ty, $softplus:path) => {
        impl sealed::Sealed for $t {}

        impl Float for $t {
            const EPSILON: Self = <$t>::EPSILON;

            #[inline]
            fn of_f64(value: f64) -> Self {
                value as $t
            }

            #[inline]
            fn as_f64(self) -> f64 {
                self as f64
            }

            #[inline]
            fn faer_matmul(
                dst: &mut [Self],
                dst_rows: usize,
                dst_cols: usize,
                accumulate: bool,
                lhs: (&[Self], usize, usize, bool),
                rhs: (&[Self], usize, usize, bool),
                alpha: Self,
            ) {
                let dst = faer::MatMut::from_column_major_slice_mut(dst, dst_rows, dst_cols);
                let lhs_view = faer::MatRef::from_column_major_slice(lhs.0, lhs.1, lhs.2);
                let rhs_view = faer::MatRef::from_column_major_slice(rhs.0, rhs.1, rhs.2);
                let lhs_view = if lhs.3 {
                    lhs_view.transpose()
                } else {
                    lhs_view
                };
                let rhs_view = if rhs.3 {
                    rhs_view.transpose()
                } else {
                    rhs_view
                };
                let accum = if accumulate {
                    faer::Accum::Add
                } else {
                    faer::Accum::Replace
                };
                faer::linalg::matmul::matmul(dst, accum, lhs_view, rhs_view, alpha, faer::Par::Seq);
            }

            #[inline]
            fn softplus_kernel(
                y: &mut [Self],
                dy: Option<&mut [Self]>,
                z: &[Self],
                beta: Self,
                threshold: Self,
            ) {
                $softplus(y, dy, z, beta, threshold)
            }
        }
    };
}

impl_float!(f32, crate::fastmath::softplus_f32);
impl_float!(f64, softplus_f64);

/// Reference softplus in `f64` through libm, used for gradient checks and identities.
fn softplus_f64(y: &mut [f64], mut dy: Option<&mut [f64]>, z: &[f64], beta: f64, threshold: f64) {
    for (idx, &zi) in z.iter().enumerate() {
        let bz = beta * zi;
        let value = if bz > threshold {
            zi
        } else {
            bz.exp().ln_1p() / beta
        };
        y[idx] = value;
        if let Some(dy) = dy.as_deref_mut() {
            dy[idx] = 1.0 - (-beta * value).exp();
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

//! Shared numerics for neuromol: matrix types, fast batch-1 kernels, seeded RNG streams,
//! initialisers and (behind the `testing` feature) numerical test helpers.
//!
//! This is the bottom layer of the workspace and the only crate that names `nalgebra` or `faer`.
//! Every other crate uses the aliases [`Matrix`] and [`Vector`] and the kernels in [`kernels`] and
//! [`activation`], so the scalar type and the storage are chosen in this one place.
//!
//! The central design decision: the public API speaks nalgebra (column-major `DMatrix`/`DVector`,
//! with serde, slicing and decompositions), while the batch-1 hot path — `y = W x`, `z = Wᵀ y`,
//! `W += α a bᵀ` and GEMM — runs on faer's sequential kernels over zero-copy views of the same
//! memory. On the reference machine faer (`Par::Seq`) ran gemv at 38 GFLOP/s against nalgebra's
//! 21 (`../shared/papers/rust-stack.md` §1). Training runs in `f32`; numerics that need it
//! (eigendecompositions, gradient checks) use `f64`, and routines that serve both are generic
//! over [`Float`].
//!
//! ```
//! use linalg::{Matrix, Vector, kernels};
//!
//! let w = Matrix::<f32>::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let x = Vector::from_vec(vec![1.0, 0.0, -1.0]);
//! let mut y = Vector::zeros(2);
//! kernels::gemv(&mut y, &w, &x);
//! assert_eq!(y.as_slice(), &[-2.0, -2.0]);
//! ```

mod error;
mod fastmath;
mod float;

pub mod activation;
pub mod adam;
pub mod cholesky;
pub mod eigen;
pub mod fused;
pub mod gaussian;
pub mod init;
pub mod jacobi;
pub mod kernels;
pub mod matvec;
pub mod narrow;
pub mod rng;
pub mod stacked;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;

pub use crate::{
    error::{Error, Result},
    float::Float,
    rng::{Rng, Stream},
};

/// Dense column-major matrix, the workspace's one matrix type. Training uses `Matrix<f32>`.
pub type Matrix<T = f32> = nalgebra::DMatrix<T>;

/// Dense column vector, the workspace's one vector type. Training uses `Vector<f32>`.
pub type Vector<T = f32> = nalgebra::DVector<T>;

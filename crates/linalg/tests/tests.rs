//! Integration tests of `linalg`, one module per source file.
#![allow(clippy::unwrap_used)]

mod activation;
mod init;
mod kernels;
mod rng;
mod stats;
mod testing;

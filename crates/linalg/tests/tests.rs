//! Integration tests of `linalg`, one module per source file.
#![allow(clippy::unwrap_used)]

mod activation;
mod adam;
mod init;
mod kernels;
mod narrow;
mod rng;
mod stats;
mod testing;

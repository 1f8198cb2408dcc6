//! Integration tests of `mol-vae`, one module per source file.
#![allow(clippy::unwrap_used)]

mod adam;
mod conditions;
mod constraints;
mod elbo;
mod features;
mod generate;
mod metrics;
mod model;
mod train;

use linalg::{
    Matrix,
    gaussian::fill_standard_normal,
    rng::{Stream, stream},
};
use molgraph::DenseGraph;

/// Dense targets from SMILES.
pub(crate) fn targets(smiles: &[&str]) -> Vec<DenseGraph> {
    smiles
        .iter()
        .map(|s| molgraph::parse_smiles(s).unwrap().to_dense())
        .collect()
}

/// Seeded standard-normal features, `rows × cols`.
pub(crate) fn features<T: linalg::Float>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    let mut m = Matrix::zeros(rows, cols);
    fill_standard_normal(m.as_mut_slice(), &mut stream(seed, Stream::Evaluation));
    m
}

/// Small molecules with at most 4 heavy atoms (for `ModelConfig::small`).
pub(crate) const SMALL_SMILES: [&str; 8] = [
    "CC#N", "OC=O", "C1CC1", "CCO", "CN", "C=CF", "CC(C)C", "O=CO",
];

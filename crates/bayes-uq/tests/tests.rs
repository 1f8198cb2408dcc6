//! Integration tests of `bayes-uq`, one module per source file.
#![allow(clippy::unwrap_used)]

mod band;
mod bootstrap;
mod ensemble;
mod histogram;
mod linear;
mod normal;
mod predictive;
mod wasserstein;

use rand::Rng as _;

use linalg::{
    Matrix,
    rng::{Rng, Stream, stream},
};

/// A standard normal draw by Box–Muller (one of the pair).
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// True parameters of the synthetic linear data.
const TRUE_WEIGHTS: [f64; 3] = [1.5, -2.0, 0.5];
const TRUE_INTERCEPT: f64 = 0.7;
const NOISE_SD: f64 = 0.3;

/// `n_items` rows `x ~ N(0, I₃)` and targets `t = b + wᵀx + ε`, `ε ~ N(0, 0.3²)`.
fn synthetic_linear(n_items: usize, seed: u64) -> (Matrix<f64>, Vec<f64>) {
    let mut rng = stream(seed, Stream::Noise);
    let mut x = Matrix::<f64>::zeros(n_items, 3);
    let mut targets = Vec::with_capacity(n_items);
    for row in 0..n_items {
        let mut target = TRUE_INTERCEPT;
        for (col, weight) in TRUE_WEIGHTS.iter().enumerate() {
            x[(row, col)] = standard_normal(&mut rng);
            target += weight * x[(row, col)];
        }
        targets.push(target + NOISE_SD * standard_normal(&mut rng));
    }
    (x, targets)
}

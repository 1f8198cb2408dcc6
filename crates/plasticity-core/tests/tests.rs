//! Integration tests of `plasticity-core`; modules mirror `src/`.
#![allow(clippy::unwrap_used)]

mod mlp;
mod rule;
mod state;
mod update;

use linalg::{
    Matrix, Vector,
    init::xavier_uniform,
    rng::{Stream, for_item},
};
use plasticity_core::{Mlp, State};
use rand::Rng as _;

/// A seeded f64 network with the given widths (Xavier-uniform, gain 1).
pub(crate) fn net_f64(sizes: &[usize], seed: u64) -> Mlp<f64> {
    let mut rng = for_item(seed, Stream::Init, 0);
    let weights = sizes
        .windows(2)
        .map(|p| xavier_uniform::<f64>(p[1], p[0], 1.0, &mut rng))
        .collect();
    Mlp::from_weights(weights, 10.0).unwrap()
}

/// A seeded input in (0, 1), with one exact zero (a background pixel) at index 0.
pub(crate) fn input_f64(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = for_item(seed, Stream::Noise, 0);
    (0..len)
        .map(|idx| if idx == 0 { 0.0 } else { rng.random::<f64>() })
        .collect()
}

/// Forward pass and backprop errors for every layer including e₀ (Eq. 24).
pub(crate) fn forward_with_backprop_errors(
    net: &Mlp<f64>,
    input: &[f64],
    label: usize,
) -> State<f64> {
    let mut state = net.new_state();
    net.forward(&mut state, input).unwrap();
    state.set_output_error(label).unwrap();
    for target in (0..net.n_layers()).rev() {
        state
            .project_error(target, target + 1, &net.weights()[target])
            .unwrap();
    }
    state
}

/// `v` as an owned column vector.
pub(crate) fn col(v: &Vector<f64>) -> Matrix<f64> {
    Matrix::from_column_slice(v.len(), 1, v.as_slice())
}

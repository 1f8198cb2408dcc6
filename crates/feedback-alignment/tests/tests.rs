//! Integration tests of `feedback-alignment`; modules mirror `src/`.
#![allow(clippy::unwrap_used)]

mod evaluate;
mod feedback;
mod metrics;
mod minibatch;
mod online;

use linalg::{
    Float, Matrix,
    init::xavier_uniform,
    rng::{Stream, for_item},
};
use plasticity_core::Mlp;
use rand::Rng as _;

/// A seeded network with the given widths (Xavier-uniform, gain 1, β = 10).
pub(crate) fn net<T: Float>(sizes: &[usize], seed: u64) -> Mlp<T> {
    let mut rng = for_item(seed, Stream::Init, 0);
    let weights = sizes
        .windows(2)
        .map(|p| xavier_uniform::<T>(p[1], p[0], 1.0, &mut rng))
        .collect();
    Mlp::from_weights(weights, 10.0).unwrap()
}

/// A separable synthetic task: class `c` is a fixed random prototype in [0, 1]^dim plus uniform
/// noise of ±0.15 per coordinate. Returns inputs back to back and labels.
pub(crate) fn prototypes_task<T: Float>(
    dim: usize,
    n_classes: usize,
    n_samples: usize,
    seed: u64,
) -> (Vec<T>, Vec<usize>) {
    let mut proto_rng = for_item(seed, Stream::Init, 99);
    let prototypes: Vec<Vec<f64>> = (0..n_classes)
        .map(|_| (0..dim).map(|_| proto_rng.random::<f64>()).collect())
        .collect();
    let mut rng = for_item(seed, Stream::Shuffle, 0);
    let mut images = Vec::with_capacity(n_samples * dim);
    let mut labels = Vec::with_capacity(n_samples);
    for _ in 0..n_samples {
        let label = rng.random_range(0..n_classes);
        images.extend(
            prototypes[label]
                .iter()
                .map(|&p| T::of_f64((p + 0.3 * (rng.random::<f64>() - 0.5)).clamp(0.0, 1.0))),
        );
        labels.push(label);
    }
    (images, labels)
}

/// `(input, label)` pairs over back-to-back inputs.
pub(crate) fn pairs<'a, T: Float>(
    images: &'a [T],
    labels: &'a [usize],
) -> impl Iterator<Item = (&'a [T], usize)> + 'a {
    images
        .chunks_exact(images.len() / labels.len())
        .zip(labels.iter().copied())
}

/// Flattens the weights (layer by layer, column-major).
pub(crate) fn flatten(net: &Mlp<f64>) -> Vec<f64> {
    net.weights()
        .iter()
        .flat_map(|w| w.iter().copied())
        .collect()
}

/// A network of the given widths with flattened weights.
pub(crate) fn unflatten(sizes: &[usize], params: &[f64]) -> Mlp<f64> {
    let mut offset = 0;
    let weights = sizes
        .windows(2)
        .map(|p| {
            let len = p[0] * p[1];
            let w = Matrix::from_column_slice(p[1], p[0], &params[offset..offset + len]);
            offset += len;
            w
        })
        .collect();
    Mlp::from_weights(weights, 10.0).unwrap()
}

/// Mean cross-entropy of a network over samples.
pub(crate) fn mean_loss(net: &Mlp<f64>, samples: &[(Vec<f64>, usize)]) -> f64 {
    let mut state = net.new_state();
    samples
        .iter()
        .map(|(x, label)| {
            net.forward(&mut state, x).unwrap();
            state.cross_entropy(*label).unwrap()
        })
        .sum::<f64>()
        / samples.len() as f64
}

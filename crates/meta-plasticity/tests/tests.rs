//! Integration tests of `meta-plasticity`; modules mirror `src/`.
#![allow(clippy::unwrap_used)]

mod adam;
mod config;
mod episode;
mod reverse;
mod tangent;
mod term_norms;
mod trainer;

use linalg::{
    Float,
    init::xavier_uniform,
    rng::{Stream, for_item},
};
use meta_plasticity::{ImagePool, InnerLoop, Pathway};
use rand::Rng as _;

/// The small network of the gradient checks.
pub(crate) const SMALL: [usize; 4] = [6, 5, 4, 3];

/// A seeded inner loop: Xavier-uniform `W` (gain `gain`) and, with `fixed`, an independent
/// Xavier-uniform `B`; β = 10.
pub(crate) fn inner<T: Float>(sizes: &[usize], fixed: bool, gain: f64, seed: u64) -> InnerLoop<T> {
    let mut rng = for_item(seed, Stream::Init, 0);
    let weights = sizes
        .windows(2)
        .map(|p| xavier_uniform::<T>(p[1], p[0], gain, &mut rng))
        .collect();
    let mut rng = for_item(seed, Stream::Feedback, 0);
    let pathway = if fixed {
        Pathway::Fixed(
            sizes
                .windows(2)
                .map(|p| xavier_uniform::<T>(p[1], p[0], 1.0, &mut rng))
                .collect(),
        )
    } else {
        Pathway::Backprop
    };
    InnerLoop {
        weights,
        pathway,
        beta: 10.0,
    }
}

/// `n` pixel-like samples in [0, 1) (about a third exactly 0, as background pixels) with labels
/// below `n_classes`.
pub(crate) fn samples(
    n: usize,
    n_inputs: usize,
    n_classes: usize,
    seed: u64,
) -> Vec<(Vec<f64>, usize)> {
    let mut rng = for_item(seed, Stream::Noise, 0);
    (0..n)
        .map(|_| {
            let x = (0..n_inputs)
                .map(|_| {
                    if rng.random::<f64>() < 0.33 {
                        0.0
                    } else {
                        rng.random::<f64>()
                    }
                })
                .collect();
            (x, rng.random_range(0..n_classes))
        })
        .collect()
}

/// Borrowed view of owned samples.
pub(crate) fn view(samples: &[(Vec<f64>, usize)]) -> Vec<(&[f64], usize)> {
    samples
        .iter()
        .map(|(x, label)| (x.as_slice(), *label))
        .collect()
}

/// A synthetic pool: `n_classes` classes of `per_class` images, each class a random prototype
/// in [0, 1]^n_pixels plus ±0.1 noise, classes interleaved in pool order.
pub(crate) fn pool(n_pixels: usize, n_classes: usize, per_class: usize, seed: u64) -> ImagePool {
    let mut rng = for_item(seed, Stream::Noise, 1);
    let prototypes: Vec<Vec<f32>> = (0..n_classes)
        .map(|_| (0..n_pixels).map(|_| rng.random::<f32>() * 0.8).collect())
        .collect();
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..per_class {
        for (class, prototype) in prototypes.iter().enumerate() {
            pixels.extend(
                prototype
                    .iter()
                    .map(|&p| (p + 0.2 * rng.random::<f32>()).min(1.0)),
            );
            labels.push(class);
        }
    }
    ImagePool::new(n_pixels, pixels, labels).unwrap()
}

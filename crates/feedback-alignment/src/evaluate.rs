//! Test-set accuracy of a network.

use rayon::prelude::*;

use linalg::Float;
use plasticity_core::Mlp;

use crate::{Error, Result};

/// Fraction of `labels` the network predicts correctly; `images` holds the inputs back to back
/// (`labels.len() × n₀` values). Runs over fixed chunks in parallel; the count is an integer sum,
/// so the result does not depend on the thread count.
///
/// # Errors
/// [`Error::InvalidConfig`] if the lengths disagree or there are no labels; [`Error::Sample`]
/// naming a sample with an out-of-range label or a NaN output.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use plasticity_core::Mlp;
/// // Output unit i copies input i, so the argmax is the larger input.
/// let net = Mlp::from_weights(vec![Matrix::<f32>::identity(2, 2)], 10.0).unwrap();
/// let acc = feedback_alignment::evaluate(&net, &[1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[0, 1, 1]).unwrap();
/// assert!((acc - 2.0 / 3.0).abs() < 1e-12);
/// ```
pub fn evaluate<T: Float>(net: &Mlp<T>, images: &[T], labels: &[usize]) -> Result<f64> {
    let n_in = net.sizes()[0];
    if labels.is_empty() || images.len() != labels.len() * n_in {
        return Err(Error::InvalidConfig {
            field: "images",
            reason: format!(
                "{} values for {} labels of {n_in} inputs each",
                images.len(),
                labels.len()
            ),
        });
    }
    const CHUNK: usize = 64;
    let counts = labels
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(chunk_idx, chunk_labels)| -> Result<usize> {
            let mut state = net.new_state();
            let mut correct = 0;
            for (offset, &label) in chunk_labels.iter().enumerate() {
                let idx = chunk_idx * CHUNK + offset;
                let input = &images[idx * n_in..(idx + 1) * n_in];
                let predicted = net
                    .predict(&mut state, input)
                    .map_err(|source| Error::Sample { step: idx, source })?;
                if label >= net.sizes()[net.n_layers()] {
                    return Err(Error::Sample {
                        step: idx,
                        source: plasticity_core::Error::LabelOutOfRange {
                            label,
                            n_classes: net.sizes()[net.n_layers()],
                        },
                    });
                }
                correct += usize::from(predicted == label);
            }
            Ok(correct)
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(counts.iter().sum::<usize>() as f64 / labels.len() as f64)
}

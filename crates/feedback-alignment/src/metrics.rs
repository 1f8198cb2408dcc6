//! Per-layer diagnostics: alignment with backprop, orthonormality, norms and effective rank.

use linalg::{Float, Matrix, Vector, eigen::symmetric_eigen, kernels};
use plasticity_core::{Mlp, State};

use crate::{Error, Feedback, Result};

/// Angle in degrees between two vectors; `None` if either is zero or non-finite.
///
/// ```text
/// α = (180/π) · arccos( aᵀb / (‖a‖ ‖b‖) )
/// ```
///
/// # Example
/// ```
/// let angle = feedback_alignment::angle_degrees(&[1.0f64, 0.0], &[1.0, 1.0]).unwrap();
/// assert!((angle - 45.0).abs() < 1e-12);
/// ```
pub fn angle_degrees<T: Float>(a: &[T], b: &[T]) -> Option<f64> {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x.as_f64(), y.as_f64());
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    let denom = (aa * bb).sqrt();
    if !(denom.is_finite() && denom > 0.0 && ab.is_finite()) {
        return None;
    }
    Some((ab / denom).clamp(-1.0, 1.0).acos().to_degrees())
}

/// Alignment angle per layer `ℓ ∈ 0..=L` between the batch-mean error of `feedback` and the
/// batch-mean backprop error on the same network and samples [B §Results, Fig. 4c; digest §1.7]:
///
/// ```text
/// α_ℓ = ∠( mean_b e_ℓ^feedback,  mean_b e_ℓ^BP )
/// ```
///
/// Entry 0 uses the synthetic input error `e₀` (Eq. 24); entry `L` is 0° by construction.
/// `None` where a mean error is zero. Errors use `f64` sums.
///
/// # Errors
/// [`Error::InvalidConfig`] for no samples; [`Error::Sample`] for a bad sample.
///
/// # Example
/// ```
/// use feedback_alignment::{alignment_angles, Feedback};
/// use linalg::rng::{stream, Stream};
/// use plasticity_core::{Mlp, MlpConfig};
/// let config = MlpConfig { sizes: vec![4, 3, 2], ..MlpConfig::default() };
/// let net = Mlp::<f64>::new(&config, &mut stream(0, Stream::Init)).unwrap();
/// let x = [0.1, 0.2, 0.3, 0.4];
/// let angles = alignment_angles(&net, &mut Feedback::backprop(net.sizes()), [(&x[..], 1)]).unwrap();
/// assert!(angles.iter().all(|a| a.unwrap() < 1e-6)); // backprop is aligned with itself
/// ```
pub fn alignment_angles<'s, T: Float>(
    net: &Mlp<T>,
    feedback: &mut Feedback<T>,
    samples: impl IntoIterator<Item = (&'s [T], usize)>,
) -> Result<Vec<Option<f64>>> {
    let sizes = net.sizes().to_vec();
    let mut backprop = Feedback::backprop(&sizes);
    let mut state = net.new_state();
    let mut sum_feedback: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
    let mut sum_backprop = sum_feedback.clone();
    let mut n_samples = 0usize;
    for (idx, (input, label)) in samples.into_iter().enumerate() {
        let result = (|| -> Result<()> {
            net.forward(&mut state, input)?;
            feedback.teach(net, &mut state, label, true)?;
            add_errors(&state, &mut sum_feedback);
            backprop.teach(net, &mut state, label, true)?;
            add_errors(&state, &mut sum_backprop);
            Ok(())
        })();
        result.map_err(|err| crate::online::at_step(err, idx))?;
        n_samples += 1;
    }
    if n_samples == 0 {
        return Err(Error::InvalidConfig {
            field: "samples",
            reason: "no samples to measure angles on".to_string(),
        });
    }
    Ok(sum_feedback
        .iter()
        .zip(&sum_backprop)
        .map(|(a, b)| angle_degrees(a, b))
        .collect())
}

/// Orthonormality error per weight layer (index `ℓ−1`), summed over the inputs:
///
/// ```text
/// E_W = Σ_b ‖z_ℓ − W ȳ_{ℓ−1}‖²,   ȳ_{ℓ−1} = Wᵀ y_ℓ          [B §Results, Eqs. 11–12]
/// ```
///
/// with `y_L` the softmax output. Zero when `W Wᵀ = I` on the relevant subspace.
///
/// # Errors
/// [`Error::Sample`] for an input of the wrong length.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use plasticity_core::Mlp;
/// let net = Mlp::from_weights(vec![Matrix::<f64>::identity(2, 2)], 10.0).unwrap();
/// let errors = feedback_alignment::orthonormality_errors(&net, [&[0.3, 0.7][..]]).unwrap();
/// assert_eq!(errors.len(), 1);
/// ```
pub fn orthonormality_errors<'s, T: Float>(
    net: &Mlp<T>,
    inputs: impl IntoIterator<Item = &'s [T]>,
) -> Result<Vec<f64>> {
    let mut state = net.new_state();
    let mut back: Vec<Vector<T>> = net.sizes()[..net.n_layers()]
        .iter()
        .map(|&n| Vector::zeros(n))
        .collect();
    let mut forth: Vec<Vector<T>> = net.sizes()[1..].iter().map(|&n| Vector::zeros(n)).collect();
    let mut totals = vec![0.0f64; net.n_layers()];
    for (idx, input) in inputs.into_iter().enumerate() {
        net.forward(&mut state, input)
            .map_err(|err| crate::online::at_step(err.into(), idx))?;
        for (layer_idx, w) in net.weights().iter().enumerate() {
            let layer = layer_idx + 1;
            kernels::gemv_t(&mut back[layer_idx], w, state.activation(layer));
            kernels::gemv(&mut forth[layer_idx], w, &back[layer_idx]);
            totals[layer_idx] += state
                .pre_activation(layer)
                .iter()
                .zip(forth[layer_idx].iter())
                .map(|(&z, &r)| {
                    let d = z.as_f64() - r.as_f64();
                    d * d
                })
                .sum::<f64>();
        }
    }
    Ok(totals)
}

/// Euclidean norms of one sample's activations and errors, per layer `0..=L`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorms {
    /// `‖y_ℓ‖`.
    pub activation: Vec<f64>,
    /// `‖e_ℓ‖`, `None` where the error was not computed.
    pub error: Vec<Option<f64>>,
}

/// Norms of the activations and errors held in `state`.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use plasticity_core::Mlp;
/// let net = Mlp::from_weights(vec![Matrix::<f64>::zeros(2, 2)], 10.0).unwrap();
/// let mut state = net.new_state();
/// net.forward(&mut state, &[3.0, 4.0]).unwrap();
/// let norms = feedback_alignment::layer_norms(&state);
/// assert!((norms.activation[0] - 5.0).abs() < 1e-12);
/// assert_eq!(norms.error[1], None);
/// ```
pub fn layer_norms<T: Float>(state: &State<T>) -> LayerNorms {
    let norm = |v: &Vector<T>| {
        v.iter()
            .map(|x| x.as_f64() * x.as_f64())
            .sum::<f64>()
            .sqrt()
    };
    LayerNorms {
        activation: (0..=state.n_layers())
            .map(|layer| norm(state.activation(layer)))
            .collect(),
        error: (0..=state.n_layers())
            .map(|layer| state.error(layer).map(norm))
            .collect(),
    }
}

/// Frobenius norm of every weight matrix, `W_{0,1}` first.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use plasticity_core::Mlp;
/// let net = Mlp::from_weights(vec![Matrix::<f64>::from_element(2, 2, 0.5)], 10.0).unwrap();
/// assert!((feedback_alignment::weight_norms(&net)[0] - 1.0).abs() < 1e-12);
/// ```
pub fn weight_norms<T: Float>(net: &Mlp<T>) -> Vec<f64> {
    net.weights()
        .iter()
        .map(|w| {
            w.iter()
                .map(|x| x.as_f64() * x.as_f64())
                .sum::<f64>()
                .sqrt()
        })
        .collect()
}

/// Effective rank (participation ratio) of every hidden layer's activations over a batch,
/// hidden layers `1..L` in order:
///
/// ```text
/// C = cov_b(y_ℓ),   PR = (Σᵢ λᵢ)² / Σᵢ λᵢ²,   λ = eig(C) (negative rounding clipped to 0)
/// ```
///
/// `PR ∈ [1, n_ℓ]`; 0 if every activation is constant over the batch. Computed in `f64`.
///
/// # Errors
/// [`Error::InvalidConfig`] for fewer than two inputs; [`Error::Sample`] for a bad input.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// use plasticity_core::{Mlp, MlpConfig};
/// let config = MlpConfig { sizes: vec![3, 4, 2], ..MlpConfig::default() };
/// let net = Mlp::<f64>::new(&config, &mut stream(0, Stream::Init)).unwrap();
/// let inputs = [[0.1, 0.5, 0.9], [0.8, 0.2, 0.4], [0.3, 0.3, 0.7]];
/// let ranks = feedback_alignment::effective_ranks(&net, inputs.iter().map(|x| &x[..])).unwrap();
/// assert!(ranks[0] >= 1.0 && ranks[0] <= 4.0);
/// ```
pub fn effective_ranks<'s, T: Float>(
    net: &Mlp<T>,
    inputs: impl IntoIterator<Item = &'s [T]>,
) -> Result<Vec<f64>> {
    let n_hidden = net.n_layers() - 1;
    let mut state = net.new_state();
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); n_hidden];
    let mut n_samples = 0usize;
    for (idx, input) in inputs.into_iter().enumerate() {
        net.forward(&mut state, input)
            .map_err(|err| crate::online::at_step(err.into(), idx))?;
        for (hidden_idx, column) in columns.iter_mut().enumerate() {
            column.extend(state.activation(hidden_idx + 1).iter().map(|v| v.as_f64()));
        }
        n_samples += 1;
    }
    if n_samples < 2 {
        return Err(Error::InvalidConfig {
            field: "inputs",
            reason: format!("need at least 2 inputs, got {n_samples}"),
        });
    }
    Ok(columns
        .into_iter()
        .enumerate()
        .map(|(hidden_idx, data)| {
            // `data` is sample-major: a column-major n_ℓ × N matrix of activations.
            let width = net.sizes()[hidden_idx + 1];
            let mut x = Matrix::<f64>::from_vec(width, n_samples, data);
            for mut row in x.row_iter_mut() {
                let mean = row.iter().sum::<f64>() / n_samples as f64;
                row.iter_mut().for_each(|v| *v -= mean);
            }
            let mut cov = Matrix::<f64>::zeros(width, width);
            kernels::gemm(
                &mut cov,
                1.0 / (n_samples - 1) as f64,
                &x,
                kernels::Transpose::No,
                &x,
                kernels::Transpose::Yes,
                kernels::Accumulate::Replace,
            );
            participation_ratio(symmetric_eigen(&cov).0.as_slice())
        })
        .collect())
}

fn participation_ratio(eigenvalues: &[f64]) -> f64 {
    let (sum, sum_sq) = eigenvalues.iter().fold((0.0, 0.0), |(s, q), &l| {
        let l = l.max(0.0);
        (s + l, q + l * l)
    });
    if sum_sq > 0.0 {
        sum * sum / sum_sq
    } else {
        0.0
    }
}

fn add_errors<T: Float>(state: &State<T>, sums: &mut [Vec<f64>]) {
    for (layer, sum) in sums.iter_mut().enumerate() {
        if let Some(e) = state.error(layer) {
            sum.iter_mut()
                .zip(e.iter())
                .for_each(|(s, v)| *s += v.as_f64());
        }
    }
}

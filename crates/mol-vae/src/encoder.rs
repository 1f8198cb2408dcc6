//! The encoder: scattering features → BatchNorm → FC 400 → BatchNorm → ReLU → (μ, log σ²).

use linalg::{Float, Matrix};

use crate::{
    ModelConfig, Parameters,
    batch_norm::{self, BatchNormCache, Mode, RunningStats},
    linear::{leaky_relu, leaky_relu_backward},
    model::Encoding,
};

/// What the encoder's backward pass needs from its forward pass.
#[derive(Debug, Clone)]
pub(crate) struct EncoderCache<T: Float> {
    input_norm: BatchNormCache<T>,
    /// `x̂` scaled and shifted: the input of the hidden layer.
    normalized_input: Matrix<T>,
    hidden_norm: BatchNormCache<T>,
    /// ReLU output, the input of the μ and log σ² layers.
    activation: Matrix<T>,
}

impl<T: Float> EncoderCache<T> {
    /// Appends the sign of every ReLU input (BN₁ output), the encoder's activation pattern.
    pub(crate) fn push_pattern(&self, affine: &crate::Affine<T>, out: &mut Vec<bool>) {
        let n = self.activation.nrows();
        for col in self.hidden_norm.normalized.as_slice().chunks_exact(n) {
            out.extend(
                col.iter()
                    .enumerate()
                    .map(|(i, &x)| affine.gamma[i] * x + affine.beta[i] > T::zero()),
            );
        }
    }

    /// The smallest `|BN₁ output|`, the distance of the ReLU's inputs from its kink.
    #[cfg(test)]
    pub(crate) fn kink_margin(&self, affine: &crate::Affine<T>) -> f64 {
        let n = self.activation.nrows();
        self.hidden_norm
            .normalized
            .as_slice()
            .chunks_exact(n)
            .flat_map(|col| {
                col.iter()
                    .enumerate()
                    .map(|(i, &x)| (affine.gamma[i] * x + affine.beta[i]).as_f64().abs())
            })
            .fold(f64::INFINITY, f64::min)
    }
}

/// Forward pass of a batch of feature columns (`n_features × B`):
///
/// ```text
/// x̃ = BN₀(x),  h = ReLU(BN₁(W₁ x̃ + b₁)),  μ = W_μ h + b_μ,  log σ² = W_σ h + b_σ   [C §3.1]
/// ```
///
/// `n_samples` is the number L of Monte-Carlo copies the code makes of each row before the
/// encoder; it only enters BatchNorm's unbiased running-variance correction (`n = B·L`).
pub(crate) fn forward<T: Float>(
    params: &Parameters<T>,
    config: &ModelConfig,
    stats: (&mut RunningStats<T>, &mut RunningStats<T>),
    features: &Matrix<T>,
    mode: Mode,
    n_samples: usize,
) -> (Encoding<T>, EncoderCache<T>) {
    let cols = features.ncols();
    let n_effective = cols * n_samples;
    let mut normalized_input = Matrix::zeros(config.n_features, cols);
    let input_norm = batch_norm::forward(
        &mut normalized_input,
        features,
        &params.input_norm,
        stats.0,
        mode,
        (config.bn_momentum, config.bn_eps),
        n_effective,
    );
    let mut hidden = Matrix::zeros(config.n_hidden, cols);
    params.hidden.forward_split(&mut hidden, &normalized_input);
    let mut activation = Matrix::zeros(config.n_hidden, cols);
    let hidden_norm = batch_norm::forward(
        &mut activation,
        &hidden,
        &params.hidden_norm,
        stats.1,
        mode,
        (config.bn_momentum, config.bn_eps),
        n_effective,
    );
    leaky_relu(activation.as_mut_slice(), T::zero());
    let mut mean = Matrix::zeros(config.n_latent, cols);
    params.mean.forward(&mut mean, &activation);
    let mut log_var = Matrix::zeros(config.n_latent, cols);
    params.log_var.forward(&mut log_var, &activation);
    (
        Encoding { mean, log_var },
        EncoderCache {
            input_norm,
            normalized_input,
            hidden_norm,
            activation,
        },
    )
}

/// Backward pass in training mode: accumulates every encoder gradient into `grad` from
/// `∂μ` and `∂log σ²` (`n_latent × B`). The input's own gradient is not formed (the features
/// are data), only what `BN₀`'s `γ`, `β` need.
pub(crate) fn backward<T: Float>(
    params: &Parameters<T>,
    cache: &EncoderCache<T>,
    grad: &mut Parameters<T>,
    d_mean: &Matrix<T>,
    d_log_var: &Matrix<T>,
) {
    let d_hidden = backward_to_hidden(params, cache, grad, d_mean, d_log_var);
    let n_features = cache.normalized_input.nrows();
    let mut d_normalized = Matrix::zeros(n_features, d_hidden.ncols());
    params.hidden.backward(
        &mut grad.hidden,
        &cache.normalized_input,
        &d_hidden,
        Some(&mut d_normalized),
    );
    batch_norm::backward(
        &cache.input_norm,
        &params.input_norm,
        &mut grad.input_norm,
        &d_normalized,
        None,
    );
}

/// [`backward`] up to the hidden layer's output gradient, with the hidden bias's gradient: the
/// hidden weight's gradient and `BN₀`'s are left to [`DeferredHidden::finish`], which fuses
/// them with the weight's Adam update (training steps only).
pub(crate) fn backward_deferred<T: Float>(
    params: &Parameters<T>,
    cache: EncoderCache<T>,
    grad: &mut Parameters<T>,
    d_mean: &Matrix<T>,
    d_log_var: &Matrix<T>,
) -> DeferredHidden<T> {
    let d_hidden = backward_to_hidden(params, &cache, grad, d_mean, d_log_var);
    let n_hidden = d_hidden.nrows();
    for col in d_hidden.as_slice().chunks_exact(n_hidden) {
        for (gi, &di) in grad.hidden.bias.iter_mut().zip(col) {
            *gi += di;
        }
    }
    DeferredHidden { cache, d_hidden }
}

/// The encoder's backward pass from `∂μ`, `∂log σ²` down to `∂(W₁ x̃ + b₁)`, accumulating the
/// μ, log σ² and `BN₁` gradients on the way.
fn backward_to_hidden<T: Float>(
    params: &Parameters<T>,
    cache: &EncoderCache<T>,
    grad: &mut Parameters<T>,
    d_mean: &Matrix<T>,
    d_log_var: &Matrix<T>,
) -> Matrix<T> {
    let (n_hidden, cols) = cache.activation.shape();
    let mut d_activation = Matrix::zeros(n_hidden, cols);
    params.mean.backward(
        &mut grad.mean,
        &cache.activation,
        d_mean,
        Some(&mut d_activation),
    );
    let mut d_from_log_var = Matrix::zeros(n_hidden, cols);
    params.log_var.backward(
        &mut grad.log_var,
        &cache.activation,
        d_log_var,
        Some(&mut d_from_log_var),
    );
    d_activation += &d_from_log_var;
    leaky_relu_backward(
        d_activation.as_mut_slice(),
        cache.activation.as_slice(),
        T::zero(),
    );
    let mut d_hidden = Matrix::zeros(n_hidden, cols);
    batch_norm::backward(
        &cache.hidden_norm,
        &params.hidden_norm,
        &mut grad.hidden_norm,
        &d_activation,
        Some(&mut d_hidden),
    );
    d_hidden
}

/// The rest of a training step's encoder backward pass, deferred until the optimiser runs:
/// the 9,425 × 400 hidden weight's gradient is consumed by its Adam update in the same pass
/// over the matrix ([`linalg::adam::linear_backward_adam`]) instead of being stored.
#[derive(Debug)]
pub(crate) struct DeferredHidden<T: Float> {
    cache: EncoderCache<T>,
    /// `∂(W₁ x̃ + b₁)`, `n_hidden × B`.
    d_hidden: Matrix<T>,
}

impl<T: Float> DeferredHidden<T> {
    /// Updates the hidden weight and its moments by Adam (`step`) with the gradient
    /// `∂Y x̃ᵀ`, and accumulates `BN₀`'s gradient (through `W₁ᵀ ∂Y` with the weight before the
    /// update) into `grad`. Call before the Adam update of the other tensors: `BN₀`'s backward
    /// pass reads its `γ`.
    pub(crate) fn finish(
        self,
        params: &mut Parameters<T>,
        moments: (&mut Matrix<T>, &mut Matrix<T>),
        grad: &mut Parameters<T>,
        step: &linalg::adam::AdamStep<T>,
    ) {
        let (n_features, cols) = self.cache.normalized_input.shape();
        let mut d_normalized_t = Matrix::zeros(cols, n_features);
        linalg::adam::linear_backward_adam(
            &mut params.hidden.weight,
            moments.0,
            moments.1,
            &self.cache.normalized_input,
            &self.d_hidden,
            &mut d_normalized_t,
            step,
        );
        let d_normalized = d_normalized_t.transpose();
        batch_norm::backward(
            &self.cache.input_norm,
            &params.input_norm,
            &mut grad.input_norm,
            &d_normalized,
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use linalg::{
        gaussian::fill_standard_normal,
        rng::{Stream, stream},
        testing::{check_gradient, fd_step, tol},
    };

    use super::*;

    /// `Σ c_μ ⊙ μ + Σ c_σ ⊙ log σ²` (training mode) as a function of the parameters.
    fn loss(
        flat: &[f64],
        template: &Parameters<f64>,
        config: &ModelConfig,
        x: &Matrix<f64>,
        coeffs: &(Matrix<f64>, Matrix<f64>),
    ) -> f64 {
        let mut params = template.clone();
        params.set_flat(flat).unwrap();
        let mut stats = (
            RunningStats::new(config.n_features),
            RunningStats::new(config.n_hidden),
        );
        let (enc, _) = forward(
            &params,
            config,
            (&mut stats.0, &mut stats.1),
            x,
            Mode::Train,
            2,
        );
        enc.mean.component_mul(&coeffs.0).sum() + enc.log_var.component_mul(&coeffs.1).sum()
    }

    #[test]
    fn encoder_backward_matches_finite_differences() {
        let config = ModelConfig::small(4);
        let cols = 5;
        let mut checked = 0;
        for seed in 0..20 {
            let mut rng = stream(seed, Stream::Init);
            let mut params = Parameters::<f64>::glorot(&config, &mut rng).unwrap();
            // Move γ, β off their initial values so their gradients are generic.
            for t in [
                &mut params.input_norm.gamma,
                &mut params.input_norm.beta,
                &mut params.hidden_norm.gamma,
                &mut params.hidden_norm.beta,
            ] {
                let mut shift = vec![0.0; t.len()];
                fill_standard_normal(&mut shift, &mut rng);
                for (v, s) in t.iter_mut().zip(shift) {
                    *v += 0.3 * s;
                }
            }
            let mut x = Matrix::zeros(config.n_features, cols);
            fill_standard_normal(x.as_mut_slice(), &mut rng);
            let mut coeffs = (
                Matrix::zeros(config.n_latent, cols),
                Matrix::zeros(config.n_latent, cols),
            );
            fill_standard_normal(coeffs.0.as_mut_slice(), &mut rng);
            fill_standard_normal(coeffs.1.as_mut_slice(), &mut rng);
            let mut stats = (
                RunningStats::new(config.n_features),
                RunningStats::new(config.n_hidden),
            );
            let (_, cache) = forward(
                &params,
                &config,
                (&mut stats.0, &mut stats.1),
                &x,
                Mode::Train,
                2,
            );
            if cache.kink_margin(&params.hidden_norm) < 10.0 * fd_step(1.0) {
                continue;
            }
            let mut grad = params.zeros_like();
            backward(&params, &cache, &mut grad, &coeffs.0, &coeffs.1);
            check_gradient(
                |p| loss(p, &params, &config, &x, &coeffs),
                &params.to_flat(),
                &grad.to_flat(),
                tol::GRAD,
            );
            checked += 1;
            if checked == 3 {
                break;
            }
        }
        assert_eq!(
            checked, 3,
            "fewer than 3 seeds were far enough from the ReLU kink"
        );
    }
}

//! The one-shot decoder: adjacency net `z → 60 → 120 → 240 → 288`, bond logits
//! `LeakyReLU(H_t H_tᵀ)` per bond class, and the atom head on `softmax(bonds) ‖ z`. In the
//! conditional model both heads read `[z ‖ c]` in place of `z` (digest §3.4).

use std::borrow::Cow;

use linalg::{Float, Matrix, activation::softmax};

use crate::{
    ModelConfig, N_BOND_CLASSES, Parameters,
    linear::{leaky_relu, leaky_relu_backward},
};

/// What the decoder's backward pass needs from its forward pass (all one column per code).
#[derive(Debug, Clone)]
pub(crate) struct DecoderCache<T: Float> {
    /// Input of each adjacency-net layer (`inputs[0] = [z ‖ c]`).
    inputs: Vec<Matrix<T>>,
    /// Output of the last adjacency-net layer, `H` (`n · 4 · E × R`).
    embedding: Matrix<T>,
    /// Bond logits `W = LeakyReLU(H_t H_tᵀ)` (`n² · 4 × R`).
    pub(crate) bond_logits: Matrix<T>,
    /// `P = softmax_t W`.
    pub(crate) bond_probs: Matrix<T>,
    /// Input of the atom head, `[P ‖ z ‖ c]`.
    atom_input: Matrix<T>,
    /// Atom logits `LeakyReLU(W_a [P ‖ z] + b_a)` (`n · 5 × R`).
    pub(crate) atom_logits: Matrix<T>,
}

/// Forward pass of decoder inputs `u = [z ‖ c]` (`n_latent + n_conditions × R`; `u = z` in the
/// unconditional model, see [`stack_input`]):
///
/// ```text
/// H = LReLU(W₄ LReLU(W₃ LReLU(W₂ LReLU(W₁ u + b₁) + b₂) + b₃) + b₄)   reshaped (n, 4, E)  [C §3.1, §3.4]
/// W_t = LReLU(H_t H_tᵀ)          per bond class t, symmetric n × n                       [C §3.1]
/// P_uv = softmax_t(W_uv,:)                                                               [C §3.1]
/// F = LReLU(W_a [vec(P) ‖ u] + b_a)  reshaped (n, 5)                                     [C §3.1, §3.4]
/// ```
///
/// Layouts: `H[v, t, k]` is entry `v·4E + t·E + k` of the 288-vector (PyTorch's row-major
/// `view(9, 4, 8)`); `W[u, v, t]` and `P[u, v, t]` are entry `(u·n + v)·4 + t`; atom logit
/// `(v, c)` is entry `v·5 + c`. Only the upper triangle of `H_t H_tᵀ` is computed and mirrored,
/// so `W` is exactly symmetric.
pub(crate) fn forward<T: Float>(
    params: &Parameters<T>,
    config: &ModelConfig,
    input: &Matrix<T>,
) -> DecoderCache<T> {
    let cols = input.ncols();
    let slope = T::of_f64(config.leaky_slope);
    let mut inputs = Vec::with_capacity(params.decoder.len());
    let mut current = input.clone();
    for layer in &params.decoder {
        let mut out = Matrix::zeros(layer.n_out(), cols);
        layer.forward(&mut out, &current);
        leaky_relu(out.as_mut_slice(), slope);
        inputs.push(std::mem::replace(&mut current, out));
    }
    let embedding = current;
    let n = config.n_nodes;
    let e = config.bond_embedding;
    let n_bond = config.n_bond_logits();
    let mut bond_logits = Matrix::zeros(n_bond, cols);
    let mut bond_probs = Matrix::zeros(n_bond, cols);
    for ((h, w), p) in embedding
        .as_slice()
        .chunks_exact(config.n_bond_head())
        .zip(bond_logits.as_mut_slice().chunks_exact_mut(n_bond))
        .zip(bond_probs.as_mut_slice().chunks_exact_mut(n_bond))
    {
        for u in 0..n {
            for v in u..n {
                for t in 0..N_BOND_CLASSES {
                    let hu = &h[u * N_BOND_CLASSES * e + t * e..][..e];
                    let hv = &h[v * N_BOND_CLASSES * e + t * e..][..e];
                    let mut s = linalg::kernels::dot(hu, hv);
                    if s < T::zero() {
                        s *= slope;
                    }
                    w[(u * n + v) * N_BOND_CLASSES + t] = s;
                    w[(v * n + u) * N_BOND_CLASSES + t] = s;
                }
            }
        }
        for (pc, wc) in p
            .chunks_exact_mut(N_BOND_CLASSES)
            .zip(w.chunks_exact(N_BOND_CLASSES))
        {
            softmax(pc, wc);
        }
    }
    let n_input = input.nrows();
    let mut atom_input = Matrix::zeros(n_bond + n_input, cols);
    for ((dst, p), zc) in atom_input
        .as_mut_slice()
        .chunks_exact_mut(n_bond + n_input)
        .zip(bond_probs.as_slice().chunks_exact(n_bond))
        .zip(input.as_slice().chunks_exact(n_input))
    {
        dst[..n_bond].copy_from_slice(p);
        dst[n_bond..].copy_from_slice(zc);
    }
    let mut atom_logits = Matrix::zeros(config.n_atom_logits(), cols);
    params.atom_head.forward(&mut atom_logits, &atom_input);
    leaky_relu(atom_logits.as_mut_slice(), slope);
    DecoderCache {
        inputs,
        embedding,
        bond_logits,
        bond_probs,
        atom_input,
        atom_logits,
    }
}

/// The decoder's input `u = [z ‖ c]`: `z` itself (borrowed) without conditions, else `z`
/// (`n_latent × R`) stacked over `c` (`n_conditions × R`). The caller has checked the shapes.
pub(crate) fn stack_input<'a, T: Float>(
    z: &'a Matrix<T>,
    conditions: Option<&Matrix<T>>,
) -> Cow<'a, Matrix<T>> {
    match conditions {
        Some(c) if c.nrows() > 0 => {
            let (k, m) = (z.nrows(), c.nrows());
            let mut input = Matrix::zeros(k + m, z.ncols());
            for ((dst, zc), cc) in input
                .as_mut_slice()
                .chunks_exact_mut(k + m)
                .zip(z.as_slice().chunks_exact(k))
                .zip(c.as_slice().chunks_exact(m))
            {
                dst[..k].copy_from_slice(zc);
                dst[k..].copy_from_slice(cc);
            }
            Cow::Owned(input)
        }
        _ => Cow::Borrowed(z),
    }
}

impl<T: Float> DecoderCache<T> {
    /// Appends the sign of every LeakyReLU input (the activation pattern): a gradient check
    /// is valid where the pattern does not change within the finite-difference step.
    pub(crate) fn push_pattern(&self, out: &mut Vec<bool>) {
        for m in
            self.inputs[1..]
                .iter()
                .chain([&self.embedding, &self.bond_logits, &self.atom_logits])
        {
            out.extend(m.iter().map(|&y| y > T::zero()));
        }
    }
}

/// Backward pass: from `∂F` (atom logits), `∂W` (bond logits) and optionally `∂P` (bond
/// probabilities, used by the constraint penalties), accumulates every decoder gradient into
/// `grad` and returns `∂u` for the input `u = [z ‖ c]` (`n_latent + n_conditions × R`; its
/// first `n_latent` rows are `∂z`).
///
/// ```text
/// ∂P  += [W_aᵀ (∂F ⊙ LReLU′)]_{1..n²4},   ∂u += [W_aᵀ (∂F ⊙ LReLU′)]_{n²4+1..}
/// ∂W_uv,t += P_uv,t (∂P_uv,t − Σ_s P_uv,s ∂P_uv,s)                 (softmax)
/// ∂S = ∂W ⊙ LReLU′,   ∂H_t = (∂S_t + ∂S_tᵀ) H_t                     (S_t = H_t H_tᵀ)
/// ```
pub(crate) fn backward<T: Float>(
    params: &Parameters<T>,
    config: &ModelConfig,
    cache: &DecoderCache<T>,
    grad: &mut Parameters<T>,
    d_atom_logits: &Matrix<T>,
    d_bond_logits: &Matrix<T>,
    d_bond_probs: Option<&Matrix<T>>,
) -> Matrix<T> {
    let cols = d_atom_logits.ncols();
    let slope = T::of_f64(config.leaky_slope);
    let n = config.n_nodes;
    let e = config.bond_embedding;
    let n_bond = config.n_bond_logits();
    let n_input = config.n_decoder_inputs();
    let mut d_pre_atom = d_atom_logits.clone();
    leaky_relu_backward(
        d_pre_atom.as_mut_slice(),
        cache.atom_logits.as_slice(),
        slope,
    );
    let mut d_atom_input = Matrix::zeros(n_bond + n_input, cols);
    params.atom_head.backward(
        &mut grad.atom_head,
        &cache.atom_input,
        &d_pre_atom,
        Some(&mut d_atom_input),
    );
    let mut dz = Matrix::zeros(n_input, cols);
    let mut d_embedding = Matrix::zeros(config.n_bond_head(), cols);
    let mut d_logits = vec![T::zero(); n_bond];
    for col in 0..cols {
        let d_in = &d_atom_input.as_slice()[col * (n_bond + n_input)..][..n_bond + n_input];
        dz.as_mut_slice()[col * n_input..][..n_input].copy_from_slice(&d_in[n_bond..]);
        let p = &cache.bond_probs.as_slice()[col * n_bond..][..n_bond];
        let w = &cache.bond_logits.as_slice()[col * n_bond..][..n_bond];
        let dw_in = &d_bond_logits.as_slice()[col * n_bond..][..n_bond];
        let dp_extra = d_bond_probs.map(|m| &m.as_slice()[col * n_bond..][..n_bond]);
        // Softmax backward per pair, plus the direct logit gradient, then LeakyReLU′.
        for pair in 0..n * n {
            let base = pair * N_BOND_CLASSES;
            let mut dp = [T::zero(); N_BOND_CLASSES];
            for (t, slot) in dp.iter_mut().enumerate() {
                *slot = d_in[base + t] + dp_extra.map_or(T::zero(), |x| x[base + t]);
            }
            let mut inner = T::zero();
            for (t, &dpt) in dp.iter().enumerate() {
                inner += p[base + t] * dpt;
            }
            for (t, &dpt) in dp.iter().enumerate() {
                let mut g = dw_in[base + t] + p[base + t] * (dpt - inner);
                if w[base + t] <= T::zero() {
                    g *= slope;
                }
                d_logits[base + t] = g;
            }
        }
        // ∂H_t[u,:] = Σ_v (∂S_t[u,v] + ∂S_t[v,u]) H_t[v,:].
        let h = &cache.embedding.as_slice()[col * config.n_bond_head()..][..config.n_bond_head()];
        let dh =
            &mut d_embedding.as_mut_slice()[col * config.n_bond_head()..][..config.n_bond_head()];
        for u in 0..n {
            for v in 0..n {
                for t in 0..N_BOND_CLASSES {
                    let coeff = d_logits[(u * n + v) * N_BOND_CLASSES + t]
                        + d_logits[(v * n + u) * N_BOND_CLASSES + t];
                    let hv = &h[v * N_BOND_CLASSES * e + t * e..][..e];
                    let dhu = &mut dh[u * N_BOND_CLASSES * e + t * e..][..e];
                    linalg::kernels::axpy(dhu, coeff, hv);
                }
            }
        }
    }
    // Back through the adjacency net.
    let mut d_out = d_embedding;
    let mut output = &cache.embedding;
    for (idx, layer) in params.decoder.iter().enumerate().rev() {
        leaky_relu_backward(d_out.as_mut_slice(), output.as_slice(), slope);
        let input = &cache.inputs[idx];
        let mut d_in = Matrix::zeros(layer.n_in(), cols);
        layer.backward(&mut grad.decoder[idx], input, &d_out, Some(&mut d_in));
        d_out = d_in;
        output = input;
    }
    dz += &d_out;
    dz
}

#[cfg(test)]
mod tests {
    use linalg::{
        gaussian::fill_standard_normal,
        rng::{Stream, stream},
        testing::{assert_all_close, central_difference, tol},
    };

    use super::*;

    /// `Σ c_F ⊙ F + Σ c_W ⊙ W + Σ c_P ⊙ P` as a function of `(parameters, u)` flattened
    /// (`u = [z ‖ c]`), and whether the activation pattern equals `base`.
    fn loss(
        flat: &[f64],
        template: &Parameters<f64>,
        config: &ModelConfig,
        cols: usize,
        coeffs: &(Matrix<f64>, Matrix<f64>, Matrix<f64>),
        base: &[bool],
    ) -> (f64, bool) {
        let mut params = template.clone();
        let n = params.n_parameters();
        params.set_flat(&flat[..n]).unwrap();
        let z = Matrix::from_column_slice(config.n_decoder_inputs(), cols, &flat[n..]);
        let cache = forward(&params, config, &z);
        let mut pattern = Vec::new();
        cache.push_pattern(&mut pattern);
        let value = cache.atom_logits.component_mul(&coeffs.0).sum()
            + cache.bond_logits.component_mul(&coeffs.1).sum()
            + cache.bond_probs.component_mul(&coeffs.2).sum();
        (value, pattern == base)
    }

    #[test]
    fn decoder_backward_matches_finite_differences() {
        check_decoder(&ModelConfig::small(2));
    }

    /// The conditional decoder: the new input columns of the first adjacency-net layer and of
    /// the atom head, and `∂c`, against central differences.
    #[test]
    fn conditional_decoder_backward_matches_finite_differences() {
        check_decoder(&ModelConfig {
            n_conditions: 3,
            ..ModelConfig::small(2)
        });
    }

    #[test]
    fn stacked_input_puts_z_over_c_per_column() {
        let z = Matrix::from_column_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        let c = Matrix::from_column_slice(1, 2, &[-1.0, -2.0]);
        let u = stack_input(&z, Some(&c));
        assert_eq!(u.as_slice(), &[1.0, 2.0, -1.0, 3.0, 4.0, -2.0]);
        assert!(matches!(stack_input(&z, None), Cow::Borrowed(_)));
    }

    fn check_decoder(config: &ModelConfig) {
        let config = config.clone();
        let cols = 2;
        let mut checked = 0;
        for seed in 0..20 {
            let mut rng = stream(seed, Stream::Init);
            let params = Parameters::<f64>::glorot(&config, &mut rng).unwrap();
            let mut z = Matrix::zeros(config.n_decoder_inputs(), cols);
            fill_standard_normal(z.as_mut_slice(), &mut rng);
            let random = |rows: usize, rng: &mut linalg::Rng| {
                let mut m = Matrix::zeros(rows, cols);
                fill_standard_normal(m.as_mut_slice(), rng);
                m
            };
            let coeffs = (
                random(config.n_atom_logits(), &mut rng),
                random(config.n_bond_logits(), &mut rng),
                random(config.n_bond_logits(), &mut rng),
            );
            let cache = forward(&params, &config, &z);
            let mut base = Vec::new();
            cache.push_pattern(&mut base);
            let mut grad = params.zeros_like();
            let dz = backward(
                &params,
                &config,
                &cache,
                &mut grad,
                &coeffs.0,
                &coeffs.1,
                Some(&coeffs.2),
            );
            let point = [params.to_flat(), z.as_slice().to_vec()].concat();
            let analytic = [grad.to_flat(), dz.as_slice().to_vec()].concat();
            // Keep only points where no LeakyReLU input changes sign within a step (STYLE §7:
            // away from kinks); LeakyReLU is linear on each side, so this is smoothness.
            let mut smooth = true;
            let numeric = central_difference(
                |p| {
                    let (value, same) = loss(p, &params, &config, cols, &coeffs, &base);
                    smooth &= same;
                    value
                },
                &point,
            );
            if !smooth {
                continue;
            }
            assert_all_close(&analytic, &numeric, tol::GRAD);
            checked += 1;
            if checked == 3 {
                break;
            }
        }
        assert_eq!(
            checked, 3,
            "fewer than 3 seeds were far enough from the kinks"
        );
    }
}

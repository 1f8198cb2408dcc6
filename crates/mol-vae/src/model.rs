//! The GSVAE network: its parameters, BatchNorm running statistics and construction.

use serde::{Deserialize, Serialize};

use linalg::{Float, Matrix, Rng};

use crate::{
    Error, ModelConfig, Result,
    batch_norm::{Affine, Mode, RunningStats},
    decoder, encoder,
    linear::Linear,
};

mod format;

/// Every trainable tensor of the network (3,937,713 numbers at the paper's sizes, digest §3.1).
///
/// The same type holds gradients and Adam's moments, so optimisers and checkpoints walk one
/// list of tensors ([`Parameters::tensors`]) in a fixed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Parameters<T: Float> {
    /// `BatchNorm1d(9425)` on the scattering features: `γ`, `β`.
    pub input_norm: Affine<T>,
    /// `Linear(9425, 400)`.
    pub hidden: Linear<T>,
    /// `BatchNorm1d(400)`: `γ`, `β`.
    pub hidden_norm: Affine<T>,
    /// `Linear(400, 30)` → μ.
    pub mean: Linear<T>,
    /// `Linear(400, 30)` → log σ².
    pub log_var: Linear<T>,
    /// The adjacency net `30 → 60 → 120 → 240 → 288`, each followed by LeakyReLU (input
    /// `[z ‖ c]`, `30 + n_conditions` wide, in the conditional model).
    pub decoder: Vec<Linear<T>>,
    /// The atom head `Linear(324 + 30, 45)`, followed by LeakyReLU (input
    /// `[softmax(W) ‖ z ‖ c]` in the conditional model).
    pub atom_head: Linear<T>,
}

impl<T: Float> Parameters<T> {
    /// Glorot-uniform weights and biases (digest §3.1), BatchNorm `γ = 1`, `β = 0`. Layers are
    /// drawn in the order encoder hidden, μ, log σ², decoder layers, atom head.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `config` does not validate.
    pub fn glorot(config: &ModelConfig, rng: &mut Rng) -> Result<Parameters<T>> {
        config.validate()?;
        let hidden = Linear::glorot(config.n_hidden, config.n_features, rng);
        let mean = Linear::glorot(config.n_latent, config.n_hidden, rng);
        let log_var = Linear::glorot(config.n_latent, config.n_hidden, rng);
        let mut decoder = Vec::with_capacity(config.decoder_widths.len());
        let mut n_in = config.n_decoder_inputs();
        for &n_out in &config.decoder_widths {
            decoder.push(Linear::glorot(n_out, n_in, rng));
            n_in = n_out;
        }
        let atom_head = Linear::glorot(config.n_atom_logits(), config.n_atom_head_inputs(), rng);
        Ok(Parameters {
            input_norm: Affine::identity(config.n_features),
            hidden,
            hidden_norm: Affine::identity(config.n_hidden),
            mean,
            log_var,
            decoder,
            atom_head,
        })
    }

    /// A zero tensor of every shape of `self` (gradient accumulator, Adam moment).
    pub fn zeros_like(&self) -> Parameters<T> {
        let lin = |l: &Linear<T>| Linear::zeros(l.n_out(), l.n_in());
        Parameters {
            input_norm: Affine::zeros(self.input_norm.gamma.len()),
            hidden: lin(&self.hidden),
            hidden_norm: Affine::zeros(self.hidden_norm.gamma.len()),
            mean: lin(&self.mean),
            log_var: lin(&self.log_var),
            decoder: self.decoder.iter().map(lin).collect(),
            atom_head: lin(&self.atom_head),
        }
    }

    /// The tensors in a fixed order (column-major storage of each).
    pub fn tensors(&self) -> Vec<&[T]> {
        let mut out = vec![
            self.input_norm.gamma.as_slice(),
            self.input_norm.beta.as_slice(),
            self.hidden.weight.as_slice(),
            self.hidden.bias.as_slice(),
            self.hidden_norm.gamma.as_slice(),
            self.hidden_norm.beta.as_slice(),
            self.mean.weight.as_slice(),
            self.mean.bias.as_slice(),
            self.log_var.weight.as_slice(),
            self.log_var.bias.as_slice(),
        ];
        for layer in &self.decoder {
            out.push(layer.weight.as_slice());
            out.push(layer.bias.as_slice());
        }
        out.push(self.atom_head.weight.as_slice());
        out.push(self.atom_head.bias.as_slice());
        out
    }

    /// The tensors in the order of [`Parameters::tensors`], mutably.
    pub fn tensors_mut(&mut self) -> Vec<&mut [T]> {
        let mut out = vec![
            self.input_norm.gamma.as_mut_slice(),
            self.input_norm.beta.as_mut_slice(),
            self.hidden.weight.as_mut_slice(),
            self.hidden.bias.as_mut_slice(),
            self.hidden_norm.gamma.as_mut_slice(),
            self.hidden_norm.beta.as_mut_slice(),
            self.mean.weight.as_mut_slice(),
            self.mean.bias.as_mut_slice(),
            self.log_var.weight.as_mut_slice(),
            self.log_var.bias.as_mut_slice(),
        ];
        for layer in &mut self.decoder {
            out.push(layer.weight.as_mut_slice());
            out.push(layer.bias.as_mut_slice());
        }
        out.push(self.atom_head.weight.as_mut_slice());
        out.push(self.atom_head.bias.as_mut_slice());
        out
    }

    /// Total number of trainable numbers.
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// let config = mol_vae::ModelConfig::default();
    /// let params = mol_vae::Parameters::<f32>::glorot(&config, &mut stream(0, Stream::Init)).unwrap();
    /// assert_eq!(params.n_parameters(), 3_937_713); // digest §3.1
    /// ```
    pub fn n_parameters(&self) -> usize {
        self.tensors().iter().map(|t| t.len()).sum()
    }

    /// All tensors concatenated in the order of [`Parameters::tensors`].
    pub fn to_flat(&self) -> Vec<T> {
        self.tensors().concat()
    }

    /// Overwrites every tensor from a flat vector in the order of [`Parameters::tensors`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the length is not [`Parameters::n_parameters`].
    pub fn set_flat(&mut self, flat: &[T]) -> Result<()> {
        let n = self.n_parameters();
        if flat.len() != n {
            return Err(Error::ShapeMismatch {
                op: "Parameters::set_flat",
                expected: (n, 1),
                got: (flat.len(), 1),
            });
        }
        let mut offset = 0;
        for tensor in self.tensors_mut() {
            let len = tensor.len();
            tensor.copy_from_slice(&flat[offset..offset + len]);
            offset += len;
        }
        Ok(())
    }

    /// Sets every entry to zero.
    pub fn fill_zero(&mut self) {
        for tensor in self.tensors_mut() {
            tensor.fill(T::zero());
        }
    }
}

/// The graph-scattering VAE (digest §3.1): encoder `BN → FC 400 → BN → ReLU → (μ, log σ²)`,
/// one-shot decoder `z → 60 → 120 → 240 → 288 → LeakyReLU(H_t H_tᵀ)` for bonds and
/// `LeakyReLU(FC([softmax(bonds) ‖ z]))` for atoms.
///
/// With [`ModelConfig::n_conditions`] `> 0` it is the conditional model (CVAE) of the code's
/// conditional design [C §3.4]: the decoder reads `[z ‖ c]` in both heads
/// ([`MolVae::decode_conditional`]) and the encoder's features carry `c` as constant node
/// channels ([`crate::features::conditional_scattering_features`]).
///
/// Serialisation writes the configuration without `n_conditions`, so an unconditional model's
/// bytes (and checkpoints written before the conditional model existed) are unchanged; reading
/// recovers `n_conditions` from the width of the first decoder layer and checks every tensor's
/// shape against the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MolVae<T: Float = f32> {
    config: ModelConfig,
    /// Trainable parameters.
    pub params: Parameters<T>,
    /// Running statistics of the input BatchNorm.
    pub input_stats: RunningStats<T>,
    /// Running statistics of the hidden BatchNorm.
    pub hidden_stats: RunningStats<T>,
}

/// The encoder's output for a batch: `μ` and `log σ²`, each `n_latent × B`.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding<T: Float> {
    /// Posterior means, one column per molecule.
    pub mean: Matrix<T>,
    /// Posterior log-variances, one column per molecule.
    pub log_var: Matrix<T>,
}

/// The decoder's output for a batch of latent codes, one column per code.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T: Float> {
    /// Atom logits (`n_nodes · 5 × R`), entry `v·5 + c` for node `v`, class `c`.
    pub atom_logits: Matrix<T>,
    /// Bond logits `W` (`n_nodes² · 4 × R`), entry `(u·n + v)·4 + t`; symmetric in `(u, v)`.
    pub bond_logits: Matrix<T>,
    /// Bond probabilities `P = softmax_t W` (same layout as `bond_logits`).
    pub bond_probs: Matrix<T>,
}

impl<T: Float> MolVae<T> {
    /// A freshly initialised network (digest §3.1, "init"), drawing from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `config` does not validate.
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// let model = mol_vae::MolVae::<f64>::new(mol_vae::ModelConfig::small(6), &mut stream(1, Stream::Init)).unwrap();
    /// assert_eq!(model.config().n_latent, 3);
    /// ```
    pub fn new(config: ModelConfig, rng: &mut Rng) -> Result<MolVae<T>> {
        let params = Parameters::glorot(&config, rng)?;
        Ok(MolVae {
            input_stats: RunningStats::new(config.n_features),
            hidden_stats: RunningStats::new(config.n_hidden),
            params,
            config,
        })
    }

    /// The sizes this network was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Encodes a batch of feature columns (`n_features × B`) in evaluation mode (running
    /// BatchNorm statistics). The latent code of a molecule is its `μ` column.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the batch does not have `n_features` rows; [`Error::Empty`]
    /// for no columns.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, rng::{stream, Stream}};
    /// let model = mol_vae::MolVae::<f64>::new(mol_vae::ModelConfig::small(6), &mut stream(1, Stream::Init)).unwrap();
    /// let enc = model.encode(&Matrix::from_element(6, 2, 0.5)).unwrap();
    /// assert_eq!(enc.mean.shape(), (3, 2));
    /// assert_eq!(enc.mean.column(0), enc.mean.column(1));
    /// ```
    pub fn encode(&self, features: &Matrix<T>) -> Result<Encoding<T>> {
        self.check_features(features)?;
        let mut input_stats = self.input_stats.clone();
        let mut hidden_stats = self.hidden_stats.clone();
        let (encoding, _) = encoder::forward(
            &self.params,
            &self.config,
            (&mut input_stats, &mut hidden_stats),
            features,
            Mode::Eval,
            1,
        );
        Ok(encoding)
    }

    /// Decodes latent codes (`n_latent × R`) to logits and bond probabilities.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `z` does not have `n_latent` rows; [`Error::Empty`] for no
    /// columns.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, rng::{stream, Stream}};
    /// let model = mol_vae::MolVae::<f64>::new(mol_vae::ModelConfig::small(6), &mut stream(1, Stream::Init)).unwrap();
    /// let out = model.decode(&Matrix::from_element(3, 1, 0.1)).unwrap();
    /// let n = 4;
    /// // Symmetric bond logits: W[u, v, t] = W[v, u, t].
    /// assert_eq!(out.bond_logits[((0 * n + 1) * 4 + 2, 0)], out.bond_logits[((1 * n + 0) * 4 + 2, 0)]);
    /// ```
    /// [`Error::ShapeMismatch`] also for a conditional model (use
    /// [`MolVae::decode_conditional`]).
    pub fn decode(&self, z: &Matrix<T>) -> Result<Decoded<T>> {
        self.decode_with("MolVae::decode", z, None)
    }

    /// Decodes latent codes `z` (`n_latent × R`) under conditions `c` (`n_conditions × R`, one
    /// column per code): both decoder heads read `[z ‖ c]` [C §3.4].
    ///
    /// ```text
    /// H = adjacency net([z ‖ c]),   F = LReLU(W_a [vec(P) ‖ z ‖ c] + b_a)   [C §3.4]
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `z` does not have `n_latent` rows, or `c` does not have
    /// `n_conditions` rows and as many columns as `z` (an unconditional model takes no
    /// conditions: use [`MolVae::decode`]); [`Error::Empty`] for no columns.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, rng::{stream, Stream}};
    /// use mol_vae::{ModelConfig, MolVae};
    /// let config = ModelConfig { n_conditions: 2, ..ModelConfig::small(6) };
    /// let model = MolVae::<f64>::new(config, &mut stream(1, Stream::Init)).unwrap();
    /// let z = Matrix::from_element(3, 2, 0.1);
    /// let c = Matrix::from_column_slice(2, 2, &[-1.0, 0.5, 1.0, 0.5]);
    /// let out = model.decode_conditional(&z, &c).unwrap();
    /// // Same z, different conditions: different logits.
    /// assert_ne!(out.atom_logits.column(0), out.atom_logits.column(1));
    /// // Conditions of the wrong length are an error, not a panic.
    /// assert!(model.decode_conditional(&z, &Matrix::zeros(3, 2)).is_err());
    /// assert!(model.decode(&z).is_err());
    /// ```
    pub fn decode_conditional(&self, z: &Matrix<T>, conditions: &Matrix<T>) -> Result<Decoded<T>> {
        self.decode_with("MolVae::decode_conditional", z, Some(conditions))
    }

    fn decode_with(
        &self,
        op: &'static str,
        z: &Matrix<T>,
        conditions: Option<&Matrix<T>>,
    ) -> Result<Decoded<T>> {
        if z.nrows() != self.config.n_latent {
            return Err(Error::ShapeMismatch {
                op,
                expected: (self.config.n_latent, z.ncols()),
                got: z.shape(),
            });
        }
        if z.ncols() == 0 {
            return Err(Error::Empty {
                what: "latent batch",
            });
        }
        self.check_conditions(op, conditions, z.ncols())?;
        let input = decoder::stack_input(z, conditions);
        let cache = decoder::forward(&self.params, &self.config, &input);
        Ok(Decoded {
            atom_logits: cache.atom_logits,
            bond_logits: cache.bond_logits,
            bond_probs: cache.bond_probs,
        })
    }

    /// Checks that `conditions` is `n_conditions × cols` (and absent for an unconditional model).
    pub(crate) fn check_conditions(
        &self,
        op: &'static str,
        conditions: Option<&Matrix<T>>,
        cols: usize,
    ) -> Result<()> {
        let want = self.config.n_conditions;
        let got = conditions.map_or((0, 0), |c| c.shape());
        match conditions {
            None if want == 0 => Ok(()),
            Some(c) if want > 0 && c.shape() == (want, cols) => Ok(()),
            _ => Err(Error::ShapeMismatch {
                op,
                expected: (want, if want == 0 { 0 } else { cols }),
                got,
            }),
        }
    }

    pub(crate) fn check_features(&self, features: &Matrix<T>) -> Result<()> {
        if features.nrows() != self.config.n_features {
            return Err(Error::ShapeMismatch {
                op: "MolVae::encode",
                expected: (self.config.n_features, features.ncols()),
                got: features.shape(),
            });
        }
        if features.ncols() == 0 {
            return Err(Error::Empty {
                what: "feature batch",
            });
        }
        Ok(())
    }
}

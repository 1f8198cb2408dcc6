//! The bias-free softplus multilayer perceptron of paper B and its forward pass.

use serde::{Deserialize, Serialize};

use linalg::{Float, Matrix, Rng, activation, init::xavier_uniform, matvec};

use crate::{Error, Result, State};

/// Architecture and initialisation of an [`Mlp`].
///
/// The default is paper B's network: 784-170-130-100-70-47, softplus with β = 10, Xavier-uniform
/// weights with gain 1 [B §Methods, "Model"].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Layer widths `[n₀, n₁, …, n_L]`: `n₀` inputs, `n_L` output units (at least two entries,
    /// none zero). Paper B: `[784, 170, 130, 100, 70, 47]` [B §Methods].
    pub sizes: Vec<usize>,
    /// Softplus sharpness β (finite, > 0). Paper B: 10 [B §Methods, Eq. 13].
    pub beta: f64,
    /// Gain of the Xavier-uniform initialisation (finite, > 0). Paper B: 1 [B §Methods].
    pub init_gain: f64,
    /// Activation of the hidden layers. Paper B: softplus.
    #[serde(default)]
    pub hidden_activation: HiddenActivation,
}

/// Activation of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HiddenActivation {
    /// Softplus with sharpness β and PyTorch's threshold 20 [B §Methods, Eq. 13].
    #[default]
    Softplus,
    /// `y = z`, `σ′ = 1` (linear layers, for Oja's principal-subspace identity); the input mask
    /// of `e₀` is then 1 as well.
    Identity,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            sizes: vec![784, 170, 130, 100, 70, 47],
            beta: 10.0,
            init_gain: 1.0,
            hidden_activation: HiddenActivation::Softplus,
        }
    }
}

impl MlpConfig {
    /// Checks every field; the network code after [`Mlp::new`] relies on it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field: fewer than two layers, a zero-width layer,
    /// β ≤ 0 or non-finite, a gain ≤ 0 or non-finite.
    ///
    /// # Example
    /// ```
    /// use plasticity_core::MlpConfig;
    /// assert!(MlpConfig::default().validate().is_ok());
    /// assert!(MlpConfig { beta: 0.0, ..MlpConfig::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        validate_sizes(&self.sizes)?;
        validate_beta(self.beta)?;
        if !(self.init_gain.is_finite() && self.init_gain > 0.0) {
            return Err(Error::InvalidConfig {
                field: "init_gain",
                reason: format!("must be finite and > 0, got {}", self.init_gain),
            });
        }
        Ok(())
    }
}

/// A bias-free MLP: softplus(β) hidden layers, softmax output.
///
/// ```text
/// z_ℓ = W_{ℓ−1,ℓ} y_{ℓ−1},  y₀ = x                      [B §Methods, Eq. 1]
/// y_ℓ = σ(z_ℓ) = (1/β) ln(1 + exp(β z_ℓ)),  ℓ < L       [B §Methods, Eqs. 2, 13]
/// y_L = softmax(z_L)                                     [B §Methods]
/// ```
///
/// Layers are numbered as in the paper: `layer = ℓ ∈ 1..=L` names the weight matrix
/// `W_{ℓ−1,ℓ}` (`n_ℓ × n_{ℓ−1}`, [`Mlp::weight`]); activations and errors are indexed
/// `0..=L`, with 0 the input. The weights are private because their shapes are an invariant.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<T: Float = f32> {
    sizes: Vec<usize>,
    beta: T,
    hidden_activation: HiddenActivation,
    weights: Vec<Matrix<T>>,
}

impl<T: Float> Mlp<T> {
    /// A network with Xavier-uniform weights drawn from `rng`, layer by layer, column-major
    /// (pass `linalg::rng::stream(seed, Stream::Init)`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the config is malformed (see [`MlpConfig::validate`]).
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// use plasticity_core::{Mlp, MlpConfig};
    /// let net = Mlp::<f32>::new(&MlpConfig::default(), &mut stream(0, Stream::Init)).unwrap();
    /// assert_eq!(net.n_layers(), 5);
    /// assert_eq!(net.weight(1).unwrap().shape(), (170, 784));
    /// let bad = MlpConfig { sizes: vec![784, 0, 10], ..MlpConfig::default() };
    /// assert!(Mlp::<f32>::new(&bad, &mut stream(0, Stream::Init)).is_err());
    /// ```
    pub fn new(config: &MlpConfig, rng: &mut Rng) -> Result<Self> {
        config.validate()?;
        let weights = config
            .sizes
            .windows(2)
            .map(|pair| xavier_uniform::<T>(pair[1], pair[0], config.init_gain, rng))
            .collect();
        Ok(Mlp {
            sizes: config.sizes.clone(),
            beta: T::of_f64(config.beta),
            hidden_activation: config.hidden_activation,
            weights,
        })
    }

    /// A network with the given weights (`weights[ℓ−1]` is `W_{ℓ−1,ℓ}`), checked to chain.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no weights, a zero-width layer or a bad β;
    /// [`Error::ShapeMismatch`] if consecutive matrices do not chain.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f64>::zeros(3, 4), Matrix::zeros(2, 3)], 10.0).unwrap();
    /// assert_eq!(net.sizes(), &[4, 3, 2]);
    /// assert!(Mlp::from_weights(vec![Matrix::<f64>::zeros(3, 4), Matrix::zeros(2, 5)], 10.0).is_err());
    /// ```
    pub fn from_weights(weights: Vec<Matrix<T>>, beta: f64) -> Result<Self> {
        let Some(first) = weights.first() else {
            return Err(Error::InvalidConfig {
                field: "weights",
                reason: "no weight matrices".to_string(),
            });
        };
        let mut sizes = vec![first.ncols()];
        for w in &weights {
            let n_in = *sizes.last().expect("sizes starts non-empty");
            if w.ncols() != n_in {
                return Err(Error::ShapeMismatch {
                    op: "from_weights",
                    expected: (w.nrows(), n_in),
                    got: w.shape(),
                });
            }
            sizes.push(w.nrows());
        }
        validate_sizes(&sizes)?;
        validate_beta(beta)?;
        Ok(Mlp {
            sizes,
            beta: T::of_f64(beta),
            hidden_activation: HiddenActivation::Softplus,
            weights,
        })
    }

    /// Layer widths `[n₀, …, n_L]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Number of weight layers `L` (one less than the number of widths).
    pub fn n_layers(&self) -> usize {
        self.weights.len()
    }

    /// Softplus sharpness β.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// Activation of the hidden layers.
    pub fn hidden_activation(&self) -> HiddenActivation {
        self.hidden_activation
    }

    /// This network with another hidden activation (same weights).
    pub fn with_hidden_activation(mut self, activation: HiddenActivation) -> Self {
        self.hidden_activation = activation;
        self
    }

    /// `W_{ℓ−1,ℓ}` for `layer = ℓ ∈ 1..=L`.
    ///
    /// # Errors
    /// [`Error::LayerOutOfRange`] outside `1..=L`.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f32>::zeros(3, 4), Matrix::zeros(2, 3)], 10.0).unwrap();
    /// assert_eq!(net.weight(2).unwrap().shape(), (2, 3));
    /// assert!(net.weight(0).is_err());
    /// ```
    pub fn weight(&self, layer: usize) -> Result<&Matrix<T>> {
        self.check_layer(layer)?;
        Ok(&self.weights[layer - 1])
    }

    /// All weight matrices in order, `W_{0,1}` first.
    pub fn weights(&self) -> &[Matrix<T>] {
        &self.weights
    }

    /// Replaces `W_{ℓ−1,ℓ}`, keeping its shape.
    ///
    /// # Errors
    /// [`Error::LayerOutOfRange`] or [`Error::ShapeMismatch`].
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let mut net = Mlp::from_weights(vec![Matrix::<f64>::zeros(3, 4)], 10.0).unwrap();
    /// net.set_weight(1, Matrix::from_element(3, 4, 0.5)).unwrap();
    /// assert_eq!(net.weight(1).unwrap()[(2, 3)], 0.5);
    /// assert!(net.set_weight(1, Matrix::zeros(4, 3)).is_err());
    /// ```
    pub fn set_weight(&mut self, layer: usize, weight: Matrix<T>) -> Result<()> {
        self.check_layer(layer)?;
        let current = &mut self.weights[layer - 1];
        if current.shape() != weight.shape() {
            return Err(Error::ShapeMismatch {
                op: "set_weight",
                expected: current.shape(),
                got: weight.shape(),
            });
        }
        *current = weight;
        Ok(())
    }

    /// Mutable access to the entries of `W_{ℓ−1,ℓ}` (column-major), for in-place updates that
    /// keep the shape (mini-batch SGD, perturbation tests).
    ///
    /// # Errors
    /// [`Error::LayerOutOfRange`] outside `1..=L`.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let mut net = Mlp::from_weights(vec![Matrix::<f32>::zeros(2, 2)], 10.0).unwrap();
    /// net.weight_entries_mut(1).unwrap()[1] = 3.0; // column-major: entry (1, 0)
    /// assert_eq!(net.weight(1).unwrap()[(1, 0)], 3.0);
    /// ```
    pub fn weight_entries_mut(&mut self, layer: usize) -> Result<&mut [T]> {
        self.check_layer(layer)?;
        Ok(self.weights[layer - 1].as_mut_slice())
    }

    /// Preallocated buffers for one sample through this network.
    pub fn new_state(&self) -> State<T> {
        State::new(&self.sizes, self.beta, self.hidden_activation)
    }

    /// Forward pass of one input into `state`: fills `z_ℓ`, `y_ℓ` and `σ′(z_ℓ)` for every layer
    /// and clears the error vectors of the previous sample. Allocates nothing.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `input` is not `n₀` long or `state` belongs to another
    /// architecture.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f64>::zeros(3, 2)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[1.0, 2.0]).unwrap();
    /// let p = state.output();
    /// assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    /// ```
    pub fn forward(&self, state: &mut State<T>, input: &[T]) -> Result<()> {
        state.check_sizes(&self.sizes)?;
        state.hidden_activation = self.hidden_activation;
        if input.len() != self.sizes[0] {
            return Err(Error::ShapeMismatch {
                op: "forward: input",
                expected: (self.sizes[0], 1),
                got: (input.len(), 1),
            });
        }
        state.begin_sample();
        state.y[0].as_mut_slice().copy_from_slice(input);
        let n_layers = self.n_layers();
        for (idx, w) in self.weights.iter().enumerate() {
            let layer = idx + 1;
            let (before, after) = state.y.split_at_mut(layer);
            let y_prev = &before[layer - 1];
            let y = &mut after[0];
            let z = &mut state.z[layer];
            matvec::gemv_blocked(z, w, y_prev);
            if layer < n_layers {
                match self.hidden_activation {
                    HiddenActivation::Softplus => activation::softplus_with_derivative(
                        y.as_mut_slice(),
                        state.dsigma[layer].as_mut_slice(),
                        z.as_slice(),
                        self.beta,
                    ),
                    HiddenActivation::Identity => {
                        y.copy_from(z);
                        state.dsigma[layer].fill(T::one());
                    }
                }
            } else {
                activation::softmax(y.as_mut_slice(), z.as_slice());
            }
        }
        state.forward_done = true;
        Ok(())
    }

    /// Forward pass and the index of the largest output (the predicted class).
    ///
    /// # Errors
    /// As [`Mlp::forward`]; [`Error::InvalidConfig`] (field `"output"`) if the output holds NaN.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f32>::identity(2, 2)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// assert_eq!(net.predict(&mut state, &[0.2, 0.9]).unwrap(), 1);
    /// ```
    pub fn predict(&self, state: &mut State<T>, input: &[T]) -> Result<usize> {
        self.forward(state, input)?;
        activation::argmax(state.output()).ok_or_else(|| Error::InvalidConfig {
            field: "output",
            reason: "the network's output is NaN".to_string(),
        })
    }

    fn check_layer(&self, layer: usize) -> Result<()> {
        if layer == 0 || layer > self.n_layers() {
            return Err(Error::LayerOutOfRange {
                layer,
                max: self.n_layers(),
            });
        }
        Ok(())
    }

    pub(crate) fn weights_mut(&mut self) -> &mut [Matrix<T>] {
        &mut self.weights
    }
}

fn validate_sizes(sizes: &[usize]) -> Result<()> {
    if sizes.len() < 2 {
        return Err(Error::InvalidConfig {
            field: "sizes",
            reason: format!(
                "need at least an input and an output layer, got {} layer(s)",
                sizes.len()
            ),
        });
    }
    if let Some(idx) = sizes.iter().position(|&n| n == 0) {
        return Err(Error::InvalidConfig {
            field: "sizes",
            reason: format!("layer {idx} has width 0"),
        });
    }
    Ok(())
}

fn validate_beta(beta: f64) -> Result<()> {
    if !(beta.is_finite() && beta > 0.0) {
        return Err(Error::InvalidConfig {
            field: "beta",
            reason: format!("must be finite and > 0, got {beta}"),
        });
    }
    Ok(())
}

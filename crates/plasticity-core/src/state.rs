//! Per-sample state of a network (z, y, σ′, e for every layer) in preallocated buffers.

use linalg::{Float, Matrix, Vector, matvec};

use crate::{Error, HiddenActivation, Result};

/// The buffers one sample needs: pre-activations `z_ℓ`, activations `y_ℓ`, derivatives
/// `σ′(z_ℓ)`, errors `e_ℓ`, and scratch for the fused plasticity update.
///
/// Built once by [`crate::Mlp::new_state`]; a training step writes into it and allocates
/// nothing. Indices run over `0..=L` (0 = input). `y_L` is the softmax output.
///
/// The state tracks which error vectors were computed since the last forward pass, so a rule
/// that needs an error nobody computed (for example the synthetic input-layer error `e₀`) is
/// an error rather than a silent use of the previous sample's values.
#[derive(Debug, Clone)]
pub struct State<T: Float = f32> {
    sizes: Vec<usize>,
    beta: T,
    pub(crate) hidden_activation: HiddenActivation,
    pub(crate) z: Vec<Vector<T>>,
    pub(crate) y: Vec<Vector<T>>,
    pub(crate) dsigma: Vec<Vector<T>>,
    pub(crate) e: Vec<Vector<T>>,
    pub(crate) error_ready: Vec<bool>,
    pub(crate) input_mask_ready: bool,
    pub(crate) forward_done: bool,
    /// Per weight layer (index ℓ−1): right vector of the `e_ℓ` part, length `n_{ℓ−1}`.
    pub(crate) right_error: Vec<Vector<T>>,
    /// Per weight layer: right vector of the `y_ℓ` part, length `n_{ℓ−1}`.
    pub(crate) right_activation: Vec<Vector<T>>,
    /// Per weight layer: `Wᵀ y_ℓ` when it must be computed before the update, length `n_{ℓ−1}`.
    pub(crate) projection: Vec<Vector<T>>,
}

impl<T: Float> State<T> {
    pub(crate) fn new(sizes: &[usize], beta: T, hidden_activation: HiddenActivation) -> Self {
        let per_layer = |f: &dyn Fn(usize) -> usize| -> Vec<Vector<T>> {
            (0..sizes.len()).map(|idx| Vector::zeros(f(idx))).collect()
        };
        let n_layers = sizes.len() - 1;
        let pre = |f: &dyn Fn(usize) -> usize| -> Vec<Vector<T>> {
            (1..=n_layers)
                .map(|layer| Vector::zeros(f(layer)))
                .collect()
        };
        State {
            sizes: sizes.to_vec(),
            beta,
            hidden_activation,
            z: per_layer(&|idx| if idx == 0 { 0 } else { sizes[idx] }),
            y: per_layer(&|idx| sizes[idx]),
            dsigma: per_layer(&|idx| if idx == n_layers { 0 } else { sizes[idx] }),
            e: per_layer(&|idx| sizes[idx]),
            error_ready: vec![false; sizes.len()],
            input_mask_ready: false,
            forward_done: false,
            right_error: pre(&|layer| sizes[layer - 1]),
            right_activation: pre(&|layer| sizes[layer - 1]),
            projection: pre(&|layer| sizes[layer - 1]),
        }
    }

    /// Layer widths `[n₀, …, n_L]` this state was built for.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Number of weight layers `L`.
    pub fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The softmax output `y_L` of the last forward pass.
    pub fn output(&self) -> &[T] {
        self.y[self.n_layers()].as_slice()
    }

    /// Activation `y_ℓ` (`y₀` is the input, `y_L` the softmax output).
    ///
    /// # Panics
    /// If `layer > L`.
    pub fn activation(&self, layer: usize) -> &Vector<T> {
        &self.y[layer]
    }

    /// Pre-activation `z_ℓ` for `ℓ ∈ 1..=L` (`z_L` are the logits; `z₀` is empty).
    ///
    /// # Panics
    /// If `layer > L`.
    pub fn pre_activation(&self, layer: usize) -> &Vector<T> {
        &self.z[layer]
    }

    /// Error `e_ℓ` if it was computed since the last forward pass.
    ///
    /// # Panics
    /// If `layer > L`.
    pub fn error(&self, layer: usize) -> Option<&Vector<T>> {
        self.error_ready[layer].then(|| &self.e[layer])
    }

    /// Cross-entropy `−ln softmax(z_L)[label]` of the last forward pass, from the logits
    /// (stable for any logit size).
    ///
    /// # Errors
    /// [`Error::NoForwardPass`] or [`Error::LabelOutOfRange`].
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f64>::zeros(4, 2)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[1.0, 2.0]).unwrap();
    /// assert!((state.cross_entropy(1).unwrap() - 4f64.ln()).abs() < 1e-12);
    /// ```
    pub fn cross_entropy(&self, label: usize) -> Result<T> {
        self.check_label(label)?;
        let logits = self.z[self.n_layers()].as_slice();
        let max = logits
            .iter()
            .copied()
            .fold(logits[0], |m, v| if v > m { v } else { m });
        let sum = logits
            .iter()
            .fold(T::zero(), |acc, &v| acc + (v - max).exp());
        Ok(max + sum.ln() - logits[label])
    }

    /// Output error of cross-entropy with softmax:
    ///
    /// ```text
    /// e_L = softmax(z_L) − onehot(label)                     [B §Methods, Eq. 3]
    /// ```
    ///
    /// # Errors
    /// [`Error::NoForwardPass`] or [`Error::LabelOutOfRange`].
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f64>::zeros(2, 3)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[1.0, 2.0, 3.0]).unwrap();
    /// state.set_output_error(1).unwrap();
    /// assert_eq!(state.error(1).unwrap().as_slice(), &[0.5, -0.5]);
    /// ```
    pub fn set_output_error(&mut self, label: usize) -> Result<()> {
        self.check_label(label)?;
        let n_layers = self.n_layers();
        let (e, y) = (&mut self.e[n_layers], &self.y[n_layers]);
        e.copy_from(y);
        e[label] -= T::one();
        self.error_ready[n_layers] = true;
        Ok(())
    }

    /// Sets `e_ℓ` directly (a custom teaching signal).
    ///
    /// # Errors
    /// [`Error::NoForwardPass`], [`Error::LayerOutOfRange`] or [`Error::ShapeMismatch`].
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f64>::zeros(2, 3)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[1.0, 2.0, 3.0]).unwrap();
    /// state.set_error(0, &[0.1, 0.2, 0.3]).unwrap();
    /// assert!(state.set_error(0, &[0.1]).is_err());
    /// ```
    pub fn set_error(&mut self, layer: usize, values: &[T]) -> Result<()> {
        if !self.forward_done {
            return Err(Error::NoForwardPass);
        }
        if layer > self.n_layers() {
            return Err(Error::LayerOutOfRange {
                layer,
                max: self.n_layers(),
            });
        }
        if values.len() != self.sizes[layer] {
            return Err(Error::ShapeMismatch {
                op: "set_error",
                expected: (self.sizes[layer], 1),
                got: (values.len(), 1),
            });
        }
        self.e[layer].as_mut_slice().copy_from_slice(values);
        self.error_ready[layer] = true;
        Ok(())
    }

    /// Projects an error down through a feedback matrix stored in the shape of `W_{t,s}`
    /// (`n_source × n_target`), i.e. the paper's `B_{s,t} = feedbackᵀ`:
    ///
    /// ```text
    /// e_t = (feedbackᵀ e_s) ⊙ σ′(z_t),  σ′ = 1 − exp(−β y_t)       [B §Methods, Eq. 3]
    /// e₀  = (feedbackᵀ e₁) ⊙ (1 − exp(−β x))   (t = 0)               [B §Methods, Eq. 24]
    /// ```
    ///
    /// Backprop passes `feedback = W_{t,s}` itself; feedback alignment a fixed random matrix;
    /// direct feedback alignment uses `source = L` for every target.
    ///
    /// # Errors
    /// [`Error::LayerOutOfRange`] unless `target < source ≤ L` and `target < L`;
    /// [`Error::MissingError`] if `e_source` was not computed; [`Error::ShapeMismatch`] if
    /// `feedback` is not `n_source × n_target`.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// use plasticity_core::Mlp;
    /// let net = Mlp::from_weights(vec![Matrix::<f64>::from_element(3, 2, 0.1), Matrix::from_element(2, 3, 0.2)], 10.0).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[1.0, 0.0]).unwrap();
    /// state.set_output_error(0).unwrap();
    /// state.project_error(1, 2, net.weight(2).unwrap()).unwrap();
    /// state.project_error(0, 1, net.weight(1).unwrap()).unwrap();
    /// assert_eq!(state.error(0).unwrap()[1], 0.0); // background pixel: e₀ = 0
    /// assert!(state.project_error(1, 2, &Matrix::zeros(3, 2)).is_err());
    /// ```
    pub fn project_error(
        &mut self,
        target: usize,
        source: usize,
        feedback: &Matrix<T>,
    ) -> Result<()> {
        if !self.forward_done {
            return Err(Error::NoForwardPass);
        }
        let n_layers = self.n_layers();
        if source > n_layers {
            return Err(Error::LayerOutOfRange {
                layer: source,
                max: n_layers,
            });
        }
        if target >= source {
            return Err(Error::LayerOutOfRange {
                layer: target,
                max: source.saturating_sub(1),
            });
        }
        if !self.error_ready[source] {
            return Err(Error::MissingError {
                error_layer: source,
                layer: source,
                term: 0,
            });
        }
        let expected = (self.sizes[source], self.sizes[target]);
        if feedback.shape() != expected {
            return Err(Error::ShapeMismatch {
                op: "project_error: feedback",
                expected,
                got: feedback.shape(),
            });
        }
        if target == 0 && !self.input_mask_ready {
            let beta = self.beta;
            let (mask, x) = (&mut self.dsigma[0], &self.y[0]);
            match self.hidden_activation {
                HiddenActivation::Softplus => {
                    for (mi, &xi) in mask.as_mut_slice().iter_mut().zip(x.as_slice()) {
                        *mi = T::one() - (-beta * xi).exp();
                    }
                }
                HiddenActivation::Identity => mask.fill(T::one()),
            }
            self.input_mask_ready = true;
        }
        let (low, high) = self.e.split_at_mut(source);
        let e_target = &mut low[target];
        matvec::gemv_t_blocked(e_target, feedback, &high[0]);
        for (ei, &di) in e_target
            .as_mut_slice()
            .iter_mut()
            .zip(self.dsigma[target].as_slice())
        {
            *ei *= di;
        }
        self.error_ready[target] = true;
        Ok(())
    }

    pub(crate) fn check_sizes(&self, sizes: &[usize]) -> Result<()> {
        if self.sizes != sizes {
            return Err(Error::ShapeMismatch {
                op: "state: architecture",
                expected: (sizes.len(), sizes.iter().sum()),
                got: (self.sizes.len(), self.sizes.iter().sum()),
            });
        }
        Ok(())
    }

    pub(crate) fn begin_sample(&mut self) {
        self.error_ready.iter_mut().for_each(|ready| *ready = false);
        self.input_mask_ready = false;
        self.forward_done = false;
    }

    fn check_label(&self, label: usize) -> Result<()> {
        if !self.forward_done {
            return Err(Error::NoForwardPass);
        }
        let n_classes = self.sizes[self.n_layers()];
        if label >= n_classes {
            return Err(Error::LabelOutOfRange { label, n_classes });
        }
        Ok(())
    }
}

//! Adam over all parameters (PyTorch's `torch.optim.Adam`, default β, no weight decay).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use linalg::{
    Float,
    adam::{AdamStep, adam_update},
};

use crate::{Error, Parameters, Result, encoder::DeferredHidden};

/// Adam's hyper-parameters; [`Default`] is the code's `Adam(lr = 1e-3)` with PyTorch's
/// defaults [C §3.3].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate, 1e-3 [C §3.3].
    pub lr: f64,
    /// β₁ = 0.9 (PyTorch default).
    pub beta1: f64,
    /// β₂ = 0.999 (PyTorch default).
    pub beta2: f64,
    /// ε = 1e-8 (PyTorch default).
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl AdamConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-positive or non-finite rate or ε, or β outside [0, 1).
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, value: f64| Error::InvalidConfig {
            name,
            reason: format!("{value} is out of range"),
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(bad("lr", self.lr));
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(bad("beta1", self.beta1));
        }
        if !(0.0..1.0).contains(&self.beta2) {
            return Err(bad("beta2", self.beta2));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(bad("eps", self.eps));
        }
        Ok(())
    }
}

/// Adam's state: first and second moments with the parameters' shapes, and the step count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Adam<T: Float> {
    /// First moments `m`.
    pub m: Parameters<T>,
    /// Second moments `v`.
    pub v: Parameters<T>,
    /// Number of updates taken, `t`.
    pub t: u64,
}

/// Elements per parallel chunk of the update (elementwise, so any split gives the same bits).
const CHUNK: usize = 1 << 16;

impl<T: Float> Adam<T> {
    /// Zero moments for parameters shaped like `params`.
    pub fn new(params: &Parameters<T>) -> Adam<T> {
        Adam {
            m: params.zeros_like(),
            v: params.zeros_like(),
            t: 0,
        }
    }

    /// One update in PyTorch's order of operations:
    ///
    /// ```text
    /// m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   t ← t + 1
    /// θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)          [Kingma & Ba 2015, Alg. 1]
    /// ```
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// use mol_vae::{Adam, AdamConfig, ModelConfig, Parameters};
    /// let mut params = Parameters::<f64>::glorot(&ModelConfig::small(2), &mut stream(0, Stream::Init)).unwrap();
    /// let before = params.to_flat();
    /// let mut grad = params.zeros_like();
    /// for t in grad.tensors_mut() { t.fill(-3.0); }
    /// let mut adam = Adam::new(&params);
    /// adam.step(&mut params, &grad, &AdamConfig::default());
    /// // The first step moves every coordinate by lr, whatever the gradient's size.
    /// assert!(params.to_flat().iter().zip(&before).all(|(a, b)| (a - b - 1e-3).abs() < 1e-9));
    /// ```
    pub fn step(&mut self, params: &mut Parameters<T>, grad: &Parameters<T>, config: &AdamConfig) {
        self.t += 1;
        let step = AdamStep::new(config.lr, config.beta1, config.beta2, config.eps, self.t);
        self.update_tensors(params, grad, &step, None);
    }

    /// [`Adam::step`] for a training step whose encoder backward pass was deferred: the hidden
    /// weight is updated in one pass with its gradient ([`DeferredHidden::finish`]), which
    /// also completes `grad.input_norm`; then every other tensor is updated from `grad`. The
    /// result equals [`Adam::step`] on the full gradient up to the last bits of the sums
    /// (tested in `train.rs`).
    pub(crate) fn step_deferred(
        &mut self,
        params: &mut Parameters<T>,
        grad: &mut Parameters<T>,
        deferred: DeferredHidden<T>,
        config: &AdamConfig,
    ) {
        self.t += 1;
        let step = AdamStep::new(config.lr, config.beta1, config.beta2, config.eps, self.t);
        deferred.finish(
            params,
            (&mut self.m.hidden.weight, &mut self.v.hidden.weight),
            grad,
            &step,
        );
        let skip = params.hidden.weight.as_ptr();
        self.update_tensors(params, grad, &step, Some(skip));
    }

    /// The elementwise update of every tensor but the one starting at `skip`.
    fn update_tensors(
        &mut self,
        params: &mut Parameters<T>,
        grad: &Parameters<T>,
        step: &AdamStep<T>,
        skip: Option<*const T>,
    ) {
        let grads = grad.tensors();
        for (((p, g), m), v) in params
            .tensors_mut()
            .into_iter()
            .zip(grads)
            .zip(self.m.tensors_mut())
            .zip(self.v.tensors_mut())
        {
            if skip == Some(p.as_ptr()) {
                continue;
            }
            p.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK))
                .zip(v.par_chunks_mut(CHUNK))
                .for_each(|(((p, g), m), v)| adam_update(p, g, m, v, step));
        }
    }
}

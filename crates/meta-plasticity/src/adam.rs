//! Adam with an L1 penalty on Θ, the meta-optimiser of paper B.

use serde::{Deserialize, Serialize};

use plasticity_core::N_TERMS;

use crate::MetaOptimizerConfig;

/// Adam's moments over the ten θ_r, in `f64` (PyTorch's `torch.optim.Adam` without weight
/// decay or AMSGrad) [Kingma & Ba 2015, Alg. 1; B §Methods].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// First moments `m_r`.
    pub m: [f64; N_TERMS],
    /// Second moments `v_r`.
    pub v: [f64; N_TERMS],
    /// Number of updates taken, `t`.
    pub t: u64,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            m: [0.0; N_TERMS],
            v: [0.0; N_TERMS],
            t: 0,
        }
    }
}

impl Adam {
    /// One update of the plastic coefficients (`plastic[r]`) with the gradient of
    /// `L + λ Σ_r |θ_r|`; the L1 subgradient at θ_r = 0 is 0 (PyTorch's `sign(0) = 0`).
    ///
    /// `gradient` is `∂L/∂θ` (without the penalty). With
    /// [`term_scales`](MetaOptimizerConfig::term_scales) `s` the step is Adam on `φ_r = s_r θ_r`
    /// with the penalty `λ Σ_r |φ_r|`, written as a per-term learning rate (no round trip
    /// through φ); without, `s_r = 1` and the lines below are paper B's Adam.
    ///
    /// ```text
    /// g_r = (∂L/∂θ_r) / s_r + λ sign(θ_r)                                  [B §Methods, Alg. 1]
    /// m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   t ← t + 1         [Kingma & Ba 2015, Alg. 1]
    /// θ_r ← θ_r − (lr_t / s_r) · (m_r / (1 − β₁ᵗ)) / (√(v_r / (1 − β₂ᵗ)) + ε)  [Kingma & Ba 2015, Alg. 1]
    /// ```
    ///
    /// `lr_t` is [`MetaOptimizerConfig::lr_at`]`(t)`: `lr` under the default constant schedule.
    ///
    /// Returns the penalised gradient `g` (in φ, i.e. with respect to `s_r θ_r`).
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::{Adam, MetaOptimizerConfig};
    /// let mut adam = Adam::default();
    /// let mut theta = [0.0; 10];
    /// theta[0] = 1e-3;
    /// let mut grad = [0.0; 10];
    /// grad[0] = -5.0;
    /// let mut plastic = [false; 10];
    /// plastic[0] = true;
    /// adam.step(&mut theta, &grad, &plastic, &MetaOptimizerConfig::default());
    /// // The first Adam step moves by lr regardless of the gradient's size.
    /// assert!((theta[0] - 2e-3).abs() < 1e-9);
    /// ```
    pub fn step(
        &mut self,
        theta: &mut [f64; N_TERMS],
        gradient: &[f64; N_TERMS],
        plastic: &[bool; N_TERMS],
        config: &MetaOptimizerConfig,
    ) -> [f64; N_TERMS] {
        self.t += 1;
        let t = i32::try_from(self.t).unwrap_or(i32::MAX);
        let bias1 = 1.0 - config.beta1.powi(t);
        let bias2 = 1.0 - config.beta2.powi(t);
        let scales = config.scales();
        // `lr_at` is `lr · 1.0` under the constant schedule: bit-identical to paper B's Adam.
        let lr = config.lr_at(self.t);
        let mut penalised = [0.0; N_TERMS];
        for r in (0..N_TERMS).filter(|&r| plastic[r]) {
            let sign = if theta[r] > 0.0 {
                1.0
            } else if theta[r] < 0.0 {
                -1.0
            } else {
                0.0
            };
            // With s_r = 1 (no term scales) the divisions are exact: bit-identical to Adam on θ.
            let g = gradient[r] / scales[r] + config.l1 * sign;
            penalised[r] = g;
            self.m[r] = config.beta1 * self.m[r] + (1.0 - config.beta1) * g;
            self.v[r] = config.beta2 * self.v[r] + (1.0 - config.beta2) * g * g;
            // PyTorch's order of operations: lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).
            let denom = self.v[r].sqrt() / bias2.sqrt() + config.eps;
            theta[r] -= lr / scales[r] / bias1 * self.m[r] / denom;
        }
        penalised
    }
}

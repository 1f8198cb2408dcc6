//! Teaching signals: how the output error reaches the hidden layers (BP, FA, DFA, sign-symmetry).

use serde::{Deserialize, Serialize};

use linalg::{Float, Matrix, Rng, init::xavier_uniform};
use plasticity_core::{Mlp, State};

use crate::{Error, Result};

/// Which pathway carries errors backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FeedbackKind {
    /// Backprop: `B_{ℓ,ℓ−1} = W_{ℓ−1,ℓ}ᵀ` (the current forward weights) [B §Methods, Eq. 3].
    Backprop,
    /// Feedback alignment: fixed random `B`, Xavier-uniform, independent of `W` [B §Methods].
    Fixed,
    /// Direct feedback alignment: `e_L` projected to every layer by its own fixed random matrix
    /// (Nøkland 2016; paper B Supp. S1).
    Direct,
    /// Sign-symmetry: `B = sign(Wᵀ)` scaled per layer so that `‖B‖_F = ‖W‖_F`, i.e. every entry
    /// has magnitude `rms(W) = ‖W‖_F / √(n_ℓ n_{ℓ−1})`; recomputed from the current `W` every step.
    SignSymmetry,
}

/// A teaching signal with its matrices.
///
/// Matrices are stored in the shape of the forward weights they stand in for: the feedback of
/// weight layer ℓ is `n_ℓ × n_{ℓ−1}` like `W_{ℓ−1,ℓ}`, and the paper's `B_{ℓ,ℓ−1}` is its
/// transpose. For [`FeedbackKind::Direct`], `matrices()[t]` projects `e_L` to layer `t ∈ 0..L`
/// and is `n_L × n_t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback<T: Float = f32> {
    kind: FeedbackKind,
    sizes: Vec<usize>,
    matrices: Vec<Matrix<T>>,
}

impl<T: Float> Feedback<T> {
    /// A teaching signal for a network with widths `sizes`, drawing random matrices from `rng`
    /// (pass `linalg::rng::stream(seed, Stream::Feedback)`, so `B` is independent of `W`).
    ///
    /// Fixed: one Xavier-uniform matrix per weight layer, in layer order (the first one only
    /// serves the synthetic input error `e₀`). Direct: one per target layer `0..L`. Backprop
    /// and sign-symmetry draw nothing.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for fewer than two widths, a zero width or a bad gain.
    ///
    /// # Example
    /// ```
    /// use feedback_alignment::{Feedback, FeedbackKind};
    /// use linalg::rng::{stream, Stream};
    /// let fb = Feedback::<f32>::new(FeedbackKind::Fixed, &[784, 170, 10], 1.0, &mut stream(0, Stream::Feedback)).unwrap();
    /// assert_eq!(fb.matrices()[1].shape(), (10, 170));
    /// ```
    pub fn new(kind: FeedbackKind, sizes: &[usize], gain: f64, rng: &mut Rng) -> Result<Self> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(Error::InvalidConfig {
                field: "sizes",
                reason: format!("need at least two non-zero widths, got {sizes:?}"),
            });
        }
        if !(gain.is_finite() && gain > 0.0) {
            return Err(Error::InvalidConfig {
                field: "gain",
                reason: format!("must be finite and > 0, got {gain}"),
            });
        }
        let n_layers = sizes.len() - 1;
        let matrices = match kind {
            FeedbackKind::Backprop => Vec::new(),
            FeedbackKind::Fixed => sizes
                .windows(2)
                .map(|pair| xavier_uniform::<T>(pair[1], pair[0], gain, rng))
                .collect(),
            FeedbackKind::Direct => sizes[..n_layers]
                .iter()
                .map(|&n_target| xavier_uniform::<T>(sizes[n_layers], n_target, gain, rng))
                .collect(),
            FeedbackKind::SignSymmetry => sizes
                .windows(2)
                .map(|pair| Matrix::zeros(pair[1], pair[0]))
                .collect(),
        };
        Ok(Feedback {
            kind,
            sizes: sizes.to_vec(),
            matrices,
        })
    }

    /// Backprop (`B = Wᵀ`), which holds no matrices of its own.
    ///
    /// # Example
    /// ```
    /// let bp = feedback_alignment::Feedback::<f64>::backprop(&[4, 3, 2]);
    /// assert!(bp.matrices().is_empty());
    /// ```
    pub fn backprop(sizes: &[usize]) -> Self {
        Feedback {
            kind: FeedbackKind::Backprop,
            sizes: sizes.to_vec(),
            matrices: Vec::new(),
        }
    }

    /// Fixed (`kind = Fixed`) or direct (`kind = Direct`) feedback with given matrices, checked
    /// against the widths. With `Fixed` and `matrices[ℓ−1] = W_{ℓ−1,ℓ}` this is backprop.
    ///
    /// # Errors
    /// [`Error::FeedbackShape`] naming the first matrix of the wrong shape;
    /// [`Error::InvalidConfig`] for a wrong count or a kind that takes no matrices.
    ///
    /// # Example
    /// ```
    /// use feedback_alignment::{Error, Feedback, FeedbackKind};
    /// use linalg::Matrix;
    /// let bad = Feedback::<f64>::from_matrices(FeedbackKind::Fixed, &[4, 3, 2], vec![Matrix::zeros(3, 5), Matrix::zeros(2, 3)]);
    /// assert!(matches!(bad, Err(Error::FeedbackShape { layer: 0, .. })));
    /// ```
    pub fn from_matrices(
        kind: FeedbackKind,
        sizes: &[usize],
        matrices: Vec<Matrix<T>>,
    ) -> Result<Self> {
        if sizes.len() < 2 {
            return Err(Error::InvalidConfig {
                field: "sizes",
                reason: "need at least two widths".to_string(),
            });
        }
        let n_layers = sizes.len() - 1;
        if !matches!(kind, FeedbackKind::Fixed | FeedbackKind::Direct) {
            return Err(Error::InvalidConfig {
                field: "kind",
                reason: format!("{kind:?} feedback is derived from W and takes no matrices"),
            });
        }
        if matrices.len() != n_layers {
            return Err(Error::InvalidConfig {
                field: "matrices",
                reason: format!(
                    "expected {n_layers} feedback matrices, got {}",
                    matrices.len()
                ),
            });
        }
        for (idx, m) in matrices.iter().enumerate() {
            // Fixed matrix idx feeds e_{idx} from e_{idx+1}; direct matrix idx feeds e_{idx} from e_L.
            let source = if kind == FeedbackKind::Fixed {
                idx + 1
            } else {
                n_layers
            };
            let expected = (sizes[source], sizes[idx]);
            if m.shape() != expected {
                return Err(Error::FeedbackShape {
                    layer: idx,
                    expected,
                    got: m.shape(),
                });
            }
        }
        Ok(Feedback {
            kind,
            sizes: sizes.to_vec(),
            matrices,
        })
    }

    /// The pathway.
    pub fn kind(&self) -> FeedbackKind {
        self.kind
    }

    /// The stored matrices (see the type's docs for their layout).
    pub fn matrices(&self) -> &[Matrix<T>] {
        &self.matrices
    }

    /// Fills the state's errors for one sample after a forward pass: `e_L` from the label, then
    /// `e_{L−1} … e₁` through this pathway, and the synthetic `e₀` (Eq. 24) when `input_error`.
    ///
    /// ```text
    /// e_L = softmax(z_L) − onehot(label)                          [B §Methods, Eq. 3]
    /// e_ℓ = B_{ℓ+1,ℓ} e_{ℓ+1} ⊙ σ′(z_ℓ)       (BP, FA, sign)      [B §Methods, Eq. 3]
    /// e_ℓ = D_ℓ e_L ⊙ σ′(z_ℓ)                  (DFA)
    /// e₀  = B_{1,0} e₁ ⊙ (1 − exp(−β x))                          [B §Methods, Eq. 24]
    /// ```
    ///
    /// All errors use the pre-update weights (call this before [`Mlp::apply_rules`]).
    ///
    /// # Errors
    /// [`Error::FeedbackShape`] if the net's widths differ from this feedback's; core errors
    /// for a missing forward pass or a bad label.
    ///
    /// # Example
    /// ```
    /// use feedback_alignment::{Feedback, FeedbackKind};
    /// use linalg::rng::{stream, Stream};
    /// use plasticity_core::{Mlp, MlpConfig};
    /// let config = MlpConfig { sizes: vec![4, 3, 2], ..MlpConfig::default() };
    /// let net = Mlp::<f64>::new(&config, &mut stream(0, Stream::Init)).unwrap();
    /// let mut fa = Feedback::new(FeedbackKind::Fixed, net.sizes(), 1.0, &mut stream(0, Stream::Feedback)).unwrap();
    /// let mut state = net.new_state();
    /// net.forward(&mut state, &[0.1, 0.2, 0.3, 0.4]).unwrap();
    /// fa.teach(&net, &mut state, 1, true).unwrap();
    /// assert!(state.error(0).is_some() && state.error(1).is_some());
    /// ```
    pub fn teach(
        &mut self,
        net: &Mlp<T>,
        state: &mut State<T>,
        label: usize,
        input_error: bool,
    ) -> Result<()> {
        if net.sizes() != self.sizes.as_slice() {
            let n = self.sizes.len().min(net.sizes().len());
            let layer = (0..n)
                .find(|&idx| self.sizes[idx] != net.sizes()[idx])
                .unwrap_or(n);
            return Err(Error::FeedbackShape {
                layer,
                expected: (self.sizes.len(), self.sizes.iter().sum()),
                got: (net.sizes().len(), net.sizes().iter().sum()),
            });
        }
        state.set_output_error(label)?;
        let n_layers = net.n_layers();
        let lowest = if input_error { 0 } else { 1 };
        match self.kind {
            FeedbackKind::Backprop => {
                for target in (lowest..n_layers).rev() {
                    state.project_error(target, target + 1, &net.weights()[target])?;
                }
            }
            FeedbackKind::Fixed => {
                for target in (lowest..n_layers).rev() {
                    state.project_error(target, target + 1, &self.matrices[target])?;
                }
            }
            FeedbackKind::SignSymmetry => {
                for target in (lowest..n_layers).rev() {
                    sign_scaled(&mut self.matrices[target], &net.weights()[target]);
                    state.project_error(target, target + 1, &self.matrices[target])?;
                }
            }
            FeedbackKind::Direct => {
                for target in (lowest..n_layers).rev() {
                    state.project_error(target, n_layers, &self.matrices[target])?;
                }
            }
        }
        Ok(())
    }
}

/// `dst = sign(w) · rms(w)`, so that `‖dst‖_F = ‖w‖_F` (zero entries stay zero).
fn sign_scaled<T: Float>(dst: &mut Matrix<T>, w: &Matrix<T>) {
    let sum_sq = w
        .as_slice()
        .iter()
        .fold(0.0f64, |acc, v| acc + v.as_f64() * v.as_f64());
    let rms = T::of_f64((sum_sq / w.len().max(1) as f64).sqrt());
    for (d, &v) in dst.as_mut_slice().iter_mut().zip(w.as_slice()) {
        *d = if v > T::zero() {
            rms
        } else if v < T::zero() {
            -rms
        } else {
            T::zero()
        };
    }
}

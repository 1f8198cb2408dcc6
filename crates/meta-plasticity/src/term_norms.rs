//! Typical sizes `‖F^r‖_F` of the ten plasticity terms along an inner loop, for per-term
//! preconditioning of the meta-optimiser ([`MetaOptimizerConfig::term_scales`]).
//!
//! [`MetaOptimizerConfig::term_scales`]: crate::MetaOptimizerConfig::term_scales

use feedback_alignment::{Feedback, FeedbackKind};
use linalg::Float;
use plasticity_core::{Deltas, Mlp, N_TERMS, Rule, RuleSet, Term};

use crate::{
    Error, ImagePool, InnerLoop, MetaConfig, Pathway, Phase, Result, Sample, trainer::EpisodeSetup,
};

/// Mean Frobenius norms of the terms `F^r` over the online steps of one inner loop.
#[derive(Debug, Clone, PartialEq)]
pub struct TermNorms {
    /// `per_layer[ℓ − 1][r]`: `‖F^r_ℓ‖_F` averaged over the steps, for weight layer ℓ = 1..=L.
    pub per_layer: Vec<[f64; N_TERMS]>,
    /// Online steps measured (the training samples).
    pub n_steps: usize,
}

impl TermNorms {
    /// `‖F^r‖_F` averaged over the steps and the layers (each layer weighs the same).
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::TermNorms;
    /// let mut a = [1.0; 10];
    /// a[3] = 4.0;
    /// let norms = TermNorms { per_layer: vec![a, [1.0; 10]], n_steps: 5 };
    /// assert_eq!(norms.mean()[3], 2.5);
    /// ```
    pub fn mean(&self) -> [f64; N_TERMS] {
        let n_layers = self.per_layer.len() as f64;
        std::array::from_fn(|r| self.per_layer.iter().map(|norms| norms[r]).sum::<f64>() / n_layers)
    }

    /// The per-term scales `s_r = mean ‖F^r‖_F / mean ‖F⁰‖_F` (so `s₀ = 1`), ready for
    /// [`MetaOptimizerConfig::term_scales`](crate::MetaOptimizerConfig::term_scales).
    ///
    /// ```text
    /// s_r = ⟨‖F^r_ℓ‖_F⟩_{steps, ℓ} / ⟨‖F⁰_ℓ‖_F⟩_{steps, ℓ}       [ours, deviations.md]
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (field `term_scales`) naming the term if a ratio is not finite
    /// and > 0 (e.g. F⁰ vanished on every step, or a term was zero throughout).
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::TermNorms;
    /// let mut norms = [0.5; 10];
    /// norms[5] = 10.0;
    /// let scales = TermNorms { per_layer: vec![norms], n_steps: 1 }.scales().unwrap();
    /// assert_eq!((scales[0], scales[5]), (1.0, 20.0));
    /// let zero = TermNorms { per_layer: vec![[0.0; 10]], n_steps: 1 };
    /// assert!(zero.scales().is_err());
    /// ```
    pub fn scales(&self) -> Result<[f64; N_TERMS]> {
        let mean = self.mean();
        let scales = mean.map(|norm| norm / mean[0]);
        match (0..N_TERMS).find(|&r| !(scales[r].is_finite() && scales[r] > 0.0)) {
            Some(r) => Err(Error::InvalidConfig {
                field: "term_scales",
                reason: format!(
                    "mean ‖F{r}‖ = {:e} over mean ‖F0‖ = {:e} is not a positive finite scale",
                    mean[r], mean[0]
                ),
            }),
            None => Ok(scales),
        }
    }
}

/// Runs the online inner loop (batch 1, one pass over `train`) under `ΔW = Σ_r θ_r F^r` and
/// measures, at every step, the Frobenius norm of every one of the ten terms `F^r_ℓ` (all ten,
/// whatever their θ_r) on every layer, from the same pre-update state the update uses.
///
/// ```text
/// per_layer[ℓ−1][r] = (1/N) Σ_{n<N} ‖F^r_ℓ(step n)‖_F                 [B §Methods, Eqs. 14–23]
/// ```
///
/// The terms are evaluated by `plasticity_core::Mlp::accumulate_rules` with a unit
/// coefficient, the update by `Mlp::apply_rules` and the teaching signal by
/// `feedback_alignment::Feedback::teach` (with the synthetic input error `e₀`), so no term is
/// written twice. It follows the primal of [`meta_gradient`](crate::meta_gradient) (whose
/// equality with `apply_rules` is tested), up to the rounding of the fused kernels.
///
/// # Errors
/// [`Error::InvalidConfig`] for an empty `train`; [`Error::Core`] / [`Error::Feedback`] for
/// mismatched shapes, a bad label or a non-finite θ; [`Error::Diverged`] (episode 0) naming the
/// step whose output became non-finite.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use meta_plasticity::{term_norms, InnerLoop, Pathway};
/// let w = Matrix::<f64>::from_fn(2, 3, |i, j| 0.1 * (i + j) as f64 - 0.1);
/// let inner = InnerLoop { weights: vec![w.clone()], pathway: Pathway::Backprop, beta: 10.0 };
/// let mut theta = [0.0; 10];
/// theta[0] = 1e-3;
/// let x = [1.0, 0.0, 0.5];
/// let norms = term_norms(&inner, &theta, &[(&x[..], 1)]).unwrap();
/// // F³ = −W at step 0.
/// assert!((norms.per_layer[0][3] - w.norm()).abs() < 1e-12);
/// ```
pub fn term_norms<T: Float>(
    inner: &InnerLoop<T>,
    theta: &[f64; N_TERMS],
    train: &[Sample<'_, T>],
) -> Result<TermNorms> {
    if train.is_empty() {
        return Err(Error::InvalidConfig {
            field: "train",
            reason: "no training samples to measure the terms on".to_string(),
        });
    }
    let mut net = Mlp::from_weights(inner.weights.clone(), inner.beta)?;
    let sizes = net.sizes().to_vec();
    let mut feedback = match &inner.pathway {
        Pathway::Fixed(matrices) => {
            Feedback::from_matrices(FeedbackKind::Fixed, &sizes, matrices.clone())?
        }
        Pathway::Backprop | Pathway::BackpropDetached => Feedback::backprop(&sizes),
    };
    let rules = RuleSet::from(Rule { theta: *theta });
    let units: Vec<RuleSet> = Term::ALL
        .iter()
        .map(|&term| RuleSet::from(Rule::default().with(term, 1.0)))
        .collect();
    let mut state = net.new_state();
    let mut deltas = Deltas::zeros_like(&net);
    let mut sums = vec![[0.0; N_TERMS]; net.n_layers()];
    for (step, &(input, label)) in train.iter().enumerate() {
        net.forward(&mut state, input)?;
        if !state.cross_entropy(label)?.as_f64().is_finite() {
            return Err(Error::Diverged {
                episode: 0,
                step,
                what: "output",
            });
        }
        feedback.teach(&net, &mut state, label, true)?;
        for (r, unit) in units.iter().enumerate() {
            deltas.clear();
            net.accumulate_rules(&mut state, unit, T::one(), &mut deltas)?;
            for (sum, delta) in sums.iter_mut().zip(deltas.matrices()) {
                let squares = delta
                    .as_slice()
                    .iter()
                    .map(|v| v.as_f64() * v.as_f64())
                    .sum::<f64>();
                sum[r] += squares.sqrt();
            }
        }
        net.apply_rules(&mut state, &rules)?;
    }
    let n_steps = train.len();
    Ok(TermNorms {
        per_layer: sums
            .into_iter()
            .map(|sum| sum.map(|s| s / n_steps as f64))
            .collect(),
        n_steps,
    })
}

/// [`term_norms`] on episode `episode_idx` of `phase`: the same task, initial `W`, feedback and
/// training stream as [`run_episode`](crate::run_episode) draws for it (network and feedback
/// kind from `config`), learned under `theta`.
///
/// # Errors
/// As [`run_episode`](crate::run_episode) for the config and the pool, and as [`term_norms`]
/// (with the episode index in [`Error::Diverged`]).
///
/// # Example
/// ```
/// use feedback_alignment::FeedbackKind;
/// use meta_plasticity::{episode_term_norms, ImagePool, MetaConfig, Phase, RuleFamily};
/// use plasticity_core::MlpConfig;
/// let labels: Vec<usize> = (0..40).map(|i| i % 4).collect();
/// let pixels: Vec<f32> = (0..80).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
/// let pool = ImagePool::new(2, pixels, labels).unwrap();
/// let mut config = MetaConfig::paper(RuleFamily::Pool, FeedbackKind::Fixed);
/// config.mlp = MlpConfig { sizes: vec![2, 6, 4], ..MlpConfig::default() };
/// config.episode.n_ways = 2;
/// config.episode.n_train_per_class = 3;
/// config.episode.n_query_per_class = 2;
/// let norms = episode_term_norms::<f64>(&config, &pool, &config.initial_theta(), 0, Phase::MetaTrain).unwrap();
/// assert_eq!((norms.n_steps, norms.per_layer.len()), (6, 2));
/// assert_eq!(norms.scales().unwrap()[0], 1.0);
/// ```
pub fn episode_term_norms<T: Float>(
    config: &MetaConfig,
    pool: &ImagePool,
    theta: &[f64; N_TERMS],
    episode_idx: usize,
    phase: Phase,
) -> Result<TermNorms> {
    let setup = EpisodeSetup::<T>::new(config, pool, episode_idx, phase)?;
    term_norms(&setup.inner, theta, &setup.train()).map_err(|err| err.at_episode(episode_idx))
}

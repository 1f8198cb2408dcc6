//! Where an inner loop diverges: the online step, layer and quantity that first became NaN or
//! infinite, and how much each layer's weights had grown by then — the "why" behind a diverged
//! episode ([`EpisodeStats::is_diverged`](crate::EpisodeStats::is_diverged)).
//!
//! The replay runs the plain inner loop (the network and teaching signal of
//! [`term_norms`](crate::term_norms), without tangents) and checks every quantity after it is
//! computed. The meta-gradient episodes run a fused pass that rounds differently in `f32`, so a
//! replay can cross into non-finite values a step earlier or later than the training episode, or
//! not at all when only the meta-gradient's tangents overflowed (the training episode's own
//! [`Error::Diverged`] names that case).

use feedback_alignment::{Feedback, FeedbackKind};
use linalg::Float;
use plasticity_core::{Mlp, N_TERMS, Rule, RuleSet};

use crate::{
    Error, ImagePool, InnerLoop, MetaConfig, Pathway, Phase, Result, Sample, trainer::EpisodeSetup,
};

/// The quantity that became non-finite first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// The pre-activation `z_ℓ = W_ℓ y_{ℓ−1}` of a forward pass.
    PreActivation,
    /// The activation `y_ℓ = σ(z_ℓ)` (softmax on the last layer).
    Activation,
    /// The teaching signal `e_ℓ`.
    Error,
    /// The weights `W_ℓ` after a plastic update.
    Weights,
}

impl Quantity {
    /// A short name for reports, e.g. `"weights W"`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(meta_plasticity::Quantity::Error.name(), "error e");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Quantity::PreActivation => "pre-activation z",
            Quantity::Activation => "activation y",
            Quantity::Error => "error e",
            Quantity::Weights => "weights W",
        }
    }
}

/// Where one inner loop first produced a NaN or an infinity.
#[derive(Debug, Clone, PartialEq)]
pub struct DivergenceSite {
    /// The online step (0-based); the number of training samples when it was the query
    /// evaluation after the last step.
    pub step: usize,
    /// The layer ℓ of the quantity (1..=L for `z`, `y` and `W`, 0..=L for `e`).
    pub layer: usize,
    /// What became non-finite.
    pub quantity: Quantity,
    /// `‖W_ℓ‖_F` at the last step where every weight was finite divided by `‖W_ℓ‖_F` at the
    /// start, for ℓ = 1..=L.
    pub weight_growth: Vec<f64>,
}

/// The first layer (in `layers`) whose vector has a non-finite entry.
fn first_non_finite<'a, T: Float + 'a>(
    layers: impl Iterator<Item = (usize, Option<&'a [T]>)>,
) -> Option<usize> {
    layers
        .filter_map(|(layer, values)| values.map(|v| (layer, v)))
        .find(|(_, values)| values.iter().any(|v| !v.as_f64().is_finite()))
        .map(|(layer, _)| layer)
}

/// Replays `inner` under `theta` on `train` (then evaluates `query`) and returns where it first
/// became non-finite, or `None` when every quantity stayed finite.
///
/// # Errors
/// [`Error::InvalidConfig`] for an empty `train`; [`Error::Core`] / [`Error::Feedback`] for
/// mismatched shapes, a bad label or a non-finite θ.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use meta_plasticity::{divergence_site, InnerLoop, Pathway};
/// let w = Matrix::<f64>::from_fn(2, 3, |i, j| 0.1 * (i + j) as f64 - 0.1);
/// let inner = InnerLoop { weights: vec![w], pathway: Pathway::Backprop, beta: 10.0 };
/// let x = [1.0, 0.0, 0.5];
/// let mut theta = [0.0; 10];
/// theta[0] = 1e-3;
/// // A small rate stays finite over the step and the query evaluation.
/// assert_eq!(divergence_site(&inner, &theta, &[(&x[..], 1)], &[(&x[..], 0)]).unwrap(), None);
/// ```
pub fn divergence_site<T: Float>(
    inner: &InnerLoop<T>,
    theta: &[f64; N_TERMS],
    train: &[Sample<'_, T>],
    query: &[Sample<'_, T>],
) -> Result<Option<DivergenceSite>> {
    if train.is_empty() {
        return Err(Error::InvalidConfig {
            field: "train",
            reason: "no training samples to replay".to_string(),
        });
    }
    let mut net = Mlp::from_weights(inner.weights.clone(), inner.beta)?;
    let sizes = net.sizes().to_vec();
    let n_layers = net.n_layers();
    let mut feedback = match &inner.pathway {
        Pathway::Fixed(matrices) => {
            Feedback::from_matrices(FeedbackKind::Fixed, &sizes, matrices.clone())?
        }
        Pathway::Backprop | Pathway::BackpropDetached => Feedback::backprop(&sizes),
    };
    let rules = RuleSet::from(Rule { theta: *theta });
    let norms = |net: &Mlp<T>| -> Vec<f64> {
        net.weights()
            .iter()
            .map(|w| {
                w.iter()
                    .map(|v| v.as_f64() * v.as_f64())
                    .sum::<f64>()
                    .sqrt()
            })
            .collect()
    };
    let initial = norms(&net);
    let mut last_finite = initial.clone();
    let growth = |last: &[f64]| -> Vec<f64> {
        last.iter()
            .zip(&initial)
            .map(|(now, start)| now / start)
            .collect()
    };
    let mut state = net.new_state();
    let forward_site = |state: &plasticity_core::State<T>| -> Option<(usize, Quantity)> {
        for layer in 1..=n_layers {
            if first_non_finite(std::iter::once((
                layer,
                Some(state.pre_activation(layer).as_slice()),
            )))
            .is_some()
            {
                return Some((layer, Quantity::PreActivation));
            }
            if first_non_finite(std::iter::once((
                layer,
                Some(state.activation(layer).as_slice()),
            )))
            .is_some()
            {
                return Some((layer, Quantity::Activation));
            }
        }
        None
    };
    let site = |step: usize, (layer, quantity): (usize, Quantity), last: &[f64]| {
        Some(DivergenceSite {
            step,
            layer,
            quantity,
            weight_growth: growth(last),
        })
    };
    for (step, &(input, label)) in train.iter().enumerate() {
        net.forward(&mut state, input)?;
        if let Some(found) = forward_site(&state) {
            return Ok(site(step, found, &last_finite));
        }
        feedback.teach(&net, &mut state, label, true)?;
        // Teaching signals are computed from the output down.
        if let Some(layer) = first_non_finite(
            (0..=n_layers)
                .rev()
                .map(|layer| (layer, state.error(layer).map(|e| e.as_slice()))),
        ) {
            return Ok(site(step, (layer, Quantity::Error), &last_finite));
        }
        net.apply_rules(&mut state, &rules)?;
        if let Some(layer) = first_non_finite(
            net.weights()
                .iter()
                .enumerate()
                .map(|(idx, w)| (idx + 1, Some(w.as_slice()))),
        ) {
            return Ok(site(step, (layer, Quantity::Weights), &last_finite));
        }
        last_finite = norms(&net);
    }
    for &(input, _) in query {
        net.forward(&mut state, input)?;
        if let Some(found) = forward_site(&state) {
            return Ok(site(train.len(), found, &last_finite));
        }
    }
    Ok(None)
}

/// [`divergence_site`] on episode `episode_idx` of `phase`: the same task, initial `W`,
/// feedback, training stream and query set as [`run_episode`](crate::run_episode) draws for
/// it, learned under `theta`.
///
/// # Errors
/// As [`run_episode`](crate::run_episode) for the config and the pool, and as
/// [`divergence_site`].
///
/// # Example
/// ```
/// use feedback_alignment::FeedbackKind;
/// use meta_plasticity::{episode_divergence_site, ImagePool, MetaConfig, Phase, RuleFamily};
/// use plasticity_core::MlpConfig;
/// let labels: Vec<usize> = (0..40).map(|i| i % 4).collect();
/// let pixels: Vec<f32> = (0..80).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
/// let pool = ImagePool::new(2, pixels, labels).unwrap();
/// let mut config = MetaConfig::paper(RuleFamily::Oja, FeedbackKind::Fixed);
/// config.mlp = MlpConfig { sizes: vec![2, 6, 4], ..MlpConfig::default() };
/// config.episode.n_ways = 2;
/// config.episode.n_train_per_class = 3;
/// config.episode.n_query_per_class = 2;
/// let theta = config.initial_theta();
/// let site = episode_divergence_site::<f32>(&config, &pool, &theta, 0, Phase::MetaTrain).unwrap();
/// assert_eq!(site, None);
/// ```
pub fn episode_divergence_site<T: Float>(
    config: &MetaConfig,
    pool: &ImagePool,
    theta: &[f64; N_TERMS],
    episode_idx: usize,
    phase: Phase,
) -> Result<Option<DivergenceSite>> {
    let setup = EpisodeSetup::<T>::new(config, pool, episode_idx, phase)?;
    divergence_site(&setup.inner, theta, &setup.train(), &setup.query())
}

#[cfg(test)]
mod tests {
    use linalg::Matrix;

    use super::*;

    /// A two-layer network whose rate θ₀ is large enough to overflow `f32` within two steps.
    fn overflow(theta0: f64) -> Option<DivergenceSite> {
        let w1 = Matrix::<f32>::from_fn(3, 2, |i, j| 0.3 * (i as f32 - j as f32) + 0.1);
        let w2 = Matrix::<f32>::from_fn(2, 3, |i, j| 0.2 * (j as f32 - i as f32) + 0.05);
        let inner = InnerLoop {
            weights: vec![w1, w2],
            pathway: Pathway::Backprop,
            beta: 10.0,
        };
        let mut theta = [0.0; N_TERMS];
        theta[0] = theta0;
        let x = [0.5_f32, 0.25];
        let train: Vec<Sample<'_, f32>> = (0..20).map(|i| (&x[..], i % 2)).collect();
        divergence_site(&inner, &theta, &train, &train).unwrap()
    }

    #[test]
    fn the_first_non_finite_quantity_is_named_with_the_growth_before_it() {
        // θ₀ = 1e20: after step 0 the weights are ~1e19 times their start; step 1's update
        // overflows layer 1's weights.
        let site = overflow(1e20).expect("diverges");
        assert_eq!(
            (site.step, site.layer, site.quantity),
            (1, 1, Quantity::Weights)
        );
        assert!(
            site.weight_growth.iter().all(|g| (1e18..1e21).contains(g)),
            "{site:?}"
        );
        // θ₀ = 1e30: the weights after step 0 are finite but ~1e29 times larger, so step 1's
        // logits overflow before any update.
        let site = overflow(1e30).expect("diverges");
        assert_eq!(
            (site.step, site.layer, site.quantity),
            (1, 2, Quantity::PreActivation)
        );
        assert!(site.weight_growth.iter().all(|g| *g > 1e28), "{site:?}");
        // A rate of 1e5 stays finite over the 20 steps and the query evaluation.
        assert_eq!(overflow(1e5), None);
    }
}

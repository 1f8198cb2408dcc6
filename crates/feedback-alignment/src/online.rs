//! Online learning: batch 1, one pass over a stream of samples [B §Methods, Algorithm 1 inner loop].

use std::ops::ControlFlow;

use linalg::{Float, activation};
use plasticity_core::{Mlp, RuleSet, State};

use crate::{Error, Feedback, Result};

/// What one online step saw, handed to the progress callback after the update.
#[derive(Debug)]
pub struct StepStats<'a, T: Float> {
    /// 0-based step index.
    pub step: usize,
    /// The sample's label.
    pub label: usize,
    /// Cross-entropy of the sample before the update.
    pub loss: f64,
    /// Whether the network classified the sample correctly before the update.
    pub correct: bool,
    /// The network after the update (for periodic evaluation).
    pub net: &'a Mlp<T>,
    /// The sample's state (activations and errors from the pre-update weights).
    pub state: &'a State<T>,
}

/// The outcome of one [`online_step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    /// Cross-entropy before the update.
    pub loss: f64,
    /// Whether the prediction before the update was right.
    pub correct: bool,
}

/// Totals of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrainSummary {
    /// Samples consumed.
    pub steps: usize,
    /// Mean pre-update cross-entropy over the samples.
    pub mean_loss: f64,
    /// Fraction of samples classified correctly before their update (online accuracy).
    pub online_accuracy: f64,
    /// Whether the callback stopped the run.
    pub stopped_early: bool,
}

/// One online step: forward pass, output error, back-projection through `feedback`, and the
/// fused update of every layer from pre-update values. Allocates nothing.
///
/// ```text
/// W_ℓ ← W_ℓ + Σ_r θ_r F^r_ℓ(e_{ℓ−1}, y_{ℓ−1}, e_ℓ, y_ℓ, W_ℓ)     [B §Methods, Eq. 5]
/// ```
///
/// A non-finite loss is reported as [`Error::Diverged`] (with `step = 0`; [`train_online`]
/// fills in the real step) and leaves the weights untouched.
///
/// # Errors
/// [`Error::Diverged`], [`Error::Core`] for a bad input length or label, a rule with a NaN
/// coefficient, or a feedback of the wrong shape.
///
/// # Example
/// ```
/// use feedback_alignment::{online_step, Feedback};
/// use linalg::rng::{stream, Stream};
/// use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
/// let config = MlpConfig { sizes: vec![3, 4, 2], ..MlpConfig::default() };
/// let mut net = Mlp::<f64>::new(&config, &mut stream(0, Stream::Init)).unwrap();
/// let mut feedback = Feedback::backprop(net.sizes());
/// let mut state = net.new_state();
/// let rules = RuleSet::from(Rule::pseudo_gradient(0.5));
/// let first = online_step(&mut net, &mut feedback, &rules, &mut state, &[1.0, 0.0, 1.0], 1).unwrap();
/// let second = online_step(&mut net, &mut feedback, &rules, &mut state, &[1.0, 0.0, 1.0], 1).unwrap();
/// assert!(second.loss < first.loss);
/// ```
pub fn online_step<T: Float>(
    net: &mut Mlp<T>,
    feedback: &mut Feedback<T>,
    rules: &RuleSet,
    state: &mut State<T>,
    input: &[T],
    label: usize,
) -> Result<StepOutcome> {
    net.forward(state, input)?;
    let loss = state.cross_entropy(label)?.as_f64();
    if !loss.is_finite() {
        let (layer, what) = locate_non_finite(net, state);
        return Err(Error::Diverged {
            step: 0,
            layer,
            what,
        });
    }
    let correct = activation::argmax(state.output()) == Some(label);
    feedback.teach(net, state, label, rules.needs_input_error())?;
    net.apply_rules(state, rules)?;
    Ok(StepOutcome { loss, correct })
}

/// Online training: one pass over `samples`, batch 1, each sample updating every layer once.
///
/// `on_step` runs after every update and may stop the run with `ControlFlow::Break(())`. The
/// function is pure: progress goes through the callback only.
///
/// Divergence: a non-finite loss stops the run with [`Error::Diverged`] naming the step and the
/// first non-finite layer (weights first, then input and activations). Weights made non-finite
/// by the update of step `k` show up in the loss of step `k + 1`; after the last step the
/// weights are checked once more, so no divergence goes unreported.
///
/// # Errors
/// [`Error::Diverged`]; [`Error::Sample`] naming the step of a sample with a wrong input length
/// or label; [`Error::Core`] for a bad rule or feedback.
///
/// # Example
/// ```
/// use std::ops::ControlFlow;
/// use feedback_alignment::{train_online, Feedback};
/// use linalg::rng::{stream, Stream};
/// use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
/// let config = MlpConfig { sizes: vec![2, 8, 2], ..MlpConfig::default() };
/// let mut net = Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).unwrap();
/// let mut feedback = Feedback::backprop(net.sizes());
/// let data: Vec<([f32; 2], usize)> = (0..400).map(|i| if i % 2 == 0 { ([1.0, 0.0], 0) } else { ([0.0, 1.0], 1) }).collect();
/// let summary = train_online(&mut net, &mut feedback, &RuleSet::from(Rule::pseudo_gradient(0.1)),
///     data.iter().map(|(x, y)| (&x[..], *y)), |_| ControlFlow::Continue(())).unwrap();
/// assert_eq!(summary.steps, 400);
/// assert!(summary.online_accuracy > 0.8);
/// ```
pub fn train_online<'s, T: Float>(
    net: &mut Mlp<T>,
    feedback: &mut Feedback<T>,
    rules: &RuleSet,
    samples: impl IntoIterator<Item = (&'s [T], usize)>,
    mut on_step: impl FnMut(&StepStats<'_, T>) -> ControlFlow<()>,
) -> Result<TrainSummary> {
    rules.validate(net.n_layers())?;
    let mut state = net.new_state();
    let mut totals = Totals::default();
    let mut stopped_early = false;
    for (step, (input, label)) in samples.into_iter().enumerate() {
        let outcome = match online_step(net, feedback, rules, &mut state, input, label) {
            Ok(outcome) => outcome,
            Err(err) => return Err(at_step(err, step)),
        };
        totals.add(outcome);
        let stats = StepStats {
            step,
            label,
            loss: outcome.loss,
            correct: outcome.correct,
            net,
            state: &state,
        };
        if on_step(&stats).is_break() {
            stopped_early = true;
            break;
        }
    }
    check_weights(net, totals.steps.saturating_sub(1))?;
    Ok(totals.summary(stopped_early))
}

/// Running sums of a training run.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) steps: usize,
    loss_sum: f64,
    n_correct: usize,
}

impl Totals {
    pub(crate) fn add(&mut self, outcome: StepOutcome) {
        self.steps += 1;
        self.loss_sum += outcome.loss;
        self.n_correct += usize::from(outcome.correct);
    }

    pub(crate) fn summary(&self, stopped_early: bool) -> TrainSummary {
        let n = self.steps.max(1) as f64;
        TrainSummary {
            steps: self.steps,
            mean_loss: self.loss_sum / n,
            online_accuracy: self.n_correct as f64 / n,
            stopped_early,
        }
    }
}

/// Puts the step into a step-less error.
pub(crate) fn at_step(err: Error, step: usize) -> Error {
    match err {
        Error::Diverged { layer, what, .. } => Error::Diverged { step, layer, what },
        Error::Core(
            source @ (plasticity_core::Error::ShapeMismatch { .. }
            | plasticity_core::Error::LabelOutOfRange { .. }),
        ) => Error::Sample { step, source },
        other => other,
    }
}

/// Fails with [`Error::Diverged`] at `step` if any weight is non-finite.
pub(crate) fn check_weights<T: Float>(net: &Mlp<T>, step: usize) -> Result<()> {
    match first_non_finite_weight_layer(net) {
        Some(layer) => Err(Error::Diverged {
            step,
            layer,
            what: "weights",
        }),
        None => Ok(()),
    }
}

/// The first non-finite part of a sample's computation: weights, then the input, then
/// activations, else the loss itself.
pub(crate) fn locate_non_finite<T: Float>(net: &Mlp<T>, state: &State<T>) -> (usize, &'static str) {
    if let Some(layer) = first_non_finite_weight_layer(net) {
        return (layer, "weights");
    }
    if !all_finite(state.activation(0).as_slice()) {
        return (0, "input");
    }
    for layer in 1..=net.n_layers() {
        if !all_finite(state.pre_activation(layer).as_slice())
            || !all_finite(state.activation(layer).as_slice())
        {
            return (layer, "activations");
        }
    }
    (net.n_layers(), "loss")
}

fn first_non_finite_weight_layer<T: Float>(net: &Mlp<T>) -> Option<usize> {
    net.weights()
        .iter()
        .position(|w| !all_finite(w.as_slice()))
        .map(|idx| idx + 1)
}

fn all_finite<T: Float>(values: &[T]) -> bool {
    values.iter().all(|v| v.as_f64().is_finite())
}

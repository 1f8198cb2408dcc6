//! Mini-batch learning with plain SGD, for the batch-1 versus mini-batch comparison.

use std::ops::ControlFlow;

use linalg::{Float, activation};
use plasticity_core::{Deltas, Mlp, RuleSet};

use crate::{
    Error, Feedback, Result,
    online::{StepOutcome, Totals, TrainSummary, at_step, check_weights, locate_non_finite},
};

/// What one mini-batch update saw, handed to the callback after the update.
#[derive(Debug)]
pub struct BatchStats<'a, T: Float> {
    /// 0-based index of the batch.
    pub batch: usize,
    /// Samples consumed so far, this batch included.
    pub samples_seen: usize,
    /// Mean pre-update cross-entropy of the batch.
    pub loss: f64,
    /// The network after the update.
    pub net: &'a Mlp<T>,
}

/// Mini-batch training: one pass over `samples` in consecutive batches of `batch_size`.
///
/// Every sample of a batch is evaluated at the same (pre-batch) weights, its errors are
/// computed through `feedback`, and the rule's increments are averaged over the batch:
///
/// ```text
/// W_ℓ ← W_ℓ + (1/B) Σ_b Σ_r θ_r F^r_ℓ(sample b)
/// ```
///
/// With the pseudo-gradient alone and backprop this is plain SGD on the mean cross-entropy with
/// learning rate θ₀. A last partial batch is averaged over its own size, so every sample is used
/// once (equal sample budget with the online trainer, which is `batch_size = 1`).
///
/// # Errors
/// [`Error::InvalidConfig`] for `batch_size == 0`; otherwise as [`crate::train_online`].
///
/// # Example
/// ```
/// use std::ops::ControlFlow;
/// use feedback_alignment::{train_minibatch, Feedback};
/// use linalg::rng::{stream, Stream};
/// use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
/// let config = MlpConfig { sizes: vec![2, 8, 2], ..MlpConfig::default() };
/// let mut net = Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).unwrap();
/// let mut feedback = Feedback::backprop(net.sizes());
/// let data: Vec<([f32; 2], usize)> = (0..64).map(|i| ([(i % 2) as f32, 1.0 - (i % 2) as f32], i % 2)).collect();
/// let mut batches = 0;
/// let summary = train_minibatch(&mut net, &mut feedback, &RuleSet::from(Rule::pseudo_gradient(0.1)),
///     data.iter().map(|(x, y)| (&x[..], *y)), 32, |_| { batches += 1; ControlFlow::Continue(()) }).unwrap();
/// assert_eq!((summary.steps, batches), (64, 2));
/// ```
pub fn train_minibatch<'s, T: Float>(
    net: &mut Mlp<T>,
    feedback: &mut Feedback<T>,
    rules: &RuleSet,
    samples: impl IntoIterator<Item = (&'s [T], usize)>,
    batch_size: usize,
    mut on_batch: impl FnMut(&BatchStats<'_, T>) -> ControlFlow<()>,
) -> Result<TrainSummary> {
    if batch_size == 0 {
        return Err(Error::InvalidConfig {
            field: "batch_size",
            reason: "must be at least 1".to_string(),
        });
    }
    rules.validate(net.n_layers())?;
    let mut state = net.new_state();
    let mut deltas = Deltas::zeros_like(net);
    let mut totals = Totals::default();
    let (mut in_batch, mut batch_loss, mut batch_idx) = (0usize, 0.0f64, 0usize);
    let mut stopped_early = false;
    let input_error = rules.needs_input_error();
    let mut samples = samples.into_iter().enumerate().peekable();
    while let Some((step, (input, label))) = samples.next() {
        let sample_result = (|| -> Result<StepOutcome> {
            net.forward(&mut state, input)?;
            let loss = state.cross_entropy(label)?.as_f64();
            if !loss.is_finite() {
                let (layer, what) = locate_non_finite(net, &state);
                return Err(Error::Diverged {
                    step: 0,
                    layer,
                    what,
                });
            }
            let correct = activation::argmax(state.output()) == Some(label);
            feedback.teach(net, &mut state, label, input_error)?;
            net.accumulate_rules(&mut state, rules, T::one(), &mut deltas)?;
            Ok(StepOutcome { loss, correct })
        })();
        let outcome = sample_result.map_err(|err| at_step(err, step))?;
        totals.add(outcome);
        in_batch += 1;
        batch_loss += outcome.loss;
        if in_batch == batch_size || samples.peek().is_none() {
            net.add_deltas(&deltas, T::one() / T::of_f64(in_batch as f64))?;
            deltas.clear();
            let stats = BatchStats {
                batch: batch_idx,
                samples_seen: totals.steps,
                loss: batch_loss / in_batch as f64,
                net,
            };
            let flow = on_batch(&stats);
            batch_idx += 1;
            in_batch = 0;
            batch_loss = 0.0;
            if flow.is_break() {
                stopped_early = true;
                break;
            }
        }
    }
    check_weights(net, totals.steps.saturating_sub(1))?;
    Ok(totals.summary(stopped_early))
}

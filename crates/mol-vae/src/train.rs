//! The training loop: fixed-order minibatches, Adam, per-epoch statistics by callback, and a
//! serde checkpoint that resumes bit-identically.

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use linalg::{Float, Matrix, Rng};
use molgraph::DenseGraph;

use crate::{
    Adam, AdamConfig, Batch, Error, MolVae, ObjectiveConfig, Result, StepNoise,
    constraints::{CONNECTIVITY_SHARPNESS, CycleMeasure},
    elbo::{check_not_constrained_conditional, loss_and_gradient_inner},
};

/// Training settings; [`Default`] holds the paper's values [C §3.3].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Epochs, 1,900 [C §3.3].
    pub epochs: usize,
    /// Minibatches per epoch, 25: the batch size is `B = ⌊N/25⌋` [C §3.3].
    pub batches_per_epoch: usize,
    /// Monte-Carlo copies per molecule; `None` is the code's `L = ⌊90/B⌋ + 1` [C §3.2].
    pub n_samples: Option<usize>,
    /// Penalty weights `μ₁ … μ₄` of R1–R4; all 0 is the "base model" [C §3.2].
    pub constraint_weights: [f64; 4],
    /// How R4 decides that a bond lies on a cycle (the digest's resolvent by default).
    pub cycle_measure: CycleMeasure,
    /// Adam, `lr = 1e-3` [C §3.3].
    pub adam: AdamConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 1_900,
            batches_per_epoch: 25,
            n_samples: None,
            constraint_weights: [0.0; 4],
            cycle_measure: CycleMeasure::Resolvent,
            adam: AdamConfig::default(),
        }
    }
}

impl TrainConfig {
    /// The batch size `B = ⌊N / batches_per_epoch⌋` for `n_items` molecules.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `batches_per_epoch` is 0 or exceeds `n_items`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(mol_vae::TrainConfig::default().batch_size(600).unwrap(), 24);
    /// ```
    pub fn batch_size(&self, n_items: usize) -> Result<usize> {
        if self.batches_per_epoch == 0 || self.batches_per_epoch > n_items {
            return Err(Error::InvalidConfig {
                name: "batches_per_epoch",
                reason: format!(
                    "{} batches cannot split {n_items} molecules",
                    self.batches_per_epoch
                ),
            });
        }
        Ok(n_items / self.batches_per_epoch)
    }

    /// The objective of every step for `n_items` molecules.
    ///
    /// # Errors
    /// As [`TrainConfig::batch_size`]; [`Error::InvalidConfig`] for `n_samples = Some(0)` or a
    /// negative or non-finite penalty weight.
    pub fn objective(&self, n_items: usize) -> Result<ObjectiveConfig> {
        let b = self.batch_size(n_items)?;
        let n_samples = self.n_samples.unwrap_or(90 / b + 1);
        if n_samples == 0 {
            return Err(Error::InvalidConfig {
                name: "n_samples",
                reason: "must be positive".into(),
            });
        }
        if let Some(bad) = self
            .constraint_weights
            .iter()
            .find(|m| !(m.is_finite() && **m >= 0.0))
        {
            return Err(Error::InvalidConfig {
                name: "constraint_weights",
                reason: format!("{bad} is not a finite non-negative weight"),
            });
        }
        Ok(ObjectiveConfig {
            n_samples,
            constraint_weights: self.constraint_weights,
            connectivity_sharpness: CONNECTIVITY_SHARPNESS,
            cycle_measure: self.cycle_measure,
        })
    }
}

/// Training data: scattering features (one column per molecule), target graphs, weights, and
/// for the conditional model the conditions ([`Dataset::with_conditions`]).
#[derive(Debug, Clone)]
pub struct Dataset<'a, T: Float> {
    features: &'a Matrix<T>,
    targets: &'a [DenseGraph],
    weights: Vec<f64>,
    conditions: Option<&'a Matrix<T>>,
}

impl<'a, T: Float> Dataset<'a, T> {
    /// Uniform weights `1/N`.
    ///
    /// # Errors
    /// [`Error::Empty`] for no molecules; [`Error::ShapeMismatch`] if the feature columns and
    /// targets differ in number. Features are not scanned here: a NaN feature surfaces in
    /// [`train`] as [`Error::NonFinite`] at the step of its batch.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let targets = vec![molgraph::parse_smiles("C").unwrap().to_dense(); 3];
    /// let features = Matrix::<f32>::zeros(10, 3);
    /// let data = mol_vae::Dataset::new(&features, &targets).unwrap();
    /// assert_eq!(data.len(), 3);
    /// assert!((data.weights()[0] - 1.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn new(features: &'a Matrix<T>, targets: &'a [DenseGraph]) -> Result<Dataset<'a, T>> {
        if targets.is_empty() {
            return Err(Error::Empty {
                what: "training set",
            });
        }
        if features.ncols() != targets.len() {
            return Err(Error::ShapeMismatch {
                op: "Dataset::new (one feature column per target)",
                expected: (features.nrows(), targets.len()),
                got: features.shape(),
            });
        }
        let n = targets.len();
        Ok(Dataset {
            features,
            targets,
            weights: vec![1.0 / n as f64; n],
            conditions: None,
        })
    }

    /// The conditions of the conditional model (CVAE): `n_conditions × N`, one column per
    /// molecule, the standardised properties that its features also carry as node channels
    /// [C §3.4]. [`train`] then feeds each batch's columns to
    /// [`crate::loss_and_gradient_conditional`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if there is not one column per molecule or no row;
    /// [`Error::InvalidTarget`] naming the molecule with a NaN or infinite condition.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let targets = vec![molgraph::parse_smiles("C").unwrap().to_dense(); 2];
    /// let features = Matrix::<f32>::zeros(4, 2);
    /// let conditions = Matrix::<f32>::from_column_slice(3, 2, &[0.1, 0.2, 0.3, -0.1, -0.2, -0.3]);
    /// let data = mol_vae::Dataset::new(&features, &targets).unwrap().with_conditions(&conditions).unwrap();
    /// assert_eq!(data.conditions().map(|c| c.shape()), Some((3, 2)));
    /// let wrong = Matrix::<f32>::zeros(3, 5);
    /// assert!(mol_vae::Dataset::new(&features, &targets).unwrap().with_conditions(&wrong).is_err());
    /// ```
    pub fn with_conditions(mut self, conditions: &'a Matrix<T>) -> Result<Dataset<'a, T>> {
        let n = self.targets.len();
        if conditions.ncols() != n || conditions.nrows() == 0 {
            return Err(Error::ShapeMismatch {
                op: "Dataset::with_conditions (one column per molecule)",
                expected: (conditions.nrows().max(1), n),
                got: conditions.shape(),
            });
        }
        if let Some(item) =
            (0..n).find(|&j| conditions.column(j).iter().any(|v| !v.as_f64().is_finite()))
        {
            return Err(Error::InvalidTarget {
                item,
                reason: "a condition is NaN or infinite".into(),
            });
        }
        self.conditions = Some(conditions);
        Ok(self)
    }

    /// Per-molecule weights (a Bayesian-bootstrap draw), rescaled to sum to 1 [C §4].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a wrong length; [`Error::InvalidWeights`] for a negative or
    /// non-finite weight or a zero sum.
    ///
    /// # Example
    /// ```
    /// use linalg::Matrix;
    /// let targets = vec![molgraph::parse_smiles("C").unwrap().to_dense(); 2];
    /// let features = Matrix::<f32>::zeros(4, 2);
    /// let data = mol_vae::Dataset::new(&features, &targets).unwrap().with_weights(&[1.0, 3.0]).unwrap();
    /// assert_eq!(data.weights(), &[0.25, 0.75]);
    /// ```
    pub fn with_weights(mut self, weights: &[f64]) -> Result<Dataset<'a, T>> {
        if weights.len() != self.targets.len() {
            return Err(Error::ShapeMismatch {
                op: "Dataset::with_weights",
                expected: (self.targets.len(), 1),
                got: (weights.len(), 1),
            });
        }
        if let Some(index) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Error::InvalidWeights {
                index,
                reason: format!("{} is not a finite non-negative weight", weights[index]),
            });
        }
        let sum: f64 = weights.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(Error::InvalidWeights {
                index: weights.len(),
                reason: format!("the weights sum to {sum}"),
            });
        }
        self.weights = weights.iter().map(|w| w / sum).collect();
        Ok(self)
    }

    /// Number of molecules `N`.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no molecules (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The weights, summing to 1.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The feature matrix.
    pub fn features(&self) -> &Matrix<T> {
        self.features
    }

    /// The target graphs.
    pub fn targets(&self) -> &[DenseGraph] {
        self.targets
    }

    /// The conditions (`n_conditions × N`), if this is a conditional model's data set.
    pub fn conditions(&self) -> Option<&Matrix<T>> {
        self.conditions
    }
}

/// Averages over the steps of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epoch index, 0-based.
    pub epoch: usize,
    /// Mean of the steps' minimised loss.
    pub loss: f64,
    /// Mean reconstruction term per row.
    pub reconstruction: f64,
    /// Mean KL term per row.
    pub kl: f64,
    /// Mean of R1–R4 on prior samples (0 where not evaluated).
    pub constraints: [f64; 4],
}

/// The exact position of a ChaCha8 generator, so a resumed run draws the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 256-bit key.
    pub seed: [u8; 32],
    /// The ChaCha stream.
    pub stream: u64,
    /// The word position within the stream.
    pub word_pos: u128,
}

impl RngState {
    /// Captures a generator's position.
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// use rand::RngCore;
    /// let mut rng = stream(5, Stream::Noise);
    /// rng.next_u64();
    /// let state = mol_vae::RngState::capture(&rng);
    /// assert_eq!(state.restore().next_u64(), rng.next_u64());
    /// ```
    pub fn capture(rng: &Rng) -> RngState {
        RngState {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos(),
        }
    }

    /// A generator at the captured position.
    pub fn restore(&self) -> Rng {
        let mut rng = Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

/// Everything a run needs to continue: model, optimiser, epochs done and the noise generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Checkpoint<T: Float = f32> {
    /// The model.
    pub model: MolVae<T>,
    /// Adam's state.
    pub adam: Adam<T>,
    /// Number of completed epochs.
    pub epochs_done: usize,
    /// The noise generator's position.
    pub rng: RngState,
    /// Number of training molecules the run was started with (checked on resume).
    pub n_items: usize,
}

impl<T: Float> Checkpoint<T> {
    /// A checkpoint at epoch 0: fresh Adam moments, the noise generator as given.
    pub fn start(model: MolVae<T>, n_items: usize, rng: &Rng) -> Checkpoint<T> {
        Checkpoint {
            adam: Adam::new(&model.params),
            model,
            epochs_done: 0,
            rng: RngState::capture(rng),
            n_items,
        }
    }
}

/// One training step: draws the step's noise from `rng` ([`StepNoise::draw`]), computes
/// [`crate::loss_and_gradient`] into `grad` (zeroed first), and takes one Adam step. `grad` is a
/// reusable buffer shaped like the parameters; it is left holding every gradient but the
/// encoder's hidden weight's, which is consumed by that weight's Adam update in the same pass
/// over the 9,425 × 400 matrix and never stored (`grad.hidden.weight` is not written).
///
/// # Errors
/// As [`crate::loss_and_gradient`]; [`Error::NonFinite`] (epoch and step 0) if the loss is NaN or
/// infinite, in which case the parameters and Adam are not updated.
///
/// # Example
/// ```
/// use linalg::{Matrix, rng::{stream, Stream}};
/// use mol_vae::{Adam, AdamConfig, Batch, ModelConfig, MolVae, ObjectiveConfig, train_step};
/// let mut model = MolVae::<f32>::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
/// let mut adam = Adam::new(&model.params);
/// let mut grad = model.params.zeros_like();
/// let targets = vec![molgraph::parse_smiles("CO").unwrap().to_dense(); 2];
/// let features = Matrix::from_fn(6, 2, |i, j| (i + j) as f32);
/// let batch = Batch { features: &features, targets: &targets, weights: &[0.5, 0.5], n_items: 2 };
/// let objective = ObjectiveConfig::for_batch_size(2);
/// let mut rng = stream(0, Stream::Noise);
/// let first = train_step(&mut model, &mut adam, &batch, &objective, &AdamConfig::default(), &mut grad, &mut rng).unwrap();
/// assert!(first.loss.is_finite());
/// assert_eq!(adam.t, 1);
/// ```
pub fn train_step<T: Float>(
    model: &mut MolVae<T>,
    adam: &mut Adam<T>,
    batch: &Batch<'_, T>,
    objective: &ObjectiveConfig,
    adam_config: &AdamConfig,
    grad: &mut crate::Parameters<T>,
    rng: &mut Rng,
) -> Result<crate::LossTerms> {
    conditional_step(model, adam, batch, None, objective, adam_config, grad, rng)
}

/// [`train_step`] with optional conditions (`n_conditions × B`) for the conditional model.
#[allow(clippy::too_many_arguments)]
fn conditional_step<T: Float>(
    model: &mut MolVae<T>,
    adam: &mut Adam<T>,
    batch: &Batch<'_, T>,
    conditions: Option<&Matrix<T>>,
    objective: &ObjectiveConfig,
    adam_config: &AdamConfig,
    grad: &mut crate::Parameters<T>,
    rng: &mut Rng,
) -> Result<crate::LossTerms> {
    let noise = StepNoise::draw(
        model.config().n_latent,
        batch.features.ncols(),
        objective,
        rng,
    );
    // The hidden weight's gradient is never stored in a training step (its Adam update consumes
    // it in the deferred pass), so its 3.8 M entries need no zeroing.
    let hidden_weight = grad.hidden.weight.as_ptr();
    for tensor in grad.tensors_mut() {
        if tensor.as_ptr() != hidden_weight {
            tensor.fill(T::zero());
        }
    }
    let stats_before = (model.input_stats.clone(), model.hidden_stats.clone());
    let (terms, deferred) = loss_and_gradient_inner(
        model, batch, conditions, objective, &noise, grad, None, true,
    )?;
    if !terms.loss.is_finite() {
        model.input_stats = stats_before.0;
        model.hidden_stats = stats_before.1;
        return Err(Error::NonFinite {
            what: "loss",
            epoch: 0,
            step: 0,
        });
    }
    let deferred = deferred.ok_or(Error::InvalidConfig {
        name: "loss_and_gradient_inner",
        reason: "the deferred encoder pass is missing".into(),
    })?;
    adam.step_deferred(&mut model.params, grad, deferred, adam_config);
    Ok(terms)
}

/// Trains `model` for `config.epochs` epochs from scratch (fresh Adam), drawing the noise from
/// `rng`, and calls `on_epoch` after each epoch. Returns the per-epoch statistics.
///
/// Minibatches are consecutive runs of `B = ⌊N/25⌋` molecules in data order (the code's
/// `DataLoader` without shuffling, remainder batch kept) [C §3.3, §9]. Each step draws its
/// noise with [`StepNoise::draw`], computes [`crate::loss_and_gradient`] and takes one Adam step.
///
/// # Errors
/// Configuration and shape errors as [`TrainConfig::objective`] and [`crate::loss_and_gradient`];
/// [`Error::NonFinite`] naming the epoch and step where the loss became NaN or infinite (the
/// model is left as it was before that step).
///
/// # Example
/// See the crate documentation.
pub fn train<T: Float>(
    model: &mut MolVae<T>,
    data: &Dataset<'_, T>,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochStats),
    rng: &mut Rng,
) -> Result<Vec<EpochStats>> {
    let mut checkpoint = Checkpoint::start(model.clone(), data.len(), rng);
    let history = train_checkpoint(&mut checkpoint, data, config, |stats, _| on_epoch(stats))?;
    *model = checkpoint.model;
    *rng = checkpoint.rng.restore();
    Ok(history)
}

/// Continues a run from `checkpoint` up to `config.epochs`, updating it in place; `on_epoch`
/// sees each epoch's statistics and the checkpoint after that epoch (save it there to resume
/// later: the continuation is bit-identical to an uninterrupted run).
///
/// A conditional model ([`crate::ModelConfig::n_conditions`] `> 0`) trains on a data set with
/// [`Dataset::with_conditions`], each batch through [`crate::loss_and_gradient_conditional`].
///
/// # Errors
/// As [`train`]; [`Error::Checkpoint`] if the checkpoint was started on a different number of
/// molecules; [`Error::ShapeMismatch`] if the data set's conditions do not match the model's
/// `n_conditions` (none for an unconditional model); [`Error::InvalidConfig`] for penalties on
/// a conditional model (rejected as in the code, [C §3.4]). On [`Error::NonFinite`] the checkpoint's model and Adam state are those before
/// the failing step (mid-epoch; its `epochs_done` and `rng` still describe the last completed
/// epoch, so resume from the last checkpoint `on_epoch` saw).
///
/// # Example
/// ```
/// use linalg::{Matrix, rng::{stream, Stream}};
/// use mol_vae::{Checkpoint, Dataset, ModelConfig, MolVae, TrainConfig, train_checkpoint};
/// let targets: Vec<_> = ["CO", "CC", "CN", "CF"].iter()
///     .map(|s| molgraph::parse_smiles(s).unwrap().to_dense()).collect();
/// let features = Matrix::from_fn(6, 4, |i, j| (i * j) as f64);
/// let data = Dataset::new(&features, &targets).unwrap();
/// let model = MolVae::<f64>::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
/// let config = TrainConfig { epochs: 2, batches_per_epoch: 2, ..TrainConfig::default() };
/// let mut straight = Checkpoint::start(model.clone(), 4, &stream(0, Stream::Noise));
/// train_checkpoint(&mut straight, &data, &config, |_, _| {}).unwrap();
/// // Stop after one epoch, then resume.
/// let mut resumed = Checkpoint::start(model, 4, &stream(0, Stream::Noise));
/// let half = TrainConfig { epochs: 1, ..config.clone() };
/// train_checkpoint(&mut resumed, &data, &half, |_, _| {}).unwrap();
/// train_checkpoint(&mut resumed, &data, &config, |_, _| {}).unwrap();
/// assert_eq!(resumed, straight);
/// ```
pub fn train_checkpoint<T: Float>(
    checkpoint: &mut Checkpoint<T>,
    data: &Dataset<'_, T>,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochStats, &Checkpoint<T>),
) -> Result<Vec<EpochStats>> {
    config.adam.validate()?;
    let n = data.len();
    if checkpoint.n_items != n {
        return Err(Error::Checkpoint {
            reason: format!(
                "started on {} molecules, resumed on {n}",
                checkpoint.n_items
            ),
        });
    }
    let objective = config.objective(n)?;
    check_not_constrained_conditional(&objective, checkpoint.model.config())?;
    checkpoint.model.check_conditions(
        "train_checkpoint (Dataset::with_conditions, n_conditions × N)",
        data.conditions,
        n,
    )?;
    let b = config.batch_size(n)?;
    let ranges: Vec<(usize, usize)> = (0..n).step_by(b).map(|s| (s, (s + b).min(n))).collect();
    if let Some(&(s, e)) = ranges
        .iter()
        .find(|(s, e)| (e - s) * objective.n_samples < 2)
    {
        return Err(Error::InvalidConfig {
            name: "batches_per_epoch",
            reason: format!(
                "batch {s}..{e} has one row; BatchNorm needs at least two (PyTorch rejects it too)"
            ),
        });
    }
    let mut rng = checkpoint.rng.restore();
    let mut grad = checkpoint.model.params.zeros_like();
    let mut history = Vec::new();
    for epoch in checkpoint.epochs_done..config.epochs {
        let mut stats = EpochStats {
            epoch,
            ..EpochStats::default()
        };
        for (step, &(start, end)) in ranges.iter().enumerate() {
            let features = data.features.columns(start, end - start).into_owned();
            let conditions = data
                .conditions
                .map(|c| c.columns(start, end - start).into_owned());
            let batch = Batch {
                features: &features,
                targets: &data.targets[start..end],
                weights: &data.weights[start..end],
                n_items: n,
            };
            let terms = conditional_step(
                &mut checkpoint.model,
                &mut checkpoint.adam,
                &batch,
                conditions.as_ref(),
                &objective,
                &config.adam,
                &mut grad,
                &mut rng,
            )
            .map_err(|err| match err {
                Error::NonFinite { what, .. } => Error::NonFinite { what, epoch, step },
                other => other,
            })?;
            stats.loss += terms.loss;
            stats.reconstruction += terms.reconstruction;
            stats.kl += terms.kl;
            for (acc, c) in stats.constraints.iter_mut().zip(terms.constraints) {
                *acc += c;
            }
        }
        let steps = ranges.len() as f64;
        stats.loss /= steps;
        stats.reconstruction /= steps;
        stats.kl /= steps;
        for c in &mut stats.constraints {
            *c /= steps;
        }
        checkpoint.epochs_done = epoch + 1;
        checkpoint.rng = RngState::capture(&rng);
        on_epoch(&stats, checkpoint);
        history.push(stats);
    }
    Ok(history)
}

//! `reproduce smoke`: seeded softmax regression on MNIST, one online pass at batch 1.
//!
//! It proves the harness end to end on real data — verified files, the parsers, the linalg
//! kernels, seeded streams, the report, metrics and a figure — with a known outcome: a linear
//! classifier trained by one pass of online SGD reaches about 92 % test accuracy on MNIST.

use std::time::Instant;

use anyhow::{Context as _, bail};
use linalg::{
    Matrix, Vector,
    activation::{argmax, softmax},
    kernels::{gemv, ger},
    rng::{Stream, permutation, stream},
};
use serde::{Deserialize, Serialize};

use crate::{
    data::Dataset,
    report::{Band, Domain, LineChart, Metrics, Report, Series},
    reproduce::{
        Context,
        image_data::{ImageSet, TrainTest, load_mnist_like},
    },
};

/// Hyperparameters of the smoke run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SmokeConfig {
    /// SGD learning rate η.
    learning_rate: f32,
    /// Training samples visited (one pass over the shuffled training set).
    n_steps: usize,
    /// Evaluate on the fixed test subset every this many steps.
    eval_every: usize,
    /// Size of the fixed random test subset of the learning curve.
    eval_subset: usize,
    /// Reference band: final accuracy on the full test set must be at least this.
    min_test_accuracy: f64,
}

impl SmokeConfig {
    fn new(quick: bool) -> SmokeConfig {
        SmokeConfig {
            learning_rate: 0.01,
            n_steps: if quick { 20_000 } else { 60_000 },
            eval_every: if quick { 2_000 } else { 2_500 },
            eval_subset: 1_000,
            min_test_accuracy: 0.88,
        }
    }
}

/// Softmax regression `p = softmax(W x + b)`; the bias is stored as the last column of `w`
/// against a constant input 1.
struct Classifier {
    w: Matrix<f32>,
    x: Vector<f32>,
    logits: Vector<f32>,
    p: Vector<f32>,
}

impl Classifier {
    fn new(n_classes: usize, n_inputs: usize) -> Classifier {
        Classifier {
            w: Matrix::zeros(n_classes, n_inputs + 1),
            x: Vector::zeros(n_inputs + 1),
            logits: Vector::zeros(n_classes),
            p: Vector::zeros(n_classes),
        }
    }

    fn load(&mut self, data: &ImageSet, idx: usize) {
        let n = self.x.len() - 1;
        self.x.as_mut_slice()[..n].copy_from_slice(data.image(idx));
        self.x[n] = 1.0;
    }

    /// Forward pass; returns the predicted class.
    fn predict(&mut self, data: &ImageSet, idx: usize) -> anyhow::Result<usize> {
        self.load(data, idx);
        gemv(&mut self.logits, &self.w, &self.x);
        argmax(self.logits.as_slice()).with_context(|| format!("non-finite logits for image {idx}"))
    }

    /// One SGD step on cross-entropy: `W −= η (p − onehot(y)) xᵀ`. Returns the loss.
    fn step(&mut self, data: &ImageSet, idx: usize, learning_rate: f32) -> f32 {
        self.load(data, idx);
        gemv(&mut self.logits, &self.w, &self.x);
        softmax(self.p.as_mut_slice(), self.logits.as_slice());
        let target = data.labels[idx];
        let loss = -self.p[target].max(f32::MIN_POSITIVE).ln();
        self.p[target] -= 1.0;
        ger(&mut self.w, -learning_rate, &self.p, &self.x);
        loss
    }

    fn accuracy(&mut self, data: &ImageSet, indices: &[usize]) -> anyhow::Result<f64> {
        let mut correct = 0usize;
        for &idx in indices {
            if self.predict(data, idx)? == data.labels[idx] {
                correct += 1;
            }
        }
        Ok(correct as f64 / indices.len().max(1) as f64)
    }
}

/// Runs the smoke experiment.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(SmokeConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "smoke",
        "Online softmax regression on MNIST",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let TrainTest { train, test } = load_mnist_like(ctx, Dataset::Mnist, &mut report)?;
    if train.len() < config.n_steps {
        bail!(
            "MNIST train has {} images, {} needed",
            train.len(),
            config.n_steps
        );
    }

    let order = permutation(train.len(), &mut stream(ctx.seed, Stream::Shuffle));
    let mut eval_subset = permutation(test.len(), &mut stream(ctx.seed, Stream::Evaluation));
    eval_subset.truncate(config.eval_subset);

    let mut model = Classifier::new(train.n_classes.max(test.n_classes), train.n_inputs);
    let mut metrics = Metrics::new(&["step", "mean_train_loss", "subset_test_accuracy"]);
    let mut curve = Vec::new();
    let mut loss_curve = Vec::new();
    let mut loss_sum = 0.0f64;
    let initial_accuracy = model.accuracy(&test, &eval_subset)?;
    metrics.push(vec![0.0, f64::NAN, initial_accuracy]);
    curve.push((0.0, initial_accuracy));
    let started = Instant::now();
    for (step, &idx) in order.iter().take(config.n_steps).enumerate() {
        let loss = model.step(&train, idx, config.learning_rate);
        if !loss.is_finite() {
            bail!("training diverged at step {step} (image {idx}): loss {loss}");
        }
        loss_sum += f64::from(loss);
        let done = step + 1;
        if done % config.eval_every == 0 || done == config.n_steps {
            let accuracy = model.accuracy(&test, &eval_subset)?;
            let window = if done % config.eval_every == 0 {
                config.eval_every
            } else {
                done % config.eval_every
            };
            metrics.push(vec![done as f64, loss_sum / window as f64, accuracy]);
            curve.push((done as f64, accuracy));
            loss_curve.push((done as f64, loss_sum / window as f64));
            loss_sum = 0.0;
        }
    }
    report.timing(
        "training (one online pass)",
        started.elapsed().as_secs_f64(),
    );
    let all_test: Vec<usize> = (0..test.len()).collect();
    let test_accuracy = model.accuracy(&test, &all_test)?;

    report.check(
        "test accuracy (10,000 images) after one online pass",
        "≈ 0.92 for a linear classifier (LeCun et al. 1998: 0.88 for a 1-layer net)",
        test_accuracy,
        Band::AtLeast(config.min_test_accuracy),
        Domain::Fraction,
    )?;
    report.note(format!(
        "Softmax regression (784 inputs + bias, 10 classes, zero init), plain SGD with η = {}, batch 1, \
         {} steps over the training set shuffled by the seed's shuffle stream. The learning curve evaluates a \
         fixed random subset of {} test images every {} steps.",
        config.learning_rate, config.n_steps, config.eval_subset, config.eval_every
    ));
    report.metrics(metrics);
    // Binomial 95 % interval of each subset accuracy (normal approximation).
    let n_eval = eval_subset.len() as f64;
    let band: Vec<(f64, f64, f64)> = curve
        .iter()
        .map(|&(step, acc)| {
            let half = 1.96 * (acc * (1.0 - acc) / n_eval).sqrt();
            (step, acc - half, acc + half)
        })
        .collect();
    report.figure(
        "learning_curve",
        "Test accuracy on the fixed subset during the online pass (shaded: binomial 95 % interval)",
        LineChart::new(
            "Online softmax regression on MNIST",
            "training step",
            "test accuracy (subset)",
        )
        .y_range(0.0, 1.0)
        .series(Series::line("SGD, batch 1", curve).with_band(band)),
    );
    report.figure(
        "train_loss",
        "Mean cross-entropy over each evaluation window (log scale)",
        LineChart::new("Training loss", "training step", "cross-entropy")
            .log_y()
            .series(Series::line("SGD, batch 1", loss_curve)),
    );
    Ok(report)
}

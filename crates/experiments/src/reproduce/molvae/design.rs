//! `reproduce molvae-design`: the conditional design of paper C (CVAE, digest molecular.md §3.4).
//!
//! Protocol: the `molvae` training set (the first N = 600 featurisable molecules of the seeded
//! QM9 draw); their (TPSA, MolWt, LogP) standardised by a scaler fitted on them (population sd,
//! as scikit-learn's `StandardScaler`); 15,080 scattering features (the 5 one-hot channels plus
//! the 3 standardised properties as constant node channels, warp fitted on the training graphs);
//! the paper's network with `n_conditions = 3` (both decoder heads read `[z ‖ c]`) and training
//! settings (1,900 epochs, B = N/25, L = ⌊90/B⌋ + 1, Adam 1e-3, no penalties: the code rejects
//! constrained conditional design), checkpointed like `molvae`. Then, per property and per
//! target (the training set's 10th, 50th and 90th percentiles), 10,000 samples with that
//! property fixed at the standardised target, the other two drawn from their Gaussian
//! conditional given the training set's standardised mean and covariance, `z ~ N(0, I)`, argmax
//! decoding; valid → unique; the property's mean, median and sd over the unique valid samples.
//! The baseline is the same model with all three conditions drawn from the training Gaussian
//! (unconditioned design).
//!
//! Wall time on the 2-core development machine (shared, load ≈ 3): `--quick` (8 epochs, 1,000
//! samples per set) ≈ 6 s; the full run trains at about 0.54 s per epoch (15,080 features), so
//! ≈ 17 min for 1,900 epochs plus about a minute for the 10 × 10,000 samples and their metrics.
//! It checkpoints every 50 epochs and continues with `--resume`.

use std::time::Instant;

use linalg::{
    Matrix,
    rng::{Stream, for_item, stream},
    stats::quantile_sorted,
};
use mol_vae::{
    Dataset, ModelConfig, MolVae, TrainConfig,
    conditions::{ConditionGaussian, StandardScaler},
    features::conditional_scattering_features,
    generate::sample_conditional_graphs,
    metrics::{GenerationMetrics, NoveltyReference, PropertySamples},
};
use serde::{Deserialize, Serialize};

use self::findings::{
    design_chart, design_claims, design_metrics, design_rows, design_table, sanity_rows,
    training_chart,
};
use super::{
    PROPERTY_NAMES,
    data::{dense_graphs, draw_qm9, fit_scattering, mol_graphs},
    training::{Checkpointing, checkpoint_dir, train_model},
};
use crate::{report::Report, reproduce::Context};

mod findings;

/// Percentiles of the training set's property values used as design targets.
const TARGET_PERCENTILES: [f64; 3] = [0.1, 0.5, 0.9];

/// Bins of the achieved-property histograms on the code's bounds (finer than the UQ
/// histograms' 15, so the three targets' distributions can be told apart).
const HISTOGRAM_BINS: usize = 40;

/// Configuration of `molvae-design`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DesignConfig {
    /// Training molecules, 600 (the `molvae` subset) [C §1].
    n_train: usize,
    /// Conditional samples per (property, target), and unconditioned baseline samples, 10,000
    /// [C §3.3].
    n_samples: usize,
    /// Design targets as quantiles of the training set's property values.
    target_percentiles: [f64; 3],
    /// The conditional network: 15,080 features, 3 conditions [C §2.4, §3.4].
    model: ModelConfig,
    /// Training (the paper's settings, no penalties) [C §3.3, §3.4].
    train: TrainConfig,
    /// Checkpoint every this many epochs.
    checkpoint_every: usize,
}

impl DesignConfig {
    fn new(quick: bool) -> DesignConfig {
        DesignConfig {
            n_train: 600,
            n_samples: if quick { 1_000 } else { 10_000 },
            target_percentiles: TARGET_PERCENTILES,
            model: ModelConfig {
                n_features: 8 * 1_885,
                n_conditions: 3,
                ..ModelConfig::default()
            },
            train: TrainConfig {
                epochs: if quick { 8 } else { 1_900 },
                ..TrainConfig::default()
            },
            checkpoint_every: if quick { 4 } else { 50 },
        }
    }
}

/// The achieved property over the unique valid samples of one set.
#[derive(Debug, Clone, Copy)]
struct Achieved {
    validity: f64,
    uniqueness: f64,
    n_unique: usize,
    mean: f64,
    median: f64,
    sd: f64,
}

impl Achieved {
    /// Statistics of property `k` of `metrics`' unique valid samples (NaN where there are none;
    /// the sd needs two).
    fn of(metrics: &GenerationMetrics, k: usize) -> Achieved {
        let values = metrics.properties.in_code_order()[k];
        let n = values.len();
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mean = if n == 0 {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / n as f64
        };
        let sd = if n < 2 {
            f64::NAN
        } else {
            (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        Achieved {
            validity: metrics.validity,
            uniqueness: if metrics.n_valid == 0 {
                0.0
            } else {
                metrics.uniqueness
            },
            n_unique: n,
            mean,
            median: if n == 0 {
                f64::NAN
            } else {
                quantile_sorted(&sorted, 0.5)
            },
            sd,
        }
    }
}

/// One (property, target) cell of the design.
struct Cell {
    property: usize,
    percentile: f64,
    target: f64,
    conditional: Achieved,
    /// The property values of the unique valid conditional samples (for the histograms).
    values: Vec<f64>,
}

/// Runs `molvae-design`.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(DesignConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "molvae-design",
        "GSVAE conditional design: samples at target TPSA, MolWt and LogP (paper C, CVAE)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let started = Instant::now();
    let draw = draw_qm9(ctx, &mut report, config.n_train, 0)?;
    report.timing("reading and drawing QM9", started.elapsed().as_secs_f64());

    // Properties of the training molecules (rows TPSA, MolWt, LogP), standardised.
    let started = Instant::now();
    let train_graphs = mol_graphs(&draw.train);
    let train_properties = PropertySamples::of_graphs(&train_graphs);
    let columns = train_properties.in_code_order();
    let raw = Matrix::from_fn(3, draw.train.len(), |k, i| columns[k][i]);
    let scaler = StandardScaler::fit(&raw)?;
    let standardized = scaler.transform(&raw)?;
    let gaussian = ConditionGaussian::fit(&standardized)?;
    let train_dense = dense_graphs(&draw.train);
    let scattering = fit_scattering(&train_dense)?;
    let x_train: Matrix<f32> =
        conditional_scattering_features(&scattering, &train_dense, &standardized)?;
    let conditions: Matrix<f32> = standardized.map(|v| v as f32);
    report.timing(
        "properties and conditional scattering features",
        started.elapsed().as_secs_f64(),
    );

    let dataset = Dataset::new(&x_train, &train_dense)?.with_conditions(&conditions)?;
    let initial = MolVae::<f32>::new(config.model.clone(), &mut stream(ctx.seed, Stream::Init))?;
    let dir = checkpoint_dir(ctx, "molvae-design");
    let checkpointing = Checkpointing {
        path: dir.join("conditional.ckpt"),
        every: config.checkpoint_every,
        resume: ctx.resume,
    };
    let started = Instant::now();
    // One unit: the conditional model (the sampling after it is cheap).
    let trained = ctx
        .units("molvae-design", &["conditional".to_string()], |positions| {
            positions
                .iter()
                .map(|_| {
                    train_model(
                        "conditional",
                        &initial,
                        &dataset,
                        &config.train,
                        &stream(ctx.seed, Stream::Noise),
                        &checkpointing,
                    )
                })
                .collect()
        })?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("molvae-design: no trained model"))?;
    report.timing(
        &format!(
            "training the conditional model ({} epochs)",
            config.train.epochs
        ),
        started.elapsed().as_secs_f64(),
    );

    // Baseline: all three conditions from the training Gaussian (one set for every target).
    let started = Instant::now();
    let reference = NoveltyReference::new(&train_graphs);
    let baseline = {
        let mut rng = for_item(ctx.seed, Stream::Sample, 9);
        let c = gaussian
            .sample(config.n_samples, &mut rng)?
            .map(|v| v as f32);
        let samples = sample_conditional_graphs(&trained.model, &c, &mut rng)?;
        GenerationMetrics::compute(&samples, &reference)?
    };
    let mut cells = Vec::new();
    for (k, sorted) in columns.iter().map(|c| sorted(c)).enumerate() {
        for (p, &percentile) in config.target_percentiles.iter().enumerate() {
            let target = quantile_sorted(&sorted, percentile);
            let mut rng = for_item(ctx.seed, Stream::Sample, (3 * k + p) as u64);
            let c = gaussian
                .sample_given(
                    k,
                    scaler.standardize(k, target)?,
                    config.n_samples,
                    &mut rng,
                )?
                .map(|v| v as f32);
            let samples = sample_conditional_graphs(&trained.model, &c, &mut rng)?;
            let metrics = GenerationMetrics::compute(&samples, &reference)?;
            cells.push(Cell {
                property: k,
                percentile,
                target,
                conditional: Achieved::of(&metrics, k),
                values: metrics.properties.in_code_order()[k].to_vec(),
            });
        }
    }
    report.timing(
        &format!(
            "sampling and metrics ({} × {} samples)",
            cells.len() + 1,
            config.n_samples
        ),
        started.elapsed().as_secs_f64(),
    );

    sanity_rows(&mut report, &draw, &x_train, &trained.history)?;
    let sd = scaler.scale();
    for cell in &cells {
        let base = Achieved::of(&baseline, cell.property);
        design_rows(&mut report, cell, &base, sd[cell.property]);
    }
    design_claims(&mut report, &cells, &baseline, sd, ctx.quick)?;
    report.note(design_table(&cells, &baseline, sd));
    report.note(format!(
        "Scaler fitted on the {} training molecules (population sd, as scikit-learn): mean (TPSA, MolWt, LogP) = ({:.3}, {:.3}, {:.3}), sd = ({:.3}, {:.3}, {:.3}). Standardised covariance (N − 1): [[{:.3}, {:.3}, {:.3}], [{:.3}, {:.3}, {:.3}], [{:.3}, {:.3}, {:.3}]]. For a target on one property the other two are drawn from their Gaussian conditional; the baseline draws all three from the Gaussian. Achieved statistics are over the unique valid samples (first occurrence of each Kekulé canonical form); sd uses N − 1.",
        draw.train.len(),
        scaler.mean()[0],
        scaler.mean()[1],
        scaler.mean()[2],
        sd[0],
        sd[1],
        sd[2],
        gaussian.covariance()[(0, 0)],
        gaussian.covariance()[(0, 1)],
        gaussian.covariance()[(0, 2)],
        gaussian.covariance()[(1, 0)],
        gaussian.covariance()[(1, 1)],
        gaussian.covariance()[(1, 2)],
        gaussian.covariance()[(2, 0)],
        gaussian.covariance()[(2, 1)],
        gaussian.covariance()[(2, 2)],
    ));
    report.note(draw.note());
    report.note(format!(
        "Checkpoints (bincode 2, every {} epochs): `{}`; {}.",
        config.checkpoint_every,
        dir.display(),
        if trained.resumed_at > 0 {
            format!("resumed from epoch {}", trained.resumed_at)
        } else {
            "fresh run".to_string()
        }
    ));

    report.figure(
        "training_curves",
        "Training loss (reconstruction + KL) per epoch, conditional model",
        training_chart(&trained.history),
    );
    let baseline_values = baseline.properties.in_code_order();
    for (k, name) in PROPERTY_NAMES.iter().enumerate() {
        let own: Vec<&Cell> = cells.iter().filter(|c| c.property == k).collect();
        report.figure(
            &format!("design_{}", name.to_lowercase()),
            &format!(
                "{name} of the unique valid samples for the three targets (vertical lines) and unconditioned"
            ),
            design_chart(name, k, &own, baseline_values[k])?,
        );
    }
    report.metrics(design_metrics(&cells, &baseline, sd));
    Ok(report)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

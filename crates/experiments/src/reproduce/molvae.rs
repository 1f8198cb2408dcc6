//! `reproduce molvae`: paper C (GSVAE) on QM9 — the base model and the physics-constrained one
//! at N = 600, generation metrics from 10,000 prior samples, latent PCA, property histograms
//! and sample SMILES. `molvae-uq` ([`uq`]), `molvae-predict` ([`predict`]) and
//! `molvae-design` ([`design`], the conditional model) live in the sub-modules.
//!
//! Protocol (digest molecular.md §1, §3, §5.2): a seeded draw of featurisable QM9 molecules
//! (train = the first N, test = the next 3,000); 9,425 scattering features with the warp fitted
//! on the training graphs; the paper's network and training settings (B = N/25, L = ⌊90/B⌋ + 1,
//! Adam 1e-3, 1,900 epochs, no shuffling); both models start from the same initial weights and
//! draw the same noise and the same prior samples (a paired comparison). The constrained model
//! adds R1–R4 with the weights of [`CONSTRAINT_WEIGHTS`] (the paper's values are unknown, §3.2).
//! `--export-reference DIR` writes what the models train on ([`ReferenceExport::molvae`]) for
//! the independent implementation in `reference/gsvae/`, and trains nothing.
//!
//! Wall time on the 2-core development machine: `--quick` (12 epochs, 2,000 prior samples)
//! ≈ 20 s; the full run (1,900 epochs, both models in parallel, one thread each: the base model
//! about 1.2 s and the constrained one about 2.3 s per epoch) took 68 min at revision 178763b,
//! partly alongside other runs (R4's walk sum is cheaper since d3110de). `molvae-uq` full (25
//! replicas × 1,900 epochs at N = 200, two at a time, about 0.25 s per epoch per replica)
//! ≈ 1.7–1.9 h; `molvae-predict` full (N = 2,000 first, then 600 and 200 beside it) took 47 min
//! at 4f9d2ac. Every training run checkpoints and continues with `--resume`.

mod data;
mod design;
mod figures;
mod predict;
mod training;
mod uq;

use std::time::Instant;

use anyhow::Context as _;
use graph_scattering::Scattering;
use linalg::{
    Matrix,
    rng::{Stream, stream},
};
use mol_vae::{
    Dataset, EpochStats, ModelConfig, MolVae, TrainConfig,
    constraints::CycleMeasure,
    generate::sample_graphs,
    metrics::{GenerationMetrics, NoveltyReference, PropertySamples},
};
use molgraph::{DenseGraph, MolGraph};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use self::{
    data::{Draw, dense_graphs, draw_qm9, features, fit_scattering, mol_graphs},
    figures::{constraint_chart, histogram_chart, latent_pca_chart, training_chart},
    training::{Checkpointing, Trained, checkpoint_dir, train_model},
};
pub(crate) use self::{design::run as run_design, predict::run as run_predict, uq::run as run_uq};
use crate::{
    molvae_reference::{ExportMeta, ReferenceExport},
    report::{Band, Domain, Metrics, Report, git_revision},
    reproduce::{Context, config},
};

/// Penalty weights `μ₁ … μ₄` of R1 (valence), R2 (connectivity), R3 (3-rings) and R4 (triple
/// bonds on a cycle) of the constrained model.
// Deviation: the paper's values are not available (digest §3.2: the README only says "set to a
// positive value and tune them based on the output statistics"). We tuned them as the README
// says, on shortened runs of this experiment (seed 0, N = 600, 2,000 prior samples). At 200
// epochs the base model gives validity 0.756, 646 samples with a 3-ring and 22 with a ring
// triple; μ = (0.05, 0.05, 0.2, 0.2) → validity 0.724, 559, 16; (0.1, 0.1, 0.5, 0.5) → 0.764,
// 354, 15; (0.1, 0.1, 0.7, 0.7) → 0.720, 190, 6; (0.1, 0.1, 1, 1) → 0.639, 95, 5. (At 60 epochs
// μ = (1, 1, 10, 10) collapsed validity to 0.014.) Larger weights drive the prior samples towards
// sparse, disconnected graphs. The full 1,900-epoch run with (0.1, 0.1, 0.7, 0.7) (revision
// d55528c, `cargo xtask reproduce molvae`) did not keep the 200-epoch effect: 10,000 prior
// samples gave 3-rings 3,444 → 2,150 (−38 %) and ring triples 140 → 174 at validity 0.761 →
// 0.756; late in training the reconstruction term outweighs the penalties (mean R3 ≈ 0.25 and
// R4 ≈ 1e-5 per prior sample at epoch 1,900). With μ = (0.1, 0.1, 2.5, 2.5) (revision 6c9f9b7)
// 3-rings fell 3,444 → 696 (−80 %) at validity 0.761 → 0.789, but ring triples went 140 → 152:
// R4's C_uv = [(9I − B)⁻¹]_uv falls like 9^−(d+1) with the length d of the other path, so for
// the 5- and 6-rings the samples' triple bonds sit in it is ~1e-6 and μ₄ must be ~10³ to act
// (R4 at epoch 0 is 0.023, so μ₄ = 1,000 adds ~23 to a first-epoch loss of ~85). With
// μ = (0.1, 0.1, 2.5, 1000) (revision 8a5de7b) 3-rings fell −84 % (541) but ring triples only
// −16 % (118) at validity 0.760: even μ₄ = 1,000 leaves 5- and 6-ring triples almost
// unpenalised. So R4 now uses the saturated walk count of [`CYCLE_MEASURE`], which is O(1) for
// a bond on a ring of any length, and μ₄ = μ₃. With it and μ = (0.1, 0.1, 2.5, 2.5) (revision
// 178763b, full run, 4,078 s of training) 3-rings fell 3,444 → 651 (−81 %) and ring triples
// 140 → 4 (−97 %) at validity 0.761 → 0.757: both cuts of the issue's "≥ 50 % at similar
// validity". The price is a drift towards chains: W1(TPSA) against the test set rose 0.72 → 2.34.
pub(crate) const CONSTRAINT_WEIGHTS: [f64; 4] = [0.1, 0.1, 2.5, 2.5];

/// R4's cycle measure for the constrained model.
// Deviation: the digest's resolvent `[(9I − B)⁻¹]_uv` weighs a ring closed by a path of length
// d by 9^−(d+1); `CycleMeasure::WalkSum` (s / (1 + s), s = Σ_{k=2}^{8} (B^k)_uv) gives every
// ring bond c ≥ ½ (see `CONSTRAINT_WEIGHTS` for the runs that led here).
pub(crate) const CYCLE_MEASURE: CycleMeasure = CycleMeasure::WalkSum;

/// Names of the three properties in the order of `mol_vae::metrics::PROPERTY_BOUNDS`.
pub(crate) const PROPERTY_NAMES: [&str; 3] = ["TPSA", "MolWt", "LogP"];

/// Configuration of `molvae`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MolVaeConfig {
    /// Training molecules, 600 [C §1].
    n_train: usize,
    /// Test molecules (the next 3,000 of the draw) [C §1].
    n_test: usize,
    /// Prior samples for the metrics, 10,000 [C §3.3].
    n_metric_samples: usize,
    /// The network (the paper's sizes).
    model: ModelConfig,
    /// The base model's training (μ = 0).
    base: TrainConfig,
    /// The constrained model's training.
    constrained: TrainConfig,
    /// Checkpoint every this many epochs.
    checkpoint_every: usize,
}

impl MolVaeConfig {
    fn new(quick: bool) -> MolVaeConfig {
        let base = TrainConfig {
            epochs: if quick { 12 } else { 1_900 },
            ..TrainConfig::default()
        };
        MolVaeConfig {
            n_train: 600,
            n_test: 3_000,
            n_metric_samples: if quick { 2_000 } else { 10_000 },
            model: ModelConfig::default(),
            constrained: TrainConfig {
                constraint_weights: CONSTRAINT_WEIGHTS,
                cycle_measure: CYCLE_MEASURE,
                ..base.clone()
            },
            base,
            checkpoint_every: if quick { 4 } else { 50 },
        }
    }
}

/// What a model produced on the test set and from the prior.
struct Evaluated {
    metrics: GenerationMetrics,
    samples: Vec<DenseGraph>,
    w1: [f64; 3],
}

/// Runs `molvae`.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(MolVaeConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "molvae",
        "GSVAE on QM9: base and physics-constrained models (paper C)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let started = Instant::now();
    let draw = draw_qm9(ctx, &mut report, config.n_train, config.n_test)?;
    report.timing("reading and drawing QM9", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let (train_dense, scattering, x_train) = training_features(&draw)?;
    let x_test = features(&scattering, &draw.test)?;
    report.timing("scattering features", started.elapsed().as_secs_f64());

    let dataset = Dataset::new(&x_train, &train_dense)?;
    let initial = MolVae::<f32>::new(config.model.clone(), &mut stream(ctx.seed, Stream::Init))?;
    let noise = stream(ctx.seed, Stream::Noise);
    let dir = checkpoint_dir(ctx, "molvae");
    let checkpointing = |name: &str| Checkpointing {
        path: dir.join(format!("{name}.ckpt")),
        every: config.checkpoint_every,
        resume: ctx.resume,
    };
    let started = Instant::now();
    // The units: the two models, trained in parallel.
    let models = [("base", &config.base), ("constrained", &config.constrained)];
    let ids: Vec<String> = models.iter().map(|(name, _)| name.to_string()).collect();
    let mut trained = ctx.units("molvae", &ids, |positions| {
        positions
            .par_iter()
            .map(|&p| {
                let (name, train) = models[p];
                train_model(
                    name,
                    &initial,
                    &dataset,
                    train,
                    &noise,
                    &checkpointing(name),
                )
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let (Some(constrained), Some(base), None) = (trained.pop(), trained.pop(), trained.pop())
    else {
        anyhow::bail!("molvae: expected the base and the constrained model");
    };
    report.timing(
        &format!(
            "training both models ({} epochs each, in parallel)",
            config.base.epochs
        ),
        started.elapsed().as_secs_f64(),
    );

    let started = Instant::now();
    let reference = NoveltyReference::new(&mol_graphs(&draw.train));
    let test_properties = PropertySamples::of_graphs(&mol_graphs(&draw.test));
    let base_eval = evaluate(&base.model, &config, &reference, &test_properties, ctx.seed)?;
    let constrained_eval = evaluate(
        &constrained.model,
        &config,
        &reference,
        &test_properties,
        ctx.seed,
    )?;
    report.timing(
        "generation metrics (both models)",
        started.elapsed().as_secs_f64(),
    );

    sanity_rows(&mut report, &draw, &x_train, &base, &constrained)?;
    for (name, eval) in [("base", &base_eval), ("constrained", &constrained_eval)] {
        metric_rows(&mut report, name, eval);
    }
    constraint_claim(&mut report, &base_eval.metrics, &constrained_eval.metrics);
    report.note(draw.note());
    report.note(format!(
        "Constraint weights of the constrained model: μ = {:?} (R1 valence, R2 connectivity, R3 3-rings, R4 triple bonds on a cycle; our choice, the paper's values are not available). Both models share initial weights, training noise and prior samples.",
        config.constrained.constraint_weights
    ));
    let resumed: Vec<String> = [("base", &base), ("constrained", &constrained)]
        .iter()
        .filter(|(_, t)| t.resumed_at > 0)
        .map(|(name, t)| format!("{name} from epoch {}", t.resumed_at))
        .collect();
    report.note(format!(
        "Checkpoints (bincode 2, every {} epochs): `{}`; {}.",
        config.checkpoint_every,
        dir.display(),
        if resumed.is_empty() {
            "fresh run".to_string()
        } else {
            format!("resumed: {}", resumed.join(", "))
        }
    ));
    report.note(smiles_table(&[
        ("base", &base_eval.samples),
        ("constrained", &constrained_eval.samples),
    ]));

    report.figure(
        "training_curves",
        "Training loss (reconstruction + KL [+ penalties]) per epoch",
        training_chart(&base.history, &constrained.history),
    );
    report.figure(
        "constraint_terms",
        "Mean R1–R4 on prior samples per epoch (constrained model)",
        constraint_chart(&constrained.history),
    );
    let (pca_chart, explained) = latent_pca_chart(&base.model, &x_test, &test_properties)?;
    report.figure(
        "latent_pca",
        "Base model: test-set latent means μ on the first two principal components, 1-σ ellipse and centre per MolWt quartile",
        pca_chart,
    );
    report.note(format!(
        "Latent PCA (3,000 test molecules, base model): the first two components explain {:.1} % of the variance of μ.",
        100.0 * explained
    ));
    for (k, name) in PROPERTY_NAMES.iter().enumerate() {
        let series = vec![
            ("QM9 test".to_string(), test_properties.in_code_order()[k]),
            (
                "base".to_string(),
                base_eval.metrics.properties.in_code_order()[k],
            ),
            (
                "constrained".to_string(),
                constrained_eval.metrics.properties.in_code_order()[k],
            ),
        ];
        report.figure(
            &format!("hist_{}", name.to_lowercase()),
            &format!("{name} of unique valid samples against the QM9 test molecules"),
            histogram_chart(name, k, &series)?,
        );
    }
    report.metrics(epoch_metrics(&base.history, &constrained.history));
    Ok(report)
}

/// The training targets, the scattering transform fitted on them and the training features
/// (one column per molecule, in draw order): what the models train on, and what
/// `--export-reference` writes.
fn training_features(draw: &Draw) -> anyhow::Result<(Vec<DenseGraph>, Scattering, Matrix<f32>)> {
    let train_dense = dense_graphs(&draw.train);
    let scattering = fit_scattering(&train_dense)?;
    let x_train = features(&scattering, &draw.train)?;
    Ok((train_dense, scattering, x_train))
}

impl ReferenceExport {
    /// What `molvae` trains on for `ctx` (seed, mode, `--config`/`--set`): the same QM9 draw,
    /// targets and scattering features as `run`, with the protocol and provenance. Trains
    /// nothing. `meta.mu` is the constrained model's μ (the base model is μ = 0).
    ///
    /// # Errors
    /// As the experiment's data pipeline (QM9 missing or corrupt, a rejected configuration).
    pub fn molvae(ctx: &Context) -> anyhow::Result<ReferenceExport> {
        let config = ctx.configure(MolVaeConfig::new(ctx.quick))?;
        let mut report = Report::new(
            "molvae",
            "GSVAE on QM9: export for a reference implementation",
            ctx.seed,
            ctx.quick,
            &config,
        )?;
        let draw = draw_qm9(ctx, &mut report, config.n_train, config.n_test)?;
        let (graphs, _, features) = training_features(&draw)?;
        let objective = config.constrained.objective(draw.train.len())?;
        let data_file = "qm9_props.csv.gz";
        Ok(ReferenceExport {
            features,
            graphs,
            smiles: draw.train.iter().map(|m| m.record.smiles.clone()).collect(),
            test_smiles: draw.test.iter().map(|m| m.record.smiles.clone()).collect(),
            meta: ExportMeta {
                seed: ctx.seed,
                quick: ctx.quick,
                mu: config.constrained.constraint_weights,
                cycle_measure: match config.constrained.cycle_measure {
                    CycleMeasure::WalkSum => "walk-sum",
                    CycleMeasure::Resolvent => "resolvent",
                }
                .to_string(),
                epochs: config.constrained.epochs,
                batch_size: config.constrained.batch_size(draw.train.len())?,
                n_copies: objective.n_samples,
                learning_rate: config.constrained.adam.lr,
                n_metric_samples: config.n_metric_samples,
                revision: git_revision(),
                config_fingerprint: config::fingerprint(&config::to_table(&config)?)?,
                data_sha256: vec![(
                    data_file.to_string(),
                    report
                        .data_sha256(data_file)
                        .with_context(|| format!("no sha256 recorded for {data_file}"))?,
                )],
            },
        })
    }
}

/// Generation metrics of `model` from `config.n_metric_samples` prior samples, and W1 of the
/// unique valid samples' properties to the test molecules'.
fn evaluate(
    model: &MolVae<f32>,
    config: &MolVaeConfig,
    reference: &NoveltyReference,
    test_properties: &PropertySamples,
    seed: u64,
) -> anyhow::Result<Evaluated> {
    let samples = sample_graphs(
        model,
        config.n_metric_samples,
        &mut stream(seed, Stream::Sample),
    )?;
    let metrics = GenerationMetrics::compute(&samples, reference)?;
    let w1 = metrics.property_w1(test_properties)?;
    Ok(Evaluated {
        metrics,
        samples,
        w1,
    })
}

/// The pipeline's invariants (a violation is a bug, so an error) and the check that training
/// lowered each model's loss, in quick mode too.
fn sanity_rows(
    report: &mut Report,
    draw: &Draw,
    x_train: &Matrix<f32>,
    base: &Trained,
    constrained: &Trained,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        x_train.nrows() == 9_425,
        "the training features have {} rows, not 9,425 = 5 × 1,885 (C §2.4)",
        x_train.nrows()
    );
    anyhow::ensure!(
        draw.train.len() + draw.test.len() + draw.n_skipped() == draw.n_examined,
        "train {} + test {} + skipped {} differ from the {} records examined",
        draw.train.len(),
        draw.test.len(),
        draw.n_skipped(),
        draw.n_examined
    );
    for (name, trained) in [("base", base), ("constrained", constrained)] {
        report.check(
            &format!("{name}: last-epoch / first-epoch training loss"),
            "the first epoch's loss, this run: training lowers the loss",
            loss_ratio(&trained.history),
            Band::AtMost(1.0),
            Domain::NonNegative,
        )?;
    }
    Ok(())
}

fn loss_ratio(history: &[EpochStats]) -> f64 {
    match (history.first(), history.last()) {
        (Some(first), Some(last)) if first.loss > 0.0 => last.loss / first.loss,
        _ => f64::NAN,
    }
}

/// The generation metrics of one model, as measurements: paper C's tables are not available
/// (digest §5.1), so nothing here has a reference to be checked against.
fn metric_rows(report: &mut Report, name: &str, eval: &Evaluated) {
    let m = &eval.metrics;
    let rates = [
        ("validity", m.validity),
        ("valence failure rate", m.valence_failure_rate),
        ("connectivity failure rate", m.connectivity_failure_rate),
        ("uniqueness (Kekulé, code)", m.uniqueness),
        ("uniqueness (canonical)", m.uniqueness_canonical),
        ("novelty (code's definition, §8.3)", m.novelty_code),
        ("novelty (canonical, corrected)", m.novelty_canonical),
    ];
    for (metric, value) in rates {
        report.measurement(
            &format!("{name}: {metric}"),
            value,
            &format!("fraction of {} prior samples", m.n_samples),
        );
    }
    report.measurement(
        &format!("{name}: samples with a 3-ring"),
        m.n_three_ring as f64,
        &format!("count of {} prior samples", m.n_samples),
    );
    report.measurement(
        &format!("{name}: samples with a triple bond on a cycle"),
        m.n_ring_triple as f64,
        &format!("count of {} prior samples", m.n_samples),
    );
    for (k, property) in PROPERTY_NAMES.iter().enumerate() {
        report.measurement(
            &format!("{name}: W1({property}) unique valid vs test"),
            eval.w1[k],
            "Wasserstein-1 distance (0 for a perfect generator)",
        );
    }
}

/// The claim of §5.3: R3/R4 cut the 3-ring and ring-triple counts sharply at similar validity.
fn constraint_claim(
    report: &mut Report,
    base: &GenerationMetrics,
    constrained: &GenerationMetrics,
) {
    // A count that was already 0 for the base model counts as cut when it stays 0.
    let halved = |b: usize, c: usize| c as f64 <= 0.5 * b as f64;
    let cut = |b: usize, c: usize| {
        if b == 0 {
            "n/a, base has none".to_string()
        } else {
            format!("{:.0} % cut", 100.0 * (1.0 - c as f64 / b as f64))
        }
    };
    let validity_drop = base.validity - constrained.validity;
    // Without 3-rings in the base model's samples there is nothing to cut: not supported.
    let supported = base.n_three_ring > 0
        && halved(base.n_three_ring, constrained.n_three_ring)
        && halved(base.n_ring_triple, constrained.n_ring_triple)
        && validity_drop <= 0.05;
    report.claim(
        "constraints cut the 3-ring and ring-triple counts by ≥ 50 % at similar validity (C §5.3)",
        "each count (constrained vs base, same prior samples) at most half; validity may drop by ≤ 5 points",
        format!(
            "3-rings {} → {} ({}); ring triples {} → {} ({}); validity {:.3} → {:.3}",
            base.n_three_ring,
            constrained.n_three_ring,
            cut(base.n_three_ring, constrained.n_three_ring),
            base.n_ring_triple,
            constrained.n_ring_triple,
            cut(base.n_ring_triple, constrained.n_ring_triple),
            base.validity,
            constrained.validity
        ),
        supported,
    );
}

/// A Markdown table of the first unique valid samples of each model.
fn smiles_table(models: &[(&str, &[DenseGraph])]) -> String {
    const SHOWN: usize = 12;
    let mut columns: Vec<Vec<String>> = Vec::new();
    for (_, samples) in models {
        let mut seen = std::collections::HashSet::new();
        let mut shown = Vec::new();
        for dense in samples.iter() {
            if shown.len() == SHOWN {
                break;
            }
            let Ok(graph) = MolGraph::from_dense(dense) else {
                continue;
            };
            if !graph.validity().is_valid() {
                continue;
            }
            if let Ok(smiles) = graph.to_smiles()
                && seen.insert(smiles.clone())
            {
                shown.push(smiles);
            }
        }
        columns.push(shown);
    }
    let mut text =
        String::from("First unique valid prior samples (canonical Kekulé SMILES):\n\n| # |");
    for (name, _) in models {
        text.push_str(&format!(" {name} |"));
    }
    text.push_str("\n|---|");
    text.push_str(&"---|".repeat(models.len()));
    text.push('\n');
    for row in 0..SHOWN {
        text.push_str(&format!("| {} |", row + 1));
        for column in &columns {
            text.push_str(&format!(
                " {} |",
                column.get(row).map_or("", String::as_str)
            ));
        }
        text.push('\n');
    }
    text
}

fn epoch_metrics(base: &[EpochStats], constrained: &[EpochStats]) -> Metrics {
    let mut metrics = Metrics::new(&[
        "epoch",
        "base_loss",
        "base_reconstruction",
        "base_kl",
        "constrained_loss",
        "constrained_reconstruction",
        "constrained_kl",
        "r1",
        "r2",
        "r3",
        "r4",
    ]);
    for (b, c) in base.iter().zip(constrained) {
        metrics.push(vec![
            b.epoch as f64,
            b.loss,
            b.reconstruction,
            b.kl,
            c.loss,
            c.reconstruction,
            c.kl,
            c.constraints[0],
            c.constraints[1],
            c.constraints[2],
            c.constraints[3],
        ]);
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::molvae_reference::{decode_samples, encode_samples, score};

    /// Samples of the report's own sampler, written through the `.npy` files and scored as
    /// another implementation's samples are, give exactly the report's metrics.
    #[test]
    fn scoring_samples_from_files_reproduces_the_report_metrics() {
        let parse = |smiles: &[&str]| -> Vec<MolGraph> {
            smiles
                .iter()
                .map(|s| molgraph::parse_smiles(s).unwrap())
                .collect()
        };
        let train = parse(&["C", "CC", "CO", "CCO", "C1CC1", "CC#N", "OC=O"]);
        let test = parse(&["CCC", "CN", "C=O", "CCCO", "NC=O"]);
        let mut config = MolVaeConfig::new(true);
        config.model = ModelConfig::small(6);
        config.n_metric_samples = 1_500;
        // A briefly trained small model, so that some samples are valid and some are not.
        let mut model =
            MolVae::<f32>::new(config.model.clone(), &mut stream(3, Stream::Init)).unwrap();
        let features = Matrix::<f32>::from_fn(6, train.len(), |i, j| ((i * 7 + j * 3) % 5) as f32);
        let targets: Vec<DenseGraph> = train.iter().map(MolGraph::to_dense).collect();
        let training = TrainConfig {
            epochs: 1_000,
            batches_per_epoch: 1,
            ..TrainConfig::default()
        };
        mol_vae::train(
            &mut model,
            &Dataset::new(&features, &targets).unwrap(),
            &training,
            |_| {},
            &mut stream(3, Stream::Noise),
        )
        .unwrap();
        let eval = evaluate(
            &model,
            &config,
            &NoveltyReference::new(&train),
            &PropertySamples::of_graphs(&test),
            3,
        )
        .unwrap();
        assert!(eval.metrics.n_valid > 10, "{:?}", eval.metrics);
        assert!(eval.metrics.n_valid < eval.metrics.n_samples);

        let (atoms, bonds) = encode_samples(&eval.samples);
        let decoded = decode_samples(&atoms, &bonds).unwrap();
        assert_eq!(decoded, eval.samples);
        let scores = score(&decoded, &train, &test).unwrap();
        assert_eq!(scores.metrics, eval.metrics);
        assert_eq!(scores.w1.map(f64::to_bits), eval.w1.map(f64::to_bits));
    }
}

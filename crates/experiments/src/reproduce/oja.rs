//! `reproduce oja-online | oja-depth | oja-init`: paper A's claims that adding Oja's rule to
//! error-driven learning helps under online learning, in deep networks and under poor
//! initialisation.
//!
//! Paper A's body is not available, so the protocol is ours (docs/deviations.md, digest §2.4):
//! MNIST, bias-free softplus MLPs (β = 10) with 10 outputs, the rule
//! `ΔW = −θ0 e yᵀ + θ9 (y_ℓ y_{ℓ−1}ᵀ − y_ℓ y_ℓᵀ W)` with errors from backprop or fixed random
//! feedback, one pass over 50,000 training images; the last 10,000 training images are a
//! validation split on which θ9 (and, for mini-batches, the learning-rate scale) are chosen —
//! never on the test set. Each report states the claim, the measurement with its 95 % CI over
//! seeds, and the verdict.

use std::{ops::ControlFlow, time::Instant};

use anyhow::Context as _;
use feedback_alignment::{
    Error as FaError, Feedback, FeedbackKind, effective_ranks, evaluate, layer_norms,
    train_minibatch, train_online, weight_norms,
};
use linalg::rng::{Stream, for_item, permutation};
use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    data::Dataset,
    report::{Band, Domain, LineChart, Metrics, Report, Series},
    reproduce::{
        Context,
        image_data::{ImageSet, SeedSummary, load_mnist_like, summarize},
    },
};

/// Shared configuration of the three experiments.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OjaConfig {
    /// Hidden widths of the default network (paper B's).
    hidden: Vec<usize>,
    /// Softplus β.
    beta: f64,
    /// Pseudo-gradient coefficient θ0 for every rule (the Fig. 1 script's FA+Oja value).
    theta0: f64,
    /// Candidate Oja coefficients θ9, chosen on the validation split.
    theta_oja_grid: Vec<f64>,
    /// Seeds per condition.
    n_seeds: usize,
    /// Training samples (one pass).
    n_train: usize,
    /// Validation samples (taken from the end of the training file).
    n_val: usize,
    /// Test images used for activation norms and effective ranks.
    n_probe: usize,
    /// Mini-batch sizes compared with batch 1 (`oja-online`).
    batch_sizes: Vec<usize>,
    /// Hidden-layer counts (`oja-depth`).
    depths: Vec<usize>,
    /// Hidden width of the depth sweep.
    depth_width: usize,
    /// Xavier gains (`oja-init`).
    gains: Vec<f64>,
}

impl OjaConfig {
    fn new(quick: bool) -> OjaConfig {
        OjaConfig {
            hidden: vec![170, 130, 100, 70],
            beta: 10.0,
            theta0: 0.01,
            theta_oja_grid: if quick {
                vec![0.001, 0.004]
            } else {
                // Factors of 4 from 1e-6: the Oja decay −θ9 y yᵀ W scales with ‖y‖², which is
                // large for softplus(β = 10) layers, so useful θ9 can be far below paper B's 0.004.
                vec![
                    0.000001, 0.000004, 0.000016, 0.000064, 0.000256, 0.001, 0.004,
                ]
            },
            n_seeds: if quick { 2 } else { 10 },
            n_train: if quick { 4_000 } else { 50_000 },
            n_val: if quick { 1_000 } else { 10_000 },
            n_probe: 500,
            batch_sizes: if quick { vec![1, 32] } else { vec![1, 32, 128] },
            depths: if quick {
                vec![2, 6]
            } else {
                vec![2, 4, 6, 8, 10]
            },
            depth_width: 100,
            gains: if quick {
                vec![0.1, 1.0, 10.0]
            } else {
                vec![0.1, 0.3, 1.0, 3.0, 10.0]
            },
        }
    }

    fn mlp(&self, hidden: &[usize], gain: f64) -> MlpConfig {
        let mut sizes = vec![784];
        sizes.extend_from_slice(hidden);
        sizes.push(10);
        MlpConfig {
            sizes,
            beta: self.beta,
            init_gain: gain,
            ..MlpConfig::default()
        }
    }
}

/// The four learners of every comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learner {
    Bp,
    BpOja,
    Fa,
    FaOja,
}

impl Learner {
    const ALL: [Learner; 4] = [Learner::Bp, Learner::BpOja, Learner::Fa, Learner::FaOja];

    fn name(self) -> &'static str {
        match self {
            Learner::Bp => "BP",
            Learner::BpOja => "BP+Oja",
            Learner::Fa => "FA",
            Learner::FaOja => "FA+Oja",
        }
    }

    fn feedback(self) -> FeedbackKind {
        match self {
            Learner::Bp | Learner::BpOja => FeedbackKind::Backprop,
            Learner::Fa | Learner::FaOja => FeedbackKind::Fixed,
        }
    }

    fn rule(self, theta0: f64, theta_oja: f64) -> Rule {
        match self {
            Learner::Bp | Learner::Fa => Rule::pseudo_gradient(theta0),
            Learner::BpOja | Learner::FaOja => Rule::oja(theta0, theta_oja),
        }
    }
}

/// One training run to do.
#[derive(Debug, Clone)]
struct Job {
    mlp: MlpConfig,
    feedback: FeedbackKind,
    rule: Rule,
    batch_size: usize,
    seed_idx: u64,
}

/// What one run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Outcome {
    /// Accuracy on the evaluation set (validation during selection, test otherwise); chance
    /// level (0.1) when the run diverged.
    accuracy: f64,
    /// Whether training diverged (NaN or infinity); the error message is kept.
    diverged: Option<String>,
    /// Mean ‖y_ℓ‖ over the probe images, hidden layers 1..L−1.
    activation_norms: Vec<f64>,
    /// ‖W_ℓ‖_F, layers 1..L.
    weight_norms: Vec<f64>,
    /// Participation ratio of each hidden layer's activations over the probe images.
    effective_ranks: Vec<f64>,
}

/// The data every run sees.
struct Splits {
    train: ImageSet,
    val: ImageSet,
    test: ImageSet,
    probe: ImageSet,
}

fn load_splits(ctx: &Context, config: &OjaConfig, report: &mut Report) -> anyhow::Result<Splits> {
    let data = load_mnist_like(ctx, Dataset::Mnist, report)?;
    let n = data.train.len();
    anyhow::ensure!(
        config.n_train + config.n_val <= n,
        "MNIST train has {n} images, fewer than train + validation"
    );
    let train_idx: Vec<usize> = (0..config.n_train).collect();
    let val_idx: Vec<usize> = (n - config.n_val..n).collect();
    let probe_idx: Vec<usize> = (0..config.n_probe.min(data.test.len())).collect();
    Ok(Splits {
        train: data.train.select(&train_idx),
        val: data.train.select(&val_idx),
        probe: data.test.select(&probe_idx),
        test: data.test,
    })
}

fn run_job(
    job: &Job,
    seed: u64,
    train: &ImageSet,
    eval: &ImageSet,
    probe: &ImageSet,
) -> anyhow::Result<Outcome> {
    let mut net = Mlp::<f32>::new(&job.mlp, &mut for_item(seed, Stream::Init, job.seed_idx))?;
    let mut feedback = Feedback::new(
        job.feedback,
        net.sizes(),
        1.0,
        &mut for_item(seed, Stream::Feedback, job.seed_idx),
    )?;
    let order = permutation(
        train.len(),
        &mut for_item(seed, Stream::Shuffle, job.seed_idx),
    );
    let rules = RuleSet::from(job.rule);
    let trained = if job.batch_size == 1 {
        train_online(
            &mut net,
            &mut feedback,
            &rules,
            train.samples(&order),
            |_| ControlFlow::Continue(()),
        )
    } else {
        train_minibatch(
            &mut net,
            &mut feedback,
            &rules,
            train.samples(&order),
            job.batch_size,
            |_| ControlFlow::Continue(()),
        )
    };
    match trained {
        Ok(_) => {}
        Err(err @ FaError::Diverged { .. }) => {
            return Ok(Outcome {
                accuracy: 0.1,
                diverged: Some(err.to_string()),
                activation_norms: Vec::new(),
                weight_norms: Vec::new(),
                effective_ranks: Vec::new(),
            });
        }
        Err(err) => return Err(err.into()),
    }
    let accuracy = evaluate(&net, &eval.pixels, &eval.labels)?;
    let n_layers = net.n_layers();
    let mut state = net.new_state();
    let mut norm_sums = vec![0.0; n_layers.saturating_sub(1)];
    for idx in 0..probe.len() {
        net.forward(&mut state, probe.image(idx))?;
        let norms = layer_norms(&state);
        for (layer, sum) in norm_sums.iter_mut().enumerate() {
            *sum += norms.activation[layer + 1];
        }
    }
    let activation_norms = norm_sums
        .iter()
        .map(|s| s / probe.len().max(1) as f64)
        .collect();
    let ranks = effective_ranks(&net, (0..probe.len()).map(|idx| probe.image(idx)))?;
    Ok(Outcome {
        accuracy,
        diverged: None,
        activation_norms,
        weight_norms: weight_norms(&net),
        effective_ranks: ranks,
    })
}

/// Runs jobs in parallel; results keep the jobs' order.
fn run_jobs(
    jobs: &[Job],
    seed: u64,
    train: &ImageSet,
    eval: &ImageSet,
    probe: &ImageSet,
) -> anyhow::Result<Vec<Outcome>> {
    jobs.par_iter()
        .map(|job| {
            run_job(job, seed, train, eval, probe).with_context(|| {
                format!(
                    "{:?} {:?}, batch {}, seed {}",
                    job.feedback, job.rule.theta, job.batch_size, job.seed_idx
                )
            })
        })
        .collect()
}

/// Seed index of the selection runs, disjoint from the reported seeds.
const SELECTION_SEED: u64 = 10_000;

/// Chooses θ9 on the validation split, separately for BP+Oja and FA+Oja (batch 1, network
/// `mlp`, one selection seed): the best validation accuracy wins. Returns θ9 per learner (in
/// `Learner::ALL` order; unused by the learners without Oja) and a Markdown table headed `label`.
fn select_theta_oja(
    config: &OjaConfig,
    seed: u64,
    splits: &Splits,
    mlp: &MlpConfig,
    label: &str,
) -> anyhow::Result<([f64; 4], String)> {
    let mut jobs = Vec::new();
    for &theta_oja in &config.theta_oja_grid {
        for learner in [Learner::BpOja, Learner::FaOja] {
            jobs.push(Job {
                mlp: mlp.clone(),
                feedback: learner.feedback(),
                rule: learner.rule(config.theta0, theta_oja),
                batch_size: 1,
                seed_idx: SELECTION_SEED,
            });
        }
    }
    let outcomes = run_jobs(&jobs, seed, &splits.train, &splits.val, &splits.probe)?;
    let mut table = format!(
        "{label}: θ9 chosen on the validation split (last 10,000 training images; one selection seed), per learner:\n\n| θ9 | BP+Oja val. acc. | FA+Oja val. acc. |\n|---|---|---|\n",
    );
    let mut best = [(f64::NEG_INFINITY, config.theta_oja_grid[0]); 2];
    for (grid_idx, &theta_oja) in config.theta_oja_grid.iter().enumerate() {
        let accs = [
            outcomes[2 * grid_idx].accuracy,
            outcomes[2 * grid_idx + 1].accuracy,
        ];
        table.push_str(&format!(
            "| {theta_oja} | {:.4} | {:.4} |\n",
            accs[0], accs[1]
        ));
        for (slot, &acc) in best.iter_mut().zip(&accs) {
            if acc > slot.0 {
                *slot = (acc, theta_oja);
            }
        }
    }
    table.push_str(&format!(
        "\nChosen: θ9 = {} for BP+Oja and {} for FA+Oja (θ0 = {} for every learner).",
        best[0].1, best[1].1, config.theta0
    ));
    let edge = config.theta_oja_grid[0];
    if best
        .iter()
        .any(|&(_, theta)| theta.to_bits() == edge.to_bits())
    {
        table.push_str(&format!(
            " A choice at the grid's smallest value ({edge}) means a smaller θ9 might validate better still."
        ));
    }
    let mut per_learner = [0.0; 4];
    per_learner[learner_idx(Learner::BpOja)] = best[0].1;
    per_learner[learner_idx(Learner::FaOja)] = best[1].1;
    Ok((per_learner, table))
}

/// θ9 chosen on validation for each condition separately (the claims of `oja-depth` and
/// `oja-init` are about what Oja can do in that condition); each selection table becomes a note.
fn select_per_condition(
    config: &OjaConfig,
    seed: u64,
    splits: &Splits,
    conditions: &[Condition],
    labels: &[String],
    report: &mut Report,
) -> anyhow::Result<Vec<[f64; 4]>> {
    let mut thetas = Vec::new();
    for (condition, label) in conditions.iter().zip(labels) {
        let (theta_oja, selection) = select_theta_oja(config, seed, splits, &condition.0, label)?;
        report.note(selection);
        thetas.push(theta_oja);
    }
    Ok(thetas)
}

/// One condition of a sweep: the network, the batch size, and the learning-rate scale of each
/// learner (in `Learner::ALL` order).
type Condition = (MlpConfig, usize, [f64; 4]);

/// Runs every learner × condition × seed; `outcomes[condition][learner][seed]`. These runs are
/// the experiment's units; the selection runs before them are not (every shard and a merge
/// redo them: one seed per grid point).
fn run_conditions(
    ctx: &Context,
    experiment: &str,
    config: &OjaConfig,
    splits: &Splits,
    conditions: &[Condition],
    theta_oja: &[[f64; 4]],
) -> anyhow::Result<Vec<Vec<Vec<Outcome>>>> {
    let mut jobs = Vec::new();
    let mut ids = Vec::new();
    for (c, ((mlp, batch_size, scales), theta_oja)) in conditions.iter().zip(theta_oja).enumerate()
    {
        for (l, learner) in Learner::ALL.into_iter().enumerate() {
            for seed_idx in 0..config.n_seeds as u64 {
                let mut rule = learner.rule(config.theta0, theta_oja[l]);
                for theta in rule.theta.iter_mut() {
                    *theta *= scales[l];
                }
                jobs.push(Job {
                    mlp: mlp.clone(),
                    feedback: learner.feedback(),
                    rule,
                    batch_size: *batch_size,
                    seed_idx,
                });
                ids.push(format!("condition{c}-{learner:?}-seed{seed_idx}"));
            }
        }
    }
    let flat = ctx.units(experiment, &ids, |positions| {
        let subset: Vec<Job> = positions.iter().map(|&p| jobs[p].clone()).collect();
        run_jobs(
            &subset,
            ctx.seed,
            &splits.train,
            &splits.test,
            &splits.probe,
        )
    })?;
    let mut iter = flat.into_iter();
    Ok(conditions
        .iter()
        .map(|_| {
            Learner::ALL
                .iter()
                .map(|_| iter.by_ref().take(config.n_seeds).collect())
                .collect()
        })
        .collect())
}

fn accuracies(outcomes: &[Outcome]) -> Vec<f64> {
    outcomes.iter().map(|o| o.accuracy).collect()
}

fn paired_gain(with: &[Outcome], without: &[Outcome]) -> Vec<f64> {
    with.iter()
        .zip(without)
        .map(|(a, b)| a.accuracy - b.accuracy)
        .collect()
}

fn diverged(outcomes: &[Outcome]) -> usize {
    outcomes.iter().filter(|o| o.diverged.is_some()).count()
}

fn learner_idx(learner: Learner) -> usize {
    Learner::ALL
        .iter()
        .position(|&l| l == learner)
        .expect("every learner is in ALL")
}

/// Accuracy table and metrics rows of a sweep; `label(c)` names condition `c`.
fn sweep_table(
    report: &mut Report,
    metrics: &mut Metrics,
    outcomes: &[Vec<Vec<Outcome>>],
    x_values: &[f64],
    label: &dyn Fn(usize) -> String,
    seed: u64,
) -> Vec<Vec<SeedSummary>> {
    let mut table = String::from(
        "| condition | BP | BP+Oja | FA | FA+Oja | diverged runs |\n|---|---|---|---|---|---|\n",
    );
    let mut summaries = vec![Vec::new(); Learner::ALL.len()];
    for (c, per_learner) in outcomes.iter().enumerate() {
        let mut row = vec![x_values[c]];
        let mut cells = Vec::new();
        let mut n_diverged = 0;
        for (l, runs) in per_learner.iter().enumerate() {
            let summary = summarize(&accuracies(runs), seed ^ ((c as u64) << 16) ^ l as u64);
            row.extend([summary.mean, summary.low, summary.high]);
            cells.push(summary.display());
            n_diverged += diverged(runs);
            summaries[l].push(summary);
        }
        metrics.push(row);
        table.push_str(&format!(
            "| {} | {} | {n_diverged} |\n",
            label(c),
            cells.join(" | ")
        ));
    }
    report.note(format!(
        "Test accuracy (full 10,000-image test set), mean [95 % CI] over seeds:\n\n{table}"
    ));
    summaries
}

fn accuracy_chart(
    title: &str,
    x_label: &str,
    x_values: &[f64],
    summaries: &[Vec<SeedSummary>],
) -> LineChart {
    let mut chart = LineChart::new(title, x_label, "test accuracy").y_range(0.0, 1.0);
    for (l, learner) in Learner::ALL.iter().enumerate() {
        let line = x_values
            .iter()
            .zip(&summaries[l])
            .map(|(&x, s)| (x, s.mean))
            .collect();
        let band = x_values
            .iter()
            .zip(&summaries[l])
            .map(|(&x, s)| (x, s.low, s.high))
            .collect();
        chart = chart.series(Series::line(learner.name(), line).with_band(band));
    }
    chart
}

fn metrics_columns() -> Metrics {
    let mut columns = vec!["x".to_string()];
    for learner in Learner::ALL {
        for suffix in ["mean", "ci_low", "ci_high"] {
            columns.push(format!("{}_{suffix}", learner.name()));
        }
    }
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    Metrics::new(&refs)
}

fn claim_gain(report: &mut Report, claim: &str, measure: &str, gain: &[f64], seed: u64) {
    let summary = summarize(gain, seed);
    report.claim(claim, measure, summary.display(), summary.low > 0.0);
}

/// `reproduce oja-online`: batch 1 versus mini-batches.
pub(crate) fn run_online(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(OjaConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "oja-online",
        "Oja's rule and online learning (paper A)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let splits = load_splits(ctx, &config, &mut report)?;
    let started = Instant::now();
    let (theta_oja, selection) = select_theta_oja(
        &config,
        ctx.seed,
        &splits,
        &config.mlp(&config.hidden, 1.0),
        "All batch sizes",
    )?;
    report.note(selection);
    // Learning-rate scale per batch size and learner, chosen on validation among {1, √B, B}
    // (the mean-of-batch update with scale B is the sum over the batch of paper B's code); the
    // scale multiplies every θ of the learner's rule.
    let mut scale_table = String::from(
        "Learning-rate scale per batch size and learner (validation accuracy, one selection seed; scales 1 / √B / B):\n\n| batch | BP | BP+Oja | FA | FA+Oja |\n|---|---|---|---|---|\n",
    );
    let mut conditions: Vec<Condition> = Vec::new();
    for &batch in &config.batch_sizes {
        if batch == 1 {
            conditions.push((config.mlp(&config.hidden, 1.0), 1, [1.0; 4]));
            continue;
        }
        let scales = [1.0, (batch as f64).sqrt(), batch as f64];
        let mut jobs = Vec::new();
        for (l, learner) in Learner::ALL.into_iter().enumerate() {
            for &scale in &scales {
                let mut rule = learner.rule(config.theta0, theta_oja[l]);
                for theta in rule.theta.iter_mut() {
                    *theta *= scale;
                }
                jobs.push(Job {
                    mlp: config.mlp(&config.hidden, 1.0),
                    feedback: learner.feedback(),
                    rule,
                    batch_size: batch,
                    seed_idx: SELECTION_SEED,
                });
            }
        }
        let outcomes = run_jobs(&jobs, ctx.seed, &splits.train, &splits.val, &splits.probe)?;
        let mut chosen = [1.0; 4];
        let mut cells = Vec::new();
        for l in 0..Learner::ALL.len() {
            let accs: Vec<f64> = (0..3).map(|k| outcomes[3 * l + k].accuracy).collect();
            let best = (0..3)
                .max_by(|&a, &b| accs[a].total_cmp(&accs[b]))
                .unwrap_or(0);
            chosen[l] = scales[best];
            cells.push(format!(
                "{:.3} / {:.3} / {:.3} → {}",
                accs[0],
                accs[1],
                accs[2],
                ["1", "√B", "B"][best]
            ));
        }
        scale_table.push_str(&format!("| {batch} | {} |\n", cells.join(" | ")));
        conditions.push((config.mlp(&config.hidden, 1.0), batch, chosen));
    }
    report.note(scale_table);
    let thetas = vec![theta_oja; conditions.len()];
    let outcomes = run_conditions(ctx, "oja-online", &config, &splits, &conditions, &thetas)?;
    report.timing("selection and all runs", started.elapsed().as_secs_f64());
    let x_values: Vec<f64> = config.batch_sizes.iter().map(|&b| b as f64).collect();
    let mut metrics = metrics_columns();
    let summaries = sweep_table(
        &mut report,
        &mut metrics,
        &outcomes,
        &x_values,
        &|c| format!("batch {}", config.batch_sizes[c]),
        ctx.seed,
    );
    report.metrics(metrics);
    report.figure(
        "accuracy_vs_batch",
        "Test accuracy after one pass, by batch size (shaded: 95 % CI over seeds)",
        accuracy_chart(
            "Oja's rule and batching (MNIST)",
            "batch size",
            &x_values,
            &summaries,
        ),
    );
    let (bp, bp_oja, fa, fa_oja) = (
        learner_idx(Learner::Bp),
        learner_idx(Learner::BpOja),
        learner_idx(Learner::Fa),
        learner_idx(Learner::FaOja),
    );
    let online = &outcomes[0];
    report.check(
        "BP test accuracy, batch 1 (sanity)",
        "MNIST after one online pass: a linear classifier reaches ≈ 0.92 (LeCun et al. 1998); quick runs see fewer samples",
        summaries[bp][0].mean,
        Band::AtLeast(if ctx.quick { 0.75 } else { 0.9 }),
        Domain::Fraction,
    )?;
    claim_gain(
        &mut report,
        "Oja improves online (batch 1) BP",
        "paired test-accuracy gain BP+Oja − BP",
        &paired_gain(&online[bp_oja], &online[bp]),
        ctx.seed ^ 101,
    );
    claim_gain(
        &mut report,
        "Oja improves online (batch 1) FA",
        "paired gain FA+Oja − FA",
        &paired_gain(&online[fa_oja], &online[fa]),
        ctx.seed ^ 102,
    );
    let last = outcomes.len() - 1;
    let shrink: Vec<f64> = paired_gain(&online[fa_oja], &online[fa])
        .iter()
        .zip(paired_gain(&outcomes[last][fa_oja], &outcomes[last][fa]))
        .map(|(g1, gb)| g1 - gb)
        .collect();
    claim_gain(
        &mut report,
        "the benefit of Oja shrinks with batching",
        &format!(
            "FA gain at batch 1 minus gain at batch {}",
            config.batch_sizes[last]
        ),
        &shrink,
        ctx.seed ^ 103,
    );
    Ok(report)
}

/// `reproduce oja-depth`: accuracy versus the number of hidden layers.
pub(crate) fn run_depth(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(OjaConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "oja-depth",
        "Oja's rule in deep networks (paper A)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let splits = load_splits(ctx, &config, &mut report)?;
    let started = Instant::now();
    let conditions: Vec<Condition> = config
        .depths
        .iter()
        .map(|&d| (config.mlp(&vec![config.depth_width; d], 1.0), 1, [1.0; 4]))
        .collect();
    let labels: Vec<String> = config
        .depths
        .iter()
        .map(|d| format!("{d} hidden layers"))
        .collect();
    let thetas = select_per_condition(
        &config,
        ctx.seed,
        &splits,
        &conditions,
        &labels,
        &mut report,
    )?;
    let outcomes = run_conditions(ctx, "oja-depth", &config, &splits, &conditions, &thetas)?;
    report.timing("selection and all runs", started.elapsed().as_secs_f64());
    let x_values: Vec<f64> = config.depths.iter().map(|&d| d as f64).collect();
    let mut metrics = metrics_columns();
    let summaries = sweep_table(
        &mut report,
        &mut metrics,
        &outcomes,
        &x_values,
        &|c| format!("{} hidden layers", config.depths[c]),
        ctx.seed,
    );
    report.metrics(metrics);
    report.figure(
        "accuracy_vs_depth",
        "Test accuracy after one online pass, by depth (width 100; shaded: 95 % CI)",
        accuracy_chart(
            "Oja's rule and depth (MNIST, online)",
            "hidden layers",
            &x_values,
            &summaries,
        ),
    );
    let deepest = outcomes.len() - 1;
    report.figure(
        "activation_norms_deepest",
        "Mean ‖y_ℓ‖ per hidden layer after training, deepest network (seed mean)",
        norms_chart(
            &format!("Activation norms, {} hidden layers", config.depths[deepest]),
            &outcomes[deepest],
        ),
    );
    let (bp, bp_oja, fa, fa_oja) = (
        learner_idx(Learner::Bp),
        learner_idx(Learner::BpOja),
        learner_idx(Learner::Fa),
        learner_idx(Learner::FaOja),
    );
    report.check(
        &format!(
            "BP test accuracy, {} hidden layers (sanity)",
            config.depths[0]
        ),
        "MNIST after one online pass: a linear classifier reaches ≈ 0.92 (LeCun et al. 1998); quick runs see fewer samples",
        summaries[bp][0].mean,
        Band::AtLeast(if ctx.quick { 0.75 } else { 0.9 }),
        Domain::Fraction,
    )?;
    let drop_gap = |with: usize, without: usize| -> Vec<f64> {
        // (acc_deep − acc_shallow) with Oja minus the same without: > 0 means Oja degrades less.
        (0..config.n_seeds)
            .map(|s| {
                let d = |l: usize| outcomes[deepest][l][s].accuracy - outcomes[0][l][s].accuracy;
                d(with) - d(without)
            })
            .collect()
    };
    claim_gain(
        &mut report,
        "with Oja, BP degrades less with depth",
        "paired (deep − shallow) accuracy change, BP+Oja minus BP",
        &drop_gap(bp_oja, bp),
        ctx.seed ^ 201,
    );
    claim_gain(
        &mut report,
        "with Oja, FA degrades less with depth",
        "same for FA+Oja minus FA",
        &drop_gap(fa_oja, fa),
        ctx.seed ^ 202,
    );
    claim_gain(
        &mut report,
        "Oja improves BP in the deepest network",
        "paired gain BP+Oja − BP",
        &paired_gain(&outcomes[deepest][bp_oja], &outcomes[deepest][bp]),
        ctx.seed ^ 203,
    );
    Ok(report)
}

/// `reproduce oja-init`: accuracy versus the scale of the initial weights.
pub(crate) fn run_init(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(OjaConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "oja-init",
        "Oja's rule and sub-optimal initialisation (paper A)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let splits = load_splits(ctx, &config, &mut report)?;
    let started = Instant::now();
    let conditions: Vec<Condition> = config
        .gains
        .iter()
        .map(|&g| (config.mlp(&config.hidden, g), 1, [1.0; 4]))
        .collect();
    let labels: Vec<String> = config
        .gains
        .iter()
        .map(|g| format!("Xavier gain {g}"))
        .collect();
    let thetas = select_per_condition(
        &config,
        ctx.seed,
        &splits,
        &conditions,
        &labels,
        &mut report,
    )?;
    let outcomes = run_conditions(ctx, "oja-init", &config, &splits, &conditions, &thetas)?;
    report.timing("selection and all runs", started.elapsed().as_secs_f64());
    let x_values: Vec<f64> = config.gains.iter().map(|g| g.log10()).collect();
    let mut metrics = metrics_columns();
    let summaries = sweep_table(
        &mut report,
        &mut metrics,
        &outcomes,
        &x_values,
        &|c| format!("gain {}", config.gains[c]),
        ctx.seed,
    );
    report.metrics(metrics);
    report.figure(
        "accuracy_vs_gain",
        "Test accuracy after one online pass, by Xavier gain (x: log10 gain; shaded: 95 % CI)",
        accuracy_chart(
            "Oja's rule and initialisation (MNIST, online)",
            "log10(Xavier gain)",
            &x_values,
            &summaries,
        ),
    );
    for (c, &gain) in config.gains.iter().enumerate() {
        if c == 0 || c == config.gains.len() - 1 {
            report.figure(
                &format!("activation_norms_gain_{c}"),
                &format!("Mean ‖y_ℓ‖ per hidden layer after training, gain {gain} (seed mean)"),
                norms_chart(
                    &format!("Activation norms, Xavier gain {gain}"),
                    &outcomes[c],
                ),
            );
        }
    }
    let mut norms = String::from(
        "Mean ‖W_ℓ‖_F per weight layer after training (seed mean over runs that did not diverge):\n\n| gain | learner | ‖W_ℓ‖_F, ℓ = 1..L |\n|---|---|---|\n",
    );
    for (c, &gain) in config.gains.iter().enumerate() {
        for (l, learner) in Learner::ALL.iter().enumerate() {
            let runs: Vec<&Outcome> = outcomes[c][l]
                .iter()
                .filter(|o| o.diverged.is_none())
                .collect();
            let Some(first) = runs.first() else { continue };
            let cells: Vec<String> = (0..first.weight_norms.len())
                .map(|layer| {
                    format!(
                        "{:.2}",
                        runs.iter().map(|o| o.weight_norms[layer]).sum::<f64>() / runs.len() as f64
                    )
                })
                .collect();
            norms.push_str(&format!(
                "| {gain} | {} | {} |\n",
                learner.name(),
                cells.join(", ")
            ));
        }
    }
    report.note(norms);
    let (bp, bp_oja, fa, fa_oja) = (
        learner_idx(Learner::Bp),
        learner_idx(Learner::BpOja),
        learner_idx(Learner::Fa),
        learner_idx(Learner::FaOja),
    );
    let unit = config
        .gains
        .iter()
        .position(|&g| (g - 1.0).abs() < 1e-12)
        .unwrap_or(0);
    report.check(
        "BP test accuracy, gain 1 (sanity)",
        "MNIST after one online pass: a linear classifier reaches ≈ 0.92 (LeCun et al. 1998); quick runs see fewer samples",
        summaries[bp][unit].mean,
        Band::AtLeast(if ctx.quick { 0.75 } else { 0.9 }),
        Domain::Fraction,
    )?;
    let (small, large) = (0, config.gains.len() - 1);
    claim_gain(
        &mut report,
        &format!("Oja rescues BP at small gain ({})", config.gains[small]),
        "paired gain BP+Oja − BP",
        &paired_gain(&outcomes[small][bp_oja], &outcomes[small][bp]),
        ctx.seed ^ 301,
    );
    claim_gain(
        &mut report,
        &format!("Oja rescues BP at large gain ({})", config.gains[large]),
        "paired gain BP+Oja − BP",
        &paired_gain(&outcomes[large][bp_oja], &outcomes[large][bp]),
        ctx.seed ^ 302,
    );
    claim_gain(
        &mut report,
        &format!("Oja rescues FA at large gain ({})", config.gains[large]),
        "paired gain FA+Oja − FA",
        &paired_gain(&outcomes[large][fa_oja], &outcomes[large][fa]),
        ctx.seed ^ 303,
    );
    let rank_gain: Vec<f64> = (0..config.n_seeds)
        .filter_map(|s| {
            let mean_rank = |o: &Outcome| {
                (!o.effective_ranks.is_empty())
                    .then(|| o.effective_ranks.iter().sum::<f64>() / o.effective_ranks.len() as f64)
            };
            Some(mean_rank(&outcomes[unit][bp_oja][s])? - mean_rank(&outcomes[unit][bp][s])?)
        })
        .collect();
    claim_gain(
        &mut report,
        "Oja preserves richer activation subspaces",
        "paired mean effective rank (participation ratio) of hidden layers, BP+Oja − BP, gain 1",
        &rank_gain,
        ctx.seed ^ 304,
    );
    // Paper A v3: FA-type rules "suffer from … unbounded weight growth"; Oja should bound it.
    let growth: Vec<f64> = (0..config.n_seeds)
        .filter_map(|s| {
            let largest = |o: &Outcome| o.weight_norms.iter().copied().reduce(f64::max);
            Some(
                largest(&outcomes[unit][fa][s])?.log10()
                    - largest(&outcomes[unit][fa_oja][s])?.log10(),
            )
        })
        .collect();
    claim_gain(
        &mut report,
        "FA alone lets weights grow without bound; Oja bounds them (A v3 abstract)",
        "paired log10 of the largest layer norm ‖W_ℓ‖_F, FA minus FA+Oja, gain 1",
        &growth,
        ctx.seed ^ 305,
    );
    Ok(report)
}

fn norms_chart(title: &str, per_learner: &[Vec<Outcome>]) -> LineChart {
    let mut chart = LineChart::new(title, "hidden layer", "mean ‖y_ℓ‖").log_y();
    for (l, learner) in Learner::ALL.iter().enumerate() {
        let runs: Vec<&Outcome> = per_learner[l]
            .iter()
            .filter(|o| o.diverged.is_none())
            .collect();
        let Some(first) = runs.first() else { continue };
        let points: Vec<(f64, f64)> = (0..first.activation_norms.len())
            .map(|layer| {
                let mean =
                    runs.iter().map(|o| o.activation_norms[layer]).sum::<f64>() / runs.len() as f64;
                ((layer + 1) as f64, mean.max(1e-12))
            })
            .collect();
        chart = chart.series(Series::line(learner.name(), points));
    }
    chart
}

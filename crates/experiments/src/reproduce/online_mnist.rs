//! `reproduce online-mnist`: paper B Fig. 1 — online learning (batch 1, one pass) of a 5-layer
//! softplus MLP by backprop, feedback alignment, FA + Oja and FA + eHebb, on MNIST and
//! Fashion-MNIST.
//!
//! Protocol (digest §1.9, the Fig. 1 script): 784-170-130-100-70-10, no biases, β = 10,
//! Xavier-uniform W and B, one shuffled pass over the 60,000 training images, test accuracy on a
//! fixed random 1,000-image test subset every 500 steps, fixed coefficients from the script
//! (FA θ0 = 0.0029; FA+Oja θ0 = 0.01, θ9 = 0.004; FA+eHebb θ0 = 0.0035, θ2 = −0.015). Seeds
//! share initial weights, feedback matrices and sample order across rules (paired comparison)
//! and run in parallel.

use std::{ops::ControlFlow, time::Instant};

use anyhow::Context as _;
use feedback_alignment::{Feedback, FeedbackKind, alignment_angles, evaluate, train_online};
use linalg::rng::{Stream, for_item, permutation, stream};
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

/// One learning rule of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NamedRule {
    /// Short name used in tables and legends.
    pub(crate) name: String,
    /// How errors travel backwards.
    pub(crate) feedback: FeedbackKind,
    /// The rule `Σ θ_r F_r`, shared by all layers.
    pub(crate) rule: Rule,
}

/// Configuration of `online-mnist`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OnlineConfig {
    /// The network (digest §1.9: 10 output units for MNIST).
    mlp: MlpConfig,
    /// Rules compared.
    rules: Vec<NamedRule>,
    /// Seeds per rule.
    n_seeds: usize,
    /// Training steps (one pass: 60,000).
    n_steps: usize,
    /// Evaluation period in steps.
    eval_every: usize,
    /// Size of the fixed test subset of the learning curves.
    eval_subset: usize,
    /// Accuracy that counts as "has started learning" for the onset metric.
    onset_accuracy: f64,
    /// Datasets, in order.
    datasets: Vec<String>,
}

impl OnlineConfig {
    fn new(quick: bool) -> OnlineConfig {
        OnlineConfig {
            mlp: MlpConfig {
                sizes: vec![784, 170, 130, 100, 70, 10],
                ..MlpConfig::default()
            },
            rules: paper_rules(),
            n_seeds: if quick { 2 } else { 10 },
            n_steps: if quick { 6_000 } else { 60_000 },
            eval_every: 500,
            eval_subset: 1_000,
            onset_accuracy: 0.5,
            datasets: if quick {
                vec!["mnist".into()]
            } else {
                vec!["mnist".into(), "fashion-mnist".into()]
            },
        }
    }
}

/// The four rules of Fig. 1 with the Fig. 1 script's coefficients (digest §1.4).
pub(crate) fn paper_rules() -> Vec<NamedRule> {
    // Deviation: the script's FA+eHebb adds 0.015·e_ℓ(e_{ℓ−1} + 0.01)ᵀ; the offset term is left
    // out (θ2 = −0.015 is the eHebb part). BP uses FA's θ0 so the pair differs only in B.
    vec![
        NamedRule {
            name: "BP".into(),
            feedback: FeedbackKind::Backprop,
            rule: Rule::pseudo_gradient(0.0029),
        },
        NamedRule {
            name: "FA".into(),
            feedback: FeedbackKind::Fixed,
            rule: Rule::pseudo_gradient(0.0029),
        },
        NamedRule {
            name: "FA+Oja".into(),
            feedback: FeedbackKind::Fixed,
            rule: Rule::oja(0.01, 0.004),
        },
        NamedRule {
            name: "FA+eHebb".into(),
            feedback: FeedbackKind::Fixed,
            rule: Rule::ehebb(0.0035, -0.015),
        },
    ]
}

/// What one (rule, seed) run produced.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RunResult {
    /// Subset accuracy at steps 0, eval_every, 2·eval_every, …
    pub(crate) curve: Vec<f64>,
    /// Accuracy on the full test set after the pass.
    pub(crate) final_accuracy: f64,
    /// Alignment angles (degrees) of hidden layers 1..L−1 to the BP signal at the first evaluation
    /// after step 0, and at the end.
    pub(crate) early_angles: Vec<f64>,
    /// Same, at the end of training.
    pub(crate) final_angles: Vec<f64>,
}

/// The fixed part of a grid of online runs: network, data, budget and master seed.
pub(crate) struct Protocol<'a> {
    /// The network.
    pub(crate) mlp: &'a MlpConfig,
    /// Master seed; run `seed_idx` draws its streams with `for_item(seed, …, seed_idx)`.
    pub(crate) seed: u64,
    /// Training set (visited in a per-seed shuffled order).
    pub(crate) train: &'a ImageSet,
    /// Steps of the online pass.
    pub(crate) n_steps: usize,
    /// Evaluation period.
    pub(crate) eval_every: usize,
    /// The fixed evaluation subset of the learning curve.
    pub(crate) eval: &'a ImageSet,
    /// The full test set, evaluated at the end.
    pub(crate) test: &'a ImageSet,
}

/// Trains one network online and records its learning curve.
pub(crate) fn run_one(
    protocol: &Protocol<'_>,
    rule: &NamedRule,
    seed_idx: u64,
) -> anyhow::Result<RunResult> {
    let Protocol {
        mlp,
        seed,
        train,
        n_steps,
        eval_every,
        eval,
        test,
    } = *protocol;
    let mut net = Mlp::<f32>::new(mlp, &mut for_item(seed, Stream::Init, seed_idx))?;
    let mut feedback = Feedback::new(
        rule.feedback,
        net.sizes(),
        1.0,
        &mut for_item(seed, Stream::Feedback, seed_idx),
    )?;
    let order = permutation(train.len(), &mut for_item(seed, Stream::Shuffle, seed_idx));
    let order = &order[..n_steps.min(order.len())];
    let rules = RuleSet::from(rule.rule);
    let angle_samples: Vec<usize> = (0..eval.len().min(200)).collect();
    let hidden_angles =
        |net: &Mlp<f32>, feedback: &mut Feedback<f32>| -> anyhow::Result<Vec<f64>> {
            let angles = alignment_angles(net, feedback, eval.samples(&angle_samples))?;
            let n_layers = net.n_layers();
            Ok((1..n_layers)
                .map(|layer| angles[layer].unwrap_or(f64::NAN))
                .collect())
        };
    let mut curve = vec![evaluate(&net, &eval.pixels, &eval.labels)?];
    let mut eval_error = None;
    let mut early_angles = Vec::new();
    let mut early_feedback = feedback.clone();
    train_online(
        &mut net,
        &mut feedback,
        &rules,
        train.samples(order),
        |stats| {
            let done = stats.step + 1;
            if done % eval_every == 0 {
                match evaluate(stats.net, &eval.pixels, &eval.labels) {
                    Ok(acc) => curve.push(acc),
                    Err(err) => {
                        eval_error = Some(
                            anyhow::Error::from(err).context(format!("evaluating at step {done}")),
                        );
                        return ControlFlow::Break(());
                    }
                }
                if done == eval_every {
                    match hidden_angles(stats.net, &mut early_feedback) {
                        Ok(angles) => early_angles = angles,
                        Err(err) => {
                            eval_error =
                                Some(err.context(format!("alignment angles at step {done}")));
                            return ControlFlow::Break(());
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        },
    )
    .with_context(|| format!("{} seed {seed_idx}", rule.name))?;
    if let Some(err) = eval_error {
        return Err(err.context(format!("{} seed {seed_idx}", rule.name)));
    }
    let final_angles = hidden_angles(&net, &mut feedback)?;
    let final_accuracy = evaluate(&net, &test.pixels, &test.labels)?;
    Ok(RunResult {
        curve,
        final_accuracy,
        early_angles,
        final_angles,
    })
}

/// First evaluation step at which the subset accuracy reaches `threshold` (the last step + one
/// period if never).
fn onset_step(curve: &[f64], eval_every: usize, threshold: f64) -> f64 {
    curve
        .iter()
        .position(|&acc| acc >= threshold)
        .unwrap_or(curve.len()) as f64
        * eval_every as f64
}

/// Runs the experiment.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(OnlineConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "online-mnist",
        "Online learning with backprop, feedback alignment and plasticity rules (paper B Fig. 1)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let mut columns = vec!["dataset_idx".to_string(), "step".to_string()];
    for rule in &config.rules {
        columns.push(format!("{}_mean", rule.name));
        columns.push(format!("{}_ci_low", rule.name));
        columns.push(format!("{}_ci_high", rule.name));
    }
    let column_refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut metrics = Metrics::new(&column_refs);
    let mut loaded = Vec::with_capacity(config.datasets.len());
    for dataset_name in &config.datasets {
        let dataset = match dataset_name.as_str() {
            "fashion-mnist" => Dataset::FashionMnist,
            _ => Dataset::Mnist,
        };
        let data = load_mnist_like(ctx, dataset, &mut report)?;
        let eval_indices: Vec<usize> = {
            let mut order = permutation(data.test.len(), &mut stream(ctx.seed, Stream::Evaluation));
            order.truncate(config.eval_subset);
            order
        };
        let eval = data.test.select(&eval_indices);
        loaded.push((data, eval));
    }
    let protocols: Vec<Protocol<'_>> = loaded
        .iter()
        .map(|(data, eval)| Protocol {
            mlp: &config.mlp,
            seed: ctx.seed,
            train: &data.train,
            n_steps: config.n_steps,
            eval_every: config.eval_every,
            eval,
            test: &data.test,
        })
        .collect();
    // The units: one online pass per (dataset, rule, seed), all run in parallel.
    let jobs: Vec<(usize, usize, usize)> = (0..config.datasets.len())
        .flat_map(|d| {
            (0..config.rules.len()).flat_map(move |r| (0..config.n_seeds).map(move |s| (d, r, s)))
        })
        .collect();
    let ids: Vec<String> = jobs
        .iter()
        .map(|&(d, r, s)| format!("{}-{}-seed{s}", config.datasets[d], config.rules[r].name))
        .collect();
    let started = Instant::now();
    let runs: Vec<RunResult> = ctx.units("online-mnist", &ids, |positions| {
        positions
            .par_iter()
            .map(|&p| {
                let (d, r, s) = jobs[p];
                run_one(&protocols[d], &config.rules[r], s as u64)
            })
            .collect()
    })?;
    report.timing(
        &format!(
            "{} datasets × {} rules × {} seeds × {} steps",
            config.datasets.len(),
            config.rules.len(),
            config.n_seeds,
            config.n_steps
        ),
        started.elapsed().as_secs_f64(),
    );
    let mut grouped: Vec<Vec<Vec<RunResult>>> =
        vec![vec![Vec::new(); config.rules.len()]; config.datasets.len()];
    for (&(d, r, _), run) in jobs.iter().zip(runs) {
        grouped[d][r].push(run);
    }
    for ((dataset_idx, dataset_name), results) in config.datasets.iter().enumerate().zip(grouped) {
        let n_points = results[0][0].curve.len();
        let mut chart = LineChart::new(
            &format!(
                "Online learning on {dataset_name} (mean over {} seeds, 95 % CI)",
                config.n_seeds
            ),
            "training step",
            "test accuracy (1,000-image subset)",
        )
        .y_range(0.0, 1.0);
        let mut summaries: Vec<Vec<SeedSummary>> = Vec::new();
        for (rule_idx, rule) in config.rules.iter().enumerate() {
            let per_point: Vec<SeedSummary> = (0..n_points)
                .map(|p| {
                    let values: Vec<f64> = results[rule_idx].iter().map(|r| r.curve[p]).collect();
                    summarize(&values, ctx.seed ^ (p as u64) << 8 ^ rule_idx as u64)
                })
                .collect();
            let steps = (0..n_points).map(|p| (p * config.eval_every) as f64);
            let line: Vec<(f64, f64)> = steps
                .clone()
                .zip(&per_point)
                .map(|(x, s)| (x, s.mean))
                .collect();
            let band: Vec<(f64, f64, f64)> = steps
                .zip(&per_point)
                .map(|(x, s)| (x, s.low, s.high))
                .collect();
            chart = chart.series(Series::line(&rule.name, line).with_band(band));
            summaries.push(per_point);
        }
        for p in 0..n_points {
            let mut row = vec![dataset_idx as f64, (p * config.eval_every) as f64];
            for per_point in &summaries {
                row.extend([per_point[p].mean, per_point[p].low, per_point[p].high]);
            }
            metrics.push(row);
        }
        report.figure(
            &format!("learning_curves_{dataset_name}"),
            &format!("{dataset_name}: test accuracy during one online pass (shaded: 95 % bootstrap CI over seeds)"),
            chart,
        );
        rows_for_dataset(&mut report, &config, dataset_name, &results, ctx.seed)?;
    }
    report.metrics(metrics);
    report.note(format!(
        "Claims checked (paper B Fig. 1a): FA \"only begins to effectively learn after about 2000 iterations\"; BP learns \
         much faster; adding Oja or eHebb to FA improves it. The onset is the first evaluation step (every {} steps) at \
         which the subset accuracy reaches {}; differences are paired (same initial weights, feedback matrices and sample \
         order per seed). CIs are 95 % percentile-bootstrap intervals over {} seeds.",
        config.eval_every, config.onset_accuracy, config.n_seeds
    ));
    Ok(report)
}

fn rows_for_dataset(
    report: &mut Report,
    config: &OnlineConfig,
    dataset_name: &str,
    results: &[Vec<RunResult>],
    seed: u64,
) -> anyhow::Result<()> {
    let rule_idx = |name: &str| {
        config
            .rules
            .iter()
            .position(|r| r.name == name)
            .expect("the paper's four rules are configured")
    };
    let (bp, fa, oja, ehebb) = (
        rule_idx("BP"),
        rule_idx("FA"),
        rule_idx("FA+Oja"),
        rule_idx("FA+eHebb"),
    );
    let per_seed = |rule: usize, f: &dyn Fn(&RunResult) -> f64| -> Vec<f64> {
        results[rule].iter().map(f).collect()
    };
    let onset = |r: &RunResult| onset_step(&r.curve, config.eval_every, config.onset_accuracy);
    let at_2000 = (2000 / config.eval_every).min(results[0][0].curve.len() - 1);
    let paired = |a: usize, b: usize, p: usize| -> Vec<f64> {
        results[a]
            .iter()
            .zip(&results[b])
            .map(|(x, y)| x.curve[p] - y.curve[p])
            .collect()
    };
    let fa_onset = summarize(&per_seed(fa, &onset), seed ^ 1);
    let bp_onset = summarize(&per_seed(bp, &onset), seed ^ 2);
    let prefix = |metric: &str| format!("{dataset_name}: {metric}");
    let paired_onset = |a: usize, b: usize| -> Vec<f64> {
        results[a]
            .iter()
            .zip(&results[b])
            .map(|(x, y)| onset(x) - onset(y))
            .collect()
    };
    let fa_late = summarize(&paired_onset(fa, bp), seed ^ 7);
    let oja_early = summarize(&paired_onset(fa, oja), seed ^ 8);
    report.check(
        &prefix("FA onset − BP onset, steps (paired, CI low end)"),
        "BP, same seeds in this run: FA starts later (B Fig. 1a)",
        fa_late.low,
        Band::Above(0.0),
        Domain::Real,
    )?;
    report.check(
        &prefix("FA onset − FA+Oja onset, steps (paired, CI low end)"),
        "FA, same seeds in this run: Oja makes FA start earlier (B Fig. 1a)",
        oja_early.low,
        Band::Above(0.0),
        Domain::Real,
    )?;
    if dataset_name == "mnist" {
        report.claim(
            "FA \"only begins to effectively learn after about 2000 iterations\" (B Fig. 1a; tolerance ±1,000, digest §1.8)",
            "FA onset step, mean over seeds",
            fa_onset.display(),
            (1_000.0..=3_000.0).contains(&fa_onset.mean),
        );
        report.claim(
            "BP learns within a few hundred steps (B Fig. 1a)",
            "BP onset step, mean over seeds (≤ 1,000 counts as supported)",
            bp_onset.display(),
            bp_onset.mean <= 1_000.0,
        );
    }
    let gap_bp = summarize(&paired(bp, fa, at_2000), seed ^ 3);
    let gap_oja = summarize(&paired(oja, fa, at_2000), seed ^ 4);
    let gap_ehebb = summarize(&paired(ehebb, fa, at_2000), seed ^ 5);
    let step_label = at_2000 * config.eval_every;
    report.check(
        &prefix(&format!(
            "BP − FA accuracy at step {step_label} (paired, CI low end)"
        )),
        "FA, same seeds in this run: BP learns faster (B Fig. 1a)",
        gap_bp.low,
        Band::Above(0.0),
        Domain::Real,
    )?;
    report.check(
        &prefix(&format!(
            "FA+Oja − FA accuracy at step {step_label} (paired, CI low end)"
        )),
        "FA, same seeds in this run: Oja makes FA learn faster (B Fig. 1a)",
        gap_oja.low,
        Band::Above(0.0),
        Domain::Real,
    )?;
    report.check(
        &prefix(&format!(
            "FA+eHebb − FA accuracy at step {step_label} (paired, mean)"
        )),
        "FA, same seeds in this run: eHebb improves FA (B Fig. 1a)",
        gap_ehebb.mean,
        Band::Above(0.0),
        Domain::Real,
    )?;
    let finals: Vec<SeedSummary> = (0..config.rules.len())
        .map(|r| summarize(&per_seed(r, &|x| x.final_accuracy), seed ^ (10 + r as u64)))
        .collect();
    let early_fa_angle = summarize(
        &results[fa]
            .iter()
            .map(|r| r.early_angles.iter().sum::<f64>() / r.early_angles.len().max(1) as f64)
            .collect::<Vec<_>>(),
        seed ^ 6,
    );
    if dataset_name == "mnist" {
        report.check(
            &prefix(&format!(
                "FA mean hidden-layer angle to BP at step {}",
                config.eval_every
            )),
            "B Fig. 1b: FA is not aligned early (large angles)",
            early_fa_angle.mean,
            Band::AtLeast(45.0),
            Domain::Degrees,
        )?;
    }
    let mut table = format!(
        "**{dataset_name}**: final accuracy on the full 10,000-image test set, mean [95 % CI] over {} seeds; \
         learning onset; mean alignment angle of hidden layers to the BP signal (early → end).\n\n\
         | rule | final test accuracy | onset step | angle early (°) | angle end (°) |\n|---|---|---|---|---|\n",
        config.n_seeds
    );
    for (r, rule) in config.rules.iter().enumerate() {
        let onset_summary = summarize(&per_seed(r, &onset), seed ^ (20 + r as u64));
        let mean_angle = |f: &dyn Fn(&RunResult) -> &Vec<f64>| {
            let v: Vec<f64> = results[r]
                .iter()
                .map(|x| f(x).iter().sum::<f64>() / f(x).len().max(1) as f64)
                .collect();
            summarize(&v, seed ^ (30 + r as u64)).mean
        };
        table.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} |\n",
            rule.name,
            finals[r].display(),
            onset_summary.mean,
            mean_angle(&|x| &x.early_angles),
            mean_angle(&|x| &x.final_angles),
        ));
    }
    table.push_str(&format!(
        "\nPaired accuracy gaps at step {step_label}: BP − FA {}, FA+Oja − FA {}, FA+eHebb − FA {}.",
        gap_bp.display(),
        gap_oja.display(),
        gap_ehebb.display()
    ));
    report.note(table);
    Ok(())
}

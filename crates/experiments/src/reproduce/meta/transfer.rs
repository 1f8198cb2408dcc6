//! `reproduce meta-transfer`: do the learned rules transfer? FA (θ₀ alone) and F^bio are
//! meta-trained on 35 of the 47 EMNIST classes, and their final Θ is then evaluated, frozen, on
//! new tasks from those classes, on tasks from the 12 held-out EMNIST classes, and on 5-way MNIST
//! and Fashion-MNIST tasks (test splits). Paper B has no held-out classes (digest §1.1); its
//! Supplementary benchmarks MNIST and Fashion-MNIST.

use std::time::Instant;

use feedback_alignment::FeedbackKind;
use meta_plasticity::{ImagePool, MetaConfig, Phase, RuleFamily, run_episode};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    data::Dataset,
    report::{Band, Domain, Report},
    reproduce::{
        Context,
        image_data::{SeedSummary, summarize},
        meta::{
            Finished, Trained, accuracy_chart, by_variant, divergence_note, episode_metrics,
            load_emnist, load_mnist_like_test, mask_gradient_modes, paired, set_gradient_mode,
            theta_chart, train_all,
        },
    },
};

/// Configuration of `meta-transfer`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TransferConfig {
    /// `(name, config)` of FA and F^bio, meta-trained without the held-out classes.
    variants: Vec<(String, MetaConfig)>,
    /// Seeds per variant.
    n_seeds: usize,
    /// Evaluation episodes per (variant, seed, test set), Θ frozen.
    n_eval_episodes: usize,
    /// "Transfers to held-out classes": |meta-train classes − held-out| accuracy below this.
    transfer_tolerance: f64,
}

impl TransferConfig {
    fn new(quick: bool) -> TransferConfig {
        let held_out: Vec<usize> = (0..47).filter(|c| c % 4 == 0).collect();
        let variant = |name: &str, rule| {
            let mut config = MetaConfig::paper(rule, FeedbackKind::Fixed);
            config.n_episodes = if quick { 30 } else { 600 };
            config.episode.held_out_classes = held_out.clone();
            (name.to_string(), config)
        };
        TransferConfig {
            variants: vec![
                variant("FA", RuleFamily::PseudoGradient),
                variant("F^bio", RuleFamily::Bio),
            ],
            n_seeds: if quick { 2 } else { 10 },
            n_eval_episodes: if quick { 5 } else { 50 },
            transfer_tolerance: 0.05,
        }
    }
}

/// One evaluation set: a pool, the classes tasks are drawn from and the phase.
struct EvalSet<'a> {
    name: &'static str,
    pool: &'a ImagePool,
    /// `None`: the training config's held-out classes; `Some(classes)`: these classes.
    classes: Option<Vec<usize>>,
    phase: Phase,
    /// First episode index (new tasks of the meta-train classes start after training's).
    first_episode: usize,
}

/// The configuration `ctx` runs: the defaults of its mode and protocol, then `--seeds`,
/// `--config` and `--set`, with the meta-gradient mode of `--gradient` resolved
/// ([`set_gradient_mode`]).
fn configured(ctx: &Context) -> anyhow::Result<TransferConfig> {
    let mut config = TransferConfig::new(ctx.quick);
    config.n_seeds = ctx.seeds.unwrap_or(config.n_seeds);
    set_gradient_mode(&mut config.variants, ctx.gradient);
    let mut config = ctx.configure_masked(config, mask_gradient_modes)?;
    set_gradient_mode(&mut config.variants, ctx.gradient);
    Ok(config)
}

/// The `(name, config)` variants and the seed count `ctx` trains.
#[cfg(test)]
pub(super) fn planned(ctx: &Context) -> anyhow::Result<(Vec<(String, MetaConfig)>, usize)> {
    let config = configured(ctx)?;
    Ok((config.variants, config.n_seeds))
}

/// Runs the experiment.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Report> {
    let config = configured(ctx)?;
    let mut report = Report::new(
        "meta-transfer",
        "Transfer of meta-learned plasticity rules to held-out classes and other datasets",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let emnist = load_emnist(ctx, &mut report)?;
    let mnist = load_mnist_like_test(ctx, Dataset::Mnist, &mut report)?;
    let fashion = load_mnist_like_test(ctx, Dataset::FashionMnist, &mut report)?;
    let Trained {
        specs, finished, ..
    } = train_all(
        ctx,
        "meta-transfer",
        &config.variants,
        config.n_seeds,
        &emnist,
        &mut report,
    )?;
    let n_episodes = config.variants[0].1.n_episodes;

    let digits: Vec<usize> = (0..10).collect();
    let sets = [
        EvalSet {
            name: "EMNIST, meta-train classes (new tasks)",
            pool: &emnist,
            classes: None,
            phase: Phase::MetaTrain,
            first_episode: n_episodes,
        },
        EvalSet {
            name: "EMNIST, 12 held-out classes",
            pool: &emnist,
            classes: None,
            phase: Phase::MetaTest,
            first_episode: 0,
        },
        EvalSet {
            name: "MNIST test, 5-way",
            pool: &mnist,
            classes: Some(digits.clone()),
            phase: Phase::MetaTest,
            first_episode: 0,
        },
        EvalSet {
            name: "Fashion-MNIST test, 5-way",
            pool: &fashion,
            classes: Some(digits),
            phase: Phase::MetaTest,
            first_episode: 0,
        },
    ];
    let started = Instant::now();
    // accuracy[set][run] = mean query accuracy over the evaluation episodes.
    let Evaluation { accuracy, diverged } =
        evaluate(&specs, &finished, &sets, config.n_eval_episodes)?;
    report.timing(
        &format!(
            "evaluation: {} sets × {} runs × {} episodes",
            sets.len(),
            specs.len(),
            config.n_eval_episodes
        ),
        started.elapsed().as_secs_f64(),
    );
    let n_seeds = config.n_seeds;
    let seed = ctx.seed;
    let (fa, bio) = (0..n_seeds, n_seeds..2 * n_seeds);
    let mut table = format!(
        "Query accuracy with Θ frozen after meta-training, mean [95 % CI] over {n_seeds} seeds of the mean over \
         {} evaluation episodes:\n\n| test set | FA | F^bio | F^bio − FA (paired) |\n|---|---|---|---|\n",
        config.n_eval_episodes
    );
    let mut gaps: Vec<SeedSummary> = Vec::new();
    for (s, set) in sets.iter().enumerate() {
        let a_fa = &accuracy[s][fa.clone()];
        let a_bio = &accuracy[s][bio.clone()];
        let fa_sum = summarize(a_fa, seed ^ (s as u64 * 3 + 1));
        let bio_sum = summarize(a_bio, seed ^ (s as u64 * 3 + 2));
        let gap = summarize(&paired(a_bio, a_fa), seed ^ (s as u64 * 3 + 3));
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            set.name,
            fa_sum.display(),
            bio_sum.display(),
            gap.display()
        ));
        report.claim(
            &format!(
                "The learned F^bio beats the learned FA rule on {}",
                set.name
            ),
            "F^bio − FA query accuracy, paired by seed",
            gap.display(),
            gap.low > 0.0,
        );
        gaps.push(bio_sum);
    }
    let in_dist = &accuracy[0][bio.clone()];
    let held_out = &accuracy[1][bio.clone()];
    let transfer = summarize(&paired(in_dist, held_out), seed ^ 40);
    report.claim(
        "F^bio learned on 35 classes works as well on the 12 held-out EMNIST classes",
        &format!(
            "meta-train classes − held-out classes accuracy, F^bio, paired; |mean| ≤ {} counts",
            config.transfer_tolerance
        ),
        transfer.display(),
        transfer.mean.abs() <= config.transfer_tolerance,
    );
    let held_out_fa = summarize(&accuracy[1][fa.clone()], seed ^ 41);
    if ctx.quick {
        report.measurement(
            "FA accuracy on held-out EMNIST classes (mean over seeds)",
            held_out_fa.mean,
            "5-way chance is 0.2; 30 episodes cannot reach FA's plateau",
        );
    } else {
        report.check(
            "F^bio accuracy on held-out EMNIST classes (mean over seeds)",
            "5-way chance (0.2): the rule transfers to classes it never saw (B §5)",
            gaps[1].mean,
            Band::Above(0.2),
            Domain::Fraction,
        )?;
    }
    report.note(table);
    let diverged_note: Vec<String> = sets
        .iter()
        .zip(&diverged)
        .map(|(set, per_run)| {
            let fa_count: usize = per_run[fa.clone()].iter().sum();
            let bio_count: usize = per_run[bio.clone()].iter().sum();
            format!("{}: FA {fa_count}, F^bio {bio_count}", set.name)
        })
        .collect();
    report.note(format!(
        "Evaluation episodes whose inner loop diverged (counted as accuracy 0), of {} per variant and set: {}.",
        n_seeds * config.n_eval_episodes,
        diverged_note.join("; ")
    ));
    report.note(format!(
        "Protocol: held-out EMNIST classes are those with balanced label ≡ 0 (mod 4): {:?} (digits 0, 4, 8 and nine \
         letters); meta-training draws its tasks from the other 35 classes ({n_episodes} episodes, λ = 0, FA feedback). \
         Θ is then frozen and each (variant, seed) runs {} further episodes per test set with fresh W and B: new tasks \
         of the meta-train classes, tasks of the held-out classes, and 5-way tasks of the MNIST and Fashion-MNIST test \
         splits (50 training + 10 query images per class, 47 output units as in meta-training). Evaluation tasks, \
         initial weights and feedback matrices are shared by FA and F^bio at the same seed (paired).",
        config.variants[0].1.episode.held_out_classes,
        config.n_eval_episodes
    ));
    let names: Vec<String> = config.variants.iter().map(|(n, _)| n.clone()).collect();
    let groups = by_variant(finished, n_seeds);
    report.note(divergence_note(&names, &groups));
    report.figure(
        "accuracy",
        "Meta-training on the 35 meta-train classes (10-episode moving average; shaded: 95 % CI over seeds)",
        accuracy_chart("Meta-training without the held-out classes", &names, &groups, seed),
    );
    report.figure(
        "theta",
        "Θ during meta-training (mean and 95 % CI over seeds)",
        theta_chart(
            "Meta-learned coefficients",
            &names,
            &groups,
            &[0, 2, 9],
            seed,
        ),
    );
    report.metrics(episode_metrics(&groups, seed));
    Ok(report)
}

/// Mean query accuracy of every run on every set, `[set][run]`, with Θ frozen (no gradient, no
/// diagnostics); all (set, run, episode) jobs in parallel.
fn evaluate(
    specs: &[super::RunSpec],
    finished: &[Finished],
    sets: &[EvalSet<'_>],
    n_eval: usize,
) -> anyhow::Result<Evaluation> {
    let jobs: Vec<(usize, usize, usize)> = (0..sets.len())
        .flat_map(|s| (0..specs.len()).flat_map(move |r| (0..n_eval).map(move |e| (s, r, e))))
        .collect();
    let accuracies = jobs
        .par_iter()
        .map(|&(s, r, e)| {
            let set = &sets[s];
            let mut config = specs[r].config.clone();
            config.diagnostics = false;
            if let Some(classes) = &set.classes {
                config.episode.held_out_classes = classes.clone();
            }
            let episode = set.first_episode + e;
            let outcome = run_episode::<f32>(
                &config,
                set.pool,
                &finished[r].theta,
                episode,
                set.phase,
                false,
            );
            match outcome {
                Ok(stats) => Ok((stats.query_accuracy, false)),
                // As in meta-training: a diverged network classifies nothing correctly.
                Err(meta_plasticity::Error::Diverged { .. }) => Ok((0.0, true)),
                Err(err) => Err(anyhow::Error::from(err).context(format!(
                    "evaluating {} seed {} on {} (episode {episode})",
                    specs[r].variant, specs[r].seed_idx, set.name
                ))),
            }
        })
        .collect::<anyhow::Result<Vec<(f64, bool)>>>()?;
    let mut accuracy = vec![vec![0.0; specs.len()]; sets.len()];
    let mut diverged = vec![vec![0usize; specs.len()]; sets.len()];
    for (&(s, r, _), (acc, failed)) in jobs.iter().zip(accuracies) {
        accuracy[s][r] += acc / n_eval as f64;
        diverged[s][r] += usize::from(failed);
    }
    Ok(Evaluation { accuracy, diverged })
}

/// Evaluation results, `[set][run]`.
struct Evaluation {
    /// Mean query accuracy over the evaluation episodes (diverged episodes count 0).
    accuracy: Vec<Vec<f64>>,
    /// Evaluation episodes whose inner loop diverged.
    diverged: Vec<Vec<usize>>,
}

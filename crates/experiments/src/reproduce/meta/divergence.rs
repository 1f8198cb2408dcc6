//! Why meta-training episodes diverged: every diverged episode (up to [`REPLAYED_PER_SEED`] per
//! seed) is run again, exactly as in training, to read the step and quantity the training
//! episode stopped at, and replayed step by step ([`meta_plasticity::episode_divergence_site`])
//! to find the layer and quantity that first became non-finite and how much each layer's weights
//! had grown by then. Per seed: when it diverged, whether it recovered, and its accuracy with the
//! diverged episodes counted as 0 and left out.

use std::{collections::BTreeMap, fmt::Write as _};

use meta_plasticity::{
    DivergenceSite, Error, ImagePool, Phase, episode_divergence_site, run_episode,
};
use rayon::prelude::*;

use super::{Finished, RunSpec};

/// Diverged episodes replayed per seed (the first ones), bounding the report's cost when a run
/// diverges often.
pub(super) const REPLAYED_PER_SEED: usize = 10;

/// Episodes before the first divergence and at the end compared for "recovers".
const WINDOW: usize = 50;

/// What one diverged episode's rerun and replay found.
#[derive(Debug, Clone)]
struct Diagnosis {
    /// The training episode's own detector: `(step, what)` of its `Error::Diverged`, or `None`
    /// when the rerun did not diverge.
    detector: Option<(usize, &'static str)>,
    /// The step-by-step replay's first non-finite quantity, or `None` when the plain inner loop
    /// stayed finite (only the meta-gradient's tangents or checkpoints overflowed).
    site: Option<DivergenceSite>,
}

/// Reruns and replays episode `stats_idx` of `run` (a diverged one).
fn diagnose(
    spec: &RunSpec,
    run: &Finished,
    episode: usize,
    pool: &ImagePool,
) -> anyhow::Result<Diagnosis> {
    let theta = run.history[episode].theta;
    let detector =
        match run_episode::<f32>(&spec.config, pool, &theta, episode, Phase::MetaTrain, true) {
            Err(Error::Diverged { step, what, .. }) => Some((step, what)),
            Ok(_) => None,
            Err(err) => return Err(err.into()),
        };
    let site =
        episode_divergence_site::<f32>(&spec.config, pool, &theta, episode, Phase::MetaTrain)?;
    Ok(Diagnosis { detector, site })
}

/// Mean query accuracy over `stats`, with diverged episodes counted as 0 and left out.
fn accuracy(stats: &[meta_plasticity::EpisodeStats]) -> (f64, f64) {
    let counted = stats.iter().map(|s| s.query_accuracy).sum::<f64>() / stats.len().max(1) as f64;
    let kept: Vec<f64> = stats
        .iter()
        .filter(|s| !s.is_diverged())
        .map(|s| s.query_accuracy)
        .collect();
    let excluded = if kept.is_empty() {
        f64::NAN
    } else {
        kept.iter().sum::<f64>() / kept.len() as f64
    };
    (counted, excluded)
}

/// `layer` and `quantity` of a site as text, with the largest weight growth before it.
fn describe(site: Option<&DivergenceSite>) -> (String, String) {
    match site {
        Some(site) => {
            let (layer, growth) =
                site.weight_growth
                    .iter()
                    .enumerate()
                    .fold(
                        (0, 0.0),
                        |best, (idx, &g)| {
                            if g > best.1 { (idx + 1, g) } else { best }
                        },
                    );
            (
                format!(
                    "step {}, layer {}, {}",
                    site.step,
                    site.layer,
                    site.quantity.name()
                ),
                format!("×{growth:.3e} (W{layer})"),
            )
        }
        None => (
            "stays finite (only the meta-gradient overflowed)".to_string(),
            "—".to_string(),
        ),
    }
}

/// The divergence analysis of every variant with diverged episodes, as a Markdown note; `None`
/// when no episode diverged. `groups[v][k]` is seed `k` of variant `v`, run as
/// `specs[v · n_seeds + k]`.
pub(super) fn analysis(
    names: &[String],
    groups: &[Vec<Finished>],
    specs: &[RunSpec],
    pool: &ImagePool,
) -> anyhow::Result<Option<String>> {
    let n_seeds = groups.first().map_or(0, Vec::len);
    // (variant, seed, episode) of every diverged episode to replay.
    let jobs: Vec<(usize, usize, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(v, runs)| {
            runs.iter().enumerate().flat_map(move |(k, run)| {
                run.history
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.is_diverged())
                    .take(REPLAYED_PER_SEED)
                    .map(move |(episode, _)| (v, k, episode))
            })
        })
        .collect();
    if jobs.is_empty() {
        return Ok(None);
    }
    let diagnoses: Vec<Diagnosis> = jobs
        .par_iter()
        .map(|&(v, k, episode)| diagnose(&specs[v * n_seeds + k], &groups[v][k], episode, pool))
        .collect::<anyhow::Result<_>>()?;
    let by_job: BTreeMap<(usize, usize, usize), &Diagnosis> =
        jobs.iter().copied().zip(&diagnoses).collect();

    let mut note = format!(
        "Why episodes diverged: each seed's first {REPLAYED_PER_SEED} diverged episodes were run again exactly as in training \
         (the detector: the online step and the first non-finite quantity it saw; steps ≥ 250 are the query evaluation) \
         and replayed step by step without the meta-gradient (the first layer and quantity that became NaN or ∞, and the \
         largest growth of ‖W_ℓ‖_F from the episode's start to the last finite step). Accuracy over the {WINDOW} episodes \
         before the first divergence and over the last {WINDOW}, with diverged episodes counted as 0 / left out.\n"
    );
    for (v, runs) in groups.iter().enumerate() {
        let diverged_seeds: Vec<usize> = (0..runs.len())
            .filter(|&k| runs[k].history.iter().any(|s| s.is_diverged()))
            .collect();
        if diverged_seeds.is_empty() {
            continue;
        }
        let mut sites: BTreeMap<String, usize> = BTreeMap::new();
        for (&(jv, _, _), diagnosis) in &by_job {
            if jv == v {
                let key = diagnosis
                    .site
                    .as_ref()
                    .map_or("replay stays finite".to_string(), |s| {
                        format!("layer {} {}", s.layer, s.quantity.name())
                    });
                *sites.entry(key).or_default() += 1;
            }
        }
        let last: Vec<(f64, f64)> = runs
            .iter()
            .map(|run| accuracy(&run.history[run.history.len().saturating_sub(WINDOW)..]))
            .collect();
        let mean_of = |pick: fn(&(f64, f64)) -> f64| {
            let values: Vec<f64> = last.iter().map(pick).filter(|v| v.is_finite()).collect();
            values.iter().sum::<f64>() / values.len().max(1) as f64
        };
        let _ = writeln!(
            note,
            "\n**{}**: {} of {} seeds diverged; first non-finite quantity in the replays: {}. Last {WINDOW} episodes, mean over \
             all seeds: {:.4} with diverged episodes counted as 0, {:.4} with them left out.\n",
            names[v],
            diverged_seeds.len(),
            runs.len(),
            sites
                .iter()
                .map(|(key, count)| format!("{key} ×{count}"))
                .collect::<Vec<_>>()
                .join(", "),
            mean_of(|a| a.0),
            mean_of(|a| a.1),
        );
        note.push_str(
            "| seed | diverged | first | last | detector (first) | replay (first) | ‖W‖ growth before it | before first (0 / left out) | last 50 (0 / left out) |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for &k in &diverged_seeds {
            let history = &runs[k].history;
            let diverged: Vec<usize> = (0..history.len())
                .filter(|&i| history[i].is_diverged())
                .collect();
            let (first, last_diverged) = (diverged[0], diverged[diverged.len() - 1]);
            let diagnosis = by_job[&(v, k, first)];
            let detector = diagnosis
                .detector
                .map_or("no divergence on rerun".to_string(), |(step, what)| {
                    format!("step {step}, {what}")
                });
            let (replay, growth) = describe(diagnosis.site.as_ref());
            let before = accuracy(&history[first.saturating_sub(WINDOW)..first]);
            let _ = writeln!(
                note,
                "| {k} | {} | {first} | {last_diverged} | {detector} | {replay} | {growth} | {:.3} / {:.3} | {:.3} / {:.3} |",
                diverged.len(),
                before.0,
                before.1,
                last[k].0,
                last[k].1,
            );
        }
    }
    Ok(Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_diverged_episodes_as_zero_or_leaves_them_out() {
        let stats = |accuracy: f64, diverged: bool| meta_plasticity::EpisodeStats {
            episode: 0,
            phase: Phase::MetaTrain,
            classes: Vec::new(),
            query_accuracy: accuracy,
            query_loss: if diverged { f64::NAN } else { 1.0 },
            meta_loss: 1.0,
            theta: [0.0; 10],
            gradient: [0.0; 10],
            alignment_angles: Vec::new(),
            orthonormality: Vec::new(),
        };
        let (counted, excluded) =
            accuracy(&[stats(0.6, false), stats(0.0, true), stats(0.8, false)]);
        assert!((counted - 1.4 / 3.0).abs() < 1e-12);
        assert!((excluded - 0.7).abs() < 1e-12);
        assert!(accuracy(&[stats(0.0, true)]).1.is_nan());
    }
}

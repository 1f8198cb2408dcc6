//! Across-seed summaries of per-episode meta-training statistics and the figures and
//! `metrics.csv` built from them.

use meta_plasticity::EpisodeStats;
use plasticity_core::N_TERMS;

use crate::{
    report::{LineChart, Metrics, Series},
    reproduce::{
        image_data::{SeedSummary, summarize},
        meta::{Finished, MOVING_AVERAGE},
    },
};

/// Trailing moving average: entry `i` is the mean of the finite values among
/// `values[i+1−w ..= i]` (fewer at the start; NaN if none is finite).
pub(super) fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(window);
            let finite: Vec<f64> = values[from..=i]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if finite.is_empty() {
                f64::NAN
            } else {
                finite.iter().sum::<f64>() / finite.len() as f64
            }
        })
        .collect()
}

/// Per-seed curves of one quantity: `f(stats)` for every episode of every seed.
pub(super) fn curves(runs: &[Finished], f: impl Fn(&EpisodeStats) -> f64) -> Vec<Vec<f64>> {
    runs.iter()
        .map(|run| run.history.iter().map(&f).collect())
        .collect()
}

/// Mean and 95 % CI over seeds at every episode.
pub(super) fn summarize_curves(per_seed: &[Vec<f64>], seed: u64) -> Vec<SeedSummary> {
    let n = per_seed.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|i| {
            let values: Vec<f64> = per_seed
                .iter()
                .map(|c| c[i])
                .filter(|v| v.is_finite())
                .collect();
            summarize(&values, seed ^ ((i as u64) << 16))
        })
        .collect()
}

/// A line with its CI band, at x = 1, 2, … (episodes counted from 1); points without a finite
/// mean and CI are left out.
pub(super) fn band_series(name: &str, summaries: &[SeedSummary]) -> Series {
    xy_band_series(
        name,
        &summaries
            .iter()
            .enumerate()
            .map(|(i, s)| ((i + 1) as f64, *s))
            .collect::<Vec<_>>(),
    )
}

/// A line with its CI band at the given x; points without a finite mean and CI are left out.
pub(super) fn xy_band_series(name: &str, points: &[(f64, SeedSummary)]) -> Series {
    let finite: Vec<&(f64, SeedSummary)> = points
        .iter()
        .filter(|(_, s)| s.mean.is_finite() && s.low.is_finite() && s.high.is_finite())
        .collect();
    let line = finite.iter().map(|(x, s)| (*x, s.mean)).collect();
    let band = finite.iter().map(|(x, s)| (*x, s.low, s.high)).collect();
    Series::line(name, line).with_band(band)
}

/// Per seed, the mean of `f` over the last `window` episodes.
pub(super) fn late_mean(
    runs: &[Finished],
    window: usize,
    f: impl Fn(&EpisodeStats) -> f64,
) -> Vec<f64> {
    runs.iter()
        .map(|run| {
            let from = run.history.len().saturating_sub(window);
            let values: Vec<f64> = run.history[from..]
                .iter()
                .map(&f)
                .filter(|v| v.is_finite())
                .collect();
            values.iter().sum::<f64>() / values.len().max(1) as f64
        })
        .collect()
}

/// Per-seed differences `a − b` (paired by seed).
pub(super) fn paired(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// Mean hidden-layer alignment angle α₁…α_{L−1} of one episode (NaN without diagnostics).
pub(super) fn hidden_angle(stats: &EpisodeStats) -> f64 {
    let n = stats.alignment_angles.len();
    let angles: Vec<f64> = stats
        .alignment_angles
        .iter()
        .take(n.saturating_sub(1))
        .skip(1)
        .flatten()
        .copied()
        .collect();
    if angles.is_empty() {
        f64::NAN
    } else {
        angles.iter().sum::<f64>() / angles.len() as f64
    }
}

/// The accuracy figure: 10-episode moving average of query accuracy, mean and 95 % CI over seeds.
pub(super) fn accuracy_chart(
    title: &str,
    names: &[String],
    groups: &[Vec<Finished>],
    seed: u64,
) -> LineChart {
    let mut chart = LineChart::new(
        title,
        "episode",
        "query accuracy (10-episode moving average)",
    )
    .y_range(0.0, 1.0);
    for (v, (name, runs)) in names.iter().zip(groups).enumerate() {
        let smoothed: Vec<Vec<f64>> = curves(runs, |s| s.query_accuracy)
            .iter()
            .map(|c| moving_average(c, MOVING_AVERAGE))
            .collect();
        chart = chart.series(band_series(
            name,
            &summarize_curves(&smoothed, seed ^ (v as u64 + 1) << 40),
        ));
    }
    chart
}

/// θ_r trajectories (mean and CI over seeds) of the `terms` of each variant.
pub(super) fn theta_chart(
    title: &str,
    names: &[String],
    groups: &[Vec<Finished>],
    terms: &[usize],
    seed: u64,
) -> LineChart {
    let mut chart = LineChart::new(title, "episode", "θ_r (before the episode's meta-update)");
    for (v, (name, runs)) in names.iter().zip(groups).enumerate() {
        for &r in terms {
            let per_seed = curves(runs, |s| s.theta[r]);
            let label = if names.len() == 1 {
                format!("θ{r}")
            } else {
                format!("{name} θ{r}")
            };
            chart = chart.series(band_series(
                &label,
                &summarize_curves(&per_seed, seed ^ ((v * N_TERMS + r) as u64 + 7) << 40),
            ));
        }
    }
    chart
}

/// `metrics.csv`: per variant and episode, the across-seed means (and CI of the smoothed
/// accuracy) of accuracy, loss, Θ, hidden-layer angles and `E_W` per layer.
pub(super) fn episode_metrics(groups: &[Vec<Finished>], seed: u64) -> Metrics {
    let n_angles = groups
        .iter()
        .flatten()
        .flat_map(|r| r.history.first())
        .map(|s| s.alignment_angles.len())
        .max()
        .unwrap_or(0);
    let n_layers = groups
        .iter()
        .flatten()
        .flat_map(|r| r.history.first())
        .map(|s| s.orthonormality.len())
        .max()
        .unwrap_or(0);
    let mut columns: Vec<String> = [
        "variant_idx",
        "episode",
        "accuracy_ma10_mean",
        "accuracy_ma10_ci_low",
        "accuracy_ma10_ci_high",
        "query_accuracy_mean",
        "query_loss_mean",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    columns.extend((0..N_TERMS).map(|r| format!("theta{r}_mean")));
    columns.extend((0..n_angles).map(|l| format!("angle{l}_mean")));
    columns.extend((1..=n_layers).map(|l| format!("ew{l}_mean")));
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut metrics = Metrics::new(&refs);
    let mean_of = |values: Vec<f64>| -> f64 {
        let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            f64::NAN
        } else {
            finite.iter().sum::<f64>() / finite.len() as f64
        }
    };
    for (v, runs) in groups.iter().enumerate() {
        let smoothed: Vec<Vec<f64>> = curves(runs, |s| s.query_accuracy)
            .iter()
            .map(|c| moving_average(c, MOVING_AVERAGE))
            .collect();
        let summaries = summarize_curves(&smoothed, seed ^ (v as u64 + 1) << 40);
        for (episode, summary) in summaries.iter().enumerate() {
            let at = |f: &dyn Fn(&EpisodeStats) -> f64| -> f64 {
                mean_of(runs.iter().map(|r| f(&r.history[episode])).collect())
            };
            let mut row = vec![
                v as f64,
                episode as f64,
                summary.mean,
                summary.low,
                summary.high,
                at(&|s| s.query_accuracy),
                at(&|s| s.query_loss),
            ];
            row.extend((0..N_TERMS).map(|r| at(&|s| s.theta[r])));
            row.extend((0..n_angles).map(|l| {
                at(&|s| {
                    s.alignment_angles
                        .get(l)
                        .copied()
                        .flatten()
                        .unwrap_or(f64::NAN)
                })
            }));
            row.extend(
                (0..n_layers)
                    .map(|l| at(&|s| s.orthonormality.get(l).copied().unwrap_or(f64::NAN))),
            );
            metrics.push(row);
        }
    }
    metrics
}

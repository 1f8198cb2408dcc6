//! How `molvae-design` reports its results: rows with bands, the two claims per property, the
//! per-cell table, `metrics.csv` and the figures.

use linalg::Matrix;
use mol_vae::{
    EpochStats,
    metrics::{GenerationMetrics, PROPERTY_BOUNDS},
};

use super::{Achieved, Cell, HISTOGRAM_BINS};
use crate::{
    report::{Band, Domain, LineChart, Metrics, Report, Series},
    reproduce::molvae::{PROPERTY_NAMES, data::Draw, figures::step_points, loss_ratio},
};

/// `|mean − target|` in training-sd units.
fn error_sd(achieved: &Achieved, target: f64, sd: f64) -> f64 {
    (achieved.mean - target).abs() / sd
}

fn label(cell: &Cell) -> String {
    format!(
        "{} @ p{:.0} ({:.2})",
        PROPERTY_NAMES[cell.property],
        100.0 * cell.percentile,
        cell.target
    )
}

/// The pipeline's invariants (a violation is a bug, so an error) and the check that training
/// lowered the loss, in quick mode too.
pub(super) fn sanity_rows(
    report: &mut Report,
    draw: &Draw,
    x_train: &Matrix<f32>,
    history: &[EpochStats],
) -> anyhow::Result<()> {
    anyhow::ensure!(
        x_train.nrows() == 15_080,
        "the training features have {} rows, not 15,080 = 8 × 1,885 (C §2.4, §3.4)",
        x_train.nrows()
    );
    anyhow::ensure!(
        draw.train.len() + draw.n_skipped() == draw.n_examined,
        "train {} + skipped {} differ from the {} records examined",
        draw.train.len(),
        draw.n_skipped(),
        draw.n_examined
    );
    report.check(
        "last-epoch / first-epoch training loss",
        "the first epoch's loss, this run: training lowers the loss",
        loss_ratio(history),
        Band::AtMost(1.0),
        Domain::NonNegative,
    )
}

/// The measurements of one (property, target) cell: validity, uniqueness, and the distance of
/// the achieved mean from the target, conditional and baseline (paper C's values are not
/// available, digest §5.1; the comparison with the baseline is a check in
/// [`design_claims`]).
pub(super) fn design_rows(report: &mut Report, cell: &Cell, baseline: &Achieved, sd: f64) {
    let name = label(cell);
    report.measurement(
        &format!("{name}: validity"),
        cell.conditional.validity,
        "fraction of conditional samples",
    );
    report.measurement(
        &format!("{name}: uniqueness"),
        cell.conditional.uniqueness,
        "fraction of valid conditional samples",
    );
    report.measurement(
        &format!("{name}: |achieved mean − target| (training sd)"),
        error_sd(&cell.conditional, cell.target, sd),
        "conditional samples, unique valid",
    );
    report.measurement(
        &format!("{name}: baseline |mean − target| (training sd)"),
        error_sd(baseline, cell.target, sd),
        "unconditioned samples of the same model",
    );
}

/// The two claims of conditional design, per property: the achieved mean rises with the target,
/// and at the 10th and 90th percentile targets it is closer to the target than the baseline's.
/// Claims in both modes; in full mode also rows with bands (a failure fails the run).
pub(super) fn design_claims(
    report: &mut Report,
    cells: &[Cell],
    baseline: &GenerationMetrics,
    sd: &[f64],
    quick: bool,
) -> anyhow::Result<()> {
    for (k, name) in PROPERTY_NAMES.iter().enumerate() {
        let own: Vec<&Cell> = cells.iter().filter(|c| c.property == k).collect();
        let means: Vec<f64> = own.iter().map(|c| c.conditional.mean).collect();
        let steps = [(means[1] - means[0]) / sd[k], (means[2] - means[1]) / sd[k]];
        report.claim(
            &format!("{name}: the achieved mean rises with the target (C §3.4)"),
            "mean over unique valid samples at the p10, p50, p90 targets, strictly increasing",
            format!(
                "{:.3} → {:.3} → {:.3} (steps {:+.3}, {:+.3} training sd)",
                means[0], means[1], means[2], steps[0], steps[1]
            ),
            steps.iter().all(|s| *s > 0.0),
        );
        let base = Achieved::of(baseline, k);
        let mut closer = Vec::new();
        let mut text = Vec::new();
        for cell in [own[0], own[2]] {
            let ours = error_sd(&cell.conditional, cell.target, sd[k]);
            let theirs = error_sd(&base, cell.target, sd[k]);
            closer.push(ours < theirs);
            text.push(format!(
                "p{:.0}: {ours:.3} vs baseline {theirs:.3}",
                100.0 * cell.percentile
            ));
            if !quick {
                report.check(
                    &format!(
                        "{} @ p{:.0}: conditional / baseline |mean − target|",
                        name,
                        100.0 * cell.percentile
                    ),
                    "the unconditioned samples of the same model, this run: conditioning moves the samples towards the target (C §3.4)",
                    ours / theirs,
                    Band::Below(1.0),
                    Domain::NonNegative,
                )?;
            }
        }
        report.claim(
            &format!(
                "{name}: conditioning beats the unconditioned baseline at extreme targets (C §3.4)"
            ),
            "|achieved mean − target| in training sd, conditional vs unconditioned, at p10 and p90",
            text.join("; "),
            closer.iter().all(|c| *c),
        );
        if !quick {
            for (step, from_to) in steps.iter().zip(["p10 → p50", "p50 → p90"]) {
                report.check(
                    &format!("{name}: achieved mean step {from_to} (training sd)"),
                    "the achieved mean at the lower target, this run: it rises with the target (C §3.4)",
                    *step,
                    Band::Above(0.0),
                    Domain::Real,
                )?;
            }
        }
    }
    Ok(())
}

/// A Markdown table of every cell with the baseline's statistics.
pub(super) fn design_table(cells: &[Cell], baseline: &GenerationMetrics, sd: &[f64]) -> String {
    let mut text = String::from(
        "Conditional design per (property, target); achieved = over the unique valid samples; err = |mean − target| / training sd.\n\n| property | target | validity | uniqueness | n unique | mean | median | sd | err | baseline mean | baseline median | baseline sd | baseline err |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for cell in cells {
        let c = &cell.conditional;
        let b = Achieved::of(baseline, cell.property);
        text.push_str(&format!(
            "| {} | p{:.0} = {:.3} | {:.4} | {:.4} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            PROPERTY_NAMES[cell.property],
            100.0 * cell.percentile,
            cell.target,
            c.validity,
            c.uniqueness,
            c.n_unique,
            c.mean,
            c.median,
            c.sd,
            error_sd(c, cell.target, sd[cell.property]),
            b.mean,
            b.median,
            b.sd,
            error_sd(&b, cell.target, sd[cell.property]),
        ));
    }
    let b = Achieved::of(baseline, 0);
    text.push_str(&format!(
        "\nBaseline (unconditioned): validity {:.4}, uniqueness {:.4}, {} unique valid samples.\n",
        b.validity, b.uniqueness, b.n_unique
    ));
    text
}

/// `metrics.csv`: one row per (property, target) with the conditional and baseline statistics.
pub(super) fn design_metrics(cells: &[Cell], baseline: &GenerationMetrics, sd: &[f64]) -> Metrics {
    let mut metrics = Metrics::new(&[
        "property",
        "percentile",
        "target",
        "validity",
        "uniqueness",
        "n_unique",
        "mean",
        "median",
        "sd",
        "error_sd",
        "baseline_validity",
        "baseline_uniqueness",
        "baseline_mean",
        "baseline_median",
        "baseline_sd",
        "baseline_error_sd",
    ]);
    for cell in cells {
        let c = &cell.conditional;
        let b = Achieved::of(baseline, cell.property);
        let s = sd[cell.property];
        metrics.push(vec![
            cell.property as f64,
            cell.percentile,
            cell.target,
            c.validity,
            c.uniqueness,
            c.n_unique as f64,
            c.mean,
            c.median,
            c.sd,
            error_sd(c, cell.target, s),
            b.validity,
            b.uniqueness,
            b.mean,
            b.median,
            b.sd,
            error_sd(&b, cell.target, s),
        ]);
    }
    metrics
}

pub(super) fn training_chart(history: &[EpochStats]) -> LineChart {
    let curve = |f: fn(&EpochStats) -> f64| -> Vec<(f64, f64)> {
        history
            .iter()
            .map(|s| ((s.epoch + 1) as f64, f(s)))
            .collect()
    };
    LineChart::new("Conditional GSVAE training", "epoch", "per-row value")
        .series(Series::line("loss", curve(|s| s.loss)))
        .series(Series::line("reconstruction", curve(|s| s.reconstruction)))
        .series(Series::line("KL", curve(|s| s.kl)))
}

/// Histograms of property `k` for the three targets and the baseline on the code's bounds. Each
/// target's series starts with a vertical line at the target (drawn down to 0 and along the
/// axis to the first bin), so line and histogram share a colour.
pub(super) fn design_chart(
    name: &str,
    k: usize,
    cells: &[&Cell],
    baseline: &[f64],
) -> anyhow::Result<LineChart> {
    let (lo, hi) = PROPERTY_BOUNDS[k];
    let edges = bayes_uq::histogram::BinEdges::uniform(lo, hi, HISTOGRAM_BINS)?;
    let probabilities = |values: &[f64]| -> anyhow::Result<Option<Vec<f64>>> {
        if values.is_empty() {
            return Ok(None);
        }
        let histogram = bayes_uq::histogram::Histogram::new(values, &edges)?;
        Ok(histogram.probabilities().ok())
    };
    let target_probs = cells
        .iter()
        .map(|c| probabilities(&c.values))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let baseline_probs = probabilities(baseline)?;
    let top = target_probs
        .iter()
        .chain(std::iter::once(&baseline_probs))
        .flatten()
        .flatten()
        .copied()
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top } else { 1.0 };
    let mut chart = LineChart::new(
        &format!("{name}: conditional design (vertical lines: targets)"),
        name,
        "fraction per bin",
    );
    for (cell, probs) in cells.iter().zip(&target_probs) {
        let mut points = vec![(cell.target, top), (cell.target, 0.0)];
        if let Some(probs) = probs {
            points.push((lo, 0.0));
            points.extend(step_points(edges.edges(), probs));
        }
        chart = chart.series(Series::line(
            &format!(
                "target p{:.0} = {:.2}",
                100.0 * cell.percentile,
                cell.target
            ),
            points,
        ));
    }
    if let Some(probs) = baseline_probs {
        chart = chart.series(Series::line(
            "unconditioned",
            step_points(edges.edges(), &probs),
        ));
    }
    Ok(chart)
}

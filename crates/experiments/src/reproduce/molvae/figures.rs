//! Figures of the GSVAE experiments: training curves, the latent PCA, property histograms (with
//! Bayesian-bootstrap bands in `molvae-uq`), drawn as `LineChart`s.

use linalg::{Matrix, eigen::symmetric_eigen};
use mol_vae::{
    EpochStats, MolVae,
    metrics::{PROPERTY_BOUNDS, PropertySamples, UQ_BINS},
};

use crate::report::{LineChart, Series};

pub(super) fn training_chart(base: &[EpochStats], constrained: &[EpochStats]) -> LineChart {
    let curve = |history: &[EpochStats], f: fn(&EpochStats) -> f64| -> Vec<(f64, f64)> {
        history
            .iter()
            .map(|s| ((s.epoch + 1) as f64, f(s)))
            .collect()
    };
    LineChart::new("GSVAE training", "epoch", "per-row value")
        .series(Series::line("base: loss", curve(base, |s| s.loss)))
        .series(Series::line(
            "base: reconstruction",
            curve(base, |s| s.reconstruction),
        ))
        .series(Series::line("base: KL", curve(base, |s| s.kl)))
        .series(Series::line(
            "constrained: loss",
            curve(constrained, |s| s.loss),
        ))
        .series(Series::line(
            "constrained: reconstruction",
            curve(constrained, |s| s.reconstruction),
        ))
        .series(Series::line(
            "constrained: KL",
            curve(constrained, |s| s.kl),
        ))
}

pub(super) fn constraint_chart(history: &[EpochStats]) -> LineChart {
    let mut chart = LineChart::new(
        "Penalties on prior samples (constrained model)",
        "epoch",
        "mean r_k per prior sample",
    );
    for (k, name) in [
        "R1 valence",
        "R2 connectivity",
        "R3 3-rings",
        "R4 ring triples",
    ]
    .iter()
    .enumerate()
    {
        chart = chart.series(Series::line(
            name,
            history
                .iter()
                .map(|s| ((s.epoch + 1) as f64, s.constraints[k]))
                .collect(),
        ));
    }
    chart
}

/// PCA of the test molecules' latent means (eigenvectors of their covariance), drawn as the
/// 1-σ ellipse and centre of each MolWt quartile; returns the chart and the fraction of the
/// variance the two components explain.
pub(super) fn latent_pca_chart(
    model: &MolVae<f32>,
    x_test: &Matrix<f32>,
    test_properties: &PropertySamples,
) -> anyhow::Result<(LineChart, f64)> {
    let mu = model.encode(x_test)?.mean;
    let (d, n) = mu.shape();
    let mut mean = vec![0.0f64; d];
    for j in 0..n {
        for (i, m) in mean.iter_mut().enumerate() {
            *m += f64::from(mu[(i, j)]) / n as f64;
        }
    }
    let mut cov = Matrix::<f64>::zeros(d, d);
    for j in 0..n {
        for a in 0..d {
            let da = f64::from(mu[(a, j)]) - mean[a];
            for b in 0..=a {
                cov[(a, b)] += da * (f64::from(mu[(b, j)]) - mean[b]) / (n as f64 - 1.0).max(1.0);
            }
        }
    }
    for a in 0..d {
        for b in 0..a {
            cov[(b, a)] = cov[(a, b)];
        }
    }
    let (values, vectors) = symmetric_eigen(&cov);
    let total: f64 = values.iter().sum();
    let explained = if total > 0.0 {
        (values[d - 1] + values[d - 2].max(0.0)) / total
    } else {
        f64::NAN
    };
    let project = |j: usize, component: usize| -> f64 {
        (0..d)
            .map(|i| (f64::from(mu[(i, j)]) - mean[i]) * vectors[(i, component)])
            .sum()
    };
    let points: Vec<(f64, f64)> = (0..n)
        .map(|j| (project(j, d - 1), project(j, d - 2)))
        .collect();
    let weights = &test_properties.mol_wt;
    let mut sorted = weights.clone();
    sorted.sort_by(f64::total_cmp);
    let cut = |q: f64| linalg::stats::quantile_sorted(&sorted, q);
    let edges = [
        f64::NEG_INFINITY,
        cut(0.25),
        cut(0.5),
        cut(0.75),
        f64::INFINITY,
    ];
    let mut chart = LineChart::new(
        "Latent space (base model), coloured by MolWt quartile",
        "PC 1",
        "PC 2",
    );
    for q in 0..4 {
        let members: Vec<(f64, f64)> = points
            .iter()
            .zip(weights)
            .filter(|(_, w)| {
                if q == 3 {
                    **w >= edges[q]
                } else {
                    **w >= edges[q] && **w < edges[q + 1]
                }
            })
            .map(|(p, _)| *p)
            .collect();
        if members.len() < 3 {
            continue;
        }
        let label = format!(
            "MolWt Q{} [{:.0}, {:.0}]",
            q + 1,
            if q == 0 { sorted[0] } else { edges[q] },
            if q == 3 {
                sorted[sorted.len() - 1]
            } else {
                edges[q + 1]
            }
        );
        chart = chart.series(Series::line(&label, ellipse(&members)));
    }
    Ok((chart, explained))
}

/// The 1-σ covariance ellipse of 2-D points, closed, with a stroke to its centre.
fn ellipse(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in points {
        sxx += (x - mx) * (x - mx) / (n - 1.0);
        sxy += (x - mx) * (y - my) / (n - 1.0);
        syy += (y - my) * (y - my) / (n - 1.0);
    }
    // Cholesky factor of [[sxx, sxy], [sxy, syy]] maps the unit circle to the ellipse.
    let l11 = sxx.max(0.0).sqrt();
    let l21 = if l11 > 0.0 { sxy / l11 } else { 0.0 };
    let l22 = (syy - l21 * l21).max(0.0).sqrt();
    let mut out: Vec<(f64, f64)> = (0..=72)
        .map(|s| {
            let t = std::f64::consts::TAU * s as f64 / 72.0;
            let (c, si) = (t.cos(), t.sin());
            (mx + l11 * c, my + l21 * c + l22 * si)
        })
        .collect();
    out.push((mx, my));
    out
}

/// Step-line points of a histogram's bin probabilities.
pub(crate) fn step_points(edges: &[f64], probabilities: &[f64]) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(2 * probabilities.len());
    for (k, &p) in probabilities.iter().enumerate() {
        points.push((edges[k], p));
        points.push((edges[k + 1], p));
    }
    points
}

/// Histograms (bin probabilities on [`PROPERTY_BOUNDS`], [`UQ_BINS`] bins) of property `k` for
/// several samples, as step lines.
pub(super) fn histogram_chart(
    name: &str,
    k: usize,
    series: &[(String, &[f64])],
) -> anyhow::Result<LineChart> {
    let (lo, hi) = PROPERTY_BOUNDS[k];
    let edges = bayes_uq::histogram::BinEdges::uniform(lo, hi, UQ_BINS)?;
    let mut chart = LineChart::new(
        &format!("{name}: histogram on the code's bounds"),
        name,
        "fraction per bin",
    );
    for (label, values) in series {
        if values.is_empty() {
            continue;
        }
        let histogram = bayes_uq::histogram::Histogram::new(values, &edges)?;
        let Ok(probabilities) = histogram.probabilities() else {
            continue;
        };
        chart = chart.series(Series::line(
            label,
            step_points(edges.edges(), &probabilities),
        ));
    }
    Ok(chart)
}

//! `reproduce meta-mechanisms`: paper B Figs. 5, 7 and 8 — F^eHebb, F^Oja and F^bio meta-learned
//! under feedback alignment next to the FA baseline (θ₀ alone): eHebb improves the alignment
//! angles of the teaching signals, Oja leaves them about as they are but drives the
//! orthonormality error `E_W` down, and accuracy orders FA < F^eHebb < F^bio.

use std::fmt::Write as _;

use feedback_alignment::FeedbackKind;
use meta_plasticity::{EpisodeStats, MetaConfig, RuleFamily};
use serde::{Deserialize, Serialize};

use crate::{
    report::{Band, Domain, LineChart, Report},
    reproduce::{
        Context, Protocol,
        image_data::{SeedSummary, summarize},
        meta::{
            Finished, MOVING_AVERAGE, Trained, accuracy_chart, band_series, by_variant, curves,
            divergence_note, episode_metrics, hidden_angle, late_mean, load_emnist,
            mask_gradient_modes, moving_average, paired, set_gradient_mode, summarize_curves,
            train_all, xy_band_series,
        },
    },
};

/// Configuration of `meta-mechanisms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MechanismsConfig {
    /// `(name, config)` of FA, F^eHebb, F^Oja, F^bio (`config.seed` replaced per seed).
    variants: Vec<(String, MetaConfig)>,
    /// Seeds per variant.
    n_seeds: usize,
    /// Angles, `E_W` and accuracies are compared over the last `late_window` episodes.
    late_window: usize,
    /// "Oja leaves the angles": the paired FA − F^Oja angle difference is below this (°).
    angle_tolerance: f64,
    /// The project's protocol or the published code's (`--protocol`).
    protocol: Protocol,
}

impl MechanismsConfig {
    fn new(quick: bool, protocol: Protocol) -> MechanismsConfig {
        let n_episodes = if quick { 30 } else { 600 };
        let variant = |name: &str, rule| {
            let mut config = MetaConfig::paper(rule, FeedbackKind::Fixed);
            config.n_episodes = n_episodes;
            protocol.apply(&mut config);
            (name.to_string(), config)
        };
        MechanismsConfig {
            variants: vec![
                variant("FA", RuleFamily::PseudoGradient),
                variant("F^eHebb", RuleFamily::EHebb),
                variant("F^Oja", RuleFamily::Oja),
                variant("F^bio", RuleFamily::Bio),
            ],
            n_seeds: if quick { 2 } else { 10 },
            // The published code's figures average the last 50 episodes.
            late_window: match (quick, protocol) {
                (true, _) => 10,
                (false, Protocol::Project) => 60,
                (false, Protocol::Faithful) => 50,
            },
            angle_tolerance: 10.0,
            protocol,
        }
    }
}

const FA: usize = 0;
const EHEBB: usize = 1;
const OJA: usize = 2;
const BIO: usize = 3;

/// The configuration `ctx` runs: the defaults of its mode and protocol, then `--seeds`,
/// `--config` and `--set`, with the meta-gradient mode of `--gradient` resolved
/// ([`set_gradient_mode`]).
fn configured(ctx: &Context) -> anyhow::Result<MechanismsConfig> {
    let mut config = MechanismsConfig::new(ctx.quick, ctx.protocol);
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
        "meta-mechanisms",
        "How eHebb and Oja help feedback alignment: angles and orthonormality (paper B Figs. 5, 7, 8)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let pool = load_emnist(ctx, &mut report)?;
    let Trained {
        specs, finished, ..
    } = train_all(
        ctx,
        "meta-mechanisms",
        &config.variants,
        config.n_seeds,
        &pool,
        &mut report,
    )?;
    let n_episodes = config.variants[0].1.n_episodes;
    let names: Vec<String> = config.variants.iter().map(|(n, _)| n.clone()).collect();
    let groups = by_variant(finished, config.n_seeds);
    report.note(divergence_note(&names, &groups));
    if let Some(note) = super::divergence::analysis(&names, &groups, &specs, &pool)? {
        report.note(note);
    }
    let seed = ctx.seed;
    let late = config.late_window;

    let accuracy: Vec<Vec<f64>> = groups
        .iter()
        .map(|runs| late_mean(runs, late, |s| s.query_accuracy))
        .collect();
    let angle: Vec<Vec<f64>> = groups
        .iter()
        .map(|runs| late_mean(runs, late, hidden_angle))
        .collect();
    let ew: Vec<Vec<f64>> = groups
        .iter()
        .map(|runs| late_mean(runs, late, log_ew))
        .collect();
    let diff = |a: &[Vec<f64>], x: usize, y: usize, salt: u64| -> SeedSummary {
        summarize(&paired(&a[x], &a[y]), seed ^ salt)
    };

    let bio_fa = diff(&accuracy, BIO, FA, 1);
    let non_finite = groups
        .iter()
        .flatten()
        .flat_map(|run| &run.history)
        .flat_map(|s| &s.orthonormality)
        .filter(|v| !v.is_finite())
        .count();
    if ctx.quick {
        report.measurement(
            "FA query accuracy, last 10 episodes (mean over seeds)",
            summarize(&accuracy[FA], seed ^ 2).mean,
            "5-way chance is 0.2; 30 episodes cannot reach FA's plateau",
        );
        report.check(
            "non-finite E_W values over all episodes",
            "0: E_W is finite wherever the weights are (Eq. of E_W, B §4)",
            non_finite as f64,
            Band::AtMost(0.0),
            Domain::NonNegative,
        )?;
    } else if config.protocol == Protocol::Faithful {
        faithful_checks(&mut report, &groups, late, seed)?;
    } else {
        report.check(
            &format!("F^bio − FA query accuracy, last {late} episodes (paired, CI low end)"),
            "FA, same seeds in this run: F^bio improves FA (B Fig. 5)",
            bio_fa.low,
            Band::Above(0.0),
            Domain::Real,
        )?;
    }
    let ehebb_angle = diff(&angle, EHEBB, FA, 3);
    report.claim(
        "eHebb improves the alignment of the teaching signals (B Fig. 5)",
        &format!("F^eHebb − FA, mean α1..α4 over the last {late} episodes (°), paired"),
        ehebb_angle.display(),
        ehebb_angle.high < 0.0,
    );
    let ehebb_bio_angle = diff(&angle, EHEBB, BIO, 4);
    report.claim(
        "F^eHebb's angles are smaller than F^bio's (B Fig. 5)",
        &format!("F^eHebb − F^bio, mean α1..α4 over the last {late} episodes (°), paired"),
        ehebb_bio_angle.display(),
        ehebb_bio_angle.high < 0.0,
    );
    let oja_angle = diff(&angle, OJA, FA, 5);
    report.claim(
        "Oja leaves the angles about as FA's (B Fig. 7: only slightly smaller)",
        &format!(
            "F^Oja − FA, mean α1..α4 over the last {late} episodes (°), paired; |mean| ≤ {}° counts",
            config.angle_tolerance
        ),
        oja_angle.display(),
        oja_angle.mean.abs() <= config.angle_tolerance,
    );
    let oja_ew = diff(&ew, OJA, FA, 6);
    report.claim(
        "Oja drives the orthonormality error E_W down (B Fig. 8)",
        &format!("F^Oja − FA, log10 E_W averaged over layers and the last {late} episodes, paired"),
        oja_ew.display(),
        oja_ew.high < 0.0,
    );
    let early_late_ew: Vec<f64> = groups[OJA]
        .iter()
        .map(|run| {
            let n = run.history.len();
            let mean = |range: &[EpisodeStats]| {
                let v: Vec<f64> = range.iter().map(log_ew).filter(|x| x.is_finite()).collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            mean(&run.history[n.saturating_sub(late)..]) - mean(&run.history[..late.min(n)])
        })
        .collect();
    let oja_trend = summarize(&early_late_ew, seed ^ 7);
    report.claim(
        "With Oja, E_W decreases over meta-training (B Fig. 8)",
        &format!("F^Oja: log10 E_W, last {late} − first {late} episodes"),
        oja_trend.display(),
        oja_trend.high < 0.0,
    );
    let ehebb_fa = diff(&accuracy, EHEBB, FA, 8);
    let bio_ehebb = diff(&accuracy, BIO, EHEBB, 9);
    let oja_fa = diff(&accuracy, OJA, FA, 10);
    report.claim(
        "Accuracy: FA < F^eHebb (B Fig. 5)",
        &format!("F^eHebb − FA, query accuracy over the last {late} episodes, paired"),
        ehebb_fa.display(),
        ehebb_fa.low > 0.0,
    );
    report.claim(
        "Accuracy: F^eHebb < F^bio (B Fig. 5)",
        &format!("F^bio − F^eHebb, query accuracy over the last {late} episodes, paired"),
        bio_ehebb.display(),
        bio_ehebb.low > 0.0,
    );
    report.claim(
        "Oja alone substantially improves accuracy over FA (B Fig. 7)",
        &format!("F^Oja − FA, query accuracy over the last {late} episodes, paired"),
        oja_fa.display(),
        oja_fa.low > 0.0,
    );
    report.claim(
        "F^bio improves FA (B Fig. 5)",
        &format!("F^bio − FA, query accuracy over the last {late} episodes, paired"),
        bio_fa.display(),
        bio_fa.low > 0.0,
    );

    // Per-layer late means: angles α1..α4 and E_W of layers 1..5.
    let per_layer = |runs: &[Finished], f: &dyn Fn(&EpisodeStats, usize) -> f64, layer: usize| {
        late_mean(runs, late, |s| f(s, layer))
    };
    let angle_of = |s: &EpisodeStats, layer: usize| {
        s.alignment_angles
            .get(layer)
            .copied()
            .flatten()
            .unwrap_or(f64::NAN)
    };
    let ew_of = |s: &EpisodeStats, layer: usize| {
        s.orthonormality.get(layer - 1).copied().unwrap_or(f64::NAN)
    };
    let n_layers = config.variants[0].1.mlp.sizes.len() - 1;
    let mut table = format!(
        "Per-layer means over the last {late} episodes (mean over seeds): alignment angle α_ℓ (°) and \
         orthonormality error E_W of weight layer ℓ.\n\n| variant | final θ (mean over seeds) | {} | {} |\n|---|---|{}\n",
        (1..n_layers)
            .map(|l| format!("α{l}"))
            .collect::<Vec<_>>()
            .join(" | "),
        (1..=n_layers)
            .map(|l| format!("E_W{l}"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(2 * n_layers - 1)
    );
    let mut angle_chart = LineChart::new(
        &format!("Alignment angle per layer (last {late} episodes)"),
        "layer ℓ",
        "α_ℓ (°)",
    );
    let mut ew_chart = LineChart::new(
        &format!("Orthonormality error per layer (last {late} episodes)"),
        "weight layer ℓ",
        "E_W (sum over the 50 query images)",
    );
    let mut all_positive = true;
    for (v, (name, runs)) in names.iter().zip(&groups).enumerate() {
        let mean_of = |values: Vec<f64>| values.iter().sum::<f64>() / values.len().max(1) as f64;
        let thetas: Vec<String> = [0usize, 2, 9]
            .iter()
            .map(|&r| {
                format!(
                    "θ{r} {:.2e}",
                    mean_of(runs.iter().map(|run| run.theta[r]).collect())
                )
            })
            .collect();
        let mut cells = vec![name.clone(), thetas.join(", ")];
        let mut angle_points = Vec::new();
        for layer in 1..n_layers {
            let values = per_layer(runs, &angle_of, layer);
            let s = summarize(&values, seed ^ (100 + (v * 10 + layer) as u64));
            cells.push(format!("{:.1}", s.mean));
            angle_points.push((layer as f64, s));
        }
        let mut ew_points = Vec::new();
        for layer in 1..=n_layers {
            let values = per_layer(runs, &ew_of, layer);
            let s = summarize(&values, seed ^ (200 + (v * 10 + layer) as u64));
            all_positive &= s.low > 0.0;
            cells.push(format!("{:.3e}", s.mean));
            ew_points.push((layer as f64, s));
        }
        let _ = writeln!(table, "| {} |", cells.join(" | "));
        angle_chart = angle_chart.series(xy_band_series(name, &angle_points));
        ew_chart = ew_chart.series(xy_band_series(name, &ew_points));
    }
    if all_positive {
        ew_chart = ew_chart.log_y();
    }
    report.note(table);
    report.note(format!(
        "Protocol: {}. Four rule families meta-learned under FA with λ = 0 from θ0 = 1e-3 (others 0), Adam lr 1e-3, \
         {n_episodes} episodes, {} seeds, the same seeds (tasks, initial W and B) for every family. Angles: between \
         the batch-mean FA and BP teaching signals on the 50 query images after the online pass (digest §1.7); \
         E_W: Eq. 11–12 summed over the query batch. Comparisons are paired by seed, 95 % percentile-bootstrap CIs.",
        match config.protocol {
            Protocol::Project => "the project's (5 distinct classes, fresh random images every episode)",
            Protocol::Faithful => "the published code's (`--protocol faithful`: classes with replacement, each class's first 50 images train and the next 10 query); the checks compare episodes 551–600 with the published code's numbers",
        },
        config.n_seeds
    ));

    report.figure(
        "accuracy",
        "Query accuracy (10-episode moving average; shaded: 95 % CI over seeds)",
        accuracy_chart(
            "FA, F^eHebb, F^Oja, F^bio on 5-way EMNIST",
            &names,
            &groups,
            seed,
        ),
    );
    report.figure(
        "angles_per_layer",
        "Alignment angles per layer, late episodes (shaded: 95 % CI over seeds)",
        angle_chart,
    );
    report.figure(
        "ew_per_layer",
        "Orthonormality error E_W per layer, late episodes (shaded: 95 % CI over seeds)",
        ew_chart,
    );
    let mut angle_curves = LineChart::new(
        "Mean hidden-layer alignment angle during meta-training",
        "episode",
        "mean α1..α4 (°, 10-episode moving average)",
    );
    let mut ew_curves = LineChart::new(
        "Orthonormality error during meta-training",
        "episode",
        "log10 E_W averaged over layers (10-episode moving average)",
    );
    for (v, (name, runs)) in names.iter().zip(&groups).enumerate() {
        let smooth = |f: &dyn Fn(&EpisodeStats) -> f64| -> Vec<Vec<f64>> {
            curves(runs, f)
                .iter()
                .map(|c| moving_average(c, MOVING_AVERAGE))
                .collect()
        };
        angle_curves = angle_curves.series(band_series(
            name,
            &summarize_curves(&smooth(&hidden_angle), seed ^ (v as u64 + 60) << 40),
        ));
        ew_curves = ew_curves.series(band_series(
            name,
            &summarize_curves(&smooth(&log_ew), seed ^ (v as u64 + 70) << 40),
        ));
    }
    report.figure(
        "angles",
        "Mean hidden-layer alignment angle (shaded: 95 % CI over seeds)",
        angle_curves,
    );
    report.figure(
        "ew",
        "log10 E_W averaged over layers (shaded: 95 % CI over seeds)",
        ew_curves,
    );
    let mut theta_chart = LineChart::new(
        "Meta-learned coefficients",
        "episode",
        "θ_r (before the episode's meta-update)",
    );
    for (v, (name, spec)) in config.variants.iter().enumerate() {
        for term in spec.rule.terms() {
            let r = term.index();
            let per_seed = curves(&groups[v], |s| s.theta[r]);
            theta_chart = theta_chart.series(band_series(
                &format!("{name} θ{r}"),
                &summarize_curves(&per_seed, seed ^ ((v * 10 + r) as u64 + 80) << 40),
            ));
        }
    }
    report.figure(
        "theta",
        "Θ trajectories of each family (mean and 95 % CI over seeds)",
        theta_chart,
    );
    report.metrics(episode_metrics(&groups, seed));
    Ok(report)
}

/// The published code's numbers in its own protocol (one or two seeds each, episodes 551–600;
/// angles α1..α4 in degrees): F^bio 0.70 with Θ = (θ0 0.011, θ2 −0.044, θ9 0.006) and angles
/// 79 / 72 / 55 / 35; F^Oja 0.66 with angles 78 / 74 / 71 / 73 and log10 E_W 0.84 below FA's;
/// FA's angles ≈ 87 each.
const PUBLISHED_ACCURACY: [(usize, &str, f64, f64); 2] =
    [(BIO, "F^bio", 0.70, 0.04), (OJA, "F^Oja", 0.66, 0.05)];
const PUBLISHED_BIO_THETA: [(usize, f64); 3] = [(0, 0.011), (2, -0.044), (9, 0.006)];
const PUBLISHED_ANGLES: [(usize, &str, [f64; 4]); 2] = [
    (BIO, "F^bio", [79.0, 72.0, 55.0, 35.0]),
    (OJA, "F^Oja", [78.0, 74.0, 71.0, 73.0]),
];
const PUBLISHED_EW_GAP: f64 = -0.84;

/// The faithful protocol's checks against the published code's numbers: accuracy (± 0.04,
/// F^Oja ± 0.05), F^bio's Θ (published signs, within a factor 2), angles per layer (± 8°; FA
/// ≥ 80°) and the E_W gap (± 0.25), each a mean over seeds of the last `late` episodes.
fn faithful_checks(
    report: &mut Report,
    groups: &[Vec<Finished>],
    late: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let source = "paper B's published code, same protocol";
    for (v, name, published, width) in PUBLISHED_ACCURACY {
        let s = summarize(
            &late_mean(&groups[v], late, |s| s.query_accuracy),
            seed ^ (300 + v as u64),
        );
        report.check(
            &format!(
                "{name} query accuracy, last {late} episodes, mean over seeds {}",
                s.display()
            ),
            &format!("{published}: {source}"),
            s.mean,
            Band::Between(published - width, published + width),
            Domain::Fraction,
        )?;
    }
    for (v, name, _, _) in PUBLISHED_ACCURACY {
        let excluded = late_mean(&groups[v], late, |s| {
            if s.is_diverged() {
                f64::NAN
            } else {
                s.query_accuracy
            }
        });
        let s = summarize(&excluded, seed ^ (305 + v as u64));
        report.measurement(
            &format!("{name} query accuracy, last {late} episodes, diverged episodes left out"),
            s.mean,
            &format!(
                "mean over seeds {}; the check above counts a diverged episode as accuracy 0",
                s.display()
            ),
        );
    }
    for (r, published) in PUBLISHED_BIO_THETA {
        let values: Vec<f64> = groups[BIO].iter().map(|run| run.theta[r]).collect();
        let s = summarize(&values, seed ^ (310 + r as u64));
        let (low, high) = if published > 0.0 {
            (published / 2.0, published * 2.0)
        } else {
            (published * 2.0, published / 2.0)
        };
        report.check(
            &format!(
                "F^bio θ{r} at the last episode, mean over seeds {}",
                s.display()
            ),
            &format!("{published}: {source} (sign and a factor of 2)"),
            s.mean,
            Band::Between(low, high),
            Domain::Real,
        )?;
    }
    let angle = |v: usize, layer: usize| {
        late_mean(&groups[v], late, |s| {
            s.alignment_angles
                .get(layer)
                .copied()
                .flatten()
                .unwrap_or(f64::NAN)
        })
    };
    for (v, name, published) in PUBLISHED_ANGLES {
        for (k, expected) in published.iter().enumerate() {
            let layer = k + 1;
            let s = summarize(&angle(v, layer), seed ^ (320 + (10 * v + layer) as u64));
            report.check(
                &format!(
                    "{name} α{layer}, last {late} episodes (°), mean over seeds {}",
                    s.display()
                ),
                &format!("{expected}: {source}"),
                s.mean,
                Band::Between(expected - 8.0, expected + 8.0),
                Domain::Degrees,
            )?;
        }
    }
    for layer in 1..=4 {
        let s = summarize(&angle(FA, layer), seed ^ (360 + layer as u64));
        report.check(
            &format!(
                "FA α{layer}, last {late} episodes (°), mean over seeds {}",
                s.display()
            ),
            &format!("≈ 87: {source}; FA stays unaligned"),
            s.mean,
            Band::AtLeast(80.0),
            Domain::Degrees,
        )?;
    }
    let gap = summarize(
        &paired(
            &late_mean(&groups[OJA], late, log_ew),
            &late_mean(&groups[FA], late, log_ew),
        ),
        seed ^ 370,
    );
    report.check(
        &format!("log10 E_W (F^Oja) − log10 E_W (FA), mean over layers and the last {late} episodes, paired {}", gap.display()),
        &format!("{PUBLISHED_EW_GAP}: {source}"),
        gap.mean,
        Band::Between(PUBLISHED_EW_GAP - 0.25, PUBLISHED_EW_GAP + 0.25),
        Domain::Real,
    )?;
    Ok(())
}

/// log10 of `E_W` averaged over the layers of one episode (NaN without diagnostics).
fn log_ew(s: &EpisodeStats) -> f64 {
    let logs: Vec<f64> = s
        .orthonormality
        .iter()
        .filter(|v| **v > 0.0 && v.is_finite())
        .map(|v| v.log10())
        .collect();
    if logs.is_empty() {
        f64::NAN
    } else {
        logs.iter().sum::<f64>() / logs.len() as f64
    }
}

//! `reproduce molvae-uq`: Bayesian-bootstrap uncertainty of the generated property
//! distributions (digest molecular.md §4): R replicas at N = 200, each trained on Dirichlet(1)
//! weights over the training molecules from the same initial weights (the weighted-likelihood
//! bootstrap, "MWLE"), 10,000 prior samples each, per-bin 1–99 % quantile bands of the TPSA,
//! MolWt and LogP histograms of the unique valid samples, and their coverage of the QM9 test
//! histogram.
//!
//! Each finished replica writes its result (`replica-<r>.result`, checksummed, a few kB) beside
//! its checkpoints; with `--resume` a replica whose result matches the configuration, seed,
//! index and bootstrap weights is not retrained, so a long run can be finished in parts.

use std::{fs, path::Path, time::Instant};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use bayes_uq::{
    QuantileBand,
    band::{BandConfig, Coverage},
    bootstrap_replicas_at,
    histogram::Histogram,
};
use linalg::rng::{Stream, for_item, stream};
use mol_vae::{
    Dataset, ModelConfig, MolVae, TrainConfig,
    generate::sample_graphs,
    metrics::{GenerationMetrics, NoveltyReference, PROPERTY_BOUNDS, PropertySamples, UQ_BINS},
};
use serde::{Deserialize, Serialize};

use super::{
    PROPERTY_NAMES,
    data::{dense_graphs, draw_qm9, features, fit_scattering, mol_graphs},
    figures::step_points,
    training::{Checkpointing, checkpoint_dir, train_model},
};
use crate::{
    report::{LineChart, Metrics, Report, Series},
    reproduce::Context,
};

/// Configuration of `molvae-uq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UqConfig {
    /// Training molecules, 200 (the README's UQ example) [C §1].
    n_train: usize,
    /// Test molecules (the next 3,000 of the draw).
    n_test: usize,
    /// Bootstrap replicas, 25 [C §4].
    n_replicas: usize,
    /// Prior samples per replica, 10,000 [C §4].
    n_samples: usize,
    /// The band's quantiles, 1 % and 99 % [C §4].
    band: BandConfig,
    /// The network.
    model: ModelConfig,
    /// Training of every replica (base model, μ = 0).
    train: TrainConfig,
    /// Checkpoint every this many epochs.
    checkpoint_every: usize,
}

impl UqConfig {
    fn new(quick: bool) -> UqConfig {
        UqConfig {
            n_train: 200,
            n_test: 3_000,
            n_replicas: if quick { 3 } else { 25 },
            n_samples: if quick { 2_000 } else { 10_000 },
            band: BandConfig::default(),
            model: ModelConfig::default(),
            train: TrainConfig {
                epochs: if quick { 10 } else { 1_900 },
                ..TrainConfig::default()
            },
            checkpoint_every: if quick { 5 } else { 50 },
        }
    }
}

/// What one replica contributes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Replica {
    histograms: [Histogram; 3],
    validity: f64,
    n_unique: usize,
}

/// Runs `molvae-uq`.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Report> {
    let config = ctx.configure(UqConfig::new(ctx.quick))?;
    let mut report = Report::new(
        "molvae-uq",
        "GSVAE Bayesian-bootstrap bands of generated property histograms (paper C)",
        ctx.seed,
        ctx.quick,
        &config,
    )?;
    let started = Instant::now();
    let draw = draw_qm9(ctx, &mut report, config.n_train, config.n_test)?;
    let train_dense = dense_graphs(&draw.train);
    let scattering = fit_scattering(&train_dense)?;
    let x_train = features(&scattering, &draw.train)?;
    let reference = NoveltyReference::new(&mol_graphs(&draw.train));
    let test_properties = PropertySamples::of_graphs(&mol_graphs(&draw.test));
    report.timing("data and features", started.elapsed().as_secs_f64());

    // The same initial weights for every replica [C §9].
    let initial = MolVae::<f32>::new(config.model.clone(), &mut stream(ctx.seed, Stream::Init))?;
    let dir = checkpoint_dir(ctx, "molvae-uq");
    let started = Instant::now();
    // The units: one replica each.
    let ids: Vec<String> = (0..config.n_replicas)
        .map(|r| format!("replica-{r}"))
        .collect();
    let replicas: Vec<Replica> = ctx.units("molvae-uq", &ids, |positions| {
        bootstrap_replicas_at(config.n_train, positions, ctx.seed, |r, weights| {
            let result_path = dir.join(format!("replica-{r}.result"));
            let key = ReplicaKey::new(&config, ctx.seed, r, weights)?;
            if ctx.resume
                && let Some(done) = load_replica(&result_path, &key)?
            {
                return Ok(done);
            }
            let data = Dataset::new(&x_train, &train_dense)?.with_weights(weights)?;
            let checkpointing = Checkpointing {
                path: dir.join(format!("replica-{r}.ckpt")),
                every: config.checkpoint_every,
                resume: ctx.resume,
            };
            let noise = for_item(ctx.seed, Stream::Noise, r as u64);
            let trained = train_model(
                &format!("replica {r}"),
                &initial,
                &data,
                &config.train,
                &noise,
                &checkpointing,
            )?;
            let samples = sample_graphs(
                &trained.model,
                config.n_samples,
                &mut for_item(ctx.seed, Stream::Sample, r as u64),
            )?;
            let metrics = GenerationMetrics::compute(&samples, &reference)?;
            let replica = Replica {
                histograms: metrics.properties.histograms(UQ_BINS)?,
                validity: metrics.validity,
                n_unique: metrics.n_unique,
            };
            save_replica(&result_path, &key, &replica)?;
            Ok::<_, anyhow::Error>(replica)
        })
    })?;
    report.timing(
        &format!(
            "training and sampling {} replicas ({} epochs each)",
            config.n_replicas, config.train.epochs
        ),
        started.elapsed().as_secs_f64(),
    );

    let test_histograms = test_properties.histograms(UQ_BINS)?;
    anyhow::ensure!(
        replicas.len() == config.n_replicas,
        "{} replicas trained, {} configured",
        replicas.len(),
        config.n_replicas
    );
    for (r, replica) in replicas.iter().enumerate() {
        report.measurement(
            &format!("replica {r}: validity"),
            replica.validity,
            "fraction of the replica's prior samples",
        );
    }
    let mut metrics = Metrics::new(&[
        "property",
        "bin",
        "lo",
        "hi",
        "test",
        "band_lower",
        "band_median",
        "band_upper",
    ]);
    let mut inside = 0usize;
    let mut total = 0usize;
    let mut per_property = Vec::new();
    for k in 0..3 {
        let with_samples: Vec<Histogram> = replicas
            .iter()
            .filter(|r| r.histograms[k].n_inside() > 0)
            .map(|r| r.histograms[k].clone())
            .collect();
        if with_samples.is_empty() {
            per_property.push(None);
            continue;
        }
        let band = QuantileBand::from_histograms(&with_samples, config.band)?;
        let coverage = band.coverage(&test_histograms[k])?;
        inside += coverage.n_inside;
        total += coverage.n_bins;
        let test_p = test_histograms[k].probabilities()?;
        let edges = band.edges.edges().to_vec();
        for bin in 0..band.lower.len() {
            metrics.push(vec![
                k as f64,
                bin as f64,
                edges[bin],
                edges[bin + 1],
                test_p[bin],
                band.lower[bin],
                band.median[bin],
                band.upper[bin],
            ]);
        }
        report.figure(
            &format!("band_{}", PROPERTY_NAMES[k].to_lowercase()),
            &format!(
                "{}: median and {:.0}–{:.0} % band over {} replicas against the QM9 test histogram",
                PROPERTY_NAMES[k],
                100.0 * config.band.lower,
                100.0 * config.band.upper,
                with_samples.len()
            ),
            band_chart(PROPERTY_NAMES[k], &band, &test_p),
        );
        per_property.push(Some(coverage));
    }
    report.metrics(metrics);
    let fraction = if total == 0 {
        f64::NAN
    } else {
        inside as f64 / total as f64
    };
    report.measurement(
        "fraction of bins where the band covers the test histogram (all properties)",
        fraction,
        "judged in the claims table",
    );
    report.claim(
        "the 98 % bands cover the QM9 test histogram in ≥ 80 % of bins (acceptance proposed for C §5.3; not a paper number)",
        &format!(
            "bins of TPSA, MolWt and LogP ({UQ_BINS} each on the code's bounds) whose test probability lies in the replicas' 1–99 % band"
        ),
        format!(
            "{inside} of {total} bins ({:.0} %); {}",
            100.0 * fraction,
            coverage_summary(&per_property)
        ),
        fraction >= 0.8,
    );
    report.note(coverage_note(&per_property));
    report.note(draw.note());
    let mean_unique =
        replicas.iter().map(|r| r.n_unique as f64).sum::<f64>() / replicas.len().max(1) as f64;
    report.note(format!(
        "Each replica: Dirichlet(1) weights over the {} training molecules (`bayes_uq::bootstrap::replica_weights(N, seed, r)`), the same initial weights, its own noise and prior-sample streams; histograms of its unique valid samples (mean {mean_unique:.0} per replica) on the code's bounds {PROPERTY_BOUNDS:?}. Checkpoints: `{}`.",
        config.n_train,
        dir.display()
    ));
    Ok(report)
}

fn coverage_summary(per_property: &[Option<Coverage>]) -> String {
    per_property
        .iter()
        .zip(PROPERTY_NAMES)
        .map(|(c, name)| match c {
            Some(c) => format!(
                "{name} {}/{} (largest miss {:.3})",
                c.n_inside, c.n_bins, c.max_miss
            ),
            None => format!("{name}: no replica produced a valid sample"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How far the band misses, bin by bin.
fn coverage_note(per_property: &[Option<Coverage>]) -> String {
    let mut text = String::from(
        "Coverage: where the test probability falls outside the band, by how much (signed: + above the upper quantile, − below the lower).\n\n| property | bins inside | largest miss | total miss | missed bins (bin: distance) |\n|---|---|---|---|---|\n",
    );
    for (c, name) in per_property.iter().zip(PROPERTY_NAMES) {
        match c {
            Some(c) => {
                let misses: Vec<String> = c
                    .misses
                    .iter()
                    .map(|m| format!("{}: {:+.3}", m.bin, m.signed_distance))
                    .collect();
                text.push_str(&format!(
                    "| {name} | {}/{} | {:.3} | {:.3} | {} |\n",
                    c.n_inside,
                    c.n_bins,
                    c.max_miss,
                    c.total_miss,
                    misses.join(", ")
                ));
            }
            None => text.push_str(&format!("| {name} | – | – | – | no valid samples |\n")),
        }
    }
    text
}

fn band_chart(name: &str, band: &QuantileBand, test: &[f64]) -> LineChart {
    let edges = band.edges.edges();
    let mut shaded = Vec::with_capacity(2 * band.lower.len());
    for bin in 0..band.lower.len() {
        shaded.push((edges[bin], band.lower[bin], band.upper[bin]));
        shaded.push((edges[bin + 1], band.lower[bin], band.upper[bin]));
    }
    LineChart::new(
        &format!("{name}: Bayesian-bootstrap band"),
        name,
        "fraction per bin",
    )
    .series(Series::line("replica median", step_points(edges, &band.median)).with_band(shaded))
    .series(Series::line("QM9 test", step_points(edges, test)))
}

/// What a finished replica's result must match to be reused by `--resume`: the experiment's
/// whole configuration, the seed, the replica's index and its bootstrap weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReplicaKey {
    /// SHA-256 of the bincode encoding of [`UqConfig`].
    config_sha256: String,
    seed: u64,
    replica: usize,
    /// SHA-256 of the Dirichlet weights' `f64` bits (little-endian).
    weights_sha256: String,
}

impl ReplicaKey {
    fn new(config: &UqConfig, seed: u64, replica: usize, weights: &[f64]) -> anyhow::Result<Self> {
        let config_bytes = bincode::serde::encode_to_vec(config, bincode::config::standard())?;
        let weight_bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
        Ok(ReplicaKey {
            config_sha256: crate::data::sha256_hex(&config_bytes),
            seed,
            replica,
            weights_sha256: crate::data::sha256_hex(&weight_bytes),
        })
    }
}

/// A finished replica's result file: `MAGIC`, the payload's SHA-256, then the payload
/// (bincode 2 of `(key, git revision, result)`). It lets `--resume` skip replicas that are done
/// (training one takes ~10 minutes at N = 200), also across machines: the files are small.
const MAGIC: &[u8; 8] = b"NMUQREP1";

/// Writes a replica's result through a temporary file and a rename.
fn save_replica(path: &Path, key: &ReplicaKey, replica: &Replica) -> anyhow::Result<()> {
    let payload = bincode::serde::encode_to_vec(
        (key, crate::report::git_revision(), replica),
        bincode::config::standard(),
    )?;
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&Sha256::digest(&payload));
    bytes.extend_from_slice(&payload);
    crate::report::write_file(path, &bytes)?;
    Ok(())
}

/// Reads a replica's result if the file exists. A file that is corrupt or belongs to another
/// configuration, seed, replica or set of weights is an error naming it (never silently
/// recomputed over).
fn load_replica(path: &Path, key: &ReplicaKey) -> anyhow::Result<Option<Replica>> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let header = MAGIC.len() + 32;
    if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
        anyhow::bail!("{} is not a molvae-uq replica result", path.display());
    }
    let payload = &bytes[header..];
    if Sha256::digest(payload).as_slice() != &bytes[MAGIC.len()..header] {
        anyhow::bail!(
            "{} is corrupt (checksum mismatch); delete it to recompute the replica",
            path.display()
        );
    }
    let ((saved_key, _revision, replica), _): ((ReplicaKey, String, Replica), usize) =
        bincode::serde::decode_from_slice(payload, bincode::config::standard())
            .with_context(|| format!("decoding {}", path.display()))?;
    if saved_key != *key {
        anyhow::bail!(
            "{} belongs to another run (config, seed, replica or weights differ); delete it or run without --resume",
            path.display()
        );
    }
    Ok(Some(replica))
}

#[cfg(test)]
mod tests {
    use bayes_uq::histogram::BinEdges;

    use super::*;

    fn replica() -> Replica {
        let edges = BinEdges::new(vec![0.0, 1.0, 2.0]).unwrap();
        let h = Histogram::new(&[0.5, 1.5, 1.7], &edges).unwrap();
        Replica {
            histograms: [h.clone(), h.clone(), h],
            validity: 0.75,
            n_unique: 3,
        }
    }

    #[test]
    fn replica_results_round_trip_and_refuse_other_runs_and_corruption() {
        let dir = std::env::temp_dir().join(format!("neuromol-uq-replica-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("replica-0.result");
        let config = UqConfig::new(true);
        let key = ReplicaKey::new(&config, 0, 0, &[0.5, 1.5]).unwrap();
        assert!(load_replica(&path, &key).unwrap().is_none(), "no file yet");
        save_replica(&path, &key, &replica()).unwrap();
        let back = load_replica(&path, &key).unwrap().unwrap();
        assert_eq!(back.histograms, replica().histograms);
        assert_eq!((back.validity, back.n_unique), (0.75, 3));

        // Other weights, replica index or configuration: refused, naming the file.
        for other in [
            ReplicaKey::new(&config, 0, 0, &[0.5, 1.25]).unwrap(),
            ReplicaKey::new(&config, 0, 1, &[0.5, 1.5]).unwrap(),
            ReplicaKey::new(&UqConfig::new(false), 0, 0, &[0.5, 1.5]).unwrap(),
        ] {
            let err = load_replica(&path, &other).unwrap_err().to_string();
            assert!(
                err.contains("another run") && err.contains("replica-0.result"),
                "{err}"
            );
        }
        // A flipped byte and a truncated file: refused, and the file is left as it was.
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let err = load_replica(&path, &key).unwrap_err().to_string();
        assert!(err.contains("corrupt"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), bytes);
        fs::write(&path, &bytes[..20]).unwrap();
        assert!(load_replica(&path, &key).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}

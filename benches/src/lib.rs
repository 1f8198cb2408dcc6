//! Shared helpers of the criterion suite: seeded input builders and one group configuration.
//!
//! Every input is built from a fixed seed, outside the timed closure, so two runs of a bench
//! measure the same work. Each library crate has one bench file under `benches/benches/`.

use std::time::Duration;

use criterion::{BenchmarkGroup, measurement::WallTime};
use linalg::{
    Matrix, Vector,
    init::xavier_uniform,
    rng::{Stream, stream},
};

/// The layer shapes (n_out, n_in) of paper B's 784-170-130-100-70-47 network.
pub const PAPER_LAYERS: [(usize, usize); 5] =
    [(170, 784), (130, 170), (100, 130), (70, 100), (47, 70)];

/// A seeded Xavier-uniform `rows × cols` matrix.
pub fn seeded_matrix(rows: usize, cols: usize, seed: u64) -> Matrix<f32> {
    xavier_uniform(rows, cols, 1.0, &mut stream(seed, Stream::Init))
}

/// A seeded vector with entries in (−1, 1).
pub fn seeded_vector(len: usize, seed: u64) -> Vector<f32> {
    let m: Matrix<f32> = xavier_uniform(
        len,
        1,
        ((1 + len) as f64 / 6.0).sqrt(),
        &mut stream(seed, Stream::Noise),
    );
    Vector::from_iterator(len, m.iter().copied())
}

/// `n` pixel-like inputs in [0, 1) of length `len`: `|seeded_vector(len, first_seed + idx)|`.
/// The plasticity and meta-plasticity benches and the reference cases the PyTorch scripts
/// check against (`examples/reference_case.rs`) build their inputs with it.
pub fn pixel_inputs(n: usize, len: usize, first_seed: u64) -> Vec<Vec<f32>> {
    (0..n)
        .map(|idx| {
            seeded_vector(len, first_seed + idx as u64)
                .iter()
                .map(|v| v.abs())
                .collect()
        })
        .collect()
}

/// The suite's shared group settings: enough samples for stable microsecond timings without
/// making `cargo bench` take long on two cores.
pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(50);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
}

/// The prefix of the line a bench prints with its process's peak resident set size;
/// `cargo xtask bench compare` reads it.
pub const PEAK_RSS_MARKER: &str = "neuromol-peak-rss-mb:";

/// This process's peak resident set size in MiB (`VmHWM` of `/proc/self/status`), or `None`
/// where there is no such file (outside Linux) or it has no such line.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// The line a bench prints with [`peak_rss_mb`] after [`PEAK_RSS_MARKER`] (`None` where the
/// peak is unknown).
pub fn peak_rss_line() -> Option<String> {
    peak_rss_mb().map(|mb| format!("{PEAK_RSS_MARKER} {mb:.1}"))
}

/// Training samples per meta-episode of the `meta_plasticity` benches (paper B's inner loop).
pub const META_TRAIN: usize = 250;
/// Query samples per meta-episode of the `meta_plasticity` benches.
pub const META_QUERY: usize = 50;

/// The problem the `meta_plasticity/meta_episode/*` benches time and `reference_case` exports:
/// paper B's network at seed 0 under fixed random feedback, and `META_TRAIN + META_QUERY`
/// pixel-like inputs (labels `idx % 5` are the caller's).
pub struct MetaProblem {
    /// The inner loop's initial weights, pathway and β.
    pub inner: meta_plasticity::InnerLoop<f32>,
    /// The fixed feedback matrices of the pathway.
    pub feedback: Vec<Matrix<f32>>,
    /// The episode's inputs, training samples first.
    pub inputs: Vec<Vec<f32>>,
}

/// Builds [`MetaProblem`] (the paper's config is valid, so this cannot fail).
pub fn meta_problem() -> MetaProblem {
    use feedback_alignment::{Feedback, FeedbackKind};
    use linalg::rng::{Stream, stream};
    use plasticity_core::{Mlp, MlpConfig};
    let config = MlpConfig::default();
    let net =
        Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).expect("paper config is valid");
    let feedback = Feedback::<f32>::new(
        FeedbackKind::Fixed,
        &config.sizes,
        1.0,
        &mut stream(0, Stream::Feedback),
    )
    .expect("paper sizes are valid");
    let matrices = feedback.matrices().to_vec();
    MetaProblem {
        inner: meta_plasticity::InnerLoop {
            weights: net.weights().to_vec(),
            pathway: meta_plasticity::Pathway::Fixed(matrices.clone()),
            beta: config.beta,
        },
        feedback: matrices,
        inputs: pixel_inputs(META_TRAIN + META_QUERY, config.sizes[0], 1000),
    }
}

/// Θ mid-training for the benches: the first plastic term at 5e-3, every other at 1e-4, so that
/// every plastic term acts.
pub fn meta_theta(plastic: &[plasticity_core::Term]) -> [f64; plasticity_core::N_TERMS] {
    let mut theta = [0.0; plasticity_core::N_TERMS];
    for (k, term) in plastic.iter().enumerate() {
        theta[term.index()] = if k == 0 { 5e-3 } else { 1e-4 };
    }
    theta
}

/// QM9-like molecules the `mol_vae` benches cycle through to fill a batch.
pub const MOLVAE_SMILES: [&str; 8] = [
    "CC1=CC=CC=C1",
    "OCC1CC1C#N",
    "CC(C)(O)C=O",
    "NC(=O)C1CCO1",
    "C#CC1(O)CC1C",
    "CN1C=NC=C1O",
    "FC1CC2CC12C",
    "CCOC(=O)C#N",
];

/// The problem the `mol_vae/molvae_step*` benches time and `reference_case` exports: the
/// paper's GSVAE at seed 0 with a fresh Adam, `B` non-negative feature columns, the targets of
/// [`MOLVAE_SMILES`] in turn, uniform weights `1/N` and the paper's objective for `B`.
pub struct MolVaeProblem {
    /// The model (`ModelConfig::default()`, Glorot at seed 0).
    pub model: mol_vae::MolVae<f32>,
    /// Adam's state for `model`, before its first step.
    pub adam: mol_vae::Adam<f32>,
    /// Scattering-like features, `n_features × B`: |standard normal| (means of moduli are ≥ 0).
    pub features: Matrix<f32>,
    /// The target graphs, one per column of `features`.
    pub targets: Vec<molgraph::DenseGraph>,
    /// `w_b = 1/N` for every molecule.
    pub weights: Vec<f64>,
    /// The training-set size `N` the batch belongs to.
    pub n_items: usize,
    /// `ObjectiveConfig::for_batch_size(B)` (L = ⌊90/B⌋ + 1 copies, no penalties).
    pub objective: mol_vae::ObjectiveConfig,
}

/// Builds [`MolVaeProblem`] for a batch of `batch_size` molecules out of `n_items` (the paper's
/// config and the bench SMILES are valid, so this cannot fail).
pub fn molvae_problem(batch_size: usize, n_items: usize) -> MolVaeProblem {
    let config = mol_vae::ModelConfig::default();
    let model = mol_vae::MolVae::<f32>::new(config.clone(), &mut stream(0, Stream::Init))
        .expect("paper config is valid");
    let adam = mol_vae::Adam::new(&model.params);
    let mut features = Matrix::<f32>::zeros(config.n_features, batch_size);
    linalg::gaussian::fill_standard_normal(
        features.as_mut_slice(),
        &mut stream(0, Stream::Evaluation),
    );
    features.apply(|x| *x = x.abs());
    let targets = (0..batch_size)
        .map(|idx| {
            molgraph::parse_smiles(MOLVAE_SMILES[idx % MOLVAE_SMILES.len()])
                .expect("bench SMILES parse")
                .to_dense()
        })
        .collect();
    MolVaeProblem {
        model,
        adam,
        features,
        targets,
        weights: vec![1.0 / n_items as f64; batch_size],
        n_items,
        objective: mol_vae::ObjectiveConfig::for_batch_size(batch_size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_read_where_proc_exists() {
        let mb = peak_rss_mb();
        if std::path::Path::new("/proc/self/status").exists() {
            // This test process holds at least its own code and stack.
            assert!(mb.is_some_and(|mb| mb > 0.5 && mb < 1e6), "{mb:?}");
        } else {
            assert!(mb.is_none());
        }
    }
}

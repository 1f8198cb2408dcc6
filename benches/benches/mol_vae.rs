//! GSVAE training-step benchmark at the paper's sizes (digest molecular.md §3): one step of
//! B = 24 molecules with L = 4 Monte-Carlo copies (N = 600, `molvae_step/24`) and of B = 8 with
//! L = 12 (N = 200, the bootstrap replicas of `molvae-uq`, `molvae_step/8`), 9,425 scattering
//! features, the full 3.9 M-parameter network, f32, Adam included. Target: ≤ 20 ms per step at
//! N = 600 (one 25-step epoch in ≤ 0.5 s on two cores). `molvae_step_constrained/{walk_sum,
//! resolvent}` is the N = 600 step of `reproduce molvae`'s constrained model: R1–R4 on the
//! prior samples with μ = (0.1, 0.1, 2.5, 2.5) and either cycle measure of R4.
#![allow(missing_docs)]

use std::hint::black_box;

use benches::configure;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use linalg::{
    Matrix,
    gaussian::fill_standard_normal,
    rng::{Stream, stream},
};
use mol_vae::{
    Adam, AdamConfig, Batch, ModelConfig, MolVae, ObjectiveConfig, constraints::CycleMeasure,
    train_step,
};

/// QM9-like molecules, cycled to fill the batch.
const SMILES: [&str; 8] = [
    "CC1=CC=CC=C1",
    "OCC1CC1C#N",
    "CC(C)(O)C=O",
    "NC(=O)C1CCO1",
    "C#CC1(O)CC1C",
    "CN1C=NC=C1O",
    "FC1CC2CC12C",
    "CCOC(=O)C#N",
];

fn molvae_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mol_vae");
    configure(&mut group);
    let cases = [
        ("molvae_step", "24", 24, 600, 4, None),
        ("molvae_step", "8", 8, 200, 12, None),
        (
            "molvae_step_constrained",
            "walk_sum",
            24,
            600,
            4,
            Some(CycleMeasure::WalkSum),
        ),
        (
            "molvae_step_constrained",
            "resolvent",
            24,
            600,
            4,
            Some(CycleMeasure::Resolvent),
        ),
    ];
    for (name, case, batch_size, n_items, n_samples, cycle_measure) in cases {
        let config = ModelConfig::default();
        let mut model = MolVae::<f32>::new(config.clone(), &mut stream(0, Stream::Init))
            .expect("paper config is valid");
        let mut adam = Adam::new(&model.params);
        let mut grad = model.params.zeros_like();
        // Non-negative like scattering features (means of moduli).
        let mut features = Matrix::<f32>::zeros(config.n_features, batch_size);
        fill_standard_normal(features.as_mut_slice(), &mut stream(0, Stream::Evaluation));
        features.apply(|x| *x = x.abs());
        let targets: Vec<_> = (0..batch_size)
            .map(|i| {
                molgraph::parse_smiles(SMILES[i % SMILES.len()])
                    .expect("bench SMILES parse")
                    .to_dense()
            })
            .collect();
        let weights = vec![1.0 / n_items as f64; batch_size];
        let batch = Batch {
            features: &features,
            targets: &targets,
            weights: &weights,
            n_items,
        };
        let mut objective = ObjectiveConfig::for_batch_size(batch_size);
        assert_eq!(objective.n_samples, n_samples);
        if let Some(cycle_measure) = cycle_measure {
            objective.constraint_weights = [0.1, 0.1, 2.5, 2.5];
            objective.cycle_measure = cycle_measure;
        }
        let adam_config = AdamConfig::default();
        let mut rng = stream(0, Stream::Noise);
        group.bench_function(BenchmarkId::new(name, case), |b| {
            b.iter(|| {
                let terms = train_step(
                    &mut model,
                    &mut adam,
                    &batch,
                    &objective,
                    &adam_config,
                    &mut grad,
                    &mut rng,
                )
                .expect("bench step is finite");
                black_box(terms)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, molvae_step);
criterion_main!(benches);

//! GSVAE training-step benchmark at the paper's sizes (digest molecular.md §3): one step of
//! B = 24 molecules with L = 4 Monte-Carlo copies (N = 600, `molvae_step/24`) and of B = 8 with
//! L = 12 (N = 200, the bootstrap replicas of `molvae-uq`, `molvae_step/8`), 9,425 scattering
//! features, the full 3.9 M-parameter network, f32, Adam included. Target: ≤ 20 ms per step at
//! N = 600 (one 25-step epoch in ≤ 0.5 s on two cores). `molvae_step_constrained/{walk_sum,
//! resolvent}` is the N = 600 step of `reproduce molvae`'s constrained model: R1–R4 on the
//! prior samples with μ = (0.1, 0.1, 2.5, 2.5) and either cycle measure of R4.
#![allow(missing_docs)]

use std::hint::black_box;

use benches::{MolVaeProblem, configure, molvae_problem};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use linalg::rng::{Stream, stream};
use mol_vae::{AdamConfig, Batch, constraints::CycleMeasure, train_step};

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
        let MolVaeProblem {
            mut model,
            mut adam,
            features,
            targets,
            weights,
            n_items,
            mut objective,
        } = molvae_problem(batch_size, n_items);
        let mut grad = model.params.zeros_like();
        let batch = Batch {
            features: &features,
            targets: &targets,
            weights: &weights,
            n_items,
        };
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

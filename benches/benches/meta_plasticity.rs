//! Meta-plasticity benchmarks: one whole meta-training episode of paper B's network
//! (784-170-130-100-70-47) — 250 online steps carrying one tangent per plastic term, then the
//! query pass and the contraction to `dL/dΘ` — under feedback alignment, for F^bio and F^pool
//! (issue 4 targets: ≤ 150 ms and ≤ 400 ms per episode).
#![allow(missing_docs)]

use std::{hint::black_box, time::Duration};

use benches::seeded_vector;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use feedback_alignment::{Feedback, FeedbackKind};
use linalg::rng::{Stream, stream};
use meta_plasticity::{InnerLoop, Pathway, RuleFamily, meta_gradient};
use plasticity_core::{Mlp, MlpConfig, N_TERMS};

const N_TRAIN: usize = 250;
const N_QUERY: usize = 50;

fn meta_episode(c: &mut Criterion) {
    let mut group = c.benchmark_group("meta_plasticity");
    // One episode takes ~0.1 s: few samples, enough time for them.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
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
    let inner = InnerLoop {
        weights: net.weights().to_vec(),
        pathway: Pathway::Fixed(feedback.matrices().to_vec()),
        beta: config.beta,
    };
    // Pixel-like inputs in [0, 1) and 5 labels, built once outside the timed closure.
    let inputs: Vec<Vec<f32>> = (0..N_TRAIN + N_QUERY)
        .map(|idx| {
            seeded_vector(config.sizes[0], 1000 + idx as u64)
                .iter()
                .map(|v| v.abs())
                .collect()
        })
        .collect();
    let samples: Vec<(&[f32], usize)> = inputs
        .iter()
        .enumerate()
        .map(|(idx, x)| (x.as_slice(), idx % 5))
        .collect();
    let (train, query) = samples.split_at(N_TRAIN);
    // `bio_primal`: the same episode under F^bio without tangents (the cost of the inner loop
    // alone, for the forward-mode overhead factor).
    let cases = [
        ("bio", RuleFamily::Bio, true),
        ("pool", RuleFamily::Pool, true),
        ("bio_primal", RuleFamily::Bio, false),
    ];
    for (name, family, with_tangents) in cases {
        let plastic = family.terms();
        let terms = if with_tangents {
            plastic.clone()
        } else {
            Vec::new()
        };
        // Θ mid-training: every plastic term acts.
        let mut theta = [0.0; N_TERMS];
        for (k, term) in plastic.iter().enumerate() {
            theta[term.index()] = if k == 0 { 5e-3 } else { 1e-4 };
        }
        group.bench_function(BenchmarkId::new("meta_episode", name), |b| {
            b.iter(|| {
                black_box(
                    meta_gradient(&inner, &terms, &theta, train, query).expect("episode runs"),
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, meta_episode);
criterion_main!(benches);

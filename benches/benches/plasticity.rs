//! Plasticity benchmarks: one online step of paper B's network (784-170-130-100-70-47) at batch
//! 1 — forward pass, error back-projection, the rule's terms and the fused update.
#![allow(missing_docs)]

use std::hint::black_box;

use benches::{configure, pixel_inputs};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use feedback_alignment::{Feedback, FeedbackKind, online_step};
use linalg::rng::{Stream, stream};
use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};

const N_INPUTS: usize = 16;

fn online(c: &mut Criterion) {
    let mut group = c.benchmark_group("plasticity");
    configure(&mut group);
    let config = MlpConfig::default();
    let size = config
        .sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-");
    // Pixel-like inputs in [0, 1) and labels, built once outside the timed closure.
    let inputs = pixel_inputs(N_INPUTS, config.sizes[0], 100);
    let labels: Vec<usize> = (0..N_INPUTS).map(|idx| idx % 10).collect();
    let cases = [
        ("online_step", FeedbackKind::Fixed, Rule::oja(0.01, 0.004)),
        (
            "online_step_bp_sgd",
            FeedbackKind::Backprop,
            Rule::pseudo_gradient(0.01),
        ),
    ];
    for (name, kind, rule) in cases {
        let mut net =
            Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).expect("paper config is valid");
        let mut feedback =
            Feedback::new(kind, &config.sizes, 1.0, &mut stream(0, Stream::Feedback))
                .expect("paper sizes are valid");
        let rules = RuleSet::from(rule);
        let mut state = net.new_state();
        let mut sample_idx = 0;
        group.bench_function(BenchmarkId::new(name, &size), |b| {
            b.iter(|| {
                sample_idx = (sample_idx + 1) % N_INPUTS;
                let outcome = online_step(
                    &mut net,
                    &mut feedback,
                    &rules,
                    &mut state,
                    black_box(&inputs[sample_idx]),
                    labels[sample_idx],
                )
                .expect("the benchmark step does not diverge");
                black_box(outcome)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, online);
criterion_main!(benches);

//! The memory floor: how fast this machine moves the bytes that the hot loops must move, and
//! how long each phase of the online step takes.
//!
//! `floor/read/*` sums a buffer (every byte read once); `floor/read_write/*` rewrites a buffer in
//! place (`w ← a w + b`, every byte read once and written once, as a weight update does). The two
//! sizes are those of the hot loops' working sets on paper B's network (784-170-130-100-70-47,
//! f32): `0.71MB` is its five weight matrices (178,670 entries), `2.86MB` four times that (the
//! weights and F^bio's three forward-mode tangents). Criterion reports both as bytes per second
//! (each counts the bytes it moves: the buffer for `read`, twice the buffer for `read_write`).
//!
//! `floor/online_phase/*` times the three public phases of `feedback_alignment::online_step`
//! under FA + Oja at the `plasticity/online_step` setting: `forward` (`Mlp::forward`), `teach`
//! (`Feedback::teach`: the output error and its projection through the fixed feedback
//! matrices), `apply_rules` (`Mlp::apply_rules`: Oja's projection `Wᵀy` and the weight update
//! in one fused pass per layer), and the whole `online_step` for the sum. `docs/performance.md`
//! divides each phase's bytes by the measured bandwidth to get its floor.
#![allow(missing_docs)]

use std::hint::black_box;

use benches::{configure, pixel_inputs};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use feedback_alignment::{Feedback, FeedbackKind, online_step};
use linalg::rng::{Stream, stream};
use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};

/// Entries of paper B's five weight matrices: 784·170 + 170·130 + 130·100 + 100·70 + 70·47.
const WEIGHT_ENTRIES: usize = 178_670;

/// Inputs the phase benches cycle through (as `plasticity/online_step`).
const N_INPUTS: usize = 16;

fn bandwidth(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    configure(&mut group);
    for (name, entries) in [("0.71MB", WEIGHT_ENTRIES), ("2.86MB", 4 * WEIGHT_ENTRIES)] {
        let bytes = (entries * std::mem::size_of::<f32>()) as u64;
        let mut buffer: Vec<f32> = (0..entries).map(|idx| (idx % 97) as f32 * 1e-3).collect();
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new("read", name), |b| {
            b.iter(|| black_box(sum(black_box(&buffer))))
        });
        group.throughput(Throughput::Bytes(2 * bytes));
        group.bench_function(BenchmarkId::new("read_write", name), |b| {
            b.iter(|| scale_shift(black_box(&mut buffer), black_box(1.0), black_box(0.0)))
        });
    }
    group.finish();
}

/// `Σ x` with 32 independent partial sums (eight 128-bit or four 256-bit registers), so that the
/// compiler vectorises it and the loop is limited by loads rather than by the latency of one
/// running sum.
fn sum(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 32];
    let mut chunks = x.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// `w ← a w + b` in place: every entry read once and written once.
fn scale_shift(w: &mut [f32], a: f32, b: f32) {
    for v in w.iter_mut() {
        *v = a * *v + b;
    }
}

fn online_phases(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    configure(&mut group);
    let config = MlpConfig::default();
    let inputs = pixel_inputs(N_INPUTS, config.sizes[0], 100);
    let labels: Vec<usize> = (0..N_INPUTS).map(|idx| idx % 10).collect();
    let rules = RuleSet::from(Rule::oja(0.01, 0.004));
    let mut net =
        Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).expect("paper config is valid");
    let mut feedback = Feedback::new(
        FeedbackKind::Fixed,
        &config.sizes,
        1.0,
        &mut stream(0, Stream::Feedback),
    )
    .expect("paper sizes are valid");
    let mut state = net.new_state();
    // A state after a whole step, so that every phase finds what it reads.
    online_step(
        &mut net,
        &mut feedback,
        &rules,
        &mut state,
        &inputs[0],
        labels[0],
    )
    .expect("the step does not diverge");
    let input_error = rules.needs_input_error();

    let mut sample_idx = 0;
    group.bench_function(BenchmarkId::new("online_phase", "forward"), |b| {
        b.iter(|| {
            sample_idx = (sample_idx + 1) % N_INPUTS;
            net.forward(&mut state, black_box(&inputs[sample_idx]))
                .expect("input fits")
        })
    });
    net.forward(&mut state, &inputs[0]).expect("input fits");
    group.bench_function(BenchmarkId::new("online_phase", "teach"), |b| {
        b.iter(|| {
            feedback
                .teach(&net, &mut state, black_box(labels[0]), input_error)
                .expect("label fits")
        })
    });
    // The update changes the weights: each iteration starts from a fresh copy of the same net
    // (the copy is not timed, and it leaves the weights in cache, as the forward pass of a step
    // does; one copy at a time, so that the copies do not push each other out of cache).
    group.bench_function(BenchmarkId::new("online_phase", "apply_rules"), |b| {
        b.iter_batched_ref(
            || net.clone(),
            |net| net.apply_rules(&mut state, &rules).expect("rules fit"),
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new("online_phase", "online_step"), |b| {
        b.iter(|| {
            sample_idx = (sample_idx + 1) % N_INPUTS;
            black_box(
                online_step(
                    &mut net,
                    &mut feedback,
                    &rules,
                    &mut state,
                    black_box(&inputs[sample_idx]),
                    labels[sample_idx],
                )
                .expect("the benchmark step does not diverge"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bandwidth, online_phases);
criterion_main!(benches);

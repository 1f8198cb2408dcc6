//! Meta-plasticity benchmarks: one whole meta-training episode of paper B's network
//! (784-170-130-100-70-47) — 250 online steps carrying one tangent per plastic term, then the
//! query pass and the contraction to `dL/dΘ` — under feedback alignment, for F^bio and F^pool,
//! by forward mode and by checkpointed reverse mode. `pool_primal` is F^pool without tangents,
//! `*_setup_query` an episode without training steps (setup, query pass and contraction), and
//! `terms4*` a four-term rule (F⁰, F¹, F², F⁹) in both modes, where `GradientMode::Auto`'s
//! threshold lies; `docs/performance.md` splits the episodes into phases with them.
//! `cargo xtask bench compare` sets them against PyTorch autograd through the same unrolled
//! episode (`benches/reference/meta_episode.py`). `bio_sparse` is F^bio on MNIST-like inputs (pixels
//! outside a central disc exactly 0), where the fused pass skips the background's share of the
//! next forward product. After the group the bench prints its peak RSS
//! ([`benches::PEAK_RSS_MARKER`]), which `cargo xtask bench compare` sets against PyTorch's.
#![allow(missing_docs)]

use std::{hint::black_box, time::Duration};

use benches::{META_TRAIN, MetaProblem, meta_problem, meta_theta};
use criterion::{BenchmarkId, Criterion, criterion_group};
use meta_plasticity::{RuleFamily, meta_gradient, meta_gradient_reverse};
use plasticity_core::Term;

fn meta_episode(c: &mut Criterion) {
    let mut group = c.benchmark_group("meta_plasticity");
    // One episode takes ~0.1 s: few samples, enough time for them.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    // Pixel-like inputs in [0, 1) and 5 labels, built once outside the timed closure.
    let MetaProblem { inner, inputs, .. } = meta_problem();
    // The same images with a background: pixels outside a disc of radius 8 around the centre of
    // the 28 × 28 grid are 0 (about 74 % of them, MNIST has about 80 %).
    let sparse_inputs: Vec<Vec<f32>> = inputs
        .iter()
        .map(|x| {
            x.iter()
                .enumerate()
                .map(|(pixel, &v)| {
                    let (row, col) = ((pixel / 28) as f32 - 13.5, (pixel % 28) as f32 - 13.5);
                    if row * row + col * col < 64.0 { v } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let dense = labelled(&inputs);
    // Four plastic terms, one more than F^bio: where `GradientMode::Auto` switches to reverse.
    let terms4 = RuleFamily::Custom(vec![
        Term::PseudoGradient,
        Term::PostActivationPreError,
        Term::ErrorHebb,
        Term::Oja,
    ]);
    let sparse = labelled(&sparse_inputs);
    // `bio_primal`: the same episode under F^bio without tangents (the cost of the inner loop
    // alone, for the forward-mode overhead factor). `*_reverse`: the same gradient by the
    // checkpointed reverse mode (`meta_gradient_reverse`).
    let cases = [
        ("bio", RuleFamily::Bio, Mode::Forward, &dense),
        ("pool", RuleFamily::Pool, Mode::Forward, &dense),
        ("bio_primal", RuleFamily::Bio, Mode::Primal, &dense),
        ("bio_sparse", RuleFamily::Bio, Mode::Forward, &sparse),
        ("bio_reverse", RuleFamily::Bio, Mode::Reverse, &dense),
        ("pool_reverse", RuleFamily::Pool, Mode::Reverse, &dense),
        ("pool_primal", RuleFamily::Pool, Mode::Primal, &dense),
        ("bio_setup_query", RuleFamily::Bio, Mode::SetupQuery, &dense),
        (
            "pool_setup_query",
            RuleFamily::Pool,
            Mode::SetupQuery,
            &dense,
        ),
        ("terms4", terms4.clone(), Mode::Forward, &dense),
        ("terms4_reverse", terms4, Mode::Reverse, &dense),
    ];
    for (name, family, mode, samples) in cases {
        let (train, query) = samples.split_at(META_TRAIN);
        // No training step: the episode's setup, the query pass and the contraction alone.
        let train = if mode == Mode::SetupQuery {
            &train[..0]
        } else {
            train
        };
        let plastic = family.terms();
        let terms = if mode == Mode::Primal {
            Vec::new()
        } else {
            plastic.clone()
        };
        let gradient = match mode {
            Mode::Forward | Mode::Primal | Mode::SetupQuery => meta_gradient::<f32>,
            Mode::Reverse => meta_gradient_reverse::<f32>,
        };
        let theta = meta_theta(&plastic);
        group.bench_function(BenchmarkId::new("meta_episode", name), |b| {
            b.iter(|| {
                black_box(gradient(&inner, &terms, &theta, train, query).expect("episode runs"))
            });
        });
    }
    group.finish();
}

/// How a case differentiates the episode.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Forward-mode tangents (`meta_gradient`).
    Forward,
    /// No differentiated term: the inner loop and the query pass alone.
    Primal,
    /// Checkpointed reverse mode (`meta_gradient_reverse`).
    Reverse,
    /// Forward mode with no training step: setup, query pass and contraction.
    SetupQuery,
}

/// Borrowed samples with 5 labels in turn.
fn labelled(images: &[Vec<f32>]) -> Vec<(&[f32], usize)> {
    images
        .iter()
        .enumerate()
        .map(|(idx, x)| (x.as_slice(), idx % 5))
        .collect()
}

criterion_group!(benches, meta_episode);

/// `criterion_main!`, then the process's peak RSS for `cargo xtask bench compare` (its memory
/// target: both sides measured in one run).
#[allow(clippy::print_stdout)] // The line is this bench's report to `cargo xtask bench compare`.
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(line) = benches::peak_rss_line() {
        println!("{line}");
    }
}

//! Plasticity benchmarks: one online step of paper B's network (784-170-130-100-70-47) at batch
//! 1 — forward pass, error back-projection, the rule's terms and the fused update.
#![allow(missing_docs)]

use std::hint::black_box;

use benches::{configure, seeded_vector};
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
    let inputs: Vec<Vec<f32>> = (0..N_INPUTS)
        .map(|idx| {
            seeded_vector(config.sizes[0], 100 + idx as u64)
                .iter()
                .map(|v| v.abs())
                .collect()
        })
        .collect();
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

fn mintime(_c: &mut Criterion) {
    use linalg::{Matrix, Vector, fused::{low_rank_update, LowRankUpdate}, kernels::{gemv, gemv_t}, activation::softplus_with_derivative};
    use std::time::Instant;
    let t = |name: &str, f: &mut dyn FnMut()| {
        let mut best = f64::MAX;
        for _ in 0..3000 { let s = Instant::now(); f(); best = best.min(s.elapsed().as_secs_f64()); }
        eprintln!("MIN {name}: {:.2} us", best * 1e6);
    };
    for (n, m) in benches::PAPER_LAYERS {
        let mut w: Matrix<f32> = benches::seeded_matrix(n, m, 1);
        let x = seeded_vector(m, 2); let r = seeded_vector(m, 4); let e = seeded_vector(n, 3); let y = seeded_vector(n, 5);
        let mut out = Vector::zeros(n); let mut out_t = Vector::zeros(m);
        t(&format!("gemv {n}x{m}"), &mut || gemv(black_box(&mut out), black_box(&w), &x));
        t(&format!("gemv_t {n}x{m}"), &mut || gemv_t(black_box(&mut out_t), black_box(&w), &e));
        t(&format!("fused_oja {n}x{m}"), &mut || low_rank_update(black_box(&mut w), &LowRankUpdate { decay: 1.0, first: Some((&e, &x)), second: Some((&y, &r)), projection: Some((-1e-7, &y)) }));
        let mut dy = vec![0.0f32; n]; let mut yy = vec![0.0f32; n];
        t(&format!("softplus {n}"), &mut || softplus_with_derivative(black_box(&mut yy), &mut dy, e.as_slice(), 10.0));
    }
    let config = MlpConfig::default();
    let mut net = Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).unwrap();
    let mut state = net.new_state();
    let input: Vec<f32> = seeded_vector(784, 2).iter().map(|v| v.abs()).collect();
    t("forward", &mut || net.forward(&mut state, black_box(&input)).unwrap());
    let mut fb = Feedback::new(FeedbackKind::Fixed, &config.sizes, 1.0, &mut stream(0, Stream::Feedback)).unwrap();
    let rules = RuleSet::from(Rule::oja(0.01, 0.004));
    t("step_fa_oja", &mut || { online_step(&mut net, &mut fb, &rules, &mut state, black_box(&input), 3).unwrap(); });
    t("teach", &mut || { fb.teach(&net, &mut state, 3, false).unwrap(); });
    t("apply", &mut || { net.apply_rules(&mut state, &rules).unwrap(); });
}
criterion_group!(mt, mintime);

criterion_main!(mt);

//! Kernel benchmarks at the paper sizes: `y = W x`, `z = Wᵀ y`, `W += α a bᵀ`, GEMM, the
//! fused softplus, and the stacked-tangent pass of the meta-gradient (`stacked_update` with
//! three tangents, F^bio's).
#![allow(missing_docs)]

use std::hint::black_box;

use benches::{PAPER_LAYERS, configure, seeded_matrix, seeded_vector};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use linalg::{
    Matrix, Vector,
    activation::{log_softmax, softmax, softplus_with_derivative},
    kernels::{Accumulate, Transpose, gemm, gemv, gemv_t, ger},
    stacked::{StackedProduct, StackedProjection, StackedUpdate, stacked_update},
};

fn matvec(c: &mut Criterion) {
    let mut group = c.benchmark_group("linalg");
    configure(&mut group);
    for &(rows, cols) in &PAPER_LAYERS {
        let size = format!("{rows}x{cols}");
        let w = seeded_matrix(rows, cols, 1);
        let x = seeded_vector(cols, 2);
        let e = seeded_vector(rows, 3);
        let mut y = Vector::zeros(rows);
        let mut z = Vector::zeros(cols);
        group.bench_function(BenchmarkId::new("gemv", &size), |b| {
            b.iter(|| gemv(black_box(&mut y), black_box(&w), black_box(&x)))
        });
        group.bench_function(BenchmarkId::new("gemv_t", &size), |b| {
            b.iter(|| gemv_t(black_box(&mut z), black_box(&w), black_box(&e)))
        });
        let mut w_mut = w.clone();
        group.bench_function(BenchmarkId::new("ger", &size), |b| {
            b.iter(|| {
                ger(
                    black_box(&mut w_mut),
                    black_box(1e-6),
                    black_box(&e),
                    black_box(&x),
                )
            })
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("linalg");
    configure(&mut group);
    let a = seeded_matrix(128, 784, 4);
    let b_mat = seeded_matrix(784, 170, 5);
    group.bench_function(BenchmarkId::new("gemm", "128x784x170"), |bench| {
        bench.iter_batched_ref(
            || Matrix::zeros(128, 170),
            |c_mat| {
                gemm(
                    c_mat,
                    1.0,
                    black_box(&a),
                    Transpose::No,
                    black_box(&b_mat),
                    Transpose::No,
                    Accumulate::Replace,
                )
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn activations(c: &mut Criterion) {
    let mut group = c.benchmark_group("linalg");
    configure(&mut group);
    // All hidden units of the paper network at batch 1 (170 + 130 + 100 + 70 = 470).
    let z = seeded_vector(470, 6);
    let mut y = vec![0.0f32; 470];
    let mut dy = vec![0.0f32; 470];
    group.bench_function(BenchmarkId::new("softplus_with_derivative", 470), |b| {
        b.iter(|| {
            softplus_with_derivative(
                black_box(&mut y),
                black_box(&mut dy),
                black_box(z.as_slice()),
                10.0,
            )
        })
    });
    let logits = seeded_vector(47, 7);
    let mut out = vec![0.0f32; 47];
    group.bench_function(BenchmarkId::new("softmax", 47), |b| {
        b.iter(|| softmax(black_box(&mut out), black_box(logits.as_slice())))
    });
    group.bench_function(BenchmarkId::new("log_softmax", 47), |b| {
        b.iter(|| log_softmax(black_box(&mut out), black_box(logits.as_slice())))
    });
    group.finish();
}

/// One step of `stacked_update` per layer with three tangents (F^bio: θ₀, θ₂, θ₉), Oja's
/// projection and the next product. Called from the bench thread, so the split layer (170x784:
/// two column halves over rayon's pool) includes rayon's hand-off to the pool, which
/// `meta_gradient` avoids by running its episode on a worker of the pool.
fn stacked(c: &mut Criterion) {
    let mut group = c.benchmark_group("linalg");
    configure(&mut group);
    const R: usize = 3;
    for &(n, m) in &PAPER_LAYERS {
        let mut w = seeded_matrix(n, m, 8);
        let mut w_dot = seeded_matrix(R * n, m, 9);
        let vector = |len: usize, seed: u64| seeded_vector(len, seed).as_slice().to_vec();
        let (a, b) = (vector(n, 10), vector(n, 11));
        let (a_dot, b_dot) = (vector(R * n, 12), vector(R * n, 13));
        // Small coefficients keep the matrices bounded over many iterations.
        let right: Vec<f32> = vector(3 * m, 14).iter().map(|v| 1e-6 * v).collect();
        let right_dot: Vec<f32> = vector(3 * R * m, 15).iter().map(|v| 1e-6 * v).collect();
        let (u, u_dot) = (vector(n, 16), vector(R * n, 17));
        let (x, x_dot) = (vector(m, 18), vector(R * m, 19));
        let (mut z, mut z_dot) = (vec![0.0f32; n], vec![0.0f32; R * n]);
        group.bench_function(
            BenchmarkId::new("stacked_update_r3", format!("{n}x{m}")),
            |bench| {
                bench.iter(|| {
                    let update = StackedUpdate {
                        decay: 1.0,
                        decay_tangent: None,
                        left: [&a, &b],
                        left_dot: [&a_dot, &b_dot],
                        right: &right,
                        right_dot: &right_dot,
                        projection: Some(StackedProjection {
                            gamma: -1e-6,
                            gamma_tangent: Some((2, -1.0)),
                            u: &u,
                            u_dot: &u_dot,
                        }),
                        product: Some(StackedProduct {
                            input: &x,
                            input_dot: Some(&x_dot),
                            output: &mut z,
                            output_dot: &mut z_dot,
                        }),
                    };
                    stacked_update(black_box(&mut w), black_box(&mut w_dot), update);
                })
            },
        );
    }
    group.finish();
}

criterion_group!(kernels, matvec, matmul, activations, stacked);
criterion_main!(kernels);

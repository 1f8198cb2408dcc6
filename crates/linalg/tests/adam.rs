//! The fused weight-backward + Adam pass equals the unfused one (GEMMs, then `adam_update`),
//! in `f64` (portable kernel) and `f32` (explicit-SIMD kernel), and its bits do not depend on
//! the thread count.

use linalg::{
    Float, Matrix,
    adam::{AdamStep, adam_update, linear_backward_adam},
    gaussian::fill_standard_normal,
    kernels::{Accumulate, Transpose, gemm},
    rng::{Stream, stream},
    testing::{Tol, assert_all_close, tol},
};

/// `(W, m, v, X, ∂Y)` in `f64`.
type Problem = [Matrix<f64>; 5];

fn problem(n_out: usize, n_in: usize, batch: usize, seed: u64) -> Problem {
    let mut rng = stream(seed, Stream::Init);
    let mut draw = |r: usize, c: usize| {
        let mut out = Matrix::zeros(r, c);
        fill_standard_normal(out.as_mut_slice(), &mut rng);
        out
    };
    let w = draw(n_out, n_in);
    let m = draw(n_out, n_in).map(|a| 0.1 * a);
    let v = draw(n_out, n_in).map(|a| 0.01 * a * a);
    [w, m, v, draw(n_in, batch), draw(n_out, batch)]
}

/// The unfused reference in `f64`: `∂X = Wᵀ ∂Y`, `∂W = ∂Y Xᵀ`, then Adam. Returns
/// `(W, m, v, ∂X)`.
fn reference(p: &Problem, step: &AdamStep<f64>) -> [Matrix<f64>; 4] {
    let [w, m, v, x, dy] = p.clone();
    let mut dx = Matrix::zeros(x.nrows(), x.ncols());
    gemm(
        &mut dx,
        1.0,
        &w,
        Transpose::Yes,
        &dy,
        Transpose::No,
        Accumulate::Replace,
    );
    let mut g = Matrix::zeros(w.nrows(), w.ncols());
    gemm(
        &mut g,
        1.0,
        &dy,
        Transpose::No,
        &x,
        Transpose::Yes,
        Accumulate::Replace,
    );
    let (mut w, mut m, mut v) = (w, m, v);
    adam_update(
        w.as_mut_slice(),
        g.as_slice(),
        m.as_mut_slice(),
        v.as_mut_slice(),
        step,
    );
    [w, m, v, dx]
}

/// The fused pass in `T`, results widened to `f64`. Returns `(W, m, v, ∂X)`.
fn fused<T: Float>(p: &Problem, t: u64) -> [Matrix<f64>; 4] {
    let [w, m, v, x, dy] = p.clone().map(|a| a.map(T::of_f64));
    let (mut w, mut m, mut v) = (w, m, v);
    let mut dx_t = Matrix::from_element(x.ncols(), x.nrows(), T::of_f64(f64::NAN));
    let step = AdamStep::<T>::new(1e-3, 0.9, 0.999, 1e-8, t);
    linear_backward_adam(&mut w, &mut m, &mut v, &x, &dy, &mut dx_t, &step);
    [w, m, v, dx_t.transpose()].map(|a| a.map(|e| e.as_f64()))
}

#[test]
fn fused_pass_equals_gemms_then_adam() {
    // Shapes with tails: n_out not a multiple of the vector width, B not a multiple of 4,
    // n_in not a multiple of the 32-column block; and the paper's B = 8 and 24.
    for (n_out, n_in, batch) in [
        (13, 70, 5),
        (16, 33, 8),
        (40, 100, 24),
        (7, 3, 1),
        (400, 40, 8),
    ] {
        let p = problem(n_out, n_in, batch, n_out as u64);
        let expected = reference(&p, &AdamStep::new(1e-3, 0.9, 0.999, 1e-8, 3));
        let exact = Tol {
            abs: 1e-12,
            rel: 1e-12,
        };
        for (ours, want) in fused::<f64>(&p, 3).iter().zip(&expected) {
            assert_all_close(ours.as_slice(), want.as_slice(), exact);
        }
        // f32: the weights and moments to f32 rounding; ∂X to a sum of n_out rounded terms.
        let f32_sums = Tol {
            abs: 1e-4,
            rel: 1e-4,
        };
        let ours = fused::<f32>(&p, 3);
        for k in 0..3 {
            assert_all_close(ours[k].as_slice(), expected[k].as_slice(), tol::F32);
        }
        assert_all_close(ours[3].as_slice(), expected[3].as_slice(), f32_sums);
        assert_ne!(expected[0], p[0], "the weights moved");
    }
}

#[test]
fn fused_pass_bits_do_not_depend_on_the_thread_count() {
    let p = problem(24, 200, 8, 5);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| (fused::<f32>(&p, 1), fused::<f64>(&p, 1)))
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert!(one.0[3].iter().all(|x| x.is_finite()));
}

#[test]
#[should_panic(expected = "shapes do not chain")]
fn fused_pass_rejects_mismatched_shapes() {
    let (mut w, mut m, mut v) = (
        Matrix::zeros(2, 3),
        Matrix::zeros(2, 3),
        Matrix::zeros(3, 2),
    );
    let (x, dy) = (Matrix::zeros(3, 2), Matrix::zeros(2, 2));
    let mut dx_t = Matrix::zeros(2, 3);
    let step = AdamStep::new(1e-3, 0.9, 0.999, 1e-8, 1);
    linear_backward_adam::<f64>(&mut w, &mut m, &mut v, &x, &dy, &mut dx_t, &step);
}

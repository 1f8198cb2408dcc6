//! Kernels against naive nalgebra products, in f32 and f64, at odd sizes.

use linalg::{
    Matrix, Vector,
    init::xavier_uniform,
    kernels::{Accumulate, Transpose, axpy, dot, gemm, gemv, gemv_acc, gemv_t, gemv_t_acc, ger},
    rng::{Stream, stream},
    testing::{Tol, assert_all_close, tol},
};

const SIZES: [(usize, usize); 4] = [(1, 1), (3, 5), (17, 9), (170, 784)];

fn random_matrix(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    xavier_uniform(rows, cols, 1.0, &mut stream(seed, Stream::Init))
}

fn random_vector(len: usize, seed: u64) -> Vector<f64> {
    Vector::from_iterator(len, random_matrix(len, 1, seed).iter().copied())
}

#[track_caller]
fn check_f64_and_f32(name: &str, f64_result: &[f64], expected: &[f64], f32_result: &[f32]) {
    assert_all_close(f64_result, expected, tol::EXACT);
    let expected32: Vec<f32> = expected.iter().map(|&v| v as f32).collect();
    // f32 results of sums over up to 784 terms of size ~0.1: rounding error ~1e-6 absolute.
    assert_all_close(
        f32_result,
        &expected32,
        Tol {
            rel: 1e-4,
            abs: 1e-5,
        },
    );
    let _ = name;
}

#[test]
fn gemv_and_gemv_t_match_naive_products() {
    for (seed, &(m, n)) in SIZES.iter().enumerate() {
        let w = random_matrix(m, n, seed as u64);
        let x = random_vector(n, 100 + seed as u64);
        let y_in = random_vector(m, 200 + seed as u64);
        let w32 = w.map(|v| v as f32);
        let x32 = x.map(|v| v as f32);
        let y_in32 = y_in.map(|v| v as f32);

        let mut y = Vector::zeros(m);
        let mut y32 = Vector::zeros(m);
        gemv(&mut y, &w, &x);
        gemv(&mut y32, &w32, &x32);
        check_f64_and_f32("gemv", y.as_slice(), (&w * &x).as_slice(), y32.as_slice());

        let mut y_acc = y_in.clone();
        gemv_acc(&mut y_acc, &w, &x, 0.5, Accumulate::Add);
        let expected = &y_in + (&w * &x) * 0.5;
        assert_all_close(y_acc.as_slice(), expected.as_slice(), tol::EXACT);

        let mut z = Vector::zeros(n);
        let mut z32 = Vector::zeros(n);
        gemv_t(&mut z, &w, &y_in);
        gemv_t(&mut z32, &w32, &y_in32);
        check_f64_and_f32(
            "gemv_t",
            z.as_slice(),
            (w.transpose() * &y_in).as_slice(),
            z32.as_slice(),
        );

        let mut z_acc = x.clone();
        gemv_t_acc(&mut z_acc, &w, &y_in, -2.0, Accumulate::Add);
        let expected = &x - (w.transpose() * &y_in) * 2.0;
        assert_all_close(z_acc.as_slice(), expected.as_slice(), tol::EXACT);
    }
}

#[test]
fn ger_is_a_rank_one_update() {
    for (seed, &(m, n)) in SIZES.iter().enumerate() {
        let w0 = random_matrix(m, n, seed as u64);
        let a = random_vector(m, 10 + seed as u64);
        let b = random_vector(n, 20 + seed as u64);
        let mut w = w0.clone();
        ger(&mut w, 0.25, &a, &b);
        let expected = &w0 + (&a * b.transpose()) * 0.25;
        assert_all_close(w.as_slice(), expected.as_slice(), tol::EXACT);

        let mut w32 = w0.map(|v| v as f32);
        ger(&mut w32, 0.25, &a.map(|v| v as f32), &b.map(|v| v as f32));
        let expected32: Vec<f32> = expected.iter().map(|&v| v as f32).collect();
        assert_all_close(w32.as_slice(), &expected32, tol::F32);
    }
}

#[test]
fn gemm_handles_every_transpose_combination() {
    let (m, k, n) = (7, 11, 5);
    let a = random_matrix(m, k, 1);
    let b = random_matrix(k, n, 2);
    let c0 = random_matrix(m, n, 3);
    let expected = &a * &b;
    let cases = [
        (a.clone(), Transpose::No, b.clone(), Transpose::No),
        (a.transpose(), Transpose::Yes, b.clone(), Transpose::No),
        (a.clone(), Transpose::No, b.transpose(), Transpose::Yes),
        (a.transpose(), Transpose::Yes, b.transpose(), Transpose::Yes),
    ];
    for (lhs, ta, rhs, tb) in cases {
        let mut c = Matrix::from_element(m, n, f64::NAN);
        gemm(&mut c, 1.0, &lhs, ta, &rhs, tb, Accumulate::Replace);
        assert_all_close(c.as_slice(), expected.as_slice(), tol::EXACT);
        let mut c = c0.clone();
        gemm(&mut c, 2.0, &lhs, ta, &rhs, tb, Accumulate::Add);
        assert_all_close(c.as_slice(), (&c0 + &expected * 2.0).as_slice(), tol::EXACT);
    }
}

#[test]
fn gemm_at_paper_size_matches_nalgebra_in_f32() {
    let a = random_matrix(128, 784, 4).map(|v| v as f32);
    let b = random_matrix(784, 170, 5).map(|v| v as f32);
    let mut c = Matrix::zeros(128, 170);
    gemm(
        &mut c,
        1.0,
        &a,
        Transpose::No,
        &b,
        Transpose::No,
        Accumulate::Replace,
    );
    assert_all_close(
        c.as_slice(),
        (&a * &b).as_slice(),
        Tol {
            rel: 1e-4,
            abs: 1e-5,
        },
    );
}

#[test]
#[should_panic(expected = "shape mismatch in gemv: x")]
fn gemv_rejects_a_mismatched_input() {
    let w = Matrix::<f32>::zeros(3, 4);
    let mut y = Vector::zeros(3);
    gemv(&mut y, &w, &Vector::zeros(5));
}

#[test]
fn axpy_and_dot_follow_their_formulas() {
    let mut y = vec![1.0, 2.0, 3.0];
    axpy(&mut y, 2.0, &[1.0, 0.0, -1.0]);
    assert_all_close(&y, &[3.0, 2.0, 1.0], tol::EXACT);
    assert_all_close(&[dot(&y, &[1.0, 1.0, 1.0])], &[6.0], tol::EXACT);
}

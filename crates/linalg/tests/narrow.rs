//! `matmul_narrow` against a plain product, and its bits at different thread counts.

use linalg::{
    Matrix,
    gaussian::fill_standard_normal,
    narrow::matmul_narrow,
    rng::{Stream, stream},
    testing::{Tol, assert_all_close, tol},
};

fn random(r: usize, c: usize, seed: u64) -> Matrix<f64> {
    let mut out = Matrix::zeros(r, c);
    fill_standard_normal(out.as_mut_slice(), &mut stream(seed, Stream::Init));
    out
}

#[test]
fn narrow_product_equals_the_plain_product() {
    // Tails everywhere: rows not a multiple of the vector width, columns of W not a multiple
    // of 4 or of the 512-column block; the paper's shape at B = 8.
    for (n_out, n_in, batch) in [(13, 1030, 3), (400, 9425, 8), (5, 3, 1), (16, 512, 24)] {
        let (w, x) = (random(n_out, n_in, 1), random(n_in, batch, 2));
        let want = &w * &x;
        let mut y = Matrix::from_element(n_out, batch, f64::NAN);
        matmul_narrow(&mut y, &w, &x);
        assert_all_close(y.as_slice(), want.as_slice(), tol::ITER);
        let (w32, x32) = (w.map(|a| a as f32), x.map(|a| a as f32));
        let mut y32 = Matrix::from_element(n_out, batch, f32::NAN);
        matmul_narrow(&mut y32, &w32, &x32);
        // Sums of n_in products of O(1) terms in f32.
        let sums = Tol {
            abs: 1e-6 * n_in as f64,
            rel: 1e-4,
        };
        assert_all_close(y32.map(f64::from).as_slice(), want.as_slice(), sums);
    }
}

#[test]
fn narrow_product_bits_do_not_depend_on_the_thread_count() {
    let (w, x) = (
        random(40, 2000, 3).map(|a| a as f32),
        random(2000, 8, 4).map(|a| a as f32),
    );
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut y = Matrix::zeros(40, 8);
        pool.install(|| matmul_narrow(&mut y, &w, &x));
        y
    };
    assert_eq!(run(1), run(3));
}

#[test]
#[should_panic(expected = "shapes do not chain")]
fn narrow_product_rejects_mismatched_shapes() {
    let mut y = Matrix::<f32>::zeros(2, 2);
    matmul_narrow(&mut y, &Matrix::zeros(2, 3), &Matrix::zeros(4, 2));
}

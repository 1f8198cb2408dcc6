//! Tests of `src/diffusion.rs`: the wavelets are the papers' matrix powers; frame bound ≤ 1.

use graph_scattering::{DiffusionBank, DiffusionConfig, DiffusionOperator, Error, FilterBank};
use linalg::{
    Matrix,
    testing::{assert_close, tol},
};

fn bank(operator: DiffusionOperator, n_scales: usize) -> FilterBank {
    FilterBank::Diffusion(DiffusionBank::new(DiffusionConfig { n_scales, operator }).unwrap())
}

fn power(t: &Matrix<f64>, exponent: usize) -> Matrix<f64> {
    (0..exponent).fold(Matrix::identity(t.nrows(), t.nrows()), |acc, _| acc * t)
}

#[track_caller]
fn check_matrix(got: &Matrix<f64>, want: &Matrix<f64>) {
    for (&a, &b) in got.iter().zip(want.iter()) {
        assert_close(a, b, tol::EXACT);
    }
}

#[test]
fn wavelets_are_dyadic_differences_of_the_papers_operators() {
    // All degrees ≥ 1, so the clamp is inactive and the papers' literal formulas apply [C §7]:
    // T = ½(I + D^{-1/2} W D^{-1/2}), P = ½(I + W D^{-1}), ψ₀ = I − T, ψ_j = T^{2^{j−1}} − T^{2^j}.
    let g = crate::graph(
        5,
        &[
            (0, 1, 1.0),
            (1, 2, 2.0),
            (2, 3, 1.0),
            (3, 4, 3.0),
            (4, 0, 1.0),
            (1, 3, 1.0),
        ],
    );
    let w = g.weights();
    let d = g.degrees();
    let n = 5;
    let eye = Matrix::<f64>::identity(n, n);
    let t = (&eye + Matrix::from_fn(n, n, |i, j| w[(i, j)] / (d[i] * d[j]).sqrt())) * 0.5;
    let p = (&eye + Matrix::from_fn(n, n, |i, j| w[(i, j)] / d[j])) * 0.5;
    for (operator, op) in [
        (DiffusionOperator::Symmetric, &t),
        (DiffusionOperator::LazyRandomWalk, &p),
    ] {
        let filters = bank(operator, 3).filter_matrices(&g).unwrap();
        assert_eq!(filters.len(), 4);
        check_matrix(&filters[0], &(&eye - op));
        for (j, filter) in filters.iter().enumerate().skip(1) {
            check_matrix(filter, &(power(op, 1 << (j - 1)) - power(op, 1 << j)));
        }
    }
}

#[test]
fn responses_telescope_and_frame_bound_is_at_most_one() {
    let bank = DiffusionBank::new(DiffusionConfig::default()).unwrap();
    let mut h = vec![0.0; bank.n_filters()];
    for step in 0..=2000 {
        let lambda = 2.0 * f64::from(step) / 2000.0;
        bank.responses(lambda, &mut h);
        let mu: f64 = 1.0 - lambda / 2.0;
        // Σ_j h_j = 1 − μ^{2^J}, each h_j ≥ 0, so Σ h_j² ≤ 1 (non-expansive bank).
        assert_close(h.iter().sum(), 1.0 - mu.powi(16), tol::EXACT);
        assert!(h.iter().all(|&v| v >= 0.0));
        assert!(h.iter().map(|v| v * v).sum::<f64>() <= 1.0);
    }
}

#[test]
fn too_many_scales_is_an_error() {
    let config = DiffusionConfig {
        n_scales: 31,
        ..DiffusionConfig::default()
    };
    assert!(matches!(
        DiffusionBank::new(config),
        Err(Error::InvalidConfig {
            field: "DiffusionConfig.n_scales",
            ..
        })
    ));
}

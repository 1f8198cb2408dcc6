//! Cholesky factorisation of symmetric positive-definite matrices in `f64`, with solves.

use crate::{Matrix, Vector};

/// The factorisation `A = L Lᵀ` of a symmetric positive-definite matrix (`L` lower triangular).
///
/// ```text
/// A = L Lᵀ,   A⁻¹ b = L⁻ᵀ (L⁻¹ b),   ln|A| = 2 Σᵢ ln Lᵢᵢ
/// ```
///
/// Built with [`Cholesky::new`], which returns `None` when `A` is not positive definite, as
/// nalgebra's `Cholesky::new` does.
#[derive(Debug, Clone)]
pub struct Cholesky {
    factor: nalgebra::Cholesky<f64, nalgebra::Dyn>,
}

impl Cholesky {
    /// Factorises `a`, reading only its lower triangle. `None` if `a` is not (numerically)
    /// positive definite or holds a NaN or infinite entry.
    ///
    /// # Panics
    /// If `a` is not square.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, cholesky::Cholesky};
    /// let a = Matrix::<f64>::from_row_slice(2, 2, &[4.0, 2.0, 2.0, 3.0]);
    /// let l = Cholesky::new(&a).unwrap().l();
    /// assert!((l[(0, 0)] - 2.0).abs() < 1e-12 && (l[(1, 0)] - 1.0).abs() < 1e-12);
    /// let not_spd = Matrix::<f64>::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
    /// assert!(Cholesky::new(&not_spd).is_none());
    /// ```
    pub fn new(a: &Matrix<f64>) -> Option<Self> {
        assert!(
            a.is_square(),
            "Cholesky::new: matrix is {}x{}",
            a.nrows(),
            a.ncols()
        );
        if a.iter().any(|value| !value.is_finite()) {
            return None;
        }
        let factor = nalgebra::Cholesky::new(a.clone())?;
        // A non-finite factor can only come from overflow; treat it as a failed factorisation.
        if factor.l_dirty().iter().any(|value| !value.is_finite()) {
            return None;
        }
        Some(Self { factor })
    }

    /// The dimension `n` of the factored `n × n` matrix.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, cholesky::Cholesky};
    /// assert_eq!(Cholesky::new(&Matrix::<f64>::identity(3, 3)).unwrap().dim(), 3);
    /// ```
    pub fn dim(&self) -> usize {
        self.factor.l_dirty().nrows()
    }

    /// The lower-triangular factor `L`.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, cholesky::Cholesky};
    /// let a = Matrix::<f64>::from_row_slice(2, 2, &[9.0, 3.0, 3.0, 5.0]);
    /// let l = Cholesky::new(&a).unwrap().l();
    /// assert!((&l * l.transpose() - &a).norm() < 1e-12);
    /// ```
    pub fn l(&self) -> Matrix<f64> {
        self.factor.l()
    }

    /// Solves `A x = b`.
    ///
    /// # Panics
    /// If `b.len()` differs from [`Cholesky::dim`].
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, Vector, cholesky::Cholesky};
    /// let a = Matrix::<f64>::from_row_slice(2, 2, &[4.0, 1.0, 1.0, 3.0]);
    /// let b = Vector::from_vec(vec![1.0, 2.0]);
    /// let x = Cholesky::new(&a).unwrap().solve(&b);
    /// assert!((&a * &x - &b).norm() < 1e-12);
    /// ```
    pub fn solve(&self, b: &Vector<f64>) -> Vector<f64> {
        assert_eq!(
            b.len(),
            self.dim(),
            "Cholesky::solve: right-hand side has the wrong length"
        );
        self.factor.solve(b)
    }

    /// Solves `A X = B` for a matrix right-hand side.
    ///
    /// # Panics
    /// If `b.nrows()` differs from [`Cholesky::dim`].
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, cholesky::Cholesky};
    /// let a = Matrix::<f64>::from_row_slice(2, 2, &[4.0, 1.0, 1.0, 3.0]);
    /// let x = Cholesky::new(&a).unwrap().solve_matrix(&a);
    /// assert!((x - Matrix::<f64>::identity(2, 2)).norm() < 1e-12);
    /// ```
    pub fn solve_matrix(&self, b: &Matrix<f64>) -> Matrix<f64> {
        assert_eq!(
            b.nrows(),
            self.dim(),
            "Cholesky::solve_matrix: right-hand side has the wrong number of rows"
        );
        self.factor.solve(b)
    }

    /// The inverse `A⁻¹`.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, cholesky::Cholesky};
    /// let a = Matrix::<f64>::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 4.0]);
    /// let inverse = Cholesky::new(&a).unwrap().inverse();
    /// assert!((inverse[(1, 1)] - 0.25).abs() < 1e-15);
    /// ```
    pub fn inverse(&self) -> Matrix<f64> {
        self.factor.inverse()
    }

    /// `ln |A| = 2 Σᵢ ln Lᵢᵢ`.
    ///
    /// # Example
    /// ```
    /// use linalg::{Matrix, cholesky::Cholesky};
    /// let a = Matrix::<f64>::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 4.0]);
    /// assert!((Cholesky::new(&a).unwrap().ln_determinant() - 8.0f64.ln()).abs() < 1e-12);
    /// ```
    pub fn ln_determinant(&self) -> f64 {
        self.factor.ln_determinant()
    }
}

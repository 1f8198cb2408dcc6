//! The elementwise Adam update over flat parameter buffers, run under the best instruction set
//! the CPU has (pulp's runtime dispatch, as in [`crate::fused`]).
//!
//! The update uses only correctly rounded operations (`+`, `×`, `÷`, `√`, no fused
//! multiply-add), so its results are bit-identical at every vector width.

use faer::traits::pulp;

use crate::Float;

/// The per-step constants of an Adam update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep<T> {
    /// `β₁`.
    pub beta1: T,
    /// `β₂`.
    pub beta2: T,
    /// `1 − β₁`, rounded once from `f64` (PyTorch passes it as a Python float).
    pub one_minus_beta1: T,
    /// `1 − β₂`, rounded once from `f64`.
    pub one_minus_beta2: T,
    /// `lr / (1 − β₁ᵗ)`.
    pub step_size: T,
    /// `1 / √(1 − β₂ᵗ)`.
    pub inv_sqrt_bias2: T,
    /// `ε`.
    pub eps: T,
}

impl<T: Float> AdamStep<T> {
    /// The constants of update number `t` (1-based) with PyTorch's bias corrections.
    ///
    /// # Example
    /// ```
    /// let step = linalg::adam::AdamStep::<f64>::new(1e-3, 0.9, 0.999, 1e-8, 1);
    /// assert!((step.step_size - 1e-2).abs() < 1e-15);
    /// ```
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, t: u64) -> AdamStep<T> {
        let t = i32::try_from(t).unwrap_or(i32::MAX);
        AdamStep {
            beta1: T::of_f64(beta1),
            beta2: T::of_f64(beta2),
            one_minus_beta1: T::of_f64(1.0 - beta1),
            one_minus_beta2: T::of_f64(1.0 - beta2),
            step_size: T::of_f64(lr / (1.0 - beta1.powi(t))),
            inv_sqrt_bias2: T::of_f64(1.0 / (1.0 - beta2.powi(t)).sqrt()),
            eps: T::of_f64(eps),
        }
    }
}

/// One Adam update in PyTorch's order of operations, elementwise:
///
/// ```text
/// m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
/// θ ← θ − step_size · m / (√v · inv_sqrt_bias2 + ε)           [Kingma & Ba 2015, Alg. 1]
/// ```
///
/// # Panics
/// If the four slices differ in length.
///
/// # Example
/// ```
/// use linalg::adam::{AdamStep, adam_update};
/// let (mut p, mut m, mut v) = (vec![1.0f32; 3], vec![0.0; 3], vec![0.0; 3]);
/// adam_update(&mut p, &[2.0, -2.0, 0.5], &mut m, &mut v, &AdamStep::new(1e-3, 0.9, 0.999, 1e-8, 1));
/// // The first step moves each coordinate by lr against the gradient's sign.
/// assert!((p[0] - 0.999).abs() < 1e-6 && (p[1] - 1.001).abs() < 1e-6);
/// ```
pub fn adam_update<T: Float>(
    params: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    step: &AdamStep<T>,
) {
    let n = params.len();
    assert!(
        grad.len() == n && m.len() == n && v.len() == n,
        "adam_update: lengths differ ({n}, {}, {}, {})",
        grad.len(),
        m.len(),
        v.len()
    );
    pulp::Arch::new().dispatch(Kernel {
        params,
        grad,
        m,
        v,
        step: *step,
    });
}

struct Kernel<'a, T> {
    params: &'a mut [T],
    grad: &'a [T],
    m: &'a mut [T],
    v: &'a mut [T],
    step: AdamStep<T>,
}

impl<T: Float> pulp::WithSimd for Kernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Kernel {
            params,
            grad,
            m,
            v,
            step,
        } = self;
        let (c1, c2) = (step.one_minus_beta1, step.one_minus_beta2);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            *m = step.beta1 * *m + c1 * g;
            *v = step.beta2 * *v + c2 * g * g;
            let denom = v.sqrt() * step.inv_sqrt_bias2 + step.eps;
            *p -= step.step_size * *m / denom;
        }
    }
}

//! Fused elementwise activations: softplus(β) with its derivative, softmax and log-softmax.

use crate::Float;

/// PyTorch's softplus threshold: above `β x > 20` softplus returns `x` itself.
pub const SOFTPLUS_THRESHOLD: f64 = 20.0;

/// Softplus with sharpness β, PyTorch semantics (threshold 20), written into `y`.
///
/// ```text
/// y = (1/β) ln(1 + exp(β z))     if β z ≤ 20         [B §Methods, Eq. 13]
/// y = z                          otherwise
/// ```
///
/// # Panics
/// If `z` and `y` differ in length.
///
/// # Example
/// ```
/// let mut y = [0.0f32; 2];
/// linalg::activation::softplus(&mut y, &[0.0, 30.0], 10.0);
/// assert!((y[0] - std::f32::consts::LN_2 / 10.0).abs() < 1e-7);
/// assert_eq!(y[1], 30.0);
/// ```
#[inline]
pub fn softplus<T: Float>(y: &mut [T], z: &[T], beta: T) {
    assert_eq!(y.len(), z.len(), "softplus: length mismatch");
    T::softplus_kernel(y, None, z, beta, T::of_f64(SOFTPLUS_THRESHOLD));
}

/// Softplus and its derivative in one pass: `y = softplus_β(z)`, `dy = σ′(z)`.
///
/// The papers' code computes the derivative from the output; this is the same function:
///
/// ```text
/// σ′ = 1 − exp(−β y) = sigmoid(β z)                 [B §Methods, Eq. 3]
/// ```
///
/// In `f64` both are computed through libm exactly as written. In `f32` (training) one shared
/// `e = exp(β z)` gives `y = ln(1 + e)/β` and `σ′ = e/(1 + e)`, with branch-free polynomial
/// `exp`/`log` that the compiler vectorises (within a few ulp of the `f64` values; see the test
/// `fast_f32_softplus_is_within_a_few_ulp_of_f64`).
///
/// # Panics
/// If the three slices differ in length.
///
/// # Example
/// ```
/// let (mut y, mut dy) = ([0.0f64; 1], [0.0f64; 1]);
/// linalg::activation::softplus_with_derivative(&mut y, &mut dy, &[0.0], 10.0);
/// assert!((dy[0] - 0.5).abs() < 1e-12);
/// ```
#[inline]
pub fn softplus_with_derivative<T: Float>(y: &mut [T], dy: &mut [T], z: &[T], beta: T) {
    assert_eq!(y.len(), z.len(), "softplus: length mismatch");
    assert_eq!(dy.len(), z.len(), "softplus: length mismatch");
    T::softplus_kernel(y, Some(dy), z, beta, T::of_f64(SOFTPLUS_THRESHOLD));
}

/// Derivative of softplus from its output, `σ′ = 1 − exp(−β y)`, written into `dy`.
///
/// # Panics
/// If `y` and `dy` differ in length.
#[inline]
pub fn softplus_derivative_from_output<T: Float>(dy: &mut [T], y: &[T], beta: T) {
    assert_eq!(y.len(), dy.len(), "softplus derivative: length mismatch");
    for (dyi, &yi) in dy.iter_mut().zip(y) {
        *dyi = T::one() - (-beta * yi).exp();
    }
}

/// Numerically stable softmax of `logits`, written into `p`.
///
/// ```text
/// pᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z)
/// ```
///
/// # Panics
/// If the lengths differ or `logits` is empty.
///
/// # Example
/// ```
/// let mut p = [0.0f32; 3];
/// linalg::activation::softmax(&mut p, &[1.0, 2.0, 3.0]);
/// assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// ```
#[inline]
pub fn softmax<T: Float>(p: &mut [T], logits: &[T]) {
    assert_eq!(p.len(), logits.len(), "softmax: length mismatch");
    let max = max_of(logits);
    let mut sum = T::zero();
    for (pi, &zi) in p.iter_mut().zip(logits) {
        let e = (zi - max).exp();
        *pi = e;
        sum += e;
    }
    let inv = T::one() / sum;
    for pi in p.iter_mut() {
        *pi *= inv;
    }
}

/// Numerically stable log-softmax of `logits`, written into `out`.
///
/// ```text
/// log pᵢ = zᵢ − max z − ln Σⱼ exp(zⱼ − max z)
/// ```
///
/// # Panics
/// If the lengths differ or `logits` is empty.
#[inline]
pub fn log_softmax<T: Float>(out: &mut [T], logits: &[T]) {
    assert_eq!(out.len(), logits.len(), "log_softmax: length mismatch");
    let max = max_of(logits);
    let sum = logits
        .iter()
        .fold(T::zero(), |acc, &zi| acc + (zi - max).exp());
    let log_norm = max + sum.ln();
    for (oi, &zi) in out.iter_mut().zip(logits) {
        *oi = zi - log_norm;
    }
}

/// Index of the largest element (the first one on ties); `None` for an empty slice or one
/// that holds a NaN.
#[inline]
pub fn argmax<T: Float>(values: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (idx, &v) in values.iter().enumerate() {
        if v.as_f64().is_nan() {
            return None;
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((idx, v)),
        }
    }
    best.map(|(idx, _)| idx)
}

#[inline]
fn max_of<T: Float>(values: &[T]) -> T {
    assert!(!values.is_empty(), "softmax of an empty vector");
    values
        .iter()
        .copied()
        .fold(values[0], |m, v| if v > m { v } else { m })
}

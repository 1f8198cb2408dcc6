//! Branch-free `f32` exp and log1p for the fused softplus, written so the compiler vectorises
//! them (the libm calls it replaces cannot be vectorised and cost ~13 ns per hidden unit).
//!
//! The polynomials are the classical Cephes single-precision ones (Moshier, "Methods and Programs
//! for Mathematical Functions", 1989): range reduction by powers of two, a degree-6 polynomial for
//! `exp` on `[−ln2/2, ln2/2]` and a degree-9 one for `log` on `[√½, √2)`. The test
//! `fast_softplus_is_within_a_few_ulp_of_f64` bounds the error of the fused softplus against an
//! `f64` reference.

/// `exp(x)` for `x ∈ [−87, 88]` (callers clamp), relative error ≲ 2 ulp.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest integer with the 1.5·2²³ trick (exact for |x·log2 e| < 2²²).
    const ROUND: f32 = 12_582_912.0;
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // The low mantissa bits of `shifted` hold n + 2²² (its exponent is fixed at 2²³), so 2ⁿ is
    // built with integer operations only, which vectorise (a float-to-int cast would not).
    let n_int = shifted.to_bits().wrapping_sub(0x4b40_0000);
    let scale = f32::from_bits(n_int.wrapping_add(127) << 23);
    e_r * scale
}

/// `ln(u)` for normal positive `u`, relative error ≲ 2 ulp.
#[inline(always)]
pub(crate) fn ln_f32(u: f32) -> f32 {
    const SQRT_2: f32 = std::f32::consts::SQRT_2;
    let bits = u.to_bits();
    let mut k = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    // Bring the mantissa into [√½, √2) so the polynomial argument is small.
    let big = m > SQRT_2;
    m = if big { m * 0.5 } else { m };
    k += big as i32;
    let k = k as f32;
    let f = m - 1.0;
    let z = f * f;
    let mut p = 7.037_683_6e-2_f32;
    p = p * f - 1.151_461e-1;
    p = p * f + 1.167_699_9e-1;
    p = p * f - 1.242_014_1e-1;
    p = p * f + 1.424_932_3e-1;
    p = p * f - 1.666_805_8e-1;
    p = p * f + 2.000_071_4e-1;
    p = p * f - 2.499_999_4e-1;
    p = p * f + 3.333_333e-1;
    let mut y = p * f * z;
    y += -2.121_944_4e-4 * k;
    y += -0.5 * z;
    f + y + 0.693_359_4 * k
}

/// Fused softplus(β) and σ′ in `f32`, PyTorch's threshold included.
///
/// With `e = exp(β z)`: `y = ln(1 + e)/β` (log1p through the compensated `ln(1 + e)`),
/// `σ′ = e / (1 + e)`; above the threshold `y = z` and `σ′ = 1` (which is what `1 − exp(−β z)`
/// rounds to in `f32` for `β z > 20`).
#[inline]
pub(crate) fn softplus_f32(
    y: &mut [f32],
    dy: Option<&mut [f32]>,
    z: &[f32],
    beta: f32,
    threshold: f32,
) {
    let inv_beta = 1.0 / beta;
    let point = |zi: f32| {
        let bz = beta * zi;
        let e = exp_f32(bz.clamp(-87.0, threshold));
        let u = 1.0 + e;
        // ln(1 + e) = ln(u) + (e − (u − 1))/u corrects the rounding of u (log1p for small e).
        let log1p = ln_f32(u) + (e - (u - 1.0)) / u;
        let above = bz > threshold;
        let value = if above { zi } else { log1p * inv_beta };
        let derivative = if above { 1.0 } else { e / u };
        (value, derivative)
    };
    match dy {
        Some(dy) => {
            for ((yi, dyi), &zi) in y.iter_mut().zip(dy.iter_mut()).zip(z) {
                (*yi, *dyi) = point(zi);
            }
        }
        None => {
            for (yi, &zi) in y.iter_mut().zip(z) {
                *yi = point(zi).0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_ln_are_within_two_ulp_on_a_dense_grid() {
        let mut worst_exp = 0.0f64;
        let mut worst_ln = 0.0f64;
        for step in 0..200_000 {
            let x = -87.0 + 175.0 * step as f32 / 200_000.0;
            let exact = (x as f64).exp();
            worst_exp = worst_exp.max(((exp_f32(x) as f64 - exact) / exact).abs());
            let u = 1.0 + step as f32 * 0.01;
            let exact = (u as f64).ln();
            if exact > 0.0 {
                worst_ln = worst_ln.max(((ln_f32(u) as f64 - exact) / exact).abs());
            }
        }
        // 2 ulp of f32 relative = 2 · 2⁻²³ ≈ 2.4e-7.
        assert!(worst_exp < 2.4e-7, "exp relative error {worst_exp:e}");
        assert!(worst_ln < 2.4e-7, "ln relative error {worst_ln:e}");
    }
}

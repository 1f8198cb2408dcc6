//! One layer's plasticity update and its tangent: the rule's vectors, layer-wide scalars and the
//! stacked rank-2/3 updates of `W` and `Ẇ`.

use linalg::Float;
use plasticity_core::Term;

use crate::tangent::{dot, matmul, unroll::Unroll};

/// Per-tangent scalars of one layer (`R` entries each).
struct Scalars<T> {
    a_dot: Vec<T>,
    b_dot: Vec<T>,
}

impl<T: Float> Unroll<T> {
    /// Rule vectors of layer ℓ and its update of `W_ℓ` and `Ẇ_ℓ` (reads only pre-update
    /// values of this layer).
    pub(super) fn update_layer(&mut self, layer: usize) {
        let idx = layer - 1;
        let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
        let n_tangents = self.terms.len();
        let th = self.theta;
        let has = |term: Term| self.has[term.index()];
        let w = self.w[idx].as_slice();
        let (y, e, z) = (&self.y[layer], &self.e[layer], &self.z[layer]);
        let (yp, ep) = (&self.y[layer - 1], &self.e[layer - 1]);
        if self.needs_projection {
            matmul(
                &mut self.q[idx],
                m,
                1,
                false,
                (w, n, m, true),
                (y, n, 1, false),
            );
            if n_tangents > 0 {
                let qdot = &mut self.qdot[idx];
                matmul(
                    qdot,
                    n_tangents,
                    m,
                    false,
                    (&self.ydot[layer], n, n_tangents, true),
                    (w, n, m, false),
                );
                matmul(
                    qdot,
                    1,
                    n_tangents * m,
                    true,
                    (y, n, 1, true),
                    (&self.wdot[idx], n, n_tangents * m, false),
                );
            }
        }
        let q = &self.q[idx];
        let sum_y = if has(Term::ScaledPseudoGradient) {
            y.iter().fold(T::zero(), |acc, &v| acc + v)
        } else {
            T::zero()
        };
        let s = if has(Term::ProjectedPostPreError) || has(Term::ProjectedErrorActivation) {
            dot(q, ep)
        } else {
            T::zero()
        };
        let c = if has(Term::ProjectedActivationError) {
            dot(e, z)
        } else {
            T::zero()
        };
        let t = |term: Term| th[term.index()];
        let a = t(Term::PseudoGradient)
            + t(Term::ScaledPseudoGradient) * sum_y
            + t(Term::ProjectedErrorActivation) * s;
        let b = t(Term::PostActivationPreError)
            + t(Term::ProjectedPostPreError) * s
            + t(Term::ProjectedActivationError) * c;
        let scalars = (n_tangents > 0).then(|| self.tangent_scalars(layer, sum_y, s, c));

        let lhs = &mut self.lhs_primal[idx];
        lhs[..n].copy_from_slice(e);
        lhs[n..2 * n].copy_from_slice(y);
        lhs[2 * n..].fill(T::one());
        let rhs = &mut self.rhs_primal[idx];
        let (theta2, theta4, theta9) = (t(Term::ErrorHebb), t(Term::PreError), t(Term::Oja));
        for j in 0..m {
            rhs[j] = -a * yp[j] - theta2 * ep[j];
            let oja = if self.needs_projection {
                yp[j] - q[j]
            } else {
                yp[j]
            };
            rhs[m + j] = -b * ep[j] + theta9 * oja;
            rhs[2 * m + j] = -theta4 * ep[j];
        }
        let rank = if has(Term::PreError) { 3 } else { 2 };

        if let Some(scalars) = scalars {
            let (ydot_p, edot_p) = (&self.ydot[layer - 1], &self.edot[layer - 1]);
            let qdot = &self.qdot[idx];
            let rhs_t = &mut self.rhs_tangent[idx];
            let len = n_tangents * m;
            for (k, term) in self.terms.iter().enumerate() {
                let is = |other: Term| if *term == other { T::one() } else { T::zero() };
                let (k2, k4, k9) = (is(Term::ErrorHebb), is(Term::PreError), is(Term::Oja));
                let (a_dot, b_dot) = (scalars.a_dot[k], scalars.b_dot[k]);
                for j in 0..m {
                    let (ypd, epd) = (ydot_p[k * m + j], edot_p[k * m + j]);
                    let at = j * n_tangents + k;
                    rhs_t[at] = -a_dot * yp[j] - a * ypd - theta2 * epd - k2 * ep[j];
                    let (q_j, qdot_j) = if self.needs_projection {
                        (q[j], qdot[at])
                    } else {
                        (T::zero(), T::zero())
                    };
                    rhs_t[len + at] =
                        -b_dot * ep[j] - b * epd + theta9 * (ypd - qdot_j) + k9 * (yp[j] - q_j);
                    rhs_t[2 * len + at] = -theta4 * epd - k4 * ep[j];
                }
            }
            let lhs_t = &mut self.lhs_tangent[idx];
            let stacked = n_tangents * n;
            lhs_t[..stacked].copy_from_slice(&self.edot[layer]);
            lhs_t[stacked..].copy_from_slice(&self.ydot[layer]);

            // Ẇ ← (1 − θ₃) Ẇ − [r = 3] W + [ė ẏ] [r_e r_y]ᵀ + [e y 1] [ṙ_e ṙ_y f₄]ᵀ.
            let wdot = &mut self.wdot[idx];
            let decay = t(Term::Decay);
            if decay != T::zero() {
                let keep = T::one() - decay;
                wdot.iter_mut().for_each(|v| *v *= keep);
            }
            if let Some(k3) = self.terms.iter().position(|&term| term == Term::Decay) {
                for (col, w_col) in wdot.chunks_exact_mut(stacked).zip(w.chunks_exact(n)) {
                    for (v, &wi) in col[k3 * n..(k3 + 1) * n].iter_mut().zip(w_col) {
                        *v -= wi;
                    }
                }
            }
            matmul(
                wdot,
                stacked,
                m,
                true,
                (lhs_t, stacked, 2, false),
                (&rhs[..2 * m], m, 2, true),
            );
            matmul(
                wdot,
                n,
                len,
                true,
                (&lhs[..rank * n], n, rank, false),
                (&rhs_t[..rank * len], len, rank, true),
            );
        }

        // W ← (1 − θ₃) W + [e y 1] [r_e r_y −θ₄ e_p]ᵀ.
        let w = self.w[idx].as_mut_slice();
        let decay = t(Term::Decay);
        if decay != T::zero() {
            let keep = T::one() - decay;
            w.iter_mut().for_each(|v| *v *= keep);
        }
        let (lhs, rhs) = (&self.lhs_primal[idx], &self.rhs_primal[idx]);
        matmul(
            w,
            n,
            m,
            true,
            (&lhs[..rank * n], n, rank, false),
            (&rhs[..rank * m], m, rank, true),
        );
    }

    /// `ȧ_k = d(θ₀ + θ₅ Σy + θ₇ s)/dθ_{r_k}` and `ḃ_k = d(θ₁ + θ₆ s + θ₈ eᵀz)/dθ_{r_k}`.
    fn tangent_scalars(&self, layer: usize, sum_y: T, s: T, c: T) -> Scalars<T> {
        let idx = layer - 1;
        let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
        let n_tangents = self.terms.len();
        let t = |term: Term| self.theta[term.index()];
        let has = |term: Term| self.has[term.index()];
        let needs_s = has(Term::ProjectedPostPreError) || has(Term::ProjectedErrorActivation);
        let (ep, q, qdot) = (&self.e[layer - 1], &self.q[idx], &self.qdot[idx]);
        let edot_p = &self.edot[layer - 1];
        let mut a_dot = vec![T::zero(); n_tangents];
        let mut b_dot = vec![T::zero(); n_tangents];
        for (k, term) in self.terms.iter().enumerate() {
            let ydot = &self.ydot[layer][k * n..(k + 1) * n];
            let sum_ydot = if has(Term::ScaledPseudoGradient) {
                ydot.iter().fold(T::zero(), |acc, &v| acc + v)
            } else {
                T::zero()
            };
            let s_dot = if needs_s {
                (0..m).fold(T::zero(), |acc, j| {
                    acc + qdot[j * n_tangents + k] * ep[j] + q[j] * edot_p[k * m + j]
                })
            } else {
                T::zero()
            };
            let c_dot = if has(Term::ProjectedActivationError) {
                let (edot, zdot) = (
                    &self.edot[layer][k * n..(k + 1) * n],
                    &self.zdot[layer][k * n..(k + 1) * n],
                );
                dot(edot, &self.z[layer]) + dot(&self.e[layer], zdot)
            } else {
                T::zero()
            };
            let explicit_a = match term {
                Term::PseudoGradient => T::one(),
                Term::ScaledPseudoGradient => sum_y,
                Term::ProjectedErrorActivation => s,
                _ => T::zero(),
            };
            let explicit_b = match term {
                Term::PostActivationPreError => T::one(),
                Term::ProjectedPostPreError => s,
                Term::ProjectedActivationError => c,
                _ => T::zero(),
            };
            a_dot[k] = t(Term::ScaledPseudoGradient) * sum_ydot
                + t(Term::ProjectedErrorActivation) * s_dot
                + explicit_a;
            b_dot[k] = t(Term::ProjectedPostPreError) * s_dot
                + t(Term::ProjectedActivationError) * c_dot
                + explicit_b;
        }
        Scalars { a_dot, b_dot }
    }
}

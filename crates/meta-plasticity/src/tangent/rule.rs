//! One layer's plasticity update and its tangent: the rule's vectors, layer-wide scalars and the
//! one fused pass over `W` and `Ẇ` that updates both and starts the next step's forward pass.

use linalg::{
    Float,
    stacked::{StackedProduct, StackedProjection, StackedUpdate, stacked_update},
};
use plasticity_core::Term;

use crate::tangent::{dot, matmul, unroll::Unroll};

/// Per-tangent scalars of one layer (`R` entries each).
struct Scalars<T> {
    a_dot: Vec<T>,
    b_dot: Vec<T>,
}

impl<T: Float> Unroll<T> {
    /// Rule vectors of layer ℓ and its update of `W_ℓ` and `Ẇ_ℓ` (reads only this step's
    /// values), fused with the next step's product `z_ℓ = W_ℓ y_{ℓ−1}` and its tangents when
    /// `with_product` (the next input of the layer is in `y_next[ℓ−1]`, `ẏ_next[ℓ−1]`).
    ///
    /// The Oja projection `q = Wᵀy` and its tangent `q̇_k = Ẇ_kᵀy + Wᵀẏ_k` are taken inside the
    /// pass, column by column, unless F6 or F7 is active: their scalar `s = qᵀe_p` (and `ṡ`)
    /// is needed before any column changes, so `q` is then computed in a pass of its own.
    pub(super) fn update_layer(&mut self, layer: usize, with_product: bool) {
        let idx = layer - 1;
        let (n, m) = (self.sizes[layer], self.sizes[layer - 1]);
        let n_tangents = self.terms.len();
        let th = self.theta;
        let has = |term: Term| self.has[term.index()];
        let needs_s = has(Term::ProjectedPostPreError) || has(Term::ProjectedErrorActivation);
        let projection_in_pass = has(Term::Oja) && !needs_s;
        let w = self.w[idx].as_slice();
        let (y, e, z) = (&self.y[layer], &self.e[layer], &self.z[layer]);
        let (yp, ep) = (&self.y[layer - 1], &self.e[layer - 1]);
        if needs_s {
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
                    (self.wdot[idx].as_slice(), n, n_tangents * m, false),
                );
            }
        }
        let q = &self.q[idx];
        let sum_y = if has(Term::ScaledPseudoGradient) {
            y.iter().fold(T::zero(), |acc, &v| acc + v)
        } else {
            T::zero()
        };
        let s = if needs_s { dot(q, ep) } else { T::zero() };
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

        // Per-column coefficients; the Oja projection enters here only if it was computed
        // beforehand, otherwise the pass adds it.
        let rhs = &mut self.rhs_primal[idx];
        let (theta2, theta4, theta9) = (t(Term::ErrorHebb), t(Term::PreError), t(Term::Oja));
        for j in 0..m {
            let oja = if needs_s { yp[j] - q[j] } else { yp[j] };
            rhs[3 * j] = -a * yp[j] - theta2 * ep[j];
            rhs[3 * j + 1] = -b * ep[j] + theta9 * oja;
            rhs[3 * j + 2] = -theta4 * ep[j];
        }
        if let Some(scalars) = scalars {
            let (ydot_p, edot_p) = (&self.ydot[layer - 1], &self.edot[layer - 1]);
            let qdot = &self.qdot[idx];
            let rhs_t = &mut self.rhs_tangent[idx];
            for (k, term) in self.terms.iter().enumerate() {
                let is = |other: Term| if *term == other { T::one() } else { T::zero() };
                let (k2, k4, k9) = (is(Term::ErrorHebb), is(Term::PreError), is(Term::Oja));
                let (a_dot, b_dot) = (scalars.a_dot[k], scalars.b_dot[k]);
                for j in 0..m {
                    let (ypd, epd) = (ydot_p[k * m + j], edot_p[k * m + j]);
                    let (q_j, qdot_j) = if needs_s {
                        (q[j], qdot[j * n_tangents + k])
                    } else {
                        (T::zero(), T::zero())
                    };
                    let at = 3 * (j * n_tangents + k);
                    rhs_t[at] = -a_dot * yp[j] - a * ypd - theta2 * epd - k2 * ep[j];
                    rhs_t[at + 1] =
                        -b_dot * ep[j] - b * epd + theta9 * (ypd - qdot_j) + k9 * (yp[j] - q_j);
                    rhs_t[at + 2] = -theta4 * epd - k4 * ep[j];
                }
            }
        }

        // W ← (1 − θ₃) W + [e y 1] [r_e r_y −θ₄ e_p]ᵀ and
        // Ẇ_k ← (1 − θ₃) Ẇ_k − [r_k = 3] W + [ė_k ẏ_k] [r_e r_y]ᵀ + [e y 1] [ṙ_e ṙ_y ḟ₄]_kᵀ,
        // then z = W y_p, ż_k = Ẇ_k y_p + W ẏ_p,k of the next sample.
        let decay = t(Term::Decay);
        let k9 = self.terms.iter().position(|&term| term == Term::Oja);
        let product = with_product.then(|| StackedProduct {
            input: &self.y_next[layer - 1],
            input_dot: (layer > 1 && n_tangents > 0).then(|| self.ydot_next[layer - 1].as_slice()),
            output: &mut self.z_next[layer],
            output_dot: &mut self.zdot_next[layer],
        });
        // Oja's −θ₉ Wᵀy (and its tangent, with dγ/dθ₉ = −1) inside the pass, column by column.
        let projection = projection_in_pass.then(|| StackedProjection {
            gamma: -theta9,
            gamma_tangent: k9.map(|k| (k, -T::one())),
            u: y.as_slice(),
            u_dot: self.ydot[layer].as_slice(),
        });
        let update = StackedUpdate {
            decay: T::one() - decay,
            decay_tangent: self.terms.iter().position(|&term| term == Term::Decay),
            left: [e, y],
            left_dot: [&self.edot[layer], &self.ydot[layer]],
            right: &self.rhs_primal[idx],
            right_dot: &self.rhs_tangent[idx],
            projection,
            product,
        };
        stacked_update(&mut self.w[idx], &mut self.wdot[idx], update);
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

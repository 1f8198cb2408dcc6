//! The same meta-gradient by reverse mode, with the weights checkpointed every `⌈√T⌉` steps.
//!
//! The forward-mode pass carries `R` weight-sized tangents and reads and writes all of them at
//! every step, so its cost grows with the number of differentiated terms. Reverse mode carries one
//! weight-sized adjoint `W̄ = ∂L/∂W` backwards instead, whatever `R` is. It needs the weights of
//! every step in reverse order; they are not stored: the forward pass keeps `W` (and the
//! sample's forward vectors) at the start of every segment of `⌈√T⌉` steps, and each segment is
//! replayed from its checkpoint, bit for bit, just before the reverse sweep passes through it.
//! Cost: two primal passes and one reverse sweep; memory: `2⌈√T⌉` copies of `W`.

use linalg::{Float, Matrix, stacked::stacked_product_t};
use plasticity_core::{N_TERMS, Term};

use crate::{
    InnerLoop, Result, Sample, UnrollOutcome,
    tangent::{check_samples, dot, matmul, on_pool, unroll::Unroll},
};

/// [`crate::meta_gradient`] by reverse mode: the same inputs, outputs and errors, the same
/// gradient up to rounding, at a cost that does not grow with the number of terms.
///
/// The inner loop's primal runs twice (once whole, once segment by segment from checkpoints), and
/// the reverse sweep through one step reads `W` and the adjoint `W̄` a few times each, so an
/// episode costs about as much as a forward-mode episode with three or four tangents; with all
/// ten terms it is several times cheaper. Peak memory holds `2⌈√T⌉` copies of `W`
/// (32 for T = 250).
///
/// ```text
/// W̄_t = (1 − θ₃) W̄_{t+1} + y (s̄ e_p − θ₉ W̄ᵀy)ᵀ + e (c̄ y_p + [BP] ē_{p}⊙σ′_p)ᵀ + z̄ y_pᵀ
/// θ̄_r += ⟨W̄_{t+1}, F^r_t⟩,  s̄ = −θ₆ yᵀW̄e_p − θ₇ eᵀW̄y_p,  c̄ = −θ₈ yᵀW̄e_p     [B §Methods, Eqs. 5, 14–23]
/// ```
/// with `z̄`, `ȳ`, `ē` the adjoints of the step's forward and error passes (`[B §Methods,
/// Eqs. 1–3]` in reverse order). Both modes are exact: they agree to rounding
/// (`tests/reverse.rs`), and each agrees with central finite differences.
///
/// # Errors
/// As [`crate::meta_gradient`], except that there are no tangents to overflow:
/// [`Error::Diverged`](crate::Error::Diverged) names the step at which the output became
/// non-finite, or step T if the query loss or the gradient is not finite.
///
/// # Example
/// ```
/// use linalg::Matrix;
/// use meta_plasticity::{meta_gradient, meta_gradient_reverse, InnerLoop, Pathway};
/// use plasticity_core::Term;
/// let w1 = Matrix::<f64>::from_fn(3, 2, |i, j| 0.1 * (i as f64 - j as f64));
/// let w2 = Matrix::<f64>::from_fn(2, 3, |i, j| 0.2 * (i as f64 + j as f64) - 0.3);
/// let inner = InnerLoop { weights: vec![w1, w2], pathway: Pathway::Backprop, beta: 10.0 };
/// let mut theta = [0.0; 10];
/// theta[0] = 0.5;
/// let x = [1.0, 0.5];
/// let (train, query) = (&[(&x[..], 1); 5], &[(&x[..], 1)]);
/// let terms = [Term::PseudoGradient, Term::Oja];
/// let reverse = meta_gradient_reverse(&inner, &terms, &theta, train, query).unwrap();
/// let forward = meta_gradient(&inner, &terms, &theta, train, query).unwrap();
/// assert!((reverse.gradient[0] - forward.gradient[0]).abs() < 1e-12);
/// assert!((reverse.gradient[9] - forward.gradient[9]).abs() < 1e-12);
/// ```
pub fn meta_gradient_reverse<T: Float>(
    inner: &InnerLoop<T>,
    terms: &[Term],
    theta: &[f64; N_TERMS],
    train: &[Sample<'_, T>],
    query: &[Sample<'_, T>],
) -> Result<UnrollOutcome<T>> {
    // The primal with every differentiated term marked as acting (so e₀ is computed when a
    // differentiated term reads it), but no tangents.
    let unroll = Unroll::primal_for(inner, terms, theta)?;
    check_samples(&unroll, train, query)?;
    // The checkpoints and the segment's records (2⌈√T⌉ copies of W) are allocated here, on the
    // calling thread, not on whichever worker of the pool runs the episode: the allocator keeps
    // freed blocks per thread, and episodes that alternated between two workers held two sets
    // (peak RSS of the F^bio bench 69.6 MB against 43.9 MB at one thread).
    let mut tape = Tape::new(&unroll, train.len());
    // As in forward mode: the fused primal passes split wide layers over rayon's pool.
    on_pool(|| reverse(unroll, &mut tape, terms, train, query))
}

/// The storage of one reverse-mode episode: checkpoints every `segment` steps and the records of
/// one segment.
struct Tape<T: Float> {
    segment: usize,
    checkpoints: Vec<Checkpoint<T>>,
    records: Vec<Record<T>>,
}

impl<T: Float> Tape<T> {
    fn new(unroll: &Unroll<T>, n_steps: usize) -> Self {
        let segment = segment_length(n_steps);
        Tape {
            segment,
            checkpoints: (0..n_steps.div_ceil(segment))
                .map(|_| Checkpoint::new(unroll))
                .collect(),
            records: (0..segment.min(n_steps))
                .map(|_| Record::new(unroll))
                .collect(),
        }
    }
}

/// Steps per checkpointed segment: `⌈√T⌉`, which balances checkpoints against the replay.
fn segment_length(n_steps: usize) -> usize {
    let mut k = (n_steps as f64).sqrt() as usize;
    while k * k < n_steps {
        k += 1;
    }
    k.max(1)
}

/// The primal state at the start of a step: the weights and the step's forward pass.
struct Checkpoint<T: Float> {
    w: Vec<Matrix<T>>,
    y: Vec<Vec<T>>,
    z: Vec<Vec<T>>,
    ds: Vec<Vec<T>>,
}

impl<T: Float> Checkpoint<T> {
    /// Storage in the shapes of `unroll`.
    fn new(unroll: &Unroll<T>) -> Self {
        Checkpoint {
            w: unroll.w.clone(),
            y: unroll.y.clone(),
            z: unroll.z.clone(),
            ds: unroll.ds.clone(),
        }
    }

    fn save(&mut self, unroll: &Unroll<T>) {
        copy_all(&mut self.y, &unroll.y);
        copy_all(&mut self.z, &unroll.z);
        copy_all(&mut self.ds, &unroll.ds);
        copy_weights(&mut self.w, &unroll.w);
    }

    fn restore(&self, unroll: &mut Unroll<T>) {
        copy_all(&mut unroll.y, &self.y);
        copy_all(&mut unroll.z, &self.z);
        copy_all(&mut unroll.ds, &self.ds);
        copy_weights(&mut unroll.w, &self.w);
    }
}

/// What the reverse sweep needs of one step: the weights before its update and its vectors.
struct Record<T: Float> {
    w: Vec<Matrix<T>>,
    /// Per layer `[Wᵀy | Wᵀe]` (`2m`), taken during the replay while `W` is in cache.
    w_left: Vec<Vec<T>>,
    /// Scratch `[y | e]` of the largest layer.
    ye: Vec<T>,
    y: Vec<Vec<T>>,
    z: Vec<Vec<T>>,
    ds: Vec<Vec<T>>,
    e: Vec<Vec<T>>,
    g: Vec<Vec<T>>,
}

impl<T: Float> Record<T> {
    fn new(unroll: &Unroll<T>) -> Self {
        let sizes = &unroll.sizes;
        Record {
            w: unroll.w.clone(),
            w_left: zeros(sizes[..sizes.len() - 1].iter().map(|&m| 2 * m)),
            ye: vec![T::zero(); 2 * sizes.iter().copied().max().unwrap_or(0)],
            y: unroll.y.clone(),
            z: unroll.z.clone(),
            ds: unroll.ds.clone(),
            e: unroll.e.clone(),
            g: unroll.g.clone(),
        }
    }

    fn weights_from(&mut self, unroll: &Unroll<T>) {
        copy_weights(&mut self.w, &unroll.w);
    }

    /// The step's vectors, once its errors are known, and `Wᵀ[y e]` of every layer.
    fn vectors_from(&mut self, unroll: &Unroll<T>) {
        copy_all(&mut self.y, &unroll.y);
        copy_all(&mut self.z, &unroll.z);
        copy_all(&mut self.ds, &unroll.ds);
        copy_all(&mut self.e, &unroll.e);
        copy_all(&mut self.g, &unroll.g);
        for (idx, w) in unroll.w.iter().enumerate() {
            let n = w.nrows();
            let ye = &mut self.ye[..2 * n];
            ye[..n].copy_from_slice(&unroll.y[idx + 1]);
            ye[n..].copy_from_slice(&unroll.e[idx + 1]);
            stacked_product_t(w, ye, &mut self.w_left[idx]);
        }
    }
}

fn copy_weights<T: Float>(dst: &mut [Matrix<T>], src: &[Matrix<T>]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.as_mut_slice().copy_from_slice(s.as_slice());
    }
}

fn copy_all<T: Copy>(dst: &mut [Vec<T>], src: &[Vec<T>]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.copy_from_slice(s);
    }
}

fn zeros<T: Float>(sizes: impl Iterator<Item = usize>) -> Vec<Vec<T>> {
    sizes.map(|n| vec![T::zero(); n]).collect()
}

/// Buffers of the reverse sweep, reused at every step.
struct Scratch<T: Float> {
    /// `ȳ` and `ē` per node.
    y_bar: Vec<Vec<T>>,
    e_bar: Vec<Vec<T>>,
    /// `ē ⊙ σ′` per node (the adjoint of the back-projection's input).
    v: Vec<Vec<T>>,
    /// `z̄` per node.
    z_bar: Vec<Vec<T>>,
    /// Per node `[y | e | 1]` (`3n`), the right-hand side of `W̄ᵀ[y e 1]`.
    ye1: Vec<Vec<T>>,
    /// Per layer: `[y_p | e_p | q]` (`3m`), `W̄ [y_p e_p q]` (`3n`), `W̄ᵀ[y e 1]` (`3m`),
    /// `W c_y` (`n`).
    pq: Vec<Vec<T>>,
    a_right: Vec<Vec<T>>,
    a_left: Vec<Vec<T>>,
    w_cy: Vec<Vec<T>>,
    /// Per layer, per column `j`: the coefficients `c_y,j`, `c_e,j` of the adjoint's update.
    c_y: Vec<Vec<T>>,
    c_e: Vec<Vec<T>>,
}

impl<T: Float> Scratch<T> {
    fn new(sizes: &[usize]) -> Self {
        let nodes = || sizes.iter().copied();
        let outs = || sizes[1..].iter().copied();
        let ins = || sizes[..sizes.len() - 1].iter().copied();
        Scratch {
            y_bar: zeros(nodes()),
            e_bar: zeros(nodes()),
            v: zeros(nodes()),
            z_bar: zeros(nodes()),
            ye1: zeros(nodes().map(|n| 3 * n)),
            pq: zeros(ins().map(|m| 3 * m)),
            a_right: zeros(outs().map(|n| 3 * n)),
            a_left: zeros(ins().map(|m| 3 * m)),
            w_cy: zeros(outs()),
            c_y: zeros(ins()),
            c_e: zeros(ins()),
        }
    }
}

/// [`meta_gradient_reverse`] on the calling thread, from the checked primal loop and its
/// storage.
fn reverse<T: Float>(
    mut unroll: Unroll<T>,
    tape: &mut Tape<T>,
    terms: &[Term],
    train: &[Sample<'_, T>],
    query: &[Sample<'_, T>],
) -> Result<UnrollOutcome<T>> {
    let mut differentiated = [false; N_TERMS];
    for term in terms {
        differentiated[term.index()] = true;
    }
    let n_steps = train.len();
    let segment = tape.segment;
    let next = |step: usize| train.get(step + 1).map(|&(input, _)| input);

    // Forward: the whole inner loop, keeping a checkpoint at the start of every segment.
    if let Some(&(first, _)) = train.first() {
        unroll.forward(first);
    }
    for (step, &(_, label)) in train.iter().enumerate() {
        if step % segment == 0 {
            tape.checkpoints[step / segment].save(&unroll);
        }
        unroll.teach(label, step)?;
        unroll.advance(next(step));
    }
    let scored = unroll.score(query, n_steps)?;
    let weights = unroll.w.clone();

    // Reverse: replay each segment from its checkpoint, then sweep back through it.
    let mut w_bar: Vec<Matrix<T>> = scored
        .grads
        .into_iter()
        .zip(&unroll.sizes[1..])
        .map(|(grad, &n)| {
            let m = grad.len() / n;
            Matrix::from_vec(n, m, grad)
        })
        .collect();
    let mut theta_bar = [0.0f64; N_TERMS];
    let Tape {
        checkpoints,
        records,
        ..
    } = tape;
    let mut scratch = Scratch::new(&unroll.sizes);
    for (idx, checkpoint) in checkpoints.iter().enumerate().rev() {
        let start = idx * segment;
        let end = (start + segment).min(n_steps);
        checkpoint.restore(&mut unroll);
        for step in start..end {
            let record = &mut records[step - start];
            record.weights_from(&unroll);
            unroll.teach(train[step].1, step)?;
            record.vectors_from(&unroll);
            unroll.advance(next(step));
        }
        for step in (start..end).rev() {
            reverse_step(
                &unroll,
                &differentiated,
                &records[step - start],
                &mut w_bar,
                &mut theta_bar,
                &mut scratch,
            );
        }
    }
    let mut gradient = [0.0f64; N_TERMS];
    for r in 0..N_TERMS {
        if differentiated[r] {
            gradient[r] = theta_bar[r];
        }
    }
    if gradient.iter().any(|g| !g.is_finite()) {
        return Err(crate::Error::Diverged {
            episode: 0,
            step: n_steps,
            what: "meta-gradient (reverse sweep)",
        });
    }
    Ok(UnrollOutcome {
        query_loss: scored.loss,
        query_accuracy: scored.accuracy,
        gradient,
        weights,
    })
}

/// One step of the reverse sweep: adds the step's `⟨W̄_{t+1}, F^r_t⟩` to `θ̄` and turns
/// `w_bar` from `∂L/∂W_{t+1}` into `∂L/∂W_t`.
///
/// Three phases, as the dependencies order them: (1) every layer's rule, which needs only
/// `W̄_{t+1}` and the step's vectors, adds to `ȳ`, `ē` of its post- and presynaptic nodes;
/// (2) the error back-projection in reverse, lowest node first, then the forward pass in
/// reverse, top layer first; (3) one pass per layer writes the new `W̄`.
fn reverse_step<T: Float>(
    unroll: &Unroll<T>,
    differentiated: &[bool; N_TERMS],
    rec: &Record<T>,
    w_bar: &mut [Matrix<T>],
    theta_bar: &mut [f64; N_TERMS],
    s: &mut Scratch<T>,
) {
    let n_layers = unroll.n_layers();
    let sizes = &unroll.sizes;
    let th = |term: Term| unroll.theta[term.index()];
    let has = |term: Term| unroll.has[term.index()];
    let beta = unroll.beta;
    let (zero, one) = (T::zero(), T::one());
    for v in s.y_bar.iter_mut().chain(s.e_bar.iter_mut()) {
        v.fill(zero);
    }
    let needs_s = has(Term::ProjectedPostPreError) || has(Term::ProjectedErrorActivation);
    let (t0, t1, t2, t3, t4) = (
        th(Term::PseudoGradient),
        th(Term::PostActivationPreError),
        th(Term::ErrorHebb),
        th(Term::Decay),
        th(Term::PreError),
    );
    let (t5, t6, t7, t8, t9) = (
        th(Term::ScaledPseudoGradient),
        th(Term::ProjectedPostPreError),
        th(Term::ProjectedErrorActivation),
        th(Term::ProjectedActivationError),
        th(Term::Oja),
    );

    // (1) The rule of every layer.
    for layer in 1..=n_layers {
        let idx = layer - 1;
        let (n, m) = (sizes[layer], sizes[layer - 1]);
        let w = rec.w[idx].as_slice();
        let a_mat = &w_bar[idx];
        let a = a_mat.as_slice();
        let (y, e, z) = (&rec.y[layer], &rec.e[layer], &rec.z[layer]);
        let (yp, ep) = (&rec.y[layer - 1], &rec.e[layer - 1]);
        // q = Wᵀy and Wᵀe, taken during the replay.
        let (q, wt_e) = rec.w_left[idx].split_at(m);
        // W̄ [y_p e_p q] and W̄ᵀ [y e 1].
        let (a_right, a_left) = (&mut s.a_right[idx], &mut s.a_left[idx]);
        let pq = &mut s.pq[idx];
        pq[..m].copy_from_slice(yp);
        pq[m..2 * m].copy_from_slice(ep);
        pq[2 * m..].copy_from_slice(q);
        let ye1 = &mut s.ye1[layer];
        ye1[..n].copy_from_slice(y);
        ye1[n..2 * n].copy_from_slice(e);
        ye1[2 * n..].fill(one);
        matmul(a_right, n, 3, false, (a, n, m, false), (pq, m, 3, false));
        stacked_product_t(a_mat, ye1, a_left);
        let (a_yp, rest) = a_right.split_at(n);
        let (a_ep, a_q) = rest.split_at(n);
        let (at_y, rest) = a_left.split_at(m);
        let (at_e, at_1) = rest.split_at(m);

        let sum_y = if has(Term::ScaledPseudoGradient) {
            y.iter().fold(zero, |acc, &v| acc + v)
        } else {
            zero
        };
        let s_val = if needs_s { dot(q, ep) } else { zero };
        let c_val = if has(Term::ProjectedActivationError) {
            dot(e, z)
        } else {
            zero
        };
        let e_ayp = dot(e, a_yp);
        let y_aep = dot(y, a_ep);
        let contributions = [
            (Term::PseudoGradient, -e_ayp),
            (Term::PostActivationPreError, -y_aep),
            (Term::ErrorHebb, -dot(e, a_ep)),
            (Term::PreError, -a_ep.iter().fold(zero, |acc, &v| acc + v)),
            (Term::ScaledPseudoGradient, -sum_y * e_ayp),
            (Term::ProjectedPostPreError, -s_val * y_aep),
            (Term::ProjectedErrorActivation, -s_val * e_ayp),
            (Term::ProjectedActivationError, -c_val * y_aep),
            (Term::Oja, dot(y, a_yp) - dot(q, at_y)),
        ];
        for (term, value) in contributions {
            if differentiated[term.index()] {
                theta_bar[term.index()] += value.as_f64();
            }
        }
        if differentiated[Term::Decay.index()] {
            theta_bar[Term::Decay.index()] -= wide_dot(a, w).as_f64();
        }

        let a_coef = t0 + t5 * sum_y + t7 * s_val;
        let b_coef = t1 + t6 * s_val + t8 * c_val;
        let s_bar = -t6 * y_aep - t7 * e_ayp;
        let c_bar = -t8 * y_aep;
        // The adjoint's update coefficients: W̄_new[:, j] ∋ y c_y,j + e c_e,j.
        let (c_y, c_e) = (&mut s.c_y[idx], &mut s.c_e[idx]);
        for j in 0..m {
            c_y[j] = s_bar * ep[j] - t9 * at_y[j];
            c_e[j] = c_bar * yp[j];
        }
        // ȳ_ℓ: −b W̄e_p + θ₉(W̄y_p − W̄q) − θ₅(eᵀW̄y_p) 1 + W(s̄ e_p − θ₉ W̄ᵀy).
        let w_cy = &mut s.w_cy[idx];
        if needs_s || has(Term::Oja) {
            matmul(w_cy, n, 1, false, (w, n, m, false), (c_y, m, 1, false));
        } else {
            w_cy.fill(zero);
        }
        let f5 = t5 * e_ayp;
        for i in 0..n {
            s.y_bar[layer][i] += -b_coef * a_ep[i] + t9 * (a_yp[i] - a_q[i]) - f5 + w_cy[i];
            s.e_bar[layer][i] += -a_coef * a_yp[i] - t2 * a_ep[i] + c_bar * z[i];
        }
        // The presynaptic node; the input (node 0) is a constant, its error only if computed.
        if layer > 1 {
            for j in 0..m {
                s.y_bar[layer - 1][j] += -a_coef * at_e[j] + t9 * at_y[j] + c_bar * wt_e[j];
            }
        }
        if layer > 1 || unroll.needs_input_error {
            for j in 0..m {
                s.e_bar[layer - 1][j] +=
                    -b_coef * at_y[j] - t2 * at_e[j] - t4 * at_1[j] + s_bar * q[j];
            }
        }
    }

    // (2a) The error back-projection e_t = (B_tᵀ e_{t+1}) ⊙ σ′_t in reverse, lowest node first.
    let backprop = unroll.feedback.is_none() && !unroll.detach_feedback;
    let lowest = if unroll.needs_input_error { 0 } else { 1 };
    s.v[0].fill(zero);
    for node in lowest..n_layers {
        let (n_up, m) = (sizes[node + 1], sizes[node]);
        let (v_node, e_bar_node) = (&mut s.v[node], &s.e_bar[node]);
        for ((v, &eb), &d) in v_node.iter_mut().zip(e_bar_node).zip(&rec.ds[node]) {
            *v = eb * d;
        }
        let b = match &unroll.feedback {
            Some(matrices) => matrices[node].as_slice(),
            None => rec.w[node].as_slice(),
        };
        let (low, high) = s.e_bar.split_at_mut(node + 1);
        matmul(
            &mut high[0],
            n_up,
            1,
            true,
            (b, n_up, m, false),
            (&s.v[node], m, 1, false),
        );
        if node > 0 {
            // σ′ = 1 − exp(−β y) ⇒ ∂σ′/∂y = β (1 − σ′).
            let terms = low[node].iter().zip(&rec.g[node]).zip(&rec.ds[node]);
            for (yb, ((&eb, &g), &d)) in s.y_bar[node].iter_mut().zip(terms) {
                *yb += eb * g * beta * (one - d);
            }
        }
    }
    // e_L = y_L − onehot.
    for (yb, &eb) in s.y_bar[n_layers].iter_mut().zip(&s.e_bar[n_layers]) {
        *yb += eb;
    }
    // (2b) The forward pass in reverse, top layer first.
    for layer in (1..=n_layers).rev() {
        let (n, m) = (sizes[layer], sizes[layer - 1]);
        let (yb, zb) = (&s.y_bar[layer], &mut s.z_bar[layer]);
        if layer == n_layers {
            let p = &rec.y[layer];
            let mean = dot(p, yb);
            for ((out, &pi), &ybi) in zb.iter_mut().zip(p).zip(yb) {
                *out = pi * (ybi - mean);
            }
        } else {
            for ((out, &d), &ybi) in zb.iter_mut().zip(&rec.ds[layer]).zip(yb) {
                *out = d * ybi;
            }
        }
        if layer > 1 {
            matmul(
                &mut s.y_bar[layer - 1],
                m,
                1,
                true,
                (rec.w[layer - 1].as_slice(), n, m, true),
                (&s.z_bar[layer], n, 1, false),
            );
        }
    }

    // (3) W̄_t = (1 − θ₃) W̄_{t+1} + y c_yᵀ + e (c_e + [BP] v_p)ᵀ + z̄ y_pᵀ, column by column.
    let decay = one - t3;
    for (idx, &n) in sizes[1..].iter().enumerate() {
        let layer = idx + 1;
        let (y, e, zb, yp) = (
            &rec.y[layer],
            &rec.e[layer],
            &s.z_bar[layer],
            &rec.y[layer - 1],
        );
        let (c_y, c_e, v_p) = (&s.c_y[idx], &s.c_e[idx], &s.v[layer - 1]);
        for (j, col) in w_bar[idx].as_mut_slice().chunks_exact_mut(n).enumerate() {
            let ce = if backprop { c_e[j] + v_p[j] } else { c_e[j] };
            let (cy, cz) = (c_y[j], yp[j]);
            for (((a, &yi), &ei), &zi) in col.iter_mut().zip(y).zip(e).zip(zb) {
                *a = decay * *a + yi * cy + ei * ce + zi * cz;
            }
        }
    }
}

/// `aᵀb` over whole matrices, summed in eight interleaved partial sums (which vectorise; the
/// order is fixed, so the result is the same at every call).
fn wide_dot<T: Float>(a: &[T], b: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let (a_body, b_body) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a_body
        .remainder()
        .iter()
        .zip(b_body.remainder())
        .fold(T::zero(), |acc, (&x, &y)| acc + x * y);
    for (ca, cb) in a_body.zip(b_body) {
        for lane in 0..8 {
            lanes[lane] += ca[lane] * cb[lane];
        }
    }
    lanes.iter().fold(tail, |acc, &v| acc + v)
}

//! Tests of the forward-mode meta-gradient: finite differences, an independent reverse-mode
//! unroll written here, and the primal against `plasticity-core`'s rule.

use feedback_alignment::{Feedback, FeedbackKind};
use linalg::{
    Matrix, Vector,
    testing::{Tol, assert_all_close, assert_close, check_gradient, tol},
};
use meta_plasticity::{
    Error, InnerLoop, Pathway, UnrollOutcome, meta_gradient, meta_gradient_reverse,
};
use plasticity_core::{Mlp, N_TERMS, Rule, RuleSet, Term};

use crate::{SMALL, inner, samples, view};

/// Forward against reverse mode: both exact, so they agree to rounding over 20 steps
/// (measured differences are ~1e-14 relative; 1e-10 leaves room for other platforms).
pub(crate) const FORWARD_VS_REVERSE: Tol = Tol {
    rel: 1e-10,
    abs: 1e-12,
};

/// A Θ in which every term acts: θ₀ large enough to learn, the others small and of both signs.
pub(crate) fn theta_all() -> [f64; N_TERMS] {
    [
        0.3, 0.02, -0.03, 0.01, 0.015, 0.04, -0.02, 0.03, 0.025, 0.05,
    ]
}

pub(crate) fn theta_for(terms: &[Term]) -> [f64; N_TERMS] {
    let all = theta_all();
    let mut theta = [0.0; N_TERMS];
    for term in terms {
        theta[term.index()] = all[term.index()];
    }
    theta
}

/// Central finite differences of the query loss against the forward-mode gradient, at three
/// seeds (three points).
#[track_caller]
fn check_fd(terms: &[Term], fixed: bool) {
    for seed in 0..3 {
        let inner = inner::<f64>(&SMALL, fixed, 1.0, seed);
        let train = samples(20, SMALL[0], SMALL[3], 10 + seed);
        let query = samples(6, SMALL[0], SMALL[3], 20 + seed);
        let theta = theta_for(terms);
        let out = meta_gradient(&inner, terms, &theta, &view(&train), &view(&query)).unwrap();
        let point: Vec<f64> = terms.iter().map(|t| theta[t.index()]).collect();
        let analytic: Vec<f64> = terms.iter().map(|t| out.gradient[t.index()]).collect();
        let loss = |values: &[f64]| {
            let mut th = theta;
            for (term, &v) in terms.iter().zip(values) {
                th[term.index()] = v;
            }
            meta_gradient(&inner, &[], &th, &view(&train), &view(&query))
                .unwrap()
                .query_loss
        };
        check_gradient(loss, &point, &analytic, tol::GRAD);
    }
}

#[test]
fn pseudo_gradient_matches_finite_differences_fa_and_bp() {
    check_fd(&[Term::PseudoGradient], true);
    check_fd(&[Term::PseudoGradient], false);
}

#[test]
fn bio_matches_finite_differences_fa_and_bp() {
    let bio = [Term::PseudoGradient, Term::ErrorHebb, Term::Oja];
    check_fd(&bio, true);
    check_fd(&bio, false);
}

#[test]
fn pool_matches_finite_differences_fa_and_bp() {
    check_fd(&Term::ALL, true);
    check_fd(&Term::ALL, false);
}

#[test]
fn every_single_term_matches_finite_differences() {
    for term in &Term::ALL[1..] {
        check_fd(&[Term::PseudoGradient, *term], true);
    }
}

#[test]
fn forward_mode_equals_hand_written_reverse_mode() {
    for (seed, fixed) in [(0, true), (1, false), (2, true)] {
        let inner = inner::<f64>(&SMALL, fixed, 1.0, seed);
        let train = samples(20, SMALL[0], SMALL[3], 30 + seed);
        let query = samples(6, SMALL[0], SMALL[3], 40 + seed);
        let theta = theta_all();
        let forward =
            meta_gradient(&inner, &Term::ALL, &theta, &view(&train), &view(&query)).unwrap();
        let (reverse_loss, reverse) = reverse_mode(&inner, &theta, &train, &query);
        assert_close(forward.query_loss, reverse_loss, tol::EXACT);
        assert_all_close(&forward.gradient, &reverse, FORWARD_VS_REVERSE);
    }
}

/// A network wide enough for the `f32` kernels' SIMD blocks and four-column groups.
pub(crate) const MEDIUM: [usize; 4] = [40, 24, 17, 9];

/// Samples of `samples` with runs of zero pixels longer than a column group (as MNIST
/// backgrounds), so the kernels' skip of all-zero groups is exercised.
pub(crate) fn sparse_samples(n: usize, seed: u64) -> Vec<(Vec<f64>, usize)> {
    let mut out = samples(n, MEDIUM[0], MEDIUM[3], seed);
    for (x, _) in &mut out {
        x.iter_mut()
            .enumerate()
            .filter(|(j, _)| j % 13 < 8)
            .for_each(|(_, v)| *v = 0.0);
    }
    out
}

#[test]
fn fused_step_equals_reverse_mode_on_sparse_inputs() {
    // The update of step t fused with the forward pass of step t + 1, against the independent
    // reverse mode (which runs them one after the other), all ten terms, FA and BP.
    for (seed, fixed) in [(0, true), (1, false)] {
        let inner = inner::<f64>(&MEDIUM, fixed, 1.0, 20 + seed);
        let train = sparse_samples(12, 120 + seed);
        let query = sparse_samples(5, 130 + seed);
        let theta = theta_all().map(|t| t * 0.3);
        let forward =
            meta_gradient(&inner, &Term::ALL, &theta, &view(&train), &view(&query)).unwrap();
        let (reverse_loss, reverse) = reverse_mode(&inner, &theta, &train, &query);
        assert_close(forward.query_loss, reverse_loss, tol::EXACT);
        assert_all_close(&forward.gradient, &reverse, FORWARD_VS_REVERSE);
    }
}

#[test]
fn differentiating_a_subset_matches_reverse_mode_with_the_rest_constant() {
    // F^bio differentiated while every other term acts with its constant θ: the Oja projection
    // runs inside the fused pass only when F6 and F7 are absent, so test both cases.
    let bio = [Term::PseudoGradient, Term::ErrorHebb, Term::Oja];
    for (theta, fixed) in [(theta_all(), true), (theta_for(&bio), false)] {
        let inner = inner::<f64>(&MEDIUM, fixed, 1.0, 31);
        let train = sparse_samples(12, 140);
        let query = sparse_samples(5, 141);
        let forward = meta_gradient(&inner, &bio, &theta, &view(&train), &view(&query)).unwrap();
        let (_, reverse) = reverse_mode(&inner, &theta, &train, &query);
        for term in Term::ALL {
            let r = term.index();
            if bio.contains(&term) {
                assert_close(forward.gradient[r], reverse[r], FORWARD_VS_REVERSE);
            } else {
                assert_eq!(forward.gradient[r].to_bits(), 0.0f64.to_bits(), "θ{r}");
            }
        }
    }
}

#[test]
fn f32_kernels_track_f64_on_a_medium_net() {
    // The f32 path (SIMD blocks, four-column groups, fused multiply-adds) against the plain f64
    // path, for F^bio and F^pool, FA and BP, with sparse inputs.
    let bio = [Term::PseudoGradient, Term::ErrorHebb, Term::Oja];
    for (terms, fixed) in [
        (&bio[..], true),
        (&Term::ALL[..], true),
        (&Term::ALL[..], false),
    ] {
        let inner64 = inner::<f64>(&MEDIUM, fixed, 1.0, 41);
        let inner32 = to_f32(&inner64);
        let train = sparse_samples(12, 150);
        let query = sparse_samples(5, 151);
        let (train32, query32) = (to_f32_samples(&train), to_f32_samples(&query));
        let theta = theta_for(terms).map(|t| t * 0.3);
        let g64 = meta_gradient(&inner64, terms, &theta, &view(&train), &view(&query)).unwrap();
        let g32 = meta_gradient(
            &inner32,
            terms,
            &theta,
            &view32(&train32),
            &view32(&query32),
        )
        .unwrap();
        // f32 rounding over 12 steps.
        assert_f32_tracks_f64(&g32, &g64, 1e-3);
    }
}

#[test]
fn detached_backprop_drops_exactly_the_path_through_the_feedback() {
    let mut inner = inner::<f64>(&SMALL, false, 1.0, 4);
    let train = samples(20, SMALL[0], SMALL[3], 45);
    let query = samples(6, SMALL[0], SMALL[3], 46);
    let theta = theta_all();
    let full = meta_gradient(&inner, &Term::ALL, &theta, &view(&train), &view(&query)).unwrap();
    inner.pathway = Pathway::BackpropDetached;
    let detached = meta_gradient(&inner, &Term::ALL, &theta, &view(&train), &view(&query)).unwrap();
    assert_eq!(
        full.query_loss.to_bits(),
        detached.query_loss.to_bits(),
        "the primal must not change"
    );
    let (_, reverse) = reverse_mode(&inner, &theta, &train, &query);
    assert_all_close(&detached.gradient, &reverse, FORWARD_VS_REVERSE);
    let differs = full.gradient.iter().zip(&detached.gradient).any(|(a, b)| {
        !Tol {
            rel: 1e-6,
            abs: 0.0,
        }
        .accepts(*a, *b)
    });
    assert!(differs, "detaching B changed no component of the gradient");
}

#[test]
fn gradient_of_a_term_at_zero_is_exact_too() {
    // All θ but θ₀ are 0 at the start of meta-training: their tangents must still be right.
    let inner = inner::<f64>(&SMALL, true, 1.0, 5);
    let train = samples(20, SMALL[0], SMALL[3], 50);
    let query = samples(6, SMALL[0], SMALL[3], 51);
    let mut theta = [0.0; N_TERMS];
    theta[0] = 0.3;
    let forward = meta_gradient(&inner, &Term::ALL, &theta, &view(&train), &view(&query)).unwrap();
    let (_, reverse) = reverse_mode(&inner, &theta, &train, &query);
    assert_all_close(&forward.gradient, &reverse, FORWARD_VS_REVERSE);
    assert!(forward.gradient.iter().all(|g| g.abs() > 0.0));
}

#[test]
fn primal_matches_plasticity_core() {
    // The inner loop written here against Feedback::teach + Mlp::apply_rules.
    for (seed, fixed) in [(0, true), (1, false)] {
        let inner = inner::<f64>(&SMALL, fixed, 1.0, seed);
        let train = samples(20, SMALL[0], SMALL[3], 60 + seed);
        let theta = theta_all();
        let ours = meta_gradient(
            &inner,
            &Term::ALL,
            &theta,
            &view(&train),
            &view(&train[..2]),
        )
        .unwrap();
        let mut net = Mlp::from_weights(inner.weights.clone(), inner.beta).unwrap();
        let mut feedback = match &inner.pathway {
            Pathway::Fixed(m) => {
                Feedback::from_matrices(FeedbackKind::Fixed, &SMALL, m.clone()).unwrap()
            }
            Pathway::Backprop | Pathway::BackpropDetached => Feedback::backprop(&SMALL),
        };
        let rules = RuleSet::from(Rule { theta });
        let mut state = net.new_state();
        for (x, label) in &train {
            net.forward(&mut state, x).unwrap();
            feedback.teach(&net, &mut state, *label, true).unwrap();
            net.apply_rules(&mut state, &rules).unwrap();
        }
        for (ours, theirs) in ours.weights.iter().zip(net.weights()) {
            assert_all_close(
                ours.as_slice(),
                theirs.as_slice(),
                Tol {
                    rel: 1e-11,
                    abs: 1e-13,
                },
            );
        }
    }
}

#[test]
fn zero_rule_leaves_the_network_unchanged() {
    let inner = inner::<f64>(&SMALL, true, 1.0, 7);
    let train = samples(20, SMALL[0], SMALL[3], 70);
    let out = meta_gradient(
        &inner,
        &[Term::PseudoGradient],
        &[0.0; N_TERMS],
        &view(&train),
        &view(&train[..3]),
    )
    .unwrap();
    for (after, before) in out.weights.iter().zip(&inner.weights) {
        assert_eq!(after, before);
    }
}

#[test]
fn f32_gradient_agrees_with_f64_to_single_precision() {
    let inner64 = inner::<f64>(&SMALL, true, 1.0, 8);
    let inner32 = to_f32(&inner64);
    let train = samples(20, SMALL[0], SMALL[3], 80);
    let query = samples(6, SMALL[0], SMALL[3], 81);
    let (train32, query32) = (to_f32_samples(&train), to_f32_samples(&query));
    let theta = theta_all();
    let g64 = meta_gradient(&inner64, &Term::ALL, &theta, &view(&train), &view(&query))
        .unwrap()
        .gradient;
    let g32 = meta_gradient(
        &inner32,
        &Term::ALL,
        &theta,
        &view32(&train32),
        &view32(&query32),
    )
    .unwrap()
    .gradient;
    // f32 rounding over 20 steps of ~10 dependent operations each: 1e-3 relative.
    assert_all_close(
        &g32,
        &g64,
        Tol {
            rel: 1e-3,
            abs: 1e-5,
        },
    );
}

#[test]
fn divergence_is_an_error_naming_the_step() {
    let inner = inner::<f64>(&SMALL, false, 1.0, 9);
    let train = samples(20, SMALL[0], SMALL[3], 90);
    let mut theta = [0.0; N_TERMS];
    theta[0] = 1e30;
    theta[9] = 1e30;
    let err = meta_gradient(
        &inner,
        &[Term::PseudoGradient, Term::Oja],
        &theta,
        &view(&train),
        &view(&train[..2]),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Diverged { step, .. } if step > 0 && step < 20),
        "{err}"
    );
}

/// Both modes' entry points (the same signature).
pub(crate) type GradientFn = fn(
    &InnerLoop<f64>,
    &[Term],
    &[f64; N_TERMS],
    &[(&[f64], usize)],
    &[(&[f64], usize)],
) -> Result<UnrollOutcome<f64>, Error>;

/// Forward and reverse mode, for tests that both must pass.
pub(crate) const MODES: [(&str, GradientFn); 2] = [
    ("forward", meta_gradient::<f64>),
    ("reverse", meta_gradient_reverse::<f64>),
];

#[test]
fn bad_inputs_are_refused() {
    let inner = inner::<f64>(&SMALL, true, 1.0, 9);
    let train = samples(3, SMALL[0], SMALL[3], 91);
    let theta = theta_for(&[Term::PseudoGradient]);
    let short = vec![(vec![0.0; 5], 0usize)];
    let bad_label = vec![(vec![0.0; 6], 3usize)];
    let one = [Term::PseudoGradient];
    let twice = [Term::Oja, Term::Oja];
    let mut wrong = inner.clone();
    wrong.pathway = Pathway::Fixed(vec![Matrix::zeros(5, 6)]);
    for (mode, gradient) in MODES {
        let field = |result: Result<UnrollOutcome<f64>, Error>| match result {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("{mode}: expected InvalidConfig, got {other:?}"),
        };
        assert_eq!(
            field(gradient(&inner, &one, &theta, &view(&short), &view(&train))),
            "samples"
        );
        assert_eq!(
            field(gradient(
                &inner,
                &one,
                &theta,
                &view(&train),
                &view(&bad_label)
            )),
            "samples"
        );
        assert_eq!(
            field(gradient(&inner, &one, &theta, &view(&train), &[])),
            "query"
        );
        assert_eq!(
            field(gradient(
                &inner,
                &twice,
                &theta,
                &view(&train),
                &view(&train)
            )),
            "terms"
        );
        assert_eq!(
            field(gradient(&wrong, &one, &theta, &view(&train), &view(&train))),
            "pathway"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// An independent reverse-mode unroll: dense nalgebra matrices, the terms in the paper's matrix
// form (F⁸ through eᵀ W y_p rather than eᵀ z), every per-step state stored, adjoints by hand.

struct Tape {
    /// Weights before the step.
    w: Vec<Matrix<f64>>,
    y: Vec<Vector<f64>>,
    ds: Vec<Vector<f64>>,
    e: Vec<Vector<f64>>,
    g: Vec<Vector<f64>>,
}

/// Softplus with PyTorch's threshold (`z` itself above `β z > 20`), as the crate uses; both
/// sides then take `σ′ = 1 − exp(−β y)` as its derivative.
fn softplus(z: f64, beta: f64) -> f64 {
    if beta * z > 20.0 {
        z
    } else {
        (beta * z).exp().ln_1p() / beta
    }
}

fn forward_errors(
    w: &[Matrix<f64>],
    b: Option<&[Matrix<f64>]>,
    beta: f64,
    x: &[f64],
    label: usize,
) -> Tape {
    let n_layers = w.len();
    let mut y = vec![Vector::from_column_slice(x)];
    let mut ds = vec![
        x.iter()
            .map(|&v| 1.0 - (-beta * v).exp())
            .collect::<Vec<_>>()
            .into(),
    ];
    for (idx, wl) in w.iter().enumerate() {
        let z = wl * &y[idx];
        if idx + 1 < n_layers {
            let yl = z.map(|v| softplus(v, beta));
            ds.push(yl.map(|v| 1.0 - (-beta * v).exp()));
            y.push(yl);
        } else {
            let max = z.max();
            let ez = z.map(|v| (v - max).exp());
            y.push(&ez / ez.sum());
            ds.push(Vector::zeros(z.len()));
        }
    }
    let mut e: Vec<Vector<f64>> = y.iter().map(|v| Vector::zeros(v.len())).collect();
    let mut g = e.clone();
    e[n_layers] = y[n_layers].clone();
    e[n_layers][label] -= 1.0;
    for t in (0..n_layers).rev() {
        let bt = b.map_or(&w[t], |b| &b[t]);
        g[t] = bt.transpose() * &e[t + 1];
        e[t] = g[t].component_mul(&ds[t]);
    }
    Tape {
        w: w.to_vec(),
        y,
        ds,
        e,
        g,
    }
}

/// The ten terms of one layer as matrices [B §Methods, Eqs. 14–23].
fn terms_of(
    w: &Matrix<f64>,
    y: &Vector<f64>,
    e: &Vector<f64>,
    yp: &Vector<f64>,
    ep: &Vector<f64>,
) -> Vec<Matrix<f64>> {
    let ones = Vector::from_element(y.len(), 1.0);
    let s = (y.transpose() * w * ep)[0];
    let c = (e.transpose() * w * yp)[0];
    vec![
        -(e * yp.transpose()),
        -(y * ep.transpose()),
        -(e * ep.transpose()),
        -w.clone(),
        -(&ones * ep.transpose()),
        -(e * ones.transpose() * y * yp.transpose()),
        -(y * ep.transpose()) * s,
        -(e * yp.transpose()) * s,
        -(y * ep.transpose()) * c,
        y * yp.transpose() - y * y.transpose() * w,
    ]
}

fn reverse_mode(
    inner: &InnerLoop<f64>,
    theta: &[f64; N_TERMS],
    train: &[(Vec<f64>, usize)],
    query: &[(Vec<f64>, usize)],
) -> (f64, [f64; N_TERMS]) {
    let beta = inner.beta;
    let fixed = match &inner.pathway {
        Pathway::Fixed(m) => Some(m.clone()),
        Pathway::Backprop | Pathway::BackpropDetached => None,
    };
    let detached = inner.pathway == Pathway::BackpropDetached;
    let n_layers = inner.weights.len();
    // Primal, storing every step.
    let mut w = inner.weights.clone();
    let mut tapes = Vec::new();
    for (x, label) in train {
        let tape = forward_errors(&w, fixed.as_deref(), beta, x, *label);
        for l in 1..=n_layers {
            let f = terms_of(
                &w[l - 1],
                &tape.y[l],
                &tape.e[l],
                &tape.y[l - 1],
                &tape.e[l - 1],
            );
            let delta = f.iter().zip(theta).fold(
                Matrix::zeros(w[l - 1].nrows(), w[l - 1].ncols()),
                |acc, (fr, &t)| acc + fr * t,
            );
            w[l - 1] += delta;
        }
        tapes.push(tape);
    }
    // Query loss and its gradient with respect to the final weights.
    let mut loss = 0.0;
    let mut w_bar: Vec<Matrix<f64>> = w
        .iter()
        .map(|m| Matrix::zeros(m.nrows(), m.ncols()))
        .collect();
    let q = query.len() as f64;
    for (x, label) in query {
        let tape = forward_errors(&w, None, beta, x, *label);
        loss -= tape.y[n_layers][*label].ln() / q;
        // Backprop errors are exactly the tape's e with B = W; δ = e/Q.
        for l in 1..=n_layers {
            w_bar[l - 1] += &tape.e[l] * tape.y[l - 1].transpose() / q;
        }
    }
    // Reverse through the steps.
    let mut theta_bar = [0.0; N_TERMS];
    for tape in tapes.iter().rev() {
        let w = &tape.w;
        let mut new_bar: Vec<Matrix<f64>> = w_bar.clone();
        let mut y_bar: Vec<Vector<f64>> = tape.y.iter().map(|v| Vector::zeros(v.len())).collect();
        let mut e_bar = y_bar.clone();
        let mut b_bar: Vec<Matrix<f64>> = w
            .iter()
            .map(|m| Matrix::zeros(m.nrows(), m.ncols()))
            .collect();
        for l in 1..=n_layers {
            let a = &w_bar[l - 1];
            let (wl, y, e, yp, ep) = (
                &w[l - 1],
                &tape.y[l],
                &tape.e[l],
                &tape.y[l - 1],
                &tape.e[l - 1],
            );
            let f = terms_of(wl, y, e, yp, ep);
            for r in 0..N_TERMS {
                theta_bar[r] += a.dot(&f[r]);
            }
            let th = theta;
            let ones = Vector::from_element(y.len(), 1.0);
            let s = (y.transpose() * wl * ep)[0];
            let c = (e.transpose() * wl * yp)[0];
            let sum_y = y.sum();
            let a_yp = a * yp;
            let a_ep = a * ep;
            let at_e = a.transpose() * e;
            let at_y = a.transpose() * y;
            let nb = &mut new_bar[l - 1];
            let (mut yb, mut eb, mut ypb, mut epb) = (
                Vector::zeros(y.len()),
                Vector::zeros(e.len()),
                Vector::zeros(yp.len()),
                Vector::zeros(ep.len()),
            );
            // F0, F1, F2, F3, F4.
            eb -= &a_yp * th[0];
            ypb -= &at_e * th[0];
            yb -= &a_ep * th[1];
            epb -= &at_y * th[1];
            eb -= &a_ep * th[2];
            epb -= &at_e * th[2];
            *nb -= a * th[3];
            epb -= a.transpose() * &ones * th[4];
            // F5 = −(1ᵀy) e y_pᵀ.
            let u5 = e.dot(&a_yp);
            yb -= &ones * (th[5] * u5);
            eb -= &a_yp * (th[5] * sum_y);
            ypb -= &at_e * (th[5] * sum_y);
            // F6 = −s y e_pᵀ and F7 = −s e y_pᵀ, s = yᵀ W e_p.
            let s_bar = -th[6] * y.dot(&a_ep) - th[7] * e.dot(&a_yp);
            yb -= &a_ep * (th[6] * s);
            epb -= &at_y * (th[6] * s);
            eb -= &a_yp * (th[7] * s);
            ypb -= &at_e * (th[7] * s);
            yb += wl * ep * s_bar;
            epb += wl.transpose() * y * s_bar;
            *nb += y * ep.transpose() * s_bar;
            // F8 = −c y e_pᵀ, c = eᵀ W y_p.
            let c_bar = -th[8] * y.dot(&a_ep);
            yb -= &a_ep * (th[8] * c);
            epb -= &at_y * (th[8] * c);
            eb += wl * yp * c_bar;
            ypb += wl.transpose() * e * c_bar;
            *nb += e * yp.transpose() * c_bar;
            // F9 = y y_pᵀ − y yᵀ W.
            yb += (&a_yp - a * wl.transpose() * y - wl * &at_y) * th[9];
            ypb += &at_y * th[9];
            *nb -= y * y.transpose() * a * th[9];
            y_bar[l] += yb;
            e_bar[l] += eb;
            y_bar[l - 1] += ypb;
            e_bar[l - 1] += epb;
        }
        // Error sweep, lowest target first: e_t = (B_{t+1}ᵀ e_{t+1}) ⊙ ds_t.
        for t in 0..n_layers {
            let b = fixed.as_ref().map_or(&w[t], |b| &b[t]);
            let v = e_bar[t].component_mul(&tape.ds[t]);
            let add = b * &v;
            e_bar[t + 1] += add;
            b_bar[t] += &tape.e[t + 1] * v.transpose();
            if t > 0 {
                let ds_bar = e_bar[t].component_mul(&tape.g[t]);
                let dy = tape.y[t].map(|v| beta * (-beta * v).exp());
                y_bar[t] += ds_bar.component_mul(&dy);
            }
        }
        if fixed.is_none() && !detached {
            for (nb, bb) in new_bar.iter_mut().zip(&b_bar) {
                *nb += bb;
            }
        }
        // e_L = p − onehot, then the forward pass in reverse.
        let e_out = e_bar[n_layers].clone();
        y_bar[n_layers] += e_out;
        for l in (1..=n_layers).rev() {
            let z_bar = if l == n_layers {
                let p = &tape.y[l];
                let mean = p.dot(&y_bar[l]);
                p.component_mul(&y_bar[l].map(|v| v - mean))
            } else {
                y_bar[l].component_mul(&tape.ds[l])
            };
            new_bar[l - 1] += &z_bar * tape.y[l - 1].transpose();
            let add = w[l - 1].transpose() * &z_bar;
            y_bar[l - 1] += add;
        }
        w_bar = new_bar;
    }
    (loss, theta_bar)
}

/// The f32 query loss within 1e-4 relative of the f64 one, and every gradient component within
/// `bound` of the largest f64 component (small components are sums of cancelling terms, so a
/// per-component relative bound would measure cancellation, not rounding).
pub(crate) fn assert_f32_tracks_f64(
    g32: &UnrollOutcome<f32>,
    g64: &UnrollOutcome<f64>,
    bound: f64,
) {
    assert_close(
        g32.query_loss,
        g64.query_loss,
        Tol {
            rel: 1e-4,
            abs: 1e-6,
        },
    );
    let scale = g64.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for (r, (a, b)) in g32.gradient.iter().zip(&g64.gradient).enumerate() {
        assert!(
            (a - b).abs() <= bound * scale,
            "θ{r}: f32 {a:e} vs f64 {b:e} (scale {scale:e})"
        );
    }
}

pub(crate) fn view32(samples: &[(Vec<f32>, usize)]) -> Vec<(&[f32], usize)> {
    samples
        .iter()
        .map(|(x, label)| (x.as_slice(), *label))
        .collect()
}

/// Paper scale (784-170-130-100-70-47, 250 steps, F^pool under FA): the `f32` training path
/// against `f64`. A few seconds in the test profile, so it runs with every `cargo test`.
#[test]
fn paper_scale_f32_gradient_tracks_f64() {
    let sizes = [784, 170, 130, 100, 70, 47];
    let inner64 = inner::<f64>(&sizes, true, 1.0, 3);
    let inner32 = to_f32(&inner64);
    let train = samples(250, 784, 5, 100);
    let query = samples(50, 784, 5, 101);
    let (train32, query32) = (to_f32_samples(&train), to_f32_samples(&query));
    let mut theta = [0.0; N_TERMS];
    theta[0] = 5e-3;
    theta[2] = -1e-3;
    theta[9] = 2e-3;
    let g64 = meta_gradient(&inner64, &Term::ALL, &theta, &view(&train), &view(&query)).unwrap();
    let g32 = meta_gradient(
        &inner32,
        &Term::ALL,
        &theta,
        &view32(&train32),
        &view32(&query32),
    )
    .unwrap();
    // Measured worst case 7e-6 (seed 3), bound 1e-4.
    assert_f32_tracks_f64(&g32, &g64, 1e-4);
    // Reverse mode in f32 against the same f64 gradient (measured 5.1e-6, forward 5.1e-6 here).
    let r32 = meta_gradient_reverse(
        &inner32,
        &Term::ALL,
        &theta,
        &view32(&train32),
        &view32(&query32),
    )
    .unwrap();
    assert_f32_tracks_f64(&r32, &g64, 1e-4);
}

/// The same samples in `f32`.
pub(crate) fn to_f32_samples(samples: &[(Vec<f64>, usize)]) -> Vec<(Vec<f32>, usize)> {
    samples
        .iter()
        .map(|(x, label)| (x.iter().map(|&v| v as f32).collect(), *label))
        .collect()
}

/// The same inner loop in `f32`.
pub(crate) fn to_f32(inner: &InnerLoop<f64>) -> InnerLoop<f32> {
    let convert = |m: &Matrix<f64>| m.map(|v| v as f32);
    InnerLoop {
        weights: inner.weights.iter().map(convert).collect(),
        pathway: match &inner.pathway {
            Pathway::Fixed(m) => Pathway::Fixed(m.iter().map(convert).collect()),
            Pathway::Backprop => Pathway::Backprop,
            Pathway::BackpropDetached => Pathway::BackpropDetached,
        },
        beta: inner.beta,
    }
}

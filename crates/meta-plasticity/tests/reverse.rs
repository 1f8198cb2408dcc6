//! Tests of the checkpointed reverse-mode meta-gradient: against forward mode (both exact, so
//! they agree to rounding), against central finite differences, and its errors.

use linalg::testing::{Tol, assert_all_close, check_gradient, tol};
use meta_plasticity::{
    Error, InnerLoop, Pathway, UnrollOutcome, meta_gradient, meta_gradient_reverse,
};
use plasticity_core::{N_TERMS, Term};

use crate::{
    SMALL, inner, samples,
    tangent::{
        FORWARD_VS_REVERSE, MEDIUM, assert_f32_tracks_f64, sparse_samples, theta_all, theta_for,
        to_f32, to_f32_samples, view32,
    },
    view,
};

const BIO: [Term; 3] = [Term::PseudoGradient, Term::ErrorHebb, Term::Oja];

/// Both modes on one problem: the same loss, accuracy and final weights to rounding (the primal
/// runs the same code), and gradients that agree to rounding.
#[track_caller]
fn assert_modes_agree(
    inner: &InnerLoop<f64>,
    terms: &[Term],
    theta: &[f64; N_TERMS],
    train: &[(Vec<f64>, usize)],
    query: &[(Vec<f64>, usize)],
) -> UnrollOutcome<f64> {
    let forward = meta_gradient(inner, terms, theta, &view(train), &view(query)).unwrap();
    let reverse = meta_gradient_reverse(inner, terms, theta, &view(train), &view(query)).unwrap();
    assert_eq!(forward.query_loss.to_bits(), reverse.query_loss.to_bits());
    assert_eq!(
        forward.query_accuracy.to_bits(),
        reverse.query_accuracy.to_bits()
    );
    assert_eq!(
        forward.weights, reverse.weights,
        "the primal must not change"
    );
    assert_all_close(&reverse.gradient, &forward.gradient, FORWARD_VS_REVERSE);
    for term in Term::ALL {
        if !terms.contains(&term) {
            assert_eq!(reverse.gradient[term.index()].to_bits(), 0.0f64.to_bits());
        }
    }
    reverse
}

#[test]
fn reverse_equals_forward_for_every_pathway_and_rule_set() {
    // 23 steps: segments of 5, the last one partial.
    let pathways = [
        (true, None),
        (false, Some(Pathway::Backprop)),
        (false, Some(Pathway::BackpropDetached)),
    ];
    for (seed, (fixed, pathway)) in pathways.into_iter().enumerate() {
        let mut inner = inner::<f64>(&SMALL, fixed, 1.0, 70 + seed as u64);
        if let Some(pathway) = pathway {
            inner.pathway = pathway;
        }
        let train = samples(23, SMALL[0], SMALL[3], 80 + seed as u64);
        let query = samples(6, SMALL[0], SMALL[3], 90 + seed as u64);
        for terms in [&Term::ALL[..], &BIO[..], &[Term::PseudoGradient][..]] {
            assert_modes_agree(&inner, terms, &theta_for(terms), &train, &query);
            // Every other term acting with a constant θ.
            assert_modes_agree(&inner, terms, &theta_all(), &train, &query);
        }
    }
}

#[test]
fn reverse_equals_forward_on_sparse_inputs_of_a_medium_net() {
    for (seed, fixed) in [(0, true), (1, false)] {
        let inner = inner::<f64>(&MEDIUM, fixed, 1.0, 20 + seed);
        let train = sparse_samples(17, 120 + seed);
        let query = sparse_samples(5, 130 + seed);
        let theta = theta_all().map(|t| t * 0.3);
        assert_modes_agree(&inner, &Term::ALL, &theta, &train, &query);
    }
}

#[test]
fn gradients_of_terms_at_zero_and_of_presynaptic_error_terms_alone() {
    // θ = 0 but θ₀: the differentiated terms act only through their derivative, and a term that
    // reads the input error e₀ (F1, F2, F4, F6, F8) makes the primal compute it.
    let inner = inner::<f64>(&SMALL, true, 1.0, 5);
    let train = samples(20, SMALL[0], SMALL[3], 50);
    let query = samples(6, SMALL[0], SMALL[3], 51);
    let mut theta = [0.0; N_TERMS];
    theta[0] = 0.3;
    let out = assert_modes_agree(&inner, &Term::ALL, &theta, &train, &query);
    assert!(out.gradient.iter().all(|g| g.abs() > 0.0));
    for term in [Term::PostActivationPreError, Term::PreError] {
        assert_modes_agree(
            &inner,
            &[Term::PseudoGradient, term],
            &theta,
            &train,
            &query,
        );
    }
}

#[test]
fn reverse_matches_finite_differences() {
    for (seed, fixed) in [(0u64, true), (1, false)] {
        let inner = inner::<f64>(&SMALL, fixed, 1.0, seed);
        let train = samples(20, SMALL[0], SMALL[3], 10 + seed);
        let query = samples(6, SMALL[0], SMALL[3], 20 + seed);
        let theta = theta_all();
        let out = meta_gradient_reverse(&inner, &Term::ALL, &theta, &view(&train), &view(&query))
            .unwrap();
        let loss = |values: &[f64]| {
            let th: [f64; N_TERMS] = values.try_into().unwrap();
            meta_gradient_reverse(&inner, &[], &th, &view(&train), &view(&query))
                .unwrap()
                .query_loss
        };
        check_gradient(loss, &theta, &out.gradient, tol::GRAD);
    }
}

#[test]
fn short_loops_one_step_and_none() {
    let inner = inner::<f64>(&SMALL, false, 1.0, 3);
    let query = samples(4, SMALL[0], SMALL[3], 31);
    for n_steps in [0, 1, 2, 4, 5] {
        let train = samples(n_steps, SMALL[0], SMALL[3], 30);
        let out = assert_modes_agree(&inner, &Term::ALL, &theta_all(), &train, &query);
        if n_steps == 0 {
            assert!(out.gradient.iter().all(|&g| g == 0.0));
        }
    }
}

#[test]
fn f32_reverse_tracks_f64() {
    for (terms, fixed) in [(&BIO[..], true), (&Term::ALL[..], false)] {
        let inner64 = inner::<f64>(&MEDIUM, fixed, 1.0, 41);
        let inner32 = to_f32(&inner64);
        let train = sparse_samples(12, 150);
        let query = sparse_samples(5, 151);
        let (train32, query32) = (to_f32_samples(&train), to_f32_samples(&query));
        let theta = theta_for(terms).map(|t| t * 0.3);
        let g64 =
            meta_gradient_reverse(&inner64, terms, &theta, &view(&train), &view(&query)).unwrap();
        let g32 = meta_gradient_reverse(
            &inner32,
            terms,
            &theta,
            &view32(&train32),
            &view32(&query32),
        )
        .unwrap();
        assert_f32_tracks_f64(&g32, &g64, 1e-3);
        // And against f32 forward mode: the same primal, gradients to f32 rounding.
        let forward = meta_gradient(
            &inner32,
            terms,
            &theta,
            &view32(&train32),
            &view32(&query32),
        )
        .unwrap();
        assert_eq!(forward.query_loss.to_bits(), g32.query_loss.to_bits());
        let scale = forward.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (a, b) in g32.gradient.iter().zip(&forward.gradient) {
            assert!(
                Tol {
                    rel: 0.0,
                    abs: 1e-4 * scale
                }
                .accepts(*a, *b),
                "{a} vs {b}"
            );
        }
    }
}

#[test]
fn divergence_is_an_error_naming_the_step() {
    let inner = inner::<f64>(&SMALL, false, 1.0, 9);
    let train = samples(20, SMALL[0], SMALL[3], 90);
    let mut theta = [0.0; N_TERMS];
    theta[0] = 1e30;
    theta[9] = 1e30;
    let terms = [Term::PseudoGradient, Term::Oja];
    let err = meta_gradient_reverse(&inner, &terms, &theta, &view(&train), &view(&train[..2]))
        .unwrap_err();
    assert!(
        matches!(err, Error::Diverged { step, what: "output", .. } if step > 0 && step < 20),
        "{err}"
    );
}

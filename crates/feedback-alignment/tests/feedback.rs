//! Tests of `src/feedback.rs`: FA with B = Wᵀ is backprop, shapes, independence, sign-symmetry.

use std::ops::ControlFlow;

use feedback_alignment::{Error, Feedback, FeedbackKind, online_step, train_online};
use linalg::{
    Matrix,
    rng::{Stream, stream},
    testing::{assert_close, tol},
};
use plasticity_core::{Mlp, Rule, RuleSet};

use crate::{net, pairs, prototypes_task};

/// Regression guard for the central identity: feedback alignment whose B is the transposed
/// forward weights (re-synchronised every step) reproduces backprop exactly, for a rule that
/// also reads e₀ (eHebb) and the Oja term.
#[test]
fn fa_with_transposed_weights_is_backprop() {
    let sizes = [6, 5, 4, 3];
    let (images, labels) = prototypes_task::<f64>(6, 3, 30, 1);
    let rules = RuleSet::from(Rule::bio(0.05, -0.02, 0.01));
    let mut bp_net: Mlp<f64> = net(&sizes, 1);
    let mut fa_net = bp_net.clone();
    let mut bp = Feedback::backprop(&sizes);
    let (mut bp_state, mut fa_state) = (bp_net.new_state(), fa_net.new_state());
    for (input, label) in pairs(&images, &labels) {
        let mut fa =
            Feedback::from_matrices(FeedbackKind::Fixed, &sizes, fa_net.weights().to_vec())
                .unwrap();
        let a = online_step(&mut bp_net, &mut bp, &rules, &mut bp_state, input, label).unwrap();
        let b = online_step(&mut fa_net, &mut fa, &rules, &mut fa_state, input, label).unwrap();
        assert_close(a.loss, b.loss, tol::EXACT);
    }
    for (w_bp, w_fa) in bp_net.weights().iter().zip(fa_net.weights()) {
        for (x, y) in w_bp.iter().zip(w_fa.iter()) {
            assert_close(*x, *y, tol::EXACT);
        }
    }
    assert!(
        bp_net.weights()[0] != net::<f64>(&sizes, 1).weights()[0],
        "training must have moved the weights"
    );
}

#[test]
fn fixed_feedback_is_xavier_uniform_and_independent_of_the_weights() {
    let sizes = [784, 170, 130, 100, 70, 47];
    let fb = Feedback::<f32>::new(
        FeedbackKind::Fixed,
        &sizes,
        1.0,
        &mut stream(0, Stream::Feedback),
    )
    .unwrap();
    let w: Mlp<f32> = Mlp::new(
        &plasticity_core::MlpConfig::default(),
        &mut stream(0, Stream::Init),
    )
    .unwrap();
    for ((b, w), pair) in fb.matrices().iter().zip(w.weights()).zip(sizes.windows(2)) {
        assert_eq!(b.shape(), (pair[1], pair[0]));
        assert_eq!(b.shape(), w.shape());
        let bound = (6.0 / (pair[0] + pair[1]) as f64).sqrt();
        assert!(b.iter().all(|v| f64::from(v.abs()) <= bound));
        assert_ne!(b, w, "B must be drawn independently of W");
    }
}

#[test]
fn direct_feedback_projects_from_the_output() {
    let sizes = [6, 5, 4, 3];
    let mut fb = Feedback::<f64>::new(
        FeedbackKind::Direct,
        &sizes,
        1.0,
        &mut stream(1, Stream::Feedback),
    )
    .unwrap();
    let shapes: Vec<_> = fb.matrices().iter().map(Matrix::shape).collect();
    assert_eq!(shapes, vec![(3, 6), (3, 5), (3, 4)]);
    let model: Mlp<f64> = net(&sizes, 2);
    let mut state = model.new_state();
    let x = [0.5, 0.1, 0.9, 0.3, 0.0, 1.0];
    model.forward(&mut state, &x).unwrap();
    fb.teach(&model, &mut state, 1, true).unwrap();
    let e_out = state.error(3).unwrap().clone();
    let e1 = state.error(1).unwrap();
    let back = fb.matrices()[1].transpose() * &e_out;
    for (idx, (&got, &b)) in e1.iter().zip(back.iter()).enumerate() {
        let sigma_prime = 1.0 / (1.0 + (-10.0 * state.pre_activation(1)[idx]).exp());
        assert_close(got, b * sigma_prime, tol::EXACT);
    }
}

#[test]
fn sign_symmetry_uses_the_sign_of_w_scaled_to_its_rms() {
    let sizes = [4, 3, 2];
    let model: Mlp<f64> = net(&sizes, 3);
    let mut fb = Feedback::<f64>::new(
        FeedbackKind::SignSymmetry,
        &sizes,
        1.0,
        &mut stream(0, Stream::Feedback),
    )
    .unwrap();
    let mut state = model.new_state();
    model.forward(&mut state, &[0.2, 0.4, 0.6, 0.8]).unwrap();
    fb.teach(&model, &mut state, 0, true).unwrap();
    for (b, w) in fb.matrices().iter().zip(model.weights()) {
        let rms = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
        for (bv, wv) in b.iter().zip(w.iter()) {
            assert_close(*bv, rms * wv.signum(), tol::EXACT);
        }
    }
}

#[test]
fn mismatched_feedback_shapes_are_errors_not_panics() {
    let sizes = [5, 4, 3];
    // The matrix that feeds e₀ has the wrong shape.
    let bad = Feedback::<f64>::from_matrices(
        FeedbackKind::Fixed,
        &sizes,
        vec![Matrix::zeros(4, 6), Matrix::zeros(3, 4)],
    );
    assert_eq!(
        bad,
        Err(Error::FeedbackShape {
            layer: 0,
            expected: (4, 5),
            got: (4, 6)
        })
    );
    let count =
        Feedback::<f64>::from_matrices(FeedbackKind::Fixed, &sizes, vec![Matrix::zeros(4, 5)]);
    assert!(matches!(count, Err(Error::InvalidConfig { .. })));
    let kind = Feedback::<f64>::from_matrices(FeedbackKind::Backprop, &sizes, vec![]);
    assert!(matches!(kind, Err(Error::InvalidConfig { .. })));
    // Feedback built for another architecture, used with a rule that needs e₀.
    let mut other = Feedback::<f64>::new(
        FeedbackKind::Fixed,
        &[6, 4, 3],
        1.0,
        &mut stream(0, Stream::Feedback),
    )
    .unwrap();
    let mut model: Mlp<f64> = net(&sizes, 4);
    let (images, labels) = prototypes_task::<f64>(5, 3, 4, 4);
    let result = train_online(
        &mut model,
        &mut other,
        &RuleSet::from(Rule::ehebb(0.1, -0.1)),
        pairs(&images, &labels),
        |_| ControlFlow::Continue(()),
    );
    assert!(
        matches!(result, Err(Error::FeedbackShape { layer: 0, .. })),
        "{result:?}"
    );
    assert!(matches!(
        Feedback::<f64>::new(
            FeedbackKind::Fixed,
            &[5, 0, 3],
            1.0,
            &mut stream(0, Stream::Feedback)
        ),
        Err(Error::InvalidConfig { .. })
    ));
}

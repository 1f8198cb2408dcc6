//! Tests of `src/metrics.rs`: angles, E_W, norms, effective rank.

use feedback_alignment::{
    Feedback, FeedbackKind, alignment_angles, angle_degrees, effective_ranks, layer_norms,
    orthonormality_errors, weight_norms,
};
use linalg::{
    Matrix,
    rng::{Stream, stream},
    testing::{assert_close, tol},
};
use plasticity_core::{HiddenActivation, Mlp};

use crate::{net, pairs, prototypes_task};

#[test]
fn angles_of_simple_vectors() {
    assert_close(
        angle_degrees(&[1.0f64, 0.0], &[0.0, 2.0]).unwrap(),
        90.0,
        tol::EXACT,
    );
    assert_close(
        angle_degrees(&[1.0f64, 1.0], &[-1.0, -1.0]).unwrap(),
        180.0,
        tol::EXACT,
    );
    assert!(angle_degrees(&[0.0f64, 0.0], &[1.0, 0.0]).is_none());
}

#[test]
fn backprop_is_aligned_with_itself_and_random_feedback_is_not() {
    let sizes = [20, 16, 12, 4];
    let model: Mlp<f64> = net(&sizes, 1);
    let (images, labels) = prototypes_task::<f64>(20, 4, 50, 1);
    let bp_angles = alignment_angles(
        &model,
        &mut Feedback::backprop(&sizes),
        pairs(&images, &labels),
    )
    .unwrap();
    assert_eq!(bp_angles.len(), 4);
    for angle in &bp_angles {
        assert!(angle.unwrap() < 1e-5, "{bp_angles:?}");
    }
    let mut fa = Feedback::<f64>::new(
        FeedbackKind::Fixed,
        &sizes,
        1.0,
        &mut stream(1, Stream::Feedback),
    )
    .unwrap();
    let fa_angles = alignment_angles(&model, &mut fa, pairs(&images, &labels)).unwrap();
    assert!(fa_angles[3].unwrap() < 1e-5, "the output error is shared");
    // An untrained network with independent random feedback is far from aligned.
    assert!(fa_angles[1].unwrap() > 30.0, "{fa_angles:?}");
}

#[test]
fn orthonormal_rows_have_zero_orthonormality_error() {
    // Rows of W₁ orthonormal (a permutation-like selection), W₂ = I.
    let mut w1 = Matrix::<f64>::zeros(3, 5);
    w1[(0, 4)] = 1.0;
    w1[(1, 0)] = 1.0;
    w1[(2, 2)] = 1.0;
    // E_W compares z with W Wᵀ σ(z), so the identity holds exactly for a linear hidden layer.
    let model = Mlp::from_weights(vec![w1, Matrix::identity(3, 3)], 10.0)
        .unwrap()
        .with_hidden_activation(HiddenActivation::Identity);
    let (images, _) = prototypes_task::<f64>(5, 2, 10, 2);
    let errors = orthonormality_errors(&model, images.chunks_exact(5)).unwrap();
    assert_eq!(errors.len(), 2);
    assert!(errors[0] < 1e-20, "{errors:?}");
    let random: Mlp<f64> = net(&[5, 3, 3], 2);
    let random_errors = orthonormality_errors(&random, images.chunks_exact(5)).unwrap();
    assert!(random_errors[0] > 1e-3, "{random_errors:?}");
}

#[test]
fn norms_and_effective_ranks_are_in_range() {
    let sizes = [20, 16, 12, 4];
    let model: Mlp<f64> = net(&sizes, 3);
    let (images, labels) = prototypes_task::<f64>(20, 4, 64, 3);
    let mut state = model.new_state();
    model.forward(&mut state, &images[..20]).unwrap();
    Feedback::backprop(&sizes)
        .teach(&model, &mut state, labels[0], false)
        .unwrap();
    let norms = layer_norms(&state);
    assert_eq!(norms.activation.len(), 4);
    assert!(norms.error[0].is_none() && norms.error[1].is_some());
    let weights = weight_norms(&model);
    assert_close(weights[2], model.weights()[2].norm(), tol::EXACT);
    let ranks = effective_ranks(&model, images.chunks_exact(20)).unwrap();
    assert_eq!(ranks.len(), 2);
    for (rank, width) in ranks.iter().zip([16.0, 12.0]) {
        assert!((1.0..=width).contains(rank), "{ranks:?}");
    }
    assert!(effective_ranks(&model, images.chunks_exact(20).take(1)).is_err());
}

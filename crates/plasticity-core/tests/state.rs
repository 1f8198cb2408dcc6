//! Tests of `src/state.rs`: output error, error projection, the synthetic input error e₀.

use linalg::testing::{assert_close, tol};
use plasticity_core::Error;

use crate::{forward_with_backprop_errors, input_f64, net_f64};

#[test]
fn output_error_is_softmax_minus_onehot() {
    let net = net_f64(&[5, 4, 3], 3);
    let state = forward_with_backprop_errors(&net, &input_f64(5, 3), 2);
    let e = state.error(2).unwrap();
    for (idx, (&ei, &pi)) in e.iter().zip(state.output()).enumerate() {
        assert_close(ei, pi - if idx == 2 { 1.0 } else { 0.0 }, tol::EXACT);
    }
}

#[test]
fn hidden_and_input_errors_follow_eqs_3_and_24() {
    let net = net_f64(&[5, 4, 3, 2], 4);
    let x = input_f64(5, 4);
    let state = forward_with_backprop_errors(&net, &x, 1);
    let beta = 10.0;
    for layer in (0..net.n_layers()).rev() {
        let w = &net.weights()[layer];
        let back = w.transpose() * state.error(layer + 1).unwrap();
        assert_eq!(back.len(), net.sizes()[layer]);
        let derivative: Vec<f64> = if layer == 0 {
            x.iter().map(|&xi| 1.0 - (-beta * xi).exp()).collect()
        } else {
            // σ′(z) = sigmoid(βz), the closed form of 1 − exp(−β y) for softplus.
            state
                .pre_activation(layer)
                .iter()
                .map(|&z| 1.0 / (1.0 + (-beta * z).exp()))
                .collect()
        };
        for (idx, (&got, (&b, &d))) in state
            .error(layer)
            .unwrap()
            .iter()
            .zip(back.iter().zip(&derivative))
            .enumerate()
        {
            assert_close(got, b * d, tol::EXACT);
            if layer == 0 && idx == 0 {
                assert_eq!(
                    got.abs().to_bits(),
                    0,
                    "background pixel must give e₀ = 0 (of either sign)"
                );
            }
        }
    }
}

#[test]
fn projection_checks_order_shape_and_source() {
    let net = net_f64(&[5, 4, 3], 5);
    let mut state = net.new_state();
    let w2 = net.weight(2).unwrap().clone();
    assert!(matches!(
        state.project_error(1, 2, &w2),
        Err(Error::NoForwardPass)
    ));
    net.forward(&mut state, &input_f64(5, 5)).unwrap();
    assert!(matches!(
        state.project_error(1, 2, &w2),
        Err(Error::MissingError { error_layer: 2, .. })
    ));
    state.set_output_error(0).unwrap();
    assert!(matches!(
        state.project_error(2, 2, &w2),
        Err(Error::LayerOutOfRange { .. })
    ));
    assert!(matches!(
        state.project_error(1, 3, &w2),
        Err(Error::LayerOutOfRange { .. })
    ));
    let wrong = linalg::Matrix::zeros(4, 3);
    assert!(matches!(
        state.project_error(1, 2, &wrong),
        Err(Error::ShapeMismatch {
            expected: (3, 4),
            got: (4, 3),
            ..
        })
    ));
    state.project_error(1, 2, &w2).unwrap();
    assert!(state.error(1).is_some());
    assert!(state.error(0).is_none());
}

#[test]
fn labels_out_of_range_are_errors() {
    let net = net_f64(&[5, 4, 3], 6);
    let mut state = net.new_state();
    net.forward(&mut state, &input_f64(5, 6)).unwrap();
    assert!(matches!(
        state.set_output_error(3),
        Err(Error::LabelOutOfRange {
            label: 3,
            n_classes: 3
        })
    ));
    assert!(matches!(
        state.cross_entropy(7),
        Err(Error::LabelOutOfRange { .. })
    ));
}

#[test]
fn a_new_forward_pass_forgets_old_errors() {
    let net = net_f64(&[5, 4, 3], 7);
    let mut state = forward_with_backprop_errors(&net, &input_f64(5, 7), 0);
    assert!(state.error(0).is_some());
    net.forward(&mut state, &input_f64(5, 8)).unwrap();
    assert!((0..=2).all(|layer| state.error(layer).is_none()));
}

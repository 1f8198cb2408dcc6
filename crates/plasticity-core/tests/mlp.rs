//! Tests of `src/mlp.rs`: configuration errors and the forward pass against direct formulas.

use linalg::{
    rng::{Stream, stream},
    testing::{assert_close, tol},
};
use plasticity_core::{Error, HiddenActivation, Mlp, MlpConfig};

use crate::{input_f64, net_f64};

#[track_caller]
fn check_invalid(config: MlpConfig, field: &str) {
    match Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)) {
        Err(Error::InvalidConfig { field: got, reason }) => {
            assert_eq!(got, field, "wrong field for {config:?}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected InvalidConfig({field}) for {config:?}, got {other:?}"),
    }
}

#[test]
fn malformed_configs_are_errors_not_panics() {
    let base = MlpConfig::default();
    check_invalid(
        MlpConfig {
            sizes: vec![784, 0, 10],
            ..base.clone()
        },
        "sizes",
    );
    check_invalid(
        MlpConfig {
            sizes: vec![0, 10],
            ..base.clone()
        },
        "sizes",
    );
    check_invalid(
        MlpConfig {
            sizes: vec![784],
            ..base.clone()
        },
        "sizes",
    );
    check_invalid(
        MlpConfig {
            sizes: vec![],
            ..base.clone()
        },
        "sizes",
    );
    check_invalid(
        MlpConfig {
            beta: 0.0,
            ..base.clone()
        },
        "beta",
    );
    check_invalid(
        MlpConfig {
            beta: -10.0,
            ..base.clone()
        },
        "beta",
    );
    check_invalid(
        MlpConfig {
            beta: f64::NAN,
            ..base.clone()
        },
        "beta",
    );
    check_invalid(
        MlpConfig {
            beta: f64::INFINITY,
            ..base.clone()
        },
        "beta",
    );
    check_invalid(
        MlpConfig {
            init_gain: f64::NAN,
            ..base.clone()
        },
        "init_gain",
    );
    check_invalid(
        MlpConfig {
            init_gain: 0.0,
            ..base
        },
        "init_gain",
    );
}

#[test]
fn default_config_is_paper_b_network() {
    let config = MlpConfig::default();
    assert_eq!(config.sizes, vec![784, 170, 130, 100, 70, 47]);
    let net = Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).unwrap();
    let n_plastic: usize = net.weights().iter().map(|w| w.len()).sum();
    assert_eq!(n_plastic, 178_670); // Digest §1.2: 178,670 plastic weights.
    // Xavier-uniform bounds per layer, digest §1.2: 0.0793, 0.1414, 0.1615, 0.1879, 0.2265.
    for (w, bound) in net
        .weights()
        .iter()
        .zip([0.0793, 0.1414, 0.1615, 0.1879, 0.2265])
    {
        let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            f64::from(max) <= bound + 5e-5 && f64::from(max) > 0.9 * bound,
            "max {max} vs bound {bound}"
        );
    }
}

#[test]
fn same_seed_same_weights() {
    let config = MlpConfig {
        sizes: vec![5, 4, 3],
        ..MlpConfig::default()
    };
    let a = Mlp::<f32>::new(&config, &mut stream(9, Stream::Init)).unwrap();
    let b = Mlp::<f32>::new(&config, &mut stream(9, Stream::Init)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn forward_matches_the_direct_formula() {
    let net = net_f64(&[5, 4, 3, 3], 1);
    let x = input_f64(5, 1);
    let mut state = net.new_state();
    net.forward(&mut state, &x).unwrap();
    let beta = 10.0;
    let mut y = linalg::Vector::from_vec(x.clone());
    for (idx, w) in net.weights().iter().enumerate() {
        let z = w * &y;
        assert_eq!(z.len(), w.nrows());
        for (a, b) in state.pre_activation(idx + 1).iter().zip(z.iter()) {
            assert_close(*a, *b, tol::EXACT);
        }
        y = if idx + 1 < net.n_layers() {
            // Eq. 13, with PyTorch's threshold.
            z.map(|v: f64| {
                if beta * v > 20.0 {
                    v
                } else {
                    (1.0 + (beta * v).exp()).ln() / beta
                }
            })
        } else {
            let max = z.max();
            let e = z.map(|v| (v - max).exp());
            let sum = e.sum();
            e / sum
        };
        for (a, b) in state.activation(idx + 1).iter().zip(y.iter()) {
            assert_close(*a, *b, tol::EXACT);
        }
    }
}

#[test]
fn forward_rejects_wrong_input_length_and_foreign_state() {
    let net = net_f64(&[5, 4, 3], 1);
    let mut state = net.new_state();
    assert!(matches!(
        net.forward(&mut state, &[0.0; 4]),
        Err(Error::ShapeMismatch { .. })
    ));
    let other = net_f64(&[5, 6, 3], 1);
    assert!(matches!(
        other.forward(&mut state, &[0.0; 5]),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn weight_accessors_check_layers_and_shapes() {
    let mut net = net_f64(&[5, 4, 3], 1);
    assert!(matches!(
        net.weight(0),
        Err(Error::LayerOutOfRange { layer: 0, max: 2 })
    ));
    assert!(matches!(
        net.weight(3),
        Err(Error::LayerOutOfRange { layer: 3, max: 2 })
    ));
    assert!(matches!(
        net.set_weight(2, linalg::Matrix::zeros(4, 3)),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(net.weight_entries_mut(2).unwrap().len() == 12);
}

#[test]
fn identity_hidden_activation_is_linear() {
    let net = net_f64(&[4, 3, 2], 2).with_hidden_activation(HiddenActivation::Identity);
    let x = input_f64(4, 2);
    let mut state = net.new_state();
    net.forward(&mut state, &x).unwrap();
    let z = net.weight(1).unwrap() * linalg::Vector::from_vec(x);
    for (a, b) in state.activation(1).iter().zip(z.iter()) {
        assert_close(*a, *b, tol::EXACT);
    }
}

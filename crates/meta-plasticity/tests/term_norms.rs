//! Tests of the term-size measurement.

use feedback_alignment::FeedbackKind;
use linalg::testing::{assert_close, tol};
use meta_plasticity::{Error, Phase, RuleFamily, episode_term_norms, run_episode, term_norms};

use crate::{SMALL, inner, pool, samples, trainer::toy_config, view};

fn frobenius(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[test]
fn step_zero_norms_follow_the_term_identities() {
    for fixed in [false, true] {
        let inner = inner::<f64>(&SMALL, fixed, 1.0, 3);
        let data = samples(1, SMALL[0], SMALL[3], 5);
        let mut theta = [0.0; 10];
        theta[0] = 1e-3;
        let norms = term_norms(&inner, &theta, &view(&data)).unwrap();
        assert_eq!((norms.n_steps, norms.per_layer.len()), (1, 3));
        for (layer, w) in inner.weights.iter().enumerate() {
            // F³ = −W.
            assert_close(
                norms.per_layer[layer][3],
                frobenius(w.as_slice()),
                tol::EXACT,
            );
        }
        // F⁵ = −(Σⱼ y_L,ⱼ) e yₚᵀ and the softmax output sums to 1: ‖F⁵_L‖ = ‖F⁰_L‖.
        let output = &norms.per_layer[2];
        assert_close(output[5], output[0], tol::EXACT);
        // Hidden layers: Σⱼ yⱼ > 0 of softplus units, so the ratio is finite and positive.
        let hidden = &norms.per_layer[0];
        assert!(hidden[5] > 0.0 && hidden[5].is_finite());
    }
}

#[test]
fn norms_average_over_steps_and_give_finite_scales() {
    let inner = inner::<f64>(&SMALL, true, 1.0, 4);
    let data = samples(30, SMALL[0], SMALL[3], 6);
    let mut theta = [0.0; 10];
    theta[0] = 0.05;
    theta[9] = 0.01;
    let norms = term_norms(&inner, &theta, &view(&data)).unwrap();
    assert_eq!(norms.n_steps, 30);
    let scales = norms.scales().unwrap();
    assert_eq!(scales[0].to_bits(), 1.0f64.to_bits());
    assert!(
        scales.iter().all(|s| s.is_finite() && *s > 0.0),
        "{scales:?}"
    );
    // W changes under the rule, so F³'s mean over steps differs from ‖W‖ at step 0.
    let w0 = frobenius(inner.weights[0].as_slice());
    assert!((norms.per_layer[0][3] - w0).abs() > 1e-9);
    // A rule that leaves W alone keeps ‖F³‖ at ‖W‖ on every step.
    let still = term_norms(&inner, &[0.0; 10], &view(&data)).unwrap();
    assert_close(still.per_layer[0][3], w0, tol::EXACT);
}

#[test]
fn bad_inputs_are_refused() {
    let inner = inner::<f64>(&SMALL, false, 1.0, 3);
    assert!(matches!(
        term_norms(&inner, &[0.0; 10], &[]),
        Err(Error::InvalidConfig { field: "train", .. })
    ));
    let data = samples(2, SMALL[0], SMALL[3], 5);
    let mut theta = [0.0; 10];
    theta[2] = f64::NAN;
    assert!(term_norms(&inner, &theta, &view(&data)).is_err());
    // A rule that blows the weights up is reported as a divergence naming the step.
    let mut theta = [0.0; 10];
    theta[3] = -1e200;
    assert!(matches!(
        term_norms(&inner, &theta, &view(&data)),
        Err(Error::Diverged { step: 1, .. })
    ));
}

#[test]
fn episode_norms_use_the_episode_of_run_episode() {
    let mut config = toy_config(RuleFamily::Pool, FeedbackKind::Fixed);
    let pool = pool(8, 6, 20, 2);
    let theta = config.initial_theta();
    let norms = episode_term_norms::<f64>(&config, &pool, &theta, 4, Phase::MetaTrain).unwrap();
    assert_eq!(norms.n_steps, 15);
    let again = episode_term_norms::<f64>(&config, &pool, &theta, 4, Phase::MetaTrain).unwrap();
    assert_eq!(norms, again);
    let other = episode_term_norms::<f64>(&config, &pool, &theta, 5, Phase::MetaTrain).unwrap();
    assert_ne!(norms, other);
    // Scales measured on the episode are accepted by the optimiser.
    config.optimizer.term_scales = Some(norms.scales().unwrap());
    assert!(run_episode::<f64>(&config, &pool, &theta, 0, Phase::MetaTrain, true).is_ok());
    // The pool must fit the network, as for run_episode.
    config.mlp.sizes[0] = 9;
    assert!(matches!(
        episode_term_norms::<f64>(&config, &pool, &theta, 0, Phase::MetaTrain),
        Err(Error::Data { .. })
    ));
}

//! Tests of `src/online.rs`: BP + F0 is SGD (finite differences), divergence, learning.

use std::ops::ControlFlow;

use feedback_alignment::{Error, Feedback, FeedbackKind, evaluate, online_step, train_online};
use linalg::{
    rng::{Stream, for_item, stream},
    testing::{check_gradient, tol},
};
use plasticity_core::{Mlp, MlpConfig, Rule, RuleSet};
use rand::Rng as _;

use crate::{flatten, mean_loss, net, pairs, prototypes_task, unflatten};

/// Backprop with F0 alone and θ₀ = 1 changes the weights by minus the gradient of the
/// cross-entropy, checked against central finite differences at 3 random points (STYLE §7).
#[test]
fn backprop_with_f0_is_sgd_on_cross_entropy() {
    let sizes = [4, 3, 3, 2];
    for seed in 0..3u64 {
        let mut model: Mlp<f64> = net(&sizes, 10 + seed);
        let mut rng = for_item(seed, Stream::Noise, 7);
        let x: Vec<f64> = (0..4).map(|_| rng.random::<f64>()).collect();
        let label = seed as usize % 2;
        let before = flatten(&model);
        let mut state = model.new_state();
        let mut bp = Feedback::backprop(&sizes);
        online_step(
            &mut model,
            &mut bp,
            &RuleSet::from(Rule::pseudo_gradient(1.0)),
            &mut state,
            &x,
            label,
        )
        .unwrap();
        let gradient: Vec<f64> = before
            .iter()
            .zip(flatten(&model))
            .map(|(b, a)| b - a)
            .collect();
        let samples = vec![(x.clone(), label)];
        check_gradient(
            |params| mean_loss(&unflatten(&sizes, params), &samples),
            &before,
            &gradient,
            tol::GRAD,
        );
    }
}

#[test]
fn nan_weight_is_reported_with_step_and_layer() {
    let sizes = [5, 4, 3, 2];
    let mut model: Mlp<f32> = net(&sizes, 1);
    let (images, labels) = prototypes_task::<f32>(5, 2, 20, 1);
    let mut fb = Feedback::backprop(&sizes);
    let rules = RuleSet::from(Rule::pseudo_gradient(0.01));
    let mut steps = 0;
    // Poison layer 2 after step 3 from inside the callback is impossible (the net is borrowed),
    // so run 4 clean steps, inject, and continue.
    train_online(
        &mut model,
        &mut fb,
        &rules,
        pairs(&images, &labels).take(4),
        |_| {
            steps += 1;
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    model.weight_entries_mut(2).unwrap()[5] = f32::NAN;
    let err = train_online(&mut model, &mut fb, &rules, pairs(&images, &labels), |_| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert_eq!(
        err,
        Error::Diverged {
            step: 0,
            layer: 2,
            what: "weights"
        }
    );
    assert!(err.to_string().contains("step 0") && err.to_string().contains("layer 2"));
    assert_eq!(steps, 4);
}

#[test]
fn nan_input_is_reported_at_its_step() {
    let sizes = [5, 4, 2];
    let mut model: Mlp<f32> = net(&sizes, 2);
    let (mut images, labels) = prototypes_task::<f32>(5, 2, 20, 2);
    images[5 * 7 + 3] = f32::NAN;
    let mut fb = Feedback::<f32>::new(
        FeedbackKind::Fixed,
        &sizes,
        1.0,
        &mut stream(2, Stream::Feedback),
    )
    .unwrap();
    let err = train_online(
        &mut model,
        &mut fb,
        &RuleSet::from(Rule::oja(0.01, 0.004)),
        pairs(&images, &labels),
        |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::Diverged {
            step: 7,
            layer: 0,
            what: "input"
        }
    );
}

#[test]
fn exploding_learning_rate_stops_with_diverged() {
    let sizes = [5, 4, 2];
    let mut model: Mlp<f32> = net(&sizes, 3);
    let (images, labels) = prototypes_task::<f32>(5, 2, 200, 3);
    let mut fb = Feedback::backprop(&sizes);
    let rules = RuleSet::from(Rule::default().with(plasticity_core::Term::Decay, -1e30));
    let err = train_online(&mut model, &mut fb, &rules, pairs(&images, &labels), |_| {
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(matches!(err, Error::Diverged { .. }), "{err:?}");
}

#[test]
fn bad_samples_name_their_step() {
    let sizes = [5, 4, 2];
    let mut model: Mlp<f64> = net(&sizes, 4);
    let mut fb = Feedback::backprop(&sizes);
    let good = [0.1; 5];
    let short = [0.1; 4];
    let samples: Vec<(&[f64], usize)> = vec![(&good, 0), (&good, 1), (&short, 0)];
    let err = train_online(
        &mut model,
        &mut fb,
        &RuleSet::from(Rule::pseudo_gradient(0.1)),
        samples,
        |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Sample { step: 2, .. }), "{err:?}");
    let samples: Vec<(&[f64], usize)> = vec![(&good, 0), (&good, 2)];
    let err = train_online(
        &mut model,
        &mut fb,
        &RuleSet::from(Rule::pseudo_gradient(0.1)),
        samples,
        |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Sample {
                step: 1,
                source: plasticity_core::Error::LabelOutOfRange { .. }
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_callback_can_stop_the_run() {
    let sizes = [5, 4, 2];
    let mut model: Mlp<f32> = net(&sizes, 5);
    let (images, labels) = prototypes_task::<f32>(5, 2, 50, 5);
    let mut fb = Feedback::backprop(&sizes);
    let summary = train_online(
        &mut model,
        &mut fb,
        &RuleSet::from(Rule::pseudo_gradient(0.1)),
        pairs(&images, &labels),
        |stats| {
            if stats.step == 9 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!(summary.steps, 10);
    assert!(summary.stopped_early);
}

/// Learning test: one online pass over a separable synthetic task reaches > 0.9 test accuracy
/// with every teaching signal (coarse; holds for any seed).
#[test]
fn every_teaching_signal_learns_a_separable_task_online() {
    let config = MlpConfig {
        sizes: vec![20, 32, 16, 4],
        ..MlpConfig::default()
    };
    for (kind, rule) in [
        (FeedbackKind::Backprop, Rule::pseudo_gradient(0.05)),
        (FeedbackKind::Fixed, Rule::pseudo_gradient(0.05)),
        (FeedbackKind::Fixed, Rule::oja(0.05, 0.005)),
        (FeedbackKind::Direct, Rule::pseudo_gradient(0.05)),
        (FeedbackKind::SignSymmetry, Rule::pseudo_gradient(0.05)),
    ] {
        for seed in 0..2u64 {
            let mut model = Mlp::<f32>::new(&config, &mut stream(seed, Stream::Init)).unwrap();
            let mut fb = Feedback::new(
                kind,
                &config.sizes,
                1.0,
                &mut stream(seed, Stream::Feedback),
            )
            .unwrap();
            // 3000 samples for the online pass, 500 held out from the same task.
            let (images, labels) = prototypes_task::<f32>(20, 4, 3500, 100 + seed);
            let (train_x, test_x) = images.split_at(20 * 3000);
            let (train_y, test_y) = labels.split_at(3000);
            let rules = RuleSet::from(rule);
            train_online(&mut model, &mut fb, &rules, pairs(train_x, train_y), |_| {
                ControlFlow::Continue(())
            })
            .unwrap();
            let accuracy = evaluate(&model, test_x, test_y).unwrap();
            assert!(
                accuracy > 0.9,
                "{kind:?} {rule:?} seed {seed}: accuracy {accuracy}"
            );
        }
    }
}

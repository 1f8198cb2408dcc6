//! Tests of `src/minibatch.rs`: batch 1 equals online, a batch is the mean gradient.

use std::ops::ControlFlow;

use feedback_alignment::{Error, Feedback, train_minibatch, train_online};
use linalg::{
    rng::{Stream, for_item},
    testing::{assert_close, check_gradient, tol},
};
use plasticity_core::{Mlp, Rule, RuleSet};
use rand::Rng as _;

use crate::{flatten, mean_loss, net, pairs, prototypes_task, unflatten};

#[test]
fn batch_of_one_equals_online_learning() {
    let sizes = [6, 5, 3];
    let (images, labels) = prototypes_task::<f64>(6, 3, 40, 1);
    let rules = RuleSet::from(Rule::bio(0.05, -0.02, 0.01));
    let mut online: Mlp<f64> = net(&sizes, 1);
    let mut batched = online.clone();
    train_online(
        &mut online,
        &mut Feedback::backprop(&sizes),
        &rules,
        pairs(&images, &labels),
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    train_minibatch(
        &mut batched,
        &mut Feedback::backprop(&sizes),
        &rules,
        pairs(&images, &labels),
        1,
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    for (a, b) in flatten(&online).iter().zip(flatten(&batched)) {
        assert_close(*a, b, tol::EXACT);
    }
}

/// A batch of three with backprop, F0 and θ₀ = 1 steps by minus the gradient of the mean
/// cross-entropy (finite differences).
#[test]
fn a_batch_steps_along_the_mean_gradient() {
    let sizes = [4, 3, 2];
    let mut model: Mlp<f64> = net(&sizes, 2);
    let mut rng = for_item(2, Stream::Noise, 0);
    let samples: Vec<(Vec<f64>, usize)> = (0..3)
        .map(|i| ((0..4).map(|_| rng.random::<f64>()).collect(), i % 2))
        .collect();
    let before = flatten(&model);
    let stream = samples.iter().map(|(x, y)| (x.as_slice(), *y));
    let summary = train_minibatch(
        &mut model,
        &mut Feedback::backprop(&sizes),
        &RuleSet::from(Rule::pseudo_gradient(1.0)),
        stream,
        3,
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    assert_eq!(summary.steps, 3);
    let gradient: Vec<f64> = before
        .iter()
        .zip(flatten(&model))
        .map(|(b, a)| b - a)
        .collect();
    check_gradient(
        |params| mean_loss(&unflatten(&sizes, params), &samples),
        &before,
        &gradient,
        tol::GRAD,
    );
}

#[test]
fn zero_batch_size_is_an_error() {
    let sizes = [4, 3, 2];
    let mut model: Mlp<f64> = net(&sizes, 3);
    let result = train_minibatch(
        &mut model,
        &mut Feedback::backprop(&sizes),
        &RuleSet::from(Rule::default()),
        Vec::new(),
        0,
        |_| ControlFlow::Continue(()),
    );
    assert!(matches!(
        result,
        Err(Error::InvalidConfig {
            field: "batch_size",
            ..
        })
    ));
}

//! Tests of `src/evaluate.rs`: accuracy, input checks, thread-count independence.

use feedback_alignment::{Error, evaluate};
use plasticity_core::Mlp;

use crate::{net, prototypes_task};

#[test]
fn accuracy_does_not_depend_on_the_thread_count() {
    let model: Mlp<f32> = net(&[20, 8, 4], 1);
    let (images, labels) = prototypes_task::<f32>(20, 4, 300, 1);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| evaluate(&model, &images, &labels).unwrap())
    };
    assert_eq!(run(1).to_bits(), run(4).to_bits());
}

#[test]
fn malformed_evaluation_sets_are_errors() {
    let model: Mlp<f32> = net(&[4, 3, 2], 2);
    assert!(matches!(
        evaluate(&model, &[0.0; 7], &[0, 1]),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        evaluate(&model, &[], &[]),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        evaluate(&model, &[0.0; 8], &[0, 5]),
        Err(Error::Sample { step: 1, .. })
    ));
}

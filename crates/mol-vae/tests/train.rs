//! The training loop: learning, resumption, NaN reporting, thread-count independence.

use linalg::{
    Matrix,
    rng::{Stream, stream},
    testing::{assert_all_close, tol},
};
use mol_vae::{
    Checkpoint, Dataset, Error, ModelConfig, MolVae, TrainConfig, train, train_checkpoint,
};

use crate::{SMALL_SMILES, features, targets};

fn setup() -> (MolVae<f32>, Matrix<f32>, Vec<molgraph::DenseGraph>) {
    let vae = MolVae::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
    (vae, features(6, 8, 7), targets(&SMALL_SMILES))
}

/// 150 epochs of two batches at Adam lr 1e-2: enough for the small net to fit a handful of
/// molecules.
fn fast_training() -> TrainConfig {
    TrainConfig {
        epochs: 150,
        batches_per_epoch: 2,
        adam: mol_vae::AdamConfig {
            lr: 1e-2,
            ..mol_vae::AdamConfig::default()
        },
        ..TrainConfig::default()
    }
}

#[test]
fn training_lowers_the_loss_on_a_small_set() {
    let (mut vae, x, t) = setup();
    let data = Dataset::new(&x, &t).unwrap();
    let config = fast_training();
    let history = train(
        &mut vae,
        &data,
        &config,
        |_| {},
        &mut stream(0, Stream::Noise),
    )
    .unwrap();
    assert_eq!(history.len(), 150);
    let first = history[0].loss;
    let last = history[149].loss;
    assert!(last < 0.5 * first, "loss {first} → {last}");
}

#[test]
fn resuming_from_a_checkpoint_is_bit_identical() {
    let (vae, x, t) = setup();
    let data = Dataset::new(&x, &t)
        .unwrap()
        .with_weights(&[1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.2, 1.0])
        .unwrap();
    let config = TrainConfig {
        epochs: 4,
        batches_per_epoch: 2,
        constraint_weights: [0.5, 0.5, 1.0, 1.0],
        ..TrainConfig::default()
    };
    let noise = stream(9, Stream::Noise);
    let mut straight = Checkpoint::start(vae.clone(), 8, &noise);
    let mut seen = Vec::new();
    let full = train_checkpoint(&mut straight, &data, &config, |s, c| {
        seen.push((s.epoch, c.epochs_done));
    })
    .unwrap();
    assert_eq!(seen, vec![(0, 1), (1, 2), (2, 3), (3, 4)]);
    let mut resumed = Checkpoint::start(vae, 8, &noise);
    let first_half = TrainConfig {
        epochs: 2,
        ..config.clone()
    };
    train_checkpoint(&mut resumed, &data, &first_half, |_, _| {}).unwrap();
    let saved = resumed.clone();
    let mut restored = saved;
    let second = train_checkpoint(&mut restored, &data, &config, |_, _| {}).unwrap();
    assert_eq!(second.len(), 2);
    assert_eq!(second[1].loss.to_bits(), full[3].loss.to_bits());
    assert_eq!(restored, straight);
    assert!(
        full.iter()
            .all(|s| s.constraints.iter().all(|c| c.is_finite()))
    );
}

#[test]
fn a_nan_feature_is_reported_with_epoch_and_step() {
    let (mut vae, mut x, t) = setup();
    x[(2, 5)] = f32::NAN; // Molecule 5 is in the second batch of 4.
    let data = Dataset::new(&x, &t).unwrap();
    let config = TrainConfig {
        epochs: 2,
        batches_per_epoch: 2,
        ..TrainConfig::default()
    };
    let err = train(
        &mut vae,
        &data,
        &config,
        |_| {},
        &mut stream(0, Stream::Noise),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::NonFinite {
            what: "loss",
            epoch: 0,
            step: 1
        }
    );
    assert!(err.to_string().contains("epoch 0, step 1"));
}

#[test]
fn bad_configurations_and_checkpoints_are_errors() {
    let (vae, x, t) = setup();
    let data = Dataset::new(&x, &t).unwrap();
    let too_many = TrainConfig {
        batches_per_epoch: 9,
        ..TrainConfig::default()
    };
    let mut ck = Checkpoint::start(vae.clone(), 8, &stream(0, Stream::Noise));
    assert!(matches!(
        train_checkpoint(&mut ck, &data, &too_many, |_, _| {}),
        Err(Error::InvalidConfig {
            name: "batches_per_epoch",
            ..
        })
    ));
    let mut other = Checkpoint::start(vae, 7, &stream(0, Stream::Noise));
    assert!(matches!(
        train_checkpoint(&mut other, &data, &TrainConfig::default(), |_, _| {}),
        Err(Error::Checkpoint { .. })
    ));
    assert!(matches!(
        Dataset::new(&x, &t).unwrap().with_weights(&[0.0; 8]),
        Err(Error::InvalidWeights { index: 8, .. })
    ));
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut vae, x, t) = setup();
            let data = Dataset::new(&x, &t).unwrap();
            let config = TrainConfig {
                epochs: 2,
                batches_per_epoch: 2,
                constraint_weights: [1.0; 4],
                ..TrainConfig::default()
            };
            train(
                &mut vae,
                &data,
                &config,
                |_| {},
                &mut stream(1, Stream::Noise),
            )
            .unwrap();
            vae.params.to_flat()
        })
    };
    let one: Vec<u32> = run(1).iter().map(|v| v.to_bits()).collect();
    let four: Vec<u32> = run(4).iter().map(|v| v.to_bits()).collect();
    assert_eq!(one, four);
}

/// Features that carry nothing (every column equal, so BatchNorm maps them to 0) and a
/// different molecule per condition: only the conditional decoder can tell the targets apart.
#[test]
fn a_conditional_model_uses_its_conditions() {
    let t = targets(&SMALL_SMILES);
    let x = Matrix::<f32>::from_element(6, 8, 0.3);
    let c = Matrix::<f32>::from_fn(2, 8, |k, j| {
        if k == 0 {
            j as f32 / 4.0 - 1.0
        } else {
            (j as f32).sin()
        }
    });
    let config = fast_training();
    let last_reconstruction = |n_conditions: usize| {
        let model_config = ModelConfig {
            n_conditions,
            ..ModelConfig::small(6)
        };
        let mut vae = MolVae::<f32>::new(model_config, &mut stream(0, Stream::Init)).unwrap();
        let mut data = Dataset::new(&x, &t).unwrap();
        if n_conditions > 0 {
            data = data.with_conditions(&c).unwrap();
        }
        let history = train(
            &mut vae,
            &data,
            &config,
            |_| {},
            &mut stream(0, Stream::Noise),
        )
        .unwrap();
        history[149].reconstruction
    };
    let plain = last_reconstruction(0);
    let conditional = last_reconstruction(2);
    assert!(
        conditional < 0.5 * plain,
        "reconstruction: unconditional {plain}, conditional {conditional}"
    );
}

#[test]
fn conditions_must_match_the_model() {
    let (plain, x, t) = setup();
    let c = Matrix::<f32>::zeros(3, 8);
    let conditional = MolVae::<f32>::new(
        ModelConfig {
            n_conditions: 3,
            ..ModelConfig::small(6)
        },
        &mut stream(0, Stream::Init),
    )
    .unwrap();
    let config = TrainConfig {
        epochs: 1,
        batches_per_epoch: 2,
        ..TrainConfig::default()
    };
    let noise = stream(0, Stream::Noise);
    let without = Dataset::new(&x, &t).unwrap();
    let with = Dataset::new(&x, &t).unwrap().with_conditions(&c).unwrap();
    let mut ck = Checkpoint::start(conditional.clone(), 8, &noise);
    assert!(matches!(
        train_checkpoint(&mut ck, &without, &config, |_, _| {}),
        Err(Error::ShapeMismatch { .. })
    ));
    let mut ck = Checkpoint::start(plain, 8, &noise);
    assert!(matches!(
        train_checkpoint(&mut ck, &with, &config, |_, _| {}),
        Err(Error::ShapeMismatch { .. })
    ));
    let two = Matrix::<f32>::zeros(2, 8);
    let mut ck = Checkpoint::start(conditional.clone(), 8, &noise);
    let data_two = Dataset::new(&x, &t).unwrap().with_conditions(&two).unwrap();
    assert!(matches!(
        train_checkpoint(&mut ck, &data_two, &config, |_, _| {}),
        Err(Error::ShapeMismatch { .. })
    ));
    // Constrained + conditional is rejected, as in the paper's code.
    let constrained = TrainConfig {
        constraint_weights: [0.1, 0.1, 0.7, 0.7],
        ..config.clone()
    };
    let mut ck = Checkpoint::start(conditional, 8, &noise);
    let err = train_checkpoint(&mut ck, &with, &constrained, |_, _| {}).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidConfig {
            name: "constraint_weights",
            ..
        }
    ));
    assert!(err.to_string().contains("conditional"));
    let mut nan = c.clone();
    nan[(0, 3)] = f32::NAN;
    assert!(matches!(
        Dataset::new(&x, &t).unwrap().with_conditions(&nan),
        Err(Error::InvalidTarget { item: 3, .. })
    ));
}

/// `train_step` fuses the encoder hidden weight's gradient with its Adam update; three steps
/// of it must equal "full gradient (`loss_and_gradient`), then `Adam::step`" up to the last
/// bits of the sums, with and without the R1–R4 penalties.
#[test]
fn the_fused_training_step_equals_gradient_then_adam() {
    use mol_vae::{Adam, AdamConfig, Batch, ObjectiveConfig, StepNoise, loss_and_gradient};
    let x = features::<f64>(6, 4, 3);
    let t = targets(&SMALL_SMILES[..4]);
    let weights = [0.1, 0.4, 0.3, 0.2];
    let batch = Batch {
        features: &x,
        targets: &t,
        weights: &weights,
        n_items: 4,
    };
    let adam_config = AdamConfig {
        lr: 1e-2,
        ..AdamConfig::default()
    };
    for constraint_weights in [[0.0; 4], [0.1, 0.1, 1.0, 1.0]] {
        let objective = ObjectiveConfig {
            n_samples: 3,
            constraint_weights,
            ..ObjectiveConfig::for_batch_size(4)
        };
        let start =
            MolVae::<f64>::new(ModelConfig::small(6), &mut stream(2, Stream::Init)).unwrap();
        let (mut fused, mut reference) = (start.clone(), start);
        let (mut adam_fused, mut adam_reference) =
            (Adam::new(&fused.params), Adam::new(&reference.params));
        let mut grad = fused.params.zeros_like();
        let (mut rng_fused, mut rng_reference) =
            (stream(4, Stream::Noise), stream(4, Stream::Noise));
        for _ in 0..3 {
            let a = mol_vae::train_step(
                &mut fused,
                &mut adam_fused,
                &batch,
                &objective,
                &adam_config,
                &mut grad,
                &mut rng_fused,
            )
            .unwrap();
            let noise = StepNoise::draw(3, 4, &objective, &mut rng_reference);
            let mut full = reference.params.zeros_like();
            let b =
                loss_and_gradient(&mut reference, &batch, &objective, &noise, &mut full).unwrap();
            adam_reference.step(&mut reference.params, &full, &adam_config);
            assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "same forward pass");
            // Every stored gradient but the hidden weight's agrees.
            for (g, f) in grad.tensors().iter().zip(full.tensors()) {
                if f.as_ptr() != full.hidden.weight.as_ptr() {
                    assert_all_close(g, f, tol::ITER);
                }
            }
            assert_all_close(
                &fused.params.to_flat(),
                &reference.params.to_flat(),
                tol::ITER,
            );
            assert_all_close(
                &adam_fused.m.to_flat(),
                &adam_reference.m.to_flat(),
                tol::ITER,
            );
            assert_all_close(
                &adam_fused.v.to_flat(),
                &adam_reference.v.to_flat(),
                tol::ITER,
            );
        }
        assert_ne!(
            fused.params,
            MolVae::<f64>::new(ModelConfig::small(6), &mut stream(2, Stream::Init))
                .unwrap()
                .params
        );
    }
}

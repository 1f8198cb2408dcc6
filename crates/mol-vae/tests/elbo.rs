//! The objective: normalisation, weights, the encoder de-duplication, BatchNorm statistics.

use linalg::{
    Matrix,
    rng::{Stream, stream},
    testing::{assert_all_close, assert_close, tol},
};
use mol_vae::{Batch, ModelConfig, MolVae, ObjectiveConfig, StepNoise, loss_and_gradient};
use proptest::prelude::*;

use crate::{SMALL_SMILES, features, targets};

fn model(seed: u64) -> MolVae<f64> {
    MolVae::new(ModelConfig::small(4), &mut stream(seed, Stream::Init)).unwrap()
}

#[test]
fn uniform_weights_give_the_mean_over_rows_and_weights_scale_linearly() {
    let mut vae = model(0);
    let x = features::<f64>(4, 3, 1);
    let t = targets(&SMALL_SMILES[..3]);
    let objective = ObjectiveConfig {
        n_samples: 3,
        ..ObjectiveConfig::for_batch_size(3)
    };
    let noise = StepNoise::draw(3, 3, &objective, &mut stream(0, Stream::Noise));
    let run = |vae: &mut MolVae<f64>, w: &[f64]| {
        let batch = Batch {
            features: &x,
            targets: &t,
            weights: w,
            n_items: 9,
        };
        let mut g = vae.params.zeros_like();
        let terms = loss_and_gradient(vae, &batch, &objective, &noise, &mut g).unwrap();
        (terms, g.to_flat())
    };
    let (uniform, g1) = run(&mut vae, &[1.0 / 9.0; 3]);
    assert_close(
        uniform.loss,
        uniform.reconstruction + uniform.kl,
        tol::EXACT,
    );
    let (doubled, g2) = run(&mut vae, &[2.0 / 9.0; 3]);
    assert_close(doubled.loss, 2.0 * uniform.loss, tol::EXACT);
    let g1_doubled: Vec<f64> = g1.iter().map(|g| 2.0 * g).collect();
    assert_all_close(&g2, &g1_doubled, tol::EXACT);
}

#[test]
fn encoding_each_molecule_once_equals_encoding_its_l_copies() {
    // B = 2 molecules with L = 2 copies, against B = 4 columns (the copies made explicit) with
    // L = 1: same ε per row, same loss, same gradient, same BatchNorm running statistics.
    let x = features::<f64>(4, 2, 2);
    let t = targets(&SMALL_SMILES[..2]);
    let replicated_x = Matrix::from_fn(4, 4, |i, j| x[(i, j % 2)]);
    let replicated_t = [t.clone(), t.clone()].concat();
    let dedup = ObjectiveConfig {
        n_samples: 2,
        ..ObjectiveConfig::for_batch_size(2)
    };
    let explicit = ObjectiveConfig {
        n_samples: 1,
        ..dedup.clone()
    };
    let noise = StepNoise::draw(3, 2, &dedup, &mut stream(3, Stream::Noise));
    let w = [0.1, 0.4];
    let mut a = model(5);
    let mut b = a.clone();
    let mut ga = a.params.zeros_like();
    let mut gb = b.params.zeros_like();
    let batch_a = Batch {
        features: &x,
        targets: &t,
        weights: &w,
        n_items: 4,
    };
    let wb = [0.1, 0.4, 0.1, 0.4];
    let batch_b = Batch {
        features: &replicated_x,
        targets: &replicated_t,
        weights: &wb,
        n_items: 4,
    };
    let ta = loss_and_gradient(&mut a, &batch_a, &dedup, &noise, &mut ga).unwrap();
    let tb = loss_and_gradient(&mut b, &batch_b, &explicit, &noise, &mut gb).unwrap();
    assert_close(ta.loss, tb.loss, tol::EXACT);
    assert_all_close(&ga.to_flat(), &gb.to_flat(), tol::ITER);
    assert_all_close(
        a.input_stats.var.as_slice(),
        b.input_stats.var.as_slice(),
        tol::EXACT,
    );
    assert_all_close(
        a.hidden_stats.mean.as_slice(),
        b.hidden_stats.mean.as_slice(),
        tol::EXACT,
    );
}

#[test]
fn a_training_step_updates_running_statistics_with_momentum_and_unbiased_variance() {
    let mut vae = model(1);
    let x = features::<f64>(4, 3, 4);
    let t = targets(&SMALL_SMILES[..3]);
    let objective = ObjectiveConfig::for_batch_size(3); // L = 31.
    let noise = StepNoise::draw(3, 3, &objective, &mut stream(0, Stream::Noise));
    let batch = Batch {
        features: &x,
        targets: &t,
        weights: &[1.0 / 3.0; 3],
        n_items: 3,
    };
    let mut g = vae.params.zeros_like();
    loss_and_gradient(&mut vae, &batch, &objective, &noise, &mut g).unwrap();
    let n = (3 * objective.n_samples) as f64;
    for i in 0..4 {
        let row: Vec<f64> = (0..3).map(|j| x[(i, j)]).collect();
        let mean = row.iter().sum::<f64>() / 3.0;
        let biased = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
        assert_close(vae.input_stats.mean[i], 0.1 * mean, tol::EXACT);
        assert_close(
            vae.input_stats.var[i],
            0.9 + 0.1 * biased * n / (n - 1.0),
            tol::EXACT,
        );
    }
}

#[test]
fn mismatched_inputs_are_errors() {
    let mut vae = model(0);
    let x = features::<f64>(4, 2, 0);
    let t = targets(&SMALL_SMILES[..3]);
    let objective = ObjectiveConfig::for_batch_size(2);
    let noise = StepNoise::draw(3, 2, &objective, &mut stream(0, Stream::Noise));
    let mut g = vae.params.zeros_like();
    let batch = Batch {
        features: &x,
        targets: &t,
        weights: &[0.5, 0.5],
        n_items: 2,
    };
    let err = loss_and_gradient(&mut vae, &batch, &objective, &noise, &mut g).unwrap_err();
    assert!(matches!(
        err,
        mol_vae::Error::ShapeMismatch {
            op: "Batch::targets",
            ..
        }
    ));
    // A 9-atom target does not fit a 4-node model.
    let big = targets(&["CCCCCCCCC", "CC"]);
    let batch = Batch {
        features: &x,
        targets: &big,
        weights: &[0.5, 0.5],
        n_items: 2,
    };
    let err = loss_and_gradient(&mut vae, &batch, &objective, &noise, &mut g).unwrap_err();
    assert!(matches!(err, mol_vae::Error::InvalidTarget { item: 0, .. }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// KL(q ‖ N(0, I)) ≥ 0 and the reconstruction cross-entropy ≥ 0 at any point.
    #[test]
    fn kl_and_reconstruction_are_non_negative(seed in 0u64..1_000, b in 2usize..=4) {
        let mut vae = model(seed);
        let x = features::<f64>(4, b, seed);
        let t = targets(&SMALL_SMILES[..b]);
        let objective = ObjectiveConfig::for_batch_size(b);
        let noise = StepNoise::draw(3, b, &objective, &mut stream(seed, Stream::Noise));
        let w = vec![1.0 / b as f64; b];
        let batch = Batch { features: &x, targets: &t, weights: &w, n_items: b };
        let mut g = vae.params.zeros_like();
        let terms = loss_and_gradient(&mut vae, &batch, &objective, &noise, &mut g).unwrap();
        prop_assert!(terms.kl >= 0.0);
        prop_assert!(terms.reconstruction >= 0.0);
    }
}

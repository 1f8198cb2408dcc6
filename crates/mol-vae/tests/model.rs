//! The network: sizes, initialisation, decoder symmetry, evaluation-mode encoding.

use linalg::{
    Matrix,
    rng::{Stream, stream},
};
use mol_vae::{ModelConfig, MolVae, Parameters};

#[test]
fn paper_network_has_the_digest_parameter_count_and_glorot_biases() {
    let config = ModelConfig::default();
    let params = Parameters::<f32>::glorot(&config, &mut stream(0, Stream::Init)).unwrap();
    assert_eq!(params.n_parameters(), 3_937_713);
    assert_eq!(params.hidden.weight.shape(), (400, 9_425));
    assert_eq!(params.atom_head.weight.shape(), (45, 354));
    // Biases on the weight's bound, √(6/(n_in + n_out)), and not all zero.
    for layer in [&params.hidden, &params.mean, &params.atom_head] {
        let bound = (6.0 / (layer.n_in() + layer.n_out()) as f32).sqrt();
        assert!(layer.bias.iter().all(|b| b.abs() <= bound));
        assert!(layer.bias.iter().any(|b| b.abs() > 0.5 * bound));
    }
    assert!(
        params
            .input_norm
            .gamma
            .iter()
            .all(|g| g.to_bits() == 1.0f32.to_bits())
    );
}

#[test]
fn invalid_configs_are_rejected() {
    let config = ModelConfig {
        bond_embedding: 7,
        ..ModelConfig::default()
    };
    let err = MolVae::<f32>::new(config, &mut stream(0, Stream::Init)).unwrap_err();
    assert!(matches!(
        err,
        mol_vae::Error::InvalidConfig {
            name: "decoder_widths",
            ..
        }
    ));
}

#[test]
fn decoded_bond_logits_are_symmetric_and_probabilities_normalised() {
    let vae = MolVae::<f32>::new(ModelConfig::default(), &mut stream(2, Stream::Init)).unwrap();
    let z = mol_vae::generate::sample_prior(30, 5, &mut stream(0, Stream::Sample));
    let out = vae.decode(&z).unwrap();
    let n = 9;
    for col in 0..5 {
        for u in 0..n {
            for v in 0..n {
                let mut sum = 0.0;
                for t in 0..4 {
                    let a = out.bond_logits[((u * n + v) * 4 + t, col)];
                    let b = out.bond_logits[((v * n + u) * 4 + t, col)];
                    assert_eq!(a.to_bits(), b.to_bits());
                    sum += out.bond_probs[((u * n + v) * 4 + t, col)];
                }
                assert!((sum - 1.0).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn evaluation_mode_encoding_uses_running_statistics() {
    let mut vae = MolVae::<f64>::new(ModelConfig::small(3), &mut stream(0, Stream::Init)).unwrap();
    let x = Matrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64);
    let before = vae.encode(&x).unwrap();
    // Encoding is per-column in evaluation mode: a batch of one gives the same column.
    let single = vae.encode(&x.columns(1, 1).into_owned()).unwrap();
    assert_eq!(before.mean.column(1), single.mean.column(0));
    vae.input_stats.mean[0] = 5.0;
    let after = vae.encode(&x).unwrap();
    assert_ne!(before.mean, after.mean);
}

#[test]
fn conditional_network_widens_only_the_decoder_inputs() {
    let config = ModelConfig {
        n_features: 15_080,
        n_conditions: 3,
        ..ModelConfig::default()
    };
    let params = Parameters::<f32>::glorot(&config, &mut stream(0, Stream::Init)).unwrap();
    assert_eq!(params.hidden.weight.shape(), (400, 15_080));
    assert_eq!(params.decoder[0].weight.shape(), (60, 33));
    assert_eq!(params.decoder[1].weight.shape(), (120, 60));
    assert_eq!(params.atom_head.weight.shape(), (45, 324 + 33));
}

#[test]
fn unconditional_initialisation_is_unchanged_by_the_conditional_option() {
    // n_conditions = 0 is the default and draws exactly the old layers (the first decoder
    // layer reads z only); regression guard for bit-identical `reproduce molvae` outputs.
    let config = ModelConfig::small(6);
    assert_eq!(config.n_conditions, 0);
    let params = Parameters::<f64>::glorot(&config, &mut stream(4, Stream::Init)).unwrap();
    assert_eq!(params.decoder[0].n_in(), config.n_latent);
    assert_eq!(
        params.atom_head.n_in(),
        config.n_bond_logits() + config.n_latent
    );
}

/// The conditional model with its condition weight columns removed is an unconditional model,
/// and with `c = 0` both decode alike: the conditions enter through those columns only.
#[test]
fn conditions_enter_the_decoder_through_their_own_columns_only() {
    let k = 3;
    let m = 2;
    let config = ModelConfig {
        n_conditions: m,
        ..ModelConfig::small(6)
    };
    let conditional = MolVae::<f64>::new(config, &mut stream(5, Stream::Init)).unwrap();
    let mut plain =
        MolVae::<f64>::new(ModelConfig::small(6), &mut stream(5, Stream::Init)).unwrap();
    plain.params = conditional.params.clone();
    plain.params.decoder[0].weight = conditional.params.decoder[0]
        .weight
        .columns(0, k)
        .into_owned();
    let n_bond = plain.config().n_bond_logits();
    plain.params.atom_head.weight = conditional
        .params
        .atom_head
        .weight
        .columns(0, n_bond + k)
        .into_owned();
    let z = mol_vae::generate::sample_prior::<f64>(k, 4, &mut stream(1, Stream::Sample));
    let zero = Matrix::zeros(m, 4);
    let a = conditional.decode_conditional(&z, &zero).unwrap();
    let b = plain.decode(&z).unwrap();
    let tol = linalg::testing::tol::EXACT;
    linalg::testing::assert_all_close(a.atom_logits.as_slice(), b.atom_logits.as_slice(), tol);
    linalg::testing::assert_all_close(a.bond_logits.as_slice(), b.bond_logits.as_slice(), tol);
    // Non-zero conditions change both heads.
    let c = Matrix::from_element(m, 4, 1.5);
    let d = conditional.decode_conditional(&z, &c).unwrap();
    assert_ne!(d.atom_logits, a.atom_logits);
    assert_ne!(d.bond_logits, a.bond_logits);
}

#[test]
fn condition_shape_mismatches_are_errors() {
    let config = ModelConfig {
        n_conditions: 3,
        ..ModelConfig::small(6)
    };
    let conditional = MolVae::<f32>::new(config, &mut stream(0, Stream::Init)).unwrap();
    let plain = MolVae::<f32>::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
    let z = Matrix::<f32>::zeros(3, 2);
    let shape_error = |r: mol_vae::Result<mol_vae::Decoded<f32>>| {
        matches!(r, Err(mol_vae::Error::ShapeMismatch { .. }))
    };
    assert!(shape_error(conditional.decode(&z)));
    assert!(shape_error(
        conditional.decode_conditional(&z, &Matrix::zeros(2, 2))
    ));
    assert!(shape_error(
        conditional.decode_conditional(&z, &Matrix::zeros(3, 1))
    ));
    assert!(shape_error(
        plain.decode_conditional(&z, &Matrix::zeros(3, 2))
    ));
    assert!(
        conditional
            .decode_conditional(&z, &Matrix::zeros(3, 2))
            .is_ok()
    );
}

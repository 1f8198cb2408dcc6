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

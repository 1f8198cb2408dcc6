//! Generation: argmax decoding of prior samples.

use linalg::rng::{Stream, stream};
use mol_vae::{ModelConfig, MolVae, generate};
use molgraph::MolGraph;

#[test]
fn argmax_decoding_gives_symmetric_ghost_padded_graphs_reproducibly() {
    let vae = MolVae::<f32>::new(ModelConfig::small(6), &mut stream(3, Stream::Init)).unwrap();
    let a = generate::sample_graphs(&vae, 50, &mut stream(4, Stream::Sample)).unwrap();
    let b = generate::sample_graphs(&vae, 50, &mut stream(4, Stream::Sample)).unwrap();
    assert_eq!(a, b);
    for g in &a {
        // Nodes beyond the model's 4 are ghosts with no bonds; the matrix is a graph.
        assert!(
            (4..9).all(|v| g.classes[v].is_ghost() && g.bond_orders[v].iter().all(|&o| o == 0))
        );
        assert!(MolGraph::from_dense(g).is_ok());
    }
    assert!(matches!(
        generate::sample_graphs(&vae, 0, &mut stream(4, Stream::Sample)),
        Err(mol_vae::Error::Empty { .. })
    ));
}

#[test]
fn decoding_across_chunks_matches_decoding_one_by_one() {
    let vae = MolVae::<f32>::new(ModelConfig::small(6), &mut stream(3, Stream::Init)).unwrap();
    let z = generate::sample_prior::<f32>(3, 1_005, &mut stream(5, Stream::Sample));
    let all = generate::decode_argmax(&vae, &z).unwrap();
    let last = generate::decode_argmax(&vae, &z.columns(1_004, 1).into_owned()).unwrap();
    assert_eq!(all[1_004], last[0]);
}

#[test]
fn conditional_sampling_is_reproducible_and_checks_shapes() {
    use linalg::Matrix;
    use mol_vae::conditions::ConditionGaussian;
    let config = ModelConfig {
        n_conditions: 3,
        ..ModelConfig::small(6)
    };
    let vae = MolVae::<f32>::new(config, &mut stream(3, Stream::Init)).unwrap();
    let gaussian = ConditionGaussian::new(vec![0.0; 3], Matrix::identity(3, 3)).unwrap();
    let draw = || {
        let mut rng = stream(4, Stream::Sample);
        let c = gaussian
            .sample_given(2, -1.0, 30, &mut rng)
            .unwrap()
            .map(|v| v as f32);
        generate::sample_conditional_graphs(&vae, &c, &mut rng).unwrap()
    };
    let a = draw();
    assert_eq!(a.len(), 30);
    assert_eq!(a, draw());
    assert!(a.iter().all(|g| MolGraph::from_dense(g).is_ok()));
    let mut rng = stream(4, Stream::Sample);
    assert!(matches!(
        generate::sample_conditional_graphs(&vae, &Matrix::<f32>::zeros(2, 5), &mut rng),
        Err(mol_vae::Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        generate::sample_conditional_graphs(&vae, &Matrix::<f32>::zeros(3, 0), &mut rng),
        Err(mol_vae::Error::Empty { .. })
    ));
    // An unconditional sampler refuses a conditional model.
    assert!(generate::sample_graphs(&vae, 3, &mut rng).is_err());
}

//! Tests of `src/update.rs`: every term against its dense formula, fused versus accumulated,
//! Θ = 0, the Oja principal-subspace identity, and the errors of a malformed step.

use linalg::{
    Matrix, Vector,
    eigen::symmetric_eigen,
    rng::{Stream, for_item, stream},
    testing::tol,
};
use plasticity_core::{
    Deltas, Error, HiddenActivation, Mlp, MlpConfig, N_TERMS, Rule, RuleSet, State, Term,
};
use rand::Rng as _;

use crate::{col, forward_with_backprop_errors, input_f64, net_f64};

/// Dense `F^r` of weight layer `layer`, written out as the chains of paper B's Eqs. 14–23 with
/// nalgebra products, left to right, in f64.
fn dense_term(term: Term, w: &Matrix<f64>, state: &State<f64>, layer: usize) -> Matrix<f64> {
    let y = col(state.activation(layer));
    let e = col(state.error(layer).unwrap());
    let yp = col(state.activation(layer - 1));
    let ep = col(state.error(layer - 1).unwrap());
    let ones = Matrix::from_element(w.nrows(), 1, 1.0);
    let f = match term {
        Term::PseudoGradient => -(&e * yp.transpose()),
        Term::PostActivationPreError => -(&y * ep.transpose()),
        Term::ErrorHebb => -(&e * ep.transpose()),
        Term::Decay => -w.clone(),
        Term::PreError => -(&ones * ep.transpose()),
        Term::ScaledPseudoGradient => -(&e * ones.transpose() * &y * yp.transpose()),
        Term::ProjectedPostPreError => -(&y * y.transpose() * w * &ep * ep.transpose()),
        Term::ProjectedErrorActivation => -(&e * y.transpose() * w * &ep * yp.transpose()),
        Term::ProjectedActivationError => {
            -(&y * yp.transpose() * w.transpose() * &e * ep.transpose())
        }
        Term::Oja => &y * yp.transpose() - &y * y.transpose() * w,
    };
    assert_eq!(
        f.shape(),
        w.shape(),
        "F{} of layer {layer} has the wrong shape",
        term.index()
    );
    f
}

#[track_caller]
fn assert_matrices_close(got: &Matrix<f64>, expected: &Matrix<f64>, what: &str) {
    assert_eq!(got.shape(), expected.shape(), "{what}: shape");
    for (idx, (a, b)) in got.iter().zip(expected.iter()).enumerate() {
        assert!(
            tol::EXACT.accepts(*a, *b),
            "{what}: entry {idx}: {a:e} vs {b:e}"
        );
    }
}

/// Applies `rules` (fused and accumulated) and checks `ΔW_ℓ = Σ_r θ_r F^r_ℓ` in every layer.
#[track_caller]
fn check_rule(sizes: &[usize], rule: Rule, seed: u64) {
    let net = net_f64(sizes, seed);
    let x = input_f64(sizes[0], seed);
    let label = seed as usize % sizes[sizes.len() - 1];
    let mut state = forward_with_backprop_errors(&net, &x, label);
    let expected: Vec<Matrix<f64>> = (1..=net.n_layers())
        .map(|layer| {
            let w = net.weight(layer).unwrap();
            Term::ALL
                .into_iter()
                .fold(Matrix::zeros(w.nrows(), w.ncols()), |acc, term| {
                    acc + dense_term(term, w, &state, layer) * rule.coefficient(term)
                })
        })
        .collect();
    let rules = RuleSet::from(rule);

    let mut fused = net.clone();
    fused.apply_rules(&mut state, &rules).unwrap();
    let mut deltas = Deltas::zeros_like(&net);
    net.accumulate_rules(&mut state, &rules, 1.0, &mut deltas)
        .unwrap();
    for layer in 1..=net.n_layers() {
        let delta = fused.weight(layer).unwrap() - net.weight(layer).unwrap();
        assert_matrices_close(
            &delta,
            &expected[layer - 1],
            &format!("fused, layer {layer}, {rule:?}"),
        );
        assert_matrices_close(
            &deltas.matrices()[layer - 1],
            &expected[layer - 1],
            &format!("accumulated, layer {layer}"),
        );
    }
}

#[test]
fn every_term_alone_matches_its_dense_formula_in_every_layer() {
    for term in Term::ALL {
        for (seed, sizes) in [
            (1, vec![5, 4, 3, 2]),
            (2, vec![3, 6, 4]),
            (3, vec![9, 9, 5, 3]),
        ] {
            check_rule(&sizes, Rule::default().with(term, 0.3), seed);
        }
    }
}

#[test]
fn all_ten_terms_together_match_the_dense_sum() {
    for seed in 0..3u64 {
        let mut rng = for_item(seed, Stream::Noise, 1);
        let mut theta = [0.0; N_TERMS];
        theta
            .iter_mut()
            .for_each(|t| *t = rng.random::<f64>() - 0.5);
        check_rule(&[6, 5, 4, 3], Rule { theta }, seed);
    }
}

#[test]
fn paper_named_rules_match_the_dense_sum() {
    check_rule(&[7, 5, 3], Rule::bio(0.01, -0.015, 0.004), 4);
    check_rule(&[7, 5, 3], Rule::oja(0.01, 0.004), 5);
    check_rule(&[7, 5, 3], Rule::ehebb(0.0035, -0.015), 6);
}

#[test]
fn zero_rule_leaves_weights_bitwise_unchanged() {
    let mut net = net_f64(&[5, 4, 3], 8);
    let mut w1 = net.weight(1).unwrap().clone();
    w1[(0, 0)] = -0.0; // A negative zero would turn positive if anything were added.
    net.set_weight(1, w1).unwrap();
    let before = net.clone();
    let mut state = forward_with_backprop_errors(&net, &input_f64(5, 8), 1);
    net.apply_rules(&mut state, &RuleSet::from(Rule::default()))
        .unwrap();
    for (a, b) in net.weights().iter().zip(before.weights()) {
        assert!(
            a.iter()
                .zip(b.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
    }
}

#[test]
fn per_layer_rules_touch_only_their_layer() {
    let mut net = net_f64(&[5, 4, 3], 9);
    let before = net.clone();
    let mut state = forward_with_backprop_errors(&net, &input_f64(5, 9), 1);
    net.apply_rules(
        &mut state,
        &RuleSet::PerLayer(vec![Rule::default(), Rule::oja(0.1, 0.1)]),
    )
    .unwrap();
    assert_eq!(net.weight(1).unwrap(), before.weight(1).unwrap());
    assert_ne!(net.weight(2).unwrap(), before.weight(2).unwrap());
}

#[test]
fn a_term_needing_e0_without_it_is_an_error_and_changes_nothing() {
    let mut net = net_f64(&[5, 4, 3], 10);
    let before = net.clone();
    let mut state = net.new_state();
    net.forward(&mut state, &input_f64(5, 10)).unwrap();
    state.set_output_error(0).unwrap();
    let w2 = net.weight(2).unwrap().clone();
    state.project_error(1, 2, &w2).unwrap();
    // eHebb in layer 1 reads e₀, which nobody computed.
    let err = net
        .apply_rules(&mut state, &RuleSet::from(Rule::ehebb(0.1, -0.1)))
        .unwrap_err();
    assert_eq!(
        err,
        Error::MissingError {
            error_layer: 0,
            layer: 1,
            term: 2
        }
    );
    assert!(err.to_string().contains("Eq. 24"));
    assert_eq!(net, before);
    // A rule that needs no e₀ runs.
    net.apply_rules(&mut state, &RuleSet::from(Rule::oja(0.1, 0.1)))
        .unwrap();
}

#[test]
fn nan_coefficient_is_an_error_and_changes_nothing() {
    let mut net = net_f64(&[5, 4, 3], 11);
    let before = net.clone();
    let mut state = forward_with_backprop_errors(&net, &input_f64(5, 11), 0);
    let rules = RuleSet::from(Rule::oja(0.1, f64::NAN));
    assert_eq!(
        net.apply_rules(&mut state, &rules),
        Err(Error::NonFiniteTheta { layer: 1, term: 9 })
    );
    assert_eq!(net, before);
}

#[test]
fn applying_before_a_forward_pass_is_an_error() {
    let mut net = net_f64(&[5, 4, 3], 12);
    let mut state = net.new_state();
    assert_eq!(
        net.apply_rules(&mut state, &RuleSet::from(Rule::oja(0.1, 0.1))),
        Err(Error::NoForwardPass)
    );
}

/// Oja's subspace rule alone on a linear layer converges to the principal subspace of its input
/// (Oja 1982/1989; paper B §Methods refs). Input: zero-mean, variances 9, 6.25, 1, 0.5, 0.25,
/// 0.1 along a random orthonormal basis; a 2-unit linear layer must span the top two axes.
#[test]
fn oja_alone_finds_the_principal_subspace_of_a_linear_layer() {
    let (dim, k) = (6, 2);
    let config = MlpConfig {
        sizes: vec![dim, k, 2],
        hidden_activation: HiddenActivation::Identity,
        init_gain: 0.5,
        ..MlpConfig::default()
    };
    let mut net = Mlp::<f64>::new(&config, &mut stream(20, Stream::Init)).unwrap();
    let mut rng = for_item(20, Stream::Noise, 0);
    let random_sym = Matrix::<f64>::from_fn(dim, dim, |_, _| rng.random::<f64>() - 0.5);
    let basis = symmetric_eigen(&(&random_sym + random_sym.transpose())).1;
    let scales = [3.0, 2.5, 1.0, 0.7, 0.5, 0.3];
    let samples: Vec<Vector<f64>> = (0..20_000)
        .map(|_| {
            let coords = Vector::from_fn(dim, |i, _| {
                scales[i] * (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt()
            });
            &basis * coords
        })
        .collect();
    let rules = RuleSet::PerLayer(vec![
        Rule::default().with(Term::Oja, 0.002),
        Rule::default(),
    ]);
    let mut state = net.new_state();
    for x in &samples {
        net.forward(&mut state, x.as_slice()).unwrap();
        net.apply_rules(&mut state, &rules).unwrap();
    }
    let mut second_moment = Matrix::<f64>::zeros(dim, dim);
    for x in &samples {
        second_moment += x * x.transpose();
    }
    let (values, vectors) = symmetric_eigen(&(second_moment / samples.len() as f64));
    assert!(
        values[dim - 2] > 2.0 * values[dim - 3],
        "the test input needs an eigengap"
    );
    let w = net.weight(1).unwrap();
    let gram = w * w.transpose();
    for (a, b) in gram.iter().zip(Matrix::<f64>::identity(k, k).iter()) {
        assert!((a - b).abs() < 0.05, "W Wᵀ = {gram} is not ≈ I");
    }
    // |cos| of the angle between each top eigenvector and the row space of W.
    let projector = w.transpose() * gram.clone().try_inverse().unwrap() * w;
    for idx in [dim - 1, dim - 2] {
        let v = vectors.column(idx).into_owned();
        let cos = (&projector * &v).norm() / v.norm();
        assert!(cos > 0.99, "eigenvector {idx}: |cos| = {cos}");
    }
    // And the minor axes are left out: the row space holds no part of the smallest eigenvector.
    let minor = vectors.column(0).into_owned();
    let cos_minor = (&projector * &minor).norm() / minor.norm();
    assert!(cos_minor < 0.1, "smallest eigenvector: |cos| = {cos_minor}");
}

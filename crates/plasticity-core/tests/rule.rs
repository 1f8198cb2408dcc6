//! Tests of `src/rule.rs`: term metadata, named rules and validation.

use plasticity_core::{Error, N_TERMS, Rule, RuleSet, Term};

#[test]
fn terms_are_numbered_as_in_the_paper() {
    for (idx, term) in Term::ALL.into_iter().enumerate() {
        assert_eq!(term.index(), idx);
        assert_eq!(term.equation(), 14 + idx); // F0 is Eq. 14, F9 is Eq. 23.
    }
    assert_eq!(Term::ALL.len(), N_TERMS);
    // Digest §1.3: F1, F2, F4, F6, F7, F8 need e_{ℓ−1}.
    let pre: Vec<usize> = Term::ALL
        .into_iter()
        .filter(|t| t.needs_presynaptic_error())
        .map(Term::index)
        .collect();
    assert_eq!(pre, vec![1, 2, 4, 6, 7, 8]);
    let post: Vec<usize> = Term::ALL
        .into_iter()
        .filter(|t| t.needs_error())
        .map(Term::index)
        .collect();
    assert_eq!(post, vec![0, 2, 5, 7, 8]);
}

#[test]
fn named_rules_set_the_papers_coefficients() {
    let expected = [0.1, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3];
    let bits = |theta: [f64; N_TERMS]| theta.map(f64::to_bits);
    assert_eq!(bits(Rule::bio(0.1, 0.2, 0.3).theta), bits(expected));
    assert_eq!(
        Rule::oja(0.01, 0.004).active_terms().collect::<Vec<_>>(),
        vec![Term::PseudoGradient, Term::Oja]
    );
    assert!(Rule::default().is_zero());
    assert!(RuleSet::from(Rule::ehebb(0.1, -0.1)).needs_input_error());
    assert!(
        !RuleSet::PerLayer(vec![Rule::oja(0.1, 0.1), Rule::ehebb(0.1, -0.1)]).needs_input_error()
    );
}

#[test]
fn non_finite_coefficients_and_wrong_counts_are_errors() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let rules = RuleSet::PerLayer(vec![
            Rule::default(),
            Rule::default().with(Term::Decay, bad),
        ]);
        assert_eq!(
            rules.validate(2),
            Err(Error::NonFiniteTheta { layer: 2, term: 3 })
        );
    }
    assert_eq!(
        RuleSet::PerLayer(vec![Rule::default()]).validate(2),
        Err(Error::RuleCount {
            expected: 2,
            got: 1
        })
    );
    assert!(RuleSet::from(Rule::bio(1.0, 2.0, 3.0)).validate(5).is_ok());
}

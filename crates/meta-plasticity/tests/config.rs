//! Tests of the meta-training configuration.

use feedback_alignment::FeedbackKind;
use meta_plasticity::{Error, MetaConfig, RuleFamily};
use plasticity_core::Term;

#[test]
fn paper_defaults() {
    let config = MetaConfig::paper(RuleFamily::Bio, FeedbackKind::Fixed);
    assert_eq!(config.mlp.sizes, vec![784, 170, 130, 100, 70, 47]);
    assert_eq!(
        (
            config.episode.n_ways,
            config.episode.n_train_per_class,
            config.episode.n_query_per_class
        ),
        (5, 50, 10)
    );
    assert_eq!(config.optimizer.lr.to_bits(), 1e-3f64.to_bits());
    assert_eq!(config.optimizer.l1.to_bits(), 0.0f64.to_bits());
    let theta = config.initial_theta();
    assert_eq!(theta[0].to_bits(), 1e-3f64.to_bits());
    assert!(theta[1..].iter().all(|&t| t.to_bits() == 0));
}

#[test]
fn invalid_configs_name_their_field() {
    let check = |config: MetaConfig, field: &str| match config.validate() {
        Err(Error::InvalidConfig { field: got, .. }) => assert_eq!(got, field),
        other => panic!("expected InvalidConfig {{ {field} }}, got {other:?}"),
    };
    check(
        MetaConfig {
            feedback: FeedbackKind::Direct,
            ..MetaConfig::default()
        },
        "feedback",
    );
    check(
        MetaConfig {
            rule: RuleFamily::Custom(vec![]),
            ..MetaConfig::default()
        },
        "rule",
    );
    check(
        MetaConfig {
            rule: RuleFamily::Custom(vec![Term::Oja, Term::Oja]),
            ..MetaConfig::default()
        },
        "rule",
    );
    let mut config = MetaConfig::default();
    config.mlp.hidden_activation = plasticity_core::HiddenActivation::Identity;
    check(config, "mlp.hidden_activation");
    // Detaching only applies to backprop; the default config is FA.
    check(
        MetaConfig {
            detach_backprop_feedback: true,
            ..MetaConfig::default()
        },
        "detach_backprop_feedback",
    );
    let mut config = MetaConfig::default();
    config.episode.n_ways = 0;
    check(config, "episode.n_ways");
    let mut config = MetaConfig::default();
    config.episode.held_out_classes = vec![47];
    check(config, "episode.held_out_classes");
    let mut config = MetaConfig::default();
    config.optimizer.beta2 = 1.0;
    check(config, "optimizer.beta");
    let mut config = MetaConfig::default();
    config.optimizer.l1 = -1.0;
    check(config, "optimizer.l1");
    for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        let mut scales = [1.0; 10];
        scales[7] = bad;
        let mut config = MetaConfig::default();
        config.optimizer.term_scales = Some(scales);
        check(config.clone(), "optimizer.term_scales");
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains("s7 must be finite and > 0"), "{message}");
    }
    let mut config = MetaConfig::default();
    config.optimizer.term_scales = Some([0.5; 10]);
    assert!(config.validate().is_ok());
}

#[test]
fn fingerprint_changes_with_any_field() {
    let base = MetaConfig::default();
    let mut other = base.clone();
    other.episode.faithful = true;
    assert_ne!(base.fingerprint(), other.fingerprint());
    let mut other = base.clone();
    other.optimizer.lr = 1.0000000000000002e-3;
    assert_ne!(base.fingerprint(), other.fingerprint());
    assert_eq!(base.fingerprint(), base.clone().fingerprint());
}

//! Tests of the meta-training configuration.

use feedback_alignment::FeedbackKind;
use linalg::testing::{assert_close, tol};
use meta_plasticity::{
    Error, LrSchedule, MetaConfig, MetaOptimizerConfig, OnDivergence, RuleFamily,
};
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
    for factor in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let mut config = MetaConfig::default();
        config.optimizer.on_divergence = OnDivergence::Shrink { factor };
        check(config, "optimizer.on_divergence");
    }
    for schedule in [
        LrSchedule::InverseSqrt { warm: 0 },
        LrSchedule::Inverse { warm: 0 },
    ] {
        let mut config = MetaConfig::default();
        config.optimizer.lr_schedule = schedule;
        check(config, "optimizer.lr_schedule");
    }
}

#[test]
fn optimizer_settings_enter_the_fingerprint_only_when_set() {
    let base = MetaConfig::default();
    let mut other = base.clone();
    other.optimizer.lr_schedule = LrSchedule::Constant;
    other.optimizer.on_divergence = OnDivergence::Skip;
    assert_eq!(base.fingerprint(), other.fingerprint());
    assert!(!format!("{:?}", base.optimizer).contains("lr_schedule"));
    other.optimizer.lr_schedule = LrSchedule::InverseSqrt { warm: 100 };
    assert_ne!(base.fingerprint(), other.fingerprint());
    let mut shrink = base.clone();
    shrink.optimizer.on_divergence = OnDivergence::Shrink { factor: 0.5 };
    let mut shrink_more = base.clone();
    shrink_more.optimizer.on_divergence = OnDivergence::Shrink { factor: 0.25 };
    assert_ne!(base.fingerprint(), shrink.fingerprint());
    assert_ne!(shrink.fingerprint(), shrink_more.fingerprint());
}

#[test]
fn lr_schedules_decay_after_their_warm_phase() {
    let constant = MetaOptimizerConfig::default();
    for t in [0, 1, 100, 10_000] {
        assert_eq!(constant.lr_at(t).to_bits(), constant.lr.to_bits());
    }
    let sqrt = LrSchedule::InverseSqrt { warm: 100 };
    let inverse = LrSchedule::Inverse { warm: 100 };
    for t in [0, 1, 99, 100] {
        assert_eq!(sqrt.factor(t).to_bits(), 1f64.to_bits());
        assert_eq!(inverse.factor(t).to_bits(), 1f64.to_bits());
    }
    assert_close(sqrt.factor(101), (100.0f64 / 101.0).sqrt(), tol::EXACT);
    assert_close(sqrt.factor(600), (1.0f64 / 6.0).sqrt(), tol::EXACT);
    assert_close(inverse.factor(600), 1.0 / 6.0, tol::EXACT);
    // Monotone non-increasing.
    for t in 1..1000 {
        assert!(sqrt.factor(t + 1) <= sqrt.factor(t));
        assert!(inverse.factor(t + 1) <= inverse.factor(t));
    }
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

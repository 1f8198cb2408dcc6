//! Tests of the meta-training loop, its statistics and checkpoint states.

use std::ops::ControlFlow;

use feedback_alignment::FeedbackKind;
use meta_plasticity::{
    Error, ImagePool, MetaConfig, MetaOptimizerConfig, MetaTrainer, OnDivergence, Phase,
    RuleFamily, run_episode, run_parallel, train,
};
use plasticity_core::MlpConfig;

use crate::pool;

fn toy_config(rule: RuleFamily, feedback: FeedbackKind) -> MetaConfig {
    let mut config = MetaConfig::paper(rule, feedback);
    config.mlp = MlpConfig {
        sizes: vec![8, 12, 10, 6],
        ..MlpConfig::default()
    };
    config.episode.n_ways = 3;
    config.episode.n_train_per_class = 5;
    config.episode.n_query_per_class = 3;
    config.n_episodes = 6;
    config.seed = 11;
    config
}

fn toy_pool() -> ImagePool {
    pool(8, 6, 20, 2)
}

#[test]
fn resume_from_a_state_is_bit_identical() {
    let config = toy_config(RuleFamily::Pool, FeedbackKind::Fixed);
    let pool = toy_pool();
    let straight = train::<f32>(config.clone(), &pool, |_| ControlFlow::Continue(())).unwrap();
    assert!(straight.is_done());
    let first = train::<f32>(config.clone(), &pool, |stats| {
        if stats.episode == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(first.next_episode(), 3);
    let mut resumed = MetaTrainer::from_state(config, first.state()).unwrap();
    resumed
        .run::<f32>(&pool, |_, _| ControlFlow::Continue(()))
        .unwrap();
    let bits = |t: &MetaTrainer| t.theta().map(f64::to_bits);
    assert_eq!(bits(&resumed), bits(&straight));
    assert_eq!(resumed.state(), straight.state());
    assert!(
        straight.theta()[9].abs() > 0.0,
        "the pool's θ₉ never left 0"
    );
}

#[test]
fn states_from_other_configs_are_refused() {
    let config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    let pool = toy_pool();
    let mut trainer = MetaTrainer::new(config.clone()).unwrap();
    trainer.step::<f32>(&pool).unwrap();
    let state = trainer.state();
    let refused = |config: MetaConfig, state| {
        matches!(
            MetaTrainer::from_state(config, state),
            Err(Error::StateMismatch { .. })
        )
    };
    assert!(refused(
        MetaConfig {
            seed: 12,
            ..config.clone()
        },
        state.clone()
    ));
    assert!(refused(
        toy_config(RuleFamily::Bio, FeedbackKind::Backprop),
        state.clone()
    ));
    let mut bad = state.clone();
    bad.version += 1;
    assert!(refused(config.clone(), bad));
    let mut bad = state.clone();
    bad.next_episode = 7;
    assert!(refused(config.clone(), bad));
    let mut bad = state.clone();
    bad.theta[2] = f64::NAN;
    assert!(refused(config.clone(), bad));
    let mut bad = state.clone();
    bad.theta[5] = 0.1; // F5 is not in F^bio.
    assert!(refused(config.clone(), bad));
    assert!(MetaTrainer::from_state(config, state).is_ok());
}

#[test]
fn fa_meta_learning_raises_the_learning_rate() {
    let config = toy_config(RuleFamily::PseudoGradient, FeedbackKind::Fixed);
    let trainer = train::<f32>(config, &toy_pool(), |_| ControlFlow::Continue(())).unwrap();
    // θ₀ = 1e-3 barely learns; the query loss falls with a larger rate, so Adam raises θ₀ by
    // about lr per episode.
    assert!(trainer.theta()[0] > 4e-3, "θ₀ = {}", trainer.theta()[0]);
}

#[test]
fn episode_statistics_are_complete() {
    let pool = toy_pool();
    for feedback in [FeedbackKind::Fixed, FeedbackKind::Backprop] {
        let config = toy_config(RuleFamily::Oja, feedback);
        let theta = config.initial_theta();
        let stats = run_episode::<f64>(&config, &pool, &theta, 0, Phase::MetaTrain, true).unwrap();
        assert_eq!(stats.alignment_angles.len(), 4);
        assert_eq!(stats.orthonormality.len(), 3);
        assert!((0.0..=1.0).contains(&stats.query_accuracy));
        assert!(stats.query_loss > 0.0);
        assert_eq!(
            stats.meta_loss.to_bits(),
            stats.query_loss.to_bits(),
            "λ = 0: no penalty"
        );
        assert!(stats.gradient[0].abs() > 0.0 && stats.gradient[9].abs() > 0.0);
        if feedback == FeedbackKind::Backprop {
            for angle in stats.alignment_angles.iter().flatten() {
                assert!(
                    *angle < 1e-4,
                    "backprop is not aligned with itself: {angle}"
                );
            }
        }
    }
}

#[test]
fn meta_test_episodes_use_only_held_out_classes() {
    let mut config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    config.episode.held_out_classes = vec![0, 2, 4];
    let theta = config.initial_theta();
    for episode in 0..5 {
        let test = run_episode::<f32>(
            &config,
            &toy_pool(),
            &theta,
            episode,
            Phase::MetaTest,
            false,
        )
        .unwrap();
        assert!(test.classes.iter().all(|c| [0, 2, 4].contains(c)));
        assert!(test.gradient.iter().all(|g| g.to_bits() == 0));
        let train = run_episode::<f32>(
            &config,
            &toy_pool(),
            &theta,
            episode,
            Phase::MetaTrain,
            false,
        )
        .unwrap();
        assert!(train.classes.iter().all(|c| [1, 3, 5].contains(c)));
    }
}

#[test]
fn errors_name_the_episode_and_leave_the_trainer_unchanged() {
    let mut config = toy_config(RuleFamily::PseudoGradient, FeedbackKind::Backprop);
    config.theta0_init = 1e30;
    config.optimizer.on_divergence = OnDivergence::Fail;
    let mut trainer = MetaTrainer::new(config).unwrap();
    let err = trainer.step::<f32>(&toy_pool()).unwrap_err();
    assert!(matches!(err, Error::Diverged { episode: 0, .. }), "{err}");
    assert_eq!(trainer.next_episode(), 0);
    let wrong_pixels = pool(7, 6, 20, 2);
    let mut trainer = MetaTrainer::new(toy_config(RuleFamily::Bio, FeedbackKind::Fixed)).unwrap();
    assert!(matches!(
        trainer.step::<f32>(&wrong_pixels),
        Err(Error::Data { .. })
    ));
    assert_eq!(
        trainer.state(),
        MetaTrainer::new(toy_config(RuleFamily::Bio, FeedbackKind::Fixed))
            .unwrap()
            .state()
    );
}

#[test]
fn parallel_runs_match_sequential_runs_bitwise() {
    let pool = toy_pool();
    let configs: Vec<MetaConfig> = (0..3)
        .map(|seed| MetaConfig {
            seed,
            n_episodes: 3,
            ..toy_config(RuleFamily::Bio, FeedbackKind::Fixed)
        })
        .collect();
    let sequential: Vec<_> = configs
        .iter()
        .map(|c| {
            train::<f32>(c.clone(), &pool, |_| ControlFlow::Continue(()))
                .unwrap()
                .state()
        })
        .collect();
    for n_threads in [1, 2] {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(n_threads)
            .build()
            .unwrap();
        let trainers: Vec<_> = configs
            .iter()
            .map(|c| MetaTrainer::new(c.clone()).unwrap())
            .collect();
        let parallel = threads
            .install(|| run_parallel::<f32>(trainers, &pool, |_, _, _| ControlFlow::Continue(())));
        let states: Vec<_> = parallel.into_iter().map(|t| t.unwrap().state()).collect();
        assert_eq!(states, sequential, "{n_threads} thread(s)");
    }
}

#[test]
fn a_run_can_be_extended_from_its_final_state() {
    let pool = toy_pool();
    let short = MetaConfig {
        n_episodes: 2,
        ..toy_config(RuleFamily::Oja, FeedbackKind::Backprop)
    };
    let long = MetaConfig {
        n_episodes: 4,
        ..short.clone()
    };
    let first = train::<f32>(short, &pool, |_| ControlFlow::Continue(())).unwrap();
    let mut extended = MetaTrainer::from_state(long.clone(), first.state()).unwrap();
    extended
        .run::<f32>(&pool, |_, _| ControlFlow::Continue(()))
        .unwrap();
    let straight = train::<f32>(long, &pool, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(extended.state(), straight.state());
}

/// A trainer of the bio rule at a Θ whose inner loop diverges: θ₀ = 1e30, θ₂ = 2.5e-3,
/// θ₉ = −4e-4, with Adam moments from a few earlier updates.
fn diverging_trainer(policy: OnDivergence) -> MetaTrainer {
    let mut config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    config.optimizer.on_divergence = policy;
    let mut state = MetaTrainer::new(config.clone()).unwrap().state();
    state.theta[0] = 1e30;
    state.theta[2] = 2.5e-3;
    state.theta[9] = -4e-4;
    state.adam.m[2] = 0.7;
    state.adam.v[2] = 3.0;
    state.adam.t = 4;
    MetaTrainer::from_state(config, state).unwrap()
}

#[test]
fn a_diverged_episode_is_skipped_by_default() {
    assert_eq!(
        MetaOptimizerConfig::default().on_divergence,
        OnDivergence::Skip
    );
    let mut trainer = diverging_trainer(OnDivergence::Skip);
    let before = trainer.state();
    let stats = trainer.step::<f32>(&toy_pool()).unwrap();
    assert!(stats.is_diverged());
    assert_eq!(stats.query_accuracy.to_bits(), 0.0_f64.to_bits());
    assert!(stats.gradient.iter().all(|g| g.to_bits() == 0));
    assert_eq!(trainer.next_episode(), 1);
    let after = trainer.state();
    assert_eq!(
        after.theta.map(f64::to_bits),
        before.theta.map(f64::to_bits)
    );
    assert_eq!(after.adam, before.adam);
}

#[test]
fn retreat_moves_theta_towards_zero_and_clears_momentum() {
    let mut trainer = diverging_trainer(OnDivergence::Retreat);
    let before = trainer.state();
    let stats = trainer.step::<f32>(&toy_pool()).unwrap();
    assert!(stats.is_diverged());
    let after = trainer.state();
    // θ₀ stays; θ₂ loses one learning rate; θ₉ (|θ₉| < lr) stops at 0.
    assert_eq!(after.theta[0].to_bits(), 1e30_f64.to_bits());
    assert!(
        (after.theta[2] - 1.5e-3).abs() < 1e-15,
        "{}",
        after.theta[2]
    );
    assert_eq!(after.theta[9].to_bits(), 0.0_f64.to_bits());
    assert!(after.adam.m.iter().all(|m| m.to_bits() == 0));
    assert_eq!(
        after.adam.v.map(f64::to_bits),
        before.adam.v.map(f64::to_bits)
    );
    assert_eq!(after.adam.t, before.adam.t);
    assert_eq!(after.next_episode, 1);
}

#[test]
fn clipping_rescales_long_meta_gradients_only() {
    let pool = toy_pool();
    let config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    let mut free = MetaTrainer::new(config.clone()).unwrap();
    let stats = free.step::<f32>(&pool).unwrap();
    let norm = stats.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert!(norm > 0.0);
    let second_moment = |trainer: &MetaTrainer| trainer.state().adam.v;
    let clipped_run = |clip: f64| {
        let mut clipped = config.clone();
        clipped.optimizer.clip_norm = Some(clip);
        let mut trainer = MetaTrainer::new(clipped).unwrap();
        trainer.step::<f32>(&pool).unwrap();
        trainer
    };
    // A bound above the norm changes nothing, bit for bit.
    assert_eq!(
        second_moment(&clipped_run(2.0 * norm)).map(f64::to_bits),
        second_moment(&free).map(f64::to_bits)
    );
    // A bound at a quarter of the norm scales every component by 1/4: v = (1 − β₂) g².
    let quarter = clipped_run(norm / 4.0);
    for r in [0, 2, 9] {
        let expected = 0.001 * (stats.gradient[r] / 4.0).powi(2);
        let got = second_moment(&quarter)[r];
        assert!(
            (got - expected).abs() <= 1e-12 * expected.abs().max(1e-300),
            "θ{r}: {got} vs {expected}"
        );
    }
    let mut bad = config;
    bad.optimizer.clip_norm = Some(0.0);
    assert!(matches!(
        MetaTrainer::new(bad),
        Err(Error::InvalidConfig {
            field: "optimizer.clip_norm",
            ..
        })
    ));
}

#[test]
fn new_optimizer_fields_keep_old_fingerprints() {
    // The derived `Debug` form that fingerprints hashed before `on_divergence` and `clip_norm`.
    assert_eq!(
        format!("{:?}", MetaOptimizerConfig::default()),
        "MetaOptimizerConfig { lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, l1: 0.0 }"
    );
    let mut config = MetaConfig::default();
    let old = config.fingerprint();
    config.optimizer.on_divergence = OnDivergence::Retreat;
    assert_ne!(config.fingerprint(), old);
    config.optimizer.on_divergence = OnDivergence::Skip;
    config.optimizer.clip_norm = Some(1e3);
    assert_ne!(config.fingerprint(), old);
}

//! Tests of the meta-training loop, its statistics and checkpoint states.

use std::ops::ControlFlow;

use feedback_alignment::FeedbackKind;
use linalg::testing::{assert_close, tol};
use meta_plasticity::{
    Error, GradientMode, ImagePool, LrSchedule, MetaConfig, MetaOptimizerConfig, MetaState,
    MetaTrainer, OnDivergence, Phase, RuleFamily, run_episode, run_parallel, train,
};
use plasticity_core::MlpConfig;

use crate::pool;

/// An 8-12-10-6 network on 3-way episodes of 5 + 3 images per class, 6 episodes, seed 11.
pub(crate) fn toy_config(rule: RuleFamily, feedback: FeedbackKind) -> MetaConfig {
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
    // The tests compare against forward mode; `Auto` would run the pool in reverse mode.
    config.optimizer.gradient = GradientMode::Forward;
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
    diverging_trainer_with(policy, LrSchedule::Constant)
}

/// [`diverging_trainer`] under a learning-rate schedule.
fn diverging_trainer_with(policy: OnDivergence, schedule: LrSchedule) -> MetaTrainer {
    let mut config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    config.optimizer.on_divergence = policy;
    config.optimizer.lr_schedule = schedule;
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

/// After a retreat or a shrink: Adam's first moment is cleared, its second moment and step
/// count stay, and the episode counter moved on by one.
fn assert_momentum_cleared_and_episode_counted(before: &MetaState, after: &MetaState) {
    assert!(after.adam.m.iter().all(|m| m.to_bits() == 0));
    assert_eq!(
        after.adam.v.map(f64::to_bits),
        before.adam.v.map(f64::to_bits)
    );
    assert_eq!(after.adam.t, before.adam.t);
    assert_eq!(after.next_episode, before.next_episode + 1);
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
    assert_momentum_cleared_and_episode_counted(&before, &after);
}

#[test]
fn shrink_scales_every_coefficient_and_clears_momentum() {
    let mut trainer = diverging_trainer(OnDivergence::Shrink { factor: 0.5 });
    let before = trainer.state();
    let stats = trainer.step::<f32>(&toy_pool()).unwrap();
    assert!(stats.is_diverged());
    let after = trainer.state();
    // θ₀ (the learning rate) shrinks with the rest: the rule keeps its shape.
    for r in [0, 2, 9] {
        assert_eq!(after.theta[r].to_bits(), (before.theta[r] * 0.5).to_bits());
    }
    assert!(
        after
            .theta
            .iter()
            .enumerate()
            .all(|(r, t)| [0, 2, 9].contains(&r) || *t == 0.0)
    );
    assert_momentum_cleared_and_episode_counted(&before, &after);
}

#[test]
fn retreat_steps_by_the_scheduled_rate() {
    // The next update is t = 5 (the diverging trainer has taken 4): lr · 1/5 under 1/t from 1.
    let mut trainer =
        diverging_trainer_with(OnDivergence::Retreat, LrSchedule::Inverse { warm: 1 });
    trainer.step::<f32>(&toy_pool()).unwrap();
    let after = trainer.state();
    assert_close(after.theta[2], 2.5e-3 - 2e-4, tol::EXACT);
    assert_close(after.theta[9], -4e-4 + 2e-4, tol::EXACT);
}

#[test]
fn a_decayed_rate_scales_the_adam_step() {
    let pool = toy_pool();
    let config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    let mut constant = MetaTrainer::new(config.clone()).unwrap();
    let mut decayed_config = config.clone();
    // Full rate for one update, then lr · 1/√t: the second update runs at lr / √2.
    decayed_config.optimizer.lr_schedule = LrSchedule::InverseSqrt { warm: 1 };
    let mut decayed = MetaTrainer::new(decayed_config).unwrap();
    constant.step::<f32>(&pool).unwrap();
    decayed.step::<f32>(&pool).unwrap();
    let mid = constant.state();
    assert_eq!(
        mid.theta.map(f64::to_bits),
        decayed.state().theta.map(f64::to_bits)
    );
    // Same Θ and episode, so the same gradient and moments: only the rate differs.
    let g_constant = constant.step::<f32>(&pool).unwrap().gradient;
    let g_decayed = decayed.step::<f32>(&pool).unwrap().gradient;
    assert_eq!(g_constant.map(f64::to_bits), g_decayed.map(f64::to_bits));
    for r in [0, 2, 9] {
        let step_constant = constant.state().theta[r] - mid.theta[r];
        let step_decayed = decayed.state().theta[r] - mid.theta[r];
        assert!(step_constant != 0.0);
        assert_close(step_decayed, step_constant / 2f64.sqrt(), tol::F32);
    }
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
fn auto_mode_runs_the_resolved_mode_bit_for_bit() {
    // `Auto` is reverse mode for F^pool and forward mode for F^bio: the same Θ bits, the same
    // fingerprint (so the same checkpoints) as the mode named.
    let pool = toy_pool();
    for (rule, resolved) in [
        (RuleFamily::Pool, GradientMode::Reverse),
        (RuleFamily::Bio, GradientMode::Forward),
    ] {
        let mut auto = toy_config(rule, FeedbackKind::Fixed);
        auto.optimizer.gradient = GradientMode::Auto;
        let mut named = auto.clone();
        named.optimizer.gradient = resolved;
        assert_eq!(auto.gradient_mode(), resolved);
        assert_eq!(auto.fingerprint(), named.fingerprint());
        let run = |config| train::<f32>(config, &pool, |_| ControlFlow::Continue(())).unwrap();
        let (auto_theta, named_theta) = (*run(auto).theta(), *run(named).theta());
        assert_eq!(auto_theta.map(f64::to_bits), named_theta.map(f64::to_bits));
    }
}

#[test]
fn reverse_mode_trains_the_same_theta_to_rounding() {
    // F^pool under FA and BP, 6 episodes: the two exact modes differ only by f32 rounding of
    // the gradient, which Adam's steps of about lr = 1e-3 carry into Θ at the 1e-7 level.
    for feedback in [FeedbackKind::Fixed, FeedbackKind::Backprop] {
        let config = toy_config(RuleFamily::Pool, feedback);
        let mut reverse_config = config.clone();
        reverse_config.optimizer.gradient = GradientMode::Reverse;
        assert_ne!(config.fingerprint(), reverse_config.fingerprint());
        let pool = toy_pool();
        let (mut forward_losses, mut reverse_losses) = (Vec::new(), Vec::new());
        let forward = train::<f32>(config, &pool, |stats| {
            forward_losses.push(stats.query_loss);
            ControlFlow::Continue(())
        })
        .unwrap();
        let reverse = train::<f32>(reverse_config, &pool, |stats| {
            reverse_losses.push(stats.query_loss);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert!(forward.theta()[9].abs() > 1e-4, "θ₉ did not move");
        for (r, (a, b)) in forward.theta().iter().zip(reverse.theta()).enumerate() {
            assert!((a - b).abs() <= 1e-6, "θ{r}: forward {a:e}, reverse {b:e}");
        }
        for (a, b) in forward_losses.iter().zip(&reverse_losses) {
            assert_close(*a, *b, tol::F32);
        }
    }
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
    // `term_scales: None` is not printed either; scales change the fingerprint.
    config.optimizer.clip_norm = None;
    assert_eq!(config.fingerprint(), old);
    config.optimizer.term_scales = Some([1.0; 10]);
    assert_ne!(config.fingerprint(), old);
    assert!(
        format!("{:?}", config.optimizer)
            .ends_with("term_scales: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] }")
    );
}

/// Θ, Adam's moments and step count (as `f64` bits), then per episode the meta-loss and
/// `‖dL/dΘ‖` (as bits), of three toy pool runs: 6 episodes in `f64` (λ = 1.5, no clipping),
/// 6 episodes in `f64` clipped at 0.05 (every episode clips), and one `f32` episode that
/// diverges and retreats.
///
/// Provenance: printed by `golden_runs(None)` with the crate at commit 82ea4a3, before
/// `MetaOptimizerConfig::term_scales` existed (there this file's runs were bit-identical).
const PRE_SCALES_GOLDEN: [(&[u64], &[u64]); 3] = [
    (
        &[
            4572229834897147852,
            13784150340046634820,
            4557282581404445092,
            4566882461771166580,
            13779673654831577022,
            4566391269626539227,
            13771529586686041648,
            4547226229065397394,
            13780545203983164549,
            4557697690117189014,
            13823530010606838818,
            4586334113665528544,
            4592444140124046790,
            13828894435487203797,
            4597154026085077578,
            4594512032383700937,
            13820197658991452156,
            4592993786518381080,
            13818538862737342759,
            13828230295146087143,
            4585413195244103591,
            4579856526639707261,
            4577821375212965684,
            4608196726574446306,
            4578377694032588850,
            4584690010829972107,
            4577353986757386934,
            4578097984080833228,
            4579223026363159806,
            4591491669244672539,
            6,
        ],
        &[
            4611110537783657600,
            4621403469793122768,
            4609797409229063885,
            4622235348005073096,
            4612726290633803445,
            4630045902056794226,
            4610673797124486879,
            4610132413616949799,
            4610239392198321118,
            4618627549567055026,
            4610373270864643312,
            4616678095327464627,
        ],
    ),
    (
        &[
            13778277160752383202,
            13779866631565976879,
            4556679183048227713,
            13779755343130997315,
            13779742203291121057,
            13779660367259049442,
            13779976486874494495,
            4556463249820105523,
            13779956194785517245,
            4556696538128910705,
            13823054319810112481,
            13819709536768435145,
            4596311531989984236,
            13819434923751928530,
            13819713566904773849,
            13819777965719613876,
            13819697693461940218,
            4596357749689759110,
            13819706173457543057,
            4596106705062510166,
            4578935771821510504,
            4577628574922833622,
            4577606591853934659,
            4577411648639722666,
            4577621500087062764,
            4577604851362740140,
            4577622382464703086,
            4577634712204501385,
            4577631126804614890,
            4577543012786067046,
            6,
        ],
        &[
            4611110537783657600,
            4621403469793122768,
            4609801006466683827,
            4622142960507653105,
            4612795292074797285,
            4630340316471293514,
            4610627980101011260,
            4610528060513319151,
            4610242211964258164,
            4617761399974476240,
            4610306497454823665,
            4617211400108666836,
        ],
    ),
    (
        &[
            5055640609639927018,
            0,
            4564560351926583034,
            0,
            0,
            0,
            0,
            0,
            0,
            4566758108544739836,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            4613937818241073152,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            4,
        ],
        &[9221120237041090560, 0],
    ),
];

fn golden_runs(term_scales: Option<[f64; 10]>) -> Vec<(Vec<u64>, Vec<u64>)> {
    let pool = toy_pool();
    let mut out = Vec::new();
    for variant in 0..3 {
        let mut config = toy_config(RuleFamily::Pool, FeedbackKind::Fixed);
        // The golden bits were printed when `MetaConfig::paper` gave the pool λ = 1.5.
        config.optimizer.l1 = 1.5;
        config.optimizer.term_scales = term_scales;
        let mut trainer = if variant == 2 {
            config.optimizer.on_divergence = OnDivergence::Retreat;
            let mut state = MetaTrainer::new(config.clone()).unwrap().state();
            state.theta[0] = 1e30;
            state.theta[2] = 2.5e-3;
            state.theta[5] = -4e-4;
            state.theta[9] = 3e-3;
            state.adam.m[2] = 0.7;
            state.adam.v[2] = 3.0;
            state.adam.t = 4;
            MetaTrainer::from_state(config, state).unwrap()
        } else {
            if variant == 1 {
                config.optimizer.clip_norm = Some(0.05);
            }
            MetaTrainer::new(config).unwrap()
        };
        let mut losses = Vec::new();
        for _ in 0..if variant == 2 { 1 } else { 6 } {
            let stats = if variant == 2 {
                trainer.step::<f32>(&pool).unwrap()
            } else {
                trainer.step::<f64>(&pool).unwrap()
            };
            losses.push(stats.meta_loss.to_bits());
            let norm = stats.gradient.iter().map(|g| g * g).sum::<f64>().sqrt();
            losses.push(norm.to_bits());
        }
        let state = trainer.state();
        let mut bits: Vec<u64> = state
            .theta
            .iter()
            .chain(&state.adam.m)
            .chain(&state.adam.v)
            .map(|v| v.to_bits())
            .collect();
        bits.push(state.adam.t);
        out.push((bits, losses));
    }
    out
}

#[test]
fn without_term_scales_runs_match_the_runs_before_scales_existed() {
    let runs = golden_runs(None);
    for (variant, ((bits, losses), (want_bits, want_losses))) in
        runs.iter().zip(PRE_SCALES_GOLDEN).enumerate()
    {
        assert_eq!(
            bits.last(),
            want_bits.last(),
            "run {variant}: Adam's step count"
        );
        let n = bits.len() - 1;
        let values = bits[..n].iter().chain(losses);
        let wanted = want_bits[..n].iter().chain(want_losses);
        for (idx, (&got, &want)) in values.zip(wanted).enumerate() {
            let (got, want) = (f64::from_bits(got), f64::from_bits(want));
            // Bit-identical on the machine that printed them; EXACT leaves room for another
            // CPU's SIMD rounding, far below any change of the optimiser.
            if !(got.is_nan() && want.is_nan()) {
                assert_close(got, want, tol::EXACT);
            }
            assert_eq!(got.is_nan(), want.is_nan(), "run {variant}, value {idx}");
        }
    }
    // Unit scales are the same optimiser, bit for bit.
    assert_eq!(golden_runs(Some([1.0; 10])), runs);
    // Other scales change the trajectory.
    let mut scales = [1.0; 10];
    scales[5] = 30.0;
    assert_ne!(golden_runs(Some(scales))[0].0, runs[0].0);
}

#[test]
fn term_scales_retreat_and_clip_in_phi() {
    // Retreat: one lr in φ_r = s_r θ_r is lr / s_r in θ_r.
    let mut config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    config.optimizer.on_divergence = OnDivergence::Retreat;
    let mut scales = [1.0; 10];
    scales[2] = 0.5;
    scales[9] = 4.0;
    config.optimizer.term_scales = Some(scales);
    let mut state = MetaTrainer::new(config.clone()).unwrap().state();
    state.theta[0] = 1e30;
    state.theta[2] = 2.5e-3;
    state.theta[9] = 3e-3;
    let mut trainer = MetaTrainer::from_state(config, state).unwrap();
    assert!(trainer.step::<f32>(&toy_pool()).unwrap().is_diverged());
    let theta = *trainer.theta();
    // θ₂: 2.5e-3 − 1e-3/0.5 = 0.5e-3; θ₉: 3e-3 − 1e-3/4 = 2.75e-3.
    assert!((theta[2] - 0.5e-3).abs() < 1e-15, "{}", theta[2]);
    assert!((theta[9] - 2.75e-3).abs() < 1e-15, "{}", theta[9]);

    // Clipping: the bound applies to ‖g / s‖ over the plastic terms, and v = (1 − β₂) g_φ².
    let pool = toy_pool();
    let mut config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    config.optimizer.l1 = 0.0;
    config.optimizer.term_scales = Some(scales);
    let mut free = MetaTrainer::new(config.clone()).unwrap();
    let gradient = free.step::<f32>(&pool).unwrap().gradient;
    let phi_norm = [0, 2, 9]
        .iter()
        .map(|&r| (gradient[r] / scales[r]).powi(2))
        .sum::<f64>()
        .sqrt();
    config.optimizer.clip_norm = Some(phi_norm / 4.0);
    let mut clipped = MetaTrainer::new(config).unwrap();
    clipped.step::<f32>(&pool).unwrap();
    for r in [0, 2, 9] {
        let expected = 0.001 * (gradient[r] / scales[r] / 4.0).powi(2);
        let got = clipped.state().adam.v[r];
        assert!(
            (got - expected).abs() <= 1e-12 * expected,
            "θ{r}: {got} vs {expected}"
        );
    }
}

#[test]
fn meta_loss_penalises_scaled_coefficients() {
    let mut config = toy_config(RuleFamily::Bio, FeedbackKind::Fixed);
    config.optimizer.l1 = 1.5;
    let mut scales = [1.0; 10];
    scales[0] = 2.0;
    scales[2] = 3.0;
    config.optimizer.term_scales = Some(scales);
    let mut theta = config.initial_theta();
    theta[2] = -1e-3;
    let stats =
        run_episode::<f32>(&config, &toy_pool(), &theta, 0, Phase::MetaTrain, false).unwrap();
    // λ (s₀ |θ₀| + s₂ |θ₂|) = 1.5 · (2 · 1e-3 + 3 · 1e-3).
    let penalty = stats.meta_loss - stats.query_loss;
    assert!((penalty - 1.5 * 5e-3).abs() < 1e-12, "{penalty}");
}

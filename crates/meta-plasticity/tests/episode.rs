//! Tests of task sampling.

use linalg::rng::{Stream, for_item};
use meta_plasticity::{EpisodeConfig, Error, ImagePool, Phase, eligible_classes, sample_task};

use crate::pool;

fn config(faithful: bool) -> EpisodeConfig {
    EpisodeConfig {
        n_ways: 3,
        n_train_per_class: 4,
        n_query_per_class: 2,
        faithful,
        held_out_classes: vec![],
    }
}

#[test]
fn default_sampling_draws_distinct_classes_and_disjoint_images() {
    let pool = pool(4, 8, 10, 1);
    let classes: Vec<usize> = (0..8).collect();
    for episode in 0..50 {
        let task = sample_task(
            &pool,
            &classes,
            &config(false),
            &mut for_item(3, Stream::Episode, episode),
        )
        .unwrap();
        let mut chosen = task.classes.clone();
        chosen.sort_unstable();
        chosen.dedup();
        assert_eq!(chosen.len(), 3, "classes repeat: {:?}", task.classes);
        let mut all: Vec<usize> = task.train.iter().chain(&task.query).copied().collect();
        assert_eq!(all.len(), 18);
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            18,
            "an image is both train and query, or repeated"
        );
        for &idx in task.train.iter().chain(&task.query) {
            assert!(task.classes.contains(&pool.label(idx)));
        }
    }
}

#[test]
fn training_stream_is_shuffled_across_classes() {
    let pool = pool(4, 8, 10, 1);
    let classes: Vec<usize> = (0..8).collect();
    let task = sample_task(
        &pool,
        &classes,
        &config(false),
        &mut for_item(3, Stream::Episode, 0),
    )
    .unwrap();
    let labels: Vec<usize> = task.train.iter().map(|&i| pool.label(i)).collect();
    let blocks = labels.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(blocks > 2, "training stream is not interleaved: {labels:?}");
}

#[test]
fn faithful_sampling_uses_the_first_k_then_next_q_images() {
    let pool = pool(4, 8, 10, 1);
    let classes: Vec<usize> = (0..8).collect();
    let mut saw_duplicate = false;
    for episode in 0..200 {
        let task = sample_task(
            &pool,
            &classes,
            &config(true),
            &mut for_item(4, Stream::Episode, episode),
        )
        .unwrap();
        for (slot, &class) in task.classes.iter().enumerate() {
            assert_eq!(
                &task.query[slot * 2..slot * 2 + 2],
                &pool.class_images(class)[4..6]
            );
        }
        let mut train = task.train.clone();
        train.sort_unstable();
        let mut expected: Vec<usize> = task
            .classes
            .iter()
            .flat_map(|&c| pool.class_images(c)[..4].to_vec())
            .collect();
        expected.sort_unstable();
        assert_eq!(train, expected);
        let mut chosen = task.classes.clone();
        chosen.sort_unstable();
        chosen.dedup();
        saw_duplicate |= chosen.len() < 3;
    }
    // P(duplicate) = 1 − 8·7·6/8³ ≈ 0.34 per episode: 200 episodes without one is impossible in practice.
    assert!(saw_duplicate, "faithful sampling never drew a class twice");
}

#[test]
fn held_out_classes_split_the_pool() {
    let pool = pool(4, 8, 10, 1);
    let mut config = config(false);
    config.held_out_classes = vec![1, 5, 6];
    assert_eq!(
        eligible_classes(&pool, &config, Phase::MetaTrain).unwrap(),
        vec![0, 2, 3, 4, 7]
    );
    assert_eq!(
        eligible_classes(&pool, &config, Phase::MetaTest).unwrap(),
        vec![1, 5, 6]
    );
    config.held_out_classes = vec![1, 5];
    assert!(matches!(
        eligible_classes(&pool, &config, Phase::MetaTest),
        Err(Error::Data { .. })
    ));
}

#[test]
fn sampling_is_a_pure_function_of_the_generator() {
    let pool = pool(4, 8, 10, 1);
    let classes: Vec<usize> = (0..8).collect();
    let a = sample_task(
        &pool,
        &classes,
        &config(false),
        &mut for_item(5, Stream::Episode, 7),
    )
    .unwrap();
    let b = sample_task(
        &pool,
        &classes,
        &config(false),
        &mut for_item(5, Stream::Episode, 7),
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn small_classes_and_bad_pools_are_refused() {
    let pool = pool(4, 8, 5, 1);
    let classes: Vec<usize> = (0..8).collect();
    assert!(matches!(
        eligible_classes(&pool, &config(false), Phase::MetaTrain),
        Err(Error::Data { .. })
    ));
    assert!(
        sample_task(
            &pool,
            &classes,
            &config(false),
            &mut for_item(0, Stream::Episode, 0)
        )
        .is_err()
    );
    assert!(ImagePool::new(2, vec![0.0, f32::NAN], vec![0]).is_err());
    assert!(ImagePool::new(0, vec![], vec![]).is_err());
}

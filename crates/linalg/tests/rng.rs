//! RNG streams are pure functions of (seed, purpose, item) and independent of thread count.

use linalg::rng::{Stream, for_item, stream};
use rand::RngCore;
use rayon::prelude::*;

#[test]
fn per_item_generators_give_the_same_numbers_at_any_thread_count() {
    let draw = |idx: u64| for_item(42, Stream::Episode, idx).next_u64();
    let sequential: Vec<u64> = (0..64).map(draw).collect();
    for threads in [1, 4] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let parallel: Vec<u64> = pool.install(|| (0..64).into_par_iter().map(draw).collect());
        assert_eq!(parallel, sequential, "{threads} threads");
    }
}

#[test]
fn a_purpose_stream_is_unaffected_by_draws_from_another() {
    let mut init = stream(9, Stream::Init);
    let mut shuffle = stream(9, Stream::Shuffle);
    let first = shuffle.next_u64();
    for _ in 0..1000 {
        init.next_u64();
    }
    assert_eq!(first, stream(9, Stream::Shuffle).next_u64());
}

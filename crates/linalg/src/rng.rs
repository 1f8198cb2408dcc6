//! Seeded random-number streams: one master seed per run, one ChaCha8 stream per purpose.
//!
//! Every randomised function in the workspace takes `rng: &mut Rng`, and nothing draws ambient
//! randomness. A run derives each purpose's generator from its master seed with [`stream`], so
//! adding a draw for one purpose (say, shuffling) never shifts the numbers of another (say,
//! initialisation). Per-item generators ([`for_item`]) are pure functions of
//! `(seed, purpose, index)`, which makes parallel loops over items reproducible at any thread
//! count.
//!
//! ChaCha8 is named explicitly because rand documents `StdRng` as non-portable across versions.

use rand::{SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

/// The workspace's one random-number generator type.
pub type Rng = ChaCha8Rng;

/// What a random stream is used for; each purpose gets its own ChaCha stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Weight initialisation.
    Init,
    /// Fixed random feedback matrices (drawn independently of the weights).
    Feedback,
    /// Order in which training samples are visited.
    Shuffle,
    /// Choice of evaluation subsets.
    Evaluation,
    /// Episode and task sampling (meta-learning).
    Episode,
    /// Reparameterisation and other model noise.
    Noise,
    /// Dropout masks.
    Dropout,
    /// Bootstrap weights and resampling.
    Bootstrap,
    /// Sampling from a trained generative model.
    Sample,
}

impl Stream {
    /// The ChaCha stream number of this purpose. Stable: never renumber an existing purpose.
    pub const fn id(self) -> u64 {
        match self {
            Stream::Init => 1,
            Stream::Feedback => 2,
            Stream::Shuffle => 3,
            Stream::Evaluation => 4,
            Stream::Episode => 5,
            Stream::Noise => 6,
            Stream::Dropout => 7,
            Stream::Bootstrap => 8,
            Stream::Sample => 9,
        }
    }
}

/// The generator for one purpose of a run with master seed `seed`.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// use rand::RngCore;
/// let a = stream(7, Stream::Init).next_u64();
/// assert_eq!(a, stream(7, Stream::Init).next_u64());
/// assert_ne!(a, stream(7, Stream::Shuffle).next_u64());
/// ```
pub fn stream(seed: u64, purpose: Stream) -> Rng {
    let mut rng = Rng::from_seed(key(seed, 0, 0));
    rng.set_stream(purpose.id());
    rng
}

/// The generator for item `item_idx` (a seed replica, an episode, a molecule) of one purpose.
///
/// A pure function of its arguments and distinct from [`stream`] for every index, so items can be
/// processed in any order or in parallel with identical results.
///
/// # Example
/// ```
/// use linalg::rng::{for_item, Stream};
/// use rand::RngCore;
/// assert_ne!(for_item(1, Stream::Episode, 0).next_u64(), for_item(1, Stream::Episode, 1).next_u64());
/// ```
pub fn for_item(seed: u64, purpose: Stream, item_idx: u64) -> Rng {
    let mut rng = Rng::from_seed(key(seed, item_idx, 1));
    rng.set_stream(purpose.id());
    rng
}

/// Shuffles `items` in place (Fisher–Yates, rand's `SliceRandom::shuffle`).
///
/// # Example
/// ```
/// use linalg::rng::{shuffle, stream, Stream};
/// let mut a: Vec<u32> = (0..10).collect();
/// shuffle(&mut a, &mut stream(1, Stream::Shuffle));
/// a.sort();
/// assert_eq!(a, (0..10).collect::<Vec<_>>());
/// ```
pub fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    items.shuffle(rng);
}

/// A random permutation of `0..n`.
///
/// # Example
/// ```
/// use linalg::rng::{permutation, stream, Stream};
/// let p = permutation(5, &mut stream(2, Stream::Shuffle));
/// assert_eq!(p.len(), 5);
/// assert_eq!(p, permutation(5, &mut stream(2, Stream::Shuffle)));
/// ```
pub fn permutation(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    order
}

/// The 256-bit ChaCha key `seed ‖ item ‖ tag ‖ 0`, little-endian.
fn key(seed: u64, item_idx: u64, tag: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&item_idx.to_le_bytes());
    key[16..24].copy_from_slice(&tag.to_le_bytes());
    key
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;

    #[test]
    fn streams_of_one_seed_are_distinct_and_items_do_not_collide_with_streams() {
        let base = stream(3, Stream::Init).next_u64();
        assert_ne!(base, stream(3, Stream::Feedback).next_u64());
        assert_ne!(base, stream(4, Stream::Init).next_u64());
        assert_ne!(base, for_item(3, Stream::Init, 0).next_u64());
    }
}

//! Shared helpers of the criterion suite: seeded input builders and one group configuration.
//!
//! Every input is built from a fixed seed, outside the timed closure, so two runs of a bench
//! measure the same work. Each library crate has one bench file under `benches/benches/`.

use std::time::Duration;

use criterion::{BenchmarkGroup, measurement::WallTime};
use linalg::{
    Matrix, Vector,
    init::xavier_uniform,
    rng::{Stream, stream},
};

/// The layer shapes (n_out, n_in) of paper B's 784-170-130-100-70-47 network.
pub const PAPER_LAYERS: [(usize, usize); 5] =
    [(170, 784), (130, 170), (100, 130), (70, 100), (47, 70)];

/// A seeded Xavier-uniform `rows × cols` matrix.
pub fn seeded_matrix(rows: usize, cols: usize, seed: u64) -> Matrix<f32> {
    xavier_uniform(rows, cols, 1.0, &mut stream(seed, Stream::Init))
}

/// A seeded vector with entries in (−1, 1).
pub fn seeded_vector(len: usize, seed: u64) -> Vector<f32> {
    let m: Matrix<f32> = xavier_uniform(
        len,
        1,
        ((1 + len) as f64 / 6.0).sqrt(),
        &mut stream(seed, Stream::Noise),
    );
    Vector::from_iterator(len, m.iter().copied())
}

/// The suite's shared group settings: enough samples for stable microsecond timings without
/// making `cargo bench` take long on two cores.
pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(50);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
}

//! Bootstrap intervals: coverage of the true mean over repeated samples.

use linalg::{
    rng::{Stream, for_item, stream},
    stats::{bootstrap_ci, mean, quantile_sorted},
};
use rand::Rng as _;

#[test]
fn quantiles_interpolate_linearly() {
    let sorted = [1.0, 2.0, 4.0, 8.0];
    assert_eq!(quantile_sorted(&sorted, 0.0).to_bits(), 1.0f64.to_bits());
    assert_eq!(quantile_sorted(&sorted, 1.0).to_bits(), 8.0f64.to_bits());
    assert_eq!(quantile_sorted(&sorted, 0.5).to_bits(), 3.0f64.to_bits());
    assert!(mean(&[]).is_none());
}

#[test]
fn bootstrap_95_interval_covers_the_mean_about_95_percent_of_the_time() {
    // 200 independent samples of 30 uniform draws (true mean 0.5). The percentile bootstrap
    // under-covers slightly at n = 30; the binomial standard error of the coverage is ~1.5 points,
    // so 0.95 ± 4 SE, shifted down by the known small-sample bias (~1 point), gives [0.88, 0.99].
    let trials = 200;
    let mut covered = 0;
    for trial in 0..trials {
        let mut rng = for_item(3, Stream::Noise, trial);
        let values: Vec<f64> = (0..30).map(|_| rng.random::<f64>()).collect();
        let (lo, hi) =
            bootstrap_ci(&values, 0.95, 500, &mut stream(trial, Stream::Bootstrap)).unwrap();
        if lo <= 0.5 && 0.5 <= hi {
            covered += 1;
        }
    }
    let coverage = covered as f64 / trials as f64;
    assert!((0.88..=0.99).contains(&coverage), "coverage {coverage}");
}

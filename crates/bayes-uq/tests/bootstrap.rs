//! Tests of `bayes_uq::bootstrap`.

use linalg::rng::{Stream, stream};

use bayes_uq::{
    Error,
    bootstrap::{bootstrap_replicas, dirichlet_weights, replica_weights},
};

use crate::standard_normal;

#[test]
fn dirichlet_weights_are_positive_and_sum_to_one() {
    let mut rng = stream(11, Stream::Bootstrap);
    for n_items in [1, 2, 7, 200, 5000] {
        let weights = dirichlet_weights(n_items, &mut rng).unwrap();
        assert_eq!(weights.len(), n_items);
        assert!(weights.iter().all(|&w| w > 0.0), "n = {n_items}");
        let total: f64 = weights.iter().sum();
        // Normalising n values and re-summing them errs by at most ~n ulp.
        assert!(
            (total - 1.0).abs() <= n_items as f64 * f64::EPSILON,
            "n = {n_items}: {total}"
        );
    }
}

#[test]
fn dirichlet_marginal_moments_match_closed_form() {
    // Marginal of Dir(1_n): Beta(1, n − 1), E[w] = 1/n, E[w²] = 2/(n(n+1)).
    let n_items = 5;
    let n_draws = 20_000;
    let draws: Vec<Vec<f64>> = (0..n_draws)
        .map(|r| replica_weights(n_items, 3, r).unwrap())
        .collect();
    let n = n_items as f64;
    let variance = (n - 1.0) / (n * n * (n + 1.0));
    for item in 0..n_items {
        let values: Vec<f64> = draws.iter().map(|w| w[item]).collect();
        let mean = values.iter().sum::<f64>() / n_draws as f64;
        check_within_4_se(mean, 1.0 / n, variance.sqrt(), n_draws, "E[w]");
        let squares: Vec<f64> = values.iter().map(|w| w * w).collect();
        let mean_sq = squares.iter().sum::<f64>() / n_draws as f64;
        let sd_sq = sample_sd(&squares);
        check_within_4_se(mean_sq, 2.0 / (n * (n + 1.0)), sd_sq, n_draws, "E[w²]");
        let sample_variance = mean_sq - mean * mean;
        // Var[w] from the two checked moments; loose 10 % bound as a readable summary.
        assert!(
            (sample_variance / variance - 1.0).abs() < 0.1,
            "{sample_variance} vs {variance}"
        );
    }
}

#[test]
fn bayesian_bootstrap_of_the_mean_has_sd_s_over_sqrt_n() {
    let n_items = 50;
    let mut rng = stream(5, Stream::Noise);
    let data: Vec<f64> = (0..n_items)
        .map(|_| 2.0 + 3.0 * standard_normal(&mut rng))
        .collect();
    let n_replicas = 4000;
    let means: Vec<f64> = bootstrap_replicas(n_items, n_replicas, 17, |_, w| {
        Ok::<_, Error>(w.iter().zip(&data).map(|(wi, xi)| wi * xi).sum())
    })
    .unwrap();
    let n = n_items as f64;
    let data_mean = data.iter().sum::<f64>() / n;
    let ss: f64 = data.iter().map(|x| (x - data_mean) * (x - data_mean)).sum();
    // Exact: Var[Σ wᵢ xᵢ] = Σ(xᵢ − x̄)² / (n (n + 1)) for w ~ Dir(1_n)  [Rubin 1981].
    let exact_sd = (ss / (n * (n + 1.0))).sqrt();
    let posterior_mean = means.iter().sum::<f64>() / n_replicas as f64;
    check_within_4_se(
        posterior_mean,
        data_mean,
        exact_sd,
        n_replicas,
        "posterior mean",
    );
    let posterior_sd = sample_sd(&means);
    // The sd of a near-normal sample has standard error sd / √(2(R − 1)).
    let se_of_sd = exact_sd / (2.0 * (n_replicas as f64 - 1.0)).sqrt();
    assert!(
        (posterior_sd - exact_sd).abs() <= 4.0 * se_of_sd,
        "posterior sd {posterior_sd} vs exact {exact_sd}"
    );
    // And the frequentist s/√n, which differs from the exact value by √((n+1)/(n−1)) ≈ 1.02.
    let s_over_sqrt_n = (ss / (n - 1.0)).sqrt() / n.sqrt();
    assert!(
        (posterior_sd / s_over_sqrt_n - 1.0).abs() < 0.05,
        "{posterior_sd} vs {s_over_sqrt_n}"
    );
}

#[test]
fn replicas_are_identical_at_one_and_four_threads() {
    let data: Vec<f64> = (0..300).map(|i| (i as f64 * 0.7).sin() * 10.0).collect();
    let run = |n_threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n_threads)
            .build()
            .unwrap();
        pool.install(|| {
            bootstrap_replicas(data.len(), 33, 99, |replica_idx, w| {
                let mean: f64 = w.iter().zip(&data).map(|(wi, xi)| wi * xi).sum();
                let second: f64 = w.iter().zip(&data).map(|(wi, xi)| wi * xi * xi).sum();
                Ok::<_, Error>((replica_idx, mean, second - mean * mean))
            })
            .unwrap()
        })
    };
    let one = run(1);
    let four = run(4);
    assert_eq!(one.len(), 33);
    for (a, b) in one.iter().zip(&four) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.1.to_bits(), b.1.to_bits());
        assert_eq!(a.2.to_bits(), b.2.to_bits());
    }
    // Replicas differ from each other.
    assert_ne!(one[0].1.to_bits(), one[1].1.to_bits());
}

#[test]
fn at_most_one_replica_per_thread_is_in_flight_even_with_nested_parallelism() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rayon::prelude::*;

    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let sums = pool.install(|| {
        bootstrap_replicas(50, 12, 3, |replica_idx, w| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Rounds of parallel work inside a replica (like Adam over parameter chunks at every
            // step): their joins are where an idle thread would steal a queued replica.
            let mut sum = 0.0;
            for round in 0..40 {
                sum += (0..64)
                    .into_par_iter()
                    .map(|i| {
                        (0..400)
                            .map(|k| ((i * k + round) as f64).sin())
                            .sum::<f64>()
                            * w[i % 50]
                    })
                    .sum::<f64>();
            }
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, Error>((replica_idx, sum))
        })
        .unwrap()
    });
    assert_eq!(sums.len(), 12);
    assert!(sums.iter().enumerate().all(|(i, (idx, _))| i == *idx));
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 2, "{most} replicas were in flight on 2 threads");
}

#[test]
fn the_lowest_failing_replica_reports_its_error() {
    let result: Result<Vec<()>, Error> = bootstrap_replicas(4, 10, 0, |replica_idx, _| {
        if replica_idx >= 3 {
            Err(Error::NotConverged {
                what: "test replica",
                iterations: replica_idx,
            })
        } else {
            Ok(())
        }
    });
    assert_eq!(
        result.unwrap_err(),
        Error::NotConverged {
            what: "test replica",
            iterations: 3
        }
    );
}

#[test]
fn empty_inputs_are_errors() {
    let train = |_: usize, _: &[f64]| Ok::<_, Error>(0.0);
    assert!(matches!(
        bootstrap_replicas(0, 3, 0, train),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        bootstrap_replicas(3, 0, 0, train),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        dirichlet_weights(0, &mut stream(0, Stream::Bootstrap)),
        Err(Error::Empty { .. })
    ));
}

#[track_caller]
fn check_within_4_se(estimate: f64, expected: f64, sd: f64, n: usize, what: &str) {
    let se = sd / (n as f64).sqrt();
    assert!(
        (estimate - expected).abs() <= 4.0 * se,
        "{what}: {estimate} vs {expected} (4 SE = {})",
        4.0 * se
    );
}

fn sample_sd(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt()
}

//! Bayesian bootstrap: Dirichlet(1, …, 1) weights over training items and a driver that trains
//! one model per weight draw, in parallel, with results independent of the thread count.

use rand::{Rng as _, distr::Open01};
use rayon::prelude::*;

use linalg::rng::{self, Rng, Stream};

use crate::{Error, Result};

/// Draws one weight vector `w ~ Dirichlet(1, …, 1)` over `n_items` items; the weights sum to 1.
///
/// ```text
/// eᵢ ~ Exp(1)  (eᵢ = −ln uᵢ, uᵢ ~ U(0, 1))          [Rubin 1981]
/// wᵢ = eᵢ / Σⱼ eⱼ   ⇒   w ~ Dir(1_N),  Σᵢ wᵢ = 1     [C §4]
/// E[wᵢ] = 1/N,   Var[wᵢ] = (N − 1) / (N² (N + 1))
/// ```
///
/// The weights sum to 1, as `torch.distributions.Dirichlet(ones(N))` draws them in the paper's
/// code, and the weighted objective is `N · Σᵢ wᵢ ℓᵢ` (per mini-batch, `N/(B·L) · Σ_rows wᵢ ℓᵢ`),
/// so uniform weights `wᵢ = 1/N` give back the plain mean loss [C §3.2]. Callers who want weights
/// that sum to `N` multiply by `N`.
///
/// Every weight is strictly positive (`uᵢ` is drawn from the open interval). The sum of the
/// exponentials is taken in index order.
///
/// # Errors
/// [`Error::Empty`] if `n_items` is 0.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// let w = bayes_uq::bootstrap::dirichlet_weights(5, &mut stream(1, Stream::Bootstrap)).unwrap();
/// assert!(w.iter().all(|&wi| wi > 0.0));
/// assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn dirichlet_weights(n_items: usize, rng: &mut Rng) -> Result<Vec<f64>> {
    if n_items == 0 {
        return Err(Error::Empty {
            what: "bootstrap item set",
        });
    }
    // Deviation: the paper's code draws `torch.distributions.Dirichlet(ones(N))` after seeding
    // torch; we draw normalised Exp(1) variables from a ChaCha8 stream. Same distribution,
    // different numbers, so individual replicas cannot match the code's bit for bit.
    let mut weights: Vec<f64> = (0..n_items)
        .map(|_| {
            let u: f64 = rng.sample(Open01);
            -u.ln()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    for weight in &mut weights {
        *weight /= total;
    }
    Ok(weights)
}

/// The Dirichlet weights of replica `replica_idx` of a run with master seed `seed`: a pure
/// function of its arguments, drawn from `rng::for_item(seed, Stream::Bootstrap, replica_idx)`.
///
/// # Errors
/// [`Error::Empty`] if `n_items` is 0.
///
/// # Example
/// ```
/// use bayes_uq::bootstrap::replica_weights;
/// let a = replica_weights(4, 7, 0).unwrap();
/// assert_eq!(a, replica_weights(4, 7, 0).unwrap());
/// assert_ne!(a, replica_weights(4, 7, 1).unwrap());
/// ```
pub fn replica_weights(n_items: usize, seed: u64, replica_idx: usize) -> Result<Vec<f64>> {
    let mut rng = rng::for_item(seed, Stream::Bootstrap, replica_idx as u64);
    dirichlet_weights(n_items, &mut rng)
}

/// Trains `n_replicas` models, replica `r` on the Bayesian-bootstrap weights
/// [`replica_weights`]`(n_items, seed, r)`, in parallel over replicas with rayon.
///
/// ```text
/// w⁽ʳ⁾ ~ Dir(1_N),   θ⁽ʳ⁾ = argmax_θ Σᵢ wᵢ⁽ʳ⁾ ELBOᵢ(θ)   ("MWLE")    [C §4]
/// ```
///
/// `train(replica_idx, &weights)` fits one model; the weights sum to 1 (see
/// [`dirichlet_weights`]). The paper starts every replica from the same initial parameters
/// [C §9]; that is the caller's choice, made inside `train`. Results come back in replica order.
/// Because each replica's weights are a pure function of `(seed, replica_idx)` and the results are
/// collected in order, the output is identical at any thread count, provided `train` itself is
/// deterministic. Run it inside a `rayon::ThreadPool::install` to bound the threads.
///
/// The error type `E` is the caller's, so `train` can fail with its own crate's error; it must
/// convert from this crate's [`Error`].
///
/// # Errors
/// [`Error::Empty`] (converted to `E`) if `n_items` or `n_replicas` is 0; otherwise the error of
/// the lowest-indexed replica whose `train` failed.
///
/// # Example
/// ```
/// use bayes_uq::{Error, bootstrap::bootstrap_replicas};
/// // Posterior draws of the mean of a sample: each replica is a weighted mean.
/// let data = [1.0, 2.0, 3.0, 4.0];
/// let means: Vec<f64> = bootstrap_replicas(data.len(), 8, 42, |_, w| {
///     Ok::<_, Error>(w.iter().zip(&data).map(|(wi, xi)| wi * xi).sum())
/// })
/// .unwrap();
/// assert_eq!(means.len(), 8);
/// assert!(means.iter().all(|&m| (1.0..=4.0).contains(&m)));
/// ```
pub fn bootstrap_replicas<M, E, F>(
    n_items: usize,
    n_replicas: usize,
    seed: u64,
    train: F,
) -> Result<Vec<M>, E>
where
    M: Send,
    E: From<Error> + Send,
    F: Fn(usize, &[f64]) -> Result<M, E> + Sync,
{
    if n_items == 0 {
        return Err(Error::Empty {
            what: "bootstrap item set",
        }
        .into());
    }
    if n_replicas == 0 {
        return Err(Error::Empty {
            what: "bootstrap replica set",
        }
        .into());
    }
    let all: Vec<usize> = (0..n_replicas).collect();
    bootstrap_replicas_at(n_items, &all, seed, train)
}

/// [`bootstrap_replicas`] for the replicas `replicas` only (indices into the full set, results
/// in that order): replica `r` gets the same weights and result as in a run of all of them, so
/// the replicas of one set can be trained by several processes and put back together.
///
/// # Errors
/// [`Error::Empty`] (converted to `E`) if `n_items` is 0; otherwise the error of the first
/// replica in `replicas` whose `train` failed. An empty `replicas` gives an empty result.
///
/// # Example
/// ```
/// use bayes_uq::{Error, bootstrap::{bootstrap_replicas, bootstrap_replicas_at}};
/// let data = [1.0, 2.0, 3.0, 4.0];
/// let mean = |_: usize, w: &[f64]| Ok::<f64, Error>(w.iter().zip(&data).map(|(a, b)| a * b).sum());
/// let all = bootstrap_replicas(data.len(), 6, 42, mean).unwrap();
/// let some = bootstrap_replicas_at(data.len(), &[4, 1], 42, mean).unwrap();
/// assert_eq!(some, vec![all[4], all[1]]);
/// ```
pub fn bootstrap_replicas_at<M, E, F>(
    n_items: usize,
    replicas: &[usize],
    seed: u64,
    train: F,
) -> Result<Vec<M>, E>
where
    M: Send,
    E: From<Error> + Send,
    F: Fn(usize, &[f64]) -> Result<M, E> + Sync,
{
    if n_items == 0 {
        return Err(Error::Empty {
            what: "bootstrap item set",
        }
        .into());
    }
    // Replicas run in waves of one per thread. A replica's own parallel work (e.g. an optimiser
    // over chunks) waits in rayon joins, and a waiting thread steals queued tasks: with every
    // replica queued at once it would start further replicas, each holding its whole training
    // state and all of them advancing slowly. Waves keep at most one replica per thread alive.
    let wave = rayon::current_num_threads().max(1);
    let mut results: Vec<Result<M, E>> = Vec::with_capacity(replicas.len());
    for chunk in replicas.chunks(wave) {
        let batch: Vec<Result<M, E>> = chunk
            .par_iter()
            .map(|&replica_idx| {
                let weights = replica_weights(n_items, seed, replica_idx)?;
                train(replica_idx, &weights)
            })
            .collect();
        results.extend(batch);
    }
    results.into_iter().collect()
}

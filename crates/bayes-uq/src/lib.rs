//! Bayesian uncertainty quantification for neuromol (paper C, [C §4]).
//!
//! This crate sees a model only as "train with weights, then sample or predict": it knows
//! nothing of molecules or VAEs. It owns
//! - the **Bayesian bootstrap** [Rubin 1981]: Dirichlet(1, …, 1) weights over the training items
//!   and the driver [`bootstrap_replicas`], which trains one model per weight draw in parallel
//!   (the weighted-likelihood bootstrap of the paper's code, "MWLE", [C §4]);
//! - **per-bin quantile bands** over the replicas' histograms ([`QuantileBand`], 1 %–99 % by
//!   default) and their coverage of a reference histogram;
//! - the exact **1-Wasserstein distance** between one-dimensional samples ([`wasserstein_1`]);
//! - **Bayesian linear regression** with evidence-maximised precisions
//!   ([`BayesianLinearRegression`], [Bishop 2006 §3.3–3.5]) and a bootstrap **ensemble of ridge
//!   regressions** ([`RidgeEnsemble`]), both returning Gaussian [`Prediction`]s with intervals.
//!
//! Layer: depends on `linalg` only (`rand`, `serde` and `rayon` outside the workspace).
//!
//! The central design decision is reproducibility under parallelism: replica `r`'s weights come
//! from `linalg::rng::for_item(seed, Stream::Bootstrap, r)`, a pure function of `(seed, r)`, and
//! results are collected in replica order, so a bootstrap run gives the same bits on 1 or 16
//! threads. Numerics are in `f64`.
//!
//! ```
//! use bayes_uq::{Error, bootstrap_replicas, band::BandConfig, histogram::{BinEdges, Histogram}, QuantileBand};
//! // Bootstrap replicas of a "model" that resamples its data by weight, then a band over them.
//! let data: Vec<f64> = (0..200).map(|i| (i as f64 * 0.37).sin()).collect();
//! let edges = BinEdges::uniform(-1.0, 1.0, 5).unwrap();
//! let histograms = bootstrap_replicas(data.len(), 10, 3, |_, w| {
//!     // A weighted histogram, reported as counts scaled to 10,000 draws.
//!     let mut counts = vec![0usize; 5];
//!     for (x, wi) in data.iter().zip(w) {
//!         counts[edges.bin_of(*x).unwrap()] += (wi * 10_000.0).round() as usize;
//!     }
//!     Ok::<_, Error>(Histogram { edges: edges.clone(), counts, n_below: 0, n_above: 0 })
//! })
//! .unwrap();
//! let band = QuantileBand::from_histograms(&histograms, BandConfig::default()).unwrap();
//! let reference = Histogram::new(&data, &edges).unwrap();
//! assert!(band.coverage(&reference).unwrap().fraction_inside > 0.5);
//! ```

mod design;
mod error;

pub mod band;
pub mod bootstrap;
pub mod ensemble;
pub mod histogram;
pub mod linear;
pub mod normal;
pub mod predictive;
pub mod wasserstein;

pub use crate::{
    band::QuantileBand,
    bootstrap::{bootstrap_replicas, bootstrap_replicas_at},
    ensemble::RidgeEnsemble,
    error::{Error, Result},
    linear::BayesianLinearRegression,
    predictive::Prediction,
    wasserstein::wasserstein_1,
};

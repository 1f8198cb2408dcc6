//! Graph-scattering variational autoencoder with a one-shot decoder (paper C, GSVAE,
//! Shervani-Tabar & Zabaras, arXiv:2009.13878; digest `molecular.md` §3).
//!
//! Layer: depends on `graph-scattering`, `molgraph`, `bayes-uq` and `linalg` (`rand`, `serde`,
//! `rayon` outside the workspace). It owns the network ([`MolVae`]) with hand-written backward
//! passes, the objective ([`loss_and_gradient`]: Monte-Carlo ELBO with per-molecule weights and
//! the R1–R4 penalties of [`constraints`]), Adam ([`Adam`]), the training loop ([`train`],
//! resumable from a serde [`Checkpoint`]), and generation with its metrics ([`generate`],
//! [`metrics`]).
//!
//! Entry points, in the order a reproduction uses them:
//! 1. [`MolVae::new`] with [`ModelConfig::default`] (the paper's sizes) and an `Init` stream;
//! 2. [`Dataset::new`] over scattering features (one column per molecule; the cache of
//!    `reproduce scattering`, or [`features::scattering_features`]) and the target
//!    [`molgraph::DenseGraph`]s, optionally [`Dataset::with_weights`] (Bayesian bootstrap);
//! 3. [`train`] (or [`train_checkpoint`] to resume) with [`TrainConfig::default`];
//! 4. [`generate::sample_graphs`] for 10,000 prior samples, then
//!    [`metrics::GenerationMetrics::compute`] against a [`metrics::NoveltyReference`] of the
//!    training molecules, and [`metrics::PropertySamples`] for histograms and W1 distances;
//! 5. [`MolVae::encode`] (evaluation mode, `μ` as the latent code) for latent maps and
//!    property regression.
//!
//! The conditional design (CVAE, digest §3.4) is the same network with
//! [`ModelConfig::n_conditions`] `= 3`: standardised (TPSA, MolWt, LogP)
//! ([`conditions::StandardScaler`]) enter the encoder as constant node channels
//! ([`features::conditional_scattering_features`], 15,080 features) and both decoder heads as
//! `[z ‖ c]` ([`MolVae::decode_conditional`]); it trains with [`Dataset::with_conditions`]
//! ([`loss_and_gradient_conditional`] per batch) and samples with
//! [`conditions::ConditionGaussian::sample_given`] (a target for one property, the others from
//! their Gaussian conditional) and [`generate::sample_conditional_graphs`]. R1–R4 penalties on
//! a conditional model are rejected, as in the code. `n_conditions = 0` (the default) is the
//! unconditional model, bit for bit.
//!
//! The central design decision: the network is written out layer by layer over minibatch
//! matrices (one sample per column) with `linalg`'s GEMMs, and every backward pass is
//! hand-written and checked against central finite differences in `f64` (the model is generic
//! over [`linalg::Float`]; training runs in `f32`). The encoder runs once per molecule, not
//! once per Monte-Carlo copy: BatchNorm statistics of `L` identical copies equal those of one,
//! so this is exact and saves a factor `L` on the 9,425 × 400 layer that dominates the cost.
//!
//! ```
//! use linalg::{Matrix, rng::{stream, Stream}};
//! use mol_vae::{Dataset, ModelConfig, MolVae, TrainConfig, train};
//!
//! let config = ModelConfig::small(6);
//! let mut model = MolVae::<f64>::new(config, &mut stream(0, Stream::Init))?;
//! let targets: Vec<_> = ["CO", "CCO", "C=O", "CC"]
//!     .iter()
//!     .map(|s| molgraph::parse_smiles(s).unwrap().to_dense())
//!     .collect();
//! let features = Matrix::from_fn(6, 4, |i, j| ((i * 7 + j * 3) % 5) as f64);
//! let data = Dataset::new(&features, &targets)?;
//! let train_config = TrainConfig { epochs: 3, batches_per_epoch: 2, ..TrainConfig::default() };
//! let mut losses = Vec::new();
//! train(&mut model, &data, &train_config, |stats| losses.push(stats.loss), &mut stream(0, Stream::Noise))?;
//! assert_eq!(losses.len(), 3);
//! # Ok::<(), mol_vae::Error>(())
//! ```

mod error;

mod adam;
mod batch_norm;
pub mod conditions;
mod config;
pub mod constraints;
mod decoder;
mod elbo;
mod encoder;
pub mod features;
pub mod generate;
mod linear;
pub mod metrics;
mod model;
mod train;

pub use crate::{
    adam::{Adam, AdamConfig},
    batch_norm::{Affine, Mode, RunningStats},
    config::{ModelConfig, N_ATOM_CLASSES, N_BOND_CLASSES},
    elbo::{
        Batch, LossTerms, ObjectiveConfig, StepNoise, loss_and_gradient,
        loss_and_gradient_conditional,
    },
    error::{Error, Result},
    linear::Linear,
    model::{Decoded, Encoding, MolVae, Parameters},
    train::{
        Checkpoint, Dataset, EpochStats, RngState, TrainConfig, train, train_checkpoint, train_step,
    },
};

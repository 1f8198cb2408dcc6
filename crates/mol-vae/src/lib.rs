//! Graph-scattering variational autoencoder with a one-shot decoder (paper C).
//!
//! Not built yet (issue 6). This crate will own the encoder and decoder with hand-written backward
//! passes, the ELBO, soft valence constraints, generation metrics and conditional design.
//! Layer: depends on `graph-scattering`, `molgraph`, `bayes-uq`, `linalg`.

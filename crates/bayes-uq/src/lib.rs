//! Bayesian uncertainty quantification (paper C).
//!
//! Not built yet (issue 6). This crate will own the Bayesian bootstrap (Dirichlet weights over
//! training items), quantile bands over replicas, and Bayesian linear regression heads. It sees a
//! model only as "train with weights, then sample or predict". Layer: depends on `linalg`.

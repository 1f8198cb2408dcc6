//! Errors of the `mol-vae` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in a `mol-vae` routine.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A configuration value is outside its allowed range.
    InvalidConfig {
        /// The field.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Two inputs do not have compatible shapes.
    ShapeMismatch {
        /// The operation that was attempted.
        op: &'static str,
        /// The shape the operation needed.
        expected: (usize, usize),
        /// The shape it got.
        got: (usize, usize),
    },
    /// A training target is not a graph the model can represent.
    InvalidTarget {
        /// Index of the molecule in the data set.
        item: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Per-item weights are not usable (negative, non-finite or all zero).
    InvalidWeights {
        /// Index of the first bad weight, or the number of weights when their sum is the problem.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The loss (or a gradient) became NaN or infinite during training.
    NonFinite {
        /// What held the value.
        what: &'static str,
        /// Epoch (0-based) at which it happened.
        epoch: usize,
        /// Step within the epoch (0-based).
        step: usize,
    },
    /// The decoder produced a NaN or infinite logit.
    NonFiniteOutput {
        /// Index of the sample (column) with the bad logit.
        sample: usize,
    },
    /// An input that must not be empty was empty.
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// A checkpoint does not fit the data or configuration it is resumed with.
    Checkpoint {
        /// What does not fit.
        reason: String,
    },
    /// Conditions of the conditional model (or their Gaussian model) are not usable: an index out
    /// of range, a NaN, a covariance that is not positive definite.
    InvalidConditions {
        /// What is wrong.
        reason: String,
    },
    /// The scattering transform rejected a graph.
    Scattering {
        /// Index of the graph.
        item: usize,
        /// The transform's error.
        source: graph_scattering::Error,
    },
    /// An error from the `bayes-uq` crate.
    BayesUq(bayes_uq::Error),
    /// An error from the `molgraph` crate.
    Molgraph(molgraph::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig { name, reason } => write!(f, "invalid {name}: {reason}"),
            Error::ShapeMismatch { op, expected, got } => write!(
                f,
                "shape mismatch in {op}: expected {}x{}, got {}x{}",
                expected.0, expected.1, got.0, got.1
            ),
            Error::InvalidTarget { item, reason } => {
                write!(f, "training target {item} is not representable: {reason}")
            }
            Error::InvalidWeights { index, reason } => {
                write!(f, "invalid item weights at index {index}: {reason}")
            }
            Error::NonFinite { what, epoch, step } => {
                write!(f, "non-finite {what} at epoch {epoch}, step {step}")
            }
            Error::NonFiniteOutput { sample } => {
                write!(f, "non-finite decoder logit in sample {sample}")
            }
            Error::Empty { what } => write!(f, "{what} is empty"),
            Error::Checkpoint { reason } => write!(f, "checkpoint does not fit: {reason}"),
            Error::InvalidConditions { reason } => write!(f, "invalid conditions: {reason}"),
            Error::Scattering { item, source } => {
                write!(f, "scattering of graph {item}: {source}")
            }
            Error::BayesUq(err) => write!(f, "bayes-uq: {err}"),
            Error::Molgraph(err) => write!(f, "molgraph: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Scattering { source, .. } => Some(source),
            Error::BayesUq(err) => Some(err),
            Error::Molgraph(err) => Some(err),
            _ => None,
        }
    }
}

impl From<bayes_uq::Error> for Error {
    fn from(err: bayes_uq::Error) -> Self {
        Error::BayesUq(err)
    }
}

impl From<molgraph::Error> for Error {
    fn from(err: molgraph::Error) -> Self {
        Error::Molgraph(err)
    }
}

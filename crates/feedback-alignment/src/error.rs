//! Errors of the `feedback-alignment` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when building teaching signals or training.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An error of the network layer (bad config, shape, label, rule).
    Core(plasticity_core::Error),
    /// A sample of a training or evaluation stream was rejected.
    Sample {
        /// The step (online) or sample index (evaluation) of the bad sample.
        step: usize,
        /// Why.
        source: plasticity_core::Error,
    },
    /// A configuration value is out of range.
    InvalidConfig {
        /// The field or argument.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A feedback matrix does not have the shape its layer needs.
    FeedbackShape {
        /// The layer the matrix feeds (the target of its projection; 0 = input layer).
        layer: usize,
        /// The shape it needs (`n_source × n_target`).
        expected: (usize, usize),
        /// The shape it has.
        got: (usize, usize),
    },
    /// Training produced a NaN or an infinity.
    Diverged {
        /// The step at which it was detected (0-based).
        step: usize,
        /// The first layer found non-finite (weights are layers 1..=L; activations 0..=L).
        layer: usize,
        /// What was non-finite: `"weights"`, `"input"`, `"activations"` or `"loss"`.
        what: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Core(err) => write!(f, "{err}"),
            Error::Sample { step, source } => write!(f, "sample {step}: {source}"),
            Error::InvalidConfig { field, reason } => write!(f, "invalid `{field}`: {reason}"),
            Error::FeedbackShape {
                layer,
                expected,
                got,
            } => write!(
                f,
                "feedback matrix for layer {layer} must be {}x{}, got {}x{}",
                expected.0, expected.1, got.0, got.1
            ),
            Error::Diverged { step, layer, what } => {
                write!(
                    f,
                    "training diverged at step {step}: non-finite {what} in layer {layer}"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Core(err) | Error::Sample { source: err, .. } => Some(err),
            _ => None,
        }
    }
}

impl From<plasticity_core::Error> for Error {
    fn from(err: plasticity_core::Error) -> Self {
        Error::Core(err)
    }
}

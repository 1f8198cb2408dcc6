//! Errors of the `bayes-uq` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in a `bayes-uq` routine.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Two inputs do not have compatible shapes.
    ShapeMismatch {
        /// The operation that was attempted.
        op: &'static str,
        /// The shape the operation needed.
        expected: (usize, usize),
        /// The shape it got.
        got: (usize, usize),
    },
    /// A value that must be finite was NaN or infinite.
    NonFinite {
        /// What held the value.
        what: &'static str,
        /// Its index (item, bin, replica or iteration, as `what` says).
        index: usize,
    },
    /// An input that must not be empty was empty.
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// A configuration value or argument is outside its allowed range.
    InvalidConfig {
        /// The field or argument.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Histograms that must share bin edges do not.
    EdgesDiffer {
        /// The index of the first histogram whose edges differ from the first one's.
        index: usize,
    },
    /// A matrix that must be symmetric positive definite is not (numerically).
    NotPositiveDefinite {
        /// Which matrix.
        what: &'static str,
    },
    /// The data cannot identify the model (for example, constant targets or too few items).
    Degenerate {
        /// What is degenerate.
        what: &'static str,
    },
    /// An iteration did not reach its tolerance.
    NotConverged {
        /// Which iteration.
        what: &'static str,
        /// How many iterations were run.
        iterations: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ShapeMismatch { op, expected, got } => write!(
                f,
                "shape mismatch in {op}: expected {}x{}, got {}x{}",
                expected.0, expected.1, got.0, got.1
            ),
            Error::NonFinite { what, index } => {
                write!(f, "non-finite value in {what} at index {index}")
            }
            Error::Empty { what } => write!(f, "{what} is empty"),
            Error::InvalidConfig { name, reason } => write!(f, "invalid {name}: {reason}"),
            Error::EdgesDiffer { index } => write!(
                f,
                "histogram {index} has different bin edges from histogram 0"
            ),
            Error::NotPositiveDefinite { what } => {
                write!(f, "{what} is not symmetric positive definite")
            }
            Error::Degenerate { what } => write!(f, "degenerate problem: {what}"),
            Error::NotConverged { what, iterations } => {
                write!(f, "{what} did not converge in {iterations} iterations")
            }
        }
    }
}

impl std::error::Error for Error {}

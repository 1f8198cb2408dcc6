//! Errors of the `linalg` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in a `linalg` routine that checks its input.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Two operands do not have compatible shapes.
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
    },
    /// An argument was outside its allowed range.
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
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
            Error::NonFinite { what } => write!(f, "non-finite value in {what}"),
            Error::InvalidArgument { name, reason } => write!(f, "invalid {name}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

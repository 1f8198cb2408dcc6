//! Errors of the `meta-plasticity` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when building episodes, unrolling an inner loop or meta-training.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An error of the network layer (bad config, shape, label).
    Core(plasticity_core::Error),
    /// An error of the teaching-signal layer (feedback shapes, diagnostics).
    Feedback(feedback_alignment::Error),
    /// A configuration value is out of range.
    InvalidConfig {
        /// The field or argument.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The image pool cannot serve the requested episodes.
    Data {
        /// What is wrong, naming the image or class.
        reason: String,
    },
    /// The inner loop produced a NaN or an infinity.
    Diverged {
        /// The episode (0-based; 0 for a stand-alone unroll).
        episode: usize,
        /// The online step (0-based) at which it was detected; the number of training samples
        /// for the query evaluation after the last step.
        step: usize,
        /// What was non-finite, e.g. `"output"`, `"output tangent"`, `"query loss"`.
        what: &'static str,
    },
    /// A meta-parameter θ_r became NaN or infinite after a meta-update.
    NonFiniteTheta {
        /// The episode whose meta-update produced it.
        episode: usize,
        /// The term index r (0–9).
        term: usize,
    },
    /// A checkpoint state does not belong to the configuration it is resumed with.
    StateMismatch {
        /// What does not match.
        reason: String,
    },
}

impl Error {
    /// This error with its episode index set (for `Diverged` and `NonFiniteTheta`).
    pub(crate) fn at_episode(self, episode_idx: usize) -> Error {
        match self {
            Error::Diverged { step, what, .. } => Error::Diverged {
                episode: episode_idx,
                step,
                what,
            },
            Error::NonFiniteTheta { term, .. } => Error::NonFiniteTheta {
                episode: episode_idx,
                term,
            },
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Core(err) => write!(f, "{err}"),
            Error::Feedback(err) => write!(f, "{err}"),
            Error::InvalidConfig { field, reason } => write!(f, "invalid `{field}`: {reason}"),
            Error::Data { reason } => write!(f, "image pool: {reason}"),
            Error::Diverged {
                episode,
                step,
                what,
            } => {
                write!(
                    f,
                    "episode {episode} diverged at step {step}: non-finite {what}"
                )
            }
            Error::NonFiniteTheta { episode, term } => {
                write!(
                    f,
                    "meta-update of episode {episode} made θ{term} non-finite"
                )
            }
            Error::StateMismatch { reason } => write!(f, "checkpoint state refused: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Core(err) => Some(err),
            Error::Feedback(err) => Some(err),
            _ => None,
        }
    }
}

impl From<plasticity_core::Error> for Error {
    fn from(err: plasticity_core::Error) -> Self {
        Error::Core(err)
    }
}

impl From<feedback_alignment::Error> for Error {
    fn from(err: feedback_alignment::Error) -> Self {
        Error::Feedback(err)
    }
}

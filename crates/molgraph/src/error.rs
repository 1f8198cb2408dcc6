//! Errors of the `molgraph` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when reading SMILES or building a molecular graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The SMILES string is malformed or uses a feature outside the QM9 subset.
    Smiles {
        /// Byte offset of the offending character (the string length at end of input).
        position: usize,
        /// The offending character, `None` at end of input.
        found: Option<char>,
        /// Why it was rejected.
        reason: String,
    },
    /// More heavy atoms than a QM9 graph holds.
    TooManyAtoms {
        /// How many heavy atoms the input has (counted up to the first one too many).
        count: usize,
        /// The limit, [`crate::MAX_ATOMS`].
        max: usize,
    },
    /// Aromatic input has no Kekulé structure (e.g. `c1cccc1`).
    Kekulize {
        /// Which atoms could not receive a double bond.
        reason: String,
    },
    /// A graph given by atoms and bonds (or a dense view) is malformed.
    InvalidGraph {
        /// Why it was rejected.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Smiles {
                position,
                found: Some(ch),
                reason,
            } => write!(f, "smiles error at position {position} ('{ch}'): {reason}"),
            Error::Smiles {
                position,
                found: None,
                reason,
            } => write!(
                f,
                "smiles error at end of input (position {position}): {reason}"
            ),
            Error::TooManyAtoms { count, max } => {
                write!(f, "too many heavy atoms: {count} > {max}")
            }
            Error::Kekulize { reason } => write!(f, "cannot kekulise aromatic input: {reason}"),
            Error::InvalidGraph { reason } => write!(f, "invalid molecular graph: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

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
        /// The class of problem, for callers that count rejections by type.
        kind: SmilesErrorKind,
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

/// The class of a [`Error::Smiles`], so that callers can count rejected SMILES by type without
/// reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmilesErrorKind {
    /// Malformed or unsupported syntax: unbalanced branches or rings, stray symbols, empty
    /// input, isotopes, wildcards, a hydrogen that is not bonded to exactly one heavy atom.
    Syntax,
    /// An element other than C, N, O, F (explicit hydrogens aside).
    Element,
    /// More than one fragment (`.`).
    Disconnected {
        /// Number of fragments (dot-separated parts).
        n_fragments: usize,
    },
    /// A formal charge outside the range the valence model covers (B…Ne isoelectronics).
    Charge,
    /// An atom whose bonds and written hydrogens exceed its allowed valence (`[CH5]`,
    /// `[H]C([H])([H])([H])[H]`).
    Hypervalent {
        /// Index of the heavy atom in the graph's order.
        atom: usize,
        /// Bond-order sum plus written hydrogens.
        valence: u8,
        /// The allowed maximum ([`crate::Atom::max_valence`]).
        max: u8,
    },
    /// A bracket atom with fewer hydrogens than its bonds and charge imply (a radical such as
    /// `C[CH2]`), which a graph with implicit hydrogens cannot hold.
    Radical {
        /// Index of the heavy atom in the graph's order.
        atom: usize,
        /// Hydrogens written.
        written: u8,
        /// Hydrogens the valence implies.
        implied: u8,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Smiles {
                position,
                found: Some(ch),
                reason,
                ..
            } => write!(f, "smiles error at position {position} ('{ch}'): {reason}"),
            Error::Smiles {
                position,
                found: None,
                reason,
                ..
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

//! Errors of the `graph-scattering` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when building graphs, fitting a warp or computing scattering features.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The graph has no nodes.
    EmptyGraph,
    /// The weight matrix is not square.
    NotSquare {
        /// Rows of the weight matrix.
        rows: usize,
        /// Columns of the weight matrix.
        cols: usize,
    },
    /// A weight is NaN or infinite.
    NonFiniteWeight {
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
    },
    /// A weight is negative.
    NegativeWeight {
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
        /// The weight.
        value: f64,
    },
    /// `W[row, col] ≠ W[col, row]` beyond rounding.
    Asymmetric {
        /// Row of the offending entry.
        row: usize,
        /// Column of the offending entry.
        col: usize,
        /// `W[row, col]`.
        upper: f64,
        /// `W[col, row]`.
        lower: f64,
    },
    /// The node signal does not have one row per node.
    SignalShape {
        /// Number of nodes of the graph (rows needed).
        n_nodes: usize,
        /// Rows of the signal.
        rows: usize,
        /// Columns (channels) of the signal.
        cols: usize,
    },
    /// The signal has no channels.
    NoChannels,
    /// A signal value is NaN or infinite.
    NonFiniteSignal {
        /// Node of the offending value.
        node: usize,
        /// Channel of the offending value.
        channel: usize,
    },
    /// An output buffer has the wrong length.
    OutputLength {
        /// Length needed.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// A configuration field is out of range.
    InvalidConfig {
        /// The field, as `Struct.field`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Too few pooled eigenvalues to place the warp's knots.
    TooFewEigenvalues {
        /// Pooled eigenvalues given.
        got: usize,
        /// Least number accepted.
        min: usize,
    },
    /// The pooled eigenvalues are (nearly) all equal, so the warp's knots collapse.
    DegenerateSpectrum {
        /// Distinct knots left after merging ties.
        distinct_knots: usize,
    },
    /// An eigenvalue handed to the warp is NaN or infinite.
    NonFiniteEigenvalue {
        /// Its index in the pooled list.
        index: usize,
    },
    /// The eigensolver failed.
    Eigen(linalg::Error),
    /// An error in one item of a batch.
    AtItem {
        /// Index of the item in the batch.
        index: usize,
        /// What went wrong there.
        source: Box<Error>,
    },
    /// Two batch inputs have different lengths.
    BatchLength {
        /// Number of graphs.
        graphs: usize,
        /// Number of signals.
        signals: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyGraph => write!(f, "graph has no nodes"),
            Error::NotSquare { rows, cols } => {
                write!(f, "weight matrix is not square: {rows}x{cols}")
            }
            Error::NonFiniteWeight { row, col } => write!(f, "weight ({row}, {col}) is not finite"),
            Error::NegativeWeight { row, col, value } => {
                write!(f, "weight ({row}, {col}) is negative: {value}")
            }
            Error::Asymmetric {
                row,
                col,
                upper,
                lower,
            } => {
                write!(
                    f,
                    "weight matrix is not symmetric: W[{row},{col}] = {upper} but W[{col},{row}] = {lower}"
                )
            }
            Error::SignalShape {
                n_nodes,
                rows,
                cols,
            } => {
                write!(
                    f,
                    "signal is {rows}x{cols} but the graph has {n_nodes} nodes (need one row per node)"
                )
            }
            Error::NoChannels => write!(f, "signal has no channels"),
            Error::NonFiniteSignal { node, channel } => {
                write!(
                    f,
                    "signal value at node {node}, channel {channel} is not finite"
                )
            }
            Error::OutputLength { expected, got } => {
                write!(f, "feature buffer has length {got}, expected {expected}")
            }
            Error::InvalidConfig { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::TooFewEigenvalues { got, min } => {
                write!(f, "warp needs at least {min} pooled eigenvalues, got {got}")
            }
            Error::DegenerateSpectrum { distinct_knots } => write!(
                f,
                "pooled eigenvalues give {distinct_knots} distinct warp knot(s); need 2 (training graphs without edges?)"
            ),
            Error::NonFiniteEigenvalue { index } => {
                write!(f, "pooled eigenvalue {index} is not finite")
            }
            Error::Eigen(source) => write!(f, "eigendecomposition failed: {source}"),
            Error::AtItem { index, source } => write!(f, "item {index}: {source}"),
            Error::BatchLength { graphs, signals } => {
                write!(f, "batch has {graphs} graphs but {signals} signals")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Eigen(source) => Some(source),
            Error::AtItem { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<linalg::Error> for Error {
    fn from(source: linalg::Error) -> Self {
        Error::Eigen(source)
    }
}

//! Errors of the `plasticity-core` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong when building a network, running it or applying a plasticity rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A configuration field is out of its allowed range.
    InvalidConfig {
        /// The field, e.g. `"sizes"` or `"beta"`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Two operands do not have compatible shapes.
    ShapeMismatch {
        /// The operation that was attempted.
        op: &'static str,
        /// The shape the operation needed.
        expected: (usize, usize),
        /// The shape it got.
        got: (usize, usize),
    },
    /// A class label is not below the number of output units.
    LabelOutOfRange {
        /// The label.
        label: usize,
        /// The number of output units.
        n_classes: usize,
    },
    /// A layer index is outside the network.
    LayerOutOfRange {
        /// The index that was asked for.
        layer: usize,
        /// The largest valid index.
        max: usize,
    },
    /// A plasticity coefficient θ_r is NaN or infinite.
    NonFiniteTheta {
        /// The weight layer ℓ (1-based, `W_{ℓ−1,ℓ}`) whose rule holds it.
        layer: usize,
        /// The term index r (0–9).
        term: usize,
    },
    /// A term needs an error vector that was not computed since the last forward pass.
    MissingError {
        /// The layer of the missing error vector (0 = the synthetic input-layer error e₀).
        error_layer: usize,
        /// The weight layer ℓ being updated.
        layer: usize,
        /// The term index r that needs it.
        term: usize,
    },
    /// A per-layer rule set has the wrong number of rules.
    RuleCount {
        /// The number of weight layers.
        expected: usize,
        /// The number of rules given.
        got: usize,
    },
    /// A step was attempted before a forward pass filled the state.
    NoForwardPass,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig { field, reason } => {
                write!(f, "invalid config field `{field}`: {reason}")
            }
            Error::ShapeMismatch { op, expected, got } => write!(
                f,
                "shape mismatch in {op}: expected {}x{}, got {}x{}",
                expected.0, expected.1, got.0, got.1
            ),
            Error::LabelOutOfRange { label, n_classes } => {
                write!(
                    f,
                    "label {label} is out of range for {n_classes} output units"
                )
            }
            Error::LayerOutOfRange { layer, max } => {
                write!(f, "layer {layer} is out of range (largest is {max})")
            }
            Error::NonFiniteTheta { layer, term } => {
                write!(
                    f,
                    "plasticity coefficient θ{term} of layer {layer} is not finite"
                )
            }
            Error::MissingError {
                error_layer,
                layer,
                term,
            } => write!(
                f,
                "term F{term} of layer {layer} needs the error e{error_layer}, which was not computed since the last forward pass{}",
                if *error_layer == 0 {
                    " (the synthetic input-layer error, Eq. 24)"
                } else {
                    ""
                }
            ),
            Error::RuleCount { expected, got } => {
                write!(
                    f,
                    "per-layer rules: expected one rule per weight layer ({expected}), got {got}"
                )
            }
            Error::NoForwardPass => write!(f, "no forward pass has filled the state yet"),
        }
    }
}

impl std::error::Error for Error {}

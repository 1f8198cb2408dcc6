//! The molecule gate: whether a SMILES string (or a parsed graph) is admissible for the GSVAE
//! representation, with a typed reason when it is not, and a tally of verdicts over many inputs.
//!
//! The representation (digest molecular.md §1) is a connected heavy-atom graph of at most 9
//! atoms of classes C, O, N, F, with Kekulé bond orders, implicit hydrogens and no formal
//! charges. A molecule is admissible when RDKit would sanitise it (valence per element, with the
//! clean-up of neutral 5-valent N, [`MolGraph::validity`]) and it fits those limits.

mod tally;

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

use crate::{AtomClass, Error, InvalidReason, MAX_ATOMS, MolGraph, SmilesErrorKind, Validity};

pub use self::tally::{LineVerdict, Tally, check_smiles_lines};

/// Why a molecule is not admissible, one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The SMILES is malformed or uses syntax the reader does not support.
    Syntax {
        /// The parser's message (position and reason).
        message: String,
    },
    /// An element other than C, N, O, F.
    Element {
        /// The parser's message (position and symbol).
        message: String,
    },
    /// More than 9 heavy atoms.
    TooManyAtoms {
        /// Heavy atoms counted (up to the first one too many).
        count: usize,
    },
    /// No heavy atom.
    Empty,
    /// More than one connected fragment.
    Disconnected {
        /// Number of fragments.
        n_fragments: usize,
    },
    /// A formal charge, which the representation cannot hold (net-charged ions and net-neutral
    /// zwitterions alike).
    Charged {
        /// Number of charged atoms.
        n_charged: usize,
        /// Sum of the formal charges.
        net_charge: i32,
    },
    /// An atom whose bonds and hydrogens exceed its element's valence (after the clean-up of
    /// neutral 5-valent N), or a charge outside the valence model.
    Valence {
        /// Index of the heavy atom in the graph's order (`None` when the parser rejected a charge
        /// before the graph was built).
        atom: Option<usize>,
        /// Bond-order sum, plus written hydrogens for bracket atoms.
        valence: u8,
        /// The allowed maximum.
        max: u8,
    },
    /// A bracket atom with fewer hydrogens than its valence implies (a radical).
    Radical {
        /// Index of the heavy atom.
        atom: usize,
    },
    /// Aromatic input without a Kekulé structure.
    Kekulize {
        /// The kekuliser's message.
        message: String,
    },
    /// A padding (ghost) node carries a bond (graphs built from a dense view only).
    GhostBonded {
        /// The ghost node.
        atom: usize,
    },
}

/// The class of a [`Rejection`], without its details: the key of a [`Tally`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RejectionKind {
    /// [`Rejection::Syntax`].
    Syntax,
    /// [`Rejection::Element`].
    Element,
    /// [`Rejection::TooManyAtoms`].
    TooManyAtoms,
    /// [`Rejection::Empty`].
    Empty,
    /// [`Rejection::Disconnected`].
    Disconnected,
    /// [`Rejection::Charged`].
    Charged,
    /// [`Rejection::Valence`].
    Valence,
    /// [`Rejection::Radical`].
    Radical,
    /// [`Rejection::Kekulize`].
    Kekulize,
    /// [`Rejection::GhostBonded`].
    GhostBonded,
}

/// An admissible molecule: its graph (as parsed, neutral, at most 9 heavy atoms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The heavy-atom Kekulé graph.
    pub graph: MolGraph,
}

/// Parses `smiles` and applies the gate ([`MolGraph::admissibility`]): the one decision of
/// whether a SMILES string may become training or reference data.
///
/// Rules, in the order they are checked (the first failing one is reported):
///
/// ```text
/// 1. the string parses (syntax, C/N/O/F only, one fragment, ≤ 9 heavy atoms, bracket H counts,
///    aromatic input kekulisable); explicit [H] atoms are folded into implicit hydrogens
/// 2. no formal charge on any atom
/// 3. MolGraph::validity: connected, and every atom within its valence after RDKit's
///    neutral 5-valent N clean-up (C 4, N 3, O 2, F 1)                      [digest §8.1]
/// ```
///
/// # Errors
/// The [`Rejection`] of the first failing rule.
///
/// # Example
/// ```
/// use molgraph::{Rejection, RejectionKind, admit_smiles};
/// assert!(admit_smiles("CN(=O)=O").is_ok());
/// assert_eq!(admit_smiles("[H]C([H])([H])[H]").unwrap().graph.n_atoms(), 1);
/// assert_eq!(admit_smiles("CO(C)C").unwrap_err().kind(), RejectionKind::Valence);
/// assert_eq!(admit_smiles("[CH5]").unwrap_err().kind(), RejectionKind::Valence);
/// assert_eq!(admit_smiles("C[O-]").unwrap_err().kind(), RejectionKind::Charged);
/// assert_eq!(admit_smiles("CC.O").unwrap_err(), Rejection::Disconnected { n_fragments: 2 });
/// ```
pub fn admit_smiles(smiles: &str) -> Result<Admitted, Rejection> {
    let graph = crate::parse_smiles(smiles).map_err(Rejection::from)?;
    graph.admissibility()?;
    Ok(Admitted { graph })
}

impl MolGraph {
    /// The gate on a graph: no formal charge, at most 9 heavy atoms, and
    /// [`MolGraph::validity`] (connected, valences within their maxima after the 5-valent N
    /// clean-up). Isolated ghost nodes are allowed (padding).
    ///
    /// # Errors
    /// The [`Rejection`] of the first failing rule: [`Rejection::Charged`], then those of
    /// [`MolGraph::validity`].
    ///
    /// # Example
    /// ```
    /// use molgraph::{Rejection, parse_smiles};
    /// assert_eq!(parse_smiles("CC").unwrap().admissibility(), Ok(()));
    /// assert_eq!(
    ///     parse_smiles("C(C)(C)(C)(C)C").unwrap().admissibility(),
    ///     Err(Rejection::Valence { atom: Some(0), valence: 5, max: 4 })
    /// );
    /// ```
    pub fn admissibility(&self) -> Result<(), Rejection> {
        let n_heavy = self.n_heavy_atoms();
        if n_heavy > MAX_ATOMS {
            return Err(Rejection::TooManyAtoms { count: n_heavy });
        }
        // Deviation: RDKit sanitises charged molecules (and zwitterions), but the GSVAE
        // representation has no charge channel, so every formal charge as written is rejected.
        let charges: Vec<i8> = self
            .atoms()
            .iter()
            .map(|a| a.charge)
            .filter(|&c| c != 0)
            .collect();
        if !charges.is_empty() {
            return Err(Rejection::Charged {
                n_charged: charges.len(),
                net_charge: charges.iter().map(|&c| i32::from(c)).sum(),
            });
        }
        match self.validity() {
            Validity::Valid => Ok(()),
            Validity::Invalid(reason) => Err(match reason {
                InvalidReason::GhostBonded { atom } => Rejection::GhostBonded { atom },
                InvalidReason::Empty => Rejection::Empty,
                InvalidReason::Disconnected { n_components } => Rejection::Disconnected {
                    n_fragments: n_components,
                },
                InvalidReason::Valence {
                    atom, valence, max, ..
                } => Rejection::Valence {
                    atom: Some(atom),
                    valence,
                    max,
                },
            }),
        }
    }

    /// The molecular formula in Hill order (C, then H, then the other elements alphabetically),
    /// hydrogens included; ghosts are ignored.
    ///
    /// # Example
    /// ```
    /// assert_eq!(molgraph::parse_smiles("OCC").unwrap().formula(), "C2H6O");
    /// assert_eq!(molgraph::parse_smiles("FC(F)F").unwrap().formula(), "CHF3");
    /// assert_eq!(molgraph::parse_smiles("O").unwrap().formula(), "H2O");
    /// ```
    pub fn formula(&self) -> String {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut n_carbon = 0;
        let mut n_hydrogen = 0;
        for (i, atom) in self.atoms().iter().enumerate() {
            if atom.class.is_ghost() {
                continue;
            }
            n_hydrogen += usize::from(self.implicit_hydrogens(i));
            if atom.class == AtomClass::C {
                n_carbon += 1;
            } else {
                *counts.entry(atom.class.symbol()).or_default() += 1;
            }
        }
        let mut out = String::new();
        let mut push = |symbol: &str, count: usize| match count {
            0 => {}
            1 => out.push_str(symbol),
            _ => out.push_str(&format!("{symbol}{count}")),
        };
        if n_carbon > 0 {
            push("C", n_carbon);
            push("H", n_hydrogen);
            for (symbol, count) in counts {
                push(symbol, count);
            }
        } else {
            // Without carbon, Hill order is alphabetical with H among the others.
            counts.insert("H", n_hydrogen);
            for (symbol, count) in counts {
                push(symbol, count);
            }
        }
        out
    }
}

impl Rejection {
    /// The class of this rejection.
    ///
    /// # Example
    /// ```
    /// use molgraph::{Rejection, RejectionKind};
    /// assert_eq!(Rejection::Empty.kind(), RejectionKind::Empty);
    /// ```
    pub fn kind(&self) -> RejectionKind {
        match self {
            Rejection::Syntax { .. } => RejectionKind::Syntax,
            Rejection::Element { .. } => RejectionKind::Element,
            Rejection::TooManyAtoms { .. } => RejectionKind::TooManyAtoms,
            Rejection::Empty => RejectionKind::Empty,
            Rejection::Disconnected { .. } => RejectionKind::Disconnected,
            Rejection::Charged { .. } => RejectionKind::Charged,
            Rejection::Valence { .. } => RejectionKind::Valence,
            Rejection::Radical { .. } => RejectionKind::Radical,
            Rejection::Kekulize { .. } => RejectionKind::Kekulize,
            Rejection::GhostBonded { .. } => RejectionKind::GhostBonded,
        }
    }
}

impl RejectionKind {
    /// All kinds, in the order the rules are checked.
    pub const ALL: [RejectionKind; 10] = [
        RejectionKind::Syntax,
        RejectionKind::Element,
        RejectionKind::TooManyAtoms,
        RejectionKind::Empty,
        RejectionKind::Disconnected,
        RejectionKind::Charged,
        RejectionKind::Valence,
        RejectionKind::Radical,
        RejectionKind::Kekulize,
        RejectionKind::GhostBonded,
    ];

    /// A short stable name (`"valence"`, `"charged"`, …) for reports and command output.
    ///
    /// # Example
    /// ```
    /// assert_eq!(molgraph::RejectionKind::TooManyAtoms.name(), "too-many-atoms");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            RejectionKind::Syntax => "syntax",
            RejectionKind::Element => "element",
            RejectionKind::TooManyAtoms => "too-many-atoms",
            RejectionKind::Empty => "empty",
            RejectionKind::Disconnected => "disconnected",
            RejectionKind::Charged => "charged",
            RejectionKind::Valence => "valence",
            RejectionKind::Radical => "radical",
            RejectionKind::Kekulize => "kekulize",
            RejectionKind::GhostBonded => "ghost-bonded",
        }
    }

    /// A one-line description of the rule, for report tables.
    ///
    /// # Example
    /// ```
    /// assert!(molgraph::RejectionKind::Charged.describe().contains("charge"));
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            RejectionKind::Syntax => "malformed or unsupported SMILES syntax",
            RejectionKind::Element => "an element other than C, N, O, F",
            RejectionKind::TooManyAtoms => "more than 9 heavy atoms",
            RejectionKind::Empty => "no heavy atom",
            RejectionKind::Disconnected => "more than one fragment",
            RejectionKind::Charged => {
                "a formal charge (ions and zwitterions; the representation has no charges)"
            }
            RejectionKind::Valence => "an atom above its element's valence",
            RejectionKind::Radical => "a radical (fewer hydrogens than the valence implies)",
            RejectionKind::Kekulize => "aromatic input without a Kekulé structure",
            RejectionKind::GhostBonded => "a padding node with a bond",
        }
    }
}

impl From<Error> for Rejection {
    fn from(err: Error) -> Rejection {
        match err {
            Error::Smiles { kind, .. } => {
                let message = err.to_string();
                match kind {
                    SmilesErrorKind::Syntax => Rejection::Syntax { message },
                    SmilesErrorKind::Element => Rejection::Element { message },
                    SmilesErrorKind::Disconnected { n_fragments } => {
                        Rejection::Disconnected { n_fragments }
                    }
                    SmilesErrorKind::Charge => Rejection::Valence {
                        atom: None,
                        valence: 0,
                        max: 0,
                    },
                    SmilesErrorKind::Hypervalent { atom, valence, max } => Rejection::Valence {
                        atom: Some(atom),
                        valence,
                        max,
                    },
                    // Deviation: RDKit sanitises radicals; implicit hydrogens cannot hold them.
                    SmilesErrorKind::Radical { atom, .. } => Rejection::Radical { atom },
                }
            }
            Error::TooManyAtoms { count, .. } => Rejection::TooManyAtoms { count },
            Error::Kekulize { reason } => Rejection::Kekulize { message: reason },
            Error::InvalidGraph { reason } => Rejection::Syntax { message: reason },
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Syntax { message } | Rejection::Element { message } => {
                write!(f, "{}: {message}", self.kind().name())
            }
            Rejection::TooManyAtoms { count } => {
                write!(
                    f,
                    "too-many-atoms: {count} heavy atoms, at most {MAX_ATOMS}"
                )
            }
            Rejection::Empty => write!(f, "empty: no heavy atom"),
            Rejection::Disconnected { n_fragments } => {
                write!(f, "disconnected: {n_fragments} fragments")
            }
            Rejection::Charged {
                n_charged,
                net_charge: 0,
            } => write!(
                f,
                "charged: {n_charged} charged atoms, net charge 0 (zwitterion)"
            ),
            Rejection::Charged {
                n_charged,
                net_charge,
            } => write!(
                f,
                "charged: {n_charged} charged atoms, net charge {net_charge:+} (ion)"
            ),
            Rejection::Valence {
                atom: Some(atom),
                valence,
                max,
            } => write!(f, "valence: atom {atom} has valence {valence} > {max}"),
            Rejection::Valence { atom: None, .. } => {
                write!(f, "valence: a charge outside the valence model")
            }
            Rejection::Radical { atom } => {
                write!(
                    f,
                    "radical: atom {atom} has fewer H than its valence implies"
                )
            }
            Rejection::Kekulize { message } => write!(f, "kekulize: {message}"),
            Rejection::GhostBonded { atom } => write!(f, "ghost-bonded: padding node {atom}"),
        }
    }
}

impl std::error::Error for Rejection {}

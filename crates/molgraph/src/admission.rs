//! The molecule gate: whether a SMILES string (or a parsed graph) is admissible for the GSVAE
//! representation, with a typed reason when it is not, and a tally of verdicts over many inputs.
//!
//! The representation (digest molecular.md §1) is a connected heavy-atom graph of at most 9
//! atoms of classes C, O, N, F, with Kekulé bond orders, implicit hydrogens and no formal
//! charges. A molecule is admissible when RDKit would sanitise it (valence per element, with the
//! clean-up of neutral 5-valent N, [`MolGraph::validity`]) and it fits those limits.

use std::{collections::BTreeMap, fmt, io::BufRead};

use serde::{Deserialize, Serialize};

use crate::{AtomClass, Error, InvalidReason, MAX_ATOMS, MolGraph, SmilesErrorKind, Validity};

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

/// Verdicts over many inputs: admitted count, rejections by kind, and each rejected input's line
/// and record id, so reports can list them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Inputs admitted.
    pub n_admitted: usize,
    /// Rejections by kind.
    pub rejected: BTreeMap<RejectionKind, usize>,
    /// Each rejected input: `(line, record id, kind)`, in the order recorded.
    pub rejections: Vec<(usize, String, RejectionKind)>,
}

impl Tally {
    /// Records one verdict for the input on `line` with id `record`.
    ///
    /// # Example
    /// ```
    /// use molgraph::{RejectionKind, Tally, admit_smiles};
    /// let mut tally = Tally::default();
    /// tally.record(1, "a", &admit_smiles("CC"));
    /// tally.record(2, "b", &admit_smiles("C[NH4+]"));
    /// assert_eq!(tally.n_admitted, 1);
    /// assert_eq!(tally.n_rejected(), 1);
    /// assert_eq!(tally.rejections[0].0, 2);
    /// ```
    pub fn record<T>(&mut self, line: usize, record: &str, verdict: &Result<T, Rejection>) {
        match verdict {
            Ok(_) => self.n_admitted += 1,
            Err(rejection) => {
                let kind = rejection.kind();
                *self.rejected.entry(kind).or_default() += 1;
                self.rejections.push((line, record.to_owned(), kind));
            }
        }
    }

    /// One line per verdict with its count (`ok 12`, then `valence 3`, … in rule order).
    ///
    /// # Example
    /// ```
    /// use molgraph::{Tally, admit_smiles};
    /// let mut tally = Tally::default();
    /// tally.record(1, "", &admit_smiles("C"));
    /// tally.record(2, "", &admit_smiles("CFC"));
    /// assert_eq!(tally.summary(), "ok 1\nvalence 1\n");
    /// ```
    pub fn summary(&self) -> String {
        let mut out = format!("ok {}\n", self.n_admitted);
        for (kind, count) in &self.rejected {
            out.push_str(&format!("{} {count}\n", kind.name()));
        }
        out
    }

    /// Inputs rejected, all kinds together.
    pub fn n_rejected(&self) -> usize {
        self.rejected.values().sum()
    }

    /// Inputs seen.
    pub fn n_total(&self) -> usize {
        self.n_admitted + self.n_rejected()
    }

    /// A Markdown table of rejections by kind with the first `n_listed` inputs of each kind
    /// (`line L, id`), for reports.
    ///
    /// # Example
    /// ```
    /// use molgraph::{Tally, admit_smiles};
    /// let mut tally = Tally::default();
    /// tally.record(7, "42", &admit_smiles("CFC"));
    /// assert!(tally.markdown(3).contains("line 7 (42)"));
    /// ```
    pub fn markdown(&self, n_listed: usize) -> String {
        let mut out = String::from("| reason | count | inputs (line, record) |\n|---|---|---|\n");
        for (&kind, &count) in &self.rejected {
            let listed: Vec<String> = self
                .rejections
                .iter()
                .filter(|(_, _, k)| *k == kind)
                .take(n_listed)
                .map(|(line, id, _)| format!("line {line} ({id})"))
                .collect();
            let more = if count > listed.len() { ", …" } else { "" };
            out.push_str(&format!(
                "| {} | {count} | {}{more} |\n",
                kind.describe(),
                listed.join(", ")
            ));
        }
        out
    }
}

/// The verdict on one line of a SMILES list ([`check_smiles_lines`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineVerdict {
    /// 1-based line number.
    pub line: usize,
    /// The SMILES (the first whitespace-separated field of the line).
    pub smiles: String,
    /// Admitted, or why not.
    pub verdict: Result<Admitted, Rejection>,
}

impl LineVerdict {
    /// The verdict on one SMILES on `line`.
    ///
    /// # Example
    /// ```
    /// let verdict = molgraph::LineVerdict::of(3, "CCO");
    /// assert_eq!(verdict.to_string(), "line 3: CCO: ok, heavy atoms 3, C2H6O");
    /// ```
    pub fn of(line: usize, smiles: &str) -> LineVerdict {
        LineVerdict {
            line,
            smiles: smiles.to_owned(),
            verdict: admit_smiles(smiles),
        }
    }
}

impl fmt::Display for LineVerdict {
    /// `line L: SMILES: ok, heavy atoms N, FORMULA` or `line L: SMILES: reason: detail`; a
    /// SMILES longer than 60 characters is shown by its prefix and length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 60;
        write!(f, "line {}: ", self.line)?;
        match self.smiles.char_indices().nth(SHOWN) {
            None => write!(f, "{}", self.smiles)?,
            Some((cut, _)) => write!(f, "{}… ({} bytes)", &self.smiles[..cut], self.smiles.len())?,
        }
        match &self.verdict {
            Ok(admitted) => write!(
                f,
                ": ok, heavy atoms {}, {}",
                admitted.graph.n_heavy_atoms(),
                admitted.graph.formula()
            ),
            Err(rejection) => write!(f, ": {rejection}"),
        }
    }
}

/// Reads one SMILES per line (blank lines and lines starting with `#` are skipped; a SMILES may
/// be followed by whitespace and a name, which is ignored) and applies [`admit_smiles`] to each.
///
/// # Errors
/// A line that is not UTF-8 is a [`Rejection::Syntax`] verdict on that line, not an error; the
/// only error is the reader's own ([`std::io::Error`], with the line number in its message).
///
/// # Example
/// ```
/// let text = "CCO ethanol\n\n# comment\nC[O-]\n";
/// let verdicts = molgraph::check_smiles_lines(text.as_bytes()).unwrap();
/// assert_eq!(verdicts.len(), 2);
/// assert!(verdicts[0].verdict.is_ok());
/// assert_eq!(verdicts[1].line, 4);
/// ```
pub fn check_smiles_lines(mut reader: impl BufRead) -> std::io::Result<Vec<LineVerdict>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        let n_read = reader.read_until(b'\n', &mut buf).map_err(|err| {
            std::io::Error::new(err.kind(), format!("reading line {}: {err}", line + 1))
        })?;
        if n_read == 0 {
            return Ok(out);
        }
        line += 1;
        let bytes = if line == 1 {
            buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf)
        } else {
            &buf[..]
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            out.push(LineVerdict {
                line,
                smiles: String::new(),
                verdict: Err(Rejection::Syntax {
                    message: "the line is not valid UTF-8".to_owned(),
                }),
            });
            continue;
        };
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let smiles = text.split_whitespace().next().unwrap_or_default();
        out.push(LineVerdict::of(line, smiles));
    }
}

//! Verdicts over many inputs: a [`Tally`] by rejection kind with each rejected input's line and
//! record id, and the line-by-line checker of SMILES lists behind `cargo xtask molecules check`.

use std::{collections::BTreeMap, fmt, io::BufRead};

use crate::{Admitted, Rejection, RejectionKind, admit_smiles};

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

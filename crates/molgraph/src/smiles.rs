//! SMILES reader for the QM9 subset (and, in `smiles/writer.rs`, the writer).
//!
//! Supported: the organic subset `C N O F` and aromatic `c n o`, bracket atoms of C/N/O/F
//! (aromatic or not) with explicit H counts and formal charges (`[NH3+]`, `[nH]`, `[O-]`,
//! `[C-]`), branches, ring closures `0-9` and `%nn`, bond symbols `- = # :` and `/ \` (read as
//! single bonds: stereo is ignored, as are `@` chirality marks and `:n` atom classes), and
//! explicit hydrogen atoms `[H]`, which are folded into their heavy neighbour's hydrogen count.
//! Aromatic input is kekulised by a perfect matching ([`crate::kekule`]). Rejected with a clear
//! error: `.` (disconnected input), other elements, isotopes, `*`, `$`, more than 9 heavy atoms,
//! bracket atoms whose hydrogen count disagrees with their valence.

mod hydrogens;
mod writer;

use crate::{
    Atom, AtomClass, Bond, BondOrder, Error, MAX_ATOMS, MolGraph, Result, SmilesErrorKind, kekule,
};

/// Most explicit hydrogen atoms `[H]` a string may hold: 4 per heavy atom (which also bounds the
/// work of folding them).
const MAX_HYDROGENS: usize = 4 * MAX_ATOMS;

/// Parses a SMILES string into a Kekulé heavy-atom graph with implicit hydrogens.
///
/// Atoms are numbered in order of appearance and bonds are added in order of appearance (a ring
/// bond when it closes). Bracket H counts must equal the count the valence implies
/// ([`MolGraph::implicit_hydrogens`]): radicals and hypervalent bracket atoms are rejected.
/// An explicit hydrogen atom `[H]` must have one single bond to a heavy atom; it is removed and
/// counted as one of that atom's hydrogens, so `[H]C([H])([H])[H]` is methane.
/// Unbracketed atoms are read as written, hypervalent or not (`C(C)(C)(C)(C)C` parses into a
/// graph whose [`MolGraph::validity`] is invalid): the graph is what the string says, and
/// [`crate::admit_smiles`] is the gate that decides whether it is a molecule.
/// Neutral 5-valent N (`N(=O)=O`) is kept as written; [`MolGraph::cleaned_up`] turns it into
/// RDKit's charge-separated form.
///
/// # Errors
/// [`Error::Smiles`] naming the byte position and character for malformed or unsupported input
/// (its [`SmilesErrorKind`] says which kind of problem);
/// [`Error::TooManyAtoms`] past 9 heavy atoms; [`Error::Kekulize`] for aromatic input without a
/// Kekulé structure.
///
/// # Example
/// ```
/// use molgraph::{AtomClass, parse_smiles};
/// let phenol = parse_smiles("Oc1ccccc1").unwrap();
/// assert_eq!(phenol.n_atoms(), 7);
/// assert_eq!(phenol.atoms()[0].class, AtomClass::O);
/// let doubles = phenol.bonds().iter().filter(|b| b.order.value() == 2).count();
/// assert_eq!(doubles, 3);
/// assert!(parse_smiles("c1cccc1").is_err());
/// assert!(parse_smiles("CC.O").is_err());
/// ```
pub fn parse_smiles(smiles: &str) -> Result<MolGraph> {
    Parser::new(smiles).run()
}

/// A bond as written, before aromatic bonds are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BondKind {
    /// No symbol: aromatic between two aromatic atoms, else single.
    Implicit,
    Single,
    Double,
    Triple,
    Aromatic,
}

#[derive(Debug, Clone, Copy)]
struct ParsedAtom {
    atom: Atom,
    aromatic: bool,
    /// H count of a bracket atom; `None` for organic-subset atoms.
    bracket_h: Option<u8>,
    /// An explicit hydrogen atom `[H]` (its `atom` field is unused).
    hydrogen: bool,
    position: usize,
}

#[derive(Debug, Clone, Copy)]
struct OpenRing {
    atom: usize,
    kind: Option<BondKind>,
    position: usize,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    atoms: Vec<ParsedAtom>,
    bonds: Vec<(usize, usize, BondKind)>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            atoms: Vec::new(),
            bonds: Vec::new(),
        }
    }

    fn error<T>(&self, position: usize, reason: impl Into<String>) -> Result<T> {
        self.error_kind(position, SmilesErrorKind::Syntax, reason)
    }

    fn error_kind<T>(
        &self,
        position: usize,
        kind: SmilesErrorKind,
        reason: impl Into<String>,
    ) -> Result<T> {
        Err(Error::Smiles {
            position,
            found: self.text.get(position..).and_then(|s| s.chars().next()),
            reason: reason.into(),
            kind,
        })
    }

    fn n_heavy(&self) -> usize {
        self.atoms.iter().filter(|a| !a.hydrogen).count()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn run(mut self) -> Result<MolGraph> {
        if let Some((idx, _)) = self.text.char_indices().find(|(_, c)| !c.is_ascii()) {
            return self.error(idx, "non-ASCII character");
        }
        let mut prev: Option<usize> = None;
        let mut branches: Vec<(usize, usize, usize)> = Vec::new(); // (atom, position, n_atoms at open)
        let mut pending: Option<(BondKind, usize)> = None;
        let mut rings: Vec<Option<OpenRing>> = vec![None; 100];
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                b'(' => {
                    let Some(atom) = prev else {
                        return self.error(start, "branch opened before any atom");
                    };
                    if pending.is_some() {
                        return self.error(start, "bond symbol before '('");
                    }
                    branches.push((atom, start, self.atoms.len()));
                    self.pos += 1;
                }
                b')' => {
                    let Some((atom, _, n_at_open)) = branches.pop() else {
                        return self.error(start, "unmatched ')'");
                    };
                    if pending.is_some() {
                        return self.error(start, "bond symbol before ')'");
                    }
                    if self.atoms.len() == n_at_open {
                        return self.error(start, "empty branch");
                    }
                    prev = Some(atom);
                    self.pos += 1;
                }
                b'-' | b'=' | b'#' | b':' | b'/' | b'\\' => {
                    if prev.is_none() {
                        return self.error(start, "bond symbol without a preceding atom");
                    }
                    if pending.is_some() {
                        return self.error(start, "two bond symbols in a row");
                    }
                    let kind = match c {
                        b'=' => BondKind::Double,
                        b'#' => BondKind::Triple,
                        b':' => BondKind::Aromatic,
                        // '/' and '\' are single bonds with stereo marks, which a heavy-atom
                        // graph does not keep.
                        _ => BondKind::Single,
                    };
                    pending = Some((kind, start));
                    self.pos += 1;
                }
                b'0'..=b'9' | b'%' => {
                    let Some(atom) = prev else {
                        return self.error(start, "ring-closure digit before any atom");
                    };
                    let before = pending.map_or(start, |(_, p)| p);
                    if before > 0 && matches!(self.bytes[before - 1], b'(' | b')') {
                        return self.error(start, "ring-closure digit must follow an atom");
                    }
                    let number = self.ring_number()?;
                    let kind = pending.take().map(|(k, _)| k);
                    match rings[number].take() {
                        Some(open) => {
                            let kind = match (open.kind, kind) {
                                (Some(a), Some(b)) if a != b => {
                                    return self.error(
                                        start,
                                        format!(
                                            "ring bond {number} has conflicting bond symbols \
                                             (opened at position {})",
                                            open.position
                                        ),
                                    );
                                }
                                (Some(a), _) | (None, Some(a)) => a,
                                (None, None) => BondKind::Implicit,
                            };
                            if open.atom == atom {
                                return self.error(
                                    start,
                                    format!("ring bond {number} closes on its own atom"),
                                );
                            }
                            self.add_bond(open.atom, atom, kind, start)?;
                        }
                        None => {
                            rings[number] = Some(OpenRing {
                                atom,
                                kind,
                                position: start,
                            });
                        }
                    }
                }
                b'.' => {
                    let n_fragments = self.text.bytes().filter(|&b| b == b'.').count() + 1;
                    return self.error_kind(
                        start,
                        SmilesErrorKind::Disconnected { n_fragments },
                        "disconnected structures ('.') are not supported",
                    );
                }
                b'*' => return self.error(start, "wildcard atom '*' is not supported"),
                b'$' => return self.error(start, "quadruple bond '$' is not supported"),
                b'[' | b'A'..=b'Z' | b'a'..=b'z' => {
                    let atom = if c == b'[' {
                        self.bracket_atom()?
                    } else {
                        self.organic_atom()?
                    };
                    if atom.hydrogen && self.atoms.len() - self.n_heavy() == MAX_HYDROGENS {
                        return self.error(
                            start,
                            format!("more than {MAX_HYDROGENS} explicit hydrogen atoms"),
                        );
                    }
                    if !atom.hydrogen && self.n_heavy() == MAX_ATOMS {
                        return Err(Error::TooManyAtoms {
                            count: MAX_ATOMS + 1,
                            max: MAX_ATOMS,
                        });
                    }
                    self.atoms.push(atom);
                    let idx = self.atoms.len() - 1;
                    match (prev, pending.take()) {
                        (Some(p), kind) => self.add_bond(
                            p,
                            idx,
                            kind.map_or(BondKind::Implicit, |(k, _)| k),
                            start,
                        )?,
                        (None, Some((_, bond_pos))) => {
                            return self.error(bond_pos, "bond symbol without a preceding atom");
                        }
                        (None, None) => {}
                    }
                    prev = Some(idx);
                }
                _ => return self.error(start, "unexpected character"),
            }
        }
        let end = self.bytes.len();
        if let Some((_, bond_pos)) = pending {
            return self.error(bond_pos, "bond symbol at end of input");
        }
        if let Some(&(_, position, _)) = branches.last() {
            return self.error(position, "unclosed branch '('");
        }
        if let Some((number, open)) = rings
            .iter()
            .enumerate()
            .find_map(|(n, r)| r.map(|r| (n, r)))
        {
            return self.error(open.position, format!("unclosed ring bond {number}"));
        }
        if self.atoms.is_empty() {
            return self.error(end, "empty SMILES");
        }
        self.build()
    }

    fn ring_number(&mut self) -> Result<usize> {
        let start = self.pos;
        if self.peek() == Some(b'%') {
            let digits = self.bytes.get(self.pos + 1..self.pos + 3);
            match digits {
                Some(d) if d.iter().all(u8::is_ascii_digit) => {
                    self.pos += 3;
                    Ok(usize::from(d[0] - b'0') * 10 + usize::from(d[1] - b'0'))
                }
                _ => self.error(start, "'%' must be followed by two digits"),
            }
        } else {
            let d = self.bytes[self.pos];
            self.pos += 1;
            Ok(usize::from(d - b'0'))
        }
    }

    fn add_bond(&mut self, a: usize, b: usize, kind: BondKind, position: usize) -> Result<()> {
        if self
            .bonds
            .iter()
            .any(|&(x, y, _)| (x == a && y == b) || (x == b && y == a))
        {
            return self.error(position, format!("atoms {a} and {b} are bonded twice"));
        }
        self.bonds.push((a, b, kind));
        Ok(())
    }

    fn organic_atom(&mut self) -> Result<ParsedAtom> {
        let start = self.pos;
        let c = self.bytes[self.pos];
        let (class, aromatic) = match c {
            b'C' if self.bytes.get(self.pos + 1) == Some(&b'l') => {
                return self.error_kind(
                    start,
                    SmilesErrorKind::Element,
                    "element Cl is not supported (QM9 has only C, N, O, F)",
                );
            }
            b'B' if self.bytes.get(self.pos + 1) == Some(&b'r') => {
                return self.error_kind(
                    start,
                    SmilesErrorKind::Element,
                    "element Br is not supported (QM9 has only C, N, O, F)",
                );
            }
            b'C' => (AtomClass::C, false),
            b'N' => (AtomClass::N, false),
            b'O' => (AtomClass::O, false),
            b'F' => (AtomClass::F, false),
            b'c' => (AtomClass::C, true),
            b'n' => (AtomClass::N, true),
            b'o' => (AtomClass::O, true),
            b'B' | b'P' | b'S' | b'I' | b'b' | b'p' | b's' => {
                return self.error_kind(
                    start,
                    SmilesErrorKind::Element,
                    format!(
                        "element {} is not supported (QM9 has only C, N, O, F)",
                        c as char
                    ),
                );
            }
            b'H' => {
                return self.error(
                    start,
                    "hydrogen atoms must be implicit or in brackets of a heavy atom",
                );
            }
            _ => {
                return self.error(
                    start,
                    "unknown element symbol (only C, N, O, F outside brackets)",
                );
            }
        };
        self.pos += 1;
        Ok(ParsedAtom {
            atom: Atom::neutral(class),
            aromatic,
            bracket_h: None,
            hydrogen: false,
            position: start,
        })
    }

    fn bracket_atom(&mut self) -> Result<ParsedAtom> {
        let start = self.pos;
        self.pos += 1; // '['
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return self.error(self.pos, "isotopes are not supported");
        }
        let sym_start = self.pos;
        let first = match self.peek() {
            Some(c) if c.is_ascii_alphabetic() => c,
            _ => return self.error(self.pos, "expected an element symbol after '['"),
        };
        self.pos += 1;
        let mut symbol = String::from(first as char);
        if first.is_ascii_uppercase() {
            while let Some(c) = self.peek().filter(u8::is_ascii_lowercase) {
                symbol.push(c as char);
                self.pos += 1;
            }
        }
        let (class, aromatic) = match symbol.as_str() {
            "C" => (AtomClass::C, false),
            "N" => (AtomClass::N, false),
            "O" => (AtomClass::O, false),
            "F" => (AtomClass::F, false),
            "c" => (AtomClass::C, true),
            "n" => (AtomClass::N, true),
            "o" => (AtomClass::O, true),
            // An explicit hydrogen atom; its class is a placeholder until `build` folds it.
            "H" => (AtomClass::Ghost, false),
            _ => {
                return self.error_kind(
                    sym_start,
                    SmilesErrorKind::Element,
                    format!("element {symbol} is not supported (QM9 has only C, N, O, F)"),
                );
            }
        };
        while self.peek() == Some(b'@') {
            self.pos += 1; // Chirality is ignored: the graph has no stereo.
        }
        let mut h = 0u8;
        if self.peek() == Some(b'H') {
            self.pos += 1;
            h = 1;
            if let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                h = d - b'0';
                self.pos += 1;
            }
        }
        let mut charge: i32 = 0;
        if let Some(sign) = self.peek().filter(|&c| c == b'+' || c == b'-') {
            let unit = if sign == b'+' { 1 } else { -1 };
            self.pos += 1;
            charge = unit;
            if let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                charge = unit * i32::from(d - b'0');
                self.pos += 1;
            } else {
                while self.peek() == Some(sign) {
                    charge += unit;
                    self.pos += 1;
                }
            }
        }
        if self.peek() == Some(b':') {
            self.pos += 1; // Atom-class labels are ignored.
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return self.error(self.pos, "expected atom-class digits after ':'");
            }
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        match self.peek() {
            Some(b']') => self.pos += 1,
            _ => return self.error(self.pos, "expected ']' to close the bracket atom"),
        }
        if class.is_ghost() {
            if h != 0 || charge != 0 {
                return self.error(
                    start,
                    "only neutral hydrogen atoms '[H]' are supported (no [H+], [H-] or [HH])",
                );
            }
            return Ok(ParsedAtom {
                atom: Atom::neutral(AtomClass::Ghost),
                aromatic: false,
                bracket_h: None,
                hydrogen: true,
                position: start,
            });
        }
        let atom = Atom {
            class,
            charge: i8::try_from(charge).unwrap_or(i8::MAX),
        };
        if atom.max_valence().is_none() {
            return self.error_kind(
                start,
                SmilesErrorKind::Charge,
                format!("charge {charge:+} on {symbol} is not supported"),
            );
        }
        Ok(ParsedAtom {
            atom,
            aromatic,
            bracket_h: Some(h),
            hydrogen: false,
            position: start,
        })
    }

    /// Folds explicit hydrogens, resolves aromatic bonds by kekulisation, then checks hydrogen
    /// counts against the valence.
    fn build(mut self) -> Result<MolGraph> {
        let explicit_h = self.fold_hydrogens()?;
        let n = self.atoms.len();
        // Implicit bonds between two aromatic atoms are aromatic.
        let kinds: Vec<BondKind> = self
            .bonds
            .iter()
            .map(|&(a, b, kind)| match kind {
                BondKind::Implicit if self.atoms[a].aromatic && self.atoms[b].aromatic => {
                    BondKind::Aromatic
                }
                BondKind::Implicit => BondKind::Single,
                other => other,
            })
            .collect();
        let mut sigma = vec![0u8; n];
        for (&(a, b, _), kind) in self.bonds.iter().zip(&kinds) {
            let order = match kind {
                BondKind::Double => 2,
                BondKind::Triple => 3,
                _ => 1,
            };
            sigma[a] += order;
            sigma[b] += order;
        }
        let needs_double: Vec<bool> = self
            .atoms
            .iter()
            .enumerate()
            .map(|(i, pa)| {
                if !pa.aromatic {
                    return false;
                }
                let allowed = pa.atom.max_valence().unwrap_or(0);
                let h = pa.bracket_h.unwrap_or(0).saturating_add(explicit_h[i]);
                allowed > sigma[i].saturating_add(h)
            })
            .collect();
        let aromatic_bonds: Vec<(usize, usize)> = self
            .bonds
            .iter()
            .zip(&kinds)
            .filter(|(_, k)| **k == BondKind::Aromatic)
            .map(|(&(a, b, _), _)| (a, b))
            .collect();
        let double = kekule::kekulise(&needs_double, &aromatic_bonds).ok_or_else(|| {
            let positions: Vec<String> = (0..n)
                .filter(|&i| needs_double[i])
                .map(|i| self.atoms[i].position.to_string())
                .collect();
            Error::Kekulize {
                reason: format!(
                    "no alternating single/double bond assignment gives each of the aromatic \
                     atoms at positions [{}] one double bond",
                    positions.join(", ")
                ),
            }
        })?;
        let mut aromatic_iter = double.into_iter();
        let bonds: Vec<Bond> = self
            .bonds
            .iter()
            .zip(&kinds)
            .map(|(&(a, b, _), kind)| {
                let order = match kind {
                    BondKind::Double => BondOrder::Double,
                    BondKind::Triple => BondOrder::Triple,
                    BondKind::Aromatic if aromatic_iter.next() == Some(true) => BondOrder::Double,
                    _ => BondOrder::Single,
                };
                Bond { a, b, order }
            })
            .collect();
        let graph = MolGraph::new(self.atoms.iter().map(|pa| pa.atom).collect(), bonds)?;
        for (i, pa) in self.atoms.iter().enumerate() {
            let bonds = graph.bond_order_sum(i);
            let max = pa.atom.max_valence().unwrap_or(0);
            match pa.bracket_h {
                Some(h) => {
                    let written = h.saturating_add(explicit_h[i]);
                    let implied = graph.implicit_hydrogens(i);
                    if written != implied {
                        let kind = if written > implied {
                            SmilesErrorKind::Hypervalent {
                                atom: i,
                                valence: bonds.saturating_add(written),
                                max,
                            }
                        } else {
                            SmilesErrorKind::Radical {
                                atom: i,
                                written,
                                implied,
                            }
                        };
                        return self.error_kind(
                            pa.position,
                            kind,
                            format!(
                                "bracket atom has {written} H but its charge and bonds imply \
                                 {implied} (radicals and hypervalent atoms are not supported)"
                            ),
                        );
                    }
                }
                None if explicit_h[i] > 0 && bonds.saturating_add(explicit_h[i]) > max => {
                    let valence = bonds.saturating_add(explicit_h[i]);
                    return self.error_kind(
                        pa.position,
                        SmilesErrorKind::Hypervalent {
                            atom: i,
                            valence,
                            max,
                        },
                        format!(
                            "atom has {} explicit H and bond orders {bonds}: valence {valence} \
                             exceeds {max}",
                            explicit_h[i]
                        ),
                    );
                }
                None => {}
            }
        }
        Ok(graph)
    }
}

//! The QM9 property table: SMILES, InChI, atom count and the 15 scalar DFT properties.
//!
//! The file has one header line and one molecule per line, 19 comma-separated columns:
//!
//! ```text
//! gdb_idx,smiles,inchi,n_atoms,A_GHz,B_GHz,C_GHz,mu_D,alpha_bohr3,homo_Ha,lumo_Ha,gap_Ha,
//! r2_bohr2,zpve_Ha,u0_Ha,u298_Ha,h298_Ha,g298_Ha,cv_calmolK
//! ```
//!
//! Fields follow standard CSV quoting (InChI strings contain commas and are quoted; `""` is an
//! escaped quote). A record must fit on one line. Numbers are read with Rust's float parser,
//! which accepts the file's `0.` style; non-finite values are rejected. A UTF-8 byte-order mark
//! and blank lines are accepted. A malformed row is skipped and counted with its line
//! ([`read_csv`] with [`Mode::Lenient`]) or is an error naming the line ([`Mode::Strict`],
//! [`parse_csv`]); a header without records is an error either way. Messages that quote the
//! input quote at most a short prefix of it, with its length ([`quote`]).

use std::io::BufRead;

use crate::error::{Error, Result};

/// One of the 15 scalar properties of QM9, in the file's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// Rotational constant A (GHz).
    A,
    /// Rotational constant B (GHz).
    B,
    /// Rotational constant C (GHz).
    C,
    /// Dipole moment μ (Debye).
    Mu,
    /// Isotropic polarizability α (bohr³).
    Alpha,
    /// Energy of the highest occupied molecular orbital (Hartree).
    Homo,
    /// Energy of the lowest unoccupied molecular orbital (Hartree).
    Lumo,
    /// HOMO-LUMO gap, LUMO − HOMO (Hartree).
    Gap,
    /// Electronic spatial extent ⟨R²⟩ (bohr²).
    R2,
    /// Zero-point vibrational energy (Hartree).
    Zpve,
    /// Internal energy at 0 K (Hartree).
    U0,
    /// Internal energy at 298.15 K (Hartree).
    U298,
    /// Enthalpy at 298.15 K (Hartree).
    H298,
    /// Free energy at 298.15 K (Hartree).
    G298,
    /// Heat capacity at 298.15 K (cal/(mol K)).
    Cv,
}

/// One molecule of QM9.
#[derive(Debug, Clone, PartialEq)]
pub struct Qm9Record {
    /// 1-based line of the record in the file (the header is line 1 when nothing precedes it).
    pub line: usize,
    /// Index `N` of the molecule in the original release (`dsgdb9nsd_N.xyz`), from 1.
    pub gdb_idx: u32,
    /// SMILES string.
    pub smiles: String,
    /// InChI string.
    pub inchi: String,
    /// Number of atoms, hydrogens included.
    pub n_atoms: u32,
    /// The 15 properties in [`Property::ALL`] order; index with [`Qm9Record::get`].
    pub properties: [f64; 15],
}

/// The header of the QM9 CSV: four identifier columns, then the property columns.
pub const HEADER: [&str; 19] = [
    "gdb_idx",
    "smiles",
    "inchi",
    "n_atoms",
    "A_GHz",
    "B_GHz",
    "C_GHz",
    "mu_D",
    "alpha_bohr3",
    "homo_Ha",
    "lumo_Ha",
    "gap_Ha",
    "r2_bohr2",
    "zpve_Ha",
    "u0_Ha",
    "u298_Ha",
    "h298_Ha",
    "g298_Ha",
    "cv_calmolK",
];

/// Number of columns before the first property.
const N_ID_COLUMNS: usize = 4;

impl Property {
    /// All properties, in column order.
    pub const ALL: [Property; 15] = [
        Property::A,
        Property::B,
        Property::C,
        Property::Mu,
        Property::Alpha,
        Property::Homo,
        Property::Lumo,
        Property::Gap,
        Property::R2,
        Property::Zpve,
        Property::U0,
        Property::U298,
        Property::H298,
        Property::G298,
        Property::Cv,
    ];

    /// Position of the property in [`Property::ALL`] and [`Qm9Record::properties`].
    ///
    /// # Example
    ///
    /// ```
    /// use datasets::qm9::Property;
    /// assert_eq!(Property::ALL[Property::Gap.index()], Property::Gap);
    /// ```
    pub fn index(&self) -> usize {
        *self as usize
    }

    /// The column name in the CSV header.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::qm9::Property::Homo.column(), "homo_Ha");
    /// ```
    pub fn column(&self) -> &'static str {
        HEADER[N_ID_COLUMNS + self.index()]
    }

    /// The unit of the property, as written in the dataset's documentation.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::qm9::Property::Cv.unit(), "cal/(mol K)");
    /// ```
    pub fn unit(&self) -> &'static str {
        match self {
            Property::A | Property::B | Property::C => "GHz",
            Property::Mu => "Debye",
            Property::Alpha => "bohr^3",
            Property::R2 => "bohr^2",
            Property::Cv => "cal/(mol K)",
            Property::Homo
            | Property::Lumo
            | Property::Gap
            | Property::Zpve
            | Property::U0
            | Property::U298
            | Property::H298
            | Property::G298 => "Hartree",
        }
    }

    /// A short description of the property.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(datasets::qm9::Property::Mu.description(), "dipole moment");
    /// ```
    pub fn description(&self) -> &'static str {
        match self {
            Property::A => "rotational constant A",
            Property::B => "rotational constant B",
            Property::C => "rotational constant C",
            Property::Mu => "dipole moment",
            Property::Alpha => "isotropic polarizability",
            Property::Homo => "HOMO energy",
            Property::Lumo => "LUMO energy",
            Property::Gap => "HOMO-LUMO gap (LUMO - HOMO)",
            Property::R2 => "electronic spatial extent",
            Property::Zpve => "zero-point vibrational energy",
            Property::U0 => "internal energy at 0 K",
            Property::U298 => "internal energy at 298.15 K",
            Property::H298 => "enthalpy at 298.15 K",
            Property::G298 => "free energy at 298.15 K",
            Property::Cv => "heat capacity at 298.15 K",
        }
    }
}

impl Qm9Record {
    /// The value of property `p`.
    ///
    /// # Example
    ///
    /// ```
    /// use datasets::qm9::{Property, Qm9Record};
    /// let mut properties = [0.0; 15];
    /// properties[Property::Gap.index()] = 0.5;
    /// let record = Qm9Record { line: 2, gdb_idx: 1, smiles: "C".into(), inchi: String::new(), n_atoms: 5, properties };
    /// assert_eq!(record.get(Property::Gap), 0.5);
    /// ```
    pub fn get(&self, p: Property) -> f64 {
        self.properties[p.index()]
    }
}

/// How [`read_csv`] treats a malformed data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Skip the row and record its line and problem in [`Qm9Table::skipped`].
    Lenient,
    /// Stop with [`Error::Csv`] naming the line.
    Strict,
}

/// A data row that [`read_csv`] skipped in [`Mode::Lenient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it (input quoted by [`quote`]).
    pub msg: String,
}

/// The records of a QM9 CSV and the rows skipped on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Qm9Table {
    /// The well-formed records, in file order.
    pub records: Vec<Qm9Record>,
    /// The malformed rows (empty in [`Mode::Strict`]).
    pub skipped: Vec<SkippedRow>,
}

/// Longest prefix of an input value quoted in an error message, in characters.
pub const QUOTE_PREFIX: usize = 40;

/// Quotes `value` for an error message: whole if short, else its first [`QUOTE_PREFIX`]
/// characters followed by `…` and its length in bytes, so a huge field never becomes a huge
/// message.
///
/// # Example
///
/// ```
/// assert_eq!(datasets::qm9::quote("abc"), "\"abc\"");
/// let long = "x".repeat(10_000_000);
/// let quoted = datasets::qm9::quote(&long);
/// assert!(quoted.len() < 80 && quoted.ends_with("(10000000 bytes)"));
/// ```
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_PREFIX) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &value[..cut], value.len()),
    }
}

/// Parses the QM9 CSV strictly: [`read_csv`] in [`Mode::Strict`], returning the records.
///
/// # Errors
///
/// As [`read_csv`], and [`Error::Csv`] for the first malformed row.
///
/// # Example
///
/// ```
/// use datasets::qm9::{self, Property};
/// let csv = format!(
///     "{}\n1,C,InChI=1S/CH4/h1H4,5,157.7118,157.70997,157.70699,0.,13.21,-0.3877,0.1171,\
///      0.5048,35.3641,0.044749,-40.47893,-40.476062,-40.475117,-40.498597,6.469\n",
///     qm9::HEADER.join(","),
/// );
/// let records = qm9::parse_csv(csv.as_bytes())?;
/// assert_eq!((records.len(), records[0].n_atoms), (1, 5));
/// assert_eq!(records[0].get(Property::Mu), 0.0);
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn parse_csv(reader: impl BufRead) -> Result<Vec<Qm9Record>> {
    Ok(read_csv(reader, Mode::Strict)?.records)
}

/// Reads the QM9 CSV: checks the header (the first non-blank line, after an optional UTF-8
/// byte-order mark) against [`HEADER`], then reads one record per non-blank line.
///
/// # Errors
///
/// [`Error::BadHeader`] if the header differs from [`HEADER`] (or is absent), [`Error::NoRecords`]
/// if no record follows it (in [`Mode::Lenient`]: no well-formed one), [`Error::Io`] if the
/// reader fails, and in [`Mode::Strict`] [`Error::Csv`] naming the line and column of a
/// malformed field, a wrong field count, invalid UTF-8 or an unterminated quote.
///
/// # Example
///
/// ```
/// use datasets::qm9::{self, Mode};
/// let row = "1,C,InChI=1S/CH4/h1H4,5,157.7118,157.70997,157.70699,0.,13.21,-0.3877,0.1171,\
///            0.5048,35.3641,0.044749,-40.47893,-40.476062,-40.475117,-40.498597,6.469";
/// let csv = format!("\u{feff}{}\n\n{row}\n2,C,x,5,oops\n", qm9::HEADER.join(","));
/// let table = qm9::read_csv(csv.as_bytes(), Mode::Lenient)?;
/// assert_eq!((table.records.len(), table.records[0].line), (1, 3));
/// assert_eq!(table.skipped[0].line, 4);
/// assert!(qm9::read_csv(csv.as_bytes(), Mode::Strict).is_err());
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn read_csv(mut reader: impl BufRead, mode: Mode) -> Result<Qm9Table> {
    let mut buf = Vec::new();
    let mut fields = Vec::with_capacity(HEADER.len());
    let mut line_no = 0;
    let mut header_seen = false;
    let mut table = Qm9Table {
        records: Vec::new(),
        skipped: Vec::new(),
    };
    while next_line(&mut reader, &mut buf, &mut line_no)? {
        let bytes = if line_no == 1 {
            buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf)
        } else {
            &buf[..]
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row = std::str::from_utf8(bytes)
            .map_err(|err| format!("invalid UTF-8: {err}"))
            .and_then(|line| split_fields(line, &mut fields));
        if !header_seen {
            header_seen = true;
            match row {
                Ok(()) => check_header(&fields)?,
                Err(msg) => return Err(Error::Csv { line: line_no, msg }),
            }
            continue;
        }
        match row.and_then(|()| parse_record(&fields, line_no)) {
            Ok(record) => table.records.push(record),
            Err(msg) if mode == Mode::Lenient => {
                table.skipped.push(SkippedRow { line: line_no, msg })
            }
            Err(msg) => return Err(Error::Csv { line: line_no, msg }),
        }
    }
    if !header_seen {
        return Err(Error::BadHeader {
            column: 1,
            expected: HEADER[0],
            got: "(missing)".to_owned(),
        });
    }
    if table.records.is_empty() {
        return Err(Error::NoRecords {
            skipped: table.skipped.len(),
        });
    }
    Ok(table)
}

/// Reads the next line into `buf` without its line ending; `false` at end of input.
fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, line_no: &mut usize) -> Result<bool> {
    buf.clear();
    let n_read = reader.read_until(b'\n', buf).map_err(|err| Error::Io {
        line: *line_no + 1,
        msg: err.to_string(),
    })?;
    if n_read == 0 {
        return Ok(false);
    }
    *line_no += 1;
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(true)
}

/// Splits one CSV line into fields, undoing standard quoting.
fn split_fields(line: &str, fields: &mut Vec<String>) -> Result<(), String> {
    fields.clear();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "column {}: unterminated quoted field",
                            fields.len() + 1
                        ));
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(ch) => field.push(ch),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(());
                }
                Some(',') => fields.push(field),
                Some(ch) => {
                    return Err(format!(
                        "column {}: unexpected {ch:?} after closing quote",
                        fields.len() + 1
                    ));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(());
                    }
                    Some(',') => break,
                    Some('"') => {
                        return Err(format!(
                            "column {}: quote inside an unquoted field",
                            fields.len() + 1
                        ));
                    }
                    Some(ch) => field.push(ch),
                }
            }
            fields.push(field);
        }
    }
}

fn check_header(fields: &[String]) -> Result<()> {
    for (column, expected) in HEADER.iter().enumerate() {
        match fields.get(column) {
            Some(got) if got == expected => {}
            got => {
                return Err(Error::BadHeader {
                    column: column + 1,
                    expected,
                    got: got.map_or_else(|| "(missing)".to_owned(), |got| quote_bare(got)),
                });
            }
        }
    }
    if let Some(extra) = fields.get(HEADER.len()) {
        return Err(Error::BadHeader {
            column: HEADER.len() + 1,
            expected: "(end of header)",
            got: quote_bare(extra),
        });
    }
    Ok(())
}

fn parse_record(fields: &[String], line: usize) -> Result<Qm9Record, String> {
    if fields.len() != HEADER.len() {
        return Err(format!(
            "expected {} columns, got {}",
            HEADER.len(),
            fields.len()
        ));
    }
    let int = |column: usize| -> Result<u32, String> {
        fields[column]
            .parse()
            .map_err(|_| column_err(column, &fields[column], "not a non-negative integer"))
    };
    let text = |column: usize| -> Result<String, String> {
        if fields[column].is_empty() {
            Err(column_err(column, "", "empty"))
        } else {
            Ok(fields[column].clone())
        }
    };
    let mut properties = [0.0; 15];
    for (slot, column) in properties.iter_mut().zip(N_ID_COLUMNS..) {
        let value: f64 = fields[column]
            .parse()
            .map_err(|_| column_err(column, &fields[column], "not a number"))?;
        if !value.is_finite() {
            return Err(column_err(column, &fields[column], "not finite"));
        }
        *slot = value;
    }
    Ok(Qm9Record {
        line,
        gdb_idx: int(0)?,
        smiles: text(1)?,
        inchi: text(2)?,
        n_atoms: int(3)?,
        properties,
    })
}

fn column_err(column: usize, value: &str, problem: &str) -> String {
    format!(
        "column {} ({}): {} is {problem}",
        column + 1,
        HEADER[column],
        quote(value)
    )
}

/// [`quote`] without the quotation marks, for header names.
fn quote_bare(value: &str) -> String {
    match value.char_indices().nth(QUOTE_PREFIX) {
        None => value.to_owned(),
        Some((cut, _)) => format!("{}… ({} bytes)", &value[..cut], value.len()),
    }
}

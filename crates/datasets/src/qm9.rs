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
//! which accepts the file's `0.` style; non-finite values are rejected.

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
    /// let record = Qm9Record { gdb_idx: 1, smiles: "C".into(), inchi: String::new(), n_atoms: 5, properties };
    /// assert_eq!(record.get(Property::Gap), 0.5);
    /// ```
    pub fn get(&self, p: Property) -> f64 {
        self.properties[p.index()]
    }
}

/// Parses the QM9 CSV: checks the header against [`HEADER`], then reads one record per line.
///
/// # Errors
///
/// [`Error::BadHeader`] if the header differs from [`HEADER`] (or is absent), [`Error::Csv`]
/// naming the line and column for a malformed field, a wrong field count, invalid UTF-8 or an
/// unterminated quote, [`Error::Io`] if the reader fails.
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
pub fn parse_csv(mut reader: impl BufRead) -> Result<Vec<Qm9Record>> {
    let mut buf = Vec::new();
    let mut fields = Vec::with_capacity(HEADER.len());
    let mut line_no = 0;
    let mut records = Vec::new();
    while next_line(&mut reader, &mut buf, &mut line_no)? {
        let line = std::str::from_utf8(&buf).map_err(|err| Error::Csv {
            line: line_no,
            msg: format!("invalid UTF-8: {err}"),
        })?;
        split_fields(line, &mut fields).map_err(|msg| Error::Csv { line: line_no, msg })?;
        if line_no == 1 {
            check_header(&fields)?;
        } else {
            records.push(parse_record(&fields).map_err(|msg| Error::Csv { line: line_no, msg })?);
        }
    }
    if line_no == 0 {
        return Err(Error::BadHeader {
            column: 1,
            expected: HEADER[0],
            got: "(missing)".to_owned(),
        });
    }
    Ok(records)
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
                    got: got.map_or_else(|| "(missing)".to_owned(), Clone::clone),
                });
            }
        }
    }
    if let Some(extra) = fields.get(HEADER.len()) {
        return Err(Error::BadHeader {
            column: HEADER.len() + 1,
            expected: "(end of header)",
            got: extra.clone(),
        });
    }
    Ok(())
}

fn parse_record(fields: &[String]) -> Result<Qm9Record, String> {
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
        gdb_idx: int(0)?,
        smiles: text(1)?,
        inchi: text(2)?,
        n_atoms: int(3)?,
        properties,
    })
}

fn column_err(column: usize, value: &str, problem: &str) -> String {
    format!(
        "column {} ({}): {value:?} is {problem}",
        column + 1,
        HEADER[column]
    )
}

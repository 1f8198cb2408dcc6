//! Errors of the `datasets` crate.

use std::fmt;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while parsing a dataset file.
///
/// Every variant carries what is needed to find the problem in the input: the offending value,
/// the expected one, and the line or record where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input starts with the gzip magic `1f 8b` but does not decompress: a corrupt or
    /// truncated stream, a bad CRC, or trailing garbage after the last member.
    Gzip(String),
    /// An IDX file starts with the wrong magic number.
    BadMagic {
        /// What was being parsed (`"images"` or `"labels"`).
        what: &'static str,
        /// The magic number of that kind of file.
        expected: u32,
        /// The magic number found in the first four bytes.
        got: u32,
    },
    /// The input ends before the header or the data its header announces.
    Truncated {
        /// Which part of the file is short.
        what: &'static str,
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// The input is longer than its header announces.
    TrailingBytes {
        /// Which file kind was being parsed.
        what: &'static str,
        /// Bytes announced by the header (header included).
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// IDX dimensions that cannot describe a dataset: a zero-sized image, a size that overflows
    /// `usize`, or pixels that do not split into whole images.
    BadDims {
        /// What was being built.
        what: &'static str,
        /// The dimensions found, in header order.
        dims: Vec<usize>,
        /// Why they were rejected.
        reason: &'static str,
    },
    /// A file that must be gzip-compressed (its name says `.gz`) does not start with the gzip
    /// magic `1f 8b`.
    NotGzip {
        /// The first bytes found (at most 4).
        first_bytes: Vec<u8>,
    },
    /// A dataset with no items.
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// Images of another shape than the dataset's.
    ShapeMismatch {
        /// The dataset's `(rows, cols)`.
        expected: (usize, usize),
        /// The file's `(rows, cols)`.
        got: (usize, usize),
    },
    /// An image set and a label set do not have the same number of items.
    CountMismatch {
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A line of an EMNIST mapping file is malformed.
    Mapping {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// A label has no class in the mapping or split it is interpreted with.
    LabelOutOfRange {
        /// Index of the item in file order.
        index: usize,
        /// The label found.
        label: u8,
        /// Number of classes of the split; valid labels are below this.
        n_classes: usize,
    },
    /// A class of a balanced view has fewer images than requested.
    MissingClass {
        /// The character the class stands for.
        class: char,
        /// Images of that class present in the input.
        have: usize,
        /// Images requested per class.
        need: usize,
    },
    /// The header line of a CSV file is not the expected one.
    BadHeader {
        /// 1-based column number of the first difference.
        column: usize,
        /// The expected column name (`"(end of header)"` when the header is too long).
        expected: &'static str,
        /// The name found (`"(missing)"` when the header is too short).
        got: String,
    },
    /// A data line of a CSV file is malformed; the message names the column.
    Csv {
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong, including the column number and name.
        msg: String,
    },
    /// A CSV file has a valid header but no (well-formed) record.
    NoRecords {
        /// Malformed rows skipped on the way (0 for a header-only file).
        skipped: usize,
    },
    /// The reader failed.
    Io {
        /// 1-based line number being read when it failed.
        line: usize,
        /// The I/O error's message.
        msg: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Gzip(msg) => write!(f, "gzip stream is corrupt or truncated: {msg}"),
            Error::BadMagic {
                what,
                expected,
                got,
            } => write!(
                f,
                "bad IDX magic {got:#010x}, expected {expected:#010x} ({what})"
            ),
            Error::Truncated {
                what,
                expected,
                got,
            } => write!(f, "truncated {what}: expected {expected} bytes, got {got}"),
            Error::TrailingBytes {
                what,
                expected,
                got,
            } => write!(
                f,
                "trailing bytes after {what}: header announces {expected} bytes, got {got}"
            ),
            Error::BadDims { what, dims, reason } => {
                write!(f, "bad dimensions {dims:?} for {what}: {reason}")
            }
            Error::NotGzip { first_bytes } => write!(
                f,
                "not gzip-compressed although the name says .gz: starts with {first_bytes:02x?}, \
                 not 1f 8b"
            ),
            Error::Empty { what } => write!(f, "empty {what}: no items"),
            Error::ShapeMismatch { expected, got } => write!(
                f,
                "images are {}x{}, the dataset's are {}x{}",
                got.0, got.1, expected.0, expected.1
            ),
            Error::CountMismatch { images, labels } => {
                write!(f, "count mismatch: {images} images but {labels} labels")
            }
            Error::Mapping { line, msg } => write!(f, "mapping line {line}: {msg}"),
            Error::LabelOutOfRange {
                index,
                label,
                n_classes,
            } => write!(
                f,
                "label {label} of item {index} is out of range: the split has {n_classes} classes"
            ),
            Error::MissingClass { class, have, need } => {
                write!(f, "class '{class}' has {have} images, {need} needed")
            }
            Error::BadHeader {
                column,
                expected,
                got,
            } => write!(
                f,
                "bad CSV header: column {column} is {got:?}, expected {expected:?}"
            ),
            Error::Csv { line, msg } => write!(f, "CSV line {line}: {msg}"),
            Error::NoRecords { skipped: 0 } => write!(f, "the CSV has a header but no records"),
            Error::NoRecords { skipped } => write!(
                f,
                "the CSV has no well-formed record ({skipped} malformed rows skipped)"
            ),
            Error::Io { line, msg } => write!(f, "read error at line {line}: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

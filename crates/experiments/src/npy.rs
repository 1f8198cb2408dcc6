//! NumPy's `.npy` format for the arrays an independent implementation exchanges with this one:
//! a writer of version 1.0 files and a strict reader of versions 1.0–3.0, for `int8` and
//! little-endian `float32` arrays in C order.
//!
//! ```text
//! "\x93NUMPY" major minor  header_len (u16 LE; u32 LE from 2.0)  header  data
//! header = "{'descr': '<f4', 'fortran_order': False, 'shape': (600, 9425), }" + spaces + "\n"
//! 10 + header_len ≡ 0 (mod 64)         (numpy's alignment; the reader accepts any)
//! ```
//!
//! The format is documented in NumPy's `numpy.lib.format`. The reader rejects what it does not
//! understand (another dtype, Fortran order, a shape that does not match the data, a truncated
//! or over-long file) with an error that says what was expected, never by panicking.

use anyhow::{Context as _, bail, ensure};

/// The element types this module reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// Signed 8-bit integers (`'|i1'`, NumPy's `int8`).
    I8,
    /// Little-endian IEEE 754 single precision (`'<f4'`, NumPy's `float32`).
    F32,
}

impl Dtype {
    /// The `descr` string NumPy writes for this type.
    pub fn descr(self) -> &'static str {
        match self {
            Dtype::I8 => "|i1",
            Dtype::F32 => "<f4",
        }
    }

    /// NumPy's name of the type (`int8`, `float32`), for messages.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::I8 => "int8",
            Dtype::F32 => "float32",
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::F32 => 4,
        }
    }
}

/// The elements of an array, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `int8` elements.
    I8(Vec<i8>),
    /// `float32` elements.
    F32(Vec<f32>),
}

/// A decoded `.npy` array.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// The shape; its product is the number of elements (1 for a 0-dimensional array).
    pub shape: Vec<usize>,
    /// The elements in C order.
    pub data: Data,
}

impl Array {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self.data {
            Data::I8(_) => Dtype::I8,
            Data::F32(_) => Dtype::F32,
        }
    }
}

/// The bytes of a version 1.0 `.npy` file holding `data` (C order) with `shape`.
///
/// # Panics
/// If the product of `shape` is not `data.len()` (the caller built both).
///
/// # Example
/// ```
/// use experiments::npy;
/// let bytes = npy::write_i8(&[2, 3], &[0, 1, 2, 3, 4, -5]);
/// let array = npy::read(&bytes).unwrap();
/// assert_eq!(array.shape, vec![2, 3]);
/// assert_eq!(array.data, npy::Data::I8(vec![0, 1, 2, 3, 4, -5]));
/// ```
pub fn write_i8(shape: &[usize], data: &[i8]) -> Vec<u8> {
    let mut bytes = header(Dtype::I8, shape, data.len());
    bytes.extend(data.iter().map(|&v| v.to_le_bytes()[0]));
    bytes
}

/// The bytes of a version 1.0 `.npy` file holding `float32` `data` (C order) with `shape`.
///
/// # Panics
/// If the product of `shape` is not `data.len()` (the caller built both).
///
/// # Example
/// ```
/// use experiments::npy;
/// let bytes = npy::write_f32(&[3], &[0.5, -1.0, f32::MAX]);
/// assert_eq!(&bytes[..6], b"\x93NUMPY");
/// assert_eq!(bytes.len() % 64, 12 % 64); // 64-byte header, then 12 bytes of data
/// assert_eq!(npy::read(&bytes).unwrap().data, npy::Data::F32(vec![0.5, -1.0, f32::MAX]));
/// ```
pub fn write_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let mut bytes = header(Dtype::F32, shape, data.len());
    bytes.reserve(4 * data.len());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// Decodes a `.npy` file (versions 1.0, 2.0 and 3.0) holding an `int8` or little-endian
/// `float32` array in C order.
///
/// # Errors
/// A missing magic string, an unknown version, a header that is not NumPy's dictionary, another
/// dtype, `fortran_order: True`, a shape whose size overflows, or data shorter or longer than the
/// shape announces; each message says what was expected and what was found.
pub fn read(bytes: &[u8]) -> anyhow::Result<Array> {
    ensure!(
        bytes.len() >= 10 && &bytes[..6] == MAGIC,
        "not an .npy file: it does not start with the magic string \\x93NUMPY ({} bytes)",
        bytes.len()
    );
    let (major, minor) = (bytes[6], bytes[7]);
    let (header_len, header_start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            ensure!(
                bytes.len() >= 12,
                "truncated .npy header: {} bytes",
                bytes.len()
            );
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (usize::try_from(len).context(".npy header length")?, 12)
        }
        _ => bail!("unsupported .npy version {major}.{minor} (1.0, 2.0 and 3.0 are read)"),
    };
    let data_start = header_start + header_len;
    ensure!(
        bytes.len() >= data_start,
        "truncated .npy header: it announces {header_len} bytes, the file has {} after the preamble",
        bytes.len() - header_start
    );
    let text = std::str::from_utf8(&bytes[header_start..data_start])
        .context("the .npy header is not text")?;
    let (dtype, shape) = parse_header(text)?;
    let n_elements = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .with_context(|| format!("the shape {shape:?} overflows"))?;
    let n_bytes = n_elements
        .checked_mul(dtype.size())
        .with_context(|| format!("the shape {shape:?} overflows"))?;
    let payload = &bytes[data_start..];
    ensure!(
        payload.len() == n_bytes,
        "{} .npy data: shape {shape:?} of {} needs {n_bytes} bytes, the file has {}",
        if payload.len() < n_bytes {
            "truncated"
        } else {
            "over-long"
        },
        dtype.name(),
        payload.len()
    );
    let data = match dtype {
        Dtype::I8 => Data::I8(payload.iter().map(|&b| i8::from_le_bytes([b])).collect()),
        Dtype::F32 => Data::F32(
            payload
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
    };
    Ok(Array { shape, data })
}

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Preamble and padded header of a version 1.0 file.
fn header(dtype: Dtype, shape: &[usize], n_elements: usize) -> Vec<u8> {
    assert_eq!(
        shape.iter().product::<usize>(),
        n_elements,
        "the shape {shape:?} does not hold {n_elements} elements"
    );
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_text}, }}",
        dtype.descr()
    );
    // Pad with spaces so that preamble + header + '\n' is a multiple of 64 bytes.
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let header_len =
        u16::try_from(dict.len()).expect("a header of a few dimensions fits version 1.0's u16");
    let mut bytes = Vec::with_capacity(MAGIC.len() + 4 + dict.len() + dtype.size() * n_elements);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes
}

/// The dtype and shape of NumPy's header dictionary
/// `{'descr': …, 'fortran_order': …, 'shape': (…), }` (keys in any order).
fn parse_header(text: &str) -> anyhow::Result<(Dtype, Vec<usize>)> {
    let body = text
        .trim_end_matches(['\n', ' ', '\0'])
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .with_context(|| format!("the .npy header {text:?} is not a dictionary"))?;
    let value_of = |key: &str| -> anyhow::Result<&str> {
        let quoted = format!("'{key}':");
        let start = body
            .find(&quoted)
            .with_context(|| format!("the .npy header {body:?} has no '{key}'"))?
            + quoted.len();
        Ok(body[start..].trim_start())
    };
    let descr = value_of("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split_once('\''))
        .map(|(d, _)| d)
        .with_context(|| format!("the .npy header's descr is not a string: {descr:?}"))?;
    let dtype = match descr {
        "|i1" | "i1" | "<i1" => Dtype::I8,
        "<f4" => Dtype::F32,
        other => bail!(
            "the .npy dtype is '{other}'; int8 ('|i1') or little-endian float32 ('<f4') is required"
        ),
    };
    let fortran = value_of("fortran_order")?;
    if fortran.starts_with("True") {
        bail!("the .npy array is in Fortran order; C order is required");
    }
    ensure!(
        fortran.starts_with("False"),
        "the .npy header's fortran_order is neither True nor False: {fortran:?}"
    );
    let shape_text = value_of("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(s, _)| s)
        .with_context(|| format!("the .npy header's shape is not a tuple: {shape_text:?}"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<usize>()
                .with_context(|| format!("the .npy shape ({inner}) has a bad dimension {d:?}"))
        })
        .collect::<anyhow::Result<Vec<usize>>>()?;
    Ok((dtype, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2-D array as `numpy.save` writes it (numpy 2.4.6, `np.arange(6, dtype=np.int8).reshape(2, 3)`).
    fn numpy_int8() -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        let mut dict = "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }".to_string();
        dict.push_str(&" ".repeat(118 - dict.len() - 1));
        dict.push('\n');
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(&[0, 1, 2, 3, 4, 5]);
        bytes
    }

    #[test]
    fn round_trips_both_dtypes_and_shapes_of_every_rank() {
        for shape in [vec![], vec![5], vec![2, 3], vec![4, 9, 9], vec![0, 9]] {
            let n: usize = shape.iter().product();
            let ints: Vec<i8> = (0..n).map(|i| (i as i64 * 37 % 256 - 128) as i8).collect();
            let bytes = write_i8(&shape, &ints);
            assert_eq!((bytes.len() - ints.len()) % 64, 0, "header not 64-aligned");
            let array = read(&bytes).unwrap();
            assert_eq!(array.shape, shape);
            assert_eq!(array.dtype(), Dtype::I8);
            assert_eq!(array.data, Data::I8(ints));

            let floats: Vec<f32> = (0..n).map(|i| (i as f32).sin() * 1e-3 - 7.5).collect();
            let array = read(&write_f32(&shape, &floats)).unwrap();
            assert_eq!(array.shape, shape);
            let Data::F32(back) = array.data else {
                panic!("float32 came back as int8")
            };
            assert!(
                back.iter()
                    .zip(&floats)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn writes_what_numpy_writes() {
        assert_eq!(write_i8(&[2, 3], &[0, 1, 2, 3, 4, 5]), numpy_int8());
    }

    #[test]
    fn reads_version_2_and_headers_with_other_key_orders() {
        let dict = "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}\n";
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(&1.5f32.to_le_bytes());
        bytes.extend_from_slice(&(-2.0f32).to_le_bytes());
        let array = read(&bytes).unwrap();
        assert_eq!(array.shape, vec![2]);
        assert_eq!(array.data, Data::F32(vec![1.5, -2.0]));
    }

    #[test]
    fn malformed_files_are_errors_that_say_why() {
        let good = numpy_int8();
        let with_header = |dict: &str| {
            let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
            bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
            bytes.extend_from_slice(dict.as_bytes());
            bytes.extend_from_slice(&[0; 6]);
            bytes
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "magic"),
            (b"PK\x03\x04 not npy".to_vec(), "magic"),
            (
                {
                    let mut b = good.clone();
                    b[6] = 9;
                    b
                },
                "version 9.0",
            ),
            (good[..20].to_vec(), "truncated .npy header"),
            (good[..good.len() - 1].to_vec(), "truncated .npy data"),
            (
                {
                    let mut b = good.clone();
                    b.push(0);
                    b
                },
                "over-long",
            ),
            (
                with_header("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }\n"),
                "'<i8'",
            ),
            (
                with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n"),
                "'>f4'",
            ),
            (
                with_header("{'descr': '|i1', 'fortran_order': True, 'shape': (2, 3), }\n"),
                "Fortran",
            ),
            (
                with_header("{'descr': '|i1', 'shape': (2, 3), }\n"),
                "no 'fortran_order'",
            ),
            (
                with_header("{'descr': '|i1', 'fortran_order': False, 'shape': (2, x), }\n"),
                "bad dimension",
            ),
            (
                with_header("{'descr': '|i1', 'fortran_order': False, 'shape': 6, }\n"),
                "not a tuple",
            ),
            (with_header("'descr': '|i1'\n"), "not a dictionary"),
            (
                with_header(
                    "{'descr': '|i1', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }\n",
                ),
                "overflows",
            ),
        ];
        for (bytes, expected) in cases {
            let err = read(&bytes).expect_err(expected);
            let message = format!("{err:#}");
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn every_prefix_of_a_file_is_an_error_not_a_panic() {
        let bytes = write_f32(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len]).is_err(), "prefix of {len} bytes");
        }
    }
}

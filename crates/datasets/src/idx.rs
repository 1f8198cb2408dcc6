//! IDX image and label files (MNIST, Fashion-MNIST, EMNIST), raw or gzip-compressed.
//!
//! The IDX format is a big-endian header followed by unsigned bytes:
//!
//! ```text
//! images: 00 00 08 03 | n: u32 | rows: u32 | cols: u32 | n·rows·cols pixels, row-major
//! labels: 00 00 08 01 | n: u32 |                         n labels
//! ```
//!
//! The parsers check the magic number, that the dimensions are sane, and that the input holds
//! exactly the bytes its header announces: a short file is [`Error::Truncated`] and a long one
//! [`Error::TrailingBytes`]. Input starting with the gzip magic `1f 8b` is decompressed first
//! (see [`decompress`]).

use std::{borrow::Cow, io::Read};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

mod images;
mod labels;

pub use self::{
    images::Images,
    labels::{LabelledImages, Labels},
};

/// Magic number of an IDX file of unsigned-byte images with three dimensions (`n, rows, cols`).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels with one dimension (`n`).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Decompresses `bytes` if they start with the gzip magic `1f 8b`, else borrows them unchanged.
///
/// Concatenated gzip members are decompressed one after another, as `gunzip` does.
///
/// # Errors
///
/// [`Error::Gzip`] if the gzip stream is truncated, corrupt (bad deflate data or CRC), or
/// followed by bytes that are not another gzip member.
///
/// # Example
///
/// ```
/// let raw = [0u8, 0, 8, 1, 0, 0, 0, 0];
/// assert_eq!(&*datasets::idx::decompress(&raw)?, &raw[..]);
/// let corrupt_gzip = [0x1f, 0x8b, 8, 0, 0, 0];
/// assert!(datasets::idx::decompress(&corrupt_gzip).is_err());
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn decompress(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    if !is_gzip(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(size_hint(bytes));
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|err| Error::Gzip(err.to_string()))?;
    Ok(Cow::Owned(out))
}

/// Parses an IDX image file (magic `0x00000803`, dimensions `n, rows, cols`), raw or gzip.
///
/// # Errors
///
/// [`Error::Gzip`] for a bad gzip stream, [`Error::BadMagic`] for another file kind,
/// [`Error::Truncated`] / [`Error::TrailingBytes`] when the length disagrees with the header,
/// [`Error::BadDims`] for zero-sized images or an overflowing size.
///
/// # Example
///
/// ```
/// let mut file = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
/// file.extend([0, 51, 255, 1, 2, 3]);
/// let images = datasets::idx::parse_images(&file)?;
/// assert_eq!((images.count(), images.rows(), images.cols()), (1, 2, 3));
/// assert_eq!(images.image(0), &[0, 51, 255, 1, 2, 3]);
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn parse_images(bytes: &[u8]) -> Result<Images> {
    let bytes = decompress(bytes)?;
    let dims = parse_header(&bytes, "images", IMAGES_MAGIC, 3)?;
    let (rows, cols) = (dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::BadDims {
            what: "images",
            dims,
            reason: "zero-sized image",
        });
    }
    let data = checked_data(&bytes, "images", &dims)?;
    Images::new(rows, cols, data.to_vec())
}

/// Parses an IDX label file (magic `0x00000801`, dimension `n`), raw or gzip.
///
/// # Errors
///
/// As [`parse_images`], minus the image-size checks.
///
/// # Example
///
/// ```
/// let file = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1];
/// assert_eq!(datasets::idx::parse_labels(&file)?.as_slice(), &[7, 2, 1]);
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn parse_labels(bytes: &[u8]) -> Result<Labels> {
    let bytes = decompress(bytes)?;
    let dims = parse_header(&bytes, "labels", LABELS_MAGIC, 1)?;
    let data = checked_data(&bytes, "labels", &dims)?;
    Ok(Labels::new(data.to_vec()))
}

/// Parses an image file and a label file and pairs them.
///
/// # Errors
///
/// Those of [`parse_images`] and [`parse_labels`], and [`Error::CountMismatch`].
///
/// # Example
///
/// ```
/// let images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 10, 20];
/// let labels = [0, 0, 8, 1, 0, 0, 0, 2, 4, 5];
/// let set = datasets::idx::parse_labelled(&images, &labels)?;
/// assert_eq!((set.len(), set.label(1)), (2, 5));
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn parse_labelled(images: &[u8], labels: &[u8]) -> Result<LabelledImages> {
    LabelledImages::new(parse_images(images)?, parse_labels(labels)?)
}

/// What a dataset's IDX files must hold: image shape and number of classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdxSpec {
    /// Image rows.
    pub rows: usize,
    /// Image columns.
    pub cols: usize,
    /// Number of classes; every label is below it.
    pub n_classes: usize,
}

impl IdxSpec {
    /// MNIST: 28 × 28 digits, 10 classes.
    pub const MNIST: IdxSpec = IdxSpec {
        rows: 28,
        cols: 28,
        n_classes: 10,
    };
    /// Fashion-MNIST: 28 × 28 articles, 10 classes.
    pub const FASHION_MNIST: IdxSpec = IdxSpec::MNIST;
    /// EMNIST ByClass: 28 × 28 characters, 62 classes (digits, upper and lower case).
    pub const EMNIST_BYCLASS: IdxSpec = IdxSpec {
        rows: 28,
        cols: 28,
        n_classes: 62,
    };
    /// EMNIST Balanced (and the balanced-47 view of ByClass): 47 classes.
    pub const EMNIST_BALANCED: IdxSpec = IdxSpec {
        rows: 28,
        cols: 28,
        n_classes: 47,
    };
}

/// Parses an image file and a label file as a dataset of shape `spec`, with every structural
/// check: the checks of [`parse_labelled`], then [`LabelledImages::validate`].
///
/// # Errors
///
/// Those of [`parse_labelled`], [`Error::Empty`], [`Error::ShapeMismatch`] and
/// [`Error::LabelOutOfRange`].
///
/// # Example
///
/// ```
/// use datasets::{Images, Labels, idx::{self, IdxSpec}};
/// let spec = IdxSpec { rows: 1, cols: 2, n_classes: 3 };
/// let images = Images::new(1, 2, vec![0, 9, 8, 7])?.to_idx_bytes();
/// assert!(idx::parse_dataset(&images, &Labels::new(vec![2, 0]).to_idx_bytes(), &spec).is_ok());
/// assert!(idx::parse_dataset(&images, &Labels::new(vec![3, 0]).to_idx_bytes(), &spec).is_err());
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn parse_dataset(images: &[u8], labels: &[u8], spec: &IdxSpec) -> Result<LabelledImages> {
    let set = parse_labelled(images, labels)?;
    set.validate(spec)?;
    Ok(set)
}

/// Checks that `bytes` are a gzip stream (start with `1f 8b`), for files whose name says `.gz`:
/// [`decompress`] passes other input through unchanged, so without this check raw bytes under a
/// `.gz` name would be read silently.
///
/// # Errors
///
/// [`Error::NotGzip`] when the gzip magic is missing.
///
/// # Example
///
/// ```
/// assert!(datasets::idx::require_gzip(&[0x1f, 0x8b, 8]).is_ok());
/// assert!(datasets::idx::require_gzip(&[0, 0, 8, 1]).is_err());
/// ```
pub fn require_gzip(bytes: &[u8]) -> Result<()> {
    if is_gzip(bytes) {
        Ok(())
    } else {
        Err(Error::NotGzip {
            first_bytes: bytes.iter().take(4).copied().collect(),
        })
    }
}

/// Whether `bytes` start with the gzip magic.
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Capacity to reserve for the decompressed output: the gzip trailer's size field (size mod
/// 2³²), capped by deflate's maximum ratio so a corrupt trailer cannot force a huge allocation.
fn size_hint(bytes: &[u8]) -> usize {
    const MAX_DEFLATE_RATIO: usize = 1032;
    let isize_field = match bytes.last_chunk::<4>() {
        Some(tail) => u32::from_le_bytes(*tail) as usize,
        None => 0,
    };
    isize_field.min(bytes.len().saturating_mul(MAX_DEFLATE_RATIO))
}

/// Reads the magic number and `n_dims` big-endian `u32` dimensions.
fn parse_header(bytes: &[u8], what: &'static str, magic: u32, n_dims: usize) -> Result<Vec<usize>> {
    let header_len = 4 + 4 * n_dims;
    let word = |idx: usize| {
        let start = 4 * idx;
        bytes
            .get(start..start + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let truncated = || Error::Truncated {
        what: header_name(what),
        expected: header_len,
        got: bytes.len(),
    };
    let got = word(0).ok_or_else(truncated)?;
    if got != magic {
        return Err(Error::BadMagic {
            what,
            expected: magic,
            got,
        });
    }
    (1..=n_dims)
        .map(|idx| word(idx).map(|dim| dim as usize).ok_or_else(truncated))
        .collect()
}

/// Returns the data after the header, checking its length against the dimensions.
fn checked_data<'a>(bytes: &'a [u8], what: &'static str, dims: &[usize]) -> Result<&'a [u8]> {
    let header_len = 4 + 4 * dims.len();
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &dim| acc.checked_mul(dim))
        .and_then(|data_len| data_len.checked_add(header_len))
        .ok_or_else(|| Error::BadDims {
            what,
            dims: dims.to_vec(),
            reason: "size overflows usize",
        })?;
    if bytes.len() < total {
        return Err(Error::Truncated {
            what: data_name(what),
            expected: total,
            got: bytes.len(),
        });
    }
    if bytes.len() > total {
        return Err(Error::TrailingBytes {
            what: data_name(what),
            expected: total,
            got: bytes.len(),
        });
    }
    Ok(&bytes[header_len..])
}

fn header_name(what: &'static str) -> &'static str {
    if what == "images" {
        "IDX images header"
    } else {
        "IDX labels header"
    }
}

fn data_name(what: &'static str) -> &'static str {
    if what == "images" {
        "IDX images data"
    } else {
        "IDX labels data"
    }
}

fn u32_dim(dim: usize) -> u32 {
    u32::try_from(dim).expect("IDX dimensions are u32; this set is too large for the format")
}

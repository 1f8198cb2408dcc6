//! Parsers for the datasets neuromol uses: IDX image and label files (MNIST, Fashion-MNIST,
//! EMNIST), EMNIST label mappings and its balanced-47 view, and the QM9 property CSV.
//!
//! This crate sits just above `linalg` and below every pipeline. It turns bytes (or a
//! [`std::io::BufRead`]) into typed data: [`Images`], [`Labels`], [`LabelledImages`] and
//! [`qm9::Qm9Record`].
//!
//! **Architecture Invariant:** no I/O. The crate knows no paths, no network and no environment
//! variables; `xtask` finds, downloads and verifies the files and hands their bytes over. So
//! every parser is a pure function of its input, and the tests run on in-memory fixtures.
//!
//! The central design decision is strictness: an input that disagrees with its own header (a
//! short or long IDX file, a wrong magic number, a corrupt gzip stream, a CSV header that is not
//! exactly the expected one) is an [`Error`] that names what was expected and what was found,
//! never a silently shortened dataset and never a panic. Gzip is detected from the input's first
//! two bytes, so callers pass `.gz` and raw files alike.
//!
//! ```
//! use datasets::{idx, Images, Labels, LabelledImages};
//!
//! let images = Images::new(2, 2, vec![0, 255, 255, 0, 9, 9, 9, 9])?;
//! let labels = Labels::new(vec![1, 0]);
//! let set = idx::parse_labelled(&images.to_idx_bytes(), &labels.to_idx_bytes())?;
//! assert_eq!((set.len(), set.n_classes(), set.class_counts()), (2, 2, vec![1, 1]));
//! # Ok::<(), datasets::Error>(())
//! ```

mod error;

pub mod emnist;
pub mod idx;
pub mod qm9;

pub use crate::{
    error::{Error, Result},
    idx::{Images, LabelledImages, Labels},
};

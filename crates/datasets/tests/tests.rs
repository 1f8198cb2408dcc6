//! Integration tests of `datasets`, one module per source file.
#![allow(clippy::unwrap_used)]

mod emnist;
mod idx;
mod qm9;

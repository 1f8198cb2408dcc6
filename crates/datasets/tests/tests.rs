//! Integration tests of `datasets`, one module per source file.
#![allow(clippy::unwrap_used)]

mod corpus;
mod emnist;
mod idx;
mod qm9;

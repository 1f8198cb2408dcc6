//! The paper experiments of neuromol as a library: each experiment is a typed configuration
//! (serde, whose `Default` for a mode is the paper's protocol), a run function and the report it
//! writes.
//!
//! [`reproduce::EXPERIMENTS`] lists them with their names, descriptions, entry points and the
//! repository paths their results depend on; a [`reproduce::Context`] carries a run's seed, mode,
//! options, data root and project root. [`report`] assembles and writes the reports, and
//! [`data`] locates, fetches and verifies the datasets the experiments read.
//! [`molvae_reference`] exports `molvae`'s training inputs for an independent implementation
//! and scores the samples it writes, through the `.npy` codec of [`npy`].
//!
//! `cargo xtask reproduce` parses the command line and calls into this crate.
#![allow(clippy::print_stdout)]

pub mod data;
pub mod report;
pub mod reproduce;
pub mod units;

pub mod molvae_reference;
pub mod npy;

use std::path::PathBuf;

/// The repository root, derived from this crate's manifest directory.
pub(crate) fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the experiments crate lives two levels below the repository root")
        .to_path_buf()
}

//! Integration tests of `cargo xtask`: the built binary run on files written to temporary
//! directories, the way a user runs it on their own data.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod corpus;
mod molecules;
mod user_data;

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::Command,
};

/// What one run of the binary did.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code (`None` when killed by a signal).
    pub(crate) code: Option<i32>,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    /// Standard output and error together, for messages and searches.
    pub(crate) fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Whether the run panicked (exit code 101 or a panic message).
    pub(crate) fn panicked(&self) -> bool {
        self.code == Some(101) || self.stderr.contains("panicked")
    }
}

/// Runs `cargo xtask ARGS` (the built binary) with `NEUROMOL_DATA` unset.
pub(crate) fn xtask<S: AsRef<OsStr>>(args: &[S]) -> Run {
    xtask_with_data_env(None, args)
}

/// Runs `cargo xtask ARGS` with `NEUROMOL_DATA` set to `data_env`, or unset.
pub(crate) fn xtask_with_data_env<S: AsRef<OsStr>>(data_env: Option<&Path>, args: &[S]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    match data_env {
        Some(dir) => command.env("NEUROMOL_DATA", dir),
        None => command.env_remove("NEUROMOL_DATA"),
    };
    let output = command.output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A fresh, empty directory under the system's temporary directory, unique to this process.
pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuromol-xtask-{tag}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `bytes` to `dir/name`, creating `dir`.
pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// The repository root.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

//! `cargo xtask`: the one binary of neuromol.
//!
//! It owns everything that touches the outside world — paths, the command line, downloads, file
//! formats, progress bars and figures — so that the library crates stay pure. Each task is one
//! module: [`reproduce`] runs the paper experiments of the `experiments` crate and writes their
//! reports (and exports `molvae`'s inputs for an independent implementation), [`slurm`] runs
//! one experiment's independent units as a Slurm job array and merges them, [`molvae`] scores
//! samples that implementation wrote, `data` fetches and verifies datasets ([`experiments::data`]), [`tidy`] enforces the repository's structural rules, [`bench`](mod@bench) runs the
//! criterion suite, and [`results`] checks the kept reports against the code and the README.
#![allow(clippy::print_stdout)]

mod bench;
mod molecules;
mod molvae;
mod reproduce;
mod results;
mod slurm;
mod tidy;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// Command-line interface of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Reproduce the papers, manage data, run checks and benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run a paper experiment and write report.md, metrics.csv, config.bin and figures.
    Reproduce(reproduce::Args),
    /// Write (and with --submit, submit) Slurm batch scripts that run an experiment's units as a job array, then merge them into its report.
    Slurm(slurm::Args),
    /// Fetch, verify or locate the datasets.
    Data(experiments::data::Args),
    /// Check molecules (SMILES lists or QM9-style CSVs) against the representation's gate.
    Molecules(molecules::Args),
    /// Work with molvae's samples: `score DIR` scores decoded samples written by another
    /// implementation with molvae's metric code.
    Molvae(molvae::Args),
    /// Check the repository's structural rules (layer table, banned APIs, file headers).
    Tidy,
    /// Run the criterion benchmarks (and, where PyTorch is installed, the side-by-side comparisons).
    Bench(bench::Args),
    /// Check that the kept reports under docs/results/ describe the current code and back every number the README quotes.
    Results(results::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Reproduce(args) => reproduce::run(&args),
        Task::Slurm(args) => slurm::run(&args),
        Task::Data(args) => experiments::data::run(&args),
        Task::Molecules(args) => molecules::run(&args),
        Task::Molvae(args) => molvae::run(&args),
        Task::Tidy => tidy::run(&project_root()),
        Task::Bench(args) => bench::run(&args),
        Task::Results(args) => results::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

/// The repository root, derived from this crate's manifest directory.
fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

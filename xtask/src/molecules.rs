//! `cargo xtask molecules check FILE`: the molecule gate's verdict on each SMILES of a file, so
//! users can check their own molecules before training on them.
//!
//! The file is one SMILES per line (an optional name may follow it), or a QM9-style CSV (its
//! first line is the QM9 header), raw or gzip-compressed. Each line prints `ok` with the
//! heavy-atom count and formula, or the reason the molecule is not admissible; the command exits
//! 0 and ends with the counts by verdict. The decisions are `molgraph::admit_smiles`'s.

use std::{fs, path::PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use datasets::qm9;
use molgraph::{LineVerdict, Tally};

/// Arguments of `cargo xtask molecules`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

/// The `molecules` subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the gate's verdict on each SMILES of FILE (one per line, or a QM9-style CSV).
    Check {
        /// The file (`.gz` allowed).
        file: PathBuf,
        /// For a CSV: stop at the first malformed row instead of skipping it.
        #[arg(long)]
        strict: bool,
    },
}

/// Runs `cargo xtask molecules`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match &args.command {
        Command::Check { file, strict } => {
            let (verdicts, malformed) = check_file(file, *strict)?;
            print!("{}", render(&verdicts, &malformed));
            Ok(())
        }
    }
}

/// One line per verdict, one per malformed row, then `--` and the counts by verdict.
fn render(verdicts: &[LineVerdict], malformed: &[qm9::SkippedRow]) -> String {
    let mut out = String::new();
    let mut tally = Tally::default();
    for verdict in verdicts {
        out.push_str(&format!("{verdict}\n"));
        tally.record(verdict.line, &verdict.smiles, &verdict.verdict);
    }
    for row in malformed {
        out.push_str(&format!(
            "line {}: malformed row skipped: {}\n",
            row.line, row.msg
        ));
    }
    out.push_str("--\n");
    out.push_str(&tally.summary());
    if !malformed.is_empty() {
        out.push_str(&format!("malformed-row {}\n", malformed.len()));
    }
    out
}

/// The verdicts on `file`'s SMILES and, for a CSV, its malformed rows.
fn check_file(
    file: &PathBuf,
    strict: bool,
) -> anyhow::Result<(Vec<LineVerdict>, Vec<qm9::SkippedRow>)> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let content = datasets::idx::decompress(&bytes)
        .with_context(|| format!("decompressing {}", file.display()))?;
    let text_start = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&content);
    let first_line = text_start
        .split(|&b| b == b'\n')
        .find(|line| !line.iter().all(u8::is_ascii_whitespace))
        .unwrap_or_default();
    if first_line.starts_with(b"gdb_idx,") {
        let mode = if strict {
            qm9::Mode::Strict
        } else {
            qm9::Mode::Lenient
        };
        let table = qm9::read_csv(&content[..], mode)
            .with_context(|| format!("reading the QM9 CSV {}", file.display()))?;
        let verdicts = table
            .records
            .iter()
            .map(|record| LineVerdict::of(record.line, &record.smiles))
            .collect();
        Ok((verdicts, table.skipped))
    } else {
        let verdicts = molgraph::check_smiles_lines(&content[..])
            .with_context(|| format!("reading {}", file.display()))?;
        Ok((verdicts, Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smiles_lists_and_qm9_csvs_are_both_checked() {
        let dir = std::env::temp_dir().join(format!("neuromol-molecules-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let list = dir.join("list.smi");
        fs::write(&list, "CCO ethanol\nCFC\n\n[NH4+]\n").unwrap();
        let (verdicts, malformed) = check_file(&list, false).unwrap();
        let ok: Vec<bool> = verdicts.iter().map(|v| v.verdict.is_ok()).collect();
        assert_eq!(ok, vec![true, false, false]);
        assert!(malformed.is_empty());
        let row = "1,C,InChI=1S/CH4/h1H4,5,1,1,1,0.,1,-0.3,0.1,0.5,35,0.04,-40,-40,-40,-40,6";
        let bad = "2,CO(C)C,x,9,1,1,1,0.,1,-0.3,0.1,0.5,35,0.04,-40,-40,-40,-40,6";
        let csv = dir.join("mine.csv");
        fs::write(
            &csv,
            format!("{}\n{row}\n{bad}\n3,C,x\n", qm9::HEADER.join(",")),
        )
        .unwrap();
        let (verdicts, malformed) = check_file(&csv, false).unwrap();
        assert_eq!(
            render(&verdicts, &malformed),
            "line 2: C: ok, heavy atoms 1, CH4\n\
             line 3: CO(C)C: valence: atom 1 has valence 3 > 2\n\
             line 4: malformed row skipped: expected 19 columns, got 3\n\
             --\nok 1\nvalence 1\nmalformed-row 1\n"
        );
        assert_eq!(verdicts.len(), 2);
        assert!(verdicts[0].verdict.is_ok());
        assert_eq!(verdicts[1].line, 3);
        assert_eq!(
            verdicts[1].verdict.as_ref().unwrap_err().kind(),
            molgraph::RejectionKind::Valence
        );
        assert_eq!(malformed.len(), 1);
        assert_eq!(malformed[0].line, 4);
        let err = check_file(&csv, true).unwrap_err();
        assert!(format!("{err:#}").contains("CSV line 4"), "{err:#}");
        fs::remove_dir_all(&dir).unwrap();
    }
}

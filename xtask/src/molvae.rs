//! `cargo xtask molvae score DIR --export EXPORT` and the writing of
//! `cargo xtask reproduce molvae --export-reference DIR`: the files of `molvae`'s exchange with an
//! independent implementation (reference/gsvae/). The formats, the conversion and the metrics are
//! in [`experiments::molvae_reference`]; this module reads and writes the files.

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use experiments::{
    molvae_reference::{self as reference, ReferenceExport, files},
    reproduce::{Context, config::PrintedConfig},
};

/// Arguments of `cargo xtask molvae`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Subcommand)]
enum Command {
    /// Score decoded samples (DIR/samples_atoms.npy, DIR/samples_bonds.npy) with molvae's metric
    /// code: validity and its failures, uniqueness, both novelties against the export's training
    /// SMILES, 3-rings, ring triple bonds, W1 to the export's test molecules. Prints a table and
    /// writes DIR/scores.csv.
    Score {
        /// The directory with samples_atoms.npy and samples_bonds.npy.
        dir: PathBuf,
        /// The export the samples' model was trained on (`reproduce molvae --export-reference`):
        /// its smiles.txt, test_smiles.txt, atoms.npy and bonds.npy are read.
        #[arg(long, value_name = "EXPORT_DIR")]
        export: PathBuf,
    },
}

/// Runs `cargo xtask molvae`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match &args.command {
        Command::Score { dir, export } => score(dir, export),
    }
}

/// Builds `molvae`'s export for `ctx` and writes it into `dir` atomically: the files go to a
/// sibling temporary directory that is renamed to `dir` once complete, so a partial export never
/// looks complete. An existing `dir` is replaced only if it is an export (has meta.json) or empty.
pub(crate) fn export(ctx: &Context, dir: &Path) -> anyhow::Result<()> {
    let export = match ReferenceExport::molvae(ctx) {
        Ok(export) => export,
        Err(err) => {
            if let Some(printed) = err.downcast_ref::<PrintedConfig>() {
                print!("{printed}");
                return Ok(());
            }
            return Err(err.context("exporting molvae's training inputs"));
        }
    };
    let contents = export.files()?;
    write_dir_atomically(dir, &contents)?;
    let (n_features, n) = export.features.shape();
    println!(
        "wrote {}: {n} training molecules × {n_features} features, {} test SMILES, μ = {:?} (constrained; base is μ = 0)",
        dir.display(),
        export.test_smiles.len(),
        export.meta.mu
    );
    Ok(())
}

fn score(dir: &Path, export: &Path) -> anyhow::Result<()> {
    let read = |dir: &Path, name: &str| -> anyhow::Result<Vec<u8>> {
        let path = dir.join(name);
        fs::read(&path).with_context(|| format!("reading {}", path.display()))
    };
    let text = |dir: &Path, name: &str| -> anyhow::Result<String> {
        String::from_utf8(read(dir, name)?)
            .with_context(|| format!("{} is not UTF-8", dir.join(name).display()))
    };
    let samples = reference::decode_samples(
        &read(dir, files::SAMPLES_ATOMS)?,
        &read(dir, files::SAMPLES_BONDS)?,
    )
    .with_context(|| format!("reading the samples in {}", dir.display()))?;
    let train = reference::parse_smiles_list(files::SMILES, &text(export, files::SMILES)?)
        .with_context(|| format!("reading the export {}", export.display()))?;
    let test = reference::parse_smiles_list(files::TEST_SMILES, &text(export, files::TEST_SMILES)?)
        .with_context(|| format!("reading the export {}", export.display()))?;
    reference::check_export_graphs(
        &train,
        &read(export, files::ATOMS)?,
        &read(export, files::BONDS)?,
    )
    .with_context(|| format!("checking the export {}", export.display()))?;
    let scores = reference::score(&samples, &train, &test)?;
    let out = dir.join(files::SCORES);
    let tmp = out.with_extension("csv.tmp");
    fs::write(&tmp, scores.to_csv()).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{} samples from {}, scored against {} training and {} test molecules of {}\n",
        samples.len(),
        dir.display(),
        train.len(),
        test.len(),
        export.display()
    );
    print!("{}", scores.to_table());
    println!("\nwrote {}", out.display());
    Ok(())
}

/// Writes `contents` as the files of `dir` through a sibling temporary directory and a rename.
fn write_dir_atomically(dir: &Path, contents: &[(&str, Vec<u8>)]) -> anyhow::Result<()> {
    if dir.exists() {
        let is_export = dir.join(files::META).exists();
        let is_empty = fs::read_dir(dir)
            .with_context(|| format!("listing {}", dir.display()))?
            .next()
            .is_none();
        if !is_export && !is_empty {
            bail!(
                "{} exists and is not an export (no {}); not replacing it",
                dir.display(),
                files::META
            );
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = dir
        .file_name()
        .with_context(|| format!("{} has no directory name", dir.display()))?
        .to_string_lossy()
        .into_owned();
    let partial = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if partial.exists() {
        fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let written = contents.iter().try_for_each(|(file, bytes)| {
        let path = partial.join(file);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    });
    if let Err(err) = written {
        let _ = fs::remove_dir_all(&partial);
        return Err(err);
    }
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("replacing {}", dir.display()))?;
    }
    fs::rename(&partial, dir)
        .with_context(|| format!("moving {} to {}", partial.display(), dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_exports_but_not_other_directories() {
        let root = std::env::temp_dir().join(format!("xtask-molvae-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let dir = root.join("export");
        write_dir_atomically(&dir, &[("meta.json", b"{}".to_vec()), ("a", vec![1])]).unwrap();
        write_dir_atomically(&dir, &[("meta.json", b"{}".to_vec())]).unwrap();
        assert!(!dir.join("a").exists(), "the old export was not replaced");
        let other = root.join("other");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("notes.txt"), "keep").unwrap();
        let err = write_dir_atomically(&other, &[("meta.json", b"{}".to_vec())]).unwrap_err();
        assert!(err.to_string().contains("not an export"));
        assert!(other.join("notes.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(&root).unwrap();
    }
}

//! `cargo xtask data`: find, fetch and verify the datasets.
//!
//! Data live under a root as `<root>/<dataset>/<file>`, the layout of the shared mirror. The root
//! is chosen by this lookup order, the first one given wins:
//!
//! 1. `--data DIR` on the command line;
//! 2. the `NEUROMOL_DATA` environment variable;
//! 3. the user cache directory, `$XDG_CACHE_HOME/neuromol` or `~/.cache/neuromol`.
//!
//! An explicitly named root (1 or 2) is authoritative: a dataset missing there is an error that says
//! which files to put where; only the cache directory is filled by downloading. `require` is the
//! entry point for experiments; `fetch`, `verify` and `where` are the subcommands.

mod check;
pub(crate) use check::sha256_hex;
mod download;
mod registry;

use std::{
    fmt,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};

use crate::data::{
    check::FileCheck,
    registry::{DatasetSpec, Fetch},
};

/// Arguments of `cargo xtask data`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data root (overrides NEUROMOL_DATA and the cache directory).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// The `data` subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Download missing files from their canonical URLs (sha256-verified).
    Fetch {
        /// Only this dataset (default: all that can be downloaded).
        #[arg(long)]
        dataset: Option<Dataset>,
    },
    /// Check every file: present, checksum, and structure (parses as the experiments read it).
    Verify {
        /// Only this dataset (default: all).
        #[arg(long)]
        dataset: Option<Dataset>,
    },
    /// Print the lookup order and where each dataset resolves to.
    Where,
}

/// A dataset neuromol knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub(crate) enum Dataset {
    /// MNIST digits (train 60,000 + test 10,000).
    Mnist,
    /// Fashion-MNIST (train 60,000 + test 10,000).
    FashionMnist,
    /// EMNIST ByClass and EMNIST-MNIST test splits.
    Emnist,
    /// QM9 properties CSV and geometries.
    Qm9,
    /// Omniglot small background sets and the 20-run one-shot benchmark.
    Omniglot,
}

impl Dataset {
    /// Every dataset, in registry order.
    pub(crate) const ALL: [Dataset; 5] = [
        Dataset::Mnist,
        Dataset::FashionMnist,
        Dataset::Emnist,
        Dataset::Qm9,
        Dataset::Omniglot,
    ];

    /// The directory name under the data root: "mnist", "fashion-mnist", "emnist", "qm9", "omniglot".
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::FashionMnist => "fashion-mnist",
            Dataset::Emnist => "emnist",
            Dataset::Qm9 => "qm9",
            Dataset::Omniglot => "omniglot",
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dataset found and verified on disk.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// The dataset directory, `<root>/<dataset>`.
    pub(crate) dir: PathBuf,
    /// Every file of the dataset as `(file name, sha256 hex)`, in registry order. The sha256 is the
    /// one that was verified, of the decompressed content for gzip files (so it is the same for an
    /// official download and the mirror's copy) and of the file itself otherwise.
    pub(crate) files: Vec<(String, String)>,
    /// Files with no known checksum, accepted after their structural checks because the user
    /// named the data directory with `--data`.
    pub(crate) user_data: Vec<String>,
}

/// Finds `dataset` by the lookup order and verifies every file's checksum and structure.
///
/// When the root is the cache directory (neither `--data` nor `NEUROMOL_DATA` given), missing files
/// are downloaded into it first. An explicit root is never written to: missing files there are an
/// error.
///
/// # Errors
///
/// Missing files (listing which, and the directory to put them in, plus why the download failed
/// when offline), a dataset that cannot be downloaded automatically (EMNIST, QM9: the error says
/// where to get it), or any file failing its checksum or structural check (one line per problem,
/// naming the file).
pub(crate) fn require(dataset: Dataset, data_arg: Option<&Path>) -> anyhow::Result<Located> {
    let root = Root::resolve(data_arg)?;
    let spec = registry::spec(dataset);
    let dir = root.dir.join(dataset.name());
    let missing = missing_files(spec, &dir);
    if !missing.is_empty() {
        let listing = missing_listing(&missing, &dir, &root);
        if root.source != Source::Cache {
            bail!("{listing}");
        }
        if let Fetch::Manual(how) = spec.fetch {
            bail!("{listing}\n{dataset} cannot be downloaded automatically: {how}");
        }
        for file in spec
            .files
            .iter()
            .filter(|file| missing.contains(&file.name))
        {
            eprintln!("fetching {dataset}/{} into {}", file.name, dir.display());
            download::fetch_file(file, &dir).with_context(|| listing.clone())?;
        }
    }
    let checks = check::check_dataset(spec, &dir);
    // Deviation: under `--data DIR`, a file that is not the shipped one is the user's own data:
    // accepted once its structure checks pass, and reported as such.
    let accept_user_data = root.source == Source::Arg;
    let problems: Vec<String> = checks
        .iter()
        .filter(|check| !(accept_user_data && check.is_user_data()))
        .flat_map(|check| problem_lines(check, &dir))
        .collect();
    let user_data = checks
        .iter()
        .filter(|check| check.is_user_data())
        .map(|check| check.name.to_owned())
        .collect();
    if !problems.is_empty() {
        bail!(
            "{dataset} in {} failed verification:\n  {}",
            dir.display(),
            problems.join("\n  ")
        );
    }
    let files = checks
        .into_iter()
        .map(|check| {
            let sha = check
                .sha256
                .expect("a file that passed verification has its sha256");
            (check.name.to_owned(), sha)
        })
        .collect();
    Ok(Located {
        dir,
        files,
        user_data,
    })
}

/// Runs `cargo xtask data ...`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let root = Root::resolve(args.data.as_deref())?;
    match args.command {
        Command::Fetch { dataset } => fetch(&root, dataset),
        Command::Verify { dataset } => verify(&root, dataset),
        Command::Where => {
            print_where(&root, args.data.as_deref());
            Ok(())
        }
    }
}

/// Where a data root came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `--data DIR`.
    Arg,
    /// `NEUROMOL_DATA`.
    Env,
    /// The user cache directory.
    Cache,
}

/// The data root in use and where it came from.
#[derive(Debug)]
struct Root {
    dir: PathBuf,
    source: Source,
}

impl Root {
    /// Applies the lookup order.
    fn resolve(data_arg: Option<&Path>) -> anyhow::Result<Root> {
        if let Some(dir) = data_arg {
            return Ok(Root {
                dir: dir.to_path_buf(),
                source: Source::Arg,
            });
        }
        if let Some(dir) = env_data() {
            return Ok(Root {
                dir,
                source: Source::Env,
            });
        }
        Ok(Root {
            dir: cache_dir()?,
            source: Source::Cache,
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Arg => "--data",
            Source::Env => "NEUROMOL_DATA",
            Source::Cache => "the user cache directory",
        })
    }
}

/// `NEUROMOL_DATA`, when set and not empty.
fn env_data() -> Option<PathBuf> {
    std::env::var_os("NEUROMOL_DATA")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// `$XDG_CACHE_HOME/neuromol`, else `$HOME/.cache/neuromol`.
fn cache_dir() -> anyhow::Result<PathBuf> {
    let nonempty = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(cache) = nonempty("XDG_CACHE_HOME") {
        return Ok(cache.join("neuromol"));
    }
    match nonempty("HOME") {
        Some(home) => Ok(home.join(".cache").join("neuromol")),
        None => bail!(
            "no data root: pass --data DIR, set NEUROMOL_DATA, or set HOME or XDG_CACHE_HOME for the cache"
        ),
    }
}

/// The registry names of `spec`'s files that are not in `dir`.
fn missing_files(spec: &DatasetSpec, dir: &Path) -> Vec<&'static str> {
    spec.files
        .iter()
        .filter(|file| !dir.join(file.name).is_file())
        .map(|file| file.name)
        .collect()
}

/// "mnist: 2 files missing from DIR (root from --data): a, b. Put them there, or ..."
fn missing_listing(missing: &[&str], dir: &Path, root: &Root) -> String {
    let hint = match root.source {
        Source::Cache => {
            "run `cargo xtask data fetch` with internet access, or copy them there".to_owned()
        }
        Source::Arg | Source::Env => format!(
            "copy them there (from the shared mirror or a download), or run `cargo xtask data fetch --data {}`",
            root.dir.display()
        ),
    };
    format!(
        "{} file(s) missing from {} (data root chosen by {}): {}; {hint}",
        missing.len(),
        dir.display(),
        root.source,
        missing.join(", ")
    )
}

/// One error line per problem of a file, naming the file.
fn problem_lines(check: &FileCheck, dir: &Path) -> Vec<String> {
    if !check.present {
        return vec![format!(
            "{}: missing (expected at {})",
            check.name,
            dir.join(check.name).display()
        )];
    }
    check
        .checksum_mismatch
        .iter()
        .chain(&check.problems)
        .map(|problem| format!("{}: {problem}", check.name))
        .collect()
}

/// The datasets selected by `--dataset` (all when not given).
fn selected(dataset: Option<Dataset>) -> Vec<Dataset> {
    dataset.map_or_else(|| Dataset::ALL.to_vec(), |dataset| vec![dataset])
}

/// `data fetch`: downloads every missing file of the selected datasets into the root in use.
fn fetch(root: &Root, dataset: Option<Dataset>) -> anyhow::Result<()> {
    let mut failures = Vec::new();
    for dataset in selected(dataset) {
        let spec = registry::spec(dataset);
        let dir = root.dir.join(dataset.name());
        let missing = missing_files(spec, &dir);
        if missing.is_empty() {
            println!(
                "{dataset}: all {} files present in {}",
                spec.files.len(),
                dir.display()
            );
            continue;
        }
        if let Fetch::Manual(how) = spec.fetch {
            failures.push(format!(
                "{dataset}: cannot be downloaded automatically; missing {} in {}. {how}",
                missing.join(", "),
                dir.display()
            ));
            continue;
        }
        for file in spec
            .files
            .iter()
            .filter(|file| missing.contains(&file.name))
        {
            match download::fetch_file(file, &dir) {
                Ok(sha) => println!("{dataset}/{}: downloaded, sha256 {sha}", file.name),
                Err(err) => failures.push(format!("{dataset}/{}: {err:#}", file.name)),
            }
        }
    }
    if failures.is_empty() {
        println!("done; run `cargo xtask data verify` to check structure as well");
        Ok(())
    } else {
        bail!("{} problem(s):\n{}", failures.len(), failures.join("\n"))
    }
}

/// `data verify`: reports every file, then fails if any had a problem.
fn verify(root: &Root, dataset: Option<Dataset>) -> anyhow::Result<()> {
    println!(
        "data root: {} (chosen by {})",
        root.dir.display(),
        root.source
    );
    let mut problems = Vec::new();
    for dataset in selected(dataset) {
        let spec = registry::spec(dataset);
        let dir = root.dir.join(dataset.name());
        println!("{dataset} ({})", dir.display());
        for check in check::check_dataset(spec, &dir) {
            if check.is_ok() {
                let summary = check.summary.as_deref().unwrap_or("");
                let sha = check.sha256.as_deref().unwrap_or("");
                println!(
                    "  ok       {:<45} checksum ok, {summary} (sha256 {sha})",
                    check.name
                );
            } else if root.source == Source::Arg && check.is_user_data() {
                let summary = check.summary.as_deref().unwrap_or("");
                let sha = check.sha256.as_deref().unwrap_or("");
                println!(
                    "  user     {:<45} user data (no known checksum), structure ok: {summary} (sha256 {sha})",
                    check.name
                );
            } else {
                let lines = problem_lines(&check, &dir);
                for line in &lines {
                    println!("  FAILED   {line}");
                }
                problems.extend(lines.into_iter().map(|line| format!("{dataset}/{line}")));
            }
        }
    }
    if problems.is_empty() {
        println!("all files verified");
        Ok(())
    } else {
        bail!(
            "{} problem(s) found:\n  {}",
            problems.len(),
            problems.join("\n  ")
        )
    }
}

/// `data where`: the lookup order and each dataset's directory and completeness.
fn print_where(root: &Root, data_arg: Option<&Path>) {
    let show = |path: Option<PathBuf>| {
        path.map_or_else(|| "not set".to_owned(), |p| p.display().to_string())
    };
    println!("lookup order (the first one given wins):");
    println!(
        "  1. --data DIR        {}",
        show(data_arg.map(Path::to_path_buf))
    );
    println!("  2. NEUROMOL_DATA     {}", show(env_data()));
    println!(
        "  3. user cache dir    {}",
        cache_dir().map_or_else(
            |err| format!("unavailable ({err})"),
            |dir| dir.display().to_string()
        )
    );
    println!(
        "data root in use: {} (chosen by {})",
        root.dir.display(),
        root.source
    );
    for dataset in Dataset::ALL {
        let spec = registry::spec(dataset);
        let dir = root.dir.join(dataset.name());
        let missing = missing_files(spec, &dir);
        let state = if missing.is_empty() {
            format!("all {} files present", spec.files.len())
        } else {
            format!("{} of {} files missing", missing.len(), spec.files.len())
        };
        println!("  {:<14} {}  ({state})", dataset.name(), dir.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_names_match_clap_values() {
        for dataset in Dataset::ALL {
            let value = dataset.to_possible_value().unwrap();
            assert_eq!(value.get_name(), dataset.name());
        }
    }

    #[test]
    fn explicit_root_wins_and_missing_files_are_listed() {
        let dir = std::env::temp_dir().join(format!("neuromol-require-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("mnist")).unwrap();
        let err = format!("{:#}", require(Dataset::Mnist, Some(&dir)).unwrap_err());
        assert!(err.contains("4 file(s) missing"), "{err}");
        assert!(err.contains("train-images-idx3-ubyte.gz"), "{err}");
        assert!(err.contains("--data"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_files_fail_require_naming_each_file() {
        let dir = std::env::temp_dir().join(format!("neuromol-require-bad-{}", std::process::id()));
        let mnist = dir.join("mnist");
        std::fs::create_dir_all(&mnist).unwrap();
        for file in registry::spec(Dataset::Mnist).files {
            // Gzip magic followed by garbage: a truncated, corrupt stream.
            std::fs::write(mnist.join(file.name), [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
        }
        let err = format!("{:#}", require(Dataset::Mnist, Some(&dir)).unwrap_err());
        assert!(err.contains("failed verification"), "{err}");
        for file in registry::spec(Dataset::Mnist).files {
            assert!(
                err.contains(&format!("{}: not a valid gzip file", file.name)),
                "{err}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A gzip stream holding `data` in one stored (uncompressed) deflate block.
    fn gzip_stored(data: &[u8]) -> Vec<u8> {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let len = u16::try_from(data.len()).unwrap();
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255, 1];
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(data);
        out.extend((!crc).to_le_bytes());
        out.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
        out
    }

    /// A data directory holding the 10-image MNIST fixture under every MNIST name, with the
    /// label of item 3 set to `label`.
    fn user_mnist(tag: &str, label: u8) -> PathBuf {
        user_mnist_with(tag, &|_, labels| labels[8 + 3] = label, false)
    }

    /// A data directory holding the 10-image MNIST fixture under every MNIST name, its raw
    /// images and labels changed by `edit` and written gzip-compressed (raw if `raw`).
    fn user_mnist_with(tag: &str, edit: &dyn Fn(&mut Vec<u8>, &mut Vec<u8>), raw: bool) -> PathBuf {
        let fixtures = crate::project_root().join("crates/datasets/tests/fixtures");
        let read = |name: &str| {
            let bytes = std::fs::read(fixtures.join(name)).unwrap();
            datasets::idx::decompress(&bytes).unwrap().into_owned()
        };
        let mut images = read("mnist-t10k-10-images-idx3-ubyte.gz");
        let mut labels = read("mnist-t10k-10-labels-idx1-ubyte.gz");
        edit(&mut images, &mut labels);
        let pack = |bytes: &[u8]| {
            if raw {
                bytes.to_vec()
            } else {
                // Stored blocks hold at most 65,535 bytes each: one member per chunk.
                bytes
                    .chunks(60_000)
                    .flat_map(gzip_stored)
                    .collect::<Vec<u8>>()
            }
        };
        let (images, labels) = (pack(&images), pack(&labels));
        let dir = std::env::temp_dir().join(format!("neuromol-user-{tag}-{}", std::process::id()));
        let mnist = dir.join("mnist");
        std::fs::create_dir_all(&mnist).unwrap();
        for (name, bytes) in [
            ("train-images-idx3-ubyte.gz", &images),
            ("train-labels-idx1-ubyte.gz", &labels),
            ("t10k-images-idx3-ubyte.gz", &images),
            ("t10k-labels-idx1-ubyte.gz", &labels),
        ] {
            std::fs::write(mnist.join(name), bytes).unwrap();
        }
        dir
    }

    #[test]
    fn bad_user_data_is_refused_naming_file_and_problem() {
        type Edit = fn(&mut Vec<u8>, &mut Vec<u8>);
        let cases: [(&str, Edit, bool, &str); 6] = [
            (
                "label",
                |_, l| l[8 + 9] = 10,
                false,
                "labels-idx1-ubyte.gz: structure: label 10 of item 9",
            ),
            (
                "shape",
                |i, _| {
                    i[11] = 14;
                    i[15] = 56;
                },
                false,
                "images-idx3-ubyte.gz: structure: images are 14x56",
            ),
            (
                "count",
                |_, l| {
                    l.pop();
                    l[7] = 9;
                },
                false,
                "count mismatch: 10 images but 9 labels",
            ),
            (
                "empty",
                |i, l| {
                    i.truncate(16);
                    i[7] = 0;
                    l.truncate(8);
                    l[7] = 0;
                },
                false,
                "structure: empty IDX dataset",
            ),
            (
                "truncated",
                |i, _| {
                    i.pop();
                },
                false,
                "truncated IDX images data",
            ),
            (
                "raw",
                |_, _| {},
                true,
                "images-idx3-ubyte.gz: not a valid gzip file",
            ),
        ];
        for (tag, edit, raw, expected) in cases {
            let dir = user_mnist_with(tag, &edit, raw);
            let err = format!("{:#}", require(Dataset::Mnist, Some(&dir)).unwrap_err());
            assert!(err.contains(expected), "{tag}: {err}");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn user_data_is_accepted_after_structural_checks() {
        let dir = user_mnist("ok", 7);
        let located = require(Dataset::Mnist, Some(&dir)).unwrap();
        assert_eq!(located.user_data.len(), 4);
        // The recorded sha256 is the decompressed content's, as for shipped files.
        let labels_sha = &located.files[1].1;
        assert_eq!(labels_sha.len(), 64);
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = user_mnist("bad", 200);
        let err = format!("{:#}", require(Dataset::Mnist, Some(&dir)).unwrap_err());
        assert!(
            err.contains("train-labels-idx1-ubyte.gz: structure: label 200 of item 3"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

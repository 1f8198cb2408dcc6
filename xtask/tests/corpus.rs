//! The malformed-input corpus of `datasets` (its `tests/corpus/inputs.rs`, included here) run
//! through `cargo xtask` with a user data directory, where no file has a known checksum: each IDX
//! input is written as one split of a dataset and checked by `data verify --data DIR`, and each
//! CSV is written as QM9's properties file and checked by `data verify` and by `molecules check`
//! (lenient and `--strict`). Every case must end with its expected verdict — accepted as user
//! data, rows skipped and listed by line, or an error naming the file and the record — and no run
//! may panic.

#[path = "../../crates/datasets/tests/corpus/inputs.rs"]
mod inputs;

use std::{collections::BTreeMap, ffi::OsStr, path::Path};

use datasets::idx::IdxSpec;

use crate::{Run, temp_dir, write, xtask};
use inputs::{CorpusCase, Input, Verdict, gzip};

const IMAGES_GZ: &[u8] =
    include_bytes!("../../crates/datasets/tests/fixtures/mnist-t10k-10-images-idx3-ubyte.gz");
const LABELS_GZ: &[u8] =
    include_bytes!("../../crates/datasets/tests/fixtures/mnist-t10k-10-labels-idx1-ubyte.gz");
/// Output longer than this means a message quoted its input whole.
const MAX_OUTPUT: usize = 64 * 1024;

/// Where an IDX pair goes in a data directory: the dataset, the names the case's images and
/// labels are written under, and the dataset's other files (valid, so that only the case's
/// files can fail).
struct Layout {
    dataset: &'static str,
    images: &'static str,
    labels: &'static str,
    others: Vec<(&'static str, Vec<u8>)>,
}

/// The layout for a pair read as `spec`, or `None` where no registry file is read that way (the
/// balanced view of EMNIST is derived from ByClass in memory).
fn layout(spec: IdxSpec) -> Option<Layout> {
    let mapping = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|label| format!("{label} {}\n", 48 + label))
            .collect::<String>()
            .into_bytes()
    };
    if spec == IdxSpec::MNIST {
        Some(Layout {
            dataset: "mnist",
            images: "train-images-idx3-ubyte.gz",
            labels: "train-labels-idx1-ubyte.gz",
            others: vec![
                ("t10k-images-idx3-ubyte.gz", IMAGES_GZ.to_vec()),
                ("t10k-labels-idx1-ubyte.gz", LABELS_GZ.to_vec()),
            ],
        })
    } else if spec == IdxSpec::EMNIST_BYCLASS {
        Some(Layout {
            dataset: "emnist",
            images: "emnist-byclass-test-images-idx3-ubyte.gz",
            labels: "emnist-byclass-test-labels-idx1-ubyte.gz",
            others: vec![
                ("emnist-byclass-mapping.txt", mapping(62)),
                ("emnist-mnist-test-images-idx3-ubyte.gz", IMAGES_GZ.to_vec()),
                ("emnist-mnist-test-labels-idx1-ubyte.gz", LABELS_GZ.to_vec()),
                ("emnist-mnist-mapping.txt", mapping(10)),
            ],
        })
    } else {
        None
    }
}

/// The file's bytes as written under a `.gz` name: gzip streams as they are, raw content
/// compressed.
fn as_gz(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        bytes.to_vec()
    } else {
        gzip(bytes)
    }
}

/// The text an error of `kind` naming `locus` shows in xtask's output.
fn fragment(kind: &str, locus: Option<usize>) -> String {
    match (kind, locus) {
        ("Gzip", _) => "gzip stream is corrupt or truncated".to_owned(),
        ("BadMagic", _) => "bad IDX magic".to_owned(),
        ("Truncated", _) => "truncated".to_owned(),
        ("TrailingBytes", _) => "trailing bytes".to_owned(),
        ("BadDims", _) => "bad dimensions".to_owned(),
        ("NotGzip", _) => "not a valid gzip file".to_owned(),
        ("Empty", _) => "empty".to_owned(),
        ("ShapeMismatch", _) => "images are".to_owned(),
        ("CountMismatch", _) => "count mismatch".to_owned(),
        ("LabelOutOfRange", Some(item)) => format!("of item {item} is out of range"),
        ("BadHeader", Some(column)) => format!("bad CSV header: column {column} is"),
        ("Csv", Some(line)) => format!("CSV line {line}:"),
        ("NoRecords", Some(0)) => "the CSV has a header but no records".to_owned(),
        ("NoRecords", Some(skipped)) => format!("({skipped} malformed rows skipped)"),
        other => panic!("the corpus has no verdict {other:?}"),
    }
}

/// Problems common to every run: a panic, an exit code other than 0 or 2, unbounded output.
fn run_problems(what: &str, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    if run.panicked() {
        problems.push(format!("{what}: panicked: {}", run.stderr));
    } else if !matches!(run.code, Some(0 | 2)) {
        problems.push(format!("{what}: exit code {:?}", run.code));
    }
    let len = run.stdout.len() + run.stderr.len();
    if len > MAX_OUTPUT {
        problems.push(format!("{what}: {len} bytes of output"));
    }
    problems
}

/// `data verify` on a dataset whose files `name` and `partner` hold the case: accepted as user
/// data, or failed naming one of them with the expected problem, and nothing else failed.
fn check_idx_verify(run: &Run, expected: &Verdict, name: &str, partner: &str) -> Vec<String> {
    let mut problems = run_problems("data verify", run);
    let out = run.output();
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.trim_start().starts_with("FAILED"))
        .collect();
    match expected {
        Verdict::Accept(n) => {
            let user_line = run.stdout.lines().find(|line| {
                line.trim_start().starts_with(&format!("user     {name}"))
                    && line.contains(&format!("structure ok: {n} "))
            });
            if run.code != Some(0) || user_line.is_none() || !failed.is_empty() {
                problems.push(format!(
                    "expected {name} accepted as user data, got:\n{out}"
                ));
            }
        }
        Verdict::Error(kind, locus) => {
            let fragment = fragment(kind, *locus);
            let named = failed.iter().any(|line| {
                (line.contains(name) || line.contains(partner)) && line.contains(&fragment)
            });
            let only_case = failed
                .iter()
                .all(|line| line.contains(name) || line.contains(partner));
            if run.code != Some(2) || !named || !only_case {
                problems.push(format!(
                    "expected a failure of {name} or {partner} showing {fragment:?}, got:\n{out}"
                ));
            }
        }
        Verdict::Skip { .. } => problems.push("IDX inputs are never skipped".to_owned()),
    }
    problems
}

/// `data verify` of QM9 with the case as its properties file.
fn check_csv_verify(run: &Run, expected: &Verdict) -> Vec<String> {
    let mut problems = run_problems("data verify", run);
    let out = run.output();
    let user_line = run
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("user     qm9_props.csv.gz"));
    let ok = match expected {
        Verdict::Accept(n) => {
            run.code == Some(0)
                && user_line.is_some_and(|line| {
                    line.contains(&format!("structure ok: {n} molecules (sha256"))
                })
        }
        Verdict::Skip { kept, lines } => {
            let summary = format!(
                "structure ok: {kept} molecules, {} malformed rows skipped (first: line {}: ",
                lines.len(),
                lines[0]
            );
            run.code == Some(0) && user_line.is_some_and(|line| line.contains(&summary))
        }
        Verdict::Error(kind, locus) => {
            let fragment = fragment(kind, *locus);
            run.code == Some(2)
                && run.stdout.lines().any(|line| {
                    line.trim_start()
                        .starts_with("FAILED   qm9_props.csv.gz: not a valid QM9 CSV: ")
                        && line.contains(&fragment)
                })
        }
    };
    if !ok {
        problems.push(format!("data verify: expected {expected:?}, got:\n{out}"));
    }
    problems
}

/// `molecules check [--strict]` of the case's CSV.
fn check_molecules(run: &Run, expected: &Verdict, what: &str) -> Vec<String> {
    let mut problems = run_problems(what, run);
    let out = run.output();
    let verdict_lines = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("line ") && !line.contains(": malformed row skipped: "))
        .count();
    let ok = match expected {
        Verdict::Accept(n) => {
            run.code == Some(0) && verdict_lines == *n && !run.stdout.contains("malformed")
        }
        Verdict::Skip { kept, lines } => {
            run.code == Some(0)
                && verdict_lines == *kept
                && lines.iter().all(|line| {
                    run.stdout
                        .contains(&format!("line {line}: malformed row skipped: "))
                })
                && run
                    .stdout
                    .ends_with(&format!("malformed-row {}\n", lines.len()))
        }
        Verdict::Error(kind, locus) => {
            run.code == Some(2)
                && run.stderr.contains("qm9_props.csv.gz")
                && run.stderr.contains(&fragment(kind, *locus))
        }
    };
    if !ok {
        problems.push(format!("{what}: expected {expected:?}, got:\n{out}"));
    }
    problems
}

/// Whether `molecules check` reads `bytes` as a QM9-style CSV (its first non-blank line, after
/// a byte-order mark, starts with QM9's first column); other files are SMILES lists.
fn is_qm9_style(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    text.split(|&b| b == b'\n')
        .find(|line| !line.iter().all(u8::is_ascii_whitespace))
        .is_some_and(|line| line.starts_with(b"gdb_idx,"))
}

/// Runs one case in the fresh data directory `root`; `None` when no xtask path reads it.
fn run_case(case: &CorpusCase, root: &Path) -> Option<Vec<String>> {
    let verify = |dataset: &str| {
        let args: [&OsStr; 6] = [
            "data".as_ref(),
            "verify".as_ref(),
            "--data".as_ref(),
            root.as_os_str(),
            "--dataset".as_ref(),
            dataset.as_ref(),
        ];
        xtask(&args)
    };
    match &case.input {
        Input::Pair {
            images,
            labels,
            spec,
        } => {
            let layout = layout(*spec)?;
            let dir = root.join(layout.dataset);
            write(&dir, layout.images, &as_gz(images));
            write(&dir, layout.labels, &as_gz(labels));
            for (name, bytes) in &layout.others {
                write(&dir, name, bytes);
            }
            let run = verify(layout.dataset);
            Some(check_idx_verify(
                &run,
                &case.expected,
                layout.images,
                layout.labels,
            ))
        }
        Input::GzName(bytes) => {
            // Raw IDX content under the `.gz` name of the file it is.
            let layout = layout(IdxSpec::MNIST).expect("MNIST has a layout");
            let dir = root.join(layout.dataset);
            let is_images = bytes.get(..4) == Some(&[0, 0, 8, 3][..]);
            let (name, partner) = if is_images {
                (layout.images, layout.labels)
            } else {
                (layout.labels, layout.images)
            };
            write(&dir, name, bytes);
            let partner_bytes = if is_images { LABELS_GZ } else { IMAGES_GZ };
            write(&dir, partner, partner_bytes);
            for (other, other_bytes) in &layout.others {
                write(&dir, other, other_bytes);
            }
            let run = verify(layout.dataset);
            Some(check_idx_verify(&run, &case.expected, name, name))
        }
        Input::Csv(bytes) => {
            let dir = root.join("qm9");
            write(&dir, "qm9_props.csv.gz", &gzip(bytes));
            write(
                &dir,
                "qm9_geometries.xyz.gz",
                &gzip(b"1\nmethane\nC 0.0 0.0 0.0 -0.5\n"),
            );
            let mut problems = check_csv_verify(&verify("qm9"), &case.expected);
            if is_qm9_style(bytes) {
                let file = dir.join("qm9_props.csv.gz");
                let lenient =
                    xtask::<&OsStr>(&["molecules".as_ref(), "check".as_ref(), file.as_os_str()]);
                problems.extend(check_molecules(&lenient, &case.expected, "molecules check"));
                let strict = xtask::<&OsStr>(&[
                    "molecules".as_ref(),
                    "check".as_ref(),
                    "--strict".as_ref(),
                    file.as_os_str(),
                ]);
                problems.extend(check_molecules(
                    &strict,
                    &case.strict,
                    "molecules check --strict",
                ));
            }
            Some(problems)
        }
    }
}

#[test]
fn corpus_through_xtask_with_a_user_data_directory() {
    let cases = inputs::corpus();
    let mut failures = Vec::new();
    let mut counts = BTreeMap::<&str, usize>::new();
    let (mut n_idx, mut n_csv, mut n_api_only) = (0, 0, 0);
    for (case_idx, case) in cases.iter().enumerate() {
        let root = temp_dir(&format!("corpus-{case_idx}"));
        match run_case(case, &root) {
            None => n_api_only += 1,
            Some(problems) => {
                if matches!(case.input, Input::Csv(_)) {
                    n_csv += 1;
                } else {
                    n_idx += 1;
                }
                *counts.entry(case.expected.class()).or_default() += 1;
                failures.extend(
                    problems
                        .into_iter()
                        .map(|problem| format!("{}: {problem}", case.name)),
                );
            }
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
    let count = |class| counts.get(class).copied().unwrap_or(0);
    println!(
        "corpus through cargo xtask (user data directory, no known checksums): {} cases \
         ({n_idx} IDX/gzip by data verify, {n_csv} CSV by data verify and molecules check); \
         accept {}, skip {}, error {}; {} panics; {n_api_only} cases of the EMNIST balanced view \
         are read by no xtask command (public API only)",
        n_idx + n_csv,
        count("accept"),
        count("skip"),
        count("error"),
        failures.iter().filter(|f| f.contains("panicked")).count()
    );
    assert!(n_idx + n_csv >= 150, "{} cases", n_idx + n_csv);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

//! A seeded corpus of malformed inputs (`corpus/inputs.rs`), run through the public readers the
//! way a user's own files are read: truncated, corrupted and mislabelled IDX and gzip files, and
//! QM9 CSVs with bad headers, encodings, quoting and values. Every case has an expected verdict
//! (accept, skip with the skipped lines, or an error naming its kind and the record), and no case
//! may panic.

mod inputs;

use std::panic::AssertUnwindSafe;

use datasets::{
    Error,
    idx::{self, IdxSpec},
    qm9::{self, Mode},
};
use proptest::prelude::*;

use inputs::{Input, Verdict};

fn error_verdict(err: &Error) -> Verdict {
    let (name, locus) = match err {
        Error::Gzip(_) => ("Gzip", None),
        Error::BadMagic { .. } => ("BadMagic", None),
        Error::Truncated { .. } => ("Truncated", None),
        Error::TrailingBytes { .. } => ("TrailingBytes", None),
        Error::BadDims { .. } => ("BadDims", None),
        Error::NotGzip { .. } => ("NotGzip", None),
        Error::Empty { .. } => ("Empty", None),
        Error::ShapeMismatch { .. } => ("ShapeMismatch", None),
        Error::CountMismatch { .. } => ("CountMismatch", None),
        Error::Mapping { line, .. } => ("Mapping", Some(*line)),
        Error::LabelOutOfRange { index, .. } => ("LabelOutOfRange", Some(*index)),
        Error::MissingClass { .. } => ("MissingClass", None),
        Error::BadHeader { column, .. } => ("BadHeader", Some(*column)),
        Error::Csv { line, .. } => ("Csv", Some(*line)),
        Error::NoRecords { skipped } => ("NoRecords", Some(*skipped)),
        Error::Io { line, .. } => ("Io", Some(*line)),
    };
    // Messages quote at most a short prefix of the input.
    assert!(err.to_string().len() < 300, "{err}");
    Verdict::Error(name, locus)
}

/// A CSV read in `mode`, as a verdict.
fn read_csv(bytes: &[u8], mode: Mode) -> Verdict {
    match qm9::read_csv(bytes, mode) {
        Ok(table) if table.skipped.is_empty() => Verdict::Accept(table.records.len()),
        Ok(table) => Verdict::Skip {
            kept: table.records.len(),
            lines: table.skipped.iter().map(|row| row.line).collect(),
        },
        Err(err) => error_verdict(&err),
    }
}

/// The verdicts of `input` read through the public API: (lenient, strict).
fn run(input: &Input) -> (Verdict, Verdict) {
    match input {
        Input::Pair {
            images,
            labels,
            spec,
        } => {
            let verdict = match idx::parse_dataset(images, labels, spec) {
                Ok(set) => Verdict::Accept(set.len()),
                Err(err) => error_verdict(&err),
            };
            (verdict.clone(), verdict)
        }
        Input::GzName(bytes) => {
            let verdict = match idx::require_gzip(bytes) {
                Ok(()) => Verdict::Accept(bytes.len()),
                Err(err) => error_verdict(&err),
            };
            (verdict.clone(), verdict)
        }
        Input::Csv(bytes) => (
            read_csv(bytes, Mode::Lenient),
            read_csv(bytes, Mode::Strict),
        ),
    }
}

#[test]
fn corpus_verdicts_hold_and_nothing_panics() {
    let cases = inputs::corpus();
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut n_csv = 0;
    for case in &cases {
        n_csv += usize::from(matches!(case.input, Input::Csv(_)));
        match std::panic::catch_unwind(AssertUnwindSafe(|| run(&case.input))) {
            Ok(got) if got == (case.expected.clone(), case.strict.clone()) => {}
            Ok((lenient, strict)) => failures.push(format!(
                "{}: expected {:?} (strict {:?}), got {lenient:?} (strict {strict:?})",
                case.name, case.expected, case.strict
            )),
            Err(_) => failures.push(format!("{}: panicked", case.name)),
        }
        *counts.entry(case.expected.class()).or_default() += 1;
    }
    println!(
        "corpus through the public API: {} cases ({} IDX/gzip + {n_csv} CSV); accept {}, skip {}, \
         error {}; {} panics",
        cases.len(),
        cases.len() - n_csv,
        counts.get("accept").unwrap_or(&0),
        counts.get("skip").unwrap_or(&0),
        counts.get("error").unwrap_or(&0),
        failures.iter().filter(|f| f.ends_with("panicked")).count()
    );
    assert!(cases.len() >= 150, "{} cases", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the header and labels claim, a loaded dataset satisfies its spec.
    #[test]
    fn loaded_datasets_satisfy_their_spec(
        n in 0u32..4,
        rows in 0u32..30,
        cols in 0u32..30,
        labels in proptest::collection::vec(any::<u8>(), 0..4),
    ) {
        let n_pixels = (n * rows * cols) as usize;
        let mut images: Vec<u8> = [0x0803u32, n, rows, cols]
            .iter()
            .flat_map(|word| word.to_be_bytes())
            .collect();
        images.extend(vec![7; n_pixels]);
        let mut label_file = vec![0, 0, 8, 1];
        label_file.extend((labels.len() as u32).to_be_bytes());
        label_file.extend(&labels);
        if let Ok(set) = idx::parse_dataset(&images, &label_file, &IdxSpec::MNIST) {
            prop_assert!(!set.is_empty());
            prop_assert_eq!((set.images().rows(), set.images().cols()), (28, 28));
            prop_assert!(set.labels().as_slice().iter().all(|&l| l < 10));
        }
    }
}

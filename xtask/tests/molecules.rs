//! `cargo xtask molecules check` against RDKit: on the SMILES corpus
//! (`crates/molgraph/tests/fixtures/smiles_corpus.csv`) and on QM9, whose RDKit verdicts are in
//! `crates/molgraph/tests/fixtures/qm9_rdkit_verdicts.csv` (every QM9 record RDKit refuses or that
//! breaks the representation's limits). Both fixtures were made with RDKit by the scripts next
//! to them.

use std::collections::{BTreeMap, BTreeSet};

use crate::{temp_dir, write, xtask};

const SMILES_CORPUS: &str = include_str!("../../crates/molgraph/tests/fixtures/smiles_corpus.csv");
const QM9_VERDICTS: &str =
    include_str!("../../crates/molgraph/tests/fixtures/qm9_rdkit_verdicts.csv");
const QM9_SAMPLE: &str = include_str!("../../crates/molgraph/tests/fixtures/qm9_rdkit.csv");

/// One line of `molecules check`'s output: the file line, the SMILES and the verdict (`ok` or
/// a rejection kind's name).
#[derive(Debug, PartialEq, Eq)]
struct Printed {
    line: usize,
    smiles: String,
    verdict: String,
}

/// Runs `molecules check` on `file` and parses its verdict lines and final counts.
fn check(file: &std::path::Path) -> (Vec<Printed>, BTreeMap<String, usize>) {
    let run =
        xtask::<&std::ffi::OsStr>(&["molecules".as_ref(), "check".as_ref(), file.as_os_str()]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    let (body, counts) = run.stdout.split_once("--\n").unwrap();
    let printed = body
        .lines()
        .map(|text| {
            let rest = text.strip_prefix("line ").unwrap();
            let (line, rest) = rest.split_once(": ").unwrap();
            let (smiles, verdict) = rest.rsplit_once(": ok, ").map_or_else(
                || {
                    // `SMILES: kind: detail`; SMILES hold no ": ".
                    let (smiles, rest) = rest.split_once(": ").unwrap();
                    (smiles, rest.split(':').next().unwrap())
                },
                |(smiles, _)| (smiles, "ok"),
            );
            Printed {
                line: line.parse().unwrap(),
                smiles: smiles.to_owned(),
                verdict: verdict.to_owned(),
            }
        })
        .collect();
    let counts = counts
        .lines()
        .map(|line| {
            let (kind, count) = line.rsplit_once(' ').unwrap();
            (kind.to_owned(), count.parse().unwrap())
        })
        .collect();
    (printed, counts)
}

/// The count of each verdict among `printed`.
fn tally(printed: &[Printed]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for p in printed {
        *counts.entry(p.verdict.clone()).or_default() += 1;
    }
    counts
}

#[test]
fn molecules_check_agrees_with_rdkit_on_the_smiles_corpus() {
    let rows: Vec<Vec<&str>> = SMILES_CORPUS
        .lines()
        .skip(1)
        .map(|line| line.split(',').collect())
        .collect();
    // The empty SMILES is a blank line in a list; the gate's own test covers it.
    let listed: Vec<&Vec<&str>> = rows.iter().filter(|row| !row[0].is_empty()).collect();
    let dir = temp_dir("smiles-corpus");
    let text: String = listed.iter().map(|row| format!("{}\n", row[0])).collect();
    write(&dir, "corpus.smi", text.as_bytes());
    let (printed, counts) = check(&dir.join("corpus.smi"));
    assert_eq!(printed.len(), listed.len());
    let mut failures = Vec::new();
    for (idx, (p, row)) in printed.iter().zip(&listed).enumerate() {
        let (smiles, expected) = (row[0], row[2]);
        let (rdkit_sanitises, rdkit_admissible) = (row[3] == "1", row[4] == "1");
        assert_eq!((p.line, p.smiles.as_str()), (idx + 1, smiles));
        if p.verdict != expected {
            failures.push(format!(
                "{smiles}: expected {expected}, printed {}",
                p.verdict
            ));
        }
        if (p.verdict == "ok") != rdkit_admissible {
            failures.push(format!(
                "{smiles}: printed {}, RDKit admissible = {rdkit_admissible}",
                p.verdict
            ));
        }
        if p.verdict == "ok" && !rdkit_sanitises {
            failures.push(format!("{smiles}: ok, but RDKit refuses it"));
        }
    }
    assert_eq!(counts, tally(&printed));
    println!(
        "SMILES corpus through molecules check: {} cases; {counts:?}",
        printed.len()
    );
    assert!(printed.len() >= 150);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The QM9 verdict fixture's rows as `(line, SMILES, broken limit)`, and its record count.
fn qm9_verdicts() -> (Vec<(usize, String, String)>, usize) {
    let mut lines = QM9_VERDICTS.lines();
    let comment = lines.next().unwrap();
    let n_records: usize = comment
        .strip_prefix("# records ")
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        lines.next(),
        Some("line,gdb_idx,smiles,rdkit_sanitises,broken_limit")
    );
    let rows = lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                fields[0].parse().unwrap(),
                fields[2].to_owned(),
                fields[4].to_owned(),
            )
        })
        .collect();
    (rows, n_records)
}

/// The gate's rejection kind for a limit RDKit's verdict says a molecule breaks.
fn kind_of(limit: &str) -> &'static str {
    match limit {
        "element" => "element",
        "size" => "too-many-atoms",
        "fragments" => "disconnected",
        "charge" => "charged",
        "radical" => "radical",
        // RDKit refuses to sanitise it: any rejection.
        _ => "any",
    }
}

/// The QM9 sample of the RDKit fixture and every QM9 molecule RDKit's verdicts exclude, checked
/// without the data: the sample's molecules are admitted exactly when they are not among the
/// excluded, and each excluded molecule is refused for the limit it breaks.
#[test]
fn molecules_check_agrees_with_rdkit_on_qm9_molecules() {
    let (excluded, _) = qm9_verdicts();
    let excluded_smiles: BTreeMap<&str, &str> = excluded
        .iter()
        .map(|(_, smiles, limit)| (smiles.as_str(), kind_of(limit)))
        .collect();
    let sample: Vec<&str> = QM9_SAMPLE
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap())
        .collect();
    let smiles: BTreeSet<&str> = sample
        .iter()
        .copied()
        .chain(excluded_smiles.keys().copied())
        .collect();
    let dir = temp_dir("qm9-molecules");
    let text: String = smiles.iter().map(|s| format!("{s}\n")).collect();
    write(&dir, "qm9.smi", text.as_bytes());
    let (printed, counts) = check(&dir.join("qm9.smi"));
    assert_eq!(printed.len(), smiles.len());
    let mut failures = Vec::new();
    for p in &printed {
        match excluded_smiles.get(p.smiles.as_str()) {
            None if p.verdict != "ok" => failures.push(format!(
                "{}: RDKit admits it, molecules check says {}",
                p.smiles, p.verdict
            )),
            Some(&kind) if p.verdict == "ok" || (kind != "any" && p.verdict != kind) => failures
                .push(format!(
                    "{}: RDKit's verdict {kind}, molecules check says {}",
                    p.smiles, p.verdict
                )),
            _ => {}
        }
    }
    println!(
        "QM9 molecules (fixture sample and RDKit's exclusions) through molecules check: {} \
         molecules; {counts:?}",
        printed.len()
    );
    assert!(excluded_smiles.len() >= 400 && sample.len() >= 2_000);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// All of QM9, when the data are present (`$NEUROMOL_DATA/qm9/qm9_props.csv.gz`): the lines
/// `molecules check` refuses are exactly those RDKit's verdicts exclude, each for its limit.
#[test]
fn molecules_check_agrees_with_rdkit_on_all_of_qm9() {
    let Some(file) = std::env::var_os("NEUROMOL_DATA")
        .map(|root| std::path::PathBuf::from(root).join("qm9/qm9_props.csv.gz"))
        .filter(|file| file.is_file())
    else {
        println!(
            "skipped: all-of-QM9 agreement needs $NEUROMOL_DATA/qm9/qm9_props.csv.gz \
             (the QM9 molecules of the fixtures are checked without it)"
        );
        return;
    };
    let (excluded, n_records) = qm9_verdicts();
    let (printed, counts) = check(&file);
    if printed.len() != n_records {
        println!(
            "skipped: {} holds {} records, the RDKit verdicts were made from {n_records}",
            file.display(),
            printed.len()
        );
        return;
    }
    let refused: BTreeMap<usize, &str> = printed
        .iter()
        .filter(|p| p.verdict != "ok")
        .map(|p| (p.line, p.verdict.as_str()))
        .collect();
    let expected: BTreeMap<usize, &str> = excluded
        .iter()
        .map(|(line, _, limit)| (*line, kind_of(limit)))
        .collect();
    let mut failures = Vec::new();
    for line in refused
        .keys()
        .chain(expected.keys())
        .collect::<BTreeSet<_>>()
    {
        match (refused.get(line), expected.get(line)) {
            (Some(ours), Some(&rdkit)) if rdkit == "any" || *ours == rdkit => {}
            (ours, rdkit) => failures.push(format!(
                "line {line}: molecules check {ours:?}, RDKit {rdkit:?}"
            )),
        }
    }
    println!(
        "all of QM9 through molecules check: {} records; {counts:?}",
        printed.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

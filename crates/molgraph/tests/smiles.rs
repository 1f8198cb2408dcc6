//! Tests of the SMILES reader and writer: RDKit parity on the fixture, error reporting, no
//! panics on arbitrary input, and writer round trips.

use molgraph::{AtomClass, Error, MolGraph, Validity, parse_smiles};
use proptest::prelude::*;

use crate::fixture;

#[test]
fn parsing_matches_rdkit_on_the_whole_fixture() {
    let records = fixture();
    let mut failures = Vec::new();
    let mut aromatic_failures = Vec::new();
    for r in &records {
        let graph = match parse_smiles(&r.smiles) {
            Ok(g) => g.cleaned_up(),
            Err(e) => {
                failures.push(format!("line {} {}: {e}", r.line, r.smiles));
                continue;
            }
        };
        if graph.atoms() != r.atoms.as_slice() {
            failures.push(format!("line {} {}: atoms differ", r.line, r.smiles));
            continue;
        }
        let aromatic = graph.aromatic_bonds();
        if graph.bonds().len() != r.bonds.len() {
            failures.push(format!("line {} {}: bond count differs", r.line, r.smiles));
            continue;
        }
        for &(a, b, order, rdkit_aromatic) in &r.bonds {
            let idx = graph
                .bonds()
                .iter()
                .position(|x| (x.a == a && x.b == b) || (x.a == b && x.b == a));
            // Kekulé structures of an aromatic ring may differ: compare orders elsewhere.
            let ok =
                idx.is_some_and(|idx| rdkit_aromatic || graph.bonds()[idx].order.value() == order);
            if !ok {
                failures.push(format!(
                    "line {} {}: bond {a}-{b} differs",
                    r.line, r.smiles
                ));
            }
            if idx.is_some_and(|idx| aromatic[idx] != rdkit_aromatic) {
                aromatic_failures.push(format!("line {} {}: bond {a}-{b}", r.line, r.smiles));
            }
        }
    }
    println!(
        "parsing: {} of {} records agree with RDKit",
        records.len() - failures.len(),
        records.len()
    );
    assert!(
        failures.is_empty(),
        "parse mismatches:\n{}",
        failures.join("\n")
    );
    // Aromaticity (used by TPSA, LogP and the aromatic canonical form) is a model of RDKit's,
    // not a parse result: it must agree on at least 99 % of the bonds; failures are printed.
    let n_bonds: usize = records.iter().map(|r| r.bonds.len()).sum();
    let rate = 1.0 - aromatic_failures.len() as f64 / n_bonds as f64;
    println!(
        "aromatic flags: {:.3} % of {n_bonds} bonds agree with RDKit",
        100.0 * rate
    );
    for f in &aromatic_failures {
        println!("  tolerated aromaticity difference: {f}");
    }
    assert!(rate >= 0.99, "aromaticity agreement {rate}");
}

#[test]
fn rdkit_aromatic_smiles_kekulise_to_the_same_molecule() {
    // The canonical column is aromatic (lower-case) SMILES: kekulising it must give the same
    // molecule as the QM9 Kekulé input, up to the choice of Kekulé structure.
    let mut n_aromatic_input = 0;
    for r in fixture() {
        let from_aromatic = parse_smiles(&r.canonical)
            .unwrap_or_else(|e| panic!("line {} {}: {e}", r.line, r.canonical));
        if r.canonical.chars().any(|c| c.is_ascii_lowercase()) {
            n_aromatic_input += 1;
        }
        let from_kekule = parse_smiles(&r.smiles).unwrap();
        assert_eq!(
            from_aromatic.aromatic_canonical_form(),
            from_kekule.aromatic_canonical_form(),
            "line {}: {} vs {}",
            r.line,
            r.canonical,
            r.smiles
        );
        assert_eq!(from_aromatic.validity(), Validity::Valid, "line {}", r.line);
    }
    assert!(
        n_aromatic_input > 100,
        "fixture has too few aromatic SMILES: {n_aromatic_input}"
    );
}

#[test]
fn writer_round_trips_through_the_parser() {
    for r in fixture() {
        let graph = parse_smiles(&r.smiles).unwrap();
        let written = graph.to_smiles().unwrap();
        let back =
            parse_smiles(&written).unwrap_or_else(|e| panic!("line {}: {written}: {e}", r.line));
        assert_eq!(
            back.canonical_form(),
            graph.canonical_form(),
            "line {}: {} -> {written}",
            r.line,
            r.smiles
        );
        // Canonical: the written string does not depend on the input atom order.
        assert_eq!(back.to_smiles().unwrap(), written, "line {}", r.line);
    }
}

#[track_caller]
fn check_error(smiles: &str, position: usize, reason_part: &str) {
    match parse_smiles(smiles) {
        Err(Error::Smiles {
            position: p,
            reason,
            ..
        }) => {
            assert_eq!(p, position, "{smiles}: {reason}");
            assert!(
                reason.contains(reason_part),
                "{smiles}: '{reason}' lacks '{reason_part}'"
            );
        }
        other => panic!("{smiles}: expected a SMILES error, got {other:?}"),
    }
}

#[test]
fn bad_smiles_name_position_and_reason() {
    check_error("", 0, "empty");
    check_error("C1CC", 1, "unclosed ring bond 1");
    check_error("CC(C", 2, "unclosed branch");
    check_error("CC)C", 2, "unmatched ')'");
    check_error("CC.O", 2, "disconnected");
    check_error("CCl", 1, "Cl is not supported");
    check_error("C[Si]C", 2, "Si is not supported");
    check_error("C[13C]", 2, "isotopes");
    check_error("=CC", 0, "without a preceding atom");
    check_error("CC=", 2, "end of input");
    check_error("C==C", 2, "two bond symbols");
    check_error("C()C", 2, "empty branch");
    check_error("C=1CC-1", 6, "conflicting");
    check_error("C=1CC#1", 6, "conflicting");
    check_error("C[CH3", 5, "expected ']'");
    check_error("C[CH2]", 1, "imply 3");
    check_error("C%1C", 1, "two digits");
    check_error("C*", 1, "wildcard");
    check_error("CC€", 2, "non-ASCII");
    check_error("C(1)C", 2, "must follow an atom");
    check_error("C12CC12", 6, "bonded twice");
}

#[test]
fn size_and_kekulisation_errors() {
    assert_eq!(
        parse_smiles("CCCCCCCCCC"),
        Err(Error::TooManyAtoms { count: 10, max: 9 })
    );
    assert!(parse_smiles("CCCCCCCCC").is_ok());
    assert!(matches!(
        parse_smiles("c1cccc1"),
        Err(Error::Kekulize { .. })
    ));
    assert!(matches!(parse_smiles("c1ccccc"), Err(Error::Smiles { .. })));
    // Pyrrole needs its [nH]; the bare `n` has no Kekulé structure.
    assert!(matches!(
        parse_smiles("c1ccnc1"),
        Err(Error::Kekulize { .. })
    ));
}

#[test]
fn supported_syntax() {
    let cases: &[(&str, &str)] = &[
        ("c1ccc[nH]1", "C1=CNC=C1"),
        ("C/C=C\\C", "CC=CC"),
        ("[C@@H](F)(O)N", "FC(O)N"),
        ("C%10CC%10", "C1CC1"),
        ("c1ccccc1", "C1=CC=CC=C1"),
        ("c:1:c:c:c:c:c1", "C1=CC=CC=C1"),
        ("C1CC=1", "C=1CC1"),
        ("[NH4+]", "[NH4+]"),
        ("[CH3:7]O", "CO"),
        ("O=c1cc[nH]cc1", "O=C1C=CNC=C1"),
        ("C[N+](C)(C)C", "C[N+](C)(C)C"),
        ("[O-][n+]1ccccc1", "[O-][N+]1=CC=CC=C1"),
    ];
    for (input, kekule) in cases {
        let a = parse_smiles(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        let b = parse_smiles(kekule).unwrap();
        assert_eq!(
            a.aromatic_canonical_form(),
            b.aromatic_canonical_form(),
            "{input} vs {kekule}"
        );
    }
    let methylamine = parse_smiles("C[NH3+]").unwrap();
    assert_eq!(methylamine.atoms()[1].class, AtomClass::N);
    assert_eq!(methylamine.atoms()[1].charge, 1);
}

#[test]
fn writer_rejects_graphs_without_one_smiles() {
    let empty = MolGraph::new(Vec::new(), Vec::new()).unwrap();
    assert!(empty.to_smiles().is_err());
    let mut two = parse_smiles("CCO").unwrap();
    two.set_bond_order(1, 2, 0).unwrap();
    assert!(two.to_smiles().is_err());
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "[CNOFcno()\\[\\]=#:/\\\\%0-9+\\-H@.]{0,24}") {
        let _ = parse_smiles(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(s in any::<String>()) {
        let _ = parse_smiles(&s);
    }

    #[test]
    fn truncations_of_qm9_smiles_never_panic(idx in 0usize..2072, cut in 0usize..40) {
        let records = fixture();
        let s = &records[idx % records.len()].smiles;
        let cut = cut.min(s.len());
        let _ = parse_smiles(&s[..cut]);
        let _ = parse_smiles(&s[cut..]);
    }
}

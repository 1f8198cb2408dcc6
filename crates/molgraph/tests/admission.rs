//! Tests of the molecule gate: each rule on hand-picked SMILES, agreement with RDKit on the QM9
//! fixture, explicit hydrogens, formulae, the line checker, and no panics on arbitrary input.

use molgraph::{
    Rejection, RejectionKind, Tally, Validity, admit_smiles, check_smiles_lines, parse_smiles,
};
use proptest::prelude::*;

use crate::fixture;

#[track_caller]
fn check(smiles: &str, expected: Option<RejectionKind>) {
    let verdict = admit_smiles(smiles);
    assert_eq!(
        verdict.as_ref().err().map(Rejection::kind),
        expected,
        "{smiles}: {verdict:?}"
    );
}

#[test]
fn each_rule_rejects_its_examples() {
    use RejectionKind::*;
    // Unbracketed hypervalent atoms are rejected like their bracketed forms.
    for smiles in [
        "C(C)(C)(C)(C)C",
        "CO(C)C",
        "N#N#N",
        "CFC",
        "C=F",
        "[CH5]",
        "C=C(C)(C)C",
    ] {
        check(smiles, Some(Valence));
    }
    check("[H]C([H])([H])([H])[H]", Some(Valence));
    check("C[CH2]", Some(Radical));
    check("[C]", Some(Radical));
    for smiles in ["[NH4+]", "C[O-]", "[NH3+]CC([O-])=O", "C[N+](C)(C)C"] {
        check(smiles, Some(Charged));
    }
    for smiles in ["CCl", "C[Si]C", "CS", "c1ccsc1", "[Na+].[Cl-]"] {
        check(smiles, Some(Element));
    }
    check("CC.O", Some(Disconnected));
    check("CCCCCCCCCC", Some(TooManyAtoms));
    check("c1cccc1", Some(Kekulize));
    for smiles in [
        "", "C1CC", "CC(C", "C==C", "[H]", "[H][H]", "C[H]C", "[H+]C", "C=[H]",
    ] {
        check(smiles, Some(Syntax));
    }
}

#[test]
fn ordinary_molecules_are_admitted() {
    for smiles in [
        "C",
        "CCO",
        "CN(=O)=O",
        "N#N=C",
        "c1ccccc1O",
        "O=c1cc[nH]cc1",
        "FC(F)(F)C#N",
        "CCCCCCCCC",
        "C1CC1",
    ] {
        check(smiles, None);
    }
}

#[test]
fn explicit_hydrogens_fold_into_implicit_ones() {
    let cases = [
        ("[H]C([H])([H])[H]", "C"),
        ("[H]C=O", "C=O"),
        ("[H]OC([H])([H])C", "CCO"),
        ("[H]c1ccccc1", "c1ccccc1"),
        ("c1cc([H])c[nH]1", "c1cc[nH]c1"),
        ("[CH2]([H])[H]", "C"),
        ("[H][N+]([H])([H])[H]", "[NH4+]"),
        ("C1([H])CC1", "C1CC1"),
    ];
    for (explicit, implicit) in cases {
        let a = parse_smiles(explicit).unwrap_or_else(|e| panic!("{explicit}: {e}"));
        let b = parse_smiles(implicit).unwrap();
        assert_eq!(a.canonical_form(), b.canonical_form(), "{explicit}");
        assert_eq!(a.formula(), b.formula(), "{explicit}");
    }
    // Hydrogens do not count towards the 9 heavy atoms.
    assert!(admit_smiles("[H]CCCCCCCCC[H]").is_ok());
}

#[test]
fn formulae_follow_hill_order() {
    for (smiles, formula) in [
        ("C", "CH4"),
        ("CCO", "C2H6O"),
        ("N", "H3N"),
        ("FF", "F2"),
        ("OC(=O)C(F)(F)F", "C2HF3O2"),
        ("CN(=O)=O", "CH3NO2"),
        ("c1ccncc1", "C5H5N"),
    ] {
        assert_eq!(parse_smiles(smiles).unwrap().formula(), formula, "{smiles}");
    }
}

/// The QM9 fixture holds RDKit's sanitised atoms: every molecule is RDKit-valid, so the gate must
/// admit exactly those without formal charges (RDKit's charge-separated nitro groups aside, which
/// QM9 writes as neutral 5-valent N).
#[test]
fn gate_agrees_with_rdkit_on_the_qm9_fixture() {
    let mut tally = Tally::default();
    for r in fixture() {
        let verdict = admit_smiles(&r.smiles);
        let charged_as_written = parse_smiles(&r.smiles)
            .unwrap()
            .atoms()
            .iter()
            .any(|a| a.charge != 0);
        match &verdict {
            Ok(admitted) => {
                assert!(!charged_as_written, "line {}: {}", r.line, r.smiles);
                assert_eq!(admitted.graph.validity(), Validity::Valid);
            }
            Err(rejection) => {
                assert!(
                    charged_as_written,
                    "line {} {}: {rejection}",
                    r.line, r.smiles
                );
                assert_eq!(rejection.kind(), RejectionKind::Charged, "line {}", r.line);
            }
        }
        tally.record(r.line, &r.smiles, &verdict);
    }
    println!(
        "gate on the QM9 fixture: {} admitted, {:?}",
        tally.n_admitted, tally.rejected
    );
    assert!(tally.n_admitted > 1_500);
    assert!(
        tally
            .rejected
            .get(&RejectionKind::Charged)
            .copied()
            .unwrap_or(0)
            >= 100
    );
}

#[test]
fn line_checker_reports_each_line() {
    let text = "\u{feff}CCO ethanol\n\nCFC\n# a comment\nC[O-]\n\u{ff}\nCC.O\n";
    let verdicts = check_smiles_lines(text.as_bytes()).unwrap();
    let summary: Vec<(usize, Option<RejectionKind>)> = verdicts
        .iter()
        .map(|v| (v.line, v.verdict.as_ref().err().map(Rejection::kind)))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, None),
            (3, Some(RejectionKind::Valence)),
            (5, Some(RejectionKind::Charged)),
            (6, Some(RejectionKind::Syntax)),
            (7, Some(RejectionKind::Disconnected)),
        ]
    );
    let mut bad_utf8 = b"CC\n".to_vec();
    bad_utf8.extend([0xff, 0xfe, b'\n']);
    let verdicts = check_smiles_lines(&bad_utf8[..]).unwrap();
    assert_eq!(
        verdicts[1].verdict.as_ref().err().map(Rejection::kind),
        Some(RejectionKind::Syntax)
    );
}

#[test]
fn tally_lists_rejections_with_line_and_record() {
    let mut tally = Tally::default();
    for (line, smiles) in [(2, "CC"), (3, "CFC"), (4, "[NH4+]"), (5, "CO(C)C")] {
        tally.record(line, &format!("gdb {line}"), &admit_smiles(smiles));
    }
    assert_eq!(
        (tally.n_admitted, tally.n_rejected(), tally.n_total()),
        (1, 3, 4)
    );
    assert_eq!(tally.rejected[&RejectionKind::Valence], 2);
    let table = tally.markdown(1);
    assert!(table.contains("| 2 | line 3 (gdb 3), … |"), "{table}");
    assert!(table.contains("line 4 (gdb 4)"), "{table}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever the input, an admitted molecule is valid, neutral and fits the representation.
    #[test]
    fn admitted_molecules_fit_the_representation(
        s in "[CNOFcno()\\[\\]=#1-3H+\\-.]{0,20}"
    ) {
        if let Ok(admitted) = admit_smiles(&s) {
            let graph = admitted.graph;
            prop_assert!(graph.validity().is_valid());
            prop_assert!(graph.atoms().iter().all(|a| a.charge == 0 && !a.class.is_ghost()));
            prop_assert!(graph.n_atoms() <= 9);
            for i in 0..graph.n_atoms() {
                let valence = graph.cleaned_up().bond_order_sum(i);
                let max = graph.cleaned_up().atoms()[i].max_valence().unwrap();
                prop_assert!(valence <= max, "{s}: atom {i}");
            }
        }
    }
}

/// The SMILES corpus (`fixtures/smiles_corpus.csv`, made by `fixtures/make_smiles_corpus.py`
/// with RDKit): every row's gate verdict is the one its construction expects, and the gate
/// admits exactly the rows RDKit sanitises and that fit the representation's limits.
#[test]
fn gate_agrees_with_rdkit_on_the_smiles_corpus() {
    let text = include_str!("fixtures/smiles_corpus.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("smiles,family,expected,rdkit_sanitises,rdkit_admissible")
    );
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (idx, line) in lines.enumerate() {
        let line_no = idx + 2;
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 5, "line {line_no}: {line}");
        let (smiles, family, expected) = (fields[0], fields[1], fields[2]);
        let rdkit_sanitises = fields[3] == "1";
        let rdkit_admissible = fields[4] == "1";
        let verdict = admit_smiles(smiles);
        let ours = verdict.as_ref().map_or_else(|r| r.kind().name(), |_| "ok");
        if ours != expected {
            failures.push(format!(
                "line {line_no} {smiles} ({family}): expected {expected}, got {ours}"
            ));
        }
        if verdict.is_ok() != rdkit_admissible {
            failures.push(format!(
                "line {line_no} {smiles}: gate {ours}, RDKit admissible = {rdkit_admissible}"
            ));
        }
        if verdict.is_ok() && !rdkit_sanitises {
            failures.push(format!(
                "line {line_no} {smiles}: admitted but RDKit refuses it"
            ));
        }
        tally.record(line_no, smiles, &verdict);
    }
    println!("SMILES corpus: {}", tally.summary().replace('\n', "; "));
    assert!(tally.n_total() >= 150, "{} cases", tally.n_total());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explicit_hydrogens_are_bounded() {
    // Folding scans the bonds once per hydrogen, so their number is capped and a million `[H]`
    // fail fast.
    let many = format!("C{}", "([H])".repeat(37));
    let err = parse_smiles(&many).unwrap_err();
    assert!(
        err.to_string().contains("more than 36 explicit hydrogen"),
        "{err}"
    );
    let huge = "[H]".repeat(1_000_000);
    assert_eq!(
        admit_smiles(&huge).unwrap_err().kind(),
        RejectionKind::Syntax
    );
}

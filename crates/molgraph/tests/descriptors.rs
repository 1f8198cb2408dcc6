//! Descriptor parity with RDKit on the committed QM9 fixture.

use molgraph::{descriptors, parse_smiles};

use crate::fixture;

/// Tolerances and pass rates of issue 5: MolWt within 0.01, TPSA within 0.5, LogP within 0.05,
/// each on at least 99 % of the fixture.
const MOL_WT_TOL: f64 = 0.01;
const TPSA_TOL: f64 = 0.5;
const LOGP_TOL: f64 = 0.05;
const MIN_PASS_RATE: f64 = 0.99;

#[test]
fn descriptors_match_rdkit_on_the_qm9_fixture() {
    let records = fixture();
    let mut fails = [Vec::new(), Vec::new(), Vec::new()];
    for r in &records {
        let graph = parse_smiles(&r.smiles).unwrap();
        let d = descriptors::all(&graph);
        let checks = [
            (d.mol_wt, r.mol_wt, MOL_WT_TOL),
            (d.tpsa, r.tpsa, TPSA_TOL),
            (d.logp, r.logp, LOGP_TOL),
        ];
        for (k, (ours, theirs, tol)) in checks.into_iter().enumerate() {
            if (ours - theirs).abs() > tol {
                fails[k].push(format!(
                    "line {} {}: ours {ours:.4}, rdkit {theirs:.4}",
                    r.line, r.smiles
                ));
            }
        }
    }
    let n = records.len() as f64;
    for (name, f) in ["MolWt", "TPSA", "LogP"].iter().zip(&fails) {
        let rate = 1.0 - f.len() as f64 / n;
        println!(
            "{name}: {:.2} % of {} within tolerance",
            100.0 * rate,
            records.len()
        );
        for line in f {
            println!("  tolerated failure: {line}");
        }
        assert!(
            rate >= MIN_PASS_RATE,
            "{name} parity {:.4} below {MIN_PASS_RATE}",
            rate
        );
    }
}

#[track_caller]
fn check(smiles: &str, mol_wt: f64, tpsa: f64, logp: f64) {
    use linalg::testing::{Tol, assert_close};
    // The reference values are RDKit's printed to 4 decimals (3 for TPSA), so they agree to
    // half a unit in the last place.
    let printed = Tol {
        rel: 0.0,
        abs: 5e-4,
    };
    let d = descriptors::all(&parse_smiles(smiles).unwrap());
    assert_close(d.mol_wt, mol_wt, printed);
    assert_close(d.tpsa, tpsa, printed);
    assert_close(d.logp, logp, printed);
}

#[test]
fn hand_checked_molecules() {
    // Values from RDKit 2026.09.1: `Descriptors.MolWt`, `Descriptors.TPSA`, `Crippen.MolLogP`
    // of `Chem.MolFromSmiles(s)` in /tmp/rdkit-venv (see fixtures/README.md).
    check("C", 16.043, 0.0, 0.6361);
    check("CCO", 46.069, 20.23, -0.0014);
    check("c1ccccc1", 78.114, 0.0, 1.6866);
    check("c1cc[nH]c1", 67.091, 15.79, 1.0147);
    check("CN(=O)=O", 61.040, 43.14, -0.1071);
    check("CC(=O)[O-]", 59.044, 40.13, -1.2438);
    check("C[NH3+]", 32.066, 27.64, -1.1419);
}

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

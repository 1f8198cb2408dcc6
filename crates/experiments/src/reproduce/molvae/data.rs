//! QM9 for the GSVAE experiments: a seeded draw of featurisable molecules (train = the first N,
//! test = the next 3,000, digest molecular.md §1), skip accounting, and scattering features with
//! the warp fitted on the training graphs (§2.2, §9).

use std::collections::BTreeMap;

use anyhow::Context as _;
use datasets::qm9::{self, Qm9Record};
use graph_scattering::{
    FilterBank, HalfCosineBank, HalfCosineConfig, Scattering, ScatteringConfig, SpectralWarp,
    WarpConfig,
};
use linalg::{
    Matrix,
    rng::{Stream, permutation, stream},
};
use molgraph::{DenseGraph, MolGraph, Rejection, Tally, admit_smiles};
use rayon::prelude::*;

use crate::{data::Dataset, report::Report, reproduce::Context};

/// One featurisable QM9 molecule.
#[derive(Debug, Clone)]
pub(crate) struct Molecule {
    /// The QM9 record (index, SMILES, DFT properties).
    pub(crate) record: Qm9Record,
    /// Its heavy-atom Kekulé graph.
    pub(crate) graph: MolGraph,
    /// The same graph padded to 9 nodes.
    pub(crate) dense: DenseGraph,
}

/// The training and test molecules of one draw, with the skips met on the way.
#[derive(Debug)]
pub(crate) struct Draw {
    /// The first `n_train` featurisable molecules of the seeded order.
    pub(crate) train: Vec<Molecule>,
    /// The next `n_test`.
    pub(crate) test: Vec<Molecule>,
    /// QM9 records in the file.
    pub(crate) n_records: usize,
    /// Records examined (in the seeded order) to fill train and test.
    pub(crate) n_examined: usize,
    /// Skipped records by reason, with examples (`gdb_idx: SMILES`).
    pub(crate) skips: BTreeMap<&'static str, Vec<String>>,
    /// The molecule gate's verdicts on the examined records (line and gdb_idx of each rejection).
    pub(crate) tally: Tally,
    /// Malformed CSV rows, skipped.
    pub(crate) malformed_rows: Vec<qm9::SkippedRow>,
}

impl Draw {
    /// Number of skipped records.
    pub(crate) fn n_skipped(&self) -> usize {
        self.skips.values().map(Vec::len).sum()
    }

    /// A Markdown paragraph on the draw and its skips.
    pub(crate) fn note(&self) -> String {
        let mut text = format!(
            "Data: a seeded permutation of the {} QM9 records; the first {} featurisable ones are the training set and the next {} the test set ({} records examined, {} skipped).",
            self.n_records,
            self.train.len(),
            self.test.len(),
            self.n_examined,
            self.n_skipped()
        );
        if !self.skips.is_empty() {
            text.push_str("\n\n| skip reason | count | first examples |\n|---|---|---|\n");
            for (reason, examples) in &self.skips {
                let shown: Vec<&str> = examples.iter().take(3).map(String::as_str).collect();
                text.push_str(&format!(
                    "| {reason} | {} | {} |\n",
                    examples.len(),
                    shown.join("; ")
                ));
            }
        }
        text.push_str("\n\n");
        text.push_str(&crate::reproduce::scattering::skip_listing(
            &self.tally,
            &self.malformed_rows,
        ));
        text
    }
}

/// Reads QM9 (recording its provenance) and draws `n_train + n_test` featurisable molecules in
/// the order of a permutation from `stream(seed, Shuffle)`. Records are parsed lazily in chunks,
/// in parallel; the result does not depend on the thread count.
pub(crate) fn draw_qm9(
    ctx: &Context,
    report: &mut Report,
    n_train: usize,
    n_test: usize,
) -> anyhow::Result<Draw> {
    let bytes = ctx.read_data(Dataset::Qm9, &["qm9_props.csv.gz"], report)?;
    let csv = datasets::idx::decompress(&bytes[0]).context("decompressing qm9/qm9_props.csv.gz")?;
    let table =
        qm9::read_csv(&csv[..], qm9::Mode::Lenient).context("parsing qm9/qm9_props.csv.gz")?;
    let records = table.records;
    let order = permutation(records.len(), &mut stream(ctx.seed, Stream::Shuffle));
    let wanted = n_train + n_test;
    let mut molecules = Vec::with_capacity(wanted);
    let mut skips: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut tally = Tally::default();
    let mut n_examined = 0;
    for chunk in order.chunks(2_048) {
        if molecules.len() >= wanted {
            break;
        }
        let converted: Vec<Result<Molecule, Rejection>> = chunk
            .par_iter()
            .map(|&idx| to_molecule(&records[idx]))
            .collect();
        for (&idx, result) in chunk.iter().zip(converted) {
            if molecules.len() >= wanted {
                break;
            }
            n_examined += 1;
            let record = &records[idx];
            tally.record(record.line, &record.gdb_idx.to_string(), &result);
            match result {
                Ok(molecule) => molecules.push(molecule),
                Err(rejection) => skips
                    .entry(rejection.kind().describe())
                    .or_default()
                    .push(format!("{}: {}", record.gdb_idx, record.smiles)),
            }
        }
    }
    if molecules.len() < wanted {
        anyhow::bail!(
            "QM9 has only {} featurisable molecules; {wanted} were requested",
            molecules.len()
        );
    }
    let test = molecules.split_off(n_train);
    Ok(Draw {
        train: molecules,
        test,
        n_records: records.len(),
        n_examined,
        skips,
        tally,
        malformed_rows: table.skipped,
    })
}

/// The record's molecule if the molecule gate admits its SMILES (C/N/O/F, ≤ 9 heavy atoms, one
/// fragment, no charges, valences within RDKit's).
fn to_molecule(record: &Qm9Record) -> Result<Molecule, Rejection> {
    let graph = admit_smiles(&record.smiles)?.graph;
    let dense = graph.to_dense();
    Ok(Molecule {
        record: record.clone(),
        graph,
        dense,
    })
}

/// The paper's scattering transform with the warp fitted on `training` graphs' pooled spectra
/// (digest §2.2: spectrum of the N training graphs only, ghosts included).
pub(crate) fn fit_scattering(training: &[DenseGraph]) -> anyhow::Result<Scattering> {
    let graphs = training
        .iter()
        .map(mol_vae::features::weighted_graph)
        .collect::<Result<Vec<_>, _>>()
        .context("building the weighted graphs of the training molecules")?;
    let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &graphs)
        .context("fitting the spectral warp on the training graphs")?;
    let bank = HalfCosineBank::new(HalfCosineConfig::default(), warp)
        .context("building the filter bank")?;
    Ok(Scattering::new(
        ScatteringConfig::default(),
        FilterBank::HalfCosine(bank),
    )?)
}

/// Scattering features (one column per molecule) of `molecules`.
pub(crate) fn features(
    scattering: &Scattering,
    molecules: &[Molecule],
) -> anyhow::Result<Matrix<f32>> {
    let dense: Vec<DenseGraph> = molecules.iter().map(|m| m.dense).collect();
    Ok(mol_vae::features::scattering_features(scattering, &dense)?)
}

/// The dense graphs of `molecules`.
pub(crate) fn dense_graphs(molecules: &[Molecule]) -> Vec<DenseGraph> {
    molecules.iter().map(|m| m.dense).collect()
}

/// The graphs of `molecules`.
pub(crate) fn mol_graphs(molecules: &[Molecule]) -> Vec<MolGraph> {
    molecules.iter().map(|m| m.graph.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::scattering::tests::{corpus, record};

    #[test]
    fn only_rdkit_admissible_molecules_reach_a_training_set() {
        for (line, smiles, rdkit_admissible) in corpus() {
            let molecule = to_molecule(&record(line, &smiles));
            assert_eq!(molecule.is_ok(), rdkit_admissible, "line {line}: {smiles}");
            if let Ok(molecule) = molecule {
                assert!(molecule.graph.validity().is_valid());
                assert!(molecule.dense.charges.iter().all(|&c| c == 0));
            }
        }
    }
}

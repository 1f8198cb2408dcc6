//! `molvae` side by side with an independent implementation (`reference/gsvae/`, PyTorch): the
//! export of exactly what `molvae` trains on, and the scoring of decoded samples that another
//! implementation wrote, with `molvae`'s own metric code.
//!
//! The export ([`ReferenceExport`], built by [`ReferenceExport::molvae`] from the experiment's
//! own data pipeline and written by `cargo xtask reproduce molvae --export-reference DIR`):
//!
//! | file | content |
//! |---|---|
//! | `features.npy` | float32 (N, F): row i = the scattering features of training molecule i, as the encoder's input BatchNorm receives them (`molvae` applies no other normalisation) |
//! | `atoms.npy` | int8 (N, 9): node classes over `[C, O, N, F, ghost]` = 0..4, in the node order of the reconstruction target (QM9's SMILES order as parsed, ghosts last) |
//! | `bonds.npy` | int8 (N, 9, 9): symmetric bond orders 0..3, zero diagonal |
//! | `smiles.txt` | the N training SMILES (QM9's), one a line, in row order |
//! | `test_smiles.txt` | the test molecules' SMILES: the reference set of the W1 property distances |
//! | `meta.json` | `n`, `n_features`, `classes`, `seed`, `mu`, the protocol and the provenance (see [`ExportMeta`]) |
//!
//! The samples ([`decode_samples`]): `samples_atoms.npy` int8 (S, 9) over the same classes and
//! `samples_bonds.npy` int8 (S, 9, 9), symmetric with zero diagonal, raw argmax decodings.
//! [`score`] turns them into [`Scores`] with [`GenerationMetrics::compute`] and
//! [`GenerationMetrics::property_w1`], the functions `molvae`'s report uses.

use std::fmt::Write as _;

use anyhow::{Context as _, bail, ensure};
use sha2::{Digest, Sha256};

use linalg::Matrix;
use mol_vae::metrics::{GenerationMetrics, NoveltyReference, PropertySamples};
use molgraph::{AtomClass, DenseGraph, MAX_ATOMS, MolGraph, admit_smiles};

use crate::npy::{self, Data};

/// File names of an export and of a sample set.
pub mod files {
    /// Training features, float32 (N, F).
    pub const FEATURES: &str = "features.npy";
    /// Training node classes, int8 (N, 9).
    pub const ATOMS: &str = "atoms.npy";
    /// Training bond orders, int8 (N, 9, 9).
    pub const BONDS: &str = "bonds.npy";
    /// Training SMILES, one a line.
    pub const SMILES: &str = "smiles.txt";
    /// Test SMILES (the W1 reference set), one a line.
    pub const TEST_SMILES: &str = "test_smiles.txt";
    /// Metadata and provenance (JSON).
    pub const META: &str = "meta.json";
    /// Decoded samples' node classes, int8 (S, 9).
    pub const SAMPLES_ATOMS: &str = "samples_atoms.npy";
    /// Decoded samples' bond orders, int8 (S, 9, 9).
    pub const SAMPLES_BONDS: &str = "samples_bonds.npy";
    /// The scores `molvae score` writes beside the samples (CSV).
    pub const SCORES: &str = "scores.csv";
}

/// The node classes in index order, as `meta.json` lists them.
pub const CLASSES: [&str; 5] = ["C", "O", "N", "F", "ghost"];

/// Everything `molvae` trains on, in memory; [`ReferenceExport::files`] encodes it.
#[derive(Debug, Clone)]
pub struct ReferenceExport {
    /// Scattering features, one column per training molecule (F × N), exactly the matrix the
    /// model trains on.
    pub features: Matrix<f32>,
    /// The reconstruction targets, in training order.
    pub graphs: Vec<DenseGraph>,
    /// The training molecules' QM9 SMILES, in training order.
    pub smiles: Vec<String>,
    /// The test molecules' QM9 SMILES (W1's reference set).
    pub test_smiles: Vec<String>,
    /// Protocol and provenance.
    pub meta: ExportMeta,
}

/// What `meta.json` records beyond the shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportMeta {
    /// The run's master seed (it selects the QM9 draw).
    pub seed: u64,
    /// Whether the export was made in quick mode (the data are the same; the epoch count and the
    /// sample count differ).
    pub quick: bool,
    /// The constrained model's penalty weights μ₁…μ₄; the base model is μ = 0.
    pub mu: [f64; 4],
    /// R4's cycle measure (`walk-sum` or `resolvent`).
    pub cycle_measure: String,
    /// Epochs of training.
    pub epochs: usize,
    /// Batch size B.
    pub batch_size: usize,
    /// Copies per molecule L.
    pub n_copies: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Prior samples the report's metrics use.
    pub n_metric_samples: usize,
    /// Git revision of the code that exported (with `-dirty` for local changes).
    pub revision: String,
    /// Fingerprint of the effective configuration (the start of the sha256 of its TOML).
    pub config_fingerprint: String,
    /// sha256 of each data file read, by name.
    pub data_sha256: Vec<(String, String)>,
}

impl ReferenceExport {
    /// The export's files, named as in [`files`], `meta.json` last (it holds the sha256 of
    /// every other file).
    ///
    /// # Errors
    /// If the graphs and the feature columns differ in number, or a graph has a charged atom (the
    /// format has no charges).
    pub fn files(&self) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        let (n_features, n) = self.features.shape();
        ensure!(
            self.graphs.len() == n && self.smiles.len() == n,
            "{n} feature columns, {} graphs and {} SMILES",
            self.graphs.len(),
            self.smiles.len()
        );
        if let Some(i) = self
            .graphs
            .iter()
            .position(|g| g.charges.iter().any(|&c| c != 0))
        {
            bail!(
                "training molecule {i} ({}) has a charged atom",
                self.smiles[i]
            );
        }
        // The matrix is column-major with one column per molecule: row-major (N, F) as is.
        let features = npy::write_f32(&[n, n_features], self.features.as_slice());
        let (atoms, bonds) = encode_samples(&self.graphs);
        let lines = |list: &[String]| list.iter().map(|s| format!("{s}\n")).collect::<String>();
        let mut out = vec![
            (files::FEATURES, features),
            (files::ATOMS, atoms),
            (files::BONDS, bonds),
            (files::SMILES, lines(&self.smiles).into_bytes()),
            (files::TEST_SMILES, lines(&self.test_smiles).into_bytes()),
        ];
        let sums: Vec<(String, String)> = out
            .iter()
            .map(|(name, bytes)| (name.to_string(), sha256_hex(bytes)))
            .collect();
        out.push((
            files::META,
            self.meta_json(n, n_features, &sums).into_bytes(),
        ));
        Ok(out)
    }

    fn meta_json(&self, n: usize, n_features: usize, sums: &[(String, String)]) -> String {
        let m = &self.meta;
        let object = |pairs: &[(String, String)]| {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", json_string(k), json_string(v)))
                .collect();
            format!("{{{}}}", body.join(", "))
        };
        let classes: Vec<String> = CLASSES.iter().map(|c| json_string(c)).collect();
        let mu: Vec<String> = m.mu.iter().map(|v| json_number(*v)).collect();
        let mut text = String::from("{\n");
        let mut field = |key: &str, value: String| {
            let _ = writeln!(text, "  {}: {value},", json_string(key));
        };
        field("n", n.to_string());
        field("n_features", n_features.to_string());
        field("classes", format!("[{}]", classes.join(", ")));
        field("seed", m.seed.to_string());
        field("mu", format!("[{}]", mu.join(", ")));
        field(
            "mu_is",
            json_string(
                "the constrained model's penalty weights; train the base model with --mu 0 0 0 0",
            ),
        );
        field("cycle_measure", json_string(&m.cycle_measure));
        field("epochs", m.epochs.to_string());
        field("batch_size", m.batch_size.to_string());
        field("n_copies", m.n_copies.to_string());
        field("learning_rate", json_number(m.learning_rate));
        field("n_metric_samples", m.n_metric_samples.to_string());
        field("n_test", self.test_smiles.len().to_string());
        field("quick", m.quick.to_string());
        field(
            "node_order",
            json_string("QM9 SMILES order as parsed (molgraph), ghosts last"),
        );
        field(
            "features_are",
            json_string(
                "raw scattering features with the warp fitted on the training graphs; no further normalisation (the encoder's input BatchNorm follows)",
            ),
        );
        field("revision", json_string(&m.revision));
        field("config_fingerprint", json_string(&m.config_fingerprint));
        field("data_sha256", object(&m.data_sha256));
        let _ = writeln!(text, "  \"files_sha256\": {}\n}}", object(sums));
        text
    }
}

/// Encodes graphs as `samples_atoms.npy`-style int8 (S, 9) classes and int8 (S, 9, 9) bond
/// orders (charges are not encoded).
///
/// # Example
/// ```
/// use experiments::molvae_reference::{decode_samples, encode_samples};
/// let graphs = vec![molgraph::parse_smiles("C1CC1C#N").unwrap().to_dense()];
/// let (atoms, bonds) = encode_samples(&graphs);
/// assert_eq!(decode_samples(&atoms, &bonds).unwrap(), graphs);
/// ```
pub fn encode_samples(graphs: &[DenseGraph]) -> (Vec<u8>, Vec<u8>) {
    let mut atoms = Vec::with_capacity(graphs.len() * MAX_ATOMS);
    let mut bonds = Vec::with_capacity(graphs.len() * MAX_ATOMS * MAX_ATOMS);
    for graph in graphs {
        atoms.extend(graph.classes.iter().map(|c| {
            i8::try_from(c.index()).expect("a class index is below AtomClass::COUNT = 5")
        }));
        for row in &graph.bond_orders {
            bonds.extend(
                row.iter()
                    .map(|&o| i8::try_from(o).expect("a DenseGraph's bond orders are 0..=3")),
            );
        }
    }
    (
        npy::write_i8(&[graphs.len(), MAX_ATOMS], &atoms),
        npy::write_i8(&[graphs.len(), MAX_ATOMS, MAX_ATOMS], &bonds),
    )
}

/// Decodes `samples_atoms.npy` and `samples_bonds.npy` into the graphs the Rust sampler
/// produces ([`mol_vae::generate::decode_argmax`]: classes, symmetric bond orders, zero
/// diagonal, charges 0).
///
/// # Errors
/// Naming the file and, for a bad value, the record (sample) and node: a file that is not
/// `.npy`, a dtype other than int8, a shape other than (S, 9) and (S, 9, 9), different S in the
/// two files, a class outside 0..4, a bond order outside 0..3, an asymmetric bond matrix or a
/// non-zero diagonal.
pub fn decode_samples(atoms: &[u8], bonds: &[u8]) -> anyhow::Result<Vec<DenseGraph>> {
    let int8 = |name: &str, bytes: &[u8], rank: usize| -> anyhow::Result<(Vec<usize>, Vec<i8>)> {
        let array = npy::read(bytes).with_context(|| format!("reading {name}"))?;
        let Data::I8(values) = array.data else {
            bail!("{name}: dtype {}, want int8", array.dtype().name());
        };
        ensure!(
            array.shape.len() == rank && array.shape[1..].iter().all(|&d| d == MAX_ATOMS),
            "{name}: shape {:?}, want (S{})",
            array.shape,
            ", 9".repeat(rank - 1)
        );
        Ok((array.shape, values))
    };
    let (atom_shape, atom_values) = int8(files::SAMPLES_ATOMS, atoms, 2)?;
    let (bond_shape, bond_values) = int8(files::SAMPLES_BONDS, bonds, 3)?;
    ensure!(
        atom_shape[0] == bond_shape[0],
        "{} has {} samples but {} has {}",
        files::SAMPLES_ATOMS,
        atom_shape[0],
        files::SAMPLES_BONDS,
        bond_shape[0]
    );
    let per_bonds = MAX_ATOMS * MAX_ATOMS;
    let mut graphs = Vec::with_capacity(atom_shape[0]);
    for record in 0..atom_shape[0] {
        let mut graph = DenseGraph {
            classes: [AtomClass::Ghost; MAX_ATOMS],
            charges: [0; MAX_ATOMS],
            bond_orders: [[0; MAX_ATOMS]; MAX_ATOMS],
        };
        for (node, &value) in atom_values[record * MAX_ATOMS..][..MAX_ATOMS]
            .iter()
            .enumerate()
        {
            graph.classes[node] = usize::try_from(value)
                .ok()
                .and_then(AtomClass::from_index)
                .with_context(|| {
                    format!(
                        "{}: record {record}, node {node}: class {value} outside 0..4 ([C, O, N, F, ghost])",
                        files::SAMPLES_ATOMS
                    )
                })?;
        }
        let block = &bond_values[record * per_bonds..][..per_bonds];
        for u in 0..MAX_ATOMS {
            for v in 0..MAX_ATOMS {
                let value = block[u * MAX_ATOMS + v];
                let order = u8::try_from(value)
                    .ok()
                    .filter(|&o| o <= 3)
                    .with_context(|| {
                        format!(
                            "{}: record {record}, bond ({u}, {v}): order {value} outside 0..3",
                            files::SAMPLES_BONDS
                        )
                    })?;
                ensure!(
                    u != v || order == 0,
                    "{}: record {record}: diagonal entry ({u}, {u}) is {order}, not 0",
                    files::SAMPLES_BONDS
                );
                let mirror = block[v * MAX_ATOMS + u];
                ensure!(
                    value == mirror,
                    "{}: record {record}: bond ({u}, {v}) = {value} but ({v}, {u}) = {mirror} (not symmetric)",
                    files::SAMPLES_BONDS
                );
                graph.bond_orders[u][v] = order;
            }
        }
        graphs.push(graph);
    }
    Ok(graphs)
}

/// The molecules of a SMILES list (one a line, blank lines ignored), each through the same gate
/// as `molvae`'s draw ([`admit_smiles`]), so the graphs are the ones `molvae` used.
///
/// # Errors
/// Naming `name` and the 1-based line of a SMILES the gate rejects; an empty list.
pub fn parse_smiles_list(name: &str, text: &str) -> anyhow::Result<Vec<MolGraph>> {
    let graphs = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            admit_smiles(line.trim())
                .map(|a| a.graph)
                .map_err(|rejection| {
                    anyhow::anyhow!("{name}: line {}: {:?}: {rejection}", i + 1, line.trim())
                })
        })
        .collect::<anyhow::Result<Vec<MolGraph>>>()?;
    ensure!(!graphs.is_empty(), "{name}: no SMILES");
    Ok(graphs)
}

/// Checks that an export's training graphs (`atoms.npy`, `bonds.npy`) are those of its SMILES,
/// so that novelty is measured against the molecules that were trained on.
///
/// # Errors
/// As [`decode_samples`] for the two files (named as the export's), a count mismatch, or the
/// first record whose graph differs from its SMILES'.
pub fn check_export_graphs(train: &[MolGraph], atoms: &[u8], bonds: &[u8]) -> anyhow::Result<()> {
    let graphs = decode_samples(atoms, bonds).map_err(|err| {
        anyhow::anyhow!(
            "{}",
            format!("{err:#}")
                .replace(files::SAMPLES_ATOMS, files::ATOMS)
                .replace(files::SAMPLES_BONDS, files::BONDS)
        )
    })?;
    ensure!(
        graphs.len() == train.len(),
        "{} has {} records but {} has {} molecules",
        files::ATOMS,
        graphs.len(),
        files::SMILES,
        train.len()
    );
    for (record, (graph, molecule)) in graphs.iter().zip(train).enumerate() {
        ensure!(
            *graph == molecule.to_dense(),
            "{}/{}: record {record} is not the graph of {} line {}",
            files::ATOMS,
            files::BONDS,
            files::SMILES,
            record + 1
        );
    }
    Ok(())
}

/// The generation metrics of one sample set, as `molvae`'s report computes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Validity and its failure split, uniqueness, both novelties, 3-rings, ring triples.
    pub metrics: GenerationMetrics,
    /// W1 of the unique valid samples' TPSA, MolWt and LogP to the test molecules'.
    pub w1: [f64; 3],
}

/// Scores `samples` against the training molecules (novelty) and the test molecules (W1), with
/// [`GenerationMetrics::compute`] and [`GenerationMetrics::property_w1`] as `molvae` does.
///
/// # Errors
/// As those two functions (an empty `test` set).
///
/// # Example
/// ```
/// use experiments::molvae_reference::score;
/// let parse = |s: &str| molgraph::parse_smiles(s).unwrap();
/// let train = vec![parse("CCO"), parse("CC#N")];
/// let samples = vec![parse("CCO").to_dense(), parse("C1CC1").to_dense()];
/// let scores = score(&samples, &train, &train).unwrap();
/// assert_eq!((scores.metrics.n_valid, scores.metrics.n_three_ring), (2, 1));
/// assert!((scores.metrics.novelty_canonical - 0.5).abs() < 1e-12);
/// ```
pub fn score(
    samples: &[DenseGraph],
    train: &[MolGraph],
    test: &[MolGraph],
) -> anyhow::Result<Scores> {
    let reference = NoveltyReference::new(train);
    let test_properties = PropertySamples::of_graphs(test);
    let metrics = GenerationMetrics::compute(samples, &reference)?;
    let w1 = metrics.property_w1(&test_properties)?;
    Ok(Scores { metrics, w1 })
}

impl Scores {
    /// `(metric, value, what)` rows with the names of `molvae`'s report, counts included.
    pub fn rows(&self) -> Vec<(&'static str, f64, &'static str)> {
        let m = &self.metrics;
        vec![
            ("samples", m.n_samples as f64, "count"),
            ("valid samples", m.n_valid as f64, "count"),
            ("validity", m.validity, "fraction of samples"),
            (
                "valence failure rate",
                m.valence_failure_rate,
                "fraction of samples",
            ),
            (
                "connectivity failure rate",
                m.connectivity_failure_rate,
                "fraction of samples",
            ),
            (
                "uniqueness (Kekulé, code)",
                m.uniqueness,
                "fraction of valid",
            ),
            (
                "uniqueness (canonical)",
                m.uniqueness_canonical,
                "fraction of valid",
            ),
            (
                "novelty (code's definition, §8.3)",
                m.novelty_code,
                "fraction of valid",
            ),
            (
                "novelty (canonical, corrected)",
                m.novelty_canonical,
                "fraction of valid",
            ),
            (
                "samples with a 3-ring",
                m.n_three_ring as f64,
                "count of samples",
            ),
            (
                "samples with a triple bond on a cycle",
                m.n_ring_triple as f64,
                "count of samples",
            ),
            ("W1(TPSA) unique valid vs test", self.w1[0], "Wasserstein-1"),
            (
                "W1(MolWt) unique valid vs test",
                self.w1[1],
                "Wasserstein-1",
            ),
            ("W1(LogP) unique valid vs test", self.w1[2], "Wasserstein-1"),
        ]
    }

    /// The rows as CSV `metric,value,what` (values with Rust's shortest round-trip formatting).
    pub fn to_csv(&self) -> String {
        let mut text = String::from("metric,value,what\n");
        for (metric, value, what) in self.rows() {
            let _ = writeln!(text, "\"{metric}\",{value},{what}");
        }
        text
    }

    /// The rows as a Markdown table (values to 4 decimals, counts whole).
    pub fn to_table(&self) -> String {
        let mut text = String::from("| metric | value | what |\n|---|---|---|\n");
        for (metric, value, what) in self.rows() {
            let shown = if what.starts_with("count") {
                format!("{value:.0}")
            } else {
                format!("{value:.4}")
            };
            let _ = writeln!(text, "| {metric} | {shown} | {what} |");
        }
        text
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (Rust's shortest round-trip form); `null` for a non-finite value.
fn json_number(value: f64) -> String {
    if value.is_finite() {
        format!("{value:?}")
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graphs(smiles: &[&str]) -> Vec<DenseGraph> {
        smiles
            .iter()
            .map(|s| molgraph::parse_smiles(s).unwrap().to_dense())
            .collect()
    }

    #[test]
    fn samples_round_trip_through_the_files() {
        let graphs = graphs(&["C", "CC#N", "C1CC1O", "O=C1C=CC(=O)N1", "FC(F)(F)CC#C"]);
        let (atoms, bonds) = encode_samples(&graphs);
        assert_eq!(decode_samples(&atoms, &bonds).unwrap(), graphs);
    }

    /// A malformed sample set must be an error naming the file (and, for a bad value, the
    /// record), never a panic.
    #[test]
    fn malformed_samples_are_errors_naming_file_and_record() {
        let good = graphs(&["CCO", "C1CC1", "CC#N"]);
        let (atoms, bonds) = encode_samples(&good);
        let mut wrong_class = atoms.clone();
        let at = atoms.len() - 27 + 9 + 4; // past the header: record 1, node 4
        wrong_class[at] = 5;
        let mut negative_class = atoms.clone();
        negative_class[at] = (-1i8).to_le_bytes()[0];
        let bonds_at =
            |record: usize, u: usize, v: usize| bonds.len() - 243 + record * 81 + u * 9 + v;
        let mut asymmetric = bonds.clone();
        asymmetric[bonds_at(2, 0, 1)] = 2; // C#N's triple (0, 1) becomes 2 one way only
        let mut diagonal = bonds.clone();
        diagonal[bonds_at(0, 3, 3)] = 1;
        let mut high_order = bonds.clone();
        high_order[bonds_at(1, 0, 1)] = 4;
        high_order[bonds_at(1, 1, 0)] = 4;
        let floats = npy::write_f32(&[3, 9], &[0.0; 27]);
        let wide = npy::write_i8(&[3, 10], &[0; 30]);
        let flat_bonds = npy::write_i8(&[3, 81], &[0; 243]);
        let (two_atoms, _) = encode_samples(&good[..2]);
        let cases: Vec<(Vec<u8>, Vec<u8>, &[&str])> = vec![
            (floats, bonds.clone(), &["samples_atoms.npy", "float32"]),
            (wide, bonds.clone(), &["samples_atoms.npy", "shape [3, 10]"]),
            (
                atoms.clone(),
                flat_bonds,
                &["samples_bonds.npy", "shape [3, 81]"],
            ),
            (two_atoms, bonds.clone(), &["2 samples", "3"]),
            (
                wrong_class,
                bonds.clone(),
                &["samples_atoms.npy", "record 1, node 4", "class 5"],
            ),
            (
                negative_class,
                bonds.clone(),
                &["record 1, node 4", "class -1"],
            ),
            (
                atoms.clone(),
                asymmetric,
                &["samples_bonds.npy", "record 2", "not symmetric"],
            ),
            (
                atoms.clone(),
                diagonal,
                &["samples_bonds.npy", "record 0", "diagonal"],
            ),
            (
                atoms.clone(),
                high_order,
                &["samples_bonds.npy", "record 1", "order 4"],
            ),
            (
                atoms[..atoms.len() - 1].to_vec(),
                bonds.clone(),
                &["samples_atoms.npy", "truncated"],
            ),
            (
                atoms.clone(),
                bonds[..100].to_vec(),
                &["samples_bonds.npy", "truncated"],
            ),
            (
                b"not npy".to_vec(),
                bonds.clone(),
                &["samples_atoms.npy", "magic"],
            ),
        ];
        for (atoms, bonds, expected) in cases {
            let err = decode_samples(&atoms, &bonds).expect_err(expected[0]);
            let message = format!("{err:#}");
            for part in expected {
                assert!(message.contains(part), "{message:?} lacks {part:?}");
            }
        }
    }

    #[test]
    fn every_truncation_of_a_sample_file_is_an_error() {
        let (atoms, bonds) = encode_samples(&graphs(&["CCO", "C1CC1"]));
        for len in 0..bonds.len() {
            assert!(decode_samples(&atoms, &bonds[..len]).is_err());
        }
        for len in 0..atoms.len() {
            assert!(decode_samples(&atoms[..len], &bonds).is_err());
        }
    }

    #[test]
    fn smiles_lists_name_the_bad_line_and_export_graphs_are_checked() {
        let err = parse_smiles_list("smiles.txt", "CCO\n\nC[N+](C)(C)C\n").unwrap_err();
        assert!(format!("{err:#}").contains("smiles.txt: line 3"), "{err:#}");
        let train = parse_smiles_list("smiles.txt", "CCO\nC1CC1\n").unwrap();
        let (atoms, bonds) = encode_samples(&graphs(&["CCO", "C1CC1"]));
        check_export_graphs(&train, &atoms, &bonds).unwrap();
        let (atoms, bonds) = encode_samples(&graphs(&["CCO", "CCC"]));
        let err = check_export_graphs(&train, &atoms, &bonds).unwrap_err();
        assert!(format!("{err:#}").contains("record 1"), "{err:#}");
        let (atoms, bonds) = encode_samples(&graphs(&["CCO"]));
        assert!(check_export_graphs(&train, &atoms, &bonds).is_err());
    }

    /// The scorer on the training molecules themselves: everything valid, nothing novel.
    #[test]
    #[allow(clippy::float_cmp)] // exact ratios of small counts
    fn training_molecules_score_valid_and_not_novel() {
        let train =
            parse_smiles_list("smiles.txt", "CCO\nC1CC1\nCC#N\nc1ccoc1\nOCC(O)CO\n").unwrap();
        let dense: Vec<DenseGraph> = train.iter().map(MolGraph::to_dense).collect();
        let scores = score(&dense, &train, &train).unwrap();
        assert_eq!(scores.metrics.validity, 1.0);
        assert_eq!(scores.metrics.novelty_canonical, 0.0);
        assert_eq!(scores.w1, [0.0; 3]);
        assert_eq!(scores.metrics.n_three_ring, 1);
    }

    #[test]
    fn export_files_carry_shapes_checksums_and_meta() {
        let train = parse_smiles_list("smiles.txt", "CCO\nC1CC1\n").unwrap();
        let export = ReferenceExport {
            features: Matrix::from_column_slice(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            graphs: train.iter().map(MolGraph::to_dense).collect(),
            smiles: vec!["CCO".into(), "C1CC1".into()],
            test_smiles: vec!["CC#N".into()],
            meta: ExportMeta {
                seed: 3,
                quick: true,
                mu: [0.1, 0.1, 2.5, 2.5],
                cycle_measure: "walk-sum".into(),
                epochs: 12,
                batch_size: 24,
                n_copies: 4,
                learning_rate: 1e-3,
                n_metric_samples: 2_000,
                revision: "abc\"def".into(),
                config_fingerprint: "0123456789ab".into(),
                data_sha256: vec![("qm9_props.csv.gz".into(), "ff".into())],
            },
        };
        let files = export.files().unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                files::FEATURES,
                files::ATOMS,
                files::BONDS,
                files::SMILES,
                files::TEST_SMILES,
                files::META
            ]
        );
        let features = npy::read(&files[0].1).unwrap();
        assert_eq!(features.shape, vec![2, 3]);
        assert_eq!(features.data, Data::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        check_export_graphs(&train, &files[1].1, &files[2].1).unwrap();
        let meta = String::from_utf8(files[5].1.clone()).unwrap();
        for part in [
            "\"n\": 2,",
            "\"n_features\": 3,",
            "\"classes\": [\"C\", \"O\", \"N\", \"F\", \"ghost\"],",
            "\"mu\": [0.1, 0.1, 2.5, 2.5],",
            "\"revision\": \"abc\\\"def\",",
            "\"qm9_props.csv.gz\": \"ff\"",
            &format!("\"smiles.txt\": \"{}\"", sha256_hex(b"CCO\nC1CC1\n")),
        ] {
            assert!(meta.contains(part), "meta.json lacks {part}:\n{meta}");
        }
        let mut charged = export.clone();
        charged.graphs[0].charges[0] = 1;
        assert!(charged.files().is_err());
    }
}

//! Generation metrics on argmax-decoded samples (digest molecular.md §5.2, §8): validity with
//! its failure split, uniqueness, novelty (the code's definition and the corrected canonical
//! one), 3-ring and ring-triple-bond counts, and property samples for histograms and W1.

use std::collections::HashSet;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use bayes_uq::{
    histogram::{BinEdges, Histogram},
    wasserstein_1,
};
use molgraph::{CanonicalForm, DenseGraph, MAX_ATOMS, MolGraph, Validity, descriptors};

use crate::Result;

/// Histogram bounds of the code's `ChemProperty`, in the order TPSA, MolWt, LogP: the
/// QM9-wide minima and maxima [C §1].
pub const PROPERTY_BOUNDS: [(f64, f64); 3] = [(0.0, 130.12), (16.0, 152.04), (-4.91, 3.76)];

/// Bins of the code's UQ histograms (`HistStat`) [C §4].
pub const UQ_BINS: usize = 15;

/// The training molecules as the two novelty definitions see them.
#[derive(Debug, Clone, Default)]
pub struct NoveltyReference {
    /// Kekulé canonical forms of the training molecules without aromatic rings or charges (the
    /// only ones whose aromatic training SMILES a generated Kekulé SMILES can equal, §8.3).
    code: HashSet<CanonicalForm>,
    /// Aromatic canonical forms of all training molecules.
    canonical: HashSet<CanonicalForm>,
}

impl NoveltyReference {
    /// Builds both reference sets from the training graphs.
    ///
    /// # Example
    /// ```
    /// let train = vec![molgraph::parse_smiles("CCO").unwrap(), molgraph::parse_smiles("c1ccoc1").unwrap()];
    /// let reference = mol_vae::metrics::NoveltyReference::new(&train);
    /// assert_eq!(reference.len(), 2);
    /// ```
    pub fn new(training: &[MolGraph]) -> NoveltyReference {
        let forms: Vec<(Option<CanonicalForm>, CanonicalForm)> = training
            .par_iter()
            .map(|graph| {
                let plain = !graph.aromatic_bonds().iter().any(|&a| a)
                    && graph.atoms().iter().all(|a| a.charge == 0);
                (
                    plain.then(|| graph.canonical_form()),
                    graph.aromatic_canonical_form(),
                )
            })
            .collect();
        let mut reference = NoveltyReference::default();
        for (code, canonical) in forms {
            if let Some(code) = code {
                reference.code.insert(code);
            }
            reference.canonical.insert(canonical);
        }
        reference
    }

    /// Number of distinct training molecules (aromatic canonical identity).
    pub fn len(&self) -> usize {
        self.canonical.len()
    }

    /// Whether the reference is empty.
    pub fn is_empty(&self) -> bool {
        self.canonical.is_empty()
    }
}

/// MolWt, TPSA and Crippen LogP of a set of molecules (RDKit-compatible, from `molgraph`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PropertySamples {
    /// Average molecular weights.
    pub mol_wt: Vec<f64>,
    /// Topological polar surface areas.
    pub tpsa: Vec<f64>,
    /// Crippen LogP values.
    pub logp: Vec<f64>,
}

impl PropertySamples {
    /// The properties of each graph, in order (e.g. of the QM9 test molecules).
    ///
    /// # Example
    /// ```
    /// let graphs = vec![molgraph::parse_smiles("CCO").unwrap()];
    /// let p = mol_vae::metrics::PropertySamples::of_graphs(&graphs);
    /// assert!((p.tpsa[0] - 20.23).abs() < 1e-9);
    /// ```
    pub fn of_graphs(graphs: &[MolGraph]) -> PropertySamples {
        let values: Vec<descriptors::Descriptors> =
            graphs.par_iter().map(descriptors::all).collect();
        PropertySamples {
            mol_wt: values.iter().map(|d| d.mol_wt).collect(),
            tpsa: values.iter().map(|d| d.tpsa).collect(),
            logp: values.iter().map(|d| d.logp).collect(),
        }
    }

    /// The samples in the order of [`PROPERTY_BOUNDS`]: TPSA, MolWt, LogP.
    pub fn in_code_order(&self) -> [&[f64]; 3] {
        [&self.tpsa, &self.mol_wt, &self.logp]
    }

    /// 1-Wasserstein distances to `reference`, per property (TPSA, MolWt, LogP).
    ///
    /// # Errors
    /// `bayes-uq`'s error for an empty sample.
    ///
    /// # Example
    /// ```
    /// use mol_vae::metrics::PropertySamples;
    /// let a = PropertySamples::of_graphs(&[molgraph::parse_smiles("CCO").unwrap()]);
    /// assert_eq!(a.wasserstein_to(&a).unwrap(), [0.0; 3]);
    /// ```
    pub fn wasserstein_to(&self, reference: &PropertySamples) -> Result<[f64; 3]> {
        let (a, b) = (self.in_code_order(), reference.in_code_order());
        Ok([
            wasserstein_1(a[0], b[0])?,
            wasserstein_1(a[1], b[1])?,
            wasserstein_1(a[2], b[2])?,
        ])
    }

    /// Histograms on [`PROPERTY_BOUNDS`] with `n_bins` uniform bins (TPSA, MolWt, LogP).
    ///
    /// # Errors
    /// `bayes-uq`'s error for `n_bins = 0` or a non-finite value.
    pub fn histograms(&self, n_bins: usize) -> Result<[Histogram; 3]> {
        let values = self.in_code_order();
        let one = |k: usize| -> Result<Histogram> {
            let edges = BinEdges::uniform(PROPERTY_BOUNDS[k].0, PROPERTY_BOUNDS[k].1, n_bins)?;
            Ok(Histogram::new(values[k], &edges)?)
        };
        Ok([one(0)?, one(1)?, one(2)?])
    }
}

/// The metrics of one set of generated graphs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GenerationMetrics {
    /// Number of samples.
    pub n_samples: usize,
    /// Number of valid samples ([`MolGraph::validity`]).
    pub n_valid: usize,
    /// `n_valid / n_samples`.
    pub validity: f64,
    /// Fraction of all samples that fail on valence (RDKit's sanitisation in the code; a ghost
    /// "H" with bond-order sum above 1 also fails there).
    pub valence_failure_rate: f64,
    /// Fraction of all samples that pass the valence check but fail connectivity (a bonded
    /// ghost, no heavy atom, or disconnected heavy atoms).
    pub connectivity_failure_rate: f64,
    /// Distinct valid samples by Kekulé canonical form (the code's unsanitised SMILES).
    pub n_unique: usize,
    /// `n_unique / n_valid` (the code's uniqueness).
    pub uniqueness: f64,
    /// Distinct valid samples by aromatic canonical form (RDKit identity).
    pub n_unique_canonical: usize,
    /// `n_unique_canonical / n_valid`.
    pub uniqueness_canonical: f64,
    /// Fraction of valid samples (duplicates included) that are "novel" under the code's quirky
    /// comparison (§8.3).
    pub novelty_code: f64,
    /// Fraction of valid samples (duplicates included) whose aromatic canonical form is not a
    /// training molecule's (§8.3, corrected).
    pub novelty_canonical: f64,
    /// Samples (of all, valid or not) with a 3-membered ring.
    pub n_three_ring: usize,
    /// Samples (of all, valid or not) with a triple bond on a cycle.
    pub n_ring_triple: usize,
    /// Properties of the unique valid samples (first occurrence of each Kekulé canonical form).
    pub properties: PropertySamples,
}

/// What one sample contributes.
struct SampleReport {
    valid: bool,
    valence_failure: bool,
    three_ring: bool,
    ring_triple: bool,
    /// For valid samples: Kekulé form, aromatic form, whether the code counts it as novel.
    forms: Option<(CanonicalForm, CanonicalForm, bool)>,
    graph: MolGraph,
}

impl GenerationMetrics {
    /// Computes every metric over `samples` against the training set `reference`.
    ///
    /// ```text
    /// validity    = #valid / #samples
    /// uniqueness  = #distinct valid / #valid
    /// novelty     = #{valid x : x ∉ train} / #valid            (duplicates counted)  [C §5.2]
    /// novel_code(x) = ¬[n_heavy(x) = 9 ∧ no aromatic ring ∧ no 5-valent-N clean-up
    ///                   ∧ canon(x) ∈ {canon(t) : t ∈ train without aromatic ring or charge}]  [C §8.3]
    /// ```
    ///
    /// Ratios over an empty denominator are 0.
    ///
    /// # Errors
    /// [`crate::Error::Molgraph`] if a sample's bond matrix is not a graph (asymmetric or
    /// order above 3; never for [`crate::generate::decode_argmax`] output).
    ///
    /// # Example
    /// ```
    /// use mol_vae::metrics::{GenerationMetrics, NoveltyReference};
    /// let train = vec![molgraph::parse_smiles("CCCCCCCCO").unwrap()];
    /// let reference = NoveltyReference::new(&train);
    /// let samples: Vec<_> = ["CCCCCCCCO", "CCO", "C1CC1", "C(C)(C)(C)(C)C"].iter()
    ///     .map(|s| molgraph::parse_smiles(s).unwrap().to_dense()).collect();
    /// let m = GenerationMetrics::compute(&samples, &reference).unwrap();
    /// assert_eq!(m.n_valid, 3);
    /// assert_eq!(m.n_three_ring, 1);
    /// // The 9-atom training molecule is not novel; CCO has < 9 heavy atoms so the code calls it novel.
    /// assert!((m.novelty_code - 2.0 / 3.0).abs() < 1e-12);
    /// assert!((m.novelty_canonical - 2.0 / 3.0).abs() < 1e-12);
    /// ```
    pub fn compute(
        samples: &[DenseGraph],
        reference: &NoveltyReference,
    ) -> Result<GenerationMetrics> {
        let reports: Vec<Result<SampleReport>> = samples
            .par_iter()
            .map(|dense| analyse(dense, reference))
            .collect();
        let mut metrics = GenerationMetrics {
            n_samples: samples.len(),
            ..GenerationMetrics::default()
        };
        let mut seen = HashSet::new();
        let mut seen_canonical = HashSet::new();
        let mut n_valence = 0;
        let mut n_connectivity = 0;
        let mut n_novel_code = 0;
        let mut n_novel_canonical = 0;
        let mut unique_graphs = Vec::new();
        for report in reports {
            let report = report?;
            metrics.n_three_ring += usize::from(report.three_ring);
            metrics.n_ring_triple += usize::from(report.ring_triple);
            if report.valence_failure {
                n_valence += 1;
            } else if !report.valid {
                n_connectivity += 1;
            }
            if let Some((kekule, aromatic, novel_code)) = report.forms {
                metrics.n_valid += 1;
                n_novel_code += usize::from(novel_code);
                n_novel_canonical += usize::from(!reference.canonical.contains(&aromatic));
                seen_canonical.insert(aromatic);
                if seen.insert(kekule) {
                    unique_graphs.push(report.graph);
                }
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        metrics.validity = ratio(metrics.n_valid, metrics.n_samples);
        metrics.valence_failure_rate = ratio(n_valence, metrics.n_samples);
        metrics.connectivity_failure_rate = ratio(n_connectivity, metrics.n_samples);
        metrics.n_unique = seen.len();
        metrics.uniqueness = ratio(metrics.n_unique, metrics.n_valid);
        metrics.n_unique_canonical = seen_canonical.len();
        metrics.uniqueness_canonical = ratio(metrics.n_unique_canonical, metrics.n_valid);
        metrics.novelty_code = ratio(n_novel_code, metrics.n_valid);
        metrics.novelty_canonical = ratio(n_novel_canonical, metrics.n_valid);
        metrics.properties = PropertySamples::of_graphs(&unique_graphs);
        Ok(metrics)
    }

    /// 1-Wasserstein distances of the unique valid samples' properties to `reference`'s
    /// (TPSA, MolWt, LogP, as [`PropertySamples::wasserstein_to`]); NaN for each when no sample
    /// is valid, so that a model without one valid sample still gets a row.
    ///
    /// # Errors
    /// `bayes-uq`'s error for an empty `reference`.
    ///
    /// # Example
    /// ```
    /// use mol_vae::metrics::{GenerationMetrics, NoveltyReference, PropertySamples};
    /// let graphs = vec![molgraph::parse_smiles("CCO").unwrap()];
    /// let reference = NoveltyReference::new(&graphs);
    /// let test = PropertySamples::of_graphs(&graphs);
    /// let valid = GenerationMetrics::compute(&[graphs[0].to_dense()], &reference).unwrap();
    /// assert_eq!(valid.property_w1(&test).unwrap(), [0.0; 3]);
    /// let none = GenerationMetrics::compute(&[], &reference).unwrap();
    /// assert!(none.property_w1(&test).unwrap().iter().all(|d| d.is_nan()));
    /// ```
    pub fn property_w1(&self, reference: &PropertySamples) -> Result<[f64; 3]> {
        if self.properties.mol_wt.is_empty() {
            Ok([f64::NAN; 3])
        } else {
            self.properties.wasserstein_to(reference)
        }
    }
}

fn analyse(dense: &DenseGraph, reference: &NoveltyReference) -> Result<SampleReport> {
    let graph = MolGraph::from_dense(dense)?;
    let valid = graph.validity() == Validity::Valid;
    let valence_failure = !valid && fails_valence(&graph);
    let forms = valid.then(|| {
        let cleaned = graph.cleaned_up();
        let converted = cleaned.atoms().iter().any(|a| a.charge != 0);
        let aromatic = graph.aromatic_bonds().iter().any(|&a| a);
        let kekule = graph.canonical_form();
        let known = graph.n_heavy_atoms() == MAX_ATOMS
            && !aromatic
            && !converted
            && reference.code.contains(&kekule);
        (kekule, graph.aromatic_canonical_form(), !known)
    });
    Ok(SampleReport {
        valid,
        valence_failure,
        three_ring: has_three_ring(dense),
        ring_triple: has_ring_triple(dense),
        forms,
        graph,
    })
}

/// The valence part of the code's RDKit check: a heavy atom above its allowed valence after the
/// 5-valent N clean-up, or a ghost ("H") with bond-order sum above 1 [inferred, §8.1].
fn fails_valence(graph: &MolGraph) -> bool {
    let cleaned = graph.cleaned_up();
    cleaned.atoms().iter().enumerate().any(|(i, atom)| {
        let valence = cleaned.bond_order_sum(i);
        if atom.class.is_ghost() {
            valence > 1
        } else {
            atom.max_valence().is_none_or(|max| valence > max)
        }
    })
}

/// Whether three nodes are pairwise bonded.
fn has_three_ring(dense: &DenseGraph) -> bool {
    let b = &dense.bond_orders;
    (0..MAX_ATOMS).any(|u| {
        (u + 1..MAX_ATOMS)
            .any(|v| b[u][v] > 0 && (v + 1..MAX_ATOMS).any(|w| b[u][w] > 0 && b[v][w] > 0))
    })
}

/// Whether some triple bond `(u, v)` lies on a cycle: `u` and `v` stay connected without it.
fn has_ring_triple(dense: &DenseGraph) -> bool {
    let b = &dense.bond_orders;
    (0..MAX_ATOMS).any(|u| {
        (u + 1..MAX_ATOMS).any(|v| {
            if b[u][v] != 3 {
                return false;
            }
            let mut seen = [false; MAX_ATOMS];
            let mut stack = vec![u];
            seen[u] = true;
            while let Some(x) = stack.pop() {
                for y in 0..MAX_ATOMS {
                    let skip = (x == u && y == v) || (x == v && y == u);
                    if b[x][y] > 0 && !skip && !seen[y] {
                        seen[y] = true;
                        stack.push(y);
                    }
                }
            }
            seen[v]
        })
    })
}

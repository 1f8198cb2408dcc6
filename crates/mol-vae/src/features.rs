//! The encoder's input: graph-scattering features of dense molecule graphs (digest
//! molecular.md §2).

use rayon::prelude::*;

use graph_scattering::{Graph, Scattering, Workspace};
use linalg::{Float, Matrix};
use molgraph::{AtomClass, DenseGraph, MAX_ATOMS};

use crate::{Error, Result};

/// Scattering features of each graph, one column per graph: the bond-order-weighted 9 × 9
/// adjacency (ghost rows zero) with the 9 × 5 one-hot node signal `[C, O, N, F, ghost]`
/// [C §2.1, §2.4]. With the paper's bank this is 9,425 rows. Computed in parallel, in order;
/// the values do not depend on the thread count.
///
/// The `reproduce scattering` experiment caches the same features for QM9 (row-major per
/// molecule, which is this matrix's column-major storage).
///
/// # Errors
/// [`Error::Scattering`] naming the graph, for a graph the transform rejects; [`Error::Empty`]
/// for no graphs.
///
/// # Example
/// ```
/// use graph_scattering::{FilterBank, HalfCosineBank, HalfCosineConfig, Scattering,
///     ScatteringConfig, SpectralWarp, WarpConfig};
/// let graphs: Vec<_> = ["CCO", "C1CC1", "CC#N"].iter()
///     .map(|s| molgraph::parse_smiles(s).unwrap().to_dense()).collect();
/// let laplacian_graphs: Vec<_> = graphs.iter().map(mol_vae::features::weighted_graph).collect::<Result<_, _>>().unwrap();
/// let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &laplacian_graphs).unwrap();
/// let bank = FilterBank::HalfCosine(HalfCosineBank::new(HalfCosineConfig::default(), warp).unwrap());
/// let scattering = Scattering::new(ScatteringConfig::default(), bank).unwrap();
/// let x = mol_vae::features::scattering_features::<f32>(&scattering, &graphs).unwrap();
/// assert_eq!(x.shape(), (9_425, 3));
/// ```
pub fn scattering_features<T: Float>(
    scattering: &Scattering,
    graphs: &[DenseGraph],
) -> Result<Matrix<T>> {
    transform_all(scattering, graphs, AtomClass::COUNT, |_, dense| {
        one_hot(dense)
    })
}

/// Scattering features of the conditional model (CVAE): the one-hot signal with each graph's
/// conditions appended as constant node channels, on all 9 slots (ghosts included, like the
/// one-hot channels) [C §2.4, §3.4]. With 3 conditions and the paper's bank this is
/// `(5 + 3) · 1,885 = 15,080` rows per graph; channel-major, so the first 9,425 rows equal
/// [`scattering_features`].
///
/// ```text
/// f = [onehot(v) ‖ c₁ … c_m] for every node v,   x = Φ(f) ∈ R^{(5+m)·1885}   [C §2.4, §3.4]
/// ```
///
/// # Errors
/// As [`scattering_features`]; [`Error::ShapeMismatch`] if `conditions` (`m × N`, one column
/// per graph, `m ≥ 1`) does not match the graphs; [`Error::InvalidTarget`] naming the graph with
/// a NaN or infinite condition.
///
/// # Example
/// ```
/// use graph_scattering::{FilterBank, HalfCosineBank, HalfCosineConfig, Scattering,
///     ScatteringConfig, SpectralWarp, WarpConfig};
/// use linalg::Matrix;
/// let graphs: Vec<_> = ["CCO", "C1CC1"].iter()
///     .map(|s| molgraph::parse_smiles(s).unwrap().to_dense()).collect();
/// let laplacian_graphs: Vec<_> = graphs.iter().map(mol_vae::features::weighted_graph).collect::<Result<_, _>>().unwrap();
/// let warp = SpectralWarp::fit_graphs(&WarpConfig::default(), &laplacian_graphs).unwrap();
/// let bank = FilterBank::HalfCosine(HalfCosineBank::new(HalfCosineConfig::default(), warp).unwrap());
/// let scattering = Scattering::new(ScatteringConfig::default(), bank).unwrap();
/// let conditions = Matrix::from_column_slice(3, 2, &[0.5, -1.0, 2.0, 0.0, 1.0, -0.5]);
/// let x = mol_vae::features::conditional_scattering_features::<f64>(&scattering, &graphs, &conditions).unwrap();
/// assert_eq!(x.shape(), (15_080, 2));
/// // Order 0 of a constant channel is its value (the mean over the 9 slots).
/// assert!((x[(5 * 1_885, 0)] - 0.5).abs() < 1e-12);
/// let plain = mol_vae::features::scattering_features::<f64>(&scattering, &graphs).unwrap();
/// assert_eq!(x.rows(0, 9_425), plain.rows(0, 9_425));
/// ```
pub fn conditional_scattering_features<T: Float>(
    scattering: &Scattering,
    graphs: &[DenseGraph],
    conditions: &Matrix<f64>,
) -> Result<Matrix<T>> {
    let m = conditions.nrows();
    if conditions.ncols() != graphs.len() || m == 0 {
        return Err(Error::ShapeMismatch {
            op: "conditional_scattering_features (one condition column per graph)",
            expected: (m.max(1), graphs.len()),
            got: conditions.shape(),
        });
    }
    if let Some(item) =
        (0..graphs.len()).find(|&j| conditions.column(j).iter().any(|v| !v.is_finite()))
    {
        return Err(Error::InvalidTarget {
            item,
            reason: "a condition is NaN or infinite".into(),
        });
    }
    transform_all(scattering, graphs, AtomClass::COUNT + m, |item, dense| {
        let rows = dense.one_hot();
        Matrix::from_fn(MAX_ATOMS, AtomClass::COUNT + m, |i, c| {
            if c < AtomClass::COUNT {
                f64::from(rows[i][c])
            } else {
                conditions[(c - AtomClass::COUNT, item)]
            }
        })
    })
}

/// Scattering features of every graph with the node signal `signal(item, graph)`
/// (`9 × n_channels`), one column per graph, in parallel and in order.
fn transform_all<T: Float>(
    scattering: &Scattering,
    graphs: &[DenseGraph],
    n_channels: usize,
    signal: impl Fn(usize, &DenseGraph) -> Matrix<f64> + Sync,
) -> Result<Matrix<T>> {
    if graphs.is_empty() {
        return Err(Error::Empty { what: "graph list" });
    }
    let n_features = scattering.n_features(n_channels);
    let columns: Vec<Result<Vec<T>>> = graphs
        .par_iter()
        .enumerate()
        .map_init(
            || (Workspace::default(), vec![0.0f64; n_features]),
            |(workspace, out), (item, dense)| {
                let wrap = |source| Error::Scattering { item, source };
                let graph = weighted_graph(dense).map_err(wrap)?;
                let signal = signal(item, dense);
                scattering
                    .transform_into(&graph, &signal, workspace, out)
                    .map_err(wrap)?;
                Ok(out.iter().map(|&v| T::of_f64(v)).collect())
            },
        )
        .collect();
    let mut features = Matrix::zeros(n_features, graphs.len());
    for (dst, column) in features
        .as_mut_slice()
        .chunks_exact_mut(n_features)
        .zip(columns)
    {
        dst.copy_from_slice(&column?);
    }
    Ok(features)
}

/// The bond-order-weighted adjacency of a dense graph as a scattering [`Graph`] (9 nodes,
/// ghosts isolated) [C §2.1].
///
/// # Errors
/// `graph-scattering`'s error for an asymmetric matrix.
pub fn weighted_graph(dense: &DenseGraph) -> Result<Graph, graph_scattering::Error> {
    let weights = Matrix::from_fn(MAX_ATOMS, MAX_ATOMS, |i, j| {
        f64::from(dense.bond_orders[i][j])
    });
    Graph::new(weights)
}

/// The 9 × 5 one-hot node signal over `[C, O, N, F, ghost]`.
fn one_hot(dense: &DenseGraph) -> Matrix<f64> {
    let rows = dense.one_hot();
    Matrix::from_fn(MAX_ATOMS, AtomClass::COUNT, |i, c| f64::from(rows[i][c]))
}

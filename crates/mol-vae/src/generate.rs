//! Generation: prior samples `z ~ N(0, I)` decoded by argmax to graphs (digest molecular.md
//! §3.1, "decoding at sample time"), unconditionally or, for the conditional model, under given
//! conditions (§3.4).

use linalg::{Float, Matrix, Rng, activation::argmax, gaussian::fill_standard_normal};
use molgraph::{AtomClass, DenseGraph, MAX_ATOMS};

use crate::{Error, MolVae, N_ATOM_CLASSES, N_BOND_CLASSES, Result};

/// Number of prior samples the paper's metrics use [C §3.3].
pub const N_METRIC_SAMPLES: usize = 10_000;

/// Columns decoded at a time (bounds the decoder's working memory).
const CHUNK: usize = 1_000;

/// `n_samples` latent codes from the prior `N(0, I)`, one per column.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// let z = mol_vae::generate::sample_prior::<f32>(30, 5, &mut stream(0, Stream::Sample));
/// assert_eq!(z.shape(), (30, 5));
/// ```
pub fn sample_prior<T: Float>(n_latent: usize, n_samples: usize, rng: &mut Rng) -> Matrix<T> {
    let mut z = Matrix::zeros(n_latent, n_samples);
    fill_standard_normal(z.as_mut_slice(), rng);
    z
}

/// Decodes latent codes by argmax: each node's class is the argmax of its 5 atom logits, each
/// pair `u < v` gets the argmax of its 4 bond logits (mirrored, so the matrix is symmetric), and
/// the diagonal is zero [C §3.1]. Nodes beyond the model's `n_nodes` are ghosts. Charges are 0.
///
/// # Errors
/// As [`MolVae::decode`]; [`Error::NonFiniteOutput`] if a logit is NaN.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// use mol_vae::{ModelConfig, MolVae, generate};
/// let model = MolVae::<f32>::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
/// let z = generate::sample_prior(3, 4, &mut stream(0, Stream::Sample));
/// let graphs = generate::decode_argmax(&model, &z).unwrap();
/// assert_eq!(graphs.len(), 4);
/// assert!(graphs.iter().all(|g| (0..9).all(|i| g.bond_orders[i][i] == 0)));
/// ```
pub fn decode_argmax<T: Float>(model: &MolVae<T>, z: &Matrix<T>) -> Result<Vec<DenseGraph>> {
    decode_argmax_with(model, z, None)
}

/// [`decode_argmax`] for the conditional model: column `j` of `z` is decoded under column `j`
/// of `conditions` (`n_conditions × R`) [C §3.4].
///
/// # Errors
/// As [`crate::MolVae::decode_conditional`]; [`Error::NonFiniteOutput`] if a logit is NaN.
///
/// # Example
/// ```
/// use linalg::{Matrix, rng::{stream, Stream}};
/// use mol_vae::{ModelConfig, MolVae, generate};
/// let config = ModelConfig { n_conditions: 3, ..ModelConfig::small(6) };
/// let model = MolVae::<f32>::new(config, &mut stream(0, Stream::Init)).unwrap();
/// let z = generate::sample_prior(3, 4, &mut stream(0, Stream::Sample));
/// let graphs = generate::decode_argmax_conditional(&model, &z, &Matrix::zeros(3, 4)).unwrap();
/// assert_eq!(graphs.len(), 4);
/// assert!(generate::decode_argmax_conditional(&model, &z, &Matrix::zeros(3, 5)).is_err());
/// ```
pub fn decode_argmax_conditional<T: Float>(
    model: &MolVae<T>,
    z: &Matrix<T>,
    conditions: &Matrix<T>,
) -> Result<Vec<DenseGraph>> {
    // Check the whole matrix once, so a chunk never reports a partial shape.
    model.check_conditions("decode_argmax_conditional", Some(conditions), z.ncols())?;
    decode_argmax_with(model, z, Some(conditions))
}

fn decode_argmax_with<T: Float>(
    model: &MolVae<T>,
    z: &Matrix<T>,
    conditions: Option<&Matrix<T>>,
) -> Result<Vec<DenseGraph>> {
    let n = model.config().n_nodes;
    let n_atom = model.config().n_atom_logits();
    let n_bond = model.config().n_bond_logits();
    let mut graphs = Vec::with_capacity(z.ncols());
    let mut start = 0;
    while start < z.ncols() {
        let len = CHUNK.min(z.ncols() - start);
        let z_chunk = z.columns(start, len).into_owned();
        let decoded = match conditions {
            None => model.decode(&z_chunk)?,
            Some(c) => model.decode_conditional(&z_chunk, &c.columns(start, len).into_owned())?,
        };
        for col in 0..len {
            let sample = start + col;
            let bad = || Error::NonFiniteOutput { sample };
            let atoms = &decoded.atom_logits.as_slice()[col * n_atom..][..n_atom];
            let bonds = &decoded.bond_logits.as_slice()[col * n_bond..][..n_bond];
            let mut graph = DenseGraph {
                classes: [AtomClass::Ghost; MAX_ATOMS],
                charges: [0; MAX_ATOMS],
                bond_orders: [[0; MAX_ATOMS]; MAX_ATOMS],
            };
            for v in 0..n {
                let class =
                    argmax(&atoms[v * N_ATOM_CLASSES..][..N_ATOM_CLASSES]).ok_or_else(bad)?;
                graph.classes[v] = AtomClass::from_index(class).ok_or_else(bad)?;
            }
            for u in 0..n {
                for v in u + 1..n {
                    let base = (u * n + v) * N_BOND_CLASSES;
                    let order = argmax(&bonds[base..base + N_BOND_CLASSES]).ok_or_else(bad)?;
                    let order = u8::try_from(order).map_err(|_| bad())?;
                    graph.bond_orders[u][v] = order;
                    graph.bond_orders[v][u] = order;
                }
            }
            graphs.push(graph);
        }
        start += len;
    }
    Ok(graphs)
}

/// `n_samples` prior samples decoded by argmax ([`sample_prior`] then [`decode_argmax`]); the
/// paper's metrics use [`N_METRIC_SAMPLES`].
///
/// # Errors
/// As [`decode_argmax`]; [`Error::Empty`] for `n_samples = 0`.
///
/// # Example
/// ```
/// use linalg::rng::{stream, Stream};
/// use mol_vae::{ModelConfig, MolVae, generate};
/// let model = MolVae::<f32>::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
/// let graphs = generate::sample_graphs(&model, 7, &mut stream(0, Stream::Sample)).unwrap();
/// assert_eq!(graphs.len(), 7);
/// ```
pub fn sample_graphs<T: Float>(
    model: &MolVae<T>,
    n_samples: usize,
    rng: &mut Rng,
) -> Result<Vec<DenseGraph>> {
    if n_samples == 0 {
        return Err(Error::Empty {
            what: "sample request",
        });
    }
    let z = sample_prior(model.config().n_latent, n_samples, rng);
    decode_argmax(model, &z)
}

/// Conditional design samples: one latent code `z ~ N(0, I)` per column of `conditions`
/// (`n_conditions × n`, the standardised conditions, e.g. from
/// [`crate::conditions::ConditionGaussian::sample_given`]), decoded by argmax under its
/// column [C §3.4].
///
/// # Errors
/// As [`decode_argmax_conditional`]; [`Error::Empty`] for no columns.
///
/// # Example
/// ```
/// use linalg::{Matrix, rng::{stream, Stream}};
/// use mol_vae::{ModelConfig, MolVae, conditions::ConditionGaussian, generate};
/// let config = ModelConfig { n_conditions: 3, ..ModelConfig::small(6) };
/// let model = MolVae::<f32>::new(config, &mut stream(0, Stream::Init)).unwrap();
/// let gaussian = ConditionGaussian::new(vec![0.0; 3], Matrix::identity(3, 3)).unwrap();
/// let mut rng = stream(0, Stream::Sample);
/// // Target: property 1 at +1 standard deviation; properties 0 and 2 from their conditional.
/// let c = gaussian.sample_given(1, 1.0, 5, &mut rng).unwrap().map(|v| v as f32);
/// let graphs = generate::sample_conditional_graphs(&model, &c, &mut rng).unwrap();
/// assert_eq!(graphs.len(), 5);
/// ```
pub fn sample_conditional_graphs<T: Float>(
    model: &MolVae<T>,
    conditions: &Matrix<T>,
    rng: &mut Rng,
) -> Result<Vec<DenseGraph>> {
    if conditions.ncols() == 0 {
        return Err(Error::Empty {
            what: "sample request",
        });
    }
    model.check_conditions(
        "sample_conditional_graphs",
        Some(conditions),
        conditions.ncols(),
    )?;
    let z = sample_prior(model.config().n_latent, conditions.ncols(), rng);
    decode_argmax_conditional(model, &z, conditions)
}

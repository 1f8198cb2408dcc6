//! The per-graph hot path: spectral filters from one eigendecomposition, then the cascade run
//! breadth-first over `n × P` matrices of signals, in reused buffers.

use linalg::{Matrix, jacobi};

use crate::{
    Basis, FilterBank, Graph, Pooling, Result, ScatteringConfig, cascade::MAX_ORDER,
    laplacian::laplacian_into,
};

/// Filter responses with `|h| ≤ DEAD_RESPONSE` are set to exactly 0 before the filters are built.
/// They arise only from eigensolver rounding at a window edge (`ĝ = sin²(πx/a)` with `x ~ 1e-16`
/// gives `1e-31`), e.g. GSVAE's filter 12 at a bipartite graph's `λ = 2 + 4e-16`; zeroing them lets
/// the dead filter be skipped, changing features by less than `1e-20 · ‖f‖`.
pub const DEAD_RESPONSE: f64 = 1e-20;

/// Reusable buffers of [`crate::Scattering::transform_into`]; after the first graph of the largest
/// size, a transform allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    laplacian: Vec<f64>,
    sqrt_degree: Vec<f64>,
    values: Vec<f64>,
    vectors: Vec<f64>,
    responses: Vec<f64>,
    live: Vec<usize>,
    project: Vec<f64>,
    back: Vec<f64>,
    terms: Vec<Term>,
    slot_start: Vec<usize>,
    columns: Columns,
    next_columns: Columns,
    coeffs: Vec<f64>,
    leaf: Vec<f64>,
    stats: Vec<f64>,
}

/// One non-zero `h_m(λ_e)` of a live filter.
#[derive(Debug, Clone, Copy, Default)]
struct Term {
    eigen: usize,
    gain: f64,
}

/// The signals of one order: an `n × P` row-major matrix plus, per column, its channel and its
/// path number within the order (`Σ_i j_i M^{l−i}`).
#[derive(Debug, Clone, Default)]
struct Columns {
    values: Vec<f64>,
    channel: Vec<usize>,
    path: Vec<usize>,
}

/// Computes the features of one graph into `out` (inputs already validated by
/// [`crate::Scattering::transform_into`]).
pub(super) fn propagate(
    bank: &FilterBank,
    config: &ScatteringConfig,
    n_paths: usize,
    graph: &Graph,
    signal: &Matrix<f64>,
    workspace: &mut Workspace,
    out: &mut [f64],
) -> Result<()> {
    let n = graph.n_nodes();
    let cols = signal.ncols();
    let n_filters = bank.n_filters();
    let n_stats = n_stats_of(config);
    let per_channel = n_paths * n_stats;
    let pooling = config.pooling;
    workspace.prepare(n, n_filters);
    let Workspace {
        laplacian,
        sqrt_degree,
        values,
        vectors,
        responses,
        live,
        project,
        back,
        terms,
        slot_start,
        columns,
        next_columns,
        coeffs,
        leaf,
        stats,
    } = workspace;

    // Spectrum and the live filters' non-zero responses.
    laplacian_into(graph, laplacian, sqrt_degree);
    jacobi::symmetric_eigen_in_place(laplacian, n, values, vectors)?;
    for (e, &lambda) in values.iter().enumerate() {
        bank.responses(lambda, &mut responses[e * n_filters..(e + 1) * n_filters]);
    }
    // Deviation: rounding-level responses (≤ 1e-20) are exactly 0, so dead filters are skipped.
    for response in responses.iter_mut() {
        if response.abs() <= DEAD_RESPONSE {
            *response = 0.0;
        }
    }
    live.clear();
    terms.clear();
    slot_start.clear();
    for m in 0..n_filters {
        let start = terms.len();
        for e in 0..n {
            let gain = responses[e * n_filters + m];
            if gain != 0.0 {
                terms.push(Term { eigen: e, gain });
            }
        }
        if terms.len() > start {
            live.push(m);
            slot_start.push(start);
        }
    }
    slot_start.push(terms.len());
    // project[k·n + e] = U[k, e] / s_k and back[e·n + i] = s_i U[i, e] (s = 1 if symmetric).
    let random_walk = bank.basis() == Basis::RandomWalk;
    for e in 0..n {
        for k in 0..n {
            let u = vectors[e * n + k];
            let (down, up) = if random_walk {
                (u / sqrt_degree[k], u * sqrt_degree[k])
            } else {
                (u, u)
            };
            project[k * n + e] = down;
            back[e * n + k] = up;
        }
    }
    // order_offsets[l] = Σ_{k<l} M^k for l ≤ max_order (validated not to overflow by `new`).
    let mut order_offsets = [0; MAX_ORDER + 1];
    let mut power: usize = 1;
    for order in 1..=config.max_order {
        order_offsets[order] = order_offsets[order - 1] + power;
        power = power.saturating_mul(n_filters);
    }

    // Order 0: pool the raw channels; the non-zero ones become the first columns.
    out.fill(0.0);
    columns.clear();
    for channel in 0..cols {
        let x = &signal.as_slice()[channel * n..(channel + 1) * n];
        pool(
            x,
            pooling,
            &mut out[channel * per_channel..channel * per_channel + n_stats],
        );
        if x.iter().any(|&v| v != 0.0) {
            columns.channel.push(channel);
            columns.path.push(0);
        }
    }
    let n_cols = columns.channel.len();
    columns.values.resize(n * n_cols, 0.0);
    for (col, &channel) in columns.channel.iter().enumerate() {
        for node in 0..n {
            columns.values[node * n_cols + col] = signal[(node, channel)];
        }
    }

    // Orders 1 … L, breadth-first.
    let max_order = config.max_order;
    // Mean = sum · (1/n): a multiply per feature instead of a divide (differs by ≤ 1 ulp).
    let inv_n = 1.0 / n as f64;
    for (order, &order_offset) in order_offsets.iter().enumerate().take(max_order + 1).skip(1) {
        let n_cols = columns.channel.len();
        if n_cols == 0 || live.is_empty() {
            break;
        }
        let last = order == max_order;
        // x̂ = Uᵀ S^{-1} X  (n × P): row e = Σ_k project[k, e] · row k of X.
        coeffs.clear();
        coeffs.resize(n * n_cols, 0.0);
        for k in 0..n {
            let row_k = &columns.values[k * n_cols..(k + 1) * n_cols];
            for e in 0..n {
                let weight = project[k * n + e];
                if weight != 0.0 {
                    axpy(&mut coeffs[e * n_cols..(e + 1) * n_cols], weight, row_k);
                }
            }
        }
        let next_cols = live.len() * n_cols;
        if !last {
            next_columns.clear();
            next_columns.values.resize(n * next_cols, 0.0);
        } else {
            leaf.resize(n * n_cols, 0.0);
        }
        for (slot, &m) in live.iter().enumerate() {
            let slot_terms = &terms[slot_start[slot]..slot_start[slot + 1]];
            // Destination rows: a block of the next order's matrix, or scratch at the leaves.
            let (dest, stride, offset) = if last {
                (&mut leaf[..], n_cols, 0)
            } else {
                (&mut next_columns.values[..], next_cols, slot * n_cols)
            };
            stats.clear();
            stats.resize(n_stats * n_cols, 0.0);
            for node in 0..n {
                let row = &mut dest[node * stride + offset..node * stride + offset + n_cols];
                // G_m X, row `node` = Σ_e h_m(λ_e) back[e, node] · x̂ row e.
                let (first, rest) = slot_terms
                    .split_first()
                    .expect("a live filter has a non-zero response");
                let coefficient = first.gain * back[first.eigen * n + node];
                for (r, &c) in row
                    .iter_mut()
                    .zip(&coeffs[first.eigen * n_cols..(first.eigen + 1) * n_cols])
                {
                    *r = coefficient * c;
                }
                for term in rest {
                    let coefficient = term.gain * back[term.eigen * n + node];
                    axpy(
                        row,
                        coefficient,
                        &coeffs[term.eigen * n_cols..(term.eigen + 1) * n_cols],
                    );
                }
                // Modulus, then per-column statistics (independent accumulators per column).
                match pooling {
                    Pooling::Mean => {
                        for (sum, r) in stats.iter_mut().zip(row.iter_mut()) {
                            *r = r.abs();
                            *sum += *r;
                        }
                    }
                    Pooling::Moments { .. } => {
                        for (col, r) in row.iter_mut().enumerate() {
                            *r = r.abs();
                            let mut power = 1.0;
                            for q in 0..n_stats {
                                power *= *r;
                                stats[col * n_stats + q] += power;
                            }
                        }
                    }
                }
            }
            for col in 0..n_cols {
                let path = columns.path[col] * n_filters + m;
                let at = columns.channel[col] * per_channel + (order_offset + path) * n_stats;
                match pooling {
                    Pooling::Mean => out[at] = stats[col] * inv_n,
                    Pooling::Moments { .. } => {
                        out[at..at + n_stats]
                            .copy_from_slice(&stats[col * n_stats..(col + 1) * n_stats]);
                    }
                }
                if !last {
                    next_columns.channel.push(columns.channel[col]);
                    next_columns.path.push(path);
                }
            }
        }
        if !last {
            std::mem::swap(columns, next_columns);
        }
    }
    Ok(())
}

impl Workspace {
    /// Sizes the per-graph buffers for an `n`-node graph (the per-order matrices grow on demand;
    /// no buffer ever shrinks its capacity).
    fn prepare(&mut self, n: usize, n_filters: usize) {
        self.laplacian.resize(n * n, 0.0);
        self.sqrt_degree.resize(n, 0.0);
        self.values.resize(n, 0.0);
        self.vectors.resize(n * n, 0.0);
        self.responses.resize(n * n_filters, 0.0);
        self.project.resize(n * n, 0.0);
        self.back.resize(n * n, 0.0);
    }
}

impl Columns {
    fn clear(&mut self) {
        self.values.clear();
        self.channel.clear();
        self.path.clear();
    }
}

fn n_stats_of(config: &ScatteringConfig) -> usize {
    match config.pooling {
        Pooling::Mean => 1,
        Pooling::Moments { max_moment } => max_moment,
    }
}

/// `y ← y + a·x` (equal lengths).
fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Writes the pooled statistics of one order-0 signal (signed: no modulus at order 0).
fn pool(u: &[f64], pooling: Pooling, out: &mut [f64]) {
    match pooling {
        Pooling::Mean => out[0] = u.iter().sum::<f64>() / u.len() as f64,
        Pooling::Moments { .. } => {
            for (q, slot) in out.iter_mut().enumerate() {
                *slot = u.iter().map(|&v| v.powi(q as i32 + 1)).sum();
            }
        }
    }
}

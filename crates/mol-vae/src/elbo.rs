//! The training objective: the Monte-Carlo ELBO over L reparameterised copies of each molecule,
//! with optional per-molecule weights (Bayesian bootstrap) and the R1–R4 penalties on prior
//! samples (digest molecular.md §3.2).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use linalg::{
    Float, Matrix, Rng,
    activation::{log_softmax, softmax},
    gaussian::fill_standard_normal,
};
use molgraph::DenseGraph;

use crate::{
    Error, MolVae, N_ATOM_CLASSES, N_BOND_CLASSES, Parameters, Result,
    batch_norm::Mode,
    constraints::{self, ConstraintSet, CycleMeasure},
    decoder,
    encoder::{self, DeferredHidden},
};

/// The objective's settings for one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveConfig {
    /// Number L of reparameterised copies of each molecule (`⌊90/B⌋ + 1` in the code)
    /// [C §3.2].
    pub n_samples: usize,
    /// Penalty weights `μ₁ … μ₄` of R1–R4; all 0 is the paper's "base model" [C §3.2].
    pub constraint_weights: [f64; 4],
    /// Sharpness of R2's soft step (100 in the code) [C §3.2].
    pub connectivity_sharpness: f64,
    /// How R4 decides that a bond lies on a cycle (the digest's resolvent by default).
    pub cycle_measure: CycleMeasure,
}

impl ObjectiveConfig {
    /// The paper's objective for batch size `batch_size`: `L = ⌊90/B⌋ + 1`, no penalties.
    ///
    /// # Example
    /// ```
    /// assert_eq!(mol_vae::ObjectiveConfig::for_batch_size(24).n_samples, 4);
    /// assert_eq!(mol_vae::ObjectiveConfig::for_batch_size(8).n_samples, 12);
    /// ```
    pub fn for_batch_size(batch_size: usize) -> ObjectiveConfig {
        ObjectiveConfig {
            n_samples: 90 / batch_size.max(1) + 1,
            constraint_weights: [0.0; 4],
            connectivity_sharpness: constraints::CONNECTIVITY_SHARPNESS,
            cycle_measure: CycleMeasure::Resolvent,
        }
    }

    fn constrained(&self) -> bool {
        self.constraint_weights.iter().any(|&m| m != 0.0)
    }
}

/// One minibatch: `B` feature columns, their target graphs, and their weights.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a, T: Float> {
    /// Scattering features, `n_features × B`.
    pub features: &'a Matrix<T>,
    /// Target graphs (atom classes and bond orders in node order; charges are ignored).
    pub targets: &'a [DenseGraph],
    /// Weights `w_b` of the molecules on the scale where all `N` weights sum to 1 (uniform:
    /// `1/N`; Bayesian bootstrap: a Dirichlet(1) draw) [C §3.2].
    pub weights: &'a [f64],
    /// Size `N` of the whole training set.
    pub n_items: usize,
}

/// The noise of one step, drawn once (held fixed for gradient checks).
#[derive(Debug, Clone, PartialEq)]
pub struct StepNoise<T: Float> {
    /// Reparameterisation noise `ε`, `n_latent × B·L`; column `ℓ·B + b` is copy `ℓ` of molecule
    /// `b` (the code's `repeat(L, 1)` order).
    pub epsilon: Matrix<T>,
    /// Prior samples `z̃` for the penalties, `n_latent × B·L`; `None` without penalties.
    pub prior: Option<Matrix<T>>,
}

impl<T: Float> StepNoise<T> {
    /// Draws `ε` and, if the objective has penalties, `z̃`, both standard normal.
    ///
    /// # Example
    /// ```
    /// use linalg::rng::{stream, Stream};
    /// let objective = mol_vae::ObjectiveConfig::for_batch_size(24);
    /// let noise = mol_vae::StepNoise::<f32>::draw(30, 24, &objective, &mut stream(0, Stream::Noise));
    /// assert_eq!(noise.epsilon.shape(), (30, 96));
    /// assert!(noise.prior.is_none());
    /// ```
    pub fn draw(
        n_latent: usize,
        batch_size: usize,
        objective: &ObjectiveConfig,
        rng: &mut Rng,
    ) -> StepNoise<T> {
        let rows = batch_size * objective.n_samples;
        let mut epsilon = Matrix::zeros(n_latent, rows);
        fill_standard_normal(epsilon.as_mut_slice(), rng);
        let prior = objective.constrained().then(|| {
            let mut prior = Matrix::zeros(n_latent, rows);
            fill_standard_normal(prior.as_mut_slice(), rng);
            prior
        });
        StepNoise { epsilon, prior }
    }
}

/// The terms of one step's objective.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LossTerms {
    /// The minimised loss (weighted, normalised as in [`loss_and_gradient`]).
    pub loss: f64,
    /// Unweighted mean over the `B·L` rows of the reconstruction term (atom + bond CE).
    pub reconstruction: f64,
    /// Unweighted mean over the rows of `KL(q(z|x) ‖ N(0, I))`.
    pub kl: f64,
    /// Unweighted mean over the prior-sample rows of R1–R4 (zero when not evaluated).
    pub constraints: [f64; 4],
}

/// Loss and gradient of one minibatch in training mode; the gradient is **added** to `grad`
/// and BatchNorm running statistics are updated.
///
/// ```text
/// rec_r = Σ_v CE(F_v, a_v) + Σ_{u<v} CE(W_uv,:, b_uv)                        [C §3.2]
/// KL_r  = −½ Σ_k (1 + log σ²_k − μ_k² − σ²_k)                                 [C §3.2]
/// z_r   = μ_b + ε_r ⊙ exp(½ log σ²_b),   row r = ℓ·B + b                       [C §3.2]
/// ρ_k(b) = L · √(mean_ℓ r_k(ℓ, b)²)        r_k on the decode of z̃_r           [C §3.2]
/// loss  = N/(B·L) · [Σ_r w_b(r) (rec_r + KL_r) + Σ_b w_b Σ_k μ_k ρ_k(b)]       [C §3.2]
/// ```
///
/// With uniform weights `w = 1/N` the first part is the mean over rows. The encoder runs on the
/// `B` distinct molecules, not on `B·L` copies (BatchNorm statistics of identical copies are
/// those of one copy, digest §3.2), and its gradients sum over the copies. Where all `r_k(·, b)`
/// are 0 the gradient of `ρ_k(b)` is taken as 0 (the square root's derivative is undefined).
///
/// # Errors
/// [`Error::ShapeMismatch`] if the features, targets, weights or noise do not match the model
/// and each other; [`Error::InvalidTarget`] for a target with more than `n_nodes` non-ghost
/// nodes or bonds outside them; [`Error::InvalidConfig`] for `L = 0`.
///
/// # Example
/// ```
/// use linalg::{Matrix, rng::{stream, Stream}};
/// use mol_vae::{Batch, MolVae, ModelConfig, ObjectiveConfig, StepNoise, loss_and_gradient};
/// let mut model = MolVae::<f64>::new(ModelConfig::small(6), &mut stream(0, Stream::Init)).unwrap();
/// let targets = vec![molgraph::parse_smiles("CO").unwrap().to_dense(); 2];
/// let features = Matrix::from_fn(6, 2, |i, j| (i + 3 * j) as f64);
/// let objective = ObjectiveConfig { n_samples: 2, ..ObjectiveConfig::for_batch_size(2) };
/// let noise = StepNoise::draw(3, 2, &objective, &mut stream(0, Stream::Noise));
/// let batch = Batch { features: &features, targets: &targets, weights: &[0.5, 0.5], n_items: 2 };
/// let mut grad = model.params.zeros_like();
/// let terms = loss_and_gradient(&mut model, &batch, &objective, &noise, &mut grad).unwrap();
/// assert!(terms.loss > 0.0 && terms.kl >= 0.0);
/// ```
pub fn loss_and_gradient<T: Float>(
    model: &mut MolVae<T>,
    batch: &Batch<'_, T>,
    objective: &ObjectiveConfig,
    noise: &StepNoise<T>,
    grad: &mut Parameters<T>,
) -> Result<LossTerms> {
    loss_and_gradient_with_pattern(model, batch, None, objective, noise, grad, None)
}

/// [`loss_and_gradient`] of the conditional model (CVAE, [C §3.4]): `conditions`
/// (`n_conditions × B`, one column per molecule of the batch, the standardised properties) are
/// appended to every reparameterised `z_r` of their molecule, so both decoder heads read
/// `[z_r ‖ c_b(r)]`. The batch's features must already carry the conditions as node channels
/// ([`crate::features::conditional_scattering_features`]). The objective is otherwise the same.
///
/// ```text
/// rec_r = −log p(A, F | z_r, c_b(r)),   KL_r = KL(q(z | x_b, c_b) ‖ N(0, I))   [C §3.4]
/// ```
///
/// # Errors
/// As [`loss_and_gradient`]; [`Error::ShapeMismatch`] if `conditions` is not
/// `n_conditions × B` or the model is unconditional; [`Error::InvalidConfig`] if the objective
/// has R1–R4 penalties: the code rejects constrained conditional training, because the
/// penalties' prior samples have no conditions [C §3.4].
///
/// # Example
/// ```
/// use linalg::{Matrix, rng::{stream, Stream}};
/// use mol_vae::{Batch, MolVae, ModelConfig, ObjectiveConfig, StepNoise, loss_and_gradient_conditional};
/// let config = ModelConfig { n_conditions: 3, ..ModelConfig::small(6) };
/// let mut model = MolVae::<f64>::new(config, &mut stream(0, Stream::Init)).unwrap();
/// let targets = vec![molgraph::parse_smiles("CO").unwrap().to_dense(); 2];
/// let features = Matrix::from_fn(6, 2, |i, j| (i + 3 * j) as f64);
/// let conditions = Matrix::from_column_slice(3, 2, &[0.5, -1.0, 0.2, -0.5, 1.0, 0.0]);
/// let objective = ObjectiveConfig { n_samples: 2, ..ObjectiveConfig::for_batch_size(2) };
/// let noise = StepNoise::draw(3, 2, &objective, &mut stream(0, Stream::Noise));
/// let batch = Batch { features: &features, targets: &targets, weights: &[0.5, 0.5], n_items: 2 };
/// let mut grad = model.params.zeros_like();
/// let terms = loss_and_gradient_conditional(&mut model, &batch, &conditions, &objective, &noise, &mut grad).unwrap();
/// assert!(terms.loss > 0.0);
/// // The condition columns of the first decoder layer receive a gradient.
/// assert!(grad.decoder[0].weight.column(3).iter().any(|g| *g != 0.0));
/// // A condition vector of the wrong length is an error, not a panic.
/// let short = Matrix::zeros(2, 2);
/// assert!(loss_and_gradient_conditional(&mut model, &batch, &short, &objective, &noise, &mut grad).is_err());
/// ```
pub fn loss_and_gradient_conditional<T: Float>(
    model: &mut MolVae<T>,
    batch: &Batch<'_, T>,
    conditions: &Matrix<T>,
    objective: &ObjectiveConfig,
    noise: &StepNoise<T>,
    grad: &mut Parameters<T>,
) -> Result<LossTerms> {
    loss_and_gradient_with_pattern(model, batch, Some(conditions), objective, noise, grad, None)
}

/// [`loss_and_gradient`], also reporting (if asked) the activation pattern: the sign of every
/// ReLU / LeakyReLU input and of R1's `V_u − U_u`. Gradient checks keep only points whose
/// pattern does not change within the finite-difference step (STYLE §7, away from kinks).
pub(crate) fn loss_and_gradient_with_pattern<T: Float>(
    model: &mut MolVae<T>,
    batch: &Batch<'_, T>,
    conditions: Option<&Matrix<T>>,
    objective: &ObjectiveConfig,
    noise: &StepNoise<T>,
    grad: &mut Parameters<T>,
    pattern: Option<&mut Vec<bool>>,
) -> Result<LossTerms> {
    let (terms, _) = loss_and_gradient_inner(
        model, batch, conditions, objective, noise, grad, pattern, false,
    )?;
    Ok(terms)
}

/// [`loss_and_gradient_with_pattern`]; with `defer`, the encoder's hidden-weight and `BN₀`
/// gradients are not formed but returned as a [`DeferredHidden`] for the optimiser to finish
/// (fused with the weight's Adam update); `grad.hidden.weight` and `grad.input_norm` are then
/// left untouched.
#[allow(clippy::too_many_arguments)]
pub(crate) fn loss_and_gradient_inner<T: Float>(
    model: &mut MolVae<T>,
    batch: &Batch<'_, T>,
    conditions: Option<&Matrix<T>>,
    objective: &ObjectiveConfig,
    noise: &StepNoise<T>,
    grad: &mut Parameters<T>,
    mut pattern: Option<&mut Vec<bool>>,
    defer: bool,
) -> Result<(LossTerms, Option<DeferredHidden<T>>)> {
    model.check_features(batch.features)?;
    let config = model.config().clone();
    let b = batch.features.ncols();
    model.check_conditions(
        "loss_and_gradient (conditions, one column per molecule)",
        conditions,
        b,
    )?;
    check_not_constrained_conditional(objective, &config)?;
    let l = objective.n_samples;
    if l == 0 {
        return Err(Error::InvalidConfig {
            name: "n_samples",
            reason: "must be positive".into(),
        });
    }
    let rows = b * l;
    check_len("Batch::targets", b, batch.targets.len())?;
    check_len("Batch::weights", b, batch.weights.len())?;
    check_shape(
        "StepNoise::epsilon",
        (config.n_latent, rows),
        noise.epsilon.shape(),
    )?;
    let classes = target_classes(batch.targets, config.n_nodes)?;
    let n = config.n_nodes;
    // Row weights ω_r = N/(B·L) · w_b.
    let scale = batch.n_items as f64 / rows as f64;
    let row_weight: Vec<f64> = (0..rows).map(|r| scale * batch.weights[r % b]).collect();

    let MolVae {
        params,
        input_stats,
        hidden_stats,
        ..
    } = model;
    let (encoding, enc_cache) = encoder::forward(
        params,
        &config,
        (input_stats, hidden_stats),
        batch.features,
        Mode::Train,
        l,
    );
    // Reparameterise.
    let k = config.n_latent;
    let mut z = Matrix::zeros(k, rows);
    for r in 0..rows {
        for i in 0..k {
            let mu = encoding.mean[(i, r % b)];
            let sd = (encoding.log_var[(i, r % b)] * T::of_f64(0.5)).exp();
            z[(i, r)] = mu + noise.epsilon[(i, r)] * sd;
        }
    }
    // Each row's decoder input is [z_r ‖ c_b(r)] in the conditional model [C §3.4].
    let row_conditions = conditions.map(|c| Matrix::from_fn(c.nrows(), rows, |i, r| c[(i, r % b)]));
    let input = decoder::stack_input(&z, row_conditions.as_ref());
    let cache = decoder::forward(params, &config, &input);
    if let Some(out) = pattern.as_deref_mut() {
        enc_cache.push_pattern(&params.hidden_norm, out);
        cache.push_pattern(out);
    }
    // Reconstruction: cross-entropies and their logit gradients.
    let mut d_atoms = Matrix::zeros(config.n_atom_logits(), rows);
    let mut d_bonds = Matrix::zeros(config.n_bond_logits(), rows);
    let mut total_rec = 0.0;
    let mut weighted = 0.0;
    let mut log_p = [T::zero(); N_ATOM_CLASSES];
    let mut log_pb = [T::zero(); N_BOND_CLASSES];
    for r in 0..rows {
        let (atom_targets, bond_targets) = &classes[r % b];
        let omega = T::of_f64(row_weight[r]);
        let mut rec = 0.0;
        let logits = &cache.atom_logits.as_slice()[r * n * N_ATOM_CLASSES..][..n * N_ATOM_CLASSES];
        let d = &mut d_atoms.as_mut_slice()[r * n * N_ATOM_CLASSES..][..n * N_ATOM_CLASSES];
        for v in 0..n {
            let lv = &logits[v * N_ATOM_CLASSES..][..N_ATOM_CLASSES];
            log_softmax(&mut log_p, lv);
            let target = atom_targets[v];
            rec -= log_p[target].as_f64();
            for c in 0..N_ATOM_CLASSES {
                let indicator = if c == target { T::one() } else { T::zero() };
                d[v * N_ATOM_CLASSES + c] = omega * (log_p[c].exp() - indicator);
            }
        }
        let n_bond = config.n_bond_logits();
        let w = &cache.bond_logits.as_slice()[r * n_bond..][..n_bond];
        let p = &cache.bond_probs.as_slice()[r * n_bond..][..n_bond];
        let d = &mut d_bonds.as_mut_slice()[r * n_bond..][..n_bond];
        for u in 0..n {
            for v in u + 1..n {
                let base = (u * n + v) * N_BOND_CLASSES;
                log_softmax(&mut log_pb, &w[base..base + N_BOND_CLASSES]);
                let target = bond_targets[u * n + v];
                rec -= log_pb[target].as_f64();
                for t in 0..N_BOND_CLASSES {
                    let indicator = if t == target { T::one() } else { T::zero() };
                    d[base + t] = omega * (p[base + t] - indicator);
                }
            }
        }
        total_rec += rec;
        weighted += row_weight[r] * rec;
    }
    let d_z = decoder::backward(params, &config, &cache, grad, &d_atoms, &d_bonds, None);
    // Back through the reparameterisation and the KL, summing over the L copies.
    let mut d_mean = Matrix::zeros(k, b);
    let mut d_log_var = Matrix::zeros(k, b);
    let mut total_kl = 0.0;
    let half = T::of_f64(0.5);
    for r in 0..rows {
        let col = r % b;
        let omega = T::of_f64(row_weight[r]);
        let mut kl = 0.0;
        for i in 0..k {
            let mu = encoding.mean[(i, col)];
            let lv = encoding.log_var[(i, col)];
            let var = lv.exp();
            kl += -0.5 * (1.0 + lv.as_f64() - mu.as_f64() * mu.as_f64() - var.as_f64());
            let dz = d_z[(i, r)];
            d_mean[(i, col)] += dz + omega * mu;
            d_log_var[(i, col)] += dz * noise.epsilon[(i, r)] * half * (lv * half).exp()
                + omega * half * (var - T::one());
        }
        total_kl += kl;
        weighted += row_weight[r] * kl;
    }
    let deferred = if defer {
        Some(encoder::backward_deferred(
            params, enc_cache, grad, &d_mean, &d_log_var,
        ))
    } else {
        encoder::backward(params, &enc_cache, grad, &d_mean, &d_log_var);
        None
    };

    let mut terms = LossTerms {
        loss: weighted,
        reconstruction: total_rec / rows as f64,
        kl: total_kl / rows as f64,
        constraints: [0.0; 4],
    };
    if objective.constrained() {
        let prior = noise.prior.as_ref().ok_or(Error::ShapeMismatch {
            op: "StepNoise::prior (penalties are on)",
            expected: (k, rows),
            got: (0, 0),
        })?;
        check_shape("StepNoise::prior", (k, rows), prior.shape())?;
        let penalty = penalties(params, &config, prior, batch, objective, grad, pattern);
        terms.loss += penalty.0;
        terms.constraints = penalty.1;
    }
    Ok((terms, deferred))
}

/// The R1–R4 part of the loss on prior samples; adds its gradient to `grad` and returns
/// (loss part, per-row mean of each `r_k`).
fn penalties<T: Float>(
    params: &Parameters<T>,
    config: &crate::ModelConfig,
    prior: &Matrix<T>,
    batch: &Batch<'_, T>,
    objective: &ObjectiveConfig,
    grad: &mut Parameters<T>,
    mut pattern: Option<&mut Vec<bool>>,
) -> (f64, [f64; 4]) {
    let rows = prior.ncols();
    let b = batch.features.ncols();
    let l = objective.n_samples;
    let n = config.n_nodes;
    let n_atom = config.n_atom_logits();
    let n_bond = config.n_bond_logits();
    let cache = decoder::forward(params, config, prior);
    if let Some(out) = pattern.as_deref_mut() {
        cache.push_pattern(out);
    }
    let set = ConstraintSet {
        active: objective.constraint_weights.map(|m| m != 0.0),
        sharpness: objective.connectivity_sharpness,
        cycle_measure: objective.cycle_measure,
    };
    // Rows are independent: evaluate them in parallel, collected in order (thread-count
    // independent).
    let per_row: Vec<(Vec<f64>, Vec<f64>, constraints::ConstraintValues)> = (0..rows)
        .into_par_iter()
        .map(|r| {
            let mut atom_probs = vec![T::zero(); n_atom];
            let logits = &cache.atom_logits.as_slice()[r * n_atom..][..n_atom];
            for (pc, lc) in atom_probs
                .chunks_exact_mut(N_ATOM_CLASSES)
                .zip(logits.chunks_exact(N_ATOM_CLASSES))
            {
                softmax(pc, lc);
            }
            let pf: Vec<f64> = atom_probs.iter().map(|x| x.as_f64()).collect();
            let pa: Vec<f64> = cache.bond_probs.as_slice()[r * n_bond..][..n_bond]
                .iter()
                .map(|x| x.as_f64())
                .collect();
            let values = constraints::evaluate(&pf, &pa, n, &set);
            (pf, pa, values)
        })
        .collect();
    if let (Some(out), true) = (pattern, set.active[0]) {
        for (pf, pa, _) in &per_row {
            constraints::push_valence_pattern(pf, pa, n, out);
        }
    }
    let scale = batch.n_items as f64 / rows as f64;
    let mut loss = 0.0;
    let mut means = [0.0; 4];
    // Coefficient of each row's r_k in the loss gradient.
    let mut coeff = vec![[0.0; 4]; rows];
    for kk in 0..4 {
        let mu = objective.constraint_weights[kk];
        for (_, _, v) in &per_row {
            means[kk] += v.values[kk] / rows as f64;
        }
        if mu == 0.0 {
            continue;
        }
        for col in 0..b {
            let mean_sq = (0..l)
                .map(|ell| per_row[ell * b + col].2.values[kk].powi(2))
                .sum::<f64>()
                / l as f64;
            let rms = mean_sq.sqrt();
            let outer = scale * batch.weights[col] * mu;
            loss += outer * l as f64 * rms;
            if rms > 0.0 {
                for ell in 0..l {
                    // ∂(L·√(mean r²))/∂r_ℓ = r_ℓ / √(mean r²).
                    coeff[ell * b + col][kk] = outer * per_row[ell * b + col].2.values[kk] / rms;
                }
            }
        }
    }
    let mut d_atoms = Matrix::zeros(n_atom, rows);
    let mut d_probs = Matrix::zeros(n_bond, rows);
    for (r, (pf, _, values)) in per_row.iter().enumerate() {
        let mut d_pf = vec![0.0; n_atom];
        let d_pa = &mut d_probs.as_mut_slice()[r * n_bond..][..n_bond];
        for (kk, &c) in coeff[r].iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            for (d, g) in d_pf.iter_mut().zip(&values.grad_atoms[kk]) {
                *d += c * g;
            }
            for (d, g) in d_pa.iter_mut().zip(&values.grad_bonds[kk]) {
                *d += T::of_f64(c * g);
            }
        }
        // Softmax backward per node: ∂F = P (∂P − Σ P ∂P).
        let d = &mut d_atoms.as_mut_slice()[r * n_atom..][..n_atom];
        for v in 0..n {
            let base = v * N_ATOM_CLASSES;
            let inner: f64 = (0..N_ATOM_CLASSES)
                .map(|c| pf[base + c] * d_pf[base + c])
                .sum();
            for c in 0..N_ATOM_CLASSES {
                d[base + c] = T::of_f64(pf[base + c] * (d_pf[base + c] - inner));
            }
        }
    }
    let zero_bonds = Matrix::zeros(n_bond, rows);
    // The gradient with respect to z̃ is discarded: prior samples are not parameters.
    let _ = decoder::backward(
        params,
        config,
        &cache,
        grad,
        &d_atoms,
        &zero_bonds,
        Some(&d_probs),
    );
    (loss, means)
}

/// The code rejects R1–R4 penalties on a conditional model (its prior samples carry no
/// conditions) [C §3.4]; so do we.
pub(crate) fn check_not_constrained_conditional(
    objective: &ObjectiveConfig,
    config: &crate::ModelConfig,
) -> Result<()> {
    if objective.constrained() && config.n_conditions > 0 {
        return Err(Error::InvalidConfig {
            name: "constraint_weights",
            reason: format!(
                "the R1–R4 penalties {:?} cannot be combined with a conditional model (n_conditions = {}); the paper's code rejects constrained conditional design too",
                objective.constraint_weights, config.n_conditions
            ),
        });
    }
    Ok(())
}

/// Per target: atom class per node and bond class per ordered pair (row-major `n × n`).
fn target_classes(targets: &[DenseGraph], n: usize) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    targets
        .iter()
        .enumerate()
        .map(|(item, target)| {
            for v in n..molgraph::MAX_ATOMS {
                if !target.classes[v].is_ghost() {
                    return Err(Error::InvalidTarget {
                        item,
                        reason: format!("node {v} is a heavy atom but the model has {n} nodes"),
                    });
                }
            }
            let atoms = (0..n).map(|v| target.classes[v].index()).collect();
            let mut bonds = vec![0; n * n];
            for u in 0..molgraph::MAX_ATOMS {
                for v in 0..molgraph::MAX_ATOMS {
                    let order = target.bond_orders[u][v];
                    if order == 0 {
                        continue;
                    }
                    if u >= n || v >= n || u == v || order > 3 || target.bond_orders[v][u] != order {
                        return Err(Error::InvalidTarget {
                            item,
                            reason: format!(
                                "bond ({u}, {v}) of order {order} is not a symmetric off-diagonal order 1..=3 within {n} nodes"
                            ),
                        });
                    }
                    bonds[u * n + v] = order as usize;
                }
            }
            Ok((atoms, bonds))
        })
        .collect()
}

fn check_len(op: &'static str, expected: usize, got: usize) -> Result<()> {
    check_shape(op, (expected, 1), (got, 1))
}

fn check_shape(op: &'static str, expected: (usize, usize), got: (usize, usize)) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch { op, expected, got })
    }
}

#[cfg(test)]
mod tests {
    use linalg::{
        rng::{Stream, stream},
        testing::{assert_all_close, central_difference, tol},
    };

    use super::*;
    use crate::ModelConfig;

    /// Checks the full objective's gradient at up to 20 seeds, keeping 3 whose activation
    /// pattern is constant within the finite-difference steps; with `n_conditions > 0`, the
    /// conditional objective on random standardised conditions.
    fn check_objective(
        constraint_weights: [f64; 4],
        cycle_measure: CycleMeasure,
        n_conditions: usize,
    ) {
        let config = ModelConfig {
            n_conditions,
            ..ModelConfig::small(4)
        };
        let targets: Vec<DenseGraph> = ["CC#N", "OC=O", "C1CC1"]
            .iter()
            .map(|s| molgraph::parse_smiles(s).unwrap().to_dense())
            .collect();
        let objective = ObjectiveConfig {
            n_samples: 2,
            constraint_weights,
            connectivity_sharpness: constraints::CONNECTIVITY_SHARPNESS,
            cycle_measure,
        };
        // Unequal weights on the "all N sum to 1" scale, with N = 5.
        let weights = [0.1, 0.3, 0.25];
        let mut checked = 0;
        for seed in 0..20 {
            let mut rng = stream(seed, Stream::Init);
            let mut model = MolVae::<f64>::new(config.clone(), &mut rng).unwrap();
            let mut features = Matrix::zeros(config.n_features, 3);
            fill_standard_normal(features.as_mut_slice(), &mut rng);
            let noise = StepNoise::draw(config.n_latent, 3, &objective, &mut rng);
            let conditions = (n_conditions > 0).then(|| {
                let mut c = Matrix::zeros(n_conditions, 3);
                fill_standard_normal(c.as_mut_slice(), &mut rng);
                c
            });
            let batch = Batch {
                features: &features,
                targets: &targets,
                weights: &weights,
                n_items: 5,
            };
            let mut grad = model.params.zeros_like();
            let mut base = Vec::new();
            let terms = loss_and_gradient_with_pattern(
                &mut model,
                &batch,
                conditions.as_ref(),
                &objective,
                &noise,
                &mut grad,
                Some(&mut base),
            )
            .unwrap();
            if constraint_weights.iter().any(|&m| m > 0.0) {
                assert!(terms.constraints.iter().any(|&c| c > 0.0));
            }
            let template = model.clone();
            let mut smooth = true;
            let numeric = central_difference(
                |p| {
                    let mut m = template.clone();
                    m.params.set_flat(p).unwrap();
                    let mut g = m.params.zeros_like();
                    let mut pattern = Vec::new();
                    let t = loss_and_gradient_with_pattern(
                        &mut m,
                        &batch,
                        conditions.as_ref(),
                        &objective,
                        &noise,
                        &mut g,
                        Some(&mut pattern),
                    )
                    .unwrap();
                    smooth &= pattern == base;
                    t.loss
                },
                &model.params.to_flat(),
            );
            if !smooth {
                continue;
            }
            assert_all_close(&grad.to_flat(), &numeric, tol::GRAD);
            checked += 1;
            if checked == 3 {
                break;
            }
        }
        assert_eq!(
            checked, 3,
            "fewer than 3 seeds had a constant activation pattern"
        );
    }

    #[test]
    fn weighted_elbo_gradient_matches_finite_differences() {
        check_objective([0.0; 4], CycleMeasure::Resolvent, 0);
    }

    #[test]
    fn constrained_elbo_gradient_matches_finite_differences() {
        check_objective([0.7, 0.5, 1.3, 2.0], CycleMeasure::Resolvent, 0);
        check_objective([0.7, 0.5, 1.3, 2.0], CycleMeasure::WalkSum, 0);
    }

    #[test]
    fn conditional_elbo_gradient_matches_finite_differences() {
        check_objective([0.0; 4], CycleMeasure::Resolvent, 3);
    }
}

//! Writes the Rust side's reference results for the PyTorch scripts in `benches/reference/`.
//!
//! `cargo run --release -p benches --example reference_case -- DIR` writes, for each case, a
//! `DIR/<case>.json` header and a `DIR/<case>.bin` body. The body is every array of the case as
//! little-endian `f32`, row-major, one after another; the header lists each array's name, shape
//! and offset (in `f32`s), and the case's scalars. The inputs are the criterion benches' own
//! (same seeds, same builders), so a script that loads them runs the benched problem, and
//! checks its result against the one written here before it times anything.
//!
//! Cases:
//! - `online_step`: paper B's network under FA + Oja, 20 online steps on the bench's 16 inputs
//!   in turn; `weights_after` is every layer after the last step.
//! - `meta_episode_bio`, `meta_episode_pool`: one F^bio (F^pool) meta-training episode by
//!   forward mode, Θ as in the bench; `gradient` is `dL/dΘ` over the ten terms and
//!   `query_loss` the query cross-entropy after the last update.
//! - `molvae_step_24`: the `mol_vae/molvae_step/24` bench's problem (every parameter, the
//!   features, the targets), the reparameterisation noise `epsilon.k` of its first two training
//!   steps and the loss `loss.k` of each; the second step's loss is taken after one Adam step on
//!   the first's gradient, so it checks the gradient and Adam as well as the forward pass.

use std::{fmt::Write as _, path::PathBuf};

use benches::{
    META_TRAIN, MetaProblem, MolVaeProblem, meta_problem, meta_theta, molvae_problem, pixel_inputs,
};
use feedback_alignment::{Feedback, FeedbackKind, online_step};
use linalg::{
    Matrix,
    rng::{Stream, stream},
};
use meta_plasticity::{RuleFamily, meta_gradient};
use mol_vae::{AdamConfig, Batch, Linear, StepNoise, train_step};
use plasticity_core::{Mlp, MlpConfig, N_TERMS, Rule, RuleSet};

/// Online steps of the `online_step` case.
const ONLINE_STEPS: usize = 20;
/// Inputs of the online-step bench, used in turn.
const N_INPUTS: usize = 16;
/// Batch size `B` and training-set size `N` of the `molvae_step_24` case (the bench's N = 600).
const MOLVAE_BATCH: (usize, usize) = (24, 600);
/// Training steps of the `molvae_step_24` case.
const MOLVAE_STEPS: usize = 2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: reference_case OUTPUT_DIR")?,
    );
    std::fs::create_dir_all(&dir)?;
    online_case().write(&dir, "online_step")?;
    meta_case(RuleFamily::Bio)?.write(&dir, "meta_episode_bio")?;
    meta_case(RuleFamily::Pool)?.write(&dir, "meta_episode_pool")?;
    molvae_case()?.write(&dir, "molvae_step_24")?;
    Ok(())
}

/// Named arrays and scalars, in the order they are written.
#[derive(Default)]
struct Case {
    arrays: Vec<(String, Vec<usize>, Vec<f32>)>,
    scalars: Vec<(String, f64)>,
}

impl Case {
    fn matrix(&mut self, name: &str, m: &Matrix<f32>) {
        // nalgebra stores columns; the file stores rows.
        let row_major = m.transpose().iter().copied().collect();
        self.arrays
            .push((name.to_string(), vec![m.nrows(), m.ncols()], row_major));
    }

    fn matrices(&mut self, name: &str, ms: &[Matrix<f32>]) {
        for (idx, m) in ms.iter().enumerate() {
            self.matrix(&format!("{name}.{idx}"), m);
        }
    }

    fn rows(&mut self, name: &str, rows: &[Vec<f32>]) {
        let cols = rows.first().map_or(0, Vec::len);
        let data = rows.iter().flatten().copied().collect();
        self.arrays
            .push((name.to_string(), vec![rows.len(), cols], data));
    }

    fn linear(&mut self, name: &str, layer: &Linear<f32>) {
        self.matrix(&format!("{name}.weight"), &layer.weight);
        self.vector(&format!("{name}.bias"), layer.bias.as_slice().to_vec());
    }

    fn vector(&mut self, name: &str, data: Vec<f32>) {
        self.arrays.push((name.to_string(), vec![data.len()], data));
    }

    fn scalar(&mut self, name: &str, value: f64) {
        self.scalars.push((name.to_string(), value));
    }

    fn write(&self, dir: &std::path::Path, case: &str) -> std::io::Result<()> {
        let mut body = Vec::new();
        let mut header = format!("{{\"case\": \"{case}\", \"arrays\": [");
        let mut offset = 0;
        for (idx, (name, shape, data)) in self.arrays.iter().enumerate() {
            let shape = shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let sep = if idx == 0 { "" } else { ", " };
            write!(
                header,
                "{sep}{{\"name\": \"{name}\", \"shape\": [{shape}], \"offset\": {offset}}}"
            )
            .expect("writing to a String cannot fail");
            offset += data.len();
            body.extend(data.iter().flat_map(|v| v.to_le_bytes()));
        }
        header.push_str("], \"scalars\": {");
        for (idx, (name, value)) in self.scalars.iter().enumerate() {
            let sep = if idx == 0 { "" } else { ", " };
            // `{:e}` keeps every digit of the f64 and is valid JSON.
            write!(header, "{sep}\"{name}\": {value:e}").expect("writing to a String cannot fail");
        }
        header.push_str("}}\n");
        std::fs::write(dir.join(format!("{case}.bin")), body)?;
        std::fs::write(dir.join(format!("{case}.json")), header)
    }
}

/// The `plasticity/online_step` bench's problem, and its weights after [`ONLINE_STEPS`] steps.
fn online_case() -> Case {
    let config = MlpConfig::default();
    let mut net =
        Mlp::<f32>::new(&config, &mut stream(0, Stream::Init)).expect("paper config is valid");
    let mut feedback = Feedback::new(
        FeedbackKind::Fixed,
        &config.sizes,
        1.0,
        &mut stream(0, Stream::Feedback),
    )
    .expect("paper sizes are valid");
    let inputs = pixel_inputs(N_INPUTS, config.sizes[0], 100);
    let labels: Vec<usize> = (0..N_INPUTS).map(|idx| idx % 10).collect();
    let (theta0, theta9) = (0.01, 0.004);
    let rules = RuleSet::from(Rule::oja(theta0, theta9));
    let mut case = Case::default();
    case.matrices("weights", net.weights());
    case.matrices("feedback", feedback.matrices());
    case.rows("inputs", &inputs);
    case.vector("labels", labels.iter().map(|&l| l as f32).collect());
    let mut state = net.new_state();
    for step in 0..ONLINE_STEPS {
        let idx = step % N_INPUTS;
        online_step(
            &mut net,
            &mut feedback,
            &rules,
            &mut state,
            &inputs[idx],
            labels[idx],
        )
        .expect("the reference steps do not diverge");
    }
    case.matrices("weights_after", net.weights());
    case.scalar("steps", ONLINE_STEPS as f64);
    case.scalar("beta", config.beta);
    case.scalar("theta0", theta0);
    case.scalar("theta9", theta9);
    case
}

/// The `meta_plasticity/meta_episode/{bio,pool}` bench's problem and its forward-mode result.
fn meta_case(family: RuleFamily) -> Result<Case, Box<dyn std::error::Error>> {
    let MetaProblem {
        inner,
        feedback,
        inputs,
    } = meta_problem();
    let samples: Vec<(&[f32], usize)> = inputs
        .iter()
        .enumerate()
        .map(|(idx, x)| (x.as_slice(), idx % 5))
        .collect();
    let (train, query) = samples.split_at(META_TRAIN);
    let plastic = family.terms();
    let theta = meta_theta(&plastic);
    let outcome = meta_gradient(&inner, &plastic, &theta, train, query)?;
    let mut case = Case::default();
    case.matrices("weights", &inner.weights);
    case.matrices("feedback", &feedback);
    case.rows("inputs", &inputs);
    case.vector(
        "labels",
        samples.iter().map(|&(_, label)| label as f32).collect(),
    );
    case.vector("theta", theta.iter().map(|&t| t as f32).collect());
    let mut plastic_mask = vec![0.0; N_TERMS];
    for term in &plastic {
        plastic_mask[term.index()] = 1.0;
    }
    case.vector("plastic", plastic_mask);
    case.vector(
        "gradient",
        outcome.gradient.iter().map(|&g| g as f32).collect(),
    );
    case.matrices("weights_after", &outcome.weights);
    case.scalar("query_loss", outcome.query_loss);
    case.scalar("n_train", META_TRAIN as f64);
    case.scalar("beta", inner.beta);
    for (idx, g) in outcome.gradient.iter().enumerate() {
        case.scalar(&format!("gradient_f64.{idx}"), *g);
    }
    Ok(case)
}

/// The `mol_vae/molvae_step/24` bench's problem and the losses of its first [`MOLVAE_STEPS`]
/// training steps, with the noise each drew.
fn molvae_case() -> Result<Case, Box<dyn std::error::Error>> {
    let (batch_size, n_items) = MOLVAE_BATCH;
    let MolVaeProblem {
        mut model,
        mut adam,
        features,
        targets,
        weights,
        n_items,
        objective,
    } = molvae_problem(batch_size, n_items);
    let batch = Batch {
        features: &features,
        targets: &targets,
        weights: &weights,
        n_items,
    };
    let config = model.config().clone();
    let params = &model.params;
    let mut case = Case::default();
    case.vector(
        "input_norm.gamma",
        params.input_norm.gamma.as_slice().to_vec(),
    );
    case.vector(
        "input_norm.beta",
        params.input_norm.beta.as_slice().to_vec(),
    );
    case.linear("hidden", &params.hidden);
    case.vector(
        "hidden_norm.gamma",
        params.hidden_norm.gamma.as_slice().to_vec(),
    );
    case.vector(
        "hidden_norm.beta",
        params.hidden_norm.beta.as_slice().to_vec(),
    );
    case.linear("mean", &params.mean);
    case.linear("log_var", &params.log_var);
    for (idx, layer) in params.decoder.iter().enumerate() {
        case.linear(&format!("decoder.{idx}"), layer);
    }
    case.linear("atom_head", &params.atom_head);
    // One row per molecule, as PyTorch's batch-first layout.
    case.matrix("features", &features.transpose());
    // Class indices in [C, O, N, F, ghost] order (the one-hot's columns).
    let atom_classes: Vec<f32> = targets
        .iter()
        .flat_map(|graph| graph.classes.map(|class| class.index() as f32))
        .collect();
    case.arrays.push((
        "atoms".to_string(),
        vec![batch_size, config.n_nodes],
        atom_classes,
    ));
    let bond_orders: Vec<f32> = targets
        .iter()
        .flat_map(|graph| {
            graph
                .bond_orders
                .iter()
                .flatten()
                .map(|&order| f32::from(order))
        })
        .collect();
    case.arrays.push((
        "bonds".to_string(),
        vec![batch_size, config.n_nodes, config.n_nodes],
        bond_orders,
    ));
    let adam_config = AdamConfig::default();
    let mut grad = model.params.zeros_like();
    let mut rng = stream(0, Stream::Noise);
    for step in 0..MOLVAE_STEPS {
        // The draw `train_step` makes next, from a copy of its generator.
        let noise =
            StepNoise::<f32>::draw(config.n_latent, batch_size, &objective, &mut rng.clone());
        // Row ℓ·B + b is copy ℓ of molecule b, as PyTorch's `repeat(L, 1)`.
        case.matrix(&format!("epsilon.{step}"), &noise.epsilon.transpose());
        let terms = train_step(
            &mut model,
            &mut adam,
            &batch,
            &objective,
            &adam_config,
            &mut grad,
            &mut rng,
        )?;
        case.scalar(&format!("loss.{step}"), terms.loss);
    }
    case.scalar("steps", MOLVAE_STEPS as f64);
    case.scalar("n_samples", objective.n_samples as f64);
    case.scalar("leaky_slope", config.leaky_slope);
    case.scalar("bn_eps", config.bn_eps);
    case.scalar("bn_momentum", config.bn_momentum);
    case.scalar("lr", adam_config.lr);
    case.scalar("beta1", adam_config.beta1);
    case.scalar("beta2", adam_config.beta2);
    case.scalar("adam_eps", adam_config.eps);
    Ok(case)
}

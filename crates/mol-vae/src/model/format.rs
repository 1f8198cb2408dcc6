//! The serialised form of a [`MolVae`]: the configuration without `n_conditions` (the layout
//! checkpoints have always had), the parameters and the BatchNorm statistics. Reading recovers
//! `n_conditions` from the first decoder layer's width and checks every shape.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use linalg::Float;

use crate::{
    Error, ModelConfig, MolVae, Parameters, Result,
    batch_norm::{Affine, RunningStats},
    linear::Linear,
};

impl<T: Float> Serialize for MolVae<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        MolVaeRef {
            config: ConfigRepr::of(&self.config),
            params: &self.params,
            input_stats: &self.input_stats,
            hidden_stats: &self.hidden_stats,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Float> Deserialize<'de> for MolVae<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let repr = MolVaeRepr::<T>::deserialize(deserializer)?;
        from_repr(repr).map_err(D::Error::custom)
    }
}

/// The serialised form of a [`ModelConfig`]: every field but `n_conditions`, in the order
/// checkpoints have always used.
#[derive(Serialize, Deserialize)]
#[serde(rename = "ModelConfig")]
struct ConfigRepr {
    n_features: usize,
    n_hidden: usize,
    n_latent: usize,
    decoder_widths: Vec<usize>,
    n_nodes: usize,
    bond_embedding: usize,
    leaky_slope: f64,
    bn_momentum: f64,
    bn_eps: f64,
}

impl ConfigRepr {
    fn of(config: &ModelConfig) -> ConfigRepr {
        ConfigRepr {
            n_features: config.n_features,
            n_hidden: config.n_hidden,
            n_latent: config.n_latent,
            decoder_widths: config.decoder_widths.clone(),
            n_nodes: config.n_nodes,
            bond_embedding: config.bond_embedding,
            leaky_slope: config.leaky_slope,
            bn_momentum: config.bn_momentum,
            bn_eps: config.bn_eps,
        }
    }

    fn into_config(self, n_conditions: usize) -> ModelConfig {
        ModelConfig {
            n_features: self.n_features,
            n_hidden: self.n_hidden,
            n_latent: self.n_latent,
            decoder_widths: self.decoder_widths,
            n_nodes: self.n_nodes,
            bond_embedding: self.bond_embedding,
            leaky_slope: self.leaky_slope,
            bn_momentum: self.bn_momentum,
            bn_eps: self.bn_eps,
            n_conditions,
        }
    }
}

/// The serialised form of a [`MolVae`] (owned, for reading).
#[derive(Deserialize)]
#[serde(rename = "MolVae", bound = "")]
struct MolVaeRepr<T: Float> {
    config: ConfigRepr,
    params: Parameters<T>,
    input_stats: RunningStats<T>,
    hidden_stats: RunningStats<T>,
}

/// The serialised form of a [`MolVae`] (borrowed, for writing).
#[derive(Serialize)]
#[serde(rename = "MolVae", bound = "")]
struct MolVaeRef<'a, T: Float> {
    config: ConfigRepr,
    params: &'a Parameters<T>,
    input_stats: &'a RunningStats<T>,
    hidden_stats: &'a RunningStats<T>,
}

/// The model from its serialised parts: `n_conditions` is the first decoder layer's input width
/// minus `n_latent`, and every tensor must have the configuration's shape.
fn from_repr<T: Float>(repr: MolVaeRepr<T>) -> Result<MolVae<T>> {
    let n_in = repr.params.decoder.first().map_or(0, Linear::n_in);
    let n_conditions = n_in
        .checked_sub(repr.config.n_latent)
        .ok_or(Error::ShapeMismatch {
            op: "MolVae deserialisation (first decoder layer)",
            expected: (repr.config.n_latent, 1),
            got: (n_in, 1),
        })?;
    let config = repr.config.into_config(n_conditions);
    config.validate()?;
    let fresh = zeros_of::<T>(&config);
    if fresh.decoder.len() != repr.params.decoder.len() {
        return Err(Error::ShapeMismatch {
            op: "MolVae deserialisation (decoder layers)",
            expected: (fresh.decoder.len(), 1),
            got: (repr.params.decoder.len(), 1),
        });
    }
    for (want, got) in shapes(&fresh).into_iter().zip(shapes(&repr.params)) {
        if want != got {
            return Err(Error::ShapeMismatch {
                op: "MolVae deserialisation (parameter tensor)",
                expected: want,
                got,
            });
        }
    }
    for (stats, n) in [
        (&repr.input_stats, config.n_features),
        (&repr.hidden_stats, config.n_hidden),
    ] {
        if stats.mean.len() != n || stats.var.len() != n {
            return Err(Error::ShapeMismatch {
                op: "MolVae deserialisation (BatchNorm running statistics)",
                expected: (n, 2),
                got: (stats.mean.len(), stats.var.len()),
            });
        }
    }
    Ok(MolVae {
        config,
        params: repr.params,
        input_stats: repr.input_stats,
        hidden_stats: repr.hidden_stats,
    })
}

/// Zero tensors of the shapes a valid `config` asks for.
fn zeros_of<T: Float>(config: &ModelConfig) -> Parameters<T> {
    let mut decoder = Vec::with_capacity(config.decoder_widths.len());
    let mut n_in = config.n_decoder_inputs();
    for &n_out in &config.decoder_widths {
        decoder.push(Linear::zeros(n_out, n_in));
        n_in = n_out;
    }
    Parameters {
        input_norm: Affine::zeros(config.n_features),
        hidden: Linear::zeros(config.n_hidden, config.n_features),
        hidden_norm: Affine::zeros(config.n_hidden),
        mean: Linear::zeros(config.n_latent, config.n_hidden),
        log_var: Linear::zeros(config.n_latent, config.n_hidden),
        decoder,
        atom_head: Linear::zeros(config.n_atom_logits(), config.n_atom_head_inputs()),
    }
}

/// `(rows, columns)` of every tensor in the order of [`Parameters::tensors`] (vectors are
/// `n × 1`).
fn shapes<T: Float>(params: &Parameters<T>) -> Vec<(usize, usize)> {
    let mut out = vec![
        (params.input_norm.gamma.len(), 1),
        (params.input_norm.beta.len(), 1),
        params.hidden.weight.shape(),
        (params.hidden.bias.len(), 1),
        (params.hidden_norm.gamma.len(), 1),
        (params.hidden_norm.beta.len(), 1),
        params.mean.weight.shape(),
        (params.mean.bias.len(), 1),
        params.log_var.weight.shape(),
        (params.log_var.bias.len(), 1),
    ];
    for layer in &params.decoder {
        out.push(layer.weight.shape());
        out.push((layer.bias.len(), 1));
    }
    out.push(params.atom_head.weight.shape());
    out.push((params.atom_head.bias.len(), 1));
    out
}

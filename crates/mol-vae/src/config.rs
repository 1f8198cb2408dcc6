//! Model sizes and layer constants of the GSVAE network (digest molecular.md §3.1).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Number of atom classes `[C, O, N, F, ghost]` [C §1].
pub const N_ATOM_CLASSES: usize = 5;

/// Number of bond classes `{none, single, double, triple}` [C §1].
pub const N_BOND_CLASSES: usize = 4;

/// Sizes and constants of the network. [`Default`] holds the paper's values; tests use small
/// sizes (see [`ModelConfig::small`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Input features per molecule, 9,425 = 5 channels × 1,885 scattering paths [C §2.4].
    pub n_features: usize,
    /// Width of the encoder's hidden layer, 400 [C §3.1].
    pub n_hidden: usize,
    /// Latent dimension, 30 [C §3.1].
    pub n_latent: usize,
    /// Widths of the adjacency net's fully connected layers, `[60, 120, 240, 288]` [C §3.1].
    /// The last must equal `n_nodes · 4 · bond_embedding`.
    pub decoder_widths: Vec<usize>,
    /// Nodes per graph, 9 heavy-atom slots [C §1].
    pub n_nodes: usize,
    /// Length of each node's per-bond-class embedding `H_{v,t,:}`, 8 [C §3.1].
    pub bond_embedding: usize,
    /// Negative slope of every LeakyReLU, 0.01 [C §3.1].
    pub leaky_slope: f64,
    /// BatchNorm running-statistics momentum, 0.1 (PyTorch's `BatchNorm1d` default; the code
    /// keeps it) [C §3.1].
    pub bn_momentum: f64,
    /// BatchNorm `ε`, 1e-5 (PyTorch's default) [C §3.1].
    pub bn_eps: f64,
    /// Number of conditioning properties `c` of the conditional model (CVAE), 0 for the
    /// unconditional one (the default). The conditional design of the code uses 3 standardised
    /// properties (TPSA, MolWt, LogP): they enter the encoder as constant node channels of the
    /// scattering input (so `n_features` is then `(5 + 3) · 1,885 = 15,080`, see
    /// [`crate::features::conditional_scattering_features`]) and both decoder heads as `[z ‖ c]`
    /// [C §2.4, §3.4].
    pub n_conditions: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            n_features: 9_425,
            n_hidden: 400,
            n_latent: 30,
            decoder_widths: vec![60, 120, 240, 288],
            n_nodes: 9,
            bond_embedding: 8,
            leaky_slope: 0.01,
            bn_momentum: 0.1,
            bn_eps: 1e-5,
            n_conditions: 0,
        }
    }
}

impl ModelConfig {
    /// A small network of the same shape, for gradient checks and fast tests: `n_features`
    /// inputs, 4 nodes, embedding 2, hidden 5, latent 3, decoder widths `[4, 6, 32]`.
    ///
    /// # Example
    /// ```
    /// let config = mol_vae::ModelConfig::small(6);
    /// assert!(config.validate().is_ok());
    /// assert_eq!(config.decoder_widths.last(), Some(&(4 * 4 * 2)));
    /// ```
    pub fn small(n_features: usize) -> ModelConfig {
        ModelConfig {
            n_features,
            n_hidden: 5,
            n_latent: 3,
            decoder_widths: vec![4, 6, 32],
            n_nodes: 4,
            bond_embedding: 2,
            ..ModelConfig::default()
        }
    }

    /// Checks the sizes and constants.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero size, a last decoder width that is not
    /// `n_nodes · 4 · bond_embedding`, or a constant out of range.
    ///
    /// # Example
    /// ```
    /// let mut config = mol_vae::ModelConfig::default();
    /// assert!(config.validate().is_ok());
    /// config.decoder_widths = vec![60, 100];
    /// assert!(config.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("n_features", self.n_features),
            ("n_hidden", self.n_hidden),
            ("n_latent", self.n_latent),
            ("bond_embedding", self.bond_embedding),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(invalid(name, "must be positive".into()));
            }
        }
        if !(2..=9).contains(&self.n_nodes) {
            return Err(invalid(
                "n_nodes",
                format!("{} is outside 2..=9 (molgraph graphs)", self.n_nodes),
            ));
        }
        let want = self.n_bond_head();
        match self.decoder_widths.last() {
            None => return Err(invalid("decoder_widths", "must not be empty".into())),
            Some(&last) if last != want => {
                return Err(invalid(
                    "decoder_widths",
                    format!("last width {last} must be n_nodes · 4 · bond_embedding = {want}"),
                ));
            }
            Some(_) => {}
        }
        if self.decoder_widths.contains(&0) {
            return Err(invalid("decoder_widths", "a width is zero".into()));
        }
        if !(self.leaky_slope.is_finite() && (0.0..1.0).contains(&self.leaky_slope)) {
            return Err(invalid(
                "leaky_slope",
                format!("{} is outside [0, 1)", self.leaky_slope),
            ));
        }
        if !(self.bn_momentum.is_finite() && (0.0..=1.0).contains(&self.bn_momentum)) {
            return Err(invalid(
                "bn_momentum",
                format!("{} is outside [0, 1]", self.bn_momentum),
            ));
        }
        if !(self.bn_eps.is_finite() && self.bn_eps > 0.0) {
            return Err(invalid(
                "bn_eps",
                format!("{} must be positive", self.bn_eps),
            ));
        }
        Ok(())
    }

    /// Length of the flattened bond-logit tensor, `n_nodes² · 4` (324 in the paper).
    pub fn n_bond_logits(&self) -> usize {
        self.n_nodes * self.n_nodes * N_BOND_CLASSES
    }

    /// Length of the atom-logit vector, `n_nodes · 5` (45 in the paper).
    pub fn n_atom_logits(&self) -> usize {
        self.n_nodes * N_ATOM_CLASSES
    }

    /// Input width of the atom head, `n_nodes² · 4 + n_latent + n_conditions` (354 in the
    /// paper; 357 for its conditional design).
    pub fn n_atom_head_inputs(&self) -> usize {
        self.n_bond_logits() + self.n_decoder_inputs()
    }

    /// Rows of the decoder's input `[z ‖ c]`: `n_latent + n_conditions` (30, or 33 for the
    /// conditional design) [C §3.4].
    ///
    /// # Example
    /// ```
    /// let config = mol_vae::ModelConfig { n_conditions: 3, ..mol_vae::ModelConfig::default() };
    /// assert_eq!(config.n_decoder_inputs(), 33);
    /// assert_eq!(config.n_atom_head_inputs(), 324 + 33);
    /// ```
    pub fn n_decoder_inputs(&self) -> usize {
        self.n_latent + self.n_conditions
    }

    /// Width of the last decoder layer, `n_nodes · 4 · bond_embedding` (288 in the paper).
    pub fn n_bond_head(&self) -> usize {
        self.n_nodes * N_BOND_CLASSES * self.bond_embedding
    }
}

fn invalid(name: &'static str, reason: String) -> Error {
    Error::InvalidConfig { name, reason }
}

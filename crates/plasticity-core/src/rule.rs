//! The ten candidate plasticity terms F0–F9 of paper B and rules `ΔW = Σ_r θ_r F_r`.
//!
//! Notation for one weight layer ℓ: `W = W_{ℓ−1,ℓ}` (`n_ℓ × n_{ℓ−1}`), column vectors `y = y_ℓ`,
//! `e = e_ℓ`, `yₚ = y_{ℓ−1}`, `eₚ = e_{ℓ−1}`, `z = z_ℓ = W yₚ`, and `1 = 1_ℓ` (ones, length
//! `n_ℓ`). For ℓ = 1, `yₚ = x` and `eₚ = e₀`, the synthetic input-layer error (Eq. 24); for
//! ℓ = L, `y` is the softmax output.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Number of candidate terms in paper B's pool.
pub const N_TERMS: usize = 10;

/// One candidate term `F_r` [B §Methods, Eqs. 14–23]. The discriminant is `r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Term {
    /// ```text
    /// F⁰ = −e yₚᵀ              pseudo-gradient (BP if B = Wᵀ)      [B §Methods, Eq. 14]
    /// ```
    PseudoGradient = 0,
    /// ```text
    /// F¹ = −y eₚᵀ                                                  [B §Methods, Eq. 15]
    /// ```
    PostActivationPreError = 1,
    /// ```text
    /// F² = −e eₚᵀ              error-based Hebbian ("eHebb")        [B §Methods, Eq. 16]
    /// ```
    ErrorHebb = 2,
    /// ```text
    /// F³ = −W                  weight decay                         [B §Methods, Eq. 17]
    /// ```
    Decay = 3,
    /// ```text
    /// F⁴ = −1 eₚᵀ              every row is eₚᵀ                     [B §Methods, Eq. 18]
    /// ```
    PreError = 4,
    /// ```text
    /// F⁵ = −e 1ᵀ y yₚᵀ = −(Σⱼ yⱼ) e yₚᵀ                           [B §Methods, Eq. 19]
    /// ```
    ScaledPseudoGradient = 5,
    /// ```text
    /// F⁶ = −y yᵀ W eₚ eₚᵀ = −(yᵀ W eₚ) y eₚᵀ                      [B §Methods, Eq. 20]
    /// ```
    ProjectedPostPreError = 6,
    /// ```text
    /// F⁷ = −e yᵀ W eₚ yₚᵀ = −(yᵀ W eₚ) e yₚᵀ                      [B §Methods, Eq. 21]
    /// ```
    ProjectedErrorActivation = 7,
    /// ```text
    /// F⁸ = −y yₚᵀ Wᵀ e eₚᵀ = −(eᵀ W yₚ) y eₚᵀ = −(eᵀ z) y eₚᵀ     [B §Methods, Eq. 22]
    /// ```
    ProjectedActivationError = 8,
    /// ```text
    /// F⁹ = y yₚᵀ − y yᵀ W = y (yₚ − Wᵀ y)ᵀ   subspace Oja rule     [B §Methods, Eq. 23]
    /// ```
    Oja = 9,
}

impl Term {
    /// All terms in index order.
    pub const ALL: [Term; N_TERMS] = [
        Term::PseudoGradient,
        Term::PostActivationPreError,
        Term::ErrorHebb,
        Term::Decay,
        Term::PreError,
        Term::ScaledPseudoGradient,
        Term::ProjectedPostPreError,
        Term::ProjectedErrorActivation,
        Term::ProjectedActivationError,
        Term::Oja,
    ];

    /// The paper's index `r`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The equation of paper B's Methods that defines the term (14–23).
    pub const fn equation(self) -> usize {
        14 + self as usize
    }

    /// Whether the term reads the post-synaptic error `e_ℓ`.
    pub const fn needs_error(self) -> bool {
        matches!(
            self,
            Term::PseudoGradient
                | Term::ErrorHebb
                | Term::ScaledPseudoGradient
                | Term::ProjectedErrorActivation
                | Term::ProjectedActivationError
        )
    }

    /// Whether the term reads the pre-synaptic error `e_{ℓ−1}` (for ℓ = 1, the synthetic `e₀`).
    pub const fn needs_presynaptic_error(self) -> bool {
        matches!(
            self,
            Term::PostActivationPreError
                | Term::ErrorHebb
                | Term::PreError
                | Term::ProjectedPostPreError
                | Term::ProjectedErrorActivation
                | Term::ProjectedActivationError
        )
    }
}

/// A plasticity rule `ΔW = Σ_r θ_r F^r` [B §Methods, Eq. 5]; `theta[r]` is the paper's `θ_r`.
///
/// Coefficients are stored in `f64` and rounded once to the network's scalar type.
///
/// # Example
/// ```
/// use plasticity_core::{Rule, Term};
/// let rule = Rule::oja(0.01, 0.004);
/// assert_eq!(rule.theta[Term::Oja.index()], 0.004);
/// assert!(!rule.needs_presynaptic_error());
/// assert!(Rule::ehebb(0.01, -0.015).needs_presynaptic_error());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rule {
    /// `θ₀ … θ₉`.
    pub theta: [f64; N_TERMS],
}

impl Rule {
    /// Pseudo-gradient alone, `θ₀ F⁰` (SGD with learning rate θ₀ under backprop).
    pub fn pseudo_gradient(theta0: f64) -> Rule {
        Rule::default().with(Term::PseudoGradient, theta0)
    }

    /// `F^Oja = θ₀ F⁰ + θ₉ F⁹` [B §Methods, Eq. 10].
    pub fn oja(theta0: f64, theta9: f64) -> Rule {
        Rule::pseudo_gradient(theta0).with(Term::Oja, theta9)
    }

    /// `F^eHebb = θ₀ F⁰ + θ₂ F²` [B §Methods, Eq. 8].
    pub fn ehebb(theta0: f64, theta2: f64) -> Rule {
        Rule::pseudo_gradient(theta0).with(Term::ErrorHebb, theta2)
    }

    /// `F^bio = θ₀ F⁰ + θ₂ F² + θ₉ F⁹` [B §Methods, Eq. 7].
    pub fn bio(theta0: f64, theta2: f64, theta9: f64) -> Rule {
        Rule::ehebb(theta0, theta2).with(Term::Oja, theta9)
    }

    /// This rule with `θ_term` set to `value`.
    pub fn with(mut self, term: Term, value: f64) -> Rule {
        self.theta[term.index()] = value;
        self
    }

    /// The coefficient of one term.
    pub fn coefficient(&self, term: Term) -> f64 {
        self.theta[term.index()]
    }

    /// The terms with a non-zero coefficient.
    pub fn active_terms(&self) -> impl Iterator<Item = Term> + '_ {
        Term::ALL
            .into_iter()
            .filter(|&term| self.coefficient(term) != 0.0)
    }

    /// Whether every coefficient is zero (the rule leaves `W` bitwise unchanged).
    pub fn is_zero(&self) -> bool {
        self.active_terms().next().is_none()
    }

    /// Whether a non-zero term reads `e_ℓ`.
    pub fn needs_error(&self) -> bool {
        self.active_terms().any(Term::needs_error)
    }

    /// Whether a non-zero term reads `e_{ℓ−1}` (for the first layer: the synthetic `e₀`).
    pub fn needs_presynaptic_error(&self) -> bool {
        self.active_terms().any(Term::needs_presynaptic_error)
    }

    /// Checks that every coefficient is finite; `layer` is only used in the error.
    ///
    /// # Errors
    /// [`Error::NonFiniteTheta`] naming the layer and the term.
    pub fn validate(&self, layer: usize) -> Result<()> {
        match self.theta.iter().position(|t| !t.is_finite()) {
            Some(term) => Err(Error::NonFiniteTheta { layer, term }),
            None => Ok(()),
        }
    }
}

/// The rules of a network: one Θ shared by all layers (paper B), or one per layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RuleSet {
    /// One Θ for every layer, including the output layer [B §Methods].
    Shared(Rule),
    /// `rules[ℓ−1]` for weight layer ℓ.
    PerLayer(Vec<Rule>),
}

impl From<Rule> for RuleSet {
    fn from(rule: Rule) -> Self {
        RuleSet::Shared(rule)
    }
}

impl RuleSet {
    /// The rule of weight layer `layer ∈ 1..=L`.
    ///
    /// # Panics
    /// For a per-layer set, if `layer` is 0 or past its end (call [`RuleSet::validate`] first).
    pub fn for_layer(&self, layer: usize) -> &Rule {
        match self {
            RuleSet::Shared(rule) => rule,
            RuleSet::PerLayer(rules) => &rules[layer - 1],
        }
    }

    /// Checks the count (per-layer) and that every coefficient is finite.
    ///
    /// # Errors
    /// [`Error::RuleCount`] or [`Error::NonFiniteTheta`].
    ///
    /// # Example
    /// ```
    /// use plasticity_core::{Rule, RuleSet};
    /// let nan = RuleSet::from(Rule::pseudo_gradient(f64::NAN));
    /// assert!(nan.validate(3).is_err());
    /// assert!(RuleSet::PerLayer(vec![Rule::default(); 2]).validate(3).is_err());
    /// ```
    pub fn validate(&self, n_layers: usize) -> Result<()> {
        match self {
            RuleSet::Shared(rule) => (1..=n_layers).try_for_each(|layer| rule.validate(layer)),
            RuleSet::PerLayer(rules) => {
                if rules.len() != n_layers {
                    return Err(Error::RuleCount {
                        expected: n_layers,
                        got: rules.len(),
                    });
                }
                rules
                    .iter()
                    .enumerate()
                    .try_for_each(|(idx, rule)| rule.validate(idx + 1))
            }
        }
    }

    /// Whether the first layer's rule needs the synthetic input-layer error `e₀` (Eq. 24).
    pub fn needs_input_error(&self) -> bool {
        match self {
            RuleSet::Shared(rule) => rule.needs_presynaptic_error(),
            RuleSet::PerLayer(rules) => rules.first().is_some_and(Rule::needs_presynaptic_error),
        }
    }
}

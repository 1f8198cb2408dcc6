//! Configuration of meta-training: rule family, episodes, the meta-optimiser and the seed.

use serde::{Deserialize, Serialize};

use feedback_alignment::FeedbackKind;
use plasticity_core::{HiddenActivation, MlpConfig, N_TERMS, Term};

use crate::{Error, Result};

/// Which terms `F_r` are plastic, i.e. which θ_r are meta-learned [B §Methods, Eqs. 7–10].
///
/// Every term of the family gets a tangent and a meta-gradient, also while its θ_r is 0.
///
/// # Example
/// ```
/// use meta_plasticity::RuleFamily;
/// use plasticity_core::Term;
/// assert_eq!(RuleFamily::Bio.terms(), vec![Term::PseudoGradient, Term::ErrorHebb, Term::Oja]);
/// assert_eq!(RuleFamily::Pool.terms().len(), 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleFamily {
    /// `θ₀ F⁰` alone: the FA and BP baselines [B §Results, Fig. 3].
    PseudoGradient,
    /// `F^eHebb = θ₀ F⁰ + θ₂ F²` [B §Methods, Eq. 8].
    EHebb,
    /// `F^Oja = θ₀ F⁰ + θ₉ F⁹` [B §Methods, Eq. 10].
    Oja,
    /// `F^bio = θ₀ F⁰ + θ₂ F² + θ₉ F⁹` [B §Methods, Eq. 7].
    Bio,
    /// All ten terms `F⁰ … F⁹` [B §Methods, Eqs. 14–23].
    Pool,
    /// Any other set of terms (distinct, non-empty).
    Custom(Vec<Term>),
}

impl RuleFamily {
    /// The plastic terms in index order.
    pub fn terms(&self) -> Vec<Term> {
        let mut terms = match self {
            RuleFamily::PseudoGradient => vec![Term::PseudoGradient],
            RuleFamily::EHebb => vec![Term::PseudoGradient, Term::ErrorHebb],
            RuleFamily::Oja => vec![Term::PseudoGradient, Term::Oja],
            RuleFamily::Bio => vec![Term::PseudoGradient, Term::ErrorHebb, Term::Oja],
            RuleFamily::Pool => Term::ALL.to_vec(),
            RuleFamily::Custom(terms) => terms.clone(),
        };
        terms.sort_by_key(|term| term.index());
        terms
    }

    fn validate(&self) -> Result<()> {
        let terms = self.terms();
        if terms.is_empty() {
            return Err(Error::InvalidConfig {
                field: "rule",
                reason: "no plastic terms".to_string(),
            });
        }
        if terms.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(Error::InvalidConfig {
                field: "rule",
                reason: format!("duplicate terms in {terms:?}"),
            });
        }
        Ok(())
    }
}

/// How a 5-way task is drawn from the image pool [B §Methods; digest §1.1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeConfig {
    /// Classes per task `M`. Paper B: 5 [B §Methods].
    pub n_ways: usize,
    /// Training images per class `K`, learned online in one shuffled pass. Paper B: 50.
    pub n_train_per_class: usize,
    /// Query images per class `Q`, scored once after the online pass. Paper B: 10.
    pub n_query_per_class: usize,
    /// `true` reproduces the original code's sampling: classes drawn *with* replacement and,
    /// within a class, always the first `K` images for training and the next `Q` for the query
    /// (pool order) [digest §1.1, §4 pitfalls 3–4]. `false` (default) draws distinct classes and
    /// a fresh random `K + Q` images of each class every episode.
    pub faithful: bool,
    /// Classes reserved for meta-testing; meta-training episodes never use them. Paper B has
    /// none (empty, the default) [digest §1.1].
    pub held_out_classes: Vec<usize>,
}

impl Default for EpisodeConfig {
    fn default() -> Self {
        EpisodeConfig {
            n_ways: 5,
            n_train_per_class: 50,
            n_query_per_class: 10,
            faithful: false,
            held_out_classes: Vec::new(),
        }
    }
}

/// What [`MetaTrainer::step`](crate::MetaTrainer::step) does when an episode's inner loop
/// diverges (a NaN or an infinity in an activation, error, weight, tangent or the query loss).
///
/// Paper B does not say; PyTorch would propagate the NaN into Θ and end the run. A skipped,
/// retreated or shrunk episode is recorded with query accuracy 0, NaN query and meta loss, a zero
/// gradient and no diagnostics (see [`EpisodeStats::is_diverged`](crate::EpisodeStats::is_diverged)).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum OnDivergence {
    /// No meta-update: Θ and Adam's moments stay, the episode counter moves on (default).
    #[default]
    Skip,
    /// Return [`Error::Diverged`](crate::Error::Diverged) and leave the trainer unchanged.
    Fail,
    /// Retreat towards the rule that cannot diverge, Θ = (θ₀, 0, …, 0): every plastic θ_r with
    /// r ≠ 0 moves one learning rate towards 0 (stopping at 0), θ₀ stays, and Adam's first
    /// moment is cleared so that momentum does not carry Θ back over the edge; the second
    /// moment and the step count stay.
    ///
    /// ```text
    /// θ_r ← sign(θ_r) · max(|θ_r| − lr / s_r, 0)   (r ≠ 0),   m ← 0
    /// ```
    ///
    /// `s_r` = 1 unless [`MetaOptimizerConfig::term_scales`] is set (then the retreat is one
    /// learning rate in `φ_r = s_r θ_r`).
    Retreat,
    /// Shrink the whole rule: every plastic θ_r, θ₀ included, is multiplied by `factor`
    /// (in (0, 1)), and Adam's first moment is cleared; the second moment and the step count
    /// stay. A diverged inner loop means the plastic update was too large, and Θ = 0 (no
    /// plasticity) cannot diverge, so this moves Θ along the ray towards 0, keeping the
    /// rule's shape (the ratios θ_r / θ₀) — unlike [`OnDivergence::Retreat`], which leaves θ₀,
    /// the learning rate, where it is.
    ///
    /// ```text
    /// θ_r ← factor · θ_r   (every plastic r),   m ← 0          [ours, deviations.md]
    /// ```
    Shrink {
        /// The factor on Θ, in (0, 1).
        factor: f64,
    },
}

/// How the meta learning rate changes over the meta-updates `t = 1, 2, …`.
///
/// Paper B keeps Adam's rate at 1e-3 for all 600 episodes ([`LrSchedule::Constant`]).
/// [`LrSchedule::InverseSqrt`] and [`LrSchedule::Inverse`] decay it after a warm phase, so that
/// the random walk that one-episode meta-gradients drive Θ through shrinks once Θ has found its
/// basin (a deviation where used).
///
/// ```text
/// Constant:             lr_t = lr
/// InverseSqrt { warm }: lr_t = lr · √(warm / max(t, warm))     [ours, deviations.md]
/// Inverse { warm }:     lr_t = lr · warm / max(t, warm)        [ours, deviations.md]
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LrSchedule {
    /// `lr` at every update (paper B, default).
    #[default]
    Constant,
    /// `lr` for the first `warm` updates, then `lr · √(warm / t)`.
    InverseSqrt {
        /// Updates at the full rate.
        warm: u64,
    },
    /// `lr` for the first `warm` updates, then `lr · warm / t`.
    Inverse {
        /// Updates at the full rate.
        warm: u64,
    },
}

impl LrSchedule {
    /// The factor on `lr` at update `t` (1-based; `t = 0` counts as 1).
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::LrSchedule;
    /// assert_eq!(LrSchedule::Constant.factor(500), 1.0);
    /// let decay = LrSchedule::InverseSqrt { warm: 100 };
    /// assert_eq!(decay.factor(50), 1.0);
    /// assert_eq!(decay.factor(400), 0.5);
    /// assert_eq!(LrSchedule::Inverse { warm: 100 }.factor(400), 0.25);
    /// ```
    pub fn factor(&self, t: u64) -> f64 {
        let t = t.max(1);
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::InverseSqrt { warm } if t > warm => (warm as f64 / t as f64).sqrt(),
            LrSchedule::Inverse { warm } if t > warm => warm as f64 / t as f64,
            LrSchedule::InverseSqrt { .. } | LrSchedule::Inverse { .. } => 1.0,
        }
    }
}

/// How the meta-gradient `dL_query/dΘ` of an episode is computed. Both concrete modes are
/// exact, and one episode's gradients agree to rounding; they differ in cost. Over a run they
/// give different Θ trajectories, because Adam's normalised steps amplify the rounding
/// differences of small gradient components (`docs/deviations.md`).
///
/// [`GradientMode::Auto`] (the default) picks the cheaper of the two from the number of plastic
/// terms ([`GradientMode::resolve`]): forward mode carries one weight-sized tangent per term, so
/// its cost grows with the terms, while reverse mode's does not (`docs/performance.md` has the
/// measured crossover). A run is always made, checkpointed and fingerprinted in the concrete
/// mode: [`MetaConfig::fingerprint`] of an `Auto` config equals that of its resolved mode.
///
/// # Example
/// ```
/// use meta_plasticity::GradientMode;
/// assert_eq!(GradientMode::default(), GradientMode::Auto);
/// assert_eq!(GradientMode::Auto.resolve(3), GradientMode::Forward);
/// assert_eq!(GradientMode::Auto.resolve(10), GradientMode::Reverse);
/// assert_eq!(GradientMode::Forward.resolve(10), GradientMode::Forward);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GradientMode {
    /// Forward-mode tangents, one weight-sized tangent per plastic term
    /// ([`meta_gradient`](crate::meta_gradient)). Cheapest for a few terms (F^bio).
    Forward,
    /// Reverse mode with the weights checkpointed every `⌈√T⌉` steps
    /// ([`meta_gradient_reverse`](crate::meta_gradient_reverse)). Cheapest for many terms
    /// (F^pool).
    Reverse,
    /// Reverse mode for more than [`GradientMode::AUTO_REVERSE_ABOVE`] plastic terms, forward
    /// mode otherwise (default). Last in the list because checkpoints store a variant by its
    /// position (bincode): `Forward` and `Reverse` keep the positions they were written with.
    #[default]
    Auto,
}

impl GradientMode {
    /// [`GradientMode::Auto`] takes reverse mode when the rule has more plastic terms than this.
    ///
    /// On paper B's network one episode costs about `a + b·n` in forward mode (`n` plastic
    /// terms, one tangent each) and about a constant in reverse mode; the measured crossover
    /// lies between 3 terms (F^bio: forward and reverse within a few per cent of each other,
    /// forward ahead) and 4 (reverse ahead), `docs/performance.md`. So F^bio and the smaller
    /// families of paper B's Fig. 3 run forward, and F^pool (10 terms) runs reverse.
    pub const AUTO_REVERSE_ABOVE: usize = 3;

    /// The concrete mode for a rule of `n_terms` plastic terms: [`GradientMode::Forward`] or
    /// [`GradientMode::Reverse`] as given, and for [`GradientMode::Auto`] reverse when
    /// `n_terms >` [`GradientMode::AUTO_REVERSE_ABOVE`], forward otherwise.
    pub fn resolve(self, n_terms: usize) -> GradientMode {
        match self {
            GradientMode::Auto if n_terms > GradientMode::AUTO_REVERSE_ABOVE => {
                GradientMode::Reverse
            }
            GradientMode::Auto => GradientMode::Forward,
            concrete => concrete,
        }
    }
}

/// Adam on Θ with an L1 penalty [B §Methods, "Meta-training"; digest §1.5].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaOptimizerConfig {
    /// Learning rate. Paper B: 1e-3.
    pub lr: f64,
    /// First-moment decay β₁. PyTorch default: 0.9.
    pub beta1: f64,
    /// Second-moment decay β₂. PyTorch default: 0.999.
    pub beta2: f64,
    /// Denominator offset ε. PyTorch default: 1e-8.
    pub eps: f64,
    /// L1 weight λ on `Σ_r |θ_r|` (all plastic terms, θ₀ included). 0 for the baselines
    /// [digest §1.6].
    pub l1: f64,
    /// What a diverged episode does; [`OnDivergence::Skip`] by default.
    #[serde(default)]
    pub on_divergence: OnDivergence,
    /// Rescale the meta-gradient `dL_query/dΘ` (over the plastic terms, before the L1
    /// subgradient is added) to this Euclidean norm when it is longer; `None` (default, paper
    /// B: no clipping) leaves it. One near-divergent episode can return a gradient 10⁴ times
    /// the usual size, and Adam's second moment (β₂ = 0.999) then freezes Θ for hundreds of
    /// episodes. With [`term_scales`](MetaOptimizerConfig::term_scales) the norm is taken in φ.
    ///
    /// ```text
    /// g ← g · min(1, c / ‖g‖₂)
    /// ```
    #[serde(default)]
    pub clip_norm: Option<f64>,
    /// Per-term preconditioning: Adam runs on `φ_r = s_r θ_r` instead of θ_r, with
    /// `term_scales = Some([s₀, …, s₉])`; `None` (default, paper B) is `s_r = 1` for every r and
    /// leaves every result bit-identical. Every `s_r` must be finite and > 0 (also for terms that
    /// are not plastic, where it is unused).
    ///
    /// Adam moves every coefficient by about `lr` per episode whatever the size of its term, but
    /// the terms `F^r` differ in size by orders of magnitude (F⁵ carries the layer-wide sum
    /// `Σⱼ y_ℓ,ⱼ`, F³ = −W is much larger than `e yᵀ`, F² = −e eₚᵀ is smaller), so one step on
    /// θ₅ changes `ΔW` as much as a step 20–50 times larger on θ₀. With
    /// `s_r = typical ‖F^r‖_F / typical ‖F⁰‖_F` (see [`term_norms`](crate::term_norms)) a step of
    /// `lr` in φ_r changes `θ_r F^r` about as much as a step of `lr` in θ₀ changes `θ₀ F⁰`.
    ///
    /// ```text
    /// φ_r = s_r θ_r,   g_r = (∂L/∂θ_r) / s_r       gradient in φ              [ours, deviations.md]
    /// g   ← g · min(1, c / ‖g‖₂)                    clip_norm c, in φ          [ours, deviations.md]
    /// g_r ← g_r + λ sign(φ_r)                       L1 = λ Σ_r |φ_r|            [B §Methods, Alg. 1]
    /// φ   ← Adam(φ, g),   θ_r = φ_r / s_r           per-term rate lr / s_r     [B §Methods, Alg. 1]
    /// φ_r ← sign(φ_r) · max(|φ_r| − lr, 0)          Retreat, r ≠ 0             [ours, deviations.md]
    /// ```
    ///
    /// So with scales the L1 penalty is `λ Σ_r |φ_r| = λ Σ_r s_r |θ_r|`: it weighs each
    /// coefficient by the size of its term, i.e. it penalises each term's contribution
    /// `‖θ_r F^r‖ ≈ s_r |θ_r| ‖F⁰‖`, not the raw coefficient.
    /// Not in paper B (a deviation where used).
    #[serde(default)]
    pub term_scales: Option<[f64; N_TERMS]>,
    /// How `lr` changes over the updates; [`LrSchedule::Constant`] (paper B) by default. The
    /// rate of update `t` is `lr · lr_schedule.factor(t)` ([`MetaOptimizerConfig::lr_at`]);
    /// [`OnDivergence::Retreat`] retreats by the rate the next update would take.
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// How the meta-gradient is computed; [`GradientMode::Auto`] by default (resolved per rule
    /// by [`MetaConfig::gradient_mode`]).
    #[serde(default)]
    pub gradient: GradientMode,
}

impl MetaOptimizerConfig {
    /// The per-term scales `s_r` of [`MetaOptimizerConfig::term_scales`], all 1 when `None`.
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::MetaOptimizerConfig;
    /// assert_eq!(MetaOptimizerConfig::default().scales(), [1.0; 10]);
    /// let mut scales = [1.0; 10];
    /// scales[5] = 30.0;
    /// let config = MetaOptimizerConfig { term_scales: Some(scales), ..MetaOptimizerConfig::default() };
    /// assert_eq!(config.scales()[5], 30.0);
    /// ```
    pub fn scales(&self) -> [f64; N_TERMS] {
        self.term_scales.unwrap_or([1.0; N_TERMS])
    }

    /// The learning rate of update `t` (1-based): `lr · lr_schedule.factor(t)`.
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::{LrSchedule, MetaOptimizerConfig};
    /// let config = MetaOptimizerConfig {
    ///     lr_schedule: LrSchedule::Inverse { warm: 100 },
    ///     ..MetaOptimizerConfig::default()
    /// };
    /// assert_eq!(config.lr_at(100), 1e-3);
    /// assert_eq!(config.lr_at(200), 5e-4);
    /// ```
    pub fn lr_at(&self, t: u64) -> f64 {
        self.lr * self.lr_schedule.factor(t)
    }
}

impl Default for MetaOptimizerConfig {
    fn default() -> Self {
        MetaOptimizerConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            l1: 0.0,
            on_divergence: OnDivergence::Skip,
            clip_norm: None,
            term_scales: None,
            lr_schedule: LrSchedule::Constant,
            gradient: GradientMode::Auto,
        }
    }
}

// Written out so that the defaults of `on_divergence`, `clip_norm`, `term_scales`,
// `lr_schedule` and forward mode are not printed: [`MetaConfig::fingerprint`] hashes the `Debug`
// form (with the gradient mode resolved), and configs written before these fields existed (which
// skipped diverged episodes, did not clip, did not precondition, kept a constant rate and used
// forward mode) keep their fingerprints.
impl std::fmt::Debug for MetaOptimizerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("MetaOptimizerConfig");
        out.field("lr", &self.lr)
            .field("beta1", &self.beta1)
            .field("beta2", &self.beta2)
            .field("eps", &self.eps)
            .field("l1", &self.l1);
        if self.on_divergence != OnDivergence::Skip {
            out.field("on_divergence", &self.on_divergence);
        }
        if let Some(clip) = self.clip_norm {
            out.field("clip_norm", &clip);
        }
        if let Some(scales) = self.term_scales {
            out.field("term_scales", &scales);
        }
        if self.lr_schedule != LrSchedule::Constant {
            out.field("lr_schedule", &self.lr_schedule);
        }
        // `Auto` is not printed either: [`MetaConfig::fingerprint`] resolves it first, and a
        // default optimizer prints as it did before `Auto` existed.
        if self.gradient == GradientMode::Reverse {
            out.field("gradient", &self.gradient);
        }
        out.finish()
    }
}

/// Everything that defines a meta-training run. Two runs with equal configs (and equal pools)
/// produce bit-identical Θ trajectories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaConfig {
    /// The network, re-initialised (Xavier-uniform) every episode. Paper B:
    /// 784-170-130-100-70-47, β = 10, 47 output units even for 5-way tasks [B §Methods].
    pub mlp: MlpConfig,
    /// Teaching signal of the inner loop: [`FeedbackKind::Fixed`] (FA, a fresh Xavier-uniform
    /// `B` per episode) or [`FeedbackKind::Backprop`] (`B = Wᵀ`). Other kinds are refused.
    pub feedback: FeedbackKind,
    /// Under backprop, leave out the meta-gradient's path through `B = Wᵀ`, as the original
    /// code does [digest §4, pitfall 11]. Default `false`: the exact gradient. Must be `false`
    /// under feedback alignment.
    #[serde(default)]
    pub detach_backprop_feedback: bool,
    /// The plastic terms.
    pub rule: RuleFamily,
    /// θ₀ at the start of meta-training; all other θ_r start at 0. Paper B: 1e-3 [B §Methods].
    pub theta0_init: f64,
    /// Episode sampling.
    pub episode: EpisodeConfig,
    /// The meta-optimiser.
    pub optimizer: MetaOptimizerConfig,
    /// Number of meta-training episodes. Paper B: 600 [B §Results, Figs. 3–4].
    pub n_episodes: usize,
    /// Master seed; every random draw of episode `i` is a pure function of `(seed, i)`.
    pub seed: u64,
    /// Compute the alignment angles and E_W per episode (a few extra query passes).
    pub diagnostics: bool,
}

impl Default for MetaConfig {
    fn default() -> Self {
        MetaConfig::paper(RuleFamily::PseudoGradient, FeedbackKind::Fixed)
    }
}

impl MetaConfig {
    /// Paper B's setting for one rule family and feedback: λ = 0, except λ = 2.1 for
    /// [`RuleFamily::Pool`] [digest §1.6].
    ///
    /// # Example
    /// ```
    /// use feedback_alignment::FeedbackKind;
    /// use meta_plasticity::{MetaConfig, RuleFamily};
    /// let config = MetaConfig::paper(RuleFamily::Pool, FeedbackKind::Fixed);
    /// assert_eq!((config.optimizer.l1, config.n_episodes), (2.1, 600));
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn paper(rule: RuleFamily, feedback: FeedbackKind) -> Self {
        // Deviation: paper B does not state λ; the original code used 1.5 (Nov 2022 – Mar 2023)
        // and 2.1 (Mar 2023, the last value before release; the released script's default, 0,
        // is the baselines' value) for the pool run (docs/deviations.md).
        let l1 = if rule == RuleFamily::Pool { 2.1 } else { 0.0 };
        MetaConfig {
            mlp: MlpConfig::default(),
            feedback,
            detach_backprop_feedback: false,
            rule,
            theta0_init: 1e-3,
            episode: EpisodeConfig::default(),
            optimizer: MetaOptimizerConfig {
                l1,
                ..MetaOptimizerConfig::default()
            },
            n_episodes: 600,
            seed: 0,
            diagnostics: true,
        }
    }

    /// Checks every field; the trainer relies on it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field, or [`Error::Core`] for a bad network config.
    pub fn validate(&self) -> Result<()> {
        self.mlp.validate()?;
        if self.mlp.hidden_activation != HiddenActivation::Softplus {
            return Err(Error::InvalidConfig {
                field: "mlp.hidden_activation",
                reason: "the inner loop is softplus-only (paper B)".to_string(),
            });
        }
        if !matches!(self.feedback, FeedbackKind::Fixed | FeedbackKind::Backprop) {
            return Err(Error::InvalidConfig {
                field: "feedback",
                reason: format!(
                    "{:?} is not supported by the meta-gradient (use Fixed or Backprop)",
                    self.feedback
                ),
            });
        }
        if self.detach_backprop_feedback && self.feedback != FeedbackKind::Backprop {
            return Err(Error::InvalidConfig {
                field: "detach_backprop_feedback",
                reason: "only applies to backprop feedback".to_string(),
            });
        }
        self.rule.validate()?;
        if !self.theta0_init.is_finite() {
            return Err(Error::InvalidConfig {
                field: "theta0_init",
                reason: "must be finite".to_string(),
            });
        }
        let episode = &self.episode;
        for (field, value) in [
            ("episode.n_ways", episode.n_ways),
            ("episode.n_train_per_class", episode.n_train_per_class),
            ("episode.n_query_per_class", episode.n_query_per_class),
        ] {
            if value == 0 {
                return Err(Error::InvalidConfig {
                    field,
                    reason: "must be at least 1".to_string(),
                });
            }
        }
        let n_outputs = *self
            .mlp
            .sizes
            .last()
            .expect("validated: at least two widths");
        if let Some(&class) = episode.held_out_classes.iter().find(|&&c| c >= n_outputs) {
            return Err(Error::InvalidConfig {
                field: "episode.held_out_classes",
                reason: format!("class {class} has no output unit ({n_outputs} outputs)"),
            });
        }
        let opt = &self.optimizer;
        let in_unit = |v: f64| (0.0..1.0).contains(&v);
        if !(opt.lr.is_finite() && opt.lr > 0.0) {
            return Err(Error::InvalidConfig {
                field: "optimizer.lr",
                reason: format!("must be > 0, got {}", opt.lr),
            });
        }
        if !in_unit(opt.beta1) || !in_unit(opt.beta2) {
            return Err(Error::InvalidConfig {
                field: "optimizer.beta",
                reason: format!(
                    "β₁ and β₂ must lie in [0, 1), got {} and {}",
                    opt.beta1, opt.beta2
                ),
            });
        }
        if !(opt.eps.is_finite() && opt.eps > 0.0) {
            return Err(Error::InvalidConfig {
                field: "optimizer.eps",
                reason: format!("must be > 0, got {}", opt.eps),
            });
        }
        if !(opt.l1.is_finite() && opt.l1 >= 0.0) {
            return Err(Error::InvalidConfig {
                field: "optimizer.l1",
                reason: format!("must be ≥ 0, got {}", opt.l1),
            });
        }
        if let Some(clip) = opt.clip_norm
            && !(clip.is_finite() && clip > 0.0)
        {
            return Err(Error::InvalidConfig {
                field: "optimizer.clip_norm",
                reason: format!("must be > 0, got {clip}"),
            });
        }
        if let OnDivergence::Shrink { factor } = opt.on_divergence
            && !(factor > 0.0 && factor < 1.0)
        {
            return Err(Error::InvalidConfig {
                field: "optimizer.on_divergence",
                reason: format!("the shrink factor must lie in (0, 1), got {factor}"),
            });
        }
        if let LrSchedule::InverseSqrt { warm: 0 } | LrSchedule::Inverse { warm: 0 } =
            opt.lr_schedule
        {
            return Err(Error::InvalidConfig {
                field: "optimizer.lr_schedule",
                reason: "a decay's warm phase must be ≥ 1 update".to_string(),
            });
        }
        if let Some(scales) = opt.term_scales
            && let Some(r) = (0..N_TERMS).find(|&r| !(scales[r].is_finite() && scales[r] > 0.0))
        {
            return Err(Error::InvalidConfig {
                field: "optimizer.term_scales",
                reason: format!("s{r} must be finite and > 0, got {}", scales[r]),
            });
        }
        Ok(())
    }

    /// The initial Θ: `θ₀ = theta0_init` if F⁰ is plastic, every other θ_r = 0.
    pub fn initial_theta(&self) -> [f64; N_TERMS] {
        let mut theta = [0.0; N_TERMS];
        if self.rule.terms().contains(&Term::PseudoGradient) {
            theta[Term::PseudoGradient.index()] = self.theta0_init;
        }
        theta
    }

    /// The concrete meta-gradient mode this config runs: `optimizer.gradient` resolved for the
    /// number of plastic terms of `rule` ([`GradientMode::resolve`]).
    ///
    /// # Example
    /// ```
    /// use feedback_alignment::FeedbackKind;
    /// use meta_plasticity::{GradientMode, MetaConfig, RuleFamily};
    /// let bio = MetaConfig::paper(RuleFamily::Bio, FeedbackKind::Fixed);
    /// let pool = MetaConfig::paper(RuleFamily::Pool, FeedbackKind::Fixed);
    /// assert_eq!(bio.optimizer.gradient, GradientMode::Auto);
    /// assert_eq!(bio.gradient_mode(), GradientMode::Forward);
    /// assert_eq!(pool.gradient_mode(), GradientMode::Reverse);
    /// ```
    pub fn gradient_mode(&self) -> GradientMode {
        self.optimizer.gradient.resolve(self.rule.terms().len())
    }

    /// A 64-bit fingerprint of everything in the config that shapes the Θ trajectory: FNV-1a
    /// over the `Debug` form (which prints every field and every float exactly) with
    /// `n_episodes` and `diagnostics` left out and the gradient mode resolved
    /// ([`MetaConfig::gradient_mode`]), so a run may be extended or its diagnostics switched
    /// without breaking bit-identical resumption, and an [`GradientMode::Auto`] config shares the
    /// fingerprint of the mode it runs. Checkpoints carry it so that a state is never resumed
    /// under another config.
    ///
    /// # Example
    /// ```
    /// use meta_plasticity::{GradientMode, MetaConfig};
    /// let forward = |mut config: MetaConfig| {
    ///     config.optimizer.gradient = GradientMode::Forward;
    ///     config
    /// };
    /// assert_eq!(MetaConfig::default().fingerprint(), forward(MetaConfig::default()).fingerprint());
    /// let a = MetaConfig::default();
    /// let b = MetaConfig { seed: 1, ..MetaConfig::default() };
    /// assert_eq!(a.fingerprint(), MetaConfig::default().fingerprint());
    /// assert_ne!(a.fingerprint(), b.fingerprint());
    /// let longer = MetaConfig { n_episodes: 1000, ..MetaConfig::default() };
    /// assert_eq!(a.fingerprint(), longer.fingerprint());
    /// ```
    pub fn fingerprint(&self) -> u64 {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let canonical = MetaConfig {
            n_episodes: 0,
            diagnostics: true,
            optimizer: MetaOptimizerConfig {
                gradient: self.gradient_mode(),
                ..self.optimizer.clone()
            },
            ..self.clone()
        };
        format!("{canonical:?}").bytes().fold(OFFSET, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(PRIME)
        })
    }
}

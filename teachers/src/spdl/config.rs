//! [`SpdlConfig`]: SPDL's hyper-parameters, with TeachMyAgent's benchmark values as the defaults
//! and its command-line defaults as [`SpdlConfig::tma_arg_defaults`].

use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::{DiagonalGaussian, ExpertKnowledge, Result, TeacherError};

/// Default env steps between two distribution updates (TeachMyAgent benchmark; its argument
/// default is 100 000).
pub const DEFAULT_SPDL_UPDATE_FREQUENCY: u64 = 50_000;
/// Default env steps before the first distribution update.
pub const DEFAULT_SPDL_UPDATE_OFFSET: u64 = 200_000;
/// Default number of distribution updates during which `α = 0` (TeachMyAgent benchmark; its
/// argument default is 0).
pub const DEFAULT_SPDL_ALPHA_OFFSET: u64 = 10;
/// Default `ζ` of the percentage α function (TeachMyAgent benchmark; its argument default is
/// 0.05).
pub const DEFAULT_SPDL_ZETA: f64 = 0.25;
/// Default trust region `KL(p_old ‖ p_new) ≤ max_kl` (TeachMyAgent benchmark and the class
/// default; its argument default is 0.8).
pub const DEFAULT_SPDL_MAX_KL: f64 = 0.1;
/// Default: the performance `α` scales with is the mean discounted return of the episodes since
/// the last update (TeachMyAgent benchmark), not the mean value estimate.
pub const DEFAULT_SPDL_USE_AVG_PERFORMANCE: bool = true;
/// Default capacity of the (value estimate, task) buffer; the oldest entries are dropped.
pub const DEFAULT_SPDL_BUFFER_SIZE: usize = 1000;
/// Default: the line search keeps the reference's *or* (KL within bound or objective not
/// decreased).
pub const DEFAULT_SPDL_STRICT_TRUST_REGION: bool = false;
/// Discount of the returns SPDL asks the loop for (the reference's `step_update`).
pub const SPDL_DISCOUNT: f64 = 0.99;
/// Conjugate-gradient iterations of the natural-gradient step.
pub const SPDL_CG_ITERATIONS: usize = 10;
/// Damping `λ` added to the Fisher matrix in the conjugate gradient.
pub const SPDL_CG_DAMPING: f64 = 1e-2;
/// The conjugate gradient stops once the squared residual is below this.
pub const SPDL_CG_RESIDUAL_TOL: f64 = 1e-10;
/// Halvings of the natural-gradient step tried before rolling back.
pub const SPDL_LINE_SEARCH_HALVINGS: usize = 10;
/// A step is accepted if its KL is at most this multiple of `max_kl` (or if the objective did
/// not decrease: the reference's *or*).
pub const SPDL_KL_SLACK: f64 = 1.5;
/// Largest α of the percentage α function.
pub const SPDL_MAX_ALPHA: f64 = 1e5;
/// Floor of the KL to the target in the α function's denominator.
pub const SPDL_MIN_TARGET_KL: f64 = 1e-10;
/// Std of the random-subspace initial distribution, as a fraction of each dimension's range.
pub const SPDL_SUBSPACE_STD_FRACTION: f64 = 0.1;
/// Std of the default target distribution, as a fraction of each dimension's range.
pub const SPDL_TARGET_STD_FRACTION: f64 = 0.25;
/// Smallest std of an initial or target distribution (a dimension of range 0, or a given std of
/// 0, would make the Gaussian degenerate).
pub const SPDL_MIN_STD: f64 = 1e-3;

/// Largest `buffer_size`.
pub const MAX_SPDL_BUFFER_SIZE: usize = 1_000_000;
/// Largest task-space dimension (the Fisher matrix has `(d + d(d+1)/2)²` entries).
pub const MAX_SPDL_TASK_DIM: usize = 64;
/// Largest `update_frequency` and `update_offset` (10¹⁵ env steps: never reached).
pub const MAX_SPDL_STEPS: u64 = 1_000_000_000_000_000;
/// Episodes kept waiting for their value estimates; beyond it the oldest is dropped (see
/// the [module docs](super)).
pub const MAX_SPDL_PENDING: usize = 10_000;

/// Configuration of [`Spdl`](super::Spdl). `Default` is TeachMyAgent's benchmark setting;
/// [`SpdlConfig::tma_arg_defaults`] its command-line defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpdlConfig {
    /// Env steps (episode lengths summed) between two updates, `1..=MAX_SPDL_STEPS`. Default:
    /// [`DEFAULT_SPDL_UPDATE_FREQUENCY`].
    pub update_frequency: u64,
    /// Env steps before the first update, `0..=MAX_SPDL_STEPS`. Default:
    /// [`DEFAULT_SPDL_UPDATE_OFFSET`].
    pub update_offset: u64,
    /// Updates during which `α = 0`. Default: [`DEFAULT_SPDL_ALPHA_OFFSET`].
    pub alpha_offset: u64,
    /// `ζ` of the α function (finite, ≥ 0). Default: [`DEFAULT_SPDL_ZETA`].
    pub zeta: f64,
    /// Trust region of each update (finite, > 0). Default: [`DEFAULT_SPDL_MAX_KL`].
    pub max_kl: f64,
    /// Performance of the α function: mean discounted return since the last update (`true`) or
    /// mean value estimate of the buffer (`false`). Default: [`DEFAULT_SPDL_USE_AVG_PERFORMANCE`].
    pub use_avg_performance: bool,
    /// Capacity of the buffer an update reads, `1..=MAX_SPDL_BUFFER_SIZE`. Default:
    /// [`DEFAULT_SPDL_BUFFER_SIZE`].
    pub buffer_size: usize,
    /// Target distribution (raw units, std > 0 after the [`SPDL_MIN_STD`] floor); `None` = a
    /// Gaussian at the centre of the space with std [`SPDL_TARGET_STD_FRACTION`] of each range.
    pub target_distribution: Option<DiagonalGaussian>,
    /// Accept a line-search step only if it respects `KL ≤ 1.5·max_kl` **and** does not
    /// decrease the objective (textbook TRPO); `false` keeps the reference's *or* (see the
    /// [module docs](super), quirk 1). Default: [`DEFAULT_SPDL_STRICT_TRUST_REGION`].
    pub strict_trust_region: bool,
    /// Prior knowledge: at `high`, the initial distribution (TeachMyAgent); otherwise SPDL starts
    /// from a random-subspace Gaussian.
    pub expert_knowledge: ExpertKnowledge,
}

impl Default for SpdlConfig {
    fn default() -> Self {
        Self {
            update_frequency: DEFAULT_SPDL_UPDATE_FREQUENCY,
            update_offset: DEFAULT_SPDL_UPDATE_OFFSET,
            alpha_offset: DEFAULT_SPDL_ALPHA_OFFSET,
            zeta: DEFAULT_SPDL_ZETA,
            max_kl: DEFAULT_SPDL_MAX_KL,
            use_avg_performance: DEFAULT_SPDL_USE_AVG_PERFORMANCE,
            buffer_size: DEFAULT_SPDL_BUFFER_SIZE,
            target_distribution: None,
            strict_trust_region: DEFAULT_SPDL_STRICT_TRUST_REGION,
            expert_knowledge: ExpertKnowledge::none(),
        }
    }
}

impl SpdlConfig {
    /// TeachMyAgent's command-line defaults: updates every 100 000 steps, `alpha_offset` 0,
    /// `ζ` 0.05, `max_kl` 0.8. Everything else as [`Default`].
    pub fn tma_arg_defaults() -> Self {
        Self {
            update_frequency: 100_000,
            alpha_offset: 0,
            zeta: 0.05,
            max_kl: 0.8,
            ..Self::default()
        }
    }

    /// The benchmark setting scaled to `episodes` episodes of one step each (the toy test-bed):
    /// the update schedule shrinks by `20 000 000 / episodes`, TeachMyAgent's budget of env
    /// steps over this one, so the run makes as many updates (about 396) at the same fractions
    /// of training. Everything else as [`Default`].
    pub fn scaled_to_steps(total_steps: u64) -> Self {
        const TMA_BUDGET: u64 = 20_000_000;
        let scale = |steps: u64| {
            ((u128::from(steps) * u128::from(total_steps.max(1)) / u128::from(TMA_BUDGET)) as u64)
                .max(1)
        };
        Self {
            update_frequency: scale(DEFAULT_SPDL_UPDATE_FREQUENCY),
            update_offset: scale(DEFAULT_SPDL_UPDATE_OFFSET),
            ..Self::default()
        }
    }

    /// Checks every field.
    pub(crate) fn validate(&self, space: &TaskSpace) -> Result<()> {
        let field =
            |name: &str, reason: String| TeacherError::config(format!("spdl.{name}"), reason);
        if !(1..=MAX_SPDL_STEPS).contains(&self.update_frequency) {
            return Err(field(
                "update_frequency",
                format!(
                    "must be in 1..={MAX_SPDL_STEPS}, got {}",
                    self.update_frequency
                ),
            ));
        }
        if self.update_offset > MAX_SPDL_STEPS {
            return Err(field(
                "update_offset",
                format!(
                    "must be in 0..={MAX_SPDL_STEPS}, got {}",
                    self.update_offset
                ),
            ));
        }
        if !(self.zeta.is_finite() && self.zeta >= 0.0) {
            return Err(field(
                "zeta",
                format!("must be finite and >= 0, got {}", self.zeta),
            ));
        }
        if !(self.max_kl.is_finite() && self.max_kl > 0.0) {
            return Err(field(
                "max_kl",
                format!("must be finite and > 0, got {}", self.max_kl),
            ));
        }
        if !(1..=MAX_SPDL_BUFFER_SIZE).contains(&self.buffer_size) {
            return Err(field(
                "buffer_size",
                format!(
                    "must be in 1..={MAX_SPDL_BUFFER_SIZE}, got {}",
                    self.buffer_size
                ),
            ));
        }
        if space.dim() > MAX_SPDL_TASK_DIM {
            return Err(TeacherError::config(
                "spdl",
                format!(
                    "the task space has {} dimensions, SPDL takes at most {MAX_SPDL_TASK_DIM}",
                    space.dim()
                ),
            ));
        }
        if let Some(target) = &self.target_distribution {
            let d = space.dim();
            if target.mean.len() != d || target.std.len() != d {
                return Err(field(
                    "target_distribution",
                    format!(
                        "mean has {} and std has {} values but the task space has {d} dimensions",
                        target.mean.len(),
                        target.std.len()
                    ),
                ));
            }
            if target.mean.iter().any(|v| !v.is_finite())
                || target.std.iter().any(|s| !(s.is_finite() && *s >= 0.0))
            {
                return Err(field(
                    "target_distribution",
                    "mean must be finite and std finite and >= 0".into(),
                ));
            }
        }
        self.expert_knowledge.validate(space)
    }
}

//! [`GoalGanConfig`]: GoalGAN's hyper-parameters, with TeachMyAgent's benchmark values as the
//! defaults and its command-line defaults as [`GoalGanConfig::tma_arg_defaults`].

use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;
use teachgym_nn::{validate_hidden_sizes, MAX_LAYER_WIDTH};

use crate::{ExpertKnowledge, Result, TeacherError};

/// Default std of the noise added to generated and replayed goals, as a fraction of each
/// dimension's range (TeachMyAgent benchmark; its argument default is 0.01).
pub const DEFAULT_GOAL_GAN_STATE_NOISE_LEVEL: f64 = 0.1;
/// Default minimum distance between goals of the success buffer, as a fraction of the task
/// space's diagonal `‖max − min‖₂`.
pub const DEFAULT_GOAL_GAN_SUCCESS_DISTANCE_THRESHOLD: f64 = 0.01;
/// Default number of labelled goals collected before each GAN training.
pub const DEFAULT_GOAL_GAN_UPDATE_SIZE: usize = 100;
/// Default number of consecutive plays of each generated goal; its label is the mean success.
pub const DEFAULT_GOAL_GAN_N_ROLLOUTS: usize = 2;
/// Default lower bound of the "goal of intermediate difficulty" mean success.
pub const DEFAULT_GOAL_GAN_GOID_LB: f64 = 0.25;
/// Default upper bound of the "goal of intermediate difficulty" mean success.
pub const DEFAULT_GOAL_GAN_GOID_UB: f64 = 0.75;
/// Default probability of replaying a goal of the success buffer (TeachMyAgent benchmark; its
/// argument default is 0.2).
pub const DEFAULT_GOAL_GAN_P_OLD: f64 = 0.1;
/// Default: pretrain the GAN before the first episode (TeachMyAgent benchmark:
/// `--use_pretrained_samples`; its argument default is off, but expert level `high` turns it on).
pub const DEFAULT_GOAL_GAN_USE_PRETRAINED_SAMPLES: bool = true;
/// Default number of goals the GAN is pretrained on.
pub const DEFAULT_GOAL_GAN_PRETRAIN_SAMPLES: usize = 1000;
/// Default outer iterations of the pretraining (rllab-curriculum's `StateGAN.pretrain`).
pub const DEFAULT_GOAL_GAN_PRETRAIN_OUTER_ITERS: usize = 500;
/// Default outer iterations (one discriminator step, one generator step) of each training.
pub const DEFAULT_GOAL_GAN_OUTER_ITERS: usize = 250;
/// Default hidden widths of the generator (ReLU; tanh output).
pub const DEFAULT_GOAL_GAN_GENERATOR_HIDDEN: [usize; 2] = [256, 256];
/// Default hidden widths of the discriminator (leaky ReLU, slope 0.1; linear output).
pub const DEFAULT_GOAL_GAN_DISCRIMINATOR_HIDDEN: [usize; 2] = [128, 128];
/// Default RMSProp learning rate of both networks.
pub const DEFAULT_GOAL_GAN_LEARNING_RATE: f32 = 1e-3;
/// Default batch size: labelled goals and generated goals per discriminator step, noise
/// vectors per generator step.
pub const DEFAULT_GOAL_GAN_BATCH_SIZE: usize = 64;

/// Largest `update_size`.
pub const MAX_GOAL_GAN_UPDATE_SIZE: usize = 100_000;
/// Largest `n_rollouts`.
pub const MAX_GOAL_GAN_N_ROLLOUTS: usize = 1000;
/// Largest `pretrain_samples`.
pub const MAX_GOAL_GAN_PRETRAIN_SAMPLES: usize = 1_000_000;
/// Largest `outer_iters` and `pretrain_outer_iters` (each iteration costs about a millisecond
/// with the default networks).
pub const MAX_GOAL_GAN_OUTER_ITERS: usize = 1_000_000;
/// Largest `batch_size`.
pub const MAX_GOAL_GAN_BATCH_SIZE: usize = 4096;

/// Configuration of [`GoalGan`](super::GoalGan). `Default` is TeachMyAgent's benchmark setting;
/// [`GoalGanConfig::tma_arg_defaults`] its command-line defaults.
///
/// The success threshold (return above which an episode is a success) comes from
/// `expert_knowledge`, which must be at least `low`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoalGanConfig {
    /// Std of the Gaussian noise added to every generated and every replayed goal, as a
    /// fraction of each dimension's range (≥ 0). Default: [`DEFAULT_GOAL_GAN_STATE_NOISE_LEVEL`].
    pub state_noise_level: f64,
    /// A goal enters the success buffer only if farther than this fraction of the task space's
    /// diagonal from every goal already in it (≥ 0; 0 keeps every goal). Default:
    /// [`DEFAULT_GOAL_GAN_SUCCESS_DISTANCE_THRESHOLD`].
    pub success_distance_threshold: f64,
    /// Labelled goals collected before each training, `1..=MAX_GOAL_GAN_UPDATE_SIZE`. Default:
    /// [`DEFAULT_GOAL_GAN_UPDATE_SIZE`].
    pub update_size: usize,
    /// Consecutive plays of each generated goal, `1..=MAX_GOAL_GAN_N_ROLLOUTS`. Default:
    /// [`DEFAULT_GOAL_GAN_N_ROLLOUTS`].
    pub n_rollouts: usize,
    /// A goal is labelled positive when `goid_lb ≤ mean success ≤ goid_ub`; in [0, 1], at most
    /// `goid_ub`. Default: [`DEFAULT_GOAL_GAN_GOID_LB`].
    pub goid_lb: f64,
    /// See `goid_lb`; goals whose mean success is above it enter the success buffer. Default:
    /// [`DEFAULT_GOAL_GAN_GOID_UB`].
    pub goid_ub: f64,
    /// Probability of replaying a goal of the success buffer instead of generating one, in
    /// [0, 1]. Default: [`DEFAULT_GOAL_GAN_P_OLD`].
    pub p_old: f64,
    /// Pretrain the GAN on `pretrain_samples` goals before the first episode. Expert level
    /// `high` pretrains whatever this says (TeachMyAgent). Default:
    /// [`DEFAULT_GOAL_GAN_USE_PRETRAINED_SAMPLES`].
    pub use_pretrained_samples: bool,
    /// Goals of the pretraining, `1..=MAX_GOAL_GAN_PRETRAIN_SAMPLES`. Default:
    /// [`DEFAULT_GOAL_GAN_PRETRAIN_SAMPLES`].
    pub pretrain_samples: usize,
    /// Outer iterations of the pretraining, `0..=MAX_GOAL_GAN_OUTER_ITERS`. Default:
    /// [`DEFAULT_GOAL_GAN_PRETRAIN_OUTER_ITERS`].
    pub pretrain_outer_iters: usize,
    /// Outer iterations of each training, `1..=MAX_GOAL_GAN_OUTER_ITERS`. Default:
    /// [`DEFAULT_GOAL_GAN_OUTER_ITERS`].
    pub outer_iters: usize,
    /// Hidden widths of the generator. Default: [`DEFAULT_GOAL_GAN_GENERATOR_HIDDEN`].
    pub generator_hidden: Vec<usize>,
    /// Hidden widths of the discriminator. Default: [`DEFAULT_GOAL_GAN_DISCRIMINATOR_HIDDEN`].
    pub discriminator_hidden: Vec<usize>,
    /// RMSProp learning rate of both networks (> 0). Default: [`DEFAULT_GOAL_GAN_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Batch size, `1..=MAX_GOAL_GAN_BATCH_SIZE`. Default: [`DEFAULT_GOAL_GAN_BATCH_SIZE`].
    pub batch_size: usize,
    /// Width of the generator's noise input; `None` = the task dimension (TeachMyAgent).
    pub noise_dim: Option<usize>,
    /// Prior knowledge: at least `low` (the success threshold); at `high`, the pretraining
    /// samples the initial distribution instead of a random-subspace Gaussian.
    pub expert_knowledge: ExpertKnowledge,
}

impl Default for GoalGanConfig {
    fn default() -> Self {
        Self {
            state_noise_level: DEFAULT_GOAL_GAN_STATE_NOISE_LEVEL,
            success_distance_threshold: DEFAULT_GOAL_GAN_SUCCESS_DISTANCE_THRESHOLD,
            update_size: DEFAULT_GOAL_GAN_UPDATE_SIZE,
            n_rollouts: DEFAULT_GOAL_GAN_N_ROLLOUTS,
            goid_lb: DEFAULT_GOAL_GAN_GOID_LB,
            goid_ub: DEFAULT_GOAL_GAN_GOID_UB,
            p_old: DEFAULT_GOAL_GAN_P_OLD,
            use_pretrained_samples: DEFAULT_GOAL_GAN_USE_PRETRAINED_SAMPLES,
            pretrain_samples: DEFAULT_GOAL_GAN_PRETRAIN_SAMPLES,
            pretrain_outer_iters: DEFAULT_GOAL_GAN_PRETRAIN_OUTER_ITERS,
            outer_iters: DEFAULT_GOAL_GAN_OUTER_ITERS,
            generator_hidden: DEFAULT_GOAL_GAN_GENERATOR_HIDDEN.to_vec(),
            discriminator_hidden: DEFAULT_GOAL_GAN_DISCRIMINATOR_HIDDEN.to_vec(),
            learning_rate: DEFAULT_GOAL_GAN_LEARNING_RATE,
            batch_size: DEFAULT_GOAL_GAN_BATCH_SIZE,
            noise_dim: None,
            expert_knowledge: ExpertKnowledge::none(),
        }
    }
}

impl GoalGanConfig {
    /// TeachMyAgent's command-line defaults (`teacher_args_handler.py`): state noise 0.01,
    /// `p_old` 0.2, no pretraining unless the expert level is `high`. Everything else as
    /// [`Default`].
    pub fn tma_arg_defaults() -> Self {
        Self {
            state_noise_level: 0.01,
            p_old: 0.2,
            use_pretrained_samples: false,
            ..Self::default()
        }
    }

    /// Width of the generator's noise input over a `task_dim`-dimensional space.
    pub fn noise_dim_for(&self, task_dim: usize) -> usize {
        self.noise_dim.unwrap_or(task_dim)
    }

    /// Whether the GAN is pretrained: `use_pretrained_samples`, or expert level `high`.
    pub fn pretrains(&self) -> bool {
        self.use_pretrained_samples || self.expert_knowledge.initial_distribution().is_some()
    }

    /// Checks every field and returns the success threshold granted by the expert knowledge.
    pub(crate) fn validate(&self, space: &TaskSpace) -> Result<f64> {
        let unit = |field: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(TeacherError::config(
                    format!("goal_gan.{field}"),
                    format!("must be in [0, 1], got {v}"),
                ))
            }
        };
        let non_negative = |field: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(TeacherError::config(
                    format!("goal_gan.{field}"),
                    format!("must be finite and >= 0, got {v}"),
                ))
            }
        };
        let count = |field: &str, v: usize, min: usize, max: usize| {
            if (min..=max).contains(&v) {
                Ok(())
            } else {
                Err(TeacherError::config(
                    format!("goal_gan.{field}"),
                    format!("must be in {min}..={max}, got {v}"),
                ))
            }
        };
        non_negative("state_noise_level", self.state_noise_level)?;
        non_negative(
            "success_distance_threshold",
            self.success_distance_threshold,
        )?;
        count("update_size", self.update_size, 1, MAX_GOAL_GAN_UPDATE_SIZE)?;
        count("n_rollouts", self.n_rollouts, 1, MAX_GOAL_GAN_N_ROLLOUTS)?;
        unit("goid_lb", self.goid_lb)?;
        unit("goid_ub", self.goid_ub)?;
        if self.goid_lb > self.goid_ub {
            return Err(TeacherError::config(
                "goal_gan.goid_lb",
                format!(
                    "must be <= goid_ub, got goid_lb = {} > goid_ub = {}",
                    self.goid_lb, self.goid_ub
                ),
            ));
        }
        unit("p_old", self.p_old)?;
        count(
            "pretrain_samples",
            self.pretrain_samples,
            1,
            MAX_GOAL_GAN_PRETRAIN_SAMPLES,
        )?;
        count(
            "pretrain_outer_iters",
            self.pretrain_outer_iters,
            0,
            MAX_GOAL_GAN_OUTER_ITERS,
        )?;
        count("outer_iters", self.outer_iters, 1, MAX_GOAL_GAN_OUTER_ITERS)?;
        for (field, hidden) in [
            ("goal_gan.generator_hidden", &self.generator_hidden),
            ("goal_gan.discriminator_hidden", &self.discriminator_hidden),
        ] {
            validate_hidden_sizes(field, hidden)
                .map_err(|e| TeacherError::config(field, e.to_string()))?;
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TeacherError::config(
                "goal_gan.learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        count("batch_size", self.batch_size, 1, MAX_GOAL_GAN_BATCH_SIZE)?;
        if let Some(n) = self.noise_dim {
            count("noise_dim", n, 1, MAX_LAYER_WIDTH)?;
        }
        if space.dim() > MAX_LAYER_WIDTH {
            return Err(TeacherError::config(
                "goal_gan",
                format!(
                    "the task space has {} dimensions, the networks take at most {MAX_LAYER_WIDTH}",
                    space.dim()
                ),
            ));
        }
        self.expert_knowledge.validate(space)?;
        self.expert_knowledge
            .success_threshold()
            .ok_or(TeacherError::MissingExpertKnowledge {
                teacher: super::GoalGan::NAME,
                what: "a success threshold (the return above which an episode is a success)",
            })
    }
}

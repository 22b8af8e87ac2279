//! DQN's hyper-parameters: every default written once as a `pub const` (CleanRL's `dqn.py`
//! values unless stated), their validation, and the ε and learning-rate schedules.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::adam::AdamConfig;
use crate::error::{check_counts, Result, StudentError};
use crate::mlp::validate_hidden_sizes;
use crate::student::{annealed_learning_rate, TrainClock};

/// Default hidden widths of the Q-network: 120-84 ReLU (CleanRL `dqn.py`; SB3 uses 64-64).
pub const DEFAULT_HIDDEN_SIZES: [usize; 2] = [120, 84];
/// Default Adam step size: 2.5e-4 (CleanRL; SB3: 1e-4).
pub const DEFAULT_LEARNING_RATE: f32 = 2.5e-4;
/// Default Adam ε: 1e-8 (PyTorch's default, used by CleanRL and SB3).
pub const DEFAULT_ADAM_EPSILON: f32 = 1e-8;
/// Default replay capacity (transitions): 10 000 (CleanRL; SB3: 1 000 000).
pub const DEFAULT_BUFFER_SIZE: usize = 10_000;
/// Default discount γ: 0.99.
pub const DEFAULT_GAMMA: f64 = 0.99;
/// Default target-update coefficient τ: 1 (a hard copy; CleanRL and SB3).
pub const DEFAULT_TAU: f32 = 1.0;
/// Default steps between target updates: 500 (CleanRL; SB3: 10 000).
pub const DEFAULT_TARGET_UPDATE_INTERVAL: u64 = 500;
/// Default minibatch size: 128 (CleanRL; SB3: 32).
pub const DEFAULT_BATCH_SIZE: usize = 128;
/// Default ε at step 0: 1 (uniformly random actions).
pub const DEFAULT_START_EPSILON: f64 = 1.0;
/// Default final ε: 0.05.
pub const DEFAULT_END_EPSILON: f64 = 0.05;
/// Default steps over which ε decays linearly: 250 000 (CleanRL's `exploration_fraction` 0.5 of
/// its 500 000-step budget).
pub const DEFAULT_EXPLORATION_STEPS: u64 = 250_000;
/// Default steps before learning starts: 10 000 (CleanRL; SB3: 100).
pub const DEFAULT_LEARNING_STARTS: u64 = 10_000;
/// Default steps between training rounds: 10 (CleanRL; SB3: 4).
pub const DEFAULT_TRAIN_FREQUENCY: u64 = 10;
/// Default gradient steps per training round: 1 (SB3).
pub const DEFAULT_GRADIENT_STEPS: usize = 1;
/// Largest `buffer_size`: ten times SB3's 1 000 000 (the buffer grows to it as transitions
/// arrive). The QWeb student shares it.
pub const MAX_BUFFER_SIZE: usize = 10_000_000;
/// Largest `batch_size`.
pub const MAX_BATCH_SIZE: usize = 65_536;
/// Largest `gradient_steps` per training round.
pub const MAX_GRADIENT_STEPS: usize = 1000;
/// Default Huber threshold δ: 1 (SB3's `smooth_l1_loss`; CleanRL uses the squared error).
pub const DEFAULT_HUBER_DELTA: f32 = 1.0;
/// Default global gradient-norm limit: 10 (SB3; CleanRL does not clip).
pub const DEFAULT_MAX_GRAD_NORM: Option<f32> = Some(10.0);
/// Default: double-DQN targets on (CleanRL and SB3 use vanilla targets).
pub const DEFAULT_DOUBLE_DQN: bool = true;
/// Default: no dueling head.
pub const DEFAULT_DUELING: bool = false;
/// Learning-rate annealing (CleanRL's and SB3's DQN keep the rate constant).
pub const DEFAULT_ANNEAL_LR: bool = false;
/// Activation of the Q-network's hidden layers (CleanRL, SB3).
pub const HIDDEN_ACTIVATION: Activation = Activation::Relu;
/// Version of the [`super::DqnAgent::to_json`] format.
pub const DQN_CHECKPOINT_VERSION: u32 = 1;

/// Hyper-parameters of DQN. `Default` gives CleanRL's `dqn.py` values, with SB3's Huber loss and
/// gradient clipping and double-DQN targets (differences are noted per field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DqnConfig {
    /// Hidden widths of the Q-network (ReLU), within the network caps of
    /// [`validate_hidden_sizes`]. Default:
    /// [`DEFAULT_HIDDEN_SIZES`].
    pub hidden_sizes: Vec<usize>,
    /// Adam step size. Default: [`DEFAULT_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Adam ε. Default: [`DEFAULT_ADAM_EPSILON`].
    pub adam_epsilon: f32,
    /// Replay capacity (transitions), `1..=MAX_BUFFER_SIZE`. Default: [`DEFAULT_BUFFER_SIZE`].
    pub buffer_size: usize,
    /// Discount γ ∈ [0, 1]. Default: [`DEFAULT_GAMMA`].
    pub gamma: f64,
    /// Target update `θ' ← τ·θ + (1 − τ)·θ'`, τ ∈ (0, 1]. Default: [`DEFAULT_TAU`].
    pub tau: f32,
    /// Steps between target updates (≥ 1). Default: [`DEFAULT_TARGET_UPDATE_INTERVAL`].
    pub target_update_interval: u64,
    /// Transitions per gradient step (sampled with replacement), `1..=MAX_BATCH_SIZE`. Default:
    /// [`DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
    /// ε at step 0, in [0, 1]. Default: [`DEFAULT_START_EPSILON`].
    pub start_epsilon: f64,
    /// ε after `exploration_steps`, in [0, 1]. Default: [`DEFAULT_END_EPSILON`].
    pub end_epsilon: f64,
    /// Steps over which ε decays linearly from `start_epsilon` to `end_epsilon` (0: always
    /// `end_epsilon`). Default: [`DEFAULT_EXPLORATION_STEPS`].
    pub exploration_steps: u64,
    /// No gradient step at or before this global step. Default: [`DEFAULT_LEARNING_STARTS`].
    pub learning_starts: u64,
    /// A training round at every global step that is a multiple of this (≥ 1). Default:
    /// [`DEFAULT_TRAIN_FREQUENCY`].
    pub train_frequency: u64,
    /// Gradient steps per training round, `1..=MAX_GRADIENT_STEPS`. Default:
    /// [`DEFAULT_GRADIENT_STEPS`].
    pub gradient_steps: usize,
    /// Huber threshold δ > 0 of the TD loss (quadratic below, linear above). Default:
    /// [`DEFAULT_HUBER_DELTA`].
    pub huber_delta: f32,
    /// Global gradient-norm limit, or `None` for no clipping. Default: [`DEFAULT_MAX_GRAD_NORM`].
    pub max_grad_norm: Option<f32>,
    /// Double-DQN targets. Default: [`DEFAULT_DOUBLE_DQN`].
    pub double_dqn: bool,
    /// Dueling head on the last hidden layer (needs at least one hidden layer). Default:
    /// [`DEFAULT_DUELING`].
    pub dueling: bool,
    /// Anneal the learning rate linearly towards 0 over the training budget (as PPO's
    /// `anneal_lr`), so that the greedy policy settles instead of drifting between
    /// evaluations. Used by the curriculum loop ([`crate::Trainer`]), which knows the budget.
    /// Default: [`DEFAULT_ANNEAL_LR`].
    pub anneal_lr: bool,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            hidden_sizes: DEFAULT_HIDDEN_SIZES.to_vec(),
            learning_rate: DEFAULT_LEARNING_RATE,
            adam_epsilon: DEFAULT_ADAM_EPSILON,
            buffer_size: DEFAULT_BUFFER_SIZE,
            gamma: DEFAULT_GAMMA,
            tau: DEFAULT_TAU,
            target_update_interval: DEFAULT_TARGET_UPDATE_INTERVAL,
            batch_size: DEFAULT_BATCH_SIZE,
            start_epsilon: DEFAULT_START_EPSILON,
            end_epsilon: DEFAULT_END_EPSILON,
            exploration_steps: DEFAULT_EXPLORATION_STEPS,
            learning_starts: DEFAULT_LEARNING_STARTS,
            train_frequency: DEFAULT_TRAIN_FREQUENCY,
            gradient_steps: DEFAULT_GRADIENT_STEPS,
            huber_delta: DEFAULT_HUBER_DELTA,
            max_grad_norm: DEFAULT_MAX_GRAD_NORM,
            double_dqn: DEFAULT_DOUBLE_DQN,
            dueling: DEFAULT_DUELING,
            anneal_lr: DEFAULT_ANNEAL_LR,
        }
    }
}

impl DqnConfig {
    /// Checks every field; returns [`StudentError::InvalidConfig`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: String| {
            Err(StudentError::InvalidConfig { field, reason })
        };
        validate_hidden_sizes("hidden_sizes", &self.hidden_sizes)?;
        if self.dueling && self.hidden_sizes.is_empty() {
            return bad(
                "hidden_sizes",
                "a dueling head needs at least one hidden layer".into(),
            );
        }
        check_counts(&[
            ("buffer_size", self.buffer_size as u64),
            ("batch_size", self.batch_size as u64),
            ("target_update_interval", self.target_update_interval),
            ("train_frequency", self.train_frequency),
            ("gradient_steps", self.gradient_steps as u64),
        ])?;
        for (field, value, max) in [
            ("buffer_size", self.buffer_size, MAX_BUFFER_SIZE),
            ("batch_size", self.batch_size, MAX_BATCH_SIZE),
            ("gradient_steps", self.gradient_steps, MAX_GRADIENT_STEPS),
        ] {
            if value > max {
                return bad(field, format!("must be at most {max}, got {value}"));
            }
        }
        for (field, v) in [
            ("gamma", self.gamma),
            ("start_epsilon", self.start_epsilon),
            ("end_epsilon", self.end_epsilon),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(field, format!("must be in [0, 1], got {v}"));
            }
        }
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return bad("tau", format!("must be in (0, 1], got {}", self.tau));
        }
        if !(self.huber_delta.is_finite() && self.huber_delta > 0.0) {
            return bad(
                "huber_delta",
                format!("must be finite and > 0, got {}", self.huber_delta),
            );
        }
        if let Some(norm) = self.max_grad_norm {
            if !(norm.is_finite() && norm > 0.0) {
                return bad(
                    "max_grad_norm",
                    format!("must be finite and > 0, got {norm}"),
                );
            }
        }
        Ok(self.adam().validate()?)
    }

    pub(crate) fn adam(&self) -> AdamConfig {
        AdamConfig {
            learning_rate: self.learning_rate,
            epsilon: self.adam_epsilon,
            ..AdamConfig::default()
        }
    }

    /// The Adam step size at `clock`: `learning_rate`, scaled by the fraction of the budget
    /// still ahead when `anneal_lr` is set.
    pub fn learning_rate_at(&self, clock: TrainClock) -> f32 {
        annealed_learning_rate(
            self.learning_rate,
            self.anneal_lr,
            clock.remaining_fraction(),
        )
    }

    /// ε at `global_step`: linear from `start_epsilon` to `end_epsilon` over
    /// `exploration_steps`, then constant (CleanRL's `linear_schedule`).
    pub fn epsilon(&self, global_step: u64) -> f64 {
        if self.exploration_steps == 0 {
            return self.end_epsilon;
        }
        let slope = (self.end_epsilon - self.start_epsilon) / self.exploration_steps as f64;
        (self.start_epsilon + slope * global_step as f64).max(self.end_epsilon)
    }
}

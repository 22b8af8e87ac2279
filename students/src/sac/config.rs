//! SAC's hyper-parameters: every default written once as a `pub const`, the presets
//! (CleanRL, TeachMyAgent's SpinningUp 0.1.1, RL-Zoo's BipedalWalker, teachgym's walker preset)
//! and their validation.

use serde::{Deserialize, Serialize};

use crate::adam::AdamConfig;
use crate::error::{check_counts, Result, StudentError};
use crate::mlp::validate_hidden_sizes;

/// Default hidden widths of the policy and of every value network: 256-256 ReLU (CleanRL,
/// SB3).
pub const DEFAULT_HIDDEN_SIZES: [usize; 2] = [256, 256];
/// Default Adam step size of every network: 3e-4 (CleanRL's q_lr; SB3).
pub const DEFAULT_LEARNING_RATE: f32 = 3e-4;
/// Default Adam ε: 1e-8 (PyTorch's default, used by CleanRL and SB3).
pub const DEFAULT_ADAM_EPSILON: f32 = 1e-8;
/// Default replay capacity (transitions): 1 000 000 (CleanRL, SB3).
pub const DEFAULT_BUFFER_SIZE: usize = 1_000_000;
/// Largest `buffer_size` (the buffer grows to it as transitions arrive).
pub const MAX_BUFFER_SIZE: usize = 10_000_000;
/// Default minibatch size: 256 (CleanRL, SB3).
pub const DEFAULT_BATCH_SIZE: usize = 256;
/// Largest `batch_size`.
pub const MAX_BATCH_SIZE: usize = 65_536;
/// Default discount γ: 0.99.
pub const DEFAULT_GAMMA: f64 = 0.99;
/// Default target-network coefficient τ of `θ' ← τ·θ + (1 − τ)·θ'`: 0.005 (CleanRL, SB3;
/// SpinningUp's `polyak` is 1 − τ = 0.995).
pub const DEFAULT_TAU: f32 = 0.005;
/// Default entropy coefficient α (the fixed value, or the start of automatic tuning): 0.2
/// (CleanRL's fixed α; its and SB3's tuning start at 1).
pub const DEFAULT_ALPHA: f64 = 0.2;
/// Default: α tuned automatically towards the target entropy (CleanRL's `autotune`, SB3's
/// `ent_coef = "auto"`).
pub const DEFAULT_AUTOTUNE_ALPHA: bool = true;
/// Default uniform-random actions before the policy acts: 5 000 env steps (CleanRL's
/// `learning_starts`, during which it also acts randomly).
pub const DEFAULT_START_STEPS: u64 = 5_000;
/// Default env steps before the first gradient step: 5 000 (CleanRL).
pub const DEFAULT_LEARNING_STARTS: u64 = 5_000;
/// Default schedule: one gradient step per env step (CleanRL, SB3).
pub const DEFAULT_UPDATES: UpdateSchedule = UpdateSchedule::EnvSteps {
    train_frequency: 1,
    gradient_steps: 1,
};
/// Largest number of gradient steps one round (or one episode end) may ask for.
pub const MAX_GRADIENT_STEPS: usize = 100_000;
/// Default: twin Q critics with target copies (SAC v2); `true` adds SpinningUp 0.1.1's V network.
pub const DEFAULT_VALUE_NETWORK: bool = false;
/// Default bounds of the policy's log-std, reached through a tanh rescale: [−5, 2] (CleanRL;
/// SpinningUp: [−20, 2]).
pub const DEFAULT_LOG_STD_MIN: f32 = -5.0;
/// Upper log-std bound (CleanRL, SpinningUp, SB3).
pub const DEFAULT_LOG_STD_MAX: f32 = 2.0;
/// Added inside the log of the tanh-squash correction `log(1 − tanh² + ε)` (SpinningUp,
/// CleanRL).
pub const SQUASH_EPSILON: f32 = 1e-6;
/// Version of the [`super::SacAgent::to_json`] format.
pub const SAC_CHECKPOINT_VERSION: u32 = 1;

/// How the policy's log-std stays within `[log_std_min, log_std_max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStdBound {
    /// `min + ½(max − min)(tanh r + 1)` (SpinningUp, CleanRL). An actor output of 0 means the
    /// middle of the range: σ ≈ 1e-4 at SpinningUp's [−20, 2], σ ≈ 0.22 at CleanRL's [−5, 2].
    Tanh,
    /// `clamp(r, min, max)`, no gradient outside (Stable-Baselines3): an actor output of 0
    /// means σ = 1 whatever the bounds.
    Clip,
}

/// When gradient steps happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum UpdateSchedule {
    /// `gradient_steps` gradient steps at every global env step that is a multiple of
    /// `train_frequency` (all env copies counted; CleanRL, SB3's `train_freq` in steps).
    EnvSteps {
        /// Env steps between training rounds (≥ 1).
        train_frequency: u64,
        /// Gradient steps per round (≥ 1).
        gradient_steps: usize,
    },
    /// When an episode ends after `len` steps, `⌈len / env_steps_per_gradient_step⌉` gradient
    /// steps (SpinningUp 0.1.1 as TeachMyAgent ran it: `train_freq` 10). A copy's episode cut
    /// by the budget's end gets none.
    EpisodeEnd {
        /// Env steps of an episode per gradient step (≥ 1).
        env_steps_per_gradient_step: u64,
    },
}

/// Hyper-parameters of SAC. `Default` gives CleanRL's `sac_continuous_action.py` values, with
/// one learning rate for the policy and the critics (CleanRL's `policy_lr` is 3e-4 too) and
/// the policy updated at every gradient step (CleanRL delays it to every second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Hidden widths (ReLU) of the policy and of every value network, within the network caps
    /// of [`validate_hidden_sizes`]. Default: [`DEFAULT_HIDDEN_SIZES`].
    pub hidden_sizes: Vec<usize>,
    /// Adam step size of every network and of log α. Default: [`DEFAULT_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Adam ε. Default: [`DEFAULT_ADAM_EPSILON`].
    pub adam_epsilon: f32,
    /// Replay capacity (transitions), `batch_size..=MAX_BUFFER_SIZE`. Default:
    /// [`DEFAULT_BUFFER_SIZE`].
    pub buffer_size: usize,
    /// Transitions per gradient step (drawn uniformly with replacement), `1..=buffer_size`.
    /// Default: [`DEFAULT_BATCH_SIZE`].
    pub batch_size: usize,
    /// Discount γ ∈ [0, 1]. Default: [`DEFAULT_GAMMA`].
    pub gamma: f64,
    /// Target update `θ' ← τ·θ + (1 − τ)·θ'` after every gradient step, τ ∈ (0, 1]. Default:
    /// [`DEFAULT_TAU`].
    pub tau: f32,
    /// Entropy coefficient α > 0: fixed, or the start of the tuning with `autotune_alpha`.
    /// Default: [`DEFAULT_ALPHA`].
    pub alpha: f64,
    /// Tune α so that the policy's entropy approaches `target_entropy`. Default:
    /// [`DEFAULT_AUTOTUNE_ALPHA`].
    pub autotune_alpha: bool,
    /// Target entropy of the tuning (nats); `None` = −(action width), as CleanRL and SB3.
    pub target_entropy: Option<f64>,
    /// Env steps (all copies counted) with uniformly random actions before the policy acts.
    /// Default: [`DEFAULT_START_STEPS`].
    pub start_steps: u64,
    /// No gradient step before this many env steps. Default: [`DEFAULT_LEARNING_STARTS`].
    pub learning_starts: u64,
    /// When gradient steps happen. Default: [`DEFAULT_UPDATES`].
    pub updates: UpdateSchedule,
    /// SpinningUp 0.1.1's separate state-value network V with a Polyak target, which the Q
    /// targets bootstrap from instead of target Q copies; its policy loss uses Q1 only.
    /// Default: [`DEFAULT_VALUE_NETWORK`].
    pub value_network: bool,
    /// Lower bound of the policy's log-std. Default: [`DEFAULT_LOG_STD_MIN`].
    pub log_std_min: f32,
    /// Upper bound of the policy's log-std (> `log_std_min`). Default: [`DEFAULT_LOG_STD_MAX`].
    pub log_std_max: f32,
    /// How the actor's output is kept within the bounds. Default: [`LogStdBound::Tanh`].
    pub log_std_bound: LogStdBound,
    /// Step rewards below this are raised to it before they enter the replay buffer; `None`
    /// keeps them. Why a walker student may want it: [`crate::PpoConfig::reward_floor`].
    /// Default: none.
    pub reward_floor: Option<f64>,
}

impl Default for SacConfig {
    fn default() -> Self {
        SacConfig {
            hidden_sizes: DEFAULT_HIDDEN_SIZES.to_vec(),
            learning_rate: DEFAULT_LEARNING_RATE,
            adam_epsilon: DEFAULT_ADAM_EPSILON,
            buffer_size: DEFAULT_BUFFER_SIZE,
            batch_size: DEFAULT_BATCH_SIZE,
            gamma: DEFAULT_GAMMA,
            tau: DEFAULT_TAU,
            alpha: DEFAULT_ALPHA,
            autotune_alpha: DEFAULT_AUTOTUNE_ALPHA,
            target_entropy: None,
            start_steps: DEFAULT_START_STEPS,
            learning_starts: DEFAULT_LEARNING_STARTS,
            updates: DEFAULT_UPDATES,
            value_network: DEFAULT_VALUE_NETWORK,
            log_std_min: DEFAULT_LOG_STD_MIN,
            log_std_max: DEFAULT_LOG_STD_MAX,
            log_std_bound: LogStdBound::Tanh,
            reward_floor: None,
        }
    }
}

impl SacConfig {
    /// TeachMyAgent's student, SpinningUp 0.1.1 (TF1): 400-300 ReLU, lr 1e-3, α 0.005 fixed,
    /// batch 1000, buffer 2M, γ 0.99, polyak 0.995, 10 000 uniform start steps, learning from
    /// the first episode's end on, `⌈len/10⌉` gradient steps at the end of each episode, twin Q
    /// plus a V network with a Polyak target, log-std in [−20, 2].
    pub fn teach_my_agent() -> Self {
        SacConfig {
            hidden_sizes: vec![400, 300],
            learning_rate: 1e-3,
            buffer_size: 2_000_000,
            batch_size: 1000,
            gamma: 0.99,
            tau: 0.005,
            alpha: 0.005,
            autotune_alpha: false,
            start_steps: 10_000,
            learning_starts: 0,
            updates: UpdateSchedule::EpisodeEnd {
                env_steps_per_gradient_step: 10,
            },
            value_network: true,
            log_std_min: -20.0,
            log_std_bound: LogStdBound::Tanh,
            ..SacConfig::default()
        }
    }

    /// RL-Baselines3-Zoo's SAC for BipedalWalker-v3: 400-300, lr 7.3e-4, buffer 300 000,
    /// batch 256, γ 0.98, τ 0.02, α tuned, 10 000 steps before learning, 64 gradient steps
    /// every 64 env steps (one per env step); SB3's log-std clipped to [−20, 2].
    pub fn sb3_zoo_bipedal_walker() -> Self {
        SacConfig {
            hidden_sizes: vec![400, 300],
            learning_rate: 7.3e-4,
            buffer_size: 300_000,
            batch_size: 256,
            gamma: 0.98,
            tau: 0.02,
            alpha: 1.0,
            autotune_alpha: true,
            start_steps: 10_000,
            learning_starts: 10_000,
            updates: UpdateSchedule::EnvSteps {
                train_frequency: 64,
                gradient_steps: 64,
            },
            log_std_min: -20.0,
            log_std_bound: LogStdBound::Clip,
            ..SacConfig::default()
        }
    }

    /// teachgym's walker preset, chosen for env steps per second on 2 cores: the zoo's
    /// BipedalWalker values with 256-256 networks and one gradient step per 8 env steps
    /// (64 gradient steps every 512 env steps), so a 20M-step run costs 2.5M gradient steps
    /// instead of 20M. What it learns on the walkers is not measured yet (`BENCHMARKS.md`
    /// §11.4: at ≈ 10 ms a gradient step, 20M env steps still take ≈ 7 hours here).
    pub fn teachgym_walker() -> Self {
        SacConfig {
            hidden_sizes: DEFAULT_HIDDEN_SIZES.to_vec(),
            buffer_size: 1_000_000,
            updates: UpdateSchedule::EnvSteps {
                train_frequency: 512,
                gradient_steps: 64,
            },
            ..SacConfig::sb3_zoo_bipedal_walker()
        }
    }

    /// The names [`SacConfig::preset`] knows.
    pub const PRESET_NAMES: [&'static str; 4] = [
        "clean_rl",
        "sb3_zoo_bipedal_walker",
        "teach_my_agent",
        "teachgym_walker",
    ];

    /// A named preset: `clean_rl` ([`SacConfig::default`]), `sb3_zoo_bipedal_walker`,
    /// `teach_my_agent` or `teachgym_walker`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] listing the known names.
    pub fn preset(name: &str) -> Result<Self> {
        Ok(match name {
            "clean_rl" => SacConfig::default(),
            "sb3_zoo_bipedal_walker" => SacConfig::sb3_zoo_bipedal_walker(),
            "teach_my_agent" => SacConfig::teach_my_agent(),
            "teachgym_walker" => SacConfig::teachgym_walker(),
            other => {
                return Err(StudentError::InvalidConfig {
                    field: "preset",
                    reason: format!(
                        "unknown SAC preset `{other}`; known: {}",
                        Self::PRESET_NAMES.join(", ")
                    ),
                })
            }
        })
    }

    /// Checks every field; returns [`StudentError::InvalidConfig`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: String| {
            Err(StudentError::InvalidConfig { field, reason })
        };
        validate_hidden_sizes("hidden_sizes", &self.hidden_sizes)?;
        check_counts(&[
            ("buffer_size", self.buffer_size as u64),
            ("batch_size", self.batch_size as u64),
        ])?;
        if self.buffer_size > MAX_BUFFER_SIZE {
            return bad(
                "buffer_size",
                format!(
                    "must be at most {MAX_BUFFER_SIZE}, got {}",
                    self.buffer_size
                ),
            );
        }
        if self.batch_size > MAX_BATCH_SIZE || self.batch_size > self.buffer_size {
            return bad(
                "batch_size",
                format!(
                    "must be at most buffer_size ({}) and {MAX_BATCH_SIZE}, got {}",
                    self.buffer_size, self.batch_size
                ),
            );
        }
        match self.updates {
            UpdateSchedule::EnvSteps {
                train_frequency,
                gradient_steps,
            } => {
                check_counts(&[
                    ("updates.train_frequency", train_frequency),
                    ("updates.gradient_steps", gradient_steps as u64),
                ])?;
                if gradient_steps > MAX_GRADIENT_STEPS {
                    return bad(
                        "updates.gradient_steps",
                        format!("must be at most {MAX_GRADIENT_STEPS}, got {gradient_steps}"),
                    );
                }
            }
            UpdateSchedule::EpisodeEnd {
                env_steps_per_gradient_step,
            } => check_counts(&[(
                "updates.env_steps_per_gradient_step",
                env_steps_per_gradient_step,
            )])?,
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad("gamma", format!("must be in [0, 1], got {}", self.gamma));
        }
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return bad("tau", format!("must be in (0, 1], got {}", self.tau));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(
                "alpha",
                format!("must be finite and > 0, got {}", self.alpha),
            );
        }
        if let Some(entropy) = self.target_entropy {
            if !entropy.is_finite() {
                return bad("target_entropy", format!("must be finite, got {entropy}"));
            }
        }
        if !(self.log_std_min.is_finite()
            && self.log_std_max.is_finite()
            && self.log_std_min < self.log_std_max)
        {
            return bad(
                "log_std_min",
                format!(
                    "must be finite and below log_std_max, got [{}, {}]",
                    self.log_std_min, self.log_std_max
                ),
            );
        }
        if let Some(floor) = self.reward_floor {
            if !floor.is_finite() {
                return bad("reward_floor", format!("must be finite, got {floor}"));
            }
        }
        Ok(self.adam().validate()?)
    }

    pub(super) fn adam(&self) -> AdamConfig {
        AdamConfig {
            learning_rate: self.learning_rate,
            epsilon: self.adam_epsilon,
            ..AdamConfig::default()
        }
    }

    /// The log-std bounds and their [`LogStdBound`], as the policy applies them.
    pub(super) fn log_std_map(&self) -> super::policy::LogStdMap {
        super::policy::LogStdMap {
            min: self.log_std_min,
            max: self.log_std_max,
            bound: self.log_std_bound,
        }
    }

    /// The entropy target of the α tuning for `act_dim`-wide actions.
    pub fn target_entropy_for(&self, act_dim: usize) -> f64 {
        self.target_entropy.unwrap_or(-(act_dim as f64))
    }
}

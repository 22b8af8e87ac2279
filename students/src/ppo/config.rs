//! PPO's hyper-parameters: every default written once as a `pub const`, the presets
//! (CleanRL, RL-Zoo, TeachMyAgent, teachgym's walker preset) and their validation.

use serde::{Deserialize, Serialize};

use crate::adam::AdamConfig;
use crate::error::{Result, StudentError};
use crate::mlp::validate_hidden_sizes;

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

/// Default hidden widths of the policy and value MLPs: 64-64 (CleanRL).
pub const DEFAULT_HIDDEN_SIZES: [usize; 2] = [64, 64];
/// Default Adam step size: 3e-4 (CleanRL; SB3-zoo BipedalWalker uses 2.5e-4).
pub const DEFAULT_LEARNING_RATE: f32 = 3e-4;
/// Default Adam ε: 1e-5 (CleanRL, baselines ppo2).
pub const DEFAULT_ADAM_EPSILON: f32 = 1e-5;
/// Default environment steps per rollout (per update): 2048.
pub const DEFAULT_ROLLOUT_STEPS: usize = 2048;
/// Default minibatch size: 64 (CleanRL's 32 minibatches of a 2048-step rollout).
pub const DEFAULT_MINIBATCH_SIZE: usize = 64;
/// Default passes over each rollout: 10.
pub const DEFAULT_UPDATE_EPOCHS: usize = 10;
/// Largest `rollout_steps`: 2^21, 32 times RL-Zoo's 65 536 (the rollout buffer holds that many
/// observations, about 300 MiB for the walkers).
pub const MAX_ROLLOUT_STEPS: usize = 1 << 21;
/// Largest `update_epochs`: ten times the default; each epoch passes over the whole rollout.
pub const MAX_UPDATE_EPOCHS: usize = 100;
/// Default discount γ: 0.99 (SB3-zoo BipedalWalker uses 0.999).
pub const DEFAULT_GAMMA: f64 = 0.99;
/// Default GAE λ: 0.95.
pub const DEFAULT_GAE_LAMBDA: f64 = 0.95;
/// Default surrogate clipping coefficient ε: 0.2 (SB3-zoo BipedalWalker: 0.18).
pub const DEFAULT_CLIP_COEF: f32 = 0.2;
/// Default value clipping: on (CleanRL `clip_vloss`), with the same coefficient as the policy.
pub const DEFAULT_CLIP_VLOSS: bool = true;
/// Default advantage normalisation per minibatch: on.
pub const DEFAULT_NORM_ADV: bool = true;
/// Default entropy coefficient: 0.
pub const DEFAULT_ENT_COEF: f32 = 0.0;
/// Default value-loss coefficient: 0.5.
pub const DEFAULT_VF_COEF: f32 = 0.5;
/// Default global gradient-norm limit: 0.5.
pub const DEFAULT_MAX_GRAD_NORM: f32 = 0.5;
/// Default KL early stop: none.
pub const DEFAULT_TARGET_KL: Option<f32> = None;
/// Default linear learning-rate annealing over training: on (as CleanRL, update `k` of `K` uses
/// `lr · (1 − k/K)`, so the last one uses `lr/K`).
pub const DEFAULT_ANNEAL_LR: bool = true;
/// Default running observation normalisation: on (CleanRL `NormalizeObservation`, SB3
/// `VecNormalize`).
pub const DEFAULT_NORM_OBS: bool = true;
/// Default reward scaling by the running std of the discounted return: on.
pub const DEFAULT_NORM_REWARD: bool = true;
/// Default clip of normalised observations: ±10.
pub const DEFAULT_OBS_CLIP: f32 = 10.0;
/// Default clip of scaled rewards: ±10.
pub const DEFAULT_REWARD_CLIP: f32 = 10.0;
/// Default floor of the step rewards the student learns from: none.
pub const DEFAULT_REWARD_FLOOR: Option<f64> = None;
/// Default initial log-std of the policy: 0 (σ = 1).
pub const DEFAULT_INIT_LOG_STD: f32 = 0.0;
/// Orthogonal gain of the policy head (CleanRL: 0.01, so initial means are ≈ 0).
pub const POLICY_HEAD_GAIN: f32 = 0.01;
/// Orthogonal gain of the value head (CleanRL: 1).
pub const VALUE_HEAD_GAIN: f32 = 1.0;
/// Variance floor of the running normalisers.
pub const NORM_EPSILON: f64 = 1e-8;
/// Version of the [`super::PpoAgent::to_json`] format (2: the policy head is a tagged enum).
pub const PPO_CHECKPOINT_VERSION: u32 = 2;

/// Hyper-parameters of PPO. `Default` gives CleanRL's `ppo_continuous_action.py` values (which
/// SB3-zoo's BipedalWalker entry mostly shares; differences are noted per field);
/// [`PpoConfig::teach_my_agent`] gives TeachMyAgent's and [`PpoConfig::clean_rl_discrete`]
/// CleanRL's discrete-action `ppo.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Hidden widths of both MLPs (tanh), within the network caps of
    /// [`validate_hidden_sizes`]. Default:
    /// [`DEFAULT_HIDDEN_SIZES`].
    pub hidden_sizes: Vec<usize>,
    /// Adam step size (annealed if `anneal_lr`). Default: [`DEFAULT_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Adam ε. Default: [`DEFAULT_ADAM_EPSILON`].
    pub adam_epsilon: f32,
    /// Environment steps per rollout, `1..=MAX_ROLLOUT_STEPS`. Default: [`DEFAULT_ROLLOUT_STEPS`].
    pub rollout_steps: usize,
    /// Minibatch size (≤ `rollout_steps`; the last minibatch of an epoch may be smaller).
    /// Default: [`DEFAULT_MINIBATCH_SIZE`].
    pub minibatch_size: usize,
    /// Passes over each rollout, `1..=MAX_UPDATE_EPOCHS`. Default: [`DEFAULT_UPDATE_EPOCHS`].
    pub update_epochs: usize,
    /// Discount γ ∈ [0, 1]. Default: [`DEFAULT_GAMMA`].
    pub gamma: f64,
    /// GAE λ ∈ [0, 1]. Default: [`DEFAULT_GAE_LAMBDA`].
    pub gae_lambda: f64,
    /// Surrogate clipping coefficient ε > 0. Default: [`DEFAULT_CLIP_COEF`].
    pub clip_coef: f32,
    /// Clip the value update around the rollout's values by `clip_coef`. Default:
    /// [`DEFAULT_CLIP_VLOSS`].
    pub clip_vloss: bool,
    /// Normalise advantages per minibatch. Default: [`DEFAULT_NORM_ADV`].
    pub norm_adv: bool,
    /// Entropy bonus coefficient ≥ 0. Default: [`DEFAULT_ENT_COEF`].
    pub ent_coef: f32,
    /// Value-loss coefficient ≥ 0. Default: [`DEFAULT_VF_COEF`].
    pub vf_coef: f32,
    /// Global gradient-norm limit over policy, log-std and value parameters. Default:
    /// [`DEFAULT_MAX_GRAD_NORM`].
    pub max_grad_norm: f32,
    /// Stop an update's epochs once the approximate KL exceeds this. Default:
    /// [`DEFAULT_TARGET_KL`].
    pub target_kl: Option<f32>,
    /// Anneal the learning rate linearly towards 0 over the training budget. Default:
    /// [`DEFAULT_ANNEAL_LR`].
    pub anneal_lr: bool,
    /// Normalise observations by running mean/std. Default: [`DEFAULT_NORM_OBS`].
    pub norm_obs: bool,
    /// Scale rewards by the running std of the discounted return. Default:
    /// [`DEFAULT_NORM_REWARD`].
    pub norm_reward: bool,
    /// Clip of normalised observations. Default: [`DEFAULT_OBS_CLIP`].
    pub obs_clip: f32,
    /// Clip of scaled rewards. Default: [`DEFAULT_REWARD_CLIP`].
    pub reward_clip: f32,
    /// Initial log-std of the Gaussian policy (unused by a categorical head). Default:
    /// [`DEFAULT_INIT_LOG_STD`].
    pub init_log_std: f32,
    /// Step rewards below this are raised to it before the student learns from them (before
    /// reward normalisation); `None` keeps them. The walkers' −100 for a fall, against
    /// ≈ +0.3 per step of walking, makes standing still the best policy on every task the
    /// walker cannot cross; a floor of −10 keeps walking worth it. Evaluation and the run's
    /// recorded returns always use the env's own rewards. Default: [`DEFAULT_REWARD_FLOOR`].
    pub reward_floor: Option<f64>,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            hidden_sizes: DEFAULT_HIDDEN_SIZES.to_vec(),
            learning_rate: DEFAULT_LEARNING_RATE,
            adam_epsilon: DEFAULT_ADAM_EPSILON,
            rollout_steps: DEFAULT_ROLLOUT_STEPS,
            minibatch_size: DEFAULT_MINIBATCH_SIZE,
            update_epochs: DEFAULT_UPDATE_EPOCHS,
            gamma: DEFAULT_GAMMA,
            gae_lambda: DEFAULT_GAE_LAMBDA,
            clip_coef: DEFAULT_CLIP_COEF,
            clip_vloss: DEFAULT_CLIP_VLOSS,
            norm_adv: DEFAULT_NORM_ADV,
            ent_coef: DEFAULT_ENT_COEF,
            vf_coef: DEFAULT_VF_COEF,
            max_grad_norm: DEFAULT_MAX_GRAD_NORM,
            target_kl: DEFAULT_TARGET_KL,
            anneal_lr: DEFAULT_ANNEAL_LR,
            norm_obs: DEFAULT_NORM_OBS,
            norm_reward: DEFAULT_NORM_REWARD,
            obs_clip: DEFAULT_OBS_CLIP,
            reward_clip: DEFAULT_REWARD_CLIP,
            init_log_std: DEFAULT_INIT_LOG_STD,
            reward_floor: DEFAULT_REWARD_FLOOR,
        }
    }
}

impl PpoConfig {
    /// TeachMyAgent's PPO (OpenAI Baselines ppo2): 400-300 tanh MLPs, 20 000-step rollouts,
    /// minibatch 1000, 5 epochs, lr 3e-4 constant, clip 0.2, ent 0, vf 0.5, max-grad-norm 0.5,
    /// λ 0.95, γ 0.99, observation and reward normalisation. (ppo2 shares the value head's
    /// trunk with the policy; here the two networks are separate.)
    pub fn teach_my_agent() -> Self {
        PpoConfig {
            hidden_sizes: vec![400, 300],
            learning_rate: 3e-4,
            rollout_steps: 20_000,
            minibatch_size: 1000,
            update_epochs: 5,
            anneal_lr: false,
            ..PpoConfig::default()
        }
    }

    /// CleanRL's `ppo.py` (discrete actions, Atari-free defaults): lr 2.5e-4 annealed, 512-step
    /// rollouts (its 4 envs × 128 steps), minibatch 128, 4 epochs, entropy 0.01, no observation
    /// or reward normalisation; the rest as [`PpoConfig::default`].
    pub fn clean_rl_discrete() -> Self {
        PpoConfig {
            learning_rate: 2.5e-4,
            rollout_steps: 512,
            minibatch_size: 128,
            update_epochs: 4,
            ent_coef: 0.01,
            norm_obs: false,
            norm_reward: false,
            ..PpoConfig::default()
        }
    }

    /// RL-Baselines3-Zoo's tuned PPO for BipedalWalker-v3: 32 envs × 2048 steps (a 65 536-step
    /// rollout), minibatch 64, 10 epochs, γ 0.999, λ 0.95, lr 2.5e-4 constant, clip 0.18, no
    /// value clipping, entropy 0, observation and reward normalisation, 64-64 tanh networks
    /// (use it with `num_envs = 32`).
    pub fn sb3_zoo_bipedal_walker() -> Self {
        PpoConfig {
            learning_rate: 2.5e-4,
            rollout_steps: 65_536,
            minibatch_size: 64,
            update_epochs: 10,
            gamma: 0.999,
            gae_lambda: 0.95,
            clip_coef: 0.18,
            clip_vloss: false,
            anneal_lr: false,
            ..PpoConfig::default()
        }
    }

    /// teachgym's walker preset: [`PpoConfig::sb3_zoo_bipedal_walker`] with 16 384-step rollouts
    /// (16 envs × 1 024 steps: four times as many policy updates per env step) and the learning
    /// rate annealed linearly to 0. On the easy Stump Tracks sub-space it learned earlier and
    /// ended higher than the zoo values in the same budget (`BENCHMARKS.md` §5.2). The walkers'
    /// default in `teachgym train` (use it with `num_envs = 16`).
    pub fn teachgym_walker() -> Self {
        PpoConfig {
            rollout_steps: 16_384,
            anneal_lr: true,
            ..PpoConfig::sb3_zoo_bipedal_walker()
        }
    }

    /// The names [`PpoConfig::preset`] knows.
    pub const PRESET_NAMES: [&'static str; 5] = [
        "clean_rl",
        "clean_rl_discrete",
        "sb3_zoo_bipedal_walker",
        "teach_my_agent",
        "teachgym_walker",
    ];

    /// A named preset: `clean_rl` ([`PpoConfig::default`]), `clean_rl_discrete`,
    /// `sb3_zoo_bipedal_walker`, `teach_my_agent` or `teachgym_walker`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] listing the known names.
    pub fn preset(name: &str) -> Result<Self> {
        Ok(match name {
            "clean_rl" => PpoConfig::default(),
            "clean_rl_discrete" => PpoConfig::clean_rl_discrete(),
            "sb3_zoo_bipedal_walker" => PpoConfig::sb3_zoo_bipedal_walker(),
            "teach_my_agent" => PpoConfig::teach_my_agent(),
            "teachgym_walker" => PpoConfig::teachgym_walker(),
            other => {
                return Err(StudentError::InvalidConfig {
                    field: "preset",
                    reason: format!(
                        "unknown PPO preset `{other}`; known: {}",
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
        for (field, value, max) in [
            ("rollout_steps", self.rollout_steps, MAX_ROLLOUT_STEPS),
            ("update_epochs", self.update_epochs, MAX_UPDATE_EPOCHS),
        ] {
            if !(1..=max).contains(&value) {
                return bad(field, format!("must be in 1..={max}, got {value}"));
            }
        }
        if self.minibatch_size == 0 || self.minibatch_size > self.rollout_steps {
            return bad(
                "minibatch_size",
                format!(
                    "must be in 1..=rollout_steps ({}), got {}",
                    self.rollout_steps, self.minibatch_size
                ),
            );
        }
        for (field, v) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            if !(0.0..=1.0).contains(&v) {
                return bad(field, format!("must be in [0, 1], got {v}"));
            }
        }
        for (field, v) in [
            ("clip_coef", self.clip_coef),
            ("max_grad_norm", self.max_grad_norm),
            ("obs_clip", self.obs_clip),
            ("reward_clip", self.reward_clip),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(field, format!("must be finite and > 0, got {v}"));
            }
        }
        for (field, v) in [("ent_coef", self.ent_coef), ("vf_coef", self.vf_coef)] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field, format!("must be finite and ≥ 0, got {v}"));
            }
        }
        if let Some(kl) = self.target_kl {
            if !(kl.is_finite() && kl > 0.0) {
                return bad("target_kl", format!("must be finite and > 0, got {kl}"));
            }
        }
        if let Some(floor) = self.reward_floor {
            if !floor.is_finite() {
                return bad("reward_floor", format!("must be finite, got {floor}"));
            }
        }
        if !self.init_log_std.is_finite() {
            return bad(
                "init_log_std",
                format!("must be finite, got {}", self.init_log_std),
            );
        }
        Ok(self.adam(self.learning_rate).validate()?)
    }

    pub(super) fn adam(&self, learning_rate: f32) -> AdamConfig {
        AdamConfig {
            learning_rate,
            epsilon: self.adam_epsilon,
            ..AdamConfig::default()
        }
    }
}

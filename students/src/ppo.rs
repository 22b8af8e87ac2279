//! Proximal Policy Optimisation (Schulman et al., 2017) for continuous and discrete actions,
//! read top to bottom as CleanRL's `ppo_continuous_action.py` (and `ppo.py` for discrete
//! actions): **config → network → rollout → GAE → update**, then checkpoints.
//!
//! - Policy ([`PolicyHead`], chosen from the env's action space): for `Box` actions a tanh MLP
//!   for the Gaussian mean and a state-independent log-std vector (its own Adam tensor); for
//!   `Discrete` actions a tanh MLP for the logits of a categorical distribution. Value: a
//!   separate tanh MLP.
//! - Every implementation detail is a documented switch in [`PpoConfig`]: advantage
//!   normalisation, value clipping, observation and reward normalisation, learning-rate
//!   annealing, an optional KL early stop.
//! - GAE(λ) bootstraps on truncation (the value of the final observation is added to the last
//!   reward, as SB3 does), never on termination.
//! - Gradients of the Gaussian and categorical log-probs, their entropies and the clipped losses
//!   are derived by hand (the `policy_loss`, `categorical_policy_loss` and `value_loss` helpers
//!   at the end of this file) and checked against finite differences in the tests.
//! - Everything random (initialisation, exploration noise, minibatch order, task draws) comes
//!   from seeded `Pcg64` streams: the same seed gives the same training run bit for bit.
//!
//! # Example
//! ```
//! use teachgym_envs::{PointMassConfig, PointMassEnv};
//! use teachgym_students::ppo::{PpoAgent, PpoConfig};
//! # fn main() -> Result<(), teachgym_students::StudentError> {
//! let mut env = PointMassEnv::new(PointMassConfig::default())?;
//! let config = PpoConfig { rollout_steps: 256, minibatch_size: 64, ..PpoConfig::default() };
//! let mut agent = PpoAgent::new(config, 6, 2, 0)?;
//! let episodes = agent.train(&mut env, 512, 0, |_rng| vec![0.5, 1.0])?;
//! assert!(!episodes.is_empty());
//! let action = agent.act(&[0.0; 6], true)?;
//! assert_eq!(action.len(), 2);
//! # Ok(()) }
//! ```
//!
//! Discrete actions (an env with `Action = usize` and a `Discrete` action space):
//! ```
//! use teachgym_core::Env;
//! use teachgym_envs::{GridWorldConfig, GridWorldEnv};
//! use teachgym_students::ppo::{PpoAgent, PpoConfig};
//! # fn main() -> Result<(), teachgym_students::StudentError> {
//! let mut env = GridWorldEnv::new(GridWorldConfig::default())?;
//! let config = PpoConfig { rollout_steps: 256, minibatch_size: 64, ..PpoConfig::default() };
//! let mut agent =
//!     PpoAgent::for_spaces(config, env.observation_space(), env.action_space(), 0)?;
//! agent.train(&mut env, 512, 0, |_rng| vec![5.0, 0.1])?;
//! let action: usize = agent.act_discrete(&[0.0; 12], true)?;
//! assert!(action < 4);
//! # Ok(()) }
//! ```

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{Env, Space, Step};

use crate::activation::Activation;
use crate::adam::{Adam, AdamConfig};
use crate::checkpoint::{AdamState, Checkpoint};
use crate::error::{check_finite, Result, StudentError};
use crate::gradients::Gradients;
use crate::mlp::{ForwardCache, InferenceBuffers, Mlp, MlpConfig};
use crate::student::annealed_learning_rate;

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
/// Default initial log-std of the policy: 0 (σ = 1).
pub const DEFAULT_INIT_LOG_STD: f32 = 0.0;
/// Orthogonal gain of the policy head (CleanRL: 0.01, so initial means are ≈ 0).
pub const POLICY_HEAD_GAIN: f32 = 0.01;
/// Orthogonal gain of the value head (CleanRL: 1).
pub const VALUE_HEAD_GAIN: f32 = 1.0;
/// Variance floor of the running normalisers.
pub const NORM_EPSILON: f64 = 1e-8;
/// Version of the [`PpoAgent::to_json`] format (2: the policy head is a tagged enum).
pub const PPO_CHECKPOINT_VERSION: u32 = 2;

/// Hyper-parameters of PPO. `Default` gives CleanRL's `ppo_continuous_action.py` values (which
/// SB3-zoo's BipedalWalker entry mostly shares; differences are noted per field);
/// [`PpoConfig::teach_my_agent`] gives TeachMyAgent's and [`PpoConfig::clean_rl_discrete`]
/// CleanRL's discrete-action `ppo.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Hidden widths of both MLPs (tanh). Default: [`DEFAULT_HIDDEN_SIZES`].
    pub hidden_sizes: Vec<usize>,
    /// Adam step size (annealed if `anneal_lr`). Default: [`DEFAULT_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Adam ε. Default: [`DEFAULT_ADAM_EPSILON`].
    pub adam_epsilon: f32,
    /// Environment steps per rollout. Default: [`DEFAULT_ROLLOUT_STEPS`].
    pub rollout_steps: usize,
    /// Minibatch size (≤ `rollout_steps`; the last minibatch of an epoch may be smaller).
    /// Default: [`DEFAULT_MINIBATCH_SIZE`].
    pub minibatch_size: usize,
    /// Passes over each rollout. Default: [`DEFAULT_UPDATE_EPOCHS`].
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
        if self.hidden_sizes.contains(&0) {
            return bad(
                "hidden_sizes",
                format!("widths must be ≥ 1, got {:?}", self.hidden_sizes),
            );
        }
        if self.rollout_steps == 0 {
            return bad("rollout_steps", "must be ≥ 1".into());
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
        if self.update_epochs == 0 {
            return bad("update_epochs", "must be ≥ 1".into());
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
        if !self.init_log_std.is_finite() {
            return bad(
                "init_log_std",
                format!("must be finite, got {}", self.init_log_std),
            );
        }
        Ok(self.adam(self.learning_rate).validate()?)
    }

    fn adam(&self, learning_rate: f32) -> AdamConfig {
        AdamConfig {
            learning_rate,
            epsilon: self.adam_epsilon,
            ..AdamConfig::default()
        }
    }
}

/// Running mean and variance (Chan et al.'s parallel update, as SB3's `RunningMeanStd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// Mean per component.
    pub mean: Vec<f64>,
    /// Population variance per component.
    pub var: Vec<f64>,
    /// Number of samples seen (starts at a tiny ε so the first update is well defined).
    pub count: f64,
}

impl RunningMeanStd {
    /// Zero mean, unit variance, count 1e-4 (SB3's start).
    pub fn new(dim: usize) -> Self {
        RunningMeanStd {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Adds one sample.
    pub fn update(&mut self, x: &[f64]) {
        let total = self.count + 1.0;
        for ((m, v), &x) in self.mean.iter_mut().zip(&mut self.var).zip(x) {
            let delta = x - *m;
            *m += delta / total;
            *v = (*v * self.count + delta * delta * self.count / total) / total;
        }
        self.count = total;
    }

    fn is_valid(&self, dim: usize) -> bool {
        self.mean.len() == dim
            && self.var.len() == dim
            && self.count.is_finite()
            && self.count > 0.0
            && self.mean.iter().all(|m| m.is_finite())
            && self.var.iter().all(|v| v.is_finite() && *v >= 0.0)
    }
}

/// One finished training episode.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeStats {
    /// The task it was played on.
    pub task: Vec<f64>,
    /// Undiscounted (unscaled) return.
    pub episode_return: f64,
    /// Steps.
    pub length: u32,
    /// The env's success flag.
    pub success: bool,
    /// Training steps taken when it ended.
    pub global_step: u64,
}

/// Diagnostics of the last update, named after CleanRL's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UpdateStats {
    /// `losses/policy_loss` (mean over minibatches).
    pub policy_loss: f64,
    /// `losses/value_loss`.
    pub value_loss: f64,
    /// `losses/entropy`.
    pub entropy: f64,
    /// `losses/approx_kl` of the last minibatch ((r − 1) − log r estimator).
    pub approx_kl: f64,
    /// `losses/clipfrac`: fraction of samples whose ratio was clipped.
    pub clip_fraction: f64,
    /// Learning rate used.
    pub learning_rate: f32,
}

// ---------------------------------------------------------------------------------------------
// Network: Gaussian (state-independent log-std) or categorical policy, separate value MLP
// ---------------------------------------------------------------------------------------------

/// The policy's action distribution on top of the actor MLP's outputs.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyHead {
    /// `Box` actions: `N(actor(obs), diag(exp(log_std))²)` with a state-independent log-std
    /// vector trained by its own Adam.
    Gaussian {
        /// Log-std per action component.
        log_std: Vec<f32>,
        /// Adam state of `log_std`.
        adam: Adam,
    },
    /// `Discrete` actions: `softmax(actor(obs))` over the action indices.
    Categorical,
}

/// Action types PPO can drive: `[f32]` for `Box` spaces (Gaussian head) and `usize` for
/// `Discrete` spaces (categorical head). The policy emits a flat `f32` action; a categorical
/// head's is one element, the index.
pub trait PolicyAction {
    /// Whether actions of this type are discrete indices.
    const DISCRETE: bool;
    /// The owned form a vector env stores (`Vec<f32>`, `usize`).
    type Owned: std::borrow::Borrow<Self>
        + Clone
        + Send
        + Sync
        + Serialize
        + serde::de::DeserializeOwned;
    /// The owned action from the policy's flat action.
    fn from_flat(action: &[f32]) -> Self::Owned;
    /// Steps `env` with the policy's flat action.
    ///
    /// # Errors
    /// Whatever `env.step` returns.
    fn step_env<E: Env<Action = Self> + ?Sized>(
        env: &mut E,
        action: &[f32],
    ) -> teachgym_core::Result<Step<E::Obs>>;
}

impl PolicyAction for [f32] {
    const DISCRETE: bool = false;
    type Owned = Vec<f32>;
    fn from_flat(action: &[f32]) -> Vec<f32> {
        action.to_vec()
    }
    fn step_env<E: Env<Action = Self> + ?Sized>(
        env: &mut E,
        action: &[f32],
    ) -> teachgym_core::Result<Step<E::Obs>> {
        env.step(action)
    }
}

impl PolicyAction for usize {
    const DISCRETE: bool = true;
    type Owned = usize;
    fn from_flat(action: &[f32]) -> usize {
        // The index was stored as an `f32`, exact for any realistic number of actions.
        action[0] as usize
    }
    fn step_env<E: Env<Action = Self> + ?Sized>(
        env: &mut E,
        action: &[f32],
    ) -> teachgym_core::Result<Step<E::Obs>> {
        // The index was stored as an `f32`, exact for any realistic number of actions.
        env.step(&(action[0] as usize))
    }
}

/// A PPO learner: policy MLP and head, value MLP, their Adam states, the observation/return
/// normalisers and the RNG of exploration and minibatch order.
#[derive(Debug, Clone)]
pub struct PpoAgent {
    config: PpoConfig,
    actor: Mlp,
    critic: Mlp,
    head: PolicyHead,
    actor_adam: Adam,
    critic_adam: Adam,
    obs_rms: RunningMeanStd,
    return_rms: RunningMeanStd,
    rng: Pcg64,
    /// Running discounted return of each env copy of the vectorised loop (reward scaling).
    env_returns: Vec<f64>,
    last_update: UpdateStats,
    buffers: InferenceBuffers,
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

impl PpoAgent {
    /// A fresh agent with a Gaussian head for `obs_dim` observations and `act_dim`-wide `Box`
    /// actions; `seed` sets the initial weights and the exploration/minibatch RNG.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for a bad config or a zero dimension.
    pub fn new(config: PpoConfig, obs_dim: usize, act_dim: usize, seed: u64) -> Result<Self> {
        Self::build(config, obs_dim, act_dim, false, seed)
    }

    /// A fresh agent with a categorical head for `obs_dim` observations and `num_actions`
    /// discrete actions (as CleanRL's `ppo.py`); `seed` as in [`PpoAgent::new`].
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for a bad config or a zero dimension.
    pub fn new_discrete(
        config: PpoConfig,
        obs_dim: usize,
        num_actions: usize,
        seed: u64,
    ) -> Result<Self> {
        Self::build(config, obs_dim, num_actions, true, seed)
    }

    /// A fresh agent for an env's spaces: a `Box` observation space, and a Gaussian head for a
    /// `Box` action space or a categorical head for a `Discrete` one.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for other spaces, [`StudentError::InvalidConfig`] for a
    /// bad config.
    pub fn for_spaces(
        config: PpoConfig,
        observation_space: &Space,
        action_space: &Space,
        seed: u64,
    ) -> Result<Self> {
        let Space::Box(obs) = observation_space else {
            return Err(StudentError::ShapeMismatch {
                what: "env observation space",
                expected: "Box(n)".into(),
                got: format!("{observation_space:?}"),
            });
        };
        match action_space {
            Space::Box(actions) => Self::new(config, obs.len(), actions.len(), seed),
            Space::Discrete { n } => Self::new_discrete(config, obs.len(), *n, seed),
            other => Err(StudentError::ShapeMismatch {
                what: "env action space",
                expected: "Box(n) or Discrete(n)".into(),
                got: format!("{other:?}"),
            }),
        }
    }

    /// Builds either head; the draws from the initialisation RNG do not depend on the head.
    fn build(
        config: PpoConfig,
        obs_dim: usize,
        act_dim: usize,
        discrete: bool,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        if obs_dim == 0 || act_dim == 0 {
            return Err(StudentError::InvalidConfig {
                field: "obs_dim/act_dim",
                reason: format!("must be ≥ 1, got {obs_dim} and {act_dim}"),
            });
        }
        let mut init_rng = Pcg64::seed_from_u64(seed);
        let actor_config = MlpConfig::new(obs_dim, &config.hidden_sizes, Activation::Tanh, act_dim)
            .with_output_gain(POLICY_HEAD_GAIN);
        let critic_config = MlpConfig::new(obs_dim, &config.hidden_sizes, Activation::Tanh, 1)
            .with_output_gain(VALUE_HEAD_GAIN);
        let actor = Mlp::new(actor_config, &mut init_rng)?;
        let critic = Mlp::new(critic_config, &mut init_rng)?;
        let adam = config.adam(config.learning_rate);
        let head = if discrete {
            PolicyHead::Categorical
        } else {
            PolicyHead::Gaussian {
                log_std: vec![config.init_log_std; act_dim],
                adam: Adam::for_tensor_lengths(adam, &[act_dim])?,
            }
        };
        Ok(PpoAgent {
            actor_adam: Adam::new(adam, &actor)?,
            critic_adam: Adam::new(adam, &critic)?,
            head,
            actor,
            critic,
            obs_rms: RunningMeanStd::new(obs_dim),
            return_rms: RunningMeanStd::new(1),
            rng: Pcg64::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
            env_returns: Vec::new(),
            last_update: UpdateStats::default(),
            buffers: InferenceBuffers::default(),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.actor.inputs()
    }

    /// Action width (Gaussian head) or number of actions (categorical head).
    pub fn act_dim(&self) -> usize {
        self.actor.outputs()
    }

    /// The policy head.
    pub fn head(&self) -> &PolicyHead {
        &self.head
    }

    /// Whether the policy is categorical (discrete actions).
    pub fn is_discrete(&self) -> bool {
        matches!(self.head, PolicyHead::Categorical)
    }

    /// The policy's log-std per action component (empty for a categorical head).
    pub fn log_std(&self) -> &[f32] {
        match &self.head {
            PolicyHead::Gaussian { log_std, .. } => log_std,
            PolicyHead::Categorical => &[],
        }
    }

    /// Width of one stored action: the action vector, or the index of a discrete action.
    fn action_width(&self) -> usize {
        match self.head {
            PolicyHead::Gaussian { .. } => self.act_dim(),
            PolicyHead::Categorical => 1,
        }
    }

    /// Diagnostics of the last update.
    pub fn last_update(&self) -> UpdateStats {
        self.last_update
    }

    /// An action of a Gaussian head for a raw observation: the policy mean if `deterministic`,
    /// otherwise a sample from the Gaussian (advancing the agent's RNG). Unclipped; the env
    /// clips.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for a categorical head (use [`PpoAgent::act_discrete`])
    /// or a bad observation, [`StudentError::NonFinite`] for NaN/∞.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<Vec<f32>> {
        self.check_head(false)?;
        self.check_obs(obs)?;
        let normalized = self.normalize(obs);
        let (action, _) = self.sample(&normalized, deterministic)?;
        Ok(action)
    }

    /// An action index of a categorical head for a raw observation: the most probable one if
    /// `deterministic` (the first on ties), otherwise a sample (advancing the agent's RNG).
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for a Gaussian head (use [`PpoAgent::act`]) or a bad
    /// observation, [`StudentError::NonFinite`] for NaN/∞.
    pub fn act_discrete(&mut self, obs: &[f32], deterministic: bool) -> Result<usize> {
        self.check_head(true)?;
        self.check_obs(obs)?;
        let normalized = self.normalize(obs);
        let (action, _) = self.sample(&normalized, deterministic)?;
        Ok(action[0] as usize)
    }

    fn check_head(&self, discrete: bool) -> Result<()> {
        if self.is_discrete() == discrete {
            return Ok(());
        }
        let (box_space, discrete_space) = (
            format!("Box({})", self.act_dim()),
            format!("Discrete({})", self.act_dim()),
        );
        let (expected, got) = if discrete {
            (discrete_space, box_space)
        } else {
            (box_space, discrete_space)
        };
        Err(StudentError::ShapeMismatch {
            what: "action space of the policy",
            expected,
            got,
        })
    }

    fn check_obs(&self, obs: &[f32]) -> Result<()> {
        if obs.len() != self.obs_dim() {
            return Err(StudentError::ShapeMismatch {
                what: "observation",
                expected: format!("({})", self.obs_dim()),
                got: format!("({})", obs.len()),
            });
        }
        check_finite("observation", obs)
    }

    /// Normalised (and clipped) observation with the current statistics.
    fn normalize(&self, obs: &[f32]) -> Vec<f32> {
        if !self.config.norm_obs {
            return obs.to_vec();
        }
        let clip = self.config.obs_clip;
        obs.iter()
            .zip(&self.obs_rms.mean)
            .zip(&self.obs_rms.var)
            .map(|((&x, &m), &v)| {
                (((x as f64 - m) / (v + NORM_EPSILON).sqrt()) as f32).clamp(-clip, clip)
            })
            .collect()
    }

    /// Updates the observation statistics with `obs`, then normalises it.
    fn observe(&mut self, obs: &[f32]) -> Result<Vec<f32>> {
        self.check_obs(obs)?;
        if self.config.norm_obs {
            let x: Vec<f64> = obs.iter().map(|&v| v as f64).collect();
            self.obs_rms.update(&x);
        }
        Ok(self.normalize(obs))
    }

    /// Action (flat; a categorical head's is its index) and its log-probability for a
    /// normalised observation.
    fn sample(&mut self, normalized: &[f32], deterministic: bool) -> Result<(Vec<f32>, f32)> {
        let outputs = self
            .actor
            .forward_one(normalized, &mut self.buffers)?
            .to_vec();
        let log_std = match &self.head {
            PolicyHead::Gaussian { log_std, .. } => log_std,
            PolicyHead::Categorical => {
                let log_probs = log_softmax(&outputs);
                let index = if deterministic {
                    argmax(&log_probs)
                } else {
                    // Inverse-CDF draw; the last index absorbs rounding of the cumulative sum.
                    let u: f64 = self.rng.random();
                    let mut cumulative = 0.0;
                    log_probs
                        .iter()
                        .position(|&lp| {
                            cumulative += lp.exp();
                            u < cumulative
                        })
                        .unwrap_or(log_probs.len() - 1)
                };
                return Ok((vec![index as f32], log_probs[index] as f32));
            }
        };
        let mean = outputs;
        let action: Vec<f32> = if deterministic {
            mean.clone()
        } else {
            mean.iter()
                .zip(log_std)
                .map(|(&m, &s)| {
                    let noise: f32 = StandardNormal.sample(&mut self.rng);
                    m + s.exp() * noise
                })
                .collect()
        };
        let log_prob = gaussian_log_prob(&mean, log_std, &action) as f32;
        Ok((action, log_prob))
    }

    fn value(&mut self, normalized: &[f32]) -> Result<f32> {
        Ok(self.critic.forward_one(normalized, &mut self.buffers)?[0])
    }

    // -----------------------------------------------------------------------------------------
    // Rollout
    // -----------------------------------------------------------------------------------------

    /// Trains for `total_steps` environment steps (rounded up to whole rollouts) on one env.
    /// Every episode is reset on a task drawn by `task_source` from a task RNG seeded with
    /// `seed`; the first reset seeds the env with `seed`. Returns every finished episode.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] if the env's spaces do not match the agent (including a
    /// `Discrete` env for a Gaussian head or a `Box` env for a categorical one),
    /// [`StudentError::Env`] if the env rejects a task, [`StudentError::NonFinite`] if it
    /// returns NaN observations.
    pub fn train<E, F>(
        &mut self,
        env: &mut E,
        total_steps: u64,
        seed: u64,
        mut task_source: F,
    ) -> Result<Vec<EpisodeStats>>
    where
        E: Env<Obs = Vec<f32>>,
        E::Action: PolicyAction,
        F: FnMut(&mut Pcg64) -> Vec<f64>,
    {
        self.check_spaces(env)?;
        let cfg = self.config.clone();
        let n = cfg.rollout_steps;
        let num_updates = total_steps.div_ceil(n as u64).max(1);
        let mut task_rng = Pcg64::seed_from_u64(seed.wrapping_add(0x7a5c_0000));
        let mut episodes = Vec::new();
        let mut rollout = Rollout::new(n, self.obs_dim(), self.action_width());

        let mut task = task_source(&mut task_rng);
        let (first, _) = env.reset(Some(seed), &task)?;
        let mut obs = self.observe(&first)?;
        let mut discounted_return = 0.0f64;
        let mut global_step = 0u64;

        for update in 0..num_updates {
            // Learning-rate annealing: linear from `learning_rate` to lr/num_updates.
            let lr = self.anneal_learning_rate(1.0 - update as f64 / num_updates as f64)?;

            // ALGO LOGIC: collect `n` transitions with the stochastic policy.
            for t in 0..n {
                global_step += 1;
                let value = self.value(&obs)?;
                let (action, log_prob) = self.sample(&obs, false)?;
                let step = E::Action::step_env(env, &action)?;
                let next = self.observe(&step.obs)?;

                // Reward scaling by the running std of the discounted return (SB3 VecNormalize).
                let mut reward = step.reward;
                if cfg.norm_reward {
                    discounted_return = discounted_return * cfg.gamma + reward;
                    self.return_rms.update(&[discounted_return]);
                    let clip = cfg.reward_clip as f64;
                    reward = (reward / (self.return_rms.var[0] + NORM_EPSILON).sqrt())
                        .clamp(-clip, clip);
                }
                // CRUCIAL: bootstrap on truncation (the MDP goes on), not on termination.
                if step.truncated && !step.terminated {
                    reward += cfg.gamma * self.value(&next)? as f64;
                }
                let done = step.terminated || step.truncated;
                rollout.store(t, &obs, &action, log_prob, value, reward as f32, done);

                if done {
                    discounted_return = 0.0;
                    if let Some(summary) = step.info.episode {
                        episodes.push(EpisodeStats {
                            task: task.clone(),
                            episode_return: summary.episode_return,
                            length: summary.length,
                            success: summary.success,
                            global_step,
                        });
                    }
                    task = task_source(&mut task_rng);
                    let (reset_obs, _) = env.reset(None, &task)?;
                    obs = self.observe(&reset_obs)?;
                } else {
                    obs = next;
                }
            }
            let last_value = self.value(&obs)?;
            rollout.compute_gae(last_value, cfg.gamma, cfg.gae_lambda);
            self.update(&rollout, lr)?;
        }
        Ok(episodes)
    }

    /// Sets every optimiser's step size to `learning_rate · remaining_fraction` (or the
    /// constant rate without annealing) and returns it.
    fn anneal_learning_rate(&mut self, remaining_fraction: f64) -> Result<f32> {
        let lr = annealed_learning_rate(
            self.config.learning_rate,
            self.config.anneal_lr,
            remaining_fraction,
        );
        self.actor_adam.set_learning_rate(lr)?;
        self.critic_adam.set_learning_rate(lr)?;
        if let PolicyHead::Gaussian { adam, .. } = &mut self.head {
            adam.set_learning_rate(lr)?;
        }
        Ok(lr)
    }

    fn check_spaces<E>(&self, env: &E) -> Result<()>
    where
        E: Env<Obs = Vec<f32>>,
        E::Action: PolicyAction,
    {
        let widths = |space: &Space| match space {
            Space::Box(b) => Some(b.len()),
            _ => None,
        };
        let obs_width = widths(env.observation_space());
        if obs_width != Some(self.obs_dim()) {
            return Err(StudentError::ShapeMismatch {
                what: "env observation space",
                expected: format!("Box({})", self.obs_dim()),
                got: format!("{obs_width:?}"),
            });
        }
        let actions_match = match (&self.head, env.action_space()) {
            (PolicyHead::Gaussian { .. }, Space::Box(b)) => {
                !E::Action::DISCRETE && b.len() == self.act_dim()
            }
            (PolicyHead::Categorical, Space::Discrete { n }) => {
                E::Action::DISCRETE && *n == self.act_dim()
            }
            _ => false,
        };
        if !actions_match {
            let expected = match self.head {
                PolicyHead::Gaussian { .. } => format!("Box({})", self.act_dim()),
                PolicyHead::Categorical => format!("Discrete({})", self.act_dim()),
            };
            return Err(StudentError::ShapeMismatch {
                what: "env action space",
                expected,
                got: format!("{:?}", env.action_space()),
            });
        }
        Ok(())
    }

    /// Plays one deterministic episode per task (env reset with `seed + i`) and returns the
    /// env's summaries. Does not change the agent.
    ///
    /// # Errors
    /// As [`PpoAgent::train`].
    pub fn evaluate<E>(
        &mut self,
        env: &mut E,
        tasks: &[Vec<f64>],
        seed: u64,
    ) -> Result<Vec<teachgym_core::EpisodeSummary>>
    where
        E: Env<Obs = Vec<f32>>,
        E::Action: PolicyAction,
    {
        self.check_spaces(env)?;
        let mut summaries = Vec::with_capacity(tasks.len());
        for (i, task) in tasks.iter().enumerate() {
            let (mut obs, _) = env.reset(Some(seed.wrapping_add(i as u64)), task)?;
            loop {
                self.check_obs(&obs)?;
                let normalized = self.normalize(&obs);
                let (action, _) = self.sample(&normalized, true)?;
                let step = E::Action::step_env(env, &action)?;
                if let Some(summary) = step.info.episode {
                    summaries.push(summary);
                    break;
                }
                obs = step.obs;
            }
        }
        Ok(summaries)
    }

    // -----------------------------------------------------------------------------------------
    // Update: clipped surrogate + (clipped) value loss + entropy bonus, minibatch epochs
    // -----------------------------------------------------------------------------------------

    fn update(&mut self, rollout: &Rollout, lr: f32) -> Result<()> {
        let cfg = self.config.clone();
        let (obs_dim, act_dim) = (self.obs_dim(), self.action_width());
        let mut indices: Vec<usize> = (0..rollout.len).collect();
        let mut actor_cache = ForwardCache::default();
        let mut critic_cache = ForwardCache::default();
        let mut actor_grads = Gradients::zeros_like(&self.actor);
        let mut critic_grads = Gradients::zeros_like(&self.critic);
        let mut stats = UpdateStats {
            learning_rate: lr,
            ..UpdateStats::default()
        };
        let (mut minibatches, mut clipped, mut samples) = (0usize, 0usize, 0usize);

        'epochs: for _ in 0..cfg.update_epochs {
            indices.shuffle(&mut self.rng);
            for chunk in indices.chunks(cfg.minibatch_size) {
                let b = chunk.len();
                let obs = Array2::from_shape_fn((b, obs_dim), |(i, j)| {
                    rollout.obs[chunk[i] * obs_dim + j]
                });
                let actions = Array2::from_shape_fn((b, act_dim), |(i, j)| {
                    rollout.actions[chunk[i] * act_dim + j]
                });
                let old_log_probs: Vec<f32> = chunk.iter().map(|&i| rollout.log_probs[i]).collect();
                let old_values: Vec<f32> = chunk.iter().map(|&i| rollout.values[i]).collect();
                let returns: Vec<f32> = chunk.iter().map(|&i| rollout.returns[i]).collect();
                let mut advantages: Vec<f32> =
                    chunk.iter().map(|&i| rollout.advantages[i]).collect();
                if cfg.norm_adv && b > 1 {
                    normalize_in_place(&mut advantages);
                }

                let outputs = self.actor.forward(obs.view(), &mut actor_cache)?.to_owned();
                let policy = match &self.head {
                    PolicyHead::Gaussian { log_std, .. } => policy_loss(
                        outputs.view(),
                        log_std,
                        actions.view(),
                        &old_log_probs,
                        &advantages,
                        cfg.clip_coef,
                        cfg.ent_coef,
                    ),
                    PolicyHead::Categorical => categorical_policy_loss(
                        outputs.view(),
                        actions.column(0),
                        &old_log_probs,
                        &advantages,
                        cfg.clip_coef,
                        cfg.ent_coef,
                    ),
                };
                let values = self
                    .critic
                    .forward(obs.view(), &mut critic_cache)?
                    .to_owned();
                let value_clip = cfg.clip_vloss.then_some(cfg.clip_coef);
                let value = value_loss(values.view(), &old_values, &returns, value_clip);

                self.actor
                    .backward(&actor_cache, policy.d_outputs.view(), &mut actor_grads)?;
                let d_values = value.d_values.mapv(|g| g * cfg.vf_coef);
                self.critic
                    .backward(&critic_cache, d_values.view(), &mut critic_grads)?;
                let mut d_log_std = policy.d_log_std.clone();

                // Global-norm clipping over all parameter groups jointly (a categorical head
                // has no log-std, so its sum is 0).
                let norm = (actor_grads.squared_norm()
                    + critic_grads.squared_norm()
                    + d_log_std.iter().map(|g| (*g as f64).powi(2)).sum::<f64>())
                .sqrt();
                let factor = cfg.max_grad_norm as f64 / (norm + 1e-6);
                if factor < 1.0 {
                    actor_grads.scale(factor as f32);
                    critic_grads.scale(factor as f32);
                    d_log_std.iter_mut().for_each(|g| *g *= factor as f32);
                }
                self.actor_adam.step(&mut self.actor, &actor_grads)?;
                self.critic_adam.step(&mut self.critic, &critic_grads)?;
                if let PolicyHead::Gaussian { log_std, adam } = &mut self.head {
                    adam.step_slices(&mut [&mut log_std[..]], &[&d_log_std[..]])?;
                }

                minibatches += 1;
                samples += b;
                clipped += policy.clipped;
                stats.policy_loss += policy.loss;
                stats.value_loss += value.loss;
                stats.entropy = policy.entropy;
                stats.approx_kl = policy.approx_kl;
            }
            if let Some(target) = cfg.target_kl {
                if stats.approx_kl > target as f64 {
                    break 'epochs;
                }
            }
        }
        stats.policy_loss /= minibatches.max(1) as f64;
        stats.value_loss /= minibatches.max(1) as f64;
        stats.clip_fraction = clipped as f64 / samples.max(1) as f64;
        self.last_update = stats;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Checkpoints
    // -----------------------------------------------------------------------------------------

    /// The whole learner state (networks, log-std, optimisers, normalisers, RNG) as JSON; every
    /// float round-trips exactly.
    pub fn to_json(&self) -> String {
        let state = PpoCheckpoint {
            format_version: PPO_CHECKPOINT_VERSION,
            config: self.config.clone(),
            actor: Checkpoint::capture(&self.actor, Some(&self.actor_adam)),
            critic: Checkpoint::capture(&self.critic, Some(&self.critic_adam)),
            head: match &self.head {
                PolicyHead::Gaussian { log_std, adam } => HeadState::Gaussian {
                    log_std: log_std.clone(),
                    optimizer: AdamState::capture(adam),
                },
                PolicyHead::Categorical => HeadState::Categorical,
            },
            obs_rms: self.obs_rms.clone(),
            return_rms: self.return_rms.clone(),
            rng: self.rng.clone(),
            env_returns: self.env_returns.clone(),
        };
        serde_json::to_string(&state).expect("a PPO checkpoint has only plain values")
    }

    /// Restores an agent written by [`PpoAgent::to_json`].
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`] for another version,
    /// [`StudentError::CorruptCheckpoint`] for unparsable or inconsistent text.
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let state: PpoCheckpoint =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if state.format_version != PPO_CHECKPOINT_VERSION {
            return Err(StudentError::UnsupportedCheckpointVersion {
                found: state.format_version,
                supported: PPO_CHECKPOINT_VERSION,
            });
        }
        state
            .config
            .validate()
            .map_err(|e| corrupt(format!("config: {e}")))?;
        let (actor, actor_adam) = state.actor.restore()?;
        let (critic, critic_adam) = state.critic.restore()?;
        let (obs_dim, act_dim) = (actor.inputs(), actor.outputs());
        let hidden = |net: &Mlp| {
            let sizes = net.config().layer_sizes();
            sizes[1..sizes.len() - 1].to_vec()
        };
        if critic.inputs() != obs_dim
            || critic.outputs() != 1
            || hidden(&actor) != state.config.hidden_sizes
            || hidden(&critic) != state.config.hidden_sizes
        {
            return Err(corrupt(
                "policy and value networks do not match the config".into(),
            ));
        }
        if !state.obs_rms.is_valid(obs_dim)
            || !state.return_rms.is_valid(1)
            || !state.env_returns.iter().all(|v| v.is_finite())
        {
            return Err(corrupt("normaliser statistics are inconsistent".into()));
        }
        let head = match state.head {
            HeadState::Gaussian { log_std, optimizer } => {
                if log_std.len() != act_dim || !log_std.iter().all(|v| v.is_finite()) {
                    return Err(corrupt(format!(
                        "log_std must hold {act_dim} finite values"
                    )));
                }
                let adam = Adam::for_tensor_lengths(optimizer.config, &[act_dim])
                    .and_then(|fresh| optimizer.restore_into(fresh))
                    .map_err(|e| corrupt(format!("log-std optimiser: {e}")))?;
                PolicyHead::Gaussian { log_std, adam }
            }
            HeadState::Categorical => PolicyHead::Categorical,
        };
        let (Some(actor_adam), Some(critic_adam)) = (actor_adam, critic_adam) else {
            return Err(corrupt("optimiser state missing".into()));
        };
        Ok(PpoAgent {
            config: state.config,
            actor,
            critic,
            head,
            actor_adam,
            critic_adam,
            obs_rms: state.obs_rms,
            return_rms: state.return_rms,
            rng: state.rng,
            env_returns: state.env_returns,
            last_update: UpdateStats::default(),
            buffers: InferenceBuffers::default(),
        })
    }
}

/// Serialised form of a [`PpoAgent`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PpoCheckpoint {
    format_version: u32,
    config: PpoConfig,
    actor: Checkpoint,
    critic: Checkpoint,
    head: HeadState,
    obs_rms: RunningMeanStd,
    return_rms: RunningMeanStd,
    rng: Pcg64,
    #[serde(default)]
    env_returns: Vec<f64>,
}

/// Serialised form of a [`PolicyHead`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum HeadState {
    Gaussian {
        log_std: Vec<f32>,
        optimizer: AdamState,
    },
    Categorical,
}

mod vectorised;

// ---------------------------------------------------------------------------------------------
// Rollout storage and GAE
// ---------------------------------------------------------------------------------------------

/// One rollout, flat row-major arrays.
struct Rollout {
    len: usize,
    obs_dim: usize,
    act_dim: usize,
    obs: Vec<f32>,
    actions: Vec<f32>,
    log_probs: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<bool>,
    advantages: Vec<f32>,
    returns: Vec<f32>,
}

impl Rollout {
    fn new(len: usize, obs_dim: usize, act_dim: usize) -> Self {
        Rollout {
            len,
            obs_dim,
            act_dim,
            obs: vec![0.0; len * obs_dim],
            actions: vec![0.0; len * act_dim],
            log_probs: vec![0.0; len],
            values: vec![0.0; len],
            rewards: vec![0.0; len],
            dones: vec![false; len],
            advantages: vec![0.0; len],
            returns: vec![0.0; len],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn store(
        &mut self,
        t: usize,
        obs: &[f32],
        action: &[f32],
        log_prob: f32,
        value: f32,
        reward: f32,
        done: bool,
    ) {
        self.obs[t * self.obs_dim..(t + 1) * self.obs_dim].copy_from_slice(obs);
        self.actions[t * self.act_dim..(t + 1) * self.act_dim].copy_from_slice(action);
        self.log_probs[t] = log_prob;
        self.values[t] = value;
        self.rewards[t] = reward;
        self.dones[t] = done;
    }

    /// GAE(λ): `δ_t = r_t + γ·V(s_{t+1})·(1 − done_t) − V(s_t)`,
    /// `A_t = δ_t + γλ·(1 − done_t)·A_{t+1}`; returns = A + V. Truncations were already
    /// bootstrapped into `r_t`, so `done_t` cuts both.
    fn compute_gae(&mut self, last_value: f32, gamma: f64, lambda: f64) {
        self.compute_gae_per_copy(&[last_value], gamma, lambda);
    }
}

/// Shifts and scales to zero mean, unit (sample, ddof = 1, as `torch.std`) std, ε = 1e-8.
fn normalize_in_place(values: &mut [f32]) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    let std = var.sqrt() + 1e-8;
    values
        .iter_mut()
        .for_each(|v| *v = ((*v as f64 - mean) / std) as f32);
}

// ---------------------------------------------------------------------------------------------
// Losses and their hand-derived gradients
// ---------------------------------------------------------------------------------------------

/// `log N(a; μ, diag σ²) = Σ_i −½((a_i − μ_i)/σ_i)² − log σ_i − ½ log 2π`.
fn gaussian_log_prob(mean: &[f32], log_std: &[f32], action: &[f32]) -> f64 {
    mean.iter()
        .zip(log_std)
        .zip(action)
        .map(|((&m, &s), &a)| {
            let z = (a as f64 - m as f64) / (s as f64).exp();
            -0.5 * z * z - s as f64 - 0.5 * LN_2PI
        })
        .sum()
}

/// Policy loss of a minibatch and its gradients.
struct PolicyLoss {
    /// `mean_b max(−A_b r_b, −A_b clip(r_b, 1 ± ε)) − c_ent · H`.
    loss: f64,
    /// ∂loss/∂(actor outputs): the means of a Gaussian head, the logits of a categorical one
    /// (`batch × outputs`).
    d_outputs: Array2<f32>,
    /// ∂loss/∂log σ (empty for a categorical head).
    d_log_std: Vec<f32>,
    /// Entropy: `Σ_i ½ + ½ log 2π + log σ_i` (Gaussian, state-independent), or the minibatch
    /// mean of `−Σ_j p_j log p_j` (categorical).
    entropy: f64,
    /// Mean of `(r − 1) − log r`.
    approx_kl: f64,
    /// Samples with `|r − 1| > ε`.
    clipped: usize,
}

/// One sample's share of the clipped surrogate.
struct Surrogate {
    /// `max(−A r, −A clip(r, 1 ± ε)) / B`.
    loss: f64,
    /// `((r − 1) − log r) / B`.
    approx_kl: f64,
    /// `|r − 1| > ε`.
    clipped: bool,
    /// ∂loss/∂log p: `−A·r/B` where the unclipped term is the max, else 0.
    d_log_prob: f64,
}

/// The clipped surrogate of one sample with log-probability `log_prob` in a minibatch of
/// `batch`.
fn clipped_surrogate(
    log_prob: f64,
    old_log_prob: f32,
    advantage: f32,
    clip_coef: f64,
    batch: usize,
) -> Surrogate {
    let log_ratio = log_prob - old_log_prob as f64;
    let ratio = log_ratio.exp();
    let adv = advantage as f64;
    let unclipped = -adv * ratio;
    let clipped_term = -adv * ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef);
    Surrogate {
        loss: unclipped.max(clipped_term) / batch as f64,
        approx_kl: ((ratio - 1.0) - log_ratio) / batch as f64,
        clipped: (ratio - 1.0).abs() > clip_coef,
        d_log_prob: if unclipped >= clipped_term {
            -adv * ratio / batch as f64
        } else {
            0.0
        },
    }
}

/// Clipped surrogate with entropy bonus for a Gaussian head. With `z = (a − μ)/σ`:
/// `∂ log p/∂μ_i = z_i/σ_i`, `∂ log p/∂ log σ_i = z_i² − 1`, `∂H/∂ log σ_i = 1`.
fn policy_loss(
    means: ArrayView2<'_, f32>,
    log_std: &[f32],
    actions: ArrayView2<'_, f32>,
    old_log_probs: &[f32],
    advantages: &[f32],
    clip_coef: f32,
    ent_coef: f32,
) -> PolicyLoss {
    let (batch, act_dim) = means.dim();
    let eps = clip_coef as f64;
    let mut d_means = Array2::zeros((batch, act_dim));
    let mut d_log_std = vec![0.0f64; act_dim];
    let (mut loss, mut approx_kl, mut clipped) = (0.0, 0.0, 0);
    for b in 0..batch {
        let mean = means.row(b);
        let action = actions.row(b);
        let mut log_prob = 0.0;
        for i in 0..act_dim {
            let z = (action[i] as f64 - mean[i] as f64) / (log_std[i] as f64).exp();
            log_prob += -0.5 * z * z - log_std[i] as f64 - 0.5 * LN_2PI;
        }
        let s = clipped_surrogate(log_prob, old_log_probs[b], advantages[b], eps, batch);
        loss += s.loss;
        approx_kl += s.approx_kl;
        clipped += usize::from(s.clipped);
        for i in 0..act_dim {
            let sigma = (log_std[i] as f64).exp();
            let z = (action[i] as f64 - mean[i] as f64) / sigma;
            d_means[(b, i)] = (s.d_log_prob * z / sigma) as f32;
            d_log_std[i] += s.d_log_prob * (z * z - 1.0);
        }
    }
    let entropy: f64 = log_std.iter().map(|&s| 0.5 + 0.5 * LN_2PI + s as f64).sum();
    loss -= ent_coef as f64 * entropy;
    PolicyLoss {
        loss,
        d_outputs: d_means,
        d_log_std: d_log_std
            .iter()
            .map(|g| (g - ent_coef as f64) as f32)
            .collect(),
        entropy,
        approx_kl,
        clipped,
    }
}

/// `log softmax(logits)` in `f64`, shifted by the maximum for stability.
fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &z| m.max(z as f64));
    let log_sum = logits
        .iter()
        .map(|&z| (z as f64 - max).exp())
        .sum::<f64>()
        .ln()
        + max;
    logits.iter().map(|&z| z as f64 - log_sum).collect()
}

/// Index of the largest value, the first on ties (as `torch.argmax`).
fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Clipped surrogate with entropy bonus for a categorical head over `logits` (`batch × n`) and
/// action indices `actions`. With `p = softmax(logits)` and `H_b = −Σ_j p_j log p_j`:
/// `∂ log p_a/∂logit_j = 1[j = a] − p_j` and `∂H_b/∂logit_j = −p_j (log p_j + H_b)`; the entropy
/// bonus is `c_ent` times the minibatch mean of `H_b`.
fn categorical_policy_loss(
    logits: ArrayView2<'_, f32>,
    actions: ArrayView1<'_, f32>,
    old_log_probs: &[f32],
    advantages: &[f32],
    clip_coef: f32,
    ent_coef: f32,
) -> PolicyLoss {
    let (batch, n) = logits.dim();
    let mut d_logits = Array2::zeros((batch, n));
    let (mut loss, mut entropy, mut approx_kl, mut clipped) = (0.0, 0.0, 0.0, 0);
    let ent_weight = ent_coef as f64 / batch as f64;
    for b in 0..batch {
        let row = logits.row(b);
        let log_probs = log_softmax(row.as_slice().expect("actor outputs are contiguous"));
        let action = actions[b] as usize;
        let s = clipped_surrogate(
            log_probs[action],
            old_log_probs[b],
            advantages[b],
            clip_coef as f64,
            batch,
        );
        let h: f64 = -log_probs.iter().map(|&lp| lp.exp() * lp).sum::<f64>();
        loss += s.loss - ent_weight * h;
        entropy += h / batch as f64;
        approx_kl += s.approx_kl;
        clipped += usize::from(s.clipped);
        for (j, &lp) in log_probs.iter().enumerate() {
            let p = lp.exp();
            let indicator = if j == action { 1.0 } else { 0.0 };
            d_logits[(b, j)] = (s.d_log_prob * (indicator - p) + ent_weight * p * (lp + h)) as f32;
        }
    }
    PolicyLoss {
        loss,
        d_outputs: d_logits,
        d_log_std: Vec::new(),
        entropy,
        approx_kl,
        clipped,
    }
}

/// Value loss of a minibatch and its gradient.
struct ValueLoss {
    /// `½ mean_b max((v − R)², (v_old + clip(v − v_old, ±ε) − R)²)`, or without the clipped
    /// term when value clipping is off.
    loss: f64,
    /// ∂loss/∂v (`batch × 1`).
    d_values: Array2<f32>,
}

/// Value loss: `∂/∂v = (v − R)/B` where the unclipped term is the max; the clipped term's
/// derivative is 0 when it is the (strictly) larger one, since then the clip is active.
fn value_loss(
    values: ArrayView2<'_, f32>,
    old_values: &[f32],
    returns: &[f32],
    clip: Option<f32>,
) -> ValueLoss {
    let batch = values.nrows();
    let mut d_values = Array2::zeros((batch, 1));
    let mut loss = 0.0;
    for b in 0..batch {
        let v = values[(b, 0)] as f64;
        let target = returns[b] as f64;
        let unclipped = (v - target).powi(2);
        let (term, grad) = match clip {
            Some(eps) => {
                let old = old_values[b] as f64;
                let v_clipped = old + (v - old).clamp(-(eps as f64), eps as f64);
                let clipped = (v_clipped - target).powi(2);
                if unclipped >= clipped {
                    (unclipped, v - target)
                } else {
                    (clipped, 0.0)
                }
            }
            None => (unclipped, v - target),
        };
        loss += 0.5 * term / batch as f64;
        d_values[(b, 0)] = (grad / batch as f64) as f32;
    }
    ValueLoss { loss, d_values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teachgym_envs::{GridWorldConfig, GridWorldEnv, PointMassConfig, PointMassEnv};

    fn small() -> PpoConfig {
        PpoConfig {
            hidden_sizes: vec![16, 16],
            rollout_steps: 128,
            minibatch_size: 32,
            update_epochs: 2,
            ..PpoConfig::default()
        }
    }

    #[test]
    fn defaults_match_the_documented_constants() {
        let c = PpoConfig::default();
        assert_eq!(c.hidden_sizes, DEFAULT_HIDDEN_SIZES.to_vec());
        assert_eq!(c.learning_rate, DEFAULT_LEARNING_RATE);
        assert_eq!(c.rollout_steps, DEFAULT_ROLLOUT_STEPS);
        assert_eq!(c.minibatch_size, DEFAULT_MINIBATCH_SIZE);
        assert_eq!(c.update_epochs, DEFAULT_UPDATE_EPOCHS);
        assert_eq!(c.clip_coef, DEFAULT_CLIP_COEF);
        assert_eq!(c.max_grad_norm, DEFAULT_MAX_GRAD_NORM);
        assert!(c.validate().is_ok());
        let t = PpoConfig::teach_my_agent();
        assert_eq!(
            (t.rollout_steps, t.minibatch_size, t.update_epochs),
            (20_000, 1000, 5)
        );
        assert_eq!(t.hidden_sizes, vec![400, 300]);
        assert!(t.validate().is_ok());
        let d = PpoConfig::clean_rl_discrete();
        assert_eq!(
            (
                d.rollout_steps,
                d.minibatch_size,
                d.update_epochs,
                d.ent_coef
            ),
            (512, 128, 4, 0.01)
        );
        assert!(!d.norm_obs && !d.norm_reward && d.validate().is_ok());
        let (w, z) = (
            PpoConfig::teachgym_walker(),
            PpoConfig::sb3_zoo_bipedal_walker(),
        );
        assert_eq!((w.rollout_steps, w.anneal_lr), (16_384, true));
        assert_eq!((z.rollout_steps, z.anneal_lr), (65_536, false));
        // Everything else is the zoo's.
        assert_eq!(
            PpoConfig {
                rollout_steps: z.rollout_steps,
                anneal_lr: z.anneal_lr,
                ..w.clone()
            },
            z
        );
        for name in PpoConfig::PRESET_NAMES {
            assert!(
                PpoConfig::preset(name).unwrap().validate().is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn bad_configs_are_typed_errors() {
        let cases: Vec<(&str, PpoConfig)> = vec![
            (
                "minibatch_size",
                PpoConfig {
                    minibatch_size: 0,
                    ..small()
                },
            ),
            (
                "minibatch_size",
                PpoConfig {
                    minibatch_size: 1000,
                    ..small()
                },
            ),
            (
                "rollout_steps",
                PpoConfig {
                    rollout_steps: 0,
                    ..small()
                },
            ),
            (
                "gamma",
                PpoConfig {
                    gamma: 1.5,
                    ..small()
                },
            ),
            (
                "gae_lambda",
                PpoConfig {
                    gae_lambda: f64::NAN,
                    ..small()
                },
            ),
            (
                "clip_coef",
                PpoConfig {
                    clip_coef: 0.0,
                    ..small()
                },
            ),
            (
                "ent_coef",
                PpoConfig {
                    ent_coef: -1.0,
                    ..small()
                },
            ),
            (
                "target_kl",
                PpoConfig {
                    target_kl: Some(f32::NAN),
                    ..small()
                },
            ),
            (
                "hidden_sizes",
                PpoConfig {
                    hidden_sizes: vec![0],
                    ..small()
                },
            ),
            (
                "learning_rate",
                PpoConfig {
                    learning_rate: -1.0,
                    ..small()
                },
            ),
            (
                "update_epochs",
                PpoConfig {
                    update_epochs: 0,
                    ..small()
                },
            ),
        ];
        for (field, config) in cases {
            match PpoAgent::new(config, 6, 2, 0) {
                Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
        assert!(matches!(
            PpoAgent::new(small(), 0, 2, 0),
            Err(StudentError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn bad_observations_and_mismatched_envs_are_typed_errors() {
        let mut agent = PpoAgent::new(small(), 6, 2, 0).unwrap();
        assert!(matches!(
            agent.act(&[0.0; 5], true),
            Err(StudentError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            agent.act(&[0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0], false),
            Err(StudentError::NonFinite { index: 1, .. })
        ));
        let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let mut wrong = PpoAgent::new(small(), 7, 2, 0).unwrap();
        assert!(matches!(
            wrong.train(&mut env, 10, 0, |_| vec![0.5, 1.0]),
            Err(StudentError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            agent.train(&mut env, 10, 0, |_| vec![9.0, 1.0]),
            Err(StudentError::Env(
                teachgym_core::Error::TaskOutOfBounds { .. }
            ))
        ));
    }

    /// Random minibatch data whose ratios sit away from the clipping kinks.
    /// (means, log-std, actions, old log-probs, advantages).
    type PolicyCase = (Array2<f32>, Vec<f32>, Array2<f32>, Vec<f32>, Vec<f32>);

    fn policy_case() -> PolicyCase {
        let mut rng = Pcg64::seed_from_u64(3);
        let (batch, act_dim) = (8, 3);
        let mut normal = || -> f32 { StandardNormal.sample(&mut rng) };
        let means = Array2::from_shape_fn((batch, act_dim), |_| normal() * 0.5);
        let log_std = vec![-0.3, 0.1, 0.4];
        let actions = Array2::from_shape_fn((batch, act_dim), |_| normal());
        let offsets = [-0.6, 0.0, 0.05, 0.6, -0.1, 0.5, 0.02, -0.5];
        let old = (0..batch)
            .map(|b| {
                let lp = gaussian_log_prob(
                    means.row(b).as_slice().unwrap(),
                    &log_std,
                    actions.row(b).as_slice().unwrap(),
                );
                (lp + offsets[b]) as f32
            })
            .collect();
        let adv = (0..batch)
            .map(|b| {
                if b % 3 == 0 {
                    -1.0 - normal().abs()
                } else {
                    1.0 + normal().abs()
                }
            })
            .collect();
        (means, log_std, actions, old, adv)
    }

    fn assert_close(analytic: f64, numeric: f64, what: &str) {
        let tol = 2e-3 + 2e-2 * numeric.abs();
        assert!(
            (analytic - numeric).abs() <= tol,
            "{what}: analytic {analytic} vs numeric {numeric}"
        );
    }

    #[test]
    fn policy_loss_gradients_match_finite_differences() {
        let (means, log_std, actions, old, adv) = policy_case();
        let loss = |m: &Array2<f32>, s: &[f32]| {
            policy_loss(m.view(), s, actions.view(), &old, &adv, 0.2, 0.01).loss
        };
        let analytic = policy_loss(
            means.view(),
            &log_std,
            actions.view(),
            &old,
            &adv,
            0.2,
            0.01,
        );
        assert!(
            analytic.clipped > 0 && analytic.clipped < means.nrows(),
            "both branches exercised"
        );
        let h = 1e-3f32;
        for b in 0..means.nrows() {
            for i in 0..means.ncols() {
                let (mut plus, mut minus) = (means.clone(), means.clone());
                plus[(b, i)] += h;
                minus[(b, i)] -= h;
                let numeric = (loss(&plus, &log_std) - loss(&minus, &log_std)) / (2.0 * h as f64);
                assert_close(analytic.d_outputs[(b, i)] as f64, numeric, "∂/∂μ");
            }
        }
        for i in 0..log_std.len() {
            let (mut plus, mut minus) = (log_std.clone(), log_std.clone());
            plus[i] += h;
            minus[i] -= h;
            let numeric = (loss(&means, &plus) - loss(&means, &minus)) / (2.0 * h as f64);
            assert_close(analytic.d_log_std[i] as f64, numeric, "∂/∂log σ");
        }
    }

    #[test]
    fn value_loss_gradients_match_finite_differences() {
        let values = Array2::from_shape_vec((6, 1), vec![0.5, -1.0, 2.0, 0.3, 1.2, -0.4]).unwrap();
        let old = vec![0.0, -0.5, 2.05, 0.8, 1.2, 0.0];
        let returns = vec![1.0, -2.0, 1.0, 0.0, 3.0, -0.1];
        for clip in [None, Some(0.2f32)] {
            let analytic = value_loss(values.view(), &old, &returns, clip);
            let h = 1e-3f32;
            for b in 0..values.nrows() {
                let (mut plus, mut minus) = (values.clone(), values.clone());
                plus[(b, 0)] += h;
                minus[(b, 0)] -= h;
                let numeric = (value_loss(plus.view(), &old, &returns, clip).loss
                    - value_loss(minus.view(), &old, &returns, clip).loss)
                    / (2.0 * h as f64);
                assert_close(analytic.d_values[(b, 0)] as f64, numeric, "∂/∂v");
            }
        }
    }

    #[test]
    fn gae_bootstraps_only_where_the_episode_goes_on() {
        let mut rollout = Rollout::new(3, 1, 1);
        rollout.rewards = vec![1.0, 1.0, 1.0];
        rollout.values = vec![0.5, 0.5, 0.5];
        rollout.dones = vec![false, true, false];
        rollout.compute_gae(2.0, 0.9, 1.0);
        // t = 2: δ = 1 + 0.9·2 − 0.5 = 2.3; t = 1 (done): δ = 0.5; t = 0: 1 + 0.45 − 0.5 + 0.9·0.5.
        assert!((rollout.advantages[2] - 2.3).abs() < 1e-6);
        assert!((rollout.advantages[1] - 0.5).abs() < 1e-6);
        assert!((rollout.advantages[0] - 1.4).abs() < 1e-6);
        assert!((rollout.returns[0] - 1.9).abs() < 1e-6);
    }

    fn grid_task(rng: &mut Pcg64) -> Vec<f64> {
        GridWorldConfig::default().task_space().unwrap().sample(rng)
    }

    #[test]
    fn categorical_policy_loss_gradients_match_finite_differences() {
        let mut rng = Pcg64::seed_from_u64(8);
        let (batch, n) = (8, 4);
        let mut normal = || -> f32 { StandardNormal.sample(&mut rng) };
        let logits = Array2::from_shape_fn((batch, n), |_| normal());
        let actions = ndarray::Array1::from_shape_fn(batch, |b| ((b * 3) % n) as f32);
        let offsets = [-0.6, 0.0, 0.05, 0.6, -0.1, 0.5, 0.02, -0.5];
        let old: Vec<f32> = (0..batch)
            .map(|b| {
                let lp = log_softmax(logits.row(b).as_slice().unwrap());
                (lp[actions[b] as usize] + offsets[b]) as f32
            })
            .collect();
        let adv: Vec<f32> = (0..batch)
            .map(|b| if b % 3 == 0 { -1.5 } else { 1.2 })
            .collect();
        let loss = |l: &Array2<f32>| {
            categorical_policy_loss(l.view(), actions.view(), &old, &adv, 0.2, 0.05).loss
        };
        let analytic =
            categorical_policy_loss(logits.view(), actions.view(), &old, &adv, 0.2, 0.05);
        assert!(
            analytic.clipped > 0 && analytic.clipped < batch,
            "both branches exercised"
        );
        assert!(analytic.entropy > 0.0 && analytic.entropy < (n as f64).ln());
        assert!(analytic.d_log_std.is_empty());
        let h = 1e-3f32;
        for b in 0..batch {
            for j in 0..n {
                let (mut plus, mut minus) = (logits.clone(), logits.clone());
                plus[(b, j)] += h;
                minus[(b, j)] -= h;
                let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h as f64);
                assert_close(analytic.d_outputs[(b, j)] as f64, numeric, "∂/∂logit");
            }
        }
    }

    #[test]
    fn log_softmax_is_stable_and_argmax_takes_the_first_tie() {
        let lp = log_softmax(&[1000.0, 1000.0, -1000.0]);
        assert!((lp[0] - 0.5f64.ln()).abs() < 1e-12 && lp[2] < -1999.0);
        assert_eq!(argmax(&[0.1, 0.3, 0.3]), 1);
    }

    #[test]
    fn spaces_choose_the_head_and_mismatches_are_typed_errors() {
        let grid = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let mut discrete =
            PpoAgent::for_spaces(small(), grid.observation_space(), grid.action_space(), 0)
                .unwrap();
        assert!(discrete.is_discrete() && discrete.log_std().is_empty());
        assert_eq!((discrete.obs_dim(), discrete.act_dim()), (12, 4));
        let point_mass = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let mut continuous = PpoAgent::for_spaces(
            small(),
            point_mass.observation_space(),
            point_mass.action_space(),
            0,
        )
        .unwrap();
        assert!(!continuous.is_discrete());
        // Same seed, same actor weights whichever the head: only the head differs.
        let same = PpoAgent::new(small(), 6, 2, 0).unwrap();
        assert_eq!(continuous.actor, same.actor);

        assert!(matches!(
            discrete.act(&[0.0; 12], true),
            Err(StudentError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            continuous.act_discrete(&[0.0; 6], true),
            Err(StudentError::ShapeMismatch { .. })
        ));
        let mut nan = [0.0f32; 12];
        nan[3] = f32::NAN;
        assert!(matches!(
            discrete.act_discrete(&nan, false),
            Err(StudentError::NonFinite { index: 3, .. })
        ));
        let multi = Space::multi_discrete(vec![2, 2]).unwrap();
        assert!(matches!(
            PpoAgent::for_spaces(small(), grid.observation_space(), &multi, 0),
            Err(StudentError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            PpoAgent::for_spaces(small(), &multi, grid.action_space(), 0),
            Err(StudentError::ShapeMismatch { .. })
        ));
        // A Gaussian head cannot drive a Discrete env, nor a categorical head a Box env.
        let mut grid = grid;
        let mut gaussian_for_grid = PpoAgent::new(small(), 12, 4, 0).unwrap();
        assert!(matches!(
            gaussian_for_grid.train(&mut grid, 10, 0, grid_task),
            Err(StudentError::ShapeMismatch {
                what: "env action space",
                ..
            })
        ));
        let mut point_mass = point_mass;
        let mut categorical_for_box = PpoAgent::new_discrete(small(), 6, 2, 0).unwrap();
        assert!(matches!(
            categorical_for_box.train(&mut point_mass, 10, 0, |_| vec![0.5, 1.0]),
            Err(StudentError::ShapeMismatch {
                what: "env action space",
                ..
            })
        ));
    }

    #[test]
    fn categorical_actions_follow_the_softmax() {
        let mut agent = PpoAgent::new_discrete(small(), 3, 3, 2).unwrap();
        // Large logits from a scaled output layer make the distribution far from uniform.
        let output_biases = agent.actor.parameter_slices_mut().pop().unwrap();
        output_biases.copy_from_slice(&[1.0, 0.0, -1.0]);
        let obs = [0.2f32, -0.1, 0.4];
        let normalized = agent.normalize(&obs);
        let logits = agent
            .actor
            .predict(ArrayView2::from_shape((1, 3), &normalized).unwrap())
            .unwrap();
        let probs: Vec<f64> = log_softmax(logits.row(0).as_slice().unwrap())
            .iter()
            .map(|lp| lp.exp())
            .collect();
        let draws = 20_000;
        let mut counts = [0usize; 3];
        for _ in 0..draws {
            counts[agent.act_discrete(&obs, false).unwrap()] += 1;
        }
        for (c, p) in counts.iter().zip(&probs) {
            let freq = *c as f64 / draws as f64;
            assert!(
                (freq - p).abs() < 0.015,
                "frequency {freq} vs probability {p}"
            );
        }
        let greedy = agent.act_discrete(&obs, true).unwrap();
        assert_eq!(greedy, argmax(&probs));
    }

    #[test]
    fn categorical_checkpoint_round_trips_and_continues_identically() {
        let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let mut agent = PpoAgent::new_discrete(small(), 12, 4, 4).unwrap();
        agent.train(&mut env, 256, 1, grid_task).unwrap();
        let json = agent.to_json();
        let mut restored = PpoAgent::from_json(&json).unwrap();
        assert!(restored.is_discrete());
        assert_eq!(restored.to_json(), json);
        let a = agent.train(&mut env, 256, 2, grid_task).unwrap();
        let mut env2 = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let b = restored.train(&mut env2, 256, 2, grid_task).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b);
        assert_eq!(agent.to_json(), restored.to_json());
        // A categorical checkpoint turned Gaussian without a matching log-std is corrupt.
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["head"] = serde_json::json!({"gaussian": {"log_std": [0.0], "optimizer": null}});
        assert!(matches!(
            PpoAgent::from_json(&value.to_string()),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
    }

    #[test]
    fn checkpoint_round_trips_and_continues_identically() {
        let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let mut agent = PpoAgent::new(small(), 6, 2, 4).unwrap();
        agent
            .train(&mut env, 256, 1, |rng| {
                PointMassConfig::default().task_space().unwrap().sample(rng)
            })
            .unwrap();
        let json = agent.to_json();
        let mut restored = PpoAgent::from_json(&json).unwrap();
        assert_eq!(restored.to_json(), json);
        let task = |rng: &mut Pcg64| PointMassConfig::default().task_space().unwrap().sample(rng);
        let a = agent.train(&mut env, 256, 2, task).unwrap();
        let mut env2 = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let b = restored.train(&mut env2, 256, 2, task).unwrap();
        assert_eq!(a, b);
        assert_eq!(agent.to_json(), restored.to_json());
    }

    #[test]
    fn corrupt_checkpoints_are_typed_errors() {
        let agent = PpoAgent::new(small(), 6, 2, 4).unwrap();
        let json = agent.to_json();
        assert!(matches!(
            PpoAgent::from_json("{"),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let version = format!("\"format_version\":{PPO_CHECKPOINT_VERSION}");
        assert!(json.starts_with(&format!("{{{version}")));
        assert!(matches!(
            PpoAgent::from_json(&json.replacen(&version, "\"format_version\":9", 1)),
            Err(StudentError::UnsupportedCheckpointVersion { found: 9, .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["head"]["gaussian"]["log_std"] = serde_json::json!([0.0]);
        assert!(matches!(
            PpoAgent::from_json(&value.to_string()),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["obs_rms"]["var"] = serde_json::json!([1.0]);
        assert!(matches!(
            PpoAgent::from_json(&value.to_string()),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["config"]["hidden_sizes"] = serde_json::json!([8]);
        assert!(matches!(
            PpoAgent::from_json(&value.to_string()),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
    }
}

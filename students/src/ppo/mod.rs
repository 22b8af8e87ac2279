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
//!
//! The files: [`config`] (defaults and presets), this file (the agent, its rollout over the
//! vector env, GAE and the update), `rollout.rs` (the buffer and GAE), `losses.rs` (the losses
//! and their gradients), `checkpoint.rs`.

mod checkpoint;
pub mod config;
mod losses;
mod rollout;
#[cfg(test)]
mod tests;

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;
use teachgym_core::{Env, Space, Step};

use crate::activation::Activation;
use crate::adam::Adam;
use crate::error::{check_finite, Result, StudentError};
use crate::gradients::Gradients;
use crate::mlp::{ForwardCache, InferenceBuffers, Mlp, MlpConfig};
use crate::student::annealed_learning_rate;
use crate::student::{Student, TrainClock};
use crate::vec_env::EpisodeRecord;
use crate::vec_env::VecEnv;

pub use config::*;
use losses::{
    argmax, categorical_policy_loss, gaussian_log_prob, log_softmax, normalize_in_place,
    policy_loss, value_loss,
};
use rollout::Rollout;

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
                            cumulative += libm::exp(lp);
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
                    let noise = standard_normal(&mut self.rng) as f32;
                    m + libm::expf(s) * noise
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

    /// Trains for `total_steps` environment steps (rounded up to whole rollouts) on one env:
    /// the training loop of [`crate::Trainer`] over a vector env of this one copy. Every
    /// episode's task is drawn by `task_source` from a stream seeded with `seed` (salted, so it
    /// is not the agent's own stream), and its reset seed comes from [`crate::episode_seed`].
    /// Returns every finished episode.
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
        task_source: F,
    ) -> Result<Vec<EpisodeRecord>>
    where
        E: Env<Obs = Vec<f32>> + Send,
        E::Action: PolicyAction,
        F: FnMut(&mut Pcg64) -> Vec<f64> + Send + 'static,
    {
        self.check_spaces(env)?;
        crate::trainer::train_single_env(self, env, total_steps, seed, task_source)
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
    /// env's summaries: [`crate::evaluate`] on this one env. Does not change the agent.
    ///
    /// # Errors
    /// As [`PpoAgent::train`], and tasks outside the env's task space.
    pub fn evaluate<E>(
        &mut self,
        env: &mut E,
        tasks: &[Vec<f64>],
        seed: u64,
    ) -> Result<Vec<teachgym_core::EpisodeSummary>>
    where
        E: Env<Obs = Vec<f32>> + Send,
        E::Action: PolicyAction,
    {
        self.check_spaces(env)?;
        crate::eval::evaluate_single_env(self, env, tasks, seed)
    }
}

// ---------------------------------------------------------------------------------------------
// Rollout: one iteration over the vector env, then GAE
// ---------------------------------------------------------------------------------------------

/// PPO as a [`Student`] of the curriculum loop: one iteration = one rollout of
/// `rollout_steps` transitions collected from the N copies of a [`VecEnv`] in lock-step
/// (`⌈rollout_steps / N⌉` steps per copy, CleanRL's `num_steps × num_envs` batch), GAE per copy,
/// then the minibatch update below.
///
/// Observations are normalised when they arrive (updating the running statistics in env-index
/// order); the copies' current observations at the start of an iteration are re-normalised with
/// the current statistics, so that a resumed run (whose env copies are rebuilt by replay) needs
/// no hidden per-copy state besides the discounted returns of reward scaling, which the agent's
/// checkpoint holds.
impl<E> Student<E> for PpoAgent
where
    E: Env<Obs = Vec<f32>> + Send,
    E::Action: PolicyAction,
{
    type Action = <E::Action as PolicyAction>::Owned;

    fn name(&self) -> &'static str {
        "ppo"
    }

    fn check_resume(&self, num_envs: usize) -> Result<()> {
        // Empty until the first rollout; afterwards one running return per env copy.
        if self.env_returns.is_empty() || self.env_returns.len() == num_envs {
            return Ok(());
        }
        Err(StudentError::CorruptCheckpoint {
            reason: format!(
                "the PPO state holds the running returns of {} env copies but the run has \
                 {num_envs}",
                self.env_returns.len()
            ),
        })
    }

    fn steps_per_iteration(&self, num_envs: usize) -> u64 {
        (self.config().rollout_steps.div_ceil(num_envs.max(1)) * num_envs) as u64
    }

    fn check_env(&self, env: &E) -> Result<()> {
        self.check_spaces(env)
    }

    fn train_iteration(
        &mut self,
        envs: &mut VecEnv<E, Self::Action>,
        clock: TrainClock,
    ) -> Result<()> {
        let cfg = self.config.clone();
        let n_envs = envs.len();
        let steps_per_env = cfg.rollout_steps.div_ceil(n_envs);
        if self.env_returns.len() != n_envs {
            self.env_returns = vec![0.0; n_envs];
        }
        // Learning-rate annealing by the share of the budget left (CleanRL's `1 − (k−1)/K`).
        let lr = self.anneal_learning_rate(clock.remaining_fraction())?;

        // Rollout layout: copy-major, index = copy · steps_per_env + t.
        let mut rollout = Rollout::new(steps_per_env * n_envs, self.obs_dim(), self.action_width());
        let mut obs: Vec<Vec<f32>> = Vec::with_capacity(n_envs);
        for raw in envs.observations() {
            self.check_obs(raw)?;
            obs.push(self.normalize(raw));
        }
        let mut actions = Vec::with_capacity(n_envs);
        let mut env_actions = Vec::with_capacity(n_envs);
        let mut log_probs = Vec::with_capacity(n_envs);
        let mut values = Vec::with_capacity(n_envs);
        for t in 0..steps_per_env {
            actions.clear();
            env_actions.clear();
            log_probs.clear();
            values.clear();
            for o in &obs {
                values.push(self.value(o)?);
                let (action, log_prob) = self.sample(o, false)?;
                env_actions.push(E::Action::from_flat(&action));
                actions.push(action);
                log_probs.push(log_prob);
            }
            let transitions = envs.step(&env_actions)?;
            for (i, tr) in transitions.into_iter().enumerate() {
                let mut reward = match cfg.reward_floor {
                    Some(floor) => tr.reward.max(floor),
                    None => tr.reward,
                };
                // Reward scaling by the running std of each copy's discounted return.
                if cfg.norm_reward {
                    self.env_returns[i] = self.env_returns[i] * cfg.gamma + reward;
                    self.return_rms.update(&[self.env_returns[i]]);
                    let clip = cfg.reward_clip as f64;
                    reward = (reward / (self.return_rms.var[0] + NORM_EPSILON).sqrt())
                        .clamp(-clip, clip);
                }
                let done = tr.terminated || tr.truncated;
                if let Some(final_obs) = &tr.final_obs {
                    let last = self.observe(final_obs)?;
                    // Bootstrap on truncation (the MDP goes on), not on termination.
                    if tr.truncated && !tr.terminated {
                        reward += cfg.gamma * self.value(&last)? as f64;
                    }
                    self.env_returns[i] = 0.0;
                }
                rollout.store(
                    i * steps_per_env + t,
                    &obs[i],
                    &actions[i],
                    log_probs[i],
                    values[i],
                    reward as f32,
                    done,
                );
                obs[i] = self.observe(&envs.observations()[i])?;
            }
        }
        let mut last_values = Vec::with_capacity(n_envs);
        for o in &obs {
            last_values.push(self.value(o)?);
        }
        rollout.compute_gae_per_copy(&last_values, cfg.gamma, cfg.gae_lambda);
        self.update(&rollout, lr)
    }

    /// The critic's value of the normalised observation, times the running std of the
    /// discounted return when rewards are normalised (the critic learns scaled returns), so the
    /// estimate is in the env's return units.
    fn value_estimate(&mut self, obs: &Vec<f32>) -> Result<f64> {
        self.check_obs(obs)?;
        let normalized = self.normalize(obs);
        let value = self.value(&normalized)? as f64;
        Ok(if self.config.norm_reward {
            value * (self.return_rms.var[0] + NORM_EPSILON).sqrt()
        } else {
            value
        })
    }

    /// PPO's policy is trained without masks, so `mask` is ignored.
    fn act_greedy(&mut self, obs: &Vec<f32>, _mask: Option<&[bool]>) -> Result<Self::Action> {
        self.check_obs(obs)?;
        let normalized = self.normalize(obs);
        let (action, _) = self.sample(&normalized, true)?;
        Ok(E::Action::from_flat(&action))
    }

    fn to_json(&self) -> String {
        PpoAgent::to_json(self)
    }

    fn from_json(text: &str) -> Result<Self> {
        PpoAgent::from_json(text)
    }
}

// ---------------------------------------------------------------------------------------------
// Update: clipped surrogate + (clipped) value loss + entropy bonus, minibatch epochs
// ---------------------------------------------------------------------------------------------

impl PpoAgent {
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
}

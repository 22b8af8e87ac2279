//! Soft Actor-Critic (Haarnoja et al., 2018) for `Box` actions, read top to bottom as CleanRL's
//! `sac_continuous_action.py`: **config → networks → acting → storing → the gradient step**,
//! then the iteration over the vector env and checkpoints.
//!
//! - Policy: a ReLU MLP giving the mean and the (tanh-rescaled) log-std of a Gaussian whose
//!   sample is squashed by tanh into (−1, 1) and mapped affinely onto the env's action bounds
//!   (`policy.rs` has the log-probability and its gradient). Evaluation uses `tanh(μ)`.
//! - Critics: twin Q networks on `[observation, squashed action]`, trained towards
//!   `r + γ(1 − terminated)(min Q'(s', a') − α log π(a'|s'))` with target copies updated by
//!   `θ' ← τθ + (1 − τ)θ'` after every gradient step (SAC v2, CleanRL, SB3). With
//!   [`SacConfig::value_network`], SpinningUp 0.1.1's variant: a V network trained towards
//!   `min Q(s, ã) − α log π(ã|s)`, Q targets `r + γ(1 − terminated)V'(s')` with V' the Polyak
//!   copy, and a policy loss on Q1 only (SpinningUp 0.1.1's choice, reproduced).
//! - Entropy coefficient α fixed, or tuned by Adam on log α with SB3's loss
//!   `−log α · (log π + target_entropy)`.
//! - One gradient step: critics (and V) first, then the policy on the updated critics, then α,
//!   then the targets (CleanRL's and SB3's order). SpinningUp 0.1.1 computes all its losses
//!   from the parameters before the step; the difference is one step of staleness.
//! - Uniformly random actions for the first [`SacConfig::start_steps`] env steps; gradient steps
//!   by [`UpdateSchedule`]: per env step (CleanRL, SB3) or `⌈len/k⌉` at the end of each episode
//!   (SpinningUp 0.1.1 as TeachMyAgent ran it).
//! - Targets bootstrap on truncation (the transition's true final observation), never on
//!   termination.
//! - Everything random (initialisation, exploration, replay sampling, policy noise) comes from
//!   seeded `Pcg64` streams. [`SacAgent::to_json`] saves all of it, **replay buffer included**,
//!   so a restored agent continues bit for bit (at the cost of checkpoint size: ≈ 1.33 bytes of
//!   text per stored byte, e.g. ≈ 565 MB for a full 2M-transition walker buffer).
//!
//! # Example
//! ```
//! use teachgym_core::Env;
//! use teachgym_envs::{PointMassConfig, PointMassEnv};
//! use teachgym_students::sac::{SacAgent, SacConfig};
//! # fn main() -> Result<(), teachgym_students::StudentError> {
//! let mut env = PointMassEnv::new(PointMassConfig::default())?;
//! let config = SacConfig {
//!     hidden_sizes: vec![32, 32],
//!     batch_size: 32,
//!     start_steps: 100,
//!     learning_starts: 100,
//!     ..SacConfig::default()
//! };
//! let (obs, actions) = (env.observation_space().clone(), env.action_space().clone());
//! let mut agent = SacAgent::for_spaces(config, &obs, &actions, 0)?;
//! let episodes = agent.train(&mut env, 300, 0, |_rng| vec![0.5, 1.0])?;
//! assert!(!episodes.is_empty());
//! let action = agent.act(&[0.0; 6], true)?;
//! assert_eq!(action.len(), 2);
//! # Ok(()) }
//! ```
//!
//! The files: [`config`] (defaults, presets, validation), `policy.rs` (the squashed Gaussian and
//! its gradient), this file (the agent), `checkpoint.rs`.

mod checkpoint;
pub mod config;
mod policy;
#[cfg(test)]
mod tests;

use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::random::standard_normal;
use teachgym_core::{Env, Space};

use crate::activation::Activation;
use crate::adam::Adam;
use crate::error::{check_finite, Result, StudentError};
use crate::gradients::Gradients;
use crate::mlp::{ForwardCache, InferenceBuffers, Mlp, MlpConfig};
use crate::replay::{BoxReplayBatch, BoxReplayBuffer, BoxTransition};
use crate::student::{Student, TrainClock};
use crate::vec_env::{EpisodeRecord, VecEnv};

pub use config::*;
use policy::{sample_squashed, squashed_output_gradient};

/// Activation of every hidden layer (SpinningUp, CleanRL, SB3).
pub const HIDDEN_ACTIVATION: Activation = Activation::Relu;

/// Diagnostics of the last gradient step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SacStats {
    /// `losses/qf_loss`: ½·MSE of Q1 plus that of Q2.
    pub q_loss: f64,
    /// `losses/vf_loss`: ½·MSE of V (0 without the V network).
    pub v_loss: f64,
    /// `losses/actor_loss`: mean of `α log π − Q`.
    pub actor_loss: f64,
    /// Mean `log π` of the policy's actions (minus the entropy estimate).
    pub mean_log_prob: f64,
    /// α used by the step.
    pub alpha: f64,
    /// Mean Q1 of the replayed actions.
    pub mean_q: f64,
}

/// SpinningUp 0.1.1's state-value network and its Polyak copy.
#[derive(Debug, Clone)]
struct ValueNet {
    net: Mlp,
    adam: Adam,
    target: Mlp,
}

/// A SAC learner: policy, twin critics and their targets (or the V network), optimisers,
/// α, the replay buffer, the RNG of exploration, replay sampling and policy noise, and its step
/// counters.
#[derive(Debug, Clone)]
pub struct SacAgent {
    config: SacConfig,
    actor: Mlp,
    actor_adam: Adam,
    critics: [Mlp; 2],
    critic_adams: [Adam; 2],
    /// Target copies of the critics (SAC v2); `None` with the V network.
    critic_targets: Option<[Mlp; 2]>,
    value: Option<ValueNet>,
    /// log α, trained by `alpha_adam` when α is tuned.
    log_alpha: f32,
    alpha_adam: Option<Adam>,
    /// `env action = scale · a + bias` for a squashed action `a` ∈ (−1, 1).
    action_scale: Vec<f32>,
    action_bias: Vec<f32>,
    replay: BoxReplayBuffer,
    rng: Pcg64,
    /// Env steps this agent has trained on (all copies), so that a second single-env `train`
    /// call continues the schedules.
    env_steps: u64,
    gradient_updates: u64,
    last_update: SacStats,
    scratch: Scratch,
}

/// Buffers reused between gradient steps; not part of the state.
#[derive(Debug, Clone, Default)]
struct Scratch {
    batch: BoxReplayBatch,
    actor_cache: ForwardCache,
    critic_caches: [ForwardCache; 2],
    value_cache: ForwardCache,
    actor_grads: Option<Gradients>,
    critic_grads: Option<[Gradients; 2]>,
    value_grads: Option<Gradients>,
    input_grad_scratch: Option<[Gradients; 2]>,
    buffers: InferenceBuffers,
}

impl SacAgent {
    /// A fresh agent for `obs_dim`-wide observations and `act_dim`-wide actions in [−1, 1];
    /// `seed` sets the initial weights and the RNG of exploration, replay and policy noise.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for a bad config or a zero dimension.
    pub fn new(config: SacConfig, obs_dim: usize, act_dim: usize, seed: u64) -> Result<Self> {
        Self::with_bounds(
            config,
            obs_dim,
            &vec![-1.0; act_dim],
            &vec![1.0; act_dim],
            seed,
        )
    }

    /// A fresh agent for an env's spaces: a `Box` observation space and a `Box` action space
    /// with finite bounds, onto which the squashed actions are mapped.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for other spaces or infinite action bounds,
    /// [`StudentError::InvalidConfig`] for a bad config.
    pub fn for_spaces(
        config: SacConfig,
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
        let Space::Box(actions) = action_space else {
            return Err(StudentError::ShapeMismatch {
                what: "env action space",
                expected: "Box(n) (SAC needs continuous actions)".into(),
                got: format!("{action_space:?}"),
            });
        };
        Self::with_bounds(config, obs.len(), actions.low(), actions.high(), seed)
    }

    fn with_bounds(
        config: SacConfig,
        obs_dim: usize,
        low: &[f64],
        high: &[f64],
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        let act_dim = low.len();
        if obs_dim == 0 || act_dim == 0 {
            return Err(StudentError::InvalidConfig {
                field: "obs_dim/act_dim",
                reason: format!("must be ≥ 1, got {obs_dim} and {act_dim}"),
            });
        }
        let (action_scale, action_bias) = action_affine(low, high)?;
        let mut init_rng = Pcg64::seed_from_u64(seed);
        let hidden = &config.hidden_sizes;
        let actor = Mlp::new(
            MlpConfig::new(obs_dim, hidden, HIDDEN_ACTIVATION, 2 * act_dim),
            &mut init_rng,
        )?;
        let critic_config = MlpConfig::new(obs_dim + act_dim, hidden, HIDDEN_ACTIVATION, 1);
        let critics = [
            Mlp::new(critic_config.clone(), &mut init_rng)?,
            Mlp::new(critic_config, &mut init_rng)?,
        ];
        let value = if config.value_network {
            let net = Mlp::new(
                MlpConfig::new(obs_dim, hidden, HIDDEN_ACTIVATION, 1),
                &mut init_rng,
            )?;
            Some(ValueNet {
                adam: Adam::new(config.adam(), &net)?,
                target: net.clone(),
                net,
            })
        } else {
            None
        };
        let adam = config.adam();
        Ok(SacAgent {
            actor_adam: Adam::new(adam, &actor)?,
            critic_adams: [Adam::new(adam, &critics[0])?, Adam::new(adam, &critics[1])?],
            critic_targets: (!config.value_network).then(|| critics.clone()),
            critics,
            value,
            log_alpha: libm::log(config.alpha) as f32,
            alpha_adam: if config.autotune_alpha {
                Some(Adam::for_tensor_lengths(adam, &[1])?)
            } else {
                None
            },
            action_scale,
            action_bias,
            replay: BoxReplayBuffer::new(config.buffer_size, obs_dim, act_dim)?,
            rng: Pcg64::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
            env_steps: 0,
            gradient_updates: 0,
            last_update: SacStats::default(),
            scratch: Scratch::default(),
            actor,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SacConfig {
        &self.config
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.actor.inputs()
    }

    /// Action width.
    pub fn act_dim(&self) -> usize {
        self.actor.outputs() / 2
    }

    /// The replay buffer.
    pub fn replay(&self) -> &BoxReplayBuffer {
        &self.replay
    }

    /// Gradient steps taken so far.
    pub fn gradient_updates(&self) -> u64 {
        self.gradient_updates
    }

    /// Env steps trained on so far (all copies).
    pub fn env_steps(&self) -> u64 {
        self.env_steps
    }

    /// The current entropy coefficient α.
    pub fn alpha(&self) -> f64 {
        libm::exp(self.log_alpha as f64)
    }

    /// Diagnostics of the last gradient step.
    pub fn last_update(&self) -> SacStats {
        self.last_update
    }

    // -----------------------------------------------------------------------------------------
    // Acting
    // -----------------------------------------------------------------------------------------

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

    /// The squashed action in (−1, 1) for one observation: `tanh(μ)` if `deterministic`,
    /// otherwise a sample (advancing the agent's RNG).
    fn squashed_action(&mut self, obs: &[f32], deterministic: bool) -> Result<Vec<f32>> {
        let act_dim = self.act_dim();
        let noise = if deterministic {
            vec![0.0; act_dim]
        } else {
            (0..act_dim)
                .map(|_| standard_normal(&mut self.rng) as f32)
                .collect()
        };
        let outputs = self.actor.forward_one(obs, &mut self.scratch.buffers)?;
        let outputs = ArrayView2::from_shape((1, 2 * act_dim), outputs).expect("one row");
        Ok(sample_squashed(outputs, noise, self.config.log_std_map()).actions)
    }

    /// A squashed action mapped onto the env's action bounds.
    fn to_env_action(&self, squashed: &[f32]) -> Vec<f32> {
        squashed
            .iter()
            .zip(&self.action_scale)
            .zip(&self.action_bias)
            .map(|((a, s), b)| s * a + b)
            .collect()
    }

    /// The env action for a raw observation: the policy's `tanh(μ)` if `deterministic`,
    /// otherwise a sample (advancing the agent's RNG), within the env's action bounds.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for a wrong width, [`StudentError::NonFinite`] for NaN/∞.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<Vec<f32>> {
        self.check_obs(obs)?;
        let squashed = self.squashed_action(obs, deterministic)?;
        Ok(self.to_env_action(&squashed))
    }

    // -----------------------------------------------------------------------------------------
    // Storing and the learning schedule
    // -----------------------------------------------------------------------------------------

    /// Gradient steps due for env steps `(before, after]` and the episodes that ended in them
    /// (their lengths, in env-copy order), by [`SacConfig::updates`]; none before
    /// `learning_starts`.
    fn gradient_steps_due(&self, before: u64, after: u64, ended_lengths: &[u64]) -> u64 {
        if after < self.config.learning_starts {
            return 0;
        }
        match self.config.updates {
            UpdateSchedule::EnvSteps {
                train_frequency,
                gradient_steps,
            } => {
                // Rounds at multiples of train_frequency in (before, after], not before
                // learning_starts.
                let first = before.max(self.config.learning_starts.saturating_sub(1));
                let rounds = after / train_frequency - first / train_frequency;
                rounds * gradient_steps as u64
            }
            UpdateSchedule::EpisodeEnd {
                env_steps_per_gradient_step,
            } => ended_lengths
                .iter()
                .map(|len| len.div_ceil(env_steps_per_gradient_step))
                .sum(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // The gradient step
    // -----------------------------------------------------------------------------------------

    /// Draws `batch × act_dim` standard-normal numbers from the agent's RNG.
    fn noise(&mut self, batch: usize) -> Vec<f32> {
        (0..batch * self.act_dim())
            .map(|_| standard_normal(&mut self.rng) as f32)
            .collect()
    }

    /// One gradient step on a replay minibatch: critics (and V), policy, α, targets.
    ///
    /// # Errors
    /// [`StudentError::NonFinite`] if a loss diverged to NaN/∞.
    pub fn gradient_step(&mut self) -> Result<SacStats> {
        let cfg = self.config.clone();
        let (d, a, b) = (self.obs_dim(), self.act_dim(), cfg.batch_size);
        let mut batch = std::mem::take(&mut self.scratch.batch);
        self.replay.sample(b, &mut self.rng, &mut batch)?;
        let alpha = self.alpha();
        let log_std = cfg.log_std_map();
        let obs = ArrayView2::from_shape((b, d), &batch.obs).expect("sampled b rows");
        let next_obs = ArrayView2::from_shape((b, d), &batch.next_obs).expect("sampled b rows");

        // 1. Targets. SAC v2: a fresh action at s' from the current policy, valued by the
        //    target critics. SpinningUp 0.1.1: V' at s', and V's own target from a fresh action
        //    at s valued by the current critics.
        let not_done = |i: usize| 1.0 - batch.terminated[i] as f64;
        let mut v_targets = Vec::new();
        let v_next = match &self.value {
            Some(value) => Some(value.target.predict(next_obs)?),
            None => None,
        };
        let q_targets: Vec<f32> = if let Some(v_next) = v_next {
            let noise = self.noise(b);
            let outputs = self.actor.predict(obs)?;
            let fresh = sample_squashed(outputs.view(), noise, log_std);
            let q_fresh = self.critic_min(obs, &fresh.actions)?;
            v_targets = (0..b)
                .map(|i| (q_fresh[i] as f64 - alpha * fresh.log_probs[i] as f64) as f32)
                .collect();
            (0..b)
                .map(|i| {
                    (batch.rewards[i] as f64 + cfg.gamma * not_done(i) * v_next[(i, 0)] as f64)
                        as f32
                })
                .collect()
        } else {
            let noise = self.noise(b);
            let outputs = self.actor.predict(next_obs)?;
            let next = sample_squashed(outputs.view(), noise, log_std);
            let targets = self
                .critic_targets
                .as_ref()
                .expect("SAC v2 has target critics");
            let input = concat_columns(next_obs, &next.actions, a);
            let q1 = targets[0].predict(input.view())?;
            let q2 = targets[1].predict(input.view())?;
            (0..b)
                .map(|i| {
                    let soft =
                        (q1[(i, 0)].min(q2[(i, 0)])) as f64 - alpha * next.log_probs[i] as f64;
                    (batch.rewards[i] as f64 + cfg.gamma * not_done(i) * soft) as f32
                })
                .collect()
        };

        // 2. Critics: ½·MSE towards the targets.
        let input = concat_columns(obs, &batch.actions, a);
        let mut stats = SacStats {
            alpha,
            ..SacStats::default()
        };
        let critic_grads = self
            .scratch
            .critic_grads
            .get_or_insert_with(|| [0, 1].map(|k| Gradients::zeros_like(&self.critics[k])));
        for (k, (((critic, adam), cache), grads)) in self
            .critics
            .iter_mut()
            .zip(&mut self.critic_adams)
            .zip(&mut self.scratch.critic_caches)
            .zip(critic_grads.iter_mut())
            .enumerate()
        {
            let q = critic.forward(input.view(), cache)?;
            let (loss, d_q) = half_mse(q, &q_targets);
            check_finite("Q loss", &[loss as f32])?;
            if k == 0 {
                stats.mean_q = q.iter().map(|&v| v as f64).sum::<f64>() / b as f64;
            }
            stats.q_loss += loss;
            critic.backward(cache, d_q.view(), grads)?;
            adam.step(critic, grads)?;
        }
        if let Some(value) = &mut self.value {
            let grads = self
                .scratch
                .value_grads
                .get_or_insert_with(|| Gradients::zeros_like(&value.net));
            let v = value.net.forward(obs, &mut self.scratch.value_cache)?;
            let (loss, d_v) = half_mse(v, &v_targets);
            check_finite("V loss", &[loss as f32])?;
            stats.v_loss = loss;
            value
                .net
                .backward(&self.scratch.value_cache, d_v.view(), grads)?;
            value.adam.step(&mut value.net, grads)?;
        }

        // 3. Policy: mean of α log π(ã|s) − Q(s, ã) with ã reparameterised, through the critics
        //    (min of the two; Q1 only with the V network, as SpinningUp 0.1.1).
        let noise = self.noise(b);
        let outputs = self
            .actor
            .forward(obs, &mut self.scratch.actor_cache)?
            .to_owned();
        let sample = sample_squashed(outputs.view(), noise, log_std);
        let (q_pi, d_actions) = self.policy_q_gradient(obs, &sample.actions)?;
        let d_log_probs = vec![(alpha / b as f64) as f32; b];
        let d_outputs =
            squashed_output_gradient(outputs.view(), &sample, &d_actions, &d_log_probs, log_std);
        let actor_grads = self
            .scratch
            .actor_grads
            .get_or_insert_with(|| Gradients::zeros_like(&self.actor));
        self.actor
            .backward(&self.scratch.actor_cache, d_outputs.view(), actor_grads)?;
        self.actor_adam.step(&mut self.actor, actor_grads)?;
        let mean_log_prob = sample.log_probs.iter().map(|&l| l as f64).sum::<f64>() / b as f64;
        stats.mean_log_prob = mean_log_prob;
        stats.actor_loss = alpha * mean_log_prob - q_pi;
        check_finite("actor loss", &[stats.actor_loss as f32])?;

        // 4. α: SB3's loss −log α · (log π + target entropy), its gradient the mean bracket.
        if let Some(adam) = &mut self.alpha_adam {
            let target = cfg.target_entropy_for(a);
            let grad = -(mean_log_prob + target) as f32;
            let mut log_alpha = [self.log_alpha];
            adam.step_slices(&mut [&mut log_alpha[..]], &[&[grad][..]])?;
            self.log_alpha = log_alpha[0];
        }

        // 5. Targets.
        if let Some(targets) = &mut self.critic_targets {
            for (target, online) in targets.iter_mut().zip(&self.critics) {
                target.update_towards(online, cfg.tau);
            }
        }
        if let Some(value) = &mut self.value {
            value.target.update_towards(&value.net, cfg.tau);
        }
        self.gradient_updates += 1;
        self.last_update = stats;
        self.scratch.batch = batch;
        Ok(stats)
    }

    /// Elementwise `min(Q1, Q2)` of `(obs, actions)`.
    fn critic_min(&self, obs: ArrayView2<'_, f32>, actions: &[f32]) -> Result<Vec<f32>> {
        let input = concat_columns(obs, actions, self.act_dim());
        let q1 = self.critics[0].predict(input.view())?;
        let q2 = self.critics[1].predict(input.view())?;
        Ok(q1.iter().zip(q2.iter()).map(|(a, b)| a.min(*b)).collect())
    }

    /// The mean policy value `Q(s, ã)` and `∂(−mean Q)/∂ã` (`batch × act_dim`), through the
    /// smaller critic per row (or Q1 with the V network).
    fn policy_q_gradient(
        &mut self,
        obs: ArrayView2<'_, f32>,
        actions: &[f32],
    ) -> Result<(f64, Vec<f32>)> {
        let (b, d, a) = (obs.nrows(), self.obs_dim(), self.act_dim());
        let input = concat_columns(obs, actions, a);
        let critic_count = if self.value.is_some() { 1 } else { 2 };
        let mut q = Vec::with_capacity(critic_count);
        for k in 0..critic_count {
            let cache = &mut self.scratch.critic_caches[k];
            q.push(
                self.critics[k]
                    .forward(input.view(), cache)?
                    .column(0)
                    .to_vec(),
            );
        }
        let chooses = |k: usize, i: usize| critic_count == 1 || (k == 0) == (q[0][i] <= q[1][i]);
        let mut d_actions = vec![0.0f32; b * a];
        let mut q_mean = 0.0;
        // Scratch space of the input gradients (the critics' parameters are not trained here).
        let grads = self
            .scratch
            .input_grad_scratch
            .get_or_insert_with(|| [0, 1].map(|k| Gradients::zeros_like(&self.critics[k])));
        for k in 0..critic_count {
            let d_q =
                Array2::from_shape_fn(
                    (b, 1),
                    |(i, _)| {
                        if chooses(k, i) {
                            -1.0 / b as f32
                        } else {
                            0.0
                        }
                    },
                );
            let d_input = self.critics[k].input_gradient(
                &self.scratch.critic_caches[k],
                d_q.view(),
                &mut grads[k],
            )?;
            for i in 0..b {
                if chooses(k, i) {
                    q_mean += q[k][i] as f64 / b as f64;
                    for j in 0..a {
                        d_actions[i * a + j] += d_input[(i, d + j)];
                    }
                }
            }
        }
        Ok((q_mean, d_actions))
    }

    // -----------------------------------------------------------------------------------------
    // Single-env loop and evaluation
    // -----------------------------------------------------------------------------------------

    /// Trains for `total_steps` env steps on one env, continuing the agent's step count: the
    /// training loop of [`crate::Trainer`] over a vector env of this one copy. Every episode's
    /// task is drawn by `task_source` from a stream seeded with `seed` (salted, so it is not the
    /// agent's own stream), and its reset seed comes from [`crate::episode_seed`]. Returns every
    /// finished episode.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] if the env's spaces do not match the agent,
    /// [`StudentError::Env`] if the env rejects a task, [`StudentError::NonFinite`] for NaN
    /// observations or rewards.
    pub fn train<E, F>(
        &mut self,
        env: &mut E,
        total_steps: u64,
        seed: u64,
        task_source: F,
    ) -> Result<Vec<EpisodeRecord>>
    where
        E: Env<Obs = Vec<f32>, Action = [f32]> + Send,
        F: FnMut(&mut Pcg64) -> Vec<f64> + Send + 'static,
    {
        self.check_spaces(env)?;
        crate::trainer::train_single_env(self, env, total_steps, seed, task_source)
    }

    /// Plays one deterministic episode per task (env reset with `seed + i`) and returns the
    /// env's summaries: [`crate::evaluate`] on this one env. Does not change the agent.
    ///
    /// # Errors
    /// As [`SacAgent::train`], and tasks outside the env's task space.
    pub fn evaluate<E>(
        &mut self,
        env: &mut E,
        tasks: &[Vec<f64>],
        seed: u64,
    ) -> Result<Vec<teachgym_core::EpisodeSummary>>
    where
        E: Env<Obs = Vec<f32>, Action = [f32]> + Send,
    {
        self.check_spaces(env)?;
        crate::eval::evaluate_single_env(self, env, tasks, seed)
    }

    fn check_spaces<E: Env<Obs = Vec<f32>, Action = [f32]>>(&self, env: &E) -> Result<()> {
        let obs_ok = matches!(env.observation_space(), Space::Box(b) if b.len() == self.obs_dim());
        if !obs_ok {
            return Err(StudentError::ShapeMismatch {
                what: "env observation space",
                expected: format!("Box({})", self.obs_dim()),
                got: format!("{:?}", env.observation_space()),
            });
        }
        let bounds_ok = match env.action_space() {
            Space::Box(b) => action_affine(b.low(), b.high())
                .is_ok_and(|(scale, bias)| scale == self.action_scale && bias == self.action_bias),
            _ => false,
        };
        if !bounds_ok {
            let expected: Vec<String> = self
                .action_bias
                .iter()
                .zip(&self.action_scale)
                .map(|(b, s)| format!("[{}, {}]", b - s, b + s))
                .collect();
            return Err(StudentError::ShapeMismatch {
                what: "env action space",
                expected: format!("Box with bounds {}", expected.join(" ")),
                got: format!("{:?}", env.action_space()),
            });
        }
        Ok(())
    }
}

/// `(scale, bias)` mapping (−1, 1) onto `[low, high]` per component.
fn action_affine(low: &[f64], high: &[f64]) -> Result<(Vec<f32>, Vec<f32>)> {
    if let Some(j) = (0..low.len()).find(|&j| !(low[j].is_finite() && high[j].is_finite())) {
        return Err(StudentError::ShapeMismatch {
            what: "env action space",
            expected: "finite bounds (SAC squashes its actions into them)".into(),
            got: format!("component {j} in [{}, {}]", low[j], high[j]),
        });
    }
    let scale = low
        .iter()
        .zip(high)
        .map(|(l, h)| ((h - l) / 2.0) as f32)
        .collect();
    let bias = low
        .iter()
        .zip(high)
        .map(|(l, h)| ((h + l) / 2.0) as f32)
        .collect();
    Ok((scale, bias))
}

/// `[obs | actions]` row by row.
fn concat_columns(obs: ArrayView2<'_, f32>, actions: &[f32], act_dim: usize) -> Array2<f32> {
    let (b, d) = obs.dim();
    Array2::from_shape_fn((b, d + act_dim), |(i, j)| {
        if j < d {
            obs[(i, j)]
        } else {
            actions[i * act_dim + j - d]
        }
    })
}

/// ½·mean((prediction − target)²) and its gradient with respect to the predictions.
fn half_mse(prediction: ArrayView2<'_, f32>, targets: &[f32]) -> (f64, Array2<f32>) {
    let b = targets.len();
    let mut loss = 0.0;
    let d = Array2::from_shape_fn((b, 1), |(i, _)| {
        let error = prediction[(i, 0)] - targets[i];
        loss += 0.5 * (error as f64) * (error as f64) / b as f64;
        error / b as f32
    });
    (loss, d)
}

// ---------------------------------------------------------------------------------------------
// The iteration over the vector env
// ---------------------------------------------------------------------------------------------

/// SAC as a [`Student`] of the curriculum loop, over N env copies: one iteration = one
/// lock-step step of every copy (uniformly random actions for the first
/// [`SacConfig::start_steps`] env steps, then policy samples), N transitions into the replay
/// buffer in copy order (bootstrapping from the true final observation on truncation), then the
/// gradient steps the schedule places on the steps just taken and the episodes that just ended.
/// The running episodes' lengths come from the vector env, so the agent keeps no per-copy state
/// and a run resumes with any number of threads.
impl<E> Student<E> for SacAgent
where
    E: Env<Obs = Vec<f32>, Action = [f32]> + Send,
{
    type Action = Vec<f32>;

    fn name(&self) -> &'static str {
        "sac"
    }

    fn steps_per_iteration(&self, num_envs: usize) -> u64 {
        num_envs as u64
    }

    fn check_env(&self, env: &E) -> Result<()> {
        self.check_spaces(env)
    }

    fn train_iteration(
        &mut self,
        envs: &mut VecEnv<E, Vec<f32>>,
        _clock: TrainClock,
    ) -> Result<()> {
        let n = envs.len();
        let (d, a) = (self.obs_dim(), self.act_dim());
        let obs: Vec<f32> = envs.observations().concat();
        check_finite("observation", &obs)?;
        if obs.len() != n * d {
            return Err(StudentError::ShapeMismatch {
                what: "observation",
                expected: format!("({d})"),
                got: format!("({})", obs.len() / n.max(1)),
            });
        }
        let mut squashed = Vec::with_capacity(n * a);
        for i in 0..n {
            let action = if self.env_steps + (i as u64) < self.config.start_steps {
                (0..a)
                    .map(|_| self.rng.random_range(-1.0f32..1.0))
                    .collect()
            } else {
                self.squashed_action(&obs[i * d..(i + 1) * d], false)?
            };
            squashed.extend(action);
        }
        let env_actions: Vec<Vec<f32>> = squashed
            .chunks(a)
            .map(|action| self.to_env_action(action))
            .collect();
        let lengths_before = envs.episode_lengths();
        let steps = envs.step(&env_actions)?;
        let mut ended_lengths = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            // On an episode end, the final observation, not the reset's.
            let next_obs = match &step.final_obs {
                Some(final_obs) => {
                    ended_lengths.push(lengths_before[i] as u64 + 1);
                    final_obs.as_slice()
                }
                None => envs.observations()[i].as_slice(),
            };
            self.replay.push(&BoxTransition {
                obs: &obs[i * d..(i + 1) * d],
                action: &squashed[i * a..(i + 1) * a],
                reward: match self.config.reward_floor {
                    Some(floor) => step.reward.max(floor),
                    None => step.reward,
                } as f32,
                next_obs,
                terminated: step.terminated,
            })?;
        }
        let before = self.env_steps;
        self.env_steps += n as u64;
        for _ in 0..self.gradient_steps_due(before, self.env_steps, &ended_lengths) {
            self.gradient_step()?;
        }
        Ok(())
    }

    fn act_greedy(&mut self, obs: &Vec<f32>, _mask: Option<&[bool]>) -> Result<Vec<f32>> {
        self.act(obs, true)
    }

    /// V(s) with the V network; otherwise the smaller critic at the policy's mean action.
    fn value_estimate(&mut self, obs: &Vec<f32>) -> Result<f64> {
        self.check_obs(obs)?;
        let row = ArrayView2::from_shape((1, obs.len()), obs.as_slice()).expect("one row");
        if let Some(value) = &self.value {
            return Ok(value.net.predict(row)?[(0, 0)] as f64);
        }
        let mean_action = self.squashed_action(obs, true)?;
        Ok(self.critic_min(row, &mean_action)?[0] as f64)
    }

    fn to_json(&self) -> String {
        SacAgent::to_json(self)
    }

    fn from_json(text: &str) -> Result<Self> {
        SacAgent::from_json(text)
    }
}

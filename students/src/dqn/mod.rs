//! Deep Q-Networks (Mnih et al., 2015) for discrete actions, read top to bottom as CleanRL's
//! `dqn.py`: **config → Q-network → acting (ε-greedy) → storing → learning**, then the loop
//! over the vector env.
//!
//! - Double DQN targets (van Hasselt et al., 2016): the online network picks the next action,
//!   the target network values it. Switch off with [`DqnConfig::double_dqn`].
//! - Target network updated every [`DqnConfig::target_update_interval`] steps by
//!   `θ' ← τ·θ + (1 − τ)·θ'` (τ = 1: a hard copy, as CleanRL and SB3).
//! - Optional dueling head (Wang et al., 2016): `Q = V + A − mean(A)` on a shared trunk.
//! - Huber TD loss (SB3's `smooth_l1_loss`), optional global-norm gradient clipping.
//! - Targets bootstrap on truncation (the transition's true final observation), never on
//!   termination; with action masks they only maximise over the next observation's legal actions.
//! - The pieces are public so an external (vectorised, teacher-driven) loop can drive them:
//!   [`DqnAgent::select_actions`] for a batch of observations, [`DqnAgent::store`] per
//!   transition, [`DqnAgent::learn`] once per loop step. [`DqnAgent::train`] is the single-env
//!   loop built from them.
//! - Everything random (initialisation, exploration, replay sampling) comes from seeded `Pcg64`
//!   streams; [`DqnAgent::to_json`] saves all of it, replay buffer included, so a restored agent
//!   continues bit for bit.
//!
//! # Example
//! ```
//! use teachgym_envs::{GridWorldConfig, GridWorldEnv};
//! use teachgym_students::dqn::{DqnAgent, DqnConfig};
//! # fn main() -> Result<(), teachgym_students::StudentError> {
//! let mut env = GridWorldEnv::new(GridWorldConfig::default())?;
//! let config = DqnConfig { learning_starts: 100, batch_size: 32, ..DqnConfig::default() };
//! let mut agent = DqnAgent::new(config, 12, 4, 0)?;
//! let episodes = agent.train(&mut env, 500, 0, |_rng| vec![4.0, 0.1])?;
//! assert!(!episodes.is_empty());
//! let mut actions = Vec::new();
//! agent.select_actions(&[0.0; 24], None, 500, true, &mut actions)?;
//! assert_eq!(actions.len(), 2);
//! # Ok(()) }
//! ```
//!
//! The files: [`config`] (defaults and schedules), `network.rs` (the Q-network), this file (the
//! agent: acting, storing, learning, the iteration over the vector env), `schedule.rs` (masked
//! argmax and the learning schedule, shared with the QWeb DQN), `loss.rs` (the TD loss),
//! `checkpoint.rs`.

mod checkpoint;
pub mod config;
mod loss;
mod network;
mod schedule;
#[cfg(test)]
mod tests;

use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::{Env, Space};

use crate::adam::Adam;
use crate::error::{check_finite, Result, StudentError};
use crate::gradients::{clip_global_norm, Gradients};
use crate::mlp::MlpConfig;
use crate::replay::{ReplayBatch, ReplayBuffer, Transition};
use crate::student::{Student, TrainClock};
use crate::vec_env::{EpisodeRecord, VecEnv};

pub use config::*;
pub(crate) use loss::huber_td_loss;
use network::{QCaches, QNetwork};
pub(crate) use schedule::{masked_argmax, run_learning_schedule, ScheduleEvent};

/// Diagnostics of the last gradient step of a [`DqnAgent::learn`] call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LossStats {
    /// `losses/td_loss`: mean Huber loss of the minibatch.
    pub td_loss: f64,
    /// `losses/q_values`: mean Q of the actions taken.
    pub mean_q: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Gradient steps this call took.
    pub gradient_steps: u64,
    /// ε at the call's global step.
    pub epsilon: f64,
}

// ---------------------------------------------------------------------------------------------
// Agent
// ---------------------------------------------------------------------------------------------

/// A DQN learner: online and target Q-networks, Adam, the replay buffer, the RNG of exploration
/// and replay sampling, and the last global step it learned at.
#[derive(Debug, Clone)]
pub struct DqnAgent {
    config: DqnConfig,
    online: QNetwork,
    target: QNetwork,
    optimizers: Vec<Adam>,
    replay: ReplayBuffer,
    rng: Pcg64,
    /// The global step the last [`DqnAgent::learn`] call processed (training rounds and target
    /// updates are due at multiples of their intervals after it).
    pub(crate) learned_through: u64,
    gradient_updates: u64,
    // Scratch space, not part of the state: caches of the training forward pass and of acting
    // (separate so that their batch sizes do not make each other reallocate).
    caches: QCaches,
    act_caches: QCaches,
    next_caches: QCaches,
    grads: Vec<Gradients>,
    batch: ReplayBatch,
}

impl DqnAgent {
    /// A fresh agent for `obs_dim`-wide observations and `num_actions` discrete actions; `seed`
    /// sets the initial weights and the exploration/replay RNG.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for a bad config or a zero dimension.
    pub fn new(config: DqnConfig, obs_dim: usize, num_actions: usize, seed: u64) -> Result<Self> {
        config.validate()?;
        if obs_dim == 0 || num_actions == 0 {
            return Err(StudentError::InvalidConfig {
                field: "obs_dim/num_actions",
                reason: format!("must be ≥ 1, got {obs_dim} and {num_actions}"),
            });
        }
        let mut init_rng = Pcg64::seed_from_u64(seed);
        let online = QNetwork::new(
            obs_dim,
            &config.hidden_sizes,
            HIDDEN_ACTIVATION,
            num_actions,
            config.dueling,
            &mut init_rng,
        )?;
        let optimizers = online
            .parts
            .iter()
            .map(|part| Adam::new(config.adam(), part))
            .collect::<std::result::Result<_, crate::NnError>>()?;
        Ok(DqnAgent {
            replay: ReplayBuffer::new(config.buffer_size, obs_dim, num_actions)?,
            target: online.clone(),
            grads: online.parts.iter().map(Gradients::zeros_like).collect(),
            online,
            optimizers,
            rng: Pcg64::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
            learned_through: 0,
            gradient_updates: 0,
            caches: QCaches::default(),
            act_caches: QCaches::default(),
            next_caches: QCaches::default(),
            batch: ReplayBatch::default(),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DqnConfig {
        &self.config
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.online.obs_dim()
    }

    /// Number of discrete actions.
    pub fn num_actions(&self) -> usize {
        self.online.num_actions()
    }

    /// The replay buffer.
    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// Gradient steps taken so far.
    pub fn gradient_updates(&self) -> u64 {
        self.gradient_updates
    }

    /// The global step of the last [`DqnAgent::learn`] call (0 before any).
    pub fn global_step(&self) -> u64 {
        self.learned_through
    }

    /// ε at `global_step` (see [`DqnConfig::epsilon`]).
    pub fn epsilon(&self, global_step: u64) -> f64 {
        self.config.epsilon(global_step)
    }

    /// Q-values of the online network for one observation.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] or [`StudentError::NonFinite`] for a bad observation.
    pub fn q_values(&self, obs: &[f32]) -> Result<Vec<f32>> {
        let view = self.obs_view(obs)?;
        Ok(self.online.predict(view)?.into_raw_vec_and_offset().0)
    }

    fn obs_view<'a>(&self, obs_batch: &'a [f32]) -> Result<ArrayView2<'a, f32>> {
        let d = self.obs_dim();
        if obs_batch.is_empty() || obs_batch.len() % d != 0 {
            return Err(StudentError::ShapeMismatch {
                what: "observation batch",
                expected: format!("(n ≥ 1) × {d} values"),
                got: format!("{} values", obs_batch.len()),
            });
        }
        check_finite("observation", obs_batch)?;
        Ok(ArrayView2::from_shape((obs_batch.len() / d, d), obs_batch)
            .expect("length checked to be a multiple of obs_dim"))
    }

    // -----------------------------------------------------------------------------------------
    // Acting
    // -----------------------------------------------------------------------------------------

    /// ε-greedy actions for a batch of observations (`n × obs_dim`, row-major) into `out` (`n`
    /// indices). `masks` (`n × num_actions`, row-major), if given, restricts both the greedy
    /// and the random choice to legal actions. `deterministic` acts greedily (ε = 0) and draws
    /// nothing from the agent's RNG; otherwise each row draws its own exploration coin.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for wrong widths, [`StudentError::NonFinite`] for NaN/∞
    /// observations, [`StudentError::NoLegalAction`] for an all-false mask row.
    pub fn select_actions(
        &mut self,
        obs_batch: &[f32],
        masks: Option<&[bool]>,
        global_step: u64,
        deterministic: bool,
        out: &mut Vec<usize>,
    ) -> Result<()> {
        let view = self.obs_view(obs_batch)?;
        let (rows, n) = (view.nrows(), self.num_actions());
        if let Some(masks) = masks {
            if masks.len() != rows * n {
                return Err(StudentError::ShapeMismatch {
                    what: "action masks",
                    expected: format!("{rows} × {n} values"),
                    got: format!("{} values", masks.len()),
                });
            }
            if let Some(row) = masks.chunks(n).position(|m| !m.contains(&true)) {
                return Err(StudentError::NoLegalAction { row });
            }
        }
        let q = self.online.forward(view, &mut self.act_caches)?;
        let epsilon = if deterministic {
            0.0
        } else {
            self.config.epsilon(global_step)
        };
        out.clear();
        for (r, q_row) in q.rows().into_iter().enumerate() {
            let mask = masks.map(|m| &m[r * n..(r + 1) * n]);
            let explore = !deterministic && self.rng.random::<f64>() < epsilon;
            let action = if explore {
                let legal = mask.map_or(n, |m| m.iter().filter(|&&ok| ok).count());
                let k = self.rng.random_range(0..legal);
                match mask {
                    Some(m) => (0..n).filter(|&a| m[a]).nth(k).expect("k < legal count"),
                    None => k,
                }
            } else {
                let q_row = q_row.as_slice().expect("Q rows are contiguous");
                masked_argmax(q_row, mask).expect("mask rows checked to allow an action")
            };
            out.push(action);
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Storing and learning
    // -----------------------------------------------------------------------------------------

    /// Stores one env transition in the replay buffer. On truncation pass the true final
    /// observation as `next_obs` and `terminated: false`, so the target bootstraps from it.
    ///
    /// # Errors
    /// As [`ReplayBuffer::push`].
    pub fn store(&mut self, transition: &Transition<'_>) -> Result<()> {
        self.replay.push(transition)
    }

    /// Does what the schedule says for every global step after the previous call's up to
    /// `global_step`: after `learning_starts`, `gradient_steps` gradient steps at each multiple
    /// of `train_frequency` and a target update at each multiple of `target_update_interval`
    /// (training first, as CleanRL). Call it once per loop iteration with the total number of
    /// env steps taken so far (all envs counted); strides other than 1 are fine. Returns the
    /// last gradient step's diagnostics, or `None` if none was due.
    ///
    /// # Errors
    /// [`StudentError::NonFinite`] if the loss diverged to NaN/∞.
    pub fn learn(&mut self, global_step: u64) -> Result<Option<LossStats>> {
        let has_data = !self.replay.is_empty();
        let config = self.config.clone();
        let mut learned_through = self.learned_through;
        let stats = run_learning_schedule(
            &config,
            &mut learned_through,
            global_step,
            has_data,
            |event| match event {
                ScheduleEvent::GradientStep => self.gradient_step().map(Some),
                ScheduleEvent::TargetUpdate => {
                    self.target.update_towards(&self.online, config.tau);
                    Ok(None)
                }
            },
        );
        self.learned_through = learned_through;
        stats
    }

    /// One Adam step on the Huber TD loss of a replay minibatch.
    fn gradient_step(&mut self) -> Result<LossStats> {
        let cfg = &self.config;
        let (d, n, b) = (self.obs_dim(), self.num_actions(), cfg.batch_size);
        self.replay.sample(b, &mut self.rng, &mut self.batch)?;
        let batch = &self.batch;
        let next_obs = ArrayView2::from_shape((b, d), &batch.next_obs).expect("sampled b rows");
        let target_q = self.target.forward(next_obs, &mut self.next_caches)?;
        let chooser_q = if cfg.double_dqn {
            self.online.forward(next_obs, &mut self.next_caches)?
        } else {
            target_q.clone()
        };
        let targets: Vec<f32> = (0..b)
            .map(|i| {
                let mask = &batch.next_masks[i * n..(i + 1) * n];
                let row = chooser_q.row(i);
                let next_value = masked_argmax(row.as_slice().expect("contiguous"), Some(mask))
                    .map_or(0.0, |a| target_q[(i, a)] as f64);
                let not_done = 1.0 - batch.terminated[i] as f64;
                (batch.rewards[i] as f64 + cfg.gamma * not_done * next_value) as f32
            })
            .collect();
        let obs = ArrayView2::from_shape((b, d), &batch.obs).expect("sampled b rows");
        let q = self.online.forward(obs, &mut self.caches)?;
        let loss = huber_td_loss(q.view(), &batch.actions, &targets, cfg.huber_delta);
        check_finite("TD loss", &[loss.loss as f32])?;
        self.online
            .backward(&self.caches, loss.d_q.view(), &mut self.grads)?;
        let grad_norm = match cfg.max_grad_norm {
            Some(max) => clip_global_norm(&mut self.grads.iter_mut().collect::<Vec<_>>(), max)?,
            None => self
                .grads
                .iter()
                .map(|g| g.squared_norm())
                .sum::<f64>()
                .sqrt() as f32,
        };
        for ((part, adam), grads) in self
            .online
            .parts
            .iter_mut()
            .zip(&mut self.optimizers)
            .zip(&self.grads)
        {
            adam.step(part, grads)?;
        }
        self.gradient_updates += 1;
        Ok(LossStats {
            td_loss: loss.loss,
            mean_q: loss.mean_q,
            grad_norm: grad_norm as f64,
            gradient_steps: 1,
            epsilon: 0.0,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Single-env loop and evaluation
    // -----------------------------------------------------------------------------------------

    /// Trains for `total_steps` env steps on one env, continuing the agent's step count (so a
    /// second call goes on with the ε schedule where the first stopped): the training loop of
    /// [`crate::Trainer`] over a vector env of this one copy. Every episode's task is drawn by
    /// `task_source` from a stream seeded with `seed` (salted, so it is not the agent's own
    /// stream), and its reset seed comes from [`crate::episode_seed`]. Returns every finished
    /// episode.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] if the env's spaces do not match the agent (including a
    /// non-`Discrete` action space), [`StudentError::Env`] if the env rejects a task,
    /// [`StudentError::NonFinite`] for NaN observations or rewards.
    pub fn train<E, F>(
        &mut self,
        env: &mut E,
        total_steps: u64,
        seed: u64,
        task_source: F,
    ) -> Result<Vec<EpisodeRecord>>
    where
        E: Env<Obs = Vec<f32>, Action = usize> + Send,
        F: FnMut(&mut Pcg64) -> Vec<f64> + Send + 'static,
    {
        self.check_spaces(env)?;
        crate::trainer::train_single_env(self, env, total_steps, seed, task_source)
    }

    fn check_spaces<E: Env<Obs = Vec<f32>, Action = usize>>(&self, env: &E) -> Result<()> {
        let obs_ok = matches!(env.observation_space(), Space::Box(b) if b.len() == self.obs_dim());
        if !obs_ok {
            return Err(StudentError::ShapeMismatch {
                what: "env observation space",
                expected: format!("Box({})", self.obs_dim()),
                got: format!("{:?}", env.observation_space()),
            });
        }
        let actions_ok = matches!(
            env.action_space(),
            Space::Discrete { n } if *n == self.num_actions()
        );
        if !actions_ok {
            return Err(StudentError::ShapeMismatch {
                what: "env action space",
                expected: format!("Discrete({})", self.num_actions()),
                got: format!("{:?}", env.action_space()),
            });
        }
        Ok(())
    }

    /// Plays one greedy episode per task (env reset with `seed + i`, actions masked by the
    /// env's action mask) and returns the env's summaries: [`crate::evaluate`] on this one env.
    /// Does not change the agent.
    ///
    /// # Errors
    /// As [`DqnAgent::train`], and tasks outside the env's task space.
    pub fn evaluate<E>(
        &mut self,
        env: &mut E,
        tasks: &[Vec<f64>],
        seed: u64,
    ) -> Result<Vec<teachgym_core::EpisodeSummary>>
    where
        E: Env<Obs = Vec<f32>, Action = usize> + Send,
    {
        self.check_spaces(env)?;
        crate::eval::evaluate_single_env(self, env, tasks, seed)
    }
}

// ---------------------------------------------------------------------------------------------
// The iteration over the vector env
// ---------------------------------------------------------------------------------------------

/// DQN as a [`Student`] of the curriculum loop, CleanRL's `dqn.py` loop over N env copies: one
/// iteration = one lock-step step of every copy with ε-greedy actions (masked by the envs'
/// action masks), N transitions into the replay buffer (bootstrapping from the true final
/// observation on truncation), then [`DqnAgent::learn`] at the new global step, which runs
/// every gradient step and target update the schedule placed on the steps just taken.
impl<E> Student<E> for DqnAgent
where
    E: Env<Obs = Vec<f32>, Action = usize> + Send,
{
    type Action = usize;

    fn name(&self) -> &'static str {
        "dqn"
    }

    fn steps_per_iteration(&self, num_envs: usize) -> u64 {
        num_envs as u64
    }

    fn check_env(&self, env: &E) -> Result<()> {
        self.check_spaces(env)
    }

    fn train_iteration(&mut self, envs: &mut VecEnv<E, usize>, clock: TrainClock) -> Result<()> {
        let obs: Vec<f32> = envs.observations().concat();
        let masks = envs.action_masks();
        let mut actions = Vec::with_capacity(envs.len());
        // The agent counts its own env steps (`learned_through`: in a `Trainer` run the vector
        // env's global step), so that a second single-env `train` call continues the schedules.
        // ε follows the env steps taken before this one (CleanRL's `global_step`).
        let steps_before = self.learned_through;
        self.select_actions(&obs, masks.as_deref(), steps_before, false, &mut actions)?;
        let steps = envs.step(&actions)?;
        let next_masks = envs.action_masks();
        let (d, n) = (self.obs_dim(), self.num_actions());
        for (i, step) in steps.iter().enumerate() {
            // CRUCIAL: on an episode end, the final observation (and its mask), not the reset's.
            let (next_obs, next_mask) = match &step.final_obs {
                Some(final_obs) => (final_obs.as_slice(), step.final_mask.as_deref()),
                None => (
                    envs.observations()[i].as_slice(),
                    next_masks.as_deref().map(|m| &m[i * n..(i + 1) * n]),
                ),
            };
            self.store(&Transition {
                obs: &obs[i * d..(i + 1) * d],
                action: actions[i],
                reward: step.reward as f32,
                next_obs,
                terminated: step.terminated,
                next_mask,
            })?;
        }
        if self.config().anneal_lr {
            let lr = self.config().learning_rate_at(clock);
            for adam in &mut self.optimizers {
                adam.set_learning_rate(lr)?;
            }
        }
        self.learn(steps_before + envs.len() as u64)?;
        Ok(())
    }

    /// The largest Q-value of `obs`.
    fn value_estimate(&mut self, obs: &Vec<f32>) -> Result<f64> {
        let q = self.q_values(obs)?;
        Ok(q.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64)
    }

    fn act_greedy(&mut self, obs: &Vec<f32>, mask: Option<&[bool]>) -> Result<usize> {
        let mut out = Vec::with_capacity(1);
        self.select_actions(obs, mask, 0, true, &mut out)?;
        Ok(out[0])
    }

    fn to_json(&self) -> String {
        DqnAgent::to_json(self)
    }

    fn from_json(text: &str) -> Result<Self> {
        DqnAgent::from_json(text)
    }
}

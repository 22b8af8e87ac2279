//! Deep Q-Networks (Mnih et al., 2015) for discrete actions, read top to bottom as CleanRL's
//! `dqn.py`: **config → Q-network → acting (ε-greedy) → storing → learning**, then the
//! single-env loop and checkpoints.
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

use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{Env, Space};

use crate::activation::Activation;
use crate::adam::{Adam, AdamConfig};
use crate::checkpoint::Checkpoint;
use crate::error::{check_counts, check_finite, Result, StudentError};
use crate::gradients::{clip_global_norm, Gradients};
use crate::init::Init;
use crate::mlp::{ForwardCache, Mlp, MlpConfig};
use crate::ppo::EpisodeStats;
use crate::replay::{ReplayBatch, ReplayBuffer, Transition};
use crate::student::{annealed_learning_rate, TrainClock};

mod vectorised;

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

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
/// Version of the [`DqnAgent::to_json`] format.
pub const DQN_CHECKPOINT_VERSION: u32 = 1;

/// Hyper-parameters of DQN. `Default` gives CleanRL's `dqn.py` values, with SB3's Huber loss and
/// gradient clipping and double-DQN targets (differences are noted per field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DqnConfig {
    /// Hidden widths of the Q-network (ReLU). Default: [`DEFAULT_HIDDEN_SIZES`].
    pub hidden_sizes: Vec<usize>,
    /// Adam step size. Default: [`DEFAULT_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Adam ε. Default: [`DEFAULT_ADAM_EPSILON`].
    pub adam_epsilon: f32,
    /// Replay capacity (transitions). Default: [`DEFAULT_BUFFER_SIZE`].
    pub buffer_size: usize,
    /// Discount γ ∈ [0, 1]. Default: [`DEFAULT_GAMMA`].
    pub gamma: f64,
    /// Target update `θ' ← τ·θ + (1 − τ)·θ'`, τ ∈ (0, 1]. Default: [`DEFAULT_TAU`].
    pub tau: f32,
    /// Steps between target updates (≥ 1). Default: [`DEFAULT_TARGET_UPDATE_INTERVAL`].
    pub target_update_interval: u64,
    /// Transitions per gradient step (sampled with replacement). Default: [`DEFAULT_BATCH_SIZE`].
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
    /// Gradient steps per training round (≥ 1). Default: [`DEFAULT_GRADIENT_STEPS`].
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
        if self.hidden_sizes.contains(&0) {
            return bad(
                "hidden_sizes",
                format!("widths must be ≥ 1, got {:?}", self.hidden_sizes),
            );
        }
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
// Q-network: an MLP, or a trunk with dueling value and advantage heads
// ---------------------------------------------------------------------------------------------

/// `parts[0]` maps observations to Q-values, or for a dueling network to features, with
/// `parts[1]` the value head (features → 1) and `parts[2]` the advantage head (features → n).
#[derive(Debug, Clone, PartialEq)]
struct QNetwork {
    parts: Vec<Mlp>,
}

/// Forward caches of each part of a [`QNetwork`].
#[derive(Debug, Clone, Default)]
struct QCaches {
    parts: Vec<ForwardCache>,
}

impl QNetwork {
    /// PyTorch's default `nn.Linear` initialisation (CleanRL and SB3 DQN), parts drawn in order.
    fn new(
        obs_dim: usize,
        hidden: &[usize],
        activation: Activation,
        num_actions: usize,
        dueling: bool,
        rng: &mut Pcg64,
    ) -> Result<Self> {
        let init = Init::ScaledUniform { scale: 1.0 };
        if !dueling {
            let config = MlpConfig::new(obs_dim, hidden, activation, num_actions).with_init(init);
            return Ok(QNetwork {
                parts: vec![Mlp::new(config, rng)?],
            });
        }
        let (&features, trunk_hidden) = hidden.split_last().ok_or(StudentError::InvalidConfig {
            field: "hidden_sizes",
            reason: "a dueling head needs at least one hidden layer".into(),
        })?;
        let mut trunk = MlpConfig::new(obs_dim, trunk_hidden, activation, features).with_init(init);
        if let Some(last) = trunk.layers.last_mut() {
            last.activation = activation;
        }
        let value = MlpConfig::new(features, &[], activation, 1).with_init(init);
        let advantage = MlpConfig::new(features, &[], activation, num_actions).with_init(init);
        Ok(QNetwork {
            parts: vec![
                Mlp::new(trunk, rng)?,
                Mlp::new(value, rng)?,
                Mlp::new(advantage, rng)?,
            ],
        })
    }

    fn is_dueling(&self) -> bool {
        self.parts.len() == 3
    }

    fn obs_dim(&self) -> usize {
        self.parts[0].inputs()
    }

    fn num_actions(&self) -> usize {
        self.parts[self.parts.len() - 1].outputs()
    }

    /// Hidden widths, as in the config that built it.
    fn hidden_sizes(&self) -> Vec<usize> {
        let sizes = self.parts[0].config().layer_sizes();
        let end = if self.is_dueling() {
            sizes.len()
        } else {
            sizes.len() - 1
        };
        sizes[1..end].to_vec()
    }

    /// Q-values (`batch × num_actions`), keeping activations in `caches` for backprop.
    fn forward(&self, input: ArrayView2<'_, f32>, caches: &mut QCaches) -> Result<Array2<f32>> {
        caches
            .parts
            .resize_with(self.parts.len(), ForwardCache::default);
        let (trunk_cache, head_caches) = caches.parts.split_at_mut(1);
        let out = self.parts[0].forward(input, &mut trunk_cache[0])?;
        if !self.is_dueling() {
            return Ok(out.to_owned());
        }
        let (value_cache, advantage_cache) = head_caches.split_at_mut(1);
        let value = self.parts[1].forward(out.view(), &mut value_cache[0])?;
        let advantage = self.parts[2].forward(out, &mut advantage_cache[0])?;
        let n = advantage.ncols() as f32;
        let mut q = advantage.to_owned();
        for (mut row, v) in q.rows_mut().into_iter().zip(value.column(0)) {
            let mean = row.sum() / n;
            row.mapv_inplace(|a| v + a - mean);
        }
        Ok(q)
    }

    /// Q-values without keeping activations (targets, acting).
    fn predict(&self, input: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.forward(input, &mut QCaches::default())
    }

    /// Backprop of `d_q` (`∂loss/∂Q`) into `grads` (one per part). For the dueling combination
    /// `Q_j = V + A_j − mean_k A_k`: `∂/∂V = Σ_j ∂/∂Q_j`, `∂/∂A_k = ∂/∂Q_k − (1/n)·Σ_j ∂/∂Q_j`.
    fn backward(
        &self,
        caches: &QCaches,
        d_q: ArrayView2<'_, f32>,
        grads: &mut [Gradients],
    ) -> Result<()> {
        if !self.is_dueling() {
            return Ok(self.parts[0].backward(&caches.parts[0], d_q, &mut grads[0])?);
        }
        let n = d_q.ncols() as f32;
        let d_value = d_q.sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1));
        let mut d_advantage = d_q.to_owned();
        for (mut row, &total) in d_advantage.rows_mut().into_iter().zip(d_value.iter()) {
            row.mapv_inplace(|g| g - total / n);
        }
        let (trunk_grads, head_grads) = grads.split_at_mut(1);
        let d_features_v = self.parts[1].backward_with_input_gradient(
            &caches.parts[1],
            d_value.view(),
            &mut head_grads[0],
        )?;
        let d_features_a = self.parts[2].backward_with_input_gradient(
            &caches.parts[2],
            d_advantage.view(),
            &mut head_grads[1],
        )?;
        let d_features = d_features_v + d_features_a;
        Ok(self.parts[0].backward(&caches.parts[0], d_features.view(), &mut trunk_grads[0])?)
    }

    /// `θ' ← τ·θ + (1 − τ)·θ'`; τ = 1 copies exactly.
    fn update_towards(&mut self, online: &QNetwork, tau: f32) {
        if tau == 1.0 {
            self.clone_from(online);
            return;
        }
        for (target, source) in self.parts.iter_mut().zip(&online.parts) {
            for (t, s) in target
                .parameter_slices_mut()
                .into_iter()
                .zip(source.parameter_slices())
            {
                t.iter_mut()
                    .zip(s)
                    .for_each(|(t, &s)| *t = tau * s + (1.0 - tau) * *t);
            }
        }
    }
}

/// Index of the largest value among the legal ones (the first on ties, as `torch.argmax`), or
/// `None` if no action is legal.
pub(crate) fn masked_argmax(values: &[f32], mask: Option<&[bool]>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if mask.is_some_and(|m| !m[i]) {
            continue;
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// What [`run_learning_schedule`] asks its caller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScheduleEvent {
    /// One gradient step on a replay minibatch.
    GradientStep,
    /// Move the target network towards the online one.
    TargetUpdate,
}

/// DQN's learning schedule, shared by every DQN-trained student: for each global step after
/// `*learned_through` (and after `learning_starts`) up to `global_step`, `gradient_steps`
/// gradient steps at each multiple of `train_frequency` (if the replay buffer holds data) and a
/// target update at each multiple of `target_update_interval`, training first (CleanRL).
/// Advances `*learned_through` to `global_step` and returns the last gradient step's
/// diagnostics with the call's totals, or `None` if none was due.
pub(crate) fn run_learning_schedule(
    config: &DqnConfig,
    learned_through: &mut u64,
    global_step: u64,
    has_data: bool,
    mut on: impl FnMut(ScheduleEvent) -> Result<Option<LossStats>>,
) -> Result<Option<LossStats>> {
    let from = (*learned_through).max(config.learning_starts);
    *learned_through = (*learned_through).max(global_step);
    let mut stats: Option<LossStats> = None;
    let mut steps_taken = 0;
    for step in from + 1..=global_step {
        if step % config.train_frequency == 0 && has_data {
            for _ in 0..config.gradient_steps {
                stats = on(ScheduleEvent::GradientStep)?;
                steps_taken += 1;
            }
        }
        if step % config.target_update_interval == 0 {
            on(ScheduleEvent::TargetUpdate)?;
        }
    }
    Ok(stats.map(|s| LossStats {
        gradient_steps: steps_taken,
        epsilon: config.epsilon(global_step),
        ..s
    }))
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
    learned_through: u64,
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
    /// second call goes on with the ε schedule where the first stopped). Every episode is reset
    /// on a task drawn by `task_source` from a task RNG seeded with `seed`; the first reset seeds
    /// the env with `seed`. Returns every finished episode.
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
        mut task_source: F,
    ) -> Result<Vec<EpisodeStats>>
    where
        E: Env<Obs = Vec<f32>, Action = usize>,
        F: FnMut(&mut Pcg64) -> Vec<f64>,
    {
        self.check_spaces(env)?;
        let mut task_rng = Pcg64::seed_from_u64(seed.wrapping_add(0x7a5c_0000));
        let mut task = task_source(&mut task_rng);
        let (mut obs, _) = env.reset(Some(seed), &task)?;
        let mut episodes = Vec::new();
        let mut actions = Vec::with_capacity(1);
        let start = self.learned_through;
        for global_step in start + 1..=start + total_steps {
            self.select_actions(&obs, None, global_step, false, &mut actions)?;
            let step = env.step(&actions[0])?;
            // CRUCIAL: `next_obs` is the true final observation even on truncation.
            self.store(&Transition {
                obs: &obs,
                action: actions[0],
                reward: step.reward as f32,
                next_obs: &step.obs,
                terminated: step.terminated,
                next_mask: None,
            })?;
            if step.terminated || step.truncated {
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
                obs = env.reset(None, &task)?.0;
            } else {
                obs = step.obs;
            }
            self.learn(global_step)?;
        }
        Ok(episodes)
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

    /// Plays one greedy episode per task (env reset with `seed + i`) and returns the env's
    /// summaries. Does not change the agent.
    ///
    /// # Errors
    /// As [`DqnAgent::train`].
    pub fn evaluate<E>(
        &mut self,
        env: &mut E,
        tasks: &[Vec<f64>],
        seed: u64,
    ) -> Result<Vec<teachgym_core::EpisodeSummary>>
    where
        E: Env<Obs = Vec<f32>, Action = usize>,
    {
        self.check_spaces(env)?;
        let mut summaries = Vec::with_capacity(tasks.len());
        let mut actions = Vec::with_capacity(1);
        for (i, task) in tasks.iter().enumerate() {
            let (mut obs, _) = env.reset(Some(seed.wrapping_add(i as u64)), task)?;
            loop {
                self.select_actions(&obs, None, self.learned_through, true, &mut actions)?;
                let step = env.step(&actions[0])?;
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
    // Checkpoints
    // -----------------------------------------------------------------------------------------

    /// The whole learner state (online and target networks, Adam, replay buffer, RNG, step
    /// counters) as JSON; every float round-trips exactly.
    pub fn to_json(&self) -> String {
        let state = DqnCheckpoint {
            format_version: DQN_CHECKPOINT_VERSION,
            config: self.config.clone(),
            online: self
                .online
                .parts
                .iter()
                .zip(&self.optimizers)
                .map(|(part, adam)| Checkpoint::capture(part, Some(adam)))
                .collect(),
            target: self
                .target
                .parts
                .iter()
                .map(|part| Checkpoint::capture(part, None))
                .collect(),
            replay: self.replay.clone(),
            rng: self.rng.clone(),
            learned_through: self.learned_through,
            gradient_updates: self.gradient_updates,
        };
        serde_json::to_string(&state).expect("a DQN checkpoint has only plain values")
    }

    /// Restores an agent written by [`DqnAgent::to_json`].
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`] for another version,
    /// [`StudentError::CorruptCheckpoint`] for unparsable or inconsistent text.
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let state: DqnCheckpoint =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if state.format_version != DQN_CHECKPOINT_VERSION {
            return Err(StudentError::UnsupportedCheckpointVersion {
                found: state.format_version,
                supported: DQN_CHECKPOINT_VERSION,
            });
        }
        let config = state.config;
        config
            .validate()
            .map_err(|e| corrupt(format!("config: {e}")))?;
        let expected_parts = if config.dueling { 3 } else { 1 };
        if state.online.len() != expected_parts || state.target.len() != expected_parts {
            return Err(corrupt(format!(
                "expected {expected_parts} network parts for dueling = {}",
                config.dueling
            )));
        }
        let mut online = QNetwork { parts: Vec::new() };
        let mut optimizers = Vec::new();
        for part in &state.online {
            let (net, adam) = part.restore()?;
            online.parts.push(net);
            optimizers.push(adam.ok_or_else(|| corrupt("optimiser state missing".into()))?);
        }
        let mut target = QNetwork { parts: Vec::new() };
        for part in &state.target {
            target.parts.push(part.restore()?.0);
        }
        // The restored parts must form the network this config builds.
        let reference = QNetwork::new(
            online.obs_dim(),
            &config.hidden_sizes,
            HIDDEN_ACTIVATION,
            online.num_actions(),
            config.dueling,
            &mut Pcg64::seed_from_u64(0),
        )?;
        let shape = |net: &QNetwork| -> Vec<MlpConfig> {
            net.parts.iter().map(|p| p.config().clone()).collect()
        };
        if shape(&online) != shape(&reference) || shape(&target) != shape(&reference) {
            return Err(corrupt(format!(
                "Q-networks do not match the config (hidden sizes {:?}, dueling {})",
                online.hidden_sizes(),
                config.dueling
            )));
        }
        if state.replay.capacity() != config.buffer_size {
            return Err(corrupt(format!(
                "replay capacity {} differs from buffer_size {}",
                state.replay.capacity(),
                config.buffer_size
            )));
        }
        state
            .replay
            .validate(online.obs_dim(), online.num_actions())?;
        Ok(DqnAgent {
            grads: online.parts.iter().map(Gradients::zeros_like).collect(),
            config,
            online,
            target,
            optimizers,
            replay: state.replay,
            rng: state.rng,
            learned_through: state.learned_through,
            gradient_updates: state.gradient_updates,
            caches: QCaches::default(),
            act_caches: QCaches::default(),
            next_caches: QCaches::default(),
            batch: ReplayBatch::default(),
        })
    }
}

/// Serialised form of a [`DqnAgent`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DqnCheckpoint {
    format_version: u32,
    config: DqnConfig,
    online: Vec<Checkpoint>,
    target: Vec<Checkpoint>,
    replay: ReplayBuffer,
    rng: Pcg64,
    learned_through: u64,
    gradient_updates: u64,
}

// ---------------------------------------------------------------------------------------------
// Loss and its hand-derived gradient
// ---------------------------------------------------------------------------------------------

/// TD loss of a minibatch and its gradient.
pub(crate) struct TdLoss {
    /// `mean_b huber_δ(Q(s_b, a_b) − y_b)`.
    pub(crate) loss: f64,
    /// ∂loss/∂Q (`batch × num_actions`, non-zero only at the actions taken).
    pub(crate) d_q: Array2<f32>,
    /// Mean of `Q(s_b, a_b)`.
    pub(crate) mean_q: f64,
}

/// Huber loss `huber_δ(x) = ½x²` for `|x| ≤ δ`, else `δ(|x| − ½δ)`, of the TD errors
/// `x_b = Q(s_b, a_b) − y_b`, averaged over the batch: `∂/∂Q(s_b, a_b) = clamp(x_b, ±δ)/B`.
pub(crate) fn huber_td_loss(
    q: ArrayView2<'_, f32>,
    actions: &[usize],
    targets: &[f32],
    delta: f32,
) -> TdLoss {
    let batch = q.nrows();
    let delta = delta as f64;
    let mut d_q = Array2::zeros(q.dim());
    let (mut loss, mut mean_q) = (0.0, 0.0);
    for b in 0..batch {
        let value = q[(b, actions[b])] as f64;
        let error = value - targets[b] as f64;
        loss += if error.abs() <= delta {
            0.5 * error * error
        } else {
            delta * (error.abs() - 0.5 * delta)
        } / batch as f64;
        mean_q += value / batch as f64;
        d_q[(b, actions[b])] = (error.clamp(-delta, delta) / batch as f64) as f32;
    }
    TdLoss { loss, d_q, mean_q }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teachgym_envs::{GridWorldConfig, GridWorldEnv, PointMassConfig, PointMassEnv};

    fn small() -> DqnConfig {
        DqnConfig {
            hidden_sizes: vec![16, 16],
            buffer_size: 500,
            batch_size: 16,
            learning_starts: 50,
            train_frequency: 2,
            target_update_interval: 40,
            exploration_steps: 300,
            ..DqnConfig::default()
        }
    }

    fn grid_task(rng: &mut Pcg64) -> Vec<f64> {
        GridWorldConfig::default().task_space().unwrap().sample(rng)
    }

    #[test]
    fn defaults_match_the_documented_constants_and_parse_from_partial_json() {
        let c = DqnConfig::default();
        assert_eq!(c.hidden_sizes, DEFAULT_HIDDEN_SIZES.to_vec());
        assert_eq!(
            (
                c.buffer_size,
                c.batch_size,
                c.learning_starts,
                c.train_frequency
            ),
            (10_000, 128, 10_000, 10)
        );
        assert_eq!((c.target_update_interval, c.tau), (500, 1.0));
        assert!(c.double_dqn && !c.dueling);
        c.validate().unwrap();
        let partial: DqnConfig = serde_json::from_str(r#"{"batch_size": 32}"#).unwrap();
        assert_eq!(
            partial,
            DqnConfig {
                batch_size: 32,
                ..DqnConfig::default()
            }
        );
        assert!(serde_json::from_str::<DqnConfig>(r#"{"batchsize": 32}"#).is_err());
    }

    #[test]
    fn epsilon_decays_linearly_then_stays() {
        let c = DqnConfig {
            start_epsilon: 1.0,
            end_epsilon: 0.1,
            exploration_steps: 100,
            ..DqnConfig::default()
        };
        assert_eq!(c.epsilon(0), 1.0);
        assert!((c.epsilon(50) - 0.55).abs() < 1e-12);
        assert!((c.epsilon(100) - 0.1).abs() < 1e-12);
        assert_eq!(c.epsilon(10_000), 0.1);
        let none = DqnConfig {
            exploration_steps: 0,
            ..c
        };
        assert_eq!(none.epsilon(0), 0.1);
    }

    #[test]
    fn learning_rate_anneals_linearly_only_when_asked() {
        let clock = |global_step| TrainClock {
            global_step,
            total_steps: 1000,
        };
        let constant = DqnConfig {
            learning_rate: 1e-3,
            ..DqnConfig::default()
        };
        assert!(!constant.anneal_lr);
        assert_eq!(constant.learning_rate_at(clock(0)), 1e-3);
        assert_eq!(constant.learning_rate_at(clock(900)), 1e-3);
        let annealed = DqnConfig {
            anneal_lr: true,
            ..constant
        };
        assert_eq!(annealed.learning_rate_at(clock(0)), 1e-3);
        assert!((annealed.learning_rate_at(clock(750)) - 2.5e-4).abs() < 1e-9);
        assert_eq!(annealed.learning_rate_at(clock(1000)), 0.0);
        let parsed: DqnConfig = serde_json::from_str(r#"{"anneal_lr": true}"#).unwrap();
        assert!(parsed.anneal_lr);
    }

    #[test]
    fn bad_configs_are_typed_errors() {
        let cases: Vec<(&str, DqnConfig)> = vec![
            (
                "hidden_sizes",
                DqnConfig {
                    hidden_sizes: vec![8, 0],
                    ..small()
                },
            ),
            (
                "hidden_sizes",
                DqnConfig {
                    hidden_sizes: vec![],
                    dueling: true,
                    ..small()
                },
            ),
            (
                "buffer_size",
                DqnConfig {
                    buffer_size: 0,
                    ..small()
                },
            ),
            (
                "batch_size",
                DqnConfig {
                    batch_size: 0,
                    ..small()
                },
            ),
            (
                "train_frequency",
                DqnConfig {
                    train_frequency: 0,
                    ..small()
                },
            ),
            (
                "target_update_interval",
                DqnConfig {
                    target_update_interval: 0,
                    ..small()
                },
            ),
            (
                "gamma",
                DqnConfig {
                    gamma: f64::NAN,
                    ..small()
                },
            ),
            (
                "end_epsilon",
                DqnConfig {
                    end_epsilon: 1.5,
                    ..small()
                },
            ),
            (
                "tau",
                DqnConfig {
                    tau: 0.0,
                    ..small()
                },
            ),
            (
                "huber_delta",
                DqnConfig {
                    huber_delta: -1.0,
                    ..small()
                },
            ),
            (
                "max_grad_norm",
                DqnConfig {
                    max_grad_norm: Some(f32::INFINITY),
                    ..small()
                },
            ),
            (
                "learning_rate",
                DqnConfig {
                    learning_rate: 0.0,
                    ..small()
                },
            ),
        ];
        for (field, config) in cases {
            match DqnAgent::new(config, 10, 4, 0) {
                Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
        assert!(matches!(
            DqnAgent::new(small(), 10, 0, 0),
            Err(StudentError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn bad_observations_masks_and_envs_are_typed_errors() {
        let mut agent = DqnAgent::new(small(), 10, 4, 0).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            agent.select_actions(&[0.0; 15], None, 0, false, &mut out),
            Err(StudentError::ShapeMismatch { .. })
        ));
        let mut obs = [0.0f32; 20];
        obs[13] = f32::NAN;
        assert!(matches!(
            agent.select_actions(&obs, None, 0, false, &mut out),
            Err(StudentError::NonFinite { index: 13, .. })
        ));
        let mut masks = [true; 8];
        assert!(matches!(
            agent.select_actions(&[0.0; 20], Some(&masks[..7]), 0, false, &mut out),
            Err(StudentError::ShapeMismatch { .. })
        ));
        masks[4..].fill(false);
        assert_eq!(
            agent.select_actions(&[0.0; 20], Some(&masks), 0, false, &mut out),
            Err(StudentError::NoLegalAction { row: 1 })
        );
        // A continuous-action env is refused, as is an env of another observation width.
        let mut point_mass = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let mut continuous = DqnAgent::new(small(), 6, 2, 0).unwrap();
        let err = continuous
            .evaluate_box_env(&mut point_mass)
            .expect_err("Box actions are not Discrete");
        assert!(matches!(
            err,
            StudentError::ShapeMismatch {
                what: "env action space",
                ..
            }
        ));
        let mut grid = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let mut wrong = DqnAgent::new(small(), 11, 4, 0).unwrap();
        assert!(matches!(
            wrong.train(&mut grid, 10, 0, grid_task),
            Err(StudentError::ShapeMismatch { .. })
        ));
        let mut right = DqnAgent::new(small(), 12, 4, 0).unwrap();
        assert!(matches!(
            right.train(&mut grid, 10, 0, |_| vec![50.0, 0.1]),
            Err(StudentError::Env(
                teachgym_core::Error::TaskOutOfBounds { .. }
            ))
        ));
    }

    impl DqnAgent {
        /// The space check of `train` applied to a continuous env (which `train` itself cannot
        /// take, its action type being `[f32]`): an adapter with a `usize` action type.
        fn evaluate_box_env(&mut self, env: &mut PointMassEnv) -> Result<()> {
            struct AsDiscrete<'a>(&'a mut PointMassEnv);
            impl Env for AsDiscrete<'_> {
                type Obs = Vec<f32>;
                type Action = usize;
                fn task_space(&self) -> &teachgym_core::TaskSpace {
                    self.0.task_space()
                }
                fn observation_space(&self) -> &Space {
                    self.0.observation_space()
                }
                fn action_space(&self) -> &Space {
                    self.0.action_space()
                }
                fn reset(
                    &mut self,
                    seed: Option<u64>,
                    task: &[f64],
                ) -> teachgym_core::Result<(Vec<f32>, teachgym_core::Info)> {
                    self.0.reset(seed, task)
                }
                fn step(
                    &mut self,
                    a: &usize,
                ) -> teachgym_core::Result<teachgym_core::Step<Vec<f32>>> {
                    self.0.step(&[*a as f32, 0.0])
                }
                fn render(&self) -> teachgym_core::Result<teachgym_core::RgbFrame> {
                    self.0.render()
                }
            }
            self.train(&mut AsDiscrete(env), 10, 0, |_| vec![0.5, 1.0])
                .map(|_| ())
        }
    }

    #[test]
    fn masks_restrict_greedy_and_random_choices() {
        let mut agent = DqnAgent::new(small(), 10, 4, 3).unwrap();
        let mut rng = Pcg64::seed_from_u64(1);
        let obs: Vec<f32> = (0..10 * 64).map(|_| rng.random::<f32>() - 0.5).collect();
        let masks: Vec<bool> = (0..4 * 64).map(|i| i % 4 == (i / 4) % 3 + 1).collect();
        let mut out = Vec::new();
        for deterministic in [true, false] {
            agent
                .select_actions(&obs, Some(&masks), 0, deterministic, &mut out)
                .unwrap();
            assert_eq!(out.len(), 64);
            for (r, &a) in out.iter().enumerate() {
                assert!(masks[r * 4 + a], "row {r} chose illegal action {a}");
            }
        }
        // Without masks, ε = 1 explores every action; greedy picks the argmax of Q.
        agent
            .select_actions(&obs, None, 0, false, &mut out)
            .unwrap();
        for a in 0..4 {
            assert!(out.contains(&a));
        }
        agent
            .select_actions(&obs[..10], None, 0, true, &mut out)
            .unwrap();
        let q = agent.q_values(&obs[..10]).unwrap();
        assert_eq!(out[0], masked_argmax(&q, None).unwrap());
    }

    #[test]
    fn masked_argmax_skips_illegal_actions_and_takes_the_first_tie() {
        assert_eq!(masked_argmax(&[1.0, 3.0, 3.0, 0.0], None), Some(1));
        assert_eq!(
            masked_argmax(&[1.0, 3.0, 3.0, 0.0], Some(&[true, false, false, true])),
            Some(0)
        );
        assert_eq!(masked_argmax(&[1.0], Some(&[false])), None);
    }

    #[test]
    fn huber_td_loss_gradient_matches_finite_differences() {
        let q = Array2::from_shape_vec(
            (5, 3),
            vec![
                0.5, -1.0, 2.0, 0.3, 1.2, -0.4, 0.0, 0.1, 0.2, 3.0, -2.0, 1.0, 0.7, 0.7, 0.7,
            ],
        )
        .unwrap();
        let actions = [0, 2, 1, 0, 2];
        // Errors: 0.5 − 0.2 (quadratic), −0.4 − 1.5 (linear), 0.1 + 0.3, 3 − 0.4, 0.7 − 0.9.
        let targets = [0.2, 1.5, -0.3, 0.4, 0.9];
        let analytic = huber_td_loss(q.view(), &actions, &targets, 1.0);
        let h = 1e-3f32;
        for b in 0..q.nrows() {
            for a in 0..q.ncols() {
                let (mut plus, mut minus) = (q.clone(), q.clone());
                plus[(b, a)] += h;
                minus[(b, a)] -= h;
                let numeric = (huber_td_loss(plus.view(), &actions, &targets, 1.0).loss
                    - huber_td_loss(minus.view(), &actions, &targets, 1.0).loss)
                    / (2.0 * h as f64);
                let exact = analytic.d_q[(b, a)] as f64;
                assert!(
                    (exact - numeric).abs() < 1e-4,
                    "({b}, {a}): {exact} vs {numeric}"
                );
            }
        }
        // Linear branch: |error| > δ gives a gradient of ±δ/B.
        assert!((analytic.d_q[(1, 2)] + 0.2).abs() < 1e-7);
    }

    /// Central differences of the TD loss through the whole dueling network (tanh, so no kinks)
    /// against the analytic backprop of every parameter.
    #[test]
    fn dueling_network_gradients_match_finite_differences() {
        let mut rng = Pcg64::seed_from_u64(5);
        let mut net = QNetwork::new(4, &[6, 5], Activation::Tanh, 3, true, &mut rng).unwrap();
        let x = Array2::from_shape_fn((7, 4), |_| rng.random::<f32>() * 2.0 - 1.0);
        let actions = [0, 1, 2, 2, 1, 0, 1];
        let targets = [0.5, -0.3, 1.5, 0.0, -2.0, 0.2, 0.1];
        let loss_of = |net: &QNetwork| {
            huber_td_loss(
                net.predict(x.view()).unwrap().view(),
                &actions,
                &targets,
                0.5,
            )
            .loss
        };
        let mut caches = QCaches::default();
        let q = net.forward(x.view(), &mut caches).unwrap();
        let d_q = huber_td_loss(q.view(), &actions, &targets, 0.5).d_q;
        let mut grads: Vec<Gradients> = net.parts.iter().map(Gradients::zeros_like).collect();
        net.backward(&caches, d_q.view(), &mut grads).unwrap();
        let eps = 1e-3f32;
        let mut checked = 0;
        for (p, part_grads) in grads.iter().enumerate() {
            let analytic: Vec<Vec<f32>> = part_grads.slices().iter().map(|s| s.to_vec()).collect();
            for (t, tensor) in analytic.iter().enumerate() {
                for (i, &exact) in tensor.iter().enumerate() {
                    let original = net.parts[p].parameter_slices_mut()[t][i];
                    net.parts[p].parameter_slices_mut()[t][i] = original + eps;
                    let plus = loss_of(&net);
                    net.parts[p].parameter_slices_mut()[t][i] = original - eps;
                    let minus = loss_of(&net);
                    net.parts[p].parameter_slices_mut()[t][i] = original;
                    let numeric = (plus - minus) / (2.0 * eps as f64);
                    let tol = 2e-4 + 1e-2 * numeric.abs();
                    assert!(
                        (numeric - exact as f64).abs() <= tol,
                        "part {p} tensor {t} element {i}: {exact} vs {numeric}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, (4 * 6 + 6 + 6 * 5 + 5) + (5 + 1) + (5 * 3 + 3));
        // The dueling combination: subtracting the mean advantage leaves V as the mean of Q.
        let value = net.parts[1]
            .predict(net.parts[0].predict(x.view()).unwrap().view())
            .unwrap();
        for (row, v) in q.rows().into_iter().zip(value.column(0)) {
            assert!((row.sum() / 3.0 - v).abs() < 1e-5);
        }
    }

    #[test]
    fn learn_follows_the_schedule_for_any_stride() {
        let config = DqnConfig {
            learning_starts: 10,
            train_frequency: 4,
            gradient_steps: 2,
            target_update_interval: 8,
            ..small()
        };
        let mut agent = DqnAgent::new(config.clone(), 3, 2, 0).unwrap();
        let t = Transition {
            obs: &[0.1, 0.2, 0.3],
            action: 1,
            reward: 1.0,
            next_obs: &[0.0, 0.1, 0.2],
            terminated: false,
            next_mask: None,
        };
        agent.store(&t).unwrap();
        assert_eq!(agent.learn(10).unwrap(), None);
        assert_eq!(agent.target, agent.online);
        // Steps 11..=12: one round (12) of two gradient steps.
        let stats = agent.learn(12).unwrap().unwrap();
        assert_eq!((stats.gradient_steps, agent.gradient_updates()), (2, 2));
        assert_ne!(agent.target, agent.online);
        // Steps 13..=16: a round at 16 and a target copy at 16.
        agent.learn(16).unwrap().unwrap();
        assert_eq!(agent.gradient_updates(), 4);
        assert_eq!(agent.target, agent.online);
        // A stride of 9 (17..=25): rounds at 20 and 24, target copies at 24.
        let stats = agent.learn(25).unwrap().unwrap();
        assert_eq!((stats.gradient_steps, agent.gradient_updates()), (4, 8));
        assert_eq!(agent.target, agent.online);
        // Going back in time does nothing.
        assert_eq!(agent.learn(20).unwrap(), None);
        assert_eq!(agent.global_step(), 25);

        // Polyak averaging moves the target by τ of the gap.
        let mut soft = DqnAgent::new(
            DqnConfig {
                tau: 0.25,
                ..config
            },
            3,
            2,
            0,
        )
        .unwrap();
        soft.store(&t).unwrap();
        let before = soft.target.clone();
        soft.learn(14).unwrap();
        let w = |net: &QNetwork| net.parts[0].parameter_slices()[0][0];
        soft.learn(16).unwrap();
        let expected = 0.25 * w(&soft.online) + 0.75 * w(&before);
        assert!((w(&soft.target) - expected).abs() < 1e-7);
    }

    #[test]
    fn targets_bootstrap_on_truncation_but_not_on_termination_and_respect_masks() {
        // One transition, γ = 0.5, a target network equal to the online one (no update yet):
        // the TD target is r + γ·Q'(s', best legal a') only when the transition did not
        // terminate. The mask allows only the worse next action, so ignoring it would be seen.
        for terminated in [false, true] {
            let config = DqnConfig {
                gamma: 0.5,
                learning_starts: 0,
                train_frequency: 1,
                batch_size: 1,
                huber_delta: 100.0,
                ..small()
            };
            let mut agent = DqnAgent::new(config, 2, 2, 7).unwrap();
            let next = [0.3f32, -0.8];
            let q_next = agent.q_values(&next).unwrap();
            assert_ne!(q_next[0], q_next[1]);
            let worse = if q_next[0] < q_next[1] { 0 } else { 1 };
            let mut mask = [false; 2];
            mask[worse] = true;
            agent
                .store(&Transition {
                    obs: &[0.5, 0.5],
                    action: 0,
                    reward: 1.0,
                    next_obs: &next,
                    terminated,
                    next_mask: Some(&mask),
                })
                .unwrap();
            let q_now = agent.q_values(&[0.5, 0.5]).unwrap()[0] as f64;
            let bootstrap = if terminated {
                0.0
            } else {
                0.5 * q_next[worse] as f64
            };
            let expected = 0.5 * (q_now - (1.0 + bootstrap)).powi(2);
            let stats = agent.learn(1).unwrap().unwrap();
            assert!(
                (stats.td_loss - expected).abs() < 1e-6,
                "terminated = {terminated}: {} vs {expected}",
                stats.td_loss
            );
        }
    }

    #[test]
    fn checkpoint_round_trips_and_continues_identically() {
        for dueling in [false, true] {
            let config = DqnConfig {
                dueling,
                tau: 0.5,
                ..small()
            };
            let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
            let mut agent = DqnAgent::new(config, 12, 4, 4).unwrap();
            agent.train(&mut env, 300, 1, grid_task).unwrap();
            assert!(agent.gradient_updates() > 0);
            let json = agent.to_json();
            let mut restored = DqnAgent::from_json(&json).unwrap();
            assert_eq!(restored.to_json(), json);
            let a = agent.train(&mut env, 300, 2, grid_task).unwrap();
            let mut env2 = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
            let b = restored.train(&mut env2, 300, 2, grid_task).unwrap();
            assert_eq!(a, b);
            assert_eq!(agent.to_json(), restored.to_json());
        }
    }

    #[test]
    fn same_seed_same_run_different_seed_different_run() {
        let run = |seed| {
            let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
            let mut agent = DqnAgent::new(small(), 12, 4, seed).unwrap();
            agent.train(&mut env, 200, seed, grid_task).unwrap();
            agent.to_json()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn corrupt_checkpoints_are_typed_errors() {
        let mut agent = DqnAgent::new(small(), 12, 4, 4).unwrap();
        let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        agent.train(&mut env, 60, 0, grid_task).unwrap();
        let json = agent.to_json();
        assert!(matches!(
            DqnAgent::from_json("{"),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        assert!(matches!(
            DqnAgent::from_json(&json.replacen("\"format_version\":1", "\"format_version\":7", 1)),
            Err(StudentError::UnsupportedCheckpointVersion { found: 7, .. })
        ));
        let edits: Vec<(&str, serde_json::Value)> = vec![
            ("/config/hidden_sizes", serde_json::json!([8])),
            ("/config/dueling", serde_json::json!(true)),
            ("/config/buffer_size", serde_json::json!(7)),
            ("/config/gamma", serde_json::json!(2.0)),
            ("/replay/len", serde_json::json!(3)),
            ("/replay/actions/0", serde_json::json!(9)),
            ("/target", serde_json::json!([])),
        ];
        for (path, replacement) in edits {
            let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
            *value.pointer_mut(path).unwrap() = replacement;
            assert!(
                matches!(
                    DqnAgent::from_json(&value.to_string()),
                    Err(StudentError::CorruptCheckpoint { .. })
                ),
                "{path}"
            );
        }
    }
}

//! A QWeb-style DQN student for the web-form env ([`teachgym_envs::WebFormEnv`]), after Gur et
//! al., "Learning to Navigate the Web" (ICLR 2019): the Q-value of every composite action
//! `Click(element)` / `Type(element, field)` is computed from per-element and per-field
//! encodings with weights shared across elements and fields, so the network does not grow with
//! the number of element slots:
//!
//! 1. a learned token-embedding table (`vocab × embedding_dim`), mean-pooled per string;
//! 2. a field encoder `g_j = MLP_F([key_j, value_j])` and an element encoder
//!    `h_e = MLP_E([tag_e, text_e, name_e, value_e, features_e])` (tanh outputs);
//! 3. a pair head over every real (element, field): `MLP_P([h_e, g_j, match_je, sat_j]) =
//!    (Q(Type(e, j)), u_je)`, with the env's three QWeb word-overlap features `match_je` and
//!    `sat_j` = 1 if some element already holds field `j`'s value;
//! 4. a click head `Q(Click(e)) = MLP_C([h_e, mean_j u_je, progress, mean_j sat_j])`.
//!
//! Unlike QWeb there is no biLSTM over the element list and no gated deep/shallow mixture: the
//! overlap features enter the pair head directly. All backward passes are written by hand and
//! checked against finite differences.
//!
//! Training is DQN's, with the machinery of [`crate::dqn`]: double-DQN targets, a target network
//! updated every `target_update_interval` steps, the same learning schedule and ε schedule
//! (via [`QwebDqnConfig::schedule`]), the Huber TD loss, masked ε-greedy acting and targets that
//! maximise only over the next observation's legal actions. Differences from the grid-world
//! [`crate::DqnAgent`]: the network, and the replay buffer, which stores compact snapshots of the
//! observations (only the real fields and elements, token ids as `u16`) shared between
//! consecutive transitions instead of flat `f32` rows.
//!
//! Not read by the network: the sentence form of the instruction (`instr_text`; the values and
//! the word-overlap features still are), and element slots' positions beyond their features.
//!
//! # Example
//! ```
//! use teachgym_core::Env;
//! use teachgym_envs::{WebFormConfig, WebFormEnv};
//! use teachgym_students::qweb::{FormShape, QwebDqnAgent, QwebDqnConfig};
//! # fn main() -> Result<(), teachgym_students::StudentError> {
//! let env_config = WebFormConfig { max_fields: 3, max_pages: 1, ..WebFormConfig::default() };
//! let mut env = WebFormEnv::new(env_config.clone())?;
//! let agent = QwebDqnAgent::new(QwebDqnConfig::default(), FormShape::of(&env_config), 0)?;
//! let (obs, _) = env.reset(Some(1), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])?;
//! let q = agent.q_values(&obs)?;
//! assert_eq!(q.len(), env.n_actions());
//! # Ok(()) }
//! ```

mod network;
mod snapshot;

use std::borrow::Borrow;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use teachgym_core::Env;
use teachgym_envs::webform::MetaWebFormEnv;
use teachgym_envs::{WebFormConfig, WebFormEnv, WebFormMdEnv, WebFormObs};

use crate::adam::Adam;
use crate::checkpoint::Checkpoint;
use crate::dqn::{
    huber_td_loss, masked_argmax, run_learning_schedule, DqnConfig, LossStats, ScheduleEvent,
};
use crate::error::{check_finite, Result, StudentError};
use crate::mlp::validate_hidden_sizes;
use crate::student::{Student, TrainClock};
use crate::vec_env::VecEnv;

use network::{NetworkShape, Pass, QwebGrads, QwebNet};
pub use snapshot::{FormShape, FormSnapshot, SnapshotReplay};
use snapshot::{ReplayState, SnapshotBatch};

/// Version of the [`QwebDqnAgent::to_json`] format (4: the config has `validation_marks` and
/// replayed observations the element feature `invalid`; 3: the config has
/// `satisfied_across_pages` and replayed observations their `instr_placed` flags; 2: the config
/// has `pair_product`, `row_context` and `soft_match`). An older checkpoint is read with the
/// options it did not know off: the network it was written by.
pub const QWEB_CHECKPOINT_VERSION: u32 = 4;

/// Hyper-parameters of the QWeb-style DQN student. The network widths are QWeb-sized but
/// small; the learning fields mean what they mean in [`DqnConfig`], with defaults tuned on the
/// web-form env (noted per field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QwebDqnConfig {
    /// Width of the token embeddings. Default 8.
    pub embedding_dim: usize,
    /// Hidden widths (ReLU) of the field and element encoders. Default `[64]`.
    pub encoder_hidden: Vec<usize>,
    /// Width of the field and element encodings (tanh). Default 32.
    pub encoding_dim: usize,
    /// Hidden widths (ReLU) of the (element, field) pair head. Default `[64]`.
    pub pair_hidden: Vec<usize>,
    /// Width of the per-pair message pooled over fields into the click head. Default 8.
    pub pooled_dim: usize,
    /// Hidden widths (ReLU) of the click head. Default `[64]`.
    pub click_hidden: Vec<usize>,
    /// The pair head also reads the element-wise product of the element's and the field's
    /// encodings (QWeb's field × element product). Default false: with `row_context` on, the
    /// hard forms' success was the same with and without it (`BENCHMARKS.md` §10.6).
    pub pair_product: bool,
    /// Each element is encoded with the text of its row's label, and the pair head reads that
    /// label's word overlap with the field (QWeb encodes elements in their document context):
    /// an input named only by a separate label element can then be matched. Default true
    /// (`BENCHMARKS.md` §10.6).
    pub row_context: bool,
    /// The pair head also reads the dot products of the field key's pooled word embeddings with
    /// the element's text, name and row label's: the embeddings can learn a label's synonyms
    /// and abbreviations. Default false: on the hard forms it did not raise the success on
    /// such labels (`BENCHMARKS.md` §10.6).
    pub soft_match: bool,
    /// A field counts as satisfied (`sat_j`, read by the pair and click heads) when its value
    /// sits in a widget on any page (the observation's `instr_placed`), not only in an element
    /// of the page in view: on page 2 the agent can tell that page 1's fields are done, and on
    /// page 1 that page 2's are. Default true (`BENCHMARKS.md` §10.7).
    pub satisfied_across_pages: bool,
    /// The element encoder reads the observation's `invalid` mark, which a refused Next puts on
    /// the page's required widgets that are still empty (a browser's validation message): the
    /// agent can see which field blocks the page. Default true (`BENCHMARKS.md` §10.9).
    pub validation_marks: bool,
    /// Adam step size. Default 5e-4, annealed (`anneal_lr`). With these widths and batch 64
    /// it ended higher on the 1–3-field forms than 32-wide networks at 1e-3, constant or
    /// annealed (`BENCHMARKS.md` §10).
    pub learning_rate: f32,
    /// Adam ε. Default 1e-8.
    pub adam_epsilon: f32,
    /// Replay capacity (transitions). Default 20 000 (each holds two shared snapshots of a
    /// few kB).
    pub buffer_size: usize,
    /// Discount γ ∈ [0, 1]; should equal the env's shaping γ. Default 0.99.
    pub gamma: f64,
    /// Target update coefficient τ ∈ (0, 1]. Default 1 (hard copy).
    pub tau: f32,
    /// Steps between target updates (≥ 1). Default 200.
    pub target_update_interval: u64,
    /// Transitions per gradient step. Default 64.
    pub batch_size: usize,
    /// ε at step 0. Default 1.
    pub start_epsilon: f64,
    /// Final ε. Default 0.05.
    pub end_epsilon: f64,
    /// Steps of the linear ε decay. Default 5 000.
    pub exploration_steps: u64,
    /// No gradient step at or before this global step. Default 500.
    pub learning_starts: u64,
    /// A training round at every multiple of this global step (≥ 1). Default 4.
    pub train_frequency: u64,
    /// Gradient steps per training round (≥ 1). Default 1.
    pub gradient_steps: usize,
    /// Huber threshold δ > 0. Default 1.
    pub huber_delta: f32,
    /// Global gradient-norm limit, or `None`. Default 10.
    pub max_grad_norm: Option<f32>,
    /// Double-DQN targets. Default true.
    pub double_dqn: bool,
    /// Anneal the learning rate linearly towards 0 over the training budget: the greedy policy
    /// settles instead of drifting between evaluations. Default true.
    pub anneal_lr: bool,
}

impl Default for QwebDqnConfig {
    fn default() -> Self {
        QwebDqnConfig {
            embedding_dim: 8,
            encoder_hidden: vec![64],
            encoding_dim: 32,
            pair_hidden: vec![64],
            pooled_dim: 8,
            click_hidden: vec![64],
            pair_product: false,
            row_context: true,
            soft_match: false,
            satisfied_across_pages: true,
            validation_marks: true,
            learning_rate: 5e-4,
            adam_epsilon: 1e-8,
            buffer_size: 20_000,
            gamma: 0.99,
            tau: 1.0,
            target_update_interval: 200,
            batch_size: 64,
            start_epsilon: 1.0,
            end_epsilon: 0.05,
            exploration_steps: 5_000,
            learning_starts: 500,
            train_frequency: 4,
            gradient_steps: 1,
            huber_delta: 1.0,
            max_grad_norm: Some(10.0),
            double_dqn: true,
            anneal_lr: true,
        }
    }
}

impl QwebDqnConfig {
    /// The learning fields as a [`DqnConfig`] (no hidden layers, no dueling head): the schedule
    /// and ε of [`crate::dqn`] are computed from it.
    pub fn schedule(&self) -> DqnConfig {
        DqnConfig {
            hidden_sizes: Vec::new(),
            learning_rate: self.learning_rate,
            adam_epsilon: self.adam_epsilon,
            buffer_size: self.buffer_size,
            gamma: self.gamma,
            tau: self.tau,
            target_update_interval: self.target_update_interval,
            batch_size: self.batch_size,
            start_epsilon: self.start_epsilon,
            end_epsilon: self.end_epsilon,
            exploration_steps: self.exploration_steps,
            learning_starts: self.learning_starts,
            train_frequency: self.train_frequency,
            gradient_steps: self.gradient_steps,
            huber_delta: self.huber_delta,
            max_grad_norm: self.max_grad_norm,
            double_dqn: self.double_dqn,
            dueling: false,
            anneal_lr: self.anneal_lr,
        }
    }

    /// Checks every field; returns [`StudentError::InvalidConfig`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        for (field, width) in [
            ("embedding_dim", self.embedding_dim),
            ("encoding_dim", self.encoding_dim),
            ("pooled_dim", self.pooled_dim),
        ] {
            validate_hidden_sizes(field, &[width])?;
        }
        for (field, widths) in [
            ("encoder_hidden", &self.encoder_hidden),
            ("pair_hidden", &self.pair_hidden),
            ("click_hidden", &self.click_hidden),
        ] {
            validate_hidden_sizes(field, widths)?;
        }
        self.schedule().validate()
    }

    fn network_shape(&self) -> NetworkShape {
        NetworkShape {
            embedding_dim: self.embedding_dim,
            encoder_hidden: self.encoder_hidden.clone(),
            encoding_dim: self.encoding_dim,
            pair_hidden: self.pair_hidden.clone(),
            pooled_dim: self.pooled_dim,
            click_hidden: self.click_hidden.clone(),
            pair_product: self.pair_product,
            row_context: self.row_context,
            soft_match: self.soft_match,
            satisfied_across_pages: self.satisfied_across_pages,
            validation_marks: self.validation_marks,
        }
    }
}

/// The QWeb-style DQN learner: online and target networks, Adam, the snapshot replay buffer,
/// the RNG of exploration and replay sampling, and the schedule's position.
#[derive(Debug, Clone)]
pub struct QwebDqnAgent {
    config: QwebDqnConfig,
    schedule: DqnConfig,
    form: FormShape,
    online: QwebNet,
    target: QwebNet,
    adam: Adam,
    replay: SnapshotReplay,
    rng: Pcg64,
    learned_through: u64,
    gradient_updates: u64,
    // Not part of the state: the snapshots of the vector env's current observations made at
    // the end of the previous iteration (at `cached_at` env steps), so that a step's next
    // observation and the following step's observation share one snapshot. Rebuilt when stale.
    current: Vec<Option<Arc<FormSnapshot>>>,
    cached_at: Option<u64>,
    pass: Pass,
    next_pass: Pass,
    grads: QwebGrads,
    batch: SnapshotBatch,
}

impl QwebDqnAgent {
    /// A fresh agent for forms of `form`'s shape; `seed` sets the initial weights and the
    /// exploration/replay RNG.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for a bad config or shape.
    pub fn new(config: QwebDqnConfig, form: FormShape, seed: u64) -> Result<Self> {
        config.validate()?;
        form.validate()?;
        let mut init_rng = Pcg64::seed_from_u64(seed);
        let online = QwebNet::new(&config.network_shape(), &form, &mut init_rng)?;
        let schedule = config.schedule();
        let lengths: Vec<usize> = online.parameter_slices().iter().map(|s| s.len()).collect();
        Ok(QwebDqnAgent {
            adam: Adam::for_tensor_lengths(schedule.adam(), &lengths)?,
            replay: SnapshotReplay::new(config.buffer_size),
            grads: QwebGrads::zeros_like(&online),
            target: online.clone(),
            online,
            rng: Pcg64::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
            learned_through: 0,
            gradient_updates: 0,
            current: Vec::new(),
            cached_at: None,
            pass: Pass::default(),
            next_pass: Pass::default(),
            batch: SnapshotBatch::default(),
            schedule,
            form,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &QwebDqnConfig {
        &self.config
    }

    /// The form shape the agent reads.
    pub fn form_shape(&self) -> &FormShape {
        &self.form
    }

    /// The replay buffer.
    pub fn replay(&self) -> &SnapshotReplay {
        &self.replay
    }

    /// Number of trainable parameters (embedding table and the four MLPs).
    pub fn num_parameters(&self) -> usize {
        self.online.parameter_slices().iter().map(|s| s.len()).sum()
    }

    /// Gradient steps taken so far.
    pub fn gradient_updates(&self) -> u64 {
        self.gradient_updates
    }

    /// ε at `global_step`.
    pub fn epsilon(&self, global_step: u64) -> f64 {
        self.schedule.epsilon(global_step)
    }

    /// Q-values of the online network for every flat action of `obs` (0 on padding slots).
    ///
    /// # Errors
    /// As [`FormSnapshot::from_obs`].
    pub fn q_values(&self, obs: &WebFormObs) -> Result<Vec<f32>> {
        let snapshot = FormSnapshot::from_obs(obs, &self.form)?;
        let q = self
            .online
            .forward(&[&snapshot], &self.form, &mut Pass::default())?;
        Ok(q.into_raw_vec_and_offset().0)
    }

    /// ε-greedy actions for `snapshots` into `out`, restricted to each snapshot's legal actions
    /// and, if given, to `masks` (`n × n_actions`). `deterministic` acts greedily and draws
    /// nothing from the RNG.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for masks of the wrong length,
    /// [`StudentError::NoLegalAction`] when no action is legal for a snapshot.
    pub fn select_actions(
        &mut self,
        snapshots: &[&FormSnapshot],
        masks: Option<&[bool]>,
        global_step: u64,
        deterministic: bool,
        out: &mut Vec<usize>,
    ) -> Result<()> {
        let n = self.form.n_actions();
        if let Some(masks) = masks {
            if masks.len() != snapshots.len() * n {
                return Err(StudentError::ShapeMismatch {
                    what: "action masks",
                    expected: format!("{} × {n} values", snapshots.len()),
                    got: format!("{} values", masks.len()),
                });
            }
        }
        let mut legal = vec![false; n];
        let mut rows = Vec::with_capacity(snapshots.len());
        for (r, s) in snapshots.iter().enumerate() {
            s.dense_mask(&self.form, &mut legal);
            if let Some(m) = masks {
                legal
                    .iter_mut()
                    .zip(&m[r * n..(r + 1) * n])
                    .for_each(|(l, &ok)| *l &= ok);
            }
            if !legal.contains(&true) {
                return Err(StudentError::NoLegalAction { row: r });
            }
            rows.push(legal.clone());
        }
        let q = self.online.forward(snapshots, &self.form, &mut self.pass)?;
        let epsilon = if deterministic {
            0.0
        } else {
            self.schedule.epsilon(global_step)
        };
        out.clear();
        for (r, legal) in rows.iter().enumerate() {
            let explore = !deterministic && self.rng.random::<f64>() < epsilon;
            let action = if explore {
                let count = legal.iter().filter(|&&ok| ok).count();
                let k = self.rng.random_range(0..count);
                (0..n)
                    .filter(|&a| legal[a])
                    .nth(k)
                    .expect("k < legal count")
            } else {
                let q_row = q.row(r);
                masked_argmax(q_row.as_slice().expect("contiguous"), Some(legal))
                    .expect("a legal action exists")
            };
            out.push(action);
        }
        Ok(())
    }

    /// Stores one transition (on truncation `next_obs` is the true final observation and
    /// `terminated` is false).
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for an action that is not legal in `obs`,
    /// [`StudentError::NonFinite`] for a NaN/∞ reward.
    pub fn store(
        &mut self,
        obs: Arc<FormSnapshot>,
        action: usize,
        reward: f32,
        next_obs: Arc<FormSnapshot>,
        terminated: bool,
    ) -> Result<()> {
        check_finite("reward", &[reward])?;
        let slot = snapshot::action_slot(action, &self.form, &obs)?;
        if !obs.mask[slot] {
            return Err(StudentError::ShapeMismatch {
                what: "action",
                expected: "a legal action of the observation".into(),
                got: action.to_string(),
            });
        }
        self.replay.push(obs, action, reward, next_obs, terminated);
        Ok(())
    }

    /// Runs every gradient step and target update DQN's schedule places on the global steps up
    /// to `global_step` (see [`crate::DqnAgent::learn`]).
    ///
    /// # Errors
    /// [`StudentError::NonFinite`] if the loss diverged.
    pub fn learn(&mut self, global_step: u64) -> Result<Option<LossStats>> {
        let has_data = !self.replay.is_empty();
        let schedule = self.schedule.clone();
        let mut learned_through = self.learned_through;
        let stats = run_learning_schedule(
            &schedule,
            &mut learned_through,
            global_step,
            has_data,
            |event| match event {
                ScheduleEvent::GradientStep => self.gradient_step().map(Some),
                ScheduleEvent::TargetUpdate => {
                    self.target.update_towards(&self.online, schedule.tau);
                    Ok(None)
                }
            },
        );
        self.learned_through = learned_through;
        stats
    }

    /// One Adam step on the Huber TD loss of a replay minibatch.
    fn gradient_step(&mut self) -> Result<LossStats> {
        let cfg = &self.schedule;
        let (n, b) = (self.form.n_actions(), cfg.batch_size);
        self.replay.sample(b, &mut self.rng, &mut self.batch);
        let next: Vec<&FormSnapshot> = self.batch.next_obs.iter().map(|s| &**s).collect();
        let target_q = self
            .target
            .forward(&next, &self.form, &mut self.next_pass)?;
        let chooser_q = if cfg.double_dqn {
            self.online
                .forward(&next, &self.form, &mut self.next_pass)?
        } else {
            target_q.clone()
        };
        let mut legal = vec![false; n];
        let targets: Vec<f32> = (0..b)
            .map(|i| {
                next[i].dense_mask(&self.form, &mut legal);
                let row = chooser_q.row(i);
                let next_value = masked_argmax(row.as_slice().expect("contiguous"), Some(&legal))
                    .map_or(0.0, |a| target_q[(i, a)] as f64);
                let not_done = 1.0 - self.batch.terminated[i] as f64;
                (self.batch.rewards[i] as f64 + cfg.gamma * not_done * next_value) as f32
            })
            .collect();
        let obs: Vec<&FormSnapshot> = self.batch.obs.iter().map(|s| &**s).collect();
        let q = self.online.forward(&obs, &self.form, &mut self.pass)?;
        let loss = huber_td_loss(q.view(), &self.batch.actions, &targets, cfg.huber_delta);
        check_finite("TD loss", &[loss.loss as f32])?;
        self.online.backward(
            &obs,
            &self.form,
            &self.pass,
            loss.d_q.view(),
            &mut self.grads,
        )?;
        let grad_norm = match cfg.max_grad_norm {
            Some(max) => self.grads.clip(max),
            None => self.grads.norm(),
        };
        let grads = self.grads.slices();
        self.adam
            .step_slices(&mut self.online.parameter_slices_mut(), &grads)?;
        self.gradient_updates += 1;
        Ok(LossStats {
            td_loss: loss.loss,
            mean_q: loss.mean_q,
            grad_norm,
            gradient_steps: 1,
            epsilon: 0.0,
        })
    }

    /// The whole learner state (networks, Adam, replay buffer with each snapshot once, RNG,
    /// counters) as JSON; every float round-trips exactly.
    pub fn to_json(&self) -> String {
        let nets = |net: &QwebNet, adam: Option<&Adam>| NetState {
            embedding: net.embedding.clone(),
            mlps: net
                .mlps
                .iter()
                .map(|m| Checkpoint::capture(m, None))
                .collect(),
            adam: adam.map(AdamState::capture),
        };
        let state = QwebCheckpoint {
            format_version: QWEB_CHECKPOINT_VERSION,
            config: self.config.clone(),
            form: self.form,
            online: nets(&self.online, Some(&self.adam)),
            target: nets(&self.target, None),
            replay: self.replay.to_state(),
            rng: self.rng.clone(),
            learned_through: self.learned_through,
            gradient_updates: self.gradient_updates,
        };
        serde_json::to_string(&state).expect("a QWeb checkpoint has only plain values")
    }

    /// Restores an agent written by [`QwebDqnAgent::to_json`].
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`] for another version,
    /// [`StudentError::CorruptCheckpoint`] for unparsable or inconsistent text.
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let mut state: QwebCheckpoint =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        match state.format_version {
            QWEB_CHECKPOINT_VERSION => {}
            1..=3 => {
                // Written before each option existed: the network without it.
                let config = &mut state.config;
                config.validation_marks = false;
                config.satisfied_across_pages &= state.format_version >= 3;
                if state.format_version == 1 {
                    config.pair_product = false;
                    config.row_context = false;
                    config.soft_match = false;
                }
                // Their replayed observations lack the last element feature: it was 0.
                state.replay.append_element_feature()?;
            }
            found => {
                return Err(StudentError::UnsupportedCheckpointVersion {
                    found,
                    supported: QWEB_CHECKPOINT_VERSION,
                })
            }
        }
        let mut agent = QwebDqnAgent::new(state.config, state.form, 0)
            .map_err(|e| corrupt(format!("config: {e}")))?;
        agent.online = state.online.restore(&agent.online)?;
        agent.target = state.target.restore(&agent.target)?;
        let adam = state
            .online
            .adam
            .ok_or_else(|| corrupt("optimiser state missing".into()))?;
        agent.adam = adam.restore_into(agent.adam)?;
        if state.replay.capacity() != agent.config.buffer_size {
            return Err(corrupt(format!(
                "replay capacity differs from buffer_size {}",
                agent.config.buffer_size
            )));
        }
        agent.replay = SnapshotReplay::from_state(state.replay, &agent.form)?;
        agent.rng = state.rng;
        agent.learned_through = state.learned_through;
        agent.gradient_updates = state.gradient_updates;
        Ok(agent)
    }

    /// The snapshots of `envs`' current observations: reused from the previous iteration when
    /// they were made for exactly this step of a vector env of this size, else rebuilt.
    fn current_snapshots<E: FormEnv>(
        &mut self,
        envs: &VecEnv<E, E::Owned>,
    ) -> Result<Vec<Arc<FormSnapshot>>> {
        let fresh = self.cached_at == Some(envs.global_step()) && self.current.len() == envs.len();
        let cached = std::mem::take(&mut self.current);
        envs.observations()
            .iter()
            .enumerate()
            .map(|(i, obs)| match cached.get(i).cloned().flatten() {
                Some(s) if fresh => Ok(s),
                _ => Ok(Arc::new(FormSnapshot::from_obs(obs, &self.form)?)),
            })
            .collect()
    }
}

/// Serialised networks: the embedding table, the MLPs, and (online only) Adam.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetState {
    embedding: Vec<f32>,
    mlps: Vec<Checkpoint>,
    adam: Option<AdamState>,
}

impl NetState {
    /// The network, checked against `reference` (one of the config's shape).
    fn restore(&self, reference: &QwebNet) -> Result<QwebNet> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        if self.embedding.len() != reference.embedding.len() || self.mlps.len() != 4 {
            return Err(corrupt(format!(
                "expected an embedding table of {} values and 4 MLPs, got {} and {}",
                reference.embedding.len(),
                self.embedding.len(),
                self.mlps.len()
            )));
        }
        check_finite("embedding", &self.embedding)
            .map_err(|e| corrupt(format!("embedding: {e}")))?;
        let mut net = reference.clone();
        net.embedding.clone_from(&self.embedding);
        for (slot, saved) in net.mlps.iter_mut().zip(&self.mlps) {
            let (mlp, _) = saved.restore()?;
            if mlp.config() != slot.config() {
                return Err(corrupt(format!(
                    "an MLP of widths {:?} where the config builds {:?}",
                    mlp.config().layer_sizes(),
                    slot.config().layer_sizes()
                )));
            }
            *slot = mlp;
        }
        Ok(net)
    }
}

/// Adam's state for arbitrary tensors (the checkpoint module's form is tied to one MLP).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdamState {
    steps_taken: u64,
    beta1_power: f64,
    beta2_power: f64,
    first_moments: Vec<Vec<f32>>,
    second_moments: Vec<Vec<f32>>,
}

impl AdamState {
    fn capture(adam: &Adam) -> Self {
        let adam = crate::checkpoint::AdamState::capture(adam);
        AdamState {
            steps_taken: adam.steps_taken,
            beta1_power: adam.beta1_power,
            beta2_power: adam.beta2_power,
            first_moments: adam.first_moments,
            second_moments: adam.second_moments,
        }
    }

    fn restore_into(self, adam: Adam) -> Result<Adam> {
        let lengths = |m: &[Vec<f32>]| m.iter().map(Vec::len).collect::<Vec<_>>();
        let expected = lengths(&crate::checkpoint::AdamState::capture(&adam).first_moments);
        let finite = self
            .first_moments
            .iter()
            .chain(&self.second_moments)
            .flatten()
            .all(|v| v.is_finite());
        if lengths(&self.first_moments) != expected
            || lengths(&self.second_moments) != expected
            || !finite
            || !(self.beta1_power.is_finite() && self.beta2_power.is_finite())
        {
            return Err(StudentError::CorruptCheckpoint {
                reason: "Adam moments do not match the network or are not finite".into(),
            });
        }
        let state = crate::checkpoint::AdamState {
            config: *adam.config(),
            steps_taken: self.steps_taken,
            beta1_power: self.beta1_power,
            beta2_power: self.beta2_power,
            first_moments: self.first_moments,
            second_moments: self.second_moments,
        };
        state
            .restore_into(adam)
            .map_err(|e| StudentError::CorruptCheckpoint {
                reason: format!("Adam state: {e}"),
            })
    }
}

/// Serialised form of a [`QwebDqnAgent`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QwebCheckpoint {
    format_version: u32,
    config: QwebDqnConfig,
    form: FormShape,
    online: NetState,
    target: NetState,
    replay: ReplayState,
    rng: Pcg64,
    learned_through: u64,
    gradient_updates: u64,
}

/// A web-form env the QWeb student can drive: [`WebFormEnv`] (one flat composite action per
/// step) or [`WebFormMdEnv`] (the same action as `(slot, click/type, field)`). The student
/// always scores flat composite actions `slot · (1 + F) + j`; this says how one reaches the env.
pub trait FormEnv: Env<Obs = Arc<WebFormObs>> + Send {
    /// The owned action the vector env records.
    type Owned: Borrow<Self::Action> + Clone + Send + Sync + Serialize + DeserializeOwned;

    /// The env's configuration (its caps fix the network's shape).
    fn form_config(&self) -> &WebFormConfig;

    /// Flat composite action `flat` of a form of shape `form` as the env's action.
    fn encode(form: &FormShape, flat: usize) -> Self::Owned;
}

impl FormEnv for WebFormEnv {
    type Owned = usize;

    fn form_config(&self) -> &WebFormConfig {
        self.config()
    }

    fn encode(_form: &FormShape, flat: usize) -> usize {
        flat
    }
}

impl FormEnv for MetaWebFormEnv {
    type Owned = usize;

    fn form_config(&self) -> &WebFormConfig {
        self.config()
    }

    fn encode(_form: &FormShape, flat: usize) -> usize {
        flat
    }
}

impl FormEnv for WebFormMdEnv {
    type Owned = [usize; 3];

    fn form_config(&self) -> &WebFormConfig {
        self.flat().config()
    }

    fn encode(form: &FormShape, flat: usize) -> [usize; 3] {
        let width = 1 + form.max_fields;
        match (flat / width, flat % width) {
            (slot, 0) => [slot, 0, 0],
            (slot, j) => [slot, 1, j - 1],
        }
    }
}

impl<E: FormEnv> Student<E> for QwebDqnAgent {
    type Action = E::Owned;

    fn name(&self) -> &'static str {
        "dqn"
    }

    fn steps_per_iteration(&self, num_envs: usize) -> u64 {
        num_envs as u64
    }

    fn check_env(&self, env: &E) -> Result<()> {
        let shape = FormShape::of(env.form_config());
        if shape != self.form {
            return Err(StudentError::ShapeMismatch {
                what: "web-form env caps",
                expected: format!("{:?}", self.form),
                got: format!("{shape:?}"),
            });
        }
        Ok(())
    }

    fn train_iteration(&mut self, envs: &mut VecEnv<E, E::Owned>, clock: TrainClock) -> Result<()> {
        let snapshots = self.current_snapshots(envs)?;
        let refs: Vec<&FormSnapshot> = snapshots.iter().map(|s| &**s).collect();
        let mut actions = Vec::with_capacity(envs.len());
        // ε follows the env steps taken before this one (CleanRL's `global_step`); the
        // snapshots' own masks are the env's action masks.
        self.select_actions(&refs, None, clock.global_step, false, &mut actions)?;
        let env_actions: Vec<E::Owned> =
            actions.iter().map(|&a| E::encode(&self.form, a)).collect();
        let steps = envs.step(&env_actions)?;
        let mut current = Vec::with_capacity(envs.len());
        for (i, step) in steps.iter().enumerate() {
            // CRUCIAL: on an episode end, the final observation, not the reset's.
            let next = match &step.final_obs {
                Some(final_obs) => {
                    current.push(None);
                    Arc::new(FormSnapshot::from_obs(final_obs, &self.form)?)
                }
                None => {
                    let s = Arc::new(FormSnapshot::from_obs(&envs.observations()[i], &self.form)?);
                    current.push(Some(s.clone()));
                    s
                }
            };
            self.store(
                snapshots[i].clone(),
                actions[i],
                step.reward as f32,
                next,
                step.terminated,
            )?;
        }
        self.current = current;
        self.cached_at = Some(envs.global_step());
        if self.schedule.anneal_lr {
            self.adam
                .set_learning_rate(self.schedule.learning_rate_at(clock))?;
        }
        self.learn(envs.global_step())?;
        Ok(())
    }

    fn act_greedy(&mut self, obs: &Arc<WebFormObs>, mask: Option<&[bool]>) -> Result<E::Owned> {
        let snapshot = FormSnapshot::from_obs(obs, &self.form)?;
        let mut out = Vec::with_capacity(1);
        self.select_actions(&[&snapshot], mask, 0, true, &mut out)?;
        Ok(E::encode(&self.form, out[0]))
    }

    fn to_json(&self) -> String {
        QwebDqnAgent::to_json(self)
    }

    fn from_json(text: &str) -> Result<Self> {
        QwebDqnAgent::from_json(text)
    }
}

#[cfg(test)]
mod tests;

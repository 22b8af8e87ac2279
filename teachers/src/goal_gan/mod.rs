//! GoalGAN (Florensa, Held, Geng & Abbeel, ICML 2018), as TeachMyAgent runs it (its wrapper of
//! the SPDL repository's port of rllab-curriculum's `StateGAN`): a generator proposes goals, a
//! discriminator learns which goals are of intermediate difficulty ("GOID": the student
//! succeeds sometimes), and the generator is trained to propose goals the discriminator accepts.
//!
//! The file reads top to bottom: configuration ([`GoalGanConfig`], in `config.rs`) → networks
//! (`gan.rs`) → sampling → labelling → training.
//!
//! - **Networks.** Generator: noise `z ~ N(0, I)` of the task's dimension → [256, 256] ReLU →
//!   tanh. Discriminator: goal → [128, 128] leaky ReLU (slope 0.1) → one linear output.
//!   Glorot-uniform weights, zero biases. Least-squares GAN losses, discriminator
//!   `mean((2y − 1 − D(x))²)` on labelled goals (y ∈ {0, 1}) and generated goals (y = 0),
//!   generator `mean((D(G(z)) − 1)²)`; TensorFlow 1's RMSProp (lr 1e-3, ρ 0.9, ε 1e-10 inside
//!   the root, mean squares starting at 1) for both; batch 64.
//! - **Coordinates.** `center = (min + max)/2`, `range = (max − min)/2 + 1e-6`; the networks
//!   see `(g − center)/(2·range)` ∈ [−0.5, 0.5], and an output `o` maps back to
//!   `center + o·2·range`.
//! - **Pretraining** (when `use_pretrained_samples`, the benchmark default, or at expert level
//!   `high`): `pretrain_samples` = 1000 goals, all labelled 1, for 500 outer iterations. The
//!   goals come from the initial distribution at level `high`, otherwise from a
//!   "random-subspace" Gaussian: mean uniform in the space, std 10 % of each range (1e-3 where
//!   the range is 0). Both are clipped to the bounds.
//! - **Sampling.** A queue of pending repeats is served first. Otherwise, with probability
//!   `1 − p_old` (or always while the success buffer is empty) a new goal is generated:
//!   `center + G(z)·2·range` plus Gaussian noise of std `state_noise_level·(max − min)`, clipped
//!   to `center ± range` and then to the bounds; `n_rollouts − 1` copies are queued, so the goal
//!   is played `n_rollouts` times in a row. Otherwise a goal of the success buffer (uniform) is
//!   replayed with the same noise, clipped to the bounds.
//! - **Labelling.** Success = return > the expert knowledge's success threshold (TeachMyAgent:
//!   `episodic_reward > 230`). Once a generated goal has `n_rollouts` results, its mean success
//!   `s̄` gives label 1 iff `goid_lb ≤ s̄ ≤ goid_ub`, and the goal joins the success buffer if
//!   `s̄ > goid_ub` and it is farther than `success_distance_threshold·‖max − min‖₂` from every
//!   goal already there.
//! - **Training.** Once `update_size` goals are labelled, the GAN trains for `outer_iters` = 250
//!   iterations if at least one label is 1; the labelled list is cleared either way.
//!
//! # Expert knowledge
//!
//! | level | what GoalGAN gets |
//! |---|---|
//! | `none` | refused: [`TeacherError::MissingExpertKnowledge`] (TeachMyAgent: "needs at least a success definition") |
//! | `low` | the success threshold; pretraining (if `use_pretrained_samples`) on a random-subspace Gaussian |
//! | `high` | `low` + pretraining, always, on the initial distribution |
//!
//! The outcome's own `success` flag is not read: the threshold is the env's mastery return
//! ([`EnvPrior::success_return`](teachgym_core::EnvPrior), 230 in the walkers) handed over
//! through the expert knowledge, the same source as ADR's thresholds.
//!
//! # Quirks of the reference, reproduced
//!
//! 1. **Replayed goals are never labelled**: only generated goals are registered as pending, so
//!    only they are labelled and can enter the success buffer. A replayed goal that happens to
//!    equal a pending goal bit for bit counts towards it, since pending goals are recognised by
//!    value (as the reference's `tobytes()` keys); the same goal generated twice before its
//!    results arrive keeps one result list per generation, filled in order.
//! 2. **Same noise for both steps.** The generator step reuses the noise of the discriminator
//!    step's generated goals; the reference resamples only from its 7th generator iteration
//!    (`if i > 5`), which never happens with one generator iteration per outer iteration.
//! 3. **tanh overshoot.** The generator's tanh spans [−1, 1] but the goals it learns from lie in
//!    [−0.5, 0.5]: outputs beyond ±0.5 land outside the task space and are clipped onto its
//!    boundary (then onto `center ± range`, 1e-6 beyond the bounds, then onto the bounds).
//! 4. **Training is skipped without positives**, and the labelled goals are discarded anyway.
//! 5. The `p_old` coin is drawn before the success buffer is checked, even when it is empty.
//!
//! # Deliberate differences
//!
//! - Goals are `f64`, not cast to `f32`; the networks compute in `f32` (as TensorFlow), with
//!   tanh from `teachgym_nn::fast_tanh` (within 1e-6 of tanh).
//! - One seeded random stream replaces numpy's global state and the teacher's `RandomState`;
//!   visualisation samples use a separate one.
//! - [`Teacher::non_exploratory_samples`] returns noise-free generator goals clipped to the
//!   bounds (the reference returns them unclipped, up to twice the space).
//! - A training that diverges to NaN/∞ (never seen with sane learning rates) is undone and
//!   counted in [`GoalGan::failed_trainings`], instead of poisoning the networks.
//! - The success buffer is unbounded as in the reference; its distance rule bounds it in
//!   practice (at most one goal per ball of the threshold's radius).

mod config;
mod gan;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;
use teachgym_core::TaskSpace;

pub use config::*;
use gan::{Gan, GoalScaling};
pub use gan::{GanLosses, GOAL_GAN_RANGE_EPSILON};

use crate::util::{decision_rng, visualisation_rng, TeacherRng};
use crate::{checkpoint, validate_update, EpisodeOutcome, Result, Teacher, TeacherError};

/// Std of the random-subspace pretraining Gaussian, as a fraction of each dimension's range.
pub const GOAL_GAN_SUBSPACE_STD_FRACTION: f64 = 0.1;
/// Std of the random-subspace Gaussian on a dimension whose range is 0 (the reference's
/// variance of 1e-6).
pub const GOAL_GAN_SUBSPACE_MIN_STD: f64 = 1e-3;

/// A generated goal waiting for its `n_rollouts` results: one result list per time it was
/// generated (the same value can be generated again before the first list is complete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingGoal {
    goal: Vec<f64>,
    results: VecDeque<Vec<bool>>,
}

/// The GoalGAN teacher. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoalGan {
    config: GoalGanConfig,
    space: TaskSpace,
    success_threshold: f64,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    gan: Gan,
    /// Copies of the last generated goal still to be played.
    queue: VecDeque<Vec<f64>>,
    pending: Vec<PendingGoal>,
    success_buffer: Vec<Vec<f64>>,
    labelled_goals: Vec<Vec<f64>>,
    labels: Vec<bool>,
    episodes: u64,
    goals_labelled: u64,
    positive_labels: u64,
    trainings: u64,
    skipped_trainings: u64,
    failed_trainings: u64,
    last_losses: Option<GanLosses>,
}

impl GoalGan {
    /// Registry name.
    pub const NAME: &'static str = "goal_gan";

    /// A GoalGAN teacher over `space`, seeded with `seed`: builds both networks and, if the
    /// configuration asks for it, pretrains them (500 outer iterations of the default
    /// networks: 0.65–0.95 s in release on the 2-core test VM under load).
    ///
    /// # Errors
    /// [`TeacherError::MissingExpertKnowledge`] at expert level `none`;
    /// [`TeacherError::Core`] (`InvalidConfig`) for invalid values.
    pub fn new(space: TaskSpace, seed: u64, config: GoalGanConfig) -> Result<Self> {
        let success_threshold = config.validate(&space)?;
        let mut rng = decision_rng(seed);
        let gan = Gan::new(&config, space.dim(), &mut rng).map_err(network_error)?;
        let mut teacher = Self {
            config,
            space,
            success_threshold,
            rng,
            visualisation_rng: visualisation_rng(seed),
            gan,
            queue: VecDeque::new(),
            pending: Vec::new(),
            success_buffer: Vec::new(),
            labelled_goals: Vec::new(),
            labels: Vec::new(),
            episodes: 0,
            goals_labelled: 0,
            positive_labels: 0,
            trainings: 0,
            skipped_trainings: 0,
            failed_trainings: 0,
            last_losses: None,
        };
        if teacher.config.pretrains() {
            teacher.pretrain();
        }
        Ok(teacher)
    }

    /// The configuration.
    pub fn config(&self) -> &GoalGanConfig {
        &self.config
    }
    /// Return above which an episode is a success.
    pub fn success_threshold(&self) -> f64 {
        self.success_threshold
    }
    /// Goals mastered so far (mean success above `goid_ub`), replayed with probability `p_old`.
    pub fn success_buffer(&self) -> &[Vec<f64>] {
        &self.success_buffer
    }
    /// Goals labelled since the last training, with their labels.
    pub fn labelled(&self) -> (&[Vec<f64>], &[bool]) {
        (&self.labelled_goals, &self.labels)
    }
    /// Copies of the last generated goal still queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
    /// Episodes reported so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }
    /// Goals labelled so far, and how many of them were positive (intermediate difficulty).
    pub fn labels_given(&self) -> (u64, u64) {
        (self.goals_labelled, self.positive_labels)
    }
    /// GAN trainings run (pretraining excluded).
    pub fn trainings(&self) -> u64 {
        self.trainings
    }
    /// Trainings skipped because no labelled goal was positive.
    pub fn skipped_trainings(&self) -> u64 {
        self.skipped_trainings
    }
    /// Trainings undone because they diverged to NaN/∞.
    pub fn failed_trainings(&self) -> u64 {
        self.failed_trainings
    }
    /// Losses at the end of the last training (or pretraining).
    pub fn last_losses(&self) -> Option<GanLosses> {
        self.last_losses
    }

    /// Discriminator scores of task-space goals (≈ 1 for goals of intermediate difficulty,
    /// ≈ −1 otherwise, once trained).
    ///
    /// # Errors
    /// [`TeacherError::Core`] for a goal of the wrong length or out of bounds.
    pub fn discriminator_scores(&self, goals: &[Vec<f64>]) -> Result<Vec<f32>> {
        let d = self.space.dim();
        let scaling = GoalScaling::new(&self.space);
        let mut flat = Vec::with_capacity(goals.len() * d);
        for goal in goals {
            self.space.validate(goal)?;
            scaling.normalise_into(goal, &mut flat);
        }
        if goals.is_empty() {
            return Ok(Vec::new());
        }
        let view = ndarray::ArrayView2::from_shape((goals.len(), d), &flat)
            .map_err(|e| TeacherError::config("goals", e.to_string()))?;
        self.gan.discriminate(view).map_err(network_error)
    }

    // ----- networks: pretraining --------------------------------------------------------------

    /// Trains the fresh GAN to reproduce a distribution of easy goals, all labelled 1.
    fn pretrain(&mut self) {
        let n = self.config.pretrain_samples;
        let goals: Vec<Vec<f64>> = match self.config.expert_knowledge.initial_distribution() {
            Some(initial) => (0..n)
                .map(|_| initial.sample(&self.space, &mut self.rng))
                .collect(),
            None => {
                // Random subspace: mean uniform in the box, std 10 % of each range.
                let dims = self.space.dims();
                let mean: Vec<f64> = dims
                    .iter()
                    .map(|d| d.low + self.rng.random::<f64>() * (d.high - d.low))
                    .collect();
                let std: Vec<f64> = dims
                    .iter()
                    .map(|d| {
                        let std = d.range() * GOAL_GAN_SUBSPACE_STD_FRACTION;
                        if std > 0.0 {
                            std
                        } else {
                            GOAL_GAN_SUBSPACE_MIN_STD
                        }
                    })
                    .collect();
                (0..n)
                    .map(|_| {
                        let raw: Vec<f64> = mean
                            .iter()
                            .zip(&std)
                            .map(|(&m, &s)| m + s * standard_normal(&mut self.rng))
                            .collect();
                        self.space.clip(&raw)
                    })
                    .collect()
            }
        };
        let labels = vec![true; n];
        self.train_on(&goals, &labels, self.config.pretrain_outer_iters);
    }

    // ----- sampling -----------------------------------------------------------------------------

    /// A goal from the generator, noised and clipped, registered as pending and queued
    /// `n_rollouts − 1` more times.
    fn generate_goal(&mut self) -> Vec<f64> {
        let scaling = GoalScaling::new(&self.space);
        let goal = match self.gan.generate(&mut self.rng) {
            Some(output) => {
                let mut goal = scaling.denormalise(&output);
                for (i, (g, dim)) in goal.iter_mut().zip(self.space.dims()).enumerate() {
                    let std = self.config.state_noise_level * dim.range();
                    *g += std * standard_normal(&mut self.rng);
                    let (c, r) = (scaling.center[i], scaling.range[i]);
                    // `max`/`min`, not `clamp`: no panic on a NaN bound (an infinite range).
                    *g = g.max(c - r).min(c + r);
                }
                self.space.clip(&goal)
            }
            // Unreachable with finite weights; a uniform goal keeps the teacher going.
            None => self.space.sample(&mut self.rng),
        };
        match self.pending.iter_mut().find(|p| same_goal(&p.goal, &goal)) {
            Some(pending) => pending.results.push_back(Vec::new()),
            None => self.pending.push(PendingGoal {
                goal: goal.clone(),
                results: VecDeque::from([Vec::new()]),
            }),
        }
        for _ in 1..self.config.n_rollouts {
            self.queue.push_back(goal.clone());
        }
        goal
    }

    /// A goal of the success buffer (uniform), noised and clipped; never labelled.
    fn replay_goal(&mut self) -> Vec<f64> {
        let index = self.rng.random_range(0..self.success_buffer.len());
        let noisy: Vec<f64> = self.success_buffer[index]
            .iter()
            .zip(self.space.dims())
            .map(|(&g, dim)| {
                g + self.config.state_noise_level * dim.range() * standard_normal(&mut self.rng)
            })
            .collect();
        self.space.clip(&noisy)
    }

    // ----- labelling ----------------------------------------------------------------------------

    /// Records one result of `task` if it is a pending generated goal; labels it once it has
    /// `n_rollouts` results.
    fn record_result(&mut self, task: &[f64], success: bool) {
        let Some(index) = self.pending.iter().position(|p| same_goal(&p.goal, task)) else {
            return; // a replayed goal (or a task the teacher did not generate)
        };
        let pending = &mut self.pending[index];
        let Some(results) = pending.results.front_mut() else {
            return; // unreachable: empty entries are removed below
        };
        results.push(success);
        if results.len() < self.config.n_rollouts {
            return;
        }
        let mean_success = results.iter().filter(|&&s| s).count() as f64 / results.len() as f64;
        pending.results.pop_front();
        let goal = if pending.results.is_empty() {
            self.pending.swap_remove(index).goal
        } else {
            pending.goal.clone()
        };
        let positive = (self.config.goid_lb..=self.config.goid_ub).contains(&mean_success);
        self.labels.push(positive);
        self.goals_labelled = self.goals_labelled.saturating_add(1);
        self.positive_labels += u64::from(positive);
        if mean_success > self.config.goid_ub {
            self.add_to_success_buffer(&goal);
        }
        self.labelled_goals.push(goal);
    }

    /// Adds `goal` to the success buffer unless it lies within the distance threshold of a
    /// goal already there (a threshold of 0 keeps every goal).
    fn add_to_success_buffer(&mut self, goal: &[f64]) {
        let diagonal = self
            .space
            .dims()
            .iter()
            .map(|d| d.range() * d.range())
            .sum::<f64>()
            .sqrt();
        let threshold = self.config.success_distance_threshold * diagonal;
        let far_from_all = threshold <= 0.0
            || self.success_buffer.iter().all(|other| {
                let squared: f64 = other.iter().zip(goal).map(|(a, b)| (a - b) * (a - b)).sum();
                squared.sqrt() > threshold
            });
        if far_from_all {
            self.success_buffer.push(goal.to_vec());
        }
    }

    // ----- training -----------------------------------------------------------------------------

    /// Trains on the labelled goals once there are `update_size` of them (only if one is
    /// positive), then clears them.
    fn train_if_due(&mut self) {
        if self.labelled_goals.len() < self.config.update_size {
            return;
        }
        if self.labels.iter().any(|&l| l) {
            let goals = std::mem::take(&mut self.labelled_goals);
            let labels = std::mem::take(&mut self.labels);
            self.train_on(&goals, &labels, self.config.outer_iters);
            self.trainings = self.trainings.saturating_add(1);
        } else {
            self.skipped_trainings = self.skipped_trainings.saturating_add(1);
        }
        self.labelled_goals.clear();
        self.labels.clear();
    }

    /// `outer_iters` GAN iterations on task-space `goals` with `labels`; a diverged training
    /// is undone.
    fn train_on(&mut self, goals: &[Vec<f64>], labels: &[bool], outer_iters: usize) {
        if outer_iters == 0 || goals.is_empty() {
            return;
        }
        let scaling = GoalScaling::new(&self.space);
        let mut flat = Vec::with_capacity(goals.len() * self.space.dim());
        for goal in goals {
            scaling.normalise_into(goal, &mut flat);
        }
        let targets: Vec<f32> = labels.iter().map(|&l| if l { 1.0 } else { 0.0 }).collect();
        let before = self.gan.clone();
        match self.gan.train(
            &flat,
            &targets,
            outer_iters,
            self.config.batch_size,
            &mut self.rng,
        ) {
            Ok(losses) if self.gan.is_finite() => self.last_losses = losses.or(self.last_losses),
            _ => {
                self.gan = before;
                self.failed_trainings = self.failed_trainings.saturating_add(1);
            }
        }
    }

    // ----- checkpoints --------------------------------------------------------------------------

    /// Checks a deserialised state against its own configuration and space.
    fn check_consistent(&self) -> Result<()> {
        let d = self.space.dim();
        let in_space = |g: &Vec<f64>| g.len() == d && self.space.contains(g);
        checkpoint::ensure(self.gan.matches(&self.config, d), || {
            "goal_gan networks do not match the configuration".into()
        })?;
        checkpoint::ensure(
            self.queue.iter().all(in_space)
                && self.queue.len() < self.config.n_rollouts
                && self.success_buffer.iter().all(in_space)
                && self.labelled_goals.iter().all(in_space)
                && self.labelled_goals.len() == self.labels.len()
                && self.labels.len() < self.config.update_size
                && self.pending.iter().all(|p| {
                    in_space(&p.goal)
                        && !p.results.is_empty()
                        && p.results.iter().all(|r| r.len() < self.config.n_rollouts)
                }),
            || "goal_gan queue, pending goals, buffers or labels are inconsistent".into(),
        )?;
        checkpoint::ensure(self.success_threshold.is_finite(), || {
            "goal_gan success threshold is not finite".into()
        })
    }
}

/// Whether two goals are the same value (bit for bit, as the reference's `tobytes()` keys).
fn same_goal(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Network errors in the teachers crate: only configurations the config checks let through
/// (and that the network crate refuses) reach this.
fn network_error(e: teachgym_nn::NnError) -> TeacherError {
    TeacherError::config("goal_gan", e.to_string())
}

impl Teacher for GoalGan {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        if let Some(goal) = self.queue.pop_front() {
            return goal;
        }
        // The coin first, as the reference (`random() > p_old or buffer empty`).
        let generate = self.rng.random::<f64>() > self.config.p_old;
        if generate || self.success_buffer.is_empty() {
            self.generate_goal()
        } else {
            self.replay_goal()
        }
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        self.episodes = self.episodes.saturating_add(1);
        self.record_result(task, outcome.episode_return > self.success_threshold);
        self.train_if_due();
        Ok(())
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        let scaling = GoalScaling::new(&self.space);
        Some(
            (0..n)
                .map(|_| match self.gan.generate(&mut self.visualisation_rng) {
                    Some(output) => self.space.clip(&scaling.denormalise(&output)),
                    None => self.space.sample(&mut self.visualisation_rng),
                })
                .collect(),
        )
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, self)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let restored: Self = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &restored.space)?;
        let threshold = restored.config.validate(&restored.space)?;
        checkpoint::ensure(threshold == restored.success_threshold, || {
            "goal_gan success threshold differs from its expert knowledge".into()
        })?;
        restored.check_consistent()?;
        *self = restored;
        Ok(())
    }
}

//! The contract between a learning algorithm and the curriculum loop ([`crate::Trainer`]): the
//! loop owns the vector env and the teacher, the student drives the env for one learning
//! iteration at a time and can act greedily for evaluation.

use std::borrow::Borrow;

use serde::{de::DeserializeOwned, Serialize};
use teachgym_core::Env;

use crate::error::Result;
use crate::vec_env::VecEnv;

/// Where training stands, for schedules (learning-rate annealing, ε decay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainClock {
    /// Env steps taken so far (over all env copies).
    pub global_step: u64,
    /// The training budget in env steps.
    pub total_steps: u64,
}

impl TrainClock {
    /// Fraction of the budget still ahead, in [0, 1].
    pub fn remaining_fraction(&self) -> f64 {
        if self.total_steps == 0 {
            return 0.0;
        }
        (1.0 - self.global_step as f64 / self.total_steps as f64).clamp(0.0, 1.0)
    }
}

/// The step size of a schedule that anneals `learning_rate` linearly to 0 when `anneal` is
/// set (PPO's and DQN's `anneal_lr`), with `remaining_fraction` of the budget still ahead.
pub(crate) fn annealed_learning_rate(
    learning_rate: f32,
    anneal: bool,
    remaining_fraction: f64,
) -> f32 {
    if anneal {
        (remaining_fraction * learning_rate as f64) as f32
    } else {
        learning_rate
    }
}

/// A learning agent that the curriculum loop can train on envs of type `E`.
pub trait Student<E: Env> {
    /// The owned action type stored by the vector env (`Vec<f32>`, `usize`).
    type Action: Borrow<E::Action> + Clone + Send + Sync + Serialize + DeserializeOwned;

    /// Registry name (`"ppo"`, `"dqn"`).
    fn name(&self) -> &'static str;

    /// Checks that the env's observation and action spaces fit this student.
    ///
    /// # Errors
    /// [`crate::StudentError::ShapeMismatch`] naming the space that does not fit.
    fn check_env(&self, env: &E) -> Result<()>;

    /// One learning iteration: steps `envs` (whose finished episodes go to the vector env's own
    /// task source) and learns from the experience. PPO: one rollout and its update; DQN: one
    /// step per env and its gradient steps.
    ///
    /// # Errors
    /// Env, teacher or numerical errors; the student should not be used after one.
    fn train_iteration(
        &mut self,
        envs: &mut VecEnv<E, Self::Action>,
        clock: TrainClock,
    ) -> Result<()>;

    /// Env steps (over all copies) that one [`Student::train_iteration`] takes on `num_envs`
    /// env copies: PPO's rollout rounded up to whole lock-steps, DQN's one step per copy. The
    /// loop uses it to tell a checkpoint of a run from one beyond the run's budget.
    fn iteration_steps(&self, num_envs: usize) -> u64;

    /// The deterministic action for `obs` (evaluation), restricted to the legal actions of
    /// `mask` when the env gives one ([`Env::action_mask`]); does not change the student.
    ///
    /// # Errors
    /// A malformed observation or mask.
    fn act_greedy(&mut self, obs: &E::Obs, mask: Option<&[bool]>) -> Result<Self::Action>;

    /// The full state (networks, optimisers, normalisers, RNG, run state) as JSON.
    fn to_json(&self) -> String;

    /// Restores a student written by [`Student::to_json`].
    ///
    /// # Errors
    /// [`crate::StudentError::CorruptCheckpoint`] or
    /// [`crate::StudentError::UnsupportedCheckpointVersion`].
    fn from_json(text: &str) -> Result<Self>
    where
        Self: Sized;
}

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

    /// Env steps (over all `num_envs` copies) that one [`Student::train_iteration`] takes: a
    /// budget is spent in whole iterations, so a run's real length is the budget rounded up to
    /// a multiple of this. PPO: one rollout (`rollout_steps` rounded up to a multiple of
    /// `num_envs`); DQN: one step per copy.
    fn steps_per_iteration(&self, num_envs: usize) -> u64;

    /// Checks that a student restored from a checkpoint fits a run of `num_envs` env copies
    /// (per-copy state such as running returns); a student without such state accepts any.
    ///
    /// # Errors
    /// [`crate::StudentError::CorruptCheckpoint`] naming the mismatch.
    fn check_resume(&self, num_envs: usize) -> Result<()> {
        let _ = num_envs;
        Ok(())
    }

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

    /// The deterministic action for `obs` (evaluation), restricted to the legal actions of
    /// `mask` when the env gives one ([`Env::action_mask`]); does not change the student.
    ///
    /// # Errors
    /// A malformed observation or mask.
    fn act_greedy(&mut self, obs: &E::Obs, mask: Option<&[bool]>) -> Result<Self::Action>;

    /// The student's estimate of the (undiscounted-units) value of `obs`, for teachers that
    /// learn from it ([`teachgym_teachers::Teacher::value_estimate_discount`], SPDL). PPO: its
    /// critic (scaled back to return units under reward normalisation); SAC: V, or the smaller
    /// critic at the policy's mean action; DQN: the largest Q. Does not change the student.
    ///
    /// # Errors
    /// [`crate::StudentError::NoValueEstimate`] for a student without one (the default), a
    /// malformed observation.
    fn value_estimate(&mut self, obs: &E::Obs) -> Result<f64> {
        let _ = obs;
        Err(crate::StudentError::NoValueEstimate {
            student: self.name(),
        })
    }

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

/// `text` (a checkpoint's JSON) with the value at the JSON pointer `path` replaced (for tests of
/// corrupt checkpoints). The top-level `rng` object is cut out before the edit and put back
/// verbatim after it: its 128-bit integers do not survive `serde_json::Value`.
#[cfg(test)]
pub(crate) fn edit_checkpoint_json(
    text: &str,
    path: &str,
    replacement: serde_json::Value,
) -> String {
    let start = text.find("\"rng\":{").expect("a checkpoint with an RNG");
    let end = start + text[start..].find('}').expect("a flat RNG object") + 1;
    let rng = &text[start..end];
    let rest = format!("{}{}", &text[..start], &text[end..])
        .replace(",,", ",")
        .replace("{,", "{")
        .replace(",}", "}");
    let mut value: serde_json::Value = serde_json::from_str(&rest).expect("valid JSON");
    *value
        .pointer_mut(path)
        .unwrap_or_else(|| panic!("no {path}")) = replacement;
    let edited = value.to_string();
    format!("{},{rng}}}", &edited[..edited.len() - 1])
}

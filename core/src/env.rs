//! The environment contract, gymnasium's `Env` in Rust: `reset(seed, task)` then `step(action)`
//! until `terminated` or `truncated`.

use crate::{Error, Result, Space, TaskSpace};

/// Summary of a finished episode, reported in the [`Info`] of its last step: the one record of
/// an episode's outcome that envs report, teachers learn from and training logs write.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpisodeSummary {
    /// Undiscounted sum of rewards.
    pub episode_return: f64,
    /// Number of steps taken.
    pub length: u32,
    /// Whether the episode counts as mastered (walkers: return above the mastery threshold).
    pub success: bool,
}

/// Side information of a reset or a step. Typed fields for what every env reports, a small map
/// for env-specific diagnostics (never timings, so infos are reproducible).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    /// Set on the step that ends an episode (terminated or truncated).
    pub episode: Option<EpisodeSummary>,
    /// Env-specific scalar diagnostics, in a stable order.
    pub values: Vec<(&'static str, f64)>,
}

impl EpisodeSummary {
    /// A summary with the given return, success flag and length.
    pub fn new(episode_return: f64, success: bool, length: u32) -> Self {
        Self {
            episode_return,
            length,
            success,
        }
    }
}

impl Info {
    /// Looks up an env-specific diagnostic.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// What one `step` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Step<O> {
    /// Observation after the step.
    pub obs: O,
    /// Reward for the transition.
    pub reward: f64,
    /// The episode reached a terminal state of the MDP (a fall, the end of the track): no future
    /// reward follows, value targets must not bootstrap.
    pub terminated: bool,
    /// The episode was cut for a reason outside the MDP (the step limit): value targets should
    /// bootstrap from `obs`.
    pub truncated: bool,
    /// Side information; `info.episode` is set when `terminated || truncated`.
    pub info: Info,
}

/// An RGB image, row-major, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbFrame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

/// Step count, return and end flag of the episode in progress: the bookkeeping every env does
/// the same way, so that the step limit, `truncated` and `info.episode` mean one thing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EpisodeProgress {
    /// Steps taken (the reset does not count).
    pub steps: u32,
    /// Sum of the rewards so far.
    pub episode_return: f64,
    /// The episode terminated or was truncated.
    pub ended: bool,
}

impl EpisodeProgress {
    /// Refuses a step once the episode has ended.
    ///
    /// # Errors
    /// [`Error::EpisodeEnded`].
    pub fn ensure_running(&self) -> Result<()> {
        if self.ended {
            Err(Error::EpisodeEnded)
        } else {
            Ok(())
        }
    }

    /// Records one step's reward. Returns `truncated` (the step limit was reached without
    /// terminating) and, when the episode ends, its summary, whose `success` is
    /// `is_success(episode_return)`.
    pub fn record(
        &mut self,
        reward: f64,
        terminated: bool,
        max_episode_steps: u32,
        is_success: impl FnOnce(f64) -> bool,
    ) -> (bool, Option<EpisodeSummary>) {
        self.steps += 1;
        self.episode_return += reward;
        let truncated = !terminated && self.steps >= max_episode_steps;
        if !(terminated || truncated) {
            return (truncated, None);
        }
        self.ended = true;
        let summary = EpisodeSummary {
            episode_return: self.episode_return,
            length: self.steps,
            success: is_success(self.episode_return),
        };
        (truncated, Some(summary))
    }
}

/// Largest magnitude of a reward coefficient in an env's configuration (a goal reward, a step
/// penalty, a shaping scale, ...): with it, every return of an episode of up to `u32::MAX` steps
/// stays a finite `f64` (a larger finite coefficient could sum to infinity, silently).
pub const MAX_REWARD_MAGNITUDE: f64 = 1e6;

/// Checks the reward coefficient `field` of an env configuration: finite and within
/// ±[`MAX_REWARD_MAGNITUDE`].
///
/// # Errors
/// [`Error::InvalidConfig`] naming `field` and the value.
///
/// ```
/// assert!(teachgym_core::check_reward_coefficient("goal_reward", -3.5).is_ok());
/// assert!(teachgym_core::check_reward_coefficient("goal_reward", 1e300).is_err());
/// ```
pub fn check_reward_coefficient(field: &str, value: f64) -> Result<()> {
    if value.abs() <= MAX_REWARD_MAGNITUDE {
        return Ok(());
    }
    Err(Error::InvalidConfig {
        field: field.into(),
        reason: format!(
            "{value:?} is not a finite reward within ±{MAX_REWARD_MAGNITUDE:e} \
             (MAX_REWARD_MAGNITUDE, which keeps every return finite)"
        ),
    })
}

/// Checks a continuous action against a `Box([-1, 1]^n)` action space and writes it, clipped to
/// `[-1, 1]`, into `clipped` (whose length is `n`). Clipping follows the reference envs; NaN and
/// infinite components are errors rather than silently clipped.
///
/// # Errors
/// [`Error::ActionDimension`] for a wrong length, [`Error::NonFiniteAction`] naming the first
/// non-finite component. `clipped` is left unchanged on error.
///
/// ```
/// let mut clipped = [0.0; 2];
/// teachgym_core::clip_unit_action(&[3.0, -0.5], &mut clipped).unwrap();
/// assert_eq!(clipped, [1.0, -0.5]);
/// assert!(teachgym_core::clip_unit_action(&[f32::NAN, 0.0], &mut clipped).is_err());
/// ```
pub fn clip_unit_action(action: &[f32], clipped: &mut [f32]) -> Result<()> {
    if action.len() != clipped.len() {
        return Err(Error::ActionDimension {
            expected: clipped.len(),
            got: action.len(),
        });
    }
    if let Some(index) = action.iter().position(|a| !a.is_finite()) {
        return Err(Error::NonFiniteAction {
            index,
            value: f64::from(action[index]),
        });
    }
    for (slot, &a) in clipped.iter_mut().zip(action) {
        *slot = a.clamp(-1.0, 1.0);
    }
    Ok(())
}

/// A procedural environment whose layout is set by a task vector.
///
/// Contract (as gymnasium's):
/// - `reset(seed, task)` validates `task` against [`Env::task_space`], re-seeds the env's RNG when
///   `seed` is `Some` (otherwise continues its stream), builds the episode and returns the first
///   observation. Every random draw of the episode comes from that RNG.
/// - `step(action)` returns an error for a malformed action, before reset, or after the episode
///   ended; it never panics on user input.
/// - the episode limit is part of the env: it sets `truncated` itself.
pub trait Env {
    /// Observation type.
    type Obs;
    /// Action type (`[f32]` for continuous control, `usize` for a discrete choice, ...).
    type Action: ?Sized;

    /// The difficulty parameters this env accepts.
    fn task_space(&self) -> &TaskSpace;
    /// Description of the observations.
    fn observation_space(&self) -> &Space;
    /// Description of the actions.
    fn action_space(&self) -> &Space;

    /// Starts an episode on `task`.
    ///
    /// # Errors
    /// A task of the wrong length or outside the task space.
    fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<(Self::Obs, Info)>;

    /// Advances one step.
    ///
    /// # Errors
    /// A malformed action, a step before `reset`, or a step after the episode ended.
    fn step(&mut self, action: &Self::Action) -> Result<Step<Self::Obs>>;

    /// Draws the current state.
    ///
    /// # Errors
    /// Rendering before `reset`.
    fn render(&self) -> Result<RgbFrame>;

    /// The current state as text (gymnasium's `render_mode="ansi"`), for envs that have a text
    /// view (the web forms: instruction, page, one line per element); `None` for the others.
    ///
    /// # Errors
    /// Rendering before `reset`.
    fn render_text(&self) -> Option<Result<String>> {
        None
    }

    /// Which actions of a `Discrete` action space are legal in the current state (`true` =
    /// legal), for envs that restrict them (grid walls, web-form widgets); `None` when every
    /// action is legal or before `reset`. Agents that mask (DQN, the evaluation loop) read it
    /// after every step and reset.
    fn action_mask(&self) -> Option<Vec<bool>> {
        None
    }

    /// The env as [`std::any::Any`], for envs whose concrete type offers more than this trait
    /// (the web forms: their HTML page, page state and oracle), so that code holding a boxed
    /// `dyn Env` can reach it by downcasting; `None` (the default) for the others.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_truncates_at_the_limit_and_then_refuses_steps() {
        let mut p = EpisodeProgress::default();
        assert_eq!(p.record(1.0, false, 2, |r| r > 1.5), (false, None));
        let (truncated, summary) = p.record(1.0, false, 2, |r| r > 1.5);
        assert!(truncated);
        assert_eq!(
            summary,
            Some(EpisodeSummary {
                episode_return: 2.0,
                length: 2,
                success: true
            })
        );
        assert_eq!(p.ensure_running(), Err(Error::EpisodeEnded));
    }

    #[test]
    fn termination_at_the_limit_is_not_truncation() {
        let mut p = EpisodeProgress::default();
        let (truncated, summary) = p.record(-1.0, true, 1, |_| false);
        assert!(!truncated);
        assert_eq!(summary.map(|s| s.length), Some(1));
    }
}

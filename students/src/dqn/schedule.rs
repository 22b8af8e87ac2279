//! What DQN and the QWeb-style DQN share besides their networks: the masked greedy choice and
//! the learning schedule (gradient steps every `train_frequency` env steps after
//! `learning_starts`, target updates every `target_update_interval`).

use crate::error::Result;

use super::config::DqnConfig;
use super::LossStats;

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

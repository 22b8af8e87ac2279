//! The replay buffer of off-policy students (DQN): a fixed-capacity ring of transitions that
//! overwrites the oldest when full, and uniform minibatch sampling with replacement (as SB3's
//! `ReplayBuffer.sample`) from a caller-supplied seeded RNG, so sampling is reproducible.
//!
//! Transitions keep the legal-action mask of their next observation, so that bootstrapped
//! targets only maximise over actions the env would accept.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{check_counts, check_finite, Result, StudentError};

/// One environment transition, as handed to [`ReplayBuffer::push`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition<'a> {
    /// Observation the action was chosen on.
    pub obs: &'a [f32],
    /// Index of the action taken.
    pub action: usize,
    /// Reward of the step.
    pub reward: f32,
    /// Observation after the step. On truncation this must be the true final observation (not
    /// the reset's), since the target bootstraps from it.
    pub next_obs: &'a [f32],
    /// The MDP terminated: the target does not bootstrap. Truncation is *not* termination.
    pub terminated: bool,
    /// Legal actions in `next_obs` (`None`: all legal).
    pub next_mask: Option<&'a [bool]>,
}

/// A sampled minibatch, flat row-major (`batch × obs_dim` observations, `batch × num_actions`
/// masks). Reused across samples to avoid allocation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayBatch {
    /// Observations.
    pub obs: Vec<f32>,
    /// Actions.
    pub actions: Vec<usize>,
    /// Rewards.
    pub rewards: Vec<f32>,
    /// Next observations.
    pub next_obs: Vec<f32>,
    /// 1 where the transition terminated, else 0.
    pub terminated: Vec<f32>,
    /// Legal actions of the next observations.
    pub next_masks: Vec<bool>,
}

impl ReplayBatch {
    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

/// A ring buffer of at most `capacity` transitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBuffer {
    capacity: usize,
    obs_dim: usize,
    num_actions: usize,
    /// Slot the next transition is written to.
    position: usize,
    /// Number of stored transitions (≤ capacity).
    len: usize,
    obs: Vec<f32>,
    actions: Vec<usize>,
    rewards: Vec<f32>,
    next_obs: Vec<f32>,
    terminated: Vec<bool>,
    next_masks: Vec<bool>,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of `obs_dim`-wide observations and
    /// `num_actions` discrete actions. Storage grows as transitions arrive, up to `capacity`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] if any size is 0.
    pub fn new(capacity: usize, obs_dim: usize, num_actions: usize) -> Result<Self> {
        check_counts(&[
            ("buffer_size", capacity as u64),
            ("obs_dim", obs_dim as u64),
            ("num_actions", num_actions as u64),
        ])?;
        Ok(ReplayBuffer {
            capacity,
            obs_dim,
            num_actions,
            position: 0,
            len: 0,
            obs: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            next_obs: Vec::new(),
            terminated: Vec::new(),
            next_masks: Vec::new(),
        })
    }

    /// Maximum number of transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of stored transitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores a transition, overwriting the oldest once full.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for wrong widths or an action out of range,
    /// [`StudentError::NonFinite`] for NaN/∞ observations or reward. Nothing is stored on error.
    pub fn push(&mut self, t: &Transition<'_>) -> Result<()> {
        for (what, values) in [("observation", t.obs), ("next observation", t.next_obs)] {
            if values.len() != self.obs_dim {
                return Err(StudentError::ShapeMismatch {
                    what,
                    expected: format!("({})", self.obs_dim),
                    got: format!("({})", values.len()),
                });
            }
            check_finite(what, values)?;
        }
        check_finite("reward", &[t.reward])?;
        if t.action >= self.num_actions {
            return Err(StudentError::ShapeMismatch {
                what: "action",
                expected: format!("an index in 0..{}", self.num_actions),
                got: t.action.to_string(),
            });
        }
        if let Some(mask) = t.next_mask {
            if mask.len() != self.num_actions {
                return Err(StudentError::ShapeMismatch {
                    what: "next action mask",
                    expected: format!("({})", self.num_actions),
                    got: format!("({})", mask.len()),
                });
            }
        }
        let all_legal = vec![true; self.num_actions];
        let mask = t.next_mask.unwrap_or(&all_legal);
        if self.obs.len() < self.capacity * self.obs_dim && self.position == self.len {
            self.obs.extend_from_slice(t.obs);
            self.next_obs.extend_from_slice(t.next_obs);
            self.actions.push(t.action);
            self.rewards.push(t.reward);
            self.terminated.push(t.terminated);
            self.next_masks.extend_from_slice(mask);
        } else {
            let (i, d, n) = (self.position, self.obs_dim, self.num_actions);
            self.obs[i * d..(i + 1) * d].copy_from_slice(t.obs);
            self.next_obs[i * d..(i + 1) * d].copy_from_slice(t.next_obs);
            self.actions[i] = t.action;
            self.rewards[i] = t.reward;
            self.terminated[i] = t.terminated;
            self.next_masks[i * n..(i + 1) * n].copy_from_slice(mask);
        }
        self.position = (self.position + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        Ok(())
    }

    /// Fills `batch` with `batch_size` transitions drawn uniformly with replacement.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] if the buffer is empty or `batch_size` is 0.
    pub fn sample<R: Rng + ?Sized>(
        &self,
        batch_size: usize,
        rng: &mut R,
        batch: &mut ReplayBatch,
    ) -> Result<()> {
        if self.len == 0 || batch_size == 0 {
            return Err(StudentError::InvalidConfig {
                field: "batch_size",
                reason: format!(
                    "cannot sample {batch_size} transitions from a buffer holding {}",
                    self.len
                ),
            });
        }
        let (d, n) = (self.obs_dim, self.num_actions);
        batch.obs.clear();
        batch.actions.clear();
        batch.rewards.clear();
        batch.next_obs.clear();
        batch.terminated.clear();
        batch.next_masks.clear();
        for _ in 0..batch_size {
            let i = rng.random_range(0..self.len);
            batch.obs.extend_from_slice(&self.obs[i * d..(i + 1) * d]);
            batch
                .next_obs
                .extend_from_slice(&self.next_obs[i * d..(i + 1) * d]);
            batch.actions.push(self.actions[i]);
            batch.rewards.push(self.rewards[i]);
            batch
                .terminated
                .push(if self.terminated[i] { 1.0 } else { 0.0 });
            batch
                .next_masks
                .extend_from_slice(&self.next_masks[i * n..(i + 1) * n]);
        }
        Ok(())
    }

    /// Checks the invariants a deserialised buffer must satisfy (checkpoint restore).
    pub(crate) fn validate(&self, obs_dim: usize, num_actions: usize) -> Result<()> {
        let corrupt = |reason: String| Err(StudentError::CorruptCheckpoint { reason });
        if self.obs_dim != obs_dim || self.num_actions != num_actions || self.capacity == 0 {
            return corrupt(format!(
                "replay buffer is for {} observations and {} actions (capacity {}), the agent \
                 for {obs_dim} and {num_actions}",
                self.obs_dim, self.num_actions, self.capacity
            ));
        }
        let len = self.actions.len();
        let consistent = len == self.len
            && len <= self.capacity
            && self.position < self.capacity
            && (len == self.capacity || self.position == len)
            && self.obs.len() == len * obs_dim
            && self.next_obs.len() == len * obs_dim
            && self.rewards.len() == len
            && self.terminated.len() == len
            && self.next_masks.len() == len * num_actions;
        if !consistent {
            return corrupt("replay buffer lengths are inconsistent".into());
        }
        let finite = self
            .obs
            .iter()
            .chain(&self.next_obs)
            .chain(&self.rewards)
            .all(|v| v.is_finite());
        if !finite || self.actions.iter().any(|&a| a >= num_actions) {
            return corrupt("replay buffer holds non-finite values or bad actions".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    fn transition(obs: &[f32], action: usize) -> Transition<'_> {
        Transition {
            obs,
            action,
            reward: obs[0],
            next_obs: obs,
            terminated: action == 1,
            next_mask: None,
        }
    }

    #[test]
    fn ring_overwrites_the_oldest_and_sampling_is_seeded() {
        let mut buffer = ReplayBuffer::new(3, 1, 2).unwrap();
        for i in 0..5 {
            buffer.push(&transition(&[i as f32], i % 2)).unwrap();
        }
        assert_eq!(buffer.len(), 3);
        // Slots hold 3, 4, 2 (written in that order after wrapping).
        assert_eq!(buffer.obs, vec![3.0, 4.0, 2.0]);
        buffer.validate(1, 2).unwrap();
        let mut a = ReplayBatch::default();
        let mut b = ReplayBatch::default();
        buffer
            .sample(64, &mut Pcg64::seed_from_u64(1), &mut a)
            .unwrap();
        buffer
            .sample(64, &mut Pcg64::seed_from_u64(1), &mut b)
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        for (k, &o) in a.obs.iter().enumerate() {
            assert!([2.0, 3.0, 4.0].contains(&o));
            assert_eq!(a.rewards[k], o);
            assert_eq!(a.actions[k], o as usize % 2);
            assert_eq!(a.terminated[k], if o as usize % 2 == 1 { 1.0 } else { 0.0 });
        }
        // Every stored transition gets drawn.
        for v in [2.0, 3.0, 4.0] {
            assert!(a.obs.contains(&v));
        }
    }

    #[test]
    fn bad_transitions_are_typed_errors_and_store_nothing() {
        let mut buffer = ReplayBuffer::new(4, 2, 3).unwrap();
        assert!(matches!(
            buffer.push(&transition(&[0.0], 0)),
            Err(StudentError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            buffer.push(&transition(&[f32::NAN, 0.0], 0)),
            Err(StudentError::NonFinite { .. })
        ));
        assert!(matches!(
            buffer.push(&transition(&[0.0, 0.0], 3)),
            Err(StudentError::ShapeMismatch { what: "action", .. })
        ));
        let mask = [true, false];
        assert!(matches!(
            buffer.push(&Transition {
                next_mask: Some(&mask),
                ..transition(&[0.0, 0.0], 0)
            }),
            Err(StudentError::ShapeMismatch { .. })
        ));
        assert!(buffer.is_empty());
        assert!(buffer
            .sample(1, &mut Pcg64::seed_from_u64(0), &mut ReplayBatch::default())
            .is_err());
        assert!(ReplayBuffer::new(0, 2, 3).is_err());
    }
}

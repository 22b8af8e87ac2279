//! The replay buffers of off-policy students: fixed-capacity rings of transitions that
//! overwrite the oldest when full, and uniform minibatch sampling with replacement (as SB3's
//! `ReplayBuffer.sample`) from a caller-supplied seeded RNG, so sampling is reproducible.
//!
//! - [`ReplayBuffer`] (DQN): discrete actions; transitions keep the legal-action mask of their
//!   next observation, so that bootstrapped targets only maximise over actions the env would
//!   accept.
//! - [`BoxReplayBuffer`] (SAC): `Box` actions as `f32` vectors. Everything is stored as `f32`
//!   (4 bytes per number), so 2M transitions of the walker (24-wide observations, 4-wide
//!   actions) take 2M × (24 + 24 + 4 + 1) × 4 B + 2 MB of flags ≈ 426 MB. Its checkpoint form
//!   writes each array as base64 of its little-endian bytes (1.33 bytes of text per byte), not
//!   as JSON numbers (≈ 11 bytes per number), and reads back the same bits.

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

/// One transition with a `Box` action, as handed to [`BoxReplayBuffer::push`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxTransition<'a> {
    /// Observation the action was chosen on.
    pub obs: &'a [f32],
    /// The action taken (as the student represents it, e.g. SAC's squashed action in [−1, 1]).
    pub action: &'a [f32],
    /// Reward of the step.
    pub reward: f32,
    /// Observation after the step; on truncation the true final observation.
    pub next_obs: &'a [f32],
    /// The MDP terminated: the target does not bootstrap. Truncation is *not* termination.
    pub terminated: bool,
}

/// A sampled minibatch of [`BoxReplayBuffer`], flat row-major. Reused across samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoxReplayBatch {
    /// Observations (`batch × obs_dim`).
    pub obs: Vec<f32>,
    /// Actions (`batch × act_dim`).
    pub actions: Vec<f32>,
    /// Rewards.
    pub rewards: Vec<f32>,
    /// Next observations (`batch × obs_dim`).
    pub next_obs: Vec<f32>,
    /// 1 where the transition terminated, else 0.
    pub terminated: Vec<f32>,
}

impl BoxReplayBatch {
    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }
}

/// A ring buffer of at most `capacity` transitions with `act_dim`-wide `Box` actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxReplayBuffer {
    capacity: usize,
    obs_dim: usize,
    act_dim: usize,
    /// Slot the next transition is written to.
    position: usize,
    /// Number of stored transitions (≤ capacity).
    len: usize,
    #[serde(with = "f32_base64")]
    obs: Vec<f32>,
    #[serde(with = "f32_base64")]
    actions: Vec<f32>,
    #[serde(with = "f32_base64")]
    rewards: Vec<f32>,
    #[serde(with = "f32_base64")]
    next_obs: Vec<f32>,
    terminated: Vec<bool>,
}

impl BoxReplayBuffer {
    /// An empty buffer for `capacity` transitions of `obs_dim`-wide observations and
    /// `act_dim`-wide actions. Storage grows as transitions arrive, up to `capacity`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] if any size is 0.
    pub fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Result<Self> {
        check_counts(&[
            ("buffer_size", capacity as u64),
            ("obs_dim", obs_dim as u64),
            ("act_dim", act_dim as u64),
        ])?;
        Ok(BoxReplayBuffer {
            capacity,
            obs_dim,
            act_dim,
            position: 0,
            len: 0,
            obs: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            next_obs: Vec::new(),
            terminated: Vec::new(),
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

    /// Bytes held by the stored transitions.
    pub fn memory_bytes(&self) -> usize {
        4 * (self.obs.len() + self.actions.len() + self.rewards.len() + self.next_obs.len())
            + self.terminated.len()
    }

    /// Stores a transition, overwriting the oldest once full.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for wrong widths, [`StudentError::NonFinite`] for NaN/∞.
    /// Nothing is stored on error.
    pub fn push(&mut self, t: &BoxTransition<'_>) -> Result<()> {
        for (what, values, width) in [
            ("observation", t.obs, self.obs_dim),
            ("next observation", t.next_obs, self.obs_dim),
            ("action", t.action, self.act_dim),
        ] {
            if values.len() != width {
                return Err(StudentError::ShapeMismatch {
                    what,
                    expected: format!("({width})"),
                    got: format!("({})", values.len()),
                });
            }
            check_finite(what, values)?;
        }
        check_finite("reward", &[t.reward])?;
        if self.position == self.rewards.len() {
            self.obs.extend_from_slice(t.obs);
            self.next_obs.extend_from_slice(t.next_obs);
            self.actions.extend_from_slice(t.action);
            self.rewards.push(t.reward);
            self.terminated.push(t.terminated);
        } else {
            let (i, d, a) = (self.position, self.obs_dim, self.act_dim);
            self.obs[i * d..(i + 1) * d].copy_from_slice(t.obs);
            self.next_obs[i * d..(i + 1) * d].copy_from_slice(t.next_obs);
            self.actions[i * a..(i + 1) * a].copy_from_slice(t.action);
            self.rewards[i] = t.reward;
            self.terminated[i] = t.terminated;
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
        batch: &mut BoxReplayBatch,
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
        let (d, a) = (self.obs_dim, self.act_dim);
        batch.obs.clear();
        batch.actions.clear();
        batch.rewards.clear();
        batch.next_obs.clear();
        batch.terminated.clear();
        for _ in 0..batch_size {
            let i = rng.random_range(0..self.len);
            batch.obs.extend_from_slice(&self.obs[i * d..(i + 1) * d]);
            batch
                .next_obs
                .extend_from_slice(&self.next_obs[i * d..(i + 1) * d]);
            batch
                .actions
                .extend_from_slice(&self.actions[i * a..(i + 1) * a]);
            batch.rewards.push(self.rewards[i]);
            batch
                .terminated
                .push(if self.terminated[i] { 1.0 } else { 0.0 });
        }
        Ok(())
    }

    /// Empties the buffer (TeachMyAgent's forgetting student resets it with the weights).
    pub fn clear(&mut self) {
        *self = BoxReplayBuffer::new(self.capacity, self.obs_dim, self.act_dim)
            .expect("the sizes were valid when the buffer was built");
    }

    /// Checks the invariants a deserialised buffer must satisfy (checkpoint restore).
    pub(crate) fn validate(&self, obs_dim: usize, act_dim: usize) -> Result<()> {
        let corrupt = |reason: String| Err(StudentError::CorruptCheckpoint { reason });
        if self.obs_dim != obs_dim || self.act_dim != act_dim || self.capacity == 0 {
            return corrupt(format!(
                "replay buffer is for {}-wide observations and {}-wide actions (capacity {}), \
                 the agent for {obs_dim} and {act_dim}",
                self.obs_dim, self.act_dim, self.capacity
            ));
        }
        let len = self.rewards.len();
        let consistent = len == self.len
            && len <= self.capacity
            && self.position < self.capacity
            && (len == self.capacity || self.position == len)
            && self.obs.len() == len * obs_dim
            && self.next_obs.len() == len * obs_dim
            && self.actions.len() == len * act_dim
            && self.terminated.len() == len;
        if !consistent {
            return corrupt("replay buffer lengths are inconsistent".into());
        }
        let finite = self
            .obs
            .iter()
            .chain(&self.next_obs)
            .chain(&self.actions)
            .chain(&self.rewards)
            .all(|v| v.is_finite());
        if !finite {
            return corrupt("replay buffer holds non-finite values".into());
        }
        Ok(())
    }
}

/// `Vec<f32>` as base64 of its little-endian bytes: exact, and 8× shorter than JSON numbers.
mod f32_base64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let bytes = STANDARD.decode(text.as_bytes()).map_err(D::Error::custom)?;
        if bytes.len() % 4 != 0 {
            return Err(D::Error::custom(format!(
                "{} bytes is not a whole number of f32 values",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
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

    #[test]
    fn box_buffer_rings_samples_and_round_trips_through_json_bit_for_bit() {
        let mut buffer = BoxReplayBuffer::new(3, 2, 1).unwrap();
        for i in 0..5 {
            let x = i as f32 + 0.1;
            buffer
                .push(&BoxTransition {
                    obs: &[x, -x],
                    action: &[x / 7.0],
                    reward: x,
                    next_obs: &[x + 1.0, f32::MIN_POSITIVE],
                    terminated: i % 2 == 0,
                })
                .unwrap();
        }
        assert_eq!(buffer.len(), 3);
        assert_eq!(buffer.rewards, vec![3.1, 4.1, 2.1]);
        let text = serde_json::to_string(&buffer).unwrap();
        let back: BoxReplayBuffer = serde_json::from_str(&text).unwrap();
        assert_eq!(back, buffer);
        back.validate(2, 1).unwrap();
        let (mut a, mut b) = (BoxReplayBatch::default(), BoxReplayBatch::default());
        buffer
            .sample(32, &mut Pcg64::seed_from_u64(3), &mut a)
            .unwrap();
        back.sample(32, &mut Pcg64::seed_from_u64(3), &mut b)
            .unwrap();
        assert_eq!(a, b);
        for k in 0..a.len() {
            assert_eq!(a.obs[2 * k], a.rewards[k]);
            assert_eq!(a.actions[k], a.rewards[k] / 7.0);
        }
        // A truncated array is a typed restore error, not a panic.
        let mut corrupt: serde_json::Value = serde_json::from_str(&text).unwrap();
        corrupt["rewards"] = serde_json::Value::String("AAAAAA==".into()); // one f32
        let restored: BoxReplayBuffer = serde_json::from_value(corrupt).unwrap();
        assert!(matches!(
            restored.validate(2, 1),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let mut corrupt: serde_json::Value = serde_json::from_str(&text).unwrap();
        corrupt["obs"] = serde_json::Value::String("AAA=".into());
        assert!(serde_json::from_value::<BoxReplayBuffer>(corrupt).is_err());
    }

    #[test]
    fn box_buffer_refuses_bad_transitions_and_stores_nothing() {
        let mut buffer = BoxReplayBuffer::new(4, 2, 2).unwrap();
        let good = BoxTransition {
            obs: &[0.0, 0.0],
            action: &[0.5, -0.5],
            reward: 1.0,
            next_obs: &[0.0, 1.0],
            terminated: false,
        };
        assert!(matches!(
            buffer.push(&BoxTransition {
                action: &[0.5],
                ..good
            }),
            Err(StudentError::ShapeMismatch { what: "action", .. })
        ));
        assert!(matches!(
            buffer.push(&BoxTransition {
                action: &[f32::NAN, 0.0],
                ..good
            }),
            Err(StudentError::NonFinite { what: "action", .. })
        ));
        assert!(matches!(
            buffer.push(&BoxTransition {
                reward: f32::INFINITY,
                ..good
            }),
            Err(StudentError::NonFinite { .. })
        ));
        assert!(buffer.is_empty());
        buffer.push(&good).unwrap();
        assert_eq!(buffer.memory_bytes(), 4 * (2 + 2 + 1 + 2) + 1);
        buffer.clear();
        assert!(buffer.is_empty());
    }
}

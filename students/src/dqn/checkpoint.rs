//! DQN checkpoints: the whole learner (online and target networks, Adam, replay buffer, RNG,
//! step counters) as versioned JSON whose floats round-trip exactly.

use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::error::{Result, StudentError};
use crate::replay::ReplayBuffer;

use super::*;

impl DqnAgent {
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

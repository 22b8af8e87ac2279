//! SAC checkpoints: the whole learner (policy, critics, targets, V network, Adam moments, α,
//! replay buffer, RNG, step counters) as versioned JSON that restores bit for bit.

use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{AdamState, Checkpoint};
use crate::error::{Result, StudentError};
use crate::replay::BoxReplayBuffer;

use super::*;

/// Serialised form of a [`SacAgent`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SacCheckpoint {
    format_version: u32,
    config: SacConfig,
    actor: Checkpoint,
    critics: Vec<Checkpoint>,
    /// Target critics (SAC v2), without optimiser state.
    critic_targets: Option<Vec<Checkpoint>>,
    /// V and its target (SpinningUp 0.1.1).
    value: Option<(Checkpoint, Checkpoint)>,
    log_alpha: f32,
    alpha_optimizer: Option<AdamState>,
    action_scale: Vec<f32>,
    action_bias: Vec<f32>,
    replay: BoxReplayBuffer,
    rng: Pcg64,
    env_steps: u64,
    gradient_updates: u64,
}

impl SacAgent {
    /// The whole learner state, replay buffer included, as JSON; every float round-trips
    /// exactly.
    pub fn to_json(&self) -> String {
        let state = SacCheckpoint {
            format_version: SAC_CHECKPOINT_VERSION,
            config: self.config.clone(),
            actor: Checkpoint::capture(&self.actor, Some(&self.actor_adam)),
            critics: self
                .critics
                .iter()
                .zip(&self.critic_adams)
                .map(|(net, adam)| Checkpoint::capture(net, Some(adam)))
                .collect(),
            critic_targets: self.critic_targets.as_ref().map(|targets| {
                targets
                    .iter()
                    .map(|t| Checkpoint::capture(t, None))
                    .collect()
            }),
            value: self.value.as_ref().map(|v| {
                (
                    Checkpoint::capture(&v.net, Some(&v.adam)),
                    Checkpoint::capture(&v.target, None),
                )
            }),
            log_alpha: self.log_alpha,
            alpha_optimizer: self.alpha_adam.as_ref().map(AdamState::capture),
            action_scale: self.action_scale.clone(),
            action_bias: self.action_bias.clone(),
            replay: self.replay.clone(),
            rng: self.rng.clone(),
            env_steps: self.env_steps,
            gradient_updates: self.gradient_updates,
        };
        serde_json::to_string(&state).expect("a SAC checkpoint has only plain values")
    }

    /// Restores an agent written by [`SacAgent::to_json`].
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`] for another version,
    /// [`StudentError::CorruptCheckpoint`] for unparsable or inconsistent text.
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let state: SacCheckpoint =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if state.format_version != SAC_CHECKPOINT_VERSION {
            return Err(StudentError::UnsupportedCheckpointVersion {
                found: state.format_version,
                supported: SAC_CHECKPOINT_VERSION,
            });
        }
        let config = state.config;
        config
            .validate()
            .map_err(|e| corrupt(format!("config: {e}")))?;
        let (actor, actor_adam) = state.actor.restore()?;
        let (obs_dim, act_dim) = (actor.inputs(), actor.outputs() / 2);
        // The network shapes this config builds, to compare the restored ones against.
        let reference = SacAgent::new(config.clone(), obs_dim, act_dim.max(1), 0)
            .map_err(|e| corrupt(format!("networks: {e}")))?;
        let shape = |net: &Mlp| net.config().clone();
        let mut critics = Vec::new();
        let mut critic_adams = Vec::new();
        for part in &state.critics {
            let (net, adam) = part.restore()?;
            critics.push(net);
            critic_adams.push(adam.ok_or_else(|| corrupt("critic optimiser missing".into()))?);
        }
        let critic_targets = match state.critic_targets {
            Some(parts) => Some(
                parts
                    .iter()
                    .map(|p| Ok(p.restore()?.0))
                    .collect::<Result<Vec<Mlp>>>()?,
            ),
            None => None,
        };
        let value = match state.value {
            Some((net, target)) => {
                let (net, adam) = net.restore()?;
                Some(ValueNet {
                    adam: adam.ok_or_else(|| corrupt("V optimiser missing".into()))?,
                    target: target.restore()?.0,
                    net,
                })
            }
            None => None,
        };
        let shapes_match = shape(&actor) == shape(&reference.actor)
            && critics.len() == 2
            && critics
                .iter()
                .all(|c| shape(c) == shape(&reference.critics[0]))
            && match (&critic_targets, &reference.critic_targets) {
                (Some(t), Some(_)) => {
                    t.len() == 2 && t.iter().all(|c| shape(c) == shape(&reference.critics[0]))
                }
                (None, None) => true,
                _ => false,
            }
            && match (&value, &reference.value) {
                (Some(v), Some(r)) => {
                    shape(&v.net) == shape(&r.net) && shape(&v.target) == shape(&r.net)
                }
                (None, None) => true,
                _ => false,
            };
        if !shapes_match {
            return Err(corrupt(format!(
                "networks do not match the config (hidden sizes {:?}, value network {})",
                config.hidden_sizes, config.value_network
            )));
        }
        let bounds_ok = state.action_scale.len() == act_dim
            && state.action_bias.len() == act_dim
            && state
                .action_scale
                .iter()
                .chain(&state.action_bias)
                .all(|v| v.is_finite());
        if !bounds_ok || !state.log_alpha.is_finite() {
            return Err(corrupt(
                "action bounds or log α are missing or non-finite".into(),
            ));
        }
        let alpha_adam = match (state.alpha_optimizer, config.autotune_alpha) {
            (Some(adam), true) => Some(
                adam.restore_into(Adam::for_tensor_lengths(config.adam(), &[1])?)
                    .map_err(|e| corrupt(format!("α optimiser: {e}")))?,
            ),
            (None, false) => None,
            _ => {
                return Err(corrupt(
                    "the α optimiser does not match autotune_alpha".into(),
                ))
            }
        };
        if state.replay.capacity() != config.buffer_size {
            return Err(corrupt(format!(
                "replay capacity {} differs from buffer_size {}",
                state.replay.capacity(),
                config.buffer_size
            )));
        }
        state.replay.validate(obs_dim, act_dim)?;
        let [c1, c2]: [Mlp; 2] = critics.try_into().expect("two critics, checked above");
        let [a1, a2]: [Adam; 2] = critic_adams
            .try_into()
            .map_err(|_| corrupt("expected two critic optimisers".into()))?;
        Ok(SacAgent {
            config,
            actor,
            actor_adam: actor_adam.ok_or_else(|| corrupt("policy optimiser missing".into()))?,
            critics: [c1, c2],
            critic_adams: [a1, a2],
            critic_targets: critic_targets
                .map(|t| t.try_into().expect("two target critics, checked above")),
            value,
            log_alpha: state.log_alpha,
            alpha_adam,
            action_scale: state.action_scale,
            action_bias: state.action_bias,
            replay: state.replay,
            rng: state.rng,
            env_steps: state.env_steps,
            gradient_updates: state.gradient_updates,
            last_update: SacStats::default(),
            scratch: Scratch::default(),
        })
    }
}

//! PPO checkpoints: the whole agent (networks, Adam moments, normalisers, RNG, the copies'
//! discounted returns) as versioned JSON whose floats round-trip exactly.

use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{AdamState, Checkpoint};
use crate::error::{Result, StudentError};

use super::*;

impl PpoAgent {
    /// The whole learner state (networks, log-std, optimisers, normalisers, RNG) as JSON; every
    /// float round-trips exactly.
    pub fn to_json(&self) -> String {
        let state = PpoCheckpoint {
            format_version: PPO_CHECKPOINT_VERSION,
            config: self.config.clone(),
            actor: Checkpoint::capture(&self.actor, Some(&self.actor_adam)),
            critic: Checkpoint::capture(&self.critic, Some(&self.critic_adam)),
            head: match &self.head {
                PolicyHead::Gaussian { log_std, adam } => HeadState::Gaussian {
                    log_std: log_std.clone(),
                    optimizer: AdamState::capture(adam),
                },
                PolicyHead::Categorical => HeadState::Categorical,
            },
            obs_rms: self.obs_rms.clone(),
            return_rms: self.return_rms.clone(),
            rng: self.rng.clone(),
            env_returns: self.env_returns.clone(),
        };
        serde_json::to_string(&state).expect("a PPO checkpoint has only plain values")
    }

    /// Restores an agent written by [`PpoAgent::to_json`].
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`] for another version,
    /// [`StudentError::CorruptCheckpoint`] for unparsable or inconsistent text.
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let state: PpoCheckpoint =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if state.format_version != PPO_CHECKPOINT_VERSION {
            return Err(StudentError::UnsupportedCheckpointVersion {
                found: state.format_version,
                supported: PPO_CHECKPOINT_VERSION,
            });
        }
        state
            .config
            .validate()
            .map_err(|e| corrupt(format!("config: {e}")))?;
        let (actor, actor_adam) = state.actor.restore()?;
        let (critic, critic_adam) = state.critic.restore()?;
        let (obs_dim, act_dim) = (actor.inputs(), actor.outputs());
        let hidden = |net: &Mlp| {
            let sizes = net.config().layer_sizes();
            sizes[1..sizes.len() - 1].to_vec()
        };
        if critic.inputs() != obs_dim
            || critic.outputs() != 1
            || hidden(&actor) != state.config.hidden_sizes
            || hidden(&critic) != state.config.hidden_sizes
        {
            return Err(corrupt(
                "policy and value networks do not match the config".into(),
            ));
        }
        if !state.obs_rms.is_valid(obs_dim)
            || !state.return_rms.is_valid(1)
            || !state.env_returns.iter().all(|v| v.is_finite())
        {
            return Err(corrupt("normaliser statistics are inconsistent".into()));
        }
        let head = match state.head {
            HeadState::Gaussian { log_std, optimizer } => {
                if log_std.len() != act_dim || !log_std.iter().all(|v| v.is_finite()) {
                    return Err(corrupt(format!(
                        "log_std must hold {act_dim} finite values"
                    )));
                }
                let adam = Adam::for_tensor_lengths(optimizer.config, &[act_dim])
                    .and_then(|fresh| optimizer.restore_into(fresh))
                    .map_err(|e| corrupt(format!("log-std optimiser: {e}")))?;
                PolicyHead::Gaussian { log_std, adam }
            }
            HeadState::Categorical => PolicyHead::Categorical,
        };
        let (Some(actor_adam), Some(critic_adam)) = (actor_adam, critic_adam) else {
            return Err(corrupt("optimiser state missing".into()));
        };
        Ok(PpoAgent {
            config: state.config,
            actor,
            critic,
            head,
            actor_adam,
            critic_adam,
            obs_rms: state.obs_rms,
            return_rms: state.return_rms,
            rng: state.rng,
            env_returns: state.env_returns,
            last_update: UpdateStats::default(),
            buffers: InferenceBuffers::default(),
        })
    }
}

/// Serialised form of a [`PpoAgent`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PpoCheckpoint {
    format_version: u32,
    config: PpoConfig,
    actor: Checkpoint,
    critic: Checkpoint,
    head: HeadState,
    obs_rms: RunningMeanStd,
    return_rms: RunningMeanStd,
    rng: Pcg64,
    #[serde(default)]
    env_returns: Vec<f64>,
}

/// Serialised form of a [`PolicyHead`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum HeadState {
    Gaussian {
        log_std: Vec<f32>,
        optimizer: AdamState,
    },
    Categorical,
}

//! DQN as a [`Student`] of the curriculum loop, CleanRL's `dqn.py` loop over N env copies: one
//! iteration = one lock-step step of every copy with ε-greedy actions (masked by the envs'
//! action masks), N transitions into the replay buffer (bootstrapping from the true final
//! observation on truncation), then [`DqnAgent::learn`] at the new global step, which runs
//! every gradient step and target update the schedule placed on the steps just taken.

use teachgym_core::Env;

use super::DqnAgent;
use crate::error::Result;
use crate::replay::Transition;
use crate::student::{Student, TrainClock};
use crate::vec_env::VecEnv;

impl<E> Student<E> for DqnAgent
where
    E: Env<Obs = Vec<f32>, Action = usize> + Send,
{
    type Action = usize;

    fn name(&self) -> &'static str {
        "dqn"
    }

    fn check_env(&self, env: &E) -> Result<()> {
        self.check_spaces(env)
    }

    fn train_iteration(&mut self, envs: &mut VecEnv<E, usize>, clock: TrainClock) -> Result<()> {
        let obs: Vec<f32> = envs.observations().concat();
        let masks = envs.action_masks();
        let mut actions = Vec::with_capacity(envs.len());
        // The agent counts its own env steps (`learned_through`: in a `Trainer` run the vector
        // env's global step), so that a second single-env `train` call continues the schedules.
        // ε follows the env steps taken before this one (CleanRL's `global_step`).
        let steps_before = self.learned_through;
        self.select_actions(&obs, masks.as_deref(), steps_before, false, &mut actions)?;
        let steps = envs.step(&actions)?;
        let next_masks = envs.action_masks();
        let (d, n) = (self.obs_dim(), self.num_actions());
        for (i, step) in steps.iter().enumerate() {
            // CRUCIAL: on an episode end, the final observation (and its mask), not the reset's.
            let (next_obs, next_mask) = match &step.final_obs {
                Some(final_obs) => (final_obs.as_slice(), step.final_mask.as_deref()),
                None => (
                    envs.observations()[i].as_slice(),
                    next_masks.as_deref().map(|m| &m[i * n..(i + 1) * n]),
                ),
            };
            self.store(&Transition {
                obs: &obs[i * d..(i + 1) * d],
                action: actions[i],
                reward: step.reward as f32,
                next_obs,
                terminated: step.terminated,
                next_mask,
            })?;
        }
        if self.config().anneal_lr {
            let lr = self.config().learning_rate_at(clock);
            for adam in &mut self.optimizers {
                adam.set_learning_rate(lr)?;
            }
        }
        self.learn(steps_before + envs.len() as u64)?;
        Ok(())
    }

    fn act_greedy(&mut self, obs: &Vec<f32>, mask: Option<&[bool]>) -> Result<usize> {
        let mut out = Vec::with_capacity(1);
        self.select_actions(obs, mask, 0, true, &mut out)?;
        Ok(out[0])
    }

    fn to_json(&self) -> String {
        DqnAgent::to_json(self)
    }

    fn from_json(text: &str) -> Result<Self> {
        DqnAgent::from_json(text)
    }
}

//! PPO as a [`Student`] of the curriculum loop: one iteration = one rollout of
//! `rollout_steps` transitions collected from the N copies of a [`VecEnv`] in lock-step
//! (`⌈rollout_steps / N⌉` steps per copy, CleanRL's `num_steps × num_envs` batch), GAE per copy,
//! then the same minibatch update as the single-env [`PpoAgent::train`].
//!
//! Observations are normalised when they arrive (updating the running statistics in env-index
//! order); the copies' current observations at the start of an iteration are re-normalised with
//! the current statistics, so that a resumed run (whose env copies are rebuilt by replay) needs
//! no hidden per-copy state besides the discounted returns of reward scaling, which the agent's
//! checkpoint holds.

use teachgym_core::Env;

use super::{PolicyAction, PpoAgent, Rollout};
use crate::error::Result;
use crate::student::{Student, TrainClock};
use crate::vec_env::VecEnv;

impl<E> Student<E> for PpoAgent
where
    E: Env<Obs = Vec<f32>> + Send,
    E::Action: PolicyAction,
{
    type Action = <E::Action as PolicyAction>::Owned;

    fn name(&self) -> &'static str {
        "ppo"
    }

    fn check_env(&self, env: &E) -> Result<()> {
        self.check_spaces(env)
    }

    fn train_iteration(
        &mut self,
        envs: &mut VecEnv<E, Self::Action>,
        clock: TrainClock,
    ) -> Result<()> {
        let cfg = self.config.clone();
        let n_envs = envs.len();
        let steps_per_env = cfg.rollout_steps.div_ceil(n_envs);
        if self.env_returns.len() != n_envs {
            self.env_returns = vec![0.0; n_envs];
        }
        // Learning-rate annealing by the share of the budget left (CleanRL's `1 − (k−1)/K`).
        let lr = self.anneal_learning_rate(clock.remaining_fraction())?;

        // Rollout layout: copy-major, index = copy · steps_per_env + t.
        let mut rollout = Rollout::new(steps_per_env * n_envs, self.obs_dim(), self.action_width());
        let mut obs: Vec<Vec<f32>> = Vec::with_capacity(n_envs);
        for raw in envs.observations() {
            self.check_obs(raw)?;
            obs.push(self.normalize(raw));
        }
        let mut actions = Vec::with_capacity(n_envs);
        let mut env_actions = Vec::with_capacity(n_envs);
        let mut log_probs = Vec::with_capacity(n_envs);
        let mut values = Vec::with_capacity(n_envs);
        for t in 0..steps_per_env {
            actions.clear();
            env_actions.clear();
            log_probs.clear();
            values.clear();
            for o in &obs {
                values.push(self.value(o)?);
                let (action, log_prob) = self.sample(o, false)?;
                env_actions.push(E::Action::from_flat(&action));
                actions.push(action);
                log_probs.push(log_prob);
            }
            let transitions = envs.step(&env_actions)?;
            for (i, tr) in transitions.into_iter().enumerate() {
                // Reward scaling by the running std of each copy's discounted return.
                let mut reward = tr.reward;
                if cfg.norm_reward {
                    self.env_returns[i] = self.env_returns[i] * cfg.gamma + reward;
                    self.return_rms.update(&[self.env_returns[i]]);
                    let clip = cfg.reward_clip as f64;
                    reward = (reward / (self.return_rms.var[0] + super::NORM_EPSILON).sqrt())
                        .clamp(-clip, clip);
                }
                let done = tr.terminated || tr.truncated;
                if let Some(final_obs) = &tr.final_obs {
                    let last = self.observe(final_obs)?;
                    // Bootstrap on truncation (the MDP goes on), not on termination.
                    if tr.truncated && !tr.terminated {
                        reward += cfg.gamma * self.value(&last)? as f64;
                    }
                    self.env_returns[i] = 0.0;
                }
                rollout.store(
                    i * steps_per_env + t,
                    &obs[i],
                    &actions[i],
                    log_probs[i],
                    values[i],
                    reward as f32,
                    done,
                );
                obs[i] = self.observe(&envs.observations()[i])?;
            }
        }
        let mut last_values = Vec::with_capacity(n_envs);
        for o in &obs {
            last_values.push(self.value(o)?);
        }
        rollout.compute_gae_per_copy(&last_values, cfg.gamma, cfg.gae_lambda);
        self.update(&rollout, lr)
    }

    /// PPO's policy is trained without masks, so `mask` is ignored.
    fn act_greedy(&mut self, obs: &Vec<f32>, _mask: Option<&[bool]>) -> Result<Self::Action> {
        self.check_obs(obs)?;
        let normalized = self.normalize(obs);
        let (action, _) = self.sample(&normalized, true)?;
        Ok(E::Action::from_flat(&action))
    }

    fn to_json(&self) -> String {
        PpoAgent::to_json(self)
    }

    fn from_json(text: &str) -> Result<Self> {
        PpoAgent::from_json(text)
    }
}

impl Rollout {
    /// GAE(λ) for a copy-major rollout of `last_values.len()` copies, each copy's segment
    /// bootstrapped with that copy's value: `δ_t = r_t + γ·V(s_{t+1})·(1 − done_t) − V(s_t)`,
    /// `A_t = δ_t + γλ·(1 − done_t)·A_{t+1}`; returns = A + V. Truncations were already
    /// bootstrapped into `r_t`, so `done_t` cuts both.
    pub(super) fn compute_gae_per_copy(&mut self, last_values: &[f32], gamma: f64, lambda: f64) {
        let steps = self.len / last_values.len();
        for (copy, &last_value) in last_values.iter().enumerate() {
            let range = copy * steps..(copy + 1) * steps;
            let mut gae = 0.0f64;
            for t in range.clone().rev() {
                let next_value = if t + 1 == range.end {
                    last_value
                } else {
                    self.values[t + 1]
                } as f64;
                let not_done = if self.dones[t] { 0.0 } else { 1.0 };
                let delta =
                    self.rewards[t] as f64 + gamma * next_value * not_done - self.values[t] as f64;
                gae = delta + gamma * lambda * not_done * gae;
                self.advantages[t] = gae as f32;
                self.returns[t] = (gae + self.values[t] as f64) as f32;
            }
        }
    }
}

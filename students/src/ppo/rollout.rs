//! The rollout buffer of one PPO iteration (flat, copy-major arrays) and GAE(λ) over it.

/// One rollout, flat row-major arrays.
pub(super) struct Rollout {
    pub(super) len: usize,
    pub(super) obs_dim: usize,
    pub(super) act_dim: usize,
    pub(super) obs: Vec<f32>,
    pub(super) actions: Vec<f32>,
    pub(super) log_probs: Vec<f32>,
    pub(super) values: Vec<f32>,
    pub(super) rewards: Vec<f32>,
    pub(super) dones: Vec<bool>,
    pub(super) advantages: Vec<f32>,
    pub(super) returns: Vec<f32>,
}

impl Rollout {
    pub(super) fn new(len: usize, obs_dim: usize, act_dim: usize) -> Self {
        Rollout {
            len,
            obs_dim,
            act_dim,
            obs: vec![0.0; len * obs_dim],
            actions: vec![0.0; len * act_dim],
            log_probs: vec![0.0; len],
            values: vec![0.0; len],
            rewards: vec![0.0; len],
            dones: vec![false; len],
            advantages: vec![0.0; len],
            returns: vec![0.0; len],
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn store(
        &mut self,
        t: usize,
        obs: &[f32],
        action: &[f32],
        log_prob: f32,
        value: f32,
        reward: f32,
        done: bool,
    ) {
        self.obs[t * self.obs_dim..(t + 1) * self.obs_dim].copy_from_slice(obs);
        self.actions[t * self.act_dim..(t + 1) * self.act_dim].copy_from_slice(action);
        self.log_probs[t] = log_prob;
        self.values[t] = value;
        self.rewards[t] = reward;
        self.dones[t] = done;
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

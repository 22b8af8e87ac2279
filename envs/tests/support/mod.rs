//! Helpers shared by the walker integration tests.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::WalkerEnv;

/// Observations, rewards and end flags of `steps` seeded random actions, as bit patterns,
/// resetting (with the next seed) when an episode ends.
pub fn trajectory(env: &mut WalkerEnv, seed: u64, task: &[f64], steps: usize) -> Vec<u64> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x5eed);
    let n = env.body().action_dim();
    let (obs, _) = env.reset(Some(seed), task).unwrap();
    let mut out: Vec<u64> = obs.iter().map(|v| u64::from(v.to_bits())).collect();
    for _ in 0..steps {
        let s = env
            .step(
                &(0..n)
                    .map(|_| rng.random_range(-1.0..=1.0))
                    .collect::<Vec<f32>>(),
            )
            .unwrap();
        out.extend(s.obs.iter().map(|v| u64::from(v.to_bits())));
        out.push(s.reward.to_bits());
        out.push(u64::from(s.terminated) << 1 | u64::from(s.truncated));
        if s.terminated || s.truncated {
            let (obs, _) = env.reset(None, task).unwrap();
            out.extend(obs.iter().map(|v| u64::from(v.to_bits())));
        }
    }
    out
}

//! Running policies in a walker env: the random and scripted policies, episode loops, the
//! random-policy statistics used to calibrate against Box2D, and a throughput measurement.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::{Env, EpisodeSummary, Result};
use teachgym_envs::walker::constants::FALL_REWARD;
use teachgym_envs::{ScriptedWalker, WalkerEnv};

/// A policy that needs no training.
#[derive(Debug, Clone)]
pub enum Policy {
    /// Uniform actions in [-1, 1]^m from a seeded RNG.
    Random(Pcg64),
    /// The scripted bipedal gait.
    Scripted(ScriptedWalker),
}

impl Policy {
    /// Parses `random` or `scripted`; the seed drives the random policy.
    pub fn from_name(name: &str, seed: u64) -> Option<Self> {
        match name {
            "random" => Some(Policy::Random(Pcg64::seed_from_u64(seed))),
            "scripted" => Some(Policy::Scripted(ScriptedWalker::default())),
            _ => None,
        }
    }

    /// Called at every reset.
    pub fn reset(&mut self) {
        if let Policy::Scripted(w) = self {
            w.reset();
        }
    }

    /// Fills `action` for `obs`.
    pub fn act(&mut self, obs: &[f32], action: &mut [f32]) {
        match self {
            Policy::Random(rng) => action
                .iter_mut()
                .for_each(|a| *a = rng.random_range(-1.0..=1.0)),
            Policy::Scripted(w) => action.copy_from_slice(&w.act(obs)[..action.len()]),
        }
    }
}

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeEnd {
    /// Return, length and success.
    pub summary: EpisodeSummary,
    /// Ended by a fall (reward −100).
    pub fell: bool,
    /// Ended by the step limit.
    pub truncated: bool,
    /// Hull x at the end (m).
    pub final_x: f32,
}

/// Runs one episode on `task`, calling `on_step` after reset and after every step.
///
/// # Errors
/// An invalid task.
pub fn run_episode(
    env: &mut WalkerEnv,
    task: &[f64],
    seed: Option<u64>,
    policy: &mut Policy,
    mut on_step: impl FnMut(&WalkerEnv),
) -> Result<EpisodeEnd> {
    let (mut obs, _) = env.reset(seed, task)?;
    policy.reset();
    on_step(env);
    let mut action = vec![0.0; env.body().action_dim()];
    loop {
        policy.act(&obs, &mut action);
        let step = env.step(&action)?;
        on_step(env);
        if let Some(summary) = step.info.episode {
            return Ok(EpisodeEnd {
                summary,
                fell: step.terminated && step.reward == FALL_REWARD,
                truncated: step.truncated,
                final_x: env.hull_x().unwrap_or(0.0),
            });
        }
        obs = step.obs;
    }
}

/// Aggregate statistics of a policy over a fixed number of steps.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RolloutStats {
    /// Steps simulated.
    pub steps: u64,
    /// Episodes finished.
    pub episodes: u64,
    /// Episodes ended by a fall.
    pub falls: u64,
    /// Episodes ended by the step limit.
    pub timeouts: u64,
    /// Episodes in which the body died of water (Parkour; the episode then runs on).
    pub deaths: u64,
    /// Mean head x (m) at the end of finished episodes.
    pub mean_final_x: f64,
    /// Mean length of finished episodes.
    pub mean_length: f64,
    /// Mean return of finished episodes.
    pub mean_return: f64,
    /// Digest of every observation and reward, bit for bit ([`TrajectoryDigest`]): two builds
    /// that agree on it simulated the same trajectories.
    pub trajectory_digest: u64,
}

/// 64-bit FNV-1a over the bit patterns of observations and rewards. Defined by its algorithm
/// (unlike `std`'s `DefaultHasher`), so digests compare across builds and Rust versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrajectoryDigest(u64);

impl Default for TrajectoryDigest {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl TrajectoryDigest {
    fn add_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Adds one step: its observation and reward (a reset adds its observation with reward 0).
    pub fn add_step(&mut self, obs: &[f32], reward: f64) {
        for v in obs {
            self.add_bytes(&v.to_bits().to_le_bytes());
        }
        self.add_bytes(&reward.to_bits().to_le_bytes());
    }

    /// The digest so far.
    pub fn value(&self) -> u64 {
        self.0
    }
}

/// Runs a policy for `steps` env steps on `task`, resetting after each episode (seeds
/// `seed, seed + 1, ...`), as the reference measurement "20k random steps" does.
///
/// # Errors
/// An invalid task.
pub fn policy_stats(
    env: &mut WalkerEnv,
    task: &[f64],
    seed: u64,
    steps: u64,
    policy: &mut Policy,
) -> Result<RolloutStats> {
    let mut digest = TrajectoryDigest::default();
    let mut stats = run_policy(env, task, seed, steps, policy, Some(&mut digest))?;
    stats.trajectory_digest = digest.value();
    Ok(stats)
}

/// [`policy_stats`], with the digest optional (the throughput measurement leaves it out).
fn run_policy(
    env: &mut WalkerEnv,
    task: &[f64],
    seed: u64,
    steps: u64,
    policy: &mut Policy,
    mut digest: Option<&mut TrajectoryDigest>,
) -> Result<RolloutStats> {
    let mut stats = RolloutStats::default();
    let mut total_len = 0u64;
    let mut total_ret = 0.0;
    let mut total_x = 0.0;
    let mut episode = 0u64;
    let (mut obs, _) = env.reset(Some(seed), task)?;
    policy.reset();
    let mut action = vec![0.0; env.body().action_dim()];
    while stats.steps < steps {
        policy.act(&obs, &mut action);
        let step = env.step(&action)?;
        stats.steps += 1;
        if let Some(digest) = digest.as_deref_mut() {
            digest.add_step(&step.obs, step.reward);
        }
        obs = step.obs;
        if let Some(summary) = step.info.episode {
            stats.episodes += 1;
            total_len += u64::from(summary.length);
            total_ret += summary.episode_return;
            if step.terminated && step.reward == FALL_REWARD {
                stats.falls += 1;
            }
            if step.truncated {
                stats.timeouts += 1;
            }
            if env.is_dead() {
                stats.deaths += 1;
            }
            total_x += f64::from(env.hull_x().unwrap_or(0.0));
            episode += 1;
            obs = env.reset(Some(seed + episode), task)?.0;
            if let Some(digest) = digest.as_deref_mut() {
                digest.add_step(&obs, 0.0);
            }
            policy.reset();
        }
    }
    if stats.episodes > 0 {
        stats.mean_length = total_len as f64 / stats.episodes as f64;
        stats.mean_return = total_ret / stats.episodes as f64;
        stats.mean_final_x = total_x / stats.episodes as f64;
    }
    Ok(stats)
}

/// Throughput of an env under uniform random actions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Env steps per second, resets included (one thread).
    pub steps_per_second: f64,
    /// Mean time of one `reset` (µs).
    pub reset_micros: f64,
    /// Episodes completed during the step measurement.
    pub episodes: u64,
}

/// Measures steps/s over `steps` random-action steps (with resets as episodes end) and the mean
/// reset time over `resets` resets.
///
/// # Errors
/// An invalid task.
pub fn measure_throughput(
    env: &mut WalkerEnv,
    task: &[f64],
    steps: u64,
    resets: u64,
) -> Result<Throughput> {
    let mut policy = Policy::Random(Pcg64::seed_from_u64(0));
    let start = Instant::now();
    let stats = run_policy(env, task, 0, steps, &mut policy, None)?;
    let step_time = start.elapsed().as_secs_f64();
    let start = Instant::now();
    for i in 0..resets {
        env.reset(Some(i), task)?;
    }
    let reset_time = start.elapsed().as_secs_f64();
    Ok(Throughput {
        steps_per_second: stats.steps as f64 / step_time,
        reset_micros: reset_time * 1e6 / resets.max(1) as f64,
        episodes: stats.episodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use teachgym_envs::WalkerConfig;

    #[test]
    fn digest_is_fnv1a() {
        // Published FNV-1a 64 test vectors: "" and "a".
        let mut digest = TrajectoryDigest::default();
        assert_eq!(digest.value(), 0xcbf2_9ce4_8422_2325);
        digest.add_bytes(b"a");
        assert_eq!(digest.value(), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn trajectory_digest_follows_the_seed() {
        let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
        let mut stats = |seed: u64| {
            let mut policy = Policy::from_name("random", seed).unwrap();
            policy_stats(&mut env, &[1.0, 3.0], seed, 600, &mut policy)
                .unwrap()
                .trajectory_digest
        };
        let first = stats(3);
        assert_eq!(first, stats(3));
        assert_ne!(first, stats(4));
    }
}

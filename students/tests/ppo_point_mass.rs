//! Acceptance: PPO learns the point-mass task within a CI-fast budget, and training is
//! deterministic bit for bit for a fixed seed.

use rand::SeedableRng;
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::{PointMassConfig, PointMassEnv};
use teachgym_students::{PpoAgent, PpoConfig};

/// Training budget (environment steps).
const BUDGET: u64 = 40_960;
/// Seed of the run.
const SEED: u64 = 1;

fn config() -> PpoConfig {
    PpoConfig::default()
}

fn sample_task(rng: &mut Pcg64) -> Vec<f64> {
    PointMassConfig::default().task_space().unwrap().sample(rng)
}

/// 50 tasks over the whole task space, from a fixed seed.
fn test_tasks() -> Vec<Vec<f64>> {
    let mut rng = Pcg64::seed_from_u64(12345);
    (0..50).map(|_| sample_task(&mut rng)).collect()
}

fn success_rate(agent: &mut PpoAgent) -> f64 {
    let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let summaries = agent.evaluate(&mut env, &test_tasks(), 1000).unwrap();
    summaries.iter().filter(|s| s.success).count() as f64 / summaries.len() as f64
}

#[test]
fn ppo_learns_the_point_mass_task() {
    let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let obs_dim = env.observation_space().flat_len();
    let act_dim = env.action_space().flat_len();
    let mut agent = PpoAgent::new(config(), obs_dim, act_dim, SEED).unwrap();
    let before = success_rate(&mut agent);
    let start = std::time::Instant::now();
    let episodes = agent.train(&mut env, BUDGET, SEED, sample_task).unwrap();
    let elapsed = start.elapsed();
    let after = success_rate(&mut agent);
    let tail = &episodes[episodes.len() * 9 / 10..];
    let train_success =
        tail.iter().filter(|e| e.summary.success).count() as f64 / tail.len() as f64;
    eprintln!(
        "PPO point mass: {BUDGET} steps in {elapsed:.2?}, {} episodes, last-10% training success \
         {train_success:.2}, deterministic test success {before:.2} -> {after:.2}",
        episodes.len()
    );
    assert!(
        before < 0.3,
        "untrained policy already succeeds on {before}"
    );
    assert!(after >= 0.9, "trained policy succeeds on only {after}");
}

#[test]
fn same_seed_same_training_bit_for_bit() {
    let run = || {
        let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let config = PpoConfig {
            rollout_steps: 512,
            ..config()
        };
        let mut agent = PpoAgent::new(config, 6, 2, 7).unwrap();
        let episodes = agent.train(&mut env, 2048, 7, sample_task).unwrap();
        let returns: Vec<u64> = episodes
            .iter()
            .map(|e| e.summary.episode_return.to_bits())
            .collect();
        (returns, agent.to_json())
    };
    let (a, json_a) = run();
    let (b, json_b) = run();
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(json_a, json_b);
}

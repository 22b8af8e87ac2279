//! Acceptance: PPO with a categorical head learns the grid-world task within a CI-fast budget.
//! The `#[ignore]`d benchmark measures steps to 90 % test success over several seeds
//! (BENCHMARKS.md).

use rand::SeedableRng;
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::{GridWorldConfig, GridWorldEnv};
use teachgym_students::{PpoAgent, PpoConfig};

/// Training budget (environment steps).
const BUDGET: u64 = 30_720;
/// Seed of the CI run.
const SEED: u64 = 1;

/// CleanRL's `ppo.py` (discrete) settings with a higher step size for the short budget:
/// 64-64 tanh, 1024-step rollouts, minibatch 128, 4 epochs, entropy 0.01, lr 1e-3 annealed.
fn config() -> PpoConfig {
    PpoConfig {
        learning_rate: 1e-3,
        rollout_steps: 1024,
        minibatch_size: 128,
        update_epochs: 4,
        ent_coef: 0.01,
        ..PpoConfig::default()
    }
}

/// As in `dqn_grid_world.rs`: walls on at most 10 % of the cells.
fn env_config() -> GridWorldConfig {
    GridWorldConfig {
        wall_density_bounds: [0.0, 0.1],
        ..GridWorldConfig::default()
    }
}

fn sample_task(rng: &mut Pcg64) -> Vec<f64> {
    env_config().task_space().unwrap().sample(rng)
}

/// 100 tasks over that task space, from a fixed seed.
fn test_tasks() -> Vec<Vec<f64>> {
    let mut rng = Pcg64::seed_from_u64(12345);
    (0..100).map(|_| sample_task(&mut rng)).collect()
}

fn success_rate(agent: &mut PpoAgent) -> f64 {
    let mut env = GridWorldEnv::new(env_config()).unwrap();
    let summaries = agent.evaluate(&mut env, &test_tasks(), 1000).unwrap();
    summaries.iter().filter(|s| s.success).count() as f64 / summaries.len() as f64
}

fn new_agent(seed: u64) -> (GridWorldEnv, PpoAgent) {
    let env = GridWorldEnv::new(env_config()).unwrap();
    let agent =
        PpoAgent::for_spaces(config(), env.observation_space(), env.action_space(), seed).unwrap();
    (env, agent)
}

#[test]
fn categorical_ppo_learns_the_grid_world() {
    let (mut env, mut agent) = new_agent(SEED);
    let before = success_rate(&mut agent);
    let start = std::time::Instant::now();
    let episodes = agent.train(&mut env, BUDGET, SEED, sample_task).unwrap();
    let elapsed = start.elapsed();
    let after = success_rate(&mut agent);
    eprintln!(
        "PPO grid world: {BUDGET} steps in {elapsed:.2?}, {} episodes, greedy test success \
         {before:.2} -> {after:.2}",
        episodes.len()
    );
    assert!(
        before < 0.3,
        "untrained policy already succeeds on {before}"
    );
    assert!(after >= 0.9, "trained policy succeeds on only {after}");
}

/// For seeds 1..=3: the smallest budget (a multiple of 4 rollouts, each run fresh, since the
/// learning rate anneals over the whole budget) whose final greedy policy reaches 90 % test
/// success, and the training throughput of the full CI budget. Run with
/// `cargo test --release -p teachgym-students --test ppo_grid_world -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: reports the budget needed for 90 % success for three seeds"]
fn benchmark_steps_to_90_percent() {
    for seed in 1..=3 {
        let mut reached = None;
        for rollouts in (4..=60).step_by(4) {
            let budget = rollouts * config().rollout_steps as u64;
            let (mut env, mut agent) = new_agent(seed);
            agent.train(&mut env, budget, seed, sample_task).unwrap();
            let rate = success_rate(&mut agent);
            eprintln!("seed {seed}: budget {budget}, test success {rate:.2}");
            if rate >= 0.9 {
                reached = Some(budget);
                break;
            }
        }
        let (mut env, mut agent) = new_agent(seed);
        let start = std::time::Instant::now();
        agent.train(&mut env, BUDGET, seed, sample_task).unwrap();
        let rate = BUDGET as f64 / start.elapsed().as_secs_f64();
        eprintln!("PPO seed {seed}: 90 % with a budget of {reached:?} steps; {rate:.0} steps/s");
    }
}

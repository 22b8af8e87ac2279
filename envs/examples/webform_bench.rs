//! Throughput of the web-form env on one thread: steps/s under a uniformly random valid-action
//! policy (resets included as episodes end; the policy's mask scan is included), and resets/s.
//!
//! ```sh
//! cargo run --release -p teachgym-envs --example webform_bench [steps] [resets] [repeats]
//! ```
//! Prints one JSON line per (interaction level, task).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::webform::{
    InteractionLevel, WebFormConfig, WebFormEnv, GOAL_COVERAGE_DIM, TASK_DIMS,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let steps = args.first().copied().unwrap_or(1_000_000);
    let resets = args.get(1).copied().unwrap_or(100_000);
    let repeats = args.get(2).copied().unwrap_or(3);
    // Every field named (`goal_coverage` = 1, the default bounds).
    let with_every_field = |v: f64| {
        let mut task = [v; TASK_DIMS];
        task[GOAL_COVERAGE_DIM] = 1.0;
        task
    };
    let tasks = [
        ("easy", with_every_field(0.0)),
        ("center", with_every_field(0.5)),
        ("hard", with_every_field(1.0)),
    ];
    for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
        let mut env = WebFormEnv::new(WebFormConfig {
            interaction_level: level,
            ..WebFormConfig::default()
        })?;
        for (name, task) in &tasks {
            let mut rng = Pcg64::seed_from_u64(0);
            let mut valid = Vec::with_capacity(env.n_actions());
            let (mut step_rates, mut reset_rates) = (Vec::new(), Vec::new());
            let mut episodes = 0u64;
            for r in 0..repeats {
                env.reset(Some(r as u64), task)?;
                let start = Instant::now();
                for _ in 0..steps {
                    valid.clear();
                    let mask = env.action_mask()?;
                    valid.extend((0..mask.len()).filter(|&a| mask[a] == 1));
                    let a = valid[rng.random_range(0..valid.len())];
                    let step = env.step(&a)?;
                    if step.terminated || step.truncated {
                        env.reset(None, task)?;
                        episodes += 1;
                    }
                }
                step_rates.push(steps as f64 / start.elapsed().as_secs_f64());
                let start = Instant::now();
                for _ in 0..resets {
                    env.reset(None, task)?;
                }
                reset_rates.push(resets as f64 / start.elapsed().as_secs_f64());
            }
            println!(
                "{{\"level\": \"{level:?}\", \"task\": \"{name}\", \"steps_per_second\": {:?}, \"steps_per_second_median\": {:.0}, \"resets_per_second_median\": {:.0}, \"mean_episode_length\": {:.1}}}",
                step_rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
                median(step_rates.clone()),
                median(reset_rates),
                (steps * repeats) as f64 / episodes.max(1) as f64,
            );
        }
    }
    Ok(())
}

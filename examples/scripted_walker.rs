//! Runs the built-in scripted gait on a Stump Track and prints the episode outcome.
//!
//! `cargo run --release --example scripted_walker`

use teachgym::prelude::*;

fn main() -> Result<(), teachgym::core::Error> {
    // Stump Tracks: task = (stump_height in terrain steps, obstacle_spacing in metres).
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks())?;
    println!("task space: {:?}", env.task_space().names());
    let mut walker = ScriptedWalker::default();
    for task in [[0.0, 6.0], [0.5, 4.0], [3.0, 2.0]] {
        walker.reset();
        let (mut obs, _info) = env.reset(Some(42), &task)?;
        loop {
            let step = env.step(&walker.act(&obs))?;
            obs = step.obs;
            if let Some(episode) = step.info.episode {
                println!(
                    "task {task:?}: return {:.1} in {} steps, reached x = {:.1} m, mastered: {}",
                    episode.episode_return,
                    episode.length,
                    env.hull_x().unwrap_or(0.0),
                    episode.success
                );
                break;
            }
        }
    }
    Ok(())
}

//! How well Setter-Solver's goals track the requested feasibility as it trains, on the
//! synthetic student of `tests/setter_solver.rs` (success on `x ∈ [0, 1]²` with probability
//! `x₀`): every `episodes / 10` episodes, Spearman's rank correlation between 200 requested
//! feasibilities `f` and (a) the judge's probability of success on the goal proposed for `f`,
//! (b) its true probability of success `x₀`.
//!
//! `cargo run --release -p teachgym-teachers --example setter_solver_feasibility -- \
//!   [update_frequency] [learning_rate] [hidden_size] [seed] [episodes] [flip]`
//! (defaults: the benchmark's 50, 3e-4, 64; seed 0; 40 000 episodes; `flip` makes the student
//! succeed with probability `1 − x₀` instead). The acceptance test uses `5 1e-3 32 0 10000`.

use rand::{Rng, SeedableRng};
use teachgym_teachers::stats::spearman;
use teachgym_teachers::{EpisodeOutcome, SetterSolver, SetterSolverConfig, TaskSpace, Teacher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let defaults = SetterSolverConfig::default();
    let config = SetterSolverConfig {
        update_frequency: arg(0).map_or(Ok(defaults.update_frequency), str::parse)?,
        setter_learning_rate: arg(1).map_or(Ok(defaults.setter_learning_rate), str::parse)?,
        judge_learning_rate: arg(1).map_or(Ok(defaults.judge_learning_rate), str::parse)?,
        setter_hidden_size: arg(2).map_or(Ok(defaults.setter_hidden_size), str::parse)?,
        ..defaults
    };
    let seed: u64 = arg(3).map_or(Ok(0), str::parse)?;
    let episodes: usize = arg(4).map_or(Ok(40_000), str::parse)?;
    let flip = arg(5) == Some("flip");
    println!("{config:?}, seed {seed}, student flipped: {flip}");
    let space = TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0])?;
    let mut teacher = SetterSolver::new(space, seed, config)?;
    let mut outcomes = rand_pcg::Pcg64::seed_from_u64(1 + seed);
    let requested: Vec<f64> = (0..200).map(|i| 0.025 + 0.95 * i as f64 / 199.0).collect();
    for episode in 0..=episodes {
        if episode % (episodes / 10).max(1) == 0 {
            let mut judged = Vec::with_capacity(requested.len());
            let mut actual = Vec::with_capacity(requested.len());
            for &f in &requested {
                let task = teacher.propose_for_feasibility(f);
                judged.push(teacher.judged_feasibility(&task)?);
                actual.push(if flip { 1.0 - task[0] } else { task[0] });
            }
            println!(
                "episode {episode:6}, {:5} steps: Spearman(f, judged) {:+.3}, Spearman(f, true) {:+.3}, {:?}",
                teacher.training_steps(),
                spearman(&requested, &judged),
                spearman(&requested, &actual),
                teacher.last_losses()
            );
        }
        if episode < episodes {
            let task = teacher.sample_task();
            let p = if flip { 1.0 - task[0] } else { task[0] };
            let success = outcomes.random::<f64>() < p;
            teacher.update(
                &task,
                &EpisodeOutcome::new(f64::from(u8::from(success)), success, 1),
            )?;
        }
    }
    Ok(())
}

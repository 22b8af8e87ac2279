//! What GoalGAN costs per episode on the test-bed: construction (pretraining), then
//! `sample_task` + `update` amortised over a run, with the number of GAN trainings it ran.
//!
//! `cargo run --release -p teachgym-teachers --example goal_gan_cost -- [episodes] [seeds] [level]`
//! (defaults: 20000 episodes, 4 seeds, expert level `low`; `high` pretrains on the start cell).

use std::time::Instant;

use teachgym_teachers::toys::{ToyGrid, ToyVariant};
use teachgym_teachers::{ExpertLevel, GoalGan, GoalGanConfig, Teacher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let episodes: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let seeds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4);
    let level: ExpertLevel = args.next().unwrap_or_else(|| "low".into()).parse()?;
    println!("{episodes} episodes, {seeds} seeds, expert level {level}\n");
    println!("| toy | seed | build (pretraining) ms | µs / episode (sample + update) | trainings | skipped | labelled (positive) | success buffer | cells mastered |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for variant in [ToyVariant::Grid, ToyVariant::MostlyUnlearnable] {
        for seed in 0..seeds {
            let mut student: ToyGrid = variant.student();
            let config = GoalGanConfig {
                expert_knowledge: student.expert_knowledge(level),
                ..GoalGanConfig::default()
            };
            let start = Instant::now();
            let mut teacher = GoalGan::new(student.task_space().clone(), seed, config)?;
            let build = start.elapsed();
            let start = Instant::now();
            for _ in 0..episodes {
                let task = teacher.sample_task();
                let outcome = student.play(&task)?;
                teacher.update(&task, &outcome)?;
            }
            let run = start.elapsed();
            let (labelled, positives) = teacher.labels_given();
            println!(
                "| {variant:?} | {seed} | {:.0} | {:.1} | {} | {} | {labelled} ({positives}) | {} | {} |",
                build.as_secs_f64() * 1e3,
                run.as_secs_f64() * 1e6 / episodes as f64,
                teacher.trainings(),
                teacher.skipped_trainings(),
                teacher.success_buffer().len(),
                student.cells_mastered()
            );
        }
    }
    Ok(())
}

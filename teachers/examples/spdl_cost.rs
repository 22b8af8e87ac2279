//! SPDL's per-episode cost on the toy test-bed: `sample_task` + `update` +
//! `record_value_estimate`, amortised over runs with and without distribution updates, next to
//! the toy student's own cost (to subtract).
//!
//! `cargo run --release -p teachgym-teachers --example spdl_cost`

use std::time::Instant;

use teachgym_teachers::toys::{run_curriculum, ToyVariant};
use teachgym_teachers::{ExpertLevel, Spdl, SpdlConfig};

const EPISODES: usize = 200_000;
const SEEDS: u64 = 4;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (update_frequency, label) in [
        (50, "update every 50 episodes (toy-scaled schedule)"),
        (
            1000,
            "update every 1000 episodes (full buffer: 999 contexts)",
        ),
        (1_000_000_000, "no update"),
    ] {
        let mut seconds = 0.0;
        let mut updates = 0;
        for seed in 0..SEEDS {
            let mut student = ToyVariant::Grid.student();
            let config = SpdlConfig {
                update_frequency,
                expert_knowledge: student.expert_knowledge(ExpertLevel::High),
                ..SpdlConfig::scaled_to_steps(20_000)
            };
            let mut teacher = Spdl::new(student.task_space().clone(), seed, config)?;
            let start = Instant::now();
            run_curriculum(&mut teacher, &mut student, EPISODES)?;
            seconds += start.elapsed().as_secs_f64();
            updates += teacher.updates();
        }
        println!(
            "{label}: {:.3} µs/episode (toy student included), {} updates per run",
            seconds / (SEEDS as f64 * EPISODES as f64) * 1e6,
            updates / SEEDS
        );
    }
    // The toy student alone, on a fixed pseudo-random task sequence.
    let mut student = ToyVariant::Grid.student();
    let n = 800_000u64;
    let start = Instant::now();
    let mut checksum = 0.0;
    for i in 0..n {
        let task = [
            ((i * 7919) % 1000) as f64 / 1000.0,
            ((i * 104_729) % 1000) as f64 / 1000.0,
        ];
        let outcome = student.play(&task)?;
        checksum += outcome.episode_return + student.value_estimate(&task)?;
    }
    println!(
        "toy student play + value_estimate alone: {:.3} µs/episode (checksum {checksum:.0})",
        start.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    Ok(())
}

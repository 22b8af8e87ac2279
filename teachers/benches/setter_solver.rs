//! Setter-Solver cost per episode: `sample_task` + `update` on the toy grid, amortised over
//! 5 000 episodes (100 training steps at the benchmark's `update_frequency` of 50), with the
//! default (benchmark) networks. Prints wall time and the calling thread's CPU time (robust to
//! other work on a shared machine), split into sampling, updates that only buffer, and updates
//! that train.
//!
//! `nice -n 15 cargo bench -p teachgym-teachers --bench setter_solver [-- episodes]`

use std::time::Instant;

use teachgym_teachers::toys::ToyGrid;
use teachgym_teachers::{SetterSolver, SetterSolverConfig, Teacher};

/// CPU time consumed so far by the calling thread, in seconds (wall time off Linux).
fn thread_cpu_seconds(wall_origin: Instant) -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    wall_origin.elapsed().as_secs_f64()
}

fn main() {
    let episodes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5_000);
    let origin = Instant::now();
    for (name, config) in [
        ("benchmark (hidden 64)", SetterSolverConfig::default()),
        (
            "class defaults (hidden 128, update every 100)",
            SetterSolverConfig::reference_class_defaults(),
        ),
        (
            "benchmark but hidden 32",
            SetterSolverConfig {
                setter_hidden_size: 32,
                ..SetterSolverConfig::default()
            },
        ),
    ] {
        let mut student = ToyGrid::teach_deep_rl();
        let mut teacher = SetterSolver::new(student.task_space().clone(), 0, config)
            .unwrap_or_else(|e| panic!("{e}"));
        let (mut sample_cpu, mut buffer_cpu, mut train_cpu) = (0.0, 0.0, 0.0);
        let wall = Instant::now();
        for _ in 0..episodes {
            let t0 = thread_cpu_seconds(origin);
            let task = teacher.sample_task();
            let t1 = thread_cpu_seconds(origin);
            let outcome = student.play(&task).unwrap_or_else(|e| panic!("{e}"));
            let steps = teacher.training_steps();
            let t2 = thread_cpu_seconds(origin);
            teacher
                .update(&task, &outcome)
                .unwrap_or_else(|e| panic!("{e}"));
            let t3 = thread_cpu_seconds(origin);
            sample_cpu += t1 - t0;
            if teacher.training_steps() > steps {
                train_cpu += t3 - t2;
            } else {
                buffer_cpu += t3 - t2;
            }
        }
        let wall = wall.elapsed().as_secs_f64();
        let us = |t: f64| t / episodes as f64 * 1e6;
        let steps = teacher.training_steps().max(1) as f64;
        println!(
            "setter_solver {name}: {episodes} episodes, {} training steps\n  \
             wall {:.1} µs/episode; thread CPU {:.1} µs/episode = sample {:.1} + buffer {:.2} + \
             training {:.1} (one training step: {:.2} ms CPU)",
            teacher.training_steps(),
            us(wall),
            us(sample_cpu + buffer_cpu + train_cpu),
            us(sample_cpu),
            us(buffer_cpu),
            us(train_cpu),
            train_cpu / steps * 1e3,
        );
    }
}

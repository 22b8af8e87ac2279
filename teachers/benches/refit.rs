//! ALP-GMM cost benchmark (harness = false, run by `scripts/bench_sklearn_peer.sh`):
//!
//! 1. Refit: `fit_best` over k = 2..=9 on (task, ALP) windows of 150 and 250 points of
//!    dimension 3 — a synthetic clustered window and a window recorded from ALP-GMM on the toy
//!    grid. The windows are written to `$TEACHGYM_BENCH_DATA` (default
//!    `/tmp/teachgym_refit_windows.json`) so the sklearn peer times the very same data.
//! 2. Per-episode cost: `sample_task` + `update` of ALP-GMM on the toy grid, amortised over
//!    20 000 episodes, with and without the refits: wall time, and for `fit_threads = 1` the
//!    thread's CPU time as well (robust to other work on a shared machine).

use std::hint::black_box;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use teachgym_teachers::gmm::{fit_best, GmmConfig};
use teachgym_teachers::toys::ToyGrid;
use teachgym_teachers::{AlpGmm, AlpGmmConfig, Fitness, Teacher};

/// Median of `reps` timings of `f`, in seconds.
fn median_time(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn synthetic_window(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let centres = [[0.2, 0.3, 0.05], [0.7, 0.8, 0.3], [0.5, 0.1, 0.15]];
    let mut data = Vec::with_capacity(n * 3);
    for i in 0..n {
        let c = centres[i % 3];
        for &m in &c {
            data.push(m + 0.08 * (rng.random::<f64>() - 0.5) * 2.0);
        }
    }
    data
}

/// The last `n` (task, ALP) rows seen by ALP-GMM after `episodes` on the toy grid.
fn recorded_window(n: usize, episodes: usize) -> Vec<f64> {
    let mut student = ToyGrid::teach_deep_rl();
    let mut teacher = AlpGmm::new(student.task_space().clone(), 0, AlpGmmConfig::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rows = std::collections::VecDeque::new();
    for _ in 0..episodes {
        let task = teacher.sample_task();
        let outcome = student.play(&task).unwrap_or_else(|e| panic!("{e}"));
        teacher
            .update(&task, &outcome)
            .unwrap_or_else(|e| panic!("{e}"));
        rows.push_back([task[0], task[1], teacher.last_alp()]);
        if rows.len() > n {
            rows.pop_front();
        }
    }
    rows.into_iter().flatten().collect()
}

fn main() {
    let out_path = std::env::var("TEACHGYM_BENCH_DATA")
        .unwrap_or_else(|_| "/tmp/teachgym_refit_windows.json".into());
    let windows = vec![
        ("synthetic_150", synthetic_window(150, 1)),
        ("synthetic_250", synthetic_window(250, 2)),
        ("toy_alp_gmm_150", recorded_window(150, 3000)),
        ("toy_alp_gmm_250", recorded_window(250, 3000)),
    ];
    let json = serde_json::json!(windows
        .iter()
        .map(|(name, data)| serde_json::json!({"name": name, "dim": 3, "data": data}))
        .collect::<Vec<_>>());
    if let Err(e) = std::fs::write(&out_path, json.to_string()) {
        eprintln!("could not write {out_path}: {e}");
    }
    println!(
        "refit: fit_best k = 2..=9, full covariance, AIC, sklearn defaults (median of 21); \
         time_ms with the default fit_threads (0 = available parallelism), serial_ms with 1"
    );
    let serial = GmmConfig {
        fit_threads: 1,
        ..GmmConfig::default()
    };
    for (name, data) in &windows {
        let mut times = [0.0; 2];
        let mut chosen = [0; 2];
        for (slot, cfg) in [GmmConfig::default(), serial].iter().enumerate() {
            times[slot] = median_time(21, || {
                let sel = fit_best(black_box(data), 3, 2..=9, cfg, Fitness::Aic, 0)
                    .unwrap_or_else(|e| panic!("{e}"));
                chosen[slot] = sel.best.n_components();
            });
        }
        assert_eq!(chosen[0], chosen[1], "fit_threads changed the selection");
        println!(
            "rust_refit {name} n={} time_ms={:.3} serial_ms={:.3} chosen_k={}",
            data.len() / 3,
            times[0] * 1e3,
            times[1] * 1e3,
            chosen[0]
        );
    }

    println!(
        "\nper-episode ALP-GMM sample_task + update on the toy grid (20 000 episodes, defaults, \
         median of 7 runs)"
    );
    for fit_threads in [0, 1] {
        per_episode(fit_threads, 7);
    }
}

/// CPU time consumed so far by the calling thread, in seconds, or `None` off Linux. Unlike wall
/// time it excludes the time the thread waits for a core, so it stays meaningful on a machine
/// shared with other work; it misses the work of any helper thread.
fn thread_cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Runs ALP-GMM (defaults but `gmm.fit_threads`) for 20 000 episodes and prints the mean cost,
/// median of `reps` runs: wall time, and for one thread also the thread's CPU time.
fn per_episode(fit_threads: usize, reps: usize) {
    let episodes = 20_000;
    let mut runs = Vec::with_capacity(reps);
    let mut fits = 0;
    for _ in 0..reps {
        let mut student = ToyGrid::teach_deep_rl();
        let mut config = AlpGmmConfig::default();
        config.gmm.fit_threads = fit_threads;
        let fit_rate = config.fit_rate as u64;
        let mut teacher =
            AlpGmm::new(student.task_space().clone(), 0, config).unwrap_or_else(|e| panic!("{e}"));
        let mut outcomes = Vec::with_capacity(episodes);
        let (mut refit_wall, mut refit_cpu) = (0.0, 0.0);
        let cpu_start = thread_cpu_seconds();
        let start = Instant::now();
        for _ in 0..episodes {
            let task = teacher.sample_task();
            let outcome = student.play(&task).unwrap_or_else(|e| panic!("{e}"));
            // Read the CPU clock only around the updates that refit.
            let refits = (teacher.episodes() + 1) % fit_rate == 0;
            let cpu0 = if refits { thread_cpu_seconds() } else { None };
            let t0 = Instant::now();
            teacher
                .update(&task, &outcome)
                .unwrap_or_else(|e| panic!("{e}"));
            if refits {
                refit_wall += t0.elapsed().as_secs_f64();
                if let (Some(a), Some(b)) = (cpu0, thread_cpu_seconds()) {
                    refit_cpu += b - a;
                }
            }
            outcomes.push(outcome);
        }
        let wall = start.elapsed().as_secs_f64();
        let cpu = cpu_start.zip(thread_cpu_seconds()).map(|(a, b)| b - a);
        fits = teacher.fits();
        runs.push((wall, refit_wall, cpu, refit_cpu));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, refit_wall, _, _) = runs[reps / 2];
    let per_episode_us = |t: f64| t / episodes as f64 * 1e6;
    let per_refit_ms = |t: f64| t / fits.max(1) as f64 * 1e3;
    println!(
        "rust_episode fit_threads={fit_threads} wall: total_us={:.2} excluding_refits_us={:.2} refits={fits} mean_refit_ms={:.3}",
        per_episode_us(wall),
        per_episode_us(wall - refit_wall),
        per_refit_ms(refit_wall)
    );
    if fit_threads == 1 {
        runs.sort_by(|a, b| a.2.unwrap_or(0.0).total_cmp(&b.2.unwrap_or(0.0)));
        if let (_, _, Some(cpu), refit_cpu) = runs[reps / 2] {
            println!(
                "rust_episode fit_threads=1 thread CPU: total_us={:.2} excluding_refits_us={:.2} mean_refit_ms={:.3}",
                per_episode_us(cpu),
                per_episode_us(cpu - refit_cpu),
                per_refit_ms(refit_cpu)
            );
        }
    }
}

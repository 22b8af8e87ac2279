//! AGAIN against ALP-GMM on the meta-ACL classroom toy (see `teachgym_teachers::toys::classroom`).
//!
//! `cargo run --release -p teachgym-teachers --example classroom_toy -- [episodes] [classroom] [seeds] [version] [threads]`
//! (defaults: 200000 episodes per student, the reference's toy budget, with a test epoch every
//! 10000; a classroom of 64 ALP-GMM students; 16 new students; `v2`; threads = the machine's).
//!
//! 1. The classroom: `classroom` students of random types, each trained with ALP-GMM
//!    (teachDeepRL's settings, `record_history` on); each run gives a `ClassroomEntry`, and
//!    `Classroom::build` with the default entry rule assembles them, the code path of
//!    `teachgym classroom build`.
//! 2. New students (types drawn from another stream), one per seed, trained by AGAIN-R, IN-R,
//!    AGAIN-T, AGAIN-P (the reference toy's settings: pre-test of 2 epochs, k = 5), ALP-GMM and
//!    Random; cells mastered at the end, mean ± std, one-sided Welch p-value against ALP-GMM.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use teachgym_teachers::again::{Again, AgainConfig, Replay};
use teachgym_teachers::stats::{mean, std_dev, welch_t_test_greater};
use teachgym_teachers::toys::classroom::{
    classroom_toy_entry, run_classroom_toy, ClassroomToy, ClassroomToyVersion,
    CLASSROOM_TOY_EVAL_EVERY,
};
use teachgym_teachers::{
    build_teacher, AlpGmmConfig, Classroom, ClassroomEntry, EntryRule, Teacher,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs `jobs` on `threads` workers; results in job order.
fn parallel<T: Send>(threads: usize, jobs: Vec<Box<dyn FnOnce() -> T + Send + '_>>) -> Vec<T> {
    let n = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results = Mutex::new((0..n).map(|_| None).collect::<Vec<Option<T>>>());
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let job = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((i, job)) = job else { break };
                let value = job();
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(value);
                }
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.expect("every job ran"))
        .collect()
}

/// The classroom students' (and the baseline's) ALP-GMM: teachDeepRL's settings, one fit thread.
fn alp_gmm_config(record_history: bool) -> AlpGmmConfig {
    let mut config = AlpGmmConfig::teach_deep_rl();
    config.gmm.fit_threads = 1;
    config.record_history = Some(record_history);
    config
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let episodes: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200_000);
    let classroom_size: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let seeds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(16);
    let version = match args.next().as_deref() {
        None | Some("v2") => ClassroomToyVersion::V2,
        Some("v1") => ClassroomToyVersion::V1,
        Some(other) => return Err(format!("unknown version `{other}` (v1 or v2)").into()),
    };
    let threads: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let eval_every = CLASSROOM_TOY_EVAL_EVERY.min(episodes);
    println!(
        "classroom toy {version:?}: {episodes} episodes per student (test epoch every \
         {eval_every}), classroom of {classroom_size}, {seeds} new students, {threads} threads\n"
    );

    // 1. The classroom.
    let start = Instant::now();
    let mut types = rand_pcg::Pcg64::seed_from_u64(20_201_116);
    let classroom_types: Vec<usize> = (0..classroom_size)
        .map(|_| types.random_range(0..version.types()))
        .collect();
    let jobs: Vec<Box<dyn FnOnce() -> Result<ClassroomEntry, Error> + Send>> = classroom_types
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            Box::new(move || {
                let mut student = ClassroomToy::new(version, t)?;
                let config = serde_json::to_value(alp_gmm_config(true))?;
                let mut teacher = build_teacher(
                    "alp_gmm",
                    student.task_space().clone(),
                    1000 + i as u64,
                    config,
                )?;
                let run = run_classroom_toy(teacher.as_mut(), &mut student, episodes, eval_every)?;
                Ok(classroom_toy_entry(
                    format!("student-{i}-type-{t}"),
                    &student,
                    run,
                    teacher.as_ref(),
                ))
            }) as Box<dyn FnOnce() -> Result<ClassroomEntry, Error> + Send>
        })
        .collect();
    let entries = parallel(threads, jobs)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let mastered: Vec<f64> = entries
        .iter()
        .map(|e| e.student.final_scores.iter().filter(|&&s| s > 0.75).count() as f64)
        .collect();
    let (classroom, left_out) = Classroom::build(entries, &EntryRule::default())?;
    println!(
        "classroom: {} students enter, {} left out (no Gaussian with mean ALP > 0.2); their \
         cells mastered {:.1} ± {:.1}; built in {:.0} s\n",
        classroom.students.len(),
        left_out.len(),
        mean(&mastered),
        std_dev(&mastered),
        start.elapsed().as_secs_f64()
    );
    let classroom = Arc::new(classroom);

    // 2. New students.
    let mut new_types = rand_pcg::Pcg64::seed_from_u64(4_242);
    let student_types: Vec<usize> = (0..seeds)
        .map(|_| new_types.random_range(0..version.types()))
        .collect();
    let again = |replay: Replay, use_alp_gmm: bool| {
        let mut config = AgainConfig {
            replay,
            use_alp_gmm,
            pretrain_epochs: 2,
            k: 5,
            ..AgainConfig::default()
        };
        config.alp_gmm.gmm.fit_threads = 1;
        config
    };
    let variants: Vec<(&str, Option<AgainConfig>)> = vec![
        ("ALP-GMM", None),
        ("AGAIN-R", Some(again(Replay::Reward, true))),
        ("IN-R", Some(again(Replay::Reward, false))),
        ("AGAIN-T", Some(again(Replay::Time, true))),
        ("AGAIN-P", Some(again(Replay::Pool, true))),
        ("Random", None),
    ];
    println!(
        "| teacher | cells mastered (mean ± std) | min–max | p (> ALP-GMM, Welch) | wall time |"
    );
    println!("|---|---|---|---|---|");
    let mut baseline = Vec::new();
    for (name, config) in &variants {
        let start = Instant::now();
        let jobs: Vec<Box<dyn FnOnce() -> Result<f64, Error> + Send>> = (0..seeds)
            .map(|seed| {
                let classroom = classroom.clone();
                let config = config.clone();
                let t = student_types[seed as usize];
                let name = *name;
                Box::new(move || {
                    let mut student = ClassroomToy::new(version, t)?;
                    let space = student.task_space().clone();
                    let mut teacher: Box<dyn Teacher> = match (name, config) {
                        (_, Some(c)) => Box::new(Again::with_classroom(space, seed, c, classroom)?),
                        ("Random", None) => {
                            build_teacher("random", space, seed, serde_json::Value::Null)?
                        }
                        _ => build_teacher(
                            "alp_gmm",
                            space,
                            seed,
                            serde_json::to_value(alp_gmm_config(false))?,
                        )?,
                    };
                    let run =
                        run_classroom_toy(teacher.as_mut(), &mut student, episodes, eval_every)?;
                    Ok(run.cells_mastered as f64)
                }) as Box<dyn FnOnce() -> Result<f64, Error> + Send>
            })
            .collect();
        let scores = parallel(threads, jobs)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let p = if *name == "ALP-GMM" {
            baseline = scores.clone();
            "—".to_string()
        } else {
            format!("{:.1e}", welch_t_test_greater(&scores, &baseline).p_value)
        };
        let (lo, hi) = scores
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        println!(
            "| {name} | {:.1} ± {:.1} | {lo}–{hi} | {p} | {:.0} s |",
            mean(&scores),
            std_dev(&scores),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

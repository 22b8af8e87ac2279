//! `train_with_progress` (what the Python `teachgym.train` calls): the hook sees every
//! iteration and each evaluation once, and a hook that fails stops the run with a checkpoint
//! that `resume` continues to the same files as an uninterrupted run.

use std::path::Path;

use teachgym::train::{train, train_with_progress, RunConfig, TrainOptions};

fn options(out: &Path, resume: bool) -> TrainOptions {
    let config = RunConfig::from_toml_str(
        "env = \"point_mass\"\nteacher = \"alp_gmm\"\n\
         [trainer]\ntotal_steps = 6144\neval_every = 2048\nnum_envs = 4\nthreads = 1\n",
    )
    .unwrap();
    TrainOptions {
        config,
        out: out.to_path_buf(),
        resume,
        progress: false,
        stop_after: None,
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    // Cargo's scratch directory for integration tests: a rerun replaces the run.
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("teachgym-progress-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_hook_sees_the_run_and_its_error_leaves_a_resumable_checkpoint() {
    let whole = scratch("whole");
    let mut steps = Vec::new();
    let mut evaluations = Vec::new();
    let summary = train_with_progress(options(&whole, false), &mut |r| {
        assert!(r.global_step <= r.planned_steps);
        steps.push(r.global_step);
        evaluations.extend(r.new_evaluations.iter().map(|e| e.global_step));
        Ok(())
    })
    .unwrap();
    assert!(summary.finished);
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    assert_eq!(steps.last(), Some(&summary.global_step));
    // The evaluation at step 0 runs before the first iteration's report, with it.
    assert_eq!(evaluations, [0, 2048, 4096, 6144]);

    let parts = scratch("parts");
    let error = train_with_progress(options(&parts, false), &mut |r| {
        if r.global_step >= 3000 {
            anyhow::bail!("interrupted by the user")
        }
        Ok(())
    })
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("interrupted by the user"), "{message}");
    assert!(message.contains("resume"), "{message}");
    assert!(parts.join("checkpoint.json").exists());
    let resumed = train(options(&parts, true)).unwrap();
    assert!(resumed.finished);
    for file in ["episodes.csv", "evaluations.csv", "evaluations.jsonl"] {
        assert_eq!(
            std::fs::read_to_string(whole.join(file)).unwrap(),
            std::fs::read_to_string(parts.join(file)).unwrap(),
            "{file} differs after the interrupted run was resumed"
        );
    }
}

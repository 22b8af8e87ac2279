//! Acceptance of the QWeb-style DQN student on the web-form env, through the teacher-driven
//! loop: it learns easy forms from scratch; runs are identical for 1 and 2 worker threads; a run
//! resumed from a checkpoint equals the uninterrupted run.

use teachgym_core::Env;
use teachgym_envs::{WebFormConfig, WebFormEnv};
use teachgym_students::qweb::{FormShape, QwebDqnAgent};
use teachgym_students::{Evaluation, TestSet, Trainer, TrainerCheckpoint, TrainerConfig};
use teachgym_teachers::{build_teacher, Teacher};

#[path = "support/easy_forms.rs"]
mod easy_forms;
use easy_forms::{easy_forms, student};

/// The test set: forms of exactly 2 text fields (the hardest of the training range).
fn test_set() -> TestSet {
    let task = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    TestSet::new(&easy_forms().bounded_task_space().unwrap(), vec![task; 20]).unwrap()
}

fn make_env() -> teachgym_students::Result<WebFormEnv> {
    Ok(WebFormEnv::new(easy_forms())?)
}

fn teacher(seed: u64) -> Box<dyn Teacher> {
    let space = easy_forms().bounded_task_space().unwrap();
    build_teacher("random", space, seed, serde_json::Value::Null).unwrap()
}

fn trainer(threads: usize, total_steps: u64, seed: u64) -> Trainer<WebFormEnv, QwebDqnAgent> {
    let config = TrainerConfig {
        total_steps,
        num_envs: 4,
        threads,
        eval_every: 3_000,
        ..TrainerConfig::default()
    };
    Trainer::new(
        config,
        seed,
        student(seed),
        teacher(seed),
        &mut make_env,
        test_set(),
    )
    .unwrap()
}

fn run_to_end(mut t: Trainer<WebFormEnv, QwebDqnAgent>) -> (Vec<Evaluation>, String) {
    let mut evals = Vec::new();
    while !t.is_done() {
        evals.extend(t.run_iteration().unwrap().evaluations);
    }
    (evals, t.student().to_json())
}

#[test]
fn learns_easy_forms_from_scratch() {
    let (evals, _) = run_to_end(trainer(0, 6_000, 1));
    let first = evals.first().unwrap().mastered_percent;
    let last = evals.last().unwrap().mastered_percent;
    let curve: Vec<f64> = evals.iter().map(|e| e.mastered_percent).collect();
    eprintln!("success curve: {curve:?}");
    assert!(
        first <= 10.0,
        "untrained student already succeeds: {curve:?}"
    );
    assert!(last >= 90.0, "success after training: {curve:?}");
}

#[test]
fn same_result_with_one_or_two_threads() {
    let (evals_1, json_1) = run_to_end(trainer(1, 1_200, 2));
    let (evals_2, json_2) = run_to_end(trainer(2, 1_200, 2));
    assert_eq!(evals_1, evals_2);
    assert!(json_1 == json_2, "students differ between thread counts");
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    let (evals_full, json_full) = run_to_end(trainer(0, 1_600, 4));
    let mut first = trainer(0, 1_600, 4);
    let mut evals = Vec::new();
    while first.global_step() < 800 {
        evals.extend(first.run_iteration().unwrap().evaluations);
    }
    let checkpoint: TrainerCheckpoint<usize> = first.checkpoint().unwrap();
    let text = serde_json::to_string(&checkpoint).unwrap();
    drop(first);
    let resumed = Trainer::<WebFormEnv, QwebDqnAgent>::resume(
        TrainerConfig {
            total_steps: 1_600,
            num_envs: 4,
            eval_every: 3_000,
            ..TrainerConfig::default()
        },
        serde_json::from_str(&text).unwrap(),
        teacher(4),
        &mut make_env,
        test_set(),
    )
    .unwrap();
    let (rest, json_resumed) = run_to_end(resumed);
    evals.extend(rest);
    assert_eq!(evals, evals_full);
    assert!(json_resumed == json_full, "resumed student differs");
}

#[test]
fn a_student_for_other_caps_is_refused() {
    let other = WebFormConfig {
        max_fields: 3,
        max_pages: 1,
        ..WebFormConfig::default()
    };
    let env = WebFormEnv::new(other).unwrap();
    let err = teachgym_students::Student::check_env(&student(0), &env).unwrap_err();
    assert!(matches!(
        err,
        teachgym_students::StudentError::ShapeMismatch { .. }
    ));
    assert_eq!(env.n_actions(), FormShape::of(env.config()).n_actions());
    assert!(Env::action_mask(&env).is_none());
}

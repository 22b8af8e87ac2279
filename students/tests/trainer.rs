//! Acceptance of the teacher-driven loop: vectorised PPO learns the point-mass task with a
//! teacher choosing the tasks; results are identical for 1 and 2 worker threads; a run resumed
//! from a checkpoint equals the uninterrupted run; every teacher of the registry works in the
//! loop; bad input is refused with typed errors.

use std::sync::{Arc, Mutex};
use teachgym_core::Env;
use teachgym_envs::{PointMassConfig, PointMassEnv};
use teachgym_students::{
    EpisodeRecord, Evaluation, PpoAgent, PpoConfig, StudentError, TestSet, Trainer,
    TrainerCheckpoint, TrainerConfig,
};

use teachgym_teachers::{
    build_teacher, EpisodeOutcome, EvaluationResult, TaskSpace, Teacher, TEACHER_NAMES,
};

fn make_env() -> teachgym_students::Result<PointMassEnv> {
    Ok(PointMassEnv::new(PointMassConfig::default())?)
}

fn teacher(name: &str, seed: u64) -> Box<dyn Teacher> {
    let space = PointMassConfig::default().task_space().unwrap();
    let config = if name == "goal_gan" {
        // GoalGAN needs at least the success threshold (expert level low); small networks keep
        // the test cheap.
        serde_json::json!({
            "expert_knowledge": teachgym_teachers::ExpertKnowledge::low(
                0.5,
                teachgym_teachers::expert::RewardThresholds { min_reward: 0.0, max_reward: 0.5 },
            ),
            "generator_hidden": [16, 16],
            "discriminator_hidden": [8, 8],
            "pretrain_samples": 64,
            "pretrain_outer_iters": 5,
            "outer_iters": 5,
        })
    } else if name == "adr" {
        // ADR needs expert knowledge (reward thresholds).
        let thresholds = teachgym_teachers::expert::RewardThresholds {
            min_reward: 0.0,
            max_reward: 0.5,
        };
        serde_json::to_value(teachgym_teachers::AdrConfig {
            expert_knowledge: teachgym_teachers::ExpertKnowledge::low(0.5, thresholds),
            ..Default::default()
        })
        .unwrap()
    } else if name == "again" {
        // A stand-in classroom with KC vectors as long as the test set: AGAIN leaves its
        // pre-test at the first evaluation after training began and replays it.
        serde_json::json!({ "classroom": teachgym_teachers::Classroom::minimal(&space, 24) })
    } else if name == "qweb_schedule" {
        // Its default dimensions are the web form's; schedule the point mass's first one.
        serde_json::json!({ "dimensions": [space.names()[0]], "horizon": 20 })
    } else {
        serde_json::Value::Null
    };
    build_teacher(name, space, seed, config).unwrap()
}

fn ppo(seed: u64, rollout_steps: usize) -> PpoAgent {
    let config = PpoConfig {
        rollout_steps,
        minibatch_size: 64,
        ..PpoConfig::default()
    };
    PpoAgent::new(config, 6, 2, seed).unwrap()
}

fn test_set() -> TestSet {
    let space = PointMassConfig::default().task_space().unwrap();
    TestSet::random(&space, 24, 5).unwrap()
}

fn trainer(
    threads: usize,
    total_steps: u64,
    teacher_name: &str,
) -> Trainer<PointMassEnv, PpoAgent> {
    let config = TrainerConfig {
        total_steps,
        num_envs: 4,
        threads,
        eval_every: 1024,
        ..TrainerConfig::default()
    };
    Trainer::new(
        config,
        3,
        ppo(3, 512),
        teacher(teacher_name, 3),
        &mut make_env,
        test_set(),
    )
    .unwrap()
}

/// Runs to the end; returns every episode, every evaluation and the final student.
fn run_to_end(
    mut t: Trainer<PointMassEnv, PpoAgent>,
) -> (Vec<EpisodeRecord>, Vec<Evaluation>, String) {
    let (mut episodes, mut evals) = (Vec::new(), Vec::new());
    while !t.is_done() {
        let report = t.run_iteration().unwrap();
        episodes.extend(report.episodes);
        evals.extend(report.evaluations);
    }
    (
        episodes,
        evals,
        teachgym_students::Student::<PointMassEnv>::to_json(t.student()),
    )
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let one = run_to_end(trainer(1, 3072, "alp_gmm"));
    let two = run_to_end(trainer(2, 3072, "alp_gmm"));
    assert!(!one.0.is_empty(), "no episode finished");
    assert_eq!(
        one.1.len(),
        4,
        "evaluations at 0, 1024, 2048 and 3072 expected"
    );
    assert_eq!(one, two);
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    let uninterrupted = run_to_end(trainer(2, 4096, "alp_gmm"));

    let mut first = trainer(2, 4096, "alp_gmm");
    let (mut episodes, mut evals) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let report = first.run_iteration().unwrap();
        episodes.extend(report.episodes);
        evals.extend(report.evaluations);
    }
    // Through JSON, as the CLI stores it.
    let text = serde_json::to_string(&first.checkpoint().unwrap()).unwrap();
    drop(first);
    let checkpoint: TrainerCheckpoint<Vec<f32>> = serde_json::from_str(&text).unwrap();
    let resumed = resume(checkpoint, "alp_gmm").unwrap();
    let (rest_episodes, rest_evals, student) = run_to_end(resumed);
    episodes.extend(rest_episodes);
    evals.extend(rest_evals);
    assert_eq!((episodes, evals, student), uninterrupted);
}

#[test]
fn every_registered_teacher_drives_the_loop() {
    for name in TEACHER_NAMES {
        let (episodes, evals, _) = run_to_end(trainer(2, 1024, name));
        assert!(!episodes.is_empty(), "{name}: no episode");
        assert_eq!(evals.len(), 2, "{name}");
        let space = PointMassConfig::default().task_space().unwrap();
        assert!(
            episodes.iter().all(|e| space.contains(&e.task)),
            "{name}: task outside the space"
        );
    }
}

#[test]
fn vectorised_ppo_learns_the_point_mass_task_with_a_teacher() {
    let config = TrainerConfig {
        total_steps: 40_960,
        num_envs: 4,
        threads: 2,
        eval_every: 40_960,
        ..TrainerConfig::default()
    };
    let t = Trainer::new(
        config,
        1,
        PpoAgent::new(PpoConfig::default(), 6, 2, 1).unwrap(),
        teacher("random", 1),
        &mut make_env,
        test_set(),
    )
    .unwrap();
    let (_, evals, _) = run_to_end(t);
    let (first, last) = (&evals[0], evals.last().unwrap());
    eprintln!(
        "vectorised PPO point mass: mastered {:.0}% -> {:.0}%",
        first.mastered_percent, last.mastered_percent
    );
    assert!(first.mastered_percent < 30.0);
    assert!(last.mastered_percent >= 90.0);
}

#[test]
fn bad_input_is_refused() {
    // A teacher over another task space.
    let other = teachgym_core::TaskSpace::from_bounds(&[0.0], &[1.0]).unwrap();
    let wrong_teacher = build_teacher("random", other, 0, serde_json::Value::Null).unwrap();
    let err = Trainer::new(
        TrainerConfig::default(),
        0,
        ppo(0, 512),
        wrong_teacher,
        &mut make_env,
        test_set(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, StudentError::ShapeMismatch { .. }), "{err}");

    // A student for other observation widths.
    let err = Trainer::new(
        TrainerConfig::default(),
        0,
        PpoAgent::new(PpoConfig::default(), 5, 2, 0).unwrap(),
        teacher("random", 0),
        &mut make_env,
        test_set(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, StudentError::ShapeMismatch { .. }), "{err}");

    // A bad loop config.
    let err = Trainer::new(
        TrainerConfig {
            num_envs: 0,
            ..TrainerConfig::default()
        },
        0,
        ppo(0, 512),
        teacher("random", 0),
        &mut make_env,
        test_set(),
    )
    .err()
    .unwrap();
    assert!(matches!(
        err,
        StudentError::InvalidConfig {
            field: "num_envs",
            ..
        }
    ));

    // A checkpoint whose env copies cannot be replayed (fewer copies than configured).
    let t = trainer(1, 1024, "random");
    let mut checkpoint = t.checkpoint().unwrap();
    checkpoint.envs.episodes.pop();
    let err = Trainer::<PointMassEnv, PpoAgent>::resume(
        TrainerConfig {
            num_envs: 4,
            ..TrainerConfig::default()
        },
        checkpoint,
        teacher("random", 0),
        &mut make_env,
        test_set(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, StudentError::CorruptCheckpoint { .. }),
        "{err}"
    );

    // A corrupt student state inside the checkpoint.
    let mut checkpoint = t.checkpoint().unwrap();
    checkpoint.student = "{\"format_version\": 1".into();
    let err = Trainer::<PointMassEnv, PpoAgent>::resume(
        TrainerConfig {
            num_envs: 4,
            ..TrainerConfig::default()
        },
        checkpoint,
        teacher("random", 0),
        &mut make_env,
        test_set(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, StudentError::CorruptCheckpoint { .. }),
        "{err}"
    );
}

#[test]
fn test_sets_grid_round_trip_and_validate() {
    let space = teachgym_core::TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap();
    let grid = TestSet::grid(&space, 10).unwrap();
    assert_eq!(grid.len(), 100);
    assert_eq!(grid.tasks()[0], vec![0.0, 0.0]);
    assert_eq!(grid.tasks()[1], vec![0.0, 6.0 / 9.0]);
    assert_eq!(grid.tasks()[99], vec![3.0, 6.0]);
    assert_eq!(TestSet::default_for(&space).unwrap(), grid);
    let back = TestSet::from_csv(&space, &grid.to_csv()).unwrap();
    assert_eq!(back, grid);
    let random = TestSet::random(&space, 7, 1).unwrap();
    assert_eq!(TestSet::from_csv(&space, &random.to_csv()).unwrap(), random);

    let names = space.names().join(",");
    for bad in [
        String::new(),
        "a,b\n1,2\n".to_string(),
        format!("{names}\n1,x\n"),
        format!("{names}\n1\n"),
        format!("{names}\n4,1\n"),
        format!("{names}\n"),
    ] {
        assert!(TestSet::from_csv(&space, &bad).is_err(), "accepted {bad:?}");
    }
    assert!(TestSet::grid(&space, 1).is_err());
    let _ = PointMassEnv::new(PointMassConfig::default())
        .unwrap()
        .task_space()
        .dim();
}

/// A checkpoint of a short run, through JSON as the CLI stores it.
fn checkpoint_after(iterations: usize) -> TrainerCheckpoint<Vec<f32>> {
    let mut t = trainer(1, 4096, "random");
    for _ in 0..iterations {
        t.run_iteration().unwrap();
    }
    serde_json::from_str(&serde_json::to_string(&t.checkpoint().unwrap()).unwrap()).unwrap()
}

/// A run of `trainer(_, 4096, _)` resumed from `checkpoint` on one thread, with a fresh
/// teacher `teacher_name` (its state comes from the checkpoint).
fn resume(
    checkpoint: TrainerCheckpoint<Vec<f32>>,
    teacher_name: &str,
) -> teachgym_students::Result<Trainer<PointMassEnv, PpoAgent>> {
    Trainer::resume(
        TrainerConfig {
            total_steps: 4096,
            num_envs: 4,
            threads: 1,
            eval_every: 1024,
            ..TrainerConfig::default()
        },
        checkpoint,
        teacher(teacher_name, 99),
        &mut make_env,
        test_set(),
    )
}

/// Issue 22, case 3: a checkpoint with `global_step = 1e18` hung in the loop that advanced the
/// next evaluation step one period at a time; a step beyond the run's budget is now refused.
#[test]
fn a_checkpoint_beyond_the_budget_is_refused() {
    let mut checkpoint = checkpoint_after(2);
    checkpoint.envs.global_step = 1_000_000_000_000_000_000;
    let err = resume(checkpoint, "random").err().unwrap();
    let message = err.to_string();
    assert!(
        matches!(err, StudentError::CorruptCheckpoint { .. })
            && message.contains("1000000000000000000")
            && message.contains("budget of 4096"),
        "{message}"
    );
    // The last whole iteration of the run may pass the budget: still a valid checkpoint.
    let mut checkpoint = checkpoint_after(2);
    checkpoint.envs.global_step = 4095 + 512;
    assert!(resume(checkpoint, "random").is_ok());
}

/// The next evaluation step is computed, not counted up to: a schedule far behind the step
/// (a next_eval of 0 at step 4096) catches up in one iteration.
#[test]
fn a_lagging_evaluation_schedule_catches_up_at_once() {
    let mut checkpoint = checkpoint_after(2);
    checkpoint.next_eval = 0;
    checkpoint.last_eval_step = None;
    let mut t = resume(checkpoint, "random").unwrap();
    let report = t.run_iteration().unwrap();
    assert_eq!(report.evaluations.len(), 1);
    let next = t.checkpoint().unwrap().next_eval;
    assert_eq!(next, 2048, "the first multiple of 1024 above step 1024");
}

/// Random tasks; keeps every evaluation it is handed and asks for a fresh student at `restart_at`.
struct Recorder {
    inner: Box<dyn Teacher>,
    seen: Arc<Mutex<Vec<EvaluationResult>>>,
    restart_at: Option<u64>,
    wants_restart: bool,
}

impl Teacher for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn task_space(&self) -> &TaskSpace {
        self.inner.task_space()
    }
    fn sample_task(&mut self) -> Vec<f64> {
        self.inner.sample_task()
    }
    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> teachgym_teachers::Result<()> {
        self.inner.update(task, outcome)
    }
    fn record_evaluation(&mut self, e: &EvaluationResult) -> teachgym_teachers::Result<()> {
        self.seen.lock().unwrap().push(e.clone());
        self.wants_restart |= self.restart_at == Some(e.epoch);
        Ok(())
    }
    fn wants_student_restart(&self) -> bool {
        self.wants_restart
    }
    fn acknowledge_student_restart(&mut self) {
        self.wants_restart = false;
    }
    fn save_state(&self) -> teachgym_teachers::Result<Vec<u8>> {
        self.inner.save_state()
    }
    fn load_state(&mut self, bytes: &[u8]) -> teachgym_teachers::Result<()> {
        self.inner.load_state(bytes)
    }
}

fn recorder_trainer(
    restart_at: Option<u64>,
    score_range: Option<[f64; 2]>,
) -> (
    Trainer<PointMassEnv, PpoAgent>,
    Arc<Mutex<Vec<EvaluationResult>>>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
        inner: teacher("random", 3),
        seen: seen.clone(),
        restart_at,
        wants_restart: false,
    };
    let config = TrainerConfig {
        total_steps: 3072,
        num_envs: 4,
        threads: 1,
        eval_every: 1024,
        score_range,
        ..TrainerConfig::default()
    };
    let trainer = Trainer::new(
        config,
        3,
        ppo(3, 256),
        Box::new(recorder),
        &mut make_env,
        test_set(),
    )
    .unwrap();
    (trainer, seen)
}

#[test]
fn the_teacher_gets_every_evaluation_with_its_epoch_and_scores() {
    let (t, seen) = recorder_trainer(None, Some([-1.0, 1.0]));
    let (episodes, evals, _) = run_to_end(t);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), evals.len());
    // The evaluation of the untrained student is epoch 0, then one epoch per evaluation.
    assert_eq!(
        seen.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        (0..evals.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(seen[0].episodes, 0);
    assert_eq!(seen.last().unwrap().episodes, episodes.len() as u64);
    for (e, ev) in seen.iter().zip(&evals) {
        assert_eq!(e.returns, ev.returns);
        assert_eq!(e.scores.len(), 24);
        for (s, r) in e.scores.iter().zip(&e.returns) {
            assert!((s - ((r + 1.0) / 2.0).clamp(0.0, 1.0)).abs() < 1e-12);
        }
    }
    // Without a score range: success flags.
    let (t, seen) = recorder_trainer(None, None);
    run_to_end(t);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|e| e.scores.iter().all(|&s| s == 0.0 || s == 1.0)));
}

#[test]
fn a_restart_request_makes_a_fresh_student_from_the_factory() {
    // Without a factory the request is a typed error.
    let (mut t, _) = recorder_trainer(Some(1), None);
    let err = loop {
        match t.run_iteration() {
            Ok(_) => assert!(!t.is_done(), "the request never came"),
            Err(e) => break e,
        }
    };
    assert!(matches!(
        err,
        StudentError::NoStudentFactory {
            teacher: "recorder"
        }
    ));

    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    let (t, _) = recorder_trainer(Some(1), None);
    let mut t = t.with_student_factory(Box::new(move |restarts| {
        log.lock().unwrap().push(restarts);
        Ok(ppo(100 + restarts, 256))
    }));
    while !t.is_done() {
        t.run_iteration().unwrap();
    }
    assert_eq!(*calls.lock().unwrap(), vec![0]);
    assert_eq!(t.student_restarts(), 1);
    assert_eq!(t.checkpoint().unwrap().student_restarts, 1);
}

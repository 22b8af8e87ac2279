//! Acceptance of SAC (issue 14): it learns the point-mass task within a CI-fast budget through
//! the teacher-driven loop; its results do not depend on the thread count; a run resumed from
//! a checkpoint (replay buffer included) equals the uninterrupted run.

use teachgym_envs::{PointMassConfig, PointMassEnv};
use teachgym_students::sac::UpdateSchedule;
use teachgym_students::{
    EpisodeRecord, Evaluation, SacAgent, SacConfig, Student, TestSet, Trainer, TrainerCheckpoint,
    TrainerConfig,
};
use teachgym_teachers::{build_teacher, Teacher};

/// Training budget of the learning test (env steps over all copies).
const BUDGET: u64 = 8_000;
/// Seed of the learning run.
const SEED: u64 = 1;

fn make_env() -> teachgym_students::Result<PointMassEnv> {
    Ok(PointMassEnv::new(PointMassConfig::default())?)
}

fn teacher(seed: u64) -> Box<dyn Teacher> {
    let space = PointMassConfig::default().task_space().unwrap();
    build_teacher("random", space, seed, serde_json::Value::Null).unwrap()
}

fn test_set() -> TestSet {
    TestSet::random(&PointMassConfig::default().task_space().unwrap(), 50, 12345).unwrap()
}

/// SAC sized for the point mass: 64-64, batch 128, lr 1e-3, a gradient step per env step.
fn learner_config() -> SacConfig {
    SacConfig {
        hidden_sizes: vec![64, 64],
        batch_size: 128,
        buffer_size: 50_000,
        learning_rate: 1e-3,
        start_steps: 1000,
        learning_starts: 1000,
        ..SacConfig::default()
    }
}

fn trainer(
    config: SacConfig,
    threads: usize,
    total_steps: u64,
    eval_every: u64,
) -> Trainer<PointMassEnv, SacAgent> {
    let env = make_env().unwrap();
    let student = SacAgent::for_spaces(config, env_obs(&env), env_act(&env), SEED).unwrap();
    Trainer::new(
        TrainerConfig {
            total_steps,
            num_envs: 4,
            threads,
            eval_every,
            ..TrainerConfig::default()
        },
        SEED,
        student,
        teacher(SEED),
        &mut make_env,
        test_set(),
    )
    .unwrap()
}

fn env_obs(env: &PointMassEnv) -> &teachgym_core::Space {
    teachgym_core::Env::observation_space(env)
}

fn env_act(env: &PointMassEnv) -> &teachgym_core::Space {
    teachgym_core::Env::action_space(env)
}

fn run_to_end(
    mut t: Trainer<PointMassEnv, SacAgent>,
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
        Student::<PointMassEnv>::to_json(t.student()),
    )
}

fn success(evaluation: &Evaluation) -> f64 {
    evaluation.mastered_percent / 100.0
}

#[test]
fn sac_learns_the_point_mass_task_with_a_teacher() {
    let start = std::time::Instant::now();
    let (episodes, evals, _) = run_to_end(trainer(learner_config(), 2, BUDGET, BUDGET / 4));
    let (before, after) = (success(&evals[0]), success(evals.last().unwrap()));
    eprintln!(
        "SAC point mass: {BUDGET} steps in {:.2?}, {} episodes, test success by evaluation: {:?}",
        start.elapsed(),
        episodes.len(),
        evals.iter().map(success).collect::<Vec<_>>()
    );
    assert!(
        before < 0.3,
        "untrained policy already succeeds on {before}"
    );
    assert!(after >= 0.9, "trained policy succeeds on only {after}");
}

fn small() -> SacConfig {
    SacConfig {
        hidden_sizes: vec![16, 16],
        batch_size: 32,
        buffer_size: 2000,
        start_steps: 64,
        learning_starts: 64,
        updates: UpdateSchedule::EnvSteps {
            train_frequency: 2,
            gradient_steps: 1,
        },
        ..SacConfig::default()
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let one = run_to_end(trainer(small(), 1, 600, 200));
    let two = run_to_end(trainer(small(), 2, 600, 200));
    assert!(!one.0.is_empty(), "no episode finished");
    assert_eq!(one, two);
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    for value_network in [false, true] {
        let config = SacConfig {
            value_network,
            ..small()
        };
        let uninterrupted = run_to_end(trainer(config.clone(), 2, 800, 200));
        let mut first = trainer(config, 2, 800, 200);
        let (mut episodes, mut evals) = (Vec::new(), Vec::new());
        for _ in 0..90 {
            let report = first.run_iteration().unwrap();
            episodes.extend(report.episodes);
            evals.extend(report.evaluations);
        }
        let text = serde_json::to_string(&first.checkpoint().unwrap()).unwrap();
        drop(first);
        let checkpoint: TrainerCheckpoint<Vec<f32>> = serde_json::from_str(&text).unwrap();
        let resumed = Trainer::resume(
            TrainerConfig {
                total_steps: 800,
                num_envs: 4,
                threads: 1,
                eval_every: 200,
                ..TrainerConfig::default()
            },
            checkpoint,
            teacher(77),
            &mut make_env,
            test_set(),
        )
        .unwrap();
        let (rest_episodes, rest_evals, student) = run_to_end(resumed);
        episodes.extend(rest_episodes);
        evals.extend(rest_evals);
        assert_eq!(
            (episodes, evals, student),
            uninterrupted,
            "value network {value_network}"
        );
    }
}

//! A MetaQWeb run continued from a checkpoint taken between evaluations (a running episode in
//! every env copy, a replay buffer half full) makes the same evaluations and ends with the same
//! student, byte for byte, as the run never stopped; a checkpoint of another format version, or
//! one taken past the run's budget, is refused with a typed error.

use teachgym_envs::WebFormConfig;
use teachgym_students::inet::InetConfig;
use teachgym_students::{
    train_inet, Inet, MetaQweb, MetaQwebConfig, StudentError, TestSet, TrainerConfig,
};
use teachgym_teachers::build_teacher;

#[path = "support/easy_forms.rs"]
mod easy_forms;
use easy_forms::{easy_forms, student};

const SEED: u64 = 3;

fn trainer() -> TrainerConfig {
    TrainerConfig {
        total_steps: 1_200,
        num_envs: 4,
        threads: 1,
        eval_every: 400,
        ..TrainerConfig::default()
    }
}

fn inet(forms: &WebFormConfig) -> Inet {
    let meta = MetaQwebConfig {
        inet: InetConfig {
            exploration_steps: 1_000,
            ..InetConfig::default()
        },
        inet_answers: 2_000,
        inet_eval_forms: 10,
    };
    train_inet(&meta, forms, SEED, &[]).unwrap().0
}

fn test_set(forms: &WebFormConfig) -> TestSet {
    TestSet::random(&forms.bounded_task_space().unwrap(), 8, 5).unwrap()
}

fn fresh_run(forms: &WebFormConfig, inet: &Inet) -> MetaQweb {
    let space = forms.bounded_task_space().unwrap();
    let teacher = build_teacher("alp_gmm", space, SEED, serde_json::Value::Null).unwrap();
    MetaQweb::new(
        trainer(),
        forms,
        inet,
        student(SEED),
        teacher,
        test_set(forms),
        SEED,
    )
    .unwrap()
}

fn resumed(forms: &WebFormConfig, inet: &Inet, run: &MetaQweb, threads: usize) -> MetaQweb {
    let space = forms.bounded_task_space().unwrap();
    let teacher = build_teacher("alp_gmm", space, SEED, serde_json::Value::Null).unwrap();
    // Through JSON, as the command line stores it.
    let text = serde_json::to_string(&run.checkpoint().unwrap()).unwrap();
    let checkpoint = serde_json::from_str(&text).unwrap();
    let config = TrainerConfig {
        threads,
        ..trainer()
    };
    MetaQweb::resume(config, forms, inet, checkpoint, teacher, test_set(forms)).unwrap()
}

#[test]
fn a_resumed_run_ends_as_the_uninterrupted_one() {
    let forms = easy_forms();
    let inet = inet(&forms);

    let mut whole = fresh_run(&forms, &inet);
    let expected = whole.run().unwrap();
    assert_eq!(
        expected.iter().map(|e| e.global_step).collect::<Vec<_>>(),
        [0, 400, 800, 1_200]
    );

    let mut first = fresh_run(&forms, &inet);
    let mut evaluations = Vec::new();
    while first.global_step() < 600 {
        evaluations.extend(first.step().unwrap());
        first.drain_episodes();
    }
    // A different thread count does not change the run.
    let mut second = resumed(&forms, &inet, &first, 2);
    drop(first);
    assert_eq!(second.global_step(), 600);
    evaluations.extend(second.run().unwrap());
    assert_eq!(evaluations, expected);
    assert_eq!(second.student().to_json(), whole.student().to_json());
}

#[test]
fn checkpoints_that_do_not_fit_are_refused() {
    let forms = easy_forms();
    let inet = inet(&forms);
    let mut run = fresh_run(&forms, &inet);
    while run.global_step() < 100 {
        run.step().unwrap();
    }
    let space = forms.bounded_task_space().unwrap();
    let teacher = || build_teacher("alp_gmm", space.clone(), SEED, serde_json::Value::Null);

    let mut checkpoint = run.checkpoint().unwrap();
    checkpoint.format_version += 1;
    match MetaQweb::resume(
        trainer(),
        &forms,
        &inet,
        checkpoint,
        teacher().unwrap(),
        test_set(&forms),
    ) {
        Err(StudentError::UnsupportedCheckpointVersion { found, supported }) => {
            assert_eq!(found, supported + 1)
        }
        other => panic!("{:?}", other.err()),
    }

    let shorter = TrainerConfig {
        total_steps: 50,
        ..trainer()
    };
    match MetaQweb::resume(
        shorter,
        &forms,
        &inet,
        run.checkpoint().unwrap(),
        teacher().unwrap(),
        test_set(&forms),
    ) {
        Err(StudentError::CorruptCheckpoint { reason }) => {
            assert!(reason.contains("beyond"), "{reason}")
        }
        other => panic!("{:?}", other.err()),
    }

    let fewer_envs = TrainerConfig {
        num_envs: 2,
        ..trainer()
    };
    assert!(MetaQweb::resume(
        fewer_envs,
        &forms,
        &inet,
        run.checkpoint().unwrap(),
        teacher().unwrap(),
        test_set(&forms),
    )
    .is_err());
}

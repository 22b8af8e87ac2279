//! MetaQWeb (issue 20.4) trains the QWeb DQN without ever asking the oracle, and the policy it
//! trains submits easy forms (1–2 text fields) with their real instructions more often than the
//! untrained one. Alone in its test binary: the oracle's process-wide call count must not move
//! during training and evaluation.

use teachgym_envs::webform::{oracle_action, oracle_calls};
use teachgym_students::inet::InetConfig;
use teachgym_students::{train_inet, MetaQweb, MetaQwebConfig, TestSet, TrainerConfig};
use teachgym_teachers::build_teacher;

#[path = "support/easy_forms.rs"]
mod easy_forms;
use easy_forms::{easy_forms, student};

#[test]
fn meta_qweb_learns_easy_forms_without_the_oracle() {
    let forms = easy_forms();
    let meta = MetaQwebConfig {
        inet: InetConfig {
            exploration_steps: 1_000,
            ..InetConfig::default()
        },
        inet_answers: 2_000,
        inet_eval_forms: 50,
    };
    let before = oracle_calls();
    let (inet, accuracy) = train_inet(&meta, &forms, 0, &[]).unwrap();
    let accuracy = accuracy[0];
    assert!(accuracy.greedy > 0.9, "INET accuracy {accuracy:?}");

    let space = forms.bounded_task_space().unwrap();
    let test_set = TestSet::random(&space, 20, 5).unwrap();
    let teacher = build_teacher("random", space, 0, serde_json::Value::Null).unwrap();
    let trainer = TrainerConfig {
        total_steps: 6_000,
        num_envs: 4,
        threads: 1,
        eval_every: 6_000,
        ..TrainerConfig::default()
    };
    let mut run = MetaQweb::new(trainer, &forms, &inet, student(0), teacher, test_set, 0).unwrap();
    let evaluations = run.run().unwrap();
    assert_eq!(
        oracle_calls(),
        before,
        "MetaQWeb or INET's training asked the oracle"
    );
    let (first, last) = (&evaluations[0], evaluations.last().unwrap());
    eprintln!(
        "INET {accuracy:?}; test success untrained {}%, after MetaQWeb {}%",
        first.mastered_percent, last.mastered_percent
    );
    assert_eq!((first.global_step, last.global_step), (0, 6_000));
    assert!(
        last.mastered_percent >= first.mastered_percent + 40.0,
        "untrained {}% → MetaQWeb {}%",
        first.mastered_percent,
        last.mastered_percent
    );

    // The count is live: one oracle call moves it.
    let mut env = teachgym_envs::WebFormEnv::new(forms).unwrap();
    teachgym_core::Env::reset(
        &mut env,
        Some(0),
        &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
    )
    .unwrap();
    oracle_action(env.form().unwrap(), env.state().unwrap());
    assert_eq!(oracle_calls(), before + 1);
}

//! Property tests of the hardening harness (issue 22): `build_teacher` with any JSON
//! configuration, any task space and any episode outcomes, and `load_state` with any bytes,
//! return `Ok` or a typed error, never panic.
//!
//! A few dozen cases each by default; `PROPTEST_CASES` runs more (`scripts/fuzz.sh`).

#[path = "../../tests/support/strategies.rs"]
mod strategies;

use proptest::prelude::*;
use serde_json::{json, Value};
use strategies::{
    apply, config, mostly_bound, mutate_numbers, mutation, number_replacements, wild_f64,
};
use teachgym_teachers::{build_teacher, EpisodeOutcome, TaskSpace, Teacher, TEACHER_NAMES};

/// A configuration every teacher builds with (ADR needs reward thresholds, GoalGAN a success
/// threshold), small enough that refits and trainings happen within a few dozen episodes.
fn base_config(name: &str) -> Value {
    match name {
        "alp_gmm" | "covar_gmm" => json!({"fit_rate": 8, "max_k": 3, "gmm": {"fit_threads": 1}}),
        "riac" => json!({"max_region_size": 8, "nb_split_attempts": 5}),
        "adr" => json!({"queue_len": 3, "expert_knowledge": {"level": "low",
            "success_threshold": 1.0, "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}}),
        // Success = return > 5: the outcomes below give both successes and failures.
        "goal_gan" => json!({"generator_hidden": [8], "discriminator_hidden": [8],
            "pretrain_samples": 16, "pretrain_outer_iters": 2, "outer_iters": 2, "update_size": 3,
            "batch_size": 8, "expert_knowledge": {"level": "low", "success_threshold": 5.0,
            "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}}),
        // A stand-in classroom on the space of `load_state_never_panics` (other spaces are
        // refused with a typed error).
        "again" => {
            let space = TaskSpace::from_bounds(&[0.0, -1.0], &[1.0, 1.0]).unwrap();
            json!({"classroom": teachgym_teachers::Classroom::minimal(&space, 3),
                "alp_gmm": {"fit_rate": 8, "max_k": 3, "gmm": {"fit_threads": 1}}})
        }
        // The first dimension of every space of these tests (its defaults name the web form's);
        // a short, gated schedule so that the episodes below move it.
        "qweb_schedule" => json!({"dimensions": ["dim_0"], "horizon": 10, "stages": 4,
            "min_success_rate": 0.2, "success_window": 5}),
        _ => json!({}),
    }
}

/// Field values of the wrong type, now and then.
fn odd_value() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(null),
        json!(true),
        json!("x"),
        json!([]),
        json!({}),
        json!(-1),
        json!(1e300),
    ])
}

/// Runs `teacher` for `outcomes` episodes and checks that its state restores.
fn exercise(
    teacher: &mut Box<dyn Teacher>,
    outcomes: &[(f64, bool, u32, Option<Vec<f64>>)],
    rebuild: impl Fn() -> Box<dyn Teacher>,
) {
    for (ret, success, length, odd_task) in outcomes {
        let task = odd_task.clone().unwrap_or_else(|| teacher.sample_task());
        let _ = teacher.update(&task, &EpisodeOutcome::new(*ret, *success, *length));
    }
    let _ = teacher.non_exploratory_samples(7);
    let state = teacher
        .save_state()
        .expect("a built teacher saves its state");
    let mut copy = rebuild();
    copy.load_state(&state).expect("a saved state restores");
    assert_eq!(copy.sample_task(), teacher.sample_task());
}

fn outcomes() -> impl Strategy<Value = Vec<(f64, bool, u32, Option<Vec<f64>>)>> {
    prop::collection::vec(
        (
            prop_oneof![4 => -10.0..300.0f64, 1 => wild_f64()],
            any::<bool>(),
            any::<u32>(),
            prop::option::weighted(0.1, prop::collection::vec(wild_f64(), 0..4)),
        ),
        0..40,
    )
}

proptest! {
    #![proptest_config(config(40))]

    /// Any teacher, any configuration numbers (and some fields of the wrong type), any task
    /// space: built or refused, and once built it samples, learns and restores its state.
    #[test]
    fn build_teacher_never_panics(
        name in prop::sample::select(TEACHER_NAMES.to_vec()),
        numbers in number_replacements(0.1),
        odd in prop::option::weighted(0.2, (0..8usize, odd_value())),
        bounds in prop::collection::vec(mostly_bound(-10.0..10.0), 1..4),
        seed in any::<u64>(),
        outcomes in outcomes(),
    ) {
        let mut config = base_config(name);
        mutate_numbers(&mut config, &mut numbers.into_iter());
        if let (Some((k, value)), Value::Object(fields)) = (odd, &mut config) {
            let keys: Vec<String> = fields.keys().cloned().collect();
            if let Some(key) = keys.get(k % keys.len().max(1)) {
                fields.insert(key.clone(), value);
            }
        }
        let (low, high): (Vec<f64>, Vec<f64>) = bounds.iter().map(|b| (b[0], b[1])).unzip();
        let Ok(space) = TaskSpace::from_bounds(&low, &high) else {
            return Ok(());
        };
        if let Ok(mut teacher) = build_teacher(name, space.clone(), seed, config.clone()) {
            exercise(&mut teacher, &outcomes, || {
                build_teacher(name, space.clone(), seed, config.clone()).unwrap()
            });
        }
    }

    /// A teacher's saved state, mutated (numbers replaced, bytes changed, cut): `load_state`
    /// refuses it or restores a teacher that works.
    #[test]
    fn load_state_never_panics(
        name in prop::sample::select(TEACHER_NAMES.to_vec()),
        episodes in 0..30usize,
        mutations in prop::collection::vec(mutation(), 1..4),
        seed in any::<u64>(),
    ) {
        let space = TaskSpace::from_bounds(&[0.0, -1.0], &[1.0, 1.0]).unwrap();
        let make = || build_teacher(name, space.clone(), seed, base_config(name)).unwrap();
        let mut teacher = make();
        for k in 0..episodes {
            let task = teacher.sample_task();
            teacher
                .update(&task, &EpisodeOutcome::new(k as f64 * 7.0 % 11.0, k % 3 == 0, 10))
                .unwrap();
        }
        let state = teacher.save_state().unwrap();
        let text = String::from_utf8(state).unwrap();
        let bytes = apply(&text, &mutations);
        let mut target = make();
        if target.load_state(&bytes).is_ok() {
            for _ in 0..12 {
                let task = target.sample_task();
                let _ = target.update(&task, &EpisodeOutcome::new(1.0, false, 3));
            }
            let _ = target.non_exploratory_samples(5);
            let _ = target.save_state();
        }
    }
}

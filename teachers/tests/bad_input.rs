//! Bad input gets typed errors, never panics: non-finite returns, tasks of the wrong dimension
//! or out of bounds, empty or inverted bounds, corrupt or mismatched checkpoints. A rejected
//! call leaves the teacher's state unchanged.

use teachgym_core::Error as CoreError;
mod common;

use common::contract_config;
use teachgym_teachers::toys::ToyGrid;
use teachgym_teachers::{
    build_teacher, build_teacher_from_bounds, EpisodeOutcome, Teacher, TeacherError, TEACHER_NAMES,
};

fn teachers() -> Vec<Box<dyn Teacher>> {
    let student = ToyGrid::teach_deep_rl();
    TEACHER_NAMES
        .iter()
        .map(|name| {
            build_teacher(
                name,
                student.task_space().clone(),
                5,
                contract_config(name, &student),
            )
            .unwrap()
        })
        .collect()
}

/// Warms a teacher up so it has non-trivial state.
fn warm(teacher: &mut dyn Teacher) {
    let mut student = ToyGrid::teach_deep_rl();
    for _ in 0..400 {
        let task = teacher.sample_task();
        let o = student.play(&task).unwrap();
        teacher.update(&task, &o).unwrap();
    }
}

fn next_tasks(teacher: &mut dyn Teacher) -> Vec<Vec<f64>> {
    (0..50)
        .map(|i| {
            let t = teacher.sample_task();
            teacher
                .update(&t, &EpisodeOutcome::new(i as f64 * 0.01, false, 1))
                .unwrap();
            t
        })
        .collect()
}

#[test]
fn non_finite_returns_are_refused() {
    for mut t in teachers() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = t
                .update(&[0.5, 0.5], &EpisodeOutcome::new(value, false, 1))
                .unwrap_err();
            assert!(
                matches!(err, TeacherError::NonFiniteReturn { .. }),
                "{}: {err}",
                t.name()
            );
        }
    }
}

#[test]
fn wrong_dimension_and_out_of_bounds_tasks_are_refused() {
    let ok = EpisodeOutcome::new(0.5, false, 1);
    for mut t in teachers() {
        let name = t.name();
        assert!(
            matches!(
                t.update(&[0.5], &ok),
                Err(TeacherError::Core(CoreError::TaskDimension {
                    expected: 2,
                    got: 1,
                    ..
                }))
            ),
            "{name}"
        );
        assert!(matches!(
            t.update(&[0.5, 0.5, 0.5], &ok),
            Err(TeacherError::Core(CoreError::TaskDimension { .. }))
        ));
        assert!(
            matches!(
                t.update(&[0.5, 1.5], &ok),
                Err(TeacherError::Core(CoreError::TaskOutOfBounds { ref dim, .. })) if dim == "x1"
            ),
            "{name}"
        );
        assert!(matches!(
            t.update(&[f64::NAN, 0.5], &ok),
            Err(TeacherError::Core(CoreError::TaskOutOfBounds { .. }))
        ));
    }
}

#[test]
fn rejected_updates_leave_the_state_unchanged() {
    for mut t in teachers() {
        warm(t.as_mut());
        let before = t.save_state().unwrap();
        let _ = t.update(&[0.5, 7.0], &EpisodeOutcome::new(1.0, false, 1));
        let _ = t.update(&[0.5, 0.5], &EpisodeOutcome::new(f64::NAN, false, 1));
        assert_eq!(before, t.save_state().unwrap(), "{}", t.name());
    }
}

#[test]
fn empty_or_inverted_bounds_are_refused() {
    for name in TEACHER_NAMES {
        let cfg = serde_json::Value::Null;
        assert!(matches!(
            build_teacher_from_bounds(name, &[], &[], 0, cfg.clone()),
            Err(TeacherError::Core(CoreError::InvalidTaskSpace { .. }))
        ));
        assert!(matches!(
            build_teacher_from_bounds(name, &[0.0, 1.0], &[1.0, 0.0], 0, cfg.clone()),
            Err(TeacherError::Core(CoreError::InvalidBounds { ref dim, low, high })) if dim == "dim_1" && low == 1.0 && high == 0.0
        ));
        assert!(matches!(
            build_teacher_from_bounds(name, &[0.0], &[f64::INFINITY], 0, cfg.clone()),
            Err(TeacherError::Core(CoreError::InvalidBounds { .. }))
        ));
        assert!(matches!(
            build_teacher_from_bounds(name, &[0.0], &[1.0, 2.0], 0, cfg),
            Err(TeacherError::Core(CoreError::InvalidTaskSpace { .. }))
        ));
    }
}

#[test]
fn corrupt_or_mismatched_checkpoints_are_refused_without_side_effects() {
    let student = ToyGrid::teach_deep_rl();
    let other_space = ToyGrid::mostly_unlearnable().task_space().clone();
    let all = teachers();
    for (i, t) in all.into_iter().enumerate() {
        let name = TEACHER_NAMES[i];
        let mut t = t;
        warm(t.as_mut());
        let good = t.save_state().unwrap();
        let mut reference = build_teacher(
            name,
            student.task_space().clone(),
            5,
            contract_config(name, &student),
        )
        .unwrap();
        reference.load_state(&good).unwrap();

        let text = String::from_utf8(good.clone()).unwrap();
        let other_name = TEACHER_NAMES[(i + 1) % TEACHER_NAMES.len()];
        let mut bad_inputs: Vec<(String, Vec<u8>)> = vec![
            ("garbage".into(), b"\x00\xffnot json".to_vec()),
            ("empty".into(), Vec::new()),
            ("truncated".into(), good[..good.len() / 2].to_vec()),
            (
                "future version".into(),
                text.replacen("\"format_version\":1", "\"format_version\":2", 1)
                    .into_bytes(),
            ),
            (
                "other teacher".into(),
                text.replacen(
                    &format!("\"teacher\":\"{name}\""),
                    &format!("\"teacher\":\"{other_name}\""),
                    1,
                )
                .into_bytes(),
            ),
            (
                "state not an object".into(),
                format!("{{\"format_version\":1,\"teacher\":\"{name}\",\"state\":[]}}")
                    .into_bytes(),
            ),
        ];
        // A checkpoint taken on another task space.
        let cfg = contract_config(name, &ToyGrid::mostly_unlearnable());
        let other = build_teacher(name, other_space.clone(), 5, cfg).unwrap();
        bad_inputs.push(("other task space".into(), other.save_state().unwrap()));

        for (what, bytes) in bad_inputs {
            let err = t.load_state(&bytes).unwrap_err();
            assert!(
                matches!(err, TeacherError::Checkpoint { .. }),
                "{name}, {what}: {err}"
            );
        }
        // Still behaves exactly like the reference restored from the good checkpoint.
        assert_eq!(
            next_tasks(t.as_mut()),
            next_tasks(reference.as_mut()),
            "{name}"
        );
    }
}

#[test]
fn inconsistent_checkpoint_contents_are_refused() {
    let student = ToyGrid::teach_deep_rl();
    // ADR: current bounds with a wrong length.
    let mut adr = build_teacher(
        "adr",
        student.task_space().clone(),
        0,
        contract_config("adr", &student),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&adr.save_state().unwrap()).unwrap();
    v["state"]["current_low"] = serde_json::json!([0.0]);
    let err = adr
        .load_state(&serde_json::to_vec(&v).unwrap())
        .unwrap_err();
    assert!(matches!(err, TeacherError::Checkpoint { .. }), "{err}");
    // RIAC: a child index pointing nowhere.
    let mut riac = build_teacher(
        "riac",
        student.task_space().clone(),
        0,
        serde_json::Value::Null,
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&riac.save_state().unwrap()).unwrap();
    v["state"]["regions"][0]["children"] = serde_json::json!([5, 6]);
    assert!(matches!(
        riac.load_state(&serde_json::to_vec(&v).unwrap()),
        Err(TeacherError::Checkpoint { .. })
    ));
    // ALP-GMM: a history row of the wrong dimension.
    let mut alp = build_teacher(
        "alp_gmm",
        student.task_space().clone(),
        0,
        serde_json::Value::Null,
    )
    .unwrap();
    warm(alp.as_mut());
    let mut v: serde_json::Value = serde_json::from_slice(&alp.save_state().unwrap()).unwrap();
    v["state"]["window"][0] = serde_json::json!([0.1]);
    assert!(matches!(
        alp.load_state(&serde_json::to_vec(&v).unwrap()),
        Err(TeacherError::Checkpoint { .. })
    ));
    // A config made invalid inside the checkpoint.
    let mut v: serde_json::Value = serde_json::from_slice(&alp.save_state().unwrap()).unwrap();
    v["state"]["config"]["random_task_ratio"] = serde_json::json!(3.0);
    assert!(alp.load_state(&serde_json::to_vec(&v).unwrap()).is_err());
}

/// A checkpoint whose counters were edited to the largest `u64` loads (the counters are plain
/// numbers) and the teacher goes on without an overflow panic (they saturate).
#[test]
fn counters_at_their_maximum_do_not_overflow() {
    let max = u64::MAX.to_string();
    for mut teacher in teachers() {
        warm(teacher.as_mut());
        let text = String::from_utf8(teacher.save_state().unwrap()).unwrap();
        let mut edited = text.clone();
        for key in [
            "episodes",
            "fits",
            "trainings",
            "training_steps",
            "goals_labelled",
        ] {
            let needle = format!("\"{key}\":");
            if let Some(start) = edited.find(&needle).map(|i| i + needle.len()) {
                let end = start
                    + edited[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(0);
                if end > start {
                    edited.replace_range(start..end, &max);
                }
            }
        }
        assert_ne!(edited, text, "{}: no counter found", teacher.name());
        if teacher.load_state(edited.as_bytes()).is_ok() {
            for _ in 0..5 {
                let task = teacher.sample_task();
                teacher
                    .update(&task, &EpisodeOutcome::new(0.5, false, 3))
                    .unwrap();
            }
        }
    }
}

//! `return_range` of the ALP-based teachers (ALP-GMM, Covar-GMM, RIAC): returns are mapped
//! linearly from `[low, high]` to `[0, 1]` and clipped before the teacher learns from them. A
//! teacher with the range, fed raw returns, decides exactly as one without it fed the scaled
//! returns; a bad range is a typed error; without a range the configuration (and so every
//! checkpoint) is written as before.

use serde_json::json;
use teachgym_teachers::{build_teacher, EpisodeOutcome, TaskSpace, Teacher, TeacherError};

const ALP_TEACHERS: [&str; 3] = ["alp_gmm", "covar_gmm", "riac"];
const LOW: f64 = -150.0;
const HIGH: f64 = 350.0;

fn space() -> TaskSpace {
    TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap()
}

/// Small refit periods so that the fits happen within the run.
fn config(name: &str, range: Option<[f64; 2]>) -> serde_json::Value {
    let mut config = match name {
        "riac" => json!({ "max_region_size": 20 }),
        _ => json!({ "fit_rate": 40 }),
    };
    if let Some(range) = range {
        config["return_range"] = json!(range);
    }
    config
}

/// A walker-like return: mostly falls near -100, some runs far past `HIGH`, so clipping matters.
fn raw_return(task: &[f64], episode: usize) -> f64 {
    let ease = 1.0 - task[0] / 3.0;
    let progress = (episode as f64 / 400.0).min(1.0);
    -120.0 + 600.0 * ease * progress + 30.0 * ((episode * 7919 % 13) as f64 / 13.0)
}

fn drive(teacher: &mut dyn Teacher, scale_here: bool, episodes: usize) -> Vec<Vec<f64>> {
    (0..episodes)
        .map(|episode| {
            let task = teacher.sample_task();
            let raw = raw_return(&task, episode);
            let fed = if scale_here {
                ((raw - LOW) / (HIGH - LOW)).clamp(0.0, 1.0)
            } else {
                raw
            };
            teacher
                .update(&task, &EpisodeOutcome::new(fed, raw > 230.0, 100))
                .unwrap();
            task
        })
        .collect()
}

#[test]
fn a_range_is_the_same_as_feeding_scaled_returns() {
    for name in ALP_TEACHERS {
        let mut ranged = build_teacher(name, space(), 3, config(name, Some([LOW, HIGH]))).unwrap();
        let mut scaled = build_teacher(name, space(), 3, config(name, None)).unwrap();
        let mut raw = build_teacher(name, space(), 3, config(name, None)).unwrap();
        let tasks = drive(ranged.as_mut(), false, 600);
        assert_eq!(tasks, drive(scaled.as_mut(), true, 600), "{name}");
        // And the range changes decisions: raw returns give another curriculum.
        assert_ne!(tasks, drive(raw.as_mut(), false, 600), "{name}");
    }
}

#[test]
fn bad_ranges_are_refused_by_name() {
    for name in ALP_TEACHERS {
        for bad in [[1.0, 1.0], [2.0, -1.0]] {
            let error = build_teacher(name, space(), 0, config(name, Some(bad)))
                .err()
                .unwrap_or_else(|| panic!("{name} accepted return_range {bad:?}"));
            assert!(
                matches!(
                    error,
                    TeacherError::Core(teachgym_core::Error::InvalidConfig { .. })
                ) && error.to_string().contains("return_range"),
                "{name}: {error}"
            );
        }
    }
}

#[test]
fn a_non_finite_range_is_refused_by_name() {
    // JSON cannot carry infinities: the typed config is where they can come from.
    let config = teachgym_teachers::AlpGmmConfig {
        return_range: Some([f64::NEG_INFINITY, 0.0]),
        ..Default::default()
    };
    let error = teachgym_teachers::AlpGmm::new(space(), 0, config)
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("alp_gmm.return_range"),
        "{error}"
    );
}

#[test]
fn without_a_range_the_state_is_written_as_before() {
    for name in ALP_TEACHERS {
        let teacher = build_teacher(name, space(), 0, config(name, None)).unwrap();
        let state = String::from_utf8(teacher.save_state().unwrap()).unwrap();
        assert!(!state.contains("return_range"), "{name}");
        let ranged = build_teacher(name, space(), 0, config(name, Some([LOW, HIGH]))).unwrap();
        let state = String::from_utf8(ranged.save_state().unwrap()).unwrap();
        assert!(
            state.contains("\"return_range\":[-150.0,350.0]"),
            "{name}: {state:.300}"
        );
    }
}

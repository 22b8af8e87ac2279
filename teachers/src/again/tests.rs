//! Each mechanism of AGAIN on hand-made classrooms: k-NN choice, expert choice, curriculum
//! extraction, the R / T / P replays, the fade, the restart request, checkpoints, bad input.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::alp_gmm::{AlpGmmFit, AlpGmmHistory, FitEpisodes, FitGaussian};
use crate::{EpisodeOutcome, TeacherError};

fn space() -> TaskSpace {
    TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0]).unwrap()
}

/// A fit with one Gaussian per `(centre, alp)`, tight around `centre`, followed by `episodes`
/// `(origin, return)` pairs.
fn fit(episode: u64, gaussians: &[([f64; 2], f64)], episodes: &[(i16, f32)]) -> AlpGmmFit {
    AlpGmmFit {
        episode,
        gaussians: gaussians
            .iter()
            .map(|&(c, alp)| FitGaussian {
                weight: 1.0 / gaussians.len() as f64,
                mean: vec![c[0], c[1], alp],
                covariance: vec![1e-4, 0.0, 0.0, 0.0, 1e-4, 0.0, 0.0, 0.0, 1e-4],
            })
            .collect(),
        episodes: FitEpisodes {
            tasks: episodes.iter().flat_map(|_| [0.5f32, 0.5]).collect(),
            returns: episodes.iter().map(|e| e.1).collect(),
            origins: episodes.iter().map(|e| e.0).collect(),
        },
    }
}

fn student(
    name: &str,
    kc: [f64; 2],
    final_scores: [f64; 2],
    fits: Vec<AlpGmmFit>,
) -> ClassroomStudent {
    ClassroomStudent {
        name: name.into(),
        params: BTreeMap::new(),
        kc_vectors: vec![KcVector {
            epoch: 1,
            episodes: 100,
            scores: kc.to_vec(),
        }],
        final_scores: final_scores.to_vec(),
        history: AlpGmmHistory { fits },
    }
}

/// Three steps at (0.1, 0.1), (0.5, 0.5), (0.9, 0.9), targets 0.25, 0.5, 0.75 (exact in the
/// history's `f32`).
fn three_step_fits() -> Vec<AlpGmmFit> {
    vec![
        fit(250, &[([0.1, 0.1], 0.5)], &[(0, 0.25); 5]),
        fit(500, &[([0.5, 0.5], 0.5)], &[(0, 0.5); 5]),
        fit(750, &[([0.9, 0.9], 0.5)], &[(0, 0.75); 5]),
    ]
}

fn classroom(students: Vec<ClassroomStudent>) -> Arc<Classroom> {
    Arc::new(Classroom {
        format_version: CLASSROOM_FORMAT_VERSION,
        task_space: space(),
        students,
    })
}

fn evaluation(epoch: u64, scores: [f64; 2]) -> EvaluationResult {
    EvaluationResult {
        epoch,
        episodes: 0,
        returns: scores.to_vec(),
        scores: scores.to_vec(),
    }
}

fn teacher(config: AgainConfig, room: Arc<Classroom>) -> Again {
    Again::with_classroom(space(), 7, config, room).unwrap()
}

/// Samples and updates with `return_of(task)`.
fn play(t: &mut Again, n: usize, return_of: impl Fn(&[f64]) -> f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|_| {
            let task = t.sample_task();
            t.update(&task, &EpisodeOutcome::new(return_of(&task), false, 1))
                .unwrap();
            task
        })
        .collect()
}

#[test]
fn the_expert_is_the_best_of_the_k_nearest() {
    let room = classroom(vec![
        student("near-weak", [0.1, 0.1], [0.2, 0.2], three_step_fits()),
        student("near-strong", [0.2, 0.1], [0.9, 0.9], three_step_fits()),
        student("far-best", [0.9, 0.9], [1.0, 1.0], three_step_fits()),
        student("nearest", [0.1, 0.15], [0.5, 0.5], three_step_fits()),
    ]);
    let mut t = teacher(
        AgainConfig {
            k: 3,
            ..Default::default()
        },
        room.clone(),
    );
    t.record_evaluation(&evaluation(1, [0.1, 0.1])).unwrap();
    let choice = t.expert().unwrap();
    assert_eq!(choice.neighbours, vec![0, 3, 1]);
    assert_eq!(choice.name, "near-strong");
    // k = 1: only the nearest.
    let mut t = teacher(
        AgainConfig {
            k: 1,
            ..Default::default()
        },
        room.clone(),
    );
    t.record_evaluation(&evaluation(1, [0.1, 0.1])).unwrap();
    assert_eq!(t.expert().unwrap().name, "near-weak");
    // k larger than the classroom: everybody, so the overall best.
    let mut t = teacher(
        AgainConfig {
            k: 10,
            ..Default::default()
        },
        room,
    );
    t.record_evaluation(&evaluation(1, [0.1, 0.1])).unwrap();
    assert_eq!(t.expert().unwrap().name, "far-best");
}

#[test]
fn the_pretest_lasts_until_the_pretrain_epoch() {
    let room = classroom(vec![student(
        "a",
        [0.0, 0.0],
        [1.0, 1.0],
        three_step_fits(),
    )]);
    let mut t = teacher(
        AgainConfig {
            pretrain_epochs: 2,
            ..Default::default()
        },
        room,
    );
    play(&mut t, 300, |_| 0.0);
    t.record_evaluation(&evaluation(0, [0.0, 0.0])).unwrap();
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    assert_eq!(t.phase(), Phase::Pretest);
    // The classroom has no KC vector at epoch 2.
    assert!(matches!(
        t.record_evaluation(&evaluation(2, [0.0, 0.0])),
        Err(TeacherError::Classroom(ClassroomError::NoKcAtEpoch {
            epoch: 2
        }))
    ));
    assert_eq!(t.phase(), Phase::Pretest);
}

#[test]
fn ground_truth_and_random_selection() {
    let mut room = vec![
        student("walker-0.5", [0.0, 0.0], [0.1, 0.1], three_step_fits()),
        student("walker-0.9", [0.0, 0.0], [0.5, 0.5], three_step_fits()),
        student("climber-0.6", [0.0, 0.0], [1.0, 1.0], three_step_fits()),
    ];
    for (s, (body, leg)) in
        room.iter_mut()
            .zip([("walker", 0.5), ("walker", 0.9), ("climber", 0.6)])
    {
        s.params.insert("body".into(), body.into());
        s.params.insert("leg".into(), leg.into());
    }
    let room = classroom(room);
    let params: BTreeMap<String, serde_json::Value> = [
        ("body".to_string(), "walker".into()),
        ("leg".to_string(), 0.55.into()),
    ]
    .into();
    let gt = AgainConfig {
        selection: Selection::GroundTruth,
        ground_truth_keys: vec!["body".into(), "leg".into()],
        student_params: params,
        k: 1,
        ..Default::default()
    };
    let mut t = teacher(gt.clone(), room.clone());
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    assert_eq!(t.expert().unwrap().name, "walker-0.5");
    // A key the new student lacks is a typed error.
    let mut t = teacher(
        AgainConfig {
            ground_truth_keys: vec!["width".into()],
            ..gt
        },
        room.clone(),
    );
    assert!(matches!(
        t.record_evaluation(&evaluation(1, [0.0, 0.0])),
        Err(TeacherError::Classroom(ClassroomError::MissingParam { .. }))
    ));
    // Random: every student gets picked over seeds.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let mut t = Again::with_classroom(
            space(),
            seed,
            AgainConfig {
                selection: Selection::Random,
                ..Default::default()
            },
            room.clone(),
        )
        .unwrap();
        t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
        seen.insert(t.expert().unwrap().expert);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn curriculum_keeps_gaussians_above_the_threshold_with_their_reward_targets() {
    let fits = vec![
        // Nothing above 0.2: dropped.
        fit(250, &[([0.1, 0.1], 0.1)], &[(0, 0.9)]),
        // Gaussian 1 kept; target = mean of the last 2 returns drawn from it (0.3, 0.5), not
        // the random (-1) or dropped-Gaussian (0) ones.
        fit(
            500,
            &[([0.2, 0.2], 0.05), ([0.5, 0.5], 0.4)],
            &[(1, 0.1), (1, 0.3), (0, 0.8), (-1, 0.9), (1, 0.5)],
        ),
        // Kept but nothing drawn from it: no target.
        fit(750, &[([0.9, 0.9], 0.3)], &[(-1, 0.2)]),
    ];
    let s = student("a", [0.0, 0.0], [1.0, 1.0], fits);
    let steps = expert::extract_curriculum(&s, 0.2, 2).unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].episode, 500);
    assert_eq!(steps[0].alps, vec![0.4]);
    assert_eq!(steps[0].gmm.n_components(), 1);
    assert!((steps[0].gmm.mean(0)[0] - 0.5).abs() < 1e-12);
    assert!((steps[0].reward_target.unwrap() - 0.4).abs() < 1e-6);
    assert_eq!(steps[1].reward_target, None);
    // A higher threshold keeps only the second fit.
    assert_eq!(expert::extract_curriculum(&s, 0.35, 2).unwrap().len(), 1);
}

fn replay_teacher(replay: Replay, use_alp_gmm: bool) -> Again {
    let room = classroom(vec![student(
        "a",
        [0.0, 0.0],
        [1.0, 1.0],
        three_step_fits(),
    )]);
    let mut t = teacher(
        AgainConfig {
            replay,
            use_alp_gmm,
            ..Default::default()
        },
        room,
    );
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    t
}

#[test]
fn reward_pacing_advances_when_the_window_reaches_the_target() {
    let mut t = replay_teacher(Replay::Reward, false);
    assert_eq!((t.phase(), t.curriculum_index()), (Phase::Replay, 0));
    // IN-R draws only around the first step's Gaussian.
    let tasks = play(&mut t, 50, |_| 0.1);
    assert!(tasks
        .iter()
        .all(|x| (x[0] - 0.1).abs() < 0.1 && (x[1] - 0.1).abs() < 0.1));
    assert_eq!(t.curriculum_index(), 0, "0.1 < target 0.25: stays");
    // Returns at the target: advance after r_list_len (10) episodes.
    play(&mut t, 9, |_| 0.25);
    assert_eq!(t.curriculum_index(), 0);
    play(&mut t, 1, |_| 0.25);
    assert_eq!(t.curriculum_index(), 1);
    let tasks = play(&mut t, 5, |_| 0.0);
    assert!(tasks.iter().all(|x| (x[0] - 0.5).abs() < 0.1));
    // Reaching the last step ends the curriculum.
    play(&mut t, 10, |_| 0.5);
    assert_eq!((t.curriculum_index(), t.phase()), (2, Phase::Stopped));
}

#[test]
fn time_pacing_follows_the_episodes_including_the_pretest() {
    let room = classroom(vec![student(
        "a",
        [0.0, 0.0],
        [1.0, 1.0],
        three_step_fits(),
    )]);
    let mut t = teacher(
        AgainConfig {
            replay: Replay::Time,
            time_step: Some(100),
            ..Default::default()
        },
        room,
    );
    play(&mut t, 150, |_| 0.0);
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    // 150 pre-test episodes already count: step 1.
    assert_eq!(t.curriculum_index(), 1);
    play(&mut t, 49, |_| 0.0);
    assert_eq!(t.curriculum_index(), 1);
    play(&mut t, 1, |_| 0.0);
    assert_eq!((t.curriculum_index(), t.phase()), (2, Phase::Stopped));
}

#[test]
fn pool_replay_samples_every_kept_gaussian_and_never_stops() {
    let mut t = replay_teacher(Replay::Pool, false);
    assert_eq!(t.active_expert().unwrap().gmm.n_components(), 3);
    let tasks = play(&mut t, 600, |_| 1.0);
    for centre in [0.1, 0.5, 0.9] {
        let near = tasks.iter().filter(|x| (x[0] - centre).abs() < 0.1).count();
        assert!(near > 120, "{near} tasks near {centre}");
    }
    assert_eq!(t.phase(), Phase::Replay);
}

#[test]
fn again_mixes_random_tasks_and_the_running_alp_gmm() {
    let mut t = replay_teacher(Replay::Reward, true);
    let tasks = play(&mut t, 2000, |_| 0.0);
    let near_expert = tasks
        .iter()
        .filter(|x| (x[0] - 0.1).abs() < 0.05 && (x[1] - 0.1).abs() < 0.05)
        .count();
    // The expert Gaussian has priority 0.5 against ALP 0 elsewhere: most tasks are its, and
    // about 2 % are uniform.
    assert!(near_expert > 1800 && near_expert < 1990, "{near_expert}");
}

#[test]
fn the_fade_hands_over_to_alp_gmm_after_the_curriculum() {
    let room = classroom(vec![student(
        "a",
        [0.0, 0.0],
        [1.0, 1.0],
        vec![fit(250, &[([0.1, 0.1], 0.5)], &[(0, 0.2)])],
    )]);
    let mut t = teacher(
        AgainConfig {
            end_random_task_ratio: Some(0.5),
            ..Default::default()
        },
        room,
    );
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    // One step only: the curriculum is over at once.
    assert_eq!(t.phase(), Phase::Stopped);
    assert_eq!(t.random_task_ratio(), 0.5);
    assert_eq!(t.active_expert().unwrap().alps, vec![0.5]);
    // Constant returns: the expert Gaussian's tasks show no progress, so after fade_period
    // (100) expert draws its priority becomes their mean ALP, 0.
    play(&mut t, 400, |_| 0.3);
    assert_eq!(t.active_expert().unwrap().alps, vec![0.0]);
}

#[test]
fn in_hands_over_to_alp_gmm_after_a_time_step_at_the_end() {
    let mut t = replay_teacher(Replay::Reward, false);
    play(&mut t, 20, |x| if x[0] < 0.3 { 0.25 } else { 0.5 });
    assert_eq!(t.phase(), Phase::Stopped);
    // 250 episodes at the last step, then ALP-GMM's tasks (spread, not at (0.9, 0.9)).
    let tasks = play(&mut t, 250, |_| 0.0);
    assert!(tasks.iter().all(|x| (x[0] - 0.9).abs() < 0.1));
    let tasks = play(&mut t, 200, |_| 0.0);
    assert!(tasks.iter().filter(|x| (x[0] - 0.9).abs() > 0.2).count() > 50);
}

#[test]
fn restart_is_requested_once_after_the_pretest() {
    let room = classroom(vec![student(
        "a",
        [0.0, 0.0],
        [1.0, 1.0],
        three_step_fits(),
    )]);
    let mut t = teacher(
        AgainConfig {
            restart_after_pretrain: true,
            ..Default::default()
        },
        room.clone(),
    );
    assert!(!t.wants_student_restart());
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    assert!(t.wants_student_restart());
    t.acknowledge_student_restart();
    assert!(!t.wants_student_restart());
    t.record_evaluation(&evaluation(2, [0.0, 0.0])).unwrap();
    assert!(!t.wants_student_restart());
    // Off by default.
    let mut t = teacher(AgainConfig::default(), room);
    t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
    assert!(!t.wants_student_restart());
}

#[test]
fn a_restored_teacher_continues_exactly() {
    for replay in [Replay::Reward, Replay::Time, Replay::Pool] {
        let room = classroom(vec![student(
            "a",
            [0.0, 0.0],
            [1.0, 1.0],
            three_step_fits(),
        )]);
        let config = AgainConfig {
            replay,
            ..Default::default()
        };
        let mut t = teacher(config.clone(), room.clone());
        let r = |x: &[f64]| x[0] * 0.5;
        play(&mut t, 300, r);
        t.record_evaluation(&evaluation(1, [0.0, 0.0])).unwrap();
        play(&mut t, 100, r);
        let bytes = t.save_state().unwrap();
        let mut restored = Again::with_classroom(space(), 99, config, room).unwrap();
        restored.load_state(&bytes).unwrap();
        let a = play(&mut t, 500, r);
        let b = play(&mut restored, 500, r);
        assert_eq!(a, b, "{replay:?}");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let room = classroom(vec![student(
        "a",
        [0.0, 0.0],
        [1.0, 1.0],
        three_step_fits(),
    )]);
    let mut t = teacher(AgainConfig::default(), room.clone());
    // A KC vector of another length.
    assert!(matches!(
        t.record_evaluation(&EvaluationResult {
            epoch: 1,
            episodes: 0,
            returns: vec![0.0; 3],
            scores: vec![0.0; 3]
        }),
        Err(TeacherError::Classroom(ClassroomError::KcLength {
            got: 3,
            expected: 2,
            ..
        }))
    ));
    assert!(matches!(
        t.record_evaluation(&evaluation(1, [f64::NAN, 0.0])),
        Err(TeacherError::NonFiniteReturn { .. })
    ));
    assert_eq!(t.phase(), Phase::Pretest);
    // Missing classroom, another task space, bad config values.
    assert!(matches!(
        Again::new(space(), 0, AgainConfig::default()),
        Err(TeacherError::Classroom(ClassroomError::Missing))
    ));
    let other = TaskSpace::from_bounds(&[0.0], &[1.0]).unwrap();
    assert!(matches!(
        Again::with_classroom(other, 0, AgainConfig::default(), room.clone()),
        Err(TeacherError::Classroom(
            ClassroomError::OtherTaskSpace { .. }
        ))
    ));
    for config in [
        AgainConfig {
            k: 0,
            ..Default::default()
        },
        AgainConfig {
            classroom_portion: 0.0,
            ..Default::default()
        },
        AgainConfig {
            random_task_ratio: 2.0,
            ..Default::default()
        },
        AgainConfig {
            selection: Selection::GroundTruth,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            Again::with_classroom(space(), 0, config, room.clone()),
            Err(TeacherError::Core(_))
        ));
    }
    assert!(matches!(
        Again::new(
            space(),
            0,
            AgainConfig {
                classroom: Some(ClassroomSource::Path("/nonexistent/classroom.json".into())),
                ..Default::default()
            }
        ),
        Err(TeacherError::Classroom(ClassroomError::Io { .. }))
    ));
}

#[test]
fn entry_rule_and_build() {
    let s = |name: &str, alp: f64| {
        student(
            name,
            [0.0, 0.0],
            [1.0, 1.0],
            vec![fit(250, &[([0.1, 0.1], alp)], &[])],
        )
    };
    let entries = vec![
        ClassroomEntry::new(space(), s("progress", 0.3)),
        ClassroomEntry::new(space(), s("flat", 0.1)),
    ];
    let (room, left_out) = Classroom::build(entries.clone(), &EntryRule::default()).unwrap();
    assert_eq!(room.students.len(), 1);
    assert_eq!(left_out, vec!["flat".to_string()]);
    let keep_all = EntryRule {
        keep_all: true,
        ..Default::default()
    };
    assert_eq!(
        Classroom::build(entries.clone(), &keep_all)
            .unwrap()
            .0
            .students
            .len(),
        2
    );
    let strict = EntryRule {
        alp_threshold: 0.5,
        keep_all: false,
    };
    assert!(matches!(
        Classroom::build(entries.clone(), &strict),
        Err(ClassroomError::Empty { considered: 2, .. })
    ));
    let mut other = entries;
    other.push(ClassroomEntry::new(
        TaskSpace::from_bounds(&[0.0, 0.0], &[2.0, 1.0]).unwrap(),
        s("elsewhere", 0.5),
    ));
    assert!(matches!(
        Classroom::build(other, &keep_all),
        Err(ClassroomError::OtherTaskSpace { .. })
    ));
    // Round trip through a file.
    let dir = std::env::temp_dir().join(format!("teachgym-classroom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("classroom.json");
    room.save(&path).unwrap();
    assert_eq!(Classroom::load(&path).unwrap(), room);
    std::fs::write(&path, b"{\"format_version\": 2}").unwrap();
    assert!(matches!(
        Classroom::load(&path),
        Err(ClassroomError::Corrupt { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn defaults_are_the_documented_values() {
    let c = AgainConfig::default();
    assert_eq!(
        (
            c.pretrain_epochs,
            c.k,
            c.replay,
            c.use_alp_gmm,
            c.r_list_len
        ),
        (1, 3, Replay::Reward, true, 10)
    );
    assert_eq!(
        (
            c.alp_threshold,
            c.tol_ratio,
            c.random_task_ratio,
            c.classroom_portion
        ),
        (0.2, 1.0, 0.02, 1.0)
    );
    assert_eq!(
        (
            c.reward_target_window,
            c.fade_period,
            c.fade_window,
            c.resolved_time_step()
        ),
        (50, 100, 100, 250)
    );
    assert_eq!(c.alp_gmm.random_task_ratio, 0.1);
    assert!(c.stop_at_end && !c.restart_after_pretrain && c.end_random_task_ratio.is_none());
    let parsed: AgainConfig = serde_json::from_value(serde_json::json!({})).unwrap();
    assert_eq!(parsed, c);
}

//! GoalGAN's behaviour, one rule per test: labelling, the pending queue, replays, the success
//! buffer's distance rule, training (skipped without positives, moving the generator towards
//! positive goals), determinism, checkpoints and typed errors.

use super::*;
use crate::{DiagonalGaussian, ExpertKnowledge, RewardThresholds};

const SUCCESS: f64 = 1.0;
const FAILURE: f64 = 0.0;

fn unit_square() -> TaskSpace {
    TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0]).unwrap()
}

/// Success = return > 0.5.
fn low_knowledge() -> ExpertKnowledge {
    ExpertKnowledge::low(
        0.5,
        RewardThresholds {
            min_reward: 0.0,
            max_reward: 1.0,
        },
    )
}

/// Small networks and short trainings, so a test runs in well under a second.
fn small() -> GoalGanConfig {
    GoalGanConfig {
        generator_hidden: vec![32, 32],
        discriminator_hidden: vec![16, 16],
        pretrain_samples: 200,
        pretrain_outer_iters: 20,
        outer_iters: 20,
        update_size: 20,
        expert_knowledge: low_knowledge(),
        ..GoalGanConfig::default()
    }
}

fn outcome(episode_return: f64) -> EpisodeOutcome {
    EpisodeOutcome::new(episode_return, episode_return > 0.5, 1)
}

fn bits(task: &[f64]) -> Vec<u64> {
    task.iter().map(|v| v.to_bits()).collect()
}

/// A student that succeeds on both plays of goals with `x < 0.3`, on one play of two for
/// `0.3 ≤ x < 0.6` (intermediate), and never beyond; `play` is the play's index.
fn banded_return(task: &[f64], play: usize) -> f64 {
    match task[0] {
        x if x < 0.3 => SUCCESS,
        x if x < 0.6 && play % 2 == 0 => SUCCESS,
        _ => FAILURE,
    }
}

/// Runs `episodes` episodes of the banded student; returns the tasks.
fn drive(teacher: &mut GoalGan, episodes: usize) -> Vec<Vec<u64>> {
    let mut play = 0;
    let mut last: Option<Vec<f64>> = None;
    (0..episodes)
        .map(|_| {
            let task = teacher.sample_task();
            play = if last.as_deref() == Some(&task[..]) {
                play + 1
            } else {
                0
            };
            teacher
                .update(&task, &outcome(banded_return(&task, play)))
                .unwrap();
            let b = bits(&task);
            last = Some(task);
            b
        })
        .collect()
}

#[test]
fn defaults_are_teach_my_agents_benchmark_values() {
    let c = GoalGanConfig::default();
    assert_eq!(
        (
            c.state_noise_level,
            c.success_distance_threshold,
            c.update_size,
            c.n_rollouts,
            c.goid_lb,
            c.goid_ub,
            c.p_old,
            c.use_pretrained_samples,
        ),
        (0.1, 0.01, 100, 2, 0.25, 0.75, 0.1, true)
    );
    assert_eq!(
        (c.pretrain_samples, c.pretrain_outer_iters, c.outer_iters),
        (1000, 500, 250)
    );
    assert_eq!(
        (
            c.generator_hidden.as_slice(),
            c.discriminator_hidden.as_slice()
        ),
        (&[256, 256][..], &[128, 128][..])
    );
    assert_eq!(
        (c.learning_rate, c.batch_size, c.noise_dim),
        (1e-3, 64, None)
    );
    assert_eq!(c.noise_dim_for(5), 5);
    let args = GoalGanConfig::tma_arg_defaults();
    assert_eq!(
        (
            args.state_noise_level,
            args.p_old,
            args.use_pretrained_samples
        ),
        (0.01, 0.2, false)
    );
    assert_eq!(
        crate::TeacherConfig::from_json(GoalGan::NAME, serde_json::json!({})).unwrap(),
        crate::TeacherConfig::GoalGan(c)
    );
}

#[test]
fn networks_have_the_reference_shapes() {
    let t = GoalGan::new(
        TaskSpace::from_bounds(&[0.0; 3], &[1.0; 3]).unwrap(),
        0,
        GoalGanConfig {
            use_pretrained_samples: false,
            expert_knowledge: low_knowledge(),
            ..GoalGanConfig::default()
        },
    )
    .unwrap();
    let g = gan::generator_config(&t.config, 3);
    assert_eq!(g.layer_sizes(), vec![3, 256, 256, 3]);
    let acts: Vec<_> = g.layers.iter().map(|l| l.activation).collect();
    use teachgym_nn::Activation::*;
    assert_eq!(acts, vec![Relu, Relu, Tanh]);
    let d = gan::discriminator_config(&t.config, 3);
    assert_eq!(d.layer_sizes(), vec![3, 128, 128, 1]);
    let acts: Vec<_> = d.layers.iter().map(|l| l.activation).collect();
    assert_eq!(acts, vec![LeakyRelu, LeakyRelu, Identity]);
    assert!(t.gan.matches(&t.config, 3));
}

#[test]
fn coordinates_map_to_half_the_tanh_range_and_overshoot_is_clipped() {
    let space = TaskSpace::from_bounds(&[0.0, -2.0, 5.0], &[3.0, 2.0, 5.0]).unwrap();
    let s = GoalScaling::new(&space);
    assert_eq!(s.center, vec![1.5, 0.0, 5.0]);
    assert_eq!(s.range, vec![1.5 + 1e-6, 2.0 + 1e-6, 1e-6]);
    let mut n = Vec::new();
    s.normalise_into(&[0.0, 2.0, 5.0], &mut n);
    // The bounds sit at ±0.5 (to within the 1e-6 padding), a fixed dimension at 0.
    assert!((n[0] + 0.5).abs() < 1e-6 && (n[1] - 0.5).abs() < 1e-6 && n[2] == 0.0);
    // A saturated tanh output (±1) maps to twice the space; the teacher clips it.
    let far = s.denormalise(&[1.0, -1.0, 1.0]);
    assert!((far[0] - 4.5).abs() < 1e-5 && (far[1] + 4.0).abs() < 1e-5);
    assert_eq!(space.clip(&far), vec![3.0, -2.0, 5.0]);
}

#[test]
fn a_goal_is_labelled_positive_exactly_when_its_mean_success_is_within_the_bounds() {
    // Four plays per goal: mean success 0, 0.25, 0.5, 0.75 or 1.
    let config = GoalGanConfig {
        n_rollouts: 4,
        p_old: 0.0,
        update_size: 1000,
        use_pretrained_samples: false,
        ..small()
    };
    let mut t = GoalGan::new(unit_square(), 3, config).unwrap();
    let mut goals = Vec::new();
    for successes in 0..=4 {
        let goal = t.sample_task();
        for play in 0..4 {
            let task = if play == 0 {
                goal.clone()
            } else {
                t.sample_task()
            };
            assert_eq!(bits(&task), bits(&goal));
            let r = if play < successes { SUCCESS } else { FAILURE };
            t.update(&task, &outcome(r)).unwrap();
        }
        goals.push(goal);
    }
    let (labelled, labels) = t.labelled();
    assert_eq!(labelled, &goals[..]);
    // 0 and 1 are not intermediate; 0.25 and 0.75 are (inclusive bounds).
    assert_eq!(labels, &[false, true, true, true, false]);
    assert_eq!(t.labels_given(), (5, 3));
    // Only the always-successful goal (mean 1 > goid_ub) enters the success buffer.
    assert_eq!(t.success_buffer(), &goals[4..]);

    // Narrow bounds: only a mean of exactly 0.5 is positive.
    let config = GoalGanConfig {
        goid_lb: 0.5,
        goid_ub: 0.5,
        ..t.config.clone()
    };
    let mut t = GoalGan::new(unit_square(), 3, config).unwrap();
    for successes in [1, 2, 3] {
        for play in 0..4 {
            let task = t.sample_task();
            let r = if play < successes { SUCCESS } else { FAILURE };
            t.update(&task, &outcome(r)).unwrap();
        }
    }
    assert_eq!(t.labelled().1, &[false, true, false]);
    // 0.75 > goid_ub = 0.5: the last goal is in the success buffer.
    assert_eq!(t.success_buffer().len(), 1);
}

#[test]
fn success_is_the_return_above_the_expert_threshold_not_the_outcome_flag() {
    let config = GoalGanConfig {
        p_old: 0.0,
        update_size: 1000,
        use_pretrained_samples: false,
        ..small()
    };
    let mut t = GoalGan::new(unit_square(), 4, config).unwrap();
    // Return 0.6 > 0.5 counts as a success even if the flag says otherwise; 0.5 does not.
    for r in [0.6, 0.5] {
        let task = t.sample_task();
        t.update(&task, &EpisodeOutcome::new(r, false, 1)).unwrap();
    }
    assert_eq!(t.labelled().1, &[true]);
}

#[test]
fn the_pending_queue_plays_each_generated_goal_n_rollouts_times() {
    for n_rollouts in [1, 2, 5] {
        let config = GoalGanConfig {
            n_rollouts,
            p_old: 0.0,
            use_pretrained_samples: false,
            ..small()
        };
        let mut t = GoalGan::new(unit_square(), 5, config).unwrap();
        let tasks: Vec<Vec<u64>> = (0..3 * n_rollouts)
            .map(|i| {
                let task = t.sample_task();
                assert_eq!(t.queued(), n_rollouts - 1 - i % n_rollouts);
                bits(&task)
            })
            .collect();
        for (k, chunk) in tasks.chunks(n_rollouts).enumerate() {
            assert!(
                chunk.iter().all(|b| b == &chunk[0]),
                "goal {k} not repeated"
            );
            if k > 0 {
                assert_ne!(chunk[0], tasks[(k - 1) * n_rollouts], "goal {k} repeated");
            }
        }
        // Results may arrive after all the sampling: each goal is labelled after its plays.
        for b in &tasks {
            let task: Vec<f64> = b.iter().map(|&x| f64::from_bits(x)).collect();
            t.update(&task, &outcome(FAILURE)).unwrap();
        }
        assert_eq!(t.labelled().0.len(), 3);
        assert!(t.pending.is_empty());
    }
}

#[test]
fn replayed_goals_are_never_labelled() {
    let config = GoalGanConfig {
        p_old: 1.0,
        update_size: 1000,
        use_pretrained_samples: false,
        ..small()
    };
    let mut t = GoalGan::new(unit_square(), 6, config).unwrap();
    // The buffer is empty: the first goal is generated, mastered, and enters the buffer.
    for _ in 0..2 {
        let task = t.sample_task();
        t.update(&task, &outcome(SUCCESS)).unwrap();
    }
    assert_eq!(t.success_buffer().len(), 1);
    assert_eq!(t.labelled().0.len(), 1);
    // From now on every goal is a noisy replay (p_old = 1): none is queued or labelled.
    for _ in 0..50 {
        let task = t.sample_task();
        assert_eq!(t.queued(), 0);
        assert!(t.space.contains(&task));
        t.update(&task, &outcome(SUCCESS)).unwrap();
    }
    assert_eq!(t.labelled().0.len(), 1);
    assert_eq!(t.success_buffer().len(), 1);
    // Replays are noisy (std 0.1 of the range), not copies.
    let replay = t.sample_task();
    assert_ne!(bits(&replay), bits(&t.success_buffer()[0]));
}

#[test]
fn the_success_buffer_keeps_goals_farther_than_the_threshold_from_every_other() {
    // Diagonal ‖(3, 4)‖ = 5, threshold 0.1 → a minimum distance of 0.5 (strict).
    let space = TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 4.0]).unwrap();
    let config = GoalGanConfig {
        success_distance_threshold: 0.1,
        use_pretrained_samples: false,
        ..small()
    };
    let mut t = GoalGan::new(space.clone(), 7, config).unwrap();
    for goal in [
        [1.0, 1.0], // kept (empty buffer)
        [1.3, 1.3], // 0.42 from (1, 1): dropped
        [1.5, 1.0], // exactly 0.5: dropped (must be farther)
        [1.6, 1.0], // 0.6: kept
        [1.0, 1.0], // duplicate: dropped
        [2.0, 1.2], // 0.45 from (1.6, 1): dropped
        [3.0, 4.0], // far: kept
    ] {
        t.add_to_success_buffer(&goal);
    }
    assert_eq!(
        t.success_buffer(),
        &[vec![1.0, 1.0], vec![1.6, 1.0], vec![3.0, 4.0]]
    );
    // A threshold of 0 keeps everything, duplicates included.
    let config = GoalGanConfig {
        success_distance_threshold: 0.0,
        use_pretrained_samples: false,
        ..small()
    };
    let mut t = GoalGan::new(space, 7, config).unwrap();
    for _ in 0..3 {
        t.add_to_success_buffer(&[1.0, 1.0]);
    }
    assert_eq!(t.success_buffer().len(), 3);
}

#[test]
fn training_is_skipped_without_positive_labels_and_the_labels_are_dropped() {
    let config = GoalGanConfig {
        update_size: 5,
        p_old: 0.0,
        ..small()
    };
    let mut t = GoalGan::new(unit_square(), 8, config).unwrap();
    let networks = serde_json::to_string(&t.gan).unwrap();
    for _ in 0..10 {
        let task = t.sample_task();
        t.update(&task, &outcome(FAILURE)).unwrap();
    }
    assert_eq!((t.trainings(), t.skipped_trainings()), (0, 1));
    assert!(t.labelled().0.is_empty());
    assert_eq!(serde_json::to_string(&t.gan).unwrap(), networks);
    // One positive among the next five: the GAN trains and the labels are cleared.
    for i in 0..10 {
        let task = t.sample_task();
        let r = if i == 0 { SUCCESS } else { FAILURE };
        t.update(&task, &outcome(r)).unwrap();
    }
    assert_eq!((t.trainings(), t.skipped_trainings()), (1, 1));
    assert!(t.labelled().0.is_empty());
    assert_ne!(serde_json::to_string(&t.gan).unwrap(), networks);
    assert!(t.last_losses().is_some());
}

fn mean_of(goals: &[Vec<f64>]) -> Vec<f64> {
    let n = goals.len() as f64;
    (0..goals[0].len())
        .map(|i| goals.iter().map(|g| g[i]).sum::<f64>() / n)
        .collect()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Pretrained on easy goals around (0.2, 0.2) (expert level `high`), the generator proposes
/// goals there; trained on positives around (0.75, 0.75) and negatives spread over the square,
/// its goals move to the positives and the discriminator scores them above the negatives.
#[test]
fn the_generator_moves_towards_positively_labelled_goals() {
    let start = vec![0.2, 0.2];
    let target = vec![0.75, 0.75];
    let knowledge = ExpertKnowledge::high(
        0.5,
        RewardThresholds {
            min_reward: 0.0,
            max_reward: 1.0,
        },
        DiagonalGaussian {
            mean: start.clone(),
            std: vec![0.05, 0.05],
        },
    );
    let config = GoalGanConfig {
        generator_hidden: vec![64, 64],
        discriminator_hidden: vec![32, 32],
        pretrain_samples: 500,
        pretrain_outer_iters: 300,
        // Expert level `high` pretrains even when this is off (TeachMyAgent).
        use_pretrained_samples: false,
        expert_knowledge: knowledge,
        ..GoalGanConfig::default()
    };
    let mut t = GoalGan::new(unit_square(), 9, config).unwrap();
    let pretrained = mean_of(&t.non_exploratory_samples(500).unwrap());
    assert!(distance(&pretrained, &start) < 0.1, "{pretrained:?}");

    let mut rng = decision_rng(99);
    let mut goals = Vec::new();
    let mut labels = Vec::new();
    for i in 0..200 {
        if i % 2 == 0 {
            goals.push(
                target
                    .iter()
                    .map(|&m| m + 0.05 * standard_normal(&mut rng))
                    .collect(),
            );
            labels.push(true);
        } else {
            goals.push(unit_square().sample(&mut rng));
            labels.push(false);
        }
    }
    for _ in 0..4 {
        t.train_on(&goals, &labels, 250);
    }
    assert_eq!(t.failed_trainings(), 0);
    let trained = mean_of(&t.non_exploratory_samples(500).unwrap());
    assert!(
        distance(&trained, &target) < 0.15,
        "generator mean {trained:?} did not reach {target:?} (pretrained at {pretrained:?})"
    );
    let scores = t
        .discriminator_scores(&[target.clone(), vec![0.05, 0.95], vec![0.95, 0.05]])
        .unwrap();
    assert!(scores[0] > scores[1] && scores[0] > scores[2], "{scores:?}");
}

#[test]
fn the_same_seed_gives_the_same_decisions_and_another_seed_does_not() {
    let run = |seed| {
        let mut t = GoalGan::new(unit_square(), seed, small()).unwrap();
        let tasks = drive(&mut t, 600);
        assert!(t.trainings() > 0, "the run must exercise training");
        tasks
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

#[test]
fn a_restored_teacher_makes_the_same_next_200_decisions() {
    let mut t = GoalGan::new(unit_square(), 13, small()).unwrap();
    drive(&mut t, 401); // odd: a goal is half-played, its copy queued
    assert!(t.trainings() > 0);
    assert!(!t.success_buffer().is_empty());
    let bytes = t.save_state().unwrap();
    let mut restored = GoalGan::new(unit_square(), 777, small()).unwrap();
    restored.load_state(&bytes).unwrap();
    let trainings = t.trainings();
    // Visualisation on the original must not change its decisions.
    let _ = t.non_exploratory_samples(10);
    let original = drive(&mut t, 200);
    let resumed = drive(&mut restored, 200);
    assert!(t.trainings() > trainings, "the 200 episodes must train");
    assert_eq!(original, resumed);
    // The whole state agrees too, except the visualisation stream used above.
    let state = |t: &GoalGan| {
        let mut v: serde_json::Value = serde_json::from_slice(&t.save_state().unwrap()).unwrap();
        v["state"]["visualisation_rng"] = serde_json::Value::Null;
        v
    };
    assert!(
        state(&t) == state(&restored),
        "states differ after 200 episodes"
    );
}

#[test]
fn inconsistent_checkpoints_are_refused() {
    let mut t = GoalGan::new(unit_square(), 14, small()).unwrap();
    drive(&mut t, 35);
    let good: serde_json::Value = serde_json::from_slice(&t.save_state().unwrap()).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 5] = [
        ("more labels than update_size allows", |v| {
            v["state"]["labels"] = serde_json::json!(vec![true; 25]);
        }),
        ("a queued goal out of bounds", |v| {
            v["state"]["queue"] = serde_json::json!([[0.5, 3.0]]);
        }),
        ("a generator of another width", |v| {
            v["state"]["config"]["generator_hidden"] = serde_json::json!([8, 8]);
        }),
        ("a negative RMSProp mean square", |v| {
            v["state"]["gan"]["generator_optimizer"]["mean_squares"][0][0] =
                serde_json::json!(-1.0);
        }),
        ("p_old out of range", |v| {
            v["state"]["config"]["p_old"] = serde_json::json!(2.0);
        }),
    ];
    for (what, edit) in edits {
        let mut v = good.clone();
        edit(&mut v);
        let err = t.load_state(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(err, TeacherError::Checkpoint { .. } | TeacherError::Core(_)),
            "{what}: {err}"
        );
    }
    // Unchanged after the refusals.
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&t.save_state().unwrap()).unwrap(),
        good
    );
}

#[test]
fn bad_input_gets_typed_errors() {
    let mut t = GoalGan::new(unit_square(), 15, small()).unwrap();
    let task = t.sample_task();
    let before = t.save_state().unwrap();
    assert!(matches!(
        t.update(&task, &EpisodeOutcome::new(f64::NAN, false, 1)),
        Err(TeacherError::NonFiniteReturn { .. })
    ));
    assert!(matches!(
        t.update(&[0.5], &outcome(SUCCESS)),
        Err(TeacherError::Core(
            teachgym_core::Error::TaskDimension { .. }
        ))
    ));
    assert!(matches!(
        t.update(&[0.5, 1.5], &outcome(SUCCESS)),
        Err(TeacherError::Core(
            teachgym_core::Error::TaskOutOfBounds { .. }
        ))
    ));
    assert_eq!(before, t.save_state().unwrap());
    assert!(matches!(
        t.discriminator_scores(&[vec![0.5, 0.5, 0.5]]),
        Err(TeacherError::Core(_))
    ));

    // Expert level `none`: no success definition.
    let none = GoalGanConfig {
        expert_knowledge: ExpertKnowledge::none(),
        ..small()
    };
    assert!(matches!(
        GoalGan::new(unit_square(), 0, none),
        Err(TeacherError::MissingExpertKnowledge {
            teacher: "goal_gan",
            ..
        })
    ));
    // Every bad value is refused with the field's name in the message.
    let bad: [(&str, GoalGanConfig); 14] = [
        (
            "goid_lb",
            GoalGanConfig {
                goid_lb: 0.8,
                goid_ub: 0.7,
                ..small()
            },
        ),
        (
            "goid_ub",
            GoalGanConfig {
                goid_ub: 1.5,
                ..small()
            },
        ),
        (
            "p_old",
            GoalGanConfig {
                p_old: -0.1,
                ..small()
            },
        ),
        (
            "p_old",
            GoalGanConfig {
                p_old: f64::NAN,
                ..small()
            },
        ),
        (
            "n_rollouts",
            GoalGanConfig {
                n_rollouts: 0,
                ..small()
            },
        ),
        (
            "update_size",
            GoalGanConfig {
                update_size: 0,
                ..small()
            },
        ),
        (
            "update_size",
            GoalGanConfig {
                update_size: usize::MAX,
                ..small()
            },
        ),
        (
            "state_noise_level",
            GoalGanConfig {
                state_noise_level: f64::INFINITY,
                ..small()
            },
        ),
        (
            "success_distance_threshold",
            GoalGanConfig {
                success_distance_threshold: -1.0,
                ..small()
            },
        ),
        (
            "learning_rate",
            GoalGanConfig {
                learning_rate: 0.0,
                ..small()
            },
        ),
        (
            "batch_size",
            GoalGanConfig {
                batch_size: 0,
                ..small()
            },
        ),
        (
            "generator_hidden",
            GoalGanConfig {
                generator_hidden: vec![0],
                ..small()
            },
        ),
        (
            "outer_iters",
            GoalGanConfig {
                outer_iters: usize::MAX,
                ..small()
            },
        ),
        (
            "noise_dim",
            GoalGanConfig {
                noise_dim: Some(0),
                ..small()
            },
        ),
    ];
    for (field, config) in bad {
        let err = GoalGan::new(unit_square(), 0, config).unwrap_err();
        assert!(
            matches!(
                err,
                TeacherError::Core(teachgym_core::Error::InvalidConfig { .. })
            ) && err.to_string().contains(field),
            "{field}: {err}"
        );
    }
    // Typos in field names are refused by the registry.
    assert!(crate::build_teacher(
        GoalGan::NAME,
        unit_square(),
        0,
        serde_json::json!({"pold": 0.1})
    )
    .is_err());
}

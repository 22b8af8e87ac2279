use super::*;
use crate::toys::ToyGrid;
use crate::{ExpertLevel, TEACHER_NAMES};

fn space() -> TaskSpace {
    TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0]).unwrap()
}

/// Updates every 50 steps from step 200 (one-step episodes).
fn quick() -> SpdlConfig {
    SpdlConfig {
        update_frequency: 50,
        update_offset: 200,
        ..SpdlConfig::default()
    }
}

fn outcome(r: f64) -> EpisodeOutcome {
    EpisodeOutcome::new(r, false, 1)
}

fn estimate(v: f64) -> ValueEstimate {
    ValueEstimate {
        initial_value: v,
        discounted_return: v,
    }
}

/// One episode: sample, update, and hand over `value(task)` at once.
fn episode(t: &mut Spdl, value: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let task = t.sample_task();
    let v = value(&task);
    t.update(&task, &outcome(v)).unwrap();
    t.record_value_estimate(&task, &estimate(v)).unwrap();
    task
}

#[test]
fn defaults_are_the_benchmark_values() {
    let c = SpdlConfig::default();
    assert_eq!(
        (c.update_frequency, c.update_offset, c.alpha_offset),
        (50_000, 200_000, 10)
    );
    assert_eq!((c.zeta, c.max_kl, c.use_avg_performance), (0.25, 0.1, true));
    assert_eq!(c.buffer_size, 1000);
    let args = SpdlConfig::tma_arg_defaults();
    assert_eq!(
        (
            args.update_frequency,
            args.alpha_offset,
            args.zeta,
            args.max_kl
        ),
        (100_000, 0, 0.05, 0.8)
    );
    let toy = SpdlConfig::scaled_to_steps(20_000);
    assert_eq!((toy.update_frequency, toy.update_offset), (50, 200));
    let t = Spdl::new(space(), 0, SpdlConfig::default()).unwrap();
    assert_eq!(t.value_estimate_discount(), Some(0.99));
    assert!(TEACHER_NAMES.contains(&Spdl::NAME));
}

#[test]
fn initial_and_target_distributions() {
    // Random subspace: std 10 % of the range; default target: centre, std range / 4.
    let t = Spdl::new(space(), 3, SpdlConfig::default()).unwrap();
    let cov = t.distribution().covariance();
    assert!((cov[0] - 0.01).abs() < 1e-12 && cov[1] == 0.0 && (cov[3] - 0.01).abs() < 1e-12);
    assert!(space().contains(t.distribution().mean()));
    assert_eq!(t.target().mean(), &[0.5, 0.5]);
    assert!((t.target().covariance()[0] - 0.0625).abs() < 1e-12);
    // Expert level `high` gives the initial distribution; `low` does not.
    let student = ToyGrid::teach_deep_rl();
    let high = SpdlConfig {
        expert_knowledge: student.expert_knowledge(ExpertLevel::High),
        ..SpdlConfig::default()
    };
    let t = Spdl::new(space(), 3, high).unwrap();
    assert_eq!(t.distribution().mean(), &[0.05, 0.05]);
    let low = SpdlConfig {
        expert_knowledge: student.expert_knowledge(ExpertLevel::Low),
        ..SpdlConfig::default()
    };
    assert_ne!(
        Spdl::new(space(), 3, low).unwrap().distribution().mean(),
        &[0.05, 0.05]
    );
    // Samples are clipped to the bounds.
    let mut t = Spdl::new(space(), 4, SpdlConfig::default()).unwrap();
    for _ in 0..500 {
        assert!(space().contains(&t.sample_task()));
    }
}

#[test]
fn no_update_before_the_offset_and_then_every_frequency_steps() {
    let mut t = Spdl::new(space(), 1, quick()).unwrap();
    let initial = t.distribution().clone();
    for _ in 0..199 {
        episode(&mut t, |c| c[0]);
    }
    assert_eq!(t.updates(), 0);
    assert_eq!(t.distribution(), &initial);
    // The 200th step crosses the offset: the update uses the 199 episodes ended before it.
    episode(&mut t, |c| c[0]);
    assert_eq!(t.updates(), 1);
    assert_ne!(t.distribution(), &initial);
    assert_eq!(t.buffered(), 1);
    for _ in 0..49 {
        episode(&mut t, |c| c[0]);
    }
    assert_eq!(t.updates(), 1);
    episode(&mut t, |c| c[0]);
    assert_eq!(t.updates(), 2);
    assert_eq!(t.env_steps(), 250);
    // Episode lengths count: one 120-step episode crosses two update points (300 and 350),
    // merged into one update.
    let task = t.sample_task();
    t.update(&task, &EpisodeOutcome::new(0.5, false, 120))
        .unwrap();
    assert_eq!(t.updates(), 3);
    t.record_value_estimate(&task, &estimate(0.5)).unwrap();
    assert_eq!(t.env_steps(), 370);
    for _ in 0..29 {
        episode(&mut t, |c| c[0]);
    }
    assert_eq!(t.updates(), 3);
    episode(&mut t, |c| c[0]);
    assert_eq!(t.updates(), 4);
}

#[test]
fn the_update_waits_for_the_estimates_of_the_episodes_before_the_crossing() {
    let mut t = Spdl::new(space(), 2, quick()).unwrap();
    // 250 episodes updated, no estimate yet (one learning iteration).
    let tasks: Vec<Vec<f64>> = (0..250)
        .map(|_| {
            let task = t.sample_task();
            t.update(&task, &outcome(1.0)).unwrap();
            task
        })
        .collect();
    assert_eq!(t.updates(), 0);
    assert!(t.update_waiting());
    assert_eq!(t.pending_estimates(), 250);
    // Estimates arrive in order; the update runs when the 249th (the last episode ended before
    // step 250's crossing) arrives.
    for (i, task) in tasks.iter().enumerate() {
        t.record_value_estimate(task, &estimate(task[0])).unwrap();
        assert_eq!(t.updates(), u64::from(i >= 248), "after estimate {i}");
    }
    assert_eq!(t.buffered(), 1);
    assert!(!t.update_waiting());
}

#[test]
fn alpha_is_zero_for_the_first_alpha_offset_minus_one_updates() {
    let mut t = Spdl::new(space(), 5, quick()).unwrap();
    let mut alphas = Vec::new();
    while t.updates() < 12 {
        let before = t.updates();
        episode(&mut t, |c| 1.0 + c[0]);
        if t.updates() > before {
            alphas.push(t.last_alpha());
        }
    }
    // The reference increments its counter before computing α: zero for updates 1..=9.
    assert!(alphas[..9].iter().all(|&a| a == 0.0), "{alphas:?}");
    assert!(alphas[9..].iter().all(|&a| a > 0.0), "{alphas:?}");
    // α = ζ·perf / KL(p ‖ target), perf = mean discounted return (> 0 here).
    let mut probe = t.clone();
    probe.updates = 10;
    let kl = probe.target_kl();
    assert!((probe.alpha(2.0) - 0.25 * 2.0 / kl).abs() < 1e-12);
    assert_eq!(probe.alpha(-3.0), 0.0);
    probe.config.zeta = 1e9;
    assert_eq!(probe.alpha(1.0), SPDL_MAX_ALPHA);
}

/// A smooth synthetic student on `[0, 1]²`: a task's difficulty is its distance from the
/// corner `(0, 0)`; its skill grows by `1e-4` per episode on a task at most `0.1` harder than
/// the skill, and its value (and discounted return) of a task is `clamp(1 + (skill −
/// difficulty)/0.2, 0, 1)`: 1 on tasks it has outgrown, falling to 0 just beyond its skill.
struct SmoothStudent {
    skill: f64,
}

impl SmoothStudent {
    fn difficulty(task: &[f64]) -> f64 {
        task.iter().map(|x| x * x).sum::<f64>().sqrt()
    }
    fn value(&self, task: &[f64]) -> f64 {
        (1.0 + (self.skill - Self::difficulty(task)) / 0.2).clamp(0.0, 1.0)
    }
    fn play(&mut self, task: &[f64]) -> f64 {
        if Self::difficulty(task) <= self.skill + 0.1 {
            self.skill += 1e-4;
        }
        self.value(task)
    }
}

/// Runs SPDL (toy-scaled schedule, initial distribution on the corner, default centred target)
/// on [`SmoothStudent`]; returns the teacher, the start mean, the value estimates seen, and for
/// each accepted update its `KL(p_old ‖ p_new)` and whether its objective did not decrease.
/// `(KL(p_old ‖ p_new), objective did not decrease)` of each accepted update.
type AcceptedSteps = Vec<(f64, bool)>;

fn smooth_run(strict: bool) -> (Spdl, Vec<f64>, Vec<f64>, AcceptedSteps) {
    let mut student = SmoothStudent { skill: 0.0 };
    let corner = crate::DiagonalGaussian {
        mean: vec![0.05, 0.05],
        std: vec![0.05, 0.05],
    };
    let config = SpdlConfig {
        expert_knowledge: crate::ExpertKnowledge::high(
            1.0,
            crate::RewardThresholds::between(0.0, 1.0),
            corner,
        ),
        strict_trust_region: strict,
        ..SpdlConfig::scaled_to_steps(20_000)
    };
    let mut t = Spdl::new(space(), 7, config).unwrap();
    let start = t.distribution().mean().to_vec();
    let mut accepted = Vec::new();
    let mut values = Vec::new();
    for _ in 0..20_000 {
        let before = t.updates();
        let old = t.distribution().clone();
        let task = t.sample_task();
        let r = student.play(&task);
        t.update(&task, &outcome(r)).unwrap();
        // The critic at the end of the iteration: the value after this episode's practice.
        let v = student.value(&task);
        values.push(v);
        t.record_value_estimate(
            &task,
            &ValueEstimate {
                initial_value: v,
                discounted_return: r,
            },
        )
        .unwrap();
        if t.updates() > before {
            let step = t.last_step().unwrap();
            if step.accepted {
                let kl = old.kl(t.distribution());
                assert!((kl - step.kl_old_new).abs() < 1e-12);
                accepted.push((kl, step.objective_after >= step.objective_before));
            }
        }
    }
    (t, start, values, accepted)
}

/// Acceptance (issue 15): SPDL's mean leaves the initial distribution (the easy corner) for the
/// target (the centre) as the value estimates rise, and every accepted step respects `KL(p_old ‖ p_new) ≤ 1.5·max_kl`, except
/// (the reference's *or*) steps kept because the objective did not decrease, which are rare
/// here; with `strict_trust_region` none breaks the bound.
#[test]
fn the_mean_moves_from_the_initial_towards_the_target_within_the_kl_bound() {
    for strict in [false, true] {
        let (t, start, values, accepted) = smooth_run(strict);
        let target = t.target().mean().to_vec();
        let distance = |m: &[f64]| {
            m.iter()
                .zip(&target)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        };
        let end = t.distribution().mean().to_vec();
        // Once at the target, α hits its cap (1e5) and the sharp KL term makes the strict
        // search roll back: about half the updates are accepted then.
        assert!(
            accepted.len() > 150,
            "strict {strict}: {} accepted of {}",
            accepted.len(),
            t.updates()
        );
        assert!(
            distance(&end) < 0.5 * distance(&start),
            "strict {strict}: start {start:?} end {end:?} target {target:?}"
        );
        let bound = 1.5 * 0.1 + 1e-12;
        let breaking: Vec<_> = accepted.iter().filter(|(kl, _)| *kl > bound).collect();
        // A step beyond the bound was only kept because the objective did not decrease.
        assert!(
            breaking.iter().all(|(_, improved)| *improved),
            "{breaking:?}"
        );
        assert_eq!(breaking.len() as u64, t.bound_breaking_updates());
        if strict {
            assert!(breaking.is_empty(), "{breaking:?}");
        } else {
            assert!(breaking.len() * 20 < accepted.len(), "{breaking:?}");
        }
        // The value estimates rose along the way.
        let early: f64 = values[..2000].iter().sum::<f64>() / 2000.0;
        let late: f64 = values[18_000..].iter().sum::<f64>() / 2000.0;
        assert!(late > early, "strict {strict}: {early} -> {late}");
    }
}

#[test]
fn bad_estimates_are_typed_errors_and_change_nothing() {
    let mut t = Spdl::new(space(), 6, quick()).unwrap();
    let task = t.sample_task();
    t.update(&task, &outcome(0.3)).unwrap();
    let before = t.save_state().unwrap();
    for (bad, field) in [
        (
            ValueEstimate {
                initial_value: f64::NAN,
                discounted_return: 0.0,
            },
            "initial_value",
        ),
        (
            ValueEstimate {
                initial_value: 0.0,
                discounted_return: f64::INFINITY,
            },
            "discounted_return",
        ),
    ] {
        match t.record_value_estimate(&task, &bad) {
            Err(TeacherError::NonFiniteValueEstimate { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    let other = vec![task[0] * 0.5 + 0.01, task[1]];
    assert!(matches!(
        t.record_value_estimate(&other, &estimate(0.1)),
        Err(TeacherError::NoPendingEpisode { .. })
    ));
    assert!(matches!(
        t.record_value_estimate(&[2.0, 0.0], &estimate(0.1)),
        Err(TeacherError::Core(_))
    ));
    assert_eq!(t.save_state().unwrap(), before);
    t.record_value_estimate(&task, &estimate(0.1)).unwrap();
    // Its episode is no longer pending.
    assert!(matches!(
        t.record_value_estimate(&task, &estimate(0.1)),
        Err(TeacherError::NoPendingEpisode { .. })
    ));
}

#[test]
fn without_estimates_nothing_updates_and_the_pending_list_stays_bounded() {
    let mut t = Spdl::new(space(), 8, quick()).unwrap();
    let initial = t.distribution().clone();
    for _ in 0..(MAX_SPDL_PENDING + 500) {
        let task = t.sample_task();
        t.update(&task, &outcome(1.0)).unwrap();
    }
    assert_eq!(t.distribution(), &initial);
    assert_eq!(t.updates(), 0);
    assert_eq!(t.pending_estimates(), MAX_SPDL_PENDING);
    assert_eq!(t.dropped_pending(), 500);
    assert_eq!(t.buffered(), 0);
}

#[test]
fn save_and_load_reproduce_the_next_200_decisions() {
    let value = |c: &[f64]| 1.0 + c[0] - c[1];
    let mut t = Spdl::new(space(), 9, quick()).unwrap();
    for _ in 0..530 {
        episode(&mut t, value);
    }
    // Leave some episodes pending (an update waiting for them).
    let mut waiting = Vec::new();
    for _ in 0..40 {
        let task = t.sample_task();
        t.update(&task, &outcome(0.2)).unwrap();
        waiting.push(task);
    }
    assert!(t.update_waiting() && t.updates() > 5);
    let bytes = t.save_state().unwrap();
    let mut restored = Spdl::new(space(), 12345, quick()).unwrap();
    restored.load_state(&bytes).unwrap();
    let run = |t: &mut Spdl| -> Vec<Vec<u64>> {
        for task in &waiting {
            t.record_value_estimate(task, &estimate(value(task)))
                .unwrap();
        }
        (0..200)
            .map(|_| {
                let task = episode(t, value);
                task.iter().map(|v| v.to_bits()).collect()
            })
            .collect()
    };
    let a = run(&mut t);
    let b = run(&mut restored);
    assert_eq!(a, b);
    assert_eq!(t.updates(), restored.updates());
    assert_eq!(t.save_state().unwrap(), restored.save_state().unwrap());
    // Inconsistent contents are refused.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["state"]["awaiting"] = serde_json::json!(3);
    let bad = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        restored.load_state(&bad),
        Err(TeacherError::Checkpoint { .. })
    ));
}

#[test]
fn same_seed_same_decisions() {
    let run = |seed| {
        let mut t = Spdl::new(space(), seed, quick()).unwrap();
        (0..600)
            .map(|_| episode(&mut t, |c| c[1]))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4), run(5));
}

#[test]
fn bad_config_values_name_the_field() {
    for (config, field) in [
        (
            SpdlConfig {
                update_frequency: 0,
                ..SpdlConfig::default()
            },
            "update_frequency",
        ),
        (
            SpdlConfig {
                update_offset: u64::MAX,
                ..SpdlConfig::default()
            },
            "update_offset",
        ),
        (
            SpdlConfig {
                zeta: f64::NAN,
                ..SpdlConfig::default()
            },
            "zeta",
        ),
        (
            SpdlConfig {
                max_kl: 0.0,
                ..SpdlConfig::default()
            },
            "max_kl",
        ),
        (
            SpdlConfig {
                buffer_size: usize::MAX,
                ..SpdlConfig::default()
            },
            "buffer_size",
        ),
        (
            SpdlConfig {
                target_distribution: Some(crate::DiagonalGaussian {
                    mean: vec![0.5],
                    std: vec![0.1],
                }),
                ..SpdlConfig::default()
            },
            "target_distribution",
        ),
    ] {
        let message = Spdl::new(space(), 0, config).unwrap_err().to_string();
        assert!(message.contains(field), "{field}: {message}");
    }
    let json = crate::build_teacher("spdl", space(), 0, serde_json::json!({"maxkl": 1.0}));
    assert!(json.is_err());
}

//! Unit tests of SAC: configuration, schedules, targets, α tuning, checkpoints.

use rand::SeedableRng;
use rand_pcg::Pcg64;
use teachgym_envs::{PointMassConfig, PointMassEnv};

use super::*;
use crate::error::assert_invalid_field;
use crate::student::edit_checkpoint_json;

fn small() -> SacConfig {
    SacConfig {
        hidden_sizes: vec![16, 16],
        batch_size: 16,
        buffer_size: 500,
        start_steps: 50,
        learning_starts: 50,
        ..SacConfig::default()
    }
}

fn point_mass_task(rng: &mut Pcg64) -> Vec<f64> {
    PointMassConfig::default().task_space().unwrap().sample(rng)
}

fn point_mass() -> PointMassEnv {
    PointMassEnv::new(PointMassConfig::default()).unwrap()
}

#[test]
fn presets_hold_their_documented_values_and_validate() {
    for name in SacConfig::PRESET_NAMES {
        SacConfig::preset(name).unwrap().validate().unwrap();
    }
    assert_eq!(SacConfig::preset("clean_rl").unwrap(), SacConfig::default());
    let tma = SacConfig::teach_my_agent();
    assert_eq!(tma.hidden_sizes, vec![400, 300]);
    assert_eq!(
        (tma.learning_rate, tma.alpha, tma.autotune_alpha),
        (1e-3, 0.005, false)
    );
    assert_eq!((tma.batch_size, tma.buffer_size), (1000, 2_000_000));
    assert_eq!((tma.gamma, tma.tau, tma.start_steps), (0.99, 0.005, 10_000));
    assert_eq!(
        tma.updates,
        UpdateSchedule::EpisodeEnd {
            env_steps_per_gradient_step: 10
        }
    );
    assert!(tma.value_network);
    assert_eq!((tma.log_std_min, tma.log_std_max), (-20.0, 2.0));
    // SpinningUp rescales the log-std by a tanh, Stable-Baselines3 clips it.
    assert_eq!(tma.log_std_bound, LogStdBound::Tanh);
    for sb3 in ["sb3_zoo_bipedal_walker", "teachgym_walker"] {
        assert_eq!(
            SacConfig::preset(sb3).unwrap().log_std_bound,
            LogStdBound::Clip
        );
    }
    let clipped: SacConfig = serde_json::from_str(r#"{"log_std_bound": "clip"}"#).unwrap();
    assert_eq!(clipped.log_std_bound, LogStdBound::Clip);
    assert!(serde_json::from_str::<SacConfig>(r#"{"log_std_bound": "clamp"}"#).is_err());
    assert_invalid_field(SacConfig::preset("spinup"), "preset");
    // A partial TOML/JSON section takes the defaults for the rest.
    let parsed: SacConfig = serde_json::from_str(
        r#"{"alpha": 0.1, "updates": {"kind": "episode_end", "env_steps_per_gradient_step": 5}}"#,
    )
    .unwrap();
    assert_eq!(parsed.alpha, 0.1);
    assert_eq!(parsed.batch_size, DEFAULT_BATCH_SIZE);
    assert!(serde_json::from_str::<SacConfig>(r#"{"alhpa": 0.1}"#).is_err());
}

#[test]
fn bad_configs_are_typed_errors_naming_the_field() {
    let cases: Vec<(&str, SacConfig)> = vec![
        (
            "alpha",
            SacConfig {
                alpha: -0.1,
                ..small()
            },
        ),
        (
            "alpha",
            SacConfig {
                alpha: f64::NAN,
                ..small()
            },
        ),
        (
            "batch_size",
            SacConfig {
                batch_size: 501,
                ..small()
            },
        ),
        (
            "batch_size",
            SacConfig {
                batch_size: 0,
                ..small()
            },
        ),
        (
            "learning_rate",
            SacConfig {
                learning_rate: f32::NAN,
                ..small()
            },
        ),
        (
            "buffer_size",
            SacConfig {
                buffer_size: usize::MAX,
                batch_size: 1,
                ..small()
            },
        ),
        (
            "gamma",
            SacConfig {
                gamma: 1.5,
                ..small()
            },
        ),
        (
            "tau",
            SacConfig {
                tau: 0.0,
                ..small()
            },
        ),
        (
            "target_entropy",
            SacConfig {
                target_entropy: Some(f64::INFINITY),
                ..small()
            },
        ),
        (
            "log_std_min",
            SacConfig {
                log_std_min: 3.0,
                ..small()
            },
        ),
        (
            "hidden_sizes",
            SacConfig {
                hidden_sizes: vec![0],
                ..small()
            },
        ),
        (
            "updates.train_frequency",
            SacConfig {
                updates: UpdateSchedule::EnvSteps {
                    train_frequency: 0,
                    gradient_steps: 1,
                },
                ..small()
            },
        ),
        (
            "updates.gradient_steps",
            SacConfig {
                updates: UpdateSchedule::EnvSteps {
                    train_frequency: 1,
                    gradient_steps: MAX_GRADIENT_STEPS + 1,
                },
                ..small()
            },
        ),
        (
            "updates.env_steps_per_gradient_step",
            SacConfig {
                updates: UpdateSchedule::EpisodeEnd {
                    env_steps_per_gradient_step: 0,
                },
                ..small()
            },
        ),
    ];
    for (field, config) in cases {
        assert_invalid_field(config.validate(), field);
        assert_invalid_field(SacAgent::new(config, 6, 2, 0), field);
    }
}

#[test]
fn bad_spaces_observations_and_bounds_are_typed_errors() {
    let mut agent = SacAgent::new(small(), 6, 2, 0).unwrap();
    assert!(matches!(
        agent.act(&[0.0; 5], true),
        Err(StudentError::ShapeMismatch {
            what: "observation",
            ..
        })
    ));
    assert!(matches!(
        agent.act(&[f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0], false),
        Err(StudentError::NonFinite { .. })
    ));
    let unbounded = Space::Box(
        teachgym_core::BoxSpace::new(
            vec![1],
            vec![f64::NEG_INFINITY],
            vec![1.0],
            teachgym_core::DType::F32,
        )
        .unwrap(),
    );
    let obs = point_mass().observation_space().clone();
    assert!(matches!(
        SacAgent::for_spaces(small(), &obs, &unbounded, 0),
        Err(StudentError::ShapeMismatch {
            what: "env action space",
            ..
        })
    ));
    assert!(matches!(
        SacAgent::for_spaces(small(), &obs, &Space::Discrete { n: 3 }, 0),
        Err(StudentError::ShapeMismatch {
            what: "env action space",
            ..
        })
    ));
    // An agent for 3-wide actions refuses the point mass' 2-wide ones.
    let mut wrong = SacAgent::new(small(), 6, 3, 0).unwrap();
    assert!(matches!(
        wrong.train(&mut point_mass(), 10, 0, point_mass_task),
        Err(StudentError::ShapeMismatch { .. })
    ));
}

#[test]
fn actions_stay_within_the_env_bounds() {
    let env = point_mass();
    let mut agent =
        SacAgent::for_spaces(small(), env.observation_space(), env.action_space(), 1).unwrap();
    let Space::Box(bounds) = env.action_space() else {
        unreachable!()
    };
    for k in 0..50 {
        let obs: Vec<f32> = (0..6)
            .map(|j| libm::sinf((k * 7 + j) as f32) * 3.0)
            .collect();
        for deterministic in [true, false] {
            let action = agent.act(&obs, deterministic).unwrap();
            for (j, a) in action.iter().enumerate() {
                assert!(*a as f64 >= bounds.low()[j] && *a as f64 <= bounds.high()[j]);
            }
        }
    }
}

#[test]
fn env_step_schedule_counts_rounds_after_learning_starts() {
    let config = SacConfig {
        learning_starts: 10,
        updates: UpdateSchedule::EnvSteps {
            train_frequency: 4,
            gradient_steps: 3,
        },
        ..small()
    };
    let agent = SacAgent::new(config, 6, 2, 0).unwrap();
    // Multiples of 4 in (0, 8]: none counted before step 10.
    assert_eq!(agent.gradient_steps_due(0, 8, &[]), 0);
    // (8, 16]: 12 and 16 → 2 rounds of 3.
    assert_eq!(agent.gradient_steps_due(8, 16, &[]), 6);
    // Strides do not matter: (0, 16] in one call equals the same split in steps of 1.
    let one: u64 = (0..16)
        .map(|s| agent.gradient_steps_due(s, s + 1, &[]))
        .sum();
    assert_eq!(one, agent.gradient_steps_due(0, 16, &[]));
    let episodes = SacAgent::new(
        SacConfig {
            learning_starts: 0,
            updates: UpdateSchedule::EpisodeEnd {
                env_steps_per_gradient_step: 10,
            },
            ..small()
        },
        6,
        2,
        0,
    )
    .unwrap();
    assert_eq!(episodes.gradient_steps_due(0, 4, &[]), 0);
    assert_eq!(
        episodes.gradient_steps_due(0, 4, &[1, 10, 11, 100]),
        1 + 1 + 2 + 10
    );
}

#[test]
fn episode_end_schedule_takes_ceil_len_over_k_gradient_steps() {
    let config = SacConfig {
        learning_starts: 0,
        updates: UpdateSchedule::EpisodeEnd {
            env_steps_per_gradient_step: 10,
        },
        ..small()
    };
    let mut agent = SacAgent::new(config, 6, 2, 2).unwrap();
    let episodes = agent
        .train(&mut point_mass(), 700, 0, point_mass_task)
        .unwrap();
    assert!(episodes.len() >= 2);
    let expected: u64 = episodes
        .iter()
        .map(|e| (e.summary.length as u64).div_ceil(10))
        .sum();
    assert_eq!(agent.gradient_updates(), expected);
}

#[test]
fn alpha_tuning_moves_alpha_towards_the_target_entropy() {
    // A target entropy far above the policy's: α must grow; far below: shrink.
    for (target, grows) in [(50.0, true), (-50.0, false)] {
        let config = SacConfig {
            target_entropy: Some(target),
            alpha: 0.2,
            ..small()
        };
        let mut agent = SacAgent::new(config, 6, 2, 3).unwrap();
        agent
            .train(&mut point_mass(), 300, 0, point_mass_task)
            .unwrap();
        assert!(agent.gradient_updates() > 100);
        assert_eq!(
            agent.alpha() > 0.2,
            grows,
            "target {target}: α = {}",
            agent.alpha()
        );
    }
    // Fixed α does not move.
    let config = SacConfig {
        autotune_alpha: false,
        alpha: 0.3,
        ..small()
    };
    let mut agent = SacAgent::new(config, 6, 2, 3).unwrap();
    agent
        .train(&mut point_mass(), 200, 0, point_mass_task)
        .unwrap();
    assert!((agent.alpha() - 0.3).abs() < 1e-6);
}

#[test]
fn critic_targets_bootstrap_on_truncation_not_on_termination() {
    // One transition repeated: the Q target is r + γ·(soft value of s') only if not terminated;
    // with γ = 0.9 and a terminal transition the critics converge to r.
    for (terminated, value_network) in [(true, false), (true, true), (false, false)] {
        let config = SacConfig {
            gamma: 0.9,
            batch_size: 1,
            buffer_size: 1,
            learning_rate: 1e-2,
            autotune_alpha: false,
            alpha: 1e-3,
            value_network,
            ..small()
        };
        let mut agent = SacAgent::new(config, 2, 1, 0).unwrap();
        agent
            .replay
            .push(&BoxTransition {
                obs: &[0.5, -0.5],
                action: &[0.25],
                reward: 1.0,
                next_obs: &[0.5, -0.5],
                terminated,
            })
            .unwrap();
        for _ in 0..1500 {
            agent.gradient_step().unwrap();
        }
        let q = agent.last_update().mean_q;
        if terminated {
            assert!((q - 1.0).abs() < 0.05, "terminal: Q = {q}");
        } else {
            assert!(
                q > 2.0,
                "bootstrapped Q should climb towards 1/(1 − γ), got {q}"
            );
        }
    }
}

#[test]
fn checkpoint_round_trips_and_continues_identically() {
    for value_network in [false, true] {
        let config = SacConfig {
            value_network,
            ..small()
        };
        let mut agent = SacAgent::new(config, 6, 2, 4).unwrap();
        agent
            .train(&mut point_mass(), 120, 1, point_mass_task)
            .unwrap();
        assert!(agent.gradient_updates() > 0);
        let json = agent.to_json();
        let mut restored = SacAgent::from_json(&json).unwrap();
        assert_eq!(restored.to_json(), json);
        let a = agent
            .train(&mut point_mass(), 150, 2, point_mass_task)
            .unwrap();
        let b = restored
            .train(&mut point_mass(), 150, 2, point_mass_task)
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(agent.to_json(), restored.to_json());
    }
}

#[test]
fn same_seed_same_run_different_seed_different_run() {
    let run = |seed| {
        let mut agent = SacAgent::new(small(), 6, 2, seed).unwrap();
        agent
            .train(&mut point_mass(), 150, seed, point_mass_task)
            .unwrap();
        agent.to_json()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn corrupt_checkpoints_are_typed_errors() {
    let mut agent = SacAgent::new(small(), 6, 2, 4).unwrap();
    agent
        .train(&mut point_mass(), 80, 0, point_mass_task)
        .unwrap();
    let json = agent.to_json();
    assert!(matches!(
        SacAgent::from_json("{"),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
    assert!(matches!(
        SacAgent::from_json(&json.replacen("\"format_version\":1", "\"format_version\":9", 1)),
        Err(StudentError::UnsupportedCheckpointVersion { found: 9, .. })
    ));
    let edits: Vec<(&str, serde_json::Value)> = vec![
        ("/config/hidden_sizes", serde_json::json!([8])),
        ("/config/value_network", serde_json::json!(true)),
        ("/config/autotune_alpha", serde_json::json!(false)),
        ("/config/buffer_size", serde_json::json!(400)),
        ("/config/alpha", serde_json::json!(-1.0)),
        ("/replay/len", serde_json::json!(3)),
        ("/replay/rewards", serde_json::json!("AAAA")),
        ("/replay/obs", serde_json::json!("not base64!")),
        ("/critics", serde_json::json!([])),
        ("/action_scale", serde_json::json!([1.0])),
        ("/log_alpha", serde_json::json!(null)),
    ];
    // An edit that changes nothing restores (so each error below comes from its edit).
    let same = edit_checkpoint_json(&json, "/gradient_updates", agent.gradient_updates().into());
    assert_eq!(SacAgent::from_json(&same).unwrap().to_json(), json);
    for (path, replacement) in edits {
        let edited = edit_checkpoint_json(&json, path, replacement);
        assert!(
            matches!(
                SacAgent::from_json(&edited),
                Err(StudentError::CorruptCheckpoint { .. })
            ),
            "{path}"
        );
    }
}

#[test]
fn random_start_actions_come_from_the_seeded_stream() {
    let config = SacConfig {
        start_steps: 1000,
        learning_starts: 1000,
        ..small()
    };
    let mut agent = SacAgent::new(config, 6, 2, 9).unwrap();
    agent
        .train(&mut point_mass(), 100, 0, point_mass_task)
        .unwrap();
    assert_eq!(agent.gradient_updates(), 0);
    assert_eq!(agent.replay().len(), 100);
}

#[test]
fn the_reward_floor_raises_what_the_buffer_stores_and_nothing_else() {
    // The point mass' rewards are small; a floor above them all stores the floor everywhere,
    // while the episodes keep the env's own returns.
    let config = SacConfig {
        reward_floor: Some(0.5),
        start_steps: 1000,
        ..small()
    };
    let mut agent = SacAgent::new(config, 6, 2, 1).unwrap();
    let episodes = agent
        .train(&mut point_mass(), 200, 0, point_mass_task)
        .unwrap();
    let mut batch = BoxReplayBatch::default();
    agent
        .replay
        .sample(64, &mut Pcg64::seed_from_u64(0), &mut batch)
        .unwrap();
    assert!(
        batch.rewards.iter().all(|&r| r >= 0.5),
        "{:?}",
        batch.rewards
    );
    assert!(episodes
        .iter()
        .any(|e| e.summary.episode_return < 0.5 * e.summary.length as f64));
}

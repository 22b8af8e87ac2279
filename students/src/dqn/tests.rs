use ndarray::Array2;

use super::*;
use crate::activation::Activation;
use crate::student::edit_checkpoint_json;
use teachgym_envs::{GridWorldConfig, GridWorldEnv, PointMassConfig, PointMassEnv};

fn small() -> DqnConfig {
    DqnConfig {
        hidden_sizes: vec![16, 16],
        buffer_size: 500,
        batch_size: 16,
        learning_starts: 50,
        train_frequency: 2,
        target_update_interval: 40,
        exploration_steps: 300,
        ..DqnConfig::default()
    }
}

fn grid_task(rng: &mut Pcg64) -> Vec<f64> {
    GridWorldConfig::default().task_space().unwrap().sample(rng)
}

#[test]
fn defaults_match_the_documented_constants_and_parse_from_partial_json() {
    let c = DqnConfig::default();
    assert_eq!(c.hidden_sizes, DEFAULT_HIDDEN_SIZES.to_vec());
    assert_eq!(
        (
            c.buffer_size,
            c.batch_size,
            c.learning_starts,
            c.train_frequency
        ),
        (10_000, 128, 10_000, 10)
    );
    assert_eq!((c.target_update_interval, c.tau), (500, 1.0));
    assert!(c.double_dqn && !c.dueling);
    c.validate().unwrap();
    let partial: DqnConfig = serde_json::from_str(r#"{"batch_size": 32}"#).unwrap();
    assert_eq!(
        partial,
        DqnConfig {
            batch_size: 32,
            ..DqnConfig::default()
        }
    );
    assert!(serde_json::from_str::<DqnConfig>(r#"{"batchsize": 32}"#).is_err());
}

#[test]
fn epsilon_decays_linearly_then_stays() {
    let c = DqnConfig {
        start_epsilon: 1.0,
        end_epsilon: 0.1,
        exploration_steps: 100,
        ..DqnConfig::default()
    };
    assert_eq!(c.epsilon(0), 1.0);
    assert!((c.epsilon(50) - 0.55).abs() < 1e-12);
    assert!((c.epsilon(100) - 0.1).abs() < 1e-12);
    assert_eq!(c.epsilon(10_000), 0.1);
    let none = DqnConfig {
        exploration_steps: 0,
        ..c
    };
    assert_eq!(none.epsilon(0), 0.1);
}

#[test]
fn learning_rate_anneals_linearly_only_when_asked() {
    let clock = |global_step| TrainClock {
        global_step,
        total_steps: 1000,
    };
    let constant = DqnConfig {
        learning_rate: 1e-3,
        ..DqnConfig::default()
    };
    assert!(!constant.anneal_lr);
    assert_eq!(constant.learning_rate_at(clock(0)), 1e-3);
    assert_eq!(constant.learning_rate_at(clock(900)), 1e-3);
    let annealed = DqnConfig {
        anneal_lr: true,
        ..constant
    };
    assert_eq!(annealed.learning_rate_at(clock(0)), 1e-3);
    assert!((annealed.learning_rate_at(clock(750)) - 2.5e-4).abs() < 1e-9);
    assert_eq!(annealed.learning_rate_at(clock(1000)), 0.0);
    let parsed: DqnConfig = serde_json::from_str(r#"{"anneal_lr": true}"#).unwrap();
    assert!(parsed.anneal_lr);
}

#[test]
fn bad_configs_are_typed_errors() {
    let cases: Vec<(&str, DqnConfig)> = vec![
        (
            "hidden_sizes",
            DqnConfig {
                hidden_sizes: vec![8, 0],
                ..small()
            },
        ),
        (
            "hidden_sizes",
            DqnConfig {
                hidden_sizes: vec![],
                dueling: true,
                ..small()
            },
        ),
        (
            "buffer_size",
            DqnConfig {
                buffer_size: 0,
                ..small()
            },
        ),
        (
            "batch_size",
            DqnConfig {
                batch_size: 0,
                ..small()
            },
        ),
        (
            "train_frequency",
            DqnConfig {
                train_frequency: 0,
                ..small()
            },
        ),
        (
            "target_update_interval",
            DqnConfig {
                target_update_interval: 0,
                ..small()
            },
        ),
        (
            "gamma",
            DqnConfig {
                gamma: f64::NAN,
                ..small()
            },
        ),
        (
            "end_epsilon",
            DqnConfig {
                end_epsilon: 1.5,
                ..small()
            },
        ),
        (
            "tau",
            DqnConfig {
                tau: 0.0,
                ..small()
            },
        ),
        (
            "huber_delta",
            DqnConfig {
                huber_delta: -1.0,
                ..small()
            },
        ),
        (
            "max_grad_norm",
            DqnConfig {
                max_grad_norm: Some(f32::INFINITY),
                ..small()
            },
        ),
        (
            "learning_rate",
            DqnConfig {
                learning_rate: 0.0,
                ..small()
            },
        ),
    ];
    for (field, config) in cases {
        match DqnAgent::new(config, 10, 4, 0) {
            Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected InvalidConfig, got {other:?}"),
        }
    }
    assert!(matches!(
        DqnAgent::new(small(), 10, 0, 0),
        Err(StudentError::InvalidConfig { .. })
    ));
}

#[test]
fn bad_observations_masks_and_envs_are_typed_errors() {
    let mut agent = DqnAgent::new(small(), 10, 4, 0).unwrap();
    let mut out = Vec::new();
    assert!(matches!(
        agent.select_actions(&[0.0; 15], None, 0, false, &mut out),
        Err(StudentError::ShapeMismatch { .. })
    ));
    let mut obs = [0.0f32; 20];
    obs[13] = f32::NAN;
    assert!(matches!(
        agent.select_actions(&obs, None, 0, false, &mut out),
        Err(StudentError::NonFinite { index: 13, .. })
    ));
    let mut masks = [true; 8];
    assert!(matches!(
        agent.select_actions(&[0.0; 20], Some(&masks[..7]), 0, false, &mut out),
        Err(StudentError::ShapeMismatch { .. })
    ));
    masks[4..].fill(false);
    assert_eq!(
        agent.select_actions(&[0.0; 20], Some(&masks), 0, false, &mut out),
        Err(StudentError::NoLegalAction { row: 1 })
    );
    // A continuous-action env is refused, as is an env of another observation width.
    let mut point_mass = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let mut continuous = DqnAgent::new(small(), 6, 2, 0).unwrap();
    let err = continuous
        .evaluate_box_env(&mut point_mass)
        .expect_err("Box actions are not Discrete");
    assert!(matches!(
        err,
        StudentError::ShapeMismatch {
            what: "env action space",
            ..
        }
    ));
    let mut grid = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
    let mut wrong = DqnAgent::new(small(), 11, 4, 0).unwrap();
    assert!(matches!(
        wrong.train(&mut grid, 10, 0, grid_task),
        Err(StudentError::ShapeMismatch { .. })
    ));
    let mut right = DqnAgent::new(small(), 12, 4, 0).unwrap();
    assert!(matches!(
        right.train(&mut grid, 10, 0, |_| vec![50.0, 0.1]),
        Err(StudentError::Env(
            teachgym_core::Error::TaskOutOfBounds { .. }
        ))
    ));
}

impl DqnAgent {
    /// The space check of `train` applied to a continuous env (which `train` itself cannot
    /// take, its action type being `[f32]`): an adapter with a `usize` action type.
    fn evaluate_box_env(&mut self, env: &mut PointMassEnv) -> Result<()> {
        struct AsDiscrete<'a>(&'a mut PointMassEnv);
        impl Env for AsDiscrete<'_> {
            type Obs = Vec<f32>;
            type Action = usize;
            fn task_space(&self) -> &teachgym_core::TaskSpace {
                self.0.task_space()
            }
            fn observation_space(&self) -> &Space {
                self.0.observation_space()
            }
            fn action_space(&self) -> &Space {
                self.0.action_space()
            }
            fn reset(
                &mut self,
                seed: Option<u64>,
                task: &[f64],
            ) -> teachgym_core::Result<(Vec<f32>, teachgym_core::Info)> {
                self.0.reset(seed, task)
            }
            fn step(&mut self, a: &usize) -> teachgym_core::Result<teachgym_core::Step<Vec<f32>>> {
                self.0.step(&[*a as f32, 0.0])
            }
            fn render(&self) -> teachgym_core::Result<teachgym_core::RgbFrame> {
                self.0.render()
            }
        }
        self.train(&mut AsDiscrete(env), 10, 0, |_| vec![0.5, 1.0])
            .map(|_| ())
    }
}

#[test]
fn masks_restrict_greedy_and_random_choices() {
    let mut agent = DqnAgent::new(small(), 10, 4, 3).unwrap();
    let mut rng = Pcg64::seed_from_u64(1);
    let obs: Vec<f32> = (0..10 * 64).map(|_| rng.random::<f32>() - 0.5).collect();
    let masks: Vec<bool> = (0..4 * 64).map(|i| i % 4 == (i / 4) % 3 + 1).collect();
    let mut out = Vec::new();
    for deterministic in [true, false] {
        agent
            .select_actions(&obs, Some(&masks), 0, deterministic, &mut out)
            .unwrap();
        assert_eq!(out.len(), 64);
        for (r, &a) in out.iter().enumerate() {
            assert!(masks[r * 4 + a], "row {r} chose illegal action {a}");
        }
    }
    // Without masks, ε = 1 explores every action; greedy picks the argmax of Q.
    agent
        .select_actions(&obs, None, 0, false, &mut out)
        .unwrap();
    for a in 0..4 {
        assert!(out.contains(&a));
    }
    agent
        .select_actions(&obs[..10], None, 0, true, &mut out)
        .unwrap();
    let q = agent.q_values(&obs[..10]).unwrap();
    assert_eq!(out[0], masked_argmax(&q, None).unwrap());
}

#[test]
fn masked_argmax_skips_illegal_actions_and_takes_the_first_tie() {
    assert_eq!(masked_argmax(&[1.0, 3.0, 3.0, 0.0], None), Some(1));
    assert_eq!(
        masked_argmax(&[1.0, 3.0, 3.0, 0.0], Some(&[true, false, false, true])),
        Some(0)
    );
    assert_eq!(masked_argmax(&[1.0], Some(&[false])), None);
}

#[test]
fn huber_td_loss_gradient_matches_finite_differences() {
    let q = Array2::from_shape_vec(
        (5, 3),
        vec![
            0.5, -1.0, 2.0, 0.3, 1.2, -0.4, 0.0, 0.1, 0.2, 3.0, -2.0, 1.0, 0.7, 0.7, 0.7,
        ],
    )
    .unwrap();
    let actions = [0, 2, 1, 0, 2];
    // Errors: 0.5 − 0.2 (quadratic), −0.4 − 1.5 (linear), 0.1 + 0.3, 3 − 0.4, 0.7 − 0.9.
    let targets = [0.2, 1.5, -0.3, 0.4, 0.9];
    let analytic = huber_td_loss(q.view(), &actions, &targets, 1.0);
    let h = 1e-3f32;
    for b in 0..q.nrows() {
        for a in 0..q.ncols() {
            let (mut plus, mut minus) = (q.clone(), q.clone());
            plus[(b, a)] += h;
            minus[(b, a)] -= h;
            let numeric = (huber_td_loss(plus.view(), &actions, &targets, 1.0).loss
                - huber_td_loss(minus.view(), &actions, &targets, 1.0).loss)
                / (2.0 * h as f64);
            let exact = analytic.d_q[(b, a)] as f64;
            assert!(
                (exact - numeric).abs() < 1e-4,
                "({b}, {a}): {exact} vs {numeric}"
            );
        }
    }
    // Linear branch: |error| > δ gives a gradient of ±δ/B.
    assert!((analytic.d_q[(1, 2)] + 0.2).abs() < 1e-7);
}

/// Central differences of the TD loss through the whole dueling network (tanh, so no kinks)
/// against the analytic backprop of every parameter.
#[test]
fn dueling_network_gradients_match_finite_differences() {
    let mut rng = Pcg64::seed_from_u64(5);
    let mut net = QNetwork::new(4, &[6, 5], Activation::Tanh, 3, true, &mut rng).unwrap();
    let x = Array2::from_shape_fn((7, 4), |_| rng.random::<f32>() * 2.0 - 1.0);
    let actions = [0, 1, 2, 2, 1, 0, 1];
    let targets = [0.5, -0.3, 1.5, 0.0, -2.0, 0.2, 0.1];
    let loss_of = |net: &QNetwork| {
        huber_td_loss(
            net.predict(x.view()).unwrap().view(),
            &actions,
            &targets,
            0.5,
        )
        .loss
    };
    let mut caches = QCaches::default();
    let q = net.forward(x.view(), &mut caches).unwrap();
    let d_q = huber_td_loss(q.view(), &actions, &targets, 0.5).d_q;
    let mut grads: Vec<Gradients> = net.parts.iter().map(Gradients::zeros_like).collect();
    net.backward(&caches, d_q.view(), &mut grads).unwrap();
    let eps = 1e-3f32;
    let mut checked = 0;
    for (p, part_grads) in grads.iter().enumerate() {
        let analytic: Vec<Vec<f32>> = part_grads.slices().iter().map(|s| s.to_vec()).collect();
        for (t, tensor) in analytic.iter().enumerate() {
            for (i, &exact) in tensor.iter().enumerate() {
                let original = net.parts[p].parameter_slices_mut()[t][i];
                net.parts[p].parameter_slices_mut()[t][i] = original + eps;
                let plus = loss_of(&net);
                net.parts[p].parameter_slices_mut()[t][i] = original - eps;
                let minus = loss_of(&net);
                net.parts[p].parameter_slices_mut()[t][i] = original;
                let numeric = (plus - minus) / (2.0 * eps as f64);
                let tol = 2e-4 + 1e-2 * numeric.abs();
                assert!(
                    (numeric - exact as f64).abs() <= tol,
                    "part {p} tensor {t} element {i}: {exact} vs {numeric}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, (4 * 6 + 6 + 6 * 5 + 5) + (5 + 1) + (5 * 3 + 3));
    // The dueling combination: subtracting the mean advantage leaves V as the mean of Q.
    let value = net.parts[1]
        .predict(net.parts[0].predict(x.view()).unwrap().view())
        .unwrap();
    for (row, v) in q.rows().into_iter().zip(value.column(0)) {
        assert!((row.sum() / 3.0 - v).abs() < 1e-5);
    }
}

#[test]
fn learn_follows_the_schedule_for_any_stride() {
    let config = DqnConfig {
        learning_starts: 10,
        train_frequency: 4,
        gradient_steps: 2,
        target_update_interval: 8,
        ..small()
    };
    let mut agent = DqnAgent::new(config.clone(), 3, 2, 0).unwrap();
    let t = Transition {
        obs: &[0.1, 0.2, 0.3],
        action: 1,
        reward: 1.0,
        next_obs: &[0.0, 0.1, 0.2],
        terminated: false,
        next_mask: None,
    };
    agent.store(&t).unwrap();
    assert_eq!(agent.learn(10).unwrap(), None);
    assert_eq!(agent.target, agent.online);
    // Steps 11..=12: one round (12) of two gradient steps.
    let stats = agent.learn(12).unwrap().unwrap();
    assert_eq!((stats.gradient_steps, agent.gradient_updates()), (2, 2));
    assert_ne!(agent.target, agent.online);
    // Steps 13..=16: a round at 16 and a target copy at 16.
    agent.learn(16).unwrap().unwrap();
    assert_eq!(agent.gradient_updates(), 4);
    assert_eq!(agent.target, agent.online);
    // A stride of 9 (17..=25): rounds at 20 and 24, target copies at 24.
    let stats = agent.learn(25).unwrap().unwrap();
    assert_eq!((stats.gradient_steps, agent.gradient_updates()), (4, 8));
    assert_eq!(agent.target, agent.online);
    // Going back in time does nothing.
    assert_eq!(agent.learn(20).unwrap(), None);
    assert_eq!(agent.global_step(), 25);

    // Polyak averaging moves the target by τ of the gap.
    let mut soft = DqnAgent::new(
        DqnConfig {
            tau: 0.25,
            ..config
        },
        3,
        2,
        0,
    )
    .unwrap();
    soft.store(&t).unwrap();
    let before = soft.target.clone();
    soft.learn(14).unwrap();
    let w = |net: &QNetwork| net.parts[0].parameter_slices()[0][0];
    soft.learn(16).unwrap();
    let expected = 0.25 * w(&soft.online) + 0.75 * w(&before);
    assert!((w(&soft.target) - expected).abs() < 1e-7);
}

#[test]
fn targets_bootstrap_on_truncation_but_not_on_termination_and_respect_masks() {
    // One transition, γ = 0.5, a target network equal to the online one (no update yet):
    // the TD target is r + γ·Q'(s', best legal a') only when the transition did not
    // terminate. The mask allows only the worse next action, so ignoring it would be seen.
    for terminated in [false, true] {
        let config = DqnConfig {
            gamma: 0.5,
            learning_starts: 0,
            train_frequency: 1,
            batch_size: 1,
            huber_delta: 100.0,
            ..small()
        };
        let mut agent = DqnAgent::new(config, 2, 2, 7).unwrap();
        let next = [0.3f32, -0.8];
        let q_next = agent.q_values(&next).unwrap();
        assert_ne!(q_next[0], q_next[1]);
        let worse = if q_next[0] < q_next[1] { 0 } else { 1 };
        let mut mask = [false; 2];
        mask[worse] = true;
        agent
            .store(&Transition {
                obs: &[0.5, 0.5],
                action: 0,
                reward: 1.0,
                next_obs: &next,
                terminated,
                next_mask: Some(&mask),
            })
            .unwrap();
        let q_now = agent.q_values(&[0.5, 0.5]).unwrap()[0] as f64;
        let bootstrap = if terminated {
            0.0
        } else {
            0.5 * q_next[worse] as f64
        };
        let expected = 0.5 * (q_now - (1.0 + bootstrap)).powi(2);
        let stats = agent.learn(1).unwrap().unwrap();
        assert!(
            (stats.td_loss - expected).abs() < 1e-6,
            "terminated = {terminated}: {} vs {expected}",
            stats.td_loss
        );
    }
}

#[test]
fn checkpoint_round_trips_and_continues_identically() {
    for dueling in [false, true] {
        let config = DqnConfig {
            dueling,
            tau: 0.5,
            ..small()
        };
        let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let mut agent = DqnAgent::new(config, 12, 4, 4).unwrap();
        agent.train(&mut env, 300, 1, grid_task).unwrap();
        assert!(agent.gradient_updates() > 0);
        let json = agent.to_json();
        let mut restored = DqnAgent::from_json(&json).unwrap();
        assert_eq!(restored.to_json(), json);
        let a = agent.train(&mut env, 300, 2, grid_task).unwrap();
        let mut env2 = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let b = restored.train(&mut env2, 300, 2, grid_task).unwrap();
        assert_eq!(a, b);
        assert_eq!(agent.to_json(), restored.to_json());
    }
}

#[test]
fn same_seed_same_run_different_seed_different_run() {
    let run = |seed| {
        let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
        let mut agent = DqnAgent::new(small(), 12, 4, seed).unwrap();
        agent.train(&mut env, 200, seed, grid_task).unwrap();
        agent.to_json()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn corrupt_checkpoints_are_typed_errors() {
    let mut agent = DqnAgent::new(small(), 12, 4, 4).unwrap();
    let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
    agent.train(&mut env, 60, 0, grid_task).unwrap();
    let json = agent.to_json();
    assert!(matches!(
        DqnAgent::from_json("{"),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
    assert!(matches!(
        DqnAgent::from_json(&json.replacen("\"format_version\":1", "\"format_version\":7", 1)),
        Err(StudentError::UnsupportedCheckpointVersion { found: 7, .. })
    ));
    let edits: Vec<(&str, serde_json::Value)> = vec![
        ("/config/hidden_sizes", serde_json::json!([8])),
        ("/config/dueling", serde_json::json!(true)),
        ("/config/buffer_size", serde_json::json!(7)),
        ("/config/gamma", serde_json::json!(2.0)),
        ("/replay/len", serde_json::json!(3)),
        ("/replay/actions/0", serde_json::json!(9)),
        ("/target", serde_json::json!([])),
    ];
    // An edit that changes nothing restores (so each error below comes from its edit; a round
    // trip through `serde_json::Value` alone would fail on the RNG's 128-bit integers).
    let same = edit_checkpoint_json(&json, "/gradient_updates", agent.gradient_updates().into());
    assert_eq!(DqnAgent::from_json(&same).unwrap().to_json(), json);
    for (path, replacement) in edits {
        let edited = edit_checkpoint_json(&json, path, replacement);
        assert!(
            matches!(
                DqnAgent::from_json(&edited),
                Err(StudentError::CorruptCheckpoint { .. })
            ),
            "{path}"
        );
    }
}

/// Issue 22, case 2: sizes without upper limits (the replay capacity, the batch, the
/// gradient steps per round, the network widths) now have caps naming the field.
#[test]
fn sizes_have_caps() {
    let cases = [
        (
            "buffer_size",
            DqnConfig {
                buffer_size: usize::MAX,
                ..DqnConfig::default()
            },
        ),
        (
            "batch_size",
            DqnConfig {
                batch_size: 1 << 40,
                ..DqnConfig::default()
            },
        ),
        (
            "gradient_steps",
            DqnConfig {
                gradient_steps: 1_000_000_000,
                ..DqnConfig::default()
            },
        ),
        (
            "hidden_sizes",
            DqnConfig {
                hidden_sizes: vec![usize::MAX],
                ..DqnConfig::default()
            },
        ),
    ];
    for (field, config) in cases {
        crate::error::assert_invalid_field(config.validate(), field);
    }
    DqnConfig {
        buffer_size: MAX_BUFFER_SIZE,
        batch_size: MAX_BATCH_SIZE,
        gradient_steps: MAX_GRADIENT_STEPS,
        ..DqnConfig::default()
    }
    .validate()
    .unwrap();
}

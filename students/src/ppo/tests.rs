use ndarray::ArrayView2;

use super::losses::*;
use super::*;
use teachgym_envs::{GridWorldConfig, GridWorldEnv, PointMassConfig, PointMassEnv};

fn small() -> PpoConfig {
    PpoConfig {
        hidden_sizes: vec![16, 16],
        rollout_steps: 128,
        minibatch_size: 32,
        update_epochs: 2,
        ..PpoConfig::default()
    }
}

#[test]
fn defaults_match_the_documented_constants() {
    let c = PpoConfig::default();
    assert_eq!(c.hidden_sizes, DEFAULT_HIDDEN_SIZES.to_vec());
    assert_eq!(c.learning_rate, DEFAULT_LEARNING_RATE);
    assert_eq!(c.rollout_steps, DEFAULT_ROLLOUT_STEPS);
    assert_eq!(c.minibatch_size, DEFAULT_MINIBATCH_SIZE);
    assert_eq!(c.update_epochs, DEFAULT_UPDATE_EPOCHS);
    assert_eq!(c.clip_coef, DEFAULT_CLIP_COEF);
    assert_eq!(c.max_grad_norm, DEFAULT_MAX_GRAD_NORM);
    assert!(c.validate().is_ok());
    let t = PpoConfig::teach_my_agent();
    assert_eq!(
        (t.rollout_steps, t.minibatch_size, t.update_epochs),
        (20_000, 1000, 5)
    );
    assert_eq!(t.hidden_sizes, vec![400, 300]);
    assert!(t.validate().is_ok());
    let d = PpoConfig::clean_rl_discrete();
    assert_eq!(
        (
            d.rollout_steps,
            d.minibatch_size,
            d.update_epochs,
            d.ent_coef
        ),
        (512, 128, 4, 0.01)
    );
    assert!(!d.norm_obs && !d.norm_reward && d.validate().is_ok());
    let (w, z) = (
        PpoConfig::teachgym_walker(),
        PpoConfig::sb3_zoo_bipedal_walker(),
    );
    assert_eq!((w.rollout_steps, w.anneal_lr), (16_384, true));
    assert_eq!((z.rollout_steps, z.anneal_lr), (65_536, false));
    // Everything else is the zoo's.
    assert_eq!(
        PpoConfig {
            rollout_steps: z.rollout_steps,
            anneal_lr: z.anneal_lr,
            ..w.clone()
        },
        z
    );
    for name in PpoConfig::PRESET_NAMES {
        assert!(
            PpoConfig::preset(name).unwrap().validate().is_ok(),
            "{name}"
        );
    }
}

#[test]
fn bad_configs_are_typed_errors() {
    let cases: Vec<(&str, PpoConfig)> = vec![
        (
            "reward_floor",
            PpoConfig {
                reward_floor: Some(f64::NEG_INFINITY),
                ..small()
            },
        ),
        (
            "minibatch_size",
            PpoConfig {
                minibatch_size: 0,
                ..small()
            },
        ),
        (
            "minibatch_size",
            PpoConfig {
                minibatch_size: 1000,
                ..small()
            },
        ),
        (
            "rollout_steps",
            PpoConfig {
                rollout_steps: 0,
                ..small()
            },
        ),
        (
            "gamma",
            PpoConfig {
                gamma: 1.5,
                ..small()
            },
        ),
        (
            "gae_lambda",
            PpoConfig {
                gae_lambda: f64::NAN,
                ..small()
            },
        ),
        (
            "clip_coef",
            PpoConfig {
                clip_coef: 0.0,
                ..small()
            },
        ),
        (
            "ent_coef",
            PpoConfig {
                ent_coef: -1.0,
                ..small()
            },
        ),
        (
            "target_kl",
            PpoConfig {
                target_kl: Some(f32::NAN),
                ..small()
            },
        ),
        (
            "hidden_sizes",
            PpoConfig {
                hidden_sizes: vec![0],
                ..small()
            },
        ),
        (
            "learning_rate",
            PpoConfig {
                learning_rate: -1.0,
                ..small()
            },
        ),
        (
            "update_epochs",
            PpoConfig {
                update_epochs: 0,
                ..small()
            },
        ),
    ];
    for (field, config) in cases {
        match PpoAgent::new(config, 6, 2, 0) {
            Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected InvalidConfig, got {other:?}"),
        }
    }
    assert!(matches!(
        PpoAgent::new(small(), 0, 2, 0),
        Err(StudentError::InvalidConfig { .. })
    ));
}

#[test]
fn bad_observations_and_mismatched_envs_are_typed_errors() {
    let mut agent = PpoAgent::new(small(), 6, 2, 0).unwrap();
    assert!(matches!(
        agent.act(&[0.0; 5], true),
        Err(StudentError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        agent.act(&[0.0, f32::NAN, 0.0, 0.0, 0.0, 0.0], false),
        Err(StudentError::NonFinite { index: 1, .. })
    ));
    let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let mut wrong = PpoAgent::new(small(), 7, 2, 0).unwrap();
    assert!(matches!(
        wrong.train(&mut env, 10, 0, |_| vec![0.5, 1.0]),
        Err(StudentError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        agent.train(&mut env, 10, 0, |_| vec![9.0, 1.0]),
        Err(StudentError::Env(
            teachgym_core::Error::TaskOutOfBounds { .. }
        ))
    ));
}

/// Random minibatch data whose ratios sit away from the clipping kinks.
/// (means, log-std, actions, old log-probs, advantages).
type PolicyCase = (Array2<f32>, Vec<f32>, Array2<f32>, Vec<f32>, Vec<f32>);

fn policy_case() -> PolicyCase {
    let mut rng = Pcg64::seed_from_u64(3);
    let (batch, act_dim) = (8, 3);
    let mut normal = || -> f32 { standard_normal(&mut rng) as f32 };
    let means = Array2::from_shape_fn((batch, act_dim), |_| normal() * 0.5);
    let log_std = vec![-0.3, 0.1, 0.4];
    let actions = Array2::from_shape_fn((batch, act_dim), |_| normal());
    let offsets = [-0.6, 0.0, 0.05, 0.6, -0.1, 0.5, 0.02, -0.5];
    let old = (0..batch)
        .map(|b| {
            let lp = gaussian_log_prob(
                means.row(b).as_slice().unwrap(),
                &log_std,
                actions.row(b).as_slice().unwrap(),
            );
            (lp + offsets[b]) as f32
        })
        .collect();
    let adv = (0..batch)
        .map(|b| {
            if b % 3 == 0 {
                -1.0 - normal().abs()
            } else {
                1.0 + normal().abs()
            }
        })
        .collect();
    (means, log_std, actions, old, adv)
}

fn assert_close(analytic: f64, numeric: f64, what: &str) {
    let tol = 2e-3 + 2e-2 * numeric.abs();
    assert!(
        (analytic - numeric).abs() <= tol,
        "{what}: analytic {analytic} vs numeric {numeric}"
    );
}

#[test]
fn policy_loss_gradients_match_finite_differences() {
    let (means, log_std, actions, old, adv) = policy_case();
    let loss = |m: &Array2<f32>, s: &[f32]| {
        policy_loss(m.view(), s, actions.view(), &old, &adv, 0.2, 0.01).loss
    };
    let analytic = policy_loss(
        means.view(),
        &log_std,
        actions.view(),
        &old,
        &adv,
        0.2,
        0.01,
    );
    assert!(
        analytic.clipped > 0 && analytic.clipped < means.nrows(),
        "both branches exercised"
    );
    let h = 1e-3f32;
    for b in 0..means.nrows() {
        for i in 0..means.ncols() {
            let (mut plus, mut minus) = (means.clone(), means.clone());
            plus[(b, i)] += h;
            minus[(b, i)] -= h;
            let numeric = (loss(&plus, &log_std) - loss(&minus, &log_std)) / (2.0 * h as f64);
            assert_close(analytic.d_outputs[(b, i)] as f64, numeric, "∂/∂μ");
        }
    }
    for i in 0..log_std.len() {
        let (mut plus, mut minus) = (log_std.clone(), log_std.clone());
        plus[i] += h;
        minus[i] -= h;
        let numeric = (loss(&means, &plus) - loss(&means, &minus)) / (2.0 * h as f64);
        assert_close(analytic.d_log_std[i] as f64, numeric, "∂/∂log σ");
    }
}

#[test]
fn value_loss_gradients_match_finite_differences() {
    let values = Array2::from_shape_vec((6, 1), vec![0.5, -1.0, 2.0, 0.3, 1.2, -0.4]).unwrap();
    let old = vec![0.0, -0.5, 2.05, 0.8, 1.2, 0.0];
    let returns = vec![1.0, -2.0, 1.0, 0.0, 3.0, -0.1];
    for clip in [None, Some(0.2f32)] {
        let analytic = value_loss(values.view(), &old, &returns, clip);
        let h = 1e-3f32;
        for b in 0..values.nrows() {
            let (mut plus, mut minus) = (values.clone(), values.clone());
            plus[(b, 0)] += h;
            minus[(b, 0)] -= h;
            let numeric = (value_loss(plus.view(), &old, &returns, clip).loss
                - value_loss(minus.view(), &old, &returns, clip).loss)
                / (2.0 * h as f64);
            assert_close(analytic.d_values[(b, 0)] as f64, numeric, "∂/∂v");
        }
    }
}

#[test]
fn gae_bootstraps_only_where_the_episode_goes_on() {
    let mut rollout = Rollout::new(3, 1, 1);
    rollout.rewards = vec![1.0, 1.0, 1.0];
    rollout.values = vec![0.5, 0.5, 0.5];
    rollout.dones = vec![false, true, false];
    rollout.compute_gae_per_copy(&[2.0], 0.9, 1.0);
    // t = 2: δ = 1 + 0.9·2 − 0.5 = 2.3; t = 1 (done): δ = 0.5; t = 0: 1 + 0.45 − 0.5 + 0.9·0.5.
    assert!((rollout.advantages[2] - 2.3).abs() < 1e-6);
    assert!((rollout.advantages[1] - 0.5).abs() < 1e-6);
    assert!((rollout.advantages[0] - 1.4).abs() < 1e-6);
    assert!((rollout.returns[0] - 1.9).abs() < 1e-6);
}

fn grid_task(rng: &mut Pcg64) -> Vec<f64> {
    GridWorldConfig::default().task_space().unwrap().sample(rng)
}

#[test]
fn categorical_policy_loss_gradients_match_finite_differences() {
    let mut rng = Pcg64::seed_from_u64(8);
    let (batch, n) = (8, 4);
    let mut normal = || -> f32 { standard_normal(&mut rng) as f32 };
    let logits = Array2::from_shape_fn((batch, n), |_| normal());
    let actions = ndarray::Array1::from_shape_fn(batch, |b| ((b * 3) % n) as f32);
    let offsets = [-0.6, 0.0, 0.05, 0.6, -0.1, 0.5, 0.02, -0.5];
    let old: Vec<f32> = (0..batch)
        .map(|b| {
            let lp = log_softmax(logits.row(b).as_slice().unwrap());
            (lp[actions[b] as usize] + offsets[b]) as f32
        })
        .collect();
    let adv: Vec<f32> = (0..batch)
        .map(|b| if b % 3 == 0 { -1.5 } else { 1.2 })
        .collect();
    let loss = |l: &Array2<f32>| {
        categorical_policy_loss(l.view(), actions.view(), &old, &adv, 0.2, 0.05).loss
    };
    let analytic = categorical_policy_loss(logits.view(), actions.view(), &old, &adv, 0.2, 0.05);
    assert!(
        analytic.clipped > 0 && analytic.clipped < batch,
        "both branches exercised"
    );
    assert!(analytic.entropy > 0.0 && analytic.entropy < libm::log(n as f64));
    assert!(analytic.d_log_std.is_empty());
    let h = 1e-3f32;
    for b in 0..batch {
        for j in 0..n {
            let (mut plus, mut minus) = (logits.clone(), logits.clone());
            plus[(b, j)] += h;
            minus[(b, j)] -= h;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h as f64);
            assert_close(analytic.d_outputs[(b, j)] as f64, numeric, "∂/∂logit");
        }
    }
}

#[test]
fn log_softmax_is_stable_and_argmax_takes_the_first_tie() {
    let lp = log_softmax(&[1000.0, 1000.0, -1000.0]);
    assert!((lp[0] - libm::log(0.5)).abs() < 1e-12 && lp[2] < -1999.0);
    assert_eq!(argmax(&[0.1, 0.3, 0.3]), 1);
}

#[test]
fn spaces_choose_the_head_and_mismatches_are_typed_errors() {
    let grid = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
    let mut discrete =
        PpoAgent::for_spaces(small(), grid.observation_space(), grid.action_space(), 0).unwrap();
    assert!(discrete.is_discrete() && discrete.log_std().is_empty());
    assert_eq!((discrete.obs_dim(), discrete.act_dim()), (12, 4));
    let point_mass = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let mut continuous = PpoAgent::for_spaces(
        small(),
        point_mass.observation_space(),
        point_mass.action_space(),
        0,
    )
    .unwrap();
    assert!(!continuous.is_discrete());
    // Same seed, same actor weights whichever the head: only the head differs.
    let same = PpoAgent::new(small(), 6, 2, 0).unwrap();
    assert_eq!(continuous.actor, same.actor);

    assert!(matches!(
        discrete.act(&[0.0; 12], true),
        Err(StudentError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        continuous.act_discrete(&[0.0; 6], true),
        Err(StudentError::ShapeMismatch { .. })
    ));
    let mut nan = [0.0f32; 12];
    nan[3] = f32::NAN;
    assert!(matches!(
        discrete.act_discrete(&nan, false),
        Err(StudentError::NonFinite { index: 3, .. })
    ));
    let multi = Space::multi_discrete(vec![2, 2]).unwrap();
    assert!(matches!(
        PpoAgent::for_spaces(small(), grid.observation_space(), &multi, 0),
        Err(StudentError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        PpoAgent::for_spaces(small(), &multi, grid.action_space(), 0),
        Err(StudentError::ShapeMismatch { .. })
    ));
    // A Gaussian head cannot drive a Discrete env, nor a categorical head a Box env.
    let mut grid = grid;
    let mut gaussian_for_grid = PpoAgent::new(small(), 12, 4, 0).unwrap();
    assert!(matches!(
        gaussian_for_grid.train(&mut grid, 10, 0, grid_task),
        Err(StudentError::ShapeMismatch {
            what: "env action space",
            ..
        })
    ));
    let mut point_mass = point_mass;
    let mut categorical_for_box = PpoAgent::new_discrete(small(), 6, 2, 0).unwrap();
    assert!(matches!(
        categorical_for_box.train(&mut point_mass, 10, 0, |_| vec![0.5, 1.0]),
        Err(StudentError::ShapeMismatch {
            what: "env action space",
            ..
        })
    ));
}

#[test]
fn categorical_actions_follow_the_softmax() {
    let mut agent = PpoAgent::new_discrete(small(), 3, 3, 2).unwrap();
    // Large logits from a scaled output layer make the distribution far from uniform.
    let output_biases = agent.actor.parameter_slices_mut().pop().unwrap();
    output_biases.copy_from_slice(&[1.0, 0.0, -1.0]);
    let obs = [0.2f32, -0.1, 0.4];
    let normalized = agent.normalize(&obs);
    let logits = agent
        .actor
        .predict(ArrayView2::from_shape((1, 3), &normalized).unwrap())
        .unwrap();
    let probs: Vec<f64> = log_softmax(logits.row(0).as_slice().unwrap())
        .iter()
        .map(|&lp| libm::exp(lp))
        .collect();
    let draws = 20_000;
    let mut counts = [0usize; 3];
    for _ in 0..draws {
        counts[agent.act_discrete(&obs, false).unwrap()] += 1;
    }
    for (c, p) in counts.iter().zip(&probs) {
        let freq = *c as f64 / draws as f64;
        assert!(
            (freq - p).abs() < 0.015,
            "frequency {freq} vs probability {p}"
        );
    }
    let greedy = agent.act_discrete(&obs, true).unwrap();
    assert_eq!(greedy, argmax(&probs));
}

#[test]
fn categorical_checkpoint_round_trips_and_continues_identically() {
    let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
    let mut agent = PpoAgent::new_discrete(small(), 12, 4, 4).unwrap();
    agent.train(&mut env, 256, 1, grid_task).unwrap();
    let json = agent.to_json();
    let mut restored = PpoAgent::from_json(&json).unwrap();
    assert!(restored.is_discrete());
    assert_eq!(restored.to_json(), json);
    let a = agent.train(&mut env, 256, 2, grid_task).unwrap();
    let mut env2 = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
    let b = restored.train(&mut env2, 256, 2, grid_task).unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(agent.to_json(), restored.to_json());
    // A categorical checkpoint turned Gaussian without a matching log-std is corrupt.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["head"] = serde_json::json!({"gaussian": {"log_std": [0.0], "optimizer": null}});
    assert!(matches!(
        PpoAgent::from_json(&value.to_string()),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
}

#[test]
fn checkpoint_round_trips_and_continues_identically() {
    let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let mut agent = PpoAgent::new(small(), 6, 2, 4).unwrap();
    agent
        .train(&mut env, 256, 1, |rng| {
            PointMassConfig::default().task_space().unwrap().sample(rng)
        })
        .unwrap();
    let json = agent.to_json();
    let mut restored = PpoAgent::from_json(&json).unwrap();
    assert_eq!(restored.to_json(), json);
    let task = |rng: &mut Pcg64| PointMassConfig::default().task_space().unwrap().sample(rng);
    let a = agent.train(&mut env, 256, 2, task).unwrap();
    let mut env2 = PointMassEnv::new(PointMassConfig::default()).unwrap();
    let b = restored.train(&mut env2, 256, 2, task).unwrap();
    assert_eq!(a, b);
    assert_eq!(agent.to_json(), restored.to_json());
}

#[test]
fn corrupt_checkpoints_are_typed_errors() {
    let agent = PpoAgent::new(small(), 6, 2, 4).unwrap();
    let json = agent.to_json();
    assert!(matches!(
        PpoAgent::from_json("{"),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
    let version = format!("\"format_version\":{PPO_CHECKPOINT_VERSION}");
    assert!(json.starts_with(&format!("{{{version}")));
    assert!(matches!(
        PpoAgent::from_json(&json.replacen(&version, "\"format_version\":9", 1)),
        Err(StudentError::UnsupportedCheckpointVersion { found: 9, .. })
    ));
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["head"]["gaussian"]["log_std"] = serde_json::json!([0.0]);
    assert!(matches!(
        PpoAgent::from_json(&value.to_string()),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["obs_rms"]["var"] = serde_json::json!([1.0]);
    assert!(matches!(
        PpoAgent::from_json(&value.to_string()),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["config"]["hidden_sizes"] = serde_json::json!([8]);
    assert!(matches!(
        PpoAgent::from_json(&value.to_string()),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
}

/// Issue 22, cases 2 and 3: sizes and iteration counts without upper limits ended in capacity
/// overflows, allocation aborts or hangs; each now has a cap and names the field.
#[test]
fn sizes_and_iteration_counts_have_caps() {
    use crate::ppo::config::{MAX_ROLLOUT_STEPS, MAX_UPDATE_EPOCHS};
    for (config, field) in [
        (
            PpoConfig {
                rollout_steps: usize::MAX,
                ..PpoConfig::default()
            },
            "rollout_steps",
        ),
        (
            PpoConfig {
                update_epochs: 1_000_000_000,
                ..PpoConfig::default()
            },
            "update_epochs",
        ),
        (
            PpoConfig {
                hidden_sizes: vec![1 << 40, 64],
                ..PpoConfig::default()
            },
            "hidden_sizes",
        ),
        (
            PpoConfig {
                hidden_sizes: vec![64; 1000],
                ..PpoConfig::default()
            },
            "hidden_sizes",
        ),
        (
            PpoConfig {
                hidden_sizes: vec![4096; 4],
                ..PpoConfig::default()
            },
            "hidden_sizes",
        ),
    ] {
        crate::error::assert_invalid_field(config.validate(), field);
        assert!(PpoAgent::new(config, 6, 2, 0).is_err());
    }
    PpoConfig {
        rollout_steps: MAX_ROLLOUT_STEPS,
        update_epochs: MAX_UPDATE_EPOCHS,
        ..PpoConfig::default()
    }
    .validate()
    .unwrap();
    // A checkpoint's config is validated too (update_epochs = 1e9 hung the first update).
    let agent = PpoAgent::new(PpoConfig::default(), 6, 2, 0).unwrap();
    let json = agent
        .to_json()
        .replace("\"update_epochs\":10,", "\"update_epochs\":1000000000,");
    assert!(json.contains("1000000000"));
    let err = PpoAgent::from_json(&json).unwrap_err();
    assert!(err.to_string().contains("update_epochs"), "{err}");
}

/// The reward floor changes what PPO learns from (a different update), not the episodes' own
/// returns, and the same floor gives the same run.
#[test]
fn the_reward_floor_changes_the_learning_signal_only() {
    let run = |reward_floor| {
        let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
        let config = PpoConfig {
            reward_floor,
            rollout_steps: 256,
            ..small()
        };
        let mut agent = PpoAgent::new(config, 6, 2, 3).unwrap();
        let episodes = agent
            .train(&mut env, 512, 3, |_rng| vec![0.5, 1.0])
            .unwrap();
        (
            episodes
                .iter()
                .map(|e| e.summary.episode_return)
                .collect::<Vec<_>>(),
            agent.to_json(),
        )
    };
    let (plain_returns, plain) = run(None);
    let (floored_returns, floored) = run(Some(0.5));
    // The first rollout is the same (same policy); the updates differ.
    assert_eq!(plain_returns[..2], floored_returns[..2]);
    assert_ne!(plain, floored);
    assert!(floored_returns.iter().any(|r| *r < 0.5 * 100.0));
    assert_eq!(run(Some(0.5)).1, floored);
}

//! Property tests of the hardening harness (issue 22): whatever the configuration, the bounds,
//! the tasks and the actions, an env returns `Ok` or a typed `Err`, never panics.
//!
//! Each property runs a few dozen cases by default so the suite stays fast; set
//! `PROPTEST_CASES` for a longer search (`scripts/fuzz.sh` does).

#[path = "../../tests/support/strategies.rs"]
mod strategies;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use strategies::{config, mostly, mostly_bound, mutate_numbers, number_replacements, wild_f64};
use teachgym_core::Space;
use teachgym_envs::registry::{env_config, Action, AnyEnv, EnvConfig, EnvOptions, ENVS};
use teachgym_envs::{
    GridWorldConfig, HexagonTracksConfig, PhysicsConfig, PointMassConfig, StumpTracksConfig,
    TrackConfig, WalkerConfig, WebFormConfig,
};

fn wild_f32() -> impl Strategy<Value = f32> {
    wild_f64().prop_map(|v| v as f32)
}

/// What to do with an env once built: reset tasks (a valid one or arbitrary values) and actions.
#[derive(Debug, Clone)]
struct Episode {
    seed: u64,
    valid_task: bool,
    task: Vec<f64>,
    actions: Vec<(Vec<f32>, usize, Vec<usize>)>,
    render: bool,
}

fn episode() -> impl Strategy<Value = Episode> {
    let action = (
        prop::collection::vec(wild_f32(), 0..6),
        prop_oneof![0..8usize, any::<usize>()],
        prop::collection::vec(prop_oneof![0..4usize, any::<usize>()], 0..5),
    );
    (
        any::<u64>(),
        prop::bool::weighted(0.8),
        prop::collection::vec(wild_f64(), 0..14),
        prop::collection::vec(action, 1..6),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(seed, valid_task, task, actions, render)| Episode {
            seed,
            valid_task,
            task,
            actions,
            render,
        })
}

/// Drives `env` through `episode`; every call must return (errors are fine).
fn drive(env: &mut AnyEnv, episode: &Episode) {
    let task = if episode.valid_task {
        use rand::SeedableRng;
        env.task_space()
            .sample(&mut rand_pcg::Pcg64::seed_from_u64(episode.seed))
    } else {
        episode.task.clone()
    };
    let _ = env.render();
    if env.reset(Some(episode.seed), &task).is_err() {
        return;
    }
    let dim = env.action_space().flat_len();
    for (continuous, discrete, multi) in &episode.actions {
        let mut row = continuous.clone();
        // Mostly of the right length, so that the step itself runs.
        if row.len() % 3 != 0 {
            row.resize(dim, 0.5);
        }
        let n = match env.action_space() {
            Space::Discrete { n } => *n,
            _ => 1,
        };
        let action = match env.action_kind() {
            "continuous" => Action::Continuous(&row),
            "discrete" => Action::Discrete(if discrete % 4 == 0 {
                *discrete
            } else {
                discrete % n
            }),
            _ => Action::MultiDiscrete(multi),
        };
        let _ = env.step(action);
    }
    if episode.render {
        let _ = env.render();
    }
}

/// Solver iteration counts: mostly valid, sometimes 0 or far above the cap.
fn iterations() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 1..=4usize, 1 => Just(0), 1 => Just(1 << 20)]
}

/// Whether stepping `config` is cheap enough for a property test (walker solver work).
fn cheap(config: &EnvConfig) -> bool {
    match config {
        EnvConfig::Walker(c) => c.physics.solver_iterations * c.physics.pgs_iterations <= 64,
        _ => true,
    }
}

/// An env's configuration in its serde form.
fn default_config(config: &EnvConfig) -> Value {
    match config {
        EnvConfig::Walker(c) => serde_json::to_value(c),
        EnvConfig::PointMass(c) => serde_json::to_value(c),
        EnvConfig::GridWorld(c) => serde_json::to_value(c),
        EnvConfig::WebForm(c) | EnvConfig::WebFormMd(c) => serde_json::to_value(c),
    }
    .unwrap()
}

proptest! {
    #![proptest_config(config(48))]

    /// Every registry entry, with any of its configuration's numbers replaced and any bounds:
    /// construction, reset, step and render return `Ok` or a typed error.
    #[test]
    fn registry_envs_never_panic(
        entry in 0..ENVS.len(),
        numbers in number_replacements(0.05),
        bounds in prop::collection::vec((0..14usize, mostly_bound(-5.0..10.0)), 0..3),
        episode in episode(),
    ) {
        let name = ENVS[entry].name;
        let defaults = env_config(name, &EnvOptions::default()).unwrap();
        let mut config = default_config(&defaults);
        mutate_numbers(&mut config, &mut numbers.into_iter());
        let names = defaults.task_space().unwrap().names().join(",");
        let names: Vec<&str> = names.split(',').collect();
        let mut bound_map = Map::new();
        for (dim, [low, high]) in bounds {
            if low.is_finite() && high.is_finite() {
                bound_map.insert(names[dim % names.len()].to_string(), json!([low, high]));
            }
        }
        let options = EnvOptions { bounds: bound_map, config, ..EnvOptions::default() };
        if let Ok(config) = env_config(name, &options) {
            if let (true, Ok(mut env)) = (cheap(&config), config.build()) {
                drive(&mut env, &episode);
            }
        }
    }

    /// The walkers from typed configurations (as a TOML file gives them, NaN and infinities
    /// included): never a panic from the physics, whatever the bounds and noise.
    #[test]
    fn walker_configs_never_panic(
        hexagon in any::<bool>(),
        sizes in mostly_bound(-100.0..100.0),
        spacings in mostly_bound(-100.0..100.0),
        std in mostly(0.0..100.0),
        spacing in mostly(-100.0..100.0),
        motor_factor in mostly(1.0..2000.0).prop_map(|v| v as f32),
        iterations in (iterations(), iterations()),
        episode in episode(),
    ) {
        let track = if hexagon {
            TrackConfig::HexagonTracks(HexagonTracksConfig {
                offset_bounds: sizes,
                offset_std: std,
                obstacle_spacing: spacing,
            })
        } else {
            TrackConfig::StumpTracks(StumpTracksConfig {
                stump_height_bounds: sizes,
                obstacle_spacing_bounds: spacings,
                stump_height_std: std,
            })
        };
        let config = WalkerConfig {
            track,
            physics: PhysicsConfig {
                solver_iterations: iterations.0,
                pgs_iterations: iterations.1,
                motor_factor,
                ..PhysicsConfig::default()
            },
            ..WalkerConfig::default()
        };
        let accepted = config.validate().is_ok();
        let config = EnvConfig::Walker(config);
        match config.build() {
            Ok(mut env) => {
                prop_assert!(accepted);
                if cheap(&config) {
                    drive(&mut env, &episode);
                }
            }
            Err(_) => prop_assert!(!accepted),
        }
    }

    /// The point mass, the grid world and the web forms from typed configurations with any
    /// bounds and reward values.
    #[test]
    fn small_env_configs_never_panic(
        kind in 0..3usize,
        // Scaled below into each env's valid range, so most configurations build.
        bounds in (mostly_bound(0.01..1.0), mostly_bound(0.01..1.0)),
        values in prop::collection::vec(mostly(0.0..1.5), 6),
        episode in episode(),
    ) {
        let config = match kind {
            0 => EnvConfig::PointMass(PointMassConfig {
                target_distance_bounds: bounds.0.map(|v| 2.0 * v),
                mass_bounds: bounds.1.map(|v| 100.0 * v),
                dt: values[0],
                max_force: values[1],
                damping: values[2],
                success_radius: values[3],
                progress_reward: values[4],
                success_bonus: values[5],
                ..PointMassConfig::default()
            }),
            1 => EnvConfig::GridWorld(GridWorldConfig {
                size_bounds: bounds.0.map(|v| 2.0 + 14.0 * v),
                wall_density_bounds: bounds.1.map(|v| 0.6 * v),
                goal_reward: values[0],
                step_penalty: values[1],
                ..GridWorldConfig::default()
            }),
            _ => EnvConfig::WebForm(WebFormConfig {
                gamma: values[0],
                shaping_coef: values[1],
                success_reward: values[2],
                failure_reward: values[3],
                invalid_action_penalty: values[4],
                step_slack: 1.0 + values[5],
                task_low: vec![bounds.0[0]; 9],
                task_high: vec![bounds.0[1]; 9],
                ..WebFormConfig::default()
            }),
        };
        if let Ok(mut env) = config.build() {
            drive(&mut env, &episode);
        }
    }
}

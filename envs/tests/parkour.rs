//! Parkour: every body's observation and action sizes (TeachMyAgent's table), bit-identical
//! trajectories, water (buoyancy, survival rules, lidar flags), creepers that nothing collides
//! with, and typed errors for bad configurations.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::{Env, Error};
use teachgym_envs::walker::{ParkourConfig, SURVIVAL_STEPS};
use teachgym_envs::{Embodiment, TrackConfig, WalkerConfig, WalkerEnv};

mod support;
use support::trajectory;

/// Parkour observation sizes of the reference table (TeachMyAgent notes §1.4).
const PARKOUR_OBS: [(&str, usize, usize); 12] = [
    ("old_classic_bipedal", 36, 4),
    ("classic_bipedal", 36, 4),
    ("small_bipedal", 36, 4),
    ("big_quadru", 46, 8),
    ("spider", 54, 12),
    ("millipede", 66, 16),
    ("wheel", 46, 8),
    ("profile_chimpanzee", 62, 14),
    ("fish", 38, 4),
    ("amphibious_bipedal", 36, 4),
    ("climbing_profile_chimpanzee", 54, 12),
    ("climbing_chest_profile_chimpanzee", 44, 8),
];

/// A task in the default space: the middle of the "easy" CPPN inputs, no water, creepers.
const DRY: [f64; 8] = [-0.15, 0.9, 0.1, 0.0, 0.25, 1.0, 3.0, 10.0];

fn parkour_env(body: Embodiment, edit: impl FnOnce(&mut ParkourConfig)) -> WalkerEnv {
    let mut track = ParkourConfig::default();
    edit(&mut track);
    WalkerEnv::new(WalkerConfig {
        track: TrackConfig::Parkour(track),
        body,
        ..WalkerConfig::default()
    })
    .unwrap()
}

fn with_water(task: [f64; 8], level: f64) -> [f64; 8] {
    let mut t = task;
    t[3] = level;
    t
}

/// The water level whose surface lies `height` m above the start pad for this env's terrain.
fn level_at(env: &mut WalkerEnv, task: [f64; 8], height: f32) -> f64 {
    env.reset(Some(0), &task).unwrap();
    let terrain = env.terrain().unwrap();
    let highest = terrain
        .ceiling
        .iter()
        .map(|p| p[1])
        .fold(f32::MIN, f32::max) as f64;
    let limit = -100.0;
    (terrain.ground[0][1] as f64 + height as f64 - limit) / (highest - limit)
}

#[test]
fn every_body_has_the_reference_parkour_sizes() {
    assert_eq!(PARKOUR_OBS.len(), Embodiment::ALL.len());
    for (name, obs, act) in PARKOUR_OBS {
        let mut env = parkour_env(Embodiment::from_name(name).unwrap(), |_| {});
        let obs_space = env.observation_space().as_box().unwrap().shape().to_vec();
        let act_space = env.action_space().as_box().unwrap().shape().to_vec();
        assert_eq!((obs_space, act_space), (vec![obs], vec![act]), "{name}");
        let (first, _) = env.reset(Some(0), &DRY).unwrap();
        assert_eq!(first.len(), obs, "{name}");
        let step = env.step(&vec![0.3; act]).unwrap();
        assert_eq!(step.obs.len(), obs, "{name}");
        assert!(step.obs.iter().all(|v| v.is_finite()), "{name}");
    }
    let space = WalkerConfig::parkour().task_space().unwrap();
    assert_eq!(space.dim(), 8);
    // Six free dimensions; creeper width and CPPN scale are fixed by default.
    let fixed: Vec<_> = (0..8)
        .filter(|&i| space.low()[i] == space.high()[i])
        .map(|i| space.names()[i])
        .collect();
    assert_eq!(fixed, ["creepers_width", "terrain_cppn_scale"]);
}

#[test]
fn same_seed_and_task_give_bit_identical_trajectories_for_every_body() {
    // Water up to the ceiling, so the water forces act on every part.
    let wet = with_water(DRY, 1.0);
    for body in Embodiment::ALL {
        for task in [DRY, wet] {
            let mut a = parkour_env(body, |_| {});
            let mut b = parkour_env(body, |_| {});
            let reference = trajectory(&mut a, 5, &task, 200);
            assert_eq!(
                trajectory(&mut b, 5, &task, 200),
                reference,
                "{}",
                body.name()
            );
            assert_eq!(
                trajectory(&mut a, 5, &task, 200),
                reference,
                "{}",
                body.name()
            );
            assert_ne!(
                trajectory(&mut b, 6, &task, 200),
                reference,
                "{}",
                body.name()
            );
        }
    }
}

#[test]
fn a_fish_floats_in_water_and_sinks_out_of_it() {
    let mut env = parkour_env(Embodiment::Fish, |_| {});
    let idle = [0.0; 4];
    // Water up to the ceiling: slightly lighter than water, the idle fish rises.
    env.reset(Some(1), &with_water(DRY, 1.0)).unwrap();
    let head = |env: &WalkerEnv| env.part_poses().unwrap()[env.body().head].position[1];
    let start = head(&env);
    let mut under = 0.0;
    for _ in 0..100 {
        under = env.step(&idle).unwrap().obs[4];
    }
    let risen = head(&env) - start;
    assert_eq!(under, 1.0, "is_under_water");
    // Net force on a fully submerged part: 0.01·ρ·A·g up, 1 % of its weight: slow.
    assert!(risen > 0.0 && risen < 2.0, "rose {risen} m in 2 s");
    // No water on the track: it drops to the ground.
    env.reset(Some(1), &DRY).unwrap();
    let start = head(&env);
    for _ in 0..100 {
        assert_eq!(env.step(&idle).unwrap().obs[4], 0.0);
    }
    assert!(head(&env) < start - 0.5, "fell {} m", start - head(&env));
}

#[test]
fn a_fish_dies_out_of_water_and_the_episode_runs_on() {
    let mut config = WalkerConfig::parkour();
    config.body = Embodiment::Fish;
    config.max_episode_steps = SURVIVAL_STEPS + 50;
    let mut env = WalkerEnv::new(config).unwrap();
    env.reset(Some(2), &DRY).unwrap();
    let action = [1.0, -1.0, 1.0, -1.0];
    for t in 1..=SURVIVAL_STEPS + 50 {
        let s = env.step(&action).unwrap();
        let dead = s.obs[5];
        assert_eq!(dead, f32::from(u8::from(t > SURVIVAL_STEPS)), "step {t}");
        assert!(!s.terminated, "step {t}");
        if t > SURVIVAL_STEPS + 1 {
            // Dead: the action is ignored, so no effort is charged.
            let effort_free = s.reward.abs() < 1.0;
            assert!(effort_free, "step {t}: reward {}", s.reward);
        }
        assert_eq!(s.truncated, t == SURVIVAL_STEPS + 50, "step {t}");
    }
}

#[test]
fn a_walker_drowns_after_600_steps_under_water_and_the_episode_runs_on() {
    let mut config = WalkerConfig::parkour();
    config.max_episode_steps = SURVIVAL_STEPS + 20;
    let mut env = WalkerEnv::new(config).unwrap();
    env.reset(Some(3), &with_water(DRY, 1.0)).unwrap();
    for t in 1..=SURVIVAL_STEPS + 20 {
        let s = env.step(&[0.0; 4]).unwrap();
        assert_eq!(s.obs[4], 1.0, "step {t}: under water");
        assert_eq!(
            s.obs[5],
            f32::from(u8::from(t > SURVIVAL_STEPS)),
            "step {t}"
        );
        assert!(!s.terminated, "step {t}");
    }
    assert!(env.is_dead());
    // The amphibian never drowns. It floats: a low ceiling keeps it under water (and from
    // drifting off the start of the track).
    let mut env = parkour_env(Embodiment::AmphibiousBipedal, |c| c.ceiling_offset = 25.0);
    env.reset(Some(3), &with_water(DRY, 1.0)).unwrap();
    for t in 1..=SURVIVAL_STEPS + 20 {
        let s = env.step(&[0.0; 4]).unwrap();
        assert_eq!((s.obs[4], s.obs[5]), (1.0, 0.0), "step {t}");
        assert!(!s.terminated, "step {t}");
    }
}

#[test]
fn the_lidar_sees_water_from_above_and_creepers() {
    // Water 0.5 m above the pad: the walker's downward rays hit its surface (flag -1) first.
    let mut env = parkour_env(Embodiment::ClassicBipedal, |_| {});
    let level = level_at(&mut env, DRY, 0.5);
    let (obs, _) = env.reset(Some(0), &with_water(DRY, level)).unwrap();
    let flags = &obs[obs.len() - 10..];
    assert_eq!(flags[0], -1.0, "{flags:?}");
    assert_eq!(obs[4], 0.0, "the head is above the water");
    // The swimmers' full fan sees the ceiling's creepers above when they hang low.
    let mut env = parkour_env(Embodiment::Fish, |c| c.ceiling_offset = 40.0);
    let low_creepers = [-0.15, 0.9, 0.1, 0.0, 0.25, 3.0, 0.0, 10.0];
    let mut seen = false;
    env.reset(Some(0), &low_creepers).unwrap();
    for _ in 0..50 {
        let s = env.step(&[0.0; 4]).unwrap();
        seen |= s.obs[s.obs.len() - 10..].contains(&1.0);
    }
    assert!(seen, "no creeper seen");
}

#[test]
fn creepers_never_collide() {
    // A low ceiling with long dense creepers reaching the ground, against the same track with
    // short ones far above: the body moves bit for bit the same (creepers are sensors), the lidar
    // differs.
    let long = [-0.15, 0.9, 0.1, 0.0, 0.25, 4.0, 0.0, 10.0];
    let short = [-0.15, 0.9, 0.1, 0.0, 0.25, 0.0, 0.0, 10.0];
    let mut a = parkour_env(Embodiment::ClassicBipedal, |c| c.ceiling_offset = 35.0);
    let mut b = parkour_env(Embodiment::ClassicBipedal, |c| c.ceiling_offset = 35.0);
    a.reset(Some(4), &long).unwrap();
    b.reset(Some(4), &short).unwrap();
    let mut rng = Pcg64::seed_from_u64(9);
    let mut lidar_differs = false;
    for _ in 0..200 {
        let action: Vec<f32> = (0..4).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let (sa, sb) = (a.step(&action).unwrap(), b.step(&action).unwrap());
        assert_eq!(a.part_poses(), b.part_poses());
        lidar_differs |= sa.obs != sb.obs;
        if sa.terminated || sa.truncated {
            break;
        }
    }
    assert!(lidar_differs);
    let creepers = &a.terrain().unwrap().creepers;
    assert!(creepers.len() > 150, "{}", creepers.len());
}

#[test]
fn bad_parkour_configs_and_tasks_are_typed_errors() {
    let bad = |edit: fn(&mut ParkourConfig), field: &str| {
        let mut track = ParkourConfig::default();
        edit(&mut track);
        let config = WalkerConfig {
            track: TrackConfig::Parkour(track),
            ..WalkerConfig::default()
        };
        match WalkerEnv::new(config).err() {
            Some(Error::InvalidConfig { field: f, reason }) => {
                assert!(f.contains(field), "{f}: {reason}")
            }
            other => panic!("{field}: expected InvalidConfig, got {other:?}"),
        }
    };
    bad(|c| c.water_level_bounds = [0.0, 1.5], "water_level");
    bad(|c| c.cppn_scale_bounds = [0.0, 10.0], "terrain_cppn_scale");
    bad(
        |c| c.input_vector_bounds[1] = [f64::NAN, 1.0],
        "input_vector_1",
    );
    bad(|c| c.creeper_height_std = -1.0, "creeper_height_std");
    bad(|c| c.ceiling_offset = f64::INFINITY, "ceiling_offset");
    bad(
        |c| c.cppn_weights = Some("/nonexistent/weights.f32le".into()),
        "cppn_weights",
    );
    // A task outside the bounds, or of the wrong length, is refused at reset.
    let mut env = parkour_env(Embodiment::ClassicBipedal, |_| {});
    assert!(env.reset(Some(0), &with_water(DRY, 2.0)).is_err());
    assert!(env.reset(Some(0), &DRY[..7]).is_err());
    // NaN actions are refused.
    env.reset(Some(0), &DRY).unwrap();
    assert!(env.step(&[f32::NAN, 0.0, 0.0, 0.0]).is_err());
}

#[test]
fn another_weight_file_gives_other_terrains() {
    let dir = std::env::temp_dir().join(format!("teachgym-cppn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("other.f32le");
    std::fs::write(&path, teachgym_envs::walker::Cppn::draw(7).to_bytes()).unwrap();
    let path_text = path.to_string_lossy().into_owned();
    let mut builtin = parkour_env(Embodiment::ClassicBipedal, |_| {});
    let mut other = parkour_env(Embodiment::ClassicBipedal, |c| {
        c.cppn_weights = Some(path_text)
    });
    builtin.reset(Some(0), &DRY).unwrap();
    other.reset(Some(0), &DRY).unwrap();
    assert_ne!(
        builtin.terrain().unwrap().ground,
        other.terrain().unwrap().ground
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stored_test_sets_follow_the_documented_rule_and_lie_in_the_default_space() {
    use teachgym_envs::walker::ParkourSkill;
    let space = WalkerConfig::parkour().task_space().unwrap();
    for skill in ParkourSkill::ALL {
        let path = format!(
            "{}/../examples/test_sets/parkour_{}.csv",
            env!("CARGO_MANIFEST_DIR"),
            skill.name()
        );
        let stored = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            stored,
            skill.csv(),
            "{path}: regenerate with `cargo run -p teachgym-envs --example parkour_test_sets`"
        );
        let tasks = skill.tasks();
        assert_eq!(tasks.len(), 100);
        for task in &tasks {
            space.validate(task).unwrap();
        }
    }
}

/// The climbing chimpanzee's observation: 6 head values, 10 motors (24 values), then per hand
/// sensor (touching, holding).
const SENSOR_FLAGS: std::ops::Range<usize> = 30..34;

#[test]
fn a_climber_that_grasps_the_ceiling_and_holds_still_keeps_hanging() {
    for body in [
        Embodiment::ClimbingProfileChimpanzee,
        Embodiment::ClimbingChestProfileChimpanzee,
    ] {
        let mut env = parkour_env(body, |_| {});
        let motors = env.body().joints.len();
        let flags = 6 + env.body().state_dim() - 4..6 + env.body().state_dim();
        if body == Embodiment::ClimbingProfileChimpanzee {
            assert_eq!(flags, SENSOR_FLAGS);
        }
        let (obs, _) = env.reset(Some(0), &DRY).unwrap();
        // Both hands hold on after the reset's hanging steps.
        assert_eq!(
            &obs[flags.clone()],
            &[1.0, 1.0, 1.0, 1.0],
            "{}",
            body.name()
        );
        let head = |env: &WalkerEnv| env.part_poses().unwrap()[env.body().head].position[1];
        let start = head(&env);
        let mut hold = vec![0.0; motors];
        hold.extend([1.0, 1.0]);
        for t in 0..300 {
            let s = env.step(&hold).unwrap();
            assert!(!s.terminated, "{} fell at step {t}", body.name());
            assert_eq!(s.obs[flags.clone()][1], 1.0);
            assert_eq!(s.obs[flags.clone()][3], 1.0);
        }
        assert!(
            (head(&env) - start).abs() < 0.5,
            "{}: moved {}",
            body.name(),
            head(&env) - start
        );
        // Letting go: it drops, lands and falls (head, chest or lower legs on the ground).
        let mut release = vec![0.0; motors];
        release.extend([-1.0, -1.0]);
        let mut fell = false;
        for _ in 0..500 {
            let s = env.step(&release).unwrap();
            assert_eq!(s.obs[flags.clone()][1], 0.0);
            if s.terminated {
                assert_eq!(s.reward, -100.0);
                fell = true;
                break;
            }
        }
        assert!(fell, "{} never fell", body.name());
    }
}

#[test]
fn renders_show_the_ceiling_the_water_and_the_climbers_hands() {
    let pixel = |frame: &teachgym_core::RgbFrame, x: usize, y: usize| {
        let i = 3 * (y * frame.width as usize + x);
        [frame.data[i], frame.data[i + 1], frame.data[i + 2]]
    };
    // A ceiling 3 m above the start pad: the top of the frame is ceiling grey, not sky.
    let mut env = parkour_env(Embodiment::ClassicBipedal, |c| c.ceiling_offset = 30.0);
    env.reset(Some(0), &DRY).unwrap();
    let dry = env.render().unwrap();
    assert_eq!((dry.width, dry.height), (600, 400));
    assert_eq!(pixel(&dry, 300, 2), [90, 90, 90]);
    // Water up to the ceiling tints the sky between ground and ceiling blue.
    env.reset(Some(0), &with_water(DRY, 1.0)).unwrap();
    let wet = env.render().unwrap();
    let [r, _, b] = pixel(&wet, 300, 60);
    assert!(b > r + 50, "{:?}", pixel(&wet, 300, 60));
    assert_ne!(pixel(&dry, 300, 60), pixel(&wet, 300, 60));
    // A climber's hand sensors are drawn in red.
    let mut env = parkour_env(Embodiment::ClimbingChestProfileChimpanzee, |_| {});
    env.reset(Some(0), &DRY).unwrap();
    let frame = env.render().unwrap();
    let red = frame
        .data
        .chunks_exact(3)
        .filter(|p| p[0] > 200 && p[1] < 40 && p[2] < 40)
        .count();
    assert!(red > 5, "{red} red pixels");
}

#[test]
fn movable_creepers_hang_in_segments_are_drawn_and_replay_bit_for_bit() {
    let mut fixed = parkour_env(Embodiment::ClimbingProfileChimpanzee, |_| {});
    let mut movable = parkour_env(Embodiment::ClimbingProfileChimpanzee, |c| {
        c.movable_creepers = true
    });
    fixed.reset(Some(3), &DRY).unwrap();
    movable.reset(Some(3), &DRY).unwrap();
    // The same creepers, cut into segments of at most 1 m: as many or more outlines, the
    // same column of x at rest.
    let (rigid, chains) = (fixed.creepers().unwrap(), movable.creepers().unwrap());
    assert_eq!(rigid, fixed.terrain().unwrap().creepers);
    assert!(!rigid.is_empty() && chains.len() >= rigid.len());
    let left_edges = |creepers: &[teachgym_envs::walker::Obstacle]| {
        let mut xs: Vec<i64> = creepers
            .iter()
            .map(|c| (c.vertices.iter().map(|v| v[0]).fold(f32::MAX, f32::min) * 1e3) as i64)
            .collect();
        xs.dedup();
        xs
    };
    assert_eq!(left_edges(&rigid), left_edges(&chains));
    assert!(movable.render().is_ok());
    let mut again = parkour_env(Embodiment::ClimbingProfileChimpanzee, |c| {
        c.movable_creepers = true
    });
    assert_eq!(
        trajectory(&mut movable, 5, &DRY, 300),
        trajectory(&mut again, 5, &DRY, 300)
    );
}

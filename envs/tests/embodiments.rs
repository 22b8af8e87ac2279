//! Every embodiment in Stump Tracks: the observation and action sizes of TeachMyAgent's table,
//! bit-identical trajectories for a seed and task, and sane physics under random actions.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::walker::{Locomotion, PartPose};

mod support;
use support::trajectory;
use teachgym_envs::{BodyDef, Embodiment, WalkerConfig, WalkerEnv};

/// The reference table (TeachMyAgent notes §1.4): name, action size, state size (the motor
/// block), observation size in Stump Tracks, motor torque (N·m), torque penalty.
const REFERENCE_TABLE: [(&str, usize, usize, usize, f32, f32); 10] = [
    ("old_classic_bipedal", 4, 10, 24, 80.0, 0.00035),
    ("classic_bipedal", 4, 10, 24, 80.0, 0.00035),
    ("small_bipedal", 4, 10, 24, 80.0, 0.00035),
    ("big_quadru", 8, 20, 34, 300.0, 0.00035 / 2.0),
    ("spider", 12, 28, 42, 100.0, 0.00035 / 2.0),
    ("millipede", 16, 40, 54, 200.0, 0.00035 / 4.0),
    ("wheel", 8, 20, 34, 500.0, 0.00035 / 2.0),
    ("profile_chimpanzee", 14, 36, 50, 100.0, 0.00007),
    ("fish", 4, 12, 26, 80.0, 0.00035),
    ("amphibious_bipedal", 4, 10, 24, 80.0, 0.00035),
];

/// Every body but the climbers, which need Parkour's ceiling.
fn stump_tracks_bodies() -> Vec<Embodiment> {
    Embodiment::ALL
        .into_iter()
        .filter(|b| b.body().locomotion != Locomotion::Climber)
        .collect()
}

#[test]
fn climbers_are_refused_off_parkour_with_a_typed_error() {
    for body in Embodiment::ALL {
        let mut config = WalkerConfig::stump_tracks();
        config.body = body;
        let result = WalkerEnv::new(config);
        if stump_tracks_bodies().contains(&body) {
            assert!(result.is_ok(), "{}", body.name());
        } else {
            match result.err() {
                Some(teachgym_core::Error::InvalidConfig { field, reason }) => {
                    assert_eq!(field, "body");
                    assert!(reason.contains("climber"), "{reason}");
                }
                other => panic!("{}: expected InvalidConfig, got {other:?}", body.name()),
            }
        }
    }
}

fn env_for(body: Embodiment) -> WalkerEnv {
    let mut config = WalkerConfig::stump_tracks();
    config.body = body;
    WalkerEnv::new(config).unwrap()
}

fn random_action(rng: &mut Pcg64, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0..=1.0)).collect()
}

#[test]
fn every_body_has_the_reference_sizes_torque_and_penalty() {
    let mut listed: Vec<_> = REFERENCE_TABLE.iter().map(|row| row.0).collect();
    // The climbers exist in Parkour only (tests/parkour.rs).
    let mut known: Vec<_> = stump_tracks_bodies()
        .into_iter()
        .map(Embodiment::name)
        .collect();
    listed.sort_unstable();
    known.sort_unstable();
    assert_eq!(
        listed, known,
        "the table and Embodiment::ALL list the same bodies"
    );
    for (name, act, state, obs, torque, penalty) in REFERENCE_TABLE {
        let mut env = env_for(Embodiment::from_name(name).unwrap());
        let obs_space = env.observation_space().as_box().unwrap().shape().to_vec();
        let act_space = env.action_space().as_box().unwrap().shape().to_vec();
        assert_eq!((obs_space, act_space), (vec![obs], vec![act]), "{name}");
        assert_eq!(env.body().state_dim(), state, "{name}");
        assert_eq!(env.body().motors_torque, torque, "{name}");
        assert!((env.body().torque_penalty - penalty).abs() < 1e-9, "{name}");
        let (first, _) = env.reset(Some(0), &[1.0, 3.0]).unwrap();
        assert_eq!(first.len(), obs, "{name}");
        let step = env.step(&vec![0.5; act]).unwrap();
        assert_eq!(step.obs.len(), obs, "{name}");
    }
}

#[test]
fn same_seed_and_task_give_bit_identical_trajectories_for_every_body() {
    for body in stump_tracks_bodies() {
        let task = [1.5, 2.0];
        let mut a = env_for(body);
        let mut b = env_for(body);
        let reference = trajectory(&mut a, 3, &task, 300);
        assert_eq!(
            trajectory(&mut b, 3, &task, 300),
            reference,
            "{}",
            body.name()
        );
        // A used env replays a seed as a fresh one does.
        assert_eq!(
            trajectory(&mut a, 3, &task, 300),
            reference,
            "{}",
            body.name()
        );
        // Another seed gives another push and track.
        assert_ne!(
            trajectory(&mut b, 4, &task, 300),
            reference,
            "{}",
            body.name()
        );
    }
}

/// Largest distance (m) between the two ends of any joint: how far the solver lets the parts it
/// holds together drift apart.
fn largest_joint_gap(body: &BodyDef, poses: &[PartPose]) -> f32 {
    let world_anchor = |part: usize, anchor: [f32; 2]| {
        let def = &body.parts[part];
        // The anchor in the part's frame at spawn, then carried by the part's current pose.
        let (dx, dy) = (anchor[0] - def.offset[0], anchor[1] - def.offset[1]);
        let (s0, c0) = (libm::sinf(def.angle), libm::cosf(def.angle));
        let local = [c0 * dx + s0 * dy, -s0 * dx + c0 * dy];
        let pose = poses[part];
        let (s, c) = (libm::sinf(pose.angle), libm::cosf(pose.angle));
        [
            pose.position[0] + c * local[0] - s * local[1],
            pose.position[1] + s * local[0] + c * local[1],
        ]
    };
    body.joints
        .iter()
        .map(|j| &j.hinge)
        .chain(&body.passive_joints)
        .map(|h| {
            let p = world_anchor(h.parent, h.anchor);
            let c = world_anchor(h.child, h.anchor);
            libm::hypotf(p[0] - c[0], p[1] - c[1])
        })
        .fold(0.0, f32::max)
}

/// Farthest any part's origin starts from the head's (m).
fn spawn_reach(body: &BodyDef) -> f32 {
    let head = body.parts[body.head].offset;
    body.parts
        .iter()
        .map(|p| libm::hypotf(p.offset[0] - head[0], p.offset[1] - head[1]))
        .fold(0.0, f32::max)
}

#[test]
fn every_body_moves_without_nan_under_random_actions_on_stump_tracks() {
    for body in stump_tracks_bodies() {
        let mut env = env_for(body);
        let n = env.body().action_dim();
        // Parts stay within twice their spawn distance of the head (limbs swing, they do not fly
        // off), with half a metre for the joints' give.
        let reach = 2.0 * spawn_reach(env.body()) + 0.5;
        let mut rng = Pcg64::seed_from_u64(21);
        let (mut moved, mut gaps) = (0.0f32, Vec::new());
        for (seed, task) in [[0.0, 6.0], [1.5, 3.0], [3.0, 0.5]].iter().enumerate() {
            env.reset(Some(seed as u64), task).unwrap();
            let start_x = env.hull_x().unwrap();
            for _ in 0..300 {
                let s = env.step(&random_action(&mut rng, n)).unwrap();
                assert!(
                    s.obs.iter().all(|v| v.is_finite()) && s.reward.is_finite(),
                    "{}: {:?} {}",
                    body.name(),
                    s.obs,
                    s.reward
                );
                let poses = env.part_poses().unwrap();
                let head = poses[env.body().head].position;
                for p in &poses {
                    let d = libm::hypotf(p.position[0] - head[0], p.position[1] - head[1]);
                    assert!(d < reach, "{}: a part flew {d} m off", body.name());
                }
                gaps.push(largest_joint_gap(env.body(), &poses));
                moved = moved.max((env.hull_x().unwrap() - start_x).abs());
                if s.terminated || s.truncated {
                    break;
                }
            }
        }
        // Joints hold: the solver's give (a centimetre or two typically, up to 0.1-0.4 m in the
        // worst step of full-torque random commands, the bipedals included) never becomes a
        // part flung away.
        gaps.sort_by(f32::total_cmp);
        let (median, worst) = (gaps[gaps.len() / 2], gaps[gaps.len() - 1]);
        assert!(
            median < 0.03,
            "{}: median joint gap {median} m",
            body.name()
        );
        assert!(worst < 0.5, "{}: joint gap {worst} m", body.name());
        assert!(moved > 0.01, "{}: never moved", body.name());
    }
}

//! The walker envs honour the core `Env` contract: typed errors on bad input, seeded
//! bit-for-bit reproducibility, truncation inside the env, spaces that match what is returned.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::{Env, Error};
use teachgym_envs::{Embodiment, WalkerConfig, WalkerEnv};

fn stumps() -> WalkerEnv {
    WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap()
}

#[test]
fn step_before_reset_is_an_error() {
    let mut env = stumps();
    assert_eq!(
        env.step(&[0.0; 4]).unwrap_err(),
        Error::ResetNeeded { call: "step" }
    );
    assert!(matches!(
        env.render(),
        Err(Error::ResetNeeded { call: "render" })
    ));
    // Issue 22, case 7: the message names the call made, not `step()`.
    let message = env.render().unwrap_err().to_string();
    assert!(
        message.starts_with("render() called before reset()"),
        "{message}"
    );
}

#[test]
fn bad_actions_are_typed_errors() {
    let mut env = stumps();
    env.reset(Some(0), &[1.0, 3.0]).unwrap();
    assert_eq!(
        env.step(&[0.0; 3]).unwrap_err(),
        Error::ActionDimension {
            expected: 4,
            got: 3
        }
    );
    assert!(matches!(
        env.step(&[0.0, f32::NAN, 0.0, 0.0]).unwrap_err(),
        Error::NonFiniteAction { index: 1, .. }
    ));
    assert!(matches!(
        env.step(&[0.0, 0.0, f32::INFINITY, 0.0]).unwrap_err(),
        Error::NonFiniteAction { index: 2, .. }
    ));
    // The env is still usable after a rejected action.
    assert!(env.step(&[0.0; 4]).is_ok());
}

#[test]
fn out_of_range_actions_are_clipped() {
    let mut a = stumps();
    let mut b = stumps();
    a.reset(Some(4), &[1.0, 3.0]).unwrap();
    b.reset(Some(4), &[1.0, 3.0]).unwrap();
    for _ in 0..50 {
        let sa = a.step(&[5.0, -7.0, 1.5, -1.0]).unwrap();
        let sb = b.step(&[1.0, -1.0, 1.0, -1.0]).unwrap();
        assert_eq!(sa.obs, sb.obs);
        assert_eq!(sa.reward, sb.reward);
        if sa.terminated || sa.truncated {
            break;
        }
    }
}

#[test]
fn bad_tasks_name_the_dimension() {
    let mut env = stumps();
    let err = env.reset(Some(0), &[1.0]).unwrap_err();
    assert!(matches!(
        err,
        Error::TaskDimension {
            expected: 2,
            got: 1,
            ..
        }
    ));
    let err = env.reset(Some(0), &[3.5, 1.0]).unwrap_err();
    assert!(matches!(err, Error::TaskOutOfBounds { ref dim, .. } if dim == "stump_height"));
    let err = env.reset(Some(0), &[1.0, f64::NAN]).unwrap_err();
    assert!(matches!(err, Error::TaskOutOfBounds { ref dim, .. } if dim == "obstacle_spacing"));
    let mut hex = WalkerEnv::new(WalkerConfig::hexagon_tracks()).unwrap();
    let err = hex.reset(Some(0), &[1.0; 12].map(|v| v * 5.0)).unwrap_err();
    assert!(matches!(err, Error::TaskOutOfBounds { ref dim, .. } if dim == "vertex0_dx"));
}

/// Runs `steps` seeded random actions and returns every observation and reward, bit patterns.
fn trajectory(env: &mut WalkerEnv, seed: u64, task: &[f64], steps: usize) -> Vec<u32> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0xabc);
    let (obs, _) = env.reset(Some(seed), task).unwrap();
    let mut out: Vec<u32> = obs.iter().map(|v| v.to_bits()).collect();
    for _ in 0..steps {
        let a: Vec<f32> = (0..4).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let s = env.step(&a).unwrap();
        out.extend(s.obs.iter().map(|v| v.to_bits()));
        out.push((s.reward as f32).to_bits());
        if s.terminated || s.truncated {
            break;
        }
    }
    out
}

#[test]
fn same_seed_same_trajectory_bit_for_bit() {
    for config in [WalkerConfig::stump_tracks(), WalkerConfig::hexagon_tracks()] {
        let task = config.task_space().unwrap().center();
        let mut a = WalkerEnv::new(config.clone()).unwrap();
        let mut b = WalkerEnv::new(config).unwrap();
        let ta = trajectory(&mut a, 11, &task, 300);
        let tb = trajectory(&mut b, 11, &task, 300);
        assert_eq!(ta, tb);
        // Re-using an env gives the same result as a fresh one.
        let _ = trajectory(&mut a, 5, &task, 50);
        assert_eq!(trajectory(&mut a, 11, &task, 300), ta);
        // Another seed gives another track or push.
        assert_ne!(trajectory(&mut b, 12, &task, 300), ta);
    }
}

#[test]
fn reset_without_seed_continues_the_stream() {
    let mut a = stumps();
    let mut b = stumps();
    a.reset(Some(3), &[2.0, 2.0]).unwrap();
    b.reset(Some(3), &[2.0, 2.0]).unwrap();
    let (oa, _) = a.reset(None, &[2.0, 2.0]).unwrap();
    let (ob, _) = b.reset(None, &[2.0, 2.0]).unwrap();
    assert_eq!(oa, ob);
    assert_ne!(a.terrain().unwrap(), &{
        let mut c = stumps();
        c.reset(Some(3), &[2.0, 2.0]).unwrap();
        c.terrain().unwrap().clone()
    });
}

#[test]
fn truncates_at_max_episode_steps_and_refuses_further_steps() {
    let mut config = WalkerConfig::stump_tracks();
    config.max_episode_steps = 25;
    let mut env = WalkerEnv::new(config).unwrap();
    env.reset(Some(0), &[0.0, 6.0]).unwrap();
    let mut last = None;
    let mut sum = 0.0;
    for i in 0..25 {
        // Standing still with straight knees: no fall in 25 steps.
        let s = env.step(&[0.0, 1.0, 0.0, 1.0]).unwrap();
        assert!(!s.terminated, "fell at step {i}");
        assert_eq!(s.truncated, i == 24);
        sum += s.reward;
        assert_eq!((env.elapsed_steps(), env.episode_return()), (i + 1, sum));
        last = Some(s);
    }
    let last = last.unwrap();
    let summary = last.info.episode.expect("episode summary at the end");
    assert_eq!(summary.length, 25);
    assert_eq!(summary.episode_return, env.episode_return());
    assert!(!summary.success);
    assert_eq!(env.step(&[0.0; 4]).unwrap_err(), Error::EpisodeEnded);
}

#[test]
fn observations_lie_in_the_observation_space() {
    // Every body on Stump Tracks (but the climbers, which need a ceiling) and on Parkour with
    // water half-way up the start pad's tunnel.
    let parkour_task = [-0.15, 0.9, 0.1, 0.93, 0.25, 1.0, 0.5, 10.0];
    let cases = Embodiment::ALL
        .into_iter()
        .filter(|b| b.body().grasp_sensors.is_empty())
        .map(|b| (WalkerConfig::stump_tracks(), b, vec![1.0, 1.0]))
        .chain(
            Embodiment::ALL
                .into_iter()
                .map(|b| (WalkerConfig::parkour(), b, parkour_task.to_vec())),
        );
    for (mut config, body, task) in cases {
        config.body = body;
        config.max_episode_steps = 400;
        let mut env = WalkerEnv::new(config).unwrap();
        let space = env.observation_space().as_box().unwrap().clone();
        let mut rng = Pcg64::seed_from_u64(1);
        for seed in 0..3 {
            let (obs, _) = env.reset(Some(seed), &task).unwrap();
            let as_f64 = |o: &[f32]| o.iter().map(|&v| v as f64).collect::<Vec<_>>();
            assert!(space.contains(&as_f64(&obs)), "{obs:?}");
            loop {
                let a: Vec<f32> = (0..env.body().action_dim())
                    .map(|_| rng.random_range(-1.0..=1.0))
                    .collect();
                let s = env.step(&a).unwrap();
                assert!(space.contains(&as_f64(&s.obs)), "{:?}", s.obs);
                if s.terminated || s.truncated {
                    break;
                }
            }
        }
    }
}

#[test]
fn falling_costs_100_and_terminates() {
    let mut env = stumps();
    env.reset(Some(0), &[0.0, 6.0]).unwrap();
    // Knees folded and hips thrown forward: the hull hits the ground.
    for _ in 0..500 {
        let s = env.step(&[1.0, -1.0, 1.0, -1.0]).unwrap();
        if s.terminated {
            assert_eq!(s.reward, -100.0);
            assert!(s.info.episode.unwrap().episode_return < 0.0);
            return;
        }
    }
    panic!("the walker never fell");
}

#[test]
fn render_produces_a_frame_with_the_scene() {
    let mut env = stumps();
    env.reset(Some(0), &[2.0, 1.0]).unwrap();
    let frame = env.render().unwrap();
    assert_eq!((frame.width, frame.height), (600, 400));
    assert_eq!(frame.data.len(), 600 * 400 * 3);
    let count = |rgb: [u8; 3]| frame.data.chunks_exact(3).filter(|p| *p == rgb).count();
    // Sky, grass and stumps are all visible.
    assert!(count([215, 215, 255]) > 10_000);
    assert!(count([102, 153, 76]) > 10_000);
    assert!(count([139, 94, 60]) > 100);
}

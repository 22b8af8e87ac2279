//! Fidelity checks of the rapier dynamics against the Box2D reference (see BENCHMARKS.md):
//! the scripted gait crosses a flat Stump Track with a mastered return and is stopped by tall
//! stumps; a uniform-random policy falls and times out at rates close to gymnasium's
//! BipedalWalker-v3 (23 falls, 11 time-outs, mean length 579 over 20k steps of 1600-step
//! episodes; ±30 %).

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::walker::constants::{FALL_REWARD, MASTERY_THRESHOLD, TRACK_END_X};
use teachgym_envs::{Embodiment, ScriptedWalker, WalkerConfig, WalkerEnv};

fn scripted_episode(env: &mut WalkerEnv, seed: u64, task: &[f64]) -> (f64, f32, bool) {
    let mut walker = ScriptedWalker::default();
    let (mut obs, _) = env.reset(Some(seed), task).unwrap();
    loop {
        let step = env.step(&walker.act(&obs)).unwrap();
        obs = step.obs;
        if let Some(e) = step.info.episode {
            return (e.episode_return, env.hull_x().unwrap(), e.success);
        }
    }
}

#[test]
fn scripted_gait_masters_a_flat_track() {
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
    for seed in 0..3 {
        let (ret, x, success) = scripted_episode(&mut env, seed, &[0.0, 6.0]);
        assert!(
            ret > MASTERY_THRESHOLD && success,
            "seed {seed}: return {ret:.1}, reached x = {x:.1}"
        );
        assert!(x > TRACK_END_X, "seed {seed}: stopped at {x:.1}");
    }
}

#[test]
fn scripted_gait_is_stopped_by_tall_stumps() {
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
    for seed in 0..3 {
        let (ret, x, success) = scripted_episode(&mut env, seed, &[3.0, 6.0]);
        assert!(
            !success && ret < MASTERY_THRESHOLD,
            "seed {seed}: return {ret:.1}"
        );
        // The first stump stands at the end of the start pad, 9.3 m.
        assert!(x < 10.0, "seed {seed}: got past the first stump to {x:.1}");
    }
}

#[test]
fn random_policy_falls_like_box2d() {
    let mut config = WalkerConfig::stump_tracks();
    config.body = Embodiment::OldClassicBipedal;
    config.max_episode_steps = 1600;
    let mut env = WalkerEnv::new(config).unwrap();
    let mut rng = Pcg64::seed_from_u64(0);
    let (mut falls, mut timeouts, mut episodes, mut total_len) = (0u32, 0u32, 0u32, 0u64);
    let mut seed = 0;
    env.reset(Some(seed), &[0.0, 6.0]).unwrap();
    for _ in 0..20_000 {
        let a: Vec<f32> = (0..4).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let s = env.step(&a).unwrap();
        if let Some(e) = s.info.episode {
            episodes += 1;
            total_len += u64::from(e.length);
            falls += u32::from(s.terminated && s.reward == FALL_REWARD);
            timeouts += u32::from(s.truncated);
            seed += 1;
            env.reset(Some(seed), &[0.0, 6.0]).unwrap();
        }
    }
    let mean_len = total_len as f64 / f64::from(episodes);
    let within = |ours: f64, reference: f64| (ours - reference).abs() <= 0.3 * reference;
    assert!(within(f64::from(falls), 23.0), "falls {falls}");
    assert!(within(f64::from(timeouts), 11.0), "time-outs {timeouts}");
    assert!(within(mean_len, 579.0), "mean length {mean_len:.0}");
}

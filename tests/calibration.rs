//! Fidelity of the rapier dynamics against the Box2D reference (numbers and method in
//! BENCHMARKS.md, "Calibration against Box2D").
//!
//! - A uniform-random policy on a flat track with 1600-step episodes falls, times out and lasts
//!   within ±30 % of gymnasium's BipedalWalker-v3 (23 falls, 11 time-outs, mean length 579 per
//!   20k steps), for gymnasium's own body (`old_classic_bipedal`).
//! - The scripted gait walks a flat track to the end with a mastered return (> 230), and is
//!   stopped by stumps of mean height 3 (BENCHMARKS.md §2.3–2.4).

use teachgym::prelude::*;
use teachgym::rollout::{policy_stats, run_episode, Policy, RolloutStats};
use teachgym_envs::walker::constants::{MASTERY_THRESHOLD, TRACK_END_X};

/// gymnasium BipedalWalker-v3, uniform random actions, per 20k steps.
const BOX2D_FALLS_PER_20K: f64 = 23.0;
const BOX2D_TIMEOUTS_PER_20K: f64 = 11.0;
const BOX2D_MEAN_LENGTH: f64 = 579.0;
const TOLERANCE: f64 = 0.3;

fn within(ours: f64, reference: f64) -> bool {
    (ours - reference).abs() <= TOLERANCE * reference
}

#[test]
fn random_policy_falls_and_times_out_like_box2d() {
    let mut config = WalkerConfig::stump_tracks();
    config.body = Embodiment::OldClassicBipedal;
    config.max_episode_steps = 1600;
    let mut env = WalkerEnv::new(config).unwrap();
    // 8 runs of 50k steps: single 20k-step runs vary by ±40 % in both simulators.
    let runs: Vec<RolloutStats> = (0..8u64)
        .map(|r| {
            let seed = r * 1000;
            let mut policy = Policy::from_name("random", seed).unwrap();
            policy_stats(&mut env, &[0.0, 6.0], seed, 50_000, &mut policy).unwrap()
        })
        .collect();
    let steps: u64 = runs.iter().map(|s| s.steps).sum();
    let per_20k = |n: u64| n as f64 * 20_000.0 / steps as f64;
    let falls = per_20k(runs.iter().map(|s| s.falls).sum());
    let timeouts = per_20k(runs.iter().map(|s| s.timeouts).sum());
    let episodes: u64 = runs.iter().map(|s| s.episodes).sum();
    let mean_length = runs
        .iter()
        .map(|s| s.mean_length * s.episodes as f64)
        .sum::<f64>()
        / episodes as f64;
    assert!(
        within(falls, BOX2D_FALLS_PER_20K),
        "falls per 20k: {falls:.1}"
    );
    assert!(
        within(timeouts, BOX2D_TIMEOUTS_PER_20K),
        "time-outs per 20k: {timeouts:.1}"
    );
    assert!(
        within(mean_length, BOX2D_MEAN_LENGTH),
        "mean length: {mean_length:.0}"
    );
}

fn scripted(task: &[f64], seed: u64) -> (f64, f32, bool, bool) {
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
    let mut policy = Policy::from_name("scripted", seed).unwrap();
    let end = run_episode(&mut env, task, Some(seed), &mut policy, |_| {}).unwrap();
    (
        end.summary.episode_return,
        end.final_x,
        end.summary.success,
        end.fell,
    )
}

#[test]
fn scripted_gait_is_stopped_by_tall_stumps() {
    for seed in 0..3 {
        let (ret, x, success, _) = scripted(&[3.0, 6.0], seed);
        assert!(
            !success && ret < MASTERY_THRESHOLD,
            "seed {seed}: return {ret:.1}"
        );
        // The first stump stands at the end of the start pad, 9.3 m.
        assert!(
            x < 10.0,
            "seed {seed}: got past the first stump to {x:.1} m"
        );
    }
}

#[test]
fn scripted_gait_walks_a_flat_track_without_falling() {
    for seed in 0..4 {
        let (ret, x, _, fell) = scripted(&[0.0, 6.0], seed);
        assert!(!fell, "seed {seed}: fell at {x:.1} m");
        // The tuned gait walks ≈ 2.3 m/s and reaches the end on seeds 0–5 with return ≥ 256.
        assert!(
            x > 70.0 && ret > 180.0,
            "seed {seed}: {x:.1} m, return {ret:.1}"
        );
    }
}

#[test]
fn scripted_gait_masters_a_flat_track() {
    for seed in 0..3 {
        let (ret, x, success, _) = scripted(&[0.0, 6.0], seed);
        assert!(
            ret > MASTERY_THRESHOLD && success,
            "seed {seed}: return {ret:.1}, x {x:.1}"
        );
        assert!(x > TRACK_END_X);
    }
}

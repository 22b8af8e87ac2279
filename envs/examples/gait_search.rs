//! Tunes the scripted gait's parameters with a (1+1) evolution strategy on a flat Stump Track.
//! A development tool: `GaitConfig::default()` holds the best configuration it found.
//!
//! ```sh
//! N=1500 S=1 BODY=classic_bipedal cargo run --release -p teachgym-envs --example gait_search
//! ```
//! `N` = iterations, `S` = search seed, `BODY` = embodiment, `PGS` = velocity iterations.
//! Score = mean return + ½ · worst return over 8 reset seeds; the best configuration is printed
//! with its result over 10 seeds.

use rand::{Rng, SeedableRng};
use teachgym_core::Env;
use teachgym_envs::{walker::GaitConfig, Embodiment, ScriptedWalker, WalkerConfig, WalkerEnv};
fn eval(env: &mut WalkerEnv, g: GaitConfig, seeds: u64, task: &[f64]) -> (f64, f64, f64) {
    let (mut x, mut r, mut minr) = (0.0, 0.0, f64::MAX);
    for seed in 0..seeds {
        let mut w = ScriptedWalker::new(g);
        let (mut obs, _) = env.reset(Some(seed), task).unwrap();
        loop {
            let s = env.step(&w.act(&obs)).unwrap();
            obs = s.obs;
            if let Some(e) = s.info.episode {
                x += env.hull_x().unwrap() as f64;
                r += e.episode_return;
                minr = minr.min(e.episode_return);
                break;
            }
        }
    }
    (x / seeds as f64, r / seeds as f64, minr)
}
fn main() {
    let mut cfg = WalkerConfig::stump_tracks();
    if let Ok(b) = std::env::var("BODY") {
        cfg.body = Embodiment::from_name(&b).unwrap();
    }
    if let Ok(p) = std::env::var("PGS") {
        cfg.physics.pgs_iterations = p.parse().unwrap();
    }
    let mut env = WalkerEnv::new(cfg).unwrap();
    let iters: usize = std::env::var("N")
        .map(|s| s.parse().unwrap())
        .unwrap_or(600);
    let mut rng =
        rand_pcg::Pcg64::seed_from_u64(std::env::var("S").map(|s| s.parse().unwrap()).unwrap_or(1));
    let base = GaitConfig::default();
    let task = [0.0, 6.0];
    let score = |r: (f64, f64, f64)| r.1 + 0.5 * r.2;
    let mut best = (eval(&mut env, base, 8, &task), base);
    println!("base x {:.1} ret {:.1}", best.0 .0, best.0 .1);
    // (1+1) evolution strategy with a success-driven step size.
    let mut sigma = 0.5f32;
    for i in 0..iters {
        let mut g = best.1;
        let mut j = |v: &mut f32, r: f32| {
            let n: f32 = (0..4).map(|_| rng.random_range(-1.0f32..1.0)).sum::<f32>() * 0.87;
            *v += n * r * sigma;
        };
        j(&mut g.target_speed, 0.1);
        j(&mut g.step_angle, 0.3);
        j(&mut g.speed_feedback, 1.0);
        j(&mut g.lean, 0.15);
        j(&mut g.stance_push, 0.3);
        j(&mut g.pitch_gains[0], 2.0);
        j(&mut g.pitch_gains[1], 1.0);
        j(&mut g.stance_knee, 0.3);
        j(&mut g.push_knee, 0.4);
        j(&mut g.lift_knee, 0.4);
        j(&mut g.lift_fraction, 0.3);
        j(&mut g.swing_hip_gains[0], 1.5);
        j(&mut g.swing_hip_gains[1], 0.2);
        j(&mut g.knee_gains[0], 2.0);
        j(&mut g.knee_gains[1], 0.2);
        let mut m = g.min_swing_steps as f32;
        j(&mut m, 8.0);
        g.min_swing_steps = m.max(2.0) as u32;
        let mut m = g.max_swing_steps as f32;
        j(&mut m, 15.0);
        g.max_swing_steps = (m as u32).max(g.min_swing_steps + 1);
        let r = eval(&mut env, g, 8, &task);
        if score(r) > score(best.0) {
            best = (r, g);
            sigma = (sigma * 1.5).min(1.5);
            println!(
                "{i}: x {:.1} ret {:.1} min {:.1} sigma {sigma:.3}",
                r.0, r.1, r.2
            );
        } else {
            sigma = (sigma * 0.93).max(0.02);
        }
    }
    let r = eval(&mut env, best.1, 10, &task);
    println!(
        "best over 10 seeds: x {:.1} mean {:.1} min {:.1}\n{:?}",
        r.0, r.1, r.2, best.1
    );
}

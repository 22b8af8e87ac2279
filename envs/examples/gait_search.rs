//! Random search over the scripted gait's parameters (development tool for calibrating the gait).
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
    let mut env = WalkerEnv::new(cfg).unwrap();
    let iters: usize = std::env::var("N")
        .map(|s| s.parse().unwrap())
        .unwrap_or(600);
    let mut rng =
        rand_pcg::Pcg64::seed_from_u64(std::env::var("S").map(|s| s.parse().unwrap()).unwrap_or(1));
    let base = GaitConfig::default();
    let task = [0.0, 6.0];
    let score = |r: (f64, f64, f64)| r.1 + 0.5 * r.2;
    let mut best = (eval(&mut env, base, 4, &task), base);
    println!("base x {:.1} ret {:.1}", best.0 .0, best.0 .1);
    for i in 0..iters {
        let frac = i as f32 / iters as f32;
        let s = if frac < 0.3 {
            1.0
        } else if frac < 0.7 {
            0.4
        } else {
            0.15
        };
        let mut g = if frac < 0.3 && i % 2 == 0 {
            base
        } else {
            best.1
        };
        let mut j = |v: &mut f32, r: f32| *v += rng.random_range(-r..r) * s;
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
        let r = eval(&mut env, g, 4, &task);
        if score(r) > score(best.0) {
            best = (r, g);
            println!("{i}: x {:.1} ret {:.1} min {:.1}", r.0, r.1, r.2);
        }
    }
    let r = eval(&mut env, best.1, 10, &task);
    println!(
        "best over 10 seeds: x {:.1} mean {:.1} min {:.1}\n{:?}",
        r.0, r.1, r.2, best.1
    );
}

use teachgym_core::Env;
use teachgym_envs::{ScriptedWalker, WalkerConfig, WalkerEnv};
fn main() {
    let mut cfg = WalkerConfig::stump_tracks();
    if let Ok(f) = std::env::var("MF") { cfg.physics.motor_factor = f.parse().unwrap(); }
    if let Ok(f) = std::env::var("IT") { cfg.physics.solver_iterations = f.parse().unwrap(); }
    if let Ok(f) = std::env::var("WS") { cfg.physics.warmstart_joints = f == "1"; }
    let task: Vec<f64> = std::env::var("TASK").unwrap_or("0,6".into()).split(',').map(|x| x.parse().unwrap()).collect();
    let mut env = WalkerEnv::new(cfg).unwrap();
    for seed in 0..5 {
        let mut w = ScriptedWalker::default();
        let (mut obs, _) = env.reset(Some(seed), &task).unwrap();
        loop {
            let s = env.step(&w.act(&obs)).unwrap();
            obs = s.obs;
            if let Some(e) = s.info.episode { println!("seed {seed}: ret {:.1} len {} x {:.1} fell {}", e.episode_return, e.length, env.hull_x().unwrap(), s.reward == -100.0); break; }
        }
    }
}

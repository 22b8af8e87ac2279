use teachgym_core::Env;
use teachgym_envs::{ScriptedWalker, WalkerConfig, WalkerEnv};
fn main() {
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
    let mut w = ScriptedWalker::default();
    let (mut obs, _) = env.reset(Some(0), &[0.0, 6.0]).unwrap();
    let mode = std::env::args().nth(1).unwrap_or_default();
    for t in 0..120 {
        let a = match mode.as_str() { "zero" => [0.0;4], "hip" => [1.0,0.0,1.0,0.0], "kp" => [0.0,1.0,0.0,1.0], "hm" => [-1.0,1.0,-1.0,1.0], "hp" => [1.0,1.0,1.0,1.0], "split" => [1.0,1.0,-1.0,1.0], "km" => [0.0,-1.0,0.0,-1.0], _ => w.act(&obs) };
        let s = env.step(&a).unwrap();
        if t % 4 == 0 {
            println!("{t:3} a={:?} ang={:.3} vx={:.3} vy={:.3} L0: h={:.2} k={:.2} c={} L1: h={:.2} k={:.2} c={} r={:.2} x={:.2}",
                a.map(|v| (v*100.0).round()/100.0), s.obs[0], s.obs[2], s.obs[3], s.obs[4], s.obs[6], s.obs[8], s.obs[9], s.obs[11], s.obs[13], s.reward, env.hull_x().unwrap());
        }
        obs = s.obs;
        if s.terminated { println!("terminated at {t}"); break; }
    }
}

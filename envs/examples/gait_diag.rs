//! temp diag
use teachgym_core::Env;
use teachgym_envs::{ScriptedWalker, WalkerConfig, WalkerEnv};
fn main() {
    let seed: u64 = std::env::var("SEED").map(|s| s.parse().unwrap()).unwrap_or(0);
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
    let g: teachgym_envs::walker::GaitConfig = serde_json::from_str(&std::fs::read_to_string(std::env::var("START").unwrap()).unwrap()).unwrap();
    let mut w = ScriptedWalker::new(g);
    let (mut obs, _) = env.reset(Some(seed), &[0.0, 6.0]).unwrap();
    let mut abs = [0.0f64; 4];
    let mut n = 0;
    loop {
        let a = w.act(&obs);
        for i in 0..4 { abs[i] += a[i].abs() as f64; }
        n += 1;
        if std::env::var("TRACE").is_ok() && n > var("T0") && n < var("T1") {
            println!("{n} x {:.2} pitch {:.2} vx {:.2} h0 {:.2} k0 {:.2} c0 {} h1 {:.2} k1 {:.2} c1 {} a {:?}",
              env.hull_x().unwrap(), obs[0], obs[2]/0.12, obs[4], obs[6], obs[8], obs[9], obs[11], obs[13],
              a.map(|v| (v*100.0).round()/100.0));
        }
        if n % 100 == 0 { print!("{n}:{:.1} ", env.hull_x().unwrap()); }
        let s = env.step(&a).unwrap();
        obs = s.obs;
        if let Some(e) = s.info.episode {
            println!("x {:.1} ret {:.1} len {} abs/step {:?}", env.hull_x().unwrap(), e.episode_return, n, abs.map(|v| v / n as f64));
            break;
        }
    }
}
fn var(n: &str) -> usize { std::env::var(n).map(|s| s.parse().unwrap()).unwrap_or(0) }

//! Memory of SAC's replay buffer at TeachMyAgent's size: fills a 2M-transition
//! [`BoxReplayBuffer`] with walker-shaped transitions (24-wide observations, 4-wide actions) and
//! prints the bytes it holds and the process's peak resident memory (`VmHWM`).
//!
//! `cargo run --release -p teachgym-students --example replay_memory [CAPACITY]`

use teachgym_students::{BoxReplayBuffer, BoxTransition};

fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let capacity: usize = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 2_000_000,
    };
    let (obs_dim, act_dim) = (24, 4);
    let mut buffer = BoxReplayBuffer::new(capacity, obs_dim, act_dim)?;
    let obs: Vec<f32> = (0..obs_dim).map(|i| i as f32 * 0.01).collect();
    let action = [0.1f32, -0.2, 0.3, -0.4];
    for step in 0..capacity + 10 {
        buffer.push(&BoxTransition {
            obs: &obs,
            action: &action,
            reward: step as f32 * 1e-6,
            next_obs: &obs,
            terminated: step % 1000 == 0,
        })?;
    }
    let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
    println!(
        "{{\"capacity\": {capacity}, \"stored\": {}, \"buffer_mib\": {:.1}, \"peak_resident_mib\": {:.1}}}",
        buffer.len(),
        mib(buffer.memory_bytes() as f64),
        mib(peak_resident_kib().unwrap_or(0) as f64 * 1024.0)
    );
    Ok(())
}

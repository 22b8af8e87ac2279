//! Writes teachgym's built-in Parkour CPPN weights (`envs/data/parkour_cppn_weights.f32le`) by
//! the documented rule, or another draw: `cargo run -p teachgym-envs --example
//! parkour_cppn_weights -- [OUT_PATH] [SEED]`.

use teachgym_envs::walker::{Cppn, BUILTIN_CPPN_SEED};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "envs/data/parkour_cppn_weights.f32le".into());
    let seed = match args.next() {
        Some(s) => s.parse().expect("SEED is an unsigned integer"),
        None => BUILTIN_CPPN_SEED,
    };
    std::fs::write(&out, Cppn::draw(seed).to_bytes())?;
    println!("wrote {out} (seed {seed})");
    Ok(())
}

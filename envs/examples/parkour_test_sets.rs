//! Writes Parkour's walking, swimming and climbing test sets by teachgym's rule (see
//! `teachgym_envs::walker::ParkourSkill`): `cargo run -p teachgym-envs --example
//! parkour_test_sets -- [OUT_DIR]` (default `examples/test_sets`).

use teachgym_envs::walker::ParkourSkill;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/test_sets".into());
    for skill in ParkourSkill::ALL {
        let path = format!("{dir}/parkour_{}.csv", skill.name());
        std::fs::write(&path, skill.csv())?;
        println!("wrote {path}");
    }
    Ok(())
}

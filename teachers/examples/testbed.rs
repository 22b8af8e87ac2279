//! Prints the teacher test-bed table (cells mastered on the toy grids, mean ± std over seeds,
//! one-sided Welch p-value against Random).
//!
//! `cargo run --release -p teachgym-teachers --example testbed -- [episodes] [seeds] [preset] [teachers] [fields]`
//! (defaults: 20000 episodes, teachDeepRL's toy budget, 16 seeds, preset `tma`; preset `tdrl`
//! runs ALP-GMM, Covar-GMM and RIAC with teachDeepRL's original values instead; preset
//! `ek_high` gives every teacher that reads expert knowledge the toy's `high` level, i.e. an
//! initial distribution on the start cell; preset `spdl_toy` runs SPDL with its update schedule
//! scaled to the run (`SpdlConfig::scaled_to_steps(episodes)`: toy episodes last one env step,
//! so the benchmark's 200 000-step offset is never reached in 20 000 episodes), and
//! `spdl_toy_high` does the same with `high` expert knowledge for every teacher; `teachers` is a
//! comma-separated subset of the
//! registered names, e.g. `random,goal_gan`, all of them by default — Random always runs first,
//! as the reference of the p-values; `fields` is a JSON object merged into the config of every
//! teacher but Random, e.g. `'{"zeta": 1.0}'` with `random,spdl`).

use std::time::Instant;

use teachgym_teachers::stats::{mean, std_dev, welch_t_test_greater};
use teachgym_teachers::toys::{testbed_config, testbed_run_with, ToyVariant};
use teachgym_teachers::{
    AlpGmmConfig, CovarGmmConfig, ExpertLevel, RiacConfig, SpdlConfig, TeacherConfig, TEACHER_NAMES,
};

fn config(
    name: &str,
    variant: ToyVariant,
    preset: &str,
    episodes: usize,
) -> Result<serde_json::Value, serde_json::Error> {
    let ek_high = matches!(preset, "ek_high" | "spdl_toy_high");
    let mut value = match (preset, name) {
        ("tdrl", "alp_gmm") => serde_json::to_value(AlpGmmConfig::teach_deep_rl())?,
        ("tdrl", "covar_gmm") => serde_json::to_value(CovarGmmConfig::teach_deep_rl())?,
        ("tdrl", "riac") => serde_json::to_value(RiacConfig::teach_deep_rl())?,
        (_, _) if ek_high => {
            let base = testbed_config(name, &variant.student());
            match TeacherConfig::from_json(name, base.clone()) {
                Ok(mut typed) => match typed.expert_knowledge_mut() {
                    Some(ek) => {
                        *ek = variant.student().expert_knowledge(ExpertLevel::High);
                        let value = serde_json::to_value(&typed)?;
                        value["config"].clone()
                    }
                    None => base,
                },
                Err(_) => base,
            }
        }
        _ => testbed_config(name, &variant.student()),
    };
    if preset.starts_with("spdl_toy") && name == "spdl" {
        let scaled = SpdlConfig::scaled_to_steps(episodes as u64);
        if !value.is_object() {
            value = serde_json::json!({});
        }
        value["update_frequency"] = scaled.update_frequency.into();
        value["update_offset"] = scaled.update_offset.into();
    }
    Ok(value)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let episodes: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let seeds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(16);
    let preset = args.next().unwrap_or_else(|| "tma".into());
    let selected: Vec<&str> = match args.next() {
        Some(list) => {
            let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
            if let Some(unknown) = names.iter().find(|n| !TEACHER_NAMES.contains(&n.as_str())) {
                return Err(format!(
                    "unknown teacher `{unknown}`; known: {}",
                    TEACHER_NAMES.join(", ")
                )
                .into());
            }
            TEACHER_NAMES
                .into_iter()
                .filter(|&n| n == "random" || names.iter().any(|m| m == n))
                .collect()
        }
        None => TEACHER_NAMES.to_vec(),
    };
    let fields: Option<serde_json::Value> =
        args.next().map(|a| serde_json::from_str(&a)).transpose()?;
    println!(
        "{episodes} episodes, {seeds} seeds (0..{seeds}), preset {preset}, teachers {}{}\n",
        selected.join(", "),
        fields
            .as_ref()
            .map(|f| format!(", extra fields {f}"))
            .unwrap_or_default()
    );
    for variant in [ToyVariant::Grid, ToyVariant::MostlyUnlearnable] {
        let learnable = variant.student().learnable_cell_count();
        println!("### {variant:?} ({learnable} learnable cells)\n");
        println!("| teacher | cells mastered (mean ± std) | min–max | p (> random, Welch) | wall time / run |");
        println!("|---|---|---|---|---|");
        let mut random_scores = Vec::new();
        for &name in &selected {
            let start = Instant::now();
            let scores: Vec<f64> = (0..seeds)
                .map(|seed| {
                    let mut config = config(name, variant, &preset, episodes)?;
                    if let (Some(serde_json::Value::Object(extra)), true) =
                        (&fields, name != "random")
                    {
                        if !config.is_object() {
                            config = serde_json::json!({});
                        }
                        if let serde_json::Value::Object(target) = &mut config {
                            target.extend(extra.clone());
                        }
                    }
                    Ok(testbed_run_with(name, config, variant, seed, episodes)? as f64)
                })
                .collect::<Result<_, Box<dyn std::error::Error>>>()?;
            let per_run = start.elapsed().as_secs_f64() / seeds as f64;
            if name == "random" {
                random_scores = scores.clone();
            }
            let p = if name == "random" {
                "—".to_string()
            } else {
                // Below ~1e-16, `1 − cdf` is rounding noise: report the bound, not a fake 0.
                let p = welch_t_test_greater(&scores, &random_scores).p_value;
                if p < 1e-15 {
                    "< 1e-15".to_string()
                } else {
                    format!("{p:.2e}")
                }
            };
            let (lo, hi) = scores
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            println!(
                "| {name} | {:.1} ± {:.1} | {lo}–{hi} | {p} | {:.0} ms |",
                mean(&scores),
                std_dev(&scores),
                per_run * 1e3
            );
        }
        println!();
    }
    Ok(())
}

//! Prints the teacher test-bed table (cells mastered on the toy grids, mean ± std over seeds,
//! one-sided Welch p-value against Random).
//!
//! `cargo run --release -p teachgym-teachers --example testbed -- [episodes] [seeds] [preset] [teachers]`
//! (defaults: 20000 episodes, teachDeepRL's toy budget, 16 seeds, preset `tma`; preset `tdrl`
//! runs ALP-GMM, Covar-GMM and RIAC with teachDeepRL's original values instead; `teachers` is a
//! comma-separated list of registry names, default all; Random always runs, for the p-values).

use std::time::Instant;

use teachgym_teachers::stats::{mean, std_dev, welch_t_test_greater};
use teachgym_teachers::toys::{testbed_config, testbed_run_with, ToyVariant};
use teachgym_teachers::{AlpGmmConfig, CovarGmmConfig, RiacConfig, TEACHER_NAMES};

fn config(
    name: &str,
    variant: ToyVariant,
    preset: &str,
) -> Result<serde_json::Value, serde_json::Error> {
    Ok(match (preset, name) {
        ("tdrl", "alp_gmm") => serde_json::to_value(AlpGmmConfig::teach_deep_rl())?,
        ("tdrl", "covar_gmm") => serde_json::to_value(CovarGmmConfig::teach_deep_rl())?,
        ("tdrl", "riac") => serde_json::to_value(RiacConfig::teach_deep_rl())?,
        _ => testbed_config(name, &variant.student()),
    })
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
            let wanted: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
            if let Some(unknown) = wanted.iter().find(|n| !TEACHER_NAMES.contains(&n.as_str())) {
                return Err(format!(
                    "unknown teacher `{unknown}`; known: {}",
                    TEACHER_NAMES.join(", ")
                )
                .into());
            }
            TEACHER_NAMES
                .into_iter()
                .filter(|n| *n == "random" || wanted.iter().any(|w| w == n))
                .collect()
        }
        None => TEACHER_NAMES.to_vec(),
    };
    println!("{episodes} episodes, {seeds} seeds (0..{seeds}), preset {preset}\n");
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
                    Ok(testbed_run_with(
                        name,
                        config(name, variant, &preset)?,
                        variant,
                        seed,
                        episodes,
                    )? as f64)
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

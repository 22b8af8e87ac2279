//! Writes a generated web form as HTML pages and PNG sketches: the form at reset, and again
//! after the oracle has filled every field (just before it submits), with a text view of each.
//!
//! ```sh
//! cargo run -p teachgym-envs --example webform_render -- OUT_DIR [SEED] [TASK] [LEVEL]
//! ```
//! `TASK` is 8 comma-separated numbers in [0, 1] (default 0.5 each), `LEVEL` is `semantic`
//! (default) or `widget`. Writes `OUT_DIR/{reset,filled}.{html,png,txt}`.

use std::path::{Path, PathBuf};

use teachgym_core::{Env, RgbFrame};
use teachgym_envs::webform::{InteractionLevel, WebFormConfig, WebFormEnv, TASK_DIMS};

type Error = Box<dyn std::error::Error>;

fn write_png(frame: &RgbFrame, path: &Path) -> Result<(), Error> {
    let mut pixmap = tiny_skia::Pixmap::new(frame.width, frame.height).ok_or("empty frame")?;
    for (dst, src) in pixmap
        .data_mut()
        .chunks_exact_mut(4)
        .zip(frame.data.chunks_exact(3))
    {
        dst[..3].copy_from_slice(src);
        dst[3] = 255;
    }
    pixmap.save_png(path)?;
    Ok(())
}

fn write_both(env: &WebFormEnv, dir: &Path, name: &str) -> Result<(), Error> {
    let html = dir.join(format!("{name}.html"));
    std::fs::write(&html, env.html()?)?;
    let png = dir.join(format!("{name}.png"));
    write_png(&env.render()?, &png)?;
    let text = dir.join(format!("{name}.txt"));
    std::fs::write(&text, env.text_view()?)?;
    println!(
        "wrote {}, {} and {}",
        html.display(),
        png.display(),
        text.display()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .ok_or("usage: webform_render OUT_DIR [SEED] [TASK] [LEVEL]")?,
    );
    let seed: u64 = args.get(1).map_or(Ok(0), |s| s.parse())?;
    let task: Vec<f64> = match args.get(2) {
        Some(s) => s.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![0.5; TASK_DIMS],
    };
    let interaction_level = match args.get(3).map(String::as_str) {
        None | Some("semantic") => InteractionLevel::Semantic,
        Some("widget") => InteractionLevel::Widget,
        Some(other) => {
            return Err(format!("unknown level `{other}`; known: semantic, widget").into())
        }
    };
    std::fs::create_dir_all(&dir)?;
    let mut env = WebFormEnv::new(WebFormConfig {
        interaction_level,
        ..WebFormConfig::default()
    })?;
    let (_, info) = env.reset(Some(seed), &task)?;
    write_both(&env, &dir, "reset")?;
    let optimal = env.optimal_steps().unwrap_or(0);
    // Every step but the last (the Submit) of the oracle's solution.
    for _ in 1..optimal {
        let action = env.oracle_action()?;
        env.step(&action)?;
    }
    write_both(&env, &dir, "filled")?;
    println!(
        "fields {}, pages {}, optimal steps {}",
        info.get("n_fields").unwrap_or(0.0),
        info.get("n_pages").unwrap_or(0.0),
        optimal
    );
    Ok(())
}

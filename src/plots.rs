//! PNG plots of a training run, drawn with `plotters` into a memory buffer and written with the
//! same PNG encoder as the renders: the learning curve (% of the test set mastered against env
//! steps) and the curriculum (the tasks the teacher chose, coloured by time and by return).
//!
//! Text uses the DejaVu Sans font compiled into the binary, so plots look the same on a machine
//! without any installed font.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use teachgym_core::RgbFrame;

use crate::media::write_png;

/// Width of every plot in pixels.
pub const PLOT_WIDTH: u32 = 900;
/// Height of every plot in pixels.
pub const PLOT_HEIGHT: u32 = 500;
const FONT: &str = "sans-serif";

fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // Only fails for a malformed font, and the bytes are a fixed, valid TTF.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Draws into an RGB buffer of `width`×`height` and writes it to `path` as PNG.
fn draw_png(
    path: &Path,
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let mut data = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut data, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    write_png(
        &RgbFrame {
            width,
            height,
            data,
        },
        path,
    )
}

fn plot_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e}")
}

/// Axis range with a margin, never empty.
fn padded(low: f64, high: f64) -> std::ops::Range<f64> {
    if high.partial_cmp(&low) != Some(std::cmp::Ordering::Greater) {
        return low - 1.0..low + 1.0;
    }
    let pad = 0.02 * (high - low);
    low - pad..high + pad
}

/// Learning curve: one `(env steps, % mastered)` point per evaluation.
///
/// # Errors
/// I/O failures writing `path`.
pub fn learning_curve(path: &Path, title: &str, points: &[(u64, f64)]) -> Result<()> {
    draw_png(path, PLOT_WIDTH, PLOT_HEIGHT, |root| {
        let max_step = points.iter().map(|p| p.0).max().unwrap_or(1).max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(padded(0.0, max_step), -2.0..102.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("env steps")
            .y_desc("% of test set mastered")
            .label_style((FONT, 14))
            .x_label_formatter(&|x| format_steps(*x))
            .draw()
            .map_err(plot_error)?;
        let series: Vec<(f64, f64)> = points.iter().map(|&(s, m)| (s as f64, m)).collect();
        chart
            .draw_series(LineSeries::new(
                series.iter().copied(),
                BLUE.stroke_width(2),
            ))
            .map_err(plot_error)?;
        chart
            .draw_series(series.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))
            .map_err(plot_error)?;
        Ok(())
    })
}

fn format_steps(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x.abs() >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// Colour of the `i`-th point of a curriculum plot.
type PointColour<'a> = dyn Fn(usize, &CurriculumPoint) -> RGBColor + 'a;

/// One training episode for the curriculum plot.
#[derive(Debug, Clone, PartialEq)]
pub struct CurriculumPoint {
    /// The first two task dimensions.
    pub task: [f64; 2],
    /// Episode return.
    pub episode_return: f64,
}

/// Curriculum: the tasks of training episodes over the first two task dimensions, left
/// coloured by time (dark = early, yellow = late), right by return (dark = low, yellow =
/// high, the colour scale clipped to `return_range`).
///
/// # Errors
/// I/O failures writing `path`.
pub fn curriculum(
    path: &Path,
    title: &str,
    axis_names: [&str; 2],
    bounds: [(f64, f64); 2],
    points: &[CurriculumPoint],
    return_range: (f64, f64),
) -> Result<()> {
    draw_png(path, 2 * PLOT_WIDTH, PLOT_HEIGHT + 40, |root| {
        let root = root.titled(title, (FONT, 20)).map_err(plot_error)?;
        let panels = root.split_evenly((1, 2));
        let n = points.len().max(2) as f64;
        let by_time = |i: usize, _: &CurriculumPoint| ViridisRGB::get_color(i as f64 / (n - 1.0));
        let (lo, hi) = return_range;
        let by_return = |_: usize, p: &CurriculumPoint| {
            let t = if hi > lo {
                ((p.episode_return - lo) / (hi - lo)).clamp(0.0, 1.0)
            } else {
                0.5
            };
            ViridisRGB::get_color(t)
        };
        let colourings: [(&str, &PointColour); 2] = [
            ("coloured by time (dark = early)", &by_time),
            ("coloured by return (dark = low)", &by_return),
        ];
        for (panel, (caption, colour)) in panels.iter().zip(colourings) {
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, (FONT, 16))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(
                    padded(bounds[0].0, bounds[0].1),
                    padded(bounds[1].0, bounds[1].1),
                )
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc(axis_names[0])
                .y_desc(axis_names[1])
                .label_style((FONT, 14))
                .draw()
                .map_err(plot_error)?;
            chart
                .draw_series(
                    points.iter().enumerate().map(|(i, p)| {
                        Circle::new((p.task[0], p.task[1]), 2, colour(i, p).filled())
                    }),
                )
                .map_err(plot_error)?;
        }
        Ok(())
    })
}

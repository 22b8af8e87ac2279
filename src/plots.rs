//! PNG plots of a training run, drawn with `plotters` into a memory buffer and written with the
//! same PNG encoder as the renders: the learning curve (% of the test set mastered against env
//! steps), the curriculum (the tasks the teacher chose over two task dimensions, coloured by
//! time and by return, each with its colour bar) and, for task spaces of more than two
//! dimensions, the curriculum over every pair of dimensions.
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

/// One evaluation on the test set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationPoint {
    /// Env steps when it was made.
    pub global_step: u64,
    /// % of the test tasks mastered.
    pub mastered_percent: f64,
    /// Mean return over the test tasks.
    pub mean_return: f64,
}

/// Learning curve: left, the % of the test set mastered; right, the mean test return with the
/// env's mastery return as a red line (progress shows there long before tasks are mastered);
/// one point per evaluation.
///
/// # Errors
/// I/O failures writing `path`.
pub fn learning_curve(
    path: &Path,
    title: &str,
    points: &[EvaluationPoint],
    mastery_return: f64,
) -> Result<()> {
    draw_png(path, 2 * PLOT_WIDTH, PLOT_HEIGHT + 40, |root| {
        let root = root.titled(title, (FONT, 20)).map_err(plot_error)?;
        let panels = root.split_evenly((1, 2));
        let max_step = points
            .iter()
            .map(|p| p.global_step)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let returns = points.iter().map(|p| p.mean_return);
        let low = returns.clone().fold(mastery_return, f64::min);
        let high = returns.fold(mastery_return, f64::max);
        let pad = 0.05 * (high - low).max(1e-9);
        type Value = fn(&EvaluationPoint) -> f64;
        let panel_specs: [(String, std::ops::Range<f64>, Option<f64>, Value); 2] = [
            (
                "% of the test set mastered".to_string(),
                -2.0..102.0,
                None,
                |p| p.mastered_percent,
            ),
            (
                format!("mean test return (red: mastery at {mastery_return})"),
                low - pad..high + pad,
                Some(mastery_return),
                |p| p.mean_return,
            ),
        ];
        for (panel, (y_desc, y_range, threshold, value)) in panels.iter().zip(panel_specs) {
            let mut chart = ChartBuilder::on(panel)
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(padded(0.0, max_step), y_range)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc("env steps")
                .y_desc(y_desc)
                .label_style((FONT, 14))
                .x_label_formatter(&|x| format_steps(*x))
                .draw()
                .map_err(plot_error)?;
            if let Some(level) = threshold {
                chart
                    .draw_series(LineSeries::new(
                        [(0.0, level), (max_step, level)],
                        RED.stroke_width(1),
                    ))
                    .map_err(plot_error)?;
            }
            let series: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (p.global_step as f64, value(p)))
                .collect();
            chart
                .draw_series(LineSeries::new(
                    series.iter().copied(),
                    BLUE.stroke_width(2),
                ))
                .map_err(plot_error)?;
            chart
                .draw_series(series.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))
                .map_err(plot_error)?;
        }
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

/// A linear colour scale for the curriculum plots: `low` is drawn dark (viridis' purple),
/// `high` yellow; values outside `[low, high]` take the colour of the nearer end (clipped).
#[derive(Debug, Clone, PartialEq)]
pub struct ColourScale {
    /// Value drawn with the darkest colour.
    pub low: f64,
    /// Value drawn with the brightest colour.
    pub high: f64,
    /// What the colour encodes, written along the colour bar.
    pub label: String,
    /// Tick labels in env steps (`12k`, `1.5M`) instead of plain numbers.
    pub steps: bool,
}

impl ColourScale {
    /// Position of `value` on the scale, in [0, 1] (clipped; 0.5 for an empty scale or NaN).
    pub fn fraction(&self, value: f64) -> f64 {
        let t = (value - self.low) / (self.high - self.low);
        if self.high > self.low && !t.is_nan() {
            t.clamp(0.0, 1.0)
        } else {
            0.5
        }
    }

    /// The colour of `value`.
    pub fn colour(&self, value: f64) -> RGBColor {
        ViridisRGB::get_color(self.fraction(value))
    }

    /// How many of `values` lie outside `[low, high]` (drawn clipped to the end colours).
    pub fn clipped(&self, values: impl IntoIterator<Item = f64>) -> usize {
        values
            .into_iter()
            .filter(|v| *v < self.low || *v > self.high)
            .count()
    }

    fn tick(&self, value: f64) -> String {
        if self.steps {
            format_steps(value)
        } else {
            format_number(value)
        }
    }
}

/// A number for a tick label: at most three significant decimals, no trailing zeros.
fn format_number(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// A vertical colour bar for `scale` filling `area`, its ticks and label on the right. The
/// top and bottom margins line the bar up with the plotting area of a chart drawn beside it.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    scale: &ColourScale,
    margin_top: u32,
    margin_bottom: u32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (low, high) = if scale.high > scale.low {
        (scale.low, scale.high)
    } else {
        (scale.low - 1.0, scale.low + 1.0)
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(margin_top)
        .margin_bottom(margin_bottom)
        .margin_left(4)
        .margin_right(4)
        .set_label_area_size(LabelAreaPosition::Right, 64)
        .build_cartesian_2d(0.0..1.0, low..high)
        .map_err(plot_error)?;
    const STRIPES: usize = 256;
    let step = (high - low) / STRIPES as f64;
    chart
        .draw_series((0..STRIPES).map(|i| {
            let from = low + i as f64 * step;
            // The end stripes have exactly the end colours.
            let value = low + (high - low) * i as f64 / (STRIPES - 1) as f64;
            Rectangle::new(
                [(0.0, from), (1.0, from + step)],
                scale.colour(value).filled(),
            )
        }))
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_desc(scale.label.as_str())
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .y_label_formatter(&|v| scale.tick(*v))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// A task dimension as the curriculum plots show it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotDim {
    /// The dimension's name, the axis label.
    pub name: String,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl PlotDim {
    /// A dimension the teacher cannot vary (`low == high`).
    pub fn is_fixed(&self) -> bool {
        self.high <= self.low
    }

    fn range(&self) -> std::ops::Range<f64> {
        padded(self.low, self.high)
    }
}

/// One training episode for the curriculum plots.
#[derive(Debug, Clone, PartialEq)]
pub struct CurriculumPoint {
    /// The task, one value per dimension.
    pub task: Vec<f64>,
    /// Env steps of the run when the episode ended.
    pub global_step: u64,
    /// Episode return.
    pub episode_return: f64,
}

/// Most dimensions [`curriculum_pairs`] draws (8 dimensions: 28 pairs).
pub const MAX_PAIR_DIMS: usize = 8;

/// The time scale of a curriculum plot: env steps from 0 to the last episode's.
pub fn time_scale(points: &[CurriculumPoint]) -> ColourScale {
    ColourScale {
        low: 0.0,
        high: points.iter().map(|p| p.global_step).max().unwrap_or(0) as f64,
        label: "env steps when the episode ended".into(),
        steps: true,
    }
}

/// The colour-bar label of the return scale: its range and, when some returns fall outside
/// it, how many were clipped.
pub fn return_label(scale: &ColourScale, points: &[CurriculumPoint]) -> String {
    let clipped = scale.clipped(points.iter().map(|p| p.episode_return));
    let mut label = format!(
        "episode return, {} to {}",
        format_number(scale.low),
        format_number(scale.high)
    );
    if clipped > 0 {
        label.push_str(&format!(" ({clipped} of {} clipped)", points.len()));
    }
    label
}

/// The value of an episode a curriculum panel colours it by.
type PointValue = dyn Fn(&CurriculumPoint) -> f64;

/// Curriculum: the tasks of training episodes over two task dimensions, `dims[pair.0]` across
/// and `dims[pair.1]` up (a task space of one dimension passes `None`), left coloured by the
/// env step at which each episode ended, right by its return on `return_scale`, each panel
/// with its colour bar.
///
/// # Errors
/// I/O failures writing `path`.
pub fn curriculum(
    path: &Path,
    title: &str,
    dims: &[PlotDim],
    pair: (usize, Option<usize>),
    points: &[CurriculumPoint],
    return_scale: &ColourScale,
) -> Result<()> {
    const BAR_WIDTH: u32 = 120;
    const MARGIN: u32 = 12;
    const X_LABELS: u32 = 45;
    let time = time_scale(points);
    let returns = ColourScale {
        label: return_label(return_scale, points),
        ..return_scale.clone()
    };
    let x = &dims[pair.0];
    let none = PlotDim {
        name: "(no second dimension)".into(),
        low: 0.0,
        high: 0.0,
    };
    let y = pair.1.map_or(&none, |i| &dims[i]);
    let coords = |p: &CurriculumPoint| (p.task[pair.0], pair.1.map_or(0.0, |i| p.task[i]));
    draw_png(path, 2 * PLOT_WIDTH, PLOT_HEIGHT + 40, |root| {
        let root = root.titled(title, (FONT, 20)).map_err(plot_error)?;
        let panels = root.split_evenly((1, 2));
        let colourings: [(&str, &ColourScale, &PointValue); 2] = [
            ("coloured by time", &time, &|p| p.global_step as f64),
            ("coloured by return", &returns, &|p| p.episode_return),
        ];
        for (panel, (caption, scale, value)) in panels.iter().zip(colourings) {
            let (plot, bar) = panel.split_horizontally(panel.dim_in_pixel().0 - BAR_WIDTH);
            let mut chart = ChartBuilder::on(&plot)
                .caption(caption, (FONT, 16))
                .margin(MARGIN)
                .x_label_area_size(X_LABELS)
                .y_label_area_size(60)
                .build_cartesian_2d(x.range(), y.range())
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc(x.name.as_str())
                .y_desc(y.name.as_str())
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .draw()
                .map_err(plot_error)?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new(coords(p), 2, scale.colour(value(p)).filled())),
                )
                .map_err(plot_error)?;
            // The bar spans the plotting area's height: the caption above it, the x labels
            // below.
            let (_, plot_top) = chart.plotting_area().get_base_pixel();
            let (_, panel_top) = plot.get_base_pixel();
            let top = u32::try_from(plot_top - panel_top).unwrap_or(MARGIN);
            colour_bar(&bar, scale, top, X_LABELS + MARGIN)?;
        }
        Ok(())
    })
}

/// Which dimensions [`curriculum_pairs`] draws: the ones the teacher can vary, at most
/// [`MAX_PAIR_DIMS`] of them in task-space order, and a note naming the ones left out (fixed
/// ones and those beyond the cap), empty when none are.
pub fn pair_dims(dims: &[PlotDim]) -> (Vec<usize>, String) {
    let varying: Vec<usize> = (0..dims.len()).filter(|&i| !dims[i].is_fixed()).collect();
    let shown = varying[..varying.len().min(MAX_PAIR_DIMS)].to_vec();
    let names = |indices: &mut dyn Iterator<Item = usize>| {
        indices
            .map(|i| dims[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut notes = Vec::new();
    let fixed = names(&mut (0..dims.len()).filter(|&i| dims[i].is_fixed()));
    if !fixed.is_empty() {
        notes.push(format!("fixed, not shown: {fixed}"));
    }
    let beyond = names(&mut varying[shown.len()..].iter().copied());
    if !beyond.is_empty() {
        notes.push(format!(
            "beyond the first {MAX_PAIR_DIMS}, not shown: {beyond}"
        ));
    }
    (shown, notes.join("; "))
}

/// The curriculum over every pair of the dimensions [`pair_dims`] picks, as a scatter matrix:
/// below the diagonal, the cell in the row of dimension `r` and the column of dimension `c`
/// shows the tasks with `c` across and `r` up, coloured by return on `return_scale` (one shared
/// colour bar); the diagonal names each dimension over a histogram of its values. Draws
/// nothing and returns `false` when fewer than two dimensions vary.
///
/// # Errors
/// I/O failures writing `path`.
pub fn curriculum_pairs(
    path: &Path,
    title: &str,
    dims: &[PlotDim],
    points: &[CurriculumPoint],
    return_scale: &ColourScale,
) -> Result<bool> {
    const BAR_WIDTH: u32 = 130;
    const MARGIN: u32 = 4;
    const X_LABELS: u32 = 22;
    const Y_LABELS: u32 = 40;
    const HEADER: u32 = 64;
    const BINS: usize = 20;
    let (shown, note) = pair_dims(dims);
    let k = shown.len();
    if k < 2 {
        return Ok(false);
    }
    let returns = ColourScale {
        label: return_label(return_scale, points),
        ..return_scale.clone()
    };
    let cell = (1400 / k as u32).clamp(170, 320);
    // Small cells: points of one pixel's radius once there are many.
    let radius = if points.len() > 2000 { 1 } else { 2 };
    let grid = k as u32 * cell;
    let subtitle = if note.is_empty() {
        "below the diagonal: x = the column's dimension, y = the row's, colour = return; \
         diagonal: histogram of each dimension"
            .to_string()
    } else {
        format!("below the diagonal: x = the column's dimension, y = the row's; {note}")
    };
    draw_png(path, grid + BAR_WIDTH + 10, HEADER + grid + 10, |root| {
        let (header, body) = root.split_vertically(HEADER);
        header
            .draw(&Text::new(
                title,
                (10, 8),
                (FONT, 20).into_font().color(&BLACK),
            ))
            .map_err(plot_error)?;
        header
            .draw(&Text::new(
                subtitle.as_str(),
                (10, 38),
                (FONT, 14).into_font().color(&BLACK),
            ))
            .map_err(plot_error)?;
        let (matrix, rest) = body.split_horizontally(grid);
        let (bar, _) = rest.split_vertically(grid);
        let cells = matrix.split_evenly((k, k));
        for (index, area) in cells.iter().enumerate() {
            let (row, col) = (index / k, index % k);
            if col > row {
                continue;
            }
            let (x, y) = (&dims[shown[col]], &dims[shown[row]]);
            let bottom = row == k - 1;
            let builder = &mut ChartBuilder::on(area);
            builder
                .margin(MARGIN)
                .x_label_area_size(X_LABELS)
                .y_label_area_size(Y_LABELS);
            let x_labels = if bottom { 3 } else { 0 };
            if row == col {
                let values: Vec<f64> = points.iter().map(|p| p.task[shown[col]]).collect();
                let counts = histogram(&values, x.low, x.high, BINS);
                let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
                let mut chart = builder
                    .build_cartesian_2d(x.range(), 0.0..1.35 * top)
                    .map_err(plot_error)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(x_labels)
                    .y_labels(0)
                    .label_style((FONT, 11))
                    .draw()
                    .map_err(plot_error)?;
                let width = (x.high - x.low) / BINS as f64;
                chart
                    .draw_series(counts.iter().enumerate().map(|(i, &n)| {
                        let from = x.low + i as f64 * width;
                        Rectangle::new(
                            [(from, 0.0), (from + width, n as f64)],
                            RGBColor(170, 170, 170).filled(),
                        )
                    }))
                    .map_err(plot_error)?;
                // The name in the top left corner of the plotting area, clear of the axis.
                let corner = (MARGIN + Y_LABELS + 4, MARGIN + 2);
                area.draw(&Text::new(
                    x.name.as_str(),
                    (corner.0 as i32, corner.1 as i32),
                    (FONT, 13).into_font().color(&BLACK),
                ))
                .map_err(plot_error)?;
            } else {
                let mut chart = builder
                    .build_cartesian_2d(x.range(), y.range())
                    .map_err(plot_error)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(x_labels)
                    .y_labels(if col == 0 { 3 } else { 0 })
                    .label_style((FONT, 11))
                    .draw()
                    .map_err(plot_error)?;
                chart
                    .draw_series(points.iter().map(|p| {
                        Circle::new(
                            (p.task[shown[col]], p.task[shown[row]]),
                            radius,
                            returns.colour(p.episode_return).filled(),
                        )
                    }))
                    .map_err(plot_error)?;
            }
        }
        colour_bar(&bar, &returns, MARGIN, X_LABELS + MARGIN)?;
        Ok(())
    })?;
    Ok(true)
}

/// Counts of `values` in `bins` equal bins over `[low, high]` (values outside go to the end
/// bins).
fn histogram(values: &[f64], low: f64, high: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    for &v in values {
        let t = if high > low {
            (v - low) / (high - low)
        } else {
            0.0
        };
        let bin = (t * bins as f64).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[bin] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(low: f64, high: f64) -> ColourScale {
        ColourScale {
            low,
            high,
            label: "episode return".into(),
            steps: false,
        }
    }

    #[test]
    fn the_colour_scale_runs_from_dark_at_low_to_yellow_at_high_and_clips() {
        let s = scale(-100.0, 230.0);
        let dark = ViridisRGB::get_color(0.0);
        let yellow = ViridisRGB::get_color(1.0);
        assert_ne!(dark, yellow);
        assert_eq!(s.colour(-100.0), dark);
        assert_eq!(s.colour(230.0), yellow);
        assert_eq!(s.colour(65.0), ViridisRGB::get_color(0.5));
        // Outside the range: the end colours, and counted as clipped.
        assert_eq!(s.colour(-1e6), dark);
        assert_eq!(s.colour(400.0), yellow);
        assert_eq!(s.clipped([-101.0, -100.0, 0.0, 230.0, 231.0]), 2);
        // Web forms: returns in [-1, 1] spread over the whole scale, not one colour.
        let forms = scale(-1.0, 1.0);
        assert_eq!(forms.fraction(-1.0), 0.0);
        assert_eq!(forms.fraction(0.0), 0.5);
        assert_eq!(forms.fraction(1.0), 1.0);
        // An empty scale or NaN: the middle colour, never a panic.
        assert_eq!(scale(1.0, 1.0).fraction(1.0), 0.5);
        assert_eq!(s.fraction(f64::NAN), 0.5);
    }

    fn point(task: Vec<f64>, global_step: u32, episode_return: f64) -> CurriculumPoint {
        CurriculumPoint {
            task,
            global_step: global_step.into(),
            episode_return,
        }
    }

    #[test]
    fn the_return_label_gives_the_range_and_the_clipped_count() {
        let s = scale(-1.0, 1.0);
        let inside = [point(vec![0.0], 1, 0.5)];
        assert_eq!(return_label(&s, &inside), "episode return, -1 to 1");
        let outside = [point(vec![0.0], 1, 0.5), point(vec![0.0], 2, -3.0)];
        assert_eq!(
            return_label(&s, &outside),
            "episode return, -1 to 1 (1 of 2 clipped)"
        );
        assert_eq!(format_number(-0.0001), "0");
        assert_eq!(format_number(230.0), "230");
        assert_eq!(format_number(0.25), "0.25");
    }

    fn dims(n: usize, fixed: &[usize]) -> Vec<PlotDim> {
        (0..n)
            .map(|i| PlotDim {
                name: format!("d{i}"),
                low: 0.0,
                high: if fixed.contains(&i) { 0.0 } else { 1.0 },
            })
            .collect()
    }

    #[test]
    fn the_pairwise_view_shows_the_varying_dimensions_up_to_the_cap_and_names_the_rest() {
        let (shown, note) = pair_dims(&dims(12, &[1]));
        assert_eq!(shown, vec![0, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            note,
            "fixed, not shown: d1; beyond the first 8, not shown: d9, d10, d11"
        );
        let (shown, note) = pair_dims(&dims(3, &[]));
        assert_eq!(shown, vec![0, 1, 2]);
        assert_eq!(note, "");
    }

    /// The pixels of a PNG the plots wrote, row by row, and its width.
    fn read_rgb(path: &Path) -> (Vec<[u8; 3]>, usize) {
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let mut reader = png::Decoder::new(file).read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut data).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels = data[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        (pixels, info.width as usize)
    }

    /// Whether `colour` occurs in the columns `columns` of the image.
    fn has(
        (pixels, width): &(Vec<[u8; 3]>, usize),
        columns: std::ops::Range<usize>,
        colour: RGBColor,
    ) -> bool {
        pixels
            .chunks(*width)
            .any(|row| row[columns.clone()].contains(&[colour.0, colour.1, colour.2]))
    }

    #[test]
    fn curriculum_plots_draw_colour_bars_with_both_ends_of_the_scale() {
        let dir = std::env::temp_dir().join(format!("teachgym-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Every return in the middle of the scale and no episode at step 0: only the colour
        // bars can hold the scales' ends (the last episode is yellow on the time scale).
        let points: Vec<CurriculumPoint> = (0..50)
            .map(|i| point(vec![0.02 * f64::from(i), 0.5, 0.3], 100 + 10 * i, 0.0))
            .collect();
        let (low, high) = (ViridisRGB::get_color(0.0), ViridisRGB::get_color(1.0));
        let s = scale(-1.0, 1.0);
        let d = dims(3, &[]);
        let path = dir.join("curriculum.png");
        curriculum(&path, "test", &d, (0, Some(2)), &points, &s).unwrap();
        let image = read_rgb(&path);
        let half = image.1 / 2;
        assert!(has(&image, 0..half, low), "no time bar");
        assert!(has(&image, half..image.1, low), "no return bar's low end");
        assert!(has(&image, half..image.1, high), "no return bar's high end");
        let pairs = dir.join("pairs.png");
        assert!(curriculum_pairs(&pairs, "test", &d, &points, &s).unwrap());
        let image = read_rgb(&pairs);
        assert!(has(&image, 0..image.1, low), "no return bar's low end");
        assert!(has(&image, 0..image.1, high), "no return bar's high end");
        // Fewer than two varying dimensions: no pairwise view.
        let none = dir.join("none.png");
        assert!(!curriculum_pairs(&none, "test", &dims(3, &[1, 2]), &points, &s).unwrap());
        assert!(!none.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// One curve of [`mean_curves`]: `(x, mean, sem)` per point.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveSeries {
    /// Legend text.
    pub label: String,
    /// `(env steps, mean, standard error)` per evaluation.
    pub points: Vec<(f64, f64, f64)>,
}

/// A colour per series, the same series index always the same colour.
fn series_colour(i: usize) -> RGBColor {
    let c = Palette99::pick(i).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

/// Benchmark curves: the % of the test set mastered against env steps, one line per series
/// with a shaded band of ± one standard error.
///
/// # Errors
/// I/O failures writing `path`.
pub fn mean_curves(path: &Path, title: &str, series: &[CurveSeries]) -> Result<()> {
    draw_png(path, PLOT_WIDTH + 200, PLOT_HEIGHT + 60, |root| {
        let root = root.titled(title, (FONT, 18)).map_err(plot_error)?;
        let max_step = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(padded(0.0, max_step), -2.0..102.0)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("env steps")
            .y_desc("% of the test set mastered")
            .label_style((FONT, 14))
            .x_label_formatter(&|x| format_steps(*x))
            .draw()
            .map_err(plot_error)?;
        for (i, s) in series.iter().enumerate() {
            let colour = series_colour(i);
            let band: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|&(x, m, e)| (x, m + e))
                .chain(s.points.iter().rev().map(|&(x, m, e)| (x, m - e)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    colour.mix(0.2).filled(),
                )))
                .map_err(plot_error)?;
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|&(x, m, _)| (x, m)),
                    colour.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        Ok(())
    })
}

/// One teacher of a [`RadarPanel`]: its value (and star) on each axis; NaN = no value.
#[derive(Debug, Clone, PartialEq)]
pub struct RadarSeries {
    /// Legend text.
    pub label: String,
    /// `(ratio, starred)` per axis.
    pub values: Vec<(f64, bool)>,
}

/// One panel of [`radar`].
#[derive(Debug, Clone, PartialEq)]
pub struct RadarPanel {
    /// Panel title.
    pub title: String,
    /// One polygon per series.
    pub series: Vec<RadarSeries>,
}

/// TeachMyAgent's radar chart: one panel per expert-knowledge level, one axis per cell, one
/// polygon per teacher (its ratio to Random along each axis, `*` where significant), rings at
/// each whole ratio with Random's ring (1) in red.
///
/// # Errors
/// I/O failures writing `path`.
pub fn radar(path: &Path, title: &str, axes: &[String], panels: &[RadarPanel]) -> Result<()> {
    let side = 560;
    let width = side * panels.len().max(1) as u32;
    let max_ratio = panels
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|s| s.values.iter().map(|v| v.0)))
        .filter(|v| v.is_finite())
        .fold(2.0, f64::max)
        .ceil();
    draw_png(path, width, side + 40, |root| {
        let root = root.titled(title, (FONT, 18)).map_err(plot_error)?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (area, panel) in areas.iter().zip(panels) {
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, (FONT, 16))
                .margin(10)
                .build_cartesian_2d(-1.45..1.45, -1.35..1.35)
                .map_err(plot_error)?;
            let n = axes.len().max(1);
            // Axis k points up, then clockwise.
            let at = |k: usize, r: f64| {
                let angle =
                    std::f64::consts::FRAC_PI_2 - 2.0 * std::f64::consts::PI * k as f64 / n as f64;
                (r * angle.cos(), r * angle.sin())
            };
            let scale = |ratio: f64| ratio.max(0.0) / max_ratio;
            for ring in 1..=max_ratio as usize {
                let r = scale(ring as f64);
                let colour = if ring == 1 {
                    RED
                } else {
                    RGBColor(190, 190, 190)
                };
                let mut ring_points: Vec<(f64, f64)> = (0..n).map(|k| at(k, r)).collect();
                ring_points.push(at(0, r));
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        ring_points,
                        colour.stroke_width(1),
                    )))
                    .map_err(plot_error)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{ring}"),
                        (0.02, r + 0.01),
                        (FONT, 12).into_font().color(&RGBColor(120, 120, 120)),
                    )))
                    .map_err(plot_error)?;
            }
            for (k, name) in axes.iter().enumerate() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        [(0.0, 0.0), at(k, 1.0)],
                        RGBColor(190, 190, 190).stroke_width(1),
                    )))
                    .map_err(plot_error)?;
                let (x, y) = at(k, 1.08);
                let anchor = if x < -0.1 {
                    plotters::style::text_anchor::HPos::Right
                } else if x > 0.1 {
                    plotters::style::text_anchor::HPos::Left
                } else {
                    plotters::style::text_anchor::HPos::Center
                };
                let style = (FONT, 14).into_font().into_text_style(area).pos(
                    plotters::style::text_anchor::Pos::new(
                        anchor,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                );
                chart
                    .draw_series(std::iter::once(Text::new(name.clone(), (x, y), style)))
                    .map_err(plot_error)?;
            }
            for (i, s) in panel.series.iter().enumerate() {
                let colour = series_colour(i);
                let mut points: Vec<(f64, f64)> = s
                    .values
                    .iter()
                    .enumerate()
                    .map(|(k, v)| at(k, if v.0.is_finite() { scale(v.0) } else { 0.0 }))
                    .collect();
                if let Some(&first) = points.first() {
                    points.push(first);
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        points.clone(),
                        colour.stroke_width(2),
                    )))
                    .map_err(plot_error)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
                for (k, v) in s.values.iter().enumerate() {
                    if v.1 && v.0.is_finite() {
                        let (x, y) = at(k, scale(v.0));
                        chart
                            .draw_series(std::iter::once(Text::new(
                                "*",
                                (x, y),
                                (FONT, 22).into_font().color(&colour),
                            )))
                            .map_err(plot_error)?;
                    }
                }
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font((FONT, 12))
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(plot_error)?;
        }
        Ok(())
    })
}

//! Writing frames to disk: single PNG images and animated GIFs, and the caption the command line
//! puts on the frames of an episode (the envs' own `render()` stays caption-free).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use teachgym_core::{RgbFrame, TaskSpace};
use teachgym_envs::text::{text_width, Canvas, Rect};

/// Text size of a caption (pixels).
const CAPTION_SIZE: u16 = 12;
/// Height of a caption line (pixels).
const CAPTION_LINE_H: i32 = 15;
/// Gap between a caption's box and the frame's edges, and between the box and its text (pixels).
const CAPTION_MARGIN: i32 = 6;
/// Frames narrower than this (pixels) get no caption: it would hide them (the point mass's and
/// the grid world's 64-pixel frames).
pub const CAPTION_MIN_WIDTH: u32 = 200;

/// Writes where an episode is onto its frame, in the bottom-left corner (below a walker's
/// ground line, and below the rows of most web-form pages): `step N  return R` and the task as
/// `name=value` pairs, wrapped to the frame's width, white on a translucent dark box so it reads
/// on any background. Frames narrower than [`CAPTION_MIN_WIDTH`] are left as they are.
pub fn caption(
    frame: &mut RgbFrame,
    step: u32,
    episode_return: f64,
    space: &TaskSpace,
    task: &[f64],
) {
    if frame.width < CAPTION_MIN_WIDTH {
        return;
    }
    let max_w = frame.width as i32 - 4 * CAPTION_MARGIN;
    let mut lines = vec![format!("step {step}   return {episode_return:.1}")];
    let mut current = String::new();
    for (name, value) in space.names().iter().zip(task) {
        let pair = format!("{name}={value:.2}");
        let joined = format!("{current}  {pair}");
        if current.is_empty() {
            current = pair;
        } else if text_width(&joined, CAPTION_SIZE) <= max_w {
            current = joined;
        } else {
            lines.push(std::mem::replace(&mut current, pair));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let text_w = lines
        .iter()
        .map(|l| text_width(l, CAPTION_SIZE))
        .max()
        .unwrap_or(0)
        .min(max_w);
    let h = lines.len() as i32 * CAPTION_LINE_H + CAPTION_MARGIN;
    let panel = Rect::new(
        CAPTION_MARGIN,
        frame.height as i32 - CAPTION_MARGIN - h,
        text_w + 2 * CAPTION_MARGIN,
        h,
    );
    let mut canvas = Canvas::new(frame);
    canvas.shade(panel, [0, 0, 0], 150);
    for (i, line) in lines.iter().enumerate() {
        let r = Rect::new(
            panel.x + CAPTION_MARGIN,
            panel.y + CAPTION_MARGIN / 2 + i as i32 * CAPTION_LINE_H,
            text_w,
            CAPTION_LINE_H,
        );
        canvas.text(r, line, CAPTION_SIZE, [255, 255, 255]);
    }
}

/// Writes one frame as an 8-bit RGB PNG.
///
/// # Errors
/// I/O or encoding failures, with the path in the message.
pub fn write_png(frame: &RgbFrame, path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), frame.width, frame.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("cannot write PNG header to {}", path.display()))?;
    writer
        .write_image_data(&frame.data)
        .with_context(|| format!("cannot write PNG data to {}", path.display()))?;
    Ok(())
}

/// Streams frames into an animated GIF.
pub struct GifWriter {
    encoder: gif::Encoder<BufWriter<File>>,
    delay_cs: u16,
    width: u16,
    height: u16,
}

impl GifWriter {
    /// Opens `path` for a `width`×`height` animation shown at `fps` frames per second (looping).
    ///
    /// # Errors
    /// I/O failures or a frame size above 65535 pixels.
    pub fn create(path: &Path, width: u32, height: u32, fps: f32) -> Result<Self> {
        let width = u16::try_from(width).context("GIF width must fit in 16 bits")?;
        let height = u16::try_from(height).context("GIF height must fit in 16 bits")?;
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut encoder = gif::Encoder::new(BufWriter::new(file), width, height, &[])
            .with_context(|| format!("cannot start GIF {}", path.display()))?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        Ok(Self {
            encoder,
            delay_cs: (100.0 / fps.max(1.0)).round() as u16,
            width,
            height,
        })
    }

    /// Appends a frame (quantised to a 256-colour palette).
    ///
    /// # Errors
    /// A frame of another size, or an I/O failure.
    pub fn push(&mut self, frame: &RgbFrame) -> Result<()> {
        anyhow::ensure!(
            frame.width == u32::from(self.width) && frame.height == u32::from(self.height),
            "frame is {}x{} but the GIF is {}x{}",
            frame.width,
            frame.height,
            self.width,
            self.height
        );
        // Speed 10 of 30: good enough palettes for flat-shaded scenes at a few ms per frame.
        let mut f = gif::Frame::from_rgb_speed(self.width, self.height, &frame.data, 10);
        f.delay = self.delay_cs;
        self.encoder.write_frame(&f)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teachgym_core::TaskDim;

    fn sky(width: u32, height: u32) -> RgbFrame {
        RgbFrame {
            width,
            height,
            data: [215, 215, 255].repeat((width * height) as usize),
        }
    }

    #[test]
    fn caption_stays_in_its_corner_and_shows_the_step() {
        let space = TaskSpace::new(vec![
            TaskDim::new("stump_height", 0.0, 3.0, ""),
            TaskDim::new("obstacle_spacing", 0.0, 6.0, ""),
        ])
        .unwrap();
        let clean = sky(600, 400);
        let mut a = clean.clone();
        caption(&mut a, 12, 35.25, &space, &[1.2, 3.0]);
        let mut b = clean.clone();
        caption(&mut b, 13, 35.25, &space, &[1.2, 3.0]);
        assert_ne!(a, b, "the step is not drawn");
        let mut again = clean.clone();
        caption(&mut again, 12, 35.25, &space, &[1.2, 3.0]);
        assert_eq!(a, again);
        // Only the bottom-left corner changes: a box at most half the width and 2 lines tall.
        for (p, (new, old)) in a.data.chunks(3).zip(clean.data.chunks(3)).enumerate() {
            if new != old {
                let (x, y) = (p as u32 % 600, p as u32 / 600);
                assert!(
                    x < 300 && y >= 400 - 2 * 15 - 3 * 6,
                    "pixel ({x}, {y}) changed"
                );
            }
        }
        // Tiny frames are left alone.
        let mut tiny = sky(64, 64);
        caption(&mut tiny, 1, 0.0, &space, &[1.2, 3.0]);
        assert_eq!(tiny, sky(64, 64));
    }
}

//! Writing frames to disk: single PNG images and animated GIFs.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use teachgym_core::RgbFrame;

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

//! Boxes and text on an [`RgbFrame`]: what the web form's raster view and the command line's
//! frame captions draw with.
//!
//! Text is DejaVu Sans (compiled in, so frames look the same on a machine without fonts),
//! rasterised by `ab_glyph` at whole pixel sizes and cached per (character, size): drawing a
//! string costs a lookup and an alpha blend per glyph. Glyphs sit at whole pixels and coverage is
//! blended with integer arithmetic, so the same calls give the same bytes. Every draw is clipped
//! to its box; text that does not fit is cut at a character and ends in `…`.
//!
//! An outline font rather than a bitmap one: the form's words need to read at a glance, at more
//! than one size, and DejaVu is already a dependency of the command line's plots.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use teachgym_core::RgbFrame;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// An axis-aligned box in pixels: top-left corner, width and height (empty when either is ≤ 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
}

impl Rect {
    /// The box at `(x, y)` of size `w`×`h`.
    pub const fn new(x: i32, y: i32, w: i32, h: i32) -> Self {
        Self { x, y, w, h }
    }

    /// The box shrunk by `d` pixels on every side.
    pub const fn inset(self, d: i32) -> Self {
        Self::new(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)
    }

    /// Right edge (exclusive).
    pub const fn right(self) -> i32 {
        self.x + self.w
    }

    /// Bottom edge (exclusive).
    pub const fn bottom(self) -> i32 {
        self.y + self.h
    }

    /// Whether the pixel `(x, y)` lies inside.
    pub const fn contains(self, x: i32, y: i32) -> bool {
        x >= self.x && x < self.right() && y >= self.y && y < self.bottom()
    }
}

/// One rasterised glyph: coverage (0–255) of a `w`×`h` box whose top-left corner is
/// `(left, top)` from the pen position on the baseline.
struct Glyph {
    id: GlyphId,
    left: i32,
    top: i32,
    w: i32,
    h: i32,
    coverage: Vec<u8>,
    advance: f32,
}

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(dejavu::sans::regular()).expect("DejaVu Sans is a valid font")
    })
}

/// Glyphs by (character, pixel size), rasterised on first use.
type GlyphCache = HashMap<(char, u16), Glyph>;

fn with_glyphs<T>(f: impl FnOnce(&mut GlyphCache) -> T) -> T {
    static CACHE: OnceLock<Mutex<GlyphCache>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut cache)
}

fn glyph(cache: &mut GlyphCache, c: char, size: u16) -> &Glyph {
    cache.entry((c, size)).or_insert_with(|| {
        let font = font();
        let scaled = font.as_scaled(PxScale::from(f32::from(size)));
        let id = font.glyph_id(c);
        let advance = scaled.h_advance(id);
        let outlined = font.outline_glyph(
            id.with_scale_and_position(PxScale::from(f32::from(size)), point(0.0, 0.0)),
        );
        let Some(outlined) = outlined else {
            // A space: nothing to draw.
            return Glyph {
                id,
                left: 0,
                top: 0,
                w: 0,
                h: 0,
                coverage: Vec::new(),
                advance,
            };
        };
        let bounds = outlined.px_bounds();
        let (w, h) = (bounds.width() as i32, bounds.height() as i32);
        let mut coverage = vec![0u8; (w * h).max(0) as usize];
        outlined.draw(|x, y, c| {
            let (x, y) = (x as i32, y as i32);
            if x < w && y < h {
                coverage[(y * w + x) as usize] = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        });
        Glyph {
            id,
            left: bounds.min.x as i32,
            top: bounds.min.y as i32,
            w,
            h,
            coverage,
            advance,
        }
    })
}

/// Pen offsets of each character of `text` at `size` pixels (kerning included), and the total
/// advance.
fn layout(cache: &mut GlyphCache, text: &str, size: u16) -> (Vec<(char, f32)>, f32) {
    let scaled = font().as_scaled(PxScale::from(f32::from(size)));
    let mut pen = 0.0f32;
    let mut previous: Option<GlyphId> = None;
    let mut placed = Vec::with_capacity(text.len());
    for c in text.chars() {
        let g = glyph(cache, c, size);
        if let Some(p) = previous {
            pen += scaled.kern(p, g.id);
        }
        placed.push((c, pen));
        pen += g.advance;
        previous = Some(g.id);
    }
    (placed, pen)
}

/// Width in pixels of `text` drawn at `size` pixels.
pub fn text_width(text: &str, size: u16) -> i32 {
    with_glyphs(|cache| layout(cache, text, size).1.ceil() as i32)
}

/// Height of a line of text at `size` pixels (ascent to descent), and the baseline's distance
/// from the line's top.
fn line_metrics(size: u16) -> (i32, i32) {
    let scaled = font().as_scaled(PxScale::from(f32::from(size)));
    let ascent = scaled.ascent().round() as i32;
    let descent = scaled.descent().round() as i32;
    (ascent - descent, ascent)
}

/// Drawing on a frame. Everything is clipped to the frame.
pub struct Canvas<'a> {
    frame: &'a mut RgbFrame,
}

impl<'a> Canvas<'a> {
    /// Draws on `frame`.
    pub fn new(frame: &'a mut RgbFrame) -> Self {
        Self { frame }
    }

    /// The whole frame as a box.
    pub fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.frame.width as i32, self.frame.height as i32)
    }

    /// Blends `rgb` over `r` with opacity `alpha` (0 = invisible, 255 = opaque).
    pub fn shade(&mut self, r: Rect, rgb: Rgb, alpha: u8) {
        let bounds = self.bounds();
        let (x0, y0) = (r.x.max(0), r.y.max(0));
        let (x1, y1) = (r.right().min(bounds.w), r.bottom().min(bounds.h));
        let a = u32::from(alpha);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = ((y * bounds.w + x) * 3) as usize;
                for (dst, &src) in self.frame.data[i..i + 3].iter_mut().zip(&rgb) {
                    *dst = blend(*dst, src, a);
                }
            }
        }
    }

    /// Fills `r` with `rgb`.
    pub fn fill(&mut self, r: Rect, rgb: Rgb) {
        self.shade(r, rgb, 255);
    }

    /// Fills `r` with `fill` inside a one-pixel `border`.
    pub fn outlined(&mut self, r: Rect, fill: Rgb, border: Rgb) {
        self.fill(r, border);
        self.fill(r.inset(1), fill);
    }

    /// Fills the disc inscribed in `r` (a square box gives a circle) with `rgb`.
    pub fn disc(&mut self, r: Rect, rgb: Rgb) {
        // Twice the coordinates, so the centre of an even box is a whole number.
        let (cx, cy) = (2 * r.x + r.w - 1, 2 * r.y + r.h - 1);
        let (rx, ry) = (r.w.max(1), r.h.max(1));
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                let (dx, dy) = (2 * x - cx, 2 * y - cy);
                if dx * dx * ry * ry + dy * dy * rx * rx <= rx * rx * ry * ry {
                    self.fill(Rect::new(x, y, 1, 1), rgb);
                }
            }
        }
    }

    /// Draws `text` at `size` pixels, left-aligned and vertically centred in `r`, cut with `…`
    /// to fit `r`'s width and clipped to `r`. Returns the width drawn.
    pub fn text(&mut self, r: Rect, text: &str, size: u16, rgb: Rgb) -> i32 {
        let (line_h, ascent) = line_metrics(size);
        let baseline = r.y + (r.h - line_h) / 2 + ascent;
        let frame_w = self.frame.width as i32;
        let bounds = self.bounds();
        let data = &mut self.frame.data;
        with_glyphs(|cache| {
            let fitted = fit(cache, text, size, r.w);
            let (placed, width) = layout(cache, &fitted, size);
            for (c, pen) in placed {
                let g = glyph(cache, c, size);
                let gx = r.x + pen.round() as i32 + g.left;
                let gy = baseline + g.top;
                for yy in 0..g.h {
                    for xx in 0..g.w {
                        let (x, y) = (gx + xx, gy + yy);
                        let cov = g.coverage[(yy * g.w + xx) as usize];
                        if cov == 0 || !r.contains(x, y) || !bounds.contains(x, y) {
                            continue;
                        }
                        let i = ((y * frame_w + x) * 3) as usize;
                        for (dst, &src) in data[i..i + 3].iter_mut().zip(&rgb) {
                            *dst = blend(*dst, src, u32::from(cov));
                        }
                    }
                }
            }
            (width.ceil() as i32).min(r.w.max(0))
        })
    }

    /// Like [`Canvas::text`], centred horizontally in `r` when it fits.
    pub fn text_centred(&mut self, r: Rect, text: &str, size: u16, rgb: Rgb) -> i32 {
        let w = text_width(text, size);
        let pad = ((r.w - w) / 2).max(0);
        self.text(Rect::new(r.x + pad, r.y, r.w - pad, r.h), text, size, rgb)
    }
}

/// `dst + (src − dst)·a/255`, rounded.
fn blend(dst: u8, src: u8, a: u32) -> u8 {
    let (d, s) = (u32::from(dst), u32::from(src));
    ((d * (255 - a) + s * a + 127) / 255) as u8
}

/// `text`, or its longest prefix followed by `…` that fits in `max_width` pixels (possibly `…`
/// alone, or nothing when even that does not fit).
fn fit(cache: &mut GlyphCache, text: &str, size: u16, max_width: i32) -> String {
    let max = max_width as f32;
    if layout(cache, text, size).1 <= max {
        return text.to_string();
    }
    let mut cut: String = text.to_string();
    while cut.pop().is_some() {
        let candidate = format!("{}…", cut.trim_end());
        if layout(cache, &candidate, size).1 <= max {
            return candidate;
        }
    }
    if layout(cache, "…", size).1 <= max {
        "…".to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(w: u32, h: u32) -> RgbFrame {
        RgbFrame {
            width: w,
            height: h,
            data: vec![255; (w * h * 3) as usize],
        }
    }

    fn ink_columns(frame: &RgbFrame) -> Vec<u32> {
        (0..frame.width)
            .filter(|&x| {
                (0..frame.height).any(|y| frame.data[((y * frame.width + x) * 3) as usize] < 255)
            })
            .collect()
    }

    #[test]
    fn text_is_drawn_and_differs_with_the_string() {
        let mut a = blank(120, 20);
        let mut b = blank(120, 20);
        Canvas::new(&mut a).text(Rect::new(0, 0, 120, 20), "hello", 14, [0, 0, 0]);
        Canvas::new(&mut b).text(Rect::new(0, 0, 120, 20), "hellp", 14, [0, 0, 0]);
        assert!(a.data.iter().any(|&v| v < 128), "no dark pixel");
        assert_ne!(a, b);
        let mut again = blank(120, 20);
        Canvas::new(&mut again).text(Rect::new(0, 0, 120, 20), "hello", 14, [0, 0, 0]);
        assert_eq!(a, again);
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_and_clipped_to_its_box() {
        let long = "a very long label that cannot possibly fit in forty pixels";
        let mut frame = blank(100, 30);
        let r = Rect::new(10, 5, 40, 20);
        let w = Canvas::new(&mut frame).text(r, long, 14, [0, 0, 0]);
        assert!(w <= 40 && w > 0);
        let cols = ink_columns(&frame);
        assert!(cols.iter().all(|&x| (10..50).contains(&x)), "{cols:?}");
        with_glyphs(|cache| assert!(fit(cache, long, 14, 40).ends_with('…')));
        // Boxes partly or wholly outside the frame, or empty, draw what fits and never panic.
        for r in [
            Rect::new(-30, -10, 60, 20),
            Rect::new(90, 25, 50, 20),
            Rect::new(200, 200, 10, 10),
            Rect::new(0, 0, 0, 0),
            Rect::new(0, 0, -5, 8),
        ] {
            Canvas::new(&mut frame).text(r, long, 14, [0, 0, 0]);
            Canvas::new(&mut frame).fill(r, [1, 2, 3]);
        }
    }

    #[test]
    fn shading_blends_and_stays_in_its_box() {
        let mut frame = blank(10, 10);
        Canvas::new(&mut frame).shade(Rect::new(2, 2, 3, 3), [0, 0, 0], 128);
        assert_eq!(frame.data[((3 * 10 + 3) * 3) as usize], 127);
        assert_eq!(frame.data[0], 255);
        assert_eq!(frame.data[((5 * 10 + 5) * 3) as usize], 255);
    }
}

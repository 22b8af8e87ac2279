//! A raster sketch of the current view for `render()`: no text, only boxes, so it is cheap and
//! needs no font. What it shows, top to bottom:
//! - a strip with one chip per instruction field, green when the field is correct, grey
//!   otherwise (a debugging view: it reveals the goal), and one segment per page, the current
//!   one dark;
//! - the page's elements in document order, one line each, indented by tree depth: labels and
//!   text as grey bars as long as their text, inputs as white boxes (light blue once they hold
//!   a value, yellow while an autocomplete has typed but unpicked text; selects carry a small
//!   triangle, dates a small square), radio buttons and checkboxes as small squares (filled
//!   when ticked) followed by their option text, buttons as coloured blocks (Submit green,
//!   Next/Back blue, decoys red), links as blue underlines;
//! - an open pop-up as a panel on the right, one line per entry (calendar days as a grid).

use teachgym_core::RgbFrame;

use super::form::{ButtonRole, ElementKind, Form, FormState, Popup, Role, WidgetState};

/// Width of a rendered frame (pixels).
pub const RENDER_WIDTH: u32 = 320;
/// Height of a rendered frame (pixels).
pub const RENDER_HEIGHT: u32 = 400;

type Rgb = [u8; 3];

struct Canvas {
    data: Vec<u8>,
}

impl Canvas {
    fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, rgb: Rgb) {
        let (x0, y0) = (x.max(0), y.max(0));
        let x1 = (x + w).min(RENDER_WIDTH as i32);
        let y1 = (y + h).min(RENDER_HEIGHT as i32);
        for yy in y0..y1 {
            for xx in x0..x1 {
                let i = ((yy as u32 * RENDER_WIDTH + xx as u32) * 3) as usize;
                self.data[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    fn outlined(&mut self, x: i32, y: i32, w: i32, h: i32, fill: Rgb, border: Rgb) {
        self.rect(x, y, w, h, border);
        self.rect(x + 1, y + 1, w - 2, h - 2, fill);
    }
}

const WHITE: Rgb = [255, 255, 255];
const BORDER: Rgb = [120, 120, 120];
const TEXT: Rgb = [90, 90, 90];
const FILLED: Rgb = [170, 210, 255];
const TYPED: Rgb = [255, 235, 140];
const GREEN: Rgb = [60, 170, 80];
const BLUE: Rgb = [60, 110, 210];
const RED: Rgb = [210, 70, 60];
const GREY: Rgb = [200, 200, 200];

fn text_len(text: &str) -> i32 {
    (text.len() as i32 * 3).clamp(6, 120)
}

/// Draws the current view (see the module docs).
pub fn render(form: &Form, state: &FormState) -> RgbFrame {
    let mut c = Canvas {
        data: vec![245; (RENDER_WIDTH * RENDER_HEIGHT * 3) as usize],
    };
    // Status strip.
    for f in 0..form.fields.len() {
        let rgb = if form.field_correct(state, f) {
            GREEN
        } else {
            GREY
        };
        c.rect(4 + 10 * f as i32, 4, 8, 8, rgb);
    }
    for p in 0..form.pages.len() {
        let rgb = if p == state.page { TEXT } else { GREY };
        c.rect(
            RENDER_WIDTH as i32 - 4 - 14 * (form.pages.len() - p) as i32,
            4,
            12,
            8,
            rgb,
        );
    }
    // Page elements.
    let page = &form.pages[state.page];
    let lines = page
        .elements
        .iter()
        .filter(|e| e.kind != ElementKind::Container)
        .count()
        .max(1);
    let line_h = ((RENDER_HEIGHT as i32 - 20) / lines as i32).clamp(3, 12);
    let box_h = (line_h - 1).max(2);
    let mut y = 18;
    for el in &page.elements {
        if el.kind == ElementKind::Container {
            continue;
        }
        let x = 4 + 8 * i32::from(el.depth);
        match el.role {
            Role::Input(w) => {
                let fill = match &state.widgets[w] {
                    WidgetState::Auto {
                        committed: None,
                        typed: Some(_),
                    } => TYPED,
                    s if Form::is_filled(s) => FILLED,
                    _ => WHITE,
                };
                c.outlined(x, y, 100, box_h, fill, BORDER);
                match el.kind {
                    ElementKind::Select => {
                        c.rect(x + 92, y + box_h / 3, 5, (box_h / 3).max(1), TEXT)
                    }
                    ElementKind::DateInput => c.rect(x + 90, y + 1, 8, box_h - 2, BORDER),
                    _ => {}
                }
            }
            Role::GroupOption { widget, option } => {
                let on = Form::option_on(state, widget, option);
                c.outlined(x, y, box_h, box_h, if on { TEXT } else { WHITE }, BORDER);
                c.rect(
                    x + box_h + 3,
                    y + box_h / 3,
                    text_len(&el.text),
                    (box_h / 3).max(1),
                    TEXT,
                );
            }
            Role::Button(role) => {
                let rgb = match role {
                    ButtonRole::Submit => GREEN,
                    ButtonRole::Next | ButtonRole::Back => BLUE,
                    _ => RED,
                };
                c.rect(x, y, 40, box_h, rgb);
            }
            Role::Link => c.rect(x, y + box_h - 1, text_len(&el.text), 1, BLUE),
            Role::Inert => c.rect(
                x,
                y + box_h / 3,
                text_len(&el.text),
                (box_h / 3).max(1),
                TEXT,
            ),
        }
        y += line_h;
    }
    // Pop-up panel.
    if let Some(popup) = &state.popup {
        let n = form.popup_len(popup);
        let (x0, y0) = (RENDER_WIDTH as i32 - 130, 20);
        match popup {
            Popup::Calendar { .. } => {
                c.outlined(x0, y0, 126, 8 + 14 * 7, WHITE, BORDER);
                c.rect(x0 + 4, y0 + 4, 12, 8, BLUE);
                c.rect(x0 + 110, y0 + 4, 12, 8, BLUE);
                for d in 0..n.saturating_sub(3) {
                    let (col, row) = ((d % 7) as i32, (d / 7) as i32);
                    c.rect(x0 + 4 + 17 * col, y0 + 18 + 14 * row, 14, 11, GREY);
                }
            }
            _ => {
                c.outlined(x0, y0, 126, 4 + 12 * n as i32, WHITE, BORDER);
                for i in 0..n as i32 {
                    c.rect(x0 + 4, y0 + 4 + 12 * i, 90, 8, GREY);
                }
            }
        }
    }
    RgbFrame {
        width: RENDER_WIDTH,
        height: RENDER_HEIGHT,
        data: c.data,
    }
}

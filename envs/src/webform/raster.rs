//! The current view as a picture for `render()`, drawn like a browser would show the form, with
//! real text (DejaVu Sans, see [`crate::text`]). What it shows, top to bottom:
//! - the instruction panel: `page p/n` on the right, then the instruction's sentence (when
//!   instruction noise chose the sentence form) and one chip per instruction field, `key: value`
//!   (the value alone when the key is omitted or only the sentence names it) after a square that
//!   is green when the field holds its value, grey otherwise (a debugging view: it shows the
//!   goal);
//! - the current page, one line per row of the form: the title, then each widget with its label
//!   in a left column and the control beside it: inputs as white boxes showing their value (light
//!   blue once they hold one, yellow while an autocomplete holds typed but unpicked text; the
//!   placeholder in grey when a placeholder-only input is empty; selects carry a small triangle,
//!   dates a calendar mark), radio buttons (round) and checkboxes (square), dark when ticked,
//!   each followed by its option text; buttons as coloured blocks with their caption (Submit
//!   green, Next/Back blue, decoys red); links as underlined blue text. Lines share the height
//!   left below the instruction (smaller text on crowded pages);
//! - an open pop-up as a panel below its input (above it when there is no room): one line per
//!   option or suggestion (the selected option light blue), or a calendar with `prev`, the month
//!   and `next` above a grid of days (the input's date light blue).
//!
//! Every text is cut with `…` to fit its box. The picture depends only on the form and the state.

use teachgym_core::RgbFrame;

use super::form::{ButtonRole, ElementKind, Form, FormState, Page, Popup, Role, WidgetState};
use crate::text::{text_width, Canvas, Rect, Rgb};

/// Width of a rendered frame (pixels).
pub const RENDER_WIDTH: u32 = 480;
/// Height of a rendered frame (pixels).
pub const RENDER_HEIGHT: u32 = 600;

const W: i32 = RENDER_WIDTH as i32;
const H: i32 = RENDER_HEIGHT as i32;
/// Space around the instruction panel and the page (pixels).
const MARGIN: i32 = 8;
/// Text size of the instruction and of uncrowded pages (pixels).
const TEXT_SIZE: u16 = 13;
/// Text size of the page indicator.
const SMALL_SIZE: u16 = 11;
/// Height of a line of the instruction panel and of a pop-up entry.
const LINE_H: i32 = 18;
/// Shortest and tallest line of the page.
const PAGE_LINE_H: [i32; 2] = [12, 26];
/// Width of the label column.
const LABEL_W: i32 = 150;
/// Widest input box.
const INPUT_W: i32 = 240;
/// Size of a calendar's day cell.
const DAY_CELL: (i32, i32) = (28, 20);

const BACKGROUND: Rgb = [245, 245, 245];
const PANEL: Rgb = [232, 234, 250];
const PANEL_BORDER: Rgb = [180, 184, 220];
const WHITE: Rgb = [255, 255, 255];
const BORDER: Rgb = [120, 120, 120];
const TEXT: Rgb = [30, 30, 30];
const MUTED: Rgb = [140, 140, 140];
const FILLED: Rgb = [170, 210, 255];
const TYPED: Rgb = [255, 235, 140];
const GREEN: Rgb = [60, 170, 80];
const BLUE: Rgb = [60, 110, 210];
const RED: Rgb = [210, 70, 60];
const GREY: Rgb = [200, 200, 200];
const DAY: Rgb = [228, 228, 228];

/// Draws the current view (see the module docs).
pub fn render(form: &Form, state: &FormState) -> RgbFrame {
    let mut frame = RgbFrame {
        width: RENDER_WIDTH,
        height: RENDER_HEIGHT,
        data: BACKGROUND.repeat((W * H) as usize),
    };
    let mut c = Canvas::new(&mut frame);
    let page_top = instruction(&mut c, form, state) + MARGIN;
    let opener = page(&mut c, form, state, page_top);
    if let Some(popup) = &state.popup {
        popup_panel(&mut c, form, state, popup, opener);
    }
    frame
}

/// Word-wraps `text` into lines at most `width` pixels wide (a word wider than that gets a line
/// of its own, cut when drawn).
fn wrap(text: &str, width: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), TEXT_SIZE) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The instruction panel; returns its bottom edge.
fn instruction(c: &mut Canvas, form: &Form, state: &FormState) -> i32 {
    let inner = Rect::new(MARGIN + 6, MARGIN + 4, W - 2 * MARGIN - 12, LINE_H);
    let sentence = form
        .sentence
        .as_deref()
        .map_or_else(Vec::new, |s| wrap(s, inner.w));
    // Chips flow left to right: (line, x offset, width, text).
    let square = 10;
    let mut chips = Vec::with_capacity(form.fields.len());
    let (mut line, mut x) = (sentence.len() as i32 + 1, 0);
    for field in &form.fields {
        let text = if form.sentence.is_some() {
            field.value.text()
        } else {
            field.shown_text()
        };
        let w = (square + 4 + text_width(&text, TEXT_SIZE)).min(inner.w);
        if x > 0 && x + w > inner.w {
            (line, x) = (line + 1, 0);
        }
        chips.push((line, x, w, text));
        x += w + 14;
    }
    let lines = chips.last().map_or(line, |chip| chip.0 + 1);
    let panel = Rect::new(MARGIN, MARGIN, W - 2 * MARGIN, lines * LINE_H + 8);
    c.outlined(panel, PANEL, PANEL_BORDER);
    c.text(inner, "instruction", SMALL_SIZE, MUTED);
    let pages = format!("page {}/{}", state.page + 1, form.pages.len());
    let pages_w = text_width(&pages, SMALL_SIZE);
    c.text(
        Rect::new(inner.right() - pages_w, inner.y, pages_w, LINE_H),
        &pages,
        SMALL_SIZE,
        TEXT,
    );
    let line_at = |l: i32| Rect::new(inner.x, inner.y + l * LINE_H, inner.w, LINE_H);
    for (l, text) in sentence.iter().enumerate() {
        c.text(line_at(l as i32 + 1), text, TEXT_SIZE, TEXT);
    }
    for (f, (l, x, w, text)) in chips.iter().enumerate() {
        let r = line_at(*l);
        let rgb = if form.field_correct(state, f) {
            GREEN
        } else {
            GREY
        };
        c.fill(
            Rect::new(r.x + x, r.y + (LINE_H - square) / 2, square, square),
            rgb,
        );
        c.text(
            Rect::new(r.x + x + square + 4, r.y, w - square - 4, LINE_H),
            text,
            TEXT_SIZE,
            TEXT,
        );
    }
    panel.bottom()
}

/// Element indices of each line of a page: every child of the root starts a line, deeper
/// elements (a row's label and controls) join the line of their row, and buttons and links
/// follow the buttons and links before them on one line while it is wide enough.
fn page_lines(page: &Page) -> Vec<Vec<usize>> {
    let is_bar = |i: &usize| matches!(page.elements[*i].role, Role::Button(_) | Role::Link);
    // Width of a button or link at the largest text size, with its gap.
    let bar_w = |i: &usize| text_width(&page.elements[*i].text, TEXT_SIZE) + 28;
    let mut lines: Vec<Vec<usize>> = Vec::new();
    for (i, el) in page.elements.iter().enumerate() {
        let joins_bar = lines.last().is_some_and(|line| {
            let used: i32 = line.iter().map(bar_w).sum();
            !line.is_empty()
                && line.iter().all(is_bar)
                && is_bar(&i)
                && used + bar_w(&i) <= W - 2 * MARGIN
        });
        if (el.depth == 1 && !joins_bar) || (el.depth > 1 && lines.is_empty()) {
            lines.push(Vec::new());
        }
        if let Some(line) = lines.last_mut().filter(|_| el.depth > 0) {
            if el.kind != ElementKind::Container {
                line.push(i);
            }
        }
    }
    lines
}

/// The current page from `top` down; returns the box of the open pop-up's input, if drawn.
fn page(c: &mut Canvas, form: &Form, state: &FormState, top: i32) -> Option<Rect> {
    let page = &form.pages[state.page];
    let lines = page_lines(page);
    let line_h =
        ((H - MARGIN - top) / lines.len().max(1) as i32).clamp(PAGE_LINE_H[0], PAGE_LINE_H[1]);
    let size = (line_h - 5).clamp(8, i32::from(TEXT_SIZE)) as u16;
    // Boxes leave a small gap between lines, a larger one on airy pages.
    let box_h = line_h - 2 - (line_h - PAGE_LINE_H[0]) / 3;
    let left = MARGIN + 4;
    let right = W - MARGIN - 4;
    let control_x = left + LABEL_W;
    let popup_widget = state.popup.as_ref().map(Popup::widget);
    let mut opener = None;
    for (l, line) in lines.iter().enumerate() {
        let y = top + l as i32 * line_h;
        let boxed = |x: i32, w: i32| Rect::new(x, y + (line_h - box_h) / 2, w, box_h);
        let mut cursor = left;
        for &i in line {
            let el = &page.elements[i];
            match el.role {
                Role::Inert => {
                    let (x, w) = match el.kind {
                        ElementKind::Label => (left, LABEL_W - 6),
                        _ => (cursor, right - cursor),
                    };
                    let rgb = if el.kind == ElementKind::Label {
                        [70, 70, 70]
                    } else {
                        TEXT
                    };
                    cursor = x + c.text(Rect::new(x, y, w, line_h), &el.text, size, rgb) + 12;
                }
                Role::Input(w) => {
                    let r = boxed(control_x, INPUT_W.min(right - control_x));
                    input(c, form, state, w, el.kind, r, size);
                    if popup_widget == Some(w) {
                        opener = Some(r);
                    }
                }
                Role::GroupOption { widget, option } => {
                    let n = form.widgets[widget].options.len().max(1) as i32;
                    let slot = (right - control_x) / n;
                    let x = control_x + i32::from(option) * slot;
                    let mark = box_h.min(12);
                    let r = Rect::new(x, y + (line_h - mark) / 2, mark, mark);
                    let on = Form::option_on(state, widget, option);
                    let border = border_of(form, state, widget);
                    if el.kind == ElementKind::Radio {
                        c.disc(r, border);
                        c.disc(r.inset(1), WHITE);
                        if on {
                            c.disc(r.inset(3), TEXT);
                        }
                    } else {
                        c.outlined(r, if on { TEXT } else { WHITE }, border);
                    }
                    let text = Rect::new(x + mark + 4, y, slot - mark - 10, line_h);
                    c.text(text, &el.text, size, TEXT);
                }
                Role::Button(role) => {
                    let rgb = match role {
                        ButtonRole::Submit => GREEN,
                        ButtonRole::Next | ButtonRole::Back => BLUE,
                        ButtonRole::Cancel | ButtonRole::Reset | ButtonRole::SaveDraft => RED,
                    };
                    let w = (text_width(&el.text, size) + 20)
                        .max(64)
                        .min(right - cursor);
                    let r = boxed(cursor, w);
                    c.fill(r, rgb);
                    c.text_centred(Rect::new(r.x + 2, r.y, r.w - 4, r.h), &el.text, size, WHITE);
                    cursor += w + 8;
                }
                Role::Link => {
                    let r = Rect::new(cursor, y, right - cursor, line_h);
                    let w = c.text(r, &el.text, size, BLUE);
                    c.fill(Rect::new(cursor, y + (line_h + box_h) / 2 - 3, w, 1), BLUE);
                    cursor += w + 12;
                }
            }
        }
    }
    opener
}

/// The border of widget `w`'s boxes: red while a refused Next marks it invalid.
fn border_of(form: &Form, state: &FormState, w: usize) -> Rgb {
    if form.marked_invalid(state, w) {
        RED
    } else {
        BORDER
    }
}

/// An input box `r` of widget `w`, with its value or placeholder.
fn input(
    c: &mut Canvas,
    form: &Form,
    state: &FormState,
    w: usize,
    kind: ElementKind,
    r: Rect,
    size: u16,
) {
    let fill = match &state.widgets[w] {
        WidgetState::Auto {
            committed: None,
            typed: Some(_),
        } => TYPED,
        s if Form::is_filled(s) => FILLED,
        _ => WHITE,
    };
    c.outlined(r, fill, border_of(form, state, w));
    let mark = (r.h - 8).clamp(4, 10);
    let mut text = Rect::new(r.x + 5, r.y, r.w - 6, r.h);
    match kind {
        ElementKind::Select => {
            // A small downward triangle.
            let (x, y) = (r.right() - mark - 6, r.y + (r.h - mark / 2) / 2);
            for row in 0..mark / 2 {
                c.fill(Rect::new(x + row, y + row, mark - 2 * row, 1), TEXT);
            }
            text.w -= mark + 8;
        }
        ElementKind::DateInput => {
            // A calendar leaf: a frame with a dark top bar.
            let m = Rect::new(r.right() - mark - 6, r.y + (r.h - mark) / 2, mark, mark);
            c.outlined(m, WHITE, BORDER);
            c.fill(Rect::new(m.x, m.y, m.w, 3), BORDER);
            text.w -= mark + 8;
        }
        _ => {}
    }
    match form.widget_value(state, w) {
        Some(value) => {
            c.text(text, &value.text(), size, TEXT);
        }
        None if form.widgets[w].placeholder_only => {
            c.text(text, &form.widgets[w].label, size, MUTED);
        }
        None => {}
    }
}

/// The open pop-up, below `opener` (its input's box) or above it when there is no room.
fn popup_panel(
    c: &mut Canvas,
    form: &Form,
    state: &FormState,
    popup: &Popup,
    opener: Option<Rect>,
) {
    let opener = opener.unwrap_or(Rect::new(MARGIN + 4 + LABEL_W, H / 2, INPUT_W, LINE_H));
    let n = form.popup_len(popup);
    let (w, h) = match popup {
        Popup::Calendar { .. } => {
            let rows = (n as i32 - 3 + 6) / 7;
            (7 * DAY_CELL.0 + 8, LINE_H + 6 + rows * DAY_CELL.1 + 6)
        }
        _ => (opener.w, n as i32 * LINE_H + 4),
    };
    let x = opener.x.min(W - w - 2).max(0);
    let y = if opener.bottom() + h <= H {
        opener.bottom()
    } else if opener.y - h >= 0 {
        opener.y - h
    } else {
        (H - h).max(0)
    };
    let panel = Rect::new(x, y, w, h);
    c.outlined(panel, WHITE, BORDER);
    match popup {
        Popup::Calendar {
            widget,
            month_index,
        } => {
            let header = Rect::new(x + 4, y + 4, w - 8, LINE_H);
            let nav_w = 40;
            for (i, r) in [
                (1, Rect::new(header.x, header.y, nav_w, LINE_H)),
                (
                    2,
                    Rect::new(header.right() - nav_w, header.y, nav_w, LINE_H),
                ),
            ] {
                c.fill(r, BLUE);
                c.text_centred(r, &form.popup_entry_text(popup, i), SMALL_SIZE, WHITE);
            }
            let month = Rect::new(header.x + nav_w, header.y, header.w - 2 * nav_w, LINE_H);
            c.text_centred(month, &form.popup_entry_text(popup, 0), TEXT_SIZE, TEXT);
            let held = match &state.widgets[*widget] {
                WidgetState::Date(Some(d)) if d.month_index == *month_index => Some(d.day),
                _ => None,
            };
            for i in 3..n {
                let d = (i - 3) as i32;
                let cell = Rect::new(
                    x + 4 + DAY_CELL.0 * (d % 7),
                    header.bottom() + 2 + DAY_CELL.1 * (d / 7),
                    DAY_CELL.0 - 2,
                    DAY_CELL.1 - 2,
                );
                let rgb = if held == Some(d as u8 + 1) {
                    FILLED
                } else {
                    DAY
                };
                c.fill(cell, rgb);
                c.text_centred(cell, &form.popup_entry_text(popup, i), SMALL_SIZE, TEXT);
            }
        }
        _ => {
            let selected = match (popup, &state.widgets[popup.widget()]) {
                (Popup::Dropdown { .. }, WidgetState::Choice(Some(k))) => Some(usize::from(*k)),
                _ => None,
            };
            for i in 0..n {
                let r = Rect::new(x + 1, y + 2 + i as i32 * LINE_H, w - 2, LINE_H);
                if selected == Some(i) {
                    c.fill(r, FILLED);
                }
                let text = Rect::new(r.x + 5, r.y, r.w - 8, r.h);
                c.text(text, &form.popup_entry_text(popup, i), TEXT_SIZE, TEXT);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    use super::super::form::{Date, Value};
    use super::super::{generate, WebFormConfig, WidgetKind};
    use super::*;

    fn form(seed: u64) -> Form {
        let task = [0.6, 0.5, 0.3, 0.0, 0.2, 0.3, 0.3, 0.5, 1.0];
        let mut rng = Pcg64::seed_from_u64(seed);
        generate(&WebFormConfig::default(), &task, &mut rng).unwrap()
    }

    /// The box holding every pixel where `a` and `b` differ, as (x0, y0, x1, y1) inclusive.
    fn changed_box(a: &RgbFrame, b: &RgbFrame) -> Option<(i32, i32, i32, i32)> {
        let mut bbox: Option<(i32, i32, i32, i32)> = None;
        for (p, (pa, pb)) in a.data.chunks(3).zip(b.data.chunks(3)).enumerate() {
            if pa != pb {
                let (x, y) = ((p as i32) % W, (p as i32) / W);
                bbox = Some(bbox.map_or((x, y, x, y), |(x0, y0, x1, y1)| {
                    (x0.min(x), y0.min(y), x1.max(x), y1.max(y))
                }));
            }
        }
        bbox
    }

    #[test]
    fn the_typed_value_is_drawn_as_text_in_its_box() {
        let date = |day| {
            Value::Date(Date {
                month_index: 2026 * 12,
                day,
            })
        };
        let mut checked = 0;
        for seed in 0..20 {
            let form = form(seed);
            let Some(w) = (0..form.widgets.len()).find(|&w| {
                let widget = &form.widgets[w];
                widget.kind == WidgetKind::Text && widget.page == 0 && widget.element != usize::MAX
            }) else {
                continue;
            };
            let mut a = form.initial_state();
            let mut b = form.initial_state();
            a.widgets[w] = WidgetState::Text(Some(date(1)));
            b.widgets[w] = WidgetState::Text(Some(date(2)));
            let n_correct = form.n_correct(&a);
            assert_eq!(n_correct, form.n_correct(&b), "a chip changed colour");
            let (fa, fb) = (render(&form, &a), render(&form, &b));
            let (x0, y0, x1, y1) = changed_box(&fa, &fb).expect("the value is not drawn");
            // Only the digits inside the input box changed: right of the label column, on one line.
            assert!(x0 >= MARGIN + 4 + LABEL_W && x1 < W - MARGIN, "{x0}..{x1}");
            assert!(y1 - y0 < PAGE_LINE_H[1], "{y0}..{y1}");
            checked += 1;
        }
        assert!(checked > 3, "too few forms with a text input");
    }

    #[test]
    fn the_validation_marks_draw_red_borders_and_nothing_else() {
        let mut checked = 0;
        for seed in 0..20 {
            let form = form(seed);
            let mut marked = form.initial_state();
            marked.validation_shown = true;
            let required = (0..form.widgets.len())
                .filter(|&w| form.widgets[w].page == 0 && form.marked_invalid(&marked, w))
                .count();
            if required == 0 {
                continue;
            }
            let (plain, red) = (render(&form, &form.initial_state()), render(&form, &marked));
            let changed: Vec<(&[u8], &[u8])> = plain
                .data
                .chunks(3)
                .zip(red.data.chunks(3))
                .filter(|(a, b)| a != b)
                .collect();
            assert!(!changed.is_empty(), "seed {seed}: no mark drawn");
            for (before, after) in changed {
                assert_eq!(before, BORDER, "seed {seed}");
                assert_eq!(after, RED, "seed {seed}");
            }
            checked += 1;
        }
        assert!(
            checked > 5,
            "{checked} forms with required widgets on page 1"
        );
    }

    #[test]
    fn long_texts_stay_in_their_boxes() {
        let long = "an extraordinarily long label that no column of this form could ever hold";
        let mut checked = 0;
        for seed in 0..10 {
            let mut form = form(seed);
            let state = form.initial_state();
            let page = &mut form.pages[0];
            let Some(label) = page
                .elements
                .iter()
                .position(|e| e.kind == ElementKind::Label)
            else {
                continue;
            };
            page.elements[label].text = "".into();
            let before = render(&form, &state);
            form.pages[0].elements[label].text = long.into();
            let after = render(&form, &state);
            let (x0, _, x1, _) = changed_box(&before, &after).expect("the label is not drawn");
            assert!(
                x0 >= MARGIN + 4 && x1 < MARGIN + 4 + LABEL_W - 6,
                "{x0}..{x1}"
            );
            // Long texts everywhere (title, options, buttons, the instruction) never panic.
            for el in &mut form.pages[0].elements {
                el.text = long.into();
            }
            form.sentence = Some(long.repeat(3));
            render(&form, &state);
            checked += 1;
        }
        assert!(checked > 3, "too few forms with a label");
    }

    #[test]
    fn rendering_is_deterministic() {
        // A form with a date input on its first page, to open a calendar too.
        let (form, w) = (0..20)
            .map(form)
            .find_map(|form| {
                let w = form.widgets.iter().position(|w| {
                    w.kind == WidgetKind::Date && w.page == 0 && w.element != usize::MAX
                })?;
                Some((form, w))
            })
            .expect("no form with a date input");
        let mut state = form.initial_state();
        let first = render(&form, &state);
        assert_eq!(
            first.data.len(),
            (RENDER_WIDTH * RENDER_HEIGHT * 3) as usize
        );
        assert_eq!(render(&form.clone(), &state.clone()), first);
        state.popup = Some(Popup::Calendar {
            widget: w,
            month_index: form.today_month,
        });
        let open = render(&form, &state);
        assert_ne!(open, first);
        assert_eq!(render(&form, &state), open);
    }
}

//! Renders a form and its current state as one self-contained HTML page that works in a
//! browser: a small inline script ([`PAGE_SCRIPT`], `page.js`) implements the widgets as the
//! simulator defines them (selects, radio buttons, checkboxes, date pickers, autocompletes, pages,
//! Next/Back, Submit and the decoys), and exposes `window.teachgym` to read the page's state back
//! (`state()`, in the shape of [`page_state`]) and to find the element behind an action slot
//! (`locate(slot)`). Also the current view as indented text, one line per element slot, for
//! debugging policies.
//!
//! # The page
//! Every element of the current page carries `data-slot` (its action slot) and, when an action
//! applies to it, `data-act="click"` or `data-act="type"`; entries of an open pop-up are
//! numbered after the page's elements, as in the simulator. A person (or a WebDriver) acts on
//! it as on any page: clicking buttons, boxes, drop-down openers and pop-up entries, and typing
//! into inputs (select all, then the text). At the `semantic` level a select, a date or an
//! autocomplete takes the typed text (an option's text, a date as `14 may 2026`; anything else
//! leaves it empty); at the `widget` level selects and dates are read-only openers of a list of
//! options or a calendar, and typing into an autocomplete lists suggestions, one of which must
//! be clicked. Submit checks the instruction's values in the page (as a server would) and sets
//! the verdict; Cancel and links end the episode as a failure.

use std::fmt::Write;

use serde_json::{json, Value as Json};

use super::form::{ButtonRole, ElementKind, Form, FormState, Popup, Role, Slot, WidgetState};
use super::words::{phrases_table, WidgetKind, FIRST_YEAR, LAST_YEAR, MONTHS};
use super::InteractionLevel;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:40em;margin:2em auto;}\
    .instruction{background:#eef;padding:.8em;border-radius:6px;margin-bottom:1em}\
    .instruction dt{font-weight:bold;float:left;clear:left;margin-right:.5em}\
    .row{margin:.5em 0}label.field{display:inline-block;min-width:10em}\
    section{border:1px solid #ccc;padding:1em;border-radius:6px}\
    section.hidden{display:none}button{margin:.3em}\
    .tg-popup{border:1px solid #888;background:#fff;padding:.3em;margin:.3em 0 .3em 10em;\
    max-width:22em}.tg-popup .tg-entry{display:block;cursor:pointer;padding:.1em .3em}\
    .tg-popup .tg-entry:hover{background:#def}.tg-popup.calendar .tg-day{display:inline-block;\
    width:2.2em;margin:.1em}.verdict{font-weight:bold;margin:1em 0}\
    [aria-invalid=true]{outline:2px solid #c00}";

/// The page's script: the widgets and `window.teachgym` (see the module docs).
pub const PAGE_SCRIPT: &str = include_str!("page.js");

/// The form as a working HTML document: the instruction (key–value list, or the sentence),
/// then every page as a `<section>` (the current one visible) whose elements nest as the page's
/// element tree, each widget holding its current state, and the script (see the module docs).
pub fn form_html(form: &Form, state: &FormState) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>teachgym web form</title>\
         <style>{STYLE}</style></head><body>\n<div class=\"instruction\">"
    );
    match &form.sentence {
        Some(s) => {
            let _ = write!(html, "<p>{}</p>", escape(s));
        }
        None => {
            html.push_str("<dl>");
            for field in &form.fields {
                let _ = write!(
                    html,
                    "<dt>{}</dt><dd>{}</dd>",
                    escape(if field.shown_key.is_empty() {
                        "(value)"
                    } else {
                        &field.shown_key
                    }),
                    escape(&field.value.text())
                );
            }
            html.push_str("</dl>");
        }
    }
    html.push_str("</div>\n<form onsubmit=\"return false\">\n");
    for (p, page) in form.pages.iter().enumerate() {
        let class = if p == state.page { "" } else { " hidden" };
        let _ = writeln!(html, "<section class=\"tg-page{class}\" data-page=\"{p}\">");
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); page.elements.len()];
        let mut roots = Vec::new();
        for (i, el) in page.elements.iter().enumerate() {
            match el.parent {
                Some(q) => children[usize::from(q)].push(i),
                None => roots.push(i),
            }
        }
        for i in roots {
            element_html(form, state, p, i, &children, &mut html);
        }
        html.push_str("</section>\n");
    }
    html.push_str("<p class=\"verdict\" id=\"tg-verdict\"></p>\n</form>\n");
    // The spec the script reads: what the DOM does not show (option lists, the goal Submit
    // checks, the calendar's range). `</` is escaped so no string can close the script element.
    let spec = page_spec(form, state).to_string().replace("</", "<\\/");
    let _ = write!(
        html,
        "<script type=\"application/json\" id=\"teachgym-form\">{spec}</script>\n\
         <script>{PAGE_SCRIPT}</script>\n</body></html>\n"
    );
    html
}

/// Element `i` of page `p` and its subtree.
fn element_html(
    form: &Form,
    state: &FormState,
    p: usize,
    i: usize,
    children: &[Vec<usize>],
    html: &mut String,
) {
    let el = &form.pages[p].elements[i];
    // Which action applies: the same rules as the simulator's (they depend on the element
    // only, not on the state), declared on the element as a page declares its affordances.
    let view = FormState {
        widgets: Vec::new(),
        page: p,
        popup: None,
        validation_shown: false,
    };
    let act = if form.clickable(&view, Slot::Page(i)) {
        " data-act=\"click\""
    } else if form.typable(&view, Slot::Page(i)) {
        " data-act=\"type\""
    } else {
        ""
    };
    let text = escape(&el.text);
    let name = escape(&el.name);
    let subtree = |html: &mut String| {
        for &c in &children[i] {
            element_html(form, state, p, c, children, html);
        }
    };
    match (el.kind, el.role) {
        (ElementKind::Container, _) => {
            let class = if el.parent.is_none() {
                "tg-root"
            } else {
                "row"
            };
            let _ = write!(html, "<div class=\"{class}\" data-slot=\"{i}\">");
            subtree(html);
            html.push_str("</div>\n");
        }
        (ElementKind::StaticText, _) => {
            let _ = writeln!(html, "<h3 data-slot=\"{i}\">{text}</h3>");
        }
        (ElementKind::Label, _) => {
            let _ = write!(
                html,
                "<label class=\"field\" data-slot=\"{i}\">{text}</label> "
            );
        }
        (_, Role::Input(w)) => {
            let widget = &form.widgets[w];
            let value = form
                .widget_value(state, w)
                .map(|v| escape(&v.text()))
                .unwrap_or_default();
            let placeholder = if widget.placeholder_only {
                format!(" placeholder=\"{name}\"")
            } else {
                String::new()
            };
            let widget_level = form.level == InteractionLevel::Widget;
            let readonly = match widget.kind {
                WidgetKind::Select | WidgetKind::Date if widget_level => " readonly",
                _ => "",
            };
            let committed = match &state.widgets[w] {
                WidgetState::Auto {
                    committed: Some(c), ..
                } => format!(" data-committed=\"{}\"", escape(phrases_table().text(*c))),
                _ => String::new(),
            };
            let invalid = invalid_attribute(form, state, w);
            let _ = write!(
                html,
                "<input type=\"text\" autocomplete=\"off\" class=\"tg-{}\" data-slot=\"{i}\" \
                 data-widget=\"{w}\"{act} name=\"{name}\" value=\"{value}\"{placeholder}{readonly}{committed}{invalid}>",
                widget.kind.name()
            );
        }
        (_, Role::GroupOption { widget, option }) => {
            let input = if form.widgets[widget].kind == WidgetKind::Radio {
                "radio"
            } else {
                "checkbox"
            };
            let checked = if Form::option_on(state, widget, option) {
                " checked"
            } else {
                ""
            };
            let invalid = invalid_attribute(form, state, widget);
            // Radio groups are linked by `name`, which must be unique: the element's name
            // attribute (possibly shared with a sibling widget) goes to `data-name`.
            let _ = write!(
                html,
                "<label class=\"option\"><input type=\"{input}\" data-slot=\"{i}\" data-widget=\"{widget}\" \
                 data-option=\"{option}\"{act} name=\"w{widget}\" data-name=\"{name}\"{checked}{invalid}> {text}</label> "
            );
        }
        (_, Role::Button(role)) => {
            let role = match role {
                ButtonRole::Next => "next",
                ButtonRole::Back => "back",
                ButtonRole::Submit => "submit",
                ButtonRole::Cancel => "cancel",
                ButtonRole::Reset => "reset",
                ButtonRole::SaveDraft => "save",
            };
            let _ = writeln!(
                html,
                "<button type=\"button\" data-slot=\"{i}\" data-role=\"{role}\"{act}>{text}</button>"
            );
        }
        (_, Role::Link) => {
            let _ = writeln!(
                html,
                "<p><a href=\"#\" data-slot=\"{i}\" data-role=\"link\"{act}>{text}</a></p>"
            );
        }
        _ => {
            let _ = write!(html, "<span data-slot=\"{i}\">{text}</span>");
            subtree(html);
        }
    }
}

/// `aria-invalid` on the elements of a widget that a refused Next marked (see
/// [`Form::marked_invalid`]); the page's script keeps it up to date.
fn invalid_attribute(form: &Form, state: &FormState, w: usize) -> &'static str {
    if form.marked_invalid(state, w) {
        " aria-invalid=\"true\""
    } else {
        ""
    }
}

/// What the page's script needs beyond the DOM.
fn page_spec(form: &Form, state: &FormState) -> Json {
    let phrases = phrases_table();
    let widgets: Vec<Json> = form
        .widgets
        .iter()
        .map(|w| {
            json!({
                "kind": w.kind.name(),
                "page": w.page,
                "placed": w.element != usize::MAX,
                "required": w.target.is_some(),
                "options": w.options.iter().map(|&o| phrases.text(o)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let fields: Vec<Json> = form
        .fields
        .iter()
        .map(|f| json!({"widget": f.widget, "value": f.value.text()}))
        .collect();
    json!({
        "level": match form.level {
            InteractionLevel::Semantic => "semantic",
            InteractionLevel::Widget => "widget",
        },
        "page": state.page,
        "validation_shown": state.validation_shown,
        "page_sizes": form.pages.iter().map(|p| p.elements.len()).collect::<Vec<_>>(),
        "today_month": form.today_month,
        "first_month": FIRST_YEAR * 12,
        "last_month": LAST_YEAR * 12 + 11,
        "months": MONTHS,
        "max_suggestions": super::form::MAX_SUGGESTIONS,
        "widgets": widgets,
        "fields": fields,
    })
}

/// The state a page reports (`window.teachgym.state()` without its verdict), from the
/// simulator's: `{"page", "popup", "widgets"}`. `popup` is `null` or `{"kind": "dropdown" |
/// "suggestions" | "calendar", "widget", "items" (suggestions' texts), "month" ("2026-05",
/// calendars)}`; `widgets[w]` is `null` for a widget with no place on its page, else `{"kind",
/// "value"}` with the value: text inputs the text or `null`; selects and radio groups the
/// option index or `null`; checkboxes the ticked option indices; dates `"2026-05-14"` or
/// `null`; autocompletes `{"committed": the picked option's text or null, "text": the input's
/// text or null}`; `invalid` lists the widgets marked invalid after a refused Next
/// ([`Form::marked_invalid`]), ascending.
pub fn page_state(form: &Form, state: &FormState) -> Json {
    let phrases = phrases_table();
    let widgets: Vec<Json> = form
        .widgets
        .iter()
        .enumerate()
        .map(|(w, widget)| {
            if widget.element == usize::MAX {
                return Json::Null;
            }
            let value = match &state.widgets[w] {
                WidgetState::Text(v) => json!(v.map(|v| v.text())),
                WidgetState::Choice(c) => json!(c),
                WidgetState::Checks(bits) => json!((0..widget.options.len())
                    .filter(|&k| (bits >> k) & 1 == 1)
                    .collect::<Vec<_>>()),
                WidgetState::Auto { committed, .. } => json!({
                    "committed": committed.map(|p| phrases.text(p)),
                    "text": form.widget_value(state, w).map(|v| v.text()),
                }),
                WidgetState::Date(d) => json!(d.map(|d| d.iso())),
            };
            json!({"kind": widget.kind.name(), "value": value})
        })
        .collect();
    let popup = state.popup.as_ref().map(|popup| match popup {
        Popup::Dropdown { widget } => json!({"kind": "dropdown", "widget": widget}),
        Popup::Suggestions { widget, items } => json!({
            "kind": "suggestions",
            "widget": widget,
            "items": items.iter().map(|&p| phrases.text(p)).collect::<Vec<_>>(),
        }),
        Popup::Calendar {
            widget,
            month_index,
        } => json!({
            "kind": "calendar",
            "widget": widget,
            "month": format!(
                "{:04}-{:02}",
                month_index.div_euclid(12),
                month_index.rem_euclid(12) + 1
            ),
        }),
    });
    let invalid: Vec<usize> = (0..form.widgets.len())
        .filter(|&w| form.widgets[w].element != usize::MAX && form.marked_invalid(state, w))
        .collect();
    json!({"page": state.page, "popup": popup, "widgets": widgets, "invalid": invalid})
}

/// The instruction, the page number, then one line per element slot of the current view:
/// `[slot] tag "text" name=... value=...` indented by depth, marked `click` / `type` when those
/// actions are valid, `on` when an option is ticked and `invalid` when a refused Next marked
/// the element's widget. Slot numbers are the action slots.
pub fn text_view(form: &Form, state: &FormState) -> String {
    let mut out = String::new();
    match &form.sentence {
        Some(s) => {
            let _ = writeln!(out, "instruction: {s}");
        }
        None => {
            let pairs: Vec<String> = form.fields.iter().map(|f| f.shown_text()).collect();
            let _ = writeln!(out, "instruction: {}", pairs.join(" | "));
        }
    }
    let _ = writeln!(out, "page {}/{}", state.page + 1, form.pages.len());
    for slot in 0..form.slot_count(state) {
        let Some(s) = form.slot(state, slot) else {
            continue;
        };
        let mut line = String::new();
        match s {
            Slot::Page(i) => {
                let el = &form.pages[state.page].elements[i];
                let _ = write!(
                    line,
                    "{}{}",
                    "  ".repeat(usize::from(el.depth)),
                    el.kind.tag()
                );
                if !el.text.is_empty() {
                    let _ = write!(line, " \"{}\"", el.text);
                }
                if !el.name.is_empty() {
                    let _ = write!(line, " name=\"{}\"", el.name);
                }
                match el.role {
                    Role::Input(w) => {
                        if let Some(v) = form.widget_value(state, w) {
                            let _ = write!(line, " value=\"{}\"", v.text());
                        }
                    }
                    Role::GroupOption { widget, option }
                        if Form::option_on(state, widget, option) =>
                    {
                        line.push_str(" on");
                    }
                    _ => {}
                }
                if let Role::Input(w) | Role::GroupOption { widget: w, .. } = el.role {
                    if form.marked_invalid(state, w) {
                        line.push_str(" invalid");
                    }
                }
            }
            Slot::Popup(i) => {
                let popup = state.popup.as_ref().expect("popup slot without popup");
                let text = form.popup_entry_text(popup, i);
                let _ = write!(line, "    popup \"{text}\"");
            }
        }
        if form.clickable(state, s) {
            line.push_str(" [click]");
        }
        if form.typable(state, s) {
            line.push_str(" [type]");
        }
        let _ = writeln!(out, "[{slot}] {line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    use super::super::{generate, WebFormConfig};
    use super::*;

    #[test]
    fn the_page_numbers_every_element_and_carries_its_spec_and_script() {
        for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
            let config = WebFormConfig {
                interaction_level: level,
                ..WebFormConfig::default()
            };
            let mut rng = Pcg64::seed_from_u64(5);
            let form = generate(&config, &[0.8; 9], &mut rng).unwrap();
            let state = form.initial_state();
            let html = form_html(&form, &state);
            for (p, page) in form.pages.iter().enumerate() {
                let start = html.find(&format!("data-page=\"{p}\"")).unwrap();
                let end = html[start..].find("</section>").unwrap() + start;
                for i in 0..page.elements.len() {
                    assert!(
                        html[start..end].contains(&format!("data-slot=\"{i}\"")),
                        "page {p} lacks slot {i}"
                    );
                }
            }
            let spec_start = html.find("id=\"teachgym-form\">").unwrap() + 19;
            let spec_end = html[spec_start..].find("</script>").unwrap() + spec_start;
            let spec: Json = serde_json::from_str(&html[spec_start..spec_end]).unwrap();
            assert_eq!(spec["fields"].as_array().unwrap().len(), form.fields.len());
            assert!(html.contains("window.teachgym"));
            let reported = page_state(&form, &state);
            assert_eq!(reported["page"], 0);
            assert_eq!(
                reported["widgets"].as_array().unwrap().len(),
                form.widgets.len()
            );
        }
    }
}

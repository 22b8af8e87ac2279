//! Renders a form and its current state as one self-contained HTML page (inline CSS and a few
//! lines of inline JavaScript for the page buttons), with the instruction on top, for a person to
//! open in a browser (selects, dates and autocompletes use the browser's native widgets); and the
//! current view as indented text, one line per element slot, for debugging policies.

use std::fmt::Write;

use super::form::{ButtonRole, ElementKind, Form, FormState, Role, Slot, WidgetState};
use super::words::{phrases_table, WidgetKind};

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
    section.hidden{display:none}button{margin:.3em}";

const SCRIPT: &str = "function showPage(i){document.querySelectorAll('section').forEach(\
    function(s,j){s.classList.toggle('hidden',j!==i);});}";

/// The form as an HTML document: the instruction (key–value list, or the sentence), then every
/// page as a `<section>` (the current one visible), each widget holding its current state.
pub fn form_html(form: &Form, state: &FormState) -> String {
    let phrases = phrases_table();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>teachgym web form</title>\
         <style>{STYLE}</style><script>{SCRIPT}</script></head><body>\n<div class=\"instruction\">"
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
        let class = if p == state.page {
            ""
        } else {
            " class=\"hidden\""
        };
        let _ = writeln!(html, "<section{class}>");
        for (i, el) in page.elements.iter().enumerate() {
            match (el.kind, el.role) {
                (ElementKind::StaticText, _) => {
                    let _ = writeln!(html, "<h3>{}</h3>", escape(&el.text));
                }
                (ElementKind::Label, _) => {
                    let _ = write!(
                        html,
                        "<div class=\"row\"><label class=\"field\">{}</label>",
                        escape(&el.text)
                    );
                }
                (_, Role::Input(w)) => {
                    let widget = &form.widgets[w];
                    if widget.placeholder_only {
                        html.push_str("<div class=\"row\">");
                    }
                    let name = escape(&el.name);
                    let value = form
                        .widget_value(state, w)
                        .map(|v| escape(&v.text()))
                        .unwrap_or_default();
                    let placeholder = if widget.placeholder_only {
                        format!(" placeholder=\"{name}\"")
                    } else {
                        String::new()
                    };
                    match widget.kind {
                        WidgetKind::Select => {
                            let _ = write!(
                                html,
                                "<select name=\"{name}\"><option value=\"\"></option>"
                            );
                            for (k, &o) in widget.options.iter().enumerate() {
                                let selected =
                                    if state.widgets[w] == WidgetState::Choice(Some(k as u8)) {
                                        " selected"
                                    } else {
                                        ""
                                    };
                                let _ = write!(
                                    html,
                                    "<option{selected}>{}</option>",
                                    escape(phrases.text(o))
                                );
                            }
                            html.push_str("</select>");
                        }
                        WidgetKind::Date => {
                            let iso = match &state.widgets[w] {
                                WidgetState::Date(Some(d)) => d.iso(),
                                _ => String::new(),
                            };
                            let _ = write!(html, "<input type=\"date\" name=\"{name}\" value=\"{iso}\"{placeholder}>");
                        }
                        WidgetKind::Autocomplete => {
                            let _ = write!(
                                html,
                                "<input type=\"text\" list=\"list{p}_{i}\" name=\"{name}\" value=\"{value}\"{placeholder}><datalist id=\"list{p}_{i}\">"
                            );
                            for &o in &widget.options {
                                let _ =
                                    write!(html, "<option value=\"{}\">", escape(phrases.text(o)));
                            }
                            html.push_str("</datalist>");
                        }
                        _ => {
                            let _ = write!(html, "<input type=\"text\" name=\"{name}\" value=\"{value}\"{placeholder}>");
                        }
                    }
                    html.push_str("</div>\n");
                }
                (_, Role::GroupOption { widget, option }) => {
                    let w = &form.widgets[widget];
                    if option == 0 && w.placeholder_only {
                        html.push_str("<div class=\"row\">");
                    }
                    let input = if w.kind == WidgetKind::Radio {
                        "radio"
                    } else {
                        "checkbox"
                    };
                    let checked = if Form::option_on(state, widget, option) {
                        " checked"
                    } else {
                        ""
                    };
                    let _ = write!(
                        html,
                        "<label><input type=\"{input}\" name=\"g{p}_{widget}\"{checked}> {}</label> ",
                        escape(&el.text)
                    );
                    if usize::from(option) + 1 == w.options.len() {
                        html.push_str("</div>\n");
                    }
                }
                (_, Role::Button(role)) => {
                    let onclick = match role {
                        ButtonRole::Next => format!(" onclick=\"showPage({})\"", p + 1),
                        ButtonRole::Back => {
                            format!(" onclick=\"showPage({})\"", p.saturating_sub(1))
                        }
                        ButtonRole::Submit => " onclick=\"alert('submitted')\"".to_string(),
                        _ => String::new(),
                    };
                    let _ = writeln!(
                        html,
                        "<button type=\"button\"{onclick}>{}</button>",
                        escape(&el.text)
                    );
                }
                (_, Role::Link) => {
                    let _ = writeln!(html, "<p><a href=\"#\">{}</a></p>", escape(&el.text));
                }
                _ => {}
            }
        }
        html.push_str("</section>\n");
    }
    html.push_str("</form>\n</body></html>\n");
    html
}

/// The instruction, the page number, then one line per element slot of the current view:
/// `[slot] tag "text" name=... value=...` indented by depth, marked `click` / `type` when those
/// actions are valid and `on` when an option is ticked. Slot numbers are the action slots.
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

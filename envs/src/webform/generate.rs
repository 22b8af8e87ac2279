//! The form generator: turns a task vector of 9 difficulty parameters in [0, 1] into a form
//! (layout, instruction, initial state). Discrete quantities use stochastic rounding so the task
//! distribution moves smoothly with the parameters. Every draw comes from the caller's RNG, in
//! a fixed order, so a seed and a task give one form.

use std::borrow::Cow;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use super::form::{
    days_in_month, ButtonRole, Date, Element, ElementKind, Field, Form, Page, Role, Tokens, Value,
    Widget, WidgetState, MAX_GROUP_OPTIONS, MAX_SELECT_OPTIONS,
};
use super::words::{
    phrases_table, FieldSpec, Pool, WidgetKind, CATALOGUE, DECOY_BUTTONS, DECOY_LINKS, FIRST_YEAR,
    LAST_YEAR, SIBLING_MODIFIERS,
};
use teachgym_core::Result;

use super::{WebFormConfig, TASK_DIMS};

/// Furthest a date target lies from the month calendars open on, in months, at
/// `widget_complexity = 1`.
pub const MAX_MONTH_REACH: f64 = 6.0;
/// Salt that derives the goal-simulation stream (which targets the instruction names) from the
/// seed of the language stream, so that drawing it consumes nothing of the other streams.
const GOAL_STREAM_SALT: u64 = 0x60A1_5EED_C0DE;
/// How strongly `widget_complexity` tilts the choice among non-text widgets towards the costly
/// ones (log-weight per hardness rank per unit of the parameter).
const KIND_TILT: f64 = 1.5;

/// `floor(x) + Bernoulli(frac(x))`: an integer whose mean is `x`.
pub fn stochastic_round(x: f64, rng: &mut Pcg64) -> usize {
    let floor = x.floor();
    let frac = x - floor;
    floor as usize + usize::from(rng.random::<f64>() < frac)
}

/// How a widget's label deviates from the instruction key (`label_ambiguity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LabelVariant {
    /// Label and name attribute are the key.
    Plain,
    /// A synonym of the key.
    Synonym,
    /// The key's abbreviation.
    Abbreviation,
    /// No label element; the key is only a placeholder.
    PlaceholderOnly,
    /// A label element with the key, but no name attribute on the widget itself.
    SiblingOnly,
}

/// One row of a page under construction.
#[derive(Debug, Clone, Copy)]
enum Row {
    Widget(usize),
    Decoy { text: &'static str, role: Role },
}

/// A widget under construction.
struct Draft {
    kind: WidgetKind,
    spec: usize,
    options: Vec<u16>,
    label: Cow<'static, str>,
    name: Cow<'static, str>,
    placeholder_only: bool,
    page: usize,
    target: Option<Value>,
}

fn sample_kind(complexity: f64, allowed: Option<&[WidgetKind]>, rng: &mut Pcg64) -> WidgetKind {
    if rng.random::<f64>() >= complexity {
        return WidgetKind::Text;
    }
    let weight = |rank: usize| libm::exp(KIND_TILT * complexity * (rank as f64 - 2.0));
    let kinds = WidgetKind::NON_TEXT;
    let total: f64 = (0..kinds.len()).map(weight).sum();
    let mut u = rng.random::<f64>() * total;
    let mut kind = kinds[kinds.len() - 1];
    for (rank, &k) in kinds.iter().enumerate() {
        u -= weight(rank);
        if u < 0.0 {
            kind = k;
            break;
        }
    }
    match allowed {
        Some(list) if !list.contains(&kind) => WidgetKind::Text,
        _ => kind,
    }
}

fn draw_value(spec: &FieldSpec, today: i32, reach: usize, rng: &mut Pcg64) -> Value {
    match spec.pool {
        Pool::Phrases(pool) => {
            let range = phrases_table().pool(pool);
            Value::Phrase(rng.random_range(range))
        }
        Pool::Dates => {
            let reach = reach as i32;
            let month_index = today + rng.random_range(-reach..=reach);
            let day = rng.random_range(1..=days_in_month(month_index));
            Value::Date(Date { month_index, day })
        }
    }
}

/// Options of a choice widget: `must` (if any) plus distinct others from the pool, shuffled;
/// more of them as `complexity` grows.
fn draw_options(
    kind: WidgetKind,
    spec: &FieldSpec,
    must: Option<Value>,
    complexity: f64,
    rng: &mut Pcg64,
) -> Vec<u16> {
    let Pool::Phrases(pool) = spec.pool else {
        return Vec::new();
    };
    let range = phrases_table().pool(pool);
    let count = match kind {
        WidgetKind::Radio | WidgetKind::Checkbox => {
            2 + stochastic_round(complexity * (MAX_GROUP_OPTIONS - 2) as f64, rng)
        }
        WidgetKind::Select => {
            3 + stochastic_round(complexity * (MAX_SELECT_OPTIONS - 3) as f64, rng)
        }
        WidgetKind::Autocomplete => return range.collect(),
        WidgetKind::Text | WidgetKind::Date => return Vec::new(),
    }
    .min(range.len());
    // A partial Fisher-Yates shuffle of the pool: `count` distinct entries, `must` first.
    let mut pool: Vec<u16> = range.collect();
    let mut chosen = 0;
    if let Some(Value::Phrase(p)) = must {
        if let Some(i) = pool.iter().position(|&o| o == p) {
            pool.swap(0, i);
            chosen = 1;
        }
    }
    for i in chosen..count {
        let j = rng.random_range(i..pool.len());
        pool.swap(i, j);
    }
    pool.truncate(count);
    let mut options = pool;
    options.shuffle(rng);
    options
}

fn label_for(
    key: &'static str,
    spec: &FieldSpec,
    ambiguity: f64,
    rng: &mut Pcg64,
) -> (Cow<'static, str>, Cow<'static, str>, bool) {
    let variant = if rng.random::<f64>() < ambiguity {
        match rng.random_range(0..4) {
            0 => LabelVariant::Synonym,
            1 => LabelVariant::Abbreviation,
            2 => LabelVariant::PlaceholderOnly,
            _ => LabelVariant::SiblingOnly,
        }
    } else {
        LabelVariant::Plain
    };
    // (label text, name attribute, placeholder only)
    match variant {
        LabelVariant::Plain => (key.into(), key.into(), false),
        LabelVariant::Synonym => {
            let s = spec.synonyms[rng.random_range(0..spec.synonyms.len())];
            (s.into(), s.into(), false)
        }
        LabelVariant::Abbreviation => (spec.abbreviation.into(), spec.abbreviation.into(), false),
        LabelVariant::PlaceholderOnly => (key.into(), key.into(), true),
        LabelVariant::SiblingOnly => (key.into(), "".into(), false),
    }
}

/// Builds a form for `task` (9 values in [0, 1], see the [module docs](super)) drawing from
/// `rng`.
///
/// # Errors
/// [`teachgym_core::Error::InvalidConfig`] for a bad configuration,
/// [`teachgym_core::Error::TaskDimension`] or [`teachgym_core::Error::TaskOutOfBounds`] for a bad
/// task.
pub fn generate(config: &WebFormConfig, task: &[f64], rng: &mut Pcg64) -> Result<Form> {
    config.validate()?;
    WebFormConfig::task_space().validate(task)?;
    let [n_fields, complexity, distractors, depth, noise, ambiguity, shuffle, cold_start, coverage] =
        <[f64; TASK_DIMS]>::try_from(task).expect("validated task length");
    let n_targets = 1 + stochastic_round(n_fields * (config.max_fields - 1) as f64, rng);
    let n_pages = (1 + stochastic_round(depth * (config.max_pages - 1) as f64, rng)).min(n_targets);
    let n_distractors = stochastic_round(distractors * config.max_distractors as f64, rng);
    let reach = stochastic_round(complexity * MAX_MONTH_REACH, rng);
    let reach_max = MAX_MONTH_REACH as i32;
    // Words and order (instruction noise, label variants, instruction order) draw from their own
    // stream, so those three axes never change the structure a seed gives. Goal coverage draws
    // from a third stream derived from the same seed (no draw of its own), so it never changes
    // the pages, widgets or values either, only which targets the instruction names.
    let lang_seed = rng.random::<u64>();
    let mut lang = Pcg64::seed_from_u64(lang_seed);
    let mut goal = Pcg64::seed_from_u64(lang_seed ^ GOAL_STREAM_SALT);
    let today_month =
        rng.random_range(FIRST_YEAR * 12 + reach_max..=LAST_YEAR * 12 + 11 - reach_max);

    // Targets, in document order.
    let mut used = vec![false; CATALOGUE.len()];
    let mut drafts: Vec<Draft> = Vec::new();
    for _ in 0..n_targets {
        let kind = sample_kind(complexity, None, rng);
        let pick = |used: &[bool], kind: WidgetKind| -> Vec<usize> {
            (0..CATALOGUE.len())
                .filter(|&s| !used[s] && CATALOGUE[s].kinds.contains(&kind))
                .collect()
        };
        let mut candidates = pick(&used, kind);
        let kind = if candidates.is_empty() {
            candidates = pick(&used, WidgetKind::Text);
            WidgetKind::Text
        } else {
            kind
        };
        let spec_index = candidates[rng.random_range(0..candidates.len())];
        used[spec_index] = true;
        let spec = &CATALOGUE[spec_index];
        // Two targets from one pool (from/to) never share a value.
        let value = loop {
            let v = draw_value(spec, today_month, reach, rng);
            if drafts.iter().all(|d| d.target != Some(v)) {
                break v;
            }
        };
        let options = draw_options(kind, spec, Some(value), complexity, rng);
        let (label, name, placeholder_only) = label_for(spec.key, spec, ambiguity, &mut lang);
        drafts.push(Draft {
            kind,
            spec: spec_index,
            options,
            label,
            name,
            placeholder_only,
            page: 0,
            target: Some(value),
        });
    }

    // Split the targets into contiguous, non-empty pages.
    let mut cuts: Vec<usize> = (1..n_targets).collect();
    cuts.shuffle(rng);
    let mut cuts: Vec<usize> = cuts.into_iter().take(n_pages - 1).collect();
    cuts.sort_unstable();
    for (t, draft) in drafts.iter_mut().enumerate() {
        draft.page = cuts.iter().filter(|&&c| c <= t).count();
    }
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); n_pages];
    for (t, draft) in drafts.iter().enumerate() {
        rows[draft.page].push(Row::Widget(t));
    }

    // Distractors: untargeted widgets (some of them confusable siblings of a target), decoy
    // buttons and links, each at a random position of a random page.
    for _ in 0..n_distractors {
        let row = if rng.random::<f64>() < 0.5 {
            if rng.random::<bool>() {
                let text = DECOY_BUTTONS[rng.random_range(0..DECOY_BUTTONS.len())];
                let role = match text {
                    "cancel" => ButtonRole::Cancel,
                    "reset" => ButtonRole::Reset,
                    _ => ButtonRole::SaveDraft,
                };
                (
                    rng.random_range(0..n_pages),
                    Row::Decoy {
                        text,
                        role: Role::Button(role),
                    },
                )
            } else {
                let text = DECOY_LINKS[rng.random_range(0..DECOY_LINKS.len())];
                (
                    rng.random_range(0..n_pages),
                    Row::Decoy {
                        text,
                        role: Role::Link,
                    },
                )
            }
        } else if lang.random::<f64>() < ambiguity {
            let of = rng.random_range(0..n_targets);
            let (kind, spec_index, page) = (drafts[of].kind, drafts[of].spec, drafts[of].page);
            let spec = &CATALOGUE[spec_index];
            let modifier = SIBLING_MODIFIERS[lang.random_range(0..SIBLING_MODIFIERS.len())];
            let label: Cow<'static, str> = format!("{modifier} {}", spec.key).into();
            let options = draw_options(kind, spec, None, complexity, rng);
            drafts.push(Draft {
                kind,
                spec: spec_index,
                options,
                name: label.clone(),
                label,
                placeholder_only: false,
                page,
                target: None,
            });
            (page, Row::Widget(drafts.len() - 1))
        } else {
            let free: Vec<usize> = (0..CATALOGUE.len()).filter(|&s| !used[s]).collect();
            if free.is_empty() {
                continue;
            }
            let spec_index = free[rng.random_range(0..free.len())];
            used[spec_index] = true;
            let spec = &CATALOGUE[spec_index];
            let kind = sample_kind(complexity, Some(spec.kinds), rng);
            let options = draw_options(kind, spec, None, complexity, rng);
            let (label, name, placeholder_only) = label_for(spec.key, spec, ambiguity, &mut lang);
            let page = rng.random_range(0..n_pages);
            drafts.push(Draft {
                kind,
                spec: spec_index,
                options,
                label,
                name,
                placeholder_only,
                page,
                target: None,
            });
            (page, Row::Widget(drafts.len() - 1))
        };
        let (page, row) = row;
        let at = rng.random_range(0..=rows[page].len());
        rows[page].insert(at, row);
    }

    // Drop distractor rows (the last in document order first) from pages over the element cap.
    let budget = config.page_element_budget();
    let row_len = |row: &Row| match *row {
        Row::Decoy { .. } => 1,
        Row::Widget(w) => {
            let d = &drafts[w];
            let label = usize::from(!d.placeholder_only);
            let inputs = match d.kind {
                WidgetKind::Radio | WidgetKind::Checkbox => d.options.len(),
                _ => 1,
            };
            1 + label + inputs
        }
    };
    for (p, page_rows) in rows.iter_mut().enumerate() {
        let fixed = 2 + usize::from(p > 0) + 1;
        while fixed + page_rows.iter().map(row_len).sum::<usize>() > budget {
            let last_distractor = page_rows
                .iter()
                .rposition(|r| !matches!(r, Row::Widget(w) if *w < n_targets))
                .expect("targets alone always fit the validated budget");
            page_rows.remove(last_distractor);
        }
    }

    // Goal simulation (QWeb's sub-instructions): the instruction names `max(1, sround(θ·F))`
    // of the F generated targets, chosen uniformly; the others stay on the form, untargeted.
    let n_named = stochastic_round(coverage * n_targets as f64, &mut goal).clamp(1, n_targets);
    let mut named = vec![true; n_targets];
    if n_named < n_targets {
        let mut pick: Vec<usize> = (0..n_targets).collect();
        pick.shuffle(&mut goal);
        named.fill(false);
        for &t in &pick[..n_named] {
            named[t] = true;
        }
    }

    // Instruction order: document order with `order_shuffle * F` random transpositions, then
    // the named targets only.
    let mut order: Vec<usize> = (0..n_targets).collect();
    for _ in 0..stochastic_round(shuffle * n_targets as f64, &mut lang) {
        let (i, j) = (
            lang.random_range(0..n_targets),
            lang.random_range(0..n_targets),
        );
        order.swap(i, j);
    }
    order.retain(|&t| named[t]);
    let mut fields: Vec<Field> = order
        .iter()
        .map(|&t| {
            let spec = &CATALOGUE[drafts[t].spec];
            let shown_key = if lang.random::<f64>() < noise {
                if lang.random::<bool>() {
                    spec.synonyms[lang.random_range(0..spec.synonyms.len())].to_string()
                } else {
                    String::new()
                }
            } else {
                spec.key.to_string()
            };
            let value = drafts[t].target.expect("targets carry a value");
            Field {
                key: spec.key,
                shown_key_tokens: Tokens::from_text(&shown_key),
                shown_key,
                value,
                value_tokens: value.tokens(),
                widget: t,
            }
        })
        .collect();
    let sentence = (lang.random::<f64>() < (2.0 * noise - 1.0).max(0.0)).then(|| {
        let opener = [
            "please enter",
            "fill in the form with",
            "book with",
            "register with",
        ][lang.random_range(0..4)];
        let clauses: Vec<String> = fields
            .iter()
            .map(|f| {
                if f.shown_key.is_empty() {
                    f.value.text()
                } else {
                    format!("{} {}", f.shown_key, f.value.text())
                }
            })
            .collect();
        format!("{opener} {} then submit", clauses.join(" and "))
    });

    // Widgets and initial states; `cold_start` sets how many named targets are not pre-filled.
    let mut widgets: Vec<Widget> = drafts
        .iter()
        .map(|d| Widget {
            kind: d.kind,
            options: d.options.clone(),
            target: None,
            page: d.page,
            element: 0,
            label: d.label.clone(),
            placeholder_only: d.placeholder_only,
        })
        .collect();
    for (f, field) in fields.iter().enumerate() {
        widgets[field.widget].target = Some(f);
    }
    let mut initial: Vec<WidgetState> =
        widgets.iter().map(|w| WidgetState::empty(w.kind)).collect();
    let n_prefilled = stochastic_round((1.0 - cold_start) * (n_named - 1) as f64, rng);
    let mut targets: Vec<usize> = (0..n_targets).filter(|&t| named[t]).collect();
    targets.shuffle(rng);
    for &t in &targets[..n_prefilled] {
        let value = drafts[t].target.expect("targets carry a value");
        let widget = &widgets[t];
        let index_of = |p: &Value| match p {
            Value::Phrase(p) => widget.options.iter().position(|o| o == p),
            Value::Date(_) => None,
        };
        initial[t] = match widget.kind {
            WidgetKind::Text => WidgetState::Text(Some(value)),
            WidgetKind::Radio | WidgetKind::Select => {
                WidgetState::Choice(index_of(&value).map(|i| i as u8))
            }
            WidgetKind::Checkbox => WidgetState::Checks(index_of(&value).map_or(0, |i| 1 << i)),
            WidgetKind::Autocomplete => WidgetState::Auto {
                committed: match value {
                    Value::Phrase(p) => Some(p),
                    Value::Date(_) => None,
                },
                typed: Some(value),
            },
            WidgetKind::Date => WidgetState::Date(match value {
                Value::Date(d) => Some(d),
                Value::Phrase(_) => None,
            }),
        };
    }

    // Elements.
    let mut pages = Vec::with_capacity(n_pages);
    for (p, page_rows) in rows.iter().enumerate() {
        let mut elements = Vec::new();
        let push = |elements: &mut Vec<Element>,
                    kind,
                    role,
                    parent: Option<u16>,
                    text: Cow<'static, str>,
                    name: Cow<'static, str>| {
            let depth = parent.map_or(0, |q: u16| elements[q as usize].depth + 1);
            elements.push(Element {
                kind,
                role,
                parent,
                depth,
                text_tokens: Tokens::from_text(&text),
                name_tokens: Tokens::from_text(&name),
                text,
                name,
            });
            (elements.len() - 1) as u16
        };
        let root = push(
            &mut elements,
            ElementKind::Container,
            Role::Inert,
            None,
            "".into(),
            "".into(),
        );
        let title = if n_pages > 1 {
            format!("step {} of {}", p + 1, n_pages)
        } else {
            "please complete the form".to_string()
        };
        push(
            &mut elements,
            ElementKind::StaticText,
            Role::Inert,
            Some(root),
            title.into(),
            "".into(),
        );
        for row in page_rows {
            match *row {
                Row::Decoy { text, role } => {
                    let kind = if role == Role::Link {
                        ElementKind::Link
                    } else {
                        ElementKind::Button
                    };
                    push(
                        &mut elements,
                        kind,
                        role,
                        Some(root),
                        text.into(),
                        "".into(),
                    );
                }
                Row::Widget(w) => {
                    let container = push(
                        &mut elements,
                        ElementKind::Container,
                        Role::Inert,
                        Some(root),
                        "".into(),
                        "".into(),
                    );
                    let d = &drafts[w];
                    if !d.placeholder_only {
                        push(
                            &mut elements,
                            ElementKind::Label,
                            Role::Inert,
                            Some(container),
                            d.label.clone(),
                            "".into(),
                        );
                    }
                    widgets[w].element = elements.len();
                    match d.kind {
                        WidgetKind::Radio | WidgetKind::Checkbox => {
                            let kind = if d.kind == WidgetKind::Radio {
                                ElementKind::Radio
                            } else {
                                ElementKind::Checkbox
                            };
                            for (i, &o) in d.options.iter().enumerate() {
                                let role = Role::GroupOption {
                                    widget: w,
                                    option: i as u8,
                                };
                                push(
                                    &mut elements,
                                    kind,
                                    role,
                                    Some(container),
                                    phrases_table().text(o).into(),
                                    d.name.clone(),
                                );
                            }
                        }
                        kind => {
                            let kind = match kind {
                                WidgetKind::Select => ElementKind::Select,
                                WidgetKind::Date => ElementKind::DateInput,
                                WidgetKind::Autocomplete => ElementKind::Autocomplete,
                                _ => ElementKind::TextInput,
                            };
                            push(
                                &mut elements,
                                kind,
                                Role::Input(w),
                                Some(container),
                                "".into(),
                                d.name.clone(),
                            );
                        }
                    }
                }
            }
        }
        if p > 0 {
            push(
                &mut elements,
                ElementKind::Button,
                Role::Button(ButtonRole::Back),
                Some(root),
                "back".into(),
                "".into(),
            );
        }
        let (text, role) = if p + 1 < n_pages {
            ("next", ButtonRole::Next)
        } else {
            ("submit", ButtonRole::Submit)
        };
        push(
            &mut elements,
            ElementKind::Button,
            Role::Button(role),
            Some(root),
            text.into(),
            "".into(),
        );
        pages.push(Page { elements });
    }
    // Widgets whose row was dropped for the element cap are gone from the page; keep their
    // state but they can never be acted on (they are untargeted).
    for (w, widget) in widgets.iter_mut().enumerate() {
        let placed = rows[widget.page]
            .iter()
            .any(|r| matches!(r, Row::Widget(x) if *x == w));
        if !placed {
            widget.element = usize::MAX;
        }
    }
    // In the sentence form the keys exist only inside the sentence.
    if sentence.is_some() {
        for f in &mut fields {
            f.shown_key_tokens = Tokens::default();
        }
    }

    Ok(Form {
        fields,
        pages,
        widgets,
        initial,
        today_month,
        sentence,
        level: config.interaction_level,
    })
}

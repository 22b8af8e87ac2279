//! The scripted solver: from the initial state of any generated form it submits correctly in
//! exactly [`Form::optimal_steps`] actions (each action fixes at most one field, and it never
//! spends an action a field does not need). It reads the hidden goal, so it is a reference, not
//! a baseline.

use std::sync::atomic::{AtomicU64, Ordering};

use super::form::{
    ButtonRole, Form, FormState, Popup, PopupEntry, Role, Value, WidgetState,
    CALENDAR_FIRST_DAY_SLOT,
};
use super::words::WidgetKind;
use super::InteractionLevel;

/// Calls of [`oracle_action`] in this process.
static ORACLE_CALLS: AtomicU64 = AtomicU64::new(0);

/// How many times [`oracle_action`] (and so [`super::WebFormEnv::oracle_action`]) ran in this
/// process: a test of a training path that must never ask the expert (MetaQWeb) reads it
/// before and after, alone in its test binary.
pub fn oracle_calls() -> u64 {
    ORACLE_CALLS.load(Ordering::Relaxed)
}

/// The oracle's next action as `(slot, field)`: `field == None` is `Click(slot)`,
/// `Some(j)` is `Type(slot, j)`.
pub fn oracle_action(form: &Form, state: &FormState) -> (usize, Option<usize>) {
    ORACLE_CALLS.fetch_add(1, Ordering::Relaxed);
    let page_len = form.pages[state.page].elements.len();
    // Finish the pop-up of a wrong field first.
    if let Some(popup) = &state.popup {
        let w = popup.widget();
        if let Some(f) = form.widgets[w]
            .target
            .filter(|&f| !form.field_correct(state, f))
        {
            let value = form.fields[f].value;
            match popup {
                Popup::Dropdown { .. } => {
                    if let Value::Phrase(p) = value {
                        if let Some(k) = form.widgets[w].options.iter().position(|&o| o == p) {
                            return (page_len + k, None);
                        }
                    }
                }
                Popup::Suggestions { items, .. } => {
                    if let Value::Phrase(p) = value {
                        if let Some(k) = items.iter().position(|&o| o == p) {
                            return (page_len + k, None);
                        }
                    }
                }
                Popup::Calendar { month_index, .. } => {
                    if let Value::Date(d) = value {
                        let entry = match d.month_index.cmp(month_index) {
                            std::cmp::Ordering::Less => 1,
                            std::cmp::Ordering::Greater => 2,
                            std::cmp::Ordering::Equal => {
                                CALENDAR_FIRST_DAY_SLOT + usize::from(d.day) - 1
                            }
                        };
                        debug_assert!(
                            entry < 3 || Form::popup_entry(popup, entry) == PopupEntry::Day(d.day)
                        );
                        return (page_len + entry, None);
                    }
                }
            }
        }
    }
    // The first wrong field of this page, in document order.
    let mut wrong: Vec<usize> = (0..form.fields.len())
        .filter(|&f| form.widgets[form.fields[f].widget].page == state.page)
        .filter(|&f| !form.field_correct(state, f))
        .collect();
    wrong.sort_by_key(|&f| form.widgets[form.fields[f].widget].element);
    if let Some(&f) = wrong.first() {
        let w = form.fields[f].widget;
        let widget = &form.widgets[w];
        let semantic = form.level == InteractionLevel::Semantic;
        return match widget.kind {
            WidgetKind::Text | WidgetKind::Autocomplete => (widget.element, Some(f)),
            WidgetKind::Select | WidgetKind::Date if semantic => (widget.element, Some(f)),
            WidgetKind::Select | WidgetKind::Date => (widget.element, None),
            WidgetKind::Radio | WidgetKind::Checkbox => {
                let target = match form.fields[f].value {
                    Value::Phrase(p) => widget.options.iter().position(|&o| o == p),
                    Value::Date(_) => None,
                };
                let option = match state.widgets[w] {
                    // Untick a wrong box first, else tick the right one.
                    WidgetState::Checks(bits) => (0..widget.options.len())
                        .find(|&i| (bits >> i) & 1 != u16::from(Some(i) == target))
                        .unwrap_or(0),
                    _ => target.unwrap_or(0),
                };
                (widget.element + option, None)
            }
        };
    }
    // Every field here is right: go back to a wrong one, forward, or submit.
    let earlier_wrong = (0..form.fields.len()).any(|f| {
        form.widgets[form.fields[f].widget].page < state.page && !form.field_correct(state, f)
    });
    let wanted = if earlier_wrong {
        ButtonRole::Back
    } else if state.page + 1 < form.pages.len() {
        ButtonRole::Next
    } else {
        ButtonRole::Submit
    };
    let button = form.pages[state.page]
        .elements
        .iter()
        .position(|e| e.role == Role::Button(wanted))
        .expect("every page has its navigation buttons");
    (button, None)
}

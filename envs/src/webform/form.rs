//! The page model of a generated form and its deterministic dynamics: pages of elements in a
//! tree, widget states, pop-ups (drop-down lists, calendars, suggestion lists), and what a
//! `Click` or a `Type` does to them. All randomness lives in the generator; nothing here draws.

use super::words::{
    number_word, phrases_table, vocab, PhraseId, WidgetKind, FIRST_YEAR, LAST_YEAR, MONTHS,
};
use super::InteractionLevel;
use std::borrow::Cow;
use std::sync::OnceLock;

/// Most tokens a string keeps (the observation may keep fewer, see
/// [`super::WebFormConfig::tokens_per_string`]).
pub const MAX_TOKENS: usize = 8;

/// Token ids of a short string, padded with 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    ids: [u32; MAX_TOKENS],
    len: u8,
}

impl Tokens {
    /// Tokenises `text` (whitespace-separated words of the compiled vocabulary), keeping at most
    /// [`MAX_TOKENS`] words.
    pub fn from_text(text: &str) -> Self {
        let v = vocab();
        let mut t = Tokens::default();
        for word in text.split_whitespace().take(MAX_TOKENS) {
            t.ids[t.len as usize] = v.id(word);
            t.len += 1;
        }
        t
    }

    /// Tokens of phrase `p`, precomputed.
    pub fn of_phrase(p: PhraseId) -> Self {
        token_tables().phrases[p as usize]
    }

    /// Tokens of an element kind's tag word, precomputed.
    pub fn of_tag(kind: ElementKind) -> Self {
        token_tables().tags[kind as usize]
    }

    /// The ids, without padding.
    pub fn as_slice(&self) -> &[u32] {
        &self.ids[..self.len as usize]
    }

    /// Whether the string had no word.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Tokens the observation needs on every step, computed once.
struct TokenTables {
    phrases: Vec<Tokens>,
    tags: Vec<Tokens>,
    months: [u32; 12],
}

fn token_tables() -> &'static TokenTables {
    static TABLES: OnceLock<TokenTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let phrases = phrases_table();
        let v = vocab();
        TokenTables {
            phrases: phrases.texts.iter().map(|t| Tokens::from_text(t)).collect(),
            tags: ElementKind::ALL
                .iter()
                .map(|k| Tokens::from_text(k.tag()))
                .collect(),
            months: MONTHS.map(|m| v.id(m)),
        }
    })
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Months since year 0 (`year * 12 + month`, month 0 = January).
    pub month_index: i32,
    /// Day of the month, from 1.
    pub day: u8,
}

impl Date {
    /// Calendar year.
    pub fn year(&self) -> i32 {
        self.month_index.div_euclid(12)
    }

    /// Month, 0 = January.
    pub fn month(&self) -> usize {
        self.month_index.rem_euclid(12) as usize
    }

    /// `"14 may 2026"`.
    pub fn text(&self) -> String {
        format!(
            "{} {} {}",
            self.day,
            MONTHS[self.month()],
            number_word(self.year())
        )
    }

    /// ISO `2026-05-14`, for HTML date inputs.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year(), self.month() + 1, self.day)
    }
}

/// Days in the month `month_index` (Gregorian).
pub fn days_in_month(month_index: i32) -> u8 {
    let year = month_index.div_euclid(12);
    match month_index.rem_euclid(12) {
        1 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        1 => 28,
        3 | 5 | 8 | 10 => 30,
        _ => 31,
    }
}

/// `"may 2026"`.
pub fn month_text(month_index: i32) -> String {
    format!(
        "{} {}",
        MONTHS[month_index.rem_euclid(12) as usize],
        number_word(month_index.div_euclid(12))
    )
}

/// A value an instruction field carries or a widget holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// An entry of a word list.
    Phrase(PhraseId),
    /// A date.
    Date(Date),
}

impl Value {
    /// The text shown for the value.
    pub fn text(&self) -> String {
        match self {
            Value::Phrase(p) => phrases_table().text(*p).to_string(),
            Value::Date(d) => d.text(),
        }
    }

    /// Tokens of [`Value::text`].
    pub fn tokens(&self) -> Tokens {
        match self {
            Value::Phrase(p) => Tokens::of_phrase(*p),
            Value::Date(d) => {
                let v = vocab();
                let mut t = Tokens::default();
                t.ids[0] = v.id(number_word(i32::from(d.day)));
                t.ids[1] = token_tables().months[d.month()];
                t.ids[2] = v.id(number_word(d.year()));
                t.len = 3;
                t
            }
        }
    }
}

/// What an element is. Its index is the one-hot position in the observation's element features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementKind {
    /// A `<form>`, a row or a field group; never actionable.
    Container,
    /// A label naming a widget.
    Label,
    /// Plain text (form title, page counter, calendar header).
    StaticText,
    /// A text input.
    TextInput,
    /// A drop-down list.
    Select,
    /// A date input.
    DateInput,
    /// A text input with suggestions.
    Autocomplete,
    /// One radio button of a group.
    Radio,
    /// One checkbox of a group.
    Checkbox,
    /// A button (Next, Back, Submit or a decoy).
    Button,
    /// A link; following it leaves the form.
    Link,
    /// An entry of an open pop-up: drop-down option, suggestion or calendar day.
    PopupOption,
    /// A calendar's previous/next-month button (calendars stop at January of the first and
    /// December of the last year dates are drawn from, 2025–2028).
    PopupNav,
}

impl ElementKind {
    /// Number of kinds.
    pub const COUNT: usize = 13;
    /// Every kind, in one-hot order.
    pub const ALL: [ElementKind; ElementKind::COUNT] = [
        ElementKind::Container,
        ElementKind::Label,
        ElementKind::StaticText,
        ElementKind::TextInput,
        ElementKind::Select,
        ElementKind::DateInput,
        ElementKind::Autocomplete,
        ElementKind::Radio,
        ElementKind::Checkbox,
        ElementKind::Button,
        ElementKind::Link,
        ElementKind::PopupOption,
        ElementKind::PopupNav,
    ];

    /// The tag word shown as the element's first attribute.
    pub fn tag(self) -> &'static str {
        match self {
            ElementKind::Container => "container",
            ElementKind::Label => "label",
            ElementKind::StaticText => "text",
            ElementKind::TextInput => "input",
            ElementKind::Select => "select",
            ElementKind::DateInput => "date",
            ElementKind::Autocomplete => "autocomplete",
            ElementKind::Radio => "radio",
            ElementKind::Checkbox => "checkbox",
            ElementKind::Button => "button",
            ElementKind::Link => "link",
            ElementKind::PopupOption => "option",
            ElementKind::PopupNav => "nav",
        }
    }
}

/// What a button does when clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonRole {
    /// Goes to the next page if every required (targeted) field of this page is non-empty;
    /// otherwise nothing happens (form validation).
    Next,
    /// Goes to the previous page.
    Back,
    /// Ends the episode; a success iff every targeted field holds its goal value.
    Submit,
    /// Decoy: ends the episode as a failure.
    Cancel,
    /// Decoy: empties every widget of the current page.
    Reset,
    /// Decoy: does nothing.
    SaveDraft,
}

/// What acting on an element does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Nothing (containers, labels, text).
    Inert,
    /// The single element of a text/select/date/autocomplete widget.
    Input(usize),
    /// Option `option` of a radio or checkbox group widget.
    GroupOption {
        /// Widget index.
        widget: usize,
        /// Option index within the widget.
        option: u8,
    },
    /// A button.
    Button(ButtonRole),
    /// A link (leaves the form: failure).
    Link,
}

/// One node of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Kind.
    pub kind: ElementKind,
    /// Effect of actions on it.
    pub role: Role,
    /// Index of the parent element within the same page.
    pub parent: Option<u16>,
    /// Depth in the tree (the form root is 0).
    pub depth: u8,
    /// Visible text.
    pub text: Cow<'static, str>,
    /// The `name` attribute, or the placeholder when there is no name.
    pub name: Cow<'static, str>,
    /// Tokens of `text`.
    pub text_tokens: Tokens,
    /// Tokens of `name`.
    pub name_tokens: Tokens,
}

/// A form widget: one field of the form, targeted by the instruction or a distractor.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// Widget kind.
    pub kind: WidgetKind,
    /// Choices (radio, checkbox, select) or the suggestion vocabulary (autocomplete).
    pub options: Vec<PhraseId>,
    /// Index of the instruction field it must hold, if targeted.
    pub target: Option<usize>,
    /// Page it lives on.
    pub page: usize,
    /// Index (within the page) of its input element or of its first group option.
    pub element: usize,
    /// The human label (for HTML), possibly ambiguous.
    pub label: Cow<'static, str>,
    /// Whether the label is only a placeholder (no `<label>` element).
    pub placeholder_only: bool,
}

/// The state of a widget.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetState {
    /// A text input's content.
    Text(Option<Value>),
    /// Selected option of a radio group or select.
    Choice(Option<u8>),
    /// Ticked options of a checkbox group (bit `i` = option `i`).
    Checks(u16),
    /// Autocomplete: the picked suggestion and the text typed so far.
    Auto {
        /// The picked (committed) suggestion; only this counts as the value.
        committed: Option<PhraseId>,
        /// Typed text not yet committed.
        typed: Option<Value>,
    },
    /// A date input's date.
    Date(Option<Date>),
}

impl WidgetState {
    /// The empty state of a widget of kind `kind`.
    pub fn empty(kind: WidgetKind) -> Self {
        match kind {
            WidgetKind::Text => WidgetState::Text(None),
            WidgetKind::Radio | WidgetKind::Select => WidgetState::Choice(None),
            WidgetKind::Checkbox => WidgetState::Checks(0),
            WidgetKind::Autocomplete => WidgetState::Auto {
                committed: None,
                typed: None,
            },
            WidgetKind::Date => WidgetState::Date(None),
        }
    }
}

/// One instruction field: a key and the value to enter.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Canonical key (the catalogue's).
    pub key: &'static str,
    /// Key as the instruction shows it: the key, a synonym, or empty (omitted).
    pub shown_key: String,
    /// Tokens of `shown_key`.
    pub shown_key_tokens: Tokens,
    /// The value.
    pub value: Value,
    /// Tokens of the value.
    pub value_tokens: Tokens,
    /// The widget that must hold it.
    pub widget: usize,
}

impl Field {
    /// How the instruction shows the field: `key: value`, or the value alone when the key is
    /// omitted.
    pub fn shown_text(&self) -> String {
        if self.shown_key.is_empty() {
            self.value.text()
        } else {
            format!("{}: {}", self.shown_key, self.value.text())
        }
    }
}

/// One page of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Elements in document order; parents precede children.
    pub elements: Vec<Element>,
}

/// An open pop-up (only at the `widget` interaction level).
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// A select's option list.
    Dropdown {
        /// Widget index.
        widget: usize,
    },
    /// An autocomplete's suggestions.
    Suggestions {
        /// Widget index.
        widget: usize,
        /// Suggested phrases, in display order.
        items: Vec<PhraseId>,
    },
    /// A date input's calendar showing one month.
    Calendar {
        /// Widget index.
        widget: usize,
        /// Month shown.
        month_index: i32,
    },
}

impl Popup {
    /// The widget that opened it.
    pub fn widget(&self) -> usize {
        match self {
            Popup::Dropdown { widget }
            | Popup::Suggestions { widget, .. }
            | Popup::Calendar { widget, .. } => *widget,
        }
    }
}

/// Index of the first day cell in a calendar pop-up (after header, previous, next).
pub const CALENDAR_FIRST_DAY_SLOT: usize = 3;
/// Most entries of a suggestion list.
pub const MAX_SUGGESTIONS: usize = 6;
/// Most options of a select.
pub const MAX_SELECT_OPTIONS: usize = 8;
/// Most options of a radio or checkbox group.
pub const MAX_GROUP_OPTIONS: usize = 4;
/// Most pop-up entries at once (a calendar: header, two buttons, 31 days).
pub const MAX_POPUP_ITEMS: usize = CALENDAR_FIRST_DAY_SLOT + 31;

/// A generated form: layout, instruction and initial widget states. Immutable during an episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// Instruction fields, in instruction order.
    pub fields: Vec<Field>,
    /// Pages.
    pub pages: Vec<Page>,
    /// Widgets, targets and distractors.
    pub widgets: Vec<Widget>,
    /// Widget states at reset (pre-filled targets already hold their value).
    pub initial: Vec<WidgetState>,
    /// The month calendars open on when their input is empty.
    pub today_month: i32,
    /// The instruction as a sentence, when instruction noise chose the sentence form.
    pub sentence: Option<String>,
    /// How `Type` on selects, dates and autocompletes behaves.
    pub level: InteractionLevel,
}

/// The mutable state of an episode.
#[derive(Debug, Clone, PartialEq)]
pub struct FormState {
    /// One state per widget of the form.
    pub widgets: Vec<WidgetState>,
    /// Current page.
    pub page: usize,
    /// Open pop-up, if any.
    pub popup: Option<Popup>,
    /// A Next was refused on this page (a required field is empty) and the page shows why,
    /// as a browser shows its validation message: every required widget of the page that is
    /// still empty is marked invalid ([`Form::marked_invalid`]). Cleared when the page changes
    /// and by Reset.
    pub validation_shown: bool,
}

/// The element behind a slot of the current view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Element `index` of the current page.
    Page(usize),
    /// Entry `index` of the open pop-up.
    Popup(usize),
}

/// What an entry of a pop-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopupEntry {
    /// A calendar's month header (inert).
    Header,
    /// Previous month.
    PrevMonth,
    /// Next month.
    NextMonth,
    /// A calendar day.
    Day(u8),
    /// Option `i` of a drop-down.
    Option(u8),
    /// Suggestion `i`.
    Suggestion(u8),
}

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The action was not valid in this view (a documented no-op).
    pub invalid: bool,
    /// The episode ended: `Some(true)` by a correct submission, `Some(false)` by a wrong one,
    /// a decoy terminal button or a link.
    pub ended: Option<bool>,
    /// The set of elements shown changed (page or pop-up): the observation must be rebuilt.
    pub view_changed: bool,
    /// The state of this widget changed.
    pub changed_widget: Option<usize>,
    /// Every element of the page may have changed: Reset emptied its widgets, or a refused
    /// Next marked its empty required widgets invalid.
    pub page_restyled: bool,
}

impl Form {
    /// Initial state of an episode.
    pub fn initial_state(&self) -> FormState {
        FormState {
            widgets: self.initial.clone(),
            page: 0,
            popup: None,
            validation_shown: false,
        }
    }

    /// Number of slots of the current view.
    pub fn slot_count(&self, state: &FormState) -> usize {
        self.pages[state.page].elements.len()
            + state.popup.as_ref().map_or(0, |p| self.popup_len(p))
    }

    /// Which element a slot is.
    pub fn slot(&self, state: &FormState, slot: usize) -> Option<Slot> {
        let n_page = self.pages[state.page].elements.len();
        if slot < n_page {
            Some(Slot::Page(slot))
        } else if state
            .popup
            .as_ref()
            .is_some_and(|p| slot - n_page < self.popup_len(p))
        {
            Some(Slot::Popup(slot - n_page))
        } else {
            None
        }
    }

    /// Number of entries of a pop-up.
    pub fn popup_len(&self, popup: &Popup) -> usize {
        match popup {
            Popup::Dropdown { widget } => self.widgets[*widget].options.len(),
            Popup::Suggestions { items, .. } => items.len(),
            Popup::Calendar { month_index, .. } => {
                CALENDAR_FIRST_DAY_SLOT + days_in_month(*month_index) as usize
            }
        }
    }

    /// Entry `i` of a pop-up.
    pub fn popup_entry(popup: &Popup, i: usize) -> PopupEntry {
        match popup {
            Popup::Dropdown { .. } => PopupEntry::Option(i as u8),
            Popup::Suggestions { .. } => PopupEntry::Suggestion(i as u8),
            Popup::Calendar { .. } => match i {
                0 => PopupEntry::Header,
                1 => PopupEntry::PrevMonth,
                2 => PopupEntry::NextMonth,
                _ => PopupEntry::Day((i - CALENDAR_FIRST_DAY_SLOT + 1) as u8),
            },
        }
    }

    /// The text of entry `i` of a pop-up: the month (calendar header), `prev`, `next`, the day
    /// number, or the option or suggestion.
    pub fn popup_entry_text(&self, popup: &Popup, i: usize) -> Cow<'static, str> {
        let phrases = phrases_table();
        match (popup, Self::popup_entry(popup, i)) {
            (Popup::Calendar { month_index, .. }, PopupEntry::Header) => {
                month_text(*month_index).into()
            }
            (_, PopupEntry::PrevMonth) => "prev".into(),
            (_, PopupEntry::NextMonth) => "next".into(),
            (_, PopupEntry::Day(d)) => d.to_string().into(),
            (_, PopupEntry::Option(k)) => phrases
                .text(self.widgets[popup.widget()].options[k as usize])
                .into(),
            (Popup::Suggestions { items, .. }, PopupEntry::Suggestion(k)) => {
                phrases.text(items[k as usize]).into()
            }
            _ => unreachable!("pop-up entry does not belong to its pop-up"),
        }
    }

    /// Whether `Click` is valid on a slot.
    pub fn clickable(&self, state: &FormState, slot: Slot) -> bool {
        match slot {
            Slot::Page(i) => match self.pages[state.page].elements[i].role {
                Role::Inert => false,
                Role::Input(w) => {
                    self.level == InteractionLevel::Widget
                        && matches!(self.widgets[w].kind, WidgetKind::Select | WidgetKind::Date)
                }
                Role::GroupOption { .. } | Role::Button(_) | Role::Link => true,
            },
            Slot::Popup(i) => {
                let popup = state.popup.as_ref().expect("popup slot without popup");
                Self::popup_entry(popup, i) != PopupEntry::Header
            }
        }
    }

    /// Whether `Type` is valid on a slot (for any existing instruction field).
    pub fn typable(&self, state: &FormState, slot: Slot) -> bool {
        match slot {
            Slot::Page(i) => match self.pages[state.page].elements[i].role {
                Role::Input(w) => match self.widgets[w].kind {
                    WidgetKind::Text | WidgetKind::Autocomplete => true,
                    WidgetKind::Select | WidgetKind::Date => {
                        self.level == InteractionLevel::Semantic
                    }
                    WidgetKind::Radio | WidgetKind::Checkbox => false,
                },
                _ => false,
            },
            Slot::Popup(_) => false,
        }
    }

    /// Whether widget `w` holds `value`.
    pub fn holds(&self, state: &FormState, w: usize, value: Value) -> bool {
        let widget = &self.widgets[w];
        match (&state.widgets[w], value) {
            (WidgetState::Text(v), _) => *v == Some(value),
            (WidgetState::Choice(c), Value::Phrase(p)) => {
                c.is_some_and(|c| widget.options[c as usize] == p)
            }
            (WidgetState::Checks(bits), Value::Phrase(p)) => widget
                .options
                .iter()
                .position(|&o| o == p)
                .is_some_and(|i| *bits == 1 << i),
            (WidgetState::Auto { committed, .. }, Value::Phrase(p)) => *committed == Some(p),
            (WidgetState::Date(d), Value::Date(t)) => *d == Some(t),
            _ => false,
        }
    }

    /// Whether instruction field `f` is correctly entered.
    pub fn field_correct(&self, state: &FormState, f: usize) -> bool {
        let field = &self.fields[f];
        self.holds(state, field.widget, field.value)
    }

    /// Number of correctly entered instruction fields.
    pub fn n_correct(&self, state: &FormState) -> usize {
        (0..self.fields.len())
            .filter(|&f| self.field_correct(state, f))
            .count()
    }

    /// Whether a widget holds anything (a committed value, a tick, a choice).
    pub fn is_filled(state: &WidgetState) -> bool {
        match state {
            WidgetState::Text(v) => v.is_some(),
            WidgetState::Choice(c) => c.is_some(),
            WidgetState::Checks(bits) => *bits != 0,
            WidgetState::Auto { committed, .. } => committed.is_some(),
            WidgetState::Date(d) => d.is_some(),
        }
    }

    /// Whether widget `w` is on the page in view, required (targeted: HTML `required`) and
    /// still empty: such a widget blocks Next.
    pub fn required_and_empty(&self, state: &FormState, w: usize) -> bool {
        let widget = &self.widgets[w];
        widget.page == state.page && widget.target.is_some() && !Self::is_filled(&state.widgets[w])
    }

    /// Whether widget `w` shows as invalid: a refused Next on its page marked it (see
    /// [`FormState::validation_shown`]) and it still blocks Next
    /// ([`Form::required_and_empty`]). Live, as a browser's `:user-invalid`: filling the widget
    /// clears its mark.
    pub fn marked_invalid(&self, state: &FormState, w: usize) -> bool {
        state.validation_shown && self.required_and_empty(state, w)
    }

    /// Month a calendar opens on: the input's date if set, otherwise "today".
    pub fn calendar_start(&self, state: &WidgetState) -> i32 {
        match state {
            WidgetState::Date(Some(d)) => d.month_index,
            _ => self.today_month,
        }
    }

    /// Fewest actions that make field `f` correct from `state`, when no pop-up is open.
    pub fn field_cost(&self, state: &FormState, f: usize) -> u32 {
        if self.field_correct(state, f) {
            return 0;
        }
        let field = &self.fields[f];
        let w = field.widget;
        let widget_level = self.level == InteractionLevel::Widget;
        match (self.widgets[w].kind, &state.widgets[w]) {
            (WidgetKind::Checkbox, WidgetState::Checks(bits)) => {
                let target = match field.value {
                    Value::Phrase(p) => self.widgets[w]
                        .options
                        .iter()
                        .position(|&o| o == p)
                        .map_or(0, |i| 1u16 << i),
                    Value::Date(_) => 0,
                };
                (bits ^ target).count_ones()
            }
            (WidgetKind::Select | WidgetKind::Autocomplete, _) if widget_level => 2,
            (WidgetKind::Date, s) if widget_level => {
                let Value::Date(target) = field.value else {
                    unreachable!("date widgets hold date fields")
                };
                2 + (target.month_index - self.calendar_start(s)).unsigned_abs()
            }
            _ => 1,
        }
    }

    /// Fewest actions from `state` (no pop-up open, on the first page) to a successful
    /// submission: every wrong field's cost, one Next per page boundary and the Submit.
    pub fn optimal_steps(&self, state: &FormState) -> u32 {
        let fill: u32 = (0..self.fields.len())
            .map(|f| self.field_cost(state, f))
            .sum();
        fill + (self.pages.len() as u32 - 1) + 1
    }

    /// Suggestions for text typed into autocomplete widget `w`: its options sharing the first
    /// two letters, alphabetically, at most [`MAX_SUGGESTIONS`], always including an exact match.
    pub fn suggestions(&self, w: usize, typed: Value) -> Vec<PhraseId> {
        let phrases = phrases_table();
        let typed_text = typed.text();
        let prefix: String = typed_text.chars().take(2).collect();
        let mut matches: Vec<PhraseId> = self.widgets[w]
            .options
            .iter()
            .copied()
            .filter(|&p| phrases.text(p).starts_with(&prefix))
            .collect();
        matches.sort_by_key(|&p| phrases.text(p));
        if matches.len() > MAX_SUGGESTIONS {
            let exact = matches.iter().position(|&p| phrases.text(p) == typed_text);
            let mut kept: Vec<PhraseId> = matches
                .iter()
                .copied()
                .filter(|&p| Some(p) != exact.map(|i| matches[i]))
                .take(MAX_SUGGESTIONS - usize::from(exact.is_some()))
                .collect();
            if let Some(i) = exact {
                kept.push(matches[i]);
                kept.sort_by_key(|&p| phrases.text(p));
            }
            matches = kept;
        }
        matches
    }

    /// Applies `Click(slot)` (`field == None`) or `Type(slot, field)`.
    /// Invalid combinations change nothing and report `invalid`.
    pub fn apply(&self, state: &mut FormState, slot: usize, field: Option<usize>) -> Outcome {
        let Some(s) = self.slot(state, slot) else {
            return Outcome {
                invalid: true,
                ..Outcome::default()
            };
        };
        let valid = match field {
            None => self.clickable(state, s),
            Some(f) => f < self.fields.len() && self.typable(state, s),
        };
        if !valid {
            return Outcome {
                invalid: true,
                ..Outcome::default()
            };
        }
        match s {
            Slot::Popup(i) => self.apply_popup(state, i),
            Slot::Page(i) => {
                let mut outcome = Outcome::default();
                let role = self.pages[state.page].elements[i].role;
                if let Some(popup) = state.popup.take() {
                    outcome.view_changed = true;
                    // Clicking the opener of the open pop-up only closes it.
                    if field.is_none() && role == Role::Input(popup.widget()) {
                        return outcome;
                    }
                }
                match field {
                    None => self.apply_click(state, role, &mut outcome),
                    Some(f) => self.apply_type(state, role, f, &mut outcome),
                }
                outcome
            }
        }
    }

    fn apply_popup(&self, state: &mut FormState, i: usize) -> Outcome {
        let popup = state.popup.clone().expect("popup slot without popup");
        let w = popup.widget();
        let mut outcome = Outcome {
            view_changed: true,
            changed_widget: Some(w),
            ..Outcome::default()
        };
        match (&popup, Self::popup_entry(&popup, i)) {
            (_, PopupEntry::Option(k)) => {
                state.widgets[w] = WidgetState::Choice(Some(k));
                state.popup = None;
            }
            (Popup::Suggestions { items, .. }, PopupEntry::Suggestion(k)) => {
                let p = items[k as usize];
                state.widgets[w] = WidgetState::Auto {
                    committed: Some(p),
                    typed: Some(Value::Phrase(p)),
                };
                state.popup = None;
            }
            (Popup::Calendar { month_index, .. }, PopupEntry::Day(d)) => {
                state.widgets[w] = WidgetState::Date(Some(Date {
                    month_index: *month_index,
                    day: d,
                }));
                state.popup = None;
            }
            (Popup::Calendar { month_index, .. }, nav) => {
                let step = if nav == PopupEntry::PrevMonth { -1 } else { 1 };
                // Calendars span FIRST_YEAR..=LAST_YEAR, as a date picker's min and max.
                let target = (month_index + step).clamp(FIRST_YEAR * 12, LAST_YEAR * 12 + 11);
                outcome.changed_widget = None;
                outcome.view_changed = target != *month_index;
                state.popup = Some(Popup::Calendar {
                    widget: w,
                    month_index: target,
                });
            }
            _ => unreachable!("pop-up entry does not belong to its pop-up"),
        }
        outcome
    }

    fn apply_click(&self, state: &mut FormState, role: Role, outcome: &mut Outcome) {
        match role {
            Role::GroupOption { widget, option } => {
                state.widgets[widget] = match state.widgets[widget] {
                    WidgetState::Checks(bits) => WidgetState::Checks(bits ^ (1 << option)),
                    _ => WidgetState::Choice(Some(option)),
                };
                outcome.changed_widget = Some(widget);
            }
            Role::Input(w) => {
                state.popup = Some(match self.widgets[w].kind {
                    WidgetKind::Select => Popup::Dropdown { widget: w },
                    _ => Popup::Calendar {
                        widget: w,
                        month_index: self.calendar_start(&state.widgets[w]),
                    },
                });
                outcome.view_changed = true;
            }
            Role::Button(ButtonRole::Next) => {
                let page_filled =
                    !(0..self.widgets.len()).any(|w| self.required_and_empty(state, w));
                if page_filled && state.page + 1 < self.pages.len() {
                    state.page += 1;
                    state.validation_shown = false;
                    outcome.view_changed = true;
                } else if !page_filled && !state.validation_shown {
                    state.validation_shown = true;
                    outcome.page_restyled = true;
                }
            }
            Role::Button(ButtonRole::Back) => {
                if state.page > 0 {
                    state.page -= 1;
                    state.validation_shown = false;
                    outcome.view_changed = true;
                }
            }
            Role::Button(ButtonRole::Submit) => {
                outcome.ended = Some(self.n_correct(state) == self.fields.len());
            }
            Role::Button(ButtonRole::Cancel) | Role::Link => outcome.ended = Some(false),
            Role::Button(ButtonRole::Reset) => {
                for (w, widget) in self.widgets.iter().enumerate() {
                    if widget.page == state.page {
                        state.widgets[w] = WidgetState::empty(widget.kind);
                    }
                }
                state.validation_shown = false;
                outcome.page_restyled = true;
            }
            Role::Button(ButtonRole::SaveDraft) | Role::Inert => {}
        }
    }

    fn apply_type(&self, state: &mut FormState, role: Role, f: usize, outcome: &mut Outcome) {
        let Role::Input(w) = role else {
            unreachable!("typable slots are inputs")
        };
        let value = self.fields[f].value;
        let widget = &self.widgets[w];
        let new_state = match (widget.kind, value) {
            (WidgetKind::Text, v) => Some(WidgetState::Text(Some(v))),
            // A value the widget cannot hold (a name typed into a date input, a word that is not
            // an option) leaves it holding nothing valid: it is emptied.
            (WidgetKind::Select, v) => Some(WidgetState::Choice(match v {
                Value::Phrase(p) => widget.options.iter().position(|&o| o == p).map(|k| k as u8),
                Value::Date(_) => None,
            })),
            (WidgetKind::Date, v) => Some(WidgetState::Date(match v {
                Value::Date(d) => Some(d),
                Value::Phrase(_) => None,
            })),
            (WidgetKind::Autocomplete, v) if self.level == InteractionLevel::Widget => {
                let items = self.suggestions(w, v);
                if !items.is_empty() {
                    state.popup = Some(Popup::Suggestions { widget: w, items });
                    outcome.view_changed = true;
                }
                Some(WidgetState::Auto {
                    committed: None,
                    typed: Some(v),
                })
            }
            (WidgetKind::Autocomplete, v) => Some(WidgetState::Auto {
                committed: match v {
                    Value::Phrase(p) if widget.options.contains(&p) => Some(p),
                    _ => None,
                },
                typed: Some(v),
            }),
            (WidgetKind::Radio | WidgetKind::Checkbox, _) => None,
        };
        if let Some(s) = new_state {
            if s != state.widgets[w] {
                state.widgets[w] = s;
                outcome.changed_widget = Some(w);
            }
        }
    }

    /// The text of a widget's current content (what its value attribute shows).
    pub fn widget_value(&self, state: &FormState, w: usize) -> Option<Value> {
        let widget = &self.widgets[w];
        match &state.widgets[w] {
            WidgetState::Text(v) => *v,
            WidgetState::Choice(c) => c.map(|c| Value::Phrase(widget.options[c as usize])),
            WidgetState::Checks(_) => None,
            WidgetState::Auto { committed, typed } => committed.map(Value::Phrase).or(*typed),
            WidgetState::Date(d) => d.map(Value::Date),
        }
    }

    /// Whether option `option` of group widget `w` is ticked/selected.
    pub fn option_on(state: &FormState, w: usize, option: u8) -> bool {
        match state.widgets[w] {
            WidgetState::Checks(bits) => bits & (1 << option) != 0,
            WidgetState::Choice(c) => c == Some(option),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_arithmetic() {
        let feb_2028 = 2028 * 12 + 1;
        assert_eq!(days_in_month(feb_2028), 29);
        assert_eq!(days_in_month(2026 * 12 + 1), 28);
        assert_eq!(days_in_month(2026 * 12 + 3), 30);
        let d = Date {
            month_index: 2026 * 12 + 4,
            day: 14,
        };
        assert_eq!(d.text(), "14 may 2026");
        assert_eq!(d.iso(), "2026-05-14");
        assert_eq!(Value::Date(d).tokens().as_slice().len(), 3);
        assert_eq!(month_text(2027 * 12), "january 2027");
    }
}

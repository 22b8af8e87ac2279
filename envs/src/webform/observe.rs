//! The web-form observation: fixed-shape arrays (instruction tokens, element tokens and
//! features, masks, QWeb's word-overlap features, progress) kept in preallocated buffers and
//! updated incrementally: the whole view is re-encoded only when the page or the pop-up changes,
//! otherwise only the elements of the widget that changed.

use teachgym_core::{BoxSpace, DType, Result, Space};

use super::form::{
    month_text, Date, ElementKind, Form, FormState, Popup, PopupEntry, Role, Slot, Tokens, Value,
    WidgetState, MAX_TOKENS,
};
use super::words::{number_word, vocab, WidgetKind};
use super::WebFormConfig;

/// String attributes per element, in order: tag, visible text, name (or placeholder), value.
pub const ATTRIBUTES: usize = 4;
/// Features per element (see [`WebFormObs::dom_feat`]).
pub const ELEMENT_FEATURES: usize = ElementKind::COUNT + 10;
/// Word-overlap features per (field, element) pair (see [`WebFormObs::match_feat`]).
pub const MATCH_FEATURES: usize = 3;
/// Progress features (see [`WebFormObs::progress`]).
pub const PROGRESS_FEATURES: usize = 3;

const FEAT_CLICKABLE: usize = ElementKind::COUNT;
const FEAT_TYPABLE: usize = ElementKind::COUNT + 1;
const FEAT_FILLED: usize = ElementKind::COUNT + 2;
/// Index in an element's [`WebFormObs::dom_feat`] row of the `filled` flag (an input holds a
/// value, an option is ticked).
pub const FILLED_FEATURE: usize = FEAT_FILLED;
const FEAT_POPUP: usize = ElementKind::COUNT + 3;
const FEAT_EXPANDED: usize = ElementKind::COUNT + 4;
const FEAT_DEPTH: usize = ElementKind::COUNT + 5;
const FEAT_PARENT: usize = ElementKind::COUNT + 6;
/// Index in an element's [`WebFormObs::dom_feat`] row of `(parent slot + 1) / E` (0 for the
/// root), from which a network can rebuild the page's tree.
pub const PARENT_FEATURE: usize = FEAT_PARENT;
const FEAT_POSITION: usize = ElementKind::COUNT + 7;
const FEAT_TYPED: usize = ElementKind::COUNT + 8;
/// Index in an element's [`WebFormObs::dom_feat`] row of the `invalid` mark (the last
/// feature: a network trained before it existed reads the row without it).
pub const INVALID_FEATURE: usize = ElementKind::COUNT + 9;

/// One observation of a web-form env. Shapes use `F = max_fields`, `E = max_elements`,
/// `T = tokens_per_string`, `L = instruction_tokens`, `A = ATTRIBUTES`, `K = ELEMENT_FEATURES`;
/// arrays are row-major; token ids are in `0..vocab_size()` with 0 = padding.
///
/// For a QWeb-style factorised Q-network: field `j`'s features are row `j` of `instr_key`,
/// `instr_val` and the `j`-th `(E, 3)` block of `match_feat`; element `e`'s features are block
/// `e` of `dom_tokens`, row `e` of `dom_feat` and column `e` of `match_feat`. The flat action
/// `e·(1 + F) + 0` clicks element `e`, `e·(1 + F) + 1 + j` types field `j` into it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebFormObs {
    /// `(F, T)` token ids of the instruction keys as shown (a synonym, or empty when omitted,
    /// and all empty when the instruction is a sentence).
    pub instr_key: Vec<i64>,
    /// `(F, T)` token ids of the instruction values.
    pub instr_val: Vec<i64>,
    /// `(F,)` 1 for real instruction fields.
    pub instr_mask: Vec<u8>,
    /// `(L,)` token ids of the sentence-form instruction (all 0 in key–value form).
    pub instr_text: Vec<i64>,
    /// `(E, A, T)` token ids of each element's tag, text, name (or placeholder) and current
    /// value.
    pub dom_tokens: Vec<i64>,
    /// `(E, K)` element features in [0, 1]: kind one-hot (13, in [`ElementKind`] order),
    /// clickable, typable, filled (input holds a value / option ticked), pop-up entry,
    /// expanded (its pop-up is open), depth / 4, (parent slot + 1) / E, slot / E,
    /// typed-but-not-picked (autocomplete), invalid (a refused Next marked the element's
    /// required widget, still empty: [`Form::marked_invalid`]).
    pub dom_feat: Vec<f32>,
    /// `(E,)` 1 for real element slots (the page's elements, then the open pop-up's entries).
    pub dom_mask: Vec<u8>,
    /// `(F, E, 3)` QWeb shallow features: Jaccard(shown key, element text ∪ name), Jaccard(value,
    /// element text), and 1 if the element's current value (inputs) or its option/day (options,
    /// pop-up entries) equals the field value. Zero when `match_features` is off.
    pub match_feat: Vec<f32>,
    /// `(E·(1 + F),)` 1 for valid flat actions.
    pub action_mask: Vec<u8>,
    /// `(F,)` 1 if some widget of the form, on any page, holds field `j`'s value (as
    /// [`Form::holds`] judges it: a committed value, the chosen or only ticked option). The
    /// hidden pages of a multi-page form stay in its document, so a browser agent can read
    /// this too; it says where a value went, not whether that widget is the field's own.
    pub instr_placed: Vec<u8>,
    /// `(3,)` steps / step limit, page / (max_pages − 1), (pages − 1) / (max_pages − 1).
    pub progress: Vec<f32>,
}

impl WebFormObs {
    /// Zeroed buffers for `config`'s caps.
    pub(crate) fn zeros(config: &WebFormConfig) -> Self {
        let (f, e, t) = (
            config.max_fields,
            config.max_elements,
            config.tokens_per_string,
        );
        Self {
            instr_key: vec![0; f * t],
            instr_val: vec![0; f * t],
            instr_mask: vec![0; f],
            instr_text: vec![0; config.instruction_tokens],
            dom_tokens: vec![0; e * ATTRIBUTES * t],
            dom_feat: vec![0.0; e * ELEMENT_FEATURES],
            dom_mask: vec![0; e],
            match_feat: vec![0.0; f * e * MATCH_FEATURES],
            action_mask: vec![0; config.n_actions()],
            instr_placed: vec![0; f],
            progress: vec![0.0; PROGRESS_FEATURES],
        }
    }

    /// Length of [`WebFormObs::write_flat`]'s output.
    pub fn flat_len(&self) -> usize {
        self.instr_key.len()
            + self.instr_val.len()
            + self.instr_mask.len()
            + self.instr_text.len()
            + self.dom_tokens.len()
            + self.dom_feat.len()
            + self.dom_mask.len()
            + self.match_feat.len()
            + self.action_mask.len()
            + self.instr_placed.len()
            + self.progress.len()
    }

    /// Appends every array, in the order of the observation space's keys, as `f32` (token ids
    /// as their integer value) to `out`.
    pub fn write_flat(&self, out: &mut Vec<f32>) {
        out.reserve(self.flat_len());
        for ids in [&self.instr_key, &self.instr_val] {
            out.extend(ids.iter().map(|&v| v as f32));
        }
        out.extend(self.instr_mask.iter().map(|&v| f32::from(v)));
        out.extend(self.instr_text.iter().map(|&v| v as f32));
        out.extend(self.dom_tokens.iter().map(|&v| v as f32));
        out.extend_from_slice(&self.dom_feat);
        out.extend(self.dom_mask.iter().map(|&v| f32::from(v)));
        out.extend_from_slice(&self.match_feat);
        out.extend(self.action_mask.iter().map(|&v| f32::from(v)));
        out.extend(self.instr_placed.iter().map(|&v| f32::from(v)));
        out.extend_from_slice(&self.progress);
    }

    /// Every array with its key in the observation space, in the space's order (for bindings
    /// that copy each key into a typed buffer, e.g. numpy arrays of a gymnasium `Dict`).
    pub fn entries(&self) -> [(&'static str, ObsArray<'_>); 11] {
        [
            ("instr_key", ObsArray::I64(&self.instr_key)),
            ("instr_val", ObsArray::I64(&self.instr_val)),
            ("instr_mask", ObsArray::U8(&self.instr_mask)),
            ("instr_text", ObsArray::I64(&self.instr_text)),
            ("dom_tokens", ObsArray::I64(&self.dom_tokens)),
            ("dom_feat", ObsArray::F32(&self.dom_feat)),
            ("dom_mask", ObsArray::U8(&self.dom_mask)),
            ("match", ObsArray::F32(&self.match_feat)),
            ("action_mask", ObsArray::U8(&self.action_mask)),
            ("instr_placed", ObsArray::U8(&self.instr_placed)),
            ("progress", ObsArray::F32(&self.progress)),
        ]
    }

    /// [`WebFormObs::write_flat`] into a new vector.
    pub fn to_flat(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.flat_len());
        self.write_flat(&mut out);
        out
    }
}

/// One array of a [`WebFormObs`], typed as its space's dtype.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObsArray<'a> {
    /// `DType::I64` (token ids).
    I64(&'a [i64]),
    /// `DType::U8` (masks).
    U8(&'a [u8]),
    /// `DType::F32` (features).
    F32(&'a [f32]),
}

impl ObsArray<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ObsArray::I64(a) => a.len(),
            ObsArray::U8(a) => a.len(),
            ObsArray::F32(a) => a.len(),
        }
    }

    /// Whether the array is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `Dict` observation space of `config`, keys in [`WebFormObs`] field order (`match_feat`
/// is called `match`).
pub(crate) fn observation_space(config: &WebFormConfig) -> Result<Space> {
    let (f, e, t) = (
        config.max_fields,
        config.max_elements,
        config.tokens_per_string,
    );
    let top = (vocab().size() - 1) as f64;
    let tokens = |shape: Vec<usize>| BoxSpace::uniform(shape, 0.0, top, DType::I64).map(Space::Box);
    let unit = |shape: Vec<usize>, dtype| BoxSpace::uniform(shape, 0.0, 1.0, dtype).map(Space::Box);
    Space::dict(vec![
        ("instr_key".into(), tokens(vec![f, t])?),
        ("instr_val".into(), tokens(vec![f, t])?),
        ("instr_mask".into(), unit(vec![f], DType::U8)?),
        (
            "instr_text".into(),
            tokens(vec![config.instruction_tokens])?,
        ),
        ("dom_tokens".into(), tokens(vec![e, ATTRIBUTES, t])?),
        (
            "dom_feat".into(),
            unit(vec![e, ELEMENT_FEATURES], DType::F32)?,
        ),
        ("dom_mask".into(), unit(vec![e], DType::U8)?),
        (
            "match".into(),
            unit(vec![f, e, MATCH_FEATURES], DType::F32)?,
        ),
        (
            "action_mask".into(),
            unit(vec![config.n_actions()], DType::U8)?,
        ),
        ("instr_placed".into(), unit(vec![f], DType::U8)?),
        (
            "progress".into(),
            unit(vec![PROGRESS_FEATURES], DType::F32)?,
        ),
    ])
}

/// A sorted, duplicate-free set of at most `2 · MAX_TOKENS` token ids, on the stack.
#[derive(Clone, Copy)]
struct TokenSet {
    ids: [u32; 2 * MAX_TOKENS],
    len: usize,
}

impl TokenSet {
    fn new(a: &[u32], b: &[u32]) -> Self {
        let mut set = TokenSet {
            ids: [0; 2 * MAX_TOKENS],
            len: 0,
        };
        for &id in a.iter().chain(b) {
            set.ids[set.len] = id;
            set.len += 1;
        }
        let ids = &mut set.ids[..set.len];
        ids.sort_unstable();
        let mut kept = 0;
        for i in 0..ids.len() {
            if i == 0 || ids[i] != ids[i - 1] {
                ids[kept] = ids[i];
                kept += 1;
            }
        }
        set.len = kept;
        set
    }

    fn as_slice(&self) -> &[u32] {
        &self.ids[..self.len]
    }
}

/// Jaccard similarity of two token sets (0 when both are empty).
fn jaccard(a: &TokenSet, b: &TokenSet) -> f32 {
    let (a, b) = (a.as_slice(), b.as_slice());
    let (mut i, mut j, mut inter) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f32 / union as f32
    }
}

fn write_tokens(dst: &mut [i64], tokens: &Tokens) {
    for (d, &id) in dst.iter_mut().zip(tokens.as_slice()) {
        *d = i64::from(id);
    }
}

/// Static description of a slot, shared by page elements and pop-up entries.
struct SlotInfo {
    kind: ElementKind,
    text: Tokens,
    name: Tokens,
    parent: Option<usize>,
    depth: u8,
    /// For pop-up options and days: the value clicking it sets.
    offers: Option<Value>,
}

/// The state-independent encoding of one page: the first rows of the observation's element
/// arrays, and its match features field by field (`(F_real, page length, 3)`).
#[derive(Debug, Clone)]
pub(crate) struct StaticView {
    dom_tokens: Vec<i64>,
    dom_feat: Vec<f32>,
    match_feat: Vec<f32>,
    action_mask: Vec<u8>,
}

/// Per-page [`StaticView`]s of the current episode, filled on first visit, and how many element
/// rows of the observation may be non-zero.
#[derive(Debug, Clone)]
pub(crate) struct PageCache {
    pages: Vec<Option<StaticView>>,
    shown: usize,
}

impl Default for PageCache {
    fn default() -> Self {
        Self {
            pages: Vec::new(),
            shown: usize::MAX,
        }
    }
}

impl PageCache {
    /// Forgets every page (a new form); the next view zeroes every row.
    pub fn clear(&mut self) {
        self.pages.clear();
        self.shown = usize::MAX;
    }
}

/// Writes observations of one form for one config.
pub(crate) struct Encoder<'a> {
    pub config: &'a WebFormConfig,
    pub form: &'a Form,
}

impl Encoder<'_> {
    /// Writes the instruction arrays (once per episode).
    pub fn instruction(&self, obs: &mut WebFormObs) {
        let t = self.config.tokens_per_string;
        obs.instr_key.fill(0);
        obs.instr_val.fill(0);
        obs.instr_mask.fill(0);
        obs.instr_text.fill(0);
        for (j, field) in self.form.fields.iter().enumerate() {
            write_tokens(
                &mut obs.instr_key[j * t..(j + 1) * t],
                &field.shown_key_tokens,
            );
            write_tokens(&mut obs.instr_val[j * t..(j + 1) * t], &field.value_tokens);
            obs.instr_mask[j] = 1;
        }
        if let Some(sentence) = &self.form.sentence {
            let v = vocab();
            for (d, word) in obs.instr_text.iter_mut().zip(sentence.split_whitespace()) {
                *d = i64::from(v.id(word));
            }
        }
    }

    fn slot_info(&self, state: &FormState, slot: Slot) -> SlotInfo {
        match slot {
            Slot::Page(i) => {
                let el = &self.form.pages[state.page].elements[i];
                SlotInfo {
                    kind: el.kind,
                    text: el.text_tokens,
                    name: el.name_tokens,
                    parent: el.parent.map(usize::from),
                    depth: el.depth,
                    offers: None,
                }
            }
            Slot::Popup(i) => {
                let popup = state.popup.as_ref().expect("popup slot without popup");
                let w = popup.widget();
                let opener = self.form.widgets[w].element;
                let opener_depth = self.form.pages[state.page].elements[opener].depth;
                let (kind, text, offers) = match (popup, Form::popup_entry(popup, i)) {
                    (Popup::Calendar { month_index, .. }, PopupEntry::Header) => (
                        ElementKind::StaticText,
                        Tokens::from_text(&month_text(*month_index)),
                        None,
                    ),
                    (_, PopupEntry::PrevMonth) => {
                        (ElementKind::PopupNav, Tokens::from_text("prev"), None)
                    }
                    (_, PopupEntry::NextMonth) => {
                        (ElementKind::PopupNav, Tokens::from_text("next"), None)
                    }
                    (Popup::Calendar { month_index, .. }, PopupEntry::Day(d)) => {
                        let date = Date {
                            month_index: *month_index,
                            day: d,
                        };
                        let text = Tokens::from_text(number_word(i32::from(d)));
                        (ElementKind::PopupOption, text, Some(Value::Date(date)))
                    }
                    (Popup::Dropdown { .. }, PopupEntry::Option(k)) => {
                        let p = self.form.widgets[w].options[k as usize];
                        (
                            ElementKind::PopupOption,
                            Tokens::of_phrase(p),
                            Some(Value::Phrase(p)),
                        )
                    }
                    (Popup::Suggestions { items, .. }, PopupEntry::Suggestion(k)) => {
                        let p = items[k as usize];
                        (
                            ElementKind::PopupOption,
                            Tokens::of_phrase(p),
                            Some(Value::Phrase(p)),
                        )
                    }
                    _ => unreachable!("pop-up entry does not belong to its pop-up"),
                };
                SlotInfo {
                    kind,
                    text,
                    name: Tokens::default(),
                    parent: Some(opener),
                    depth: opener_depth + 1,
                    offers,
                }
            }
        }
    }

    /// Re-encodes every slot of the current view and the action mask. The page's
    /// state-independent part is computed once per page and episode and kept in `cache`; rows
    /// beyond the view are kept at zero.
    pub fn view(&self, state: &FormState, obs: &mut WebFormObs, cache: &mut PageCache) {
        let (t, e_cap, f_cap) = (
            self.config.tokens_per_string,
            self.config.max_elements,
            self.config.max_fields,
        );
        let a_w = 1 + f_cap;
        let n_fields = self.form.fields.len();
        if cache.pages.len() != self.form.pages.len() {
            cache.pages = vec![None; self.form.pages.len()];
        }
        let n_page = self.form.pages[state.page].elements.len();
        let n_slots = self.form.slot_count(state).min(e_cap);
        if cache.shown == usize::MAX {
            // A new form: clear rows of fields and elements the previous form may have used.
            obs.dom_tokens.fill(0);
            obs.dom_feat.fill(0.0);
            obs.dom_mask.fill(0);
            obs.match_feat.fill(0.0);
            obs.action_mask.fill(0);
            cache.shown = 0;
        }
        let shown = cache.shown.min(e_cap);
        if shown > n_page {
            obs.dom_tokens[n_page * ATTRIBUTES * t..shown * ATTRIBUTES * t].fill(0);
            obs.dom_feat[n_page * ELEMENT_FEATURES..shown * ELEMENT_FEATURES].fill(0.0);
            obs.dom_mask[n_page..shown].fill(0);
            obs.action_mask[n_page * a_w..shown * a_w].fill(0);
            for j in 0..f_cap {
                let row = j * e_cap;
                obs.match_feat[(row + n_page) * MATCH_FEATURES..(row + shown) * MATCH_FEATURES]
                    .fill(0.0);
            }
        }
        match &cache.pages[state.page] {
            Some(c) => {
                obs.dom_tokens[..c.dom_tokens.len()].copy_from_slice(&c.dom_tokens);
                obs.dom_feat[..c.dom_feat.len()].copy_from_slice(&c.dom_feat);
                obs.dom_mask[..n_page].fill(1);
                obs.action_mask[..c.action_mask.len()].copy_from_slice(&c.action_mask);
                let block = n_page * MATCH_FEATURES;
                for j in 0..n_fields {
                    let at = j * e_cap * MATCH_FEATURES;
                    obs.match_feat[at..at + block]
                        .copy_from_slice(&c.match_feat[j * block..(j + 1) * block]);
                }
            }
            None => {
                let fields = self.field_sets();
                for e in 0..n_page {
                    self.static_slot(state, e, Slot::Page(e), &fields, obs);
                }
                let block = n_page * MATCH_FEATURES;
                cache.pages[state.page] = Some(StaticView {
                    dom_tokens: obs.dom_tokens[..n_page * ATTRIBUTES * t].to_vec(),
                    dom_feat: obs.dom_feat[..n_page * ELEMENT_FEATURES].to_vec(),
                    action_mask: obs.action_mask[..n_page * a_w].to_vec(),
                    match_feat: (0..n_fields)
                        .flat_map(|j| {
                            let at = j * e_cap * MATCH_FEATURES;
                            obs.match_feat[at..at + block].iter().copied()
                        })
                        .collect(),
                });
            }
        }
        if n_slots > n_page {
            let fields = self.field_sets();
            for e in n_page..n_slots {
                let slot = self.form.slot(state, e).expect("slot within count");
                self.static_slot(state, e, slot, &fields, obs);
            }
        }
        cache.shown = n_slots;
        for e in 0..n_page {
            self.element_state(state, e, Slot::Page(e), obs);
        }
    }

    /// Key and value token sets of every field.
    fn field_sets(&self) -> Vec<(TokenSet, TokenSet)> {
        self.form
            .fields
            .iter()
            .map(|f| {
                (
                    TokenSet::new(f.shown_key_tokens.as_slice(), &[]),
                    TokenSet::new(f.value_tokens.as_slice(), &[]),
                )
            })
            .collect()
    }

    /// Writes the state-independent encoding of slot `e`: tag, text and name tokens, features,
    /// action mask and the Jaccard match features.
    fn static_slot(
        &self,
        state: &FormState,
        e: usize,
        slot: Slot,
        fields: &[(TokenSet, TokenSet)],
        obs: &mut WebFormObs,
    ) {
        let (t, e_cap, f_cap) = (
            self.config.tokens_per_string,
            self.config.max_elements,
            self.config.max_fields,
        );
        let info = self.slot_info(state, slot);
        obs.dom_mask[e] = 1;
        let row = &mut obs.dom_tokens[e * ATTRIBUTES * t..(e + 1) * ATTRIBUTES * t];
        row.fill(0);
        write_tokens(&mut row[..t], &Tokens::of_tag(info.kind));
        write_tokens(&mut row[t..2 * t], &info.text);
        write_tokens(&mut row[2 * t..3 * t], &info.name);
        let feat = &mut obs.dom_feat[e * ELEMENT_FEATURES..(e + 1) * ELEMENT_FEATURES];
        feat.fill(0.0);
        feat[info.kind as usize] = 1.0;
        let clickable = self.form.clickable(state, slot);
        let typable = self.form.typable(state, slot);
        feat[FEAT_CLICKABLE] = f32::from(u8::from(clickable));
        feat[FEAT_TYPABLE] = f32::from(u8::from(typable));
        feat[FEAT_POPUP] = f32::from(u8::from(matches!(slot, Slot::Popup(_))));
        feat[FEAT_DEPTH] = (f32::from(info.depth) / 4.0).min(1.0);
        feat[FEAT_PARENT] = info.parent.map_or(0.0, |p| (p + 1) as f32 / e_cap as f32);
        feat[FEAT_POSITION] = e as f32 / e_cap as f32;
        let base = e * (1 + f_cap);
        obs.action_mask[base..base + 1 + f_cap].fill(0);
        obs.action_mask[base] = u8::from(clickable);
        if typable {
            obs.action_mask[base + 1..base + 1 + fields.len()].fill(1);
        }
        if self.config.match_features {
            let label = TokenSet::new(info.text.as_slice(), info.name.as_slice());
            let text = TokenSet::new(info.text.as_slice(), &[]);
            for (j, ((key, value), field)) in fields.iter().zip(&self.form.fields).enumerate() {
                let m = &mut obs.match_feat[(j * e_cap + e) * MATCH_FEATURES..];
                m[0] = jaccard(key, &label);
                m[1] = jaccard(value, &text);
                m[2] = f32::from(u8::from(info.offers == Some(field.value)));
            }
        }
    }

    /// Re-encodes the state-dependent parts of the elements of widget `w` (if on this page).
    pub fn widget(&self, state: &FormState, w: usize, obs: &mut WebFormObs) {
        let widget = &self.form.widgets[w];
        if widget.page != state.page || widget.element == usize::MAX {
            return;
        }
        let n = match widget.kind {
            WidgetKind::Radio | WidgetKind::Checkbox => widget.options.len(),
            _ => 1,
        };
        for e in widget.element..widget.element + n {
            self.element_state(state, e, Slot::Page(e), obs);
        }
    }

    /// The value row, filled/expanded/typed flags and exact-match flags of slot `e`.
    fn element_state(&self, state: &FormState, e: usize, slot: Slot, obs: &mut WebFormObs) {
        let (t, e_cap) = (self.config.tokens_per_string, self.config.max_elements);
        let Slot::Page(i) = slot else {
            return;
        };
        let (widget, filled, value, typed, expanded, option_of) =
            match self.form.pages[state.page].elements[i].role {
                Role::Input(w) => {
                    let ws = &state.widgets[w];
                    let typed = matches!(
                        ws,
                        WidgetState::Auto {
                            committed: None,
                            typed: Some(_)
                        }
                    );
                    let expanded = state.popup.as_ref().is_some_and(|p| p.widget() == w);
                    (
                        w,
                        Form::is_filled(ws),
                        self.form.widget_value(state, w),
                        typed,
                        expanded,
                        None,
                    )
                }
                Role::GroupOption { widget, option } => (
                    widget,
                    Form::option_on(state, widget, option),
                    None,
                    false,
                    false,
                    Some(Value::Phrase(
                        self.form.widgets[widget].options[option as usize],
                    )),
                ),
                _ => return,
            };
        let row = &mut obs.dom_tokens[(e * ATTRIBUTES + 3) * t..(e * ATTRIBUTES + 4) * t];
        row.fill(0);
        if let Some(v) = value {
            write_tokens(row, &v.tokens());
        }
        let feat = &mut obs.dom_feat[e * ELEMENT_FEATURES..(e + 1) * ELEMENT_FEATURES];
        feat[FEAT_FILLED] = f32::from(u8::from(filled));
        feat[FEAT_EXPANDED] = f32::from(u8::from(expanded));
        feat[FEAT_TYPED] = f32::from(u8::from(typed));
        feat[INVALID_FEATURE] = f32::from(u8::from(self.form.marked_invalid(state, widget)));
        if self.config.match_features {
            for (j, field) in self.form.fields.iter().enumerate() {
                let exact = match option_of {
                    Some(offer) => offer == field.value,
                    // Only a committed value counts for an autocomplete.
                    None => value == Some(field.value) && !typed,
                };
                obs.match_feat[(j * e_cap + e) * MATCH_FEATURES + 2] = f32::from(u8::from(exact));
            }
        }
    }

    /// Writes the progress features and the per-field placed flags (both change with any
    /// action, on any page).
    pub fn progress(&self, state: &FormState, steps: u32, max_steps: u32, obs: &mut WebFormObs) {
        // The buffers outlive episodes: clear the flags of a previous form's extra fields.
        obs.instr_placed.fill(0);
        for (j, field) in self.form.fields.iter().enumerate() {
            let placed =
                (0..self.form.widgets.len()).any(|w| self.form.holds(state, w, field.value));
            obs.instr_placed[j] = u8::from(placed);
        }
        let pages_span = (self.config.max_pages.max(2) - 1) as f32;
        obs.progress[0] = (steps as f32 / max_steps as f32).min(1.0);
        obs.progress[1] = state.page as f32 / pages_span;
        obs.progress[2] = (self.form.pages.len() - 1) as f32 / pages_span;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_sets() {
        let set = |a: &[u32]| TokenSet::new(a, &[]);
        assert_eq!(jaccard(&set(&[1, 2]), &set(&[2, 3])), 1.0 / 3.0);
        assert_eq!(jaccard(&set(&[1, 1]), &set(&[1])), 1.0);
        assert_eq!(jaccard(&set(&[3, 1]), &TokenSet::new(&[1], &[3, 3])), 1.0);
        assert_eq!(jaccard(&set(&[]), &set(&[])), 0.0);
    }
}

//! Web-form environments after QWeb ("Learning to Navigate the Web", Gur et al., ICLR 2019):
//! the agent reads an instruction (key–value pairs such as `from: lis lisbon, class: business`,
//! or a sentence), fills a procedurally generated web form with QWeb's composite actions
//! `Click(element)` and `Type(element, instruction field)`, and submits it. A teacher sets the
//! difficulty with 9 parameters in [0, 1]; every page is a Rust data structure, no browser.
//!
//! # Task space (9 dimensions, each in [0, 1]; larger is harder on every axis)
//! | # | name | effect |
//! |---|---|---|
//! | 0 | `n_fields` | `F = 1 + sround(θ·(max_fields − 1))` instruction fields, one target widget each |
//! | 1 | `widget_complexity` | each target is non-text with probability θ; among checkbox < radio < select < autocomplete < date the costly ones get log-weight `1.5·θ·rank`; groups get `2 + sround(2θ)` options, selects `3 + sround(5θ)`; date targets lie up to `sround(6θ)` months from the month calendars open on |
//! | 2 | `distractors` | `sround(θ·max_distractors)` distractors: half untargeted widgets, half decoy buttons (cancel ends the episode as a failure, reset clears the page, save draft does nothing) or links (leave the form: failure) |
//! | 3 | `page_depth` | `P = min(F, 1 + sround(θ·(max_pages − 1)))` pages; Next only advances when every target of the page is non-empty |
//! | 4 | `instruction_noise` | per field with probability θ the key is replaced by a synonym or omitted; with probability `max(0, 2θ − 1)` the instruction is a sentence and the key rows of the observation are empty |
//! | 5 | `label_ambiguity` | per widget with probability θ its label is a synonym, an abbreviation, a placeholder only, or a separate label element without a name attribute; distractor widgets become confusable siblings of a target (`billing city` next to `city`) with probability θ |
//! | 6 | `order_shuffle` | `sround(θ·F)` random transpositions between instruction order and document order |
//! | 7 | `cold_start` | `sround((1 − θ)·(K − 1))` named targets start pre-filled with their value (QWeb's warm start, oriented so that 1 = no warm start) |
//! | 8 | `goal_coverage` | the instruction names `K = max(1, sround(θ·F))` of the `F` generated targets, chosen uniformly; the others stay on the form as untargeted widgets, not required for Next or success (QWeb's goal simulation: a sub-instruction over a subset of the fields; 1 = every field required). Default bounds `[1, 1]`: a config opens this axis explicitly |
//!
//! `sround(x) = floor(x) + Bernoulli(frac(x))` (stochastic rounding), so the task distribution
//! changes smoothly with θ. Axes 4–6 draw from a random stream of their own, so for one seed they
//! change the words and the instruction order but not the pages, widgets, values or pre-filled
//! fields (except that label ambiguity turns some distractors into siblings). Axis 8 draws
//! which targets are named from a stream of its own too, so for one seed it never changes the
//! pages, widgets or values, only the instruction (and, through `K`, the pre-filled fields).
//! The `cold_start` axis is QWeb's warm start read backwards and `goal_coverage` its goal
//! simulation: with them, every axis makes the task harder as it grows, which the
//! monotonic-difficulty test checks. At `goal_coverage = 1` (the default) the forms are those
//! of the 8-axis task space before the axis existed, bit for bit. The `qweb_schedule` teacher
//! of `teachgym-teachers` moves axes 7 and 8 from easy to hard on QWeb's schedule.
//!
//! # Actions
//! [`WebFormEnv`]: `Discrete(max_elements · (1 + max_fields))`, action
//! `a = slot · (1 + max_fields) + j`: `j = 0` is `Click(slot)`, `j ≥ 1` is
//! `Type(slot, field j − 1)` (the value typed is the instruction field's value).
//! [`WebFormMdEnv`]: `MultiDiscrete([max_elements, 2, max_fields])` = (slot, click/type, field).
//! Which actions are valid depends only on the view (page and open pop-up) and is given by the
//! observation's `action_mask`. An invalid action (padding slot, `Click` on text, `Type` on a
//! button, a field index `≥ F`, ...) is a no-op that still costs a step and sets
//! `info["invalid_action"] = 1`; an index outside the space is an error.
//!
//! Interaction levels ([`InteractionLevel`]): `semantic` — `Type` sets a select, date or
//! autocomplete directly (a value the widget cannot hold leaves it empty); `widget` — `Click`
//! opens a select's option list or a date's calendar (previous/next month buttons and day cells),
//! and `Type` into an autocomplete shows suggestions (its options sharing the first two letters),
//! of which one must be clicked: typed but unpicked text counts as empty.
//!
//! # Dynamics (deterministic; all randomness is in the generator)
//! - Page `p` shows a form root, a title (`step p of P`), one row per widget (a label element
//!   unless the label is a placeholder, then the input, or one element per radio/checkbox
//!   option), decoys, then Back (pages after the first) and Next, or Submit on the last page.
//! - `Type(input, j)` writes field `j`'s value. A text input holds anything; a select, date or
//!   autocomplete given a value it cannot hold (a name typed into a date input, a word that is
//!   not an option) is left empty, as a browser form would treat the invalid entry.
//! - Radio options select themselves; checkboxes toggle; a checkbox field is correct when exactly
//!   the box labelled with its value is ticked.
//! - Next advances only when every targeted widget of the page holds something (HTML
//!   `required`); when it refuses, the page marks its required widgets that are still empty
//!   as invalid (`aria-invalid`, the observation's `invalid` element feature), as a browser
//!   shows its validation message, until each is filled, the page changes or Reset; Back always
//!   works; Submit ends the episode (success iff every targeted field
//!   is correct; untargeted widgets do not matter); Cancel and links end it as a failure; Reset
//!   empties the page's widgets; Save draft does nothing.
//! - At the `widget` level an open pop-up's entries take the element slots after the page's;
//!   any action on a page element first closes it (clicking its own opener only closes it).
//!   Calendars open on the input's date, else on the form's "today" month, and stop at January
//!   2025 and December 2028 (the range dates are drawn from).
//!
//! # Rendering
//! [`WebFormEnv::html`] (or [`form_html`]) gives a self-contained HTML page that works in a
//! browser: the instruction, then every page as a section holding the current state, and a small
//! script implementing the widgets, pages and Submit as the simulator defines them, whose state
//! ([`WebFormEnv::page_state`], [`page_state`]) can be read back (`window.teachgym.state()`); the
//! Python package's browser parity test and `teachgym/WebFormBrowser-v0` drive it in Chromium. `render()` returns a [`RENDER_WIDTH`]×[`RENDER_HEIGHT`] picture of the
//! current view with real text: the instruction on top (one chip per field, green when the field
//! holds its value: it shows the goal, for debugging) with the page number, then the page's rows
//! with labels, inputs showing their values (light blue once filled; a red border while a
//! refused Next marks them invalid), radio buttons and checkboxes with their option texts
//! (dark when ticked), buttons with their captions (Submit
//! green, Next/Back blue, decoys red) and underlined links, and an open pop-up below its input.
//! [`WebFormEnv::text_view`] lists the instruction and every element slot of the view with its
//! valid actions, numbered as the actions' slots.
//!
//! # Meta-trainer (no expert)
//! QWeb's meta-trainer on the env side: [`UninstructedForm`] (a form without its
//! instruction), [`rrnd`] (the randomised policy that makes goal states), the
//! instruction-generation env [`InstructionEnv`] and [`MetaWebFormEnv`], which plays the tasks
//! (generated instruction, RRND goal) an [`Instructor`] (INET, in `teachgym-students`) makes.
//!
//! # Observation
//! `Obs = Arc<WebFormObs>`: the env keeps its buffers behind the `Arc` and copies them on the
//! next step only if the caller still holds the observation. See [`WebFormObs`] for the keys,
//! shapes, the per-element / per-field layout a QWeb-style factorised Q-network reads, and
//! [`WebFormObs::to_flat`] for one flat `f32` vector (MLPs); the action mask is
//! `obs.action_mask` or [`WebFormEnv::action_mask`].
//!
//! # Reward
//! Task reward: `success_reward` (+1) for a submission with every targeted field correct,
//! `failure_reward` (−1) for a wrong submission, a cancel button or a link, `truncation_reward`
//! (−1) on truncation. Shaping with `Φ(s) = (#targeted fields correct) / F`:
//! - [`ShapingMode::Ng`] (default): `coef · (γ·Φ(s') − Φ(s))`, with `Φ(s') = 0` on termination
//!   (not on truncation), so the discounted shaping of an episode sums to
//!   `coef · (γ^T·Φ(s_T)·[truncated] − Φ(s_0))` and the optimal policy is unchanged;
//! - [`ShapingMode::Qweb`]: QWeb's `coef · γ·(Φ(s') − Φ(s))` with the true `Φ(s')`, whose
//!   undiscounted sum is `coef · γ·(Φ(s_T) − Φ(s_0))`;
//! - [`ShapingMode::None`].
//!
//! `info.values`: `success`, `task_reward`, `shaping`, `potential`, `n_correct`, `n_fields`,
//! `n_pages`, `page`, `optimal_steps` (from the initial state), `invalid_action`; `info.episode`
//! on the last step (its `success` = correct submission).
//!
//! # Episode end
//! Terminated by Submit, Cancel or a link. Truncated after
//! `ceil(step_slack · optimal_steps) + extra_steps` steps.

mod env;
mod form;
mod generate;
mod html;
mod meta;
mod observe;
mod oracle;
mod raster;
mod words;

use serde::{Deserialize, Serialize};
use teachgym_core::{check_reward_coefficient, EnvPrior, Error, Result, TaskDim, TaskSpace};

pub use env::{WebFormEnv, WebFormMdEnv};
pub use form::{
    days_in_month, ButtonRole, Date, Element, ElementKind, Field, Form, FormState, Outcome, Page,
    Popup, PopupEntry, Role, Slot, Tokens, Value, Widget, WidgetState, CALENDAR_FIRST_DAY_SLOT,
    MAX_GROUP_OPTIONS, MAX_POPUP_ITEMS, MAX_SELECT_OPTIONS, MAX_SUGGESTIONS, MAX_TOKENS,
};
pub use generate::{generate, stochastic_round, MAX_MONTH_REACH};
pub use html::{form_html, page_state, text_view, PAGE_SCRIPT};
pub use meta::{
    instructed_form, rrnd, GoalAttribute, GoalElement, GoalView, InstructionEnv, Instructor,
    MetaWebFormEnv, RrndAction, RrndRollout, RrndStep, UninstructedForm, GOAL_ATTRIBUTES,
    MAX_META_DRAWS,
};
pub use observe::{
    ObsArray, WebFormObs, ATTRIBUTES, ELEMENT_FEATURES, FILLED_FEATURE, INVALID_FEATURE,
    MATCH_FEATURES, PARENT_FEATURE, PROGRESS_FEATURES,
};
pub use oracle::{oracle_action, oracle_calls};
pub use raster::{RENDER_HEIGHT, RENDER_WIDTH};
pub use words::WidgetKind;

/// Number of task dimensions.
pub const TASK_DIMS: usize = 9;
/// Index of the `goal_coverage` dimension (goal simulation), the one whose default lower bound
/// is 1 (every field named) so that the default task space is the 8-axis one it extends.
pub const GOAL_COVERAGE_DIM: usize = 8;
/// Names of the task dimensions, in order.
pub const TASK_DIM_NAMES: [&str; TASK_DIMS] = [
    "n_fields",
    "widget_complexity",
    "distractors",
    "page_depth",
    "instruction_noise",
    "label_ambiguity",
    "order_shuffle",
    "cold_start",
    "goal_coverage",
];
/// Largest `max_fields` the field catalogue supports (targets never share a catalogue entry).
pub const MAX_FIELDS_LIMIT: usize = 16;
/// Largest `max_pages`.
pub const MAX_PAGES_LIMIT: usize = 9;
/// Largest `max_elements`: eight times the default, and enough for any page of
/// [`MAX_FIELDS_LIMIT`] fields with a pop-up. It bounds the observation and action sizes.
pub const MAX_ELEMENTS_LIMIT: usize = 1024;
/// Largest `max_distractors` (more than [`MAX_ELEMENTS_LIMIT`] could never fit a page).
pub const MAX_DISTRACTORS_LIMIT: usize = MAX_ELEMENTS_LIMIT;
/// Largest `instruction_tokens`: twenty times the default.
pub const MAX_INSTRUCTION_TOKENS: usize = 1024;
/// Largest `step_slack`: episodes up to a hundred times longer than the optimum.
pub const MAX_STEP_SLACK: f64 = 100.0;

/// Size of the token vocabulary (ids `0..vocab_size()`, 0 = padding).
pub fn vocab_size() -> usize {
    words::vocab().size()
}

/// The word of a token id (`""` for padding).
pub fn token_word(id: u32) -> &'static str {
    words::vocab().word(id)
}

/// How `Type` treats selects, dates and autocompletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InteractionLevel {
    /// One `Type` sets a select, date or autocomplete (value-setting primitives).
    #[default]
    Semantic,
    /// Drop-downs, calendars and suggestion lists must be operated by clicks.
    Widget,
}

/// Which potential-based shaping term is added to the task reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ShapingMode {
    /// No shaping.
    None,
    /// `γ·Φ(s') − Φ(s)` (Ng, Harada & Russell 1999), `Φ = 0` after termination.
    #[default]
    Ng,
    /// `γ·(Φ(s') − Φ(s))`, the form QWeb is summarised with (not policy-invariant).
    Qweb,
}

/// Everything that defines a [`WebFormEnv`]. Caps fix the observation and action shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebFormConfig {
    /// Most instruction fields (`F_cap`), `1..=MAX_FIELDS_LIMIT`. Default 12.
    pub max_fields: usize,
    /// Element slots of the observation (`E_cap`): a page plus an open pop-up must fit.
    /// Default 128; must be at least [`WebFormConfig::min_elements`] and at most
    /// [`MAX_ELEMENTS_LIMIT`].
    pub max_elements: usize,
    /// Most pages, `1..=MAX_PAGES_LIMIT`. Default 4.
    pub max_pages: usize,
    /// Most distractors (widgets, decoy buttons, links), at most [`MAX_DISTRACTORS_LIMIT`].
    /// Default 24. Distractors that would not
    /// fit a page within `max_elements` are dropped (targets never are).
    pub max_distractors: usize,
    /// Tokens kept per string in the observation (`T`), `1..=MAX_TOKENS`. Default 4.
    pub tokens_per_string: usize,
    /// Tokens of the sentence-form instruction in the observation (`L`),
    /// `1..=MAX_INSTRUCTION_TOKENS`. Default 48.
    pub instruction_tokens: usize,
    /// Interaction level. Default `semantic`.
    pub interaction_level: InteractionLevel,
    /// Shaping mode. Default `ng`.
    pub shaping: ShapingMode,
    /// Discount of the shaping term; must equal the learner's. In (0, 1]. Default 0.99.
    pub gamma: f64,
    /// Scale of the shaping term. Default 1.0. This and the four rewards below lie within
    /// ±[`MAX_REWARD_MAGNITUDE`](teachgym_core::MAX_REWARD_MAGNITUDE).
    pub shaping_coef: f64,
    /// Task reward of a correct submission. Default 1.0.
    pub success_reward: f64,
    /// Task reward of a wrong submission, a cancel button or a link. Default −1.0.
    pub failure_reward: f64,
    /// Task reward when the step limit is reached. Default −1.0.
    pub truncation_reward: f64,
    /// Reward subtracted for an invalid action (≥ 0). Default 0.
    pub invalid_action_penalty: f64,
    /// Step limit factor: the limit is `ceil(step_slack · optimal_steps) + extra_steps`, in
    /// `[1, MAX_STEP_SLACK]`.
    /// Default 2.0.
    pub step_slack: f64,
    /// Additive part of the step limit. Default 2.
    pub extra_steps: u32,
    /// Fill the `match` word-overlap features (false leaves them zero). Default true.
    pub match_features: bool,
    /// Seed of the env's RNG until a reset passes one. Default 0.
    pub seed: u64,
    /// Lower bounds of the env's task space, one per dimension in [0, 1] (a teacher then only
    /// proposes tasks of the sub-box `[task_low, task_high]`). Default all 0 except
    /// `goal_coverage` at 1 (every field named, the behaviour of the 8-axis space); a config
    /// lists all 9 to open it.
    pub task_low: Vec<f64>,
    /// Upper bounds of the env's task space, one per dimension in [0, 1], each ≥ its lower
    /// bound. Default all 1.
    pub task_high: Vec<f64>,
}

impl Default for WebFormConfig {
    fn default() -> Self {
        Self {
            max_fields: 12,
            max_elements: 128,
            max_pages: 4,
            max_distractors: 24,
            tokens_per_string: 4,
            instruction_tokens: 48,
            interaction_level: InteractionLevel::Semantic,
            shaping: ShapingMode::Ng,
            gamma: 0.99,
            shaping_coef: 1.0,
            success_reward: 1.0,
            failure_reward: -1.0,
            truncation_reward: -1.0,
            invalid_action_penalty: 0.0,
            step_slack: 2.0,
            extra_steps: 2,
            match_features: true,
            seed: 0,
            task_low: Self::default_task_low(),
            task_high: vec![1.0; TASK_DIMS],
        }
    }
}

impl WebFormConfig {
    /// The default `task_low`: 0 on every axis but `goal_coverage`, at 1.
    pub fn default_task_low() -> Vec<f64> {
        let mut low = vec![0.0; TASK_DIMS];
        low[GOAL_COVERAGE_DIM] = 1.0;
        low
    }

    /// The task space: 9 dimensions in [0, 1], see the module docs.
    pub fn task_space() -> TaskSpace {
        let docs = [
            "number of instruction fields: 1 + sround(x (max_fields - 1))",
            "probability of a non-text widget, tilted towards costly widgets; date distance",
            "number of distractors: sround(x max_distractors)",
            "number of pages: 1 + sround(x (max_pages - 1)), at most the number of fields",
            "probability of a synonym or omitted key per field; sentence form above 0.5",
            "probability of an ambiguous label per widget and of confusable sibling distractors",
            "random transpositions between instruction and document order, sround(x F)",
            "1 - fraction of targets pre-filled at reset (QWeb warm start reversed)",
            "fraction of the generated targets the instruction names (QWeb goal simulation)",
        ];
        TaskSpace::new(
            TASK_DIM_NAMES
                .iter()
                .zip(docs)
                .map(|(name, doc)| TaskDim::new(*name, 0.0, 1.0, doc))
                .collect(),
        )
        .expect("the web-form task space is well formed")
    }

    /// The task space of envs built from this config: [`WebFormConfig::task_space`] restricted
    /// to `[task_low, task_high]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for bounds of the wrong length, outside [0, 1] or crossed.
    pub fn bounded_task_space(&self) -> Result<TaskSpace> {
        self.validate_task_bounds()?;
        let mut space = Self::task_space();
        for (i, name) in TASK_DIM_NAMES.iter().enumerate() {
            space = space.with_bounds(name, self.task_low[i], self.task_high[i])?;
        }
        Ok(space)
    }

    /// What an expert knows of this configuration: a correct submission returns
    /// `success_reward`, a failed or timed-out episode at most the lower of `failure_reward`
    /// and `truncation_reward` (no progress); the easiest task has every difficulty parameter
    /// at its lower bound (fewest fields, pages, distractors...).
    ///
    /// # Errors
    /// As [`WebFormConfig::bounded_task_space`].
    pub fn prior(&self) -> Result<EnvPrior> {
        Ok(EnvPrior {
            success_return: self.success_reward,
            no_progress_return: self.failure_reward.min(self.truncation_reward),
            easy_task: self.bounded_task_space()?.low(),
        })
    }

    fn validate_task_bounds(&self) -> Result<()> {
        for (field, bounds) in [("task_low", &self.task_low), ("task_high", &self.task_high)] {
            if bounds.len() != TASK_DIMS {
                return Err(Error::InvalidConfig {
                    field: field.into(),
                    reason: format!(
                        "has {} values, need {TASK_DIMS} (one per dimension: {}); a list of 8 \
                         predates `goal_coverage`: append 1 to keep its behaviour",
                        bounds.len(),
                        TASK_DIM_NAMES.join(", ")
                    ),
                });
            }
        }
        for (i, (&low, &high)) in self.task_low.iter().zip(&self.task_high).enumerate() {
            if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low > high {
                return Err(Error::InvalidConfig {
                    field: "task_low/task_high".into(),
                    reason: format!(
                        "dimension {} ({}) has bounds [{low}, {high}], need 0 <= low <= high <= 1",
                        i, TASK_DIM_NAMES[i]
                    ),
                });
            }
        }
        Ok(())
    }

    /// Number of element slots a page may use (the rest is kept for pop-ups).
    pub fn page_element_budget(&self) -> usize {
        self.max_elements.saturating_sub(self.popup_budget())
    }

    fn popup_budget(&self) -> usize {
        match self.interaction_level {
            InteractionLevel::Semantic => 0,
            InteractionLevel::Widget => MAX_POPUP_ITEMS,
        }
    }

    /// Smallest `max_elements` that fits a page of `max_fields` targets (each a row, a label and
    /// up to 4 group options), the form root, the title, Back, Next/Submit and a pop-up.
    pub fn min_elements(&self) -> usize {
        2 + self.max_fields * (2 + form::MAX_GROUP_OPTIONS) + 2 + self.popup_budget()
    }

    /// Number of flat actions, `max_elements · (1 + max_fields)`.
    pub fn n_actions(&self) -> usize {
        self.max_elements * (1 + self.max_fields)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| {
            Err(Error::InvalidConfig {
                field: field.into(),
                reason,
            })
        };
        if !(1..=MAX_FIELDS_LIMIT).contains(&self.max_fields) {
            return bad(
                "max_fields",
                format!("{} is outside 1..={MAX_FIELDS_LIMIT}", self.max_fields),
            );
        }
        if !(1..=MAX_PAGES_LIMIT).contains(&self.max_pages) {
            return bad(
                "max_pages",
                format!("{} is outside 1..={MAX_PAGES_LIMIT}", self.max_pages),
            );
        }
        for (field, value, max) in [
            ("max_elements", self.max_elements, MAX_ELEMENTS_LIMIT),
            (
                "max_distractors",
                self.max_distractors,
                MAX_DISTRACTORS_LIMIT,
            ),
            (
                "instruction_tokens",
                self.instruction_tokens,
                MAX_INSTRUCTION_TOKENS,
            ),
        ] {
            if value > max {
                return bad(field, format!("{value} is above its limit {max}"));
            }
        }
        if self.max_elements < self.min_elements() {
            return bad(
                "max_elements",
                format!(
                    "{} cannot hold a page of {} fields plus a pop-up; need at least {}",
                    self.max_elements,
                    self.max_fields,
                    self.min_elements()
                ),
            );
        }
        if !(1..=MAX_TOKENS).contains(&self.tokens_per_string) {
            return bad(
                "tokens_per_string",
                format!("{} is outside 1..={MAX_TOKENS}", self.tokens_per_string),
            );
        }
        if self.instruction_tokens == 0 {
            return bad("instruction_tokens", "must be at least 1".into());
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return bad("gamma", format!("{} is outside (0, 1]", self.gamma));
        }
        for (name, v) in [
            ("shaping_coef", self.shaping_coef),
            ("success_reward", self.success_reward),
            ("failure_reward", self.failure_reward),
            ("truncation_reward", self.truncation_reward),
            ("invalid_action_penalty", self.invalid_action_penalty),
        ] {
            check_reward_coefficient(name, v)?;
        }
        if self.invalid_action_penalty < 0.0 {
            return bad(
                "invalid_action_penalty",
                format!("{} must be >= 0", self.invalid_action_penalty),
            );
        }
        if !(1.0..=MAX_STEP_SLACK).contains(&self.step_slack) {
            return bad(
                "step_slack",
                format!(
                    "{} must be in [1, {MAX_STEP_SLACK}] (the oracle needs optimal_steps)",
                    self.step_slack
                ),
            );
        }
        self.validate_task_bounds()
    }

    /// Step limit of an episode whose oracle needs `optimal_steps`.
    pub fn max_steps(&self, optimal_steps: u32) -> u32 {
        (self.step_slack * f64::from(optimal_steps)).ceil() as u32 + self.extra_steps
    }
}

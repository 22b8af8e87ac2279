//! The env side of QWeb's meta-trainer, which trains without an expert (webnav.md §1.6):
//!
//! - [`UninstructedForm`]: a generated form with its instruction taken away (no values, no
//!   field-to-widget map, no pre-filled widgets); only the instruction's *keys* stay, as the
//!   schema a site would publish. Everything below works from it.
//! - [`rrnd`]: QWeb's randomised rule-based policy. It visits every widget of every page in
//!   document order, acts on it at random (types a value the widget can hold, or clicks one of
//!   its options) and returns the final state as a **goal state** with its trajectory.
//! - [`GoalView`]: what the instruction generator reads: every element of every page of the
//!   goal state, each with its attributes, and the keys.
//! - [`InstructionEnv`]: the instruction-generation env. A state is (goal, one key drawn
//!   without replacement); an action picks an element (`a^D`) and one of its
//!   [`GoalAttribute`]s (`a^A`) as the key's value; the reward is +1 when that value is what the
//!   key's widget holds in the goal, −1 otherwise. Its reward knows which widget a key belongs
//!   to (the form's ground truth); nothing else here does.
//! - [`MetaWebFormEnv`]: the env MetaQWeb trains in. Each reset generates a form, forgets its
//!   instruction, runs RRND to a goal `G`, asks an [`Instructor`] (INET) for one value per key,
//!   and plays the task (generated instruction, `G`) with the web-form dynamics and the
//!   potential-based shaping computed from `G`. It never holds the generated instruction, so it
//!   cannot call the oracle on it; it exposes no oracle either.
//!
//! RRND leaves buttons and links alone: clicking Cancel, a link or Submit would end the
//! episode and Reset would undo its work, so only widgets carry goal values; it moves between
//! pages with the page index, not with Next (whose check needs the instruction).

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::{Env, Error, Info, Result, RgbFrame, Space, Step, TaskSpace};

use super::form::{Date, ElementKind, Field, Form, FormState, Role, Tokens, Value, WidgetState};
use super::generate::{generate, MAX_MONTH_REACH};
use super::words::{phrases_table, WidgetKind, FIRST_YEAR, LAST_YEAR};
use super::{WebFormConfig, WebFormEnv, WebFormObs};

/// A generated form whose instruction is gone: the layout, the widgets (none targeted), empty
/// initial states and the instruction's canonical keys.
#[derive(Debug, Clone)]
pub struct UninstructedForm {
    layout: Form,
    keys: Vec<&'static str>,
}

impl UninstructedForm {
    /// Takes the instruction away from `form`: the fields (values and widgets), the sentence,
    /// every widget's target and every pre-filled value (a warm start would reveal values).
    pub fn new(form: Form) -> Self {
        let Form {
            fields,
            pages,
            mut widgets,
            today_month,
            level,
            ..
        } = form;
        let keys = fields.iter().map(|f| f.key).collect();
        for widget in &mut widgets {
            widget.target = None;
        }
        let initial = widgets.iter().map(|w| WidgetState::empty(w.kind)).collect();
        let layout = Form {
            fields: Vec::new(),
            pages,
            widgets,
            initial,
            today_month,
            sentence: None,
            level,
        };
        UninstructedForm { layout, keys }
    }

    /// The form without instruction (no fields; every widget untargeted and empty).
    pub fn layout(&self) -> &Form {
        &self.layout
    }

    /// The instruction's keys, in instruction order.
    pub fn keys(&self) -> &[&'static str] {
        &self.keys
    }
}

/// One act of RRND on a widget element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RrndAction {
    /// Clicked a group option (radio, checkbox).
    Click,
    /// Typed this value into an input.
    Type(Value),
}

/// One step of an RRND trajectory: where it acted and what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrndStep {
    /// Page of the element.
    pub page: usize,
    /// Element index within the page.
    pub element: usize,
    /// Widget acted on.
    pub widget: usize,
    /// The act.
    pub action: RrndAction,
}

/// What RRND returns: the goal state and the steps that reached it from the empty form.
#[derive(Debug, Clone, PartialEq)]
pub struct RrndRollout {
    /// The final state (on the last page, no pop-up).
    pub goal: FormState,
    /// One step per widget, in page and document order.
    pub trajectory: Vec<RrndStep>,
}

/// A random value widget `w` can hold. Text inputs take any phrase of the word lists; dates
/// lie within [`MAX_MONTH_REACH`] months of the form's "today", inside the calendar's years.
fn random_value(form: &Form, w: usize, rng: &mut Pcg64) -> Value {
    let widget = &form.widgets[w];
    match widget.kind {
        WidgetKind::Date => {
            let reach = MAX_MONTH_REACH as i32;
            let month_index = (form.today_month + rng.random_range(-reach..=reach))
                .clamp(FIRST_YEAR * 12, LAST_YEAR * 12 + 11);
            let day = rng.random_range(1..=super::days_in_month(month_index));
            Value::Date(Date { month_index, day })
        }
        WidgetKind::Text => {
            let n = phrases_table().texts.len();
            Value::Phrase(rng.random_range(0..n) as u16)
        }
        _ => Value::Phrase(widget.options[rng.random_range(0..widget.options.len())]),
    }
}

/// QWeb's randomised rule-based policy: visits every widget of `form` (all pages, document
/// order) once and acts on it at random: a text input gets any phrase, a date a date near the
/// form's today, a select or autocomplete one of its options, a radio group or a checkbox
/// group one option clicked (so a checkbox group ends with exactly one tick, a state an
/// instruction value can describe). The same `rng` state gives the same goal.
pub fn rrnd(form: &UninstructedForm, rng: &mut Pcg64) -> RrndRollout {
    let layout = &form.layout;
    let mut state = layout.initial_state();
    let mut trajectory = Vec::with_capacity(layout.widgets.len());
    let mut order: Vec<usize> = (0..layout.widgets.len()).collect();
    order.sort_by_key(|&w| (layout.widgets[w].page, layout.widgets[w].element));
    for w in order {
        let widget = &layout.widgets[w];
        let value = random_value(layout, w, rng);
        let (element, action, new_state) = match (widget.kind, value) {
            (WidgetKind::Radio | WidgetKind::Checkbox, Value::Phrase(p)) => {
                let option = widget
                    .options
                    .iter()
                    .position(|&o| o == p)
                    .expect("drawn from the options");
                let new_state = if widget.kind == WidgetKind::Radio {
                    WidgetState::Choice(Some(option as u8))
                } else {
                    WidgetState::Checks(1 << option)
                };
                (widget.element + option, RrndAction::Click, new_state)
            }
            (WidgetKind::Select, Value::Phrase(p)) => {
                let option = widget.options.iter().position(|&o| o == p);
                (
                    widget.element,
                    RrndAction::Type(value),
                    WidgetState::Choice(option.map(|k| k as u8)),
                )
            }
            (WidgetKind::Autocomplete, Value::Phrase(p)) => (
                widget.element,
                RrndAction::Type(value),
                WidgetState::Auto {
                    committed: Some(p),
                    typed: Some(value),
                },
            ),
            (WidgetKind::Date, Value::Date(d)) => (
                widget.element,
                RrndAction::Type(value),
                WidgetState::Date(Some(d)),
            ),
            (_, v) => (
                widget.element,
                RrndAction::Type(v),
                WidgetState::Text(Some(v)),
            ),
        };
        state.page = widget.page;
        state.widgets[w] = new_state;
        trajectory.push(RrndStep {
            page: widget.page,
            element,
            widget: w,
            action,
        });
    }
    state.page = layout.pages.len() - 1;
    RrndRollout {
        goal: state,
        trajectory,
    }
}

/// Number of [`GoalAttribute`]s (`a^A`'s choices).
pub const GOAL_ATTRIBUTES: usize = 3;

/// An attribute of a goal element that can be read as a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalAttribute {
    /// The visible text: a radio or checkbox option's phrase; other texts are no value.
    Text,
    /// The name attribute: a key word, never a value (the wrong choice INET must learn).
    Name,
    /// The current value: what an input holds in the goal state.
    Value,
}

impl GoalAttribute {
    /// Every attribute, in `a^A` index order.
    pub const ALL: [GoalAttribute; GOAL_ATTRIBUTES] = [
        GoalAttribute::Text,
        GoalAttribute::Name,
        GoalAttribute::Value,
    ];
}

/// One element of a goal state as the instruction generator reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalElement {
    /// Page of the element.
    pub page: usize,
    /// Index within the page.
    pub index: usize,
    /// Element kind.
    pub kind: ElementKind,
    /// The widget it belongs to, if any.
    pub widget: Option<usize>,
    /// Tokens of its text.
    pub text_tokens: Tokens,
    /// Tokens of its name attribute (or placeholder).
    pub name_tokens: Tokens,
    /// Tokens of its widget's human label (empty when it has no widget).
    pub label_tokens: Tokens,
    /// Tokens of the value it holds in the goal (empty if none).
    pub value_tokens: Tokens,
    /// A group option ticked, or an input holding a value, in the goal.
    pub set: bool,
    /// The value each [`GoalAttribute`] gives, in [`GoalAttribute::ALL`] order.
    pub values: [Option<Value>; GOAL_ATTRIBUTES],
}

/// A goal state as the instruction generator sees it: every element of every page and the
/// instruction's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalView {
    /// Elements, page by page in document order.
    pub elements: Vec<GoalElement>,
    /// The keys to generate values for, in the form's instruction order.
    pub keys: Vec<&'static str>,
    /// Tokens of each key.
    pub key_tokens: Vec<Tokens>,
}

impl GoalView {
    /// The view of `goal` on `form`.
    pub fn new(form: &UninstructedForm, goal: &FormState) -> Self {
        let layout = &form.layout;
        let mut elements = Vec::new();
        for (p, page) in layout.pages.iter().enumerate() {
            for (i, e) in page.elements.iter().enumerate() {
                let widget = match e.role {
                    Role::Input(w) | Role::GroupOption { widget: w, .. } => Some(w),
                    _ => None,
                };
                let (set, values) = match e.role {
                    Role::Input(w) => {
                        let v = layout.widget_value(goal, w);
                        (v.is_some(), [None, None, v])
                    }
                    Role::GroupOption { widget, option } => {
                        let phrase = layout.widgets[widget].options[option as usize];
                        (
                            Form::option_on(goal, widget, option),
                            [Some(Value::Phrase(phrase)), None, None],
                        )
                    }
                    _ => (false, [None; GOAL_ATTRIBUTES]),
                };
                elements.push(GoalElement {
                    page: p,
                    index: i,
                    kind: e.kind,
                    widget,
                    text_tokens: e.text_tokens,
                    name_tokens: e.name_tokens,
                    label_tokens: widget.map_or_else(Tokens::default, |w| {
                        Tokens::from_text(&layout.widgets[w].label)
                    }),
                    value_tokens: values[2].map_or_else(Tokens::default, |v| v.tokens()),
                    set,
                    values,
                });
            }
        }
        GoalView {
            key_tokens: form.keys.iter().map(|k| Tokens::from_text(k)).collect(),
            keys: form.keys.clone(),
            elements,
        }
    }
}

/// Chooses, for one key of a goal, the element and attribute whose value the key gets: the
/// instruction generator's policy (INET, or a test's stand-in).
pub trait Instructor: Send {
    /// `(element index in view.elements, attribute)` for key `key` of `view`.
    ///
    /// # Errors
    /// The generator's own failures (a network error).
    fn instruct(&mut self, view: &GoalView, key: usize) -> Result<(usize, GoalAttribute)>;
}

/// The instruction-generation env (see the [web-form module docs](super)). Each reset draws a form
/// from a task, a goal from RRND and an order of the form's keys; each step answers the
/// current key and moves to the next; the episode ends after the last key.
pub struct InstructionEnv {
    config: WebFormConfig,
    task_space: TaskSpace,
    rng: Pcg64,
    episode: Option<InstructionEpisode>,
}

struct InstructionEpisode {
    view: GoalView,
    goal: FormState,
    /// The form with its instruction: the reward's ground truth.
    form: Form,
    /// Key (index into `view.keys`) of each step.
    order: Vec<usize>,
    step: usize,
}

impl InstructionEnv {
    /// An env drawing forms from `config` (its caps and task bounds).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad field.
    pub fn new(config: WebFormConfig) -> Result<Self> {
        config.validate()?;
        Ok(InstructionEnv {
            task_space: config.bounded_task_space()?,
            rng: Pcg64::seed_from_u64(config.seed),
            config,
            episode: None,
        })
    }

    /// The task space forms are drawn from.
    pub fn task_space(&self) -> &TaskSpace {
        &self.task_space
    }

    /// Starts an episode on a form of `task`, reseeding with `seed` if given.
    ///
    /// # Errors
    /// A task outside the space.
    pub fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<()> {
        self.task_space.validate(task)?;
        if let Some(seed) = seed {
            self.rng = Pcg64::seed_from_u64(seed);
        }
        let form = generate(&self.config, task, &mut self.rng)?;
        let uninstructed = UninstructedForm::new(form.clone());
        let goal = rrnd(&uninstructed, &mut self.rng).goal;
        let view = GoalView::new(&uninstructed, &goal);
        let mut order: Vec<usize> = (0..view.keys.len()).collect();
        order.shuffle(&mut self.rng);
        self.episode = Some(InstructionEpisode {
            view,
            goal,
            form,
            order,
            step: 0,
        });
        Ok(())
    }

    fn episode(&self, call: &'static str) -> Result<&InstructionEpisode> {
        self.episode.as_ref().ok_or(Error::ResetNeeded { call })
    }

    /// The goal of the current episode.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn view(&self) -> Result<&GoalView> {
        Ok(&self.episode("view")?.view)
    }

    /// The key to answer now (index into [`GoalView::keys`]), `None` once all are answered.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn current_key(&self) -> Result<Option<usize>> {
        let ep = self.episode("current_key")?;
        Ok(ep.order.get(ep.step).copied())
    }

    /// The reward of answering `key` with `attribute` of element `element`: +1 if that
    /// attribute holds the value `key`'s widget has in the goal, −1 otherwise.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset, [`Error::ActionOutOfRange`] for an
    /// element or key outside the view.
    pub fn reward(&self, key: usize, element: usize, attribute: GoalAttribute) -> Result<f64> {
        let ep = self.episode("reward")?;
        let out_of_range = |value: usize, n: usize| Error::ActionOutOfRange {
            value: i64::try_from(value).unwrap_or(i64::MAX),
            n,
        };
        let field = ep
            .form
            .fields
            .get(key)
            .ok_or_else(|| out_of_range(key, ep.form.fields.len()))?;
        let e = ep
            .view
            .elements
            .get(element)
            .ok_or_else(|| out_of_range(element, ep.view.elements.len()))?;
        let index = GoalAttribute::ALL
            .iter()
            .position(|&a| a == attribute)
            .expect("every attribute is listed");
        let correct = e.values[index].is_some_and(|v| ep.form.holds(&ep.goal, field.widget, v));
        Ok(if correct { 1.0 } else { -1.0 })
    }

    /// Answers the current key; returns the reward and whether every key is answered.
    ///
    /// # Errors
    /// As [`InstructionEnv::reward`]; [`Error::ResetNeeded`] after the last key.
    pub fn step(&mut self, element: usize, attribute: GoalAttribute) -> Result<(f64, bool)> {
        let key = self
            .current_key()?
            .ok_or(Error::ResetNeeded { call: "step" })?;
        let reward = self.reward(key, element, attribute)?;
        let ep = self.episode.as_mut().expect("checked by current_key");
        ep.step += 1;
        Ok((reward, ep.step == ep.order.len()))
    }
}

/// The task MetaQWeb trains on: a generated instruction, one field per key that the
/// instructor answered with a value, on the uninstructed layout starting empty. Keys answered
/// with no value, or with a widget another key already took, are left out; `None` if no key
/// is left.
///
/// # Errors
/// The instructor's errors, or an element index outside the view.
pub fn instructed_form(
    form: &UninstructedForm,
    view: &GoalView,
    instructor: &mut dyn Instructor,
) -> Result<Option<Form>> {
    let mut task = form.layout.clone();
    for key in 0..view.keys.len() {
        let (element, attribute) = instructor.instruct(view, key)?;
        let e = view.elements.get(element).ok_or(Error::ActionOutOfRange {
            value: i64::try_from(element).unwrap_or(i64::MAX),
            n: view.elements.len(),
        })?;
        let index = GoalAttribute::ALL
            .iter()
            .position(|&a| a == attribute)
            .expect("every attribute is listed");
        let (Some(value), Some(w)) = (e.values[index], e.widget) else {
            continue;
        };
        if task.widgets[w].target.is_some() {
            continue;
        }
        let key_text = view.keys[key];
        task.widgets[w].target = Some(task.fields.len());
        task.fields.push(Field {
            key: key_text,
            shown_key: key_text.to_string(),
            shown_key_tokens: view.key_tokens[key],
            value,
            value_tokens: value.tokens(),
            widget: w,
        });
    }
    Ok((!task.fields.is_empty()).then_some(task))
}

/// Most forms a [`MetaWebFormEnv`] reset draws before giving up on an instructor that
/// answers every key with no value.
pub const MAX_META_DRAWS: usize = 16;

/// The env MetaQWeb trains in (see the [web-form module docs](super)): the web-form env's spaces,
/// dynamics and rewards, on tasks made by RRND and an [`Instructor`]. Shaping and success
/// follow the generated goal: `Φ(s)` is the share of generated fields whose widget holds its
/// goal value.
pub struct MetaWebFormEnv {
    inner: WebFormEnv,
    instructor: Box<dyn Instructor>,
    rng: Pcg64,
}

impl MetaWebFormEnv {
    /// An env with `config`'s caps, rewards and task bounds, instructed by `instructor`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad field.
    pub fn new(config: WebFormConfig, instructor: Box<dyn Instructor>) -> Result<Self> {
        Ok(MetaWebFormEnv {
            rng: Pcg64::seed_from_u64(config.seed),
            inner: WebFormEnv::new(config)?,
            instructor,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WebFormConfig {
        self.inner.config()
    }

    /// The generated task of the current episode (instruction and goal values).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn form(&self) -> Result<&Form> {
        self.inner.form()
    }

    /// The current widget states.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn state(&self) -> Result<&FormState> {
        self.inner.state()
    }
}

impl Env for MetaWebFormEnv {
    type Obs = Arc<WebFormObs>;
    type Action = usize;

    fn task_space(&self) -> &TaskSpace {
        self.inner.task_space()
    }

    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }

    fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<(Arc<WebFormObs>, Info)> {
        self.inner.task_space().validate(task)?;
        if let Some(seed) = seed {
            self.rng = Pcg64::seed_from_u64(seed);
        }
        for _ in 0..MAX_META_DRAWS {
            // The generated instruction is dropped here, before anything else sees the form.
            let form = UninstructedForm::new(generate(self.inner.config(), task, &mut self.rng)?);
            let goal = rrnd(&form, &mut self.rng).goal;
            let view = GoalView::new(&form, &goal);
            if let Some(task_form) = instructed_form(&form, &view, &mut *self.instructor)? {
                return self.inner.reset_with_form(task_form, task);
            }
        }
        Err(Error::InvalidConfig {
            field: "instructor".into(),
            reason: format!(
                "answered every key of {MAX_META_DRAWS} forms with no value; no task to train on"
            ),
        })
    }

    fn step(&mut self, action: &usize) -> Result<Step<Arc<WebFormObs>>> {
        self.inner.step(action)
    }

    fn render(&self) -> Result<RgbFrame> {
        self.inner.render()
    }

    fn render_text(&self) -> Option<Result<String>> {
        self.inner.render_text()
    }

    fn action_mask(&self) -> Option<Vec<bool>> {
        Env::action_mask(&self.inner)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::oracle_action;
    use super::*;

    fn task(values: [f64; 8]) -> Vec<f64> {
        let mut t = values.to_vec();
        t.push(1.0);
        t
    }

    fn form_of(task: &[f64], seed: u64) -> Form {
        let config = WebFormConfig::default();
        generate(&config, task, &mut Pcg64::seed_from_u64(seed)).unwrap()
    }

    /// A goal value an instruction can describe: the widget's value, or its ticked option.
    fn describable_value(form: &Form, goal: &FormState, w: usize) -> Option<Value> {
        form.widget_value(goal, w).or_else(|| {
            let widget = &form.widgets[w];
            (0..widget.options.len())
                .find(|&i| Form::option_on(goal, w, i as u8))
                .map(|i| Value::Phrase(widget.options[i]))
        })
    }

    #[test]
    fn rrnd_is_deterministic_and_its_goals_are_describable() {
        let mut differs = 0;
        for seed in 0..40 {
            let t = task([0.6, 1.0, 0.8, 1.0, 0.3, 0.5, 0.2, 0.5]);
            let form = UninstructedForm::new(form_of(&t, seed));
            let a = rrnd(&form, &mut Pcg64::seed_from_u64(seed));
            let b = rrnd(&form, &mut Pcg64::seed_from_u64(seed));
            assert_eq!(a, b, "seed {seed}: same seed, different goal");
            let c = rrnd(&form, &mut Pcg64::seed_from_u64(seed + 1000));
            differs += usize::from(a.goal != c.goal);
            let layout = form.layout();
            assert_eq!(a.trajectory.len(), layout.widgets.len());
            for (w, widget) in layout.widgets.iter().enumerate() {
                assert!(
                    a.trajectory.iter().any(|s| s.widget == w),
                    "widget {w} unvisited"
                );
                let value = describable_value(layout, &a.goal, w)
                    .unwrap_or_else(|| panic!("seed {seed}: widget {w} holds nothing"));
                assert!(layout.holds(&a.goal, w, value), "seed {seed}: widget {w}");
                if let WidgetState::Checks(bits) = a.goal.widgets[w] {
                    assert_eq!(bits.count_ones(), 1, "one tick per checkbox group");
                }
                if widget.kind == WidgetKind::Select {
                    assert!(matches!(a.goal.widgets[w], WidgetState::Choice(Some(_))));
                }
            }
        }
        assert!(
            differs > 30,
            "other seeds gave the same goal {} times",
            40 - differs
        );
    }

    #[test]
    fn an_uninstructed_form_keeps_only_the_keys() {
        // cold_start = 0: the generator pre-fills named targets with their hidden values.
        let t = task([0.8, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
        let form = form_of(&t, 3);
        assert!(
            form.initial
                != form
                    .widgets
                    .iter()
                    .map(|w| WidgetState::empty(w.kind))
                    .collect::<Vec<_>>()
        );
        let keys: Vec<&str> = form.fields.iter().map(|f| f.key).collect();
        let uninstructed = UninstructedForm::new(form);
        assert_eq!(uninstructed.keys(), keys.as_slice());
        let layout = uninstructed.layout();
        assert!(layout.fields.is_empty() && layout.sentence.is_none());
        assert!(layout.widgets.iter().all(|w| w.target.is_none()));
        for (w, widget) in layout.widgets.iter().enumerate() {
            assert_eq!(layout.initial[w], WidgetState::empty(widget.kind));
        }
    }

    /// The element of `view` holding `value` for `widget`, and the attribute that reads it.
    fn answer_for(view: &GoalView, widget: usize, value: Value) -> (usize, GoalAttribute) {
        for (i, e) in view.elements.iter().enumerate() {
            for (a, attribute) in GoalAttribute::ALL.iter().enumerate() {
                if e.widget == Some(widget) && e.values[a] == Some(value) && e.set {
                    return (i, *attribute);
                }
            }
        }
        panic!("no element holds the goal value");
    }

    #[test]
    fn instruction_env_rewards_right_values_only() {
        let mut seen_groups = 0;
        for seed in 0..30 {
            let mut env = InstructionEnv::new(WebFormConfig {
                max_fields: 3,
                ..WebFormConfig::default()
            })
            .unwrap();
            env.reset(Some(seed), &task([1.0, 0.6, 0.5, 0.0, 0.0, 0.0, 0.0, 1.0]))
                .unwrap();
            let ep = env.episode.as_ref().unwrap();
            let (form, goal, view) = (ep.form.clone(), ep.goal.clone(), ep.view.clone());
            for key in 0..form.fields.len() {
                let w = form.fields[key].widget;
                let value = describable_value(&form, &goal, w).unwrap();
                let (right, attribute) = answer_for(&view, w, value);
                assert_eq!(env.reward(key, right, attribute).unwrap(), 1.0);
                assert_eq!(env.reward(key, right, GoalAttribute::Name).unwrap(), -1.0);
                // Every other answer is right only if it reads the same value.
                for (i, e) in view.elements.iter().enumerate() {
                    for a in GoalAttribute::ALL {
                        let r = env.reward(key, i, a).unwrap();
                        let a_index = GoalAttribute::ALL.iter().position(|&x| x == a).unwrap();
                        let expected = e.values[a_index].is_some_and(|v| form.holds(&goal, w, v));
                        assert_eq!(r, if expected { 1.0 } else { -1.0 });
                        if e.widget.is_none() {
                            assert_eq!(r, -1.0, "a label, button or text is never a value");
                        }
                    }
                }
                if matches!(
                    form.widgets[w].kind,
                    WidgetKind::Radio | WidgetKind::Checkbox
                ) {
                    seen_groups += 1;
                    let unticked = view
                        .elements
                        .iter()
                        .position(|e| e.widget == Some(w) && !e.set)
                        .unwrap();
                    assert_eq!(
                        env.reward(key, unticked, GoalAttribute::Text).unwrap(),
                        -1.0
                    );
                }
            }
            let mut steps = 0;
            while let Some(key) = env.current_key().unwrap() {
                let w = form.fields[key].widget;
                let (e, a) = answer_for(&view, w, describable_value(&form, &goal, w).unwrap());
                let (r, done) = env.step(e, a).unwrap();
                assert_eq!(r, 1.0);
                steps += 1;
                assert_eq!(done, steps == form.fields.len());
            }
            assert!(env.step(0, GoalAttribute::Value).is_err());
        }
        assert!(seen_groups > 0, "no group target exercised");
    }

    /// Answers each key with the set element whose widget label equals the key: a rule-based
    /// stand-in for INET.
    struct LabelInstructor;

    impl Instructor for LabelInstructor {
        fn instruct(&mut self, view: &GoalView, key: usize) -> Result<(usize, GoalAttribute)> {
            let i = view
                .elements
                .iter()
                .position(|e| e.set && e.label_tokens == view.key_tokens[key])
                .unwrap_or(0);
            let e = &view.elements[i];
            let attribute = if e.values[0].is_some() {
                GoalAttribute::Text
            } else {
                GoalAttribute::Value
            };
            Ok((i, attribute))
        }
    }

    #[test]
    fn meta_env_plays_the_generated_goal_with_its_shaping() {
        let config = WebFormConfig {
            max_fields: 4,
            ..WebFormConfig::default()
        };
        let mut env = MetaWebFormEnv::new(config, Box::new(LabelInstructor)).unwrap();
        let mut hidden = WebFormEnv::new(WebFormConfig {
            max_fields: 4,
            ..WebFormConfig::default()
        })
        .unwrap();
        let mut differs_from_hidden = 0;
        for seed in 0..20 {
            // cold_start = 0 pre-fills the hidden goal; the meta task must start empty.
            let t = task([1.0, 0.5, 0.3, 0.5, 0.0, 0.0, 0.0, 0.0]);
            let (_, info) = env.reset(Some(seed), &t).unwrap();
            assert_eq!(info.get("potential"), Some(0.0));
            hidden.reset(Some(seed), &t).unwrap();
            let generated = env.form().unwrap().clone();
            let hidden_values: Vec<Value> = hidden
                .form()
                .unwrap()
                .fields
                .iter()
                .map(|f| f.value)
                .collect();
            let values: Vec<Value> = generated.fields.iter().map(|f| f.value).collect();
            differs_from_hidden += usize::from(values != hidden_values);
            let mut state = env.state().unwrap().clone();
            assert!(state.widgets.iter().all(|s| !Form::is_filled(s)));
            // The generated task is solvable: its own oracle (not the hidden one) submits it.
            let mut shaped = 0.0;
            loop {
                let (slot, field) = oracle_action(&generated, &state);
                let action = slot * (1 + 4) + field.map_or(0, |f| f + 1);
                let step = env.step(&action).unwrap();
                shaped += step.info.get("shaping").unwrap();
                state = env.state().unwrap().clone();
                if step.terminated || step.truncated {
                    assert_eq!(step.info.get("success"), Some(1.0), "seed {seed}");
                    break;
                }
            }
            assert!(shaped.abs() < 1.0 + 1e-9);
        }
        assert!(
            differs_from_hidden >= 18,
            "RRND goals are not the hidden instructions"
        );
    }
}

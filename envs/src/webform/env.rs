//! [`WebFormEnv`] (flat `Discrete` actions) and [`WebFormMdEnv`] (`MultiDiscrete` actions):
//! episodes, rewards, shaping and the `Env` contract around the form model.

use std::sync::Arc;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use teachgym_core::{Env, EpisodeProgress, Error, Info, Result, RgbFrame, Space, Step, TaskSpace};

use super::form::{Form, FormState, Outcome};
use super::generate::generate;
use super::observe::{observation_space, Encoder, PageCache, WebFormObs};
use super::{html, oracle, raster, ShapingMode, WebFormConfig};

/// State of the episode in progress.
#[derive(Debug, Clone)]
struct Episode {
    form: Form,
    state: FormState,
    obs: Arc<WebFormObs>,
    cache: PageCache,
    progress: EpisodeProgress,
    max_steps: u32,
    optimal_steps: u32,
    potential: f64,
    task: Vec<f64>,
}

/// A procedurally generated web form to fill from an instruction (see the [module
/// docs](super)). Actions are flat indices `slot · (1 + max_fields) + j`.
///
/// ```
/// use teachgym_core::Env;
/// use teachgym_envs::webform::{WebFormConfig, WebFormEnv};
/// let mut env = WebFormEnv::new(WebFormConfig::default()).unwrap();
/// let (obs, info) = env.reset(Some(7), &[0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 1.0]).unwrap();
/// assert_eq!(obs.action_mask.len(), env.n_actions());
/// // The oracle solves it in the optimal number of steps.
/// let optimal = info.get("optimal_steps").unwrap() as u32;
/// for _ in 0..optimal {
///     let step = env.step(&env.oracle_action().unwrap()).unwrap();
///     if step.terminated {
///         assert_eq!(step.info.get("success"), Some(1.0));
///     }
/// }
/// ```
pub struct WebFormEnv {
    config: WebFormConfig,
    task_space: TaskSpace,
    observation_space: Space,
    action_space: Space,
    rng: Pcg64,
    episode: Option<Episode>,
}

impl WebFormEnv {
    /// Builds an env from its configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad field.
    pub fn new(config: WebFormConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            task_space: config.bounded_task_space()?,
            observation_space: observation_space(&config)?,
            action_space: Space::discrete(config.n_actions())?,
            rng: Pcg64::seed_from_u64(config.seed),
            config,
            episode: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WebFormConfig {
        &self.config
    }

    /// Number of flat actions.
    pub fn n_actions(&self) -> usize {
        self.config.n_actions()
    }

    /// The flat action of `Click(slot)` (`field == None`) or `Type(slot, field)`.
    pub fn encode_action(&self, slot: usize, field: Option<usize>) -> usize {
        slot * (1 + self.config.max_fields) + field.map_or(0, |f| f + 1)
    }

    /// `(slot, field)` of a flat action (`field == None` for a click).
    pub fn decode_action(&self, action: usize) -> (usize, Option<usize>) {
        let width = 1 + self.config.max_fields;
        let j = action % width;
        (action / width, j.checked_sub(1))
    }

    fn episode(&self, call: &'static str) -> Result<&Episode> {
        self.episode.as_ref().ok_or(Error::ResetNeeded { call })
    }

    /// The current observation.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn observation(&self) -> Result<&WebFormObs> {
        Ok(&self.episode("observation")?.obs)
    }

    /// The current action mask (1 = valid flat action).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn action_mask(&self) -> Result<&[u8]> {
        Ok(&self.episode("action_mask")?.obs.action_mask)
    }

    /// The form of the current episode (layout, instruction, goal).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn form(&self) -> Result<&Form> {
        Ok(&self.episode("form")?.form)
    }

    /// The current widget states, page and pop-up.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn state(&self) -> Result<&FormState> {
        Ok(&self.episode("state")?.state)
    }

    /// The task of the current episode.
    pub fn task(&self) -> Option<&[f64]> {
        self.episode.as_ref().map(|e| e.task.as_slice())
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.episode.as_ref().map_or(0, |e| e.progress.steps)
    }

    /// Step limit of the current episode.
    pub fn max_steps(&self) -> Option<u32> {
        self.episode.as_ref().map(|e| e.max_steps)
    }

    /// Fewest steps to a correct submission from the episode's initial state.
    pub fn optimal_steps(&self) -> Option<u32> {
        self.episode.as_ref().map(|e| e.optimal_steps)
    }

    /// The scripted solver's next flat action (see [`super::oracle_action`]).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn oracle_action(&self) -> Result<usize> {
        let ep = self.episode("oracle_action")?;
        let (slot, field) = oracle::oracle_action(&ep.form, &ep.state);
        Ok(self.encode_action(slot, field))
    }

    /// The current form as a self-contained HTML page (instruction included).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn html(&self) -> Result<String> {
        let ep = self.episode("html")?;
        Ok(html::form_html(&ep.form, &ep.state))
    }

    /// The state the HTML page reports (`window.teachgym.state()`), as JSON: the page, the open
    /// pop-up and every placed widget's value (see [`super::page_state`]).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn page_state(&self) -> Result<serde_json::Value> {
        let ep = self.episode("page_state")?;
        Ok(html::page_state(&ep.form, &ep.state))
    }

    /// The current view as text: instruction, page, and one line per element slot with its
    /// valid actions (see [`super::text_view`]).
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before the first reset.
    pub fn text_view(&self) -> Result<String> {
        let ep = self.episode("text_view")?;
        Ok(html::text_view(&ep.form, &ep.state))
    }

    fn info(&self, ep: &Episode, outcome: &Outcome, task_reward: f64, shaping: f64) -> Info {
        let n_correct = ep.form.n_correct(&ep.state);
        Info {
            episode: None,
            values: vec![
                ("success", f64::from(u8::from(outcome.ended == Some(true)))),
                ("task_reward", task_reward),
                ("shaping", shaping),
                ("potential", ep.potential),
                ("n_correct", n_correct as f64),
                ("n_fields", ep.form.fields.len() as f64),
                ("n_pages", ep.form.pages.len() as f64),
                ("page", ep.state.page as f64),
                ("optimal_steps", f64::from(ep.optimal_steps)),
                ("invalid_action", f64::from(u8::from(outcome.invalid))),
            ],
        }
    }

    /// Applies `Click(slot)` / `Type(slot, field)` given as a pair; the flat and multi-discrete
    /// envs both end here.
    fn step_decoded(&mut self, slot: usize, field: Option<usize>) -> Result<Step<Arc<WebFormObs>>> {
        let c = &self.config;
        let ep = self
            .episode
            .as_mut()
            .ok_or(Error::ResetNeeded { call: "step" })?;
        ep.progress.ensure_running()?;
        let outcome = ep.form.apply(&mut ep.state, slot, field);
        let encoder = Encoder {
            config: c,
            form: &ep.form,
        };
        // Copies the buffers only if the caller still holds the previous observation.
        let obs = Arc::make_mut(&mut ep.obs);
        if outcome.view_changed || outcome.page_restyled {
            encoder.view(&ep.state, obs, &mut ep.cache);
        } else if let Some(w) = outcome.changed_widget {
            encoder.widget(&ep.state, w, obs);
        }
        let terminated = outcome.ended.is_some();
        let truncated = !terminated && ep.progress.steps + 1 >= ep.max_steps;
        let task_reward = match outcome.ended {
            Some(true) => c.success_reward,
            Some(false) => c.failure_reward,
            None if truncated => c.truncation_reward,
            None => 0.0,
        };
        let before = ep.potential;
        ep.potential = ep.form.n_correct(&ep.state) as f64 / ep.form.fields.len() as f64;
        let shaping = c.shaping_coef
            * match c.shaping {
                ShapingMode::None => 0.0,
                ShapingMode::Ng => {
                    let after = if terminated { 0.0 } else { ep.potential };
                    c.gamma * after - before
                }
                ShapingMode::Qweb => c.gamma * (ep.potential - before),
            };
        let penalty = if outcome.invalid {
            c.invalid_action_penalty
        } else {
            0.0
        };
        let reward = task_reward + shaping - penalty;
        let success = outcome.ended == Some(true);
        let (truncated, summary) = ep
            .progress
            .record(reward, terminated, ep.max_steps, |_| success);
        encoder.progress(&ep.state, ep.progress.steps, ep.max_steps, obs);
        let ep = self.episode.as_ref().expect("episode exists");
        let mut info = self.info(ep, &outcome, task_reward, shaping);
        info.episode = summary;
        Ok(Step {
            obs: ep.obs.clone(),
            reward,
            terminated,
            truncated,
            info,
        })
    }
}

impl Env for WebFormEnv {
    type Obs = Arc<WebFormObs>;
    type Action = usize;

    fn task_space(&self) -> &TaskSpace {
        &self.task_space
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<(Arc<WebFormObs>, Info)> {
        self.task_space.validate(task)?;
        if let Some(seed) = seed {
            self.rng = Pcg64::seed_from_u64(seed);
        }
        let form = generate(&self.config, task, &mut self.rng)?;
        self.start_episode(form, task)
    }

    fn step(&mut self, action: &usize) -> Result<Step<Arc<WebFormObs>>> {
        let n = self.n_actions();
        if *action >= n {
            return Err(Error::ActionOutOfRange {
                value: i64::try_from(*action).unwrap_or(i64::MAX),
                n,
            });
        }
        let (slot, field) = self.decode_action(*action);
        self.step_decoded(slot, field)
    }

    fn render(&self) -> Result<RgbFrame> {
        let ep = self.episode("render")?;
        Ok(raster::render(&ep.form, &ep.state))
    }

    fn render_text(&self) -> Option<Result<String>> {
        Some(self.text_view())
    }

    /// The observation's `action_mask` as booleans; `None` before the first reset.
    fn action_mask(&self) -> Option<Vec<bool>> {
        let ep = self.episode.as_ref()?;
        Some(ep.obs.action_mask.iter().map(|&m| m == 1).collect())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl WebFormEnv {
    /// Starts an episode on a form made elsewhere (the meta-trainer's generated tasks) as if
    /// `task` had generated it: same observation, dynamics, rewards and step limit. The form
    /// must fit this env's caps (a layout from [`generate`] with this config, with at most
    /// `max_fields` fields).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a form with no field or more than `max_fields`, a task
    /// outside the space.
    pub fn reset_with_form(&mut self, form: Form, task: &[f64]) -> Result<(Arc<WebFormObs>, Info)> {
        self.task_space.validate(task)?;
        if form.fields.is_empty() || form.fields.len() > self.config.max_fields {
            return Err(Error::InvalidConfig {
                field: "form".into(),
                reason: format!(
                    "has {} fields, need 1..={}",
                    form.fields.len(),
                    self.config.max_fields
                ),
            });
        }
        self.start_episode(form, task)
    }

    fn start_episode(&mut self, form: Form, task: &[f64]) -> Result<(Arc<WebFormObs>, Info)> {
        let state = form.initial_state();
        let optimal_steps = form.optimal_steps(&state);
        let max_steps = self.config.max_steps(optimal_steps);
        // Reuse the previous episode's buffers.
        let (mut obs, mut cache) = match self.episode.take() {
            Some(ep) => (ep.obs, ep.cache),
            None => (
                Arc::new(WebFormObs::zeros(&self.config)),
                PageCache::default(),
            ),
        };
        let buffers = Arc::make_mut(&mut obs);
        cache.clear();
        let encoder = Encoder {
            config: &self.config,
            form: &form,
        };
        encoder.instruction(buffers);
        encoder.view(&state, buffers, &mut cache);
        encoder.progress(&state, 0, max_steps, buffers);
        let potential = form.n_correct(&state) as f64 / form.fields.len() as f64;
        let episode = Episode {
            form,
            state,
            obs,
            cache,
            progress: EpisodeProgress::default(),
            max_steps,
            optimal_steps,
            potential,
            task: task.to_vec(),
        };
        let info = self.info(&episode, &Outcome::default(), 0.0, 0.0);
        let obs = episode.obs.clone();
        self.episode = Some(episode);
        Ok((obs, info))
    }
}

/// [`WebFormEnv`] with `MultiDiscrete([max_elements, 2, max_fields])` actions
/// `[slot, kind, field]`: `kind = 0` clicks `slot` (the field is ignored), `kind = 1` types
/// field `field` into it. The observation (including the flat `action_mask`) is the same.
pub struct WebFormMdEnv {
    inner: WebFormEnv,
    action_space: Space,
}

impl WebFormMdEnv {
    /// Builds an env from its configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad field.
    pub fn new(config: WebFormConfig) -> Result<Self> {
        let action_space =
            Space::multi_discrete(vec![config.max_elements, 2, config.max_fields.max(1)])?;
        Ok(Self {
            inner: WebFormEnv::new(config)?,
            action_space,
        })
    }

    /// The flat-action env inside (observation, mask, oracle, HTML, ...).
    pub fn flat(&self) -> &WebFormEnv {
        &self.inner
    }

    /// The multi-discrete action for a flat one.
    pub fn from_flat(&self, action: usize) -> [usize; 3] {
        match self.inner.decode_action(action) {
            (slot, None) => [slot, 0, 0],
            (slot, Some(f)) => [slot, 1, f],
        }
    }
}

impl Env for WebFormMdEnv {
    type Obs = Arc<WebFormObs>;
    type Action = [usize];

    fn task_space(&self) -> &TaskSpace {
        self.inner.task_space()
    }

    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<(Arc<WebFormObs>, Info)> {
        self.inner.reset(seed, task)
    }

    fn step(&mut self, action: &[usize]) -> Result<Step<Arc<WebFormObs>>> {
        let Space::MultiDiscrete { nvec } = &self.action_space else {
            unreachable!("built as MultiDiscrete")
        };
        if action.len() != nvec.len() {
            return Err(Error::ActionDimension {
                expected: nvec.len(),
                got: action.len(),
            });
        }
        for (&a, &n) in action.iter().zip(nvec) {
            if a >= n {
                return Err(Error::ActionOutOfRange {
                    value: i64::try_from(a).unwrap_or(i64::MAX),
                    n,
                });
            }
        }
        let field = (action[1] == 1).then_some(action[2]);
        self.inner.step_decoded(action[0], field)
    }

    fn render(&self) -> Result<RgbFrame> {
        self.inner.render()
    }

    fn render_text(&self) -> Option<Result<String>> {
        Some(self.inner.text_view())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::super::InteractionLevel;
    use super::*;

    fn first_difference(a: &WebFormObs, b: &WebFormObs) -> String {
        fn find<T: PartialEq + std::fmt::Debug>(name: &str, a: &[T], b: &[T]) -> Option<String> {
            let i = a.iter().zip(b).position(|(x, y)| x != y)?;
            Some(format!(
                "{name}[{i}]: fresh {:?} vs incremental {:?}",
                a[i], b[i]
            ))
        }
        find("instr_key", &a.instr_key, &b.instr_key)
            .or_else(|| find("instr_val", &a.instr_val, &b.instr_val))
            .or_else(|| find("instr_text", &a.instr_text, &b.instr_text))
            .or_else(|| find("dom_tokens", &a.dom_tokens, &b.dom_tokens))
            .or_else(|| find("dom_feat", &a.dom_feat, &b.dom_feat))
            .or_else(|| find("dom_mask", &a.dom_mask, &b.dom_mask))
            .or_else(|| find("match", &a.match_feat, &b.match_feat))
            .or_else(|| find("action_mask", &a.action_mask, &b.action_mask))
            .or_else(|| find("instr_placed", &a.instr_placed, &b.instr_placed))
            .or_else(|| find("progress", &a.progress, &b.progress))
            .unwrap_or_default()
    }

    #[test]
    fn incremental_observations_equal_a_fresh_encoding() {
        for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
            let mut env = WebFormEnv::new(WebFormConfig {
                interaction_level: level,
                task_low: vec![0.0; crate::webform::TASK_DIMS],
                ..WebFormConfig::default()
            })
            .unwrap();
            let mut rng = Pcg64::seed_from_u64(3);
            let mut view_changes = 0;
            for seed in 0..60 {
                let task: Vec<f64> = (0..crate::webform::TASK_DIMS)
                    .map(|_| rng.random::<f64>())
                    .collect();
                env.reset(Some(seed), &task).unwrap();
                loop {
                    let mask = env.action_mask().unwrap();
                    let valid: Vec<usize> = (0..mask.len()).filter(|&a| mask[a] == 1).collect();
                    let a = if rng.random::<f64>() < 0.9 {
                        valid[rng.random_range(0..valid.len())]
                    } else {
                        env.oracle_action().unwrap()
                    };
                    let page_before = env.state().unwrap().page;
                    let step = env.step(&a).unwrap();
                    let ep = env.episode.as_ref().unwrap();
                    view_changes += usize::from(ep.state.page != page_before);
                    let mut fresh = WebFormObs::zeros(&env.config);
                    let encoder = Encoder {
                        config: &env.config,
                        form: &ep.form,
                    };
                    encoder.instruction(&mut fresh);
                    encoder.view(&ep.state, &mut fresh, &mut PageCache::default());
                    encoder.progress(&ep.state, ep.progress.steps, ep.max_steps, &mut fresh);
                    assert!(
                        fresh == *step.obs,
                        "seed {seed} action {a}: {}",
                        first_difference(&fresh, &step.obs)
                    );
                    if step.terminated || step.truncated {
                        break;
                    }
                }
            }
            assert!(view_changes > 0, "no page change exercised");
        }
    }
}

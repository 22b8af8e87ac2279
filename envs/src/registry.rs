//! The one table of teachgym's environments: every env by name, and how construction options
//! (`body`, task-space `bounds`, `max_episode_steps`, further `config` fields) become its typed
//! Rust configuration ([`EnvConfig`]). The command line (`teachgym train`) and the Python
//! package both read this table, so adding an environment is one [`EnvEntry`] here.
//!
//! Envs of different observation/action types are held as an [`AnyEnv`]: continuous control
//! (`Env<Obs = Vec<f32>, Action = [f32]>`), flat observations with one `Discrete` action (the
//! grid world), and the web forms (dict observations [`WebFormObs`], `Discrete` or
//! `MultiDiscrete` actions). Code that needs the concrete env type (the training loop, generic
//! over it) matches on [`EnvConfig`] instead.

use std::sync::Arc;

use crate::{
    walker::constants::{DEFAULT_MAX_EPISODE_STEPS, MASTERY_THRESHOLD},
    walker::PARKOUR_DIM_NAMES,
    Embodiment, GridWorldConfig, GridWorldEnv, PointMassConfig, PointMassEnv, TrackConfig,
    WalkerConfig, WalkerEnv, WebFormConfig, WebFormEnv, WebFormMdEnv, WebFormObs,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use teachgym_core::{Env, EnvPrior, Error, Info, Result, RgbFrame, Space, Step, TaskSpace};

/// A continuous-control env behind a trait object.
pub type BoxedEnv = Box<dyn Env<Obs = Vec<f32>, Action = [f32]> + Send>;
/// A flat-observation env with one `Discrete` action per step.
pub type FlatDiscreteEnv = Box<dyn Env<Obs = Vec<f32>, Action = usize> + Send>;
/// A dict-observation env with one `Discrete` action per step.
pub type DiscreteEnv = Box<dyn Env<Obs = Arc<WebFormObs>, Action = usize> + Send>;
/// A dict-observation env with `MultiDiscrete` actions.
pub type MultiDiscreteEnv = Box<dyn Env<Obs = Arc<WebFormObs>, Action = [usize]> + Send>;

/// Any env of the package, by its observation and action types.
pub enum AnyEnv {
    /// Flat `f32` observations, `Box` actions.
    Continuous(BoxedEnv),
    /// Flat `f32` observations, `Discrete` actions.
    FlatDiscrete(FlatDiscreteEnv),
    /// Dict observations, `Discrete` actions.
    Discrete(DiscreteEnv),
    /// Dict observations, `MultiDiscrete` actions.
    MultiDiscrete(MultiDiscreteEnv),
}

/// An observation of an [`AnyEnv`].
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// One flat `f32` vector.
    Flat(Vec<f32>),
    /// Named arrays (see [`WebFormObs::entries`]).
    Dict(Arc<WebFormObs>),
}

/// An action for an [`AnyEnv`]; its kind must match the env's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action<'a> {
    /// A `Box` action.
    Continuous(&'a [f32]),
    /// A `Discrete` action.
    Discrete(usize),
    /// A `MultiDiscrete` action.
    MultiDiscrete(&'a [usize]),
}

fn map_step<O>(s: Step<O>, obs: impl FnOnce(O) -> Observation) -> Step<Observation> {
    Step {
        obs: obs(s.obs),
        reward: s.reward,
        terminated: s.terminated,
        truncated: s.truncated,
        info: s.info,
    }
}

impl AnyEnv {
    /// The task space.
    pub fn task_space(&self) -> &TaskSpace {
        match self {
            AnyEnv::Continuous(e) => e.task_space(),
            AnyEnv::FlatDiscrete(e) => e.task_space(),
            AnyEnv::Discrete(e) => e.task_space(),
            AnyEnv::MultiDiscrete(e) => e.task_space(),
        }
    }

    /// The observation space.
    pub fn observation_space(&self) -> &Space {
        match self {
            AnyEnv::Continuous(e) => e.observation_space(),
            AnyEnv::FlatDiscrete(e) => e.observation_space(),
            AnyEnv::Discrete(e) => e.observation_space(),
            AnyEnv::MultiDiscrete(e) => e.observation_space(),
        }
    }

    /// The action space.
    pub fn action_space(&self) -> &Space {
        match self {
            AnyEnv::Continuous(e) => e.action_space(),
            AnyEnv::FlatDiscrete(e) => e.action_space(),
            AnyEnv::Discrete(e) => e.action_space(),
            AnyEnv::MultiDiscrete(e) => e.action_space(),
        }
    }

    /// Starts an episode (see [`Env::reset`]).
    ///
    /// # Errors
    /// As the env's `reset` (task outside the task space, ...).
    pub fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<(Observation, Info)> {
        Ok(match self {
            AnyEnv::Continuous(e) => {
                let (obs, info) = e.reset(seed, task)?;
                (Observation::Flat(obs), info)
            }
            AnyEnv::FlatDiscrete(e) => {
                let (obs, info) = e.reset(seed, task)?;
                (Observation::Flat(obs), info)
            }
            AnyEnv::Discrete(e) => {
                let (obs, info) = e.reset(seed, task)?;
                (Observation::Dict(obs), info)
            }
            AnyEnv::MultiDiscrete(e) => {
                let (obs, info) = e.reset(seed, task)?;
                (Observation::Dict(obs), info)
            }
        })
    }

    /// One step (see [`Env::step`]).
    ///
    /// # Errors
    /// [`Error::InvalidSpace`] when the action's kind is not the env's; otherwise as the env's
    /// `step` (out-of-range or non-finite action, no reset, episode ended).
    pub fn step(&mut self, action: Action<'_>) -> Result<Step<Observation>> {
        match (self, action) {
            (AnyEnv::Continuous(e), Action::Continuous(a)) => {
                Ok(map_step(e.step(a)?, Observation::Flat))
            }
            (AnyEnv::FlatDiscrete(e), Action::Discrete(a)) => {
                Ok(map_step(e.step(&a)?, Observation::Flat))
            }
            (AnyEnv::Discrete(e), Action::Discrete(a)) => {
                Ok(map_step(e.step(&a)?, Observation::Dict))
            }
            (AnyEnv::MultiDiscrete(e), Action::MultiDiscrete(a)) => {
                Ok(map_step(e.step(a)?, Observation::Dict))
            }
            (env, action) => Err(Error::InvalidSpace {
                reason: format!(
                    "a {} action was given to an env with a {} action space",
                    action.kind(),
                    env.action_kind()
                ),
            }),
        }
    }

    /// The current frame.
    ///
    /// # Errors
    /// As the env's `render` (no reset yet).
    pub fn render(&self) -> Result<RgbFrame> {
        match self {
            AnyEnv::Continuous(e) => e.render(),
            AnyEnv::FlatDiscrete(e) => e.render(),
            AnyEnv::Discrete(e) => e.render(),
            AnyEnv::MultiDiscrete(e) => e.render(),
        }
    }

    /// The current state as text, for envs with a text view (the web forms); `None` for the
    /// others.
    ///
    /// # Errors
    /// As the env's `render_text` (no reset yet).
    pub fn render_text(&self) -> Option<Result<String>> {
        match self {
            AnyEnv::Continuous(e) => e.render_text(),
            AnyEnv::FlatDiscrete(e) => e.render_text(),
            AnyEnv::Discrete(e) => e.render_text(),
            AnyEnv::MultiDiscrete(e) => e.render_text(),
        }
    }

    /// The web-form env inside (its HTML page, page state, oracle, form), for the web forms
    /// ([`WebFormMdEnv`] gives its flat env); `None` for the other envs.
    pub fn webform(&self) -> Option<&WebFormEnv> {
        let any = match self {
            AnyEnv::Continuous(e) => e.as_any(),
            AnyEnv::FlatDiscrete(e) => e.as_any(),
            AnyEnv::Discrete(e) => e.as_any(),
            AnyEnv::MultiDiscrete(e) => e.as_any(),
        }?;
        any.downcast_ref::<WebFormEnv>()
            .or_else(|| any.downcast_ref::<WebFormMdEnv>().map(WebFormMdEnv::flat))
    }

    /// Whether observations are one flat `f32` vector (else a dict of arrays).
    pub fn has_flat_observations(&self) -> bool {
        matches!(self, AnyEnv::Continuous(_) | AnyEnv::FlatDiscrete(_))
    }

    /// `continuous`, `discrete` or `multi_discrete`.
    pub fn action_kind(&self) -> &'static str {
        match self {
            AnyEnv::Continuous(_) => "continuous",
            AnyEnv::FlatDiscrete(_) | AnyEnv::Discrete(_) => "discrete",
            AnyEnv::MultiDiscrete(_) => "multi_discrete",
        }
    }
}

impl Action<'_> {
    /// `continuous`, `discrete` or `multi_discrete`.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Continuous(_) => "continuous",
            Action::Discrete(_) => "discrete",
            Action::MultiDiscrete(_) => "multi_discrete",
        }
    }
}

/// Options shared by every environment constructor: the Python constructor keywords (sent as
/// JSON) and the `teachgym train` flags `--body`, `--bound`, `--max-episode-steps` (applied over
/// the config file's env section).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvOptions {
    /// Embodiment name (walkers only), e.g. `classic_bipedal`.
    pub body: Option<String>,
    /// Per-dimension `[low, high]` overrides of the task space, keyed by dimension name.
    pub bounds: Map<String, Value>,
    /// Step limit after which the env truncates the episode.
    pub max_episode_steps: Option<u32>,
    /// Any further fields of the env's Rust configuration (serde form), merged over the
    /// defaults; unknown fields are errors.
    pub config: Value,
}

impl EnvOptions {
    /// Parses the JSON the Python side sends.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] with serde's message (unknown option, wrong type).
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json).map_err(|e| invalid("options", e.to_string()))
    }

    /// The `bounds` entries as `(name, low, high)`.
    fn bound_pairs(&self) -> Result<Vec<(String, f64, f64)>> {
        self.bounds
            .iter()
            .map(|(name, v)| {
                let pair: [f64; 2] = serde_json::from_value(v.clone()).map_err(|_| {
                    invalid(
                        format!("bounds.{name}"),
                        format!("expected a pair [low, high] of numbers, got {v}"),
                    )
                })?;
                Ok((name.clone(), pair[0], pair[1]))
            })
            .collect()
    }
}

/// An environment's typed configuration, one variant per env type: what the training loop
/// (generic over the env type) matches on, and what [`EnvConfig::build`] turns into an
/// [`AnyEnv`].
#[derive(Debug, Clone, PartialEq)]
pub enum EnvConfig {
    /// Stump Tracks or Hexagon Tracks ([`WalkerEnv`]).
    Walker(WalkerConfig),
    /// The point mass ([`PointMassEnv`]).
    PointMass(PointMassConfig),
    /// The grid world ([`GridWorldEnv`]).
    GridWorld(GridWorldConfig),
    /// The web forms with one `Discrete` action per step ([`WebFormEnv`]).
    WebForm(WebFormConfig),
    /// The web forms with `MultiDiscrete` actions ([`WebFormMdEnv`]).
    WebFormMd(WebFormConfig),
}

impl EnvConfig {
    /// Builds the env.
    ///
    /// # Errors
    /// An invalid configuration ([`Error::InvalidConfig`], [`Error::InvalidBounds`]).
    pub fn build(&self) -> Result<AnyEnv> {
        Ok(match self {
            EnvConfig::Walker(c) => AnyEnv::Continuous(Box::new(WalkerEnv::new(c.clone())?)),
            EnvConfig::PointMass(c) => AnyEnv::Continuous(Box::new(PointMassEnv::new(c.clone())?)),
            EnvConfig::GridWorld(c) => {
                AnyEnv::FlatDiscrete(Box::new(GridWorldEnv::new(c.clone())?))
            }
            EnvConfig::WebForm(c) => AnyEnv::Discrete(Box::new(WebFormEnv::new(c.clone())?)),
            EnvConfig::WebFormMd(c) => {
                AnyEnv::MultiDiscrete(Box::new(WebFormMdEnv::new(c.clone())?))
            }
        })
    }

    /// The fixed test set of the env's evaluation protocol, if it has one (Parkour: the body's
    /// walking, swimming or climbing set); `None` where the protocol draws its test set from the
    /// run's task space.
    pub fn protocol_test_set(&self) -> Option<Vec<Vec<f64>>> {
        match self {
            EnvConfig::Walker(c) => c.protocol_test_set(),
            _ => None,
        }
    }

    /// The task space the configuration defines (without building the env).
    ///
    /// # Errors
    /// Invalid bounds or configuration.
    pub fn task_space(&self) -> Result<TaskSpace> {
        match self {
            EnvConfig::Walker(c) => c.task_space(),
            EnvConfig::PointMass(c) => c.task_space(),
            EnvConfig::GridWorld(c) => c.task_space(),
            EnvConfig::WebForm(c) | EnvConfig::WebFormMd(c) => c.bounded_task_space(),
        }
    }

    /// What an expert knows of the env (mastery, no-progress return, easiest task): the values
    /// of the teachers' expert-knowledge levels. See each config's `prior`.
    ///
    /// # Errors
    /// Invalid bounds or configuration.
    pub fn prior(&self) -> Result<EnvPrior> {
        match self {
            EnvConfig::Walker(c) => c.prior(),
            EnvConfig::PointMass(c) => c.prior(),
            EnvConfig::GridWorld(c) => c.prior(),
            EnvConfig::WebForm(c) | EnvConfig::WebFormMd(c) => c.prior(),
        }
    }

    /// The range of episode returns worth telling apart when returns are drawn as colours
    /// (curriculum plots): the walkers' fall penalty to the mastery threshold; the point mass'
    /// 0 to its success bonus plus full progress; the grid world's time-out cost to its goal
    /// reward; the web forms' failure to success reward, widened by what their potential-based
    /// shaping (`Φ ∈ [0, 1]`, scaled by `shaping_coef`) can add to an episode: down by the
    /// potential lost, and up by the potential left on a truncated episode (`ng`) or gained
    /// (`qweb`).
    pub fn return_range(&self) -> (f64, f64) {
        match self {
            EnvConfig::Walker(_) => (crate::walker::constants::FALL_REWARD, MASTERY_THRESHOLD),
            EnvConfig::PointMass(c) => (
                0.0,
                c.success_bonus + c.progress_reward * c.target_distance_bounds[1],
            ),
            EnvConfig::GridWorld(c) => (
                -c.step_penalty * f64::from(c.max_episode_steps),
                c.goal_reward,
            ),
            EnvConfig::WebForm(c) | EnvConfig::WebFormMd(c) => {
                let low = c.failure_reward.min(c.truncation_reward);
                let coef = c.shaping_coef.abs();
                use crate::webform::ShapingMode;
                match c.shaping {
                    ShapingMode::None => (low, c.success_reward),
                    ShapingMode::Ng => {
                        (low - coef, c.success_reward.max(c.truncation_reward + coef))
                    }
                    ShapingMode::Qweb => (low - coef, c.success_reward + coef),
                }
            }
        }
    }
}

/// One environment of the registry.
pub struct EnvEntry {
    /// Registry name, e.g. `stump_tracks` (`teachgym train --env`, Python's `RustEnv`).
    pub name: &'static str,
    /// gymnasium id without the namespace, e.g. `StumpTracks-v0`.
    pub gym_id: &'static str,
    /// One line saying what the env is and what its task vector sets.
    pub summary: &'static str,
    /// The section of a `teachgym train` configuration that holds this env's configuration
    /// (`[walker]`, `[webform]`, ...).
    pub config_section: &'static str,
    /// Default step limit; `None` when the limit depends on the episode (the web forms').
    pub max_episode_steps: Option<u32>,
    /// Frames per second of a rendered episode.
    pub render_fps: u32,
    /// Return above which an episode cut short from outside (by a Python-side time limit or an
    /// early reset) counts as a success; `None` when only the env's own end can be a success.
    pub success_return: Option<f64>,
    /// The env's configuration from the construction options.
    pub configure: fn(&EnvOptions) -> Result<EnvConfig>,
}

impl EnvEntry {
    /// The env's configuration from `options` (see [`EnvOptions`]).
    ///
    /// # Errors
    /// Unknown or malformed options, an invalid configuration or bounds.
    pub fn config(&self, options: &EnvOptions) -> Result<EnvConfig> {
        (self.configure)(options)
    }
}

/// Every environment, in registration order.
pub const ENVS: &[EnvEntry] = &[
    EnvEntry {
        name: "stump_tracks",
        gym_id: "StumpTracks-v0",
        summary: "Stump Tracks: a walker crosses stumps; task = (stump_height, obstacle_spacing).",
        config_section: "walker",
        max_episode_steps: Some(DEFAULT_MAX_EPISODE_STEPS),
        render_fps: 50,
        success_return: Some(MASTERY_THRESHOLD),
        configure: |o| walker_config(WalkerConfig::stump_tracks(), o).map(EnvConfig::Walker),
    },
    EnvEntry {
        name: "hexagon_tracks",
        gym_id: "HexagonTracks-v0",
        summary: "Hexagon Tracks: a walker crosses hexagonal obstacles; task = 12 vertex offsets.",
        config_section: "walker",
        max_episode_steps: Some(DEFAULT_MAX_EPISODE_STEPS),
        render_fps: 50,
        success_return: Some(MASTERY_THRESHOLD),
        configure: |o| walker_config(WalkerConfig::hexagon_tracks(), o).map(EnvConfig::Walker),
    },
    EnvEntry {
        name: "parkour",
        gym_id: "Parkour-v0",
        summary: "Parkour: a walker, swimmer or amphibian crosses CPPN-drawn ground and ceiling \
                  with water and creepers; task = (input_vector_0..2, water_level, \
                  creepers_width, creepers_height, creepers_spacing, terrain_cppn_scale).",
        config_section: "walker",
        max_episode_steps: Some(DEFAULT_MAX_EPISODE_STEPS),
        render_fps: 50,
        success_return: Some(MASTERY_THRESHOLD),
        configure: |o| walker_config(WalkerConfig::parkour(), o).map(EnvConfig::Walker),
    },
    EnvEntry {
        name: "point_mass",
        gym_id: "PointMass-v0",
        summary: "Point mass: push a mass to a target; task = (target_distance, mass).",
        config_section: "point_mass",
        max_episode_steps: Some(crate::point_mass::DEFAULT_MAX_EPISODE_STEPS),
        render_fps: 10,
        // Reaching the target ends the episode, so a cut episode never reached it.
        success_return: None,
        configure: |o| point_mass_config(o).map(EnvConfig::PointMass),
    },
    EnvEntry {
        name: "grid_world",
        gym_id: "GridWorld-v0",
        summary: "Grid world: walk to a goal past walls, one Discrete move per step; task = \
                  (size, wall_density).",
        config_section: "grid_world",
        max_episode_steps: Some(crate::grid_world::DEFAULT_MAX_EPISODE_STEPS),
        render_fps: 10,
        // Reaching the goal ends the episode, so a cut episode never reached it.
        success_return: None,
        configure: |o| grid_world_config(o).map(EnvConfig::GridWorld),
    },
    EnvEntry {
        name: "webform",
        gym_id: "WebForm-v0",
        summary:
            "Web form (QWeb-style): fill a generated form from an instruction with Click/Type \
                  actions, one Discrete index per step; task = 8 difficulty parameters in [0, 1].",
        config_section: "webform",
        max_episode_steps: None,
        render_fps: 4,
        // Only a correct submission is a success, and it ends the episode.
        success_return: None,
        configure: |o| webform_config(o).map(EnvConfig::WebForm),
    },
    EnvEntry {
        name: "webform_md",
        gym_id: "WebFormMD-v0",
        summary: "Web form with MultiDiscrete actions (slot, click/type, field); otherwise as \
                  webform.",
        config_section: "webform",
        max_episode_steps: None,
        render_fps: 4,
        success_return: None,
        configure: |o| webform_config(o).map(EnvConfig::WebFormMd),
    },
];

/// The registry's names, in registration order.
pub fn env_names() -> Vec<&'static str> {
    ENVS.iter().map(|e| e.name).collect()
}

/// The entry called `name`.
///
/// # Errors
/// [`Error::InvalidConfig`] listing the known names.
pub fn entry(name: &str) -> Result<&'static EnvEntry> {
    ENVS.iter().find(|e| e.name == name).ok_or_else(|| {
        invalid(
            "env",
            format!(
                "unknown environment `{name}`; known: {}",
                env_names().join(", ")
            ),
        )
    })
}

/// The configuration of env `name` from its options.
///
/// # Errors
/// Unknown name, unknown or malformed option, invalid configuration or bounds.
pub fn env_config(name: &str, options: &EnvOptions) -> Result<EnvConfig> {
    entry(name)?.config(options)
}

/// Builds env `name` from its options.
///
/// # Errors
/// As [`env_config`] and [`EnvConfig::build`].
pub fn build_env(name: &str, options: &EnvOptions) -> Result<AnyEnv> {
    env_config(name, options)?.build()
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        field: field.into(),
        reason: reason.into(),
    }
}

/// `base` (a config's serde form) with the user's `config` object merged in, deeply.
fn merged<T: serde::Serialize + serde::de::DeserializeOwned>(
    base: &T,
    overrides: &Value,
) -> Result<T> {
    fn merge(into: &mut Value, from: &Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
            (slot, v) => *slot = v.clone(),
        }
    }
    if overrides.is_null() {
        return serde_json::from_value(
            serde_json::to_value(base).map_err(|e| invalid("config", e.to_string()))?,
        )
        .map_err(|e| invalid("config", e.to_string()));
    }
    if !overrides.is_object() {
        return Err(invalid(
            "config",
            format!("expected a dict of configuration fields, got {overrides}"),
        ));
    }
    let mut value = serde_json::to_value(base).map_err(|e| invalid("config", e.to_string()))?;
    merge(&mut value, overrides);
    serde_json::from_value(value).map_err(|e| invalid("config", e.to_string()))
}

fn walker_config(base: WalkerConfig, options: &EnvOptions) -> Result<WalkerConfig> {
    let mut config = merged(&base, &options.config)?;
    if std::mem::discriminant(&config.track) != std::mem::discriminant(&base.track) {
        return Err(invalid(
            "track.kind",
            format!(
                "the configuration describes another track than the env's ({})",
                track_kind(&base.track)
            ),
        ));
    }
    if let Some(body) = &options.body {
        config.body = Embodiment::from_name(body)?;
    }
    if let Some(steps) = options.max_episode_steps {
        config.max_episode_steps = steps;
    }
    let bounds = options.bound_pairs()?;
    match &mut config.track {
        TrackConfig::StumpTracks(c) => {
            for (name, low, high) in bounds {
                match name.as_str() {
                    "stump_height" => c.stump_height_bounds = [low, high],
                    "obstacle_spacing" => c.obstacle_spacing_bounds = [low, high],
                    _ => return Err(unknown_dim(&name, "stump_height, obstacle_spacing")),
                }
            }
        }
        TrackConfig::Parkour(c) => {
            for (name, low, high) in bounds {
                if !c.set_bounds(&name, [low, high]) {
                    return Err(unknown_dim(&name, &PARKOUR_DIM_NAMES.join(", ")));
                }
            }
        }
        TrackConfig::HexagonTracks(c) => {
            // The twelve vertex offsets share one bound in the env's configuration, so a
            // partial or uneven override cannot be honoured exactly: refuse it.
            let names = WalkerConfig::hexagon_tracks().task_space()?;
            let names: Vec<&str> = names.names();
            let mut shared: Option<[f64; 2]> = None;
            for (name, low, high) in &bounds {
                if !names.contains(&name.as_str()) {
                    return Err(unknown_dim(name, &names.join(", ")));
                }
                match shared {
                    Some(s) if s != [*low, *high] => {
                        return Err(invalid(
                            format!("bounds.{name}"),
                            "Hexagon Tracks' vertex offsets share one bound: give every \
                             dimension the same [low, high]",
                        ))
                    }
                    _ => shared = Some([*low, *high]),
                }
            }
            if let Some(b) = shared {
                if bounds.len() != names.len() {
                    return Err(invalid(
                        "bounds",
                        format!(
                            "Hexagon Tracks' vertex offsets share one bound: give all {} \
                             dimensions (the same [low, high]), {} given",
                            names.len(),
                            bounds.len()
                        ),
                    ));
                }
                c.offset_bounds = b;
            }
        }
    }
    config.validate()?;
    Ok(config)
}

fn track_kind(track: &TrackConfig) -> &'static str {
    match track {
        TrackConfig::StumpTracks(_) => "stump_tracks",
        TrackConfig::HexagonTracks(_) => "hexagon_tracks",
        TrackConfig::Parkour(_) => "parkour",
    }
}

fn point_mass_config(options: &EnvOptions) -> Result<PointMassConfig> {
    let mut config = merged(&PointMassConfig::default(), &options.config)?;
    if let Some(body) = &options.body {
        return Err(invalid(
            "body",
            format!("point_mass has a single body; got body=`{body}`"),
        ));
    }
    if let Some(steps) = options.max_episode_steps {
        config.max_episode_steps = steps;
    }
    for (name, low, high) in options.bound_pairs()? {
        match name.as_str() {
            "target_distance" => config.target_distance_bounds = [low, high],
            "mass" => config.mass_bounds = [low, high],
            _ => return Err(unknown_dim(&name, "target_distance, mass")),
        }
    }
    config.validate()?;
    Ok(config)
}

fn grid_world_config(options: &EnvOptions) -> Result<GridWorldConfig> {
    let mut config = merged(&GridWorldConfig::default(), &options.config)?;
    if let Some(body) = &options.body {
        return Err(invalid(
            "body",
            format!("grid_world has a single body; got body=`{body}`"),
        ));
    }
    if let Some(steps) = options.max_episode_steps {
        config.max_episode_steps = steps;
    }
    for (name, low, high) in options.bound_pairs()? {
        match name.as_str() {
            "size" => config.size_bounds = [low, high],
            "wall_density" => config.wall_density_bounds = [low, high],
            _ => return Err(unknown_dim(&name, "size, wall_density")),
        }
    }
    config.validate()?;
    Ok(config)
}

/// The web-form configuration of the options: only `config` applies, since the task space is
/// fixed to [0, 1]^8, there is one body, and the step limit follows each episode's optimum.
fn webform_config(options: &EnvOptions) -> Result<WebFormConfig> {
    if let Some(body) = &options.body {
        return Err(invalid(
            "body",
            format!("the web forms have no body; got body=`{body}`"),
        ));
    }
    if let Some(steps) = options.max_episode_steps {
        return Err(invalid(
            "max_episode_steps",
            format!(
                "got {steps}, but a web form's step limit is ceil(step_slack * optimal_steps) + \
                 extra_steps; set those through config"
            ),
        ));
    }
    if let Some(name) = options.bounds.keys().next() {
        return Err(invalid(
            format!("bounds.{name}"),
            "the web-form task dimensions are fixed to [0, 1]; restrict the tasks through the \
             task source instead",
        ));
    }
    let config: WebFormConfig = merged(&WebFormConfig::default(), &options.config)?;
    config.validate()?;
    Ok(config)
}

fn unknown_dim(name: &str, known: &str) -> Error {
    invalid(
        format!("bounds.{name}"),
        format!("unknown task dimension `{name}`; known: {known}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(json: &str) -> EnvOptions {
        EnvOptions::from_json(json).unwrap()
    }

    #[test]
    fn every_entry_builds_with_defaults() {
        for e in ENVS {
            let env = build_env(e.name, &EnvOptions::default()).unwrap();
            assert!(env.task_space().dim() > 0, "{}", e.name);
        }
        assert!(build_env("parcours", &EnvOptions::default()).is_err());
    }

    #[test]
    fn only_the_web_forms_give_their_webform_env() {
        for e in ENVS {
            let env = build_env(e.name, &EnvOptions::default()).unwrap();
            assert_eq!(
                env.webform().is_some(),
                e.name.starts_with("webform"),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn every_env_has_a_prior_inside_its_task_space() {
        for e in ENVS {
            let config = e.config(&EnvOptions::default()).unwrap();
            let prior = config.prior().unwrap();
            let space = config.task_space().unwrap();
            space.validate(&prior.easy_task).unwrap();
            let (low, high) = config.return_range();
            assert!(
                low <= prior.no_progress_return
                    && prior.no_progress_return < prior.success_return
                    && prior.success_return <= high,
                "{}: {prior:?} against the return range [{low}, {high}]",
                e.name
            );
        }
        let stumps = entry("stump_tracks").unwrap();
        let prior = stumps
            .config(&EnvOptions::default())
            .unwrap()
            .prior()
            .unwrap();
        // TeachMyAgent's high-level prior: no stumps, widest spacing; mastery at 230.
        assert_eq!(prior.easy_task, vec![0.0, 6.0]);
        assert_eq!(
            (prior.success_return, prior.no_progress_return),
            (230.0, 0.0)
        );
        let shifted = stumps
            .config(&options(r#"{"bounds": {"stump_height": [1, 3]}}"#))
            .unwrap();
        assert_eq!(shifted.prior().unwrap().easy_task, vec![1.0, 6.0]);
    }

    #[test]
    fn the_web_forms_return_range_includes_their_shaping() {
        let range = |json: &str| {
            env_config("webform", &options(json))
                .unwrap()
                .return_range()
        };
        // Default: Ng shaping, coefficient 1; a success ends with Φ = 0, so +1 is the top.
        assert_eq!(range("{}"), (-2.0, 1.0));
        assert_eq!(range(r#"{"config": {"shaping": "none"}}"#), (-1.0, 1.0));
        assert_eq!(
            range(r#"{"config": {"shaping": "qweb", "shaping_coef": 0.5}}"#),
            (-1.5, 1.5)
        );
    }

    #[test]
    fn keywords_reach_the_config() {
        let env = build_env(
            "stump_tracks",
            &options(r#"{"bounds": {"stump_height": [0, 9]}, "body": "small_bipedal"}"#),
        )
        .unwrap();
        assert_eq!(env.task_space().high(), vec![9.0, 6.0]);
        let env = build_env(
            "point_mass",
            &options(r#"{"config": {"dt": 0.05}, "bounds": {"mass": [1, 1]}}"#),
        )
        .unwrap();
        assert_eq!(env.task_space().low()[1], 1.0);
    }

    #[test]
    fn bad_keywords_are_named() {
        let msg =
            |name: &str, json: &str| build_env(name, &options(json)).err().unwrap().to_string();
        assert!(msg("stump_tracks", r#"{"bounds": {"height": [0, 1]}}"#).contains("height"));
        assert!(msg("stump_tracks", r#"{"body": "quadruped"}"#).contains("classic_bipedal"));
        assert!(
            msg("stump_tracks", r#"{"config": {"max_episode_stepz": 3}}"#)
                .contains("max_episode_stepz")
        );
        assert!(
            msg("stump_tracks", r#"{"bounds": {"stump_height": [3, 0]}}"#).contains("stump_height")
        );
        assert!(msg("hexagon_tracks", r#"{"bounds": {"vertex0_dx": [0, 1]}}"#).contains("all 12"));
        assert!(msg("point_mass", r#"{"body": "classic_bipedal"}"#).contains("single body"));
        assert!(EnvOptions::from_json(r#"{"bodies": 1}"#).is_err());
        assert!(msg("webform", r#"{"body": "classic_bipedal"}"#).contains("no body"));
        assert!(msg("webform", r#"{"max_episode_steps": 9}"#).contains("step_slack"));
        assert!(msg("webform_md", r#"{"bounds": {"n_fields": [0, 1]}}"#).contains("n_fields"));
        assert!(msg("webform", r#"{"config": {"max_fields": 99}}"#).contains("max_fields"));
    }

    /// Issue 22, case 1: Hexagon Tracks offsets that overflow `f32` panicked inside parry2d's
    /// convex hull from `reset`; every bound and std of every env is now checked against what
    /// the physics represents, at construction, through `bounds` and through `config`.
    #[test]
    fn bounds_beyond_the_physics_are_refused_not_panicked() {
        let msg =
            |name: &str, json: &str| build_env(name, &options(json)).err().unwrap().to_string();
        let all_offsets = |pair: &str| {
            let dims: Vec<String> = (0..6)
                .flat_map(|k| ["dx", "dy"].map(|a| format!(r#""vertex{k}_{a}": {pair}"#)))
                .collect();
            format!(r#"{{"bounds": {{{}}}}}"#, dims.join(", "))
        };
        let m = msg("hexagon_tracks", &all_offsets("[1e39, 1e39]"));
        assert!(m.contains("offset_bounds") && m.contains("1e39"), "{m}");
        let m = msg(
            "hexagon_tracks",
            r#"{"config": {"track": {"kind": "hexagon_tracks", "offset_std": 1e39}}}"#,
        );
        assert!(m.contains("offset_std") && m.contains("1e39"), "{m}");
        let m = msg(
            "hexagon_tracks",
            r#"{"config": {"track": {"kind": "hexagon_tracks", "obstacle_spacing": 1e30}}}"#,
        );
        assert!(m.contains("obstacle_spacing"), "{m}");
        let m = msg(
            "stump_tracks",
            r#"{"bounds": {"stump_height": [0, 1e300]}}"#,
        );
        assert!(
            m.contains("stump_height_bounds") && m.contains("1e300"),
            "{m}"
        );
        let m = msg(
            "stump_tracks",
            r#"{"bounds": {"obstacle_spacing": [-1e9, 0]}}"#,
        );
        assert!(m.contains("obstacle_spacing_bounds"), "{m}");
        let m = msg(
            "stump_tracks",
            r#"{"config": {"track": {"kind": "stump_tracks", "stump_height_std": 1e39}}}"#,
        );
        assert!(m.contains("stump_height_std"), "{m}");
        assert!(msg("point_mass", r#"{"bounds": {"mass": [1e-300, 1]}}"#).contains("mass"));
        assert!(msg("point_mass", r#"{"config": {"dt": 1e300}}"#).contains("dt"));
        assert!(
            msg("point_mass", r#"{"config": {"success_bonus": 1e300}}"#).contains("success_bonus")
        );
        assert!(msg("grid_world", r#"{"config": {"goal_reward": 1e300}}"#).contains("goal_reward"));
        assert!(
            msg("webform", r#"{"config": {"max_elements": 100000000}}"#).contains("max_elements")
        );
        assert!(msg(
            "webform",
            r#"{"config": {"instruction_tokens": 100000000}}"#
        )
        .contains("instruction_tokens"));
        // The vector env's engine builds through the same table.
        let err = crate::batch::EnvBatch::new(
            "hexagon_tracks",
            &options(&all_offsets("[1e39, 1e39]")),
            2,
            1,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("offset_bounds"), "{err}");
    }

    /// The largest accepted geometry resets and steps: the limits are within what the physics
    /// represents, not just below what broke it.
    #[test]
    fn geometry_at_the_limits_runs() {
        use crate::walker::{MAX_OBSTACLE_SIZE, MAX_OBSTACLE_SPACING};
        let hexagon = format!(
            r#"{{"config": {{"track": {{"kind": "hexagon_tracks", "offset_bounds": [{lo}, {hi}],
                "offset_std": {hi}, "obstacle_spacing": {sp}}}}}}}"#,
            lo = -MAX_OBSTACLE_SIZE,
            hi = MAX_OBSTACLE_SIZE,
            sp = -MAX_OBSTACLE_SPACING
        );
        let stumps = format!(
            r#"{{"bounds": {{"stump_height": [{lo}, {hi}], "obstacle_spacing": [{sp}, {sp}]}},
                "config": {{"track": {{"kind": "stump_tracks", "stump_height_std": {hi}}}}}}}"#,
            lo = -MAX_OBSTACLE_SIZE,
            hi = MAX_OBSTACLE_SIZE,
            sp = MAX_OBSTACLE_SPACING
        );
        for (name, json) in [("hexagon_tracks", hexagon), ("stump_tracks", stumps)] {
            let mut env = build_env(name, &options(&json)).unwrap();
            let (low, high) = (env.task_space().low(), env.task_space().high());
            for (seed, task) in [(0, low), (1, high)] {
                env.reset(Some(seed), &task).unwrap();
                for _ in 0..5 {
                    if env
                        .step(Action::Continuous(&[1.0, -1.0, 1.0, -1.0]))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    }

    /// Issue 22, case 3: `pgs_iterations` had no cap (1 000 000 hung a step).
    #[test]
    fn solver_iterations_are_capped() {
        let m = build_env(
            "stump_tracks",
            &options(r#"{"config": {"physics": {"pgs_iterations": 1000000}}}"#),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(m.contains("pgs_iterations") && m.contains("1000000"), "{m}");
    }

    #[test]
    fn web_forms_take_discrete_actions_only() {
        let options = options(r#"{"config": {"max_fields": 2, "max_elements": 20}}"#);
        let mut env = build_env("webform", &options).unwrap();
        assert_eq!(env.action_kind(), "discrete");
        let (obs, _) = env
            .reset(Some(3), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
            .unwrap();
        let Observation::Dict(obs) = obs else {
            panic!("web forms observe dicts")
        };
        let valid = obs.action_mask.iter().position(|&m| m == 1).unwrap();
        assert!(env.step(Action::Discrete(valid)).is_ok());
        let err = env.step(Action::Continuous(&[0.0])).unwrap_err();
        assert!(err.to_string().contains("continuous"), "{err}");
        assert!(env.step(Action::Discrete(20 * 3)).is_err());

        let mut md = build_env("webform_md", &options).unwrap();
        assert_eq!(md.action_kind(), "multi_discrete");
        md.reset(Some(3), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
            .unwrap();
        assert!(md.step(Action::MultiDiscrete(&[0, 0, 0])).is_ok());
        assert!(md.step(Action::MultiDiscrete(&[0, 2, 0])).is_err());
        assert!(md.step(Action::Discrete(0)).is_err());
    }
}

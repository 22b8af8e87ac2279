//! `teachgym train` and `teachgym eval` as library functions: a run configuration (TOML, every
//! hyper-parameter overridable), the run directory with its artefacts, checkpoints that resume
//! exactly, and the dispatch from names (env, teacher, student) to the generic
//! [`Trainer`].
//!
//! A run directory holds:
//!
//! | file | what |
//! |---|---|
//! | `config.toml` | the resolved configuration, every value explicit; `--config` accepts it back |
//! | `test_set.csv` | the test tasks (a header of dimension names, one task per row) |
//! | `episodes.csv` | every training episode: step, env copy, task, return, length, success |
//! | `evaluations.csv` | every evaluation: step, % mastered, mean test return |
//! | `evaluations.jsonl` | every evaluation with the return of each test task |
//! | `checkpoint.json` | student, teacher and env states at the end of the learning iteration that follows the last evaluation (a DQN/SAC vector step, a PPO rollout and update): `teachgym eval` on the checkpoint of a run cut short scores a slightly newer policy than its last `evaluations.csv` row; on a finished run's it repeats the final evaluation |
//! | `summary.json` | written when the budget is spent: the final evaluation's numbers; its presence marks the run finished |
//! | `learning_curve.png` | % of the test set mastered and the mean test return against env steps |
//! | `curriculum.png` | the training tasks over two task dimensions (`[plot] dims`), coloured by env step and by return, with colour bars |
//! | `curriculum_pairs.png` | task spaces of more than two dimensions: the training tasks over every pair of (up to 8 varying) dimensions, coloured by return |

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use teachgym_core::Space;
use teachgym_core::{Env, TaskSpace};
use teachgym_envs::registry::{self, EnvConfig, EnvOptions};
use teachgym_envs::{
    GridWorldConfig, GridWorldEnv, PointMassConfig, PointMassEnv, WalkerConfig, WalkerEnv,
    WebFormConfig, WebFormEnv, WebFormMdEnv,
};
use teachgym_students::qweb::{FormEnv, FormShape};
use teachgym_students::{
    evaluate, DqnAgent, DqnConfig, EpisodeRecord, Evaluation, MetaQwebConfig, PpoAgent, PpoConfig,
    QwebDqnAgent, QwebDqnConfig, SacAgent, SacConfig, Student, TestSet, Trainer, TrainerCheckpoint,
    TrainerConfig,
};
use teachgym_teachers::again::{ClassroomEntry, ClassroomStudent};
use teachgym_teachers::{
    build_teacher, Again, AlpGmm, ExpertLevel, Shuffled, TeacherConfig, TEACHER_NAMES,
};

/// The file of a run directory that `teachgym classroom build` reads: what a meta-ACL classroom
/// keeps of the run (written by runs whose teacher records an ALP-GMM history).
pub const CLASSROOM_ENTRY_FILE: &str = "classroom_entry.json";

use crate::plots::{self, ColourScale, CurriculumPoint, EvaluationPoint, PlotDim};
use crate::tensorboard;

/// A student `teachgym train` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentKind {
    /// PPO, on envs with flat observations (Gaussian policy for `Box` actions, categorical for
    /// `Discrete`), configured by `[ppo]`.
    Ppo,
    /// DQN, on discrete-action envs: plain DQN (`[dqn]`) on flat observations, the QWeb-style
    /// DQN (`[qweb]`) on the web forms.
    Dqn,
    /// SAC, on envs with flat observations and bounded `Box` actions (the walkers, the point
    /// mass), configured by `[sac]`.
    Sac,
}

impl StudentKind {
    /// Every student, in the order the help lists them.
    pub const ALL: [StudentKind; 3] = [StudentKind::Ppo, StudentKind::Dqn, StudentKind::Sac];

    /// The name in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StudentKind::Ppo => "ppo",
            StudentKind::Dqn => "dqn",
            StudentKind::Sac => "sac",
        }
    }
}

impl std::str::FromStr for StudentKind {
    type Err = anyhow::Error;

    fn from_str(name: &str) -> Result<Self> {
        StudentKind::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .with_context(|| {
                format!(
                    "unknown student `{name}`; known: {}",
                    StudentKind::ALL.map(StudentKind::name).join(", ")
                )
            })
    }
}

/// A resolved run's student, typed: which agent and its full configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum StudentConfig {
    /// PPO.
    Ppo(PpoConfig),
    /// Plain DQN (flat observations).
    Dqn(DqnConfig),
    /// The QWeb-style DQN (web forms).
    QwebDqn(QwebDqnConfig),
    /// SAC.
    Sac(SacConfig),
}
/// The `[plot]` section of a run configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlotConfig {
    /// The two task dimensions `curriculum.png` shows, across and up, by name (the flag
    /// `--plot-dims NAME,NAME`). Default (empty): the first two dimensions the teacher can vary
    /// (bounds `low < high`), or the first two dimensions when fewer vary.
    pub dims: Vec<String>,
}

impl PlotConfig {
    /// Indices in `space` of the dimensions `curriculum.png` shows across and up (`None` up
    /// for a one-dimensional space).
    ///
    /// # Errors
    /// Not two names, a name that is not a dimension of `space` (the message lists the valid
    /// names), or the same name twice.
    pub fn pair(&self, space: &TaskSpace) -> Result<(usize, Option<usize>)> {
        let what = "[plot] dims (--plot-dims NAME,NAME)";
        if self.dims.is_empty() {
            let dims = space.dims();
            let mut varying = (0..dims.len()).filter(|&i| dims[i].low < dims[i].high);
            return Ok(match (varying.next(), varying.next()) {
                (Some(x), Some(y)) => (x, Some(y)),
                _ => (0, (dims.len() > 1).then_some(1)),
            });
        }
        let names = space.names();
        let index = |name: &str| {
            names.iter().position(|n| *n == name).with_context(|| {
                format!(
                    "{what}: `{name}` is not a task dimension of this env; valid names: {}",
                    names.join(", ")
                )
            })
        };
        let [x, y] = self.dims.as_slice() else {
            bail!(
                "{what} takes two task dimensions, got {}: {}",
                self.dims.len(),
                self.dims.join(",")
            );
        };
        let (x, y) = (index(x)?, index(y)?);
        if x == y {
            bail!(
                "{what} names `{}` twice; give two different dimensions",
                names[x]
            );
        }
        Ok((x, Some(y)))
    }
}

/// Version of `checkpoint.json`.
pub const RUN_CHECKPOINT_VERSION: u32 = 1;

/// The configuration of a training run: the `--config` TOML file, with command-line flags
/// applied on top. Missing fields take their defaults; unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Environment, a name of the env registry ([`registry::ENVS`]). Default: `stump_tracks`.
    pub env: String,
    /// Teacher, one of the registry's names. Default: `alp_gmm`.
    pub teacher: String,
    /// Student. Default: `ppo`.
    pub student: StudentKind,
    /// Seed of everything random in the run. Default: 0.
    pub seed: u64,
    /// CSV file of test tasks. Absent = the protocol's set for the env: on Parkour the body's
    /// fixed skill set (walking, swimming or climbing, TeachMyAgent's protocol) when the run's
    /// task space holds all of its tasks, otherwise — as on the other envs — the 10×10 grid of
    /// a 2-D space or 100 seeded uniform draws from it.
    pub test_set: Option<PathBuf>,
    /// How much the teacher knows in advance (TeachMyAgent's expert-knowledge levels): `none`,
    /// `low` (the env's mastery threshold and ADR's reward thresholds) or `high` (also an
    /// initial distribution around the env's easiest task). The values come from the env
    /// (its `prior`); fields set in `[teacher_config.expert_knowledge]` override them.
    /// Absent = the teacher's default: `high` for ADR (it cannot run without), `none` for the
    /// others.
    pub expert_knowledge: Option<ExpertLevel>,
    /// TeachMyAgent's "rugged difficulty" challenge: the teacher samples in a task space whose
    /// dimensions are each cut into 4 intervals and permuted (seeded with `seed`), and its
    /// tasks are mapped back before the env sees them ([`teachgym_teachers::Shuffled`]).
    /// Default: false.
    pub shuffle_dimensions: bool,
    /// Evaluate on the default test set of the env's *default* task space even when the run's
    /// bounds differ (TeachMyAgent's "mostly unfeasible" and "mostly trivial" challenges widen
    /// the task space but keep the test set). Ignored when `test_set` names a file. Default:
    /// false (the default test set of the run's own task space).
    pub test_set_on_default_bounds: bool,
    /// TeachMyAgent's "forgetting student" challenge: each time the run passes a multiple of
    /// this many env steps, the student is replaced by a fresh one (new weights drawn from a
    /// seed derived from `seed` and the reset's number, an empty replay buffer, fresh
    /// normalisation statistics and schedules), at the end of the learning iteration that
    /// passes it; the teacher keeps its state. Absent = never.
    pub student_reset_every: Option<u64>,
    /// The loop: budget, env copies, threads, evaluation period.
    pub trainer: TrainerConfig,
    /// The walker env (Stump/Hexagon Tracks); absent = the env's defaults. Each env reads the
    /// section its registry entry names ([`registry::EnvEntry::config_section`]).
    pub walker: Option<WalkerConfig>,
    /// The point-mass env; absent = its defaults.
    pub point_mass: Option<PointMassConfig>,
    /// The grid-world env; absent = its defaults.
    pub grid_world: Option<GridWorldConfig>,
    /// The web-form envs (`webform`, `webform_md`: caps, interaction level, reward, task
    /// bounds); absent = their defaults.
    pub webform: Option<WebFormConfig>,
    /// PPO's hyper-parameters (student `ppo`): a `preset` (one of `PpoConfig::PRESET_NAMES`;
    /// default: `teachgym_walker` for the walkers, `clean_rl_discrete` for the grid
    /// world, `clean_rl` otherwise) and any fields overriding it.
    pub ppo: Option<serde_json::Value>,
    /// DQN's hyper-parameters (student `dqn` on flat observations); absent = the defaults.
    pub dqn: Option<DqnConfig>,
    /// SAC's hyper-parameters (student `sac`): a `preset` (one of `SacConfig::PRESET_NAMES`;
    /// default: `teachgym_walker` for the walkers, `clean_rl` otherwise) and any fields
    /// overriding it.
    pub sac: Option<serde_json::Value>,
    /// The QWeb-style DQN's hyper-parameters (student `dqn` on `webform`); absent = the
    /// defaults.
    pub qweb: Option<QwebDqnConfig>,
    /// QWeb's meta-trainer (`teachgym meta-train` only: INET and its training before
    /// MetaQWeb); absent = its defaults. `teachgym train` refuses it.
    pub meta: Option<MetaQwebConfig>,
    /// The teacher's configuration (its fields, as `teachgym teachers NAME` prints them);
    /// absent = its defaults.
    pub teacher_config: Option<serde_json::Value>,
    /// What the plots show; changing it does not change the run (a resumed run may change it).
    pub plot: PlotConfig,
    /// Construction options applied over the env's section when the configuration is resolved
    /// (the `--body`, `--bound` and `--max-episode-steps` flags, the Python keywords' twins);
    /// the resolved section holds their effect, so they are not written to `config.toml`.
    #[serde(skip)]
    pub env_options: EnvOptions,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            env: "stump_tracks".into(),
            teacher: "alp_gmm".into(),
            student: StudentKind::Ppo,
            seed: 0,
            test_set: None,
            expert_knowledge: None,
            shuffle_dimensions: false,
            test_set_on_default_bounds: false,
            student_reset_every: None,
            trainer: TrainerConfig::default(),
            walker: None,
            point_mass: None,
            grid_world: None,
            webform: None,
            ppo: None,
            dqn: None,
            sac: None,
            qweb: None,
            meta: None,
            teacher_config: None,
            plot: PlotConfig::default(),
            env_options: EnvOptions::default(),
        }
    }
}

impl RunConfig {
    /// Reads a TOML file.
    ///
    /// # Errors
    /// An unreadable file, or TOML that does not describe a `RunConfig` (the message names the
    /// line and the field).
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("malformed config file {}", path.display()))
    }

    /// Reads a configuration from TOML text (the format of a config file).
    ///
    /// # Errors
    /// TOML that does not describe a `RunConfig` (the message names the line and the field).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        toml::from_str(text).context("malformed configuration")
    }

    /// Checks the names and fills every default explicitly (env config, teacher config), so
    /// that the result written to `config.toml` reproduces the run.
    ///
    /// # Errors
    /// Unknown env, teacher or student names (listing the known ones), an env config of another
    /// kind than the env name, invalid hyper-parameters.
    pub fn resolve(mut self) -> Result<Self> {
        if !TEACHER_NAMES.contains(&self.teacher.as_str()) {
            bail!(
                "unknown teacher `{}`; known: {}",
                self.teacher,
                TEACHER_NAMES.join(", ")
            );
        }
        let entry = registry::entry(&self.env)?;
        let env = self.resolve_env(entry)?;
        let space = env.task_space()?;
        self.plot.pair(&space)?;
        self.resolve_student(&env)?;
        let given = self
            .teacher_config
            .take()
            .unwrap_or(serde_json::Value::Null);
        let section_level = given
            .pointer("/expert_knowledge/level")
            .map(|level| serde_json::from_value::<ExpertLevel>(level.clone()))
            .transpose()
            .context("invalid [teacher_config.expert_knowledge] level")?;
        let mut teacher = TeacherConfig::from_json(&self.teacher, given)
            .with_context(|| format!("invalid [teacher_config] for `{}`", self.teacher))?;
        let level = match (self.expert_knowledge, section_level) {
            (Some(run), Some(section)) if run != section => bail!(
                "two expert-knowledge levels: `{run}` (--expert-knowledge or the top-level \
                 expert_knowledge) and `{section}` ([teacher_config.expert_knowledge] level); \
                 give one"
            ),
            (Some(level), _) | (None, Some(level)) => level,
            (None, None) => teacher.default_expert_level(),
        };
        if let Some(knowledge) = teacher.expert_knowledge_mut() {
            knowledge.level = level;
            knowledge
                .fill_from(&env.prior()?, &space)
                .with_context(|| {
                    format!(
                        "invalid expert knowledge for teacher `{}` on env `{}`",
                        self.teacher, self.env
                    )
                })?;
            self.expert_knowledge = Some(level);
        }
        let mut value = serde_json::to_value(&teacher)?;
        let mut config = value
            .get_mut("config")
            .map(serde_json::Value::take)
            .unwrap_or_default();
        strip_nulls(&mut config);
        self.teacher_config = Some(config);
        self.trainer.validate()?;
        if self.student_reset_every == Some(0) {
            bail!("student_reset_every must be ≥ 1 env step (or absent: never)");
        }
        Ok(self)
    }

    /// The resolved configuration as TOML.
    ///
    /// # Errors
    /// Values TOML cannot hold (seeds above 2^63).
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string(self)?)
    }

    /// The env's configuration from its section, through the env registry (the one place that
    /// turns an env name and its options into a typed configuration; Python uses it too), and
    /// the section rewritten with every field explicit.
    fn resolve_env(&mut self, entry: &registry::EnvEntry) -> Result<EnvConfig> {
        let sections = [
            ("walker", self.walker.is_some()),
            ("point_mass", self.point_mass.is_some()),
            ("grid_world", self.grid_world.is_some()),
            ("webform", self.webform.is_some()),
        ];
        if let Some((section, _)) = sections
            .iter()
            .find(|(name, given)| *given && *name != entry.config_section)
        {
            bail!("a [{section}] section was given for env `{}`", self.env);
        }
        let given = self.env_section(entry.config_section)?;
        let options = EnvOptions {
            config: given.unwrap_or(serde_json::Value::Null),
            ..std::mem::take(&mut self.env_options)
        };
        let env = entry.config(&options).with_context(|| {
            format!(
                "invalid configuration of env `{}` (its [{}] section and the --body, \
                     --bound and --max-episode-steps flags)",
                self.env, entry.config_section
            )
        })?;
        match &env {
            EnvConfig::Walker(c) => self.walker = Some(c.clone()),
            EnvConfig::PointMass(c) => self.point_mass = Some(c.clone()),
            EnvConfig::GridWorld(c) => self.grid_world = Some(c.clone()),
            EnvConfig::WebForm(c) | EnvConfig::WebFormMd(c) => self.webform = Some(c.clone()),
        }
        Ok(env)
    }

    /// Checks that the student fits the env (by the env's type, not its name) and fills its
    /// section with every field explicit.
    fn resolve_student(&mut self, env: &EnvConfig) -> Result<()> {
        let web_form = matches!(env, EnvConfig::WebForm(_) | EnvConfig::WebFormMd(_));
        if let Some(meta) = &self.meta {
            if !(web_form && self.student == StudentKind::Dqn) {
                bail!("a [meta] section was given, but it configures student `dqn` on `webform`");
            }
            meta.validate().context("invalid [meta] section")?;
        }
        if self.qweb.is_some() && !(web_form && self.student == StudentKind::Dqn) {
            bail!(
                "a [qweb] section was given, but it configures student `dqn` on the web-form envs"
            );
        }
        let sections = [
            (StudentKind::Ppo, "ppo", self.ppo.is_some()),
            (StudentKind::Dqn, "dqn", self.dqn.is_some()),
            (StudentKind::Sac, "sac", self.sac.is_some()),
        ];
        for (kind, section, given) in sections {
            if given && kind != self.student {
                bail!(
                    "a [{section}] section was given for student `{}`",
                    self.student.name()
                );
            }
        }
        match self.student {
            StudentKind::Ppo => {
                let default_preset = match env {
                    EnvConfig::Walker(_) => "teachgym_walker",
                    EnvConfig::GridWorld(_) => "clean_rl_discrete",
                    EnvConfig::PointMass(_) => "clean_rl",
                    EnvConfig::WebForm(_) | EnvConfig::WebFormMd(_) => {
                        bail!(
                            "student `ppo` cannot train on env `{}`; use `dqn`",
                            self.env
                        )
                    }
                };
                self.ppo = Some(resolve_preset_section::<PpoConfig>(
                    "ppo",
                    self.ppo.take(),
                    default_preset,
                )?);
            }
            StudentKind::Sac => {
                let default_preset = match env {
                    EnvConfig::Walker(_) => "teachgym_walker",
                    EnvConfig::PointMass(_) => "clean_rl",
                    EnvConfig::GridWorld(_) | EnvConfig::WebForm(_) | EnvConfig::WebFormMd(_) => {
                        bail!(
                            "student `sac` needs continuous (Box) actions; `{}` has discrete \
                             actions: use `ppo` or `dqn`",
                            self.env
                        )
                    }
                };
                self.sac = Some(resolve_preset_section::<SacConfig>(
                    "sac",
                    self.sac.take(),
                    default_preset,
                )?);
            }
            StudentKind::Dqn => match env {
                EnvConfig::WebForm(_) | EnvConfig::WebFormMd(_) => {
                    if self.dqn.is_some() {
                        bail!(
                            "student `dqn` on env `{}` is the QWeb-style DQN: configure it \
                                 in a [qweb] section, not [dqn]",
                            self.env
                        );
                    }
                    let qweb = self.qweb.take().unwrap_or_default();
                    qweb.validate()?;
                    self.qweb = Some(qweb);
                }
                EnvConfig::GridWorld(_) => {
                    let dqn = self.dqn.take().unwrap_or_default();
                    dqn.validate()?;
                    self.dqn = Some(dqn);
                }
                EnvConfig::Walker(_) | EnvConfig::PointMass(_) => bail!(
                    "student `dqn` needs a discrete-action env (grid_world, webform, \
                         webform_md); `{}` has continuous actions",
                    self.env
                ),
            },
        }
        Ok(())
    }

    /// The typed env configuration of a resolved configuration (its section read through the
    /// registry again).
    fn env_config(&self) -> Result<EnvConfig> {
        let entry = registry::entry(&self.env)?;
        let section = self
            .env_section(entry.config_section)?
            .context("the configuration is not resolved")?;
        let options = EnvOptions {
            config: section,
            ..EnvOptions::default()
        };
        Ok(entry.config(&options)?)
    }

    /// The env section called `name` as JSON, if given.
    fn env_section(&self, name: &str) -> Result<Option<serde_json::Value>> {
        Ok(match name {
            "walker" => self.walker.as_ref().map(serde_json::to_value),
            "point_mass" => self.point_mass.as_ref().map(serde_json::to_value),
            "grid_world" => self.grid_world.as_ref().map(serde_json::to_value),
            "webform" => self.webform.as_ref().map(serde_json::to_value),
            other => bail!(
                "env `{}` reads a [{other}] section this build lacks",
                self.env
            ),
        }
        .transpose()?)
    }

    /// The typed student configuration of a resolved configuration.
    fn student_config(&self) -> Result<StudentConfig> {
        Ok(match (self.student, &self.dqn, &self.qweb) {
            (StudentKind::Ppo, _, _) => StudentConfig::Ppo(preset_section_config(&self.ppo)?),
            (StudentKind::Sac, _, _) => StudentConfig::Sac(preset_section_config(&self.sac)?),
            (StudentKind::Dqn, Some(c), _) => StudentConfig::Dqn(c.clone()),
            (StudentKind::Dqn, _, Some(c)) => StudentConfig::QwebDqn(c.clone()),
            (StudentKind::Dqn, None, None) => bail!("the configuration is not resolved"),
        })
    }

    pub(crate) fn task_space(&self) -> Result<TaskSpace> {
        Ok(self.env_config()?.task_space()?)
    }

    pub(crate) fn test_set(&self, space: &TaskSpace) -> Result<TestSet> {
        Ok(match &self.test_set {
            Some(path) => TestSet::load(space, path)?,
            None if self.test_set_on_default_bounds => {
                let tasks = match self.env_config()?.protocol_test_set() {
                    Some(tasks) => tasks,
                    None => {
                        let defaults = registry::env_config(&self.env, &EnvOptions::default())?
                            .task_space()?;
                        TestSet::default_for(&defaults)?.tasks().to_vec()
                    }
                };
                // The same tasks, checked against (and named by) the run's space.
                TestSet::new(space, tasks).context(
                    "test_set_on_default_bounds: the default task space's test set lies outside \
                     the run's bounds",
                )?
            }
            None => match self.env_config()?.protocol_test_set() {
                // A narrower space (an easy corner) cannot hold the fixed set: draw from it.
                Some(tasks) if tasks.iter().all(|task| space.validate(task).is_ok()) => {
                    TestSet::new(space, tasks)?
                }
                _ => TestSet::default_for(space)?,
            },
        })
    }
}

/// A student's hyper-parameters that come as named presets (`[ppo]`, `[sac]`).
trait PresetConfig: Serialize + DeserializeOwned {
    /// The preset called `name`.
    fn preset(name: &str) -> teachgym_students::Result<Self>;
    /// Checks every field.
    fn validate(&self) -> teachgym_students::Result<()>;
}

impl PresetConfig for PpoConfig {
    fn preset(name: &str) -> teachgym_students::Result<Self> {
        PpoConfig::preset(name)
    }
    fn validate(&self) -> teachgym_students::Result<()> {
        PpoConfig::validate(self)
    }
}

impl PresetConfig for SacConfig {
    fn preset(name: &str) -> teachgym_students::Result<Self> {
        SacConfig::preset(name)
    }
    fn validate(&self) -> teachgym_students::Result<()> {
        SacConfig::validate(self)
    }
}

/// A student's section (`[ppo]`, `[sac]`): the named preset's values, overridden by the fields
/// given, validated; the result lists every field (and the preset it started from).
fn resolve_preset_section<C: PresetConfig>(
    section: &str,
    given: Option<serde_json::Value>,
    default_preset: &str,
) -> Result<serde_json::Value> {
    let mut given = match given {
        None => serde_json::Map::new(),
        Some(serde_json::Value::Object(map)) => map,
        Some(other) => bail!("[{section}] must be a table, got {other}"),
    };
    let preset = match given.remove("preset") {
        None => default_preset.to_string(),
        Some(serde_json::Value::String(name)) => name,
        Some(other) => bail!("[{section}] preset must be a name, got {other}"),
    };
    let mut merged = serde_json::to_value(C::preset(&preset)?)?;
    let fields = merged
        .as_object_mut()
        .with_context(|| format!("a [{section}] config is a table"))?;
    for (key, value) in given {
        if !fields.contains_key(&key) {
            bail!(
                "unknown field `{key}` in [{section}]; known: preset, {}",
                fields.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        fields.insert(key, value);
    }
    let config: C = serde_json::from_value(merged)
        .with_context(|| format!("invalid value in the [{section}] section"))?;
    config.validate()?;
    let mut resolved = serde_json::to_value(&config)?;
    strip_nulls(&mut resolved);
    resolved
        .as_object_mut()
        .with_context(|| format!("a [{section}] config is a table"))?
        .insert("preset".into(), serde_json::Value::String(preset));
    Ok(resolved)
}

/// The typed config of a resolved preset section.
fn preset_section_config<C: DeserializeOwned>(section: &Option<serde_json::Value>) -> Result<C> {
    let mut value = section.clone().context("unresolved student section")?;
    if let Some(map) = value.as_object_mut() {
        map.remove("preset");
    }
    Ok(serde_json::from_value(value)?)
}

/// TOML has no null: `None` fields are left out (they deserialise back to `None`).
fn strip_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// How to run `teachgym train`.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The (unresolved) configuration.
    pub config: RunConfig,
    /// Run directory.
    pub out: PathBuf,
    /// Continue the run in `out` from its checkpoint.
    pub resume: bool,
    /// Report progress on stderr: a progress bar on a terminal; otherwise (a log file, a pipe)
    /// one plain line per evaluation and a heartbeat line with steps/s and the time left every
    /// [`HEARTBEAT_SECS`] seconds.
    pub progress: bool,
    /// Stop (with a checkpoint) once this many env steps are done, as if interrupted; a later
    /// `resume` continues the run. For time-boxed jobs.
    pub stop_after: Option<u64>,
}

/// What a finished `train` produced.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// Env steps taken.
    pub global_step: u64,
    /// Training episodes finished (over the whole run, including before a resume).
    pub episodes: u64,
    /// Whether the budget is spent (false after `stop_after`): the last evaluation is then the
    /// final one.
    pub finished: bool,
    /// The last evaluation made (the final one when `finished`).
    pub final_evaluation: Option<Evaluation>,
    /// The files written, by name.
    pub artefacts: Vec<PathBuf>,
}

/// The checkpoint file: the trainer's state plus what the run directory needs to be resumed.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCheckpoint<A> {
    format_version: u32,
    /// The resolved configuration, TOML.
    config: String,
    trainer: TrainerCheckpoint<A>,
    /// Data rows of `episodes.csv` and `evaluations.csv` written when it was taken.
    episode_rows: u64,
    evaluation_rows: u64,
}

/// Runs `teachgym train`.
///
/// # Errors
/// Configuration errors, a run directory that already holds a run (without `resume`), a
/// checkpoint from another configuration or a corrupt one, I/O failures, and training errors.
pub fn train(options: TrainOptions) -> Result<TrainSummary> {
    train_with_progress(options, &mut |_| Ok(()))
}

/// Where a run stands, handed to [`train_with_progress`]'s hook after each learning iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressReport {
    /// Env steps taken so far.
    pub global_step: u64,
    /// The run's end: the budget rounded up to whole learning iterations.
    pub planned_steps: u64,
    /// Training episodes finished so far (over the whole run).
    pub episodes: u64,
    /// Mean return of the last (up to) 100 training episodes.
    pub recent_mean_return: f64,
    /// The evaluations made in this iteration (usually none).
    pub new_evaluations: Vec<Evaluation>,
}

/// [`train`], calling `hook` after each learning iteration (the Python binding draws its
/// progress bar and checks for Ctrl-C there). A hook that returns an error stops the run with
/// that error, after a checkpoint of the steps done, so `resume` continues from there.
///
/// # Errors
/// As [`train`], and the hook's error.
pub fn train_with_progress(
    options: TrainOptions,
    hook: &mut dyn FnMut(&ProgressReport) -> Result<()>,
) -> Result<TrainSummary> {
    let config = options.config.clone().resolve()?;
    if config.meta.is_some() {
        bail!("a [meta] section configures `teachgym meta-train`, not `teachgym train`");
    }
    dispatch!(config, |E, S, make_env| run::<E, S>(
        &config, &options, make_env, hook
    ))
}

/// Calls `$body` with the env type, the student type and an env factory chosen by the resolved
/// configuration's typed env and student: the one place that maps configurations to types. A
/// combination without an arm cannot be trained (resolve refuses it with its reason first).
macro_rules! dispatch {
    ($config:expr, |$env:ident, $student:ident, $make_env:ident| $body:expr) => {{
        let config = &$config;
        match (config.env_config()?, config.student_config()?) {
            (EnvConfig::Walker(c), StudentConfig::Ppo(_)) => {
                type $env = WalkerEnv;
                type $student = PpoAgent;
                let $make_env = &mut move || Ok(WalkerEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::PointMass(c), StudentConfig::Ppo(_)) => {
                type $env = PointMassEnv;
                type $student = PpoAgent;
                let $make_env = &mut move || Ok(PointMassEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::Walker(c), StudentConfig::Sac(_)) => {
                type $env = WalkerEnv;
                type $student = SacAgent;
                let $make_env = &mut move || Ok(WalkerEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::PointMass(c), StudentConfig::Sac(_)) => {
                type $env = PointMassEnv;
                type $student = SacAgent;
                let $make_env = &mut move || Ok(PointMassEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::GridWorld(c), StudentConfig::Ppo(_)) => {
                type $env = GridWorldEnv;
                type $student = PpoAgent;
                let $make_env = &mut move || Ok(GridWorldEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::GridWorld(c), StudentConfig::Dqn(_)) => {
                type $env = GridWorldEnv;
                type $student = DqnAgent;
                let $make_env = &mut move || Ok(GridWorldEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::WebForm(c), StudentConfig::QwebDqn(_)) => {
                type $env = WebFormEnv;
                type $student = QwebDqnAgent;
                let $make_env = &mut move || Ok(WebFormEnv::new(c.clone())?);
                $body
            }
            (EnvConfig::WebFormMd(c), StudentConfig::QwebDqn(_)) => {
                type $env = WebFormMdEnv;
                type $student = QwebDqnAgent;
                let $make_env = &mut move || Ok(WebFormMdEnv::new(c.clone())?);
                $body
            }
            _ => bail!(
                "student `{}` cannot train on env `{}`",
                config.student.name(),
                config.env
            ),
        }
    }};
}
use dispatch;

/// A student the command line can create from a run configuration.
pub trait BuildStudent<E: Env>: Student<E> + Sized {
    /// A fresh student for `env`'s spaces, seeded with the run's seed.
    ///
    /// # Errors
    /// A config that does not fit the env.
    fn build(config: &RunConfig, env: &E) -> Result<Self>;

    /// Checks that a student restored from a checkpoint has the hyper-parameters `config`
    /// gives it.
    ///
    /// # Errors
    /// The first differing setting.
    fn check_config(&self, config: &RunConfig) -> Result<()>;
}

/// `Ok` when a restored student's configuration equals the run's.
fn same_config<C: PartialEq + Serialize>(restored: &C, run: &C) -> Result<()> {
    if restored == run {
        return Ok(());
    }
    let (a, b) = (serde_json::to_value(restored)?, serde_json::to_value(run)?);
    let differing: Vec<String> = match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| {
                format!(
                    "{k} = {v} (the run: {})",
                    b.get(k).unwrap_or(&serde_json::Value::Null)
                )
            })
            .collect(),
        _ => vec![],
    };
    bail!("its student differs in: {}", differing.join(", "))
}

impl<E: Env> BuildStudent<E> for PpoAgent
where
    PpoAgent: Student<E>,
{
    fn build(config: &RunConfig, env: &E) -> Result<Self> {
        let StudentConfig::Ppo(ppo) = config.student_config()? else {
            bail!("the configuration does not describe a PPO student");
        };
        Ok(PpoAgent::for_spaces(
            ppo,
            env.observation_space(),
            env.action_space(),
            config.seed,
        )?)
    }

    fn check_config(&self, config: &RunConfig) -> Result<()> {
        same_config(
            self.config(),
            &preset_section_config::<PpoConfig>(&config.ppo)?,
        )
    }
}

impl<E: Env> BuildStudent<E> for DqnAgent
where
    DqnAgent: Student<E>,
{
    fn build(config: &RunConfig, env: &E) -> Result<Self> {
        let Space::Discrete { n } = env.action_space() else {
            bail!("student `dqn` needs a Discrete action space");
        };
        let StudentConfig::Dqn(dqn) = config.student_config()? else {
            bail!("the configuration does not describe a DQN student");
        };
        Ok(DqnAgent::new(
            dqn,
            env.observation_space().flat_len(),
            *n,
            config.seed,
        )?)
    }

    fn check_config(&self, config: &RunConfig) -> Result<()> {
        let StudentConfig::Dqn(dqn) = config.student_config()? else {
            bail!("the configuration does not describe a DQN student");
        };
        same_config(self.config(), &dqn)
    }
}

impl<E: Env> BuildStudent<E> for SacAgent
where
    SacAgent: Student<E>,
{
    fn build(config: &RunConfig, env: &E) -> Result<Self> {
        let StudentConfig::Sac(sac) = config.student_config()? else {
            bail!("the configuration does not describe a SAC student");
        };
        Ok(SacAgent::for_spaces(
            sac,
            env.observation_space(),
            env.action_space(),
            config.seed,
        )?)
    }

    fn check_config(&self, config: &RunConfig) -> Result<()> {
        same_config(
            self.config(),
            &preset_section_config::<SacConfig>(&config.sac)?,
        )
    }
}

impl<E: FormEnv> BuildStudent<E> for QwebDqnAgent {
    fn build(config: &RunConfig, env: &E) -> Result<Self> {
        let StudentConfig::QwebDqn(qweb) = config.student_config()? else {
            bail!("the configuration does not describe a QWeb-style DQN student");
        };
        Ok(QwebDqnAgent::new(
            qweb,
            FormShape::of(env.form_config()),
            config.seed,
        )?)
    }

    fn check_config(&self, config: &RunConfig) -> Result<()> {
        let StudentConfig::QwebDqn(qweb) = config.student_config()? else {
            bail!("the configuration does not describe a QWeb-style DQN student");
        };
        same_config(self.config(), &qweb)
    }
}

fn run<E, S>(
    config: &RunConfig,
    options: &TrainOptions,
    make_env: &mut dyn FnMut() -> teachgym_students::Result<E>,
    hook: &mut dyn FnMut(&ProgressReport) -> Result<()>,
) -> Result<TrainSummary>
where
    E: Env + Send + 'static,
    E::Obs: Clone + Send,
    S: BuildStudent<E> + 'static,
{
    let out = &options.out;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create run directory {}", out.display()))?;
    let files = RunFiles::new(out);
    let env = config.env_config()?;
    let space = env.task_space()?;
    // The return scales of the plots, from the env: the curriculum's colours, the learning
    // curve's mastery line.
    let (low, high) = env.return_range();
    let return_scale = ColourScale {
        low,
        high,
        label: "episode return".into(),
        steps: false,
    };
    let mastery_return = env.prior()?.success_return;
    let mut teacher_json = config.teacher_config.clone().unwrap_or_default();
    // An ALP-GMM run records its curriculum for a meta-ACL classroom (classroom_entry.json)
    // unless its config says `record_history = false` (left unset, the resolved config shows
    // none); the switch changes no decision.
    if config.teacher == AlpGmm::NAME && !config.shuffle_dimensions {
        if let serde_json::Value::Object(fields) = &mut teacher_json {
            fields
                .entry("record_history")
                .or_insert(serde_json::Value::Bool(true));
        }
    }
    let mut teacher = build_teacher(&config.teacher, space.clone(), config.seed, teacher_json)?;
    if config.shuffle_dimensions {
        teacher = Box::new(Shuffled::new(teacher, config.seed));
    }
    let config_toml = config.to_toml()?;

    // A run stopped before its first checkpoint left nothing to continue from: it starts again
    // (with or without --resume) over the files it wrote.
    let has_checkpoint = files.checkpoint.exists();
    if !has_checkpoint && (options.resume || files.episodes.exists()) {
        eprintln!(
            "note: {} holds no checkpoint (the run there stopped before its first one): \
             starting the run from the beginning",
            out.display()
        );
    }
    let (mut trainer, mut episode_rows, mut evaluation_rows) = if options.resume && has_checkpoint {
        let checkpoint: RunCheckpoint<S::Action> = read_checkpoint(&files.checkpoint)?;
        let mut saved: RunConfig = toml::from_str(&checkpoint.config)
            .context("the checkpoint's configuration is corrupt")?;
        // Neither the thread count (results do not depend on it) nor the plots change the
        // run: a resume may change them.
        let plot_changed = saved.plot != config.plot;
        saved.trainer.threads = config.trainer.threads;
        saved.plot = config.plot.clone();
        if &saved != config {
            bail!(
                "{} was written by another configuration ({}); resume with the run's own \
                 config.toml and flags, or train into a new --out directory",
                files.checkpoint.display(),
                describe_difference(&saved, config)
            );
        }
        // Every check before any file is touched.
        check_checkpoint_rows(&files, &checkpoint)?;
        let test_set = TestSet::load(&space, &files.test_set)?;
        let trainer = Trainer::<E, S>::resume(
            config.trainer.clone(),
            checkpoint.trainer,
            teacher,
            make_env,
            test_set,
        )
        .with_context(|| format!("cannot resume from {}", files.checkpoint.display()))?;
        S::check_config(trainer.student(), config).with_context(|| {
            format!(
                "{} holds a student of another configuration than its run's",
                files.checkpoint.display()
            )
        })?;
        truncate_rows(&files.episodes, checkpoint.episode_rows)?;
        truncate_rows(&files.evaluations, checkpoint.evaluation_rows)?;
        truncate_rows(&files.evaluations_jsonl, checkpoint.evaluation_rows)?;
        if plot_changed {
            write_file(&files.config, &config_toml)?;
        }
        (trainer, checkpoint.episode_rows, checkpoint.evaluation_rows)
    } else {
        if has_checkpoint {
            bail!(
                "{} already holds a run; pass --resume to continue it, or choose another --out",
                out.display()
            );
        }
        // A summary left by an earlier run in this directory would mark this one finished.
        if files.summary.exists() {
            std::fs::remove_file(&files.summary).with_context(|| cannot_write(&files.summary))?;
        }
        let test_set = config.test_set(&space)?;
        let env = make_env()?;
        let student = S::build(config, &env)?;
        drop(env);
        let trainer = Trainer::<E, S>::new(
            config.trainer.clone(),
            config.seed,
            student,
            teacher,
            make_env,
            test_set.clone(),
        )?;
        write_file(&files.config, &config_toml)?;
        test_set.save(&files.test_set)?;
        write_file(&files.episodes, &episodes_header(&space))?;
        write_file(&files.evaluations, EVALUATIONS_HEADER)?;
        write_file(&files.evaluations_jsonl, "")?;
        (trainer, 0, 0)
    };

    if config.teacher == Again::NAME {
        // AGAIN's "trying again" (restart_after_pretrain): fresh students are built like the
        // first one, seeded with the run seed + 1 + the restarts before.
        let env = make_env()?;
        let base = config.clone();
        trainer = trainer.with_student_factory(Box::new(move |restarts| {
            let mut config = base.clone();
            config.seed = base.seed.wrapping_add(1).wrapping_add(restarts);
            S::build(&config, &env).map_err(|e| teachgym_students::StudentError::InvalidConfig {
                field: "student",
                reason: format!("cannot build a fresh student: {e:#}"),
            })
        }));
    }

    // The real end of the run: the budget rounded up to whole learning iterations.
    let planned_steps = trainer.planned_total_steps();
    for note in run_notes(
        config,
        &space,
        trainer.student(),
        planned_steps,
        options.resume,
    )? {
        eprintln!("note: {note}");
    }
    let mut progress = Progress::new(options.progress, planned_steps, trainer.global_step());
    let mut writers = DataWriters {
        episodes: csv::Writer::from_writer(append(&files.episodes)?),
        evaluations: csv::Writer::from_writer(append(&files.evaluations)?),
        jsonl: append(&files.evaluations_jsonl)?,
    };
    let mut recent_returns = std::collections::VecDeque::with_capacity(100);
    let mut last_eval: Option<Evaluation> = None;
    let mut plotted = false;
    // Every row is flushed first, so that the row counts the checkpoint records are on disk.
    let flush_and_save_checkpoint = |trainer: &Trainer<E, S>,
                                     writers: &mut DataWriters,
                                     (episode_rows, evaluation_rows): (u64, u64)|
     -> Result<()> {
        writers.flush(&files)?;
        let checkpoint = RunCheckpoint {
            format_version: RUN_CHECKPOINT_VERSION,
            config: config_toml.clone(),
            trainer: trainer.checkpoint()?,
            episode_rows,
            evaluation_rows,
        };
        write_atomically(&files.checkpoint, &serde_json::to_string(&checkpoint)?)
    };
    while !trainer.is_done() {
        if options
            .stop_after
            .is_some_and(|stop| trainer.global_step() >= stop)
        {
            flush_and_save_checkpoint(&trainer, &mut writers, (episode_rows, evaluation_rows))?;
            progress.line(format!(
                "stopped at step {} as asked; continue with --resume",
                trainer.global_step()
            ));
            break;
        }
        let step_before = trainer.global_step();
        let report = trainer.run_iteration()?;
        if let Some(every) = config.student_reset_every {
            // Before any checkpoint of this iteration's end: a resumed run never resets twice.
            let resets = report.global_step / every;
            if resets > step_before / every && !trainer.is_done() {
                let env = make_env()?;
                let fresh = RunConfig {
                    seed: reset_seed(config.seed, resets),
                    ..config.clone()
                };
                trainer.replace_student(S::build(&fresh, &env)?)?;
                progress.line(format!(
                    "step {}: the student starts afresh (student_reset_every = {every})",
                    report.global_step
                ));
            }
        }
        for e in &report.episodes {
            write_episode(&mut writers.episodes, e)
                .with_context(|| cannot_write(&files.episodes))?;
            if recent_returns.len() == 100 {
                recent_returns.pop_front();
            }
            recent_returns.push_back(e.summary.episode_return);
        }
        episode_rows += report.episodes.len() as u64;
        for eval in &report.evaluations {
            write_evaluation(&mut writers.evaluations, eval)
                .with_context(|| cannot_write(&files.evaluations))?;
            writeln!(writers.jsonl, "{}", serde_json::to_string(eval)?)
                .with_context(|| cannot_write(&files.evaluations_jsonl))?;
            evaluation_rows += 1;
            progress.line(format!(
                "step {:>10}: {:5.1}% of {} test tasks mastered, mean test return {:8.2}",
                eval.global_step,
                eval.mastered_percent,
                eval.returns.len(),
                eval.mean_return
            ));
            last_eval = Some(eval.clone());
        }
        let mean_return = recent_returns.iter().sum::<f64>() / recent_returns.len().max(1) as f64;
        progress.update(
            report.global_step,
            format!(
                "{episode_rows} episodes, mean return {mean_return:.1}, mastered {}",
                last_eval
                    .as_ref()
                    .map_or("-".to_string(), |e| format!("{:.1}%", e.mastered_percent))
            ),
        );
        if !report.evaluations.is_empty() {
            // Checkpoint after each evaluation.
            flush_and_save_checkpoint(&trainer, &mut writers, (episode_rows, evaluation_rows))?;
            write_classroom_entry(&files, config, &space, &trainer)?;
            draw_plots(&files, config, &space, &return_scale, mastery_return)?;
            plotted = true;
        }
        let progress_report = ProgressReport {
            global_step: report.global_step,
            planned_steps,
            episodes: episode_rows,
            recent_mean_return: mean_return,
            new_evaluations: report.evaluations.clone(),
        };
        if let Err(e) = hook(&progress_report) {
            flush_and_save_checkpoint(&trainer, &mut writers, (episode_rows, evaluation_rows))?;
            progress.finish();
            return Err(e.context(format!(
                "the run stopped at step {} (checkpoint saved: resume continues from there)",
                trainer.global_step()
            )));
        }
    }
    if trainer.is_done() {
        // Last, so that its presence means every other file is complete.
        write_summary(&files.summary, &trainer, episode_rows)?;
    }
    if !plotted && evaluation_rows > 0 {
        // Nothing trained in this call (a finished run resumed, e.g. with other plot
        // dimensions): redraw the plots of the run so far.
        draw_plots(&files, config, &space, &return_scale, mastery_return)?;
    }
    progress.finish();
    Ok(TrainSummary {
        finished: trainer.is_done(),
        global_step: trainer.global_step(),
        episodes: episode_rows,
        final_evaluation: last_eval.or_else(|| last_evaluation(&files.evaluations_jsonl).ok()),
        artefacts: files.all(),
    })
}

/// The seed of the student that replaces the old one at the `reset`-th reset (≥ 1) of
/// `student_reset_every`: a SplitMix64 mix of the run seed and the reset number, so that no
/// reset repeats the initial weights or another seed's.
fn reset_seed(seed: u64, reset: u64) -> u64 {
    let mut z = seed ^ reset.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Writes `classroom_entry.json` (what `teachgym classroom build` reads) when the teacher records
/// an ALP-GMM history: the run's parameters, its KC vectors, final scores and the history.
fn write_classroom_entry<E, S>(
    files: &RunFiles,
    config: &RunConfig,
    space: &TaskSpace,
    trainer: &Trainer<E, S>,
) -> Result<()>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<E>,
{
    let Some(history) = trainer.teacher().alp_gmm_history() else {
        return Ok(());
    };
    let kc_vectors = trainer.kc_vectors().to_vec();
    let final_scores = kc_vectors
        .last()
        .map(|kc| kc.scores.clone())
        .unwrap_or_default();
    let student = ClassroomStudent {
        name: files.dir.file_name().map_or_else(
            || files.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        params: run_params(config)?,
        kc_vectors,
        final_scores,
        history: history.clone(),
    };
    let entry = ClassroomEntry::new(space.clone(), student);
    write_atomically(&files.classroom_entry, &serde_json::to_string(&entry)?)
}

/// What distinguishes a run as a classroom student: env, student, seed, and every scalar field
/// of its env section (the walker's body, its step limit, ...).
fn run_params(config: &RunConfig) -> Result<std::collections::BTreeMap<String, serde_json::Value>> {
    let mut params = std::collections::BTreeMap::new();
    params.insert("env".to_string(), config.env.clone().into());
    params.insert("student".to_string(), config.student.name().into());
    params.insert("seed".to_string(), config.seed.into());
    let section = match config.env_config()? {
        EnvConfig::Walker(c) => serde_json::to_value(c)?,
        EnvConfig::PointMass(c) => serde_json::to_value(c)?,
        EnvConfig::GridWorld(c) => serde_json::to_value(c)?,
        EnvConfig::WebForm(c) | EnvConfig::WebFormMd(c) => serde_json::to_value(c)?,
    };
    if let serde_json::Value::Object(fields) = section {
        for (key, value) in fields {
            if value.is_number() || value.is_string() || value.is_boolean() {
                params.entry(key).or_insert(value);
            }
        }
    }
    Ok(params)
}

/// What a reader of the run's log should know about its configuration, one line each: a budget
/// rounded up to whole learning iterations, task bounds beyond the env's defaults, more threads
/// than cores, expert knowledge given to a teacher that reads none.
fn run_notes<E: Env, S: Student<E>>(
    config: &RunConfig,
    space: &TaskSpace,
    student: &S,
    planned_steps: u64,
    resume: bool,
) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let budget = config.trainer.total_steps;
    if planned_steps != budget && !resume {
        let num_envs = config.trainer.num_envs;
        let per_iteration = student.steps_per_iteration(num_envs);
        notes.push(format!(
            "the budget of {} env steps is rounded up to {}: {} learns in whole iterations of \
             {} steps ({num_envs} envs × {} steps)",
            HumanCount(budget),
            HumanCount(planned_steps),
            student.name(),
            HumanCount(per_iteration),
            HumanCount(per_iteration / num_envs.max(1) as u64),
        ));
    }
    let defaults = registry::env_config(&config.env, &EnvOptions::default())?.task_space()?;
    for (dim, default) in space.dims().iter().zip(defaults.dims()) {
        if dim.low < default.low || dim.high > default.high {
            notes.push(format!(
                "{} spans [{}, {}], beyond the env's default [{}, {}]: the teacher also draws tasks \
                 the env's default space leaves out, harder or easier ones (TeachMyAgent's \
                 'mostly unfeasible' challenge widens the stump heights on purpose, QWeb's goal \
                 simulation opens the web forms' goal_coverage)",
                dim.name, dim.low, dim.high, default.low, default.high
            ));
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if config.trainer.threads > cores {
        notes.push(format!(
            "{} worker threads on {cores} cores: the extra threads only add switching (results \
             do not depend on the thread count; 0 = one per core)",
            config.trainer.threads
        ));
    }
    if let (Some(level), Ok(mut teacher)) = (
        config.expert_knowledge,
        TeacherConfig::from_json(&config.teacher, serde_json::Value::Null),
    ) {
        if level != ExpertLevel::None && teacher.expert_knowledge_mut().is_none() {
            notes.push(format!(
                "teacher `{}` reads no expert knowledge: level `{level}` changes nothing",
                config.teacher
            ));
        }
    }
    Ok(notes)
}

/// The file a finished run's directory holds last: [`RunSummary`] as JSON.
pub const SUMMARY_FILE_NAME: &str = "summary.json";

/// `summary.json`: what a finished run (budget spent, final evaluation made) ended with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Env steps taken (the budget rounded up to whole learning iterations).
    pub global_step: u64,
    /// Training episodes finished.
    pub episodes: u64,
    /// Test tasks of the final evaluation.
    pub test_tasks: usize,
    /// % of the test set mastered at the final evaluation.
    pub mastered_percent: f64,
    /// Mean test return at the final evaluation.
    pub mean_return: f64,
}

impl RunSummary {
    /// Reads the `summary.json` of run directory `dir`: `Ok(None)` when the run is not
    /// finished (no such file).
    ///
    /// # Errors
    /// An unreadable or corrupt file.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(SUMMARY_FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("corrupt {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// Writes `summary.json` of a finished run from its final evaluation.
fn write_summary<E, S>(path: &Path, trainer: &Trainer<E, S>, episodes: u64) -> Result<()>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<E>,
{
    let dir = path.parent().unwrap_or(Path::new("."));
    let last = last_evaluation(&dir.join("evaluations.jsonl"))
        .context("a finished run without its final evaluation")?;
    let summary = RunSummary {
        global_step: trainer.global_step(),
        episodes,
        test_tasks: last.returns.len(),
        mastered_percent: last.mastered_percent,
        mean_return: last.mean_return,
    };
    let tmp = path.with_extension("json.tmp");
    write_file(&tmp, &serde_json::to_string_pretty(&summary)?)?;
    std::fs::rename(&tmp, path).with_context(|| cannot_write(path))
}

/// Paths of a run directory's files.
struct RunFiles {
    dir: PathBuf,
    classroom_entry: PathBuf,
    config: PathBuf,
    test_set: PathBuf,
    episodes: PathBuf,
    evaluations: PathBuf,
    evaluations_jsonl: PathBuf,
    checkpoint: PathBuf,
    summary: PathBuf,
    learning_curve: PathBuf,
    curriculum: PathBuf,
    curriculum_pairs: PathBuf,
    tensorboard: PathBuf,
}

impl RunFiles {
    fn new(dir: &Path) -> Self {
        RunFiles {
            dir: dir.to_path_buf(),
            classroom_entry: dir.join(CLASSROOM_ENTRY_FILE),
            config: dir.join("config.toml"),
            test_set: dir.join("test_set.csv"),
            episodes: dir.join("episodes.csv"),
            evaluations: dir.join("evaluations.csv"),
            evaluations_jsonl: dir.join("evaluations.jsonl"),
            checkpoint: dir.join("checkpoint.json"),
            summary: dir.join(SUMMARY_FILE_NAME),
            learning_curve: dir.join("learning_curve.png"),
            curriculum: dir.join("curriculum.png"),
            curriculum_pairs: dir.join("curriculum_pairs.png"),
            tensorboard: dir.join(tensorboard::EVENT_FILE_NAME),
        }
    }

    fn all(&self) -> Vec<PathBuf> {
        let mut files = vec![
            self.config.clone(),
            self.test_set.clone(),
            self.episodes.clone(),
            self.evaluations.clone(),
            self.evaluations_jsonl.clone(),
            self.checkpoint.clone(),
            self.learning_curve.clone(),
            self.curriculum.clone(),
            self.tensorboard.clone(),
        ];
        // Only task spaces of more than two dimensions have it.
        if self.curriculum_pairs.exists() {
            files.push(self.curriculum_pairs.clone());
        }
        // Only finished runs have it.
        if self.summary.exists() {
            files.push(self.summary.clone());
        }
        // Only runs whose teacher records an ALP-GMM history have it.
        if self.classroom_entry.exists() {
            files.push(self.classroom_entry.clone());
        }
        files
    }
}

/// Seconds between two heartbeat lines when stderr is not a terminal.
pub const HEARTBEAT_SECS: u64 = 60;

/// How a run reports progress on stderr: a bar on a terminal, plain lines in a log, or nothing.
enum Progress {
    /// `--quiet`.
    Quiet,
    /// stderr is a terminal: a bar, with evaluation lines printed above it.
    Bar(ProgressBar),
    /// stderr is a file or a pipe (where indicatif draws nothing): evaluation lines, and a
    /// heartbeat every [`HEARTBEAT_SECS`].
    Log {
        total: u64,
        start_step: u64,
        started: std::time::Instant,
        last_line: std::time::Instant,
    },
}

impl Progress {
    fn new(enabled: bool, total: u64, step: u64) -> Self {
        use std::io::IsTerminal;
        if !enabled {
            return Progress::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            let now = std::time::Instant::now();
            return Progress::Log {
                total,
                start_step: step,
                started: now,
                last_line: now,
            };
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} steps, {rate} | {msg}",
            )
            .expect("a valid template")
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} steps/s", HumanCount(state.per_sec() as u64));
                },
            )
            .progress_chars("=> "),
        );
        bar.set_position(step);
        Progress::Bar(bar)
    }

    /// A line for the reader (an evaluation, a stop).
    fn line(&mut self, text: String) {
        match self {
            Progress::Quiet => {}
            Progress::Bar(bar) => bar.println(text),
            Progress::Log { last_line, .. } => {
                eprintln!("{text}");
                *last_line = std::time::Instant::now();
            }
        }
    }

    /// The run is at `step`; `message` says how it goes.
    fn update(&mut self, step: u64, message: String) {
        match self {
            Progress::Quiet => {}
            Progress::Bar(bar) => {
                bar.set_position(step);
                bar.set_message(message);
            }
            Progress::Log {
                total,
                start_step,
                started,
                last_line,
            } => {
                if last_line.elapsed().as_secs() < HEARTBEAT_SECS {
                    return;
                }
                let elapsed = started.elapsed().as_secs_f64();
                let rate = step.saturating_sub(*start_step) as f64 / elapsed.max(1e-9);
                let left = total.saturating_sub(step) as f64 / rate.max(1e-9);
                eprintln!(
                    "step {} of {} ({:.1} %), {} steps/s, about {} left; {message}",
                    HumanCount(step),
                    HumanCount(*total),
                    100.0 * step as f64 / (*total).max(1) as f64,
                    HumanCount(rate as u64),
                    human_duration(left)
                );
                *last_line = std::time::Instant::now();
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// `seconds` as `42 s`, `17 min` or `3.2 h`.
pub(crate) fn human_duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

fn cannot_write(path: &Path) -> String {
    format!("cannot write {}", path.display())
}

pub(crate) fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| cannot_write(path))
}

/// The appending writers of a run's three data files.
struct DataWriters {
    episodes: csv::Writer<BufWriter<File>>,
    evaluations: csv::Writer<BufWriter<File>>,
    jsonl: BufWriter<File>,
}

impl DataWriters {
    /// Flushes the three files, naming the one that fails (a full disk shows here).
    fn flush(&mut self, files: &RunFiles) -> Result<()> {
        self.episodes
            .flush()
            .with_context(|| cannot_write(&files.episodes))?;
        self.evaluations
            .flush()
            .with_context(|| cannot_write(&files.evaluations))?;
        self.jsonl
            .flush()
            .with_context(|| cannot_write(&files.evaluations_jsonl))
    }
}

/// Writes via a temporary file and a rename, so a crash never leaves half a checkpoint.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    write_file(&tmp, text)?;
    std::fs::rename(&tmp, path).with_context(|| cannot_write(path))
}

pub(crate) fn append(path: &Path) -> Result<BufWriter<File>> {
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {} for appending", path.display()))?;
    Ok(BufWriter::new(file))
}

/// The header line of `episodes.csv` for tasks of `space`.
pub(crate) fn episodes_header(space: &TaskSpace) -> String {
    let names = space.names().join(",");
    format!("global_step,env_index,episode_index,{names},episode_return,length,success\n")
}

/// The header line of `evaluations.csv`.
pub(crate) const EVALUATIONS_HEADER: &str = "global_step,mastered_percent,mean_return\n";

/// One row of `evaluations.csv`; floats in Rust's shortest round-trip form.
pub(crate) fn write_evaluation(out: &mut csv::Writer<impl Write>, e: &Evaluation) -> Result<()> {
    out.write_record([
        e.global_step.to_string(),
        format!("{:?}", e.mastered_percent),
        format!("{:?}", e.mean_return),
    ])?;
    Ok(())
}

/// One row of `episodes.csv`; floats in Rust's shortest round-trip form.
pub(crate) fn write_episode(out: &mut csv::Writer<impl Write>, e: &EpisodeRecord) -> Result<()> {
    let mut row = vec![
        e.global_step.to_string(),
        e.env_index.to_string(),
        e.episode_index.to_string(),
    ];
    row.extend(e.task.iter().map(|v| format!("{v:?}")));
    row.push(format!("{:?}", e.summary.episode_return));
    row.push(e.summary.length.to_string());
    row.push(e.summary.success.to_string());
    out.write_record(&row)?;
    Ok(())
}

/// Checks that the row counts a checkpoint records are the rows written up to its step, before
/// anything is truncated: the episode rows must be the episodes its env copies finished, every
/// kept row must come from a step at or before the checkpoint's and every dropped row from a
/// later one, and the last kept evaluation must be the checkpoint's last.
fn check_checkpoint_rows<A>(files: &RunFiles, checkpoint: &RunCheckpoint<A>) -> Result<()> {
    let corrupt = |what: String| {
        anyhow!(
            "{} does not match the run's files: {what}; the checkpoint or the data files are \
             corrupt, and nothing was changed",
            files.checkpoint.display()
        )
    };
    let state = &checkpoint.trainer;
    let step = state.envs.global_step;
    let finished: u64 = state.envs.episodes.iter().map(|e| e.episode_index).sum();
    if finished != checkpoint.episode_rows {
        return Err(corrupt(format!(
            "it records {} episode rows but its env copies had finished {finished} episodes",
            checkpoint.episode_rows
        )));
    }
    // The global step of each data line (`None`: unreadable, e.g. torn by a kill mid-write).
    let row_steps = |path: &Path| -> Result<Vec<Option<u64>>> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {} to resume", path.display()))?;
        let jsonl = path.extension().is_some_and(|e| e == "jsonl");
        Ok(text
            .lines()
            .skip(usize::from(!jsonl))
            .map(|line| {
                if jsonl {
                    serde_json::from_str::<Evaluation>(line)
                        .ok()
                        .map(|e| e.global_step)
                } else {
                    line.split(',').next().and_then(|v| v.trim().parse().ok())
                }
            })
            .collect())
    };
    // Rows written after the checkpoint come from later steps: episodes end after it, and
    // evaluations (one may be at its very step) after its last one.
    let last_eval = state.last_eval_step;
    let episodes_after = |s: u64| s > step;
    let evaluations_after = |s: u64| last_eval.is_none_or(|last| s > last);
    type WrittenAfter<'a> = &'a dyn Fn(u64) -> bool;
    let checks: [(&PathBuf, u64, WrittenAfter); 3] = [
        (&files.episodes, checkpoint.episode_rows, &episodes_after),
        (
            &files.evaluations,
            checkpoint.evaluation_rows,
            &evaluations_after,
        ),
        (
            &files.evaluations_jsonl,
            checkpoint.evaluation_rows,
            &evaluations_after,
        ),
    ];
    // The step of the last evaluation row the checkpoint keeps.
    let mut last_kept = None;
    for (path, rows, written_after) in checks {
        let steps = row_steps(path)?;
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        if steps.len() < rows {
            return Err(corrupt(format!(
                "it records {rows} rows of {} but the file has {}",
                path.display(),
                steps.len()
            )));
        }
        let (kept, dropped) = steps.split_at(rows);
        if path == &files.evaluations {
            last_kept = kept.last().copied().flatten();
        }
        let kept_ok = kept.iter().all(|s| s.is_some_and(|s| s <= step));
        // The last row written after the checkpoint may be torn by the kill.
        let dropped_ok = dropped.iter().enumerate().all(|(i, s)| match s {
            Some(s) => written_after(*s),
            None => i + 1 == dropped.len(),
        });
        if !(kept_ok && dropped_ok) {
            return Err(corrupt(format!(
                "the first {rows} rows of {} are not exactly its rows up to step {step}",
                path.display()
            )));
        }
    }
    if last_kept != state.last_eval_step {
        return Err(corrupt(format!(
            "its last evaluation was at step {:?} but the last recorded row is from step {:?}",
            state.last_eval_step, last_kept
        )));
    }
    Ok(())
}

/// Keeps the header line (if any) and the first `rows` data rows of a CSV file (or the first
/// `rows` lines of a JSONL file, which has no header).
pub(crate) fn truncate_rows(path: &Path, rows: u64) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} to resume", path.display()))?;
    let header = usize::from(path.extension().is_some_and(|e| e == "csv"));
    let keep = header + rows as usize;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < keep {
        bail!(
            "{} has {} rows but the checkpoint recorded {rows}: the run directory is corrupt",
            path.display(),
            lines.len().saturating_sub(header)
        );
    }
    let mut kept = lines[..keep].join("\n");
    if keep > 0 {
        kept.push('\n');
    }
    write_file(path, &kept)
}

fn read_checkpoint<T: DeserializeOwned>(path: &Path) -> Result<T> {
    read_versioned_checkpoint(
        path,
        "run",
        "teachgym train",
        RUN_CHECKPOINT_VERSION,
        "does not hold a checkpoint of this env and student",
    )
}

/// Reads a checkpoint file of format `version` written by `command` (a `kind` checkpoint),
/// checking the version before the rest; `mismatch` completes the error for a file of the
/// right version whose contents do not parse as `T`.
pub(crate) fn read_versioned_checkpoint<T: DeserializeOwned>(
    path: &Path,
    kind: &str,
    command: &str,
    version: u32,
    mismatch: &str,
) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a teachgym checkpoint (corrupt JSON)",
            path.display()
        )
    })?;
    match value.get("format_version").and_then(|v| v.as_u64()) {
        Some(found) if found == u64::from(version) => {}
        Some(found) => bail!(
            "{} is a {kind} checkpoint of format {found}; this build reads format {version}",
            path.display()
        ),
        None => bail!(
            "{} is not a teachgym {kind} checkpoint (no `format_version` field); pass the \
             checkpoint.json of a `{command}` run directory",
            path.display()
        ),
    }
    serde_json::from_value(value).with_context(|| format!("{} {mismatch}", path.display()))
}

/// Names the top-level sections in which two configurations differ.
pub(crate) fn describe_difference(a: &RunConfig, b: &RunConfig) -> String {
    let ta = toml::Table::try_from(a).unwrap_or_default();
    let tb = toml::Table::try_from(b).unwrap_or_default();
    let mut keys: Vec<&String> = ta.keys().chain(tb.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing: Vec<&str> = keys
        .into_iter()
        .filter(|k| ta.get(*k) != tb.get(*k))
        .map(|k| k.as_str())
        .collect();
    format!("differs in: {}", differing.join(", "))
}

fn last_evaluation(path: &Path) -> Result<Evaluation> {
    let text = std::fs::read_to_string(path)?;
    let line = text.lines().last().context("no evaluation yet")?;
    Ok(serde_json::from_str(line)?)
}

/// Redraws the plots from the run directory's CSV files: the learning curve, the curriculum
/// over the `[plot] dims` pair, and for task spaces of more than two dimensions the curriculum
/// over every pair.
fn draw_plots(
    files: &RunFiles,
    config: &RunConfig,
    space: &TaskSpace,
    return_scale: &ColourScale,
    mastery_return: f64,
) -> Result<()> {
    let evals: Vec<EvaluationPoint> = read_csv_rows(&files.evaluations)?
        .iter()
        .map(|row| {
            Ok(EvaluationPoint {
                global_step: row[0].parse()?,
                mastered_percent: row[1].parse()?,
                mean_return: row[2].parse()?,
            })
        })
        .collect::<Result<_>>()?;
    let title = format!(
        "{} · {} · {} · seed {}",
        config.env,
        config.teacher,
        config.student.name(),
        config.seed
    );
    plots::learning_curve(&files.learning_curve, &title, &evals, mastery_return)?;

    // episodes.csv: global_step, env_index, episode_index, the task, episode_return, length, ...
    let d = space.dim();
    let episodes: Vec<tensorboard::EpisodeRow> = read_csv_rows(&files.episodes)?
        .iter()
        .map(|row| {
            Ok(tensorboard::EpisodeRow {
                global_step: row[0].parse()?,
                task: row[3..3 + d]
                    .iter()
                    .map(|v| v.parse())
                    .collect::<Result<_, _>>()?,
                episode_return: row[3 + d].parse()?,
                length: row[4 + d].parse()?,
            })
        })
        .collect::<Result<_>>()?;
    let dimensions: Vec<(String, f64, f64)> = space
        .dims()
        .iter()
        .map(|dim| (dim.name.clone(), dim.low, dim.high))
        .collect();
    tensorboard::write_run(&files.tensorboard, &dimensions, &evals, &episodes)?;
    let points: Vec<CurriculumPoint> = episodes
        .into_iter()
        .map(|e| CurriculumPoint {
            task: e.task,
            global_step: e.global_step,
            episode_return: e.episode_return,
        })
        .collect();
    let dims: Vec<PlotDim> = space
        .dims()
        .iter()
        .map(|dim| PlotDim {
            name: dim.name.clone(),
            low: dim.low,
            high: dim.high,
        })
        .collect();
    let title = format!(
        "{title}: tasks chosen by {} ({} episodes)",
        config.teacher,
        points.len()
    );
    let pair = config.plot.pair(space)?;
    plots::curriculum(
        &files.curriculum,
        &title,
        &dims,
        pair,
        &points,
        return_scale,
    )?;
    if d > 2 {
        plots::curriculum_pairs(
            &files.curriculum_pairs,
            &title,
            &dims,
            &points,
            return_scale,
        )?;
    }
    Ok(())
}

/// The data rows of a CSV file with a header line.
fn read_csv_rows(path: &Path) -> Result<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    reader
        .records()
        .map(|record| {
            let record = record.with_context(|| format!("malformed row in {}", path.display()))?;
            Ok(record.iter().map(str::to_string).collect())
        })
        .collect()
}

/// How to run `teachgym eval`.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// A run's `checkpoint.json`.
    pub checkpoint: PathBuf,
    /// Test set CSV; default: the run's `test_set.csv` next to the checkpoint, else the
    /// protocol's default set.
    pub test_set: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Write a GIF of the greedy episode on test task `gif_task`.
    pub gif: Option<PathBuf>,
    /// Index of the test task of the GIF.
    pub gif_task: usize,
}

/// Runs `teachgym eval`: the checkpoint's student on a test set.
///
/// # Errors
/// A missing, corrupt or foreign checkpoint, a bad test set, I/O failures.
pub fn eval(options: &EvalOptions) -> Result<Evaluation> {
    let raw: serde_json::Value = read_checkpoint(&options.checkpoint)?;
    let config_text = raw
        .get("config")
        .and_then(|c| c.as_str())
        .context("the checkpoint has no configuration")?;
    let config: RunConfig =
        toml::from_str(config_text).context("the checkpoint's configuration is corrupt")?;
    let config = config.resolve()?;
    dispatch!(config, |E, S, make_env| eval_with::<E, S>(
        &config, options, raw, make_env
    ))
}

fn eval_with<E, S>(
    config: &RunConfig,
    options: &EvalOptions,
    raw: serde_json::Value,
    make_env: &mut dyn FnMut() -> teachgym_students::Result<E>,
) -> Result<Evaluation>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<E>,
{
    let checkpoint: RunCheckpoint<S::Action> = serde_json::from_value(raw).with_context(|| {
        format!(
            "{} does not hold a checkpoint of this env and student",
            options.checkpoint.display()
        )
    })?;
    let mut student = S::from_json(&checkpoint.trainer.student)
        .with_context(|| format!("corrupt student in {}", options.checkpoint.display()))?;
    let space = config.task_space()?;
    let beside = options
        .checkpoint
        .parent()
        .map(|dir| dir.join("test_set.csv"));
    let test_set = match (&options.test_set, beside) {
        (Some(path), _) => TestSet::load(&space, path)?,
        (None, Some(path)) if path.exists() => TestSet::load(&space, &path)?,
        _ => config.test_set(&space)?,
    };
    // Checked before the evaluation, which can take minutes.
    let gif_task = match &options.gif {
        Some(_) => Some(test_set.tasks().get(options.gif_task).with_context(|| {
            format!(
                "--gif-task {} is out of range: the test set has {} tasks (0 to {})",
                options.gif_task,
                test_set.len(),
                test_set.len().saturating_sub(1)
            )
        })?),
        None => None,
    };
    let probe = make_env()?;
    student.check_env(&probe)?;
    let copies = config.trainer.num_envs.max(1);
    let mut envs = vec![probe];
    for _ in 1..copies {
        envs.push(make_env()?);
    }
    let summaries = evaluate(
        &mut student,
        &mut envs,
        &test_set,
        config.trainer.eval_seed,
        options.threads,
    )?;
    if let (Some(path), Some(task)) = (&options.gif, gif_task) {
        let seed = config
            .trainer
            .eval_seed
            .wrapping_add(options.gif_task as u64);
        record_gif(&mut student, &mut envs[0], task, seed, path)?;
    }
    Ok(Evaluation::from_summaries(
        checkpoint.trainer.envs.global_step,
        &summaries,
    ))
}

fn record_gif<E: Env, S: Student<E>>(
    student: &mut S,
    env: &mut E,
    task: &[f64],
    seed: u64,
    path: &Path,
) -> Result<()> {
    let (mut obs, _) = env.reset(Some(seed), task)?;
    let space = env.task_space().clone();
    // Each frame captioned with the step, the return so far and the task.
    let frame = |env: &E, step: u32, episode_return: f64| -> Result<teachgym_core::RgbFrame> {
        let mut frame = env.render()?;
        crate::media::caption(&mut frame, step, episode_return, &space, task);
        Ok(frame)
    };
    let first = frame(env, 0, 0.0)?;
    let mut gif = crate::media::GifWriter::create(path, first.width, first.height, 25.0)?;
    gif.push(&first)?;
    let mut episode_return = 0.0;
    for t in 1.. {
        let action = student.act_greedy(&obs, env.action_mask().as_deref())?;
        let step = env.step(std::borrow::Borrow::borrow(&action))?;
        episode_return += step.reward;
        if t % 2 == 0 {
            gif.push(&frame(env, t, episode_return)?)?;
        }
        if step.terminated || step.truncated {
            break;
        }
        obs = step.obs;
    }
    Ok(())
}

/// What [`build_classroom`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassroomSummary {
    /// Students that entered.
    pub entered: Vec<String>,
    /// Students left out by the entry rule.
    pub left_out: Vec<String>,
}

/// `teachgym classroom build`: reads the classroom entry of each run (a run directory, or an
/// entry file), assembles them under `rule` and writes the classroom to `out`.
///
/// # Errors
/// A run without an entry (its teacher was not ALP-GMM, or it has not evaluated yet), entries on
/// different task spaces or test sets, nobody entering, an unwritable `out`.
pub fn build_classroom(
    runs: &[PathBuf],
    out: &Path,
    rule: teachgym_teachers::EntryRule,
) -> Result<ClassroomSummary> {
    let mut entries = Vec::with_capacity(runs.len());
    for run in runs {
        let path = if run.is_dir() {
            run.join(CLASSROOM_ENTRY_FILE)
        } else {
            run.clone()
        };
        if !path.exists() {
            bail!(
                "{} has no {CLASSROOM_ENTRY_FILE}: only runs trained with `--teacher alp_gmm` \
                 (record_history on, the default) write one, at their first evaluation",
                run.display()
            );
        }
        entries.push(ClassroomEntry::load(&path)?);
    }
    let (classroom, left_out) = teachgym_teachers::Classroom::build(entries, &rule)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    classroom.save(out)?;
    Ok(ClassroomSummary {
        entered: classroom.students.iter().map(|s| s.name.clone()).collect(),
        left_out,
    })
}

//! `teachgym._teachgym`: the private compiled module of the `teachgym` Python package.
//!
//! Thin pyo3 bindings over the pure-Rust crates; the public Python API (gymnasium envs, the
//! vector env, task spaces, teachers) lives in the Python package around it.
//!
//! - The environments and how constructor options map to their configs come from the one env
//!   registry of the Rust crates (`teachgym_envs::registry`), which the command line reads too;
//!   the vector env steps a `teachgym_envs::batch::EnvBatch`.
//! - `RustEnv`, `RustVectorEnv`, `RustTeacher`: the Python classes.
//!
//! Every error of the Rust crates becomes a `ValueError` carrying its message; a Rust panic
//! becomes pyo3's `PanicException`.

use std::sync::Mutex;

use numpy::{
    PyArray1, PyArray3, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyReadwriteArray1,
    PyReadwriteArray2, PyReadwriteArrayDyn,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use teachgym::students::{QwebDqnAgent, Student};
use teachgym_core::{Info, Space, Step, TaskDim, TaskSpace};
use teachgym_envs::webform::{ObsArray, WebFormEnv};
use teachgym_teachers::{
    build_teacher, EpisodeOutcome, EvaluationResult, ExpertKnowledge, ExpertLevel, Shuffled,
    Teacher, ValueEstimate, MAX_NON_EXPLORATORY_SAMPLES, TEACHER_NAMES,
};

use teachgym_envs::batch::{Actions, ArrayMut, EnvBatch, ObsBuffers, Op, Outputs, MAX_NUM_ENVS};
use teachgym_envs::registry::{self, build_env, Action, AnyEnv, EnvOptions, Observation, ENVS};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A space description as a dict the Python side turns into a `gymnasium.spaces` object.
fn space_dict<'py>(py: Python<'py>, space: &Space) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match space {
        Space::Box(b) => {
            d.set_item("kind", "box")?;
            d.set_item("shape", b.shape().to_vec())?;
            d.set_item("low", PyArray1::from_slice(py, b.low()))?;
            d.set_item("high", PyArray1::from_slice(py, b.high()))?;
            let dtype = match b.dtype() {
                teachgym_core::DType::F32 => "float32",
                teachgym_core::DType::F64 => "float64",
                teachgym_core::DType::I64 => "int64",
                teachgym_core::DType::U8 => "uint8",
            };
            d.set_item("dtype", dtype)?;
        }
        Space::Discrete { n } => {
            d.set_item("kind", "discrete")?;
            d.set_item("n", *n)?;
        }
        Space::MultiDiscrete { nvec } => {
            d.set_item("kind", "multi_discrete")?;
            d.set_item("nvec", nvec.clone())?;
        }
        Space::Dict(entries) => {
            d.set_item("kind", "dict")?;
            let items = PyList::empty(py);
            for (k, s) in entries {
                items.append((k, space_dict(py, s)?))?;
            }
            d.set_item("entries", items)?;
        }
        other => {
            return Err(value_error(format!(
                "space {other:?} has no Python form yet"
            )))
        }
    }
    Ok(d)
}

/// A task space as `(names, low, high, docs)`.
type TaskSpaceParts = (Vec<String>, Vec<f64>, Vec<f64>, Vec<String>);

fn task_space_parts(space: &TaskSpace) -> TaskSpaceParts {
    let dims = space.dims();
    (
        dims.iter().map(|d| d.name.clone()).collect(),
        space.low(),
        space.high(),
        dims.iter().map(|d| d.doc.clone()).collect(),
    )
}

/// Info of a reset or step as a plain dict: the env's scalar diagnostics as floats and, on the
/// step that ends an episode, `episode_return` (float), `episode_length` (int), `is_success`
/// (bool).
fn info_dict<'py>(py: Python<'py>, info: &Info) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in &info.values {
        d.set_item(*k, *v)?;
    }
    if let Some(ep) = &info.episode {
        d.set_item("episode_return", ep.episode_return)?;
        d.set_item("episode_length", ep.length)?;
        d.set_item("is_success", ep.success)?;
    }
    Ok(d)
}

/// An observation as Python sees it: a float32 vector, or a dict of arrays shaped as the
/// observation space's `Box` entries.
fn observation_object<'py>(
    py: Python<'py>,
    space: &Space,
    obs: Observation,
) -> PyResult<Bound<'py, PyAny>> {
    let obs = match obs {
        Observation::Flat(v) => return Ok(PyArray1::from_vec(py, v).into_any()),
        Observation::Dict(obs) => obs,
    };
    let Space::Dict(spaces) = space else {
        return Err(value_error(
            "a dict observation needs a Dict observation space",
        ));
    };
    let d = PyDict::new(py);
    for ((key, array), (space_key, space)) in obs.entries().into_iter().zip(spaces) {
        let Space::Box(b) = space else {
            return Err(value_error(format!("observation `{key}` has no Box space")));
        };
        if key != space_key || array.len() != b.shape().iter().product::<usize>() {
            return Err(value_error(format!(
                "observation `{key}` ({} values) does not match space entry `{space_key}` {:?}",
                array.len(),
                b.shape()
            )));
        }
        let shape = b.shape().to_vec();
        let value = match array {
            ObsArray::I64(a) => PyArray1::from_slice(py, a).reshape(shape)?.into_any(),
            ObsArray::U8(a) => PyArray1::from_slice(py, a).reshape(shape)?.into_any(),
            ObsArray::F32(a) => PyArray1::from_slice(py, a).reshape(shape)?.into_any(),
        };
        d.set_item(key, value)?;
    }
    Ok(d.into_any())
}

/// One environment, for the Python `gymnasium.Env` wrapper.
#[pyclass(module = "teachgym._teachgym")]
struct RustEnv {
    name: String,
    options_json: String,
    // A Mutex makes the class `Sync` as pyo3 requires; `&mut self` methods use `get_mut`,
    // which costs nothing.
    env: Mutex<AnyEnv>,
}

impl RustEnv {
    fn env(&mut self) -> &mut AnyEnv {
        self.env.get_mut().unwrap_or_else(|e| e.into_inner())
    }
    fn env_ref(&self) -> std::sync::MutexGuard<'_, AnyEnv> {
        self.env.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `step` once the Python action is converted.
    fn step_with(&mut self, action: Action<'_>) -> PyResult<Step<Observation>> {
        self.env().step(action).map_err(value_error)
    }

    /// `f` on the web-form env inside, or a `ValueError` for the other envs.
    fn with_webform<T>(
        &self,
        f: impl FnOnce(&WebFormEnv) -> teachgym_core::Result<T>,
    ) -> PyResult<T> {
        let env = self.env_ref();
        let webform = env.webform().ok_or_else(|| {
            value_error(format!(
                "{} is not a web-form env: it has no HTML page",
                self.name
            ))
        })?;
        f(webform).map_err(value_error)
    }
}

#[pymethods]
impl RustEnv {
    /// Builds env `name` from the JSON form of its constructor options.
    #[new]
    fn new(name: String, options_json: String) -> PyResult<Self> {
        let options = EnvOptions::from_json(&options_json).map_err(value_error)?;
        let env = build_env(&name, &options).map_err(value_error)?;
        Ok(Self {
            name,
            options_json,
            env: Mutex::new(env),
        })
    }

    /// Pickling rebuilds the env from its name and options (the episode in progress is not
    /// kept: reset after unpickling).
    fn __getnewargs__(&self) -> (String, String) {
        (self.name.clone(), self.options_json.clone())
    }

    /// Registry name.
    #[getter]
    fn name(&self) -> String {
        self.name.clone()
    }

    /// Kind of actions `step` takes: `continuous` (a float32 vector), `discrete` (an int) or
    /// `multi_discrete` (an int64 vector).
    #[getter]
    fn action_kind(&self) -> &'static str {
        self.env_ref().action_kind()
    }

    /// Observation space description.
    fn observation_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        space_dict(py, self.env_ref().observation_space())
    }

    /// Action space description.
    fn action_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        space_dict(py, self.env_ref().action_space())
    }

    /// `(names, low, high, docs)` of the task space.
    fn task_space(&self) -> TaskSpaceParts {
        task_space_parts(self.env_ref().task_space())
    }

    /// The JSON of the expert knowledge of `level` (`none`, `low`, `high`) about this env, as
    /// `teachgym train --expert-knowledge` hands it to a teacher (from the env's prior).
    fn expert_knowledge(&self, level: &str) -> PyResult<String> {
        let level: ExpertLevel = level.parse().map_err(value_error)?;
        let options = EnvOptions::from_json(&self.options_json).map_err(value_error)?;
        let config = registry::env_config(&self.name, &options).map_err(value_error)?;
        let prior = config.prior().map_err(value_error)?;
        let space = config.task_space().map_err(value_error)?;
        let knowledge = ExpertKnowledge::at_level(level, &prior, &space).map_err(value_error)?;
        serde_json::to_string(&knowledge).map_err(value_error)
    }

    /// Starts an episode on `task` with the env's RNG re-seeded from `seed`.
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: u64,
        task: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
        let task = task.as_slice().map_err(value_error)?;
        let env = self.env();
        let (obs, info) = env.reset(Some(seed), task).map_err(value_error)?;
        Ok((
            observation_object(py, env.observation_space(), obs)?,
            info_dict(py, &info)?,
        ))
    }

    /// One step with an action of the env's kind (see `action_kind`): a float32 vector, an int
    /// or an int64 vector.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, f64, bool, bool, Bound<'py, PyDict>)> {
        let name = self.name.clone();
        let type_error = |expected: &str| {
            PyTypeError::new_err(format!(
                "{name} expects {expected} actions, got {}",
                action
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".to_string(), |n| n.to_string())
            ))
        };
        let kind = self.env_ref().action_kind();
        let s = match kind {
            "continuous" => {
                let a = action
                    .extract::<PyReadonlyArray1<'py, f32>>()
                    .map_err(|_| type_error("float32 vector"))?;
                self.step_with(Action::Continuous(a.as_slice().map_err(value_error)?))?
            }
            "discrete" => {
                let a = action
                    .extract::<usize>()
                    .map_err(|_| type_error("non-negative int"))?;
                self.step_with(Action::Discrete(a))?
            }
            _ => {
                let a = action
                    .extract::<Vec<usize>>()
                    .map_err(|_| type_error("non-negative int vector"))?;
                self.step_with(Action::MultiDiscrete(&a))?
            }
        };
        let env = self.env_ref();
        Ok((
            observation_object(py, env.observation_space(), s.obs)?,
            s.reward,
            s.terminated,
            s.truncated,
            info_dict(py, &s.info)?,
        ))
    }

    /// The current frame, `(height, width, 3)` uint8.
    fn render<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let frame = self.env_ref().render().map_err(value_error)?;
        let (h, w) = (frame.height as usize, frame.width as usize);
        PyArray1::from_vec(py, frame.data).reshape([h, w, 3])
    }

    /// The current state as text (the web forms' view), or `None` for envs without one.
    fn render_text(&self) -> PyResult<Option<String>> {
        self.env_ref()
            .render_text()
            .transpose()
            .map_err(value_error)
    }

    /// Web forms: the current form as a working HTML page (its script implements the widgets
    /// and `window.teachgym`).
    fn webform_html(&self) -> PyResult<String> {
        self.with_webform(WebFormEnv::html)
    }

    /// Web forms: the state the page reports, as JSON (`window.teachgym.state()` without the
    /// verdict): `{"page", "popup", "widgets"}`.
    fn webform_state(&self) -> PyResult<String> {
        self.with_webform(|env| Ok(env.page_state()?.to_string()))
    }

    /// Web forms: the scripted solver's next flat action.
    fn webform_oracle_action(&self) -> PyResult<usize> {
        self.with_webform(WebFormEnv::oracle_action)
    }

    /// Web forms: `(slot, field)` of a flat action, `field` `None` for a click.
    fn webform_decode(&self, action: usize) -> PyResult<(usize, Option<usize>)> {
        self.with_webform(|env| Ok(env.decode_action(action)))
    }
}

/// The greedy policy of a QWeb student's checkpoint, with what its evaluation needs (the run's
/// web-form configuration, test set and evaluation seed), for the browser evaluation.
#[pyclass(module = "teachgym._teachgym")]
struct QwebPolicy {
    agent: Mutex<QwebDqnAgent>,
    env_name: String,
    env_config_json: String,
    eval_seed: u64,
    global_step: u64,
    tasks: Vec<Vec<f64>>,
}

impl QwebPolicy {
    fn load(
        checkpoint: &std::path::Path,
        test_set: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        use teachgym::students::TestSet;
        use teachgym::train::RunConfig;
        let text = std::fs::read_to_string(checkpoint)
            .with_context(|| format!("cannot read {}", checkpoint.display()))?;
        let raw: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a checkpoint (not JSON)", checkpoint.display()))?;
        let config_text = raw
            .get("config")
            .and_then(|c| c.as_str())
            .context("the checkpoint has no configuration")?;
        let config = RunConfig::from_toml_str(config_text)?.resolve()?;
        if !config.env.starts_with("webform") || config.qweb.is_none() {
            anyhow::bail!(
                "{} is a checkpoint of student `{:?}` on env `{}`; the browser evaluation replays \
                 a QWeb student on a web form",
                checkpoint.display(),
                config.student,
                config.env
            );
        }
        let webform = config.webform.clone().unwrap_or_default();
        let space = webform.bounded_task_space()?;
        let beside = checkpoint.parent().map(|d| d.join("test_set.csv"));
        // As `teachgym eval`: the given set, the run's test_set.csv, the configured set, the
        // protocol's default.
        let tests = match (test_set, beside, &config.test_set) {
            (Some(path), _, _) => TestSet::load(&space, path)?,
            (None, Some(path), _) if path.exists() => TestSet::load(&space, &path)?,
            (None, _, Some(path)) => TestSet::load(&space, path)?,
            _ => TestSet::default_for(&space)?,
        };
        let student = raw
            .pointer("/trainer/student")
            .and_then(|s| s.as_str())
            .context("the checkpoint has no student")?;
        let agent = QwebDqnAgent::from_json(student).context("corrupt student")?;
        Ok(Self {
            agent: Mutex::new(agent),
            env_name: config.env.clone(),
            env_config_json: serde_json::to_string(&webform)?,
            eval_seed: config.trainer.eval_seed,
            global_step: raw
                .pointer("/trainer/envs/global_step")
                .and_then(|s| s.as_u64())
                .unwrap_or(0),
            tasks: tests.tasks().to_vec(),
        })
    }
}

#[pymethods]
impl QwebPolicy {
    /// Loads `checkpoint` (a run's checkpoint.json); the test set is `test_set`, else the
    /// run's test_set.csv beside it, else the configured or default one (as `teachgym eval`).
    #[new]
    #[pyo3(signature = (checkpoint, test_set=None))]
    fn new(checkpoint: std::path::PathBuf, test_set: Option<std::path::PathBuf>) -> PyResult<Self> {
        Self::load(&checkpoint, test_set.as_deref()).map_err(|e| value_error(format!("{e:#}")))
    }

    /// The run's env (`webform` or `webform_md`).
    #[getter]
    fn env_name(&self) -> String {
        self.env_name.clone()
    }

    /// The run's web-form configuration as JSON (the envs' `config` keyword).
    #[getter]
    fn env_config_json(&self) -> String {
        self.env_config_json.clone()
    }

    /// Reset seed of test task 0 (task `j` uses `eval_seed + j`).
    #[getter]
    fn eval_seed(&self) -> u64 {
        self.eval_seed
    }

    /// Env steps the checkpoint was trained for.
    #[getter]
    fn global_step(&self) -> u64 {
        self.global_step
    }

    /// The test tasks.
    #[getter]
    fn tasks(&self) -> Vec<Vec<f64>> {
        self.tasks.clone()
    }

    /// The greedy flat action for the current observation and action mask of web-form env
    /// `env` (a `RustEnv`).
    fn act(&self, env: PyRef<'_, RustEnv>) -> PyResult<usize> {
        let (obs, mask) = env.with_webform(|w| {
            Ok((
                std::sync::Arc::new(w.observation()?.clone()),
                teachgym_core::Env::action_mask(w),
            ))
        })?;
        let mut agent = self.agent.lock().unwrap_or_else(|e| e.into_inner());
        <QwebDqnAgent as Student<WebFormEnv>>::act_greedy(&mut agent, &obs, mask.as_deref())
            .map_err(value_error)
    }
}

/// N environments stepped in one call with the GIL released, for the Python `VectorEnv`.
#[pyclass(module = "teachgym._teachgym")]
struct RustVectorEnv {
    name: String,
    options_json: String,
    batch: Mutex<EnvBatch>,
}

/// The observation buffers `RustVectorEnv.run` was given, borrowed for writing.
enum ObsArg<'py> {
    Flat(PyReadwriteArray2<'py, f32>),
    Dict(Vec<DictBuffer<'py>>),
}

enum DictBuffer<'py> {
    I64(PyReadwriteArrayDyn<'py, i64>),
    U8(PyReadwriteArrayDyn<'py, u8>),
    F32(PyReadwriteArrayDyn<'py, f32>),
}

impl<'py> ObsArg<'py> {
    fn extract(obs: &Bound<'py, PyAny>) -> PyResult<Self> {
        if !obs.is_instance_of::<PyList>() {
            return Ok(ObsArg::Flat(obs.extract().map_err(|_| {
                PyTypeError::new_err("obs must be a 2-D float32 array or a list of arrays")
            })?));
        }
        let items: Vec<Bound<'py, PyAny>> = obs.extract()?;
        items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                if let Ok(a) = item.extract() {
                    Ok(DictBuffer::I64(a))
                } else if let Ok(a) = item.extract() {
                    Ok(DictBuffer::U8(a))
                } else if let Ok(a) = item.extract() {
                    Ok(DictBuffer::F32(a))
                } else {
                    Err(PyTypeError::new_err(format!(
                        "observation buffer {k} must be a writable int64, uint8 or float32 array"
                    )))
                }
            })
            .collect::<PyResult<_>>()
            .map(ObsArg::Dict)
    }

    fn buffers(&mut self) -> PyResult<ObsBuffers<'_>> {
        Ok(match self {
            ObsArg::Flat(a) => ObsBuffers::Flat(a.as_slice_mut().map_err(value_error)?),
            ObsArg::Dict(bs) => ObsBuffers::Dict(
                bs.iter_mut()
                    .map(|b| {
                        Ok(match b {
                            DictBuffer::I64(a) => {
                                ArrayMut::I64(a.as_slice_mut().map_err(value_error)?)
                            }
                            DictBuffer::U8(a) => {
                                ArrayMut::U8(a.as_slice_mut().map_err(value_error)?)
                            }
                            DictBuffer::F32(a) => {
                                ArrayMut::F32(a.as_slice_mut().map_err(value_error)?)
                            }
                        })
                    })
                    .collect::<PyResult<_>>()?,
            ),
        })
    }
}

fn ops_from_codes(codes: &[u8]) -> PyResult<Vec<Op>> {
    codes
        .iter()
        .map(|c| match c {
            0 => Ok(Op::Skip),
            1 => Ok(Op::Reset),
            2 => Ok(Op::Step),
            _ => Err(value_error(format!(
                "op code {c} is not 0 (skip), 1 (reset) or 2 (step)"
            ))),
        })
        .collect()
}

#[pymethods]
impl RustVectorEnv {
    /// `num_envs` envs `name` stepped by `num_threads` threads.
    #[new]
    fn new(
        name: String,
        options_json: String,
        num_envs: usize,
        num_threads: usize,
    ) -> PyResult<Self> {
        let options = EnvOptions::from_json(&options_json).map_err(value_error)?;
        let batch = EnvBatch::new(&name, &options, num_envs, num_threads).map_err(value_error)?;
        Ok(Self {
            name,
            options_json,
            batch: Mutex::new(batch),
        })
    }

    /// Number of threads stepping the envs.
    #[getter]
    fn num_threads(&self) -> usize {
        self.batch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .threads()
    }

    /// Applies per-env op codes (0 skip, 1 reset with `seeds[i]` and `tasks[i]`, 2 step with
    /// `actions[i]`) and writes the results into the given buffers. Actions are float32
    /// (continuous envs) or int64 (`Discrete`: one column; `MultiDiscrete`); observations go to
    /// one float32 `(num_envs, obs_dim)` array, or for dict observations to a list of arrays,
    /// one per entry in the observation space's order, each `(num_envs, *entry_shape)`.
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        ops: PyReadonlyArray1<'py, u8>,
        actions: &Bound<'py, PyAny>,
        seeds: PyReadonlyArray1<'py, u64>,
        tasks: PyReadonlyArray2<'py, f64>,
        obs: &Bound<'py, PyAny>,
        mut reward: PyReadwriteArray1<'_, f64>,
        mut terminated: PyReadwriteArray1<'_, bool>,
        mut truncated: PyReadwriteArray1<'_, bool>,
        mut episode_return: PyReadwriteArray1<'_, f64>,
        mut episode_length: PyReadwriteArray1<'_, i64>,
        mut success: PyReadwriteArray1<'_, bool>,
    ) -> PyResult<()> {
        let ops = ops_from_codes(ops.as_slice().map_err(value_error)?)?;
        let float_actions = actions.extract::<PyReadonlyArray2<'py, f32>>().ok();
        let int_actions = match float_actions {
            Some(_) => None,
            None => Some(
                actions
                    .extract::<PyReadonlyArray2<'py, i64>>()
                    .map_err(|_| {
                        PyTypeError::new_err("actions must be a 2-D float32 or int64 array")
                    })?,
            ),
        };
        let actions = match (&float_actions, &int_actions) {
            (Some(a), _) => Actions::Continuous(a.as_slice().map_err(value_error)?),
            (_, Some(a)) => Actions::Discrete(a.as_slice().map_err(value_error)?),
            (None, None) => unreachable!("one of the two was extracted"),
        };
        let seeds = seeds.as_slice().map_err(value_error)?;
        let tasks = tasks.as_slice().map_err(value_error)?;
        let mut obs = ObsArg::extract(obs)?;
        let out = Outputs {
            obs: obs.buffers()?,
            reward: reward.as_slice_mut().map_err(value_error)?,
            terminated: terminated.as_slice_mut().map_err(value_error)?,
            truncated: truncated.as_slice_mut().map_err(value_error)?,
            episode_return: episode_return.as_slice_mut().map_err(value_error)?,
            episode_length: episode_length.as_slice_mut().map_err(value_error)?,
            success: success.as_slice_mut().map_err(value_error)?,
        };
        let batch = self.batch.get_mut().unwrap_or_else(|e| e.into_inner());
        // Rayon workers never touch Python, and releasing the GIL lets other Python threads
        // run while the envs step.
        py.detach(|| batch.run(&ops, actions, seeds, tasks, out))
            .map_err(|(env, e)| match env {
                Some(i) => value_error(format!("env {i}: {e}")),
                None => value_error(e),
            })
    }

    /// The current frame of env `index`, `(height, width, 3)` uint8.
    fn render<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyArray3<u8>>> {
        let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        let env = batch.get(index).ok_or_else(|| {
            value_error(format!(
                "env index {index} out of range for {} envs",
                batch.num_envs()
            ))
        })?;
        let frame = env.render().map_err(value_error)?;
        let (h, w) = (frame.height as usize, frame.width as usize);
        PyArray1::from_vec(py, frame.data).reshape([h, w, 3])
    }

    /// Pickling rebuilds the envs from their name and options (episodes are not kept).
    fn __getnewargs__(&self) -> (String, String, usize, usize) {
        let b = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        (
            self.name.clone(),
            self.options_json.clone(),
            b.num_envs(),
            b.threads(),
        )
    }
}

/// A teacher from the Rust registry, for the Python teacher classes.
#[pyclass(module = "teachgym._teachgym")]
struct RustTeacher {
    teacher: Mutex<Box<dyn Teacher>>,
    space: TaskSpace,
}

impl RustTeacher {
    fn teacher(&mut self) -> &mut Box<dyn Teacher> {
        self.teacher.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    fn check_task_length(&self, task: &[f64]) -> PyResult<()> {
        if task.len() != self.space.dim() {
            return Err(value_error(format!(
                "task has {} components but the task space has {} dimensions ({})",
                task.len(),
                self.space.dim(),
                self.space.names().join(", ")
            )));
        }
        Ok(())
    }
}

#[pymethods]
impl RustTeacher {
    /// Teacher `name` over the task space `(names, low, high)`, seeded with `seed`, from the
    /// JSON form of its configuration; `shuffle_dimensions` wraps it in the dimension shuffler
    /// (seeded with `seed`).
    #[new]
    #[pyo3(signature = (name, names, low, high, seed, config_json, shuffle_dimensions=false))]
    fn new(
        name: &str,
        names: Vec<String>,
        low: Vec<f64>,
        high: Vec<f64>,
        seed: u64,
        config_json: &str,
        shuffle_dimensions: bool,
    ) -> PyResult<Self> {
        if names.len() != low.len() || low.len() != high.len() {
            return Err(value_error(format!(
                "task space has {} names, {} lows and {} highs",
                names.len(),
                low.len(),
                high.len()
            )));
        }
        let dims = names
            .into_iter()
            .zip(low.iter().zip(&high))
            .map(|(n, (&l, &h))| TaskDim::new(n, l, h, ""))
            .collect();
        let space = TaskSpace::new(dims).map_err(value_error)?;
        let config: serde_json::Value = serde_json::from_str(config_json).map_err(value_error)?;
        let mut teacher = build_teacher(name, space.clone(), seed, config).map_err(value_error)?;
        if shuffle_dimensions {
            teacher = Box::new(Shuffled::new(teacher, seed));
        }
        Ok(Self {
            teacher: Mutex::new(teacher),
            space,
        })
    }

    /// Registry name.
    #[getter]
    fn name(&self) -> &'static str {
        self.teacher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .name()
    }

    /// The next task.
    fn sample_task<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.teacher().sample_task())
    }

    /// Learns from an episode on `task`.
    fn update(
        &mut self,
        task: PyReadonlyArray1<'_, f64>,
        episode_return: f64,
        success: bool,
        length: u32,
    ) -> PyResult<()> {
        let task = task.as_slice().map_err(value_error)?;
        self.check_task_length(task)?;
        let outcome = EpisodeOutcome::new(episode_return, success, length);
        self.teacher().update(task, &outcome).map_err(value_error)
    }

    /// The discount of the value estimates the teacher asks for, or `None` if it asks for none.
    #[getter]
    fn value_estimate_discount(&self) -> Option<f64> {
        self.teacher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .value_estimate_discount()
    }

    /// The student's value estimate of the initial observation of an episode on `task` that
    /// `update` has seen, and that episode's discounted return.
    fn record_value_estimate(
        &mut self,
        task: PyReadonlyArray1<'_, f64>,
        initial_value: f64,
        discounted_return: f64,
    ) -> PyResult<()> {
        let task = task.as_slice().map_err(value_error)?;
        self.check_task_length(task)?;
        let estimate = ValueEstimate {
            initial_value,
            discounted_return,
        };
        self.teacher()
            .record_value_estimate(task, &estimate)
            .map_err(value_error)
    }

    /// One evaluation of the student on a fixed test set: its epoch (1 for the first after
    /// training began), the training episodes so far, the return of each test task, and either
    /// each task's score in [0, 1] or the `(low, high)` range the returns are mapped from (the
    /// Python wrapper checks the values).
    #[pyo3(signature = (epoch, episodes, returns, scores=None, score_range=None))]
    fn record_evaluation(
        &mut self,
        epoch: u64,
        episodes: u64,
        returns: Vec<f64>,
        scores: Option<Vec<f64>>,
        score_range: Option<(f64, f64)>,
    ) -> PyResult<()> {
        let evaluation = match (scores, score_range) {
            (Some(scores), None) => EvaluationResult {
                epoch,
                episodes,
                returns,
                scores,
            },
            (None, Some((low, high))) => {
                EvaluationResult::from_returns(epoch, episodes, returns, low, high)
            }
            _ => return Err(value_error("give scores or score_range, exactly one")),
        };
        self.teacher()
            .record_evaluation(&evaluation)
            .map_err(value_error)
    }

    /// Whether the teacher asks for a fresh student (AGAIN's "trying again").
    #[getter]
    fn wants_student_restart(&self) -> bool {
        self.teacher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wants_student_restart()
    }

    /// Tells the teacher that the student was replaced by a fresh one.
    fn acknowledge_student_restart(&mut self) {
        self.teacher().acknowledge_student_restart();
    }

    /// `n` tasks of the current curriculum without exploration, or `None`; `n` at most
    /// `MAX_NON_EXPLORATORY_SAMPLES`.
    fn non_exploratory_samples(&mut self, n: usize) -> PyResult<Option<Vec<Vec<f64>>>> {
        if n > MAX_NON_EXPLORATORY_SAMPLES {
            return Err(value_error(format!(
                "n = {n} is above the limit of {MAX_NON_EXPLORATORY_SAMPLES} samples"
            )));
        }
        Ok(self.teacher().non_exploratory_samples(n))
    }

    /// The full state as versioned JSON bytes.
    fn save_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self
            .teacher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .save_state()
            .map_err(value_error)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Restores a state written by `save_state`.
    fn load_state(&mut self, state: &[u8]) -> PyResult<()> {
        self.teacher().load_state(state).map_err(value_error)
    }
}

/// What a `train` call reports after each learning iteration to the Python progress callback:
/// `(global_step, planned_steps, episodes, recent_mean_return, new_evaluations)`, the
/// evaluations as `(global_step, mastered_percent, mean_return)`.
type ProgressRow = (u64, u64, u64, f64, Vec<(u64, f64, f64)>);

/// `teachgym classroom build` in process: the classroom entries of `runs` (run directories of
/// ALP-GMM runs, or entry files) under the entry rule, written to `out`. `alp_threshold`
/// `None` takes the rule's default. Returns the names that entered and those left out.
#[pyfunction]
#[pyo3(signature = (runs, out, alp_threshold=None, keep_all=false))]
fn build_classroom(
    runs: Vec<std::path::PathBuf>,
    out: std::path::PathBuf,
    alp_threshold: Option<f64>,
    keep_all: bool,
) -> PyResult<(Vec<String>, Vec<String>)> {
    let mut rule = teachgym_teachers::EntryRule {
        keep_all,
        ..Default::default()
    };
    if let Some(threshold) = alp_threshold {
        rule.alp_threshold = threshold;
    }
    let summary = teachgym::train::build_classroom(&runs, &out, rule)
        .map_err(|e| value_error(format!("{e:#}")))?;
    Ok((summary.entered, summary.left_out))
}

/// Runs `teachgym train` in this process: the configuration as TOML (`config_format` "toml",
/// a config file's text) or JSON ("json", the same schema), the run directory `out`. The GIL is
/// released while training; `progress(row)` (a [`ProgressRow`]) is called with it after each
/// learning iteration, and a Python exception it raises (or Ctrl-C, checked there) stops the
/// run after a checkpoint and is raised again. Returns `(finished, global_step, episodes)`.
#[pyfunction]
#[pyo3(signature = (config_text, config_format, out, resume=false, stop_after=None, progress=None))]
fn train(
    py: Python<'_>,
    config_text: &str,
    config_format: &str,
    out: std::path::PathBuf,
    resume: bool,
    stop_after: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(bool, u64, u64)> {
    use teachgym::train::{train_with_progress, RunConfig, TrainOptions};
    let config = match config_format {
        "toml" => {
            RunConfig::from_toml_str(config_text).map_err(|e| value_error(format!("{e:#}")))?
        }
        "json" => serde_json::from_str(config_text)
            .map_err(|e| value_error(format!("malformed configuration: {e}")))?,
        other => {
            return Err(value_error(format!(
                "config_format must be 'toml' or 'json', got {other:?}"
            )))
        }
    };
    let options = TrainOptions {
        config,
        out,
        resume,
        progress: false,
        stop_after,
    };
    let result = py.detach(|| {
        train_with_progress(options, &mut |report| {
            Python::attach(|py| -> PyResult<()> {
                py.check_signals()?;
                if let Some(callback) = &progress {
                    let evaluations: Vec<(u64, f64, f64)> = report
                        .new_evaluations
                        .iter()
                        .map(|e| (e.global_step, e.mastered_percent, e.mean_return))
                        .collect();
                    let row: ProgressRow = (
                        report.global_step,
                        report.planned_steps,
                        report.episodes,
                        report.recent_mean_return,
                        evaluations,
                    );
                    callback.call1(py, (row,))?;
                }
                Ok(())
            })
            .map_err(anyhow::Error::from)
        })
    });
    match result {
        Ok(summary) => Ok((summary.finished, summary.global_step, summary.episodes)),
        // The callback's own exception (KeyboardInterrupt included) comes back as itself.
        Err(e) => match e.downcast::<PyErr>() {
            Ok(py_err) => Err(py_err),
            Err(e) => Err(value_error(format!("{e:#}"))),
        },
    }
}

/// `(run directory relative to the benchmark directory, state, configuration TOML)` of a run.
type PlannedRunRow = (String, &'static str, String);

/// What `teachgym benchmark` does before running anything, for another engine (Ray Tune):
/// the specs (built-in names or files) with the overrides (JSON of the command line's
/// `SpecOverrides`: seeds, budget, eval_every, teachers, expert_knowledge) expanded into runs,
/// every run directory under `out` checked against its configuration, each cell's `spec.toml`
/// written. The state is `finished`, `checkpointed` or `fresh`.
#[pyfunction]
fn benchmark_plan(
    specs: Vec<String>,
    out: std::path::PathBuf,
    overrides_json: &str,
) -> PyResult<Vec<PlannedRunRow>> {
    use teachgym::benchmark::{load_specs, plan_benchmark, SpecOverrides};
    let overrides: SpecOverrides = serde_json::from_str(overrides_json)
        .map_err(|e| value_error(format!("bad benchmark overrides: {e}")))?;
    let specs = load_specs(&specs, &overrides).map_err(|e| value_error(format!("{e:#}")))?;
    let planned = plan_benchmark(&specs, &out).map_err(|e| value_error(format!("{e:#}")))?;
    planned
        .into_iter()
        .map(|p| {
            let config = p
                .run
                .config
                .to_toml()
                .map_err(|e| value_error(format!("{e:#}")))?;
            Ok((
                p.run.dir.to_string_lossy().into_owned(),
                p.state.name(),
                config,
            ))
        })
        .collect()
}

/// `(name, gym_id, max_episode_steps, render_fps, success_return, summary)` of one environment.
type RegistryRow = (
    &'static str,
    &'static str,
    Option<u32>,
    u32,
    Option<f64>,
    &'static str,
);

/// `(name, gym_id, max_episode_steps, render_fps, success_return, summary)` of every
/// environment (`max_episode_steps` is `None` when the limit depends on the episode).
#[pyfunction]
fn env_registry() -> Vec<RegistryRow> {
    ENVS.iter()
        .map(|e| {
            (
                e.name,
                e.gym_id,
                e.max_episode_steps,
                e.render_fps,
                e.success_return,
                e.summary,
            )
        })
        .collect()
}

/// Panics on purpose, so the tests can check that a Rust panic reaches Python as an exception
/// rather than aborting the interpreter. Only in builds with the `test-hooks` feature (the
/// test script's), never in a released wheel.
#[cfg(feature = "test-hooks")]
#[pyfunction]
fn _panic_for_tests(message: &str) {
    panic!("{message}");
}

/// The module.
#[pymodule]
fn _teachgym(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RustEnv>()?;
    m.add_class::<RustVectorEnv>()?;
    m.add_class::<RustTeacher>()?;
    m.add_class::<QwebPolicy>()?;
    m.add_function(wrap_pyfunction!(env_registry, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(build_classroom, m)?)?;
    m.add_function(wrap_pyfunction!(benchmark_plan, m)?)?;
    // An attribute outside `__all__`: private, and no part of the stub.
    #[cfg(feature = "test-hooks")]
    m.setattr("_panic_for_tests", wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("TEACHER_NAMES", TEACHER_NAMES.to_vec())?;
    m.add(
        "BODY_NAMES",
        teachgym_envs::walker::Embodiment::ALL
            .map(|body| body.name())
            .to_vec(),
    )?;
    m.add("MAX_NUM_ENVS", MAX_NUM_ENVS)?;
    m.add("MAX_NON_EXPLORATORY_SAMPLES", MAX_NON_EXPLORATORY_SAMPLES)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

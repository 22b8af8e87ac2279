//! [`EnvBatch`]: N independent envs stepped (or reset) in one call, spread over a thread pool.
//!
//! Pure Rust (no pyo3): the vector binding hands it slices of numpy buffers with the GIL
//! released. Each env is independent and results are written back in env order, so the outputs
//! are bit-identical for any thread count. Continuous-control envs write one flat `f32` row per
//! env; dict-observation envs (the web forms) one row per env in each entry's buffer.

use crate::webform::ObsArray;
use rayon::prelude::*;
use teachgym_core::{DType, EpisodeSummary, Error, Result, Space};

use crate::registry::{build_env, Action, AnyEnv, EnvOptions, Observation};

/// Most envs of one batch (and of `teachgym train`'s vector env): each holds its own world, so
/// a count without limit could exhaust the memory.
pub const MAX_NUM_ENVS: usize = 4096;

/// What to do with one env in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Leave it untouched (its output rows are not written).
    Skip,
    /// Reset it with its seed and task; reward 0, flags false.
    Reset,
    /// Step it with its action row.
    Step,
}

/// One observation buffer of the caller, `num_envs` rows.
pub enum ArrayMut<'a> {
    /// An `int64` buffer.
    I64(&'a mut [i64]),
    /// A `uint8` buffer.
    U8(&'a mut [u8]),
    /// A `float32` buffer.
    F32(&'a mut [f32]),
}

impl ArrayMut<'_> {
    fn dtype(&self) -> DType {
        match self {
            ArrayMut::I64(_) => DType::I64,
            ArrayMut::U8(_) => DType::U8,
            ArrayMut::F32(_) => DType::F32,
        }
    }

    fn len(&self) -> usize {
        match self {
            ArrayMut::I64(a) => a.len(),
            ArrayMut::U8(a) => a.len(),
            ArrayMut::F32(a) => a.len(),
        }
    }

    /// Copies `src` into row `i` (rows of `src.len()` elements).
    fn write_row(&mut self, i: usize, src: ObsArray<'_>) -> Result<()> {
        let n = src.len();
        match (self, src) {
            (ArrayMut::I64(d), ObsArray::I64(s)) => d[i * n..(i + 1) * n].copy_from_slice(s),
            (ArrayMut::U8(d), ObsArray::U8(s)) => d[i * n..(i + 1) * n].copy_from_slice(s),
            (ArrayMut::F32(d), ObsArray::F32(s)) => d[i * n..(i + 1) * n].copy_from_slice(s),
            _ => {
                return Err(Error::InvalidSpace {
                    reason: "an observation buffer's dtype differs from its entry's".into(),
                })
            }
        }
        Ok(())
    }
}

/// The caller's observation buffers.
pub enum ObsBuffers<'a> {
    /// `num_envs × obs_dim` flat observations (continuous-control envs).
    Flat(&'a mut [f32]),
    /// One buffer per entry of a dict observation, in the observation space's order.
    Dict(Vec<ArrayMut<'a>>),
}

/// Every env's action, `num_envs × action_dim` row-major.
#[derive(Debug, Clone, Copy)]
pub enum Actions<'a> {
    /// `Box` actions.
    Continuous(&'a [f32]),
    /// `Discrete` (one column) or `MultiDiscrete` actions.
    Discrete(&'a [i64]),
}

impl Actions<'_> {
    fn len(&self) -> usize {
        match self {
            Actions::Continuous(a) => a.len(),
            Actions::Discrete(a) => a.len(),
        }
    }
}

/// The caller's output buffers, one row (or element) per env.
pub struct Outputs<'a> {
    /// Observations.
    pub obs: ObsBuffers<'a>,
    /// Rewards.
    pub reward: &'a mut [f64],
    /// `terminated` flags.
    pub terminated: &'a mut [bool],
    /// `truncated` flags.
    pub truncated: &'a mut [bool],
    /// Return of the episode that ended at this step (0 otherwise).
    pub episode_return: &'a mut [f64],
    /// Length of the episode that ended at this step (0 otherwise).
    pub episode_length: &'a mut [i64],
    /// Success of the episode that ended at this step (false otherwise).
    pub success: &'a mut [bool],
}

/// What one env produced.
struct Outcome {
    obs: Observation,
    reward: f64,
    terminated: bool,
    truncated: bool,
    episode: Option<EpisodeSummary>,
}

/// N envs of one kind and the threads that step them.
pub struct EnvBatch {
    envs: Vec<AnyEnv>,
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    /// Elements per env of each observation buffer (one for flat observations).
    obs_lens: Vec<usize>,
    /// Element type of each observation buffer.
    obs_dtypes: Vec<DType>,
    action_dim: usize,
    task_dim: usize,
}

impl EnvBatch {
    /// `num_envs` envs `name` built from `options`, stepped by `num_threads` threads (1 steps
    /// them in the calling thread).
    ///
    /// # Errors
    /// As [`build_env`]; [`Error::InvalidConfig`] for zero threads, or a number of envs
    /// outside `1..=MAX_NUM_ENVS`.
    pub fn new(
        name: &str,
        options: &EnvOptions,
        num_envs: usize,
        num_threads: usize,
    ) -> Result<Self> {
        let bad = |field: &str, reason: String| Error::InvalidConfig {
            field: field.into(),
            reason,
        };
        if !(1..=MAX_NUM_ENVS).contains(&num_envs) {
            return Err(bad(
                "num_envs",
                format!("must be in 1..={MAX_NUM_ENVS}, got {num_envs}"),
            ));
        }
        if num_threads == 0 {
            return Err(bad("num_threads", "must be at least 1".into()));
        }
        let envs = (0..num_envs)
            .map(|_| build_env(name, options))
            .collect::<Result<Vec<_>>>()?;
        let threads = num_threads.min(num_envs);
        let pool = if threads > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("teachgym-vec-{i}"))
                    .build()
                    .map_err(|e| bad("num_threads", format!("cannot start threads: {e}")))?,
            )
        } else {
            None
        };
        let first = &envs[0];
        let layout: Vec<(usize, DType)> = match (first, first.observation_space()) {
            (env, space) if env.has_flat_observations() => vec![(space.flat_len(), DType::F32)],
            (_, Space::Dict(entries)) => entries
                .iter()
                .map(|(key, s)| match s {
                    Space::Box(b) => Ok((b.len(), b.dtype())),
                    other => Err(bad(
                        "env",
                        format!("`{name}` observes `{key}` as {other:?}, not a Box"),
                    )),
                })
                .collect::<Result<_>>()?,
            (_, other) => {
                return Err(bad(
                    "env",
                    format!("`{name}` observes {other:?}, neither flat nor a dict"),
                ))
            }
        };
        let (obs_lens, obs_dtypes) = layout.into_iter().unzip();
        let (action_dim, task_dim) = (first.action_space().flat_len(), first.task_space().dim());
        Ok(Self {
            envs,
            pool,
            threads,
            obs_lens,
            obs_dtypes,
            action_dim,
            task_dim,
        })
    }

    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Number of threads stepping them.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The first env (all share spaces and task space).
    pub fn first(&self) -> &AnyEnv {
        &self.envs[0]
    }

    /// Env `i`, if it exists.
    pub fn get(&self, i: usize) -> Option<&AnyEnv> {
        self.envs.get(i)
    }

    /// Checks env `i`'s action row before anything moves.
    fn check_action(&self, i: usize, actions: Actions<'_>) -> Result<()> {
        let (env, dim) = (&self.envs[i], self.action_dim);
        match (env, actions) {
            (AnyEnv::Continuous(_), Actions::Continuous(a)) => {
                let row = &a[i * dim..(i + 1) * dim];
                match row.iter().position(|a| !a.is_finite()) {
                    Some(index) => Err(Error::NonFiniteAction {
                        index,
                        value: f64::from(row[index]),
                    }),
                    None => Ok(()),
                }
            }
            (
                AnyEnv::FlatDiscrete(_) | AnyEnv::Discrete(_) | AnyEnv::MultiDiscrete(_),
                Actions::Discrete(a),
            ) => {
                let row = &a[i * dim..(i + 1) * dim];
                let limits = match env.action_space() {
                    Space::Discrete { n } => vec![*n],
                    Space::MultiDiscrete { nvec } => nvec.clone(),
                    other => unreachable!("discrete env with action space {other:?}"),
                };
                match row
                    .iter()
                    .zip(&limits)
                    .find(|(&a, &n)| a < 0 || a as u64 >= n as u64)
                {
                    Some((&value, &n)) => Err(Error::ActionOutOfRange { value, n }),
                    None => Ok(()),
                }
            }
            (env, _) => Err(Error::InvalidSpace {
                reason: format!(
                    "actions of the wrong kind for envs with {} actions",
                    env.action_kind()
                ),
            }),
        }
    }

    /// Applies `ops[i]` to env `i`: resets use `seeds[i]` and row `i` of `tasks`, steps use
    /// row `i` of `actions`. Outputs of skipped envs are left as they were.
    ///
    /// Actions and tasks are all checked before any env changes, so a bad value leaves every
    /// env as it was. Returns the index of the env at fault with the error.
    ///
    /// # Errors
    /// Buffer sizes or kinds that do not match, a non-finite or out-of-range action, a task
    /// outside the task space, or (after envs have moved) a step of an env whose episode ended.
    pub fn run(
        &mut self,
        ops: &[Op],
        actions: Actions<'_>,
        seeds: &[u64],
        tasks: &[f64],
        mut out: Outputs<'_>,
    ) -> std::result::Result<(), (Option<usize>, Error)> {
        let n = self.envs.len();
        let space_error = |reason: String| (None, Error::InvalidSpace { reason });
        let obs_sizes: Vec<usize> = match &out.obs {
            ObsBuffers::Flat(b) if self.envs[0].has_flat_observations() => vec![b.len()],
            ObsBuffers::Dict(bs) if !self.envs[0].has_flat_observations() => {
                let dtypes: Vec<DType> = bs.iter().map(ArrayMut::dtype).collect();
                if let Some(k) = (0..dtypes.len().min(self.obs_dtypes.len()))
                    .find(|&k| dtypes[k] != self.obs_dtypes[k])
                {
                    return Err(space_error(format!(
                        "observation buffer {k} holds {:?}, expected {:?}",
                        dtypes[k], self.obs_dtypes[k]
                    )));
                }
                bs.iter().map(ArrayMut::len).collect()
            }
            _ => {
                return Err(space_error(format!(
                    "observation buffers of the wrong kind for envs with {} actions",
                    self.envs[0].action_kind()
                )))
            }
        };
        if obs_sizes.len() != self.obs_lens.len() {
            return Err(space_error(format!(
                "{} observation buffers given, expected {}",
                obs_sizes.len(),
                self.obs_lens.len()
            )));
        }
        if let Some((k, (&got, &len))) = obs_sizes
            .iter()
            .zip(&self.obs_lens)
            .enumerate()
            .find(|(_, (&got, &len))| got != n * len)
        {
            return Err(space_error(format!(
                "observation buffer {k} has {got} elements, expected {}",
                n * len
            )));
        }
        let sizes = [
            ("ops", ops.len(), n),
            ("actions", actions.len(), n * self.action_dim),
            ("seeds", seeds.len(), n),
            ("tasks", tasks.len(), n * self.task_dim),
            ("reward", out.reward.len(), n),
            ("terminated", out.terminated.len(), n),
            ("truncated", out.truncated.len(), n),
            ("episode_return", out.episode_return.len(), n),
            ("episode_length", out.episode_length.len(), n),
            ("success", out.success.len(), n),
        ];
        if let Some((what, got, expected)) = sizes.iter().find(|(_, got, exp)| got != exp) {
            return Err((
                None,
                Error::InvalidSpace {
                    reason: format!("buffer `{what}` has {got} elements, expected {expected}"),
                },
            ));
        }
        let (a_dim, t_dim) = (self.action_dim, self.task_dim);
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Step => self.check_action(i, actions).map_err(|e| (Some(i), e))?,
                Op::Reset => self.envs[i]
                    .task_space()
                    .validate(&tasks[i * t_dim..(i + 1) * t_dim])
                    .map_err(|e| (Some(i), e))?,
                Op::Skip => {}
            }
        }

        let work = |(i, env): (usize, &mut AnyEnv)| -> Result<Option<Outcome>> {
            match ops[i] {
                Op::Skip => Ok(None),
                Op::Reset => {
                    let (obs, _) = env.reset(Some(seeds[i]), &tasks[i * t_dim..(i + 1) * t_dim])?;
                    Ok(Some(Outcome {
                        obs,
                        reward: 0.0,
                        terminated: false,
                        truncated: false,
                        episode: None,
                    }))
                }
                Op::Step => {
                    let rows = i * a_dim..(i + 1) * a_dim;
                    // Checked above: every value is in range for the env's space.
                    let s = match (&*env, actions) {
                        (AnyEnv::Discrete(_) | AnyEnv::FlatDiscrete(_), Actions::Discrete(a)) => {
                            env.step(Action::Discrete(a[i] as usize))?
                        }
                        (_, Actions::Discrete(a)) => {
                            let row: Vec<usize> = a[rows].iter().map(|&v| v as usize).collect();
                            env.step(Action::MultiDiscrete(&row))?
                        }
                        (_, Actions::Continuous(a)) => env.step(Action::Continuous(&a[rows]))?,
                    };
                    Ok(Some(Outcome {
                        obs: s.obs,
                        reward: s.reward,
                        terminated: s.terminated,
                        truncated: s.truncated,
                        episode: s.info.episode,
                    }))
                }
            }
        };
        let results: Vec<Result<Option<Outcome>>> = match &self.pool {
            // Contiguous chunks, one per thread: a walker step is ~10 µs, so finer splitting
            // would only add scheduling cost.
            Some(pool) => {
                let chunk = n.div_ceil(self.threads);
                let envs = &mut self.envs;
                pool.install(|| {
                    envs.par_iter_mut()
                        .enumerate()
                        .with_min_len(chunk)
                        .map(work)
                        .collect()
                })
            }
            None => self.envs.iter_mut().enumerate().map(work).collect(),
        };

        let mut first_error = None;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(None) => {}
                Ok(Some(r)) => {
                    match (&mut out.obs, &r.obs) {
                        (ObsBuffers::Flat(b), Observation::Flat(o)) => {
                            b[i * o.len()..(i + 1) * o.len()].copy_from_slice(o);
                        }
                        (ObsBuffers::Dict(bs), Observation::Dict(o)) => {
                            for (b, (_, array)) in bs.iter_mut().zip(o.entries()) {
                                if let Err(e) = b.write_row(i, array) {
                                    first_error.get_or_insert((None, e));
                                }
                            }
                        }
                        _ => unreachable!("buffer kinds are checked against the envs above"),
                    }
                    out.reward[i] = r.reward;
                    out.terminated[i] = r.terminated;
                    out.truncated[i] = r.truncated;
                    let ep = r.episode.unwrap_or(EpisodeSummary {
                        episode_return: 0.0,
                        length: 0,
                        success: false,
                    });
                    out.episode_return[i] = ep.episode_return;
                    out.episode_length[i] = i64::from(ep.length);
                    out.success[i] = ep.success;
                }
                Err(e) => {
                    first_error.get_or_insert((Some(i), e));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Buffers {
        obs: Vec<f32>,
        reward: Vec<f64>,
        terminated: Vec<bool>,
        truncated: Vec<bool>,
        ret: Vec<f64>,
        len: Vec<i64>,
        success: Vec<bool>,
    }

    impl Buffers {
        fn new(n: usize, obs_dim: usize) -> Self {
            Self {
                obs: vec![0.0; n * obs_dim],
                reward: vec![0.0; n],
                terminated: vec![false; n],
                truncated: vec![false; n],
                ret: vec![0.0; n],
                len: vec![0; n],
                success: vec![false; n],
            }
        }
        fn outputs(&mut self) -> Outputs<'_> {
            Outputs {
                obs: ObsBuffers::Flat(&mut self.obs),
                reward: &mut self.reward,
                terminated: &mut self.terminated,
                truncated: &mut self.truncated,
                episode_return: &mut self.ret,
                episode_length: &mut self.len,
                success: &mut self.success,
            }
        }
    }

    /// 200 steps of 5 walkers with per-env actions: any thread count gives the same bits.
    fn trajectory(threads: usize) -> Vec<(Vec<f32>, Vec<f64>)> {
        let n = 5;
        let mut batch = EnvBatch::new("stump_tracks", &EnvOptions::default(), n, threads).unwrap();
        let mut b = Buffers::new(n, 24);
        let seeds: Vec<u64> = (0..n as u64).collect();
        let tasks: Vec<f64> = (0..n).flat_map(|i| [0.5 * i as f64, 3.0]).collect();
        let mut actions = vec![0.0f32; n * 4];
        batch
            .run(
                &[Op::Reset; 5],
                Actions::Continuous(&actions),
                &seeds,
                &tasks,
                b.outputs(),
            )
            .unwrap();
        let mut out = Vec::new();
        for t in 0..200 {
            for (k, a) in actions.iter_mut().enumerate() {
                *a = ((t * 7 + k * 3) % 11) as f32 / 5.0 - 1.0;
            }
            let ops: Vec<Op> = (0..n)
                .map(|i| {
                    if b.terminated[i] || b.truncated[i] {
                        Op::Reset
                    } else {
                        Op::Step
                    }
                })
                .collect();
            batch
                .run(
                    &ops,
                    Actions::Continuous(&actions),
                    &seeds,
                    &tasks,
                    b.outputs(),
                )
                .unwrap();
            out.push((b.obs.clone(), b.reward.clone()));
        }
        out
    }

    #[test]
    fn thread_count_does_not_change_results() {
        let one = trajectory(1);
        assert_eq!(one, trajectory(2));
        assert_eq!(one, trajectory(3));
    }

    #[test]
    fn bad_input_is_refused_before_any_env_moves() {
        let mut batch = EnvBatch::new("point_mass", &EnvOptions::default(), 2, 1).unwrap();
        let mut b = Buffers::new(2, 6);
        let tasks = [0.5, 1.0, 0.5, 1.0];
        batch
            .run(
                &[Op::Reset; 2],
                Actions::Continuous(&[0.0; 4]),
                &[1, 2],
                &tasks,
                b.outputs(),
            )
            .unwrap();
        let before = b.obs.clone();
        let err = batch
            .run(
                &[Op::Step; 2],
                Actions::Continuous(&[0.5, 0.5, f32::NAN, 0.0]),
                &[0, 0],
                &tasks,
                b.outputs(),
            )
            .unwrap_err();
        assert_eq!(err.0, Some(1));
        assert!(matches!(err.1, Error::NonFiniteAction { index: 0, .. }));
        assert_eq!(b.obs, before);
        let err = batch
            .run(
                &[Op::Reset; 2],
                Actions::Continuous(&[0.0; 4]),
                &[0, 0],
                &[0.5, 1.0, 9.0, 1.0],
                b.outputs(),
            )
            .unwrap_err();
        assert_eq!(err.0, Some(1));
        assert!(err.1.to_string().contains("target_distance"), "{}", err.1);
        let err = batch
            .run(
                &[Op::Step; 2],
                Actions::Continuous(&[0.0; 3]),
                &[0, 0],
                &tasks,
                b.outputs(),
            )
            .unwrap_err();
        assert!(err.1.to_string().contains("actions"), "{}", err.1);
        assert!(EnvBatch::new("point_mass", &EnvOptions::default(), 0, 1).is_err());
    }

    /// `steps` calls on 3 web forms (valid actions picked from the masks): the int64 buffers
    /// after each call.
    fn webform_run(name: &str, threads: usize, steps: usize) -> Vec<Vec<i64>> {
        let options =
            EnvOptions::from_json(r#"{"config": {"max_fields": 2, "max_elements": 24}}"#).unwrap();
        let n = 3;
        let mut batch = EnvBatch::new(name, &options, n, threads).unwrap();
        let lens = batch.obs_lens.clone();
        let a_dim = batch.action_dim;
        let Space::Dict(entries) = batch.first().observation_space().clone() else {
            panic!("dict observations")
        };
        let (mut i64s, mut u8s, mut f32s) = (Vec::new(), Vec::new(), Vec::new());
        for ((_, space), len) in entries.iter().zip(&lens) {
            let Space::Box(b) = space else { panic!() };
            match b.dtype() {
                teachgym_core::DType::I64 => i64s.push(vec![0i64; n * len]),
                teachgym_core::DType::U8 => u8s.push(vec![0u8; n * len]),
                _ => f32s.push(vec![0f32; n * len]),
            }
        }
        let mut b = Buffers::new(n, 0);
        // Every field named: `goal_coverage` (the last dimension) at its default bound 1.
        let tasks: Vec<f64> = (0..n)
            .flat_map(|_| [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0])
            .collect();
        let seeds = [1, 2, 3];
        let mut history = Vec::new();
        let mut actions = vec![0i64; n * a_dim];
        let mut ops = [Op::Reset; 3];
        for t in 0..steps {
            let (mut ii, mut uu, mut ff) = (i64s.iter_mut(), u8s.iter_mut(), f32s.iter_mut());
            let bufs = entries
                .iter()
                .map(|(_, s)| match s {
                    Space::Box(bx) => match bx.dtype() {
                        teachgym_core::DType::I64 => ArrayMut::I64(ii.next().unwrap()),
                        teachgym_core::DType::U8 => ArrayMut::U8(uu.next().unwrap()),
                        _ => ArrayMut::F32(ff.next().unwrap()),
                    },
                    _ => panic!(),
                })
                .collect();
            let out = Outputs {
                obs: ObsBuffers::Dict(bufs),
                reward: &mut b.reward,
                terminated: &mut b.terminated,
                truncated: &mut b.truncated,
                episode_return: &mut b.ret,
                episode_length: &mut b.len,
                success: &mut b.success,
            };
            batch
                .run(&ops, Actions::Discrete(&actions), &seeds, &tasks, out)
                .unwrap();
            history.push(i64s.concat());
            // The action mask is the only u8 entry with n_actions columns: pick its
            // (t mod #valid)-th valid action per env.
            let mask = u8s.iter().find(|m| m.len() == n * 24 * 3).unwrap();
            for i in 0..n {
                let row = &mask[i * 72..(i + 1) * 72];
                let valid: Vec<usize> = (0..72).filter(|&a| row[a] == 1).collect();
                let a = valid[t % valid.len()];
                if a_dim == 1 {
                    actions[i] = a as i64;
                } else {
                    let (slot, j) = (a / 3, a % 3);
                    let md = if j == 0 {
                        [slot, 0, 0]
                    } else {
                        [slot, 1, j - 1]
                    };
                    for (k, v) in md.iter().enumerate() {
                        actions[i * 3 + k] = *v as i64;
                    }
                }
                ops[i] = if b.terminated[i] || b.truncated[i] {
                    Op::Reset
                } else {
                    Op::Step
                };
            }
        }
        history
    }

    #[test]
    fn web_forms_batch_with_any_thread_count() {
        let flat = webform_run("webform", 1, 40);
        assert_eq!(flat, webform_run("webform", 3, 40));
        assert_eq!(flat, webform_run("webform_md", 2, 40));
        assert_ne!(flat[0], flat[39]);
    }

    #[test]
    fn web_form_buffers_of_the_wrong_kind_are_refused() {
        let options =
            EnvOptions::from_json(r#"{"config": {"max_fields": 2, "max_elements": 24}}"#).unwrap();
        let mut batch = EnvBatch::new("webform_md", &options, 2, 1).unwrap();
        let mut b = Buffers::new(2, 0);
        let err = batch
            .run(
                &[Op::Step; 2],
                Actions::Discrete(&[0, 0, 0, 0, 2, 0]),
                &[0, 0],
                &[0.5; 16],
                Outputs {
                    obs: ObsBuffers::Dict(Vec::new()),
                    reward: &mut b.reward,
                    terminated: &mut b.terminated,
                    truncated: &mut b.truncated,
                    episode_return: &mut b.ret,
                    episode_length: &mut b.len,
                    success: &mut b.success,
                },
            )
            .unwrap_err();
        assert!(
            err.1.to_string().contains("observation buffers"),
            "{}",
            err.1
        );
        let mut flat = vec![0f32; 10];
        let err = batch
            .run(
                &[Op::Step; 2],
                Actions::Discrete(&[0; 6]),
                &[0, 0],
                &[0.5; 16],
                Outputs {
                    obs: ObsBuffers::Flat(&mut flat),
                    reward: &mut b.reward,
                    terminated: &mut b.terminated,
                    truncated: &mut b.truncated,
                    episode_return: &mut b.ret,
                    episode_length: &mut b.len,
                    success: &mut b.success,
                },
            )
            .unwrap_err();
        assert!(err.1.to_string().contains("wrong kind"), "{}", err.1);
    }
}

//! [`EnvBatch`]: N independent envs stepped (or reset) in one call, spread over a thread pool.
//!
//! Pure Rust (no pyo3): the vector binding hands it slices of numpy buffers with the GIL
//! released. Each env is independent and results are written back in env order, so the outputs
//! are bit-identical for any thread count.

use rayon::prelude::*;
use teachgym_core::{EpisodeSummary, Error, Result};

use crate::registry::{build_continuous_env, BoxedEnv, EnvOptions};

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

/// The caller's output buffers, one row (or element) per env.
pub struct Outputs<'a> {
    /// `num_envs × obs_dim` observations.
    pub obs: &'a mut [f32],
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
    obs: Vec<f32>,
    reward: f64,
    terminated: bool,
    truncated: bool,
    episode: Option<EpisodeSummary>,
}

/// N envs of one kind and the threads that step them.
pub struct EnvBatch {
    envs: Vec<BoxedEnv>,
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    obs_dim: usize,
    action_dim: usize,
    task_dim: usize,
}

impl EnvBatch {
    /// `num_envs` envs `name` built from `options`, stepped by `num_threads` threads (1 steps
    /// them in the calling thread).
    ///
    /// # Errors
    /// As [`build_continuous_env`]; [`Error::InvalidConfig`] for zero envs or threads.
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
        if num_envs == 0 {
            return Err(bad("num_envs", "must be at least 1".into()));
        }
        if num_threads == 0 {
            return Err(bad("num_threads", "must be at least 1".into()));
        }
        let envs = (0..num_envs)
            .map(|_| build_continuous_env(name, options))
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
        let (obs_dim, action_dim, task_dim) = (
            first.observation_space().flat_len(),
            first.action_space().flat_len(),
            first.task_space().dim(),
        );
        Ok(Self {
            envs,
            pool,
            threads,
            obs_dim,
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
    pub fn first(&self) -> &BoxedEnv {
        &self.envs[0]
    }

    /// Env `i`, if it exists.
    pub fn get(&self, i: usize) -> Option<&BoxedEnv> {
        self.envs.get(i)
    }

    /// Applies `ops[i]` to env `i`: resets use `seeds[i]` and row `i` of `tasks`, steps use
    /// row `i` of `actions`. Outputs of skipped envs are left as they were.
    ///
    /// Actions and tasks are all checked before any env changes, so a bad value leaves every
    /// env as it was. Returns the index of the env at fault with the error.
    ///
    /// # Errors
    /// Buffer sizes that do not match, a non-finite action, a task outside the task space, or
    /// (after envs have moved) a step of an env whose episode ended.
    pub fn run(
        &mut self,
        ops: &[Op],
        actions: &[f32],
        seeds: &[u64],
        tasks: &[f64],
        out: Outputs<'_>,
    ) -> std::result::Result<(), (Option<usize>, Error)> {
        let n = self.envs.len();
        let sizes = [
            ("ops", ops.len(), n),
            ("actions", actions.len(), n * self.action_dim),
            ("seeds", seeds.len(), n),
            ("tasks", tasks.len(), n * self.task_dim),
            ("obs", out.obs.len(), n * self.obs_dim),
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
                Op::Step => {
                    let row = &actions[i * a_dim..(i + 1) * a_dim];
                    if let Some(index) = row.iter().position(|a| !a.is_finite()) {
                        let value = f64::from(row[index]);
                        return Err((Some(i), Error::NonFiniteAction { index, value }));
                    }
                }
                Op::Reset => self.envs[i]
                    .task_space()
                    .validate(&tasks[i * t_dim..(i + 1) * t_dim])
                    .map_err(|e| (Some(i), e))?,
                Op::Skip => {}
            }
        }

        let work = |(i, env): (usize, &mut BoxedEnv)| -> Result<Option<Outcome>> {
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
                    let s = env.step(&actions[i * a_dim..(i + 1) * a_dim])?;
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

        let o_dim = self.obs_dim;
        let mut first_error = None;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(None) => {}
                Ok(Some(r)) => {
                    out.obs[i * o_dim..(i + 1) * o_dim].copy_from_slice(&r.obs);
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
                obs: &mut self.obs,
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
            .run(&[Op::Reset; 5], &actions, &seeds, &tasks, b.outputs())
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
                .run(&ops, &actions, &seeds, &tasks, b.outputs())
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
            .run(&[Op::Reset; 2], &[0.0; 4], &[1, 2], &tasks, b.outputs())
            .unwrap();
        let before = b.obs.clone();
        let err = batch
            .run(
                &[Op::Step; 2],
                &[0.5, 0.5, f32::NAN, 0.0],
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
                &[0.0; 4],
                &[0, 0],
                &[0.5, 1.0, 9.0, 1.0],
                b.outputs(),
            )
            .unwrap_err();
        assert_eq!(err.0, Some(1));
        assert!(err.1.to_string().contains("target_distance"), "{}", err.1);
        let err = batch
            .run(&[Op::Step; 2], &[0.0; 3], &[0, 0], &tasks, b.outputs())
            .unwrap_err();
        assert!(err.1.to_string().contains("actions"), "{}", err.1);
        assert!(EnvBatch::new("point_mass", &EnvOptions::default(), 0, 1).is_err());
    }
}

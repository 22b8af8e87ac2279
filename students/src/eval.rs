//! TeachMyAgent's evaluation protocol: a fixed test set of tasks per environment, played with
//! the deterministic policy; the metric is the share of test tasks mastered (walkers: return
//! above 230, i.e. the env's `success` flag).
//!
//! A test set is a [`TestSet`]: the `k^d` grid over the task-space bounds (Stump Tracks' 10×10),
//! or `n` tasks drawn uniformly from a fixed seed; CSV files (a header of dimension names, one
//! task per row) save and load them. [`evaluate`] plays test task `j` with reset seed
//! `seed + j` on a pool of env copies; the result depends neither on the number of copies nor
//! on the number of threads.

use std::path::Path;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{Env, EpisodeSummary, TaskSpace};

use crate::error::{Result, StudentError};
use crate::student::Student;

/// Default number of points per dimension of a grid test set (TeachMyAgent: 10×10 for Stump
/// Tracks).
pub const DEFAULT_GRID_POINTS: usize = 10;
/// Default size of a random test set (TeachMyAgent: 100 tasks).
pub const DEFAULT_RANDOM_TEST_TASKS: usize = 100;
/// Default seed of random test sets, so every run of an env shares the same set.
pub const DEFAULT_TEST_SET_SEED: u64 = 42;

/// A fixed list of test tasks over a task space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestSet {
    names: Vec<String>,
    tasks: Vec<Vec<f64>>,
}

impl TestSet {
    /// Validates every task against `space`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for an empty set, [`StudentError::Env`] for a task of the
    /// wrong length or out of bounds (naming the task and dimension).
    pub fn new(space: &TaskSpace, tasks: Vec<Vec<f64>>) -> Result<Self> {
        if tasks.is_empty() {
            return Err(StudentError::InvalidConfig {
                field: "test_set",
                reason: "a test set needs at least one task".into(),
            });
        }
        for task in &tasks {
            space.validate(task)?;
        }
        Ok(TestSet {
            names: space.names().iter().map(|s| s.to_string()).collect(),
            tasks,
        })
    }

    /// The `points^d` grid including both bounds of every dimension, last dimension fastest.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for `points` < 2 or more than 100 000 tasks.
    pub fn grid(space: &TaskSpace, points: usize) -> Result<Self> {
        let d = space.dim();
        let total = (points as u128).checked_pow(d as u32).unwrap_or(u128::MAX);
        if points < 2 || total > 100_000 {
            return Err(StudentError::InvalidConfig {
                field: "grid_points",
                reason: format!(
                    "need ≥ 2 points per dimension and ≤ 100000 tasks, got {points}^{d}"
                ),
            });
        }
        let (low, high) = (space.low(), space.high());
        let mut tasks = Vec::with_capacity(total as usize);
        for flat in 0..total as usize {
            let mut rest = flat;
            let mut task = vec![0.0; d];
            for k in (0..d).rev() {
                let idx = rest % points;
                rest /= points;
                let frac = idx as f64 / (points - 1) as f64;
                task[k] = if idx == points - 1 {
                    high[k]
                } else {
                    low[k] + frac * (high[k] - low[k])
                };
            }
            tasks.push(task);
        }
        Self::new(space, tasks)
    }

    /// `n` tasks drawn uniformly over `space` from `seed`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for `n` = 0.
    pub fn random(space: &TaskSpace, n: usize, seed: u64) -> Result<Self> {
        let mut rng = Pcg64::seed_from_u64(seed);
        Self::new(space, (0..n).map(|_| space.sample(&mut rng)).collect())
    }

    /// The protocol's default for `space`: the 10×10 grid for 2-dimensional spaces (Stump
    /// Tracks), otherwise 100 tasks from [`DEFAULT_TEST_SET_SEED`].
    ///
    /// # Errors
    /// As [`TestSet::grid`] and [`TestSet::random`].
    pub fn default_for(space: &TaskSpace) -> Result<Self> {
        if space.dim() == 2 {
            Self::grid(space, DEFAULT_GRID_POINTS)
        } else {
            Self::random(space, DEFAULT_RANDOM_TEST_TASKS, DEFAULT_TEST_SET_SEED)
        }
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Vec<f64>] {
        &self.tasks
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Always false (a test set has at least one task).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// CSV text: a header of dimension names, then one task per row (shortest round-trip
    /// decimal form, so loading gives the same bits).
    pub fn to_csv(&self) -> String {
        let mut out = self.names.join(",");
        out.push('\n');
        for task in &self.tasks {
            let row: Vec<String> = task.iter().map(|v| format!("{v:?}")).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// Parses CSV text written by [`TestSet::to_csv`] (or by hand) and validates it against
    /// `space`; the header must name the space's dimensions in order.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] naming the line of a malformed file.
    pub fn from_csv(space: &TaskSpace, text: &str) -> Result<Self> {
        let bad = |reason: String| StudentError::InvalidConfig {
            field: "test_set",
            reason,
        };
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines
            .next()
            .ok_or_else(|| bad("the CSV file is empty".into()))?
            .split(',')
            .map(str::trim)
            .collect();
        if header != space.names() {
            return Err(bad(format!(
                "the CSV header {header:?} does not name the task dimensions {:?}",
                space.names()
            )));
        }
        let mut tasks = Vec::new();
        for (i, line) in lines.enumerate() {
            let task = line
                .split(',')
                .map(|v| v.trim().parse::<f64>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("row {}: {e} in {line:?}", i + 1)))?;
            tasks.push(task);
        }
        Self::new(space, tasks)
    }

    /// Writes [`TestSet::to_csv`] to `path`.
    ///
    /// # Errors
    /// [`StudentError::Io`] naming the path.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_csv()).map_err(|e| StudentError::io(path, e))
    }

    /// Reads a CSV test set from `path`.
    ///
    /// # Errors
    /// [`StudentError::Io`] naming the path, or the errors of [`TestSet::from_csv`].
    pub fn load(space: &TaskSpace, path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| StudentError::io(path, e))?;
        Self::from_csv(space, &text)
    }
}

/// Result of evaluating a policy on a test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Env steps of training when it was made.
    pub global_step: u64,
    /// Percentage of test tasks whose episode succeeded, in [0, 100].
    pub mastered_percent: f64,
    /// Mean episode return over the test tasks.
    pub mean_return: f64,
    /// Return per test task, in test-set order.
    pub returns: Vec<f64>,
}

impl Evaluation {
    /// Summarises per-task episode summaries.
    pub fn from_summaries(global_step: u64, summaries: &[EpisodeSummary]) -> Self {
        let n = summaries.len().max(1) as f64;
        let mastered = summaries.iter().filter(|s| s.success).count() as f64;
        let returns: Vec<f64> = summaries.iter().map(|s| s.episode_return).collect();
        Evaluation {
            global_step,
            mastered_percent: 100.0 * mastered / n,
            mean_return: returns.iter().sum::<f64>() / n,
            returns,
        }
    }
}

/// Plays one greedy episode per test task: task `j` with reset seed `seed + j`, spread over the
/// env copies in `envs` (stepped in parallel on `threads` workers, 0 = one per core). Returns
/// the summaries in test-set order; they depend on neither `envs.len()` nor `threads`.
///
/// # Errors
/// [`StudentError::InvalidConfig`] for no env, and env or student errors.
pub fn evaluate<E, S>(
    student: &mut S,
    envs: &mut [E],
    test_set: &TestSet,
    seed: u64,
    threads: usize,
) -> Result<Vec<EpisodeSummary>>
where
    E: Env + Send,
    E::Obs: Send,
    S: Student<E>,
{
    use rayon::prelude::*;
    if envs.is_empty() {
        return Err(StudentError::InvalidConfig {
            field: "eval_envs",
            reason: "evaluation needs at least one env".into(),
        });
    }
    let (pool, _) = crate::vec_env::worker_pool(threads, envs.len())?;
    let mut summaries = Vec::with_capacity(test_set.len());
    for (chunk_index, chunk) in test_set.tasks().chunks(envs.len()).enumerate() {
        let first = chunk_index * envs.len();
        let active_envs = &mut envs[..chunk.len()];
        let resets: Vec<Result<E::Obs>> = pool.install(|| {
            active_envs
                .par_iter_mut()
                .zip(chunk.par_iter())
                .enumerate()
                .map(|(j, (env, task))| {
                    Ok(env
                        .reset(Some(seed.wrapping_add((first + j) as u64)), task)?
                        .0)
                })
                .collect()
        });
        let mut obs: Vec<Option<E::Obs>> = resets
            .into_iter()
            .map(|r| r.map(Some))
            .collect::<Result<_>>()?;
        let mut done: Vec<Option<EpisodeSummary>> = vec![None; chunk.len()];
        while done.iter().any(Option::is_none) {
            let mut actions: Vec<Option<S::Action>> = Vec::with_capacity(chunk.len());
            for (o, env) in obs.iter().zip(active_envs.iter()) {
                actions.push(match o {
                    Some(o) => Some(student.act_greedy(o, env.action_mask().as_deref())?),
                    None => None,
                });
            }
            let steps: Vec<Option<Result<teachgym_core::Step<E::Obs>>>> = pool.install(|| {
                active_envs
                    .par_iter_mut()
                    .zip(actions.par_iter())
                    .map(|(env, action)| {
                        action
                            .as_ref()
                            .map(|a| env.step(std::borrow::Borrow::borrow(a)).map_err(Into::into))
                    })
                    .collect()
            });
            for (j, step) in steps.into_iter().enumerate() {
                let Some(step) = step else { continue };
                let step = step?;
                if let Some(summary) = step.info.episode {
                    done[j] = Some(summary);
                    obs[j] = None;
                } else {
                    obs[j] = Some(step.obs);
                }
            }
        }
        summaries.extend(done.into_iter().flatten());
    }
    Ok(summaries)
}

/// [`evaluate`] on the one env `env` with `tasks` as the test set, on the calling thread: the
/// body of the students' single-env `evaluate` methods.
pub(crate) fn evaluate_single_env<'a, E, S>(
    student: &mut S,
    env: &'a mut E,
    tasks: &[Vec<f64>],
    seed: u64,
) -> Result<Vec<EpisodeSummary>>
where
    E: Env + Send,
    E::Obs: Send,
    S: Student<crate::trainer::BorrowedEnv<'a, E>>,
{
    let test_set = TestSet::new(env.task_space(), tasks.to_vec())?;
    evaluate(
        student,
        &mut [crate::trainer::BorrowedEnv(env)],
        &test_set,
        seed,
        1,
    )
}

//! Lock-step vector environments with curriculum resets: N copies of an env stepped together on
//! a worker pool, each reset on the next task of the vector env's own [`TaskSource`] (a teacher,
//! a fixed list of tasks, a sampling function) whenever its episode ends.
//!
//! Determinism does not depend on the thread count: the pool only runs `step`/`reset` of
//! disjoint envs; everything order-dependent (reporting outcomes to the teacher, drawing the next
//! tasks, collecting finished episodes) happens on the calling thread in env-index order; and
//! every episode is reset with its own seed derived from `(seed, env index, episode index)`
//! ([`episode_seed`]) instead of an env's running RNG.
//!
//! The derived seeds also make the vector env checkpointable although a physics state is not
//! serialisable: [`VecEnv::state`] records, per env, the running episode's seed, task and the
//! actions taken so far; [`VecEnv::restore`] replays them and lands on the same state bit for bit.

use std::borrow::Borrow;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{Env, EpisodeSummary};
use teachgym_teachers::{Teacher, ValueEstimate};

use crate::error::{Result, StudentError};

/// Where the tasks of a vector env's episodes come from, and where their outcomes go: a teacher
/// ([`TeacherTasks`]), a fixed list ([`FixedTasks`]) or a sampling function ([`SampledTasks`]).
/// The vector env owns its source, so a student drives the env without ever seeing a teacher.
pub trait TaskSource: Send {
    /// The task of the next episode.
    ///
    /// # Errors
    /// Sources that can run out or fail report it here.
    fn next_task(&mut self) -> Result<Vec<f64>>;

    /// An episode on `task` ended with `summary`.
    ///
    /// # Errors
    /// A teacher refusing the outcome (e.g. a non-finite return).
    fn report(&mut self, task: &[f64], summary: &EpisodeSummary) -> Result<()>;

    /// The source's state as JSON text, for checkpoints (a teacher's `save_state`).
    ///
    /// # Errors
    /// A state that cannot be serialised.
    fn save_state(&self) -> Result<String>;

    /// Restores a state written by [`TaskSource::save_state`].
    ///
    /// # Errors
    /// [`StudentError::CorruptCheckpoint`] or the teacher's error for a state that does not fit.
    fn load_state(&mut self, state: &str) -> Result<()>;

    /// The teacher behind the source, if it is one.
    fn teacher(&self) -> Option<&dyn Teacher> {
        None
    }

    /// The teacher behind the source, mutably (to hand it evaluations), if any.
    fn teacher_mut(&mut self) -> Option<&mut dyn Teacher> {
        None
    }

    /// `Some(γ)` when the source wants value estimates ([`Teacher::value_estimate_discount`]).
    fn value_estimate_discount(&self) -> Option<f64> {
        None
    }

    /// The student's estimate for a reported episode on `task`
    /// ([`Teacher::record_value_estimate`]).
    ///
    /// # Errors
    /// The teacher's refusal.
    fn record_value_estimate(&mut self, task: &[f64], estimate: &ValueEstimate) -> Result<()> {
        let _ = (task, estimate);
        Ok(())
    }
}

/// A teacher as a task source: it chooses every task and learns from every outcome.
pub struct TeacherTasks(pub Box<dyn Teacher>);

impl TaskSource for TeacherTasks {
    fn next_task(&mut self) -> Result<Vec<f64>> {
        Ok(self.0.sample_task())
    }

    fn report(&mut self, task: &[f64], summary: &EpisodeSummary) -> Result<()> {
        Ok(self.0.update(task, summary)?)
    }

    fn save_state(&self) -> Result<String> {
        String::from_utf8(self.0.save_state()?).map_err(|e| StudentError::CorruptCheckpoint {
            reason: format!("teacher state is not UTF-8 JSON: {e}"),
        })
    }

    fn load_state(&mut self, state: &str) -> Result<()> {
        Ok(self.0.load_state(state.as_bytes())?)
    }

    fn teacher(&self) -> Option<&dyn Teacher> {
        Some(&*self.0)
    }

    fn teacher_mut(&mut self) -> Option<&mut dyn Teacher> {
        Some(&mut *self.0)
    }

    fn value_estimate_discount(&self) -> Option<f64> {
        self.0.value_estimate_discount()
    }

    fn record_value_estimate(&mut self, task: &[f64], estimate: &ValueEstimate) -> Result<()> {
        Ok(self.0.record_value_estimate(task, estimate)?)
    }
}

/// Hands out a fixed list of tasks in order, cycling, and ignores outcomes.
#[derive(Debug, Clone)]
pub struct FixedTasks {
    tasks: Vec<Vec<f64>>,
    next: usize,
}

impl FixedTasks {
    /// A source cycling through `tasks`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for an empty list.
    pub fn new(tasks: Vec<Vec<f64>>) -> Result<Self> {
        if tasks.is_empty() {
            return Err(StudentError::InvalidConfig {
                field: "tasks",
                reason: "a fixed task source needs at least one task".into(),
            });
        }
        Ok(FixedTasks { tasks, next: 0 })
    }
}

impl TaskSource for FixedTasks {
    fn next_task(&mut self) -> Result<Vec<f64>> {
        let task = self.tasks[self.next % self.tasks.len()].clone();
        self.next += 1;
        Ok(task)
    }

    fn report(&mut self, _task: &[f64], _summary: &EpisodeSummary) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<String> {
        Ok(self.next.to_string())
    }

    fn load_state(&mut self, state: &str) -> Result<()> {
        self.next = state
            .trim()
            .parse()
            .map_err(|e| StudentError::CorruptCheckpoint {
                reason: format!("fixed-task position `{state}`: {e}"),
            })?;
        Ok(())
    }
}

/// Draws every task with a function of a seeded random stream and ignores outcomes, e.g. a
/// uniform draw over the task space.
pub struct SampledTasks<F> {
    rng: Pcg64,
    sample: F,
}

impl<F: FnMut(&mut Pcg64) -> Vec<f64> + Send> SampledTasks<F> {
    /// Tasks drawn by `sample` from a stream seeded with `seed`.
    pub fn new(seed: u64, sample: F) -> Self {
        SampledTasks {
            rng: Pcg64::seed_from_u64(seed),
            sample,
        }
    }
}

impl<F: FnMut(&mut Pcg64) -> Vec<f64> + Send> TaskSource for SampledTasks<F> {
    fn next_task(&mut self) -> Result<Vec<f64>> {
        Ok((self.sample)(&mut self.rng))
    }

    fn report(&mut self, _task: &[f64], _summary: &EpisodeSummary) -> Result<()> {
        Ok(())
    }

    fn save_state(&self) -> Result<String> {
        serde_json::to_string(&self.rng).map_err(|e| StudentError::CorruptCheckpoint {
            reason: format!("task stream: {e}"),
        })
    }

    fn load_state(&mut self, state: &str) -> Result<()> {
        self.rng = serde_json::from_str(state).map_err(|e| StudentError::CorruptCheckpoint {
            reason: format!("task stream: {e}"),
        })?;
        Ok(())
    }
}

/// The reset seed of episode `episode` of env `env_index` in a vector env seeded with `seed`:
/// SplitMix64 finalisers over the three numbers, so neighbouring indices give unrelated seeds.
pub fn episode_seed(seed: u64, env_index: usize, episode: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    mix(mix(mix(seed) ^ env_index as u64) ^ episode)
}

/// A pool of `threads` workers (0 = one per core), never more than `jobs`; returns it with the
/// thread count asked for.
pub(crate) fn worker_pool(threads: usize, jobs: usize) -> Result<(rayon::ThreadPool, usize)> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.min(jobs.max(1)))
        .thread_name(|i| format!("teachgym-worker-{i}"))
        .build()
        .map_err(|e| StudentError::InvalidConfig {
            field: "threads",
            reason: format!("cannot start {threads} worker threads: {e}"),
        })?;
    Ok((pool, threads))
}

/// A finished episode of a vector env: where and when it was played, on which task, and the
/// env's [`EpisodeSummary`] of it (return, length, success), the record the teacher learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Index of the env copy that played it.
    pub env_index: usize,
    /// Index of the episode among that env's episodes (0-based).
    pub episode_index: u64,
    /// The task it was played on.
    pub task: Vec<f64>,
    /// Its return, length and success, as the env reported them.
    #[serde(flatten)]
    pub summary: EpisodeSummary,
    /// Env steps taken by the whole vector env when it ended (counting every copy).
    pub global_step: u64,
}

/// What happened to one env copy in a [`VecEnv::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct VecStep<O> {
    /// Reward of the step.
    pub reward: f64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut by the step limit.
    pub truncated: bool,
    /// The last observation of the episode that just ended (for bootstrapping on truncation);
    /// `None` while the episode runs. The env's current observation (after the autoreset) is in
    /// [`VecEnv::observations`].
    pub final_obs: Option<O>,
    /// The env's action mask at `final_obs` (see [`Env::action_mask`]).
    pub final_mask: Option<Vec<bool>>,
}

/// Checkpointable state of a [`VecEnv`]: enough to rebuild every env copy exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VecEnvState<A> {
    /// Seed the vector env was built with.
    pub seed: u64,
    /// Env steps taken so far, over all copies.
    pub global_step: u64,
    /// Per env copy: the running episode.
    pub episodes: Vec<RunningEpisode<A>>,
}

/// The running episode of one env copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningEpisode<A> {
    /// Index of the episode among this copy's episodes.
    pub episode_index: u64,
    /// Its task.
    pub task: Vec<f64>,
    /// Actions taken since its reset.
    pub actions: Vec<A>,
}

/// N copies of an env stepped in lock-step; `A` is the owned action type (`Vec<f32>` for
/// continuous control, `usize` for a discrete choice).
pub struct VecEnv<E: Env, A> {
    envs: Vec<E>,
    obs: Vec<E::Obs>,
    running: Vec<RunningEpisode<A>>,
    seed: u64,
    global_step: u64,
    finished: Vec<EpisodeRecord>,
    pool: rayon::ThreadPool,
    threads: usize,
    tasks: Box<dyn TaskSource>,
    /// What a source that asks for value estimates needs; `None` for every other source.
    values: Option<ValueTracking<E::Obs>>,
}

/// Per copy, the running episode's initial observation and discounted return, and the finished
/// episodes whose value estimates the source still waits for. Rebuilt by replay on restore, and
/// empty between learning iterations (the loop answers after each), so never checkpointed.
struct ValueTracking<O> {
    gamma: f64,
    initial_obs: Vec<Option<O>>,
    /// `(Σ γᵗ rₜ so far, γᵗ of the next step)` per copy.
    discounted: Vec<(f64, f64)>,
    pending: Vec<ValueRequest<O>>,
}

/// A finished episode whose value estimate the task source waits for: answer it with
/// [`VecEnv::record_value_estimate`] after asking the student about `initial_obs`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRequest<O> {
    /// The episode's task.
    pub task: Vec<f64>,
    /// Its first observation.
    pub initial_obs: O,
    /// Its return discounted by the source's γ.
    pub discounted_return: f64,
}

impl<E, A> VecEnv<E, A>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    A: Borrow<E::Action> + Clone + Send + Sync,
{
    /// Wraps `envs` (at least one), resets each on a task of `tasks`, which it keeps for every
    /// later episode, and returns the vector env. `threads` = 0 uses one worker per core;
    /// results do not depend on it.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for no env, [`StudentError::Env`] if an env refuses a
    /// task.
    pub fn new(
        envs: Vec<E>,
        seed: u64,
        threads: usize,
        tasks: Box<dyn TaskSource>,
    ) -> Result<Self> {
        let mut vec_env = Self::without_reset(envs, seed, threads, tasks)?;
        for i in 0..vec_env.len() {
            let task = vec_env.tasks.next_task()?;
            vec_env.running[i].task = task;
        }
        vec_env.reset_running()?;
        Ok(vec_env)
    }

    fn without_reset(
        envs: Vec<E>,
        seed: u64,
        threads: usize,
        tasks: Box<dyn TaskSource>,
    ) -> Result<Self> {
        if envs.is_empty() {
            return Err(StudentError::InvalidConfig {
                field: "num_envs",
                reason: "a vector env needs at least one env".into(),
            });
        }
        let (pool, threads) = worker_pool(threads, envs.len())?;
        let running = (0..envs.len())
            .map(|_| RunningEpisode {
                episode_index: 0,
                task: Vec::new(),
                actions: Vec::new(),
            })
            .collect();
        let values = tasks.value_estimate_discount().map(|gamma| ValueTracking {
            gamma,
            initial_obs: vec![None; envs.len()],
            discounted: vec![(0.0, 1.0); envs.len()],
            pending: Vec::new(),
        });
        Ok(VecEnv {
            envs,
            obs: Vec::new(),
            running,
            seed,
            global_step: 0,
            finished: Vec::new(),
            pool,
            threads,
            tasks,
            values,
        })
    }

    /// Resets every env on its running episode's seed and task (in parallel).
    fn reset_running(&mut self) -> Result<()> {
        let all: Vec<usize> = (0..self.envs.len()).collect();
        self.obs = self.reset_copies(&all)?;
        for i in all {
            self.start_value_tracking(i);
        }
        Ok(())
    }

    /// Records copy `i`'s new episode start for a source that wants value estimates.
    fn start_value_tracking(&mut self, i: usize) {
        if let Some(values) = &mut self.values {
            values.initial_obs[i] = Some(self.obs[i].clone());
            values.discounted[i] = (0.0, 1.0);
        }
    }

    /// Adds a step's reward to copy `i`'s discounted return.
    fn track_reward(&mut self, i: usize, reward: f64) {
        if let Some(values) = &mut self.values {
            let (sum, discount) = &mut values.discounted[i];
            *sum += *discount * reward;
            *discount *= values.gamma;
        }
    }

    /// The finished episodes whose value estimates the task source waits for, in the order
    /// they were reported (empty unless it asks: [`TaskSource::value_estimate_discount`]).
    /// Answer each with [`VecEnv::record_value_estimate`]; the [`crate::Trainer`] does after
    /// every learning iteration.
    pub fn take_value_requests(&mut self) -> Vec<ValueRequest<E::Obs>> {
        self.values
            .as_mut()
            .map(|v| std::mem::take(&mut v.pending))
            .unwrap_or_default()
    }

    /// Hands the student's estimate for a [`ValueRequest`] to the task source.
    ///
    /// # Errors
    /// The source's refusal (a non-finite estimate, a task without a pending episode).
    pub fn record_value_estimate(&mut self, task: &[f64], estimate: &ValueEstimate) -> Result<()> {
        self.tasks.record_value_estimate(task, estimate)
    }

    /// Number of env copies.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Always false: a vector env has at least one copy.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// Worker threads used.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Env steps taken so far, over all copies.
    pub fn global_step(&self) -> u64 {
        self.global_step
    }

    /// The first env copy (for its spaces).
    pub fn first_env(&self) -> &E {
        &self.envs[0]
    }

    /// Current observation of every copy.
    pub fn observations(&self) -> &[E::Obs] {
        &self.obs
    }

    /// Action masks of every copy's current state, concatenated (`len() × actions`), or `None`
    /// when no copy restricts its actions (see [`Env::action_mask`]). A copy without a mask
    /// contributes all-`true` rows.
    pub fn action_masks(&self) -> Option<Vec<bool>> {
        let masks: Vec<Option<Vec<bool>>> = self.envs.iter().map(Env::action_mask).collect();
        let width = masks.iter().flatten().map(Vec::len).next()?;
        Some(
            masks
                .into_iter()
                .flat_map(|m| m.unwrap_or_else(|| vec![true; width]))
                .collect(),
        )
    }

    /// Where the episodes' tasks come from.
    pub fn task_source(&self) -> &dyn TaskSource {
        &*self.tasks
    }

    /// The source of the tasks, mutably.
    pub fn task_source_mut(&mut self) -> &mut dyn TaskSource {
        &mut *self.tasks
    }

    /// Current task of every copy.
    pub fn tasks(&self) -> impl Iterator<Item = &[f64]> {
        self.running.iter().map(|r| r.task.as_slice())
    }

    /// Steps taken so far in each copy's running episode.
    pub fn episode_lengths(&self) -> Vec<usize> {
        self.running.iter().map(|r| r.actions.len()).collect()
    }

    /// Takes the episodes finished since the last call, in the order they ended (env index
    /// order within a step).
    pub fn drain_finished(&mut self) -> Vec<EpisodeRecord> {
        std::mem::take(&mut self.finished)
    }

    /// Steps every copy with its action (in parallel). A copy whose episode ends reports the
    /// outcome to the task source, draws its next task from it and is reset at once (its
    /// [`VecStep::final_obs`] keeps the last observation).
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for a wrong number of actions, [`StudentError::Env`] if an
    /// env refuses an action or a task, or a task-source error. The vector env must not be used
    /// after an error.
    pub fn step(&mut self, actions: &[A]) -> Result<Vec<VecStep<E::Obs>>> {
        if actions.len() != self.envs.len() {
            return Err(StudentError::ShapeMismatch {
                what: "vector env actions",
                expected: format!("{} actions", self.envs.len()),
                got: format!("{} actions", actions.len()),
            });
        }
        type Stepped<O> = Result<(teachgym_core::Step<O>, Option<Vec<bool>>)>;
        let steps: Vec<Stepped<E::Obs>> = self.pool.install(|| {
            use rayon::prelude::*;
            self.envs
                .par_iter_mut()
                .zip(actions.par_iter())
                .map(|(env, action)| {
                    let step = env.step(action.borrow())?;
                    // The mask of a final state is gone after the reset: keep it now.
                    let mask = if step.terminated || step.truncated {
                        env.action_mask()
                    } else {
                        None
                    };
                    Ok((step, mask))
                })
                .collect()
        });
        let n = self.envs.len() as u64;
        self.global_step += n;

        // Sequential, in env order: bookkeeping, teacher updates, next tasks.
        let mut transitions = Vec::with_capacity(steps.len());
        let mut to_reset = Vec::new();
        for (i, (stepped, action)) in steps.into_iter().zip(actions).enumerate() {
            let (step, final_mask) = stepped?;
            self.track_reward(i, step.reward);
            let running = &mut self.running[i];
            running.actions.push(action.clone());
            let done = step.terminated || step.truncated;
            let final_obs = if done {
                let summary = step.info.episode.ok_or_else(|| StudentError::EnvContract {
                    reason: "the env ended an episode without an episode summary in its info"
                        .into(),
                })?;
                self.tasks.report(&running.task, &summary)?;
                if let Some(values) = &mut self.values {
                    let initial_obs =
                        values.initial_obs[i]
                            .take()
                            .ok_or_else(|| StudentError::EnvContract {
                                reason: "an episode ended that never started".into(),
                            })?;
                    values.pending.push(ValueRequest {
                        task: running.task.clone(),
                        initial_obs,
                        discounted_return: values.discounted[i].0,
                    });
                }
                self.finished.push(EpisodeRecord {
                    env_index: i,
                    episode_index: running.episode_index,
                    task: std::mem::take(&mut running.task),
                    summary,
                    global_step: self.global_step,
                });
                running.episode_index += 1;
                running.actions.clear();
                running.task = self.tasks.next_task()?;
                to_reset.push(i);
                Some(step.obs)
            } else {
                self.obs[i] = step.obs;
                None
            };
            transitions.push(VecStep {
                reward: step.reward,
                terminated: step.terminated,
                truncated: step.truncated,
                final_obs,
                final_mask,
            });
        }
        if !to_reset.is_empty() {
            self.reset_some(&to_reset)?;
        }
        Ok(transitions)
    }

    /// Resets the copies in `indices` (ascending) on their running episodes, in parallel.
    fn reset_some(&mut self, indices: &[usize]) -> Result<()> {
        let observations = self.reset_copies(indices)?;
        for (&i, obs) in indices.iter().zip(observations) {
            self.obs[i] = obs;
            self.start_value_tracking(i);
        }
        Ok(())
    }

    /// Resets the copies in `indices` (ascending) on their running episodes' seeds and tasks,
    /// in parallel; returns their first observations in the order of `indices`.
    fn reset_copies(&mut self, indices: &[usize]) -> Result<Vec<E::Obs>> {
        let seed = self.seed;
        let running = &self.running;
        let mut selected: Vec<(usize, &mut E)> = self
            .envs
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| indices.binary_search(i).is_ok())
            .collect();
        let results: Vec<Result<E::Obs>> = self.pool.install(|| {
            use rayon::prelude::*;
            selected
                .par_iter_mut()
                .map(|(i, env)| {
                    let r = &running[*i];
                    let s = episode_seed(seed, *i, r.episode_index);
                    Ok(env.reset(Some(s), &r.task)?.0)
                })
                .collect()
        });
        results.into_iter().collect()
    }

    /// The checkpointable state (see the module docs).
    pub fn state(&self) -> VecEnvState<A> {
        VecEnvState {
            seed: self.seed,
            global_step: self.global_step,
            episodes: self.running.clone(),
        }
    }

    /// Rebuilds a vector env in `state` from fresh env copies by replaying each running episode;
    /// `tasks` (already in its saved state) supplies the later episodes' tasks.
    ///
    /// # Errors
    /// [`StudentError::CorruptCheckpoint`] if the number of copies differs or a replayed episode
    /// ends before its recorded actions do (the env or its config changed), and the errors of
    /// [`VecEnv::new`].
    pub fn restore(
        envs: Vec<E>,
        threads: usize,
        state: VecEnvState<A>,
        tasks: Box<dyn TaskSource>,
    ) -> Result<Self> {
        if envs.len() != state.episodes.len() {
            return Err(StudentError::CorruptCheckpoint {
                reason: format!(
                    "the checkpoint holds {} env copies but {} were given",
                    state.episodes.len(),
                    envs.len()
                ),
            });
        }
        let mut vec_env = Self::without_reset(envs, state.seed, threads, tasks)?;
        vec_env.running = state.episodes;
        vec_env.global_step = state.global_step;
        vec_env.reset_running()?;
        let running = &vec_env.running;
        type Replayed<O> = Result<(Option<O>, Vec<f64>)>;
        let replayed: Vec<Replayed<E::Obs>> = vec_env.pool.install(|| {
            use rayon::prelude::*;
            vec_env
                .envs
                .par_iter_mut()
                .enumerate()
                .map(|(i, env)| {
                    let mut last = None;
                    let mut rewards = Vec::with_capacity(running[i].actions.len());
                    let actions = &running[i].actions;
                    for (t, action) in actions.iter().enumerate() {
                        let step = env.step(action.borrow())?;
                        rewards.push(step.reward);
                        if step.terminated || step.truncated {
                            return Err(StudentError::CorruptCheckpoint {
                                reason: format!(
                                    "replaying env {i}: its episode ended after {} of {} \
                                     recorded actions (another env config?)",
                                    t + 1,
                                    actions.len()
                                ),
                            });
                        }
                        last = Some(step.obs);
                    }
                    Ok((last, rewards))
                })
                .collect()
        });
        for (i, replay) in replayed.into_iter().enumerate() {
            let (obs, rewards) = replay?;
            if let Some(obs) = obs {
                vec_env.obs[i] = obs;
            }
            for reward in rewards {
                vec_env.track_reward(i, reward);
            }
        }
        Ok(vec_env)
    }
}

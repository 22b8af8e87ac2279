//! The teacher-driven training loop. A [`Trainer`] owns a student, a teacher, a vector env and
//! a pool of evaluation envs; each [`Trainer::run_iteration`] lets the student collect
//! experience and learn, while every finished episode goes to the teacher and its env restarts
//! on the teacher's next task (the teacher never sees an env or a network). Evaluations on the
//! fixed test set happen every `eval_every` env steps and at the end.
//!
//! After each evaluation the teacher gets the student's results
//! ([`Teacher::record_evaluation`]: the returns, and scores in `[0, 1]`, see
//! [`TrainerConfig::score_range`]), and when it asks for a fresh student
//! ([`Teacher::wants_student_restart`], AGAIN's "trying again") the trainer makes one with its
//! student factory ([`Trainer::with_student_factory`]).
//!
//! The loop does no I/O: the caller (the `teachgym train` command, a test, a notebook) writes
//! the reported episodes and evaluations where it likes, and saves [`Trainer::checkpoint`]s; a
//! trainer rebuilt with [`Trainer::resume`] continues exactly as an uninterrupted one.

use serde::{Deserialize, Serialize};
use teachgym_core::Env;
pub use teachgym_envs::batch::MAX_NUM_ENVS;
use teachgym_teachers::again::KcVector;
use teachgym_teachers::{EvaluationResult, Teacher, ValueEstimate};

use crate::error::{Result, StudentError};
use crate::eval::{evaluate, Evaluation, TestSet};
use crate::student::{Student, TrainClock};
use crate::vec_env::{EpisodeRecord, SampledTasks, TeacherTasks, VecEnv, VecEnvState};

/// Default training budget: 20 million env steps (TeachMyAgent's budget per run).
pub const DEFAULT_TOTAL_STEPS: u64 = 20_000_000;
/// Default number of env copies stepped in lock-step: 8.
pub const DEFAULT_NUM_ENVS: usize = 8;
/// Default evaluation period: every 500 000 env steps (TeachMyAgent).
pub const DEFAULT_EVAL_EVERY: u64 = 500_000;
/// Default seed offset of the evaluation episodes: test task `j` is reset with seed
/// `eval_seed + j`, the same in every run so that runs are compared on identical episodes.
pub const DEFAULT_EVAL_SEED: u64 = 1_000_000;
/// Version of [`TrainerCheckpoint`].
pub const TRAINER_CHECKPOINT_VERSION: u32 = 1;

/// Settings of the loop itself (the student's and teacher's hyper-parameters live in their own
/// configs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainerConfig {
    /// Training budget in env steps (over all copies). Default: [`DEFAULT_TOTAL_STEPS`].
    pub total_steps: u64,
    /// Env copies stepped in lock-step, `1..=MAX_NUM_ENVS`. Default: [`DEFAULT_NUM_ENVS`].
    pub num_envs: usize,
    /// Worker threads for env steps and evaluation; 0 = one per core. Results never depend
    /// on it. Default: 0.
    pub threads: usize,
    /// Evaluate every this many env steps. Default: [`DEFAULT_EVAL_EVERY`].
    pub eval_every: u64,
    /// Also evaluate the untrained student (step 0). Default: true.
    pub eval_at_start: bool,
    /// Reset seed of the first test task. Default: [`DEFAULT_EVAL_SEED`].
    pub eval_seed: u64,
    /// The returns mapped linearly to the `[0, 1]` scores handed to the teacher after each
    /// evaluation ([`EvaluationResult::scores`], AGAIN's knowledge-component vector), clipped;
    /// the reference maps walker returns from `[-150, 350]`. `None`: a test task scores 1 if
    /// its episode succeeded (the env's mastery threshold), 0 otherwise — coarser, but right
    /// for any env. Default: `None`.
    pub score_range: Option<[f64; 2]>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            total_steps: DEFAULT_TOTAL_STEPS,
            num_envs: DEFAULT_NUM_ENVS,
            threads: 0,
            eval_every: DEFAULT_EVAL_EVERY,
            eval_at_start: true,
            eval_seed: DEFAULT_EVAL_SEED,
            score_range: None,
        }
    }
}

impl TrainerConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: &str| {
            Err(StudentError::InvalidConfig {
                field,
                reason: reason.into(),
            })
        };
        if self.total_steps == 0 {
            return bad("total_steps", "must be ≥ 1");
        }
        if !(1..=MAX_NUM_ENVS).contains(&self.num_envs) {
            return Err(StudentError::InvalidConfig {
                field: "num_envs",
                reason: format!("must be in 1..={MAX_NUM_ENVS}, got {}", self.num_envs),
            });
        }
        if self.eval_every == 0 {
            return bad("eval_every", "must be ≥ 1");
        }
        if let Some([low, high]) = self.score_range {
            if !(low.is_finite() && high.is_finite() && low < high) {
                return Err(StudentError::InvalidConfig {
                    field: "score_range",
                    reason: format!("need finite low < high, got [{low}, {high}]"),
                });
            }
        }
        Ok(())
    }
}

/// What one [`Trainer::run_iteration`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationReport {
    /// Env steps taken so far.
    pub global_step: u64,
    /// Training episodes that ended during the iteration.
    pub episodes: Vec<EpisodeRecord>,
    /// Evaluations made during the iteration (at most two: a periodic one and the final one).
    pub evaluations: Vec<Evaluation>,
}

/// Everything needed to continue a run exactly (the student's and teacher's own serialised
/// states, the env copies' running episodes, the evaluation schedule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerCheckpoint<A> {
    /// [`TRAINER_CHECKPOINT_VERSION`].
    pub format_version: u32,
    /// The student's [`Student::to_json`].
    pub student: String,
    /// The teacher's `save_state` (JSON text).
    pub teacher: String,
    /// The vector env.
    pub envs: VecEnvState<A>,
    /// Env step of the next periodic evaluation.
    pub next_eval: u64,
    /// Env step of the last evaluation made.
    pub last_eval_step: Option<u64>,
    /// Evaluations made after training began (the epoch of the last one).
    #[serde(default)]
    pub epoch: u64,
    /// Training episodes finished so far.
    #[serde(default)]
    pub episodes: u64,
    /// Fresh students made at the teacher's request.
    #[serde(default)]
    pub student_restarts: u64,
    /// The scores of every evaluation after training began.
    #[serde(default)]
    pub kc_vectors: Vec<KcVector>,
}

/// Makes a fresh student when the teacher asks; gets the number of restarts made before (so a
/// factory can seed each one differently and a resumed run makes the same one).
pub type StudentFactory<S> = Box<dyn FnMut(u64) -> Result<S> + Send>;

/// The teacher-driven training loop (see the module docs).
pub struct Trainer<E: Env, S: Student<E>> {
    config: TrainerConfig,
    student: S,
    /// The training copies; they own the teacher (their task source).
    envs: VecEnv<E, S::Action>,
    eval_envs: Vec<E>,
    test_set: TestSet,
    next_eval: u64,
    last_eval_step: Option<u64>,
    epoch: u64,
    episodes: u64,
    student_restarts: u64,
    kc_vectors: Vec<KcVector>,
    student_factory: Option<StudentFactory<S>>,
}

impl<E, S> Trainer<E, S>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<E>,
{
    /// A fresh run: `config.num_envs` training copies and as many evaluation copies from
    /// `make_env`, episodes seeded from `seed`.
    ///
    /// # Errors
    /// A bad config, a student that does not fit the env, a teacher over another task space, or
    /// env errors.
    pub fn new(
        config: TrainerConfig,
        seed: u64,
        student: S,
        teacher: Box<dyn Teacher>,
        make_env: &mut dyn FnMut() -> Result<E>,
        test_set: TestSet,
    ) -> Result<Self> {
        config.validate()?;
        let (envs, eval_envs) = Self::make_envs(&config, &student, &*teacher, make_env)?;
        let envs = VecEnv::new(envs, seed, config.threads, Box::new(TeacherTasks(teacher)))?;
        let next_eval = if config.eval_at_start {
            0
        } else {
            config.eval_every
        };
        Ok(Trainer {
            config,
            student,
            envs,
            eval_envs,
            test_set,
            next_eval,
            last_eval_step: None,
            epoch: 0,
            episodes: 0,
            student_restarts: 0,
            kc_vectors: Vec::new(),
            student_factory: None,
        })
    }

    /// Gives the trainer a way to make a fresh student when the teacher asks for one
    /// ([`Teacher::wants_student_restart`]); without it such a request is an error
    /// ([`StudentError::NoStudentFactory`]).
    #[must_use]
    pub fn with_student_factory(mut self, factory: StudentFactory<S>) -> Self {
        self.student_factory = Some(factory);
        self
    }

    /// The scores handed to the teacher at every evaluation after training began (the
    /// student's knowledge-component vectors, what a meta-ACL classroom keeps of it).
    pub fn kc_vectors(&self) -> &[KcVector] {
        &self.kc_vectors
    }

    /// Fresh students made at the teacher's request so far.
    pub fn student_restarts(&self) -> u64 {
        self.student_restarts
    }

    fn make_envs(
        config: &TrainerConfig,
        student: &S,
        teacher: &dyn Teacher,
        make_env: &mut dyn FnMut() -> Result<E>,
    ) -> Result<(Vec<E>, Vec<E>)> {
        let mut all = Vec::with_capacity(2 * config.num_envs);
        for _ in 0..2 * config.num_envs {
            all.push(make_env()?);
        }
        student.check_env(&all[0])?;
        let env_space = all[0].task_space();
        if teacher.task_space() != env_space {
            return Err(StudentError::ShapeMismatch {
                what: "teacher task space",
                expected: format!("the env's {:?}", env_space.names()),
                got: format!("{:?}", teacher.task_space().names()),
            });
        }
        let eval_envs = all.split_off(config.num_envs);
        Ok((all, eval_envs))
    }

    /// Continues a run from `checkpoint`; `teacher` must be a fresh teacher of the checkpoint's
    /// kind on the same task space (its state is replaced by the checkpoint's).
    ///
    /// # Errors
    /// [`StudentError::CorruptCheckpoint`] or [`StudentError::UnsupportedCheckpointVersion`] for
    /// a checkpoint that does not fit, and the errors of [`Trainer::new`].
    pub fn resume(
        config: TrainerConfig,
        checkpoint: TrainerCheckpoint<S::Action>,
        mut teacher: Box<dyn Teacher>,
        make_env: &mut dyn FnMut() -> Result<E>,
        test_set: TestSet,
    ) -> Result<Self>
    where
        S: Sized,
    {
        config.validate()?;
        let student = restore_student::<E, S>(&config, &checkpoint, &mut *teacher)?;
        let (envs, eval_envs) = Self::make_envs(&config, &student, &*teacher, make_env)?;
        let envs = VecEnv::restore(
            envs,
            config.threads,
            checkpoint.envs,
            Box::new(TeacherTasks(teacher)),
        )?;
        Ok(Trainer {
            config,
            student,
            envs,
            eval_envs,
            test_set,
            next_eval: checkpoint.next_eval,
            last_eval_step: checkpoint.last_eval_step,
            epoch: checkpoint.epoch,
            episodes: checkpoint.episodes,
            student_restarts: checkpoint.student_restarts,
            kc_vectors: checkpoint.kc_vectors,
            student_factory: None,
        })
    }

    /// Env steps taken so far.
    pub fn global_step(&self) -> u64 {
        self.envs.global_step()
    }

    /// Whether the budget is spent (and the final evaluation made).
    pub fn is_done(&self) -> bool {
        self.global_step() >= self.config.total_steps
            && self.last_eval_step == Some(self.global_step())
    }

    /// The env step at which the run will end: the budget rounded up to whole
    /// [`Student::steps_per_iteration`]s from the current step (equal to `total_steps` when it
    /// divides evenly).
    pub fn planned_total_steps(&self) -> u64 {
        let step = self.global_step();
        let left = self.config.total_steps.saturating_sub(step);
        let per = self.student.steps_per_iteration(self.envs.len()).max(1);
        step.saturating_add(left.div_ceil(per).saturating_mul(per))
    }

    /// The student.
    pub fn student(&self) -> &S {
        &self.student
    }

    /// Puts `student` in place of the current student and returns the old one; the env copies
    /// keep their running episodes and the teacher its state. TeachMyAgent's "forgetting
    /// student" challenge replaces the student by a fresh one (new weights, empty replay
    /// buffer) during the run.
    ///
    /// # Errors
    /// A student that does not fit the env.
    pub fn replace_student(&mut self, student: S) -> Result<S> {
        if let Some(env) = self.eval_envs.first() {
            student.check_env(env)?;
        }
        Ok(std::mem::replace(&mut self.student, student))
    }

    /// The teacher.
    pub fn teacher(&self) -> &dyn Teacher {
        self.envs
            .task_source()
            .teacher()
            .expect("a trainer's task source is its teacher")
    }

    /// The test set.
    pub fn test_set(&self) -> &TestSet {
        &self.test_set
    }

    /// The loop's config.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// Runs a due periodic evaluation, one learning iteration (unless the budget is spent), and
    /// the final evaluation once the budget is spent.
    ///
    /// # Errors
    /// Student, teacher or env errors.
    pub fn run_iteration(&mut self) -> Result<IterationReport> {
        let mut evaluations = Vec::new();
        if self.global_step() >= self.next_eval && self.last_eval_step != Some(self.global_step()) {
            evaluations.push(self.evaluate_now()?);
            self.next_eval =
                next_multiple_after(self.next_eval, self.config.eval_every, self.global_step());
        }
        if self.global_step() < self.config.total_steps {
            let clock = TrainClock {
                global_step: self.global_step(),
                total_steps: self.config.total_steps,
            };
            self.student.train_iteration(&mut self.envs, clock)?;
            answer_value_requests(&mut self.student, &mut self.envs)?;
        }
        let episodes = self.envs.drain_finished();
        self.episodes = self.episodes.saturating_add(episodes.len() as u64);
        if self.global_step() >= self.config.total_steps
            && self.last_eval_step != Some(self.global_step())
        {
            evaluations.push(self.evaluate_now()?);
        }
        Ok(IterationReport {
            global_step: self.global_step(),
            episodes,
            evaluations,
        })
    }

    /// Evaluates the current greedy policy on the test set, hands the results to the teacher
    /// ([`Teacher::record_evaluation`]) and, if it then asks for one, makes a fresh student.
    ///
    /// # Errors
    /// Student, env or teacher errors; [`StudentError::NoStudentFactory`] when the teacher asks
    /// for a fresh student and none can be made.
    pub fn evaluate_now(&mut self) -> Result<Evaluation> {
        let summaries = evaluate(
            &mut self.student,
            &mut self.eval_envs,
            &self.test_set,
            self.config.eval_seed,
            self.config.threads,
        )?;
        self.last_eval_step = Some(self.global_step());
        let evaluation = Evaluation::from_summaries(self.global_step(), &summaries);
        if self.global_step() > 0 {
            self.epoch = self.epoch.saturating_add(1);
        }
        let result = match self.config.score_range {
            Some([low, high]) => EvaluationResult::from_returns(
                self.epoch,
                self.episodes,
                evaluation.returns.clone(),
                low,
                high,
            ),
            None => EvaluationResult {
                epoch: self.epoch,
                episodes: self.episodes,
                returns: evaluation.returns.clone(),
                scores: summaries
                    .iter()
                    .map(|s| f64::from(u8::from(s.success)))
                    .collect(),
            },
        };
        if self.global_step() > 0 {
            self.kc_vectors.push(KcVector {
                epoch: result.epoch,
                episodes: result.episodes,
                scores: result.scores.clone(),
            });
        }
        if let Some(teacher) = self.envs.task_source_mut().teacher_mut() {
            teacher.record_evaluation(&result)?;
            if teacher.wants_student_restart() {
                let name = teacher.name();
                let factory = self
                    .student_factory
                    .as_mut()
                    .ok_or(StudentError::NoStudentFactory { teacher: name })?;
                let fresh = factory(self.student_restarts)?;
                self.replace_student(fresh)?;
                self.student_restarts = self.student_restarts.saturating_add(1);
                if let Some(teacher) = self.envs.task_source_mut().teacher_mut() {
                    teacher.acknowledge_student_restart();
                }
            }
        }
        Ok(evaluation)
    }

    /// The state to continue this run from with [`Trainer::resume`].
    ///
    /// # Errors
    /// A teacher that cannot serialise its state.
    pub fn checkpoint(&self) -> Result<TrainerCheckpoint<S::Action>> {
        Ok(TrainerCheckpoint {
            format_version: TRAINER_CHECKPOINT_VERSION,
            student: self.student.to_json(),
            teacher: self.envs.task_source().save_state()?,
            envs: self.envs.state(),
            next_eval: self.next_eval,
            last_eval_step: self.last_eval_step,
            epoch: self.epoch,
            episodes: self.episodes,
            student_restarts: self.student_restarts,
            kc_vectors: self.kc_vectors.clone(),
        })
    }
}

/// The student of `checkpoint`, checked against a run of `config` (format version, env count,
/// budget), with `teacher`'s state replaced by the checkpoint's: the part of a resume that
/// [`Trainer::resume`] and the other loops over a [`VecEnv`] (MetaQWeb's) share.
///
/// # Errors
/// [`StudentError::UnsupportedCheckpointVersion`], [`StudentError::CorruptCheckpoint`] (a
/// checkpoint beyond the run's last iteration, a corrupt student or teacher state).
pub(crate) fn restore_student<E: Env, S: Student<E>>(
    config: &TrainerConfig,
    checkpoint: &TrainerCheckpoint<S::Action>,
    teacher: &mut dyn Teacher,
) -> Result<S> {
    if checkpoint.format_version != TRAINER_CHECKPOINT_VERSION {
        return Err(StudentError::UnsupportedCheckpointVersion {
            found: checkpoint.format_version,
            supported: TRAINER_CHECKPOINT_VERSION,
        });
    }
    let student = S::from_json(&checkpoint.student)?;
    student.check_resume(config.num_envs)?;
    // The last iteration of a run starts below the budget and takes whole lock-steps.
    let step = checkpoint.envs.global_step;
    let last_step =
        (config.total_steps - 1).saturating_add(student.steps_per_iteration(config.num_envs));
    if step > last_step {
        return Err(StudentError::CorruptCheckpoint {
            reason: format!(
                "the checkpoint is at env step {step}, beyond this run's budget of {} steps (its \
                 last iteration ends by step {last_step})",
                config.total_steps
            ),
        });
    }
    teacher.load_state(checkpoint.teacher.as_bytes())?;
    Ok(student)
}

/// The first of `start`, `start + every`, `start + 2·every`, ... above `step`, computed in
/// one go (a loop would take `step / every` turns, e.g. from a checkpoint far ahead); saturates
/// at `u64::MAX`.
fn next_multiple_after(start: u64, every: u64, step: u64) -> u64 {
    if start > step {
        return start;
    }
    let turns = (step - start) / every + 1;
    start.saturating_add(turns.saturating_mul(every))
}

/// Trains `student` on `envs` (whose task source chooses every episode's task) until
/// `total_steps` env steps are taken, rounded up to whole iterations; returns every episode
/// finished meanwhile. The loop of [`Trainer`] without evaluation, for callers that hold their
/// own envs (the students' single-env `train` methods, tests).
///
/// # Errors
/// Student, env or task-source errors.
pub fn train_for<E, S>(
    student: &mut S,
    envs: &mut VecEnv<E, S::Action>,
    total_steps: u64,
) -> Result<Vec<EpisodeRecord>>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<E>,
{
    let start = envs.global_step();
    let mut episodes = Vec::new();
    loop {
        let clock = TrainClock {
            global_step: envs.global_step() - start,
            total_steps,
        };
        student.train_iteration(envs, clock)?;
        answer_value_requests(student, envs)?;
        episodes.extend(envs.drain_finished());
        if envs.global_step() - start >= total_steps {
            return Ok(episodes);
        }
    }
}

/// Asks `student` for the value estimate of every episode whose task source waits for one
/// ([`VecEnv::take_value_requests`]: SPDL-like teachers), in the order the episodes ended, and
/// hands each to the source. Nothing happens for sources that ask for none.
///
/// # Errors
/// A student without value estimates, or the source's refusal.
pub fn answer_value_requests<E, S>(student: &mut S, envs: &mut VecEnv<E, S::Action>) -> Result<()>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<E>,
{
    for request in envs.take_value_requests() {
        let estimate = ValueEstimate {
            initial_value: student.value_estimate(&request.initial_obs)?,
            discounted_return: request.discounted_return,
        };
        envs.record_value_estimate(&request.task, &estimate)?;
    }
    Ok(())
}

/// Salt of the task stream of [`train_single_env`]: the stream must differ from the student's
/// own, which is seeded with the same run seed.
pub(crate) const TASK_STREAM_SALT: u64 = 0x7a5c_0000;

/// An env the caller keeps, driven by a vector env for the length of one call.
pub(crate) struct BorrowedEnv<'a, E: ?Sized>(pub &'a mut E);

impl<E: Env + ?Sized> Env for BorrowedEnv<'_, E> {
    type Obs = E::Obs;
    type Action = E::Action;

    fn task_space(&self) -> &teachgym_core::TaskSpace {
        self.0.task_space()
    }

    fn observation_space(&self) -> &teachgym_core::Space {
        self.0.observation_space()
    }

    fn action_space(&self) -> &teachgym_core::Space {
        self.0.action_space()
    }

    fn reset(
        &mut self,
        seed: Option<u64>,
        task: &[f64],
    ) -> teachgym_core::Result<(Self::Obs, teachgym_core::Info)> {
        self.0.reset(seed, task)
    }

    fn step(
        &mut self,
        action: &Self::Action,
    ) -> teachgym_core::Result<teachgym_core::Step<E::Obs>> {
        self.0.step(action)
    }

    fn render(&self) -> teachgym_core::Result<teachgym_core::RgbFrame> {
        self.0.render()
    }

    fn render_text(&self) -> Option<teachgym_core::Result<String>> {
        self.0.render_text()
    }

    fn action_mask(&self) -> Option<Vec<bool>> {
        self.0.action_mask()
    }
}

/// [`train_for`] on the one env `env`, with every task drawn by `task_source` from a stream
/// seeded with `seed` (salted): the body of the students' single-env `train` methods.
pub(crate) fn train_single_env<'a, E, S, F>(
    student: &mut S,
    env: &'a mut E,
    total_steps: u64,
    seed: u64,
    task_source: F,
) -> Result<Vec<EpisodeRecord>>
where
    E: Env + Send,
    E::Obs: Clone + Send,
    S: Student<BorrowedEnv<'a, E>>,
    F: FnMut(&mut rand_pcg::Pcg64) -> Vec<f64> + Send + 'static,
{
    let tasks = SampledTasks::new(seed.wrapping_add(TASK_STREAM_SALT), task_source);
    let mut envs = VecEnv::new(vec![BorrowedEnv(env)], seed, 1, Box::new(tasks))?;
    train_for(student, &mut envs, total_steps)
}

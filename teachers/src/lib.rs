//! Curriculum teachers: each episode a teacher picks the task parameters a student trains on,
//! then learns from the outcome which tasks make the student progress.
//!
//! - [`Teacher`]: the object-safe contract (sample, update, visualisation samples, checkpoints,
//!   and for teachers that ask, the student's [`ValueEstimate`] of each episode's start).
//! - Five non-neural teachers from TeachMyAgent / teachDeepRL: [`RandomTeacher`],
//!   [`AlpGmm`], [`CovarGmm`], [`Riac`], [`Adr`], and the neural [`GoalGan`] and
//!   [`SetterSolver`], and [`Spdl`] (self-paced deep RL, which learns from the student's value
//!   estimates), each built from a typed, serde config whose defaults are the tuned TeachMyAgent benchmark values (written
//!   once, as `pub const`s).
//! - [`QwebSchedule`]: QWeb's hand-made curriculum (warm start and goal simulation moved from
//!   easy to hard on a schedule of training progress), to compare with the learning-progress
//!   teachers on the web-form env.
//! - [`Again`]: meta-ACL's AGAIN, which replays the curriculum of the nearest expert of a
//!   [`Classroom`] of finished ALP-GMM students (it reads the student's test results through
//!   [`Teacher::record_evaluation`]).
//! - [`build_teacher`]: the registry the CLI and Python bindings use (name + JSON config).
//! - [`ExpertKnowledge`]: the none / low / high levels of prior knowledge a teacher may get.
//! - [`DimensionShuffler`]: the "rugged difficulty" task-space transform.
//! - [`gmm`]: our own full-covariance Gaussian mixture EM (k-means++ init, sklearn semantics).
//! - [`toys`]: synthetic students (teachDeepRL's toy grid) to validate teachers in seconds.
//!
//! Everything random is seeded; the same seed and the same outcomes give the same tasks, bit for
//! bit, and a teacher restored from [`Teacher::save_state`] continues exactly as if never stopped.
//! That holds across machines too: `exp`, `ln`, `sin`… come from the `libm` crate, not from the
//! platform's C library, whose results differ in the last bit between CPUs (glibc picks FMA
//! variants where the CPU has FMA); `teachers/clippy.toml` forbids `f64::exp` and its kin. Normal
//! draws come from `teachgym_core::random::standard_normal` (libm's `log`), not `rand_distr`,
//! whose rare branches call the platform's `exp`/`ln`.
//!
//! Counters (episodes, fits, trainings) add with `saturating_add`: a state restored from an
//! edited checkpoint may hold one near `u64::MAX`, and `load_state` must never lead to a panic.
#![warn(missing_docs)]

pub mod adr;
pub mod again;
pub mod alp_gmm;
mod checkpoint;
pub mod covar_gmm;
mod error;
pub mod expert;
pub mod gmm;
pub mod goal_gan;
mod knn;
pub mod qweb_schedule;
pub mod random;
pub mod registry;
pub mod riac;
pub mod setter_solver;
pub mod shuffler;
pub mod spdl;
pub mod stats;
pub mod toys;
mod util;

pub use adr::{Adr, AdrConfig};
pub use again::{Again, AgainConfig, Classroom, ClassroomEntry, ClassroomError, EntryRule};
pub use alp_gmm::{AlpGmm, AlpGmmConfig, AlpGmmHistory, MAX_GMM_FIT_RATE, MAX_GMM_K};
pub use covar_gmm::{CovarGmm, CovarGmmConfig};
pub use error::{Result, TeacherError};
pub use expert::{
    DiagonalGaussian, ExpertKnowledge, ExpertLevel, RewardThresholds, HIGH_EK_STD_FRACTION,
};
pub use gmm::{Fitness, GmmConfig};
pub use goal_gan::{GoalGan, GoalGanConfig};
pub use qweb_schedule::{ProgressUnit, QwebSchedule, QwebScheduleConfig};
pub use random::{RandomConfig, RandomTeacher};
pub use registry::{build_teacher, build_teacher_from_bounds, TeacherConfig, TEACHER_NAMES};
pub use riac::{Riac, RiacConfig};
pub use setter_solver::{SetterSolver, SetterSolverConfig};
pub use shuffler::{DimensionShuffler, Shuffled, MAX_SHUFFLED_OUTSTANDING, SHUFFLER_INTERVALS};
pub use spdl::{Spdl, SpdlConfig};
pub use teachgym_core::EnvPrior;
pub use teachgym_core::{TaskDim, TaskSpace};

/// Largest `n` of [`Teacher::non_exploratory_samples`] taken from a user: a million tasks,
/// far more than any plot draws, and a bounded allocation.
pub const MAX_NON_EXPLORATORY_SAMPLES: usize = 1_000_000;

/// Version of the checkpoint format written by [`Teacher::save_state`]. A checkpoint with another
/// version is refused with [`TeacherError::Checkpoint`].
pub const CHECKPOINT_FORMAT_VERSION: u32 = 1;

/// What a teacher learns from one finished episode: the env's own [`EpisodeSummary`] (return
/// in the env's raw units, TeachMyAgent semantics; success; length), one record from env to
/// teacher to training log.
///
/// [`EpisodeSummary`]: teachgym_core::EpisodeSummary
pub type EpisodeOutcome = teachgym_core::EpisodeSummary;

/// A curriculum teacher over a [`TaskSpace`].
///
/// The loop is: `task = sample_task()`, run an episode on `task`, `update(&task, &outcome)`.
/// The trait is object safe so the registry can return `Box<dyn Teacher>`.
///
/// Determinism contract: given the seed it was built with and the same sequence of calls, a
/// teacher returns the same tasks bit for bit; [`Teacher::non_exploratory_samples`] draws from
/// a separate random stream so visualising a curriculum never changes it; and a teacher restored
/// with [`Teacher::load_state`] makes exactly the decisions the saved one would have made.
pub trait Teacher: Send {
    /// Registry name of the teacher (one of [`TEACHER_NAMES`]).
    fn name(&self) -> &'static str;

    /// The task space the teacher samples from.
    fn task_space(&self) -> &TaskSpace;

    /// Chooses the task of the next episode; always inside [`Teacher::task_space`].
    fn sample_task(&mut self) -> Vec<f64>;

    /// Learns from a finished episode on `task`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] for a task of the wrong length or out of bounds,
    /// [`TeacherError::NonFiniteReturn`] for a NaN or infinite return. The teacher's state is
    /// unchanged when an error is returned.
    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()>;

    /// Whether the teacher learns from the student's value estimates (SPDL): `Some(γ)` asks the
    /// loop for, after every [`Teacher::update`], the student's value estimate of that episode's
    /// initial observation and the episode's return discounted by γ, through
    /// [`Teacher::record_value_estimate`]. Default `None`: the loop then keeps no initial
    /// observations and computes nothing.
    fn value_estimate_discount(&self) -> Option<f64> {
        None
    }

    /// The student's estimate for an episode on `task` that [`Teacher::update`] has seen
    /// (called in the order of the updates, once the student has been asked: in the training
    /// loop after the learning iteration in which the episode ended). A teacher that asks for
    /// none ignores it.
    ///
    /// # Errors
    /// A teacher that asks refuses a task it has no pending episode for, and a non-finite
    /// estimate ([`TeacherError::NonFiniteReturn`]).
    fn record_value_estimate(&mut self, task: &[f64], estimate: &ValueEstimate) -> Result<()> {
        let _ = (task, estimate);
        Ok(())
    }

    /// The student's results on the test set after an evaluation (called by the training loop
    /// after each one; callers of their own loop call it themselves). Teachers that build on the
    /// student's test results (AGAIN: its knowledge-component vector at the pre-test epoch) read
    /// it; the others ignore it (the default).
    ///
    /// # Errors
    /// A teacher that reads it refuses malformed results (non-finite scores, another number of
    /// test tasks than its classroom's); the state is unchanged then.
    fn record_evaluation(&mut self, evaluation: &EvaluationResult) -> Result<()> {
        let _ = evaluation;
        Ok(())
    }

    /// Whether the teacher asks the loop to restart the student from fresh weights (AGAIN's
    /// "trying again" mode after its pre-test). The loop restarts it and then calls
    /// [`Teacher::acknowledge_student_restart`]. Default: never.
    fn wants_student_restart(&self) -> bool {
        false
    }

    /// The student asked for by [`Teacher::wants_student_restart`] has been restarted. Default:
    /// nothing to do.
    fn acknowledge_student_restart(&mut self) {}

    /// The teacher's ALP-GMM curriculum so far (each fit, its Gaussians and the episodes after
    /// it), which a meta-ACL classroom keeps of a student: `Some` for [`AlpGmm`] built with
    /// `record_history`, `None` otherwise (the default).
    fn alp_gmm_history(&self) -> Option<&AlpGmmHistory> {
        None
    }

    /// `n` tasks from the teacher's current curriculum without its exploration (no random-task
    /// mixing, no boundary probing), for visualisation. `None` when the teacher has no such
    /// distribution. Uses its own random stream: calling it never changes future decisions.
    /// Entry points that take `n` from a user (the Python binding) refuse `n` above
    /// [`MAX_NON_EXPLORATORY_SAMPLES`].
    fn non_exploratory_samples(&mut self, _n: usize) -> Option<Vec<Vec<f64>>> {
        None
    }

    /// Serialises the full state (configuration, learned statistics, random streams) as
    /// versioned JSON: `{"format_version", "teacher", "state"}`.
    ///
    /// # Errors
    /// [`TeacherError::Checkpoint`] if serialisation fails.
    fn save_state(&self) -> Result<Vec<u8>>;

    /// Replaces the state with one written by [`Teacher::save_state`] of the same teacher kind
    /// on the same task space.
    ///
    /// # Errors
    /// [`TeacherError::Checkpoint`] for malformed bytes, another format version, another
    /// teacher, another task space or inconsistent contents; the state is unchanged then.
    fn load_state(&mut self, bytes: &[u8]) -> Result<()>;
}

/// One evaluation of the student on the fixed test set, as handed to
/// [`Teacher::record_evaluation`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvaluationResult {
    /// Training epochs done when it was made: the evaluations after training began, counted
    /// from 1 (the training loop's evaluation of the untrained student, if any, is epoch 0).
    pub epoch: u64,
    /// Training episodes the teacher had seen when it was made.
    pub episodes: u64,
    /// Return per test task, in test-set order, in the env's raw units.
    pub returns: Vec<f64>,
    /// Score per test task in `[0, 1]` (the knowledge-component vector): the returns mapped
    /// linearly from a score range and clipped, as the reference's `interp(r, (-150, 350), (0, 1))`.
    pub scores: Vec<f64>,
}

impl EvaluationResult {
    /// Scores from `returns` mapped linearly from `[low, high]` to `[0, 1]` and clipped (the
    /// reference maps walker returns from `[-150, 350]`).
    pub fn from_returns(epoch: u64, episodes: u64, returns: Vec<f64>, low: f64, high: f64) -> Self {
        let scores = returns
            .iter()
            .map(|&r| {
                if high > low {
                    util::scaled_return(Some([low, high]), r)
                } else {
                    f64::from(u8::from(r >= high))
                }
            })
            .collect();
        Self {
            epoch,
            episodes,
            returns,
            scores,
        }
    }
}

/// What the loop hands a teacher that asks for value estimates
/// ([`Teacher::value_estimate_discount`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValueEstimate {
    /// The student's value estimate of the episode's initial observation, in return units
    /// (PPO: its critic, unnormalised; SAC: V, or min Q at the policy's mean action; DQN: max Q).
    pub initial_value: f64,
    /// The episode's return discounted by the teacher's γ (`Σ γᵗ rₜ`).
    pub discounted_return: f64,
}

/// Checks the arguments of [`Teacher::update`]: task in the space, finite return.
pub(crate) fn validate_update(
    space: &TaskSpace,
    task: &[f64],
    outcome: &EpisodeOutcome,
) -> Result<()> {
    space.validate(task)?;
    if !outcome.episode_return.is_finite() {
        return Err(TeacherError::NonFiniteReturn {
            value: outcome.episode_return,
        });
    }
    Ok(())
}

/// `use teachgym_teachers::prelude::*;` brings the trait, the registry and the configs in scope.
pub mod prelude {
    pub use crate::{
        build_teacher, Adr, AdrConfig, Again, AgainConfig, AlpGmm, AlpGmmConfig, CovarGmm,
        CovarGmmConfig, DimensionShuffler, EpisodeOutcome, EvaluationResult, ExpertKnowledge,
        GoalGan, GoalGanConfig, QwebSchedule, QwebScheduleConfig, RandomConfig, RandomTeacher,
        Riac, RiacConfig, SetterSolver, SetterSolverConfig, Spdl, SpdlConfig, Teacher,
        TeacherConfig, TeacherError, ValueEstimate, TEACHER_NAMES,
    };
}

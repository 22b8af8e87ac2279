//! The teachers crate's error type: core's task-space errors plus what only teachers can get
//! wrong (missing expert knowledge, non-finite returns, bad checkpoints, unknown names).

/// `Result` with [`TeacherError`] as the error type.
pub type Result<T, E = TeacherError> = std::result::Result<T, E>;

/// Everything a teacher can refuse. Each variant carries the offending values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TeacherError {
    /// A task-space or configuration error from `teachgym-core` (wrong task length, task out of
    /// bounds, empty or inverted bounds, invalid configuration value).
    #[error(transparent)]
    Core(#[from] teachgym_core::Error),
    /// The teacher cannot run without a piece of expert knowledge (ADR needs reward thresholds).
    #[error(
        "teacher `{teacher}` needs expert knowledge ({what}): give it the level `low` or `high` \
         with the env's values, e.g. for Stump Tracks the config \
         {{\"expert_knowledge\": {{\"level\": \"low\", \"success_threshold\": 230, \
         \"reward_thresholds\": {{\"min_reward\": 0, \"max_reward\": 180}}}}}}; \
         `teachgym train --expert-knowledge low` fills them from the env"
    )]
    MissingExpertKnowledge {
        /// Teacher name.
        teacher: &'static str,
        /// What is missing.
        what: &'static str,
    },
    /// An episode return was NaN or infinite.
    #[error("episode return is not finite ({value}); teachers need finite returns")]
    NonFiniteReturn {
        /// The value given.
        value: f64,
    },
    /// A value estimate was NaN or infinite.
    #[error("value estimate `{field}` is not finite ({value}); teachers need finite estimates")]
    NonFiniteValueEstimate {
        /// `initial_value` or `discounted_return`.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A value estimate arrived for a task no updated episode is waiting on (the loop must call
    /// `record_value_estimate` after `update`, in the same order).
    #[error(
        "no episode on task {task:?} is waiting for a value estimate; estimates must follow \
         the updates of their episodes, in order"
    )]
    NoPendingEpisode {
        /// The task given.
        task: Vec<f64>,
    },
    /// A checkpoint could not be read: malformed JSON, wrong format version, another teacher's
    /// state, another task space, or inconsistent contents.
    #[error("cannot restore checkpoint: {reason}")]
    Checkpoint {
        /// What is wrong with it.
        reason: String,
    },
    /// No teacher is registered under that name.
    #[error("unknown teacher `{name}`; known teachers: {known}")]
    UnknownTeacher {
        /// The name asked for.
        name: String,
        /// The registered names, comma separated.
        known: String,
    },
    /// A classroom of the AGAIN teacher is missing, unreadable or does not fit.
    #[error(transparent)]
    Classroom(#[from] crate::again::ClassroomError),
    /// A Gaussian mixture could not be fitted (too few points for `k` components, non-finite
    /// data, or a covariance that stays singular even after regularisation).
    #[error("cannot fit a {k}-component Gaussian mixture: {reason}")]
    GmmFit {
        /// Number of components asked for.
        k: usize,
        /// Why the fit failed.
        reason: String,
    },
}

impl TeacherError {
    /// Shorthand for a [`teachgym_core::Error::InvalidConfig`] wrapped in [`TeacherError::Core`].
    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        TeacherError::Core(teachgym_core::Error::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        })
    }
}

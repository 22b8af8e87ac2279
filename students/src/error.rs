//! The single error type of the students crate. Every variant carries the values that made the
//! input bad, so a message can be acted on without a debugger.

use teachgym_nn::NnError;

/// `Result` with [`StudentError`] as the error type.
pub type Result<T, E = StudentError> = std::result::Result<T, E>;

/// Everything that can go wrong when a caller hands a network, an optimiser or a checkpoint bad
/// input. Public functions of this crate return these instead of panicking.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StudentError {
    /// An array or slice does not have the shape the network expects.
    #[error("{what} has shape {got} but {expected} was expected")]
    ShapeMismatch {
        /// Which argument (e.g. `"input"`, `"output gradient"`).
        what: &'static str,
        /// The expected shape, e.g. `(batch, 24)`.
        expected: String,
        /// The shape given.
        got: String,
    },
    /// An input contains NaN or an infinity.
    #[error("{what} contains a non-finite value {value} at flat index {index}")]
    NonFinite {
        /// Which argument.
        what: &'static str,
        /// Flat (row-major) index of the first offending element.
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// A configuration value is out of its valid range.
    #[error("invalid configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The field name.
        field: &'static str,
        /// What is wrong, with the value given.
        reason: String,
    },
    /// A checkpoint could not be parsed or does not describe a consistent network/optimiser.
    #[error("corrupt checkpoint: {reason}")]
    CorruptCheckpoint {
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint was written by an incompatible format version.
    #[error(
        "checkpoint format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedCheckpointVersion {
        /// Version found in the checkpoint.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// An action mask allows no action for one observation of a batch.
    #[error("the action mask of observation {row} allows no action")]
    NoLegalAction {
        /// Row (observation index) of the batch whose mask is all false.
        row: usize,
    },
    /// The environment broke the [`teachgym_core::Env`] contract (e.g. ended an episode without
    /// its summary): a bug in the env, not in the caller's input.
    #[error("the environment broke its contract: {reason}")]
    EnvContract {
        /// What it did.
        reason: String,
    },
    /// The environment rejected a call (bad task, bad action, step after the end, ...).
    #[error(transparent)]
    Env(#[from] teachgym_core::Error),
    /// The teacher refused an episode outcome or a checkpoint.
    #[error(transparent)]
    Teacher(#[from] teachgym_teachers::TeacherError),
    /// A network error without a counterpart above (none today: every [`NnError`] variant maps
    /// to the variant of the same name; see the `From<NnError>` impl).
    #[error(transparent)]
    Nn(NnError),
    /// A teacher asked for value estimates that the student cannot give.
    #[error(
        "the teacher learns from the student's value estimates, which student `{student}` does not give"
    )]
    NoValueEstimate {
        /// The student's registry name.
        student: &'static str,
    },
    /// The teacher asked for a fresh student ([`teachgym_teachers::Teacher::wants_student_restart`],
    /// AGAIN's `restart_after_pretrain`) but the trainer was given no way to make one.
    #[error(
        "teacher `{teacher}` asked for a fresh student, but the trainer has no student factory \
         (Trainer::with_student_factory)"
    )]
    NoStudentFactory {
        /// The teacher's name.
        teacher: &'static str,
    },
    /// A file could not be read or written.
    #[error("cannot access {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

impl From<NnError> for StudentError {
    /// Maps each [`NnError`] to the variant of the same name and message, so matches on
    /// `StudentError::ShapeMismatch { .. }` and the like see network errors too.
    fn from(error: NnError) -> Self {
        match error {
            NnError::ShapeMismatch {
                what,
                expected,
                got,
            } => StudentError::ShapeMismatch {
                what,
                expected,
                got,
            },
            NnError::NonFinite { what, index, value } => {
                StudentError::NonFinite { what, index, value }
            }
            NnError::InvalidConfig { field, reason } => {
                StudentError::InvalidConfig { field, reason }
            }
            NnError::CorruptCheckpoint { reason } => StudentError::CorruptCheckpoint { reason },
            NnError::UnsupportedCheckpointVersion { found, supported } => {
                StudentError::UnsupportedCheckpointVersion { found, supported }
            }
            other => StudentError::Nn(other),
        }
    }
}

impl StudentError {
    /// An [`StudentError::Io`] for `path`.
    pub fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        StudentError::Io {
            path: path.display().to_string(),
            message: error.to_string(),
        }
    }
}

/// Returns [`StudentError::InvalidConfig`] naming the first of `counts` that is 0, if any.
pub(crate) fn check_counts(counts: &[(&'static str, u64)]) -> Result<()> {
    match counts.iter().find(|(_, v)| *v == 0) {
        Some(&(field, _)) => Err(StudentError::InvalidConfig {
            field,
            reason: "must be ≥ 1, got 0".into(),
        }),
        None => Ok(()),
    }
}

/// Asserts that `result` is an [`StudentError::InvalidConfig`] naming `field` (for tests).
#[cfg(test)]
pub(crate) fn assert_invalid_field<T: std::fmt::Debug>(result: Result<T>, field: &str) {
    match result {
        Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{field}: expected an invalid configuration, got {other:?}"),
    }
}

/// Returns an error naming the first non-finite element of `values`, if any.
pub(crate) fn check_finite(what: &'static str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StudentError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

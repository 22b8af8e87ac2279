//! The single error type of the nn crate. Every variant carries the values that made the input
//! bad, so a message can be acted on without a debugger.

/// `Result` with [`NnError`] as the error type.
pub type Result<T, E = NnError> = std::result::Result<T, E>;

/// Everything that can go wrong when a caller hands a network, an optimiser or a checkpoint bad
/// input. Public functions of this crate return these instead of panicking.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NnError {
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
}

/// Returns [`NnError::NonFinite`] naming the first non-finite element of `values`, if any.
pub(crate) fn check_finite(what: &'static str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(NnError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

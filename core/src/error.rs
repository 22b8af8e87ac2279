//! The single error type of teachgym's core contracts. Each variant carries the values that
//! made the input bad, so a message can be acted on without a debugger.

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when a caller misuses a space, a task or an environment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task vector has the wrong number of components.
    #[error("task has {got} components but the task space has {expected} dimensions ({names})")]
    TaskDimension {
        /// Number of dimensions of the task space.
        expected: usize,
        /// Number of components given.
        got: usize,
        /// The dimension names, comma separated, to help spot the mismatch.
        names: String,
    },
    /// A task component lies outside its dimension's bounds (or is not finite).
    #[error("task dimension `{dim}` = {value} is outside its bounds [{low}, {high}]")]
    TaskOutOfBounds {
        /// Name of the dimension.
        dim: String,
        /// The offending value.
        value: f64,
        /// Lower bound of the dimension.
        low: f64,
        /// Upper bound of the dimension.
        high: f64,
    },
    /// Bounds that cannot define a space: not finite, or `low > high`.
    #[error("invalid bounds for `{dim}`: low = {low}, high = {high} (need finite low <= high)")]
    InvalidBounds {
        /// Name of the dimension (or `"index i"` for unnamed spaces).
        dim: String,
        /// Lower bound given.
        low: f64,
        /// Upper bound given.
        high: f64,
    },
    /// A task space was built with no dimension, or two dimensions share a name.
    #[error("invalid task space: {reason}")]
    InvalidTaskSpace {
        /// What is wrong.
        reason: String,
    },
    /// No dimension of that name exists.
    #[error("unknown task dimension `{name}`; known: {known}")]
    UnknownDimension {
        /// The name asked for.
        name: String,
        /// The names that exist, comma separated.
        known: String,
    },
    /// An action has the wrong number of components.
    #[error("action has {got} components but the action space expects {expected}")]
    ActionDimension {
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// An action component is NaN or infinite.
    #[error("action component {index} is not finite ({value})")]
    NonFiniteAction {
        /// Index of the component.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A discrete action index is out of range.
    #[error("action {value} is out of range for a Discrete({n}) space")]
    ActionOutOfRange {
        /// The index given.
        value: i64,
        /// Number of actions.
        n: usize,
    },
    /// An episode method (`step`, `render`, ...) was called before the first `reset`.
    #[error("{call}() called before reset(); call reset(seed, task) first")]
    ResetNeeded {
        /// The method called, e.g. `"step"` or `"render"`.
        call: &'static str,
    },
    /// `step` was called after the episode terminated or was truncated.
    #[error("step() called after the episode ended (terminated or truncated); call reset() first")]
    EpisodeEnded,
    /// A configuration value is invalid.
    #[error("invalid configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field (path) in the configuration.
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A space description is inconsistent (shape versus bounds length, empty discrete space, ...).
    #[error("invalid space: {reason}")]
    InvalidSpace {
        /// What is wrong.
        reason: String,
    },
}

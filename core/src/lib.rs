//! The contracts every teachgym component agrees on, and nothing else: no physics, no learning.
//!
//! - [`TaskSpace`]: the ordered, named, bounded dimensions a teacher chooses values for.
//! - [`Space`]: descriptions of observation and action spaces (Box, Discrete, MultiDiscrete, Dict),
//!   mirroring `gymnasium.spaces` so the Python side can build the matching objects.
//! - [`Env`]: reset with a seed and a task vector, step with an action, gymnasium semantics for
//!   `terminated` versus `truncated`.
//! - [`Error`]: the one error type; every variant names the offending value.
//! - [`random`]: normal draws with the same bits on every CPU.
#![warn(missing_docs)]

mod env;
mod error;
pub mod random;
mod space;
mod task_space;

pub use env::{
    check_reward_coefficient, clip_unit_action, Env, EpisodeProgress, EpisodeSummary, Info,
    RgbFrame, Step, MAX_REWARD_MAGNITUDE,
};
pub use error::{Error, Result};
pub use space::{BoxSpace, DType, Space};
pub use task_space::{EnvPrior, TaskDim, TaskSpace};

/// `use teachgym_core::prelude::*;` brings the contracts into scope.
pub mod prelude {
    pub use crate::{
        BoxSpace, DType, Env, EpisodeProgress, EpisodeSummary, Error, Info, Result, RgbFrame,
        Space, Step, TaskDim, TaskSpace,
    };
}

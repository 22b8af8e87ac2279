//! teachgym: procedural reinforcement-learning environments whose difficulty is set by a
//! parameter vector, for automatic curriculum learning.
//!
//! This facade re-exports the workspace crates:
//! - [`core`]: task spaces, spaces, the [`Env`](teachgym_core::Env) trait and errors;
//! - [`envs`]: the Stump Tracks and Hexagon Tracks walkers on rapier2d, the web forms, the point
//!   mass and the grid world, and the one env registry
//!   ([`envs::registry`]) that the command line and the Python
//!   package both build their envs from;
//! - [`teachers`]: curriculum teachers (Random, ALP-GMM, Covar-GMM, RIAC, ADR) and their registry;
//! - [`nn`]: the networks of the built-in students (MLP, Adam, gradient clipping, checkpoints),
//!   with forward and backward passes that give the same bits on every x86-64 CPU;
//! - [`students`]: the built-in students (PPO, DQN, the QWeb-style DQN), the lock-step vector
//!   env that owns its task source, the one training loop
//!   ([`Trainer`](teachgym_students::Trainer)) and the evaluation protocol;
//!
//! and hosts the tools behind the `teachgym` command line: [`train`] (run configurations, run
//! directories, checkpoints, `train`/`eval`), [`benchmark`] (specs expanded into runs, the
//! local worker pool), [`report`] (a benchmark's statistics, CSV, Markdown and PNGs), [`plots`] (learning curve and curriculum PNGs),
//! [`tensorboard`] (the runs' TensorBoard event files),
//! [`rollout`] (policies, episode statistics, throughput) and [`media`] (PNG and GIF output).
//!
//! ```
//! use teachgym::prelude::*;
//! let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
//! let mut walker = ScriptedWalker::default();
//! let (mut obs, _) = env.reset(Some(0), &[0.0, 6.0]).unwrap();
//! assert_eq!(obs.len(), env.observation_space().flat_len());
//! for _ in 0..100 {
//!     let step = env.step(&walker.act(&obs)).unwrap();
//!     obs = step.obs;
//! }
//! assert_eq!(env.elapsed_steps(), 100);
//! ```
#![warn(missing_docs)]

pub use teachgym_core as core;
pub use teachgym_envs as envs;
pub use teachgym_nn as nn;
pub use teachgym_students as students;
pub use teachgym_teachers as teachers;

pub mod benchmark;
pub mod media;
pub mod meta_train;
pub mod plots;
pub mod report;
pub mod rollout;
pub mod tensorboard;
pub mod train;

/// `use teachgym::prelude::*;` for the common types.
pub mod prelude {
    pub use teachgym_core::prelude::*;
    pub use teachgym_envs::{
        Embodiment, ScriptedWalker, StumpTracksConfig, TrackConfig, WalkerConfig, WalkerEnv,
    };
    pub use teachgym_teachers::{build_teacher, EpisodeOutcome, Teacher, TeacherConfig};
}

//! Built-in learning agents ("students") for teachgym. This first layer is the network module
//! the PPO and DQN students are built on:
//!
//! - [`Mlp`]: a small fully-connected network on `ndarray` with configurable widths and
//!   [`Activation`]s (tanh via [`fast_tanh`], relu, identity), orthogonal or scaled-uniform
//!   [`Init`] from a seeded RNG, a batched [`Mlp::forward`] that caches activations, analytic
//!   [`Mlp::backward`] into [`Gradients`], and an allocation-free single-observation
//!   [`Mlp::forward_one`] that is bit-identical to the batched pass.
//! - [`clip_global_norm`]: gradient clipping by global norm across one or several networks.
//! - [`Adam`]: Adam / AdamW with hyper-parameters in [`AdamConfig`].
//! - [`Checkpoint`]: versioned, bit-exact save/load of parameters and optimiser state.
//! - [`ppo`]: PPO for continuous and discrete actions ([`PpoConfig`], [`PpoAgent`]).
//! - [`dqn`]: DQN for discrete actions ([`DqnConfig`], [`DqnAgent`]), with its [`replay`]
//!   buffer.
//! - [`qweb`]: a QWeb-style DQN for the web-form env ([`QwebDqnConfig`], [`QwebDqnAgent`]):
//!   Q-values of composite actions from per-element and per-field encodings with shared weights.
//! - [`vec_env`]: N env copies stepped in lock-step on worker threads, reset on a teacher's
//!   tasks, checkpointable by replay; results never depend on the thread count.
//! - [`trainer`]: the teacher-driven training loop ([`Trainer`]) over any [`Student`], with
//!   periodic evaluation on a fixed [`TestSet`] ([`eval`]) and exact resume.
//!
//! Every public function validates its input (shapes, NaN/∞, config ranges) and returns a
//! [`StudentError`] instead of panicking. The same seed gives the same initial parameters and,
//! with the same data, the same training trajectory bit for bit.
#![warn(missing_docs)]

pub mod activation;
pub mod adam;
pub mod checkpoint;
pub mod dqn;
mod error;
pub mod eval;
pub mod gradients;
pub mod init;
mod kernel;
pub mod mlp;
pub mod ppo;
pub mod qweb;
pub mod replay;
pub mod student;
pub mod trainer;
pub mod vec_env;

pub use activation::{fast_tanh, Activation, FAST_TANH_MAX_ABS_ERROR};
pub use adam::{Adam, AdamConfig};
pub use checkpoint::{Checkpoint, CHECKPOINT_FORMAT_VERSION};
pub use dqn::{DqnAgent, DqnConfig};
pub use error::{Result, StudentError};
pub use eval::{evaluate, Evaluation, TestSet};
pub use gradients::{clip_global_norm, Gradients, LayerGradients};
pub use init::Init;
pub use mlp::{ForwardCache, InferenceBuffers, Layer, LayerConfig, Mlp, MlpConfig};
pub use ppo::{PpoAgent, PpoConfig};
pub use qweb::{FormEnv, QwebDqnAgent, QwebDqnConfig};
pub use replay::{ReplayBuffer, Transition};
pub use student::{Student, TrainClock};
pub use trainer::{train_for, IterationReport, Trainer, TrainerCheckpoint, TrainerConfig};
pub use vec_env::{
    episode_seed, EpisodeRecord, FixedTasks, SampledTasks, TaskSource, TeacherTasks, VecEnv,
    VecStep,
};

//! Built-in learning agents ("students") for teachgym, built on the networks of
//! [`teachgym_nn`] (re-exported here under the same module names: [`mlp`], [`adam`],
//! [`checkpoint`], …, and flat as [`Mlp`], [`Adam`], [`Checkpoint`], …):
//!
//! - [`ppo`]: PPO for continuous and discrete actions ([`PpoConfig`], [`PpoAgent`]).
//! - [`dqn`]: DQN for discrete actions ([`DqnConfig`], [`DqnAgent`]), with its [`replay`]
//!   buffer.
//! - [`sac`]: SAC for `Box` actions ([`SacConfig`], [`SacAgent`]): twin Q critics, optional
//!   SpinningUp 0.1.1 V network, fixed or tuned α, replay buffer in its checkpoint.
//! - [`qweb`]: a QWeb-style DQN for the web-form env ([`QwebDqnConfig`], [`QwebDqnAgent`]):
//!   Q-values of composite actions from per-element and per-field encodings with shared weights.
//! - [`inet`] and [`meta_qweb`]: QWeb's meta-trainer without an expert: INET ([`Inet`], DQN on
//!   the instruction-generation env) and MetaQWeb ([`MetaQweb`]), the QWeb DQN trained on
//!   (INET instruction, RRND goal) tasks.
//! - [`vec_env`]: N env copies stepped in lock-step on worker threads, reset on a teacher's
//!   tasks, checkpointable by replay; results never depend on the thread count.
//! - [`trainer`]: the teacher-driven training loop ([`Trainer`]) over any [`Student`], with
//!   periodic evaluation on a fixed [`TestSet`] ([`eval`]) and exact resume.
//!
//! Every public function validates its input (shapes, NaN/∞, config ranges) and returns a
//! [`StudentError`] instead of panicking; network errors ([`NnError`]) convert into the
//! variant of the same name. The same seed gives the same initial parameters and, with the
//! same data, the same training trajectory bit for bit.
#![warn(missing_docs)]

pub mod dqn;
mod error;
pub mod eval;
pub mod inet;
pub mod meta_qweb;
pub mod ppo;
pub mod qweb;
pub mod replay;
pub mod sac;
pub mod student;
pub mod trainer;
pub mod vec_env;

// The networks, under the module names and flat paths they had when they lived here.
pub use teachgym_nn::{activation, adam, checkpoint, gradients, init, mlp};
pub use teachgym_nn::{
    clip_global_norm, fast_tanh, Activation, Adam, AdamConfig, Checkpoint, ForwardCache, Gradients,
    InferenceBuffers, Init, Layer, LayerConfig, LayerGradients, Mlp, MlpConfig, NnError,
    CHECKPOINT_FORMAT_VERSION, FAST_TANH_MAX_ABS_ERROR,
};

pub use dqn::{DqnAgent, DqnConfig};
pub use error::{Result, StudentError};
pub use eval::{evaluate, Evaluation, TestSet};
pub use inet::{Inet, InetConfig, InetTrainer};
pub use meta_qweb::{train_inet, InetAccuracy, MetaQweb, MetaQwebConfig};
pub use ppo::{PpoAgent, PpoConfig};
pub use qweb::{FormEnv, QwebDqnAgent, QwebDqnConfig};
pub use replay::{BoxReplayBuffer, BoxTransition, ReplayBuffer, Transition};
pub use sac::{LogStdBound, SacAgent, SacConfig};
pub use student::{Student, TrainClock};
pub use trainer::{train_for, IterationReport, Trainer, TrainerCheckpoint, TrainerConfig};
pub use vec_env::{
    episode_seed, EpisodeRecord, FixedTasks, SampledTasks, TaskSource, TeacherTasks, VecEnv,
    VecStep,
};

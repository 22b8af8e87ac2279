//! Small neural networks for teachgym's built-in students: everything a PPO or DQN learner
//! needs from a network, with forward and backward passes that give the same bits on every
//! x86-64 CPU.
//!
//! - [`Mlp`]: a small fully-connected network on `ndarray` with configurable widths and
//!   [`Activation`]s (tanh via [`fast_tanh`], relu, leaky relu, identity), orthogonal,
//!   scaled-uniform or Glorot-uniform [`Init`] from a seeded RNG, a batched [`Mlp::forward`] that caches activations, analytic
//!   [`Mlp::backward`] into [`Gradients`], and an allocation-free single-observation
//!   [`Mlp::forward_one`] that is bit-identical to the batched pass.
//! - [`kernel`]: the matrix products behind the forward and backward passes, each output
//!   element computed in a fixed order of separate multiplies and adds (no FMA), so outputs
//!   and gradients, and thus the weights trained from the same initial ones, are the same on
//!   every x86-64 CPU. Public, for students that multiply matrices outside an [`Mlp`].
//! - [`clip_global_norm`]: gradient clipping by global norm across one or several networks.
//! - [`Adam`]: Adam / AdamW with hyper-parameters in [`AdamConfig`].
//! - [`RmsProp`]: TensorFlow 1's RMSProp (mean square starting at 1, ε inside the root), with
//!   hyper-parameters in [`RmsPropConfig`]; GoalGAN's optimiser.
//! - [`Checkpoint`]: versioned, bit-exact save/load of parameters and optimiser state.
//!
//! Every public function outside [`kernel`] validates its input (shapes, NaN/∞, config ranges)
//! and returns an [`NnError`] instead of panicking; the raw kernels assert their slice lengths.
//! The same seed gives the same initial parameters and, with the same data, the same training
//! trajectory bit for bit.
#![warn(missing_docs)]

pub mod activation;
pub mod adam;
pub mod checkpoint;
mod error;
pub mod gradients;
pub mod init;
pub mod kernel;
pub mod mlp;
pub mod rmsprop;

pub use activation::{
    fast_tanh, first_map_in_place_mismatch, map_in_place, Activation, FAST_TANH_MAX_ABS_ERROR,
    LEAKY_RELU_SLOPE,
};
pub use adam::{Adam, AdamConfig};
pub use checkpoint::{Checkpoint, CHECKPOINT_FORMAT_VERSION};
pub use error::{NnError, Result};
pub use gradients::{clip_global_norm, Gradients, LayerGradients};
pub use init::Init;
pub use mlp::{
    polyak_update, validate_hidden_sizes, ForwardCache, InferenceBuffers, Layer, LayerConfig, Mlp,
    MlpConfig, MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH, MAX_PARAMETERS,
};
pub use rmsprop::{RmsProp, RmsPropConfig};

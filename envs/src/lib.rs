//! teachgym's environments.
//!
//! - [`walker`]: 2-D walkers on procedurally generated tracks (Stump Tracks, Hexagon Tracks),
//!   simulated with rapier2d, faithful to TeachMyAgent's constants, observations and rewards.
//! - [`point_mass`]: a tiny 2-D point mass that must reach a target, for fast learning tests.
//! - [`grid_world`]: a tiny discrete-action grid with walls and a goal, for fast learning tests
//!   of discrete-action students.
//! - [`webform`]: procedural web forms to fill from an instruction (after QWeb), with composite
//!   Click/Type actions and a scripted oracle.
//! - [`registry`]: every env by name, with its options and typed configuration ([`EnvConfig`]);
//!   the command line and the Python package both build their envs from it.
//! - [`batch`]: N envs of the registry stepped or reset in one call on a thread pool (the
//!   Python vector env's engine).
//! - [`text`]: boxes and DejaVu Sans text on a frame (the web form's view, frame captions).
#![warn(missing_docs)]

pub mod batch;
pub mod grid_world;
pub mod point_mass;
pub mod registry;
pub mod text;
pub mod walker;
pub mod webform;

pub use grid_world::{GridWorldConfig, GridWorldEnv};
pub use point_mass::{PointMassConfig, PointMassEnv};
pub use registry::{build_env, env_config, AnyEnv, EnvConfig, EnvEntry, EnvOptions, ENVS};
pub use webform::{WebFormConfig, WebFormEnv, WebFormMdEnv, WebFormObs};

pub use walker::{
    BodyDef, Embodiment, HexagonTracksConfig, PhysicsConfig, ScriptedWalker, StumpTracksConfig,
    TrackConfig, WalkerConfig, WalkerEnv,
};

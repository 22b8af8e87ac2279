//! teachgym's environments.
//!
//! - [`walker`]: 2-D walkers on procedurally generated tracks (Stump Tracks, Hexagon Tracks),
//!   simulated with rapier2d, faithful to TeachMyAgent's constants, observations and rewards.
#![warn(missing_docs)]

pub mod walker;

pub use walker::{
    BodyDef, Embodiment, HexagonTracksConfig, PhysicsConfig, ScriptedWalker, StumpTracksConfig,
    TrackConfig, WalkerConfig, WalkerEnv,
};

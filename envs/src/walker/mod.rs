//! 2-D walkers on procedural tracks (TeachMyAgent's Stump Tracks, teachDeepRL's Hexagon Tracks)
//! simulated with rapier2d.
//!
//! - `constants`: the shared numbers (units in their docs).
//! - `body`: embodiments as data.
//! - `terrain`: track generation from a task vector.
//! - `physics`: the rapier world, motors, contacts, lidar.
//! - `env`: the [`WalkerEnv`] and its configuration.
//! - `render`: tiny-skia frames.
//! - `controller`: a scripted gait.

mod body;
pub mod constants;
mod controller;
mod env;
mod physics;
mod render;
mod terrain;

pub use body::{BodyDef, Embodiment, HingeDef, JointDef, PartDef, PartShape, EFFORT_TORQUE};
pub use controller::{GaitConfig, ScriptedWalker};
pub use env::{
    HexagonTracksConfig, StumpTracksConfig, TrackConfig, WalkerConfig, WalkerEnv,
    DEFAULT_HEXAGON_OFFSET_BOUNDS, DEFAULT_HEXAGON_OFFSET_STD, DEFAULT_HEXAGON_SPACING,
    DEFAULT_OBSTACLE_SPACING_BOUNDS, DEFAULT_STUMP_HEIGHT_BOUNDS, DEFAULT_STUMP_HEIGHT_STD,
    MAX_OBSTACLE_SIZE, MAX_OBSTACLE_SPACING, MIN_STUMP_HEIGHT,
};
pub use physics::{
    PartPose, PartState, PhysicsConfig, DEFAULT_MOTOR_FACTOR, DEFAULT_PGS_ITERATIONS,
    DEFAULT_SOLVER_ITERATIONS, MAX_PGS_ITERATIONS, MAX_SOLVER_ITERATIONS,
};
pub use render::{FRAME_HEIGHT, FRAME_WIDTH};
pub use terrain::{Obstacle, ObstacleKind, Terrain};

//! 2-D walkers on procedural tracks (TeachMyAgent's Stump Tracks and Parkour, teachDeepRL's
//! Hexagon Tracks) simulated with rapier2d.
//!
//! - `constants`: the shared numbers (units in their docs).
//! - `body`: embodiments as data.
//! - `terrain`: track generation from a task vector.
//! - `test_sets`: the rule of Parkour's walking, swimming and climbing test sets.
//! - `cppn`: the network that draws Parkour's ground and ceiling, with teachgym's own weights.
//! - `physics`: the rapier world, motors, contacts, lidar.
//! - `env`: the [`WalkerEnv`] and its configuration.
//! - `render`: tiny-skia frames.
//! - `controller`: a scripted gait.

mod body;
pub mod constants;
mod controller;
mod cppn;
mod env;
mod physics;
mod render;
mod terrain;
mod test_sets;

pub use body::{
    BodyDef, Embodiment, HingeDef, JointDef, LidarMode, Locomotion, PartDef, PartShape,
    EFFORT_TORQUE, SURVIVAL_STEPS, WATER_DENSITY,
};
pub use controller::{GaitConfig, ScriptedWalker};
pub use cppn::{
    Cppn, BUILTIN_CPPN_SEED, CPPN_FILE_BYTES, CPPN_HIDDEN, CPPN_HIDDEN_LAYERS, CPPN_INPUTS,
    CPPN_OUTPUTS, CPPN_WEIGHT_COUNT, CPPN_WEIGHT_STD,
};
pub use env::{
    HexagonTracksConfig, ParkourConfig, StumpTracksConfig, TrackConfig, WalkerConfig, WalkerEnv,
    CPPN_SCALE_RANGE, DEFAULT_CEILING_CLIP_OFFSET, DEFAULT_CEILING_OFFSET,
    DEFAULT_CPPN_INPUT_BOUNDS, DEFAULT_CPPN_SCALE_BOUNDS, DEFAULT_CREEPERS_HEIGHT_BOUNDS,
    DEFAULT_CREEPERS_SPACING_BOUNDS, DEFAULT_CREEPERS_WIDTH_BOUNDS, DEFAULT_CREEPER_HEIGHT_STD,
    DEFAULT_HEXAGON_OFFSET_BOUNDS, DEFAULT_HEXAGON_OFFSET_STD, DEFAULT_HEXAGON_SPACING,
    DEFAULT_OBSTACLE_SPACING_BOUNDS, DEFAULT_STUMP_HEIGHT_BOUNDS, DEFAULT_STUMP_HEIGHT_STD,
    DEFAULT_WATER_LEVEL_BOUNDS, MAX_OBSTACLE_SIZE, MAX_OBSTACLE_SPACING, MAX_PARKOUR_PARAMETER,
    MIN_STUMP_HEIGHT, PARKOUR_DIM_NAMES, PARKOUR_TERRAIN_END,
};
pub use physics::{
    PartPose, PartState, PhysicsConfig, DEFAULT_MOTOR_FACTOR, DEFAULT_PGS_ITERATIONS,
    DEFAULT_SOLVER_ITERATIONS, MAX_PGS_ITERATIONS, MAX_SOLVER_ITERATIONS, MOVABLE_CREEPER_SEGMENT,
};
pub use render::{FRAME_HEIGHT, FRAME_WIDTH};
pub use terrain::{
    parkour_ground_limit, Obstacle, ObstacleKind, Terrain, MIN_CREEPER_SIZE, MIN_WATER_LEVEL,
};
pub use test_sets::{ParkourSkill, PARKOUR_TEST_SET_SEED, PARKOUR_TEST_SET_SIZE};

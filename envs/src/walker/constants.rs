//! Constants shared by every walker track, in world units (metres, seconds, radians) unless the
//! name says otherwise. Values are those of TeachMyAgent / gymnasium's BipedalWalker, where one
//! world unit is [`SCALE`] pixels of the original 600×400 viewport.

/// Simulation frequency (Hz); one env step is `1 / FPS` seconds.
pub const FPS: f32 = 50.0;
/// Pixels per world unit in the original renderer; it also enters the observation normalisers.
pub const SCALE: f32 = 30.0;
/// Width of the original viewport (pixels).
pub const VIEWPORT_W: f32 = 600.0;
/// Height of the original viewport (pixels).
pub const VIEWPORT_H: f32 = 400.0;
/// Gravity (m/s², along y).
pub const GRAVITY: f32 = -10.0;

/// Horizontal length of one terrain step (m).
pub const TERRAIN_STEP: f32 = 14.0 / SCALE;
/// Track length in terrain steps.
pub const TERRAIN_LENGTH: usize = 200;
/// Ground height of the start pad (m).
pub const TERRAIN_HEIGHT: f32 = VIEWPORT_H / SCALE / 4.0;
/// Length of the flat start pad in terrain steps.
pub const TERRAIN_STARTPAD: usize = 20;
/// The episode ends successfully this many terrain steps before the end of the track.
pub const TERRAIN_END: usize = 10;
/// Friction coefficient of the ground and obstacles.
pub const TERRAIN_FRICTION: f32 = 2.5;

/// Magnitude bound of the random horizontal force applied to the hull at reset (N).
pub const INITIAL_RANDOM: f32 = 5.0;

/// Number of lidar rays.
pub const LIDAR_RAYS: usize = 10;
/// Lidar range (m).
pub const LIDAR_RANGE: f32 = 160.0 / SCALE;
/// Ray `i` points `LIDAR_FAN * i / LIDAR_RAYS` radians forward of straight down.
pub const LIDAR_FAN: f32 = 1.5;

/// Reward per pixel-equivalent of forward progress: shaping = `FORWARD_REWARD * x / SCALE`.
pub const FORWARD_REWARD: f32 = 130.0;
/// Shaping penalty per radian of hull tilt.
pub const HULL_ANGLE_PENALTY: f32 = 5.0;
/// Reward replacing the step reward when the walker falls (critical contact or x < 0).
pub const FALL_REWARD: f64 = -100.0;
/// An episode whose return exceeds this is "mastered" (TeachMyAgent's test metric).
pub const MASTERY_THRESHOLD: f64 = 230.0;
/// Default step limit; the env sets `truncated` when it is reached.
pub const DEFAULT_MAX_EPISODE_STEPS: u32 = 2000;

/// x position of the hull at reset (m): the middle of the start pad.
pub const SPAWN_X: f32 = TERRAIN_STEP * TERRAIN_STARTPAD as f32 / 2.0;
/// x of the hull beyond which the episode ends as a success (m).
pub const TRACK_END_X: f32 = (TERRAIN_LENGTH - TERRAIN_END) as f32 * TERRAIN_STEP;

/// Separation (m) under which two shapes count as touching for the contact flags. Box2D keeps
/// polygons apart by their skin radius (2 × 0.005 m each side), so its contacts begin within about
/// this distance.
pub const TOUCH_DISTANCE: f32 = 0.02;

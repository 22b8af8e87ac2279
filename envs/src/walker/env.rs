//! [`WalkerEnv`]: the Stump Tracks, Hexagon Tracks and Parkour environments behind the core
//! [`Env`] contract, with their configuration structs.
//!
//! # Description
//! A 2-D walker must cross a track whose shape is set by the task vector: stumps (Stump Tracks),
//! hexagons (Hexagon Tracks), or, in Parkour, ground and ceiling drawn by a CPPN from a 3-D input
//! vector (see [`Cppn`]), with water up to a level and creepers hanging from the ceiling.
//!
//! # Action space
//! `Box([-1, 1]^m)`, one component per motor (m = 4 for the bipedals and the fish, 8 to 16 for
//! the other bodies, see [`Embodiment`]). Motor `i` targets
//! `speed_i · sign(a_i)` with a torque cap of `motors_torque · |a_i|`. Components outside
//! `[-1, 1]` are clipped (as the reference does); NaN or infinite components are an error.
//!
//! # Observation space
//! `Box(f32)`: the head part's (the hull's) angle, `2ω/FPS`, `0.3·vx·(VIEWPORT_W/SCALE)/FPS`,
//! `0.3·vy·(VIEWPORT_H/SCALE)/FPS`; per motor its angle (+ correction) and `speed / speed_i`,
//! plus the contact flag of its part for motors that report one; then 10 lidar fractions cast
//! from the head. 24 values for the bipedals, in BipedalWalker's order; 26 to 54 for the others.
//! Parkour inserts `is_under_water` and `is_dead` (0/1) after the four head values and appends
//! one surface flag per lidar ray (−1 water, +1 creeper, 0 ground or ceiling or nothing): 12
//! more values (36 for the bipedals). Its lidar fan depends on the body ([`LidarMode`]: down
//! for walkers, a full half-circle for swimmers and amphibians) unless the configuration sets it.
//!
//! # Rewards
//! `Δ(130·x/SCALE − 5·|head angle|) − torque_penalty · 80 · Σ clip(|a|, 0, 1)`, with the head
//! x and angle; the angle term is dropped for the wheel, the chimpanzee and the fish, and 80 N·m
//! is the bipedal's torque for every body (each body divides its `torque_penalty` instead).
//! Replaced by −100 when the walker falls.
//!
//! # Water (Parkour)
//! Every part below the surface feels buoyancy (water density × submerged area × g, at the
//! submerged centroid) and, per leading edge of its submerged outline, drag and lift; a part
//! turned by a motor also gets TeachMyAgent's "push" (a reaction to the motor's torque, which
//! is how its swimmers swim; see `physics.rs`). The forces are computed from the state after each
//! step and applied during the next, as the reference does. A walker whose head stays under water for more than 600 consecutive steps, or
//! a swimmer whose head stays out of it as long, dies: its actions are ignored from then on and
//! `is_dead` reads 1, but the episode runs on to its step limit. Amphibians never die.
//!
//! # Episode end
//! Terminated when a critical part (the hull; the chimpanzee's head and chest; none for the
//! millipede and the fish) touches the terrain or x < 0 (reward −100), or when the head passes
//! the end of the track. In Parkour only the chimpanzee's parts stay critical (TeachMyAgent
//! lets its walkers touch with their hull there), and the track ends 5 terrain steps before its
//! end instead of 10. Truncated after `max_episode_steps` steps.
//! `info.episode` reports the return, the length and `success = return > 230`.

use rand::{Rng, RngCore, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{
    clip_unit_action, BoxSpace, DType, Env, EnvPrior, EpisodeProgress, Error, Info, Result,
    RgbFrame, Space, Step, TaskDim, TaskSpace,
};

use super::body::{
    startpad_steps, BodyDef, Embodiment, LidarMode, Locomotion, EFFORT_TORQUE, SURVIVAL_STEPS,
};
use super::constants::*;
use super::cppn::Cppn;
use super::physics::{
    lidar_fan_directions, PartPose, PartState, PhysicsConfig, WalkerWorld, MAX_PGS_ITERATIONS,
    MAX_SOLVER_ITERATIONS,
};
use super::terrain::{
    generate, generate_parkour, Obstacle, ObstacleGenerator, ObstacleKind, ParkourTrack, Terrain,
};
use super::test_sets::ParkourSkill;

/// Default bounds of `stump_height` (terrain steps), as in TeachMyAgent's benchmark.
pub const DEFAULT_STUMP_HEIGHT_BOUNDS: [f64; 2] = [0.0, 3.0];
/// Default bounds of `obstacle_spacing` (m).
pub const DEFAULT_OBSTACLE_SPACING_BOUNDS: [f64; 2] = [0.0, 6.0];
/// Standard deviation of each stump's height around the mean (terrain steps).
pub const DEFAULT_STUMP_HEIGHT_STD: f64 = 0.1;
/// Smallest stump height (terrain steps): negative means give flat tracks.
pub const MIN_STUMP_HEIGHT: f64 = 0.05;
/// Default bounds of each Hexagon Tracks vertex offset (terrain steps).
pub const DEFAULT_HEXAGON_OFFSET_BOUNDS: [f64; 2] = [0.0, 4.0];
/// Standard deviation of each hexagon vertex offset around its mean (terrain steps).
pub const DEFAULT_HEXAGON_OFFSET_STD: f64 = 0.1;
/// Gap between hexagons (m): the reference generator's spacing when none is given.
pub const DEFAULT_HEXAGON_SPACING: f64 = 8.0;
/// Largest magnitude of an obstacle size parameter (terrain steps): the bounds and the noise
/// std of `stump_height` and of the hexagon vertex offsets. Eleven times the hardest benchmark
/// challenge (stump heights up to 9); it keeps every vertex, even 8 std out, within a few
/// kilometres, where `f32` geometry stays exact to the millimetre (larger values overflowed
/// the physics' `f32` and broke its convex hulls).
pub const MAX_OBSTACLE_SIZE: f64 = 100.0;
/// Largest magnitude of an obstacle spacing (m), the bounds of `obstacle_spacing` and the
/// hexagons' gap: longer than the track (93 m), beyond which a track holds a single obstacle
/// anyway.
pub const MAX_OBSTACLE_SPACING: f64 = 100.0;

/// Stump Tracks: stumps of a mean height, separated by a spacing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StumpTracksConfig {
    /// Bounds of the `stump_height` dimension (terrain steps), within ±[`MAX_OBSTACLE_SIZE`].
    /// Default: [`DEFAULT_STUMP_HEIGHT_BOUNDS`]; the benchmark's challenges use `[0, 9]` and
    /// `[-3, 3]`.
    pub stump_height_bounds: [f64; 2],
    /// Bounds of the `obstacle_spacing` dimension (m), within ±[`MAX_OBSTACLE_SPACING`].
    /// Default: [`DEFAULT_OBSTACLE_SPACING_BOUNDS`].
    pub obstacle_spacing_bounds: [f64; 2],
    /// Per-stump height noise (terrain steps), in `[0, MAX_OBSTACLE_SIZE]`. Default:
    /// [`DEFAULT_STUMP_HEIGHT_STD`].
    pub stump_height_std: f64,
}

impl Default for StumpTracksConfig {
    fn default() -> Self {
        Self {
            stump_height_bounds: DEFAULT_STUMP_HEIGHT_BOUNDS,
            obstacle_spacing_bounds: DEFAULT_OBSTACLE_SPACING_BOUNDS,
            stump_height_std: DEFAULT_STUMP_HEIGHT_STD,
        }
    }
}

/// Hexagon Tracks (teachDeepRL): 12 vertex offsets of the hexagonal obstacles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HexagonTracksConfig {
    /// Bounds of each of the 12 offset dimensions (terrain steps), within
    /// ±[`MAX_OBSTACLE_SIZE`]. Default: [`DEFAULT_HEXAGON_OFFSET_BOUNDS`].
    pub offset_bounds: [f64; 2],
    /// Per-vertex offset noise (terrain steps), in `[0, MAX_OBSTACLE_SIZE]`. Default:
    /// [`DEFAULT_HEXAGON_OFFSET_STD`].
    pub offset_std: f64,
    /// Gap between hexagons (m), within ±[`MAX_OBSTACLE_SPACING`]. Default:
    /// [`DEFAULT_HEXAGON_SPACING`].
    pub obstacle_spacing: f64,
}

impl Default for HexagonTracksConfig {
    fn default() -> Self {
        Self {
            offset_bounds: DEFAULT_HEXAGON_OFFSET_BOUNDS,
            offset_std: DEFAULT_HEXAGON_OFFSET_STD,
            obstacle_spacing: DEFAULT_HEXAGON_SPACING,
        }
    }
}

/// Parkour's default CPPN input bounds (TeachMyAgent's "medium" input space).
pub const DEFAULT_CPPN_INPUT_BOUNDS: [[f64; 2]; 3] = [[-0.35, 0.05], [0.6, 1.0], [-0.1, 0.3]];
/// Parkour's default water level bounds (fraction of the world's height range).
pub const DEFAULT_WATER_LEVEL_BOUNDS: [f64; 2] = [0.0, 1.0];
/// Parkour's default creeper width bounds (m): fixed, as in TeachMyAgent.
pub const DEFAULT_CREEPERS_WIDTH_BOUNDS: [f64; 2] = [0.25, 0.25];
/// Parkour's default creeper height bounds (m).
pub const DEFAULT_CREEPERS_HEIGHT_BOUNDS: [f64; 2] = [0.0, 4.0];
/// Parkour's default creeper spacing bounds (m).
pub const DEFAULT_CREEPERS_SPACING_BOUNDS: [f64; 2] = [0.0, 5.0];
/// Parkour's default CPPN output scale bounds: fixed at 10, as in TeachMyAgent's training
/// (its walking and swimming test sets also use 20, smoother).
pub const DEFAULT_CPPN_SCALE_BOUNDS: [f64; 2] = [10.0, 10.0];
/// Height of Parkour's ceiling above the start pad, times the CPPN scale (m).
pub const DEFAULT_CEILING_OFFSET: f64 = 200.0;
/// Smallest gap between Parkour's ceiling and ground, times the CPPN scale (m): 0 lets the
/// ceiling close the tunnel.
pub const DEFAULT_CEILING_CLIP_OFFSET: f64 = 0.0;
/// Standard deviation of each creeper's height around the mean (m).
pub const DEFAULT_CREEPER_HEIGHT_STD: f64 = 0.1;
/// The Parkour episode ends successfully this many terrain steps before the end of the track.
pub const PARKOUR_TERRAIN_END: usize = 5;
/// Smallest and largest CPPN scale: below 1 the terrain's relief spans kilometres.
pub const CPPN_SCALE_RANGE: [f64; 2] = [1.0, 1000.0];
/// Largest magnitude of a CPPN input or a creeper size or spacing.
pub const MAX_PARKOUR_PARAMETER: f64 = 100.0;

/// Parkour (TeachMyAgent): ground and ceiling drawn by a CPPN from a 3-D input vector, water,
/// and creepers hanging from the ceiling. The task vector has 8 dimensions, 6 of them free by
/// default: `input_vector_0..2`, `water_level`, `creepers_width` (fixed), `creepers_height`,
/// `creepers_spacing`, `terrain_cppn_scale` (fixed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParkourConfig {
    /// Bounds of the three CPPN input dimensions. Default: [`DEFAULT_CPPN_INPUT_BOUNDS`].
    pub input_vector_bounds: [[f64; 2]; 3],
    /// Bounds of `water_level` (in [0, 1]). Default: [`DEFAULT_WATER_LEVEL_BOUNDS`].
    pub water_level_bounds: [f64; 2],
    /// Bounds of `creepers_width` (m). Default: [`DEFAULT_CREEPERS_WIDTH_BOUNDS`].
    pub creepers_width_bounds: [f64; 2],
    /// Bounds of `creepers_height` (m). Default: [`DEFAULT_CREEPERS_HEIGHT_BOUNDS`].
    pub creepers_height_bounds: [f64; 2],
    /// Bounds of `creepers_spacing` (m). Default: [`DEFAULT_CREEPERS_SPACING_BOUNDS`].
    pub creepers_spacing_bounds: [f64; 2],
    /// Bounds of `terrain_cppn_scale`, within [`CPPN_SCALE_RANGE`]. Default:
    /// [`DEFAULT_CPPN_SCALE_BOUNDS`].
    pub cppn_scale_bounds: [f64; 2],
    /// Ceiling height above the start pad, times the scale (m). Default:
    /// [`DEFAULT_CEILING_OFFSET`].
    pub ceiling_offset: f64,
    /// Smallest ceiling–ground gap, times the scale (m). Default:
    /// [`DEFAULT_CEILING_CLIP_OFFSET`].
    pub ceiling_clip_offset: f64,
    /// Per-creeper height noise (m). Default: [`DEFAULT_CREEPER_HEIGHT_STD`].
    pub creeper_height_std: f64,
    /// The lidar fan; `None` takes the body's ([`Locomotion::default_lidar`]).
    pub lidar_mode: Option<LidarMode>,
    /// A CPPN weight file to use instead of teachgym's built-in weights (see [`Cppn`]).
    pub cppn_weights: Option<String>,
    /// Creepers as TeachMyAgent's `movable_creepers`: chains of dynamic segments (each at most
    /// [`MOVABLE_CREEPER_SEGMENT`](super::MOVABLE_CREEPER_SEGMENT) m long, joined with ±0.4π
    /// limits, hanging from the ceiling) that swing when grasped, instead of static sensor
    /// rectangles. They never collide either; the lidar sees them where they hang now.
    /// Default: false (TeachMyAgent's default).
    pub movable_creepers: bool,
}

impl Default for ParkourConfig {
    fn default() -> Self {
        Self {
            input_vector_bounds: DEFAULT_CPPN_INPUT_BOUNDS,
            water_level_bounds: DEFAULT_WATER_LEVEL_BOUNDS,
            creepers_width_bounds: DEFAULT_CREEPERS_WIDTH_BOUNDS,
            creepers_height_bounds: DEFAULT_CREEPERS_HEIGHT_BOUNDS,
            creepers_spacing_bounds: DEFAULT_CREEPERS_SPACING_BOUNDS,
            cppn_scale_bounds: DEFAULT_CPPN_SCALE_BOUNDS,
            ceiling_offset: DEFAULT_CEILING_OFFSET,
            ceiling_clip_offset: DEFAULT_CEILING_CLIP_OFFSET,
            creeper_height_std: DEFAULT_CREEPER_HEIGHT_STD,
            lidar_mode: None,
            cppn_weights: None,
            movable_creepers: false,
        }
    }
}

/// Names of Parkour's task dimensions, in order.
pub const PARKOUR_DIM_NAMES: [&str; 8] = [
    "input_vector_0",
    "input_vector_1",
    "input_vector_2",
    "water_level",
    "creepers_width",
    "creepers_height",
    "creepers_spacing",
    "terrain_cppn_scale",
];

impl ParkourConfig {
    /// Every dimension's bounds, in [`PARKOUR_DIM_NAMES`] order.
    pub fn bounds(&self) -> [[f64; 2]; 8] {
        let [a, b, c] = self.input_vector_bounds;
        [
            a,
            b,
            c,
            self.water_level_bounds,
            self.creepers_width_bounds,
            self.creepers_height_bounds,
            self.creepers_spacing_bounds,
            self.cppn_scale_bounds,
        ]
    }

    /// Sets the bounds of the dimension called `name`; `false` for an unknown name.
    pub fn set_bounds(&mut self, name: &str, bounds: [f64; 2]) -> bool {
        let slot = match name {
            "input_vector_0" => &mut self.input_vector_bounds[0],
            "input_vector_1" => &mut self.input_vector_bounds[1],
            "input_vector_2" => &mut self.input_vector_bounds[2],
            "water_level" => &mut self.water_level_bounds,
            "creepers_width" => &mut self.creepers_width_bounds,
            "creepers_height" => &mut self.creepers_height_bounds,
            "creepers_spacing" => &mut self.creepers_spacing_bounds,
            "terrain_cppn_scale" => &mut self.cppn_scale_bounds,
            _ => return false,
        };
        *slot = bounds;
        true
    }

    fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| {
            Err(Error::InvalidConfig {
                field: format!("track.{field}"),
                reason,
            })
        };
        for (name, [low, high]) in PARKOUR_DIM_NAMES.iter().zip(self.bounds()) {
            let (lo, hi) = match *name {
                "water_level" => (0.0, 1.0),
                "terrain_cppn_scale" => (CPPN_SCALE_RANGE[0], CPPN_SCALE_RANGE[1]),
                _ => (-MAX_PARKOUR_PARAMETER, MAX_PARKOUR_PARAMETER),
            };
            if let Some(v) = [low, high]
                .into_iter()
                .find(|v| !v.is_finite() || *v < lo || *v > hi)
            {
                return bad(
                    &format!("bounds.{name}"),
                    format!("{v:?} is outside [{lo}, {hi}]"),
                );
            }
        }
        for (field, value) in [
            ("ceiling_offset", self.ceiling_offset),
            ("ceiling_clip_offset", self.ceiling_clip_offset),
        ] {
            if !value.is_finite() || value.abs() > 10_000.0 {
                return bad(field, format!("{value:?} is not finite within ±10000"));
            }
        }
        if !(0.0..=MAX_PARKOUR_PARAMETER).contains(&self.creeper_height_std) {
            return bad(
                "creeper_height_std",
                format!(
                    "{:?} is outside [0, {MAX_PARKOUR_PARAMETER}] m",
                    self.creeper_height_std
                ),
            );
        }
        Ok(())
    }
}

/// Which track family, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrackConfig {
    /// Stump Tracks.
    StumpTracks(StumpTracksConfig),
    /// Hexagon Tracks.
    HexagonTracks(HexagonTracksConfig),
    /// Parkour.
    Parkour(ParkourConfig),
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig::StumpTracks(StumpTracksConfig::default())
    }
}

/// Everything that defines a walker environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalkerConfig {
    /// Track family and parameters. Default: Stump Tracks.
    pub track: TrackConfig,
    /// Embodiment. Default: `classic_bipedal`.
    pub body: Embodiment,
    /// Step limit; the env sets `truncated` when reached. Default: [`DEFAULT_MAX_EPISODE_STEPS`].
    pub max_episode_steps: u32,
    /// Seed of the env's RNG until a reset passes one. Default: 0.
    pub seed: u64,
    /// Solver settings.
    pub physics: PhysicsConfig,
}

impl Default for WalkerConfig {
    fn default() -> Self {
        Self {
            track: TrackConfig::default(),
            body: Embodiment::default(),
            max_episode_steps: DEFAULT_MAX_EPISODE_STEPS,
            seed: 0,
            physics: PhysicsConfig::default(),
        }
    }
}

impl WalkerConfig {
    /// Stump Tracks with default bounds and the classic bipedal.
    pub fn stump_tracks() -> Self {
        Self::default()
    }

    /// Hexagon Tracks with default bounds and the classic bipedal.
    pub fn hexagon_tracks() -> Self {
        Self {
            track: TrackConfig::HexagonTracks(HexagonTracksConfig::default()),
            ..Self::default()
        }
    }

    /// Parkour with default bounds and the classic bipedal.
    pub fn parkour() -> Self {
        Self {
            track: TrackConfig::Parkour(ParkourConfig::default()),
            ..Self::default()
        }
    }

    /// Names accepted by [`WalkerConfig::by_name`].
    pub const ENV_NAMES: [&'static str; 3] = ["stump_tracks", "hexagon_tracks", "parkour"];

    /// The default configuration of a named environment (`stump_tracks`, `hexagon_tracks`;
    /// dashes and case are ignored, so `StumpTracks` and `stump-tracks` work too).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] listing the known names.
    pub fn by_name(name: &str) -> Result<Self> {
        let key: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "stumptracks" => Ok(Self::stump_tracks()),
            "hexagontracks" => Ok(Self::hexagon_tracks()),
            "parkour" => Ok(Self::parkour()),
            _ => Err(Error::InvalidConfig {
                field: "env".into(),
                reason: format!(
                    "unknown environment `{name}`; known: {}",
                    Self::ENV_NAMES.join(", ")
                ),
            }),
        }
    }

    /// The fixed test set of the track's evaluation protocol, if it has one: on Parkour, the
    /// body's skill set ([`ParkourSkill::of`]: walking, swimming or climbing, 100 tasks each).
    /// Stump and Hexagon Tracks have none (the 10×10 grid over the run's space is the protocol).
    pub fn protocol_test_set(&self) -> Option<Vec<Vec<f64>>> {
        match &self.track {
            TrackConfig::Parkour(_) => Some(
                ParkourSkill::of(self.body)
                    .tasks()
                    .into_iter()
                    .map(Vec::from)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The task space this configuration defines.
    ///
    /// # Errors
    /// [`Error::InvalidBounds`] for bad bounds.
    pub fn task_space(&self) -> Result<TaskSpace> {
        match &self.track {
            TrackConfig::StumpTracks(c) => TaskSpace::new(vec![
                TaskDim::new(
                    "stump_height",
                    c.stump_height_bounds[0],
                    c.stump_height_bounds[1],
                    "mean stump height, in terrain steps (1 = 0.467 m); each stump is \
                     max(0.05, N(mean, 0.1)) high",
                ),
                TaskDim::new(
                    "obstacle_spacing",
                    c.obstacle_spacing_bounds[0],
                    c.obstacle_spacing_bounds[1],
                    "gap between consecutive stumps (m), clipped to >= 0.01",
                ),
            ]),
            TrackConfig::HexagonTracks(c) => TaskSpace::new(
                (0..6)
                    .flat_map(|k| {
                        ["dx", "dy"].into_iter().map(move |axis| {
                            TaskDim::new(
                                format!("vertex{k}_{axis}"),
                                c.offset_bounds[0],
                                c.offset_bounds[1],
                                format!(
                                    "mean {axis} offset of hexagon vertex {k}, in terrain steps \
                                     (end vertices keep their feet on the ground)"
                                ),
                            )
                        })
                    })
                    .collect(),
            ),
            TrackConfig::Parkour(c) => {
                let docs = [
                    "CPPN input 0 (conditions the ground and ceiling shapes)",
                    "CPPN input 1",
                    "CPPN input 2",
                    "water level, a fraction of the height from the world's bottom \
                     (-1000/scale m) to the highest ceiling point; clipped to >= 0.01",
                    "creeper width (m), clipped to >= 0.2",
                    "mean creeper height (m); each is max(0.2, N(mean, 0.1))",
                    "distance between creepers (m), clipped to >= 0.01",
                    "divisor of the CPPN outputs (larger: smoother terrain)",
                ];
                TaskSpace::new(
                    PARKOUR_DIM_NAMES
                        .iter()
                        .zip(c.bounds())
                        .zip(docs)
                        .map(|((name, [low, high]), doc)| TaskDim::new(*name, low, high, doc))
                        .collect(),
                )
            }
        }
    }

    /// What an expert knows of this configuration (TeachMyAgent's expert knowledge): mastery
    /// at a return of [`MASTERY_THRESHOLD`], no progress at 0 (standing still; a fall costs
    /// [`FALL_REWARD`]), and the easiest task: Stump Tracks without stumps (height 0, clipped
    /// into the bounds) at the widest spacing, as TeachMyAgent's high-level prior; Hexagon
    /// Tracks with every offset at its lower bound (the smallest obstacles).
    ///
    /// # Errors
    /// As [`WalkerConfig::task_space`].
    pub fn prior(&self) -> Result<EnvPrior> {
        let space = self.task_space()?;
        let easy_task = match &self.track {
            TrackConfig::StumpTracks(c) => space.clip(&[0.0, c.obstacle_spacing_bounds[1]]),
            TrackConfig::HexagonTracks(_) => space.low(),
            // The middle of TeachMyAgent's "easy" CPPN inputs, no water, the smallest creepers
            // at the widest spacing, the smoothest terrain.
            TrackConfig::Parkour(c) => space.clip(&[
                -0.15,
                0.9,
                0.1,
                0.0,
                c.creepers_width_bounds[0],
                0.0,
                c.creepers_spacing_bounds[1],
                c.cppn_scale_bounds[1],
            ]),
        };
        Ok(EnvPrior {
            success_return: MASTERY_THRESHOLD,
            no_progress_return: 0.0,
            easy_task,
        })
    }

    /// Checks every field against what the physics can represent (`f32` geometry of a sane
    /// size: [`MAX_OBSTACLE_SIZE`], [`MAX_OBSTACLE_SPACING`], [`MAX_SOLVER_ITERATIONS`],
    /// [`MAX_PGS_ITERATIONS`]); [`WalkerEnv::new`] and the env registry call it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field and its value, or
    /// [`Error::InvalidBounds`] for bounds with `low > high`.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| {
            Err(Error::InvalidConfig {
                field: field.into(),
                reason,
            })
        };
        if self.max_episode_steps == 0 {
            return bad("max_episode_steps", "must be at least 1".into());
        }
        for (field, value, max) in [
            (
                "physics.solver_iterations",
                self.physics.solver_iterations,
                MAX_SOLVER_ITERATIONS,
            ),
            (
                "physics.pgs_iterations",
                self.physics.pgs_iterations,
                MAX_PGS_ITERATIONS,
            ),
        ] {
            if !(1..=max).contains(&value) {
                return bad(field, format!("must be in 1..={max}, got {value}"));
            }
        }
        if !(self.physics.motor_factor.is_finite() && self.physics.motor_factor > 0.0) {
            return bad(
                "physics.motor_factor",
                format!(
                    "must be finite and positive, got {}",
                    self.physics.motor_factor
                ),
            );
        }
        let (sizes, spacings, std) = match &self.track {
            TrackConfig::Parkour(c) => {
                c.validate()?;
                return self.task_space().map(drop);
            }
            TrackConfig::StumpTracks(c) => (
                ("track.stump_height_bounds", c.stump_height_bounds),
                ("track.obstacle_spacing_bounds", c.obstacle_spacing_bounds),
                ("track.stump_height_std", c.stump_height_std),
            ),
            TrackConfig::HexagonTracks(c) => (
                ("track.offset_bounds", c.offset_bounds),
                (
                    "track.obstacle_spacing",
                    [c.obstacle_spacing, c.obstacle_spacing],
                ),
                ("track.offset_std", c.offset_std),
            ),
        };
        for ((field, values), (limit, unit)) in [
            (sizes, (MAX_OBSTACLE_SIZE, "terrain steps")),
            (spacings, (MAX_OBSTACLE_SPACING, "m")),
        ] {
            if let Some(v) = values.iter().find(|v| !v.is_finite() || v.abs() > limit) {
                return bad(
                    field,
                    format!(
                        "{v:?} is not a finite value within ±{limit} {unit}, the largest the \
                         physics represents sanely"
                    ),
                );
            }
        }
        let (field, std) = std;
        if !(0.0..=MAX_OBSTACLE_SIZE).contains(&std) {
            return bad(
                field,
                format!("{std:?} is outside [0, {MAX_OBSTACLE_SIZE}] terrain steps"),
            );
        }
        self.task_space().map(drop)
    }
}

/// State of the episode in progress.
struct Episode {
    world: WalkerWorld,
    terrain: Terrain,
    task: Vec<f64>,
    progress: EpisodeProgress,
    prev_shaping: Option<f32>,
    lidar: [f32; LIDAR_RAYS],
    hull_x: f32,
    /// Parkour's water state (unused elsewhere).
    water: WaterState,
}

/// Steps a climber hangs with its grasp actions at 1 after reset (TeachMyAgent's
/// `NB_FIRST_STEPS_HANG`, here after the settling step).
pub const CLIMBER_HANG_STEPS: usize = 5;
/// Largest number of hand sensors a body may have.
const MAX_GRASP_SENSORS: usize = 4;

/// Parkour's survival bookkeeping.
#[derive(Debug, Clone, Copy, Default)]
struct WaterState {
    /// Lidar surface flags of the last observation.
    flags: [f32; LIDAR_RAYS],
    /// Consecutive steps in the medium the body cannot live in.
    steps_in_wrong_medium: u32,
    /// Whether the head was under water after the last step.
    under_water: bool,
    /// Dead: actions are ignored until the episode ends.
    dead: bool,
}

/// What a Parkour env keeps beside the shared walker state.
struct ParkourSetup {
    track: ParkourConfig,
    cppn: Cppn,
    lidar: [rapier2d::prelude::Vector; LIDAR_RAYS],
    track_end_x: f32,
}

/// A walker on a procedurally generated track.
///
/// ```
/// use teachgym_core::Env;
/// use teachgym_envs::{WalkerConfig, WalkerEnv};
/// let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
/// let (obs, _info) = env.reset(Some(7), &[1.0, 3.0]).unwrap();
/// assert_eq!(obs.len(), 24);
/// let step = env.step(&[0.5, -0.5, 0.5, -0.5]).unwrap();
/// assert!(step.reward.is_finite());
/// ```
pub struct WalkerEnv {
    config: WalkerConfig,
    body: BodyDef,
    task_space: TaskSpace,
    observation_space: Space,
    action_space: Space,
    rng: Pcg64,
    episode: Option<Episode>,
    clipped: Vec<f32>,
    parkour: Option<ParkourSetup>,
}

impl WalkerEnv {
    /// Builds an env from its configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] or [`Error::InvalidBounds`] naming the bad field.
    pub fn new(config: WalkerConfig) -> Result<Self> {
        config.validate()?;
        let task_space = config.task_space()?;
        let body = config.body.body();
        if body.grasp_sensors.len() > MAX_GRASP_SENSORS {
            return Err(Error::InvalidConfig {
                field: "body".into(),
                reason: format!("at most {MAX_GRASP_SENSORS} hand sensors are supported"),
            });
        }
        let climber = body.locomotion == Locomotion::Climber;
        if climber && !matches!(config.track, TrackConfig::Parkour(_)) {
            return Err(Error::InvalidConfig {
                field: "body".into(),
                reason: format!(
                    "`{}` is a climber: it hangs from Parkour's ceiling, which this track has \
                     not (use the parkour env)",
                    body.name
                ),
            });
        }
        let parkour = match &config.track {
            TrackConfig::Parkour(c) => {
                let cppn = match &c.cppn_weights {
                    Some(path) => Cppn::from_file(path)?,
                    None => Cppn::builtin(),
                };
                let mode = c
                    .lidar_mode
                    .unwrap_or_else(|| body.locomotion.default_lidar());
                Some(ParkourSetup {
                    track: c.clone(),
                    cppn,
                    lidar: lidar_fan_directions(mode),
                    track_end_x: (TERRAIN_LENGTH + startpad_steps(&body) - PARKOUR_TERRAIN_END)
                        as f32
                        * TERRAIN_STEP,
                })
            }
            _ => None,
        };
        let observation_space = Space::Box(observation_box(&body, parkour.is_some())?);
        let action_space = Space::Box(BoxSpace::uniform(
            vec![body.action_dim()],
            -1.0,
            1.0,
            DType::F32,
        )?);
        Ok(Self {
            rng: Pcg64::seed_from_u64(config.seed),
            clipped: vec![0.0; body.action_dim()],
            config,
            body,
            task_space,
            observation_space,
            action_space,
            episode: None,
            parkour,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WalkerConfig {
        &self.config
    }

    /// The body definition.
    pub fn body(&self) -> &BodyDef {
        &self.body
    }

    /// The current track, if an episode was started.
    pub fn terrain(&self) -> Option<&Terrain> {
        self.episode.as_ref().map(|e| &e.terrain)
    }

    /// The creepers as they hang now: the terrain's, or with movable creepers every segment
    /// where it swings (`None` before the first reset).
    pub fn creepers(&self) -> Option<Vec<Obstacle>> {
        let ep = self.episode.as_ref()?;
        Some(if ep.world.movable_creepers() {
            ep.world
                .creeper_outlines()
                .map(|hull| Obstacle {
                    kind: ObstacleKind::Creeper,
                    vertices: hull.iter().map(|v| [v.x, v.y]).collect(),
                })
                .collect()
        } else {
            ep.terrain.creepers.clone()
        })
    }

    /// The task of the current episode.
    pub fn task(&self) -> Option<&[f64]> {
        self.episode.as_ref().map(|e| e.task.as_slice())
    }

    /// Poses of every body part, in definition order.
    pub fn part_poses(&self) -> Option<Vec<PartPose>> {
        let ep = self.episode.as_ref()?;
        Some(
            (0..self.body.parts.len())
                .map(|i| ep.world.pose(i))
                .collect(),
        )
    }

    /// Overwrites the state of every body part (definition order), e.g. to replay a state
    /// recorded in another simulator. The next `step` starts from it.
    ///
    /// # Errors
    /// [`Error::ResetNeeded`] before a reset; [`Error::InvalidConfig`] when the number of
    /// states differs from the number of parts or a value is not finite.
    pub fn set_body_state(&mut self, states: &[PartState]) -> Result<()> {
        let parts = self.body.parts.len();
        let ep = self.episode.as_mut().ok_or(Error::ResetNeeded {
            call: "set_body_state",
        })?;
        if states.len() != parts {
            return Err(Error::InvalidConfig {
                field: "body_state".into(),
                reason: format!(
                    "{} part states given, the body has {parts} parts",
                    states.len()
                ),
            });
        }
        let finite = |s: &PartState| {
            s.position
                .iter()
                .chain(&s.linvel)
                .chain([&s.angle, &s.angvel])
                .all(|v| v.is_finite())
        };
        if let Some(i) = states.iter().position(|s| !finite(s)) {
            return Err(Error::InvalidConfig {
                field: format!("body_state[{i}]"),
                reason: "values must be finite".into(),
            });
        }
        for (i, state) in states.iter().enumerate() {
            ep.world.set_part_state(i, state);
        }
        Ok(())
    }

    /// Lidar fractions of the last observation.
    pub fn lidar(&self) -> Option<[f32; LIDAR_RAYS]> {
        self.episode.as_ref().map(|e| e.lidar)
    }

    /// Parkour's lidar surface flags of the last observation (−1 water, +1 creeper, 0 else).
    pub fn lidar_flags(&self) -> Option<[f32; LIDAR_RAYS]> {
        self.episode.as_ref().map(|e| e.water.flags)
    }

    /// World positions of the hand sensors (climbers), in action order.
    pub fn grasp_sensor_positions(&self) -> Option<Vec<[f32; 2]>> {
        let ep = self.episode.as_ref()?;
        Some(
            (0..self.body.grasp_sensors.len())
                .map(|k| {
                    let p = ep.world.sensor_position(k);
                    [p.x, p.y]
                })
                .collect(),
        )
    }

    /// Whether the body died of water in this episode (Parkour).
    pub fn is_dead(&self) -> bool {
        self.episode.as_ref().is_some_and(|e| e.water.dead)
    }

    /// The lidar fan's ray directions (unit vectors).
    pub fn lidar_directions(&self) -> [[f32; 2]; LIDAR_RAYS] {
        let fan = match &self.parkour {
            Some(p) => p.lidar,
            None => lidar_fan_directions(LidarMode::Down),
        };
        fan.map(|v| [v.x, v.y])
    }

    /// x of the head beyond which the episode ends as a success (m).
    pub fn track_end_x(&self) -> f32 {
        self.parkour.as_ref().map_or(TRACK_END_X, |p| p.track_end_x)
    }

    /// Hull x position (m).
    pub fn hull_x(&self) -> Option<f32> {
        self.episode.as_ref().map(|e| e.hull_x)
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.episode.as_ref().map_or(0, |e| e.progress.steps)
    }

    /// Sum of the rewards of the current episode so far.
    pub fn episode_return(&self) -> f64 {
        self.episode
            .as_ref()
            .map_or(0.0, |e| e.progress.episode_return)
    }

    fn obstacle_generator(&self, task: &[f64]) -> (ObstacleGenerator, f64) {
        match &self.config.track {
            TrackConfig::StumpTracks(c) => (
                ObstacleGenerator::Stumps {
                    mean_height: task[0],
                    height_std: c.stump_height_std,
                    min_height: MIN_STUMP_HEIGHT,
                },
                task[1],
            ),
            TrackConfig::Parkour(_) => unreachable!("Parkour tracks come from the CPPN"),
            TrackConfig::HexagonTracks(c) => {
                let mut offsets = [0.0; 12];
                offsets.copy_from_slice(task);
                (
                    ObstacleGenerator::Hexagons {
                        offsets,
                        std: c.offset_std,
                    },
                    c.obstacle_spacing,
                )
            }
        }
    }

    /// Advances the physics with an already clipped action and computes the transition.
    fn advance(&mut self) -> (Vec<f32>, f64, bool) {
        let body = &self.body;
        let factor = self.config.physics.motor_factor;
        let track_end = self.track_end_x();
        let ep = self
            .episode
            .as_mut()
            .expect("advance is called with an episode");
        if ep.water.dead {
            self.clipped.iter_mut().for_each(|a| *a = 0.0);
        }
        ep.world.apply_water();
        ep.world.set_motors(body, &self.clipped, factor);
        // A non-positive grasp action lets go before the step; a positive one grasps after it,
        // if the sensor then touches the ceiling or a creeper (the reference's order).
        let grasp_actions = &self.clipped[body.joints.len()..];
        for (k, &a) in grasp_actions.iter().enumerate() {
            if a <= 0.0 {
                ep.world.release(k);
            }
        }
        ep.world.step();
        let mut grip = [false; MAX_GRASP_SENSORS];
        for (k, &a) in grasp_actions.iter().enumerate() {
            grip[k] = ep.world.sensor_touches_grip(k);
            if a > 0.0 && grip[k] {
                ep.world.grasp(k);
            }
        }

        let head = ep.world.pose(body.head);
        let (vel, angvel) = ep.world.velocity(body.head);
        match &self.parkour {
            Some(p) => {
                ep.world
                    .parkour_lidar(body.head, &p.lidar, &mut ep.lidar, &mut ep.water.flags);
                let under = ep.world.under_water(body.head);
                let wrong_medium = match body.locomotion {
                    Locomotion::Walker | Locomotion::Climber => under,
                    Locomotion::Swimmer => !under,
                    Locomotion::Amphibian => false,
                };
                let w = &mut ep.water;
                w.under_water = under;
                w.steps_in_wrong_medium = if wrong_medium {
                    w.steps_in_wrong_medium + 1
                } else {
                    0
                };
                if w.steps_in_wrong_medium > SURVIVAL_STEPS {
                    w.dead = true;
                }
            }
            None => ep.world.lidar(body.head, &mut ep.lidar),
        }
        ep.hull_x = head.position[0];

        let parkour = self.parkour.is_some();
        let mut obs = Vec::with_capacity(if parkour {
            body.parkour_observation_dim()
        } else {
            body.observation_dim()
        });
        obs.push(head.angle);
        obs.push(2.0 * angvel / FPS);
        obs.push(0.3 * vel[0] * (VIEWPORT_W / SCALE) / FPS);
        obs.push(0.3 * vel[1] * (VIEWPORT_H / SCALE) / FPS);
        if parkour {
            obs.push(f32::from(u8::from(ep.water.under_water)));
            obs.push(f32::from(u8::from(ep.water.dead)));
        }
        for (j, def) in body.joints.iter().enumerate() {
            let (angle, speed) = ep.world.joint_state(body, j);
            obs.push(angle + def.angle_correction);
            obs.push(speed / def.speed);
            if let Some(part) = def.contact_part {
                obs.push(if ep.world.touching(part) { 1.0 } else { 0.0 });
            }
        }
        for (k, &touches) in grip.iter().enumerate().take(body.grasp_sensors.len()) {
            obs.push(f32::from(u8::from(touches)));
            obs.push(f32::from(u8::from(ep.world.holding(k))));
        }
        obs.extend_from_slice(&ep.lidar);
        if parkour {
            obs.extend_from_slice(&ep.water.flags);
        }

        let mut shaping = FORWARD_REWARD * head.position[0] / SCALE;
        if body.penalise_head_tilt {
            shaping -= HULL_ANGLE_PENALTY * head.angle.abs();
        }
        let mut reward = ep.prev_shaping.map_or(0.0, |prev| shaping - prev) as f64;
        ep.prev_shaping = Some(shaping);
        let effort: f32 = self.clipped.iter().map(|a| a.abs()).sum();
        reward -= (body.torque_penalty * EFFORT_TORQUE * effort) as f64;

        let critical = !parkour || body.critical_on_parkour;
        // Climbers may touch the ceiling they hang from with any part.
        let climber = body.locomotion == Locomotion::Climber;
        let fell = head.position[0] < 0.0
            || (critical
                && body.parts.iter().enumerate().any(|(i, p)| {
                    p.critical
                        && if climber {
                            ep.world.touching_below_ceiling(i)
                        } else {
                            ep.world.touching(i)
                        }
                }));
        let mut terminated = false;
        if fell {
            reward = FALL_REWARD;
            terminated = true;
        }
        if head.position[0] > track_end {
            terminated = true;
        }
        (obs, reward, terminated)
    }
}

/// Observation bounds: angles wrap to (-π, π] (shifted by a motor's correction), velocities are
/// unbounded, contact flags are 0/1, lidar fractions lie in [0, 1].
/// Parkour adds `is_under_water` and `is_dead` (0/1) after the head values and the surface
/// flags (−1, 0, +1) after the lidar.
fn observation_box(body: &BodyDef, parkour: bool) -> Result<BoxSpace> {
    use std::f64::consts::PI;
    let inf = f64::INFINITY;
    let mut low = vec![-PI, -inf, -inf, -inf];
    let mut high = vec![PI, inf, inf, inf];
    if parkour {
        low.extend([0.0, 0.0]);
        high.extend([1.0, 1.0]);
    }
    for j in &body.joints {
        let c = j.angle_correction as f64;
        low.extend([-PI + c, -inf]);
        high.extend([PI + c, inf]);
        if j.contact_part.is_some() {
            low.push(0.0);
            high.push(1.0);
        }
    }
    for _ in &body.grasp_sensors {
        low.extend([0.0, 0.0]);
        high.extend([1.0, 1.0]);
    }
    low.extend([0.0; LIDAR_RAYS]);
    high.extend([1.0; LIDAR_RAYS]);
    if parkour {
        low.extend([-1.0; LIDAR_RAYS]);
        high.extend([1.0; LIDAR_RAYS]);
    }
    BoxSpace::new(vec![low.len()], low, high, DType::F32)
}

impl Env for WalkerEnv {
    type Obs = Vec<f32>;
    type Action = [f32];

    fn task_space(&self) -> &TaskSpace {
        &self.task_space
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>, task: &[f64]) -> Result<(Vec<f32>, Info)> {
        self.task_space.validate(task)?;
        if let Some(seed) = seed {
            self.rng = Pcg64::seed_from_u64(seed);
        }
        // Separate streams for the track and the push, both drawn from the env's RNG.
        let mut terrain_rng = Pcg64::seed_from_u64(self.rng.next_u64());
        let push = self.rng.random_range(-INITIAL_RANDOM..INITIAL_RANDOM);

        let startpad = startpad_steps(&self.body);
        let terrain = match &self.parkour {
            Some(p) => {
                let track = ParkourTrack {
                    input_vector: [task[0] as f32, task[1] as f32, task[2] as f32],
                    water_level: task[3],
                    creepers_width: task[4],
                    creepers_height: task[5],
                    creepers_spacing: task[6],
                    cppn_scale: task[7],
                    ceiling_offset: p.track.ceiling_offset,
                    ceiling_clip_offset: p.track.ceiling_clip_offset,
                    creeper_height_std: p.track.creeper_height_std,
                    movable_creepers: p.track.movable_creepers,
                };
                generate_parkour(&track, &p.cppn, startpad, &mut terrain_rng)
            }
            None => {
                let (generator, spacing) = self.obstacle_generator(task);
                generate(&generator, spacing, startpad, &mut terrain_rng)
            }
        };
        let climber = self.body.locomotion == Locomotion::Climber;
        let spawn_x = TERRAIN_STEP * startpad as f32 / 2.0;
        let spawn = if climber {
            // Hanging: the highest hand sensor's centre on the ceiling of the start pad.
            let reach = self
                .body
                .grasp_sensors
                .iter()
                .map(|s| s.offset[1])
                .fold(f32::MIN, f32::max);
            [spawn_x, terrain.ceiling[0][1] - reach]
        } else {
            [spawn_x, TERRAIN_HEIGHT + self.body.spawn_height]
        };
        let mut world = WalkerWorld::new(&terrain, &self.body, spawn, &self.config.physics);
        for &part in &self.body.pushed_parts {
            world.push_part(part, push);
        }
        self.episode = Some(Episode {
            world,
            terrain,
            task: task.to_vec(),
            progress: EpisodeProgress::default(),
            prev_shaping: None,
            lidar: [1.0; LIDAR_RAYS],
            hull_x: spawn[0],
            water: WaterState::default(),
        });
        // As the reference: reset runs one physics step with the motors off, which settles the
        // contacts and sets the initial shaping; it does not count towards the step limit.
        self.clipped.iter_mut().for_each(|a| *a = 0.0);
        let (mut obs, _, _) = self.advance();
        if climber {
            // Climbers then hang on: the reference's first steps with every grasp action at 1
            // and the motors off (they count neither towards the step limit nor the return).
            let motors = self.body.joints.len();
            self.clipped[motors..].iter_mut().for_each(|a| *a = 1.0);
            for _ in 0..CLIMBER_HANG_STEPS {
                obs = self.advance().0;
            }
        }
        let ep = self.episode.as_mut().expect("just created");
        // The survival count starts with the episode's first step.
        ep.water.steps_in_wrong_medium = 0;
        let info = Info {
            episode: None,
            values: vec![
                ("hull_x", ep.hull_x as f64),
                ("obstacles", ep.terrain.obstacles.len() as f64),
            ],
        };
        Ok((obs, info))
    }

    fn step(&mut self, action: &[f32]) -> Result<Step<Vec<f32>>> {
        self.episode
            .as_ref()
            .ok_or(Error::ResetNeeded { call: "step" })?
            .progress
            .ensure_running()?;
        clip_unit_action(action, &mut self.clipped)?;
        let (obs, reward, terminated) = self.advance();
        let max_steps = self.config.max_episode_steps;
        let ep = self.episode.as_mut().expect("checked above");
        let (truncated, episode) = ep
            .progress
            .record(reward, terminated, max_steps, |ret| ret > MASTERY_THRESHOLD);
        let info = Info {
            episode,
            values: vec![("hull_x", ep.hull_x as f64)],
        };
        Ok(Step {
            obs,
            reward,
            terminated,
            truncated,
            info,
        })
    }

    fn render(&self) -> Result<RgbFrame> {
        super::render::render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_documented_values() {
        let c = WalkerConfig::default();
        assert_eq!(c.max_episode_steps, 2000);
        assert_eq!(c.body, Embodiment::ClassicBipedal);
        let s = c.task_space().unwrap();
        assert_eq!(s.names(), vec!["stump_height", "obstacle_spacing"]);
        assert_eq!(s.low(), vec![0.0, 0.0]);
        assert_eq!(s.high(), vec![3.0, 6.0]);
        let h = WalkerConfig::hexagon_tracks().task_space().unwrap();
        assert_eq!(h.dim(), 12);
        assert_eq!(h.high(), vec![4.0; 12]);
        assert_eq!(h.names()[0], "vertex0_dx");
    }

    #[test]
    fn names_resolve() {
        assert_eq!(
            WalkerConfig::by_name("StumpTracks").unwrap(),
            WalkerConfig::stump_tracks()
        );
        assert_eq!(
            WalkerConfig::by_name("hexagon-tracks").unwrap(),
            WalkerConfig::hexagon_tracks()
        );
        assert_eq!(
            WalkerConfig::by_name("Parkour").unwrap(),
            WalkerConfig::parkour()
        );
        let err = WalkerConfig::by_name("parcours").unwrap_err();
        assert!(err.to_string().contains("stump_tracks"), "{err}");
    }

    #[test]
    fn config_round_trips_through_json() {
        let mut c = WalkerConfig::hexagon_tracks();
        c.body = Embodiment::SmallBipedal;
        let json = serde_json::to_string(&c).unwrap();
        let back: WalkerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<WalkerConfig>(r#"{"max_episode_stepz": 3}"#).is_err());
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let c = WalkerConfig {
            max_episode_steps: 0,
            ..Default::default()
        };
        assert!(matches!(
            WalkerEnv::new(c).err().unwrap(),
            Error::InvalidConfig { ref field, .. } if field == "max_episode_steps"
        ));
        let c = WalkerConfig {
            track: TrackConfig::StumpTracks(StumpTracksConfig {
                stump_height_bounds: [3.0, 0.0],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(matches!(
            WalkerEnv::new(c).err().unwrap(),
            Error::InvalidBounds { .. }
        ));
        let mut c = WalkerConfig::default();
        c.physics.motor_factor = f32::NAN;
        assert!(WalkerEnv::new(c).is_err());
    }
}

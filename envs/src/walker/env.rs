//! [`WalkerEnv`]: the Stump Tracks and Hexagon Tracks environments behind the core [`Env`]
//! contract, with their configuration structs.
//!
//! # Description
//! A 2-D walker must cross a track of obstacles whose shape is set by the task vector.
//!
//! # Action space
//! `Box([-1, 1]^m)`, one component per motor (m = 4 for the bipedals, 8 to 16 for the other
//! bodies, see [`Embodiment`]). Motor `i` targets
//! `speed_i · sign(a_i)` with a torque cap of `motors_torque · |a_i|`. Components outside
//! `[-1, 1]` are clipped (as the reference does); NaN or infinite components are an error.
//!
//! # Observation space
//! `Box(f32)`: the head part's (the hull's) angle, `2ω/FPS`, `0.3·vx·(VIEWPORT_W/SCALE)/FPS`,
//! `0.3·vy·(VIEWPORT_H/SCALE)/FPS`; per motor its angle (+ correction) and `speed / speed_i`,
//! plus the contact flag of its part for motors that report one; then 10 lidar fractions cast
//! from the head. 24 values for the bipedals, in BipedalWalker's order; 34 to 54 for the others.
//!
//! # Rewards
//! `Δ(130·x/SCALE − 5·|head angle|) − torque_penalty · 80 · Σ clip(|a|, 0, 1)`, with the head
//! x and angle; the angle term is dropped for the wheel and the chimpanzee, and 80 N·m is the
//! bipedal's torque for every body (each body divides its `torque_penalty` instead). Replaced by
//! −100 when the walker falls.
//!
//! # Episode end
//! Terminated when a critical part (the hull; the chimpanzee's head and chest; none for the
//! millipede) touches the terrain or x < 0 (reward −100), or when the head passes the end of the
//! track. Truncated after `max_episode_steps` steps.
//! `info.episode` reports the return, the length and `success = return > 230`.

use rand::{Rng, RngCore, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{
    clip_unit_action, BoxSpace, DType, Env, EnvPrior, EpisodeProgress, Error, Info, Result,
    RgbFrame, Space, Step, TaskDim, TaskSpace,
};

use super::body::{startpad_steps, BodyDef, Embodiment, EFFORT_TORQUE};
use super::constants::*;
use super::physics::{
    PartPose, PartState, PhysicsConfig, WalkerWorld, MAX_PGS_ITERATIONS, MAX_SOLVER_ITERATIONS,
};
use super::terrain::{generate, ObstacleGenerator, Terrain};

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

/// Which track family, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrackConfig {
    /// Stump Tracks.
    StumpTracks(StumpTracksConfig),
    /// Hexagon Tracks.
    HexagonTracks(HexagonTracksConfig),
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

    /// Names accepted by [`WalkerConfig::by_name`].
    pub const ENV_NAMES: [&'static str; 2] = ["stump_tracks", "hexagon_tracks"];

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
            _ => Err(Error::InvalidConfig {
                field: "env".into(),
                reason: format!(
                    "unknown environment `{name}`; known: {}",
                    Self::ENV_NAMES.join(", ")
                ),
            }),
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
        let observation_space = Space::Box(observation_box(&body)?);
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
        let ep = self
            .episode
            .as_mut()
            .expect("advance is called with an episode");
        ep.world.set_motors(body, &self.clipped, factor);
        ep.world.step();

        let head = ep.world.pose(body.head);
        let (vel, angvel) = ep.world.velocity(body.head);
        ep.world.lidar(body.head, &mut ep.lidar);
        ep.hull_x = head.position[0];

        let mut obs = Vec::with_capacity(body.observation_dim());
        obs.push(head.angle);
        obs.push(2.0 * angvel / FPS);
        obs.push(0.3 * vel[0] * (VIEWPORT_W / SCALE) / FPS);
        obs.push(0.3 * vel[1] * (VIEWPORT_H / SCALE) / FPS);
        for (j, def) in body.joints.iter().enumerate() {
            let (angle, speed) = ep.world.joint_state(body, j);
            obs.push(angle + def.angle_correction);
            obs.push(speed / def.speed);
            if let Some(part) = def.contact_part {
                obs.push(if ep.world.touching(part) { 1.0 } else { 0.0 });
            }
        }
        obs.extend_from_slice(&ep.lidar);

        let mut shaping = FORWARD_REWARD * head.position[0] / SCALE;
        if body.penalise_head_tilt {
            shaping -= HULL_ANGLE_PENALTY * head.angle.abs();
        }
        let mut reward = ep.prev_shaping.map_or(0.0, |prev| shaping - prev) as f64;
        ep.prev_shaping = Some(shaping);
        let effort: f32 = self.clipped.iter().map(|a| a.abs()).sum();
        reward -= (body.torque_penalty * EFFORT_TORQUE * effort) as f64;

        let fell = head.position[0] < 0.0
            || body
                .parts
                .iter()
                .enumerate()
                .any(|(i, p)| p.critical && ep.world.touching(i));
        let mut terminated = false;
        if fell {
            reward = FALL_REWARD;
            terminated = true;
        }
        if head.position[0] > TRACK_END_X {
            terminated = true;
        }
        (obs, reward, terminated)
    }
}

/// Observation bounds: angles wrap to (-π, π] (shifted by a motor's correction), velocities are
/// unbounded, contact flags are 0/1, lidar fractions lie in [0, 1].
fn observation_box(body: &BodyDef) -> Result<BoxSpace> {
    use std::f64::consts::PI;
    let inf = f64::INFINITY;
    let mut low = vec![-PI, -inf, -inf, -inf];
    let mut high = vec![PI, inf, inf, inf];
    for j in &body.joints {
        let c = j.angle_correction as f64;
        low.extend([-PI + c, -inf]);
        high.extend([PI + c, inf]);
        if j.contact_part.is_some() {
            low.push(0.0);
            high.push(1.0);
        }
    }
    low.extend([0.0; LIDAR_RAYS]);
    high.extend([1.0; LIDAR_RAYS]);
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

        let (generator, spacing) = self.obstacle_generator(task);
        let startpad = startpad_steps(&self.body);
        let terrain = generate(&generator, spacing, startpad, &mut terrain_rng);
        let spawn = [
            TERRAIN_STEP * startpad as f32 / 2.0,
            TERRAIN_HEIGHT + self.body.spawn_height,
        ];
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
        });
        // As the reference: reset runs one physics step with the motors off, which settles the
        // contacts and sets the initial shaping; it does not count towards the step limit.
        self.clipped.iter_mut().for_each(|a| *a = 0.0);
        let (obs, _, _) = self.advance();
        let ep = self.episode.as_ref().expect("just created");
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
        let err = WalkerConfig::by_name("parkour").unwrap_err();
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

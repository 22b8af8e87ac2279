//! [`PointMassEnv`]: a tiny continuous-control task, a 2-D point mass pushed towards a target.
//! Small enough for a learning test that runs in seconds, hard enough that a random policy fails.
//!
//! # Description
//! A point mass starts at rest at the origin of a square arena `[-ARENA_HALF_WIDTH,
//! ARENA_HALF_WIDTH]²`; the target lies at `target_distance` from it in a direction drawn
//! uniformly from the env's RNG at each reset. The mass must get within
//! [`PointMassConfig::success_radius`] of the target.
//!
//! # Task space
//! - `target_distance` (m), default bounds [`DEFAULT_TARGET_DISTANCE_BOUNDS`].
//! - `mass` (kg), default bounds [`DEFAULT_MASS_BOUNDS`]: heavier is slower to accelerate and to
//!   stop.
//!
//! # Action space
//! `Box([-1, 1]², f32)`: the force along x and y in units of [`PointMassConfig::max_force`] (N).
//! Components outside `[-1, 1]` are clipped; NaN or infinite components are an error.
//!
//! # Observation space
//! `Box(f32, 6)`: position (m), velocity (m/s), target − position (m).
//!
//! # Dynamics
//! Semi-implicit Euler with step `dt`: `v ← v + dt·(F/m − damping·v)`, `x ← x + dt·v`; the arena
//! walls stop the mass (position clamped, velocity component zeroed).
//!
//! # Rewards
//! `progress_reward · (previous distance − distance)` each step, plus
//! [`PointMassConfig::success_bonus`] on reaching the target.
//!
//! # Episode end
//! Terminated on reaching the target. Truncated after `max_episode_steps` steps.
//! `info.episode.success` is true when the target was reached.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{
    check_reward_coefficient, clip_unit_action, BoxSpace, DType, Env, EnvPrior, EpisodeProgress,
    Error, Info, Result, RgbFrame, Space, Step, TaskDim, TaskSpace,
};

/// Default bounds of `target_distance` (m).
pub const DEFAULT_TARGET_DISTANCE_BOUNDS: [f64; 2] = [0.2, 1.0];
/// Default bounds of `mass` (kg).
pub const DEFAULT_MASS_BOUNDS: [f64; 2] = [0.5, 2.0];
/// Default step limit.
pub const DEFAULT_MAX_EPISODE_STEPS: u32 = 100;
/// Default integration step (s).
pub const DEFAULT_DT: f64 = 0.1;
/// Default force of a unit action (N).
pub const DEFAULT_MAX_FORCE: f64 = 1.0;
/// Default linear damping (1/s).
pub const DEFAULT_DAMPING: f64 = 1.0;
/// Default distance to the target that counts as reaching it (m).
pub const DEFAULT_SUCCESS_RADIUS: f64 = 0.1;
/// Default reward per metre of progress towards the target.
pub const DEFAULT_PROGRESS_REWARD: f64 = 10.0;
/// Default reward for reaching the target.
pub const DEFAULT_SUCCESS_BONUS: f64 = 10.0;
/// Half the side of the square arena (m); the walls stop the mass.
pub const ARENA_HALF_WIDTH: f64 = 2.0;
/// Side of a rendered frame (pixels).
pub const RENDER_SIZE: u32 = 64;
/// Smallest mass a `mass_bounds` may hold (kg).
pub const MIN_MASS: f64 = 1e-3;
/// Largest mass a `mass_bounds` may hold (kg).
pub const MAX_MASS: f64 = 1e3;
/// Largest integration step `dt` (s).
pub const MAX_DT: f64 = 1.0;
/// Largest `max_force` (N).
pub const MAX_FORCE: f64 = 1e3;
/// Largest `damping` (1/s).
pub const MAX_DAMPING: f64 = 1e3;

/// Everything that defines a [`PointMassEnv`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointMassConfig {
    /// Bounds of the `target_distance` dimension (m), within `(0, ARENA_HALF_WIDTH]`.
    /// Default: [`DEFAULT_TARGET_DISTANCE_BOUNDS`].
    pub target_distance_bounds: [f64; 2],
    /// Bounds of the `mass` dimension (kg), within `[MIN_MASS, MAX_MASS]`. Default:
    /// [`DEFAULT_MASS_BOUNDS`].
    pub mass_bounds: [f64; 2],
    /// Step limit; the env sets `truncated` when reached. Default: [`DEFAULT_MAX_EPISODE_STEPS`].
    pub max_episode_steps: u32,
    /// Integration step (s), in `(0, MAX_DT]`. Default: [`DEFAULT_DT`].
    pub dt: f64,
    /// Force of a unit action (N), in `(0, MAX_FORCE]`. Default: [`DEFAULT_MAX_FORCE`].
    pub max_force: f64,
    /// Linear damping (1/s), in `[0, MAX_DAMPING]`. Default: [`DEFAULT_DAMPING`].
    pub damping: f64,
    /// Distance that counts as reaching the target (m). Default: [`DEFAULT_SUCCESS_RADIUS`].
    pub success_radius: f64,
    /// Reward per metre of progress, within ±[`MAX_REWARD_MAGNITUDE`](teachgym_core::MAX_REWARD_MAGNITUDE). Default:
    /// [`DEFAULT_PROGRESS_REWARD`].
    pub progress_reward: f64,
    /// Reward for reaching the target, within ±[`MAX_REWARD_MAGNITUDE`](teachgym_core::MAX_REWARD_MAGNITUDE). Default:
    /// [`DEFAULT_SUCCESS_BONUS`].
    pub success_bonus: f64,
    /// Seed of the env's RNG until a reset passes one. Default: 0.
    pub seed: u64,
}

impl Default for PointMassConfig {
    fn default() -> Self {
        Self {
            target_distance_bounds: DEFAULT_TARGET_DISTANCE_BOUNDS,
            mass_bounds: DEFAULT_MASS_BOUNDS,
            max_episode_steps: DEFAULT_MAX_EPISODE_STEPS,
            dt: DEFAULT_DT,
            max_force: DEFAULT_MAX_FORCE,
            damping: DEFAULT_DAMPING,
            success_radius: DEFAULT_SUCCESS_RADIUS,
            progress_reward: DEFAULT_PROGRESS_REWARD,
            success_bonus: DEFAULT_SUCCESS_BONUS,
            seed: 0,
        }
    }
}

impl PointMassConfig {
    /// The task space this configuration defines.
    ///
    /// # Errors
    /// [`Error::InvalidBounds`] for bad bounds.
    pub fn task_space(&self) -> Result<TaskSpace> {
        TaskSpace::new(vec![
            TaskDim::new(
                "target_distance",
                self.target_distance_bounds[0],
                self.target_distance_bounds[1],
                "distance from the start to the target (m); its direction is random",
            ),
            TaskDim::new(
                "mass",
                self.mass_bounds[0],
                self.mass_bounds[1],
                "mass of the point (kg); heavier accelerates and brakes more slowly",
            ),
        ])
    }

    /// What an expert knows of this configuration: an episode that reaches the target returns
    /// at least `success_bonus`, one that does nothing 0; the easiest task is the nearest
    /// target with the middle mass (neither end of the mass range is easier: a light point
    /// accelerates fast and overshoots, a heavy one is slow).
    ///
    /// # Errors
    /// As [`PointMassConfig::task_space`].
    pub fn prior(&self) -> Result<EnvPrior> {
        let space = self.task_space()?;
        Ok(EnvPrior {
            success_return: self.success_bonus,
            no_progress_return: 0.0,
            easy_task: vec![self.target_distance_bounds[0], space.center()[1]],
        })
    }

    /// Checks every field; [`PointMassEnv::new`] and the env registry call it.
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
            ("dt", self.dt, MAX_DT),
            ("max_force", self.max_force, MAX_FORCE),
            ("success_radius", self.success_radius, ARENA_HALF_WIDTH),
        ] {
            if !(value > 0.0 && value <= max) {
                return bad(field, format!("must be in (0, {max}], got {value}"));
            }
        }
        if !(0.0..=MAX_DAMPING).contains(&self.damping) {
            return bad(
                "damping",
                format!("must be in [0, {MAX_DAMPING}], got {}", self.damping),
            );
        }
        check_reward_coefficient("progress_reward", self.progress_reward)?;
        check_reward_coefficient("success_bonus", self.success_bonus)?;
        let [d0, d1] = self.target_distance_bounds;
        if !(d0 > 0.0 && d1 <= ARENA_HALF_WIDTH) {
            return bad(
                "target_distance_bounds",
                format!("must lie in (0, {ARENA_HALF_WIDTH}] m (the arena), got [{d0}, {d1}]"),
            );
        }
        let [m0, m1] = self.mass_bounds;
        if !(m0 >= MIN_MASS && m1 <= MAX_MASS) {
            return bad(
                "mass_bounds",
                format!("must lie in [{MIN_MASS}, {MAX_MASS}] kg, got [{m0}, {m1}]"),
            );
        }
        self.task_space().map(drop)
    }
}

/// State of the episode in progress.
#[derive(Debug, Clone)]
struct Episode {
    position: [f64; 2],
    velocity: [f64; 2],
    target: [f64; 2],
    mass: f64,
    task: Vec<f64>,
    progress: EpisodeProgress,
}

impl Episode {
    fn distance(&self) -> f64 {
        libm::hypot(
            self.target[0] - self.position[0],
            self.target[1] - self.position[1],
        )
    }

    fn observation(&self) -> Vec<f32> {
        vec![
            self.position[0] as f32,
            self.position[1] as f32,
            self.velocity[0] as f32,
            self.velocity[1] as f32,
            (self.target[0] - self.position[0]) as f32,
            (self.target[1] - self.position[1]) as f32,
        ]
    }
}

/// A 2-D point mass that must reach a target.
///
/// ```
/// use teachgym_core::Env;
/// use teachgym_envs::{PointMassConfig, PointMassEnv};
/// let mut env = PointMassEnv::new(PointMassConfig::default()).unwrap();
/// let (obs, _info) = env.reset(Some(7), &[0.5, 1.0]).unwrap();
/// assert_eq!(obs.len(), 6);
/// let step = env.step(&[0.5, -0.5]).unwrap();
/// assert!(step.reward.is_finite());
/// ```
pub struct PointMassEnv {
    config: PointMassConfig,
    task_space: TaskSpace,
    observation_space: Space,
    action_space: Space,
    rng: Pcg64,
    episode: Option<Episode>,
}

impl PointMassEnv {
    /// Builds an env from its configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] or [`Error::InvalidBounds`] naming the bad field.
    pub fn new(config: PointMassConfig) -> Result<Self> {
        config.validate()?;
        let task_space = config.task_space()?;
        let observation_space = Space::Box(BoxSpace::uniform(
            vec![6],
            f64::NEG_INFINITY,
            f64::INFINITY,
            DType::F32,
        )?);
        let action_space = Space::Box(BoxSpace::uniform(vec![2], -1.0, 1.0, DType::F32)?);
        Ok(Self {
            rng: Pcg64::seed_from_u64(config.seed),
            config,
            task_space,
            observation_space,
            action_space,
            episode: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PointMassConfig {
        &self.config
    }

    /// Position of the mass (m), if an episode was started.
    pub fn position(&self) -> Option<[f64; 2]> {
        self.episode.as_ref().map(|e| e.position)
    }

    /// Position of the target (m), if an episode was started.
    pub fn target(&self) -> Option<[f64; 2]> {
        self.episode.as_ref().map(|e| e.target)
    }

    /// The task of the current episode.
    pub fn task(&self) -> Option<&[f64]> {
        self.episode.as_ref().map(|e| e.task.as_slice())
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.episode.as_ref().map_or(0, |e| e.progress.steps)
    }
}

impl Env for PointMassEnv {
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
        let angle = self.rng.random_range(0.0..std::f64::consts::TAU);
        let (distance, mass) = (task[0], task[1]);
        let episode = Episode {
            position: [0.0, 0.0],
            velocity: [0.0, 0.0],
            target: [distance * libm::cos(angle), distance * libm::sin(angle)],
            mass,
            task: task.to_vec(),
            progress: EpisodeProgress::default(),
        };
        let obs = episode.observation();
        let info = Info {
            episode: None,
            values: vec![("distance", episode.distance())],
        };
        self.episode = Some(episode);
        Ok((obs, info))
    }

    fn step(&mut self, action: &[f32]) -> Result<Step<Vec<f32>>> {
        let c = &self.config;
        let ep = self
            .episode
            .as_mut()
            .ok_or(Error::ResetNeeded { call: "step" })?;
        ep.progress.ensure_running()?;
        let mut force_command = [0.0f32; 2];
        clip_unit_action(action, &mut force_command)?;
        let before = ep.distance();
        for (axis, &a) in force_command.iter().enumerate() {
            let force = c.max_force * f64::from(a);
            let accel = force / ep.mass - c.damping * ep.velocity[axis];
            ep.velocity[axis] += c.dt * accel;
            ep.position[axis] += c.dt * ep.velocity[axis];
            if ep.position[axis].abs() > ARENA_HALF_WIDTH {
                ep.position[axis] = ep.position[axis].clamp(-ARENA_HALF_WIDTH, ARENA_HALF_WIDTH);
                ep.velocity[axis] = 0.0;
            }
        }
        let after = ep.distance();
        let terminated = after <= c.success_radius;
        let mut reward = c.progress_reward * (before - after);
        if terminated {
            reward += c.success_bonus;
        }
        // Success means reaching the target, which is exactly what terminates the episode.
        let (truncated, episode) =
            ep.progress
                .record(reward, terminated, c.max_episode_steps, |_| terminated);
        let info = Info {
            episode,
            values: vec![("distance", after)],
        };
        Ok(Step {
            obs: ep.observation(),
            reward,
            terminated,
            truncated,
            info,
        })
    }

    fn render(&self) -> Result<RgbFrame> {
        let ep = self
            .episode
            .as_ref()
            .ok_or(Error::ResetNeeded { call: "render" })?;
        let size = RENDER_SIZE;
        let mut data = vec![255u8; (size * size * 3) as usize];
        let to_pixel = |p: [f64; 2]| {
            let scale = f64::from(size - 1) / (2.0 * ARENA_HALF_WIDTH);
            let x = ((p[0] + ARENA_HALF_WIDTH) * scale).round() as i64;
            let y = ((ARENA_HALF_WIDTH - p[1]) * scale).round() as i64;
            (x, y)
        };
        let mut dot = |p: [f64; 2], rgb: [u8; 3]| {
            let (cx, cy) = to_pixel(p);
            for y in cy - 1..=cy + 1 {
                for x in cx - 1..=cx + 1 {
                    if (0..size as i64).contains(&x) && (0..size as i64).contains(&y) {
                        let i = ((y as u32 * size + x as u32) * 3) as usize;
                        data[i..i + 3].copy_from_slice(&rgb);
                    }
                }
            }
        };
        dot(ep.target, [220, 40, 40]);
        dot(ep.position, [40, 40, 220]);
        Ok(RgbFrame {
            width: size,
            height: size,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> PointMassEnv {
        PointMassEnv::new(PointMassConfig::default()).unwrap()
    }

    #[test]
    fn step_before_reset_is_an_error() {
        assert_eq!(
            env().step(&[0.0, 0.0]),
            Err(Error::ResetNeeded { call: "step" })
        );
        assert_eq!(env().render(), Err(Error::ResetNeeded { call: "render" }));
    }

    #[test]
    fn bad_actions_are_typed_errors() {
        let mut env = env();
        env.reset(Some(1), &[0.5, 1.0]).unwrap();
        assert_eq!(
            env.step(&[0.0]),
            Err(Error::ActionDimension {
                expected: 2,
                got: 1
            })
        );
        assert!(matches!(
            env.step(&[0.0, f32::NAN]),
            Err(Error::NonFiniteAction { index: 1, .. })
        ));
        assert!(matches!(
            env.step(&[f32::INFINITY, 0.0]),
            Err(Error::NonFiniteAction { index: 0, .. })
        ));
        // A rejected action does not advance the episode.
        assert_eq!(env.elapsed_steps(), 0);
    }

    #[test]
    fn bad_tasks_and_configs_are_typed_errors() {
        let mut env = env();
        assert!(matches!(
            env.reset(None, &[0.5]),
            Err(Error::TaskDimension { .. })
        ));
        assert!(matches!(
            env.reset(None, &[5.0, 1.0]),
            Err(Error::TaskOutOfBounds { .. })
        ));
        assert!(matches!(
            env.reset(None, &[0.5, f64::NAN]),
            Err(Error::TaskOutOfBounds { .. })
        ));
        for config in [
            PointMassConfig {
                max_episode_steps: 0,
                ..Default::default()
            },
            PointMassConfig {
                dt: f64::NAN,
                ..Default::default()
            },
            PointMassConfig {
                mass_bounds: [0.0, 1.0],
                ..Default::default()
            },
            PointMassConfig {
                target_distance_bounds: [0.5, 3.0],
                ..Default::default()
            },
        ] {
            assert!(matches!(
                PointMassEnv::new(config),
                Err(Error::InvalidConfig { .. })
            ));
        }
        assert!(matches!(
            PointMassEnv::new(PointMassConfig {
                mass_bounds: [2.0, 1.0],
                ..Default::default()
            }),
            Err(Error::InvalidBounds { .. })
        ));
    }

    #[test]
    fn truncates_at_the_limit_and_then_refuses_to_step() {
        let mut env = PointMassEnv::new(PointMassConfig {
            max_episode_steps: 5,
            ..Default::default()
        })
        .unwrap();
        env.reset(Some(3), &[1.0, 1.0]).unwrap();
        let mut last = None;
        for _ in 0..5 {
            last = Some(env.step(&[0.0, 0.0]).unwrap());
        }
        let last = last.unwrap();
        assert!(last.truncated && !last.terminated);
        let summary = last.info.episode.unwrap();
        assert_eq!(summary.length, 5);
        assert!(!summary.success);
        assert_eq!(env.step(&[0.0, 0.0]), Err(Error::EpisodeEnded));
    }

    #[test]
    fn pushing_towards_the_target_terminates_with_success() {
        let mut env = env();
        let (mut obs, _) = env.reset(Some(5), &[0.6, 1.0]).unwrap();
        for _ in 0..100 {
            let norm = libm::hypotf(obs[4], obs[5]);
            // Clipping: an action of length > 1 per component is accepted and clipped.
            let step = env
                .step(&[3.0 * obs[4] / norm, 3.0 * obs[5] / norm])
                .unwrap();
            if step.terminated {
                let summary = step.info.episode.unwrap();
                assert!(summary.success);
                assert!(summary.episode_return > DEFAULT_SUCCESS_BONUS);
                return;
            }
            obs = step.obs;
        }
        panic!("a greedy push never reached the target");
    }

    #[test]
    fn seeded_resets_are_deterministic() {
        let run = |seed| {
            let mut env = env();
            let (mut obs, _) = env.reset(Some(seed), &[0.8, 1.5]).unwrap();
            let mut trace = obs.clone();
            for t in 0..50 {
                let a = [libm::sinf(t as f32 * 0.3), libm::cosf(t as f32 * 0.7)];
                let step = env.step(&a).unwrap();
                obs = step.obs;
                trace.extend_from_slice(&obs);
                trace.push(step.reward as f32);
                if step.terminated || step.truncated {
                    break;
                }
            }
            trace
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
        let frame = {
            let mut env = env();
            env.reset(Some(1), &[0.5, 1.0]).unwrap();
            env.render().unwrap()
        };
        assert_eq!(frame.data.len(), (RENDER_SIZE * RENDER_SIZE * 3) as usize);
    }
}

//! [`GridWorldEnv`]: a tiny discrete-action task, a walker on a square grid of cells that must
//! reach a goal cell around random walls. Small enough for DQN and categorical-PPO learning tests
//! that run in seconds, hard enough that a random policy mostly fails.
//!
//! # Description
//! At each reset the env draws, from its RNG, a `size × size` grid whose cells are walls with
//! probability `wall_density`, a free start cell and a goal cell reachable from the start (other
//! than the start). The agent moves one cell per step; moving into a wall or off the grid leaves
//! it in place.
//!
//! # Task space
//! - `size` (cells per side), default bounds [`DEFAULT_SIZE_BOUNDS`]; rounded to the nearest
//!   integer. Larger grids need longer paths.
//! - `wall_density` (probability per cell), default bounds [`DEFAULT_WALL_DENSITY_BOUNDS`]: more
//!   walls mean detours and dead ends.
//!
//! # Action space
//! `Discrete(4)`: [`UP`] (+y), [`DOWN`] (−y), [`LEFT`] (−x), [`RIGHT`] (+x). Indices ≥ 4 are an
//! error ([`Error::ActionOutOfRange`]). [`GridWorldEnv::action_mask`] tells which moves are not
//! blocked, for students that take action masks.
//!
//! # Observation space
//! `Box(f32, 12)`, all within `[-1, 1]`: the signs (−1, 0 or 1) of the goal's offset from the
//! agent `(dx, dy)`, the offset itself in units of [`MAX_GRID_SIZE`] cells, then the 8 cells
//! around the agent (row by row from the top-left, skipping the agent's own cell) as 1 for a
//! wall or the grid's edge, 0 for free.
//!
//! # Rewards
//! [`GridWorldConfig::goal_reward`] on reaching the goal, minus
//! [`GridWorldConfig::step_penalty`] on every other step.
//!
//! # Episode end
//! Terminated on reaching the goal. Truncated after `max_episode_steps` steps.
//! `info.episode.success` is true when the goal was reached.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{
    check_reward_coefficient, BoxSpace, DType, Env, EnvPrior, EpisodeProgress, Error, Info, Result,
    RgbFrame, Space, Step, TaskDim, TaskSpace,
};

/// Action index: move one cell up (+y).
pub const UP: usize = 0;
/// Action index: move one cell down (−y).
pub const DOWN: usize = 1;
/// Action index: move one cell left (−x).
pub const LEFT: usize = 2;
/// Action index: move one cell right (+x).
pub const RIGHT: usize = 3;
/// Number of actions.
pub const NUM_ACTIONS: usize = 4;
/// `(dx, dy)` of each action, indexed by action.
const MOVES: [(i64, i64); NUM_ACTIONS] = [(0, 1), (0, -1), (-1, 0), (1, 0)];
/// Smallest grid side the env accepts (cells).
pub const MIN_GRID_SIZE: f64 = 2.0;
/// Largest grid side the env accepts (cells); also the unit of the goal offset observation.
pub const MAX_GRID_SIZE: f64 = 16.0;
/// Width of an observation.
pub const OBS_DIM: usize = 12;
/// Default bounds of `size` (cells).
pub const DEFAULT_SIZE_BOUNDS: [f64; 2] = [3.0, 10.0];
/// Default bounds of `wall_density` (probability per cell).
pub const DEFAULT_WALL_DENSITY_BOUNDS: [f64; 2] = [0.0, 0.3];
/// Default step limit.
pub const DEFAULT_MAX_EPISODE_STEPS: u32 = 40;
/// Default reward for reaching the goal.
pub const DEFAULT_GOAL_REWARD: f64 = 1.0;
/// Default cost of every step that does not reach the goal.
pub const DEFAULT_STEP_PENALTY: f64 = 0.01;
/// Largest wall density the config accepts: above it most layouts would be walled in.
pub const MAX_WALL_DENSITY: f64 = 0.6;
/// Pixels per cell of a rendered frame.
pub const RENDER_CELL_PIXELS: u32 = 8;
/// Layout draws tried before the walls are dropped: a draw fails only when the start cell is
/// walled in, which is rare below [`MAX_WALL_DENSITY`].
const MAX_LAYOUT_ATTEMPTS: usize = 100;

/// Everything that defines a [`GridWorldEnv`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridWorldConfig {
    /// Bounds of the `size` dimension (cells), within `[MIN_GRID_SIZE, MAX_GRID_SIZE]`.
    /// Default: [`DEFAULT_SIZE_BOUNDS`].
    pub size_bounds: [f64; 2],
    /// Bounds of the `wall_density` dimension, within `[0, MAX_WALL_DENSITY]`.
    /// Default: [`DEFAULT_WALL_DENSITY_BOUNDS`].
    pub wall_density_bounds: [f64; 2],
    /// Step limit; the env sets `truncated` when reached. Default: [`DEFAULT_MAX_EPISODE_STEPS`].
    pub max_episode_steps: u32,
    /// Reward for reaching the goal, within
    /// ±[`MAX_REWARD_MAGNITUDE`](teachgym_core::MAX_REWARD_MAGNITUDE). Default:
    /// [`DEFAULT_GOAL_REWARD`].
    pub goal_reward: f64,
    /// Cost of every other step, in `[0, MAX_REWARD_MAGNITUDE]`. Default:
    /// [`DEFAULT_STEP_PENALTY`].
    pub step_penalty: f64,
    /// Seed of the env's RNG until a reset passes one. Default: 0.
    pub seed: u64,
}

impl Default for GridWorldConfig {
    fn default() -> Self {
        Self {
            size_bounds: DEFAULT_SIZE_BOUNDS,
            wall_density_bounds: DEFAULT_WALL_DENSITY_BOUNDS,
            max_episode_steps: DEFAULT_MAX_EPISODE_STEPS,
            goal_reward: DEFAULT_GOAL_REWARD,
            step_penalty: DEFAULT_STEP_PENALTY,
            seed: 0,
        }
    }
}

impl GridWorldConfig {
    /// The task space this configuration defines.
    ///
    /// # Errors
    /// [`Error::InvalidBounds`] for bad bounds.
    pub fn task_space(&self) -> Result<TaskSpace> {
        TaskSpace::new(vec![
            TaskDim::new(
                "size",
                self.size_bounds[0],
                self.size_bounds[1],
                "cells per side of the square grid (rounded to an integer)",
            ),
            TaskDim::new(
                "wall_density",
                self.wall_density_bounds[0],
                self.wall_density_bounds[1],
                "probability that a cell is a wall",
            ),
        ])
    }

    /// What an expert knows of this configuration: reaching the goal returns more than
    /// `goal_reward − step_penalty · max_episode_steps`, timing out returns
    /// `−step_penalty · max_episode_steps` (no progress); the easiest task is the smallest grid
    /// with the fewest walls.
    ///
    /// # Errors
    /// As [`GridWorldConfig::task_space`].
    pub fn prior(&self) -> Result<EnvPrior> {
        let timeout = -self.step_penalty * f64::from(self.max_episode_steps);
        Ok(EnvPrior {
            success_return: self.goal_reward + timeout,
            no_progress_return: timeout,
            easy_task: self.task_space()?.low(),
        })
    }

    /// Checks every field; [`GridWorldEnv::new`] and the env registry call it.
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
        check_reward_coefficient("goal_reward", self.goal_reward)?;
        check_reward_coefficient("step_penalty", self.step_penalty)?;
        if self.step_penalty < 0.0 {
            return bad(
                "step_penalty",
                format!("must be >= 0, got {}", self.step_penalty),
            );
        }
        let [s0, s1] = self.size_bounds;
        if !(s0 >= MIN_GRID_SIZE && s1 <= MAX_GRID_SIZE) {
            return bad(
                "size_bounds",
                format!("must lie in [{MIN_GRID_SIZE}, {MAX_GRID_SIZE}], got [{s0}, {s1}]"),
            );
        }
        let [w0, w1] = self.wall_density_bounds;
        if !(w0 >= 0.0 && w1 <= MAX_WALL_DENSITY) {
            return bad(
                "wall_density_bounds",
                format!("must lie in [0, {MAX_WALL_DENSITY}], got [{w0}, {w1}]"),
            );
        }
        self.task_space().map(drop)
    }
}

/// Layout and state of the episode in progress. Cells are indexed `y * size + x`.
#[derive(Debug, Clone)]
struct Episode {
    size: usize,
    walls: Vec<bool>,
    agent: (usize, usize),
    goal: (usize, usize),
    task: Vec<f64>,
    progress: EpisodeProgress,
}

impl Episode {
    /// Whether `(x, y)` is off the grid or a wall.
    fn blocked(&self, x: i64, y: i64) -> bool {
        let n = self.size as i64;
        !(0..n).contains(&x) || !(0..n).contains(&y) || self.walls[(y * n + x) as usize]
    }

    fn observation(&self) -> Vec<f32> {
        let (ax, ay) = (self.agent.0 as i64, self.agent.1 as i64);
        let mut obs = Vec::with_capacity(OBS_DIM);
        let (dx, dy) = (
            self.goal.0 as f64 - ax as f64,
            self.goal.1 as f64 - ay as f64,
        );
        // The signs are the compass a reactive policy needs; the offsets say how far to go.
        let sign = |v: f64| match v.partial_cmp(&0.0) {
            Some(std::cmp::Ordering::Greater) => 1.0,
            Some(std::cmp::Ordering::Less) => -1.0,
            _ => 0.0,
        };
        obs.extend([sign(dx), sign(dy)]);
        obs.push((dx / MAX_GRID_SIZE) as f32);
        obs.push((dy / MAX_GRID_SIZE) as f32);
        for dy in [1, 0, -1] {
            for dx in [-1, 0, 1] {
                if (dx, dy) != (0, 0) {
                    obs.push(if self.blocked(ax + dx, ay + dy) {
                        1.0
                    } else {
                        0.0
                    });
                }
            }
        }
        obs
    }
}

/// Cells reachable from `start` through free cells (breadth-first), `start` included.
fn reachable_cells(size: usize, walls: &[bool], start: usize) -> Vec<usize> {
    let mut seen = vec![false; size * size];
    let mut order = vec![start];
    let mut queue = VecDeque::from([start]);
    seen[start] = true;
    while let Some(cell) = queue.pop_front() {
        let (x, y) = (cell % size, cell / size);
        let neighbours = [
            (y + 1 < size).then(|| cell + size),
            (y > 0).then(|| cell - size),
            (x > 0).then(|| cell - 1),
            (x + 1 < size).then(|| cell + 1),
        ];
        for next in neighbours.into_iter().flatten() {
            if !walls[next] && !seen[next] {
                seen[next] = true;
                order.push(next);
                queue.push_back(next);
            }
        }
    }
    order
}

/// A walker on a grid that must reach a goal cell.
///
/// ```
/// use teachgym_core::Env;
/// use teachgym_envs::grid_world::{GridWorldConfig, GridWorldEnv, RIGHT};
/// let mut env = GridWorldEnv::new(GridWorldConfig::default()).unwrap();
/// let (obs, _info) = env.reset(Some(7), &[5.0, 0.2]).unwrap();
/// assert_eq!(obs.len(), 12);
/// let step = env.step(&RIGHT).unwrap();
/// assert!(step.reward.is_finite());
/// ```
pub struct GridWorldEnv {
    config: GridWorldConfig,
    task_space: TaskSpace,
    observation_space: Space,
    action_space: Space,
    rng: Pcg64,
    episode: Option<Episode>,
}

impl GridWorldEnv {
    /// Builds an env from its configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] or [`Error::InvalidBounds`] naming the bad field.
    pub fn new(config: GridWorldConfig) -> Result<Self> {
        config.validate()?;
        let task_space = config.task_space()?;
        let observation_space =
            Space::Box(BoxSpace::uniform(vec![OBS_DIM], -1.0, 1.0, DType::F32)?);
        Ok(Self {
            rng: Pcg64::seed_from_u64(config.seed),
            config,
            task_space,
            observation_space,
            action_space: Space::discrete(NUM_ACTIONS)?,
            episode: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GridWorldConfig {
        &self.config
    }

    /// The agent's cell `(x, y)`, if an episode was started.
    pub fn agent(&self) -> Option<(usize, usize)> {
        self.episode.as_ref().map(|e| e.agent)
    }

    /// The goal cell `(x, y)`, if an episode was started.
    pub fn goal(&self) -> Option<(usize, usize)> {
        self.episode.as_ref().map(|e| e.goal)
    }

    /// Whether cell `(x, y)` of the current grid is a wall (`None` before the first reset or off
    /// the grid).
    pub fn is_wall(&self, x: usize, y: usize) -> Option<bool> {
        let ep = self.episode.as_ref()?;
        (x < ep.size && y < ep.size).then(|| ep.walls[y * ep.size + x])
    }

    /// The task of the current episode.
    pub fn task(&self) -> Option<&[f64]> {
        self.episode.as_ref().map(|e| e.task.as_slice())
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.episode.as_ref().map_or(0, |e| e.progress.steps)
    }

    /// Legal actions in the current state, indexed by action: the moves that are not blocked by
    /// a wall or the grid's edge (a blocked move is accepted by `step` but wastes the step).
    /// `None` before the first reset. At least one move is always legal, since the goal is
    /// reachable.
    pub fn action_mask(&self) -> Option<[bool; NUM_ACTIONS]> {
        let ep = self.episode.as_ref()?;
        let (x, y) = (ep.agent.0 as i64, ep.agent.1 as i64);
        Some(MOVES.map(|(dx, dy)| !ep.blocked(x + dx, y + dy)))
    }

    /// Length of the shortest path from the agent to the goal in the current episode (`None`
    /// before the first reset).
    pub fn shortest_path_length(&self) -> Option<usize> {
        let ep = self.episode.as_ref()?;
        let n = ep.size;
        let mut distance = vec![usize::MAX; n * n];
        let start = ep.agent.1 * n + ep.agent.0;
        distance[start] = 0;
        for cell in reachable_cells(n, &ep.walls, start) {
            let (x, y) = (cell % n, cell / n);
            // Breadth-first order: a cell's distance is one more than its closest neighbour's.
            if cell != start {
                distance[cell] = [
                    (y + 1 < n).then(|| cell + n),
                    (y > 0).then(|| cell - n),
                    (x > 0).then(|| cell - 1),
                    (x + 1 < n).then(|| cell + 1),
                ]
                .into_iter()
                .flatten()
                .map(|c| distance[c].saturating_add(1))
                .min()
                .unwrap_or(usize::MAX);
            }
        }
        let goal = distance[ep.goal.1 * n + ep.goal.0];
        (goal != usize::MAX).then_some(goal)
    }

    /// Draws walls, start and goal for a `size × size` grid until the start reaches another cell.
    fn draw_layout(&mut self, size: usize, density: f64) -> (Vec<bool>, usize, usize) {
        for _ in 0..MAX_LAYOUT_ATTEMPTS {
            let walls: Vec<bool> = (0..size * size)
                .map(|_| self.rng.random::<f64>() < density)
                .collect();
            let free: Vec<usize> = (0..size * size).filter(|&c| !walls[c]).collect();
            if free.is_empty() {
                continue;
            }
            let start = free[self.rng.random_range(0..free.len())];
            let reachable = reachable_cells(size, &walls, start);
            if reachable.len() > 1 {
                let goal = reachable[self.rng.random_range(1..reachable.len())];
                return (walls, start, goal);
            }
        }
        let walls = vec![false; size * size];
        let start = self.rng.random_range(0..size * size);
        let mut goal = self.rng.random_range(0..size * size - 1);
        if goal >= start {
            goal += 1;
        }
        (walls, start, goal)
    }
}

impl Env for GridWorldEnv {
    type Obs = Vec<f32>;
    type Action = usize;

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
        let size = task[0].round() as usize;
        let (walls, start, goal) = self.draw_layout(size, task[1]);
        let episode = Episode {
            size,
            walls,
            agent: (start % size, start / size),
            goal: (goal % size, goal / size),
            task: task.to_vec(),
            progress: EpisodeProgress::default(),
        };
        let obs = episode.observation();
        self.episode = Some(episode);
        let info = Info {
            episode: None,
            values: vec![(
                "shortest_path",
                self.shortest_path_length().unwrap_or(0) as f64,
            )],
        };
        Ok((obs, info))
    }

    fn step(&mut self, action: &usize) -> Result<Step<Vec<f32>>> {
        let c = &self.config;
        let ep = self
            .episode
            .as_mut()
            .ok_or(Error::ResetNeeded { call: "step" })?;
        ep.progress.ensure_running()?;
        let &(dx, dy) = MOVES.get(*action).ok_or(Error::ActionOutOfRange {
            value: i64::try_from(*action).unwrap_or(i64::MAX),
            n: NUM_ACTIONS,
        })?;
        let (x, y) = (ep.agent.0 as i64 + dx, ep.agent.1 as i64 + dy);
        if !ep.blocked(x, y) {
            ep.agent = (x as usize, y as usize);
        }
        let terminated = ep.agent == ep.goal;
        let reward = if terminated {
            c.goal_reward
        } else {
            -c.step_penalty
        };
        // Success means reaching the goal, which is exactly what terminates the episode.
        let (truncated, episode) =
            ep.progress
                .record(reward, terminated, c.max_episode_steps, |_| terminated);
        Ok(Step {
            obs: ep.observation(),
            reward,
            terminated,
            truncated,
            info: Info {
                episode,
                values: Vec::new(),
            },
        })
    }

    fn action_mask(&self) -> Option<Vec<bool>> {
        GridWorldEnv::action_mask(self).map(|mask| mask.to_vec())
    }

    fn render(&self) -> Result<RgbFrame> {
        let ep = self
            .episode
            .as_ref()
            .ok_or(Error::ResetNeeded { call: "render" })?;
        let cell = RENDER_CELL_PIXELS;
        let side = ep.size as u32 * cell;
        let mut data = vec![255u8; (side * side * 3) as usize];
        for py in 0..side {
            for px in 0..side {
                // Image rows go down, grid y goes up.
                let (x, y) = ((px / cell) as usize, ep.size - 1 - (py / cell) as usize);
                let rgb = if (x, y) == ep.agent {
                    [40, 40, 220]
                } else if (x, y) == ep.goal {
                    [40, 180, 40]
                } else if ep.walls[y * ep.size + x] {
                    [60, 60, 60]
                } else {
                    [255, 255, 255]
                };
                let i = ((py * side + px) * 3) as usize;
                data[i..i + 3].copy_from_slice(&rgb);
            }
        }
        Ok(RgbFrame {
            width: side,
            height: side,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> GridWorldEnv {
        GridWorldEnv::new(GridWorldConfig::default()).unwrap()
    }

    #[test]
    fn step_before_reset_is_an_error() {
        assert_eq!(env().step(&UP), Err(Error::ResetNeeded { call: "step" }));
        assert_eq!(env().action_mask(), None);
        assert_eq!(env().render(), Err(Error::ResetNeeded { call: "render" }));
    }

    #[test]
    fn bad_actions_tasks_and_configs_are_typed_errors() {
        let mut env = env();
        env.reset(Some(1), &[5.0, 0.1]).unwrap();
        assert_eq!(
            env.step(&4),
            Err(Error::ActionOutOfRange { value: 4, n: 4 })
        );
        assert_eq!(env.elapsed_steps(), 0);
        assert!(matches!(
            env.reset(None, &[5.0]),
            Err(Error::TaskDimension { .. })
        ));
        assert!(matches!(
            env.reset(None, &[20.0, 0.1]),
            Err(Error::TaskOutOfBounds { .. })
        ));
        assert!(matches!(
            env.reset(None, &[5.0, f64::NAN]),
            Err(Error::TaskOutOfBounds { .. })
        ));
        for config in [
            GridWorldConfig {
                max_episode_steps: 0,
                ..Default::default()
            },
            GridWorldConfig {
                size_bounds: [1.0, 5.0],
                ..Default::default()
            },
            GridWorldConfig {
                size_bounds: [3.0, 40.0],
                ..Default::default()
            },
            GridWorldConfig {
                wall_density_bounds: [0.0, 0.9],
                ..Default::default()
            },
            GridWorldConfig {
                step_penalty: -1.0,
                ..Default::default()
            },
            GridWorldConfig {
                goal_reward: f64::NAN,
                ..Default::default()
            },
        ] {
            assert!(matches!(
                GridWorldEnv::new(config),
                Err(Error::InvalidConfig { .. })
            ));
        }
        assert!(matches!(
            GridWorldEnv::new(GridWorldConfig {
                wall_density_bounds: [0.3, 0.1],
                ..Default::default()
            }),
            Err(Error::InvalidBounds { .. })
        ));
    }

    /// Follows a breadth-first shortest path: it must exist and end in success.
    #[test]
    fn goal_is_always_reachable_and_reaching_it_succeeds() {
        let mut env = GridWorldEnv::new(GridWorldConfig {
            size_bounds: [2.0, 12.0],
            wall_density_bounds: [0.0, MAX_WALL_DENSITY],
            max_episode_steps: 500,
            ..Default::default()
        })
        .unwrap();
        let space = env.task_space().clone();
        let mut rng = Pcg64::seed_from_u64(9);
        for i in 0..200 {
            let task = space.sample(&mut rng);
            env.reset(Some(i), &task).unwrap();
            let mut remaining = env.shortest_path_length().expect("goal reachable");
            assert!(remaining >= 1);
            let expected_return = DEFAULT_GOAL_REWARD - (remaining - 1) as f64 * 0.01;
            loop {
                let action = (0..NUM_ACTIONS)
                    .find(|&a| {
                        let mut probe = env.episode.clone().unwrap();
                        let (dx, dy) = MOVES[a];
                        let (x, y) = (probe.agent.0 as i64 + dx, probe.agent.1 as i64 + dy);
                        if probe.blocked(x, y) {
                            return false;
                        }
                        probe.agent = (x as usize, y as usize);
                        let saved = env.episode.replace(probe);
                        let shorter = env.shortest_path_length() == Some(remaining - 1);
                        env.episode = saved;
                        shorter
                    })
                    .expect("some move shortens the path");
                let step = env.step(&action).unwrap();
                remaining -= 1;
                if remaining == 0 {
                    assert!(step.terminated && !step.truncated);
                    let summary = step.info.episode.unwrap();
                    assert!(summary.success);
                    assert!((summary.episode_return - expected_return).abs() < 1e-9);
                    break;
                }
                assert!(!step.terminated);
            }
        }
    }

    #[test]
    fn walls_and_edges_block_moves_and_show_in_the_observation() {
        let mut env = env();
        env.reset(Some(3), &[4.0, 0.0]).unwrap();
        let ep = env.episode.as_mut().unwrap();
        ep.agent = (0, 0);
        ep.goal = (3, 3);
        ep.walls[1] = true; // (1, 0), right of the agent
        let obs = ep.observation();
        // Neighbours: top row (-1,1) (0,1) (1,1); middle (-1,0) (1,0); bottom (-1,-1) (0,-1) (1,-1).
        assert_eq!(&obs[4..], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(&obs[..4], &[1.0, 1.0, 3.0 / 16.0, 3.0 / 16.0]);
        ep.goal = (0, 2);
        assert_eq!(&ep.observation()[..4], &[0.0, 1.0, 0.0, 2.0 / 16.0]);
        for action in [LEFT, DOWN, RIGHT] {
            let step = env.step(&action).unwrap();
            assert_eq!(env.agent(), Some((0, 0)));
            assert_eq!(step.reward, -DEFAULT_STEP_PENALTY);
        }
        // Only up is legal at (0, 0) with a wall to the right.
        assert_eq!(env.action_mask(), Some([true, false, false, false]));
        env.step(&UP).unwrap();
        assert_eq!(env.agent(), Some((0, 1)));
        assert_eq!(env.action_mask(), Some([true, true, false, true]));
    }

    #[test]
    fn truncates_at_the_limit_and_then_refuses_to_step() {
        let mut env = GridWorldEnv::new(GridWorldConfig {
            max_episode_steps: 3,
            ..Default::default()
        })
        .unwrap();
        env.reset(Some(3), &[8.0, 0.0]).unwrap();
        // Bumping into the bottom edge never reaches the goal unless it is on the bottom row
        // next to the agent; pick a seed where it is not.
        let (agent, goal) = (env.agent().unwrap(), env.goal().unwrap());
        assert!(agent.1 != 0 || goal.1 != 0);
        let mut last = None;
        for _ in 0..3 {
            let step = env.step(&DOWN).unwrap();
            if step.terminated {
                return;
            }
            last = Some(step);
        }
        let last = last.unwrap();
        assert!(last.truncated && !last.terminated);
        assert!(!last.info.episode.unwrap().success);
        assert_eq!(env.step(&UP), Err(Error::EpisodeEnded));
    }

    #[test]
    fn seeded_resets_are_deterministic_and_render() {
        let run = |seed| {
            let mut env = env();
            let (mut trace, _) = env.reset(Some(seed), &[7.0, 0.25]).unwrap();
            for t in 0..30 {
                let step = env.step(&(t * 7 % 4)).unwrap();
                trace.extend_from_slice(&step.obs);
                if step.terminated || step.truncated {
                    break;
                }
            }
            trace
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
        let mut env = env();
        env.reset(Some(1), &[5.4, 0.1]).unwrap();
        let frame = env.render().unwrap();
        assert_eq!(frame.width, 5 * RENDER_CELL_PIXELS);
        assert_eq!(frame.data.len(), (frame.width * frame.height * 3) as usize);
    }
}

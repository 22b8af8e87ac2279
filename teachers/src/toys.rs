//! Synthetic students, the teacher test-bed: validate a teacher in seconds instead of GPU-days.
//!
//! [`ToyGrid`] is teachDeepRL's toy student: the task space is cut into a grid of cells, each
//! with a competence in `[0, max_competence]`. Playing a cell adds `competence_gain` to it, but
//! only if it is the start cell (the corner at the lower bounds) or a *previous* neighbour (one
//! obtained by decreasing one or more coordinates by one cell, diagonals included) is mastered.
//! The episode return is `competence / max_competence` of the played cell, after practice.
//! As in teachDeepRL's `ToyEnv`, a cell *unlocks* its successors once its competence reaches the
//! mastery threshold (`>= 75`), but it only *counts* as mastered in the score
//! ([`ToyGrid::cells_mastered`], teachDeepRL's `get_score`) once it exceeds it (`> 75`).
//! Cells outside the learnable block never gain competence: [`ToyGrid::mostly_unlearnable`]
//! makes 75 % of the space useless, as the "mostly unfeasible" Stump Tracks challenge.
//!
//! [`classroom`] holds the meta-ACL classroom toy (students of 4 or 400 types), on which AGAIN
//! is compared with ALP-GMM.

pub mod classroom;

use serde::{Deserialize, Serialize};
use teachgym_core::{TaskDim, TaskSpace};

use crate::{
    DiagonalGaussian, EpisodeOutcome, ExpertKnowledge, Result, RewardThresholds, Teacher,
    TeacherError,
};

/// Default width of one cell, task units (so 10 cells span `[0, 1]`).
pub const DEFAULT_TOY_CELL_WIDTH: f64 = 0.1;
/// Default competence added per episode on an unlocked cell.
pub const DEFAULT_TOY_COMPETENCE_GAIN: f64 = 1.0;
/// Default competence cap.
pub const DEFAULT_TOY_MAX_COMPETENCE: f64 = 100.0;
/// Default mastery threshold: a cell at or above it unlocks its successors; strictly above it,
/// the cell counts as mastered (teachDeepRL: unlock at `>= 75`, score at `> 75`).
pub const DEFAULT_TOY_MASTERY_THRESHOLD: f64 = 75.0;

/// Configuration of a [`ToyGrid`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToyGridConfig {
    /// Cells per dimension (the task space spans `cells · cell_width` per dimension).
    pub cells: Vec<usize>,
    /// Learnable cells per dimension, counted from the start corner (≤ `cells`).
    pub learnable_cells: Vec<usize>,
    /// Width of a cell, task units. Default: [`DEFAULT_TOY_CELL_WIDTH`].
    pub cell_width: f64,
    /// Competence gained per episode. Default: [`DEFAULT_TOY_COMPETENCE_GAIN`].
    pub competence_gain: f64,
    /// Competence cap. Default: [`DEFAULT_TOY_MAX_COMPETENCE`].
    pub max_competence: f64,
    /// Mastery threshold. Default: [`DEFAULT_TOY_MASTERY_THRESHOLD`].
    pub mastery_threshold: f64,
}

impl Default for ToyGridConfig {
    /// teachDeepRL's toy: a 10 × 10 grid over `[0, 1]²`, all learnable.
    fn default() -> Self {
        Self {
            cells: vec![10, 10],
            learnable_cells: vec![10, 10],
            cell_width: DEFAULT_TOY_CELL_WIDTH,
            competence_gain: DEFAULT_TOY_COMPETENCE_GAIN,
            max_competence: DEFAULT_TOY_MAX_COMPETENCE,
            mastery_threshold: DEFAULT_TOY_MASTERY_THRESHOLD,
        }
    }
}

/// The toy grid student. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToyGrid {
    config: ToyGridConfig,
    space: TaskSpace,
    /// Row-major over `cells`, dimension 0 varying slowest.
    competence: Vec<f64>,
}

impl ToyGrid {
    /// A grid built from `config`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] (`InvalidConfig`) for empty or mismatched cell counts, a learnable
    /// block larger than the grid, or non-positive widths and thresholds.
    pub fn new(config: ToyGridConfig) -> Result<Self> {
        let c = &config;
        if c.cells.is_empty() || c.cells.len() != c.learnable_cells.len() || c.cells.contains(&0) {
            return Err(TeacherError::config(
                "toy_grid.cells",
                "need one positive count per dimension for cells and learnable_cells",
            ));
        }
        if c.learnable_cells.iter().zip(&c.cells).any(|(l, n)| l > n) {
            return Err(TeacherError::config(
                "toy_grid.learnable_cells",
                "cannot exceed cells",
            ));
        }
        if !(c.cell_width > 0.0
            && c.competence_gain > 0.0
            && c.max_competence > 0.0
            && c.mastery_threshold > 0.0)
            || c.mastery_threshold > c.max_competence
        {
            return Err(TeacherError::config(
                "toy_grid",
                "cell_width, competence_gain, max_competence, mastery_threshold must be > 0, threshold <= max",
            ));
        }
        let space = TaskSpace::new(
            c.cells
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    TaskDim::new(
                        format!("x{i}"),
                        0.0,
                        n as f64 * c.cell_width,
                        "toy grid coordinate",
                    )
                })
                .collect(),
        )?;
        let total = c.cells.iter().product();
        Ok(Self {
            space,
            competence: vec![0.0; total],
            config,
        })
    }

    /// teachDeepRL's 10 × 10 toy grid, all learnable.
    pub fn teach_deep_rl() -> Self {
        Self::new(ToyGridConfig::default())
            .unwrap_or_else(|_| unreachable!("default toy config is valid"))
    }

    /// A 20 × 20 grid over `[0, 2]²` whose only learnable block is the 10 × 10 corner `[0, 1]²`:
    /// 75 % of the task space can never be learned.
    pub fn mostly_unlearnable() -> Self {
        Self::new(ToyGridConfig {
            cells: vec![20, 20],
            ..ToyGridConfig::default()
        })
        .unwrap_or_else(|_| unreachable!("valid toy config"))
    }

    /// The student's task space.
    pub fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    /// Number of learnable cells.
    pub fn learnable_cell_count(&self) -> usize {
        self.config.learnable_cells.iter().product()
    }

    /// Number of mastered cells: competence strictly above the mastery threshold, as
    /// teachDeepRL's `get_score` (a cell at exactly the threshold already unlocks its successors
    /// but is not counted yet).
    pub fn cells_mastered(&self) -> usize {
        self.competence
            .iter()
            .filter(|&&c| self.is_mastered(c))
            .count()
    }

    fn is_mastered(&self, competence: f64) -> bool {
        competence > self.config.mastery_threshold
    }

    /// Competence of the cell containing `task`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] for a task outside the space.
    pub fn competence_at(&self, task: &[f64]) -> Result<f64> {
        Ok(self.competence[self.flat_index(&self.cell_of(task)?)])
    }

    /// The toy's stand-in for a critic: the normalised competence (`competence /
    /// max_competence`, return units) of the cell containing `task`, as it is now. Called
    /// right after [`ToyGrid::play`], it is the value of that cell after the practice, i.e. what
    /// a critic fitted at the end of the learning iteration would estimate.
    ///
    /// # Errors
    /// [`TeacherError::Core`] for a task outside the space.
    pub fn value_estimate(&self, task: &[f64]) -> Result<f64> {
        Ok(self.competence_at(task)? / self.config.max_competence)
    }

    /// Plays one episode on `task`: practice (if unlocked), then the return is the cell's
    /// normalised competence. `success` = the cell counts as mastered (see
    /// [`ToyGrid::cells_mastered`]), `length` = 1.
    ///
    /// # Errors
    /// [`TeacherError::Core`] for a task of the wrong length or outside the space.
    pub fn play(&mut self, task: &[f64]) -> Result<EpisodeOutcome> {
        let cell = self.cell_of(task)?;
        let index = self.flat_index(&cell);
        if self.is_unlocked(&cell) {
            self.competence[index] = (self.competence[index] + self.config.competence_gain)
                .min(self.config.max_competence);
        }
        let c = self.competence[index];
        Ok(EpisodeOutcome::new(
            c / self.config.max_competence,
            self.is_mastered(c),
            1,
        ))
    }

    /// Expert knowledge matching this student: success = mastery, ADR thresholds `[0, mastery]`
    /// in return units, and (at `high`) a Gaussian centred on the start cell with a std of half
    /// a cell.
    pub fn expert_knowledge(&self, level: crate::ExpertLevel) -> ExpertKnowledge {
        let mastery = self.config.mastery_threshold / self.config.max_competence;
        let thresholds = RewardThresholds {
            min_reward: 0.0,
            max_reward: mastery,
        };
        let w = self.config.cell_width;
        match level {
            crate::ExpertLevel::None => ExpertKnowledge::none(),
            crate::ExpertLevel::Low => ExpertKnowledge::low(mastery, thresholds),
            crate::ExpertLevel::High => ExpertKnowledge::high(
                mastery,
                thresholds,
                DiagonalGaussian {
                    mean: vec![0.5 * w; self.space.dim()],
                    std: vec![0.5 * w; self.space.dim()],
                },
            ),
        }
    }

    fn cell_of(&self, task: &[f64]) -> Result<Vec<usize>> {
        self.space.validate(task)?;
        Ok(task
            .iter()
            .zip(&self.config.cells)
            .map(|(&x, &n)| ((x / self.config.cell_width) as usize).min(n - 1))
            .collect())
    }

    fn flat_index(&self, cell: &[usize]) -> usize {
        cell.iter()
            .zip(&self.config.cells)
            .fold(0, |acc, (&c, &n)| acc * n + c)
    }

    fn is_unlocked(&self, cell: &[usize]) -> bool {
        if cell
            .iter()
            .zip(&self.config.learnable_cells)
            .any(|(c, l)| c >= l)
        {
            return false;
        }
        if cell.iter().all(|&c| c == 0) {
            return true;
        }
        // Previous neighbours: decrease a non-empty subset of the non-zero coordinates by one.
        let d = cell.len();
        let mut neighbour = cell.to_vec();
        (1u32..(1 << d)).any(|mask| {
            let valid = (0..d).all(|j| mask & (1 << j) == 0 || cell[j] > 0);
            if !valid {
                return false;
            }
            for j in 0..d {
                neighbour[j] = if mask & (1 << j) != 0 {
                    cell[j] - 1
                } else {
                    cell[j]
                };
            }
            self.competence[self.flat_index(&neighbour)] >= self.config.mastery_threshold
        })
    }
}

/// Runs `episodes` episodes of `teacher` on `student` and returns the cells mastered at the end.
///
/// A teacher that asks for value estimates ([`Teacher::value_estimate_discount`], SPDL) gets,
/// right after each update, the toy's stand-in for a critic ([`ToyGrid::value_estimate`]: the
/// played cell's normalised competence) as the initial value, and the episode's return as its
/// discounted return (toy episodes last one step, so discounting changes nothing).
///
/// # Errors
/// Whatever the teacher's `update` or the student's `play` reports (a teacher sampling outside
/// the student's space, for instance).
pub fn run_curriculum(
    teacher: &mut dyn Teacher,
    student: &mut ToyGrid,
    episodes: usize,
) -> Result<usize> {
    let asks_for_values = teacher.value_estimate_discount().is_some();
    for _ in 0..episodes {
        let task = teacher.sample_task();
        let outcome = student.play(&task)?;
        teacher.update(&task, &outcome)?;
        if asks_for_values {
            let estimate = crate::ValueEstimate {
                initial_value: student.value_estimate(&task)?,
                discounted_return: outcome.episode_return,
            };
            teacher.record_value_estimate(&task, &estimate)?;
        }
    }
    Ok(student.cells_mastered())
}

/// The two test-bed students.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToyVariant {
    /// [`ToyGrid::teach_deep_rl`]: 10 × 10, all learnable.
    Grid,
    /// [`ToyGrid::mostly_unlearnable`]: 20 × 20, only the 10 × 10 corner learnable.
    MostlyUnlearnable,
}

impl ToyVariant {
    /// A fresh student of this variant.
    pub fn student(self) -> ToyGrid {
        match self {
            ToyVariant::Grid => ToyGrid::teach_deep_rl(),
            ToyVariant::MostlyUnlearnable => ToyGrid::mostly_unlearnable(),
        }
    }
}

/// Default JSON config of teacher `name` in the test-bed: the crate defaults, plus the toy's
/// `high` expert knowledge for ADR (which cannot run without thresholds and, started at a random
/// point of a locked region, would never move) and its `low` expert knowledge for GoalGAN (the
/// success threshold it cannot run without; TeachMyAgent's minimum for it), and for AGAIN a
/// one-student stand-in classroom ([`crate::Classroom::minimal`]: without evaluations AGAIN stays
/// in its ALP-GMM pre-test), and for QWeb's schedule both of the grid's dimensions (its defaults
/// name the web form's).
pub fn testbed_config(name: &str, student: &ToyGrid) -> serde_json::Value {
    if name == crate::Again::NAME {
        // AGAIN needs a classroom; this one stands in for tests of the teacher contract.
        let classroom = crate::Classroom::minimal(student.task_space(), 4);
        return serde_json::json!({ "classroom": classroom });
    }
    if name == crate::QwebSchedule::NAME {
        // QWeb's schedule defaults to the web form's dimensions; on the grid it moves both
        // coordinates from the always-open corner cell outwards.
        return serde_json::json!({ "dimensions": student.task_space().names() });
    }
    let level = match name {
        crate::Adr::NAME => crate::ExpertLevel::High,
        crate::GoalGan::NAME => crate::ExpertLevel::Low,
        _ => return serde_json::Value::Null,
    };
    serde_json::json!({ "expert_knowledge": student.expert_knowledge(level) })
}

/// One test-bed run: teacher `name` (test-bed config), seeded `seed`, trains a fresh `variant`
/// student for `episodes` episodes; returns the cells mastered.
///
/// # Errors
/// An unknown teacher name, or any error of [`run_curriculum`].
pub fn testbed_run(name: &str, variant: ToyVariant, seed: u64, episodes: usize) -> Result<usize> {
    let config = testbed_config(name, &variant.student());
    testbed_run_with(name, config, variant, seed, episodes)
}

/// As [`testbed_run`] with an explicit JSON teacher config (`null` for the defaults).
///
/// # Errors
/// An unknown teacher name or bad config, or any error of [`run_curriculum`].
pub fn testbed_run_with(
    name: &str,
    config: serde_json::Value,
    variant: ToyVariant,
    seed: u64,
    episodes: usize,
) -> Result<usize> {
    let mut student = variant.student();
    let mut teacher = crate::build_teacher(name, student.task_space().clone(), seed, config)?;
    run_curriculum(teacher.as_mut(), &mut student, episodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_unlock_after_a_neighbour_is_mastered() {
        let mut g = ToyGrid::teach_deep_rl();
        // (0.15, 0.05) is cell (1, 0): locked until (0, 0) is mastered.
        assert_eq!(g.play(&[0.15, 0.05]).unwrap().episode_return, 0.0);
        for i in 1..=75 {
            let o = g.play(&[0.05, 0.05]).unwrap();
            assert!((o.episode_return - i as f64 / 100.0).abs() < 1e-12);
            assert!(!o.success);
        }
        // At exactly 75 the cell unlocks its successors but is not counted as mastered yet
        // (teachDeepRL's `get_score` counts competence > 75).
        assert_eq!(g.cells_mastered(), 0);
        // Now (1, 0), (0, 1) and the diagonal (1, 1) are unlocked; (2, 0) is not.
        assert_eq!(g.play(&[0.15, 0.05]).unwrap().episode_return, 0.01);
        assert_eq!(g.play(&[0.15, 0.15]).unwrap().episode_return, 0.01);
        assert_eq!(g.play(&[0.25, 0.05]).unwrap().episode_return, 0.0);
        // The 76th practice makes (0, 0) count as mastered.
        let o = g.play(&[0.05, 0.05]).unwrap();
        assert!(o.success && (o.episode_return - 0.76).abs() < 1e-12);
        assert_eq!(g.cells_mastered(), 1);
        // Upper bound maps to the last cell; outside is an error.
        assert!(g.play(&[1.0, 1.0]).is_ok());
        assert!(g.play(&[1.1, 0.0]).is_err());
        // Competence is capped.
        for _ in 0..200 {
            g.play(&[0.0, 0.0]).unwrap();
        }
        assert_eq!(g.competence_at(&[0.0, 0.0]).unwrap(), 100.0);
    }

    #[test]
    fn unlearnable_cells_never_progress() {
        let mut g = ToyGrid::mostly_unlearnable();
        assert_eq!(g.task_space().high(), vec![2.0, 2.0]);
        assert_eq!(g.learnable_cell_count(), 100);
        // Master the whole learnable diagonal up to (9, 9), then (10, 10) stays at 0.
        for i in 0..10 {
            let x = 0.1 * i as f64 + 0.05;
            for _ in 0..76 {
                g.play(&[x, x]).unwrap();
            }
        }
        assert_eq!(g.cells_mastered(), 10);
        assert_eq!(g.play(&[1.05, 1.05]).unwrap().episode_return, 0.0);
        assert!(ToyGrid::new(ToyGridConfig {
            learnable_cells: vec![11, 10],
            ..Default::default()
        })
        .is_err());
    }
}

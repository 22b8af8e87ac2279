//! The classroom toy of the meta-ACL experiments: students of several *types* on one 20 × 20
//! grid over `[0, 1]²`, so that a curriculum good for one type is bad for another.
//!
//! Playing a cell adds 1 to its competence (capped at 100) if it is the type's start cell or a
//! *previous* neighbour has competence ≥ 75; the return is the cell's competence / 100, and a
//! cell counts as mastered above 75 (as [`super::ToyGrid`]).
//!
//! - **v1**: four types, the task space rotated by `type · 90°` about its centre; the start cell is
//!   (0, 0) of the rotated grid and the previous neighbours are the lower-index ones, diagonals
//!   included.
//! - **v2**: 400 types, the start-cell index; the previous neighbours are the four
//!   edge-neighbours, in both directions.
//!
//! A student's knowledge-component vector is its competence grid / 100 (400 scores in `[0, 1]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use teachgym_core::{TaskDim, TaskSpace};

use crate::again::{ClassroomEntry, ClassroomStudent, KcVector};
use crate::{EpisodeOutcome, EvaluationResult, Result, Teacher, TeacherError};

/// Cells per side of the classroom toy.
pub const CLASSROOM_TOY_CELLS: usize = 20;
/// Competence from which a cell unlocks its neighbours (and above which it counts as mastered).
pub const CLASSROOM_TOY_MASTERY: f64 = 75.0;
/// Competence cap.
pub const CLASSROOM_TOY_MAX_COMPETENCE: f64 = 100.0;
/// Episodes of a classroom-toy student in the reference.
pub const CLASSROOM_TOY_EPISODES: usize = 200_000;
/// Episodes between two test epochs in the reference.
pub const CLASSROOM_TOY_EVAL_EVERY: usize = 10_000;

/// The two versions of the toy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassroomToyVersion {
    /// Four rotations of the task space.
    V1,
    /// 400 start cells.
    V2,
}

impl ClassroomToyVersion {
    /// Number of student types.
    pub fn types(self) -> usize {
        match self {
            ClassroomToyVersion::V1 => 4,
            ClassroomToyVersion::V2 => CLASSROOM_TOY_CELLS * CLASSROOM_TOY_CELLS,
        }
    }
}

/// A classroom-toy student (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassroomToy {
    version: ClassroomToyVersion,
    student_type: usize,
    space: TaskSpace,
    /// Row-major, dimension 0 varying slowest.
    competence: Vec<f64>,
}

impl ClassroomToy {
    /// A fresh student of `student_type` (v1: `0..4`, v2: `0..400`).
    ///
    /// # Errors
    /// [`TeacherError::Core`] (`InvalidConfig`) for a type out of range.
    pub fn new(version: ClassroomToyVersion, student_type: usize) -> Result<Self> {
        if student_type >= version.types() {
            return Err(TeacherError::config(
                "classroom_toy.student_type",
                format!(
                    "must be below {} for {version:?}, got {student_type}",
                    version.types()
                ),
            ));
        }
        let space = TaskSpace::new(
            (0..2)
                .map(|i| TaskDim::new(format!("x{i}"), 0.0, 1.0, "classroom toy coordinate"))
                .collect(),
        )?;
        Ok(Self {
            version,
            student_type,
            space,
            competence: vec![0.0; CLASSROOM_TOY_CELLS * CLASSROOM_TOY_CELLS],
        })
    }

    /// The task space, `[0, 1]²`.
    pub fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    /// What distinguishes this student: `{"version": .., "type": ..}`.
    pub fn params(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            (
                "version".to_string(),
                serde_json::to_value(self.version).unwrap_or_default(),
            ),
            ("type".to_string(), self.student_type.into()),
        ])
    }

    /// Cells with competence above the mastery threshold.
    pub fn cells_mastered(&self) -> usize {
        self.competence
            .iter()
            .filter(|&&c| c > CLASSROOM_TOY_MASTERY)
            .count()
    }

    /// The knowledge-component vector: competence / 100 per cell.
    pub fn kc_vector(&self) -> Vec<f64> {
        self.competence
            .iter()
            .map(|c| c / CLASSROOM_TOY_MAX_COMPETENCE)
            .collect()
    }

    /// Plays one episode on `task` (length 1; success = the cell counts as mastered).
    ///
    /// # Errors
    /// [`TeacherError::Core`] for a task outside `[0, 1]²`.
    pub fn play(&mut self, task: &[f64]) -> Result<EpisodeOutcome> {
        self.space.validate(task)?;
        let (row, col) = self.cell_of(task);
        let i = row * CLASSROOM_TOY_CELLS + col;
        if self.is_unlocked(row, col) {
            self.competence[i] = (self.competence[i] + 1.0).min(CLASSROOM_TOY_MAX_COMPETENCE);
        }
        let c = self.competence[i];
        Ok(EpisodeOutcome::new(
            c / CLASSROOM_TOY_MAX_COMPETENCE,
            c > CLASSROOM_TOY_MASTERY,
            1,
        ))
    }

    /// The cell of `task`, in the student's own grid (v1: after its rotation).
    fn cell_of(&self, task: &[f64]) -> (usize, usize) {
        let (mut x, mut y) = (task[0], task[1]);
        if self.version == ClassroomToyVersion::V1 {
            for _ in 0..self.student_type {
                // A quarter turn about the centre.
                (x, y) = (1.0 - y, x);
            }
        }
        let n = CLASSROOM_TOY_CELLS;
        let cell = |v: f64| ((v * n as f64) as usize).min(n - 1);
        (cell(x), cell(y))
    }

    fn mastered_at(&self, row: usize, col: usize) -> bool {
        self.competence[row * CLASSROOM_TOY_CELLS + col] >= CLASSROOM_TOY_MASTERY
    }

    fn is_unlocked(&self, row: usize, col: usize) -> bool {
        match self.version {
            ClassroomToyVersion::V1 => {
                (row == 0 && col == 0)
                    || (row > 0 && self.mastered_at(row - 1, col))
                    || (col > 0 && self.mastered_at(row, col - 1))
                    || (row > 0 && col > 0 && self.mastered_at(row - 1, col - 1))
            }
            ClassroomToyVersion::V2 => {
                let n = CLASSROOM_TOY_CELLS;
                row * n + col == self.student_type
                    || (row > 0 && self.mastered_at(row - 1, col))
                    || (row + 1 < n && self.mastered_at(row + 1, col))
                    || (col > 0 && self.mastered_at(row, col - 1))
                    || (col + 1 < n && self.mastered_at(row, col + 1))
            }
        }
    }
}

/// What a classroom-toy run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassroomToyRun {
    /// Cells mastered at the end.
    pub cells_mastered: usize,
    /// The KC vector at each test epoch.
    pub kc_vectors: Vec<KcVector>,
}

/// Trains `student` with `teacher` for `episodes` episodes, with a test epoch every
/// `eval_every` episodes whose KC vector goes to [`Teacher::record_evaluation`] (epochs counted
/// from 1); restarts the student (same type, fresh competence) when the teacher asks.
///
/// # Errors
/// The teacher's or the student's errors.
pub fn run_classroom_toy(
    teacher: &mut dyn Teacher,
    student: &mut ClassroomToy,
    episodes: usize,
    eval_every: usize,
) -> Result<ClassroomToyRun> {
    let mut kc_vectors = Vec::new();
    for episode in 1..=episodes {
        let task = teacher.sample_task();
        let outcome = student.play(&task)?;
        teacher.update(&task, &outcome)?;
        if eval_every > 0 && episode % eval_every == 0 {
            let scores = student.kc_vector();
            let epoch = (episode / eval_every) as u64;
            teacher.record_evaluation(&EvaluationResult {
                epoch,
                episodes: episode as u64,
                returns: scores.clone(),
                scores: scores.clone(),
            })?;
            kc_vectors.push(KcVector {
                epoch,
                episodes: episode as u64,
                scores,
            });
            if teacher.wants_student_restart() {
                *student = ClassroomToy::new(student.version, student.student_type)?;
                teacher.acknowledge_student_restart();
            }
        }
    }
    Ok(ClassroomToyRun {
        cells_mastered: student.cells_mastered(),
        kc_vectors,
    })
}

/// The classroom entry of a finished toy student: its parameters, KC vectors, final scores
/// (its last KC vector) and the teacher's ALP-GMM history (empty without one).
pub fn classroom_toy_entry(
    name: String,
    student: &ClassroomToy,
    run: ClassroomToyRun,
    teacher: &dyn Teacher,
) -> ClassroomEntry {
    ClassroomEntry::new(
        student.task_space().clone(),
        ClassroomStudent {
            name,
            params: student.params(),
            final_scores: student.kc_vector(),
            kc_vectors: run.kc_vectors,
            history: teacher.alp_gmm_history().cloned().unwrap_or_default(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre(row: usize, col: usize) -> [f64; 2] {
        let w = 1.0 / CLASSROOM_TOY_CELLS as f64;
        [(row as f64 + 0.5) * w, (col as f64 + 0.5) * w]
    }

    fn master(s: &mut ClassroomToy, row: usize, col: usize) {
        for _ in 0..76 {
            s.play(&centre(row, col)).unwrap();
        }
    }

    #[test]
    fn v2_grows_from_the_start_cell_in_four_directions() {
        let start = 5 * CLASSROOM_TOY_CELLS + 7;
        let mut s = ClassroomToy::new(ClassroomToyVersion::V2, start).unwrap();
        // Elsewhere nothing is learned.
        assert_eq!(s.play(&centre(0, 0)).unwrap().episode_return, 0.0);
        master(&mut s, 5, 7);
        assert_eq!(s.cells_mastered(), 1);
        for (r, c) in [(4, 7), (6, 7), (5, 6), (5, 8)] {
            assert_eq!(s.play(&centre(r, c)).unwrap().episode_return, 0.01);
        }
        // Diagonals are not neighbours in v2.
        assert_eq!(s.play(&centre(6, 8)).unwrap().episode_return, 0.0);
        assert_eq!(s.kc_vector()[start], 0.76);
        assert!(ClassroomToy::new(ClassroomToyVersion::V2, 400).is_err());
    }

    #[test]
    fn v1_rotations_move_the_start_corner() {
        // Type 0 starts at the (0, 0) corner of the task space; each quarter turn moves it.
        let corners = [[0.01, 0.01], [0.01, 0.99], [0.99, 0.99], [0.99, 0.01]];
        for (t, corner) in corners.iter().enumerate() {
            let mut s = ClassroomToy::new(ClassroomToyVersion::V1, t).unwrap();
            let others = corners.iter().filter(|c| *c != corner);
            for other in others {
                assert_eq!(s.play(other).unwrap().episode_return, 0.0, "type {t}");
            }
            assert_eq!(s.play(corner).unwrap().episode_return, 0.01, "type {t}");
        }
        // Diagonal neighbours count in v1.
        let mut s = ClassroomToy::new(ClassroomToyVersion::V1, 0).unwrap();
        master(&mut s, 0, 0);
        assert_eq!(s.play(&centre(1, 1)).unwrap().episode_return, 0.01);
        assert!(ClassroomToy::new(ClassroomToyVersion::V1, 4).is_err());
    }
}

//! The "rugged difficulty" transform (TeachMyAgent's `DimensionsShuffler`): each dimension is
//! cut into [`SHUFFLER_INTERVALS`] equal intervals, permuted independently per dimension
//! (seeded). The teacher samples in the shuffled space; [`DimensionShuffler::to_env`] maps its
//! task piecewise-linearly to the real space before the env sees it, and episodes are credited
//! to the teacher's (shuffled-space) task. Difficulty is no longer smooth for the teacher.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::Result;

/// Intervals per dimension (reference: 4).
pub const SHUFFLER_INTERVALS: usize = 4;

/// A seeded, per-dimension permutation of equal intervals. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionShuffler {
    space: TaskSpace,
    /// `permutations[d][j]`: the real interval that shuffled interval `j` of dimension `d` maps to.
    permutations: Vec<[usize; SHUFFLER_INTERVALS]>,
}

impl DimensionShuffler {
    /// A shuffler over `space` whose permutations are drawn from `seed`.
    pub fn new(space: TaskSpace, seed: u64) -> Self {
        let mut rng = Pcg64::seed_from_u64(seed);
        let permutations = (0..space.dim())
            .map(|_| {
                let mut p = [0, 1, 2, 3];
                p.shuffle(&mut rng);
                p
            })
            .collect();
        Self {
            space,
            permutations,
        }
    }

    /// The task space (identical for teacher and env; only the mapping differs).
    pub fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    /// The permutation of dimension `dim`, or `None` if out of range.
    pub fn permutation(&self, dim: usize) -> Option<&[usize; SHUFFLER_INTERVALS]> {
        self.permutations.get(dim)
    }

    /// Maps a teacher (shuffled-space) task to the env's task.
    ///
    /// # Errors
    /// [`crate::TeacherError::Core`] for a task of the wrong length or out of bounds.
    pub fn to_env(&self, teacher_task: &[f64]) -> Result<Vec<f64>> {
        self.map(teacher_task, false)
    }

    /// Maps an env task back to the teacher's shuffled space (inverse of [`Self::to_env`]).
    ///
    /// # Errors
    /// [`crate::TeacherError::Core`] for a task of the wrong length or out of bounds.
    pub fn to_teacher(&self, env_task: &[f64]) -> Result<Vec<f64>> {
        self.map(env_task, true)
    }

    fn map(&self, task: &[f64], inverse: bool) -> Result<Vec<f64>> {
        self.space.validate(task)?;
        Ok(self
            .space
            .dims()
            .iter()
            .zip(task)
            .zip(&self.permutations)
            .map(|((dim, &x), perm)| {
                let width = dim.range() / SHUFFLER_INTERVALS as f64;
                if width <= 0.0 {
                    return x;
                }
                let from = (((x - dim.low) / width) as usize).min(SHUFFLER_INTERVALS - 1);
                let offset = x - dim.low - from as f64 * width;
                let to = if inverse {
                    perm.iter().position(|&p| p == from).unwrap_or(from)
                } else {
                    perm[from]
                };
                (dim.low + to as f64 * width + offset).clamp(dim.low, dim.high)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_intervals_by_permutation_and_inverts() {
        let space = TaskSpace::from_bounds(&[0.0, -3.0], &[4.0, 3.0]).unwrap();
        let s = DimensionShuffler::new(space.clone(), 7);
        assert_eq!(s, DimensionShuffler::new(space.clone(), 7));
        let p0 = *s.permutation(0).unwrap();
        let mut sorted = p0;
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3]);
        // Dim 0 has unit intervals: 0.25 in interval 0 goes to p0[0] + 0.25.
        let mapped = s.to_env(&[0.25, 0.0]).unwrap();
        assert!((mapped[0] - (p0[0] as f64 + 0.25)).abs() < 1e-12);
        let mut rng = crate::util::decision_rng(1);
        for _ in 0..1000 {
            let t = space.sample(&mut rng);
            let e = s.to_env(&t).unwrap();
            assert!(space.contains(&e));
            let back = s.to_teacher(&e).unwrap();
            for (a, b) in back.iter().zip(&t) {
                assert!((a - b).abs() < 1e-9);
            }
        }
        // Different seeds give different permutations somewhere (5 dims: 24^5 choices).
        let wide = TaskSpace::from_bounds(&[0.0; 5], &[1.0; 5]).unwrap();
        assert_ne!(
            DimensionShuffler::new(wide.clone(), 1),
            DimensionShuffler::new(wide, 2)
        );
        assert!(s.to_env(&[5.0, 0.0]).is_err());
        assert!(s.to_env(&[1.0]).is_err());
    }
}

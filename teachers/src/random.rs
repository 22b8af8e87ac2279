//! The Random teacher: tasks uniform over the task space, nothing learned. The baseline every
//! curriculum must beat.

use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::util::{decision_rng, visualisation_rng, TeacherRng};
use crate::{checkpoint, validate_update, EpisodeOutcome, Result, Teacher};

/// Configuration of [`RandomTeacher`] (it has no parameters; the struct exists so every teacher
/// is built the same way and unknown JSON fields are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomConfig {}

/// Uniform task sampling (gym's `Box.sample()`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomTeacher {
    config: RandomConfig,
    space: TaskSpace,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    episodes: u64,
}

impl RandomTeacher {
    /// Registry name.
    pub const NAME: &'static str = "random";

    /// A Random teacher over `space`, seeded with `seed`.
    ///
    /// # Errors
    /// None today; the signature matches the other teachers.
    pub fn new(space: TaskSpace, seed: u64, config: RandomConfig) -> Result<Self> {
        Ok(Self {
            config,
            space,
            rng: decision_rng(seed),
            visualisation_rng: visualisation_rng(seed),
            episodes: 0,
        })
    }

    /// Number of episodes reported through `update`.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }
}

impl Teacher for RandomTeacher {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        self.space.sample(&mut self.rng)
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        self.episodes = self.episodes.saturating_add(1);
        Ok(())
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        Some(
            (0..n)
                .map(|_| self.space.sample(&mut self.visualisation_rng))
                .collect(),
        )
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, self)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let restored: Self = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &restored.space)?;
        *self = restored;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TeacherError;

    #[test]
    fn uniform_in_bounds_and_seeded() {
        let space = TaskSpace::from_bounds(&[-1.0, 0.0], &[1.0, 10.0]).unwrap();
        let mut a = RandomTeacher::new(space.clone(), 3, RandomConfig {}).unwrap();
        let mut b = RandomTeacher::new(space.clone(), 3, RandomConfig {}).unwrap();
        let mut mean = [0.0; 2];
        for _ in 0..10_000 {
            let t = a.sample_task();
            assert!(space.contains(&t));
            assert_eq!(t, b.sample_task());
            mean[0] += t[0] / 10_000.0;
            mean[1] += t[1] / 10_000.0;
        }
        assert!(
            mean[0].abs() < 0.05 && (mean[1] - 5.0).abs() < 0.2,
            "{mean:?}"
        );
        assert!(matches!(
            a.update(&[0.0, 0.0], &EpisodeOutcome::new(f64::INFINITY, false, 1)),
            Err(TeacherError::NonFiniteReturn { .. })
        ));
        assert_eq!(a.episodes(), 0);
    }
}

//! The "rugged difficulty" transform (TeachMyAgent's `DimensionsShuffler`): each dimension is
//! cut into [`SHUFFLER_INTERVALS`] equal intervals, permuted independently per dimension
//! (seeded). The teacher samples in the shuffled space; [`DimensionShuffler::to_env`] maps its
//! task piecewise-linearly to the real space before the env sees it, and episodes are credited
//! to the teacher's (shuffled-space) task. Difficulty is no longer smooth for the teacher.
//!
//! [`Shuffled`] wraps any teacher in that transform, so the loop (trainer, Python envs) keeps
//! speaking env tasks: `teachgym train --shuffle-dimensions`, `shuffle_dimensions = true` in a
//! run config, `shuffle_dimensions=True` on a Python teacher. Expert knowledge given to the
//! wrapped teacher is read in the teacher's (shuffled) space, as in TeachMyAgent, where the
//! teacher is built before and independently of the shuffler.

use std::collections::VecDeque;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::{checkpoint, EpisodeOutcome, Result, Teacher, ValueEstimate};

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

/// Tasks handed out by [`Shuffled`] and not yet credited, kept so that an episode on one of them
/// is credited to the exact teacher task it came from (the piecewise-linear inverse is exact only
/// up to rounding). Beyond this many, the oldest are forgotten and map back through
/// [`DimensionShuffler::to_teacher`].
pub const MAX_SHUFFLED_OUTSTANDING: usize = 4096;

/// A teacher that samples in a [`DimensionShuffler`]'s shuffled space while the loop sees env
/// tasks: [`Teacher::sample_task`] maps the inner teacher's task to the env,
/// [`Teacher::update`] and [`Teacher::record_value_estimate`] map the env task back. The
/// name, value-estimate discount and checkpoint kind are the inner teacher's.
pub struct Shuffled {
    inner: Box<dyn Teacher>,
    shuffler: DimensionShuffler,
    /// `(env task, teacher task)` of the samples not yet credited, oldest first.
    outstanding: VecDeque<(Vec<f64>, Vec<f64>)>,
}

/// What [`Shuffled::save_state`] writes beside the inner teacher's own checkpoint.
#[derive(Serialize, Deserialize)]
struct ShuffledState {
    shuffler: DimensionShuffler,
    outstanding: VecDeque<(Vec<f64>, Vec<f64>)>,
    /// The inner teacher's checkpoint (JSON text, kept as text so its 128-bit RNG words are
    /// never parsed as floats).
    inner: String,
}

impl Shuffled {
    /// Wraps `inner`; the permutations are drawn from `seed` (TeachMyAgent: the run seed).
    pub fn new(inner: Box<dyn Teacher>, seed: u64) -> Self {
        let shuffler = DimensionShuffler::new(inner.task_space().clone(), seed);
        Self {
            inner,
            shuffler,
            outstanding: VecDeque::new(),
        }
    }

    /// The transform.
    pub fn shuffler(&self) -> &DimensionShuffler {
        &self.shuffler
    }

    /// The teacher task behind `env_task`: the one it was sampled from if still outstanding
    /// (`take` removes it, so a second episode on an equal task finds the next one), else the
    /// inverse mapping.
    fn teacher_task(&mut self, env_task: &[f64], take: bool) -> Result<Vec<f64>> {
        self.shuffler.task_space().validate(env_task)?;
        let found = self.outstanding.iter().position(|(env, _)| {
            env.len() == env_task.len()
                && env
                    .iter()
                    .zip(env_task)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        match found {
            Some(i) if take => Ok(self
                .outstanding
                .remove(i)
                .map(|(_, t)| t)
                .unwrap_or_default()),
            Some(i) => Ok(self.outstanding[i].1.clone()),
            None => self.shuffler.to_teacher(env_task),
        }
    }
}

impl Teacher for Shuffled {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn task_space(&self) -> &TaskSpace {
        self.shuffler.task_space()
    }

    fn sample_task(&mut self) -> Vec<f64> {
        let teacher_task = self.inner.sample_task();
        // The inner teacher's tasks are inside the shared space, so the mapping cannot fail; a
        // teacher breaking that contract gets its task through unmapped rather than a panic.
        let env_task = self
            .shuffler
            .to_env(&teacher_task)
            .unwrap_or_else(|_| teacher_task.clone());
        if self.outstanding.len() == MAX_SHUFFLED_OUTSTANDING {
            self.outstanding.pop_front();
        }
        self.outstanding.push_back((env_task.clone(), teacher_task));
        env_task
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        // Validate through the inner teacher before forgetting the sample, so that an error
        // leaves the state unchanged.
        let teacher_task = self.teacher_task(task, false)?;
        self.inner.update(&teacher_task, outcome)?;
        if self.inner.value_estimate_discount().is_none() {
            self.teacher_task(task, true)?;
        }
        Ok(())
    }

    fn value_estimate_discount(&self) -> Option<f64> {
        self.inner.value_estimate_discount()
    }

    fn record_value_estimate(&mut self, task: &[f64], estimate: &ValueEstimate) -> Result<()> {
        // A teacher that asks for estimates gets them after the update: the sample is
        // forgotten here, once both calls have mapped it.
        let teacher_task = self.teacher_task(task, false)?;
        self.inner.record_value_estimate(&teacher_task, estimate)?;
        self.teacher_task(task, true)?;
        Ok(())
    }

    fn record_evaluation(&mut self, evaluation: &crate::EvaluationResult) -> Result<()> {
        self.inner.record_evaluation(evaluation)
    }

    fn wants_student_restart(&self) -> bool {
        self.inner.wants_student_restart()
    }

    fn acknowledge_student_restart(&mut self) {
        self.inner.acknowledge_student_restart();
    }

    // No `alp_gmm_history`: the inner teacher's tasks live in the shuffled space, which a
    // classroom of the real task space cannot use.

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        let samples = self.inner.non_exploratory_samples(n)?;
        Some(
            samples
                .into_iter()
                .map(|t| self.shuffler.to_env(&t).unwrap_or(t))
                .collect(),
        )
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        let inner = String::from_utf8(self.inner.save_state()?).map_err(|e| {
            crate::TeacherError::Checkpoint {
                reason: format!("inner checkpoint is not UTF-8: {e}"),
            }
        })?;
        checkpoint::save(
            self.inner.name(),
            &ShuffledState {
                shuffler: self.shuffler.clone(),
                outstanding: self.outstanding.clone(),
                inner,
            },
        )
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let state: ShuffledState = checkpoint::load(self.inner.name(), bytes)?;
        if state.shuffler.task_space() != self.shuffler.task_space()
            || state.shuffler.permutations.len() != self.shuffler.permutations.len()
            || state.outstanding.len() > MAX_SHUFFLED_OUTSTANDING
        {
            return Err(crate::TeacherError::Checkpoint {
                reason: "the shuffled teacher's checkpoint is for another task space or corrupt"
                    .into(),
            });
        }
        if state.shuffler.permutations.iter().any(|p| {
            let mut sorted = *p;
            sorted.sort_unstable();
            sorted.iter().enumerate().any(|(i, &v)| i != v)
        }) {
            return Err(crate::TeacherError::Checkpoint {
                reason: "a shuffler permutation in the checkpoint is not a permutation".into(),
            });
        }
        let space = self.shuffler.task_space();
        if state
            .outstanding
            .iter()
            .any(|(env, teacher)| !space.contains(env) || !space.contains(teacher))
        {
            return Err(crate::TeacherError::Checkpoint {
                reason: "an outstanding task in the checkpoint is outside the task space".into(),
            });
        }
        // The inner teacher validates its own part and stays unchanged on error.
        self.inner.load_state(state.inner.as_bytes())?;
        self.shuffler = state.shuffler;
        self.outstanding = state.outstanding;
        Ok(())
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

    /// A teacher that records what it is credited with (in a list the test keeps a handle
    /// to), to check the mapping back.
    struct Recorder {
        space: TaskSpace,
        rng: crate::util::TeacherRng,
        credited: std::sync::Arc<std::sync::Mutex<Vec<Vec<f64>>>>,
    }

    impl Teacher for Recorder {
        fn name(&self) -> &'static str {
            "random"
        }
        fn task_space(&self) -> &TaskSpace {
            &self.space
        }
        fn sample_task(&mut self) -> Vec<f64> {
            self.space.sample(&mut self.rng)
        }
        fn update(&mut self, task: &[f64], _outcome: &EpisodeOutcome) -> Result<()> {
            self.space.validate(task)?;
            self.credited.lock().unwrap().push(task.to_vec());
            Ok(())
        }
        fn save_state(&self) -> Result<Vec<u8>> {
            Err(crate::TeacherError::Checkpoint {
                reason: "the test recorder has no checkpoint".into(),
            })
        }
        fn load_state(&mut self, _bytes: &[u8]) -> Result<()> {
            self.save_state().map(|_| ())
        }
    }

    #[test]
    fn shuffled_teacher_hands_out_mapped_tasks_and_is_credited_with_its_own_bits() {
        let space = TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap();
        let credited = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let inner = Recorder {
            space: space.clone(),
            rng: crate::util::decision_rng(3),
            credited: credited.clone(),
        };
        let mut twin_rng = crate::util::decision_rng(3);
        let mut shuffled = Shuffled::new(Box::new(inner), 11);
        let outcome = EpisodeOutcome::new(1.0, false, 10);
        let mut expected = Vec::new();
        let mut inverse_was_inexact = false;
        // Two outstanding at a time, credited in reverse order.
        for _ in 0..500 {
            let (a, b) = (shuffled.sample_task(), shuffled.sample_task());
            let (ta, tb) = (space.sample(&mut twin_rng), space.sample(&mut twin_rng));
            assert_eq!(a, shuffled.shuffler().to_env(&ta).unwrap());
            assert_eq!(b, shuffled.shuffler().to_env(&tb).unwrap());
            inverse_was_inexact |= shuffled.shuffler().to_teacher(&a).unwrap() != ta;
            shuffled.update(&b, &outcome).unwrap();
            shuffled.update(&a, &outcome).unwrap();
            expected.push(tb);
            expected.push(ta);
        }
        assert!(shuffled.outstanding.is_empty());
        assert_eq!(*credited.lock().unwrap(), expected, "credited bit for bit");
        assert!(
            inverse_was_inexact,
            "the inverse mapping rounds somewhere, which is why samples are remembered"
        );
        // Out-of-space tasks are refused and change nothing; a task the teacher never handed
        // out is credited through the inverse mapping.
        assert!(shuffled.update(&[4.0, 0.0], &outcome).is_err());
        assert!(shuffled.update(&[1.0], &outcome).is_err());
        assert_eq!(credited.lock().unwrap().len(), 1000);
        shuffled.update(&[0.5, 0.5], &outcome).unwrap();
        let last = credited.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last, shuffled.shuffler().to_teacher(&[0.5, 0.5]).unwrap());
        assert!(
            shuffled.save_state().is_err(),
            "the inner teacher's error comes through"
        );
    }

    #[test]
    fn shuffled_registry_teacher_restores_to_the_same_future() {
        let space = TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap();
        let build = || {
            let inner = crate::build_teacher(
                "alp_gmm",
                space.clone(),
                5,
                serde_json::json!({"fit_rate": 20}),
            )
            .unwrap();
            Shuffled::new(inner, 9)
        };
        let mut a = build();
        let play = |t: &mut Shuffled, n: usize| -> Vec<Vec<f64>> {
            (0..n)
                .map(|i| {
                    let task = t.sample_task();
                    let ret = task[0] * 10.0 + (i % 7) as f64;
                    t.update(&task, &EpisodeOutcome::new(ret, ret > 20.0, 1))
                        .unwrap();
                    task
                })
                .collect()
        };
        play(&mut a, 150);
        // One sample left outstanding across the checkpoint.
        let pending = a.sample_task();
        let saved = a.save_state().unwrap();
        let mut b = build();
        b.load_state(&saved).unwrap();
        a.update(&pending, &EpisodeOutcome::new(1.0, false, 1))
            .unwrap();
        b.update(&pending, &EpisodeOutcome::new(1.0, false, 1))
            .unwrap();
        assert_eq!(play(&mut a, 100), play(&mut b, 100));
        // An unshuffled teacher's checkpoint is refused, and so is a corrupt one.
        let plain = crate::build_teacher("alp_gmm", space.clone(), 5, serde_json::Value::Null)
            .unwrap()
            .save_state()
            .unwrap();
        assert!(b.load_state(&plain).is_err());
        let corrupt = String::from_utf8(saved.clone()).unwrap().replacen(
            "\"permutations\":[[",
            "\"permutations\":[[7,",
            1,
        );
        assert!(b.load_state(corrupt.as_bytes()).is_err());
    }

    #[test]
    fn shuffled_spdl_gets_its_value_estimates_on_its_own_tasks() {
        let space = TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap();
        let inner = crate::build_teacher("spdl", space, 1, serde_json::Value::Null).unwrap();
        let mut t = Shuffled::new(inner, 2);
        assert_eq!(
            t.value_estimate_discount(),
            Some(crate::spdl::SPDL_DISCOUNT)
        );
        let task = t.sample_task();
        t.update(&task, &EpisodeOutcome::new(1.0, false, 5))
            .unwrap();
        assert_eq!(
            t.outstanding.len(),
            1,
            "kept until its value estimate arrives"
        );
        let estimate = ValueEstimate {
            initial_value: 0.5,
            discounted_return: 0.9,
        };
        t.record_value_estimate(&task, &estimate).unwrap();
        assert!(t.outstanding.is_empty());
        // No pending episode left on that task: the inner teacher refuses a second estimate.
        assert!(t.record_value_estimate(&task, &estimate).is_err());
    }
}

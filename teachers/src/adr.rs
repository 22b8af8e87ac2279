//! ADR, automatic domain randomisation (OpenAI et al. 2019, as re-implemented in TeachMyAgent):
//! a box of tasks that starts at one point and whose bounds move, one side at a time, when the
//! student's mean return on that boundary crosses the expert's reward thresholds.
//!
//! - Sampling: uniform in the current box; with probability `boundary_sampling_p`, one
//!   dimension (uniform) is set to its current lower or upper bound (50/50), unless both of its
//!   bounds already reached the space's limits.
//! - Update: for each dimension whose value equals a current bound exactly, the return joins that
//!   bound's queue. A full queue (`queue_len`) with mean ≥ `max_reward` moves the bound out by
//!   `step_size`; mean ≤ `min_reward` moves it in (never past the other bound); then the queue
//!   is cleared. While the box is a point, every episode feeds every queue.
//!
//! ADR cannot run without reward thresholds: building it at expert level `none` is
//! [`TeacherError::MissingExpertKnowledge`]. Its start point is the mean of the initial
//! distribution at level `high`, a uniform random point at `low`.

use std::collections::VecDeque;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::util::{decision_rng, uniform_in_box, visualisation_rng, TeacherRng};
use crate::{
    checkpoint, validate_update, EpisodeOutcome, ExpertKnowledge, Result, RewardThresholds,
    Teacher, TeacherError,
};

/// Default probability of probing a boundary (TeachMyAgent benchmark; class default 0.5).
pub const DEFAULT_ADR_BOUNDARY_SAMPLING_P: f64 = 0.7;
/// Default step by which a bound moves, raw task units.
pub const DEFAULT_ADR_STEP_SIZE: f64 = 0.1;
/// Default number of boundary returns averaged before a bound may move.
pub const DEFAULT_ADR_QUEUE_LEN: usize = 10;
/// Largest `queue_len` (each task dimension holds two queues of this capacity).
pub const MAX_ADR_QUEUE_LEN: usize = 100_000;

/// Configuration of [`Adr`]. Defaults are TeachMyAgent's benchmark values; the reward
/// thresholds come from `expert_knowledge` (Stump Tracks: 0 and 180).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdrConfig {
    /// Probability of setting one dimension to a current bound. Default: [`DEFAULT_ADR_BOUNDARY_SAMPLING_P`].
    pub boundary_sampling_p: f64,
    /// Bound step, raw units. Default: [`DEFAULT_ADR_STEP_SIZE`].
    pub step_size: f64,
    /// Returns averaged per bound, `1..=MAX_ADR_QUEUE_LEN`. Default: [`DEFAULT_ADR_QUEUE_LEN`].
    pub queue_len: usize,
    /// Prior knowledge: `low` or `high` is required (reward thresholds).
    pub expert_knowledge: ExpertKnowledge,
}

impl Default for AdrConfig {
    fn default() -> Self {
        Self {
            boundary_sampling_p: DEFAULT_ADR_BOUNDARY_SAMPLING_P,
            step_size: DEFAULT_ADR_STEP_SIZE,
            queue_len: DEFAULT_ADR_QUEUE_LEN,
            expert_knowledge: ExpertKnowledge::none(),
        }
    }
}

impl AdrConfig {
    fn validate(&self, space: &TaskSpace) -> Result<RewardThresholds> {
        if !(0.0..=1.0).contains(&self.boundary_sampling_p) {
            return Err(TeacherError::config(
                "adr.boundary_sampling_p",
                format!("must be in [0, 1], got {}", self.boundary_sampling_p),
            ));
        }
        if !(self.step_size.is_finite() && self.step_size > 0.0) {
            return Err(TeacherError::config(
                "adr.step_size",
                format!("must be > 0, got {}", self.step_size),
            ));
        }
        if !(1..=MAX_ADR_QUEUE_LEN).contains(&self.queue_len) {
            return Err(TeacherError::config(
                "adr.queue_len",
                format!("must be in 1..={MAX_ADR_QUEUE_LEN}, got {}", self.queue_len),
            ));
        }
        self.expert_knowledge.validate(space)?;
        self.expert_knowledge
            .reward_thresholds()
            .ok_or(TeacherError::MissingExpertKnowledge {
                teacher: Adr::NAME,
                what: "reward thresholds (min_reward, max_reward)",
            })
    }
}

/// The ADR teacher. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Adr {
    config: AdrConfig,
    space: TaskSpace,
    thresholds: RewardThresholds,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    current_low: Vec<f64>,
    current_high: Vec<f64>,
    low_queues: Vec<VecDeque<f64>>,
    high_queues: Vec<VecDeque<f64>>,
    episodes: u64,
}

impl Adr {
    /// Registry name.
    pub const NAME: &'static str = "adr";

    /// An ADR teacher over `space`, seeded with `seed`.
    ///
    /// # Errors
    /// [`TeacherError::MissingExpertKnowledge`] at expert level `none`;
    /// [`TeacherError::Core`] (`InvalidConfig`) for invalid values.
    pub fn new(space: TaskSpace, seed: u64, config: AdrConfig) -> Result<Self> {
        let thresholds = config.validate(&space)?;
        let mut rng = decision_rng(seed);
        let start = match config.expert_knowledge.initial_distribution() {
            Some(g) => space.clip(&g.mean),
            None => space.sample(&mut rng),
        };
        let d = space.dim();
        Ok(Self {
            thresholds,
            rng,
            visualisation_rng: visualisation_rng(seed),
            current_low: start.clone(),
            current_high: start,
            low_queues: vec![VecDeque::with_capacity(config.queue_len); d],
            high_queues: vec![VecDeque::with_capacity(config.queue_len); d],
            config,
            space,
            episodes: 0,
        })
    }

    /// Current box `(low, high)`.
    pub fn current_bounds(&self) -> (&[f64], &[f64]) {
        (&self.current_low, &self.current_high)
    }

    fn queue_mean(queue: &VecDeque<f64>) -> f64 {
        queue.iter().sum::<f64>() / queue.len() as f64
    }
}

impl Teacher for Adr {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        let mut task = uniform_in_box(&self.current_low, &self.current_high, &mut self.rng);
        if self.rng.random::<f64>() < self.config.boundary_sampling_p {
            let i = self.rng.random_range(0..task.len());
            let dim = &self.space.dims()[i];
            let both_at_limits = self.current_low[i] == dim.low && self.current_high[i] == dim.high;
            if !both_at_limits {
                task[i] = if self.rng.random::<f64>() < 0.5 {
                    self.current_low[i]
                } else {
                    self.current_high[i]
                };
            }
        }
        task
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        let r = outcome.episode_return;
        let step = self.config.step_size;
        let RewardThresholds {
            min_reward,
            max_reward,
        } = self.thresholds;
        for (i, &value) in task.iter().enumerate() {
            let (limit_low, limit_high) = (self.space.dims()[i].low, self.space.dims()[i].high);
            // Exact equality, as the reference: only boundary-probing episodes count.
            if value == self.current_low[i] {
                self.low_queues[i].push_back(r);
                if self.low_queues[i].len() >= self.config.queue_len {
                    let mean = Self::queue_mean(&self.low_queues[i]);
                    if mean >= max_reward {
                        self.current_low[i] = (self.current_low[i] - step).max(limit_low);
                    } else if mean <= min_reward {
                        self.current_low[i] =
                            (self.current_low[i] + step).min(self.current_high[i]);
                    }
                    self.low_queues[i].clear();
                }
            }
            if value == self.current_high[i] {
                self.high_queues[i].push_back(r);
                if self.high_queues[i].len() >= self.config.queue_len {
                    let mean = Self::queue_mean(&self.high_queues[i]);
                    if mean >= max_reward {
                        self.current_high[i] = (self.current_high[i] + step).min(limit_high);
                    } else if mean <= min_reward {
                        self.current_high[i] =
                            (self.current_high[i] - step).max(self.current_low[i]);
                    }
                    self.high_queues[i].clear();
                }
            }
        }
        self.episodes = self.episodes.saturating_add(1);
        Ok(())
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        Some(
            (0..n)
                .map(|_| {
                    uniform_in_box(
                        &self.current_low,
                        &self.current_high,
                        &mut self.visualisation_rng,
                    )
                })
                .collect(),
        )
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, self)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let restored: Self = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &restored.space)?;
        restored.config.validate(&restored.space)?;
        let d = restored.space.dim();
        checkpoint::ensure(
            restored.current_low.len() == d
                && restored.current_high.len() == d
                && restored.low_queues.len() == d
                && restored.high_queues.len() == d
                && restored
                    .current_low
                    .iter()
                    .zip(&restored.current_high)
                    .all(|(l, h)| l <= h)
                && restored.space.contains(&restored.current_low)
                && restored.space.contains(&restored.current_high),
            || "adr bounds or queues are inconsistent".into(),
        )?;
        *self = restored;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagonalGaussian;

    fn space() -> TaskSpace {
        TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0]).unwrap()
    }

    fn config(queue_len: usize) -> AdrConfig {
        let g = DiagonalGaussian {
            mean: vec![0.5, 0.5],
            std: vec![0.1, 0.1],
        };
        AdrConfig {
            queue_len,
            expert_knowledge: ExpertKnowledge::high(
                0.9,
                RewardThresholds {
                    min_reward: 0.0,
                    max_reward: 1.0,
                },
                g,
            ),
            ..Default::default()
        }
    }

    #[test]
    fn needs_expert_knowledge() {
        let err = Adr::new(space(), 0, AdrConfig::default()).unwrap_err();
        assert!(
            matches!(
                err,
                TeacherError::MissingExpertKnowledge { teacher: "adr", .. }
            ),
            "{err}"
        );
        // Low level: starts at a random point inside the space.
        let thr = RewardThresholds {
            min_reward: 0.0,
            max_reward: 1.0,
        };
        let cfg = AdrConfig {
            expert_knowledge: ExpertKnowledge::low(0.9, thr),
            ..Default::default()
        };
        let t = Adr::new(space(), 0, cfg).unwrap();
        let (l, h) = t.current_bounds();
        assert_eq!(l, h);
        assert!(space().contains(l));
    }

    #[test]
    fn bounds_expand_and_shrink_by_step() {
        let mut t = Adr::new(space(), 1, config(2)).unwrap();
        assert_eq!(t.current_bounds().0, &[0.5, 0.5]);
        let good = EpisodeOutcome::new(2.0, true, 1);
        // Box is a point: the task hits every bound, two episodes fill every queue.
        t.update(&[0.5, 0.5], &good).unwrap();
        t.update(&[0.5, 0.5], &good).unwrap();
        assert_eq!(t.current_bounds(), (&[0.4, 0.4][..], &[0.6, 0.6][..]));
        // Interior tasks feed no queue.
        t.update(&[0.45, 0.55], &good).unwrap();
        assert_eq!(t.current_bounds(), (&[0.4, 0.4][..], &[0.6, 0.6][..]));
        // Two failures on dim 0's upper bound shrink it.
        let bad = EpisodeOutcome::new(-1.0, false, 1);
        t.update(&[0.6, 0.5], &bad).unwrap();
        t.update(&[0.6, 0.45], &bad).unwrap();
        let (l, h) = t.current_bounds();
        assert_eq!(l, &[0.4, 0.4]);
        assert!((h[0] - 0.5).abs() < 1e-12 && h[1] == 0.6);
        // A mean between the thresholds leaves the bound where it is (queue cleared).
        t.update(&[0.4, 0.5], &EpisodeOutcome::new(0.5, false, 1))
            .unwrap();
        t.update(&[0.4, 0.5], &EpisodeOutcome::new(0.5, false, 1))
            .unwrap();
        assert_eq!(t.current_bounds().0, &[0.4, 0.4]);
        // Expansion is capped at the space's limits.
        for _ in 0..20 {
            t.update(&[t.current_bounds().0[0], 0.5], &good).unwrap();
            t.update(&[t.current_bounds().0[0], 0.5], &good).unwrap();
        }
        assert_eq!(t.current_bounds().0[0], 0.0);
    }

    #[test]
    fn boundary_sampling_hits_bounds() {
        let mut t = Adr::new(space(), 2, config(1)).unwrap();
        let good = EpisodeOutcome::new(2.0, true, 1);
        t.update(&[0.5, 0.5], &good).unwrap();
        let (l, h) = (t.current_bounds().0.to_vec(), t.current_bounds().1.to_vec());
        let mut on_bound = 0;
        for _ in 0..2000 {
            let x = t.sample_task();
            assert!(x
                .iter()
                .zip(l.iter().zip(&h))
                .all(|(v, (a, b))| v >= a && v <= b));
            if x.iter()
                .zip(l.iter().zip(&h))
                .any(|(v, (a, b))| v == a || v == b)
            {
                on_bound += 1;
            }
        }
        // p = 0.7 of boundary probing.
        assert!((on_bound as f64 / 2000.0 - 0.7).abs() < 0.05, "{on_bound}");
    }
}

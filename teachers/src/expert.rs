//! Expert-knowledge levels (TeachMyAgent's `--allow_expert_knowledge`): how much prior
//! knowledge about the student and the task space a teacher is given.
//!
//! | level | what teachers receive |
//! |---|---|
//! | `none` | nothing (ADR and GoalGAN refuse to run) |
//! | `low` | a success threshold (GoalGAN's success) and ADR's reward thresholds |
//! | `high` | `low` + an initial Gaussian over easy tasks (ALP-GMM / Covar-GMM bootstrap, ADR start, GoalGAN pretraining) |

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;
use teachgym_core::{EnvPrior, TaskSpace};

use crate::{Result, TeacherError};

/// Standard deviation of the `high` level's initial distribution, as a fraction of each task
/// dimension's range (TeachMyAgent: 10 %).
pub const HIGH_EK_STD_FRACTION: f64 = 0.1;

/// How much prior knowledge a teacher gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpertLevel {
    /// No prior knowledge.
    #[default]
    None,
    /// Success threshold and reward thresholds.
    Low,
    /// `Low` plus an initial distribution over easy tasks.
    High,
}

impl ExpertLevel {
    /// The level names, lowest first.
    pub const NAMES: [&'static str; 3] = ["none", "low", "high"];

    /// `none`, `low` or `high`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl std::fmt::Display for ExpertLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ExpertLevel {
    type Err = TeacherError;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "none" => Ok(ExpertLevel::None),
            "low" => Ok(ExpertLevel::Low),
            "high" => Ok(ExpertLevel::High),
            _ => Err(TeacherError::config(
                "expert_knowledge",
                format!("unknown level `{name}`; known: {}", Self::NAMES.join(", ")),
            )),
        }
    }
}

/// ADR's reward thresholds, in raw return units: a boundary whose recent mean return is at
/// least `max_reward` moves outwards, at most `min_reward` moves inwards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardThresholds {
    /// Shrink threshold (TeachMyAgent Stump Tracks: 0).
    pub min_reward: f64,
    /// Expand threshold (TeachMyAgent Stump Tracks: 180).
    pub max_reward: f64,
}

impl RewardThresholds {
    /// TeachMyAgent's ADR thresholds on Stump Tracks, 0 and 180, as fractions of the way from
    /// an episode that makes no progress (return 0) to a mastered one (return 230): ADR
    /// shrinks a boundary whose episodes make no progress on average and widens it once they
    /// reach 180/230 of mastery.
    pub const EXPAND_FRACTION: f64 = 180.0 / 230.0;

    /// The thresholds of an env whose episodes return `no_progress` when nothing is achieved
    /// and at least `success` when the task is mastered: `min_reward = no_progress`,
    /// `max_reward = no_progress + EXPAND_FRACTION · (success − no_progress)` (Stump Tracks:
    /// 0 and 230 give TeachMyAgent's 0 and 180).
    pub fn between(no_progress: f64, success: f64) -> Self {
        Self {
            min_reward: no_progress,
            max_reward: no_progress + Self::EXPAND_FRACTION * (success - no_progress),
        }
    }
}

/// A Gaussian with independent dimensions over the task space (raw units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagonalGaussian {
    /// Mean, one value per task dimension.
    pub mean: Vec<f64>,
    /// Standard deviation, one non-negative value per task dimension.
    pub std: Vec<f64>,
}

impl DiagonalGaussian {
    /// A Gaussian at `mean` whose std is `std_fraction` of each dimension's range
    /// (TeachMyAgent's high-EK Stump Tracks prior uses 10 %).
    ///
    /// # Errors
    /// As [`DiagonalGaussian::validate`].
    pub fn around(space: &TaskSpace, mean: Vec<f64>, std_fraction: f64) -> Result<Self> {
        let g = Self {
            std: space
                .dims()
                .iter()
                .map(|d| d.range() * std_fraction)
                .collect(),
            mean,
        };
        g.validate(space)?;
        Ok(g)
    }

    /// Checks lengths against `space` and that values are finite (std non-negative).
    ///
    /// # Errors
    /// [`TeacherError::Core`] with `InvalidConfig` naming the bad field.
    pub fn validate(&self, space: &TaskSpace) -> Result<()> {
        let field = "expert_knowledge.initial_distribution";
        if self.mean.len() != space.dim() || self.std.len() != space.dim() {
            return Err(TeacherError::config(
                field,
                format!(
                    "mean has {} and std has {} values but the task space has {} dimensions",
                    self.mean.len(),
                    self.std.len(),
                    space.dim()
                ),
            ));
        }
        if self.mean.iter().any(|v| !v.is_finite())
            || self.std.iter().any(|s| !(s.is_finite() && *s >= 0.0))
        {
            return Err(TeacherError::config(
                field,
                "mean must be finite and std finite and >= 0",
            ));
        }
        Ok(())
    }

    /// A draw, clipped to `space` (as the reference clips its bootstrap samples).
    pub fn sample<R: Rng + ?Sized>(&self, space: &TaskSpace, rng: &mut R) -> Vec<f64> {
        let raw: Vec<f64> = self
            .mean
            .iter()
            .zip(&self.std)
            .map(|(&m, &s)| m + s * standard_normal(rng))
            .collect();
        space.clip(&raw)
    }
}

/// The prior knowledge handed to a teacher through its config.
///
/// The level decides what a teacher may use: [`ExpertKnowledge::reward_thresholds`] answers
/// only from `low` up, [`ExpertKnowledge::initial_distribution`] only at `high`, whatever
/// fields are filled in. [`ExpertKnowledge::validate`] requires the fields the level promises.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpertKnowledge {
    /// The level. Default: `none`.
    pub level: ExpertLevel,
    /// Return above which an episode counts as a success (Stump Tracks: 230). Needed from `low`.
    pub success_threshold: Option<f64>,
    /// ADR's thresholds. Needed from `low`.
    pub reward_thresholds: Option<RewardThresholds>,
    /// Initial distribution over easy tasks. Needed at `high`.
    pub initial_distribution: Option<DiagonalGaussian>,
}

impl ExpertKnowledge {
    /// No prior knowledge.
    pub fn none() -> Self {
        Self::default()
    }

    /// `low` level: success threshold and reward thresholds.
    pub fn low(success_threshold: f64, reward_thresholds: RewardThresholds) -> Self {
        Self {
            level: ExpertLevel::Low,
            success_threshold: Some(success_threshold),
            reward_thresholds: Some(reward_thresholds),
            initial_distribution: None,
        }
    }

    /// `high` level: `low` plus an initial distribution over easy tasks.
    pub fn high(
        success_threshold: f64,
        reward_thresholds: RewardThresholds,
        initial: DiagonalGaussian,
    ) -> Self {
        Self {
            level: ExpertLevel::High,
            success_threshold: Some(success_threshold),
            reward_thresholds: Some(reward_thresholds),
            initial_distribution: Some(initial),
        }
    }

    /// The knowledge of `level` about an env described by `prior`, as TeachMyAgent hands it
    /// out: from `low`, the success threshold `prior.success_return` and the reward
    /// thresholds [`RewardThresholds::between`] its no-progress and success returns; at
    /// `high`, also a Gaussian at `prior.easy_task` (clipped into `space`) with a standard
    /// deviation of [`HIGH_EK_STD_FRACTION`] of each dimension's range.
    ///
    /// # Errors
    /// [`TeacherError::Core`] (`InvalidConfig`) when `prior` does not fit `space` or is not
    /// finite.
    pub fn at_level(level: ExpertLevel, prior: &EnvPrior, space: &TaskSpace) -> Result<Self> {
        let mut knowledge = Self {
            level,
            ..Self::default()
        };
        knowledge.fill_from(prior, space)?;
        Ok(knowledge)
    }

    /// Fills the fields its level uses and that are not given yet from `prior` (see
    /// [`ExpertKnowledge::at_level`]); fields given explicitly are kept.
    ///
    /// # Errors
    /// As [`ExpertKnowledge::at_level`].
    pub fn fill_from(&mut self, prior: &EnvPrior, space: &TaskSpace) -> Result<()> {
        if self.level >= ExpertLevel::Low {
            self.success_threshold.get_or_insert(prior.success_return);
            self.reward_thresholds
                .get_or_insert(RewardThresholds::between(
                    prior.no_progress_return,
                    prior.success_return,
                ));
        }
        if self.level >= ExpertLevel::High && self.initial_distribution.is_none() {
            if prior.easy_task.len() != space.dim() {
                return Err(TeacherError::config(
                    "expert_knowledge.easy_task",
                    format!(
                        "has {} values but the task space has {} dimensions",
                        prior.easy_task.len(),
                        space.dim()
                    ),
                ));
            }
            let centre = space.clip(&prior.easy_task);
            self.initial_distribution = Some(DiagonalGaussian::around(
                space,
                centre,
                HIGH_EK_STD_FRACTION,
            )?);
        }
        self.validate(space)
    }

    /// The success threshold, if the level grants it.
    pub fn success_threshold(&self) -> Option<f64> {
        self.success_threshold
            .filter(|_| self.level >= ExpertLevel::Low)
    }

    /// The reward thresholds, if the level grants them.
    pub fn reward_thresholds(&self) -> Option<RewardThresholds> {
        self.reward_thresholds
            .filter(|_| self.level >= ExpertLevel::Low)
    }

    /// The initial distribution, if the level grants it.
    pub fn initial_distribution(&self) -> Option<&DiagonalGaussian> {
        self.initial_distribution
            .as_ref()
            .filter(|_| self.level >= ExpertLevel::High)
    }

    /// Checks that the fields the level promises are present and fit `space`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] with `InvalidConfig` naming the missing or bad field.
    pub fn validate(&self, space: &TaskSpace) -> Result<()> {
        if self.level >= ExpertLevel::Low {
            match self.success_threshold {
                Some(t) if t.is_finite() => {}
                _ => {
                    return Err(TeacherError::config(
                        "expert_knowledge.success_threshold",
                        "level `low` or `high` needs a finite success threshold",
                    ))
                }
            }
            match self.reward_thresholds {
                Some(r)
                    if r.min_reward.is_finite()
                        && r.max_reward.is_finite()
                        && r.min_reward <= r.max_reward => {}
                _ => return Err(TeacherError::config(
                    "expert_knowledge.reward_thresholds",
                    "level `low` or `high` needs finite thresholds with min_reward <= max_reward",
                )),
            }
        }
        if self.level >= ExpertLevel::High {
            match &self.initial_distribution {
                Some(g) => g.validate(space)?,
                None => {
                    return Err(TeacherError::config(
                        "expert_knowledge.initial_distribution",
                        "level `high` needs an initial distribution",
                    ))
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> TaskSpace {
        TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap()
    }

    #[test]
    fn levels_take_their_values_from_the_envs_prior() {
        let stumps = EnvPrior {
            success_return: 230.0,
            no_progress_return: 0.0,
            easy_task: vec![0.0, 6.0],
        };
        // TeachMyAgent's Stump Tracks thresholds come out of the general rule.
        let thresholds = RewardThresholds::between(0.0, 230.0);
        assert_eq!((thresholds.min_reward, thresholds.max_reward), (0.0, 180.0));
        let none = ExpertKnowledge::at_level(ExpertLevel::None, &stumps, &space()).unwrap();
        assert_eq!(none, ExpertKnowledge::none());
        let low = ExpertKnowledge::at_level(ExpertLevel::Low, &stumps, &space()).unwrap();
        assert_eq!(low.success_threshold(), Some(230.0));
        assert_eq!(low.reward_thresholds(), Some(thresholds));
        assert!(low.initial_distribution.is_none());
        let high = ExpertKnowledge::at_level(ExpertLevel::High, &stumps, &space()).unwrap();
        let g = high.initial_distribution().unwrap();
        assert_eq!(g.mean, vec![0.0, 6.0]);
        assert_eq!(g.std, vec![0.30000000000000004, 0.6000000000000001]);
        // Given fields are kept; an easy task outside the bounds is clipped into them.
        let mut given = ExpertKnowledge {
            level: ExpertLevel::High,
            success_threshold: Some(100.0),
            ..ExpertKnowledge::default()
        };
        let outside = EnvPrior {
            easy_task: vec![-1.0, 9.0],
            ..stumps.clone()
        };
        given.fill_from(&outside, &space()).unwrap();
        assert_eq!(given.success_threshold(), Some(100.0));
        assert_eq!(given.initial_distribution().unwrap().mean, vec![0.0, 6.0]);
        let short = EnvPrior {
            easy_task: vec![0.0],
            ..stumps
        };
        assert!(ExpertKnowledge::at_level(ExpertLevel::High, &short, &space()).is_err());
        assert_eq!("low".parse::<ExpertLevel>().unwrap(), ExpertLevel::Low);
        assert!("medium".parse::<ExpertLevel>().is_err());
    }

    #[test]
    fn levels_gate_what_is_visible() {
        let thr = RewardThresholds {
            min_reward: 0.0,
            max_reward: 180.0,
        };
        let g = DiagonalGaussian::around(&space(), vec![0.0, 6.0], 0.1).unwrap();
        assert_eq!(g.std, vec![0.30000000000000004, 0.6000000000000001]);
        let mut ek = ExpertKnowledge::high(230.0, thr, g.clone());
        assert!(ek.validate(&space()).is_ok());
        assert!(ek.initial_distribution().is_some());
        ek.level = ExpertLevel::Low;
        assert!(ek.initial_distribution().is_none());
        assert_eq!(ek.reward_thresholds(), Some(thr));
        ek.level = ExpertLevel::None;
        assert!(ek.reward_thresholds().is_none() && ek.success_threshold().is_none());
        // A level without its fields is a config error.
        let bad = ExpertKnowledge {
            level: ExpertLevel::High,
            ..ExpertKnowledge::low(230.0, thr)
        };
        assert!(matches!(
            bad.validate(&space()),
            Err(TeacherError::Core(
                teachgym_core::Error::InvalidConfig { .. }
            ))
        ));
        let wrong_dim = DiagonalGaussian {
            mean: vec![0.0],
            std: vec![1.0],
        };
        assert!(ExpertKnowledge::high(230.0, thr, wrong_dim)
            .validate(&space())
            .is_err());
        let json: ExpertKnowledge = serde_json::from_str(r#"{"level":"low","success_threshold":230,"reward_thresholds":{"min_reward":0,"max_reward":180}}"#).unwrap();
        assert_eq!(json, ExpertKnowledge::low(230.0, thr));
    }

    #[test]
    fn samples_are_clipped() {
        let g = DiagonalGaussian {
            mean: vec![0.0, 6.0],
            std: vec![1.0, 1.0],
        };
        let mut rng = crate::util::decision_rng(0);
        for _ in 0..100 {
            assert!(space().contains(&g.sample(&space(), &mut rng)));
        }
    }
}

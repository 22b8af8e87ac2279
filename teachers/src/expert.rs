//! Expert-knowledge levels (TeachMyAgent's `--allow_expert_knowledge`): how much prior
//! knowledge about the student and the task space a teacher is given.
//!
//! | level | what teachers receive |
//! |---|---|
//! | `none` | nothing (ADR refuses to run) |
//! | `low` | a success threshold and ADR's reward thresholds |
//! | `high` | `low` + an initial Gaussian over easy tasks (ALP-GMM / Covar-GMM bootstrap, ADR start) |

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;
use teachgym_core::TaskSpace;

use crate::{Result, TeacherError};

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

//! QWeb's scheduled curriculum (Gur et al., "Learning to Navigate the Web", ICLR 2019) as a
//! teacher: chosen task dimensions move from their easy end to their hard end as training
//! progresses, the others are drawn uniformly, so the paper's hand-made schedule can be compared
//! with learning-progress teachers (ALP-GMM) on the same tasks.
//!
//! QWeb trains with two curricula, each driven by an oracle that knows the instruction:
//! - **warm start**: the episode starts with a random subset of the fields already filled in by
//!   the oracle, a subset that shrinks as training proceeds (the start moves away from the
//!   goal);
//! - **goal simulation**: the agent is given a sub-instruction over a subset of the fields (the
//!   others need not be filled), a subset that grows as training proceeds.
//!
//! On the web-form env both are task dimensions oriented like every other axis (larger =
//! harder): `cold_start` (1 = no field pre-filled) and `goal_coverage` (1 = the instruction names
//! every field). The default [`QwebScheduleConfig::dimensions`] are these two, so
//! `--teacher qweb_schedule` on a web-form space is QWeb's curriculum; any other dimensions of any
//! space can be scheduled instead, each going from its lower bound (assumed easy) to its upper
//! bound.
//!
//! # Schedule
//! - Progress `n` counts the finished episodes ([`ProgressUnit::Episodes`], the default) or the
//!   successful ones ([`ProgressUnit::Successes`]). With `min_success_rate > 0`, an episode only
//!   counts while the success rate of the last `success_window` episodes (including it) is at
//!   least `min_success_rate` and the window is full: the schedule then waits for the student
//!   instead of running ahead of it.
//! - Level `λ = min(1, n / horizon)`, rounded down to a multiple of `1 / stages` when
//!   `stages > 0` (QWeb's subset sizes are whole numbers of fields; the web-form env already
//!   rounds stochastically, so the default `stages = 0` keeps `λ` continuous).
//! - Each scheduled dimension of bounds `[low, high]` is drawn uniformly from
//!   `low + [max(0, λ − spread), λ] · (high − low)`: with `spread = 1` (the default) anywhere
//!   between the easy end and the current level, as QWeb's random subsets keep easier starts in
//!   the mix; with `spread = 0` exactly at the level. At `λ = 1` and `spread = 1` the teacher is
//!   the Random teacher.
//! - The other dimensions are uniform in their bounds.
//!
//! QWeb's papers describe the direction of the schedule, not its pace (linear in steps,
//! success-gated or staged is not stated), hence the three knobs; `horizon` is in episodes, not
//! env steps, because both curricula act on whole episodes.
//!
//! Every draw takes one uniform number per dimension from the decision stream whatever the
//! level, so the same seed and outcomes give the same tasks bit for bit, and a checkpoint carries
//! the progress, the success window and the random streams for an exact resume.

use std::collections::VecDeque;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::util::{decision_rng, visualisation_rng, TeacherRng};
use crate::{checkpoint, validate_update, EpisodeOutcome, Result, Teacher, TeacherError};

/// Default scheduled dimensions: the web-form env's goal simulation and warm start.
pub const DEFAULT_QWEB_SCHEDULE_DIMENSIONS: [&str; 2] = ["goal_coverage", "cold_start"];
/// Default progress (episodes) at which the scheduled dimensions reach their upper bound: about
/// half of a 100k-step web-form run of 8 envs (episodes of 8–12 steps early on).
pub const DEFAULT_QWEB_SCHEDULE_HORIZON: u64 = 5_000;
/// Default width of the window of levels a scheduled dimension is drawn from (fraction of its
/// range): the whole way from the easy end to the current level.
pub const DEFAULT_QWEB_SCHEDULE_SPREAD: f64 = 1.0;
/// Default success rate needed for an episode to count as progress (0: no gate).
pub const DEFAULT_QWEB_SCHEDULE_MIN_SUCCESS_RATE: f64 = 0.0;
/// Default number of recent episodes whose success rate opens the gate.
pub const DEFAULT_QWEB_SCHEDULE_SUCCESS_WINDOW: usize = 100;
/// Largest `success_window` (the teacher keeps that many flags).
pub const MAX_QWEB_SCHEDULE_SUCCESS_WINDOW: usize = 100_000;
/// Largest `stages`: finer steps than a millionth of the range are continuous anyway.
pub const MAX_QWEB_SCHEDULE_STAGES: u32 = 1_000_000;

/// What counts as training progress for [`QwebSchedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProgressUnit {
    /// Every finished episode.
    #[default]
    Episodes,
    /// Every successful episode.
    Successes,
}

/// Configuration of [`QwebSchedule`]; see the [module docs](self) for the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QwebScheduleConfig {
    /// Names of the task dimensions moved from their lower bound (easy) to their upper bound
    /// (hard); at least one, each once, each a dimension of the task space. Default:
    /// [`DEFAULT_QWEB_SCHEDULE_DIMENSIONS`].
    pub dimensions: Vec<String>,
    /// What counts as progress. Default `episodes`.
    pub progress: ProgressUnit,
    /// Progress (episodes or successes) at which the level reaches 1, ≥ 1. Default:
    /// [`DEFAULT_QWEB_SCHEDULE_HORIZON`].
    pub horizon: u64,
    /// Number of discrete levels (`λ` rounded down to a multiple of `1 / stages`), at most
    /// [`MAX_QWEB_SCHEDULE_STAGES`]; 0 for a continuous level. Default 0.
    pub stages: u32,
    /// Window of levels below `λ` a scheduled dimension is drawn from, as a fraction of its
    /// range, in [0, 1]. Default: [`DEFAULT_QWEB_SCHEDULE_SPREAD`].
    pub spread: f64,
    /// Success rate over the last `success_window` episodes needed for an episode to count as
    /// progress, in [0, 1]; 0 turns the gate off. Default:
    /// [`DEFAULT_QWEB_SCHEDULE_MIN_SUCCESS_RATE`].
    pub min_success_rate: f64,
    /// Episodes in the gate's success rate, `1..=MAX_QWEB_SCHEDULE_SUCCESS_WINDOW`. Default:
    /// [`DEFAULT_QWEB_SCHEDULE_SUCCESS_WINDOW`].
    pub success_window: usize,
}

impl Default for QwebScheduleConfig {
    fn default() -> Self {
        Self {
            dimensions: DEFAULT_QWEB_SCHEDULE_DIMENSIONS
                .iter()
                .map(|d| d.to_string())
                .collect(),
            progress: ProgressUnit::Episodes,
            horizon: DEFAULT_QWEB_SCHEDULE_HORIZON,
            stages: 0,
            spread: DEFAULT_QWEB_SCHEDULE_SPREAD,
            min_success_rate: DEFAULT_QWEB_SCHEDULE_MIN_SUCCESS_RATE,
            success_window: DEFAULT_QWEB_SCHEDULE_SUCCESS_WINDOW,
        }
    }
}

impl QwebScheduleConfig {
    /// Checks every field; returns which dimensions of `space` are scheduled.
    fn validate(&self, space: &TaskSpace) -> Result<Vec<bool>> {
        let field = |name: &str| format!("{}.{name}", QwebSchedule::NAME);
        if self.dimensions.is_empty() {
            return Err(TeacherError::config(
                field("dimensions"),
                format!(
                    "must name at least one task dimension (known: {})",
                    space.names().join(", ")
                ),
            ));
        }
        let mut scheduled = vec![false; space.dim()];
        for name in &self.dimensions {
            let i = space.index_of(name).map_err(|_| {
                TeacherError::config(
                    field("dimensions"),
                    format!(
                        "`{name}` is not a dimension of the task space (known: {})",
                        space.names().join(", ")
                    ),
                )
            })?;
            if scheduled[i] {
                return Err(TeacherError::config(
                    field("dimensions"),
                    format!("`{name}` is named twice"),
                ));
            }
            scheduled[i] = true;
        }
        if self.horizon == 0 {
            return Err(TeacherError::config(
                field("horizon"),
                "must be >= 1, got 0",
            ));
        }
        if self.stages > MAX_QWEB_SCHEDULE_STAGES {
            return Err(TeacherError::config(
                field("stages"),
                format!(
                    "must be in 0..={MAX_QWEB_SCHEDULE_STAGES}, got {}",
                    self.stages
                ),
            ));
        }
        for (name, value) in [
            ("spread", self.spread),
            ("min_success_rate", self.min_success_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(TeacherError::config(
                    field(name),
                    format!("must be in [0, 1], got {value}"),
                ));
            }
        }
        if !(1..=MAX_QWEB_SCHEDULE_SUCCESS_WINDOW).contains(&self.success_window) {
            return Err(TeacherError::config(
                field("success_window"),
                format!(
                    "must be in 1..={MAX_QWEB_SCHEDULE_SUCCESS_WINDOW}, got {}",
                    self.success_window
                ),
            ));
        }
        Ok(scheduled)
    }
}

/// QWeb's scheduled curriculum. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QwebSchedule {
    config: QwebScheduleConfig,
    space: TaskSpace,
    /// Per dimension of the space: whether the schedule moves it (from `config.dimensions`).
    scheduled: Vec<bool>,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    /// Progress counted so far (episodes or successes that passed the gate).
    progress: u64,
    /// Success flags of the last `success_window` episodes, oldest first.
    recent: VecDeque<bool>,
    /// Successes in `recent`.
    recent_successes: usize,
    episodes: u64,
}

impl QwebSchedule {
    /// Registry name.
    pub const NAME: &'static str = "qweb_schedule";

    /// A scheduled curriculum over `space`, seeded with `seed`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] (`InvalidConfig`, naming the field) for a dimension the space does
    /// not have or names twice, an empty list, `horizon = 0`, `stages` above its cap, `spread`
    /// or `min_success_rate` outside [0, 1], or `success_window` outside its range.
    pub fn new(space: TaskSpace, seed: u64, config: QwebScheduleConfig) -> Result<Self> {
        let scheduled = config.validate(&space)?;
        Ok(Self {
            recent: VecDeque::with_capacity(config.success_window),
            config,
            space,
            scheduled,
            rng: decision_rng(seed),
            visualisation_rng: visualisation_rng(seed),
            progress: 0,
            recent_successes: 0,
            episodes: 0,
        })
    }

    /// Progress counted so far (episodes or successes, those that passed the gate).
    pub fn progress(&self) -> u64 {
        self.progress
    }

    /// Episodes seen.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    /// Current level `λ` in [0, 1]: 0 = every scheduled dimension at its easy end.
    pub fn level(&self) -> f64 {
        let linear = (self.progress as f64 / self.config.horizon as f64).min(1.0);
        match self.config.stages {
            0 => linear,
            s => (linear * f64::from(s)).floor() / f64::from(s),
        }
    }

    /// Whether the success gate lets the latest episode count.
    fn gate_open(&self) -> bool {
        self.config.min_success_rate <= 0.0
            || (self.recent.len() == self.config.success_window
                && self.recent_successes as f64
                    >= self.config.min_success_rate * self.config.success_window as f64)
    }

    fn draw(&self, rng: &mut TeacherRng) -> Vec<f64> {
        let level = self.level();
        let from = (level - self.config.spread).max(0.0);
        self.space
            .dims()
            .iter()
            .zip(&self.scheduled)
            .map(|(dim, &scheduled)| {
                let u = rng.random::<f64>();
                let fraction = if scheduled {
                    from + u * (level - from)
                } else {
                    u
                };
                (dim.low + fraction * (dim.high - dim.low)).clamp(dim.low, dim.high)
            })
            .collect()
    }
}

impl Teacher for QwebSchedule {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        let mut rng = self.rng.clone();
        let task = self.draw(&mut rng);
        self.rng = rng;
        task
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        self.episodes = self.episodes.saturating_add(1);
        self.recent.push_back(outcome.success);
        self.recent_successes += usize::from(outcome.success);
        if self.recent.len() > self.config.success_window {
            let oldest = self.recent.pop_front().expect("the window is not empty");
            self.recent_successes -= usize::from(oldest);
        }
        let counts = match self.config.progress {
            ProgressUnit::Episodes => true,
            ProgressUnit::Successes => outcome.success,
        };
        if counts && self.gate_open() {
            self.progress = self.progress.saturating_add(1);
        }
        Ok(())
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        let mut rng = self.visualisation_rng.clone();
        let samples = (0..n).map(|_| self.draw(&mut rng)).collect();
        self.visualisation_rng = rng;
        Some(samples)
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, self)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let restored: Self = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &restored.space)?;
        let scheduled = restored.config.validate(&restored.space)?;
        checkpoint::ensure(
            scheduled == restored.scheduled
                && restored.recent.len() <= restored.config.success_window
                && restored.recent_successes == restored.recent.iter().filter(|&&s| s).count(),
            || "qweb_schedule dimensions or success window are inconsistent".into(),
        )?;
        *self = restored;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teachgym_core::TaskDim;

    /// A space shaped like the web-form one's last axes: one free dimension and the two
    /// scheduled ones, with non-unit bounds to check the scaling.
    fn space() -> TaskSpace {
        TaskSpace::new(vec![
            TaskDim::new("n_fields", 0.0, 1.0, "free"),
            TaskDim::new("cold_start", 0.2, 1.0, "warm start reversed"),
            TaskDim::new("goal_coverage", 0.0, 2.0, "sub-instructions"),
        ])
        .unwrap()
    }

    fn teacher(config: QwebScheduleConfig, seed: u64) -> QwebSchedule {
        QwebSchedule::new(space(), seed, config).unwrap()
    }

    fn outcome(success: bool) -> EpisodeOutcome {
        EpisodeOutcome::new(if success { 1.0 } else { -1.0 }, success, 5)
    }

    #[test]
    fn the_level_rises_monotonically_to_one_and_tasks_follow_it() {
        let config = QwebScheduleConfig {
            horizon: 200,
            spread: 0.0,
            ..Default::default()
        };
        let mut t = teacher(config, 1);
        assert_eq!(t.level(), 0.0);
        let mut last = 0.0;
        for episode in 0..300 {
            let task = t.sample_task();
            assert!(t.space.contains(&task), "{task:?}");
            let level = t.level();
            assert!(level >= last, "level fell from {last} to {level}");
            // With spread 0 the scheduled dimensions sit exactly at the level.
            assert!(
                (task[1] - (0.2 + 0.8 * level)).abs() < 1e-12,
                "{task:?} at {level}"
            );
            assert!((task[2] - 2.0 * level).abs() < 1e-12, "{task:?} at {level}");
            t.update(&task, &outcome(episode % 3 == 0)).unwrap();
            last = level;
        }
        assert_eq!(t.level(), 1.0);
        assert_eq!((t.progress(), t.episodes()), (300, 300));
        // The free dimension stays uniform over its whole range all along.
        let free: Vec<f64> = (0..2000).map(|_| t.sample_task()[0]).collect();
        let mean = free.iter().sum::<f64>() / free.len() as f64;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
        assert!(free.iter().any(|&x| x < 0.05) && free.iter().any(|&x| x > 0.95));
    }

    #[test]
    fn spread_draws_between_the_easy_end_and_the_level() {
        let mut t = teacher(
            QwebScheduleConfig {
                horizon: 100,
                spread: 1.0,
                ..Default::default()
            },
            2,
        );
        for _ in 0..50 {
            let task = t.sample_task();
            t.update(&task, &outcome(false)).unwrap();
        }
        assert_eq!(t.level(), 0.5);
        let tasks: Vec<Vec<f64>> = (0..2000).map(|_| t.sample_task()).collect();
        assert!(tasks
            .iter()
            .all(|x| (0.2..=0.6).contains(&x[1]) && x[2] <= 1.0));
        let mean = tasks.iter().map(|x| x[2]).sum::<f64>() / tasks.len() as f64;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
        // spread 0.2: the top fifth of the range below the level.
        let mut t = teacher(
            QwebScheduleConfig {
                horizon: 100,
                spread: 0.2,
                ..Default::default()
            },
            2,
        );
        for _ in 0..50 {
            let task = t.sample_task();
            t.update(&task, &outcome(false)).unwrap();
        }
        assert!((0..500).all(|_| {
            let x = t.sample_task();
            (0.6..=1.0).contains(&x[2]) && x[2] >= 0.6 - 1e-12
        }));
    }

    #[test]
    fn stages_successes_and_the_gate_pace_the_schedule() {
        // Stages: the level moves in steps of a quarter.
        let mut t = teacher(
            QwebScheduleConfig {
                horizon: 8,
                stages: 4,
                ..Default::default()
            },
            3,
        );
        let mut levels = Vec::new();
        for _ in 0..9 {
            levels.push(t.level());
            let task = t.sample_task();
            t.update(&task, &outcome(false)).unwrap();
        }
        assert_eq!(levels, [0.0, 0.0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0]);
        // Successes: failures do not count.
        let mut t = teacher(
            QwebScheduleConfig {
                progress: ProgressUnit::Successes,
                ..Default::default()
            },
            3,
        );
        for s in [true, false, false, true, true] {
            let task = t.sample_task();
            t.update(&task, &outcome(s)).unwrap();
        }
        assert_eq!((t.progress(), t.episodes()), (3, 5));
        // Gate: nothing counts until the window of 4 is full and at least half of it succeeded.
        let mut t = teacher(
            QwebScheduleConfig {
                min_success_rate: 0.5,
                success_window: 4,
                ..Default::default()
            },
            3,
        );
        let mut progress = Vec::new();
        for s in [true, true, true, false, false, false, true, true] {
            let task = t.sample_task();
            t.update(&task, &outcome(s)).unwrap();
            progress.push(t.progress());
        }
        // Windows after episodes 4..8: TTTF (3/4), TTFF (2/4), TFFF (1/4), FFFT (1/4), FFTT.
        assert_eq!(progress, [0, 0, 0, 1, 2, 2, 2, 3]);
    }

    #[test]
    fn bad_values_are_typed_errors_naming_the_field() {
        let cases: Vec<(QwebScheduleConfig, &str, &str)> = vec![
            (
                QwebScheduleConfig {
                    dimensions: vec![],
                    ..Default::default()
                },
                "qweb_schedule.dimensions",
                "at least one",
            ),
            (
                QwebScheduleConfig {
                    dimensions: vec!["page_depth".into()],
                    ..Default::default()
                },
                "qweb_schedule.dimensions",
                "page_depth",
            ),
            (
                QwebScheduleConfig {
                    dimensions: vec!["cold_start".into(), "cold_start".into()],
                    ..Default::default()
                },
                "qweb_schedule.dimensions",
                "twice",
            ),
            (
                QwebScheduleConfig {
                    horizon: 0,
                    ..Default::default()
                },
                "qweb_schedule.horizon",
                "0",
            ),
            (
                QwebScheduleConfig {
                    stages: MAX_QWEB_SCHEDULE_STAGES + 1,
                    ..Default::default()
                },
                "qweb_schedule.stages",
                "1000001",
            ),
            (
                QwebScheduleConfig {
                    spread: 1.5,
                    ..Default::default()
                },
                "qweb_schedule.spread",
                "1.5",
            ),
            (
                QwebScheduleConfig {
                    spread: f64::NAN,
                    ..Default::default()
                },
                "qweb_schedule.spread",
                "NaN",
            ),
            (
                QwebScheduleConfig {
                    min_success_rate: -0.1,
                    ..Default::default()
                },
                "qweb_schedule.min_success_rate",
                "-0.1",
            ),
            (
                QwebScheduleConfig {
                    success_window: 0,
                    ..Default::default()
                },
                "qweb_schedule.success_window",
                "0",
            ),
            (
                QwebScheduleConfig {
                    success_window: MAX_QWEB_SCHEDULE_SUCCESS_WINDOW + 1,
                    ..Default::default()
                },
                "qweb_schedule.success_window",
                "100001",
            ),
        ];
        for (config, field, detail) in cases {
            let err = QwebSchedule::new(space(), 0, config.clone()).unwrap_err();
            match &err {
                TeacherError::Core(teachgym_core::Error::InvalidConfig { field: f, reason }) => {
                    assert_eq!(f, field, "{config:?}");
                    assert!(reason.contains(detail), "{field}: {reason}");
                }
                other => panic!("{config:?}: {other:?}"),
            }
        }
        // A space without the default dimensions is refused with the known names.
        let other = TaskSpace::from_bounds(&[0.0], &[1.0]).unwrap();
        let err = QwebSchedule::new(other, 0, QwebScheduleConfig::default()).unwrap_err();
        assert!(err.to_string().contains("goal_coverage") && err.to_string().contains("dim_0"));
        // Unknown JSON fields are refused.
        assert!(serde_json::from_str::<QwebScheduleConfig>(r#"{"horizont": 3}"#).is_err());
        let c: QwebScheduleConfig =
            serde_json::from_str(r#"{"progress": "successes", "horizon": 7}"#).unwrap();
        assert_eq!((c.progress, c.horizon), (ProgressUnit::Successes, 7));
        assert_eq!(c.dimensions, DEFAULT_QWEB_SCHEDULE_DIMENSIONS);
    }

    fn drive(t: &mut QwebSchedule, episodes: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = decision_rng(seed);
        (0..episodes)
            .map(|_| {
                let task = t.sample_task();
                let success = rng.random::<f64>() < 0.6;
                t.update(&task, &outcome(success)).unwrap();
                task
            })
            .collect()
    }

    fn gated() -> QwebScheduleConfig {
        QwebScheduleConfig {
            horizon: 150,
            min_success_rate: 0.5,
            success_window: 10,
            stages: 10,
            spread: 0.5,
            ..Default::default()
        }
    }

    #[test]
    fn same_seed_same_tasks_and_visualisation_leaves_them_alone() {
        let (mut a, mut b) = (teacher(gated(), 7), teacher(gated(), 7));
        b.non_exploratory_samples(13);
        assert_eq!(drive(&mut a, 200, 1), drive(&mut b, 200, 1));
        let mut c = teacher(gated(), 8);
        assert_ne!(drive(&mut c, 200, 1), drive(&mut a, 200, 1));
        let samples = a.non_exploratory_samples(50).unwrap();
        assert!(samples.iter().all(|x| a.space.contains(x)));
    }

    #[test]
    fn checkpoints_resume_exactly_and_bad_ones_are_refused() {
        let mut t = teacher(gated(), 5);
        drive(&mut t, 120, 2);
        let bytes = t.save_state().unwrap();
        let mut restored = teacher(gated(), 99);
        restored.load_state(&bytes).unwrap();
        assert_eq!(restored.progress(), t.progress());
        assert_eq!(drive(&mut t, 100, 3), drive(&mut restored, 100, 3));
        // Through the registry's trait object too.
        let mut boxed = crate::build_teacher(
            QwebSchedule::NAME,
            space(),
            0,
            serde_json::to_value(gated()).unwrap(),
        )
        .unwrap();
        boxed.load_state(&t.save_state().unwrap()).unwrap();
        assert_eq!(boxed.sample_task(), t.clone().sample_task());
        // Another space, another teacher, inconsistent contents: refused, state unchanged.
        let before = t.save_state().unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&before).unwrap();
        json["state"]["recent_successes"] = serde_json::json!(10_000);
        let err = t
            .load_state(&serde_json::to_vec(&json).unwrap())
            .unwrap_err();
        assert!(matches!(err, TeacherError::Checkpoint { .. }), "{err}");
        let mut json: serde_json::Value = serde_json::from_slice(&before).unwrap();
        json["state"]["scheduled"] = serde_json::json!([true, false, false]);
        assert!(t.load_state(&serde_json::to_vec(&json).unwrap()).is_err());
        let random = crate::RandomTeacher::new(space(), 0, crate::RandomConfig {}).unwrap();
        assert!(t.load_state(&random.save_state().unwrap()).is_err());
        let mut other = QwebSchedule::new(
            TaskSpace::new(vec![
                TaskDim::new("cold_start", 0.0, 1.0, ""),
                TaskDim::new("goal_coverage", 0.0, 1.0, ""),
            ])
            .unwrap(),
            0,
            QwebScheduleConfig::default(),
        )
        .unwrap();
        assert!(other.load_state(&before).is_err());
        assert_eq!(t.save_state().unwrap(), before);
    }

    #[test]
    fn bad_updates_leave_the_state_unchanged() {
        let mut t = teacher(gated(), 4);
        drive(&mut t, 30, 1);
        let before = t.save_state().unwrap();
        assert!(t.update(&[0.5, 0.5], &outcome(true)).is_err());
        assert!(t.update(&[0.5, 0.1, 0.5], &outcome(true)).is_err());
        let nan = EpisodeOutcome::new(f64::NAN, true, 3);
        assert!(t.update(&[0.5, 0.5, 0.5], &nan).is_err());
        assert_eq!(t.save_state().unwrap(), before);
    }
}

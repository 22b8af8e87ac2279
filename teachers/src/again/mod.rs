//! Meta-ACL's AGAIN (Portelas, Romac, Hofmann & Oudeyer, arXiv 2011.08463): a teacher that
//! reuses the curricula of a **classroom** of previous ALP-GMM students.
//!
//! 1. **Pre-test.** Until the evaluation at epoch `pretrain_epochs` the teacher is an internal
//!    ALP-GMM (configured by `alp_gmm`; its `random_task_ratio` is 0.1, the value the reference
//!    hard-codes for this phase, and it refits every 250 episodes as teachDeepRL).
//! 2. **Expert.** That evaluation's scores ([`Teacher::record_evaluation`]) are the student's
//!    knowledge-component (KC) vector. The `k` classroom students nearest to it (Euclidean, among
//!    their KC vectors *of the same epoch*) are compared, and the one with the largest sum of
//!    final scores is the expert. Ablations: `selection = "random"` (a random student),
//!    `"ground_truth"` (nearest by the true `student_params` under `ground_truth_keys`), and
//!    `classroom_portion` (a random subset of the classroom).
//! 3. **Expert curriculum.** Each of the expert's ALP-GMM fits, keeping only the Gaussians with
//!    mean ALP above `alp_threshold` (fits left empty are dropped); each kept fit gets a reward
//!    target, the mean of the expert's last `reward_target_window` returns after that fit on tasks
//!    its kept Gaussians drew.
//! 4. **Replay.** `replay = "reward"` (R): start at the first fit; the returns of episodes drawn
//!    from the expert's Gaussians fill a window of `r_list_len`; when it is full and its mean
//!    reaches `target · tol_ratio`, move to the next fit and empty the window. `"time"` (T): fit
//!    `min(episodes / time_step, T − 1)`. `"pool"` (P): every kept Gaussian at once.
//!    With `use_alp_gmm` (AGAIN-x, the default) each task is uniform with probability
//!    `random_task_ratio`, otherwise drawn from a Gaussian chosen ∝ mean ALP among the current
//!    expert Gaussians *and* the running ALP-GMM's latest ones; without it (IN-x) only the expert
//!    Gaussians are used, with no random tasks.
//! 5. **End of the expert curriculum** (`stop_at_end`, R and T). On reaching the last fit the
//!    random ratio becomes `end_random_task_ratio` (default: unchanged); then, for AGAIN, every
//!    `fade_period` episodes drawn from the expert Gaussians each one's priority becomes the mean
//!    ALP (by the internal ALP-GMM) of the last `fade_window` tasks it drew, 0 if none, so stale
//!    expert Gaussians fade and ALP-GMM takes over; for IN, after `time_step` episodes at the
//!    last fit, the running ALP-GMM's Gaussians replace the expert's.
//! 6. **Trying again** (`restart_after_pretrain`): after the pre-test the teacher asks for a
//!    fresh student ([`Teacher::wants_student_restart`]).
//!
//! Defaults are the released code's (meta-acl `again.py` and its run scripts): `k` = 3
//! (parkour `run.py`), `r_list_len` = 10 (run scripts; the class says 50),
//! `random_task_ratio` = 0.02, `alp_threshold` = 0.2, `pretrain_epochs` = 1, `stop_at_end` on.
//!
//! Quirks of the reference, and what this module does with each:
//! - The T schedule counts the pre-test episodes in `episodes`: **reproduced**.
//! - A kept fit whose Gaussians drew no episode gets a NaN reward target, and the R schedule then
//!   never advances past it: **fixed**, such a fit (`reward_target: None`) is passed as soon as the
//!   window is full.
//! - After a random draw, the reference credits the next episode's ALP and return to the
//!   *previous* Gaussian index: **fixed**, each sampled task remembers what drew it (and whether
//!   the expert set changed meanwhile), so only tasks drawn from an expert Gaussian count.
//! - Parkour's cap of the expert curriculum at 10M env steps is **not** applied (episode
//!   lengths are not in the history).
//! - If the expert's curriculum is empty (a classroom built with `keep_all` and an expert with
//!   no Gaussian above the threshold), the teacher stays the internal ALP-GMM.
//!
//! Scales: reward targets are in the returns the teacher sees, and `alp_threshold` is on the
//! ALP scale of the classroom's runs (the reference maps returns to `[0, 1]`; the toy's returns
//! are already there, walker returns are raw and need a larger threshold).

mod classroom;
mod expert;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

pub use self::classroom::{
    Classroom, ClassroomEntry, ClassroomError, ClassroomStudent, EntryRule, KcVector,
    CLASSROOM_FORMAT_VERSION, DEFAULT_ENTRY_ALP_THRESHOLD,
};
use self::expert::{extract_curriculum, pool, select_expert, SelectionInput};
pub use self::expert::{ExpertChoice, ExpertStep, Selection};
use crate::gmm::Gmm;
use crate::util::{decision_rng, proportional_choice, visualisation_rng, TeacherRng};
use crate::{
    checkpoint, validate_update, AlpGmm, AlpGmmConfig, EpisodeOutcome, EvaluationResult, Result,
    Teacher, TeacherError,
};

/// Default pre-test length in evaluations (parkour `run.py`).
pub const DEFAULT_AGAIN_PRETRAIN_EPOCHS: u64 = 1;
/// Default number of neighbours compared (parkour `run.py`).
pub const DEFAULT_AGAIN_K: usize = 3;
/// Default ALP threshold of the expert curriculum (`alp_thr`).
pub const DEFAULT_AGAIN_ALP_THRESHOLD: f64 = 0.2;
/// Default number of returns averaged into a reward target.
pub const DEFAULT_AGAIN_REWARD_TARGET_WINDOW: usize = 50;
/// Default window of the R schedule (the run scripts' `r_list_len`).
pub const DEFAULT_AGAIN_R_LIST_LEN: usize = 10;
/// Default share of the reward target the window must reach.
pub const DEFAULT_AGAIN_TOL_RATIO: f64 = 1.0;
/// Default probability of a uniform task in the AGAIN-x replay.
pub const DEFAULT_AGAIN_RANDOM_TASK_RATIO: f64 = 0.02;
/// Default period, in expert-drawn episodes, of the end-of-curriculum fade.
pub const DEFAULT_AGAIN_FADE_PERIOD: u64 = 100;
/// Default number of ALPs averaged per expert Gaussian by the fade.
pub const DEFAULT_AGAIN_FADE_WINDOW: usize = 100;
/// Random ratio of the pre-test phase (hard-coded in the reference).
pub const AGAIN_PRETRAIN_RANDOM_TASK_RATIO: f64 = 0.1;
/// Refit period of the internal ALP-GMM (teachDeepRL's, the reference's).
pub const AGAIN_ALP_GMM_FIT_RATE: usize = 250;
/// Largest window or period of the config (bounded memory).
pub const MAX_AGAIN_WINDOW: usize = 100_000;
/// Most sampled tasks whose origin is remembered until their update.
pub const MAX_AGAIN_PENDING: usize = 4096;

/// Where the classroom comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassroomSource {
    /// A file written by `teachgym classroom build`.
    Path(PathBuf),
    /// The classroom itself.
    Inline(Box<Classroom>),
}

/// The curriculum replay schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Replay {
    /// R: advance when the student's returns reach the expert's.
    #[default]
    Reward,
    /// T: advance with the episodes, one fit per `time_step`.
    Time,
    /// P: every kept Gaussian at once.
    Pool,
}

/// Configuration of [`Again`] (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgainConfig {
    /// The classroom (required).
    pub classroom: Option<ClassroomSource>,
    /// Evaluation epoch of the KC vector. Default: [`DEFAULT_AGAIN_PRETRAIN_EPOCHS`].
    pub pretrain_epochs: u64,
    /// Neighbours compared. Default: [`DEFAULT_AGAIN_K`].
    pub k: usize,
    /// Replay schedule. Default: reward (R).
    pub replay: Replay,
    /// Mix the expert Gaussians with the running ALP-GMM (AGAIN-x) or not (IN-x). Default: true.
    pub use_alp_gmm: bool,
    /// Mean-ALP threshold of the expert curriculum. Default: [`DEFAULT_AGAIN_ALP_THRESHOLD`].
    pub alp_threshold: f64,
    /// Returns averaged into each reward target. Default: [`DEFAULT_AGAIN_REWARD_TARGET_WINDOW`].
    pub reward_target_window: usize,
    /// Window of the R schedule. Default: [`DEFAULT_AGAIN_R_LIST_LEN`].
    pub r_list_len: usize,
    /// Share of the target the window must reach. Default: [`DEFAULT_AGAIN_TOL_RATIO`].
    pub tol_ratio: f64,
    /// Probability of a uniform task in AGAIN-x. Default: [`DEFAULT_AGAIN_RANDOM_TASK_RATIO`].
    pub random_task_ratio: f64,
    /// Random ratio once the expert curriculum ends; `None` = unchanged. Default: `None`.
    pub end_random_task_ratio: Option<f64>,
    /// End-of-curriculum handover to ALP-GMM (R and T). Default: true.
    pub stop_at_end: bool,
    /// Expert-drawn episodes between fades. Default: [`DEFAULT_AGAIN_FADE_PERIOD`].
    pub fade_period: u64,
    /// ALPs averaged per Gaussian by a fade. Default: [`DEFAULT_AGAIN_FADE_WINDOW`].
    pub fade_window: usize,
    /// Episodes per fit of the T schedule; `None` = the internal ALP-GMM's `fit_rate`.
    pub time_step: Option<u64>,
    /// How the compared students are chosen. Default: KC nearest.
    pub selection: Selection,
    /// Parameters compared by the ground-truth selection.
    pub ground_truth_keys: Vec<String>,
    /// The new student's parameters (for the ground-truth selection).
    pub student_params: BTreeMap<String, serde_json::Value>,
    /// Share of the classroom used, drawn at random, in `(0, 1]`. Default: 1.
    pub classroom_portion: f64,
    /// Ask for a fresh student after the pre-test ("trying again"). Default: false.
    pub restart_after_pretrain: bool,
    /// The internal ALP-GMM. Default: teachDeepRL's fit rate (250) and k range, random ratio
    /// [`AGAIN_PRETRAIN_RANDOM_TASK_RATIO`].
    pub alp_gmm: AlpGmmConfig,
}

impl Default for AgainConfig {
    fn default() -> Self {
        Self {
            classroom: None,
            pretrain_epochs: DEFAULT_AGAIN_PRETRAIN_EPOCHS,
            k: DEFAULT_AGAIN_K,
            replay: Replay::Reward,
            use_alp_gmm: true,
            alp_threshold: DEFAULT_AGAIN_ALP_THRESHOLD,
            reward_target_window: DEFAULT_AGAIN_REWARD_TARGET_WINDOW,
            r_list_len: DEFAULT_AGAIN_R_LIST_LEN,
            tol_ratio: DEFAULT_AGAIN_TOL_RATIO,
            random_task_ratio: DEFAULT_AGAIN_RANDOM_TASK_RATIO,
            end_random_task_ratio: None,
            stop_at_end: true,
            fade_period: DEFAULT_AGAIN_FADE_PERIOD,
            fade_window: DEFAULT_AGAIN_FADE_WINDOW,
            time_step: None,
            selection: Selection::KcNearest,
            ground_truth_keys: Vec::new(),
            student_params: BTreeMap::new(),
            classroom_portion: 1.0,
            restart_after_pretrain: false,
            alp_gmm: AlpGmmConfig {
                fit_rate: AGAIN_ALP_GMM_FIT_RATE,
                max_k: 10,
                random_task_ratio: AGAIN_PRETRAIN_RANDOM_TASK_RATIO,
                ..AlpGmmConfig::default()
            },
        }
    }
}

impl AgainConfig {
    /// Episodes per fit of the T schedule.
    pub fn resolved_time_step(&self) -> u64 {
        self.time_step.unwrap_or(self.alp_gmm.fit_rate as u64)
    }

    fn validate(&self, space: &TaskSpace) -> Result<()> {
        let bad = |field: &str, reason: String| {
            Err(TeacherError::config(format!("again.{field}"), reason))
        };
        if self.pretrain_epochs == 0 {
            return bad("pretrain_epochs", "must be >= 1".into());
        }
        for (field, v) in [
            ("k", self.k),
            ("reward_target_window", self.reward_target_window),
            ("r_list_len", self.r_list_len),
            ("fade_window", self.fade_window),
            (
                "fade_period",
                usize::try_from(self.fade_period).unwrap_or(usize::MAX),
            ),
            (
                "time_step",
                usize::try_from(self.resolved_time_step()).unwrap_or(usize::MAX),
            ),
        ] {
            if !(1..=MAX_AGAIN_WINDOW).contains(&v) {
                return bad(field, format!("must be in 1..={MAX_AGAIN_WINDOW}, got {v}"));
            }
        }
        for (field, v) in [
            ("alp_threshold", self.alp_threshold),
            ("tol_ratio", self.tol_ratio),
        ] {
            if !v.is_finite() {
                return bad(field, format!("must be finite, got {v}"));
            }
        }
        for (field, v) in [
            ("random_task_ratio", Some(self.random_task_ratio)),
            ("end_random_task_ratio", self.end_random_task_ratio),
        ] {
            if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
                return bad(field, format!("must be in [0, 1], got {v}"));
            }
        }
        if !(self.classroom_portion > 0.0 && self.classroom_portion <= 1.0) {
            return bad(
                "classroom_portion",
                format!("must be in (0, 1], got {}", self.classroom_portion),
            );
        }
        if self.selection == Selection::GroundTruth && self.ground_truth_keys.is_empty() {
            return bad(
                "ground_truth_keys",
                "the ground-truth selection needs at least one key".into(),
            );
        }
        self.alp_gmm.validate(space)
    }
}

/// What drew a sampled task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Origin {
    /// The pre-test ALP-GMM, the IN hand-over, or a fallback.
    AlpGmm,
    /// A uniform draw of the replay.
    Random,
    /// Gaussian `gaussian` of the expert set `set` (a counter bumped at every change).
    Expert { set: u64, gaussian: usize },
}

/// The phase of the teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The internal ALP-GMM, until the pre-test evaluation.
    Pretest,
    /// Replaying the expert curriculum.
    Replay,
    /// After the end of the expert curriculum.
    Stopped,
}

/// The AGAIN teacher. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Again {
    /// The config without its classroom (held in `classroom`).
    config: AgainConfig,
    space: TaskSpace,
    seed: u64,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    #[serde(skip)]
    classroom: Option<Arc<Classroom>>,
    alp_gmm: AlpGmm,
    episodes: u64,
    phase: Phase,
    choice: Option<ExpertChoice>,
    curriculum: Vec<ExpertStep>,
    /// Index in `curriculum` (R, T).
    index: usize,
    /// The expert Gaussians sampled from now, with their current priorities.
    active: Option<ExpertStep>,
    /// Counter of `active` changes.
    set: u64,
    /// Returns of expert-drawn episodes (R).
    rewards: VecDeque<f64>,
    random_ratio: f64,
    /// Episodes when the curriculum ended.
    stopped_at: u64,
    /// Recent ALPs of each active Gaussian (fade).
    fade_alps: Vec<VecDeque<f64>>,
    expert_draws: u64,
    pending: VecDeque<(Vec<f64>, Origin)>,
    restart_requested: bool,
}

impl Again {
    /// Registry name.
    pub const NAME: &'static str = "again";

    /// An AGAIN teacher over `space`; the classroom comes from `config.classroom`.
    ///
    /// # Errors
    /// [`ClassroomError`] (missing, unreadable, corrupt, another task space) in
    /// [`TeacherError::Classroom`], or an invalid configuration.
    pub fn new(space: TaskSpace, seed: u64, mut config: AgainConfig) -> Result<Self> {
        let classroom = match config.classroom.take() {
            None => return Err(ClassroomError::Missing.into()),
            Some(ClassroomSource::Path(path)) => Classroom::load(&path)?,
            Some(ClassroomSource::Inline(c)) => {
                c.check("<inline>")?;
                *c
            }
        };
        Self::with_classroom(space, seed, config, Arc::new(classroom))
    }

    /// As [`Again::new`] with a classroom already in memory (shared between teachers);
    /// `config.classroom` is ignored.
    ///
    /// # Errors
    /// As [`Again::new`].
    pub fn with_classroom(
        space: TaskSpace,
        seed: u64,
        mut config: AgainConfig,
        classroom: Arc<Classroom>,
    ) -> Result<Self> {
        config.classroom = None;
        config.validate(&space)?;
        if !classroom.task_space.same_bounds(&space) {
            return Err(ClassroomError::OtherTaskSpace {
                student: "the classroom".into(),
                expected: space.names().join(", "),
                got: classroom.task_space.names().join(", "),
            }
            .into());
        }
        let alp_gmm = AlpGmm::new(space.clone(), seed, config.alp_gmm.clone())?;
        Ok(Self {
            random_ratio: config.random_task_ratio,
            config,
            space,
            seed,
            rng: decision_rng(seed ^ 0xA6A1),
            visualisation_rng: visualisation_rng(seed ^ 0xA6A1),
            classroom: Some(classroom),
            alp_gmm,
            episodes: 0,
            phase: Phase::Pretest,
            choice: None,
            curriculum: Vec::new(),
            index: 0,
            active: None,
            set: 0,
            rewards: VecDeque::new(),
            stopped_at: 0,
            fade_alps: Vec::new(),
            expert_draws: 0,
            pending: VecDeque::new(),
            restart_requested: false,
        })
    }

    /// The configuration (without the classroom).
    pub fn config(&self) -> &AgainConfig {
        &self.config
    }
    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The expert chosen after the pre-test.
    pub fn expert(&self) -> Option<&ExpertChoice> {
        self.choice.as_ref()
    }
    /// The expert curriculum (empty before the pre-test ends).
    pub fn curriculum(&self) -> &[ExpertStep] {
        &self.curriculum
    }
    /// Current step of the R / T schedule.
    pub fn curriculum_index(&self) -> usize {
        self.index
    }
    /// The expert Gaussians sampled from now, with their current priorities.
    pub fn active_expert(&self) -> Option<&ExpertStep> {
        self.active.as_ref()
    }
    /// Current probability of a uniform task (AGAIN-x).
    pub fn random_task_ratio(&self) -> f64 {
        self.random_ratio
    }
    /// Episodes seen.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }
    /// The internal ALP-GMM.
    pub fn alp_gmm(&self) -> &AlpGmm {
        &self.alp_gmm
    }

    fn set_active(&mut self, step: Option<ExpertStep>) {
        self.fade_alps = step
            .as_ref()
            .map_or_else(Vec::new, |s| vec![VecDeque::new(); s.alps.len()]);
        self.active = step;
        self.set = self.set.saturating_add(1);
        self.expert_draws = 0;
        self.rewards.clear();
    }

    fn stop(&mut self) {
        self.phase = Phase::Stopped;
        self.stopped_at = self.episodes;
        if let Some(r) = self.config.end_random_task_ratio {
            self.random_ratio = r;
        }
    }

    /// Whether the IN replay has handed over to ALP-GMM.
    fn in_handed_over(&self) -> bool {
        !self.config.use_alp_gmm
            && self.phase == Phase::Stopped
            && self.episodes.saturating_sub(self.stopped_at) >= self.config.resolved_time_step()
    }

    /// Chooses the expert and starts the replay.
    fn start_replay(&mut self, evaluation: &EvaluationResult) -> Result<()> {
        let classroom = self.classroom.clone().ok_or(ClassroomError::Missing)?;
        let choice = select_expert(
            &classroom,
            &SelectionInput {
                selection: self.config.selection,
                k: self.config.k,
                portion: self.config.classroom_portion,
                epoch: evaluation.epoch,
                kc: &evaluation.scores,
                ground_truth_keys: &self.config.ground_truth_keys,
                student_params: &self.config.student_params,
            },
            &mut self.rng,
        )?;
        let steps = extract_curriculum(
            &classroom.students[choice.expert],
            self.config.alp_threshold,
            self.config.reward_target_window,
        )?;
        let active = match self.config.replay {
            Replay::Pool => pool(&steps)?,
            Replay::Reward => steps.first().cloned(),
            Replay::Time => {
                let last = steps.len().saturating_sub(1);
                let i = usize::try_from(self.episodes / self.config.resolved_time_step())
                    .unwrap_or(usize::MAX)
                    .min(last);
                self.index = i;
                steps.get(i).cloned()
            }
        };
        self.curriculum = steps;
        self.choice = Some(choice);
        self.phase = Phase::Replay;
        self.set_active(active);
        if self.config.replay != Replay::Pool && self.at_last_step() && self.config.stop_at_end {
            self.stop();
        }
        if self.config.restart_after_pretrain {
            self.restart_requested = true;
        }
        Ok(())
    }

    fn at_last_step(&self) -> bool {
        self.index + 1 >= self.curriculum.len()
    }

    fn advance_to(&mut self, index: usize) {
        if index != self.index && index < self.curriculum.len() {
            self.index = index;
            let step = self.curriculum[index].clone();
            self.set_active(Some(step));
            if self.at_last_step() && self.config.stop_at_end {
                self.stop();
            }
        }
    }

    fn sample_with_origin(&mut self) -> (Vec<f64>, Origin) {
        let Some(active) = &self.active else {
            return (self.alp_gmm.sample_task(), Origin::AlpGmm);
        };
        if self.phase == Phase::Pretest || self.in_handed_over() {
            return (self.alp_gmm.sample_task(), Origin::AlpGmm);
        }
        if !self.config.use_alp_gmm {
            let c = proportional_choice(&active.alps, &mut self.rng);
            let task = draw(&active.gmm, c, &self.space, &mut self.rng);
            return (
                task,
                Origin::Expert {
                    set: self.set,
                    gaussian: c,
                },
            );
        }
        if self.rng.random::<f64>() < self.random_ratio {
            return (self.space.sample(&mut self.rng), Origin::Random);
        }
        let alp_gmm = self.alp_gmm.gmm();
        let alp_gmm_alps: Vec<f64> = alp_gmm.map_or_else(Vec::new, mean_alps);
        let mut weights = active.alps.clone();
        weights.extend_from_slice(&alp_gmm_alps);
        let c = proportional_choice(&weights, &mut self.rng);
        let n = active.alps.len();
        match alp_gmm {
            Some(g) if c >= n => (draw(g, c - n, &self.space, &mut self.rng), Origin::AlpGmm),
            _ => (
                draw(&active.gmm, c.min(n - 1), &self.space, &mut self.rng),
                Origin::Expert {
                    set: self.set,
                    gaussian: c.min(n - 1),
                },
            ),
        }
    }

    fn learn_from_expert_episode(&mut self, gaussian: usize, episode_return: f64, alp: f64) {
        match self.phase {
            Phase::Replay if self.config.replay == Replay::Reward => {
                self.rewards.push_back(episode_return);
                while self.rewards.len() > self.config.r_list_len {
                    self.rewards.pop_front();
                }
                if self.rewards.len() == self.config.r_list_len {
                    let mean = self.rewards.iter().sum::<f64>() / self.rewards.len() as f64;
                    let target = self.curriculum[self.index].reward_target;
                    // A fit without target (the reference's NaN) is passed once the window is full.
                    if target.is_none_or(|t| mean >= t * self.config.tol_ratio) {
                        self.advance_to(self.index + 1);
                        self.rewards.clear();
                    }
                }
            }
            Phase::Stopped if self.config.use_alp_gmm => {
                if let Some(window) = self.fade_alps.get_mut(gaussian) {
                    window.push_back(alp);
                    while window.len() > self.config.fade_window {
                        window.pop_front();
                    }
                }
                self.expert_draws = self.expert_draws.saturating_add(1);
                if self.expert_draws % self.config.fade_period == 0 {
                    if let Some(active) = &mut self.active {
                        for (priority, window) in active.alps.iter_mut().zip(&self.fade_alps) {
                            *priority = if window.is_empty() {
                                0.0
                            } else {
                                window.iter().sum::<f64>() / window.len() as f64
                            };
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn mean_alps(gmm: &Gmm) -> Vec<f64> {
    let last = gmm.dim() - 1;
    (0..gmm.n_components()).map(|c| gmm.mean(c)[last]).collect()
}

fn draw<R: Rng + ?Sized>(gmm: &Gmm, c: usize, space: &TaskSpace, rng: &mut R) -> Vec<f64> {
    let mut x = gmm.sample_component(c, rng);
    x.truncate(space.dim());
    space.clip(&x)
}

impl Teacher for Again {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        let (task, origin) = self.sample_with_origin();
        if self.pending.len() >= MAX_AGAIN_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back((task.clone(), origin));
        task
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        let alp = self.alp_gmm.alp_of(task, outcome.episode_return);
        self.alp_gmm.update(task, outcome)?;
        self.episodes = self.episodes.saturating_add(1);
        let origin = self
            .pending
            .iter()
            .position(|(t, _)| t == task)
            .and_then(|i| self.pending.remove(i))
            .map(|(_, o)| o);
        if let Some(Origin::Expert { set, gaussian }) = origin {
            if set == self.set {
                self.learn_from_expert_episode(gaussian, outcome.episode_return, alp);
            }
        }
        if self.phase == Phase::Replay && self.config.replay == Replay::Time {
            // The episode count includes the pre-test (the reference's quirk, reproduced).
            let i = usize::try_from(self.episodes / self.config.resolved_time_step())
                .unwrap_or(usize::MAX)
                .min(self.curriculum.len().saturating_sub(1));
            self.advance_to(i);
        }
        Ok(())
    }

    fn record_evaluation(&mut self, evaluation: &EvaluationResult) -> Result<()> {
        if let Some(v) = evaluation.scores.iter().find(|v| !v.is_finite()) {
            return Err(TeacherError::NonFiniteReturn { value: *v });
        }
        if self.phase == Phase::Pretest && evaluation.epoch >= self.config.pretrain_epochs {
            self.start_replay(evaluation)?;
        }
        Ok(())
    }

    fn wants_student_restart(&self) -> bool {
        self.restart_requested
    }

    fn acknowledge_student_restart(&mut self) {
        self.restart_requested = false;
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        let replaying = self.phase != Phase::Pretest && !self.in_handed_over();
        let rng = &mut self.visualisation_rng;
        match &self.active {
            Some(active) if replaying => Some(
                (0..n)
                    .map(|_| {
                        let c = proportional_choice(&active.alps, rng);
                        draw(&active.gmm, c, &self.space, rng)
                    })
                    .collect(),
            ),
            _ => self.alp_gmm.non_exploratory_samples(n),
        }
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, self)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let mut restored: Self = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &restored.space)?;
        restored.config.validate(&restored.space)?;
        checkpoint::check_same_space(&restored.space, restored.alp_gmm.task_space())?;
        restored.alp_gmm.check_restored()?;
        let d = restored.space.dim() + 1;
        let steps_ok = restored
            .curriculum
            .iter()
            .chain(restored.active.as_ref())
            .all(|s| {
                s.gmm.dim() == d && s.gmm.is_consistent() && s.alps.len() == s.gmm.n_components()
            });
        checkpoint::ensure(
            steps_ok
                && (restored.curriculum.is_empty() || restored.index < restored.curriculum.len())
                && restored.fade_alps.len() == restored.active.as_ref().map_or(0, |a| a.alps.len())
                && restored.pending.len() <= MAX_AGAIN_PENDING
                && restored.rewards.len() <= restored.config.r_list_len,
            || "again state is inconsistent (curriculum, index or windows)".into(),
        )?;
        restored.classroom = self.classroom.clone();
        *self = restored;
        Ok(())
    }
}

//! ALP-GMM (Portelas et al., CoRL 2019): absolute learning progress (ALP) per episode, a
//! Gaussian mixture over (task, ALP) refitted every `fit_rate` episodes, and tasks drawn from
//! the component whose mean ALP is highest, proportionally.
//!
//! - ALP of an episode = |r − r_nn|, r_nn the return of the nearest previously seen task
//!   (exact 1-NN over the whole history, raw task units; an exact duplicate task is compared with
//!   its most recent visit, see the `knn` module); 0 while the history holds 5 pairs or fewer.
//! - Every `fit_rate` episodes once the bootstrap is over, one full-covariance mixture per
//!   `k ∈ min_k..=max_k` is fitted to the last `fit_rate` (task, ALP) vectors; lowest AIC wins.
//! - Sampling: uniform (or the expert's initial Gaussian) during the bootstrap; afterwards a
//!   uniform task with probability `random_task_ratio`, otherwise a component chosen ∝ its mean
//!   ALP (mixture weights ignored, as the reference), sampled, ALP coordinate dropped, clipped.
//! - With `record_history`, every fit is logged ([`AlpGmm::history`]): its episode, its
//!   Gaussians with their mean ALP, and the tasks, returns and origins (the component that drew
//!   each task, or none) of the episodes that followed it until the next fit: what a
//!   meta-ACL classroom keeps of a student's curriculum (see [`crate::again`]).

use std::collections::VecDeque;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::gmm::{fit_best, Fitness, Gmm, GmmConfig};
use crate::util::{decision_rng, proportional_choice, visualisation_rng, TeacherRng};
use crate::{
    checkpoint, validate_update, EpisodeOutcome, ExpertKnowledge, Result, Teacher, TeacherError,
};

/// Default episodes between refits (TeachMyAgent benchmark; teachDeepRL uses 250).
pub const DEFAULT_ALP_GMM_FIT_RATE: usize = 150;
/// Default smallest number of components tried.
pub const DEFAULT_ALP_GMM_MIN_K: usize = 2;
/// Default largest number of components tried (TeachMyAgent benchmark: `arange(2, 10)`; teachDeepRL: 10).
pub const DEFAULT_ALP_GMM_MAX_K: usize = 9;
/// Default probability of a uniform task after the bootstrap (TeachMyAgent benchmark; teachDeepRL: 0.2).
pub const DEFAULT_ALP_GMM_RANDOM_TASK_RATIO: f64 = 0.05;
/// Largest `fit_rate` of the GMM teachers (ALP-GMM, Covar-GMM): 40 times teachDeepRL's 250.
/// It bounds the fitted window, and so the memory and time of every refit.
pub const MAX_GMM_FIT_RATE: usize = 10_000;
/// Largest `max_k` of the GMM teachers: more than twice TeachMyAgent's 14. Every `k` up to it
/// is fitted at each refit.
pub const MAX_GMM_K: usize = 32;
/// ALP is computed only once the history holds more than this many pairs (reference: 5).
pub const ALP_MIN_HISTORY: usize = 5;

/// Configuration of [`AlpGmm`]. `Default` is TeachMyAgent's tuned benchmark setting;
/// [`AlpGmmConfig::teach_deep_rl`] is the original paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlpGmmConfig {
    /// Episodes between GMM refits, and size of the fitted window, `2..=MAX_GMM_FIT_RATE`.
    /// Default: [`DEFAULT_ALP_GMM_FIT_RATE`].
    pub fit_rate: usize,
    /// Episodes of uniform (or expert) sampling before the first fit; `None` = `fit_rate`.
    pub nb_bootstrap: Option<usize>,
    /// Smallest `k` tried. Default: [`DEFAULT_ALP_GMM_MIN_K`].
    pub min_k: usize,
    /// Largest `k` tried (inclusive), at most [`MAX_GMM_K`]. Default: [`DEFAULT_ALP_GMM_MAX_K`].
    pub max_k: usize,
    /// Probability of a uniform task once the GMM exists. Default: [`DEFAULT_ALP_GMM_RANDOM_TASK_RATIO`].
    pub random_task_ratio: f64,
    /// Model-selection criterion. Default: AIC.
    pub fitness: Fitness,
    /// EM settings (sklearn defaults).
    pub gmm: GmmConfig,
    /// Prior knowledge; at `high`, the bootstrap samples its initial distribution.
    pub expert_knowledge: ExpertKnowledge,
    /// Log every fit and the episodes that followed it ([`AlpGmm::history`]), for a meta-ACL
    /// classroom. Memory grows with the episodes (about 16 bytes each on a 2-D task space).
    /// `None` (the default) is off here; `teachgym train` reads it as on (its runs write
    /// `classroom_entry.json`) unless it is `Some(false)`. The switch changes no decision.
    pub record_history: Option<bool>,
    /// Map each episode return linearly from `[low, high]` to `[0, 1]` (clipped) before the
    /// teacher learns from it, as teachDeepRL does with `(-150, 350)` on the walkers; `None`
    /// (the default, TeachMyAgent's) learns from raw returns. On raw walker returns the
    /// learning-progress axis spans ~0-116 against task axes of 0-3 and 0-6, and single falls
    /// become components of their own (BENCHMARKS §11, issue 18); the walkers' range is their
    /// expert knowledge's reward thresholds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_range: Option<[f64; 2]>,
}

impl Default for AlpGmmConfig {
    fn default() -> Self {
        Self {
            fit_rate: DEFAULT_ALP_GMM_FIT_RATE,
            nb_bootstrap: None,
            min_k: DEFAULT_ALP_GMM_MIN_K,
            max_k: DEFAULT_ALP_GMM_MAX_K,
            random_task_ratio: DEFAULT_ALP_GMM_RANDOM_TASK_RATIO,
            fitness: Fitness::Aic,
            gmm: GmmConfig::default(),
            expert_knowledge: ExpertKnowledge::none(),
            record_history: None,
            return_range: None,
        }
    }
}

impl AlpGmmConfig {
    /// teachDeepRL's original values: fit every 250 episodes, k = 2..=10, 20 % random tasks.
    pub fn teach_deep_rl() -> Self {
        Self {
            fit_rate: 250,
            max_k: 10,
            random_task_ratio: 0.2,
            ..Self::default()
        }
    }

    /// Whether the history is recorded (`record_history == Some(true)`).
    pub fn records_history(&self) -> bool {
        self.record_history == Some(true)
    }

    /// Bootstrap length (`nb_bootstrap`, or `fit_rate` when unset).
    pub fn bootstrap_episodes(&self) -> usize {
        self.nb_bootstrap.unwrap_or(self.fit_rate)
    }

    pub(crate) fn validate(&self, space: &TaskSpace) -> Result<()> {
        validate_gmm_schedule(
            "alp_gmm",
            self.fit_rate,
            self.min_k,
            self.max_k,
            self.random_task_ratio,
        )?;
        self.gmm.validate("alp_gmm.gmm")?;
        crate::util::validate_return_range("alp_gmm", self.return_range)?;
        self.expert_knowledge.validate(space)
    }
}

/// Shared checks of the GMM teachers' schedules.
pub(crate) fn validate_gmm_schedule(
    teacher: &str,
    fit_rate: usize,
    min_k: usize,
    max_k: usize,
    ratio: f64,
) -> Result<()> {
    if !(2..=MAX_GMM_FIT_RATE).contains(&fit_rate) {
        return Err(TeacherError::config(
            format!("{teacher}.fit_rate"),
            format!("must be in 2..={MAX_GMM_FIT_RATE}, got {fit_rate}"),
        ));
    }
    if min_k == 0 || min_k > max_k || max_k > MAX_GMM_K {
        return Err(TeacherError::config(
            format!("{teacher}.min_k / max_k"),
            format!("need 1 <= min_k <= max_k <= {MAX_GMM_K}, got {min_k}..={max_k}"),
        ));
    }
    if !(0.0..=1.0).contains(&ratio) {
        return Err(TeacherError::config(
            format!("{teacher}.random_task_ratio"),
            format!("must be in [0, 1], got {ratio}"),
        ));
    }
    Ok(())
}

/// The ALP-GMM teacher. See the [module docs](self).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlpGmm {
    config: AlpGmmConfig,
    space: TaskSpace,
    seed: u64,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    history: crate::knn::NearestHistory,
    /// The last `fit_rate` vectors `[task..., alp]`.
    window: VecDeque<Vec<f64>>,
    episodes: u64,
    gmm: Option<Gmm>,
    fits: u64,
    last_alp: f64,
    /// The fits and the episodes after them, when `record_history` is on.
    #[serde(default)]
    log: AlpGmmHistory,
    /// Tasks sampled but not yet updated, with the fit and component that drew them (only
    /// when `record_history` is on), oldest first, at most [`MAX_PENDING_ORIGINS`].
    #[serde(default)]
    pending: VecDeque<PendingOrigin>,
}

/// Most tasks [`AlpGmm`] remembers the origin of between `sample_task` and `update` (when
/// recording its history); older ones are forgotten and their episodes logged without origin.
pub const MAX_PENDING_ORIGINS: usize = 4096;

/// A sampled task waiting for its update, with what drew it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PendingOrigin {
    task: Vec<f64>,
    /// Fits done when it was drawn.
    fit: u64,
    /// Component that drew it; -1 for a uniform (bootstrap or random) draw.
    component: i16,
}

/// The curriculum of an ALP-GMM run: every fit, in order ([`AlpGmm::history`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlpGmmHistory {
    /// The fits, oldest first.
    pub fits: Vec<AlpGmmFit>,
}

/// One fit of ALP-GMM and the episodes that followed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlpGmmFit {
    /// Episodes seen when the fit was made.
    pub episode: u64,
    /// Its Gaussians over `(task, ALP)`.
    pub gaussians: Vec<FitGaussian>,
    /// The episodes updated after it, until the next fit.
    pub episodes: FitEpisodes,
}

/// A Gaussian of an ALP-GMM fit over `(task, ALP)`: the last coordinate is the ALP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitGaussian {
    /// Mixture weight.
    pub weight: f64,
    /// Mean, `task dim + 1` values (the last is the mean ALP).
    pub mean: Vec<f64>,
    /// Covariance, `(task dim + 1)²` values, row-major.
    pub covariance: Vec<f64>,
}

impl FitGaussian {
    /// The Gaussian's mean ALP (its priority when sampling).
    pub fn mean_alp(&self) -> f64 {
        self.mean.last().copied().unwrap_or(0.0)
    }
}

/// The episodes after a fit, column-wise and compact (a toy classroom holds millions).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitEpisodes {
    /// Tasks, `returns.len() × task dim` values, row-major (`f32`: a record, not a state).
    pub tasks: Vec<f32>,
    /// Episode returns as the teacher saw them.
    pub returns: Vec<f32>,
    /// Index of the fit's Gaussian that drew each task; -1 for a uniform draw or an unknown
    /// origin (a task drawn before the fit, or updated without being sampled).
    pub origins: Vec<i16>,
}

impl FitEpisodes {
    /// Number of episodes.
    pub fn len(&self) -> usize {
        self.returns.len()
    }
    /// Whether no episode followed the fit.
    pub fn is_empty(&self) -> bool {
        self.returns.is_empty()
    }
}

impl AlpGmmFit {
    pub(crate) fn from_gmm(episode: u64, gmm: &Gmm) -> Self {
        let gaussians = (0..gmm.n_components())
            .map(|c| FitGaussian {
                weight: gmm.weights()[c],
                mean: gmm.mean(c).to_vec(),
                covariance: gmm.covariance(c).to_vec(),
            })
            .collect();
        Self {
            episode,
            gaussians,
            episodes: FitEpisodes::default(),
        }
    }

    /// The fit's Gaussians as a mixture over `(task, ALP)`.
    ///
    /// # Errors
    /// [`TeacherError::GmmFit`] for inconsistent parts (an edited file).
    pub fn gmm(&self) -> Result<Gmm> {
        let dim = self.gaussians.first().map_or(0, |g| g.mean.len());
        Gmm::from_parts(
            dim,
            self.gaussians.iter().map(|g| g.weight).collect(),
            self.gaussians.iter().flat_map(|g| g.mean.clone()).collect(),
            self.gaussians
                .iter()
                .flat_map(|g| g.covariance.clone())
                .collect(),
        )
    }
}

impl AlpGmm {
    /// Registry name.
    pub const NAME: &'static str = "alp_gmm";

    /// An ALP-GMM teacher over `space`, seeded with `seed`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] (`InvalidConfig`) for an invalid configuration.
    pub fn new(space: TaskSpace, seed: u64, config: AlpGmmConfig) -> Result<Self> {
        config.validate(&space)?;
        Ok(Self {
            history: crate::knn::NearestHistory::new(space.dim()),
            window: VecDeque::with_capacity(config.fit_rate + 1),
            config,
            space,
            seed,
            rng: decision_rng(seed),
            visualisation_rng: visualisation_rng(seed),
            episodes: 0,
            gmm: None,
            fits: 0,
            last_alp: 0.0,
            log: AlpGmmHistory::default(),
            pending: VecDeque::new(),
        })
    }

    /// The logged fits (empty unless `record_history`).
    pub fn history(&self) -> &AlpGmmHistory {
        &self.log
    }

    /// The logged fits, leaving an empty log behind.
    pub fn take_history(&mut self) -> AlpGmmHistory {
        std::mem::take(&mut self.log)
    }

    /// The configuration.
    pub fn config(&self) -> &AlpGmmConfig {
        &self.config
    }
    /// The current mixture over `(task, ALP)`, once fitted.
    pub fn gmm(&self) -> Option<&Gmm> {
        self.gmm.as_ref()
    }
    /// ALP of the last episode reported.
    pub fn last_alp(&self) -> f64 {
        self.last_alp
    }
    /// Episodes reported so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }
    /// GMM refits so far.
    pub fn fits(&self) -> u64 {
        self.fits
    }

    /// The ALP the next update on `task` with return `episode_return` (raw, as the env gave it)
    /// would get (no state change).
    pub fn alp_of(&self, task: &[f64], episode_return: f64) -> f64 {
        let episode_return = crate::util::scaled_return(self.config.return_range, episode_return);
        if self.history.len() > ALP_MIN_HISTORY {
            self.history
                .nearest(task)
                .map_or(0.0, |(_, neighbour_return)| {
                    (episode_return - neighbour_return).abs()
                })
        } else {
            0.0
        }
    }

    /// A task and the component that drew it (-1: uniform).
    fn sample_with_origin(&mut self) -> (Vec<f64>, i16) {
        if self.in_bootstrap() {
            let task = bootstrap_sample(&self.config.expert_knowledge, &self.space, &mut self.rng);
            return (task, -1);
        }
        // Short-circuit as the reference: no random draw is consumed when no GMM exists.
        match &self.gmm {
            Some(gmm) if self.rng.random::<f64>() >= self.config.random_task_ratio => {
                let c = proportional_choice(&mean_alps(gmm), &mut self.rng);
                let mut x = gmm.sample_component(c, &mut self.rng);
                x.truncate(self.space.dim());
                (self.space.clip(&x), i16::try_from(c).unwrap_or(-1))
            }
            _ => (self.space.sample(&mut self.rng), -1),
        }
    }

    /// Logs an updated episode after the latest fit, with the origin of its task.
    fn log_episode(&mut self, task: &[f64], episode_return: f64) {
        let origin = self
            .pending
            .iter()
            .position(|p| p.task == task)
            .and_then(|i| self.pending.remove(i))
            .filter(|p| p.fit == self.fits)
            .map_or(-1, |p| p.component);
        if let Some(fit) = self.log.fits.last_mut() {
            fit.episodes.tasks.extend(task.iter().map(|&x| x as f32));
            fit.episodes.returns.push(episode_return as f32);
            fit.episodes.origins.push(origin);
        }
    }

    fn in_bootstrap(&self) -> bool {
        self.episodes < self.config.bootstrap_episodes() as u64
    }

    fn refit(&mut self) {
        let dim = self.space.dim() + 1;
        let data: Vec<f64> = self.window.iter().flatten().copied().collect();
        let ks = self.config.min_k..=self.config.max_k;
        // A failed refit (impossible with finite data and reg_covar > 0, but never a panic)
        // keeps the previous mixture.
        if let Ok(selection) = fit_best(
            &data,
            dim,
            ks,
            &self.config.gmm,
            self.config.fitness,
            self.seed,
        ) {
            if self.config.records_history() {
                self.log
                    .fits
                    .push(AlpGmmFit::from_gmm(self.episodes, &selection.best));
            }
            self.gmm = Some(selection.best);
            self.fits = self.fits.saturating_add(1);
        }
    }
}

/// Draws a task from the component of `gmm` chosen ∝ `progress`, keeping the first
/// `space.dim()` coordinates and clipping them to the space.
pub(crate) fn sample_from_mixture<R: Rng + ?Sized>(
    gmm: &Gmm,
    progress: &[f64],
    space: &TaskSpace,
    rng: &mut R,
) -> Vec<f64> {
    let c = proportional_choice(progress, rng);
    let mut x = gmm.sample_component(c, rng);
    x.truncate(space.dim());
    space.clip(&x)
}

/// Bootstrap draw: the expert's initial Gaussian when granted, otherwise uniform.
pub(crate) fn bootstrap_sample<R: Rng + ?Sized>(
    ek: &ExpertKnowledge,
    space: &TaskSpace,
    rng: &mut R,
) -> Vec<f64> {
    match ek.initial_distribution() {
        Some(g) => g.sample(space, rng),
        None => space.sample(rng),
    }
}

fn mean_alps(gmm: &Gmm) -> Vec<f64> {
    let last = gmm.dim() - 1;
    (0..gmm.n_components()).map(|c| gmm.mean(c)[last]).collect()
}

impl Teacher for AlpGmm {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        let (task, component) = self.sample_with_origin();
        if self.config.records_history() {
            if self.pending.len() >= MAX_PENDING_ORIGINS {
                self.pending.pop_front();
            }
            self.pending.push_back(PendingOrigin {
                task: task.clone(),
                fit: self.fits,
                component,
            });
        }
        task
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        let alp = self.alp_of(task, outcome.episode_return);
        let scaled = crate::util::scaled_return(self.config.return_range, outcome.episode_return);
        self.history.insert(task, scaled);
        // Reuse the row leaving the window (one allocation less per episode).
        let mut row = if self.window.len() >= self.config.fit_rate {
            self.window.pop_front().unwrap_or_default()
        } else {
            Vec::with_capacity(task.len() + 1)
        };
        row.clear();
        row.extend_from_slice(task);
        row.push(alp);
        self.window.push_back(row);
        while self.window.len() > self.config.fit_rate {
            self.window.pop_front();
        }
        self.last_alp = alp;
        if self.config.records_history() {
            self.log_episode(task, outcome.episode_return);
        }
        self.episodes = self.episodes.saturating_add(1);
        if !self.in_bootstrap() && self.episodes % self.config.fit_rate as u64 == 0 {
            self.refit();
        }
        Ok(())
    }

    fn alp_gmm_history(&self) -> Option<&AlpGmmHistory> {
        self.config.records_history().then_some(&self.log)
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        let rng = &mut self.visualisation_rng;
        Some(match &self.gmm {
            Some(gmm) => {
                let alps = mean_alps(gmm);
                (0..n)
                    .map(|_| sample_from_mixture(gmm, &alps, &self.space, rng))
                    .collect()
            }
            None => (0..n)
                .map(|_| bootstrap_sample(&self.config.expert_knowledge, &self.space, rng))
                .collect(),
        })
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, self)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let mut restored: Self = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &restored.space)?;
        restored.check_restored()?;
        *self = restored;
        Ok(())
    }
}

impl AlpGmm {
    /// Checks a deserialised state and rebuilds its nearest-neighbour index (also for teachers
    /// that embed an ALP-GMM, such as AGAIN).
    pub(crate) fn check_restored(&mut self) -> Result<()> {
        let restored = self;
        restored.config.validate(&restored.space)?;
        let d = restored.space.dim();
        checkpoint::ensure(
            restored.history.dim() == d
                && restored.history.is_consistent()
                && restored.window.len() <= restored.config.fit_rate
                && restored
                    .window
                    .iter()
                    .all(|r| r.len() == d + 1 && r.iter().all(|v| v.is_finite()))
                && restored
                    .gmm
                    .as_ref()
                    .is_none_or(|g| g.dim() == d + 1 && g.is_consistent())
                && restored.pending.len() <= MAX_PENDING_ORIGINS
                && restored.pending.iter().all(|p| p.task.len() == d)
                && restored.log.fits.iter().all(|f| {
                    f.episodes.tasks.len() == f.episodes.returns.len() * d
                        && f.episodes.origins.len() == f.episodes.returns.len()
                }),
            || "alp_gmm state is inconsistent (history, window or mixture dimensions)".into(),
        )?;
        restored.history.rebuild_index();
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
    fn alp_is_distance_to_nearest_previous_return() {
        let mut t = AlpGmm::new(space(), 0, AlpGmmConfig::default()).unwrap();
        // First 6 episodes: ALP 0 (history holds <= 5 pairs when they are scored).
        let tasks = [
            [0.0, 0.0],
            [1.0, 1.0],
            [2.0, 2.0],
            [3.0, 3.0],
            [0.0, 6.0],
            [3.0, 6.0],
        ];
        for (i, task) in tasks.iter().enumerate() {
            t.update(task, &EpisodeOutcome::new(10.0 * i as f64, false, 1))
                .unwrap();
            assert_eq!(t.last_alp(), 0.0);
        }
        // Nearest to (1.1, 1.2) is (1, 1) with return 10: ALP = |25 − 10| = 15.
        t.update(&[1.1, 1.2], &EpisodeOutcome::new(25.0, false, 1))
            .unwrap();
        assert_eq!(t.last_alp(), 15.0);
        // Now (1.1, 1.2) itself (return 25) is nearest: |−5 − 25| = 30.
        t.update(&[1.1, 1.25], &EpisodeOutcome::new(-5.0, false, 1))
            .unwrap();
        assert_eq!(t.last_alp(), 30.0);
        // (2.9, 5.0) is 1.005 from (3, 6) (return 50) and 2.002 from (3, 3): ALP = |50 − 50| = 0.
        t.update(&[2.9, 5.0], &EpisodeOutcome::new(50.0, false, 1))
            .unwrap();
        assert_eq!(t.last_alp(), 0.0);
    }

    #[test]
    fn a_replayed_task_is_compared_with_its_latest_visit() {
        // Clipping piles GMM samples on the exact corner task. Each replay must be compared with
        // the previous replay (ALP = 0.01 per step here, then 0 once capped), not with the first
        // visit (ALP = 0.01 · replays, a progress signal that would never fade).
        let mut t = AlpGmm::new(space(), 0, AlpGmmConfig::default()).unwrap();
        for i in 0..6 {
            t.update(
                &[1.0 + f64::from(i) * 0.1, 5.0],
                &EpisodeOutcome::new(0.0, false, 1),
            )
            .unwrap();
        }
        for visit in 1..=120u32 {
            let r = (f64::from(visit) / 100.0).min(1.0);
            t.update(&[0.0, 0.0], &EpisodeOutcome::new(r, false, 1))
                .unwrap();
            let expected = match visit {
                1 => r, // nearest earlier task returned 0
                2..=100 => 0.01,
                _ => 0.0,
            };
            assert!(
                (t.last_alp() - expected).abs() < 1e-9,
                "visit {visit}: ALP {} instead of {expected}",
                t.last_alp()
            );
        }
    }

    #[test]
    fn fits_on_schedule_and_samples_in_bounds() {
        let cfg = AlpGmmConfig {
            fit_rate: 50,
            ..AlpGmmConfig::default()
        };
        let mut t = AlpGmm::new(space(), 1, cfg).unwrap();
        for ep in 0..200u32 {
            let task = t.sample_task();
            assert!(space().contains(&task), "{task:?}");
            // Progress only in the low-height half: return grows with visits there.
            let r = if task[0] < 1.5 { ep as f64 } else { 0.0 };
            t.update(&task, &EpisodeOutcome::new(r, false, 1)).unwrap();
            assert_eq!(t.gmm().is_some(), ep + 1 >= 50, "episode {ep}");
        }
        assert_eq!(t.fits(), 4);
        let g = t.gmm().unwrap();
        assert!((2..=9).contains(&g.n_components()) && g.dim() == 3);
        // Component choice ∝ mean ALP favours the learnable half.
        let low = (0..2000).filter(|_| t.sample_task()[0] < 1.5).count();
        assert!(low > 1500, "{low} of 2000 tasks in the learnable half");
    }

    #[test]
    fn high_expert_knowledge_bootstraps_from_the_initial_gaussian() {
        use crate::{DiagonalGaussian, RewardThresholds};
        let g = DiagonalGaussian {
            mean: vec![0.0, 6.0],
            std: vec![0.3, 0.6],
        };
        let ek = ExpertKnowledge::high(
            230.0,
            RewardThresholds {
                min_reward: 0.0,
                max_reward: 180.0,
            },
            g,
        );
        let mut t = AlpGmm::new(
            space(),
            2,
            AlpGmmConfig {
                expert_knowledge: ek,
                ..Default::default()
            },
        )
        .unwrap();
        let near = (0..1000).filter(|_| {
            let x = t.sample_task();
            x[0] < 1.0 && x[1] > 4.0
        });
        assert!(near.count() > 990);
    }

    #[test]
    fn history_logs_each_fit_and_the_episodes_after_it() {
        let cfg = AlpGmmConfig {
            fit_rate: 50,
            record_history: Some(true),
            ..AlpGmmConfig::default()
        };
        let mut t = AlpGmm::new(space(), 3, cfg.clone()).unwrap();
        let mut plain = AlpGmm::new(
            space(),
            3,
            AlpGmmConfig {
                record_history: None,
                return_range: None,
                ..cfg
            },
        )
        .unwrap();
        for ep in 0..175u32 {
            let task = t.sample_task();
            // Recording never changes the decisions.
            assert_eq!(task, plain.sample_task());
            let r = if task[0] < 1.5 { f64::from(ep) } else { 0.0 };
            t.update(&task, &EpisodeOutcome::new(r, false, 1)).unwrap();
            plain
                .update(&task, &EpisodeOutcome::new(r, false, 1))
                .unwrap();
        }
        let h = t.history();
        assert_eq!(h.fits.len(), 3);
        assert_eq!(
            h.fits.iter().map(|f| f.episode).collect::<Vec<_>>(),
            vec![50, 100, 150]
        );
        assert_eq!(
            h.fits.iter().map(|f| f.episodes.len()).collect::<Vec<_>>(),
            vec![50, 50, 25]
        );
        let g = t.gmm().unwrap();
        let last = h.fits.last().unwrap();
        assert_eq!(last.gaussians.len(), g.n_components());
        assert_eq!(last.gaussians[0].mean_alp(), g.mean(0)[2]);
        assert_eq!(last.gmm().unwrap().mean(0), g.mean(0));
        let e = &last.episodes;
        assert_eq!(e.tasks.len(), 2 * e.len());
        // Most tasks after a fit come from its Gaussians (5 % are uniform, origin -1).
        let drawn = e.origins.iter().filter(|&&o| o >= 0).count();
        assert!(drawn >= 20, "{:?}", e.origins);
        assert!(e
            .origins
            .iter()
            .all(|&o| o >= -1 && (o as i64) < last.gaussians.len() as i64));
        // The state round-trips with its history.
        let bytes = t.save_state().unwrap();
        let mut restored = AlpGmm::new(space(), 0, t.config().clone()).unwrap();
        restored.load_state(&bytes).unwrap();
        assert_eq!(restored.history(), t.history());
        assert!(plain.history().fits.is_empty());
    }

    #[test]
    fn rejects_bad_config() {
        for cfg in [
            AlpGmmConfig {
                fit_rate: 1,
                ..Default::default()
            },
            AlpGmmConfig {
                min_k: 5,
                max_k: 4,
                ..Default::default()
            },
            AlpGmmConfig {
                random_task_ratio: 1.5,
                ..Default::default()
            },
        ] {
            assert!(matches!(
                AlpGmm::new(space(), 0, cfg),
                Err(TeacherError::Core(_))
            ));
        }
    }
}

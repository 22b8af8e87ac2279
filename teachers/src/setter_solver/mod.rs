//! Setter-Solver (Racanière, Lampinen et al., ICLR 2020, as TeachMyAgent reimplements it from
//! the authors' snippets): a *setter* network proposes goals of a requested feasibility, a
//! *judge* network predicts which goals the student (the solver) will succeed at.
//!
//! - Goals live in `[0, 1]^d` and are rescaled linearly onto the task space.
//! - **Setter**: a conditional RealNVP ([`realnvp`]): a latent `z ~ N(0, I_d)` and a feasibility
//!   `f` give a goal `g = setter(z, f)` and its log-density `log p(g | f)`.
//! - **Judge**: a ReLU MLP giving the logit of success of a goal.
//! - **Sampling**: `f ~ U(1e-8, 1)`, `z ~ N(0, I)`, `g = setter(z, f)`, task = rescaled `g`;
//!   `(g, z, f)` is remembered until the episode on that task is reported.
//! - **Update**: every `update_frequency` episodes, on the episodes gathered since the last
//!   training step (then forgotten):
//!   1. one Adam step of the judge on the sigmoid cross-entropy of success against `judge(g)`;
//!   2. one Adam step of the setter on the sum of three losses:
//!      - *feasibility* `mean (judge(setter(z, f)) − logit f)²` (through the new judge, whose
//!        weights stay fixed here),
//!      - *validity* `−mean log p(ĝ | f)` over the **successful** goals, `ĝ = g + U(0, ub)` per
//!        coordinate clipped to `[1e-4, 1 − 1e-4]`,
//!      - *coverage* `+mean log p(setter(z, f) | f)` (pushes the density down where it puts
//!        goals, i.e. spreads them).
//!
//! Expert knowledge: TeachMyAgent gives this teacher none at any level (it reads the episode's
//! success flag, which comes from the env); the config has no `expert_knowledge` field, as for
//! Random and RIAC.
//!
//! Quirks of the reference, reproduced:
//! 1. The judge has **two** hidden layers of 64, built from `([64, 64, 64] + [1])[1:]`.
//! 2. The `z` of the feasibility and coverage losses are the latents of the buffered goals (the
//!    reference recovers them with the setter's inverse), not fresh `N(0, I)` draws. We keep
//!    the latent each goal was drawn from instead of inverting: the setter has not changed
//!    since, so it is the same `z` up to rounding (and never an infinite logit of a goal whose
//!    sigmoid saturated, on which the reference's `check_numerics` would abort).
//! 3. The validity noise is one-sided, `U(0, ub)`, and clipped afterwards.
//! 4. One judge step then one setter step per update, each on the whole buffer; the setter's
//!    feasibility loss sees the judge after its step.
//! 5. The final sigmoid is not clipped: the reference's `ClippedSigmoid()` is built without a
//!    clip value.
//! 6. The coverage loss is `+mean log p` at those same points, not an entropy estimate from
//!    fresh samples.
//!
//! Deliberate differences:
//! 1. Visualisation ([`Teacher::non_exploratory_samples`]) draws from its own random stream
//!    (the reference's draws shift the curriculum).
//! 2. Several proposals may be pending at once (vector envs report episodes in any order); an
//!    episode is matched to the most recent proposal of exactly that task. The reference keeps
//!    one and raises "Wrong goal" on any other task; here an episode on a task the setter did not
//!    propose (or whose proposal was dropped, beyond [`MAX_PENDING_PROPOSALS`]) still trains the
//!    judge, on its rescaled task, and is left out of the setter's losses (its `z` and `f` are
//!    unknown).
//! 3. Without a successful goal in the buffer, the reference's validity loss is the mean of an
//!    empty set (NaN) with a zero gradient; we leave the term out (same gradient, finite loss).
//! 4. A step whose gradients are not finite is skipped and counted
//!    ([`SetterSolver::skipped_steps`]); the reference would abort.
//! 5. `f32` networks (the reference's graph is `float64`), Adam in PyTorch's form (ε added
//!    after the bias correction; TensorFlow adds ε̂ before it), `tanh` by `fast_tanh`.
//! 6. With one task dimension, couplings with nothing to transform are left out.

mod config;
pub mod realnvp;

use std::collections::VecDeque;

use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;
use teachgym_core::TaskSpace;
use teachgym_nn::checkpoint::AdamState;
use teachgym_nn::{Activation, Adam, AdamConfig, ForwardCache, Gradients, Mlp, MlpConfig};

pub use config::*;
use realnvp::{sigmoid, sonnet_initialise, ConditionalRealNvp, FlowGradients, FlowTape};

use crate::util::{decision_rng, visualisation_rng, TeacherRng};
use crate::{checkpoint, validate_update, EpisodeOutcome, Result, Teacher};

/// Lower bound of the requested feasibilities `f ~ U(MIN_FEASIBILITY, 1)` (reference: 1e-8).
pub const MIN_FEASIBILITY: f64 = 1e-8;
/// Noisy successful goals are clipped to `[VALIDITY_GOAL_CLIP, 1 − VALIDITY_GOAL_CLIP]` before
/// their logit is taken (reference: 1e-4).
pub const VALIDITY_GOAL_CLIP: f32 = 1e-4;
/// Most proposals awaiting their episode; beyond it the oldest is dropped (its episode, if
/// it ever comes, then trains the judge only).
pub const MAX_PENDING_PROPOSALS: usize = 4096;
/// Rows per batch when drawing many visualisation samples.
const SAMPLE_CHUNK: usize = 1024;

// ---------------------------------------------------------------------------------------------
// Setter and judge networks
// ---------------------------------------------------------------------------------------------

/// The judge: `d → judge_hidden_sizes (ReLU) → 1` logit, Sonnet's initialisation.
fn build_judge<R: Rng + ?Sized>(dim: usize, config: &SetterSolverConfig, rng: &mut R) -> Mlp {
    let mut judge = Mlp::from_seed(
        MlpConfig::new(dim, &config.judge_hidden_sizes, Activation::Relu, 1)
            .with_init(teachgym_nn::Init::ScaledUniform { scale: 0.0 }),
        0,
    )
    .unwrap_or_else(|e| unreachable!("validated judge shape: {e}"));
    sonnet_initialise(&mut judge, rng);
    judge
}

fn build_setter<R: Rng + ?Sized>(
    dim: usize,
    config: &SetterSolverConfig,
    rng: &mut R,
) -> ConditionalRealNvp {
    ConditionalRealNvp::new(
        dim,
        config.setter_flow_blocks,
        config.setter_highway_blocks,
        config.setter_hidden_size,
        rng,
    )
    .unwrap_or_else(|e| unreachable!("validated setter shape: {e}"))
}

fn adam_config(learning_rate: f32) -> AdamConfig {
    AdamConfig {
        learning_rate,
        ..AdamConfig::default()
    }
}

/// A goal the setter proposed, waiting for its episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Proposal {
    /// The task handed out (the rescaled goal).
    task: Vec<f64>,
    goal: Vec<f32>,
    latent: Vec<f32>,
    feasibility: f64,
}

/// One reported episode, until the next training step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BufferedEpisode {
    goal: Vec<f32>,
    /// `(latent, feasibility)` of the proposal, if the setter proposed this task.
    proposal: Option<(Vec<f32>, f64)>,
    success: bool,
}

/// Losses of the last training step.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SetterSolverLosses {
    /// Judge's mean sigmoid cross-entropy (before its step).
    pub judge: f64,
    /// Setter's feasibility loss (before its step).
    pub feasibility: f64,
    /// Setter's validity loss, 0 without successful goals.
    pub validity: f64,
    /// Setter's coverage loss.
    pub coverage: f64,
}

/// Reusable buffers of the passes (never saved: they hold no state).
#[derive(Debug)]
struct Workspace {
    sample_tape: FlowTape,
    setter_grads: FlowGradients,
    judge_grads: Gradients,
}

impl Workspace {
    fn new(setter: &ConditionalRealNvp, judge: &Mlp) -> Self {
        Self {
            sample_tape: FlowTape::default(),
            setter_grads: FlowGradients::zeros_like(setter),
            judge_grads: Gradients::zeros_like(judge),
        }
    }
}

/// The Setter-Solver teacher. See the [module docs](self).
#[derive(Debug)]
pub struct SetterSolver {
    config: SetterSolverConfig,
    space: TaskSpace,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    setter: ConditionalRealNvp,
    setter_optimizer: Adam,
    judge: Mlp,
    judge_optimizer: Adam,
    pending: VecDeque<Proposal>,
    buffer: Vec<BufferedEpisode>,
    episodes: u64,
    training_steps: u64,
    skipped_steps: u64,
    last_losses: SetterSolverLosses,
    work: Workspace,
}

impl SetterSolver {
    /// Registry name.
    pub const NAME: &'static str = "setter_solver";

    /// A Setter-Solver teacher over `space`, seeded with `seed` (networks drawn from the
    /// decision stream: setter first, then judge).
    ///
    /// # Errors
    /// [`crate::TeacherError::Core`] (`InvalidConfig`) naming the first invalid field.
    pub fn new(space: TaskSpace, seed: u64, config: SetterSolverConfig) -> Result<Self> {
        config.validate(&space)?;
        let mut rng = decision_rng(seed);
        let setter = build_setter(space.dim(), &config, &mut rng);
        let judge = build_judge(space.dim(), &config, &mut rng);
        let setter_lengths: Vec<usize> =
            setter.parameter_slices().iter().map(|s| s.len()).collect();
        let setter_optimizer =
            Adam::for_tensor_lengths(adam_config(config.setter_learning_rate), &setter_lengths)
                .map_err(|e| {
                    crate::TeacherError::config("setter_solver.setter_learning_rate", e.to_string())
                })?;
        let judge_optimizer =
            Adam::new(adam_config(config.judge_learning_rate), &judge).map_err(|e| {
                crate::TeacherError::config("setter_solver.judge_learning_rate", e.to_string())
            })?;
        Ok(Self {
            work: Workspace::new(&setter, &judge),
            config,
            space,
            rng,
            visualisation_rng: visualisation_rng(seed),
            setter,
            setter_optimizer,
            judge,
            judge_optimizer,
            pending: VecDeque::new(),
            buffer: Vec::new(),
            episodes: 0,
            training_steps: 0,
            skipped_steps: 0,
            last_losses: SetterSolverLosses::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SetterSolverConfig {
        &self.config
    }
    /// Episodes reported so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }
    /// Training steps taken (one judge step and one setter step each).
    pub fn training_steps(&self) -> u64 {
        self.training_steps
    }
    /// Steps skipped because a gradient was not finite.
    pub fn skipped_steps(&self) -> u64 {
        self.skipped_steps
    }
    /// Losses of the last training step.
    pub fn last_losses(&self) -> SetterSolverLosses {
        self.last_losses
    }

    /// The judge's predicted probability that the student succeeds on `task`.
    ///
    /// # Errors
    /// [`crate::TeacherError::Core`] for a task of the wrong length or out of bounds.
    pub fn judged_feasibility(&self, task: &[f64]) -> Result<f64> {
        self.space.validate(task)?;
        let goal = Array2::from_shape_vec((1, task.len()), self.goal_of(task))
            .unwrap_or_else(|_| unreachable!("one row of dim values"));
        let logit = judge_logits(&self.judge, &goal, &mut ForwardCache::default());
        Ok(logit.map_or(f64::NAN, |l| sigmoid(l[0]) as f64))
    }

    /// A task the setter proposes for feasibility `f` (clamped to `[MIN_FEASIBILITY, 1]`),
    /// drawn from the visualisation stream: it never changes the curriculum.
    pub fn propose_for_feasibility(&mut self, f: f64) -> Vec<f64> {
        let f = if f.is_nan() {
            0.5
        } else {
            f.clamp(MIN_FEASIBILITY, 1.0)
        };
        let latent = draw_latent(self.space.dim(), &mut self.visualisation_rng);
        let goal = setter_goal(&self.setter, &latent, f, &mut self.work.sample_tape)
            .unwrap_or_else(|| vec![0.5; self.space.dim()]);
        self.task_of(&goal)
    }

    /// The task of goal `goal` in `[0, 1]^d`: `low + g · (high − low)` per dimension, clipped.
    fn task_of(&self, goal: &[f32]) -> Vec<f64> {
        let task: Vec<f64> = self
            .space
            .dims()
            .iter()
            .zip(goal)
            .map(|(dim, &g)| dim.low + (g as f64).clamp(0.0, 1.0) * dim.range())
            .collect();
        self.space.clip(&task)
    }

    /// The goal in `[0, 1]^d` of a task (0.5 on a dimension of zero range).
    fn goal_of(&self, task: &[f64]) -> Vec<f32> {
        self.space
            .dims()
            .iter()
            .zip(task)
            .map(|(dim, &t)| {
                if dim.range() > 0.0 {
                    ((t - dim.low) / dim.range()).clamp(0.0, 1.0) as f32
                } else {
                    0.5
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling
// ---------------------------------------------------------------------------------------------

/// `f ~ U(MIN_FEASIBILITY, 1)`.
fn draw_feasibility<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    MIN_FEASIBILITY + (1.0 - MIN_FEASIBILITY) * rng.random::<f64>()
}

/// `z ~ N(0, I_dim)`.
fn draw_latent<R: Rng + ?Sized>(dim: usize, rng: &mut R) -> Vec<f32> {
    (0..dim).map(|_| standard_normal(rng) as f32).collect()
}

/// `setter(z, f)`, or `None` if the setter's output is not finite (a diverged setter; never
/// seen with finite weights).
fn setter_goal(
    setter: &ConditionalRealNvp,
    latent: &[f32],
    f: f64,
    tape: &mut FlowTape,
) -> Option<Vec<f32>> {
    let z = Array2::from_shape_vec((1, latent.len()), latent.to_vec()).ok()?;
    let (goals, _) = setter.sample(z.view(), &[f as f32], tape).ok()?;
    let goal = goals.into_raw_vec_and_offset().0;
    goal.iter().all(|g| g.is_finite()).then_some(goal)
}

impl Teacher for SetterSolver {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn task_space(&self) -> &TaskSpace {
        &self.space
    }

    fn sample_task(&mut self) -> Vec<f64> {
        let feasibility = draw_feasibility(&mut self.rng);
        let latent = draw_latent(self.space.dim(), &mut self.rng);
        let goal = setter_goal(
            &self.setter,
            &latent,
            feasibility,
            &mut self.work.sample_tape,
        )
        .unwrap_or_else(|| vec![0.5; self.space.dim()]);
        let task = self.task_of(&goal);
        if self.pending.len() == MAX_PENDING_PROPOSALS {
            self.pending.pop_front();
        }
        self.pending.push_back(Proposal {
            task: task.clone(),
            goal,
            latent,
            feasibility,
        });
        task
    }

    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> Result<()> {
        validate_update(&self.space, task, outcome)?;
        let episode = match self.pending.iter().rposition(|p| p.task == task) {
            Some(i) => {
                let p = self
                    .pending
                    .remove(i)
                    .unwrap_or_else(|| unreachable!("index from rposition"));
                BufferedEpisode {
                    goal: p.goal,
                    proposal: Some((p.latent, p.feasibility)),
                    success: outcome.success,
                }
            }
            None => BufferedEpisode {
                goal: self.goal_of(task),
                proposal: None,
                success: outcome.success,
            },
        };
        self.buffer.push(episode);
        self.episodes = self.episodes.saturating_add(1);
        if self.episodes % self.config.update_frequency as u64 == 0 {
            self.train();
            self.buffer.clear();
        }
        Ok(())
    }

    fn non_exploratory_samples(&mut self, n: usize) -> Option<Vec<Vec<f64>>> {
        let dim = self.space.dim();
        let mut tasks = Vec::with_capacity(n);
        let mut tape = FlowTape::default();
        while tasks.len() < n {
            let rows = (n - tasks.len()).min(SAMPLE_CHUNK);
            let f: Vec<f32> = (0..rows)
                .map(|_| draw_feasibility(&mut self.visualisation_rng) as f32)
                .collect();
            let z = Array2::from_shape_fn((rows, dim), |_| {
                standard_normal(&mut self.visualisation_rng) as f32
            });
            match self.setter.sample(z.view(), &f, &mut tape) {
                Ok((goals, _)) => tasks.extend(goals.rows().into_iter().map(|g| {
                    let g: Vec<f32> = g
                        .iter()
                        .map(|&v| if v.is_finite() { v } else { 0.5 })
                        .collect();
                    self.task_of(&g)
                })),
                Err(_) => tasks.extend((0..rows).map(|_| self.task_of(&vec![0.5; dim]))),
            }
        }
        Some(tasks)
    }

    fn save_state(&self) -> Result<Vec<u8>> {
        checkpoint::save(Self::NAME, &SavedState::of(self))
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let saved: SavedState = checkpoint::load(Self::NAME, bytes)?;
        checkpoint::check_same_space(&self.space, &saved.space)?;
        *self = saved.restore()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

/// The judge's logits of `goals` (`batch × d`), one per row.
fn judge_logits(judge: &Mlp, goals: &Array2<f32>, cache: &mut ForwardCache) -> Option<Vec<f32>> {
    Some(
        judge
            .forward(goals.view(), cache)
            .ok()?
            .iter()
            .copied()
            .collect(),
    )
}

/// Mean sigmoid cross-entropy of `labels` against `logits`, and its gradient per logit,
/// `(sigmoid(l) − y) / n`.
pub(crate) fn cross_entropy(logits: &[f32], labels: &[f32]) -> (f64, Vec<f32>) {
    let n = logits.len() as f32;
    let mut loss = 0.0f64;
    let grads = logits
        .iter()
        .zip(labels)
        .map(|(&l, &y)| {
            // max(l, 0) − l·y + log(1 + e^−|l|), TensorFlow's stable form.
            loss += (l.max(0.0) - l * y + libm::log1pf(libm::expf(-l.abs()))) as f64;
            (sigmoid(l) - y) / n
        })
        .collect();
    (loss / logits.len() as f64, grads)
}

/// One setter batch: the proposals' latents, conditions and target logits, and the noisy
/// successful goals with their conditions.
#[derive(Debug, Clone)]
pub(crate) struct SetterBatch {
    pub(crate) latents: Array2<f32>,
    pub(crate) conditions: Vec<f32>,
    pub(crate) target_logits: Vec<f32>,
    pub(crate) valid_goals: Array2<f32>,
    pub(crate) valid_conditions: Vec<f32>,
}

/// The setter's feasibility, validity and coverage losses on `batch` (see the
/// [module docs](self)), and, given `grads` (zeroed by the caller), their summed gradient.
pub(crate) fn setter_losses(
    setter: &ConditionalRealNvp,
    judge: &Mlp,
    batch: &SetterBatch,
    grads: Option<(&mut FlowGradients, &mut Gradients)>,
) -> realnvp::NnResult<SetterSolverLosses> {
    let m = batch.latents.nrows();
    let mut tape = FlowTape::default();
    let (goals, log_p) = setter.sample(batch.latents.view(), &batch.conditions, &mut tape)?;
    let mut cache = ForwardCache::default();
    let judged = judge.forward(goals.view(), &mut cache)?.to_owned();
    let diffs: Vec<f32> = judged
        .iter()
        .zip(&batch.target_logits)
        .map(|(&j, &t)| j - t)
        .collect();
    let mean =
        |v: &mut dyn Iterator<Item = f32>, n: usize| v.map(f64::from).sum::<f64>() / n as f64;
    let feasibility = mean(&mut diffs.iter().map(|d| d * d), m);
    let coverage = mean(&mut log_p.iter().copied(), m);
    let k = batch.valid_goals.nrows();
    let mut valid = None;
    let validity = if k > 0 {
        let mut tape = FlowTape::default();
        let (z, log_q) =
            setter.infer(batch.valid_goals.view(), &batch.valid_conditions, &mut tape)?;
        let loss = -mean(&mut log_q.iter().copied(), k);
        valid = Some((tape, z));
        loss
    } else {
        0.0
    };
    if let Some((setter_grads, judge_scratch)) = grads {
        let d_judged = Array2::from_shape_fn((m, 1), |(r, _)| 2.0 * diffs[r] / m as f32);
        let d_goals = judge.input_gradient(&cache, d_judged.view(), judge_scratch)?;
        setter.sample_backward(
            &tape,
            d_goals.view(),
            &vec![1.0 / m as f32; m],
            setter_grads,
        )?;
        if let Some((tape, z)) = valid {
            setter.infer_backward(&tape, z.view(), &vec![-1.0 / k as f32; k], setter_grads)?;
        }
    }
    Ok(SetterSolverLosses {
        judge: 0.0,
        feasibility,
        validity,
        coverage,
    })
}

impl SetterSolver {
    /// One training step on the buffer: the judge, then the setter.
    fn train(&mut self) {
        let dim = self.space.dim();
        let n = self.buffer.len();
        if n == 0 {
            return;
        }
        self.training_steps = self.training_steps.saturating_add(1);
        let goals = Array2::from_shape_fn((n, dim), |(r, j)| self.buffer[r].goal[j]);
        let labels: Vec<f32> = self
            .buffer
            .iter()
            .map(|e| if e.success { 1.0 } else { 0.0 })
            .collect();
        let mut cache = ForwardCache::default();
        let mut stepped = false;
        if let Some(logits) = judge_logits(&self.judge, &goals, &mut cache) {
            let (loss, d_logits) = cross_entropy(&logits, &labels);
            self.last_losses.judge = loss;
            let d = Array2::from_shape_vec((n, 1), d_logits)
                .unwrap_or_else(|_| unreachable!("one gradient per row"));
            stepped = self
                .judge
                .backward(&cache, d.view(), &mut self.work.judge_grads)
                .and_then(|()| {
                    self.judge_optimizer
                        .step(&mut self.judge, &self.work.judge_grads)
                })
                .is_ok();
        }
        if !stepped {
            self.skipped_steps = self.skipped_steps.saturating_add(1);
        }
        let batch = self.setter_batch();
        if batch.latents.nrows() == 0 {
            return;
        }
        self.work.setter_grads.zero();
        let result = setter_losses(
            &self.setter,
            &self.judge,
            &batch,
            Some((&mut self.work.setter_grads, &mut self.work.judge_grads)),
        )
        .and_then(|losses| {
            self.setter_optimizer.step_slices(
                &mut self.setter.parameter_slices_mut(),
                &self.work.setter_grads.slices(),
            )?;
            Ok(losses)
        });
        match result {
            Ok(losses) => {
                self.last_losses = SetterSolverLosses {
                    judge: self.last_losses.judge,
                    ..losses
                }
            }
            Err(_) => self.skipped_steps += 1,
        }
    }

    /// The setter's batch from the buffer; draws the validity noise from the decision stream
    /// (successful proposals in buffer order, coordinates in order).
    fn setter_batch(&mut self) -> SetterBatch {
        let dim = self.space.dim();
        let proposed: Vec<(&BufferedEpisode, &Vec<f32>, f64)> = self
            .buffer
            .iter()
            .filter_map(|e| e.proposal.as_ref().map(|(z, f)| (e, z, *f)))
            .collect();
        let latents = Array2::from_shape_fn((proposed.len(), dim), |(r, j)| proposed[r].1[j]);
        let conditions = proposed.iter().map(|p| p.2 as f32).collect();
        // logit f in f64: f32 would round f close to 1 up to 1 exactly.
        let target_logits = proposed
            .iter()
            .map(|p| (libm::log(p.2) - libm::log1p(-p.2)) as f32)
            .collect();
        let successes: Vec<_> = proposed.iter().filter(|p| p.0.success).collect();
        let ub = self.config.setter_loss_noise_ub;
        let mut valid_goals = Array2::zeros((successes.len(), dim));
        for (r, p) in successes.iter().enumerate() {
            for j in 0..dim {
                let noise = ub * self.rng.random::<f64>();
                valid_goals[(r, j)] = ((p.0.goal[j] as f64 + noise) as f32)
                    .clamp(VALIDITY_GOAL_CLIP, 1.0 - VALIDITY_GOAL_CLIP);
            }
        }
        let valid_conditions = successes.iter().map(|p| p.2 as f32).collect();
        SetterBatch {
            latents,
            conditions,
            target_logits,
            valid_goals,
            valid_conditions,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/// Everything [`SetterSolver`] needs to continue exactly: networks as parameter tensors, the
/// optimisers' moments, the random streams, the pending proposals and the buffer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedState {
    config: SetterSolverConfig,
    space: TaskSpace,
    rng: TeacherRng,
    visualisation_rng: TeacherRng,
    setter_parameters: Vec<Vec<f32>>,
    setter_optimizer: AdamState,
    judge_parameters: Vec<Vec<f32>>,
    judge_optimizer: AdamState,
    pending: VecDeque<Proposal>,
    buffer: Vec<BufferedEpisode>,
    episodes: u64,
    training_steps: u64,
    skipped_steps: u64,
    last_losses: SetterSolverLosses,
}

/// Copies `saved` into `target` after checking tensor count, lengths and finiteness.
fn copy_parameters(what: &str, saved: &[Vec<f32>], mut target: Vec<&mut [f32]>) -> Result<()> {
    checkpoint::ensure(
        saved.len() == target.len()
            && saved.iter().zip(&target).all(|(s, t)| s.len() == t.len())
            && saved.iter().flatten().all(|v| v.is_finite()),
        || format!("{what} parameters do not fit the configured network or are not finite"),
    )?;
    for (t, s) in target.iter_mut().zip(saved) {
        t.copy_from_slice(s);
    }
    Ok(())
}

impl SavedState {
    fn of(t: &SetterSolver) -> Self {
        let owned = |slices: Vec<&[f32]>| slices.into_iter().map(<[f32]>::to_vec).collect();
        Self {
            config: t.config.clone(),
            space: t.space.clone(),
            rng: t.rng.clone(),
            visualisation_rng: t.visualisation_rng.clone(),
            setter_parameters: owned(t.setter.parameter_slices()),
            setter_optimizer: AdamState::capture(&t.setter_optimizer),
            judge_parameters: owned(t.judge.parameter_slices()),
            judge_optimizer: AdamState::capture(&t.judge_optimizer),
            pending: t.pending.clone(),
            buffer: t.buffer.clone(),
            episodes: t.episodes,
            training_steps: t.training_steps,
            skipped_steps: t.skipped_steps,
            last_losses: t.last_losses,
        }
    }

    fn restore(self) -> Result<SetterSolver> {
        // Networks of the configured shape (any weights), then the saved ones copied in.
        let mut t = SetterSolver::new(self.space.clone(), 0, self.config.clone())
            .map_err(|e| checkpoint::corrupt(format!("setter_solver config: {e}")))?;
        copy_parameters(
            "setter",
            &self.setter_parameters,
            t.setter.parameter_slices_mut(),
        )?;
        copy_parameters(
            "judge",
            &self.judge_parameters,
            t.judge.parameter_slices_mut(),
        )?;
        let optimizer = |what: &str, state: &AdamState, fresh: Adam| {
            state
                .restore_into(fresh)
                .map_err(|e| checkpoint::corrupt(format!("{what} optimiser: {e}")))
        };
        t.setter_optimizer =
            optimizer("setter", &self.setter_optimizer, t.setter_optimizer.clone())?;
        t.judge_optimizer = optimizer("judge", &self.judge_optimizer, t.judge_optimizer.clone())?;
        let dim = self.space.dim();
        let goal_ok = |g: &[f32]| g.len() == dim && g.iter().all(|v| (0.0..=1.0).contains(v));
        let f_ok = |f: f64| (MIN_FEASIBILITY..=1.0).contains(&f);
        let latent_ok = |z: &[f32]| z.len() == dim && z.iter().all(|v| v.is_finite());
        checkpoint::ensure(
            self.pending.len() <= MAX_PENDING_PROPOSALS
                && self.pending.iter().all(|p| {
                    self.space.contains(&p.task)
                        && goal_ok(&p.goal)
                        && latent_ok(&p.latent)
                        && f_ok(p.feasibility)
                })
                && self.buffer.iter().all(|e| {
                    goal_ok(&e.goal)
                        && e.proposal
                            .as_ref()
                            .is_none_or(|(z, f)| latent_ok(z) && f_ok(*f))
                })
                && self.buffer.len() as u64 == self.episodes % self.config.update_frequency as u64
                && self.skipped_steps <= 2 * self.training_steps,
            || "setter_solver proposals, buffer or counters are inconsistent".into(),
        )?;
        t.rng = self.rng;
        t.visualisation_rng = self.visualisation_rng;
        t.pending = self.pending;
        t.buffer = self.buffer;
        t.episodes = self.episodes;
        t.training_steps = self.training_steps;
        t.skipped_steps = self.skipped_steps;
        t.last_losses = self.last_losses;
        Ok(t)
    }
}

#[cfg(test)]
mod tests;

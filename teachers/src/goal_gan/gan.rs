//! The goal GAN: a generator from noise to goals and a discriminator scoring goals, trained
//! with least-squares GAN losses and TensorFlow 1's RMSProp (rllab-curriculum's `FCGAN` with
//! its `lsgan` losses, as TeachMyAgent runs it). Goals are in the normalised coordinates of
//! [`GoalScaling`]; the teacher maps them to and from the task space.

use ndarray::{Array2, ArrayView2};
use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;
use teachgym_core::TaskSpace;
use teachgym_nn::{
    Activation, Checkpoint, ForwardCache, Gradients, InferenceBuffers, Init, LayerConfig, Mlp,
    MlpConfig, NnError, RmsProp, RmsPropConfig,
};

use super::GoalGanConfig;

/// Added to every half-range so that a dimension with `min == max` does not divide by zero
/// (TeachMyAgent's `state_range = 0.5 · (max − min) + 1e-6`).
pub const GOAL_GAN_RANGE_EPSILON: f64 = 1e-6;

/// The generator's coordinates: `center = min + (max − min) / 2`,
/// `range = (max − min) / 2 + 1e-6`. A goal `g` is given to the networks as
/// `(g − center) / (2·range)`, within [−0.5, 0.5], and a generator output `o ∈ [−1, 1]` (tanh)
/// maps back to `center + o·2·range`, which spans twice the task space: outputs beyond ±0.5
/// land outside and are clipped (reproduced, see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GoalScaling {
    pub(crate) center: Vec<f64>,
    pub(crate) range: Vec<f64>,
}

impl GoalScaling {
    pub(crate) fn new(space: &TaskSpace) -> Self {
        let (center, range) = space
            .dims()
            .iter()
            .map(|d| {
                let half = 0.5 * (d.high - d.low);
                (d.low + half, half + GOAL_GAN_RANGE_EPSILON)
            })
            .unzip();
        Self { center, range }
    }

    /// Appends the network coordinates of `goal` to `out`.
    pub(crate) fn normalise_into(&self, goal: &[f64], out: &mut Vec<f32>) {
        out.extend(
            goal.iter()
                .zip(self.center.iter().zip(&self.range))
                .map(|(&g, (&c, &r))| ((g - c) / (2.0 * r)) as f32),
        );
    }

    /// The task-space point of a generator output (not clipped).
    pub(crate) fn denormalise(&self, output: &[f32]) -> Vec<f64> {
        output
            .iter()
            .zip(self.center.iter().zip(&self.range))
            .map(|(&o, (&c, &r))| c + o as f64 * 2.0 * r)
            .collect()
    }
}

/// Generator losses and discriminator losses of the last outer iteration of a training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GanLosses {
    /// `mean((2y − 1 − D(x))²)` over the labelled and generated goals of the last batch.
    pub discriminator: f32,
    /// `mean((D(G(z)) − 1)²)` over the last batch of noise.
    pub generator: f32,
}

/// Both networks and their optimisers. Serialised as [`GanState`] (weights and RMSProp mean
/// squares, exact); the scratch buffers are rebuilt on load.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "GanState", into = "GanState")]
pub(crate) struct Gan {
    generator: Mlp,
    discriminator: Mlp,
    generator_optimizer: RmsProp,
    discriminator_optimizer: RmsProp,
    scratch: Scratch,
}

/// Reused buffers of sampling and training (never serialised).
#[derive(Debug, Clone)]
struct Scratch {
    inference: InferenceBuffers,
    noise_one: Vec<f32>,
    generator_cache: ForwardCache,
    discriminator_cache: ForwardCache,
    generated_cache: ForwardCache,
    generator_grads: Gradients,
    discriminator_grads: Gradients,
}

impl Scratch {
    fn for_networks(generator: &Mlp, discriminator: &Mlp) -> Self {
        Self {
            inference: InferenceBuffers::default(),
            noise_one: Vec::new(),
            generator_cache: ForwardCache::default(),
            discriminator_cache: ForwardCache::default(),
            generated_cache: ForwardCache::default(),
            generator_grads: Gradients::zeros_like(generator),
            discriminator_grads: Gradients::zeros_like(discriminator),
        }
    }
}

/// The serialised form of [`Gan`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GanState {
    generator: Checkpoint,
    discriminator: Checkpoint,
    generator_optimizer: RmsProp,
    discriminator_optimizer: RmsProp,
}

impl From<Gan> for GanState {
    fn from(gan: Gan) -> Self {
        Self {
            generator: Checkpoint::capture(&gan.generator, None),
            discriminator: Checkpoint::capture(&gan.discriminator, None),
            generator_optimizer: gan.generator_optimizer,
            discriminator_optimizer: gan.discriminator_optimizer,
        }
    }
}

impl TryFrom<GanState> for Gan {
    type Error = NnError;

    fn try_from(state: GanState) -> Result<Self, NnError> {
        let (generator, _) = state.generator.restore()?;
        let (discriminator, _) = state.discriminator.restore()?;
        state.generator_optimizer.check_matches(&generator)?;
        state
            .discriminator_optimizer
            .check_matches(&discriminator)?;
        Ok(Self {
            scratch: Scratch::for_networks(&generator, &discriminator),
            generator,
            discriminator,
            generator_optimizer: state.generator_optimizer,
            discriminator_optimizer: state.discriminator_optimizer,
        })
    }
}

/// The generator of `config` over a `task_dim`-dimensional space: noise → hidden ReLU layers →
/// tanh output, Glorot-uniform weights and zero biases (TensorFlow's `xavier_initializer`).
pub(crate) fn generator_config(config: &GoalGanConfig, task_dim: usize) -> MlpConfig {
    network_config(
        config.noise_dim_for(task_dim),
        &config.generator_hidden,
        Activation::Relu,
        task_dim,
        Activation::Tanh,
    )
}

/// The discriminator of `config`: goal → hidden leaky-ReLU layers (slope 0.1) → one linear
/// output.
pub(crate) fn discriminator_config(config: &GoalGanConfig, task_dim: usize) -> MlpConfig {
    network_config(
        task_dim,
        &config.discriminator_hidden,
        Activation::LeakyRelu,
        1,
        Activation::Identity,
    )
}

fn network_config(
    inputs: usize,
    hidden: &[usize],
    hidden_activation: Activation,
    outputs: usize,
    output_activation: Activation,
) -> MlpConfig {
    let init = Init::GlorotUniform { gain: 1.0 };
    let layers = hidden
        .iter()
        .map(|&units| (units, hidden_activation))
        .chain(std::iter::once((outputs, output_activation)))
        .map(|(outputs, activation)| LayerConfig {
            outputs,
            activation,
            init,
        })
        .collect();
    MlpConfig { inputs, layers }
}

impl Gan {
    /// Fresh networks for `config` over `task_dim` dimensions, drawn from `rng` (generator
    /// first).
    pub(crate) fn new<R: Rng + ?Sized>(
        config: &GoalGanConfig,
        task_dim: usize,
        rng: &mut R,
    ) -> Result<Self, NnError> {
        let generator = Mlp::new(generator_config(config, task_dim), rng)?;
        let discriminator = Mlp::new(discriminator_config(config, task_dim), rng)?;
        let optimizer = RmsPropConfig {
            learning_rate: config.learning_rate,
            ..RmsPropConfig::default()
        };
        Ok(Self {
            generator_optimizer: RmsProp::new(optimizer, &generator)?,
            discriminator_optimizer: RmsProp::new(optimizer, &discriminator)?,
            scratch: Scratch::for_networks(&generator, &discriminator),
            generator,
            discriminator,
        })
    }

    /// Whether the networks and optimisers are those `config` builds (shapes, activations,
    /// learning rate), for checkpoint validation.
    pub(crate) fn matches(&self, config: &GoalGanConfig, task_dim: usize) -> bool {
        let optimizer_ok = |o: &RmsProp| o.config().learning_rate == config.learning_rate;
        // Initialisations are not part of the trained state.
        let same = |a: &MlpConfig, b: &MlpConfig| {
            a.inputs == b.inputs
                && a.layers.len() == b.layers.len()
                && a.layers
                    .iter()
                    .zip(&b.layers)
                    .all(|(x, y)| x.outputs == y.outputs && x.activation == y.activation)
        };
        same(self.generator.config(), &generator_config(config, task_dim))
            && same(
                self.discriminator.config(),
                &discriminator_config(config, task_dim),
            )
            && optimizer_ok(&self.generator_optimizer)
            && optimizer_ok(&self.discriminator_optimizer)
    }

    /// Whether every weight and every RMSProp mean square is finite (a training with a huge
    /// learning rate can overflow without producing a NaN gradient).
    pub(crate) fn is_finite(&self) -> bool {
        let finite = |net: &Mlp| {
            net.parameter_slices()
                .iter()
                .all(|s| s.iter().all(|v| v.is_finite()))
        };
        finite(&self.generator)
            && finite(&self.discriminator)
            && self
                .generator_optimizer
                .check_matches(&self.generator)
                .is_ok()
            && self
                .discriminator_optimizer
                .check_matches(&self.discriminator)
                .is_ok()
    }

    /// One generator output (normalised coordinates) for fresh noise from `rng`; `None` if the
    /// networks produced a non-finite value.
    pub(crate) fn generate<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Vec<f32>> {
        let Scratch {
            inference,
            noise_one,
            ..
        } = &mut self.scratch;
        noise_one.clear();
        noise_one.extend((0..self.generator.inputs()).map(|_| standard_normal(rng) as f32));
        let out = self.generator.forward_one(noise_one, inference).ok()?;
        out.iter().all(|v| v.is_finite()).then(|| out.to_vec())
    }

    /// `outer_iters` iterations of one discriminator step and one generator step (rllab's
    /// `FCGAN.train` with one iteration of each):
    ///
    /// 1. the next `batch_size` labelled goals of `goals` (`n × d`, normalised, row-major),
    ///    taken cyclically from the start (all of them when `n ≤ batch_size`), with targets
    ///    `2y − 1`, plus `batch_size` goals generated from fresh noise `z`, with target −1;
    ///    one RMSProp step on `mean((target − D(x))²)`;
    /// 2. one RMSProp step of the generator on `mean((D(G(z)) − 1)²)` with the **same** noise
    ///    `z` (the reference draws fresh noise only from its 7th generator iteration, so never
    ///    with one), through the just-updated discriminator.
    ///
    /// Returns the losses of the last iteration.
    ///
    /// # Errors
    /// [`NnError::NonFinite`] if training diverged to NaN/∞ (the networks may then be partly
    /// updated; the caller restores them).
    pub(crate) fn train<R: Rng + ?Sized>(
        &mut self,
        goals: &[f32],
        labels: &[f32],
        outer_iters: usize,
        batch_size: usize,
        rng: &mut R,
    ) -> Result<Option<GanLosses>, NnError> {
        let d = self.generator.outputs();
        let n = labels.len();
        if n == 0 || goals.len() != n * d {
            return Err(NnError::ShapeMismatch {
                what: "labelled goals",
                expected: format!("({n} ≥ 1) × {d} values"),
                got: format!("{} values", goals.len()),
            });
        }
        let noise_dim = self.generator.inputs();
        let real_rows = n.min(batch_size);
        let rows = real_rows + batch_size;
        let mut noise = Array2::<f32>::zeros((batch_size, noise_dim));
        let mut inputs = Array2::<f32>::zeros((rows, d));
        let mut targets = vec![-1.0f32; rows];
        let mut d_output_gradient = Array2::<f32>::zeros((rows, 1));
        let mut g_output_gradient = Array2::<f32>::zeros((batch_size, 1));
        let mut start = 0usize;
        let mut losses = None;
        let Scratch {
            generator_cache,
            discriminator_cache,
            generated_cache,
            generator_grads,
            discriminator_grads,
            ..
        } = &mut self.scratch;
        for _ in 0..outer_iters {
            // Labelled batch: rllab's `batch_feed_array` (cyclic, wrapping to the start).
            {
                let real = inputs
                    .as_slice_mut()
                    .expect("owned arrays are in standard layout");
                for r in 0..real_rows {
                    let index = if n <= batch_size { r } else { (start + r) % n };
                    real[r * d..(r + 1) * d].copy_from_slice(&goals[index * d..(index + 1) * d]);
                    targets[r] = 2.0 * labels[index] - 1.0;
                }
            }
            if n > batch_size {
                start = (start + batch_size) % n;
            }
            noise
                .iter_mut()
                .for_each(|z| *z = standard_normal(rng) as f32);
            let generated = self.generator.forward(noise.view(), generator_cache)?;
            inputs
                .slice_mut(ndarray::s![real_rows.., ..])
                .assign(&generated);

            // Discriminator step.
            let scores = self
                .discriminator
                .forward(inputs.view(), discriminator_cache)?;
            let mut d_loss = 0.0f32;
            for ((g, &s), &t) in d_output_gradient.iter_mut().zip(scores).zip(&targets) {
                let e = t - s;
                d_loss += e * e;
                *g = -2.0 * e / rows as f32;
            }
            d_loss /= rows as f32;
            self.discriminator.backward(
                discriminator_cache,
                d_output_gradient.view(),
                discriminator_grads,
            )?;
            self.discriminator_optimizer
                .step(&mut self.discriminator, discriminator_grads)?;

            // Generator step on the same noise; the generator has not changed since it produced
            // `generated`, so its cache is still that of G(z).
            let generated = generator_cache
                .output()
                .expect("the generator ran forward above");
            let scores = self.discriminator.forward(generated, generated_cache)?;
            let mut g_loss = 0.0f32;
            for (g, &s) in g_output_gradient.iter_mut().zip(scores) {
                let e = s - 1.0;
                g_loss += e * e;
                *g = 2.0 * e / batch_size as f32;
            }
            g_loss /= batch_size as f32;
            let goal_gradient = self.discriminator.input_gradient(
                generated_cache,
                g_output_gradient.view(),
                discriminator_grads,
            )?;
            self.generator
                .backward(generator_cache, goal_gradient.view(), generator_grads)?;
            self.generator_optimizer
                .step(&mut self.generator, generator_grads)?;
            losses = Some(GanLosses {
                discriminator: d_loss,
                generator: g_loss,
            });
        }
        Ok(losses)
    }

    /// Discriminator scores of normalised goals (`n × d`), for diagnostics and tests.
    pub(crate) fn discriminate(&self, goals: ArrayView2<'_, f32>) -> Result<Vec<f32>, NnError> {
        Ok(self.discriminator.predict(goals)?.iter().copied().collect())
    }
}

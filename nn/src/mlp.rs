//! The multi-layer perceptron: configuration, seeded initialisation, the batched forward pass
//! that caches activations for backprop, the allocation-free single-observation path, and
//! analytic backprop into [`Gradients`].
//!
//! Weights are stored `inputs × outputs` (row-major), so a batch `X` (`batch × inputs`) maps to
//! `act(X · W + b)`. Forward and backward passes use the fixed-order kernels of
//! [`crate::kernel`], so [`Mlp::forward`], [`Mlp::predict`] and [`Mlp::forward_one`] are
//! bit-identical, and outputs, gradients and so trained weights are the same on every x86-64
//! CPU (ndarray's GEMM would pick an FMA kernel at run time where the CPU has one).

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{check_finite, NnError, Result};
use crate::gradients::{Gradients, LayerGradients};
use crate::init::Init;
use crate::kernel::{affine_forward, matmul_a_bt, matmul_at_b};

/// One layer of an [`MlpConfig`]: its width, non-linearity and initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerConfig {
    /// Number of units (outputs) of the layer, ≥ 1.
    pub outputs: usize,
    /// Non-linearity applied after the affine map.
    pub activation: Activation,
    /// How the layer's weights and biases are drawn.
    pub init: Init,
}

/// Shape, activations and initialisation of an [`Mlp`].
///
/// # Example
/// ```
/// use teachgym_nn::{Activation, MlpConfig};
/// // 24 → 64 → 64 → 4, tanh hidden layers, policy head initialised with gain 0.01 (CleanRL).
/// let config = MlpConfig::new(24, &[64, 64], Activation::Tanh, 4).with_output_gain(0.01);
/// assert_eq!(config.layer_sizes(), vec![24, 64, 64, 4]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Width of the input (observation size), ≥ 1.
    pub inputs: usize,
    /// The layers from input to output; the last one is the output layer. At least one.
    pub layers: Vec<LayerConfig>,
}

/// Widest layer (units) an [`MlpConfig`] may have: ten times TeachMyAgent's 400.
pub const MAX_LAYER_WIDTH: usize = 4096;
/// Most hidden layers an [`MlpConfig`] may have.
pub const MAX_HIDDEN_LAYERS: usize = 16;
/// Most weights and biases an [`Mlp`] may hold: 2^25, 128 MiB of `f32` (four times that with
/// gradients and Adam's moments). TeachMyAgent's 400-300 network has 130 000.
pub const MAX_PARAMETERS: usize = 1 << 25;

/// Checks the hidden widths `sizes` of a network configuration field `field`: each in
/// `1..=MAX_LAYER_WIDTH`, at most [`MAX_HIDDEN_LAYERS`] of them, and at most
/// [`MAX_PARAMETERS`] weights between them (the input and output layers are checked when the
/// network is built, by [`MlpConfig::validate`]). For the students' `validate`.
///
/// # Errors
/// [`NnError::InvalidConfig`] naming `field` and the widths.
pub fn validate_hidden_sizes(field: &'static str, sizes: &[usize]) -> Result<()> {
    if sizes.len() > MAX_HIDDEN_LAYERS {
        return Err(invalid(
            field,
            format!(
                "has {} layers, at most {MAX_HIDDEN_LAYERS} are allowed",
                sizes.len()
            ),
        ));
    }
    if let Some(w) = sizes.iter().find(|&&w| !(1..=MAX_LAYER_WIDTH).contains(&w)) {
        return Err(invalid(
            field,
            format!("widths must be in 1..={MAX_LAYER_WIDTH}, got {w} in {sizes:?}"),
        ));
    }
    let weights: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    if weights > MAX_PARAMETERS {
        return Err(invalid(
            field,
            format!("{sizes:?} needs {weights} parameters, more than {MAX_PARAMETERS}"),
        ));
    }
    Ok(())
}

/// `target ← τ·source + (1 − τ)·target` over matching parameter tensors: the target-network
/// update of DQN, the QWeb DQN and SAC.
pub fn polyak_update(targets: Vec<&mut [f32]>, sources: Vec<&[f32]>, tau: f32) {
    for (t, s) in targets.into_iter().zip(sources) {
        t.iter_mut()
            .zip(s)
            .for_each(|(t, &s)| *t = tau * s + (1.0 - tau) * *t);
    }
}

/// Orthogonal gain of hidden layers in [`MlpConfig::new`]: √2 (CleanRL's `layer_init` default).
pub const DEFAULT_HIDDEN_GAIN: f32 = std::f32::consts::SQRT_2;
/// Orthogonal gain of the output layer in [`MlpConfig::new`] (CleanRL's critic head; use
/// [`MlpConfig::with_output_gain`] with 0.01 for a policy head).
pub const DEFAULT_OUTPUT_GAIN: f32 = 1.0;

impl MlpConfig {
    /// `inputs → hidden[0] → … → outputs`: hidden layers use `hidden_activation` and orthogonal
    /// init with gain [`DEFAULT_HIDDEN_GAIN`]; the output layer is linear ([`Activation::Identity`])
    /// with orthogonal gain [`DEFAULT_OUTPUT_GAIN`]. Biases start at zero.
    pub fn new(
        inputs: usize,
        hidden: &[usize],
        hidden_activation: Activation,
        outputs: usize,
    ) -> Self {
        let mut layers: Vec<LayerConfig> = hidden
            .iter()
            .map(|&units| LayerConfig {
                outputs: units,
                activation: hidden_activation,
                init: Init::Orthogonal {
                    gain: DEFAULT_HIDDEN_GAIN,
                },
            })
            .collect();
        layers.push(LayerConfig {
            outputs,
            activation: Activation::Identity,
            init: Init::Orthogonal {
                gain: DEFAULT_OUTPUT_GAIN,
            },
        });
        MlpConfig { inputs, layers }
    }

    /// Replaces the output layer's initialisation by orthogonal with the given gain.
    #[must_use]
    pub fn with_output_gain(mut self, gain: f32) -> Self {
        if let Some(last) = self.layers.last_mut() {
            last.init = Init::Orthogonal { gain };
        }
        self
    }

    /// Replaces every layer's initialisation (e.g. [`Init::ScaledUniform`]).
    #[must_use]
    pub fn with_init(mut self, init: Init) -> Self {
        self.layers.iter_mut().for_each(|layer| layer.init = init);
        self
    }

    /// Widths from input to output, e.g. `[24, 64, 64, 4]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        std::iter::once(self.inputs)
            .chain(self.layers.iter().map(|l| l.outputs))
            .collect()
    }

    /// Width of the network's output.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    /// Checks every field; returns [`NnError::InvalidConfig`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(invalid("inputs", "must be at least 1, got 0".into()));
        }
        if self.layers.is_empty() || self.layers.len() > MAX_HIDDEN_LAYERS + 1 {
            return Err(invalid(
                "layers",
                format!(
                    "must hold the output layer and at most {MAX_HIDDEN_LAYERS} hidden layers, \
                     got {} layers",
                    self.layers.len()
                ),
            ));
        }
        let sizes = self.layer_sizes();
        let parameters = sizes
            .windows(2)
            .try_fold(0usize, |sum, w| {
                w[0].checked_add(1)?
                    .checked_mul(w[1])
                    .and_then(|n| sum.checked_add(n))
            })
            .filter(|&n| n <= MAX_PARAMETERS);
        if parameters.is_none() {
            return Err(invalid(
                "layers",
                format!("widths {sizes:?} need more than {MAX_PARAMETERS} parameters"),
            ));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.outputs == 0 {
                return Err(invalid(
                    "layers.outputs",
                    format!("of layer {i} must be at least 1"),
                ));
            }
            let scale = layer.init.scale();
            if !(scale.is_finite() && scale >= 0.0) {
                return Err(invalid(
                    "layers.init",
                    format!("of layer {i} has scale {scale}, need finite ≥ 0"),
                ));
            }
        }
        Ok(())
    }
}

fn invalid(field: &'static str, reason: String) -> NnError {
    NnError::InvalidConfig { field, reason }
}

/// One affine layer and its activation. Weights are `inputs × outputs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub(crate) weights: Array2<f32>,
    pub(crate) biases: Vec<f32>,
    pub(crate) activation: Activation,
}

impl Layer {
    /// The weight matrix, `inputs × outputs`.
    pub fn weights(&self) -> ArrayView2<'_, f32> {
        self.weights.view()
    }

    /// The bias vector, length `outputs`.
    pub fn biases(&self) -> ArrayView1<'_, f32> {
        ArrayView1::from(&self.biases)
    }

    /// The layer's activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Weights as one row-major slice (standard layout is an invariant of owned layers).
    pub(crate) fn weight_slice(&self) -> &[f32] {
        self.weights
            .as_slice()
            .expect("layer weights are always in standard layout")
    }
}

/// A fully-connected network `act_L(… act_1(x · W_1 + b_1) … · W_L + b_L)` of `f32`.
///
/// Use for policies, value functions and Q-functions of the built-in students.
///
/// # Example
/// ```
/// use ndarray::Array2;
/// use teachgym_nn::{Activation, ForwardCache, Gradients, Mlp, MlpConfig};
/// # fn main() -> Result<(), teachgym_nn::NnError> {
/// let net = Mlp::from_seed(MlpConfig::new(3, &[8], Activation::Tanh, 2), 7)?;
/// let x = Array2::from_elem((5, 3), 0.5f32);
/// let mut cache = ForwardCache::default();
/// let y = net.forward(x.view(), &mut cache)?.to_owned();
/// let mut grads = Gradients::zeros_like(&net);
/// net.backward(&cache, y.view(), &mut grads)?; // d(½‖y‖²)/dθ
/// assert!(grads.global_norm() > 0.0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    pub(crate) config: MlpConfig,
    pub(crate) layers: Vec<Layer>,
}

impl Mlp {
    /// Builds a network, drawing every layer's parameters from `rng` in layer order.
    pub fn new<R: Rng + ?Sized>(config: MlpConfig, rng: &mut R) -> Result<Self> {
        config.validate()?;
        let sizes = config.layer_sizes();
        let layers = config
            .layers
            .iter()
            .zip(sizes.windows(2))
            .map(|(layer, io)| {
                let (weights, biases) = layer.init.draw(io[0], io[1], rng);
                Layer {
                    weights,
                    biases,
                    activation: layer.activation,
                }
            })
            .collect();
        Ok(Mlp { config, layers })
    }

    /// Builds a network from a `Pcg64` seeded with `seed`.
    pub fn from_seed(config: MlpConfig, seed: u64) -> Result<Self> {
        Mlp::new(config, &mut rand_pcg::Pcg64::seed_from_u64(seed))
    }

    /// The configuration the network was built from.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Replaces the activation of layer `layer` (0 = the first hidden layer) in the network and
    /// in its [`MlpConfig`], keeping the parameters; e.g. smooth activations for a
    /// finite-difference gradient check that must not straddle ReLU kinks.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if the network has no layer `layer`.
    pub fn set_activation(&mut self, layer: usize, activation: Activation) -> Result<()> {
        let count = self.layers.len();
        match (
            self.layers.get_mut(layer),
            self.config.layers.get_mut(layer),
        ) {
            (Some(l), Some(c)) => {
                l.activation = activation;
                c.activation = activation;
                Ok(())
            }
            _ => Err(NnError::ShapeMismatch {
                what: "layer index",
                expected: format!("< {count}"),
                got: layer.to_string(),
            }),
        }
    }

    /// Input width.
    pub fn inputs(&self) -> usize {
        self.config.inputs
    }

    /// Output width.
    pub fn outputs(&self) -> usize {
        self.config.outputs()
    }

    /// Total number of scalar parameters (weights and biases).
    pub fn num_parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weights.len() + l.biases.len())
            .sum()
    }

    /// `θ ← τ·θ_source + (1 − τ)·θ`, parameter by parameter: the Polyak update of a target
    /// network towards its online twin (same shapes).
    pub fn update_towards(&mut self, source: &Mlp, tau: f32) {
        polyak_update(self.parameter_slices_mut(), source.parameter_slices(), tau);
    }

    /// Mutable parameter tensors as flat slices, in the order `W_1, b_1, W_2, b_2, …` (the
    /// order of [`Gradients::slices`]). Use for optimisers and finite-difference checks.
    pub fn parameter_slices_mut(&mut self) -> Vec<&mut [f32]> {
        let mut slices = Vec::with_capacity(2 * self.layers.len());
        for layer in &mut self.layers {
            slices.push(
                layer
                    .weights
                    .as_slice_mut()
                    .expect("layer weights are always in standard layout"),
            );
            slices.push(layer.biases.as_mut_slice());
        }
        slices
    }

    /// Parameter tensors as flat slices, in the order `W_1, b_1, W_2, b_2, …`.
    pub fn parameter_slices(&self) -> Vec<&[f32]> {
        self.layers
            .iter()
            .flat_map(|l| [l.weight_slice(), l.biases.as_slice()])
            .collect()
    }

    /// Batched forward pass over `input` (`batch × inputs`, batch ≥ 1) that keeps every layer's
    /// output in `cache` for [`Mlp::backward`]. Returns the output (`batch × outputs`), borrowed
    /// from the cache. The cache's buffers are reused when the batch size does not change.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for a wrong width or an empty batch,
    /// [`NnError::NonFinite`] for NaN/∞ in `input`.
    pub fn forward<'c>(
        &self,
        input: ArrayView2<'_, f32>,
        cache: &'c mut ForwardCache,
    ) -> Result<ArrayView2<'c, f32>> {
        let (batch, width) = input.dim();
        if width != self.inputs() || batch == 0 {
            return Err(NnError::ShapeMismatch {
                what: "input",
                expected: format!("(batch ≥ 1, {})", self.inputs()),
                got: format!("({batch}, {width})"),
            });
        }
        let sizes = self.config.layer_sizes();
        cache.resize(batch, &sizes);
        cache.activations[0].assign(&input);
        let first = cache.activations[0]
            .as_slice()
            .expect("cache arrays are in standard layout");
        check_finite("input", first)?;
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = cache.activations.split_at_mut(l + 1);
            let x = done[l]
                .as_slice()
                .expect("cache arrays are in standard layout");
            let out = rest[0]
                .as_slice_mut()
                .expect("cache arrays are in standard layout");
            affine_forward(x, batch, sizes[l], layer.weight_slice(), &layer.biases, out);
            layer.activation.apply_in_place(out);
        }
        cache.batch = batch;
        Ok(cache.activations[self.layers.len()].view())
    }

    /// Batched forward pass without caching (evaluation, target networks). Same outputs, bit for
    /// bit, as [`Mlp::forward`] and [`Mlp::forward_one`].
    ///
    /// # Errors
    /// As [`Mlp::forward`].
    pub fn predict(&self, input: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut cache = ForwardCache::default();
        Ok(self.forward(input, &mut cache)?.to_owned())
    }

    /// Forward pass on one observation (acting in the environment loop): a GEMV over each layer
    /// with no batch bookkeeping and no allocation once `buffers` has grown. Returns the output,
    /// bit-identical to the corresponding row of [`Mlp::forward`].
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `observation.len() != inputs`,
    /// [`NnError::NonFinite`] for NaN/∞.
    pub fn forward_one<'b>(
        &self,
        observation: &[f32],
        buffers: &'b mut InferenceBuffers,
    ) -> Result<&'b [f32]> {
        if observation.len() != self.inputs() {
            return Err(NnError::ShapeMismatch {
                what: "observation",
                expected: format!("({})", self.inputs()),
                got: format!("({})", observation.len()),
            });
        }
        check_finite("observation", observation)?;
        let InferenceBuffers { current, next } = buffers;
        current.clear();
        current.extend_from_slice(observation);
        for layer in &self.layers {
            next.resize(layer.biases.len(), 0.0);
            affine_forward(
                current,
                1,
                current.len(),
                layer.weight_slice(),
                &layer.biases,
                next,
            );
            layer.activation.apply_in_place(next);
            std::mem::swap(current, next);
        }
        Ok(current.as_slice())
    }

    /// Backprop of `output_gradient` (`∂loss/∂output`, same shape as the last forward's output)
    /// through the network, writing `∂loss/∂θ` into `grads` (overwritten, not accumulated).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if the cache was not filled by this network's forward or
    /// the gradient's shape differs from the output's, or `grads` belongs to another shape;
    /// [`NnError::NonFinite`] for NaN/∞ in `output_gradient`.
    pub fn backward(
        &self,
        cache: &ForwardCache,
        output_gradient: ArrayView2<'_, f32>,
        grads: &mut Gradients,
    ) -> Result<()> {
        self.backward_impl(cache, output_gradient, grads, false)?;
        Ok(())
    }

    /// As [`Mlp::backward`], and also returns `∂loss/∂input` (`batch × inputs`), e.g. `∂Q/∂a`
    /// for SAC/DDPG actors that backprop through a critic.
    ///
    /// # Errors
    /// As [`Mlp::backward`].
    pub fn backward_with_input_gradient(
        &self,
        cache: &ForwardCache,
        output_gradient: ArrayView2<'_, f32>,
        grads: &mut Gradients,
    ) -> Result<Array2<f32>> {
        self.backward_impl(cache, output_gradient, grads, true)?;
        Ok(grads.scratch[0].clone())
    }

    /// Only `∂loss/∂input` (`batch × inputs`) of `output_gradient`, without the parameter
    /// gradients: a third cheaper than [`Mlp::backward_with_input_gradient`] (each layer skips
    /// `∂W = Xᵀ·δ`). `grads` provides the scratch space; its parameter gradients are left as
    /// they were.
    ///
    /// # Errors
    /// As [`Mlp::backward`].
    pub fn input_gradient(
        &self,
        cache: &ForwardCache,
        output_gradient: ArrayView2<'_, f32>,
        grads: &mut Gradients,
    ) -> Result<Array2<f32>> {
        self.backward_pass(cache, output_gradient, grads, true, false)?;
        Ok(grads.scratch[0].clone())
    }

    fn backward_impl(
        &self,
        cache: &ForwardCache,
        output_gradient: ArrayView2<'_, f32>,
        grads: &mut Gradients,
        want_input_gradient: bool,
    ) -> Result<()> {
        self.backward_pass(cache, output_gradient, grads, want_input_gradient, true)
    }

    fn backward_pass(
        &self,
        cache: &ForwardCache,
        output_gradient: ArrayView2<'_, f32>,
        grads: &mut Gradients,
        want_input_gradient: bool,
        want_parameter_gradients: bool,
    ) -> Result<()> {
        let sizes = self.config.layer_sizes();
        let batch = cache.batch;
        let cache_matches = cache.activations.len() == sizes.len()
            && cache
                .activations
                .iter()
                .zip(&sizes)
                .all(|(a, &w)| a.dim() == (batch, w))
            && batch > 0;
        if !cache_matches {
            return Err(NnError::ShapeMismatch {
                what: "forward cache",
                expected: format!("filled by a forward pass of a {sizes:?} network"),
                got: format!(
                    "{:?}",
                    cache
                        .activations
                        .iter()
                        .map(|a| a.dim())
                        .collect::<Vec<_>>()
                ),
            });
        }
        if output_gradient.dim() != (batch, self.outputs()) {
            return Err(NnError::ShapeMismatch {
                what: "output gradient",
                expected: format!("({batch}, {})", self.outputs()),
                got: format!("{:?}", output_gradient.dim()),
            });
        }
        grads.check_shapes(self)?;
        grads.resize_scratch(batch, &sizes);
        let last = self.layers.len();
        grads.scratch[last].assign(&output_gradient);
        check_finite(
            "output gradient",
            grads.scratch[last].as_slice().expect("standard layout"),
        )?;
        for l in (0..last).rev() {
            let layer = &self.layers[l];
            let (lower, upper) = grads.scratch.split_at_mut(l + 1);
            let delta = &mut upper[0];
            layer.activation.backprop_in_place(
                cache.activations[l + 1]
                    .as_slice()
                    .expect("standard layout"),
                delta.as_slice_mut().expect("standard layout"),
            );
            let (inputs, outputs) = (sizes[l], sizes[l + 1]);
            let delta = delta.as_slice().expect("standard layout");
            if want_parameter_gradients {
                let LayerGradients { weights, biases } = &mut grads.layers[l];
                // ∂W = Xᵀ · δ, ∂b = Σ_rows δ, both summed over the batch in row order.
                matmul_at_b(
                    cache.activations[l].as_slice().expect("standard layout"),
                    delta,
                    batch,
                    inputs,
                    outputs,
                    weights.as_slice_mut().expect("standard layout"),
                );
                biases.iter_mut().for_each(|b| *b = 0.0);
                for row in delta.chunks_exact(outputs) {
                    biases.iter_mut().zip(row).for_each(|(b, &d)| *b += d);
                }
            }
            if l > 0 || want_input_gradient {
                // ∂X = δ · Wᵀ.
                matmul_a_bt(
                    delta,
                    layer.weight_slice(),
                    batch,
                    outputs,
                    inputs,
                    lower[l].as_slice_mut().expect("standard layout"),
                );
            }
        }
        Ok(())
    }
}

/// Per-layer outputs of the last [`Mlp::forward`], kept for [`Mlp::backward`]. Create one with
/// `ForwardCache::default()` and reuse it across steps to avoid allocation.
#[derive(Debug, Clone, Default)]
pub struct ForwardCache {
    /// `activations[0]` is the input, `activations[l + 1]` the output of layer `l`.
    activations: Vec<Array2<f32>>,
    /// Batch size of the last forward (0 before any).
    batch: usize,
}

impl ForwardCache {
    fn resize(&mut self, batch: usize, sizes: &[usize]) {
        reshape_buffers(&mut self.activations, batch, sizes);
        self.batch = 0;
    }

    /// The output of the last forward pass (`batch × outputs`), if any.
    pub fn output(&self) -> Option<ArrayView2<'_, f32>> {
        if self.batch == 0 {
            return None;
        }
        self.activations.last().map(|a| a.view())
    }
}

/// Makes `buffers` one `batch × w` array per width `w` of `sizes`, keeping their allocations.
///
/// The batch of a network changes from call to call (the web-form agent's rows are element ×
/// field pairs, a different number every gradient step); a fresh zeroed array each time cost
/// ≈ 5 % of its training in `memset` and `malloc`. The values left in a reshaped buffer are
/// meaningless: every caller overwrites all of a buffer before reading it.
pub(crate) fn reshape_buffers(buffers: &mut Vec<Array2<f32>>, batch: usize, sizes: &[usize]) {
    buffers.resize_with(sizes.len(), || Array2::zeros((0, 0)));
    for (buffer, &width) in buffers.iter_mut().zip(sizes) {
        if buffer.dim() != (batch, width) {
            let (mut values, _) =
                std::mem::replace(buffer, Array2::zeros((0, 0))).into_raw_vec_and_offset();
            // Shrinking keeps the capacity; only a buffer that grows beyond its longest length
            // so far writes zeros.
            values.resize(batch * width, 0.0);
            *buffer = Array2::from_shape_vec((batch, width), values)
                .expect("a vector of batch × width values has that shape");
        }
    }
}

/// Reusable buffers for [`Mlp::forward_one`]; `InferenceBuffers::default()` is empty and grows
/// to the widest layer on first use.
#[derive(Debug, Clone, Default)]
pub struct InferenceBuffers {
    current: Vec<f32>,
    next: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_uses_documented_gains_and_a_linear_output() {
        let config = MlpConfig::new(24, &[64, 64], Activation::Relu, 4);
        assert_eq!(config.layer_sizes(), vec![24, 64, 64, 4]);
        assert_eq!(
            config.layers[0].init,
            Init::Orthogonal {
                gain: DEFAULT_HIDDEN_GAIN
            }
        );
        assert_eq!(
            config.layers[2].init,
            Init::Orthogonal {
                gain: DEFAULT_OUTPUT_GAIN
            }
        );
        assert_eq!(config.layers[2].activation, Activation::Identity);
        let policy = config.with_output_gain(0.01);
        assert_eq!(policy.layers[2].init, Init::Orthogonal { gain: 0.01 });
        let json = serde_json::to_string(&policy).unwrap();
        assert_eq!(serde_json::from_str::<MlpConfig>(&json).unwrap(), policy);
    }

    #[test]
    fn orthogonal_biases_start_at_zero_and_cache_reports_output() {
        let net = Mlp::from_seed(MlpConfig::new(3, &[5], Activation::Tanh, 2), 0).unwrap();
        assert!(net
            .layers()
            .iter()
            .all(|l| l.biases().iter().all(|&b| b == 0.0)));
        assert_eq!(net.num_parameters(), 3 * 5 + 5 + 5 * 2 + 2);
        let mut cache = ForwardCache::default();
        assert!(cache.output().is_none());
        net.forward(Array2::zeros((2, 3)).view(), &mut cache)
            .unwrap();
        assert_eq!(cache.output().unwrap().dim(), (2, 2));
    }

    /// A cache and gradients reused across batch sizes (growing, shrinking, growing again, as
    /// the web-form agent's pair rows do) give the bits of fresh ones: the stale values a
    /// reshaped buffer keeps are never read.
    #[test]
    fn buffers_reused_across_batch_sizes_give_the_results_of_fresh_ones() {
        let net = Mlp::from_seed(MlpConfig::new(9, &[13, 11], Activation::Relu, 3), 5).unwrap();
        let mut cache = ForwardCache::default();
        let mut grads = Gradients::zeros_like(&net);
        for (step, batch) in [40, 7, 1, 23, 40, 65].into_iter().enumerate() {
            let x = Array2::from_shape_fn((batch, 9), |(r, c)| {
                libm::sinf((r * 7 + c + step) as f32 * 0.3)
            });
            let g = Array2::from_shape_fn((batch, 3), |(r, c)| {
                libm::cosf((r + 3 * c + step) as f32 * 0.2)
            });
            let out = net.forward(x.view(), &mut cache).unwrap().to_owned();
            let dx = net
                .backward_with_input_gradient(&cache, g.view(), &mut grads)
                .unwrap();
            let mut fresh_cache = ForwardCache::default();
            let mut fresh_grads = Gradients::zeros_like(&net);
            let fresh_out = net.forward(x.view(), &mut fresh_cache).unwrap().to_owned();
            let fresh_dx = net
                .backward_with_input_gradient(&fresh_cache, g.view(), &mut fresh_grads)
                .unwrap();
            assert_eq!(out, fresh_out, "batch {batch}");
            assert_eq!(dx, fresh_dx, "batch {batch}");
            assert_eq!(
                grads.squared_norm(),
                fresh_grads.squared_norm(),
                "batch {batch}"
            );
        }
    }

    /// The input-only pass gives the same `∂X` bits as the full backward pass and leaves the
    /// parameter gradients alone.
    #[test]
    fn input_gradient_equals_the_full_pass_and_skips_parameters() {
        let net = Mlp::from_seed(MlpConfig::new(9, &[13, 11], Activation::Relu, 3), 5).unwrap();
        let x = Array2::from_shape_fn((33, 9), |(r, c)| libm::sinf((r * 7 + c) as f32 * 0.3));
        let g = Array2::from_shape_fn((33, 3), |(r, c)| libm::cosf((r + 3 * c) as f32 * 0.2));
        let mut cache = ForwardCache::default();
        net.forward(x.view(), &mut cache).unwrap();
        let mut full = Gradients::zeros_like(&net);
        let expected = net
            .backward_with_input_gradient(&cache, g.view(), &mut full)
            .unwrap();
        let mut untouched = Gradients::zeros_like(&net);
        let dx = net
            .input_gradient(&cache, g.view(), &mut untouched)
            .unwrap();
        assert_eq!(dx, expected);
        assert_eq!(untouched.squared_norm(), 0.0);
        assert!(full.squared_norm() > 0.0);
    }

    /// One linear layer: `∂W = Xᵀ · G`, `∂b = Σ_rows G` and `∂X = G · Wᵀ`, each element summed in
    /// increasing order as the naive loops below do, bit for bit (odd sizes hit every tile).
    #[test]
    fn backward_equals_the_naive_loops_bit_for_bit() {
        let (batch, inputs, outputs) = (65, 17, 7);
        let net =
            Mlp::from_seed(MlpConfig::new(inputs, &[], Activation::Tanh, outputs), 3).unwrap();
        let x = Array2::from_shape_fn((batch, inputs), |(r, c)| {
            libm::sinf((r * 13 + c) as f32 * 0.37)
        });
        let g = Array2::from_shape_fn((batch, outputs), |(r, c)| {
            libm::cosf((r * 5 + c) as f32 * 0.21) * (1.0 + c as f32 * 30.0)
        });
        let mut cache = ForwardCache::default();
        net.forward(x.view(), &mut cache).unwrap();
        let mut grads = Gradients::zeros_like(&net);
        let dx = net
            .backward_with_input_gradient(&cache, g.view(), &mut grads)
            .unwrap();
        let w = net.layers()[0].weights();
        let bits = |a: f32| a.to_bits();
        for i in 0..inputs {
            for j in 0..outputs {
                let mut acc = 0.0f32;
                for r in 0..batch {
                    acc += x[(r, i)] * g[(r, j)];
                }
                assert_eq!(bits(grads.layers()[0].weights()[(i, j)]), bits(acc));
            }
        }
        for j in 0..outputs {
            let mut acc = 0.0f32;
            for r in 0..batch {
                acc += g[(r, j)];
            }
            assert_eq!(bits(grads.layers()[0].biases()[j]), bits(acc));
        }
        for r in 0..batch {
            for i in 0..inputs {
                let mut acc = 0.0f32;
                for j in 0..outputs {
                    acc += g[(r, j)] * w[(i, j)];
                }
                assert_eq!(bits(dx[(r, i)]), bits(acc));
            }
        }
    }

    /// Issue 22, case 2: a network's size is capped before anything is allocated.
    #[test]
    fn oversized_networks_are_refused_before_allocating() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(0);
        for config in [
            MlpConfig::new(1 << 40, &[64], Activation::Tanh, 1),
            MlpConfig::new(4, &[MAX_LAYER_WIDTH; 3], Activation::Tanh, usize::MAX),
            MlpConfig::new(4, &[8; MAX_HIDDEN_LAYERS + 1], Activation::Tanh, 1),
        ] {
            assert!(matches!(
                config.validate(),
                Err(NnError::InvalidConfig {
                    field: "layers",
                    ..
                })
            ));
            assert!(Mlp::new(config, &mut rng).is_err());
        }
        assert!(validate_hidden_sizes("hidden_sizes", &[MAX_LAYER_WIDTH; 2]).is_ok());
        assert!(validate_hidden_sizes("hidden_sizes", &[MAX_LAYER_WIDTH + 1]).is_err());
    }
}

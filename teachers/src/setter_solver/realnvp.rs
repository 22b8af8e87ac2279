//! The setter's network: a RealNVP normalising flow over goals in `(0, 1)^d`, conditioned on
//! the requested feasibility `f`, with hand-derived gradients of its log-density.
//!
//! **Sampling direction** (latent `z ~ N(0, I_d)` → goal): `blocks` blocks of three affine
//! couplings, then a sigmoid. A coupling keeps the coordinates `C` and maps the coordinates `T`
//! by `y_T = x_T · σ + t`, where `σ = MIN_SCALE + softplus_atan(s)` and `s`, `t` are two
//! highway networks of `[x_C, f]`. The three couplings of a block are
//! first half → second half, second half → first half, odd → even coordinates (first half =
//! the first `⌊d/2⌋`; a coupling with nothing to transform, as second → first when `d = 1`,
//! is left out). The log-density follows the change of variables:
//!
//! ```text
//! log p(g | f) = −½‖z‖² − Σ_couplings Σ_T log σ − Σ_i log sigmoid′(x_i),   g = sigmoid(x)
//! ```
//!
//! (the constant `−d/2 · log 2π` is dropped, as in the reference). **Inference direction**
//! (goal → latent) runs the same maps backwards: `x = logit(g)`, `x_T = (y_T − t) / σ`, with
//! the same terms in `log p`.
//!
//! `Highway` is the reference's highway network (Zilly et al. 2017): `h = tanh(W·u + b)`,
//! then per block `[a, b] = W·h + b`, `h ← h + (tanh a − h) · sigmoid b`, then a linear output.
//! Every affine map is a one-layer [`Mlp`] (its own forward cache and backward pass); the gating,
//! the coupling algebra and the log-determinants are differentiated by hand here and checked
//! against finite differences in the tests.

use std::f32::consts::PI;

use ndarray::{Array2, ArrayView2};
use rand::Rng;
use teachgym_core::random::standard_normal;
use teachgym_nn::{
    fast_tanh, Activation, ForwardCache, Gradients, Init, LayerConfig, Mlp, MlpConfig,
};

/// Result of the network code (shape and finiteness checks of `teachgym-nn`).
pub(crate) type NnResult<T> = std::result::Result<T, teachgym_nn::NnError>;

/// Smallest coupling scale, so that inverting a coupling never divides by ~0 (reference: 1e-2).
pub const MIN_SCALE: f32 = 0.01;
/// Bound of the soft clip applied before the atan softplus (reference: 1e6).
const SOFT_CLIP_MAX_ABS: f32 = 1e6;
/// Below this the atan softplus uses its asymptote `1 / (3π x²)` (reference: −30).
const SOFTPLUS_TAIL_BELOW: f32 = -30.0;
/// Truncation of the initial weights' normal draws, in standard deviations (TensorFlow's
/// `truncated_normal`, Sonnet's default initialiser: 2).
const INIT_TRUNCATION: f64 = 2.0;

/// The reference's "nice softplus" and its derivative: `x · (atan(x)/π + ½) + 1/π` after a
/// soft clip `c · atan(x / c)` to ±1e6, replaced by its asymptote `1 / (3π x²)` below −30
/// (where the closed form loses its sign to rounding). Positive, ~`x` at +∞, decays like
/// `1/x²` (not `e^x`) at −∞. Returns `(value, d value / dx)`.
pub(crate) fn softplus_atan(x: f32) -> (f32, f32) {
    let c = SOFT_CLIP_MAX_ABS / std::f32::consts::FRAC_PI_2;
    let r = x / c;
    let clipped = c * libm::atanf(r);
    let d_clipped = 1.0 / (1.0 + r * r);
    if clipped < SOFTPLUS_TAIL_BELOW {
        let value = 1.0 / (3.0 * PI * clipped * clipped);
        let d = -2.0 / (3.0 * PI * clipped * clipped * clipped);
        (value, d * d_clipped)
    } else {
        let a = libm::atanf(clipped);
        let value = clipped * (a / PI + 0.5) + 1.0 / PI;
        let d = a / PI + 0.5 + clipped / (PI * (1.0 + clipped * clipped));
        (value, d * d_clipped)
    }
}

/// `1 / (1 + e^−x)`.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// `log sigmoid′(x) = log sigmoid(x) + log sigmoid(−x) = −|x| − 2·log(1 + e^−|x|)`, without
/// overflow; its derivative is `1 − 2·sigmoid(x)`.
fn log_sigmoid_derivative(x: f32) -> f32 {
    -x.abs() - 2.0 * libm::log1pf(libm::expf(-x.abs()))
}

/// `log(g / (1 − g))` for `g` in `(0, 1)`.
pub(crate) fn logit(g: f32) -> f32 {
    libm::logf(g) - libm::log1pf(-g)
}

/// A one-layer [`Mlp`] (`inputs → outputs`, `activation`) with Sonnet's default initialisation:
/// weights from a normal of std `1/√inputs` truncated at two std, biases zero.
pub(crate) fn sonnet_layer<R: Rng + ?Sized>(
    inputs: usize,
    outputs: usize,
    activation: Activation,
    rng: &mut R,
) -> NnResult<Mlp> {
    let config = MlpConfig {
        inputs,
        layers: vec![LayerConfig {
            outputs,
            activation,
            init: Init::ScaledUniform { scale: 0.0 },
        }],
    };
    let mut net = Mlp::from_seed(config, 0)?;
    sonnet_initialise(&mut net, rng);
    Ok(net)
}

/// Redraws every layer of `net` as Sonnet's `snt.Linear` does by default: weights
/// `N(0, 1/fan_in)` truncated at two std (redrawn beyond), biases zero. Layer by layer, weights
/// row-major.
pub(crate) fn sonnet_initialise<R: Rng + ?Sized>(net: &mut Mlp, rng: &mut R) {
    for tensors in net.parameter_slices_mut().chunks_mut(2) {
        let [weights, biases] = tensors else {
            unreachable!("parameter slices come in (weights, biases) pairs")
        };
        let std = 1.0 / ((weights.len() / biases.len().max(1)) as f64).sqrt();
        for w in weights.iter_mut() {
            let z = loop {
                let z = standard_normal(rng);
                if z.abs() <= INIT_TRUNCATION {
                    break z;
                }
            };
            *w = (z * std) as f32;
        }
        biases.iter_mut().for_each(|b| *b = 0.0);
    }
}

/// Backprop of `d_out` through the one-network `net`; adds the parameter gradients to `acc`
/// (its weight and bias tensors) and returns the input gradient.
fn backprop_into(
    net: &Mlp,
    cache: &ForwardCache,
    d_out: ArrayView2<'_, f32>,
    scratch: &mut Gradients,
    acc: &mut [Vec<f32>],
) -> NnResult<Array2<f32>> {
    let d_in = net.backward_with_input_gradient(cache, d_out, scratch)?;
    for (sum, g) in acc.iter_mut().zip(scratch.slices()) {
        sum.iter_mut().zip(g).for_each(|(s, &g)| *s += g);
    }
    Ok(d_in)
}

/// The reference's highway network: `tanh` input layer, `blocks` gated residual blocks of width
/// `hidden`, linear output. See the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct Highway {
    input: Mlp,
    blocks: Vec<Mlp>,
    output: Mlp,
}

/// What one [`Highway::forward`] keeps for its backward pass.
#[derive(Debug, Default)]
pub(crate) struct HighwayTape {
    input: ForwardCache,
    blocks: Vec<BlockTape>,
    output: ForwardCache,
}

#[derive(Debug, Default)]
struct BlockTape {
    cache: ForwardCache,
    /// The block's input `h`.
    hidden: Array2<f32>,
    /// `tanh a`.
    candidate: Array2<f32>,
    /// `sigmoid b`.
    gate: Array2<f32>,
}

impl Highway {
    fn new<R: Rng + ?Sized>(
        inputs: usize,
        hidden: usize,
        blocks: usize,
        outputs: usize,
        rng: &mut R,
    ) -> NnResult<Self> {
        let input = sonnet_layer(inputs, hidden, Activation::Tanh, rng)?;
        let blocks = (0..blocks)
            .map(|_| sonnet_layer(hidden, 2 * hidden, Activation::Identity, rng))
            .collect::<NnResult<_>>()?;
        let output = sonnet_layer(hidden, outputs, Activation::Identity, rng)?;
        Ok(Self {
            input,
            blocks,
            output,
        })
    }

    /// The one-layer networks, input first (the order of parameters and gradients).
    fn layers(&self) -> impl Iterator<Item = &Mlp> {
        std::iter::once(&self.input)
            .chain(&self.blocks)
            .chain(std::iter::once(&self.output))
    }

    fn layers_mut(&mut self) -> impl Iterator<Item = &mut Mlp> {
        std::iter::once(&mut self.input)
            .chain(&mut self.blocks)
            .chain(std::iter::once(&mut self.output))
    }

    fn layer_count(&self) -> usize {
        self.blocks.len() + 2
    }

    fn forward(&self, u: ArrayView2<'_, f32>, tape: &mut HighwayTape) -> NnResult<Array2<f32>> {
        let mut h = self.input.forward(u, &mut tape.input)?.to_owned();
        tape.blocks
            .resize_with(self.blocks.len(), BlockTape::default);
        let (batch, width) = h.dim();
        for (block, bt) in self.blocks.iter().zip(&mut tape.blocks) {
            let gates = block.forward(h.view(), &mut bt.cache)?;
            let mut candidate = Array2::zeros((batch, width));
            let mut gate = Array2::zeros((batch, width));
            let mut next = Array2::zeros((batch, width));
            for r in 0..batch {
                for j in 0..width {
                    let c = fast_tanh(gates[(r, j)]);
                    let s = sigmoid(gates[(r, width + j)]);
                    let hv = h[(r, j)];
                    next[(r, j)] = hv + (c - hv) * s;
                    candidate[(r, j)] = c;
                    gate[(r, j)] = s;
                }
            }
            bt.hidden = std::mem::replace(&mut h, next);
            bt.candidate = candidate;
            bt.gate = gate;
        }
        Ok(self.output.forward(h.view(), &mut tape.output)?.to_owned())
    }

    /// Backprop of `d_out` through the last [`Highway::forward`] recorded in `tape`; adds the
    /// parameter gradients to `acc` (two tensors per layer, in [`Highway::layers`] order) and
    /// returns the input gradient.
    fn backward(
        &self,
        tape: &HighwayTape,
        d_out: ArrayView2<'_, f32>,
        scratch: &mut [Gradients],
        acc: &mut [Vec<f32>],
    ) -> NnResult<Array2<f32>> {
        let n = self.blocks.len();
        let mut dh = backprop_into(
            &self.output,
            &tape.output,
            d_out,
            &mut scratch[n + 1],
            &mut acc[2 * n + 2..2 * n + 4],
        )?;
        for k in (0..n).rev() {
            let bt = &tape.blocks[k];
            let (batch, width) = dh.dim();
            let mut d_gates = Array2::zeros((batch, 2 * width));
            let mut direct = Array2::zeros((batch, width));
            for r in 0..batch {
                for j in 0..width {
                    let d = dh[(r, j)];
                    let (c, s, hv) = (bt.candidate[(r, j)], bt.gate[(r, j)], bt.hidden[(r, j)]);
                    // h' = h + (c − h)·s: ∂h'/∂a = s·(1 − c²), ∂h'/∂b = (c − h)·s·(1 − s),
                    // ∂h'/∂h (direct) = 1 − s.
                    d_gates[(r, j)] = d * s * (1.0 - c * c);
                    d_gates[(r, width + j)] = d * (c - hv) * s * (1.0 - s);
                    direct[(r, j)] = d * (1.0 - s);
                }
            }
            let through_layer = backprop_into(
                &self.blocks[k],
                &bt.cache,
                d_gates.view(),
                &mut scratch[k + 1],
                &mut acc[2 * k + 2..2 * k + 4],
            )?;
            dh = direct + through_layer;
        }
        backprop_into(
            &self.input,
            &tape.input,
            dh.view(),
            &mut scratch[0],
            &mut acc[0..2],
        )
    }
}

/// One affine coupling: coordinates `condition` (and `f`) set the scale and shift of the
/// coordinates `transformed`.
#[derive(Debug, Clone)]
struct Coupling {
    condition: Vec<usize>,
    transformed: Vec<usize>,
    scale: Highway,
    shift: Highway,
}

/// What one coupling keeps for its backward pass, in either direction.
#[derive(Debug, Default)]
struct CouplingTape {
    scale: HighwayTape,
    shift: HighwayTape,
    /// `σ` per transformed coordinate.
    sigma: Array2<f32>,
    /// `softplus_atan′(s)`.
    d_softplus: Array2<f32>,
    /// The coordinates on the latent side: the input `x_T` when sampling, the output when
    /// inferring.
    latent_side: Array2<f32>,
}

impl Coupling {
    /// `[x_C, f]` for every row.
    fn conditioning_input(&self, state: &Array2<f32>, f: &[f32]) -> Array2<f32> {
        let width = self.condition.len() + 1;
        Array2::from_shape_fn((state.nrows(), width), |(r, i)| {
            match self.condition.get(i) {
                Some(&col) => state[(r, col)],
                None => f[r],
            }
        })
    }

    /// Runs both networks and fills `σ` and `softplus_atan′(s)` in the tape; returns `t`.
    fn scale_and_shift(
        &self,
        state: &Array2<f32>,
        f: &[f32],
        tape: &mut CouplingTape,
    ) -> NnResult<Array2<f32>> {
        let u = self.conditioning_input(state, f);
        let s = self.scale.forward(u.view(), &mut tape.scale)?;
        let t = self.shift.forward(u.view(), &mut tape.shift)?;
        tape.sigma = Array2::zeros(s.dim());
        tape.d_softplus = Array2::zeros(s.dim());
        for ((sv, sigma), d) in s.iter().zip(&mut tape.sigma).zip(&mut tape.d_softplus) {
            let (value, derivative) = softplus_atan(*sv);
            *sigma = MIN_SCALE + value;
            *d = derivative;
        }
        Ok(t)
    }

    /// Sampling direction: `y_T = x_T · σ + t`, `log p −= Σ log σ`.
    fn forward(
        &self,
        state: &mut Array2<f32>,
        f: &[f32],
        log_p: &mut [f32],
        tape: &mut CouplingTape,
    ) -> NnResult<()> {
        let t = self.scale_and_shift(state, f, tape)?;
        tape.latent_side = Array2::zeros(t.dim());
        for (r, lp) in log_p.iter_mut().enumerate() {
            for (j, &col) in self.transformed.iter().enumerate() {
                let sigma = tape.sigma[(r, j)];
                let x = state[(r, col)];
                tape.latent_side[(r, j)] = x;
                state[(r, col)] = x * sigma + t[(r, j)];
                *lp -= libm::logf(sigma);
            }
        }
        Ok(())
    }

    /// Inference direction: `x_T = (y_T − t) / σ`, `log p −= Σ log σ`.
    fn inverse(
        &self,
        state: &mut Array2<f32>,
        f: &[f32],
        log_p: &mut [f32],
        tape: &mut CouplingTape,
    ) -> NnResult<()> {
        let t = self.scale_and_shift(state, f, tape)?;
        tape.latent_side = Array2::zeros(t.dim());
        for (r, lp) in log_p.iter_mut().enumerate() {
            for (j, &col) in self.transformed.iter().enumerate() {
                let sigma = tape.sigma[(r, j)];
                let x = (state[(r, col)] - t[(r, j)]) / sigma;
                tape.latent_side[(r, j)] = x;
                state[(r, col)] = x;
                *lp -= libm::logf(sigma);
            }
        }
        Ok(())
    }

    /// Turns `d_state` = ∂L/∂(this coupling's output state) into ∂L/∂(its input state), given
    /// `d_log_p` = ∂L/∂log p per row, and adds the networks' parameter gradients to `acc`.
    /// `inverse` selects the direction the tape was recorded in.
    fn backward(
        &self,
        tape: &CouplingTape,
        d_state: &mut Array2<f32>,
        d_log_p: &[f32],
        inverse: bool,
        scratch: &mut [Gradients],
        acc: &mut [Vec<f32>],
    ) -> NnResult<()> {
        let shape = tape.sigma.dim();
        let mut d_s = Array2::zeros(shape);
        let mut d_t = Array2::zeros(shape);
        for (r, &d_lp) in d_log_p.iter().enumerate() {
            for (j, &col) in self.transformed.iter().enumerate() {
                let sigma = tape.sigma[(r, j)];
                let x = tape.latent_side[(r, j)];
                let d_out = d_state[(r, col)];
                // Both directions subtract log σ from log p.
                let (d_sigma, d_in, d_shift) = if inverse {
                    // x = (y − t) / σ: ∂x/∂y = 1/σ, ∂x/∂t = −1/σ, ∂x/∂σ = −x/σ.
                    (
                        -d_out * x / sigma - d_lp / sigma,
                        d_out / sigma,
                        -d_out / sigma,
                    )
                } else {
                    // y = x·σ + t: ∂y/∂x = σ, ∂y/∂t = 1, ∂y/∂σ = x.
                    (d_out * x - d_lp / sigma, d_out * sigma, d_out)
                };
                d_s[(r, j)] = d_sigma * tape.d_softplus[(r, j)];
                d_t[(r, j)] = d_shift;
                d_state[(r, col)] = d_in;
            }
        }
        let layers = self.scale.layer_count();
        let (scale_scratch, shift_scratch) = scratch.split_at_mut(layers);
        let (scale_acc, shift_acc) = acc.split_at_mut(2 * layers);
        let d_u_scale = self
            .scale
            .backward(&tape.scale, d_s.view(), scale_scratch, scale_acc)?;
        let d_u_shift = self
            .shift
            .backward(&tape.shift, d_t.view(), shift_scratch, shift_acc)?;
        for r in 0..d_state.nrows() {
            for (i, &col) in self.condition.iter().enumerate() {
                d_state[(r, col)] += d_u_scale[(r, i)] + d_u_shift[(r, i)];
            }
        }
        Ok(())
    }

    fn layers(&self) -> impl Iterator<Item = &Mlp> {
        self.scale.layers().chain(self.shift.layers())
    }

    fn layers_mut(&mut self) -> impl Iterator<Item = &mut Mlp> {
        self.scale.layers_mut().chain(self.shift.layers_mut())
    }
}

/// `(condition, transformed)` coordinates of one block's couplings over `dim` dimensions:
/// first half → second half, second half → first half, odd → even; couplings with nothing to
/// transform are left out.
fn block_layout(dim: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    let half = dim / 2;
    let first: Vec<usize> = (0..half).collect();
    let second: Vec<usize> = (half..dim).collect();
    let odd: Vec<usize> = (1..dim).step_by(2).collect();
    let even: Vec<usize> = (0..dim).step_by(2).collect();
    [
        (first.clone(), second.clone()),
        (second, first),
        (odd, even),
    ]
    .into_iter()
    .filter(|(_, transformed)| !transformed.is_empty())
    .collect()
}

/// The conditional RealNVP setter. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct ConditionalRealNvp {
    dim: usize,
    couplings: Vec<Coupling>,
}

/// What one batched pass keeps for its backward pass.
#[derive(Debug, Default)]
pub(crate) struct FlowTape {
    couplings: Vec<CouplingTape>,
    /// Sampling direction: the logits `x` before the final sigmoid.
    logits: Array2<f32>,
}

/// Accumulated parameter gradients of a [`ConditionalRealNvp`], in the order of
/// [`ConditionalRealNvp::parameter_slices`], with the per-layer scratch of the backward passes.
#[derive(Debug)]
pub(crate) struct FlowGradients {
    sums: Vec<Vec<f32>>,
    scratch: Vec<Gradients>,
}

impl FlowGradients {
    pub(crate) fn zeros_like(flow: &ConditionalRealNvp) -> Self {
        Self {
            sums: flow
                .parameter_slices()
                .iter()
                .map(|s| vec![0.0; s.len()])
                .collect(),
            scratch: flow.layers().map(Gradients::zeros_like).collect(),
        }
    }

    pub(crate) fn zero(&mut self) {
        self.sums.iter_mut().for_each(|s| s.fill(0.0));
    }

    pub(crate) fn slices(&self) -> Vec<&[f32]> {
        self.sums.iter().map(Vec::as_slice).collect()
    }
}

impl ConditionalRealNvp {
    /// A flow over `dim` goal dimensions: `blocks` blocks of couplings whose highway networks
    /// have width `hidden` and `highway_blocks` gated blocks, drawn from `rng` (Sonnet's
    /// initialisation, coupling by coupling, scale network before shift network).
    pub(crate) fn new<R: Rng + ?Sized>(
        dim: usize,
        blocks: usize,
        highway_blocks: usize,
        hidden: usize,
        rng: &mut R,
    ) -> NnResult<Self> {
        let mut couplings = Vec::new();
        for _ in 0..blocks {
            for (condition, transformed) in block_layout(dim) {
                let inputs = condition.len() + 1;
                let scale = Highway::new(inputs, hidden, highway_blocks, transformed.len(), rng)?;
                let shift = Highway::new(inputs, hidden, highway_blocks, transformed.len(), rng)?;
                couplings.push(Coupling {
                    condition,
                    transformed,
                    scale,
                    shift,
                });
            }
        }
        Ok(Self { dim, couplings })
    }

    /// Number of parameters of a flow built by [`ConditionalRealNvp::new`] (saturating), for the
    /// configuration's size check before anything is allocated.
    pub(crate) fn parameter_count(
        dim: usize,
        blocks: usize,
        highway_blocks: usize,
        hidden: usize,
    ) -> usize {
        let (h, hw) = (hidden as u128, highway_blocks as u128);
        let per_block: u128 = block_layout(dim)
            .iter()
            .map(|(c, t)| {
                let (c, t) = (c.len() as u128, t.len() as u128);
                let net = (c + 2) * h + hw * (h + 1) * 2 * h + (h + 1) * t;
                2 * net
            })
            .sum();
        usize::try_from(per_block * blocks as u128).unwrap_or(usize::MAX)
    }

    /// Goal dimensions.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Every one-layer network, coupling by coupling (scale network, then shift network).
    fn layers(&self) -> impl Iterator<Item = &Mlp> {
        self.couplings.iter().flat_map(Coupling::layers)
    }

    /// Parameter tensors (weights, biases of each layer, in [`Self::layers`] order).
    pub(crate) fn parameter_slices(&self) -> Vec<&[f32]> {
        self.layers().flat_map(Mlp::parameter_slices).collect()
    }

    /// Mutable parameter tensors, in the order of [`Self::parameter_slices`].
    pub(crate) fn parameter_slices_mut(&mut self) -> Vec<&mut [f32]> {
        self.couplings
            .iter_mut()
            .flat_map(Coupling::layers_mut)
            .flat_map(Mlp::parameter_slices_mut)
            .collect()
    }

    /// Sampling direction on a batch: latents `z` (`batch × dim`) and feasibilities `f` → goals
    /// in `(0, 1)^dim` and their `log p(g | f)`.
    pub(crate) fn sample(
        &self,
        z: ArrayView2<'_, f32>,
        f: &[f32],
        tape: &mut FlowTape,
    ) -> NnResult<(Array2<f32>, Vec<f32>)> {
        let mut state = z.to_owned();
        let mut log_p: Vec<f32> = state
            .rows()
            .into_iter()
            .map(|row| -0.5 * row.iter().map(|v| v * v).sum::<f32>())
            .collect();
        tape.couplings
            .resize_with(self.couplings.len(), CouplingTape::default);
        for (coupling, ct) in self.couplings.iter().zip(&mut tape.couplings) {
            coupling.forward(&mut state, f, &mut log_p, ct)?;
        }
        for (row, lp) in state.rows().into_iter().zip(&mut log_p) {
            *lp -= row.iter().map(|&x| log_sigmoid_derivative(x)).sum::<f32>();
        }
        let goals = state.mapv(sigmoid);
        tape.logits = state;
        Ok((goals, log_p))
    }

    /// Backprop through the last [`Self::sample`] recorded in `tape` of a loss with gradients
    /// `d_goals` (`batch × dim`) and `d_log_p` (per row); adds to `grads`.
    pub(crate) fn sample_backward(
        &self,
        tape: &FlowTape,
        d_goals: ArrayView2<'_, f32>,
        d_log_p: &[f32],
        grads: &mut FlowGradients,
    ) -> NnResult<()> {
        // g = sigmoid(x): ∂g/∂x = g(1 − g); log p −= log sigmoid′(x): ∂log p/∂x = 2g − 1.
        let mut d_state = Array2::from_shape_fn(tape.logits.dim(), |(r, j)| {
            let g = sigmoid(tape.logits[(r, j)]);
            d_goals[(r, j)] * g * (1.0 - g) + d_log_p[r] * (2.0 * g - 1.0)
        });
        self.backward_couplings(tape, &mut d_state, d_log_p, false, grads, true)
    }

    /// Inference direction on a batch: goals in `(0, 1)^dim` and feasibilities → latents and
    /// `log p(g | f)`.
    pub(crate) fn infer(
        &self,
        goals: ArrayView2<'_, f32>,
        f: &[f32],
        tape: &mut FlowTape,
    ) -> NnResult<(Array2<f32>, Vec<f32>)> {
        let mut state = goals.mapv(logit);
        let mut log_p: Vec<f32> = state
            .rows()
            .into_iter()
            .map(|row| -row.iter().map(|&x| log_sigmoid_derivative(x)).sum::<f32>())
            .collect();
        tape.couplings
            .resize_with(self.couplings.len(), CouplingTape::default);
        for (coupling, ct) in self.couplings.iter().zip(&mut tape.couplings).rev() {
            coupling.inverse(&mut state, f, &mut log_p, ct)?;
        }
        for (row, lp) in state.rows().into_iter().zip(&mut log_p) {
            *lp -= 0.5 * row.iter().map(|v| v * v).sum::<f32>();
        }
        Ok((state, log_p))
    }

    /// Backprop through the last [`Self::infer`] recorded in `tape`, whose latents were `z`, of a
    /// loss with gradient `d_log_p` per row (the latents and goals are not differentiated as
    /// outputs); adds to `grads`.
    pub(crate) fn infer_backward(
        &self,
        tape: &FlowTape,
        z: ArrayView2<'_, f32>,
        d_log_p: &[f32],
        grads: &mut FlowGradients,
    ) -> NnResult<()> {
        // log p −= ½‖z‖²: ∂log p/∂z = −z.
        let mut d_state = Array2::from_shape_fn(z.dim(), |(r, j)| -d_log_p[r] * z[(r, j)]);
        self.backward_couplings(tape, &mut d_state, d_log_p, true, grads, false)
    }

    /// Walks the couplings from the end of the recorded pass to its start: last to first for a
    /// sampling pass (`reverse`), first to last for an inference pass.
    fn backward_couplings(
        &self,
        tape: &FlowTape,
        d_state: &mut Array2<f32>,
        d_log_p: &[f32],
        inverse: bool,
        grads: &mut FlowGradients,
        reverse: bool,
    ) -> NnResult<()> {
        let layers_per_coupling = self
            .couplings
            .first()
            .map_or(0, |c| c.scale.layer_count() * 2);
        let mut order: Vec<usize> = (0..self.couplings.len()).collect();
        if reverse {
            order.reverse();
        }
        for k in order {
            let layers = k * layers_per_coupling..(k + 1) * layers_per_coupling;
            let tensors = 2 * layers.start..2 * layers.end;
            self.couplings[k].backward(
                &tape.couplings[k],
                d_state,
                d_log_p,
                inverse,
                &mut grads.scratch[layers],
                &mut grads.sums[tensors],
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    fn flow(dim: usize, seed: u64) -> ConditionalRealNvp {
        let mut rng = Pcg64::seed_from_u64(seed);
        ConditionalRealNvp::new(dim, 2, 2, 8, &mut rng).unwrap()
    }

    /// A batch of latents and feasibilities.
    fn batch(dim: usize, rows: usize, seed: u64) -> (Array2<f32>, Vec<f32>) {
        let mut rng = Pcg64::seed_from_u64(seed);
        let z = Array2::from_shape_fn((rows, dim), |_| standard_normal(&mut rng) as f32);
        let f = (0..rows).map(|_| rng.random::<f32>()).collect();
        (z, f)
    }

    #[test]
    fn layout_covers_every_dimension_and_skips_empty_couplings() {
        assert_eq!(
            block_layout(3),
            vec![
                (vec![0], vec![1, 2]),
                (vec![1, 2], vec![0]),
                (vec![1], vec![0, 2])
            ]
        );
        assert_eq!(block_layout(1), vec![(vec![], vec![0]), (vec![], vec![0])]);
        for dim in 1..6 {
            let f = flow(dim, 0);
            let counted: usize = f.parameter_slices().iter().map(|s| s.len()).sum();
            assert_eq!(counted, ConditionalRealNvp::parameter_count(dim, 2, 2, 8));
        }
    }

    /// The atan softplus: positive, continuous at the asymptote switch, derivative vs finite
    /// differences (in f64 arithmetic of the same formula to avoid f32 cancellation).
    #[test]
    fn softplus_atan_is_positive_and_its_derivative_is_right() {
        for &x in &[
            -1e7f32, -200.0, -30.5, -29.5, -3.0, -0.5, 0.0, 0.7, 4.0, 90.0, 1e7,
        ] {
            let (v, d) = softplus_atan(x);
            assert!(v > 0.0 && d >= 0.0, "{x}: {v} {d}");
            let h = 1e-2 * x.abs().max(1.0);
            let numeric =
                (softplus_atan(x + h).0 as f64 - softplus_atan(x - h).0 as f64) / (2.0 * h as f64);
            assert!(
                (numeric - d as f64).abs() <= 1e-2 * (d as f64).abs() + 1e-6,
                "{x}: {numeric} vs {d}"
            );
        }
        assert!((softplus_atan(0.0).0 - 1.0 / PI).abs() < 1e-7);
        assert!((softplus_atan(1000.0).0 - 1000.0).abs() < 1.0);
    }

    /// Sampling then inferring returns the latents, and both directions give the same log p.
    #[test]
    fn inverse_undoes_sampling_and_log_densities_agree() {
        for dim in [1, 2, 3, 4] {
            let f = flow(dim, dim as u64);
            let (z, cond) = batch(dim, 16, 7);
            let (goals, log_p) = f.sample(z.view(), &cond, &mut FlowTape::default()).unwrap();
            assert!(goals.iter().all(|&g| g > 0.0 && g < 1.0));
            let (back, log_q) = f
                .infer(goals.view(), &cond, &mut FlowTape::default())
                .unwrap();
            for (a, b) in z.iter().zip(&back) {
                assert!(
                    (a - b).abs() < 2e-3 * (1.0 + a.abs()),
                    "dim {dim}: {a} vs {b}"
                );
            }
            for (a, b) in log_p.iter().zip(&log_q) {
                assert!(
                    (a - b).abs() < 2e-3 * (1.0 + a.abs()),
                    "dim {dim}: {a} vs {b}"
                );
            }
        }
    }

    /// log p(g | f) equals −½‖z‖² + log |det ∂z/∂g|, the Jacobian taken by central finite
    /// differences of the inference map (in f64 over f32 evaluations).
    #[test]
    fn log_density_matches_the_finite_difference_jacobian() {
        let dim = 3;
        let f = flow(dim, 3);
        let (z, cond) = batch(dim, 4, 9);
        let (goals, _) = f.sample(z.view(), &cond, &mut FlowTape::default()).unwrap();
        for (r, &condition) in cond.iter().enumerate() {
            let g = goals.row(r).to_owned();
            let c = [condition];
            let (z0, log_q) = f
                .infer(
                    g.view().insert_axis(ndarray::Axis(0)),
                    &c,
                    &mut FlowTape::default(),
                )
                .unwrap();
            let mut jac = [[0.0f64; 3]; 3];
            for j in 0..dim {
                let h = 1e-3 * g[j].min(1.0 - g[j]);
                let eval = |delta: f32| {
                    let mut x = g.clone();
                    x[j] += delta;
                    f.infer(
                        x.view().insert_axis(ndarray::Axis(0)),
                        &c,
                        &mut FlowTape::default(),
                    )
                    .unwrap()
                    .0
                };
                let (plus, minus) = (eval(h), eval(-h));
                for i in 0..dim {
                    jac[i][j] = (plus[(0, i)] as f64 - minus[(0, i)] as f64) / (2.0 * h as f64);
                }
            }
            let det = jac[0][0] * (jac[1][1] * jac[2][2] - jac[1][2] * jac[2][1])
                - jac[0][1] * (jac[1][0] * jac[2][2] - jac[1][2] * jac[2][0])
                + jac[0][2] * (jac[1][0] * jac[2][1] - jac[1][1] * jac[2][0]);
            let z_norm: f64 = z0.iter().map(|&v| (v as f64).powi(2)).sum();
            let expected = -0.5 * z_norm + libm::log(det.abs());
            assert!(
                (expected - log_q[0] as f64).abs() < 2e-2 * (1.0 + expected.abs()),
                "row {r}: {expected} vs {}",
                log_q[0]
            );
        }
    }

    /// A scalar loss of a sampling pass and an inference pass: Σ a·g + Σ b·log p (sampling)
    /// + Σ c·log p (inference), with fixed random weights.
    fn probe_loss(
        f: &ConditionalRealNvp,
        z: &Array2<f32>,
        cond: &[f32],
        goals_in: &Array2<f32>,
        weights: &(Array2<f32>, Vec<f32>, Vec<f32>),
        grads: Option<&mut FlowGradients>,
    ) -> f64 {
        let (a, b, c) = weights;
        let mut tape = FlowTape::default();
        let (goals, log_p) = f.sample(z.view(), cond, &mut tape).unwrap();
        let mut inverse_tape = FlowTape::default();
        let (latents, log_q) = f.infer(goals_in.view(), cond, &mut inverse_tape).unwrap();
        if let Some(grads) = grads {
            f.sample_backward(&tape, a.view(), b, grads).unwrap();
            f.infer_backward(&inverse_tape, latents.view(), c, grads)
                .unwrap();
        }
        let mut loss = 0.0f64;
        loss += goals
            .iter()
            .zip(a)
            .map(|(&g, &w)| (g * w) as f64)
            .sum::<f64>();
        loss += log_p
            .iter()
            .zip(b)
            .map(|(&l, &w)| (l * w) as f64)
            .sum::<f64>();
        loss += log_q
            .iter()
            .zip(c)
            .map(|(&l, &w)| (l * w) as f64)
            .sum::<f64>();
        loss
    }

    /// Every parameter tensor's hand-derived gradient (both directions, goals and log p) against
    /// central finite differences on a few entries each.
    #[test]
    fn gradients_match_finite_differences() {
        let dim = 3;
        let mut f = flow(dim, 5);
        let (z, cond) = batch(dim, 5, 11);
        // Goals the flow itself puts mass on: arbitrary goals map to huge latents through the
        // freshly initialised flow (scales ~1/3 per coupling), where f32 rounding of log p
        // drowns a finite difference.
        let (other_z, _) = batch(dim, 5, 12);
        let (goals_in, _) = f
            .sample(other_z.view(), &cond, &mut FlowTape::default())
            .unwrap();
        let mut rng = Pcg64::seed_from_u64(13);
        let weights = (
            Array2::from_shape_fn((5, dim), |_| rng.random::<f32>() - 0.5),
            (0..5)
                .map(|_| rng.random::<f32>() - 0.5)
                .collect::<Vec<_>>(),
            (0..5)
                .map(|_| rng.random::<f32>() - 0.5)
                .collect::<Vec<_>>(),
        );
        let mut grads = FlowGradients::zeros_like(&f);
        probe_loss(&f, &z, &cond, &goals_in, &weights, Some(&mut grads));
        let analytic: Vec<Vec<f32>> = grads.sums.clone();
        let mut checked = 0;
        let mut significant = 0;
        let mut worst = 0.0f64;
        for (t, tensor) in analytic.iter().enumerate() {
            for k in [0, tensor.len() / 2, tensor.len() - 1] {
                // Small steps: the first couplings act through all the later ones, and the
                // loss curves strongly in their parameters.
                let h = 1e-3f32;
                let original = f.parameter_slices()[t][k];
                f.parameter_slices_mut()[t][k] = original + h;
                let plus = probe_loss(&f, &z, &cond, &goals_in, &weights, None);
                f.parameter_slices_mut()[t][k] = original - h;
                let minus = probe_loss(&f, &z, &cond, &goals_in, &weights, None);
                f.parameter_slices_mut()[t][k] = original;
                let numeric = (plus - minus) / (2.0 * h as f64);
                let a = tensor[k] as f64;
                // 5 % of the larger, plus the f32 rounding of the loss over 2h (~1e-3).
                let error = (numeric - a).abs() / (numeric.abs().max(a.abs()) + 4e-2);
                worst = worst.max(error);
                assert!(
                    error < 5e-2,
                    "tensor {t}[{k}]: analytic {a}, numeric {numeric}"
                );
                checked += 1;
                significant += usize::from(a.abs() > 0.05);
            }
        }
        assert!(
            checked > 100 && significant > 30,
            "{checked}, {significant}"
        );
        println!("worst relative error {worst:.3e} over {checked} entries");
    }
}

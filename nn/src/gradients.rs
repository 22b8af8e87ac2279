//! Parameter gradients of an [`Mlp`], with the global-norm clipping PPO uses
//! (`torch.nn.utils.clip_grad_norm_`).

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::error::{NnError, Result};
use crate::mlp::Mlp;

/// `∂loss/∂W` and `∂loss/∂b` of one layer, same shapes as the layer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerGradients {
    pub(crate) weights: Array2<f32>,
    pub(crate) biases: Vec<f32>,
}

impl LayerGradients {
    /// Gradient of the weights, `inputs × outputs`.
    pub fn weights(&self) -> ArrayView2<'_, f32> {
        self.weights.view()
    }

    /// Gradient of the biases.
    pub fn biases(&self) -> ArrayView1<'_, f32> {
        ArrayView1::from(&self.biases)
    }
}

/// Gradients of every parameter of one [`Mlp`], filled by [`Mlp::backward`]. Also owns the
/// backward pass's scratch buffers, so reusing one `Gradients` across steps does not allocate.
#[derive(Debug, Clone, Default)]
pub struct Gradients {
    pub(crate) layers: Vec<LayerGradients>,
    /// `scratch[l]`: `∂loss/∂(input of layer l)`, `batch × width_l`; the last is `∂loss/∂output`.
    pub(crate) scratch: Vec<Array2<f32>>,
}

impl PartialEq for Gradients {
    fn eq(&self, other: &Self) -> bool {
        self.layers == other.layers
    }
}

impl Gradients {
    /// Zero gradients shaped like `net`'s parameters.
    pub fn zeros_like(net: &Mlp) -> Self {
        let layers = net
            .layers()
            .iter()
            .map(|l| LayerGradients {
                weights: Array2::zeros(l.weights().dim()),
                biases: vec![0.0; l.biases().len()],
            })
            .collect();
        Gradients {
            layers,
            scratch: Vec::new(),
        }
    }

    /// Per-layer gradients, input layer first.
    pub fn layers(&self) -> &[LayerGradients] {
        &self.layers
    }

    /// Gradient tensors as flat slices in the order `W_1, b_1, W_2, b_2, …` (the order of
    /// [`Mlp::parameter_slices_mut`]).
    pub fn slices(&self) -> Vec<&[f32]> {
        self.layers
            .iter()
            .flat_map(|l| {
                [
                    l.weights
                        .as_slice()
                        .expect("gradient arrays are in standard layout"),
                    l.biases.as_slice(),
                ]
            })
            .collect()
    }

    /// Sum of squares of every gradient element, accumulated in `f64`.
    pub fn squared_norm(&self) -> f64 {
        self.slices()
            .iter()
            .flat_map(|s| s.iter())
            .map(|&g| (g as f64) * (g as f64))
            .sum()
    }

    /// Euclidean norm over every gradient element.
    pub fn global_norm(&self) -> f32 {
        self.squared_norm().sqrt() as f32
    }

    /// Multiplies every gradient element by `factor`.
    pub fn scale(&mut self, factor: f32) {
        for layer in &mut self.layers {
            layer.weights.iter_mut().for_each(|g| *g *= factor);
            layer.biases.iter_mut().for_each(|g| *g *= factor);
        }
    }

    /// Clips these gradients to a global norm of at most `max_norm`; see [`clip_global_norm`].
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `max_norm` is not finite and positive.
    pub fn clip_global_norm(&mut self, max_norm: f32) -> Result<f32> {
        clip_global_norm(&mut [self], max_norm)
    }

    pub(crate) fn check_shapes(&self, net: &Mlp) -> Result<()> {
        let matches = self.layers.len() == net.layers().len()
            && self.layers.iter().zip(net.layers()).all(|(g, l)| {
                g.weights.dim() == l.weights().dim() && g.biases.len() == l.biases().len()
            });
        if matches {
            return Ok(());
        }
        Err(NnError::ShapeMismatch {
            what: "gradients",
            expected: format!("gradients of a {:?} network", net.config().layer_sizes()),
            got: format!(
                "{:?}",
                self.layers
                    .iter()
                    .map(|g| g.weights.dim())
                    .collect::<Vec<_>>()
            ),
        })
    }

    pub(crate) fn resize_scratch(&mut self, batch: usize, sizes: &[usize]) {
        crate::mlp::reshape_buffers(&mut self.scratch, batch, sizes);
    }
}

/// Scales all of `groups` jointly so that their combined Euclidean norm is at most `max_norm`,
/// as `torch.nn.utils.clip_grad_norm_` does over several modules (e.g. actor and critic): the
/// factor is `max_norm / (norm + 1e-6)` when it is below 1. Returns the norm before clipping.
///
/// # Errors
/// [`NnError::InvalidConfig`] if `max_norm` is not finite and positive.
pub fn clip_global_norm(groups: &mut [&mut Gradients], max_norm: f32) -> Result<f32> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(NnError::InvalidConfig {
            field: "max_norm",
            reason: format!("must be finite and > 0, got {max_norm}"),
        });
    }
    let norm = groups.iter().map(|g| g.squared_norm()).sum::<f64>().sqrt();
    let factor = max_norm as f64 / (norm + 1e-6);
    if factor < 1.0 {
        groups.iter_mut().for_each(|g| g.scale(factor as f32));
    }
    Ok(norm as f32)
}

//! The Q-network: an MLP, or a trunk with dueling value and advantage heads (Wang et al., 2016).

use ndarray::{Array2, ArrayView2};
use rand_pcg::Pcg64;

use crate::activation::Activation;
use crate::error::{Result, StudentError};
use crate::gradients::Gradients;
use crate::init::Init;
use crate::mlp::{ForwardCache, Mlp, MlpConfig};

/// `parts[0]` maps observations to Q-values, or for a dueling network to features, with
/// `parts[1]` the value head (features → 1) and `parts[2]` the advantage head (features → n).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct QNetwork {
    pub(super) parts: Vec<Mlp>,
}

/// Forward caches of each part of a [`QNetwork`].
#[derive(Debug, Clone, Default)]
pub(super) struct QCaches {
    pub(super) parts: Vec<ForwardCache>,
}

impl QNetwork {
    /// PyTorch's default `nn.Linear` initialisation (CleanRL and SB3 DQN), parts drawn in order.
    pub(super) fn new(
        obs_dim: usize,
        hidden: &[usize],
        activation: Activation,
        num_actions: usize,
        dueling: bool,
        rng: &mut Pcg64,
    ) -> Result<Self> {
        let init = Init::ScaledUniform { scale: 1.0 };
        if !dueling {
            let config = MlpConfig::new(obs_dim, hidden, activation, num_actions).with_init(init);
            return Ok(QNetwork {
                parts: vec![Mlp::new(config, rng)?],
            });
        }
        let (&features, trunk_hidden) = hidden.split_last().ok_or(StudentError::InvalidConfig {
            field: "hidden_sizes",
            reason: "a dueling head needs at least one hidden layer".into(),
        })?;
        let mut trunk = MlpConfig::new(obs_dim, trunk_hidden, activation, features).with_init(init);
        if let Some(last) = trunk.layers.last_mut() {
            last.activation = activation;
        }
        let value = MlpConfig::new(features, &[], activation, 1).with_init(init);
        let advantage = MlpConfig::new(features, &[], activation, num_actions).with_init(init);
        Ok(QNetwork {
            parts: vec![
                Mlp::new(trunk, rng)?,
                Mlp::new(value, rng)?,
                Mlp::new(advantage, rng)?,
            ],
        })
    }

    pub(super) fn is_dueling(&self) -> bool {
        self.parts.len() == 3
    }

    pub(super) fn obs_dim(&self) -> usize {
        self.parts[0].inputs()
    }

    pub(super) fn num_actions(&self) -> usize {
        self.parts[self.parts.len() - 1].outputs()
    }

    /// Hidden widths, as in the config that built it.
    pub(super) fn hidden_sizes(&self) -> Vec<usize> {
        let sizes = self.parts[0].config().layer_sizes();
        let end = if self.is_dueling() {
            sizes.len()
        } else {
            sizes.len() - 1
        };
        sizes[1..end].to_vec()
    }

    /// Q-values (`batch × num_actions`), keeping activations in `caches` for backprop.
    pub(super) fn forward(
        &self,
        input: ArrayView2<'_, f32>,
        caches: &mut QCaches,
    ) -> Result<Array2<f32>> {
        caches
            .parts
            .resize_with(self.parts.len(), ForwardCache::default);
        let (trunk_cache, head_caches) = caches.parts.split_at_mut(1);
        let out = self.parts[0].forward(input, &mut trunk_cache[0])?;
        if !self.is_dueling() {
            return Ok(out.to_owned());
        }
        let (value_cache, advantage_cache) = head_caches.split_at_mut(1);
        let value = self.parts[1].forward(out.view(), &mut value_cache[0])?;
        let advantage = self.parts[2].forward(out, &mut advantage_cache[0])?;
        let n = advantage.ncols() as f32;
        let mut q = advantage.to_owned();
        for (mut row, v) in q.rows_mut().into_iter().zip(value.column(0)) {
            let mean = row.sum() / n;
            row.mapv_inplace(|a| v + a - mean);
        }
        Ok(q)
    }

    /// Q-values without keeping activations (targets, acting).
    pub(super) fn predict(&self, input: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.forward(input, &mut QCaches::default())
    }

    /// Backprop of `d_q` (`∂loss/∂Q`) into `grads` (one per part). For the dueling combination
    /// `Q_j = V + A_j − mean_k A_k`: `∂/∂V = Σ_j ∂/∂Q_j`, `∂/∂A_k = ∂/∂Q_k − (1/n)·Σ_j ∂/∂Q_j`.
    pub(super) fn backward(
        &self,
        caches: &QCaches,
        d_q: ArrayView2<'_, f32>,
        grads: &mut [Gradients],
    ) -> Result<()> {
        if !self.is_dueling() {
            return Ok(self.parts[0].backward(&caches.parts[0], d_q, &mut grads[0])?);
        }
        let n = d_q.ncols() as f32;
        let d_value = d_q.sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1));
        let mut d_advantage = d_q.to_owned();
        for (mut row, &total) in d_advantage.rows_mut().into_iter().zip(d_value.iter()) {
            row.mapv_inplace(|g| g - total / n);
        }
        let (trunk_grads, head_grads) = grads.split_at_mut(1);
        let d_features_v = self.parts[1].backward_with_input_gradient(
            &caches.parts[1],
            d_value.view(),
            &mut head_grads[0],
        )?;
        let d_features_a = self.parts[2].backward_with_input_gradient(
            &caches.parts[2],
            d_advantage.view(),
            &mut head_grads[1],
        )?;
        let d_features = d_features_v + d_features_a;
        Ok(self.parts[0].backward(&caches.parts[0], d_features.view(), &mut trunk_grads[0])?)
    }

    /// `θ' ← τ·θ + (1 − τ)·θ'`; τ = 1 copies exactly.
    pub(super) fn update_towards(&mut self, online: &QNetwork, tau: f32) {
        if tau == 1.0 {
            self.clone_from(online);
            return;
        }
        for (target, source) in self.parts.iter_mut().zip(&online.parts) {
            target.update_towards(source, tau);
        }
    }
}

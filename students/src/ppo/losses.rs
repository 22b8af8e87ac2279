//! PPO's losses with their hand-derived gradients: the Gaussian and categorical clipped
//! surrogates with their entropies, the (clipped) value loss, and advantage normalisation.
//! Every gradient is checked against finite differences in the tests.

use ndarray::{Array2, ArrayView1, ArrayView2};

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Shifts and scales to zero mean, unit (sample, ddof = 1, as `torch.std`) std, ε = 1e-8.
pub(super) fn normalize_in_place(values: &mut [f32]) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    let std = var.sqrt() + 1e-8;
    values
        .iter_mut()
        .for_each(|v| *v = ((*v as f64 - mean) / std) as f32);
}

/// `log N(a; μ, diag σ²) = Σ_i −½((a_i − μ_i)/σ_i)² − log σ_i − ½ log 2π`.
pub(super) fn gaussian_log_prob(mean: &[f32], log_std: &[f32], action: &[f32]) -> f64 {
    mean.iter()
        .zip(log_std)
        .zip(action)
        .map(|((&m, &s), &a)| {
            let z = (a as f64 - m as f64) / libm::exp(s as f64);
            -0.5 * z * z - s as f64 - 0.5 * LN_2PI
        })
        .sum()
}

/// Policy loss of a minibatch and its gradients.
pub(super) struct PolicyLoss {
    /// `mean_b max(−A_b r_b, −A_b clip(r_b, 1 ± ε)) − c_ent · H`.
    pub(super) loss: f64,
    /// ∂loss/∂(actor outputs): the means of a Gaussian head, the logits of a categorical one
    /// (`batch × outputs`).
    pub(super) d_outputs: Array2<f32>,
    /// ∂loss/∂log σ (empty for a categorical head).
    pub(super) d_log_std: Vec<f32>,
    /// Entropy: `Σ_i ½ + ½ log 2π + log σ_i` (Gaussian, state-independent), or the minibatch
    /// mean of `−Σ_j p_j log p_j` (categorical).
    pub(super) entropy: f64,
    /// Mean of `(r − 1) − log r`.
    pub(super) approx_kl: f64,
    /// Samples with `|r − 1| > ε`.
    pub(super) clipped: usize,
}

/// One sample's share of the clipped surrogate.
pub(super) struct Surrogate {
    /// `max(−A r, −A clip(r, 1 ± ε)) / B`.
    pub(super) loss: f64,
    /// `((r − 1) − log r) / B`.
    pub(super) approx_kl: f64,
    /// `|r − 1| > ε`.
    pub(super) clipped: bool,
    /// ∂loss/∂log p: `−A·r/B` where the unclipped term is the max, else 0.
    pub(super) d_log_prob: f64,
}

/// The clipped surrogate of one sample with log-probability `log_prob` in a minibatch of
/// `batch`.
pub(super) fn clipped_surrogate(
    log_prob: f64,
    old_log_prob: f32,
    advantage: f32,
    clip_coef: f64,
    batch: usize,
) -> Surrogate {
    let log_ratio = log_prob - old_log_prob as f64;
    let ratio = libm::exp(log_ratio);
    let adv = advantage as f64;
    let unclipped = -adv * ratio;
    let clipped_term = -adv * ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef);
    Surrogate {
        loss: unclipped.max(clipped_term) / batch as f64,
        approx_kl: ((ratio - 1.0) - log_ratio) / batch as f64,
        clipped: (ratio - 1.0).abs() > clip_coef,
        d_log_prob: if unclipped >= clipped_term {
            -adv * ratio / batch as f64
        } else {
            0.0
        },
    }
}

/// Clipped surrogate with entropy bonus for a Gaussian head. With `z = (a − μ)/σ`:
/// `∂ log p/∂μ_i = z_i/σ_i`, `∂ log p/∂ log σ_i = z_i² − 1`, `∂H/∂ log σ_i = 1`.
pub(super) fn policy_loss(
    means: ArrayView2<'_, f32>,
    log_std: &[f32],
    actions: ArrayView2<'_, f32>,
    old_log_probs: &[f32],
    advantages: &[f32],
    clip_coef: f32,
    ent_coef: f32,
) -> PolicyLoss {
    let (batch, act_dim) = means.dim();
    let eps = clip_coef as f64;
    let mut d_means = Array2::zeros((batch, act_dim));
    let mut d_log_std = vec![0.0f64; act_dim];
    let (mut loss, mut approx_kl, mut clipped) = (0.0, 0.0, 0);
    for b in 0..batch {
        let mean = means.row(b);
        let action = actions.row(b);
        let mut log_prob = 0.0;
        for i in 0..act_dim {
            let z = (action[i] as f64 - mean[i] as f64) / libm::exp(log_std[i] as f64);
            log_prob += -0.5 * z * z - log_std[i] as f64 - 0.5 * LN_2PI;
        }
        let s = clipped_surrogate(log_prob, old_log_probs[b], advantages[b], eps, batch);
        loss += s.loss;
        approx_kl += s.approx_kl;
        clipped += usize::from(s.clipped);
        for i in 0..act_dim {
            let sigma = libm::exp(log_std[i] as f64);
            let z = (action[i] as f64 - mean[i] as f64) / sigma;
            d_means[(b, i)] = (s.d_log_prob * z / sigma) as f32;
            d_log_std[i] += s.d_log_prob * (z * z - 1.0);
        }
    }
    let entropy: f64 = log_std.iter().map(|&s| 0.5 + 0.5 * LN_2PI + s as f64).sum();
    loss -= ent_coef as f64 * entropy;
    PolicyLoss {
        loss,
        d_outputs: d_means,
        d_log_std: d_log_std
            .iter()
            .map(|g| (g - ent_coef as f64) as f32)
            .collect(),
        entropy,
        approx_kl,
        clipped,
    }
}

/// `log softmax(logits)` in `f64`, shifted by the maximum for stability.
pub(super) fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &z| m.max(z as f64));
    let log_sum = libm::log(
        logits
            .iter()
            .map(|&z| libm::exp(z as f64 - max))
            .sum::<f64>(),
    ) + max;
    logits.iter().map(|&z| z as f64 - log_sum).collect()
}

/// Index of the largest value, the first on ties (as `torch.argmax`).
pub(super) fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Clipped surrogate with entropy bonus for a categorical head over `logits` (`batch × n`) and
/// action indices `actions`. With `p = softmax(logits)` and `H_b = −Σ_j p_j log p_j`:
/// `∂ log p_a/∂logit_j = 1[j = a] − p_j` and `∂H_b/∂logit_j = −p_j (log p_j + H_b)`; the entropy
/// bonus is `c_ent` times the minibatch mean of `H_b`.
pub(super) fn categorical_policy_loss(
    logits: ArrayView2<'_, f32>,
    actions: ArrayView1<'_, f32>,
    old_log_probs: &[f32],
    advantages: &[f32],
    clip_coef: f32,
    ent_coef: f32,
) -> PolicyLoss {
    let (batch, n) = logits.dim();
    let mut d_logits = Array2::zeros((batch, n));
    let (mut loss, mut entropy, mut approx_kl, mut clipped) = (0.0, 0.0, 0.0, 0);
    let ent_weight = ent_coef as f64 / batch as f64;
    for b in 0..batch {
        let row = logits.row(b);
        let log_probs = log_softmax(row.as_slice().expect("actor outputs are contiguous"));
        let action = actions[b] as usize;
        let s = clipped_surrogate(
            log_probs[action],
            old_log_probs[b],
            advantages[b],
            clip_coef as f64,
            batch,
        );
        let h: f64 = -log_probs.iter().map(|&lp| libm::exp(lp) * lp).sum::<f64>();
        loss += s.loss - ent_weight * h;
        entropy += h / batch as f64;
        approx_kl += s.approx_kl;
        clipped += usize::from(s.clipped);
        for (j, &lp) in log_probs.iter().enumerate() {
            let p = libm::exp(lp);
            let indicator = if j == action { 1.0 } else { 0.0 };
            d_logits[(b, j)] = (s.d_log_prob * (indicator - p) + ent_weight * p * (lp + h)) as f32;
        }
    }
    PolicyLoss {
        loss,
        d_outputs: d_logits,
        d_log_std: Vec::new(),
        entropy,
        approx_kl,
        clipped,
    }
}

/// Value loss of a minibatch and its gradient.
pub(super) struct ValueLoss {
    /// `½ mean_b max((v − R)², (v_old + clip(v − v_old, ±ε) − R)²)`, or without the clipped
    /// term when value clipping is off.
    pub(super) loss: f64,
    /// ∂loss/∂v (`batch × 1`).
    pub(super) d_values: Array2<f32>,
}

/// Value loss: `∂/∂v = (v − R)/B` where the unclipped term is the max; the clipped term's
/// derivative is 0 when it is the (strictly) larger one, since then the clip is active.
pub(super) fn value_loss(
    values: ArrayView2<'_, f32>,
    old_values: &[f32],
    returns: &[f32],
    clip: Option<f32>,
) -> ValueLoss {
    let batch = values.nrows();
    let mut d_values = Array2::zeros((batch, 1));
    let mut loss = 0.0;
    for b in 0..batch {
        let v = values[(b, 0)] as f64;
        let target = returns[b] as f64;
        let unclipped = (v - target).powi(2);
        let (term, grad) = match clip {
            Some(eps) => {
                let old = old_values[b] as f64;
                let v_clipped = old + (v - old).clamp(-(eps as f64), eps as f64);
                let clipped = (v_clipped - target).powi(2);
                if unclipped >= clipped {
                    (unclipped, v - target)
                } else {
                    (clipped, 0.0)
                }
            }
            None => (unclipped, v - target),
        };
        loss += 0.5 * term / batch as f64;
        d_values[(b, 0)] = (grad / batch as f64) as f32;
    }
    ValueLoss { loss, d_values }
}

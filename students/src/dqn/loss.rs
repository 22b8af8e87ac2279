//! The Huber TD loss of a minibatch and its hand-derived gradient (SB3's `smooth_l1_loss`).

use ndarray::{Array2, ArrayView2};

/// TD loss of a minibatch and its gradient.
pub(crate) struct TdLoss {
    /// `mean_b huber_δ(Q(s_b, a_b) − y_b)`.
    pub(crate) loss: f64,
    /// ∂loss/∂Q (`batch × num_actions`, non-zero only at the actions taken).
    pub(crate) d_q: Array2<f32>,
    /// Mean of `Q(s_b, a_b)`.
    pub(crate) mean_q: f64,
}

/// Huber loss `huber_δ(x) = ½x²` for `|x| ≤ δ`, else `δ(|x| − ½δ)`, of the TD errors
/// `x_b = Q(s_b, a_b) − y_b`, averaged over the batch: `∂/∂Q(s_b, a_b) = clamp(x_b, ±δ)/B`.
pub(crate) fn huber_td_loss(
    q: ArrayView2<'_, f32>,
    actions: &[usize],
    targets: &[f32],
    delta: f32,
) -> TdLoss {
    let batch = q.nrows();
    let delta = delta as f64;
    let mut d_q = Array2::zeros(q.dim());
    let (mut loss, mut mean_q) = (0.0, 0.0);
    for b in 0..batch {
        let value = q[(b, actions[b])] as f64;
        let error = value - targets[b] as f64;
        loss += if error.abs() <= delta {
            0.5 * error * error
        } else {
            delta * (error.abs() - 0.5 * delta)
        } / batch as f64;
        mean_q += value / batch as f64;
        d_q[(b, actions[b])] = (error.clamp(-delta, delta) / batch as f64) as f32;
    }
    TdLoss { loss, d_q, mean_q }
}

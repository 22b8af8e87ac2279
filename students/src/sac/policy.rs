//! The squashed Gaussian policy of SAC: the actor MLP outputs `[μ | r]` per observation
//! (`act_dim` each), the log-std is `r` brought into `[log_std_min, log_std_max]` by a tanh
//! rescale (SpinningUp, CleanRL) or a clip (Stable-Baselines3), an action is `a = tanh(μ + σ·ε)` with `ε ~ N(0, I)`, and
//!
//! `log π(a|s) = Σⱼ [−½εⱼ² − log σⱼ − ½ log 2π − log(1 − aⱼ² + SQUASH_EPSILON)]`.
//!
//! [`squashed_output_gradient`] is the reparameterised gradient of a loss
//! `L(a, log π)` with respect to the actor's outputs, derived by hand and checked against finite
//! differences in the tests.

use ndarray::{Array2, ArrayView2};

use super::config::{LogStdBound, SQUASH_EPSILON};

/// `½ log 2π`.
const HALF_LOG_2PI: f64 = 0.918_938_533_204_672_7;

/// Actions and log-probabilities of a batch, with what the gradient needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct SquashedSample {
    /// Squashed actions in (−1, 1), `batch × act_dim`.
    pub actions: Vec<f32>,
    /// `log π(a|s)` per row.
    pub log_probs: Vec<f32>,
    /// The standard-normal noise used (0 for the deterministic action).
    pub noise: Vec<f32>,
    /// σ per element.
    pub std: Vec<f32>,
}

/// How the actor's raw log-std output `r` becomes the log-std: bounds and [`LogStdBound`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct LogStdMap {
    pub min: f32,
    pub max: f32,
    pub bound: LogStdBound,
}

impl LogStdMap {
    /// The log-std of `r`: `min + ½(max − min)(tanh r + 1)` or `clamp(r, min, max)`.
    fn log_std(&self, raw: f32) -> f32 {
        match self.bound {
            LogStdBound::Tanh => self.min + 0.5 * (self.max - self.min) * (libm::tanhf(raw) + 1.0),
            LogStdBound::Clip => raw.clamp(self.min, self.max),
        }
    }

    /// `∂ log_std / ∂r` (0 where the clip holds, as autograd's clamp).
    fn derivative(&self, raw: f32) -> f32 {
        match self.bound {
            LogStdBound::Tanh => {
                let t = libm::tanhf(raw);
                0.5 * (self.max - self.min) * (1.0 - t * t)
            }
            LogStdBound::Clip => f32::from(u8::from(raw > self.min && raw < self.max)),
        }
    }
}

/// Samples (or, with `noise` all zero, takes the mean of) the squashed Gaussian for each row of
/// the actor's `outputs` (`batch × 2·act_dim`).
pub(super) fn sample_squashed(
    outputs: ArrayView2<'_, f32>,
    noise: Vec<f32>,
    map: LogStdMap,
) -> SquashedSample {
    let (batch, width) = outputs.dim();
    let act_dim = width / 2;
    debug_assert_eq!(noise.len(), batch * act_dim);
    let mut actions = Vec::with_capacity(batch * act_dim);
    let mut std = Vec::with_capacity(batch * act_dim);
    let mut log_probs = Vec::with_capacity(batch);
    for i in 0..batch {
        let mut log_prob = 0.0f64;
        for j in 0..act_dim {
            let log_std = map.log_std(outputs[(i, act_dim + j)]);
            let sigma = libm::expf(log_std);
            let eps = noise[i * act_dim + j];
            let a = libm::tanhf(outputs[(i, j)] + sigma * eps);
            log_prob += -0.5 * (eps as f64) * (eps as f64)
                - log_std as f64
                - HALF_LOG_2PI
                - libm::log((1.0 - a * a + SQUASH_EPSILON) as f64);
            actions.push(a);
            std.push(sigma);
        }
        log_probs.push(log_prob as f32);
    }
    SquashedSample {
        actions,
        log_probs,
        noise,
        std,
    }
}

/// `∂L/∂outputs` (`batch × 2·act_dim`) of a loss whose gradients with respect to the sampled
/// actions (`d_actions`, `batch × act_dim`) and log-probabilities (`d_log_probs`, `batch`) are
/// given, through the reparameterisation `a = tanh(μ + σ(r)·ε)` with `ε` held fixed.
pub(super) fn squashed_output_gradient(
    outputs: ArrayView2<'_, f32>,
    sample: &SquashedSample,
    d_actions: &[f32],
    d_log_probs: &[f32],
    map: LogStdMap,
) -> Array2<f32> {
    let (batch, width) = outputs.dim();
    let act_dim = width / 2;
    let mut d_outputs = Array2::zeros((batch, width));
    for i in 0..batch {
        let g_log_prob = d_log_probs[i];
        for j in 0..act_dim {
            let k = i * act_dim + j;
            let a = sample.actions[k];
            let one_minus_a2 = 1.0 - a * a;
            // ∂L/∂(μ + σε): through a, and through the squash correction −log(1 − a² + ε).
            let d_pre = d_actions[k] * one_minus_a2
                + g_log_prob * 2.0 * a * one_minus_a2 / (one_minus_a2 + SQUASH_EPSILON);
            let d_log_std = d_pre * sample.std[k] * sample.noise[k] - g_log_prob;
            d_outputs[(i, j)] = d_pre;
            d_outputs[(i, act_dim + j)] = d_log_std * map.derivative(outputs[(i, act_dim + j)]);
        }
    }
    d_outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    const TANH: LogStdMap = LogStdMap {
        min: -5.0,
        max: 2.0,
        bound: LogStdBound::Tanh,
    };
    const CLIP: LogStdMap = LogStdMap {
        min: -1.0,
        max: 1.0,
        bound: LogStdBound::Clip,
    };

    /// A loss of both outputs of the sampler: `L = Σ cᵢⱼ aᵢⱼ + Σ wᵢ log πᵢ`.
    fn loss(outputs: &Array2<f32>, noise: &[f32], c: &[f32], w: &[f32], map: LogStdMap) -> f64 {
        let s = sample_squashed(outputs.view(), noise.to_vec(), map);
        let a: f64 = s.actions.iter().zip(c).map(|(a, c)| (*a * *c) as f64).sum();
        let l: f64 = s
            .log_probs
            .iter()
            .zip(w)
            .map(|(l, w)| (*l * *w) as f64)
            .sum();
        a + l
    }

    #[test]
    fn output_gradient_matches_finite_differences() {
        output_gradient_matches_finite_differences_with(TANH);
        // Raw log-stds −1.2 and 1.1 lie outside [−1, 1]: their gradient is 0, the others' 1.
        output_gradient_matches_finite_differences_with(CLIP);
    }

    fn output_gradient_matches_finite_differences_with(map: LogStdMap) {
        let outputs =
            Array2::from_shape_vec((2, 4), vec![0.3, -0.8, 0.5, -1.2, -0.1, 1.1, -0.4, 0.9])
                .unwrap();
        let noise = vec![0.7, -1.3, 0.2, 0.5];
        let c = vec![1.5, -0.7, 0.3, 2.0];
        let w = vec![0.2, -0.6];
        let s = sample_squashed(outputs.view(), noise.clone(), map);
        let grad = squashed_output_gradient(outputs.view(), &s, &c, &w, map);
        let h = 1e-2f32;
        for i in 0..2 {
            for j in 0..4 {
                let mut plus = outputs.clone();
                plus[(i, j)] += h;
                let mut minus = outputs.clone();
                minus[(i, j)] -= h;
                let numeric = (loss(&plus, &noise, &c, &w, map)
                    - loss(&minus, &noise, &c, &w, map))
                    / (2.0 * h as f64);
                let analytic = grad[(i, j)] as f64;
                assert!(
                    (numeric - analytic).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "({i}, {j}): numeric {numeric}, analytic {analytic}"
                );
            }
        }
    }

    #[test]
    fn log_prob_is_the_gaussian_density_corrected_for_the_squash() {
        // One component, μ = 0.2, r chosen so that log σ = 0: a = tanh(0.2 + ε).
        let (min, max) = (-5.0f32, 2.0f32);
        // tanh r = (0 − min)/(½(max − min)) − 1
        let raw = libm::atanhf(-min / (0.5 * (max - min)) - 1.0);
        let outputs = Array2::from_shape_vec((1, 2), vec![0.2, raw]).unwrap();
        let s = sample_squashed(
            outputs.view(),
            vec![0.5],
            LogStdMap {
                min,
                max,
                bound: LogStdBound::Tanh,
            },
        );
        let a = libm::tanh(0.7);
        let expected = -0.125 - HALF_LOG_2PI - libm::log(1.0 - a * a + 1e-6);
        assert!((s.actions[0] as f64 - a).abs() < 1e-6);
        assert!(
            (s.log_probs[0] as f64 - expected).abs() < 1e-4,
            "{}",
            s.log_probs[0]
        );
        assert!((s.std[0] - 1.0).abs() < 1e-5);
    }
}

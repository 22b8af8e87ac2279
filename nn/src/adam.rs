//! The Adam optimiser (Kingma & Ba, 2015) with optional decoupled weight decay (AdamW,
//! Loshchilov & Hutter, 2019), following PyTorch's `torch.optim.Adam`/`AdamW` update.

use serde::{Deserialize, Serialize};

use crate::error::{check_finite, NnError, Result};
use crate::gradients::Gradients;
use crate::mlp::Mlp;

/// Default step size: 1e-3 (PyTorch's `Adam` default; PPO configs override it, e.g. 3e-4).
pub const DEFAULT_LEARNING_RATE: f32 = 1e-3;
/// Default decay rate of the first-moment (mean) estimate: 0.9.
pub const DEFAULT_BETA1: f32 = 0.9;
/// Default decay rate of the second-moment (uncentred variance) estimate: 0.999.
pub const DEFAULT_BETA2: f32 = 0.999;
/// Default term added to the denominator for stability: 1e-8 (PyTorch; CleanRL's PPO uses 1e-5).
pub const DEFAULT_EPSILON: f32 = 1e-8;
/// Default decoupled weight decay per unit learning rate: 0 (plain Adam).
pub const DEFAULT_WEIGHT_DECAY: f32 = 0.0;

/// Hyper-parameters of [`Adam`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamConfig {
    /// Step size `lr` (> 0). Default: [`DEFAULT_LEARNING_RATE`].
    pub learning_rate: f32,
    /// First-moment decay `β1` ∈ [0, 1). Default: [`DEFAULT_BETA1`].
    pub beta1: f32,
    /// Second-moment decay `β2` ∈ [0, 1). Default: [`DEFAULT_BETA2`].
    pub beta2: f32,
    /// Denominator term `ε` (> 0). Default: [`DEFAULT_EPSILON`].
    pub epsilon: f32,
    /// Decoupled weight decay `λ` (≥ 0): each step first multiplies parameters by `1 − lr·λ`
    /// (AdamW). 0 gives plain Adam. Default: [`DEFAULT_WEIGHT_DECAY`].
    pub weight_decay: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            learning_rate: DEFAULT_LEARNING_RATE,
            beta1: DEFAULT_BETA1,
            beta2: DEFAULT_BETA2,
            epsilon: DEFAULT_EPSILON,
            weight_decay: DEFAULT_WEIGHT_DECAY,
        }
    }
}

impl AdamConfig {
    /// Checks every field; returns [`NnError::InvalidConfig`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let positive = |field, v: f32| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(NnError::InvalidConfig {
                    field,
                    reason: format!("must be finite and > 0, got {v}"),
                })
            }
        };
        let unit = |field, v: f32| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(NnError::InvalidConfig {
                    field,
                    reason: format!("must be in [0, 1), got {v}"),
                })
            }
        };
        positive("learning_rate", self.learning_rate)?;
        unit("beta1", self.beta1)?;
        unit("beta2", self.beta2)?;
        positive("epsilon", self.epsilon)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(NnError::InvalidConfig {
                field: "weight_decay",
                reason: format!("must be finite and ≥ 0, got {}", self.weight_decay),
            });
        }
        Ok(())
    }
}

/// Adam/AdamW state for one set of parameter tensors. Per element, step `t`:
///
/// ```text
/// p ← p · (1 − lr·λ)                       (only if weight_decay λ > 0)
/// m ← β1·m + (1 − β1)·g
/// v ← β2·v + (1 − β2)·g²
/// p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// ```
///
/// # Example
/// ```
/// use teachgym_nn::{Activation, Adam, AdamConfig, Gradients, Mlp, MlpConfig};
/// # fn main() -> Result<(), teachgym_nn::NnError> {
/// let mut net = Mlp::from_seed(MlpConfig::new(2, &[4], Activation::Relu, 1), 0)?;
/// let mut adam = Adam::new(AdamConfig { learning_rate: 3e-4, ..AdamConfig::default() }, &net)?;
/// let grads = Gradients::zeros_like(&net);
/// adam.step(&mut net, &grads)?;
/// assert_eq!(adam.steps_taken(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    pub(crate) config: AdamConfig,
    pub(crate) steps_taken: u64,
    /// `β1ᵗ` and `β2ᵗ`, kept as running `f64` products so bias corrections are exact and
    /// identical on every platform.
    pub(crate) beta1_power: f64,
    pub(crate) beta2_power: f64,
    pub(crate) first_moments: Vec<Vec<f32>>,
    pub(crate) second_moments: Vec<Vec<f32>>,
}

impl Adam {
    /// Zero-moment Adam state for the parameters of `net`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for an invalid `config`.
    pub fn new(config: AdamConfig, net: &Mlp) -> Result<Self> {
        let lengths: Vec<usize> = net.parameter_slices().iter().map(|s| s.len()).collect();
        Adam::for_tensor_lengths(config, &lengths)
    }

    /// Zero-moment Adam state for arbitrary parameter tensors of the given lengths (e.g. a PPO
    /// policy's state-independent log-std), used with [`Adam::step_slices`].
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for an invalid `config`.
    pub fn for_tensor_lengths(config: AdamConfig, lengths: &[usize]) -> Result<Self> {
        config.validate()?;
        Ok(Adam {
            config,
            steps_taken: 0,
            beta1_power: 1.0,
            beta2_power: 1.0,
            first_moments: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            second_moments: lengths.iter().map(|&n| vec![0.0; n]).collect(),
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Number of steps taken so far (`t` of the last step).
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Changes the step size (learning-rate annealing).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] unless `learning_rate` is finite and > 0.
    pub fn set_learning_rate(&mut self, learning_rate: f32) -> Result<()> {
        AdamConfig {
            learning_rate,
            ..self.config
        }
        .validate()?;
        self.config.learning_rate = learning_rate;
        Ok(())
    }

    /// One update of `net`'s parameters with `grads` (from [`Mlp::backward`]).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `net` or `grads` do not match the shapes this state
    /// was built for, [`NnError::NonFinite`] for NaN/∞ gradients. Nothing is modified on
    /// error.
    pub fn step(&mut self, net: &mut Mlp, grads: &Gradients) -> Result<()> {
        grads.check_shapes(net)?;
        let grad_slices = grads.slices();
        self.step_slices(&mut net.parameter_slices_mut(), &grad_slices)
    }

    /// One update of arbitrary parameter tensors; `params[i]` and `grads[i]` must have the
    /// lengths this state was built for.
    ///
    /// # Errors
    /// As [`Adam::step`].
    pub fn step_slices(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) -> Result<()> {
        let expected: Vec<usize> = self.first_moments.iter().map(Vec::len).collect();
        let got_params: Vec<usize> = params.iter().map(|p| p.len()).collect();
        let got_grads: Vec<usize> = grads.iter().map(|g| g.len()).collect();
        for (what, got) in [("parameters", got_params), ("gradients", got_grads)] {
            if got != expected {
                return Err(NnError::ShapeMismatch {
                    what,
                    expected: format!("tensor lengths {expected:?}"),
                    got: format!("tensor lengths {got:?}"),
                });
            }
        }
        for g in grads {
            check_finite("gradients", g)?;
        }
        let AdamConfig {
            learning_rate,
            beta1,
            beta2,
            epsilon,
            weight_decay,
        } = self.config;
        // Saturating: a restored state may carry any count (the bias corrections use the
        // powers below, not the count).
        self.steps_taken = self.steps_taken.saturating_add(1);
        self.beta1_power *= beta1 as f64;
        self.beta2_power *= beta2 as f64;
        let step_size = (learning_rate as f64 / (1.0 - self.beta1_power)) as f32;
        let bias_correction2_sqrt = (1.0 - self.beta2_power).sqrt() as f32;
        let decay = 1.0 - learning_rate * weight_decay;
        let tensors = params
            .iter_mut()
            .zip(grads)
            .zip(self.first_moments.iter_mut().zip(&mut self.second_moments));
        for ((param, grad), (first, second)) in tensors {
            // Equal-length re-slicing lets the compiler drop bounds checks and vectorise.
            let n = param.len();
            let (param, grad, first, second) = (
                &mut param[..n],
                &grad[..n],
                &mut first[..n],
                &mut second[..n],
            );
            if weight_decay > 0.0 {
                param.iter_mut().for_each(|p| *p *= decay);
            }
            for i in 0..n {
                let g = grad[i];
                let m = beta1 * first[i] + (1.0 - beta1) * g;
                let v = beta2 * second[i] + (1.0 - beta2) * g * g;
                first[i] = m;
                second[i] = v;
                param[i] -= step_size * m / (v.sqrt() / bias_correction2_sqrt + epsilon);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matches_documented_constants() {
        let c = AdamConfig::default();
        assert_eq!(
            (c.learning_rate, c.beta1, c.beta2, c.epsilon, c.weight_decay),
            (1e-3, 0.9, 0.999, 1e-8, 0.0)
        );
        c.validate().unwrap();
        // Missing fields in a config file take the documented defaults.
        assert_eq!(serde_json::from_str::<AdamConfig>("{}").unwrap(), c);
        let partial: AdamConfig = serde_json::from_str(r#"{"learning_rate": 3e-4}"#).unwrap();
        assert_eq!(
            partial,
            AdamConfig {
                learning_rate: 3e-4,
                ..c
            }
        );
    }

    /// Two steps on one scalar, values worked out by hand (and checked with Python floats).
    #[test]
    fn two_steps_match_hand_computation() {
        let config = AdamConfig {
            learning_rate: 0.1,
            ..AdamConfig::default()
        };
        let mut adam = Adam::for_tensor_lengths(config, &[1]).unwrap();
        let mut p = [1.0f32];
        // t = 1, g = 0.5: m = 0.05, v = 0.00025, m̂ = 0.5, √v̂ = 0.5 → p = 1 − 0.1·0.5/(0.5 + 1e-8).
        adam.step_slices(&mut [&mut p], &[&[0.5]]).unwrap();
        assert!((p[0] - 0.9).abs() < 1e-6, "{}", p[0]);
        // t = 2, g = −1: m = −0.055, v = 0.00124975, m̂ = −0.055/0.19, √v̂ = √(0.00124975/0.001999)
        // = 0.790688…, step = 0.1·(−0.289473…)/0.790688… = −0.036610 → p = 0.936610.
        adam.step_slices(&mut [&mut p], &[&[-1.0]]).unwrap();
        assert!((p[0] - 0.936_610).abs() < 2e-6, "{}", p[0]);
        assert_eq!(adam.steps_taken(), 2);
    }

    #[test]
    fn weight_decay_is_decoupled() {
        let config = AdamConfig {
            learning_rate: 0.1,
            weight_decay: 0.5,
            ..AdamConfig::default()
        };
        let mut adam = Adam::for_tensor_lengths(config, &[1]).unwrap();
        let mut p = [2.0f32];
        // p·(1 − 0.05) = 1.9, then the Adam step with zero gradient does nothing.
        adam.step_slices(&mut [&mut p], &[&[0.0]]).unwrap();
        assert!((p[0] - 1.9).abs() < 1e-6);
    }

    #[test]
    fn bad_config_and_bad_shapes_are_errors() {
        for bad in [
            AdamConfig {
                learning_rate: 0.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                beta1: 1.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                beta2: f32::NAN,
                ..AdamConfig::default()
            },
            AdamConfig {
                epsilon: -1.0,
                ..AdamConfig::default()
            },
            AdamConfig {
                weight_decay: -0.1,
                ..AdamConfig::default()
            },
        ] {
            assert!(matches!(
                Adam::for_tensor_lengths(bad, &[1]),
                Err(NnError::InvalidConfig { .. })
            ));
        }
        let mut adam = Adam::for_tensor_lengths(AdamConfig::default(), &[2]).unwrap();
        let mut p = [0.0f32; 3];
        assert!(matches!(
            adam.step_slices(&mut [&mut p], &[&[0.0; 3]]),
            Err(NnError::ShapeMismatch { .. })
        ));
        let mut p = [0.0f32; 2];
        assert!(matches!(
            adam.step_slices(&mut [&mut p], &[&[0.0, f32::NAN]]),
            Err(NnError::NonFinite { .. })
        ));
        assert_eq!(adam.steps_taken(), 0);
        assert!(adam.set_learning_rate(f32::INFINITY).is_err());
        adam.set_learning_rate(0.5).unwrap();
        assert_eq!(adam.config().learning_rate, 0.5);
    }

    /// A restored state may carry any step count (a checkpoint edited or corrupted): stepping
    /// from the largest one saturates instead of overflowing.
    #[test]
    fn a_restored_step_count_at_u64_max_saturates() {
        let mut adam = Adam::for_tensor_lengths(AdamConfig::default(), &[1]).unwrap();
        adam.steps_taken = u64::MAX;
        let mut p = [1.0f32];
        adam.step_slices(&mut [&mut p], &[&[2.0]]).unwrap();
        assert_eq!(adam.steps_taken(), u64::MAX);
        assert!(p[0] < 1.0);
    }
}

//! RMSProp (Tieleman & Hinton, 2012) exactly as TensorFlow 1's `tf.train.RMSPropOptimizer`
//! runs it without momentum: the optimiser of the GoalGAN networks (rllab-curriculum's `FCGAN`,
//! run unchanged by TeachMyAgent).
//!
//! Two details of TensorFlow 1 differ from PyTorch's and Keras's RMSProp and are kept:
//! - the mean square starts at **1**, not 0 (`rms` slots use `ones_initializer`), so the first
//!   steps are about `lr · g`, not `lr · sign(g) / √(1 − ρ)`;
//! - `ε` is added **inside** the square root: `g · lr / √(ms + ε)`, with `ε = 1e-10`.
//!
//! The update of one element, in `f32` and in this order (TensorFlow's `ApplyRMSProp` kernel):
//!
//! ```text
//! ms ← ms + (g² − ms) · (1 − ρ)
//! p  ← p − (g · lr) / √(ms + ε)
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{check_finite, NnError, Result};
use crate::gradients::Gradients;
use crate::mlp::Mlp;

/// Default step size: 1e-3 (GoalGAN's; TensorFlow's RMSProp has no default).
pub const DEFAULT_RMSPROP_LEARNING_RATE: f32 = 1e-3;
/// Default decay `ρ` of the mean square: 0.9 (TensorFlow 1).
pub const DEFAULT_RMSPROP_DECAY: f32 = 0.9;
/// Default `ε`, added inside the square root: 1e-10 (TensorFlow 1).
pub const DEFAULT_RMSPROP_EPSILON: f32 = 1e-10;
/// Default initial mean square: 1 (TensorFlow 1's `ones_initializer`; PyTorch and Keras use 0).
pub const DEFAULT_RMSPROP_INITIAL_MEAN_SQUARE: f32 = 1.0;

/// Hyper-parameters of [`RmsProp`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RmsPropConfig {
    /// Step size `lr` (> 0). Default: [`DEFAULT_RMSPROP_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Mean-square decay `ρ` ∈ [0, 1). Default: [`DEFAULT_RMSPROP_DECAY`].
    pub decay: f32,
    /// `ε` added to the mean square under the root (> 0). Default: [`DEFAULT_RMSPROP_EPSILON`].
    pub epsilon: f32,
    /// Mean square before the first step (≥ 0). Default: [`DEFAULT_RMSPROP_INITIAL_MEAN_SQUARE`].
    pub initial_mean_square: f32,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            learning_rate: DEFAULT_RMSPROP_LEARNING_RATE,
            decay: DEFAULT_RMSPROP_DECAY,
            epsilon: DEFAULT_RMSPROP_EPSILON,
            initial_mean_square: DEFAULT_RMSPROP_INITIAL_MEAN_SQUARE,
        }
    }
}

impl RmsPropConfig {
    /// Checks every field; returns [`NnError::InvalidConfig`] naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        let check = |field, ok: bool, v: f32, need: &str| {
            if ok {
                Ok(())
            } else {
                Err(NnError::InvalidConfig {
                    field,
                    reason: format!("must be {need}, got {v}"),
                })
            }
        };
        let lr = self.learning_rate;
        check(
            "learning_rate",
            lr.is_finite() && lr > 0.0,
            lr,
            "finite and > 0",
        )?;
        check(
            "decay",
            (0.0..1.0).contains(&self.decay),
            self.decay,
            "in [0, 1)",
        )?;
        let eps = self.epsilon;
        check(
            "epsilon",
            eps.is_finite() && eps > 0.0,
            eps,
            "finite and > 0",
        )?;
        let ms = self.initial_mean_square;
        check(
            "initial_mean_square",
            ms.is_finite() && ms >= 0.0,
            ms,
            "finite and ≥ 0",
        )
    }
}

/// RMSProp state for one set of parameter tensors: the mean square of every parameter's
/// gradient. See the [module docs](self) for the update.
///
/// Serialisable as it is (every `f32` round-trips exactly through `serde_json` with
/// `float_roundtrip`); after deserialising, [`RmsProp::check_matches`] verifies it fits a
/// network.
///
/// # Example
/// ```
/// use teachgym_nn::{Activation, Gradients, Mlp, MlpConfig, RmsProp, RmsPropConfig};
/// # fn main() -> Result<(), teachgym_nn::NnError> {
/// let mut net = Mlp::from_seed(MlpConfig::new(2, &[4], Activation::Relu, 1), 0)?;
/// let mut rmsprop = RmsProp::new(RmsPropConfig::default(), &net)?;
/// let grads = Gradients::zeros_like(&net);
/// rmsprop.step(&mut net, &grads)?;
/// assert_eq!(rmsprop.steps_taken(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RmsProp {
    config: RmsPropConfig,
    steps_taken: u64,
    mean_squares: Vec<Vec<f32>>,
}

impl RmsProp {
    /// Fresh state (every mean square at `config.initial_mean_square`) for `net`'s parameters.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for an invalid `config`.
    pub fn new(config: RmsPropConfig, net: &Mlp) -> Result<Self> {
        let lengths: Vec<usize> = net.parameter_slices().iter().map(|s| s.len()).collect();
        RmsProp::for_tensor_lengths(config, &lengths)
    }

    /// Fresh state for arbitrary parameter tensors of the given lengths, used with
    /// [`RmsProp::step_slices`].
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for an invalid `config`.
    pub fn for_tensor_lengths(config: RmsPropConfig, lengths: &[usize]) -> Result<Self> {
        config.validate()?;
        Ok(RmsProp {
            config,
            steps_taken: 0,
            mean_squares: lengths
                .iter()
                .map(|&n| vec![config.initial_mean_square; n])
                .collect(),
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    /// Number of steps taken so far.
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Checks that a (deserialised) state fits `net`: valid config, one mean square per
    /// parameter, all finite and non-negative.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for a bad config, [`NnError::ShapeMismatch`] for other
    /// tensor lengths, [`NnError::NonFinite`] for a NaN/∞ or negative mean square.
    pub fn check_matches(&self, net: &Mlp) -> Result<()> {
        self.config.validate()?;
        let expected: Vec<usize> = net.parameter_slices().iter().map(|s| s.len()).collect();
        let got: Vec<usize> = self.mean_squares.iter().map(Vec::len).collect();
        if got != expected {
            return Err(NnError::ShapeMismatch {
                what: "RMSProp mean squares",
                expected: format!("tensor lengths {expected:?}"),
                got: format!("tensor lengths {got:?}"),
            });
        }
        for tensor in &self.mean_squares {
            check_finite("RMSProp mean squares", tensor)?;
            if let Some(index) = tensor.iter().position(|&v| v < 0.0) {
                return Err(NnError::NonFinite {
                    what: "RMSProp mean squares (negative)",
                    index,
                    value: tensor[index],
                });
            }
        }
        Ok(())
    }

    /// One update of `net`'s parameters with `grads` (from [`Mlp::backward`]).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `net` or `grads` do not match the shapes this state was
    /// built for, [`NnError::NonFinite`] for NaN/∞ gradients. Nothing is modified on error.
    pub fn step(&mut self, net: &mut Mlp, grads: &Gradients) -> Result<()> {
        grads.check_shapes(net)?;
        let grad_slices = grads.slices();
        self.step_slices(&mut net.parameter_slices_mut(), &grad_slices)
    }

    /// One update of arbitrary parameter tensors; `params[i]` and `grads[i]` must have the
    /// lengths this state was built for.
    ///
    /// # Errors
    /// As [`RmsProp::step`].
    pub fn step_slices(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) -> Result<()> {
        let expected: Vec<usize> = self.mean_squares.iter().map(Vec::len).collect();
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
        let RmsPropConfig {
            learning_rate,
            decay,
            epsilon,
            ..
        } = self.config;
        let keep = 1.0 - decay;
        // Saturating: a restored state may carry any count (the update does not read it).
        self.steps_taken = self.steps_taken.saturating_add(1);
        for ((param, grad), mean_square) in params.iter_mut().zip(grads).zip(&mut self.mean_squares)
        {
            // Equal-length re-slicing lets the compiler drop bounds checks and vectorise.
            let n = param.len();
            let (param, grad, mean_square) = (&mut param[..n], &grad[..n], &mut mean_square[..n]);
            for i in 0..n {
                let g = grad[i];
                let ms = mean_square[i] + (g * g - mean_square[i]) * keep;
                mean_square[i] = ms;
                param[i] -= (g * learning_rate) / (ms + epsilon).sqrt();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, MlpConfig};

    #[test]
    fn defaults_are_tensorflow_1s() {
        let c = RmsPropConfig::default();
        assert_eq!(
            (c.learning_rate, c.decay, c.epsilon, c.initial_mean_square),
            (1e-3, 0.9, 1e-10, 1.0)
        );
        c.validate().unwrap();
        assert_eq!(serde_json::from_str::<RmsPropConfig>("{}").unwrap(), c);
    }

    /// Three steps on one scalar, worked out by hand in f64 (the f32 result agrees to 1e-6):
    /// ms starts at 1 (TensorFlow 1), ε sits inside the root.
    #[test]
    fn steps_match_hand_computation() {
        let config = RmsPropConfig {
            learning_rate: 0.1,
            ..RmsPropConfig::default()
        };
        let mut rmsprop = RmsProp::for_tensor_lengths(config, &[1]).unwrap();
        let mut p = [1.0f32];
        // g = 2: ms = 1 + (4 − 1)·0.1 = 1.3; p = 1 − 0.2/√1.3 = 0.824589…
        rmsprop.step_slices(&mut [&mut p], &[&[2.0]]).unwrap();
        assert!((p[0] - 0.824_588_4).abs() < 1e-6, "{}", p[0]);
        // g = −1: ms = 1.3 + (1 − 1.3)·0.1 = 1.27; p = 0.824589 + 0.1/√1.27 = 0.913324…
        rmsprop.step_slices(&mut [&mut p], &[&[-1.0]]).unwrap();
        assert!((p[0] - 0.913_324).abs() < 1e-6, "{}", p[0]);
        // g = 0: ms decays to 1.143, p unchanged.
        rmsprop.step_slices(&mut [&mut p], &[&[0.0]]).unwrap();
        assert!((p[0] - 0.913_324).abs() < 1e-6, "{}", p[0]);
        assert!((rmsprop.mean_squares[0][0] - 1.143).abs() < 1e-6);
        assert_eq!(rmsprop.steps_taken(), 3);
        // Starting from 0 (PyTorch/Keras), the first step is lr / √(1 − ρ) · sign(g) instead.
        let keras = RmsPropConfig {
            learning_rate: 0.1,
            initial_mean_square: 0.0,
            ..RmsPropConfig::default()
        };
        let mut rmsprop = RmsProp::for_tensor_lengths(keras, &[1]).unwrap();
        let mut p = [0.0f32];
        rmsprop.step_slices(&mut [&mut p], &[&[5.0]]).unwrap();
        assert!((p[0] + 0.1 / 0.1f32.sqrt()).abs() < 1e-5, "{}", p[0]);
    }

    /// A restored state may carry any step count (a checkpoint edited or corrupted): stepping
    /// from the largest one saturates instead of overflowing.
    #[test]
    fn a_restored_step_count_at_u64_max_saturates() {
        let mut rmsprop = RmsProp::for_tensor_lengths(RmsPropConfig::default(), &[1]).unwrap();
        rmsprop.steps_taken = u64::MAX;
        let mut p = [1.0f32];
        rmsprop.step_slices(&mut [&mut p], &[&[2.0]]).unwrap();
        assert_eq!(rmsprop.steps_taken(), u64::MAX);
        assert!(p[0] < 1.0);
    }

    #[test]
    fn trains_a_network_and_round_trips_through_json() {
        let mut net = Mlp::from_seed(MlpConfig::new(2, &[8], Activation::Tanh, 1), 4).unwrap();
        let config = RmsPropConfig {
            learning_rate: 1e-2,
            ..RmsPropConfig::default()
        };
        let mut rmsprop = RmsProp::new(config, &net).unwrap();
        let x = ndarray::Array2::from_shape_fn((16, 2), |(r, c)| (r as f32 * 0.1) - c as f32);
        let mut cache = crate::ForwardCache::default();
        let mut grads = Gradients::zeros_like(&net);
        let mut first_loss = None;
        let mut loss = 0.0;
        for _ in 0..200 {
            let y = net.forward(x.view(), &mut cache).unwrap().to_owned();
            // Regress every output to 2: ½ mean (y − 2)².
            let g = y.mapv(|v| (v - 2.0) / 16.0);
            loss = y.iter().map(|v| 0.5 * (v - 2.0) * (v - 2.0)).sum::<f32>() / 16.0;
            first_loss.get_or_insert(loss);
            net.backward(&cache, g.view(), &mut grads).unwrap();
            rmsprop.step(&mut net, &grads).unwrap();
        }
        assert!(loss < 0.01 * first_loss.unwrap(), "{first_loss:?} → {loss}");
        let json = serde_json::to_string(&rmsprop).unwrap();
        let back: RmsProp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rmsprop);
        back.check_matches(&net).unwrap();
        let other = Mlp::from_seed(MlpConfig::new(3, &[8], Activation::Tanh, 1), 4).unwrap();
        assert!(matches!(
            back.check_matches(&other),
            Err(NnError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn bad_config_and_bad_input_are_errors() {
        for bad in [
            RmsPropConfig {
                learning_rate: 0.0,
                ..RmsPropConfig::default()
            },
            RmsPropConfig {
                decay: 1.0,
                ..RmsPropConfig::default()
            },
            RmsPropConfig {
                epsilon: f32::NAN,
                ..RmsPropConfig::default()
            },
            RmsPropConfig {
                initial_mean_square: -1.0,
                ..RmsPropConfig::default()
            },
        ] {
            assert!(matches!(
                RmsProp::for_tensor_lengths(bad, &[1]),
                Err(NnError::InvalidConfig { .. })
            ));
        }
        let mut rmsprop = RmsProp::for_tensor_lengths(RmsPropConfig::default(), &[2]).unwrap();
        let mut p = [0.0f32; 2];
        assert!(matches!(
            rmsprop.step_slices(&mut [&mut p], &[&[0.0, f32::INFINITY]]),
            Err(NnError::NonFinite { .. })
        ));
        let mut p3 = [0.0f32; 3];
        assert!(matches!(
            rmsprop.step_slices(&mut [&mut p3], &[&[0.0; 3]]),
            Err(NnError::ShapeMismatch { .. })
        ));
        assert_eq!(rmsprop.steps_taken(), 0);
        assert_eq!(p, [0.0; 2]);
    }
}

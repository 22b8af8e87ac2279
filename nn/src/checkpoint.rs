//! Versioned save/load of a network's parameters and (optionally) its Adam state, bit for bit,
//! so a restored learner continues exactly as one never stopped.
//!
//! The format is JSON (via serde); [`CHECKPOINT_FORMAT_VERSION`] is bumped on every incompatible
//! change and checked before anything else is parsed.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::adam::{Adam, AdamConfig};
use crate::error::{NnError, Result};
use crate::mlp::{Layer, Mlp, MlpConfig};

/// Version of the checkpoint format this build writes and reads.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 1;

/// Parameters of one layer, row-major weights (`inputs × outputs`) then biases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerParameters {
    /// Row-major weights, `inputs · outputs` values.
    pub weights: Vec<f32>,
    /// Biases, `outputs` values.
    pub biases: Vec<f32>,
}

/// Adam state: hyper-parameters, step count, bias-correction products and both moments per
/// parameter tensor (same order as [`Mlp::parameter_slices`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamState {
    /// Hyper-parameters (including the current, possibly annealed, learning rate).
    pub config: AdamConfig,
    /// Steps taken.
    pub steps_taken: u64,
    /// `β1ᵗ`.
    pub beta1_power: f64,
    /// `β2ᵗ`.
    pub beta2_power: f64,
    /// First moments per tensor.
    pub first_moments: Vec<Vec<f32>>,
    /// Second moments per tensor.
    pub second_moments: Vec<Vec<f32>>,
}

/// A saved network and optimiser. Build with [`Checkpoint::capture`], persist with
/// [`Checkpoint::to_json`], read back with [`Checkpoint::from_json`] and [`Checkpoint::restore`].
///
/// # Example
/// ```
/// use teachgym_nn::{Activation, Adam, AdamConfig, Checkpoint, Mlp, MlpConfig};
/// # fn main() -> Result<(), teachgym_nn::NnError> {
/// let net = Mlp::from_seed(MlpConfig::new(4, &[8], Activation::Tanh, 2), 1)?;
/// let adam = Adam::new(AdamConfig::default(), &net)?;
/// let json = Checkpoint::capture(&net, Some(&adam)).to_json();
/// let (restored, restored_adam) = Checkpoint::from_json(&json)?.restore()?;
/// assert_eq!(restored, net);
/// assert_eq!(restored_adam, Some(adam));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`CHECKPOINT_FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The network's configuration.
    pub config: MlpConfig,
    /// Parameters per layer.
    pub layers: Vec<LayerParameters>,
    /// Optimiser state, if one was saved.
    pub optimizer: Option<AdamState>,
}

/// Reads only the version, so that a future format is reported as such rather than as garbage.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl Checkpoint {
    /// Snapshot of `net` and, if given, `adam`.
    pub fn capture(net: &Mlp, adam: Option<&Adam>) -> Self {
        Checkpoint {
            format_version: CHECKPOINT_FORMAT_VERSION,
            config: net.config().clone(),
            layers: net
                .layers()
                .iter()
                .map(|l| LayerParameters {
                    weights: l.weight_slice().to_vec(),
                    biases: l.biases.clone(),
                })
                .collect(),
            optimizer: adam.map(AdamState::capture),
        }
    }

    /// Compact JSON text of the checkpoint (every `f32`/`f64` round-trips exactly).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a checkpoint has only string keys and plain values")
    }

    /// Parses and validates JSON written by [`Checkpoint::to_json`].
    ///
    /// # Errors
    /// [`NnError::UnsupportedCheckpointVersion`] for another format version,
    /// [`NnError::CorruptCheckpoint`] for anything unparsable or inconsistent.
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |e: serde_json::Error| NnError::CorruptCheckpoint {
            reason: e.to_string(),
        };
        let probe: VersionProbe = serde_json::from_str(text).map_err(corrupt)?;
        if probe.format_version != CHECKPOINT_FORMAT_VERSION {
            return Err(NnError::UnsupportedCheckpointVersion {
                found: probe.format_version,
                supported: CHECKPOINT_FORMAT_VERSION,
            });
        }
        let checkpoint: Checkpoint = serde_json::from_str(text).map_err(corrupt)?;
        checkpoint.restore()?;
        Ok(checkpoint)
    }

    /// Rebuilds the network and optimiser, checking that every length matches the config and
    /// every value is finite.
    ///
    /// # Errors
    /// [`NnError::UnsupportedCheckpointVersion`] or [`NnError::CorruptCheckpoint`].
    pub fn restore(&self) -> Result<(Mlp, Option<Adam>)> {
        if self.format_version != CHECKPOINT_FORMAT_VERSION {
            return Err(NnError::UnsupportedCheckpointVersion {
                found: self.format_version,
                supported: CHECKPOINT_FORMAT_VERSION,
            });
        }
        let corrupt = |reason: String| NnError::CorruptCheckpoint { reason };
        self.config
            .validate()
            .map_err(|e| corrupt(format!("network config: {e}")))?;
        let sizes = self.config.layer_sizes();
        if self.layers.len() != self.config.layers.len() {
            return Err(corrupt(format!(
                "{} parameter layers for a config with {} layers",
                self.layers.len(),
                self.config.layers.len()
            )));
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        for (l, (params, layer_config)) in self.layers.iter().zip(&self.config.layers).enumerate() {
            let (inputs, outputs) = (sizes[l], sizes[l + 1]);
            let weights = Array2::from_shape_vec((inputs, outputs), params.weights.clone())
                .map_err(|_| {
                    corrupt(format!(
                        "layer {l} has {} weights, expected {inputs}·{outputs}",
                        params.weights.len()
                    ))
                })?;
            if params.biases.len() != outputs {
                return Err(corrupt(format!(
                    "layer {l} has {} biases, expected {outputs}",
                    params.biases.len()
                )));
            }
            if !params
                .weights
                .iter()
                .chain(&params.biases)
                .all(|v| v.is_finite())
            {
                return Err(corrupt(format!("layer {l} has non-finite parameters")));
            }
            layers.push(Layer {
                weights,
                biases: params.biases.clone(),
                activation: layer_config.activation,
            });
        }
        let net = Mlp {
            config: self.config.clone(),
            layers,
        };
        let adam = match &self.optimizer {
            None => None,
            Some(state) => {
                Some(restore_adam(state, &net).map_err(|e| corrupt(format!("optimiser: {e}")))?)
            }
        };
        Ok((net, adam))
    }
}

fn restore_adam(state: &AdamState, net: &Mlp) -> Result<Adam> {
    state.restore_into(Adam::new(state.config, net)?)
}

impl AdamState {
    /// The full state of `adam`.
    pub fn capture(adam: &Adam) -> Self {
        Self {
            config: adam.config,
            steps_taken: adam.steps_taken,
            beta1_power: adam.beta1_power,
            beta2_power: adam.beta2_power,
            first_moments: adam.first_moments.clone(),
            second_moments: adam.second_moments.clone(),
        }
    }

    /// Loads this state into `adam`, a fresh optimiser built for the same tensors, after
    /// checking that the moments have its tensor lengths, are finite (second moments also
    /// non-negative) and that the β powers lie in [0, 1].
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for moments of other tensor lengths than `adam`'s,
    /// [`NnError::InvalidConfig`] for non-finite or negative moments or β powers outside [0, 1].
    pub fn restore_into(&self, mut adam: Adam) -> Result<Adam> {
        let lengths = |moments: &[Vec<f32>]| moments.iter().map(Vec::len).collect::<Vec<_>>();
        let expected = lengths(&adam.first_moments);
        for (what, moments) in [
            ("first moments", &self.first_moments),
            ("second moments", &self.second_moments),
        ] {
            if lengths(moments) != expected {
                return Err(NnError::ShapeMismatch {
                    what,
                    expected: format!("tensor lengths {expected:?}"),
                    got: format!("tensor lengths {:?}", lengths(moments)),
                });
            }
        }
        let moments_ok = self.first_moments.iter().flatten().all(|v| v.is_finite())
            && self
                .second_moments
                .iter()
                .flatten()
                .all(|v| v.is_finite() && *v >= 0.0);
        let powers_ok = [self.beta1_power, self.beta2_power]
            .iter()
            .all(|p| (0.0..=1.0).contains(p));
        if !moments_ok || !powers_ok {
            return Err(NnError::InvalidConfig {
                field: "moments",
                reason: "non-finite or negative moments, or β powers outside [0, 1]".into(),
            });
        }
        adam.steps_taken = self.steps_taken;
        adam.beta1_power = self.beta1_power;
        adam.beta2_power = self.beta2_power;
        adam.first_moments = self.first_moments.clone();
        adam.second_moments = self.second_moments.clone();
        Ok(adam)
    }
}

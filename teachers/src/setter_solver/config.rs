//! Configuration of the Setter-Solver teacher: TeachMyAgent's benchmark values as documented
//! constants, and the checks that turn bad values into typed errors naming the field.

use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;
use teachgym_nn::{validate_hidden_sizes, MAX_LAYER_WIDTH, MAX_PARAMETERS};

use super::realnvp::ConditionalRealNvp;
use crate::{Result, TeacherError};

/// Default episodes between two training steps (TeachMyAgent benchmark; class and argument
/// default: 100).
pub const DEFAULT_SETTER_SOLVER_UPDATE_FREQUENCY: usize = 50;
/// Default upper bound of the uniform noise `U(0, ub)` added to each coordinate of the
/// successful goals in the validity loss (TeachMyAgent benchmark; class default 0.01, argument
/// default 0.05).
pub const DEFAULT_SETTER_SOLVER_LOSS_NOISE_UB: f64 = 0.1;
/// Default width of the setter's highway networks (TeachMyAgent benchmark; class and argument
/// default: 128).
pub const DEFAULT_SETTER_SOLVER_HIDDEN_SIZE: usize = 64;
/// Default number of RealNVP blocks, each of three affine couplings (reference: 3).
pub const DEFAULT_SETTER_SOLVER_FLOW_BLOCKS: usize = 3;
/// Default number of highway blocks in each scale and shift network (the reference's
/// `num_layers_per_block`: 3).
pub const DEFAULT_SETTER_SOLVER_HIGHWAY_BLOCKS: usize = 3;
/// Default hidden widths of the judge. The reference builds its judge from
/// `([64, 64, 64] + [1])[1:]`, so two hidden layers of 64, not three (reproduced).
pub const DEFAULT_SETTER_SOLVER_JUDGE_HIDDEN_SIZES: [usize; 2] = [64, 64];
/// Default Adam step size of both the setter and the judge (reference: 3e-4).
pub const DEFAULT_SETTER_SOLVER_LEARNING_RATE: f32 = 3e-4;
/// Largest `update_frequency`: episodes buffered between two training steps.
pub const MAX_SETTER_SOLVER_UPDATE_FREQUENCY: usize = 100_000;
/// Largest `setter_flow_blocks` and `setter_highway_blocks`.
pub const MAX_SETTER_SOLVER_BLOCKS: usize = 16;

/// Configuration of [`SetterSolver`](super::SetterSolver). `Default` is TeachMyAgent's
/// benchmark setting. TeachMyAgent gives this teacher no expert knowledge, so there is no
/// `expert_knowledge` field; success is the episode's own `success` flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SetterSolverConfig {
    /// Episodes between two training steps of judge and setter, `1..=MAX_SETTER_SOLVER_UPDATE_FREQUENCY`.
    /// Default: [`DEFAULT_SETTER_SOLVER_UPDATE_FREQUENCY`].
    pub update_frequency: usize,
    /// Upper bound of the validity loss's goal noise, in goal units (`[0, 1]` per dimension),
    /// finite and ≥ 0. Default: [`DEFAULT_SETTER_SOLVER_LOSS_NOISE_UB`].
    pub setter_loss_noise_ub: f64,
    /// Width of the setter's highway networks, `1..=MAX_LAYER_WIDTH`.
    /// Default: [`DEFAULT_SETTER_SOLVER_HIDDEN_SIZE`].
    pub setter_hidden_size: usize,
    /// RealNVP blocks (three couplings each), `1..=MAX_SETTER_SOLVER_BLOCKS`.
    /// Default: [`DEFAULT_SETTER_SOLVER_FLOW_BLOCKS`].
    pub setter_flow_blocks: usize,
    /// Highway blocks per scale or shift network, `0..=MAX_SETTER_SOLVER_BLOCKS`.
    /// Default: [`DEFAULT_SETTER_SOLVER_HIGHWAY_BLOCKS`].
    pub setter_highway_blocks: usize,
    /// Hidden widths of the judge (ReLU MLP with one logit output).
    /// Default: [`DEFAULT_SETTER_SOLVER_JUDGE_HIDDEN_SIZES`].
    pub judge_hidden_sizes: Vec<usize>,
    /// Adam step size of the setter, finite and > 0. Default: [`DEFAULT_SETTER_SOLVER_LEARNING_RATE`].
    pub setter_learning_rate: f32,
    /// Adam step size of the judge, finite and > 0. Default: [`DEFAULT_SETTER_SOLVER_LEARNING_RATE`].
    pub judge_learning_rate: f32,
}

impl Default for SetterSolverConfig {
    fn default() -> Self {
        Self {
            update_frequency: DEFAULT_SETTER_SOLVER_UPDATE_FREQUENCY,
            setter_loss_noise_ub: DEFAULT_SETTER_SOLVER_LOSS_NOISE_UB,
            setter_hidden_size: DEFAULT_SETTER_SOLVER_HIDDEN_SIZE,
            setter_flow_blocks: DEFAULT_SETTER_SOLVER_FLOW_BLOCKS,
            setter_highway_blocks: DEFAULT_SETTER_SOLVER_HIGHWAY_BLOCKS,
            judge_hidden_sizes: DEFAULT_SETTER_SOLVER_JUDGE_HIDDEN_SIZES.to_vec(),
            setter_learning_rate: DEFAULT_SETTER_SOLVER_LEARNING_RATE,
            judge_learning_rate: DEFAULT_SETTER_SOLVER_LEARNING_RATE,
        }
    }
}

impl SetterSolverConfig {
    /// The defaults of TeachMyAgent's `SetterSolver` class (update every 100 episodes, noise
    /// bound 0.01, hidden size 128), which its benchmark overrides.
    pub fn reference_class_defaults() -> Self {
        Self {
            update_frequency: 100,
            setter_loss_noise_ub: 0.01,
            setter_hidden_size: 128,
            ..Self::default()
        }
    }

    /// Checks every field against its documented range, and the setter's size over `space`.
    ///
    /// # Errors
    /// [`TeacherError::Core`] (`InvalidConfig`) naming the first bad field.
    pub(crate) fn validate(&self, space: &TaskSpace) -> Result<()> {
        let field = |name: &str| format!("setter_solver.{name}");
        if !(1..=MAX_SETTER_SOLVER_UPDATE_FREQUENCY).contains(&self.update_frequency) {
            return Err(TeacherError::config(
                field("update_frequency"),
                format!(
                    "must be in 1..={MAX_SETTER_SOLVER_UPDATE_FREQUENCY}, got {}",
                    self.update_frequency
                ),
            ));
        }
        if !(self.setter_loss_noise_ub.is_finite() && self.setter_loss_noise_ub >= 0.0) {
            return Err(TeacherError::config(
                field("setter_loss_noise_ub"),
                format!("must be finite and >= 0, got {}", self.setter_loss_noise_ub),
            ));
        }
        if !(1..=MAX_LAYER_WIDTH).contains(&self.setter_hidden_size) {
            return Err(TeacherError::config(
                field("setter_hidden_size"),
                format!(
                    "must be in 1..={MAX_LAYER_WIDTH}, got {}",
                    self.setter_hidden_size
                ),
            ));
        }
        if !(1..=MAX_SETTER_SOLVER_BLOCKS).contains(&self.setter_flow_blocks) {
            return Err(TeacherError::config(
                field("setter_flow_blocks"),
                format!(
                    "must be in 1..={MAX_SETTER_SOLVER_BLOCKS}, got {}",
                    self.setter_flow_blocks
                ),
            ));
        }
        if self.setter_highway_blocks > MAX_SETTER_SOLVER_BLOCKS {
            return Err(TeacherError::config(
                field("setter_highway_blocks"),
                format!(
                    "must be in 0..={MAX_SETTER_SOLVER_BLOCKS}, got {}",
                    self.setter_highway_blocks
                ),
            ));
        }
        let parameters = ConditionalRealNvp::parameter_count(
            space.dim(),
            self.setter_flow_blocks,
            self.setter_highway_blocks,
            self.setter_hidden_size,
        );
        if parameters > MAX_PARAMETERS {
            return Err(TeacherError::config(
                field("setter_hidden_size"),
                format!(
                    "a setter of {} blocks of width {} over {} dimensions needs {parameters} \
                     parameters, more than {MAX_PARAMETERS}",
                    self.setter_flow_blocks,
                    self.setter_hidden_size,
                    space.dim()
                ),
            ));
        }
        validate_hidden_sizes("judge_hidden_sizes", &self.judge_hidden_sizes)
            .map_err(|e| TeacherError::config(field("judge_hidden_sizes"), e.to_string()))?;
        for (name, lr) in [
            ("setter_learning_rate", self.setter_learning_rate),
            ("judge_learning_rate", self.judge_learning_rate),
        ] {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(TeacherError::config(
                    field(name),
                    format!("must be finite and > 0, got {lr}"),
                ));
            }
        }
        Ok(())
    }
}

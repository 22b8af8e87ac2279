//! A scripted walking controller for the bipedal walkers, used by tests, the calibration and the
//! render command. It needs no learning.
//!
//! The gait is a two-phase state machine (one leg in stance, the other in swing) in the spirit of
//! Raibert's hopping controllers:
//! - the **stance** hip servoes the hull's pitch (the leg pushes against the ground to keep the
//!   hull level) and the stance knee holds a slightly bent angle that carries the weight;
//! - the **swing** leg first folds its knee to clear the ground, then reaches for a foot
//!   placement that depends on the forward speed: too fast, the foot lands further ahead and
//!   brakes; too slow, it lands closer and lets the body tip forward;
//! - the legs swap when the swing foot touches down after a minimum swing time, or when the
//!   swing has lasted its maximum time.
//!
//! Angles are in radians as they appear in the observation (knees include their +1 correction,
//! so a straight knee reads 0.9), speeds in observation units (`0.12 · vx` for the hull).

use serde::{Deserialize, Serialize};

/// Gait parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaitConfig {
    /// Target forward speed (observation units; 0.2 ≈ 1.7 m/s).
    pub target_speed: f32,
    /// Absolute leg angle (hull angle + hip angle) the swing leg reaches for at target speed.
    pub step_angle: f32,
    /// Extra absolute leg angle per unit of speed error (foot-placement feedback).
    pub speed_feedback: f32,
    /// Hull pitch the stance hip holds (rad; negative leans forward).
    pub lean: f32,
    /// Stance hip pitch gains: (angle, angular-velocity observation).
    pub pitch_gains: [f32; 2],
    /// Constant hip command of the stance leg sweeping it backwards (propulsion).
    pub stance_push: f32,
    /// Knee target of the stance leg (observation units).
    pub stance_knee: f32,
    /// Knee target the stance leg extends to at the end of its stance (push-off).
    pub push_knee: f32,
    /// Knee target of the swing leg while it clears the ground.
    pub lift_knee: f32,
    /// Fraction of the minimum swing time spent with the knee folded.
    pub lift_fraction: f32,
    /// Minimum swing duration (steps) before a touchdown ends the swing.
    pub min_swing_steps: u32,
    /// Maximum swing duration (steps).
    pub max_swing_steps: u32,
    /// Swing hip PD gains (proportional, derivative on the hip-speed observation).
    pub swing_hip_gains: [f32; 2],
    /// Knee PD gains (proportional, derivative on the knee-speed observation).
    pub knee_gains: [f32; 2],
}

impl Default for GaitConfig {
    fn default() -> Self {
        Self {
            target_speed: 0.2895753,
            step_angle: -0.14235601,
            speed_feedback: 1.2087636,
            lean: -0.5577851,
            pitch_gains: [1.1081733, 2.4093378],
            stance_push: 0.6100797,
            stance_knee: 0.27941358,
            push_knee: 1.3579415,
            lift_knee: -0.34582293,
            lift_fraction: 1.3576448,
            min_swing_steps: 17,
            max_swing_steps: 23,
            swing_hip_gains: [1.0625588, 0.42702913],
            knee_gains: [2.741733, 0.8193281],
        }
    }
}

/// Offsets inside one leg's 5-value observation block.
const HIP_ANGLE: usize = 0;
const HIP_SPEED: usize = 1;
const KNEE_ANGLE: usize = 2;
const KNEE_SPEED: usize = 3;
const FOOT_CONTACT: usize = 4;
/// First index of leg `k`'s block in the bipedal observation.
fn leg_block(k: usize) -> usize {
    4 + 5 * k
}

/// The scripted gait's state. Works on the 24-value bipedal observation.
#[derive(Debug, Clone)]
pub struct ScriptedWalker {
    gait: GaitConfig,
    swing_leg: usize,
    swing_steps: u32,
    /// Length of the previous swing (steps), the expected length of the current stance.
    last_swing_steps: u32,
}

impl Default for ScriptedWalker {
    fn default() -> Self {
        Self::new(GaitConfig::default())
    }
}

impl ScriptedWalker {
    /// A controller with the given gait; leg 0 swings first.
    pub fn new(gait: GaitConfig) -> Self {
        Self {
            gait,
            swing_leg: 0,
            swing_steps: 0,
            last_swing_steps: gait.min_swing_steps,
        }
    }

    /// The gait parameters.
    pub fn gait(&self) -> &GaitConfig {
        &self.gait
    }

    /// Restarts the gait (call at every reset).
    pub fn reset(&mut self) {
        *self = Self::new(self.gait);
    }

    /// The action for an observation of a bipedal walker.
    ///
    /// # Panics
    /// If `obs` has fewer than 14 values (not a bipedal observation).
    pub fn act(&mut self, obs: &[f32]) -> [f32; 4] {
        let g = self.gait;
        let (pitch, pitch_rate, speed) = (obs[0], obs[1], obs[2]);

        self.swing_steps += 1;
        let touched_down = obs[leg_block(self.swing_leg) + FOOT_CONTACT] > 0.5;
        if (self.swing_steps >= g.min_swing_steps && touched_down)
            || self.swing_steps >= g.max_swing_steps
        {
            self.swing_leg = 1 - self.swing_leg;
            self.last_swing_steps = self.swing_steps.max(1);
            self.swing_steps = 0;
        }
        let swing = leg_block(self.swing_leg);
        let stance = leg_block(1 - self.swing_leg);

        let knee = |block: usize, target: f32| {
            g.knee_gains[0] * (target - obs[block + KNEE_ANGLE])
                - g.knee_gains[1] * obs[block + KNEE_SPEED]
        };

        // Stance: the hip pushes the hull back to its lean angle; the knee carries the weight.
        let stance_hip =
            g.pitch_gains[0] * (pitch - g.lean) + g.pitch_gains[1] * pitch_rate - g.stance_push;
        // The stance knee extends progressively over the stance to push the body forward.
        let stance_progress = (self.swing_steps as f32 / self.last_swing_steps as f32).min(1.0);
        let stance_knee = knee(
            stance,
            g.stance_knee + (g.push_knee - g.stance_knee) * stance_progress,
        );

        // Swing: fold, then reach for a speed-dependent foot placement.
        let leg_angle = g.step_angle + g.speed_feedback * (speed - g.target_speed);
        let hip_target = leg_angle - pitch;
        let swing_hip = g.swing_hip_gains[0] * (hip_target - obs[swing + HIP_ANGLE])
            - g.swing_hip_gains[1] * obs[swing + HIP_SPEED];
        let lifting = (self.swing_steps as f32) < g.lift_fraction * g.min_swing_steps as f32;
        let swing_knee = knee(swing, if lifting { g.lift_knee } else { g.stance_knee });

        let mut action = [0.0f32; 4];
        let (sw, st) = (self.swing_leg, 1 - self.swing_leg);
        action[2 * sw] = swing_hip;
        action[2 * sw + 1] = swing_knee;
        action[2 * st] = stance_hip;
        action[2 * st + 1] = stance_knee;
        action.map(|a| a.clamp(-1.0, 1.0))
    }
}

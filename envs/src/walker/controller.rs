//! A scripted walking controller for the bipedal walkers: a three-phase gait (swing, plant,
//! push-off) driven by PD loops on the joint angles, with hull-attitude and vertical-speed
//! corrections. It needs no learning, so tests and the render command can show a walker crossing
//! a track and check the dynamics against the reference's own scripted demo.

use serde::{Deserialize, Serialize};

/// Gait parameters. Angles in radians as they appear in the observation (knees include their +1
/// correction), speeds in observation units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaitConfig {
    /// Forward speed (observation units, 0.12·vx) above which the gait stops accelerating.
    pub cruise_speed: f32,
    /// Hip angle the swinging leg reaches for.
    pub swing_hip: f32,
    /// Knee target of the swinging leg (folded).
    pub swing_knee: f32,
    /// Hip target of the leg being planted.
    pub plant_hip: f32,
    /// Largest knee target of the stance leg (nearly straight).
    pub stance_knee_max: f32,
    /// Knee target of the pushing leg during push-off.
    pub push_knee: f32,
    /// Stance hip angle below which the swing leg is brought down.
    pub plant_trigger_hip: f32,
    /// Knee angle of the old stance leg that ends the push-off.
    pub push_done_knee: f32,
    /// Hip PD gains (proportional, derivative).
    pub hip_gains: [f32; 2],
    /// Knee PD gains (proportional, derivative).
    pub knee_gains: [f32; 2],
    /// Hull attitude gains applied through the hips (angle, angular velocity).
    pub attitude_gains: [f32; 2],
    /// Vertical-speed damping applied through the knees.
    pub vertical_damping: f32,
    /// Overall action scale before clipping to [-1, 1].
    pub output_gain: f32,
}

impl Default for GaitConfig {
    fn default() -> Self {
        Self {
            cruise_speed: 0.29,
            swing_hip: 1.1,
            swing_knee: -0.6,
            plant_hip: 0.1,
            stance_knee_max: 0.1,
            push_knee: 1.0,
            plant_trigger_hip: 0.1,
            push_done_knee: 0.88,
            hip_gains: [0.9, 0.25],
            knee_gains: [4.0, 0.25],
            attitude_gains: [0.9, 1.5],
            vertical_damping: 15.0,
            output_gain: 0.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Stand on one leg while the other swings forward.
    Swing,
    /// Bring the swinging leg down until it touches the ground.
    Plant,
    /// Straighten the old stance leg to push the body forward, then swap legs.
    PushOff,
}

/// The scripted gait's state. Works on the 24-value bipedal observation.
#[derive(Debug, Clone)]
pub struct ScriptedWalker {
    gait: GaitConfig,
    phase: Phase,
    swing_leg: usize,
    stance_knee: f32,
}

/// Offsets inside one leg's 5-value observation block.
const HIP_ANGLE: usize = 0;
const HIP_SPEED: usize = 1;
const KNEE_ANGLE: usize = 2;
const KNEE_SPEED: usize = 3;
const FOOT_CONTACT: usize = 4;
/// First index of leg `k`'s block.
fn leg_block(k: usize) -> usize {
    4 + 5 * k
}

impl Default for ScriptedWalker {
    fn default() -> Self {
        Self::new(GaitConfig::default())
    }
}

impl ScriptedWalker {
    /// A controller with the given gait, starting on leg 0 as stance leg.
    pub fn new(gait: GaitConfig) -> Self {
        Self {
            gait,
            phase: Phase::Swing,
            swing_leg: 0,
            stance_knee: gait.stance_knee_max,
        }
    }

    /// Restarts the gait (call at every reset).
    pub fn reset(&mut self) {
        *self = Self::new(self.gait);
    }

    /// The action for an observation of a bipedal walker (24 values).
    ///
    /// # Panics
    /// If `obs` has fewer than 14 values (not a bipedal observation).
    pub fn act(&mut self, obs: &[f32]) -> [f32; 4] {
        let g = self.gait;
        let swing = leg_block(self.swing_leg);
        let stance = leg_block(1 - self.swing_leg);
        let forward_speed = obs[2];
        let mut hip_target = [None; 2];
        let mut knee_target = [None; 2];
        let (sw, st) = (self.swing_leg, 1 - self.swing_leg);

        if self.phase == Phase::Swing {
            hip_target[sw] = Some(g.swing_hip);
            knee_target[sw] = Some(g.swing_knee);
            // Straighten the stance knee gradually, faster when already cruising.
            self.stance_knee += if forward_speed > g.cruise_speed { 0.06 } else { 0.03 };
            self.stance_knee = self.stance_knee.min(g.stance_knee_max);
            knee_target[st] = Some(self.stance_knee);
            if obs[stance + HIP_ANGLE] < g.plant_trigger_hip {
                self.phase = Phase::Plant;
            }
        }
        if self.phase == Phase::Plant {
            hip_target[sw] = Some(g.plant_hip);
            knee_target[sw] = Some(g.stance_knee_max);
            knee_target[st] = Some(self.stance_knee);
            if obs[swing + FOOT_CONTACT] > 0.5 {
                self.phase = Phase::PushOff;
                self.stance_knee = obs[swing + KNEE_ANGLE].min(g.stance_knee_max);
            }
        }
        if self.phase == Phase::PushOff {
            knee_target[sw] = Some(self.stance_knee);
            knee_target[st] = Some(g.push_knee);
            if obs[stance + KNEE_ANGLE] > g.push_done_knee || forward_speed > 1.2 * g.cruise_speed
            {
                self.phase = Phase::Swing;
                self.swing_leg = 1 - self.swing_leg;
            }
        }

        let mut hip = [0.0f32; 2];
        let mut knee = [0.0f32; 2];
        for k in 0..2 {
            let b = leg_block(k);
            if let Some(t) = hip_target[k] {
                hip[k] = g.hip_gains[0] * (t - obs[b + HIP_ANGLE]) - g.hip_gains[1] * obs[b + HIP_SPEED];
            }
            if let Some(t) = knee_target[k] {
                knee[k] =
                    g.knee_gains[0] * (t - obs[b + KNEE_ANGLE]) - g.knee_gains[1] * obs[b + KNEE_SPEED];
            }
            // Keep the hull level: both hips counter its tilt and rotation.
            hip[k] -= g.attitude_gains[0] * (0.0 - obs[0]) - g.attitude_gains[1] * obs[1];
            // Damp bouncing through the knees.
            knee[k] -= g.vertical_damping * obs[3];
        }
        let clip = |v: f32| (g.output_gain * v).clamp(-1.0, 1.0);
        [clip(hip[0]), clip(knee[0]), clip(hip[1]), clip(knee[1])]
    }
}

//! A scripted walking controller for the bipedal walkers, used by tests, the calibration and the
//! render command. It needs no learning.
//!
//! The gait is a two-phase state machine (one leg in stance, the other in swing) in the spirit of
//! Raibert's hopping controllers:
//! - the **stance** hip servoes the hull's pitch around a lean angle, plus a propulsion bias and a
//!   term proportional to the speed deficit (a slowing walker changes its push rather than
//!   stalling); the stance knee holds a bent angle that carries the weight;
//! - from `push_start` (a fraction of the expected stance length) comes a **push-off**: the
//!   stance knee extends towards `push_knee` and the hip adds `push_hip`, ramped in with the
//!   stance's progress;
//! - the **swing** leg first folds its knee to clear the ground, then holds a reaching knee angle
//!   and places its foot by the forward speed: too fast, the foot lands further ahead and brakes;
//!   too slow, it lands closer and lets the body tip forward;
//! - the legs swap when the swing foot touches down after a minimum swing time, or when the
//!   swing has lasted its maximum time;
//! - a **stall recovery** watches the stride-averaged forward speed (an exponential moving
//!   average of the observed speed): when it falls below `pace_speed`, the shortfall (0 at the
//!   pace, 1 at a standstill) shifts the stance hip command (`recovery_push`), the foot
//!   placement (`recovery_step`) and the stance knee (`recovery_knee`), and lengthens the
//!   minimum swing (`recovery_swing_steps`). Without it the gait has a slow mode: after a
//!   disturbance it can shuffle at 0.5–1 m/s for a few hundred steps, both feet mostly down,
//!   before it finds its pace again, which is what made it time out before the end of the track.
//!
//! Every joint is a PD servo whose output is the action (a torque fraction). The stance and swing
//! knees have their own gains and every motor role has its own effort limit, because the reward
//! charges each unit of |action|: a swing leg needs little torque and a stiff, chattering servo
//! there costs return without adding speed. The derivative terms use smoothed joint speeds for
//! the same reason (raw speeds jitter when a joint rests against its stop).
//!
//! The parameters (`GaitConfig::default()`) come from `envs/examples/gait_search.rs`, a
//! separable CMA-ES scored on the episode return over reset seeds of a flat Stump Track, with
//! a penalty for stopping short of the end (BENCHMARKS.md §2.3–2.4 give the numbers).
//!
//! Angles are in radians as they appear in the observation (knees include their +1 correction,
//! so a straight knee reads 0.9), speeds in observation units (`0.12 · vx` for the hull).

use serde::{Deserialize, Serialize};

/// Gait parameters. `Default` holds the values tuned by `envs/examples/gait_search.rs` for the
/// classic bipedal body on a flat Stump Track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaitConfig {
    /// Target forward speed (observation units; 0.2 ≈ 1.7 m/s).
    pub target_speed: f32,
    /// Absolute leg angle (hull angle + hip angle) the swing leg reaches for at target speed.
    pub step_angle: f32,
    /// Extra absolute leg angle per unit of speed error (foot-placement feedback).
    pub speed_feedback: f32,
    /// Hull angle the stance hip's pitch servo is centred on (rad, as observed). With weak
    /// pitch gains it acts mostly as a constant hip offset.
    pub lean: f32,
    /// Stance hip pitch gains: (angle, angular-velocity observation).
    pub pitch_gains: [f32; 2],
    /// Constant term of the stance hip command (action units), the propulsion bias.
    pub stance_push: f32,
    /// Stance hip command per unit of speed deficit (`target_speed − speed`, observation
    /// units): a walker that slows down changes its push instead of stalling with both feet on
    /// the ground.
    pub stance_speed_gain: f32,
    /// Stance hip command added in proportion to the push-off progress (0 before `push_start`,
    /// 1 at the end of the expected stance; action units).
    pub push_hip: f32,
    /// Stance progress (fraction of the expected stance length) at which the push-off begins:
    /// from there the stance knee extends towards `push_knee` and the hip adds `push_hip`.
    pub push_start: f32,
    /// Knee target of the stance leg (observation units).
    pub stance_knee: f32,
    /// Knee target the stance leg extends to at the end of its stance (push-off).
    pub push_knee: f32,
    /// Knee target of the swing leg while it clears the ground.
    pub lift_knee: f32,
    /// Knee target of the swing leg once it has cleared the ground, held until touchdown.
    pub reach_knee: f32,
    /// Fraction of the minimum swing time spent with the knee folded.
    pub lift_fraction: f32,
    /// Minimum swing duration (steps) before a touchdown ends the swing.
    pub min_swing_steps: u32,
    /// Maximum swing duration (steps).
    pub max_swing_steps: u32,
    /// Swing hip PD gains (proportional, derivative on the smoothed hip speed).
    pub swing_hip_gains: [f32; 2],
    /// Stance knee PD gains (proportional, derivative on the smoothed knee speed).
    pub stance_knee_gains: [f32; 2],
    /// Swing knee PD gains (proportional, derivative on the smoothed knee speed).
    pub swing_knee_gains: [f32; 2],
    /// Smoothing factor of the joint speeds the PD servos' derivative terms use (exponential
    /// moving average, 0 = raw observation, towards 1 = heavy smoothing). Raw speeds jitter from
    /// step to step when a joint rests against its stop, and a derivative term turns that into
    /// alternating full-scale actions that cost reward and do no work.
    pub speed_smoothing: f32,
    /// Largest |action| of each motor role: stance hip, stance knee, swing hip, swing knee.
    /// Each unit of |action| costs `0.028` reward per step, so weak roles are capped.
    pub effort_limits: [f32; 4],
    /// Stride-averaged forward speed (observation units) below which the stall recovery
    /// engages. The recovery strength is the shortfall `(pace_speed − average speed) /
    /// pace_speed`, clipped to [0, 1]; 0 or less disables the recovery.
    pub pace_speed: f32,
    /// Smoothing factor of the stride-averaged speed (exponential moving average per step,
    /// 0 = the instantaneous speed, 0.98 ≈ a 50-step window). The average starts at
    /// `pace_speed`, so the recovery stays off while the walker gets going.
    pub pace_smoothing: f32,
    /// Stance hip command (action units) added at full recovery strength. The tuned value is
    /// negative (the search chose it): a stalled walker's stance hip eases its drive.
    pub recovery_push: f32,
    /// Swing leg angle (rad) added to the foot-placement target at full recovery strength.
    pub recovery_step: f32,
    /// Stance knee target (observation units) added at full recovery strength.
    pub recovery_knee: f32,
    /// Steps added to `min_swing_steps` at full recovery strength: a stalled walker's legs need
    /// longer to finish their sweep.
    pub recovery_swing_steps: f32,
}

impl Default for GaitConfig {
    fn default() -> Self {
        Self {
            target_speed: 0.46206522,
            step_angle: -0.1015966,
            speed_feedback: 0.72083455,
            lean: -0.73968524,
            pitch_gains: [1.1205765, 1.8594024],
            stance_push: -0.43093127,
            stance_speed_gain: 2.008821,
            push_hip: -0.119812734,
            push_start: 0.17082751,
            stance_knee: 0.44844893,
            push_knee: 1.1050385,
            lift_knee: -0.35009673,
            reach_knee: -0.1982864,
            lift_fraction: 1.6351559,
            min_swing_steps: 16,
            max_swing_steps: 34,
            swing_hip_gains: [1.0731958, 0.49419546],
            stance_knee_gains: [2.3596365, 0.32340083],
            swing_knee_gains: [4.8725786, 0.40583593],
            speed_smoothing: 0.11095059,
            effort_limits: [0.5900261, 1.0, 1.0, 0.5912777],
            pace_speed: 0.2797144,
            pace_smoothing: 0.94331115,
            recovery_push: -0.34975126,
            recovery_step: 0.04734649,
            recovery_knee: -0.119427316,
            recovery_swing_steps: 0.58891135,
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
    /// Smoothed joint speeds in action order (hip 0, knee 0, hip 1, knee 1).
    joint_speeds: [f32; 4],
    /// Stride-averaged forward speed (observation units), see [`GaitConfig::pace_smoothing`].
    average_speed: f32,
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
            joint_speeds: [0.0; 4],
            average_speed: gait.pace_speed,
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

        let pace_smoothing = g.pace_smoothing.clamp(0.0, 0.999);
        self.average_speed = pace_smoothing * self.average_speed + (1.0 - pace_smoothing) * speed;
        let recovery = self.recovery();

        self.swing_steps += 1;
        let touched_down = obs[leg_block(self.swing_leg) + FOOT_CONTACT] > 0.5;
        let min_swing_steps = g.min_swing_steps as f32 + recovery * g.recovery_swing_steps;
        if (self.swing_steps as f32 >= min_swing_steps && touched_down)
            || self.swing_steps >= g.max_swing_steps
        {
            self.swing_leg = 1 - self.swing_leg;
            self.last_swing_steps = self.swing_steps.max(1);
            self.swing_steps = 0;
        }
        let smoothing = g.speed_smoothing.clamp(0.0, 0.99);
        for leg in 0..2 {
            for (joint, offset) in [HIP_SPEED, KNEE_SPEED].into_iter().enumerate() {
                let filtered = &mut self.joint_speeds[2 * leg + joint];
                *filtered =
                    smoothing * *filtered + (1.0 - smoothing) * obs[leg_block(leg) + offset];
            }
        }
        let speeds = self.joint_speeds;
        let (sw, st) = (self.swing_leg, 1 - self.swing_leg);
        let swing = leg_block(sw);

        let knee = |leg: usize, target: f32, gains: [f32; 2]| {
            gains[0] * (target - obs[leg_block(leg) + KNEE_ANGLE]) - gains[1] * speeds[2 * leg + 1]
        };

        // Stance: the hip pushes the hull back to its lean angle; the knee carries the weight,
        // then both extend over the push-off to drive the body forward.
        let stance_progress = (self.swing_steps as f32 / self.last_swing_steps as f32).min(1.0);
        let push =
            ((stance_progress - g.push_start) / (1.0 - g.push_start).max(1e-3)).clamp(0.0, 1.0);
        let stance_hip = g.pitch_gains[0] * (pitch - g.lean)
            + g.pitch_gains[1] * pitch_rate
            + g.stance_push
            + g.stance_speed_gain * (g.target_speed - speed)
            + g.push_hip * push
            + g.recovery_push * recovery;
        let stance_knee_target = g.stance_knee + recovery * g.recovery_knee;
        let stance_knee = knee(
            st,
            stance_knee_target + (g.push_knee - stance_knee_target) * push,
            g.stance_knee_gains,
        );

        // Swing: fold, then reach for a speed-dependent foot placement.
        let leg_angle =
            g.step_angle + g.speed_feedback * (speed - g.target_speed) + g.recovery_step * recovery;
        let hip_target = leg_angle - pitch;
        let swing_hip = g.swing_hip_gains[0] * (hip_target - obs[swing + HIP_ANGLE])
            - g.swing_hip_gains[1] * speeds[2 * sw];
        let lifting = (self.swing_steps as f32) < g.lift_fraction * min_swing_steps;
        let swing_knee = knee(
            sw,
            if lifting { g.lift_knee } else { g.reach_knee },
            g.swing_knee_gains,
        );

        // max/min rather than clamp: a NaN or negative limit from a hand-written config must not
        // panic.
        let limit = |a: f32, role: usize| {
            let bound = g.effort_limits[role].abs();
            a.max(-bound).min(bound)
        };
        let mut action = [0.0f32; 4];
        action[2 * st] = limit(stance_hip, 0);
        action[2 * st + 1] = limit(stance_knee, 1);
        action[2 * sw] = limit(swing_hip, 2);
        action[2 * sw + 1] = limit(swing_knee, 3);
        action.map(|a| a.clamp(-1.0, 1.0))
    }

    /// Strength of the stall recovery in [0, 1]: how far the stride-averaged speed has fallen
    /// below `pace_speed`, as a fraction of it.
    fn recovery(&self) -> f32 {
        let pace = self.gait.pace_speed;
        if pace > 0.0 {
            let shortfall = (pace - self.average_speed) / pace;
            // A NaN average (from a NaN smoothing) means no recovery rather than NaN actions.
            if shortfall.is_nan() {
                0.0
            } else {
                shortfall.clamp(0.0, 1.0)
            }
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A bipedal observation with uniform random joint and hull values and random contacts.
    fn random_observation(rng: &mut impl Rng) -> [f32; 24] {
        let mut obs = [0.0f32; 24];
        for v in obs.iter_mut() {
            *v = rng.random_range(-1.5..1.5);
        }
        for k in 0..2 {
            obs[leg_block(k) + FOOT_CONTACT] = rng.random_range(0..2) as f32;
        }
        obs
    }

    #[test]
    fn actions_respect_the_effort_limits_of_each_role() {
        let limits = [0.2, 0.4, 0.6, 0.8];
        let mut walker = ScriptedWalker::new(GaitConfig {
            effort_limits: limits,
            ..GaitConfig::default()
        });
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let mut reached = [0.0f32; 4];
        for _ in 0..2000 {
            let action = walker.act(&random_observation(&mut rng));
            let (sw, st) = (walker.swing_leg, 1 - walker.swing_leg);
            for (role, index) in [2 * st, 2 * st + 1, 2 * sw, 2 * sw + 1]
                .into_iter()
                .enumerate()
            {
                assert!(action[index].abs() <= limits[role] + 1e-6, "{action:?}");
                reached[role] = reached[role].max(action[index].abs());
            }
        }
        // Random observations drive every servo to its limit, so the limits did the clipping.
        for role in 0..4 {
            assert!(
                reached[role] > limits[role] - 1e-6,
                "role {role}: {reached:?}"
            );
        }
    }

    /// A standing observation: zero everywhere but both foot-contact flags.
    fn both_feet_down() -> [f32; 24] {
        let mut obs = [0.0f32; 24];
        for k in 0..2 {
            obs[leg_block(k) + FOOT_CONTACT] = 1.0;
        }
        obs
    }

    /// The stance hip command of a walker fed `steps` copies of `obs` (both feet down).
    fn stance_hip_after(gait: GaitConfig, obs: &[f32; 24], steps: usize) -> f32 {
        let mut walker = ScriptedWalker::new(gait);
        let mut action = [0.0; 4];
        for _ in 0..steps {
            action = walker.act(obs);
        }
        action[2 * (1 - walker.swing_leg)]
    }

    #[test]
    fn stall_recovery_pushes_only_when_the_average_speed_stays_low() {
        let gait = GaitConfig {
            pace_speed: 0.25,
            pace_smoothing: 0.9,
            recovery_push: 0.2,
            recovery_step: 0.0,
            recovery_knee: 0.0,
            recovery_swing_steps: 0.0,
            // Small gains keep the stance hip command away from its effort limit.
            pitch_gains: [0.0, 0.0],
            stance_speed_gain: 0.0,
            stance_push: 0.1,
            push_hip: 0.0,
            ..GaitConfig::default()
        };
        let without = GaitConfig {
            recovery_push: 0.0,
            ..gait
        };
        let mut obs = both_feet_down();
        // Standing still: after a few smoothing time constants the shortfall is complete.
        let stalled = stance_hip_after(gait, &obs, 200) - stance_hip_after(without, &obs, 200);
        assert!((stalled - 0.2).abs() < 1e-3, "{stalled}");
        // One slow step barely moves the average, which starts at the pace.
        let first = stance_hip_after(gait, &obs, 1) - stance_hip_after(without, &obs, 1);
        assert!((first - 0.02).abs() < 1e-3, "{first}");
        // Walking at the pace: no recovery.
        obs[2] = 0.3;
        let walking = stance_hip_after(gait, &obs, 200) - stance_hip_after(without, &obs, 200);
        assert_eq!(walking, 0.0);
    }

    #[test]
    fn stall_recovery_lengthens_the_swing() {
        let gait = GaitConfig {
            pace_speed: 0.25,
            pace_smoothing: 0.0,
            recovery_swing_steps: 10.0,
            min_swing_steps: 5,
            max_swing_steps: 100,
            ..GaitConfig::default()
        };
        let obs = both_feet_down();
        // Both feet down at every step: the swing ends as soon as it is allowed to.
        let swing_length = |speed: f32| {
            let mut walker = ScriptedWalker::new(gait);
            let mut o = obs;
            o[2] = speed;
            let mut steps = 0;
            while walker.swing_leg == 0 {
                walker.act(&o);
                steps += 1;
            }
            steps
        };
        assert_eq!(swing_length(0.3), 5);
        // Stopped: full recovery, 5 + 10 steps.
        assert_eq!(swing_length(0.0), 15);
    }

    #[test]
    fn bad_effort_limits_do_not_panic() {
        let mut walker = ScriptedWalker::new(GaitConfig {
            effort_limits: [f32::NAN, -0.5, 2.0, 0.0],
            pace_speed: 0.3,
            pace_smoothing: f32::NAN,
            ..GaitConfig::default()
        });
        let mut rng = rand_pcg::Pcg64::seed_from_u64(4);
        for _ in 0..100 {
            let action = walker.act(&random_observation(&mut rng));
            assert!(action.iter().all(|a| a.abs() <= 1.0));
        }
    }

    #[test]
    fn reset_restarts_the_gait() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        let observations: Vec<[f32; 24]> = (0..200).map(|_| random_observation(&mut rng)).collect();
        let mut walker = ScriptedWalker::default();
        let first: Vec<[f32; 4]> = observations.iter().map(|o| walker.act(o)).collect();
        walker.reset();
        let second: Vec<[f32; 4]> = observations.iter().map(|o| walker.act(o)).collect();
        assert_eq!(first, second);
    }

    #[test]
    fn gait_config_round_trips_and_fills_missing_fields_with_defaults() {
        let gait = GaitConfig::default();
        let json = serde_json::to_string(&gait).unwrap();
        assert_eq!(serde_json::from_str::<GaitConfig>(&json).unwrap(), gait);
        let partial: GaitConfig = serde_json::from_str(r#"{"target_speed": 0.5}"#).unwrap();
        assert_eq!(
            partial,
            GaitConfig {
                target_speed: 0.5,
                ..GaitConfig::default()
            }
        );
    }
}

//! Embodiments as data. A [`BodyDef`] lists rigid parts, the revolute joints between them, which
//! joints are motorised, which parts end the episode when they touch something and which report
//! ground contact in the observation. One builder (`physics.rs`) turns any definition into rapier
//! bodies, so a new embodiment is a new function returning a `BodyDef`, not a new code path.

use serde::{Deserialize, Serialize};

use super::constants::{SCALE, TERRAIN_STEP};

/// Shape of a body part, in the part's local frame (m).
#[derive(Debug, Clone, PartialEq)]
pub enum PartShape {
    /// Convex polygon, counter-clockwise vertices.
    Polygon(Vec<[f32; 2]>),
    /// Axis-aligned box centred on the part origin.
    Box {
        /// Half width (m).
        half_width: f32,
        /// Half height (m).
        half_height: f32,
    },
}

impl PartShape {
    /// Vertices in the local frame (counter-clockwise).
    pub fn vertices(&self) -> Vec<[f32; 2]> {
        match self {
            PartShape::Polygon(v) => v.clone(),
            PartShape::Box {
                half_width: w,
                half_height: h,
            } => vec![[-w, -h], [*w, -h], [*w, *h], [-w, *h]],
        }
    }
}

/// One rigid part of a body.
#[derive(Debug, Clone, PartialEq)]
pub struct PartDef {
    /// Name, for rendering and debugging.
    pub name: &'static str,
    /// Collision shape.
    pub shape: PartShape,
    /// Density (kg/m²).
    pub density: f32,
    /// Friction coefficient (combined with the ground's by geometric mean, as Box2D does).
    pub friction: f32,
    /// Position of the part origin relative to the body's spawn point (m).
    pub offset: [f32; 2],
    /// Initial angle (rad).
    pub angle: f32,
    /// Touching anything ends the episode with the fall reward.
    pub critical: bool,
    /// Fill colour for rendering (RGB).
    pub color: [u8; 3],
}

/// A motorised revolute joint. Each motor is one action component.
#[derive(Debug, Clone, PartialEq)]
pub struct JointDef {
    /// Name, e.g. `hip_left`.
    pub name: &'static str,
    /// Index of the parent part.
    pub parent: usize,
    /// Index of the child part.
    pub child: usize,
    /// Joint anchor relative to the spawn point (m); the local anchors of both parts follow from
    /// it and the parts' spawn poses.
    pub anchor: [f32; 2],
    /// Lower and upper angle limits (rad) of the joint angle.
    pub limits: [f32; 2],
    /// Child-minus-parent angle (rad) at which the joint angle reads 0 (Box2D's
    /// `referenceAngle`): the joint angle is `θ_child − θ_parent − reference_angle`.
    pub reference_angle: f32,
    /// Motor target speed magnitude (rad/s); the target is `speed · sign(action)`.
    pub speed: f32,
    /// Added to the joint angle in the observation (TeachMyAgent's knees use +1).
    pub angle_correction: f32,
    /// Part whose contact flag follows this motor's block in the observation.
    pub contact_part: Option<usize>,
}

/// A complete embodiment.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyDef {
    /// Registry name.
    pub name: &'static str,
    /// Rigid parts; index 0 is drawn first.
    pub parts: Vec<PartDef>,
    /// Motorised joints, in action order.
    pub joints: Vec<JointDef>,
    /// Part whose pose and velocity feed the observation, reward and lidar (the hull).
    pub head: usize,
    /// Motor torque cap at |action| = 1 (N·m).
    pub motors_torque: f32,
    /// Reward penalty per unit of |action| per unit of torque (TeachMyAgent's TORQUE_PENALTY).
    pub torque_penalty: f32,
    /// Height of the spawn point above the ground (m), so the feet start on the ground.
    pub spawn_height: f32,
    /// Width used to size the start pad (m).
    pub width: f32,
}

impl BodyDef {
    /// Length of the action vector (one per motor).
    pub fn action_dim(&self) -> usize {
        self.joints.len()
    }

    /// Length of the observation vector: 4 hull values, 2 per motor (+1 when the motor reports a
    /// contact), then the lidar.
    pub fn observation_dim(&self) -> usize {
        4 + self
            .joints
            .iter()
            .map(|j| 2 + usize::from(j.contact_part.is_some()))
            .sum::<usize>()
            + super::constants::LIDAR_RAYS
    }
}

/// The embodiments available by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Embodiment {
    /// TeachMyAgent's `classic_bipedal`: BipedalWalker's hull with 34-px legs.
    #[default]
    ClassicBipedal,
    /// TeachMyAgent's `small_bipedal`: the same hull with 17-px legs.
    SmallBipedal,
    /// TeachMyAgent's `old_classic_bipedal` (the body of the paper's runs): gymnasium's
    /// BipedalWalker, hips 8 px below the hull centre and legs spawned at ±0.05 rad.
    OldClassicBipedal,
}

impl Embodiment {
    /// All embodiments.
    pub const ALL: [Embodiment; 3] = [
        Embodiment::ClassicBipedal,
        Embodiment::SmallBipedal,
        Embodiment::OldClassicBipedal,
    ];

    /// Registry name (`classic_bipedal`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Embodiment::ClassicBipedal => "classic_bipedal",
            Embodiment::SmallBipedal => "small_bipedal",
            Embodiment::OldClassicBipedal => "old_classic_bipedal",
        }
    }

    /// Parses a registry name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The body definition.
    pub fn body(self) -> BodyDef {
        match self {
            Embodiment::ClassicBipedal => bipedal(
                "classic_bipedal",
                34.0 / SCALE,
                64.0 / SCALE,
                TMA_LEG_DOWN,
                0.0,
            ),
            Embodiment::SmallBipedal => bipedal(
                "small_bipedal",
                17.0 / SCALE,
                20.0 / SCALE,
                TMA_LEG_DOWN,
                0.0,
            ),
            Embodiment::OldClassicBipedal => bipedal(
                "old_classic_bipedal",
                34.0 / SCALE,
                64.0 / SCALE,
                GYM_LEG_DOWN,
                GYM_LEG_SPAWN_ANGLE,
            ),
        }
    }
}

/// Hull outline of BipedalWalker (pixels; divided by [`SCALE`]).
const BIPEDAL_HULL_PX: [[f32; 2]; 5] = [
    [-30.0, 9.0],
    [6.0, 9.0],
    [34.0, 1.0],
    [34.0, -8.0],
    [-30.0, -8.0],
];
/// Hip joints sit this far below the hull origin in TeachMyAgent's new bodies (m).
const TMA_LEG_DOWN: f32 = 3.0 / SCALE;
/// Hip joints sit this far below the hull origin in gymnasium's BipedalWalker (m).
const GYM_LEG_DOWN: f32 = 8.0 / SCALE;
/// gymnasium's BipedalWalker spawns its legs at ±this angle (rad), back leg backwards.
const GYM_LEG_SPAWN_ANGLE: f32 = 0.05;
/// Leg width (m); lower legs are 0.8 of it.
const BIPEDAL_LEG_W: f32 = 8.0 / SCALE;
const BIPEDAL_HIP_SPEED: f32 = 4.0;
const BIPEDAL_KNEE_SPEED: f32 = 6.0;
const BIPEDAL_HIP_LIMITS: [f32; 2] = [-0.8, 1.1];
const BIPEDAL_KNEE_LIMITS: [f32; 2] = [-1.6, -0.1];
/// Box2D's default fixture friction, which the legs keep.
const DEFAULT_PART_FRICTION: f32 = 0.2;

/// A two-legged walker with straight legs hanging from the hull, `leg_h` long per segment.
fn bipedal(name: &'static str, leg_h: f32, width: f32, leg_down: f32, spawn_angle: f32) -> BodyDef {
    let mut hull: Vec<[f32; 2]> = BIPEDAL_HULL_PX
        .iter()
        .map(|[x, y]| [x / SCALE, y / SCALE])
        .collect();
    // rapier wants counter-clockwise polygons; the table is clockwise.
    hull.reverse();
    let mut parts = vec![PartDef {
        name: "hull",
        shape: PartShape::Polygon(hull),
        density: 5.0,
        friction: 0.1,
        offset: [0.0, 0.0],
        angle: 0.0,
        critical: true,
        color: [127, 102, 229],
    }];
    let mut joints = Vec::new();
    // Back leg first (drawn behind), as in the original: i = -1, +1.
    for (side, shade) in [("back", -1.0f32), ("front", 1.0)] {
        let tint = |c: f32| ((c - shade / 10.0) * 255.0) as u8;
        // Legs hang from the hip, rotated by the spawn angle (back leg backwards).
        let angle = shade * spawn_angle;
        let (sin, cos) = (libm::sinf(angle), libm::cosf(angle));
        let below_hip = |d: f32| [d * sin, -leg_down - d * cos];
        // A leg segment: a box of the given width whose centre hangs `depth` below the hip.
        let segment = |name: &'static str, width: f32, depth: f32| PartDef {
            name,
            shape: PartShape::Box {
                half_width: width / 2.0,
                half_height: leg_h / 2.0,
            },
            density: 1.0,
            friction: DEFAULT_PART_FRICTION,
            offset: below_hip(depth),
            angle,
            critical: false,
            color: [tint(0.6), tint(0.3), tint(0.5)],
        };
        let (upper_name, lower_name) = if side == "back" {
            ("upper_leg_back", "lower_leg_back")
        } else {
            ("upper_leg_front", "lower_leg_front")
        };
        let upper = parts.len();
        parts.push(segment(upper_name, BIPEDAL_LEG_W, leg_h / 2.0));
        let lower = parts.len();
        parts.push(segment(lower_name, 0.8 * BIPEDAL_LEG_W, leg_h * 1.5));
        joints.push(JointDef {
            name: if side == "back" {
                "hip_back"
            } else {
                "hip_front"
            },
            parent: 0,
            child: upper,
            anchor: [0.0, -leg_down],
            limits: BIPEDAL_HIP_LIMITS,
            // pybox2d's joint definition records the spawn angle as reference angle.
            reference_angle: angle,
            speed: BIPEDAL_HIP_SPEED,
            angle_correction: 0.0,
            contact_part: None,
        });
        joints.push(JointDef {
            name: if side == "back" {
                "knee_back"
            } else {
                "knee_front"
            },
            parent: upper,
            child: lower,
            anchor: below_hip(leg_h),
            limits: BIPEDAL_KNEE_LIMITS,
            reference_angle: 0.0,
            speed: BIPEDAL_KNEE_SPEED,
            angle_correction: 1.0,
            contact_part: Some(lower),
        });
    }
    BodyDef {
        name,
        parts,
        joints,
        head: 0,
        motors_torque: 80.0,
        torque_penalty: 0.00035,
        spawn_height: 2.0 * leg_h * libm::cosf(spawn_angle) + leg_down,
        width,
    }
}

/// Number of start-pad steps a body needs (TeachMyAgent widens the pad for wide bodies).
pub(crate) fn startpad_steps(body: &BodyDef) -> usize {
    let needed = (body.width / TERRAIN_STEP) as usize + 5;
    needed.max(super::constants::TERRAIN_STARTPAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bipedal_layout_matches_reference() {
        for e in Embodiment::ALL {
            let b = e.body();
            assert_eq!(b.action_dim(), 4);
            assert_eq!(b.observation_dim(), 24, "{}", e.name());
            assert_eq!(Embodiment::from_name(e.name()), Some(e));
            // Feet touch the ground at spawn: the foot (bottom centre of the lower leg, rotated
            // with the leg) sits at -spawn_height.
            let lower = &b.parts[2];
            let half_height = match lower.shape {
                PartShape::Box { half_height, .. } => half_height,
                _ => unreachable!(),
            };
            let foot = lower.offset[1] - half_height * libm::cosf(lower.angle);
            assert!((foot + b.spawn_height).abs() < 1e-5, "{}", e.name());
            // The knee anchor is the bottom of the upper leg and the top of the lower leg.
            let knee = b.joints[1].anchor;
            let upper = &b.parts[1];
            assert!(
                (upper.offset[1] - half_height * libm::cosf(upper.angle) - knee[1]).abs() < 1e-5
            );
        }
        assert!((Embodiment::ClassicBipedal.body().spawn_height - 71.0 / SCALE).abs() < 1e-6);
        assert_eq!(Embodiment::from_name("spider"), None);
    }
}

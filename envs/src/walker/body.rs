//! Embodiments as data. A [`BodyDef`] lists rigid parts, the revolute joints between them, which
//! joints are motorised, which parts end the episode when they touch something and which report
//! ground contact in the observation. One builder (`physics.rs`) turns any definition into rapier
//! bodies, so a new embodiment is a new function returning a `BodyDef`, not a new code path.
//!
//! The geometry, motors and penalties are TeachMyAgent's walking bodies (reference notes §1.4),
//! in pixels of its 600×400 viewport divided by [`SCALE`].

use std::f32::consts::PI;

use serde::{Deserialize, Serialize};
use teachgym_core::{Error, Result};

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
    pub name: String,
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

/// A revolute joint between two parts: where it sits and how far it turns.
#[derive(Debug, Clone, PartialEq)]
pub struct HingeDef {
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
}

/// A motorised revolute joint. Each motor is one action component.
#[derive(Debug, Clone, PartialEq)]
pub struct JointDef {
    /// Name, e.g. `hip_back`.
    pub name: String,
    /// The joint itself.
    pub hinge: HingeDef,
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
    /// Joints without a motor (the millipede's segments, the chimpanzee's neck): limited, but
    /// neither acted on nor observed.
    pub passive_joints: Vec<HingeDef>,
    /// Part whose pose and velocity feed the observation, reward and lidar (the hull).
    pub head: usize,
    /// Parts that receive the random horizontal push at reset: the head, or every segment of the
    /// millipede (the reference pushes each as it creates it).
    pub pushed_parts: Vec<usize>,
    /// Motor torque cap at |action| = 1 (N·m).
    pub motors_torque: f32,
    /// Reward cost per unit of |action| per unit of [`EFFORT_TORQUE`] (TeachMyAgent's
    /// `TORQUE_PENALTY`, divided among a body's leg pairs or limb groups).
    pub torque_penalty: f32,
    /// Whether the reward shaping charges the head's tilt (`5·|angle|`). TeachMyAgent drops the
    /// charge (`remove_reward_on_head_angle`) for bodies whose head turns as they move: the
    /// wheel and the chimpanzee.
    pub penalise_head_tilt: bool,
    /// Height of the spawn point above the ground (m), so the feet start on the ground.
    pub spawn_height: f32,
    /// Width used to size the start pad (m).
    pub width: f32,
    /// How the body lives with water: its survival rule and default lidar in Parkour.
    pub locomotion: Locomotion,
    /// Hand sensors that grasp Parkour's ceiling and creepers (climbers), in action order after
    /// the motors: one grasp action each.
    pub grasp_sensors: Vec<GraspSensor>,
    /// Whether the critical parts stay critical in Parkour. TeachMyAgent builds its walkers for
    /// Parkour with `reset_on_hull_critical_contact = False` (the hull may touch the terrain);
    /// only the chimpanzee's head and chest are critical everywhere.
    pub critical_on_parkour: bool,
}

/// A climber's hand sensor: a circle of [`GRASP_SENSOR_RADIUS`] welded to a hand part. While
/// its grasp action is positive and it touches the ceiling or a creeper, a revolute joint holds
/// it there; a non-positive action lets go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraspSensor {
    /// The hand part it is welded to.
    pub part: usize,
    /// Its centre relative to the body's spawn point (m), at spawn.
    pub offset: [f32; 2],
}

/// Radius of a grasp sensor (m).
pub const GRASP_SENSOR_RADIUS: f32 = 0.05;

/// How a body lives with water (TeachMyAgent's body types), which sets its survival rule and
/// its default lidar fan in Parkour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locomotion {
    /// Walks; dies after [`SURVIVAL_STEPS`] consecutive steps with its head under water.
    Walker,
    /// Swims; dies after [`SURVIVAL_STEPS`] consecutive steps with its head out of water.
    Swimmer,
    /// Walks and swims; never dies.
    Amphibian,
    /// Hangs from Parkour's ceiling and creepers by its hands (Parkour only); dies as a walker
    /// does, and falls when its head, chest or lower legs touch anything but the ceiling.
    Climber,
}

/// Consecutive steps a walker survives with its head under water, or a swimmer out of it.
pub const SURVIVAL_STEPS: u32 = 600;

/// The fan of Parkour's lidar rays: ray `i` points `fan · i / 10 + offset` rad from straight
/// down towards the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LidarMode {
    /// 1.5 rad forward from straight down (walkers; Stump Tracks' only fan).
    Down,
    /// 2.3 rad from 1.5 rad: forward and up (climbers).
    Up,
    /// π rad from straight down to straight up, through the front (swimmers).
    Full,
}

impl LidarMode {
    /// `(fan, offset)` in radians.
    pub fn fan(self) -> (f32, f32) {
        match self {
            LidarMode::Down => (super::constants::LIDAR_FAN, 0.0),
            LidarMode::Up => (2.3, 1.5),
            LidarMode::Full => (PI, 0.0),
        }
    }
}

impl Locomotion {
    /// The lidar fan a body of this kind gets in Parkour unless the configuration picks one.
    /// TeachMyAgent sets none for amphibians (its args handler leaves the angle undefined);
    /// teachgym gives them the swimmers' full fan, as they move in both media.
    pub fn default_lidar(self) -> LidarMode {
        match self {
            Locomotion::Walker => LidarMode::Down,
            Locomotion::Climber => LidarMode::Up,
            Locomotion::Swimmer | Locomotion::Amphibian => LidarMode::Full,
        }
    }
}

/// The torque every body's effort is charged at: TeachMyAgent multiplies `TORQUE_PENALTY` by the
/// bipedal's 80 N·m whatever the body's own motors, and divides the penalty instead.
pub const EFFORT_TORQUE: f32 = BIPEDAL_MOTORS_TORQUE;
/// Motor torque cap of the bipedals (N·m).
const BIPEDAL_MOTORS_TORQUE: f32 = 80.0;

impl BodyDef {
    /// Length of the action vector: one per motor, then one grasp per hand sensor.
    pub fn action_dim(&self) -> usize {
        self.joints.len() + self.grasp_sensors.len()
    }

    /// Length of the body block of the observation: 2 per motor (+1 when the motor reports a
    /// contact), then 2 per hand sensor (touching something graspable, holding). TeachMyAgent
    /// calls it the body's state size.
    pub fn state_dim(&self) -> usize {
        self.joints
            .iter()
            .map(|j| 2 + usize::from(j.contact_part.is_some()))
            .sum::<usize>()
            + 2 * self.grasp_sensors.len()
    }

    /// Length of the observation vector: 4 head values, the motor block, then the lidar.
    pub fn observation_dim(&self) -> usize {
        4 + self.state_dim() + super::constants::LIDAR_RAYS
    }

    /// Length of the observation vector in Parkour: 6 head values (with `is_under_water` and
    /// `is_dead`), the motor block, the lidar fractions and the lidar surface flags.
    pub fn parkour_observation_dim(&self) -> usize {
        6 + self.state_dim() + 2 * super::constants::LIDAR_RAYS
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
    /// TeachMyAgent's `big_quadru`: a 96-px hull on four 51-px two-segment legs, 300 N·m.
    BigQuadru,
    /// TeachMyAgent's `spider`: a 20-px square on four three-segment legs, 100 N·m.
    Spider,
    /// TeachMyAgent's `millipede`: four 20-px squares in a passive chain, two legs each,
    /// 200 N·m. As in the reference, no part is critical, so it never falls, and the reset push
    /// acts on every segment.
    Millipede,
    /// TeachMyAgent's `wheel`: a 20-px square with a two-segment leg on each side, 500 N·m;
    /// its tilt is not charged. Its head angle is observed wrapped to (−π, π], as every body's;
    /// Box2D's keeps counting turns as it rolls.
    Wheel,
    /// TeachMyAgent's `profile_chimpanzee`: head, chest, two legs and two arms ending in
    /// three-part hands, 100 N·m; its tilt is not charged.
    ProfileChimpanzee,
    /// TeachMyAgent's `fish` (a swimmer): a hexagonal head, a three-segment tail and a fin,
    /// 80 N·m, slightly lighter than water; it never falls, its tilt is not charged and it dies
    /// after 600 steps out of water.
    Fish,
    /// TeachMyAgent's `amphibious_bipedal`: the classic bipedal with a hull 1.25 and legs 0.25
    /// times as dense as water; it never dies of water.
    AmphibiousBipedal,
    /// TeachMyAgent's `climbing_profile_chimpanzee` (a climber, Parkour only): the profile
    /// chimpanzee with its arms raised, one-part hands ending in grasp sensors, 100 N·m.
    ClimbingProfileChimpanzee,
    /// TeachMyAgent's `climbing_chest_profile_chimpanzee`: the climbing chimpanzee without legs.
    ClimbingChestProfileChimpanzee,
}

impl Embodiment {
    /// All embodiments.
    pub const ALL: [Embodiment; 12] = [
        Embodiment::ClassicBipedal,
        Embodiment::SmallBipedal,
        Embodiment::OldClassicBipedal,
        Embodiment::BigQuadru,
        Embodiment::Spider,
        Embodiment::Millipede,
        Embodiment::Wheel,
        Embodiment::ProfileChimpanzee,
        Embodiment::Fish,
        Embodiment::AmphibiousBipedal,
        Embodiment::ClimbingProfileChimpanzee,
        Embodiment::ClimbingChestProfileChimpanzee,
    ];

    /// Registry name (`classic_bipedal`, ...), the same as the serde name.
    pub fn name(self) -> &'static str {
        match self {
            Embodiment::ClassicBipedal => "classic_bipedal",
            Embodiment::SmallBipedal => "small_bipedal",
            Embodiment::OldClassicBipedal => "old_classic_bipedal",
            Embodiment::BigQuadru => "big_quadru",
            Embodiment::Spider => "spider",
            Embodiment::Millipede => "millipede",
            Embodiment::Wheel => "wheel",
            Embodiment::ProfileChimpanzee => "profile_chimpanzee",
            Embodiment::Fish => "fish",
            Embodiment::AmphibiousBipedal => "amphibious_bipedal",
            Embodiment::ClimbingProfileChimpanzee => "climbing_profile_chimpanzee",
            Embodiment::ClimbingChestProfileChimpanzee => "climbing_chest_profile_chimpanzee",
        }
    }

    /// Parses a registry name.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] on field `body`, listing the known names.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| Error::InvalidConfig {
                field: "body".into(),
                reason: format!(
                    "unknown body `{name}`; known: {}",
                    Self::ALL.map(Embodiment::name).join(", ")
                ),
            })
    }

    /// Whether this is one of the bipedals, whose observation and action layout (BipedalWalker's)
    /// the scripted gait reads.
    pub fn is_bipedal(self) -> bool {
        matches!(
            self,
            Embodiment::ClassicBipedal | Embodiment::SmallBipedal | Embodiment::OldClassicBipedal
        )
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
            Embodiment::BigQuadru => big_quadru(),
            Embodiment::Spider => spider(),
            Embodiment::Millipede => millipede(),
            Embodiment::Wheel => wheel(),
            Embodiment::ProfileChimpanzee => profile_chimpanzee(),
            Embodiment::Fish => fish(),
            Embodiment::AmphibiousBipedal => amphibious_bipedal(),
            Embodiment::ClimbingProfileChimpanzee => climbing_chimpanzee(true),
            Embodiment::ClimbingChestProfileChimpanzee => climbing_chimpanzee(false),
        }
    }
}

/// A length in the reference's pixels, in metres.
fn px(pixels: f32) -> f32 {
    pixels / SCALE
}

/// TeachMyAgent's unscaled torque penalty, which bodies divide by their leg pairs or limb groups.
const BASE_TORQUE_PENALTY: f32 = 0.00035;
/// Density of hulls, heads and chests (kg/m²).
const HULL_DENSITY: f32 = 5.0;
/// Friction of hulls, heads and chests.
const HULL_FRICTION: f32 = 0.1;
/// Density of limbs (kg/m²).
const LIMB_DENSITY: f32 = 1.0;
/// Box2D's default fixture friction, which the limbs keep.
const DEFAULT_PART_FRICTION: f32 = 0.2;
/// Lower segments of legs (and the chimpanzee's forearms) are this fraction of the upper's width.
const LOWER_WIDTH_RATIO: f32 = 0.8;
/// Fill of the bipedals', the quadruped's, the millipede's and the chimpanzee's hull (0.5, 0.4, 0.9).
const HULL_COLOR: [u8; 3] = [127, 102, 229];
/// Fill of the spider's and the wheel's body (0.5, 0.2, 0.4).
const SQUARE_BODY_COLOR: [u8; 3] = [127, 51, 102];
/// Fill of the spider's and the wheel's legs (0.7, 0.4, 0.6).
const SQUARE_BODY_LEG_COLOR: [u8; 3] = [178, 102, 153];

/// Leg fill of TeachMyAgent's walkers: (0.6, 0.3, 0.5) darkened by `shade / 10` (shade −1 for the
/// legs drawn behind, +1 for those in front).
fn leg_color(shade: f32) -> [u8; 3] {
    let tint = |c: f32| ((c - shade / 10.0) * 255.0) as u8;
    [tint(0.6), tint(0.3), tint(0.5)]
}

/// How one kind of motorised joint moves and what it reports.
#[derive(Debug, Clone, Copy)]
struct MotorSpec {
    /// Target speed magnitude (rad/s).
    speed: f32,
    /// Joint angle limits (rad).
    limits: [f32; 2],
    /// Added to the observed angle.
    angle_correction: f32,
    /// Whether the child part's contact flag follows the motor in the observation.
    reports_contact: bool,
}

/// The hips of the bipedals, the quadruped, the millipede and the wheel.
const HIP: MotorSpec = MotorSpec {
    speed: 4.0,
    limits: [-0.8, 1.1],
    angle_correction: 0.0,
    reports_contact: false,
};
/// The knees of the bipedals, the quadruped, the millipede and the wheel: the observed angle is
/// shifted by +1 and the lower leg reports its contact.
const KNEE: MotorSpec = MotorSpec {
    speed: 6.0,
    limits: [-1.6, -0.1],
    angle_correction: 1.0,
    reports_contact: true,
};
/// Speed of the chimpanzee's hand joints (rad/s).
const HAND_SPEED: f32 = 8.0;

/// Which local axis of a limb points from its jointed end to its free end: its −y axis (a leg
/// hanging from a hip at angle 0) or its +y axis, both turned by the limb's spawn angle.
#[derive(Debug, Clone, Copy)]
enum Reach {
    MinusY,
    PlusY,
}

impl Reach {
    /// The unit vector from the jointed end to the free end of a limb spawned at `angle`.
    fn direction(self, angle: f32) -> [f32; 2] {
        let (sin, cos) = (libm::sinf(angle), libm::cosf(angle));
        match self {
            Reach::MinusY => [sin, -cos],
            Reach::PlusY => [-sin, cos],
        }
    }
}

/// One box segment of a limb and the motor of the joint at its jointed end.
struct Segment {
    /// Part name; the joint is named `<name>_joint`.
    name: String,
    /// Width (m).
    width: f32,
    /// Length (m).
    length: f32,
    /// Spawn angle (rad).
    angle: f32,
    /// Direction from the joint to the free end.
    reach: Reach,
    /// The joint's motor.
    motor: MotorSpec,
}

/// Size and fill of a body's two-segment legs.
struct LegShape {
    /// Width of the upper segment (m); the lower is [`LOWER_WIDTH_RATIO`] of it.
    width: f32,
    /// Length of each segment (m).
    length: f32,
    color: [u8; 3],
}

/// The scalars of a body besides its parts and joints.
struct BodyTraits {
    name: &'static str,
    head: usize,
    pushed_parts: Vec<usize>,
    motors_torque: f32,
    torque_penalty: f32,
    penalise_head_tilt: bool,
    spawn_height: f32,
    width: f32,
    locomotion: Locomotion,
    critical_on_parkour: bool,
}

/// Parts and joints of a body under construction.
#[derive(Default)]
struct Assembly {
    parts: Vec<PartDef>,
    joints: Vec<JointDef>,
    passive_joints: Vec<HingeDef>,
    grasp_sensors: Vec<GraspSensor>,
}

impl Assembly {
    /// Adds a part and returns its index.
    fn part(&mut self, part: PartDef) -> usize {
        self.parts.push(part);
        self.parts.len() - 1
    }

    /// Adds a hull-like part (dense, slippery) at `offset`.
    fn hull(&mut self, name: &str, shape: PartShape, offset: [f32; 2], critical: bool) -> usize {
        self.hull_colored(name, shape, offset, critical, HULL_COLOR)
    }

    fn hull_colored(
        &mut self,
        name: &str,
        shape: PartShape,
        offset: [f32; 2],
        critical: bool,
        color: [u8; 3],
    ) -> usize {
        self.part(PartDef {
            name: name.into(),
            shape,
            density: HULL_DENSITY,
            friction: HULL_FRICTION,
            offset,
            angle: 0.0,
            critical,
            color,
        })
    }

    /// Appends a chain of motorised box segments to part `parent` (spawned at `parent_angle`),
    /// the first jointed at `start`, each next one at the free end of the previous.
    fn chain(
        &mut self,
        parent: usize,
        parent_angle: f32,
        start: [f32; 2],
        segments: Vec<Segment>,
        color: [u8; 3],
    ) {
        let (mut parent, mut parent_angle, mut joint) = (parent, parent_angle, start);
        for segment in segments {
            let [dx, dy] = segment.reach.direction(segment.angle);
            let along = |d: f32| [joint[0] + dx * d, joint[1] + dy * d];
            let child = self.part(PartDef {
                name: segment.name.clone(),
                shape: PartShape::Box {
                    half_width: segment.width / 2.0,
                    half_height: segment.length / 2.0,
                },
                density: LIMB_DENSITY,
                friction: DEFAULT_PART_FRICTION,
                offset: along(segment.length / 2.0),
                angle: segment.angle,
                critical: false,
                color,
            });
            self.joints.push(JointDef {
                name: format!("{}_joint", segment.name),
                hinge: HingeDef {
                    parent,
                    child,
                    anchor: joint,
                    limits: segment.motor.limits,
                    // pybox2d's joint definition records the spawn angles' difference.
                    reference_angle: segment.angle - parent_angle,
                },
                speed: segment.motor.speed,
                angle_correction: segment.motor.angle_correction,
                contact_part: segment.motor.reports_contact.then_some(child),
            });
            joint = along(segment.length);
            (parent, parent_angle) = (child, segment.angle);
        }
    }

    /// A straight two-segment leg of TeachMyAgent's walkers (hip and knee) jointed to an
    /// unrotated `parent` at `hip`, both segments spawned at `angle` and reaching along `reach`.
    fn leg(
        &mut self,
        parent: usize,
        prefix: &str,
        hip: [f32; 2],
        angle: f32,
        reach: Reach,
        shape: &LegShape,
    ) {
        let segments = vec![
            Segment {
                name: format!("{prefix}upper_leg"),
                width: shape.width,
                length: shape.length,
                angle,
                reach,
                motor: HIP,
            },
            Segment {
                name: format!("{prefix}lower_leg"),
                width: LOWER_WIDTH_RATIO * shape.width,
                length: shape.length,
                angle,
                reach,
                motor: KNEE,
            },
        ];
        self.chain(parent, 0.0, hip, segments, shape.color);
    }

    /// A back and a front straight leg hanging from the same `hip` of `parent` (legs of a pair
    /// spawn on top of each other, as in the reference; the back one darker), named
    /// `{prefix}back_…` and `{prefix}front_…`.
    fn leg_pair(&mut self, parent: usize, prefix: &str, hip: [f32; 2], width: f32, length: f32) {
        for (side, shade) in [("back", -1.0f32), ("front", 1.0)] {
            self.leg(
                parent,
                &format!("{prefix}{side}_"),
                hip,
                0.0,
                Reach::MinusY,
                &LegShape {
                    width,
                    length,
                    color: leg_color(shade),
                },
            );
        }
    }

    /// Adds an unmotorised joint between two unrotated parts.
    fn passive(&mut self, parent: usize, child: usize, anchor: [f32; 2], limits: [f32; 2]) {
        self.passive_joints.push(HingeDef {
            parent,
            child,
            anchor,
            limits,
            reference_angle: 0.0,
        });
    }

    /// The body definition.
    fn finish(self, traits: BodyTraits) -> BodyDef {
        BodyDef {
            name: traits.name,
            parts: self.parts,
            joints: self.joints,
            passive_joints: self.passive_joints,
            head: traits.head,
            pushed_parts: traits.pushed_parts,
            motors_torque: traits.motors_torque,
            torque_penalty: traits.torque_penalty,
            penalise_head_tilt: traits.penalise_head_tilt,
            spawn_height: traits.spawn_height,
            width: traits.width,
            locomotion: traits.locomotion,
            critical_on_parkour: traits.critical_on_parkour,
            grasp_sensors: self.grasp_sensors,
        }
    }
}

/// A polygon given clockwise in pixels (the reference's order), as counter-clockwise metres.
fn clockwise_px_polygon(vertices: &[[f32; 2]]) -> PartShape {
    PartShape::Polygon(
        vertices
            .iter()
            .rev()
            .map(|&[x, y]| [px(x), px(y)])
            .collect(),
    )
}

/// A square of `side` pixels.
fn square_px(side: f32) -> PartShape {
    PartShape::Box {
        half_width: px(side / 2.0),
        half_height: px(side / 2.0),
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
/// Leg width (m); lower legs are [`LOWER_WIDTH_RATIO`] of it.
const BIPEDAL_LEG_W: f32 = 8.0 / SCALE;

/// A two-legged walker with straight legs hanging from the hull, `leg_h` long per segment.
fn bipedal(name: &'static str, leg_h: f32, width: f32, leg_down: f32, spawn_angle: f32) -> BodyDef {
    let mut parts = vec![PartDef {
        name: "hull".into(),
        shape: clockwise_px_polygon(&BIPEDAL_HULL_PX),
        density: HULL_DENSITY,
        friction: HULL_FRICTION,
        offset: [0.0, 0.0],
        angle: 0.0,
        critical: true,
        color: HULL_COLOR,
    }];
    let mut joints = Vec::new();
    // Back leg first (drawn behind), as in the original: i = -1, +1.
    for (side, shade) in [("back", -1.0f32), ("front", 1.0)] {
        // Legs hang from the hip, rotated by the spawn angle (back leg backwards).
        let angle = shade * spawn_angle;
        let (sin, cos) = (libm::sinf(angle), libm::cosf(angle));
        let below_hip = |d: f32| [d * sin, -leg_down - d * cos];
        // A leg segment: a box of the given width whose centre hangs `depth` below the hip.
        let segment = |name: String, width: f32, depth: f32| PartDef {
            name,
            shape: PartShape::Box {
                half_width: width / 2.0,
                half_height: leg_h / 2.0,
            },
            density: LIMB_DENSITY,
            friction: DEFAULT_PART_FRICTION,
            offset: below_hip(depth),
            angle,
            critical: false,
            color: leg_color(shade),
        };
        let upper = parts.len();
        parts.push(segment(
            format!("upper_leg_{side}"),
            BIPEDAL_LEG_W,
            leg_h / 2.0,
        ));
        let lower = parts.len();
        parts.push(segment(
            format!("lower_leg_{side}"),
            LOWER_WIDTH_RATIO * BIPEDAL_LEG_W,
            leg_h * 1.5,
        ));
        joints.push(JointDef {
            name: format!("hip_{side}"),
            hinge: HingeDef {
                parent: 0,
                child: upper,
                anchor: [0.0, -leg_down],
                limits: HIP.limits,
                // pybox2d's joint definition records the spawn angle as reference angle.
                reference_angle: angle,
            },
            speed: HIP.speed,
            angle_correction: HIP.angle_correction,
            contact_part: None,
        });
        joints.push(JointDef {
            name: format!("knee_{side}"),
            hinge: HingeDef {
                parent: upper,
                child: lower,
                anchor: below_hip(leg_h),
                limits: KNEE.limits,
                reference_angle: 0.0,
            },
            speed: KNEE.speed,
            angle_correction: KNEE.angle_correction,
            contact_part: Some(lower),
        });
    }
    BodyDef {
        name,
        parts,
        joints,
        passive_joints: Vec::new(),
        head: 0,
        pushed_parts: vec![0],
        motors_torque: BIPEDAL_MOTORS_TORQUE,
        torque_penalty: BASE_TORQUE_PENALTY,
        penalise_head_tilt: true,
        spawn_height: 2.0 * leg_h * libm::cosf(spawn_angle) + leg_down,
        width,
        locomotion: Locomotion::Walker,
        critical_on_parkour: false,
        grasp_sensors: Vec::new(),
    }
}

/// `big_quadru`: the bipedal's design scaled up, with a pair of legs at 0.7 of the half hull
/// behind the centre and a pair at 0.5 in front; within a pair both legs spawn in the same
/// place (drawn behind and in front).
fn big_quadru() -> BodyDef {
    const HULL_PX: [[f32; 2]; 5] = [
        [-46.0, 13.0],
        [6.0, 13.0],
        [50.0, 5.0],
        [50.0, -12.0],
        [-46.0, -12.0],
    ];
    const HULL_BOTTOM_WIDTH_PX: f32 = 96.0;
    let (leg_down, leg_w, leg_h) = (px(3.0), px(10.0), px(51.0));
    let mut a = Assembly::default();
    let hull = a.hull("hull", clockwise_px_polygon(&HULL_PX), [0.0, 0.0], true);
    for (pair, fraction) in [("hind", -0.7f32), ("fore", 0.5)] {
        let x = fraction * px(HULL_BOTTOM_WIDTH_PX / 2.0);
        a.leg_pair(hull, &format!("{pair}_"), [x, -leg_down], leg_w, leg_h);
    }
    a.finish(BodyTraits {
        name: "big_quadru",
        head: hull,
        pushed_parts: vec![hull],
        motors_torque: 300.0,
        torque_penalty: BASE_TORQUE_PENALTY / 2.0,
        penalise_head_tilt: true,
        spawn_height: 2.0 * leg_h + leg_down,
        width: px(HULL_BOTTOM_WIDTH_PX),
        locomotion: Locomotion::Walker,
        critical_on_parkour: false,
    })
}

/// `spider`: a square body with two pairs of three-segment legs. Each leg rises outwards from
/// a hip on the body's side, then bends down twice; the two legs of a side spawn in the same
/// place. The spawn height leaves the feet 3.4 px above the ground, as in the reference.
fn spider() -> BodyDef {
    const BODY_PX: f32 = 20.0;
    const PAIRS_OF_LEGS: usize = 2;
    let (leg_down, leg_w, leg_h) = (px(4.0), px(6.0), px(20.0));
    // Spawn angles (in units of π, for a leg on the back side; mirrored in front) and motors of
    // the three segments.
    let segment_specs = [
        (
            "upper",
            0.25,
            MotorSpec {
                speed: HIP.speed,
                limits: [-0.1 * PI, 0.1 * PI],
                angle_correction: 0.0,
                reports_contact: false,
            },
        ),
        (
            "middle",
            0.7,
            MotorSpec {
                speed: HIP.speed,
                limits: [-0.15 * PI, 0.15 * PI],
                angle_correction: 0.0,
                reports_contact: false,
            },
        ),
        (
            "lower",
            0.9,
            MotorSpec {
                speed: KNEE.speed,
                limits: [-0.2 * PI, 0.2 * PI],
                angle_correction: 0.0,
                reports_contact: true,
            },
        ),
    ];
    let mut a = Assembly::default();
    let body = a.hull_colored(
        "body",
        square_px(BODY_PX),
        [0.0, 0.0],
        true,
        SQUARE_BODY_COLOR,
    );
    for pair in 0..PAIRS_OF_LEGS {
        // +1: the back leg (hip on the body's back side), −1: the front leg.
        for (side, mirror) in [("back", 1.0f32), ("front", -1.0)] {
            let segments = segment_specs
                .iter()
                .enumerate()
                .map(|(k, &(name, turns, motor))| Segment {
                    name: format!("{side}_{pair}_{name}_leg"),
                    width: if k == 2 {
                        LOWER_WIDTH_RATIO * leg_w
                    } else {
                        leg_w
                    },
                    length: leg_h,
                    angle: mirror * turns * PI,
                    reach: Reach::PlusY,
                    motor,
                })
                .collect();
            a.chain(
                body,
                0.0,
                [-mirror * px(BODY_PX / 2.0), -leg_down],
                segments,
                SQUARE_BODY_LEG_COLOR,
            );
        }
    }
    a.finish(BodyTraits {
        name: "spider",
        head: body,
        pushed_parts: vec![body],
        motors_torque: 100.0,
        torque_penalty: BASE_TORQUE_PENALTY / PAIRS_OF_LEGS as f32,
        penalise_head_tilt: true,
        spawn_height: leg_h + leg_down,
        width: px(BODY_PX) + 4.0 * leg_h,
        locomotion: Locomotion::Walker,
        critical_on_parkour: false,
    })
}

/// `millipede`: four square segments in a row, joined edge to edge by unmotorised joints that
/// bend ±0.05π, each with a pair of short legs. The head (observation, reward, lidar) is the
/// front segment. The reference meant the head to be critical but set the flag where its contact
/// listener never reads it, so no part is: the millipede never falls, and we keep that.
fn millipede() -> BodyDef {
    const SEGMENT_PX: f32 = 20.0;
    const SEGMENTS: usize = 4;
    let (leg_down, leg_w, leg_h) = (px(3.0), px(4.0), px(10.0));
    let mut a = Assembly::default();
    // The reference centres the row on the spawn point before placing the segments' centres,
    // so the segments sit at −40, −20, 0 and +20 px.
    let first_x = -px(SEGMENT_PX) * SEGMENTS as f32 / 2.0;
    let mut segments: Vec<usize> = Vec::with_capacity(SEGMENTS);
    for k in 0..SEGMENTS {
        let x = first_x + k as f32 * px(SEGMENT_PX);
        let segment = a.hull(
            &format!("segment_{k}"),
            square_px(SEGMENT_PX),
            [x, 0.0],
            false,
        );
        a.leg_pair(
            segment,
            &format!("segment_{k}_"),
            [x, -leg_down],
            leg_w,
            leg_h,
        );
        if let Some(&previous) = segments.last() {
            a.passive(
                previous,
                segment,
                [x - px(SEGMENT_PX / 2.0), 0.0],
                [-0.05 * PI, 0.05 * PI],
            );
        }
        segments.push(segment);
    }
    a.finish(BodyTraits {
        name: "millipede",
        head: *segments.last().expect("the millipede has segments"),
        pushed_parts: segments,
        motors_torque: 200.0,
        // One pair of legs per segment.
        torque_penalty: BASE_TORQUE_PENALTY / SEGMENTS as f32,
        penalise_head_tilt: true,
        spawn_height: 2.0 * leg_h + leg_down,
        width: px(SEGMENT_PX) * SEGMENTS as f32,
        locomotion: Locomotion::Walker,
        critical_on_parkour: false,
    })
}

/// `wheel`: a square hull with a straight two-segment leg jointed at the middle of each side,
/// pointing away from it (bottom, top, back, front). The side legs spawn at π/2, so their hips'
/// reference angle is π/2; the top leg reaches up along its +y axis.
fn wheel() -> BodyDef {
    const HULL_PX: f32 = 20.0;
    let (leg_w, leg_h) = (px(4.0), px(10.0));
    let half = px(HULL_PX / 2.0);
    let mut a = Assembly::default();
    let hull = a.hull_colored(
        "hull",
        square_px(HULL_PX),
        [0.0, 0.0],
        true,
        SQUARE_BODY_COLOR,
    );
    for (side, hip, angle, reach) in [
        ("bottom", [0.0, -half], 0.0, Reach::MinusY),
        ("top", [0.0, half], 0.0, Reach::PlusY),
        ("back", [-half, 0.0], PI / 2.0, Reach::PlusY),
        ("front", [half, 0.0], PI / 2.0, Reach::MinusY),
    ] {
        a.leg(
            hull,
            &format!("{side}_"),
            hip,
            angle,
            reach,
            &LegShape {
                width: leg_w,
                length: leg_h,
                color: SQUARE_BODY_LEG_COLOR,
            },
        );
    }
    a.finish(BodyTraits {
        name: "wheel",
        head: hull,
        pushed_parts: vec![hull],
        motors_torque: 500.0,
        // Four legs count as two pairs.
        torque_penalty: BASE_TORQUE_PENALTY / 2.0,
        penalise_head_tilt: false,
        spawn_height: half + 2.0 * leg_h,
        width: px(HULL_PX),
        locomotion: Locomotion::Walker,
        critical_on_parkour: false,
    })
}

/// `profile_chimpanzee`, seen from the side: a head on a passive neck (±0.1π) above a
/// trapezoid chest, two legs (hip, knee) and two arms hanging down (shoulder, elbow, three hand
/// parts that report contact). Both legs spawn in the same place, and so do both arms. The spawn
/// point is the chest's centre; head and chest are critical and the head is observed.
///
/// Reference quirks kept: the head floats 0.2 m above the chest's nominal 45-px height, below
/// which the neck joint sits (inside the chest, not the head); the chest polygon spans −20 to
/// +25 px around the spawn point though its height is taken as 45 px centred.
fn profile_chimpanzee() -> BodyDef {
    chimpanzee(ChimpanzeeKind::Walking)
}

/// `climbing_profile_chimpanzee` (with legs) and `climbing_chest_profile_chimpanzee`
/// (without): the profile chimpanzee's head and chest, its arms raised (shoulder [−1.5π, 0],
/// elbow [0, 0.75π]) and ending in one-part hands (±0.5π) whose tips carry the grasp sensors;
/// the lower legs are critical too.
fn climbing_chimpanzee(legs: bool) -> BodyDef {
    chimpanzee(ChimpanzeeKind::Climbing { legs })
}

/// The profile chimpanzees.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ChimpanzeeKind {
    /// Arms down, three-part hands.
    Walking,
    /// Arms up, one-part hands with grasp sensors.
    Climbing { legs: bool },
}

fn chimpanzee(kind: ChimpanzeeKind) -> BodyDef {
    const CHEST_PX: [[f32; 2]; 4] = [[-12.0, 25.0], [12.0, 25.0], [8.0, -20.0], [-8.0, -20.0]];
    const CHEST_HEIGHT_PX: f32 = 45.0;
    const HEAD_HEIGHT_PX: f32 = 20.0;
    const HEAD_GAP: f32 = 0.2;
    // Limits of the hand joints, wrist first (units of π).
    const WALKING_HAND_LIMITS: &[[f32; 2]] = &[[-0.4, 0.35], [-0.5, 0.0], [-0.8, 0.0]];
    const CLIMBING_HAND_LIMITS: &[[f32; 2]] = &[[-0.5, 0.5]];
    let (leg_down, arm_up) = (px(12.0), px(22.0));
    let (limb_w, limb_h) = (px(8.0), px(28.0));
    let (hand_w, hand_h) = (px(4.0), px(8.0));
    let climbing = matches!(kind, ChimpanzeeKind::Climbing { .. });
    let legs = !matches!(kind, ChimpanzeeKind::Climbing { legs: false });

    let mut a = Assembly::default();
    let head = a.hull(
        "head",
        PartShape::Box {
            half_width: px(5.0),
            half_height: px(HEAD_HEIGHT_PX / 2.0),
        },
        [
            0.0,
            px(CHEST_HEIGHT_PX / 2.0) + px(HEAD_HEIGHT_PX / 2.0) + HEAD_GAP,
        ],
        true,
    );
    let chest = a.hull("chest", clockwise_px_polygon(&CHEST_PX), [0.0, 0.0], true);
    a.passive(
        head,
        chest,
        [0.0, px(CHEST_HEIGHT_PX / 2.0)],
        [-0.1 * PI, 0.1 * PI],
    );
    let motor =
        |speed: f32, limits: [f32; 2], angle_correction: f32, reports_contact: bool| MotorSpec {
            speed,
            limits,
            angle_correction,
            reports_contact,
        };
    let arm_reach = if climbing {
        Reach::PlusY
    } else {
        Reach::MinusY
    };
    let limb = |name: String, width: f32, length: f32, reach: Reach, motor: MotorSpec| Segment {
        name,
        width,
        length,
        angle: 0.0,
        reach,
        motor,
    };
    if legs {
        for k in 0..2 {
            let segments = vec![
                limb(
                    format!("upper_leg_{k}"),
                    limb_w,
                    limb_h,
                    Reach::MinusY,
                    motor(HIP.speed, [-0.3 * PI, 0.6 * PI], 0.0, false),
                ),
                limb(
                    format!("lower_leg_{k}"),
                    LOWER_WIDTH_RATIO * limb_w,
                    limb_h,
                    Reach::MinusY,
                    motor(KNEE.speed, [-0.75 * PI, -0.1], KNEE.angle_correction, true),
                ),
            ];
            a.chain(chest, 0.0, [0.0, -leg_down], segments, leg_color(1.0));
            if climbing {
                // A climber touching the ground with its lower legs falls.
                let lower = a.parts.len() - 1;
                a.parts[lower].critical = true;
            }
        }
    }
    let (shoulder, elbow, hand_limits) = if climbing {
        ([-1.5 * PI, 0.0], [0.0, 0.75 * PI], CLIMBING_HAND_LIMITS)
    } else {
        ([-0.5 * PI, 0.8 * PI], [0.0, 0.75 * PI], WALKING_HAND_LIMITS)
    };
    for k in 0..2 {
        let mut segments = vec![
            limb(
                format!("upper_arm_{k}"),
                limb_w,
                limb_h,
                arm_reach,
                motor(HIP.speed, shoulder, 0.0, false),
            ),
            limb(
                format!("lower_arm_{k}"),
                LOWER_WIDTH_RATIO * limb_w,
                limb_h,
                arm_reach,
                motor(HIP.speed, elbow, 0.0, false),
            ),
        ];
        segments.extend(hand_limits.iter().enumerate().map(|(u, &[low, high])| {
            limb(
                format!("hand_{k}_{u}"),
                hand_w,
                hand_h,
                arm_reach,
                motor(HAND_SPEED, [low * PI, high * PI], 0.0, true),
            )
        }));
        a.chain(chest, 0.0, [0.0, arm_up], segments, leg_color(-1.0));
        if climbing {
            // The sensor sits at the tip of the (straight, raised) arm.
            let reach = arm_up + 2.0 * limb_h + hand_h * hand_limits.len() as f32;
            a.grasp_sensors.push(GraspSensor {
                part: a.parts.len() - 1,
                offset: [0.0, reach],
            });
        }
    }
    let name = match kind {
        ChimpanzeeKind::Walking => "profile_chimpanzee",
        ChimpanzeeKind::Climbing { legs: true } => "climbing_profile_chimpanzee",
        ChimpanzeeKind::Climbing { legs: false } => "climbing_chest_profile_chimpanzee",
    };
    a.finish(BodyTraits {
        name,
        head,
        pushed_parts: vec![head],
        motors_torque: 100.0,
        // Legs, arms and hands: five limb groups (the legless climber keeps the divisor).
        torque_penalty: BASE_TORQUE_PENALTY / 5.0,
        penalise_head_tilt: false,
        spawn_height: 2.0 * limb_h + leg_down,
        width: px(24.0),
        locomotion: if climbing {
            Locomotion::Climber
        } else {
            Locomotion::Walker
        },
        critical_on_parkour: true,
    })
}

/// Density of water (kg/m²); Parkour's buoyancy uses the same value.
pub const WATER_DENSITY: f32 = 1.0;

/// `fish`: a hexagonal head, a tail of three tapering segments jointed one behind the other and
/// a fin under the head, every part `WATER_DENSITY − 0.01` dense (it rises slowly in water when
/// idle). All four motors turn at 6 rad/s and report their part's contact; nothing is critical
/// and the reset push is off, as in the reference. The reference draws the fish 1 m above its
/// spawn point.
fn fish() -> BodyDef {
    const HEAD_PX: [[f32; 2]; 6] = [
        [-20.0, 12.0],
        [6.0, 12.0],
        [15.0, 4.0],
        [15.0, -4.0],
        [6.0, -12.0],
        [-20.0, -12.0],
    ];
    // The tail: the segments' outlines (clockwise, pixels) and their joint limits (units of π).
    const TAIL_PX: [[[f32; 2]; 4]; 3] = [
        [[-8.0, 9.0], [8.0, 12.0], [8.0, -12.0], [-8.0, -9.0]],
        [[-8.0, 4.0], [8.0, 9.0], [8.0, -9.0], [-8.0, -4.0]],
        [[-4.0, 2.0], [4.0, 4.0], [4.0, -4.0], [-4.0, -2.0]],
    ];
    const TAIL_LENGTHS_PX: [f32; 3] = [16.0, 16.0, 8.0];
    const TAIL_LIMITS: [[f32; 2]; 3] = [[-0.1, 0.2], [-0.15, 0.15], [-0.3, 0.3]];
    const FIN_PX: [[f32; 2]; 4] = [[-1.0, -10.0], [-1.0, 10.0], [1.0, 10.0], [1.0, -10.0]];
    const FIN_LENGTH_PX: f32 = 20.0;
    const FIN_ANGLE: f32 = -0.2 * PI;
    const HEAD_BOTTOM_WIDTH_PX: f32 = 35.0;
    const SPEED: f32 = 6.0;
    let density = WATER_DENSITY - 0.01;
    let lift = 1.0;
    let color = HULL_COLOR;
    let mut a = Assembly::default();
    let head = a.part(PartDef {
        name: "head".into(),
        shape: clockwise_px_polygon(&HEAD_PX),
        density,
        friction: HULL_FRICTION,
        offset: [0.0, lift],
        angle: 0.0,
        critical: false,
        color,
    });
    let motor = |a: &mut Assembly, name: String, hinge: HingeDef| {
        let child = hinge.child;
        a.joints.push(JointDef {
            name,
            hinge,
            speed: SPEED,
            angle_correction: 0.0,
            contact_part: Some(child),
        });
    };
    // Each tail segment is jointed at the back edge of the part before it.
    let (mut parent, mut joint_x, mut front_half) = (head, -px(HEAD_BOTTOM_WIDTH_PX / 2.0), 0.0);
    for (k, ((outline, length), [low, high])) in TAIL_PX
        .iter()
        .zip(TAIL_LENGTHS_PX)
        .zip(TAIL_LIMITS)
        .enumerate()
    {
        let x = joint_x - front_half - px(length / 2.0);
        let segment = a.part(PartDef {
            name: format!("tail_{k}"),
            shape: clockwise_px_polygon(outline),
            density,
            friction: DEFAULT_PART_FRICTION,
            offset: [x, lift],
            angle: 0.0,
            critical: false,
            color,
        });
        motor(
            &mut a,
            format!("tail_{k}_joint"),
            HingeDef {
                parent,
                child: segment,
                anchor: [joint_x - front_half, lift],
                limits: [low * PI, high * PI],
                reference_angle: 0.0,
            },
        );
        parent = segment;
        joint_x = x;
        front_half = px(length / 2.0);
    }
    let fin_anchor = [0.0, lift - px(11.0) + 0.2];
    let (sin, cos) = (libm::sinf(FIN_ANGLE), libm::cosf(FIN_ANGLE));
    let half = px(FIN_LENGTH_PX / 2.0);
    let fin = a.part(PartDef {
        name: "fin".into(),
        shape: clockwise_px_polygon(&FIN_PX),
        density,
        friction: DEFAULT_PART_FRICTION,
        offset: [fin_anchor[0] + sin * half, fin_anchor[1] - cos * half],
        angle: FIN_ANGLE,
        critical: false,
        color,
    });
    motor(
        &mut a,
        "fin_joint".into(),
        HingeDef {
            parent: head,
            child: fin,
            anchor: fin_anchor,
            limits: [-0.3 * PI, 0.2 * PI],
            reference_angle: FIN_ANGLE,
        },
    );
    a.finish(BodyTraits {
        name: "fish",
        head,
        pushed_parts: Vec::new(),
        motors_torque: BIPEDAL_MOTORS_TORQUE,
        torque_penalty: BASE_TORQUE_PENALTY,
        penalise_head_tilt: false,
        spawn_height: px(9.0),
        width: px(HEAD_BOTTOM_WIDTH_PX),
        locomotion: Locomotion::Swimmer,
        critical_on_parkour: false,
    })
}

/// `amphibious_bipedal`: the classic bipedal with a hull 1.25 and limbs 0.25 times as dense as
/// water, so it floats; it never dies of water.
fn amphibious_bipedal() -> BodyDef {
    let mut body = bipedal(
        "amphibious_bipedal",
        34.0 / SCALE,
        64.0 / SCALE,
        TMA_LEG_DOWN,
        0.0,
    );
    for (i, part) in body.parts.iter_mut().enumerate() {
        part.density = WATER_DENSITY * if i == body.head { 1.25 } else { 0.25 };
    }
    body.locomotion = Locomotion::Amphibian;
    body
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
        for e in Embodiment::ALL.into_iter().filter(|e| e.is_bipedal()) {
            let b = e.body();
            assert_eq!(b.action_dim(), 4);
            assert_eq!(b.observation_dim(), 24, "{}", e.name());
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
            let knee = b.joints[1].hinge.anchor;
            let upper = &b.parts[1];
            assert!(
                (upper.offset[1] - half_height * libm::cosf(upper.angle) - knee[1]).abs() < 1e-5
            );
        }
        assert!((Embodiment::ClassicBipedal.body().spawn_height - 71.0 / SCALE).abs() < 1e-6);
    }

    #[test]
    fn tilt_charges_critical_and_pushed_parts_match_the_reference() {
        // Tilt is charged except for the wheel and the chimpanzee.
        let uncharged: Vec<_> = Embodiment::ALL
            .into_iter()
            .filter(|e| !e.body().penalise_head_tilt)
            .map(Embodiment::name)
            .collect();
        assert_eq!(
            uncharged,
            [
                "wheel",
                "profile_chimpanzee",
                "fish",
                "climbing_profile_chimpanzee",
                "climbing_chest_profile_chimpanzee"
            ]
        );
        // Critical parts: the hull (head) for all but the millipede (none) and the chimpanzee
        // (head and chest).
        for e in Embodiment::ALL {
            let b = e.body();
            let critical: Vec<_> = (0..b.parts.len())
                .filter(|&i| b.parts[i].critical)
                .collect();
            let expected = match e {
                Embodiment::Millipede | Embodiment::Fish => vec![],
                Embodiment::ProfileChimpanzee | Embodiment::ClimbingChestProfileChimpanzee => {
                    vec![b.head, 1]
                }
                // Head, chest and both lower legs.
                Embodiment::ClimbingProfileChimpanzee => vec![b.head, 1, 3, 5],
                _ => vec![b.head],
            };
            assert_eq!(critical, expected, "{}", e.name());
            // The reset push acts on the head, and on every segment of the millipede.
            let pushed = match e {
                Embodiment::Millipede => vec![0, 5, 10, 15],
                Embodiment::Fish => vec![],
                _ => vec![b.head],
            };
            assert_eq!(b.pushed_parts, pushed, "{}", e.name());
        }
    }

    #[test]
    fn names_round_trip_and_bad_names_list_the_known_ones() {
        for e in Embodiment::ALL {
            assert_eq!(Embodiment::from_name(e.name()).unwrap(), e);
            // The serde name is the registry name.
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", e.name())
            );
        }
        match Embodiment::from_name("quadruped") {
            Err(Error::InvalidConfig { field, reason }) => {
                assert_eq!(field, "body");
                assert!(reason.contains("`quadruped`"), "{reason}");
                for e in Embodiment::ALL {
                    assert!(reason.contains(e.name()), "{reason}");
                }
            }
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    /// Whether `point` lies in the part's shape at its spawn pose, within `tolerance` (m).
    fn contains(part: &PartDef, point: [f32; 2], tolerance: f32) -> bool {
        let (sin, cos) = (libm::sinf(part.angle), libm::cosf(part.angle));
        let (dx, dy) = (point[0] - part.offset[0], point[1] - part.offset[1]);
        let local = [cos * dx + sin * dy, -sin * dx + cos * dy];
        let vertices = part.shape.vertices();
        vertices
            .iter()
            .zip(vertices.iter().cycle().skip(1))
            .all(|(a, b)| {
                let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
                // Counter-clockwise: inside is left of every edge.
                let cross = ex * (local[1] - a[1]) - ey * (local[0] - a[0]);
                cross >= -tolerance * (ex * ex + ey * ey).sqrt()
            })
    }

    #[test]
    fn joints_sit_on_both_of_their_parts_and_indices_are_valid() {
        for e in Embodiment::ALL {
            let b = e.body();
            let n = b.parts.len();
            assert!(b.head < n, "{}", e.name());
            let hinges = b.joints.iter().map(|j| &j.hinge).chain(&b.passive_joints);
            for h in hinges {
                assert!(h.parent < n && h.child < n && h.parent != h.child);
                assert!(h.limits[0] <= h.limits[1]);
                // The chimpanzee's neck anchor lies inside the chest but below the head (a
                // reference quirk); every other anchor lies on both parts.
                let chimpanzee = matches!(
                    e,
                    Embodiment::ProfileChimpanzee
                        | Embodiment::ClimbingProfileChimpanzee
                        | Embodiment::ClimbingChestProfileChimpanzee
                );
                let is_neck = chimpanzee && h.child == 1;
                for (role, part) in [("parent", h.parent), ("child", h.child)] {
                    if is_neck && role == "parent" {
                        continue;
                    }
                    assert!(
                        contains(&b.parts[part], h.anchor, 1e-5),
                        "{}: joint {role} {} does not hold {:?}",
                        e.name(),
                        b.parts[part].name,
                        h.anchor
                    );
                }
                // Spawned at the reference angle: the joint angle reads 0.
                let relative = b.parts[h.child].angle - b.parts[h.parent].angle;
                assert!((relative - h.reference_angle).abs() < 1e-6, "{}", e.name());
            }
            for j in &b.joints {
                assert!(j.speed > 0.0);
                if let Some(p) = j.contact_part {
                    assert_eq!(p, j.hinge.child, "{}: {}", e.name(), j.name);
                }
            }
        }
    }

    #[test]
    fn every_body_spawns_on_or_just_above_the_ground() {
        for e in Embodiment::ALL {
            let b = e.body();
            let lowest = b
                .parts
                .iter()
                .flat_map(|p| {
                    let (sin, cos) = (libm::sinf(p.angle), libm::cosf(p.angle));
                    p.shape
                        .vertices()
                        .into_iter()
                        .map(move |[x, y]| p.offset[1] + sin * x + cos * y)
                })
                .fold(f32::INFINITY, f32::min);
            let clearance = lowest + b.spawn_height;
            if e == Embodiment::Fish {
                // Drawn 1 m above its spawn point, as the reference's: it drops into the water.
                assert!(
                    (0.5..1.0).contains(&clearance),
                    "fish: clearance {clearance}"
                );
                continue;
            }
            if b.locomotion == Locomotion::Climber {
                // Climbers spawn hanging from the ceiling: their sensors sit on the arms' tips.
                for sensor in &b.grasp_sensors {
                    assert!(contains(&b.parts[sensor.part], sensor.offset, 1e-5));
                }
                continue;
            }
            // The spider's feet start 3.4 px up (its reference spawn height), the rest touch;
            // the spider's and old bipedal's slanted feet dip their corners by under 1 px.
            assert!(
                (-px(1.0)..=px(4.0)).contains(&clearance),
                "{}: clearance {clearance}",
                e.name()
            );
            assert!(startpad_steps(&b) == super::super::constants::TERRAIN_STARTPAD);
        }
    }
}

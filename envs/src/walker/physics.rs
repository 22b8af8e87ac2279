//! The rapier2d world of one walker episode: terrain colliders, the body built from its
//! [`BodyDef`], Box2D-style velocity motors, contact flags and the lidar.

use std::sync::LazyLock;

use rapier2d::prelude::*;
use serde::{Deserialize, Serialize};

use super::body::{
    BodyDef, HingeDef, LidarMode, PartDef, PartShape, GRASP_SENSOR_RADIUS, WATER_DENSITY,
};
use super::constants::{FPS, GRAVITY, LIDAR_RANGE, LIDAR_RAYS, TERRAIN_FRICTION, TOUCH_DISTANCE};
use super::terrain::Terrain;

/// Default number of solver substeps per env step (see `BENCHMARKS.md`, calibration).
pub const DEFAULT_SOLVER_ITERATIONS: usize = 4;
/// Default motor velocity-constraint gain. Large values make the motor a rigid velocity
/// constraint limited only by its torque cap, which is Box2D's revolute motor.
pub const DEFAULT_MOTOR_FACTOR: f32 = 1000.0;
/// Default velocity-solver iterations per substep (see `BENCHMARKS.md`, calibration).
pub const DEFAULT_PGS_ITERATIONS: usize = 1;
/// Largest `solver_iterations`: 64 times the default, far beyond any calibration need.
pub const MAX_SOLVER_ITERATIONS: usize = 256;
/// Largest `pgs_iterations`: with [`MAX_SOLVER_ITERATIONS`] substeps, 65 536 solver passes per
/// step (about a tenth of a second), more than 300 times Box2D's 180 velocity iterations.
pub const MAX_PGS_ITERATIONS: usize = 256;

/// Solver settings of the walker world.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhysicsConfig {
    /// Solver substeps per 1/50 s step, `1..=`[`MAX_SOLVER_ITERATIONS`]. Default:
    /// [`DEFAULT_SOLVER_ITERATIONS`].
    pub solver_iterations: usize,
    /// Motor gain (1/s). Default: [`DEFAULT_MOTOR_FACTOR`].
    pub motor_factor: f32,
    /// Warm-start joint impulses across steps (stiffer assemblies). Default: `true`.
    pub warmstart_joints: bool,
    /// Velocity-solver (PGS) iterations per substep. Box2D runs 180 velocity iterations per step
    /// in the reference, which lets loaded motors reach their torque cap; one iteration per
    /// substep leaves them well below it. `1..=`[`MAX_PGS_ITERATIONS`]. Default:
    /// [`DEFAULT_PGS_ITERATIONS`].
    pub pgs_iterations: usize,
}

impl Default for PhysicsConfig {
    fn default() -> Self {
        Self {
            solver_iterations: DEFAULT_SOLVER_ITERATIONS,
            motor_factor: DEFAULT_MOTOR_FACTOR,
            warmstart_joints: true,
            pgs_iterations: DEFAULT_PGS_ITERATIONS,
        }
    }
}

/// Collision group of the terrain. Body parts collide only with it (no self-collision).
const TERRAIN_GROUP: Group = Group::GROUP_1;
/// Collision group of the walker's parts.
const AGENT_GROUP: Group = Group::GROUP_6;
/// Movable creepers' segments: a group nothing collides with (they are only grasped and seen).
const CREEPER_GROUP: Group = Group::GROUP_7;

/// Longest segment of a movable creeper chain (m): TeachMyAgent's 1-unit links.
pub const MOVABLE_CREEPER_SEGMENT: f32 = 1.0;
/// Density of a movable creeper segment (kg/m²), TeachMyAgent's.
const CREEPER_DENSITY: f32 = 5.0;
/// Joint limits of a movable creeper chain (rad): ±0.4π at every link, the top one included.
const CREEPER_JOINT_LIMIT: f32 = 0.4 * std::f32::consts::PI;

/// Kinematic state of one rigid part, for observations and rendering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartPose {
    /// Position of the part origin (m).
    pub position: [f32; 2],
    /// Angle (rad).
    pub angle: f32,
}

/// Full kinematic state of one rigid part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PartState {
    /// Position of the part origin (m).
    pub position: [f32; 2],
    /// Angle (rad).
    pub angle: f32,
    /// Linear velocity of the centre of mass (m/s).
    pub linvel: [f32; 2],
    /// Angular velocity (rad/s).
    pub angvel: f32,
}

/// A convex obstacle as the lidar sees it.
struct ObstacleOutline {
    min_x: f32,
    max_x: f32,
    min_y: f32,
    max_y: f32,
    /// Counter-clockwise hull vertices in world coordinates (m).
    hull: Vec<Vector>,
}

impl ObstacleOutline {
    /// The outline of a counter-clockwise hull, with its bounding box.
    fn new(hull: Vec<Vector>) -> Self {
        let (mut min_x, mut max_x, mut min_y, mut max_y) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            (min_x, max_x) = (min_x.min(p.x), max_x.max(p.x));
            (min_y, max_y) = (min_y.min(p.y), max_y.max(p.y));
        }
        Self {
            min_x,
            max_x,
            min_y,
            max_y,
            hull,
        }
    }
}

/// The vertices of an x-sorted polyline whose segments can overlap `[from, to]` in x: from the
/// last vertex left of `from` to the first right of `to` (empty for fewer than two vertices).
fn polyline_span(line: &[Vector], from: f32, to: f32) -> &[Vector] {
    if line.len() < 2 {
        return &[];
    }
    let first = line.partition_point(|p| p.x < from).saturating_sub(1);
    let last = line
        .partition_point(|p| p.x <= to)
        .min(line.len() - 1)
        .max(first);
    &line[first..=last]
}

/// A point given relative to the body's spawn point (m), in the frame of `part` at spawn (parts
/// spawn unrotated or rotated by their `angle`).
fn in_part_frame(part: &PartDef, point: [f32; 2]) -> Vector {
    let (dx, dy) = (point[0] - part.offset[0], point[1] - part.offset[1]);
    let (sin, cos) = (libm::sinf(-part.angle), libm::cosf(-part.angle));
    Vector::new(cos * dx - sin * dy, sin * dx + cos * dy)
}

/// Distance along a unit ray to the first point of a convex counter-clockwise polygon, by
/// clipping the ray against each edge's half-plane (Cyrus–Beck); 0 when the origin is inside.
fn ray_convex_polygon(origin: Vector, dir: Vector, hull: &[Vector], max_toi: f32) -> Option<f32> {
    let (mut t_enter, mut t_exit) = (0.0f32, max_toi);
    for (&a, &b) in hull.iter().zip(hull.iter().cycle().skip(1)) {
        // Outward normal of a counter-clockwise edge.
        let normal = Vector::new(b.y - a.y, a.x - b.x);
        let distance = normal.dot(origin - a);
        let rate = normal.dot(dir);
        if rate == 0.0 {
            if distance > 0.0 {
                return None;
            }
        } else {
            let t = -distance / rate;
            if rate < 0.0 {
                t_enter = t_enter.max(t);
            } else {
                t_exit = t_exit.min(t);
            }
            if t_enter > t_exit {
                return None;
            }
        }
    }
    Some(t_enter)
}

/// Unit directions of the Stump and Hexagon Tracks lidar (the `Down` fan). Computed once: the
/// sines and cosines are a measurable share of a step.
fn lidar_directions() -> &'static [Vector; LIDAR_RAYS] {
    static DIRECTIONS: LazyLock<[Vector; LIDAR_RAYS]> =
        LazyLock::new(|| lidar_fan_directions(LidarMode::Down));
    &DIRECTIONS
}

/// Unit directions of a lidar fan (see [`LidarMode`]; Stump and Hexagon Tracks use `Down`).
pub(crate) fn lidar_fan_directions(mode: LidarMode) -> [Vector; LIDAR_RAYS] {
    let (fan, offset) = mode.fan();
    std::array::from_fn(|i| {
        let theta = fan * i as f32 / LIDAR_RAYS as f32 + offset;
        Vector::new(libm::sinf(theta), -libm::cosf(theta))
    })
}

/// A lidar reading: the nearest hit's distance as a fraction of [`LIDAR_RANGE`], 1.0 for none.
fn lidar_fraction(hit: f32) -> f32 {
    if hit.is_finite() {
        hit / LIDAR_RANGE
    } else {
        1.0
    }
}

/// The nearer of `hit` and the ray's first crossing (within [`LIDAR_RANGE`]) of `line`, an
/// x-sorted polyline that is a graph of x (the ground, the ceiling). Along a ray, distance grows
/// with the distance in x from the origin, so the segments are visited outward from the origin
/// in the ray's x direction, and the search stops at the first segment that starts beyond the
/// nearest hit so far: it cannot be nearer. The 1 mm margin keeps the segment that shares the
/// hit's vertex, so the result is the minimum over every segment, bit for bit. (Before any hit
/// the bound is infinite, or NaN for a vertical ray, and the test is false.)
fn nearest_on_graph(line: &[Vector], origin: Vector, dir: Vector, mut hit: f32) -> f32 {
    // A segment whose ends both lie more than 1 mm to the same side of the ray's line cannot
    // cross it: a test without divisions, each end's side computed once. (Near the line,
    // rounding could flip a side, so those segments get the full test.)
    let side = |p: Vector| (p - origin).perp_dot(dir);
    let apart = |a: f32, b: f32| (a > 1e-3 && b > 1e-3) || (a < -1e-3 && b < -1e-3);
    let visit = |a: Vector, b: Vector, hit: &mut f32| {
        if let Some(t) = ray_segment(origin, dir, a, b, LIDAR_RANGE) {
            *hit = hit.min(t);
        }
    };
    let Some(&first) = line.first() else {
        return hit;
    };
    if dir.x >= 0.0 {
        let mut side_a = side(first);
        for w in line.windows(2) {
            if w[0].x > origin.x + hit * dir.x + 1e-3 {
                break;
            }
            let side_b = side(w[1]);
            if !apart(side_a, side_b) {
                visit(w[0], w[1], &mut hit);
            }
            side_a = side_b;
        }
    } else {
        let mut side_b = side(line[line.len() - 1]);
        for w in line.windows(2).rev() {
            if w[1].x < origin.x + hit * dir.x - 1e-3 {
                break;
            }
            let side_a = side(w[0]);
            if !apart(side_a, side_b) {
                visit(w[0], w[1], &mut hit);
            }
            side_b = side_a;
        }
    }
    hit
}

/// Distance along a unit ray to a segment, if it crosses it within `max_toi`.
fn ray_segment(origin: Vector, dir: Vector, a: Vector, b: Vector, max_toi: f32) -> Option<f32> {
    let edge = b - a;
    let denom = dir.perp_dot(edge);
    if denom == 0.0 {
        return None;
    }
    let offset = a - origin;
    let t = offset.perp_dot(edge) / denom;
    let u = offset.perp_dot(dir) / denom;
    (t >= 0.0 && t <= max_toi && (0.0..=1.0).contains(&u)).then_some(t)
}

/// A live episode world.
pub(crate) struct WalkerWorld {
    world: PhysicsWorld,
    parts: Vec<(RigidBodyHandle, ColliderHandle)>,
    joints: Vec<ImpulseJointHandle>,
    /// The ground polyline's vertices, x increasing (m).
    ground: Vec<Vector>,
    /// Obstacle outlines (the colliders' convex hulls, counter-clockwise) with their x extent,
    /// in increasing x order; the lidar intersects them directly.
    obstacles: Vec<ObstacleOutline>,
    /// The ceiling polyline's vertices, x increasing (m); empty without a ceiling.
    ceiling: Vec<Vector>,
    /// Creeper outlines (seen by the lidar, grasped, never collided with). Static creepers are
    /// in increasing x; movable ones are one outline per segment, where it hangs now.
    creepers: Vec<ObstacleOutline>,
    /// Movable creepers: per outline of `creepers`, its segment's body and the segment's
    /// corners in the body's frame. Empty for static creepers.
    creeper_links: Vec<(RigidBodyHandle, [Vector; 4])>,
    /// Height of the water surface (m), if any.
    water_y: Option<f32>,
    /// Each part's outline in its own frame (counter-clockwise), for the water forces.
    outlines: Vec<Vec<Vector>>,
    /// Which parts the water pushed in the last step: only their forces need clearing (touching
    /// a rapier body mutably marks it modified, which costs the pipeline work every step).
    water_forced: Vec<bool>,
    /// The static body holding the terrain colliders (grasp joints attach to it).
    ground_body: RigidBodyHandle,
    /// The ceiling's collider, which climbers may touch without falling.
    ceiling_collider: Option<ColliderHandle>,
    /// Hand sensors: the hand part and the sensor centre in the hand's frame.
    sensors: Vec<(usize, Vector)>,
    /// The joint holding each sensor to the terrain, if it grasps.
    grasps: Vec<Option<ImpulseJointHandle>>,
    /// Per motorised joint, what the water's push reads: the child part, the joint's anchor in
    /// the child's frame, its angle limits, the parent part and the reference angle.
    pushers: Vec<Pusher>,
    /// Solver substeps per step (to turn the motors' per-substep impulses into torques).
    substeps: usize,
}

/// A motorised joint as the water's push sees it.
#[derive(Debug, Clone, Copy)]
struct Pusher {
    child: usize,
    parent: usize,
    local_anchor: Vector,
    limits: [f32; 2],
    reference_angle: f32,
}

/// Push coefficient of the reference's joint push force (per unit length, density and
/// (N·m)²).
const WATER_PUSH: f32 = 0.05;
/// Bound on each component of one push force (N).
const MAX_WATER_PUSH: f32 = 20.0;
/// The time step the reference reads motor torques at (`GetMotorTorque(60)`), not its own 1/50 s.
const PUSH_TORQUE_RATE: f32 = 60.0;

/// How far beyond its radius a grasp sensor reaches for something to hold (m): Box2D's AABB
/// margin in the reference's overlap test.
const GRASP_MARGIN: f32 = 0.01;

/// Distance from `p` to the segment `ab`.
fn point_segment_distance(p: Vector, a: Vector, b: Vector) -> f32 {
    let ab = b - a;
    let len2 = ab.length_squared();
    let t = if len2 > 0.0 {
        ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p - (a + ab * t)).length()
}

/// Whether the disc of `radius` at `p` overlaps the axis-aligned box of a convex outline.
fn disc_overlaps_box(p: Vector, radius: f32, outline: &ObstacleOutline) -> bool {
    p.x + radius >= outline.min_x
        && p.x - radius <= outline.max_x
        && p.y + radius >= outline.min_y
        && p.y - radius <= outline.max_y
}

/// What a Parkour lidar ray hit first: its surface flag in the observation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Surface {
    Solid,
    Water,
    Creeper,
}

impl Surface {
    /// The observation's flag: −1 water, +1 creeper, 0 otherwise (TeachMyAgent's).
    fn flag(self) -> f32 {
        match self {
            Surface::Solid => 0.0,
            Surface::Water => -1.0,
            Surface::Creeper => 1.0,
        }
    }
}

/// Drag coefficient of an edge moving through water, per unit length, density and speed².
const WATER_DRAG: f32 = 0.25;
/// Largest drag force on one edge (N).
const MAX_WATER_DRAG: f32 = 2000.0;
/// Largest lift force on one edge (N).
const MAX_WATER_LIFT: f32 = 500.0;

/// The part of a counter-clockwise polygon below `surface_y` (Sutherland–Hodgman against one
/// half-plane), counter-clockwise.
fn clip_below(polygon: &[Vector], surface_y: f32) -> Vec<Vector> {
    let mut out = Vec::with_capacity(polygon.len() + 2);
    for (&p, &q) in polygon.iter().zip(polygon.iter().cycle().skip(1)) {
        let (p_in, q_in) = (p.y <= surface_y, q.y <= surface_y);
        if p_in {
            out.push(p);
        }
        if p_in != q_in {
            let t = (surface_y - p.y) / (q.y - p.y);
            out.push(Vector::new(p.x + t * (q.x - p.x), surface_y));
        }
    }
    out
}

/// Area and centroid of a counter-clockwise polygon (shoelace formula); `None` when degenerate.
fn area_centroid(polygon: &[Vector]) -> Option<(f32, Vector)> {
    let (mut twice_area, mut cx, mut cy) = (0.0f32, 0.0f32, 0.0f32);
    for (&p, &q) in polygon.iter().zip(polygon.iter().cycle().skip(1)) {
        let cross = p.x * q.y - q.x * p.y;
        twice_area += cross;
        cx += (p.x + q.x) * cross;
        cy += (p.y + q.y) * cross;
    }
    (twice_area > 1e-9).then(|| {
        let area = twice_area / 2.0;
        (area, Vector::new(cx / (6.0 * area), cy / (6.0 * area)))
    })
}

/// The water's forces on one part whose submerged outline (world frame, counter-clockwise,
/// from [`clip_below`]) is `submerged`, moving with `linvel`/`angvel` about `center_of_mass`:
/// buoyancy `ρ · area · g` up at the
/// submerged centroid, and per leading edge of the submerged polygon a drag
/// `0.25 · cosθ · length · ρ · v²` against the edge's velocity (at most 2000 N) and a lift
/// `0.25 · cosθ · sinθ · length · ρ · v²` across it (at most 500 N), θ between the edge's
/// outward normal and its velocity (iforce2d's buoyancy model, as TeachMyAgent's).
/// Returns `(force, point)` pairs.
fn water_forces(
    submerged: &[Vector],
    center_of_mass: Vector,
    linvel: Vector,
    angvel: f32,
) -> Vec<(Vector, Vector)> {
    let Some((area, centroid)) = area_centroid(submerged) else {
        return Vec::new();
    };
    let mut forces = vec![(Vector::new(0.0, -WATER_DENSITY * area * GRAVITY), centroid)];
    for (&a, &b) in submerged.iter().zip(submerged.iter().cycle().skip(1)) {
        let mid = (a + b) * 0.5;
        let r = mid - center_of_mass;
        let velocity = linvel + Vector::new(-angvel * r.y, angvel * r.x);
        let speed = velocity.length();
        let edge = b - a;
        let length = edge.length();
        if speed == 0.0 || length == 0.0 {
            continue;
        }
        let direction = velocity / speed;
        let along = edge / length;
        let normal = Vector::new(along.y, -along.x);
        let drag_dot = normal.dot(direction);
        if drag_dot < 0.0 {
            // A trailing edge.
            continue;
        }
        let pressure = WATER_DRAG * length * WATER_DENSITY * speed * speed;
        let drag = (drag_dot * pressure).min(MAX_WATER_DRAG);
        forces.push((-direction * drag, mid));
        let lift = (drag_dot * along.dot(direction) * pressure).min(MAX_WATER_LIFT);
        forces.push((Vector::new(-direction.y, direction.x) * lift, mid));
    }
    forces
}

/// TeachMyAgent's "push" on a part driven by a motorised joint (its authors call it a wrong
/// approximation; kept because it is how its swimmers swim): the torque `τ` turns the part
/// about the joint, as if the force `F = lever × (−τ)` acted at its centre of mass (`lever` from
/// the anchor to the centre). For every submerged edge whose outward normal `n` has
/// `n · F > 0`, the water pushes back with `(n · F) · 0.05 · length · ρ · (τ + I·ω)² · (−F)`,
/// each component clipped to ±20 N, at the joint's anchor. `τ` is the motor's torque as the
/// reference reads it (impulse × 60 /s).
fn push_forces(
    submerged: &[Vector],
    lever: Vector,
    anchor: Vector,
    torque: f32,
    angular_momentum: f32,
) -> Vec<(Vector, Vector)> {
    let mut forces = Vec::new();
    if submerged.len() < 3 {
        return forces;
    }
    let turning = Vector::new(-torque * lever.y, torque * lever.x);
    let speed = torque + angular_momentum;
    for (&a, &b) in submerged.iter().zip(submerged.iter().cycle().skip(1)) {
        let edge = b - a;
        let length = edge.length();
        if length == 0.0 {
            continue;
        }
        let normal = Vector::new(edge.y, -edge.x) / length;
        let push_dot = normal.dot(turning);
        if push_dot > 0.0 {
            let magnitude = push_dot * WATER_PUSH * length * WATER_DENSITY * speed * speed;
            let force = -turning * magnitude;
            let clip = |v: f32| v.clamp(-MAX_WATER_PUSH, MAX_WATER_PUSH);
            forces.push((Vector::new(clip(force.x), clip(force.y)), anchor));
        }
    }
    forces
}

impl WalkerWorld {
    /// Builds the terrain and the body standing on the start pad at `spawn`.
    pub(crate) fn new(
        terrain: &Terrain,
        body: &BodyDef,
        spawn: [f32; 2],
        physics: &PhysicsConfig,
    ) -> Self {
        let mut world = PhysicsWorld::new();
        world.gravity = Vector::new(0.0, GRAVITY);
        world.integration_parameters.dt = 1.0 / FPS;
        world.integration_parameters.num_solver_iterations = physics.solver_iterations.max(1);
        world.integration_parameters.warmstart_joints = physics.warmstart_joints;
        world.integration_parameters.num_internal_pgs_iterations = physics.pgs_iterations.max(1);

        let terrain_groups =
            InteractionGroups::new(TERRAIN_GROUP, Group::ALL, InteractionTestMode::And);
        let agent_groups =
            InteractionGroups::new(AGENT_GROUP, TERRAIN_GROUP, InteractionTestMode::And);

        let ground_body = world.insert_body(RigidBodyBuilder::fixed());
        let ground: Vec<Vector> = terrain
            .ground
            .iter()
            .map(|&[x, y]| Vector::new(x, y))
            .collect();
        world.insert_collider(
            ColliderBuilder::polyline(ground.clone(), None)
                .friction(TERRAIN_FRICTION)
                .friction_combine_rule(CoefficientCombineRule::GeometricMean)
                .collision_groups(terrain_groups),
            Some(ground_body),
        );
        let mut obstacles = Vec::with_capacity(terrain.obstacles.len());
        for obstacle in &terrain.obstacles {
            let points: Vec<Vector> = obstacle
                .vertices
                .iter()
                .map(|&[x, y]| Vector::new(x, y))
                .collect();
            // Degenerate hulls (all points on a line) cannot block anything: skip them.
            if let Some(builder) = ColliderBuilder::convex_hull(&points) {
                let handle = world.insert_collider(
                    builder
                        .friction(TERRAIN_FRICTION)
                        .friction_combine_rule(CoefficientCombineRule::GeometricMean)
                        .collision_groups(terrain_groups),
                    Some(ground_body),
                );
                let hull = world.colliders[handle]
                    .shape()
                    .as_convex_polygon()
                    .map(|polygon| polygon.points().to_vec())
                    .expect("convex_hull builds a convex polygon");
                obstacles.push(ObstacleOutline::new(hull));
            }
        }

        let ceiling: Vec<Vector> = terrain
            .ceiling
            .iter()
            .map(|&[x, y]| Vector::new(x, y))
            .collect();
        let ceiling_collider = (ceiling.len() >= 2).then(|| {
            world.insert_collider(
                ColliderBuilder::polyline(ceiling.clone(), None)
                    .friction(TERRAIN_FRICTION)
                    .friction_combine_rule(CoefficientCombineRule::GeometricMean)
                    .collision_groups(terrain_groups),
                Some(ground_body),
            )
        });
        let mut creepers: Vec<ObstacleOutline> = terrain
            .creepers
            .iter()
            .map(|c| {
                ObstacleOutline::new(c.vertices.iter().map(|&[x, y]| Vector::new(x, y)).collect())
            })
            .collect();
        let creeper_links = if terrain.movable_creepers {
            let links = creepers
                .iter()
                .flat_map(|c| creeper_chain(&mut world, ground_body, c))
                .collect();
            creepers.clear();
            links
        } else {
            Vec::new()
        };

        let mut parts = Vec::with_capacity(body.parts.len());
        let outlines = body
            .parts
            .iter()
            .map(|p| {
                p.shape
                    .vertices()
                    .into_iter()
                    .map(|[x, y]| Vector::new(x, y))
                    .collect()
            })
            .collect();
        for part in &body.parts {
            let rb = world.insert_body(
                RigidBodyBuilder::dynamic()
                    .translation(Vector::new(
                        spawn[0] + part.offset[0],
                        spawn[1] + part.offset[1],
                    ))
                    .rotation(part.angle)
                    .can_sleep(false),
            );
            let builder = match &part.shape {
                PartShape::Box {
                    half_width,
                    half_height,
                } => ColliderBuilder::cuboid(*half_width, *half_height),
                PartShape::Polygon(vertices) => {
                    let pts = vertices.iter().map(|&[x, y]| Vector::new(x, y)).collect();
                    ColliderBuilder::convex_polyline(pts)
                        .expect("body definitions hold convex polygons")
                }
            };
            let collider = world.insert_collider(
                builder
                    .density(part.density)
                    .friction(part.friction)
                    .friction_combine_rule(CoefficientCombineRule::GeometricMean)
                    .restitution(0.0)
                    .collision_groups(agent_groups),
                Some(rb),
            );
            parts.push((rb, collider));
        }

        let mut joints = Vec::with_capacity(body.joints.len());
        for joint in &body.joints {
            let motorised = revolute(body, &joint.hinge)
                .motor_velocity(0.0, physics.motor_factor)
                .motor_max_force(0.0)
                .build();
            joints.push(world.insert_impulse_joint(
                parts[joint.hinge.parent].0,
                parts[joint.hinge.child].0,
                with_reference_angle(motorised, joint.hinge.reference_angle),
            ));
        }
        for hinge in &body.passive_joints {
            let passive = revolute(body, hinge).build();
            world.insert_impulse_joint(
                parts[hinge.parent].0,
                parts[hinge.child].0,
                with_reference_angle(passive, hinge.reference_angle),
            );
        }

        // Generated left to right, but keep the invariant explicit for the lidar's search.
        obstacles.sort_by(|a, b| a.min_x.total_cmp(&b.min_x));
        let sensors: Vec<(usize, Vector)> = body
            .grasp_sensors
            .iter()
            .map(|sensor| {
                (
                    sensor.part,
                    in_part_frame(&body.parts[sensor.part], sensor.offset),
                )
            })
            .collect();
        let mut world = Self {
            world,
            parts,
            joints,
            ground,
            obstacles,
            ceiling,
            creepers,
            creeper_links,
            water_y: terrain.water_y,
            water_forced: vec![false; body.parts.len()],
            outlines,
            ground_body,
            ceiling_collider,
            grasps: vec![None; sensors.len()],
            sensors,
            pushers: body
                .joints
                .iter()
                .map(|j| Pusher {
                    child: j.hinge.child,
                    parent: j.hinge.parent,
                    local_anchor: in_part_frame(&body.parts[j.hinge.child], j.hinge.anchor),
                    limits: j.hinge.limits,
                    reference_angle: j.hinge.reference_angle,
                })
                .collect(),
            substeps: physics.solver_iterations.max(1),
        };
        world.refresh_creepers();
        world
    }

    /// Movable creepers: each segment's outline where its body is now.
    fn refresh_creepers(&mut self) {
        if self.creeper_links.is_empty() {
            return;
        }
        self.creepers.clear();
        for (handle, corners) in &self.creeper_links {
            let pose = *self.world.bodies[*handle].position();
            self.creepers.push(ObstacleOutline::new(
                corners.iter().map(|&c| pose * c).collect(),
            ));
        }
    }

    /// The creepers' outlines as they hang now (world frame, counter-clockwise), for drawing.
    pub(crate) fn creeper_outlines(&self) -> impl Iterator<Item = &[Vector]> {
        self.creepers.iter().map(|c| c.hull.as_slice())
    }

    /// Whether the creepers swing (movable chains).
    pub(crate) fn movable_creepers(&self) -> bool {
        !self.creeper_links.is_empty()
    }

    /// World position of hand sensor `k` (m).
    pub(crate) fn sensor_position(&self, k: usize) -> Vector {
        let (part, local) = self.sensors[k];
        *self.world.bodies[self.parts[part].0].position() * local
    }

    /// Whether hand sensor `k` touches something graspable: the ceiling or a creeper, within
    /// the sensor's radius plus [`GRASP_MARGIN`].
    pub(crate) fn sensor_touches_grip(&self, k: usize) -> bool {
        self.grip_target(k).is_some()
    }

    /// The body hand sensor `k` would grasp, if it touches something graspable (see
    /// [`WalkerWorld::sensor_touches_grip`]): the terrain's for the ceiling or a static creeper,
    /// a movable creeper's segment otherwise; the ceiling first.
    fn grip_target(&self, k: usize) -> Option<RigidBodyHandle> {
        let p = self.sensor_position(k);
        let reach = GRASP_SENSOR_RADIUS + GRASP_MARGIN;
        let near_ceiling = polyline_span(&self.ceiling, p.x - reach, p.x + reach)
            .windows(2)
            .any(|w| point_segment_distance(p, w[0], w[1]) <= reach);
        if near_ceiling {
            return Some(self.ground_body);
        }
        let creeper = self
            .creepers
            .iter()
            .position(|c| disc_overlaps_box(p, reach, c))?;
        Some(
            self.creeper_links
                .get(creeper)
                .map_or(self.ground_body, |(handle, _)| *handle),
        )
    }

    /// Whether hand sensor `k` holds on.
    pub(crate) fn holding(&self, k: usize) -> bool {
        self.grasps[k].is_some()
    }

    /// Lets hand sensor `k` go.
    pub(crate) fn release(&mut self, k: usize) {
        if let Some(handle) = self.grasps[k].take() {
            self.world.remove_impulse_joint(handle);
        }
    }

    /// Holds hand sensor `k` where it is: a revolute joint (free to turn) between the terrain
    /// and the hand at the sensor's centre. No-op when it already holds.
    pub(crate) fn grasp(&mut self, k: usize) {
        if self.grasps[k].is_some() {
            return;
        }
        let (part, local) = self.sensors[k];
        // A caller that did not check for a grip still holds on to the terrain.
        let held = self.grip_target(k).unwrap_or(self.ground_body);
        // The sensor's centre in the held body's frame (the terrain's frame is the world's).
        let anchor = self.world.bodies[held].position().inverse() * self.sensor_position(k);
        let joint = RevoluteJointBuilder::new()
            .local_anchor1(anchor)
            .local_anchor2(local)
            .build();
        self.grasps[k] = Some(
            self.world
                .insert_impulse_joint(held, self.parts[part].0, joint),
        );
    }

    /// Whether part `i` touches the terrain other than the ceiling (within [`TOUCH_DISTANCE`]):
    /// what makes a climber fall.
    pub(crate) fn touching_below_ceiling(&self, i: usize) -> bool {
        self.world.contact_pairs_with(self.parts[i].1).any(|pair| {
            let ceiling = Some(pair.collider1) == self.ceiling_collider
                || Some(pair.collider2) == self.ceiling_collider;
            !ceiling
                && pair
                    .manifolds()
                    .iter()
                    .any(|m| m.points.iter().any(|p| p.dist <= TOUCH_DISTANCE))
        })
    }

    /// Sets the water's forces on every part for the next step from the current state (as the
    /// reference, which computes them after each step); no-op without water.
    pub(crate) fn apply_water(&mut self) {
        let Some(surface_y) = self.water_y else {
            return;
        };
        // The submerged outline of every part that reaches into the water. A part wholly above
        // it gets no force (its clipped outline would be empty), so a dry body skips the rest.
        let mut submerged: Vec<(usize, Vec<Vector>)> = Vec::new();
        for (i, ((handle, _), outline)) in self.parts.iter().zip(&self.outlines).enumerate() {
            if std::mem::take(&mut self.water_forced[i]) {
                self.world.bodies[*handle].reset_forces(false);
            }
            let pose = *self.world.bodies[*handle].position();
            if outline.iter().any(|&v| (pose * v).y <= surface_y) {
                let polygon: Vec<Vector> = outline.iter().map(|&v| pose * v).collect();
                submerged.push((i, clip_below(&polygon, surface_y)));
            }
        }
        if submerged.is_empty() {
            return;
        }
        // Each motorised joint pushes its child part (the reference's made-up "push"): read
        // every joint's torque and state before any force changes.
        let pushes: Vec<(usize, Vector, f32, f32)> = self
            .pushers
            .iter()
            .zip(&self.joints)
            .filter_map(|(p, handle)| {
                let child = &self.world.bodies[self.parts[p.child].0];
                let parent = &self.world.bodies[self.parts[p.parent].0];
                let angle = wrap_angle(
                    child.rotation().angle() - parent.rotation().angle() - p.reference_angle,
                );
                // Only a joint strictly within its limits pushes.
                if !(p.limits[0] < angle && angle < p.limits[1]) {
                    return None;
                }
                let joint = self.world.impulse_joints.get(*handle)?;
                let impulse = joint.data.motor(JointAxis::AngX).map_or(0.0, |m| m.impulse);
                // Box2D's motor impulse spans the whole step, rapier's one substep.
                let torque = impulse * self.substeps as f32 * PUSH_TORQUE_RATE;
                let anchor = *child.position() * p.local_anchor;
                let angular_momentum =
                    child.mass_properties().local_mprops.principal_inertia() * child.angvel();
                Some((p.child, anchor, torque, angular_momentum))
            })
            .collect();
        for (i, submerged) in submerged {
            let rb = &mut self.world.bodies[self.parts[i].0];
            let center = rb.center_of_mass();
            let mut forces = water_forces(&submerged, center, rb.linvel(), rb.angvel());
            for &(_, anchor, torque, angular_momentum) in pushes.iter().filter(|p| p.0 == i) {
                forces.extend(push_forces(
                    &submerged,
                    center - anchor,
                    anchor,
                    torque,
                    angular_momentum,
                ));
            }
            self.water_forced[i] = !forces.is_empty();
            for (force, point) in forces {
                rb.add_force_at_point(force, point, false);
            }
        }
    }

    /// Whether part `i`'s origin lies below the water surface.
    pub(crate) fn under_water(&self, i: usize) -> bool {
        let y = self.world.bodies[self.parts[i].0].translation().y;
        self.water_y.is_some_and(|w| y <= w)
    }

    /// Parkour's lidar from part `head`: ray `i` at `fan·i/10 + offset` rad from straight down
    /// (see [`LidarMode`]), intersected with the ground, the ceiling, the creepers (skipped when
    /// the head is inside one: a sensor does not see out of itself) and the water surface (seen
    /// from above only). Writes the hit fractions (1.0 for none) and the surface flags.
    pub(crate) fn parkour_lidar(
        &self,
        head: usize,
        directions: &[Vector; LIDAR_RAYS],
        out: &mut [f32; LIDAR_RAYS],
        flags: &mut [f32; LIDAR_RAYS],
    ) {
        let origin = self.world.bodies[self.parts[head].0].translation();
        let (left, right) = (origin.x - LIDAR_RANGE, origin.x + LIDAR_RANGE);
        // Static creepers are x-sorted and equally wide, so both their edges increase; movable
        // ones swing, so all of them are candidates.
        let near = if self.creeper_links.is_empty() {
            let first = self.creepers.partition_point(|c| c.max_x < left);
            let last = self
                .creepers
                .partition_point(|c| c.min_x <= right)
                .max(first);
            &self.creepers[first..last]
        } else {
            &self.creepers[..]
        };
        // What of the ground and ceiling the fan can reach, and how high (low) they get there:
        // a ray whose height range stays above the ground's top (below the ceiling's bottom)
        // skips it, e.g. every downward ray skips the ceiling above the head.
        let ground = polyline_span(&self.ground, left, right);
        let ceiling = polyline_span(&self.ceiling, left, right);
        let ground_top = ground.iter().map(|p| p.y).fold(f32::MIN, f32::max);
        let ceiling_bottom = ceiling.iter().map(|p| p.y).fold(f32::MAX, f32::min);
        for ((slot, flag), &dir) in out.iter_mut().zip(flags.iter_mut()).zip(directions) {
            // Only the segments within the ray's own extent can cross it (1 mm margins).
            let reach = origin + dir * LIDAR_RANGE;
            let (from, to) = (origin.x.min(reach.x), origin.x.max(reach.x));
            let (low, high) = (origin.y.min(reach.y) - 1e-3, origin.y.max(reach.y) + 1e-3);
            let mut solid = f32::INFINITY;
            if ground_top >= low {
                solid = nearest_on_graph(polyline_span(ground, from, to), origin, dir, solid);
            }
            if ceiling_bottom <= high {
                solid = nearest_on_graph(polyline_span(ceiling, from, to), origin, dir, solid);
            }
            let mut hit = (solid, Surface::Solid);
            let mut consider = |t: Option<f32>, surface: Surface| {
                if let Some(t) = t {
                    if t < hit.0 {
                        hit = (t, surface);
                    }
                }
            };
            for c in near {
                if c.max_x < left || c.min_x > right {
                    continue;
                }
                // A ray from inside a creeper starts at 0: a sensor does not see out of itself.
                let t = ray_convex_polygon(origin, dir, &c.hull, LIDAR_RANGE).filter(|&t| t > 0.0);
                consider(t, Surface::Creeper);
            }
            if let Some(water_y) = self.water_y {
                if origin.y > water_y && dir.y < 0.0 {
                    let t = (origin.y - water_y) / -dir.y;
                    consider((t <= LIDAR_RANGE).then_some(t), Surface::Water);
                }
            }
            *slot = lidar_fraction(hit.0);
            *flag = if hit.0.is_finite() { hit.1.flag() } else { 0.0 };
        }
    }

    /// Applies a one-step horizontal push to part `i`: Box2D's `ApplyForceToCenter` before the
    /// first step, i.e. an impulse of `force · dt`.
    pub(crate) fn push_part(&mut self, i: usize, force_x: f32) {
        if let Some(rb) = self.world.bodies.get_mut(self.parts[i].0) {
            rb.apply_impulse(Vector::new(force_x / FPS, 0.0), true);
        }
    }

    /// Sets every motor from a clipped action: target speed `speed · sign(a)`, torque cap
    /// `torque · |a|`.
    pub(crate) fn set_motors(&mut self, body: &BodyDef, action: &[f32], factor: f32) {
        for ((handle, joint), &a) in self.joints.iter().zip(&body.joints).zip(action) {
            // No wake-up: the parts never sleep, and queueing them costs a hash insertion each.
            if let Some(j) = self.world.impulse_joints.get_mut(*handle, false) {
                let sign = if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                j.data
                    .set_motor_velocity(JointAxis::AngX, joint.speed * sign, factor);
                j.data
                    .set_motor_max_force(JointAxis::AngX, body.motors_torque * a.abs().min(1.0));
            }
        }
    }

    /// Overwrites the pose and velocity of part `i` (for replaying a recorded state).
    pub(crate) fn set_part_state(&mut self, i: usize, state: &PartState) {
        if let Some(rb) = self.world.bodies.get_mut(self.parts[i].0) {
            rb.set_position(
                Pose::new(
                    Vector::new(state.position[0], state.position[1]),
                    state.angle,
                ),
                true,
            );
            rb.set_linvel(Vector::new(state.linvel[0], state.linvel[1]), true);
            rb.set_angvel(state.angvel, true);
        }
    }

    /// Advances the world by one env step (1/50 s).
    pub(crate) fn step(&mut self) {
        self.world.step();
        self.refresh_creepers();
    }

    /// Pose of part `i`.
    pub(crate) fn pose(&self, i: usize) -> PartPose {
        let rb = &self.world.bodies[self.parts[i].0];
        let t = rb.translation();
        PartPose {
            position: [t.x, t.y],
            angle: rb.rotation().angle(),
        }
    }

    /// Linear velocity of the centre of mass (m/s) and angular velocity (rad/s) of part `i`.
    pub(crate) fn velocity(&self, i: usize) -> ([f32; 2], f32) {
        let rb = &self.world.bodies[self.parts[i].0];
        let v = rb.linvel();
        ([v.x, v.y], rb.angvel())
    }

    /// Angle (rad, child relative to parent, wrapped to (-π, π]) and speed (rad/s) of joint `j`.
    pub(crate) fn joint_state(&self, body: &BodyDef, j: usize) -> (f32, f32) {
        let def = &body.joints[j];
        let parent = &self.world.bodies[self.parts[def.hinge.parent].0];
        let child = &self.world.bodies[self.parts[def.hinge.child].0];
        let angle = wrap_angle(
            child.rotation().angle() - parent.rotation().angle() - def.hinge.reference_angle,
        );
        (angle, child.angvel() - parent.angvel())
    }

    /// Whether part `i` touches the terrain (within [`TOUCH_DISTANCE`]).
    pub(crate) fn touching(&self, i: usize) -> bool {
        self.world.contact_pairs_with(self.parts[i].1).any(|pair| {
            pair.manifolds()
                .iter()
                .any(|m| m.points.iter().any(|p| p.dist <= TOUCH_DISTANCE))
        })
    }

    /// Lidar fractions from the head part: ray `i` at `LIDAR_FAN·i/LIDAR_RAYS` rad forward of
    /// straight down; 1.0 when nothing is hit within [`LIDAR_RANGE`]. Only terrain is seen.
    ///
    /// The rays are intersected analytically with the ground segments and obstacles within
    /// reach, rather than cast through the world's BVH (which also holds the walker's parts): the
    /// same hits up to rounding, a fifth of the step time saved.
    pub(crate) fn lidar(&self, head: usize, out: &mut [f32; LIDAR_RAYS]) {
        let origin = self.world.bodies[self.parts[head].0].translation();
        let (reachable, ground) = self.lidar_candidates(origin);
        for (slot, &dir) in out.iter_mut().zip(lidar_directions()) {
            let hit = reachable
                .iter()
                .filter_map(|o| ray_convex_polygon(origin, dir, &o.hull, LIDAR_RANGE))
                .fold(f32::INFINITY, f32::min);
            *slot = lidar_fraction(nearest_on_graph(ground, origin, dir, hit));
        }
    }

    /// The obstacles and ground vertices the lidar can reach from `origin`: rays fan forward
    /// from straight down, so only what overlaps `[x, x + LIDAR_RANGE]`.
    fn lidar_candidates(&self, origin: Vector) -> (&[ObstacleOutline], &[Vector]) {
        let first = self.obstacles.partition_point(|o| o.max_x < origin.x);
        let last = self
            .obstacles
            .partition_point(|o| o.min_x <= origin.x + LIDAR_RANGE)
            .max(first);
        (
            &self.obstacles[first..last],
            polyline_span(&self.ground, origin.x, origin.x + LIDAR_RANGE),
        )
    }

    /// Parkour's lidar against every segment of the ground and ceiling (reference for tests).
    #[cfg(test)]
    fn parkour_lidar_exhaustive(
        &self,
        head: usize,
        directions: &[Vector; LIDAR_RAYS],
        out: &mut [f32; LIDAR_RAYS],
    ) {
        let origin = self.world.bodies[self.parts[head].0].translation();
        for (slot, &dir) in out.iter_mut().zip(directions) {
            let hit = self
                .ground
                .windows(2)
                .chain(self.ceiling.windows(2))
                .filter_map(|w| ray_segment(origin, dir, w[0], w[1], LIDAR_RANGE))
                .chain(self.creepers.iter().filter_map(|c| {
                    let inside = ray_convex_polygon(origin, dir, &c.hull, 0.0) == Some(0.0);
                    (!inside)
                        .then(|| ray_convex_polygon(origin, dir, &c.hull, LIDAR_RANGE))
                        .flatten()
                }))
                .chain(self.water_y.and_then(|w| {
                    (origin.y > w && dir.y < 0.0)
                        .then(|| (origin.y - w) / -dir.y)
                        .filter(|&t| t <= LIDAR_RANGE)
                }))
                .fold(f32::INFINITY, f32::min);
            *slot = lidar_fraction(hit);
        }
    }

    /// The lidar with every reachable ground segment intersected (reference for tests).
    #[cfg(test)]
    fn lidar_exhaustive(&self, head: usize, out: &mut [f32; LIDAR_RAYS]) {
        let origin = self.world.bodies[self.parts[head].0].translation();
        let (reachable, ground) = self.lidar_candidates(origin);
        for (slot, &dir) in out.iter_mut().zip(lidar_directions()) {
            let hit = ground
                .windows(2)
                .filter_map(|w| ray_segment(origin, dir, w[0], w[1], LIDAR_RANGE))
                .chain(
                    reachable
                        .iter()
                        .filter_map(|o| ray_convex_polygon(origin, dir, &o.hull, LIDAR_RANGE)),
                )
                .fold(f32::INFINITY, f32::min);
            *slot = lidar_fraction(hit);
        }
    }

    /// The lidar computed through the world's BVH query pipeline (reference for tests).
    #[cfg(test)]
    pub(crate) fn lidar_via_query_pipeline(&self, head: usize, out: &mut [f32; LIDAR_RAYS]) {
        let origin = self.world.bodies[self.parts[head].0].translation();
        let filter = QueryFilter::default().groups(InteractionGroups::new(
            Group::ALL,
            TERRAIN_GROUP,
            InteractionTestMode::And,
        ));
        let query = self.world.query_pipeline_with_filter(filter);
        for (slot, &dir) in out.iter_mut().zip(lidar_directions()) {
            let ray = Ray::new(origin, dir);
            *slot = match query.cast_ray(&ray, LIDAR_RANGE, true) {
                Some((_, toi)) => toi / LIDAR_RANGE,
                None => 1.0,
            };
        }
    }
}

/// Builds a movable creeper from its rectangle `outline`: a chain of equal dynamic segments, each
/// at most [`MOVABLE_CREEPER_SEGMENT`] long, the top one hinged to the terrain at the middle of
/// the creeper's top edge and each next one to the one above, every hinge limited to
/// ±[`CREEPER_JOINT_LIMIT`]. The segments collide with nothing. Returns each segment's body and
/// its corners in the body's frame (counter-clockwise), top segment first.
fn creeper_chain(
    world: &mut PhysicsWorld,
    ground_body: RigidBodyHandle,
    outline: &ObstacleOutline,
) -> Vec<(RigidBodyHandle, [Vector; 4])> {
    let (width, height) = (outline.max_x - outline.min_x, outline.max_y - outline.min_y);
    let links = (height / MOVABLE_CREEPER_SEGMENT).ceil().max(1.0) as usize;
    let (half_w, half_h) = (width / 2.0, height / links as f32 / 2.0);
    let x = outline.min_x + half_w;
    let corners = [
        Vector::new(-half_w, -half_h),
        Vector::new(half_w, -half_h),
        Vector::new(half_w, half_h),
        Vector::new(-half_w, half_h),
    ];
    let mut chain: Vec<(RigidBodyHandle, [Vector; 4])> = Vec::with_capacity(links);
    for i in 0..links {
        let y = outline.max_y - (2 * i + 1) as f32 * half_h;
        let handle = world.insert_body(
            RigidBodyBuilder::dynamic()
                .translation(Vector::new(x, y))
                .can_sleep(false),
        );
        world.insert_collider(
            ColliderBuilder::cuboid(half_w, half_h)
                .density(CREEPER_DENSITY)
                .collision_groups(InteractionGroups::new(
                    CREEPER_GROUP,
                    Group::NONE,
                    InteractionTestMode::And,
                )),
            Some(handle),
        );
        // Hinged at the middle of the segment's top edge.
        let (above, anchor_above) = match chain.last() {
            Some(&(above, _)) => (above, Vector::new(0.0, -half_h)),
            None => (ground_body, Vector::new(x, outline.max_y)),
        };
        let hinge = RevoluteJointBuilder::new()
            .local_anchor1(anchor_above)
            .local_anchor2(Vector::new(0.0, half_h))
            .limits([-CREEPER_JOINT_LIMIT, CREEPER_JOINT_LIMIT])
            .contacts_enabled(false)
            .build();
        world.insert_impulse_joint(above, handle, hinge);
        chain.push((handle, corners));
    }
    chain
}

/// A limited revolute joint between the hinge's parts, without contacts between them, its
/// anchors in each part's spawn frame.
fn revolute(body: &BodyDef, hinge: &HingeDef) -> RevoluteJointBuilder {
    RevoluteJointBuilder::new()
        .local_anchor1(in_part_frame(&body.parts[hinge.parent], hinge.anchor))
        .local_anchor2(in_part_frame(&body.parts[hinge.child], hinge.anchor))
        .limits(hinge.limits)
        .contacts_enabled(false)
}

/// Rotating the parent's joint frame by the reference angle makes rapier's joint angle (and so
/// its limits) θ_child − θ_parent − reference, as Box2D's.
fn with_reference_angle(mut joint: RevoluteJoint, reference_angle: f32) -> RevoluteJoint {
    let anchor1 = joint.data.local_frame1.translation;
    joint
        .data
        .set_local_frame1(Pose::new(anchor1, reference_angle));
    joint
}

/// Wraps an angle to (-π, π].
pub(crate) fn wrap_angle(a: f32) -> f32 {
    let two_pi = std::f32::consts::TAU;
    let mut a = a % two_pi;
    if a > std::f32::consts::PI {
        a -= two_pi;
    } else if a <= -std::f32::consts::PI {
        a += two_pi;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walker::terrain::{generate, ObstacleGenerator};
    use crate::walker::Embodiment;
    use rand::{Rng, SeedableRng};

    #[test]
    fn masses_match_box2d() {
        // Values read from gymnasium's BipedalWalker-v3 (Box2D) bodies.
        let body = Embodiment::OldClassicBipedal.body();
        let terrain = Terrain {
            ground: vec![[0.0, 0.0], [100.0, 0.0]],
            ..Terrain::default()
        };
        let w = WalkerWorld::new(&terrain, &body, [5.0, 3.0], &PhysicsConfig::default());
        let mass = |i: usize| w.world.bodies[w.parts[i].0].mass();
        assert!((mass(0) - 5.422_222).abs() < 1e-4);
        assert!((mass(1) - 0.302_222).abs() < 1e-5);
        assert!((mass(2) - 0.241_778).abs() < 1e-5);
    }

    fn unit_box(center: Vector, half_width: f32, half_height: f32) -> Vec<Vector> {
        vec![
            center + Vector::new(-half_width, -half_height),
            center + Vector::new(half_width, -half_height),
            center + Vector::new(half_width, half_height),
            center + Vector::new(-half_width, half_height),
        ]
    }

    #[test]
    fn buoyancy_of_a_box_matches_the_closed_form() {
        // A 2 m × 1 m box at rest: fully under water, ρ·A·g = 1·2·10 = 20 N up at its centre.
        let center = Vector::new(3.0, -2.0);
        let polygon = unit_box(center, 1.0, 0.5);
        let still = Vector::new(0.0, 0.0);
        let forces = water_forces(&clip_below(&polygon, 0.0), center, still, 0.0);
        assert_eq!(forces.len(), 1, "no drag at rest");
        let (force, point) = forces[0];
        assert!((force.y - 20.0).abs() < 1e-4 && force.x == 0.0, "{force:?}");
        assert!((point - center).length() < 1e-5);
        // Half under water: half the force, at the centre of the lower half.
        let forces = water_forces(&clip_below(&polygon, center.y), center, still, 0.0);
        assert!((forces[0].0.y - 10.0).abs() < 1e-4);
        assert!((forces[0].1.y - (center.y - 0.25)).abs() < 1e-5);
        // Above the water: nothing.
        assert!(water_forces(&clip_below(&polygon, -10.0), center, still, 0.0).is_empty());
        // Sinking at 1 m/s: the bottom edge leads; drag 0.25·2·1·1² = 0.5 N up, no lift.
        let forces = water_forces(
            &clip_below(&polygon, 0.0),
            center,
            Vector::new(0.0, -1.0),
            0.0,
        );
        let total: Vector = forces.iter().map(|f| f.0).fold(Vector::ZERO, |a, b| a + b);
        assert!(
            (total.y - 20.5).abs() < 1e-4 && total.x.abs() < 1e-6,
            "{total:?}"
        );
    }

    /// A chest climber spawned at (5, 10) m in a world with flat ground at 0 and a ceiling at
    /// 30 m, and one 0.2 m wide creeper around its first hand sensor, from `below` m under
    /// the sensor to `above` m over it. Returns the world and the sensor's spawn position.
    fn climber_beside_a_creeper(below: f32, above: f32, movable: bool) -> (WalkerWorld, f32) {
        use crate::walker::terrain::{Obstacle, ObstacleKind};
        let body = Embodiment::ClimbingChestProfileChimpanzee.body();
        let spawn = [5.0, 10.0];
        let sensor = body.grasp_sensors[0].offset;
        let (x, y) = (spawn[0] + sensor[0], spawn[1] + sensor[1]);
        let creeper = Obstacle {
            kind: ObstacleKind::Creeper,
            vertices: vec![
                [x - 0.1, y - below],
                [x + 0.1, y - below],
                [x + 0.1, y + above],
                [x - 0.1, y + above],
            ],
        };
        let terrain = Terrain {
            ground: vec![[0.0, 0.0], [100.0, 0.0]],
            ceiling: vec![[0.0, 30.0], [100.0, 30.0]],
            creepers: vec![creeper],
            movable_creepers: movable,
            ..Terrain::default()
        };
        let world = WalkerWorld::new(&terrain, &body, spawn, &PhysicsConfig::default());
        (world, y)
    }

    #[test]
    fn a_hand_sensor_grasps_a_creeper_and_holds_its_body() {
        // The ceiling far above, the ground far below.
        let (mut w, y) = climber_beside_a_creeper(1.0, 1.0, false);
        assert!(w.sensor_touches_grip(0) && w.sensor_touches_grip(1));
        w.grasp(0);
        w.grasp(1);
        assert!(w.holding(0) && w.holding(1));
        for _ in 0..100 {
            w.step();
        }
        // Held: the hands stay on the creeper instead of falling 5 m in two seconds.
        let held = w.sensor_position(0);
        assert!((held.y - y).abs() < 0.2, "{} vs {y}", held.y);
        w.release(0);
        w.release(1);
        for _ in 0..50 {
            w.step();
        }
        assert!(w.sensor_position(0).y < y - 1.0);
        // Away from the creeper and the ceiling, nothing to hold.
        assert!(!w.sensor_touches_grip(0));
    }

    #[test]
    fn a_hand_grasps_a_movable_creeper_that_swings_and_holds_the_body() {
        // A 2.5 m creeper whose lowest segment holds the sensors: three segments of 5/6 m.
        let (mut w, y) = climber_beside_a_creeper(0.3, 2.2, true);
        let links: Vec<RigidBodyHandle> = w.creeper_links.iter().map(|l| l.0).collect();
        assert_eq!(links.len(), 3);
        let hanging: Vec<Vec<Vector>> = w.creeper_outlines().map(<[Vector]>::to_vec).collect();
        assert!(w.sensor_touches_grip(0) && w.sensor_touches_grip(1));
        assert_eq!(w.grip_target(0), Some(links[2]));
        w.grasp(0);
        w.grasp(1);
        for _ in 0..100 {
            w.step();
        }
        // The body hangs from the chain (a free fall would take it 20 m down in two seconds)...
        let held = w.sensor_position(0);
        assert!(held.y > y - 2.0, "{} vs {y}", held.y);
        // ...whose segments left their rest pose under its weight, and the lidar's outlines
        // follow them.
        let moved: Vec<Vec<Vector>> = w.creeper_outlines().map(<[Vector]>::to_vec).collect();
        assert_ne!(moved[2], hanging[2]);
        let lowest = &w.world.bodies[links[2]];
        let corner = *lowest.position() * w.creeper_links[2].1[0];
        assert_eq!(moved[2][0], corner);
        w.release(0);
        w.release(1);
        for _ in 0..50 {
            w.step();
        }
        assert!(w.sensor_position(0).y < held.y - 1.0);
    }

    #[test]
    fn movable_creepers_never_touch_the_body() {
        use crate::walker::terrain::{Obstacle, ObstacleKind};
        let body = Embodiment::ClassicBipedal.body();
        // Creepers from far above down into the ground, every 0.5 m along the walker's way.
        let creepers = (0..20)
            .map(|i| {
                let x = 2.0 + 0.5 * i as f32;
                Obstacle {
                    kind: ObstacleKind::Creeper,
                    vertices: vec![[x, -1.0], [x + 0.25, -1.0], [x + 0.25, 9.0], [x, 9.0]],
                }
            })
            .collect();
        let trajectory = |movable: bool| {
            let terrain = Terrain {
                ground: vec![[0.0, 0.0], [100.0, 0.0]],
                ceiling: vec![[0.0, 10.0], [100.0, 10.0]],
                creepers: Vec::clone(&creepers),
                movable_creepers: movable,
                ..Terrain::default()
            };
            let mut w = WalkerWorld::new(&terrain, &body, [4.0, 1.5], &PhysicsConfig::default());
            let mut poses = Vec::new();
            for step in 0..200 {
                let push = if step % 40 < 20 { 1.0 } else { -1.0 };
                w.set_motors(&body, &[push, -push, -push, push], 1.0);
                w.step();
                poses.extend((0..body.parts.len()).map(|i| w.pose(i)));
            }
            poses
        };
        // The chains hang among the body's parts, yet the body moves exactly as among sensors.
        assert_eq!(trajectory(true), trajectory(false));
    }

    #[test]
    fn the_joint_push_opposes_the_turning_and_is_clipped() {
        // A 1 m × 0.2 m paddle under water, hinged at its left end, its motor turning it
        // counter-clockwise: the centre moves up, so the water pushes down, at the hinge.
        let paddle = unit_box(Vector::new(0.5, -1.0), 0.5, 0.1);
        let anchor = Vector::new(0.0, -1.0);
        let lever = Vector::new(0.5, 0.0);
        let forces = push_forces(&paddle, lever, anchor, 2.0, 0.0);
        assert!(!forces.is_empty());
        for (force, point) in &forces {
            assert_eq!(*point, anchor);
            assert!(force.y < 0.0 && force.x.abs() < 1e-6, "{force:?}");
            assert!(force.y >= -MAX_WATER_PUSH);
        }
        // A strong motor saturates the clip; no torque, no push.
        let strong = push_forces(&paddle, lever, anchor, 500.0, 0.0);
        assert!(strong.iter().all(|(f, _)| f.y == -MAX_WATER_PUSH));
        assert!(push_forces(&paddle, lever, anchor, 0.0, 3.0).is_empty());
    }

    #[test]
    fn parkour_lidar_matches_an_exhaustive_search_in_every_mode() {
        use crate::walker::cppn::Cppn;
        use crate::walker::terrain::{generate_parkour, ParkourTrack};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(8);
        let track = ParkourTrack {
            input_vector: [-0.3, 0.7, 0.25],
            water_level: 0.9,
            creepers_width: 0.25,
            creepers_height: 3.0,
            creepers_spacing: 1.0,
            cppn_scale: 10.0,
            ceiling_offset: 40.0,
            ceiling_clip_offset: 0.0,
            creeper_height_std: 0.1,
            movable_creepers: false,
        };
        let mut terrain = generate_parkour(&track, &Cppn::builtin(), 20, &mut rng);
        let body = Embodiment::ClassicBipedal.body();
        for movable in [false, true] {
            terrain.movable_creepers = movable;
            let mut w = WalkerWorld::new(&terrain, &body, [4.6, 5.7], &PhysicsConfig::default());
            assert_eq!(w.movable_creepers(), movable);
            let (mut hits, mut creeper_hits) = (0, 0);
            for mode in [LidarMode::Down, LidarMode::Up, LidarMode::Full] {
                let directions = lidar_fan_directions(mode);
                for step in 0..400 {
                    // Sweep the head along the track and through the tunnel's height.
                    let x = 2.0 + step as f32 * 0.2;
                    let y = 3.0 + (step % 7) as f32 * 0.5;
                    w.set_part_state(
                        0,
                        &PartState {
                            position: [x, y],
                            angle: 0.0,
                            linvel: [0.0, 0.0],
                            angvel: 0.0,
                        },
                    );
                    let (mut fast, mut flags, mut reference) =
                        ([0.0; LIDAR_RAYS], [0.0; LIDAR_RAYS], [0.0; LIDAR_RAYS]);
                    w.parkour_lidar(0, &directions, &mut fast, &mut flags);
                    w.parkour_lidar_exhaustive(0, &directions, &mut reference);
                    assert_eq!(
                        fast.map(f32::to_bits),
                        reference.map(f32::to_bits),
                        "{mode:?} at ({x}, {y}), movable creepers: {movable}"
                    );
                    hits += fast.iter().filter(|&&f| f < 1.0).count();
                    creeper_hits += flags.iter().filter(|&&f| f == 1.0).count();
                }
            }
            assert!(hits > 1000 && creeper_hits > 100, "{hits}, {creeper_hits}");
        }
    }

    #[test]
    fn ray_polygon_intersection() {
        let square = [
            Vector::new(0.0, 0.0),
            Vector::new(1.0, 0.0),
            Vector::new(1.0, 1.0),
            Vector::new(0.0, 1.0),
        ];
        let right = Vector::new(1.0, 0.0);
        let hit = ray_convex_polygon(Vector::new(-2.0, 0.5), right, &square, 10.0);
        assert_eq!(hit, Some(2.0));
        assert_eq!(
            ray_convex_polygon(Vector::new(-2.0, 0.5), right, &square, 1.5),
            None
        );
        assert_eq!(
            ray_convex_polygon(Vector::new(-2.0, 1.5), right, &square, 10.0),
            None
        );
        assert_eq!(
            ray_convex_polygon(Vector::new(0.5, 0.5), right, &square, 10.0),
            Some(0.0)
        );
        assert_eq!(
            ray_convex_polygon(Vector::new(2.0, 0.5), right, &square, 10.0),
            None
        );
    }

    #[test]
    fn direct_lidar_matches_the_query_pipeline() {
        let body = Embodiment::ClassicBipedal.body();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        for (mean_height, spacing) in [(2.0, 0.5), (0.5, 0.0), (1.0, 3.0)] {
            let generator = ObstacleGenerator::Stumps {
                mean_height,
                height_std: 0.1,
                min_height: 0.05,
            };
            let terrain = generate(&generator, spacing, 20, &mut rng);
            let mut w = WalkerWorld::new(&terrain, &body, [4.6, 5.7], &PhysicsConfig::default());
            let mut hits = 0;
            for _ in 0..300 {
                let action: Vec<f32> = (0..4).map(|_| rng.random_range(-1.0..1.0)).collect();
                w.set_motors(&body, &action, DEFAULT_MOTOR_FACTOR);
                w.step();
                let (mut direct, mut reference) = ([0.0; LIDAR_RAYS], [0.0; LIDAR_RAYS]);
                w.lidar(0, &mut direct);
                w.lidar_via_query_pipeline(0, &mut reference);
                // The early exit over ground segments changes no bit of the result.
                let mut exhaustive = [0.0; LIDAR_RAYS];
                w.lidar_exhaustive(0, &mut exhaustive);
                assert_eq!(direct.map(f32::to_bits), exhaustive.map(f32::to_bits));
                for (d, r) in direct.iter().zip(&reference) {
                    assert!((d - r).abs() < 1e-5, "{direct:?} vs {reference:?}");
                }
                hits += direct.iter().filter(|&&f| f < 1.0).count();
            }
            assert!(hits > 0);
        }
    }
}

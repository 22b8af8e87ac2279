//! Track generation: turns a task vector and a seeded RNG into a ground polyline plus static
//! obstacle polygons. No physics here; `physics.rs` builds colliders from a [`Terrain`].

use rand::Rng;
use teachgym_core::random::standard_normal;

use super::constants::{TERRAIN_HEIGHT, TERRAIN_LENGTH, TERRAIN_STEP};
use super::cppn::Cppn;

/// Kind of obstacle, for rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObstacleKind {
    /// A rectangular stump.
    Stump,
    /// A (convex hull of a) perturbed hexagon.
    Hexagon,
    /// A Parkour creeper: a sensor rectangle hanging from the ceiling that lidars see and hands
    /// grasp, but that nothing collides with.
    Creeper,
}

/// A static convex obstacle.
#[derive(Debug, Clone, PartialEq)]
pub struct Obstacle {
    /// What it is.
    pub kind: ObstacleKind,
    /// Vertices in world coordinates (m); the physics takes their convex hull, as Box2D does.
    pub vertices: Vec<[f32; 2]>,
}

/// A generated track.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Terrain {
    /// Ground polyline, x increasing (m).
    pub ground: Vec<[f32; 2]>,
    /// Obstacles standing on the ground.
    pub obstacles: Vec<Obstacle>,
    /// Ceiling polyline, x increasing (m), at the ground's x positions; empty without a ceiling
    /// (Stump and Hexagon Tracks). Parkour's climbers grasp it.
    pub ceiling: Vec<[f32; 2]>,
    /// Creepers hanging from the ceiling (Parkour), in increasing x order.
    pub creepers: Vec<Obstacle>,
    /// Height of the water surface (m), if the track has water (Parkour). The water fills
    /// everything below it.
    pub water_y: Option<f32>,
    /// Whether the creepers are chains of dynamic segments rather than static sensors.
    pub movable_creepers: bool,
}

/// How obstacles are drawn after the start pad.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ObstacleGenerator {
    /// Stumps of height `max(min_height, N(mean, std))` terrain steps, one terrain step wide.
    Stumps {
        mean_height: f64,
        height_std: f64,
        min_height: f64,
    },
    /// Hexagons whose six vertices are offset by `N(offsets[2k..2k+2], std)` terrain steps.
    Hexagons { offsets: [f64; 12], std: f64 },
}

/// Smallest gap between obstacles (m), as in the reference generator.
pub const MIN_OBSTACLE_SPACING: f64 = 0.01;
/// Horizontal room one hexagon takes on the track (m).
pub const HEXAGON_ADVANCE: f32 = 1.0;
/// Hexagon outline before perturbation, in terrain steps.
const HEXAGON_BASE: [[f32; 2]; 6] = [
    [-0.5, 0.0],
    [-0.5, 0.25],
    [-0.25, 0.5],
    [0.25, 0.5],
    [0.5, 0.25],
    [0.5, 0.0],
];

/// Generates a track: a flat start pad of `startpad` terrain steps, then obstacle, gap of
/// `spacing` metres, obstacle, ... until the end of the track.
///
/// The ground stays at [`TERRAIN_HEIGHT`] (the reference's roughness is 0, so its smoothing
/// recursion keeps the ground flat); it is kept as a polyline so rough variants can be added.
pub(crate) fn generate<R: Rng + ?Sized>(
    generator: &ObstacleGenerator,
    spacing: f64,
    startpad: usize,
    rng: &mut R,
) -> Terrain {
    let spacing = spacing.max(MIN_OBSTACLE_SPACING) as f32;
    let track_end = TERRAIN_LENGTH as f32 * TERRAIN_STEP;
    let y = TERRAIN_HEIGHT;
    let mut x = startpad as f32 * TERRAIN_STEP;
    let mut ground = vec![[0.0, y], [x, y]];
    let mut obstacles = Vec::new();
    while x < track_end {
        match generator {
            ObstacleGenerator::Stumps {
                mean_height,
                height_std,
                min_height,
            } => {
                let h = (mean_height + height_std * standard_normal(rng)).max(*min_height) as f32
                    * TERRAIN_STEP;
                let w = TERRAIN_STEP;
                obstacles.push(Obstacle {
                    kind: ObstacleKind::Stump,
                    vertices: vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
                });
                x += w;
            }
            ObstacleGenerator::Hexagons { offsets, std } => {
                let vertices = HEXAGON_BASE
                    .iter()
                    .enumerate()
                    .map(|(k, [bx, by])| {
                        let dx = (offsets[2 * k] + std * standard_normal(rng)) as f32;
                        let dy = (offsets[2 * k + 1] + std * standard_normal(rng)) as f32;
                        // The end vertices stay on the ground so the hexagon sits on it.
                        let dy = if k == 0 || k == HEXAGON_BASE.len() - 1 {
                            0.0
                        } else {
                            dy
                        };
                        [x + (bx + dx) * TERRAIN_STEP, y + (by + dy) * TERRAIN_STEP]
                    })
                    .collect();
                obstacles.push(Obstacle {
                    kind: ObstacleKind::Hexagon,
                    vertices,
                });
                x += HEXAGON_ADVANCE;
            }
        }
        ground.push([x, y]);
        x += spacing;
        ground.push([x, y]);
    }
    Terrain {
        ground,
        obstacles,
        ..Terrain::default()
    }
}

/// The parameters of one Parkour track: the task vector plus the env's fixed offsets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParkourTrack {
    /// The CPPN's 3-D conditioning vector.
    pub input_vector: [f32; 3],
    /// Water level in [0, 1] of the range from [`parkour_ground_limit`] to the highest ceiling
    /// point; clipped to at least [`MIN_WATER_LEVEL`].
    pub water_level: f64,
    /// Creeper width (m), clipped to at least [`MIN_CREEPER_SIZE`].
    pub creepers_width: f64,
    /// Mean creeper height (m); each is `max(MIN_CREEPER_SIZE, N(mean, creeper_height_std))`.
    pub creepers_height: f64,
    /// Horizontal distance between creepers (m), clipped to at least
    /// [`MIN_OBSTACLE_SPACING`].
    pub creepers_spacing: f64,
    /// Divisor of the CPPN outputs (larger: smoother terrain).
    pub cppn_scale: f64,
    /// Height of the ceiling above the ground at the start, times `cppn_scale` (m).
    pub ceiling_offset: f64,
    /// Smallest gap between ceiling and ground, times `cppn_scale` (m).
    pub ceiling_clip_offset: f64,
    /// Standard deviation of each creeper's height (m).
    pub creeper_height_std: f64,
    /// Creepers as swinging chains ([`Terrain::movable_creepers`]).
    pub movable_creepers: bool,
}

/// Smallest water level (the reference's clip).
pub const MIN_WATER_LEVEL: f64 = 0.01;
/// Smallest creeper width and height (m).
pub const MIN_CREEPER_SIZE: f64 = 0.2;

/// Bottom of the Parkour world (m): `−1000 / cppn_scale`, where the water level's range starts.
pub fn parkour_ground_limit(cppn_scale: f64) -> f64 {
    -1000.0 / cppn_scale
}

/// Generates a Parkour track: `startpad` flat points (ground at [`TERRAIN_HEIGHT`], ceiling
/// `ceiling_offset / scale` above it), then [`TERRAIN_LENGTH`] CPPN points, one per terrain
/// step: each output divided by the scale and shifted so the CPPN part starts where the pad
/// ends; the ceiling is clipped to at least `ceiling_clip_offset / scale` above the ground, so it
/// may close the tunnel. Creepers hang from the ceiling, one each time the distance walked
/// after the pad reaches `creepers_spacing`, from the higher of the ceiling points at their two
/// edges. The water surface lies at `limit + level · (max ceiling − limit)` with
/// `limit = `[`parkour_ground_limit`].
pub(crate) fn generate_parkour<R: Rng + ?Sized>(
    track: &ParkourTrack,
    cppn: &Cppn,
    startpad: usize,
    rng: &mut R,
) -> Terrain {
    let scale = track.cppn_scale as f32;
    let (cppn_ground, cppn_ceiling) = cppn.evaluate(track.input_vector, TERRAIN_LENGTH);
    let pad_ceiling = TERRAIN_HEIGHT + track.ceiling_offset as f32 / scale;
    let clip = track.ceiling_clip_offset as f32 / scale;
    let points = startpad + TERRAIN_LENGTH;
    let mut ground = Vec::with_capacity(points);
    let mut ceiling = Vec::with_capacity(points);
    for i in 0..points {
        let x = i as f32 * TERRAIN_STEP;
        if i < startpad {
            ground.push([x, TERRAIN_HEIGHT]);
            ceiling.push([x, pad_ceiling]);
        } else {
            let k = i - startpad;
            let g = (cppn_ground[k] - cppn_ground[0]) / scale + TERRAIN_HEIGHT;
            let c = (cppn_ceiling[k] - cppn_ceiling[0]) / scale + pad_ceiling;
            ground.push([x, g]);
            ceiling.push([x, c.max(g + clip)]);
        }
    }

    let width = track.creepers_width.max(MIN_CREEPER_SIZE) as f32;
    let spacing = track.creepers_spacing.max(MIN_OBSTACLE_SPACING) as f32;
    let span = (width / TERRAIN_STEP) as usize;
    let mut creepers = Vec::new();
    let mut walked = 0.0;
    for i in startpad..points {
        walked += TERRAIN_STEP;
        if walked < spacing {
            continue;
        }
        walked = 0.0;
        let height = (track.creepers_height + track.creeper_height_std * standard_normal(rng))
            .max(MIN_CREEPER_SIZE) as f32;
        let top = ceiling[i][1].max(ceiling[(i + span).min(points - 1)][1]);
        let x = ceiling[i][0];
        creepers.push(Obstacle {
            kind: ObstacleKind::Creeper,
            vertices: vec![
                [x, top - height],
                [x + width, top - height],
                [x + width, top],
                [x, top],
            ],
        });
    }

    let limit = parkour_ground_limit(track.cppn_scale);
    let highest = ceiling.iter().map(|p| p[1]).fold(f32::MIN, f32::max) as f64;
    let water_y = limit + track.water_level.max(MIN_WATER_LEVEL) * (highest - limit);
    Terrain {
        ground,
        obstacles: Vec::new(),
        ceiling,
        creepers,
        water_y: Some(water_y as f32),
        movable_creepers: track.movable_creepers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    fn stumps(mean: f64) -> ObstacleGenerator {
        ObstacleGenerator::Stumps {
            mean_height: mean,
            height_std: 0.1,
            min_height: 0.05,
        }
    }

    #[test]
    fn stump_count_follows_spacing() {
        let mut rng = Pcg64::seed_from_u64(1);
        let sparse = generate(&stumps(1.0), 6.0, 20, &mut rng);
        let dense = generate(&stumps(1.0), 0.0, 20, &mut rng);
        // About 84 / (0.467 + spacing) stumps after the pad.
        assert_eq!(sparse.obstacles.len(), 13);
        assert!(dense.obstacles.len() > 170, "{}", dense.obstacles.len());
        assert!(sparse.ground.windows(2).all(|w| w[1][0] >= w[0][0]));
        assert!(sparse.ground.last().unwrap()[0] >= TERRAIN_LENGTH as f32 * TERRAIN_STEP);
    }

    #[test]
    fn stump_heights_are_clipped_and_follow_the_mean() {
        let mut rng = Pcg64::seed_from_u64(2);
        let t = generate(&stumps(-3.0), 1.0, 20, &mut rng);
        for o in &t.obstacles {
            let h = o.vertices[2][1] - o.vertices[0][1];
            assert!((h - 0.05 * TERRAIN_STEP).abs() < 1e-5);
        }
        let t = generate(&stumps(2.0), 0.5, 20, &mut rng);
        let mean: f32 = t
            .obstacles
            .iter()
            .map(|o| (o.vertices[2][1] - o.vertices[0][1]) / TERRAIN_STEP)
            .sum::<f32>()
            / t.obstacles.len() as f32;
        assert!((mean - 2.0).abs() < 0.05, "{mean}");
    }

    #[test]
    fn hexagons_keep_their_feet_on_the_ground() {
        let mut rng = Pcg64::seed_from_u64(3);
        let gen = ObstacleGenerator::Hexagons {
            offsets: [1.0; 12],
            std: 0.1,
        };
        let t = generate(&gen, 8.0, 20, &mut rng);
        assert!(!t.obstacles.is_empty());
        for o in &t.obstacles {
            assert_eq!(o.vertices.len(), 6);
            assert_eq!(o.vertices[0][1], TERRAIN_HEIGHT);
            assert_eq!(o.vertices[5][1], TERRAIN_HEIGHT);
        }
    }

    fn parkour(input_vector: [f32; 3], water_level: f64) -> ParkourTrack {
        ParkourTrack {
            input_vector,
            water_level,
            creepers_width: 0.25,
            creepers_height: 2.0,
            creepers_spacing: 3.0,
            cppn_scale: 10.0,
            ceiling_offset: 200.0,
            ceiling_clip_offset: 0.0,
            creeper_height_std: 0.1,
            movable_creepers: false,
        }
    }

    #[test]
    fn parkour_tracks_start_on_the_pad_and_keep_the_ceiling_above_the_ground() {
        let cppn = Cppn::builtin();
        let mut rng = Pcg64::seed_from_u64(4);
        let t = generate_parkour(&parkour([-0.15, 0.8, 0.1], 0.5), &cppn, 20, &mut rng);
        assert_eq!(t.ground.len(), 220);
        assert_eq!(t.ceiling.len(), 220);
        assert!(t.obstacles.is_empty());
        for i in 0..=20 {
            assert_eq!(t.ground[i][1], TERRAIN_HEIGHT, "point {i}");
            assert!((t.ceiling[i][1] - (TERRAIN_HEIGHT + 20.0)).abs() < 1e-5);
        }
        assert!(t.ground.iter().zip(&t.ceiling).all(|(g, c)| c[1] >= g[1]));
        assert!(t.ground.windows(2).all(|w| w[1][0] > w[0][0]));
        // Creepers every 3 m after the pad: one per 7 terrain steps (3.27 m).
        assert_eq!(t.creepers.len(), 200 / 7);
        for c in &t.creepers {
            let h = c.vertices[2][1] - c.vertices[0][1];
            assert!(h >= 0.2 && (h - 2.0).abs() < 0.6, "{h}");
            assert!((c.vertices[1][0] - c.vertices[0][0] - 0.25).abs() < 1e-6);
        }
        // Water: from -100 to the highest ceiling point.
        let highest = t.ceiling.iter().map(|p| p[1]).fold(f32::MIN, f32::max);
        let water = t.water_y.unwrap();
        assert!(
            (water - (-100.0 + 0.5 * (highest + 100.0))).abs() < 1e-3,
            "{water}"
        );
        let full = generate_parkour(&parkour([-0.15, 0.8, 0.1], 1.0), &cppn, 20, &mut rng);
        assert!((full.water_y.unwrap() - highest).abs() < 1e-3);
    }

    #[test]
    fn parkour_tracks_follow_the_input_vector_and_the_seed() {
        let cppn = Cppn::builtin();
        let track = parkour([-0.15, 0.8, 0.1], 0.2);
        let a = generate_parkour(&track, &cppn, 20, &mut Pcg64::seed_from_u64(1));
        let b = generate_parkour(&track, &cppn, 20, &mut Pcg64::seed_from_u64(1));
        let c = generate_parkour(&track, &cppn, 20, &mut Pcg64::seed_from_u64(2));
        let other = generate_parkour(
            &parkour([0.05, 0.6, 0.3], 0.2),
            &cppn,
            20,
            &mut Pcg64::seed_from_u64(1),
        );
        assert_eq!(a, b);
        // The seed only moves the creepers; the terrain is the CPPN's.
        assert_eq!(a.ground, c.ground);
        assert_ne!(a.creepers, c.creepers);
        assert_ne!(a.ground, other.ground);
    }

    #[test]
    fn same_seed_same_track() {
        let a = generate(&stumps(1.5), 2.0, 20, &mut Pcg64::seed_from_u64(9));
        let b = generate(&stumps(1.5), 2.0, 20, &mut Pcg64::seed_from_u64(9));
        let c = generate(&stumps(1.5), 2.0, 20, &mut Pcg64::seed_from_u64(10));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

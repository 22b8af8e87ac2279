//! Track generation: turns a task vector and a seeded RNG into a ground polyline plus static
//! obstacle polygons. No physics here; `physics.rs` builds colliders from a [`Terrain`].

use rand::Rng;
use teachgym_core::random::standard_normal;

use super::constants::{TERRAIN_HEIGHT, TERRAIN_LENGTH, TERRAIN_STEP};

/// Kind of obstacle, for rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObstacleKind {
    /// A rectangular stump.
    Stump,
    /// A (convex hull of a) perturbed hexagon.
    Hexagon,
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
    Terrain { ground, obstacles }
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

    #[test]
    fn same_seed_same_track() {
        let a = generate(&stumps(1.5), 2.0, 20, &mut Pcg64::seed_from_u64(9));
        let b = generate(&stumps(1.5), 2.0, 20, &mut Pcg64::seed_from_u64(9));
        let c = generate(&stumps(1.5), 2.0, 20, &mut Pcg64::seed_from_u64(10));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

//! Software rendering of a walker episode with tiny-skia: a 600×400 RGB frame with the sky, the
//! ground, obstacles, lidar rays and the body, the camera following the hull as in the original;
//! on Parkour also the ceiling, the creepers and the water, the camera following the hull
//! vertically too.

use teachgym_core::{Error, Result, RgbFrame};
use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

use super::constants::{LIDAR_RANGE, LIDAR_RAYS, SCALE, VIEWPORT_H, VIEWPORT_W};
use super::env::WalkerEnv;
use super::terrain::ObstacleKind;

/// Frame width (pixels).
pub const FRAME_WIDTH: u32 = VIEWPORT_W as u32;
/// Frame height (pixels).
pub const FRAME_HEIGHT: u32 = VIEWPORT_H as u32;

const SKY: [u8; 3] = [215, 215, 255];
const GRASS: [u8; 3] = [102, 153, 76];
const STUMP: [u8; 3] = [139, 94, 60];
const HEXAGON: [u8; 3] = [120, 110, 100];
const LIDAR: [u8; 3] = [255, 40, 40];
const OUTLINE: [u8; 3] = [40, 40, 60];
const FLAG: [u8; 3] = [230, 51, 0];
const CEILING: [u8; 3] = [90, 90, 90];
const CREEPER: [u8; 3] = [40, 130, 40];
const SENSOR: [u8; 3] = [230, 0, 0];
/// Water, drawn over everything with [`WATER_ALPHA`].
const WATER: [u8; 3] = [40, 90, 230];
const WATER_ALPHA: u8 = 110;

fn paint(rgb: [u8; 3]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    p.anti_alias = true;
    p
}

/// Screen mapping: world metres to pixels, x scrolled so the hull sits at a fifth of the width,
/// y scrolled by `scroll_y` (0 on the flat tracks).
struct Camera {
    scroll_x: f32,
    scroll_y: f32,
}

impl Camera {
    fn map(&self, [x, y]: [f32; 2]) -> (f32, f32) {
        (
            (x - self.scroll_x) * SCALE,
            VIEWPORT_H - (y - self.scroll_y) * SCALE,
        )
    }

    /// Lowest and highest visible y (m), with a margin.
    fn y_range(&self) -> (f32, f32) {
        (
            self.scroll_y - 1.0,
            self.scroll_y + VIEWPORT_H / SCALE + 1.0,
        )
    }
}

fn polygon(camera: &Camera, points: &[[f32; 2]]) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    let (x, y) = camera.map(*points.first()?);
    pb.move_to(x, y);
    for &p in &points[1..] {
        let (x, y) = camera.map(p);
        pb.line_to(x, y);
    }
    pb.close();
    pb.finish()
}

/// Draws the current state of `env`.
pub(crate) fn render(env: &WalkerEnv) -> Result<RgbFrame> {
    let (terrain, poses, lidar, hull_x) =
        match (env.terrain(), env.part_poses(), env.lidar(), env.hull_x()) {
            (Some(t), Some(p), Some(l), Some(x)) => (t, p, l, x),
            _ => return Err(Error::ResetNeeded { call: "render" }),
        };
    let body = env.body();
    let head = poses[body.head].position;
    // Parkour's terrain climbs and falls by metres: keep the hull at mid-height there.
    let scroll_y = if terrain.ceiling.is_empty() {
        0.0
    } else {
        head[1] - VIEWPORT_H / SCALE / 2.0
    };
    let camera = Camera {
        scroll_x: hull_x - VIEWPORT_W / SCALE / 5.0,
        scroll_y,
    };
    let (view_bottom, view_top) = camera.y_range();
    let mut pixmap = Pixmap::new(FRAME_WIDTH, FRAME_HEIGHT).expect("frame size is non-zero");
    pixmap.fill(Color::from_rgba8(SKY[0], SKY[1], SKY[2], 255));
    let id = Transform::identity();
    let outline = Stroke {
        width: 1.0,
        ..Stroke::default()
    };

    // Ground: the polyline closed down to the bottom of the view.
    let view_left = camera.scroll_x - 1.0;
    let view_right = camera.scroll_x + VIEWPORT_W / SCALE + 1.0;
    // Ground closed down to the bottom of the view, ceiling up to its top.
    for (line, edge_y, color) in [
        (&terrain.ground, view_bottom.min(-1.0), GRASS),
        (&terrain.ceiling, view_top, CEILING),
    ] {
        let visible: Vec<[f32; 2]> = line
            .iter()
            .copied()
            .filter(|p| p[0] >= view_left - 10.0 && p[0] <= view_right + 10.0)
            .collect();
        if let (Some(first), Some(last)) = (visible.first(), visible.last()) {
            let mut ring = visible.clone();
            ring.push([last[0], edge_y]);
            ring.push([first[0], edge_y]);
            if let Some(path) = polygon(&camera, &ring) {
                pixmap.fill_path(&path, &paint(color), FillRule::Winding, id, None);
            }
        }
    }

    // Finish flag.
    let end_x = env.track_end_x();
    let end_y = terrain
        .ground
        .iter()
        .find(|p| p[0] >= end_x)
        .or(terrain.ground.last())
        .map_or(0.0, |p| p[1]);
    let mut pb = PathBuilder::new();
    let (fx, fy) = camera.map([end_x, end_y]);
    pb.move_to(fx, fy);
    pb.line_to(fx, fy - 50.0);
    pb.line_to(fx + 25.0, fy - 42.0);
    pb.line_to(fx, fy - 34.0);
    if let Some(path) = pb.finish() {
        pixmap.stroke_path(
            &path,
            &paint(FLAG),
            &Stroke {
                width: 2.0,
                ..Stroke::default()
            },
            id,
            None,
        );
    }

    let creepers = env.creepers().unwrap_or_default();
    for obstacle in terrain.obstacles.iter().chain(&creepers) {
        let max_x = obstacle
            .vertices
            .iter()
            .map(|v| v[0])
            .fold(f32::MIN, f32::max);
        let min_x = obstacle
            .vertices
            .iter()
            .map(|v| v[0])
            .fold(f32::MAX, f32::min);
        if max_x < view_left || min_x > view_right {
            continue;
        }
        let color = match obstacle.kind {
            ObstacleKind::Stump => STUMP,
            ObstacleKind::Hexagon => HEXAGON,
            ObstacleKind::Creeper => CREEPER,
        };
        if let Some(path) = polygon(&camera, &obstacle.vertices) {
            pixmap.fill_path(&path, &paint(color), FillRule::Winding, id, None);
            pixmap.stroke_path(&path, &paint(OUTLINE), &outline, id, None);
        }
    }

    // Lidar rays from the hull to their hit points.
    let (ox, oy) = camera.map(head);
    let mut pb = PathBuilder::new();
    for (fraction, [dx, dy]) in lidar.iter().zip(env.lidar_directions()).take(LIDAR_RAYS) {
        let d = fraction * LIDAR_RANGE;
        let (ex, ey) = camera.map([head[0] + dx * d, head[1] + dy * d]);
        pb.move_to(ox, oy);
        pb.line_to(ex, ey);
    }
    if let Some(path) = pb.finish() {
        pixmap.stroke_path(&path, &paint(LIDAR), &outline, id, None);
    }

    // Body: legs first (back to front), hull last, as the definition orders them but with the
    // head drawn on top.
    let order = (0..body.parts.len())
        .filter(|&i| i != body.head)
        .chain(std::iter::once(body.head));
    for i in order {
        let part = &body.parts[i];
        let pose = poses[i];
        let (s, c) = (libm::sinf(pose.angle), libm::cosf(pose.angle));
        let world: Vec<[f32; 2]> = part
            .shape
            .vertices()
            .iter()
            .map(|[x, y]| {
                [
                    pose.position[0] + c * x - s * y,
                    pose.position[1] + s * x + c * y,
                ]
            })
            .collect();
        if let Some(path) = polygon(&camera, &world) {
            pixmap.fill_path(&path, &paint(part.color), FillRule::Winding, id, None);
            pixmap.stroke_path(&path, &paint(OUTLINE), &outline, id, None);
        }
    }

    // Climbers' hand sensors: red dots.
    for p in env.grasp_sensor_positions().unwrap_or_default() {
        let (x, y) = camera.map(p);
        if let Some(dot) = PathBuilder::from_circle(x, y, 3.0) {
            pixmap.fill_path(&dot, &paint(SENSOR), FillRule::Winding, id, None);
        }
    }

    if let Some(water_y) = terrain.water_y.filter(|&w| w > view_bottom) {
        let top = water_y.min(view_top);
        let ring = [
            [view_left, view_bottom],
            [view_right, view_bottom],
            [view_right, top],
            [view_left, top],
        ];
        if let Some(path) = polygon(&camera, &ring) {
            let mut water = paint(WATER);
            water.set_color_rgba8(WATER[0], WATER[1], WATER[2], WATER_ALPHA);
            pixmap.fill_path(&path, &water, FillRule::Winding, id, None);
        }
    }

    let data = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|px| [px[0], px[1], px[2]])
        .collect();
    Ok(RgbFrame {
        width: FRAME_WIDTH,
        height: FRAME_HEIGHT,
        data,
    })
}

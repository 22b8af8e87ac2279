//! Software rendering of a walker episode with tiny-skia: a 600×400 RGB frame with the sky, the
//! ground, obstacles, lidar rays and the body, the camera following the hull as in the original.

use teachgym_core::{Error, Result, RgbFrame};
use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

use super::constants::{
    LIDAR_FAN, LIDAR_RANGE, LIDAR_RAYS, SCALE, TRACK_END_X, VIEWPORT_H, VIEWPORT_W,
};
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

fn paint(rgb: [u8; 3]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    p.anti_alias = true;
    p
}

/// Screen mapping: world metres to pixels, x scrolled so the hull sits at a fifth of the width.
struct Camera {
    scroll_x: f32,
}

impl Camera {
    fn map(&self, [x, y]: [f32; 2]) -> (f32, f32) {
        ((x - self.scroll_x) * SCALE, VIEWPORT_H - y * SCALE)
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
    let camera = Camera {
        scroll_x: hull_x - VIEWPORT_W / SCALE / 5.0,
    };
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
    let visible: Vec<[f32; 2]> = terrain
        .ground
        .iter()
        .copied()
        .filter(|p| p[0] >= view_left - 10.0 && p[0] <= view_right + 10.0)
        .collect();
    if let (Some(first), Some(last)) = (visible.first(), visible.last()) {
        let mut ring = visible.clone();
        ring.push([last[0], -1.0]);
        ring.push([first[0], -1.0]);
        if let Some(path) = polygon(&camera, &ring) {
            pixmap.fill_path(&path, &paint(GRASS), FillRule::Winding, id, None);
        }
    }

    // Finish flag.
    let mut pb = PathBuilder::new();
    let (fx, fy) = camera.map([TRACK_END_X, terrain.ground[0][1]]);
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

    for obstacle in &terrain.obstacles {
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
        };
        if let Some(path) = polygon(&camera, &obstacle.vertices) {
            pixmap.fill_path(&path, &paint(color), FillRule::Winding, id, None);
            pixmap.stroke_path(&path, &paint(OUTLINE), &outline, id, None);
        }
    }

    // Lidar rays from the hull to their hit points.
    let head = poses[body.head].position;
    let (ox, oy) = camera.map(head);
    let mut pb = PathBuilder::new();
    for (i, fraction) in lidar.iter().enumerate().take(LIDAR_RAYS) {
        let theta = LIDAR_FAN * i as f32 / LIDAR_RAYS as f32;
        let d = fraction * LIDAR_RANGE;
        let (ex, ey) = camera.map([
            head[0] + libm::sinf(theta) * d,
            head[1] - libm::cosf(theta) * d,
        ]);
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

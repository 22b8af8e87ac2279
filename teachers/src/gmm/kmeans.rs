//! The k-means initialisation of EM, as sklearn's `KMeans(n_init=1)`: greedy k-means++ seeding,
//! then Lloyd iterations; specialised at compile time for `D ≤ 4` like the EM fast path.

use rand::Rng;

use super::fixed::{lane_sum, LANES};

/// Maximum Lloyd iterations of the k-means initialisation (sklearn's `KMeans.max_iter`).
const KMEANS_MAX_ITER: usize = 300;
/// k-means tolerance, relative to the mean per-feature variance (sklearn's `KMeans.tol`).
const KMEANS_RELATIVE_TOL: f64 = 1e-4;

#[inline(always)]
pub(super) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means labels as sklearn's `KMeans(n_init=1)`: greedy k-means++ seeding with
/// `2 + ⌊ln k⌋` local trials, then Lloyd iterations until the labels stop changing or the
/// centres move less than `1e-4 ×` the mean feature variance; empty clusters are re-seeded with
/// the points farthest from their centres.
pub(super) fn kmeans_labels<R: Rng + ?Sized>(
    data: &[f64],
    d: usize,
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    // Small dimensions get their own (identical, fully unrolled) copy of the algorithm.
    match d {
        1 => kmeans_labels_fixed::<1, R>(data, k, rng),
        2 => kmeans_labels_fixed::<2, R>(data, k, rng),
        3 => kmeans_labels_fixed::<3, R>(data, k, rng),
        4 => kmeans_labels_fixed::<4, R>(data, k, rng),
        _ => kmeans_labels_impl::<0, R>(data, d, k, rng),
    }
}

/// [`kmeans_labels_impl`] for `D ≥ 1`, compiled for AVX2 when the CPU has it (same bits, see
/// [`em_fixed`](super::fixed::em_fixed)).
fn kmeans_labels_fixed<const D: usize, R: Rng + ?Sized>(
    data: &[f64],
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { kmeans_labels_avx2::<D, R>(data, k, rng) };
    }
    kmeans_labels_impl::<D, R>(data, D, k, rng)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn kmeans_labels_avx2<const D: usize, R: Rng + ?Sized>(
    data: &[f64],
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    kmeans_labels_impl::<D, R>(data, D, k, rng)
}

/// Sum of `values` with one partial sum per lane (`i mod LANES`) combined as [`lane_sum`]: a
/// vectorisable order that is the same on any SIMD width.
#[inline(always)]
fn lane_sum_slice(values: &[f64]) -> f64 {
    let mut lanes = [0.0; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for l in 0..LANES {
            lanes[l] += chunk[l];
        }
    }
    for (l, &v) in chunks.remainder().iter().enumerate() {
        lanes[l] += v;
    }
    lane_sum(lanes)
}

/// Nearest centre (first on ties) and its squared distance, for every row (`D = 0`: any
/// dimension `d`; otherwise `d == D`, and rows go [`LANES`] at a time, centres in the inner loop).
#[inline(always)]
fn kmeans_assign<const D: usize>(
    data: &[f64],
    d: usize,
    k: usize,
    centres: &[f64],
    labels: &mut [usize],
    dists: &mut [f64],
) {
    let mut done = 0;
    if D > 0 {
        let groups = data
            .chunks_exact(D * LANES)
            .zip(labels.chunks_exact_mut(LANES))
            .zip(dists.chunks_exact_mut(LANES));
        for ((x, label), dist_out) in groups {
            let mut best_dist = [f64::INFINITY; LANES];
            let mut best_centre = [0usize; LANES];
            for (c, centre) in centres.chunks_exact(D).take(k).enumerate() {
                for l in 0..LANES {
                    let mut dist = 0.0;
                    for j in 0..D {
                        let gap = x[l * D + j] - centre[j];
                        dist += gap * gap;
                    }
                    if dist < best_dist[l] {
                        best_dist[l] = dist;
                        best_centre[l] = c;
                    }
                }
            }
            label.copy_from_slice(&best_centre);
            dist_out.copy_from_slice(&best_dist);
            done += LANES;
        }
    }
    let rest = data[done * d..]
        .chunks_exact(d)
        .zip(&mut labels[done..])
        .zip(&mut dists[done..]);
    for ((x, label), dist_out) in rest {
        let mut best = (f64::INFINITY, 0);
        for c in 0..k {
            let dist = squared_distance(x, &centres[c * d..(c + 1) * d]);
            if dist < best.0 {
                best = (dist, c);
            }
        }
        *label = best.1;
        *dist_out = best.0;
    }
}

/// [`kmeans_labels`] for `D`-dimensional rows (`D = 0`: any dimension, `dim`).
#[inline(always)]
pub(super) fn kmeans_labels_impl<const D: usize, R: Rng + ?Sized>(
    data: &[f64],
    dim: usize,
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    let d = if D == 0 { dim } else { D };
    let n = data.len() / d;
    let row = |i: usize| &data[i * d..(i + 1) * d];
    // Tolerance scaled by the data's spread, as sklearn.
    let mut variance_sum = 0.0;
    for j in 0..d {
        let mean = (0..n).map(|i| data[i * d + j]).sum::<f64>() / n as f64;
        variance_sum += (0..n)
            .map(|i| (data[i * d + j] - mean).powi(2))
            .sum::<f64>()
            / n as f64;
    }
    let tol = KMEANS_RELATIVE_TOL * variance_sum / d as f64;

    // The rows as fixed-size arrays when `D` is known, so the seeding's distance loop (the
    // bulk of it) unrolls and vectorises.
    let fixed_rows: Vec<[f64; D]> = if D > 0 {
        data.chunks_exact(D)
            .map(|r| std::array::from_fn(|j| r[j]))
            .collect()
    } else {
        Vec::new()
    };

    // k-means++ seeding.
    let mut centres = vec![0.0; k * d];
    let first = rng.random_range(0..n);
    centres[..d].copy_from_slice(row(first));
    let mut closest: Vec<f64> = if D > 0 {
        let centre = fixed_rows[first];
        fixed_rows
            .iter()
            .map(|x| squared_distance(x, &centre))
            .collect()
    } else {
        (0..n)
            .map(|i| squared_distance(row(i), row(first)))
            .collect()
    };
    let local_trials = 2 + libm::log(k as f64) as usize;
    let mut candidate_dists = vec![0.0; n];
    let mut best_dists = vec![0.0; n];
    for c in 1..k {
        let potential = lane_sum_slice(&closest);
        let mut best_candidate = 0;
        let mut best_potential = f64::INFINITY;
        for _ in 0..local_trials {
            let candidate = if potential > 0.0 {
                let target = rng.random::<f64>() * potential;
                let mut cumulative = 0.0;
                let mut pick = n - 1;
                for (i, &v) in closest.iter().enumerate() {
                    cumulative += v;
                    if cumulative > target {
                        pick = i;
                        break;
                    }
                }
                pick
            } else {
                // All points coincide with chosen centres: any point will do.
                rng.random_range(0..n)
            };
            // A comparison rather than `f64::min` (whose NaN rule blocks vectorisation):
            // distances between finite points are never NaN.
            if D > 0 {
                let centre = fixed_rows[candidate];
                let rows = fixed_rows.iter().zip(&closest).zip(&mut candidate_dists);
                for ((x, &current), out) in rows {
                    let mut dist = 0.0;
                    for j in 0..D {
                        let gap = x[j] - centre[j];
                        dist += gap * gap;
                    }
                    *out = if dist < current { dist } else { current };
                }
            } else {
                for i in 0..n {
                    let dist = squared_distance(row(i), row(candidate));
                    candidate_dists[i] = if dist < closest[i] { dist } else { closest[i] };
                }
            }
            let candidate_potential = lane_sum_slice(&candidate_dists);
            if candidate_potential < best_potential {
                best_potential = candidate_potential;
                best_candidate = candidate;
                best_dists.copy_from_slice(&candidate_dists);
            }
        }
        centres[c * d..(c + 1) * d].copy_from_slice(row(best_candidate));
        closest.copy_from_slice(&best_dists);
    }

    // Lloyd iterations.
    let mut labels = vec![0usize; n];
    let mut dists = vec![0.0; n];
    kmeans_assign::<D>(data, d, k, &centres, &mut labels, &mut dists);
    let mut new_centres = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    let mut new_labels = vec![0usize; n];
    for _ in 0..KMEANS_MAX_ITER {
        new_centres.fill(0.0);
        counts.fill(0);
        if D > 0 {
            for (x, &c) in fixed_rows.iter().zip(&labels) {
                counts[c] += 1;
                let centre = &mut new_centres[c * D..(c + 1) * D];
                for j in 0..D {
                    centre[j] += x[j];
                }
            }
        } else {
            for i in 0..n {
                let c = labels[i];
                counts[c] += 1;
                for j in 0..d {
                    new_centres[c * d + j] += data[i * d + j];
                }
            }
        }
        // Re-seed empty clusters with the farthest points, largest distance first.
        if counts.contains(&0) {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
            let mut far = order.into_iter();
            for c in 0..k {
                if counts[c] == 0 {
                    if let Some(p) = far.next() {
                        let old = labels[p];
                        if counts[old] > 1 {
                            counts[old] -= 1;
                            for j in 0..d {
                                new_centres[old * d + j] -= data[p * d + j];
                            }
                        }
                        counts[c] = 1;
                        new_centres[c * d..(c + 1) * d].copy_from_slice(row(p));
                        labels[p] = c;
                    }
                }
            }
        }
        let mut shift = 0.0;
        for c in 0..k {
            if counts[c] > 0 {
                for j in 0..d {
                    new_centres[c * d + j] /= counts[c] as f64;
                }
            }
            shift += squared_distance(
                &centres[c * d..(c + 1) * d],
                &new_centres[c * d..(c + 1) * d],
            );
        }
        std::mem::swap(&mut centres, &mut new_centres);
        kmeans_assign::<D>(data, d, k, &centres, &mut new_labels, &mut dists);
        let unchanged = new_labels == labels;
        std::mem::swap(&mut labels, &mut new_labels);
        if unchanged || shift <= tol {
            break;
        }
    }
    labels
}

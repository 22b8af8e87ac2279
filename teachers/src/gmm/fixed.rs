//! The fixed-dimension fast path: EM and scoring for `D ≤ 4` (ALP-GMM's (task, ALP) rows),
//! specialised at compile time (fixed-size arrays, component-major responsibilities, points in
//! SIMD lanes with one partial sum per lane) and compiled a second time for AVX2. It agrees with
//! the general path (`em.rs`) to rounding, and its AVX2 and baseline builds give the same bits.

use super::em::singular;
use super::numerics::{cholesky, exp_nonpositive, invert_lower_triangular, ln_positive, LN_2PI};
use super::{Gmm, GmmConfig, MASS_FLOOR};
use crate::{Result, TeacherError};

/// [`em_fixed_kernel`] compiled for AVX2 when the CPU has it (twice the SIMD width of the
/// x86-64 baseline). The kernels use only IEEE additions, multiplications and divisions in an
/// order fixed by [`LANES`] (never fused multiply-adds), so both builds give the same bits.
pub(super) fn em_fixed<const D: usize>(
    data: &[f64],
    k: usize,
    labels: &[usize],
    config: &GmmConfig,
) -> Result<Gmm> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { em_fixed_avx2::<D>(data, k, labels, config) };
    }
    em_fixed_kernel::<D>(data, k, labels, config)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn em_fixed_avx2<const D: usize>(
    data: &[f64],
    k: usize,
    labels: &[usize],
    config: &GmmConfig,
) -> Result<Gmm> {
    em_fixed_kernel::<D>(data, k, labels, config)
}

/// [`score_fixed_kernel`], compiled for AVX2 when the CPU has it (same bits, see [`em_fixed`]).
pub(super) fn score_fixed<const D: usize>(gmm: &Gmm, data: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { score_fixed_avx2::<D>(gmm, data) };
    }
    score_fixed_kernel::<D>(gmm, data)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn score_fixed_avx2<const D: usize>(gmm: &Gmm, data: &[f64]) -> f64 {
    score_fixed_kernel::<D>(gmm, data)
}

/// Points per block of the specialised kernels (SIMD lanes: every loop over points runs
/// `LANES` points side by side, and sums over points keep one partial sum per lane).
pub(super) const LANES: usize = 4;

/// The rows of `data` in blocks of [`LANES`] points, coordinate-major within a block
/// (`block[j][l]` = coordinate `j` of point `LANES·b + l`); the last block is padded with zeros.
#[inline(always)]
fn blocks_fixed<const D: usize>(data: &[f64]) -> Vec<[[f64; LANES]; D]> {
    let n = data.len() / D;
    let mut blocks = vec![[[0.0; LANES]; D]; n.div_ceil(LANES)];
    for (i, row) in data.chunks_exact(D).enumerate() {
        for j in 0..D {
            blocks[i / LANES][j][i % LANES] = row[j];
        }
    }
    blocks
}

/// Sum of the lane partial sums, in a fixed order (so the same bits on any SIMD width).
#[inline(always)]
pub(super) fn lane_sum(v: [f64; LANES]) -> f64 {
    (v[0] + v[1]) + (v[2] + v[3])
}

/// [`Gmm::em_general`] specialised to dimension `D`: the same algorithm with fixed-size arrays,
/// responsibilities stored component-major (`k × stride`, `stride` = `n` rounded up to
/// [`LANES`], padding responsibilities 0), and sums over points accumulated per lane. Results
/// agree with the general path to rounding (the summation order differs;
/// `tests::specialised_dimensions_agree_with_the_general_path`).
#[inline(always)]
pub(super) fn em_fixed_kernel<const D: usize>(
    data: &[f64],
    k: usize,
    labels: &[usize],
    config: &GmmConfig,
) -> Result<Gmm> {
    let fail = |reason: String| TeacherError::GmmFit { k, reason };
    let blocks = blocks_fixed::<D>(data);
    let n = data.len() / D;
    let stride = blocks.len() * LANES;
    let mut resp = vec![0.0; k * stride];
    for (i, &l) in labels.iter().enumerate() {
        resp[l * stride + i] = 1.0;
    }
    let mut masses = vec![0.0; k];
    let mut row_scratch = vec![0.0; 2 * stride];
    let mut gmm = Gmm::zeros(D, k);
    m_step_fixed::<D>(&mut gmm, &blocks, &resp, &mut masses, config.reg_covar)
        .map_err(|c| fail(singular(c)))?;
    let mut lower_bound = f64::NEG_INFINITY;
    for iter in 1..=config.max_iter {
        let previous = lower_bound;
        lower_bound = e_step_fixed::<D>(&gmm, &blocks, n, &mut resp, &mut row_scratch, false);
        m_step_fixed::<D>(&mut gmm, &blocks, &resp, &mut masses, config.reg_covar)
            .map_err(|c| fail(singular(c)))?;
        gmm.n_iter = iter;
        if (lower_bound - previous).abs() < config.tol {
            gmm.converged = true;
            break;
        }
    }
    Ok(gmm)
}

/// [`Gmm::score_general`] specialised to dimension `D`.
#[inline(always)]
pub(super) fn score_fixed_kernel<const D: usize>(gmm: &Gmm, data: &[f64]) -> f64 {
    let blocks = blocks_fixed::<D>(data);
    let n = data.len() / D;
    let stride = blocks.len() * LANES;
    let mut scratch = vec![0.0; stride * gmm.n_components()];
    let mut row_scratch = vec![0.0; 2 * stride];
    e_step_fixed::<D>(gmm, &blocks, n, &mut scratch, &mut row_scratch, true)
}

/// Weighted log-densities `ln w_c + ln N(x_i | μ_c, Σ_c)` of the `n` points in `blocks` into
/// `out` (`k × stride`, component-major), then, per point, the log-sum-exp over components (in
/// component order, as [`Gmm::e_step`]); returns the mean log-likelihood. Unless `score_only`,
/// `out` ends holding the responsibilities (0 in the padding); with `score_only` a point whose
/// maximum is not finite contributes that maximum (as
/// [`log_sum_exp`](super::numerics::log_sum_exp)). `rows`: scratch of length `2 · stride`.
#[inline(always)]
fn e_step_fixed<const D: usize>(
    gmm: &Gmm,
    blocks: &[[[f64; LANES]; D]],
    n: usize,
    out: &mut [f64],
    rows: &mut [f64],
    score_only: bool,
) -> f64 {
    let k = gmm.n_components();
    let stride = blocks.len() * LANES;
    let dd = D * D;
    for c in 0..k {
        let log_weight = libm::log(gmm.weights[c]);
        // Constant part of the log-density, folded once per component.
        let offset = log_weight - 0.5 * (D as f64 * LN_2PI) - gmm.half_log_dets[c];
        let mu: [f64; D] = std::array::from_fn(|j| gmm.means[c * D + j]);
        let pc = &gmm.precision_cholesky[c * dd..(c + 1) * dd];
        let p: [[f64; D]; D] = std::array::from_fn(|a| std::array::from_fn(|b| pc[a * D + b]));
        let out_c = &mut out[c * stride..(c + 1) * stride];
        for (o, x) in out_c.chunks_exact_mut(LANES).zip(blocks) {
            let diff: [[f64; LANES]; D] =
                std::array::from_fn(|j| std::array::from_fn(|l| x[j][l] - mu[j]));
            // z = L⁻¹ (x − μ), |z|² = Mahalanobis distance².
            let mut norm2 = [0.0; LANES];
            for a in 0..D {
                let mut z: [f64; LANES] = std::array::from_fn(|l| p[a][0] * diff[0][l]);
                for b in 1..=a {
                    for l in 0..LANES {
                        z[l] += p[a][b] * diff[b][l];
                    }
                }
                for l in 0..LANES {
                    norm2[l] += z[l] * z[l];
                }
            }
            for l in 0..LANES {
                o[l] = offset - 0.5 * norm2[l];
            }
        }
    }
    let (maxes, sums) = rows.split_at_mut(stride);
    maxes.fill(f64::NEG_INFINITY);
    for c in 0..k {
        for (m, &v) in maxes.iter_mut().zip(&out[c * stride..(c + 1) * stride]) {
            // A comparison rather than `f64::max` (whose NaN rule blocks vectorisation):
            // log-densities of finite data under a valid mixture are never NaN.
            *m = if v > *m { v } else { *m };
        }
    }
    // One exp per entry: the shifted exponentials are both the log-sum-exp terms and the
    // unnormalised responsibilities.
    sums.fill(0.0);
    for c in 0..k {
        let out_c = &mut out[c * stride..(c + 1) * stride];
        for ((o, s), &m) in out_c.iter_mut().zip(sums.iter_mut()).zip(maxes.iter()) {
            let r = exp_nonpositive(*o - m);
            *o = r;
            *s += r;
        }
    }
    // Per-point log-likelihoods into `maxes` (a vectorised pass), then their sum in point order.
    for (m, &s) in maxes.iter_mut().zip(sums.iter()) {
        let max = *m;
        *m = if score_only && !max.is_finite() {
            max
        } else {
            max + ln_positive(s)
        };
    }
    let total: f64 = maxes[..n].iter().sum();
    if !score_only {
        for s in sums.iter_mut() {
            *s = 1.0 / *s;
        }
        for c in 0..k {
            let out_c = &mut out[c * stride..(c + 1) * stride];
            for (o, &inv) in out_c.iter_mut().zip(sums.iter()) {
                *o *= inv;
            }
            // The padding points must carry no mass into the M-step.
            out_c[n..].fill(0.0);
        }
    }
    total / n as f64
}

/// [`Gmm::m_step`] specialised to dimension `D`, over the points in `blocks` with
/// component-major responsibilities `resp` (row stride `blocks.len() · LANES`, padding 0).
#[inline(always)]
fn m_step_fixed<const D: usize>(
    gmm: &mut Gmm,
    blocks: &[[[f64; LANES]; D]],
    resp: &[f64],
    masses: &mut [f64],
    reg_covar: f64,
) -> std::result::Result<(), usize> {
    let k = gmm.n_components();
    let stride = blocks.len() * LANES;
    let dd = D * D;
    for c in 0..k {
        let rc = &resp[c * stride..(c + 1) * stride];
        let mut mass = [0.0; LANES];
        let mut sum = [[0.0; LANES]; D];
        for (r, x) in rc.chunks_exact(LANES).zip(blocks) {
            for l in 0..LANES {
                mass[l] += r[l];
                for j in 0..D {
                    sum[j][l] += r[l] * x[j][l];
                }
            }
        }
        let mass = MASS_FLOOR + lane_sum(mass);
        masses[c] = mass;
        let mean: [f64; D] = std::array::from_fn(|j| lane_sum(sum[j]) / mass);
        gmm.means[c * D..(c + 1) * D].copy_from_slice(&mean);
        // Two passes (mean, then centred products) as sklearn: a one-pass E[xxᵀ] − μμᵀ would
        // cancel catastrophically on the near-constant ALP coordinate.
        let mut cov = [[[0.0; LANES]; D]; D];
        for (r, x) in rc.chunks_exact(LANES).zip(blocks) {
            let diff: [[f64; LANES]; D] =
                std::array::from_fn(|j| std::array::from_fn(|l| x[j][l] - mean[j]));
            for a in 0..D {
                for l in 0..LANES {
                    let ra = r[l] * diff[a][l];
                    for b in 0..=a {
                        cov[a][b][l] += ra * diff[b][l];
                    }
                }
            }
        }
        let out = &mut gmm.covariances[c * dd..(c + 1) * dd];
        for a in 0..D {
            for b in 0..=a {
                let v = lane_sum(cov[a][b]) / mass;
                out[a * D + b] = v;
                out[b * D + a] = v;
            }
            out[a * D + a] += reg_covar;
        }
    }
    let total_mass: f64 = masses.iter().sum();
    for c in 0..k {
        gmm.weights[c] = masses[c] / total_mass;
        let l = &mut gmm.cholesky[c * dd..(c + 1) * dd];
        gmm.half_log_dets[c] = cholesky(&gmm.covariances[c * dd..(c + 1) * dd], D, l).ok_or(c)?;
        invert_lower_triangular(l, D, &mut gmm.precision_cholesky[c * dd..(c + 1) * dd]);
    }
    Ok(())
}

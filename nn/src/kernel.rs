//! The affine kernel `out = bias + x · W` shared by the batched forward pass and the
//! single-observation path, so both give bit-identical outputs by construction.
//!
//! Every output element is computed as `bias[j]`, then `+ x[k] · W[k, j]` for `k = 0, 1, …` in
//! increasing order, with separate multiply and add (Rust never fuses them into an FMA). Tiling
//! over rows and outputs only changes which elements are computed together, never the order of
//! operations within one element; the result is therefore also the same on every x86-64 CPU,
//! unlike a GEMM that picks an FMA kernel at run time. Backward passes use ndarray's GEMM.

/// Output columns computed together without AVX (two SSE registers per row).
const TILE_OUTPUTS_SSE: usize = 8;
/// Output columns computed together with AVX (two AVX registers per row).
#[cfg(target_arch = "x86_64")]
const TILE_OUTPUTS_AVX: usize = 16;
/// Batch rows computed together, so each loaded weight tile is reused this many times.
const TILE_ROWS: usize = 4;

/// Computes `out[r, j] = bias[j] + Σ_k x[r, k] · w[k, j]` for row-major `x` (`rows × inputs`),
/// `w` (`inputs × outputs`) and `out` (`rows × outputs`). Callers guarantee the lengths.
///
/// Uses 256-bit registers when the CPU has AVX. AVX without FMA performs the very same
/// multiply and add per element, so the result is identical with and without it.
pub(crate) fn affine_forward(
    x: &[f32],
    rows: usize,
    inputs: usize,
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    debug_assert_eq!(x.len(), rows * inputs);
    debug_assert_eq!(w.len(), inputs * bias.len());
    debug_assert_eq!(out.len(), rows * bias.len());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        unsafe { affine_forward_avx(x, rows, inputs, w, bias, out) };
        return;
    }
    affine_forward_tiled::<TILE_OUTPUTS_SSE>(x, rows, inputs, w, bias, out);
}

/// [`affine_forward_tiled`] compiled for AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn affine_forward_avx(
    x: &[f32],
    rows: usize,
    inputs: usize,
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    affine_forward_tiled::<TILE_OUTPUTS_AVX>(x, rows, inputs, w, bias, out);
}

#[inline(always)]
fn affine_forward_tiled<const C: usize>(
    x: &[f32],
    rows: usize,
    inputs: usize,
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let mut row = 0;
    while row + TILE_ROWS <= rows {
        affine_rows::<TILE_ROWS, C>(x, row, inputs, w, bias, out);
        row += TILE_ROWS;
    }
    while row < rows {
        affine_rows::<1, C>(x, row, inputs, w, bias, out);
        row += 1;
    }
}

/// Computes `R` consecutive output rows starting at `first_row`, `C` columns at a time.
#[inline(always)]
fn affine_rows<const R: usize, const C: usize>(
    x: &[f32],
    first_row: usize,
    inputs: usize,
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let outputs = bias.len();
    let x_rows: [&[f32]; R] =
        std::array::from_fn(|r| &x[(first_row + r) * inputs..(first_row + r + 1) * inputs]);
    let mut col = 0;
    while col + C <= outputs {
        let mut acc = [[0.0f32; C]; R];
        for row_acc in acc.iter_mut() {
            row_acc.copy_from_slice(&bias[col..col + C]);
        }
        for k in 0..inputs {
            let w_tile = &w[k * outputs + col..k * outputs + col + C];
            for r in 0..R {
                let xk = x_rows[r][k];
                for (a, &wv) in acc[r].iter_mut().zip(w_tile) {
                    *a += xk * wv;
                }
            }
        }
        for (r, row_acc) in acc.iter().enumerate() {
            let start = (first_row + r) * outputs + col;
            out[start..start + C].copy_from_slice(row_acc);
        }
        col += C;
    }
    // Remaining columns one at a time, same order of operations.
    for j in col..outputs {
        for (r, x_row) in x_rows.iter().enumerate() {
            let mut a = bias[j];
            for (k, &xk) in x_row.iter().enumerate() {
                a += xk * w[k * outputs + j];
            }
            out[(first_row + r) * outputs + j] = a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_matches_naive_loop_bit_for_bit_for_all_tile_shapes() {
        for (rows, inputs, outputs) in [(1, 3, 1), (5, 7, 9), (8, 24, 17), (3, 1, 16)] {
            let x: Vec<f32> = (0..rows * inputs)
                .map(|i| (i as f32 * 0.37).sin())
                .collect();
            let w: Vec<f32> = (0..inputs * outputs)
                .map(|i| (i as f32 * 0.11).cos())
                .collect();
            let b: Vec<f32> = (0..outputs).map(|i| i as f32 * 0.01).collect();
            let mut out = vec![0.0; rows * outputs];
            affine_forward(&x, rows, inputs, &w, &b, &mut out);
            // The portable path (used on CPUs without AVX) gives the same bits.
            let mut portable = vec![0.0; rows * outputs];
            affine_forward_tiled::<TILE_OUTPUTS_SSE>(&x, rows, inputs, &w, &b, &mut portable);
            assert_eq!(out, portable);
            for r in 0..rows {
                for j in 0..outputs {
                    let mut a = b[j];
                    for k in 0..inputs {
                        a += x[r * inputs + k] * w[k * outputs + j];
                    }
                    assert_eq!(out[r * outputs + j].to_bits(), a.to_bits());
                }
            }
        }
    }
}

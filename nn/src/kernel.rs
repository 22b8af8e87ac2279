//! The matrix products of the networks, with a fixed order of operations for every output
//! element: the same bits on every x86-64 CPU, with or without AVX or FMA.
//!
//! Each kernel computes an output element `out[i, j]` as a start value (the bias `b[j]`, or
//! `+0.0`), then adds the products of the summed dimension one at a time, `k = 0, 1, …` in
//! increasing order, each product rounded to `f32` before it is added (Rust never fuses a
//! multiply and an add into an FMA). Tiling over output rows and columns only changes which
//! elements are computed together, never the operations within one element; the AVX path
//! (chosen at run time) performs exactly the same multiplies and adds as the portable one. So
//! the result equals the naive triple loop bit for bit, everywhere.
//!
//! ndarray's `dot`/`general_mat_mul` (the `matrixmultiply` crate) does not have this property:
//! it picks an FMA kernel at run time on CPUs that have FMA, so trained weights would depend on
//! the CPU. Use these kernels wherever a result feeds training.
//!
//! | kernel | computes | shapes (row-major) |
//! |---|---|---|
//! | [`affine_forward`] | `out = b + X · W` | `X`: rows × inner, `W`: inner × cols, `b`: cols |
//! | [`matmul`] | `out = A · B` | `A`: rows × inner, `B`: inner × cols |
//! | [`matmul_at_b`] | `out = Aᵀ · B` | `A`: inner × rows, `B`: inner × cols |
//! | [`matmul_a_bt`] | `out = A · Bᵀ` | `A`: rows × inner, `B`: cols × inner |
//!
//! `out` is always `rows × cols`. The backward pass of a layer `Y = X · W + b` uses
//! [`matmul_at_b`] for `∂W = Xᵀ · ∂Y` and [`matmul_a_bt`] for `∂X = ∂Y · Wᵀ`. The kernels
//! copy blocks of the right operand into a scratch panel kept per thread (`inner × 32` values,
//! grown on demand), so they do not allocate once warm.
//!
//! Three paths, chosen at run time, compute the same bits: AVX-512 (output tiles 32 columns
//! wide), AVX (16) and portable SSE (8). [`matmul_at_b`], whose summed dimension is a batch
//! (thousands of rows for the web-form agent's element × field pairs), walks it in blocks of
//! [`SUM_BLOCK`] and keeps each element's partial sum in `out` between blocks: a partial sum is
//! an `f32` either way, so the blocks change only what stays in cache, not the rounding.

/// Output columns computed together without AVX (two SSE registers per row).
const TILE_OUTPUTS_SSE: usize = 8;
/// Output columns computed together with AVX-512 (two 512-bit registers per row): 1.4–1.9×
/// the AVX path's multiply-adds per second on the Xeon VM of `BENCHMARKS.md` §4.1.
#[cfg(target_arch = "x86_64")]
const TILE_OUTPUTS_AVX512: usize = 32;
/// Output columns computed together with AVX (two AVX registers per row), and after the
/// AVX-512 tiles (one 512-bit register per row).
const TILE_OUTPUTS_AVX: usize = 16;
/// Output columns computed together after the AVX tiles (one AVX register per row), e.g. the
/// last 8 of 24 inputs.
const TILE_OUTPUTS_MEDIUM: usize = 8;
/// Output columns computed together after the wider tiles (one SSE register per row), e.g. the
/// 4 outputs of a small action head.
const TILE_OUTPUTS_NARROW: usize = 4;
/// The widest column tile, for the size of the scratch panel.
const TILE_OUTPUTS_MAX: usize = 32;
/// Output rows computed together, so each loaded tile of the right operand is reused this many
/// times.
const TILE_ROWS: usize = 4;
/// Length of the blocks of the summed dimension in [`matmul_at_b`], so that a block of the
/// right operand's panel (`SUM_BLOCK × 32` values, 8 KiB) and of the left operand stay in L1
/// while every row tile reads them. Without blocks, a `∂W` summed over 36 864 pair rows ran
/// at a quarter of the forward pass's speed, streaming a 4.7 MB panel once per row tile.
pub const SUM_BLOCK: usize = 64;

/// Computes `out[r, j] = bias[j] + Σ_k x[r, k] · w[k, j]` (`k` increasing) for row-major `x`
/// (`rows × inputs`), `w` (`inputs × outputs`) and `out` (`rows × outputs`), where
/// `outputs = bias.len()`: a batch through one affine layer.
///
/// Uses 256-bit registers when the CPU has AVX; the result is identical with and without it
/// (see the [module docs](self) for the order of operations).
///
/// **Panics** if a slice length does not match the dimensions.
pub fn affine_forward(
    x: &[f32],
    rows: usize,
    inputs: usize,
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let outputs = bias.len();
    check_len("x", x, rows * inputs);
    check_len("w", w, inputs * outputs);
    check_len("out", out, rows * outputs);
    let dims = Dims {
        rows,
        inner: inputs,
        cols: outputs,
    };
    product::<false, false>(x, w, dims, Start::Bias(bias), out);
}

/// Computes `out[i, j] = Σ_k a[i, k] · b[k, j]` (`k` increasing from `+0.0`) for row-major `a`
/// (`rows × inner`), `b` (`inner × cols`) and `out` (`rows × cols`).
///
/// **Panics** if a slice length does not match the dimensions.
pub fn matmul(a: &[f32], b: &[f32], rows: usize, inner: usize, cols: usize, out: &mut [f32]) {
    check_len("a", a, rows * inner);
    check_len("b", b, inner * cols);
    check_len("out", out, rows * cols);
    product::<false, false>(a, b, Dims { rows, inner, cols }, Start::Zero, out);
}

/// Computes `out[i, j] = Σ_k a[k, i] · b[k, j]` (`k` increasing from `+0.0`), i.e. `Aᵀ · B`,
/// for row-major `a` (`inner × rows`), `b` (`inner × cols`) and `out` (`rows × cols`), without
/// forming `Aᵀ`. E.g. the weight gradient `Xᵀ · ∂Y` of a layer, summed over the batch in order.
///
/// **Panics** if a slice length does not match the dimensions.
pub fn matmul_at_b(a: &[f32], b: &[f32], inner: usize, rows: usize, cols: usize, out: &mut [f32]) {
    check_len("a", a, inner * rows);
    check_len("b", b, inner * cols);
    check_len("out", out, rows * cols);
    product::<true, false>(a, b, Dims { rows, inner, cols }, Start::Zero, out);
}

/// Computes `out[i, j] = Σ_k a[i, k] · b[j, k]` (`k` increasing from `+0.0`), i.e. `A · Bᵀ`,
/// for row-major `a` (`rows × inner`), `b` (`cols × inner`) and `out` (`rows × cols`). E.g. the
/// input gradient `∂Y · Wᵀ` of a layer.
///
/// **Panics** if a slice length does not match the dimensions.
pub fn matmul_a_bt(a: &[f32], b: &[f32], rows: usize, inner: usize, cols: usize, out: &mut [f32]) {
    check_len("a", a, rows * inner);
    check_len("b", b, cols * inner);
    check_len("out", out, rows * cols);
    product::<false, true>(a, b, Dims { rows, inner, cols }, Start::Zero, out);
}

/// Writes the transpose of row-major `a` (`rows × cols`) into `out` (`cols × rows`).
///
/// **Panics** if a slice length does not match the dimensions.
pub fn transpose(a: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    check_len("a", a, rows * cols);
    check_len("out", out, rows * cols);
    // Square blocks, so both the reads and the writes of a block stay within a few cache lines
    // (a row-by-row transpose writes with a stride of `rows` floats, which thrashes L1).
    const BLOCK: usize = 16;
    for r0 in (0..rows).step_by(BLOCK) {
        for c0 in (0..cols).step_by(BLOCK) {
            for r in r0..(r0 + BLOCK).min(rows) {
                for c in c0..(c0 + BLOCK).min(cols) {
                    out[c * rows + r] = a[r * cols + c];
                }
            }
        }
    }
}

fn check_len(what: &str, values: &[f32], expected: usize) {
    assert!(
        values.len() == expected,
        "kernel argument `{what}` has {} values but the dimensions need {expected}",
        values.len()
    );
}

/// `out[i, j] = start_j + Σ_k left(i, k) · right(k, j)` with `left(i, k) = left[i, k]` (`left`
/// is `rows × inner`) or, if `TRANSPOSED_LEFT`, `left[k, i]` (`left` is `inner × rows`);
/// `right(k, j) = right[k, j]` (`right` is `inner × cols`) or, if `TRANSPOSED_RIGHT`,
/// `right[j, k]` (`right` is `cols × inner`); the start values are `start`'s. Lengths are
/// checked by the callers.
fn product<const TRANSPOSED_LEFT: bool, const TRANSPOSED_RIGHT: bool>(
    left: &[f32],
    right: &[f32],
    dims: Dims,
    start: Start<'_>,
    out: &mut [f32],
) {
    // Only Aᵀ·B has both operands' blocks of the summed dimension contiguous (its rows), and
    // only ∂W sums over a long dimension.
    if TRANSPOSED_LEFT && !TRANSPOSED_RIGHT && dims.inner > SUM_BLOCK {
        let Dims { rows, inner, cols } = dims;
        let mut first = 0;
        while first < inner {
            let end = (first + SUM_BLOCK).min(inner);
            let block = Dims {
                inner: end - first,
                ..dims
            };
            let block_start = if first == 0 { start } else { Start::Out };
            product_block::<true, false>(
                &left[first * rows..end * rows],
                &right[first * cols..end * cols],
                block,
                block_start,
                out,
            );
            first = end;
        }
        return;
    }
    product_block::<TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(left, right, dims, start, out);
}

/// [`product`] over the whole summed dimension at once, with the thread's scratch panel.
fn product_block<const TRANSPOSED_LEFT: bool, const TRANSPOSED_RIGHT: bool>(
    left: &[f32],
    right: &[f32],
    dims: Dims,
    start: Start<'_>,
    out: &mut [f32],
) {
    let pack = TRANSPOSED_RIGHT || dims.rows > TILE_ROWS;
    if !pack {
        product_with_panel::<TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
            left,
            right,
            dims,
            start,
            &mut [],
            out,
        );
        return;
    }
    let len = dims.inner * TILE_OUTPUTS_MAX;
    PANEL.with(|panel| match panel.try_borrow_mut() {
        Ok(mut panel) => {
            if panel.len() < len {
                panel.resize(len, 0.0);
            }
            product_with_panel::<TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
                left, right, dims, start, &mut panel, out,
            );
        }
        // Only if a kernel ran inside another on this thread, which none does.
        Err(_) => product_with_panel::<TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
            left,
            right,
            dims,
            start,
            &mut vec![0.0; len],
            out,
        ),
    });
}

thread_local! {
    /// Scratch panel of [`product`], grown on demand and kept, so the kernels do not allocate
    /// once warm.
    static PANEL: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`product`] with a scratch `panel` of at least `inner × C` values when the panel is used
/// (`TRANSPOSED_RIGHT` or more than [`TILE_ROWS`] rows), on the widest path the CPU has.
fn product_with_panel<const TRANSPOSED_LEFT: bool, const TRANSPOSED_RIGHT: bool>(
    left: &[f32],
    right: &[f32],
    dims: Dims,
    start: Start<'_>,
    panel: &mut [f32],
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe {
                product_avx512::<TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
                    left, right, dims, start, panel, out,
                )
            };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX, checked just above.
            unsafe {
                product_avx::<TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
                    left, right, dims, start, panel, out,
                )
            };
            return;
        }
    }
    product_tiled::<TILE_OUTPUTS_SSE, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
        left, right, dims, start, panel, out,
    );
}

/// Defines `$name`: [`product_tiled`] with `$tile`-column tiles, compiled for the x86-64
/// extension `$feature`. Its multiplies and adds (never fused) are the very same per element
/// as SSE's, so the result is identical; only the register width differs.
macro_rules! product_for_extension {
    ($name:ident, $feature:literal, $tile:expr) => {
        #[doc = concat!("[`product_tiled`] compiled for `", $feature, "`, ", stringify!($tile), "-column tiles.")]
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $name<const TRANSPOSED_LEFT: bool, const TRANSPOSED_RIGHT: bool>(
            left: &[f32],
            right: &[f32],
            dims: Dims,
            start: Start<'_>,
            panel: &mut [f32],
            out: &mut [f32],
        ) {
            product_tiled::<{ $tile }, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
                left, right, dims, start, panel, out,
            );
        }
    };
}

product_for_extension!(product_avx512, "avx512f", TILE_OUTPUTS_AVX512);
product_for_extension!(product_avx, "avx", TILE_OUTPUTS_AVX);

/// Where the sum of each output element starts.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// `+0.0`.
    Zero,
    /// `bias[j]` for column `j`.
    Bias(&'a [f32]),
    /// The element's value in `out`: the partial sum of the previous block of the summed
    /// dimension.
    Out,
}

/// The dimensions of one product: `out` is `rows × cols`, `inner` is the summed dimension.
#[derive(Clone, Copy)]
struct Dims {
    rows: usize,
    inner: usize,
    cols: usize,
}

/// The left operand, dimensions and start values of one product.
#[derive(Clone, Copy)]
struct Operands<'a> {
    left: &'a [f32],
    dims: Dims,
    start: Start<'a>,
}

/// A block of columns of the right operand: element `(k, j)` of the block is
/// `values[k * stride + first_col + j]`.
#[derive(Clone, Copy)]
struct Panel<'a> {
    values: &'a [f32],
    stride: usize,
    first_col: usize,
}

/// Loops over blocks of output columns (`C` wide, then [`TILE_OUTPUTS_AVX`] and
/// [`TILE_OUTPUTS_MEDIUM`] where narrower than `C`, then [`TILE_OUTPUTS_NARROW`], then one)
/// and, within a block, over tiles of
/// [`TILE_ROWS`] output rows (then single rows). When several row tiles use a column block, or
/// the right operand is transposed, the block of the right operand is first copied into a
/// contiguous panel (`inner × width`, in `panel`) that stays in L1 while they run. Neither the
/// loop order nor the copy changes the operations of any output element.
#[inline(always)]
fn product_tiled<const C: usize, const TRANSPOSED_LEFT: bool, const TRANSPOSED_RIGHT: bool>(
    left: &[f32],
    right: &[f32],
    dims: Dims,
    start: Start<'_>,
    panel: &mut [f32],
    out: &mut [f32],
) {
    let ops = Operands { left, dims, start };
    let pack = TRANSPOSED_RIGHT || dims.rows > TILE_ROWS;
    let mut col = 0;
    while col + C <= dims.cols {
        column_block::<C, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(ops, right, col, pack, panel, out);
        col += C;
    }
    while C > TILE_OUTPUTS_AVX && col + TILE_OUTPUTS_AVX <= dims.cols {
        column_block::<TILE_OUTPUTS_AVX, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
            ops, right, col, pack, panel, out,
        );
        col += TILE_OUTPUTS_AVX;
    }
    while C > TILE_OUTPUTS_MEDIUM && col + TILE_OUTPUTS_MEDIUM <= dims.cols {
        column_block::<TILE_OUTPUTS_MEDIUM, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
            ops, right, col, pack, panel, out,
        );
        col += TILE_OUTPUTS_MEDIUM;
    }
    while col + TILE_OUTPUTS_NARROW <= dims.cols {
        column_block::<TILE_OUTPUTS_NARROW, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(
            ops, right, col, pack, panel, out,
        );
        col += TILE_OUTPUTS_NARROW;
    }
    while col < dims.cols {
        column_block::<1, TRANSPOSED_LEFT, TRANSPOSED_RIGHT>(ops, right, col, pack, panel, out);
        col += 1;
    }
}

/// Output columns `col .. col + W` of every row; `panel` has room for `inner × W` values when
/// `pack`.
#[inline(always)]
fn column_block<const W: usize, const TRANSPOSED_LEFT: bool, const TRANSPOSED_RIGHT: bool>(
    ops: Operands<'_>,
    right: &[f32],
    col: usize,
    pack: bool,
    panel: &mut [f32],
    out: &mut [f32],
) {
    let Dims { inner, cols, .. } = ops.dims;
    if pack {
        let panel = &mut panel[..inner * W];
        if TRANSPOSED_RIGHT {
            // Row `col + j` of `right` (`cols × inner`) is column `j` of the panel.
            for j in 0..W {
                let source = &right[(col + j) * inner..(col + j + 1) * inner];
                for (k, &value) in source.iter().enumerate() {
                    panel[k * W + j] = value;
                }
            }
        } else {
            for (k, packed) in panel.chunks_exact_mut(W).enumerate() {
                packed.copy_from_slice(&right[k * cols + col..k * cols + col + W]);
            }
        }
        let block = Panel {
            values: panel,
            stride: W,
            first_col: 0,
        };
        row_tiles::<W, TRANSPOSED_LEFT>(ops, block, col, out);
    } else {
        let block = Panel {
            values: right,
            stride: cols,
            first_col: col,
        };
        row_tiles::<W, TRANSPOSED_LEFT>(ops, block, col, out);
    }
}

/// Output columns `col .. col + W` of every row, from `block`.
#[inline(always)]
fn row_tiles<const W: usize, const TRANSPOSED_LEFT: bool>(
    ops: Operands<'_>,
    block: Panel<'_>,
    col: usize,
    out: &mut [f32],
) {
    let mut row = 0;
    while row + TILE_ROWS <= ops.dims.rows {
        product_tile::<TILE_ROWS, W, TRANSPOSED_LEFT>(ops, block, row, col, out);
        row += TILE_ROWS;
    }
    while row < ops.dims.rows {
        product_tile::<1, W, TRANSPOSED_LEFT>(ops, block, row, col, out);
        row += 1;
    }
}

/// The `R × C` block of `out` at (`first_row`, `col`): start values, then for each `k` in
/// increasing order one multiply and one add per element.
#[inline(always)]
fn product_tile<const R: usize, const C: usize, const TRANSPOSED_LEFT: bool>(
    ops: Operands<'_>,
    right: Panel<'_>,
    first_row: usize,
    col: usize,
    out: &mut [f32],
) {
    let Operands { left, dims, start } = ops;
    let Dims { rows, inner, cols } = dims;
    let mut acc = [[0.0f32; C]; R];
    match start {
        Start::Zero => {}
        Start::Bias(bias) => {
            for row_acc in acc.iter_mut() {
                row_acc.copy_from_slice(&bias[col..col + C]);
            }
        }
        Start::Out => {
            for (r, row_acc) in acc.iter_mut().enumerate() {
                let first = (first_row + r) * cols + col;
                row_acc.copy_from_slice(&out[first..first + C]);
            }
        }
    }
    // Rows of a row-major left operand, sliced once so the loop below needs no bounds checks.
    let left_rows: [&[f32]; R] = std::array::from_fn(|r| {
        if TRANSPOSED_LEFT {
            &[][..]
        } else {
            &left[(first_row + r) * inner..(first_row + r + 1) * inner]
        }
    });
    for k in 0..inner {
        let start = k * right.stride + right.first_col;
        let right_tile = &right.values[start..start + C];
        let left_values: [f32; R] = if TRANSPOSED_LEFT {
            let column = &left[k * rows + first_row..k * rows + first_row + R];
            std::array::from_fn(|r| column[r])
        } else {
            std::array::from_fn(|r| left_rows[r][k])
        };
        for (row_acc, &l) in acc.iter_mut().zip(&left_values) {
            for (a, &rv) in row_acc.iter_mut().zip(right_tile) {
                *a += l * rv;
            }
        }
    }
    for (r, row_acc) in acc.iter().enumerate() {
        let start = (first_row + r) * cols + col;
        out[start..start + C].copy_from_slice(row_acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes that exercise every tile: full and partial row tiles, 32-, 16-, 8-, 4- and
    /// 1-column tiles, a summed dimension of one, and summed dimensions of one block and a
    /// bit ([`SUM_BLOCK`] + 1) and of two blocks and a bit.
    const SIZES: [usize; 7] = [1, 3, 7, 17, 37, 65, 130];

    fn values(n: usize, seed: f32) -> Vec<f32> {
        // Mixed magnitudes, so a different summation order would change the rounding.
        (0..n)
            .map(|i| libm::sinf(i as f32 * seed) * (1.0 + (i % 7) as f32 * 37.0))
            .collect()
    }

    /// The naive triple loop: `start`, then `+ left(i, k) · right(k, j)` for k increasing.
    fn naive(
        rows: usize,
        inner: usize,
        cols: usize,
        left: impl Fn(usize, usize) -> f32,
        right: impl Fn(usize, usize) -> f32,
        start: impl Fn(usize) -> f32,
    ) -> Vec<f32> {
        let mut out = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                let mut acc = start(j);
                for k in 0..inner {
                    acc += left(i, k) * right(k, j);
                }
                out[i * cols + j] = acc;
            }
        }
        out
    }

    fn assert_bits_eq(got: &[f32], expected: &[f32], context: &str) {
        assert_eq!(got.len(), expected.len(), "{context}");
        for (n, (g, e)) in got.iter().zip(expected).enumerate() {
            assert_eq!(
                g.to_bits(),
                e.to_bits(),
                "{context}: element {n}: {g} vs {e}"
            );
        }
    }

    /// Every kernel equals the naive loop bit for bit, and so do the tilings of the other
    /// paths (AVX-512, AVX, portable) of the same product, whichever path this CPU takes.
    #[test]
    fn every_kernel_and_path_matches_the_naive_loop_bit_for_bit() {
        for rows in SIZES {
            for inner in SIZES {
                for cols in SIZES {
                    let context = format!("rows {rows}, inner {inner}, cols {cols}");
                    let a = values(rows * inner, 0.37); // rows × inner
                    let b = values(inner * cols, 0.11); // inner × cols
                    let bias = values(cols, 0.73);
                    let mut a_t = vec![0.0; rows * inner]; // inner × rows
                    transpose(&a, rows, inner, &mut a_t);
                    let mut b_t = vec![0.0; inner * cols]; // cols × inner
                    transpose(&b, inner, cols, &mut b_t);
                    let left = |i: usize, k: usize| a[i * inner + k];
                    let right = |k: usize, j: usize| b[k * cols + j];
                    let plain = naive(rows, inner, cols, left, right, |_| 0.0);
                    let affine = naive(rows, inner, cols, left, right, |j| bias[j]);

                    let mut out = vec![f32::NAN; rows * cols];
                    affine_forward(&a, rows, inner, &b, &bias, &mut out);
                    assert_bits_eq(&out, &affine, &format!("affine_forward, {context}"));
                    matmul(&a, &b, rows, inner, cols, &mut out);
                    assert_bits_eq(&out, &plain, &format!("matmul, {context}"));
                    matmul_at_b(&a_t, &b, inner, rows, cols, &mut out);
                    assert_bits_eq(&out, &plain, &format!("matmul_at_b, {context}"));
                    matmul_a_bt(&a, &b_t, rows, inner, cols, &mut out);
                    assert_bits_eq(&out, &plain, &format!("matmul_a_bt, {context}"));

                    // The tilings of the three paths, whichever this CPU takes; the blocks of
                    // the summed dimension (Aᵀ·B) only where `product` uses them.
                    let operands = Operands3 {
                        a: &a,
                        a_t: &a_t,
                        b: &b,
                        b_t: &b_t,
                        bias: &bias,
                    };
                    let expected = (affine.as_slice(), plain.as_slice());
                    let dims = Dims { rows, inner, cols };
                    check_tiling::<TILE_OUTPUTS_SSE>(operands, dims, expected, &context);
                    check_tiling::<TILE_OUTPUTS_AVX>(operands, dims, expected, &context);
                    check_tiling::<32>(operands, dims, expected, &context);
                }
            }
        }
    }

    /// The operands of one product in every layout.
    #[derive(Clone, Copy)]
    struct Operands3<'a> {
        a: &'a [f32],
        a_t: &'a [f32],
        b: &'a [f32],
        b_t: &'a [f32],
        bias: &'a [f32],
    }

    /// The three products through [`product_tiled`] with `C`-column tiles, against the naive
    /// `affine` and `plain` results.
    fn check_tiling<const C: usize>(
        ops: Operands3<'_>,
        dims: Dims,
        (affine, plain): (&[f32], &[f32]),
        context: &str,
    ) {
        let mut out = vec![f32::NAN; dims.rows * dims.cols];
        let panel = &mut vec![0.0; dims.inner * C];
        let bias = Start::Bias(ops.bias);
        product_tiled::<C, false, false>(ops.a, ops.b, dims, bias, panel, &mut out);
        assert_bits_eq(&out, affine, &format!("tile {C}, affine, {context}"));
        product_tiled::<C, true, false>(ops.a_t, ops.b, dims, Start::Zero, panel, &mut out);
        assert_bits_eq(&out, plain, &format!("tile {C}, Aᵀ·B, {context}"));
        product_tiled::<C, false, true>(ops.a, ops.b_t, dims, Start::Zero, panel, &mut out);
        assert_bits_eq(&out, plain, &format!("tile {C}, A·Bᵀ, {context}"));
    }

    /// The test above would notice a kernel that sums in another order: with these values, the
    /// reversed order changes some bits.
    #[test]
    fn the_reference_values_are_sensitive_to_the_summation_order() {
        let (rows, inner, cols) = (17, 65, 17);
        let (a, b) = (values(rows * inner, 0.37), values(inner * cols, 0.11));
        let mut out = vec![0.0; rows * cols];
        matmul(&a, &b, rows, inner, cols, &mut out);
        let reversed = naive(
            rows,
            inner,
            cols,
            |i, k| a[i * inner + inner - 1 - k],
            |k, j| b[(inner - 1 - k) * cols + j],
            |_| 0.0,
        );
        let differing = out
            .iter()
            .zip(&reversed)
            .filter(|(x, y)| x.to_bits() != y.to_bits())
            .count();
        assert!(differing > 0, "no element depends on the summation order");
    }

    #[test]
    fn transpose_round_trips() {
        let a = values(3 * 5, 0.5);
        let mut t = vec![0.0; 15];
        let mut back = vec![0.0; 15];
        transpose(&a, 3, 5, &mut t);
        assert_eq!(t[0], a[0]);
        assert_eq!(t[2], a[2 * 5]); // out[0, 2] = a[2, 0]
        transpose(&t, 5, 3, &mut back);
        assert_eq!(back, a);
    }

    #[test]
    #[should_panic(expected = "kernel argument `out` has 5 values but the dimensions need 6")]
    fn wrong_lengths_panic_with_the_argument_name() {
        matmul(&[0.0; 6], &[0.0; 9], 2, 3, 3, &mut [0.0; 5]);
    }
}

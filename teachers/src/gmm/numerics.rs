//! Numerical kernels shared by both EM paths: a vectorisable `exp` and `ln` (the hot
//! transcendental functions of the E-step), the Cholesky factorisation and the inverse of its
//! triangular factor, and log-sum-exp.

/// High part of `ln 2` (fdlibm's `ln2_hi`, 0.693147180369…): its low 32 mantissa bits are
/// zero, so `n · LN2_HI` is exact for `|n| < 2²¹`.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// `ln 2 − LN2_HI` (fdlibm's `ln2_lo`, 1.90821492927…e-10).
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// `exp(v)` for `v ≤ 0`, by a branch-free evaluation that compilers vectorise (libm's `exp` is
/// a call per value and was a quarter of a refit): `v = n·ln 2 + r` with `|r| ≤ ln 2 / 2`
/// (Cody–Waite split of `ln 2`), `exp(r)` by its degree-13 Taylor polynomial (truncation error
/// < 1e-17, evaluated by Estrin's scheme), scaled by `2ⁿ` built from exponent bits. Only IEEE additions and multiplications,
/// so the result is the same bits with or without SIMD, on any IEEE machine. Relative error
/// ≤ 2 ulp against libm (`tests::fast_exp_is_within_two_ulp_of_libm`). Results below the normal
/// range (`v < ln f64::MIN_POSITIVE ≈ −708.4`) are flushed to `+0`: such a responsibility is
/// `< 1e-307` of its row's largest, and producing or multiplying subnormals costs a microcode
/// assist (≈ 100 cycles) per value on x86. `exp(0) = 1` exactly. A NaN `v` gives NaN.
#[inline(always)]
pub(super) fn exp_nonpositive(v: f64) -> f64 {
    /// `1.5 · 2⁵²`: adding it to a `|x| < 2⁵¹` rounds `x` to the nearest integer.
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    /// Slightly above `ln f64::MIN_POSITIVE`: from here up, `exp` is a normal number.
    const NORMAL_LIMIT: f64 = -708.39;
    let underflow = v < NORMAL_LIMIT;
    // Clamped so that no intermediate is subnormal (NaN passes through).
    let x = if underflow { NORMAL_LIMIT } else { v };
    let n = (x * std::f64::consts::LOG2_E + ROUNDER) - ROUNDER;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Estrin's scheme: the same polynomial as Horner's rule with a dependency chain of 8
    // operations instead of 26, so the vectorised loop is not latency-bound.
    let c = &INV_FACTORIALS;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let q: [f64; 7] = std::array::from_fn(|j| c[2 * j] + c[2 * j + 1] * r);
    let low = (q[0] + q[1] * r2) + (q[2] + q[3] * r2) * r4;
    let high = (q[4] + q[5] * r2) + q[6] * r4;
    let p = low + high * r8;
    // n ∈ [−1022, 0]: 2ⁿ is a normal number, its biased exponent n + 1023 ≥ 1.
    let biased = (n + ROUNDER)
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(1023);
    let e = p * f64::from_bits(biased << 52);
    if underflow {
        0.0
    } else {
        e
    }
}

/// `ln(s)` for a positive normal `s`, vectorisable (a row's log-sum-exp needs `ln` of a sum in
/// `[1, k]` once per point and iteration; libm's was ≈ 6 % of a refit): `s = 2ᵉ·m` with
/// `m ∈ [√½, √2)`, `ln m = 2·atanh(t)`, `t = (m − 1)/(m + 1)`, `|t| ≤ 0.172`, by its odd series
/// to `t²¹` (truncation error < 1e-17). Only IEEE operations and bit manipulation, so the same
/// bits on any SIMD width; ≤ 4 ulp from libm (`tests::fast_ln_is_within_four_ulp_of_libm`).
/// Zero, negative, subnormal and non-finite `s` give unspecified finite-or-NaN values: callers
/// pass sums of exponentials that include an exact 1.
#[inline(always)]
pub(super) fn ln_positive(s: f64) -> f64 {
    const MANTISSA: u64 = (1 << 52) - 1;
    /// `2⁵² + 1023`, the float whose low mantissa bits hold a biased exponent read as an integer.
    const EXPONENT_BIAS_FLOAT: f64 = 4_503_599_627_370_496.0 + 1023.0;
    let bits = s.to_bits();
    let e = f64::from_bits((bits >> 52) | 0x4330_0000_0000_0000) - EXPONENT_BIAS_FLOAT;
    let m = f64::from_bits((bits & MANTISSA) | (1023 << 52));
    let high = m > std::f64::consts::SQRT_2;
    let (m, e) = if high { (m * 0.5, e + 1.0) } else { (m, e) };
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut q = 1.0 / 21.0;
    for inv_odd in LN_ATANH_TAIL {
        q = q * t2 + inv_odd;
    }
    // 2·atanh(t) = 2t·(1 + t²/3 + t⁴/5 + …).
    e * LN2_HI + (2.0 * t * q + e * LN2_LO)
}

/// `1/19, 1/17, …, 1/3, 1`: the Horner coefficients of [`ln_positive`] after `1/21`.
const LN_ATANH_TAIL: [f64; 10] = [
    1.0 / 19.0,
    1.0 / 17.0,
    1.0 / 15.0,
    1.0 / 13.0,
    1.0 / 11.0,
    1.0 / 9.0,
    1.0 / 7.0,
    1.0 / 5.0,
    1.0 / 3.0,
    1.0,
];

/// `1/i!` for `i = 0..=13`: the Taylor coefficients of [`exp_nonpositive`].
const INV_FACTORIALS: [f64; 14] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `ln(2π)`.
pub(super) const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Lower Cholesky factor of the symmetric `d × d` matrix `a` into `l`; returns
/// `Σ log diag(l)`, or `None` when `a` is not positive definite.
pub(super) fn cholesky(a: &[f64], d: usize, l: &mut [f64]) -> Option<f64> {
    l.fill(0.0);
    let mut half_log_det = 0.0;
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for p in 0..j {
                s -= l[i * d + p] * l[j * d + p];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 || s.is_infinite() {
                    return None;
                }
                let root = s.sqrt();
                l[i * d + i] = root;
                half_log_det += libm::log(root);
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(half_log_det)
}

/// Inverse of the lower-triangular `l` (positive diagonal) into `inv`, by forward substitution
/// on the identity's columns.
pub(super) fn invert_lower_triangular(l: &[f64], d: usize, inv: &mut [f64]) {
    inv.fill(0.0);
    for col in 0..d {
        inv[col * d + col] = 1.0 / l[col * d + col];
        for i in col + 1..d {
            let mut s = 0.0;
            for j in col..i {
                s -= l[i * d + j] * inv[j * d + col];
            }
            inv[i * d + col] = s / l[i * d + i];
        }
    }
}

pub(super) fn log_sum_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + ln_positive(
        values
            .iter()
            .map(|&v| exp_nonpositive(v - max))
            .sum::<f64>(),
    )
}

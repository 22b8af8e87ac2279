//! Element-wise activation functions of the MLP, including the fast tanh approximation that
//! makes tanh networks affordable (libm `tanhf` costs 15–20 ns per element; see
//! `perf_ecosystem.md` §5.1).

use serde::{Deserialize, Serialize};

/// Applies `f` to every element of `values` in place, on the AVX2 path where the CPU has it:
/// the same IEEE operations eight lanes at a time (no fused multiply-add), so the values are
/// identical on every path. For element-wise functions written to vectorise (no branches, no
/// calls), such as [`fast_tanh`]; `f` is inlined into the loop.
#[inline(always)]
pub fn map_in_place(values: &mut [f32], f: impl Fn(f32) -> f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { map_in_place_avx2(values, f) };
        return;
    }
    values.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn map_in_place_avx2(values: &mut [f32], f: impl Fn(f32) -> f32) {
    values.iter_mut().for_each(|v| *v = f(*v));
}

/// Checks [`map_in_place`]'s promise for one function: over a dense sweep of [−30, 30) in steps
/// of 1e-4 (the range a layer produces), ±1e30, ±∞, NaN and ±0, the dispatched path gives the
/// bits of `f` applied one value at a time. Returns the first input where they differ. A
/// function meant for [`map_in_place`] should be checked with it in an optimised build, where
/// the loop vectorises (its test in `cargo test --release`).
pub fn first_map_in_place_mismatch(f: impl Fn(f32) -> f32 + Copy) -> Option<f32> {
    let values: Vec<f32> = (-300_000..300_000)
        .map(|i| i as f32 * 1e-4)
        .chain([
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            0.0,
            -0.0,
        ])
        .collect();
    let mut mapped = values.clone();
    map_in_place(&mut mapped, f);
    values
        .iter()
        .zip(&mapped)
        .find(|(&v, m)| f(v).to_bits() != m.to_bits())
        .map(|(&v, _)| v)
}

/// Bound on `|fast_tanh(x) - tanh(x)|` for finite `f32` inputs, checked in this module's tests by
/// a sweep of [-10, 10] in steps of 5e-6 plus every 997th `f32` bit pattern (measured maximum:
/// 4.6e-7, near x = ±5.9).
pub const FAST_TANH_MAX_ABS_ERROR: f32 = 1e-6;

/// Inputs with a magnitude above this are mapped to ±1 (to within [`FAST_TANH_MAX_ABS_ERROR`]);
/// the clamp keeps the rational approximation's numerator and denominator in range.
const FAST_TANH_CLAMP: f32 = 7.905_311;

/// Below this magnitude `tanh(x) == x` to within `f32` rounding, so the input is returned as is.
const FAST_TANH_LINEAR_BELOW: f32 = 4e-4;

/// Slope of [`Activation::LeakyRelu`] for negative inputs: 0.1, the slope of the GoalGAN
/// discriminator's hidden layers in rllab-curriculum's `FCGAN` (`tf.maximum(0.1 * x, x)`), which
/// TeachMyAgent runs unchanged.
pub const LEAKY_RELU_SLOPE: f32 = 0.1;

/// The non-linearity applied after a layer's affine map.
///
/// The derivative is computed from the layer's *output* `y` (what the forward cache stores):
/// tanh' = 1 − y², relu' = 1 if y > 0 else 0, leaky relu' = 1 if y > 0 else
/// [`LEAKY_RELU_SLOPE`] (the slope keeps the sign, and at 0 TensorFlow's `maximum` passes the
/// gradient to the `0.1·x` branch), identity' = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Hyperbolic tangent, evaluated with [`fast_tanh`] (max abs error
    /// [`FAST_TANH_MAX_ABS_ERROR`]).
    Tanh,
    /// Rectified linear unit, `max(x, 0)`.
    Relu,
    /// No non-linearity (output layers of value functions, Q-functions and Gaussian means).
    Identity,
    /// Leaky rectified linear unit, `max(LEAKY_RELU_SLOPE · x, x)` (GAN discriminators).
    LeakyRelu,
}

impl Activation {
    /// Applies the activation to every element of `values` in place.
    pub fn apply_in_place(self, values: &mut [f32]) {
        match self {
            Activation::Tanh => map_in_place(values, fast_tanh),
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::LeakyRelu => values.iter_mut().for_each(|v| {
                if *v <= 0.0 {
                    *v *= LEAKY_RELU_SLOPE;
                }
            }),
            Activation::Identity => {}
        }
    }

    /// Multiplies each upstream gradient by the activation's derivative, given the activation's
    /// outputs (`gradient[i] *= f'(x_i)` expressed through `y_i = f(x_i)`).
    pub(crate) fn backprop_in_place(self, outputs: &[f32], gradient: &mut [f32]) {
        match self {
            Activation::Tanh => {
                for (g, &y) in gradient.iter_mut().zip(outputs) {
                    *g *= 1.0 - y * y;
                }
            }
            Activation::Relu => {
                for (g, &y) in gradient.iter_mut().zip(outputs) {
                    if y <= 0.0 {
                        *g = 0.0;
                    }
                }
            }
            Activation::LeakyRelu => {
                for (g, &y) in gradient.iter_mut().zip(outputs) {
                    if y <= 0.0 {
                        *g *= LEAKY_RELU_SLOPE;
                    }
                }
            }
            Activation::Identity => {}
        }
    }
}

/// Fast `tanh` for `f32`: an odd rational approximation `x·p(x²)/q(x²)` (degree 13/6, the
/// coefficients of Eigen's `generic_fast_tanh_float`) on `[-7.9053, 7.9053]`, clamped outside.
///
/// Branch-free apart from the clamp, so loops over slices vectorise. Max abs error against
/// `f32::tanh`: [`FAST_TANH_MAX_ABS_ERROR`]. The result is always within `[-1, 1]`. NaN maps to
/// NaN.
#[inline]
pub fn fast_tanh(x: f32) -> f32 {
    const ALPHA_1: f32 = 4.893_524_6e-3;
    const ALPHA_3: f32 = 6.372_619_3e-4;
    const ALPHA_5: f32 = 1.485_722_4e-5;
    const ALPHA_7: f32 = 5.122_297e-8;
    const ALPHA_9: f32 = -8.604_672e-11;
    const ALPHA_11: f32 = 2.000_188e-13;
    const ALPHA_13: f32 = -2.760_768_5e-16;
    const BETA_0: f32 = 4.893_525e-3;
    const BETA_2: f32 = 2.268_434_6e-3;
    const BETA_4: f32 = 1.185_347e-4;
    const BETA_6: f32 = 1.198_258_4e-6;
    let clamped = x.clamp(-FAST_TANH_CLAMP, FAST_TANH_CLAMP);
    let x2 = clamped * clamped;
    let mut p = ALPHA_13;
    p = p * x2 + ALPHA_11;
    p = p * x2 + ALPHA_9;
    p = p * x2 + ALPHA_7;
    p = p * x2 + ALPHA_5;
    p = p * x2 + ALPHA_3;
    p = p * x2 + ALPHA_1;
    p *= clamped;
    let mut q = BETA_6;
    q = q * x2 + BETA_4;
    q = q * x2 + BETA_2;
    q = q * x2 + BETA_0;
    let y = (p / q).clamp(-1.0, 1.0);
    if x.abs() < FAST_TANH_LINEAR_BELOW {
        x
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_path_computes_the_same_bits_as_the_scalar_one() {
        assert_eq!(first_map_in_place_mismatch(fast_tanh), None);
    }

    #[test]
    fn fast_tanh_is_within_documented_error_of_std_tanh() {
        let mut max_err = 0.0f64;
        let mut worst = 0.0f32;
        // Dense sweep over [-10, 10] plus every 997th f32 bit pattern (covers tiny and huge values).
        let dense = (-2_000_000..=2_000_000).map(|i| i as f32 * 5e-6);
        let sparse = (0..u32::MAX / 997)
            .map(|i| f32::from_bits(i * 997))
            .filter(|x| x.is_finite());
        for x in dense.chain(sparse.clone()).chain(sparse.map(|x| -x)) {
            let err = (fast_tanh(x) as f64 - libm::tanh(x as f64)).abs();
            if err > max_err {
                max_err = err;
                worst = x;
            }
        }
        eprintln!("fast_tanh max abs error {max_err:e} at x = {worst}");
        assert!(
            max_err <= FAST_TANH_MAX_ABS_ERROR as f64,
            "max error {max_err:e} at {worst}"
        );
    }

    #[test]
    fn fast_tanh_is_odd_bounded_and_keeps_nan() {
        for x in [0.0f32, 1e-7, 0.3, 1.0, 3.0, 8.0, 1e30, f32::INFINITY] {
            assert_eq!(fast_tanh(-x), -fast_tanh(x));
            assert!(fast_tanh(x).abs() <= 1.0);
        }
        assert_eq!(fast_tanh(f32::INFINITY), 1.0);
        assert!(fast_tanh(f32::NAN).is_nan());
    }

    #[test]
    fn relu_and_identity_apply_and_backprop() {
        let mut v = [-1.0f32, 0.0, 2.0];
        Activation::Relu.apply_in_place(&mut v);
        assert_eq!(v, [0.0, 0.0, 2.0]);
        let mut g = [1.0f32, 1.0, 1.0];
        Activation::Relu.backprop_in_place(&v, &mut g);
        assert_eq!(g, [0.0, 0.0, 1.0]);
        let mut g = [3.0f32];
        Activation::Identity.backprop_in_place(&[5.0], &mut g);
        assert_eq!(g, [3.0]);
    }

    #[test]
    fn leaky_relu_applies_and_backprops_with_its_slope() {
        let mut v = [-2.0f32, 0.0, 3.0];
        Activation::LeakyRelu.apply_in_place(&mut v);
        assert_eq!(v, [-0.2, 0.0, 3.0]);
        let mut g = [1.0f32, 2.0, 4.0];
        Activation::LeakyRelu.backprop_in_place(&v, &mut g);
        // At 0 the gradient takes the slope, as TensorFlow's `maximum(0.1·x, x)` does.
        assert_eq!(g, [0.1, 0.2, 4.0]);
        // Central differences of max(0.1·x, x) away from the kink.
        for x in [-1.5f32, -0.3, 0.4, 2.0] {
            let f = |x: f32| {
                let mut v = [x];
                Activation::LeakyRelu.apply_in_place(&mut v);
                v[0]
            };
            let numeric = (f(x + 1e-2) - f(x - 1e-2)) / 2e-2;
            let mut g = [1.0f32];
            Activation::LeakyRelu.backprop_in_place(&[f(x)], &mut g);
            assert!(
                (numeric - g[0]).abs() < 1e-4,
                "x = {x}: {numeric} vs {}",
                g[0]
            );
        }
        let json = serde_json::to_string(&Activation::LeakyRelu).unwrap();
        assert_eq!(json, "\"leaky_relu\"");
    }
}

//! Weight initialisation from a caller-supplied, seeded RNG: orthogonal (CleanRL's `layer_init`),
//! scaled uniform (PyTorch's `nn.Linear` default when the scale is 1) or Glorot uniform
//! (TensorFlow 1's `xavier_initializer`, the GoalGAN networks').

use ndarray::Array2;
use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;

/// How one layer's weights and biases are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// A (semi-)orthogonal weight matrix times `gain`, biases zero: PyTorch's
    /// `nn.init.orthogonal_(w, gain)` + `constant_(b, 0)` as in CleanRL's `layer_init`. Typical
    /// gains: √2 for hidden layers, 0.01 for a policy head, 1 for a value head.
    Orthogonal {
        /// Multiplier of the orthogonal matrix (dimensionless, ≥ 0).
        gain: f32,
    },
    /// Weights and biases uniform in `±scale / √fan_in`. `scale = 1` reproduces PyTorch's
    /// `nn.Linear` default initialisation.
    ScaledUniform {
        /// Multiplier of the `1 / √fan_in` bound (dimensionless, ≥ 0).
        scale: f32,
    },
    /// Weights uniform in `±gain · √(6 / (fan_in + fan_out))`, biases zero: Glorot & Bengio's
    /// "Xavier" uniform initialisation, TensorFlow 1's `tf.contrib.layers.xavier_initializer()`
    /// with `tf.layers.dense`'s zero biases when `gain = 1`.
    GlorotUniform {
        /// Multiplier of the bound (dimensionless, ≥ 0).
        gain: f32,
    },
}

impl Init {
    /// The scale parameter (`gain` or `scale`), for validation and messages.
    pub(crate) fn scale(self) -> f32 {
        match self {
            Init::Orthogonal { gain } => gain,
            Init::ScaledUniform { scale } => scale,
            Init::GlorotUniform { gain } => gain,
        }
    }

    /// Draws an `inputs × outputs` weight matrix and an `outputs` bias vector.
    pub(crate) fn draw<R: Rng + ?Sized>(
        self,
        inputs: usize,
        outputs: usize,
        rng: &mut R,
    ) -> (Array2<f32>, Vec<f32>) {
        match self {
            Init::Orthogonal { gain } => {
                (orthogonal(inputs, outputs, gain, rng), vec![0.0; outputs])
            }
            Init::ScaledUniform { scale } => {
                let bound = scale / (inputs as f32).sqrt();
                let mut draw = || (rng.random::<f32>() * 2.0 - 1.0) * bound;
                let weights = Array2::from_shape_simple_fn((inputs, outputs), &mut draw);
                let biases = (0..outputs).map(|_| draw()).collect();
                (weights, biases)
            }
            Init::GlorotUniform { gain } => {
                let bound = gain * (6.0 / (inputs + outputs) as f32).sqrt();
                let weights = Array2::from_shape_simple_fn((inputs, outputs), || {
                    (rng.random::<f32>() * 2.0 - 1.0) * bound
                });
                (weights, vec![0.0; outputs])
            }
        }
    }
}

/// An `rows × cols` matrix with orthonormal columns (if `rows ≥ cols`) or rows (otherwise),
/// times `gain`: Gram–Schmidt (in f64) on a standard-normal matrix, which equals the
/// sign-corrected QR that PyTorch uses.
fn orthogonal<R: Rng + ?Sized>(rows: usize, cols: usize, gain: f32, rng: &mut R) -> Array2<f32> {
    let (long, short) = (rows.max(cols), rows.min(cols));
    // `basis[c]` is the c-th vector to orthonormalise, of length `long`.
    let mut basis: Vec<Vec<f64>> = (0..short)
        .map(|_| (0..long).map(|_| standard_normal(rng)).collect())
        .collect();
    for c in 0..short {
        let (done, rest) = basis.split_at_mut(c);
        let v = &mut rest[0];
        // Modified Gram–Schmidt, twice for numerical orthogonality.
        for _ in 0..2 {
            for q in done.iter() {
                let dot: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(vi, qi)| *vi -= dot * qi);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.iter_mut().for_each(|vi| *vi /= norm);
    }
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        let value = if rows >= cols {
            basis[c][r]
        } else {
            basis[r][c]
        };
        (value * gain as f64) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn orthogonal_has_orthonormal_columns_or_rows_times_gain() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        for (rows, cols) in [(24, 64), (64, 64), (64, 4)] {
            let gain = 2f32.sqrt();
            let w = Init::Orthogonal { gain }.draw(rows, cols, &mut rng).0;
            let w = w.as_slice().unwrap();
            let n = rows.min(cols);
            let mut gram = Array2::zeros((n, n));
            let out = gram.as_slice_mut().unwrap();
            if rows >= cols {
                crate::kernel::matmul_at_b(w, w, rows, cols, cols, out); // Wᵀ · W
            } else {
                crate::kernel::matmul_a_bt(w, w, rows, cols, rows, out); // W · Wᵀ
            }
            for ((i, j), &g) in gram.indexed_iter() {
                let expected = if i == j { 2.0 } else { 0.0 };
                assert!(
                    (g - expected).abs() < 1e-5,
                    "{rows}x{cols} gram[{i},{j}] = {g}"
                );
            }
        }
    }

    #[test]
    fn scaled_uniform_respects_bound() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(2);
        let (w, b) = Init::ScaledUniform { scale: 1.0 }.draw(16, 8, &mut rng);
        assert!(w.iter().chain(&b).all(|v| v.abs() <= 0.25));
        assert!(w.iter().any(|v| v.abs() > 0.2));
    }

    #[test]
    fn glorot_uniform_respects_bound_and_zero_biases() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        // √(6 / (10 + 14)) = 0.5.
        let (w, b) = Init::GlorotUniform { gain: 1.0 }.draw(10, 14, &mut rng);
        assert!(w.iter().all(|v| v.abs() <= 0.5));
        assert!(w.iter().any(|v| v.abs() > 0.45));
        assert!(b.iter().all(|&v| v == 0.0));
        // Uniform: the variance is bound² / 3 = 1/12.
        let variance = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        assert!((variance - 1.0 / 12.0).abs() < 0.03, "{variance}");
    }
}

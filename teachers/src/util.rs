//! Small sampling helpers shared by the teachers.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// The RNG every teacher owns (serialisable, so checkpoints carry the exact stream position).
pub(crate) type TeacherRng = Pcg64;

/// Salt that separates a teacher's visualisation stream from its decision stream.
const VISUALISATION_STREAM_SALT: u64 = 0x005E_ED0F_F1CE;

/// The decision stream of a teacher built with `seed`.
pub(crate) fn decision_rng(seed: u64) -> TeacherRng {
    Pcg64::seed_from_u64(seed)
}

/// The visualisation stream of a teacher built with `seed` (independent of the decision stream).
pub(crate) fn visualisation_rng(seed: u64) -> TeacherRng {
    Pcg64::seed_from_u64(seed ^ VISUALISATION_STREAM_SALT)
}

/// Index drawn with probability proportional to `weights` (non-finite or negative weights count
/// as 0); uniform when all weights are 0, as teachDeepRL's `proportional_choice`.
/// `weights` must not be empty.
pub(crate) fn proportional_choice<R: Rng + ?Sized>(weights: &[f64], rng: &mut R) -> usize {
    let clean = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
    let total: f64 = weights.iter().map(|&w| clean(w)).sum();
    if total <= 0.0 || !total.is_finite() {
        return rng.random_range(0..weights.len());
    }
    let target = rng.random::<f64>() * total;
    let mut cumulative = 0.0;
    let mut last_positive = 0;
    for (i, &w) in weights.iter().enumerate() {
        let w = clean(w);
        if w > 0.0 {
            cumulative += w;
            last_positive = i;
            if target < cumulative {
                return i;
            }
        }
    }
    // Rounding can leave `target` a hair above the final cumulative sum.
    last_positive
}

/// A point drawn uniformly in the box `[low, high]`.
pub(crate) fn uniform_in_box<R: Rng + ?Sized>(low: &[f64], high: &[f64], rng: &mut R) -> Vec<f64> {
    low.iter()
        .zip(high)
        .map(|(&l, &h)| l + rng.random::<f64>() * (h - l))
        .collect()
}

/// Checks an optional `return_range` of the ALP-based teachers: finite, `low < high`.
pub(crate) fn validate_return_range(teacher: &str, range: Option<[f64; 2]>) -> crate::Result<()> {
    match range {
        Some([low, high]) if !(low.is_finite() && high.is_finite() && low < high) => {
            Err(crate::TeacherError::config(
                format!("{teacher}.return_range"),
                format!("must be finite [low, high] with low < high, got [{low}, {high}]"),
            ))
        }
        _ => Ok(()),
    }
}

/// `episode_return` mapped linearly from `range` to `[0, 1]` and clipped (teachDeepRL's
/// `np.interp(r, (low, high), (0, 1))`), or unchanged without a range.
pub(crate) fn scaled_return(range: Option<[f64; 2]>, episode_return: f64) -> f64 {
    match range {
        Some([low, high]) => ((episode_return - low) / (high - low)).clamp(0.0, 1.0),
        None => episode_return,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_choice_follows_weights() {
        let mut rng = decision_rng(1);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[proportional_choice(&[1.0, 0.0, 3.0], &mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((ratio - 3.0).abs() < 0.2, "{counts:?}");
        // All zero (or garbage) -> uniform.
        let mut seen = [false; 3];
        for _ in 0..200 {
            seen[proportional_choice(&[0.0, f64::NAN, -1.0], &mut rng)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}

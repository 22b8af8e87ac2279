//! Random draws that give the same bits on every CPU, for everything a seed must reproduce
//! (terrains, initial weights, exploration noise, teachers' perturbations).
//!
//! `rand_distr`'s normal distribution computes `exp`/`ln` with the platform's libm in its rare
//! branches (num-traits is built with `std` in this workspace), and glibc picks FMA variants of
//! those at run time, so a draw could differ between CPUs in its last bit. Here the only
//! transcendental function is `libm::log` (pure Rust), and `sqrt` is exact by IEEE 754.

use rand::Rng;

/// A draw from the standard normal distribution N(0, 1), by Marsaglia's polar method: uniform
/// points `(u, v)` in the square `[-1, 1)²` until one falls strictly inside the unit disc, then
/// `u · √(−2 ln s / s)` with `s = u² + v²`. It uses two or more uniform draws per call (1.27 on
/// average) and discards the second normal the method yields, so draws are independent of any
/// state but the generator's.
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let u = 2.0 * rng.random::<f64>() - 1.0;
        let v = 2.0 * rng.random::<f64>() - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * libm::log(s) / s).sqrt();
        }
    }
}

/// A draw from N(`mean`, `std`²): `mean + std · z` with `z` from [`standard_normal`].
pub fn normal<R: Rng + ?Sized>(rng: &mut R, mean: f64, std: f64) -> f64 {
    mean + std * standard_normal(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    #[test]
    fn draws_have_the_moments_of_a_standard_normal() {
        let mut rng = Pcg64::seed_from_u64(1);
        let n = 400_000;
        let draws: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / n as f64;
        let kurtosis =
            draws.iter().map(|z| (z - mean).powi(4)).sum::<f64>() / n as f64 / var.powi(2);
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        assert!((kurtosis - 3.0).abs() < 0.05, "kurtosis {kurtosis}");
        // Tails: P(|z| > 3) = 0.0027.
        let beyond = draws.iter().filter(|z| z.abs() > 3.0).count() as f64 / n as f64;
        assert!((beyond - 0.0027).abs() < 0.0006, "P(|z| > 3) = {beyond}");
        let shifted = normal(&mut rng, 5.0, 0.5);
        assert!((2.0..8.0).contains(&shifted));
    }

    #[test]
    fn the_same_seed_gives_the_same_bits() {
        let draw = |seed| {
            let mut rng = Pcg64::seed_from_u64(seed);
            (0..64)
                .map(|_| standard_normal(&mut rng).to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}

//! Model selection: the information criteria (AIC, BIC, AICc) of a fitted mixture and
//! [`fit_best`], which fits one mixture per candidate number of components and keeps the best.

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use super::{Gmm, GmmConfig};
use crate::{Result, TeacherError};

/// Model-selection criterion for the number of components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fitness {
    /// Akaike: `−2·n·mean_loglik + 2p` (the reference default).
    Aic,
    /// Bayesian: `−2·n·mean_loglik + p·ln n`.
    Bic,
    /// AIC with the small-sample correction `2p(p+1)/(n−p−1)`.
    Aicc,
}

impl Gmm {
    /// Free parameters: `k·D(D+1)/2` covariance + `k·D` mean + `k − 1` weight parameters.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.n_components(), self.dim);
        k * d * (d + 1) / 2 + k * d + k - 1
    }

    /// Akaike information criterion on `data` (sklearn's `aic`).
    pub fn aic(&self, data: &[f64]) -> f64 {
        self.criterion(Fitness::Aic, data)
    }

    /// Bayesian information criterion on `data` (sklearn's `bic`).
    pub fn bic(&self, data: &[f64]) -> f64 {
        self.criterion(Fitness::Bic, data)
    }

    /// The chosen criterion on `data` (lower is better). AICc is `+∞` when `n ≤ p + 1`.
    pub fn criterion(&self, fitness: Fitness, data: &[f64]) -> f64 {
        self.criterion_from_score(fitness, self.score(data), data.len() / self.dim)
    }

    /// The criterion from an already computed mean log-likelihood on `n` rows.
    fn criterion_from_score(&self, fitness: Fitness, score: f64, n: usize) -> f64 {
        let n = n as f64;
        let p = self.n_parameters() as f64;
        let aic = -2.0 * score * n + 2.0 * p;
        match fitness {
            Fitness::Aic => aic,
            Fitness::Bic => -2.0 * score * n + p * libm::log(n),
            Fitness::Aicc if n > p + 1.0 => aic + 2.0 * p * (p + 1.0) / (n - p - 1.0),
            Fitness::Aicc => f64::INFINITY,
        }
    }
}

/// Result of [`fit_best`]: the selected mixture and the criterion of every candidate.
#[derive(Debug, Clone)]
pub struct ModelSelection {
    /// The mixture with the lowest criterion.
    pub best: Gmm,
    /// `(k, criterion)` for every `k` that could be fitted, in increasing `k`.
    pub scores: Vec<(usize, f64)>,
}

/// Fits one mixture per `k` in `ks` (each from a k-means seeded by `seed`, as sklearn with
/// `random_state = seed`, so a fit depends only on its data) and keeps the lowest `fitness`.
/// Candidates with more components than points, or whose fit fails, are skipped.
///
/// # Errors
/// [`TeacherError::GmmFit`] when no candidate could be fitted.
pub fn fit_best(
    data: &[f64],
    dim: usize,
    ks: std::ops::RangeInclusive<usize>,
    config: &GmmConfig,
    fitness: Fitness,
    seed: u64,
) -> Result<ModelSelection> {
    let n = data.len().checked_div(dim).unwrap_or(0);
    let candidates: Vec<usize> = ks.clone().filter(|&k| k != 0 && k <= n).collect();
    // Each candidate depends only on (data, k, config, seed): fitting them on several threads and
    // merging in increasing k gives the very same selection, bit for bit, as the serial loop.
    let fit_one = |k: usize| -> Result<(f64, Gmm)> {
        let mut rng = Pcg64::seed_from_u64(seed);
        let gmm = Gmm::fit(data, dim, k, config, &mut rng)?;
        Ok((gmm.criterion_from_score(fitness, gmm.score(data), n), gmm))
    };
    let threads = config.resolved_fit_threads().min(candidates.len()).max(1);
    let results: Vec<Result<(f64, Gmm)>> = if threads == 1 {
        candidates.iter().map(|&k| fit_one(k)).collect()
    } else {
        // The cost grows with k: deal the candidates out in a snake order (0, 1, …, t−1, t−1, …,
        // 0, 0, 1, …) so that every thread gets a similar total of k.
        let owner = |i: usize| {
            let (round, pos) = (i / threads, i % threads);
            if round % 2 == 0 {
                pos
            } else {
                threads - 1 - pos
            }
        };
        let mut slots: Vec<Option<Result<(f64, Gmm)>>> = candidates.iter().map(|_| None).collect();
        std::thread::scope(|scope| {
            let fit_one = &fit_one;
            let owner = &owner;
            let candidates = &candidates;
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        (0..candidates.len())
                            .filter(|&i| owner(i) == t)
                            .map(|i| (i, fit_one(candidates[i])))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                // A fit never panics on finite data; should one, re-raise it on this thread.
                let done = handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                for (i, result) in done {
                    slots[i] = Some(result);
                }
            }
        });
        slots
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| unreachable!("every candidate is assigned")))
            .collect()
    };
    let mut best: Option<(f64, Gmm)> = None;
    let mut scores = Vec::with_capacity(candidates.len());
    let mut last_error = None;
    for (&k, result) in candidates.iter().zip(results) {
        match result {
            Ok((score, gmm)) => {
                scores.push((k, score));
                if best.as_ref().is_none_or(|(s, _)| score < *s) {
                    best = Some((score, gmm));
                }
            }
            Err(e) => last_error = Some(e),
        }
    }
    match best {
        Some((_, best)) => Ok(ModelSelection { best, scores }),
        None => Err(last_error.unwrap_or_else(|| TeacherError::GmmFit {
            k: *ks.start(),
            reason: format!("no k in {ks:?} fits {n} points"),
        })),
    }
}

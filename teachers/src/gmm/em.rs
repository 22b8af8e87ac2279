//! EM for mixtures of any dimension: the E-step (responsibilities and mean log-likelihood), the
//! M-step (weights, means, covariances and their Cholesky factors) and the loop between them.
//! It is the reference the specialised `D ≤ 4` path (`fixed.rs`) is tested against.

use super::numerics::{
    cholesky, exp_nonpositive, invert_lower_triangular, ln_positive, log_sum_exp, LN_2PI,
};
use super::{Gmm, GmmConfig, MASS_FLOOR};
use crate::{Result, TeacherError};

impl Gmm {
    /// [`Gmm::em_from_labels`] for any dimension (the reference for the specialised paths).
    pub(super) fn em_general(
        data: &[f64],
        dim: usize,
        k: usize,
        labels: &[usize],
        config: &GmmConfig,
        work: &mut Workspace,
    ) -> Result<Self> {
        let fail = |reason: String| TeacherError::GmmFit { k, reason };
        {
            work.resp.fill(0.0);
            for (i, &l) in labels.iter().enumerate() {
                work.resp[i * k + l] = 1.0;
            }
            let mut gmm = Gmm::zeros(dim, k);
            gmm.m_step(
                data,
                &work.resp,
                &mut work.masses,
                &mut work.diff,
                config.reg_covar,
            )
            .map_err(|c| fail(singular(c)))?;
            let mut lower_bound = f64::NEG_INFINITY;
            for iter in 1..=config.max_iter {
                let previous = lower_bound;
                lower_bound = gmm.e_step(data, work);
                gmm.m_step(
                    data,
                    &work.resp,
                    &mut work.masses,
                    &mut work.diff,
                    config.reg_covar,
                )
                .map_err(|c| fail(singular(c)))?;
                gmm.n_iter = iter;
                if (lower_bound - previous).abs() < config.tol {
                    gmm.converged = true;
                    break;
                }
            }
            Ok(gmm)
        }
    }

    /// [`Gmm::log_density`] with a caller-provided scratch of length `D + k`.
    pub(super) fn log_density_with(&self, x: &[f64], scratch: &mut [f64]) -> f64 {
        let (diff, log_probs) = scratch.split_at_mut(self.dim);
        for (c, lp) in log_probs.iter_mut().enumerate() {
            *lp = libm::log(self.weights[c]) + self.component_log_density(c, x, diff);
        }
        log_sum_exp(log_probs)
    }

    /// [`Gmm::score`] for any dimension (the reference for the specialised paths).
    pub(super) fn score_general(&self, data: &[f64]) -> f64 {
        let n = data.len() / self.dim;
        let mut scratch = vec![0.0; self.dim + self.n_components()];
        data.chunks_exact(self.dim)
            .map(|x| self.log_density_with(x, &mut scratch))
            .sum::<f64>()
            / n as f64
    }

    /// `log N(x | μ_c, Σ_c)`, using `diff` (length `D`) as scratch.
    fn component_log_density(&self, c: usize, x: &[f64], diff: &mut [f64]) -> f64 {
        let d = self.dim;
        let p = &self.precision_cholesky[c * d * d..(c + 1) * d * d];
        let mu = &self.means[c * d..(c + 1) * d];
        for j in 0..d {
            diff[j] = x[j] - mu[j];
        }
        // z = L⁻¹ (x − μ), |z|² = Mahalanobis distance².
        let mut norm2 = 0.0;
        for i in 0..d {
            let row = &p[i * d..i * d + i + 1];
            let z: f64 = row.iter().zip(&diff[..=i]).map(|(a, b)| a * b).sum();
            norm2 += z * z;
        }
        -0.5 * (d as f64 * LN_2PI + norm2) - self.half_log_dets[c]
    }

    /// E-step: fills `work.resp` with responsibilities, returns the mean log-likelihood.
    fn e_step(&self, data: &[f64], work: &mut Workspace) -> f64 {
        let k = self.n_components();
        work.log_weights.clear();
        work.log_weights
            .extend(self.weights.iter().map(|&w| libm::log(w)));
        let mut total = 0.0;
        for (i, x) in data.chunks_exact(self.dim).enumerate() {
            let row = &mut work.resp[i * k..(i + 1) * k];
            let mut max = f64::NEG_INFINITY;
            for c in 0..k {
                row[c] = work.log_weights[c] + self.component_log_density(c, x, &mut work.z);
                max = max.max(row[c]);
            }
            // One exp per entry: the shifted exponentials are both the log-sum-exp terms and
            // the unnormalised responsibilities.
            let mut sum = 0.0;
            for r in row.iter_mut() {
                *r = exp_nonpositive(*r - max);
                sum += *r;
            }
            let inv = 1.0 / sum;
            for r in row.iter_mut() {
                *r *= inv;
            }
            total += max + ln_positive(sum);
        }
        total / (data.len() / self.dim) as f64
    }

    /// M-step from responsibilities (`masses`, `diff`: scratch of length `k` and `D`); `Err(c)`
    /// names a component whose covariance is singular.
    fn m_step(
        &mut self,
        data: &[f64],
        resp: &[f64],
        masses: &mut [f64],
        diff: &mut [f64],
        reg_covar: f64,
    ) -> std::result::Result<(), usize> {
        let (k, d) = (self.n_components(), self.dim);
        let n = data.len() / d;
        masses.fill(MASS_FLOOR);
        self.means.fill(0.0);
        self.covariances.fill(0.0);
        for (i, x) in data.chunks_exact(d).enumerate() {
            for c in 0..k {
                let r = resp[i * k + c];
                masses[c] += r;
                for j in 0..d {
                    self.means[c * d + j] += r * x[j];
                }
            }
        }
        for c in 0..k {
            for j in 0..d {
                self.means[c * d + j] /= masses[c];
            }
        }
        for (i, x) in data.chunks_exact(d).enumerate() {
            for c in 0..k {
                let r = resp[i * k + c];
                if r == 0.0 {
                    continue;
                }
                for j in 0..d {
                    diff[j] = x[j] - self.means[c * d + j];
                }
                let cov = &mut self.covariances[c * d * d..(c + 1) * d * d];
                for a in 0..d {
                    let ra = r * diff[a];
                    for b in 0..=a {
                        cov[a * d + b] += ra * diff[b];
                    }
                }
            }
        }
        let total_mass: f64 = masses.iter().sum();
        for c in 0..k {
            self.weights[c] = masses[c] / total_mass;
            let cov = &mut self.covariances[c * d * d..(c + 1) * d * d];
            for a in 0..d {
                for b in 0..=a {
                    let v = cov[a * d + b] / masses[c];
                    cov[a * d + b] = v;
                    cov[b * d + a] = v;
                }
                cov[a * d + a] += reg_covar;
            }
            let l = &mut self.cholesky[c * d * d..(c + 1) * d * d];
            self.half_log_dets[c] = cholesky(cov, d, l).ok_or(c)?;
            invert_lower_triangular(
                l,
                d,
                &mut self.precision_cholesky[c * d * d..(c + 1) * d * d],
            );
        }
        let _ = n;
        Ok(())
    }
}

pub(super) fn singular(c: usize) -> String {
    format!("covariance of component {c} is not positive definite (increase reg_covar)")
}

/// Scratch buffers reused across EM iterations.
pub(super) struct Workspace {
    resp: Vec<f64>,
    z: Vec<f64>,
    log_weights: Vec<f64>,
    masses: Vec<f64>,
    diff: Vec<f64>,
}

impl Workspace {
    pub(super) fn new(n: usize, d: usize, k: usize) -> Self {
        Self {
            resp: vec![0.0; n * k],
            z: vec![0.0; d],
            log_weights: Vec::with_capacity(k),
            masses: vec![0.0; k],
            diff: vec![0.0; d],
        }
    }
}

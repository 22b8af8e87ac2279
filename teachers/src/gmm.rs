//! Full-covariance Gaussian mixtures fitted by EM, with scikit-learn's `GaussianMixture`
//! semantics: k-means++ / Lloyd initialisation (`init_params="kmeans"`), `reg_covar` added to
//! every covariance diagonal, convergence when the mean log-likelihood changes by less than
//! `tol`, at most `max_iter` iterations, and AIC/BIC counting `k·D(D+1)/2 + k·D + k − 1`
//! free parameters. ALP-GMM and Covar-GMM fit one mixture per candidate `k` and keep the best.
//!
//! Data are row-major `n × D` slices of `f64`. Dimensions are small (D ≤ ~16), so the linear
//! algebra is a hand-written Cholesky on flat buffers, with no allocation inside EM iterations.
//! For `D ≤ 4` (ALP-GMM's (task, ALP) rows) EM, scoring and k-means run a copy specialised at
//! compile time (fixed-size arrays, component-major responsibilities, points in SIMD lanes with
//! one partial sum per lane) that agrees with the general path to rounding
//! (`tests::specialised_dimensions_agree_with_the_general_path`). Both paths use the same
//! vectorisable `exp` (within 2 ulp of libm's) and only IEEE additions and multiplications in a
//! fixed order, so a fit is bit-for-bit reproducible on any machine and SIMD width.

// Index loops over flat row-major matrices read closer to the maths than iterator chains.
#![allow(clippy::needless_range_loop)]

#[cfg(test)]
use std::f64::consts::PI;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::{Result, TeacherError};

/// Default convergence threshold on the change of mean log-likelihood (sklearn's `tol`).
pub const DEFAULT_GMM_TOL: f64 = 1e-3;
/// Default non-negative regularisation added to covariance diagonals (sklearn's `reg_covar`).
pub const DEFAULT_GMM_REG_COVAR: f64 = 1e-6;
/// Largest dimension with a compile-time specialised EM / k-means (ALP-GMM's (task, ALP) rows).
const MAX_FIXED_DIM: usize = 4;
/// Default maximum number of EM iterations (sklearn's `max_iter`).
pub const DEFAULT_GMM_MAX_ITER: usize = 100;
/// Default number of EM restarts per `k`, the best kept (sklearn's `n_init`; ALP-GMM's `nb_em_init`).
pub const DEFAULT_GMM_N_INIT: usize = 1;
/// Maximum Lloyd iterations of the k-means initialisation (sklearn's `KMeans.max_iter`).
const KMEANS_MAX_ITER: usize = 300;
/// k-means tolerance, relative to the mean per-feature variance (sklearn's `KMeans.tol`).
const KMEANS_RELATIVE_TOL: f64 = 1e-4;
/// sklearn adds `10 · eps` to component masses so an empty component never divides by zero.
const MASS_FLOOR: f64 = 10.0 * f64::EPSILON;

/// EM settings. Defaults are sklearn's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GmmConfig {
    /// Stop when the mean log-likelihood improves by less than this. Default: [`DEFAULT_GMM_TOL`].
    pub tol: f64,
    /// Added to each covariance diagonal. Default: [`DEFAULT_GMM_REG_COVAR`].
    pub reg_covar: f64,
    /// Maximum EM iterations. Default: [`DEFAULT_GMM_MAX_ITER`].
    pub max_iter: usize,
    /// EM restarts per fit, best log-likelihood kept. Default: [`DEFAULT_GMM_N_INIT`].
    pub n_init: usize,
    /// Threads [`fit_best`] may use to fit the candidate `k`s concurrently; `0` = the machine's
    /// available parallelism. A pure speed knob: every candidate is fitted from its own seeded
    /// RNG and the selection is merged in increasing `k`, so the result is bit-for-bit the same
    /// for any value. Default: 0.
    pub fit_threads: usize,
}

impl Default for GmmConfig {
    fn default() -> Self {
        Self {
            tol: DEFAULT_GMM_TOL,
            reg_covar: DEFAULT_GMM_REG_COVAR,
            max_iter: DEFAULT_GMM_MAX_ITER,
            n_init: DEFAULT_GMM_N_INIT,
            fit_threads: 0,
        }
    }
}

impl GmmConfig {
    /// `fit_threads`, with `0` resolved to the machine's available parallelism.
    pub fn resolved_fit_threads(&self) -> usize {
        match self.fit_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Checks the values (`prefix` names the config field in errors).
    ///
    /// # Errors
    /// [`TeacherError::Core`] with `InvalidConfig` for a non-positive `tol`, a negative
    /// `reg_covar`, or zero `max_iter` / `n_init`.
    pub fn validate(&self, prefix: &str) -> Result<()> {
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(TeacherError::config(
                format!("{prefix}.tol"),
                format!("must be > 0, got {}", self.tol),
            ));
        }
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return Err(TeacherError::config(
                format!("{prefix}.reg_covar"),
                format!("must be >= 0, got {}", self.reg_covar),
            ));
        }
        if self.max_iter == 0 || self.n_init == 0 {
            return Err(TeacherError::config(
                format!("{prefix}.max_iter / n_init"),
                "must be >= 1".to_string(),
            ));
        }
        Ok(())
    }
}

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

/// A fitted mixture of `k` full-covariance Gaussians in `D` dimensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gmm {
    dim: usize,
    weights: Vec<f64>,
    /// `k × D`, row-major.
    means: Vec<f64>,
    /// `k × D × D`, row-major.
    covariances: Vec<f64>,
    /// Lower Cholesky factors of the covariances, `k × D × D`.
    cholesky: Vec<f64>,
    /// `L_c⁻¹` (lower triangular, sklearn's `precisions_cholesky_` transposed): densities need
    /// only multiplications.
    precision_cholesky: Vec<f64>,
    /// `Σ log diag(L_c)` = half the log-determinant of each covariance.
    half_log_dets: Vec<f64>,
    n_iter: usize,
    converged: bool,
}

impl Gmm {
    /// Fits a `k`-component mixture to `data` (`n × dim`, row-major), restarting `n_init` times
    /// from k-means++ seeded by `rng` and keeping the best mean log-likelihood.
    ///
    /// # Errors
    /// [`TeacherError::GmmFit`] when `dim == 0`, `k == 0`, `data` is not a whole number of rows,
    /// has fewer rows than `k` or non-finite values, or a covariance is not positive definite.
    pub fn fit<R: Rng + ?Sized>(
        data: &[f64],
        dim: usize,
        k: usize,
        config: &GmmConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let fail = |reason: String| TeacherError::GmmFit { k, reason };
        if dim == 0 || k == 0 {
            return Err(fail(format!("need dim >= 1 and k >= 1 (dim = {dim})")));
        }
        if data.len() % dim != 0 {
            return Err(fail(format!(
                "{} values are not a whole number of {dim}-dimensional rows",
                data.len()
            )));
        }
        let n = data.len() / dim;
        if n < k {
            return Err(fail(format!("only {n} points")));
        }
        if let Some(v) = data.iter().find(|v| !v.is_finite()) {
            return Err(fail(format!("data contain a non-finite value ({v})")));
        }
        let mut best: Option<(f64, Gmm)> = None;
        // Only the general-dimension path needs the scratch buffers.
        let mut work = (dim > MAX_FIXED_DIM).then(|| Workspace::new(n, dim, k));
        for _ in 0..config.n_init.max(1) {
            let labels = kmeans_labels(data, dim, k, rng);
            let gmm = Self::em_from_labels(data, dim, k, &labels, config, work.as_mut())?;
            let score = if config.n_init > 1 {
                gmm.score(data)
            } else {
                0.0
            };
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, gmm));
            }
        }
        best.map(|(_, g)| g).ok_or_else(|| fail("no EM run".into()))
    }

    /// Runs EM from a given hard assignment (`labels[i] < k`), skipping the k-means step: lets
    /// tests start from exactly the initialisation another implementation used.
    ///
    /// # Errors
    /// As [`Gmm::fit`], plus a label `>= k` or a label count that differs from the row count.
    pub fn fit_from_labels(
        data: &[f64],
        dim: usize,
        k: usize,
        labels: &[usize],
        config: &GmmConfig,
    ) -> Result<Self> {
        let fail = |reason: String| TeacherError::GmmFit { k, reason };
        if dim == 0 || k == 0 || data.len() % dim != 0 || labels.len() != data.len() / dim {
            return Err(fail(format!(
                "{} labels for {} values of dimension {dim}",
                labels.len(),
                data.len()
            )));
        }
        if labels.iter().any(|&l| l >= k) || data.iter().any(|v| !v.is_finite()) {
            return Err(fail("label >= k or non-finite data".into()));
        }
        Self::em_from_labels(data, dim, k, labels, config, None)
    }

    fn em_from_labels(
        data: &[f64],
        dim: usize,
        k: usize,
        labels: &[usize],
        config: &GmmConfig,
        work: Option<&mut Workspace>,
    ) -> Result<Self> {
        // Small dimensions (ALP-GMM's (task, ALP) vectors) take a path specialised at compile
        // time; it performs the very same floating-point operations in the same order.
        match dim {
            1 => return em_fixed::<1>(data, k, labels, config),
            2 => return em_fixed::<2>(data, k, labels, config),
            3 => return em_fixed::<3>(data, k, labels, config),
            4 => return em_fixed::<4>(data, k, labels, config),
            _ => {}
        }
        match work {
            Some(work) => Self::em_general(data, dim, k, labels, config, work),
            None => {
                let mut work = Workspace::new(labels.len(), dim, k);
                Self::em_general(data, dim, k, labels, config, &mut work)
            }
        }
    }

    /// [`Gmm::em_from_labels`] for any dimension (the reference for the specialised paths).
    fn em_general(
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

    fn zeros(dim: usize, k: usize) -> Self {
        Gmm {
            dim,
            weights: vec![0.0; k],
            means: vec![0.0; k * dim],
            covariances: vec![0.0; k * dim * dim],
            cholesky: vec![0.0; k * dim * dim],
            precision_cholesky: vec![0.0; k * dim * dim],
            half_log_dets: vec![0.0; k],
            n_iter: 0,
            converged: false,
        }
    }

    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.weights.len()
    }
    /// Dimension of the data.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// Mixture weights (sum to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// Mean of component `c`.
    ///
    /// # Panics
    /// If `c >= n_components()`.
    pub fn mean(&self, c: usize) -> &[f64] {
        &self.means[c * self.dim..(c + 1) * self.dim]
    }
    /// Covariance of component `c`, `D × D` row-major.
    ///
    /// # Panics
    /// If `c >= n_components()`.
    pub fn covariance(&self, c: usize) -> &[f64] {
        let dd = self.dim * self.dim;
        &self.covariances[c * dd..(c + 1) * dd]
    }
    /// EM iterations run by the kept restart.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }
    /// Whether EM met the tolerance before `max_iter`.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Free parameters: `k·D(D+1)/2` covariance + `k·D` mean + `k − 1` weight parameters.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.n_components(), self.dim);
        k * d * (d + 1) / 2 + k * d + k - 1
    }

    /// Log-density of the mixture at `x` (length `D`).
    pub fn log_density(&self, x: &[f64]) -> f64 {
        let mut scratch = vec![0.0; self.dim + self.n_components()];
        self.log_density_with(x, &mut scratch)
    }

    /// [`Gmm::log_density`] with a caller-provided scratch of length `D + k`.
    fn log_density_with(&self, x: &[f64], scratch: &mut [f64]) -> f64 {
        let (diff, log_probs) = scratch.split_at_mut(self.dim);
        for (c, lp) in log_probs.iter_mut().enumerate() {
            *lp = self.weights[c].ln() + self.component_log_density(c, x, diff);
        }
        log_sum_exp(log_probs)
    }

    /// Mean log-likelihood per row of `data` (sklearn's `score`).
    pub fn score(&self, data: &[f64]) -> f64 {
        let n = data.len() / self.dim;
        if n == 0 {
            return f64::NAN;
        }
        match self.dim {
            1 => return score_fixed::<1>(self, data),
            2 => return score_fixed::<2>(self, data),
            3 => return score_fixed::<3>(self, data),
            4 => return score_fixed::<4>(self, data),
            _ => {}
        }
        self.score_general(data)
    }

    /// [`Gmm::score`] for any dimension (the reference for the specialised paths).
    fn score_general(&self, data: &[f64]) -> f64 {
        let n = data.len() / self.dim;
        let mut scratch = vec![0.0; self.dim + self.n_components()];
        data.chunks_exact(self.dim)
            .map(|x| self.log_density_with(x, &mut scratch))
            .sum::<f64>()
            / n as f64
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
            Fitness::Bic => -2.0 * score * n + p * n.ln(),
            Fitness::Aicc if n > p + 1.0 => aic + 2.0 * p * (p + 1.0) / (n - p - 1.0),
            Fitness::Aicc => f64::INFINITY,
        }
    }

    /// A draw from component `c` (`μ_c + L_c z`, `z ~ N(0, I)`).
    ///
    /// # Panics
    /// If `c >= n_components()`.
    pub fn sample_component<R: Rng + ?Sized>(&self, c: usize, rng: &mut R) -> Vec<f64> {
        let d = self.dim;
        let z: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let l = &self.cholesky[c * d * d..(c + 1) * d * d];
        (0..d)
            .map(|i| self.means[c * d + i] + (0..=i).map(|j| l[i * d + j] * z[j]).sum::<f64>())
            .collect()
    }

    /// Checks internal consistency (used when restoring a checkpoint).
    pub(crate) fn is_consistent(&self) -> bool {
        let k = self.weights.len();
        let d = self.dim;
        k > 0
            && d > 0
            && self.means.len() == k * d
            && self.covariances.len() == k * d * d
            && self.cholesky.len() == k * d * d
            && self.precision_cholesky.len() == k * d * d
            && self.half_log_dets.len() == k
            && self
                .weights
                .iter()
                .chain(&self.means)
                .chain(&self.cholesky)
                .chain(&self.precision_cholesky)
                .chain(&self.half_log_dets)
                .all(|v| v.is_finite())
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
        work.log_weights.extend(self.weights.iter().map(|w| w.ln()));
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
fn exp_nonpositive(v: f64) -> f64 {
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
fn ln_positive(s: f64) -> f64 {
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

/// [`em_fixed_kernel`] compiled for AVX2 when the CPU has it (twice the SIMD width of the
/// x86-64 baseline). The kernels use only IEEE additions, multiplications and divisions in an
/// order fixed by [`LANES`] (never fused multiply-adds), so both builds give the same bits.
fn em_fixed<const D: usize>(
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
fn score_fixed<const D: usize>(gmm: &Gmm, data: &[f64]) -> f64 {
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
const LANES: usize = 4;

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
fn lane_sum(v: [f64; LANES]) -> f64 {
    (v[0] + v[1]) + (v[2] + v[3])
}

/// [`Gmm::em_general`] specialised to dimension `D`: the same algorithm with fixed-size arrays,
/// responsibilities stored component-major (`k × stride`, `stride` = `n` rounded up to
/// [`LANES`], padding responsibilities 0), and sums over points accumulated per lane. Results
/// agree with the general path to rounding (the summation order differs;
/// `tests::specialised_dimensions_agree_with_the_general_path`).
#[inline(always)]
fn em_fixed_kernel<const D: usize>(
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
fn score_fixed_kernel<const D: usize>(gmm: &Gmm, data: &[f64]) -> f64 {
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
/// maximum is not finite contributes that maximum (as [`log_sum_exp`]). `rows`: scratch of
/// length `2 · stride`.
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
        let log_weight = gmm.weights[c].ln();
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

fn singular(c: usize) -> String {
    format!("covariance of component {c} is not positive definite (increase reg_covar)")
}

/// `ln(2π)`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Scratch buffers reused across EM iterations.
struct Workspace {
    resp: Vec<f64>,
    z: Vec<f64>,
    log_weights: Vec<f64>,
    masses: Vec<f64>,
    diff: Vec<f64>,
}

impl Workspace {
    fn new(n: usize, d: usize, k: usize) -> Self {
        Self {
            resp: vec![0.0; n * k],
            z: vec![0.0; d],
            log_weights: Vec::with_capacity(k),
            masses: vec![0.0; k],
            diff: vec![0.0; d],
        }
    }
}

/// Lower Cholesky factor of the symmetric `d × d` matrix `a` into `l`; returns
/// `Σ log diag(l)`, or `None` when `a` is not positive definite.
fn cholesky(a: &[f64], d: usize, l: &mut [f64]) -> Option<f64> {
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
                half_log_det += root.ln();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(half_log_det)
}

/// Inverse of the lower-triangular `l` (positive diagonal) into `inv`, by forward substitution
/// on the identity's columns.
fn invert_lower_triangular(l: &[f64], d: usize, inv: &mut [f64]) {
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

fn log_sum_exp(values: &[f64]) -> f64 {
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

#[inline(always)]
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// k-means labels as sklearn's `KMeans(n_init=1)`: greedy k-means++ seeding with
/// `2 + ⌊ln k⌋` local trials, then Lloyd iterations until the labels stop changing or the
/// centres move less than `1e-4 ×` the mean feature variance; empty clusters are re-seeded with
/// the points farthest from their centres.
fn kmeans_labels<R: Rng + ?Sized>(data: &[f64], d: usize, k: usize, rng: &mut R) -> Vec<usize> {
    // Small dimensions get their own (identical, fully unrolled) copy of the algorithm.
    match d {
        1 => kmeans_labels_fixed::<1, R>(data, k, rng),
        2 => kmeans_labels_fixed::<2, R>(data, k, rng),
        3 => kmeans_labels_fixed::<3, R>(data, k, rng),
        4 => kmeans_labels_fixed::<4, R>(data, k, rng),
        _ => kmeans_labels_impl::<0, R>(data, d, k, rng),
    }
}

/// [`kmeans_labels_impl`] for `D ≥ 1`, compiled for AVX2 when the CPU has it (same bits, see
/// [`em_fixed`]).
fn kmeans_labels_fixed<const D: usize, R: Rng + ?Sized>(
    data: &[f64],
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { kmeans_labels_avx2::<D, R>(data, k, rng) };
    }
    kmeans_labels_impl::<D, R>(data, D, k, rng)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn kmeans_labels_avx2<const D: usize, R: Rng + ?Sized>(
    data: &[f64],
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    kmeans_labels_impl::<D, R>(data, D, k, rng)
}

/// Sum of `values` with one partial sum per lane (`i mod LANES`) combined as [`lane_sum`]: a
/// vectorisable order that is the same on any SIMD width.
#[inline(always)]
fn lane_sum_slice(values: &[f64]) -> f64 {
    let mut lanes = [0.0; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for l in 0..LANES {
            lanes[l] += chunk[l];
        }
    }
    for (l, &v) in chunks.remainder().iter().enumerate() {
        lanes[l] += v;
    }
    lane_sum(lanes)
}

/// Nearest centre (first on ties) and its squared distance, for every row (`D = 0`: any
/// dimension `d`; otherwise `d == D`, and rows go [`LANES`] at a time, centres in the inner loop).
#[inline(always)]
fn kmeans_assign<const D: usize>(
    data: &[f64],
    d: usize,
    k: usize,
    centres: &[f64],
    labels: &mut [usize],
    dists: &mut [f64],
) {
    let mut done = 0;
    if D > 0 {
        let groups = data
            .chunks_exact(D * LANES)
            .zip(labels.chunks_exact_mut(LANES))
            .zip(dists.chunks_exact_mut(LANES));
        for ((x, label), dist_out) in groups {
            let mut best_dist = [f64::INFINITY; LANES];
            let mut best_centre = [0usize; LANES];
            for (c, centre) in centres.chunks_exact(D).take(k).enumerate() {
                for l in 0..LANES {
                    let mut dist = 0.0;
                    for j in 0..D {
                        let gap = x[l * D + j] - centre[j];
                        dist += gap * gap;
                    }
                    if dist < best_dist[l] {
                        best_dist[l] = dist;
                        best_centre[l] = c;
                    }
                }
            }
            label.copy_from_slice(&best_centre);
            dist_out.copy_from_slice(&best_dist);
            done += LANES;
        }
    }
    let rest = data[done * d..]
        .chunks_exact(d)
        .zip(&mut labels[done..])
        .zip(&mut dists[done..]);
    for ((x, label), dist_out) in rest {
        let mut best = (f64::INFINITY, 0);
        for c in 0..k {
            let dist = squared_distance(x, &centres[c * d..(c + 1) * d]);
            if dist < best.0 {
                best = (dist, c);
            }
        }
        *label = best.1;
        *dist_out = best.0;
    }
}

/// [`kmeans_labels`] for `D`-dimensional rows (`D = 0`: any dimension, `dim`).
#[inline(always)]
fn kmeans_labels_impl<const D: usize, R: Rng + ?Sized>(
    data: &[f64],
    dim: usize,
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    let d = if D == 0 { dim } else { D };
    let n = data.len() / d;
    let row = |i: usize| &data[i * d..(i + 1) * d];
    // Tolerance scaled by the data's spread, as sklearn.
    let mut variance_sum = 0.0;
    for j in 0..d {
        let mean = (0..n).map(|i| data[i * d + j]).sum::<f64>() / n as f64;
        variance_sum += (0..n)
            .map(|i| (data[i * d + j] - mean).powi(2))
            .sum::<f64>()
            / n as f64;
    }
    let tol = KMEANS_RELATIVE_TOL * variance_sum / d as f64;

    // The rows as fixed-size arrays when `D` is known, so the seeding's distance loop (the
    // bulk of it) unrolls and vectorises.
    let fixed_rows: Vec<[f64; D]> = if D > 0 {
        data.chunks_exact(D)
            .map(|r| std::array::from_fn(|j| r[j]))
            .collect()
    } else {
        Vec::new()
    };

    // k-means++ seeding.
    let mut centres = vec![0.0; k * d];
    let first = rng.random_range(0..n);
    centres[..d].copy_from_slice(row(first));
    let mut closest: Vec<f64> = if D > 0 {
        let centre = fixed_rows[first];
        fixed_rows
            .iter()
            .map(|x| squared_distance(x, &centre))
            .collect()
    } else {
        (0..n)
            .map(|i| squared_distance(row(i), row(first)))
            .collect()
    };
    let local_trials = 2 + (k as f64).ln() as usize;
    let mut candidate_dists = vec![0.0; n];
    let mut best_dists = vec![0.0; n];
    for c in 1..k {
        let potential = lane_sum_slice(&closest);
        let mut best_candidate = 0;
        let mut best_potential = f64::INFINITY;
        for _ in 0..local_trials {
            let candidate = if potential > 0.0 {
                let target = rng.random::<f64>() * potential;
                let mut cumulative = 0.0;
                let mut pick = n - 1;
                for (i, &v) in closest.iter().enumerate() {
                    cumulative += v;
                    if cumulative > target {
                        pick = i;
                        break;
                    }
                }
                pick
            } else {
                // All points coincide with chosen centres: any point will do.
                rng.random_range(0..n)
            };
            // A comparison rather than `f64::min` (whose NaN rule blocks vectorisation):
            // distances between finite points are never NaN.
            if D > 0 {
                let centre = fixed_rows[candidate];
                let rows = fixed_rows.iter().zip(&closest).zip(&mut candidate_dists);
                for ((x, &current), out) in rows {
                    let mut dist = 0.0;
                    for j in 0..D {
                        let gap = x[j] - centre[j];
                        dist += gap * gap;
                    }
                    *out = if dist < current { dist } else { current };
                }
            } else {
                for i in 0..n {
                    let dist = squared_distance(row(i), row(candidate));
                    candidate_dists[i] = if dist < closest[i] { dist } else { closest[i] };
                }
            }
            let candidate_potential = lane_sum_slice(&candidate_dists);
            if candidate_potential < best_potential {
                best_potential = candidate_potential;
                best_candidate = candidate;
                best_dists.copy_from_slice(&candidate_dists);
            }
        }
        centres[c * d..(c + 1) * d].copy_from_slice(row(best_candidate));
        closest.copy_from_slice(&best_dists);
    }

    // Lloyd iterations.
    let mut labels = vec![0usize; n];
    let mut dists = vec![0.0; n];
    kmeans_assign::<D>(data, d, k, &centres, &mut labels, &mut dists);
    let mut new_centres = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    let mut new_labels = vec![0usize; n];
    for _ in 0..KMEANS_MAX_ITER {
        new_centres.fill(0.0);
        counts.fill(0);
        if D > 0 {
            for (x, &c) in fixed_rows.iter().zip(&labels) {
                counts[c] += 1;
                let centre = &mut new_centres[c * D..(c + 1) * D];
                for j in 0..D {
                    centre[j] += x[j];
                }
            }
        } else {
            for i in 0..n {
                let c = labels[i];
                counts[c] += 1;
                for j in 0..d {
                    new_centres[c * d + j] += data[i * d + j];
                }
            }
        }
        // Re-seed empty clusters with the farthest points, largest distance first.
        if counts.contains(&0) {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
            let mut far = order.into_iter();
            for c in 0..k {
                if counts[c] == 0 {
                    if let Some(p) = far.next() {
                        let old = labels[p];
                        if counts[old] > 1 {
                            counts[old] -= 1;
                            for j in 0..d {
                                new_centres[old * d + j] -= data[p * d + j];
                            }
                        }
                        counts[c] = 1;
                        new_centres[c * d..(c + 1) * d].copy_from_slice(row(p));
                        labels[p] = c;
                    }
                }
            }
        }
        let mut shift = 0.0;
        for c in 0..k {
            if counts[c] > 0 {
                for j in 0..d {
                    new_centres[c * d + j] /= counts[c] as f64;
                }
            }
            shift += squared_distance(
                &centres[c * d..(c + 1) * d],
                &new_centres[c * d..(c + 1) * d],
            );
        }
        std::mem::swap(&mut centres, &mut new_centres);
        kmeans_assign::<D>(data, d, k, &centres, &mut new_labels, &mut dists);
        let unchanged = new_labels == labels;
        std::mem::swap(&mut labels, &mut new_labels);
        if unchanged || shift <= tol {
            break;
        }
    }
    labels
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Points around `centres` with per-axis std `spread`, deterministic.
    pub(crate) fn blobs(centres: &[[f64; 3]], per_blob: usize, spread: f64, seed: u64) -> Vec<f64> {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut data = Vec::new();
        for _ in 0..per_blob {
            for c in centres {
                for &m in c {
                    let z: f64 = rng.sample(StandardNormal);
                    data.push(m + spread * z);
                }
            }
        }
        data
    }

    #[test]
    fn fast_exp_is_within_two_ulp_of_libm() {
        assert_eq!(exp_nonpositive(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp_nonpositive(-746.0), 0.0);
        assert_eq!(exp_nonpositive(-1e300), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
        let mut rng = Pcg64::seed_from_u64(3);
        let mut worst_ulp = 0.0f64;
        // Dense near 0 (where responsibilities live) and across the whole normal range.
        let draws = (0..200_000).map(|i| {
            let u: f64 = rng.random();
            if i % 2 == 0 {
                -40.0 * u
            } else {
                -708.0 * u
            }
        });
        for v in draws.chain([-1e-300, -1e-17, -0.5 * std::f64::consts::LN_2, -708.39]) {
            let (ours, libm) = (exp_nonpositive(v), v.exp());
            let ulp = f64::from_bits(libm.to_bits() + 1) - libm;
            worst_ulp = worst_ulp.max((ours - libm).abs() / ulp);
        }
        assert!(worst_ulp <= 2.0, "worst error {worst_ulp} ulp");
        // Subnormal results are flushed to zero; the smallest normal ones are kept.
        assert_eq!(exp_nonpositive(-708.4), 0.0);
        assert!(exp_nonpositive(-708.39) >= f64::MIN_POSITIVE);
    }

    #[test]
    fn fast_ln_is_within_four_ulp_of_libm() {
        assert_eq!(ln_positive(1.0), 0.0);
        let mut rng = Pcg64::seed_from_u64(4);
        let mut worst_ulp = 0.0f64;
        // Sums of exponentials lie in [1, k]; also check far beyond, both sides of √2 and 1.
        let draws = (0..200_000).map(|i| {
            let u: f64 = rng.random();
            match i % 3 {
                0 => 1.0 + 15.0 * u,
                1 => 1.0 + 1e-6 * u,
                _ => (700.0 * (2.0 * u - 1.0)).exp(),
            }
        });
        for s in draws.chain([std::f64::consts::SQRT_2, 2.0, 1.0 + f64::EPSILON, 1e300]) {
            let (ours, libm) = (ln_positive(s), s.ln());
            let ulp = f64::from_bits(libm.abs().to_bits() + 1) - libm.abs();
            worst_ulp = worst_ulp.max((ours - libm).abs() / ulp);
        }
        assert!(worst_ulp <= 4.0, "worst error {worst_ulp} ulp");
    }

    #[test]
    fn cholesky_matches_hand_computation() {
        // [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt(2)]].
        let mut l = [0.0; 4];
        let hld = cholesky(&[4.0, 2.0, 2.0, 3.0], 2, &mut l).unwrap();
        assert!((l[0] - 2.0).abs() < 1e-12 && (l[2] - 1.0).abs() < 1e-12);
        assert!((l[3] - 2f64.sqrt()).abs() < 1e-12 && l[1] == 0.0);
        assert!((hld - 0.5 * 8f64.ln()).abs() < 1e-12);
        let mut inv = [0.0; 4];
        invert_lower_triangular(&l, 2, &mut inv);
        // L · L⁻¹ = I.
        let prod = [
            l[0] * inv[0],
            0.0,
            l[2] * inv[0] + l[3] * inv[2],
            l[3] * inv[3],
        ];
        for (p, e) in prod.iter().zip([1.0, 0.0, 0.0, 1.0]) {
            assert!((p - e).abs() < 1e-12);
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2, &mut l).is_none());
    }

    #[test]
    fn specialised_dimensions_agree_with_the_general_path() {
        let values = |g: &Gmm| {
            g.weights
                .iter()
                .chain(&g.means)
                .chain(&g.covariances)
                .chain(&g.cholesky)
                .chain(&g.precision_cholesky)
                .chain(&g.half_log_dets)
                .copied()
                .collect::<Vec<_>>()
        };
        // The specialised kernels sum over points in SIMD lanes, the general path point by
        // point: the same EM up to rounding.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        let cfg = GmmConfig::default();
        // 5 runs the general path on both sides (and the dimension-generic k-means).
        for dim in 1..=5 {
            for seed in 0..3 {
                let mut rng = Pcg64::seed_from_u64(seed);
                let n = 60 + 30 * seed as usize;
                // Clustered data with one near-constant coordinate (like ALP-GMM's zero ALPs).
                let data: Vec<f64> = (0..n * dim)
                    .map(|v| {
                        let (i, j) = (v / dim, v % dim);
                        let z: f64 = rng.sample(StandardNormal);
                        if j == dim - 1 && dim > 1 && i % 2 == 0 {
                            0.0
                        } else {
                            (i % 3) as f64 * 2.0 + 0.3 * z
                        }
                    })
                    .collect();
                for k in 1..=7 {
                    let labels = kmeans_labels(&data, dim, k, &mut rng);
                    let mut work = Workspace::new(n, dim, k);
                    let general = Gmm::em_general(&data, dim, k, &labels, &cfg, &mut work).unwrap();
                    let fast = Gmm::fit_from_labels(&data, dim, k, &labels, &cfg).unwrap();
                    let (g, f) = (values(&general), values(&fast));
                    assert_eq!(g.len(), f.len());
                    for (a, b) in g.iter().zip(&f) {
                        assert!(close(*a, *b), "dim {dim} k {k} seed {seed}: {a} vs {b}");
                    }
                    assert_eq!(
                        (general.n_iter, general.converged),
                        (fast.n_iter, fast.converged)
                    );
                    assert!(close(general.score_general(&data), fast.score(&data)));
                }
            }
        }
    }

    /// The AVX2 build of the kernels must give the very bits of the baseline (SSE2) build, so a
    /// fit does not depend on the machine it runs on.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernels_match_the_baseline_build_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let bits = |g: &Gmm| {
            g.weights
                .iter()
                .chain(&g.means)
                .chain(&g.covariances)
                .chain(&g.precision_cholesky)
                .chain(&g.half_log_dets)
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        let cfg = GmmConfig::default();
        for seed in 0..4 {
            // 3 + seed rows off a multiple of LANES, so the padded block is exercised too.
            let data = blobs(
                &[[0.0; 3], [2.0, 0.5, 0.0], [0.0, 2.0, 1e-4]],
                50,
                0.4,
                seed,
            );
            let data = &data[..data.len() - 3 * (seed as usize % 4)];
            for k in 1..=9 {
                let mut rng = Pcg64::seed_from_u64(seed);
                let labels = kmeans_labels_impl::<3, _>(data, 3, k, &mut rng);
                let mut rng = Pcg64::seed_from_u64(seed);
                assert_eq!(
                    labels,
                    kmeans_labels(data, 3, k, &mut rng),
                    "k-means, k {k}"
                );
                let baseline = em_fixed_kernel::<3>(data, k, &labels, &cfg).unwrap();
                let dispatched = em_fixed::<3>(data, k, &labels, &cfg).unwrap();
                assert_eq!(bits(&baseline), bits(&dispatched), "seed {seed} k {k}");
                assert_eq!(baseline.n_iter, dispatched.n_iter);
                assert_eq!(
                    score_fixed_kernel::<3>(&baseline, data).to_bits(),
                    score_fixed::<3>(&baseline, data).to_bits()
                );
            }
        }
    }

    #[test]
    fn single_gaussian_is_the_sample_mean_and_covariance() {
        let data = [0.0, 0.0, 2.0, 0.0, 0.0, 4.0, 2.0, 4.0];
        let g = Gmm::fit(
            &data,
            2,
            1,
            &GmmConfig::default(),
            &mut Pcg64::seed_from_u64(0),
        )
        .unwrap();
        assert!((g.mean(0)[0] - 1.0).abs() < 1e-12 && (g.mean(0)[1] - 2.0).abs() < 1e-12);
        let cov = g.covariance(0);
        assert!((cov[0] - (1.0 + 1e-6)).abs() < 1e-9 && (cov[3] - (4.0 + 1e-6)).abs() < 1e-9);
        assert!(cov[1].abs() < 1e-12);
        // log N at the mean of a diagonal Gaussian with variances 1 and 4.
        let expected = -0.5 * (2.0 * (2.0 * PI).ln()) - 0.5 * (1.0f64 * 4.0).ln();
        assert!((g.log_density(&[1.0, 2.0]) - expected).abs() < 1e-5);
        assert_eq!(g.n_parameters(), 2 + 3);
    }

    #[test]
    fn recovers_known_clusters() {
        let centres = [[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 5.0, 5.0]];
        let data = blobs(&centres, 60, 0.3, 1);
        let g = Gmm::fit(
            &data,
            3,
            3,
            &GmmConfig::default(),
            &mut Pcg64::seed_from_u64(2),
        )
        .unwrap();
        assert!(g.converged());
        for c in &centres {
            let found = (0..3).any(|j| squared_distance(g.mean(j), c) < 0.1 * 0.1 * 3.0);
            assert!(found, "centre {c:?} not recovered: {:?}", g.means);
        }
        for &w in g.weights() {
            assert!((w - 1.0 / 3.0).abs() < 0.01);
        }
    }

    #[test]
    fn aic_picks_the_true_k_on_clean_data() {
        let centres = [
            [0.0, 0.0, 0.0],
            [6.0, 0.0, 0.0],
            [0.0, 6.0, 0.0],
            [0.0, 0.0, 6.0],
        ];
        for seed in 0..4 {
            let data = blobs(&centres, 50, 0.5, 10 + seed);
            let sel = fit_best(&data, 3, 2..=9, &GmmConfig::default(), Fitness::Aic, seed).unwrap();
            assert_eq!(sel.best.n_components(), 4, "scores {:?}", sel.scores);
            let sel = fit_best(&data, 3, 2..=9, &GmmConfig::default(), Fitness::Bic, seed).unwrap();
            assert_eq!(sel.best.n_components(), 4);
        }
    }

    #[test]
    fn parallel_fits_select_exactly_what_the_serial_loop_selects() {
        let data = blobs(&[[0.0; 3], [3.0, 0.0, 1.0], [0.0, 3.0, 2.0]], 50, 0.6, 11);
        let serial = GmmConfig {
            fit_threads: 1,
            ..GmmConfig::default()
        };
        let a = fit_best(&data, 3, 1..=9, &serial, Fitness::Aic, 5).unwrap();
        for threads in [0, 2, 3, 16] {
            let cfg = GmmConfig {
                fit_threads: threads,
                ..GmmConfig::default()
            };
            let b = fit_best(&data, 3, 1..=9, &cfg, Fitness::Aic, 5).unwrap();
            assert_eq!(a.best, b.best, "{threads} threads");
            let bits =
                |s: &[(usize, f64)]| s.iter().map(|&(k, v)| (k, v.to_bits())).collect::<Vec<_>>();
            assert_eq!(bits(&a.scores), bits(&b.scores), "{threads} threads");
        }
    }

    #[test]
    fn fit_is_deterministic_and_rejects_bad_data() {
        let data = blobs(&[[0.0; 3], [3.0; 3]], 40, 0.5, 3);
        let a = fit_best(&data, 3, 2..=5, &GmmConfig::default(), Fitness::Aic, 7).unwrap();
        let b = fit_best(&data, 3, 2..=5, &GmmConfig::default(), Fitness::Aic, 7).unwrap();
        assert_eq!(a.best, b.best);
        let cfg = GmmConfig::default();
        let mut rng = Pcg64::seed_from_u64(0);
        assert!(matches!(
            Gmm::fit(&data[..6], 3, 3, &cfg, &mut rng),
            Err(TeacherError::GmmFit { k: 3, .. })
        ));
        assert!(Gmm::fit(&data[..7], 3, 1, &cfg, &mut rng).is_err());
        let mut bad = data.clone();
        bad[4] = f64::NAN;
        assert!(Gmm::fit(&bad, 3, 2, &cfg, &mut rng).is_err());
        // Identical points: reg_covar keeps the covariance positive definite.
        let same = vec![1.0; 30];
        assert!(Gmm::fit(&same, 3, 2, &cfg, &mut rng).is_ok());
    }

    #[test]
    fn samples_follow_the_component() {
        let data = blobs(&[[1.0, -2.0, 3.0]], 300, 0.5, 4);
        let g = Gmm::fit(
            &data,
            3,
            1,
            &GmmConfig::default(),
            &mut Pcg64::seed_from_u64(0),
        )
        .unwrap();
        let mut rng = Pcg64::seed_from_u64(9);
        let n = 20_000;
        let mut mean = [0.0; 3];
        for _ in 0..n {
            let x = g.sample_component(0, &mut rng);
            for j in 0..3 {
                mean[j] += x[j] / n as f64;
            }
        }
        for j in 0..3 {
            assert!((mean[j] - g.mean(0)[j]).abs() < 0.02, "{mean:?}");
        }
    }
}

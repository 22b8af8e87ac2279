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
//!
//! The module reads top to bottom: settings ([`GmmConfig`]), the fitted mixture ([`Gmm`]) and
//! its public operations (fit, density, score, sampling). The machinery sits beside it:
//!
//! - `kmeans.rs`: the k-means++ / Lloyd initialisation;
//! - `em.rs`: EM for any dimension (the reference path);
//! - `fixed.rs`: the same EM and scoring specialised at compile time for `D ≤ 4`;
//! - `numerics.rs`: the shared numerical kernels (vectorisable `exp`/`ln`, Cholesky);
//! - `select.rs`: model selection over the number of components ([`Fitness`], [`fit_best`]).

// Index loops over flat row-major matrices read closer to the maths than iterator chains.
#![allow(clippy::needless_range_loop)]

mod em;
mod fixed;
mod kmeans;
mod numerics;
mod select;
#[cfg(test)]
mod tests;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;

use self::em::Workspace;
use self::fixed::{em_fixed, score_fixed};
use self::kmeans::kmeans_labels;
pub use self::select::{fit_best, Fitness, ModelSelection};
use crate::{Result, TeacherError};

/// Default convergence threshold on the change of mean log-likelihood (sklearn's `tol`).
pub const DEFAULT_GMM_TOL: f64 = 1e-3;
/// Default non-negative regularisation added to covariance diagonals (sklearn's `reg_covar`).
pub const DEFAULT_GMM_REG_COVAR: f64 = 1e-6;
/// Default maximum number of EM iterations (sklearn's `max_iter`).
pub const DEFAULT_GMM_MAX_ITER: usize = 100;
/// Default number of EM restarts per `k`, the best kept (sklearn's `n_init`; ALP-GMM's `nb_em_init`).
pub const DEFAULT_GMM_N_INIT: usize = 1;
/// Largest `max_iter`: ten times sklearn's default.
pub const MAX_GMM_MAX_ITER: usize = 1000;
/// Largest `n_init`.
pub const MAX_GMM_N_INIT: usize = 20;
/// sklearn adds `10 · eps` to component masses so an empty component never divides by zero.
const MASS_FLOOR: f64 = 10.0 * f64::EPSILON;
/// Largest dimension with a compile-time specialised EM / k-means (ALP-GMM's (task, ALP) rows).
const MAX_FIXED_DIM: usize = 4;

/// EM settings. Defaults are sklearn's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GmmConfig {
    /// Stop when the mean log-likelihood improves by less than this. Default: [`DEFAULT_GMM_TOL`].
    pub tol: f64,
    /// Added to each covariance diagonal. Default: [`DEFAULT_GMM_REG_COVAR`].
    pub reg_covar: f64,
    /// Maximum EM iterations, `1..=MAX_GMM_MAX_ITER`. Default: [`DEFAULT_GMM_MAX_ITER`].
    pub max_iter: usize,
    /// EM restarts per fit, best log-likelihood kept, `1..=MAX_GMM_N_INIT`. Default:
    /// [`DEFAULT_GMM_N_INIT`].
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
    /// `reg_covar`, or `max_iter` / `n_init` outside their range.
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
        for (field, value, max) in [
            ("max_iter", self.max_iter, MAX_GMM_MAX_ITER),
            ("n_init", self.n_init, MAX_GMM_N_INIT),
        ] {
            if !(1..=max).contains(&value) {
                return Err(TeacherError::config(
                    format!("{prefix}.{field}"),
                    format!("must be in 1..={max}, got {value}"),
                ));
            }
        }
        Ok(())
    }
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

    /// A mixture from its parts (as stored in a classroom's ALP-GMM history): `weights` (`k`),
    /// `means` (`k × dim`, row-major) and `covariances` (`k × dim × dim`, row-major, symmetric
    /// positive definite). The Cholesky factors are recomputed.
    ///
    /// # Errors
    /// [`TeacherError::GmmFit`] for mismatched lengths, non-finite values, or a covariance that
    /// is not positive definite.
    pub fn from_parts(
        dim: usize,
        weights: Vec<f64>,
        means: Vec<f64>,
        covariances: Vec<f64>,
    ) -> Result<Self> {
        let k = weights.len();
        let fail = |reason: String| TeacherError::GmmFit { k, reason };
        if dim == 0 || k == 0 || means.len() != k * dim || covariances.len() != k * dim * dim {
            return Err(fail(format!(
                "{k} weights, {} mean values and {} covariance values do not make {k} \
                 components of dimension {dim}",
                means.len(),
                covariances.len()
            )));
        }
        if let Some(v) = weights
            .iter()
            .chain(&means)
            .chain(&covariances)
            .find(|v| !v.is_finite())
        {
            return Err(fail(format!("a part is not finite ({v})")));
        }
        let mut gmm = Self::zeros(dim, k);
        gmm.weights = weights;
        gmm.means = means;
        gmm.covariances = covariances;
        let dd = dim * dim;
        for c in 0..k {
            let cov = &gmm.covariances[c * dd..(c + 1) * dd];
            let l = &mut gmm.cholesky[c * dd..(c + 1) * dd];
            gmm.half_log_dets[c] =
                numerics::cholesky(cov, dim, l).ok_or_else(|| fail(em::singular(c)))?;
            numerics::invert_lower_triangular(
                &gmm.cholesky[c * dd..(c + 1) * dd],
                dim,
                &mut gmm.precision_cholesky[c * dd..(c + 1) * dd],
            );
        }
        gmm.converged = true;
        Ok(gmm)
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

    /// Log-density of the mixture at `x` (length `D`).
    pub fn log_density(&self, x: &[f64]) -> f64 {
        let mut scratch = vec![0.0; self.dim + self.n_components()];
        self.log_density_with(x, &mut scratch)
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

    /// A draw from component `c` (`μ_c + L_c z`, `z ~ N(0, I)`).
    ///
    /// # Panics
    /// If `c >= n_components()`.
    pub fn sample_component<R: Rng + ?Sized>(&self, c: usize, rng: &mut R) -> Vec<f64> {
        let d = self.dim;
        let z: Vec<f64> = (0..d).map(|_| standard_normal(rng)).collect();
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
}

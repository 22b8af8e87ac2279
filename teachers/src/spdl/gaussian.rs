//! The full-covariance Gaussian SPDL moves through the task space, parameterised by its mean and
//! the flattened lower triangle of its Cholesky factor `L` (`Σ = L Lᵀ`), the diagonal stored as
//! `log L_ii` and the off-diagonal raw: `θ = [μ₀ … μ_{d−1}, ℓ₀₀, ℓ₁₀, ℓ₁₁, ℓ₂₀, …]` (row-major
//! lower triangle). Every unconstrained `θ` is a valid Gaussian.
//!
//! Log-density, KL divergence, their gradients in `θ` and the Fisher-vector product are closed
//! forms (no autodiff), followed by the one natural-gradient step SPDL takes per update
//! ([`natural_gradient_step`]). Matrices are dense, row-major `d × d` `Vec<f64>`s; `d` is small
//! (a task space), so the `O(d³)` products cost nothing next to an episode.

// Index loops over triangular matrices mirror the formulas (`L_ij`, `j < i`) better than
// iterator chains.
#![allow(clippy::needless_range_loop)]

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_core::random::standard_normal;

/// `ln(2π)`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// A Gaussian with full covariance in the Cholesky parameterisation: mean, then the lower
/// triangle of `L` (`Σ = L Lᵀ`), row-major, `log L_ii` on the diagonal, raw below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CholeskyGaussian {
    mean: Vec<f64>,
    /// Lower triangle of `L`, row-major, `log` on the diagonal: `d(d+1)/2` values.
    chol: Vec<f64>,
}

/// Index of `(i, j)`, `j ≤ i`, in the flattened lower triangle.
fn tri(i: usize, j: usize) -> usize {
    i * (i + 1) / 2 + j
}

impl CholeskyGaussian {
    /// A Gaussian with independent dimensions: `mean`, standard deviations `std` (all > 0).
    pub fn diagonal(mean: Vec<f64>, std: &[f64]) -> Self {
        let d = mean.len();
        let mut chol = vec![0.0; d * (d + 1) / 2];
        for (i, &s) in std.iter().enumerate() {
            chol[tri(i, i)] = libm::log(s);
        }
        Self { mean, chol }
    }

    /// The Gaussian of parameter vector `params` (length `d + d(d+1)/2`) in `d` dimensions.
    pub fn from_params(d: usize, params: &[f64]) -> Self {
        debug_assert_eq!(params.len(), Self::param_count(d));
        Self {
            mean: params[..d].to_vec(),
            chol: params[d..].to_vec(),
        }
    }

    /// Number of parameters of a `d`-dimensional Gaussian: `d + d(d+1)/2`.
    pub fn param_count(d: usize) -> usize {
        d + d * (d + 1) / 2
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The parameter vector `θ` (mean, then the flattened log-diagonal Cholesky factor).
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.mean.clone();
        p.extend_from_slice(&self.chol);
        p
    }

    /// The mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Whether every parameter is finite and the stored shape is consistent.
    pub fn is_valid(&self) -> bool {
        let d = self.dim();
        self.chol.len() == d * (d + 1) / 2
            && self.mean.iter().chain(&self.chol).all(|v| v.is_finite())
            && (0..d).all(|i| {
                let l = libm::exp(self.chol[tri(i, i)]);
                l > 0.0 && l.is_finite()
            })
    }

    /// The dense Cholesky factor `L` (`d × d`, row-major, zeros above the diagonal).
    pub fn factor(&self) -> Vec<f64> {
        let d = self.dim();
        let mut l = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..i {
                l[i * d + j] = self.chol[tri(i, j)];
            }
            l[i * d + i] = libm::exp(self.chol[tri(i, i)]);
        }
        l
    }

    /// The covariance `Σ = L Lᵀ` (`d × d`, row-major).
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.dim();
        let l = self.factor();
        let mut s = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                s[i * d + j] = (0..=i.min(j)).map(|k| l[i * d + k] * l[j * d + k]).sum();
            }
        }
        s
    }

    /// `ln |L| = Σ log L_ii` (half the log-determinant of `Σ`).
    fn log_det_factor(&self) -> f64 {
        (0..self.dim()).map(|i| self.chol[tri(i, i)]).sum()
    }

    /// One draw `μ + L ε`, `ε ~ N(0, I)` (not clipped).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let d = self.dim();
        let eps: Vec<f64> = (0..d).map(|_| standard_normal(rng)).collect();
        let mut x = self.mean.clone();
        for i in 0..d {
            let mut acc = eps[i] * libm::exp(self.chol[tri(i, i)]);
            for j in 0..i {
                acc += self.chol[tri(i, j)] * eps[j];
            }
            x[i] += acc;
        }
        x
    }

    /// `z = L⁻¹ (x − μ)`.
    fn whiten(&self, l: &[f64], x: &[f64]) -> Vec<f64> {
        let diff: Vec<f64> = x.iter().zip(&self.mean).map(|(a, m)| a - m).collect();
        solve_lower(l, self.dim(), &diff)
    }

    /// `ln p(x)`.
    pub fn log_density(&self, x: &[f64]) -> f64 {
        let l = self.factor();
        self.log_density_with(&l, x)
    }

    fn log_density_with(&self, l: &[f64], x: &[f64]) -> f64 {
        let z = self.whiten(l, x);
        let d = self.dim() as f64;
        -0.5 * d * LN_2PI - self.log_det_factor() - 0.5 * dot(&z, &z)
    }

    /// Adds `weight · ∇_θ ln p(x)` to `grad`.
    ///
    /// With `z = L⁻¹(x − μ)` and `w = L⁻ᵀ z = Σ⁻¹(x − μ)`: `∂/∂μ = w`, `∂/∂L = tril(w zᵀ) −
    /// diag(1/L_ii)`, so `∂/∂ℓ_ij = w_i z_j` off the diagonal and `w_i z_i L_ii − 1` on it.
    fn add_grad_log_density(&self, l: &[f64], x: &[f64], weight: f64, grad: &mut [f64]) {
        let d = self.dim();
        let z = self.whiten(l, x);
        let w = solve_upper_transposed(l, d, &z);
        for i in 0..d {
            grad[i] += weight * w[i];
        }
        for i in 0..d {
            for j in 0..i {
                grad[d + tri(i, j)] += weight * w[i] * z[j];
            }
            grad[d + tri(i, i)] += weight * (w[i] * z[i] * l[i * d + i] - 1.0);
        }
    }

    /// `∇_θ ln p(x)`.
    pub fn grad_log_density(&self, x: &[f64]) -> Vec<f64> {
        let mut grad = vec![0.0; Self::param_count(self.dim())];
        self.add_grad_log_density(&self.factor(), x, 1.0, &mut grad);
        grad
    }

    /// `KL(self ‖ other) = ½ [tr(Σ_o⁻¹ Σ_s) + (μ_o − μ_s)ᵀ Σ_o⁻¹ (μ_o − μ_s) − d + ln|Σ_o| − ln|Σ_s|]`.
    pub fn kl(&self, other: &Self) -> f64 {
        let d = self.dim();
        let (ls, lo) = (self.factor(), other.factor());
        // tr(Σ_o⁻¹ Σ_s) = ‖L_o⁻¹ L_s‖²_F.
        let m = solve_lower_matrix(&lo, d, &ls);
        let trace: f64 = m.iter().map(|v| v * v).sum();
        let diff: Vec<f64> = other
            .mean
            .iter()
            .zip(&self.mean)
            .map(|(a, b)| a - b)
            .collect();
        let z = solve_lower(&lo, d, &diff);
        0.5 * (trace + dot(&z, &z) - d as f64) + other.log_det_factor() - self.log_det_factor()
    }

    /// `∇_θ KL(p_θ ‖ other)` at `θ = self`: `∂/∂μ = Σ_o⁻¹(μ_s − μ_o)`,
    /// `∂/∂L = tril(Σ_o⁻¹ L_s) − diag(1/L_ii)` (diagonal entries times `L_ii` for `ℓ_ii`).
    pub fn grad_kl(&self, other: &Self) -> Vec<f64> {
        let d = self.dim();
        let (ls, lo) = (self.factor(), other.factor());
        let mut grad = vec![0.0; Self::param_count(d)];
        let diff: Vec<f64> = self
            .mean
            .iter()
            .zip(&other.mean)
            .map(|(a, b)| a - b)
            .collect();
        let g_mu = solve_upper_transposed(&lo, d, &solve_lower(&lo, d, &diff));
        grad[..d].copy_from_slice(&g_mu);
        // Σ_o⁻¹ L_s = L_o⁻ᵀ (L_o⁻¹ L_s).
        let m = solve_lower_matrix(&lo, d, &ls);
        let p = solve_upper_transposed_matrix(&lo, d, &m);
        for i in 0..d {
            for j in 0..i {
                grad[d + tri(i, j)] = p[i * d + j];
            }
            let lii = ls[i * d + i];
            grad[d + tri(i, i)] = p[i * d + i] * lii - 1.0;
        }
        grad
    }

    /// The Fisher information of `θ` at `self` applied to `v`: the Hessian of
    /// `θ ↦ KL(self ‖ p_θ)` at `θ = self`, times `v`.
    ///
    /// The KL's gradient vanishes at `θ = self`, so its Hessian is `Jᵀ F J` with `F` the Fisher
    /// metric in `(μ, Σ)`: `dμᵀ Σ⁻¹ dμ + ½ tr(Σ⁻¹ dΣ Σ⁻¹ dΣ)`. With `dL` the direction in `L`
    /// (`dL_ii = L_ii v_ii`), `A = L⁻¹ dL`: the `μ` block is `Σ⁻¹ v_μ` and the `L` block is
    /// `tril(L⁻ᵀ (A + Aᵀ))`, diagonal entries times `L_ii`.
    pub fn fisher_vector_product(&self, v: &[f64]) -> Vec<f64> {
        let d = self.dim();
        let l = self.factor();
        let mut out = vec![0.0; v.len()];
        let f_mu = solve_upper_transposed(&l, d, &solve_lower(&l, d, &v[..d]));
        out[..d].copy_from_slice(&f_mu);
        let mut dl = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..i {
                dl[i * d + j] = v[d + tri(i, j)];
            }
            dl[i * d + i] = l[i * d + i] * v[d + tri(i, i)];
        }
        let a = solve_lower_matrix(&l, d, &dl);
        let mut sym = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                sym[i * d + j] = a[i * d + j] + a[j * d + i];
            }
        }
        let p = solve_upper_transposed_matrix(&l, d, &sym);
        for i in 0..d {
            for j in 0..i {
                out[d + tri(i, j)] = p[i * d + j];
            }
            out[d + tri(i, i)] = p[i * d + i] * l[i * d + i];
        }
        out
    }
}

/// The data of one SPDL update: the contexts, their value estimates, the temperature `α` and the
/// target; the objective is `L(θ) = mean_i[p_θ(c_i)/p_old(c_i) · V_i] − α·KL(p_θ ‖ target)`.
pub(crate) struct SurrogateObjective<'a> {
    pub contexts: &'a [Vec<f64>],
    pub values: &'a [f64],
    pub old_log_density: Vec<f64>,
    pub alpha: f64,
    pub target: &'a CholeskyGaussian,
}

impl<'a> SurrogateObjective<'a> {
    pub(crate) fn new(
        old: &CholeskyGaussian,
        contexts: &'a [Vec<f64>],
        values: &'a [f64],
        alpha: f64,
        target: &'a CholeskyGaussian,
    ) -> Self {
        let l = old.factor();
        let old_log_density = contexts
            .iter()
            .map(|c| old.log_density_with(&l, c))
            .collect();
        Self {
            contexts,
            values,
            old_log_density,
            alpha,
            target,
        }
    }

    /// `L(θ)`.
    pub(crate) fn value(&self, p: &CholeskyGaussian) -> f64 {
        let l = p.factor();
        let n = self.contexts.len() as f64;
        let weighted: f64 = self
            .contexts
            .iter()
            .zip(self.values)
            .zip(&self.old_log_density)
            .map(|((c, v), old)| libm::exp(p.log_density_with(&l, c) - old) * v)
            .sum();
        let kl_term = if self.alpha > 0.0 {
            self.alpha * p.kl(self.target)
        } else {
            0.0
        };
        weighted / n - kl_term
    }

    /// `∇_θ L(θ)` at `θ = p`.
    pub(crate) fn gradient(&self, p: &CholeskyGaussian) -> Vec<f64> {
        let l = p.factor();
        let n = self.contexts.len() as f64;
        let mut grad = vec![0.0; CholeskyGaussian::param_count(p.dim())];
        for ((c, v), old) in self
            .contexts
            .iter()
            .zip(self.values)
            .zip(&self.old_log_density)
        {
            let ratio = libm::exp(p.log_density_with(&l, c) - old);
            p.add_grad_log_density(&l, c, ratio * v / n, &mut grad);
        }
        if self.alpha > 0.0 {
            for (g, k) in grad.iter_mut().zip(p.grad_kl(self.target)) {
                *g -= self.alpha * k;
            }
        }
        grad
    }
}

/// Constants of the natural-gradient step (the SPDL reference's TRPO-style step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepSettings {
    pub max_kl: f64,
    pub cg_iterations: usize,
    pub cg_damping: f64,
    pub cg_residual_tol: f64,
    pub max_halvings: usize,
    pub kl_slack: f64,
    /// Require both conditions (textbook TRPO) instead of the reference's *or*.
    pub require_both: bool,
}

/// What one natural-gradient step did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Whether a step was accepted (`false`: the distribution was rolled back).
    pub accepted: bool,
    /// Halvings of the full step before acceptance (or the number tried when rolled back).
    pub halvings: usize,
    /// `KL(p_old ‖ p_new)` of the accepted step (0 when rolled back).
    pub kl_old_new: f64,
    /// Objective before the step.
    pub objective_before: f64,
    /// Objective after the step (the old one when rolled back).
    pub objective_after: f64,
}

/// One natural-gradient step from `old` on `objective`, constrained by `KL(old ‖ new) ≤ max_kl`.
///
/// Solves `(F + λI) s = ∇L` by conjugate gradient (`cg_iterations`, damping `λ`, stop once
/// `rᵀr < cg_residual_tol`), scales the step to `√(2·max_kl / sᵀ(F + λI)s)` and tries it, then
/// up to `max_halvings` halvings of it: a step is **accepted if `KL(old ‖ new) ≤
/// kl_slack·max_kl` or the objective did not decrease** (the reference's *or*: a step that
/// breaks the KL bound is kept when it improves the objective, and one that worsens the
/// objective is kept when it respects the bound; `require_both` asks for both instead). A step whose objective or KL is not finite is
/// never accepted. When every trial fails, `old` is returned (rollback).
pub(crate) fn natural_gradient_step(
    old: &CholeskyGaussian,
    objective: &SurrogateObjective<'_>,
    settings: &StepSettings,
) -> (CholeskyGaussian, StepReport) {
    let d = old.dim();
    let before = objective.value(old);
    let rollback = |halvings| {
        (
            old.clone(),
            StepReport {
                accepted: false,
                halvings,
                kl_old_new: 0.0,
                objective_before: before,
                objective_after: before,
            },
        )
    };
    let grad = objective.gradient(old);
    let damped = |v: &[f64]| -> Vec<f64> {
        let mut fv = old.fisher_vector_product(v);
        for (f, x) in fv.iter_mut().zip(v) {
            *f += settings.cg_damping * x;
        }
        fv
    };
    let step = conjugate_gradient(
        damped,
        &grad,
        settings.cg_iterations,
        settings.cg_residual_tol,
    );
    let shs = dot(&step, &damped(&step));
    if !(shs.is_finite() && shs > 0.0 && before.is_finite()) {
        return rollback(0);
    }
    let scale = (2.0 * settings.max_kl / shs).sqrt();
    let theta = old.params();
    let mut fraction = 1.0;
    for halvings in 0..=settings.max_halvings {
        let params: Vec<f64> = theta
            .iter()
            .zip(&step)
            .map(|(t, s)| t + fraction * scale * s)
            .collect();
        let candidate = CholeskyGaussian::from_params(d, &params);
        if candidate.is_valid() {
            let kl = old.kl(&candidate);
            let after = objective.value(&candidate);
            let finite = kl.is_finite() && after.is_finite();
            let within = kl <= settings.kl_slack * settings.max_kl;
            let not_worse = after >= before;
            let accept = if settings.require_both {
                within && not_worse
            } else {
                within || not_worse
            };
            if finite && accept {
                return (
                    candidate,
                    StepReport {
                        accepted: true,
                        halvings,
                        kl_old_new: kl,
                        objective_before: before,
                        objective_after: after,
                    },
                );
            }
        }
        fraction *= 0.5;
    }
    rollback(settings.max_halvings)
}

/// Conjugate gradient for `A x = b` with `A` symmetric positive definite given as a product.
fn conjugate_gradient(
    apply: impl Fn(&[f64]) -> Vec<f64>,
    b: &[f64],
    iterations: usize,
    residual_tol: f64,
) -> Vec<f64> {
    let mut x = vec![0.0; b.len()];
    let mut r = b.to_vec();
    let mut p = b.to_vec();
    let mut rr = dot(&r, &r);
    for _ in 0..iterations {
        if rr < residual_tol {
            break;
        }
        let ap = apply(&p);
        let pap = dot(&p, &ap);
        if !(pap.is_finite() && pap > 0.0) {
            break;
        }
        let a = rr / pap;
        for i in 0..x.len() {
            x[i] += a * p[i];
            r[i] -= a * ap[i];
        }
        let rr_new = dot(&r, &r);
        let beta = rr_new / rr;
        for i in 0..p.len() {
            p[i] = r[i] + beta * p[i];
        }
        rr = rr_new;
    }
    x
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `L⁻¹ b` for lower-triangular `L` (forward substitution).
fn solve_lower(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; d];
    for i in 0..d {
        let s: f64 = (0..i).map(|k| l[i * d + k] * x[k]).sum();
        x[i] = (b[i] - s) / l[i * d + i];
    }
    x
}

/// `L⁻ᵀ b` for lower-triangular `L` (back substitution on `Lᵀ`).
fn solve_upper_transposed(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        let s: f64 = (i + 1..d).map(|k| l[k * d + i] * x[k]).sum();
        x[i] = (b[i] - s) / l[i * d + i];
    }
    x
}

/// `L⁻¹ B` column by column (`B` row-major `d × d`).
fn solve_lower_matrix(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    map_columns(d, b, |col| solve_lower(l, d, col))
}

/// `L⁻ᵀ B` column by column.
fn solve_upper_transposed_matrix(l: &[f64], d: usize, b: &[f64]) -> Vec<f64> {
    map_columns(d, b, |col| solve_upper_transposed(l, d, col))
}

fn map_columns(d: usize, b: &[f64], f: impl Fn(&[f64]) -> Vec<f64>) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    let mut col = vec![0.0; d];
    for j in 0..d {
        for i in 0..d {
            col[i] = b[i * d + j];
        }
        for (i, v) in f(&col).into_iter().enumerate() {
            out[i * d + j] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::decision_rng;

    fn random_gaussian(d: usize, seed: u64) -> CholeskyGaussian {
        let mut rng = decision_rng(seed);
        let params: Vec<f64> = (0..CholeskyGaussian::param_count(d))
            .map(|_| 0.5 * standard_normal(&mut rng))
            .collect();
        CholeskyGaussian::from_params(d, &params)
    }

    fn perturbed(g: &CholeskyGaussian, i: usize, h: f64) -> CholeskyGaussian {
        let mut p = g.params();
        p[i] += h;
        CholeskyGaussian::from_params(g.dim(), &p)
    }

    #[test]
    fn log_density_matches_the_dense_formula_and_kl_of_self_is_zero() {
        let g = random_gaussian(3, 1);
        let x = [0.3, -0.2, 1.1];
        // Dense check in 1-D pieces: the diagonal Gaussian.
        let diag = CholeskyGaussian::diagonal(vec![1.0, 2.0], &[0.5, 2.0]);
        let expected = -LN_2PI - libm::log(0.5 * 2.0) - 0.5 * (0.4f64 / 0.5).powi(2);
        assert!((diag.log_density(&[1.4, 2.0]) - expected).abs() < 1e-12);
        assert!(g.kl(&g).abs() < 1e-12);
        assert!(g.kl(&random_gaussian(3, 2)) > 0.0);
        assert!(g.log_density(&x).is_finite());
        // Monte-Carlo KL agrees with the closed form.
        let (p, q) = (random_gaussian(2, 3), random_gaussian(2, 4));
        let mut rng = decision_rng(9);
        let n = 200_000;
        let mc: f64 = (0..n)
            .map(|_| {
                let x = p.sample(&mut rng);
                p.log_density(&x) - q.log_density(&x)
            })
            .sum::<f64>()
            / n as f64;
        let exact = p.kl(&q);
        assert!(
            (mc - exact).abs() < 0.03 * exact.max(1.0),
            "{mc} vs {exact}"
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        let h = 1e-6;
        for d in 1..=3 {
            let p = random_gaussian(d, 10 + d as u64);
            let q = random_gaussian(d, 20 + d as u64);
            let x: Vec<f64> = (0..d).map(|i| 0.3 * i as f64 - 0.1).collect();
            let g_kl = p.grad_kl(&q);
            let g_ld = p.grad_log_density(&x);
            for i in 0..CholeskyGaussian::param_count(d) {
                let (plus, minus) = (perturbed(&p, i, h), perturbed(&p, i, -h));
                let fd_kl = (plus.kl(&q) - minus.kl(&q)) / (2.0 * h);
                let fd_ld = (plus.log_density(&x) - minus.log_density(&x)) / (2.0 * h);
                assert!(
                    (fd_kl - g_kl[i]).abs() < 1e-5 * (1.0 + fd_kl.abs()),
                    "d {d} KL grad {i}: {fd_kl} vs {}",
                    g_kl[i]
                );
                assert!(
                    (fd_ld - g_ld[i]).abs() < 1e-5 * (1.0 + fd_ld.abs()),
                    "d {d} log-density grad {i}: {fd_ld} vs {}",
                    g_ld[i]
                );
            }
        }
    }

    #[test]
    fn fisher_vector_product_is_the_hessian_of_the_kl() {
        let h = 1e-4;
        for d in 1..=3 {
            let p = random_gaussian(d, 30 + d as u64);
            let n = CholeskyGaussian::param_count(d);
            let kl_at = |i: usize, a: f64, j: usize, b: f64| {
                let mut q = p.params();
                q[i] += a;
                q[j] += b;
                p.kl(&CholeskyGaussian::from_params(d, &q))
            };
            for j in 0..n {
                let mut e = vec![0.0; n];
                e[j] = 1.0;
                let column = p.fisher_vector_product(&e);
                for i in 0..n {
                    let fd = (kl_at(i, h, j, h) - kl_at(i, h, j, -h) - kl_at(i, -h, j, h)
                        + kl_at(i, -h, j, -h))
                        / (4.0 * h * h);
                    assert!(
                        (fd - column[i]).abs() < 1e-4 * (1.0 + fd.abs()),
                        "d {d} F[{i},{j}]: {fd} vs {}",
                        column[i]
                    );
                }
            }
        }
    }

    #[test]
    fn objective_gradient_matches_finite_differences() {
        let old = random_gaussian(2, 5);
        let target = random_gaussian(2, 6);
        let contexts: Vec<Vec<f64>> = (0..7).map(|i| vec![0.1 * i as f64, -0.2]).collect();
        let values: Vec<f64> = (0..7).map(|i| 1.0 + i as f64).collect();
        let objective = SurrogateObjective::new(&old, &contexts, &values, 0.7, &target);
        let at = perturbed(&old, 2, 0.05);
        let g = objective.gradient(&at);
        let h = 1e-6;
        for (i, gi) in g.iter().enumerate() {
            let fd = (objective.value(&perturbed(&at, i, h))
                - objective.value(&perturbed(&at, i, -h)))
                / (2.0 * h);
            assert!(
                (fd - gi).abs() < 1e-5 * (1.0 + fd.abs()),
                "{i}: {fd} vs {gi}"
            );
        }
    }

    #[test]
    fn the_natural_gradient_step_moves_towards_value_within_the_kl_bound() {
        let old = CholeskyGaussian::diagonal(vec![0.0, 0.0], &[1.0, 1.0]);
        let target = old.clone();
        let mut rng = decision_rng(3);
        let contexts: Vec<Vec<f64>> = (0..200).map(|_| old.sample(&mut rng)).collect();
        // Value grows with the first coordinate.
        let values: Vec<f64> = contexts.iter().map(|c| 1.0 + c[0].max(-1.0)).collect();
        let objective = SurrogateObjective::new(&old, &contexts, &values, 0.0, &target);
        let settings = StepSettings {
            max_kl: 0.1,
            cg_iterations: 10,
            cg_damping: 1e-2,
            cg_residual_tol: 1e-10,
            max_halvings: 10,
            kl_slack: 1.5,
            require_both: false,
        };
        let (new, report) = natural_gradient_step(&old, &objective, &settings);
        assert!(report.accepted, "{report:?}");
        assert!(new.mean()[0] > 0.1, "{:?}", new.mean());
        assert!(report.kl_old_new <= 1.5 * 0.1, "{report:?}");
        assert!((old.kl(&new) - report.kl_old_new).abs() < 1e-12);
        assert!(report.objective_after > report.objective_before);
    }
}

//! Statistics for the teacher test-bed: mean, sample standard deviation, the one-sided Welch
//! t-test used to claim that one teacher beats another, and Spearman's rank correlation.

/// Arithmetic mean (`NaN` for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (`n − 1` denominator; 0 for fewer than 2 values).
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Result of [`welch_t_test_greater`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchTest {
    /// t statistic.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// One-sided p-value for `mean(a) > mean(b)`.
    pub p_value: f64,
}

/// One-sided Welch t-test of `mean(a) > mean(b)` (unequal variances), as
/// `scipy.stats.ttest_ind(a, b, equal_var=False, alternative="greater")`.
/// Needs at least 2 values per sample; with zero variance in both, `p` is 0 when
/// `mean(a) > mean(b)` and 1 otherwise.
pub fn welch_t_test_greater(a: &[f64], b: &[f64]) -> WelchTest {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (std_dev(a).powi(2) / na, std_dev(b).powi(2) / nb);
    let diff = mean(a) - mean(b);
    if va + vb == 0.0 {
        let p_value = if diff > 0.0 { 0.0 } else { 1.0 };
        return WelchTest {
            t: diff.signum() * f64::INFINITY,
            df: na + nb - 2.0,
            p_value,
        };
    }
    let t = diff / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    WelchTest {
        t,
        df,
        p_value: 1.0 - student_t_cdf(t, df),
    }
}

/// Ranks of `xs` from 0, ties sharing the mean of their ranks (as `scipy.stats.rankdata` minus
/// one); NaN sorts last.
fn average_ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && xs[order[end]] == xs[order[start]] {
            end += 1;
        }
        let rank = (start + end - 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        start = end;
    }
    ranks
}

/// Spearman's rank correlation of `a` and `b` (same length ≥ 2): Pearson's correlation of
/// their average ranks, as `scipy.stats.spearmanr`. NaN when either is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (average_ranks(a), average_ranks(b));
    let (ma, mb) = (mean(&ra), mean(&rb));
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let var_a: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let var_b: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (var_a * var_b).sqrt()
}

/// CDF of Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * regularized_incomplete_beta(0.5 * df, 0.5, x);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        return libm::log(std::f64::consts::PI / libm::sin(std::f64::consts::PI * x))
            - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, &c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * libm::log(2.0 * std::f64::consts::PI) + (x + 0.5) * libm::log(t) - t + libm::log(sum)
}

/// Regularised incomplete beta `I_x(a, b)`, by its continued fraction (modified Lentz).
fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = libm::exp(
        ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * libm::log(x) + b * libm::log(1.0 - x),
    );
    // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=500 {
        let m = m as f64;
        for (i, numerator) in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ]
        .into_iter()
        .enumerate()
        {
            d = 1.0 + numerator * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + numerator / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let delta = c * d;
            h *= delta;
            if i == 1 && (delta - 1.0).abs() < EPS {
                return h;
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_cdf_matches_tables() {
        // scipy.stats.t.cdf values.
        assert!((student_t_cdf(0.0, 5.0) - 0.5).abs() < 1e-12);
        assert!((student_t_cdf(2.015, 5.0) - 0.949_996_913_836_596_8).abs() < 1e-10);
        assert!((student_t_cdf(1.0, 1.0) - 0.75).abs() < 1e-10);
        assert!((student_t_cdf(-2.0, 10.0) - 0.036_694_017).abs() < 1e-7);
        assert!((student_t_cdf(1.96, 1e6) - 0.975_001_966_207_365_1).abs() < 1e-9);
    }

    #[test]
    fn welch_matches_scipy() {
        // scipy.stats.ttest_ind(a, b, equal_var=False, alternative="greater"):
        // t = 3.464101615137755, df = 6.0, p = 0.006699982356165521.
        let a = [4.0, 5.0, 6.0, 5.0];
        let b = [2.0, 3.0, 4.0, 3.0];
        let w = welch_t_test_greater(&a, &b);
        let var = 2.0 / 3.0; // sample variance of [4, 5, 6, 5]
        let t = 2.0 / (2.0 * var / 4.0f64).sqrt();
        assert!((w.t - t).abs() < 1e-12 && (w.df - 6.0).abs() < 1e-12);
        assert!((w.p_value - (1.0 - student_t_cdf(t, 6.0))).abs() < 1e-15);
        assert!((w.t - 3.464_101_615_137_755).abs() < 1e-12);
        assert!((w.p_value - 0.006_699_982_356_165_521).abs() < 1e-10);
        // Unequal sizes and variances: t = 1.7541160386140584, df = 6.349846924575566,
        // p = 0.06360950043083513.
        let w = welch_t_test_greater(&[4.0, 5.0, 6.0, 5.0, 9.0, 1.0], &b);
        assert!((w.t - 1.754_116_038_614_058_4).abs() < 1e-12);
        assert!((w.df - 6.349_846_924_575_566).abs() < 1e-9);
        assert!((w.p_value - 0.063_609_500_430_835_13).abs() < 1e-9);
        assert!(welch_t_test_greater(&b, &a).p_value > 0.99);
        assert_eq!(welch_t_test_greater(&[1.0, 1.0], &[0.0, 0.0]).p_value, 0.0);
        assert!((std_dev(&a) - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn spearman_matches_scipy() {
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic = 0.8207826816681233
        // (the two 7s share rank 3.5).
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]);
        assert!((rho - 0.820_782_681_668_123_3).abs() < 1e-12, "{rho}");
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[30.0, 20.0, 10.0]), -1.0);
        assert_eq!(spearman(&[0.1, 0.5, 0.9], &[1.0, 8.0, 1e9]), 1.0);
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }
}

//! Statistics of a batch: nearest-rank percentiles, means and Wilson score
//! intervals. Pure functions of their inputs, so a batch gives the same
//! numbers whatever the order in which its runs finished.

/// The two-sided 95% normal quantile, z = Φ⁻¹(0.975).
pub const Z95: f64 = 1.959_963_984_540_054;

/// The `p`-th percentile (0 < p ≤ 100, in whole percent) of `sorted`
/// (ascending) by the **nearest-rank** definition: the smallest value `x`
/// such that at least `p`% of the values are ≤ `x`, i.e. the value of rank
/// `⌈p·n/100⌉` (1-based). It is always one of the observed values, so no
/// interpolation (and no floating point) is involved. `None` when empty.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let p = u64::from(p.clamp(1, 100));
    let rank = (p * n).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

/// Arithmetic mean (exact integer sum, one division). `None` when empty.
pub fn mean(values: &[u64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
    Some(sum as f64 / values.len() as f64)
}

/// Wilson score interval for `k` successes in `n` trials at normal quantile
/// `z`: centre `(p̂ + z²/2n) / (1 + z²/n)`, half-width
/// `z / (1 + z²/n) · √(p̂(1−p̂)/n + z²/4n²)`, clamped to [0, 1].
/// `(0, 1)` when `n` is 0.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// `P(B ≤ k)` for every k = 0..=n, B ~ Binomial(n, p), each term from
/// log-gamma (the pure-Rust `libm`, so the same on every platform).
fn binomial_cdf(n: u64, p: f64) -> Vec<f64> {
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let ln_n = libm::lgamma(n as f64 + 1.0);
    let mut acc = 0.0;
    (0..=n)
        .map(|k| {
            let k_f = k as f64;
            let ln_pmf = ln_n - libm::lgamma(k_f + 1.0) - libm::lgamma((n - k) as f64 + 1.0)
                + k_f * ln_p
                + (n - k) as f64 * ln_q;
            acc += ln_pmf.exp();
            acc
        })
        .collect()
}

/// Distribution-free 95% confidence interval for the `p`-th percentile of
/// the population a sample of `n` values came from, by **order
/// statistics**: the 1-based ranks `(l, u)` such that the interval between
/// the l-th and the u-th smallest value covers the true percentile with
/// probability at least 95%. With B ~ Binomial(n, p/100) the number of
/// values at or below the true percentile, the coverage is
/// `P(l ≤ B ≤ u−1)`; `l` is the largest rank with `P(B ≤ l−1) ≤ 2.5%` and
/// `u` the smallest with `P(B ≤ u−1) ≥ 97.5%`. A bound is `None` when the
/// sample is too small to give it (e.g. the upper bound of p99 with fewer
/// than about 370 values).
pub fn percentile_ci_ranks(n: u64, p: u32) -> (Option<u64>, Option<u64>) {
    if n == 0 {
        return (None, None);
    }
    // A report asks for the same (n, p) for every column of every
    // service, and the cdf costs O(n) log-gammas: remember the answers.
    type Ranks = (Option<u64>, Option<u64>);
    thread_local! {
        static KNOWN: std::cell::RefCell<std::collections::BTreeMap<(u64, u32), Ranks>> =
            const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
    }
    if let Some(hit) = KNOWN.with(|k| k.borrow().get(&(n, p)).copied()) {
        return hit;
    }
    let ranks = percentile_ci_ranks_uncached(n, p);
    KNOWN.with(|k| k.borrow_mut().insert((n, p), ranks));
    ranks
}

fn percentile_ci_ranks_uncached(n: u64, p: u32) -> (Option<u64>, Option<u64>) {
    let q = f64::from(p.clamp(1, 99)) / 100.0;
    let cdf = binomial_cdf(n, q);
    // cdf[k] = P(B ≤ k); rank l needs cdf[l-1] ≤ 0.025.
    let lower = (1..=n).rev().find(|&l| cdf[(l - 1) as usize] <= 0.025);
    let upper = (1..=n).find(|&u| cdf[(u - 1) as usize] >= 0.975);
    (lower, upper)
}

/// The values of the order-statistics interval of [`percentile_ci_ranks`]
/// in `sorted` (ascending).
pub fn percentile_ci(sorted: &[u64], p: u32) -> (Option<u64>, Option<u64>) {
    let (l, u) = percentile_ci_ranks(sorted.len() as u64, p);
    (
        l.map(|r| sorted[(r - 1) as usize]),
        u.map(|r| sorted[(r - 1) as usize]),
    )
}

/// Summary of one numeric column: how many runs have a value, the mean and
/// the nearest-rank percentiles the reports show.
#[derive(Debug, Clone, PartialEq)]
pub struct Describe {
    pub n: u64,
    pub mean: Option<f64>,
    pub p5: Option<u64>,
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p95: Option<u64>,
    pub p99: Option<u64>,
    pub max: Option<u64>,
    /// 95% intervals of p50, p95 and p99 ([`percentile_ci`]).
    pub p50_ci: (Option<u64>, Option<u64>),
    pub p95_ci: (Option<u64>, Option<u64>),
    pub p99_ci: (Option<u64>, Option<u64>),
}

impl Describe {
    /// Describes the multiset `t`: the same numbers as [`Describe::of`]
    /// over its values.
    pub fn of_tally(t: &Tally) -> Describe {
        let mut cum = Vec::with_capacity(t.len());
        let (mut n, mut sum) = (0u64, 0u128);
        for (&v, &k) in t {
            if k == 0 {
                continue;
            }
            n += k;
            sum += u128::from(v) * u128::from(k);
            cum.push((n, v));
        }
        if n == 0 {
            return Describe::of(&mut []);
        }
        let pct = |p: u32| {
            let rank = (u64::from(p.clamp(1, 100)) * n).div_ceil(100).max(1);
            Some(at_rank(&cum, rank))
        };
        let ci = |p: u32| {
            let (l, u) = percentile_ci_ranks(n, p);
            (l.map(|r| at_rank(&cum, r)), u.map(|r| at_rank(&cum, r)))
        };
        Describe {
            n,
            mean: Some(sum as f64 / n as f64),
            p5: pct(5),
            p50: pct(50),
            p90: pct(90),
            p95: pct(95),
            p99: pct(99),
            max: cum.last().map(|c| c.1),
            p50_ci: ci(50),
            p95_ci: ci(95),
            p99_ci: ci(99),
        }
    }

    /// Sorts `values` in place and describes them.
    pub fn of(values: &mut [u64]) -> Describe {
        values.sort_unstable();
        Describe {
            n: values.len() as u64,
            mean: mean(values),
            p5: percentile(values, 5),
            p50: percentile(values, 50),
            p90: percentile(values, 90),
            p95: percentile(values, 95),
            p99: percentile(values, 99),
            max: values.last().copied(),
            p50_ci: percentile_ci(values, 50),
            p95_ci: percentile_ci(values, 95),
            p99_ci: percentile_ci(values, 99),
        }
    }
}

/// How many runs had each value: the multiset of a column's values, in
/// ascending order. A batch keeps these instead of its runs, so that its
/// memory grows with the distinct values (a few for fixed latencies, at
/// most one per millisecond of spread), not with the number of runs; the
/// exact nearest-rank percentiles need nothing more.
pub type Tally = std::collections::BTreeMap<u64, u64>;

/// Adds `values` to a tally.
pub fn tally_of(values: impl IntoIterator<Item = u64>) -> Tally {
    let mut t = Tally::new();
    for v in values {
        *t.entry(v).or_insert(0) += 1;
    }
    t
}

/// The value of 1-based `rank` in the sorted multiset `cum` (cumulative
/// count after each value, ascending).
fn at_rank(cum: &[(u64, u64)], rank: u64) -> u64 {
    let i = cum.partition_point(|&(c, _)| c < rank);
    cum[i.min(cum.len() - 1)].1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_by_hand() {
        // n = 10: rank(p) = ceil(p * 10 / 100).
        let v: Vec<u64> = (1..=10).map(|x| x * 10).collect();
        assert_eq!(percentile(&v, 5), Some(10)); // rank ceil(0.5) = 1
        assert_eq!(percentile(&v, 50), Some(50)); // rank 5
        assert_eq!(percentile(&v, 51), Some(60)); // rank ceil(5.1) = 6
        assert_eq!(percentile(&v, 90), Some(90)); // rank 9
        assert_eq!(percentile(&v, 95), Some(100)); // rank ceil(9.5) = 10
        assert_eq!(percentile(&v, 100), Some(100));
        // n = 3: p50 -> rank ceil(1.5) = 2; p99 -> rank ceil(2.97) = 3.
        assert_eq!(percentile(&[7, 8, 9], 50), Some(8));
        assert_eq!(percentile(&[7, 8, 9], 99), Some(9));
        assert_eq!(percentile(&[7, 8, 9], 33), Some(7)); // ceil(0.99) = 1
        assert_eq!(percentile(&[42], 1), Some(42));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn mean_is_exact_for_integers() {
        assert_eq!(mean(&[1, 2, 3, 4]), Some(2.5));
        assert_eq!(mean(&[u64::MAX, u64::MAX]), Some(u64::MAX as f64));
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn wilson_interval_by_hand() {
        // k = 5, n = 10, z = 1.96: p = 0.5, z²/n = 0.38416,
        // centre = (0.5 + 0.19208) / 1.38416 = 0.5,
        // half = 1.96 / 1.38416 * sqrt(0.025 + 0.0096040) = 0.263410...
        let (lo, hi) = wilson(5, 10, 1.96);
        assert!((lo - 0.236_590).abs() < 1e-5, "{lo}");
        assert!((hi - 0.763_410).abs() < 1e-5, "{hi}");
        // k = 0, n = 10: centre = 0.19208 / 1.38416 = 0.138770,
        // half = 1.416021 * sqrt(0.009604) = 0.138770 -> [0, 0.277540].
        let (lo, hi) = wilson(0, 10, 1.96);
        assert!(lo.abs() < 1e-12, "{lo}");
        assert!((hi - 0.277_540).abs() < 1e-5, "{hi}");
        // k = n = 100 with Z95: upper bound 1, lower 100/(100+z²) = 0.963007.
        let (lo, hi) = wilson(100, 100, Z95);
        assert!((lo - 0.963_007).abs() < 1e-5, "{lo}");
        assert!((hi - 1.0).abs() < 1e-12);
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
    }

    #[test]
    fn percentile_intervals_by_order_statistics_by_hand() {
        // n = 10, median: P(B <= 1) = 11/1024 = 0.0107 <= 0.025 < P(B <= 2)
        // = 56/1024, so l = 2; P(B <= 7) = 968/1024 = 0.945 < 0.975 <=
        // P(B <= 8) = 1013/1024, so u = 9: (x(2), x(9)), coverage 97.9%.
        assert_eq!(percentile_ci_ranks(10, 50), (Some(2), Some(9)));
        let v: Vec<u64> = (1..=10).map(|x| x * 10).collect();
        assert_eq!(percentile_ci(&v, 50), (Some(20), Some(90)));
        // Too few values: with n = 5, P(B <= 0) = 1/32 > 0.025, no lower
        // bound; P(B <= 4) = 31/32 < 0.975... u = 5 needs P(B <= 4) >= 0.975.
        assert_eq!(percentile_ci_ranks(5, 50), (None, None));
        // p99 of 200 values: the upper bound would be beyond the maximum.
        assert_eq!(percentile_ci_ranks(200, 99).1, None);
        // A large sample: ranks near n*p -/+ 1.96*sqrt(n p (1-p)).
        let (l, u) = percentile_ci_ranks(10_000, 95);
        let (l, u) = (l.unwrap() as f64, u.unwrap() as f64);
        let half = 1.96 * (10_000.0_f64 * 0.95 * 0.05).sqrt();
        assert!((l - (9500.0 - half)).abs() <= 2.0, "{l}");
        assert!((u - (9500.0 + half)).abs() <= 2.0, "{u}");
        assert_eq!(percentile_ci(&[], 50), (None, None));
    }

    #[test]
    fn a_tally_describes_like_its_values() {
        // Repeated values, ranks falling inside runs of equal values, and
        // enough of them for every interval bound.
        let mut v: Vec<u64> = (0..2_000u64).map(|i| (i * 7919) % 613 / 10).collect();
        let t = tally_of(v.iter().copied());
        assert_eq!(Describe::of_tally(&t), Describe::of(&mut v));
        assert_eq!(Describe::of_tally(&Tally::new()), Describe::of(&mut []));
        let mut one = vec![42];
        assert_eq!(Describe::of_tally(&tally_of([42])), Describe::of(&mut one));
    }

    #[test]
    fn describe_sorts_and_summarises() {
        let mut v = vec![30, 10, 20];
        let d = Describe::of(&mut v);
        assert_eq!(d.n, 3);
        assert_eq!(d.mean, Some(20.0));
        assert_eq!((d.p5, d.p50, d.max), (Some(10), Some(20), Some(30)));
    }
}

//! `swarmsim calibrate TRACE...`: fits each image's profile (pull, start,
//! stop, crash_after latencies; failed-start and unhealthy rates) from
//! traces written by `swarmsim record` (or `swarmsim conform`), and writes
//! it as a scenario `images:` block.
//!
//! Per latency, every family the scenario format supports is fitted by
//! maximum likelihood (uniform: min/max; normal: mean/sd; lognormal: mean
//! and sd of the logs; exponential: mean; weibull: Newton's method on the
//! shape equation), and the family closest to the samples by the
//! Kolmogorov–Smirnov distance D is kept (families within 0.02 of the
//! closest are decided by the lower AIC, 2k − 2 ln L), with D and the
//! asymptotic p-value as a YAML comment. When even that family is rejected
//! (p < 0.05 with at least 8 samples) the samples are written as an
//! `empirical` distribution instead; with fewer than 3 samples, or all
//! equal, the median as a fixed value. The p-values are optimistic: the
//! parameters come from the same samples (Lilliefors).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::error::unexpected;
use super::measure::{Samples, samples};
use super::record::Recording;
use crate::docker::duration::format_go_duration;

/// A fitted distribution over seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Fit {
    Fixed(f64),
    Uniform { min: f64, max: f64 },
    Normal { mean: f64, sd: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Exponential { mean: f64 },
    Weibull { scale: f64, shape: f64 },
    Empirical(Vec<f64>),
}

/// z of the 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874_040_841;

fn phi(z: f64) -> f64 {
    0.5 * (1.0 + libm::erf(z / std::f64::consts::SQRT_2))
}

impl Fit {
    pub fn family(&self) -> &'static str {
        match self {
            Fit::Fixed(_) => "fixed",
            Fit::Uniform { .. } => "uniform",
            Fit::Normal { .. } => "normal",
            Fit::LogNormal { .. } => "lognormal",
            Fit::Exponential { .. } => "exponential",
            Fit::Weibull { .. } => "weibull",
            Fit::Empirical(_) => "empirical",
        }
    }

    fn params(&self) -> usize {
        match self {
            Fit::Fixed(_) | Fit::Empirical(_) => 0,
            Fit::Exponential { .. } => 1,
            _ => 2,
        }
    }

    /// Cumulative distribution at `x` seconds.
    pub fn cdf(&self, x: f64) -> f64 {
        match *self {
            Fit::Fixed(v) => f64::from(u8::from(x >= v)),
            Fit::Uniform { min, max } => ((x - min) / (max - min)).clamp(0.0, 1.0),
            Fit::Normal { mean, sd } => phi((x - mean) / sd),
            Fit::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    0.0
                } else {
                    phi((x.ln() - mu) / sigma)
                }
            }
            Fit::Exponential { mean } => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0 - (-x / mean).exp()
                }
            }
            Fit::Weibull { scale, shape } => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0 - (-(x / scale).powf(shape)).exp()
                }
            }
            Fit::Empirical(ref v) => {
                v.iter().filter(|&&s| s <= x).count() as f64 / v.len().max(1) as f64
            }
        }
    }

    /// Log-likelihood of the samples (−∞ where one has density 0).
    fn log_likelihood(&self, xs: &[f64]) -> f64 {
        let ln_pdf = |x: f64| -> f64 {
            match *self {
                Fit::Uniform { min, max } => {
                    if x < min || x > max {
                        f64::NEG_INFINITY
                    } else {
                        -(max - min).ln()
                    }
                }
                Fit::Normal { mean, sd } => {
                    let z = (x - mean) / sd;
                    -0.5 * z * z - sd.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
                }
                Fit::LogNormal { mu, sigma } => {
                    let z = (x.ln() - mu) / sigma;
                    -0.5 * z * z - (x * sigma).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
                }
                Fit::Exponential { mean } => -mean.ln() - x / mean,
                Fit::Weibull { scale, shape } => {
                    shape.ln() - scale.ln() + (shape - 1.0) * (x / scale).ln()
                        - (x / scale).powf(shape)
                }
                Fit::Fixed(_) | Fit::Empirical(_) => 0.0,
            }
        };
        xs.iter().map(|&x| ln_pdf(x)).sum()
    }

    /// The scenario YAML value (durations rounded to the millisecond).
    pub fn yaml(&self) -> String {
        let d = |s: f64| format_go_duration(((s.max(0.0) * 1e3).round() * 1e6) as i64);
        match self {
            Fit::Fixed(v) => d(*v),
            Fit::Uniform { min, max } => {
                format!("{{dist: uniform, min: {}, max: {}}}", d(*min), d(*max))
            }
            Fit::Normal { mean, sd } => {
                format!("{{dist: normal, mean: {}, stddev: {}}}", d(*mean), d(*sd))
            }
            Fit::LogNormal { mu, sigma } => {
                // The format's p99 must be ≥ its median after rounding.
                let (m, p) = (mu.exp(), (mu + Z99 * sigma).exp());
                format!(
                    "{{dist: lognormal, median: {}, p99: {}}}",
                    d(m),
                    d(p.max(m))
                )
            }
            Fit::Exponential { mean } => format!("{{dist: exponential, mean: {}}}", d(*mean)),
            Fit::Weibull { scale, shape } => {
                format!("{{dist: weibull, scale: {}, shape: {shape:.3}}}", d(*scale))
            }
            Fit::Empirical(v) => format!(
                "{{dist: empirical, samples: [{}]}}",
                v.iter().map(|&s| d(s)).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// Kolmogorov–Smirnov distance between the fit and the samples.
pub fn ks_distance(fit: &Fit, xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in v.iter().enumerate() {
        let f = fit.cdf(x);
        d = d.max(f - i as f64 / n).max((i + 1) as f64 / n - f);
    }
    d
}

/// Asymptotic p-value of a KS distance `d` with `n` samples
/// (Stephens' correction of the Kolmogorov distribution).
pub fn ks_p_value(d: f64, n: usize) -> f64 {
    let sn = (n as f64).sqrt();
    let lambda = (sn + 0.12 + 0.11 / sn) * d;
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut sum = 0.0;
    for j in 1..=100 {
        let j = j as f64;
        let term = 2.0 * (-1f64).powf(j - 1.0) * (-2.0 * j * j * lambda * lambda).exp();
        sum += term;
        if term.abs() < 1e-12 {
            break;
        }
    }
    sum.clamp(0.0, 1.0)
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// Weibull maximum likelihood (Newton on the shape equation).
fn weibull_mle(xs: &[f64]) -> Option<Fit> {
    let n = xs.len() as f64;
    let mean_ln = xs.iter().map(|x| x.ln()).sum::<f64>() / n;
    let mut k: f64 = 1.0;
    for _ in 0..100 {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &x in xs {
            let l = x.ln();
            let p = x.powf(k);
            s0 += p;
            s1 += p * l;
            s2 += p * l * l;
        }
        let g = 1.0 / k + mean_ln - s1 / s0;
        let dg = -1.0 / (k * k) - (s2 * s0 - s1 * s1) / (s0 * s0);
        let next = k - g / dg;
        let next = if next.is_finite() && next > 0.0 {
            next
        } else {
            k / 2.0
        };
        if (next - k).abs() < 1e-9 * k {
            k = next;
            break;
        }
        k = next;
    }
    let scale = (xs.iter().map(|x| x.powf(k)).sum::<f64>() / n).powf(1.0 / k);
    (k.is_finite() && scale.is_finite() && k > 0.0 && scale > 0.0)
        .then_some(Fit::Weibull { scale, shape: k })
}

/// Every parametric family fitted by maximum likelihood (those that can
/// describe the samples: no log of zero).
pub fn candidates(xs: &[f64]) -> Vec<Fit> {
    let mut out = Vec::new();
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if hi > lo {
        out.push(Fit::Uniform { min: lo, max: hi });
    }
    let (m, sd) = mean_sd(xs);
    if sd > 0.0 {
        out.push(Fit::Normal { mean: m, sd });
    }
    if lo > 0.0 {
        let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
        let (mu, sigma) = mean_sd(&logs);
        if sigma > 0.0 {
            out.push(Fit::LogNormal { mu, sigma });
        }
        out.push(Fit::Exponential { mean: m });
        if hi > lo
            && let Some(w) = weibull_mle(xs)
        {
            out.push(w);
        }
    }
    out
}

/// The chosen fit of one latency and the account of it.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub fit: Fit,
    pub n: usize,
    /// KS distance and p-value of the chosen fit (`None` for fixed).
    pub ks: Option<(f64, f64)>,
    /// Every candidate: (family, AIC, KS D).
    pub others: Vec<(&'static str, f64, f64)>,
}

impl Chosen {
    /// The goodness of fit as `calibrate` comments it: `n=12, lognormal:
    /// KS D=0.101, p=0.99; candidates: ...`.
    pub fn quality(&self) -> String {
        match self.ks {
            Some((d, p)) => {
                let alts: Vec<String> = self
                    .others
                    .iter()
                    .map(|(f, a, d)| format!("{f} AIC {a:.1} D {d:.3}"))
                    .collect();
                format!(
                    "n={}, {}: KS D={d:.3}, p={p:.2}; candidates: {}",
                    self.n,
                    self.fit.family(),
                    alts.join(", ")
                )
            }
            None => format!("n={}, too few or equal samples: the median", self.n),
        }
    }
}

/// Fits the samples (seconds): smallest KS distance (near-ties by AIC), empirical
/// when the KS test rejects it, fixed with too few or identical samples.
pub fn fit(xs: &[f64]) -> Option<Chosen> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    let cands = candidates(&v);
    if v.len() < 3 || cands.is_empty() || v[0] == v[v.len() - 1] {
        return Some(Chosen {
            fit: Fit::Fixed(median),
            n: v.len(),
            ks: None,
            others: Vec::new(),
        });
    }
    let mut scored: Vec<(Fit, f64, f64)> = cands
        .into_iter()
        .map(|f| {
            let aic = 2.0 * f.params() as f64 - 2.0 * f.log_likelihood(&v);
            let d = ks_distance(&f, &v);
            (f, aic, d)
        })
        .collect();
    // Closest to the samples (KS D), ties within 0.02 going to the lower
    // AIC (so that a one-parameter family beats a two-parameter one that
    // is only as close by overfitting, and the uniform's degenerate
    // likelihood on few samples does not decide alone).
    let best_d = scored.iter().map(|x| x.2).fold(f64::INFINITY, f64::min);
    scored.sort_by(|a, b| {
        let (ta, tb) = (a.2 <= best_d + 0.02, b.2 <= best_d + 0.02);
        tb.cmp(&ta).then(a.1.total_cmp(&b.1))
    });
    let others = scored
        .iter()
        .map(|(f, a, d)| (f.family(), *a, *d))
        .collect();
    let (best, _, d) = scored.swap_remove(0);
    let p = ks_p_value(d, v.len());
    let (fit, ks) = if p < 0.05 && v.len() >= 8 {
        let e = Fit::Empirical(v.clone());
        let de = ks_distance(&e, &v);
        (e, Some((de, ks_p_value(de, v.len()))))
    } else {
        (best, Some((d, p)))
    };
    Some(Chosen {
        fit,
        n: v.len(),
        ks,
        others,
    })
}

/// The `images:` YAML block for the traces, with the goodness of fit of
/// each parameter as comments.
pub fn calibrate(traces: &[(String, String)]) -> super::Result<String> {
    let mut by_image: BTreeMap<String, Samples> = BTreeMap::new();
    let mut tasks = 0;
    for (name, text) in traces {
        let rec = Recording::from_trace(text).map_err(|e| unexpected!("{name}: {e}"))?;
        tasks += rec.tasks.len();
        for (image, s) in samples(&rec) {
            let all = by_image.entry(image).or_default();
            all.pull.extend(s.pull);
            all.start.extend(s.start);
            all.stop.extend(s.stop);
            all.crash.extend(s.crash);
            all.fail_start.extend(s.fail_start);
            all.healthy.extend(s.healthy);
            all.unhealthy += s.unhealthy;
            all.unhealthy_stop.extend(s.unhealthy_stop);
            all.exit_code = s.exit_code.or(all.exit_code);
        }
    }
    let mut y = String::new();
    let names: Vec<&str> = traces.iter().map(|(n, _)| n.as_str()).collect();
    let _ = writeln!(
        y,
        "# swarmsim calibrate {}: {tasks} tasks.\n# Per latency: maximum-likelihood fits of each family; kept: the smallest\n# KS distance D (within 0.02: the lower AIC); D and its asymptotic p-value (optimistic: parameters fitted\n# on the same samples); empirical when p < 0.05 with 8+ samples; fixed\n# (the median) with fewer than 3 samples.",
        names.join(" ")
    );
    let _ = writeln!(y, "images:");
    for (image, s) in &by_image {
        let _ = writeln!(y, "  \"{image}\":");
        // Failed starts: their STARTING → FAILED is the start latency the
        // simulator uses for them too.
        let starts = s.start.len() + s.fail_start.len();
        let mut start = s.start.clone();
        start.extend(&s.fail_start);
        for (key, xs) in [
            ("pull", &s.pull),
            ("start", &start),
            ("stop", &s.stop),
            ("crash_after", &s.crash),
        ] {
            let Some(c) = fit(xs) else {
                let _ = writeln!(y, "    # {key}: no sample in the traces");
                continue;
            };
            let _ = writeln!(y, "    # {key}: {}", c.quality());
            let _ = writeln!(y, "    {key}: {}", c.fit.yaml());
        }
        if starts > 0 {
            let rate = s.fail_start.len() as f64 / starts as f64;
            let _ = writeln!(
                y,
                "    # fail_on_start: {} failed starts of {starts}",
                s.fail_start.len()
            );
            let _ = writeln!(y, "    fail_on_start: {}", round3(rate));
        }
        if s.unhealthy > 0 || !s.healthy.is_empty() {
            let n = s.unhealthy + s.healthy.len();
            let _ = writeln!(
                y,
                "    # health_fail: {} unhealthy of {n} health-checked tasks (the simulator draws it per probe; exact only at 0 and 1)",
                s.unhealthy
            );
            let _ = writeln!(
                y,
                "    health_fail: {}",
                round3(s.unhealthy as f64 / n as f64)
            );
        }
        if let Some(c) = s.exit_code {
            let _ = writeln!(y, "    exit_code: {c}");
        }
    }
    Ok(y)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::sim::time::{millis, secs};
    use rand::SeedableRng;

    fn draw(d: &Dist, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| d.sample(&mut rng).as_secs_f64()).collect()
    }

    #[test]
    fn recovers_a_lognormal() {
        let xs = draw(
            &Dist::LogNormal {
                median: secs(1),
                p99: secs(4),
            },
            500,
            7,
        );
        let c = fit(&xs).unwrap();
        let Fit::LogNormal { mu, sigma } = c.fit else {
            panic!("chose {:?} ({:?})", c.fit, c.others)
        };
        assert!((mu.exp() - 1.0).abs() < 0.1, "median {}", mu.exp());
        let p99 = (mu + Z99 * sigma).exp();
        assert!((p99 - 4.0).abs() < 0.6, "p99 {p99}");
        assert!(c.ks.unwrap().1 > 0.05);
    }

    #[test]
    fn recovers_an_exponential() {
        let xs = draw(&Dist::Exponential { mean: secs(2) }, 500, 11);
        let c = fit(&xs).unwrap();
        let Fit::Exponential { mean } = c.fit else {
            panic!("chose {:?} ({:?})", c.fit, c.others)
        };
        assert!((mean - 2.0).abs() < 0.2, "mean {mean}");
    }

    #[test]
    fn recovers_a_normal_and_a_weibull() {
        let xs = draw(
            &Dist::Normal {
                mean: secs(5),
                stddev: millis(500),
            },
            500,
            3,
        );
        let c = fit(&xs).unwrap();
        let Fit::Normal { mean, sd } = c.fit else {
            panic!("chose {:?} ({:?})", c.fit, c.others)
        };
        assert!((mean - 5.0).abs() < 0.1 && (sd - 0.5).abs() < 0.06);
        let xs = draw(
            &Dist::Weibull {
                scale: secs(1),
                shape: 3.0,
            },
            800,
            5,
        );
        let Fit::Weibull { scale, shape } = fit(&xs).unwrap().fit else {
            panic!("not weibull")
        };
        assert!((scale - 1.0).abs() < 0.05 && (shape - 3.0).abs() < 0.3);
    }

    #[test]
    fn few_or_equal_samples_give_the_median() {
        assert_eq!(fit(&[0.2, 0.3]).unwrap().fit, Fit::Fixed(0.3));
        assert_eq!(fit(&[0.5; 6]).unwrap().fit, Fit::Fixed(0.5));
        assert!(fit(&[]).is_none());
    }

    #[test]
    fn bimodal_samples_fall_back_to_empirical() {
        let mut xs = vec![0.1; 20];
        xs.extend(vec![5.0; 20]);
        for (i, x) in xs.iter_mut().enumerate() {
            *x += i as f64 * 1e-3;
        }
        assert_eq!(fit(&xs).unwrap().fit.family(), "empirical");
    }

    #[test]
    fn ks_statistics() {
        let u = Fit::Uniform { min: 0.0, max: 1.0 };
        let xs: Vec<f64> = (0..10).map(|i| (i as f64 + 0.5) / 10.0).collect();
        assert!((ks_distance(&u, &xs) - 0.05).abs() < 1e-12);
        assert!(ks_p_value(0.05, 10) > 0.99);
        assert!(ks_p_value(0.5, 100) < 1e-6);
    }

    #[test]
    fn yaml_loads_as_a_scenario() {
        let fits = [
            Fit::Fixed(0.25),
            Fit::Uniform { min: 0.1, max: 0.3 },
            Fit::Normal { mean: 1.0, sd: 0.1 },
            Fit::LogNormal {
                mu: 0.0,
                sigma: 0.5,
            },
            Fit::Exponential { mean: 2.0 },
            Fit::Weibull {
                scale: 1.0,
                shape: 1.5,
            },
            Fit::Empirical(vec![0.1, 0.2]),
        ];
        for f in fits {
            let text = format!(
                "cluster:\n  nodes:\n    - name: m\n      role: manager\nimages:\n  default:\n    start: {}\n",
                f.yaml()
            );
            crate::scenario::parse_str(&text, std::path::Path::new("t.yaml"))
                .unwrap_or_else(|e| panic!("{}: {e}", f.yaml()));
        }
    }
}

#[cfg(test)]
mod committed {
    /// `results/conformance/calibration/images.yaml` is what `swarmsim
    /// calibrate` makes of the trace recorded there on a real engine.
    #[test]
    fn committed_calibration_is_what_calibrate_writes() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/results/conformance/calibration"
        );
        let trace = std::fs::read_to_string(format!("{dir}/trace.jsonl")).unwrap();
        let want = std::fs::read_to_string(format!("{dir}/images.yaml")).unwrap();
        let got = super::calibrate(&[(
            "results/conformance/calibration/trace.jsonl".to_string(),
            trace,
        )])
        .unwrap();
        assert_eq!(
            got, want,
            "regenerate with: swarmsim calibrate results/conformance/calibration/trace.jsonl --out results/conformance/calibration/images.yaml"
        );
    }
}

/// The scenario's `engine:` block fitted to the traces: the median of each
/// step over every task that was seen on both sides of it (task states
/// carry the engine's own `Status.Timestamp`):
///
/// - `schedule`: PENDING → ASSIGNED;
/// - `dispatch`: ASSIGNED → ACCEPTED (or PREPARING when ACCEPTED was not
///   seen);
/// - `create`: PREPARING → READY (the test images are local: no pull);
/// - `start` and `stop` stay 0: they differ per image and are the images'
///   own latencies.
pub fn calibrate_engine(traces: &[(String, String)]) -> super::Result<String> {
    let (mut sched, mut disp, mut create) = (Vec::new(), Vec::new(), Vec::new());
    for (name, text) in traces {
        let rec = Recording::from_trace(text).map_err(|e| unexpected!("{name}: {e}"))?;
        for t in rec.tasks.values() {
            let st = |s: &str| t.state_time(s);
            if let (Some(a), Some(b)) = (st("pending"), st("assigned")) {
                sched.push(b - a);
            }
            if let (Some(a), Some(b)) = (st("assigned"), st("accepted").or(st("preparing"))) {
                disp.push(b - a);
            }
            if let (Some(a), Some(b)) = (st("preparing"), st("ready")) {
                create.push(b - a);
            }
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.retain(|x| x.is_finite() && *x >= 0.0);
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let ms = |x: f64| format!("{}ms", (x * 1000.0).round() as i64);
    let mut y = String::new();
    let names: Vec<&str> = traces.iter().map(|(n, _)| n.as_str()).collect();
    let _ = writeln!(
        y,
        "# swarmsim calibrate --engine {}: medians of the engine's steps\nengine:",
        names.join(" ")
    );
    for (key, v, what) in [
        ("schedule", &mut sched, "PENDING -> ASSIGNED"),
        ("dispatch", &mut disp, "ASSIGNED -> ACCEPTED"),
        ("create", &mut create, "PREPARING -> READY"),
    ] {
        let n = v.len();
        let m = med(v);
        let _ = writeln!(y, "  {key}: {}  # {what}, {n} samples", ms(m));
    }
    let _ = writeln!(y, "  start: 0ms  # per image (images: start)");
    let _ = writeln!(y, "  stop: 0ms  # per image (images: stop)");
    Ok(y)
}

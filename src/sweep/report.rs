//! Per-cell metrics of a sweep, `--require` / `--minimize`, the Pareto
//! front, `sweep.csv` and the sweep table (pure functions).

use std::fmt::Write as _;

use super::SweepError;
use crate::batch::output::{RunRecord, ServiceStats, fmt_duration, fmt_ms};

/// The metrics of one cell for the service the sweep is about.
#[derive(Debug, Clone, PartialEq)]
pub struct CellMetrics {
    pub runs: u64,
    /// Runs whose first update ended (has a duration).
    pub updates_ended: u64,
    /// Nearest-rank p50 / p95 of the first update's duration (ms).
    pub p50_duration: Option<u64>,
    pub p95_duration: Option<u64>,
    /// Nearest-rank p5 of min running during updates.
    pub p5_min_running: Option<u64>,
    /// Share of runs whose final update state is `paused`.
    pub p_paused: f64,
    /// Share of runs whose final update state is `rollback_started`,
    /// `rollback_paused` or `rollback_completed`.
    pub p_rolled_back: f64,
}

impl CellMetrics {
    pub fn of(runs: &[RunRecord], column: usize) -> CellMetrics {
        let st = ServiceStats::of(runs, column);
        CellMetrics {
            runs: st.runs,
            updates_ended: st.update.duration.n,
            p50_duration: st.update.duration.p50,
            p95_duration: st.update.duration.p95,
            p5_min_running: st.min_running.p5,
            p_paused: st.share(&["paused"]),
            p_rolled_back: st.share(&["rollback_started", "rollback_paused", "rollback_completed"]),
        }
    }

    /// A metric by name (durations in seconds). `None` when undefined
    /// (no update ended, no update at all).
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::P50Duration => self.p50_duration.map(|v| v as f64 / 1000.0),
            Metric::P95Duration => self.p95_duration.map(|v| v as f64 / 1000.0),
            Metric::MinRunning => self.p5_min_running.map(|v| v as f64),
            Metric::PPaused => Some(self.p_paused),
            Metric::PRolledBack => Some(self.p_rolled_back),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    P50Duration,
    P95Duration,
    /// p5 of min running during updates.
    MinRunning,
    PPaused,
    PRolledBack,
}

const METRICS: &str =
    "p50_duration, p95_duration, min_running (p5 of min running), p_paused, p_rolled_back";

impl Metric {
    pub fn parse(s: &str) -> Result<Metric, SweepError> {
        Ok(match s.trim() {
            "p50_duration" => Metric::P50Duration,
            "p95_duration" => Metric::P95Duration,
            "min_running" | "p5_min_running" => Metric::MinRunning,
            "p_paused" => Metric::PPaused,
            "p_rolled_back" => Metric::PRolledBack,
            other => {
                return Err(SweepError::Policy(format!(
                    "unknown metric `{other}` (metrics: {METRICS})"
                )));
            }
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50Duration => "p50_duration",
            Metric::P95Duration => "p95_duration",
            Metric::MinRunning => "p5_min_running",
            Metric::PPaused => "p_paused",
            Metric::PRolledBack => "p_rolled_back",
        }
    }
    /// Whether larger is better (for the Pareto front).
    fn higher_is_better(self) -> bool {
        self == Metric::MinRunning
    }
}

/// `--require 'METRIC OP NUMBER'`, e.g. `min_running>=3`,
/// `p95_duration<=120` (seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub text: String,
    pub metric: Metric,
    pub op: &'static str,
    pub bound: f64,
}

impl Requirement {
    pub fn parse(s: &str) -> Result<Requirement, SweepError> {
        for op in [">=", "<=", "==", "=", ">", "<"] {
            if let Some((m, v)) = s.split_once(op) {
                let metric = Metric::parse(m)
                    .map_err(|e| SweepError::Policy(format!("--require {s}: {e}")))?;
                let bound: f64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|b: &f64| b.is_finite())
                    .ok_or_else(|| {
                        SweepError::Policy(format!("--require {s}: `{}` is not a number", v.trim()))
                    })?;
                return Ok(Requirement {
                    text: s.replace(' ', ""),
                    metric,
                    op: if op == "=" { "==" } else { op },
                    bound,
                });
            }
        }
        Err(SweepError::Policy(format!(
            "--require {s}: expected METRIC OP NUMBER with OP one of >= <= > < ==, e.g. min_running>=2"
        )))
    }

    /// An undefined metric never meets a requirement.
    pub fn holds(&self, c: &CellMetrics) -> bool {
        let Some(x) = c.get(self.metric) else {
            return false;
        };
        match self.op {
            ">=" => x >= self.bound,
            "<=" => x <= self.bound,
            ">" => x > self.bound,
            "<" => x < self.bound,
            _ => x == self.bound,
        }
    }
}

/// Objectives of the Pareto front: p95 duration (lower), p5 of min running
/// (higher), P(paused) (lower), P(rolled back) (lower).
const PARETO: [Metric; 4] = [
    Metric::P95Duration,
    Metric::MinRunning,
    Metric::PPaused,
    Metric::PRolledBack,
];

/// Comparable score (lower is better); undefined is worst.
fn score(c: &CellMetrics, m: Metric) -> f64 {
    match c.get(m) {
        None => f64::INFINITY,
        Some(x) if m.higher_is_better() => -x,
        Some(x) => x,
    }
}

/// Whether `a` dominates `b`: no worse in every objective, better in one.
fn dominates(a: &CellMetrics, b: &CellMetrics) -> bool {
    let mut better = false;
    for m in PARETO {
        let (x, y) = (score(a, m), score(b, m));
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// For each cell: is it on the Pareto front (dominated by no other cell)?
pub fn pareto_front(cells: &[CellMetrics]) -> Vec<bool> {
    cells
        .iter()
        .map(|c| !cells.iter().any(|o| dominates(o, c)))
        .collect()
}

/// The best cell: meets every requirement and has the smallest `minimize`
/// metric (ties: the earlier cell). `None` when no cell qualifies.
pub fn best(cells: &[CellMetrics], require: &[Requirement], minimize: Metric) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in cells.iter().enumerate() {
        if !require.iter().all(|r| r.holds(c)) {
            continue;
        }
        let Some(x) = c.get(minimize) else { continue };
        if best.is_none_or(|(_, b)| x < b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

fn ms_opt(v: Option<u64>) -> String {
    v.map(fmt_ms).unwrap_or_default()
}

fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `sweep.csv`: one row per cell, in grid order.
pub fn sweep_csv(
    keys: &[String],
    cells: &[Vec<(String, String)>],
    metrics: &[CellMetrics],
    require: &[Requirement],
) -> String {
    let pareto = pareto_front(metrics);
    let mut o = String::from("cell");
    for k in keys {
        let _ = write!(o, ",{}", csv_field(k));
    }
    o.push_str(",runs,updates_ended,p50_duration_s,p95_duration_s,p5_min_running,p_paused,p_rolled_back,pareto,meets_require\n");
    for (i, (cell, m)) in cells.iter().zip(metrics).enumerate() {
        let _ = write!(o, "{}", i + 1);
        for (_, v) in cell {
            let _ = write!(o, ",{}", csv_field(v));
        }
        let _ = writeln!(
            o,
            ",{},{},{},{},{},{:.4},{:.4},{},{}",
            m.runs,
            m.updates_ended,
            ms_opt(m.p50_duration),
            ms_opt(m.p95_duration),
            opt(m.p5_min_running),
            m.p_paused,
            m.p_rolled_back,
            pareto[i],
            require.iter().all(|r| r.holds(m))
        );
    }
    o
}

/// A cell's policy in short: the last part of each key and its value,
/// e.g. `parallelism=4 delay=5s`.
pub fn policy_label(cell: &[(String, String)]) -> String {
    cell.iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sweep table, with `*` on the Pareto front, and the choice.
pub fn sweep_table(
    service: &str,
    runs: u64,
    cells: &[Vec<(String, String)>],
    metrics: &[CellMetrics],
    require: &[Requirement],
    minimize: Option<Metric>,
) -> String {
    let pareto = pareto_front(metrics);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "sweep of {service}: {} cells x {runs} runs (the same seeds in every cell)",
        cells.len()
    );
    let _ = writeln!(
        o,
        "duration: first update, ended - started; percentiles nearest-rank; * = Pareto front \
         (p95 duration, p5 min running, P(paused), P(rolled back))"
    );
    let labels: Vec<String> = cells.iter().map(|c| policy_label(c)).collect();
    let w = labels.iter().map(|l| l.len()).max().unwrap_or(0).max(6);
    let _ = writeln!(
        o,
        "{:>4}  {:<w$}  {:>10}{:>10}{:>8}{:>10}{:>10}",
        "cell", "policy", "p50", "p95", "p5 min", "P(paused)", "P(rb)"
    );
    let dash = |v: String| if v.is_empty() { "-".to_string() } else { v };
    for (i, m) in metrics.iter().enumerate() {
        let _ = writeln!(
            o,
            "{:>3}{} {:<w$}  {:>10}{:>10}{:>8}{:>10.4}{:>10.4}",
            i + 1,
            if pareto[i] { "*" } else { " " },
            labels[i],
            dash(m.p50_duration.map(fmt_duration).unwrap_or_default()),
            dash(m.p95_duration.map(fmt_duration).unwrap_or_default()),
            dash(opt(m.p5_min_running)),
            m.p_paused,
            m.p_rolled_back
        );
    }
    if let Some(minimize) = minimize {
        o.push('\n');
        o.push_str(&explain_choice(&labels, metrics, require, minimize));
    }
    o
}

fn fmt_metric(m: Metric, c: &CellMetrics) -> String {
    match (m, c.get(m)) {
        (_, None) => "undefined".into(),
        (Metric::P50Duration | Metric::P95Duration, Some(x)) => {
            fmt_duration((x * 1000.0).round() as u64)
        }
        (Metric::MinRunning, Some(x)) => format!("{x:.0}"),
        (_, Some(x)) => format!("{x:.4}"),
    }
}

/// Why the chosen cell is best: the requirements it meets, the cells they
/// exclude, and its value of the minimized metric against the runner-up.
pub fn explain_choice(
    labels: &[String],
    metrics: &[CellMetrics],
    require: &[Requirement],
    minimize: Metric,
) -> String {
    let mut o = String::new();
    let req_text: Vec<&str> = require.iter().map(|r| r.text.as_str()).collect();
    let feasible: Vec<usize> = (0..metrics.len())
        .filter(|&i| require.iter().all(|r| r.holds(&metrics[i])))
        .collect();
    for (i, m) in metrics.iter().enumerate() {
        let failed: Vec<String> = require
            .iter()
            .filter(|r| !r.holds(m))
            .map(|r| {
                format!(
                    "{} is {}, needs {}",
                    r.metric.name(),
                    fmt_metric(r.metric, m),
                    r.text
                )
            })
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(
                o,
                "excluded: cell {} ({}): {}",
                i + 1,
                labels[i],
                failed.join("; ")
            );
        }
    }
    match best(metrics, require, minimize) {
        None => {
            let _ = writeln!(
                o,
                "no policy meets {} with a defined {}",
                if req_text.is_empty() {
                    "the sweep".to_string()
                } else {
                    req_text.join(" and ")
                },
                minimize.name()
            );
        }
        Some(b) => {
            let runner_up = feasible
                .iter()
                .copied()
                .filter(|&i| i != b && metrics[i].get(minimize).is_some())
                .min_by(|&x, &y| {
                    score(&metrics[x], minimize).total_cmp(&score(&metrics[y], minimize))
                });
            let _ = write!(
                o,
                "best: cell {} ({}): {} {}, the lowest of the {} cells",
                b + 1,
                labels[b],
                minimize.name(),
                fmt_metric(minimize, &metrics[b]),
                feasible.len()
            );
            if req_text.is_empty() {
                o.push_str(" (no --require)");
            } else {
                let _ = write!(o, " meeting {}", req_text.join(" and "));
            }
            if let Some(r) = runner_up {
                let _ = write!(
                    o,
                    "; next best: cell {} ({}) with {}",
                    r + 1,
                    labels[r],
                    fmt_metric(minimize, &metrics[r])
                );
            }
            o.push('\n');
        }
    }
    o
}

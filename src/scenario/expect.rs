//! `expect:` — what a run must show, for `swarmsim check` and `run`.
//!
//! Each item is one of:
//! - a service expectation (`service:` plus any of `update_state`,
//!   `message`, `running`, `image`, `update_duration`, `min_running`,
//!   `task_failures`, optionally `at:`), evaluated at the end of the run or
//!   at `at`;
//! - a slot sequence (`service:`, `slot:`, `sequence: [states...]`);
//! - a statistical expectation (`over: {runs: N}` with `p50`/`p90`/`p95`/
//!   `p99`/`mean`/`max`/`min` and/or `probability`), run over seeds.
//!
//! Numbers and durations take an exact value or `{min: X, max: Y}`
//! (inclusive bounds, either may be omitted).

use serde_yaml::Value;

use super::load::one_of;
use super::yaml::{Map, Node, Pos, R, block_sequence_lines, index_path, locate};
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::model::TaskState;

/// Inclusive bounds; an exact value has both equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T: PartialOrd + Copy> Bound<T> {
    pub fn holds(&self, v: T) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

impl<T: PartialEq + Copy> Bound<T> {
    /// Renders the bound with `f` for each value: `3`, `>= 2`, `<= 90s`,
    /// `between 2 and 3`.
    pub fn render(&self, f: impl Fn(T) -> String) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => f(a),
            (Some(a), Some(b)) => format!("between {} and {}", f(a), f(b)),
            (Some(a), None) => format!(">= {}", f(a)),
            (None, Some(b)) => format!("<= {}", f(b)),
            (None, None) => "anything".to_string(),
        }
    }
}

/// One check of a service at one instant.
#[derive(Debug, Clone)]
pub enum Check {
    /// An update state in API spelling, or `none`.
    UpdateState(String),
    /// A regular expression the update status message must match.
    Message(regex::Regex),
    Running(Bound<u64>),
    /// The image every running task runs.
    Image(String),
    /// Duration of the last update (not rollback) of the service.
    UpdateDuration(Bound<SimDuration>),
    MinRunning(Bound<u64>),
    TaskFailures(Bound<u64>),
    /// The slot's task state changes contain these states in this order.
    Sequence {
        slot: u64,
        states: Vec<TaskState>,
    },
}

impl Check {
    pub fn key(&self) -> &'static str {
        match self {
            Check::UpdateState(_) => "update_state",
            Check::Message(_) => "message",
            Check::Running(_) => "running",
            Check::Image(_) => "image",
            Check::UpdateDuration(_) => "update_duration",
            Check::MinRunning(_) => "min_running",
            Check::TaskFailures(_) => "task_failures",
            Check::Sequence { .. } => "sequence",
        }
    }
}

/// A statistic over the runs of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Quantile(u8),
    Mean,
    Max,
    Min,
}

impl Stat {
    pub fn name(self) -> String {
        match self {
            Stat::Quantile(q) => format!("p{q}"),
            Stat::Mean => "mean".to_string(),
            Stat::Max => "max".to_string(),
            Stat::Min => "min".to_string(),
        }
    }
}

/// A per-run number a statistic is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Seconds; an update that did not finish counts as infinitely long.
    UpdateDuration,
    MinRunning,
    TaskFailures,
    Running,
    Restarts,
}

pub const METRICS: &[&str] = &[
    "update_duration",
    "min_running",
    "task_failures",
    "running",
    "restarts",
];

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::UpdateDuration => "update_duration",
            Metric::MinRunning => "min_running",
            Metric::TaskFailures => "task_failures",
            Metric::Running => "running",
            Metric::Restarts => "restarts",
        }
    }
}

/// Update states a probability can be asked of ("reached at any time in
/// the run").
pub const EVENTS: &[&str] = &[
    "updating",
    "paused",
    "completed",
    "rollback_started",
    "rollback_paused",
    "rollback_completed",
];

#[derive(Debug, Clone)]
pub enum StatCheck {
    /// `p95: {update_duration: {max: 90s}}`; bounds in the metric's unit
    /// (seconds for durations).
    Stat {
        stat: Stat,
        metric: Metric,
        bound: Bound<f64>,
    },
    /// `probability: {rollback_completed: {max: 0.05}}`.
    Probability { event: String, bound: Bound<f64> },
}

#[derive(Debug, Clone)]
pub enum ExpectKind {
    /// Checks of one run, at the end or at `at`.
    Run {
        at: Option<SimTime>,
        checks: Vec<Check>,
    },
    /// Statistics over `runs` seeds starting at `seed_start`.
    Over {
        runs: u64,
        seed_start: Option<u64>,
        checks: Vec<StatCheck>,
    },
}

#[derive(Debug, Clone)]
pub struct Expectation {
    /// 1-based position in the `expect:` list.
    pub number: usize,
    /// 1-based line of the item in the scenario file.
    pub line: usize,
    /// `None`: the only service of the run.
    pub service: Option<String>,
    pub kind: ExpectKind,
}

const RUN_KEYS: &[&str] = &[
    "service",
    "at",
    "update_state",
    "message",
    "running",
    "image",
    "update_duration",
    "min_running",
    "task_failures",
    "slot",
    "sequence",
    "over",
];
const OVER_ITEM_KEYS: &[&str] = &[
    "service",
    "over",
    "p50",
    "p90",
    "p95",
    "p99",
    "mean",
    "max",
    "min",
    "probability",
];
const STATES: &[&str] = &crate::swarm::model::UPDATE_STATE_NAMES;
/// Cap on `over.runs`, to keep `check` fast and memory small.
pub const MAX_RUNS: u64 = 100_000;

pub fn expectations(n: Node, text: &str, until: Option<SimTime>) -> R<Vec<Expectation>> {
    let items = n.seq()?;
    let lines = block_sequence_lines(text, "expect", items.len());
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index_path(n.path, i);
        let line = match &lines {
            Some(l) => l[i],
            None => locate(
                text,
                &Pos {
                    path: path.clone(),
                    at_key: false,
                },
            )
            .map_or(1, |(l, _)| l),
        };
        let mut e = expectation(Node::new(item, &path), until)?;
        e.number = i + 1;
        e.line = line;
        out.push(e);
    }
    Ok(out)
}

fn get<'a>(m: &Map<'a>, key: &str) -> Option<(Vec<super::yaml::Seg>, &'a Value)> {
    m.get(key).map(|v| (m.child_path(key), v))
}

fn expectation(n: Node, until: Option<SimTime>) -> R<Expectation> {
    let m = n.map()?;
    let service = match get(&m, "service") {
        Some((p, v)) => Some(Node::new(v, &p).scalar_text()?),
        None => None,
    };
    let kind = if m.get("over").is_some() {
        m.check_keys(OVER_ITEM_KEYS)?;
        over(&m)?
    } else {
        m.check_keys(RUN_KEYS)?;
        run_checks(&m, until)?
    };
    Ok(Expectation {
        number: 0,
        line: 0,
        service,
        kind,
    })
}

fn run_checks(m: &Map, until: Option<SimTime>) -> R<ExpectKind> {
    let at = match get(m, "at") {
        Some((p, v)) => {
            let an = Node::new(v, &p);
            let at = an.instant()?;
            if let Some(u) = until
                && at > u
            {
                return an.fail("`at` is after the scenario's `until`: the run never gets there");
            }
            Some(at)
        }
        None => None,
    };
    let mut checks = Vec::new();
    let slot = match get(m, "slot") {
        Some((p, v)) => {
            let sn = Node::new(v, &p);
            let s = sn.u64()?;
            if s == 0 {
                return sn.fail("`slot` starts at 1");
            }
            Some(s)
        }
        None => None,
    };
    for (key, v) in &m.entries {
        if v.is_null() {
            continue;
        }
        let p = m.child_path(key);
        let vn = Node::new(v, &p);
        let check = match key.as_str() {
            "update_state" => {
                let s = vn.str()?;
                if !STATES.contains(&s) {
                    return vn.fail(one_of("update state", s, STATES));
                }
                Check::UpdateState(s.to_string())
            }
            "message" => {
                let s = vn.scalar_text()?;
                let re = regex::Regex::new(&s).map_err(|e| {
                    vn.error(format!("`message` is not a valid regular expression: {e}"))
                })?;
                Check::Message(re)
            }
            "running" => Check::Running(count_bound(vn)?),
            "min_running" => Check::MinRunning(count_bound(vn)?),
            "task_failures" => Check::TaskFailures(count_bound(vn)?),
            "image" => Check::Image(vn.scalar_text()?),
            "update_duration" => Check::UpdateDuration(duration_bound(vn)?),
            "sequence" => {
                let Some(slot) = slot else {
                    return Err(m.key_error(
                        "sequence",
                        "`sequence` needs `slot:` (the replica slot, e.g. `slot: 1`)",
                    ));
                };
                let items = vn.seq()?;
                if items.is_empty() {
                    return vn.fail("`sequence` must list at least one task state");
                }
                let mut states = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    let ip = index_path(&p, i);
                    let sn = Node::new(it, &ip);
                    let s = sn.str()?;
                    let st = TaskState::from_api(s)
                        .ok_or_else(|| sn.error(one_of("task state", s, TASK_STATES)))?;
                    states.push(st);
                }
                Check::Sequence { slot, states }
            }
            _ => continue,
        };
        checks.push(check);
    }
    if slot.is_some() && !checks.iter().any(|c| matches!(c, Check::Sequence { .. })) {
        return Err(m.key_error("slot", "`slot` is only used with `sequence: [...]`"));
    }
    if checks.is_empty() {
        return Err(Node::new(&Value::Null, m.path).error(format!(
            "an expectation needs at least one of: {}",
            RUN_KEYS
                .iter()
                .filter(|k| !matches!(**k, "service" | "at" | "slot" | "over"))
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(ExpectKind::Run { at, checks })
}

const TASK_STATES: &[&str] = &crate::swarm::model::TaskState::API_NAMES;

fn over(m: &Map) -> R<ExpectKind> {
    let (op, ov) = get(m, "over").expect("checked by the caller");
    let om = Node::new(ov, &op).map()?;
    om.check_keys(&["runs", "seed_start"])?;
    let Some((rp, rv)) = get(&om, "runs") else {
        return om.missing("runs", "how many seeds to run, e.g. `over: {runs: 200}`");
    };
    let rn = Node::new(rv, &rp);
    let runs = rn.u64()?;
    if runs == 0 || runs > MAX_RUNS {
        return rn.fail(format!("`runs` must be between 1 and {MAX_RUNS}"));
    }
    let seed_start = match get(&om, "seed_start") {
        Some((p, v)) => Some(Node::new(v, &p).u64()?),
        None => None,
    };
    let mut checks = Vec::new();
    for (key, v) in &m.entries {
        if v.is_null() {
            continue;
        }
        let p = m.child_path(key);
        let vn = Node::new(v, &p);
        let stat = match key.as_str() {
            "p50" => Stat::Quantile(50),
            "p90" => Stat::Quantile(90),
            "p95" => Stat::Quantile(95),
            "p99" => Stat::Quantile(99),
            "mean" => Stat::Mean,
            "max" => Stat::Max,
            "min" => Stat::Min,
            "probability" => {
                let pm = vn.map()?;
                pm.check_keys(EVENTS)?;
                for (ev, bv) in &pm.entries {
                    let bp = pm.child_path(ev);
                    let bound = number_bound(Node::new(bv, &bp), true)?;
                    checks.push(StatCheck::Probability {
                        event: ev.clone(),
                        bound,
                    });
                }
                continue;
            }
            _ => continue,
        };
        let sm = vn.map()?;
        sm.check_keys(METRICS)?;
        for (metric, bv) in &sm.entries {
            let bp = sm.child_path(metric);
            let bn = Node::new(bv, &bp);
            let (metric, bound) = match metric.as_str() {
                "update_duration" => {
                    let b = duration_bound(bn)?;
                    (
                        Metric::UpdateDuration,
                        Bound {
                            min: b.min.map(SimDuration::as_secs_f64),
                            max: b.max.map(SimDuration::as_secs_f64),
                        },
                    )
                }
                "min_running" => (Metric::MinRunning, number_bound(bn, false)?),
                "task_failures" => (Metric::TaskFailures, number_bound(bn, false)?),
                "running" => (Metric::Running, number_bound(bn, false)?),
                _ => (Metric::Restarts, number_bound(bn, false)?),
            };
            checks.push(StatCheck::Stat {
                stat,
                metric,
                bound,
            });
        }
    }
    if checks.is_empty() {
        return Err(m.key_error(
            "over",
            "`over:` needs a statistic: `p50`, `p90`, `p95`, `p99`, `mean`, `max`, `min` or `probability`",
        ));
    }
    Ok(ExpectKind::Over {
        runs,
        seed_start,
        checks,
    })
}

/// `3` or `{min: 2, max: 3}`.
fn count_bound(n: Node) -> R<Bound<u64>> {
    bound(n, |n| n.u64())
}

/// `90s` or `{min: 10s, max: 90s}`.
fn duration_bound(n: Node) -> R<Bound<SimDuration>> {
    bound(n, |n| n.duration())
}

/// A single value (both bounds) or a `{min, max}` map of values read by
/// `one`.
fn bound<T: PartialOrd + Copy>(n: Node, one: impl Fn(Node) -> R<T>) -> R<Bound<T>> {
    if !matches!(n.v, Value::Mapping(_)) {
        let v = one(n)?;
        return Ok(Bound {
            min: Some(v),
            max: Some(v),
        });
    }
    let m = n.map()?;
    m.check_keys(&["min", "max"])?;
    let min = get(&m, "min")
        .map(|(p, v)| one(Node::new(v, &p)))
        .transpose()?;
    let max = get(&m, "max")
        .map(|(p, v)| one(Node::new(v, &p)))
        .transpose()?;
    bound_checked(n, min, max)
}

/// A number or `{min, max}`; probabilities must lie in [0, 1].
fn number_bound(n: Node, probability: bool) -> R<Bound<f64>> {
    bound(n, |n| {
        if probability {
            n.probability()
        } else {
            n.f64()
        }
    })
}

fn bound_checked<T: PartialOrd + Copy>(n: Node, min: Option<T>, max: Option<T>) -> R<Bound<T>> {
    if min.is_none() && max.is_none() {
        return n.fail(format!("{} needs `min`, `max` or both", n.name()));
    }
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        return n.fail(format!("{}: `min` is greater than `max`", n.name()));
    }
    Ok(Bound { min, max })
}

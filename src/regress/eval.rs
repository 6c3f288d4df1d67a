//! Evaluating `expect:` items against runs of a scenario.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::describe;
use crate::docker::duration::{GoDuration, format_go_duration};
use crate::report::results::{ServiceSummary, Summary};
use crate::runner::{Observer, RunEnd, RunOptions, RunResult, run};
use crate::scenario::Scenario;
use crate::scenario::expect::{Bound, Check, ExpectKind, Expectation, Metric, Stat, StatCheck};
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::{NodeStatus, ServiceId, TaskState};
use crate::swarm::store::{LogKind, LogRecord};

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The key, e.g. `update_state`, `p95(update_duration)`.
    pub what: String,
    pub expected: String,
    pub observed: String,
    /// The log record that determined the observed value, in words.
    pub decided_by: Option<String>,
}

/// The result of one `expect:` item.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectResult {
    pub number: usize,
    pub line: usize,
    /// e.g. `web at end: update_state, running`.
    pub title: String,
    pub failures: Vec<Failure>,
}

impl ExpectResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The failure report: what was expected, what happened, and the event
    /// that decided it.
    pub fn render(&self, file: &str) -> String {
        let mut out = format!(
            "expectation {} failed ({file}:{}): {}\n",
            self.number, self.line, self.title
        );
        for f in &self.failures {
            out.push_str(&format!("  {}\n", f.what));
            out.push_str(&format!("    expected: {}\n", f.expected));
            out.push_str(&format!("    observed: {}\n", f.observed));
            if let Some(d) = &f.decided_by {
                out.push_str(&format!("    decided by: {d}\n"));
            }
        }
        out
    }
}

fn seed_of(scenario: &Scenario, seed: Option<u64>) -> u64 {
    crate::runner::resolve_seed(seed, scenario)
}

fn run_at(scenario: &Rc<Scenario>, seed: u64, at: Option<SimTime>) -> RunResult {
    run(
        scenario.clone(),
        &RunOptions {
            seed: Some(seed),
            until: at,
            keep_log: true,
            record_series: true,
            // The items read the summary, the state and the log.
            skip_transcript: true,
            ..Default::default()
        },
    )
}

/// The `expect:` items about one run of the scenario — at an instant
/// (`at:`) or at its end — evaluated by watching that run: the driver
/// stops at each `at:` instant, so one simulation answers them all. An
/// item is evaluated on the state at its instant as a run that ends there
/// (`--until`) would report it.
pub struct Expectations<'a> {
    scenario: &'a Scenario,
    /// The `at:` instants not reached yet, latest first.
    pending: Vec<SimTime>,
    /// Whether the items about the end of the run are evaluated here.
    end_items: bool,
    /// Results by index in `scenario.expect`.
    results: BTreeMap<usize, ExpectResult>,
}

impl<'a> Expectations<'a> {
    /// Watches for the items at instants up to `limit` (the run's last
    /// instant), and for the end-of-run items when `end_items`.
    pub fn new(scenario: &'a Scenario, limit: SimTime, end_items: bool) -> Expectations<'a> {
        let mut pending: Vec<SimTime> = scenario
            .expect
            .iter()
            .filter_map(|e| match &e.kind {
                ExpectKind::Run { at: Some(t), .. } if *t <= limit => Some(*t),
                _ => None,
            })
            .collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        pending.dedup();
        Expectations {
            scenario,
            pending,
            end_items,
            results: BTreeMap::new(),
        }
    }

    /// The results, by index in `scenario.expect`.
    pub fn into_results(self) -> BTreeMap<usize, ExpectResult> {
        self.results
    }

    /// Whether a run is needed at all.
    fn wants_a_run(&self) -> bool {
        !self.pending.is_empty()
            || (self.end_items
                && self
                    .scenario
                    .expect
                    .iter()
                    .any(|e| matches!(e.kind, ExpectKind::Run { at: None, .. })))
    }

    /// Evaluates the items at `at` on the cluster as it is.
    fn eval_items(&mut self, at: Option<SimTime>, c: &Cluster, summary: &Summary) {
        for (i, e) in self.scenario.expect.iter().enumerate() {
            if let ExpectKind::Run { at: a, checks } = &e.kind
                && *a == at
            {
                self.results.insert(i, eval_run(e, at, checks, c, summary));
            }
        }
    }
}

impl Observer for Expectations<'_> {
    fn next_stop(&self) -> Option<SimTime> {
        self.pending.last().copied()
    }
    fn at_stop(&mut self, c: &Cluster, t: SimTime) {
        self.pending.pop();
        let summary = summary_at(c, &self.scenario.name, t);
        self.eval_items(Some(t), c, &summary);
    }
    fn at_end(&mut self, c: &Cluster, end: &RunEnd) {
        // Instants the event limit kept the run from reaching: a run that
        // ends at one of them stops at the same limit.
        while let Some(t) = self.pending.pop() {
            self.eval_items(Some(t), c, end.summary);
        }
        if self.end_items {
            self.eval_items(None, c, end.summary);
        }
    }
}

/// The summary of a run that ends at `t` (the clock reads `t`): as the
/// end of a run flushes the statistics (`Cluster::stats_flush`), the
/// running count held since its last change counts toward the minimum
/// during updates.
fn summary_at(c: &Cluster, scenario: &str, t: SimTime) -> Summary {
    let mut s = crate::report::results::summary(c, scenario, t, false);
    for (sid, svc) in c.store.state.services.iter().enumerate() {
        let stats = &c.store.stats[sid];
        if svc.removed || !(t > stats.since && stats.in_update) {
            continue;
        }
        if let Some(sum) = s.services.get_mut(&*svc.spec.name) {
            let r = stats.running;
            sum.min_running_during_updates =
                Some(sum.min_running_during_updates.map_or(r, |m| m.min(r)));
        }
    }
    s
}

/// Evaluates every expectation of `scenario` with `seed` (default: the
/// scenario's). `end` is a finished run of the same seed with
/// `keep_log` and `record_series` on, reused for end-of-run items.
/// The items at an instant and, without `end`, at the end of the run are
/// evaluated by watching one run ([`Expectations`]); an instant after the
/// scenario's `until` needs a run of its own.
pub fn evaluate(
    scenario: &Rc<Scenario>,
    seed: Option<u64>,
    end: Option<&RunResult>,
) -> Vec<ExpectResult> {
    evaluate_with(scenario, seed, end, BTreeMap::new())
}

/// [`evaluate`], with the items `answered` already (by index in
/// `scenario.expect`): an [`Expectations`] that watched the run `end`
/// (same seed, the default event limit).
pub fn evaluate_with(
    scenario: &Rc<Scenario>,
    seed: Option<u64>,
    end: Option<&RunResult>,
    answered: BTreeMap<usize, ExpectResult>,
) -> Vec<ExpectResult> {
    let seed = seed_of(scenario, seed);
    let opts = RunOptions {
        seed: Some(seed),
        keep_log: true,
        record_series: true,
        skip_transcript: true,
        ..Default::default()
    };
    let limit = crate::runner::RunConfig::new(&opts, scenario).limit;
    let mut watch = Expectations::new(scenario, limit, end.is_none());
    watch.pending.retain(|&t| {
        scenario.expect.iter().enumerate().any(|(i, e)| {
            matches!(e.kind, ExpectKind::Run { at: Some(a), .. } if a == t)
                && !answered.contains_key(&i)
        })
    });
    if watch.wants_a_run() {
        crate::runner::run_observed(scenario.clone(), &opts, None, &mut watch);
    }
    let mut watched = watch.results;
    watched.extend(answered);
    let mut runs: BTreeMap<Option<SimTime>, RunResult> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, e) in scenario.expect.iter().enumerate() {
        let result = match &e.kind {
            ExpectKind::Run { at, checks } => match (watched.remove(&i), at, end) {
                (Some(r), _, _) => r,
                (None, None, Some(r)) => eval_run(e, None, checks, &r.cluster, &r.summary),
                (None, _, _) => {
                    let r = runs
                        .entry(*at)
                        .or_insert_with(|| run_at(scenario, seed, *at));
                    eval_run(e, *at, checks, &r.cluster, &r.summary)
                }
            },
            ExpectKind::Over {
                runs: n,
                seed_start,
                checks,
            } => eval_over(scenario, e, *n, seed_start.unwrap_or(seed), checks),
        };
        out.push(result);
    }
    out
}

/// The named service, or the only one of the run.
fn resolve<'a>(
    e: &Expectation,
    services: &'a BTreeMap<String, ServiceSummary>,
) -> Result<(String, &'a ServiceSummary), String> {
    match &e.service {
        Some(name) => services
            .get(name)
            .map(|s| (name.clone(), s))
            .ok_or_else(|| {
                format!(
                    "no service `{name}` (the run has: {})",
                    services.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }),
        None if services.len() == 1 => {
            let (k, v) = services.iter().next().expect("one service");
            Ok((k.clone(), v))
        }
        None => Err(format!(
            "`service:` is needed: the run has {} services ({})",
            services.len(),
            services.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn keys_title(keys: Vec<String>) -> String {
    keys.join(", ")
}

fn eval_run(
    e: &Expectation,
    at: Option<SimTime>,
    checks: &[Check],
    c: &Cluster,
    summary: &Summary,
) -> ExpectResult {
    let when = match at {
        Some(t) => format!("at {}", format_go_duration(t)),
        None => "at end".to_string(),
    };
    let keys = keys_title(checks.iter().map(|c| c.key().to_string()).collect());
    let mut res = ExpectResult {
        number: e.number,
        line: e.line,
        title: format!(
            "{} {when}: {keys}",
            e.service.as_deref().unwrap_or("(the service)")
        ),
        failures: Vec::new(),
    };
    let (name, svc) = match resolve(e, &summary.services) {
        Ok(x) => x,
        Err(msg) => {
            res.failures.push(Failure {
                what: "service".to_string(),
                expected: e.service.clone().unwrap_or_else(|| "one service".into()),
                observed: msg,
                decided_by: None,
            });
            return res;
        }
    };
    res.title = format!("{name} {when}: {keys}");
    let sid = c
        .store
        .state
        .find_service(&name)
        .expect("a service of the summary exists");
    let recs: Vec<&LogRecord> = c
        .store
        .log
        .iter()
        .filter(|l| l.service == Some(sid))
        .collect();
    let last_update = recs
        .iter()
        .rev()
        .find(|l| l.kind == LogKind::Update)
        .copied();
    let say = |rec: Option<&LogRecord>| rec.map(|l| describe(c, l));
    for check in checks {
        let fail = match check {
            Check::UpdateState(want) => {
                let got = svc.update_state.clone().unwrap_or_else(|| "none".into());
                (got != *want).then(|| Failure {
                    what: "update_state".into(),
                    expected: want.clone(),
                    observed: got,
                    decided_by: say(last_update),
                })
            }
            Check::Message(re) => {
                let got = svc.update_message.clone();
                let ok = got.as_deref().is_some_and(|m| re.is_match(m));
                (!ok).then(|| Failure {
                    what: "message".into(),
                    expected: format!("an update message matching /{}/", re.as_str()),
                    observed: match got {
                        Some(m) => format!("\"{m}\""),
                        None => "no update status".into(),
                    },
                    decided_by: say(last_update),
                })
            }
            Check::Running(b) => (!b.holds(svc.running_replicas)).then(|| Failure {
                what: "running".into(),
                expected: format!("{} running", b.render(|v| v.to_string())),
                observed: format!(
                    "{} running (of {} desired)",
                    svc.running_replicas, svc.desired_replicas
                ),
                decided_by: say(last_running_change(&recs)),
            }),
            Check::Image(want) => image_check(c, sid, want, &recs),
            Check::UpdateDuration(b) => duration_check(c, svc, b, &recs),
            Check::MinRunning(b) => min_running_check(c, sid, svc, b, &recs),
            Check::TaskFailures(b) => {
                let fails: Vec<&LogRecord> = recs
                    .iter()
                    .filter(|l| l.kind == LogKind::Task && matches!(l.state, "failed" | "rejected"))
                    .copied()
                    .collect();
                (!b.holds(svc.task_failures)).then(|| {
                    // The failure that went over the limit, or the last one.
                    let over = b
                        .max
                        .and_then(|m| fails.get(m as usize))
                        .or(fails.last())
                        .copied();
                    Failure {
                        what: "task_failures".into(),
                        expected: b.render(|v| v.to_string()),
                        observed: svc.task_failures.to_string(),
                        decided_by: say(over),
                    }
                })
            }
            Check::Sequence { slot, states } => sequence_check(c, *slot, states, &recs),
        };
        res.failures.extend(fail);
    }
    res
}

/// The last task record that moved a task of the service into or out of
/// `running`.
fn last_running_change<'a>(recs: &[&'a LogRecord]) -> Option<&'a LogRecord> {
    let mut prev: BTreeMap<usize, &str> = BTreeMap::new();
    let mut last = None;
    for rec in recs.iter().filter(|l| l.kind == LogKind::Task) {
        let Some(t) = rec.task else { continue };
        let before = prev.insert(t, rec.state);
        if (rec.state == "running") != (before == Some("running")) {
            last = Some(*rec);
        }
    }
    last.or_else(|| recs.last().copied())
}

/// The record where task `t` last became running.
fn became_running<'a>(recs: &[&'a LogRecord], t: usize) -> Option<&'a LogRecord> {
    recs.iter()
        .rev()
        .find(|l| l.task == Some(t) && l.state == "running")
        .copied()
}

fn image_check(c: &Cluster, sid: ServiceId, want: &str, recs: &[&LogRecord]) -> Option<Failure> {
    let st = &c.store.state;
    let running: Vec<usize> = (0..st.tasks.len())
        .filter(|&t| {
            let task = &st.tasks[t];
            task.service == sid
                && !task.deleted
                && task.state == TaskState::Running
                && task
                    .node
                    .is_some_and(|n| st.nodes[n].agent_up && st.nodes[n].status != NodeStatus::Down)
        })
        .collect();
    if running.is_empty() {
        return Some(Failure {
            what: "image".into(),
            expected: format!("every running task runs {want}"),
            observed: "no task is running".into(),
            decided_by: last_running_change(recs).map(|l| describe(c, l)),
        });
    }
    let wrong: Vec<usize> = running
        .iter()
        .copied()
        .filter(|&t| st.tasks[t].spec.image != want)
        .collect();
    let first = wrong.first()?;
    let mut images: Vec<String> = running
        .iter()
        .map(|&t| format!("{} {}", c.store.task_name(t), st.tasks[t].spec.image))
        .collect();
    images.sort();
    Some(Failure {
        what: "image".into(),
        expected: format!("every running task runs {want}"),
        observed: format!(
            "{} of {} running tasks run another image ({})",
            wrong.len(),
            running.len(),
            images.join(", ")
        ),
        decided_by: became_running(recs, *first).map(|l| describe(c, l)),
    })
}

fn fmt_d(d: impl Into<GoDuration>) -> String {
    format_go_duration(d)
}

fn secs_to_ns(s: f64) -> SimTime {
    SimTime::at(SimDuration::from_secs_f64(s))
}

/// The last `update` (not rollback) episode: (started, ended, state).
fn last_update(svc: &ServiceSummary) -> Option<(SimTime, Option<SimTime>, &'static str)> {
    svc.updates
        .iter()
        .rev()
        .find(|u| u.kind == "update")
        .map(|u| (secs_to_ns(u.started_s), u.ended_s.map(secs_to_ns), u.state))
}

fn duration_check(
    c: &Cluster,
    svc: &ServiceSummary,
    b: &Bound<SimDuration>,
    recs: &[&LogRecord],
) -> Option<Failure> {
    let expected = format!("an update lasting {}", b.render(fmt_d));
    let update_rec = |t: SimTime| {
        recs.iter()
            .rev()
            .find(|l| l.kind == LogKind::Update && l.time == t)
            .map(|l| describe(c, l))
    };
    match last_update(svc) {
        None => Some(Failure {
            what: "update_duration".into(),
            expected,
            observed: "no update happened".into(),
            decided_by: None,
        }),
        Some((start, None, state)) => Some(Failure {
            what: "update_duration".into(),
            expected,
            observed: format!(
                "the update started at {} had not ended ({state})",
                fmt_d(start)
            ),
            decided_by: update_rec(start),
        }),
        Some((start, Some(end), state)) => {
            let d = end - start;
            (!b.holds(d)).then(|| Failure {
                what: "update_duration".into(),
                expected,
                observed: format!(
                    "{} (from {} to {}, ended {state})",
                    fmt_d(d),
                    fmt_d(start),
                    fmt_d(end)
                ),
                decided_by: update_rec(end),
            })
        }
    }
}

fn min_running_check(
    c: &Cluster,
    sid: ServiceId,
    svc: &ServiceSummary,
    b: &Bound<u64>,
    recs: &[&LogRecord],
) -> Option<Failure> {
    let expected = format!("{} running during updates", b.render(|v| v.to_string()));
    let Some(min) = svc.min_running_during_updates else {
        return Some(Failure {
            what: "min_running".into(),
            expected,
            observed: "no update or rollback happened".into(),
            decided_by: None,
        });
    };
    if b.holds(min) {
        return None;
    }
    // The first instant, inside an update episode, where the running
    // count fell to the minimum and stayed there for some time.
    let series = &c.store.stats[sid].running_series;
    let in_episode = |t: SimTime| {
        svc.updates.iter().any(|u| {
            let s = secs_to_ns(u.started_s);
            t >= s && u.ended_s.is_none_or(|e| t < secs_to_ns(e))
        })
    };
    let mut at = None;
    for (i, &(t, v)) in series.iter().enumerate() {
        let lasted = series.get(i + 1).is_none_or(|&(n, _)| n > t);
        if v == min && lasted && in_episode(t) {
            at = Some(t);
            break;
        }
    }
    // The record at that instant that took a task out of `running` (or
    // the last one then).
    let decided_by = at.and_then(|t| {
        let mut prev: BTreeMap<usize, &str> = BTreeMap::new();
        let mut left = None;
        let mut last = None;
        for rec in recs
            .iter()
            .filter(|l| l.kind == LogKind::Task && l.time <= t)
        {
            let Some(task) = rec.task else { continue };
            let before = prev.insert(task, rec.state);
            if rec.time == t {
                last = Some(*rec);
                if before == Some("running") && rec.state != "running" {
                    left = Some(*rec);
                }
            }
        }
        left.or(last).map(|l| describe(c, l))
    });
    Some(Failure {
        what: "min_running".into(),
        expected,
        observed: format!(
            "{min} running{}",
            at.map(|t| format!(" at {}", fmt_d(t))).unwrap_or_default()
        ),
        decided_by,
    })
}

fn sequence_check(
    c: &Cluster,
    slot: u64,
    states: &[TaskState],
    recs: &[&LogRecord],
) -> Option<Failure> {
    let slot_recs: Vec<&LogRecord> = recs
        .iter()
        .filter(|l| {
            l.kind == LogKind::Task && l.task.is_some_and(|t| c.store.state.tasks[t].slot == slot)
        })
        .copied()
        .collect();
    let mut want = states.iter().peekable();
    for rec in &slot_recs {
        if want.peek().is_some_and(|s| s.api_str() == rec.state) {
            want.next();
        }
    }
    want.peek()?;
    let mut seen: Vec<&str> = Vec::new();
    for rec in &slot_recs {
        if seen.last() != Some(&rec.state) {
            seen.push(rec.state);
        }
    }
    let matched = states.len() - want.count();
    Some(Failure {
        what: format!("sequence (slot {slot})"),
        expected: format!(
            "task states {} in this order",
            states
                .iter()
                .map(|s| s.api_str())
                .collect::<Vec<_>>()
                .join(" -> ")
        ),
        observed: if seen.is_empty() {
            "the slot has no task".into()
        } else {
            format!(
                "{} (matched the first {matched} of {})",
                seen.join(" -> "),
                states.len()
            )
        },
        decided_by: slot_recs.last().map(|l| describe(c, l)),
    })
}

// ---- statistics over seeds ----

/// The per-run value of a metric (`None`: the run has none, e.g. no
/// update for `min_running`). An unfinished update lasts forever.
fn metric_value(svc: &ServiceSummary, m: Metric) -> Option<f64> {
    match m {
        Metric::UpdateDuration => last_update(svc).map(|(s, e, _)| match e {
            Some(e) => (e - s).as_secs_f64(),
            None => f64::INFINITY,
        }),
        Metric::MinRunning => svc.min_running_during_updates.map(|v| v as f64),
        Metric::TaskFailures => Some(svc.task_failures as f64),
        Metric::Running => Some(svc.running_replicas as f64),
        Metric::Restarts => Some(svc.restarts as f64),
    }
}

/// The update states a run reached at any time.
fn reached(svc: &ServiceSummary, state: &str) -> bool {
    svc.updates.iter().any(|u| {
        u.state == state
            || (state == "updating" && u.kind == "update")
            || (state == "rollback_started" && u.kind == "rollback")
    }) || svc.update_state.as_deref() == Some(state)
}

fn fmt_value(m: Metric, v: f64) -> String {
    match m {
        Metric::UpdateDuration if v.is_infinite() => "unfinished".into(),
        Metric::UpdateDuration => fmt_d(secs_to_ns(v)),
        _ if v.fract() == 0.0 => format!("{v}"),
        _ => format!("{v:.3}"),
    }
}

fn eval_over(
    scenario: &Rc<Scenario>,
    e: &Expectation,
    n: u64,
    seed_start: u64,
    checks: &[StatCheck],
) -> ExpectResult {
    let keys = checks
        .iter()
        .map(|c| match c {
            StatCheck::Stat { stat, metric, .. } => format!("{}({})", stat.name(), metric.name()),
            StatCheck::Probability { event, .. } => format!("P({event})"),
        })
        .collect();
    let mut res = ExpectResult {
        number: e.number,
        line: e.line,
        title: format!(
            "{} over {n} runs (seeds {seed_start}..{}): {}",
            e.service.as_deref().unwrap_or("(the service)"),
            seed_start + n - 1,
            keys_title(keys)
        ),
        failures: Vec::new(),
    };
    // One summary per seed, in seed order (a plain deterministic loop).
    let mut per_seed: Vec<(u64, ServiceSummary)> = Vec::with_capacity(n as usize);
    let mut name = String::new();
    for seed in seed_start..seed_start + n {
        let r = run(
            scenario.clone(),
            &RunOptions {
                seed: Some(seed),
                // Only the summary is read.
                skip_transcript: true,
                ..Default::default()
            },
        );
        match resolve(e, &r.summary.services) {
            Ok((resolved, svc)) => {
                name = resolved;
                per_seed.push((seed, svc.clone()));
            }
            Err(msg) => {
                res.failures.push(Failure {
                    what: "service".into(),
                    expected: e.service.clone().unwrap_or_else(|| "one service".into()),
                    observed: format!("seed {seed}: {msg}"),
                    decided_by: None,
                });
                return res;
            }
        }
    }
    res.title = res.title.replace("(the service)", &name);
    for check in checks {
        match check {
            StatCheck::Stat {
                stat,
                metric,
                bound,
            } => {
                let mut vals: Vec<(f64, u64)> = per_seed
                    .iter()
                    .filter_map(|(s, svc)| metric_value(svc, *metric).map(|v| (v, *s)))
                    .collect();
                let what = format!("{}({})", stat.name(), metric.name());
                let expected = bound.render(|v| fmt_value(*metric, v));
                if vals.is_empty() {
                    res.failures.push(Failure {
                        what,
                        expected,
                        observed: format!("no run had a value ({} needs an update)", metric.name()),
                        decided_by: None,
                    });
                    continue;
                }
                vals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let (value, seed) = match stat {
                    Stat::Quantile(q) => {
                        // Nearest rank.
                        let rank = ((*q as f64 / 100.0) * vals.len() as f64).ceil() as usize;
                        vals[rank.clamp(1, vals.len()) - 1]
                    }
                    Stat::Max => vals[vals.len() - 1],
                    Stat::Min => vals[0],
                    Stat::Mean => {
                        let mean = vals.iter().map(|v| v.0).sum::<f64>() / vals.len() as f64;
                        // The run closest to the mean stands for it.
                        let near = vals
                            .iter()
                            .min_by(|a, b| (a.0 - mean).abs().total_cmp(&(b.0 - mean).abs()))
                            .map_or(0, |v| v.1);
                        (mean, near)
                    }
                };
                if !bound.holds(value) {
                    let counted = if vals.len() as u64 == n {
                        String::new()
                    } else {
                        format!(", {} of {n} runs had a value", vals.len())
                    };
                    res.failures.push(Failure {
                        what,
                        expected,
                        observed: format!("{} (seed {seed}{counted})", fmt_value(*metric, value)),
                        decided_by: decider_in_seed(scenario, seed, &name, None),
                    });
                }
            }
            StatCheck::Probability { event, bound } => {
                let hits: Vec<u64> = per_seed
                    .iter()
                    .filter(|(_, svc)| reached(svc, event))
                    .map(|(s, _)| *s)
                    .collect();
                let p = hits.len() as f64 / n as f64;
                if !bound.holds(p) {
                    let example = hits.first().copied();
                    res.failures.push(Failure {
                        what: format!("P({event})"),
                        expected: bound.render(|v| format!("{v}")),
                        observed: format!(
                            "{p} ({} of {n} runs{})",
                            hits.len(),
                            example
                                .map(|s| format!(", first: seed {s}"))
                                .unwrap_or_default()
                        ),
                        decided_by: example
                            .and_then(|s| decider_in_seed(scenario, s, &name, Some(event))),
                    });
                }
            }
        }
    }
    res
}

/// Re-runs one seed with its log and names the update record that
/// decided it: the first one with state `event`, or the last one.
fn decider_in_seed(
    scenario: &Rc<Scenario>,
    seed: u64,
    service: &str,
    event: Option<&str>,
) -> Option<String> {
    let r = run_at(scenario, seed, None);
    let c = &r.cluster;
    let sid = c.store.state.find_service(service)?;
    let mut updates = c
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Update && l.service == Some(sid));
    let rec = match event {
        Some(ev) => updates.find(|l| l.state == ev),
        None => updates.next_back(),
    }?;
    Some(format!("seed {seed}: {}", describe(c, rec)))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const SCENARIO: &str = "
name: at-items
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{n}
      count: 3
images:
  default:
    pull: 1s
    start: {dist: uniform, min: 500ms, max: 3s}
    stop: 500ms
  \"web:bad\": {pull: 1s, start: 1s, crash_after: 2s}
timeline:
  - at: 0s
    docker: docker service create --name web --replicas 4 --update-delay 5s --update-failure-action rollback --update-monitor 10s web:1
  - at: 30s
    docker: docker service update --image web:2 web
  - at: 90s
    docker: docker service update --image web:bad --detach web
expect:
  - {service: web, at: 0s, running: 0}
  - {service: web, at: 29s, running: 4, update_state: none}
  - {service: web, at: 31s, min_running: {min: 4}}
  - {service: web, at: 32s, min_running: {min: 3}}
  - {service: web, at: 35s, update_state: updating, min_running: {min: 4}, task_failures: 0}
  - {service: web, at: 41s, min_running: {min: 3}, running: {min: 4}, image: \"web:2\"}
  - {service: web, at: 45s, update_state: completed, update_duration: {max: 5s}}
  - {service: web, at: 100s, min_running: {min: 4}, task_failures: 0, message: \"^x\"}
  - {service: web, at: 41s, slot: 2, sequence: [running, shutdown]}
  - {service: web, at: 10m, update_state: rollback_completed, min_running: 2}
  - {service: web, update_state: rollback_completed, running: 4, task_failures: {max: 2}}
  - {service: nope, at: 50s, running: 1}
";

    /// Watching one run gives every `at:` item the result a run that
    /// ends at its instant gives, and the end items the full run's.
    #[test]
    fn one_watched_run_answers_like_a_run_per_instant() {
        let sc = Rc::new(
            crate::scenario::parse_str(SCENARIO, std::path::Path::new("t.yaml")).expect("valid"),
        );
        for seed in [1, 2, 5] {
            let before = crate::swarm::cluster::clusters_built();
            let watched = evaluate(&sc, Some(seed), None);
            assert_eq!(crate::swarm::cluster::clusters_built() - before, 1);
            assert_eq!(watched.len(), sc.expect.len());
            let mut failed = 0;
            for (e, got) in sc.expect.iter().zip(&watched) {
                let ExpectKind::Run { at, checks } = &e.kind else {
                    unreachable!("only run items")
                };
                let r = run_at(&sc, seed, *at);
                let want = eval_run(e, *at, checks, &r.cluster, &r.summary);
                assert_eq!(*got, want, "seed {seed}, item {}", e.number);
                failed += usize::from(!want.passed());
            }
            // Items fail and pass: the comparison is not between empty
            // results.
            assert!(failed > 0 && failed < watched.len(), "{failed} failed");
        }
    }
}

#[cfg(test)]
mod cli_tests {
    /// `swarmsim run` of a scenario with `at:` expectations answers them
    /// from its own run: one simulation.
    #[test]
    fn run_with_at_items_simulates_once() {
        use clap::Parser;
        let dir = std::env::temp_dir().join(format!("swarmsim-eval-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("at.yaml");
        std::fs::write(&path, super::tests::SCENARIO).expect("write scenario");
        let args = [
            "swarmsim".to_string(),
            "run".to_string(),
            path.display().to_string(),
            "--quiet".to_string(),
            "--out".to_string(),
            dir.join("r").display().to_string(),
        ];
        let cli = crate::cli::Cli::try_parse_from(args).expect("valid flags");
        let before = crate::swarm::cluster::clusters_built();
        let status = crate::cli::run(cli).expect("runs");
        assert_eq!(crate::swarm::cluster::clusters_built() - before, 1);
        // Some items of the scenario fail.
        assert_eq!(status, crate::cli::ExitStatus::Failure);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! `swarmsim diff A B` (or `diff A --set KEY=VALUE`): where two runs
//! part. Both run with their event log and explanations; their logs are
//! compared row by row (time, kind, service, slot, state, desired state,
//! message with task ids masked); the first differing instant is shown
//! with both rows, the rule that made each, and the explanations at that
//! instant; then the two summaries side by side.

use std::fmt::Write as _;
use std::rc::Rc;

use super::describe;
use crate::docker::duration::format_go_duration;
use crate::report::results::{ServiceSummary, Summary};
use crate::runner::{RunOptions, RunResult, run};
use crate::scenario::Scenario;
use crate::sim::time::SimTime;
use crate::swarm::cluster::Cluster;
use crate::swarm::store::{LogKind, LogRecord};

/// The comparable content of a log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub time: SimTime,
    pub kind: &'static str,
    pub service: String,
    pub slot: String,
    pub state: String,
    pub desired: String,
    pub message: String,
}

/// Task and service ids (25 lowercase letters and digits) become `<id>`.
pub fn mask_ids(s: &str) -> String {
    thread_local! {
        static ID: regex::Regex = regex::Regex::new(r"\b[a-z0-9]{25}\b").expect("valid regex");
    }
    ID.with(|re| re.replace_all(s, "<id>").into_owned())
}

pub fn row(c: &Cluster, rec: &LogRecord) -> Row {
    let st = &c.store.state;
    let slot = match (rec.kind, rec.task) {
        (LogKind::Task, Some(t)) if st.tasks[t].slot > 0 => st.tasks[t].slot.to_string(),
        (LogKind::Task, Some(t)) => st.tasks[t]
            .node
            .map(|n| st.nodes[n].hostname.to_string())
            .unwrap_or_default(),
        (LogKind::Node, _) => rec
            .node
            .map(|n| st.nodes[n].hostname.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    };
    Row {
        time: rec.time,
        kind: rec.kind.as_str(),
        service: rec
            .service
            .map(|s| st.services[s].spec.name.to_string())
            .unwrap_or_default(),
        slot,
        state: rec.state.to_string(),
        desired: rec.desired_state.to_string(),
        message: mask_ids(&rec.message),
    }
}

/// Runs a scenario for a diff: log and explanations on.
pub fn run_for_diff(s: Scenario, seed: Option<u64>) -> RunResult {
    run(
        Rc::new(s),
        &RunOptions {
            seed,
            keep_log: true,
            explain: true,
            ..Default::default()
        },
    )
}

/// Where two logs part: index of the first differing row.
pub fn first_difference(a: &Cluster, b: &Cluster) -> Option<usize> {
    let n = a.store.log.len().max(b.store.log.len());
    (0..n).find(|&i| {
        let ra = a.store.log.get(i).map(|r| row(a, r));
        let rb = b.store.log.get(i).map(|r| row(b, r));
        ra != rb
    })
}

const MAX_EXPLANATIONS: usize = 12;

fn explanations_at(c: &Cluster, t: SimTime, out: &mut String, label: &str) {
    let lines: Vec<&str> = c
        .store
        .explanations
        .iter()
        .filter(|e| e.time == t)
        .map(|e| e.text.as_str())
        .collect();
    if lines.is_empty() {
        let _ = writeln!(out, "  {label} explains nothing at that instant");
        return;
    }
    let _ = writeln!(out, "  {label} explains at {}:", format_go_duration(t));
    for l in lines.iter().take(MAX_EXPLANATIONS) {
        let _ = writeln!(out, "    # {l}");
    }
    if lines.len() > MAX_EXPLANATIONS {
        let _ = writeln!(out, "    # ... {} more", lines.len() - MAX_EXPLANATIONS);
    }
}

/// The whole report; the bool is whether the runs differ.
pub fn report(label_a: &str, a: &RunResult, label_b: &str, b: &RunResult) -> (String, bool) {
    let mut out = String::new();
    let _ = writeln!(out, "A: {label_a}");
    let _ = writeln!(out, "B: {label_b}");
    out.push('\n');
    let (ca, cb) = (&a.cluster, &b.cluster);
    let first = first_difference(ca, cb);
    match first {
        None => {
            let _ = writeln!(
                out,
                "The timelines are identical ({} events rows).",
                ca.store.log.len()
            );
        }
        Some(i) => {
            let ra = ca.store.log.get(i);
            let rb = cb.store.log.get(i);
            let t = match (ra, rb) {
                (Some(x), Some(y)) => x.time.min(y.time),
                (Some(x), None) => x.time,
                (None, Some(y)) => y.time,
                (None, None) => SimTime::ZERO,
            };
            let _ = writeln!(
                out,
                "The timelines part at {} (events row {}; the {} rows before are the same):",
                format_go_duration(t),
                i + 1,
                i
            );
            let show = |c: &Cluster, r: Option<&LogRecord>| match r {
                Some(r) => describe(c, r),
                None => "(no more events)".to_string(),
            };
            let _ = writeln!(out, "  A: {}", mask_ids(&show(ca, ra)));
            let _ = writeln!(out, "  B: {}", mask_ids(&show(cb, rb)));
            explanations_at(ca, t, &mut out, "A");
            explanations_at(cb, t, &mut out, "B");
        }
    }
    out.push('\n');
    out.push_str(&side_by_side(&a.summary, &b.summary));
    (
        out,
        first.is_some() || a.summary.services != b.summary.services,
    )
}

fn updates_text(s: &ServiceSummary) -> String {
    if s.updates.is_empty() {
        return "none".to_string();
    }
    s.updates
        .iter()
        .map(|u| {
            let f = |x: f64| format_go_duration((x * 1e9).round() as i64);
            let end = u.ended_s.map(f).unwrap_or_else(|| "…".to_string());
            format!("{} {}-{} {}", u.kind, f(u.started_s), end, u.state)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn fields(s: Option<&ServiceSummary>) -> Vec<(&'static str, String)> {
    let Some(s) = s else {
        return vec![("exists", "no".to_string())];
    };
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
    vec![
        ("image", s.image.clone()),
        (
            "replicas",
            format!("{}/{} running", s.running_replicas, s.desired_replicas),
        ),
        ("update_state", opt(&s.update_state)),
        ("update_message", opt(&s.update_message)),
        ("updates", updates_text(s)),
        (
            "min_running_during_updates",
            s.min_running_during_updates
                .map_or("none".into(), |v| v.to_string()),
        ),
        ("task_failures", s.task_failures.to_string()),
        ("restarts", s.restarts.to_string()),
    ]
}

/// The summaries as a table: one row per field, `*` where they differ.
pub fn side_by_side(a: &Summary, b: &Summary) -> String {
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "end".into(),
            format_go_duration((a.end_time_s * 1e9).round() as i64),
            format_go_duration((b.end_time_s * 1e9).round() as i64),
        ),
        ("events".into(), a.events.to_string(), b.events.to_string()),
    ];
    let mut names: Vec<&String> = a.services.keys().chain(b.services.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let fa = fields(a.services.get(name));
        let fb = fields(b.services.get(name));
        let keys: Vec<&str> = if fa.len() >= fb.len() {
            fa.iter().map(|f| f.0).collect()
        } else {
            fb.iter().map(|f| f.0).collect()
        };
        for k in keys {
            let get = |f: &[(&str, String)]| {
                f.iter()
                    .find(|x| x.0 == k)
                    .map(|x| x.1.clone())
                    .unwrap_or_else(|| "-".into())
            };
            rows.push((format!("{name}.{k}"), get(&fa), get(&fb)));
        }
    }
    // A value of several parts (`update ...; rollback ...`) takes one line
    // per part, so that the table stays narrow.
    let rows: Vec<(String, Vec<String>, Vec<String>, bool)> = rows
        .into_iter()
        .map(|(k, va, vb)| {
            let split = |v: &str| v.split("; ").map(str::to_string).collect::<Vec<_>>();
            let differ = va != vb;
            (k, split(&va), split(&vb), differ)
        })
        .collect();
    let w0 = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let w1 = rows
        .iter()
        .flat_map(|r| r.1.iter().map(|v| v.chars().count()))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = String::new();
    let _ = writeln!(out, "{:<w0$}   {:<w1$}   B", "summary", "A");
    for (k, va, vb, differ) in rows {
        for i in 0..va.len().max(vb.len()) {
            let key = if i == 0 { k.as_str() } else { "" };
            let a = va.get(i).map_or("", String::as_str);
            let b = vb.get(i).map_or("", String::as_str);
            let mark = if differ && i == 0 { "   *" } else { "" };
            let line = format!("{key:<w0$}   {a:<w1$}   {b}{mark}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

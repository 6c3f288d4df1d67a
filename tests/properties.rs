//! Property tests over random small scenarios (STYLE habit 7).
//!
//! Each case is a scenario written as YAML text — 1–6 nodes, a service of
//! 1–8 replicas updated from `app:1` to `app:2` at 1m with a random update
//! and rollback config, random fixed or uniform latencies, maybe a failing
//! new image, maybe a node event during the update — run through
//! `swarmsim::runner::run`, and judged from the cluster's event log (the
//! rows of events.csv) and the final state.
//!
//! A failing case is shrunk and its YAML printed; proptest also records it
//! in `proptest-regressions/properties.txt` so it is replayed first next
//! time.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;

use proptest::prelude::*;
use swarmsim::runner::{RunOptions, RunResult, run};
use swarmsim::scenario;
use swarmsim::swarm::model::TaskState;
use swarmsim::swarm::store::{LogKind, LogRecord};

const CASES: u32 = 64;

// ----- scenario generator ---------------------------------------------------

#[derive(Debug, Clone)]
enum Latency {
    FixedMs(u64),
    UniformMs(u64, u64),
}

impl Latency {
    fn yaml(&self) -> String {
        match self {
            Latency::FixedMs(v) => format!("{v}ms"),
            Latency::UniformMs(a, b) => format!("{{dist: uniform, min: {a}ms, max: {b}ms}}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NodeEvent {
    Drain,
    Pause,
    Down,
}

#[derive(Debug, Clone)]
struct Params {
    seed: u64,
    nodes: usize,
    replicas: u64,
    parallelism: u64,
    delay_ms: u64,
    monitor_s: u64,
    start_first: bool,
    failure_action: &'static str,
    rollback_parallelism: u64,
    rollback_start_first: bool,
    rollback_failure_action: &'static str,
    /// pull, start, stop of app:1 and app:2.
    old: [Latency; 3],
    new: [Latency; 3],
    /// Probability that a start of app:2 fails (`None`: key omitted).
    fail_on_start: Option<f64>,
    /// (seconds after the update, node index, event).
    node_event: Option<(u64, usize, NodeEvent)>,
}

impl Params {
    fn image_fails(&self) -> bool {
        self.fail_on_start.is_some_and(|p| p > 0.0)
    }

    fn clean(&self) -> bool {
        !self.image_fails() && self.node_event.is_none()
    }

    fn yaml(&self) -> String {
        let mut y = String::new();
        let _ = writeln!(y, "name: property case\nseed: {}\nuntil: 6m", self.seed);
        y.push_str("cluster:\n  nodes:\n");
        for i in 1..=self.nodes {
            let role = if i == 1 { "manager" } else { "worker" };
            let _ = writeln!(y, "    - name: n{i}\n      role: {role}");
        }
        y.push_str("images:\n");
        for (name, lat) in [("default", &self.old), ("\"app:2\"", &self.new)] {
            let _ = writeln!(
                y,
                "  {name}:\n    pull: {}\n    start: {}\n    stop: {}",
                lat[0].yaml(),
                lat[1].yaml(),
                lat[2].yaml()
            );
        }
        if let Some(p) = self.fail_on_start {
            let _ = writeln!(y, "    fail_on_start: {p}");
        }
        let order = |sf: bool| if sf { "start-first" } else { "stop-first" };
        let _ = writeln!(
            y,
            "services:\n  web:\n    image: app:1\n    deploy:\n      replicas: {}\n      \
             update_config: {{parallelism: {}, delay: {}ms, monitor: {}s, failure_action: {}, order: {}}}\n      \
             rollback_config: {{parallelism: {}, failure_action: {}, order: {}}}",
            self.replicas,
            self.parallelism,
            self.delay_ms,
            self.monitor_s,
            self.failure_action,
            order(self.start_first),
            self.rollback_parallelism,
            self.rollback_failure_action,
            order(self.rollback_start_first),
        );
        y.push_str("timeline:\n  - at: 1m\n    docker: docker service update --image app:2 web\n");
        if let Some((after, node, ev)) = self.node_event {
            let what = match ev {
                NodeEvent::Drain => "availability: drain",
                NodeEvent::Pause => "availability: pause",
                NodeEvent::Down => "state: down",
            };
            let _ = writeln!(
                y,
                "  - at: {}s\n    node: {{name: n{}, {what}}}",
                60 + after,
                node + 1
            );
        }
        y
    }
}

fn latency() -> impl Strategy<Value = Latency> {
    prop_oneof![
        (0u64..=3000).prop_map(Latency::FixedMs),
        (0u64..=1500, 0u64..=1500).prop_map(|(a, d)| Latency::UniformMs(a, a + d)),
    ]
}

fn latencies() -> impl Strategy<Value = [Latency; 3]> {
    (latency(), latency(), latency()).prop_map(|(a, b, c)| [a, b, c])
}

fn params() -> impl Strategy<Value = Params> {
    let shape = (
        any::<u16>(),
        1usize..=6,
        1u64..=8,
        0u64..=3,
        0u64..=10_000,
        1u64..=10,
        any::<bool>(),
        prop::sample::select(vec!["pause", "continue", "rollback"]),
    );
    let rollback = (
        0u64..=3,
        any::<bool>(),
        prop::sample::select(vec!["pause", "continue"]),
    );
    let behaviour = (
        latencies(),
        latencies(),
        prop::option::weighted(
            0.4,
            prop_oneof![
                Just(0.0),
                Just(1.0),
                (1u32..100).prop_map(|p| p as f64 / 100.0)
            ],
        ),
        prop::option::weighted(
            0.4,
            (
                0u64..=30,
                0usize..6,
                prop_oneof![
                    Just(NodeEvent::Drain),
                    Just(NodeEvent::Pause),
                    Just(NodeEvent::Down)
                ],
            ),
        ),
    );
    (shape, rollback, behaviour).prop_map(
        |(
            (seed, nodes, replicas, parallelism, delay_ms, monitor_s, start_first, failure_action),
            (rollback_parallelism, rollback_start_first, rollback_failure_action),
            (old, new, fail_on_start, node_event),
        )| Params {
            seed: seed as u64,
            nodes,
            replicas,
            parallelism,
            delay_ms,
            monitor_s,
            start_first,
            failure_action,
            rollback_parallelism,
            rollback_start_first,
            rollback_failure_action,
            old,
            new,
            fail_on_start,
            node_event: node_event.map(|(t, n, e)| (t, n % nodes, e)),
        },
    )
}

fn simulate(yaml: &str) -> RunResult {
    let sc = scenario::parse_str(yaml, Path::new("property.yaml"))
        .unwrap_or_else(|e| panic!("generated scenario is invalid: {e}\n{yaml}"));
    run(
        Rc::new(sc),
        &RunOptions {
            seed: None,
            until: None,
            keep_log: true,
            ..Default::default()
        },
    )
}

// ----- reading the log ----------------------------------------------------------

fn state_of(s: &str) -> TaskState {
    TaskState::from_api(s).unwrap_or_else(|| panic!("unknown task state {s:?} in the log"))
}

/// A row's place in the log, for messages.
fn row(r: &RunResult, i: usize) -> String {
    let csv = r.events_csv();
    csv.lines().nth(i + 1).unwrap_or("?").to_string()
}

/// Whether the creation row `i` is the restart supervisor's replacement:
/// `Restart` raises the old task's desired state to SHUTDOWN and creates
/// the replacement in the same slot right after, so the row just before
/// the creation is that desired-state change. The updater does it the
/// other way round (creates the new task, then shuts the old one down,
/// stop-first) or never shuts it down before the new one runs
/// (start-first).
fn is_restart_replacement(r: &RunResult, i: usize) -> bool {
    let log = &r.cluster.store.log;
    if i == 0 {
        return false;
    }
    let (prev, rec) = (&log[i - 1], &log[i]);
    let tasks = &r.cluster.store.state.tasks;
    let (Some(p), Some(t)) = (prev.task, rec.task) else {
        return false;
    };
    prev.kind == LogKind::Task
        && prev.time == rec.time
        && p != t
        && tasks[p].service == tasks[t].service
        && tasks[p].slot == tasks[t].slot
        && prev.desired_state == "shutdown"
}

// ----- properties ---------------------------------------------------------------

/// Parallelism: at no point are more than `P` slots being updated by one
/// updater run (P = all slots when the config says 0).
///
/// What is observable: a slot is "being updated" from the row creating a
/// task of the updater (created with desired `ready` during an update, and
/// not a restart replacement, see [`is_restart_replacement`]) until that
/// task's first row at `running` or beyond. A run starts at an `updating`
/// or `rollback_started` row and uses the update or rollback parallelism;
/// tasks still in flight from a cancelled run (an automatic rollback
/// cancels the update) are not counted against the next run.
///
/// The updater's workers are busy at least that long (they are released
/// when they see their task at `running` or beyond, or later), so the
/// count is a lower bound of busy workers and must stay ≤ P.
///
/// Returns (updater tasks created, the largest count seen).
fn check_parallelism(p: &Params, r: &RunResult) -> Result<(usize, usize), String> {
    let bound = |par: u64| {
        if par == 0 {
            p.replicas as usize
        } else {
            par as usize
        }
    };
    let mut limit: Option<usize> = None;
    let mut in_flight: BTreeSet<usize> = BTreeSet::new();
    let mut created = 0;
    let mut max_seen = 0;
    for (i, rec) in r.cluster.store.log.iter().enumerate() {
        match rec.kind {
            LogKind::Update => match rec.state {
                "updating" => {
                    in_flight.clear();
                    limit = Some(bound(p.parallelism));
                }
                "rollback_started" => {
                    in_flight.clear();
                    limit = Some(bound(p.rollback_parallelism));
                }
                _ => {}
            },
            LogKind::Task => {
                let t = rec.task.expect("task row has a task");
                if rec.state == "new" {
                    if rec.desired_state == "ready" && !is_restart_replacement(r, i) {
                        let Some(l) = limit else {
                            return Err(format!(
                                "updater-like task created outside any update: {}",
                                row(r, i)
                            ));
                        };
                        created += 1;
                        in_flight.insert(t);
                        max_seen = max_seen.max(in_flight.len());
                        if in_flight.len() > l {
                            return Err(format!(
                                "{} slots being updated at once, parallelism allows {l}; at row {}: {}\nin flight: {:?}",
                                in_flight.len(),
                                i + 2,
                                row(r, i),
                                in_flight
                                    .iter()
                                    .map(|&t| r.cluster.store.state.tasks[t].id.clone())
                                    .collect::<Vec<_>>()
                            ));
                        }
                    }
                } else if state_of(rec.state) >= TaskState::Running {
                    in_flight.remove(&t);
                }
            }
            LogKind::Node => {}
        }
    }
    Ok((created, max_seen))
}

/// Without failing image and node event the update completes with every
/// replica running the new image.
fn check_clean_update(
    p: &Params,
    r: &RunResult,
    created: usize,
    max_seen: usize,
) -> Result<(), String> {
    let s = &r.summary.services["web"];
    if s.update_state.as_deref() != Some("completed") {
        return Err(format!(
            "update state {:?}, expected completed",
            s.update_state
        ));
    }
    if s.running_replicas != s.desired_replicas || s.desired_replicas != p.replicas {
        return Err(format!(
            "{}/{} running at the end, {} replicas asked",
            s.running_replicas, s.desired_replicas, p.replicas
        ));
    }
    if s.image != "app:2" {
        return Err(format!("service image {}", s.image));
    }
    let running: Vec<_> = r
        .cluster
        .store
        .state
        .tasks
        .iter()
        .filter(|t| !t.deleted && t.state == TaskState::Running)
        .collect();
    if running.len() as u64 != p.replicas {
        return Err(format!(
            "{} tasks running, expected {}",
            running.len(),
            p.replicas
        ));
    }
    if let Some(t) = running.iter().find(|t| t.spec.image != "app:2") {
        return Err(format!("task {} still runs {}", t.id, t.spec.image));
    }
    // Every slot was replaced exactly once by the updater, and the first
    // min(P, slots) slots were handed out together.
    if created as u64 != p.replicas {
        return Err(format!("{created} updater tasks for {} slots", p.replicas));
    }
    let par = if p.parallelism == 0 {
        p.replicas
    } else {
        p.parallelism
    };
    if max_seen as u64 != par.min(p.replicas) {
        return Err(format!(
            "at most {max_seen} slots updated at once; expected {}",
            par.min(p.replicas)
        ));
    }
    Ok(())
}

/// The scheduler never assigns a task to a node the managers see as down,
/// drained or paused (only READY and ACTIVE nodes:
/// `docs/swarm-rules.md#scheduler-filters`).
fn check_assignments(r: &RunResult) -> Result<(), String> {
    let mut node_state: BTreeMap<usize, String> = BTreeMap::new();
    let mut assigned: BTreeSet<usize> = BTreeSet::new();
    for (i, rec) in r.cluster.store.log.iter().enumerate() {
        match rec.kind {
            LogKind::Node => {
                node_state.insert(rec.node.expect("node row"), rec.message.to_string());
            }
            LogKind::Task if rec.state == "assigned" => {
                let t = rec.task.expect("task");
                if !assigned.insert(t) {
                    continue; // a later desired-state change, not the assignment
                }
                let n = rec
                    .node
                    .ok_or_else(|| format!("assigned without a node: {}", row(r, i)))?;
                let st = node_state.get(&n).map(String::as_str).unwrap_or("");
                if st != "status ready, availability active" {
                    return Err(format!(
                        "task assigned to {} while it is `{st}`: row {}: {}",
                        r.cluster.store.state.nodes[n].hostname,
                        i + 2,
                        row(r, i)
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Per task, observed and desired states never decrease; log and
/// events.csv times never decrease; events.csv has one row per log record.
fn check_monotonic(r: &RunResult) -> Result<(), String> {
    let mut last: BTreeMap<usize, (TaskState, TaskState)> = BTreeMap::new();
    let mut prev_time = swarmsim::sim::time::SimTime::ZERO;
    for (i, rec) in r.cluster.store.log.iter().enumerate() {
        if rec.time < prev_time {
            return Err(format!("time goes back at row {}: {}", i + 2, row(r, i)));
        }
        prev_time = rec.time;
        if rec.kind != LogKind::Task {
            continue;
        }
        let t = rec.task.expect("task");
        let now = (state_of(rec.state), state_of(rec.desired_state));
        if let Some(&(s, d)) = last.get(&t) {
            if now.0 < s {
                return Err(format!(
                    "task state moved back from {s:?} at row {}: {}",
                    i + 2,
                    row(r, i)
                ));
            }
            if now.1 < d {
                return Err(format!(
                    "desired state moved back from {d:?} at row {}: {}",
                    i + 2,
                    row(r, i)
                ));
            }
        }
        last.insert(t, now);
    }
    let csv = r.events_csv();
    let mut prev = -1.0f64;
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        rows += 1;
        let t: f64 = line
            .split(',')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad time_s in {line:?}"))?;
        if t < prev {
            return Err(format!("events.csv time goes back: {line}"));
        }
        prev = t;
    }
    if rows != r.cluster.store.log.len() {
        return Err(format!(
            "{rows} csv rows for {} log records",
            r.cluster.store.log.len()
        ));
    }
    Ok(())
}

// ----- the tests --------------------------------------------------------------------

/// 64 cases from a fixed seed, so the suite is reproducible; explore
/// more with e.g. `PROPTEST_RNG_SEED=7 PROPTEST_CASES=1000 cargo test
/// --test properties`.
fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = CASES;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(20251125);
    }
    // Shrinking re-runs whole simulations; keep it bounded.
    c.max_shrink_iters = 256;
    c
}

fn ok(res: Result<(), String>, yaml: &str) -> Result<(), TestCaseError> {
    res.map_err(|e| TestCaseError::fail(format!("{e}\n--- scenario ---\n{yaml}")))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_more_than_parallelism_slots_updating(p in params()) {
        let yaml = p.yaml();
        let r = simulate(&yaml);
        let res = check_parallelism(&p, &r).map(|_| ());
        ok(res, &yaml)?;
    }

    #[test]
    fn clean_update_completes_on_the_new_image(
        p in params().prop_map(|mut p| { p.fail_on_start = None; p.node_event = None; p })
    ) {
        prop_assert!(p.clean());
        let yaml = p.yaml();
        let r = simulate(&yaml);
        let res = check_parallelism(&p, &r)
            .and_then(|(created, max_seen)| check_clean_update(&p, &r, created, max_seen));
        ok(res, &yaml)?;
    }

    #[test]
    fn no_task_assigned_to_a_down_drained_or_paused_node(
        p in params().prop_filter("a node event", |p| p.node_event.is_some())
    ) {
        let yaml = p.yaml();
        let r = simulate(&yaml);
        ok(check_assignments(&r), &yaml)?;
    }

    #[test]
    fn states_and_times_never_go_back(p in params()) {
        let yaml = p.yaml();
        let r = simulate(&yaml);
        ok(check_monotonic(&r), &yaml)?;
    }

    #[test]
    fn same_scenario_and_seed_give_identical_bytes(p in params()) {
        let yaml = p.yaml();
        let a = simulate(&yaml);
        let b = simulate(&yaml);
        prop_assert_eq!(&a.transcript, &b.transcript, "transcript differs\n{}", yaml);
        prop_assert_eq!(a.events_csv(), b.events_csv(), "events.csv differs\n{}", yaml);
        prop_assert_eq!(a.summary_json(), b.summary_json(), "summary.json differs\n{}", yaml);
    }
}

// ----- the checkers themselves ----------------------------------------------------------

/// A known scenario: the checks accept it, and the parallelism checker
/// does see the updater's tasks (it is not vacuous).
#[test]
fn checkers_see_the_updater_tasks_of_a_known_run() {
    let p = Params {
        seed: 1,
        nodes: 3,
        replicas: 5,
        parallelism: 2,
        delay_ms: 1000,
        monitor_s: 2,
        start_first: false,
        failure_action: "pause",
        rollback_parallelism: 1,
        rollback_start_first: false,
        rollback_failure_action: "pause",
        old: [
            Latency::FixedMs(500),
            Latency::FixedMs(500),
            Latency::FixedMs(100),
        ],
        new: [
            Latency::FixedMs(500),
            Latency::FixedMs(500),
            Latency::FixedMs(100),
        ],
        fail_on_start: None,
        node_event: None,
    };
    let r = simulate(&p.yaml());
    let (created, max_seen) = check_parallelism(&p, &r).unwrap();
    assert_eq!((created, max_seen), (5, 2));
    check_clean_update(&p, &r, created, max_seen).unwrap();
    check_assignments(&r).unwrap();
    check_monotonic(&r).unwrap();
    // With a parallelism of 1 claimed, the same log breaks the bound.
    let strict = Params {
        parallelism: 1,
        ..p.clone()
    };
    assert!(check_parallelism(&strict, &r).is_err());
}

/// The assignment checker rejects an assignment to a drained node.
#[test]
fn assignment_checker_rejects_a_drained_node() {
    let p = Params {
        seed: 1,
        nodes: 2,
        replicas: 2,
        parallelism: 1,
        delay_ms: 0,
        monitor_s: 1,
        start_first: false,
        failure_action: "pause",
        rollback_parallelism: 1,
        rollback_start_first: false,
        rollback_failure_action: "pause",
        old: [
            Latency::FixedMs(0),
            Latency::FixedMs(0),
            Latency::FixedMs(0),
        ],
        new: [
            Latency::FixedMs(0),
            Latency::FixedMs(0),
            Latency::FixedMs(0),
        ],
        fail_on_start: None,
        node_event: None,
    };
    let mut r = simulate(&p.yaml());
    check_assignments(&r).unwrap();
    // Pretend node 0 was drained before anything was scheduled.
    let drained = LogRecord {
        message: "status ready, availability drain".into(),
        ..r.cluster.store.log[0].clone()
    };
    r.cluster.store.log.insert(1, drained);
    assert!(check_assignments(&r).is_err());
}

//! `swarmsim snapshot`: a live swarm written as a scenario (docs/snapshot.md).
//!
//! Reads the Engine API with four GETs only (`/info`, `/nodes`,
//! `/services`, `/tasks`; `--watch` adds polls of `/services` and `/tasks`)
//! and never writes to the engine. The conversion ([`scenario_yaml`]) is
//! a pure function of those answers, so it is tested on JSON captured from
//! a real engine (`tests/fixtures/snapshot/`).
//!
//! What is written: every node (hostname, role, availability, labels,
//! CPUs, memory), every service's spec in the scenario's keys, an
//! `images:` block fitted from the tasks' timestamps, and a commented
//! `docker service update --image` line per service. What is not: the
//! environment, command and arguments, secrets, configs, mounts,
//! networks, registry credentials (only what the simulation uses).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::error::{bail, unexpected};
use super::{Context, Result};
use serde_json::Value;

use super::calibrate::fit;
use super::engine::{Engine, parse_time};
use super::measure::{Samples, samples};
use super::record::{Recording, health};
use crate::docker::cli::values::validate_constraint;
use crate::docker::duration::format_go_duration;

/// Fewer start samples than this: the image uses the `default` entry.
pub const MIN_SAMPLES: usize = 3;
/// Swarm's restart delay when the policy sets none (docs/scenario-format.md).
const DEFAULT_RESTART_DELAY_NS: i128 = 5_000_000_000;

/// What `swarmsim snapshot` writes besides the engine's answers.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--no-labels`: leave node and service labels out.
    pub no_labels: bool,
}

/// The engine's answers to the read-only calls.
pub struct EngineState {
    pub info: Value,
    pub nodes: Value,
    pub services: Value,
    pub tasks: Value,
    /// Status changes followed with `--watch` (full state histories).
    pub watched: Option<Recording>,
}

impl EngineState {
    /// GET `/info`, `/nodes`, `/services`, `/tasks`.
    pub fn read(engine: &Engine) -> Result<EngineState> {
        let info = engine.get("/info")?;
        let swarm = &info["Swarm"];
        if swarm["LocalNodeState"].as_str() != Some("active") {
            bail!(
                "this engine is not part of a swarm (Swarm.LocalNodeState: {}); point DOCKER_HOST at a manager",
                swarm["LocalNodeState"].as_str().unwrap_or("unknown")
            );
        }
        if swarm["ControlAvailable"].as_bool() != Some(true) {
            bail!(
                "this engine is a swarm worker; only a manager can list nodes and services: point DOCKER_HOST at a manager"
            );
        }
        Ok(EngineState {
            info,
            nodes: engine.get("/nodes")?,
            services: engine.get("/services")?,
            tasks: engine.get("/tasks")?,
            watched: None,
        })
    }

    /// The four answers saved as `info.json`, `nodes.json`,
    /// `services.json`, `tasks.json` in `dir` (the test fixtures).
    pub fn from_dir(dir: &Path) -> Result<EngineState> {
        let read = |name: &str| -> Result<Value> {
            let p = dir.join(name);
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("read {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{}: bad JSON", p.display()))
        };
        Ok(EngineState {
            info: read("info.json")?,
            nodes: read("nodes.json")?,
            services: read("services.json")?,
            tasks: read("tasks.json")?,
            watched: None,
        })
    }
}

/// The engine at `DOCKER_HOST` (`unix://PATH`), else docker's default
/// socket `/var/run/docker.sock`.
pub fn engine_from_env() -> Result<Engine> {
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    let Some(path) = host.strip_prefix("unix://") else {
        bail!(
            "DOCKER_HOST={host}: swarmsim snapshot reads the engine's unix socket only (unix://PATH); run it on a manager, or forward its socket (ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock MANAGER)"
        );
    };
    let engine = Engine {
        socket: PathBuf::from(path),
        docker: PathBuf::from("docker"),
    };
    engine
        .get("/_ping")
        .with_context(|| format!("no Docker engine answers at {host}"))?;
    Ok(engine)
}

/// A YAML double-quoted scalar (JSON's string syntax is YAML's).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn dur(ns: i64) -> String {
    format_go_duration(ns)
}

/// Nano-CPUs as a number of cores (`2`, `0.5`).
fn cores(nano: i64) -> String {
    if nano % 1_000_000_000 == 0 {
        (nano / 1_000_000_000).to_string()
    } else {
        format!("{}", nano as f64 / 1e9)
    }
}

/// The image reference without a pinned digest (`redis:7@sha256:…` →
/// `redis:7`), as the scenario names images.
pub fn image_name(reference: &str) -> String {
    match reference.split_once("@sha256:") {
        Some((name, _)) => name.to_string(),
        None => reference.to_string(),
    }
}

/// A flow map of string labels, keys sorted.
fn labels_flow(v: &Value) -> Option<String> {
    let m = v.as_object().filter(|m| !m.is_empty())?;
    let sorted: BTreeMap<&String, &Value> = m.iter().collect();
    let items: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}: {}", q(k), q(s(v))))
        .collect();
    Some(format!("{{{}}}", items.join(", ")))
}

fn ns_of(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// One task as the snapshot sees it (times in ns since the epoch).
#[derive(Debug, Clone)]
struct Task {
    service_id: String,
    /// Slot for replicated services, node id for global ones.
    group: String,
    image: String,
    created: Option<i128>,
    ts: Option<i128>,
    state: String,
    err: String,
    exit_code: Option<i64>,
    /// Healthcheck interval in seconds, when the task has one.
    health_interval: Option<f64>,
    restart_delay: i128,
}

fn tasks_of(state: &EngineState) -> Vec<Task> {
    let mut out: Vec<Task> = state
        .tasks
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let cs = &t["Spec"]["ContainerSpec"];
            let group = match t["Slot"].as_u64() {
                Some(n) if n > 0 => n.to_string(),
                _ => s(&t["NodeID"]).to_string(),
            };
            let restart_delay = t["Spec"]["RestartPolicy"]["Delay"]
                .as_i64()
                .map_or(DEFAULT_RESTART_DELAY_NS, i128::from);
            Task {
                service_id: s(&t["ServiceID"]).to_string(),
                group,
                image: image_name(s(&cs["Image"])),
                created: parse_time(s(&t["CreatedAt"])),
                ts: parse_time(s(&t["Status"]["Timestamp"])),
                state: s(&t["Status"]["State"]).to_string(),
                err: s(&t["Status"]["Err"]).to_string(),
                exit_code: t["Status"]["ContainerStatus"]["ExitCode"]
                    .as_i64()
                    .filter(|&c| c != 0),
                health_interval: health(&cs["Healthcheck"]).map(|(i, _)| i),
                restart_delay,
            }
        })
        .collect();
    // Ordered by creation within each (service, slot) history; the id-free
    // key keeps the output independent of the engine's listing order.
    out.sort_by(|a, b| {
        (&a.service_id, &a.group, a.created, &a.state).cmp(&(
            &b.service_id,
            &b.group,
            b.created,
            &b.state,
        ))
    });
    out
}

/// What the tasks' timestamps tell about one image.
#[derive(Debug, Default, Clone)]
struct ImageHistory {
    tasks: usize,
    /// Seconds from the moment a task could start (its creation; the end
    /// of its predecessor in the slot when that came later; plus the
    /// restart delay after a failure) to RUNNING, less one health interval.
    start: Vec<f64>,
    /// Seconds from the stop request (the replacement's creation, or its
    /// RUNNING in a start-first update) to SHUTDOWN.
    stop: Vec<f64>,
    failed: usize,
    unhealthy: usize,
    exit_codes: BTreeMap<i64, usize>,
}

const ENDED: &[&str] = &[
    "complete", "shutdown", "failed", "rejected", "remove", "orphaned",
];

fn histories(tasks: &[Task]) -> BTreeMap<String, ImageHistory> {
    let mut by_image: BTreeMap<String, ImageHistory> = BTreeMap::new();
    let secs = |ns: i128| ns as f64 / 1e9;
    for (i, t) in tasks.iter().enumerate() {
        let same_slot =
            |o: &&Task| o.service_id == t.service_id && o.group == t.group && !o.group.is_empty();
        let prev = i
            .checked_sub(1)
            .and_then(|j| tasks.get(j))
            .filter(same_slot);
        let next = tasks.get(i + 1).filter(same_slot);
        let h = by_image.entry(t.image.clone()).or_default();
        h.tasks += 1;
        if let (Some(c), Some(r), "running") = (t.created, t.ts, t.state.as_str()) {
            let mut from = c;
            if let Some(p) = prev
                && let Some(pe) = p.ts
                && ENDED.contains(&p.state.as_str())
            {
                if matches!(p.state.as_str(), "failed" | "complete" | "rejected") {
                    // A restart: the supervisor waits the restart delay.
                    from = from.max(pe + t.restart_delay);
                } else if pe <= r {
                    // Stop-first: the task waited for its predecessor (in
                    // a start-first update the predecessor ends later).
                    from = from.max(pe);
                }
            }
            let x = secs(r - from) - t.health_interval.unwrap_or(0.0);
            if r >= from {
                h.start.push(x.max(0.0));
            }
        }
        if t.state == "shutdown"
            && let (Some(end), Some(n)) = (t.ts, next)
            && let Some(nc) = n.created
        {
            let req = match n.ts {
                // Start-first: the old task is stopped once the new one runs.
                Some(nr) if n.state == "running" && nr <= end && nr >= nc => Some(nr),
                _ if nc <= end => Some(nc),
                _ => None,
            };
            if let Some(req) = req {
                h.stop.push(secs(end - req));
            }
        }
        if matches!(t.state.as_str(), "failed" | "rejected") {
            h.failed += 1;
            if t.err.contains("unhealthy container") {
                h.unhealthy += 1;
            }
        }
        if let Some(c) = t.exit_code
            && t.state == "failed"
        {
            *h.exit_codes.entry(c).or_default() += 1;
        }
    }
    by_image
}

/// The `images:` block.
fn images_block(
    y: &mut String,
    hist: &BTreeMap<String, ImageHistory>,
    watched: &BTreeMap<String, Samples>,
) {
    let _ = writeln!(y, "images:");
    let _ = writeln!(
        y,
        "  # Fitted from the tasks' own timestamps as /tasks reports them. The Engine API\n  # keeps one status per task (its latest state and when it was reached), so a\n  # task gives `start` = from when it could start (its creation; its predecessor's\n  # end when it had to wait for it; after a failure, plus the restart delay) to\n  # RUNNING, less one health interval (the simulator adds that itself); this\n  # includes scheduling and any image pull, hence `pull: 0s`. `stop` = from the\n  # stop request (the replacement's creation; its RUNNING in a start-first\n  # update) to SHUTDOWN. Fits as `swarmsim calibrate` makes them: maximum\n  # likelihood per family, the smallest KS distance D kept (within 0.02: the\n  # lower AIC), empirical when p < 0.05 with 8+ samples, the median with fewer\n  # than 3. An image's latency with fewer than {MIN_SAMPLES} samples is the `default`\n  # entry's, which pools every image (and, there, 1 or 2 samples give their\n  # median). A new image (the update's) uses `default` too: add your\n  # registry's pull time to its `pull` if the nodes do not have it yet."
    );
    if !watched.is_empty() {
        let _ = writeln!(
            y,
            "  # Images whose status changes were followed with --watch use those instead\n  # (assigned → preparing → starting → running, shutdowns and failures, as\n  # `swarmsim calibrate` measures them: pull = PREPARING → READY, start =\n  # STARTING → RUNNING, stop = stop request → SHUTDOWN, crash_after = RUNNING → FAILED)."
        );
    }
    // `default`: every image's samples pooled.
    let pool = |f: fn(&ImageHistory) -> &Vec<f64>| -> Vec<f64> {
        hist.values().flat_map(|h| f(h).iter().copied()).collect()
    };
    let (all_start, all_stop) = (pool(|h| &h.start), pool(|h| &h.stop));
    let wpool = |f: fn(&Samples) -> &Vec<f64>| -> Vec<f64> {
        watched
            .values()
            .flat_map(|w| f(w).iter().copied())
            .collect()
    };
    let w_start = wpool(|w| &w.start);
    let _ = writeln!(y, "  default:");
    if w_start.len() >= MIN_SAMPLES {
        // The full histories are the better account: pooled alone.
        let _ = writeln!(y, "    # every image followed with --watch, pooled");
        for (key, xs) in [
            ("pull", wpool(|w| &w.pull)),
            ("start", w_start),
            ("stop", wpool(|w| &w.stop)),
        ] {
            if xs.is_empty() {
                let _ = writeln!(y, "    # {key}: no sample: swarmsim's default");
            } else {
                latency(y, key, &xs);
            }
        }
    } else if all_start.len() < MIN_SAMPLES {
        let _ = writeln!(
            y,
            "    # too little history ({} start samples in all): swarmsim's defaults (pull 1s, start 500ms, stop 200ms)",
            all_start.len()
        );
    } else {
        let _ = writeln!(y, "    # every image pooled");
        let _ = writeln!(y, "    pull: 0s");
        latency(y, "start", &all_start);
        if !all_stop.is_empty() {
            latency(y, "stop", &all_stop);
        } else {
            let _ = writeln!(
                y,
                "    # stop: no task was seen replaced: swarmsim's default (200ms)"
            );
        }
    }
    for (image, h) in hist {
        if let Some(w) = watched.get(image)
            && !w.start.is_empty()
        {
            let _ = writeln!(y, "  {}:", q(image));
            let _ = writeln!(
                y,
                "    # followed with --watch: {} starts, {} stops, {} pulls",
                w.start.len(),
                w.stop.len(),
                w.pull.len()
            );
            for (key, xs) in [
                ("pull", &w.pull),
                ("start", &w.start),
                ("stop", &w.stop),
                ("crash_after", &w.crash),
            ] {
                if !xs.is_empty() {
                    latency(y, key, xs);
                }
            }
            failures(y, h);
            continue;
        }
        let (start_ok, stop_ok) = (h.start.len() >= MIN_SAMPLES, h.stop.len() >= MIN_SAMPLES);
        if !start_ok && !stop_ok {
            let _ = writeln!(
                y,
                "  {}:   # too little history ({} tasks, {} start samples, {} stop samples): the default entry",
                q(image),
                h.tasks,
                h.start.len(),
                h.stop.len()
            );
            failures(y, h);
            continue;
        }
        let _ = writeln!(y, "  {}:", q(image));
        let _ = writeln!(y, "    # {} tasks", h.tasks);
        if start_ok {
            let _ = writeln!(y, "    pull: 0s");
            latency(y, "start", &h.start);
        } else {
            let _ = writeln!(
                y,
                "    # start: {} samples, too few: the default entry's",
                h.start.len()
            );
        }
        if stop_ok {
            latency(y, "stop", &h.stop);
        } else {
            let _ = writeln!(
                y,
                "    # stop: {} samples, too few: the default entry's",
                h.stop.len()
            );
        }
        failures(y, h);
    }
}

fn latency(y: &mut String, key: &str, xs: &[f64]) {
    if let Some(c) = fit(xs) {
        let _ = writeln!(y, "    # {key}: {}", c.quality());
        let _ = writeln!(y, "    {key}: {}", c.fit.yaml());
    }
}

/// Failures are reported, not modelled: a single status cannot tell a
/// failed start from a crash.
fn failures(y: &mut String, h: &ImageHistory) {
    if h.failed == 0 {
        return;
    }
    let codes: Vec<String> = h
        .exit_codes
        .iter()
        .map(|(c, n)| format!("exit {c} ×{n}"))
        .collect();
    let _ = writeln!(
        y,
        "    # {} of {} tasks failed{}{}: not modelled (a task's last status cannot tell a failed\n    # start from a crash); set fail_on_start, crash_after or health_fail to simulate it",
        h.failed,
        h.tasks,
        if codes.is_empty() {
            String::new()
        } else {
            format!(" ({})", codes.join(", "))
        },
        if h.unhealthy > 0 {
            format!(", {} as unhealthy", h.unhealthy)
        } else {
            String::new()
        }
    );
}

fn update_config(v: &Value) -> Option<String> {
    if !v.is_object() {
        return None;
    }
    // Absent fields are Swarm's zero values (parallelism 0 = all at once,
    // monitor 0 = 5s); written out, since the scenario's omitted
    // parallelism means 1.
    let action = match s(&v["FailureAction"]) {
        "" => "pause",
        a => a,
    };
    let order = match s(&v["Order"]) {
        "" => "stop-first",
        o => o,
    };
    Some(format!(
        "{{parallelism: {}, delay: {}, failure_action: {action}, monitor: {}, max_failure_ratio: {}, order: {order}}}",
        v["Parallelism"].as_u64().unwrap_or(0),
        dur(ns_of(&v["Delay"]).unwrap_or(0)),
        dur(ns_of(&v["Monitor"]).unwrap_or(0)),
        v["MaxFailureRatio"].as_f64().unwrap_or(0.0),
    ))
}

fn restart_policy(v: &Value) -> Option<String> {
    if !v.is_object() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(c) = v["Condition"].as_str() {
        parts.push(format!("condition: {c}"));
    }
    if let Some(d) = ns_of(&v["Delay"]) {
        parts.push(format!("delay: {}", dur(d)));
    }
    if let Some(n) = v["MaxAttempts"].as_u64() {
        parts.push(format!("max_attempts: {n}"));
    }
    if let Some(w) = ns_of(&v["Window"]) {
        parts.push(format!("window: {}", dur(w)));
    }
    Some(format!("{{{}}}", parts.join(", ")))
}

/// Whether the engine probes at `StartInterval` during the start period:
/// Docker 25 (API 1.44) and later; older engines probe at the interval.
fn has_start_interval(server_version: &str) -> bool {
    server_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_none_or(|major| major >= 25)
}

fn healthcheck(v: &Value, server_version: &str) -> Option<String> {
    if !v.is_object() {
        return None;
    }
    let mut parts = Vec::new();
    let test: Vec<&str> = v["Test"].as_array().into_iter().flatten().map(s).collect();
    match test.as_slice() {
        [] => {}
        ["NONE", ..] => return Some("{disable: true}".to_string()),
        ["CMD-SHELL", cmd] => parts.push(format!("test: {}", q(cmd))),
        other => parts.push(format!(
            "test: [{}]",
            other.iter().map(|w| q(w)).collect::<Vec<_>>().join(", ")
        )),
    }
    for (key, api) in [
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
        ("start_interval", "StartInterval"),
    ] {
        if let Some(d) = ns_of(&v[api]).filter(|&d| d > 0) {
            parts.push(format!("{key}: {}", dur(d)));
        }
    }
    if let Some(r) = v["Retries"].as_u64().filter(|&r| r > 0) {
        parts.push(format!("retries: {r}"));
    }
    // An engine older than Docker 25 has no start interval: during the
    // start period it probes at the interval, which the scenario's
    // `start_interval` (default 5s, Docker 25's) must then say.
    if ns_of(&v["StartPeriod"]).is_some_and(|d| d > 0)
        && ns_of(&v["StartInterval"]).is_none_or(|d| d == 0)
        && !has_start_interval(server_version)
    {
        let interval = ns_of(&v["Interval"])
            .filter(|&d| d > 0)
            .unwrap_or(30_000_000_000);
        parts.push(format!("start_interval: {}", dur(interval)));
    }
    Some(format!("{{{}}}", parts.join(", ")))
}

fn resources_block(y: &mut String, r: &Value) {
    let part = |v: &Value, pids: bool| -> Option<String> {
        let mut p = Vec::new();
        if let Some(n) = v["NanoCPUs"].as_i64().filter(|&n| n > 0) {
            p.push(format!("cpus: {}", q(&cores(n))));
        }
        if let Some(m) = v["MemoryBytes"].as_i64().filter(|&m| m > 0) {
            p.push(format!("memory: {m}"));
        }
        if pids && let Some(n) = v["Pids"].as_i64().filter(|&n| n > 0) {
            p.push(format!("pids: {n}"));
        }
        (!p.is_empty()).then(|| format!("{{{}}}", p.join(", ")))
    };
    let res = part(&r["Reservations"], false);
    let lim = part(&r["Limits"], true);
    if res.is_none() && lim.is_none() {
        return;
    }
    let _ = writeln!(y, "      resources:");
    if let Some(res) = res {
        let _ = writeln!(y, "        reservations: {res}");
    }
    if let Some(lim) = lim {
        let _ = writeln!(y, "        limits: {lim}");
    }
}

/// One service under `services:`; `None` (with a comment written) when
/// the simulator cannot run it.
fn service(
    y: &mut String,
    svc: &Value,
    opts: &Options,
    server_version: &str,
) -> Option<(String, String)> {
    let spec = &svc["Spec"];
    let name = s(&spec["Name"]).to_string();
    let tt = &spec["TaskTemplate"];
    let cs = &tt["ContainerSpec"];
    let mode = &spec["Mode"];
    let replicas = if mode["Global"].is_object() {
        None
    } else if let Some(r) = mode["Replicated"].as_object() {
        Some(r.get("Replicas").and_then(Value::as_u64).unwrap_or(1))
    } else {
        let kind = match mode.as_object().and_then(|m| m.keys().next()) {
            Some(k) if k == "ReplicatedJob" => "replicated-job".to_string(),
            Some(k) if k == "GlobalJob" => "global-job".to_string(),
            Some(k) => k.clone(),
            None => "unknown".to_string(),
        };
        let _ = writeln!(
            y,
            "  # {}: left out ({kind} mode: jobs are not simulated)",
            q(&name)
        );
        return None;
    };
    if cs.is_null() {
        let _ = writeln!(y, "  # {}: left out (not a container service)", q(&name));
        return None;
    }
    let image = image_name(s(&cs["Image"]));
    let _ = writeln!(y, "  {}:", q(&name));
    let us = &svc["UpdateStatus"];
    if let Some(state) = us["State"].as_str().filter(|st| !st.is_empty()) {
        let prev = image_name(s(
            &svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        ));
        let _ = writeln!(
            y,
            "    # at the snapshot: UpdateStatus {state}, {}{}",
            q(s(&us["Message"])),
            if matches!(
                state,
                "updating" | "paused" | "rollback_started" | "rollback_paused"
            ) && !prev.is_empty()
            {
                format!("; below is the spec it moves to, the previous image was {prev}")
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(y, "    image: {}", q(&image));
    if let Some(g) = ns_of(&cs["StopGracePeriod"]) {
        let _ = writeln!(y, "    stop_grace_period: {}", dur(g));
    }
    if let Some(b) = cs["Init"].as_bool() {
        let _ = writeln!(y, "    init: {b}");
    }
    if let Some(h) = healthcheck(&cs["Healthcheck"], server_version) {
        let _ = writeln!(y, "    healthcheck: {h}");
    }
    let ports: Vec<String> = spec["EndpointSpec"]["Ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let target = p["TargetPort"].as_u64().filter(|&t| t > 0)?;
            let published = p["PublishedPort"].as_u64().filter(|&t| t > 0);
            Some(format!(
                "{{target: {target}{}, protocol: {}, mode: {}}}",
                published.map_or(String::new(), |p| format!(", published: {p}")),
                match s(&p["Protocol"]) {
                    "" => "tcp",
                    x => x,
                },
                match s(&p["PublishMode"]) {
                    "" => "ingress",
                    x => x,
                }
            ))
        })
        .collect();
    if !ports.is_empty() {
        let _ = writeln!(y, "    ports:");
        for p in ports {
            let _ = writeln!(y, "      - {p}");
        }
    }
    let _ = writeln!(y, "    deploy:");
    match replicas {
        Some(r) => {
            let _ = writeln!(y, "      mode: replicated");
            let _ = writeln!(y, "      replicas: {r}");
        }
        None => {
            let _ = writeln!(y, "      mode: global");
        }
    }
    if !opts.no_labels
        && let Some(l) = labels_flow(&spec["Labels"])
    {
        let _ = writeln!(y, "      labels: {l}");
    }
    if let Some(m) = spec["EndpointSpec"]["Mode"]
        .as_str()
        .filter(|m| !m.is_empty())
    {
        let _ = writeln!(y, "      endpoint_mode: {m}");
    }
    if let Some(u) = update_config(&spec["UpdateConfig"]) {
        let _ = writeln!(y, "      update_config: {u}");
    }
    if let Some(u) = update_config(&spec["RollbackConfig"]) {
        let _ = writeln!(y, "      rollback_config: {u}");
    }
    if let Some(r) = restart_policy(&tt["RestartPolicy"]) {
        let _ = writeln!(y, "      restart_policy: {r}");
    }
    let pl = &tt["Placement"];
    let mut constraints = Vec::new();
    for c in pl["Constraints"].as_array().into_iter().flatten().map(s) {
        match validate_constraint(c) {
            Ok(()) => constraints.push(q(c)),
            Err(e) => {
                let _ = writeln!(y, "      # constraint {} left out: {e}", q(c));
            }
        }
    }
    let prefs: Vec<String> = pl["Preferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["Spread"]["SpreadDescriptor"].as_str())
        .map(|d| format!("{{spread: {}}}", q(d)))
        .collect();
    let max = pl["MaxReplicas"].as_u64().filter(|&m| m > 0);
    if !constraints.is_empty() || !prefs.is_empty() || max.is_some() {
        let _ = writeln!(y, "      placement:");
        if !constraints.is_empty() {
            let _ = writeln!(y, "        constraints: [{}]", constraints.join(", "));
        }
        if !prefs.is_empty() {
            let _ = writeln!(y, "        preferences: [{}]", prefs.join(", "));
        }
        if let Some(m) = max {
            let _ = writeln!(y, "        max_replicas_per_node: {m}");
        }
    }
    resources_block(y, &tt["Resources"]);
    Some((name, image))
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The scenario for the engine's answers; checked by the scenario loader
/// before it is returned.
pub fn scenario_yaml(state: &EngineState, opts: &Options) -> Result<String> {
    let info = &state.info;
    let host = s(&info["Name"]);
    let nodes: Vec<&Value> = state.nodes.as_array().into_iter().flatten().collect();
    let mut services: Vec<&Value> = state.services.as_array().into_iter().flatten().collect();
    services.sort_by(|a, b| s(&a["Spec"]["Name"]).cmp(s(&b["Spec"]["Name"])));
    let tasks = tasks_of(state);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# swarmsim snapshot of the swarm managed by {} (Docker {}) at {}:\n# {}, {}, {}. Read-only Engine API calls: GET /info, /nodes,\n# /services, /tasks. Left out: environment, command and arguments, secrets, configs,\n# mounts, networks, registry credentials{}. Image digests are dropped.\n# See docs/snapshot.md.",
        q(host),
        s(&info["ServerVersion"]),
        s(&info["SystemTime"]),
        count(nodes.len(), "node"),
        count(services.len(), "service"),
        count(tasks.len(), "task"),
        if opts.no_labels {
            ", labels (--no-labels: constraints on node.labels cannot be met)"
        } else {
            ""
        }
    );
    let _ = writeln!(y, "name: {}", q(&format!("snapshot of {host}")));
    let _ = writeln!(y, "seed: 1");

    // Nodes, by hostname (then id, for equal hostnames).
    let mut rows: Vec<(String, String, &Value)> = nodes
        .iter()
        .map(|n| {
            (
                s(&n["Description"]["Hostname"]).to_string(),
                s(&n["ID"]).to_string(),
                *n,
            )
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut down = Vec::new();
    let _ = writeln!(y, "cluster:\n  nodes:");
    for (i, (hostname, id, n)) in rows.iter().enumerate() {
        let twin = rows
            .iter()
            .enumerate()
            .any(|(j, r)| j != i && r.0 == *hostname);
        let name = if twin {
            format!("{hostname}-{}", id.get(..10).unwrap_or(id))
        } else {
            hostname.clone()
        };
        let status = s(&n["Status"]["State"]);
        if twin {
            let _ = writeln!(
                y,
                "    # two nodes are named {}: this one (id {id}) is {name}",
                q(hostname)
            );
        }
        if status != "ready" {
            let _ = writeln!(
                y,
                "    # {} was {status} at the snapshot (the simulation starts every node Ready; see the timeline)",
                q(&name)
            );
            down.push(name.clone());
        }
        let _ = writeln!(y, "    - name: {}", q(&name));
        let _ = writeln!(
            y,
            "      role: {}",
            match s(&n["Spec"]["Role"]) {
                "manager" => "manager",
                _ => "worker",
            }
        );
        let avail = match s(&n["Spec"]["Availability"]) {
            "" => "active",
            a => a,
        };
        let _ = writeln!(y, "      availability: {avail}");
        if !opts.no_labels
            && let Some(l) = labels_flow(&n["Spec"]["Labels"])
        {
            let _ = writeln!(y, "      labels: {l}");
        }
        let res = &n["Description"]["Resources"];
        let mut parts = Vec::new();
        if let Some(c) = res["NanoCPUs"].as_i64().filter(|&c| c > 0) {
            parts.push(format!("cpus: {}", cores(c)));
        }
        if let Some(m) = res["MemoryBytes"].as_i64().filter(|&m| m > 0) {
            parts.push(format!("memory: {m}"));
        }
        if !parts.is_empty() {
            let _ = writeln!(y, "      resources: {{{}}}", parts.join(", "));
        }
    }

    let hist = histories(&tasks);
    let mut watched: BTreeMap<String, Samples> = BTreeMap::new();
    for (image, w) in state.watched.as_ref().map(samples).unwrap_or_default() {
        let all = watched.entry(image_name(&image)).or_default();
        all.pull.extend(w.pull);
        all.start.extend(w.start);
        all.stop.extend(w.stop);
        all.crash.extend(w.crash);
    }
    images_block(&mut y, &hist, &watched);

    let mut updates = Vec::new();
    if services.is_empty() {
        let _ = writeln!(y, "# no services in the swarm");
    } else {
        let _ = writeln!(y, "services:");
        for svc in &services {
            if let Some(u) = service(&mut y, svc, opts, s(&info["ServerVersion"])) {
                updates.push(u);
            }
        }
    }

    let _ = writeln!(y, "timeline:");
    let _ = writeln!(
        y,
        "  # The services above exist at 0s. To simulate an update, uncomment one of these\n  # lines, set the new image (and any other `docker service update` flag), then\n  # `swarmsim run` this file (or `swarmsim batch` it over many seeds)."
    );
    for name in &down {
        let _ = writeln!(
            y,
            "  # - at: 0s\n  #   node: {{name: {}, state: down}}",
            q(name)
        );
    }
    for (name, image) in &updates {
        // Service names are [a-zA-Z0-9][a-zA-Z0-9_.-]*: no quoting needed.
        let _ = writeln!(
            y,
            "  # - at: 1m\n  #   docker: docker service update --image {image} {name}"
        );
    }
    crate::scenario::parse_str(&y, Path::new("snapshot.yaml")).map_err(|e| {
        unexpected!("the snapshot does not load as a scenario (a bug in swarmsim snapshot): {e}")
    })?;
    Ok(y)
}

#[cfg(test)]
mod tests;

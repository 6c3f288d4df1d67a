//! Runs a scenario's timeline against the real engine at the scenario's
//! times and records what happened, and what the CLI printed for each
//! command.
//!
//! The trace follows the engine's event stream (`GET /events`, see
//! [`Events`]): a service event carries the update state it moved to
//! (`updatestate.new`, with the engine's time), so an UpdateStatus state
//! that lasts a millisecond (a `rollback_started` that completes at once) is
//! recorded even though no poll ever sees it; a container event carries the
//! task id. Every event triggers a poll of the Engine API at once, which
//! fills in the details (task states with their `Status.Timestamp`, the
//! update message); a slower poll in between catches what has no event
//! (pending, assigned, rejected tasks).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Result;
use super::error::{bail, unexpected};
use serde_json::{Value, json};

use super::engine::{Engine, parse_time, split_words};
use crate::docker::duration::format_go_duration;
use crate::scenario::{Action, NodeChange, Scenario};
use crate::sim::time::secs_f64;

/// How often the engine is polled between events (each event is followed
/// by a poll at once).
pub const POLL: Duration = Duration::from_millis(50);
/// The message of an UpdateStatus state that only the event stream saw
/// (no poll caught it): compared as "any message".
pub const UNSEEN: &str = "(not seen by a poll)";
/// How long to keep recording after the last timeline item when the
/// scenario has no `until`.
const TAIL: f64 = 5.0;

/// One observation of a task (times in seconds from the scenario start).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSnap {
    pub state: String,
    pub desired: String,
    pub message: String,
    pub err: String,
    /// `Status.Timestamp`: when the engine says the state changed.
    pub ts: f64,
}

#[derive(Debug, Clone)]
pub struct TaskObs {
    pub id: String,
    pub service: String,
    pub slot: u64,
    pub image: String,
    pub created: f64,
    /// The task's healthcheck (interval in seconds, retries); `None`
    /// without one.
    pub health: Option<(f64, u64)>,
    /// Each observed state with its engine timestamp, in order.
    pub states: Vec<(String, f64)>,
    /// Each observed desired state with the poll time it was first seen.
    pub desired: Vec<(String, f64)>,
    pub last: TaskSnap,
}

impl TaskObs {
    pub fn state_time(&self, state: &str) -> Option<f64> {
        self.states
            .iter()
            .find(|(s, _)| s == state)
            .map(|&(_, t)| t)
    }
    pub fn desired_time(&self, desired: &str) -> Option<f64> {
        self.desired
            .iter()
            .find(|(s, _)| s == desired)
            .map(|&(_, t)| t)
    }
}

/// One UpdateStatus change of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateObs {
    pub service: String,
    /// Best estimate of when it happened: `StartedAt` for a new start,
    /// `CompletedAt` for a completion, else the poll that saw it.
    pub t: f64,
    pub state: String,
    pub message: String,
}

pub struct Recording {
    /// `[time] $ command` and the real CLI's output, like swarmsim's.
    pub transcript: String,
    /// JSON lines: actions, task changes and update changes.
    pub trace: String,
    /// By task id; `order` keeps first-seen order.
    pub tasks: BTreeMap<String, TaskObs>,
    pub order: Vec<String>,
    pub updates: Vec<UpdateObs>,
    /// The engine's node name (`NODE` in `service ps`).
    pub hostname: String,
    /// Actions the real engine cannot replay (node events, kills).
    pub unsupported: Vec<String>,
    pub end: f64,
    /// Nodes stopped by a `node: {state: down}` event (to start again).
    pub downed: Vec<String>,
    /// Ids of the tasks that the engine still had at the last poll.
    pub final_ids: std::collections::BTreeSet<String>,
    /// Tasks whose container the scenario killed (`kill:`): their exit is
    /// not the image's behaviour.
    pub killed: std::collections::BTreeSet<String>,
}

impl Recording {
    fn empty(hostname: String, end: f64) -> Recording {
        Recording {
            transcript: String::new(),
            trace: String::new(),
            tasks: BTreeMap::new(),
            order: Vec::new(),
            updates: Vec::new(),
            hostname,
            unsupported: Vec::new(),
            end,
            downed: Vec::new(),
            final_ids: Default::default(),
            killed: Default::default(),
        }
    }

    /// One observation of a task at poll time `t`.
    #[allow(clippy::too_many_arguments)]
    fn observe(
        &mut self,
        t: f64,
        id: &str,
        service: String,
        slot: u64,
        image: String,
        created: f64,
        health: Option<(f64, u64)>,
        snap: TaskSnap,
    ) {
        let obs = self.tasks.entry(id.to_string()).or_insert_with(|| TaskObs {
            id: id.to_string(),
            service,
            slot,
            image,
            created,
            health,
            states: Vec::new(),
            desired: Vec::new(),
            last: snap.clone(),
        });
        if obs.states.last().map(|(s, _)| s) != Some(&snap.state) {
            obs.states.push((snap.state.clone(), snap.ts));
        }
        if obs.desired.last().map(|(s, _)| s) != Some(&snap.desired) {
            obs.desired.push((snap.desired.clone(), t));
        }
        obs.last = snap;
        if !self.order.iter().any(|o| o == id) {
            self.order.push(id.to_string());
        }
    }

    /// Rebuilds the task observations of a trace written by `swarmsim
    /// record` or `swarmsim conform` (its `task` lines).
    pub fn from_trace(text: &str) -> Result<Recording> {
        let mut rec = Recording::empty(String::new(), 0.0);
        // `kill:` lines: (service, slot, time).
        let mut kills: Vec<(String, u64, f64)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .map_err(|e| unexpected!("line {}: not JSON: {e}", n + 1))?;
            let t = v["t"].as_f64().unwrap_or(0.0);
            rec.end = rec.end.max(t);
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            match v["kind"].as_str().unwrap_or("") {
                "meta" => {
                    rec.hostname = s("hostname");
                    continue;
                }
                "task_gone" => {
                    rec.final_ids.remove(&s("task_id"));
                    continue;
                }
                "kill" => {
                    if !s("task_id").is_empty() {
                        rec.killed.insert(s("task_id"));
                    }
                    if let Some((svc, slot)) = s("task").rsplit_once('.') {
                        kills.push((svc.to_string(), slot.parse().unwrap_or(0), t));
                    }
                    continue;
                }
                // An UpdateStatus change (`at`: its best time, written
                // since the event stream; older traces: the poll's time).
                "update" if !s("state").is_empty() && v["at"].is_f64() => {
                    rec.updates.push(UpdateObs {
                        service: s("service"),
                        t: v["at"].as_f64().unwrap_or(t),
                        state: s("state"),
                        message: s("message"),
                    });
                    continue;
                }
                "task" => {}
                _ => continue,
            }
            let health = v["health"]
                .as_array()
                .and_then(|a| Some((a.first()?.as_f64()?, a.get(1)?.as_u64()?)));
            let snap = TaskSnap {
                state: s("state"),
                desired: s("desired_state"),
                message: s("message"),
                err: s("err"),
                ts: v["timestamp"].as_f64().unwrap_or(t),
            };
            rec.final_ids.insert(s("task_id"));
            rec.observe(
                t,
                &s("task_id"),
                s("service"),
                v["slot"].as_u64().unwrap_or(0),
                s("image"),
                v["created_at"].as_f64().unwrap_or(t),
                health,
                snap,
            );
        }
        rec.updates.sort_by(|a, b| a.t.total_cmp(&b.t));
        // A task of a killed slot that failed within 2 s of the kill was
        // the one killed (traces without the killed task's id).
        for t in rec.tasks.values() {
            let failed = t.state_time("failed");
            if kills.iter().any(|(svc, slot, at)| {
                *svc == t.service
                    && *slot == t.slot
                    && failed.is_some_and(|f| f >= *at - 0.1 && f <= *at + 2.0)
            }) {
                rec.killed.insert(t.id.clone());
            }
        }
        Ok(rec)
    }

    /// A recording made before (`real-trace.jsonl` and
    /// `real-transcript.txt` of `swarmsim conform`), to compare again.
    pub fn replayed(trace: &str, transcript: &str, end: f64) -> Result<Recording> {
        let mut rec = Recording::from_trace(trace)?;
        if rec.hostname.is_empty() {
            bail!(
                "the trace has no `meta` line with the engine's hostname (recorded before the event stream; run the scenario again)"
            );
        }
        rec.trace = trace.to_string();
        rec.transcript = transcript.to_string();
        rec.end = end;
        rec.unsupported = transcript
            .lines()
            .filter_map(|l| {
                l.split_once("] # not replayed: ")
                    .map(|(_, w)| w.to_string())
            })
            .collect();
        Ok(rec)
    }
}

/// When the recording of `scenario` ends (seconds from its start): its
/// `until`, else 5 s after its last timeline item.
pub fn end_of(scenario: &Scenario) -> f64 {
    let last_at = scenario
        .timeline
        .iter()
        .map(|i| i.at)
        .max()
        .unwrap_or_default();
    match scenario.until {
        Some(u) => secs_f64(u),
        None => secs_f64(last_at) + TAIL,
    }
}

/// The engine's event stream (`GET /events`), read by a thread of its own:
/// each event is sent to the recorder as it comes. The connection has a
/// read timeout, so the thread notices within a second that the recorder
/// has gone (the channel is closed) and ends.
pub struct Events {
    pub rx: std::sync::mpsc::Receiver<Value>,
}

impl Events {
    pub fn open(engine: &Engine) -> Result<Events> {
        use std::io::{Read, Write};
        let mut sock = std::os::unix::net::UnixStream::connect(&engine.socket)?;
        sock.set_read_timeout(Some(Duration::from_secs(1)))?;
        let filters = "%7B%22type%22%3A%5B%22service%22%2C%22container%22%2C%22node%22%5D%7D";
        write!(
            sock,
            "GET /v1.41/events?filters={filters} HTTP/1.0\r\nHost: docker\r\n\r\n"
        )?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf: Vec<u8> = Vec::new();
            let mut chunk = [0u8; 8192];
            let mut in_body = false;
            loop {
                match sock.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        // Nothing for a second: is anyone still listening?
                        if tx.send(Value::Null).is_err() {
                            return;
                        }
                        continue;
                    }
                    Err(_) => return,
                }
                if !in_body {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    buf.drain(..end + 4);
                    in_body = true;
                }
                while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&line)
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(Events { rx })
    }
}

/// `swarmsim record`: follows `service` on the engine, writing every task
/// and UpdateStatus change to `out` as it happens (so an interrupted run
/// keeps what it saw), until `duration` seconds have passed (or forever).
pub fn follow(engine: &Engine, service: &str, duration: Option<f64>, out: &Path) -> Result<()> {
    let sink = std::fs::File::create(out)
        .map_err(|e| unexpected!("cannot write {}: {e}", out.display()))?;
    let mut r = Recorder {
        engine,
        t0_ns: epoch_ns(),
        start: Instant::now(),
        rec: Recording::empty(engine.hostname()?, duration.unwrap_or(f64::INFINITY)),
        last_update: BTreeMap::new(),
        only: Some(service.to_string()),
        sink: Some(sink),
        announced: BTreeMap::new(),
    };
    let events = Events::open(engine)?;
    let t = r.now();
    r.log(json!({"t": t, "kind": "record", "service": service,
        "started_at_unix_ns": r.t0_ns.to_string(), "engine": engine.version()}));
    let host = r.rec.hostname.clone();
    r.log(json!({"t": t, "kind": "meta", "hostname": host}));
    loop {
        r.poll()?;
        if r.now() >= r.rec.end {
            return Ok(());
        }
        r.wait_events(&events, POLL.as_secs_f64());
    }
}

/// Follows every service for `seconds` without acting on the engine (the
/// same read-only polling of `/services` and `/tasks` as `record`; used by
/// `swarmsim snapshot --watch`).
pub fn watch(engine: &Engine, seconds: f64) -> Result<Recording> {
    let mut r = Recorder {
        engine,
        t0_ns: epoch_ns(),
        start: Instant::now(),
        rec: Recording::empty(engine.hostname()?, seconds),
        last_update: BTreeMap::new(),
        announced: BTreeMap::new(),
        only: None,
        sink: None,
    };
    loop {
        r.poll()?;
        if r.now() >= r.rec.end {
            return Ok(r.rec);
        }
        std::thread::sleep(POLL);
    }
}

/// The docker CLI words for the real engine: `--detach` so that create,
/// update, rollback and scale return at once (the CLI otherwise follows the
/// progress), `--no-resolve-image` so that it never asks a registry.
pub fn real_words(text: &str) -> Result<Vec<String>> {
    let mut words = split_words(text)?;
    if words.first().map(String::as_str) != Some("docker") {
        bail!("not a docker command: {text}");
    }
    words.remove(0);
    if words.len() >= 2 && words[0] == "service" {
        // `update --rollback` takes no other flag but --detach and --quiet
        // ("other flags may not be combined with --rollback").
        let rollback = words.iter().any(|w| w == "--rollback");
        let extra: &[&str] = match words[1].as_str() {
            "update" if rollback => &["--detach"],
            "create" | "update" => &["--detach", "--no-resolve-image"],
            "rollback" | "scale" => &["--detach"],
            _ => &[],
        };
        for (i, e) in extra.iter().enumerate() {
            words.insert(2 + i, e.to_string());
        }
    }
    Ok(words)
}

fn epoch_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

struct Recorder<'a> {
    engine: &'a Engine,
    t0_ns: i128,
    start: Instant,
    rec: Recording,
    last_update: BTreeMap<String, (String, String, Option<f64>, Option<f64>)>,
    /// Only this service (`swarmsim record`); `None`: every service.
    only: Option<String>,
    /// Each trace line is also written (and flushed) here at once.
    sink: Option<std::fs::File>,
    /// Update states announced by the event stream and not yet seen by a
    /// poll, per service name: (engine time, state).
    announced: BTreeMap<String, Vec<(f64, String)>>,
}

impl Recorder<'_> {
    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    fn rel(&self, s: &Value) -> Option<f64> {
        parse_time(s.as_str()?).map(|ns| (ns - self.t0_ns) as f64 / 1e9)
    }
    fn log(&mut self, v: Value) {
        let line = v.to_string() + "\n";
        if let Some(f) = self.sink.as_mut() {
            use std::io::Write as _;
            let _ = f.write_all(line.as_bytes()).and_then(|_| f.flush());
        }
        self.rec.trace.push_str(&line);
    }

    /// Waits up to `wait` seconds for events; logs each one that comes
    /// (a service's new update state is kept for the next poll).
    fn wait_events(&mut self, events: &Events, wait: f64) {
        let deadline = Instant::now() + Duration::from_secs_f64(wait.max(0.0));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = match events.rx.recv_timeout(left) {
                Ok(Value::Null) => continue,
                Ok(v) => v,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return,
                Err(_) => {
                    std::thread::sleep(left);
                    return;
                }
            };
            let t = self.now();
            let at = ev["timeNano"]
                .as_i64()
                .map(|ns| (ns as i128 - self.t0_ns) as f64 / 1e9)
                .unwrap_or(t);
            let attrs = &ev["Actor"]["Attributes"];
            let a = |k: &str| attrs[k].as_str().unwrap_or("").to_string();
            let kind = ev["Type"].as_str().unwrap_or("").to_string();
            let action = ev["Action"].as_str().unwrap_or("").to_string();
            if kind == "service" && !a("updatestate.new").is_empty() {
                let name = a("name");
                if self.only.as_ref().is_none_or(|o| *o == name) {
                    self.announced
                        .entry(name)
                        .or_default()
                        .push((at, a("updatestate.new").to_lowercase()));
                }
            }
            let task = a("com.docker.swarm.task.id");
            self.log(
                json!({"t": t, "kind": "event", "type": kind, "action": action,
                "at": at, "name": a("name"), "task_id": task,
                "updatestate": a("updatestate.new"), "exit_code": a("exitCode")}),
            );
            // Poll at once for the details; more events go on after it.
            return;
        }
    }

    fn poll(&mut self) -> Result<()> {
        let t = self.now();
        let services = self.engine.get("/services")?;
        let mut names = BTreeMap::new();
        for s in services.as_array().into_iter().flatten() {
            let id = s["ID"].as_str().unwrap_or("").to_string();
            let name = s["Spec"]["Name"].as_str().unwrap_or("").to_string();
            if self.only.as_ref().is_some_and(|o| *o != name) {
                continue;
            }
            names.insert(id, name.clone());
            let us = &s["UpdateStatus"];
            let state = us["State"].as_str().unwrap_or("").to_string();
            let message = us["Message"].as_str().unwrap_or("").to_string();
            let started = self.rel(&us["StartedAt"]);
            let completed = self.rel(&us["CompletedAt"]);
            let cur = (state.clone(), message.clone(), started, completed);
            // States the event stream announced that this poll does not
            // show any more: they lasted less than a poll.
            let announced = self.announced.remove(&name).unwrap_or_default();
            let mut last_state = self
                .last_update
                .get(&name)
                .map(|p| p.0.clone())
                .unwrap_or_default();
            let n_announced = announced.len();
            for (i, (at, st)) in announced.into_iter().enumerate() {
                let is_current = i + 1 == n_announced && st == state;
                if is_current || st == last_state {
                    continue;
                }
                self.rec.updates.push(UpdateObs {
                    service: name.clone(),
                    t: at,
                    state: st.clone(),
                    message: UNSEEN.to_string(),
                });
                self.log(
                    json!({"t": t, "kind": "update", "service": name, "state": st,
                    "message": UNSEEN, "at": at, "via": "event"}),
                );
                last_state = st;
            }
            if self.last_update.get(&name) != Some(&cur) {
                let prev = self.last_update.insert(name.clone(), cur);
                let prev_started = prev.as_ref().and_then(|p| p.2);
                let mut at = None;
                if !state.is_empty() {
                    let when = match state.as_str() {
                        "completed" | "rollback_completed" => completed,
                        _ if started != prev_started => started,
                        _ => None,
                    };
                    at = Some(when.unwrap_or(t));
                    self.rec.updates.push(UpdateObs {
                        service: name.clone(),
                        t: when.unwrap_or(t),
                        state: state.clone(),
                        message: message.clone(),
                    });
                }
                self.log(
                    json!({"t": t, "kind": "update", "service": name, "state": state,
                    "message": message, "started_at": started, "completed_at": completed,
                    "at": at}),
                );
            }
        }
        let tasks = self.engine.get("/tasks")?;
        let before = std::mem::take(&mut self.rec.final_ids);
        for task in tasks.as_array().into_iter().flatten() {
            let id = task["ID"].as_str().unwrap_or("").to_string();
            if self.only.is_some() && !names.contains_key(task["ServiceID"].as_str().unwrap_or(""))
            {
                continue;
            }
            self.rec.final_ids.insert(id.clone());
            let st = &task["Status"];
            let snap = TaskSnap {
                state: st["State"].as_str().unwrap_or("").to_string(),
                desired: task["DesiredState"].as_str().unwrap_or("").to_string(),
                message: st["Message"].as_str().unwrap_or("").to_string(),
                err: st["Err"].as_str().unwrap_or("").to_string(),
                ts: self.rel(&st["Timestamp"]).unwrap_or(t),
            };
            if self.rec.tasks.get(&id).map(|o| &o.last) == Some(&snap) {
                continue;
            }
            let service = names
                .get(task["ServiceID"].as_str().unwrap_or(""))
                .cloned()
                .unwrap_or_default();
            let slot = task["Slot"].as_u64().unwrap_or(0);
            let image = task["Spec"]["ContainerSpec"]["Image"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let created = self.rel(&task["CreatedAt"]).unwrap_or(t);
            let health = health(&task["Spec"]["ContainerSpec"]["Healthcheck"]);
            self.log(
                json!({"t": t, "kind": "task", "service": service, "task_id": id,
                "slot": slot, "image": image, "created_at": created, "state": snap.state,
                "desired_state": snap.desired, "timestamp": snap.ts, "message": snap.message,
                "err": snap.err, "health": health}),
            );
            self.rec
                .observe(t, &id, service, slot, image, created, health, snap);
        }
        // Tasks the engine deleted (a scale-down's slots, by the reaper).
        for id in before.difference(&self.rec.final_ids.clone()) {
            self.log(json!({"t": t, "kind": "task_gone", "task_id": id}));
        }
        Ok(())
    }
}

/// Performs a node event on the real swarm; returns the transcript head
/// (as the simulator writes it) and what was printed. A machine stopping
/// or starting is `$SWARMSIM_NODE_CTL down|up NAME`
/// (`conformance/cluster.sh node`); an availability change is `docker node
/// update --availability`.
pub fn node_event(engine: &Engine, name: &str, change: NodeChange) -> Result<(String, String)> {
    match change {
        NodeChange::Down | NodeChange::Up => {
            let ctl = std::env::var("SWARMSIM_NODE_CTL").map_err(|_| {
                unexpected!(
                    "node {name}: stopping or starting a node needs SWARMSIM_NODE_CTL (conformance/cluster.sh env)"
                )
            })?;
            let (verb, head) = if change == NodeChange::Down {
                ("down", format!("# node {name} stops (machine down)"))
            } else {
                ("up", format!("# node {name} starts again"))
            };
            let mut words = split_words(&ctl)?;
            words.push(verb.to_string());
            words.push(name.to_string());
            let st = std::process::Command::new(&words[0])
                .args(&words[1..])
                .status()?;
            if !st.success() {
                bail!("{ctl} {verb} {name} failed ({st})");
            }
            Ok((head, String::new()))
        }
        NodeChange::Join | NodeChange::Leave => {
            bail!("node {name}: joining or leaving the swarm is not replayed on a real swarm")
        }
        NodeChange::Availability(a) => {
            let words: Vec<String> = ["node", "update", "--availability", a.as_str(), name]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let out = engine.cli(&words)?;
            Ok((
                format!("$ docker node update --availability {} {name}", a.as_str()),
                out.stdout + &out.stderr,
            ))
        }
    }
}

/// `kill: SERVICE.SLOT` on the real engine: the container of that slot's
/// running (or starting) task gets SIGKILL (`docker kill`), so its exit
/// code is 137; a scenario replayed for real says `exit_code: 137`, and any
/// other code is refused. The container must be on this engine's node
/// (single-node swarms). Returns what the simulator's transcript says when
/// the slot has no running task, and the killed task's id.
pub fn kill_task(engine: &Engine, name: &str, exit_code: i64) -> Result<(String, Option<String>)> {
    if exit_code != 137 {
        bail!(
            "kill {name}: a real engine can only kill with SIGKILL; write `kill: {{task: {name}, exit_code: 137}}`"
        );
    }
    let Some((service, slot)) = name.rsplit_once('.') else {
        bail!("kill {name}: not SERVICE.SLOT");
    };
    let services = engine.get("/services")?;
    let sid = services
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["Spec"]["Name"].as_str() == Some(service))
        .and_then(|s| s["ID"].as_str().map(str::to_string));
    let slot: u64 = slot.parse().unwrap_or(0);
    let tasks = engine.get("/tasks")?;
    let found = tasks.as_array().into_iter().flatten().find_map(|t| {
        let state = t["Status"]["State"].as_str().unwrap_or("");
        let desired = t["DesiredState"].as_str().unwrap_or("");
        (sid.as_deref() == t["ServiceID"].as_str()
            && t["Slot"].as_u64() == Some(slot)
            && matches!(state, "running" | "starting")
            && desired == "running")
            .then(|| {
                let cid = t["Status"]["ContainerStatus"]["ContainerID"].as_str()?;
                Some((cid.to_string(), t["ID"].as_str()?.to_string()))
            })
            .flatten()
    });
    let Some((cid, id)) = found else {
        return Ok((format!("# {name} has no running task\n"), None));
    };
    let words: Vec<String> = ["kill", "--signal", "KILL", cid.as_str()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = engine.cli(&words)?;
    if out.code != 0 {
        bail!("docker kill {cid}: {}", out.stderr.trim());
    }
    Ok((String::new(), Some(id)))
}

/// A task spec's healthcheck: (interval in seconds, retries); `None`
/// without a healthcheck (or `NONE`); the engine's defaults (30 s, 3) for
/// what it leaves out.
pub fn health(hc: &Value) -> Option<(f64, u64)> {
    let test = hc["Test"].as_array()?;
    match test.first().and_then(Value::as_str) {
        None | Some("NONE") => return None,
        _ => {}
    }
    let ns = hc["Interval"]
        .as_u64()
        .filter(|&n| n > 0)
        .unwrap_or(30_000_000_000);
    let retries = hc["Retries"].as_u64().filter(|&n| n > 0).unwrap_or(3);
    Some((ns as f64 / 1e9, retries))
}

/// Replays `scenario`'s timeline on the (clean) engine and records it.
pub fn record(engine: &Engine, scenario: &Scenario) -> Result<Recording> {
    let hostname = engine.hostname()?;
    let end = end_of(scenario);
    let events = Events::open(engine)?;
    let mut r = Recorder {
        engine,
        t0_ns: epoch_ns(),
        start: Instant::now(),
        rec: Recording::empty(hostname.clone(), end),
        last_update: BTreeMap::new(),
        only: None,
        sink: None,
        announced: BTreeMap::new(),
    };
    r.log(json!({"t": 0.0, "kind": "meta", "hostname": hostname,
        "started_at_unix_ns": r.t0_ns.to_string()}));
    let mut next = 0;
    loop {
        while next < scenario.timeline.len() && secs_f64(scenario.timeline[next].at) <= r.now() {
            let item = &scenario.timeline[next];
            next += 1;
            let stamp = format!("[{}]", format_go_duration(item.at));
            let t = r.now();
            match &item.action {
                Action::Docker { text, .. } => {
                    let words = real_words(text)?;
                    let out = engine.cli(&words)?;
                    let _ = writeln!(r.rec.transcript, "{stamp} $ {text}");
                    r.rec.transcript.push_str(&out.stdout);
                    r.rec.transcript.push_str(&out.stderr);
                    r.log(json!({"t": t, "kind": "action", "at": secs_f64(item.at),
                        "command": words, "exit_code": out.code, "stdout": out.stdout,
                        "stderr": out.stderr}));
                }
                Action::Node { name, change } => {
                    let (head, out) = node_event(engine, name, *change)?;
                    let _ = writeln!(r.rec.transcript, "{stamp} {head}");
                    r.rec.transcript.push_str(&out);
                    if *change == NodeChange::Down {
                        r.rec.downed.push(name.clone());
                    }
                    r.log(json!({"t": t, "kind": "node", "at": secs_f64(item.at),
                        "node": name, "change": format!("{change:?}"), "output": out}));
                }
                Action::Kill { task, exit_code } => {
                    let _ = writeln!(
                        r.rec.transcript,
                        "{stamp} # kill {task} (exit code {exit_code})"
                    );
                    let (out, id) = kill_task(engine, task, *exit_code)?;
                    r.rec.transcript.push_str(&out);
                    if let Some(id) = &id {
                        r.rec.killed.insert(id.clone());
                    }
                    r.log(json!({"t": t, "kind": "kill", "at": secs_f64(item.at),
                        "task": task, "task_id": id.unwrap_or_default(), "exit_code": exit_code,
                        "output": out}));
                }
            }
        }
        r.poll()?;
        let now = r.now();
        if next >= scenario.timeline.len() && now >= end {
            break;
        }
        let mut wait = POLL.as_secs_f64();
        if let Some(item) = scenario.timeline.get(next) {
            wait = wait.min((secs_f64(item.at) - now).max(0.0));
        }
        r.wait_events(&events, wait);
    }
    // A state the event stream saw may have been noted after a poll saw a
    // later one: by time (stable).
    r.rec.updates.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(r.rec)
}

#[cfg(test)]
mod tests {
    use super::{health, real_words};

    #[test]
    fn health_intervals_from_task_specs() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"Test": ["CMD-SHELL", "test -e /healthy"], "Interval": 1000000000, "Retries": 2}"#,
        )
        .unwrap();
        assert_eq!(health(&v), Some((1.0, 2)));
        let v: serde_json::Value = serde_json::from_str(r#"{"Test": ["CMD-SHELL", "x"]}"#).unwrap();
        assert_eq!(health(&v), Some((30.0, 3)));
        let v: serde_json::Value = serde_json::from_str(r#"{"Test": ["NONE"]}"#).unwrap();
        assert_eq!(health(&v), None);
        assert_eq!(health(&serde_json::Value::Null), None);
    }

    #[test]
    fn real_commands_never_block_nor_resolve() {
        let w = real_words("docker service update --image a:2 web").unwrap();
        assert_eq!(
            w[..4],
            ["service", "update", "--detach", "--no-resolve-image"]
        );
        let w = real_words("docker service update --rollback web").unwrap();
        assert_eq!(w, ["service", "update", "--detach", "--rollback", "web"]);
        let w = real_words("docker service ps web").unwrap();
        assert_eq!(w, ["service", "ps", "web"]);
    }
}

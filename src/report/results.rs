//! Result files: `events.csv` and `summary.json` (described for users in
//! `docs/usage.md#output`).

use std::collections::BTreeMap;

use std::io::Write;

use serde::Serialize;

use crate::sim::time::{NANOS_PER_MILLI, SimTime, secs_f64};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::{NodeStatus, ServiceMode};
use crate::swarm::store::{ChangeSink, ClusterState, LogRecord};

/// The header of `events.csv`.
const EVENTS_HEADER: [&str; 10] = [
    "time_s",
    "kind",
    "service",
    "task_id",
    "slot",
    "node",
    "image",
    "state",
    "desired_state",
    "message",
];

/// `events.csv` written row by row as the run goes (a [`ChangeSink`]):
/// nothing is held in memory but the writer's buffer.
pub struct EventsCsv<W: Write> {
    w: csv::Writer<W>,
    /// The first write error; later rows are dropped.
    error: Option<std::io::Error>,
}

impl<W: Write> EventsCsv<W> {
    pub fn new(out: W) -> EventsCsv<W> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        let error = w
            .write_record(EVENTS_HEADER)
            .err()
            .map(std::io::Error::from);
        EventsCsv { w, error }
    }

    /// Flushes and returns the writer, or the first error.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        ChangeSink::finish(&mut self)?;
        self.w
            .into_inner()
            .map_err(|e| std::io::Error::other(e.error().to_string()))
    }
}

impl<W: Write> ChangeSink for EventsCsv<W> {
    fn record(&mut self, st: &ClusterState, rec: &LogRecord) {
        if self.error.is_some() {
            return;
        }
        let service = rec
            .service
            .map(|s| st.services[s].spec.name.as_str())
            .unwrap_or("");
        let mut slot_buf = [0u8; 32];
        let (task_id, slot, image): (&str, &[u8], &str) = match rec.task {
            Some(t) => {
                let task = &st.tasks[t];
                let slot: &[u8] = if task.slot > 0 {
                    format_u64_into(task.slot, &mut slot_buf)
                } else {
                    b""
                };
                (task.id.as_str(), slot, task.spec.image.as_str())
            }
            None => ("", b"", ""),
        };
        let node = rec
            .node
            .map(|n| st.nodes[n].hostname.as_str())
            .unwrap_or("");
        let mut time = [0u8; 32];
        let res = self.w.write_record([
            format_secs3_into(rec.time, &mut time),
            rec.kind.as_str().as_bytes(),
            service.as_bytes(),
            task_id.as_bytes(),
            slot,
            node.as_bytes(),
            image.as_bytes(),
            rec.state.as_bytes(),
            rec.desired_state.as_bytes(),
            rec.message.as_bytes(),
        ]);
        if let Err(e) = res {
            self.error = Some(e.into());
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()
    }
}

/// `time_s` with three decimals, as [`format_secs3`] prints it, into a
/// stack buffer (no allocation per row).
fn format_secs3_into(t: SimTime, buf: &mut [u8; 32]) -> &[u8] {
    let ms = t.as_nanos() / NANOS_PER_MILLI;
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    // 32 bytes hold any u64 of seconds and the millis.
    let _ = write!(cur, "{}.{:03}", ms / 1000, ms % 1000);
    let n = cur.position() as usize;
    &buf[..n]
}

/// Formats a number into a stack buffer.
fn format_u64_into(v: u64, buf: &mut [u8; 32]) -> &[u8] {
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(cur, "{v}");
    let n = cur.position() as usize;
    &buf[..n]
}

/// `events.csv` of a run that kept its log in memory.
pub fn events_csv(cluster: &Cluster) -> String {
    let mut w = EventsCsv::new(Vec::new());
    for rec in &cluster.store.log {
        w.record(&cluster.store.state, rec);
    }
    // Writing to a Vec cannot fail.
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub end_time_s: f64,
    /// Whether the run stopped at the safety limit instead of running out
    /// of events or reaching `until`.
    pub hit_safety_limit: bool,
    pub events: u64,
    pub services: BTreeMap<String, ServiceSummary>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceSummary {
    pub image: String,
    pub desired_replicas: u64,
    pub running_replicas: u64,
    pub update_state: Option<String>,
    pub update_message: Option<String>,
    pub updates: Vec<UpdateSummary>,
    pub min_running_during_updates: Option<u64>,
    pub task_failures: u64,
    /// Replacements created by the restart supervisor.
    pub restarts: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UpdateSummary {
    pub kind: &'static str,
    pub started_s: f64,
    pub ended_s: Option<f64>,
    pub state: &'static str,
}

/// The end-of-run summary of every service that still exists.
pub fn summary(cluster: &Cluster, scenario: &str, end: SimTime, hit_limit: bool) -> Summary {
    let st = &cluster.store.state;
    let mut services = BTreeMap::new();
    for (sid, svc) in st.services.iter().enumerate() {
        if svc.removed {
            continue;
        }
        let stats = &cluster.store.stats[sid];
        let desired = match svc.spec.mode {
            ServiceMode::Replicated { replicas } => replicas,
            ServiceMode::Global => st
                .service_tasks(sid)
                .filter(|t| t.desired == crate::swarm::model::TaskState::Running)
                .count() as u64,
        };
        let running = st
            .service_tasks(sid)
            .filter(|t| {
                t.state == crate::swarm::model::TaskState::Running
                    && t.node.is_some_and(|n| {
                        st.nodes[n].agent_up && st.nodes[n].status != NodeStatus::Down
                    })
            })
            .count() as u64;
        let updates = stats
            .episodes
            .iter()
            .map(|e| UpdateSummary {
                kind: if e.rollback { "rollback" } else { "update" },
                started_s: secs_f64(e.started),
                ended_s: e.ended.map(secs_f64),
                state: e.state.as_str(),
            })
            .collect();
        services.insert(
            svc.spec.name.clone(),
            ServiceSummary {
                image: svc.spec.task.image.clone(),
                desired_replicas: desired,
                running_replicas: running,
                update_state: svc
                    .update_status
                    .as_ref()
                    .map(|s| s.state.as_str().to_string()),
                update_message: svc.update_status.as_ref().map(|s| s.message.clone()),
                updates,
                min_running_during_updates: stats.min_running_during_updates,
                task_failures: stats.task_failures,
                restarts: stats.restarts,
            },
        );
    }
    Summary {
        scenario: scenario.to_string(),
        seed: cluster.store.seed,
        end_time_s: secs_f64(end),
        hit_safety_limit: hit_limit,
        events: cluster.store.events_processed,
        services,
    }
}

/// `summary.json`: pretty-printed with a trailing newline.
pub fn summary_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).unwrap_or_default();
    s.push('\n');
    s
}

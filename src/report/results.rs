//! Result files: `events.csv` and `summary.json` (described for users in
//! `docs/usage.md#output`).

use std::collections::BTreeMap;

use std::io::Write;

use serde::Serialize;

use crate::sim::time::{Secs3, SimTime, secs_f64};
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
/// nothing is held in memory but one buffer of rows.
///
/// A row whose fields need no quotes (almost all) is copied into the
/// buffer as it is, numbers through `itoa` and [`Secs3`]; a row with a
/// field that holds `,`, `"`, `\r` or `\n` is written by the `csv`
/// crate's writer, which quotes it.
pub struct EventsCsv<W: Write> {
    w: W,
    /// Rows not yet handed to `w`.
    buf: Vec<u8>,
    /// The first write error; later rows are dropped.
    error: Option<std::io::Error>,
}

/// Rows are handed to the writer in chunks of about this size.
const EVENTS_CHUNK: usize = 1 << 16;

impl<W: Write> EventsCsv<W> {
    pub fn new(out: W) -> EventsCsv<W> {
        let mut csv = EventsCsv {
            w: out,
            buf: Vec::with_capacity(EVENTS_CHUNK + 1024),
            error: None,
        };
        csv.push_row(&EVENTS_HEADER.map(str::as_bytes));
        csv
    }

    /// Flushes and returns the writer, or the first error.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        ChangeSink::finish(&mut self)?;
        Ok(self.w)
    }

    /// Appends one row to the buffer, quoted where a field needs it.
    fn push_row(&mut self, row: &[&[u8]; 10]) {
        let needs_quotes = |f: &&[u8]| f.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'));
        if row.iter().any(needs_quotes) {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .buffer_capacity(256)
                .from_writer(&mut self.buf);
            // Writing into a Vec cannot fail.
            let _ = w.write_record(row).and_then(|()| Ok(w.flush()?));
        } else {
            for (i, f) in row.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                self.buf.extend_from_slice(f);
            }
            self.buf.push(b'\n');
        }
    }

    /// Hands the buffered rows to the writer.
    fn drain(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.w.write_all(&self.buf)
        {
            self.error = Some(e);
        }
        self.buf.clear();
    }
}

impl<W: Write> ChangeSink for EventsCsv<W> {
    fn record(&mut self, st: &ClusterState, rec: &LogRecord) {
        if self.error.is_some() {
            return;
        }
        let service = rec
            .service
            .map(|s| &*st.services[s].spec.name)
            .unwrap_or("");
        let (task_id, slot, image) = match rec.task {
            Some(t) => {
                let task = &st.tasks[t];
                (task.id.as_str(), task.slot, task.spec.image.as_str())
            }
            None => ("", 0, ""),
        };
        let node = rec.node.map(|n| &*st.nodes[n].hostname).unwrap_or("");
        let time = Secs3::new(rec.time);
        let mut slot_buf = itoa::Buffer::new();
        // Global tasks (slot 0) have an empty slot.
        let slot: &[u8] = if slot > 0 {
            slot_buf.format(slot).as_bytes()
        } else {
            b""
        };
        self.push_row(&[
            time.as_bytes(),
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
        if self.buf.len() >= EVENTS_CHUNK {
            self.drain();
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.drain();
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()
    }
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
            svc.spec.name.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::format_secs3;

    /// Whole rows, on both paths (plain rows and rows with fields that
    /// need quotes), are the rows the `csv` crate's writer wrote.
    #[test]
    fn rows_are_the_csv_crate_rows() {
        let yaml = "name: t\nseed: 1\ncluster:\n  nodes:\n    - name: n{n}\n      count: 2\n\
                    images:\n  default: {pull: 1s, start: 1s, stop: 1s}\n\
                    services:\n  web:\n    image: web:1\n    deploy:\n      replicas: 3\n";
        let scenario =
            crate::scenario::parse_str(yaml, std::path::Path::new("t.yaml")).expect("scenario");
        let mut c = Cluster::new(scenario, 1, true);
        c.run(None, 10_000, |_, _| {});
        let mut log = c.store.log.clone();
        assert!(log.len() > 10);
        let mut odd = log[log.len() - 1].clone();
        odd.message = "say \"hi\", then\r\nmore".to_string().into();
        log.push(odd);
        for renamed in [false, true] {
            let st = &mut c.store.state;
            if renamed {
                st.services[0].spec.name = "we,b".into();
                st.nodes[0].hostname = "n\"1\"".into();
            }
            let mut ours = EventsCsv::new(Vec::new());
            let mut reference = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            reference.write_record(EVENTS_HEADER).unwrap();
            for rec in &log {
                ours.record(st, rec);
                let task = rec.task.map(|t| &st.tasks[t]);
                let slot = task
                    .filter(|t| t.slot > 0)
                    .map(|t| t.slot.to_string())
                    .unwrap_or_default();
                reference
                    .write_record([
                        format_secs3(rec.time).as_str(),
                        rec.kind.as_str(),
                        rec.service.map_or("", |s| &*st.services[s].spec.name),
                        task.map_or("", |t| t.id.as_str()),
                        slot.as_str(),
                        rec.node.map_or("", |n| &*st.nodes[n].hostname),
                        task.map_or("", |t| t.spec.image.as_str()),
                        rec.state,
                        rec.desired_state,
                        &rec.message,
                    ])
                    .unwrap();
            }
            let ours = String::from_utf8(ours.into_inner().unwrap()).unwrap();
            let reference = String::from_utf8(reference.into_inner().unwrap()).unwrap();
            assert_eq!(ours, reference);
            assert_eq!(renamed, ours.contains("\"we,b\""));
        }
    }

    /// A write error is kept and reported at the end; rows after it are
    /// dropped.
    #[test]
    fn the_first_write_error_is_reported() {
        struct Failing;
        impl Write for Failing {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let w = EventsCsv::new(Failing);
        let err = w.into_inner().err().expect("an error");
        assert_eq!(err.to_string(), "disk full");
    }
}

//! Result files: `events.csv` and `summary.json` (contract §3).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::sim::time::{SimTime, format_secs3, secs_f64};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::{NodeStatus, ServiceMode};

/// `events.csv`: one row per change, in time order.
pub fn events_csv(cluster: &Cluster) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let header = [
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
    // Writing to a Vec cannot fail.
    let _ = w.write_record(header);
    let st = &cluster.state;
    for rec in &cluster.log {
        let service = rec
            .service
            .map(|s| st.services[s].spec.name.as_str())
            .unwrap_or("");
        let (task_id, slot, image) = match rec.task {
            Some(t) => {
                let task = &st.tasks[t];
                let slot = if task.slot > 0 {
                    task.slot.to_string()
                } else {
                    String::new()
                };
                (task.id.as_str(), slot, task.spec.image.as_str())
            }
            None => ("", String::new(), ""),
        };
        let node = rec
            .node
            .map(|n| st.nodes[n].hostname.as_str())
            .unwrap_or("");
        let _ = w.write_record([
            format_secs3(rec.time).as_str(),
            rec.kind.as_str(),
            service,
            task_id,
            slot.as_str(),
            node,
            image,
            rec.state.as_str(),
            rec.desired_state.as_str(),
            rec.message.as_str(),
        ]);
    }
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
    let st = &cluster.state;
    let mut services = BTreeMap::new();
    for (sid, svc) in st.services.iter().enumerate() {
        if svc.removed {
            continue;
        }
        let stats = &cluster.stats[sid];
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
        seed: cluster.seed,
        end_time_s: secs_f64(end),
        hit_safety_limit: hit_limit,
        events: cluster.events_processed,
        services,
    }
}

/// `summary.json`: pretty-printed with a trailing newline.
pub fn summary_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).unwrap_or_default();
    s.push('\n');
    s
}

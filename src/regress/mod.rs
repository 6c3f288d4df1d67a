//! The regression-testing layer on top of the simulator: `expect:`
//! evaluation, `swarmsim check` (with JUnit XML), `swarmsim diff`,
//! `swarmsim lint` and `--fail-on` outcomes.

pub mod check;
pub mod diff;
pub mod eval;
pub mod lint;
pub mod outcome;

use std::path::PathBuf;

use crate::docker::duration::format_go_duration;
use crate::swarm::cluster::Cluster;
use crate::swarm::store::{LogKind, LogRecord};

/// Why `check` could not check a file or a folder.
#[derive(Debug, thiserror::Error)]
pub enum RegressError {
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
    #[error("{}: the scenario has no `expect:` items: nothing to check", .0.display())]
    NothingToCheck(PathBuf),
    #[error("{}: no such file or folder", .0.display())]
    NotFound(PathBuf),
    /// A folder that could not be searched.
    #[error("{}: {source}", .path.display())]
    Walk {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One log record in words: time, what changed, and the rule that changed
/// it, e.g. `[39s] update web: rollback_completed "rollback completed"
/// (cause: updater: ...)`.
pub fn describe(c: &Cluster, rec: &LogRecord) -> String {
    let time = format_go_duration(rec.time);
    let service = rec
        .service
        .map(|s| &*c.store.state.services[s].spec.name)
        .unwrap_or("");
    let body = match rec.kind {
        LogKind::Task => {
            let task = rec.task.unwrap_or(0);
            let node = rec
                .node
                .map(|n| format!(" on {}", c.store.state.nodes[n].hostname))
                .unwrap_or_default();
            format!(
                "task {} ({}, {}){node}: {} (desired {}) \"{}\"",
                c.store.task_name(task),
                c.store.short_id(task),
                c.store.state.tasks[task].spec.image,
                rec.state,
                rec.desired_state,
                rec.message
            )
        }
        LogKind::Update => format!("update {service}: {} \"{}\"", rec.state, rec.message),
        LogKind::Node => {
            let node = rec
                .node
                .map(|n| &*c.store.state.nodes[n].hostname)
                .unwrap_or("");
            format!("node {node}: {} ({})", rec.state, rec.message)
        }
    };
    format!("[{time}] {body} (cause: {})", rec.cause)
}

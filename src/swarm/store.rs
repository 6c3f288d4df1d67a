//! The shared cluster state all components read and write (swarmkit's
//! `manager/state/store`), plus the change log that feeds the reports.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::sim::time::SimTime;
use crate::swarm::model::{Node, NodeId, Service, ServiceId, Task, TaskId};

#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    /// In scenario order; the index is the [`NodeId`].
    pub nodes: Vec<Node>,
    /// In creation order; the index is the [`ServiceId`]. Removed services
    /// stay here with `removed` set.
    pub services: Vec<Service>,
    /// Every task ever created; the index is the [`TaskId`]. Reaped tasks
    /// stay here with `deleted` set.
    pub tasks: Vec<Task>,
    /// Live services by name.
    pub service_names: BTreeMap<String, ServiceId>,
    /// Tasks of each replicated slot (service, slot), oldest first, deleted
    /// ones excluded.
    pub slots: BTreeMap<(ServiceId, u64), Vec<TaskId>>,
    /// Tasks of each global service on each node (service, node).
    pub node_tasks: BTreeMap<(ServiceId, NodeId), Vec<TaskId>>,
}

impl ClusterState {
    /// Looks a service up the way the docker CLI does: by full name, full
    /// id, or a unique id prefix.
    pub fn find_service(&self, name_or_id: &str) -> Option<ServiceId> {
        if let Some(&id) = self.service_names.get(name_or_id) {
            return Some(id);
        }
        let live = || self.services.iter().enumerate().filter(|(_, s)| !s.removed);
        if let Some((i, _)) = live().find(|(_, s)| s.id == name_or_id) {
            return Some(i);
        }
        let mut matches = live().filter(|(_, s)| s.id.starts_with(name_or_id));
        match (matches.next(), matches.next()) {
            (Some((i, _)), None) if !name_or_id.is_empty() => Some(i),
            _ => None,
        }
    }

    /// Looks a node up by hostname, id, or unique id prefix.
    pub fn find_node(&self, name_or_id: &str) -> Option<NodeId> {
        if let Some(i) = self.nodes.iter().position(|n| n.hostname == name_or_id) {
            return Some(i);
        }
        if let Some(i) = self.nodes.iter().position(|n| n.id == name_or_id) {
            return Some(i);
        }
        let mut m = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.id.starts_with(name_or_id));
        match (m.next(), m.next()) {
            (Some((i, _)), None) if !name_or_id.is_empty() => Some(i),
            _ => None,
        }
    }

    /// All tasks of a service still in the store, in creation order.
    pub fn service_tasks(&self, service: ServiceId) -> impl Iterator<Item = &Task> {
        self.tasks
            .iter()
            .filter(move |t| t.service == service && !t.deleted)
    }
}

/// What kind of change a [`LogRecord`] describes (the `kind` column of
/// `events.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    Task,
    Update,
    Node,
}

impl LogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Task => "task",
            LogKind::Update => "update",
            LogKind::Node => "node",
        }
    }
}

/// One observable change, in time order. Rendered to `events.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub time: SimTime,
    pub kind: LogKind,
    pub service: Option<ServiceId>,
    pub task: Option<TaskId>,
    pub node: Option<NodeId>,
    /// Task state, update state or node state/availability, API spelling.
    pub state: &'static str,
    pub desired_state: &'static str,
    /// Borrowed for the fixed status messages; owned only for errors and
    /// the few messages built from values.
    pub message: Cow<'static, str>,
    /// The component and rule that made the change (e.g. `updater: old
    /// task shut down`), for explanations and diffs; not in events.csv.
    pub cause: &'static str,
}

/// One decision of the simulator in plain language, naming the setting
/// that caused it (`--explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub time: SimTime,
    pub service: Option<ServiceId>,
    pub text: String,
}

/// Receives every [`LogRecord`] as it happens, with the store as it is
/// then (an observer of the run: `events.csv` is written this way, row by
/// row, instead of being held in memory).
pub trait ChangeSink {
    fn record(&mut self, state: &ClusterState, rec: &LogRecord);
    /// Called once at the end of the run: flush, and report the first
    /// error met on the way.
    fn finish(&mut self) -> std::io::Result<()>;
}

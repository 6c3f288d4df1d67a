//! The manager's control API (swarmkit `manager/controlapi/service.go`,
//! `node.go`, `cluster.go`): typed operations on the store. The docker
//! front end (`crate::docker::exec`) maps docker commands onto them and
//! renders what the CLI prints.

use crate::swarm::agent::Agent;
use crate::swarm::container::UNMODELLED_FLAGS;
use crate::swarm::dispatcher::Dispatcher;
use crate::swarm::model::{
    NodeId, NodeRole, NodeStatus, ServiceId, ServiceMode, TaskId, TaskState, UpdateState,
    UpdateStatus,
};
use crate::swarm::orchestrator::Orchestrator;
use crate::swarm::reaper::TaskReaper;
use crate::swarm::scheduler::SchedulerState;
use crate::swarm::store::Event;
use crate::swarm::store::{Explanation, Store};

/// The control API over the manager's store and the components a docker
/// command reaches (swarmkit's `controlapi.Server` holds the store; here
/// it also cancels updaters, stops nodes and drops the scheduler's node
/// order directly, which swarmkit does through store events).
pub struct ControlApi<'a> {
    pub store: &'a mut Store,
    pub orchestrator: &'a mut Orchestrator,
    pub scheduler: &'a mut SchedulerState,
    pub dispatcher: &'a mut Dispatcher,
    pub agent: &'a mut Agent,
    pub reaper: &'a mut TaskReaper,
}

impl ControlApi<'_> {
    /// controlapi `UpdateCluster`: the task reaper reads the new history
    /// limit and applies it the next time a slot gets a task
    /// (`taskreaper/task_reaper.go`). Flags that swarmsim does not model
    /// are noted once (`--explain` and the transcript).
    pub fn update_cluster(&mut self, task_history_limit: Option<i64>, unmodelled: &[&'static str]) {
        if let Some(n) = task_history_limit {
            self.reaper.history_limit = n;
        }
        let new: Vec<String> = unmodelled
            .iter()
            .filter(|f| self.store.noted_flags.insert(f))
            .map(|f| format!("--{f}"))
            .collect();
        if !new.is_empty() {
            self.store.explanations.push(Explanation {
                time: self.store.now,
                service: None,
                text: format!(
                    "{}: accepted but not modelled: swarmsim keeps Swarm's default for {}",
                    new.join(", "),
                    if new.len() == 1 { "it" } else { "them" }
                ),
            });
        }
    }

    /// controlapi `UpdateNode`: labels and availability; the orchestrators
    /// and the scheduler see the node change.
    pub fn update_node(
        &mut self,
        nid: NodeId,
        availability: Option<crate::swarm::model::Availability>,
        label_add: &[(String, String)],
        label_rm: &[String],
    ) {
        let n = &mut self.store.state.nodes[nid];
        for (k, v) in label_add {
            n.labels.insert(k.clone(), v.clone());
        }
        for k in label_rm {
            n.labels.remove(k);
        }
        let changed_availability = availability.is_some_and(|a| a != n.availability);
        if let Some(a) = availability {
            n.availability = a;
        }
        if changed_availability {
            let what = self.store.state.nodes[nid].availability.as_str();
            self.store.log_node(nid, what);
        }
        self.store.notify_node(nid);
    }

    /// `docker swarm join` on a machine of the scenario that is not in
    /// the swarm: it registers and is `Ready`; the global orchestrator
    /// gives it a task of each global service (`global.go`
    /// `reconcileOneNode` on `EventCreateNode`) and the scheduler may use
    /// it; running replicated tasks are not moved.
    pub fn node_join(&mut self, node: NodeId) -> Result<(), ControlApiError> {
        let n = &self.store.state.nodes[node];
        if n.in_swarm {
            return Err(ControlApiError::AlreadyInSwarm(n.hostname.to_string()));
        }
        self.store.state.nodes[node].in_swarm = true;
        self.store.state.nodes[node].status = NodeStatus::Down;
        self.dispatcher.node_start(self.store, self.agent, node);
        Ok(())
    }

    /// `docker swarm leave` on a worker: the engine leaves swarm mode and
    /// its service containers are gone; the managers mark the node down
    /// when its heartbeats are overdue (as for a machine that stops), and
    /// it stays in `docker node ls` until `docker node rm`.
    pub fn node_leave(&mut self, node: NodeId) -> Result<(), ControlApiError> {
        let n = &self.store.state.nodes[node];
        if !n.in_swarm {
            return Err(ControlApiError::NotInSwarm(n.hostname.to_string()));
        }
        if !n.agent_up {
            return Err(ControlApiError::NodeStopped(n.hostname.to_string()));
        }
        self.dispatcher.node_stop(self.store, self.agent, node);
        Ok(())
    }

    /// controlapi `RemoveNode` (`manager/controlapi/node.go`): a manager
    /// cannot be removed; a node that is not down needs `--force`. Its
    /// unfinished tasks become ORPHANED ("Task belonged to a node that has
    /// been deleted", `orphanNodeTasks`), the node leaves the store; the
    /// replicated orchestrator restarts its tasks elsewhere
    /// (`restartTasksByNodeID`) and the global orchestrator deletes its
    /// global tasks (`EventDeleteNode` → `deleteTask`). A forced removal of
    /// a live node also stops its service containers.
    pub fn remove_node(&mut self, name: &str, force: bool) -> Result<(), ControlApiError> {
        let Some(node) = self.store.member_node(name) else {
            return Err(ControlApiError::NodeNotFound(name.to_string()));
        };
        let n = &self.store.state.nodes[node];
        if n.role == NodeRole::Manager {
            return Err(ControlApiError::RemoveManager(n.id.to_string()));
        }
        if !force && n.status == NodeStatus::Ready {
            return Err(ControlApiError::NodeNotDown(n.id.to_string()));
        }
        if n.agent_up {
            self.dispatcher.node_stop(self.store, self.agent, node);
        }
        // No heartbeat deadline, and no 24 h orphaning, for a node that is
        // gone: its pending dispatcher events are dropped.
        self.dispatcher.epochs[node] += 1;
        let stale: Vec<_> = self
            .store.queue
            .pending()
            .into_iter()
            .filter(|(_, _, e)| {
                matches!(e, Event::HeartbeatExpired { node: n, .. } | Event::NodeDownPeriod { node: n, .. } if *n == node)
            })
            .map(|(_, k, _)| k)
            .collect();
        for k in stale {
            self.store.queue.cancel(k);
        }
        for t in self.store.tasks_on_node(node) {
            if self.store.state.tasks[t].state < TaskState::Complete {
                self.store.set_state(
                    t,
                    TaskState::Orphaned,
                    "Task belonged to a node that has been deleted",
                    None,
                    "controlapi: node removed",
                );
            }
        }
        let n = &mut self.store.state.nodes[node];
        n.in_swarm = false;
        n.status = NodeStatus::Down;
        self.store.log_node(node, "removed");
        // Global tasks of the node are deleted.
        let globals: Vec<TaskId> = self
            .store
            .state
            .node_tasks
            .iter()
            .filter(|&(&(s, n), _)| {
                n == node && self.store.state.services[s].spec.mode == ServiceMode::Global
            })
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        for t in globals {
            self.store.delete_task(t);
        }
        self.store.notify_node(node);
        Ok(())
    }

    /// The transcript's `#` note, once per flag and run, for docker flags
    /// that are kept in the spec but change nothing swarmsim models
    /// (shown with and without `--explain`).
    pub fn note_unmodelled(&mut self, service: ServiceId, flags: Vec<&'static str>) {
        let new: Vec<String> = flags
            .into_iter()
            // `--mount-add` and `--mount` get one note.
            .map(|f| {
                f.strip_suffix("-add")
                    .or_else(|| f.strip_suffix("-rm"))
                    .and_then(|base| UNMODELLED_FLAGS.iter().copied().find(|&u| u == base))
                    .unwrap_or(f)
            })
            .filter(|f| self.store.noted_flags.insert(f))
            .map(|f| format!("--{f}"))
            .collect();
        if new.is_empty() {
            return;
        }
        self.store.explanations.push(Explanation {
            time: self.store.now,
            service: Some(service),
            text: format!(
                "{}: kept in the service spec and shown by `docker service inspect --pretty`, but not modelled: no effect on placement or timing (a change to {} still redeploys the tasks, as on Swarm)",
                new.join(", "),
                if new.len() == 1 { "it" } else { "them" }
            ),
        });
    }

    /// controlapi `UpdateService` (not a rollback): the current spec becomes
    /// the previous spec, the update status is reset.
    pub fn update_service(&mut self, service: ServiceId, spec: crate::swarm::model::ServiceSpec) {
        let version = self.store.new_spec_version();
        let svc = &mut self.store.state.services[service];
        svc.previous_spec = Some(std::mem::replace(&mut svc.spec, spec));
        svc.previous_spec_version = Some(svc.spec_version);
        svc.spec_version = version;
        svc.updated_at = self.store.now;
        self.store.set_update_status(service, None);
        self.store.notify_service(service);
    }

    /// controlapi `UpdateService` with `rollback=previous`: swap spec and
    /// previous spec, `manually requested rollback`.
    pub fn rollback_service(&mut self, service: ServiceId) -> Result<(), ControlApiError> {
        let svc = &mut self.store.state.services[service];
        let (Some(prev), Some(prev_version)) =
            (svc.previous_spec.take(), svc.previous_spec_version)
        else {
            return Err(ControlApiError::NoPreviousSpec(svc.id.to_string()));
        };
        let cur = std::mem::replace(&mut svc.spec, prev);
        svc.previous_spec = Some(cur);
        svc.previous_spec_version = Some(svc.spec_version);
        svc.spec_version = prev_version;
        svc.updated_at = self.store.now;
        self.store.set_update_status(
            service,
            Some(UpdateStatus {
                state: UpdateState::RollbackStarted,
                started_at: Some(self.store.now),
                completed_at: None,
                message: "manually requested rollback".to_string(),
            }),
        );
        self.store.notify_service(service);
        Ok(())
    }

    /// `docker service rm`: the service is gone at once; its tasks are set
    /// to desired REMOVE and deleted once stopped.
    pub fn remove_service(&mut self, service: ServiceId) {
        self.orchestrator.updates.cancel(self.store, service);
        let name = self.store.state.services[service].spec.name.clone();
        self.store.state.service_names.remove(&name);
        self.store.state.services[service].removed = true;
        let ids: Vec<usize> = (0..self.store.state.tasks.len())
            .filter(|&t| {
                let task = &self.store.state.tasks[t];
                task.service == service && !task.deleted
            })
            .collect();
        for t in ids {
            self.store
                .set_desired(t, TaskState::Remove, "service removed");
            self.reaper.mark_remove(self.store, t);
        }
        // The scheduler stops keeping the service's node order (it would
        // be rebuilt from the counts if a task of it were ever placed).
        self.scheduler.nodes.drop_service(service);
    }
}

/// A control API call the manager refuses, in the words docker prints
/// (`Error response from daemon: ...` with its newline), or a timeline
/// `node:` change that cannot happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlApiError {
    #[error("node {0} is already in the swarm")]
    AlreadyInSwarm(String),
    #[error("node {0} is not in the swarm")]
    NotInSwarm(String),
    #[error("node {0} is stopped: it cannot run docker swarm leave")]
    NodeStopped(String),
    #[error("Error response from daemon: node {0} not found\n")]
    NodeNotFound(String),
    /// controlapi `RemoveNode` on a manager (node id).
    #[error(
        "Error response from daemon: rpc error: code = FailedPrecondition desc = node {0} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal\n"
    )]
    RemoveManager(String),
    /// controlapi `RemoveNode` without `--force` on a node that is not
    /// down (node id).
    #[error(
        "Error response from daemon: rpc error: code = FailedPrecondition desc = node {0} is not down and can't be removed\n"
    )]
    NodeNotDown(String),
    /// `rollback=previous` on a service never updated (service id).
    #[error(
        "Error response from daemon: rpc error: code = FailedPrecondition desc = service {0} does not have a previous spec\n"
    )]
    NoPreviousSpec(String),
}

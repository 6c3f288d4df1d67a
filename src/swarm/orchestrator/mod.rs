//! The orchestrators (swarmkit `manager/orchestrator/`): the shared
//! vocabulary (`slot`, `task`), the replicated and global orchestrators and
//! the constraint enforcer, each in its own file as `impl Orchestrator`
//! blocks. Like swarmkit's `NewReplicatedOrchestrator`, the orchestrator
//! owns the restart supervisor and hands it to the update supervisor.
//!
//! This file reacts to the store's changes (swarmkit
//! `replicated/tasks.go` `handleTaskChange`, `restartTasksByNodeID`) and
//! dispatches a service change to the right orchestrator.

pub mod constraint_enforcer;
pub mod global;
pub mod replicated;
pub mod slot;
pub mod task;

use crate::swarm::model::{
    Availability, NodeId, NodeStatus, ServiceId, ServiceMode, TaskId, TaskState,
};
use crate::swarm::reaper::TaskReaper;
use crate::swarm::restart::RestartSupervisor;
use crate::swarm::store::Store;
use crate::swarm::updater::UpdateSupervisor;

/// The orchestrators' state: the supervisors they drive (the replicated
/// and global orchestrators themselves keep none: they read the store).
#[derive(Debug, Default)]
pub struct Orchestrator {
    pub restart: RestartSupervisor,
    pub updates: UpdateSupervisor,
}

impl Orchestrator {
    /// `reconcile`: bring the service to its desired replicas, handing the
    /// existing slots to the updater.
    pub fn reconcile(&mut self, s: &mut Store, reaper: &mut TaskReaper, service: ServiceId) {
        if s.state.services[service].removed {
            return;
        }
        match s.state.services[service].spec.mode {
            ServiceMode::Replicated { replicas } => {
                self.reconcile_replicated(s, reaper, service, replicas)
            }
            ServiceMode::Global => self.reconcile_global(s, service),
        }
    }

    /// `handleTaskChange` + `tickTasks`: a task that should run but stopped
    /// is restarted (global tasks on paused nodes are only shut down).
    #[inline]
    pub fn on_task_state(&mut self, s: &mut Store, task: TaskId, state: TaskState) {
        // Only a task that stopped while it should run matters.
        if state <= TaskState::Running {
            return;
        }
        self.task_stopped(s, task);
    }

    fn task_stopped(&mut self, s: &mut Store, task: TaskId) {
        let t = &s.state.tasks[task];
        if t.desired > TaskState::Running || t.deleted {
            return;
        }
        let service = t.service;
        if s.state.services[service].removed {
            return;
        }
        if s.state.services[service].spec.mode == ServiceMode::Global {
            // Global `tickTasks`: no restart when the node is gone, down
            // or drained; shut down (not restarted) on a paused node or
            // one that no longer meets the constraints.
            let Some(n) = t.node.or_else(|| self.global_task_node(s, service, task)) else {
                return;
            };
            let node = &s.state.nodes[n];
            if node.status == NodeStatus::Down || node.availability == Availability::Drain {
                return;
            }
            let constraints = &s.state.services[service].spec.task.placement.constraints;
            if node.availability == Availability::Pause {
                s.set_desired(
                    task,
                    TaskState::Shutdown,
                    "global orchestrator: node paused",
                );
                return;
            }
            if !s.node_satisfies_constraints(n, &constraints.clone()) {
                s.set_desired(
                    task,
                    TaskState::Shutdown,
                    "global orchestrator: node not eligible",
                );
                return;
            }
        }
        self.restart.restart(s, &mut self.updates, task);
    }

    /// A task with desired ≤ RUNNING was deleted: the replicated
    /// orchestrator reconciles its service (`replicated/tasks.go`
    /// handleTaskEvent); the global orchestrator does not watch deletions.
    pub fn on_task_deleted(
        &mut self,
        s: &mut Store,
        reaper: &mut TaskReaper,
        task: TaskId,
        desired: TaskState,
    ) {
        let service = s.state.tasks[task].service;
        if desired <= TaskState::Running
            && s.state.services[service].spec.mode != ServiceMode::Global
        {
            let service = s.state.tasks[task].service;
            self.reconcile(s, reaper, service);
        }
    }

    /// `restartTasksByNodeID` on a down or drained node, global
    /// reconciliation, and the constraint enforcer.
    pub fn on_node_change(&mut self, s: &mut Store, _reaper: &mut TaskReaper, node: NodeId) {
        let n = &s.state.nodes[node];
        let invalid = n.status == NodeStatus::Down || n.availability == Availability::Drain;
        if invalid {
            s.explain(None, |c| {
                let n = &c.state.nodes[node];
                if n.status == NodeStatus::Down {
                    format!("node {} is down: its tasks are restarted elsewhere", n.hostname)
                } else {
                    format!(
                        "node {} is drained: its tasks are moved at once, outside any rolling update",
                        n.hostname
                    )
                }
            });
            let tasks: Vec<TaskId> = s
                .tasks_on_node(node)
                .into_iter()
                .filter(|&t| {
                    let task = &s.state.tasks[t];
                    task.desired <= TaskState::Running && task.slot > 0
                })
                .collect();
            for t in tasks {
                if !s.state.services[s.state.tasks[t].service].removed {
                    self.restart.restart(s, &mut self.updates, t);
                }
            }
        } else {
            self.constraint_enforcer(s, node);
        }
        self.reconcile_global_one_node(s, node);
    }
}

//! The global orchestrator (swarmkit
//! `manager/orchestrator/global/global.go`): one task per eligible node.

use crate::swarm::model::{
    Availability, NodeId, NodeStatus, ServiceId, ServiceMode, TaskId, TaskState,
};
use crate::swarm::orchestrator::Orchestrator;
use crate::swarm::orchestrator::slot::{SlotWork, TaskIds};
use crate::swarm::orchestrator::task::is_task_dirty;
use crate::swarm::store::Store;

impl Orchestrator {
    /// The slot of a global service on one node: its tasks still in the
    /// store, reduced by `UpdatableTasksInSlot` (a task desired ≤ RUNNING,
    /// or else the newest dead task when it must not be restarted).
    pub(super) fn global_slot(
        &mut self,
        s: &mut Store,
        service: ServiceId,
        node: NodeId,
    ) -> TaskIds {
        let tasks: Vec<TaskId> = s
            .state
            .node_tasks
            .get(&(service, node))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&t| !s.state.tasks[t].deleted)
                    .collect()
            })
            .unwrap_or_default();
        self.restart.updatable_tasks_in_slot(s, &tasks)
    }

    /// The node a global task was created for (it is bound to it before
    /// the scheduler assigns it).
    pub(super) fn global_task_node(
        &self,
        s: &Store,
        service: ServiceId,
        task: TaskId,
    ) -> Option<NodeId> {
        s.state
            .node_tasks
            .range((service, 0)..=(service, NodeId::MAX))
            .find(|(_, v)| v.contains(&task))
            .map(|(&(_, n), _)| n)
    }

    /// Global services, `reconcileServices` (swarmkit
    /// `manager/orchestrator/global/global.go`): every node keeps one slot,
    /// the updatable tasks of the service on it. A node that is down,
    /// drained or gone, or that misses the constraints, has its slot shut
    /// down; a paused node is skipped ("we won't add or update any
    /// tasks"); a node with no updatable task gets a new one; the other
    /// slots go to the updater. A dead task that must not be restarted
    /// (`--restart-condition none`, `max_attempts` used up, on-failure
    /// that exited 0) still holds its node's slot, so nothing is created
    /// for it (`global_test.go` TestTaskFailure). See docs/scenario-format.md
    /// ("Global services").
    pub(super) fn reconcile_global(&mut self, s: &mut Store, service: ServiceId) {
        let constraints = s.state.services[service]
            .spec
            .task
            .placement
            .constraints
            .clone();
        let mut slots = Vec::new();
        for node in 0..s.state.nodes.len() {
            let ntasks = self.global_slot(s, service, node);
            let n = &s.state.nodes[node];
            let valid = n.status != NodeStatus::Down && n.availability != Availability::Drain;
            if !valid || !s.node_satisfies_constraints(node, &constraints) {
                for &t in ntasks.iter() {
                    s.set_desired(
                        t,
                        TaskState::Shutdown,
                        "global orchestrator: node not eligible",
                    );
                }
                continue;
            }
            if s.state.nodes[node].availability == Availability::Pause {
                if !ntasks.is_empty() {
                    s.explain(Some(service), |c| {
                        format!(
                            "{}: node {} is paused, so its task is neither replaced nor updated (swarmkit's global orchestrator skips paused nodes)",
                            c.state.services[service].spec.name,
                            c.state.nodes[node].hostname
                        )
                    });
                }
                continue;
            }
            if ntasks.is_empty() {
                s.create_task(
                    service,
                    0,
                    Some(node),
                    TaskState::Running,
                    "global orchestrator: node needs a task",
                );
            } else {
                slots.push(SlotWork {
                    slot: 0,
                    node: Some(node),
                    tasks: ntasks,
                });
            }
        }
        if !slots.is_empty() {
            self.updates.update(s, &mut self.restart, service, slots);
        }
    }

    /// Global services, `reconcileOneNode` (swarmkit
    /// `manager/orchestrator/global/global.go`), after a node changed: a
    /// drained or down node has all its global tasks shut down; a paused
    /// node is left alone; otherwise, for every global service whose
    /// constraints the node meets, a node without an updatable task gets
    /// one, and a slot whose tasks are all out of date is replaced at once
    /// — outside any rolling update, without an update status.
    pub(super) fn reconcile_global_one_node(&mut self, s: &mut Store, node: NodeId) {
        let n = &s.state.nodes[node];
        let globals: Vec<ServiceId> = (0..s.state.services.len())
            .filter(|&sid| {
                let svc = &s.state.services[sid];
                !svc.removed && svc.spec.mode == ServiceMode::Global
            })
            .collect();
        if n.status == NodeStatus::Down || n.availability == Availability::Drain {
            for &sid in &globals {
                let tasks: Vec<TaskId> = s
                    .state
                    .node_tasks
                    .get(&(sid, node))
                    .cloned()
                    .unwrap_or_default();
                for t in tasks {
                    if !s.state.tasks[t].deleted {
                        s.set_desired(
                            t,
                            TaskState::Shutdown,
                            "global orchestrator: node not eligible",
                        );
                    }
                }
            }
            return;
        }
        if n.availability == Availability::Pause {
            return;
        }
        for sid in globals {
            let constraints = s.state.services[sid]
                .spec
                .task
                .placement
                .constraints
                .clone();
            if !s.node_satisfies_constraints(node, &constraints) {
                continue;
            }
            let tasks = self.global_slot(s, sid, node);
            let (mut dirty, clean): (Vec<TaskId>, Vec<TaskId>) =
                tasks.iter().partition(|&&t| is_task_dirty(s, sid, t));
            if clean.is_empty() {
                if !dirty.is_empty() {
                    s.explain(Some(sid), |c| {
                        format!(
                            "{}: node {} is available again and its task is out of date: replaced at once, not as a rolling update",
                            c.state.services[sid].spec.name,
                            c.state.nodes[node].hostname
                        )
                    });
                }
                s.create_task(
                    sid,
                    0,
                    Some(node),
                    TaskState::Running,
                    "global orchestrator: node needs a task",
                );
            } else {
                dirty.extend_from_slice(&clean[1..]);
            }
            for t in dirty {
                s.set_desired(
                    t,
                    TaskState::Shutdown,
                    "global orchestrator: task out of date",
                );
            }
        }
    }
}

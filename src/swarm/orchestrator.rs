//! Replicated and global orchestrators (swarmkit
//! `manager/orchestrator/replicated/{services,tasks,slot}.go`,
//! `manager/orchestrator/global/global.go`) and the constraint enforcer
//! (`manager/orchestrator/constraintenforcer`).

use std::collections::BTreeMap;

use crate::swarm::cluster::Cluster;
use crate::swarm::model::{
    Availability, NodeId, NodeStatus, ServiceId, ServiceMode, TaskId, TaskState,
};
use crate::swarm::updater::SlotWork;

impl Cluster {
    /// `reconcile`: bring the service to its desired replicas, handing the
    /// existing slots to the updater.
    pub(crate) fn reconcile(&mut self, service: ServiceId) {
        if self.store.state.services[service].removed {
            return;
        }
        match self.store.state.services[service].spec.mode {
            ServiceMode::Replicated { replicas } => self.reconcile_replicated(service, replicas),
            ServiceMode::Global => self.reconcile_global(service),
        }
    }

    /// `updatableAndDeadSlots`: slot → its updatable tasks; slots with none
    /// are dead.
    fn updatable_and_dead_slots(
        &mut self,
        service: ServiceId,
    ) -> (BTreeMap<u64, Vec<TaskId>>, BTreeMap<u64, Vec<TaskId>>) {
        let slots: Vec<(u64, Vec<TaskId>)> = self
            .store
            .state
            .slots
            .range((service, 0)..=(service, u64::MAX))
            .map(|(&(_, slot), tasks)| (slot, tasks.clone()))
            .collect();
        let mut running = BTreeMap::new();
        let mut dead = BTreeMap::new();
        for (slot, tasks) in slots {
            let updatable = self.updatable_tasks_in_slot(&tasks);
            if updatable.is_empty() {
                dead.insert(slot, tasks);
            } else {
                running.insert(slot, updatable);
            }
        }
        (running, dead)
    }

    fn reconcile_replicated(&mut self, service: ServiceId, replicas: u64) {
        let (running, mut dead) = self.updatable_and_dead_slots(service);
        let num = running.len() as u64;
        let work = |slot: u64, tasks: &Vec<TaskId>| SlotWork {
            slot,
            node: None,
            tasks: tasks.clone(),
        };
        if replicas > num {
            // Scale up: update the existing slots, then add the missing
            // ones in the lowest free slot numbers.
            let slots: Vec<SlotWork> = running.iter().map(|(s, t)| work(*s, t)).collect();
            self.updater_update(service, slots);
            self.store.explain(Some(service), |c| {
                format!(
                    "{}: {num} of {replicas} replicas have a slot: {} new task(s) in the lowest free slot numbers",
                    c.state.services[service].spec.name,
                    replicas - num
                )
            });
            let mut slot = 0;
            for _ in 0..(replicas - num) {
                loop {
                    slot += 1;
                    if !running.contains_key(&slot) {
                        break;
                    }
                }
                // A re-used dead slot keeps its history.
                dead.remove(&slot);
                self.store.create_task(
                    service,
                    slot,
                    None,
                    TaskState::Running,
                    "orchestrator: scale up",
                );
            }
            self.delete_dead_slots(dead);
        } else if replicas < num {
            // Scale down: keep running slots on the least loaded nodes.
            let mut slots: Vec<(u64, Vec<TaskId>)> = running.into_iter().collect();
            slots.sort_by_key(|(slot, tasks)| {
                let running = self.store.state.tasks[tasks[0]].state == TaskState::Running;
                if crate::mutant::on("scale-down-keeps-highest") {
                    return (!running, u64::MAX - *slot);
                }
                (!running, *slot)
            });
            let mut per_node: BTreeMap<NodeId, i64> = BTreeMap::new();
            let mut indexed: Vec<(i64, (u64, Vec<TaskId>))> = slots
                .into_iter()
                .map(|(slot, tasks)| {
                    let node = self.store.state.tasks[tasks[0]].node;
                    let index = match (tasks.len(), node) {
                        (1, Some(n)) => {
                            let c = per_node.entry(n).or_default();
                            *c += 1;
                            *c
                        }
                        _ => -1,
                    };
                    (index, (slot, tasks))
                })
                .collect();
            indexed.sort_by_key(|(index, _)| if *index < 0 { i64::MAX } else { *index });
            let keep = replicas as usize;
            let kept: Vec<SlotWork> = indexed[..keep]
                .iter()
                .map(|(_, (s, t))| work(*s, t))
                .collect();
            let removed: Vec<TaskId> = indexed[keep..]
                .iter()
                .flat_map(|(_, (_, t))| t.iter().copied())
                .collect();
            self.store.explain(Some(service), |c| {
                let slots: Vec<String> = indexed[keep..]
                    .iter()
                    .map(|(_, (slot, _))| slot.to_string())
                    .collect();
                format!(
                    "{}: scaled down to {replicas}: slot(s) {} removed (from the nodes with the most copies, non-running first)",
                    c.state.services[service].spec.name,
                    slots.join(", ")
                )
            });
            self.updater_update(service, kept);
            self.delete_dead_slots(dead);
            for t in removed {
                self.store
                    .set_desired(t, TaskState::Remove, "orchestrator: scale down");
                self.reaper.mark_remove(&mut self.store, t);
            }
        } else {
            self.delete_dead_slots(dead);
            let slots: Vec<SlotWork> = running.iter().map(|(s, t)| work(*s, t)).collect();
            self.updater_update(service, slots);
        }
    }

    fn delete_dead_slots(&mut self, dead: BTreeMap<u64, Vec<TaskId>>) {
        for t in dead.into_values().flatten() {
            self.store.delete_task(t);
        }
    }

    /// The slot of a global service on one node: its tasks still in the
    /// store, reduced by `UpdatableTasksInSlot` (a task desired ≤ RUNNING,
    /// or else the newest dead task when it must not be restarted).
    fn global_slot(&mut self, service: ServiceId, node: NodeId) -> Vec<TaskId> {
        let tasks: Vec<TaskId> = self
            .store
            .state
            .node_tasks
            .get(&(service, node))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&t| !self.store.state.tasks[t].deleted)
                    .collect()
            })
            .unwrap_or_default();
        self.updatable_tasks_in_slot(&tasks)
    }

    /// The node a global task was created for (it is bound to it before
    /// the scheduler assigns it).
    fn global_task_node(&self, service: ServiceId, task: TaskId) -> Option<NodeId> {
        self.store
            .state
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
    fn reconcile_global(&mut self, service: ServiceId) {
        let constraints = self.store.state.services[service]
            .spec
            .task
            .placement
            .constraints
            .clone();
        let mut slots = Vec::new();
        for node in 0..self.store.state.nodes.len() {
            let ntasks = self.global_slot(service, node);
            let n = &self.store.state.nodes[node];
            let valid = n.status != NodeStatus::Down && n.availability != Availability::Drain;
            if !valid || !self.node_satisfies_constraints(node, &constraints) {
                for t in ntasks {
                    self.store.set_desired(
                        t,
                        TaskState::Shutdown,
                        "global orchestrator: node not eligible",
                    );
                }
                continue;
            }
            if self.store.state.nodes[node].availability == Availability::Pause {
                if !ntasks.is_empty() {
                    self.store.explain(Some(service), |c| {
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
                self.store.create_task(
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
            self.updater_update(service, slots);
        }
    }

    /// Global services, `reconcileOneNode` (swarmkit
    /// `manager/orchestrator/global/global.go`), after a node changed: a
    /// drained or down node has all its global tasks shut down; a paused
    /// node is left alone; otherwise, for every global service whose
    /// constraints the node meets, a node without an updatable task gets
    /// one, and a slot whose tasks are all out of date is replaced at once
    /// — outside any rolling update, without an update status.
    fn reconcile_global_one_node(&mut self, node: NodeId) {
        let n = &self.store.state.nodes[node];
        let globals: Vec<ServiceId> = (0..self.store.state.services.len())
            .filter(|&s| {
                let svc = &self.store.state.services[s];
                !svc.removed && svc.spec.mode == ServiceMode::Global
            })
            .collect();
        if n.status == NodeStatus::Down || n.availability == Availability::Drain {
            for &s in &globals {
                let tasks: Vec<TaskId> = self
                    .store
                    .state
                    .node_tasks
                    .get(&(s, node))
                    .cloned()
                    .unwrap_or_default();
                for t in tasks {
                    if !self.store.state.tasks[t].deleted {
                        self.store.set_desired(
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
        for s in globals {
            let constraints = self.store.state.services[s]
                .spec
                .task
                .placement
                .constraints
                .clone();
            if !self.node_satisfies_constraints(node, &constraints) {
                continue;
            }
            let tasks = self.global_slot(s, node);
            let (mut dirty, clean): (Vec<TaskId>, Vec<TaskId>) =
                tasks.into_iter().partition(|&t| self.is_task_dirty(s, t));
            if clean.is_empty() {
                if !dirty.is_empty() {
                    self.store.explain(Some(s), |c| {
                        format!(
                            "{}: node {} is available again and its task is out of date: replaced at once, not as a rolling update",
                            c.state.services[s].spec.name,
                            c.state.nodes[node].hostname
                        )
                    });
                }
                self.store.create_task(
                    s,
                    0,
                    Some(node),
                    TaskState::Running,
                    "global orchestrator: node needs a task",
                );
            } else {
                dirty.extend_from_slice(&clean[1..]);
            }
            for t in dirty {
                self.store.set_desired(
                    t,
                    TaskState::Shutdown,
                    "global orchestrator: task out of date",
                );
            }
        }
    }

    /// `handleTaskChange` + `tickTasks`: a task that should run but stopped
    /// is restarted (global tasks on paused nodes are only shut down).
    pub(crate) fn orchestrator_on_task_state(&mut self, task: TaskId, state: TaskState) {
        let t = &self.store.state.tasks[task];
        if state <= TaskState::Running || t.desired > TaskState::Running || t.deleted {
            return;
        }
        let service = t.service;
        if self.store.state.services[service].removed {
            return;
        }
        if self.store.state.services[service].spec.mode == ServiceMode::Global {
            // Global `tickTasks`: no restart when the node is gone, down
            // or drained; shut down (not restarted) on a paused node or
            // one that no longer meets the constraints.
            let Some(n) = t.node.or_else(|| self.global_task_node(service, task)) else {
                return;
            };
            let node = &self.store.state.nodes[n];
            if node.status == NodeStatus::Down || node.availability == Availability::Drain {
                return;
            }
            let constraints = &self.store.state.services[service]
                .spec
                .task
                .placement
                .constraints;
            if node.availability == Availability::Pause {
                self.store.set_desired(
                    task,
                    TaskState::Shutdown,
                    "global orchestrator: node paused",
                );
                return;
            }
            if !self.node_satisfies_constraints(n, &constraints.clone()) {
                self.store.set_desired(
                    task,
                    TaskState::Shutdown,
                    "global orchestrator: node not eligible",
                );
                return;
            }
        }
        self.restart_task(task);
    }

    /// A task with desired ≤ RUNNING was deleted: the replicated
    /// orchestrator reconciles its service (`replicated/tasks.go`
    /// handleTaskEvent); the global orchestrator does not watch deletions.
    pub(crate) fn orchestrator_on_task_deleted(&mut self, task: TaskId, desired: TaskState) {
        let service = self.store.state.tasks[task].service;
        if desired <= TaskState::Running
            && self.store.state.services[service].spec.mode != ServiceMode::Global
        {
            let service = self.store.state.tasks[task].service;
            self.reconcile(service);
        }
    }

    /// `restartTasksByNodeID` on a down or drained node, global
    /// reconciliation, and the constraint enforcer.
    pub(crate) fn orchestrator_on_node_change(&mut self, node: NodeId) {
        let n = &self.store.state.nodes[node];
        let invalid = n.status == NodeStatus::Down || n.availability == Availability::Drain;
        if invalid {
            self.store.explain(None, |c| {
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
            let tasks: Vec<TaskId> = self
                .tasks_on_node(node)
                .into_iter()
                .filter(|&t| {
                    let task = &self.store.state.tasks[t];
                    task.desired <= TaskState::Running && task.slot > 0
                })
                .collect();
            for t in tasks {
                if !self.store.state.services[self.store.state.tasks[t].service].removed {
                    self.restart_task(t);
                }
            }
        } else {
            self.constraint_enforcer(node);
        }
        self.reconcile_global_one_node(node);
    }

    /// Rejects tasks on an active node that no longer meets their service's
    /// constraints or resources.
    fn constraint_enforcer(&mut self, node: NodeId) {
        let n = &self.store.state.nodes[node];
        if n.availability != Availability::Active || n.status != NodeStatus::Ready {
            return;
        }
        let tasks: Vec<TaskId> = self.store.tasks_on_node(node);
        for t in tasks {
            let task = &self.store.state.tasks[t];
            if task.desired > TaskState::Running || task.state > TaskState::Running {
                continue;
            }
            let svc = &self.store.state.services[task.service];
            if svc.removed {
                continue;
            }
            let constraints = svc.spec.task.placement.constraints.clone();
            if !self.node_satisfies_constraints(node, &constraints) {
                self.store.set_state(
                    t,
                    TaskState::Rejected,
                    "task rejected by constraint enforcer",
                    Some("assigned node no longer meets constraints".to_string()),
                    "constraint enforcer",
                );
            }
        }
    }
}

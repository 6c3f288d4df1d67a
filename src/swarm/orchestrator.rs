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
        if self.state.services[service].removed {
            return;
        }
        match self.state.services[service].spec.mode {
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
            self.explain(Some(service), |c| {
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
                self.create_task(
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
                let running = self.state.tasks[tasks[0]].state == TaskState::Running;
                if crate::mutant::on("scale-down-keeps-highest") {
                    return (!running, u64::MAX - *slot);
                }
                (!running, *slot)
            });
            let mut per_node: BTreeMap<NodeId, i64> = BTreeMap::new();
            let mut indexed: Vec<(i64, (u64, Vec<TaskId>))> = slots
                .into_iter()
                .map(|(slot, tasks)| {
                    let node = self.state.tasks[tasks[0]].node;
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
            self.explain(Some(service), |c| {
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
                self.set_desired(t, TaskState::Remove, "orchestrator: scale down");
                self.reaper_mark_remove(t);
            }
        } else {
            self.delete_dead_slots(dead);
            let slots: Vec<SlotWork> = running.iter().map(|(s, t)| work(*s, t)).collect();
            self.updater_update(service, slots);
        }
    }

    fn delete_dead_slots(&mut self, dead: BTreeMap<u64, Vec<TaskId>>) {
        for t in dead.into_values().flatten() {
            self.delete_task(t);
        }
    }

    /// Global services: one task per node that is up, not drained, and
    /// meets the constraints; paused nodes keep their tasks but get none.
    fn reconcile_global(&mut self, service: ServiceId) {
        let constraints = self.state.services[service]
            .spec
            .task
            .placement
            .constraints
            .clone();
        let mut slots = Vec::new();
        for node in 0..self.state.nodes.len() {
            let n = &self.state.nodes[node];
            let valid = n.status != NodeStatus::Down && n.availability != Availability::Drain;
            let eligible = valid && self.node_satisfies_constraints(node, &constraints);
            let tasks: Vec<TaskId> = self
                .state
                .node_tasks
                .get(&(service, node))
                .cloned()
                .unwrap_or_default();
            let live: Vec<TaskId> = tasks
                .iter()
                .copied()
                .filter(|&t| self.state.tasks[t].desired <= TaskState::Running)
                .collect();
            if !eligible {
                for t in live {
                    self.set_desired(
                        t,
                        TaskState::Shutdown,
                        "global orchestrator: node not eligible",
                    );
                }
                continue;
            }
            if live.is_empty() {
                if self.state.nodes[node].availability == Availability::Active {
                    self.create_task(
                        service,
                        0,
                        Some(node),
                        TaskState::Running,
                        "global orchestrator: node needs a task",
                    );
                }
            } else {
                slots.push(SlotWork {
                    slot: 0,
                    node: Some(node),
                    tasks: live,
                });
            }
        }
        self.updater_update(service, slots);
    }

    /// `handleTaskChange` + `tickTasks`: a task that should run but stopped
    /// is restarted (global tasks on paused nodes are only shut down).
    pub(crate) fn orchestrator_on_task_state(&mut self, task: TaskId, state: TaskState) {
        let t = &self.state.tasks[task];
        if state <= TaskState::Running || t.desired > TaskState::Running || t.deleted {
            return;
        }
        let service = t.service;
        if self.state.services[service].removed {
            return;
        }
        if t.slot == 0
            && let Some(n) = t.node
            && self.state.nodes[n].availability == Availability::Pause
        {
            self.set_desired(
                task,
                TaskState::Shutdown,
                "global orchestrator: node paused",
            );
            return;
        }
        self.restart_task(task);
    }

    /// A task with desired ≤ RUNNING was deleted: reconcile its service.
    pub(crate) fn orchestrator_on_task_deleted(&mut self, task: TaskId, desired: TaskState) {
        if desired <= TaskState::Running {
            let service = self.state.tasks[task].service;
            self.reconcile(service);
        }
    }

    /// `restartTasksByNodeID` on a down or drained node, global
    /// reconciliation, and the constraint enforcer.
    pub(crate) fn orchestrator_on_node_change(&mut self, node: NodeId) {
        let n = &self.state.nodes[node];
        let invalid = n.status == NodeStatus::Down || n.availability == Availability::Drain;
        if invalid {
            self.explain(None, |c| {
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
                    let task = &self.state.tasks[t];
                    task.desired <= TaskState::Running && task.slot > 0
                })
                .collect();
            for t in tasks {
                if !self.state.services[self.state.tasks[t].service].removed {
                    self.restart_task(t);
                }
            }
        } else {
            self.constraint_enforcer(node);
        }
        let globals: Vec<ServiceId> = (0..self.state.services.len())
            .filter(|&s| {
                let svc = &self.state.services[s];
                !svc.removed && svc.spec.mode == ServiceMode::Global
            })
            .collect();
        for s in globals {
            self.reconcile_global(s);
        }
    }

    /// Rejects tasks on an active node that no longer meets their service's
    /// constraints or resources.
    fn constraint_enforcer(&mut self, node: NodeId) {
        let n = &self.state.nodes[node];
        if n.availability != Availability::Active || n.status != NodeStatus::Ready {
            return;
        }
        let tasks: Vec<TaskId> = self.tasks_on_node(node);
        for t in tasks {
            let task = &self.state.tasks[t];
            if task.desired > TaskState::Running || task.state > TaskState::Running {
                continue;
            }
            let svc = &self.state.services[task.service];
            if svc.removed {
                continue;
            }
            let constraints = svc.spec.task.placement.constraints.clone();
            if !self.node_satisfies_constraints(node, &constraints) {
                self.set_state(
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

//! The replicated orchestrator (swarmkit
//! `manager/orchestrator/replicated/services.go` `reconcile`, `slot.go`
//! `updatableAndDeadSlots`): keeps a replicated service at its replica
//! count and hands its slots to the update supervisor.

use std::collections::BTreeMap;

use crate::swarm::model::{NodeId, ServiceId, TaskId, TaskState};
use crate::swarm::orchestrator::Orchestrator;
use crate::swarm::orchestrator::slot::SlotWork;
use crate::swarm::reaper::TaskReaper;
use crate::swarm::store::Store;

impl Orchestrator {
    /// `updatableAndDeadSlots`: slot → its updatable tasks; slots with none
    /// are dead.
    pub(super) fn updatable_and_dead_slots(
        &mut self,
        s: &mut Store,
        service: ServiceId,
    ) -> (BTreeMap<u64, Vec<TaskId>>, BTreeMap<u64, Vec<TaskId>>) {
        let slots: Vec<(u64, Vec<TaskId>)> = s
            .state
            .slots
            .range((service, 0)..=(service, u64::MAX))
            .map(|(&(_, slot), tasks)| (slot, tasks.clone()))
            .collect();
        let mut running = BTreeMap::new();
        let mut dead = BTreeMap::new();
        for (slot, tasks) in slots {
            let updatable = self.restart.updatable_tasks_in_slot(s, &tasks);
            if updatable.is_empty() {
                dead.insert(slot, tasks);
            } else {
                running.insert(slot, updatable);
            }
        }
        (running, dead)
    }

    pub(super) fn reconcile_replicated(
        &mut self,
        s: &mut Store,
        reaper: &mut TaskReaper,
        service: ServiceId,
        replicas: u64,
    ) {
        let (running, mut dead) = self.updatable_and_dead_slots(s, service);
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
            self.updates.update(s, &mut self.restart, service, slots);
            s.explain(Some(service), |c| {
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
                s.create_task(
                    service,
                    slot,
                    None,
                    TaskState::Running,
                    "orchestrator: scale up",
                );
            }
            self.delete_dead_slots(s, dead);
        } else if replicas < num {
            // Scale down: keep running slots on the least loaded nodes.
            let mut slots: Vec<(u64, Vec<TaskId>)> = running.into_iter().collect();
            slots.sort_by_key(|(slot, tasks)| {
                let running = s.state.tasks[tasks[0]].state == TaskState::Running;
                if crate::mutant::on("scale-down-keeps-highest") {
                    return (!running, u64::MAX - *slot);
                }
                (!running, *slot)
            });
            let mut per_node: BTreeMap<NodeId, i64> = BTreeMap::new();
            let mut indexed: Vec<(i64, (u64, Vec<TaskId>))> = slots
                .into_iter()
                .map(|(slot, tasks)| {
                    let node = s.state.tasks[tasks[0]].node;
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
            s.explain(Some(service), |c| {
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
            self.updates.update(s, &mut self.restart, service, kept);
            self.delete_dead_slots(s, dead);
            for t in removed {
                s.set_desired(t, TaskState::Remove, "orchestrator: scale down");
                reaper.mark_remove(s, t);
            }
        } else {
            self.delete_dead_slots(s, dead);
            let slots: Vec<SlotWork> = running.iter().map(|(s, t)| work(*s, t)).collect();
            self.updates.update(s, &mut self.restart, service, slots);
        }
    }

    pub(super) fn delete_dead_slots(&mut self, s: &mut Store, dead: BTreeMap<u64, Vec<TaskId>>) {
        for t in dead.into_values().flatten() {
            s.delete_task(t);
        }
    }
}

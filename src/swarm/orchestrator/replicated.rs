//! The replicated orchestrator (swarmkit
//! `manager/orchestrator/replicated/services.go` `reconcile`, `slot.go`
//! `updatableAndDeadSlots`): keeps a replicated service at its replica
//! count and hands its slots to the update supervisor.

use std::collections::BTreeMap;

use crate::swarm::model::{NodeId, ServiceId, TaskId, TaskState};
use crate::swarm::orchestrator::Orchestrator;
use crate::swarm::orchestrator::slot::SlotWork;
use crate::swarm::orchestrator::task::is_task_dirty;
use crate::swarm::reaper::TaskReaper;
use crate::swarm::store::Store;

/// A replicated service's slots as `reconcile` sees them, in ascending
/// slot number.
pub(super) struct Slots {
    /// Slots with updatable tasks, handed to the updater as they are.
    pub running: Vec<SlotWork>,
    /// Dead slots (no updatable task): their slot number and every task.
    pub dead: Vec<(u64, Vec<TaskId>)>,
}

impl Orchestrator {
    /// `updatableAndDeadSlots`: slot → its updatable tasks; slots with none
    /// are dead. Reads the store's slot index in place (no copy of it).
    pub(super) fn updatable_and_dead_slots(
        &mut self,
        s: &Store,
        service: ServiceId,
        replicas: u64,
    ) -> Slots {
        // Sized for the usual case, every replica in a slot (capped: the
        // count is the user's).
        let mut running = Vec::with_capacity(usize::try_from(replicas).unwrap_or(0).min(1024));
        let mut dead = Vec::new();
        for (&(_, slot), tasks) in s.state.slots.range((service, 0)..=(service, u64::MAX)) {
            let updatable = self.restart.updatable_tasks_in_slot(s, tasks);
            if updatable.is_empty() {
                dead.push((slot, tasks.clone()));
            } else {
                running.push(SlotWork {
                    slot,
                    node: None,
                    tasks: updatable,
                });
            }
        }
        Slots { running, dead }
    }

    /// Whether `reconcile` would change nothing, as after most store
    /// changes: as many slots as replicas, none dead, and an updater that
    /// would not act on them (it already works towards this spec, or no
    /// slot is dirty and no run or status waits for one). Reads the slot
    /// index in place, where the full path builds every slot's task list.
    fn reconcile_changes_nothing(&mut self, s: &Store, service: ServiceId, replicas: u64) -> bool {
        let busy = self.updates.works_towards_current_spec(s, service);
        if !busy && !self.updates.idle_when_clean(s, service) {
            return false;
        }
        let mut num = 0;
        for tasks in s
            .state
            .slots
            .range((service, 0)..=(service, u64::MAX))
            .map(|e| e.1)
        {
            let (count, first) = self.restart.count_updatable_in_slot(s, tasks);
            let Some(first) = first else {
                // A dead slot, to be deleted.
                return false;
            };
            // `isSlotDirty`, as the updater would see the slot.
            if !busy && (count > 1 || is_task_dirty(s, service, first)) {
                return false;
            }
            num += 1;
        }
        num == replicas
    }

    pub(super) fn reconcile_replicated(
        &mut self,
        s: &mut Store,
        reaper: &mut TaskReaper,
        service: ServiceId,
        replicas: u64,
    ) {
        if self.reconcile_changes_nothing(s, service, replicas) {
            return;
        }
        let Slots { running, mut dead } = self.updatable_and_dead_slots(s, service, replicas);
        let num = running.len() as u64;
        if replicas > num {
            // Scale up: update the existing slots, then add the missing
            // ones in the lowest free slot numbers (`running` is in slot
            // order, so one pass over it finds them).
            let mut free = Vec::with_capacity((replicas - num) as usize);
            let mut taken = running.iter().map(|w| w.slot).peekable();
            let mut slot = 0;
            while (free.len() as u64) < replicas - num {
                slot += 1;
                while taken.next_if(|&t| t < slot).is_some() {}
                if taken.next_if_eq(&slot).is_none() {
                    free.push(slot);
                }
            }
            self.updates.update(s, &mut self.restart, service, running);
            s.explain(Some(service), |c| {
                format!(
                    "{}: {num} of {replicas} replicas have a slot: {} new task(s) in the lowest free slot numbers",
                    c.state.services[service].spec.name,
                    replicas - num
                )
            });
            for slot in free {
                // A re-used dead slot keeps its history.
                if let Ok(i) = dead.binary_search_by_key(&slot, |d| d.0) {
                    dead.remove(i);
                }
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
            let mut slots = running;
            slots.sort_by_key(|w| {
                let running = s.state.tasks[w.tasks[0]].state == TaskState::Running;
                if crate::mutant::on("scale-down-keeps-highest") {
                    return (!running, u64::MAX - w.slot);
                }
                (!running, w.slot)
            });
            let mut per_node: BTreeMap<NodeId, i64> = BTreeMap::new();
            let mut indexed: Vec<(i64, SlotWork)> = slots
                .into_iter()
                .map(|w| {
                    let node = s.state.tasks[w.tasks[0]].node;
                    let index = match (w.tasks.len(), node) {
                        (1, Some(n)) => {
                            let c = per_node.entry(n).or_default();
                            *c += 1;
                            *c
                        }
                        _ => -1,
                    };
                    (index, w)
                })
                .collect();
            indexed.sort_by_key(|(index, _)| if *index < 0 { i64::MAX } else { *index });
            let keep = replicas as usize;
            let removed: Vec<TaskId> = indexed[keep..]
                .iter()
                .flat_map(|(_, w)| w.tasks.iter().copied())
                .collect();
            s.explain(Some(service), |c| {
                let slots: Vec<String> = indexed[keep..]
                    .iter()
                    .map(|(_, w)| w.slot.to_string())
                    .collect();
                format!(
                    "{}: scaled down to {replicas}: slot(s) {} removed (from the nodes with the most copies, non-running first)",
                    c.state.services[service].spec.name,
                    slots.join(", ")
                )
            });
            indexed.truncate(keep);
            let kept: Vec<SlotWork> = indexed.into_iter().map(|(_, w)| w).collect();
            self.updates.update(s, &mut self.restart, service, kept);
            self.delete_dead_slots(s, dead);
            for t in removed {
                s.set_desired(t, TaskState::Remove, "orchestrator: scale down");
                reaper.mark_remove(s, t);
            }
        } else {
            self.delete_dead_slots(s, dead);
            self.updates.update(s, &mut self.restart, service, running);
        }
    }

    pub(super) fn delete_dead_slots(&mut self, s: &mut Store, dead: Vec<(u64, Vec<TaskId>)>) {
        for (_, tasks) in dead {
            for t in tasks {
                s.delete_task(t);
            }
        }
    }
}

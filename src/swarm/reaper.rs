//! Task history retention (swarmkit
//! `manager/orchestrator/taskreaper/task_reaper.go`).
//!
//! A slot (or a global service's node) becomes dirty when a task is
//! created in it. 250 ms after the last task event (`reaperBatchingInterval`,
//! reset by every event: a task created, or a task's state or desired
//! state changed) the reaper prunes each dirty slot down to the
//! history limit (5, or `MaxAttempts + 1` when the restart policy sets
//! max attempts), oldest first by status timestamp, deleting only tasks
//! that are terminal or will never run. Tasks with desired REMOVE are
//! deleted as soon as they are unassigned or stopped.
//!
//! The store records the dirty slots and the batching timer as tasks are
//! created ([`crate::swarm::store::HistoryFeed`]); the reaper owns the
//! tasks to remove and the retention limit.

use std::collections::BTreeSet;

use crate::swarm::model::{DEFAULT_TASK_HISTORY_LIMIT, TaskId, TaskState};
use crate::swarm::store::{Event, REAPER_BATCHING_INTERVAL, Store};

/// The task reaper's state (swarmkit `taskreaper/task_reaper.go`).
#[derive(Debug)]
pub struct TaskReaper {
    /// Tasks to delete at the next tick.
    pub remove: BTreeSet<TaskId>,
    /// `TaskHistoryRetentionLimit` (`docker swarm update
    /// --task-history-limit`).
    pub history_limit: i64,
}

impl Default for TaskReaper {
    fn default() -> TaskReaper {
        TaskReaper {
            remove: BTreeSet::new(),
            history_limit: DEFAULT_TASK_HISTORY_LIMIT,
        }
    }
}

impl TaskReaper {
    /// A task's desired state became REMOVE: delete it once it is
    /// unassigned or stopped.
    pub fn mark_remove(&mut self, s: &mut Store, task: TaskId) {
        self.remove.insert(task);
        s.history.removing = true;
        s.history.touch(s.now, &mut s.queue);
    }

    pub fn tick(&mut self, s: &mut Store) {
        s.history.pending = None;
        let due = s.history.last_event + REAPER_BATCHING_INTERVAL;
        if due > s.now {
            // Events came in since: wait for a quiet interval.
            s.history.pending = Some(s.queue.push(due, Event::ReaperTick));
            return;
        }
        // Tasks being removed (scale-down, service rm); mostly none.
        let removes: Vec<TaskId> = if self.remove.is_empty() {
            Vec::new()
        } else {
            self.remove.iter().copied().collect()
        };
        for t in removes {
            let task = &s.state.tasks[t];
            if task.deleted {
                self.remove.remove(&t);
            } else if task.state < TaskState::Assigned || task.state >= TaskState::Complete {
                self.remove.remove(&t);
                s.delete_task(t);
            }
        }
        s.history.removing = !self.remove.is_empty();
        if !self.remove.is_empty() {
            // Still stopping: look again later.
            s.history.touch(s.now, &mut s.queue);
        }
        if self.history_limit < 0 {
            s.history.dirty.clear();
            return;
        }
        // Walked in key order straight from the set taken out of the feed
        // (a slot kept dirty below goes into the feed's new set).
        for key in std::mem::take(&mut s.history.dirty) {
            let (service, slot, node) = key;
            let stored: &[TaskId] = if slot > 0 {
                s.state.slots.get(&(service, slot))
            } else {
                node.and_then(|n| s.state.node_tasks.get(&(service, n)))
            }
            .map_or(&[], Vec::as_slice);
            let live = |&t: &TaskId| !s.state.tasks[t].deleted;
            let Some(&first) = stored.iter().find(|t| live(t)) else {
                continue;
            };
            let policy = s.state.tasks[first].spec.restart_policy;
            let limit = match policy {
                Some(p) if p.max_attempts > 0 => p.max_attempts as i64 + 1,
                _ => self.history_limit,
            } as usize;
            // Most slots are within the limit: counted in place, copied
            // only when something is to be pruned.
            let count = stored.iter().filter(|t| live(t)).count();
            if count <= limit {
                continue;
            }
            let mut by_time: Vec<TaskId> = stored.iter().copied().filter(|t| live(t)).collect();
            by_time.sort_by_key(|&t| (s.state.tasks[t].timestamp, t));
            let mut remaining = count;
            let mut running = 0;
            for t in by_time {
                if remaining <= limit {
                    break;
                }
                let task = &s.state.tasks[t];
                let terminal = task.state > TaskState::Running;
                let never_runs =
                    task.state < TaskState::Assigned && task.desired > TaskState::Running;
                if terminal || never_runs {
                    s.delete_task(t);
                    remaining -= 1;
                } else {
                    running += 1;
                }
            }
            if running > 1 {
                // Keep the slot dirty until its extra tasks stopped.
                s.history.dirty.insert(key);
            }
        }
    }
}

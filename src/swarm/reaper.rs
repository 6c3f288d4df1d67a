//! Task history retention (swarmkit
//! `manager/orchestrator/taskreaper/task_reaper.go`).
//!
//! A slot (or a global service's node) becomes dirty when a task is
//! created in it. 250 ms after the last task event (`reaperBatchingInterval`,
//! reset by every event) the reaper prunes each dirty slot down to the
//! history limit (5, or `MaxAttempts + 1` when the restart policy sets
//! max attempts), oldest first by status timestamp, deleting only tasks
//! that are terminal or will never run. Tasks with desired REMOVE are
//! deleted as soon as they are unassigned or stopped.

use crate::sim::time::millis;
use crate::swarm::cluster::{Cluster, Event};
use crate::swarm::model::{TaskId, TaskState};

/// `reaperBatchingInterval`.
const REAPER_BATCHING_INTERVAL: u64 = millis(250);

impl Cluster {
    pub(crate) fn reaper_on_create(&mut self, task: TaskId) {
        let t = &self.state.tasks[task];
        let key = if t.slot > 0 {
            (t.service, t.slot, None)
        } else {
            (t.service, 0, t.node)
        };
        self.reaper_dirty.insert(key);
        self.reaper_touch();
    }

    pub(crate) fn reaper_mark_remove(&mut self, task: TaskId) {
        self.reaper_remove.insert(task);
        self.reaper_touch();
    }

    /// Every task event resets the batching timer.
    fn reaper_touch(&mut self) {
        self.reaper_last_event = self.now;
        if self.reaper_pending.is_none() {
            let key = self
                .queue
                .push(self.now + REAPER_BATCHING_INTERVAL, Event::ReaperTick);
            self.reaper_pending = Some(key);
        }
    }

    pub(crate) fn reaper_tick(&mut self) {
        self.reaper_pending = None;
        let due = self.reaper_last_event + REAPER_BATCHING_INTERVAL;
        if due > self.now {
            // Events came in since: wait for a quiet interval.
            self.reaper_pending = Some(self.queue.push(due, Event::ReaperTick));
            return;
        }
        // Tasks being removed (scale-down, service rm).
        let removes: Vec<TaskId> = self.reaper_remove.iter().copied().collect();
        for t in removes {
            let task = &self.state.tasks[t];
            if task.deleted {
                self.reaper_remove.remove(&t);
            } else if task.state < TaskState::Assigned || task.state >= TaskState::Complete {
                self.reaper_remove.remove(&t);
                self.delete_task(t);
            }
        }
        if !self.reaper_remove.is_empty() {
            // Still stopping: look again later.
            self.reaper_touch();
        }
        if self.task_history_limit < 0 {
            self.reaper_dirty.clear();
            return;
        }
        let dirty: Vec<_> = std::mem::take(&mut self.reaper_dirty).into_iter().collect();
        for key in dirty {
            let (service, slot, node) = key;
            let tasks: Vec<TaskId> = if slot > 0 {
                self.state
                    .slots
                    .get(&(service, slot))
                    .cloned()
                    .unwrap_or_default()
            } else {
                node.and_then(|n| self.state.node_tasks.get(&(service, n)).cloned())
                    .unwrap_or_default()
            };
            let tasks: Vec<TaskId> = tasks
                .into_iter()
                .filter(|&t| !self.state.tasks[t].deleted)
                .collect();
            let Some(&first) = tasks.first() else {
                continue;
            };
            let policy = self.state.tasks[first].spec.restart_policy;
            let limit = match policy {
                Some(p) if p.max_attempts > 0 => p.max_attempts as i64 + 1,
                _ => self.task_history_limit,
            } as usize;
            if tasks.len() <= limit {
                continue;
            }
            let mut by_time = tasks.clone();
            by_time.sort_by_key(|&t| (self.state.tasks[t].timestamp, t));
            let mut remaining = tasks.len();
            let mut running = 0;
            for t in by_time {
                if remaining <= limit {
                    break;
                }
                let task = &self.state.tasks[t];
                let terminal = task.state > TaskState::Running;
                let never_runs =
                    task.state < TaskState::Assigned && task.desired > TaskState::Running;
                if terminal || never_runs {
                    self.delete_task(t);
                    remaining -= 1;
                } else {
                    running += 1;
                }
            }
            if running > 1 {
                // Keep the slot dirty until its extra tasks stopped.
                self.reaper_dirty.insert(key);
            }
        }
    }
}

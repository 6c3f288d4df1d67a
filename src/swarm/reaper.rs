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

use std::collections::BTreeSet;

use crate::sim::queue::EventKey;
use crate::sim::time::{SimDuration, SimTime, millis};
use crate::swarm::cluster::{Cluster, Event};
use crate::swarm::model::{DEFAULT_TASK_HISTORY_LIMIT, NodeId, ServiceId, TaskId, TaskState};

/// The task reaper's state (swarmkit `taskreaper/task_reaper.go`).
#[derive(Debug)]
pub struct TaskReaper {
    /// Slots (service, slot) or global (service, node) whose history may
    /// have grown past the limit: (service, slot or 0, node for global).
    pub dirty: BTreeSet<(ServiceId, u64, Option<NodeId>)>,
    /// Tasks to delete at the next tick.
    pub remove: BTreeSet<TaskId>,
    /// When the last change that needs a tick came (for the debounce).
    pub last_event: SimTime,
    /// The pending tick, if any.
    pub pending: Option<EventKey>,
    /// `TaskHistoryRetentionLimit` (`docker swarm update
    /// --task-history-limit`).
    pub history_limit: i64,
}

impl Default for TaskReaper {
    fn default() -> TaskReaper {
        TaskReaper {
            dirty: BTreeSet::new(),
            remove: BTreeSet::new(),
            last_event: SimTime::ZERO,
            pending: None,
            history_limit: DEFAULT_TASK_HISTORY_LIMIT,
        }
    }
}

/// `reaperBatchingInterval`.
const REAPER_BATCHING_INTERVAL: SimDuration = millis(250);

impl Cluster {
    pub(crate) fn reaper_on_create(&mut self, task: TaskId) {
        let t = &self.state.tasks[task];
        let key = if t.slot > 0 {
            (t.service, t.slot, None)
        } else {
            (t.service, 0, t.node)
        };
        self.reaper.dirty.insert(key);
        self.reaper_touch();
    }

    pub(crate) fn reaper_mark_remove(&mut self, task: TaskId) {
        self.reaper.remove.insert(task);
        self.reaper_touch();
    }

    /// A task's state or desired state changed (swarmkit
    /// `EventUpdateTask`): the reaper's batching timer is reset by task
    /// updates as well, so a tick waits for 250 ms without any task event,
    /// and a slot kept dirty (more than one running task) is looked at
    /// again after the next change. With nothing dirty and nothing to
    /// remove a tick would do nothing, so none is scheduled then
    /// (docs/swarm-rules.md, task history).
    pub(crate) fn reaper_on_update(&mut self) {
        if !self.reaper.dirty.is_empty() || !self.reaper.remove.is_empty() {
            self.reaper_touch();
        }
    }

    /// Every task event resets the batching timer.
    fn reaper_touch(&mut self) {
        self.reaper.last_event = self.now;
        if self.reaper.pending.is_none() {
            let key = self
                .queue
                .push(self.now + REAPER_BATCHING_INTERVAL, Event::ReaperTick);
            self.reaper.pending = Some(key);
        }
    }

    pub(crate) fn reaper_tick(&mut self) {
        self.reaper.pending = None;
        let due = self.reaper.last_event + REAPER_BATCHING_INTERVAL;
        if due > self.now {
            // Events came in since: wait for a quiet interval.
            self.reaper.pending = Some(self.queue.push(due, Event::ReaperTick));
            return;
        }
        // Tasks being removed (scale-down, service rm).
        let removes: Vec<TaskId> = self.reaper.remove.iter().copied().collect();
        for t in removes {
            let task = &self.state.tasks[t];
            if task.deleted {
                self.reaper.remove.remove(&t);
            } else if task.state < TaskState::Assigned || task.state >= TaskState::Complete {
                self.reaper.remove.remove(&t);
                self.delete_task(t);
            }
        }
        if !self.reaper.remove.is_empty() {
            // Still stopping: look again later.
            self.reaper_touch();
        }
        if self.reaper.history_limit < 0 {
            self.reaper.dirty.clear();
            return;
        }
        let dirty: Vec<_> = std::mem::take(&mut self.reaper.dirty).into_iter().collect();
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
                _ => self.reaper.history_limit,
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
                self.reaper.dirty.insert(key);
            }
        }
    }
}

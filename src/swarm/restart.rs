//! Restart supervisor (swarmkit `manager/orchestrator/restart/restart.go`):
//! replaces failed tasks under the restart policy, and starts replacement
//! tasks once their delay elapsed and their predecessor stopped
//! (`DelayStart` / `StartNow`), for itself and for the updater.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::docker::duration::format_go_duration;
use crate::sim::queue::EventKey;
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::model::{
    Availability, NodeId, NodeStatus, OLD_TASK_TIMEOUT, RestartCondition, ServiceId, TaskId,
    TaskState, UpdateState,
};
use crate::swarm::orchestrator::slot::{TaskIds, TaskMap};
use crate::swarm::store::{Event, Store};

/// A pending `DelayStart` of a new task.
#[derive(Debug, Clone)]
pub struct DelayedStart {
    /// The old task to wait for (`waitForTask`), if any.
    pub old: Option<TaskId>,
    pub delay_until: SimTime,
    pub delay_timer: Option<EventKey>,
    pub timeout_timer: Option<EventKey>,
    /// The old task stopped, or its node went down.
    pub old_done: bool,
    /// A `Restart` of this new task is waiting for this start to happen
    /// (`waitRestart`).
    pub restart_waiter: bool,
}

/// Restart history of one slot (`restartedInstance` list).
#[derive(Debug, Clone, Default)]
pub struct RestartInfo {
    pub spec_version: u64,
    pub total: u64,
    pub recent: VecDeque<SimTime>,
}

#[derive(Debug, Default)]
pub struct RestartSupervisor {
    /// Pending delayed starts, keyed by the task to start (looked up by
    /// key only, never iterated).
    pub delays: TaskMap<DelayedStart>,
    /// Old task → new tasks whose start waits for it to stop.
    pub waiting_on: TaskMap<TaskIds>,
    /// Keyed by (service, slot) or (service, node + 2^32) for global.
    pub history: FxHashMap<(ServiceId, u64), RestartInfo>,
}

/// Who waits for delayed starts (swarmkit: the channel `DelayStart`
/// returns, which the updater waits on). The restart supervisor calls it
/// when it raised a task to desired RUNNING, before anything else
/// happens, so the updater's worker moves on at that instant.
pub trait StartWatcher {
    fn on_delayed_start(&mut self, s: &mut Store, restart: &mut RestartSupervisor, task: TaskId);
}

/// How a stopped task ended, for explanations.
fn ended(state: TaskState) -> &'static str {
    match state {
        TaskState::Complete => "exited 0",
        TaskState::Failed => "failed",
        TaskState::Rejected => "was rejected",
        TaskState::Shutdown => "was shut down",
        TaskState::Orphaned => "was orphaned",
        _ => "stopped",
    }
}

/// The key of a slot's restart history (swarmkit `SlotTuple`).
fn tuple(service: ServiceId, slot: u64, node: Option<NodeId>) -> (ServiceId, u64) {
    if slot > 0 {
        (service, slot)
    } else {
        (service, (1 << 32) + node.unwrap_or(0) as u64)
    }
}

impl RestartSupervisor {
    /// `Restart`: shut the task down and, if the policy allows, create its
    /// replacement in the same slot from the current spec, started after
    /// the restart delay (0 on a drained node) and once the old task
    /// stopped (unless it already has, or its node is down).
    pub fn restart<W: StartWatcher>(&mut self, s: &mut Store, w: &mut W, task: TaskId) {
        if let Some(d) = self.delays.get_mut(task) {
            // Its own delayed start is still pending: restart after it.
            d.restart_waiter = true;
            return;
        }
        let t = &s.state.tasks[task];
        if t.desired > TaskState::Running || t.deleted {
            return;
        }
        s.set_desired(
            task,
            TaskState::Shutdown,
            "restart supervisor: task stopped",
        );
        if !self.should_restart(s, task) {
            s.explain(Some(s.state.tasks[task].service), |c| {
                let t = &c.state.tasks[task];
                let p = t.spec.restart_policy();
                let why = match p.condition {
                    RestartCondition::None => "restart_policy.condition none".to_string(),
                    RestartCondition::OnFailure if t.state == TaskState::Complete => {
                        "it exited 0 and restart_policy.condition is on-failure".to_string()
                    }
                    _ => format!(
                        "restart_policy.max_attempts {} reached{}",
                        p.max_attempts,
                        if !p.window.is_zero() {
                            format!(" within the {} window", format_go_duration(p.window))
                        } else {
                            String::new()
                        }
                    ),
                };
                format!(
                    "{}: task {} {} and is not replaced ({why})",
                    c.task_name(task),
                    c.short_id(task),
                    ended(t.state)
                )
            });
            return;
        }
        let t = &s.state.tasks[task];
        let (service, slot, node, old_state) = (t.service, t.slot, t.node, t.state);
        let policy = t.spec.restart_policy();
        let node_info = node.map(|n| &s.state.nodes[n]);
        let drained = node_info.is_some_and(|n| n.availability == Availability::Drain);
        let node_down = node_info.is_some_and(|n| n.status == NodeStatus::Down);
        let delay = if drained || crate::mutant::on("no-restart-delay") {
            SimDuration::ZERO
        } else {
            policy.delay()
        };
        let wait_stop = !(node_down || old_state > TaskState::Running);
        let global_node = if slot == 0 { node } else { None };
        let new = s.create_task(
            service,
            slot,
            global_node,
            TaskState::Ready,
            "restart supervisor: restart policy",
        );
        self.record_restart(s, new);
        s.stats[service].restarts += 1;
        s.explain(Some(service), |c| {
            let why = if drained {
                "at once (restart delay 0 on a drained node)".to_string()
            } else {
                format!(
                    "after the {} restart delay{}",
                    format_go_duration(delay),
                    if policy.delay.is_some() {
                        " (restart_policy.delay)"
                    } else {
                        " (Swarm's default)"
                    }
                )
            };
            let wait = if wait_stop {
                " and once the old task has stopped"
            } else {
                ""
            };
            let what = if node_down {
                "is on a node that is down".to_string()
            } else if drained {
                "is on a drained node".to_string()
            } else {
                ended(old_state).to_string()
            };
            format!(
                "{}: task {} {what} (restart_policy.condition {}): replacement {} from the current spec starts {why}{wait}",
                c.task_name(task),
                c.short_id(task),
                policy.condition.as_str(),
                c.short_id(new)
            )
        });
        self.delay_start(s, w, Some(task), new, delay, wait_stop);
    }

    /// `shouldRestart`: the condition, then `MaxAttempts` within `Window`
    /// over this slot's history for the task's spec version.
    pub fn should_restart(&mut self, s: &Store, task: TaskId) -> bool {
        let t = &s.state.tasks[task];
        let policy = t.spec.restart_policy();
        match policy.condition {
            RestartCondition::None => return false,
            RestartCondition::OnFailure if t.state == TaskState::Complete => return false,
            _ => {}
        }
        if t.spec.restart_policy.is_none() || policy.max_attempts == 0 {
            return true;
        }
        let key = tuple(t.service, t.slot, t.node);
        let spec_version = t.spec_version;
        let now = s.now;
        let Some(info) = self.history.get_mut(&key) else {
            return true;
        };
        if info.spec_version != spec_version {
            return true;
        }
        if policy.window.is_zero() {
            return info.total < policy.max_attempts;
        }
        let lookback = now.saturating_sub(policy.window);
        while info.recent.front().is_some_and(|&ts| ts <= lookback) {
            info.recent.pop_front();
        }
        (info.recent.len() as u64) < policy.max_attempts
    }

    /// `recordRestartHistory`.
    fn record_restart(&mut self, s: &mut Store, new: TaskId) {
        let t = &s.state.tasks[new];
        let key = tuple(t.service, t.slot, t.node);
        let window = t.spec.restart_policy().window;
        let spec_version = t.spec_version;
        let now = s.now;
        let info = self.history.entry(key).or_default();
        if info.spec_version != spec_version {
            *info = RestartInfo {
                spec_version,
                ..Default::default()
            };
        }
        info.total += 1;
        if !window.is_zero() {
            info.recent.push_back(now);
        }
    }

    /// `DelayStart`: raise `new` to desired RUNNING after `delay` and,
    /// with `wait_stop`, once `old` is past RUNNING, its node is down, or
    /// `defaultOldTaskTimeout` (1 min from now) passed.
    pub fn delay_start<W: StartWatcher>(
        &mut self,
        s: &mut Store,
        w: &mut W,
        old: Option<TaskId>,
        new: TaskId,
        delay: SimDuration,
        wait_stop: bool,
    ) {
        if let Some(prev) = self.delays.remove(new) {
            self.cancel_delay_timers(s, &prev);
        }
        let wait_for = old.filter(|&o| wait_stop && s.state.tasks[o].state <= TaskState::Running);
        let mut d = DelayedStart {
            old: wait_for,
            delay_until: s.now + delay,
            delay_timer: None,
            timeout_timer: None,
            old_done: false,
            restart_waiter: false,
        };
        if !delay.is_zero() {
            d.delay_timer = Some(s.queue.push(s.now + delay, Event::RestartDelay(new)));
        }
        if let Some(o) = wait_for {
            d.timeout_timer = Some(
                s.queue
                    .push(s.now + OLD_TASK_TIMEOUT, Event::OldTaskTimeout(new)),
            );
            self.waiting_on.get_or_default(o).push(new);
            if let Some(n) = s.state.tasks[o].node
                && s.state.nodes[n].status == NodeStatus::Down
            {
                d.old_done = true;
            }
        }
        self.delays.insert(new, d);
        self.try_start(s, w, new);
    }

    fn cancel_delay_timers(&mut self, s: &mut Store, d: &DelayedStart) {
        if let Some(k) = d.delay_timer {
            s.queue.cancel(k);
        }
        if let Some(k) = d.timeout_timer {
            s.queue.cancel(k);
        }
    }

    pub fn delay_elapsed<W: StartWatcher>(&mut self, s: &mut Store, w: &mut W, new: TaskId) {
        if let Some(d) = self.delays.get_mut(new) {
            d.delay_timer = None;
        }
        self.try_start(s, w, new);
    }

    pub fn old_task_timeout<W: StartWatcher>(&mut self, s: &mut Store, w: &mut W, new: TaskId) {
        if let Some(d) = self.delays.get_mut(new) {
            d.timeout_timer = None;
            d.old_done = true;
            s.explain(Some(s.state.tasks[new].service), |c| {
                format!(
                    "{}: the old task did not stop within 1 minute, so task {} starts anyway (old-task timeout)",
                    c.task_name(new),
                    c.short_id(new)
                )
            });
        }
        self.try_start(s, w, new);
    }

    /// Starts `new` if its delay elapsed and its predecessor is out of the
    /// way (`StartNow`), then releases whoever waited for it.
    fn try_start<W: StartWatcher>(&mut self, s: &mut Store, w: &mut W, new: TaskId) {
        let Some(d) = self.delays.get(new) else {
            return;
        };
        if s.now < d.delay_until || (d.old.is_some() && !d.old_done) {
            return;
        }
        let d = self.delays.remove(new).expect("a pending start");
        self.cancel_delay_timers(s, &d);
        if let Some(o) = d.old
            && let Some(waiters) = self.waiting_on.get_mut(o)
        {
            waiters.retain(|x| x != new);
            if waiters.is_empty() {
                self.waiting_on.remove(o);
            }
        }
        let t = &s.state.tasks[new];
        if !t.deleted && t.desired < TaskState::Running {
            s.set_desired(new, TaskState::Running, "restart supervisor: delayed start");
        }
        w.on_delayed_start(s, self, new);
        if d.restart_waiter {
            self.restart(s, w, new);
        }
    }

    /// Watches old tasks that replacements wait for.
    #[inline]
    pub fn on_task_state<W: StartWatcher>(
        &mut self,
        s: &mut Store,
        w: &mut W,
        task: TaskId,
        state: TaskState,
    ) {
        if state <= TaskState::Running || self.waiting_on.is_empty() {
            return;
        }
        self.old_task_stopped(s, w, task);
    }

    fn old_task_stopped<W: StartWatcher>(&mut self, s: &mut Store, w: &mut W, task: TaskId) {
        let Some(waiters) = self.waiting_on.get(task) else {
            return;
        };
        // Mostly one replacement waits: no copy of the list.
        if let [new] = waiters[..] {
            if let Some(d) = self.delays.get_mut(new) {
                d.old_done = true;
            }
            self.try_start(s, w, new);
            return;
        }
        for &new in waiters.clone().iter() {
            if let Some(d) = self.delays.get_mut(new) {
                d.old_done = true;
            }
            self.try_start(s, w, new);
        }
    }

    /// A node went down: replacements waiting for its tasks may start.
    pub fn on_node_change<W: StartWatcher>(&mut self, s: &mut Store, w: &mut W, node: NodeId) {
        if s.state.nodes[node].status != NodeStatus::Down {
            return;
        }
        let mut all: Vec<TaskId> = self
            .waiting_on
            .iter()
            .filter(|(o, _)| s.state.tasks[*o].node == Some(node))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        all.sort_unstable();
        for new in all {
            if let Some(d) = self.delays.get_mut(new) {
                d.old_done = true;
            }
            self.try_start(s, w, new);
        }
    }

    /// `UpdatableTasksInSlot`: tasks with desired ≤ RUNNING; if none, the
    /// newest task when it must not be restarted (except during a
    /// rollback).
    pub fn updatable_tasks_in_slot(&mut self, s: &Store, tasks: &[TaskId]) -> TaskIds {
        let updatable: TaskIds = tasks
            .iter()
            .copied()
            .filter(|&t| s.state.tasks[t].desired <= TaskState::Running)
            .collect();
        if !updatable.is_empty() || tasks.is_empty() {
            return updatable;
        }
        self.kept_stopped_task(s, tasks).into_iter().collect()
    }

    /// How many tasks [`Self::updatable_tasks_in_slot`] gives, and the
    /// first of them, without building the list.
    pub fn count_updatable_in_slot(
        &mut self,
        s: &Store,
        tasks: &[TaskId],
    ) -> (usize, Option<TaskId>) {
        let mut count = 0;
        let mut first = None;
        for &t in tasks {
            if s.state.tasks[t].desired <= TaskState::Running {
                first = first.or(Some(t));
                count += 1;
            }
        }
        if count > 0 || tasks.is_empty() {
            return (count, first);
        }
        match self.kept_stopped_task(s, tasks) {
            Some(t) => (1, Some(t)),
            None => (0, None),
        }
    }

    /// A slot (not empty) with no task desired ≤ RUNNING: its newest task
    /// when it must not be restarted (except during a rollback).
    fn kept_stopped_task(&mut self, s: &Store, tasks: &[TaskId]) -> Option<TaskId> {
        let service = s.state.tasks[tasks[0]].service;
        let rolling_back = s.state.services[service]
            .update_status
            .as_ref()
            .is_some_and(|s| s.state == UpdateState::RollbackStarted);
        if rolling_back {
            return None;
        }
        // Newest by status timestamp, ties by creation order.
        let newest = *tasks
            .iter()
            .max_by_key(|&&t| (s.state.tasks[t].timestamp, t))
            .expect("non-empty");
        (!self.should_restart(s, newest)).then_some(newest)
    }
}

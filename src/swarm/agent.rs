//! The node side: swarmkit's agent and Docker's executor
//! (swarmkit `agent/exec/controller.go` `Do`; moby
//! `daemon/cluster/executor/container/controller.go`).
//!
//! Rules followed:
//! - ASSIGNED → ACCEPTED (`accepted`) → PREPARING (`preparing`) at once;
//!   PREPARING → READY (`prepared`) when the image is on the node (pulled
//!   once per node; concurrent tasks wait for the same pull).
//! - READY → STARTING (`starting`) only once desired ≥ RUNNING; STARTING →
//!   RUNNING (`started`) after the image's start latency, or, with a
//!   healthcheck, at the first healthy probe.
//! - A failed start or a crash: FAILED with `task: non-zero exit (N)`;
//!   exit code 0: COMPLETE (`finished`). Unhealthy: the container is
//!   stopped, FAILED with `task: non-zero exit (N): dockerexec: unhealthy
//!   container`.
//! - Desired ≥ SHUTDOWN and observed < COMPLETE: a started container is
//!   stopped (the image's stop latency, capped by the stop grace period),
//!   then SHUTDOWN (`shutdown`); a task not started yet shuts down at once.

use crate::dist::bernoulli;
use crate::docker::duration::format_go_duration;
use crate::sim::queue::EventKey;
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::model::{DEFAULT_STOP_GRACE_PERIOD, NodeId, TaskId, TaskState};
use crate::swarm::store::{Event, Store};

/// Agent-side bookkeeping of one task.
/// The node side (swarmkit's agent and executor), for every node: each
/// task's container, and the images pulled on each node.
#[derive(Debug, Default)]
pub struct Agent {
    /// Per task (indexed by [`TaskId`]).
    pub tasks: Vec<AgentTask>,
    /// Per node, per image runtime, in one vector: the pull of image `i`
    /// on node `n` is at `n * stride + i` (one allocation for the whole
    /// cluster instead of one per node).
    pulls: Vec<Pull>,
    /// Image slots per node in `pulls` (grows, with a re-layout, when an
    /// image runtime past it is pulled).
    stride: usize,
}

/// An image on a node.
#[derive(Debug, Clone, Copy, Default)]
enum Pull {
    /// Not on the node, no pull under way.
    #[default]
    Absent,
    /// Being pulled, with the tasks waiting for it in arrival order: a
    /// list linked through [`AgentTask::next_waiter`] (no allocation per
    /// pull), from `first` to `last`.
    Pulling { first: u32, last: u32 },
    /// On the node.
    Done,
}

/// The end of a waiter list ([`AgentTask::next_waiter`]).
const NO_TASK: u32 = u32::MAX;

/// A task id as a waiter-list link (32 bits keep [`AgentTask`] at 80
/// bytes).
fn link(task: TaskId) -> u32 {
    u32::try_from(task)
        .ok()
        .filter(|&l| l != NO_TASK)
        .expect("fewer than 2^32 - 1 tasks")
}

/// Image slots per node in [`Agent::pulls`] at least (the images of a
/// service and of its update or rollback).
const MIN_STRIDE: usize = 4;

impl Agent {
    /// Makes room for a task the agent sees for the first time (every
    /// task's first change is its creation, PENDING).
    fn ensure(&mut self, task: TaskId) {
        if self.tasks.len() <= task {
            // Skip the first few doublings (the store does the same for
            // its task vectors).
            self.tasks.reserve((task + 1).max(32) - self.tasks.len());
            self.tasks.resize_with(task + 1, AgentTask::default);
        }
    }

    /// The index in `pulls` of `image` on `node`; `nodes` and `images`
    /// are the store's counts, to size the table once for the usual case.
    #[inline]
    fn pull(&mut self, nodes: usize, images: usize, node: NodeId, image: usize) -> usize {
        if image >= self.stride || (node + 1) * self.stride > self.pulls.len() {
            self.grow_pulls(nodes, images, node, image);
        }
        node * self.stride + image
    }

    /// Clears the waiting mark of every task of a waiter list from
    /// `first`.
    fn unlink_waiters(&mut self, first: u32) {
        let mut next = first;
        while next != NO_TASK {
            let w = &mut self.tasks[next as usize];
            w.waiting = false;
            next = w.next_waiter;
        }
    }

    /// Makes room in `pulls` for `image` on `node` (at least every node
    /// and image the store knows of).
    #[cold]
    fn grow_pulls(&mut self, nodes: usize, images: usize, node: NodeId, image: usize) {
        if image >= self.stride {
            // Room for a few images per node from the first pull: an
            // update to a new image then needs no re-layout.
            self.relayout(images.max(image + 1).max(MIN_STRIDE));
        }
        let rows = nodes.max(node + 1);
        if rows * self.stride > self.pulls.len() {
            self.pulls.resize_with(rows * self.stride, Pull::default);
        }
    }

    /// Widens every node's row to `stride` image slots.
    fn relayout(&mut self, stride: usize) {
        let old = std::mem::take(&mut self.pulls);
        let rows = old.len().checked_div(self.stride).unwrap_or(0);
        let mut pulls = Vec::with_capacity(rows * stride);
        let mut it = old.into_iter();
        for _ in 0..rows {
            pulls.extend(it.by_ref().take(self.stride));
            pulls.resize_with(pulls.len() + stride - self.stride, Pull::default);
        }
        self.pulls = pulls;
        self.stride = stride;
    }
}

#[derive(Debug, Clone, Default)]
pub struct AgentTask {
    /// The pending lifecycle step (start, exit, stop).
    pub pending: Option<EventKey>,
    /// The pending health probe.
    pub probe: Option<EventKey>,
    /// When the container was started (for the health start period).
    pub container_started: Option<SimTime>,
    pub consecutive_probe_failures: u32,
    pub healthy: bool,
    pub stopping: bool,
    /// The container was created (the `engine: create` step is done).
    pub created: bool,
    /// The desired state that has reached the agent (`engine: dispatch`).
    pub delivered: Option<TaskState>,
    /// The pending delivery of a desired state to the agent.
    pub deliver: Option<EventKey>,
    /// In the waiter list of a pull under way (once: a task asked twice
    /// is made READY once all the same).
    waiting: bool,
    /// The next task in that list ([`NO_TASK`] at its end; meaningless
    /// unless `waiting`).
    next_waiter: u32,
}

pub use crate::swarm::store::Step;

impl Agent {
    /// Reacts to any change of a task assigned to a node: the agent's
    /// `Do` loop. Inlined for the test that skips most changes: a task on
    /// no node, or started (or finished) with nothing to stop and no
    /// delivery of the desired state to wait for ([`Agent::react`] would
    /// do nothing for these).
    #[inline]
    pub fn on_task_change(&mut self, s: &mut Store, task: TaskId) {
        self.ensure(task);
        let t = &s.state.tasks[task];
        let idle = t.node.is_none()
            || (s.engine.dispatch.is_zero()
                && t.state >= TaskState::Starting
                && (t.desired < TaskState::Shutdown || t.state >= TaskState::Complete));
        if !idle {
            self.react(s, task);
        }
    }

    /// The agent's `Do` loop for one task.
    #[inline(never)]
    fn react(&mut self, s: &mut Store, task: TaskId) {
        let t = &s.state.tasks[task];
        let Some(node) = t.node else { return };
        if t.deleted || !s.state.nodes[node].agent_up {
            return;
        }
        let (state, desired) = (t.state, t.desired);
        // `engine: dispatch` (0 by default: at once): the assignment and
        // each change of the desired state reach the agent that long later
        // (the dispatcher's batch and the agent's round trip).
        let dispatch = s.engine.dispatch;
        if !dispatch.is_zero() && self.tasks[task].delivered != Some(desired) {
            if self.tasks[task].deliver.is_none() {
                let key = s
                    .queue
                    .push(s.now + dispatch, Event::Agent(task, Step::Dispatched));
                self.tasks[task].deliver = Some(key);
            }
            return;
        }
        if desired >= TaskState::Shutdown {
            if state < TaskState::Complete {
                self.stop(s, task);
            }
            return;
        }
        match state {
            TaskState::Assigned => {
                s.set_state(task, TaskState::Accepted, "accepted", None, "agent");
            }
            TaskState::Accepted => {
                s.set_state(task, TaskState::Preparing, "preparing", None, "agent");
            }
            // `engine: create` (0 by default: at once): the container
            // create of every task, before the image pull.
            TaskState::Preparing if !s.engine.create.is_zero() && !self.tasks[task].created => {
                self.engine_step(s, task, s.engine.create, Step::Created);
            }
            TaskState::Preparing => self.prepare(s, task, node),
            TaskState::Ready if desired >= TaskState::Running => {
                s.set_state(task, TaskState::Starting, "starting", None, "agent");
                self.start(s, task);
            }
            _ => {}
        }
    }

    /// PREPARING: pull the image unless the node has it already.
    fn prepare(&mut self, s: &mut Store, task: TaskId, node: NodeId) {
        let image = s.task_image(task);
        let (nodes, images) = (s.state.nodes.len(), s.images.len());
        let at = self.pull(nodes, images, node, image);
        match self.pulls[at] {
            Pull::Done => {
                s.set_state(task, TaskState::Ready, "prepared", None, "agent");
            }
            Pull::Pulling { first, last } => {
                if !self.tasks[task].waiting {
                    self.tasks[last as usize].next_waiter = link(task);
                    self.tasks[task].waiting = true;
                    self.tasks[task].next_waiter = NO_TASK;
                    self.pulls[at] = Pull::Pulling {
                        first,
                        last: link(task),
                    };
                }
            }
            Pull::Absent => {
                self.tasks[task].waiting = true;
                self.tasks[task].next_waiter = NO_TASK;
                self.pulls[at] = Pull::Pulling {
                    first: link(task),
                    last: link(task),
                };
                let rt = &mut s.images[image];
                let latency = rt.profile.pull.sample(&mut rt.pull_rng);
                s.explain(Some(s.state.tasks[task].service), |c| {
                    format!(
                        "{}: node {} pulls {} in {} (images pull; once per node)",
                        c.task_name(task),
                        c.state.nodes[node].hostname,
                        c.images[image].name,
                        format_go_duration(latency)
                    )
                });
                s.queue
                    .push(s.now + latency, Event::PullDone { node, image });
            }
        }
    }

    pub fn pull_done(&mut self, s: &mut Store, node: NodeId, image: usize) {
        if !s.state.nodes[node].agent_up {
            return;
        }
        // The image is on the node; the tasks waiting for a pull of it
        // (this one, or one started after the node came back) go on.
        let (nodes, images) = (s.state.nodes.len(), s.images.len());
        let at = self.pull(nodes, images, node, image);
        let mut next = match std::mem::replace(&mut self.pulls[at], Pull::Done) {
            Pull::Pulling { first, .. } => first,
            Pull::Absent | Pull::Done => return,
        };
        while next != NO_TASK {
            let task = next as usize;
            self.tasks[task].waiting = false;
            next = self.tasks[task].next_waiter;
            let t = &s.state.tasks[task];
            if !t.deleted && t.state == TaskState::Preparing && t.desired < TaskState::Shutdown {
                s.set_state(task, TaskState::Ready, "prepared", None, "agent");
            }
        }
    }

    /// STARTING: draw the start latency and whether this attempt fails.
    fn start(&mut self, s: &mut Store, task: TaskId) {
        let image = s.task_image(task);
        let rt = &mut s.images[image];
        let latency = rt.profile.start.sample(&mut rt.start_rng) + s.engine.start;
        // A stream per image draws nothing else, and the image's rate is
        // fixed: with a rate of 0 its draws could never matter.
        let p = rt.profile.fail_on_start;
        let failed = p > 0.0 && bernoulli(&mut rt.fail_rng, p);
        s.explain(Some(s.state.tasks[task].service), |c| {
            let p = c.images[image].profile.fail_on_start;
            format!(
                "{}: task {} starts its container in {} (images start){}",
                c.task_name(task),
                c.short_id(task),
                format_go_duration(latency),
                if failed {
                    format!(", and this attempt fails (images fail_on_start {p})")
                } else {
                    String::new()
                }
            )
        });
        self.schedule(s, task, latency, Step::StartDone { failed });
    }

    /// One of the engine's own steps (`engine:`), unless one is under way.
    fn engine_step(&mut self, s: &mut Store, task: TaskId, after: SimDuration, step: Step) {
        if self.tasks[task].pending.is_none() {
            self.schedule(s, task, after, step);
        }
    }

    fn schedule(&mut self, s: &mut Store, task: TaskId, after: SimDuration, step: Step) {
        if let Some(k) = self.tasks[task].pending.take() {
            s.queue.cancel(k);
        }
        let key = s.queue.push(s.now + after, Event::Agent(task, step));
        self.tasks[task].pending = Some(key);
    }

    fn schedule_probe(&mut self, s: &mut Store, task: TaskId, after: SimDuration) {
        if let Some(k) = self.tasks[task].probe.take() {
            s.queue.cancel(k);
        }
        let key = s
            .queue
            .push(s.now + after, Event::Agent(task, Step::HealthProbe));
        self.tasks[task].probe = Some(key);
    }

    pub fn step(&mut self, s: &mut Store, task: TaskId, step: Step) {
        match step {
            Step::HealthProbe => self.tasks[task].probe = None,
            Step::Dispatched => {
                self.tasks[task].deliver = None;
                self.tasks[task].delivered = Some(s.state.tasks[task].desired);
                self.on_task_change(s, task);
                return;
            }
            _ => self.tasks[task].pending = None,
        }
        let state = s.state.tasks[task].state;
        match step {
            Step::StartDone { failed } => {
                if state != TaskState::Starting {
                    return;
                }
                let code = self.image_profile_exit_code(s, task);
                if failed {
                    self.exit(s, task, code, None);
                    return;
                }
                self.tasks[task].container_started = Some(s.now);
                match s.state.tasks[task].spec.healthcheck.clone() {
                    Some(hc) if !hc.disabled() => {
                        let first = if !hc.start_period.is_zero() {
                            hc.start_interval()
                        } else {
                            hc.interval()
                        };
                        self.schedule_probe(s, task, first);
                    }
                    _ => self.running(s, task),
                }
            }
            Step::HealthProbe => self.probe(s, task),
            Step::Dispatched => {}
            Step::Created => {
                self.tasks[task].created = true;
                if let Some(node) = s.state.tasks[task].node
                    && state == TaskState::Preparing
                    && s.state.tasks[task].desired < TaskState::Shutdown
                {
                    self.prepare(s, task, node);
                }
            }
            Step::Exit { code } => {
                if state == TaskState::Running || state == TaskState::Starting {
                    self.exit(s, task, code, None);
                }
            }
            Step::StopDone { code } => {
                if state < TaskState::Complete {
                    let unhealthy = !self.tasks[task].healthy
                        && self.tasks[task].stopping
                        && s.state.tasks[task].desired < TaskState::Shutdown;
                    if unhealthy && code == 0 {
                        // The executor reports the exit code; a health
                        // failure only names the cause of a non-zero exit
                        // (`docs/swarm-rules.md#agent-unhealthy-container`), so the
                        // task completes. From
                        // STARTING the agent reports `complete` straight
                        // away, never `running` (conformance
                        // unhealthy-exit-zero on a real engine).
                        self.exit(s, task, 0, None);
                    } else if unhealthy {
                        self.exit(s, task, code, Some("dockerexec: unhealthy container"));
                    } else {
                        self.cancel_all(s, task);
                        s.set_state(task, TaskState::Shutdown, "shutdown", None, "agent");
                    }
                }
            }
        }
    }

    fn image_profile_exit_code(&mut self, s: &mut Store, task: TaskId) -> i64 {
        let image = s.task_image(task);
        s.images[image].profile.exit_code
    }

    /// STARTING → RUNNING, and schedule the image's crash if it has one.
    fn running(&mut self, s: &mut Store, task: TaskId) {
        s.set_state(task, TaskState::Running, "started", None, "agent");
        let image = s.task_image(task);
        let rt = &mut s.images[image];
        if let Some(crash) = rt.profile.crash_after.clone() {
            let after = crash.sample(&mut rt.crash_rng);
            let code = rt.profile.exit_code;
            s.explain(Some(s.state.tasks[task].service), |c| {
                format!(
                    "{}: task {} will exit with code {code} after {} (images crash_after)",
                    c.task_name(task),
                    c.short_id(task),
                    format_go_duration(after)
                )
            });
            self.schedule(s, task, after, Step::Exit { code });
        }
    }

    /// One health probe (moby `daemon/health.go`): failures during the
    /// start period do not count; `retries` consecutive failures make the
    /// container unhealthy.
    fn probe(&mut self, s: &mut Store, task: TaskId) {
        let t = &s.state.tasks[task];
        if t.state > TaskState::Running || self.tasks[task].stopping {
            return;
        }
        let Some(hc) = t.spec.healthcheck.clone() else {
            return;
        };
        let image = s.task_image(task);
        let rt = &mut s.images[image];
        let p = rt.profile.health_fail;
        // As for fail_on_start: a rate of 0 needs no draw.
        let failed = p > 0.0 && bernoulli(&mut rt.health_rng, p);
        let started = self.tasks[task].container_started.unwrap_or(s.now);
        let in_start_period = s.now < started + hc.start_period;
        if !failed {
            self.tasks[task].consecutive_probe_failures = 0;
            if !self.tasks[task].healthy {
                self.tasks[task].healthy = true;
                if s.state.tasks[task].state == TaskState::Starting {
                    self.running(s, task);
                }
            }
        } else if !in_start_period {
            let failures = &mut self.tasks[task].consecutive_probe_failures;
            *failures = failures.saturating_add(1);
            if u64::from(*failures) >= hc.retries() {
                // Unhealthy: the executor stops the container; the task
                // fails once it is gone.
                self.tasks[task].healthy = false;
                self.tasks[task].stopping = true;
                let retries = hc.retries();
                s.explain(Some(s.state.tasks[task].service), |c| {
                    format!(
                        "{}: task {} failed {retries} health probes in a row (healthcheck retries): unhealthy, the container is stopped",
                        c.task_name(task),
                        c.short_id(task)
                    )
                });
                let (latency, code) = self.stop_latency(s, task);
                self.schedule(s, task, latency, Step::StopDone { code });
                return;
            }
        }
        // Keep probing only while a probe can still change something.
        let healthy = self.tasks[task].healthy;
        if !healthy || p > 0.0 {
            let next = if s.now < started + hc.start_period && !healthy {
                hc.start_interval()
            } else {
                hc.interval()
            };
            self.schedule_probe(s, task, next);
        }
    }

    /// The container exited: FAILED with its exit code, or COMPLETE on 0.
    fn exit(&mut self, s: &mut Store, task: TaskId, code: i64, cause: Option<&str>) {
        self.cancel_all(s, task);
        s.state.tasks[task].exit_code = Some(code);
        if code == 0 && cause.is_none() {
            s.set_state(task, TaskState::Complete, "finished", None, "agent");
        } else {
            let err = match cause {
                Some(c) => format!("task: non-zero exit ({code}): {c}"),
                None => format!("task: non-zero exit ({code})"),
            };
            let message = s.state.tasks[task].message;
            s.set_state(task, TaskState::Failed, message, Some(err), "agent");
        }
    }

    /// Stop latency of the task's image, capped by the stop grace period;
    /// the exit code is the image's on SIGTERM (`stop_exit_code`, 143 by
    /// default) or 137 (killed at the end of the grace period). moby
    /// `daemon/stop.go` sends the stop signal, waits the grace period, then
    /// SIGKILL.
    fn stop_latency(&mut self, s: &mut Store, task: TaskId) -> (SimDuration, i64) {
        let t = &s.state.tasks[task];
        let grace = t
            .spec
            .stop_grace_period
            .unwrap_or(DEFAULT_STOP_GRACE_PERIOD);
        // `--stop-signal` (docs/scenario-format.md): SIGKILL ends the
        // container at once, SIGSTOP never ends it (killed when the grace
        // period is over); another signal is taken the way the image takes
        // SIGTERM, and a death by it exits 128 + its number.
        let stop_signal = &t.spec.container.stop_signal;
        let signal = if stop_signal.is_empty() {
            15
        } else {
            crate::swarm::container::signal_number(stop_signal).unwrap_or(15)
        };
        let image = s.task_image(task);
        let rt = &mut s.images[image];
        let latency = rt.profile.stop.sample(&mut rt.stop_rng) + s.engine.stop;
        if signal == 9 {
            (SimDuration::ZERO, 137)
        } else if signal == 19 || latency > grace {
            (grace, 137)
        } else if rt.profile.stop_exit_code == 143 {
            (latency, 128 + signal)
        } else {
            (latency, rt.profile.stop_exit_code)
        }
    }

    /// Desired ≥ SHUTDOWN: stop the container if it was started, else shut
    /// the task down at once.
    fn stop(&mut self, s: &mut Store, task: TaskId) {
        if self.tasks[task].stopping {
            return;
        }
        let state = s.state.tasks[task].state;
        if state >= TaskState::Starting {
            self.tasks[task].stopping = true;
            // An orchestrator-initiated stop is not a health failure.
            self.tasks[task].healthy = true;
            if let Some(k) = self.tasks[task].probe.take() {
                s.queue.cancel(k);
            }
            let (latency, code) = self.stop_latency(s, task);
            self.schedule(s, task, latency, Step::StopDone { code });
        } else {
            self.cancel_all(s, task);
            s.set_state(task, TaskState::Shutdown, "shutdown", None, "agent");
        }
    }

    fn cancel_all(&mut self, s: &mut Store, task: TaskId) {
        if let Some(k) = self.tasks[task].pending.take() {
            s.queue.cancel(k);
        }
        if let Some(k) = self.tasks[task].probe.take() {
            s.queue.cancel(k);
        }
    }

    pub fn forget(&mut self, s: &mut Store, task: TaskId) {
        self.ensure(task);
        self.cancel_all(s, task);
    }

    /// The timeline's `kill`: the task's process dies with `code`.
    pub fn kill(&mut self, s: &mut Store, task: TaskId, code: i64) -> bool {
        let t = &s.state.tasks[task];
        let alive = matches!(t.state, TaskState::Running | TaskState::Starting)
            && t.node.is_some_and(|n| s.state.nodes[n].agent_up);
        if alive {
            self.exit(s, task, code, None);
        }
        alive
    }

    /// The machine stopped: every container and pending step on it is
    /// gone; tasks keep their last reported state.
    pub fn node_stopped(&mut self, s: &mut Store, node: NodeId) {
        let tasks: Vec<TaskId> = s.tasks_on_node(node);
        for t in tasks {
            self.cancel_all(s, t);
            self.tasks[t].stopping = false;
        }
        // Pulls under way are lost with their waiters; pulled images stay.
        let row = node * self.stride;
        for at in row..(row + self.stride).min(self.pulls.len()) {
            if let Pull::Pulling { first, .. } = self.pulls[at] {
                self.unlink_waiters(first);
                self.pulls[at] = Pull::Absent;
            }
        }
    }

    /// The machine is back: the agent reports what happened to its tasks.
    /// Containers did not survive the stop: a task whose container had
    /// started is reported FAILED with `task: non-zero exit (255)` — what
    /// a real engine reports after its dockerd was killed, whatever the
    /// desired state (seen in conformance cluster/node-down); a task not
    /// started yet is SHUTDOWN if the managers want it stopped, else it
    /// resumes.
    pub fn node_started(&mut self, s: &mut Store, node: NodeId) {
        for t in s.tasks_on_node(node) {
            let task = &s.state.tasks[t];
            if task.state >= TaskState::Complete {
                continue;
            }
            if task.state >= TaskState::Starting {
                self.exit(s, t, 255, None);
            } else if task.desired >= TaskState::Shutdown {
                s.set_state(t, TaskState::Shutdown, "shutdown", None, "agent");
            } else {
                if task.state == TaskState::Preparing {
                    // The pull restarts.
                    self.prepare(s, t, node);
                }
                self.on_task_change(s, t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// A big cluster holds one `AgentTask` per task: the waiter-list link
    /// must not grow it past the 80 bytes it had before.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn agent_task_stays_small() {
        assert!(std::mem::size_of::<super::AgentTask>() <= 80);
    }
}

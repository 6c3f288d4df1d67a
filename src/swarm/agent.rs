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

use rustc_hash::FxHashMap;

use crate::dist::bernoulli;
use crate::docker::duration::format_go_duration;
use crate::sim::queue::EventKey;
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::cluster::{Cluster, Event};
use crate::swarm::model::{DEFAULT_STOP_GRACE_PERIOD, NodeId, TaskId, TaskState};

/// Agent-side bookkeeping of one task.
/// The node side (swarmkit's agent and executor), for every node: each
/// task's container, and the images pulled on each node.
#[derive(Debug, Default)]
pub struct Agent {
    /// Per task (indexed by [`TaskId`]).
    pub tasks: Vec<AgentTask>,
    /// (node, image) → pull finished at (Some) or in progress (None).
    pub pulls: FxHashMap<(NodeId, usize), Option<SimTime>>,
    /// Tasks waiting for a pull in progress.
    pub pull_waiters: FxHashMap<(NodeId, usize), Vec<TaskId>>,
    /// Per task, the index of its image's runtime once looked up
    /// ([`NO_IMAGE`] before).
    pub image_of: Vec<u32>,
}

/// [`Agent::image_of`] of a task whose image was not looked up yet.
pub const NO_IMAGE: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub struct AgentTask {
    /// The pending lifecycle step (start, exit, stop).
    pub pending: Option<EventKey>,
    /// The pending health probe.
    pub probe: Option<EventKey>,
    /// When the container was started (for the health start period).
    pub container_started: Option<SimTime>,
    pub consecutive_probe_failures: u64,
    pub healthy: bool,
    pub stopping: bool,
    /// The container was created (the `engine: create` step is done).
    pub created: bool,
    /// The desired state that has reached the agent (`engine: dispatch`).
    pub delivered: Option<TaskState>,
    /// The pending delivery of a desired state to the agent.
    pub deliver: Option<EventKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The container start finished (or failed with the image's exit code).
    StartDone { failed: bool },
    /// A health probe is due.
    HealthProbe,
    /// The container exited on its own.
    Exit { code: i64 },
    /// The container stopped after the orchestrator asked.
    StopDone { code: i64 },
    /// The task's desired state (or the assignment) reached the agent
    /// (`engine: dispatch`).
    Dispatched,
    /// The container was created (`engine: create`).
    Created,
}

impl Cluster {
    /// Reacts to any change of a task assigned to a node: the agent's
    /// `Do` loop.
    pub(crate) fn agent_on_task_change(&mut self, task: TaskId) {
        let t = &self.state.tasks[task];
        let Some(node) = t.node else { return };
        if t.deleted || !self.state.nodes[node].agent_up {
            return;
        }
        let (state, desired) = (t.state, t.desired);
        // `engine: dispatch` (0 by default: at once): the assignment and
        // each change of the desired state reach the agent that long later
        // (the dispatcher's batch and the agent's round trip).
        let dispatch = self.scenario.engine.dispatch;
        if !dispatch.is_zero() && self.agent.tasks[task].delivered != Some(desired) {
            if self.agent.tasks[task].deliver.is_none() {
                let key = self
                    .queue
                    .push(self.now + dispatch, Event::Agent(task, Step::Dispatched));
                self.agent.tasks[task].deliver = Some(key);
            }
            return;
        }
        if desired >= TaskState::Shutdown {
            if state < TaskState::Complete {
                self.agent_stop(task);
            }
            return;
        }
        match state {
            TaskState::Assigned => {
                self.set_state(task, TaskState::Accepted, "accepted", None, "agent");
            }
            TaskState::Accepted => {
                self.set_state(task, TaskState::Preparing, "preparing", None, "agent");
            }
            // `engine: create` (0 by default: at once): the container
            // create of every task, before the image pull.
            TaskState::Preparing
                if !self.scenario.engine.create.is_zero() && !self.agent.tasks[task].created =>
            {
                self.agent_engine_step(task, self.scenario.engine.create, Step::Created);
            }
            TaskState::Preparing => self.agent_prepare(task, node),
            TaskState::Ready if desired >= TaskState::Running => {
                self.set_state(task, TaskState::Starting, "starting", None, "agent");
                self.agent_start(task);
            }
            _ => {}
        }
    }

    /// PREPARING: pull the image unless the node has it already.
    fn agent_prepare(&mut self, task: TaskId, node: NodeId) {
        let image = self.task_image(task);
        match self.agent.pulls.get(&(node, image)) {
            Some(Some(_)) => {
                self.set_state(task, TaskState::Ready, "prepared", None, "agent");
            }
            Some(None) => {
                self.agent
                    .pull_waiters
                    .entry((node, image))
                    .or_default()
                    .push(task);
            }
            None => {
                let rt = &mut self.images[image];
                let latency = rt.profile.pull.sample(&mut rt.pull_rng);
                self.agent.pulls.insert((node, image), None);
                self.explain(Some(self.state.tasks[task].service), |c| {
                    format!(
                        "{}: node {} pulls {} in {} (images pull; once per node)",
                        c.task_name(task),
                        c.state.nodes[node].hostname,
                        c.images[image].name,
                        format_go_duration(latency)
                    )
                });
                self.agent
                    .pull_waiters
                    .entry((node, image))
                    .or_default()
                    .push(task);
                self.queue
                    .push(self.now + latency, Event::PullDone { node, image });
            }
        }
    }

    pub(crate) fn pull_done(&mut self, node: NodeId, image: usize) {
        if !self.state.nodes[node].agent_up {
            return;
        }
        self.agent.pulls.insert((node, image), Some(self.now));
        let waiters = self
            .agent
            .pull_waiters
            .remove(&(node, image))
            .unwrap_or_default();
        for task in waiters {
            let t = &self.state.tasks[task];
            if !t.deleted && t.state == TaskState::Preparing && t.desired < TaskState::Shutdown {
                self.set_state(task, TaskState::Ready, "prepared", None, "agent");
            }
        }
    }

    /// STARTING: draw the start latency and whether this attempt fails.
    fn agent_start(&mut self, task: TaskId) {
        let image = self.task_image(task);
        let rt = &mut self.images[image];
        let latency = rt.profile.start.sample(&mut rt.start_rng) + self.scenario.engine.start;
        // A stream per image draws nothing else, and the image's rate is
        // fixed: with a rate of 0 its draws could never matter.
        let p = rt.profile.fail_on_start;
        let failed = p > 0.0 && bernoulli(&mut rt.fail_rng, p);
        self.explain(Some(self.state.tasks[task].service), |c| {
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
        self.agent_schedule(task, latency, Step::StartDone { failed });
    }

    /// One of the engine's own steps (`engine:`), unless one is under way.
    fn agent_engine_step(&mut self, task: TaskId, after: SimDuration, step: Step) {
        if self.agent.tasks[task].pending.is_none() {
            self.agent_schedule(task, after, step);
        }
    }

    fn agent_schedule(&mut self, task: TaskId, after: SimDuration, step: Step) {
        if let Some(k) = self.agent.tasks[task].pending.take() {
            self.queue.cancel(k);
        }
        let key = self.queue.push(self.now + after, Event::Agent(task, step));
        self.agent.tasks[task].pending = Some(key);
    }

    fn agent_schedule_probe(&mut self, task: TaskId, after: SimDuration) {
        if let Some(k) = self.agent.tasks[task].probe.take() {
            self.queue.cancel(k);
        }
        let key = self
            .queue
            .push(self.now + after, Event::Agent(task, Step::HealthProbe));
        self.agent.tasks[task].probe = Some(key);
    }

    pub(crate) fn agent_step(&mut self, task: TaskId, step: Step) {
        match step {
            Step::HealthProbe => self.agent.tasks[task].probe = None,
            Step::Dispatched => {
                self.agent.tasks[task].deliver = None;
                self.agent.tasks[task].delivered = Some(self.state.tasks[task].desired);
                self.agent_on_task_change(task);
                return;
            }
            _ => self.agent.tasks[task].pending = None,
        }
        let state = self.state.tasks[task].state;
        match step {
            Step::StartDone { failed } => {
                if state != TaskState::Starting {
                    return;
                }
                let code = self.image_profile_exit_code(task);
                if failed {
                    self.agent_exit(task, code, None);
                    return;
                }
                self.agent.tasks[task].container_started = Some(self.now);
                match self.state.tasks[task].spec.healthcheck.clone() {
                    Some(hc) if !hc.disabled() => {
                        let first = if !hc.start_period.is_zero() {
                            hc.start_interval()
                        } else {
                            hc.interval()
                        };
                        self.agent_schedule_probe(task, first);
                    }
                    _ => self.agent_running(task),
                }
            }
            Step::HealthProbe => self.agent_probe(task),
            Step::Dispatched => {}
            Step::Created => {
                self.agent.tasks[task].created = true;
                if let Some(node) = self.state.tasks[task].node
                    && state == TaskState::Preparing
                    && self.state.tasks[task].desired < TaskState::Shutdown
                {
                    self.agent_prepare(task, node);
                }
            }
            Step::Exit { code } => {
                if state == TaskState::Running || state == TaskState::Starting {
                    self.agent_exit(task, code, None);
                }
            }
            Step::StopDone { code } => {
                if state < TaskState::Complete {
                    let unhealthy = !self.agent.tasks[task].healthy
                        && self.agent.tasks[task].stopping
                        && self.state.tasks[task].desired < TaskState::Shutdown;
                    if unhealthy && code == 0 {
                        // The executor reports the exit code; a health
                        // failure only names the cause of a non-zero exit
                        // (`docs/swarm-rules.md#agent-unhealthy-container`), so the
                        // task completes. From
                        // STARTING the agent reports `complete` straight
                        // away, never `running` (conformance
                        // unhealthy-exit-zero on a real engine).
                        self.agent_exit(task, 0, None);
                    } else if unhealthy {
                        self.agent_exit(task, code, Some("dockerexec: unhealthy container"));
                    } else {
                        self.agent_cancel_all(task);
                        self.set_state(task, TaskState::Shutdown, "shutdown", None, "agent");
                    }
                }
            }
        }
    }

    fn image_profile_exit_code(&mut self, task: TaskId) -> i64 {
        let image = self.task_image(task);
        self.images[image].profile.exit_code
    }

    /// STARTING → RUNNING, and schedule the image's crash if it has one.
    fn agent_running(&mut self, task: TaskId) {
        self.set_state(task, TaskState::Running, "started", None, "agent");
        let image = self.task_image(task);
        let rt = &mut self.images[image];
        if let Some(crash) = rt.profile.crash_after.clone() {
            let after = crash.sample(&mut rt.crash_rng);
            let code = rt.profile.exit_code;
            self.explain(Some(self.state.tasks[task].service), |c| {
                format!(
                    "{}: task {} will exit with code {code} after {} (images crash_after)",
                    c.task_name(task),
                    c.short_id(task),
                    format_go_duration(after)
                )
            });
            self.agent_schedule(task, after, Step::Exit { code });
        }
    }

    /// One health probe (moby `daemon/health.go`): failures during the
    /// start period do not count; `retries` consecutive failures make the
    /// container unhealthy.
    fn agent_probe(&mut self, task: TaskId) {
        let t = &self.state.tasks[task];
        if t.state > TaskState::Running || self.agent.tasks[task].stopping {
            return;
        }
        let Some(hc) = t.spec.healthcheck.clone() else {
            return;
        };
        let image = self.task_image(task);
        let rt = &mut self.images[image];
        let p = rt.profile.health_fail;
        // As for fail_on_start: a rate of 0 needs no draw.
        let failed = p > 0.0 && bernoulli(&mut rt.health_rng, p);
        let started = self.agent.tasks[task].container_started.unwrap_or(self.now);
        let in_start_period = self.now < started + hc.start_period;
        if !failed {
            self.agent.tasks[task].consecutive_probe_failures = 0;
            if !self.agent.tasks[task].healthy {
                self.agent.tasks[task].healthy = true;
                if self.state.tasks[task].state == TaskState::Starting {
                    self.agent_running(task);
                }
            }
        } else if !in_start_period {
            self.agent.tasks[task].consecutive_probe_failures += 1;
            if self.agent.tasks[task].consecutive_probe_failures >= hc.retries() {
                // Unhealthy: the executor stops the container; the task
                // fails once it is gone.
                self.agent.tasks[task].healthy = false;
                self.agent.tasks[task].stopping = true;
                let retries = hc.retries();
                self.explain(Some(self.state.tasks[task].service), |c| {
                    format!(
                        "{}: task {} failed {retries} health probes in a row (healthcheck retries): unhealthy, the container is stopped",
                        c.task_name(task),
                        c.short_id(task)
                    )
                });
                let (latency, code) = self.stop_latency(task);
                self.agent_schedule(task, latency, Step::StopDone { code });
                return;
            }
        }
        // Keep probing only while a probe can still change something.
        let healthy = self.agent.tasks[task].healthy;
        if !healthy || p > 0.0 {
            let next = if self.now < started + hc.start_period && !healthy {
                hc.start_interval()
            } else {
                hc.interval()
            };
            self.agent_schedule_probe(task, next);
        }
    }

    /// The container exited: FAILED with its exit code, or COMPLETE on 0.
    fn agent_exit(&mut self, task: TaskId, code: i64, cause: Option<&str>) {
        self.agent_cancel_all(task);
        self.state.tasks[task].exit_code = Some(code);
        if code == 0 && cause.is_none() {
            self.set_state(task, TaskState::Complete, "finished", None, "agent");
        } else {
            let err = match cause {
                Some(c) => format!("task: non-zero exit ({code}): {c}"),
                None => format!("task: non-zero exit ({code})"),
            };
            let message = self.state.tasks[task].message;
            self.set_state(task, TaskState::Failed, message, Some(err), "agent");
        }
    }

    /// Stop latency of the task's image, capped by the stop grace period;
    /// the exit code is the image's on SIGTERM (`stop_exit_code`, 143 by
    /// default) or 137 (killed at the end of the grace period). moby
    /// `daemon/stop.go` sends the stop signal, waits the grace period, then
    /// SIGKILL.
    fn stop_latency(&mut self, task: TaskId) -> (SimDuration, i64) {
        let t = &self.state.tasks[task];
        let grace = t
            .spec
            .stop_grace_period
            .unwrap_or(DEFAULT_STOP_GRACE_PERIOD);
        // `--stop-signal` (docs/scenario-format.md): SIGKILL ends the
        // container at once, SIGSTOP never ends it (killed when the grace
        // period is over); another signal is taken the way the image takes
        // SIGTERM, and a death by it exits 128 + its number.
        let signal = crate::swarm::container::stop_signal_number(&t.spec.container.stop_signal)
            .unwrap_or(15);
        let image = self.task_image(task);
        let rt = &mut self.images[image];
        let latency = rt.profile.stop.sample(&mut rt.stop_rng) + self.scenario.engine.stop;
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
    fn agent_stop(&mut self, task: TaskId) {
        if self.agent.tasks[task].stopping {
            return;
        }
        let state = self.state.tasks[task].state;
        if state >= TaskState::Starting {
            self.agent.tasks[task].stopping = true;
            // An orchestrator-initiated stop is not a health failure.
            self.agent.tasks[task].healthy = true;
            if let Some(k) = self.agent.tasks[task].probe.take() {
                self.queue.cancel(k);
            }
            let (latency, code) = self.stop_latency(task);
            self.agent_schedule(task, latency, Step::StopDone { code });
        } else {
            self.agent_cancel_all(task);
            self.set_state(task, TaskState::Shutdown, "shutdown", None, "agent");
        }
    }

    fn agent_cancel_all(&mut self, task: TaskId) {
        if let Some(k) = self.agent.tasks[task].pending.take() {
            self.queue.cancel(k);
        }
        if let Some(k) = self.agent.tasks[task].probe.take() {
            self.queue.cancel(k);
        }
    }

    pub(crate) fn agent_forget(&mut self, task: TaskId) {
        self.agent_cancel_all(task);
    }

    /// The timeline's `kill`: the task's process dies with `code`.
    pub fn agent_kill(&mut self, task: TaskId, code: i64) -> bool {
        let t = &self.state.tasks[task];
        let alive = matches!(t.state, TaskState::Running | TaskState::Starting)
            && t.node.is_some_and(|n| self.state.nodes[n].agent_up);
        if alive {
            self.agent_exit(task, code, None);
        }
        alive
    }

    /// The machine stopped: every container and pending step on it is
    /// gone; tasks keep their last reported state.
    pub(crate) fn agent_node_stopped(&mut self, node: NodeId) {
        let tasks: Vec<TaskId> = self.tasks_on_node(node);
        for t in tasks {
            self.agent_cancel_all(t);
            self.agent.tasks[t].stopping = false;
        }
        self.agent
            .pulls
            .retain(|&(n, _), v| n != node || v.is_some());
        self.agent.pull_waiters.retain(|&(n, _), _| n != node);
    }

    /// The machine is back: the agent reports what happened to its tasks.
    /// Containers did not survive the stop: a task whose container had
    /// started is reported FAILED with `task: non-zero exit (255)` — what
    /// a real engine reports after its dockerd was killed, whatever the
    /// desired state (seen in conformance cluster/node-down); a task not
    /// started yet is SHUTDOWN if the managers want it stopped, else it
    /// resumes.
    pub(crate) fn agent_node_started(&mut self, node: NodeId) {
        for t in self.tasks_on_node(node) {
            let task = &self.state.tasks[t];
            if task.state >= TaskState::Complete {
                continue;
            }
            if task.state >= TaskState::Starting {
                self.agent_exit(t, 255, None);
            } else if task.desired >= TaskState::Shutdown {
                self.set_state(t, TaskState::Shutdown, "shutdown", None, "agent");
            } else {
                if task.state == TaskState::Preparing {
                    // The pull restarts.
                    self.agent_prepare(t, node);
                }
                self.agent_on_task_change(t);
            }
        }
    }

    pub(crate) fn tasks_on_node(&self, node: NodeId) -> Vec<TaskId> {
        self.state
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.node == Some(node) && !t.deleted)
            .map(|(i, _)| i)
            .collect()
    }
}

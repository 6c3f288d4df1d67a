//! The simulated swarm: shared cluster state, one event queue, and the
//! wiring between components (swarmkit `manager/manager.go` plus the
//! store's watch queue).
//!
//! Each component lives in its own module as an `impl Cluster` block:
//! `orchestrator` (replicated and global reconciliation), `scheduler`,
//! `updater`, `restart` (restart supervisor), `agent` (node side executor),
//! `reaper` (task history), `dispatcher` (heartbeats), `controlapi`
//! (docker commands). They talk through the store: every task change is
//! recorded with [`Cluster::set_state`]/[`Cluster::set_desired`], queued as
//! a notification, and [`Cluster::propagate`] hands it to each watcher,
//! like swarmkit's watch queue.
//!
//! Ordering: events pop in (time, insertion sequence) order. Timeline items
//! are queued first, so at an instant they run before anything the
//! simulation schedules for that instant, in file order. Reactions to a
//! change run in the order the changes were made.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::rc::Rc;

use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

use crate::scenario::{ImageProfile, Scenario};
use crate::sim::queue::EventQueue;
use crate::sim::rng::{LazyStream, RngStreams};
use crate::sim::time::SimTime;
use crate::swarm::identity::random_id;
use crate::swarm::model::*;
use crate::swarm::store::{ChangeSink, ClusterState, Explanation, LogKind, LogRecord};

use super::agent::{Agent, AgentTask, NO_IMAGE};
use super::dispatcher::Dispatcher;
use super::nodeset::NodeSet;
use super::reaper::TaskReaper;
use super::restart::RestartSupervisor;
use super::scheduler::SchedulerState;
use super::updater::UpdateSupervisor;

thread_local! {
    static BUILT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many clusters this thread has built: a test counts simulations
/// with it (`run --play --timeline` simulates once).
pub fn clusters_built() -> u64 {
    BUILT.with(|b| b.get())
}

/// Why something happened: the component and rule, for `--explain` and
/// `diff`. Static strings keep the hot path allocation-free.
pub type Cause = &'static str;

/// Everything that can be scheduled on the event queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Run timeline item `i`.
    Timeline(usize),
    /// A scheduling pass over pending tasks.
    SchedulerPass,
    /// The agent's next step for a task (pull done, start done, exit...).
    Agent(TaskId, super::agent::Step),
    /// The image pull of `image` on `node` finished.
    PullDone { node: NodeId, image: usize },
    /// Restart supervisor: the restart delay of a delayed start elapsed.
    RestartDelay(TaskId),
    /// Restart supervisor: the old task did not stop within
    /// `defaultOldTaskTimeout`.
    OldTaskTimeout(TaskId),
    /// Updater worker finished sleeping `Delay`.
    UpdaterDelay {
        service: ServiceId,
        run: u64,
        worker: usize,
    },
    /// Updater final monitoring period elapsed.
    UpdaterMonitor { service: ServiceId, run: u64 },
    /// Task reaper batching interval elapsed.
    ReaperTick,
    /// Dispatcher: a node's heartbeat deadline passed.
    HeartbeatExpired { node: NodeId, epoch: u64 },
    /// Dispatcher: a node has been down for `defaultNodeDownPeriod`.
    NodeDownPeriod { node: NodeId, epoch: u64 },
}

/// Per-image runtime: its profile and its own random streams.
pub struct ImageRuntime {
    pub name: String,
    pub profile: ImageProfile,
    pub pull_rng: LazyStream,
    pub start_rng: LazyStream,
    pub stop_rng: LazyStream,
    pub fail_rng: LazyStream,
    pub crash_rng: LazyStream,
    pub health_rng: LazyStream,
}

/// Running count and update bookkeeping per service, for the summary.
#[derive(Debug, Clone, Default)]
pub struct ServiceStats {
    /// Tasks currently `running` on a node that is really up.
    pub running: u64,
    /// The fewest `running` that lasted a positive time while an update or
    /// rollback was in progress. Values that change again at the same
    /// instant (an artefact of processing order) do not count.
    pub min_running_during_updates: Option<u64>,
    /// Since when `running` and `in_update` hold their current values.
    pub since: SimTime,
    pub in_update: bool,
    /// Replacements created by the restart supervisor.
    pub restarts: u64,
    /// (time, running) after every change of `running`, when
    /// [`Cluster::record_series`] is set (one point per instant).
    pub running_series: Vec<(SimTime, u64)>,
    pub task_failures: u64,
    pub episodes: Vec<UpdateEpisode>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateEpisode {
    pub rollback: bool,
    pub started: SimTime,
    pub ended: Option<SimTime>,
    pub state: UpdateState,
}

/// A change a watcher must see (swarmkit's store events).
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Observed state changed (to the state recorded here).
    TaskState(TaskId, TaskState),
    /// Desired state raised.
    TaskDesired(TaskId),
    /// Task deleted from the store (with its desired state then).
    TaskDeleted(TaskId, TaskState),
    /// Service spec changed (create/update/rollback): reconcile.
    Service(ServiceId),
    /// Node status or availability changed.
    Node(NodeId),
}

pub struct Cluster {
    pub now: SimTime,
    pub state: ClusterState,
    pub queue: EventQueue<Event>,
    pub scenario: Rc<Scenario>,
    pub seed: u64,
    pub streams: RngStreams,
    pub task_id_rng: ChaCha8Rng,
    pub service_id_rng: ChaCha8Rng,
    pub images: Vec<ImageRuntime>,
    pub image_index: FxHashMap<String, usize>,
    /// Monotonic source of spec versions (swarmkit uses the store's
    /// version counter).
    pub next_version: u64,
    pub log: Vec<LogRecord>,
    /// Whether to keep the per-event log in memory (`log`).
    pub keep_log: bool,
    /// Where each log record goes as it happens (events.csv).
    pub sink: Option<Box<dyn ChangeSink>>,
    /// Whether to record each service's running count over time.
    pub record_series: bool,
    /// Whether to record explanations of every decision.
    pub explain: bool,
    pub explanations: Vec<Explanation>,
    /// Docker flags already named in the transcript's "not modelled" note.
    pub noted_flags: std::collections::BTreeSet<&'static str>,
    pub stats: Vec<ServiceStats>,
    pub events_processed: u64,

    // Each component's own state (the components are wired here, like
    // swarmkit's manager/manager.go).
    pub agent: Agent,
    pub scheduler: SchedulerState,
    pub restart: RestartSupervisor,
    pub updates: UpdateSupervisor,
    pub reaper: TaskReaper,
    pub dispatcher: Dispatcher,

    changes: VecDeque<Change>,
    scheduler_pass_pending: bool,
}

impl Cluster {
    /// Builds the cluster of a scenario: nodes Ready at time 0, the
    /// scenario's services created at time 0, timeline queued.
    pub fn new(scenario: Rc<Scenario>, seed: u64, keep_log: bool) -> Cluster {
        Cluster::with_sink(scenario, seed, keep_log, None)
    }

    /// Like [`Cluster::new`], with a sink that sees every log record from
    /// the first (the nodes becoming ready) on.
    pub fn with_sink(
        scenario: Rc<Scenario>,
        seed: u64,
        keep_log: bool,
        sink: Option<Box<dyn ChangeSink>>,
    ) -> Cluster {
        BUILT.with(|b| b.set(b.get() + 1));
        let streams = RngStreams::new(seed);
        let mut node_id_rng = streams.stream("node-ids", "");
        let mut nodes = Vec::new();
        let mut heartbeat_rngs = Vec::new();
        let mut leader_set = false;
        for def in &scenario.nodes {
            let leader = def.role == NodeRole::Manager && !leader_set;
            leader_set |= leader;
            nodes.push(Node {
                id: random_id(&mut node_id_rng),
                hostname: def.name.clone(),
                role: def.role,
                availability: def.availability,
                // A machine that joins later is down and out of the swarm.
                status: if def.joined {
                    NodeStatus::Ready
                } else {
                    NodeStatus::Down
                },
                agent_up: def.joined,
                labels: def.labels.clone(),
                nano_cpus: def.nano_cpus,
                memory_bytes: def.memory_bytes,
                leader,
                in_swarm: def.joined,
            });
            heartbeat_rngs.push(LazyStream::new(&streams, "heartbeat", &def.name));
        }
        let n = nodes.len();
        let mut cluster = Cluster {
            now: SimTime::ZERO,
            state: ClusterState {
                nodes,
                ..Default::default()
            },
            queue: EventQueue::new(),
            seed,
            task_id_rng: streams.stream("task-ids", ""),
            service_id_rng: streams.stream("service-ids", ""),
            streams,
            images: Vec::new(),
            image_index: FxHashMap::default(),
            next_version: 1,
            log: Vec::new(),
            keep_log,
            sink,
            record_series: false,
            explain: false,
            explanations: Vec::new(),
            noted_flags: Default::default(),
            stats: Vec::new(),
            events_processed: 0,
            agent: Agent::default(),
            scheduler: SchedulerState {
                nodes: NodeSet::new(n),
                ..Default::default()
            },
            restart: RestartSupervisor::default(),
            updates: UpdateSupervisor::default(),
            reaper: TaskReaper::default(),
            dispatcher: Dispatcher::new(heartbeat_rngs),
            changes: VecDeque::new(),
            scheduler_pass_pending: false,
            scenario: scenario.clone(),
        };
        for node in 0..n {
            cluster.log_node(node, "ready");
        }
        for (i, item) in scenario.timeline.iter().enumerate() {
            cluster.queue.push(item.at, Event::Timeline(i));
        }
        for spec in &scenario.services {
            cluster.create_service(spec.clone());
        }
        cluster.propagate();
        cluster
    }

    /// Index of an image's runtime, created on first use with its own
    /// random streams (keyed by image name, so other images' draws do not
    /// move).
    pub fn image(&mut self, name: &str) -> usize {
        if let Some(&i) = self.image_index.get(name) {
            return i;
        }
        let profile = self.scenario.images.profile(name).clone();
        let s = &self.streams;
        let rt = ImageRuntime {
            name: name.to_string(),
            profile,
            pull_rng: LazyStream::new(s, "pull", name),
            start_rng: LazyStream::new(s, "start", name),
            stop_rng: LazyStream::new(s, "stop", name),
            fail_rng: LazyStream::new(s, "fail-on-start", name),
            crash_rng: LazyStream::new(s, "crash", name),
            health_rng: LazyStream::new(s, "health", name),
        };
        self.images.push(rt);
        let i = self.images.len() - 1;
        self.image_index.insert(name.to_string(), i);
        i
    }

    /// The image runtime of a task's image.
    pub fn task_image(&mut self, task: TaskId) -> usize {
        let cached = self.agent.image_of[task];
        if cached != NO_IMAGE {
            return cached as usize;
        }
        let name = self.state.tasks[task].spec.image.as_str();
        let i = match self.image_index.get(name) {
            Some(&i) => i,
            None => {
                let name = name.to_string();
                self.image(&name)
            }
        };
        self.agent.image_of[task] = i as u32;
        i
    }

    pub fn new_spec_version(&mut self) -> u64 {
        self.next_version += 1;
        self.next_version
    }

    // ----- the run loop -------------------------------------------------

    /// Processes events until the queue is empty, `until` is reached, or
    /// `max_events` were processed. `on_timeline` is called for timeline
    /// items (it runs them and may print). Returns false if the event
    /// limit was hit.
    pub fn run<F>(&mut self, until: Option<SimTime>, max_events: u64, mut on_timeline: F) -> bool
    where
        F: FnMut(&mut Cluster, usize),
    {
        loop {
            let Some(t) = self.queue.peek_time() else {
                return true;
            };
            if let Some(u) = until
                && t > u
            {
                self.now = u;
                return true;
            }
            if self.events_processed >= max_events {
                return false;
            }
            self.step(&mut on_timeline);
        }
    }

    /// Processes the next event (the queue must not be empty): the clock
    /// moves to it, a timeline item goes to `on_timeline`, and the changes
    /// it made propagate. The run driver (`runner::driver`) decides when
    /// to stop.
    pub fn step<F>(&mut self, on_timeline: F)
    where
        F: FnOnce(&mut Cluster, usize),
    {
        let (t, ev) = self.queue.pop().expect("peeked");
        debug_assert!(t >= self.now, "event scheduled in the past");
        self.now = t;
        self.events_processed += 1;
        match ev {
            Event::Timeline(i) => on_timeline(self, i),
            other => self.handle(other),
        }
        self.propagate();
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Timeline(_) => {}
            Event::SchedulerPass => {
                self.scheduler_pass_pending = false;
                self.scheduler_pass();
            }
            Event::Agent(task, step) => self.agent_step(task, step),
            Event::PullDone { node, image } => self.pull_done(node, image),
            Event::RestartDelay(task) => self.restart_delay_elapsed(task),
            Event::OldTaskTimeout(task) => self.old_task_timeout(task),
            Event::UpdaterDelay {
                service,
                run,
                worker,
            } => self.updater_delay_done(service, run, worker),
            Event::UpdaterMonitor { service, run } => self.updater_monitor_done(service, run),
            Event::ReaperTick => self.reaper_tick(),
            Event::HeartbeatExpired { node, epoch } => self.heartbeat_expired(node, epoch),
            Event::NodeDownPeriod { node, epoch } => self.orphan_tasks(node, epoch),
        }
    }

    /// Delivers queued changes to every watcher until nothing changes any
    /// more (the store's watch queue).
    pub fn propagate(&mut self) {
        while let Some(change) = self.changes.pop_front() {
            match change {
                Change::TaskState(task, state) => {
                    // The orchestrator sees a failure before the updater:
                    // on a real engine the restart supervisor's replacement
                    // of a failed update task is created from the new spec
                    // before an automatic rollback swaps the spec back
                    // (`docs/swarm-rules.md#kernel-watch-order`).
                    self.agent_on_task_change(task);
                    self.restart_on_task_state(task, state);
                    if self.updater_wins_rollback_race(task, state) {
                        self.updater_on_task_state(task, state);
                        self.orchestrator_on_task_state(task, state);
                    } else {
                        self.orchestrator_on_task_state(task, state);
                        self.updater_on_task_state(task, state);
                    }
                    if state.is_terminal() {
                        // Resources and ports were released.
                        self.request_scheduler_pass();
                    }
                }
                Change::TaskDesired(task) => {
                    self.agent_on_task_change(task);
                    // A task leaving the active count can free a place
                    // (max replicas per node).
                    self.request_scheduler_pass();
                }
                Change::TaskDeleted(task, desired) => {
                    self.orchestrator_on_task_deleted(task, desired);
                }
                Change::Service(service) => self.reconcile(service),
                Change::Node(node) => {
                    self.orchestrator_on_node_change(node);
                    self.restart_on_node_change(node);
                    self.request_scheduler_pass();
                }
            }
        }
    }

    /// Queues a reconcile of the service, unless one is already queued
    /// (a reconcile reads the current spec and status, so one is enough).
    pub fn notify_service(&mut self, service: ServiceId) {
        let queued = self
            .changes
            .iter()
            .any(|c| matches!(c, Change::Service(s) if *s == service));
        if !queued {
            self.changes.push_back(Change::Service(service));
        }
    }

    pub fn notify_node(&mut self, node: NodeId) {
        self.changes.push_back(Change::Node(node));
    }

    pub fn request_scheduler_pass(&mut self) {
        if !self.scheduler_pass_pending && self.scheduler.has_pending() {
            self.scheduler_pass_pending = true;
            // `engine: schedule` (0 by default: at once).
            self.queue.push(
                self.now + self.scenario.engine.schedule,
                Event::SchedulerPass,
            );
        }
    }

    // ----- store mutations ------------------------------------------------

    /// Creates a task (swarmkit `orchestrator.NewTask`) in state NEW, and
    /// lets the allocator move it to PENDING at once.
    pub fn create_task(
        &mut self,
        service: ServiceId,
        slot: u64,
        node: Option<NodeId>,
        desired: TaskState,
        cause: Cause,
    ) -> TaskId {
        let svc = &self.state.services[service];
        let id = random_id(&mut self.task_id_rng);
        let task = Task {
            id,
            service,
            slot,
            node: None,
            spec: svc.spec.task.clone(),
            spec_version: svc.spec_version,
            ports: Rc::new(svc.spec.ports.clone()),
            desired,
            state: TaskState::New,
            timestamp: self.now,
            message: "created",
            err: None,
            exit_code: None,
            created_at: self.now,
            deleted: false,
        };
        let tid = self.state.tasks.len();
        self.state.tasks.push(task);
        self.agent.tasks.push(AgentTask::default());
        self.agent.image_of.push(NO_IMAGE);
        if slot > 0 {
            self.state
                .slots
                .entry((service, slot))
                .or_default()
                .push(tid);
        }
        if let Some(n) = node {
            self.state
                .node_tasks
                .entry((service, n))
                .or_default()
                .push(tid);
            // Global tasks are created with their node pre-assigned.
            self.scheduler.preassigned.insert(tid, n);
        }
        self.log_task(tid, cause);
        self.reaper_on_create(tid);
        // Allocator: NEW → PENDING ("pending task scheduling").
        self.set_state(
            tid,
            TaskState::Pending,
            "pending task scheduling",
            None,
            cause,
        );
        self.scheduler.pending.insert(tid);
        self.request_scheduler_pass();
        tid
    }

    /// Changes a task's observed state (only forward), with its status
    /// message and error, and notifies watchers.
    pub fn set_state(
        &mut self,
        task: TaskId,
        state: TaskState,
        message: &'static str,
        err: Option<String>,
        cause: Cause,
    ) {
        let before = self.task_flags(task);
        {
            let t = &mut self.state.tasks[task];
            debug_assert!(state >= t.state, "task state moved backwards");
            t.state = state;
            t.message = message;
            t.err = err;
            t.timestamp = self.now;
        }
        self.apply_flags(task, before);
        if matches!(state, TaskState::Failed | TaskState::Rejected) {
            let svc = self.state.tasks[task].service;
            self.stats[svc].task_failures += 1;
            self.scheduler_record_failure(task);
        }
        if state != TaskState::Pending {
            self.scheduler.pending.remove(&task);
        }
        self.log_task(task, cause);
        self.reaper_on_update();
        self.changes.push_back(Change::TaskState(task, state));
    }

    /// Raises a task's desired state (never lowers it: swarmkit refuses
    /// "time travel").
    pub fn set_desired(&mut self, task: TaskId, desired: TaskState, cause: Cause) {
        if self.state.tasks[task].desired >= desired {
            return;
        }
        let before = self.task_flags(task);
        self.state.tasks[task].desired = desired;
        self.apply_flags(task, before);
        self.log_task(task, cause);
        self.reaper_on_update();
        self.changes.push_back(Change::TaskDesired(task));
    }

    /// Assigns a task to a node (scheduler).
    pub fn assign(&mut self, task: TaskId, node: NodeId, message: &'static str) {
        let before = self.task_flags(task);
        self.state.tasks[task].node = Some(node);
        self.apply_flags(task, before);
        self.set_state(task, TaskState::Assigned, message, None, "scheduler");
    }

    /// Deletes a task from the store (reaper, service removal, dead slots).
    pub fn delete_task(&mut self, task: TaskId) {
        if self.state.tasks[task].deleted {
            return;
        }
        let before = self.task_flags(task);
        let t = &mut self.state.tasks[task];
        t.deleted = true;
        let (service, slot, node, desired) = (t.service, t.slot, t.node, t.desired);
        self.apply_flags(task, before);
        if slot > 0 {
            if let Some(v) = self.state.slots.get_mut(&(service, slot)) {
                v.retain(|&x| x != task);
                if v.is_empty() {
                    self.state.slots.remove(&(service, slot));
                }
            }
        } else if let Some(n) = node
            && let Some(v) = self.state.node_tasks.get_mut(&(service, n))
        {
            v.retain(|&x| x != task);
        }
        self.scheduler.pending.remove(&task);
        self.agent_forget(task);
        self.changes.push_back(Change::TaskDeleted(task, desired));
    }

    /// The flags the scheduler's and the summary's counters depend on.
    fn task_flags(&self, task: TaskId) -> TaskFlags {
        let t = &self.state.tasks[task];
        let on_node = t.node.filter(|_| !t.deleted);
        TaskFlags {
            node: on_node,
            active: on_node.is_some()
                && t.desired <= TaskState::Complete
                && t.state <= TaskState::Running,
            reserved: on_node.is_some() && t.state <= TaskState::Running,
            running: on_node.is_some_and(|n| self.state.nodes[n].agent_up)
                && t.state == TaskState::Running,
        }
    }

    fn apply_flags(&mut self, task: TaskId, before: TaskFlags) {
        let after = self.task_flags(task);
        let t = &self.state.tasks[task];
        let (service, cpu, mem) = (
            t.service,
            t.spec.resources.reserve_nano_cpus,
            t.spec.resources.reserve_memory,
        );
        if before.active != after.active || before.node != after.node {
            if let (true, Some(n)) = (before.active, before.node) {
                self.scheduler.nodes.add_active(n, service, -1);
            }
            if let (true, Some(n)) = (after.active, after.node) {
                self.scheduler.nodes.add_active(n, service, 1);
            }
        }
        if before.reserved != after.reserved || before.node != after.node {
            if let (true, Some(n)) = (before.reserved, before.node) {
                self.scheduler.nodes.add_reserved(n, -cpu, -mem);
            }
            if let (true, Some(n)) = (after.reserved, after.node) {
                self.scheduler.nodes.add_reserved(n, cpu, mem);
            }
        }
        if before.running != after.running {
            self.stats_flush(service);
            let now = self.now;
            let record = self.record_series;
            let stats = &mut self.stats[service];
            if after.running {
                stats.running += 1;
            } else {
                stats.running -= 1;
            }
            if record {
                let r = stats.running;
                match stats.running_series.last_mut() {
                    Some(last) if last.0 == now => last.1 = r,
                    _ => stats.running_series.push((now, r)),
                }
            }
        }
    }

    /// Recomputes the running flags of a node's tasks after the machine
    /// stopped or came back.
    pub fn node_agent_changed(&mut self, node: NodeId, up: bool) {
        let tasks: Vec<TaskId> = self
            .state
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.node == Some(node) && !t.deleted)
            .map(|(i, _)| i)
            .collect();
        let befores: Vec<TaskFlags> = tasks.iter().map(|&t| self.task_flags(t)).collect();
        self.state.nodes[node].agent_up = up;
        for (t, b) in tasks.into_iter().zip(befores) {
            self.apply_flags(t, b);
        }
    }

    /// Closes the interval during which the service's running count and
    /// update state held: if it lasted a positive time inside an update,
    /// it counts towards `min_running_during_updates`. Called before either
    /// changes, and at the end of the run.
    pub fn stats_flush(&mut self, service: ServiceId) {
        let now = self.now;
        let stats = &mut self.stats[service];
        if now > stats.since {
            if stats.in_update {
                let r = stats.running;
                stats.min_running_during_updates =
                    Some(stats.min_running_during_updates.map_or(r, |m| m.min(r)));
            }
            stats.since = now;
        }
    }

    /// Sets a service's update status (and records update episodes and
    /// the `update` rows of events.csv).
    pub fn set_update_status(&mut self, service: ServiceId, status: Option<UpdateStatus>) {
        let old = self.state.services[service]
            .update_status
            .as_ref()
            .map(|s| s.state);
        let new = status.as_ref().map(|s| s.state);
        let message = status.as_ref().map(|s| s.message.clone());
        self.state.services[service].update_status = status;
        if old == new && new.is_none() {
            return;
        }
        // Every write of the service object is an `EventUpdateService`, and
        // the replicated orchestrator reconciles on each one — including
        // the updater's own status writes. Usually a no-op; after a run
        // that left a slot with two tasks (a replacement created after the
        // run's slot snapshot), that reconcile starts a run that cleans the
        // slot up.
        self.notify_service(service);
        self.stats_flush(service);
        let now = self.now;
        let stats = &mut self.stats[service];
        stats.in_update = matches!(
            new,
            Some(UpdateState::Updating | UpdateState::RollbackStarted)
        );
        let open = stats.episodes.last_mut().filter(|e| e.ended.is_none());
        match new {
            Some(UpdateState::Updating) | Some(UpdateState::RollbackStarted) => {
                if let Some(e) = open {
                    e.ended = Some(now);
                    e.state = new.unwrap_or(UpdateState::Updating);
                }
                stats.episodes.push(UpdateEpisode {
                    rollback: new == Some(UpdateState::RollbackStarted),
                    started: now,
                    ended: None,
                    state: new.unwrap_or(UpdateState::Updating),
                });
            }
            Some(s) => {
                if let Some(e) = open {
                    e.ended = Some(now);
                    e.state = s;
                }
            }
            None => {
                // Reset by a new `docker service update`: the running
                // episode, if any, was replaced.
                if let Some(e) = open {
                    e.ended = Some(now);
                }
            }
        }
        if let (Some(state), Some(message)) = (new, message)
            && old != new
        {
            self.push_log(LogRecord {
                time: now,
                kind: LogKind::Update,
                service: Some(service),
                task: None,
                node: None,
                state: state.as_str(),
                desired_state: "",
                message: message.into(),
                cause: "updater",
            });
        }
    }

    // ----- logging ----------------------------------------------------------

    fn push_log(&mut self, rec: LogRecord) {
        if let Some(sink) = &mut self.sink {
            sink.record(&self.state, &rec);
        }
        if self.keep_log {
            self.log.push(rec);
        }
    }

    /// Whether anything listens to the change log (the log is kept, or a
    /// sink streams it): when nothing does, records are not even built.
    fn logging(&self) -> bool {
        self.keep_log || self.sink.is_some()
    }

    pub(crate) fn log_task(&mut self, task: TaskId, cause: Cause) {
        if !self.logging() {
            return;
        }
        let t = &self.state.tasks[task];
        let message = match &t.err {
            Some(e) => Cow::Owned(e.clone()),
            None => Cow::Borrowed(t.message),
        };
        let rec = LogRecord {
            time: self.now,
            kind: LogKind::Task,
            service: Some(t.service),
            task: Some(task),
            node: t.node,
            state: t.state.api_str(),
            desired_state: t.desired.api_str(),
            message,
            cause,
        };
        self.push_log(rec);
    }

    /// Records an explanation of a decision, if explanations are on. The
    /// text is only built when they are.
    pub fn explain<F>(&mut self, service: Option<ServiceId>, text: F)
    where
        F: FnOnce(&Cluster) -> String,
    {
        if self.explain {
            let text = text(self);
            self.explanations.push(Explanation {
                time: self.now,
                service,
                text,
            });
        }
    }

    /// `name.slot` of a task, as the CLI shows it.
    pub fn task_name(&self, task: TaskId) -> String {
        let t = &self.state.tasks[task];
        t.name(&self.state.services[t.service], &self.state.nodes)
    }

    /// The first 12 characters of a task's id.
    pub fn short_id(&self, task: TaskId) -> &str {
        let id = &self.state.tasks[task].id;
        &id[..id.len().min(12)]
    }

    pub fn log_node(&mut self, node: NodeId, what: &'static str) {
        if !self.logging() {
            return;
        }
        let n = &self.state.nodes[node];
        let rec = LogRecord {
            time: self.now,
            kind: LogKind::Node,
            service: None,
            task: None,
            node: Some(node),
            state: what,
            desired_state: "",
            message: Cow::Owned(format!(
                "status {}, availability {}",
                n.status.as_str(),
                n.availability.as_str()
            )),
            cause: "dispatcher",
        };
        self.push_log(rec);
    }

    // ----- services -----------------------------------------------------------

    /// Creates a service (controlapi `CreateService`) and reconciles it.
    pub fn create_service(&mut self, spec: ServiceSpec) -> ServiceId {
        let id = random_id(&mut self.service_id_rng);
        let version = self.new_spec_version();
        let sid = self.state.services.len();
        self.state.service_names.insert(spec.name.clone(), sid);
        self.state.services.push(Service {
            id,
            spec,
            spec_version: version,
            previous_spec: None,
            previous_spec_version: None,
            update_status: None,
            created_at: self.now,
            updated_at: self.now,
            removed: false,
        });
        self.stats.push(ServiceStats::default());
        self.notify_service(sid);
        sid
    }
}

#[derive(Debug, Clone, Copy)]
struct TaskFlags {
    node: Option<NodeId>,
    active: bool,
    reserved: bool,
    running: bool,
}

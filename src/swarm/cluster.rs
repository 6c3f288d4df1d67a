//! The manager (swarmkit `manager/manager.go`): it builds every
//! component over one [`Store`], runs the event loop, hands each event to
//! the component it belongs to, and delivers the store's changes to the
//! watchers in a fixed order (the store's watch queue).
//!
//! Components, each a struct with its own state, in `swarm/`: `agent`
//! (node side executor), `dispatcher` (heartbeats), `scheduler` (with its
//! `nodeset`), `reaper` (task history), `restart` (restart supervisor),
//! `updater` (update supervisor), `orchestrator/` (replicated, global,
//! constraint enforcer, over the shared `slot`/`task` vocabulary) and
//! `controlapi` (docker commands). Dependencies only point down:
//! manager → controlapi → orchestrator → updater → restart → store;
//! scheduler → nodeset → store; agent, reaper, dispatcher → store.
//!
//! Ordering: events pop in (time, insertion sequence) order. Timeline items
//! are queued first, so at an instant they run before anything the
//! simulation schedules for that instant, in file order. Reactions to a
//! change run in the order the changes were made.

use std::borrow::Borrow;

use crate::scenario::Scenario;
use crate::sim::rng::{LazyStream, RngStreams};
use crate::sim::time::SimTime;
use crate::swarm::identity::random_id;
use crate::swarm::model::*;
use crate::swarm::store::{Change, ChangeSink, Event, Store};

use super::agent::Agent;
use super::controlapi::{ControlApi, ControlApiError};
use super::dispatcher::Dispatcher;
use super::orchestrator::Orchestrator;
use super::reaper::TaskReaper;
use super::scheduler::SchedulerState;

pub use crate::swarm::store::{Cause, ImageRuntime, ServiceStats, UpdateEpisode};

thread_local! {
    static BUILT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many clusters this thread has built: a test counts simulations
/// with it (`run --play --timeline` simulates once).
pub fn clusters_built() -> u64 {
    BUILT.with(|b| b.get())
}

/// The most tasks [`Cluster::new`] makes room for ahead (a power of two):
/// past it, growing by doubling costs little next to the run, and a big
/// cluster's vectors end at the capacity they reach without it (its peak
/// memory does not grow).
const PRESIZE_TASKS: usize = 1 << 10;

/// The manager: the store and every component, wired together.
pub struct Cluster {
    pub store: Store,
    // Each component's own state (the components are wired here, like
    // swarmkit's manager/manager.go).
    pub agent: Agent,
    pub scheduler: SchedulerState,
    /// The replicated and global orchestrators with the restart and
    /// update supervisors they own.
    pub orchestrator: Orchestrator,
    pub reaper: TaskReaper,
    pub dispatcher: Dispatcher,
}

/// Readers (the driver, reports, the docker front end) read the store
/// through the manager.
impl Cluster {
    /// Builds the cluster of a scenario: nodes Ready at time 0, the
    /// scenario's services created at time 0, timeline queued. The
    /// cluster keeps what it needs of the scenario (nodes, engine, image
    /// profiles, service specs), not the scenario itself; timeline items
    /// are queued by index and run by the driver.
    pub fn new(scenario: impl Borrow<Scenario>, seed: u64, keep_log: bool) -> Cluster {
        Cluster::with_sink(scenario, seed, keep_log, None)
    }

    /// Like [`Cluster::new`], with a sink that sees every log record from
    /// the first (the nodes becoming ready) on.
    pub fn with_sink(
        scenario: impl Borrow<Scenario>,
        seed: u64,
        keep_log: bool,
        sink: Option<Box<dyn ChangeSink>>,
    ) -> Cluster {
        BUILT.with(|b| b.set(b.get() + 1));
        let scenario: &Scenario = scenario.borrow();
        let streams = RngStreams::new(seed);
        let mut node_id_rng = streams.stream("node-ids", "");
        let mut nodes = Vec::with_capacity(scenario.nodes.len());
        let mut heartbeat_rngs = Vec::with_capacity(scenario.nodes.len());
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
            store: Store::new(
                nodes,
                seed,
                streams,
                scenario.engine.clone(),
                scenario.images.clone(),
                keep_log,
                sink,
            ),
            agent: Agent::default(),
            scheduler: SchedulerState::new(n),
            orchestrator: Orchestrator::default(),
            reaper: TaskReaper::default(),
            dispatcher: Dispatcher::new(heartbeat_rngs),
        };
        cluster.presize(scenario);
        for node in 0..n {
            cluster.store.log_node(node, "ready");
        }
        for (i, item) in scenario.timeline.iter().enumerate() {
            cluster.store.queue.push(item.at, Event::Timeline(i));
        }
        for spec in &scenario.services {
            cluster.store.create_service(spec.clone());
        }
        cluster.propagate();
        cluster
    }

    /// Room in the store for what the scenario is known to need, so that
    /// a run (a batch makes many short ones) does not grow its vectors
    /// from nothing one doubling at a time: the services, and tasks for
    /// twice the initial replicas (a rolling update replaces every one),
    /// at least 32 and up to [`PRESIZE_TASKS`]. The one place that sizes
    /// the task vectors ahead. Capacity only: nothing observable changes.
    fn presize(&mut self, scenario: &Scenario) {
        let nodes = scenario.nodes.len();
        let initial: usize = scenario
            .services
            .iter()
            .map(|s| match s.mode {
                ServiceMode::Replicated { replicas } => usize::try_from(replicas).unwrap_or(0),
                ServiceMode::Global => nodes,
            })
            .sum::<usize>()
            .min(PRESIZE_TASKS / 2);
        // At least 32: services created by the timeline start no smaller.
        let tasks = (2 * initial).max(32);
        let store = &mut self.store;
        store.state.services.reserve(scenario.services.len());
        store.stats.reserve(scenario.services.len());
        store.state.tasks.reserve(tasks);
        store.image_of.reserve(tasks);
        store.changes.reserve(initial);
    }

    /// The control API over this manager's store and components.
    pub fn api(&mut self) -> ControlApi<'_> {
        ControlApi {
            store: &mut self.store,
            orchestrator: &mut self.orchestrator,
            scheduler: &mut self.scheduler,
            dispatcher: &mut self.dispatcher,
            agent: &mut self.agent,
            reaper: &mut self.reaper,
        }
    }

    /// `orchestrator.IsTaskDirty` (for the driver's checks).
    pub fn is_task_dirty(&self, service: ServiceId, task: TaskId) -> bool {
        super::orchestrator::task::is_task_dirty(&self.store, service, task)
    }

    // The control API, as the docker front end calls it.

    pub fn update_cluster(&mut self, task_history_limit: Option<i64>, unmodelled: &[&'static str]) {
        self.api().update_cluster(task_history_limit, unmodelled)
    }

    pub fn update_node(
        &mut self,
        nid: NodeId,
        availability: Option<Availability>,
        label_add: &[(String, String)],
        label_rm: &[String],
    ) {
        self.api()
            .update_node(nid, availability, label_add, label_rm)
    }

    pub fn node_join(&mut self, node: NodeId) -> Result<(), ControlApiError> {
        self.api().node_join(node)
    }

    pub fn node_leave(&mut self, node: NodeId) -> Result<(), ControlApiError> {
        self.api().node_leave(node)
    }

    pub fn remove_node(&mut self, name: &str, force: bool) -> Result<(), ControlApiError> {
        self.api().remove_node(name, force)
    }

    pub fn note_unmodelled(&mut self, service: ServiceId, flags: Vec<&'static str>) {
        self.api().note_unmodelled(service, flags)
    }

    pub fn update_service(&mut self, service: ServiceId, spec: ServiceSpec) {
        self.api().update_service(service, spec)
    }

    pub fn rollback_service(&mut self, service: ServiceId) -> Result<(), ControlApiError> {
        self.api().rollback_service(service)
    }

    pub fn remove_service(&mut self, service: ServiceId) {
        self.api().remove_service(service)
    }

    /// The machine stops (dispatcher: the managers notice at the heartbeat
    /// deadline).
    pub fn node_stop(&mut self, node: NodeId) {
        self.dispatcher
            .node_stop(&mut self.store, &mut self.agent, node);
    }

    /// The machine is back.
    pub fn node_start(&mut self, node: NodeId) {
        self.dispatcher
            .node_start(&mut self.store, &mut self.agent, node);
    }

    /// The timeline's `kill`: the task's process dies with `code`.
    pub fn agent_kill(&mut self, task: TaskId, code: i64) -> bool {
        self.agent.kill(&mut self.store, task, code)
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
            let Some(t) = self.store.queue.peek_time() else {
                return true;
            };
            if let Some(u) = until
                && t > u
            {
                self.store.now = u;
                return true;
            }
            if self.store.events_processed >= max_events {
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
        let (t, ev) = self.store.queue.pop().expect("peeked");
        debug_assert!(t >= self.store.now, "event scheduled in the past");
        self.store.now = t;
        self.store.events_processed += 1;
        match ev {
            Event::Timeline(i) => on_timeline(self, i),
            other => self.handle(other),
        }
        self.propagate();
    }

    #[inline]
    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Timeline(_) => {}
            Event::SchedulerPass => {
                self.store.scheduler_pass_pending = false;
                self.scheduler.pass(&mut self.store);
            }
            Event::Agent(task, step) => self.agent.step(&mut self.store, task, step),
            Event::PullDone { node, image } => self.agent.pull_done(&mut self.store, node, image),
            Event::RestartDelay(task) => {
                let o = &mut self.orchestrator;
                o.restart
                    .delay_elapsed(&mut self.store, &mut o.updates, task)
            }
            Event::OldTaskTimeout(task) => {
                let o = &mut self.orchestrator;
                o.restart
                    .old_task_timeout(&mut self.store, &mut o.updates, task)
            }
            Event::UpdaterDelay {
                service,
                run,
                worker,
            } => {
                let o = &mut self.orchestrator;
                o.updates
                    .delay_done(&mut self.store, &mut o.restart, service, run, worker)
            }
            Event::UpdaterMonitor { service, run } => {
                let o = &mut self.orchestrator;
                o.updates.monitor_done(&mut self.store, service, run)
            }
            Event::ReaperTick => self.reaper.tick(&mut self.store),
            Event::HeartbeatExpired { node, epoch } => {
                self.dispatcher
                    .heartbeat_expired(&mut self.store, node, epoch)
            }
            Event::NodeDownPeriod { node, epoch } => {
                self.dispatcher.orphan_tasks(&mut self.store, node, epoch)
            }
        }
    }

    /// Delivers queued changes to every watcher until nothing changes any
    /// more (the store's watch queue).
    pub fn propagate(&mut self) {
        while let Some(change) = self.store.changes.pop_front() {
            match change {
                Change::TaskState(task, state) => {
                    // The orchestrator sees a failure before the updater:
                    // on a real engine the restart supervisor's replacement
                    // of a failed update task is created from the new spec
                    // before an automatic rollback swaps the spec back
                    // (`docs/swarm-rules.md#kernel-watch-order`).
                    self.agent.on_task_change(&mut self.store, task);
                    let (s, o) = (&mut self.store, &mut self.orchestrator);
                    o.restart.on_task_state(s, &mut o.updates, task, state);
                    if o.updates.wins_rollback_race(s, task, state) {
                        o.updates.on_task_state(s, &mut o.restart, task, state);
                        o.on_task_state(s, task, state);
                    } else {
                        o.on_task_state(s, task, state);
                        o.updates.on_task_state(s, &mut o.restart, task, state);
                    }
                    if state.is_terminal() {
                        // Resources and ports were released.
                        self.store.request_scheduler_pass();
                    }
                }
                Change::TaskDesired(task) => {
                    self.agent.on_task_change(&mut self.store, task);
                    // A task leaving the active count can free a place
                    // (max replicas per node).
                    self.store.request_scheduler_pass();
                }
                Change::TaskDeleted(task, desired) => {
                    self.agent.forget(&mut self.store, task);
                    self.orchestrator.on_task_deleted(
                        &mut self.store,
                        &mut self.reaper,
                        task,
                        desired,
                    );
                }
                Change::Service(service) => {
                    self.orchestrator
                        .reconcile(&mut self.store, &mut self.reaper, service)
                }
                Change::Node(node) => {
                    let (s, o) = (&mut self.store, &mut self.orchestrator);
                    o.on_node_change(s, &mut self.reaper, node);
                    o.restart.on_node_change(s, &mut o.updates, node);
                    self.store.request_scheduler_pass();
                }
            }
        }
        // Keep the scheduler's node set current (and its journal short).
        self.scheduler.sync(&mut self.store);
    }
}

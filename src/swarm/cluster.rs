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
use std::ops::{Deref, DerefMut};

use crate::scenario::Scenario;
use crate::sim::rng::{LazyStream, RngStreams, random_id};
use crate::sim::time::SimTime;
use crate::swarm::model::*;
use crate::swarm::store::{Change, ChangeSink, Event, Store};

use super::agent::Agent;
use super::dispatcher::Dispatcher;
use super::nodeset::NodeSet;
use super::reaper::TaskReaper;
use super::restart::RestartSupervisor;
use super::scheduler::SchedulerState;
use super::updater::UpdateSupervisor;

pub use crate::swarm::store::{Cause, ImageRuntime, ServiceStats, UpdateEpisode};

/// The manager: the store and every component, wired together.
pub struct Cluster {
    pub store: Store,
    // Each component's own state (the components are wired here, like
    // swarmkit's manager/manager.go).
    pub agent: Agent,
    pub scheduler: SchedulerState,
    pub restart: RestartSupervisor,
    pub updates: UpdateSupervisor,
    pub reaper: TaskReaper,
    pub dispatcher: Dispatcher,
}

/// Readers (the driver, reports, the docker front end) read the store
/// through the manager.
impl Deref for Cluster {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for Cluster {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

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
        let scenario: &Scenario = scenario.borrow();
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
            scheduler: SchedulerState {
                nodes: NodeSet::new(n),
                ..Default::default()
            },
            restart: RestartSupervisor::default(),
            updates: UpdateSupervisor::default(),
            reaper: TaskReaper::default(),
            dispatcher: Dispatcher::new(heartbeat_rngs),
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
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Timeline(_) => {}
            Event::SchedulerPass => {
                self.store.scheduler_pass_pending = false;
                self.scheduler.pass(&mut self.store);
            }
            Event::Agent(task, step) => self.agent.step(&mut self.store, task, step),
            Event::PullDone { node, image } => self.agent.pull_done(&mut self.store, node, image),
            Event::RestartDelay(task) => self.restart_delay_elapsed(task),
            Event::OldTaskTimeout(task) => self.old_task_timeout(task),
            Event::UpdaterDelay {
                service,
                run,
                worker,
            } => self.updater_delay_done(service, run, worker),
            Event::UpdaterMonitor { service, run } => self.updater_monitor_done(service, run),
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
        while let Some(change) = self.changes.pop_front() {
            match change {
                Change::TaskState(task, state) => {
                    // The orchestrator sees a failure before the updater:
                    // on a real engine the restart supervisor's replacement
                    // of a failed update task is created from the new spec
                    // before an automatic rollback swaps the spec back
                    // (`docs/swarm-rules.md#kernel-watch-order`).
                    self.agent.on_task_change(&mut self.store, task);
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
                    self.agent.on_task_change(&mut self.store, task);
                    // A task leaving the active count can free a place
                    // (max replicas per node).
                    self.request_scheduler_pass();
                }
                Change::TaskDeleted(task, desired) => {
                    self.agent.forget(&mut self.store, task);
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
        // Keep the scheduler's node set current (and its journal short).
        self.scheduler.sync(&mut self.store);
    }
}

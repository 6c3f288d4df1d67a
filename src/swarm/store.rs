//! The store every component reads and writes (swarmkit's
//! `manager/state/store` plus what the manager hands to all of its
//! components): the cluster state, the clock and the event queue, the
//! watch queue of changes, the id sources and spec version counter, the
//! change log, and the indexes the store keeps up to date on every write
//! (pending tasks, the scheduler's node counters as a journal, the slots
//! the task reaper watches).
//!
//! The store knows no component: each component (agent, dispatcher,
//! scheduler, task reaper, restart and update supervisors, orchestrators,
//! control API) takes `&mut Store`, and the manager (`cluster.rs`) hands
//! every change to the watchers in a fixed order (see
//! `docs/swarm-rules.md#kernel-watch-order`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;

use crate::scenario::{EngineProfile, ImageProfile, ImageProfiles};
use crate::sim::queue::{EventKey, EventQueue};
use crate::sim::rng::{LazyStream, PurposeHash, RngStreams, purpose_hash};
use crate::sim::time::{SimDuration, SimTime, millis};
use crate::swarm::identity::random_id;
use crate::swarm::model::*;

#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    /// In scenario order; the index is the [`NodeId`].
    pub nodes: Vec<Node>,
    /// In creation order; the index is the [`ServiceId`]. Removed services
    /// stay here with `removed` set.
    pub services: Vec<Service>,
    /// Every task ever created; the index is the [`TaskId`]. Reaped tasks
    /// stay here with `deleted` set.
    pub tasks: Vec<Task>,
    /// Live services by name.
    pub service_names: BTreeMap<Rc<str>, ServiceId>,
    /// Tasks of each replicated slot (service, slot), oldest first, deleted
    /// ones excluded.
    pub slots: BTreeMap<(ServiceId, u64), Vec<TaskId>>,
    /// Tasks of each global service on each node (service, node).
    pub node_tasks: BTreeMap<(ServiceId, NodeId), Vec<TaskId>>,
}

impl ClusterState {
    /// Looks a service up the way the docker CLI does: by full name, full
    /// id, or a unique id prefix.
    pub fn find_service(&self, name_or_id: &str) -> Option<ServiceId> {
        if let Some(&id) = self.service_names.get(name_or_id) {
            return Some(id);
        }
        let live = || self.services.iter().enumerate().filter(|(_, s)| !s.removed);
        if let Some((i, _)) = live().find(|(_, s)| s.id == name_or_id) {
            return Some(i);
        }
        let mut matches = live().filter(|(_, s)| s.id.starts_with(name_or_id));
        match (matches.next(), matches.next()) {
            (Some((i, _)), None) if !name_or_id.is_empty() => Some(i),
            _ => None,
        }
    }

    /// Looks a node up by hostname, id, or unique id prefix.
    pub fn find_node(&self, name_or_id: &str) -> Option<NodeId> {
        if let Some(i) = self.nodes.iter().position(|n| *n.hostname == *name_or_id) {
            return Some(i);
        }
        if let Some(i) = self.nodes.iter().position(|n| n.id == name_or_id) {
            return Some(i);
        }
        let mut m = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.id.starts_with(name_or_id));
        match (m.next(), m.next()) {
            (Some((i, _)), None) if !name_or_id.is_empty() => Some(i),
            _ => None,
        }
    }

    /// All tasks of a service still in the store, in creation order.
    pub fn service_tasks(&self, service: ServiceId) -> impl Iterator<Item = &Task> {
        self.tasks
            .iter()
            .filter(move |t| t.service == service && !t.deleted)
    }
}

/// What kind of change a [`LogRecord`] describes (the `kind` column of
/// `events.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    Task,
    Update,
    Node,
}

impl LogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Task => "task",
            LogKind::Update => "update",
            LogKind::Node => "node",
        }
    }
}

/// One observable change, in time order. Rendered to `events.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub time: SimTime,
    pub kind: LogKind,
    pub service: Option<ServiceId>,
    pub task: Option<TaskId>,
    pub node: Option<NodeId>,
    /// Task state, update state or node state/availability, API spelling.
    pub state: &'static str,
    pub desired_state: &'static str,
    /// Borrowed for the fixed status messages; owned only for errors and
    /// the few messages built from values.
    pub message: Cow<'static, str>,
    /// The component and rule that made the change (e.g. `updater: old
    /// task shut down`), for explanations and diffs; not in events.csv.
    pub cause: &'static str,
}

/// One decision of the simulator in plain language, naming the setting
/// that caused it (`--explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub time: SimTime,
    pub service: Option<ServiceId>,
    pub text: String,
}

/// Receives every [`LogRecord`] as it happens, with the store as it is
/// then (an observer of the run: `events.csv` is written this way, row by
/// row, instead of being held in memory).
pub trait ChangeSink {
    fn record(&mut self, state: &ClusterState, rec: &LogRecord);
    /// Called once at the end of the run: flush, and report the first
    /// error met on the way.
    fn finish(&mut self) -> std::io::Result<()>;
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
    Agent(TaskId, Step),
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
    pub name: Rc<str>,
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
    /// [`Store::record_series`] is set (one point per instant).
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
pub(crate) enum Change {
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

/// A set of task ids iterated in increasing order, for the tasks in
/// observed PENDING ([`Store::pending`]). Tasks enter it when they are
/// created, so with increasing ids: an insert is a push, a removal clears
/// a membership bit, and the ids of removed tasks are dropped from the
/// vector once they outnumber the members. Cheaper per task than a
/// `BTreeSet`, in the same order.
#[derive(Debug, Clone, Default)]
pub struct PendingSet {
    /// Increasing; may hold ids no longer in the set.
    ids: Vec<TaskId>,
    /// One membership bit per task id.
    member: Vec<u64>,
    len: usize,
}

impl PendingSet {
    fn has(member: &[u64], task: TaskId) -> bool {
        member
            .get(task / 64)
            .is_some_and(|w| w & (1 << (task % 64)) != 0)
    }

    pub fn contains(&self, task: &TaskId) -> bool {
        Self::has(&self.member, *task)
    }

    /// Adds `task`; returns whether it was not in the set.
    pub fn insert(&mut self, task: TaskId) -> bool {
        if self.contains(&task) {
            return false;
        }
        let w = task / 64;
        if self.member.len() <= w {
            self.member.resize(w + 1, 0);
        }
        if self.ids.capacity() == 0 {
            // Room for a small service's tasks at once: not doubling from
            // one on every run of a batch.
            self.ids.reserve(32);
        }
        self.member[w] |= 1 << (task % 64);
        self.len += 1;
        match self.ids.last() {
            Some(&last) if last >= task => {
                // Not the newest task (never the case for the store, whose
                // tasks enter when created): keep the order.
                let at = self.ids.partition_point(|&x| x < task);
                if self.ids.get(at) != Some(&task) {
                    self.ids.insert(at, task);
                }
            }
            _ => self.ids.push(task),
        }
        true
    }

    /// Removes `task`; returns whether it was in the set.
    pub fn remove(&mut self, task: &TaskId) -> bool {
        let task = *task;
        if !self.contains(&task) {
            return false;
        }
        self.member[task / 64] &= !(1 << (task % 64));
        self.len -= 1;
        if self.len == 0 {
            self.ids.clear();
        } else if self.ids.len() >= 32 && self.ids.len() > 2 * self.len {
            let member = &self.member;
            self.ids.retain(|&t| Self::has(member, t));
        }
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The members in increasing order.
    pub fn iter(&self) -> PendingIter<'_> {
        PendingIter {
            ids: self.ids.iter(),
            member: &self.member,
        }
    }
}

impl<'a> IntoIterator for &'a PendingSet {
    type Item = &'a TaskId;
    type IntoIter = PendingIter<'a>;
    fn into_iter(self) -> PendingIter<'a> {
        self.iter()
    }
}

/// Iterator over a [`PendingSet`], in increasing order.
pub struct PendingIter<'a> {
    ids: std::slice::Iter<'a, TaskId>,
    member: &'a [u64],
}

impl<'a> Iterator for PendingIter<'a> {
    type Item = &'a TaskId;
    fn next(&mut self) -> Option<&'a TaskId> {
        let member = self.member;
        self.ids.by_ref().find(|&&t| PendingSet::has(member, t))
    }
}

/// The agent's next step for a task (an [`Event::Agent`]).
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

/// A change of the scheduler's per-node counters, written by the store
/// on every task write and applied by the scheduler to its own node set
/// before it reads it ([`Store::node_journal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeDelta {
    /// A task of `service` became active (`+1`) or stopped being active
    /// (`-1`) on `node`.
    Active {
        node: NodeId,
        service: ServiceId,
        delta: i32,
    },
    /// Reserved CPU and memory on `node` changed by this much.
    Reserved { node: NodeId, cpu: i64, mem: i64 },
    /// A task of (service, version) failed on `node` at `at`.
    Failure {
        node: NodeId,
        service: ServiceId,
        version: u64,
        at: SimTime,
    },
}

/// `reaperBatchingInterval` (swarmkit `taskreaper/task_reaper.go`).
pub const REAPER_BATCHING_INTERVAL: SimDuration = millis(250);

/// What the task reaper watches (swarmkit: its subscription to task
/// events and its batching timer): the slots a task was created in since
/// its last tick, and when the last task event came. The store keeps it
/// on every task creation; the reaper (`reaper.rs`) reads and clears it.
#[derive(Debug, Default)]
pub struct HistoryFeed {
    /// Slots (service, slot, None) or global (service, 0, node) whose
    /// history may have grown past the limit.
    pub dirty: BTreeSet<(ServiceId, u64, Option<NodeId>)>,
    /// When the last task event that needs a tick came (for the debounce).
    pub last_event: SimTime,
    /// The pending tick, if any.
    pub pending: Option<EventKey>,
    /// The reaper has tasks to remove (its `remove` set is not empty).
    pub removing: bool,
}

impl HistoryFeed {
    /// A task was created: its slot becomes dirty.
    pub fn on_create(&mut self, t: &Task, now: SimTime, queue: &mut EventQueue<Event>) {
        let key = if t.slot > 0 {
            (t.service, t.slot, None)
        } else {
            (t.service, 0, t.node)
        };
        self.dirty.insert(key);
        self.touch(now, queue);
    }

    /// A task's state or desired state changed (swarmkit
    /// `EventUpdateTask`): the reaper's batching timer is reset by task
    /// updates as well, so a tick waits for 250 ms without any task event,
    /// and a slot kept dirty (more than one running task) is looked at
    /// again after the next change. With nothing dirty and nothing to
    /// remove a tick would do nothing, so none is scheduled then
    /// (docs/swarm-rules.md, task history).
    pub fn on_update(&mut self, now: SimTime, queue: &mut EventQueue<Event>) {
        if !self.dirty.is_empty() || self.removing {
            self.touch(now, queue);
        }
    }

    /// Every task event resets the batching timer.
    pub fn touch(&mut self, now: SimTime, queue: &mut EventQueue<Event>) {
        self.last_event = now;
        if self.pending.is_none() {
            let key = queue.push(now + REAPER_BATCHING_INTERVAL, Event::ReaperTick);
            self.pending = Some(key);
        }
    }
}

/// The store: cluster state, clock, queues, id sources, change log and
/// indexes. Every component works on it; none owns it.
pub struct Store {
    pub now: SimTime,
    pub state: ClusterState,
    pub queue: EventQueue<Event>,
    pub seed: u64,
    pub streams: RngStreams,
    pub task_id_rng: ChaCha8Rng,
    pub service_id_rng: ChaCha8Rng,
    /// The engine's latencies (`engine:` of the scenario).
    pub engine: EngineProfile,
    /// The image profiles of the scenario (`images:`).
    pub image_profiles: ImageProfiles,
    pub images: Vec<ImageRuntime>,
    /// Image runtimes by name, once there are more than
    /// [`LINEAR_IMAGES`] (fewer are found by comparing names; the name is
    /// shared with the runtime).
    image_index: FxHashMap<Rc<str>, usize>,
    /// Per task, the index of its image's runtime (set at creation).
    pub image_of: Vec<u32>,
    /// Monotonic source of spec versions (swarmkit uses the store's
    /// version counter).
    pub next_version: u64,
    pub log: Vec<LogRecord>,
    /// Per service, the ports its last task was created with (shared by
    /// its tasks, see [`Store::ports_of`]).
    /// Per service, what its next task is made from (see
    /// [`TaskTemplate`]).
    templates: Vec<TaskTemplate>,
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
    pub noted_flags: BTreeSet<&'static str>,
    pub stats: Vec<ServiceStats>,
    pub events_processed: u64,

    // ----- indexes kept on every write -----
    /// Tasks in observed PENDING, oldest first.
    pub pending: PendingSet,
    /// Global tasks created for a given node.
    pub preassigned: FxHashMap<TaskId, NodeId>,
    /// Changes of the scheduler's node counters not yet applied to its
    /// node set.
    pub node_journal: Vec<NodeDelta>,
    /// What the task reaper watches.
    pub history: HistoryFeed,

    /// The watch queue: changes not yet handed to the watchers.
    pub(crate) changes: VecDeque<Change>,
    /// A scheduling pass is queued.
    pub(crate) scheduler_pass_pending: bool,
}

// The purposes of an image's random streams, hashed once.
const PULL: PurposeHash = purpose_hash("pull");
const START: PurposeHash = purpose_hash("start");
const STOP: PurposeHash = purpose_hash("stop");
const FAIL_ON_START: PurposeHash = purpose_hash("fail-on-start");
const CRASH: PurposeHash = purpose_hash("crash");
const HEALTH: PurposeHash = purpose_hash("health");

/// What a service's next task is made from, kept between its tasks so
/// that they share it while the spec keeps it.
#[derive(Debug, Default)]
struct TaskTemplate {
    /// The published ports its last task was created with.
    ports: Option<Rc<Vec<PortConfig>>>,
    /// The task spec its last task was created with and the image runtime
    /// of that spec's image (see [`Store::spec_image`]).
    spec: Option<(Rc<TaskSpec>, u32)>,
}

/// Up to this many images, [`Store::image`] finds a runtime by comparing
/// names rather than through `image_index`.
const LINEAR_IMAGES: usize = 8;

impl Store {
    /// An empty store over `nodes`, with the seed's random streams.
    pub fn new(
        nodes: Vec<Node>,
        seed: u64,
        streams: RngStreams,
        engine: EngineProfile,
        image_profiles: ImageProfiles,
        keep_log: bool,
        sink: Option<Box<dyn ChangeSink>>,
    ) -> Store {
        Store {
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
            engine,
            image_profiles,
            images: Vec::new(),
            image_index: FxHashMap::default(),
            image_of: Vec::new(),
            next_version: 1,
            log: Vec::new(),
            templates: Vec::new(),
            keep_log,
            sink,
            record_series: false,
            explain: false,
            explanations: Vec::new(),
            noted_flags: BTreeSet::new(),
            stats: Vec::new(),
            events_processed: 0,
            pending: PendingSet::default(),
            preassigned: FxHashMap::default(),
            node_journal: Vec::new(),
            history: HistoryFeed::default(),
            // Room for the changes of a busy event from the start.
            changes: VecDeque::with_capacity(32),
            scheduler_pass_pending: false,
        }
    }

    /// The tasks assigned to a node and still in the store.
    pub fn tasks_on_node(&self, node: NodeId) -> Vec<TaskId> {
        self.state
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.node == Some(node) && !t.deleted)
            .map(|(i, _)| i)
            .collect()
    }

    /// A node of the swarm by name or id (nodes not joined yet or removed
    /// are not found).
    pub fn member_node(&self, name: &str) -> Option<NodeId> {
        self.state
            .find_node(name)
            .filter(|&n| self.state.nodes[n].in_swarm)
    }

    /// Whether a node satisfies all constraint expressions
    /// (`constraint.NodeMatches`).
    pub fn node_satisfies_constraints(&self, node: NodeId, constraints: &[String]) -> bool {
        crate::swarm::constraint::node_matches(&self.state.nodes[node], constraints)
    }

    /// Index of an image's runtime, created on first use with its own
    /// random streams (keyed by image name, so other images' draws do not
    /// move).
    pub fn image(&mut self, name: &str) -> usize {
        if let Some(i) = self.find_image(name) {
            return i;
        }
        if self.images.capacity() == 0 {
            // Room for a service's image and its update's, in a block
            // small enough for the allocator's fast path.
            self.images.reserve(2);
        }
        let shared: Rc<str> = Rc::from(name);
        let [
            pull_rng,
            start_rng,
            stop_rng,
            fail_rng,
            crash_rng,
            health_rng,
        ] = LazyStream::with_purposes(
            &self.streams,
            [PULL, START, STOP, FAIL_ON_START, CRASH, HEALTH],
            name,
        );
        // Built in the push, so that the runtime is written once into the
        // vector rather than assembled aside and copied in.
        self.images.push(ImageRuntime {
            name: Rc::clone(&shared),
            profile: self.image_profiles.profile(name).clone(),
            pull_rng,
            start_rng,
            stop_rng,
            fail_rng,
            crash_rng,
            health_rng,
        });
        let i = self.images.len() - 1;
        if self.images.len() > LINEAR_IMAGES {
            if self.image_index.is_empty() {
                for (j, rt) in self.images[..i].iter().enumerate() {
                    self.image_index.insert(Rc::clone(&rt.name), j);
                }
            }
            self.image_index.insert(shared, i);
        }
        i
    }

    /// The runtime of image `name`, if it has one: a scenario has a few
    /// images, and comparing their names costs less than hashing into a
    /// map (built only past [`LINEAR_IMAGES`]).
    fn find_image(&self, name: &str) -> Option<usize> {
        if self.images.len() <= LINEAR_IMAGES {
            self.images.iter().position(|rt| *rt.name == *name)
        } else {
            self.image_index.get(name).copied()
        }
    }

    /// The image runtime of a task's image (found when it was created).
    #[inline]
    pub fn task_image(&self, task: TaskId) -> usize {
        self.image_of[task] as usize
    }

    /// The image runtime of a new task of `service` with `spec`: the
    /// service's tasks share their spec until it changes, so after its
    /// first task this is one pointer comparison (inlined).
    #[inline]
    fn spec_image(&mut self, service: ServiceId, spec: &Rc<TaskSpec>) -> u32 {
        if let Some((last, image)) = &self.templates[service].spec
            && Rc::ptr_eq(last, spec)
        {
            return *image;
        }
        self.spec_image_slow(service, spec)
    }

    /// [`Store::spec_image`] for a spec not seen last for the service:
    /// looks the image up (creating its runtime on first use) and keeps
    /// the spec for the service's next tasks.
    #[cold]
    fn spec_image_slow(&mut self, service: ServiceId, spec: &Rc<TaskSpec>) -> u32 {
        let image = self.image(&spec.image);
        let image = u32::try_from(image).expect("fewer than 2^32 images");
        self.templates[service].spec = Some((Rc::clone(spec), image));
        image
    }

    /// The service's published ports, shared by its tasks while the spec
    /// keeps them (one allocation per port set, not per task).
    fn ports_of(&mut self, service: ServiceId) -> Rc<Vec<PortConfig>> {
        let ports = &self.state.services[service].spec.ports;
        match &self.templates[service].ports {
            Some(p) if p.as_slice() == ports.as_slice() => Rc::clone(p),
            _ => {
                let p = Rc::new(ports.clone());
                self.templates[service].ports = Some(Rc::clone(&p));
                p
            }
        }
    }

    pub fn new_spec_version(&mut self) -> u64 {
        self.next_version += 1;
        self.next_version
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
        if !self.scheduler_pass_pending && !self.pending.is_empty() {
            self.scheduler_pass_pending = true;
            // `engine: schedule` (0 by default: at once).
            self.queue
                .push(self.now + self.engine.schedule, Event::SchedulerPass);
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
        let id = random_id(&mut self.task_id_rng);
        if self.templates.len() <= service {
            self.templates
                .resize_with(service + 1, TaskTemplate::default);
        }
        let spec = Rc::clone(&self.state.services[service].spec.task);
        let image = self.spec_image(service, &spec);
        let ports = self.ports_of(service);
        let spec_version = self.state.services[service].spec_version;
        let tid = self.state.tasks.len();
        // Built in the push: the task is written once into the vector
        // rather than assembled aside and copied in.
        self.state.tasks.push(Task {
            id,
            service,
            slot,
            node: None,
            spec,
            spec_version,
            ports,
            desired,
            state: TaskState::New,
            timestamp: self.now,
            message: "created",
            err: None,
            exit_code: None,
            created_at: self.now,
            deleted: false,
        });
        self.image_of.push(image);
        if slot > 0 {
            self.state
                .slots
                .entry((service, slot))
                // Room for the slot's usual history at once (what the
                // first push would grow to, without going through the
                // growth path).
                .or_insert_with(|| Vec::with_capacity(4))
                .push(tid);
        }
        if let Some(n) = node {
            self.state
                .node_tasks
                .entry((service, n))
                .or_default()
                .push(tid);
            // Global tasks are created with their node pre-assigned.
            self.preassigned.insert(tid, n);
        }
        self.log_task(tid, cause);
        self.history
            .on_create(&self.state.tasks[tid], self.now, &mut self.queue);
        // Allocator: NEW → PENDING ("pending task scheduling").
        self.set_state(
            tid,
            TaskState::Pending,
            "pending task scheduling",
            None,
            cause,
        );
        self.pending.insert(tid);
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
        let now = self.now;
        let t = &mut self.state.tasks[task];
        let old = t.state;
        debug_assert!(state >= old, "task state moved backwards");
        // The counters' flags read the observed state only through
        // `<= RUNNING` and `== RUNNING`: other moves change none of them.
        if TaskFlags::state_counts(old) != TaskFlags::state_counts(state) {
            self.write_state_counted(task, state, message, err);
        } else {
            t.state = state;
            t.message = message;
            t.err = err;
            t.timestamp = now;
        }
        if matches!(state, TaskState::Failed | TaskState::Rejected) {
            self.note_failure(task);
        }
        // Only tasks in PENDING are in `pending` (added by `create_task`,
        // removed when they leave PENDING or are deleted).
        if old == TaskState::Pending && state != TaskState::Pending {
            self.pending.remove(&task);
        }
        self.log_task(task, cause);
        self.history.on_update(now, &mut self.queue);
        self.changes.push_back(Change::TaskState(task, state));
    }

    /// [`Store::set_state`]'s write when it moves the counters' flags
    /// (kept out of line: most writes move none).
    #[inline(never)]
    fn write_state_counted(
        &mut self,
        task: TaskId,
        state: TaskState,
        message: &'static str,
        err: Option<String>,
    ) {
        let before = self.task_flags(task);
        let t = &mut self.state.tasks[task];
        t.state = state;
        t.message = message;
        t.err = err;
        t.timestamp = self.now;
        self.apply_flags(task, before);
    }

    /// A task failed or was rejected: the summary counts it, and the
    /// scheduler's node set records it against the node.
    #[cold]
    fn note_failure(&mut self, task: TaskId) {
        let svc = self.state.tasks[task].service;
        self.stats[svc].task_failures += 1;
        if let Some(node) = self.state.tasks[task].node {
            let t = &self.state.tasks[task];
            self.journal(NodeDelta::Failure {
                node,
                service: t.service,
                version: t.spec_version,
                at: self.now,
            });
        }
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
        self.history.on_update(self.now, &mut self.queue);
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
        let was_pending = t.state == TaskState::Pending;
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
        if was_pending {
            self.pending.remove(&task);
        }
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
        if after == before {
            // Most writes (e.g. ACCEPTED → PREPARING) move no counter.
            return;
        }
        let t = &self.state.tasks[task];
        let (service, cpu, mem) = (
            t.service,
            t.spec.resources.reserve_nano_cpus,
            t.spec.resources.reserve_memory,
        );
        if before.active != after.active || before.node != after.node {
            if let (true, Some(n)) = (before.active, before.node) {
                self.journal(NodeDelta::Active {
                    node: n,
                    service,
                    delta: -1,
                });
            }
            if let (true, Some(n)) = (after.active, after.node) {
                self.journal(NodeDelta::Active {
                    node: n,
                    service,
                    delta: 1,
                });
            }
        }
        if before.reserved != after.reserved || before.node != after.node {
            if let (true, Some(n)) = (before.reserved, before.node) {
                self.journal(NodeDelta::Reserved {
                    node: n,
                    cpu: -cpu,
                    mem: -mem,
                });
            }
            if let (true, Some(n)) = (after.reserved, after.node) {
                self.journal(NodeDelta::Reserved { node: n, cpu, mem });
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
                    _ => {
                        if stats.running_series.capacity() == 0 {
                            // A run records a few dozen points: skip the
                            // first doublings.
                            stats.running_series.reserve(32);
                        }
                        stats.running_series.push((now, r))
                    }
                }
            }
        }
    }

    /// Journals a change of the scheduler's node counters. The journal is
    /// drained, not freed, by every sync: it grows once per run, straight
    /// to room for a busy event instead of doubling from one.
    #[inline]
    fn journal(&mut self, d: NodeDelta) {
        if self.node_journal.len() == self.node_journal.capacity() {
            self.node_journal.reserve(16);
        }
        self.node_journal.push(d);
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
        // The message is copied only when something listens to the log.
        if let Some(state) = new
            && old != new
            && self.logging()
        {
            let message = self.state.services[service]
                .update_status
                .as_ref()
                .map_or_else(String::new, |s| s.message.clone());
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
    #[inline]
    fn logging(&self) -> bool {
        self.keep_log || self.sink.is_some()
    }

    /// Logs a task's current state, if anything listens (inlined so that
    /// batches, which keep no log, pay one test per write).
    #[inline]
    pub(crate) fn log_task(&mut self, task: TaskId, cause: Cause) {
        if self.logging() {
            self.log_task_record(task, cause);
        }
    }

    fn log_task_record(&mut self, task: TaskId, cause: Cause) {
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
    #[inline]
    pub fn explain<F>(&mut self, service: Option<ServiceId>, text: F)
    where
        F: FnOnce(&Store) -> String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TaskFlags {
    node: Option<NodeId>,
    active: bool,
    reserved: bool,
    running: bool,
}

impl TaskFlags {
    /// What of an observed state [`Store::task_flags`] reads.
    fn state_counts(state: TaskState) -> (bool, bool) {
        (state <= TaskState::Running, state == TaskState::Running)
    }
}

#[cfg(test)]
mod pending_set_tests {
    use super::PendingSet;
    use std::collections::BTreeSet;

    /// The set against a `BTreeSet` over random inserts and removals,
    /// mostly of new, increasing ids (as the store does) and some not.
    #[test]
    fn matches_btreeset() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut set = PendingSet::default();
        let mut model = BTreeSet::new();
        let mut next = 0usize;
        for _ in 0..20_000 {
            match rnd(10) {
                0..=3 => {
                    assert_eq!(set.insert(next), model.insert(next));
                    next += 1;
                }
                4 => {
                    let t = rnd(next as u64 + 1) as usize;
                    assert_eq!(set.insert(t), model.insert(t));
                }
                _ => {
                    let t = rnd(next as u64 + 1) as usize;
                    assert_eq!(set.remove(&t), model.remove(&t));
                }
            }
            assert_eq!(set.len(), model.len());
            assert_eq!(set.is_empty(), model.is_empty());
            if rnd(50) == 0 {
                let got: Vec<usize> = set.iter().copied().collect();
                let want: Vec<usize> = model.iter().copied().collect();
                assert_eq!(got, want);
            }
        }
        let got: Vec<usize> = (&set).into_iter().copied().collect();
        assert_eq!(got, model.into_iter().collect::<Vec<_>>());
    }
}

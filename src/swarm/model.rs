//! Swarm's vocabulary: task states, service specs, tasks, nodes.
//!
//! Mirrors swarmkit `api/types.proto` and `api/specs.proto` (the parts that
//! matter for rolling updates). Defaults follow swarmkit
//! `api/defaults/service.go`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::sim::time::{SimDuration, SimTime, secs};
use crate::swarm::identity::Id;

/// swarmkit `TaskState`: an ordered enum; states only ever increase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
pub enum TaskState {
    New = 0,
    Pending = 64,
    Assigned = 192,
    Accepted = 256,
    Preparing = 320,
    Ready = 384,
    Starting = 448,
    Running = 512,
    Complete = 576,
    Shutdown = 640,
    Failed = 704,
    Rejected = 768,
    Remove = 800,
    Orphaned = 832,
}

impl TaskState {
    pub const ALL: [TaskState; 14] = [
        TaskState::New,
        TaskState::Pending,
        TaskState::Assigned,
        TaskState::Accepted,
        TaskState::Preparing,
        TaskState::Ready,
        TaskState::Starting,
        TaskState::Running,
        TaskState::Complete,
        TaskState::Shutdown,
        TaskState::Failed,
        TaskState::Rejected,
        TaskState::Remove,
        TaskState::Orphaned,
    ];

    /// Every state's Engine API spelling, in state order.
    pub const API_NAMES: [&'static str; 14] = [
        "new",
        "pending",
        "assigned",
        "accepted",
        "preparing",
        "ready",
        "starting",
        "running",
        "complete",
        "shutdown",
        "failed",
        "rejected",
        "remove",
        "orphaned",
    ];

    /// Engine API spelling (`running`, `shutdown`, ...).
    pub fn api_str(self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Pending => "pending",
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::Preparing => "preparing",
            TaskState::Ready => "ready",
            TaskState::Starting => "starting",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
            TaskState::Shutdown => "shutdown",
            TaskState::Failed => "failed",
            TaskState::Rejected => "rejected",
            TaskState::Remove => "remove",
            TaskState::Orphaned => "orphaned",
        }
    }

    /// docker CLI spelling (`Running`, `Shutdown`, ...).
    pub fn pretty(self) -> &'static str {
        match self {
            TaskState::New => "New",
            TaskState::Pending => "Pending",
            TaskState::Assigned => "Assigned",
            TaskState::Accepted => "Accepted",
            TaskState::Preparing => "Preparing",
            TaskState::Ready => "Ready",
            TaskState::Starting => "Starting",
            TaskState::Running => "Running",
            TaskState::Complete => "Complete",
            TaskState::Shutdown => "Shutdown",
            TaskState::Failed => "Failed",
            TaskState::Rejected => "Rejected",
            TaskState::Remove => "Remove",
            TaskState::Orphaned => "Orphaned",
        }
    }

    pub fn from_api(s: &str) -> Option<TaskState> {
        let l = s.to_ascii_lowercase();
        TaskState::ALL.into_iter().find(|st| st.api_str() == l)
    }

    /// swarmkit calls any state past RUNNING terminal.
    pub fn is_terminal(self) -> bool {
        self > TaskState::Running
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureAction {
    #[default]
    Pause,
    Continue,
    Rollback,
}

impl FailureAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureAction::Pause => "pause",
            FailureAction::Continue => "continue",
            FailureAction::Rollback => "rollback",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pause" => Some(FailureAction::Pause),
            "continue" => Some(FailureAction::Continue),
            "rollback" => Some(FailureAction::Rollback),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateOrder {
    #[default]
    StopFirst,
    StartFirst,
}

impl UpdateOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateOrder::StopFirst => "stop-first",
            UpdateOrder::StartFirst => "start-first",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stop-first" => Some(UpdateOrder::StopFirst),
            "start-first" => Some(UpdateOrder::StartFirst),
            _ => None,
        }
    }
}

/// The monitor period used when none is set (swarmkit
/// `api/defaults/service.go`). A monitor of 0 cannot be expressed through
/// the Engine API: it becomes this default.
pub const DEFAULT_MONITOR: SimDuration = secs(5);

/// swarmkit `UpdateConfig` (also used for the rollback config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateConfig {
    /// 0 = all dirty slots at once.
    pub parallelism: u64,
    pub delay: SimDuration,
    pub failure_action: FailureAction,
    /// 0 = not set, which means [`DEFAULT_MONITOR`].
    pub monitor: SimDuration,
    pub max_failure_ratio: f32,
    pub order: UpdateOrder,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            parallelism: 1,
            delay: SimDuration::ZERO,
            failure_action: FailureAction::Pause,
            monitor: SimDuration::ZERO,
            max_failure_ratio: 0.0,
            order: UpdateOrder::StopFirst,
        }
    }
}

impl UpdateConfig {
    /// The monitoring period the updater uses (`Run`): the configured one,
    /// or 5 s when unset or zero.
    pub fn monitor_period(&self) -> SimDuration {
        if self.monitor.is_zero() {
            DEFAULT_MONITOR
        } else {
            self.monitor
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartCondition {
    None,
    OnFailure,
    #[default]
    Any,
}

impl RestartCondition {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartCondition::None => "none",
            RestartCondition::OnFailure => "on-failure",
            RestartCondition::Any => "any",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(RestartCondition::None),
            "on-failure" => Some(RestartCondition::OnFailure),
            "any" => Some(RestartCondition::Any),
            _ => None,
        }
    }
}

/// Default restart delay when the policy has none (swarmkit restart.go).
pub const DEFAULT_RESTART_DELAY: SimDuration = secs(5);
/// `defaultOldTaskTimeout`: how long a replacement waits for its
/// predecessor to stop before it is started anyway.
pub const OLD_TASK_TIMEOUT: SimDuration = secs(60);
/// Default stop grace period (swarmkit `api/defaults/service.go`).
pub const DEFAULT_STOP_GRACE_PERIOD: SimDuration = secs(10);
/// `defaultTaskHistoryRetentionLimit` (swarmkit `manager/manager.go`).
pub const DEFAULT_TASK_HISTORY_LIMIT: i64 = 5;

/// swarmkit `RestartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RestartPolicy {
    pub condition: RestartCondition,
    /// `None` = not set = 5 s.
    pub delay: Option<SimDuration>,
    /// 0 = unlimited.
    pub max_attempts: u64,
    /// 0 = unbounded.
    pub window: SimDuration,
}

impl RestartPolicy {
    pub fn delay(&self) -> SimDuration {
        self.delay.unwrap_or(DEFAULT_RESTART_DELAY)
    }
}

/// Container healthcheck (moby `daemon/health.go` defaults apply to zero
/// fields: interval 30s, timeout 30s, retries 3, start period 0, start
/// interval 5s).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Healthcheck {
    /// The `test` command, e.g. `["CMD-SHELL", "redis-cli ping"]`; empty if
    /// only timings were given.
    pub test: Vec<String>,
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub retries: u64,
    pub start_period: SimDuration,
    pub start_interval: SimDuration,
}

impl Healthcheck {
    pub fn interval(&self) -> SimDuration {
        if self.interval.is_zero() {
            secs(30)
        } else {
            self.interval
        }
    }
    pub fn timeout(&self) -> SimDuration {
        if self.timeout.is_zero() {
            secs(30)
        } else {
            self.timeout
        }
    }
    pub fn retries(&self) -> u64 {
        if self.retries == 0 { 3 } else { self.retries }
    }
    pub fn start_interval(&self) -> SimDuration {
        if self.start_interval.is_zero() {
            secs(5)
        } else {
            self.start_interval
        }
    }
    /// `--no-healthcheck` / `test: ["NONE"]` disables the check.
    pub fn disabled(&self) -> bool {
        self.test.first().map(String::as_str) == Some("NONE")
    }
}

/// Placement spread preference: `spread=node.labels.zone`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadPreference {
    /// The descriptor, e.g. `node.labels.zone`.
    pub spread: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placement {
    /// Raw constraint expressions, e.g. `node.role==worker`.
    pub constraints: Vec<String>,
    pub preferences: Vec<SpreadPreference>,
    /// 0 = unlimited.
    pub max_replicas: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    pub reserve_nano_cpus: i64,
    pub reserve_memory: i64,
    pub limit_nano_cpus: i64,
    pub limit_memory: i64,
    pub limit_pids: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishMode {
    Ingress,
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    pub protocol: String,
    pub target: u32,
    pub published: u32,
    pub mode: PublishMode,
}

/// swarmkit `TaskSpec` (what `IsTaskDirty` compares).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskSpec {
    /// Image reference as given (`redis:3.0.6`).
    pub image: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub placement: Placement,
    pub resources: Resources,
    /// `None` = not set (swarm defaults apply: any, 5s, unlimited, 0).
    pub restart_policy: Option<RestartPolicy>,
    pub healthcheck: Option<Healthcheck>,
    pub stop_grace_period: Option<SimDuration>,
    /// Bumped by `--force`.
    pub force_update: u64,
    /// `docker service create` always sets Init (false unless `--init`).
    pub init: Option<bool>,
    /// Container settings kept but not modelled (`--mount`, `--network`,
    /// `--user` …; `--stop-signal` is modelled), see
    /// [`crate::swarm::container`]. Shared between the specs of an update
    /// (the previous spec keeps the same settings unless a container flag
    /// changed them), so that `docker service update --image` does not copy
    /// some thirty empty fields.
    pub container: Rc<crate::swarm::container::ContainerExtras>,
}

impl TaskSpec {
    pub fn restart_policy(&self) -> RestartPolicy {
        self.restart_policy.unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceMode {
    Replicated { replicas: u64 },
    Global,
}

/// swarmkit `ServiceSpec`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// Shared by the spec's clones (a batch run makes three) and the
    /// store's index of names.
    pub name: Rc<str>,
    pub labels: BTreeMap<String, String>,
    pub mode: ServiceMode,
    /// `None` = no config: the updater uses the defaults.
    pub update_config: Option<UpdateConfig>,
    pub rollback_config: Option<UpdateConfig>,
    pub task: Rc<TaskSpec>,
    /// Endpoint spec: published ports.
    pub ports: Vec<PortConfig>,
    /// `vip` or `dnsrr` (empty when not set): the usual values are
    /// borrowed, so that cloning a spec (a batch run does it three times)
    /// allocates nothing for them.
    pub endpoint_mode: Cow<'static, str>,
}

/// An endpoint mode as [`ServiceSpec::endpoint_mode`] keeps it: the
/// values docker knows borrowed, any other owned.
pub fn endpoint_mode(mode: &str) -> Cow<'static, str> {
    match mode {
        "vip" => Cow::Borrowed("vip"),
        "dnsrr" => Cow::Borrowed("dnsrr"),
        "" => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

impl ServiceSpec {
    pub fn replicas(&self) -> Option<u64> {
        match self.mode {
            ServiceMode::Replicated { replicas } => Some(replicas),
            ServiceMode::Global => None,
        }
    }
}

/// Update state names as reports spell them, with `none` for a service
/// that was never updated.
pub const UPDATE_STATE_NAMES: [&str; 7] = [
    "none",
    "updating",
    "paused",
    "completed",
    "rollback_started",
    "rollback_paused",
    "rollback_completed",
];

/// `UpdateStatus.UpdateState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateState {
    Updating,
    Paused,
    Completed,
    RollbackStarted,
    RollbackPaused,
    RollbackCompleted,
}

impl UpdateState {
    /// API spelling, also used in `events.csv` and `summary.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Updating => "updating",
            UpdateState::Paused => "paused",
            UpdateState::Completed => "completed",
            UpdateState::RollbackStarted => "rollback_started",
            UpdateState::RollbackPaused => "rollback_paused",
            UpdateState::RollbackCompleted => "rollback_completed",
        }
    }

    pub fn is_rollback(self) -> bool {
        matches!(
            self,
            UpdateState::RollbackStarted
                | UpdateState::RollbackPaused
                | UpdateState::RollbackCompleted
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStatus {
    pub state: UpdateState,
    pub started_at: Option<SimTime>,
    pub completed_at: Option<SimTime>,
    pub message: String,
}

pub type ServiceId = usize;
pub type TaskId = usize;
pub type NodeId = usize;

#[derive(Debug, Clone)]
pub struct Service {
    /// 25-character swarm id.
    pub id: Id,
    pub spec: ServiceSpec,
    pub spec_version: u64,
    pub previous_spec: Option<ServiceSpec>,
    pub previous_spec_version: Option<u64>,
    pub update_status: Option<UpdateStatus>,
    pub created_at: SimTime,
    pub updated_at: SimTime,
    /// Set by `docker service rm`: tasks are being removed.
    pub removed: bool,
}

#[derive(Debug, Clone)]
pub struct Task {
    /// 25-character swarm id.
    pub id: Id,
    pub service: ServiceId,
    /// Replica slot (1-based); 0 for global tasks.
    pub slot: u64,
    pub node: Option<NodeId>,
    /// The spec the task was created from.
    pub spec: Rc<TaskSpec>,
    pub spec_version: u64,
    /// The endpoint (published ports) the task was created with.
    pub ports: Rc<Vec<PortConfig>>,
    pub desired: TaskState,
    pub state: TaskState,
    /// `Status.Timestamp`: when the observed state last changed.
    pub timestamp: SimTime,
    pub message: &'static str,
    pub err: Option<String>,
    pub exit_code: Option<i64>,
    pub created_at: SimTime,
    /// Deleted from the store by the task reaper or service removal.
    pub deleted: bool,
}

impl Task {
    /// CLI name: `<service>.<slot>`, or `<service>.<node id>` for global.
    pub fn name(&self, service: &Service, nodes: &[Node]) -> String {
        if self.slot > 0 {
            format!("{}.{}", service.spec.name, self.slot)
        } else {
            let node = self.node.map(|n| nodes[n].id.as_str()).unwrap_or("");
            format!("{}.{}", service.spec.name, node)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    Worker,
    Manager,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Worker => "worker",
            NodeRole::Manager => "manager",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Active,
    Pause,
    Drain,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Active => "active",
            Availability::Pause => "pause",
            Availability::Drain => "drain",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Availability::Active),
            "pause" => Some(Availability::Pause),
            "drain" => Some(Availability::Drain),
            _ => None,
        }
    }
}

/// Manager's view of a node (`NodeStatus.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    Unknown,
    Down,
    Ready,
    Disconnected,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Unknown => "unknown",
            NodeStatus::Down => "down",
            NodeStatus::Ready => "ready",
            NodeStatus::Disconnected => "disconnected",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    /// 25-character swarm id.
    pub id: Id,
    /// Hostname (also the node name shown by the CLI).
    pub hostname: Rc<str>,
    pub role: NodeRole,
    pub availability: Availability,
    /// What the managers believe.
    pub status: NodeStatus,
    /// Whether the machine and its agent really run (a stopped node stays
    /// `Ready` until its heartbeats are overdue).
    pub agent_up: bool,
    pub labels: BTreeMap<String, String>,
    pub nano_cpus: i64,
    pub memory_bytes: i64,
    /// Whether this node is the leader (the first manager).
    pub leader: bool,
    /// Whether the node is part of the swarm: false before a timeline
    /// `join` (scenario `joined: false`) and after `docker node rm`.
    pub in_swarm: bool,
}

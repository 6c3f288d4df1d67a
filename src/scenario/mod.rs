//! Scenario files (`docs/scenario-format.md`): YAML → validated [`Scenario`].
//!
//! [`load`] / [`parse_str`] read the file, check every key (unknown keys
//! are errors with a "did you mean" hint), convert Compose-style `deploy:`
//! keys the way `docker stack deploy` does, parse `docker:` command lines
//! with [`crate::docker::cli`], and report problems as
//! `FILE:LINE:COLUMN: message`, the position being the offending key or
//! value in the YAML text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dist::Dist;
use crate::docker::cli::DockerCommand;
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::model::{Availability, NodeRole, ServiceSpec};

#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path as given on the command line (used in error messages).
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub seed: Option<u64>,
    pub until: Option<SimTime>,
    /// Expanded (`count` and `{n}` applied), in file order.
    pub nodes: Vec<NodeDef>,
    pub images: ImageProfiles,
    /// The engine's own step latencies (`engine:`); zero when absent.
    pub engine: EngineProfile,
    /// Services that exist at time 0, in file order.
    pub services: Vec<ServiceSpec>,
    /// In file order (items at equal times run in that order).
    pub timeline: Vec<TimelineItem>,
    /// `expect:` items, in file order.
    pub expect: Vec<Expectation>,
    /// The stack file named by `compose:` (its services are in
    /// `services`, after the scenario's own).
    pub compose: Option<Compose>,
}

/// A node of `cluster.nodes`. Capacity defaults to 4 CPUs and 8 GiB when
/// `resources` (or one of its keys) is omitted.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDef {
    /// Shared with the hostname of every run's node (no copy per run).
    pub name: std::rc::Rc<str>,
    pub role: NodeRole,
    pub availability: Availability,
    pub labels: BTreeMap<String, String>,
    pub nano_cpus: i64,
    pub memory_bytes: i64,
    /// `joined: false`: not in the swarm until a timeline `node: {name,
    /// state: join}`.
    pub joined: bool,
}

/// The engine's own latencies between a task's steps (`engine:`), the same
/// for every image: fixed durations, all zero by default (every step
/// instantaneous). The conformance scenarios carry the values calibrated
/// on Docker 20.10 (`swarmsim calibrate --engine`, see docs/conformance.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineProfile {
    /// A scheduling pass runs this long after it was asked for (swarmkit's
    /// scheduler batches its commits).
    pub schedule: SimDuration,
    /// The assignment and each change of a task's desired state reach the
    /// agent this long later (the dispatcher's batch and the agent's round
    /// trip): ASSIGNED → ACCEPTED, desired RUNNING → STARTING, desired
    /// SHUTDOWN → the stop.
    pub dispatch: SimDuration,
    /// PREPARING → READY of every task (container create), before the
    /// image pull (which happens once per node).
    pub create: SimDuration,
    /// Added to every container start (STARTING → RUNNING).
    pub start: SimDuration,
    /// Added to every container stop.
    pub stop: SimDuration,
    /// A race inside Swarm: the probability that, when an update task's
    /// failure triggers an automatic rollback, the updater swaps the spec
    /// back before the restart supervisor replaces the failed task (the
    /// replacement then has the old spec and the rollback completes at
    /// once). 0 (the default): the supervisor always goes first. Drawn per
    /// failure from the run's seed (`rollback-race` stream).
    pub rollback_race: f64,
    /// A race inside Swarm: the probability that, when a task the updater
    /// is waiting on ends without running (a failed start, an unhealthy
    /// start) and no update delay is set, the freed worker takes the next
    /// slot before the updater reads the failure (Go's `select` between
    /// two ready channels), so one more slot gets the new task before the
    /// failure action. 0 (the default): the failure is read first. Drawn
    /// per such failure from the run's seed (`failure-race` stream).
    pub failure_race: f64,
    /// `slot_order: random`: an update or rollback takes its dirty slots in
    /// a seeded random order (`slot-order` stream), as swarmkit does: they
    /// come out of a Go map (`manager/orchestrator/replicated/services.go`,
    /// `updatableAndDeadSlots`), whose iteration order Go randomizes.
    /// `ascending` (the default, `false`): by slot number, no random draw.
    pub random_slot_order: bool,
}

/// How an image behaves on the simulated engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageProfile {
    /// Image pull, once per node.
    pub pull: Dist,
    /// Container start: STARTING → RUNNING (health checks come on top).
    pub start: Dist,
    /// Container stop after the orchestrator asked for it.
    pub stop: Dist,
    /// Probability that one start attempt fails.
    pub fail_on_start: f64,
    /// Time from RUNNING to an unexpected exit; `None` = never.
    pub crash_after: Option<Dist>,
    /// Exit code of a failed start or a crash.
    pub exit_code: i64,
    /// Probability that a health probe fails (0 = always healthy). A
    /// swarmsim extension of the image keys (`health_fail:`,
    /// `docs/scenario-format.md#images`).
    pub health_fail: f64,
    /// Exit code of a container stopped by SIGTERM within the grace period
    /// (143 = killed by the signal; 0 for a program that exits cleanly on
    /// it). swarmsim extension of the image keys (`stop_exit_code:`,
    /// `docs/scenario-format.md#images`). It decides how an unhealthy container ends:
    /// `Failed` with a non-zero code, `Complete` with 0.
    pub stop_exit_code: i64,
}

impl Default for ImageProfile {
    fn default() -> Self {
        use crate::sim::time::millis;
        ImageProfile {
            pull: Dist::Fixed(millis(1000)),
            start: Dist::Fixed(millis(500)),
            stop: Dist::Fixed(millis(200)),
            fail_on_start: 0.0,
            crash_after: None,
            exit_code: 1,
            health_fail: 0.0,
            stop_exit_code: 143,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageProfiles {
    pub default: ImageProfile,
    /// Keyed by image reference, e.g. `redis:3.0.7`.
    pub images: BTreeMap<String, ImageProfile>,
}

impl ImageProfiles {
    pub fn profile(&self, image: &str) -> &ImageProfile {
        self.images.get(image).unwrap_or(&self.default)
    }
}

#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub at: SimTime,
    /// 1-based line of the item in the scenario file.
    pub line: usize,
    pub action: Action,
}

// One action per timeline item: size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Action {
    /// A docker command (from `docker:` or a structured form); `text` is
    /// echoed in the transcript.
    Docker {
        text: String,
        command: DockerCommand,
    },
    Node {
        name: String,
        change: NodeChange,
    },
    Kill {
        task: String,
        exit_code: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeChange {
    /// The machine stops (agent and containers gone).
    Down,
    /// The machine comes back.
    Up,
    Availability(Availability),
    /// `docker swarm join` on a node listed with `joined: false`.
    Join,
    /// `docker swarm leave` on a worker: its containers stop; the managers
    /// mark it down when its heartbeats are overdue.
    Leave,
}

pub mod compose;
mod deploy;
pub mod expect;
mod load;
pub mod overrides;
mod timeline;
pub(crate) mod yaml;

pub use compose::Compose;
pub use expect::Expectation;
pub use load::{DEFAULT_NODE_MEMORY, DEFAULT_NODE_NANO_CPUS, PROFILE_KEYS};
pub use overrides::{Override, ServiceField, Target, parse_override};
pub(crate) use overrides::{apply_overrides, unapplied};

/// A scenario that cannot be used. Displays as `FILE:LINE:COLUMN: what is
/// wrong` (the binary prefixes `error: `), or `FILE: what is wrong` when
/// the file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: {message}", .file.display())]
    Io { file: PathBuf, message: String },
    #[error("{}:{line}:{column}: {message}", .file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A `--set SERVICE.KEY=VALUE` override that cannot be read.
    #[error("{0}")]
    Override(String),
}

impl ScenarioError {
    /// The message without the file and position.
    pub fn message(&self) -> &str {
        match self {
            ScenarioError::Io { message, .. } | ScenarioError::Invalid { message, .. } => message,
            ScenarioError::Override(message) => message,
        }
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    load_with(path, &[])
}

/// Reads a scenario with `--set` overrides applied to its services (those
/// under `services:`, or those of its `compose:` file).
pub fn load_with(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let text = read_input(path, "the scenario")?;
    load::parse(&text, path, overrides)
}

/// Parses YAML text with the scenario loader's limits (docs/limits.md).
pub fn parse_yaml(text: &str) -> Result<serde_yaml::Value, ScenarioError> {
    load::parse_yaml(text, Path::new(""))
}

/// Reads an input file ([`crate::fsio::read_text`]): a regular file of
/// bounded size, in UTF-8; an invalid byte is reported at its line and
/// column.
pub fn read_input(path: &Path, what: &str) -> Result<String, ScenarioError> {
    crate::fsio::read_text(path).map_err(|e| match e {
        crate::fsio::ReadError::Utf8 { line, column, .. } => ScenarioError::Invalid {
            file: path.to_path_buf(),
            line,
            column,
            message: e.to_string(),
        },
        _ => ScenarioError::Io {
            file: path.to_path_buf(),
            message: format!("cannot read {what}: {e}"),
        },
    })
}

/// Validates scenario text; `file` names it in messages and is the base
/// of relative paths (`empirical: {file: x.csv}`, `compose: stack.yml`).
pub fn parse_str(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    load::parse(text, file, &[])
}

/// [`parse_str`] with `--set` overrides applied.
pub fn parse_str_with(
    text: &str,
    file: &Path,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    load::parse(text, file, overrides)
}

/// The nodes of the cluster used for a bare stack file
/// (`swarmsim run --compose`, `swarmsim lint stack.yml`): `manager1`,
/// `worker1`, `worker2`, each with the default capacity.
pub fn default_nodes() -> Vec<NodeDef> {
    ["manager1", "worker1", "worker2"]
        .iter()
        .map(|name| NodeDef {
            name: (*name).into(),
            role: if *name == "manager1" {
                NodeRole::Manager
            } else {
                NodeRole::Worker
            },
            availability: Availability::Active,
            labels: BTreeMap::new(),
            nano_cpus: DEFAULT_NODE_NANO_CPUS,
            memory_bytes: DEFAULT_NODE_MEMORY,
            joined: true,
        })
        .collect()
}

/// A scenario made of a stack file alone: the default cluster
/// ([`default_nodes`]), default image behaviour, the stack's services
/// deployed at time 0, no timeline.
pub fn from_compose(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let mut pending: Vec<(Override, bool)> = overrides.iter().map(|o| (o.clone(), false)).collect();
    let compose = compose::load(path, &mut pending)?;
    unapplied(path, &pending)?;
    Ok(Scenario {
        file: path.to_path_buf(),
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        description: String::new(),
        seed: None,
        until: None,
        nodes: default_nodes(),
        images: ImageProfiles::default(),
        engine: EngineProfile::default(),
        services: compose.services.clone(),
        timeline: Vec::new(),
        expect: Vec::new(),
        compose: Some(compose),
    })
}

/// Whether a YAML file looks like a stack file rather than a scenario: a
/// mapping with `services` and without `cluster`.
pub fn looks_like_compose(text: &str) -> bool {
    match load::parse_yaml(text, Path::new("")) {
        Ok(serde_yaml::Value::Mapping(m)) => {
            m.contains_key("services") && !m.contains_key("cluster")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;

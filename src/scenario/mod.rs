//! Scenario files (contract: scenario-v1): YAML → validated [`Scenario`].
//!
//! [`load`] / [`parse_str`] read the file, check every key (unknown keys
//! are errors with a "did you mean" hint), convert Compose-style `deploy:`
//! keys the way `docker stack deploy` does, parse `docker:` command lines
//! with [`crate::swarm::docker_cli`], and report problems as
//! `FILE:LINE:COLUMN: message`, the position being the offending key or
//! value in the YAML text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dist::Dist;
use crate::sim::time::SimTime;
use crate::swarm::docker_cli::DockerCommand;
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
    /// Services that exist at time 0, in file order.
    pub services: Vec<ServiceSpec>,
    /// In file order (items at equal times run in that order).
    pub timeline: Vec<TimelineItem>,
}

/// A node of `cluster.nodes`. Capacity defaults to 4 CPUs and 8 GiB when
/// `resources` (or one of its keys) is omitted.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDef {
    pub name: String,
    pub role: NodeRole,
    pub availability: Availability,
    pub labels: BTreeMap<String, String>,
    pub nano_cpus: i64,
    pub memory_bytes: i64,
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
    /// swarmsim extension of the contract's image keys (`health_fail:`).
    pub health_fail: f64,
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
}

mod deploy;
mod load;
mod timeline;
mod yaml;

pub use load::{DEFAULT_NODE_MEMORY, DEFAULT_NODE_NANO_CPUS};

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
}

impl ScenarioError {
    /// The message without the file and position.
    pub fn message(&self) -> &str {
        match self {
            ScenarioError::Io { message, .. } | ScenarioError::Invalid { message, .. } => message,
        }
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
        file: path.to_path_buf(),
        message: format!("cannot read the scenario: {e}"),
    })?;
    parse_str(&text, path)
}

/// Validates scenario text; `file` names it in messages and is the base
/// of relative paths (`empirical: {file: x.csv}`).
pub fn parse_str(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    load::parse(text, file)
}

#[cfg(test)]
mod tests;

//! docker CLI command lines → typed commands (docker/cli
//! `cli/command/service/*.go`, `cli/command/node/*.go`). A flag docker
//! does not have, or one this simulator does not model, is an error.

use crate::swarm::model::{Availability, ServiceSpec, TaskState};

#[derive(Debug, Clone, PartialEq)]
pub enum DockerCommand {
    /// `docker service create`: the spec as the CLI would send it.
    ServiceCreate { spec: ServiceSpec, detach: bool },
    /// `docker service update` (`--rollback` sets `rollback`).
    ServiceUpdate {
        service: String,
        args: UpdateArgs,
        rollback: bool,
        detach: bool,
    },
    ServiceRollback { service: String, detach: bool },
    ServiceScale { scales: Vec<(String, u64)>, detach: bool },
    ServiceRm { services: Vec<String> },
    ServicePs {
        services: Vec<String>,
        no_trunc: bool,
        quiet: bool,
        desired_state: Option<TaskState>,
    },
    ServiceInspect { services: Vec<String>, pretty: bool },
    ServiceLs,
    NodeLs,
    NodeUpdate {
        node: String,
        availability: Option<Availability>,
        label_add: Vec<(String, String)>,
        label_rm: Vec<String>,
    },
}

/// The flags of `docker service update`, applied to the current spec by
/// [`UpdateArgs::apply`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateArgs {
    // Filled in by the docker CLI parser.
}

impl UpdateArgs {
    /// Applies the flags to `spec` as docker/cli `updateService` does.
    pub fn apply(&self, _spec: &mut ServiceSpec) {}
}

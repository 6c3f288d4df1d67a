//! Runs docker commands against the control API at the current instant
//! and returns what the docker CLI prints (docker/cli
//! `cli/command/service/*.go`, `node/*.go`, `swarm/update.go`; docker's
//! error texts are in `docs/swarm-rules.md#control-api`).

use crate::docker::cli::DockerCommand;
use crate::docker::cli::UpdateArgs;
use crate::docker::format::inspect::inspect_pretty_many;
use crate::docker::format::ls::{node_ls, service_ls};
use crate::docker::format::ps::{PsOptions, service_ps};
use crate::swarm::cluster::Cluster;
use crate::swarm::container::UNMODELLED_FLAGS;
use crate::swarm::model::{ServiceId, ServiceMode};

/// What a command printed: stdout text and stderr text (docker's errors).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn out(s: impl Into<String>) -> Output {
        Output {
            stdout: s.into(),
            stderr: String::new(),
        }
    }
    fn err(s: impl Into<String>) -> Output {
        Output {
            stdout: String::new(),
            stderr: s.into(),
        }
    }
}

/// The CLI's error for an unknown service in `update`, `rollback`, `scale`
/// and `rm` (docker client `objectNotFoundError`).
fn no_such_service(name: &str) -> String {
    format!("Error: No such service: {name}\n")
}

impl Cluster {
    /// Runs one docker command at the current instant for its effect only
    /// and returns whether it succeeded (printed nothing on stderr): what
    /// [`Cluster::execute`] does, without building the text a batch run
    /// never reads.
    pub fn execute_quiet(&mut self, cmd: &DockerCommand) -> bool {
        match cmd {
            DockerCommand::ServiceUpdate {
                service,
                args,
                rollback: false,
                ..
            } => match self.store.state.find_service(service) {
                Some(sid) => {
                    self.apply_update(sid, args);
                    true
                }
                None => false,
            },
            _ => self.execute(cmd).stderr.is_empty(),
        }
    }

    /// `docker service update` without `--rollback` on a found service:
    /// the flags applied to its spec, and the note on unmodelled flags.
    fn apply_update(&mut self, sid: ServiceId, args: &UpdateArgs) {
        let mut spec = self.store.state.services[sid].spec.clone();
        args.apply(&mut spec);
        self.update_service(sid, spec);
        let given: Vec<&'static str> = UNMODELLED_FLAGS
            .iter()
            .copied()
            .filter(|f| args.flags.iter().any(|(n, _)| n == f))
            .collect();
        self.note_unmodelled(sid, given);
    }

    /// Runs one docker command at the current instant.
    pub fn execute(&mut self, cmd: &DockerCommand) -> Output {
        match cmd {
            DockerCommand::ServiceCreate { spec, .. } => {
                // Without a name docker picks a random one (moby
                // `daemon/cluster/convert` `ServiceSpecToGRPC`), which no
                // later command could name: swarmsim asks for one.
                if spec.name.is_empty() {
                    return Output::err(
                        "swarmsim: `docker service create` needs `--name` here (docker would pick a random name, see docs/limits.md)\n",
                    );
                }
                // swarmkit `validateServiceSpec` → `validateAnnotations`.
                if let Err(e) = crate::limits::check_service_name(&spec.name) {
                    return Output::err(format!(
                        "Error response from daemon: rpc error: code = InvalidArgument desc = {e}\n"
                    ));
                }
                if self.store.state.service_names.contains_key(&spec.name) {
                    return Output::err(
                        "Error response from daemon: rpc error: code = AlreadyExists desc = name conflicts with an existing object\n",
                    );
                }
                let id = self.store.create_service(spec.clone());
                self.note_unmodelled(id, spec.task.container.given_flags());
                Output::out(format!("{}\n", self.store.state.services[id].id))
            }
            DockerCommand::ServiceUpdate {
                service,
                args,
                rollback,
                ..
            } => {
                let Some(sid) = self.store.state.find_service(service) else {
                    return Output::err(no_such_service(service));
                };
                if *rollback {
                    return rollback_to_previous(self, sid, service);
                }
                self.apply_update(sid, args);
                Output::out(format!("{service}\n"))
            }
            DockerCommand::ServiceRollback { service, .. } => {
                let Some(sid) = self.store.state.find_service(service) else {
                    return Output::err(no_such_service(service));
                };
                rollback_to_previous(self, sid, service)
            }
            DockerCommand::ServiceScale { scales, .. } => {
                let mut out = Output::default();
                for (name, replicas) in scales {
                    let Some(sid) = self.store.state.find_service(name) else {
                        out.stderr
                            .push_str(&format!("{name}: Error: No such service: {name}\n"));
                        continue;
                    };
                    let mut spec = self.store.state.services[sid].spec.clone();
                    match spec.mode {
                        ServiceMode::Replicated { .. } => {
                            spec.mode = ServiceMode::Replicated { replicas: *replicas };
                            self.update_service(sid, spec);
                            out.stdout.push_str(&format!("{name} scaled to {replicas}\n"));
                        }
                        ServiceMode::Global => out.stderr.push_str(&format!(
                            "{name}: scale can only be used with replicated or replicated-job mode\n"
                        )),
                    }
                }
                out
            }
            DockerCommand::ServiceRm { services } => {
                let mut out = Output::default();
                for name in services {
                    match self.store.state.find_service(name) {
                        Some(sid) => {
                            self.remove_service(sid);
                            out.stdout.push_str(&format!("{name}\n"));
                        }
                        None => out
                            .stderr
                            .push_str(&format!("Error: No such service: {name}\n")),
                    }
                }
                out
            }
            DockerCommand::ServicePs {
                services,
                no_trunc,
                quiet,
                desired_state,
            } => {
                let mut ids = Vec::new();
                for name in services {
                    match self.store.state.find_service(name) {
                        Some(sid) => ids.push(sid),
                        None => return Output::err(format!("no such service: {name}\n")),
                    }
                }
                let opts = PsOptions {
                    no_trunc: *no_trunc,
                    quiet: *quiet,
                    desired_state: *desired_state,
                };
                Output::out(service_ps(&self.store.state, &ids, &opts, self.store.now))
            }
            DockerCommand::ServiceInspect { services, .. } => {
                let mut ids = Vec::new();
                for name in services {
                    match self.store.state.find_service(name) {
                        Some(sid) => ids.push(sid),
                        None => return Output::err(format!("Error: no such service: {name}\n")),
                    }
                }
                Output::out(inspect_pretty_many(&self.store.state, &ids, self.store.now))
            }
            DockerCommand::ServiceLs => Output::out(service_ls(&self.store.state, self.store.now)),
            DockerCommand::SwarmUpdate {
                task_history_limit,
                unmodelled,
            } => {
                self.update_cluster(*task_history_limit, unmodelled);
                Output::out("Swarm updated.\n")
            }
            DockerCommand::NodeRm { nodes, force } => {
                let mut out = Output::default();
                for name in nodes {
                    match self.remove_node(name, *force) {
                        Ok(()) => out.stdout.push_str(&format!("{name}\n")),
                        Err(e) => out.stderr.push_str(&e.to_string()),
                    }
                }
                out
            }
            DockerCommand::NodeLs => {
                let me = self
                    .store
                    .state
                    .nodes
                    .iter()
                    .position(|n| n.leader)
                    .unwrap_or(0);
                Output::out(node_ls(&self.store.state, me))
            }
            DockerCommand::NodeUpdate {
                node,
                availability,
                label_add,
                label_rm,
            } => {
                let Some(nid) = self.store.member_node(node) else {
                    return Output::err(format!(
                        "Error response from daemon: node {node} not found\n"
                    ));
                };
                self.update_node(nid, *availability, label_add, label_rm);
                Output::out(format!("{node}\n"))
            }
        }
    }
}

/// `docker service rollback` / `update --rollback`: prints the name as
/// typed, or the daemon's error.
fn rollback_to_previous(c: &mut Cluster, sid: ServiceId, typed: &str) -> Output {
    match c.rollback_service(sid) {
        Ok(()) => Output::out(format!("{typed}\n")),
        Err(e) => Output::err(e.to_string()),
    }
}

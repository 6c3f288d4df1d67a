//! The manager's control API as the docker CLI drives it (swarmkit
//! `manager/controlapi/service.go`, `node.go`; docker/cli
//! `cli/command/service/*.go`): each command changes the store and returns
//! what the CLI prints.

use crate::report::inspect::inspect_pretty_many;
use crate::report::ls::{node_ls, service_ls};
use crate::report::ps::{PsOptions, service_ps};
use crate::swarm::cluster::Cluster;
use crate::swarm::docker_cli::DockerCommand;
use crate::swarm::model::{ServiceId, ServiceMode, TaskState, UpdateState, UpdateStatus};

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
                if self.state.service_names.contains_key(&spec.name) {
                    return Output::err(
                        "Error response from daemon: rpc error: code = AlreadyExists desc = name conflicts with an existing object\n",
                    );
                }
                let id = self.create_service(spec.clone());
                Output::out(format!("{}\n", self.state.services[id].id))
            }
            DockerCommand::ServiceUpdate {
                service,
                args,
                rollback,
                ..
            } => {
                let Some(sid) = self.state.find_service(service) else {
                    return Output::err(no_such_service(service));
                };
                if *rollback {
                    return self.rollback_service(sid, service);
                }
                let mut spec = self.state.services[sid].spec.clone();
                args.apply(&mut spec);
                self.update_service(sid, spec);
                Output::out(format!("{service}\n"))
            }
            DockerCommand::ServiceRollback { service, .. } => {
                let Some(sid) = self.state.find_service(service) else {
                    return Output::err(no_such_service(service));
                };
                self.rollback_service(sid, service)
            }
            DockerCommand::ServiceScale { scales, .. } => {
                let mut out = Output::default();
                for (name, replicas) in scales {
                    let Some(sid) = self.state.find_service(name) else {
                        out.stderr
                            .push_str(&format!("{name}: Error: No such service: {name}\n"));
                        continue;
                    };
                    let mut spec = self.state.services[sid].spec.clone();
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
                    match self.state.find_service(name) {
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
                    match self.state.find_service(name) {
                        Some(sid) => ids.push(sid),
                        None => return Output::err(format!("no such service: {name}\n")),
                    }
                }
                let opts = PsOptions {
                    no_trunc: *no_trunc,
                    quiet: *quiet,
                    desired_state: *desired_state,
                };
                Output::out(service_ps(&self.state, &ids, &opts, self.now))
            }
            DockerCommand::ServiceInspect { services, .. } => {
                let mut ids = Vec::new();
                for name in services {
                    match self.state.find_service(name) {
                        Some(sid) => ids.push(sid),
                        None => return Output::err(format!("Error: no such service: {name}\n")),
                    }
                }
                Output::out(inspect_pretty_many(&self.state, &ids, self.now))
            }
            DockerCommand::ServiceLs => Output::out(service_ls(&self.state, self.now)),
            DockerCommand::NodeLs => {
                let me = self.state.nodes.iter().position(|n| n.leader).unwrap_or(0);
                Output::out(node_ls(&self.state, me))
            }
            DockerCommand::NodeUpdate {
                node,
                availability,
                label_add,
                label_rm,
            } => {
                let Some(nid) = self.state.find_node(node) else {
                    return Output::err(format!(
                        "Error response from daemon: node {node} not found\n"
                    ));
                };
                let n = &mut self.state.nodes[nid];
                for (k, v) in label_add {
                    n.labels.insert(k.clone(), v.clone());
                }
                for k in label_rm {
                    n.labels.remove(k);
                }
                let changed_availability = availability.is_some_and(|a| a != n.availability);
                if let Some(a) = availability {
                    n.availability = *a;
                }
                if changed_availability {
                    let what = self.state.nodes[nid].availability.as_str();
                    self.log_node(nid, what);
                }
                self.notify_node(nid);
                Output::out(format!("{node}\n"))
            }
        }
    }

    /// controlapi `UpdateService` (not a rollback): the current spec becomes
    /// the previous spec, the update status is reset.
    pub fn update_service(&mut self, service: ServiceId, spec: crate::swarm::model::ServiceSpec) {
        let version = self.new_spec_version();
        let svc = &mut self.state.services[service];
        svc.previous_spec = Some(std::mem::replace(&mut svc.spec, spec));
        svc.previous_spec_version = Some(svc.spec_version);
        svc.spec_version = version;
        svc.updated_at = self.now;
        self.set_update_status(service, None);
        self.notify_service(service);
    }

    /// controlapi `UpdateService` with `rollback=previous`: swap spec and
    /// previous spec, `manually requested rollback`.
    fn rollback_service(&mut self, service: ServiceId, typed: &str) -> Output {
        let svc = &mut self.state.services[service];
        let (Some(prev), Some(prev_version)) =
            (svc.previous_spec.take(), svc.previous_spec_version)
        else {
            return Output::err(format!(
                "Error response from daemon: rpc error: code = FailedPrecondition desc = service {} does not have a previous spec\n",
                svc.id
            ));
        };
        let cur = std::mem::replace(&mut svc.spec, prev);
        svc.previous_spec = Some(cur);
        svc.previous_spec_version = Some(svc.spec_version);
        svc.spec_version = prev_version;
        svc.updated_at = self.now;
        self.set_update_status(
            service,
            Some(UpdateStatus {
                state: UpdateState::RollbackStarted,
                started_at: Some(self.now),
                completed_at: None,
                message: "manually requested rollback".to_string(),
            }),
        );
        self.notify_service(service);
        Output::out(format!("{typed}\n"))
    }

    /// `docker service rm`: the service is gone at once; its tasks are set
    /// to desired REMOVE and deleted once stopped.
    fn remove_service(&mut self, service: ServiceId) {
        self.updater_cancel(service);
        let name = self.state.services[service].spec.name.clone();
        self.state.service_names.remove(&name);
        self.state.services[service].removed = true;
        let ids: Vec<usize> = (0..self.state.tasks.len())
            .filter(|&t| {
                let task = &self.state.tasks[t];
                task.service == service && !task.deleted
            })
            .collect();
        for t in ids {
            self.set_desired(t, TaskState::Remove, "service removed");
            self.reaper_mark_remove(t);
        }
    }
}

//! `swarmsim lint SCENARIO|STACK`: update policies that bite Swarm users,
//! each with the reason and the fix, located in the file that sets them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::docker::cli::DockerCommand;
use crate::docker::duration::format_go_duration;
use crate::scenario::yaml::{Pos, Seg, locate};
use crate::scenario::{Action, Scenario, ScenarioError};
use crate::sim::time::{SimDuration, secs};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::{
    Availability, FailureAction, PublishMode, RestartCondition, ServiceMode, ServiceSpec,
    UpdateOrder,
};

/// The rules, in the order they are checked.
pub const RULES: &[&str] = &[
    "monitor-shorter-than-unhealthy",
    "delay-not-below-monitor",
    "rollback-may-pause",
    "rollback-never-finishes",
    "start-first-host-port",
    "start-first-global",
    "parallelism-zero-stop-first",
    "not-enough-places",
    "restart-none-pause",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub rule: &'static str,
    /// `FILE:LINE:COLUMN` of the setting.
    pub location: String,
    pub service: String,
    pub message: String,
    pub why: String,
    pub fix: String,
}

impl Warning {
    pub fn render(&self) -> String {
        format!(
            "warning[{}]: {}: service {}: {}\n  why: {}\n  fix: {}\n",
            self.rule, self.location, self.service, self.message, self.why, self.fix
        )
    }
}

/// Where a service's settings are written.
enum Origin {
    /// Under `services.<name>` of a YAML file (scenario or stack).
    Yaml {
        file: PathBuf,
        text: String,
        base: Vec<Seg>,
    },
    /// A `docker service create` line of the timeline.
    Line { file: PathBuf, line: usize },
}

impl Origin {
    fn at(&self, keys: &[&str]) -> String {
        match self {
            Origin::Line { file, line } => format!("{}:{line}:1", file.display()),
            Origin::Yaml { file, text, base } => {
                let mut path = base.clone();
                path.extend(keys.iter().map(|k| Seg::Key(k.to_string())));
                let (l, c) = locate(
                    text,
                    &Pos {
                        path,
                        at_key: false,
                    },
                )
                .unwrap_or((1, 1));
                format!("{}:{l}:{c}", file.display())
            }
        }
    }
}

fn d(ns: SimDuration) -> String {
    format_go_duration(ns)
}

/// Lints a scenario (its `services:`, its `compose:` file and the
/// `docker service create` lines of its timeline).
pub fn lint(scenario: &Scenario) -> Result<Vec<Warning>, ScenarioError> {
    let read = |p: &Path| crate::scenario::read_input(p, "the file");
    let compose_file = scenario.compose.as_ref().map(|c| c.file.clone());
    let is_bare_stack = compose_file.as_deref() == Some(scenario.file.as_path());
    let scenario_text = if is_bare_stack {
        String::new()
    } else {
        read(&scenario.file)?
    };
    let compose_text = match &compose_file {
        Some(f) => read(f)?,
        None => String::new(),
    };
    let mut services: Vec<(ServiceSpec, Origin)> = Vec::new();
    for spec in &scenario.services {
        let base = vec![Seg::Key("services".into()), Seg::Key(spec.name.to_string())];
        let from_compose = scenario
            .compose
            .as_ref()
            .is_some_and(|c| c.services.iter().any(|s| s.name == spec.name));
        let origin = if from_compose {
            Origin::Yaml {
                file: compose_file.clone().unwrap_or_default(),
                text: compose_text.clone(),
                base,
            }
        } else {
            Origin::Yaml {
                file: scenario.file.clone(),
                text: scenario_text.clone(),
                base,
            }
        };
        services.push((spec.clone(), origin));
    }
    for item in &scenario.timeline {
        if let Action::Docker {
            command: DockerCommand::ServiceCreate { spec, .. },
            ..
        } = &item.action
        {
            services.push((
                spec.clone(),
                Origin::Line {
                    file: scenario.file.clone(),
                    line: item.line,
                },
            ));
        }
    }
    // The cluster, for placement checks.
    let nodes_only = Scenario {
        services: Vec::new(),
        timeline: Vec::new(),
        expect: Vec::new(),
        ..scenario.clone()
    };
    let cluster = Cluster::new(Rc::new(nodes_only), 1, false);
    let mut out = Vec::new();
    for (spec, origin) in &services {
        lint_service(spec, origin, &cluster, &mut out);
    }
    Ok(out)
}

fn lint_service(spec: &ServiceSpec, o: &Origin, cluster: &Cluster, out: &mut Vec<Warning>) {
    let name = spec.name.to_string();
    let mut warn = |rule: &'static str, keys: &[&str], message: String, why: &str, fix: String| {
        out.push(Warning {
            rule,
            location: o.at(keys),
            service: name.clone(),
            message,
            why: why.to_string(),
            fix,
        });
    };
    let update = spec.update_config.unwrap_or_default();
    let rollback = spec.rollback_config.unwrap_or_default();
    let task = &spec.task;
    let host_ports: Vec<u32> = spec
        .ports
        .iter()
        .filter(|p| p.mode == PublishMode::Host)
        .map(|p| p.published)
        .collect();
    const UC: &str = "update_config";
    const RC: &str = "rollback_config";

    // 1. Monitor shorter than the time a bad container takes to be
    // declared unhealthy.
    if let Some(hc) = task.healthcheck.as_ref().filter(|h| !h.disabled()) {
        let ttu = hc.start_period + hc.interval() * hc.retries();
        let monitor = update.monitor_period();
        if monitor < ttu {
            warn(
                "monitor-shorter-than-unhealthy",
                &["deploy", UC, "monitor"],
                format!(
                    "update monitor {} is shorter than the healthcheck's time to unhealthy {} (start_period {} + interval {} x retries {})",
                    d(monitor),
                    d(ttu),
                    d(hc.start_period),
                    d(hc.interval()),
                    hc.retries()
                ),
                "a new task that turns unhealthy after the monitor window is not counted as an update failure: the update completes with the bad image and failure_action never fires",
                format!("set deploy.update_config.monitor to at least {}", d(ttu)),
            );
        }
    }
    // 2. Delay >= monitor: the final watch becomes delay + 1s.
    for (cfg, key, set) in [
        (update, UC, spec.update_config.is_some()),
        (rollback, RC, spec.rollback_config.is_some()),
    ] {
        if set && !cfg.delay.is_zero() && cfg.delay >= cfg.monitor_period() {
            warn(
                "delay-not-below-monitor",
                &["deploy", key, "delay"],
                format!(
                    "{key}.delay {} is not below its monitor {}: after the last task the updater watches for delay+1s = {} instead",
                    d(cfg.delay),
                    d(cfg.monitor_period()),
                    d(cfg.delay + secs(1))
                ),
                "swarmkit replaces the final monitoring period by delay+1s when delay >= monitor, so the update reports completed later than the monitor suggests, and failures between tasks are watched only for the monitor",
                format!(
                    "set {key}.monitor above {} (e.g. {}) so that each task is watched as long as the delay",
                    d(cfg.delay),
                    d(cfg.delay + secs(1))
                ),
            );
        }
    }
    // 3. Automatic rollback whose rollback pauses or never finishes.
    if update.failure_action == FailureAction::Rollback {
        if rollback.failure_action == FailureAction::Pause {
            let keys: &[&str] = if spec.rollback_config.is_some() {
                &["deploy", RC, "failure_action"]
            } else {
                &["deploy", UC, "failure_action"]
            };
            warn(
                "rollback-may-pause",
                keys,
                format!(
                    "failure_action: rollback, but the rollback's own failure_action is pause{}",
                    if spec.rollback_config.is_none() { " (the default, no rollback_config)" } else { "" }
                ),
                "a failure during the rollback (a node lost, the old image failing to start) leaves the service rollback_paused with a mix of old and new tasks, and nothing resumes it",
                "set deploy.rollback_config.failure_action: continue (and a monitor) so that the rollback always finishes".to_string(),
            );
        }
        if rollback.order == UpdateOrder::StartFirst && !host_ports.is_empty() {
            warn(
                "rollback-never-finishes",
                &["deploy", RC, "order"],
                format!(
                    "the rollback is start-first and the service publishes host-mode port(s) {}",
                    join(&host_ports)
                ),
                "the rolled-back task cannot start on a node whose current task holds the port (HostPortFilter), so the rollback waits for a free node that may never come",
                "set deploy.rollback_config.order: stop-first".to_string(),
            );
        }
    }
    // 4. Start-first with host ports, or on a global service.
    for (cfg, key) in [(update, UC), (rollback, RC)] {
        if cfg.order != UpdateOrder::StartFirst {
            continue;
        }
        // (A start-first rollback of an automatic rollback has its own rule.)
        let own_rule = key == RC && update.failure_action == FailureAction::Rollback;
        if !host_ports.is_empty() && !own_rule {
            warn(
                "start-first-host-port",
                &["deploy", key, "order"],
                format!(
                    "{key}.order is start-first and the service publishes host-mode port(s) {}",
                    join(&host_ports)
                ),
                "a start-first task cannot land on the node of its predecessor, which still holds the port (HostPortFilter): it stays pending with `host-mode port already in use`, and with no spare node the update never finishes",
                format!("set {key}.order: stop-first, or publish the port in ingress mode"),
            );
        }
        if spec.mode == ServiceMode::Global {
            warn(
                "start-first-global",
                &["deploy", key, "order"],
                format!("{key}.order is start-first on a global service"),
                "a global service has exactly one task per node, so each new task must start beside the old one on the same node: twice the reservations per node, and with host ports or tight resources it cannot start at all",
                format!("use {key}.order: stop-first for global services"),
            );
        }
    }
    // 5. Parallelism 0 with stop-first: every task stops at once.
    for (cfg, key, set) in [
        (update, UC, spec.update_config.is_some()),
        (rollback, RC, spec.rollback_config.is_some()),
    ] {
        if set && cfg.parallelism == 0 && cfg.order == UpdateOrder::StopFirst {
            warn(
                "parallelism-zero-stop-first",
                &["deploy", key, "parallelism"],
                format!("{key}.parallelism is 0 with stop-first order"),
                "parallelism 0 updates every task at once, and stop-first stops them all before the new ones start: a full outage",
                format!(
                    "set {key}.parallelism to a number of tasks (e.g. 1), or order: start-first"
                ),
            );
        }
    }
    // 6. Fewer places than replicas.
    if let ServiceMode::Replicated { replicas } = spec.mode {
        let pl = &task.placement;
        let eligible = (0..cluster.store.state.nodes.len())
            .filter(|&n| {
                cluster.store.state.nodes[n].availability == Availability::Active
                    && cluster.store.node_satisfies_constraints(n, &pl.constraints)
            })
            .count() as u64;
        let places = if pl.max_replicas > 0 {
            Some(eligible * pl.max_replicas)
        } else if eligible == 0 {
            Some(0)
        } else {
            None
        };
        if let Some(places) = places.filter(|&p| p < replicas) {
            let keys: &[&str] = if pl.max_replicas > 0 {
                &["deploy", "placement", "max_replicas_per_node"]
            } else {
                &["deploy", "placement", "constraints"]
            };
            warn(
                "not-enough-places",
                keys,
                format!(
                    "{replicas} replicas but only {places} place(s): {eligible} node(s) pass the constraints{}",
                    if pl.max_replicas > 0 {
                        format!(", at most {} per node", pl.max_replicas)
                    } else {
                        String::new()
                    }
                ),
                "the tasks that find no node stay pending (`no suitable node`), and an update that replaces a task waits for a place too",
                "relax the constraints, raise max_replicas_per_node, add nodes, or lower replicas"
                    .to_string(),
            );
        }
    }
    // 7. Restart condition none with failure_action pause.
    let restart = task.restart_policy();
    if restart.condition == RestartCondition::None && update.failure_action == FailureAction::Pause
    {
        warn(
            "restart-none-pause",
            &["deploy", "restart_policy", "condition"],
            "restart_policy.condition is none and update failure_action is pause".to_string(),
            "a new task that fails is never replaced and the update pauses: the slot stays empty until someone runs `docker service update` or a rollback by hand",
            "set failure_action: rollback, or restart_policy.condition: on-failure".to_string(),
        );
    }
}

fn join(ports: &[u32]) -> String {
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report: all warnings.
pub fn render(warnings: &[Warning]) -> String {
    let mut out = String::new();
    for w in warnings {
        out.push_str(&w.render());
    }
    let _ = writeln!(
        out,
        "{} warning{}",
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    );
    out
}

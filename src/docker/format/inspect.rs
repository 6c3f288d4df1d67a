//! `docker service inspect --pretty` (docker/cli
//! `cli/command/service/formatter.go`, `serviceInspectPrettyTemplate`).
//!
//! The service is fetched with defaults inserted (`runInspect`), so the
//! update and rollback configs are always shown, with the monitor period 5s
//! when unset; the template is not run through a tabwriter, so the tabs are
//! literal. Each rendering ends with the template's final newline plus the
//! newline the formatter appends after every element.

use std::fmt::Write as _;

use crate::docker::duration::{format_go_duration, human_duration};
use crate::docker::format::text::{bytes_size, go_float32, go_float64};
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::container::ContainerExtras;
use crate::swarm::model::{
    Healthcheck, PublishMode, Resources, ServiceId, ServiceMode, UpdateConfig, UpdateState,
};
use crate::swarm::store::ClusterState;

/// Renders one service; an unknown id renders nothing.
pub fn inspect_pretty(state: &ClusterState, service: ServiceId, now: SimTime) -> String {
    let Some(svc) = state.services.get(service) else {
        return String::new();
    };
    let spec = &svc.spec;
    let task = &spec.task;
    let mut o = String::new();
    let _ = write!(o, "\nID:\t\t{}\nName:\t\t{}", svc.id, spec.name);
    if !spec.labels.is_empty() {
        o.push_str("\nLabels:");
        for (k, v) in &spec.labels {
            let _ = write!(o, "\n {k}");
            if !v.is_empty() {
                let _ = write!(o, "={v}");
            }
        }
    }
    o.push_str("\nService Mode:");
    match spec.mode {
        ServiceMode::Global => o.push_str("\tGlobal"),
        ServiceMode::Replicated { replicas } => {
            let _ = write!(o, "\tReplicated\n Replicas:\t{replicas}");
        }
    }
    if let Some(us) = &svc.update_status {
        let _ = write!(o, "\nUpdateStatus:\n State:\t\t{}", us.state.as_str());
        if let Some(started) = us.started_at {
            let _ = write!(o, "\n Started:\t{}", ago(now, started));
        }
        if let (UpdateState::Completed, Some(done)) = (us.state, us.completed_at) {
            let _ = write!(o, "\n Completed:\t{}", ago(now, done));
        }
        let _ = write!(o, "\n Message:\t{}", us.message);
    }
    o.push_str("\nPlacement:");
    let placement = &task.placement;
    if !placement.constraints.is_empty() {
        let _ = write!(o, "\n Constraints:\t[{}]", placement.constraints.join(" "));
    }
    if !placement.preferences.is_empty() {
        let prefs: Vec<String> = placement
            .preferences
            .iter()
            .map(|p| format!("spread={}", p.spread))
            .collect();
        let _ = write!(o, "\n Preferences:   [{}]", prefs.join(" "));
    }
    if placement.max_replicas > 0 {
        let _ = write!(o, "\n Max Replicas Per Node:   {}", placement.max_replicas);
    }
    update_config(
        &mut o,
        "UpdateConfig",
        "Update order:      ",
        spec.update_config,
    );
    update_config(
        &mut o,
        "RollbackConfig",
        "Rollback order:    ",
        spec.rollback_config,
    );
    let _ = write!(o, "\nContainerSpec:\n Image:\t\t{}", task.image);
    if !task.args.is_empty() {
        o.push_str("\n Args:\t\t");
        for a in &task.args {
            let _ = write!(o, "{a} ");
        }
    }
    if !task.env.is_empty() {
        o.push_str("\n Env:\t\t");
        for e in &task.env {
            let _ = write!(o, "{e} ");
        }
    }
    let c = &task.container;
    if !c.dir.is_empty() {
        let _ = write!(o, "\n Dir:\t\t{}", c.dir);
    }
    if let Some(init) = task.init {
        let _ = write!(o, "\n Init:\t\t{init}");
    }
    container(&mut o, c);
    resources(&mut o, &task.resources);
    if !c.networks.is_empty() {
        o.push_str("\nNetworks:");
        for n in &c.networks {
            let _ = write!(o, " {}", n.target);
        }
        o.push(' ');
    }
    let mode = if spec.endpoint_mode.is_empty() {
        "vip"
    } else {
        &spec.endpoint_mode[..]
    };
    let _ = write!(o, "\nEndpoint Mode:\t{mode}");
    if !spec.ports.is_empty() {
        o.push_str("\nPorts:");
        for p in &spec.ports {
            let mode = match p.mode {
                PublishMode::Ingress => "ingress",
                PublishMode::Host => "host",
            };
            let _ = write!(
                o,
                "\n PublishedPort = {}\n  Protocol = {}\n  TargetPort = {}\n  PublishMode = {mode}",
                p.published, p.protocol, p.target
            );
        }
        o.push(' ');
    }
    if let Some(hc) = &task.healthcheck {
        healthcheck(&mut o, hc);
    }
    o.push_str("\n\n");
    o
}

/// Renders several services, one after the other.
pub fn inspect_pretty_many(state: &ClusterState, services: &[ServiceId], now: SimTime) -> String {
    services
        .iter()
        .map(|&s| inspect_pretty(state, s, now))
        .collect()
}

/// `HumanDuration(now - t) + " ago"`, not lower-cased.
fn ago(now: SimTime, t: SimTime) -> String {
    format!("{} ago", human_duration(now.saturating_duration_since(t)))
}

fn update_config(o: &mut String, title: &str, order_label: &str, cfg: Option<UpdateConfig>) {
    let cfg = cfg.unwrap_or_default();
    let _ = write!(o, "\n{title}:\n Parallelism:\t{}", cfg.parallelism);
    if !cfg.delay.is_zero() {
        let _ = write!(o, "\n Delay:\t\t{}", go_duration(cfg.delay));
    }
    let _ = write!(o, "\n On failure:\t{}", cfg.failure_action.as_str());
    let _ = write!(
        o,
        "\n Monitoring Period: {}",
        go_duration(cfg.monitor_period())
    );
    let _ = write!(
        o,
        "\n Max failure ratio: {}\n {order_label}{}",
        go_float32(cfg.max_failure_ratio),
        cfg.order.as_str()
    );
}

/// The template's User, Capabilities, SysCtls, Ulimits, Mounts, Configs,
/// Secrets and Log Driver sections, in its order.
fn container(o: &mut String, c: &ContainerExtras) {
    if !c.user.is_empty() {
        let _ = write!(o, "\n User: {}", c.user);
    }
    if !c.cap_add.is_empty() || !c.cap_drop.is_empty() {
        o.push_str("\nCapabilities:");
        if !c.cap_add.is_empty() {
            let _ = write!(o, "\n Add: {}", c.cap_add.join(", "));
        }
        if !c.cap_drop.is_empty() {
            let _ = write!(o, "\n Drop: {}", c.cap_drop.join(", "));
        }
    }
    if !c.sysctls.is_empty() {
        o.push_str("\nSysCtls:");
        for (k, v) in &c.sysctls {
            let _ = write!(o, "\n {k}");
            if !v.is_empty() {
                let _ = write!(o, ": {v}");
            }
        }
    }
    if !c.ulimits.is_empty() {
        o.push_str("\nUlimits:");
        for (k, (soft, hard)) in &c.ulimits {
            let _ = write!(o, "\n {k}: {soft}:{hard}");
        }
    }
    if !c.mounts.is_empty() {
        o.push_str("\nMounts:");
    }
    for m in &c.mounts {
        let _ = write!(
            o,
            "\n Target:\t{}\n  Source:\t{}\n  ReadOnly:\t{}\n  Type:\t\t{}",
            m.target, m.source, m.read_only, m.kind
        );
    }
    for (title, refs) in [("Configs", &c.configs), ("Secrets", &c.secrets)] {
        if refs.is_empty() {
            continue;
        }
        let _ = write!(o, "\n{title}:");
        for r in refs {
            let _ = write!(o, "\n Target:\t{}\n  Source:\t{}", r.target, r.source);
        }
    }
    if !c.log_driver.is_empty() {
        let _ = write!(o, "\nLog Driver:\n Name:\t\t{}", c.log_driver);
        if !c.log_opts.is_empty() {
            o.push_str("\n LogOpts:");
            for (k, v) in &c.log_opts {
                let _ = write!(o, "\n  {k}");
                if !v.is_empty() {
                    let _ = write!(o, ":       {v}");
                }
            }
        }
        // The template's `{{ end }}` keeps the newline before it.
        o.push('\n');
    }
}

fn resources(o: &mut String, r: &Resources) {
    o.push_str("\nResources:");
    let cores = |nano: i64| go_float64(nano as f64 / 1e9);
    if r.reserve_nano_cpus > 0 || r.reserve_memory > 0 {
        o.push_str("\n Reservations:");
        if r.reserve_nano_cpus > 0 {
            let _ = write!(o, "\n  CPU:\t\t{}", cores(r.reserve_nano_cpus));
        }
        if r.reserve_memory > 0 {
            let _ = write!(o, "\n  Memory:\t{}", bytes_size(r.reserve_memory as f64));
        }
    }
    if r.limit_nano_cpus > 0 || r.limit_memory > 0 || r.limit_pids > 0 {
        o.push_str("\n Limits:");
        if r.limit_nano_cpus > 0 {
            let _ = write!(o, "\n  CPU:\t\t{}", cores(r.limit_nano_cpus));
        }
        if r.limit_memory > 0 {
            let _ = write!(o, "\n  Memory:\t{}", bytes_size(r.limit_memory as f64));
        }
    }
    if r.limit_pids > 0 {
        let _ = write!(o, "\n  PIDs:\t\t{}", r.limit_pids);
    }
}

/// The stored healthcheck as is (zero fields print as `0s` / `0`: the
/// engine's defaults are applied at run time, not in the spec).
fn healthcheck(o: &mut String, hc: &Healthcheck) {
    let _ = write!(
        o,
        "\n Healthcheck:\n  Interval = {}\n  Retries = {}\n  StartPeriod =\t{}\n  Timeout =\t{}",
        go_duration(hc.interval),
        hc.retries,
        go_duration(hc.start_period),
        go_duration(hc.timeout)
    );
    if !hc.test.is_empty() {
        o.push_str("\n  Tests:");
        for t in &hc.test {
            let _ = write!(o, "\n\t Test = {t}");
        }
        o.push(' ');
    }
}

fn go_duration(d: SimDuration) -> String {
    format_go_duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::format::fixtures::{service, spec};
    use crate::sim::time::{millis, secs};
    use crate::swarm::model::{
        FailureAction, PortConfig, SpreadPreference, TaskSpec, UpdateOrder, UpdateStatus,
    };
    use std::rc::Rc;

    fn with_task(sp: &mut crate::swarm::model::ServiceSpec, f: impl FnOnce(&mut TaskSpec)) {
        let mut t = (*sp.task).clone();
        f(&mut t);
        sp.task = Rc::new(t);
    }

    /// A paused update of a CLI-created service with `--update-delay 10s`,
    /// rendered as docker/cli's template renders it
    /// (`docs/swarm-rules.md#docker-cli-inspect-pretty`).
    #[test]
    fn reference_paused_update() {
        let mut st = ClusterState::default();
        let mut sp = spec("web", "nginx:1.25@sha256:abc", Some(3));
        with_task(&mut sp, |t| {
            t.placement.constraints = vec!["node.role==worker".into()]
        });
        sp.update_config = Some(UpdateConfig {
            delay: secs(10),
            ..UpdateConfig::default()
        });
        let web = service(&mut st, "k1ma2lfk1u2m0xq3m9ykz1s4p", sp);
        st.services[web].update_status = Some(UpdateStatus {
            state: UpdateState::Paused,
            started_at: Some(SimTime::at(secs(10))),
            completed_at: None,
            message: "update paused due to failure or early termination of task abc".into(),
        });
        let got = inspect_pretty(&st, web, SimTime::at(secs(100)));
        let want = "
ID:\t\tk1ma2lfk1u2m0xq3m9ykz1s4p
Name:\t\tweb
Service Mode:\tReplicated
 Replicas:\t3
UpdateStatus:
 State:\t\tpaused
 Started:\tAbout a minute ago
 Message:\tupdate paused due to failure or early termination of task abc
Placement:
 Constraints:\t[node.role==worker]
UpdateConfig:
 Parallelism:\t1
 Delay:\t\t10s
 On failure:\tpause
 Monitoring Period: 5s
 Max failure ratio: 0
 Update order:      stop-first
RollbackConfig:
 Parallelism:\t1
 On failure:\tpause
 Monitoring Period: 5s
 Max failure ratio: 0
 Rollback order:    stop-first
ContainerSpec:
 Image:\t\tnginx:1.25@sha256:abc
 Init:\t\tfalse
Resources:
Endpoint Mode:\tvip

";
        assert_eq!(got, want);
    }

    #[test]
    fn everything_set() {
        let mut st = ClusterState::default();
        let mut sp = spec("api", "redis:7", Some(2));
        sp.labels.insert("tier".into(), "back".into());
        sp.labels.insert("canary".into(), String::new());
        with_task(&mut sp, |t| {
            t.args = vec!["--appendonly".into(), "yes".into()];
            t.env = vec!["A=1".into(), "B=2".into()];
            t.placement.constraints =
                vec!["node.role==worker".into(), "node.labels.ssd==true".into()];
            t.placement.preferences = vec![SpreadPreference {
                spread: "node.labels.zone".into(),
            }];
            t.placement.max_replicas = 2;
            t.resources = Resources {
                reserve_nano_cpus: 500_000_000,
                reserve_memory: 512 << 20,
                limit_nano_cpus: 2_000_000_000,
                limit_memory: 1536 << 20,
                limit_pids: 100,
            };
            t.healthcheck = Some(Healthcheck {
                test: vec!["CMD-SHELL".into(), "redis-cli ping".into()],
                interval: secs(2),
                timeout: millis(1500),
                retries: 5,
                start_period: SimDuration::ZERO,
                start_interval: SimDuration::ZERO,
            });
        });
        sp.update_config = Some(UpdateConfig {
            parallelism: 2,
            delay: secs(90),
            failure_action: FailureAction::Rollback,
            monitor: secs(30),
            max_failure_ratio: 0.25,
            order: UpdateOrder::StartFirst,
        });
        sp.rollback_config = Some(UpdateConfig {
            parallelism: 0,
            max_failure_ratio: 1.0 / 3.0,
            failure_action: FailureAction::Continue,
            ..UpdateConfig::default()
        });
        sp.ports = vec![
            PortConfig {
                protocol: "tcp".into(),
                target: 6379,
                published: 6379,
                mode: PublishMode::Ingress,
            },
            PortConfig {
                protocol: "udp".into(),
                target: 53,
                published: 5353,
                mode: PublishMode::Host,
            },
        ];
        sp.endpoint_mode = "dnsrr".into();
        let api = service(&mut st, "apiaaaaaaaaaaaaaaaaaaaaaa", sp);
        st.services[api].update_status = Some(UpdateStatus {
            state: UpdateState::Completed,
            started_at: Some(SimTime::ZERO),
            completed_at: Some(SimTime::at(secs(3 * 3600))),
            message: "update completed".into(),
        });
        let got = inspect_pretty(&st, api, SimTime::at(secs(3 * 3600 + 5)));
        let want = "
ID:\t\tapiaaaaaaaaaaaaaaaaaaaaaa
Name:\t\tapi
Labels:
 canary
 tier=back
Service Mode:\tReplicated
 Replicas:\t2
UpdateStatus:
 State:\t\tcompleted
 Started:\t3 hours ago
 Completed:\t5 seconds ago
 Message:\tupdate completed
Placement:
 Constraints:\t[node.role==worker node.labels.ssd==true]
 Preferences:   [spread=node.labels.zone]
 Max Replicas Per Node:   2
UpdateConfig:
 Parallelism:\t2
 Delay:\t\t1m30s
 On failure:\trollback
 Monitoring Period: 30s
 Max failure ratio: 0.25
 Update order:      start-first
RollbackConfig:
 Parallelism:\t0
 On failure:\tcontinue
 Monitoring Period: 5s
 Max failure ratio: 0.33333334
 Rollback order:    stop-first
ContainerSpec:
 Image:\t\tredis:7
 Args:\t\t--appendonly yes 
 Env:\t\tA=1 B=2 
 Init:\t\tfalse
Resources:
 Reservations:
  CPU:\t\t0.5
  Memory:\t512MiB
 Limits:
  CPU:\t\t2
  Memory:\t1.5GiB
  PIDs:\t\t100
Endpoint Mode:\tdnsrr
Ports:
 PublishedPort = 6379
  Protocol = tcp
  TargetPort = 6379
  PublishMode = ingress
 PublishedPort = 5353
  Protocol = udp
  TargetPort = 53
  PublishMode = host 
 Healthcheck:
  Interval = 2s
  Retries = 5
  StartPeriod =\t0s
  Timeout =\t1.5s
  Tests:
\t Test = CMD-SHELL
\t Test = redis-cli ping 

";
        assert_eq!(got, want);
    }

    #[test]
    fn global_rollback_status_and_several_services() {
        let mut st = ClusterState::default();
        let mut sp = spec("agent", "busybox:1.36", None);
        with_task(&mut sp, |t| t.init = None);
        let g = service(&mut st, "gaaaaaaaaaaaaaaaaaaaaaaaa", sp);
        st.services[g].update_status = Some(UpdateStatus {
            state: UpdateState::RollbackCompleted,
            started_at: Some(SimTime::ZERO),
            completed_at: Some(SimTime::at(secs(1))),
            message: "rollback completed".into(),
        });
        let one = "
ID:\t\tgaaaaaaaaaaaaaaaaaaaaaaaa
Name:\t\tagent
Service Mode:\tGlobal
UpdateStatus:
 State:\t\trollback_completed
 Started:\tLess than a second ago
 Message:\trollback completed
Placement:
UpdateConfig:
 Parallelism:\t1
 On failure:\tpause
 Monitoring Period: 5s
 Max failure ratio: 0
 Update order:      stop-first
RollbackConfig:
 Parallelism:\t1
 On failure:\tpause
 Monitoring Period: 5s
 Max failure ratio: 0
 Rollback order:    stop-first
ContainerSpec:
 Image:\t\tbusybox:1.36
Resources:
Endpoint Mode:\tvip

";
        assert_eq!(inspect_pretty(&st, g, SimTime::at(millis(900))), one);
        assert_eq!(
            inspect_pretty_many(&st, &[g, g], SimTime::at(millis(900))),
            format!("{one}{one}")
        );
        assert_eq!(inspect_pretty(&st, 7, SimTime::ZERO), "");
    }
}

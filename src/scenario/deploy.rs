//! `services:` — Compose `deploy:` keys converted the way `docker stack
//! deploy` converts them (docker/cli `cli/compose/convert/service.go`),
//! and the `update:` timeline form, which maps the same keys onto
//! `docker service update` flags and builds their typed form directly.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_yaml::Value;

use super::load::{cpus, memory, one_of, string_map};
use super::yaml::{Map, Node, R, index_path};
use crate::docker::cli::values::{parse_port, validate_constraint, validate_env, validate_label};
use crate::docker::cli::{
    ConfigFlags, ConfigKey, ConfigSetting, HealthFlags, RestartFlags, UpdateArgs,
};
use crate::swarm::model::{
    FailureAction, Healthcheck, Placement, PortConfig, PublishMode, Resources, RestartCondition,
    RestartPolicy, ServiceMode, ServiceSpec, SpreadPreference, TaskSpec, UpdateConfig, UpdateOrder,
};

const SERVICE_KEYS: &[&str] = &[
    "image",
    "deploy",
    "healthcheck",
    "environment",
    "stop_grace_period",
    "ports",
    "restart",
    "command",
    "init",
];
/// Compose service keys that do not change what a rolling update does
/// (networks, volumes, logging, ...): a stack file may have them; they
/// are listed once as ignored.
pub const COMPOSE_IGNORED_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "hostname",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];
/// The keys of a service's `deploy:` block.
pub(crate) const DEPLOY_KEYS: &[&str] = &[
    "mode",
    "replicas",
    "update_config",
    "rollback_config",
    "restart_policy",
    "placement",
    "resources",
    "labels",
    "endpoint_mode",
];
const RESTART_KEYS: &[&str] = &["condition", "delay", "max_attempts", "window"];
const PLACEMENT_KEYS: &[&str] = &["constraints", "preferences", "max_replicas_per_node"];
const HEALTH_KEYS: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];

fn child<'a>(m: &Map<'a>, key: &str) -> Option<(Vec<super::yaml::Seg>, &'a Value)> {
    m.get(key).map(|v| (m.child_path(key), v))
}

/// `services:` in file order.
pub fn services(n: Node) -> R<Vec<ServiceSpec>> {
    services_with(n, None)
}

/// `services:` of a scenario (`ignored` is `None`: every key must be
/// known) or of a Compose file (keys of [`COMPOSE_IGNORED_KEYS`] and `x-`
/// extensions are accepted and pushed to `ignored` as `(key, service)`).
pub fn services_with(
    n: Node,
    mut ignored: Option<&mut Vec<(String, String)>>,
) -> R<Vec<ServiceSpec>> {
    let m = n.map()?;
    let mut out = Vec::new();
    for (name, v) in &m.entries {
        if name.trim().is_empty() {
            return Err(m.key_error(name, "a service name must not be empty"));
        }
        // swarmkit's rule for service names (docs/limits.md).
        if let Err(e) = crate::limits::check_service_name(name) {
            return Err(m.key_error(name, format!("service name: {e}")));
        }
        let path = m.child_path(name);
        out.push(service(name, Node::new(v, &path), ignored.as_deref_mut())?);
    }
    Ok(out)
}

fn service(name: &str, n: Node, ignored: Option<&mut Vec<(String, String)>>) -> R<ServiceSpec> {
    let m = n.map()?;
    match ignored {
        None => m.check_keys(SERVICE_KEYS)?,
        Some(list) => {
            let all: Vec<&str> = SERVICE_KEYS
                .iter()
                .chain(COMPOSE_IGNORED_KEYS)
                .copied()
                .collect();
            for (k, _) in &m.entries {
                if k.starts_with("x-") {
                    continue;
                }
                if COMPOSE_IGNORED_KEYS.contains(&k.as_str()) {
                    list.push((k.clone(), name.to_string()));
                }
            }
            let entries: Vec<_> = m
                .entries
                .iter()
                .filter(|(k, _)| !k.starts_with("x-"))
                .cloned()
                .collect();
            Map {
                entries,
                path: m.path,
            }
            .check_keys(&all)?;
        }
    }
    let Some((ip, iv)) = child(&m, "image") else {
        return m.missing("image", "every service needs an image");
    };
    let image = Node::new(iv, &ip).scalar_text()?;
    let mut task = TaskSpec {
        image,
        ..TaskSpec::default()
    };
    let mut spec = ServiceSpec {
        name: name.into(),
        labels: BTreeMap::new(),
        mode: ServiceMode::Replicated { replicas: 1 },
        update_config: None,
        rollback_config: None,
        task: Rc::new(TaskSpec::default()),
        ports: Vec::new(),
        endpoint_mode: "vip".into(),
    };
    if let Some((p, v)) = child(&m, "environment") {
        task.env = string_map(Node::new(v, &p))?
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
    }
    if let Some((p, v)) = child(&m, "stop_grace_period") {
        task.stop_grace_period = Some(Node::new(v, &p).duration()?);
    }
    if let Some((p, v)) = child(&m, "healthcheck") {
        task.healthcheck = Some(healthcheck(Node::new(v, &p))?);
    }
    if let Some((p, v)) = child(&m, "command") {
        let cn = Node::new(v, &p);
        task.args = match v {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, it)| Node::new(it, &index_path(&p, i)).scalar_text())
                .collect::<R<Vec<_>>>()?,
            _ => cn
                .scalar_text()?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        };
    }
    if let Some((p, v)) = child(&m, "init") {
        task.init = Some(Node::new(v, &p).bool()?);
    }
    if let Some((p, v)) = child(&m, "restart") {
        // `convertRestartPolicy`: used only when deploy.restart_policy is
        // absent (applied below, before `deploy`, which overrides it).
        task.restart_policy = restart_key(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "ports") {
        spec.ports = ports(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "deploy") {
        deploy(Node::new(v, &p), &mut spec, &mut task)?;
    }
    spec.task = Rc::new(task);
    Ok(spec)
}

fn deploy(n: Node, spec: &mut ServiceSpec, task: &mut TaskSpec) -> R<()> {
    let m = n.map()?;
    m.check_keys(DEPLOY_KEYS)?;
    let replicas = match child(&m, "replicas") {
        Some((p, v)) => {
            let r = Node::new(v, &p).u64()?;
            if let Some(e) = crate::limits::replicas_error(r) {
                return Node::new(v, &p).fail(e);
            }
            Some(r)
        }
        None => None,
    };
    spec.mode = match child(&m, "mode") {
        None => ServiceMode::Replicated {
            replicas: replicas.unwrap_or(1),
        },
        Some((p, v)) => {
            let mn = Node::new(v, &p);
            match mn.str()? {
                "replicated" => ServiceMode::Replicated {
                    replicas: replicas.unwrap_or(1),
                },
                "global" => {
                    if replicas.is_some() {
                        return mn.fail(
                            "replicas can only be used with replicated or replicated-job mode",
                        );
                    }
                    ServiceMode::Global
                }
                "replicated-job" | "global-job" => {
                    return mn.fail("job modes are not supported by swarmsim");
                }
                other => return mn.fail(one_of("mode", other, &["replicated", "global"])),
            }
        }
    };
    if let Some((p, v)) = child(&m, "update_config") {
        spec.update_config = Some(update_config(Node::new(v, &p), true)?);
    }
    if let Some((p, v)) = child(&m, "rollback_config") {
        spec.rollback_config = Some(update_config(Node::new(v, &p), false)?);
    }
    if let Some((p, v)) = child(&m, "restart_policy") {
        task.restart_policy = Some(restart_policy(Node::new(v, &p))?);
    }
    if let Some((p, v)) = child(&m, "placement") {
        task.placement = placement(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "resources") {
        task.resources = resources(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "labels") {
        spec.labels = string_map(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "endpoint_mode") {
        let en = Node::new(v, &p);
        let s = en.str()?;
        if !matches!(s, "vip" | "dnsrr") {
            return en.fail(one_of("endpoint_mode", s, &["vip", "dnsrr"]));
        }
        spec.endpoint_mode = crate::swarm::model::endpoint_mode(s);
    }
    Ok(())
}

/// The service-level `restart:` key (docker/cli `convertRestartPolicy`):
/// `no` ⇒ unset (Swarm's default), `always` / `unless-stopped` ⇒ any,
/// `on-failure[:N]` ⇒ on-failure with N attempts.
fn restart_key(n: Node) -> R<Option<RestartPolicy>> {
    let s = n.scalar_text()?;
    let any = RestartPolicy {
        condition: RestartCondition::Any,
        ..RestartPolicy::default()
    };
    match s.as_str() {
        "no" | "false" => Ok(None),
        "always" | "unless-stopped" => Ok(Some(any)),
        other => {
            let Some(rest) = other.strip_prefix("on-failure") else {
                return n.fail(one_of(
                    "restart",
                    other,
                    &["no", "always", "on-failure", "unless-stopped"],
                ));
            };
            let max_attempts = match rest.strip_prefix(':') {
                Some(num) => num.parse::<u64>().map_err(|_| {
                    n.error(format!("invalid restart policy: maximum retry count `{num}` must be a non-negative integer"))
                })?,
                None if rest.is_empty() => 0,
                None => return n.fail(format!("invalid restart policy `{other}`")),
            };
            Ok(Some(RestartPolicy {
                condition: RestartCondition::OnFailure,
                max_attempts,
                ..RestartPolicy::default()
            }))
        }
    }
}

const PORT_KEYS: &[&str] = &[
    "target",
    "published",
    "protocol",
    "mode",
    "host_ip",
    "name",
    "app_protocol",
];

/// `ports:`: short syntax strings (`"8080:80"`, `"80"`, `"9000-9001:80-81/udp"`,
/// published in ingress mode) or the long syntax
/// `{target, published, protocol, mode: host|ingress}`.
fn ports(n: Node) -> R<Vec<PortConfig>> {
    let mut out = Vec::new();
    for (i, item) in n.seq()?.iter().enumerate() {
        let p = index_path(n.path, i);
        let pn = Node::new(item, &p);
        if !matches!(item, Value::Mapping(_)) {
            let text = pn.scalar_text()?;
            if text.matches(':').count() > 1 {
                return pn.fail(format!(
                    "port `{text}`: host IPs are not supported by swarmsim (swarm mode ignores them)"
                ));
            }
            out.extend(
                parse_port(&text).map_err(|e| pn.error(format!("invalid port `{text}`: {e}")))?,
            );
            continue;
        }
        let m = pn.map()?;
        m.check_keys(PORT_KEYS)?;
        let number = |k: &str| -> R<Option<u32>> {
            let Some((kp, kv)) = child(&m, k) else {
                return Ok(None);
            };
            let kn = Node::new(kv, &kp);
            let text = kn.scalar_text()?;
            match text.parse::<u32>() {
                Ok(v) if (1..=65535).contains(&v) => Ok(Some(v)),
                _ => kn.fail(format!(
                    "`{k}` must be a port number between 1 and 65535, found {}",
                    kn.display()
                )),
            }
        };
        let Some(target) = number("target")? else {
            return m.missing("target", "the container port, e.g. `target: 80`");
        };
        let published = number("published")?.unwrap_or(0);
        let protocol = match child(&m, "protocol") {
            Some((kp, kv)) => {
                let kn = Node::new(kv, &kp);
                let s = kn.str()?;
                if !matches!(s, "tcp" | "udp" | "sctp") {
                    return kn.fail(one_of("protocol", s, &["tcp", "udp", "sctp"]));
                }
                s.to_string()
            }
            None => "tcp".to_string(),
        };
        let mode = match child(&m, "mode") {
            Some((kp, kv)) => {
                let kn = Node::new(kv, &kp);
                match kn.str()? {
                    "host" => PublishMode::Host,
                    "ingress" => PublishMode::Ingress,
                    other => return kn.fail(one_of("publish mode", other, &["host", "ingress"])),
                }
            }
            None => PublishMode::Ingress,
        };
        out.push(PortConfig {
            protocol,
            target,
            published,
            mode,
        });
    }
    Ok(out)
}

fn failure_action(n: Node) -> R<FailureAction> {
    let s = n.str()?;
    FailureAction::parse(s).ok_or_else(|| {
        n.error(one_of(
            "failure_action",
            s,
            &["pause", "continue", "rollback"],
        ))
    })
}

fn order(n: Node) -> R<UpdateOrder> {
    let s = n.str()?;
    UpdateOrder::parse(s).ok_or_else(|| n.error(one_of("order", s, &["stop-first", "start-first"])))
}

fn ratio(n: Node, is_update: bool) -> R<f32> {
    let r = n.f64()?;
    if is_update && !(0.0..=1.0).contains(&r) {
        return n.fail(
            "`max_failure_ratio` must be between 0 and 1 (TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1)",
        );
    }
    Ok(r as f32)
}

/// One setting of `update_config:` / `rollback_config:` (also of an
/// `update:` item).
fn config_setting(key: ConfigKey, n: Node, is_update: bool) -> R<ConfigSetting> {
    Ok(match key {
        ConfigKey::Parallelism => ConfigSetting::Parallelism(n.u64()?),
        ConfigKey::Delay => ConfigSetting::Delay(n.duration()?),
        ConfigKey::Monitor => ConfigSetting::Monitor(n.duration()?),
        ConfigKey::FailureAction => ConfigSetting::FailureAction(failure_action(n)?),
        ConfigKey::MaxFailureRatio => ConfigSetting::MaxFailureRatio(ratio(n, is_update)?),
        ConfigKey::Order => ConfigSetting::Order(order(n)?),
    })
}

/// `convertUpdateConfig`: parallelism absent ⇒ 1; delay and monitor
/// absent ⇒ 0 (a monitor of 0 means Swarm's 5 s); failure action and
/// order absent ⇒ pause and stop-first — Swarm's defaults
/// (`UpdateConfig::default()`), with the given settings laid on top.
fn update_config(n: Node, is_update: bool) -> R<UpdateConfig> {
    let m = n.map()?;
    m.check_keys(&ConfigKey::KEYS)?;
    let mut flags = ConfigFlags::default();
    for key in ConfigKey::ALL {
        if let Some((p, v)) = child(&m, key.key()) {
            flags.set(config_setting(key, Node::new(v, &p), is_update)?);
        }
    }
    let mut c = UpdateConfig::default();
    flags.apply_to(&mut c);
    Ok(c)
}

fn restart_condition(n: Node) -> R<RestartCondition> {
    let s = n.str()?;
    RestartCondition::parse(s)
        .ok_or_else(|| n.error(one_of("condition", s, &["none", "on-failure", "any"])))
}

/// One setting of `restart_policy:` (also of an `update:` item).
fn restart_setting(flags: &mut RestartFlags, key: &str, n: Node) -> R<()> {
    match key {
        "condition" => flags.condition = Some(restart_condition(n)?),
        "max_attempts" => flags.max_attempts = Some(n.u64()?),
        "delay" => flags.delay = Some(n.duration()?),
        _ => flags.window = Some(n.duration()?),
    }
    Ok(())
}

/// `convertRestartPolicy`: condition absent ⇒ any; delay absent ⇒ unset
/// (Swarm's 5 s); max attempts absent ⇒ unlimited; window absent ⇒ 0.
fn restart_policy(n: Node) -> R<RestartPolicy> {
    let m = n.map()?;
    m.check_keys(RESTART_KEYS)?;
    let mut flags = RestartFlags::default();
    for key in RESTART_KEYS {
        if let Some((p, v)) = child(&m, key) {
            restart_setting(&mut flags, key, Node::new(v, &p))?;
        }
    }
    let mut r = RestartPolicy::default();
    flags.apply_to(&mut r);
    Ok(r)
}

fn constraint_list(n: Node) -> R<Vec<String>> {
    let items = n.seq()?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = index_path(n.path, i);
        let cn = Node::new(item, &p);
        let c = cn.str()?;
        validate_constraint(c).map_err(|e| cn.error(e.0))?;
        out.push(c.to_string());
    }
    Ok(out)
}

fn placement(n: Node) -> R<Placement> {
    let m = n.map()?;
    m.check_keys(PLACEMENT_KEYS)?;
    let mut pl = Placement::default();
    if let Some((p, v)) = child(&m, "constraints") {
        pl.constraints = constraint_list(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "preferences") {
        let pn = Node::new(v, &p);
        for (i, item) in pn.seq()?.iter().enumerate() {
            let ip = index_path(&p, i);
            let im = Node::new(item, &ip).map()?;
            im.check_keys(&["spread"])?;
            let Some((sp, sv)) = child(&im, "spread") else {
                return im.missing("spread", "a preference is `{spread: node.labels.NAME}`");
            };
            pl.preferences.push(SpreadPreference {
                spread: Node::new(sv, &sp).str()?.to_string(),
            });
        }
    }
    if let Some((p, v)) = child(&m, "max_replicas_per_node") {
        pl.max_replicas = Node::new(v, &p).u64()?;
    }
    Ok(pl)
}

fn resources(n: Node) -> R<Resources> {
    let m = n.map()?;
    m.check_keys(&["reservations", "limits"])?;
    let mut r = Resources::default();
    if let Some((p, v)) = child(&m, "reservations") {
        let rm = Node::new(v, &p).map()?;
        rm.check_keys(&["cpus", "memory"])?;
        if let Some((p, v)) = child(&rm, "cpus") {
            r.reserve_nano_cpus = cpus(Node::new(v, &p))?;
        }
        if let Some((p, v)) = child(&rm, "memory") {
            r.reserve_memory = memory(Node::new(v, &p))?;
        }
    }
    if let Some((p, v)) = child(&m, "limits") {
        let lm = Node::new(v, &p).map()?;
        lm.check_keys(&["cpus", "memory", "pids"])?;
        if let Some((p, v)) = child(&lm, "cpus") {
            r.limit_nano_cpus = cpus(Node::new(v, &p))?;
        }
        if let Some((p, v)) = child(&lm, "memory") {
            r.limit_memory = memory(Node::new(v, &p))?;
        }
        if let Some((p, v)) = child(&lm, "pids") {
            r.limit_pids = Node::new(v, &p).i64()?;
        }
    }
    Ok(r)
}

/// The `test` of a healthcheck: a string is a shell command
/// (`CMD-SHELL`), a list is used as is (`[CMD, ...]`, `[NONE]`).
fn health_test(n: Node) -> R<Vec<String>> {
    if let Value::String(s) = n.v {
        return Ok(vec!["CMD-SHELL".to_string(), s.clone()]);
    }
    let mut out = Vec::new();
    for (i, item) in n.seq()?.iter().enumerate() {
        let p = index_path(n.path, i);
        out.push(Node::new(item, &p).scalar_text()?);
    }
    Ok(out)
}

/// `convertHealthcheck`: `disable: true` ⇒ `[NONE]`; omitted timings are 0
/// (the engine's defaults apply).
fn healthcheck(n: Node) -> R<Healthcheck> {
    let m = n.map()?;
    m.check_keys(HEALTH_KEYS)?;
    let disable = match child(&m, "disable") {
        Some((p, v)) => Node::new(v, &p).bool()?,
        None => false,
    };
    let test = match child(&m, "test") {
        Some((p, v)) => health_test(Node::new(v, &p))?,
        None => Vec::new(),
    };
    if disable {
        if !test.is_empty() {
            return Err(m.key_error("disable", "test and disable can't be set at the same time"));
        }
        return Ok(Healthcheck {
            test: vec!["NONE".to_string()],
            ..Healthcheck::default()
        });
    }
    let mut h = Healthcheck {
        test,
        ..Healthcheck::default()
    };
    for (k, field) in [
        ("interval", &mut h.interval),
        ("timeout", &mut h.timeout),
        ("start_period", &mut h.start_period),
        ("start_interval", &mut h.start_interval),
    ] {
        if let Some((p, v)) = child(&m, k) {
            *field = Node::new(v, &p).duration()?;
        }
    }
    if let Some((p, v)) = child(&m, "retries") {
        h.retries = Node::new(v, &p).u64()?;
    }
    Ok(h)
}

// ---- `update:` timeline form → `docker service update` ----

const UPDATE_KEYS: &[&str] = &[
    "service",
    "image",
    "replicas",
    "force",
    "update_config",
    "rollback_config",
    "restart_policy",
    "placement",
    "resources",
    "labels",
    "healthcheck",
    "environment",
    "stop_grace_period",
];

/// The flags an `update:` item stands for, as given: the words of its
/// command line (echoed in the transcript) and, for `UpdateArgs::flags`,
/// (name, value) pairs.
#[derive(Default)]
struct Given {
    words: Vec<String>,
    flags: Vec<(String, String)>,
}

impl Given {
    fn value(&mut self, flag: &str, value: String) {
        self.words.push(format!("--{flag}"));
        self.words.push(value.clone());
        self.flags.push((flag.to_string(), value));
    }

    fn boolean(&mut self, flag: &str) {
        self.words.push(format!("--{flag}"));
        self.flags.push((flag.to_string(), "true".to_string()));
    }
}

/// A structured `update:` item: the service, the words of the equivalent
/// `docker service update` command line, and the typed flags, built
/// directly from the YAML values (the same per-setting functions as
/// `services:` and stack files) and checked as docker/cli checks them.
/// Keys map onto `docker service update` flags in key order; omitted keys
/// leave the service as it is.
pub fn update_args(n: Node) -> R<(String, Vec<String>, UpdateArgs)> {
    let m = n.map()?;
    m.check_keys(UPDATE_KEYS)?;
    let Some((sp, sv)) = child(&m, "service") else {
        return m.missing("service", "the service to update");
    };
    let service = Node::new(sv, &sp).scalar_text()?;
    let mut a = UpdateArgs::default();
    let mut g = Given::default();
    for (key, v) in &m.entries {
        if v.is_null() {
            continue;
        }
        let p = m.child_path(key);
        let vn = Node::new(v, &p);
        match key.as_str() {
            "service" => {}
            "image" => {
                let image = vn.scalar_text()?;
                g.value("image", image.clone());
                a.image = Some(image);
            }
            "replicas" => {
                a.replicas = Some(vn.u64()?);
                g.value("replicas", vn.scalar_text()?);
            }
            "force" => {
                if vn.bool()? {
                    g.boolean("force");
                    a.force = true;
                }
            }
            "stop_grace_period" => {
                a.stop_grace_period = Some(vn.duration()?);
                g.value("stop-grace-period", vn.scalar_text()?);
            }
            "update_config" | "rollback_config" => {
                let is_update = key == "update_config";
                let prefix = if is_update { "update" } else { "rollback" };
                let cm = vn.map()?;
                cm.check_keys(&ConfigKey::KEYS)?;
                let flags = if is_update {
                    &mut a.update_config
                } else {
                    &mut a.rollback_config
                };
                for (k, cv) in &cm.entries {
                    let cp = cm.child_path(k);
                    let cn = Node::new(cv, &cp);
                    let Some(ck) = ConfigKey::from_key(k) else {
                        continue;
                    };
                    let mut setting = config_setting(ck, cn, is_update)?;
                    let text = cn.scalar_text()?;
                    // docker/cli reads the ratio as a float32 from the text.
                    if let (ConfigSetting::MaxFailureRatio(r), Ok(f)) =
                        (&mut setting, text.parse::<f32>())
                    {
                        *r = f;
                    }
                    flags.set(setting);
                    g.value(&format!("{prefix}-{}", ck.flag()), text);
                }
            }
            "restart_policy" => {
                let rm = vn.map()?;
                rm.check_keys(RESTART_KEYS)?;
                for (k, rv) in &rm.entries {
                    let rp = rm.child_path(k);
                    let rn = Node::new(rv, &rp);
                    restart_setting(&mut a.restart, k, rn)?;
                    g.value(
                        &format!("restart-{}", k.replace('_', "-")),
                        rn.scalar_text()?,
                    );
                }
            }
            "placement" => {
                let pm = vn.map()?;
                pm.check_keys(PLACEMENT_KEYS)?;
                for (k, pv) in &pm.entries {
                    if k == "max_replicas_per_node" {
                        let pp = pm.child_path(k);
                        let pn = Node::new(pv, &pp);
                        a.replicas_max_per_node = Some(pn.u64()?);
                        g.value("replicas-max-per-node", pn.scalar_text()?);
                    } else {
                        return Err(pm.key_error(
                            k,
                            format!("`placement.{k}` cannot be changed by an `update:` item; use `docker: docker service update --constraint-add/--constraint-rm/--placement-pref-add ...`"),
                        ));
                    }
                }
            }
            "resources" => {
                let rm = vn.map()?;
                rm.check_keys(&["reservations", "limits"])?;
                for (group, gv) in &rm.entries {
                    let gp = rm.child_path(group);
                    let gm = Node::new(gv, &gp).map()?;
                    let (allowed, prefix): (&[&str], &str) = if group == "reservations" {
                        (&["cpus", "memory"], "reserve")
                    } else {
                        (&["cpus", "memory", "pids"], "limit")
                    };
                    gm.check_keys(allowed)?;
                    for (k, kv) in &gm.entries {
                        let kp = gm.child_path(k);
                        let kn = Node::new(kv, &kp);
                        let (flag, value) = match k.as_str() {
                            "cpus" => ("cpu", cpus(kn)?),
                            "memory" => ("memory", memory(kn)?),
                            _ => ("pids", kn.i64()?),
                        };
                        let field = match (prefix, flag) {
                            ("reserve", "cpu") => &mut a.reserve_cpu,
                            ("reserve", _) => &mut a.reserve_memory,
                            (_, "cpu") => &mut a.limit_cpu,
                            (_, "memory") => &mut a.limit_memory,
                            _ => &mut a.limit_pids,
                        };
                        *field = Some(value);
                        g.value(&format!("{prefix}-{flag}"), kn.scalar_text()?);
                    }
                }
            }
            "labels" => {
                for (k, v) in string_map(vn)? {
                    g.value("label-add", format!("{k}={v}"));
                    a.label_add.push(format!("{k}={v}"));
                }
            }
            "environment" => {
                for (k, v) in string_map(vn)? {
                    g.value("env-add", format!("{k}={v}"));
                    a.env_add.push(format!("{k}={v}"));
                }
            }
            _ => health_args(vn, &mut a.health, &mut g)?,
        }
    }
    a.flags = g.flags;
    docker_checks(&a).map_err(|e| n.error(e))?;
    Ok((service, g.words, a))
}

/// The checks docker/cli makes on these flags beyond their syntax (which
/// the YAML values above already passed), in its order: the replica
/// limit, `--no-healthcheck` with `--health-*`, `--env-add` and
/// `--label-add` names.
fn docker_checks(a: &UpdateArgs) -> Result<(), String> {
    let invalid = |flag: &str, value: &str, e: String| {
        format!("invalid argument \"{value}\" for \"--{flag}\" flag: {e}")
    };
    if let Some(r) = a.replicas
        && let Some(e) = crate::limits::replicas_error(r)
    {
        return Err(invalid("replicas", &r.to_string(), e));
    }
    a.health.check().map_err(|e| e.to_string())?;
    for e in &a.env_add {
        validate_env(e).map_err(|err| invalid("env-add", e, err.to_string()))?;
    }
    for l in &a.label_add {
        validate_label(l).map_err(|err| invalid("label-add", l, err.to_string()))?;
    }
    Ok(())
}

fn health_args(n: Node, h: &mut HealthFlags, g: &mut Given) -> R<()> {
    let m = n.map()?;
    m.check_keys(HEALTH_KEYS)?;
    for (k, v) in &m.entries {
        let p = m.child_path(k);
        let vn = Node::new(v, &p);
        match k.as_str() {
            "test" => {
                let test = health_test(vn)?;
                match test.first().map(String::as_str) {
                    Some("CMD-SHELL") if test.len() == 2 => {
                        g.value("health-cmd", test[1].clone());
                        h.cmd = Some(test[1].clone());
                    }
                    Some("NONE") => {
                        g.boolean("no-healthcheck");
                        h.no_healthcheck = Some(true);
                    }
                    _ => {
                        return vn.fail(
                            "an `update:` item can only set a shell command test (a string or [CMD-SHELL, cmd]), as `docker service update --health-cmd` does",
                        );
                    }
                }
            }
            "disable" => {
                if vn.bool()? {
                    g.boolean("no-healthcheck");
                    h.no_healthcheck = Some(true);
                }
            }
            "retries" => {
                h.retries = Some(vn.u64()?);
                g.value("health-retries", vn.scalar_text()?);
            }
            _ => {
                let d = vn.duration()?;
                match k.as_str() {
                    "interval" => h.interval = Some(d),
                    "timeout" => h.timeout = Some(d),
                    "start_period" => h.start_period = Some(d),
                    _ => h.start_interval = Some(d),
                }
                g.value(
                    &format!("health-{}", k.replace('_', "-")),
                    vn.scalar_text()?,
                );
            }
        }
    }
    Ok(())
}

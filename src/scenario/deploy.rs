//! `services:` — Compose `deploy:` keys converted the way `docker stack
//! deploy` converts them (docker/cli `cli/compose/convert/service.go`),
//! and the `update:` timeline form, which maps the same keys onto
//! `docker service update` flags.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_yaml::Value;

use super::load::{cpus, memory, one_of, string_map};
use super::yaml::{Map, Node, R, index_path};
use crate::docker::cli::values::{parse_port, validate_constraint};
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
const CONFIG_KEYS: &[&str] = &[
    "parallelism",
    "delay",
    "failure_action",
    "monitor",
    "max_failure_ratio",
    "order",
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
        name: name.to_string(),
        labels: BTreeMap::new(),
        mode: ServiceMode::Replicated { replicas: 1 },
        update_config: None,
        rollback_config: None,
        task: Rc::new(TaskSpec::default()),
        ports: Vec::new(),
        endpoint_mode: "vip".to_string(),
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
        spec.endpoint_mode = s.to_string();
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

/// `convertUpdateConfig`: parallelism absent ⇒ 1; delay and monitor
/// absent ⇒ 0 (a monitor of 0 means Swarm's 5 s); failure action and
/// order absent ⇒ pause and stop-first.
fn update_config(n: Node, is_update: bool) -> R<UpdateConfig> {
    let m = n.map()?;
    m.check_keys(CONFIG_KEYS)?;
    // docker stack deploy: absent keys are parallelism 1, delay 0, monitor
    // 0 (the server's 5 s), pause, ratio 0, stop-first — Swarm's defaults.
    let mut c = UpdateConfig::default();
    if let Some((p, v)) = child(&m, "parallelism") {
        c.parallelism = Node::new(v, &p).u64()?;
    }
    if let Some((p, v)) = child(&m, "delay") {
        c.delay = Node::new(v, &p).duration()?;
    }
    if let Some((p, v)) = child(&m, "monitor") {
        c.monitor = Node::new(v, &p).duration()?;
    }
    if let Some((p, v)) = child(&m, "failure_action") {
        c.failure_action = failure_action(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "max_failure_ratio") {
        c.max_failure_ratio = ratio(Node::new(v, &p), is_update)?;
    }
    if let Some((p, v)) = child(&m, "order") {
        c.order = order(Node::new(v, &p))?;
    }
    Ok(c)
}

fn restart_condition(n: Node) -> R<RestartCondition> {
    let s = n.str()?;
    RestartCondition::parse(s)
        .ok_or_else(|| n.error(one_of("condition", s, &["none", "on-failure", "any"])))
}

/// `convertRestartPolicy`: condition absent ⇒ any; delay absent ⇒ unset
/// (Swarm's 5 s); max attempts absent ⇒ unlimited; window absent ⇒ 0.
fn restart_policy(n: Node) -> R<RestartPolicy> {
    let m = n.map()?;
    m.check_keys(RESTART_KEYS)?;
    let mut r = RestartPolicy::default();
    if let Some((p, v)) = child(&m, "condition") {
        r.condition = restart_condition(Node::new(v, &p))?;
    }
    if let Some((p, v)) = child(&m, "delay") {
        r.delay = Some(Node::new(v, &p).duration()?);
    }
    if let Some((p, v)) = child(&m, "max_attempts") {
        r.max_attempts = Node::new(v, &p).u64()?;
    }
    if let Some((p, v)) = child(&m, "window") {
        r.window = Node::new(v, &p).duration()?;
    }
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

// ---- `update:` timeline form → `docker service update` words ----

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

/// Checks a value with `check` (for its located error), then returns its
/// text for the flag.
fn flag_text<T>(n: Node, check: impl Fn(Node) -> R<T>) -> R<String> {
    check(n)?;
    n.scalar_text()
}

fn push(words: &mut Vec<String>, flag: &str, value: String) {
    words.push(format!("--{flag}"));
    words.push(value);
}

/// The flags of an `update:` item, in key order, plus the service name.
/// Keys map onto `docker service update` flags; omitted keys leave the
/// service as it is.
pub fn update_words(n: Node) -> R<(Vec<String>, String)> {
    let m = n.map()?;
    m.check_keys(UPDATE_KEYS)?;
    let Some((sp, sv)) = child(&m, "service") else {
        return m.missing("service", "the service to update");
    };
    let service = Node::new(sv, &sp).scalar_text()?;
    let mut w = Vec::new();
    for (key, v) in &m.entries {
        if v.is_null() {
            continue;
        }
        let p = m.child_path(key);
        let vn = Node::new(v, &p);
        match key.as_str() {
            "service" => {}
            "image" => push(&mut w, "image", vn.scalar_text()?),
            "replicas" => push(&mut w, "replicas", flag_text(vn, |n| n.u64())?),
            "force" => {
                if vn.bool()? {
                    w.push("--force".to_string());
                }
            }
            "stop_grace_period" => push(
                &mut w,
                "stop-grace-period",
                flag_text(vn, |n| n.duration())?,
            ),
            "update_config" | "rollback_config" => {
                let prefix = if key == "update_config" {
                    "update"
                } else {
                    "rollback"
                };
                let cm = vn.map()?;
                cm.check_keys(CONFIG_KEYS)?;
                for (k, cv) in &cm.entries {
                    let cp = cm.child_path(k);
                    let cn = Node::new(cv, &cp);
                    let text = match k.as_str() {
                        "parallelism" => flag_text(cn, |n| n.u64())?,
                        "delay" | "monitor" => flag_text(cn, |n| n.duration())?,
                        "failure_action" => flag_text(cn, failure_action)?,
                        "order" => flag_text(cn, order)?,
                        _ => flag_text(cn, |n| ratio(n, prefix == "update"))?,
                    };
                    push(&mut w, &format!("{prefix}-{}", k.replace('_', "-")), text);
                }
            }
            "restart_policy" => {
                let rm = vn.map()?;
                rm.check_keys(RESTART_KEYS)?;
                for (k, rv) in &rm.entries {
                    let rp = rm.child_path(k);
                    let rn = Node::new(rv, &rp);
                    let text = match k.as_str() {
                        "condition" => flag_text(rn, restart_condition)?,
                        "max_attempts" => flag_text(rn, |n| n.u64())?,
                        _ => flag_text(rn, |n| n.duration())?,
                    };
                    push(&mut w, &format!("restart-{}", k.replace('_', "-")), text);
                }
            }
            "placement" => {
                let pm = vn.map()?;
                pm.check_keys(PLACEMENT_KEYS)?;
                for (k, pv) in &pm.entries {
                    if k == "max_replicas_per_node" {
                        let pp = pm.child_path(k);
                        push(
                            &mut w,
                            "replicas-max-per-node",
                            flag_text(Node::new(pv, &pp), |n| n.u64())?,
                        );
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
                        let (flag, text) = match k.as_str() {
                            "cpus" => ("cpu", flag_text(kn, cpus)?),
                            "memory" => ("memory", flag_text(kn, memory)?),
                            _ => ("pids", flag_text(kn, |n| n.i64())?),
                        };
                        push(&mut w, &format!("{prefix}-{flag}"), text);
                    }
                }
            }
            "labels" => {
                for (k, v) in string_map(vn)? {
                    push(&mut w, "label-add", format!("{k}={v}"));
                }
            }
            "environment" => {
                for (k, v) in string_map(vn)? {
                    push(&mut w, "env-add", format!("{k}={v}"));
                }
            }
            _ => health_words(vn, &mut w)?,
        }
    }
    Ok((w, service))
}

fn health_words(n: Node, w: &mut Vec<String>) -> R<()> {
    let m = n.map()?;
    m.check_keys(HEALTH_KEYS)?;
    for (k, v) in &m.entries {
        let p = m.child_path(k);
        let vn = Node::new(v, &p);
        match k.as_str() {
            "test" => {
                let test = health_test(vn)?;
                match test.first().map(String::as_str) {
                    Some("CMD-SHELL") if test.len() == 2 => push(w, "health-cmd", test[1].clone()),
                    Some("NONE") => w.push("--no-healthcheck".to_string()),
                    _ => {
                        return vn.fail(
                            "an `update:` item can only set a shell command test (a string or [CMD-SHELL, cmd]), as `docker service update --health-cmd` does",
                        );
                    }
                }
            }
            "disable" => {
                if vn.bool()? {
                    w.push("--no-healthcheck".to_string());
                }
            }
            "retries" => push(w, "health-retries", flag_text(vn, |n| n.u64())?),
            _ => push(
                w,
                &format!("health-{}", k.replace('_', "-")),
                flag_text(vn, |n| n.duration())?,
            ),
        }
    }
    Ok(())
}

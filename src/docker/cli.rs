//! docker CLI command lines → typed commands (docker/cli
//! `cli/command/service/*.go`, `cli/command/node/*.go`). A flag docker
//! does not have, or one this simulator does not model, is an error.
//!
//! Supported: `docker service create|update|rollback|scale|rm|ps|inspect
//! --pretty|ls`, `docker node ls|update`. See [`parse_command_line`].

pub mod container;
mod error;
mod flags;
mod tokenize;
mod update;
pub mod values;

pub use error::{CliError, InvalidArgument, ValueError};
pub use flags::parse_go_bool;

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::docker::duration::parse_go_duration;
use crate::sim::time::SimDuration;
use crate::swarm::model::{
    Availability, FailureAction, Placement, RestartCondition, ServiceMode, ServiceSpec, TaskSpec,
    TaskState, UpdateOrder,
};

use flags::{FlagDef, Given, Parsed, boolean, short, unsupported, val};
pub use tokenize::{quote_word, render_command_line, split_words};
pub use update::{ConfigFlags, ConfigKey, ConfigSetting, HealthFlags, RestartFlags, UpdateArgs};

use container::ExtraFlags;

// Commands are parsed once per timeline item; boxing the large variants
// would only make matching on them clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum DockerCommand {
    /// `docker service create`: the spec as the CLI would send it.
    ServiceCreate {
        spec: ServiceSpec,
        detach: bool,
    },
    /// `docker service update` (`--rollback` sets `rollback`).
    ServiceUpdate {
        service: String,
        args: UpdateArgs,
        rollback: bool,
        detach: bool,
    },
    ServiceRollback {
        service: String,
        detach: bool,
    },
    ServiceScale {
        scales: Vec<(String, u64)>,
        detach: bool,
    },
    ServiceRm {
        services: Vec<String>,
    },
    ServicePs {
        services: Vec<String>,
        no_trunc: bool,
        quiet: bool,
        desired_state: Option<TaskState>,
    },
    ServiceInspect {
        services: Vec<String>,
        pretty: bool,
    },
    ServiceLs,
    NodeLs,
    NodeUpdate {
        node: String,
        availability: Option<Availability>,
        label_add: Vec<(String, String)>,
        label_rm: Vec<String>,
    },
    /// `docker node rm [--force] NODE...`.
    NodeRm {
        nodes: Vec<String>,
        force: bool,
    },
    /// `docker swarm update`: `--task-history-limit` is modelled; the
    /// other flags given (checked) are named in `unmodelled`.
    SwarmUpdate {
        task_history_limit: Option<i64>,
        unmodelled: Vec<&'static str>,
    },
}

// ---- flag tables (docker/cli `addServiceFlags`, `newCreateCommand`,
// `newUpdateCommand`, ...) ----

/// Flags common to `service create` and `service update`.
const SERVICE_COMMON: &[FlagDef] = &[
    short(boolean("detach"), 'd'),
    short(boolean("quiet"), 'q'),
    val("limit-cpu"),
    val("limit-memory"),
    val("limit-pids"),
    val("reserve-cpu"),
    val("reserve-memory"),
    val("stop-grace-period"),
    val("replicas"),
    val("replicas-max-per-node"),
    val("restart-condition"),
    val("restart-delay"),
    val("restart-max-attempts"),
    val("restart-window"),
    val("update-parallelism"),
    val("update-delay"),
    val("update-monitor"),
    val("update-failure-action"),
    val("update-max-failure-ratio"),
    val("update-order"),
    val("rollback-parallelism"),
    val("rollback-delay"),
    val("rollback-monitor"),
    val("rollback-failure-action"),
    val("rollback-max-failure-ratio"),
    val("rollback-order"),
    val("endpoint-mode"),
    boolean("with-registry-auth"),
    boolean("no-resolve-image"),
    val("health-cmd"),
    val("health-interval"),
    val("health-timeout"),
    val("health-retries"),
    val("health-start-period"),
    val("health-start-interval"),
    boolean("no-healthcheck"),
    boolean("init"),
    short(val("workdir"), 'w'),
    short(val("user"), 'u'),
    val("credential-spec"),
    val("hostname"),
    val("entrypoint"),
    val("cap-add"),
    val("cap-drop"),
    val("max-concurrent"),
    val("log-driver"),
    val("log-opt"),
    short(boolean("tty"), 't'),
    boolean("read-only"),
    val("stop-signal"),
    val("isolation"),
    val("oom-score-adj"),
    short(unsupported("help"), 'h'),
];

const SERVICE_CREATE: &[FlagDef] = &[
    val("mode"),
    val("name"),
    short(val("label"), 'l'),
    short(val("env"), 'e'),
    val("constraint"),
    val("placement-pref"),
    short(val("publish"), 'p'),
    val("container-label"),
    val("env-file"),
    val("mount"),
    val("network"),
    val("secret"),
    val("config"),
    val("group"),
    val("dns"),
    val("dns-option"),
    val("dns-search"),
    val("host"),
    val("sysctl"),
    val("ulimit"),
    val("generic-resource"),
];

const SERVICE_UPDATE: &[FlagDef] = &[
    val("image"),
    val("args"),
    boolean("rollback"),
    boolean("force"),
    val("env-add"),
    val("env-rm"),
    val("label-add"),
    val("label-rm"),
    val("constraint-add"),
    val("constraint-rm"),
    val("placement-pref-add"),
    val("placement-pref-rm"),
    val("publish-add"),
    val("publish-rm"),
    val("group-add"),
    val("group-rm"),
    val("container-label-add"),
    val("container-label-rm"),
    val("mount-add"),
    val("mount-rm"),
    val("dns-add"),
    val("dns-rm"),
    val("dns-option-add"),
    val("dns-option-rm"),
    val("dns-search-add"),
    val("dns-search-rm"),
    val("host-add"),
    val("host-rm"),
    val("secret-add"),
    val("secret-rm"),
    val("config-add"),
    val("config-rm"),
    val("network-add"),
    val("network-rm"),
    val("sysctl-add"),
    val("sysctl-rm"),
    val("ulimit-add"),
    val("ulimit-rm"),
    val("generic-resource-add"),
    val("generic-resource-rm"),
];

const HELP: FlagDef = short(unsupported("help"), 'h');
const DETACH: FlagDef = short(boolean("detach"), 'd');
const QUIET: FlagDef = short(boolean("quiet"), 'q');

const SERVICE_ROLLBACK: &[FlagDef] = &[DETACH, QUIET, HELP];
const SERVICE_SCALE: &[FlagDef] = &[DETACH, HELP];
const SERVICE_RM: &[FlagDef] = &[HELP];
const SERVICE_PS: &[FlagDef] = &[
    short(val("filter"), 'f'),
    unsupported("format"),
    unsupported("no-resolve"),
    boolean("no-trunc"),
    QUIET,
    HELP,
];
const SERVICE_INSPECT: &[FlagDef] = &[short(unsupported("format"), 'f'), boolean("pretty"), HELP];
const LS: &[FlagDef] = &[
    short(unsupported("filter"), 'f'),
    unsupported("format"),
    short(unsupported("quiet"), 'q'),
    HELP,
];
const NODE_RM: &[FlagDef] = &[short(boolean("force"), 'f'), HELP];
const NODE_UPDATE: &[FlagDef] = &[
    val("availability"),
    val("label-add"),
    val("label-rm"),
    unsupported("role"),
    HELP,
];

/// docker/cli `cli/command/swarm/opts.go` `addSwarmFlags` and
/// `update.go`.
const SWARM_UPDATE: &[FlagDef] = &[
    val("task-history-limit"),
    boolean("autolock"),
    val("cert-expiry"),
    val("dispatcher-heartbeat"),
    val("external-ca"),
    val("max-snapshots"),
    val("snapshot-interval"),
    HELP,
];

/// Docker commands that exist but are not part of the simulation.
const OTHER_DOCKER_COMMANDS: &[&str] = &[
    "attach",
    "build",
    "builder",
    "checkpoint",
    "commit",
    "compose",
    "config",
    "container",
    "context",
    "cp",
    "create",
    "diff",
    "events",
    "exec",
    "export",
    "history",
    "image",
    "images",
    "import",
    "info",
    "inspect",
    "kill",
    "load",
    "login",
    "logout",
    "logs",
    "manifest",
    "network",
    "pause",
    "plugin",
    "port",
    "ps",
    "pull",
    "push",
    "rename",
    "restart",
    "rm",
    "rmi",
    "run",
    "save",
    "search",
    "secret",
    "stack",
    "start",
    "stats",
    "stop",
    "system",
    "tag",
    "top",
    "trust",
    "unpause",
    "update",
    "version",
    "volume",
    "wait",
];

fn with(a: &[FlagDef], b: &[FlagDef]) -> Vec<FlagDef> {
    a.iter().chain(b.iter()).copied().collect()
}

fn requires_exactly_one(path: &str) -> CliError {
    CliError::Refused(format!("\"{path}\" requires exactly 1 argument."))
}

fn requires_at_least_one(path: &str) -> CliError {
    CliError::Refused(format!("\"{path}\" requires at least 1 argument."))
}

fn accepts_no_args(path: &str) -> CliError {
    CliError::Refused(format!("\"{path}\" accepts no arguments."))
}

// ---- typed flag values, with pflag/docker error texts ----

fn parse_u64(g: &Given) -> Result<u64, CliError> {
    let s = g.value.as_str();
    s.parse::<u64>().map_err(|_| {
        let why = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        g.invalid(format!("strconv.ParseUint: parsing \"{s}\": {why}"))
    })
}

fn parse_i64(g: &Given) -> Result<i64, CliError> {
    let s = g.value.as_str();
    s.parse::<i64>().map_err(|_| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let why = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        g.invalid(format!("strconv.ParseInt: parsing \"{s}\": {why}"))
    })
}

fn parse_f32(g: &Given) -> Result<f32, CliError> {
    g.value.parse::<f32>().map_err(|_| {
        g.invalid(format!(
            "strconv.ParseFloat: parsing \"{}\": invalid syntax",
            g.value
        ))
    })
}

fn parse_dur(g: &Given) -> Result<i64, CliError> {
    parse_go_duration(&g.value).map_err(|e| g.invalid(e))
}

/// A duration Swarm's control API validates (`TaskSpec: <what> cannot be
/// negative`).
fn parse_dur_server(g: &Given, what: &str) -> Result<SimDuration, CliError> {
    let d = parse_dur(g)?;
    u64::try_from(d)
        .map(SimDuration::from_nanos)
        .map_err(|_| CliError::Refused(format!("TaskSpec: {what} cannot be negative")))
}

/// docker/cli `PositiveDurationOpt` (health flags).
fn parse_dur_positive(g: &Given) -> Result<SimDuration, CliError> {
    let d = parse_dur(g)?;
    u64::try_from(d)
        .map(SimDuration::from_nanos)
        .map_err(|_| g.invalid("duration cannot be negative"))
}

fn config_flags(p: &Parsed, prefix: &str) -> Result<ConfigFlags, CliError> {
    let mut c = ConfigFlags::default();
    for key in ConfigKey::ALL {
        let name = format!("{prefix}-{}", key.flag());
        if let Some(g) = p.last(&name) {
            c.set(config_setting(g, key, prefix, &name)?);
        }
    }
    Ok(c)
}

/// The value of `--update-*` / `--rollback-*` flag `name`, with docker's
/// error texts.
fn config_setting(
    g: &Given,
    key: ConfigKey,
    prefix: &str,
    name: &str,
) -> Result<ConfigSetting, CliError> {
    Ok(match key {
        ConfigKey::Parallelism => ConfigSetting::Parallelism(parse_u64(g)?),
        ConfigKey::Delay => ConfigSetting::Delay(parse_dur_server(g, name)?),
        ConfigKey::Monitor => ConfigSetting::Monitor(parse_dur_server(g, name)?),
        ConfigKey::FailureAction => ConfigSetting::FailureAction(match g.value.as_str() {
            "" => FailureAction::Pause,
            v => FailureAction::parse(v).ok_or_else(|| {
                CliError::Refused(format!("unrecognized update failure action {v}"))
            })?,
        }),
        ConfigKey::MaxFailureRatio => {
            let r = parse_f32(g)?;
            if prefix == "update" && !(0.0..=1.0).contains(&r) {
                return Err(CliError::Refused(
                    "TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1"
                        .to_string(),
                ));
            }
            ConfigSetting::MaxFailureRatio(r)
        }
        ConfigKey::Order => ConfigSetting::Order(match g.value.as_str() {
            "" => UpdateOrder::StopFirst,
            v => UpdateOrder::parse(v)
                .ok_or_else(|| CliError::Refused(format!("unrecognized update order {v}")))?,
        }),
    })
}

fn restart_flags(p: &Parsed) -> Result<RestartFlags, CliError> {
    let mut r = RestartFlags::default();
    if let Some(g) = p.last("restart-condition") {
        r.condition = Some(match g.value.as_str() {
            "" => RestartCondition::Any,
            v => RestartCondition::parse(v)
                .ok_or_else(|| CliError::Refused(format!("invalid RestartCondition: \"{v}\"")))?,
        });
    }
    if let Some(g) = p.last("restart-delay") {
        r.delay = Some(parse_dur_server(g, "restart-delay")?);
    }
    if let Some(g) = p.last("restart-max-attempts") {
        r.max_attempts = Some(parse_u64(g)?);
    }
    if let Some(g) = p.last("restart-window") {
        r.window = Some(parse_dur_server(g, "restart-window")?);
    }
    Ok(r)
}

fn health_flags(p: &Parsed) -> Result<HealthFlags, CliError> {
    let mut h = HealthFlags {
        cmd: p.last("health-cmd").map(|g| g.value.clone()),
        ..HealthFlags::default()
    };
    for (flag, field) in [
        ("health-interval", &mut h.interval),
        ("health-timeout", &mut h.timeout),
        ("health-start-period", &mut h.start_period),
        ("health-start-interval", &mut h.start_interval),
    ] {
        if let Some(g) = p.last(flag) {
            *field = Some(parse_dur_positive(g)?);
        }
    }
    if let Some(g) = p.last("health-retries") {
        let n = parse_i64(g)?;
        h.retries = Some(u64::try_from(n).map_err(|_| g.invalid("retries cannot be negative"))?);
    }
    if let Some(g) = p.last("no-healthcheck") {
        h.no_healthcheck = Some(g.as_bool()?);
    }
    h.check()?;
    Ok(h)
}

/// Reads the flags shared by create and update into `a`.
fn common_flags(p: &Parsed, a: &mut UpdateArgs) -> Result<(), CliError> {
    for g in &p.flags {
        if g.def.kind == flags::Kind::Bool {
            g.as_bool()?;
        }
    }
    a.flags = p
        .flags
        .iter()
        .map(|g| (g.def.name.to_string(), g.value.clone()))
        .collect();
    a.quiet = p.bool("quiet")?;
    if let Some(g) = p.last("replicas") {
        let r = parse_u64(g)?;
        if let Some(e) = crate::limits::replicas_error(r) {
            return Err(g.invalid(e));
        }
        a.replicas = Some(r);
    }
    if let Some(g) = p.last("replicas-max-per-node") {
        a.replicas_max_per_node = Some(parse_u64(g)?);
    }
    for (flag, field) in [
        ("reserve-cpu", &mut a.reserve_cpu),
        ("limit-cpu", &mut a.limit_cpu),
    ] {
        if let Some(g) = p.last(flag) {
            *field = Some(values::parse_cpus(&g.value).map_err(|e| g.invalid(e))?);
        }
    }
    for (flag, field) in [
        ("reserve-memory", &mut a.reserve_memory),
        ("limit-memory", &mut a.limit_memory),
    ] {
        if let Some(g) = p.last(flag) {
            *field = Some(values::parse_ram_in_bytes(&g.value).map_err(|e| g.invalid(e))?);
        }
    }
    if let Some(g) = p.last("limit-pids") {
        a.limit_pids = Some(parse_i64(g)?);
    }
    if let Some(g) = p.last("stop-grace-period") {
        a.stop_grace_period = Some(parse_dur_positive(g)?);
    }
    a.restart = restart_flags(p)?;
    a.update_config = config_flags(p, "update")?;
    a.rollback_config = config_flags(p, "rollback")?;
    a.health = health_flags(p)?;
    if let Some(g) = p.last("init") {
        a.init = Some(g.as_bool()?);
    }
    a.extra = extra_flags(p)?;
    if let Some(g) = p.last("max-concurrent") {
        parse_u64(g)?;
        return Err(CliError::Refused(
            "max-concurrent can only be used with replicated-job mode".to_string(),
        ));
    }
    if let Some(g) = p.last("endpoint-mode") {
        let mode = g.value.to_ascii_lowercase();
        if !matches!(mode.as_str(), "vip" | "dnsrr") {
            return Err(CliError::Refused(format!(
                "invalid resolution mode: \"{mode}\""
            )));
        }
        a.endpoint_mode = Some(mode);
    }
    Ok(())
}

/// The container flags swarmsim keeps without modelling them (and
/// `--stop-signal`), with docker's syntax checks (docker/cli `opts/*.go`).
fn extra_flags(p: &Parsed) -> Result<ExtraFlags, CliError> {
    use container as c;
    let mut x = ExtraFlags::default();
    let last = |name: &str| p.last(name).map(|g| g.value.clone());
    x.hostname = last("hostname");
    x.dir = last("workdir");
    x.user = last("user");
    x.log_driver = last("log-driver");
    x.isolation = last("isolation");
    if let Some(g) = p.last("entrypoint") {
        x.entrypoint = Some(split_words(&g.value).map_err(|e| g.invalid(e))?);
    }
    if let Some(g) = p.last("tty") {
        x.tty = Some(g.as_bool()?);
    }
    if let Some(g) = p.last("read-only") {
        x.read_only = Some(g.as_bool()?);
    }
    if let Some(g) = p.last("stop-signal") {
        c::stop_signal_number(&g.value).map_err(|e| CliError::Refused(e.0))?;
        x.stop_signal = Some(g.value.clone());
    }
    if let Some(g) = p.last("oom-score-adj") {
        x.oom_score_adj = Some(parse_i64(g)?);
    }
    if let Some(g) = p.last("credential-spec") {
        c::validate_credential_spec(&g.value).map_err(|e| g.invalid(e))?;
        x.credential_spec = Some(g.value.clone());
    }
    let each = |name: &str, check: fn(&str) -> Result<(), ValueError>| all_values(p, name, check);
    let any: fn(&str) -> Result<(), ValueError> = |_| Ok(());
    let kv = |v: Vec<String>| -> Vec<(String, String)> {
        v.iter().map(|s| values::split_kv(s)).collect()
    };
    x.cap_add = each("cap-add", any)?;
    x.cap_drop = each("cap-drop", any)?;
    x.log_opts = kv(each("log-opt", values::validate_env)?);
    for name in ["mount", "mount-add"] {
        for g in p.all(name) {
            x.mounts
                .push(c::parse_mount(&g.value).map_err(|e| g.invalid(e))?);
        }
    }
    for name in ["network", "network-add"] {
        for g in p.all(name) {
            x.networks
                .push(c::parse_network(&g.value).map_err(|e| g.invalid(e))?);
        }
    }
    for (name, what) in [("secret", "secret"), ("secret-add", "secret")] {
        for g in p.all(name) {
            x.secrets
                .push(c::parse_file_ref(&g.value, what).map_err(|e| g.invalid(e))?);
        }
    }
    for name in ["config", "config-add"] {
        for g in p.all(name) {
            x.configs
                .push(c::parse_file_ref(&g.value, "config").map_err(|e| g.invalid(e))?);
        }
    }
    for name in ["dns", "dns-add"] {
        x.dns.extend(each(name, c::validate_ip)?);
    }
    for name in ["dns-option", "dns-option-add"] {
        x.dns_options.extend(each(name, any)?);
    }
    for name in ["dns-search", "dns-search-add"] {
        x.dns_search.extend(each(name, c::validate_dns_search)?);
    }
    for name in ["host", "host-add"] {
        x.hosts.extend(each(name, c::validate_extra_host)?);
    }
    for name in ["group", "group-add"] {
        x.groups.extend(each(name, any)?);
    }
    for name in ["sysctl", "sysctl-add"] {
        x.sysctls.extend(kv(each(name, any)?));
    }
    for name in ["ulimit", "ulimit-add"] {
        for g in p.all(name) {
            x.ulimits
                .push(c::parse_ulimit(&g.value).map_err(|e| g.invalid(e))?);
        }
    }
    for name in ["generic-resource", "generic-resource-add"] {
        x.generic_resources
            .extend(each(name, c::validate_generic_resource)?);
    }
    for name in ["container-label", "container-label-add"] {
        x.container_labels
            .extend(kv(each(name, values::validate_label)?));
    }
    x.env_files = each("env-file", any)?;
    x.mount_rm = each("mount-rm", any)?;
    x.network_rm = each("network-rm", any)?;
    x.secret_rm = each("secret-rm", any)?;
    x.config_rm = each("config-rm", any)?;
    x.dns_rm = each("dns-rm", any)?;
    x.dns_option_rm = each("dns-option-rm", any)?;
    x.dns_search_rm = each("dns-search-rm", any)?;
    x.host_rm = each("host-rm", any)?;
    x.group_rm = each("group-rm", any)?;
    x.sysctl_rm = each("sysctl-rm", any)?;
    x.ulimit_rm = each("ulimit-rm", any)?;
    x.generic_resource_rm = each("generic-resource-rm", any)?;
    x.container_label_rm = each("container-label-rm", any)?;
    Ok(x)
}

fn all_values(
    p: &Parsed,
    name: &str,
    check: fn(&str) -> Result<(), ValueError>,
) -> Result<Vec<String>, CliError> {
    p.all(name)
        .map(|g| {
            check(&g.value)
                .map(|()| g.value.clone())
                .map_err(|e| g.invalid(e))
        })
        .collect()
}

fn no_check(_: &str) -> Result<(), ValueError> {
    Ok(())
}

fn constraints(p: &Parsed, name: &str) -> Result<Vec<String>, CliError> {
    // swarmkit validates constraints when the spec reaches the manager.
    let all = all_values(p, name, no_check)?;
    for c in &all {
        values::validate_constraint(c).map_err(|e| CliError::Refused(e.0))?;
    }
    Ok(all)
}

fn prefs(p: &Parsed, name: &str) -> Result<Vec<crate::swarm::model::SpreadPreference>, CliError> {
    p.all(name)
        .map(|g| values::parse_placement_pref(&g.value).map_err(|e| g.invalid(e)))
        .collect()
}

fn ports(p: &Parsed, name: &str) -> Result<Vec<crate::swarm::model::PortConfig>, CliError> {
    let mut out = Vec::new();
    for g in p.all(name) {
        out.extend(values::parse_port(&g.value).map_err(|e| g.invalid(e))?);
    }
    Ok(out)
}

// ---- commands ----

fn service_create(rest: &[String]) -> Result<DockerCommand, CliError> {
    let path = "docker service create";
    let p = flags::parse(rest, &with(SERVICE_COMMON, SERVICE_CREATE), false)?;
    let mut a = UpdateArgs::default();
    common_flags(&p, &mut a)?;
    let Some((image, cmd_args)) = p.args.split_first() else {
        return Err(requires_at_least_one(path));
    };
    let mode_name = p.last("mode").map_or("replicated", |g| g.value.as_str());
    let mode = match mode_name {
        "replicated" => ServiceMode::Replicated {
            replicas: a.replicas.unwrap_or(1),
        },
        "global" => {
            if a.replicas.is_some() {
                return Err(CliError::Refused(
                    "replicas can only be used with replicated or replicated-job mode".into(),
                ));
            }
            if a.replicas_max_per_node.is_some_and(|m| m > 0) {
                return Err(CliError::Refused(
                    "replicas-max-per-node can only be used with replicated or replicated-job mode"
                        .into(),
                ));
            }
            ServiceMode::Global
        }
        "replicated-job" | "global-job" => {
            return Err(CliError::NotModelled(format!(
                "mode {mode_name} is not supported by swarmsim"
            )));
        }
        other => {
            return Err(CliError::Refused(format!(
                "Unknown mode: {other}, only replicated and global supported"
            )));
        }
    };
    let mut labels = BTreeMap::new();
    for l in all_values(&p, "label", values::validate_label)? {
        let (k, v) = values::split_kv(&l);
        labels.insert(k, v);
    }
    // docker/cli `makeEnv`: a later value of a variable replaces the
    // earlier one.
    let mut env: Vec<String> = Vec::new();
    for e in all_values(&p, "env", values::validate_env)? {
        let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k).to_string();
        env.retain(|cur| cur == &e || !cur.starts_with(&format!("{key}=")));
        env.push(e);
    }
    let r = &a;
    let resources = crate::swarm::model::Resources {
        reserve_nano_cpus: r.reserve_cpu.unwrap_or(0),
        reserve_memory: r.reserve_memory.unwrap_or(0),
        limit_nano_cpus: r.limit_cpu.unwrap_or(0),
        limit_memory: r.limit_memory.unwrap_or(0),
        limit_pids: r.limit_pids.unwrap_or(0),
    };
    let mut restart_policy = None;
    a.restart.update(&mut restart_policy);
    let task = TaskSpec {
        image: image.clone(),
        args: cmd_args.to_vec(),
        env,
        placement: Placement {
            constraints: constraints(&p, "constraint")?,
            preferences: prefs(&p, "placement-pref")?,
            max_replicas: a.replicas_max_per_node.unwrap_or(0),
        },
        resources,
        restart_policy,
        healthcheck: a.health.for_create(),
        stop_grace_period: a.stop_grace_period,
        force_update: 0,
        init: Some(a.init.unwrap_or(false)),
        container: Rc::new(a.extra.for_create()),
    };
    let mut update_config = None;
    a.update_config.update(&mut update_config);
    let mut rollback_config = None;
    a.rollback_config.update(&mut rollback_config);
    let spec = ServiceSpec {
        name: p.last("name").map_or("", |g| g.value.as_str()).into(),
        labels,
        mode,
        update_config,
        rollback_config,
        task: Rc::new(task),
        ports: ports(&p, "publish")?,
        endpoint_mode: crate::swarm::model::endpoint_mode(
            a.endpoint_mode.as_deref().unwrap_or("vip"),
        ),
    };
    Ok(DockerCommand::ServiceCreate {
        spec,
        detach: p.bool("detach")?,
    })
}

fn service_update(rest: &[String]) -> Result<DockerCommand, CliError> {
    let path = "docker service update";
    let p = flags::parse(rest, &with(SERVICE_COMMON, SERVICE_UPDATE), true)?;
    let mut a = UpdateArgs::default();
    common_flags(&p, &mut a)?;
    let rollback = p.bool("rollback")?;
    if rollback && a.has_spec_flags() {
        return Err(CliError::Refused(
            "other flags may not be combined with --rollback".to_string(),
        ));
    }
    let [service] = p.args.as_slice() else {
        return Err(requires_exactly_one(path));
    };
    a.image = p.last("image").map(|g| g.value.clone());
    if let Some(g) = p.last("args") {
        a.args = Some(split_words(&g.value).map_err(|e| g.invalid(e))?);
    }
    a.force = p.bool("force")?;
    a.env_add = all_values(&p, "env-add", values::validate_env)?;
    a.env_rm = all_values(&p, "env-rm", no_check)?;
    a.label_add = all_values(&p, "label-add", values::validate_label)?;
    a.label_rm = all_values(&p, "label-rm", no_check)?;
    a.constraint_add = constraints(&p, "constraint-add")?;
    a.constraint_rm = all_values(&p, "constraint-rm", no_check)?;
    a.placement_pref_add = prefs(&p, "placement-pref-add")?;
    a.placement_pref_rm = prefs(&p, "placement-pref-rm")?;
    a.publish_add = ports(&p, "publish-add")?;
    a.publish_rm = ports(&p, "publish-rm")?;
    Ok(DockerCommand::ServiceUpdate {
        service: service.clone(),
        args: a,
        rollback,
        detach: p.bool("detach")?,
    })
}

fn service_rollback(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, SERVICE_ROLLBACK, true)?;
    p.bool("quiet")?;
    let [service] = p.args.as_slice() else {
        return Err(requires_exactly_one("docker service rollback"));
    };
    Ok(DockerCommand::ServiceRollback {
        service: service.clone(),
        detach: p.bool("detach")?,
    })
}

fn service_scale(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, SERVICE_SCALE, true)?;
    if p.args.is_empty() {
        return Err(requires_at_least_one("docker service scale"));
    }
    let mut scales = Vec::new();
    for arg in &p.args {
        match arg.split_once('=') {
            Some((name, n)) if !name.is_empty() && !n.is_empty() => {
                let replicas = n.parse::<u64>().map_err(|_| {
                    let why = if n.bytes().all(|b| b.is_ascii_digit()) {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    };
                    CliError::Refused(format!(
                        "{name}: invalid replicas value {n}: strconv.ParseUint: parsing \"{n}\": {why}"
                    ))
                })?;
                if let Some(e) = crate::limits::replicas_error(replicas) {
                    return Err(CliError::Refused(format!("{name}: {e}")));
                }
                scales.push((name.to_string(), replicas));
            }
            _ => {
                return Err(CliError::Refused(format!(
                    "invalid scale specifier '{arg}'."
                )));
            }
        }
    }
    Ok(DockerCommand::ServiceScale {
        scales,
        detach: p.bool("detach")?,
    })
}

fn service_rm(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, SERVICE_RM, true)?;
    if p.args.is_empty() {
        return Err(requires_at_least_one("docker service rm"));
    }
    Ok(DockerCommand::ServiceRm { services: p.args })
}

fn service_ps(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, SERVICE_PS, true)?;
    if p.args.is_empty() {
        return Err(requires_at_least_one("docker service ps"));
    }
    let mut desired_state = None;
    for g in p.all("filter") {
        let Some((key, value)) = g.value.split_once('=') else {
            return Err(CliError::Refused(
                "bad format of filter (expected name=value)".to_string(),
            ));
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "desired-state" => {
                if desired_state.is_some() {
                    return Err(CliError::NotModelled(
                        "more than one desired-state filter is not supported by swarmsim".into(),
                    ));
                }
                desired_state = Some(TaskState::from_api(value.trim()).ok_or_else(|| {
                    CliError::Refused(format!("Invalid desired-state filter: '{value}'"))
                })?);
            }
            k @ ("id" | "name" | "node" | "label") => {
                return Err(CliError::NotModelled(format!(
                    "filter \"{k}\" is not supported by swarmsim"
                )));
            }
            k => return Err(CliError::Refused(format!("invalid filter '{k}'"))),
        }
    }
    Ok(DockerCommand::ServicePs {
        services: p.args.clone(),
        no_trunc: p.bool("no-trunc")?,
        quiet: p.bool("quiet")?,
        desired_state,
    })
}

fn service_inspect(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, SERVICE_INSPECT, true)?;
    if p.args.is_empty() {
        return Err(requires_at_least_one("docker service inspect"));
    }
    if !p.bool("pretty")? {
        return Err(CliError::Refused(
            "docker service inspect needs --pretty in swarmsim (JSON output is not modelled)"
                .to_string(),
        ));
    }
    Ok(DockerCommand::ServiceInspect {
        services: p.args,
        pretty: true,
    })
}

fn no_args(rest: &[String], path: &str, cmd: DockerCommand) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, LS, true)?;
    if !p.args.is_empty() {
        return Err(accepts_no_args(path));
    }
    Ok(cmd)
}

fn node_update(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, NODE_UPDATE, true)?;
    let [node] = p.args.as_slice() else {
        return Err(requires_exactly_one("docker node update"));
    };
    let availability =
        match p.last("availability") {
            None => None,
            Some(g) => Some(Availability::parse(&g.value).ok_or_else(|| {
                CliError::Refused(format!("invalid Availability: \"{}\"", g.value))
            })?),
        };
    Ok(DockerCommand::NodeUpdate {
        node: node.clone(),
        availability,
        label_add: p
            .all("label-add")
            .map(|g| values::split_kv(&g.value))
            .collect(),
        label_rm: p.all("label-rm").map(|g| g.value.clone()).collect(),
    })
}

fn swarm_update(rest: &[String]) -> Result<DockerCommand, CliError> {
    let p = flags::parse(rest, SWARM_UPDATE, true)?;
    if !p.args.is_empty() {
        return Err(accepts_no_args("docker swarm update"));
    }
    let mut unmodelled = Vec::new();
    for g in &p.flags {
        match g.def.name {
            "autolock" => {
                g.as_bool()?;
            }
            "cert-expiry" | "dispatcher-heartbeat" => {
                parse_dur(g)?;
            }
            "max-snapshots" | "snapshot-interval" => {
                parse_u64(g)?;
            }
            "external-ca" => {
                // docker/cli `ExternalCAOption.Set`: CSV `key=value` with
                // `protocol` (cfssl) and `url` required.
                let fields = container::csv_fields(&g.value).map_err(|e| g.invalid(e))?;
                let (mut protocol, mut url) = (false, false);
                for f in fields {
                    let Some((k, v)) = f.split_once('=') else {
                        return Err(
                            g.invalid(format!("invalid field '{f}' must be a key=value pair"))
                        );
                    };
                    match k.to_ascii_lowercase().as_str() {
                        "protocol" => {
                            if !v.eq_ignore_ascii_case("cfssl") {
                                return Err(
                                    g.invalid(format!("unrecognized external CA protocol {v}"))
                                );
                            }
                            protocol = true;
                        }
                        "url" => url = true,
                        "cacert" => {}
                        _ => {}
                    }
                }
                if !protocol {
                    return Err(g.invalid("the external-ca option needs a protocol= parameter"));
                }
                if !url {
                    return Err(g.invalid("the external-ca option needs a url= parameter"));
                }
            }
            _ => {}
        }
        if g.def.name != "task-history-limit" && !unmodelled.contains(&g.def.name) {
            unmodelled.push(g.def.name);
        }
    }
    let task_history_limit = match p.last("task-history-limit") {
        Some(g) => Some(parse_i64(g)?),
        None => None,
    };
    Ok(DockerCommand::SwarmUpdate {
        task_history_limit,
        unmodelled,
    })
}

/// Parses one docker command line (shell-like quoting) into a
/// [`DockerCommand`], with docker's own error texts for unknown flags and
/// bad values, and `flag --X is not supported by swarmsim` for docker
/// flags the simulator does not model.
pub fn parse_command_line(line: &str) -> Result<DockerCommand, CliError> {
    let words = split_words(line)?;
    parse_words(&words)
}

/// [`parse_command_line`] on words already split.
pub fn parse_words(words: &[String]) -> Result<DockerCommand, CliError> {
    let Some((first, rest)) = words.split_first() else {
        return Err(CliError::Refused(
            "empty command line: expected a docker command".to_string(),
        ));
    };
    if first != "docker" {
        return Err(CliError::Refused(format!(
            "expected a docker command line starting with `docker`, found `{first}`"
        )));
    }
    let Some((group, rest)) = rest.split_first() else {
        return Err(CliError::Refused(
            "expected `docker service ...` or `docker node ...`".to_string(),
        ));
    };
    if group.starts_with('-') {
        return Err(CliError::NotModelled(format!(
            "global docker option {group} is not supported by swarmsim"
        )));
    }
    match group.as_str() {
        "service" => {
            let Some((sub, rest)) = rest.split_first() else {
                return Err(CliError::Refused("`docker service` needs a subcommand (create, update, rollback, scale, rm, ps, inspect, ls)".to_string()));
            };
            match sub.as_str() {
                "create" => service_create(rest),
                "update" => service_update(rest),
                "rollback" => service_rollback(rest),
                "scale" => service_scale(rest),
                "rm" | "remove" => service_rm(rest),
                "ps" => service_ps(rest),
                "inspect" => service_inspect(rest),
                "ls" | "list" => no_args(rest, "docker service ls", DockerCommand::ServiceLs),
                "logs" => Err(CliError::NotModelled(
                    "`docker service logs` is not supported by swarmsim".to_string(),
                )),
                other => Err(CliError::Refused(format!(
                    "docker: 'service {other}' is not a docker command."
                ))),
            }
        }
        "node" => {
            let Some((sub, rest)) = rest.split_first() else {
                return Err(CliError::Refused(
                    "`docker node` needs a subcommand (ls, update, rm)".to_string(),
                ));
            };
            match sub.as_str() {
                "ls" | "list" => no_args(rest, "docker node ls", DockerCommand::NodeLs),
                "update" => node_update(rest),
                "rm" | "remove" => {
                    let p = flags::parse(rest, NODE_RM, true)?;
                    if p.args.is_empty() {
                        return Err(requires_at_least_one("docker node rm"));
                    }
                    Ok(DockerCommand::NodeRm {
                        force: p.bool("force")?,
                        nodes: p.args,
                    })
                }
                "demote" | "inspect" | "promote" | "ps" => Err(CliError::NotModelled(format!(
                    "`docker node {sub}` is not supported by swarmsim"
                ))),
                other => Err(CliError::Refused(format!(
                    "docker: 'node {other}' is not a docker command."
                ))),
            }
        }
        "swarm" => match rest.split_first() {
            Some((sub, rest)) if sub == "update" => swarm_update(rest),
            Some((sub, _))
                if matches!(
                    sub.as_str(),
                    "ca" | "init" | "join" | "join-token" | "leave" | "unlock" | "unlock-key"
                ) =>
            {
                Err(CliError::NotModelled(format!(
                    "`docker swarm {sub}` is not supported by swarmsim (nodes join and leave with timeline `node:` items, see the scenario format)"
                )))
            }
            Some((sub, _)) => Err(CliError::Refused(format!(
                "docker: 'swarm {sub}' is not a docker command."
            ))),
            None => Err(CliError::Refused(
                "`docker swarm` needs a subcommand (update)".to_string(),
            )),
        },
        other if OTHER_DOCKER_COMMANDS.contains(&other) => Err(CliError::NotModelled(format!(
            "`docker {other}` is not supported by swarmsim (only `docker service` and `docker node`)"
        ))),
        other => Err(CliError::Refused(format!(
            "docker: '{other}' is not a docker command."
        ))),
    }
}

#[cfg(test)]
mod tests;

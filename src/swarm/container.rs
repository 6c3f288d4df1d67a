//! The parts of a service's container spec that the simulator keeps but
//! does not model (mounts, networks, secrets, configs, log driver, user,
//! capabilities …), as typed values. They are kept in the task spec so
//! that `docker service inspect --pretty` shows them and a change to them
//! makes tasks out of date (swarmkit `orchestrator.IsTaskDirty` compares
//! the whole task spec) and redeploys them, as on a real swarm. The docker
//! flags that set them, with docker's own syntax checks, are parsed in
//! `docker/cli/container.rs`.
//!
//! `--stop-signal` is the exception: it changes how a container stops (see
//! docs/scenario-format.md, "Flags kept but not modelled").

use std::collections::BTreeMap;

/// `mount.Mount` (the fields `inspect --pretty` shows, plus the raw value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mount {
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    /// The flag value as given (other options are checked, not kept).
    pub raw: String,
}

/// A `--secret` or `--config` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub source: String,
    pub target: String,
}

/// A `--network` attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub target: String,
    pub aliases: Vec<String>,
}

/// Container settings without an effect on what swarmsim models.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerExtras {
    pub hostname: String,
    pub dir: String,
    pub user: String,
    pub groups: Vec<String>,
    pub entrypoint: Vec<String>,
    pub tty: bool,
    pub read_only: bool,
    /// `--stop-signal` (modelled: see [`signal_number`]).
    pub stop_signal: String,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub mounts: Vec<Mount>,
    pub networks: Vec<Network>,
    pub secrets: Vec<FileRef>,
    pub configs: Vec<FileRef>,
    pub log_driver: String,
    pub log_opts: BTreeMap<String, String>,
    pub dns: Vec<String>,
    pub dns_options: Vec<String>,
    pub dns_search: Vec<String>,
    pub hosts: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    /// name → (soft, hard).
    pub ulimits: BTreeMap<String, (i64, i64)>,
    pub generic_resources: Vec<String>,
    pub container_labels: BTreeMap<String, String>,
    pub isolation: String,
    pub oom_score_adj: i64,
    pub credential_spec: String,
    /// `--env-file` paths (the files are not read).
    pub env_files: Vec<String>,
}

impl ContainerExtras {
    /// The `service create` flags behind the settings that are set, for
    /// the transcript's note.
    pub fn given_flags(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut add = |set: bool, flag: &'static str| {
            if set {
                out.push(flag);
            }
        };
        add(!self.cap_add.is_empty(), "cap-add");
        add(!self.cap_drop.is_empty(), "cap-drop");
        add(!self.configs.is_empty(), "config");
        add(!self.container_labels.is_empty(), "container-label");
        add(!self.credential_spec.is_empty(), "credential-spec");
        add(!self.dns.is_empty(), "dns");
        add(!self.dns_options.is_empty(), "dns-option");
        add(!self.dns_search.is_empty(), "dns-search");
        add(!self.entrypoint.is_empty(), "entrypoint");
        add(!self.env_files.is_empty(), "env-file");
        add(!self.generic_resources.is_empty(), "generic-resource");
        add(!self.groups.is_empty(), "group");
        add(!self.hosts.is_empty(), "host");
        add(!self.hostname.is_empty(), "hostname");
        add(!self.isolation.is_empty(), "isolation");
        add(!self.log_driver.is_empty(), "log-driver");
        add(!self.log_opts.is_empty(), "log-opt");
        add(!self.mounts.is_empty(), "mount");
        add(!self.networks.is_empty(), "network");
        add(self.oom_score_adj != 0, "oom-score-adj");
        add(self.read_only, "read-only");
        add(!self.secrets.is_empty(), "secret");
        add(!self.sysctls.is_empty(), "sysctl");
        add(self.tty, "tty");
        add(!self.ulimits.is_empty(), "ulimit");
        add(!self.user.is_empty(), "user");
        add(!self.dir.is_empty(), "workdir");
        out
    }
}

/// The flags this module handles and that have no effect on the
/// simulation: the `#` note names them.
pub const UNMODELLED_FLAGS: &[&str] = &[
    "cap-add",
    "cap-drop",
    "config",
    "config-add",
    "config-rm",
    "container-label",
    "container-label-add",
    "container-label-rm",
    "credential-spec",
    "dns",
    "dns-add",
    "dns-option",
    "dns-option-add",
    "dns-option-rm",
    "dns-rm",
    "dns-search",
    "dns-search-add",
    "dns-search-rm",
    "entrypoint",
    "env-file",
    "generic-resource",
    "generic-resource-add",
    "generic-resource-rm",
    "group",
    "group-add",
    "group-rm",
    "host",
    "host-add",
    "host-rm",
    "hostname",
    "isolation",
    "log-driver",
    "log-opt",
    "mount",
    "mount-add",
    "mount-rm",
    "network",
    "network-add",
    "network-rm",
    "oom-score-adj",
    "read-only",
    "secret",
    "secret-add",
    "secret-rm",
    "sysctl",
    "sysctl-add",
    "sysctl-rm",
    "tty",
    "ulimit",
    "ulimit-add",
    "ulimit-rm",
    "user",
    "workdir",
];

/// Linux signal numbers by name, as moby's `signal.SignalMap`.
const SIGNALS: &[(&str, i64)] = &[
    ("ABRT", 6),
    ("ALRM", 14),
    ("BUS", 7),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("FPE", 8),
    ("HUP", 1),
    ("ILL", 4),
    ("INT", 2),
    ("IO", 29),
    ("IOT", 6),
    ("KILL", 9),
    ("PIPE", 13),
    ("POLL", 29),
    ("PROF", 27),
    ("PWR", 30),
    ("QUIT", 3),
    ("SEGV", 11),
    ("STKFLT", 16),
    ("STOP", 19),
    ("SYS", 31),
    ("TERM", 15),
    ("TRAP", 5),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("USR1", 10),
    ("USR2", 12),
    ("VTALRM", 26),
    ("WINCH", 28),
    ("XCPU", 24),
    ("XFSZ", 25),
];

/// moby `signal.ParseSignal`: a number, or a name with or without `SIG`
/// (`RTMIN+n`, `RTMAX-n` too). The daemon refuses another value when it
/// creates the container; swarmsim refuses it when the file is loaded
/// (`docker/cli/container.rs`, `stop_signal_number`), so `None` never
/// reaches the agent.
pub fn signal_number(value: &str) -> Option<i64> {
    if let Ok(n) = value.parse::<i64>() {
        return if (1..=64).contains(&n) { Some(n) } else { None };
    }
    let up = value.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some(&(_, n)) = SIGNALS.iter().find(|(s, _)| *s == name) {
        return Some(n);
    }
    let rt = |base: i64, rest: &str, sign: i64| -> Option<i64> {
        if rest.is_empty() {
            return Some(base);
        }
        let k: i64 = rest[1..].parse().ok()?;
        let n = base + sign * k;
        (34..=64).contains(&n).then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN")
        && (rest.is_empty() || rest.starts_with('+'))
    {
        return rt(34, rest, 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX")
        && (rest.is_empty() || rest.starts_with('-'))
    {
        return rt(64, rest, -1);
    }
    None
}

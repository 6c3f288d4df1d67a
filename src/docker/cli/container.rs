//! docker/cli's container flags of `service create`/`service update`
//! (`opts/*.go`, `cli/command/service/opts.go` and `update.go`): their
//! syntax checks and how they change the container settings the model
//! keeps ([`crate::swarm::container::ContainerExtras`]).

use std::collections::BTreeMap;

use crate::docker::cli::ValueError;
use crate::swarm::container::{ContainerExtras, FileRef, Mount, Network, signal_number};

/// Fields of one CSV record (Go `encoding/csv`: `"` quotes a field, `""`
/// inside quotes is a quote).
pub fn csv_fields(value: &str) -> Result<Vec<String>, ValueError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = value.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '"' => {
                let col = value.len() - chars.clone().count();
                return Err(format!(
                    "parse error on line 1, column {col}: bare \" in non-quoted-field"
                )
                .into());
            }
            ',' => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
            }
            c => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err(format!(
            "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
            value.len()
        )
        .into());
    }
    out.push(cur);
    Ok(out)
}

/// docker/cli `opts.MountOpt.Set`.
pub fn parse_mount(value: &str) -> Result<Mount, ValueError> {
    let mut m = Mount {
        kind: "volume".to_string(),
        source: String::new(),
        target: String::new(),
        read_only: false,
        raw: value.to_string(),
    };
    let (mut volume_opts, mut bind_opts, mut tmpfs_opts) = (false, false, false);
    let bool_of = |key: &str, val: &str| {
        crate::docker::cli::parse_go_bool(val)
            .ok_or_else(|| format!("invalid value for {key}: {val}"))
    };
    for field in csv_fields(value)? {
        let Some((key, val)) = field.split_once('=') else {
            match field.as_str() {
                "readonly" | "ro" => m.read_only = true,
                "volume-nocopy" => volume_opts = true,
                "bind-nonrecursive" => bind_opts = true,
                _ => return Err(format!("invalid field '{field}' must be a key=value pair").into()),
            }
            continue;
        };
        match key {
            "type" => m.kind = val.to_ascii_lowercase(),
            "source" | "src" => m.source = val.to_string(),
            "target" | "dst" | "destination" => m.target = val.to_string(),
            "readonly" | "ro" => m.read_only = bool_of(key, val)?,
            "consistency" => {}
            "bind-propagation" => bind_opts = true,
            "bind-nonrecursive" => {
                bool_of(key, val)?;
                bind_opts = true;
            }
            "volume-nocopy" => {
                crate::docker::cli::parse_go_bool(val)
                    .ok_or_else(|| format!("invalid value for volume-nocopy: {val}"))?;
                volume_opts = true;
            }
            "volume-label" | "volume-driver" | "volume-opt" => volume_opts = true,
            "tmpfs-size" => {
                crate::docker::cli::values::parse_ram_in_bytes(val)
                    .map_err(|_| format!("invalid value for {key}: {val}"))?;
                tmpfs_opts = true;
            }
            "tmpfs-mode" => {
                u32::from_str_radix(val, 8)
                    .map_err(|_| format!("invalid value for {key}: {val}"))?;
                tmpfs_opts = true;
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'").into()),
        }
    }
    if m.kind.is_empty() {
        return Err("type is required".into());
    }
    if m.target.is_empty() {
        return Err("target is required".into());
    }
    for (set, kind, what) in [
        (volume_opts, "volume", "volume-*"),
        (bind_opts, "bind", "bind-*"),
        (tmpfs_opts, "tmpfs", "tmpfs-*"),
    ] {
        if set && m.kind != kind {
            return Err(format!("cannot mix '{what}' options with mount type '{}'", m.kind).into());
        }
    }
    Ok(m)
}

/// docker/cli `opts.NetworkOpt.Set`.
pub fn parse_network(value: &str) -> Result<Network, ValueError> {
    let mut n = Network {
        target: String::new(),
        aliases: Vec::new(),
    };
    if !value.contains('=') {
        n.target = value.to_string();
        return Ok(n);
    }
    for field in csv_fields(value)? {
        let Some((key, val)) = field.split_once('=') else {
            return Err(format!("invalid field {field}").into());
        };
        let key = key.trim().to_ascii_lowercase();
        let val = val.trim().to_ascii_lowercase();
        match key.as_str() {
            "name" => n.target = val,
            "alias" => n.aliases.push(val),
            "driver-opt" => {
                if !val.contains('=') {
                    return Err("invalid key value pair format in driver options".into());
                }
            }
            "ip" | "ip6" | "link-local-ip" | "mac-address" | "gw-priority" => {}
            _ => return Err(format!("invalid field key {key}").into()),
        }
    }
    if n.target.is_empty() {
        return Err("network name/id is not specified".into());
    }
    Ok(n)
}

/// docker/cli `opts.SecretOpt.Set` / `opts.ConfigOpt.Set` (`what` is
/// `secret` or `config`).
pub fn parse_file_ref(value: &str, what: &str) -> Result<FileRef, ValueError> {
    let fields = csv_fields(value)?;
    if fields.len() == 1 && !fields[0].contains('=') {
        return Ok(FileRef {
            source: fields[0].clone(),
            target: fields[0].clone(),
        });
    }
    let mut r = FileRef {
        source: String::new(),
        target: String::new(),
    };
    for field in fields {
        let Some((key, val)) = field.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(format!("invalid field '{field}' must be a key=value pair").into());
        };
        match key.to_ascii_lowercase().as_str() {
            "source" | "src" => r.source = val.to_string(),
            "target" => r.target = val.to_string(),
            "uid" | "gid" => {}
            "mode" => {
                parse_go_uint_base0(val).map_err(|e| {
                    format!("invalid mode specified: strconv.ParseUint: parsing \"{val}\": {e}")
                })?;
            }
            _ => return Err(format!("invalid field in {what} request: {key}").into()),
        }
    }
    if r.source.is_empty() {
        return Err("source is required".into());
    }
    if r.target.is_empty() {
        r.target = r.source.clone();
    }
    Ok(r)
}

/// Go `strconv.ParseUint(s, 0, 32)`: `0x`, `0o`, `0b` or a leading `0`
/// select the base.
fn parse_go_uint_base0(s: &str) -> Result<u32, &'static str> {
    let t = s.replace('_', "");
    let (digits, radix) = if let Some(r) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        (r.to_string(), 16)
    } else if let Some(r) = t.strip_prefix("0o").or(t.strip_prefix("0O")) {
        (r.to_string(), 8)
    } else if let Some(r) = t.strip_prefix("0b").or(t.strip_prefix("0B")) {
        (r.to_string(), 2)
    } else if t.len() > 1 && t.starts_with('0') {
        (t[1..].to_string(), 8)
    } else {
        (t.clone(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err("invalid syntax");
    }
    u32::from_str_radix(&digits, radix).map_err(|_| "value out of range")
}

/// docker `opts.ValidateIPAddress`.
pub fn validate_ip(value: &str) -> Result<(), ValueError> {
    value
        .trim()
        .parse::<std::net::IpAddr>()
        .map(|_| ())
        .map_err(|_| ValueError(format!("IP address is not correctly formatted: {value}")))
}

/// docker `opts.ValidateDNSSearch`.
pub fn validate_dns_search(value: &str) -> Result<(), ValueError> {
    let v = value.trim_matches(' ');
    if v == "." {
        return Ok(());
    }
    let d = v.trim_end();
    let d = d.strip_suffix('.').unwrap_or(d);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if d.len() > 255 || d.is_empty() || !d.split('.').all(label_ok) {
        return Err(format!("{v} is not a valid domain").into());
    }
    Ok(())
}

/// docker `opts.ValidateExtraHost` (`host:ip`).
pub fn validate_extra_host(value: &str) -> Result<(), ValueError> {
    let Some((name, ip)) = value.split_once(':').filter(|(n, _)| !n.is_empty()) else {
        return Err(format!("bad format for add-host: {value:?}").into());
    };
    let _ = name;
    if validate_ip(ip).is_err() && ip != "host-gateway" {
        return Err(format!("invalid IP address in add-host: {ip:?}").into());
    }
    Ok(())
}

/// docker `opts.ValidateSingleGenericResource`.
pub fn validate_generic_resource(value: &str) -> Result<(), ValueError> {
    if !value.contains('=') {
        return Err(format!(
            "invalid generic-resource request `{value}`, format should be <kind>=<value>"
        )
        .into());
    }
    Ok(())
}

/// go-units `ParseUlimit`: `name=soft[:hard]`.
pub fn parse_ulimit(value: &str) -> Result<(String, (i64, i64)), ValueError> {
    const NAMES: &[&str] = &[
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    let Some((name, limits)) = value.split_once('=') else {
        return Err(format!("invalid ulimit argument: {value}").into());
    };
    if !NAMES.contains(&name) {
        return Err(format!("invalid ulimit type: {name}").into());
    }
    let num = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (num(s)?, num(h)?),
        None => {
            let s = num(limits)?;
            (s, s)
        }
    };
    if soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )
        .into());
    }
    Ok((name.to_string(), (soft, hard)))
}

/// docker/cli `credentialSpecOpt.Set`.
pub fn validate_credential_spec(value: &str) -> Result<(), ValueError> {
    if value.is_empty()
        || ["config://", "file://", "registry://"]
            .iter()
            .any(|p| value.starts_with(p))
    {
        return Ok(());
    }
    Err(
        "invalid credential spec: value must be prefixed with \"config://\", \"file://\", or \"registry://\""
            .into(),
    )
}

/// docker/cli `opts.NormalizeCapability`: upper case, `CAP_` prefixed
/// (`ALL` stays `ALL`).
pub fn normalize_capability(cap: &str) -> String {
    let c = cap.trim().to_ascii_uppercase();
    if c == "ALL" || c.starts_with("CAP_") {
        c
    } else {
        format!("CAP_{c}")
    }
}

/// moby `signal.ParseSignal` as the daemon applies it to `--stop-signal`:
/// a number, or a name with or without `SIG` (`RTMIN+n`, `RTMAX-n` too).
pub fn stop_signal_number(value: &str) -> Result<i64, ValueError> {
    signal_number(value).ok_or_else(|| ValueError(format!("Invalid signal: {value}")))
}

/// Sorted, without duplicates.
fn sorted_set(v: impl IntoIterator<Item = String>) -> Vec<String> {
    let s: std::collections::BTreeSet<String> = v.into_iter().collect();
    s.into_iter().collect()
}

/// The container flags of one `docker service create` or `update` line,
/// checked; `None`/empty when not given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtraFlags {
    pub hostname: Option<String>,
    pub dir: Option<String>,
    pub user: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub tty: Option<bool>,
    pub read_only: Option<bool>,
    pub stop_signal: Option<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub log_driver: Option<String>,
    pub log_opts: Vec<(String, String)>,
    pub isolation: Option<String>,
    pub oom_score_adj: Option<i64>,
    pub credential_spec: Option<String>,
    // `create` lists, or `update` additions.
    pub mounts: Vec<Mount>,
    pub networks: Vec<Network>,
    pub secrets: Vec<FileRef>,
    pub configs: Vec<FileRef>,
    pub dns: Vec<String>,
    pub dns_options: Vec<String>,
    pub dns_search: Vec<String>,
    pub hosts: Vec<String>,
    pub groups: Vec<String>,
    pub sysctls: Vec<(String, String)>,
    pub ulimits: Vec<(String, (i64, i64))>,
    pub generic_resources: Vec<String>,
    pub container_labels: Vec<(String, String)>,
    pub env_files: Vec<String>,
    // `update` removals.
    pub mount_rm: Vec<String>,
    pub network_rm: Vec<String>,
    pub secret_rm: Vec<String>,
    pub config_rm: Vec<String>,
    pub dns_rm: Vec<String>,
    pub dns_option_rm: Vec<String>,
    pub dns_search_rm: Vec<String>,
    pub host_rm: Vec<String>,
    pub group_rm: Vec<String>,
    pub sysctl_rm: Vec<String>,
    pub ulimit_rm: Vec<String>,
    pub generic_resource_rm: Vec<String>,
    pub container_label_rm: Vec<String>,
}

impl ExtraFlags {
    /// Whether no container flag was given ([`ExtraFlags::apply`] would
    /// change nothing). Every field is named, so that a new flag cannot be
    /// forgotten here.
    pub fn is_empty(&self) -> bool {
        let ExtraFlags {
            hostname,
            dir,
            user,
            entrypoint,
            tty,
            read_only,
            stop_signal,
            cap_add,
            cap_drop,
            log_driver,
            log_opts,
            isolation,
            oom_score_adj,
            credential_spec,
            mounts,
            networks,
            secrets,
            configs,
            dns,
            dns_options,
            dns_search,
            hosts,
            groups,
            sysctls,
            ulimits,
            generic_resources,
            container_labels,
            env_files,
            mount_rm,
            network_rm,
            secret_rm,
            config_rm,
            dns_rm,
            dns_option_rm,
            dns_search_rm,
            host_rm,
            group_rm,
            sysctl_rm,
            ulimit_rm,
            generic_resource_rm,
            container_label_rm,
        } = self;
        hostname.is_none()
            && dir.is_none()
            && user.is_none()
            && entrypoint.is_none()
            && tty.is_none()
            && read_only.is_none()
            && stop_signal.is_none()
            && log_driver.is_none()
            && isolation.is_none()
            && oom_score_adj.is_none()
            && credential_spec.is_none()
            && cap_add.is_empty()
            && cap_drop.is_empty()
            && log_opts.is_empty()
            && mounts.is_empty()
            && networks.is_empty()
            && secrets.is_empty()
            && configs.is_empty()
            && dns.is_empty()
            && dns_options.is_empty()
            && dns_search.is_empty()
            && hosts.is_empty()
            && groups.is_empty()
            && sysctls.is_empty()
            && ulimits.is_empty()
            && generic_resources.is_empty()
            && container_labels.is_empty()
            && env_files.is_empty()
            && mount_rm.is_empty()
            && network_rm.is_empty()
            && secret_rm.is_empty()
            && config_rm.is_empty()
            && dns_rm.is_empty()
            && dns_option_rm.is_empty()
            && dns_search_rm.is_empty()
            && host_rm.is_empty()
            && group_rm.is_empty()
            && sysctl_rm.is_empty()
            && ulimit_rm.is_empty()
            && generic_resource_rm.is_empty()
            && container_label_rm.is_empty()
    }

    /// The spec `docker service create` sends.
    pub fn for_create(&self) -> ContainerExtras {
        let mut c = ContainerExtras::default();
        self.apply(&mut c);
        // `service create` keeps the mounts in command-line order; the
        // networks are sorted by target (`convertNetworks`).
        c.mounts = self.mounts.clone();
        c
    }

    /// Applies the flags to the current settings as docker/cli
    /// `updateService` does (additions replace an entry with the same key;
    /// lists docker sorts are sorted).
    pub fn apply(&self, c: &mut ContainerExtras) {
        for (field, v) in [
            (&mut c.hostname, &self.hostname),
            (&mut c.dir, &self.dir),
            (&mut c.user, &self.user),
            (&mut c.stop_signal, &self.stop_signal),
            (&mut c.isolation, &self.isolation),
            (&mut c.credential_spec, &self.credential_spec),
        ] {
            if let Some(v) = v {
                *field = v.clone();
            }
        }
        if let Some(v) = self.log_driver.as_ref().filter(|d| !d.is_empty()) {
            c.log_driver = v.clone();
        }
        if let Some(v) = &self.entrypoint {
            c.entrypoint = v.clone();
        }
        if let Some(v) = self.tty {
            c.tty = v;
        }
        if let Some(v) = self.read_only {
            c.read_only = v;
        }
        if let Some(v) = self.oom_score_adj {
            c.oom_score_adj = v;
        }
        // `toLogDriver` / `updateLogDriver`: options count only with a
        // driver name, and replace the old ones.
        if self.log_driver.as_deref().is_some_and(|d| !d.is_empty()) {
            c.log_opts = self.log_opts.iter().cloned().collect();
        }
        // `updateCapabilities`: an added capability leaves the drop list
        // and the other way round.
        if !self.cap_add.is_empty() || !self.cap_drop.is_empty() {
            let add: Vec<String> = self
                .cap_add
                .iter()
                .map(|s| normalize_capability(s))
                .collect();
            let drop: Vec<String> = self
                .cap_drop
                .iter()
                .map(|s| normalize_capability(s))
                .collect();
            c.cap_add = sorted_set(
                c.cap_add
                    .iter()
                    .filter(|x| !drop.contains(x))
                    .cloned()
                    .chain(add.iter().filter(|x| !drop.contains(x)).cloned()),
            );
            c.cap_drop = sorted_set(
                c.cap_drop
                    .iter()
                    .filter(|x| !add.contains(x))
                    .cloned()
                    .chain(drop.iter().filter(|x| !add.contains(x)).cloned()),
            );
        }
        // `updateMounts`: by target; sorted by source, then target.
        if !self.mounts.is_empty() || !self.mount_rm.is_empty() {
            let mut by_target: BTreeMap<String, Mount> = BTreeMap::new();
            for m in &self.mounts {
                by_target.insert(m.target.clone(), m.clone());
            }
            for m in &c.mounts {
                by_target
                    .entry(m.target.clone())
                    .or_insert_with(|| m.clone());
            }
            let mut v: Vec<Mount> = by_target
                .into_values()
                .filter(|m| !self.mount_rm.contains(&m.target))
                .collect();
            v.sort_by(|a, b| (&a.source, &a.target).cmp(&(&b.source, &b.target)));
            c.mounts = v;
        }
        // `updateNetworks`: removed by name, added, sorted by target.
        if !self.networks.is_empty() || !self.network_rm.is_empty() {
            c.networks.retain(|n| !self.network_rm.contains(&n.target));
            for n in &self.networks {
                c.networks.retain(|x| x.target != n.target);
                c.networks.push(n.clone());
            }
            c.networks.sort_by(|a, b| a.target.cmp(&b.target));
        }
        for (list, add, rm) in [
            (&mut c.secrets, &self.secrets, &self.secret_rm),
            (&mut c.configs, &self.configs, &self.config_rm),
        ] {
            list.retain(|r| !rm.contains(&r.source));
            for r in add {
                list.retain(|x| x.target != r.target);
                list.push(r.clone());
            }
        }
        for (list, add, rm, sort) in [
            (&mut c.dns, &self.dns, &self.dns_rm, true),
            (
                &mut c.dns_options,
                &self.dns_options,
                &self.dns_option_rm,
                true,
            ),
            (
                &mut c.dns_search,
                &self.dns_search,
                &self.dns_search_rm,
                true,
            ),
            (&mut c.groups, &self.groups, &self.group_rm, true),
            (
                &mut c.generic_resources,
                &self.generic_resources,
                &self.generic_resource_rm,
                false,
            ),
            (&mut c.hosts, &self.hosts, &self.host_rm, false),
        ] {
            if add.is_empty() && rm.is_empty() {
                continue;
            }
            list.retain(|x| !rm.contains(x));
            for a in add {
                if !list.contains(a) {
                    list.push(a.clone());
                }
            }
            if sort {
                list.sort();
            }
        }
        for (map, add, rm) in [
            (&mut c.sysctls, &self.sysctls, &self.sysctl_rm),
            (
                &mut c.container_labels,
                &self.container_labels,
                &self.container_label_rm,
            ),
        ] {
            for k in rm {
                map.remove(k);
            }
            for (k, v) in add {
                map.insert(k.clone(), v.clone());
            }
        }
        for k in &self.ulimit_rm {
            c.ulimits.remove(k);
        }
        for (k, v) in &self.ulimits {
            c.ulimits.insert(k.clone(), *v);
        }
        c.env_files.extend(self.env_files.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_flag_is_empty_and_any_flag_is_not() {
        assert!(ExtraFlags::default().is_empty());
        let one = [
            ExtraFlags {
                hostname: Some(String::new()),
                ..ExtraFlags::default()
            },
            ExtraFlags {
                tty: Some(false),
                ..ExtraFlags::default()
            },
            ExtraFlags {
                container_label_rm: vec!["a".to_string()],
                ..ExtraFlags::default()
            },
            ExtraFlags {
                env_files: vec!["f".to_string()],
                ..ExtraFlags::default()
            },
        ];
        for f in one {
            assert!(!f.is_empty(), "{f:?}");
        }
    }

    /// `service update` without container flags shares the container
    /// settings with the previous spec; with one, the new spec has its own.
    #[test]
    fn update_shares_container_settings_unless_changed() {
        use crate::docker::cli::{DockerCommand, parse_command_line};
        use std::rc::Rc;
        let DockerCommand::ServiceCreate { spec, .. } =
            parse_command_line("docker service create --name web --hostname h web:1").unwrap()
        else {
            panic!("not a create")
        };
        let update = |line: &str| {
            let DockerCommand::ServiceUpdate { args, .. } = parse_command_line(line).unwrap()
            else {
                panic!("not an update")
            };
            let mut new = spec.clone();
            args.apply(&mut new);
            new
        };
        let image = update("docker service update --image web:2 web");
        assert_eq!(image.task.image, "web:2");
        assert!(Rc::ptr_eq(&image.task.container, &spec.task.container));
        let host = update("docker service update --hostname g web");
        assert!(!Rc::ptr_eq(&host.task.container, &spec.task.container));
        assert_eq!(host.task.container.hostname, "g");
        assert_eq!(spec.task.container.hostname, "h");
    }

    #[test]
    fn mounts_like_docker() {
        let m = parse_mount("type=bind,source=/data,target=/app,readonly").unwrap();
        assert_eq!(
            (
                m.kind.as_str(),
                m.source.as_str(),
                m.target.as_str(),
                m.read_only
            ),
            ("bind", "/data", "/app", true)
        );
        let m = parse_mount("src=vol,dst=/v").unwrap();
        assert_eq!(m.kind, "volume");
        assert_eq!(
            parse_mount("source=x").unwrap_err().to_string(),
            "target is required"
        );
        assert_eq!(
            parse_mount("type=bind,target=/a,bogus")
                .unwrap_err()
                .to_string(),
            "invalid field 'bogus' must be a key=value pair"
        );
        assert_eq!(
            parse_mount("type=bind,target=/a,colour=red")
                .unwrap_err()
                .to_string(),
            "unexpected key 'colour' in 'colour=red'"
        );
        assert_eq!(
            parse_mount("type=bind,target=/a,volume-nocopy")
                .unwrap_err()
                .to_string(),
            "cannot mix 'volume-*' options with mount type 'bind'"
        );
        assert_eq!(
            parse_mount("target=/a,ro=maybe").unwrap_err().to_string(),
            "invalid value for ro: maybe"
        );
        assert_eq!(parse_mount("\"target=/a,b\",ro").unwrap().target, "/a,b");
    }

    #[test]
    fn networks_secrets_and_others() {
        assert_eq!(parse_network("front").unwrap().target, "front");
        let n = parse_network("name=back,alias=db").unwrap();
        assert_eq!(
            (n.target.as_str(), n.aliases.clone()),
            ("back", vec!["db".to_string()])
        );
        assert_eq!(
            parse_network("alias=db").unwrap_err().to_string(),
            "network name/id is not specified"
        );
        assert_eq!(
            parse_network("nam=x").unwrap_err().to_string(),
            "invalid field key nam"
        );
        let s = parse_file_ref("source=pw,target=/run/pw,mode=0400", "secret").unwrap();
        assert_eq!((s.source.as_str(), s.target.as_str()), ("pw", "/run/pw"));
        assert_eq!(parse_file_ref("pw", "secret").unwrap().target, "pw");
        assert_eq!(
            parse_file_ref("target=/x", "config")
                .unwrap_err()
                .to_string(),
            "source is required"
        );
        assert_eq!(
            parse_file_ref("source=a,colour=1", "config")
                .unwrap_err()
                .to_string(),
            "invalid field in config request: colour"
        );
        assert!(
            parse_file_ref("source=a,mode=9z", "secret")
                .unwrap_err()
                .to_string()
                .starts_with("invalid mode specified")
        );
        assert_eq!(
            parse_ulimit("nofile=1024:2048").unwrap(),
            ("nofile".to_string(), (1024, 2048))
        );
        assert_eq!(
            parse_ulimit("nofiles=1").unwrap_err().to_string(),
            "invalid ulimit type: nofiles"
        );
        assert_eq!(
            parse_ulimit("nofile=4:2").unwrap_err().to_string(),
            "ulimit soft limit must be less than or equal to hard limit: 4 > 2"
        );
        assert!(validate_ip("10.0.0.2").is_ok());
        assert_eq!(
            validate_ip("10.0.0").unwrap_err().to_string(),
            "IP address is not correctly formatted: 10.0.0"
        );
        assert!(validate_extra_host("db:10.0.0.2").is_ok());
        assert_eq!(
            validate_extra_host("db").unwrap_err().to_string(),
            "bad format for add-host: \"db\""
        );
        assert!(validate_dns_search("example.com").is_ok());
        assert_eq!(
            validate_dns_search("-bad-.com").unwrap_err().to_string(),
            "-bad-.com is not a valid domain"
        );
        assert_eq!(normalize_capability("net_admin"), "CAP_NET_ADMIN");
        assert_eq!(stop_signal_number("SIGINT"), Ok(2));
        assert_eq!(stop_signal_number("quit"), Ok(3));
        assert_eq!(stop_signal_number("9"), Ok(9));
        assert_eq!(stop_signal_number("RTMIN+2"), Ok(36));
        assert_eq!(
            stop_signal_number("SIGFOO"),
            Err("Invalid signal: SIGFOO".into())
        );
    }

    #[test]
    fn update_adds_and_removes_like_docker() {
        let create = ExtraFlags {
            mounts: vec![parse_mount("type=volume,src=b,dst=/b").unwrap()],
            networks: vec![parse_network("front").unwrap()],
            cap_add: vec!["net_admin".to_string()],
            ..Default::default()
        };
        let mut c = create.for_create();
        let upd = ExtraFlags {
            mounts: vec![parse_mount("type=volume,src=a,dst=/a").unwrap()],
            mount_rm: vec!["/b".to_string()],
            networks: vec![parse_network("back").unwrap()],
            cap_drop: vec!["NET_ADMIN".to_string()],
            ..Default::default()
        };
        upd.apply(&mut c);
        let targets: Vec<&str> = c.mounts.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(targets, ["/a"]);
        let nets: Vec<&str> = c.networks.iter().map(|n| n.target.as_str()).collect();
        assert_eq!(nets, ["back", "front"]);
        assert!(c.cap_add.is_empty());
        assert_eq!(c.cap_drop, ["CAP_NET_ADMIN"]);
    }
}

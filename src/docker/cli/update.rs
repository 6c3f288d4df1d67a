//! `docker service update` flags and how docker/cli `updateService`
//! applies them to the current spec.

use std::rc::Rc;

use super::CliError;
use crate::sim::time::SimDuration;
use crate::swarm::model::{
    DEFAULT_MONITOR, DEFAULT_RESTART_DELAY, FailureAction, Healthcheck, PortConfig, PublishMode,
    RestartCondition, RestartPolicy, ServiceMode, ServiceSpec, SpreadPreference, UpdateConfig,
    UpdateOrder,
};

/// A setting of an update (or rollback) config: its key under
/// `update_config:` in YAML and `--set`, and its flag after `--update-` /
/// `--rollback-`. [`ConfigKey::ALL`] is the order in which docker/cli
/// reads the flags (and the YAML loader the keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKey {
    Parallelism,
    Delay,
    Monitor,
    FailureAction,
    MaxFailureRatio,
    Order,
}

impl ConfigKey {
    pub const ALL: [ConfigKey; 6] = [
        ConfigKey::Parallelism,
        ConfigKey::Delay,
        ConfigKey::Monitor,
        ConfigKey::FailureAction,
        ConfigKey::MaxFailureRatio,
        ConfigKey::Order,
    ];

    /// The key in YAML (`update_config: {max_failure_ratio: ...}`).
    pub const fn key(self) -> &'static str {
        match self {
            ConfigKey::Parallelism => "parallelism",
            ConfigKey::Delay => "delay",
            ConfigKey::Monitor => "monitor",
            ConfigKey::FailureAction => "failure_action",
            ConfigKey::MaxFailureRatio => "max_failure_ratio",
            ConfigKey::Order => "order",
        }
    }

    /// The flag after the `update-`/`rollback-` prefix.
    pub fn flag(self) -> &'static str {
        match self {
            ConfigKey::Parallelism => "parallelism",
            ConfigKey::Delay => "delay",
            ConfigKey::Monitor => "monitor",
            ConfigKey::FailureAction => "failure-action",
            ConfigKey::MaxFailureRatio => "max-failure-ratio",
            ConfigKey::Order => "order",
        }
    }

    pub fn from_key(key: &str) -> Option<ConfigKey> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The YAML keys, in [`ConfigKey::ALL`] order.
    pub const KEYS: [&'static str; 6] = [
        ConfigKey::Parallelism.key(),
        ConfigKey::Delay.key(),
        ConfigKey::Monitor.key(),
        ConfigKey::FailureAction.key(),
        ConfigKey::MaxFailureRatio.key(),
        ConfigKey::Order.key(),
    ];
}

/// One typed setting of an update (or rollback) config, whichever road
/// it came by (a flag, YAML, an `update:` item, `--set`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConfigSetting {
    Parallelism(u64),
    Delay(SimDuration),
    Monitor(SimDuration),
    FailureAction(FailureAction),
    MaxFailureRatio(f32),
    Order(UpdateOrder),
}

/// The `--update-*` (or `--rollback-*`) flags that were given.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ConfigFlags {
    pub parallelism: Option<u64>,
    pub delay: Option<SimDuration>,
    pub monitor: Option<SimDuration>,
    pub failure_action: Option<FailureAction>,
    pub max_failure_ratio: Option<f32>,
    pub order: Option<UpdateOrder>,
}

impl ConfigFlags {
    pub fn any(&self) -> bool {
        self.parallelism.is_some()
            || self.delay.is_some()
            || self.monitor.is_some()
            || self.failure_action.is_some()
            || self.max_failure_ratio.is_some()
            || self.order.is_some()
    }

    /// Records one setting (a later one replaces an earlier one).
    pub fn set(&mut self, s: ConfigSetting) {
        match s {
            ConfigSetting::Parallelism(v) => self.parallelism = Some(v),
            ConfigSetting::Delay(v) => self.delay = Some(v),
            ConfigSetting::Monitor(v) => self.monitor = Some(v),
            ConfigSetting::FailureAction(v) => self.failure_action = Some(v),
            ConfigSetting::MaxFailureRatio(v) => self.max_failure_ratio = Some(v),
            ConfigSetting::Order(v) => self.order = Some(v),
        }
    }

    /// The config the CLI pre-fills from swarmkit's defaults
    /// (`updateConfigFromDefaults`): parallelism 1, delay 0, monitor 5s,
    /// pause, ratio 0, stop-first.
    pub fn prefilled_default() -> UpdateConfig {
        UpdateConfig {
            monitor: DEFAULT_MONITOR,
            ..UpdateConfig::default()
        }
    }

    /// Overrides the given fields of `cfg`.
    pub fn apply_to(&self, cfg: &mut UpdateConfig) {
        if let Some(v) = self.parallelism {
            cfg.parallelism = v;
        }
        if let Some(v) = self.delay {
            cfg.delay = v;
        }
        if let Some(v) = self.monitor {
            cfg.monitor = v;
        }
        if let Some(v) = self.failure_action {
            cfg.failure_action = v;
        }
        if let Some(v) = self.max_failure_ratio {
            cfg.max_failure_ratio = v;
        }
        if let Some(v) = self.order {
            cfg.order = v;
        }
    }

    /// On create, a config is sent only if one of the group's flags was
    /// given (pre-filled from the defaults); on update the same pre-fill
    /// happens only when the service had none.
    pub fn update(&self, current: &mut Option<UpdateConfig>) {
        if !self.any() {
            return;
        }
        let cfg = current.get_or_insert_with(Self::prefilled_default);
        self.apply_to(cfg);
    }
}

/// The `--restart-*` flags that were given.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RestartFlags {
    pub condition: Option<RestartCondition>,
    pub delay: Option<SimDuration>,
    pub max_attempts: Option<u64>,
    pub window: Option<SimDuration>,
}

impl RestartFlags {
    pub fn any(&self) -> bool {
        self.condition.is_some()
            || self.delay.is_some()
            || self.max_attempts.is_some()
            || self.window.is_some()
    }

    /// docker/cli `defaultRestartPolicy` pre-fill (any, 5s, 0, no window),
    /// then the given fields.
    pub fn update(&self, current: &mut Option<RestartPolicy>) {
        if !self.any() {
            return;
        }
        let p = current.get_or_insert(RestartPolicy {
            condition: RestartCondition::Any,
            delay: Some(DEFAULT_RESTART_DELAY),
            max_attempts: 0,
            window: SimDuration::ZERO,
        });
        self.apply_to(p);
    }

    /// Overrides the given fields of `p`.
    pub fn apply_to(&self, p: &mut RestartPolicy) {
        if let Some(v) = self.condition {
            p.condition = v;
        }
        if let Some(v) = self.delay {
            p.delay = Some(v);
        }
        if let Some(v) = self.max_attempts {
            p.max_attempts = v;
        }
        if let Some(v) = self.window {
            p.window = v;
        }
    }
}

/// The `--health-*` and `--no-healthcheck` flags that were given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthFlags {
    pub cmd: Option<String>,
    pub interval: Option<SimDuration>,
    pub timeout: Option<SimDuration>,
    pub retries: Option<u64>,
    pub start_period: Option<SimDuration>,
    pub start_interval: Option<SimDuration>,
    /// `--no-healthcheck` (or `--no-healthcheck=false`).
    pub no_healthcheck: Option<bool>,
}

impl HealthFlags {
    fn any_setting(&self) -> bool {
        self.cmd.is_some()
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.retries.is_some()
            || self.start_period.is_some()
            || self.start_interval.is_some()
    }

    /// docker/cli rejects `--no-healthcheck` together with `--health-*`.
    pub fn check(&self) -> Result<(), CliError> {
        if self.no_healthcheck == Some(true) && self.any_setting() {
            return Err(CliError::Refused(
                "--no-healthcheck conflicts with --health-* options".to_string(),
            ));
        }
        Ok(())
    }

    /// `docker service create` (`toHealthConfig`): a config only if a
    /// setting was given (an empty `--health-cmd` and `--health-retries 0`
    /// do not count).
    pub fn for_create(&self) -> Option<Healthcheck> {
        if self.no_healthcheck == Some(true) {
            return Some(Healthcheck {
                test: vec!["NONE".to_string()],
                ..Healthcheck::default()
            });
        }
        let have = self.cmd.as_deref().is_some_and(|c| !c.is_empty())
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.start_period.is_some()
            || self.start_interval.is_some()
            || self.retries.is_some_and(|r| r != 0);
        if !have {
            return None;
        }
        let mut hc = Healthcheck::default();
        self.apply_settings(&mut hc);
        Some(hc)
    }

    fn apply_settings(&self, hc: &mut Healthcheck) {
        if let Some(v) = self.interval {
            hc.interval = v;
        }
        if let Some(v) = self.timeout {
            hc.timeout = v;
        }
        if let Some(v) = self.start_period {
            hc.start_period = v;
        }
        if let Some(v) = self.start_interval {
            hc.start_interval = v;
        }
        if let Some(v) = self.retries {
            hc.retries = v;
        }
        if let Some(cmd) = &self.cmd {
            hc.test = if cmd.is_empty() {
                Vec::new()
            } else {
                vec!["CMD-SHELL".to_string(), cmd.clone()]
            };
        }
    }

    /// `docker service update` (`updateHealthcheck`). Unlike docker/cli,
    /// `--health-start-interval` is applied too (docker's update code
    /// forgets it; a user expects it to work).
    pub fn update(&self, current: &mut Option<Healthcheck>) {
        if !self.any_setting() && self.no_healthcheck.is_none() {
            return;
        }
        let hc = current.get_or_insert_with(Healthcheck::default);
        if self.no_healthcheck == Some(true) {
            *hc = Healthcheck {
                test: vec!["NONE".to_string()],
                ..Healthcheck::default()
            };
            return;
        }
        if hc.disabled() {
            hc.test.clear();
        }
        self.apply_settings(hc);
    }
}

/// The flags of `docker service update`, applied to the current spec by
/// [`UpdateArgs::apply`]. Each field is `None`/empty when its flag was not
/// given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateArgs {
    /// Every flag given, in command-line order: (long name, value);
    /// booleans record `true`/`false`.
    pub flags: Vec<(String, String)>,
    pub image: Option<String>,
    /// `--args`: the new command arguments (shell words).
    pub args: Option<Vec<String>>,
    pub replicas: Option<u64>,
    /// `--force`: bump `ForceUpdate`, so every task is redeployed.
    pub force: bool,
    pub quiet: bool,
    pub update_config: ConfigFlags,
    pub rollback_config: ConfigFlags,
    pub restart: RestartFlags,
    pub constraint_add: Vec<String>,
    pub constraint_rm: Vec<String>,
    pub placement_pref_add: Vec<SpreadPreference>,
    pub placement_pref_rm: Vec<SpreadPreference>,
    pub replicas_max_per_node: Option<u64>,
    pub reserve_cpu: Option<i64>,
    pub reserve_memory: Option<i64>,
    pub limit_cpu: Option<i64>,
    pub limit_memory: Option<i64>,
    pub limit_pids: Option<i64>,
    pub health: HealthFlags,
    pub env_add: Vec<String>,
    pub env_rm: Vec<String>,
    pub label_add: Vec<String>,
    pub label_rm: Vec<String>,
    pub publish_add: Vec<PortConfig>,
    pub publish_rm: Vec<PortConfig>,
    pub stop_grace_period: Option<SimDuration>,
    pub init: Option<bool>,
    pub endpoint_mode: Option<String>,
    /// Container flags kept but not modelled, and `--stop-signal`.
    pub extra: super::container::ExtraFlags,
}

/// docker/cli `portConfigToString`, used as the sort/dedup key.
fn port_key(p: &PortConfig) -> String {
    let mode = match p.mode {
        PublishMode::Ingress => "ingress",
        PublishMode::Host => "host",
    };
    format!("{}:{}/{}/{}", p.published, p.target, p.protocol, mode)
}

fn env_key(v: &str) -> &str {
    v.split_once('=').map_or(v, |(k, _)| k)
}

impl UpdateArgs {
    /// Errors docker/cli raises while applying the flags to this service
    /// (`updateReplicas`). Call before [`UpdateArgs::apply`].
    pub fn check(&self, spec: &ServiceSpec) -> Result<(), CliError> {
        if self.replicas.is_some() && matches!(spec.mode, ServiceMode::Global) {
            return Err(CliError::Refused(
                "replicas can only be used with replicated mode".to_string(),
            ));
        }
        Ok(())
    }

    /// Whether any flag other than `--detach`/`--quiet` was given (docker
    /// refuses those together with `--rollback`).
    pub fn has_spec_flags(&self) -> bool {
        self.flags
            .iter()
            .any(|(n, _)| !matches!(n.as_str(), "detach" | "quiet" | "rollback"))
    }

    /// Applies the flags to `spec` as docker/cli `updateService` does:
    /// labels, image, args, env, init, resources, stop grace period,
    /// restart policy (pre-filled if absent), constraints (added, removed,
    /// then sorted), placement preferences, replicas, max replicas per
    /// node, update/rollback config (pre-filled if absent), endpoint mode,
    /// published ports (deduplicated and sorted like docker), force, and
    /// healthcheck. `--replicas` on a global service is ignored here (see
    /// [`UpdateArgs::check`]). Environment additions replace a variable in
    /// place or are appended (docker's order is random, ours is stable).
    pub fn apply(&self, spec: &mut ServiceSpec) {
        for key in &self.label_rm {
            spec.labels.remove(key);
        }
        for kv in &self.label_add {
            let (k, v) = super::values::split_kv(kv);
            spec.labels.insert(k, v);
        }
        if let Some(mode) = &self.endpoint_mode {
            spec.endpoint_mode = crate::swarm::model::endpoint_mode(mode);
        }
        if let (Some(r), ServiceMode::Replicated { replicas }) = (self.replicas, &mut spec.mode) {
            *replicas = r;
        }
        self.update_config.update(&mut spec.update_config);
        self.rollback_config.update(&mut spec.rollback_config);
        if !self.publish_add.is_empty() || !self.publish_rm.is_empty() {
            let mut seen = std::collections::BTreeSet::new();
            let current: Vec<PortConfig> = spec
                .ports
                .iter()
                .filter(|p| seen.insert(port_key(p)))
                .cloned()
                .collect();
            let mut ports: Vec<PortConfig> = current
                .iter()
                .filter(|p| {
                    !self.publish_rm.iter().any(|r| {
                        r.protocol == p.protocol && r.target == p.target && r.mode == p.mode
                    })
                })
                .cloned()
                .collect();
            for p in &self.publish_add {
                if !seen.contains(&port_key(p)) {
                    ports.push(p.clone());
                }
            }
            ports.sort_by_key(port_key);
            spec.ports = ports;
        }

        let task = Rc::make_mut(&mut spec.task);
        if let Some(image) = &self.image {
            task.image = image.clone();
        }
        if let Some(args) = &self.args {
            task.args = args.clone();
        }
        if !self.env_rm.is_empty() {
            task.env
                .retain(|e| !self.env_rm.iter().any(|k| k == env_key(e)));
        }
        for e in &self.env_add {
            match task.env.iter_mut().find(|cur| env_key(cur) == env_key(e)) {
                Some(cur) => *cur = e.clone(),
                None => task.env.push(e.clone()),
            }
        }
        if let Some(init) = self.init {
            task.init = Some(init);
        }
        let r = &mut task.resources;
        for (flag, field) in [
            (self.limit_cpu, &mut r.limit_nano_cpus),
            (self.limit_memory, &mut r.limit_memory),
            (self.limit_pids, &mut r.limit_pids),
            (self.reserve_cpu, &mut r.reserve_nano_cpus),
            (self.reserve_memory, &mut r.reserve_memory),
        ] {
            if let Some(v) = flag {
                *field = v;
            }
        }
        if let Some(v) = self.stop_grace_period {
            task.stop_grace_period = Some(v);
        }
        self.restart.update(&mut task.restart_policy);
        if !self.constraint_add.is_empty() || !self.constraint_rm.is_empty() {
            let mut c = task.placement.constraints.clone();
            c.extend(self.constraint_add.iter().cloned());
            c.retain(|x| !self.constraint_rm.contains(x));
            c.sort();
            task.placement.constraints = c;
        }
        if !self.placement_pref_rm.is_empty() {
            task.placement
                .preferences
                .retain(|p| !self.placement_pref_rm.iter().any(|r| r.spread == p.spread));
        }
        task.placement
            .preferences
            .extend(self.placement_pref_add.iter().cloned());
        if let Some(v) = self.replicas_max_per_node {
            task.placement.max_replicas = v;
        }
        if self.force {
            task.force_update += 1;
        }
        self.health.update(&mut task.healthcheck);
        // Applying no container flag changes nothing: keep the shared
        // settings rather than copy them.
        if !self.extra.is_empty() {
            self.extra.apply(Rc::make_mut(&mut task.container));
        }
    }
}

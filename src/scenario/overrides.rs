//! `--set` overrides: the one mechanism behind `diff --set KEY=VALUE` and
//! every cell of `sweep --set KEY=V1,V2,...` (docs/development.md, "How a
//! service setting enters").
//!
//! An [`Override`] names a service (or, for `sweep`, an image profile), a
//! path of keys below it and a value. The loader applies it to the parsed
//! YAML before validating it, so the value is checked as it would be in
//! the file: to `services:` of the scenario, to the services of its
//! `compose:` file (or of a bare stack file), to `images:`. A service that
//! only a `docker service create` of the timeline creates has the typed
//! spec of that command changed instead ([`ServiceField`]); later
//! `docker service update` flags of the timeline still apply on top.

use std::path::Path;

use serde_yaml::Value;

use super::{Action, Scenario, ScenarioError};
use crate::docker::cli::{ConfigFlags, ConfigKey, ConfigSetting, DockerCommand};
use crate::docker::duration::parse_duration_nonneg;
use crate::swarm::model::{FailureAction, ServiceMode, UpdateOrder};

/// What an override changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `services.NAME` (of the scenario or its stack file), or the
    /// `docker service create` of the timeline that names it.
    Service(String),
    /// `images.NAME` (`default` or an image reference).
    Image(String),
}

/// One `--set` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// As given (`web.update_config.parallelism=2`), for messages.
    pub text: String,
    pub target: Target,
    /// Keys below the service or image, `deploy` inserted where implied.
    pub path: Vec<String>,
    /// The value as written.
    pub raw: String,
    /// The value read as YAML (`2`, `10s`, `start-first`, `[a, b]`).
    pub value: Value,
}

impl Override {
    /// An override of `target`: `keys` below it (a key of a Compose
    /// `deploy:` section may omit `deploy.`), `raw` read as YAML.
    pub fn new(
        text: &str,
        target: Target,
        keys: &[&str],
        raw: &str,
    ) -> Result<Override, ScenarioError> {
        let mut path: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        if matches!(target, Target::Service(_))
            && path
                .first()
                .is_some_and(|k| super::deploy::DEPLOY_KEYS.contains(&k.as_str()))
        {
            path.insert(0, "deploy".to_string());
        }
        let value = super::parse_yaml(raw)?;
        Ok(Override {
            text: text.to_string(),
            target,
            path,
            raw: raw.to_string(),
            value,
        })
    }

    /// The service this override names, if it names one.
    pub fn service(&self) -> Option<&str> {
        match &self.target {
            Target::Service(s) => Some(s),
            Target::Image(_) => None,
        }
    }
}

/// Parses `diff --set SERVICE.KEY[.KEY...]=VALUE`.
pub fn parse_override(text: &str) -> Result<Override, ScenarioError> {
    let usage = || {
        ScenarioError::Override(format!(
            "--set `{text}`: expected SERVICE.KEY=VALUE, e.g. web.update_config.parallelism=2"
        ))
    };
    let Some((key, value)) = text.split_once('=') else {
        return Err(usage());
    };
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(usage());
    }
    Override::new(
        text,
        Target::Service(parts[0].to_string()),
        &parts[1..],
        value,
    )
    .map_err(|e| {
        ScenarioError::Override(format!(
            "--set `{text}`: the value is not valid YAML: {}",
            e.message()
        ))
    })
}

/// Applies the overrides whose target is in `root` (its `services:`, and
/// `images:` when `images` is true, creating missing mappings on the way);
/// marks them done.
pub(crate) fn apply_overrides(root: &mut Value, overrides: &mut [(Override, bool)], images: bool) {
    for (o, done) in overrides.iter_mut() {
        if *done {
            continue;
        }
        let start = match &o.target {
            Target::Service(name) => {
                let Some(svc) = root
                    .get_mut("services")
                    .and_then(|s| s.get_mut(name.as_str()))
                else {
                    continue;
                };
                svc
            }
            Target::Image(name) => {
                if !images || !root.is_mapping() {
                    continue;
                }
                let section = child(root, "images");
                child(section, name)
            }
        };
        *descend(start, &o.path) = o.value.clone();
        *done = true;
    }
}

/// `v[key]`, made a mapping first if it is not one.
fn child<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    let slot = descend(v, &[key.to_string()]);
    if !slot.is_mapping() {
        *slot = Value::Mapping(Default::default());
    }
    slot
}

/// The value at `path` below `v`, creating mappings (and a null leaf) on
/// the way.
fn descend<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    let mut cur = v;
    for k in path {
        if !cur.is_mapping() {
            *cur = Value::Mapping(Default::default());
        }
        let Value::Mapping(m) = cur else { break };
        cur = m.entry(Value::String(k.clone())).or_insert(Value::Null);
    }
    cur
}

/// Which field of a service created by the timeline a key sets: the
/// keys `sweep --set` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceField {
    Update(ConfigKey),
    Rollback(ConfigKey),
    Replicas,
}

impl ServiceField {
    /// The field at `path` (below the service, `deploy` inserted).
    pub fn from_path(path: &[String]) -> Option<ServiceField> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["deploy", "replicas"] => Some(ServiceField::Replicas),
            ["deploy", "update_config", f] => ConfigKey::from_key(f).map(ServiceField::Update),
            ["deploy", "rollback_config", f] => ConfigKey::from_key(f).map(ServiceField::Rollback),
            _ => None,
        }
    }
}

/// A typed value for a service created by the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue {
    Replicas(u64),
    Config(ConfigSetting),
}

/// The value `v` of `field` for a service created by the timeline.
pub fn field_value(field: ServiceField, v: &str) -> Result<FieldValue, String> {
    let key = match field {
        ServiceField::Replicas => {
            return match v.parse() {
                Ok(n) => match crate::limits::replicas_error(n) {
                    Some(e) => Err(e),
                    None => Ok(FieldValue::Replicas(n)),
                },
                Err(_) => Err(format!(
                    "`replicas` must be a non-negative integer, found `{v}`"
                )),
            };
        }
        ServiceField::Update(k) | ServiceField::Rollback(k) => k,
    };
    let name = key.key();
    let setting = match key {
        ConfigKey::Parallelism => v
            .parse()
            .map(ConfigSetting::Parallelism)
            .map_err(|_| format!("`{name}` must be a non-negative integer, found `{v}`"))?,
        ConfigKey::Delay => parse_duration_nonneg(v)
            .map(ConfigSetting::Delay)
            .map_err(|e| format!("`{name}`: {e}"))?,
        ConfigKey::Monitor => parse_duration_nonneg(v)
            .map(ConfigSetting::Monitor)
            .map_err(|e| format!("`{name}`: {e}"))?,
        ConfigKey::FailureAction => FailureAction::parse(v)
            .map(ConfigSetting::FailureAction)
            .ok_or_else(|| {
                format!("`failure_action` must be one of pause, continue, rollback, found `{v}`")
            })?,
        ConfigKey::Order => UpdateOrder::parse(v)
            .map(ConfigSetting::Order)
            .ok_or_else(|| {
                format!("`order` must be one of stop-first, start-first, found `{v}`")
            })?,
        ConfigKey::MaxFailureRatio => match v.parse::<f32>() {
            Ok(r) if (0.0..=1.0).contains(&r) => ConfigSetting::MaxFailureRatio(r),
            _ => {
                return Err(format!(
                    "`max_failure_ratio` must be a number in [0, 1], found `{v}`"
                ));
            }
        },
    };
    Ok(FieldValue::Config(setting))
}

/// Sets `field` of every `docker service create` of `service` in the
/// timeline. A config the command did not set starts from the
/// scenario's defaults (`UpdateConfig::default()`), as in the file.
fn set_created(sc: &mut Scenario, service: &str, field: ServiceField, value: FieldValue) {
    for item in &mut sc.timeline {
        let Action::Docker {
            command: DockerCommand::ServiceCreate { spec, .. },
            ..
        } = &mut item.action
        else {
            continue;
        };
        if *spec.name != *service {
            continue;
        }
        match (field, value) {
            (ServiceField::Replicas, FieldValue::Replicas(n)) => {
                if let ServiceMode::Replicated { replicas } = &mut spec.mode {
                    *replicas = n;
                }
            }
            (ServiceField::Update(_), FieldValue::Config(s)) => {
                let mut f = ConfigFlags::default();
                f.set(s);
                f.apply_to(spec.update_config.get_or_insert_with(Default::default));
            }
            (ServiceField::Rollback(_), FieldValue::Config(s)) => {
                let mut f = ConfigFlags::default();
                f.set(s);
                f.apply_to(spec.rollback_config.get_or_insert_with(Default::default));
            }
            _ => {}
        }
    }
}

/// Whether a `docker service create` of the timeline names `service`.
pub fn created_by_timeline(sc: &Scenario, service: &str) -> bool {
    sc.timeline.iter().any(|item| {
        matches!(
            &item.action,
            Action::Docker {
                command: DockerCommand::ServiceCreate { spec, .. },
                ..
            } if *spec.name == *service
        )
    })
}

/// Applies the pending overrides of services that only the timeline
/// creates to the specs of their `docker service create`; marks them done.
pub(crate) fn apply_to_timeline(
    sc: &mut Scenario,
    file: &Path,
    overrides: &mut [(Override, bool)],
) -> Result<(), ScenarioError> {
    for (o, done) in overrides.iter_mut() {
        let Some(service) = o.service().filter(|_| !*done) else {
            continue;
        };
        if !created_by_timeline(sc, service) {
            continue;
        }
        let fail = |message: String| ScenarioError::Io {
            file: file.to_path_buf(),
            message: format!("--set `{}`: {message}", o.text),
        };
        let field = ServiceField::from_path(&o.path).ok_or_else(|| {
            fail(format!(
                "`{service}` is created by a `docker service create` of the timeline: only \
                 {service}.replicas, {service}.update_config.FIELD and \
                 {service}.rollback_config.FIELD can be set on it"
            ))
        })?;
        let value = field_value(field, &o.raw).map_err(fail)?;
        let service = service.to_string();
        set_created(sc, &service, field, value);
        *done = true;
    }
    Ok(())
}

/// The error for an override whose target was found nowhere.
pub(crate) fn unapplied(file: &Path, overrides: &[(Override, bool)]) -> Result<(), ScenarioError> {
    match overrides.iter().find(|(_, done)| !done) {
        Some((o, _)) => Err(ScenarioError::Io {
            file: file.to_path_buf(),
            message: format!(
                "--set `{}`: no service `{}` under `services:` (or in the `compose:` file)",
                o.text,
                o.service().unwrap_or_default()
            ),
        }),
        None => Ok(()),
    }
}

//! Policy sweeps: `--set KEY=V1,V2,...` keys, the grid of their values,
//! and the per-cell metrics, Pareto front and best-policy choice.
//!
//! Keys (applied to the scenario before running, every cell with the same
//! seeds — common random numbers):
//! - `SERVICE.update_config.FIELD`, `SERVICE.rollback_config.FIELD` with
//!   FIELD one of `parallelism`, `delay`, `monitor`, `failure_action`,
//!   `max_failure_ratio`, `order`;
//! - `SERVICE.replicas`;
//! - `images.IMAGE.FIELD` with FIELD one of `pull`, `start`, `stop`,
//!   `fail_on_start`, `crash_after`, `exit_code`, `health_fail` (`IMAGE`
//!   may be `default`; values as in the scenario format, e.g. `2s` or
//!   `{dist: lognormal, median: 1s, p99: 5s}`).
//!
//! A service defined under `services:` is patched in the YAML (so the
//! scenario loader validates the value as it would in the file); a service
//! created by a `docker service create` of the timeline has the spec of
//! that command patched. Later `docker service update` flags in the
//! timeline still apply on top.

pub mod report;

/// A `--set`, `--require` or `--minimize` that cannot be used; the text
/// names the argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    /// A `--set KEY=VALUE,...`: its syntax, key or value.
    #[error("{0}")]
    Set(String),
    /// A `--require` or `--minimize` (METRIC, OP, NUMBER).
    #[error("{0}")]
    Policy(String),
}

use serde_yaml::{Mapping, Value};

use crate::batch::ScenarioSource;
use crate::docker::cli::DockerCommand;
use crate::docker::duration::parse_duration_nonneg;
use crate::scenario::{Action, Scenario};
use crate::sim::time::SimDuration;
use crate::swarm::model::{FailureAction, ServiceMode, UpdateConfig, UpdateOrder};

const UPDATE_FIELDS: [&str; 6] = [
    "parallelism",
    "delay",
    "monitor",
    "failure_action",
    "max_failure_ratio",
    "order",
];

/// One `--set KEY=V1,V2,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetArg {
    pub key: String,
    pub values: Vec<String>,
}

/// Splits on commas outside `{}`/`[]`, so that a value may be a YAML flow
/// map such as `{dist: uniform, min: 1s, max: 3s}`.
fn split_values(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for ch in s.chars() {
        match ch {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur.trim().to_string());
    out
}

pub fn parse_set(arg: &str) -> Result<SetArg, SweepError> {
    let (key, values) = arg
        .split_once('=')
        .ok_or_else(|| SweepError::Set(format!("--set {arg}: expected KEY=V1,V2,...")))?;
    let values = split_values(values);
    if values.iter().any(|v| v.is_empty()) {
        return Err(SweepError::Set(format!("--set {arg}: empty value")));
    }
    Ok(SetArg {
        key: key.trim().to_string(),
        values,
    })
}

/// Which field of a service spec a key sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceField {
    Update(&'static str),
    Rollback(&'static str),
    Replicas,
}

/// A parsed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Service {
        service: String,
        field: ServiceField,
    },
    Image {
        image: String,
        field: &'static str,
    },
}

fn one_of(found: &str, allowed: &[&'static str]) -> Option<&'static str> {
    allowed.iter().find(|a| **a == found).copied()
}

fn key_help() -> &'static str {
    "keys are SERVICE.update_config.FIELD, SERVICE.rollback_config.FIELD (FIELD: parallelism, \
     delay, monitor, failure_action, max_failure_ratio, order), SERVICE.replicas, and \
     images.IMAGE.FIELD (FIELD: pull, start, stop, fail_on_start, crash_after, exit_code, \
     health_fail)"
}

/// Parses a key against the scenario: the service or image must exist
/// (an image key may also name `default` or an image not yet listed,
/// which then gets its own profile based on `default`).
pub fn parse_key(key: &str, sc: &Scenario) -> Result<Key, SweepError> {
    let unknown = || SweepError::Set(format!("unknown --set key `{key}`: {}", key_help()));
    if let Some(rest) = key.strip_prefix("images.") {
        let (image, field) = rest.rsplit_once('.').ok_or_else(unknown)?;
        let field = one_of(field, crate::scenario::PROFILE_KEYS).ok_or_else(unknown)?;
        if image.is_empty() {
            return Err(unknown());
        }
        return Ok(Key::Image {
            image: image.to_string(),
            field,
        });
    }
    let parts: Vec<&str> = key.split('.').collect();
    let (service, field) = match parts.as_slice() {
        [s, "replicas"] => (*s, ServiceField::Replicas),
        [s, "update_config", f] => (
            *s,
            ServiceField::Update(one_of(f, &UPDATE_FIELDS).ok_or_else(unknown)?),
        ),
        [s, "rollback_config", f] => (
            *s,
            ServiceField::Rollback(one_of(f, &UPDATE_FIELDS).ok_or_else(unknown)?),
        ),
        _ => return Err(unknown()),
    };
    let columns = crate::batch::service_columns(sc);
    if !columns.iter().any(|c| c == service) {
        return Err(SweepError::Set(format!(
            "unknown --set key `{key}`: no service `{service}` under `services:` or created by \
             the timeline (services: {})",
            columns.join(", ")
        )));
    }
    Ok(Key::Service {
        service: service.to_string(),
        field,
    })
}

/// A typed value for a service created by the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PatchValue {
    Count(u64),
    Duration(SimDuration),
    Action(FailureAction),
    Order(UpdateOrder),
    Ratio(f32),
}

/// A `--set` on a service created by a `docker service create` of the
/// timeline: applied to that command's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePatch {
    service: String,
    field: ServiceField,
    value: PatchValue,
}

fn typed(field: ServiceField, v: &str) -> Result<PatchValue, String> {
    let name = match field {
        ServiceField::Replicas => "replicas",
        ServiceField::Update(f) | ServiceField::Rollback(f) => f,
    };
    match name {
        "replicas" => match v.parse() {
            Ok(n) => match crate::limits::replicas_error(n) {
                Some(e) => Err(e),
                None => Ok(PatchValue::Count(n)),
            },
            Err(_) => Err(format!(
                "`{name}` must be a non-negative integer, found `{v}`"
            )),
        },
        "parallelism" => v
            .parse()
            .map(PatchValue::Count)
            .map_err(|_| format!("`{name}` must be a non-negative integer, found `{v}`")),
        "delay" | "monitor" => parse_duration_nonneg(v)
            .map(PatchValue::Duration)
            .map_err(|e| format!("`{name}`: {e}")),
        "failure_action" => FailureAction::parse(v)
            .map(PatchValue::Action)
            .ok_or_else(|| {
                format!("`failure_action` must be one of pause, continue, rollback, found `{v}`")
            }),
        "order" => UpdateOrder::parse(v)
            .map(PatchValue::Order)
            .ok_or_else(|| format!("`order` must be one of stop-first, start-first, found `{v}`")),
        _ => match v.parse::<f32>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(PatchValue::Ratio(r)),
            _ => Err(format!(
                "`max_failure_ratio` must be a number in [0, 1], found `{v}`"
            )),
        },
    }
}

fn set_update(c: &mut UpdateConfig, field: &str, v: PatchValue) {
    match (field, v) {
        ("parallelism", PatchValue::Count(n)) => c.parallelism = n,
        ("delay", PatchValue::Duration(d)) => c.delay = d,
        ("monitor", PatchValue::Duration(d)) => c.monitor = d,
        ("failure_action", PatchValue::Action(a)) => c.failure_action = a,
        ("max_failure_ratio", PatchValue::Ratio(r)) => c.max_failure_ratio = r,
        ("order", PatchValue::Order(o)) => c.order = o,
        _ => {}
    }
}

impl CreatePatch {
    pub fn apply(&self, sc: &mut Scenario) {
        for item in &mut sc.timeline {
            let Action::Docker {
                command: DockerCommand::ServiceCreate { spec, .. },
                ..
            } = &mut item.action
            else {
                continue;
            };
            if spec.name != self.service {
                continue;
            }
            match self.field {
                ServiceField::Replicas => {
                    if let (ServiceMode::Replicated { replicas }, PatchValue::Count(n)) =
                        (&mut spec.mode, self.value)
                    {
                        *replicas = n;
                    }
                }
                ServiceField::Update(f) => set_update(
                    spec.update_config.get_or_insert_with(Default::default),
                    f,
                    self.value,
                ),
                ServiceField::Rollback(f) => set_update(
                    spec.rollback_config.get_or_insert_with(Default::default),
                    f,
                    self.value,
                ),
            }
        }
    }
}

fn child<'a>(m: &'a mut Mapping, key: &str) -> &'a mut Mapping {
    let k = Value::String(key.to_string());
    if !matches!(m.get(&k), Some(Value::Mapping(_))) {
        m.insert(k.clone(), Value::Mapping(Mapping::new()));
    }
    match m.get_mut(&k) {
        Some(Value::Mapping(c)) => c,
        _ => unreachable!("inserted a mapping above"),
    }
}

/// The scenario of one sweep cell: `assignments` (key, value) applied to
/// `base`. Errors name the key and value.
pub fn apply(
    base: &ScenarioSource,
    base_sc: &Scenario,
    assignments: &[(String, String)],
) -> Result<ScenarioSource, SweepError> {
    let mut out = base.clone();
    let mut yaml: Option<Value> = None;
    for (key, value) in assignments {
        let ctx = |m: String| SweepError::Set(format!("--set {key}={value}: {m}"));
        let parsed = parse_key(key, base_sc)?;
        let in_services = |s: &str| base_sc.services.iter().any(|x| x.name == s);
        let path: Vec<String> = match &parsed {
            Key::Service { service, field } if !in_services(service) => {
                let v = typed(*field, value).map_err(ctx)?;
                out.create_patches.push(CreatePatch {
                    service: service.clone(),
                    field: *field,
                    value: v,
                });
                continue;
            }
            Key::Service { service, field } => {
                let mut p = vec!["services".into(), service.clone(), "deploy".into()];
                match field {
                    ServiceField::Replicas => p.push("replicas".into()),
                    ServiceField::Update(f) => {
                        p.push("update_config".into());
                        p.push((*f).into())
                    }
                    ServiceField::Rollback(f) => {
                        p.push("rollback_config".into());
                        p.push((*f).into())
                    }
                }
                p
            }
            Key::Image { image, field } => vec!["images".into(), image.clone(), (*field).into()],
        };
        if yaml.is_none() {
            yaml = Some(crate::scenario::parse_yaml(&base.text).map_err(|e| ctx(e.to_string()))?);
        }
        let v: Value = crate::scenario::parse_yaml(value).map_err(|e| ctx(e.to_string()))?;
        let Some(Value::Mapping(root)) = yaml.as_mut() else {
            return Err(ctx("the scenario is not a YAML mapping".into()));
        };
        let mut m = root;
        for seg in &path[..path.len() - 1] {
            m = child(m, seg);
        }
        m.insert(Value::String(path[path.len() - 1].clone()), v);
    }
    if let Some(y) = yaml {
        out.text = serde_yaml::to_string(&y).map_err(|e| SweepError::Set(e.to_string()))?;
    }
    out.build().map_err(|e| {
        let set: Vec<String> = assignments
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        SweepError::Set(format!("--set {}: {}", set.join(" "), e.message()))
    })?;
    Ok(out)
}

/// The grid: every combination of the values, the first key varying
/// slowest. Each cell is a list of (key, value).
pub fn grid(sets: &[SetArg]) -> Vec<Vec<(String, String)>> {
    let mut cells: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for s in sets {
        let mut next = Vec::new();
        for c in &cells {
            for v in &s.values {
                let mut c2 = c.clone();
                c2.push((s.key.clone(), v.clone()));
                next.push(c2);
            }
        }
        cells = next;
    }
    cells
}

#[cfg(test)]
mod tests;

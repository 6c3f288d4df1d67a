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
//! Each cell is a list of [`Override`]s, the mechanism `diff --set` uses
//! too (`crate::scenario::overrides`): a service defined under `services:`
//! (or in the `compose:` file) is changed in the YAML, so the scenario
//! loader validates the value as it would in the file; a service created
//! by a `docker service create` of the timeline has the spec of that
//! command changed. Later `docker service update` flags in the timeline
//! still apply on top.

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

use crate::batch::ScenarioSource;
use crate::docker::cli::ConfigKey;
use crate::scenario::overrides::field_value;
use crate::scenario::{Override, Scenario, ServiceField, Target};

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

fn key_help() -> String {
    format!(
        "keys are SERVICE.update_config.FIELD, SERVICE.rollback_config.FIELD (FIELD: {}), \
         SERVICE.replicas, and images.IMAGE.FIELD (FIELD: pull, start, stop, fail_on_start, \
         crash_after, exit_code, health_fail)",
        ConfigKey::KEYS.join(", ")
    )
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
            ServiceField::Update(ConfigKey::from_key(f).ok_or_else(unknown)?),
        ),
        [s, "rollback_config", f] => (
            *s,
            ServiceField::Rollback(ConfigKey::from_key(f).ok_or_else(unknown)?),
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

/// The override of one (key, value) of a cell. A value for a service
/// created by the timeline is checked here, so that the message names
/// the key and value.
fn cell_override(key: &str, value: &str, base_sc: &Scenario) -> Result<Override, SweepError> {
    let ctx = |m: String| SweepError::Set(format!("--set {key}={value}: {m}"));
    let text = format!("{key}={value}");
    let (target, keys) = match parse_key(key, base_sc)? {
        Key::Service { service, field } => {
            if !base_sc.services.iter().any(|x| *x.name == *service) {
                field_value(field, value).map_err(ctx)?;
            }
            let keys = match field {
                ServiceField::Replicas => vec!["replicas"],
                ServiceField::Update(k) => vec!["update_config", k.key()],
                ServiceField::Rollback(k) => vec!["rollback_config", k.key()],
            };
            (Target::Service(service), keys)
        }
        Key::Image { image, field } => (Target::Image(image), vec![field]),
    };
    Override::new(&text, target, &keys, value).map_err(|e| ctx(e.to_string()))
}

/// The scenario of one sweep cell: `assignments` (key, value) applied to
/// `base` as overrides. Errors name the key and value.
pub fn apply(
    base: &ScenarioSource,
    base_sc: &Scenario,
    assignments: &[(String, String)],
) -> Result<ScenarioSource, SweepError> {
    let mut out = base.clone();
    for (key, value) in assignments {
        out.overrides.push(cell_override(key, value, base_sc)?);
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

//! Placement constraints (swarmkit `manager/constraint/constraint.go`):
//! `key==value` / `key!=value` expressions matched against a node, used by
//! the scheduler's ConstraintFilter, the global orchestrator, the
//! constraint enforcer and the updater.

use crate::swarm::model::Node;

/// A parsed `key==value` / `key!=value` constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    key: String,
    equal: bool,
    value: String,
}

/// Parses constraints like swarmkit `constraint.Parse`.
pub fn parse_constraint(expr: &str) -> Result<Constraint, String> {
    let (key, value, equal) = if let Some((k, v)) = expr.split_once("==") {
        (k, v, true)
    } else if let Some((k, v)) = expr.split_once("!=") {
        (k, v, false)
    } else {
        return Err("constraint expected one operator from ==, !=".to_string());
    };
    let key = key.trim();
    let value = value.trim();
    let key_ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !key_ok {
        return Err(format!("key '{key}' is invalid"));
    }
    if value.is_empty() || value.contains("==") || value.contains("!=") {
        return Err(format!("value '{value}' is invalid"));
    }
    Ok(Constraint {
        key: key.to_string(),
        equal,
        value: value.to_string(),
    })
}

/// Whether a node satisfies all constraint expressions
/// (`constraint.NodeMatches`).
pub fn node_matches(n: &Node, constraints: &[String]) -> bool {
    constraints.iter().all(|c| match parse_constraint(c) {
        Ok(c) => matches(n, &c),
        Err(_) => false,
    })
}

fn matches(n: &Node, c: &Constraint) -> bool {
    let key = c.key.to_ascii_lowercase();
    let actual: String = match key.as_str() {
        "node.id" => n.id.to_string(),
        "node.hostname" => n.hostname.to_string(),
        "node.role" => n.role.as_str().to_string(),
        "node.platform.os" => "linux".to_string(),
        "node.platform.arch" => "x86_64".to_string(),
        "node.ip" => "127.0.0.1".to_string(),
        _ => {
            if let Some(label) = c
                .key
                .get("node.labels.".len()..)
                .filter(|_| key.starts_with("node.labels."))
            {
                n.labels.get(label).cloned().unwrap_or_default()
            } else if key.starts_with("engine.labels.") {
                String::new()
            } else {
                // Any other key never matches.
                return false;
            }
        }
    };
    let eq = actual.eq_ignore_ascii_case(&c.value);
    if c.equal { eq } else { !eq }
}

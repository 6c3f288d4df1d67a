//! `compose: stack.yml` and `swarmsim run --compose`: services from a
//! docker-compose / stack file, converted the way `docker stack deploy`
//! converts them (`docs/swarm-rules.md#docker-cli-stack-deploy-conversion`,
//! `docs/scenario-format.md#compose`). Keys that matter for updates are
//! honoured (image, command, environment, healthcheck, ports, restart,
//! stop_grace_period, init, deploy); Compose keys that do not (networks,
//! volumes, logging, ...) are collected as ignored; anything else is an
//! error with its file, line and column.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::yaml::{Node, PathBuf as YPath, locate};
use super::{Override, ScenarioError, apply_overrides};
use crate::swarm::model::ServiceSpec;

const TOP_KEYS: &[&str] = &[
    "version", "name", "services", "networks", "volumes", "configs", "secrets",
];
/// Top-level keys listed as ignored when present.
const TOP_IGNORED: &[&str] = &["networks", "volumes", "configs", "secrets"];

#[derive(Debug, Clone)]
pub struct Compose {
    pub file: PathBuf,
    pub services: Vec<ServiceSpec>,
    /// Ignored keys in first-seen order, each with the services that have
    /// it (empty for a top-level key).
    pub ignored: Vec<(String, Vec<String>)>,
}

impl Compose {
    /// One line naming every ignored key, or `None`.
    pub fn ignored_line(&self) -> Option<String> {
        if self.ignored.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .ignored
            .iter()
            .map(|(k, svcs)| {
                if svcs.is_empty() {
                    format!("top-level `{k}`")
                } else {
                    format!("`{k}` ({})", svcs.join(", "))
                }
            })
            .collect();
        Some(format!(
            "{}: ignored (no effect on rolling updates): {}",
            self.file.display(),
            parts.join(", ")
        ))
    }
}

/// Reads a stack file; `overrides` for services found in it are applied
/// and marked done.
pub fn load(path: &Path, overrides: &mut [(Override, bool)]) -> Result<Compose, ScenarioError> {
    let text = super::read_input(path, "the compose file")?;
    parse(&text, path, overrides)
}

pub fn parse(
    text: &str,
    file: &Path,
    overrides: &mut [(Override, bool)],
) -> Result<Compose, ScenarioError> {
    let mut value: Value = super::load::parse_yaml(text, file)?;
    apply_overrides(&mut value, overrides, false);
    let root: YPath = Vec::new();
    convert(&value, &root, file).map_err(|f| {
        let (line, column) = locate(text, &f.pos).unwrap_or((1, 1));
        ScenarioError::Invalid {
            file: file.to_path_buf(),
            line,
            column,
            message: f.message,
        }
    })
}

fn convert(value: &Value, root: &YPath, file: &Path) -> super::yaml::R<Compose> {
    let doc = Node::new(value, root);
    if value.is_null() {
        return doc.fail("the compose file is empty: it needs `services:`");
    }
    let top = doc.map()?;
    let entries: Vec<_> = top
        .entries
        .iter()
        .filter(|(k, _)| !k.starts_with("x-"))
        .cloned()
        .collect();
    super::yaml::Map {
        entries,
        path: top.path,
    }
    .check_keys(TOP_KEYS)?;
    let mut ignored: Vec<(String, Vec<String>)> = Vec::new();
    let Some(sv) = top.get("services") else {
        return top.missing(
            "services",
            "a stack file defines its services under `services:`",
        );
    };
    let sp = top.child_path("services");
    let mut per_key = Vec::new();
    let services = super::deploy::services_with(Node::new(sv, &sp), Some(&mut per_key))?;
    if services.is_empty() {
        return Node::new(sv, &sp).fail("`services` is empty");
    }
    for (key, svc) in per_key {
        match ignored.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(svc),
            None => ignored.push((key, vec![svc])),
        }
    }
    for k in TOP_IGNORED {
        if top.get(k).is_some() {
            ignored.push((k.to_string(), Vec::new()));
        }
    }
    Ok(Compose {
        file: file.to_path_buf(),
        services,
        ignored,
    })
}

//! YAML text → validated [`Scenario`]: top level, cluster, images and
//! latency distributions. Services are in `deploy.rs`, the timeline in
//! `timeline.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

use super::yaml::{Map, Node, PathBuf, R, index_path, suggest};
use super::{
    EngineProfile, ImageProfile, ImageProfiles, NodeDef, Override, Scenario, ScenarioError,
    apply_overrides, unapplied,
};
use crate::dist::Dist;
use crate::docker::cli::values::{parse_cpus, parse_ram_in_bytes};
use crate::sim::time::SimDuration;
use crate::swarm::model::{Availability, NodeRole};

/// Default node capacity when `resources` (or one of its keys) is omitted:
/// 4 CPUs.
pub const DEFAULT_NODE_NANO_CPUS: i64 = 4_000_000_000;
/// Default node capacity when `resources.memory` is omitted: 8 GiB.
pub const DEFAULT_NODE_MEMORY: i64 = 8 << 30;

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "until",
    "cluster",
    "images",
    "engine",
    "services",
    "timeline",
    "expect",
    "compose",
];

pub fn parse(text: &str, file: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let mut value = parse_yaml(text, file)?;
    let mut pending: Vec<(Override, bool)> = overrides.iter().map(|o| (o.clone(), false)).collect();
    apply_overrides(&mut value, &mut pending, true);
    let root: PathBuf = Vec::new();
    let located = |f: super::yaml::Fail| {
        let (line, column) = super::yaml::locate(text, &f.pos).unwrap_or((1, 1));
        ScenarioError::Invalid {
            file: file.to_path_buf(),
            line,
            column,
            message: f.message,
        }
    };
    let mut scenario = convert(&value, &root, text, file).map_err(located)?;
    // `compose: FILE`, relative to the scenario.
    if let Value::Mapping(m) = &value
        && let Some(cv) = m.get("compose").filter(|v| !v.is_null())
    {
        let cpath = vec![super::yaml::Seg::Key("compose".to_string())];
        let cn = Node::new(cv, &cpath);
        let rel = cn.str().map_err(located)?;
        let full = file.parent().unwrap_or(Path::new("")).join(rel);
        if !full.is_file() {
            return Err(located(cn.error(format!(
                "cannot read the compose file `{}`",
                full.display()
            ))));
        }
        let compose = super::compose::load(&full, &mut pending)?;
        for svc in &compose.services {
            if scenario.services.iter().any(|s| s.name == svc.name) {
                return Err(located(cn.error(format!(
                    "service `{}` is defined both under `services:` and in `{rel}`",
                    svc.name
                ))));
            }
        }
        scenario.services.extend(compose.services.iter().cloned());
        scenario.compose = Some(compose);
    }
    super::overrides::apply_to_timeline(&mut scenario, file, &mut pending)?;
    unapplied(file, &pending)?;
    Ok(scenario)
}

/// Parses YAML text, refusing first what would make the parser slow:
/// flow collections nested deeper than
/// [`crate::limits::MAX_FLOW_NESTING`] (docs/limits.md).
pub(crate) fn parse_yaml(text: &str, file: &Path) -> Result<Value, ScenarioError> {
    if let Some(at) = crate::limits::flow_nesting_over(text, crate::limits::MAX_FLOW_NESTING) {
        let (line, column) = crate::fsio::line_column(text.as_bytes(), at);
        return Err(ScenarioError::Invalid {
            file: file.to_path_buf(),
            line,
            column,
            message: format!(
                "invalid YAML: `[`/`{{` nested more than {} levels deep (docs/limits.md)",
                crate::limits::MAX_FLOW_NESTING
            ),
        });
    }
    serde_yaml::from_str(text).map_err(|e| yaml_error(file, text, &e))
}

/// A YAML syntax error, with serde_yaml's ` at line L column C` moved to
/// the front.
pub(super) fn yaml_error(file: &Path, text: &str, e: &serde_yaml::Error) -> ScenarioError {
    let mut message = e.to_string();
    // serde_yaml gives some errors no location, or 1:1, although the
    // spot is known: use it.
    let loc = e.location().map(|l| (l.line(), l.column()));
    if let Some((line, column)) = loc {
        let suffix = format!(" at line {line} column {column}");
        message = message.replacen(&suffix, "", 1);
    }
    let (line, column) = match unlocated_spot(text, &message, loc) {
        Some((at, rest)) => {
            message = rest;
            crate::fsio::line_column(text.as_bytes(), at)
        }
        None => loc.unwrap_or((1, 1)),
    };
    ScenarioError::Invalid {
        file: file.to_path_buf(),
        line,
        column,
        message: format!("invalid YAML: {message}"),
    }
}

/// The byte offset of an error serde_yaml reports without a location (or
/// at the start of the mapping), and the message to show: libyaml's
/// reader errors end in ` at position N` (a byte offset, e.g. a control
/// character); a duplicate key is found at its second occurrence in the
/// mapping that serde_yaml points at (the top-level one when it points
/// nowhere).
fn unlocated_spot(
    text: &str,
    message: &str,
    at: Option<(usize, usize)>,
) -> Option<(usize, String)> {
    if let Some((rest, n)) = message.rsplit_once(" at position ")
        && let Ok(at) = n.trim().parse::<usize>()
        && at <= text.len()
    {
        return Some((at, rest.to_string()));
    }
    let (_, key) = message.split_once("duplicate entry with key ")?;
    let key = key.strip_prefix('"')?.strip_suffix('"')?;
    let (line, column) = at.unwrap_or((1, 1));
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let start = line_start
        + text[line_start..]
            .chars()
            .take(column - 1)
            .map(char::len_utf8)
            .sum::<usize>();
    let is_key_at = |rest: &str| {
        let unquoted = [("", ""), ("\"", "\""), ("'", "'")]
            .iter()
            .find_map(|(a, b)| rest.strip_prefix(a)?.strip_prefix(key)?.strip_prefix(b));
        unquoted.is_some_and(|r| r.trim_start_matches([' ', '\t']).starts_with(':'))
    };
    let mut found = Vec::new();
    if text[start..].starts_with('{') {
        // A flow mapping: keys follow `{`, `,` or blanks.
        let mut prev = ' ';
        let mut depth = 0usize;
        for (i, c) in text[start..].char_indices() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            if depth == 1
                && matches!(prev, '{' | ',' | ' ' | '\n' | '\t')
                && is_key_at(&text[start + i..])
            {
                found.push(start + i);
            }
            prev = c;
        }
    } else {
        // A block mapping: keys at the column of its first key.
        let indent = column - 1;
        let mut offset = line_start;
        for (k, l) in text[line_start..].split_inclusive('\n').enumerate() {
            let body = l.trim_start_matches(' ');
            let lead = l.len() - body.len();
            let blank = body.trim().is_empty() || body.starts_with('#');
            if k > 0 && !blank && lead < indent {
                break;
            }
            let key_at = if k == 0 { start } else { offset + indent };
            if (k == 0 || lead == indent) && key_at <= text.len() && is_key_at(&text[key_at..]) {
                found.push(key_at);
            }
            offset += l.len();
        }
    }
    found.get(1).map(|&o| (o, message.to_string()))
}

fn convert(value: &Value, root: &PathBuf, text: &str, file: &Path) -> R<Scenario> {
    let doc = Node::new(value, root);
    if value.is_null() {
        return doc.fail("the scenario is empty: at least `cluster.nodes` is required");
    }
    let top = doc.map()?;
    top.check_keys(TOP_KEYS)?;
    let dir = file.parent().unwrap_or(Path::new(""));
    let child = |k: &str| top.child_path(k);

    let name = match top.get("name") {
        Some(v) => Node::new(v, &child("name")).scalar_text()?,
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let description = match top.get("description") {
        Some(v) => Node::new(v, &child("description")).scalar_text()?,
        None => String::new(),
    };
    let seed = match top.get("seed") {
        Some(v) => Some(Node::new(v, &child("seed")).u64()?),
        None => None,
    };
    let until = match top.get("until") {
        Some(v) => Some(Node::new(v, &child("until")).instant()?),
        None => None,
    };
    let nodes = match top.get("cluster") {
        Some(v) => cluster(Node::new(v, &child("cluster")))?,
        None => return top.missing("cluster", "a swarm needs `cluster: {nodes: [...]}`"),
    };
    let images = match top.get("images") {
        Some(v) => images(Node::new(v, &child("images")), dir)?,
        None => ImageProfiles::default(),
    };
    let engine = match top.get("engine") {
        Some(v) => engine_profile(Node::new(v, &child("engine")))?,
        None => EngineProfile::default(),
    };
    let services = match top.get("services") {
        Some(v) => super::deploy::services(Node::new(v, &child("services")))?,
        None => Vec::new(),
    };
    let timeline = match top.get("timeline") {
        Some(v) => super::timeline::timeline(Node::new(v, &child("timeline")), &nodes, text)?,
        None => Vec::new(),
    };
    let expect = match top.get("expect") {
        Some(v) => super::expect::expectations(Node::new(v, &child("expect")), text, until)?,
        None => Vec::new(),
    };
    Ok(Scenario {
        file: file.to_path_buf(),
        name,
        description,
        seed,
        until,
        nodes,
        images,
        engine,
        services,
        timeline,
        expect,
        compose: None,
    })
}

// ---- cluster ----

const CLUSTER_KEYS: &[&str] = &["nodes"];
const NODE_KEYS: &[&str] = &[
    "name",
    "role",
    "count",
    "availability",
    "labels",
    "resources",
    "joined",
];

fn cluster(n: Node) -> R<Vec<NodeDef>> {
    let m = n.map()?;
    m.check_keys(CLUSTER_KEYS)?;
    let Some(list) = m.get("nodes") else {
        return m.missing("nodes", "a swarm needs at least one node");
    };
    let nodes_path = m.child_path("nodes");
    let items = Node::new(list, &nodes_path).seq()?;
    if items.is_empty() {
        return Node::new(list, &nodes_path)
            .fail("`cluster.nodes` is empty: a swarm needs at least one node");
    }
    let mut out: Vec<NodeDef> = Vec::new();
    // Names seen so far: the duplicate check stays linear.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let ipath = index_path(&nodes_path, i);
        let node = Node::new(item, &ipath);
        let m = node.map()?;
        m.check_keys(NODE_KEYS)?;
        let Some(name_v) = m.get("name") else {
            return m.missing("name", "every node needs a name");
        };
        let name_path = m.child_path("name");
        let name_node = Node::new(name_v, &name_path);
        let template = name_node.scalar_text()?;
        if template.trim().is_empty() {
            return name_node.fail("a node name must not be empty");
        }
        let count = match m.get("count") {
            Some(v) => {
                let c = Node::new(v, &m.child_path("count")).u64()?;
                if c == 0 {
                    return Node::new(v, &m.child_path("count")).fail("`count` must be at least 1");
                }
                c
            }
            None => 1,
        };
        if count > crate::limits::MAX_NODES - out.len() as u64 {
            let msg = format!(
                "more than {} nodes, the most swarmsim simulates (see docs/limits.md)",
                crate::limits::MAX_NODES
            );
            return match m.get("count") {
                Some(v) => Node::new(v, &m.child_path("count")).fail(msg),
                None => node.fail(msg),
            };
        }
        let role = match m.get("role") {
            Some(v) => {
                let p = m.child_path("role");
                let rn = Node::new(v, &p);
                match rn.str()? {
                    "manager" => NodeRole::Manager,
                    "worker" => NodeRole::Worker,
                    other => return rn.fail(one_of("role", other, &["manager", "worker"])),
                }
            }
            None => NodeRole::Worker,
        };
        let availability = match m.get("availability") {
            Some(v) => {
                let p = m.child_path("availability");
                let an = Node::new(v, &p);
                let s = an.str()?;
                Availability::parse(s).ok_or_else(|| {
                    an.error(one_of("availability", s, &["active", "pause", "drain"]))
                })?
            }
            None => Availability::Active,
        };
        let labels = match m.get("labels") {
            Some(v) => string_map(Node::new(v, &m.child_path("labels")))?,
            None => BTreeMap::new(),
        };
        let joined = match m.get("joined") {
            Some(v) => {
                let p = m.child_path("joined");
                let jn = Node::new(v, &p);
                let j = jn.bool()?;
                if !j && role == NodeRole::Manager {
                    return jn
                        .fail("a manager cannot join later: only workers can say `joined: false`");
                }
                j
            }
            None => true,
        };
        let (nano_cpus, memory_bytes) = match m.get("resources") {
            Some(v) => node_resources(Node::new(v, &m.child_path("resources")))?,
            None => (DEFAULT_NODE_NANO_CPUS, DEFAULT_NODE_MEMORY),
        };
        if count > 1 && !template.contains("{n}") {
            return name_node.fail(format!(
                "node name `{template}` needs `{{n}}` when `count` is more than 1 (e.g. `{template}{{n}}`)"
            ));
        }
        for k in 1..=count {
            let name = template.replace("{n}", &k.to_string());
            if !seen.insert(name.clone()) {
                return name_node.fail(format!("duplicate node name `{name}`"));
            }
            out.push(NodeDef {
                name: name.into(),
                role,
                availability,
                labels: labels.clone(),
                nano_cpus,
                memory_bytes,
                joined,
            });
        }
    }
    // A swarm always has the node it was initialised on: when no node
    // says `role: manager`, the first listed node is the manager (and so
    // the leader), as `docker swarm init` on it would make it
    // (docs/scenario-format.md, `cluster`).
    if !out.iter().any(|n| n.role == NodeRole::Manager) {
        let Some(first) = out.iter_mut().find(|n| n.joined) else {
            return Node::new(list, &nodes_path).fail(
                "every node says `joined: false`: a swarm needs a node at time 0 (its first manager)",
            );
        };
        first.role = NodeRole::Manager;
    }
    Ok(out)
}

pub fn one_of(what: &str, found: &str, allowed: &[&str]) -> String {
    let list = allowed
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match suggest(found, allowed) {
        Some(s) => format!("invalid {what} `{found}`; did you mean `{s}`? (one of {list})"),
        None => format!("invalid {what} `{found}` (expected one of {list})"),
    }
}

/// A map of names to scalars (labels, environment), or a list of
/// `KEY=VALUE` strings.
pub fn string_map(n: Node) -> R<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Value::Sequence(items) = n.v {
        for (i, item) in items.iter().enumerate() {
            let p = index_path(n.path, i);
            let s = Node::new(item, &p).scalar_text()?;
            let (k, v) = s.split_once('=').unwrap_or((&s, ""));
            out.insert(k.to_string(), v.to_string());
        }
        return Ok(out);
    }
    let m = n.map()?;
    for (k, v) in &m.entries {
        let text = if v.is_null() {
            String::new()
        } else {
            Node::new(v, &m.child_path(k)).scalar_text()?
        };
        out.insert(k.clone(), text);
    }
    Ok(out)
}

/// CPUs as a number or string (`4`, `0.5`, `"1.5"`) → nano CPUs.
pub fn cpus(n: Node) -> R<i64> {
    let text = n.scalar_text()?;
    parse_cpus(&text).map_err(|e| n.error(format!("{}: {e}", n.name())))
}

/// A size (`8GiB`, `512M`, or a number of bytes) → bytes.
pub fn memory(n: Node) -> R<i64> {
    let text = n.scalar_text()?;
    parse_ram_in_bytes(&text).map_err(|e| n.error(format!("{}: {e}", n.name())))
}

fn node_resources(n: Node) -> R<(i64, i64)> {
    let m = n.map()?;
    m.check_keys(&["cpus", "memory"])?;
    let c = match m.get("cpus") {
        Some(v) => cpus(Node::new(v, &m.child_path("cpus")))?,
        None => DEFAULT_NODE_NANO_CPUS,
    };
    let mem = match m.get("memory") {
        Some(v) => memory(Node::new(v, &m.child_path("memory")))?,
        None => DEFAULT_NODE_MEMORY,
    };
    Ok((c, mem))
}

// ---- images ----

/// The keys of an image profile.
pub const PROFILE_KEYS: &[&str] = &[
    "pull",
    "start",
    "stop",
    "fail_on_start",
    "crash_after",
    "exit_code",
    "health_fail",
    "stop_exit_code",
];

/// `images:`: `default` first (on top of [`ImageProfile::default`]), then
/// every image, whose omitted keys take the `default` entry's values.
///
/// Besides its latencies, a profile takes two swarmsim extensions
/// (`docs/scenario-format.md#images`):
/// `health_fail`, the probability that one health probe of a container of
/// this image fails (0 = always healthy), and `stop_exit_code`, what the
/// container exits with when stopped by SIGTERM (default 143).
const ENGINE_KEYS: &[&str] = &[
    "schedule",
    "dispatch",
    "create",
    "start",
    "stop",
    "rollback_race",
    "failure_race",
    "slot_order",
];

/// `engine:` — fixed durations of the engine's own steps.
fn engine_profile(n: Node) -> R<EngineProfile> {
    let m = n.map()?;
    m.check_keys(ENGINE_KEYS)?;
    let mut e = EngineProfile::default();
    for (key, field) in [
        ("schedule", &mut e.schedule),
        ("dispatch", &mut e.dispatch),
        ("create", &mut e.create),
        ("start", &mut e.start),
        ("stop", &mut e.stop),
    ] {
        if let Some(v) = m.get(key) {
            *field = Node::new(v, &m.child_path(key)).duration()?;
        }
    }
    if let Some(v) = m.get("rollback_race") {
        e.rollback_race = Node::new(v, &m.child_path("rollback_race")).probability()?;
    }
    if let Some(v) = m.get("failure_race") {
        e.failure_race = Node::new(v, &m.child_path("failure_race")).probability()?;
    }
    if let Some(v) = m.get("slot_order") {
        let path = m.child_path("slot_order");
        let n = Node::new(v, &path);
        e.random_slot_order = match n.str()? {
            "ascending" => false,
            "random" => true,
            other => {
                return n.fail(format!(
                    "engine.slot_order must be ascending or random, found {other}"
                ));
            }
        };
    }
    Ok(e)
}

fn images(n: Node, dir: &Path) -> R<ImageProfiles> {
    let m = n.map()?;
    let default = match m.get("default") {
        Some(v) => profile(
            Node::new(v, &m.child_path("default")),
            &ImageProfile::default(),
            dir,
        )?,
        None => ImageProfile::default(),
    };
    let mut images = BTreeMap::new();
    for (k, v) in &m.entries {
        if k == "default" {
            continue;
        }
        let p = m.child_path(k);
        if k.trim().is_empty() {
            return Err(m.key_error(k, "an image reference must not be empty"));
        }
        let prof = if v.is_null() {
            default.clone()
        } else {
            profile(Node::new(v, &p), &default, dir)?
        };
        images.insert(k.clone(), prof);
    }
    Ok(ImageProfiles { default, images })
}

fn profile(n: Node, base: &ImageProfile, dir: &Path) -> R<ImageProfile> {
    let m = n.map()?;
    m.check_keys(PROFILE_KEYS)?;
    let mut p = base.clone();
    let node = |k: &str, v| (m.child_path(k), v);
    if let Some(v) = m.get("pull") {
        let (path, v) = node("pull", v);
        p.pull = dist(Node::new(v, &path), dir)?;
    }
    if let Some(v) = m.get("start") {
        let (path, v) = node("start", v);
        p.start = dist(Node::new(v, &path), dir)?;
    }
    if let Some(v) = m.get("stop") {
        let (path, v) = node("stop", v);
        p.stop = dist(Node::new(v, &path), dir)?;
    }
    if let Some(v) = m.get("fail_on_start") {
        p.fail_on_start = Node::new(v, &m.child_path("fail_on_start")).probability()?;
    }
    if let Some(v) = m.get("health_fail") {
        p.health_fail = Node::new(v, &m.child_path("health_fail")).probability()?;
    }
    if let Some(v) = m.get("crash_after") {
        let path = m.child_path("crash_after");
        let cn = Node::new(v, &path);
        p.crash_after = match v {
            Value::String(s) if s == "never" => None,
            _ => Some(dist(cn, dir)?),
        };
    }
    for key in ["exit_code", "stop_exit_code"] {
        if let Some(v) = m.get(key) {
            let path = m.child_path(key);
            let en = Node::new(v, &path);
            let code = en.i64()?;
            if !(0..=255).contains(&code) {
                return en.fail(format!("`{key}` must be between 0 and 255, found {code}"));
            }
            if key == "exit_code" {
                p.exit_code = code;
            } else {
                p.stop_exit_code = code;
            }
        }
    }
    Ok(p)
}

// ---- distributions ----

const DISTS: &[&str] = &[
    "fixed",
    "uniform",
    "normal",
    "lognormal",
    "exponential",
    "weibull",
    "empirical",
];

/// A latency: a duration string (fixed) or `{dist: NAME, ...}` with the
/// parameters of `docs/scenario-format.md#latencies-and-distributions`.
pub fn dist(n: Node, dir: &Path) -> R<Dist> {
    if !matches!(n.v, Value::Mapping(_)) {
        return Ok(Dist::Fixed(n.duration()?));
    }
    let m = n.map()?;
    let Some(dv) = m.get("dist") else {
        return m.missing(
            "dist",
            "a latency is a duration such as `1s` or a map such as `{dist: uniform, min: 1s, max: 3s}`",
        );
    };
    let dpath = m.child_path("dist");
    let dn = Node::new(dv, &dpath);
    let name = dn.str()?;
    let params: &[&str] = match name {
        "fixed" => &["dist", "value"],
        "uniform" => &["dist", "min", "max"],
        "normal" => &["dist", "mean", "stddev"],
        "lognormal" => &["dist", "median", "p99"],
        "exponential" => &["dist", "mean"],
        "weibull" => &["dist", "scale", "shape"],
        "empirical" => &["dist", "samples", "file"],
        other => return dn.fail(one_of("distribution", other, DISTS)),
    };
    m.check_keys(params)?;
    let dur = |k: &str| -> R<SimDuration> {
        match m.get(k) {
            Some(v) => Node::new(v, &m.child_path(k)).duration(),
            None => m.missing(k, &format!("`{name}` needs {}", param_list(params))),
        }
    };
    let positive = |k: &str| -> R<SimDuration> {
        let d = dur(k)?;
        if d.is_zero() {
            let path = m.child_path(k);
            let v = m.get(k).unwrap_or(&Value::Null);
            return Node::new(v, &path).fail(format!(
                "`{k}` of a {name} distribution must be greater than 0"
            ));
        }
        Ok(d)
    };
    Ok(match name {
        "fixed" => Dist::Fixed(dur("value")?),
        "uniform" => {
            let (min, max) = (dur("min")?, dur("max")?);
            if min > max {
                let path = m.child_path("max");
                let v = m.get("max").unwrap_or(&Value::Null);
                return Node::new(v, &path)
                    .fail("`max` of a uniform distribution must not be less than `min`");
            }
            Dist::Uniform { min, max }
        }
        "normal" => Dist::Normal {
            mean: dur("mean")?,
            stddev: dur("stddev")?,
        },
        "lognormal" => {
            let (median, p99) = (positive("median")?, dur("p99")?);
            if p99 < median {
                let path = m.child_path("p99");
                let v = m.get("p99").unwrap_or(&Value::Null);
                return Node::new(v, &path)
                    .fail("`p99` of a lognormal distribution must not be less than `median`");
            }
            Dist::LogNormal { median, p99 }
        }
        "exponential" => Dist::Exponential {
            mean: positive("mean")?,
        },
        "weibull" => {
            let scale = positive("scale")?;
            let Some(sv) = m.get("shape") else {
                return m.missing("shape", "`weibull` needs `scale` and `shape`");
            };
            let path = m.child_path("shape");
            let sn = Node::new(sv, &path);
            let shape = sn.f64()?;
            if shape <= 0.0 {
                return sn.fail("`shape` of a weibull distribution must be greater than 0");
            }
            Dist::Weibull { scale, shape }
        }
        _ => empirical(&m, dir)?,
    })
}

fn param_list(params: &[&str]) -> String {
    params
        .iter()
        .filter(|p| **p != "dist")
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn empirical(m: &Map, dir: &Path) -> R<Dist> {
    match (m.get("samples"), m.get("file")) {
        (Some(_), Some(_)) => Err(m.key_error(
            "file",
            "an empirical distribution takes `samples` or `file`, not both",
        )),
        (None, None) => m.missing(
            "samples",
            "an empirical distribution needs `samples: [...]` or `file: PATH`",
        ),
        (Some(v), None) => {
            let path = m.child_path("samples");
            let sn = Node::new(v, &path);
            let items = sn.seq()?;
            if items.is_empty() {
                return sn.fail("`samples` must not be empty");
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let ip = index_path(&path, i);
                out.push(Node::new(item, &ip).duration()?);
            }
            Ok(Dist::Empirical(out))
        }
        (None, Some(v)) => {
            let path = m.child_path("file");
            let fnode = Node::new(v, &path);
            let rel = fnode.str()?;
            let full = dir.join(rel);
            let text = crate::fsio::read_text(&full)
                .map_err(|e| fnode.error(format!("cannot read `{}`: {e}", full.display())))?;
            let samples = parse_seconds_csv(&text)
                .map_err(|e| fnode.error(format!("{}: {e}", full.display())))?;
            Ok(Dist::Empirical(samples))
        }
    }
}

/// Seconds (`1.25`) → nanoseconds, exactly for up to nine decimals.
pub fn parse_seconds(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        let f: f64 = s.parse().ok()?;
        if !f.is_finite() || !(0.0..=9.2e9).contains(&f) {
            return None;
        }
        return Some((f * 1e9).round() as u64);
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos: u64 = 0;
    for (k, b) in frac.bytes().take(9).enumerate() {
        nanos += u64::from(b - b'0') * 10u64.pow(8 - k as u32);
    }
    whole.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// A CSV with one column of seconds; a non-numeric first line is a
/// header; blank lines are skipped.
pub fn parse_seconds_csv(text: &str) -> Result<Vec<SimDuration>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cell = line.trim().trim_matches('"').trim();
        if cell.is_empty() {
            continue;
        }
        if cell.contains(',') {
            return Err(format!(
                "line {}: expected one column of seconds, found {} columns",
                i + 1,
                cell.split(',').count()
            ));
        }
        match parse_seconds(cell) {
            Some(ns) => out.push(SimDuration::from_nanos(ns)),
            None if out.is_empty() && i == 0 => {}
            None => {
                // The line is not echoed: the file may be anything the
                // scenario names (docs/limits.md).
                return Err(format!(
                    "line {}: not a non-negative number of seconds",
                    i + 1
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("no samples in the file".to_string());
    }
    Ok(out)
}

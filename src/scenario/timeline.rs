//! `timeline:` — actions at simulated times, in file order. Structured
//! forms become the equivalent docker command line.

use serde_yaml::Value;

use super::load::one_of;
use super::yaml::{Node, Pos, R, block_sequence_lines, index_path, locate};
use super::{Action, NodeChange, NodeDef, TimelineItem};
use crate::docker::cli::{DockerCommand, parse_words, render_command_line};
use crate::sim::time::SimTime;
use crate::swarm::model::Availability;

const ITEM_KEYS: &[&str] = &[
    "at", "docker", "update", "rollback", "scale", "ps", "inspect", "node", "kill",
];
const ACTIONS: &[&str] = &[
    "docker", "update", "rollback", "scale", "ps", "inspect", "node", "kill",
];

pub fn timeline(n: Node, nodes: &[NodeDef], text: &str) -> R<Vec<TimelineItem>> {
    let items = n.seq()?;
    let lines = block_sequence_lines(text, "timeline", items.len());
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = index_path(n.path, i);
        let (at, action) = timeline_item(Node::new(item, &path), nodes)?;
        let line = match &lines {
            Some(l) => l[i],
            None => locate(
                text,
                &Pos {
                    path: path.clone(),
                    at_key: false,
                },
            )
            .map_or(1, |(l, _)| l),
        };
        out.push(TimelineItem { at, line, action });
    }
    Ok(out)
}

fn docker_action(words: Vec<String>, n: Node) -> R<Action> {
    let command = parse_words(&words).map_err(|e| n.error(e.to_string()))?;
    Ok(Action::Docker {
        text: render_command_line(&words),
        command,
    })
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn timeline_item(n: Node, nodes: &[NodeDef]) -> R<(SimTime, Action)> {
    let m = n.map()?;
    m.check_keys(ITEM_KEYS)?;
    let Some(at_v) = m.get("at") else {
        return m.missing("at", "when the action happens, e.g. `at: 1m`");
    };
    let at = Node::new(at_v, &m.child_path("at")).instant()?;
    let present: Vec<&str> = m
        .entries
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| ACTIONS.contains(k))
        .collect();
    let key = match present.as_slice() {
        [] => {
            return n.fail(format!(
                "a timeline item needs one action: {}",
                ACTIONS.join(", ")
            ));
        }
        [k] => *k,
        [first, second, ..] => {
            return Err(m.key_error(
                second,
                format!("a timeline item takes exactly one action, found `{first}` and `{second}`"),
            ));
        }
    };
    let path = m.child_path(key);
    let v = m
        .entries
        .iter()
        .find(|(k, _)| k == key)
        .map_or(&Value::Null, |(_, v)| *v);
    let an = Node::new(v, &path);
    let action = match key {
        "docker" => {
            let line = an.str()?;
            let command = crate::docker::cli::parse_command_line(line)
                .map_err(|e| an.error(e.to_string()))?;
            Action::Docker {
                text: line.trim().to_string(),
                command,
            }
        }
        "update" => {
            let (service, flags, args) = super::deploy::update_args(an)?;
            let mut w = words(&["docker", "service", "update"]);
            w.extend(flags);
            w.push(service.clone());
            if service.len() > 1 && service.starts_with('-') {
                // docker would read the name as a flag: its parser gives
                // the error.
                docker_action(w, an)?
            } else {
                Action::Docker {
                    text: render_command_line(&w),
                    command: DockerCommand::ServiceUpdate {
                        service,
                        args,
                        rollback: false,
                        detach: false,
                    },
                }
            }
        }
        "rollback" => {
            let s = an.scalar_text()?;
            docker_action(words(&["docker", "service", "rollback", &s]), an)?
        }
        "ps" => {
            let s = an.scalar_text()?;
            docker_action(words(&["docker", "service", "ps", &s]), an)?
        }
        "inspect" => {
            let s = an.scalar_text()?;
            docker_action(words(&["docker", "service", "inspect", "--pretty", &s]), an)?
        }
        "scale" => {
            let sm = an.map()?;
            sm.check_keys(&["service", "replicas"])?;
            let Some(sv) = sm.get("service") else {
                return sm.missing("service", "the service to scale");
            };
            let service = Node::new(sv, &sm.child_path("service")).scalar_text()?;
            let Some(rv) = sm.get("replicas") else {
                return sm.missing("replicas", "the new number of replicas");
            };
            let replicas = Node::new(rv, &sm.child_path("replicas")).u64()?;
            docker_action(
                words(&[
                    "docker",
                    "service",
                    "scale",
                    &format!("{service}={replicas}"),
                ]),
                an,
            )?
        }
        "node" => node_action(an, nodes)?,
        _ => kill_action(an, nodes)?,
    };
    Ok((at, action))
}

fn node_action(n: Node, nodes: &[NodeDef]) -> R<Action> {
    let m = n.map()?;
    m.check_keys(&["name", "state", "availability"])?;
    let Some(nv) = m.get("name") else {
        return m.missing("name", "the node to change");
    };
    let name_path = m.child_path("name");
    let name_node = Node::new(nv, &name_path);
    let name = name_node.scalar_text()?;
    if !nodes.iter().any(|d| *d.name == *name) {
        let names: Vec<&str> = nodes.iter().map(|d| &*d.name).collect();
        let hint = match super::yaml::suggest(&name, &names) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => String::new(),
        };
        return name_node.fail(format!("unknown node `{name}`{hint}"));
    }
    let change = match (m.get("state"), m.get("availability")) {
        (Some(_), Some(_)) => {
            return Err(m.key_error(
                "availability",
                "a node item takes `state` or `availability`, not both",
            ));
        }
        (None, None) => {
            return m.missing(
                "state",
                "`state: down|up|join|leave` or `availability: active|pause|drain`",
            );
        }
        (Some(sv), None) => {
            let p = m.child_path("state");
            let sn = Node::new(sv, &p);
            match sn.str()? {
                "down" => NodeChange::Down,
                "up" => NodeChange::Up,
                "join" => NodeChange::Join,
                "leave" => {
                    if nodes.iter().any(|d| {
                        *d.name == *name && d.role == crate::swarm::model::NodeRole::Manager
                    }) {
                        return sn.fail(format!(
                            "node `{name}` is a manager: swarmsim models managers that stay (docker needs `swarm leave --force` and a demotion first)"
                        ));
                    }
                    NodeChange::Leave
                }
                other => {
                    return sn.fail(one_of("state", other, &["down", "up", "join", "leave"]));
                }
            }
        }
        (None, Some(av)) => {
            let p = m.child_path("availability");
            let an = Node::new(av, &p);
            let s = an.str()?;
            NodeChange::Availability(Availability::parse(s).ok_or_else(|| {
                an.error(one_of("availability", s, &["active", "pause", "drain"]))
            })?)
        }
    };
    Ok(Action::Node { name, change })
}

/// `SERVICE.SLOT`, or `SERVICE.NODE` (a node of the cluster) for a global
/// service's task.
fn task_name(n: Node, nodes: &[NodeDef]) -> R<String> {
    let s = n.scalar_text()?;
    match s.rsplit_once('.') {
        Some((svc, slot)) if !svc.is_empty() && !slot.is_empty() => {
            if slot.parse::<u64>().is_err() && !nodes.iter().any(|d| *d.name == *slot) {
                let names: Vec<&str> = nodes.iter().map(|d| &*d.name).collect();
                let hint = match super::yaml::suggest(slot, &names) {
                    Some(h) => format!("; did you mean `{svc}.{h}`?"),
                    None => String::new(),
                };
                return n.fail(format!(
                    "`{s}`: `{slot}` is neither a slot number nor a node of the cluster{hint}"
                ));
            }
            Ok(s)
        }
        _ => n.fail(format!(
            "`{s}` is not a task name: expected SERVICE.SLOT, e.g. `redis.2`, or SERVICE.NODE for a global service"
        )),
    }
}

fn kill_action(n: Node, nodes: &[NodeDef]) -> R<Action> {
    if !matches!(n.v, Value::Mapping(_)) {
        return Ok(Action::Kill {
            task: task_name(n, nodes)?,
            exit_code: 1,
        });
    }
    let m = n.map()?;
    m.check_keys(&["task", "exit_code"])?;
    let Some(tv) = m.get("task") else {
        return m.missing("task", "the task to kill, e.g. `redis.2`");
    };
    let task = task_name(Node::new(tv, &m.child_path("task")), nodes)?;
    let exit_code = match m.get("exit_code") {
        Some(v) => {
            let p = m.child_path("exit_code");
            let en = Node::new(v, &p);
            let c = en.i64()?;
            if !(0..=255).contains(&c) {
                return en.fail(format!("`exit_code` must be between 0 and 255, found {c}"));
            }
            c
        }
        None => 1,
    };
    Ok(Action::Kill { task, exit_code })
}

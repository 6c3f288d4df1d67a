//! The import graph of `swarm/` has no cycle, only the manager imports
//! the manager, and the model does not reach up into the docker front
//! end, the reports or the scenario loader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of `src/swarm/` (`agent`, `orchestrator`,
/// `orchestrator::slot`, …) with its source, comments removed.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/swarm");
    let mut out = BTreeMap::new();
    let mut dirs = vec![(root.clone(), String::new())];
    while let Some((dir, prefix)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src/swarm") {
            let path = entry.expect("dir entry").path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 name")
                .to_string();
            if path.is_dir() {
                dirs.push((path, format!("{prefix}{stem}::")));
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") || stem == "layering" {
                continue;
            }
            let name = match (stem.as_str(), prefix.is_empty()) {
                ("mod", true) => continue,
                ("mod", false) => prefix.trim_end_matches("::").to_string(),
                _ => format!("{prefix}{stem}"),
            };
            let text = std::fs::read_to_string(&path).expect("read module");
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(name, code);
        }
    }
    out
}

/// The swarm modules a module names (`crate::swarm::x::y`, `super::x`),
/// each resolved to the longest module that exists.
fn imports(name: &str, code: &str, all: &BTreeSet<String>) -> BTreeSet<String> {
    let parent = match name.rsplit_once("::") {
        Some((p, _)) if !all.contains(&format!("{name}::x")) => format!("{p}::"),
        _ => String::new(),
    };
    let mut out = BTreeSet::new();
    for (pat, base) in [("crate::swarm::", String::new()), ("super::", parent)] {
        for (i, _) in code.match_indices(pat) {
            let rest = &code[i + pat.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut best = None;
            let mut cur = base.clone();
            for part in path.split("::").filter(|p| !p.is_empty()) {
                cur.push_str(part);
                if all.contains(&cur) {
                    best = Some(cur.clone());
                }
                cur.push_str("::");
            }
            if let Some(m) = best.filter(|m| m != name) {
                out.insert(m);
            }
        }
    }
    out
}

/// A cycle of the graph, as `a -> b -> a`, if there is one.
fn find_cycle(g: &BTreeMap<&str, BTreeSet<String>>) -> Option<String> {
    fn visit<'a>(
        n: &'a str,
        g: &'a BTreeMap<&str, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<String> {
        match state.get(n) {
            Some(2) => return None,
            Some(_) => {
                let at = path.iter().position(|p| *p == n).unwrap_or(0);
                return Some(format!("{} -> {n}", path[at..].join(" -> ")));
            }
            None => {}
        }
        state.insert(n, 1);
        path.push(n);
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m.as_str(), g, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n, 2);
        None
    }
    let mut state = BTreeMap::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut state, &mut Vec::new()))
}

#[test]
fn swarm_imports_form_a_dag() {
    let mods = modules();
    let all: BTreeSet<String> = mods.keys().cloned().collect();
    for m in [
        "cluster",
        "store",
        "agent",
        "orchestrator",
        "orchestrator::slot",
    ] {
        assert!(all.contains(m), "module {m} not found: {all:?}");
    }
    // Grouped paths (`super::{a, b}`) would hide an import from the
    // reader below: one path per swarm module.
    for (n, code) in &mods {
        for pat in ["crate::swarm::{", "super::{", "super::super"] {
            assert!(
                !code.contains(pat),
                "swarm/{n}: `{pat}`: name each swarm module in its own path"
            );
        }
    }
    let graph: BTreeMap<&str, BTreeSet<String>> = mods
        .iter()
        .map(|(n, c)| (n.as_str(), imports(n, c, &all)))
        .collect();
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle in swarm/: {cycle}");
    }
    // Only the manager itself knows the manager.
    for (n, deps) in &graph {
        assert!(
            !deps.contains("cluster"),
            "swarm/{n} imports the manager (cluster.rs)"
        );
    }
    // The store knows no component.
    for c in [
        "agent",
        "controlapi",
        "dispatcher",
        "orchestrator",
        "reaper",
        "restart",
        "scheduler",
        "updater",
    ] {
        assert!(!graph["store"].contains(c), "store imports {c}");
    }
    // The model does not reach up; only the manager's constructor reads
    // a scenario (and keeps none of it but typed values). One exception,
    // known and kept narrow: the `--explain` texts format durations the
    // way Go prints them (`crate::docker::duration`).
    for (n, code) in &mods {
        let code = code.replace("crate::docker::duration::", "");
        for up in [
            "crate::docker",
            "crate::report",
            "crate::runner",
            "Rc<Scenario>",
        ] {
            assert!(!code.contains(up), "swarm/{n} uses {up}");
        }
        if n != "cluster" {
            assert!(!code.contains("Scenario"), "swarm/{n} uses Scenario");
        }
    }
}

#[test]
fn the_check_sees_a_cycle() {
    let all: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let ab = imports("a", "use crate::swarm::b::X;", &all);
    let bc = imports("b", "use super::c;", &all);
    assert_eq!(ab, BTreeSet::from(["b".to_string()]));
    let mut g: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    g.insert("a", ab);
    g.insert("b", bc);
    g.insert("c", BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    g.insert("c", BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&g).as_deref(), Some("a -> b -> c -> a"));
}

//! `swarmsim conform`: checks the simulator against a real Docker Swarm.
//!
//! For each scenario: replay its `docker:` timeline on the engine named by
//! `DOCKER_HOST` (see `conformance/engine.sh`), record what really happened,
//! measure the image latencies from that run, simulate the same scenario
//! with those latencies, and compare (see [`compare`]). Writes
//! `OUT/<scenario>/` (real trace and transcript, simulated transcript and
//! events, latencies, report) and `OUT/README.md` (the summary table).

pub mod calibrate;
pub mod compare;
pub mod engine;
pub mod measure;
pub mod record;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result};

use crate::runner::{RunOptions, run};
use crate::scenario;
use crate::sim::time::secs_f64;
use crate::swarm::store::LogKind;
use compare::{Check, compare_episodes, compare_slots, compare_transcripts, compare_updates};
use engine::Engine;

/// Per (service, slot): (created, creation order, row) of each task.
type SlotRows = BTreeMap<(String, u64), Vec<(f64, usize, String)>>;

/// The outcome of one scenario.
pub struct Outcome {
    pub name: String,
    pub checks: Vec<Check>,
    pub durations: String,
    pub note: String,
}

/// Runs the suite; returns whether every check matched.
pub fn run_suite(paths: &[PathBuf], out: &Path, docker: &Path) -> Result<bool> {
    let engine = Engine::from_env(docker.to_path_buf())?;
    let version = engine.version();
    eprintln!("conform: {version}");
    let mut outcomes = Vec::new();
    for p in paths {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        eprintln!("conform: {stem} ...");
        let o = match one(&engine, p, &out.join(&stem)) {
            Ok(o) => o,
            Err(e) => Outcome {
                name: stem.clone(),
                checks: vec![Check {
                    what: "run".to_string(),
                    ok: false,
                    detail: format!("{e:#}"),
                }],
                durations: String::new(),
                note: "could not run".to_string(),
            },
        };
        let bad = o.checks.iter().filter(|c| !c.ok).count();
        eprintln!(
            "conform: {stem}: {} of {} checks match",
            o.checks.len() - bad,
            o.checks.len()
        );
        outcomes.push(o);
    }
    let _ = engine.clean();
    std::fs::create_dir_all(out)?;
    let nodes = engine.nodes().map(|n| n.len()).unwrap_or(1);
    let table = summary_table(&outcomes, &version, nodes);
    std::fs::write(out.join("README.md"), &table)?;
    print!("{table}");
    Ok(outcomes.iter().all(|o| o.checks.iter().all(|c| c.ok)))
}

fn summary_table(outcomes: &[Outcome], version: &str, nodes: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "# Conformance: swarmsim against a real Docker Swarm\n");
    let _ = writeln!(
        t,
        "Engine: {version}, {}. Regenerate with `conformance/run.sh` (see conformance/README.md).\n",
        if nodes == 1 {
            "one node".to_string()
        } else {
            format!("{nodes} nodes (conformance/cluster.sh)")
        }
    );
    let _ = writeln!(
        t,
        "| scenario | matched | mismatched | update/rollback durations real/sim |"
    );
    let _ = writeln!(t, "| --- | --- | --- | --- |");
    for o in outcomes {
        let short = |c: &Check| {
            if c.what.starts_with('[') {
                c.what
                    .split(" $ docker ")
                    .map(|s| s.split(" web").next().unwrap_or(s).to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                c.what.clone()
            }
        };
        let list = |ok: bool| {
            let v: Vec<String> = o.checks.iter().filter(|c| c.ok == ok).map(short).collect();
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join("; ")
            }
        };
        let _ = writeln!(
            t,
            "| [{}]({}/report.md) | {} | {} | {} |",
            o.name,
            o.name,
            list(true),
            list(false),
            o.durations
        );
    }
    t
}

fn one(engine: &Engine, path: &Path, dir: &Path) -> Result<Outcome> {
    let scen = scenario::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The engine's nodes must be the scenario's, by hostname.
    let hosts: Vec<String> = engine.nodes()?.into_iter().map(|n| n.0).collect();
    if scen.nodes.len() > 1 {
        let missing: Vec<&str> = scen
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .filter(|n| !hosts.iter().any(|h| h == n))
            .collect();
        if !missing.is_empty() || hosts.len() != scen.nodes.len() {
            anyhow::bail!(
                "the scenario needs the nodes {:?}, the swarm has {hosts:?} (start them with conformance/cluster.sh start NAME...)",
                scen.nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
            );
        }
    }
    engine
        .reset_nodes()
        .context("resetting the nodes before the scenario")?;
    engine
        .clean()
        .context("cleaning the swarm before the scenario")?;
    let rec = record::record(engine, &scen);
    // Whatever happened, start stopped nodes again for the next scenario.
    let downed = rec.as_ref().map(|r| r.downed.clone()).unwrap_or_default();
    for name in &downed {
        record::node_event(engine, name, crate::scenario::NodeChange::Up)?;
    }
    let rec = rec?;
    engine
        .reset_nodes()
        .context("resetting the nodes after the scenario")?;
    engine
        .clean()
        .context("cleaning the swarm after the scenario")?;
    let node = scen
        .nodes
        .first()
        .map(|n| n.name.clone())
        .unwrap_or_default();

    // Simulate with the latencies measured on the real engine.
    let (profiles, latency_table) = measure::measure(&rec, &scen.images);
    let mut sim_scen = scen.clone();
    sim_scen.images = profiles;
    let until = (rec.end * 1e9).round() as u64;
    let result = run(
        Rc::new(sim_scen),
        &RunOptions {
            seed: None,
            until: Some(until),
            keep_log: true,
            ..Default::default()
        },
    );

    let mut checks = compare_transcripts(&rec.transcript, &result.transcript, &rec.hostname, &node);

    let real_updates: Vec<(String, String)> = rec
        .updates
        .iter()
        .map(|u| (u.state.clone(), u.message.clone()))
        .collect();
    let st = &result.cluster.state;
    let sim_log: Vec<_> = result
        .cluster
        .log
        .iter()
        .filter(|r| r.kind == LogKind::Update && !r.state.is_empty())
        .collect();
    let sim_updates: Vec<(String, String)> = sim_log
        .iter()
        .map(|r| (r.state.to_string(), r.message.to_string()))
        .collect();
    checks.push(compare_updates(&real_updates, &sim_updates));

    let mut real_slots: SlotRows = BTreeMap::new();
    // Newest first: by creation time, then creation order (the simulator
    // creates several tasks at one instant).
    for (seq, t) in rec
        .order
        .iter()
        .map(|id| &rec.tasks[id])
        .enumerate()
        .filter(|(_, t)| rec.final_ids.contains(&t.id))
    {
        let row = format!(
            "{} {}/{} {}",
            t.image, t.last.desired, t.last.state, t.last.err
        );
        real_slots
            .entry((t.service.clone(), t.slot))
            .or_default()
            .push((t.created, seq, row.trim_end().to_string()));
    }
    let mut sim_slots: SlotRows = BTreeMap::new();
    for (seq, t) in st.tasks.iter().enumerate().filter(|(_, t)| !t.deleted) {
        let svc = &st.services[t.service];
        if svc.removed {
            continue;
        }
        let row = format!(
            "{} {}/{} {}",
            t.spec.image,
            t.desired.api_str(),
            t.state.api_str(),
            t.err.clone().unwrap_or_default()
        );
        sim_slots
            .entry((svc.spec.name.clone(), t.slot))
            .or_default()
            .push((secs_f64(t.created_at), seq, row.trim_end().to_string()));
    }
    let newest_first = |m: SlotRows| {
        m.into_iter()
            .map(|(k, mut v)| {
                v.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
                (k, v.into_iter().map(|(_, _, r)| r).collect())
            })
            .collect::<BTreeMap<_, Vec<String>>>()
    };
    checks.push(compare_slots(
        &newest_first(real_slots),
        &newest_first(sim_slots),
    ));

    let real_eps = compare::episodes(
        &rec.updates
            .iter()
            .map(|u| (u.t, u.state.clone()))
            .collect::<Vec<_>>(),
    );
    let sim_eps = compare::episodes(
        &sim_log
            .iter()
            .map(|r| (secs_f64(r.time), r.state.to_string()))
            .collect::<Vec<_>>(),
    );
    let (dur_check, durations) = compare_episodes(&real_eps, &sim_eps);
    checks.push(dur_check);

    let note = if rec.unsupported.is_empty() {
        String::new()
    } else {
        format!(
            "not replayed on the real engine: {}",
            rec.unsupported.join("; ")
        )
    };

    // Files.
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("real-trace.jsonl"), &rec.trace)?;
    std::fs::write(dir.join("real-transcript.txt"), &rec.transcript)?;
    std::fs::write(dir.join("sim-transcript.txt"), &result.transcript)?;
    std::fs::write(dir.join("sim-events.csv"), result.events_csv())?;
    let mut report = String::new();
    let _ = writeln!(report, "# {} ({})\n", scen.name, path.display());
    let _ = writeln!(report, "{}\n", scen.description.trim());
    if !note.is_empty() {
        let _ = writeln!(report, "{note}\n");
    }
    let _ = writeln!(
        report,
        "## Latencies measured on the real engine (used by the simulation)\n\n{latency_table}"
    );
    let _ = writeln!(report, "## Checks\n");
    for c in &checks {
        let _ = writeln!(
            report,
            "### {} {}\n",
            if c.ok { "MATCH" } else { "MISMATCH" },
            c.what
        );
        if !c.detail.is_empty() {
            let _ = writeln!(report, "{}\n", c.detail);
        }
    }
    std::fs::write(dir.join("report.md"), &report)?;
    Ok(Outcome {
        name: dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        checks,
        durations,
        note,
    })
}

//! `swarmsim conform`: checks the simulator against a real Docker Swarm.
//!
//! For each scenario: replay its `docker:` timeline on the engine named by
//! `DOCKER_HOST` (see `conformance/engine.sh`), record what really happened
//! (or, with `--replay DIR`, read a recording made before), measure the
//! image latencies from another real run of the scenario (`--calibration
//! DIR`, held out) or from this one, simulate the same scenario with those
//! latencies, and compare (see [`compare`]). Writes `OUT/<scenario>/`
//! (real trace and transcript, simulated transcript and events, latencies,
//! report) and `OUT/README.md` (the summary table).

pub mod calibrate;
pub mod compare;
pub mod engine;
mod error;
pub mod measure;
pub mod races;
pub mod record;
pub mod snapshot;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use error::bail;
pub use error::{ConformError, Context, Result};

use crate::runner::{RunOptions, run};
use crate::scenario;
use crate::sim::time::{SimDuration, SimTime, secs_f64};
use crate::swarm::store::LogKind;
use compare::{
    Check, Verdict, compare_episodes, compare_slots, compare_transcripts, compare_updates,
};
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

/// Where the real side of the comparison comes from and how the
/// simulation is calibrated.
pub struct SuiteOptions {
    /// Results folder.
    pub out: PathBuf,
    /// The docker CLI run for the scenario's commands.
    pub docker: PathBuf,
    /// Read the real runs from `DIR/<scenario>/` (`real-trace.jsonl`,
    /// `real-transcript.txt`) instead of running them on an engine.
    pub replay: Option<PathBuf>,
    /// Measure the image latencies from the real run in
    /// `DIR/<scenario>/real-trace.jsonl` (another run: held out) instead of
    /// the run being compared.
    pub calibration: Option<PathBuf>,
    /// `conform --live`: the swarm is used as it is, never cleaned nor
    /// reset — the scenario's `services:` already run there (a scenario
    /// from `swarmsim snapshot`, docs/snapshot.md) — and the simulation
    /// keeps the scenario's own image latencies, so what is checked is its
    /// prediction.
    pub live: bool,
}

/// `swarmsim conform --races DIR`: each scenario's real runs in
/// `DIR/<scenario>/run-*/` judged as a race (see [`races`]); writes
/// `DIR/<scenario>/README.md`; whether every branch agrees.
pub fn judge_races(paths: &[PathBuf], dir: &Path, calibration: Option<&Path>) -> Result<bool> {
    let mut all = true;
    for p in paths {
        let stem = p.file_stem().unwrap_or_default().to_owned();
        let d = dir.join(&stem);
        let mut runs: Vec<PathBuf> = std::fs::read_dir(&d)
            .with_context(|| d.display().to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("real-trace.jsonl").is_file())
            .collect();
        runs.sort();
        let cal = calibration.map(|c| c.join(&stem).join("real-trace.jsonl"));
        let (report, ok) = races::judge(p, &runs, cal.as_deref())?;
        std::fs::write(d.join("README.md"), &report)?;
        print!("{report}");
        eprintln!(
            "conform: race {}: {}",
            stem.to_string_lossy(),
            if ok {
                "every branch agrees"
            } else {
                "MISMATCH"
            }
        );
        all &= ok;
    }
    Ok(all)
}

/// Counts of a scenario's checks: (matched, mismatched, n/a, echoes).
fn counts(checks: &[Check]) -> (usize, usize, usize, usize) {
    let n = |v: Verdict| checks.iter().filter(|c| c.verdict == v).count();
    (
        n(Verdict::Match),
        n(Verdict::Mismatch),
        n(Verdict::NotApplicable),
        n(Verdict::Echo),
    )
}

/// Runs the suite; returns whether every check matched.
pub fn run_suite(paths: &[PathBuf], opts: &SuiteOptions) -> Result<bool> {
    let out = &opts.out;
    let engine = match &opts.replay {
        None => Some(Engine::from_env(opts.docker.clone())?),
        Some(_) => None,
    };
    let version = match (&engine, &opts.replay) {
        (Some(e), _) => e.version(),
        (None, Some(dir)) => std::fs::read_to_string(dir.join("README.md"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("Engine: ").map(str::to_string))
            })
            .and_then(|l| l.split(", ").take(2).collect::<Vec<_>>().join(", ").into())
            .unwrap_or_else(|| "unknown".to_string()),
        _ => "unknown".to_string(),
    };
    eprintln!("conform: {version}");
    if let Some(m) = crate::mutant::active() {
        eprintln!("conform: simulator mutant {m} (SWARMSIM_MUTANT)");
    }
    let mut outcomes = Vec::new();
    let mut nodes = 1;
    for p in paths {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        eprintln!("conform: {stem} ...");
        let o = match one(engine.as_ref(), opts, p, &out.join(&stem)) {
            Ok((o, n)) => {
                nodes = nodes.max(n);
                o
            }
            Err(e) => {
                eprintln!("conform: {stem}: could not run: {e:#}");
                Outcome {
                    name: stem.clone(),
                    checks: vec![Check::new("run", false, format!("{e:#}"))],
                    durations: String::new(),
                    note: "could not run".to_string(),
                }
            }
        };
        let (m, bad, na, echo) = counts(&o.checks);
        eprintln!(
            "conform: {stem}: {m} of {} checks match ({na} n/a, {echo} echoes not counted)",
            m + bad
        );
        outcomes.push(o);
    }
    if let Some(e) = &engine {
        if !opts.live {
            let _ = e.clean();
        }
        nodes = e.nodes().map(|n| n.len()).unwrap_or(1);
    }
    std::fs::create_dir_all(out)?;
    let table = summary_table(&outcomes, &version, nodes, opts);
    std::fs::write(out.join("README.md"), &table)?;
    print!("{table}");
    Ok(outcomes.iter().all(|o| o.checks.iter().all(Check::ok)))
}

fn summary_table(outcomes: &[Outcome], version: &str, nodes: usize, opts: &SuiteOptions) -> String {
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
    let (m, bad, na, echo) = counts(
        &outcomes
            .iter()
            .flat_map(|o| o.checks.clone())
            .collect::<Vec<_>>(),
    );
    let clean = outcomes
        .iter()
        .filter(|o| o.checks.iter().all(Check::ok))
        .count();
    let _ = writeln!(
        t,
        "{clean} of {} scenarios and {m} of {} checks matched ({na} n/a and {echo} command echoes not counted). \
         Durations are compared twice: within 0.3 s or 5 % (strict, reported) and within 1 s or 20 % \
         (the live bound, above the real engine's own run-to-run spread: docs/conformance.md, Noise); `service ps` and the final tasks are compared slot by slot \
         (slot identity) on one node until an update runs (swarmkit's choice is deterministic there), else as a set (slot set). \
         Latencies: {}.\n",
        outcomes.len(),
        m + bad,
        match &opts.calibration {
            Some(d) => format!("measured on another real run ({}), held out", d.display()),
            None => "measured on the run being compared (not held out)".to_string(),
        }
    );
    let _ = writeln!(
        t,
        "| scenario | matched | mismatched | n/a | update/rollback durations real/sim |"
    );
    let _ = writeln!(t, "| --- | --- | --- | --- | --- |");
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
        let list = |v: Verdict| {
            let v: Vec<String> = o
                .checks
                .iter()
                .filter(|c| c.verdict == v)
                .map(short)
                .collect();
            if v.is_empty() {
                "-".to_string()
            } else {
                v.join("; ")
            }
        };
        let (m, bad, _, _) = counts(&o.checks);
        let _ = writeln!(
            t,
            "| [{}]({}/report.md) | {m} of {}: {} | {} | {} | {} |",
            o.name,
            o.name,
            m + bad,
            list(Verdict::Match),
            list(Verdict::Mismatch),
            list(Verdict::NotApplicable),
            o.durations
        );
    }
    t
}

/// Whether a task had ended before the replay began (`conform --live`).
fn ended_before(t: &record::TaskObs) -> bool {
    t.last.ts < 0.0 && t.last.desired != "running"
}

/// The real transcript without the `service ps` rows of tasks that had
/// ended before the replay (`conform --live`: the simulation starts
/// without them).
fn without_earlier_tasks(rec: &record::Recording) -> String {
    let ids: std::collections::BTreeSet<&str> = rec
        .tasks
        .values()
        .filter(|t| ended_before(t))
        .map(|t| t.id.as_str())
        .collect();
    let mut out = String::new();
    for line in rec.transcript.split_inclusive('\n') {
        let first = line.split_whitespace().next().unwrap_or("");
        let theirs = first.len() >= 12 && ids.iter().any(|id| id.starts_with(first));
        if !theirs {
            out.push_str(line);
        }
    }
    out
}

/// One scenario: its real run (on the engine, or replayed from a
/// recording), the simulation and the checks; also the number of nodes.
fn one(
    engine: Option<&Engine>,
    opts: &SuiteOptions,
    path: &Path,
    dir: &Path,
) -> Result<(Outcome, usize)> {
    let scen = scenario::load(path)?;
    let stem = dir.file_name().unwrap_or_default().to_owned();
    let mut rec = match (engine, &opts.replay) {
        (Some(engine), _) => run_real(engine, &scen, opts.live)?,
        (None, Some(from)) => {
            let d = from.join(&stem);
            let trace = std::fs::read_to_string(d.join("real-trace.jsonl"))
                .with_context(|| format!("{}/real-trace.jsonl", d.display()))?;
            let transcript = std::fs::read_to_string(d.join("real-transcript.txt"))
                .with_context(|| format!("{}/real-transcript.txt", d.display()))?;
            record::Recording::replayed(&trace, &transcript, record::end_of(&scen))?
        }
        (None, None) => bail!("neither an engine nor a recording"),
    };
    if opts.live {
        // What the swarm did before the replay (update states, tasks that
        // had ended) is not part of it; the simulation starts without it.
        rec.updates.retain(|u| u.t >= 0.0);
    }
    let calibration = match &opts.calibration {
        Some(c) => {
            let f = c.join(&stem).join("real-trace.jsonl");
            let text = std::fs::read_to_string(&f)
                .with_context(|| format!("calibration run {}", f.display()))?;
            Some((f, record::Recording::from_trace(&text)?))
        }
        None => None,
    };
    let nodes = scen.nodes.len();
    let o = judge(&scen, &rec, calibration.as_ref(), opts.live, path, dir)?;
    Ok((o, nodes))
}

/// Replays `scen` on the engine and records it, on a clean swarm (`live`:
/// on the swarm as it is, neither reset nor cleaned).
fn run_real(engine: &Engine, scen: &scenario::Scenario, live: bool) -> Result<record::Recording> {
    // The engine's nodes must be the scenario's, by hostname.
    let hosts: Vec<String> = engine.nodes()?.into_iter().map(|n| n.0).collect();
    if scen.nodes.len() > 1 {
        let missing: Vec<&str> = scen
            .nodes
            .iter()
            .map(|n| &*n.name)
            .filter(|n| !hosts.iter().any(|h| h == n))
            .collect();
        if !missing.is_empty() || hosts.len() != scen.nodes.len() {
            bail!(
                "the scenario needs the nodes {:?}, the swarm has {hosts:?} (start them with conformance/cluster.sh start NAME...)",
                scen.nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
            );
        }
    }
    if !live {
        engine
            .reset_nodes()
            .context("resetting the nodes before the scenario")?;
        engine
            .clean()
            .context("cleaning the swarm before the scenario")?;
    }
    let rec = record::record(engine, scen);
    // Whatever happened, start stopped nodes again for the next scenario.
    let downed = rec.as_ref().map(|r| r.downed.clone()).unwrap_or_default();
    for name in &downed {
        record::node_event(engine, name, crate::scenario::NodeChange::Up)?;
    }
    let rec = rec?;
    if !live {
        engine
            .reset_nodes()
            .context("resetting the nodes after the scenario")?;
        engine
            .clean()
            .context("cleaning the swarm after the scenario")?;
    }
    Ok(rec)
}

/// Simulates `scen` with latencies measured on the real engine, compares
/// with `rec` and writes `dir`.
fn judge(
    scen: &scenario::Scenario,
    rec: &record::Recording,
    calibration: Option<&(PathBuf, record::Recording)>,
    live: bool,
    path: &Path,
    dir: &Path,
) -> Result<Outcome> {
    let node = scen
        .nodes
        .first()
        .map(|n| n.name.clone())
        .unwrap_or_default();

    // Simulate with the latencies measured on the real engine.
    let (profiles, latency_table) = match calibration {
        Some((_, cal)) => measure::measure(cal, &scen.images, &scen.engine),
        None => measure::measure(rec, &scen.images, &scen.engine),
    };
    let mut sim_scen = scen.clone();
    if !live {
        sim_scen.images = profiles;
    }
    let until = SimTime::at(SimDuration::from_secs_f64(rec.end));
    let sim_scen = Rc::new(sim_scen);
    let simulate = |seed: Option<u64>| {
        run(
            sim_scen.clone(),
            &RunOptions {
                seed,
                until: Some(until),
                keep_log: true,
                ..Default::default()
            },
        )
    };
    // A scenario with a race (`engine: rollback_race`) is compared given
    // the branch the real run took: with the first seed whose simulation
    // takes it. How often each branch comes is judged by
    // conformance/races.sh (see races).
    let mut race_note = String::new();
    let mut seed = None;
    let e = &scen.engine;
    if e.rollback_race > 0.0 || e.failure_race > 0.0 || e.random_slot_order {
        let real_branch = races::real_branch(rec, e);
        seed = (1..=races::SIM_RUNS)
            .find(|&s| races::sim_branch(&simulate(Some(s)), e) == real_branch);
        let mut which = format!(
            "engine: rollback_race {}, failure_race {}",
            e.rollback_race, e.failure_race
        );
        if e.random_slot_order {
            which = format!("{which}, slot_order random");
        }
        race_note = match seed {
            Some(s) => format!(
                "A race ({which}): the real run took the branch `{real_branch}`; compared with seed {s}, the first whose simulation takes it."
            ),
            None => format!(
                "A race ({which}): the real run took the branch `{real_branch}`, which no simulation of seeds 1-{} takes.",
                races::SIM_RUNS
            ),
        };
    }
    let result = simulate(seed);

    // Slot numbers are swarmkit's deterministic choice until an update or
    // rollback runs (Go map order, see compare), and only on one node: on
    // several, which node a slot lands on is a tie broken by Go map order
    // too (equally loaded nodes).
    let identity = rec.updates.is_empty() && scen.nodes.len() == 1;
    let real_transcript = if live {
        without_earlier_tasks(rec)
    } else {
        rec.transcript.clone()
    };
    let mut checks = compare_transcripts(
        &real_transcript,
        &result.transcript,
        &rec.hostname,
        &node,
        identity,
    );

    let real_updates: Vec<(String, String)> = rec
        .updates
        .iter()
        .map(|u| (u.state.clone(), u.message.clone()))
        .collect();
    let st = &result.cluster.store.state;
    let sim_log: Vec<_> = result
        .cluster
        .store
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
        .filter(|(_, t)| !(live && ended_before(t)))
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
            .entry((svc.spec.name.to_string(), t.slot))
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
        identity,
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
    let (dur_check, live_check, durations) = compare_episodes(&real_eps, &sim_eps);
    checks.push(dur_check);
    checks.push(live_check);

    let note = if rec.unsupported.is_empty() {
        String::new()
    } else {
        format!(
            "not replayed on the real engine: {}",
            rec.unsupported.join("; ")
        )
    };

    let note = format!("{note} {race_note}").trim().to_string();
    let note = match (calibration, crate::mutant::active()) {
        (_, Some(m)) => format!("{note} simulator mutant {m}").trim().to_string(),
        (Some((f, _)), None) => format!(
            "{note} Latencies measured on another real run: {}.",
            f.display()
        )
        .trim()
        .to_string(),
        (None, None) => note,
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
        "## Latencies measured on the real engine ({})\n\n{latency_table}",
        if live {
            "for comparison; the simulation used the scenario's own"
        } else {
            "used by the simulation"
        }
    );
    let _ = writeln!(report, "## Checks\n");
    for c in &checks {
        let _ = writeln!(report, "### {} {}\n", c.label(), c.what);
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

//! Races inside Swarm judged as races (docs/conformance.md, "Races"): a
//! scenario whose real outcome goes one way or the other from run to run is
//! run several times on the engine; each run's *branch* (the sequence of
//! its update and rollback episodes, each `at once` when it ended within
//! 0.5 s of its start, else `runs`; with `engine: failure_race`, also how
//! many slots got a task before the first failure action; so too with
//! `engine: slot_order: random`) is counted, and
//! so is the branch of each of a batch of simulations with different seeds
//! (the simulator takes such branches as seeded random choices, `engine:
//! rollback_race`, `failure_race` and `slot_order: random`). Each
//! branch's real count must lie in the central 95 % interval of a
//! binomial distribution with the real number of runs and the simulated
//! frequency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{Context, Result};

use super::compare::{Episode, episodes};
use super::{measure, record};
use crate::runner::{RunOptions, run};
use crate::scenario::{self, EngineProfile};
use crate::sim::time::{SimDuration, SimTime, secs_f64};
use crate::swarm::store::LogKind;

/// Simulations per race.
pub const SIM_RUNS: u64 = 200;

/// A run's branch: `update runs, rollback at once`.
pub fn branch(eps: &[Episode]) -> String {
    let v: Vec<String> = eps
        .iter()
        .map(|e| match e.end {
            Some(end) if end - e.start < 0.5 => format!("{} at once", e.kind),
            Some(_) => format!("{} runs", e.kind),
            None => format!("{} unfinished", e.kind),
        })
        .collect();
    if v.is_empty() {
        "no update".to_string()
    } else {
        v.join(", ")
    }
}

/// A run's branch from its update states `(time, state)` and the tasks
/// created `(time, slot)`: [`branch`] of its episodes, and, when the
/// scenario has `engine: failure_race`, how many slots got a task from the
/// first update's start to its failure action (the first `paused` or
/// `rollback_started`; 50 ms either side for the engine's clocks), e.g.
/// `update runs; 2 slots before the failure action`; the same count with
/// `engine: slot_order: random` (which slots the update took before a
/// failure, and which were replaced, is that order's doing).
pub fn branch_of(
    updates: &[(f64, String)],
    created: &[(f64, u64)],
    engine: &EngineProfile,
) -> String {
    let b = branch(&episodes(updates));
    if engine.failure_race <= 0.0 && !engine.random_slot_order {
        return b;
    }
    let start = updates.iter().find(|(_, s)| s == "updating").map(|u| u.0);
    let action = updates
        .iter()
        .find(|(_, s)| s == "paused" || s == "rollback_started")
        .map(|u| u.0);
    match (start, action) {
        (Some(s), Some(a)) if a >= s => {
            let slots: std::collections::BTreeSet<u64> = created
                .iter()
                .filter(|&&(t, _)| t >= s - 0.05 && t <= a + 0.05)
                .map(|&(_, slot)| slot)
                .collect();
            format!("{b}; {} slot(s) before the failure action", slots.len())
        }
        _ => format!("{b}; no failure action"),
    }
}

/// The update states and created tasks of a real run, for [`branch_of`].
pub fn real_branch(rec: &record::Recording, engine: &EngineProfile) -> String {
    let updates: Vec<(f64, String)> = rec.updates.iter().map(|u| (u.t, u.state.clone())).collect();
    let created: Vec<(f64, u64)> = rec.tasks.values().map(|t| (t.created, t.slot)).collect();
    branch_of(&updates, &created, engine)
}

/// The update states and created tasks of a simulation, for [`branch_of`].
pub fn sim_branch(r: &crate::runner::RunResult, engine: &EngineProfile) -> String {
    let updates: Vec<(f64, String)> = r
        .cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Update && !l.state.is_empty())
        .map(|l| (secs_f64(l.time), l.state.to_string()))
        .collect();
    let created: Vec<(f64, u64)> = r
        .cluster
        .store
        .state
        .tasks
        .iter()
        .map(|t| (secs_f64(t.created_at), t.slot))
        .collect();
    branch_of(&updates, &created, engine)
}

/// P(X <= k) for X ~ Binomial(n, p).
fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    let mut sum = 0.0;
    let mut term = (1.0 - p).powi(n as i32); // P(X = 0)
    for i in 0..=k.min(n) {
        if i > 0 {
            term *= (n - i + 1) as f64 / i as f64 * p / (1.0 - p);
        }
        sum += term;
    }
    sum.min(1.0)
}

/// The central 95 % interval [lo, hi] of Binomial(n, p): lo the smallest
/// k with P(X <= k) > 0.025, hi the smallest k with P(X <= k) >= 0.975.
pub fn binomial_interval(n: u64, p: f64) -> (u64, u64) {
    if p <= 0.0 {
        return (0, 0);
    }
    if p >= 1.0 {
        return (n, n);
    }
    let lo = (0..=n)
        .find(|&k| binomial_cdf(k, n, p) > 0.025)
        .unwrap_or(0);
    let hi = (0..=n)
        .find(|&k| binomial_cdf(k, n, p) >= 0.975)
        .unwrap_or(n);
    (lo, hi)
}

/// Judges the real runs `runs` (folders with `real-trace.jsonl`) of the
/// scenario at `path` against [`SIM_RUNS`] simulations (latencies measured
/// on `calibration`, a trace of another run, when given). Returns the
/// report and whether every branch agrees.
pub fn judge(path: &Path, runs: &[PathBuf], calibration: Option<&Path>) -> Result<(String, bool)> {
    let scen = scenario::load(path)?;
    let mut real: BTreeMap<String, u64> = BTreeMap::new();
    let end: f64 = record::end_of(&scen);
    for d in runs {
        let f = d.join("real-trace.jsonl");
        let text = std::fs::read_to_string(&f).with_context(|| f.display().to_string())?;
        let rec = record::Recording::from_trace(&text)?;
        *real.entry(real_branch(&rec, &scen.engine)).or_default() += 1;
    }
    let mut sim_scen = scen.clone();
    if let Some(c) = calibration {
        let text = std::fs::read_to_string(c).with_context(|| c.display().to_string())?;
        let cal = record::Recording::from_trace(&text)?;
        sim_scen.images = measure::measure(&cal, &scen.images, &scen.engine).0;
    }
    let sim_scen = Rc::new(sim_scen);
    let mut sim: BTreeMap<String, u64> = BTreeMap::new();
    for seed in 1..=SIM_RUNS {
        let result = run(
            sim_scen.clone(),
            &RunOptions {
                seed: Some(seed),
                until: Some(SimTime::at(SimDuration::from_secs_f64(end))),
                keep_log: true,
                ..Default::default()
            },
        );
        *sim.entry(sim_branch(&result, &scen.engine)).or_default() += 1;
    }
    let n = runs.len() as u64;
    let mut ok = n > 0;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Race: {} ({})\n\n{} real runs on the engine, {SIM_RUNS} simulations (seeds 1-{SIM_RUNS}, `engine: rollback_race` {}, `failure_race` {}). \
         A branch agrees when its real count lies in the central 95 % interval of Binomial(real runs, simulated frequency).\n",
        scen.name,
        path.display(),
        n,
        scen.engine.rollback_race,
        scen.engine.failure_race
    );
    if scen.engine.random_slot_order {
        t = t.replacen(
            "). A branch agrees",
            ", `slot_order` random). A branch agrees",
            1,
        );
    }
    let _ = writeln!(
        t,
        "| branch | real | simulated | 95 % interval of the real count | agrees |"
    );
    let _ = writeln!(t, "| --- | --- | --- | --- | --- |");
    let mut names: Vec<&String> = real.keys().chain(sim.keys()).collect();
    names.sort();
    names.dedup();
    for b in names {
        let k = real.get(b).copied().unwrap_or(0);
        let c = sim.get(b).copied().unwrap_or(0);
        let p = c as f64 / SIM_RUNS as f64;
        let (lo, hi) = binomial_interval(n, p);
        let agrees = k >= lo && k <= hi;
        ok &= agrees;
        let _ = writeln!(
            t,
            "| {b} | {k} of {n} | {c} of {SIM_RUNS} ({:.0} %) | {lo}-{hi} | {} |",
            p * 100.0,
            if agrees { "yes" } else { "**no**" }
        );
    }
    Ok((t, ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_intervals() {
        assert_eq!(binomial_interval(8, 0.0), (0, 0));
        assert_eq!(binomial_interval(8, 1.0), (8, 8));
        // Binomial(8, 0.5): P(X <= 1) = 0.035, P(X <= 6) = 0.965, P(X <= 7) = 0.996.
        assert_eq!(binomial_interval(8, 0.5), (1, 7));
        let (lo, hi) = binomial_interval(8, 0.4);
        assert!(lo <= 3 && hi >= 3 && lo >= 1 && hi <= 6, "{lo} {hi}");
    }

    #[test]
    fn branches() {
        let e = |kind, start, end: Option<f64>| Episode {
            kind,
            start,
            end,
            state: String::new(),
        };
        assert_eq!(
            branch(&[e("update", 4.0, Some(6.0)), e("rollback", 6.0, Some(6.0))]),
            "update runs, rollback at once"
        );
        assert_eq!(branch(&[]), "no update");
    }

    /// resume-paused on the engine (/tmp run at the time of writing, the
    /// numbers of its trace): the update starts at 4.0, slot 1's task is
    /// created at 4.12 and fails; slot 3's task (the worker went first) at
    /// 5.971 and slot 1's replacement at 5.970; the pause at 5.971.
    #[test]
    fn failure_race_branches_count_the_slots_before_the_action() {
        let u: Vec<(f64, String)> = [
            (4.0, "updating"),
            (5.971, "paused"),
            (10.0, "updating"),
            (16.7, "completed"),
        ]
        .iter()
        .map(|&(t, s)| (t, s.to_string()))
        .collect();
        let created = [
            (0.0, 1),
            (0.0, 2),
            (0.0, 3),
            (4.12, 1),
            (5.971, 3),
            (5.970, 1),
            (7.0, 2),
        ];
        let race = |failure: f64, random_slot_order: bool| EngineProfile {
            failure_race: failure,
            random_slot_order,
            ..Default::default()
        };
        assert_eq!(
            branch_of(&u, &created, &race(0.25, false)),
            "update runs, update runs; 2 slot(s) before the failure action"
        );
        assert_eq!(
            branch_of(&u, &created[..4], &race(0.25, false)),
            "update runs, update runs; 1 slot(s) before the failure action"
        );
        assert_eq!(
            branch_of(&u, &created, &race(0.0, false)),
            "update runs, update runs"
        );
        assert_eq!(
            branch_of(&u, &created, &race(0.0, true)),
            "update runs, update runs; 2 slot(s) before the failure action"
        );
    }
}

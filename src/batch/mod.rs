//! Monte Carlo over seeds: run a scenario once per seed on a rayon pool,
//! keep only a small record per run (and the running-count band), and
//! write `runs.csv`, `batch.json`, `band.csv` and plots.
//!
//! Determinism: every run is a pure function of (scenario, seed); workers
//! tag their records with the seed and the records are sorted by seed
//! before anything is written; the band is a sum of histograms. So the
//! output does not depend on `--jobs` or on thread timing.

pub mod band;
pub mod cmd;
pub mod output;
pub mod stats;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::docker::cli::DockerCommand;
use crate::runner::{RunOptions, run};
use crate::scenario::{Action, Scenario, ScenarioError};
use crate::sim::time::SimDuration;
use band::Band;
use output::{RunRecord, STATES, ServiceRecord, UNFINISHED};

/// Why a batch, a sweep or a merge cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// `--shard` is not I/N with 0 <= I < N.
    #[error("invalid --shard {0:?}: expected I/N with 0 <= I < N, e.g. 0/4")]
    InvalidShard(String),
    #[error("{}: cannot start worker threads: {source}", .file.display())]
    Threads {
        file: PathBuf,
        source: rayon::ThreadPoolBuildError,
    },
    /// A bug, not bad input: runs lost between the workers and the writer.
    #[error("{}: internal error: {got} of {want} runs came back", .file.display())]
    LostRuns {
        file: PathBuf,
        got: usize,
        want: u64,
    },
    /// A file of a shard folder that cannot be read.
    #[error("{}: {source}", .path.display())]
    ReadShard {
        path: PathBuf,
        source: crate::fsio::ReadError,
    },
    /// A shard folder whose files are not what `batch --shard` writes.
    #[error("{}: {reason}", .path.display())]
    BadShard { path: PathBuf, reason: String },
    /// A shard folder's `runs.csv` or `band.csv` that cannot be read back.
    #[error("{}: {source}", .dir.display())]
    ShardCsv {
        dir: PathBuf,
        source: output::CsvError,
    },
    /// Shard folders that do not make one batch.
    #[error("{0}")]
    Merge(String),
}

/// A scenario as text (so that each worker thread can build its own
/// `Scenario`, which holds `Rc`s), with the `--set` overrides of a sweep
/// cell.
#[derive(Debug, Clone)]
pub struct ScenarioSource {
    pub file: PathBuf,
    pub text: String,
    pub overrides: Vec<crate::scenario::Override>,
}

impl ScenarioSource {
    pub fn load(path: &Path) -> Result<ScenarioSource, ScenarioError> {
        let text = crate::scenario::read_input(path, "the scenario")?;
        Ok(ScenarioSource {
            file: path.to_path_buf(),
            text,
            overrides: Vec::new(),
        })
    }

    pub fn build(&self) -> Result<Scenario, ScenarioError> {
        crate::scenario::parse_str_with(&self.text, &self.file, &self.overrides)
    }
}

/// The service columns of a batch: the services under `services:` and
/// those a `docker service create` of the timeline names, sorted by name.
pub fn service_columns(sc: &Scenario) -> Vec<String> {
    let mut names: BTreeSet<String> = sc.services.iter().map(|s| s.name.clone()).collect();
    for item in &sc.timeline {
        if let Action::Docker {
            command: DockerCommand::ServiceCreate { spec, .. },
            ..
        } = &item.action
        {
            names.insert(spec.name.clone());
        }
    }
    names.into_iter().collect()
}

/// Nanoseconds to milliseconds, rounded half up.
fn ms(d: SimDuration) -> u64 {
    (d.as_nanos() + 500_000) / 1_000_000
}

fn state_str(s: crate::swarm::model::UpdateState) -> &'static str {
    let a = s.as_str();
    STATES
        .iter()
        .find(|x| **x == a)
        .copied()
        .unwrap_or("updating")
}

/// One run of `sc` with `seed`: its record, and its contribution to `band`.
pub fn run_one(sc: &Rc<Scenario>, columns: &[String], seed: u64, band: &mut Band) -> RunRecord {
    let opts = RunOptions {
        seed: Some(seed),
        keep_log: false,
        record_series: true,
        skip_transcript: true,
        ..Default::default()
    };
    let result = run(sc.clone(), &opts);
    let c = &result.cluster;
    let mut services = Vec::with_capacity(columns.len());
    for (col, name) in columns.iter().enumerate() {
        let Some(sid) = c.state.find_service(name) else {
            services.push(None);
            continue;
        };
        let stats = &c.stats[sid];
        let first = |rollback: bool| {
            let e = stats.episodes.iter().find(|e| e.rollback == rollback)?;
            Some(match e.ended {
                Some(end) => (Some(ms(end - e.started)), state_str(e.state)),
                None => (None, UNFINISHED),
            })
        };
        let (update_ms, update_end) = first(false).unzip();
        let (rollback_ms, rollback_end) = first(true).unzip();
        services.push(Some(ServiceRecord {
            update_ms: update_ms.flatten(),
            update_end,
            rollback_ms: rollback_ms.flatten(),
            rollback_end,
            final_state: c.state.services[sid]
                .update_status
                .as_ref()
                .map(|s| state_str(s.state))
                .unwrap_or("none"),
            min_running: stats.min_running_during_updates,
            task_failures: stats.task_failures,
            restarts: stats.restarts,
        }));
        band.services[col].add_run(&stats.running_series, result.end, stats.running);
    }
    RunRecord {
        seed,
        end_ms: ms(result.end.since_start()),
        hit_limit: result.hit_limit,
        services,
    }
}

/// Runs handed to a worker at a time.
const CHUNK: u64 = 32;

/// Runs `source` for every seed in `seeds` on `jobs` threads. Returns the
/// records in seed order and the band. `progress` is called after each
/// run (from worker threads).
pub fn run_seeds(
    source: &ScenarioSource,
    columns: &[String],
    seeds: std::ops::Range<u64>,
    jobs: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<RunRecord>, Band), BatchError> {
    // Validate once here, so that the workers cannot fail.
    source.build()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| BatchError::Threads {
            file: source.file.clone(),
            source: e,
        })?;
    // Offsets from `seeds.start`, so that seeds near u64::MAX do not wrap.
    let count = seeds.end - seeds.start;
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<(Vec<RunRecord>, Band)>> = Mutex::new(Vec::new());
    pool.scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|_| {
                // One Scenario per worker: it holds Rcs and cannot be shared.
                let sc = match source.build() {
                    Ok(sc) => Rc::new(sc),
                    Err(_) => return, // validated above
                };
                let mut rows = Vec::new();
                let mut band = Band::new(columns.len());
                loop {
                    let off = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if off >= count {
                        break;
                    }
                    let from = seeds.start + off;
                    for seed in from..from + CHUNK.min(count - off) {
                        rows.push(run_one(&sc, columns, seed, &mut band));
                        progress();
                    }
                }
                if let Ok(mut r) = results.lock() {
                    r.push((rows, band));
                }
            });
        }
    });
    let parts = results.into_inner().unwrap_or_default();
    let mut rows = Vec::new();
    let mut band = Band::new(columns.len());
    for (r, b) in parts {
        rows.extend(r);
        band.merge(&b);
    }
    // Gathered by seed, whatever thread ran which seed.
    rows.sort_by_key(|r| r.seed);
    if rows.len() as u64 != seeds.end - seeds.start {
        return Err(BatchError::LostRuns {
            file: source.file.clone(),
            got: rows.len(),
            want: seeds.end - seeds.start,
        });
    }
    Ok((rows, band))
}

//! Monte Carlo over seeds: run a scenario once per seed on worker threads,
//! stream a small record per run to `runs.csv` in seed order, keep only
//! tallies of the values the statistics need (and the running-count
//! band), and write `batch.json`, `band.csv` and plots.
//!
//! Determinism: every run is a pure function of (scenario, seed); workers
//! tag their records with their seeds and the records are handed on in
//! seed order; the band is a sum of histograms. So the output does not
//! depend on `--jobs` or on thread timing.

pub mod band;
pub mod cmd;
pub mod output;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::docker::cli::DockerCommand;
use crate::runner::{Driver, RunConfig, RunOptions};
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
    /// A bug, not bad input: runs lost between the workers and the writer.
    #[error("{}: internal error: {got} of {want} runs came back", .file.display())]
    LostRuns { file: PathBuf, got: u64, want: u64 },
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
    let mut names: BTreeSet<String> = sc.services.iter().map(|s| s.name.to_string()).collect();
    for item in &sc.timeline {
        if let Action::Docker {
            command: DockerCommand::ServiceCreate { spec, .. },
            ..
        } = &item.action
        {
            names.insert(spec.name.to_string());
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
    // The run without observers and without its summary, which a batch
    // does not read.
    let mut driver = Driver::new(sc.clone(), RunConfig::new(&opts, sc), None);
    let ended = driver.run_bare();
    let c = &driver.cluster;
    let mut services = Vec::with_capacity(columns.len());
    for (col, name) in columns.iter().enumerate() {
        let Some(sid) = c.store.state.find_service(name) else {
            services.push(None);
            continue;
        };
        let stats = &c.store.stats[sid];
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
            final_state: c.store.state.services[sid]
                .update_status
                .as_ref()
                .map(|s| state_str(s.state))
                .unwrap_or("none"),
            min_running: stats.min_running_during_updates,
            task_failures: stats.task_failures,
            restarts: stats.restarts,
        }));
        band.services[col].add_run(&stats.running_series, ended.end, stats.running);
    }
    RunRecord {
        seed,
        end_ms: ms(ended.end.since_start()),
        hit_limit: ended.stop.is_some(),
        services,
    }
}

/// The most runs handed to a worker at a time.
const MAX_CHUNK: u64 = 256;

/// Runs handed to a worker at a time: about 16 chunks per worker, so that
/// a few long runs still spread over every worker, and at most
/// [`MAX_CHUNK`], so that a big batch wakes the thread that hands runs on
/// once per few milliseconds of work rather than after every few runs.
/// The chunks change nothing in the output (records go on in seed order).
fn chunk_size(count: u64, jobs: usize) -> u64 {
    (count / (16 * jobs as u64)).clamp(1, MAX_CHUNK)
}

/// Runs `source` for every seed in `seeds` on `jobs` threads. Returns the
/// records in seed order and the band. `progress(n)` is told of every `n`
/// runs done (see [`run_seeds_with`]).
pub fn run_seeds(
    source: &ScenarioSource,
    columns: &[String],
    seeds: std::ops::Range<u64>,
    jobs: usize,
    progress: &dyn Fn(u64),
) -> Result<(Vec<RunRecord>, Band), BatchError> {
    let mut rows = Vec::new();
    let band = run_seeds_with(source, columns, seeds, jobs, progress, &mut |r| {
        rows.push(r)
    })?;
    Ok((rows, band))
}

/// Runs `source` for every seed in `seeds` on `jobs` threads and hands
/// every run's record to `on_run` in seed order, as soon as the runs
/// before it are done, so that the caller can write it out and keep only
/// what its statistics need. Returns the band. `progress(n)` is told, on
/// this thread, of every `n` runs done: after each run with one job, after
/// each chunk with more (the workers share nothing per run, not even a
/// progress counter).
///
/// With one job the runs are made on this thread. With more, each worker
/// takes the next [`chunk_size`] seeds at a time and sends their records here;
/// chunks that finish ahead of an earlier one wait until it is done (a
/// few chunks per worker), so what reaches `on_run` does not depend on
/// the jobs or on thread timing, and memory does not grow with the runs.
pub fn run_seeds_with(
    source: &ScenarioSource,
    columns: &[String],
    seeds: std::ops::Range<u64>,
    jobs: usize,
    progress: &dyn Fn(u64),
    on_run: &mut dyn FnMut(RunRecord),
) -> Result<Band, BatchError> {
    // Validate once here, so that the workers cannot fail.
    let first = source.build()?;
    // Offsets from `seeds.start`, so that seeds near u64::MAX do not wrap.
    let count = seeds.end - seeds.start;
    let mut band = Band::new(columns.len());
    let mut done = 0u64;
    if jobs <= 1 {
        let sc = Rc::new(first);
        for seed in seeds.clone() {
            on_run(run_one(&sc, columns, seed, &mut band));
            progress(1);
            done += 1;
        }
    } else {
        drop(first);
        let chunk = chunk_size(count, jobs);
        let next = AtomicU64::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<(u64, Vec<RunRecord>)>();
        let bands = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..jobs)
                .map(|_| {
                    let tx = tx.clone();
                    let (next, seeds) = (&next, seeds.clone());
                    scope.spawn(move || {
                        // One Scenario per worker: it holds Rcs and cannot
                        // be shared.
                        let sc = Rc::new(source.build().ok()?);
                        let mut band = Band::new(columns.len());
                        loop {
                            let off = next.fetch_add(chunk, Ordering::Relaxed);
                            if off >= count {
                                break;
                            }
                            let from = seeds.start + off;
                            let n = chunk.min(count - off);
                            let mut rows = Vec::with_capacity(n as usize);
                            for seed in from..from + n {
                                rows.push(run_one(&sc, columns, seed, &mut band));
                            }
                            if tx.send((off, rows)).is_err() {
                                break;
                            }
                        }
                        Some(band)
                    })
                })
                .collect();
            drop(tx);
            // Chunks in seed order: a chunk that finished early waits for
            // those before it.
            let mut waiting: BTreeMap<u64, Vec<RunRecord>> = BTreeMap::new();
            for (off, rows) in rx {
                progress(rows.len() as u64);
                waiting.insert(off, rows);
                while let Some(rows) = waiting.remove(&done) {
                    done += rows.len() as u64;
                    for r in rows {
                        on_run(r);
                    }
                }
            }
            workers
                .into_iter()
                .filter_map(|w| w.join().ok().flatten())
                .collect::<Vec<Band>>()
        });
        // The band is a sum of histograms: the order of the workers does
        // not matter.
        for b in &bands {
            band.merge(b);
        }
    }
    if done != count {
        return Err(BatchError::LostRuns {
            file: source.file.clone(),
            got: done,
            want: count,
        });
    }
    Ok(band)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "name: small\nseed: 1\ncluster:\n  nodes:\n    - name: m\n      role: manager\n    - name: w{n}\n      count: 2\nimages:\n  default: {pull: 1s, start: {dist: lognormal, median: 2s, p99: 8s}, stop: 500ms}\nservices:\n  web:\n    image: web:1\n    deploy:\n      replicas: 4\n      update_config: {parallelism: 2, delay: 5s}\ntimeline:\n  - at: 30s\n    docker: docker service update --image web:2 web\n";

    fn source() -> ScenarioSource {
        ScenarioSource {
            file: PathBuf::from("small.yaml"),
            text: SMALL.to_string(),
            overrides: Vec::new(),
        }
    }

    #[test]
    fn runs_reach_the_caller_in_seed_order_whatever_the_jobs() {
        let src = source();
        let columns = service_columns(&src.build().unwrap());
        // Not a multiple of the chunks, from a seed that is not 0.
        let seeds = 7..7 + 3 * 32 + 5;
        assert_eq!(chunk_size(seeds.end - seeds.start, 2), 3);
        let mut one = Vec::new();
        let band1 = run_seeds_with(&src, &columns, seeds.clone(), 1, &|_| {}, &mut |r| {
            one.push(r)
        })
        .unwrap();
        let seen: Vec<u64> = one.iter().map(|r| r.seed).collect();
        assert_eq!(seen, seeds.clone().collect::<Vec<u64>>());
        for jobs in [2, 3] {
            let mut many = Vec::new();
            let done = std::cell::Cell::new(0);
            let progress = |n| done.set(done.get() + n);
            let band = run_seeds_with(&src, &columns, seeds.clone(), jobs, &progress, &mut |r| {
                many.push(r)
            })
            .unwrap();
            assert_eq!(many, one, "{jobs} jobs");
            assert_eq!(done.get(), seeds.end - seeds.start, "{jobs} jobs: progress");
            assert_eq!(band.to_csv(&columns), band1.to_csv(&columns));
        }
        // The lognormal starts make the runs differ, so the order shows.
        let durations: BTreeSet<u64> = one
            .iter()
            .filter_map(|r| r.services[0].as_ref()?.update_ms)
            .collect();
        assert!(durations.len() > 10, "{durations:?}");
    }
}

//! The `batch`, `merge` and `sweep` subcommands (called from `cli`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::BatchError;
use super::band::Band;
use super::output::{
    BatchAcc, BatchMeta, RunRecord, batch_json_of, batch_table, batch_table_of, parse_runs_csv,
    push_runs_csv_row, runs_csv, runs_csv_header,
};
use super::stats::Tally;
use super::{ScenarioSource, run_seeds, run_seeds_with, service_columns};
use crate::error::{Error, ExitStatus};
use crate::sweep::SweepError;
use crate::sweep::report::{CellMetrics, Metric, Requirement, sweep_csv, sweep_table};
use crate::sweep::{Key, apply, grid, parse_key, parse_set};

/// The default number of jobs: the machine's cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A progress bar on stderr when it is a terminal, none otherwise.
fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {rate}  ETA {eta}")
    {
        pb.set_style(
            style.with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&fmt_rate(s.per_sec()));
            }),
        );
    }
    Some(pb)
}

/// Runs per second as a person reads it: `38 runs/s`, `2.5 runs/s`,
/// `0.25 runs/s` (indicatif's own `{per_sec}` prints `37.5061/s`).
pub fn fmt_rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "- runs/s".to_string()
    } else if per_sec >= 10.0 {
        format!("{per_sec:.0} runs/s")
    } else if per_sec >= 1.0 {
        format!("{per_sec:.1} runs/s")
    } else {
        format!("{per_sec:.2} runs/s")
    }
}

/// Parses `--shard I/N` (0 ≤ I < N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), BatchError> {
    let err = || BatchError::InvalidShard(s.to_string());
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let i: u64 = i.trim().parse().map_err(|_| err())?;
    let n: u64 = n.trim().parse().map_err(|_| err())?;
    if n == 0 || i >= n {
        return Err(err());
    }
    Ok((i, n))
}

/// The seeds of shard `i` of `n` of a batch of `runs` from `start`:
/// contiguous blocks, the first `runs mod n` shards one run longer.
pub fn shard_seeds(start: u64, runs: u64, i: u64, n: u64) -> std::ops::Range<u64> {
    // In u128: `i * runs` overflows u64 for large batches.
    let at = |k: u64| start + (u128::from(k) * u128::from(runs) / u128::from(n)) as u64;
    at(i)..at(i + 1)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How an update ended (`update_end`), its legend label and colour in the
/// duration histogram.
const OUTCOME_COLOURS: [(&str, &str, &str); 4] = [
    ("completed", "completed", "#2ca02c"),
    ("paused", "paused", "#ff7f0e"),
    ("rollback_started", "rolled back", "#d62728"),
    ("updating", "replaced by a later update", "#9467bd"),
];

/// The result files of a batch, (file name, contents): `runs.csv`,
/// `batch.json`, `band.csv` and per service the update-duration histogram
/// and the running band. A pure function, the same for `batch` and
/// `merge`, so that they cannot differ.
pub fn batch_files(
    meta: &BatchMeta,
    columns: &[String],
    rows: &[RunRecord],
    band: &Band,
) -> Vec<(String, String)> {
    let mut files = vec![("runs.csv".to_string(), runs_csv(columns, rows))];
    files.extend(summary_files(
        meta,
        columns,
        &BatchAcc::of(columns.len(), rows),
        band,
    ));
    files
}

/// [`batch_files`] but `runs.csv`, from what a batch kept of its runs
/// (`batch` streams `runs.csv` as the runs finish).
pub fn summary_files(
    meta: &BatchMeta,
    columns: &[String],
    acc: &BatchAcc,
    band: &Band,
) -> Vec<(String, String)> {
    let mut files = vec![
        ("batch.json".to_string(), batch_json_of(meta, columns, acc)),
        ("band.csv".to_string(), band.to_csv(columns)),
    ];
    for (i, name) in columns.iter().enumerate() {
        // One colour per way the update ended: a paused update measures
        // the time to the pause, a completed one the time to finish.
        let groups: Vec<(String, &str, Tally)> = OUTCOME_COLOURS
            .iter()
            .map(|&(end, label, colour)| {
                let t = acc
                    .services
                    .get(i)
                    .map(|s| s.update.ended_as(end))
                    .unwrap_or_default();
                (label.to_string(), colour, t)
            })
            .collect();
        let title = format!(
            "{name}: first update duration by outcome, {} runs",
            acc.runs
        );
        files.push((
            format!("update-histogram-{}.svg", safe(name)),
            crate::plot::histogram_tally_svg(&title, "update duration (s)", &groups),
        ));
        let q = band
            .services
            .get(i)
            .map(|b| b.quantiles())
            .unwrap_or_default();
        let title = format!("{name}: running replicas (p5, p50, p95), {} runs", acc.runs);
        files.push((
            format!("running-band-{}.svg", safe(name)),
            crate::plot::band_svg(&title, &q),
        ));
    }
    files
}

fn write_batch(
    dir: &Path,
    meta: &BatchMeta,
    columns: &[String],
    rows: &[RunRecord],
    band: &Band,
) -> std::io::Result<()> {
    let files = batch_files(meta, columns, rows, band);
    for (name, text) in &files {
        crate::fsio::write_in(dir, name, text.as_bytes())?;
    }
    remove_stale_plots(dir, &files)
}

/// `runs.csv` written as the runs finish (in seed order), through a
/// buffer, to a temporary file that [`RunsCsv::publish`] renames.
struct RunsCsv {
    w: Option<std::io::BufWriter<std::fs::File>>,
    tmp: PathBuf,
    line: String,
    err: Option<std::io::Error>,
}

impl RunsCsv {
    fn create(dir: &Path, columns: &[String]) -> std::io::Result<RunsCsv> {
        let (f, tmp) = crate::fsio::create_in(dir, "runs.csv")?;
        let mut csv = RunsCsv {
            w: Some(std::io::BufWriter::with_capacity(1 << 16, f)),
            tmp,
            line: runs_csv_header(columns),
            err: None,
        };
        csv.line.push('\n');
        csv.flush_line();
        Ok(csv)
    }

    fn flush_line(&mut self) {
        if let (Some(w), None) = (&mut self.w, &self.err)
            && let Err(e) = w.write_all(self.line.as_bytes())
        {
            self.err = Some(e);
        }
        self.line.clear();
    }

    fn row(&mut self, r: &RunRecord) {
        push_runs_csv_row(&mut self.line, r);
        self.flush_line();
    }

    /// Finishes the file and puts it in place as `dir/runs.csv`.
    fn publish(mut self, dir: &Path) -> std::io::Result<()> {
        let flushed = match (self.err.take(), self.w.take()) {
            (Some(e), _) => Err(e),
            (None, Some(w)) => w.into_inner().map(drop).map_err(|e| e.into_error()),
            (None, None) => Ok(()),
        };
        match flushed {
            Ok(()) => crate::fsio::publish(&self.tmp, dir, "runs.csv"),
            Err(e) => Err(e),
        }
    }
}

impl Drop for RunsCsv {
    /// A batch that did not finish leaves no temporary file.
    fn drop(&mut self) {
        if self.w.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Removes the per-service plots of an earlier batch in `dir` (a service
/// since renamed or removed) that this batch did not write.
fn remove_stale_plots(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let plot = (name.starts_with("update-histogram-") || name.starts_with("running-band-"))
            && name.ends_with(".svg");
        if plot && !files.iter().any(|(f, _)| *f == name) {
            // A link is removed itself, its target left alone.
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

pub struct BatchArgs {
    pub scenario: PathBuf,
    pub runs: u64,
    pub seed_start: u64,
    pub jobs: Option<usize>,
    pub shard: Option<String>,
    pub out: Option<PathBuf>,
}

pub fn batch(a: BatchArgs) -> Result<ExitStatus, Error> {
    crate::limits::check_seeds(a.seed_start, a.runs)?;
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    let here = match shard {
        Some((i, n)) => {
            let s = shard_seeds(a.seed_start, a.runs, i, n);
            s.end - s.start
        }
        None => a.runs,
    };
    crate::limits::check_runs(Some(here), "batch")?;
    let jobs = a.jobs.unwrap_or_else(default_jobs).max(1);
    let source = ScenarioSource::load(&a.scenario)?;
    let sc = source.build()?;
    let columns = service_columns(&sc);
    let seeds = match shard {
        Some((i, n)) => shard_seeds(a.seed_start, a.runs, i, n),
        None => a.seed_start..a.seed_start + a.runs,
    };
    let count = seeds.end - seeds.start;
    let out = a
        .out
        .unwrap_or_else(|| crate::cli::default_out_dir(&a.scenario));
    let mut csv = match RunsCsv::create(&out, &columns) {
        Ok(c) => c,
        Err(e) => return Err(Error::write(&out, e)),
    };
    let pb = progress_bar(count);
    let started = Instant::now();
    let inc = |n| {
        if let Some(pb) = &pb {
            pb.inc(n);
        }
    };
    let mut acc = BatchAcc::new(columns.len());
    let band = run_seeds_with(&source, &columns, seeds.clone(), jobs, &inc, &mut |r| {
        csv.row(&r);
        acc.add(&r);
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    let meta = BatchMeta {
        scenario: sc.name.clone(),
        scenario_file: file_name(&a.scenario),
        seed_start: seeds.start,
        runs: count,
        shard,
        shard_of: shard.map(|_| super::output::ShardOf {
            seed_start: a.seed_start,
            runs: a.runs,
            digest: super::output::digest(source.text.as_bytes()),
        }),
    };
    let write = || -> std::io::Result<()> {
        csv.publish(&out)?;
        let mut files = summary_files(&meta, &columns, &acc, &band);
        for (name, text) in &files {
            crate::fsio::write_in(&out, name, text.as_bytes())?;
        }
        files.push(("runs.csv".to_string(), String::new()));
        remove_stale_plots(&out, &files)
    };
    if let Err(e) = write() {
        return Err(Error::write(&out, e));
    }
    let _ = std::io::stdout()
        .lock()
        .write_all(batch_table_of(&meta, &columns, &acc).as_bytes());
    eprintln!(
        "{count} runs in {elapsed:.1} s ({}, {jobs} jobs); results in {}",
        fmt_rate(count as f64 / elapsed.max(1e-9)),
        out.display()
    );
    Ok(ExitStatus::Success)
}

/// One shard folder read back.
struct Shard {
    meta: BatchMeta,
    columns: Vec<String>,
    rows: Vec<RunRecord>,
    band: Band,
}

fn read_shard(dir: &Path) -> Result<Shard, BatchError> {
    let read = |f: &str| {
        crate::fsio::read_text(&dir.join(f)).map_err(|source| BatchError::ReadShard {
            path: dir.join(f),
            source,
        })
    };
    let bad_file = |f: &str, reason: String| BatchError::BadShard {
        path: dir.join(f),
        reason,
    };
    let json: serde_json::Value = serde_json::from_str(&read("batch.json")?)
        .map_err(|e| bad_file("batch.json", e.to_string()))?;
    let s = |k: &str| json[k].as_str().map(str::to_string);
    let u = |k: &str| json[k].as_u64();
    let bad = || bad_file("batch.json", "not a swarmsim batch.json".to_string());
    let shard = match &json["shard"] {
        serde_json::Value::Null => None,
        v => {
            let (i, n) = (
                v["index"].as_u64().ok_or_else(bad)?,
                v["count"].as_u64().ok_or_else(bad)?,
            );
            if n == 0 || i >= n {
                return Err(bad_file(
                    "batch.json",
                    format!("shard {i}/{n} is not a shard (expected I/N with 0 <= I < N)"),
                ));
            }
            Some((i, n))
        }
    };
    let shard_of = match (&json["batch"], shard) {
        (serde_json::Value::Null, None) => None,
        (b, Some(_)) if !b.is_null() => Some(super::output::ShardOf {
            seed_start: b["seed_start"].as_u64().ok_or_else(bad)?,
            runs: b["runs"].as_u64().ok_or_else(bad)?,
            digest: b["scenario_digest"].as_str().ok_or_else(bad)?.to_string(),
        }),
        _ => {
            return Err(bad_file(
                "batch.json",
                "a shard without its batch (`batch:` seed_start, runs, scenario_digest); rerun it with this swarmsim".to_string(),
            ));
        }
    };
    let meta = BatchMeta {
        scenario: s("scenario").ok_or_else(bad)?,
        scenario_file: s("scenario_file").ok_or_else(bad)?,
        seed_start: u("seed_start").ok_or_else(bad)?,
        runs: u("runs").ok_or_else(bad)?,
        shard,
        shard_of,
    };
    if let (Some((i, n)), Some(b)) = (meta.shard, &meta.shard_of) {
        let want = shard_seeds(b.seed_start, b.runs, i, n);
        if b.runs == 0
            || b.seed_start.checked_add(b.runs).is_none()
            || meta.seed_start != want.start
            || meta.runs != want.end - want.start
        {
            return Err(bad_file(
                "batch.json",
                format!(
                    "shard {i}/{n} of {} runs from seed {} should hold {} runs from seed {}, not {} from {}",
                    b.runs,
                    b.seed_start,
                    want.end.wrapping_sub(want.start),
                    want.start,
                    meta.runs,
                    meta.seed_start
                ),
            ));
        }
    }
    let bad_dir = |reason: String| BatchError::BadShard {
        path: dir.to_path_buf(),
        reason,
    };
    let csv = |source| BatchError::ShardCsv {
        dir: dir.to_path_buf(),
        source,
    };
    let (columns, rows) = parse_runs_csv(&read("runs.csv")?).map_err(csv)?;
    if rows.len() as u64 != meta.runs {
        return Err(bad_dir(format!(
            "runs.csv has {} rows, batch.json says {}",
            rows.len(),
            meta.runs
        )));
    }
    let band = Band::from_csv(&read("band.csv")?, &columns).map_err(csv)?;
    Ok(Shard {
        meta,
        columns,
        rows,
        band,
    })
}

/// `swarmsim merge DIR... --out DIR`: joins shard folders into the files
/// the unsharded batch writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<ExitStatus, Error> {
    let mut shards = Vec::new();
    for d in dirs {
        match read_shard(d) {
            Ok(s) => shards.push(s),
            Err(e) => return Err(e.into()),
        }
    }
    let Some(first) = shards.first() else {
        return Err(BatchError::Merge("merge needs at least one folder".to_string()).into());
    };
    let (scenario, file, columns) = (
        first.meta.scenario.clone(),
        first.meta.scenario_file.clone(),
        first.columns.clone(),
    );
    for (s, d) in shards.iter().zip(dirs) {
        let of = |s: &Shard| {
            s.meta
                .shard_of
                .as_ref()
                .map(|b| (b.seed_start, b.runs, b.digest.clone()))
        };
        if s.meta.scenario != scenario
            || s.meta.scenario_file != file
            || s.columns != columns
            || of(s) != of(first)
        {
            return Err(BatchError::Merge(format!(
                "{}: not the same batch of the same scenario text ({} / {}) as {} ({} / {}): its `batch` (seed_start, runs, scenario_digest) or services differ",
                d.display(),
                s.meta.scenario_file,
                s.meta.scenario,
                dirs[0].display(),
                file,
                scenario
            )).into());
        }
    }
    // Every shard of an N-way split, once.
    let counts: std::collections::BTreeSet<u64> = shards
        .iter()
        .filter_map(|s| s.meta.shard.map(|x| x.1))
        .collect();
    if let Some(&n) = counts.iter().next() {
        let idx: std::collections::BTreeSet<u64> = shards
            .iter()
            .filter_map(|s| s.meta.shard.map(|x| x.0))
            .collect();
        if counts.len() > 1 || idx.len() != shards.len() || idx.len() as u64 != n {
            let missing: Vec<String> = (0..n)
                .filter(|i| !idx.contains(i))
                .map(|i| format!("{i}/{n}"))
                .collect();
            return Err(BatchError::Merge(format!(
                "the folders are not the shards 0/{n}..{}/{n} once each{}",
                n - 1,
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(" (missing {})", missing.join(", "))
                }
            ))
            .into());
        }
    }
    let mut rows: Vec<RunRecord> = Vec::new();
    let mut band = Band::new(columns.len());
    for s in &shards {
        rows.extend(s.rows.iter().cloned());
        band.merge(&s.band);
    }
    rows.sort_by_key(|r| r.seed);
    let start = rows.first().map(|r| r.seed).unwrap_or(0);
    for (k, r) in rows.iter().enumerate() {
        if r.seed != start + k as u64 {
            return Err(BatchError::Merge(format!(
                "the shards' seeds are not one contiguous range: expected seed {} after {}, found {}",
                start + k as u64,
                start + k as u64 - 1,
                r.seed
            )).into());
        }
    }
    let meta = BatchMeta {
        scenario,
        scenario_file: file,
        seed_start: start,
        runs: rows.len() as u64,
        shard: None,
        shard_of: None,
    };
    if let Err(e) = write_batch(out, &meta, &columns, &rows, &band) {
        return Err(Error::write(out, e));
    }
    let _ = std::io::stdout()
        .lock()
        .write_all(batch_table(&meta, &columns, &rows).as_bytes());
    Ok(ExitStatus::Success)
}

pub struct SweepArgs {
    pub scenario: PathBuf,
    pub set: Vec<String>,
    pub runs: u64,
    pub seed_start: u64,
    pub jobs: Option<usize>,
    pub service: Option<String>,
    pub require: Vec<String>,
    pub minimize: Option<String>,
    pub out: Option<PathBuf>,
}

pub fn sweep(a: SweepArgs) -> Result<ExitStatus, Error> {
    crate::limits::check_seeds(a.seed_start, a.runs)?;
    let jobs = a.jobs.unwrap_or_else(default_jobs).max(1);
    let mut sets: Vec<crate::sweep::SetArg> = Vec::new();
    for s in &a.set {
        match parse_set(s) {
            // A key twice would give cells labelled differently that are
            // the same policy.
            Ok(x) if sets.iter().any(|p| p.key == x.key) => {
                return Err(
                    SweepError::Set(format!("--set {}: the key is already set", x.key)).into(),
                );
            }
            Ok(x) => sets.push(x),
            Err(e) => return Err(e.into()),
        }
    }
    let cells = sets
        .iter()
        .try_fold(1u64, |n, s| n.checked_mul(s.values.len() as u64));
    crate::limits::check_runs(cells.and_then(|c| c.checked_mul(a.runs)), "sweep")?;
    let mut require = Vec::new();
    for r in &a.require {
        match Requirement::parse(r) {
            Ok(x) => require.push(x),
            Err(e) => return Err(e.into()),
        }
    }
    let minimize = match a.minimize.as_deref().map(Metric::parse).transpose() {
        Ok(m) => m,
        Err(e) => return Err(SweepError::Policy(format!("--minimize: {e}")).into()),
    };
    if !require.is_empty() && minimize.is_none() {
        return Err(SweepError::Policy(
            "--require needs --minimize METRIC to pick a policy".to_string(),
        )
        .into());
    }
    let source = ScenarioSource::load(&a.scenario)?;
    let sc = source.build()?;
    let columns = service_columns(&sc);
    let mut keys = Vec::new();
    for s in &sets {
        match parse_key(&s.key, &sc) {
            Ok(k) => keys.push(k),
            Err(e) => return Err(e.into()),
        }
    }
    let service = match a.service.clone().or_else(|| {
        keys.iter().find_map(|k| match k {
            Key::Service { service, .. } => Some(service.clone()),
            Key::Image { .. } => None,
        })
    }) {
        Some(s) => s,
        None if columns.len() == 1 => columns[0].clone(),
        None => {
            return Err(Error::Usage(format!(
                "which service should the sweep measure? add --service (one of {})",
                columns.join(", ")
            )));
        }
    };
    let Some(column) = columns.iter().position(|c| *c == service) else {
        return Err(Error::Usage(format!(
            "--service {service}: no such service (services: {})",
            columns.join(", ")
        )));
    };
    let cells = grid(&sets);
    let mut sources = Vec::new();
    for c in &cells {
        match apply(&source, &sc, c) {
            Ok(s) => sources.push(s),
            Err(e) => return Err(e.into()),
        }
    }
    let seeds = a.seed_start..a.seed_start + a.runs;
    let pb = progress_bar(a.runs * cells.len() as u64);
    let inc = |n| {
        if let Some(pb) = &pb {
            pb.inc(n);
        }
    };
    let started = Instant::now();
    let mut metrics = Vec::new();
    let mut durations = Vec::new();
    for (cell, src) in cells.iter().zip(&sources) {
        let rows = match run_seeds(src, &columns, seeds.clone(), jobs, &inc) {
            Ok((rows, _)) => rows,
            Err(e) => return Err(e.into()),
        };
        metrics.push(CellMetrics::of(&rows, column));
        // As in the table: the last part of each key, so legends fit.
        let label: Vec<String> = cell
            .iter()
            .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
            .collect();
        durations.push((
            label.join(" "),
            rows.iter()
                .filter_map(|r| r.services[column].as_ref()?.update_ms)
                .collect::<Vec<u64>>(),
        ));
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    let key_names: Vec<String> = sets.iter().map(|s| s.key.clone()).collect();
    let out = a
        .out
        .unwrap_or_else(|| crate::cli::default_out_dir(&a.scenario));
    let write = || -> std::io::Result<()> {
        crate::fsio::write_in(
            &out,
            "sweep.csv",
            sweep_csv(&key_names, &cells, &metrics, &require).as_bytes(),
        )?;
        let title = format!(
            "{service}: first update duration per policy, {} runs each",
            a.runs
        );
        crate::fsio::write_in(
            &out,
            "sweep-update-cdf.svg",
            crate::plot::cdf_svg(&title, "update duration (s)", &durations).as_bytes(),
        )?;
        crate::fsio::write_in(
            &out,
            "sweep-tradeoff.svg",
            tradeoff_plot(&service, a.runs, &cells, &metrics).as_bytes(),
        )
    };
    if let Err(e) = write() {
        return Err(Error::write(&out, e));
    }
    let table = sweep_table(&service, a.runs, &cells, &metrics, &require, minimize);
    let _ = std::io::stdout().lock().write_all(table.as_bytes());
    let total = a.runs * cells.len() as u64;
    eprintln!(
        "{total} runs in {elapsed:.1} s ({}, {jobs} jobs); results in {}",
        fmt_rate(total as f64 / elapsed.max(1e-9)),
        out.display()
    );
    Ok(ExitStatus::Success)
}

/// `sweep-tradeoff.svg`: each policy's p95 update duration against the p5
/// of its min running replicas, the sweep's Pareto front filled. Cells
/// with no ended update or no min running are left out (named in the
/// title).
pub fn tradeoff_plot(
    service: &str,
    runs: u64,
    cells: &[Vec<(String, String)>],
    metrics: &[crate::sweep::report::CellMetrics],
) -> String {
    let front = crate::sweep::report::pareto_front(metrics);
    let mut points = Vec::new();
    let mut left_out = 0;
    for (i, m) in metrics.iter().enumerate() {
        match (m.p95_duration, m.p5_min_running) {
            (Some(x_ms), Some(y)) => points.push(crate::plot::TradeOff {
                label: crate::sweep::report::policy_label(&cells[i]),
                x_ms,
                y,
                front: front[i],
            }),
            _ => left_out += 1,
        }
    }
    let mut title =
        format!("{service}: p95 update duration vs replicas kept, {runs} runs per policy");
    if left_out > 0 {
        title.push_str(&format!(
            " ({left_out} policies without an ended update left out)"
        ));
    }
    crate::plot::tradeoff_svg(
        &title,
        "p95 of the first update's duration (s)",
        "p5 of min running replicas",
        &points,
    )
}

#[cfg(test)]
mod tests {
    use super::fmt_rate;

    #[test]
    fn rates_read_as_whole_runs_per_second() {
        assert_eq!(fmt_rate(37.5061), "38 runs/s");
        assert_eq!(fmt_rate(2.46), "2.5 runs/s");
        assert_eq!(fmt_rate(0.254), "0.25 runs/s");
        assert_eq!(fmt_rate(0.0), "- runs/s");
        assert_eq!(fmt_rate(f64::NAN), "- runs/s");
    }
}

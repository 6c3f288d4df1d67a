//! `runs.csv`, `batch.json` and the batch table: pure functions from the
//! runs (in seed order) to text. Durations are integer milliseconds and are
//! written with exactly three decimals, so `runs.csv` reads back to the
//! same numbers and `merge` recomputes exactly the statistics of an
//! unsharded batch.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::stats::{Describe, Tally, Z95, wilson};
use crate::sim::time::Secs3;

/// Final update states, and `none` for a service never updated.
pub use crate::swarm::model::UPDATE_STATE_NAMES as STATES;

/// How an update or rollback episode ended: one of [`STATES`] (the state
/// that closed it), or `unfinished` when it was still running at the end.
pub const UNFINISHED: &str = "unfinished";

/// What one run says about one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// The first `update` episode: ended − started (ms), `None` when there
    /// was none or it was still running at the end.
    pub update_ms: Option<u64>,
    /// How that episode ended (`None` when there was none).
    pub update_end: Option<&'static str>,
    pub rollback_ms: Option<u64>,
    pub rollback_end: Option<&'static str>,
    /// The service's update state at the end of the run, or `none`.
    pub final_state: &'static str,
    pub min_running: Option<u64>,
    pub task_failures: u64,
    pub restarts: u64,
}

/// One row of `runs.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub seed: u64,
    pub end_ms: u64,
    pub hit_limit: bool,
    /// One entry per service column; `None` when the service does not
    /// exist at the end of the run.
    pub services: Vec<Option<ServiceRecord>>,
}

/// What identifies a batch (the part of `batch.json` that is not
/// statistics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMeta {
    pub scenario: String,
    /// File name of the scenario (no directory: shards may run elsewhere).
    pub scenario_file: String,
    pub seed_start: u64,
    pub runs: u64,
    /// `Some((index, count))` for one shard of a batch.
    pub shard: Option<(u64, u64)>,
    /// For a shard: what `merge` checks that every shard shares.
    pub shard_of: Option<ShardOf>,
}

/// The whole batch a shard belongs to, written in a shard's `batch.json`
/// so that `merge` joins only shards of one batch of one scenario text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardOf {
    /// `--seed-start` and `--runs` of the whole batch.
    pub seed_start: u64,
    pub runs: u64,
    /// [`digest`] of the scenario file's bytes.
    pub digest: String,
}

/// FNV-1a (64 bits) of `bytes`, as `fnv1a64:` and 16 hex digits: tells an
/// edited scenario from the one a shard ran (not a security check).
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

const SERVICE_COLUMNS: [&str; 8] = [
    "update_s",
    "update_end",
    "rollback_s",
    "rollback_end",
    "final_state",
    "min_running",
    "task_failures",
    "restarts",
];

pub fn fmt_ms(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// A duration as docker's CLI shows one (Go's `time.Duration` rounded to
/// 0.1 s, half away from zero): `13m36.4s`, `4.2s`, `1h0m5s`.
pub fn fmt_duration(ms: u64) -> String {
    let tenths = (ms + 50) / 100;
    crate::docker::duration::format_go_duration(crate::sim::time::millis(100) * tenths)
}

/// Parses a non-negative decimal with at most three decimals into ms,
/// exactly (no floating point).
pub fn parse_ms(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || frac.len() > 3 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = int.parse().ok()?;
    let mut f: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..3 {
        f *= 10;
    }
    whole.checked_mul(1000)?.checked_add(f)
}

fn intern(s: &str) -> Option<&'static str> {
    STATES
        .iter()
        .chain(std::iter::once(&UNFINISHED))
        .find(|x| **x == s)
        .copied()
}

/// The header of `runs.csv` for these service columns.
pub fn runs_csv_header(services: &[String]) -> String {
    let mut h = String::from("seed,end_s,hit_limit");
    for s in services {
        for c in SERVICE_COLUMNS {
            let _ = write!(h, ",{s}.{c}");
        }
    }
    h
}

/// One `runs.csv` line (with its newline).
pub fn runs_csv_row(r: &RunRecord) -> String {
    let mut line = String::new();
    push_runs_csv_row(&mut line, r);
    line
}

/// Appends one `runs.csv` line (with its newline) to `out`, without a
/// string per field (a batch writes one per run).
pub fn push_runs_csv_row(out: &mut String, r: &RunRecord) {
    let ms = |out: &mut String, v: Option<u64>| {
        if let Some(v) = v {
            push_ms(out, v);
        }
    };
    push_u64(out, r.seed);
    out.push(',');
    ms(out, Some(r.end_ms));
    out.push_str(if r.hit_limit { ",true" } else { ",false" });
    for s in &r.services {
        match s {
            Some(s) => {
                out.push(',');
                ms(out, s.update_ms);
                out.push(',');
                out.push_str(s.update_end.unwrap_or(""));
                out.push(',');
                ms(out, s.rollback_ms);
                out.push(',');
                out.push_str(s.rollback_end.unwrap_or(""));
                out.push(',');
                out.push_str(s.final_state);
                out.push(',');
                if let Some(m) = s.min_running {
                    push_u64(out, m);
                }
                out.push(',');
                push_u64(out, s.task_failures);
                out.push(',');
                push_u64(out, s.restarts);
            }
            None => {
                for _ in 0..SERVICE_COLUMNS.len() {
                    out.push(',');
                }
            }
        }
    }
    out.push('\n');
}

/// Appends `v` in decimal (what `{}` prints), without the formatting
/// machinery: `runs.csv` writes a few numbers per run.
fn push_u64(out: &mut String, v: u64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends milliseconds as seconds with exactly three decimals.
fn push_ms(out: &mut String, v: u64) {
    out.push_str(Secs3::from_millis(v).as_str());
}

/// `runs.csv`: the header, then one row per run in the given (seed) order.
pub fn runs_csv(services: &[String], runs: &[RunRecord]) -> String {
    let mut out = runs_csv_header(services);
    out.push('\n');
    for r in runs {
        push_runs_csv_row(&mut out, r);
    }
    out
}

/// A `runs.csv` or `band.csv` of a shard folder that `batch` did not
/// write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{0}: not a swarmsim batch header")]
    NotBatchHeader(&'static str),
    #[error("{0}: unexpected header")]
    UnexpectedHeader(&'static str),
    #[error("{file}: line {line}: cannot read {text:?}")]
    Line {
        file: &'static str,
        line: usize,
        text: String,
    },
}

/// Reads a `runs.csv` written by [`runs_csv`]: the service columns and the
/// rows.
pub fn parse_runs_csv(text: &str) -> Result<(Vec<String>, Vec<RunRecord>), CsvError> {
    let mut lines = text.lines();
    let header = lines.next().ok_or(CsvError::Empty("runs.csv"))?;
    let cols: Vec<&str> = header.split(',').collect();
    if cols.len() < 3
        || cols[..3] != ["seed", "end_s", "hit_limit"]
        || !(cols.len() - 3).is_multiple_of(SERVICE_COLUMNS.len())
    {
        return Err(CsvError::NotBatchHeader("runs.csv"));
    }
    let mut services = Vec::new();
    for chunk in cols[3..].chunks(SERVICE_COLUMNS.len()) {
        let name = chunk[0]
            .strip_suffix(".update_s")
            .ok_or(CsvError::NotBatchHeader("runs.csv"))?;
        services.push(name.to_string());
    }
    if runs_csv_header(&services) != header {
        return Err(CsvError::NotBatchHeader("runs.csv"));
    }
    let mut runs = Vec::new();
    for (i, line) in lines.enumerate() {
        let bad = || CsvError::Line {
            file: "runs.csv",
            line: i + 2,
            text: line.to_string(),
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != cols.len() {
            return Err(bad());
        }
        let ms = |s: &str| -> Result<Option<u64>, CsvError> {
            if s.is_empty() {
                Ok(None)
            } else {
                parse_ms(s).map(Some).ok_or_else(bad)
            }
        };
        let int = |s: &str| -> Result<Option<u64>, CsvError> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| bad())
            }
        };
        let state = |s: &str| -> Result<Option<&'static str>, CsvError> {
            if s.is_empty() {
                Ok(None)
            } else {
                intern(s).map(Some).ok_or_else(bad)
            }
        };
        let mut rec = RunRecord {
            seed: f[0].parse().map_err(|_| bad())?,
            end_ms: parse_ms(f[1]).ok_or_else(bad)?,
            hit_limit: match f[2] {
                "true" => true,
                "false" => false,
                _ => return Err(bad()),
            },
            services: Vec::new(),
        };
        for c in f[3..].chunks(SERVICE_COLUMNS.len()) {
            if c.iter().all(|x| x.is_empty()) {
                rec.services.push(None);
                continue;
            }
            rec.services.push(Some(ServiceRecord {
                update_ms: ms(c[0])?,
                update_end: state(c[1])?,
                rollback_ms: ms(c[2])?,
                rollback_end: state(c[3])?,
                final_state: state(c[4])?.ok_or_else(bad)?,
                min_running: int(c[5])?,
                task_failures: int(c[6])?.ok_or_else(bad)?,
                restarts: int(c[7])?.ok_or_else(bad)?,
            }));
        }
        runs.push(rec);
    }
    Ok((services, runs))
}

/// The order in which the table and `batch.json` list how episodes ended:
/// finished, then stopped by failures, then replaced; every state of
/// [`STATES`] but `none` appears once.
const END_ORDER: [&str; 6] = [
    "completed",
    "rollback_completed",
    "paused",
    "rollback_paused",
    "rollback_started",
    "updating",
];

/// Statistics of one service over the runs of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceStats {
    /// Runs in which the service exists at the end.
    pub runs: u64,
    pub update: Episodes,
    pub rollback: Episodes,
    pub min_running: Describe,
    pub task_failures: Describe,
    pub restarts: Describe,
    /// Final update state → number of runs.
    pub final_state: BTreeMap<&'static str, u64>,
}

/// Durations of one kind of episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episodes {
    /// Over the runs whose episode ended.
    pub duration: Describe,
    /// The same by how the episode ended (an update that completed and one
    /// that paused measure different things: time to finish, time to the
    /// pause), in the order of [`STATES`]; only the ends that happened.
    pub by_end: Vec<(&'static str, Describe)>,
    /// Runs with no such episode.
    pub none: u64,
    /// Runs whose episode was still running at the end.
    pub unfinished: u64,
}

impl ServiceStats {
    pub fn of(runs: &[RunRecord], column: usize) -> ServiceStats {
        let mut acc = ServiceAcc::default();
        for r in runs {
            if let Some(Some(s)) = r.services.get(column) {
                acc.add(s);
            }
        }
        ServiceStats::of_acc(&acc)
    }

    /// The statistics of what a batch kept of one service.
    pub fn of_acc(acc: &ServiceAcc) -> ServiceStats {
        ServiceStats {
            runs: acc.runs,
            update: acc.update.episodes(),
            rollback: acc.rollback.episodes(),
            min_running: Describe::of_tally(&acc.min_running),
            task_failures: Describe::of_tally(&acc.task_failures),
            restarts: Describe::of_tally(&acc.restarts),
            final_state: acc.final_state.clone(),
        }
    }

    /// Share of runs whose final state is one of `states`.
    pub fn share(&self, states: &[&str]) -> f64 {
        if self.runs == 0 {
            return 0.0;
        }
        let k: u64 = states
            .iter()
            .map(|s| self.final_state.get(s).copied().unwrap_or(0))
            .sum();
        k as f64 / self.runs as f64
    }
}

/// What a batch keeps of one kind of episode of one service: tallies of
/// the durations, not the runs (see [`Tally`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpisodeAcc {
    /// Durations (ms) of the episodes that ended, any way.
    pub all: Tally,
    /// The same by how they ended.
    pub by_end: BTreeMap<&'static str, Tally>,
    /// Runs with no such episode.
    pub none: u64,
    /// Runs whose episode was still running at the end.
    pub unfinished: u64,
}

impl EpisodeAcc {
    fn add(&mut self, ms: Option<u64>, end: Option<&'static str>) {
        if let Some(v) = ms {
            *self.all.entry(v).or_insert(0) += 1;
            if let Some(e) = end {
                *self.by_end.entry(e).or_default().entry(v).or_insert(0) += 1;
            }
        }
        match end {
            None => self.none += 1,
            Some(e) if e == UNFINISHED => self.unfinished += 1,
            Some(_) => {}
        }
    }

    fn episodes(&self) -> Episodes {
        Episodes {
            duration: Describe::of_tally(&self.all),
            by_end: END_ORDER
                .iter()
                .filter_map(|&state| {
                    let t = self.by_end.get(state)?;
                    (!t.is_empty()).then(|| (state, Describe::of_tally(t)))
                })
                .collect(),
            none: self.none,
            unfinished: self.unfinished,
        }
    }

    /// The durations of the episodes that ended as `end`.
    pub fn ended_as(&self, end: &str) -> Tally {
        self.by_end.get(end).cloned().unwrap_or_default()
    }
}

/// What a batch keeps of one service column over its runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAcc {
    /// Runs in which the service exists at the end.
    pub runs: u64,
    pub update: EpisodeAcc,
    pub rollback: EpisodeAcc,
    pub min_running: Tally,
    pub task_failures: Tally,
    pub restarts: Tally,
    pub final_state: BTreeMap<&'static str, u64>,
}

impl ServiceAcc {
    pub fn add(&mut self, s: &ServiceRecord) {
        self.runs += 1;
        self.update.add(s.update_ms, s.update_end);
        self.rollback.add(s.rollback_ms, s.rollback_end);
        if let Some(m) = s.min_running {
            *self.min_running.entry(m).or_insert(0) += 1;
        }
        *self.task_failures.entry(s.task_failures).or_insert(0) += 1;
        *self.restarts.entry(s.restarts).or_insert(0) += 1;
        *self.final_state.entry(s.final_state).or_insert(0) += 1;
    }
}

/// Everything the summary files of a batch (`batch.json`, the table, the
/// plots) need of its runs, added up run by run: a batch streams its rows
/// to `runs.csv` and keeps only this, so its memory does not grow with the
/// number of runs. The statistics are those of the rows themselves
/// ([`BatchAcc::of`] gives the same as adding them one by one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchAcc {
    pub runs: u64,
    /// Runs stopped by a safety limit.
    pub hit_limit: u64,
    /// End times (ms).
    pub end: Tally,
    /// One per service column.
    pub services: Vec<ServiceAcc>,
}

impl BatchAcc {
    pub fn new(columns: usize) -> BatchAcc {
        BatchAcc {
            services: vec![ServiceAcc::default(); columns],
            ..Default::default()
        }
    }

    pub fn add(&mut self, r: &RunRecord) {
        self.runs += 1;
        self.hit_limit += u64::from(r.hit_limit);
        *self.end.entry(r.end_ms).or_insert(0) += 1;
        for (i, s) in r.services.iter().enumerate() {
            if let Some(s) = s {
                if self.services.len() <= i {
                    self.services.resize(i + 1, ServiceAcc::default());
                }
                self.services[i].add(s);
            }
        }
    }

    pub fn of(columns: usize, runs: &[RunRecord]) -> BatchAcc {
        let mut acc = BatchAcc::new(columns);
        for r in runs {
            acc.add(r);
        }
        acc
    }

    fn service(&self, column: usize) -> ServiceStats {
        match self.services.get(column) {
            Some(s) => ServiceStats::of_acc(s),
            None => ServiceStats::of_acc(&ServiceAcc::default()),
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn json_num(v: Option<u64>, ms: bool) -> String {
    match v {
        None => "null".into(),
        Some(v) if ms => fmt_ms(v),
        Some(v) => v.to_string(),
    }
}

fn json_mean(v: Option<f64>, ms: bool) -> String {
    match v {
        None => "null".into(),
        Some(m) if ms => format!("{:.3}", m / 1000.0),
        Some(m) => format!("{m:.3}"),
    }
}

fn json_describe(d: &Describe, ms: bool) -> String {
    format!(
        "\"n\": {}, \"mean\": {}, \"p5\": {}, \"p50\": {}, \"p90\": {}, \"p95\": {}, \"p99\": {}, \"max\": {}",
        d.n,
        json_mean(d.mean, ms),
        json_num(d.p5, ms),
        json_num(d.p50, ms),
        json_num(d.p90, ms),
        json_num(d.p95, ms),
        json_num(d.p99, ms),
        json_num(d.max, ms),
    )
}

/// `json_describe` and the 95% order-statistics intervals of p50, p95 and
/// p99 (`null` for a bound the sample cannot give).
fn json_describe_ci(d: &Describe, ms: bool) -> String {
    let ci = |(lo, hi): (Option<u64>, Option<u64>)| {
        format!("[{}, {}]", json_num(lo, ms), json_num(hi, ms))
    };
    format!(
        "{}, \"p50_ci95\": {}, \"p95_ci95\": {}, \"p99_ci95\": {}",
        json_describe(d, ms),
        ci(d.p50_ci),
        ci(d.p95_ci),
        ci(d.p99_ci)
    )
}

/// `batch.json`: what was run and the statistics of every service, with
/// fixed decimals (seconds with 3, probabilities with 4). Percentiles are
/// nearest-rank (see `stats::percentile`).
pub fn batch_json(meta: &BatchMeta, services: &[String], runs: &[RunRecord]) -> String {
    batch_json_of(meta, services, &BatchAcc::of(services.len(), runs))
}

/// [`batch_json`] from what a batch kept of its runs.
pub fn batch_json_of(meta: &BatchMeta, services: &[String], acc: &BatchAcc) -> String {
    let mut o = String::from("{\n");
    let _ = writeln!(o, "  \"scenario\": {},", json_str(&meta.scenario));
    let _ = writeln!(o, "  \"scenario_file\": {},", json_str(&meta.scenario_file));
    if let Some((i, n)) = meta.shard {
        let _ = writeln!(o, "  \"shard\": {{\"index\": {i}, \"count\": {n}}},");
    }
    if let Some(b) = &meta.shard_of {
        let _ = writeln!(
            o,
            "  \"batch\": {{\"seed_start\": {}, \"runs\": {}, \"scenario_digest\": {}}},",
            b.seed_start,
            b.runs,
            json_str(&b.digest)
        );
    }
    let _ = writeln!(o, "  \"seed_start\": {},", meta.seed_start);
    let _ = writeln!(o, "  \"runs\": {},", meta.runs);
    let _ = writeln!(o, "  \"hit_safety_limit\": {},", acc.hit_limit);
    let _ = writeln!(
        o,
        "  \"end_s\": {{{}}},",
        json_describe(&Describe::of_tally(&acc.end), true)
    );
    let _ = writeln!(o, "  \"percentiles\": \"nearest-rank\",");
    let _ = writeln!(o, "  \"band_bin_s\": {},", fmt_ms(super::band::BIN_MS));
    o.push_str("  \"services\": {");
    for (i, name) in services.iter().enumerate() {
        let st = acc.service(i);
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = writeln!(o, "    {}: {{", json_str(name));
        let _ = writeln!(o, "      \"runs\": {},", st.runs);
        for (key, e) in [("update_s", &st.update), ("rollback_s", &st.rollback)] {
            let by_end: Vec<String> = e
                .by_end
                .iter()
                .map(|(end, d)| format!("\"{end}\": {{{}}}", json_describe_ci(d, true)))
                .collect();
            let _ = writeln!(
                o,
                "      \"{key}\": {{{}, \"none\": {}, \"unfinished\": {}, \"by_end\": {{{}}}}},",
                json_describe_ci(&e.duration, true),
                e.none,
                e.unfinished,
                by_end.join(", ")
            );
        }
        let _ = writeln!(
            o,
            "      \"min_running\": {{{}}},",
            json_describe(&st.min_running, false)
        );
        let _ = writeln!(
            o,
            "      \"task_failures\": {{{}}},",
            json_describe(&st.task_failures, false)
        );
        let _ = writeln!(
            o,
            "      \"restarts\": {{{}}},",
            json_describe(&st.restarts, false)
        );
        o.push_str("      \"final_state\": {");
        for (j, (state, k)) in st.final_state.iter().enumerate() {
            let (lo, hi) = wilson(*k, st.runs, Z95);
            o.push_str(if j == 0 { "\n" } else { ",\n" });
            let _ = write!(
                o,
                "        \"{state}\": {{\"runs\": {k}, \"p\": {:.4}, \"ci95\": [{lo:.4}, {hi:.4}]}}",
                *k as f64 / st.runs as f64
            );
        }
        o.push_str(if st.final_state.is_empty() {
            "}\n"
        } else {
            "\n      }\n"
        });
        o.push_str("    }");
    }
    o.push_str(if services.is_empty() {
        "}\n}\n"
    } else {
        "\n  }\n}\n"
    });
    o
}

fn cell(v: Option<u64>, ms: bool) -> String {
    match v {
        None => "-".into(),
        Some(v) if ms => fmt_duration(v),
        Some(v) => v.to_string(),
    }
}

fn mean_cell(v: Option<f64>, ms: bool) -> String {
    match v {
        None => "-".into(),
        Some(m) if ms => fmt_duration(m.round() as u64),
        Some(m) => format!("{m:.1}"),
    }
}

/// How an episode ended, in words: `rollback_started` closes an update
/// that turned into a rollback ("rolled back"), `updating` one that a later
/// update replaced.
fn end_label(end: &str) -> &str {
    match end {
        "completed" | "rollback_completed" => "completed",
        "paused" | "rollback_paused" => "paused",
        "rollback_started" => "rolled back",
        "updating" => "replaced",
        other => other,
    }
}

fn ci_cell((lo, hi): (Option<u64>, Option<u64>), ms: bool) -> String {
    format!("[{}, {}]", cell(lo, ms), cell(hi, ms))
}

/// The table `batch` prints: per service, the durations of the first
/// update and rollback by how they ended (and over all ends when there are
/// several), the fewest running replicas, the 95% intervals of the
/// duration percentiles, then the share of each final update state with
/// its 95% Wilson interval. Durations as docker prints them (`3m51.1s`);
/// `batch.json` has the milliseconds.
pub fn batch_table(meta: &BatchMeta, services: &[String], runs: &[RunRecord]) -> String {
    batch_table_of(meta, services, &BatchAcc::of(services.len(), runs))
}

/// [`batch_table`] from what a batch kept of its runs.
pub fn batch_table_of(meta: &BatchMeta, services: &[String], acc: &BatchAcc) -> String {
    let mut o = String::new();
    let last = meta.seed_start + meta.runs.saturating_sub(1);
    let _ = writeln!(
        o,
        "{}: {} runs, seeds {}..{}",
        meta.scenario, meta.runs, meta.seed_start, last
    );
    let limit = acc.hit_limit;
    if limit > 0 {
        let _ = writeln!(o, "{limit} runs stopped at the safety limit");
    }
    let _ = writeln!(
        o,
        "durations: the first update and the first rollback, ended - started, by how they ended;\n\
         percentiles nearest-rank; [95% intervals] by order statistics (- where too few runs)"
    );
    let stat_row = |o: &mut String, label: &str, n: u64, d: &Describe, ms: bool| {
        let _ = writeln!(
            o,
            "  {:<28}{:>6}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}",
            label,
            n,
            mean_cell(d.mean, ms),
            cell(d.p50, ms),
            cell(d.p90, ms),
            cell(d.p95, ms),
            cell(d.p99, ms),
            cell(d.max, ms)
        );
    };
    for (i, name) in services.iter().enumerate() {
        let st = acc.service(i);
        let _ = writeln!(o, "\n{name} ({} runs)", st.runs);
        let _ = writeln!(
            o,
            "  {:<28}{:>6}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}",
            "", "runs", "mean", "p50", "p90", "p95", "p99", "max"
        );
        let mut cis: Vec<(String, &Describe)> = Vec::new();
        for (kind, e) in [("update", &st.update), ("rollback", &st.rollback)] {
            if e.duration.n == 0 && e.unfinished == 0 {
                let _ = writeln!(o, "  {:<28}{:>6}", format!("{kind}: none"), e.none);
                continue;
            }
            for (end, d) in &e.by_end {
                let label = format!("{kind} {}", end_label(end));
                stat_row(&mut o, &label, d.n, d, true);
                cis.push((label, d));
            }
            if e.by_end.len() > 1 {
                let label = format!("{kind} ended (any way)");
                stat_row(&mut o, &label, e.duration.n, &e.duration, true);
                cis.push((label, &e.duration));
            }
            if e.unfinished > 0 {
                let label = format!("{kind} still running at end");
                let _ = writeln!(o, "  {label:<28}{:>6}", e.unfinished);
            }
            if e.none > 0 {
                let _ = writeln!(o, "  {:<28}{:>6}", format!("{kind}: none"), e.none);
            }
        }
        stat_row(
            &mut o,
            "min running during updates",
            st.min_running.n,
            &st.min_running,
            false,
        );
        if !cis.is_empty() {
            let _ = writeln!(o, "  {:<28}{:<22}{:<22}p99", "95% intervals", "p50", "p95");
            for (label, d) in cis {
                let _ = writeln!(
                    o,
                    "  {label:<28}{:<22}{:<22}{}",
                    ci_cell(d.p50_ci, true),
                    ci_cell(d.p95_ci, true),
                    ci_cell(d.p99_ci, true)
                );
            }
        }
        let _ = writeln!(
            o,
            "  {:<28}{:>6}{:>10}   95% Wilson interval",
            "final state", "runs", "P"
        );
        for (state, k) in &st.final_state {
            let (lo, hi) = wilson(*k, st.runs, Z95);
            let _ = writeln!(
                o,
                "  {:<28}{:>6}{:>10.4}   [{lo:.4}, {hi:.4}]",
                format!("  {state}"),
                k,
                *k as f64 / st.runs as f64
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seed: u64, update_ms: Option<u64>, state: &'static str) -> RunRecord {
        RunRecord {
            seed,
            end_ms: 240_000 + seed,
            hit_limit: false,
            services: vec![
                Some(ServiceRecord {
                    update_ms,
                    update_end: Some(if update_ms.is_some() {
                        "completed"
                    } else {
                        UNFINISHED
                    }),
                    rollback_ms: None,
                    rollback_end: None,
                    final_state: state,
                    min_running: Some(2),
                    task_failures: seed % 3,
                    restarts: 0,
                }),
                None,
            ],
        }
    }

    #[test]
    fn every_end_state_is_listed_once() {
        let mut a: Vec<&str> = END_ORDER.to_vec();
        let mut b: Vec<&str> = STATES.iter().copied().filter(|s| *s != "none").collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }

    #[test]
    fn durations_print_as_docker_does() {
        assert_eq!(fmt_duration(816_423), "13m36.4s");
        assert_eq!(fmt_duration(231_081), "3m51.1s");
        assert_eq!(fmt_duration(3_000), "3s");
        assert_eq!(fmt_duration(3_650_000), "1h0m50s");
        assert_eq!(fmt_duration(49), "0s");
        assert_eq!(fmt_duration(50), "100ms");
    }

    #[test]
    fn parse_ms_is_exact() {
        assert_eq!(parse_ms("50.000"), Some(50_000));
        assert_eq!(parse_ms("0.5"), Some(500));
        assert_eq!(parse_ms("12"), Some(12_000));
        assert_eq!(parse_ms("1.2345"), None);
        assert_eq!(parse_ms("-1"), None);
        assert_eq!(parse_ms(""), None);
        assert_eq!(fmt_ms(1_234_567), "1234.567");
    }

    #[test]
    fn runs_csv_round_trips() {
        let names = vec!["web".to_string(), "gone".to_string()];
        let runs = vec![rec(1, Some(50_500), "completed"), rec(2, None, "updating")];
        let text = runs_csv(&names, &runs);
        assert!(text.starts_with("seed,end_s,hit_limit,web.update_s,web.update_end,"));
        assert!(text.contains("\n1,240.001,false,50.500,completed,,,completed,2,1,0,,,,,,,,\n"));
        let (n2, r2) = parse_runs_csv(&text).unwrap();
        assert_eq!(n2, names);
        assert_eq!(r2, runs);
    }

    #[test]
    fn statistics_by_hand() {
        let names = vec!["web".to_string(), "gone".to_string()];
        let runs: Vec<RunRecord> = (1..=4)
            .map(|s| {
                rec(
                    s,
                    Some(s * 1000),
                    if s == 4 { "paused" } else { "completed" },
                )
            })
            .collect();
        let st = ServiceStats::of(&runs, 0);
        assert_eq!(st.runs, 4);
        assert_eq!(st.update.duration.mean, Some(2500.0));
        assert_eq!(st.update.duration.p50, Some(2000));
        assert_eq!(st.final_state.get("completed"), Some(&3));
        assert_eq!(st.share(&["paused"]), 0.25);
        let meta = BatchMeta {
            scenario: "t".into(),
            scenario_file: "t.yaml".into(),
            seed_start: 1,
            runs: 4,
            shard: None,
            shard_of: None,
        };
        let json = batch_json(&meta, &names, &runs);
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(
            v["services"]["web"]["update_s"]["mean"],
            serde_json::json!(2.5)
        );
        assert_eq!(v["services"]["web"]["final_state"]["paused"]["runs"], 1);
        assert_eq!(v["services"]["gone"]["runs"], 0);
        assert!(json.contains("\"mean\": 2.500,"));
        let table = batch_table(&meta, &names, &runs);
        assert!(table.contains("paused"));
    }

    #[test]
    fn durations_by_how_the_update_ended() {
        // Seeds 1-6 complete in 200-250 s; seeds 7-9 pause after 80-100 s.
        let runs: Vec<RunRecord> = (1..=9)
            .map(|s| {
                let mut r = rec(s, Some(0), "completed");
                let svc = r.services[0].as_mut().unwrap();
                if s <= 6 {
                    svc.update_ms = Some(190_000 + s * 10_000);
                } else {
                    svc.update_ms = Some(10_000 * (s + 1));
                    svc.update_end = Some("paused");
                    svc.final_state = "paused";
                }
                r
            })
            .collect();
        let st = ServiceStats::of(&runs, 0);
        let ends: Vec<&str> = st.update.by_end.iter().map(|e| e.0).collect();
        assert_eq!(ends, ["completed", "paused"]);
        let (completed, paused) = (&st.update.by_end[0].1, &st.update.by_end[1].1);
        assert_eq!(
            (completed.n, completed.p50, completed.max),
            (6, Some(220_000), Some(250_000))
        );
        assert_eq!(
            (paused.n, paused.p50, paused.max),
            (3, Some(90_000), Some(100_000))
        );
        // Mixed, the median is a completed run's: the reason to split.
        assert_eq!(st.update.duration.p50, Some(210_000));
        let meta = BatchMeta {
            scenario: "t".into(),
            scenario_file: "t.yaml".into(),
            seed_start: 1,
            runs: 9,
            shard: None,
            shard_of: None,
        };
        let names = vec!["web".to_string(), "gone".to_string()];
        let v: serde_json::Value =
            serde_json::from_str(&batch_json(&meta, &names, &runs)).expect("valid JSON");
        let by_end = &v["services"]["web"]["update_s"]["by_end"];
        assert_eq!(by_end["paused"]["n"], 3);
        assert_eq!(by_end["paused"]["p50"], serde_json::json!(90.0));
        assert_eq!(by_end["completed"]["max"], serde_json::json!(250.0));
        // n = 6 is too few for a 95% interval of the median by order
        // statistics (P(B <= 0) = 1/64 <= 2.5%, P(B <= 5) = 63/64 >= 97.5%:
        // ranks 1 and 6).
        assert_eq!(
            by_end["completed"]["p50_ci95"],
            serde_json::json!([200.0, 250.0])
        );
        let table = batch_table(&meta, &names, &runs);
        assert!(
            table.contains("  update completed                 6     3m45s     3m40s"),
            "{table}"
        );
        assert!(
            table.contains("  update paused                    3     1m30s     1m30s"),
            "{table}"
        );
        assert!(
            table.contains("  update ended (any way)           9"),
            "{table}"
        );
    }
}

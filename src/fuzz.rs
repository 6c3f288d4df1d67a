//! A seeded mutation fuzzer for the scenario loader and the docker command
//! parser (issue 16): inputs from a corpus (the bundled scenarios and
//! their `docker` lines) are mutated with a fixed-seed ChaCha stream, and
//! each mutant is loaded and, when valid, simulated under a small event
//! limit. A panic, an input that takes too long or a memory peak over the
//! budget is a finding. The same seed gives the same inputs.
//!
//! `cargo run --release --example fuzz -- --seconds 600` runs it for ten
//! minutes; `tests/fuzz.rs` runs a few hundred inputs in the test suite.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::docker::cli::parse_command_line;
use crate::runner::{RunOptions, run};
use crate::sim::time::{SimTime, secs};
use crate::swarm::cluster::Cluster;

/// What one input is fed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Scenario,
    Docker,
}

/// A panic, a slow input or a memory peak.
#[derive(Debug, Clone)]
pub struct Finding {
    pub target: Target,
    pub what: String,
    pub input: Vec<u8>,
}

/// Counts of a fuzzing session.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub inputs: u64,
    pub scenario_inputs: u64,
    pub docker_inputs: u64,
    /// Inputs that loaded (scenario) or parsed (docker) and were simulated.
    pub accepted: u64,
    pub findings: Vec<Finding>,
    /// The slowest input, in seconds of CPU time (wall time where the
    /// thread's CPU time is not known).
    pub slowest_s: f64,
    /// Peak resident memory of the process (VmHWM), in KiB, when known.
    pub peak_kib: Option<u64>,
}

/// Limits of one input: events simulated, simulated time, wall time (an
/// input over it is a finding), and peak memory of the process.
#[derive(Debug, Clone)]
pub struct Budget {
    pub max_events: u64,
    pub until_s: u64,
    pub slow: Duration,
    pub max_peak_kib: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_events: 20_000,
            until_s: 3_600,
            slow: Duration::from_secs(5),
            max_peak_kib: 2 << 20,
        }
    }
}

/// The corpus: the YAML files under `dirs` (sorted) and every `docker:`
/// line found in them, plus lines that reach each docker subcommand.
pub fn corpus(dirs: &[PathBuf]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut files = Vec::new();
    for d in dirs {
        collect(d, &mut files);
    }
    files.sort();
    let mut scenarios = Vec::new();
    let mut docker: Vec<Vec<u8>> = EXTRA_DOCKER.iter().map(|l| l.as_bytes().to_vec()).collect();
    for f in files {
        let Ok(text) = crate::fsio::read_text(&f) else {
            continue;
        };
        for line in text.lines() {
            if let Some(cmd) = line.trim().strip_prefix("docker: ") {
                let cmd = cmd.trim().as_bytes().to_vec();
                if !docker.contains(&cmd) {
                    docker.push(cmd);
                }
            }
        }
        scenarios.push(text.into_bytes());
    }
    (scenarios, docker)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            collect(&p, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

const EXTRA_DOCKER: &[&str] = &[
    "docker service create --name web --replicas 3 --update-parallelism 2 --update-delay 10s web:1",
    "docker service update --image web:2 --update-failure-action rollback --update-max-failure-ratio 0.5 web",
    "docker service update --rollback web",
    "docker service rollback web",
    "docker service scale web=5 api=2",
    "docker service rm web",
    "docker service ps --no-trunc -f desired-state=running web",
    "docker service inspect --pretty web",
    "docker service ls",
    "docker node ls",
    "docker node update --availability drain worker1",
    "docker node update --label-add zone=a worker2",
    "docker service update --force --update-order start-first --health-cmd 'true' web",
    "docker service create --name g --mode global --constraint node.role==worker g:1",
];

/// Tokens a mutation inserts: YAML syntax, limits' edges, keys.
const DICTIONARY: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "<<: *a",
    "\"",
    "'",
    "\t",
    "\n",
    "\r\n",
    "#",
    "|",
    ">",
    "~",
    "null",
    "\u{0}",
    "\u{1}",
    "\u{feff}",
    "é",
    "0",
    "-1",
    "1e308",
    "NaN",
    "inf",
    ".inf",
    "0x10",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "99999999999",
    "4294967296",
    "100001",
    "0s",
    "-5s",
    "1ns",
    "2562047h",
    "2562047h47m16.854775808s",
    "never",
    "{n}",
    "count: ",
    "replicas: ",
    "parallelism: ",
    "crash_after: ",
    "until: ",
    "at: ",
    "docker: ",
    "--update-parallelism ",
    "--replicas ",
    "--name ",
    "--rollback",
    "--force ",
    "=",
    "web",
    "web=",
    "--",
    "-",
    "''",
    "\\",
    "$(",
    ";",
    "../",
    "/dev/zero",
    "file: ",
    "dist: empirical",
    "samples: [",
    "expect:",
    "running: ",
    "node.role==",
    "max_replicas_per_node: ",
    "order: start-first",
    "failure_action: rollback",
    "max_failure_ratio: ",
    "restart_policy: ",
    "condition: none",
    "delay: ",
    "window: ",
    "max_attempts: ",
    "healthcheck: ",
    "retries: ",
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, v: &'a [T]) -> &'a T {
    &v[rng.random_range(0..v.len())]
}

/// One mutant of `base` (with `other` for splices): 1 to 4 edits.
pub fn mutate(rng: &mut ChaCha8Rng, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = |rng: &mut ChaCha8Rng, v: &[u8]| rng.random_range(0..=v.len());
        match rng.random_range(0..9) {
            0 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 | 2 => {
                let i = at(rng, &v);
                let tok = pick(rng, DICTIONARY).as_bytes();
                v.splice(i..i, tok.iter().copied());
            }
            3 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                let n = rng.random_range(1..=16.min(v.len() - i));
                v.drain(i..i + n);
            }
            4 if !v.is_empty() => {
                // Repeat a slice (deep nesting, long names, many items).
                let i = rng.random_range(0..v.len());
                let n = rng.random_range(1..=8.min(v.len() - i));
                let piece: Vec<u8> = v[i..i + n].to_vec();
                let times = *pick(rng, &[2usize, 10, 100, 1000]);
                let rep: Vec<u8> = piece.iter().copied().cycle().take(n * times).collect();
                v.splice(i..i, rep);
            }
            5 => {
                // Replace a number by an edge value.
                let digits: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_ascii_digit()).collect();
                if let Some(&i) = digits.get(rng.random_range(0..digits.len().max(1))) {
                    let mut j = i;
                    while j < v.len() && v[j].is_ascii_digit() {
                        j += 1;
                    }
                    let edge = *pick(
                        rng,
                        &[
                            "0",
                            "18446744073709551615",
                            "99999999999",
                            "4294967296",
                            "100001",
                            "1",
                        ],
                    );
                    v.splice(i..j, edge.bytes());
                }
            }
            6 if !other.is_empty() => {
                // Splice a piece of another input.
                let i = at(rng, &v);
                let s = rng.random_range(0..other.len());
                let n = rng.random_range(1..=64.min(other.len() - s));
                v.splice(i..i, other[s..s + n].iter().copied());
            }
            7 if !v.is_empty() => {
                // Swap two lines.
                let text = String::from_utf8_lossy(&v).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 1 {
                    let a = rng.random_range(0..lines.len());
                    let b = rng.random_range(0..lines.len());
                    lines.swap(a, b);
                    v = lines.join("\n").into_bytes();
                }
            }
            _ => {
                let i = at(rng, &v);
                v.insert(i, rng.random());
            }
        }
    }
    v
}

/// Loads a scenario and, when valid, simulates it within `budget`.
/// Returns whether it loaded.
pub fn run_scenario(bytes: &[u8], budget: &Budget) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(s) = crate::scenario::parse_str(text, Path::new("fuzz.yaml")) else {
        return false;
    };
    let cap = SimTime::at(secs(budget.until_s));
    let until = s.until.unwrap_or(SimTime::MAX).min(cap);
    let opts = RunOptions {
        until: Some(until),
        keep_log: true,
        record_series: !s.expect.is_empty(),
        max_events: Some(budget.max_events),
        ..Default::default()
    };
    let s = Rc::new(s);
    let r = run(s.clone(), &opts);
    let _ = (r.events_csv(), r.summary_json());
    // `expect:` items re-run the scenario to their instant (with the
    // default limits): only when that stays within the budget.
    if !s.expect.is_empty() && !r.hit_limit && s.until.is_some_and(|u| u <= cap) {
        let _ = crate::regress::eval::evaluate(&s, None, Some(&r));
    }
    let _ = crate::regress::lint::lint(&s);
    true
}

/// Parses a docker line and, when it parses, runs it on a three-node
/// cluster with a service `web` of three replicas, then lets the cluster
/// run within `budget`. Returns whether it parsed.
pub fn run_docker(bytes: &[u8], budget: &Budget) -> bool {
    let Ok(line) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(cmd) = parse_command_line(line) else {
        return false;
    };
    let sc = Rc::new(crate::teach::shell::default_scenario());
    let mut c = Cluster::new(sc, 1, true);
    if let Ok(web) = parse_command_line("docker service create --name web --replicas 3 web:1") {
        c.execute(&web);
    }
    let step = |c: &mut Cluster, s: u64| {
        let until = c.store.now + secs(s);
        let max = c.store.events_processed + budget.max_events / 2;
        c.run(Some(until), max, |_, _| {});
    };
    step(&mut c, 30);
    let _ = c.execute(&cmd);
    step(&mut c, budget.until_s);
    for q in [
        "docker service ps web",
        "docker service ls",
        "docker node ls",
    ] {
        if let Ok(q) = parse_command_line(q) {
            let _ = c.execute(&q);
        }
    }
    let _ = crate::report::results::events_csv(&c);
    true
}

/// CPU time of the calling thread, in nanoseconds (Linux
/// `/proc/thread-self/schedstat`), so that a busy machine does not make
/// an input look slow; `None` elsewhere.
pub fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Peak resident memory (VmHWM) in KiB, on Linux.
pub fn peak_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Fuzzes for `inputs` inputs or until `deadline`, whichever comes first.
/// Panics are caught (the panic message is silenced while fuzzing) and
/// become findings.
pub fn fuzz(
    seed: u64,
    inputs: u64,
    deadline: Option<Instant>,
    scenarios: &[Vec<u8>],
    docker: &[Vec<u8>],
    budget: &Budget,
) -> Report {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut report = Report::default();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut i = 0;
    while i < inputs && deadline.is_none_or(|d| Instant::now() < d) {
        i += 1;
        let target = if docker.is_empty() || (!scenarios.is_empty() && rng.random_bool(0.6)) {
            Target::Scenario
        } else {
            Target::Docker
        };
        let pool = match target {
            Target::Scenario => scenarios,
            Target::Docker => docker,
        };
        if pool.is_empty() {
            break;
        }
        let base = pick(&mut rng, pool);
        let other = pick(&mut rng, pool);
        let input = mutate(&mut rng, base, other);
        let started = Instant::now();
        let cpu_start = thread_cpu_ns();
        let outcome = catch_unwind(AssertUnwindSafe(|| match target {
            Target::Scenario => run_scenario(&input, budget),
            Target::Docker => run_docker(&input, budget),
        }));
        // CPU time where known (wall time counts the other processes of
        // a busy machine).
        let took = match (cpu_start, thread_cpu_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => started.elapsed(),
        };
        report.inputs += 1;
        match target {
            Target::Scenario => report.scenario_inputs += 1,
            Target::Docker => report.docker_inputs += 1,
        }
        report.slowest_s = report.slowest_s.max(took.as_secs_f64());
        let mut finding = |what: String| {
            report.findings.push(Finding {
                target,
                what,
                input: input.clone(),
            })
        };
        match outcome {
            Ok(true) => report.accepted += 1,
            Ok(false) => {}
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                finding(format!("panic: {msg}"));
            }
        }
        if took > budget.slow {
            finding(format!("slow: {:.1} s of CPU", took.as_secs_f64()));
        }
        if let Some(k) = peak_kib()
            && k > budget.max_peak_kib
            && report.peak_kib.is_none_or(|p| p <= budget.max_peak_kib)
        {
            finding(format!("memory: peak {k} KiB"));
            report.peak_kib = Some(k);
        }
    }
    std::panic::set_hook(hook);
    report.peak_kib = peak_kib().or(report.peak_kib);
    report
}

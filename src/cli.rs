//! Command-line interface: clap structs and one function per subcommand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use clap::{Parser, Subcommand};

use crate::docker::cli::InvalidArgument;
use crate::docker::duration::parse_duration_nonneg;
use crate::regress::{check, diff, eval, lint, outcome};
use crate::runner::{RunOptions, run_observed};
use crate::scenario;
use crate::sim::time::{SimDuration, SimTime};
use crate::teach::play::Play;
use crate::teach::timeline::TimelineObserver;

pub use crate::error::{Error, ExitStatus};

#[derive(Parser, Debug)]
#[command(
    name = "swarmsim",
    version,
    about = "Deterministic simulator of Docker Swarm rolling updates and rollbacks"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one simulation: print the transcript, write results.
    Run {
        /// Scenario file (YAML); optional with --compose.
        #[arg(required_unless_present = "compose")]
        scenario: Option<PathBuf>,
        /// Run a docker-compose / stack file on the default cluster
        /// (manager1, worker1, worker2) instead of a scenario.
        #[arg(long, conflicts_with = "scenario")]
        compose: Option<PathBuf>,
        /// Exit with a distinct status when an outcome happens:
        /// paused (3), rollback (4), rollback_paused (5), updating (6).
        #[arg(long, value_name = "OUTCOME,...")]
        fail_on: Option<String>,
        /// Seed (overrides the scenario's `seed`; default 1).
        #[arg(long)]
        seed: Option<u64>,
        /// End time, a Go duration (overrides the scenario's `until`).
        #[arg(long)]
        until: Option<String>,
        /// Results folder (default out/<scenario file stem>/; the committed
        /// results/ are written only with an explicit --out).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only the final summary.
        #[arg(long)]
        quiet: bool,
        /// Explain every decision of the simulation in the transcript, each
        /// naming the setting that caused it.
        #[arg(long)]
        explain: bool,
        /// Replay the scenario in real time with docker's converge
        /// progress (instead of printing the transcript at once).
        #[arg(long)]
        play: bool,
        /// With --play: simulated seconds per real second (default 1).
        #[arg(long, requires = "play")]
        speed: Option<f64>,
        /// Write a visual timeline: FILE.svg, or FILE.html (with
        /// `docker service ps` at any instant).
        #[arg(long)]
        timeline: Option<PathBuf>,
        /// Stop after this many events (the safety limit, default
        /// 1000000; see docs/limits.md).
        #[arg(long, value_name = "N")]
        max_events: Option<u64>,
    },
    /// Interactive: type docker commands on a simulated cluster, advance the
    /// clock. Reads commands from a pipe too (`swarmsim shell < lesson.txt`).
    Shell {
        /// Scenario whose cluster, services and timeline to use (default:
        /// three nodes manager1, worker1, worker2).
        scenario: Option<PathBuf>,
        /// Seed (overrides the scenario's `seed`; default 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Start with explanations on (`explain on|off` in the shell).
        #[arg(long)]
        explain: bool,
        /// While a docker command waits for convergence: simulated seconds
        /// per real second (default 1 on a terminal; from a pipe the wait
        /// takes no real time unless given).
        #[arg(long)]
        speed: Option<f64>,
    },
    /// Check the simulator against a real Docker Swarm (DOCKER_HOST, see
    /// conformance/README.md): replay each scenario on it, simulate it with
    /// the measured latencies, compare; exit 1 on any mismatch.
    Conform {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Results folder (default out/conformance/; the committed
        /// results/conformance/ is written by conformance/run.sh's --out).
        #[arg(long, default_value = "out/conformance")]
        out: PathBuf,
        /// The docker CLI to run (default: Debian's, matching its engine).
        #[arg(long, default_value = "/usr/bin/docker")]
        docker: PathBuf,
        /// Compare again with the real runs recorded in DIR/<scenario>/
        /// (no engine needed; conformance/mutants.sh).
        #[arg(long, value_name = "DIR")]
        replay: Option<PathBuf>,
        /// Measure the image latencies on the real runs in DIR/<scenario>/
        /// (another run: held out) instead of the run being compared.
        #[arg(long, value_name = "DIR")]
        calibration: Option<PathBuf>,
        /// Judge races: the real runs recorded in DIR/<scenario>/run-*/
        /// against 200 seeded simulations, branch by branch (binomial 95 %
        /// interval; conformance/races.sh); writes DIR/<scenario>/README.md.
        #[arg(long, value_name = "DIR")]
        races: Option<PathBuf>,
        /// Use the swarm as it is (never cleaned): the scenarios come from
        /// `swarmsim snapshot` of it, and keep their own image latencies.
        #[arg(long)]
        live: bool,
    },
    /// Follow a live service on a real engine (DOCKER_HOST) and write every
    /// task and update change to a trace, until interrupted or `--for`.
    Record {
        service: String,
        /// The trace file (JSON lines; written as it goes).
        #[arg(long)]
        out: PathBuf,
        /// Stop after this long (a Go duration); default: until interrupted.
        #[arg(long = "for")]
        for_: Option<String>,
        /// The docker CLI (only for the engine's version).
        #[arg(long, default_value = "/usr/bin/docker")]
        docker: PathBuf,
    },
    /// Fit image profiles (pull, start, stop, crash, failure rates) to
    /// traces from `record` or `conform`; prints a scenario `images:` block.
    Calibrate {
        #[arg(required = true)]
        traces: Vec<PathBuf>,
        /// Write the YAML here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Fit the scenario's `engine:` block (the engine's own step
        /// latencies) instead of `images:`.
        #[arg(long)]
        engine: bool,
    },
    /// Write a live swarm as a scenario (docs/snapshot.md): its nodes,
    /// services, image latencies fitted from the tasks' history, and an
    /// update line per service. Reads the engine at DOCKER_HOST (or
    /// docker's default socket) with GET requests only.
    Snapshot {
        /// Write the scenario here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Leave node and service labels out.
        #[arg(long)]
        no_labels: bool,
        /// First follow every task's state changes for this long (a Go
        /// duration, e.g. 5m, while an update runs) and fit those images
        /// from the full history.
        #[arg(long)]
        watch: Option<String>,
    },
    /// Parse and check scenarios without simulating.
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Run the `expect:` items of scenarios (files, or folders searched
    /// for YAML files with `expect:`): one line per scenario; exit 1 on a
    /// failure, 2 on bad input.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Compare two scenarios (or one with --set overrides): the first
    /// instant where their timelines part and the rule that made them
    /// part, then both summaries. Exit 0 when identical, 1 when they
    /// differ.
    Diff {
        a: PathBuf,
        b: Option<PathBuf>,
        /// Override a service setting for B: SERVICE.KEY=VALUE, e.g.
        /// web.update_config.parallelism=2 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Seed of both runs (default: each scenario's).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Warn about update policies that bite Swarm users, with the reason
    /// and the fix.
    Lint {
        /// A scenario or a docker-compose / stack file.
        path: PathBuf,
        /// Turn warnings into errors (exit 1): `warnings` for all, or a
        /// rule name (repeatable).
        #[arg(long, value_name = "warnings|RULE")]
        deny: Vec<String>,
    },
    /// Monte Carlo over seeds: runs.csv, batch.json, band.csv, plots and a
    /// table of duration percentiles and final-state probabilities.
    Batch {
        /// Scenario file (YAML).
        scenario: PathBuf,
        /// Number of runs (seeds S..S+N-1).
        #[arg(long)]
        runs: u64,
        /// First seed S.
        #[arg(long, default_value_t = 1)]
        seed_start: u64,
        /// Worker threads (default: the number of cores). Output does not
        /// depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard I of N (0-based), e.g. `--shard 0/4`; join the
        /// shard folders with `swarmsim merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Results folder (default out/<scenario file stem>/; the committed
        /// results/ are written only with an explicit --out).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Join the folders of a sharded batch into the unsharded batch's files.
    Merge {
        /// Shard folders (each written by `batch --shard I/N`).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Results folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Policy grid over seeds: every combination of the --set values, the
    /// same seeds in every cell.
    Sweep {
        /// Scenario file (YAML).
        scenario: PathBuf,
        /// KEY=V1,V2,... (repeatable), e.g.
        /// redis.update_config.parallelism=1,2,4
        #[arg(long, required = true)]
        set: Vec<String>,
        /// Runs per cell.
        #[arg(long)]
        runs: u64,
        /// First seed.
        #[arg(long, default_value_t = 1)]
        seed_start: u64,
        /// Worker threads (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// The service whose update is measured (default: the service of
        /// the first service key, or the only service).
        #[arg(long)]
        service: Option<String>,
        /// A constraint on a cell, e.g. 'min_running>=2' (repeatable).
        #[arg(long)]
        require: Vec<String>,
        /// Pick the policy with the smallest METRIC among those meeting
        /// --require (p50_duration, p95_duration, p_paused, p_rolled_back).
        #[arg(long)]
        minimize: Option<String>,
        /// Results folder (default out/<scenario file stem>/; the committed
        /// results/ are written only with an explicit --out).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs the parsed command line. An error is bad input: `main` prints
/// it and maps it to its exit status ([`Error::exit_status`]).
pub fn run(cli: Cli) -> Result<ExitStatus, Error> {
    match cli.command {
        Command::Run {
            scenario,
            compose,
            fail_on,
            seed,
            until,
            out,
            quiet,
            explain,
            play,
            speed,
            timeline,
            max_events,
        } => {
            let fail_on = match fail_on.as_deref().map(outcome::parse_list).transpose() {
                Ok(f) => f.unwrap_or_default(),
                Err(e) => return Err(e.into()),
            };
            let source = match (scenario, compose) {
                (Some(s), _) => Source::Scenario(s),
                (None, Some(c)) => Source::Compose(c),
                (None, None) => {
                    return Err(Error::Usage(
                        "a scenario file or --compose FILE is required".to_string(),
                    ));
                }
            };
            cmd_run(
                &source,
                RunFlags {
                    seed,
                    until: until.as_deref(),
                    out,
                    quiet,
                    explain,
                    play: play.then_some(speed.unwrap_or(1.0)),
                    timeline,
                    fail_on: &fail_on,
                    max_events,
                },
            )
        }
        Command::Validate { scenarios } => Ok(cmd_validate(&scenarios)),
        Command::Shell {
            scenario,
            seed,
            explain,
            speed,
        } => cmd_shell(scenario.as_deref(), seed, explain, speed),
        Command::Record {
            service,
            out,
            for_,
            docker,
        } => {
            let dur = match for_.as_deref().map(parse_duration_nonneg).transpose() {
                Ok(d) => d.map(SimDuration::as_secs_f64),
                Err(e) => return Err(Error::Usage(format!("--for: {e}"))),
            };
            let res = crate::conform::engine::Engine::from_env(docker)
                .and_then(|e| crate::conform::record::follow(&e, &service, dur, &out));
            match res {
                Ok(()) => Ok(ExitStatus::Success),
                Err(e) => Err(e.into()),
            }
        }
        Command::Snapshot {
            out,
            no_labels,
            watch,
        } => cmd_snapshot(out, no_labels, watch.as_deref()),
        Command::Calibrate {
            traces,
            out,
            engine,
        } => {
            let mut texts = Vec::new();
            for p in &traces {
                match crate::fsio::read_text(p) {
                    Ok(t) => texts.push((p.display().to_string(), t)),
                    Err(source) => {
                        return Err(Error::Read {
                            path: p.clone(),
                            source,
                        });
                    }
                }
            }
            let fit = if engine {
                crate::conform::calibrate::calibrate_engine(&texts)
            } else {
                crate::conform::calibrate::calibrate(&texts)
            };
            match fit {
                Ok(y) => write_or_print(out.as_deref(), &y),
                Err(e) => Err(e.into()),
            }
        }
        Command::Conform {
            scenarios,
            out,
            docker,
            replay,
            calibration,
            races,
            live,
        } => {
            crate::mutant::check()?;
            if let Some(dir) = races {
                return match crate::conform::judge_races(&scenarios, &dir, calibration.as_deref()) {
                    Ok(true) => Ok(ExitStatus::Success),
                    Ok(false) => Ok(ExitStatus::Failure),
                    Err(e) => Err(e.into()),
                };
            }
            let opts = crate::conform::SuiteOptions {
                out,
                docker,
                replay,
                calibration,
                live,
            };
            match crate::conform::run_suite(&scenarios, &opts) {
                Ok(true) => Ok(ExitStatus::Success),
                Ok(false) => Ok(ExitStatus::Failure),
                Err(e) => Err(e.into()),
            }
        }
        Command::Check { paths, junit } => cmd_check(&paths, junit.as_deref()),
        Command::Diff { a, b, set, seed } => cmd_diff(&a, b.as_deref(), &set, seed),
        Command::Lint { path, deny } => cmd_lint(&path, &deny),
        Command::Batch {
            scenario,
            runs,
            seed_start,
            jobs,
            shard,
            out,
        } => crate::batch::cmd::batch(crate::batch::cmd::BatchArgs {
            scenario,
            runs,
            seed_start,
            jobs,
            shard,
            out,
        }),
        Command::Merge { dirs, out } => crate::batch::cmd::merge(&dirs, &out),
        Command::Sweep {
            scenario,
            set,
            runs,
            seed_start,
            jobs,
            service,
            require,
            minimize,
            out,
        } => crate::batch::cmd::sweep(crate::batch::cmd::SweepArgs {
            scenario,
            set,
            runs,
            seed_start,
            jobs,
            service,
            require,
            minimize,
            out,
        }),
    }
}

enum Source {
    Scenario(PathBuf),
    Compose(PathBuf),
}

/// Loads a scenario, or a bare stack file, and prints the stack file's
/// ignored keys once on stderr.
fn load_any(
    path: &Path,
    overrides: &[scenario::Override],
) -> Result<scenario::Scenario, scenario::ScenarioError> {
    let text = crate::fsio::read_text(path).unwrap_or_default();
    let s = if scenario::looks_like_compose(&text) {
        scenario::from_compose(path, overrides)
    } else {
        scenario::load_with(path, overrides)
    }?;
    warn_ignored(&s);
    Ok(s)
}

/// Once per stack file and process: `diff` loads the same stack file for
/// both of its runs.
fn warn_ignored(s: &scenario::Scenario) {
    static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    if let Some(line) = s.compose.as_ref().and_then(|c| c.ignored_line())
        && SEEN.lock().is_ok_and(|mut seen| seen.insert(line.clone()))
    {
        eprintln!("warning: {line}");
    }
}

fn cmd_snapshot(
    out: Option<PathBuf>,
    no_labels: bool,
    watch: Option<&str>,
) -> Result<ExitStatus, Error> {
    use crate::conform::{record, snapshot};
    let watch = match watch.map(parse_duration_nonneg).transpose() {
        Ok(d) => d.map(SimDuration::as_secs_f64),
        Err(e) => return Err(Error::Usage(format!("--watch: {e}"))),
    };
    let res = snapshot::engine_from_env().and_then(|engine| {
        let watched = match watch {
            Some(secs) => {
                eprintln!("snapshot: following every task for {secs}s");
                Some(record::watch(&engine, secs)?)
            }
            None => None,
        };
        let mut state = snapshot::EngineState::read(&engine)?;
        state.watched = watched;
        snapshot::scenario_yaml(&state, &snapshot::Options { no_labels })
    });
    match res {
        Ok(y) => write_or_print(out.as_deref(), &y),
        Err(e) => Err(e.into()),
    }
}

struct RunFlags<'a> {
    seed: Option<u64>,
    until: Option<&'a str>,
    out: Option<PathBuf>,
    quiet: bool,
    explain: bool,
    /// `--play` at this speed.
    play: Option<f64>,
    timeline: Option<PathBuf>,
    fail_on: &'a [outcome::Outcome],
    max_events: Option<u64>,
}

fn cmd_run(source: &Source, f: RunFlags) -> Result<ExitStatus, Error> {
    let RunFlags {
        seed,
        until,
        out,
        quiet,
        explain,
        play,
        timeline,
        fail_on,
        max_events,
    } = f;
    if let Some(s) = play
        && !(s.is_finite() && s >= crate::limits::MIN_SPEED)
    {
        return Err(InvalidArgument::new(
            format!("{s:?}"),
            "--speed",
            format!(
                "must be at least {} (see docs/limits.md)",
                crate::limits::MIN_SPEED
            ),
        )
        .into());
    }
    if max_events == Some(0) {
        return Err(InvalidArgument::new("0", "--max-events", "must be at least 1").into());
    }
    let timeline_kind = match &timeline {
        None => None,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("svg") => Some(false),
            Some("html") | Some("htm") => Some(true),
            _ => {
                return Err(Error::Usage(format!(
                    "--timeline {}: the file name must end in .svg or .html",
                    p.display()
                )));
            }
        },
    };
    let until = match until.map(parse_duration_nonneg).transpose() {
        Ok(u) => u.map(SimTime::at),
        Err(e) => {
            return Err(InvalidArgument::new(until.unwrap_or_default(), "--until", e).into());
        }
    };
    let (path, loaded) = match source {
        Source::Scenario(p) => (p, scenario::load(p)),
        Source::Compose(p) => (p, scenario::from_compose(p, &[])),
    };
    let scenario = Rc::new(loaded?);
    warn_ignored(&scenario);
    let opts = RunOptions {
        seed,
        until,
        // events.csv streams to its file; the log is kept in memory only
        // for the expectations and the timeline, which read it.
        keep_log: !scenario.expect.is_empty() || timeline_kind.is_some(),
        explain,
        record_series: !scenario.expect.is_empty(),
        max_events,
        ..Default::default()
    };
    let out_dir = out.unwrap_or_else(|| default_out_dir(path));
    // events.csv streams to a temporary file in the results folder,
    // renamed at the end (a planted link is replaced, never followed).
    let (file, events_tmp) = match crate::fsio::create_in(&out_dir, "events.csv") {
        Ok(f) => f,
        Err(e) => return Err(Error::write(&out_dir, e)),
    };
    let events =
        crate::report::results::EventsCsv::new(std::io::BufWriter::with_capacity(1 << 16, file));
    // One simulation for every output: the transcript, events.csv, the
    // timeline and the --play display observe the same run.
    let mut timeline_obs = timeline_kind.map(|_| TimelineObserver::new(scenario.clone()));
    // --play is recorded during the run and shown after the results are
    // written (an interrupted replay leaves them complete).
    let mut recording = play.map(|_| crate::teach::display::Recording::default());
    let mut play_obs = recording
        .as_mut()
        .map(|d| Play::new(scenario.clone(), until, play, d));
    // The `at:` expectations watch this run too, unless --max-events
    // changes where it stops (they are about a run with the default
    // limit).
    let mut expect_obs = (!scenario.expect.is_empty() && max_events.is_none()).then(|| {
        let limit = crate::runner::RunConfig::new(&opts, &scenario).limit;
        eval::Expectations::new(&scenario, limit, false)
    });
    let mut result = run_observed(
        scenario.clone(),
        &opts,
        Some(Box::new(events)),
        &mut (&mut timeline_obs, (&mut play_obs, &mut expect_obs)),
    );
    drop(play_obs);
    if let Some(e) = result.sink_error.take() {
        let _ = std::fs::remove_file(&events_tmp);
        return Err(Error::write(out_dir.join("events.csv"), e));
    }
    if let Err(e) = crate::fsio::publish(&events_tmp, &out_dir, "events.csv") {
        return Err(Error::write(out_dir.join("events.csv"), e));
    }
    if let Err(e) = write_results(&out_dir, &result) {
        return Err(Error::write(&out_dir, e));
    }
    // After the results, so that a timeline inside `--out` finds its
    // folder on a first run.
    if let (Some(p), Some(html), Some(tl)) = (
        &timeline,
        timeline_kind,
        timeline_obs.and_then(|o| o.timeline),
    ) {
        let text = if html { tl.html() } else { tl.svg() };
        if let Err(e) = crate::fsio::write_path(p, text.as_bytes()) {
            return Err(Error::write(p, e));
        }
    }
    if let Some(recording) = recording {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            recording.replay(&mut crate::teach::display::Live::new());
        } else {
            recording.replay(&mut crate::teach::display::Plain {
                out: std::io::stdout().lock(),
            });
        }
        let _ = std::io::stdout().write_all(result.summary_text().as_bytes());
        return Ok(ExitStatus::Success);
    }
    let text = if quiet {
        result.summary_text()
    } else {
        result.transcript.clone()
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error.
    let _ = stdout.write_all(text.as_bytes());
    if let Some(stop) = result.stop {
        eprintln!("{}", stop.warning());
    }
    let mut status = ExitStatus::Success;
    if !scenario.expect.is_empty() {
        // End-of-run items use this run when it ran to the scenario's
        // own end; `--until` moves "the end" with it.
        let answered = expect_obs.map(|o| o.into_results()).unwrap_or_default();
        let results = eval::evaluate_with(&scenario, seed, Some(&result), answered);
        let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
        let mut text = String::new();
        for r in &failed {
            text.push_str(&r.render(&path.display().to_string()));
        }
        text.push_str(&format!(
            "expect: {} checked, {} failed\n",
            results.len(),
            failed.len()
        ));
        let _ = stdout.write_all(text.as_bytes());
        if !failed.is_empty() {
            status = ExitStatus::Failure;
        }
    }
    let hits = outcome::occurred(&result.summary, fail_on);
    if let Some((o, what)) = hits.first() {
        eprintln!("fail-on {}: {what}", o.name());
        if status == ExitStatus::Success {
            return Ok(ExitStatus::Outcome(o.exit_code()));
        }
    }
    Ok(status)
}

fn cmd_check(paths: &[PathBuf], junit: Option<&Path>) -> Result<ExitStatus, Error> {
    let files = check::collect(paths)?;
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "no scenario with `expect:` found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut results = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for f in &files {
        let r = check::check_file(f);
        let _ = stdout.write_all(check::report_line(&r).as_bytes());
        let _ = stdout.flush();
        results.push(r);
    }
    let failed = results.iter().filter(|r| r.failed() > 0).count();
    let errors = results.iter().filter(|r| r.results.is_err()).count();
    let _ = writeln!(
        stdout,
        "{} scenarios: {} ok, {failed} failed, {errors} with errors",
        results.len(),
        results.len() - failed - errors
    );
    if let Some(j) = junit
        && let Err(e) = std::fs::write(j, check::junit(&results))
    {
        return Err(Error::write(j, e));
    }
    Ok(if errors > 0 {
        ExitStatus::BadInput
    } else if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn cmd_diff(
    a: &Path,
    b: Option<&Path>,
    set: &[String],
    seed: Option<u64>,
) -> Result<ExitStatus, Error> {
    let overrides = set
        .iter()
        .map(|s| scenario::parse_override(s))
        .collect::<Result<Vec<_>, _>>()?;
    if b.is_none() && overrides.is_empty() {
        return Err(Error::Usage(
            "diff needs two scenarios, or one scenario and --set KEY=VALUE".to_string(),
        ));
    }
    let sa = load_any(a, &[])?;
    let b_path = b.unwrap_or(a);
    let sb = load_any(b_path, &overrides)?;
    let label = |p: &Path, s: &scenario::Scenario, sets: &[String]| {
        let mut l = p.display().to_string();
        for x in sets {
            l.push_str(&format!(" --set {x}"));
        }
        format!("{l} (seed {})", crate::runner::resolve_seed(seed, s))
    };
    let la = label(a, &sa, &[]);
    let lb = label(b_path, &sb, set);
    let ra = diff::run_for_diff(sa, seed);
    let rb = diff::run_for_diff(sb, seed);
    let (text, differ) = diff::report(&la, &ra, &lb, &rb);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if differ {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn cmd_lint(path: &Path, deny: &[String]) -> Result<ExitStatus, Error> {
    for d in deny {
        if d != "warnings" && !lint::RULES.contains(&d.as_str()) {
            return Err(InvalidArgument::new(
                d,
                "--deny",
                format!("expected `warnings` or a rule: {}", lint::RULES.join(", ")),
            )
            .into());
        }
    }
    let s = load_any(path, &[])?;
    let warnings = lint::lint(&s)?;
    let _ = std::io::stdout()
        .lock()
        .write_all(lint::render(&warnings).as_bytes());
    let denied = warnings
        .iter()
        .any(|w| deny.iter().any(|d| d == "warnings" || d == w.rule));
    Ok(if denied {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `out/<scenario file stem>/`: a user's run never writes into the
/// committed `results/` (regenerated with an explicit `--out`, see
/// docs/results.md), so it cannot make the tests that check them fail.
pub fn default_out_dir(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string());
    PathBuf::from("out").join(stem)
}

/// The rest of the results (events.csv was streamed during the run); a
/// symbolic link planted under one of their names is replaced, not
/// followed ([`crate::fsio::write_in`]).
fn write_results(dir: &Path, result: &crate::runner::RunResult) -> std::io::Result<()> {
    use crate::fsio::write_in;
    write_in(dir, "transcript.txt", result.transcript.as_bytes())?;
    write_in(dir, "summary.json", result.summary_json().as_bytes())?;
    Ok(())
}

fn cmd_validate(paths: &[PathBuf]) -> ExitStatus {
    let mut status = ExitStatus::Success;
    for p in paths {
        match scenario::load(p) {
            Ok(_) => println!("ok: {}", p.display()),
            Err(e) => {
                eprintln!("error: {e}");
                status = ExitStatus::BadInput;
            }
        }
    }
    status
}

fn cmd_shell(
    path: Option<&Path>,
    seed: Option<u64>,
    explain: bool,
    speed: Option<f64>,
) -> Result<ExitStatus, Error> {
    if let Some(s) = speed
        && !(s.is_finite() && (s == 0.0 || s >= crate::limits::MIN_SPEED))
    {
        return Err(InvalidArgument::new(
            format!("{s:?}"),
            "--speed",
            format!(
                "must be 0 or at least {} (see docs/limits.md)",
                crate::limits::MIN_SPEED
            ),
        )
        .into());
    }
    let scenario = match path {
        Some(p) => scenario::load(p)?,
        None => crate::teach::shell::default_scenario(),
    };
    match crate::teach::shell::run_shell(Rc::new(scenario), seed, explain, speed) {
        Ok(()) => Ok(ExitStatus::Success),
        // A closed pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Success),
        Err(e) => Err(Error::Terminal(e)),
    }
}

/// Writes a generated file (`calibrate`, `snapshot`) to `--out`, or prints
/// it when there is none.
fn write_or_print(out: Option<&Path>, text: &str) -> Result<ExitStatus, Error> {
    match out {
        Some(o) => match std::fs::write(o, text) {
            Ok(()) => Ok(ExitStatus::Success),
            Err(e) => Err(Error::write(o, e)),
        },
        None => {
            print!("{text}");
            Ok(ExitStatus::Success)
        }
    }
}

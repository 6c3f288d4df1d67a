//! Command-line interface: clap structs and one function per subcommand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use clap::{Parser, Subcommand};

use crate::runner::{RunOptions, run};
use crate::scenario;
use crate::sim::time::parse_duration_nonneg;

/// Exit statuses (contract §1): 0 success, 1 an expectation failed, 2 bad
/// input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Failure = 1,
    BadInput = 2,
}

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
        /// Scenario file (YAML).
        scenario: PathBuf,
        /// Seed (overrides the scenario's `seed`; default 1).
        #[arg(long)]
        seed: Option<u64>,
        /// End time, a Go duration (overrides the scenario's `until`).
        #[arg(long)]
        until: Option<String>,
        /// Results folder (default results/<scenario file stem>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only the final summary.
        #[arg(long)]
        quiet: bool,
        /// Explain every decision of the simulation in the transcript, each
        /// naming the setting that caused it.
        #[arg(long)]
        explain: bool,
    },
    /// Check the simulator against a real Docker Swarm (DOCKER_HOST, see
    /// conformance/README.md): replay each scenario on it, simulate it with
    /// the measured latencies, compare; exit 1 on any mismatch.
    Conform {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Results folder (default results/conformance/).
        #[arg(long, default_value = "results/conformance")]
        out: PathBuf,
        /// The docker CLI to run (default: Debian's, matching its engine).
        #[arg(long, default_value = "/usr/bin/docker")]
        docker: PathBuf,
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
    },
    /// Parse and check scenarios without simulating.
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

/// Runs the parsed command line; errors are printed here.
pub fn main_with(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Run {
            scenario,
            seed,
            until,
            out,
            quiet,
            explain,
        } => cmd_run(&scenario, seed, until.as_deref(), out, quiet, explain),
        Command::Validate { scenarios } => cmd_validate(&scenarios),
        Command::Record {
            service,
            out,
            for_,
            docker,
        } => {
            let dur = match for_.as_deref().map(parse_duration_nonneg).transpose() {
                Ok(d) => d.map(|ns| ns as f64 / 1e9),
                Err(e) => return bad_input(format!("--for: {e}")),
            };
            let res = crate::conform::engine::Engine::from_env(docker)
                .and_then(|e| crate::conform::record::follow(&e, &service, dur, &out));
            match res {
                Ok(()) => ExitStatus::Success,
                Err(e) => bad_input(format!("{e:#}")),
            }
        }
        Command::Calibrate { traces, out } => {
            let mut texts = Vec::new();
            for p in &traces {
                match std::fs::read_to_string(p) {
                    Ok(t) => texts.push((p.display().to_string(), t)),
                    Err(e) => return bad_input(format!("{}: {e}", p.display())),
                }
            }
            match crate::conform::calibrate::calibrate(&texts) {
                Ok(y) => match out {
                    Some(o) => match std::fs::write(&o, y) {
                        Ok(()) => ExitStatus::Success,
                        Err(e) => bad_input(format!("{}: {e}", o.display())),
                    },
                    None => {
                        print!("{y}");
                        ExitStatus::Success
                    }
                },
                Err(e) => bad_input(format!("{e:#}")),
            }
        }
        Command::Conform {
            scenarios,
            out,
            docker,
        } => match crate::conform::run_suite(&scenarios, &out, &docker) {
            Ok(true) => ExitStatus::Success,
            Ok(false) => ExitStatus::Failure,
            Err(e) => bad_input(format!("{e:#}")),
        },
    }
}

fn bad_input(msg: impl std::fmt::Display) -> ExitStatus {
    eprintln!("error: {msg}");
    ExitStatus::BadInput
}

fn cmd_run(
    path: &Path,
    seed: Option<u64>,
    until: Option<&str>,
    out: Option<PathBuf>,
    quiet: bool,
    explain: bool,
) -> ExitStatus {
    let until = match until.map(parse_duration_nonneg).transpose() {
        Ok(u) => u,
        Err(e) => {
            return bad_input(format!(
                "invalid argument \"{}\" for \"--until\" flag: {e}",
                until.unwrap_or_default()
            ));
        }
    };
    let scenario = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    let opts = RunOptions {
        seed,
        until,
        keep_log: true,
        explain,
        ..Default::default()
    };
    let result = run(Rc::new(scenario), &opts);
    let out_dir = out.unwrap_or_else(|| default_out_dir(path));
    if let Err(e) = write_results(&out_dir, &result) {
        return bad_input(format!("{}: {e}", out_dir.display()));
    }
    let text = if quiet {
        result.summary_text()
    } else {
        result.transcript.clone()
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error.
    let _ = stdout.write_all(text.as_bytes());
    if result.hit_limit {
        eprintln!(
            "warning: the run stopped at the safety limit; set `until:` in the scenario or --until"
        );
    }
    ExitStatus::Success
}

/// `results/<scenario file stem>/`.
pub fn default_out_dir(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_string());
    PathBuf::from("results").join(stem)
}

fn write_results(dir: &Path, result: &crate::runner::RunResult) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("transcript.txt"), &result.transcript)?;
    std::fs::write(dir.join("events.csv"), result.events_csv())?;
    std::fs::write(dir.join("summary.json"), result.summary_json())?;
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

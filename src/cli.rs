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
    },
    /// Parse and check scenarios without simulating.
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
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
        /// Results folder (default results/<scenario file stem>/).
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
        /// Results folder (default results/<scenario file stem>/).
        #[arg(long)]
        out: Option<PathBuf>,
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
        } => cmd_run(&scenario, seed, until.as_deref(), out, quiet),
        Command::Validate { scenarios } => cmd_validate(&scenarios),
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

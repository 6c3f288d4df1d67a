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
            play,
            speed,
            timeline,
        } => cmd_run(
            &scenario,
            RunFlags {
                seed,
                until: until.as_deref(),
                out,
                quiet,
                explain,
                play: play.then_some(speed.unwrap_or(1.0)),
                timeline,
            },
        ),
        Command::Validate { scenarios } => cmd_validate(&scenarios),
        Command::Shell {
            scenario,
            seed,
            explain,
            speed,
        } => cmd_shell(scenario.as_deref(), seed, explain, speed),
    }
}

fn bad_input(msg: impl std::fmt::Display) -> ExitStatus {
    eprintln!("error: {msg}");
    ExitStatus::BadInput
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
}

fn cmd_run(path: &Path, f: RunFlags) -> ExitStatus {
    let RunFlags {
        seed,
        until,
        out,
        quiet,
        explain,
        play,
        timeline,
    } = f;
    if let Some(s) = play
        && !(s.is_finite() && s > 0.0)
    {
        return bad_input(format!(
            "invalid argument \"{s}\" for \"--speed\" flag: must be positive"
        ));
    }
    let timeline_kind = match &timeline {
        None => None,
        Some(p) => match p.extension().and_then(|e| e.to_str()) {
            Some("svg") => Some(false),
            Some("html") | Some("htm") => Some(true),
            _ => {
                return bad_input(format!(
                    "--timeline {}: the file name must end in .svg or .html",
                    p.display()
                ));
            }
        },
    };
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
    let scenario = Rc::new(scenario);
    let result = run(scenario.clone(), &opts);
    if let (Some(p), Some(html)) = (&timeline, timeline_kind) {
        let tl = crate::teach::timeline::collect(scenario.clone(), seed, until);
        let text = if html { tl.html() } else { tl.svg() };
        if let Err(e) = std::fs::write(p, text) {
            return bad_input(format!("{}: {e}", p.display()));
        }
    }
    let out_dir = out.unwrap_or_else(|| default_out_dir(path));
    if let Err(e) = write_results(&out_dir, &result) {
        return bad_input(format!("{}: {e}", out_dir.display()));
    }
    if let Some(speed) = play {
        use std::io::IsTerminal;
        let speed = Some(speed);
        if std::io::stdout().is_terminal() {
            let mut d = crate::teach::display::Live::new();
            crate::teach::play::play(scenario, seed, until, explain, speed, &mut d);
        } else {
            let mut d = crate::teach::display::Plain {
                out: std::io::stdout().lock(),
            };
            crate::teach::play::play(scenario, seed, until, explain, speed, &mut d);
        }
        let _ = std::io::stdout().write_all(result.summary_text().as_bytes());
        return ExitStatus::Success;
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

fn cmd_shell(
    path: Option<&Path>,
    seed: Option<u64>,
    explain: bool,
    speed: Option<f64>,
) -> ExitStatus {
    if let Some(s) = speed
        && !(s.is_finite() && s >= 0.0)
    {
        return bad_input(format!("invalid argument \"{s}\" for \"--speed\" flag"));
    }
    let scenario = match path {
        Some(p) => match scenario::load(p) {
            Ok(s) => s,
            Err(e) => return bad_input(e),
        },
        None => crate::teach::shell::default_scenario(),
    };
    match crate::teach::shell::run_shell(Rc::new(scenario), seed, explain, speed) {
        Ok(()) => ExitStatus::Success,
        // A closed pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(e) => bad_input(e),
    }
}

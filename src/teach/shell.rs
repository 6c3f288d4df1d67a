//! `swarmsim shell [SCENARIO]`: a prompt on a simulated cluster. Docker
//! commands get docker's output (and converge progress); `sleep`/`advance`
//! move the clock. On a terminal the prompt has line editing and history
//! (rustyline); from a pipe, lines are read plainly and echoed after the
//! prompt so the transcript reads like a terminal session.

use std::io::{BufRead, IsTerminal, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::docker::cli::parse_command_line;
use crate::docker::duration::{format_go_duration, parse_duration_nonneg};
use crate::scenario::Scenario;
use crate::sim::time::SimDuration;

use super::display::{Display, Live, Plain};
use super::session::Session;

/// The cluster of `swarmsim shell` without a scenario: the Docker
/// tutorial's three nodes.
pub const DEFAULT_CLUSTER: &str = "\
name: swarmsim shell
description: the Docker tutorial's swarm, one manager and two workers
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{n}
      count: 2
";

pub fn default_scenario() -> Scenario {
    crate::scenario::parse_str(DEFAULT_CLUSTER, std::path::Path::new("<default cluster>"))
        .expect("the built-in cluster is valid")
}

pub const HELP: &str = "\
Commands:
  docker service create|update|rollback|scale|rm|ps|inspect|ls ...
  docker node ls|update|rm ... docker's commands and output; create, update,
                              rollback and scale wait for the service to
                              converge (as docker does) unless -d/--detach
  docker swarm update --task-history-limit N
  sleep DUR | advance DUR     move the simulated clock (10s, 1m30s; a bare
                              number is seconds)
  time                        the simulated time
  events [N]                  the last N rows of events.csv (default 10)
  explain on|off              explain every decision of the simulator
  help                        this text
  exit                        leave (also Ctrl-D)
";

/// What the shell does with one line.
pub enum Step {
    Continue,
    Exit,
}

pub struct Shell {
    pub session: Session,
}

impl Shell {
    pub fn new(scenario: Rc<Scenario>, seed: Option<u64>, explain: bool) -> Shell {
        Shell {
            session: Session::new(scenario, seed, explain),
        }
    }

    /// The prompt: the simulated time, then `$`.
    pub fn prompt(&self) -> String {
        format!("[{}] $ ", format_go_duration(self.session.now()))
    }

    /// Runs one input line.
    pub fn line(&mut self, line: &str, d: &mut dyn Display) -> Step {
        let line = line.trim();
        let (word, rest) = match line.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (line, ""),
        };
        match word {
            "" => {}
            w if w.starts_with('#') => {}
            "docker" => match parse_command_line(line) {
                Ok(cmd) => {
                    self.session.docker(&cmd, d);
                }
                Err(e) => d.line(&e.to_string()),
            },
            "sleep" | "advance" => match parse_sleep(rest) {
                Ok(dur) => {
                    // The clock stops at the largest Go duration
                    // (docs/limits.md) instead of wrapping.
                    let t = self.session.now().saturating_add(dur);
                    if t > crate::limits::MAX_CLOCK {
                        d.line(&format!(
                            "{word}: the simulated clock cannot pass {} (see docs/limits.md)",
                            format_go_duration(crate::limits::MAX_CLOCK)
                        ));
                    } else {
                        self.session.advance_to(t, d);
                    }
                }
                Err(e) => d.line(&format!("{word}: {e}")),
            },
            "time" => d.line(&format_go_duration(self.session.now())),
            "events" => {
                let n = if rest.is_empty() {
                    Ok(10)
                } else {
                    rest.parse::<usize>()
                };
                match n {
                    Ok(n) => {
                        let csv = crate::report::results::events_csv(self.session.cluster());
                        let mut lines = csv.lines();
                        if let Some(h) = lines.next() {
                            d.line(h);
                        }
                        let rows: Vec<&str> = lines.collect();
                        for r in &rows[rows.len().saturating_sub(n)..] {
                            d.line(r);
                        }
                    }
                    Err(_) => d.line(&format!("events: not a number: {rest}")),
                }
            }
            "explain" => match rest {
                "on" => {
                    self.session.set_explain(true);
                    d.line("explanations on");
                }
                "off" => {
                    self.session.set_explain(false);
                    d.line("explanations off");
                }
                "" => d.line(if self.session.cluster().store.explain {
                    "explanations are on"
                } else {
                    "explanations are off"
                }),
                _ => d.line("usage: explain on|off"),
            },
            "help" | "?" => {
                for l in HELP.lines() {
                    d.line(l);
                }
            }
            "exit" | "quit" => return Step::Exit,
            other => d.line(&format!(
                "swarmsim shell: unknown command `{other}` (type help)"
            )),
        }
        Step::Continue
    }
}

/// `sleep` takes a Go duration or, like the Unix command, a number of
/// seconds.
fn parse_sleep(s: &str) -> Result<SimDuration, String> {
    if s.is_empty() {
        return Err("missing duration (e.g. 10s, 1m30s)".to_string());
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_duration_nonneg(&format!("{s}s"));
    }
    parse_duration_nonneg(s)
}

/// Runs the shell on stdin/stdout until `exit` or end of input.
pub fn run_shell(
    scenario: Rc<Scenario>,
    seed: Option<u64>,
    explain: bool,
    speed: Option<f64>,
) -> std::io::Result<()> {
    let mut shell = Shell::new(scenario, seed, explain);
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if interactive {
        shell.session.speed = Some(speed.unwrap_or(1.0)).filter(|s| *s > 0.0);
        // The editor first: creating it installs rustyline's own SIGINT
        // handler (it only wakes its reader), which would replace ours.
        let rl = rustyline::DefaultEditor::new().map_err(std::io::Error::other)?;
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        // Ctrl-C while a command waits stops the wait, as in docker; at the
        // prompt the terminal is in raw mode and rustyline reads it as a key.
        if ctrlc::set_handler(move || f.store(true, std::sync::atomic::Ordering::SeqCst)).is_ok() {
            shell.session.interrupt = Some(flag);
        }
        interactive_loop(&mut shell, rl)
    } else {
        shell.session.speed = speed.filter(|s| *s > 0.0);
        let stdout = std::io::stdout();
        let mut d = Plain { out: stdout.lock() };
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut n = 0;
        while let Some(line) = read_line(&mut input, &mut n)? {
            let line = match line {
                Ok(l) => l,
                // A bad line is reported and skipped; the session goes on.
                Err(e) => {
                    d.line(&format!("swarmsim shell: line {n}: {e}; line ignored"));
                    continue;
                }
            };
            let trimmed = line.trim();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                // A lesson's narration is shown as it is.
                d.line(trimmed);
                continue;
            }
            d.line(&format!("{}{}", shell.prompt(), trimmed));
            if let Step::Exit = shell.line(&line, &mut d) {
                break;
            }
        }
        d.out.flush()
    }
}

/// The longest line the shell reads from a pipe (docs/limits.md).
pub const MAX_LINE: usize = 64 * 1024;

/// Reads line `*n + 1` from a pipe: `None` at the end of input,
/// `Some(Err(why))` for a line that is not UTF-8 or longer than
/// [`MAX_LINE`] (the rest of it is skipped without being kept).
fn read_line<B: BufRead>(
    input: &mut B,
    n: &mut usize,
) -> std::io::Result<Option<Result<String, String>>> {
    let mut buf = Vec::new();
    let got = std::io::Read::take(&mut *input, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
    if got == 0 {
        return Ok(None);
    }
    *n += 1;
    if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
        // Skip to the end of the line, a bounded chunk at a time.
        loop {
            let chunk = input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    input.consume(p + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    input.consume(len);
                }
            }
        }
        return Ok(Some(Err(format!("longer than {MAX_LINE} bytes"))));
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(Some(String::from_utf8(buf).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (_, column) = crate::fsio::line_column(e.as_bytes(), at);
        format!("invalid UTF-8 at column {column}")
    })))
}

fn interactive_loop(shell: &mut Shell, mut rl: rustyline::DefaultEditor) -> std::io::Result<()> {
    use rustyline::error::ReadlineError;
    let mut d = Live::new();
    println!("swarmsim shell: a simulated swarm; type help for the commands");
    loop {
        match rl.readline(&shell.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                }
                if let Step::Exit = shell.line(&line, &mut d) {
                    return Ok(());
                }
            }
            // Ctrl-C at the prompt drops the line, as bash does.
            Err(ReadlineError::Interrupted) => continue,
            // A line that is not UTF-8: reported, and the session goes on.
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                println!("swarmsim shell: {e}; line ignored");
            }
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(std::io::Error::other(e)),
        }
    }
}

//! A simulated cluster driven step by step: the scenario's own timeline
//! runs as the clock passes it, docker commands run at the current instant,
//! and a command that is not detached waits for its service to converge,
//! polling every 200 ms of simulated time as the docker CLI does.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::runner::{MAX_EVENTS, flush_explanations, run_item};
use std::fmt::Write as _;

use crate::docker::cli::DockerCommand;
use crate::docker::duration::format_go_duration;
use crate::scenario::{Action, Scenario};
use crate::sim::time::{SimDuration, SimTime, secs};
use crate::swarm::cluster::Cluster;

use super::display::Display;
use super::progress::{Msg, Outcome, POLL, Watch};

/// How long a waiting command may go without converging before the shell
/// stops waiting, as a user pressing Ctrl-C would (docker itself waits
/// forever).
pub const MAX_WAIT: SimDuration = secs(600);

pub struct Session {
    pub cluster: Cluster,
    scenario: Rc<Scenario>,
    explained: usize,
    /// Simulated seconds per real second while a command waits (None: as
    /// fast as possible).
    pub speed: Option<f64>,
    /// Set by Ctrl-C while a command waits.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Session {
    pub fn new(scenario: Rc<Scenario>, seed: Option<u64>, explain: bool) -> Session {
        let seed = crate::runner::resolve_seed(seed, &scenario);
        let mut cluster = Cluster::new(scenario.clone(), seed, true);
        cluster.explain = explain;
        Session {
            cluster,
            scenario,
            explained: 0,
            speed: None,
            interrupt: None,
        }
    }

    pub fn now(&self) -> SimTime {
        self.cluster.now
    }

    /// Turns explanations on or off from now on.
    pub fn set_explain(&mut self, on: bool) {
        self.cluster.explain = on;
        self.explained = self.cluster.explanations.len();
    }

    /// Runs the simulation up to `t` (inclusive): timeline items and
    /// explanations become transcript lines.
    pub fn advance_to(&mut self, t: SimTime, d: &mut dyn Display) {
        let _ = self.advance_collect(t, d);
    }

    /// [`Session::advance_to`], also returning a [`Watch`] for every
    /// timeline `docker` command that would wait for convergence (create,
    /// update, rollback without `--detach`) and succeeded.
    pub fn advance_collect(&mut self, t: SimTime, d: &mut dyn Display) -> Vec<Watch> {
        let mut text = String::new();
        let mut watches = Vec::new();
        let scenario = self.scenario.clone();
        let explained = &mut self.explained;
        self.cluster.run(Some(t), MAX_EVENTS, |c, i| {
            flush_explanations(c, explained, &mut text);
            match &scenario.timeline[i].action {
                Action::Docker {
                    text: line,
                    command,
                } => {
                    // As `run_item` does, keeping the command's result.
                    let before = c.state.services.len();
                    let _ = writeln!(text, "[{}] $ {line}", format_go_duration(c.now));
                    let o = c.execute(command);
                    text.push_str(&o.stdout);
                    text.push_str(&o.stderr);
                    if o.stderr.is_empty() {
                        watches.extend(watch_for(c, command, before));
                    }
                }
                _ => run_item(c, &scenario, i, &mut text),
            }
        });
        flush_explanations(&self.cluster, &mut self.explained, &mut text);
        if self.cluster.now < t {
            self.cluster.now = t;
        }
        for l in text.lines() {
            d.line(l);
        }
        watches
    }

    /// Prints explanations recorded outside [`Session::advance_to`] (by a
    /// docker command).
    fn flush(&mut self, d: &mut dyn Display) {
        let mut text = String::new();
        flush_explanations(&self.cluster, &mut self.explained, &mut text);
        for l in text.lines() {
            d.line(l);
        }
    }

    /// Runs a docker command as the CLI does: its output, then, unless
    /// detached, the converge progress while simulated time runs. Returns
    /// false when the command failed (docker's exit status 1).
    pub fn docker(&mut self, cmd: &DockerCommand, d: &mut dyn Display) -> bool {
        let before = self.cluster.state.services.len();
        let o = self.cluster.execute(cmd);
        self.cluster.propagate();
        for l in o.stdout.lines().chain(o.stderr.lines()) {
            d.line(l);
        }
        self.flush(d);
        let watches = if o.stderr.is_empty() || matches!(cmd, DockerCommand::ServiceScale { .. }) {
            watch_for(&self.cluster, cmd, before)
        } else {
            Vec::new()
        };
        let scale = matches!(cmd, DockerCommand::ServiceScale { .. });
        let mut ok = o.stderr.is_empty();
        for w in watches {
            let label = w.label().to_string();
            if let Some(err) = self.converge(w, d) {
                ok = false;
                if scale {
                    d.line(&format!("{label}: {err}"));
                } else {
                    d.line(&err);
                }
            }
        }
        ok
    }

    /// Polls until the service converges or the command fails; returns the
    /// error docker would print.
    pub fn converge(&mut self, mut w: Watch, d: &mut dyn Display) -> Option<String> {
        let start = self.cluster.now;
        if let Some(i) = &self.interrupt {
            i.store(false, Ordering::SeqCst);
        }
        loop {
            let mut msgs = Vec::new();
            let outcome = w.poll(&self.cluster, &mut msgs);
            d.progress(&msgs);
            match outcome {
                Outcome::Done => {
                    d.end_progress();
                    return None;
                }
                Outcome::Failed(e) => {
                    d.end_progress();
                    return Some(e);
                }
                Outcome::Continue => {}
            }
            let interrupted = self
                .interrupt
                .as_ref()
                .is_some_and(|i| i.swap(false, Ordering::SeqCst));
            let stuck = !w.converged()
                && (self.cluster.queue.is_empty() || self.cluster.now - start >= MAX_WAIT);
            if interrupted || stuck {
                // docker's own lines on Ctrl-C (printed only when not
                // converged).
                if !w.converged() {
                    d.progress(&[
                        Msg::plain("Operation continuing in background."),
                        Msg::plain(format!(
                            "Use `docker service ps {}` to check progress.",
                            w.label()
                        )),
                    ]);
                }
                d.end_progress();
                if stuck {
                    let why = if self.cluster.queue.is_empty() {
                        "nothing more will happen".to_string()
                    } else {
                        format!(
                            "not converged after {} of simulated time",
                            format_go_duration(MAX_WAIT)
                        )
                    };
                    d.line(&format!(
                        "# swarmsim: {why}; stopped waiting, as Ctrl-C would"
                    ));
                }
                return None;
            }
            if let Some(speed) = self.speed {
                std::thread::sleep(crate::limits::real_wait(POLL, speed));
            }
            let next = self.cluster.now + POLL;
            self.advance_to(next, d);
        }
    }
}

/// The services a docker command waits for (none when detached).
/// `services_before` is the number of services before the command ran.
pub fn watch_for(c: &Cluster, cmd: &DockerCommand, services_before: usize) -> Vec<Watch> {
    match cmd {
        DockerCommand::ServiceCreate { detach: false, .. } => {
            if c.state.services.len() > services_before {
                let sid = services_before;
                vec![Watch::new(sid, c.state.services[sid].id.clone())]
            } else {
                Vec::new()
            }
        }
        DockerCommand::ServiceUpdate {
            service,
            detach: false,
            ..
        }
        | DockerCommand::ServiceRollback {
            service,
            detach: false,
        } => c
            .state
            .find_service(service)
            .map(|sid| Watch::new(sid, service.clone()))
            .into_iter()
            .collect(),
        DockerCommand::ServiceScale {
            scales,
            detach: false,
        } => scales
            .iter()
            .filter_map(|(name, _)| {
                let sid = c.state.find_service(name)?;
                let replicated = c.state.services[sid].spec.replicas().is_some();
                replicated.then(|| Watch::new(sid, name.clone()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

//! A simulated cluster driven step by step: the scenario's own timeline
//! runs as the clock passes it, docker commands run at the current instant,
//! and a command that is not detached waits for its service to converge,
//! polling every 200 ms of simulated time as the docker CLI does.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::runner::{Driver, ItemOutput, Observer, RunConfig, RunOptions, flush_explanations};

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
    /// The scenario's cluster and its event loop.
    pub driver: Driver,
    explained: usize,
    /// Simulated seconds per real second while a command waits (None: as
    /// fast as possible).
    pub speed: Option<f64>,
    /// Set by Ctrl-C while a command waits.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// Collects what an advance of the session prints, and the converge
/// progress its timeline's docker commands wait for.
struct Collect<'a> {
    scenario: &'a Scenario,
    explained: &'a mut usize,
    text: String,
    /// Services before the current item ran.
    before: usize,
    watches: Vec<Watch>,
}

impl Observer for Collect<'_> {
    fn wants_text(&self) -> bool {
        true
    }
    fn before_item(&mut self, c: &Cluster, _item: usize) {
        flush_explanations(c, self.explained, &mut self.text);
        self.before = c.store.state.services.len();
    }
    fn after_item(&mut self, c: &Cluster, item: usize, out: &ItemOutput) {
        self.text.push_str(out.text);
        if let (Some(true), Action::Docker { command, .. }) =
            (out.docker_ok, &self.scenario.timeline[item].action)
        {
            self.watches.extend(watch_for(c, command, self.before));
        }
    }
}

impl Session {
    pub fn new(scenario: Rc<Scenario>, seed: Option<u64>, explain: bool) -> Session {
        let opts = RunOptions {
            seed,
            keep_log: true,
            explain,
            ..Default::default()
        };
        let config = RunConfig::new(&opts, &scenario);
        Session {
            driver: Driver::new(scenario, config, None),
            explained: 0,
            speed: None,
            interrupt: None,
        }
    }

    pub fn cluster(&self) -> &Cluster {
        &self.driver.cluster
    }

    pub fn now(&self) -> SimTime {
        self.driver.cluster.store.now
    }

    /// Turns explanations on or off from now on.
    pub fn set_explain(&mut self, on: bool) {
        self.driver.cluster.store.explain = on;
        self.explained = self.driver.cluster.store.explanations.len();
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
        let scenario = self.driver.scenario.clone();
        let mut collect = Collect {
            scenario: &scenario,
            explained: &mut self.explained,
            text: String::new(),
            before: 0,
            watches: Vec::new(),
        };
        self.driver.advance(t, &mut collect);
        let Collect {
            mut text, watches, ..
        } = collect;
        let c = &mut self.driver.cluster;
        flush_explanations(c, &mut self.explained, &mut text);
        if c.store.now < t {
            c.store.now = t;
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
        flush_explanations(&self.driver.cluster, &mut self.explained, &mut text);
        for l in text.lines() {
            d.line(l);
        }
    }

    /// Runs a docker command as the CLI does: its output, then, unless
    /// detached, the converge progress while simulated time runs. Returns
    /// false when the command failed (docker's exit status 1).
    pub fn docker(&mut self, cmd: &DockerCommand, d: &mut dyn Display) -> bool {
        let before = self.driver.cluster.store.state.services.len();
        let o = self.driver.cluster.execute(cmd);
        self.driver.cluster.propagate();
        for l in o.stdout.lines().chain(o.stderr.lines()) {
            d.line(l);
        }
        self.flush(d);
        let watches = if o.stderr.is_empty() || matches!(cmd, DockerCommand::ServiceScale { .. }) {
            watch_for(&self.driver.cluster, cmd, before)
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
        let start = self.driver.cluster.store.now;
        if let Some(i) = &self.interrupt {
            i.store(false, Ordering::SeqCst);
        }
        loop {
            let mut msgs = Vec::new();
            let outcome = w.poll(&self.driver.cluster, &mut msgs);
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
                && (self.driver.cluster.store.queue.is_empty()
                    || self.driver.cluster.store.now - start >= MAX_WAIT);
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
                    let why = if self.driver.cluster.store.queue.is_empty() {
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
            let next = self.driver.cluster.store.now + POLL;
            self.advance_to(next, d);
        }
    }
}

/// The services a docker command waits for (none when detached).
/// `services_before` is the number of services before the command ran.
pub fn watch_for(c: &Cluster, cmd: &DockerCommand, services_before: usize) -> Vec<Watch> {
    match cmd {
        DockerCommand::ServiceCreate { detach: false, .. } => {
            if c.store.state.services.len() > services_before {
                let sid = services_before;
                vec![Watch::new(sid, c.store.state.services[sid].id.clone())]
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
            .store
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
                let sid = c.store.state.find_service(name)?;
                let replicated = c.store.state.services[sid].spec.replicas().is_some();
                replicated.then(|| Watch::new(sid, name.clone()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

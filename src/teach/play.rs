//! `swarmsim run --play [--speed X]`: the scenario replayed at X times real
//! time, its transcript lines appearing as the clock passes them and
//! docker's converge progress drawn for every `docker service
//! create/update/rollback` of the timeline that is not detached.
//!
//! [`Play`] is an observer of the run (`runner::driver`): it stops the
//! clock every [`POLL`] of simulated time, as the docker CLI polls, so
//! `run --play` shows the same simulation as the transcript.

use std::rc::Rc;

use crate::runner::{ItemOutput, MAX_SIM_TIME, Observer, RunEnd, RunOptions, flush_explanations};
use crate::scenario::{Action, Scenario};
use crate::sim::time::SimTime;
use crate::swarm::cluster::Cluster;

use super::display::Display;
use super::progress::{Outcome, POLL, Watch};
use super::session::watch_for;

/// The `--play` display of a run.
pub struct Play<'d> {
    d: &'d mut dyn Display,
    scenario: Rc<Scenario>,
    until: Option<SimTime>,
    /// Simulated seconds per real second (None: no pauses).
    speed: Option<f64>,
    /// The next poll; after the last one, where play ended.
    t: SimTime,
    done: bool,
    /// Lines since the last poll.
    text: String,
    explained: usize,
    /// Services before the current timeline item ran.
    before: usize,
    /// Progress displays started since the last poll.
    new: Vec<Watch>,
    watch: Option<Watch>,
}

impl<'d> Play<'d> {
    /// Plays up to `until` (the run's: `--until`, else the scenario's), or
    /// until nothing is left to happen and no command waits.
    pub fn new(
        scenario: Rc<Scenario>,
        until: Option<SimTime>,
        speed: Option<f64>,
        d: &'d mut dyn Display,
    ) -> Play<'d> {
        let until = until.or(scenario.until);
        Play {
            d,
            scenario,
            until,
            speed,
            t: SimTime::ZERO,
            done: false,
            text: String::new(),
            explained: 0,
            before: 0,
            new: Vec::new(),
            watch: None,
        }
    }

    /// Where play ended.
    pub fn end(&self) -> SimTime {
        self.t
    }
}

impl Observer for Play<'_> {
    fn wants_text(&self) -> bool {
        true
    }
    fn before_item(&mut self, c: &Cluster, _item: usize) {
        flush_explanations(c, &mut self.explained, &mut self.text);
        self.before = c.store.state.services.len();
    }
    fn after_item(&mut self, c: &Cluster, item: usize, out: &ItemOutput) {
        self.text.push_str(out.text);
        if let (Some(true), Action::Docker { command, .. }) =
            (out.docker_ok, &self.scenario.timeline[item].action)
        {
            self.new.extend(watch_for(c, command, self.before));
        }
    }
    fn next_stop(&self) -> Option<SimTime> {
        (!self.done).then_some(self.t)
    }
    fn at_stop(&mut self, c: &Cluster, t: SimTime) {
        let d = &mut *self.d;
        flush_explanations(c, &mut self.explained, &mut self.text);
        for l in self.text.lines() {
            d.line(l);
        }
        self.text.clear();
        if let Some(w) = self.new.drain(..).next_back() {
            if let Some(old) = self.watch.take() {
                // One progress display at a time, as in one terminal.
                d.end_progress();
                d.line(&format!(
                    "# swarmsim: stopped showing the progress of `{}`",
                    old.label()
                ));
            }
            self.watch = Some(w);
        }
        if let Some(w) = self.watch.as_mut() {
            let mut msgs = Vec::new();
            let outcome = w.poll(c, &mut msgs);
            d.progress(&msgs);
            match outcome {
                Outcome::Continue => {}
                Outcome::Done => {
                    d.end_progress();
                    self.watch = None;
                }
                Outcome::Failed(e) => {
                    d.end_progress();
                    d.line(&e);
                    self.watch = None;
                }
            }
        }
        self.done = match self.until {
            Some(u) => t >= u,
            None => (c.store.queue.is_empty() && self.watch.is_none()) || t >= MAX_SIM_TIME,
        };
        if self.done {
            return;
        }
        if let Some(speed) = self.speed {
            self.d.pause(crate::limits::real_wait(POLL, speed));
        }
        self.t += POLL;
        if let Some(u) = self.until {
            self.t = self.t.min(u);
        }
    }
    fn at_end(&mut self, _c: &Cluster, _end: &RunEnd) {
        if self.watch.is_some() {
            self.d.end_progress();
        }
    }
}

/// Plays the scenario alone (see [`Play`]); `speed`: simulated seconds per
/// real second (None: no pauses). Returns the end time.
pub fn play(
    scenario: Rc<Scenario>,
    seed: Option<u64>,
    until: Option<SimTime>,
    explain: bool,
    speed: Option<f64>,
    d: &mut dyn Display,
) -> SimTime {
    let opts = RunOptions {
        seed,
        until,
        keep_log: true,
        explain,
        ..Default::default()
    };
    let mut p = Play::new(scenario.clone(), until, speed, d);
    crate::runner::run_observed(scenario, &opts, None, &mut p);
    p.end()
}

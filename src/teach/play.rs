//! `swarmsim run --play [--speed X]`: the scenario replayed at X times real
//! time, its transcript lines appearing as the clock passes them and
//! docker's converge progress drawn for every `docker service
//! create/update/rollback` of the timeline that is not detached.

use std::rc::Rc;

use crate::runner::MAX_SIM_TIME;
use crate::scenario::Scenario;
use crate::sim::time::SimTime;

use super::display::Display;
use super::progress::{Outcome, POLL, Watch};
use super::session::Session;

/// Plays the scenario up to `until` (or until nothing is left to happen and
/// no command waits). `speed`: simulated seconds per real second (None:
/// no pauses). Returns the end time.
pub fn play(
    scenario: Rc<Scenario>,
    seed: Option<u64>,
    until: Option<SimTime>,
    explain: bool,
    speed: Option<f64>,
    d: &mut dyn Display,
) -> SimTime {
    let until = until.or(scenario.until);
    let mut s = Session::new(scenario, seed, explain);
    let mut watch: Option<Watch> = None;
    let mut t = SimTime::ZERO;
    loop {
        let new = s.advance_collect(t, d);
        if let Some(w) = new.into_iter().last() {
            if let Some(old) = watch.take() {
                // One progress display at a time, as in one terminal.
                d.end_progress();
                d.line(&format!(
                    "# swarmsim: stopped showing the progress of `{}`",
                    old.label()
                ));
            }
            watch = Some(w);
        }
        if let Some(w) = watch.as_mut() {
            let mut msgs = Vec::new();
            let outcome = w.poll(&s.cluster, &mut msgs);
            d.progress(&msgs);
            match outcome {
                Outcome::Continue => {}
                Outcome::Done => {
                    d.end_progress();
                    watch = None;
                }
                Outcome::Failed(e) => {
                    d.end_progress();
                    d.line(&e);
                    watch = None;
                }
            }
        }
        let done = match until {
            Some(u) => t >= u,
            None => (s.cluster.queue.is_empty() && watch.is_none()) || t >= MAX_SIM_TIME,
        };
        if done {
            break;
        }
        if let Some(speed) = speed {
            std::thread::sleep(crate::limits::real_wait(POLL, speed));
        }
        t += POLL;
        if let Some(u) = until {
            t = t.min(u);
        }
    }
    if watch.is_some() {
        d.end_progress();
    }
    t
}

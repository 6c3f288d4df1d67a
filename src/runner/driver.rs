//! The one simulation driver: it builds the cluster of a scenario with a
//! run configuration (the seed resolved once), runs the event loop, and
//! tells its observers what happens. Every output of `swarmsim run` — the
//! transcript with `--explain`, `events.csv` (a [`ChangeSink`]), the
//! `--play` progress display, the `--timeline` picture — is an observer of
//! the same run, so any combination of them simulates the scenario once.
//! The shell (`teach/session.rs`) drives the same loop step by step.
//!
//! Observers are a type parameter, not trait objects: with none (`()`, a
//! batch run) every call is an empty inline function and the loop is the
//! bare event loop.

use std::rc::Rc;

use crate::report::results::Summary;
use crate::scenario::Scenario;
use crate::sim::time::SimTime;
use crate::swarm::cluster::Cluster;
use crate::swarm::store::ChangeSink;

use super::{MAX_EVENTS, MAX_SIM_TIME, RunOptions, run_item, run_item_silent};

/// What one run does, resolved from [`RunOptions`] and the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunConfig {
    /// `--seed`, else the scenario's `seed:`, else the default.
    pub seed: u64,
    /// `--until`, else the scenario's `until:`.
    pub until: Option<SimTime>,
    /// The last instant simulated: `until`, else [`MAX_SIM_TIME`].
    pub limit: SimTime,
    /// The event limit (`--max-events`, else [`MAX_EVENTS`]).
    pub max_events: u64,
    pub keep_log: bool,
    pub record_series: bool,
    pub explain: bool,
}

impl RunConfig {
    pub fn new(opts: &RunOptions, scenario: &Scenario) -> RunConfig {
        let until = opts.until.or(scenario.until);
        RunConfig {
            seed: super::resolve_seed(opts.seed, scenario),
            until,
            limit: until.unwrap_or(MAX_SIM_TIME),
            max_events: opts.max_events.unwrap_or(MAX_EVENTS),
            keep_log: opts.keep_log,
            record_series: opts.record_series,
            explain: opts.explain,
        }
    }
}

/// What a timeline item did.
pub struct ItemOutput<'a> {
    /// Its transcript lines; empty when no observer wants text.
    pub text: &'a str,
    /// For a `docker` item: whether the command succeeded (printed nothing
    /// on stderr). None for other items, and for the read-only docker
    /// queries skipped when no observer wants text.
    pub docker_ok: Option<bool>,
}

/// How a run ended, for [`Observer::at_end`].
pub struct RunEnd<'a> {
    /// The run's `until` (see [`RunConfig::until`]).
    pub until: Option<SimTime>,
    /// The end of the run: `until`, or the last event.
    pub end: SimTime,
    /// False when the event limit stopped the run.
    pub finished: bool,
    pub summary: &'a Summary,
}

/// Something that watches a run. Every method has an empty default.
///
/// Calls, in order: [`at_start`](Observer::at_start) before the first
/// event; for each timeline item [`before_item`](Observer::before_item)
/// then [`after_item`](Observer::after_item);
/// [`at_instant`](Observer::at_instant) after the last event of each
/// instant (only when [`INSTANTS`](Observer::INSTANTS));
/// [`at_stop`](Observer::at_stop) at each time the observer asked for with
/// [`next_stop`](Observer::next_stop), once every event up to it ran;
/// [`at_end`](Observer::at_end) once.
pub trait Observer {
    /// Whether `at_instant` is wanted (a constant, so that a run without
    /// such an observer pays nothing per event).
    const INSTANTS: bool = false;
    /// Whether timeline items must render their transcript lines. When no
    /// observer does, the read-only docker queries are not executed:
    /// rendering is a pure function of the cluster state.
    fn wants_text(&self) -> bool {
        false
    }
    fn at_start(&mut self, _c: &Cluster) {}
    fn before_item(&mut self, _c: &Cluster, _item: usize) {}
    fn after_item(&mut self, _c: &Cluster, _item: usize, _out: &ItemOutput) {}
    /// Every event of the instant `c.now` has run.
    fn at_instant(&mut self, _c: &Cluster) {}
    /// The next simulated time at which to call `at_stop`.
    fn next_stop(&self) -> Option<SimTime> {
        None
    }
    /// Every event up to `t` has run; the clock reads `t`. Must move
    /// `next_stop` past `t` (or to None).
    fn at_stop(&mut self, _c: &Cluster, _t: SimTime) {}
    fn at_end(&mut self, _c: &Cluster, _end: &RunEnd) {}
}

/// No observer (batch runs).
impl Observer for () {}

impl<O: Observer> Observer for Option<O> {
    const INSTANTS: bool = O::INSTANTS;
    fn wants_text(&self) -> bool {
        self.as_ref().is_some_and(|o| o.wants_text())
    }
    fn at_start(&mut self, c: &Cluster) {
        if let Some(o) = self {
            o.at_start(c)
        }
    }
    fn before_item(&mut self, c: &Cluster, item: usize) {
        if let Some(o) = self {
            o.before_item(c, item)
        }
    }
    fn after_item(&mut self, c: &Cluster, item: usize, out: &ItemOutput) {
        if let Some(o) = self {
            o.after_item(c, item, out)
        }
    }
    fn at_instant(&mut self, c: &Cluster) {
        if let Some(o) = self {
            o.at_instant(c)
        }
    }
    fn next_stop(&self) -> Option<SimTime> {
        self.as_ref().and_then(|o| o.next_stop())
    }
    fn at_stop(&mut self, c: &Cluster, t: SimTime) {
        if let Some(o) = self {
            o.at_stop(c, t)
        }
    }
    fn at_end(&mut self, c: &Cluster, end: &RunEnd) {
        if let Some(o) = self {
            o.at_end(c, end)
        }
    }
}

impl<O: Observer> Observer for &mut O {
    const INSTANTS: bool = O::INSTANTS;
    fn wants_text(&self) -> bool {
        (**self).wants_text()
    }
    fn at_start(&mut self, c: &Cluster) {
        (**self).at_start(c)
    }
    fn before_item(&mut self, c: &Cluster, item: usize) {
        (**self).before_item(c, item)
    }
    fn after_item(&mut self, c: &Cluster, item: usize, out: &ItemOutput) {
        (**self).after_item(c, item, out)
    }
    fn at_instant(&mut self, c: &Cluster) {
        (**self).at_instant(c)
    }
    fn next_stop(&self) -> Option<SimTime> {
        (**self).next_stop()
    }
    fn at_stop(&mut self, c: &Cluster, t: SimTime) {
        (**self).at_stop(c, t)
    }
    fn at_end(&mut self, c: &Cluster, end: &RunEnd) {
        (**self).at_end(c, end)
    }
}

/// Two observers: each call goes to the first, then the second.
impl<A: Observer, B: Observer> Observer for (A, B) {
    const INSTANTS: bool = A::INSTANTS || B::INSTANTS;
    fn wants_text(&self) -> bool {
        self.0.wants_text() || self.1.wants_text()
    }
    fn at_start(&mut self, c: &Cluster) {
        self.0.at_start(c);
        self.1.at_start(c);
    }
    fn before_item(&mut self, c: &Cluster, item: usize) {
        self.0.before_item(c, item);
        self.1.before_item(c, item);
    }
    fn after_item(&mut self, c: &Cluster, item: usize, out: &ItemOutput) {
        self.0.after_item(c, item, out);
        self.1.after_item(c, item, out);
    }
    fn at_instant(&mut self, c: &Cluster) {
        if A::INSTANTS {
            self.0.at_instant(c);
        }
        if B::INSTANTS {
            self.1.at_instant(c);
        }
    }
    fn next_stop(&self) -> Option<SimTime> {
        match (self.0.next_stop(), self.1.next_stop()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    fn at_stop(&mut self, c: &Cluster, t: SimTime) {
        if self.0.next_stop() == Some(t) {
            self.0.at_stop(c, t);
        }
        if self.1.next_stop() == Some(t) {
            self.1.at_stop(c, t);
        }
    }
    fn at_end(&mut self, c: &Cluster, end: &RunEnd) {
        self.0.at_end(c, end);
        self.1.at_end(c, end);
    }
}

/// A scenario's cluster and the loop that runs it.
pub struct Driver {
    pub cluster: Cluster,
    pub scenario: Rc<Scenario>,
    pub config: RunConfig,
    /// The transcript lines of the current timeline item.
    item_text: String,
}

impl Driver {
    /// Builds the cluster; `sink` sees every log record from the first on.
    pub fn new(
        scenario: Rc<Scenario>,
        config: RunConfig,
        sink: Option<Box<dyn ChangeSink>>,
    ) -> Driver {
        let mut cluster = Cluster::with_sink(scenario.clone(), config.seed, config.keep_log, sink);
        cluster.store.record_series = config.record_series;
        cluster.store.explain = config.explain;
        Driver {
            cluster,
            scenario,
            config,
            item_text: String::new(),
        }
    }

    /// Runs every event up to `limit` (inclusive), as long as the event
    /// limit allows; returns false when the event limit stopped it. Stops
    /// the observers asked for up to `limit` are served, also after the
    /// last event; the clock then reads `limit` if events remain after
    /// it, else the time of the last event.
    pub fn advance<O: Observer>(&mut self, limit: SimTime, obs: &mut O) -> bool {
        let Driver {
            cluster: c,
            scenario,
            config,
            item_text,
        } = self;
        let text = obs.wants_text();
        // An event ran (at `c.now`), so an instant may end here.
        let mut in_instant = false;
        loop {
            let next = c.store.queue.peek_time();
            if O::INSTANTS && in_instant && next.is_none_or(|t| t > c.store.now) {
                obs.at_instant(c);
            }
            let Some(t) = next.filter(|&t| t <= limit) else {
                let now = if next.is_some() { limit } else { c.store.now };
                while let Some(s) = obs.next_stop().filter(|&s| s <= limit) {
                    c.store.now = c.store.now.max(s);
                    obs.at_stop(c, s);
                }
                c.store.now = now;
                return true;
            };
            while let Some(s) = obs.next_stop().filter(|&s| s < t) {
                c.store.now = c.store.now.max(s);
                obs.at_stop(c, s);
            }
            if c.store.events_processed >= config.max_events {
                return false;
            }
            c.step(|c, i| {
                obs.before_item(c, i);
                item_text.clear();
                let docker_ok = if text {
                    run_item(c, scenario, i, item_text)
                } else {
                    run_item_silent(c, scenario, i)
                };
                obs.after_item(
                    c,
                    i,
                    &ItemOutput {
                        text: item_text,
                        docker_ok,
                    },
                );
            });
            in_instant = true;
        }
    }

    /// Runs the scenario to its end (`until`, the last event, or a safety
    /// limit) and tells the observers how it ended.
    pub fn run<O: Observer>(mut self, obs: &mut O) -> super::RunResult {
        obs.at_start(&self.cluster);
        let finished = self.advance(self.config.limit, obs);
        let ended = self.end(finished);
        self.finish(ended, obs)
    }

    /// Runs the scenario to its end with no observer and without the
    /// [`Summary`] (a batch reads what it needs from `self.cluster`, left
    /// in place): the same run as [`Driver::run`] gives, up to the summary.
    pub fn run_bare(&mut self) -> Ended {
        let finished = self.advance(self.config.limit, &mut ());
        self.end(finished)
    }

    /// Ends the run: sets the clock to the end, flushes the statistics and
    /// finishes the sink.
    fn end(&mut self, finished: bool) -> Ended {
        let Driver {
            cluster, config, ..
        } = self;
        let until = config.until;
        let stop = if !finished {
            Some(super::Stop::Events(config.max_events))
        } else if until.is_none() && !cluster.store.queue.is_empty() {
            Some(super::Stop::SimTime)
        } else {
            None
        };
        // Stopped by the event limit: the run ends at its last event, not
        // at `until`.
        let end = match until {
            Some(u) if finished => u,
            _ => cluster.store.now,
        };
        cluster.store.now = end;
        for service in 0..cluster.store.state.services.len() {
            cluster.store.stats_flush(service);
        }
        let sink_error = cluster.store.sink.take().and_then(|mut s| s.finish().err());
        Ended {
            end,
            finished,
            stop,
            sink_error,
        }
    }

    fn finish<O: Observer>(self, ended: Ended, obs: &mut O) -> super::RunResult {
        let Driver {
            cluster,
            scenario,
            config,
            ..
        } = self;
        let Ended {
            end,
            finished,
            stop,
            sink_error,
        } = ended;
        let hit_limit = stop.is_some();
        let summary = crate::report::results::summary(&cluster, &scenario.name, end, hit_limit);
        obs.at_end(
            &cluster,
            &RunEnd {
                until: config.until,
                end,
                finished,
                summary: &summary,
            },
        );
        super::RunResult {
            cluster,
            transcript: String::new(),
            summary,
            end,
            hit_limit,
            stop,
            sink_error,
        }
    }
}

/// How a run ended (see [`Driver::run_bare`]).
#[derive(Debug)]
pub struct Ended {
    /// The end of the run: `until`, or the last event.
    pub end: SimTime,
    /// False when the event limit stopped the run.
    pub finished: bool,
    /// Which safety limit stopped the run, if one did.
    pub stop: Option<super::Stop>,
    /// The error the sink met, if any.
    pub sink_error: Option<std::io::Error>,
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::rc::Rc;

    use super::*;
    use crate::runner::{RunOptions, run, run_observed};
    use crate::swarm::cluster::clusters_built;
    use crate::teach::display::Plain;
    use crate::teach::play::{Play, play};
    use crate::teach::timeline::{TimelineObserver, collect};

    fn scenario(name: &str) -> Rc<Scenario> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name);
        Rc::new(crate::scenario::load(&p).expect("bundled scenario"))
    }

    /// The transcript, the timeline and the play display observing one run
    /// give what each of them gives alone, from one cluster instead of
    /// three.
    #[test]
    fn observers_of_one_run_see_what_separate_runs_see() {
        for name in ["bad-image-rollback.yaml", "node-drain-and-loss.yaml"] {
            let sc = scenario(name);
            let opts = RunOptions {
                keep_log: true,
                explain: true,
                ..Default::default()
            };
            let before = clusters_built();
            let alone = run(sc.clone(), &opts);
            let tl_alone = collect(sc.clone(), None, None);
            let mut play_alone = Plain { out: Vec::new() };
            play(sc.clone(), None, None, true, None, &mut play_alone);
            assert_eq!(clusters_built() - before, 3);

            let before = clusters_built();
            let mut tl = TimelineObserver::new(sc.clone());
            let mut out = Plain { out: Vec::new() };
            let mut p = Play::new(sc.clone(), None, None, &mut out);
            let together = run_observed(sc.clone(), &opts, None, &mut (&mut tl, &mut p));
            drop(p);
            assert_eq!(clusters_built() - before, 1, "{name}: one simulation");

            assert_eq!(together.transcript, alone.transcript, "{name}");
            assert_eq!(together.events_csv(), alone.events_csv(), "{name}");
            assert_eq!(together.summary_json(), alone.summary_json(), "{name}");
            let tl = tl.timeline.expect("timeline");
            assert_eq!(tl.html(), tl_alone.html(), "{name}");
            assert!(!play_alone.out.is_empty());
            assert_eq!(
                String::from_utf8_lossy(&out.out),
                String::from_utf8_lossy(&play_alone.out),
                "{name}"
            );
        }
    }

    /// `run_bare` (what a batch run does) ends where `run` ends, with the
    /// same statistics and services, only without the summary; also when
    /// the event limit stops the run.
    #[test]
    fn run_bare_ends_as_run_does() {
        for name in [
            "bad-image-rollback.yaml",
            "node-drain-and-loss.yaml",
            "global-agents.yaml",
            "failure-ratio-continue.yaml",
        ] {
            let sc = scenario(name);
            for max_events in [None, Some(10)] {
                let opts = RunOptions {
                    seed: Some(3),
                    record_series: true,
                    skip_transcript: true,
                    max_events,
                    ..Default::default()
                };
                let full = run(sc.clone(), &opts);
                let mut d = Driver::new(sc.clone(), RunConfig::new(&opts, &sc), None);
                let ended = d.run_bare();
                let c = &d.cluster;
                assert_eq!(ended.end, full.end, "{name}");
                assert_eq!(ended.stop, full.stop, "{name}");
                assert_eq!(ended.stop.is_some(), full.hit_limit, "{name}");
                assert_eq!(
                    ended.finished,
                    !matches!(full.stop, Some(crate::runner::Stop::Events(_))),
                    "{name}"
                );
                // The low limit stops every one of these scenarios.
                assert_eq!(ended.finished, max_events.is_none(), "{name}");
                assert_eq!(
                    c.store.events_processed,
                    full.cluster.store.events_processed
                );
                assert_eq!(c.store.now, full.cluster.store.now, "{name}");
                assert_eq!(
                    format!("{:?}", c.store.stats),
                    format!("{:?}", full.cluster.store.stats),
                    "{name}"
                );
                assert_eq!(
                    format!("{:?}", c.store.state.services),
                    format!("{:?}", full.cluster.store.state.services),
                    "{name}"
                );
                assert_eq!(
                    crate::report::results::summary(c, &sc.name, ended.end, ended.stop.is_some()),
                    full.summary,
                    "{name}"
                );
            }
        }
    }

    /// `swarmsim run --play --timeline` builds one cluster.
    #[test]
    fn run_play_timeline_simulates_once() {
        use clap::Parser;
        let dir = std::env::temp_dir().join(format!("swarmsim-driver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join("redis-tutorial.yaml");
        let html = dir.join("t.html");
        let args = [
            "swarmsim".to_string(),
            "run".to_string(),
            path.display().to_string(),
            "--play".to_string(),
            "--speed".to_string(),
            "1000000000".to_string(),
            "--timeline".to_string(),
            html.display().to_string(),
            "--explain".to_string(),
            "--quiet".to_string(),
            "--out".to_string(),
            dir.join("r").display().to_string(),
        ];
        let cli = crate::cli::Cli::try_parse_from(args).expect("valid flags");
        let before = clusters_built();
        let status = crate::cli::run(cli).expect("runs");
        assert_eq!(clusters_built() - before, 1, "one simulation");
        assert_eq!(status, crate::cli::ExitStatus::Success);
        let page = std::fs::read_to_string(&html).expect("timeline written");
        assert!(page.contains("<svg"));
        assert!(dir.join("r").join("events.csv").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An observer that stops the clock (as `--play` does every 200 ms)
    /// does not change the run.
    #[test]
    fn stops_do_not_change_the_run() {
        /// Stops every 150 ms for ten minutes.
        struct Every(Option<SimTime>, u64);
        impl Observer for Every {
            fn next_stop(&self) -> Option<SimTime> {
                self.0
            }
            fn at_stop(&mut self, c: &Cluster, t: SimTime) {
                assert_eq!(c.store.now, t);
                self.0 = Some(t + crate::sim::time::millis(150))
                    .filter(|&t| t < SimTime::at(crate::sim::time::secs(600)));
                self.1 += 1;
            }
        }
        let sc = scenario("bad-image-rollback.yaml");
        let opts = RunOptions {
            keep_log: true,
            ..Default::default()
        };
        let plain = run(sc.clone(), &opts);
        let mut every = Every(Some(SimTime::ZERO), 0);
        let stopped = run_observed(sc, &opts, None, &mut every);
        assert!(every.1 > 100, "{} stops", every.1);
        assert_eq!(stopped.transcript, plain.transcript);
        assert_eq!(stopped.events_csv(), plain.events_csv());
        assert_eq!(stopped.end, plain.end);
    }
}

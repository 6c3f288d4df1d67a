//! Image latencies measured from a real run, as fixed image profiles for
//! the simulator (issue: "runs swarmsim on the same scenario with image
//! latencies measured from that run").
//!
//! - `pull`: PREPARING → READY (the engine creates the container there;
//!   the image is local, nothing is pulled).
//! - `start`: STARTING → RUNNING.
//! - `stop`: desired SHUTDOWN → observed SHUTDOWN, less `engine: dispatch`
//!   (the simulator delivers the desired state to the agent after that
//!   delay, then stops the container). The desired change has
//!   no timestamp of its own: it is taken as the creation of the task that
//!   replaced it in the same store batch (stop-first), when there is one,
//!   else as half a poll before the poll that saw it.
//! - `crash_after`: RUNNING → FAILED of tasks that exited on their own;
//!   `fail_on_start`: the share of such failures never seen RUNNING (when
//!   none was seen RUNNING, `fail_on_start` is 1 and `start` is STARTING →
//!   FAILED instead).
//! - `exit_code`: from `task: non-zero exit (N)`.
//! - With a healthcheck, STARTING → RUNNING is the container start plus
//!   the wait for the first healthy probe; the simulator adds one probe
//!   interval on top of `start`, so `start` is STARTING → RUNNING minus
//!   the task's interval (the time to healthy is shown in the table).
//! - `health_fail`: the share of health-checked tasks that the engine
//!   stopped as unhealthy (`dockerexec: unhealthy container`, or, for an
//!   image that exits 0 on SIGTERM, `Complete` without ever running nor
//!   being asked to stop) among those that either did that or became
//!   healthy. The simulator draws it per probe, so it is only exact at 0
//!   and 1. Such a task's STARTING → end, less `retries` probe
//!   intervals and the image's start latency, is a `stop` sample (the
//!   simulator stops an unhealthy container with the image's stop latency).
//!
//! Each value is the median over the tasks of that image; an image with no
//! sample of a kind takes the median over all images (or the scenario's
//! own value when no image has one).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::record::{POLL, Recording, TaskObs};
use crate::dist::Dist;
use crate::scenario::ImageProfiles;
use crate::sim::time::SimDuration;

/// Latency samples of one image, in seconds.
#[derive(Default, Debug)]
pub struct Samples {
    pub pull: Vec<f64>,
    pub start: Vec<f64>,
    pub stop: Vec<f64>,
    pub crash: Vec<f64>,
    /// STARTING → FAILED of failures never seen RUNNING.
    pub fail_start: Vec<f64>,
    /// STARTING → RUNNING of health-checked tasks (time to healthy).
    pub healthy: Vec<f64>,
    /// Health-checked tasks stopped as unhealthy.
    pub unhealthy: usize,
    /// STARTING → end of those, less `retries` probe intervals.
    pub unhealthy_stop: Vec<f64>,
    pub exit_code: Option<i64>,
    /// How containers stopped as unhealthy exited (0 when they ended
    /// `complete`).
    pub stop_exit_code: Option<i64>,
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

fn exit_code(err: &str) -> Option<i64> {
    let rest = err.split("non-zero exit (").nth(1)?;
    rest.split(')').next()?.parse().ok()
}

fn fixed(s: f64) -> Dist {
    Dist::Fixed(SimDuration::from_secs_f64(s.max(0.0)))
}

fn stop_requested(t: &TaskObs, all: &[&TaskObs]) -> Option<f64> {
    let seen = t.desired_time("shutdown")?;
    let half = POLL.as_secs_f64() / 2.0;
    let replacement = all
        .iter()
        .filter(|o| o.service == t.service && o.slot == t.slot && o.id != t.id)
        .map(|o| o.created)
        .filter(|&c| c <= seen && c >= seen - POLL.as_secs_f64() - 0.1)
        .fold(None, |a: Option<f64>, c| Some(a.map_or(c, |a| a.max(c))));
    Some(replacement.unwrap_or(seen - half))
}

/// Every sample of a recording, by image.
pub fn samples(rec: &Recording) -> BTreeMap<String, Samples> {
    let all: Vec<&TaskObs> = rec.order.iter().map(|id| &rec.tasks[id]).collect();
    let mut by_image: BTreeMap<String, Samples> = BTreeMap::new();
    for t in &all {
        let s = by_image.entry(t.image.clone()).or_default();
        if let (Some(p), Some(r)) = (t.state_time("preparing"), t.state_time("ready")) {
            s.pull.push(r - p);
        }
        let running = t.state_time("running");
        if let (Some(a), Some(b)) = (t.state_time("starting"), running) {
            match t.health {
                Some((i, _)) => {
                    s.healthy.push(b - a);
                    s.start.push((b - a - i).max(0.0));
                }
                None => s.start.push(b - a),
            }
        }
        let asked_before = |x: f64| t.desired_time("shutdown").is_some_and(|d| d < x);
        let ended = t.state_time("failed").or(t.state_time("complete"));
        if let (Some((i, retries)), Some(e), None) = (t.health, ended, running)
            && !asked_before(e)
            && (t.last.err.contains("unhealthy container") || t.last.state == "complete")
        {
            s.unhealthy += 1;
            s.stop_exit_code = if t.last.state == "complete" {
                Some(0)
            } else {
                exit_code(&t.last.err).or(s.stop_exit_code)
            };
            if let Some(a) = t.state_time("starting") {
                s.unhealthy_stop.push(e - a - retries as f64 * i);
            }
            continue;
        }
        if let (Some(req), Some(done), Some(_)) =
            (stop_requested(t, &all), t.state_time("shutdown"), running)
        {
            s.stop.push(done - req);
        }
        if let Some(f) = t.state_time("failed") {
            // Exited on its own: the orchestrator had not asked it to stop
            // (nor did the scenario kill it).
            if !asked_before(f) && !rec.killed.contains(&t.id) {
                match running {
                    Some(r) => s.crash.push(f - r),
                    None => {
                        let from = t.state_time("starting").unwrap_or(t.created);
                        s.fail_start.push(f - from);
                    }
                }
                s.exit_code = exit_code(&t.last.err).or(s.exit_code);
            }
        }
    }
    by_image
}

/// The measured profiles and a human-readable account of them.
pub fn measure(
    rec: &Recording,
    base: &ImageProfiles,
    engine: &crate::scenario::EngineProfile,
) -> (ImageProfiles, String) {
    // PREPARING → READY is the container create (`engine: create`, every
    // task) and the pull (once per node): the pull is what is left.
    let create = engine.create.as_secs_f64();
    let dispatch = engine.dispatch.as_secs_f64();
    let by_image = samples(rec);
    let pooled = |f: fn(&Samples) -> &Vec<f64>| {
        let v: Vec<f64> = by_image.values().flat_map(|s| f(s).clone()).collect();
        median(&v)
    };
    let pool_pull = pooled(|s| &s.pull);
    let pool_start = pooled(|s| &s.start);
    let pool_stop = pooled(|s| &s.stop);

    let mut out = base.clone();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "| image | pull (n) | start (n) | stop (n) | crash_after (n) | fail_on_start | exit_code | time to healthy (n) | health_fail |"
    );
    let _ = writeln!(
        text,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let show = |m: Option<f64>, n: usize| match m {
        Some(m) => format!("{m:.3}s ({n})"),
        None => "pooled".to_string(),
    };
    for (image, s) in &by_image {
        let mut p = base.profile(image).clone();
        if let Some(v) = median(&s.pull).or(pool_pull) {
            p.pull = fixed(v - create);
        }
        if let Some(v) = median(&s.start).or(pool_start) {
            p.start = fixed(v);
        }
        let start_s = median(&s.start).or(pool_start).unwrap_or(0.0);
        let unhealthy_stop: Vec<f64> = s
            .unhealthy_stop
            .iter()
            .map(|v| (v - start_s).max(0.0))
            .collect();
        // A stop the orchestrator asked for reaches the agent `engine:
        // dispatch` after the desired state changed, and the simulator adds
        // that itself: the stop is what is left. An unhealthy container is
        // stopped by the agent itself, with no dispatch in between.
        if let Some(v) = median(&s.stop) {
            p.stop = fixed(v - dispatch);
        } else if let Some(v) = median(&unhealthy_stop) {
            p.stop = fixed(v);
        } else if let Some(v) = pool_stop {
            p.stop = fixed(v - dispatch);
        }
        // A failure never seen RUNNING is a failed start (the agent reports
        // only the latest status, so a container that dies at once skips
        // RUNNING); one seen RUNNING a crash after running. An image that
        // does both (a program that exits at once is reported RUNNING in
        // some runs and not in others) fails its start with the share of
        // failures never seen running, and crashes otherwise.
        if s.crash.is_empty() && !s.fail_start.is_empty() {
            p.fail_on_start = 1.0;
            p.crash_after = None;
            if let Some(v) = median(&s.fail_start) {
                p.start = fixed(v);
            }
        } else if let Some(v) = median(&s.crash) {
            p.crash_after = Some(fixed(v));
            if !s.fail_start.is_empty() {
                let n = (s.fail_start.len() + s.crash.len()) as f64;
                p.fail_on_start = (s.fail_start.len() as f64 / n * 1000.0).round() / 1000.0;
            }
        }
        if let Some(c) = s.exit_code {
            p.exit_code = c;
        }
        if let Some(c) = s.stop_exit_code {
            p.stop_exit_code = c;
        }
        if s.unhealthy > 0 || !s.healthy.is_empty() {
            p.health_fail = s.unhealthy as f64 / (s.unhealthy + s.healthy.len()) as f64;
        }
        let _ = writeln!(
            text,
            "| {image} | {} | {} | {} | {} | {} | {} | {} | {} |",
            show(median(&s.pull), s.pull.len()),
            show(median(&s.start), s.start.len()),
            match median(&s.stop) {
                None if !unhealthy_stop.is_empty() => format!(
                    "{:.3}s ({}, unhealthy)",
                    median(&unhealthy_stop).unwrap_or(0.0),
                    unhealthy_stop.len()
                ),
                m => show(m, s.stop.len()),
            },
            median(&s.crash).map_or("-".to_string(), |m| format!("{m:.3}s ({})", s.crash.len())),
            p.fail_on_start,
            p.exit_code,
            median(&s.healthy).map_or("-".to_string(), |m| format!(
                "{m:.3}s ({})",
                s.healthy.len()
            )),
            p.health_fail
        );
        out.images.insert(image.clone(), p);
    }
    (out, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stop-first update step of a real run (results/conformance,
    /// failure-ratio-boundary, slot 4): the replacement is created at
    /// 4.027 s, when the old task's desired state became SHUTDOWN, and the
    /// old task is SHUTDOWN at 5.217 s. The simulator delivers the desired
    /// state `engine: dispatch` later and then stops the container, so the
    /// image's stop is 1.190 s less the dispatch.
    #[test]
    fn a_requested_stop_leaves_out_the_dispatch() {
        let task = |id: &str, image: &str, desired: &str, state: &str, t: f64, created: f64| {
            format!(
                r#"{{"kind":"task","service":"web","slot":4,"task_id":"{id}","image":"{image}","desired_state":"{desired}","state":"{state}","t":{t},"timestamp":{t},"created_at":{created},"err":"","message":"","health":null}}"#
            )
        };
        let trace = [
            task("old", "swarmsim-test:v1", "running", "starting", 0.2, 0.0),
            task("old", "swarmsim-test:v1", "running", "running", 0.33, 0.0),
            task("new", "swarmsim-test:v2", "ready", "pending", 4.027, 4.027),
            task("old", "swarmsim-test:v1", "shutdown", "running", 4.05, 0.0),
            task(
                "old",
                "swarmsim-test:v1",
                "shutdown",
                "shutdown",
                5.217,
                0.0,
            ),
        ]
        .join("\n");
        let rec = Recording::from_trace(&trace).unwrap();
        let engine = crate::scenario::EngineProfile {
            dispatch: SimDuration::from_nanos(112_000_000),
            ..Default::default()
        };
        let (p, _) = measure(&rec, &ImageProfiles::default(), &engine);
        assert_eq!(
            p.profile("swarmsim-test:v1").stop,
            Dist::Fixed(SimDuration::from_nanos(1_078_000_000))
        );
    }

    /// A program that exits at once is seen RUNNING in some runs and not in
    /// others: one of three failures here ran first, so the image fails
    /// its start two times in three and crashes 65 ms after running
    /// otherwise.
    #[test]
    fn an_image_that_fails_both_ways_is_a_mixture() {
        let line = |id: &str, state: &str, t: f64| {
            format!(
                r#"{{"kind":"task","service":"web","slot":1,"task_id":"{id}","image":"bad","desired_state":"running","state":"{state}","t":{t},"timestamp":{t},"created_at":0.0,"err":"task: non-zero exit (1)","message":"","health":null}}"#
            )
        };
        let trace = [
            line("a", "starting", 1.0),
            line("a", "failed", 1.2),
            line("b", "starting", 2.0),
            line("b", "failed", 2.2),
            line("c", "starting", 3.0),
            line("c", "running", 3.2),
            line("c", "failed", 3.265),
        ]
        .join("\n");
        let rec = Recording::from_trace(&trace).unwrap();
        let engine = crate::scenario::EngineProfile::default();
        let (p, _) = measure(&rec, &ImageProfiles::default(), &engine);
        let bad = p.profile("bad");
        assert_eq!(bad.fail_on_start, 0.667);
        assert_eq!(
            bad.crash_after,
            Some(Dist::Fixed(SimDuration::from_nanos(65_000_000)))
        );
        assert_eq!(bad.exit_code, 1);
    }
}

//! `swarmsim run --timeline FILE.svg|FILE.html`: one row per slot (per node
//! for global services), a bar per task coloured by its state and labelled
//! by its image, markers for update/rollback status changes and node
//! events. The HTML page embeds the SVG, the `docker service ps` rows of
//! every instant at which they change (rendered by the same Rust code as
//! the transcript), and a small script that shows `docker service ps` at
//! the instant the reader picks (slider, click on the chart, or `#t=75`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use serde::Serialize;

use crate::docker::duration::format_go_duration;
use crate::docker::format::ps::{PS_HEADER, PsOptions, ps_rows};
use crate::runner::{Observer, RunEnd, RunOptions};
use crate::scenario::Scenario;
use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::TaskState;
use crate::swarm::store::LogKind;

/// One stretch of a task in one state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub state: &'static str,
    pub from: SimTime,
    /// None: until the end of the chart.
    pub to: Option<SimTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub task_id: String,
    pub image: String,
    pub node: String,
    pub lane: usize,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `redis.2`, or `svc.<node>` for a global service.
    pub label: String,
    pub lanes: usize,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub time: SimTime,
    /// `update` or `node`.
    pub kind: &'static str,
    pub text: String,
}

/// `docker service ps <service>` rows at one instant, for each service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsSnapshot {
    pub time: SimTime,
    pub services: Vec<(String, Vec<PsRowData>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsRowData {
    /// The cells; CURRENT STATE (index 5) is empty.
    pub cells: Vec<String>,
    /// `Running`, `Shutdown`...
    pub state: &'static str,
    /// Since when, in nanoseconds of simulated time.
    pub since: SimTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub scenario: String,
    pub seed: u64,
    /// Where the picture ends (see [`Timeline::trim_end`]).
    pub end: SimTime,
    /// Changes after `end` that the picture leaves out, as text
    /// (`web.4 orphaned at 24h0m45.8s`).
    pub beyond: Vec<String>,
    pub rows: Vec<Row>,
    pub markers: Vec<Marker>,
    pub snapshots: Vec<PsSnapshot>,
}

/// Runs the scenario alone (same seed and end as `swarmsim run`) and
/// returns its timeline (see [`TimelineObserver`]).
pub fn collect(scenario: Rc<Scenario>, seed: Option<u64>, until: Option<SimTime>) -> Timeline {
    let opts = RunOptions {
        seed,
        until,
        keep_log: true,
        ..Default::default()
    };
    let mut obs = TimelineObserver::new(scenario.clone());
    crate::runner::run_observed(scenario, &opts, None, &mut obs);
    obs.timeline.expect("the run ended")
}

/// Records the timeline of a run: `docker service ps` at every instant
/// something happens, and, at the end, the task bars and markers from the
/// run's log (the run must keep its log).
pub struct TimelineObserver {
    scenario: Rc<Scenario>,
    snapshots: Vec<PsSnapshot>,
    /// The last instant at which events ran.
    last: SimTime,
    /// The picture, once the run ended.
    pub timeline: Option<Timeline>,
}

impl TimelineObserver {
    pub fn new(scenario: Rc<Scenario>) -> TimelineObserver {
        TimelineObserver {
            scenario,
            snapshots: Vec::new(),
            last: SimTime::ZERO,
            timeline: None,
        }
    }
}

impl Observer for TimelineObserver {
    const INSTANTS: bool = true;
    fn at_start(&mut self, c: &Cluster) {
        snapshot(c, &mut self.snapshots);
    }
    fn at_instant(&mut self, c: &Cluster) {
        snapshot(c, &mut self.snapshots);
        self.last = c.store.now;
    }
    fn at_end(&mut self, c: &Cluster, end: &RunEnd) {
        if !end.finished {
            // Stopped by the event limit, maybe inside an instant.
            snapshot(c, &mut self.snapshots);
            self.last = c.store.now;
        }
        let snapshots = std::mem::take(&mut self.snapshots);
        let last = self.last;
        let until = end.until;
        let mut t = build(
            c,
            &self.scenario.name,
            c.store.seed,
            until.unwrap_or(last).max(last),
            snapshots,
        );
        // An `until` is the reader's own window; without one the run ends
        // at its last event, which may be a timer a day later.
        if until.is_none() {
            let last_item = self
                .scenario
                .timeline
                .iter()
                .map(|i| i.at)
                .max()
                .unwrap_or_default();
            t.trim_end(last_item);
        }
        self.timeline = Some(t);
    }
}

fn snapshot(c: &Cluster, out: &mut Vec<PsSnapshot>) {
    let opts = PsOptions::default();
    let services = c
        .store
        .state
        .service_names
        .iter()
        .map(|(name, &sid)| {
            let rows = ps_rows(&c.store.state, &[sid], &opts)
                .into_iter()
                .map(|r| PsRowData {
                    cells: r.cells,
                    state: r.state.pretty(),
                    since: r.since,
                })
                .collect();
            (name.to_string(), rows)
        })
        .collect();
    let snap = PsSnapshot {
        time: c.store.now,
        services,
    };
    match out.last_mut() {
        Some(last) if last.services == snap.services => {}
        Some(last) if last.time == snap.time => *last = snap,
        _ => out.push(snap),
    }
}

fn build(c: &Cluster, name: &str, seed: u64, end: SimTime, snapshots: Vec<PsSnapshot>) -> Timeline {
    let st = &c.store.state;
    // Per task: its (time, state) changes from the log.
    let mut changes: BTreeMap<usize, Vec<(SimTime, TaskState)>> = BTreeMap::new();
    let mut markers = Vec::new();
    for rec in &c.store.log {
        match rec.kind {
            LogKind::Task => {
                if let (Some(t), Some(s)) = (rec.task, TaskState::from_api(rec.state)) {
                    let v = changes.entry(t).or_default();
                    if v.last().is_none_or(|&(_, last)| last != s) {
                        v.push((rec.time, s));
                    }
                }
            }
            LogKind::Update => {
                let svc = rec
                    .service
                    .map(|s| &*st.services[s].spec.name)
                    .unwrap_or("");
                markers.push(Marker {
                    time: rec.time,
                    kind: "update",
                    text: format!("{svc}: {}", rec.state),
                });
            }
            LogKind::Node => {
                // Every node is ready at time 0: not worth a marker.
                if rec.time == SimTime::ZERO && rec.state == "ready" {
                    continue;
                }
                let node = rec.node.map(|n| &*st.nodes[n].hostname).unwrap_or("");
                markers.push(Marker {
                    time: rec.time,
                    kind: "node",
                    text: format!("{node}: {}", rec.state),
                });
            }
        }
    }
    // Rows: (service, slot) or (service, node).
    let mut rows: BTreeMap<(usize, u64, String), Vec<Bar>> = BTreeMap::new();
    for (&tid, ch) in &changes {
        let t = &st.tasks[tid];
        let node = t
            .node
            .map(|n| st.nodes[n].hostname.to_string())
            .unwrap_or_default();
        let key = if t.slot > 0 {
            (t.service, t.slot, String::new())
        } else {
            (t.service, 0, node.clone())
        };
        let mut segments: Vec<Segment> = Vec::new();
        for (i, &(time, s)) in ch.iter().enumerate() {
            if s.is_terminal() {
                // The end: a thin mark of the terminal state.
                segments.push(Segment {
                    state: s.api_str(),
                    from: time,
                    to: Some(time),
                });
                break;
            }
            let to = ch.get(i + 1).map(|&(t2, _)| t2);
            segments.push(Segment {
                state: s.api_str(),
                from: time,
                to,
            });
        }
        rows.entry(key).or_default().push(Bar {
            task_id: t.id.to_string(),
            image: t.spec.image.clone(),
            node,
            lane: 0,
            segments,
        });
    }
    let rows = rows
        .into_iter()
        .map(|((service, slot, node), mut bars)| {
            let svc = &st.services[service].spec.name;
            let label = if slot > 0 {
                format!("{svc}.{slot}")
            } else {
                format!("{svc}.{node}")
            };
            // Lanes: overlapping tasks (start-first) get their own lane.
            let mut lane_ends: Vec<SimTime> = Vec::new();
            for b in &mut bars {
                let from = b.segments.first().map_or(SimTime::ZERO, |s| s.from);
                let to = b.segments.last().and_then(|s| s.to).unwrap_or(end);
                let lane = match lane_ends.iter().position(|&e| e <= from) {
                    Some(l) => l,
                    None => {
                        lane_ends.push(SimTime::ZERO);
                        lane_ends.len() - 1
                    }
                };
                lane_ends[lane] = to;
                b.lane = lane;
            }
            Row {
                label,
                lanes: lane_ends.len().max(1),
                bars,
            }
        })
        .collect();
    Timeline {
        scenario: name.to_string(),
        seed,
        end,
        beyond: Vec::new(),
        rows,
        markers,
        snapshots,
    }
}

/// Fill colour of a task state.
pub fn state_colour(state: &str) -> &'static str {
    match state {
        "new" | "pending" | "assigned" | "accepted" => "#90a4ae",
        "preparing" => "#fdd835",
        "ready" => "#ffb74d",
        "starting" => "#fb8c00",
        "running" => "#43a047",
        "complete" => "#1e88e5",
        "shutdown" => "#616161",
        "failed" => "#e53935",
        "rejected" => "#8e0000",
        _ => "#000000",
    }
}

const LEGEND: [&str; 9] = [
    "pending",
    "preparing",
    "ready",
    "starting",
    "running",
    "complete",
    "shutdown",
    "failed",
    "rejected",
];

const LEFT: f64 = 120.0;
const WIDTH: f64 = 960.0;
const LANE: f64 = 16.0;
const ROW_GAP: f64 = 6.0;
const TOP: f64 = 70.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A time label: Go's duration rounded to 0.1 s (`45.8s`, `1m30s`), as
/// docker shows durations; the chart is never read closer than that.
fn secs(t: SimTime) -> String {
    let tenth = SimDuration::from_millis(100);
    format_go_duration(tenth * ((t.since_start() + tenth / 2) / tenth))
}

/// A tick step giving about ten ticks.
fn tick_step(end: SimTime) -> SimDuration {
    let steps = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
    ];
    steps
        .iter()
        .map(|&x| SimDuration::from_secs(x))
        .find(|&st| end.since_start() / st <= 12)
        .unwrap_or(SimDuration::from_secs(21600))
}

impl Timeline {
    /// Ends the picture shortly after the last visible change instead of
    /// at the end of the run (used when no `until` is given): a lost node's tasks are orphaned 24 hours
    /// later (swarmkit's orphan timer), which would squeeze everything
    /// else into one pixel. The last change that counts is the latest task
    /// state change, update status or node event other than `orphaned`,
    /// or the scenario's last timeline item (`last_item`: its `docker
    /// service ps` should be on the picture); the end is that plus a
    /// twentieth (at least 2 s), rounded up to a tick. Later changes are
    /// listed under the chart.
    pub fn trim_end(&mut self, last_item: SimTime) {
        let mut last: SimTime = last_item;
        for row in &self.rows {
            for bar in &row.bars {
                for seg in &bar.segments {
                    if seg.state != "orphaned" {
                        last = last.max(seg.from);
                    }
                }
            }
        }
        for m in &self.markers {
            last = last.max(m.time);
        }
        let pad = (last.since_start() / 20).max(SimDuration::from_secs(2));
        let step = tick_step(last + pad);
        let end = SimTime::at(step * (last + pad).since_start().div_ceil(step));
        if end >= self.end {
            return;
        }
        self.end = end;
        for row in &self.rows {
            for bar in &row.bars {
                for seg in &bar.segments {
                    if seg.from > end {
                        self.beyond.push(format!(
                            "{} ({}, {}) {} at {}",
                            row.label,
                            bar.image,
                            if bar.node.is_empty() {
                                "no node"
                            } else {
                                &bar.node
                            },
                            seg.state,
                            secs(seg.from)
                        ));
                    }
                }
            }
        }
        for m in &self.markers {
            if m.time > end {
                self.beyond.push(format!("{} at {}", m.text, secs(m.time)));
            }
        }
    }

    fn x(&self, t: SimTime) -> f64 {
        let end = self.end.as_nanos().max(1) as f64;
        LEFT + WIDTH * (t.as_nanos() as f64 / end)
    }

    /// The chart as a standalone SVG document.
    pub fn svg(&self) -> String {
        let rows_h: f64 = self
            .rows
            .iter()
            .map(|r| r.lanes as f64 * LANE + ROW_GAP)
            .sum();
        let height = TOP + rows_h + 50.0 + 14.0 * self.beyond.len().min(5) as f64;
        let width = LEFT + WIDTH + 20.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" id="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="11" data-left="{LEFT}" data-width="{WIDTH}" data-end="{}">"#,
            self.end.as_nanos()
        );
        let _ = writeln!(
            s,
            r#"<text x="4" y="14" font-size="13" font-weight="bold">{} (seed {}), 0s to {}</text>"#,
            esc(&self.scenario),
            self.seed,
            secs(self.end)
        );
        // Legend.
        for (i, st) in LEGEND.iter().enumerate() {
            let x = 4.0 + i as f64 * 95.0;
            let _ = writeln!(
                s,
                r#"<rect class="legend" x="{x}" y="22" width="10" height="10" fill="{}"/><text x="{}" y="31">{st}</text>"#,
                state_colour(st),
                x + 13.0
            );
        }
        // Time axis.
        let axis_y = TOP + rows_h + 4.0;
        let step = tick_step(self.end);
        let mut t = SimTime::ZERO;
        while t <= self.end {
            let x = self.x(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}" stroke="#e0e0e0"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                axis_y + 14.0,
                secs(t)
            );
            t += step;
        }
        // Rows and bars.
        let mut y = TOP;
        for row in &self.rows {
            let h = row.lanes as f64 * LANE;
            let _ = writeln!(
                s,
                r#"<g class="row" data-label="{}"><text x="4" y="{:.1}">{}</text>"#,
                esc(&row.label),
                y + h / 2.0 + 4.0,
                esc(&row.label)
            );
            for bar in &row.bars {
                let by = y + bar.lane as f64 * LANE + 1.0;
                let _ = writeln!(
                    s,
                    r#"<g class="task" data-task="{}" data-image="{}">"#,
                    esc(&bar.task_id),
                    esc(&bar.image)
                );
                for seg in &bar.segments {
                    if seg.from > self.end {
                        continue;
                    }
                    let x1 = self.x(seg.from);
                    let w = match seg.to {
                        Some(to) if to == seg.from => 2.0,
                        Some(to) => (self.x(to.min(self.end)) - x1).max(0.5),
                        None => (self.x(self.end) - x1).max(0.5),
                    };
                    let _ = writeln!(
                        s,
                        r#"<rect class="seg" data-state="{st}" x="{x1:.2}" y="{by:.1}" width="{w:.2}" height="{:.1}" fill="{}"><title>{} {} on {}: {st} from {}</title></rect>"#,
                        LANE - 2.0,
                        state_colour(seg.state),
                        esc(&row.label),
                        esc(&bar.image),
                        esc(if bar.node.is_empty() {
                            "no node"
                        } else {
                            &bar.node
                        }),
                        secs(seg.from),
                        st = seg.state,
                    );
                }
                if let Some(first) = bar.segments.first() {
                    let _ = writeln!(
                        s,
                        r#"<text class="image" x="{:.1}" y="{:.1}" font-size="9">{}</text>"#,
                        self.x(first.from) + 2.0,
                        by + LANE - 5.0,
                        esc(&bar.image)
                    );
                }
                s.push_str("</g>\n");
            }
            s.push_str("</g>\n");
            y += h + ROW_GAP;
        }
        // Markers.
        for (i, m) in self
            .markers
            .iter()
            .filter(|m| m.time <= self.end)
            .enumerate()
        {
            let x = self.x(m.time);
            let colour = if m.kind == "node" {
                "#6a1b9a"
            } else {
                "#1565c0"
            };
            let ly = 44.0 + (i % 3) as f64 * 9.0;
            // Labels of markers near the right edge end at their line.
            let (tx, anchor) = if x > LEFT + WIDTH * 0.75 {
                (x - 2.0, "end")
            } else {
                (x + 2.0, "start")
            };
            let _ = writeln!(
                s,
                r#"<g class="marker" data-kind="{}"><line x1="{x:.1}" y1="{ly}" x2="{x:.1}" y2="{axis_y}" stroke="{colour}" stroke-dasharray="4 2"/><text x="{tx:.1}" y="{ly}" fill="{colour}" font-size="9" text-anchor="{anchor}">{} {}</text></g>"#,
                m.kind,
                secs(m.time),
                esc(&m.text)
            );
        }
        // What happens after the picture ends.
        let mut note_y = axis_y + 32.0;
        let shown = self.beyond.len().min(4);
        for b in &self.beyond[..shown] {
            let _ = writeln!(
                s,
                r##"<text class="beyond" x="4" y="{note_y:.1}" fill="#555">later, not drawn: {}</text>"##,
                esc(b)
            );
            note_y += 14.0;
        }
        if self.beyond.len() > shown {
            let _ = writeln!(
                s,
                r##"<text class="beyond" x="4" y="{note_y:.1}" fill="#555">and {} more later changes</text>"##,
                self.beyond.len() - shown
            );
        }
        let _ = writeln!(
            s,
            r##"<line id="cursor" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{axis_y}" stroke="#000" stroke-width="1.5" visibility="hidden"/>"##
        );
        s.push_str("</svg>\n");
        s
    }

    /// A self-contained HTML page (no network): the chart, and
    /// `docker service ps` at the instant the reader picks.
    pub fn html(&self) -> String {
        #[derive(Serialize)]
        struct Data<'a> {
            end: SimTime,
            header: [&'a str; 8],
            snapshots: &'a [PsSnapshot],
        }
        let data = serde_json::to_string(&Data {
            end: self.end,
            header: PS_HEADER,
            snapshots: &self.snapshots,
        })
        .expect("serializable")
        // Keep `</script>` and friends out of the script element.
        .replace('<', "\\u003c");
        let end_s = self.end.since_start().as_secs_f64();
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>swarmsim timeline: {title}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
#ps {{ font-family: monospace; font-size: 12px; white-space: pre; background: #f5f5f5; padding: .5em; }}
#chart {{ cursor: crosshair; }}
#t {{ width: {WIDTH}px; margin-left: {LEFT}px; }}
</style>
</head>
<body>
<h1>{title}</h1>
{svg}
<p>
<input type="range" id="t" min="0" max="{end_s}" step="0.1" value="0" aria-label="instant">
<br>
<label for="tn">Instant (seconds):</label>
<input type="number" id="tn" min="0" max="{end_s}" step="0.1" value="0">
<span>Click the chart, move the slider, or open this page with <code>#t=SECONDS</code>.</span>
</p>
<div id="ps"></div>
<script type="application/json" id="data">{data}</script>
<script>
{script}
</script>
</body>
</html>
"#,
            title = esc(&self.scenario),
            svg = self.svg(),
            script = SCRIPT,
        )
    }
}

/// Picks the instant and renders `docker service ps` at it: the last
/// snapshot at or before the instant, with CURRENT STATE computed as docker
/// does (`<State> <HumanDuration> ago`), laid out with docker's tabwriter
/// settings (minwidth 10, padding 3, last column unpadded).
const SCRIPT: &str = r#"
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const NS = 1e9;
function human(d) {
  const s = Math.floor(d / NS), m = Math.floor(d / (60 * NS));
  const h = Math.floor((d + 1800 * NS) / (3600 * NS));
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return s + " seconds";
  if (m === 1) return "About a minute";
  if (m < 60) return m + " minutes";
  if (h === 1) return "About an hour";
  if (h < 48) return h + " hours";
  if (h < 24 * 7 * 2) return Math.floor(h / 24) + " days";
  if (h < 24 * 30 * 2) return Math.floor(h / 24 / 7) + " weeks";
  if (h < 24 * 365 * 2) return Math.floor(h / 24 / 30) + " months";
  return Math.floor(d / (3600 * NS) / 24 / 365) + " years";
}
function width(s) { return Array.from(s).length; }
function table(rows) {
  const n = rows[0].length, w = [];
  for (let c = 0; c < n - 1; c++) {
    w[c] = 10;
    for (const r of rows) w[c] = Math.max(w[c], width(r[c]) + 3);
  }
  return rows.map(r => r.map((cell, c) => c < n - 1 ? cell + " ".repeat(w[c] - width(cell)) : cell).join("")).join("\n") + "\n";
}
function fmt(t) {
  if (t === 0) return "0s";
  const s = t / NS, m = Math.floor(s / 60), rest = +(s - m * 60).toFixed(3);
  return (m > 0 ? m + "m" : "") + rest + "s";
}
function psAt(t) {
  let snap = null;
  // What a `docker service ps` of the scenario's timeline at t prints:
  // timeline commands run before the simulation's own events of that
  // instant, so the state after everything strictly before t (at 0: the
  // state after time 0).
  for (const s of DATA.snapshots) { if (s.time < t || s.time === 0) snap = s; else break; }
  let out = "";
  if (!snap) return out;
  for (const [name, rows] of snap.services) {
    out += "$ docker service ps " + name + "\n";
    const cells = [DATA.header.slice()];
    for (const r of rows) {
      const c = r.cells.slice();
      c[5] = r.state + " " + human(Math.max(0, t - r.since)).toLowerCase() + " ago";
      cells.push(c);
    }
    out += table(cells) + "\n";
  }
  return out;
}
const ps = document.getElementById("ps");
const slider = document.getElementById("t"), num = document.getElementById("tn");
const chart = document.getElementById("chart"), cursor = document.getElementById("cursor");
const left = +chart.dataset.left, cw = +chart.dataset.width, end = +chart.dataset.end;
function show(sec) {
  const t = Math.min(end, Math.max(0, Math.round(sec * 1000) * 1e6));
  slider.value = t / NS; num.value = t / NS;
  const x = left + cw * (end > 0 ? t / end : 0);
  cursor.setAttribute("x1", x); cursor.setAttribute("x2", x);
  cursor.setAttribute("visibility", "visible");
  ps.textContent = "[" + fmt(t) + "]\n" + psAt(t);
  ps.dataset.t = String(t / NS);
  return t / NS;
}
// The instant goes into the URL, so that a link shows the same table.
function pick(sec) {
  const s = show(sec);
  history.replaceState(null, "", location.pathname + location.search + "\x23t=" + s);
}
function fromHash() {
  const m = /t=([0-9.]+)/.exec(location.hash);
  show(m ? parseFloat(m[1]) : 0);
}
slider.addEventListener("input", () => pick(+slider.value));
num.addEventListener("change", () => pick(+num.value));
chart.addEventListener("click", ev => {
  const r = chart.getBoundingClientRect();
  const x = (ev.clientX - r.left) * (chart.viewBox.baseVal.width / r.width);
  pick(Math.max(0, (x - left) / cw * end / NS));
});
window.addEventListener("hashchange", fromHash);
fromHash();
"#;

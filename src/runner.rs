//! One simulation run of a scenario: the timeline drives the cluster, the
//! transcript echoes each action and what docker prints for it.

use std::fmt::Write as _;
use std::rc::Rc;

pub mod driver;

pub use driver::{Driver, Ended, ItemOutput, Observer, RunConfig, RunEnd};

use crate::docker::duration::format_go_duration;
use crate::report::results::{Summary, events_csv, summary_json};
use crate::scenario::{Action, NodeChange, Scenario};
use crate::sim::time::{SimTime, secs};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::TaskState;
use crate::swarm::store::ChangeSink;

/// Default seed when neither the scenario nor `--seed` gives one.
pub const DEFAULT_SEED: u64 = 1;
/// Safety limits (docs/limits.md): a crash-looping service never runs
/// out of events, and with zero latencies it makes them without moving
/// the clock. Every run stops after `MAX_EVENTS` events (`--max-events`
/// raises it); memory grows with the events processed, so the limit also
/// bounds it. A run without `until` also stops at `MAX_SIM_TIME`.
pub const MAX_EVENTS: u64 = 1_000_000;
pub const MAX_SIM_TIME: SimTime = SimTime::at(secs(7 * 24 * 3600));

/// Which safety limit stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The event limit (this many events), at the time of the last event.
    Events(u64),
    /// [`MAX_SIM_TIME`], in a run without `until`.
    SimTime,
}

impl Stop {
    /// The warning printed when a run stops at this limit.
    pub fn warning(self) -> String {
        match self {
            Stop::Events(n) => format!(
                "warning: the run stopped at the safety limit of {n} events; partial results were written (end_time_s is the last event). Raise it with --max-events N, or end the run sooner with `until:` or --until (see docs/limits.md)"
            ),
            Stop::SimTime => format!(
                "warning: the run stopped at the safety limit of {} simulated time; set `until:` in the scenario or --until (see docs/limits.md)",
                format_go_duration(MAX_SIM_TIME)
            ),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub seed: Option<u64>,
    pub until: Option<SimTime>,
    /// Keep the per-event log (events.csv); batch runs turn it off.
    pub keep_log: bool,
    /// Record each service's running count over time
    /// (`ServiceStats::running_series`).
    pub record_series: bool,
    /// Explain every decision in the transcript (`# ...` lines).
    pub explain: bool,
    /// Do not render the transcript (batch runs): read-only docker commands
    /// (`service ps`, `service inspect`, `service ls`, `node ls`) are not
    /// executed and nothing is echoed. Rendering is a pure function of the
    /// cluster state, so skipping it changes no result; `transcript` is
    /// then empty.
    pub skip_transcript: bool,
    /// The event limit (default [`MAX_EVENTS`]).
    pub max_events: Option<u64>,
}

pub struct RunResult {
    pub cluster: Cluster,
    pub transcript: String,
    pub summary: Summary,
    pub end: SimTime,
    pub hit_limit: bool,
    /// Which limit, when `hit_limit`.
    pub stop: Option<Stop>,
    /// The error the sink met, if any (e.g. a full disk for events.csv).
    pub sink_error: Option<std::io::Error>,
}

impl RunResult {
    pub fn events_csv(&self) -> String {
        events_csv(&self.cluster)
    }
    pub fn summary_json(&self) -> String {
        summary_json(&self.summary)
    }
    /// The summary lines that end the transcript.
    pub fn summary_text(&self) -> String {
        summary_text(&self.summary, self.end)
    }
}

/// The seed of a run: the `--seed` flag, else the scenario's `seed:`,
/// else [`DEFAULT_SEED`]. Every command resolves it here.
pub fn resolve_seed(flag: Option<u64>, scenario: &Scenario) -> u64 {
    flag.or(scenario.seed).unwrap_or(DEFAULT_SEED)
}

/// Runs a scenario to its end.
pub fn run(scenario: Rc<Scenario>, opts: &RunOptions) -> RunResult {
    run_with_sink(scenario, opts, None)
}

/// Runs a scenario to its end, handing every log record to `sink` as it
/// happens (e.g. streaming `events.csv`); the sink is finished at the end
/// (see [`RunResult::sink_error`]).
pub fn run_with_sink(
    scenario: Rc<Scenario>,
    opts: &RunOptions,
    sink: Option<Box<dyn ChangeSink>>,
) -> RunResult {
    run_observed(scenario, opts, sink, &mut ())
}

/// Runs a scenario once with the [`Transcript`] (unless
/// `opts.skip_transcript`) and `obs` watching: every output of the run
/// comes from this one simulation.
pub fn run_observed<O: Observer>(
    scenario: Rc<Scenario>,
    opts: &RunOptions,
    sink: Option<Box<dyn ChangeSink>>,
    obs: &mut O,
) -> RunResult {
    let config = RunConfig::new(opts, &scenario);
    let mut observers = ((!opts.skip_transcript).then(Transcript::default), obs);
    let mut result = Driver::new(scenario, config, sink).run(&mut observers);
    if let Some(t) = observers.0 {
        result.transcript = t.text;
    }
    result
}

/// The transcript of a run: each timeline item and what docker printed
/// for it, the `--explain` lines as they are recorded, and the summary.
#[derive(Debug, Default)]
pub struct Transcript {
    pub text: String,
    explained: usize,
}

impl Observer for Transcript {
    fn wants_text(&self) -> bool {
        true
    }
    fn before_item(&mut self, c: &Cluster, _item: usize) {
        flush_explanations(c, &mut self.explained, &mut self.text);
    }
    fn after_item(&mut self, _c: &Cluster, _item: usize, out: &ItemOutput) {
        self.text.push_str(out.text);
    }
    fn at_end(&mut self, c: &Cluster, end: &RunEnd) {
        flush_explanations(c, &mut self.explained, &mut self.text);
        self.text.push_str(&summary_text(end.summary, end.end));
    }
}

/// Appends the explanations recorded since the last call as
/// `[<time>] # <text>` lines.
pub(crate) fn flush_explanations(c: &Cluster, done: &mut usize, out: &mut String) {
    for e in &c.store.explanations[*done..] {
        let _ = writeln!(out, "[{}] # {}", format_go_duration(e.time), e.text);
    }
    *done = c.store.explanations.len();
}

/// Executes timeline item `i` like [`run_item`], without the transcript:
/// the read-only queries, whose only effect is their output, are skipped.
fn run_item_silent(c: &mut Cluster, scenario: &Scenario, i: usize) -> Option<bool> {
    use crate::docker::cli::DockerCommand as D;
    match &scenario.timeline[i].action {
        Action::Docker {
            command: D::ServicePs { .. } | D::ServiceInspect { .. } | D::ServiceLs | D::NodeLs,
            ..
        } => None,
        // What `run_item` does for a docker item, without its lines: the
        // command's effect and whether it succeeded.
        Action::Docker { command, .. } => Some(c.execute_quiet(command)),
        _ => {
            let mut sink = String::new();
            run_item(c, scenario, i, &mut sink)
        }
    }
}

/// Executes timeline item `i` and appends its transcript lines. For a
/// `docker` item, returns whether the command succeeded (printed nothing
/// on stderr).
pub(crate) fn run_item(
    c: &mut Cluster,
    scenario: &Scenario,
    i: usize,
    out: &mut String,
) -> Option<bool> {
    let item = &scenario.timeline[i];
    let stamp = format!("[{}]", format_go_duration(c.store.now));
    match &item.action {
        Action::Docker { text, command } => {
            let _ = writeln!(out, "{stamp} $ {text}");
            let o = c.execute(command);
            out.push_str(&o.stdout);
            out.push_str(&o.stderr);
            return Some(o.stderr.is_empty());
        }
        Action::Node { name, change } => {
            let Some(node) = c.store.state.find_node(name) else {
                let _ = writeln!(out, "{stamp} # node {name}: no such node");
                return None;
            };
            let joining = matches!(change, NodeChange::Join);
            if !joining && !c.store.state.nodes[node].in_swarm {
                let _ = writeln!(out, "{stamp} # node {name} is not in the swarm");
                return None;
            }
            match change {
                NodeChange::Down => {
                    let _ = writeln!(out, "{stamp} # node {name} stops (machine down)");
                    c.node_stop(node);
                }
                NodeChange::Up => {
                    let _ = writeln!(out, "{stamp} # node {name} starts again");
                    c.node_start(node);
                }
                NodeChange::Join => {
                    let _ = writeln!(
                        out,
                        "{stamp} # node {name} joins the swarm (docker swarm join)"
                    );
                    if let Err(e) = c.node_join(node) {
                        let _ = writeln!(out, "# {e}");
                    }
                }
                NodeChange::Leave => {
                    let _ = writeln!(
                        out,
                        "{stamp} # node {name} leaves the swarm (docker swarm leave)"
                    );
                    if let Err(e) = c.node_leave(node) {
                        let _ = writeln!(out, "# {e}");
                    }
                }
                NodeChange::Availability(a) => {
                    let _ = writeln!(
                        out,
                        "{stamp} $ docker node update --availability {} {name}",
                        a.as_str()
                    );
                    let cmd = crate::docker::cli::DockerCommand::NodeUpdate {
                        node: name.clone(),
                        availability: Some(*a),
                        label_add: Vec::new(),
                        label_rm: Vec::new(),
                    };
                    let o = c.execute(&cmd);
                    out.push_str(&o.stdout);
                    out.push_str(&o.stderr);
                }
            }
        }
        Action::Kill { task, exit_code } => {
            let _ = writeln!(out, "{stamp} # kill {task} (exit code {exit_code})");
            match find_running_task(c, task) {
                Some(t) => {
                    c.agent_kill(t, *exit_code);
                }
                None => {
                    let _ = writeln!(out, "# {task} has no running task");
                }
            }
        }
    }
    None
}

/// The running (or starting) task of `service.slot`, or of a global
/// service's `service.node` (node name).
fn find_running_task(c: &Cluster, name: &str) -> Option<usize> {
    let (service, slot) = name.rsplit_once('.')?;
    let sid = c.store.state.find_service(service)?;
    let tasks = match slot.parse::<u64>() {
        Ok(slot) => c.store.state.slots.get(&(sid, slot))?,
        Err(_) => {
            let node = c.store.state.find_node(slot)?;
            c.store.state.node_tasks.get(&(sid, node))?
        }
    };
    tasks.iter().copied().find(|&t| {
        let task = &c.store.state.tasks[t];
        matches!(task.state, TaskState::Running | TaskState::Starting)
            && task.desired <= TaskState::Running
    })
}

/// The closing lines of the transcript.
pub fn summary_text(s: &Summary, end: SimTime) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "[{}] end of simulation ({} events{})",
        format_go_duration(end),
        s.events,
        if s.hit_safety_limit {
            ", stopped at the safety limit"
        } else {
            ""
        }
    );
    for (name, svc) in &s.services {
        let state = svc.update_state.as_deref().unwrap_or("none");
        let _ = writeln!(
            out,
            "{name}: {}/{} running, image {}, update state {state}",
            svc.running_replicas, svc.desired_replicas, svc.image
        );
        for u in &svc.updates {
            let ended = match u.ended_s {
                Some(e) => format!("ended {} after {}", fmt_secs(e), fmt_secs(e - u.started_s)),
                None => "still running".to_string(),
            };
            let _ = writeln!(
                out,
                "  {:<8} started {}, {ended}: {}",
                u.kind,
                fmt_secs(u.started_s),
                u.state
            );
        }
        if let Some(m) = svc.min_running_during_updates {
            let _ = writeln!(out, "  min running during updates: {m}");
        }
        let _ = writeln!(out, "  task failures: {}", svc.task_failures);
    }
    out
}

fn fmt_secs(s: f64) -> String {
    let ns = (s * 1e9).round() as i64;
    format_go_duration(ns)
}

//! Docker's converge progress (`docker service create/update/rollback/scale`
//! without `--detach`), as a function of the simulated cluster at each poll
//! instant.
//!
//! Mirrors docker/cli `cli/command/service/progress/progress.go`
//! (`ServiceProgress`, `replicatedProgressUpdater`, `globalProgressUpdater`,
//! `writeOverallProgress`, `truncError`, `numberedStates`) and the rendering
//! of moby's `jsonmessage` (`docs/swarm-rules.md#docker-cli-converge-progress`). A
//! [`Watch`] is the CLI's loop
//! state; [`Watch::poll`] is one iteration of its 200 ms loop and emits the
//! progress messages the CLI would write. The engine is not touched: the
//! caller advances the cluster by [`POLL`] between polls.
//!
//! One deliberate difference: docker walks its per-slot map in Go's random
//! map order, so slot lines are numbered in order of first appearance; here
//! the walk is in slot order, so a transcript is deterministic.

use std::collections::BTreeMap;

use crate::sim::time::{SimDuration, SimTime, millis};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::{DEFAULT_MONITOR, NodeStatus, ServiceId, ServiceMode, Task, TaskState};

/// The CLI polls the service every 200 ms.
pub const POLL: SimDuration = millis(200);
/// `maxProgressBars`: no per-slot lines above this many replicas.
pub const MAX_PROGRESS_BARS: u64 = 20;
/// `maxProgress`: the bar's total (running is state 9).
pub const MAX_PROGRESS: u64 = 9;
/// `longestState`: state names are left-justified to this width.
const LONGEST_STATE: usize = 9;

/// One message the CLI writes to its progress output (`progress.Progress`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Line ID (`overall progress`, `1/3`, `verify`, `rollback`, a node
    /// ID); empty for a plain message.
    pub id: String,
    pub text: String,
    /// Progress value out of [`MAX_PROGRESS`] (the per-slot state lines);
    /// 0 when the message carries none.
    pub current: u64,
    /// A `Message` (status) rather than an `Action`: it is not rewritten in
    /// place on a terminal.
    pub status: bool,
}

impl Msg {
    fn action(id: impl Into<String>, text: impl Into<String>) -> Msg {
        Msg {
            id: id.into(),
            text: text.into(),
            current: 0,
            status: false,
        }
    }
    /// A plain line with no ID (`Operation continuing in background.`).
    pub fn plain(text: impl Into<String>) -> Msg {
        Msg::status("", text)
    }
    fn status(id: impl Into<String>, text: impl Into<String>) -> Msg {
        Msg {
            status: true,
            ..Msg::action(id, text)
        }
    }
}

/// How a poll ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Keep polling after [`POLL`].
    Continue,
    /// The command returns successfully.
    Done,
    /// The command fails with this error (docker prints it on stderr and
    /// exits 1), e.g. `service update paused: ...`.
    Failed(String),
}

/// `numberedStates`; 0 for states not in the list (remove, orphaned).
pub fn numbered_state(s: TaskState) -> u64 {
    match s {
        TaskState::New => 1,
        TaskState::Pending => 3,
        TaskState::Assigned => 4,
        TaskState::Accepted => 5,
        TaskState::Preparing => 6,
        TaskState::Ready => 7,
        TaskState::Starting => 8,
        TaskState::Running => 9,
        TaskState::Complete => 10,
        TaskState::Shutdown => 11,
        TaskState::Failed => 12,
        TaskState::Rejected => 13,
        TaskState::Remove | TaskState::Orphaned => 0,
    }
}

/// The CLI's `terminalState`: numbered past running.
fn terminal(s: TaskState) -> bool {
    numbered_state(s) > numbered_state(TaskState::Running)
}

/// `truncError`: newlines become spaces, cut to 75 bytes (74 + `…`).
pub fn trunc_error(err: &str) -> String {
    let e = err.replace('\n', " ");
    if e.len() > 75 {
        let mut cut = 74;
        while !e.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &e[..cut])
    } else {
        e
    }
}

/// The bar of a progress value on a terminal wider than 110 columns
/// (`JSONProgress.String`): `[===>   ] `.
pub fn bar(current: u64) -> String {
    let p = ((current * 100 / MAX_PROGRESS) / 2).min(50) as usize;
    format!("[{}>{}] ", "=".repeat(p), " ".repeat(50 - p))
}

#[derive(Debug, Clone)]
enum Updater {
    Replicated {
        initialized: bool,
        done: bool,
        /// Real slot → line number, in order of first appearance.
        slot_map: BTreeMap<u64, u64>,
    },
    Global {
        initialized: bool,
        done: bool,
    },
}

/// The state of one `docker service ...` command waiting for its service
/// to converge (`ServiceProgress`).
#[derive(Debug, Clone)]
pub struct Watch {
    service: ServiceId,
    /// The service as passed on the command line (name, or the new ID for
    /// `create`): used in `verify: Service <x> converged`.
    label: String,
    updater: Option<Updater>,
    rollback: bool,
    converged: bool,
    converged_at: Option<SimTime>,
    /// `rollback: rollback completed`, printed after the verify line.
    message: Option<Msg>,
}

impl Watch {
    pub fn new(service: ServiceId, label: impl Into<String>) -> Watch {
        Watch {
            service,
            label: label.into(),
            updater: None,
            rollback: false,
            converged: false,
            converged_at: None,
            message: None,
        }
    }

    /// The service as passed on the command line.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the last poll saw the service converged.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// One iteration of the CLI's loop at `c.now`; appends the messages
    /// written to `out`.
    pub fn poll(&mut self, c: &Cluster, out: &mut Vec<Msg>) -> Outcome {
        let now = c.store.now;
        let Some(svc) = c
            .store
            .state
            .services
            .get(self.service)
            .filter(|s| !s.removed)
        else {
            return Outcome::Failed(format!("Error: No such service: {}", self.label));
        };
        // The CLI inspects without defaults: a monitor of 0 is "unset".
        let monitor = svc
            .spec
            .update_config
            .map(|u| u.monitor)
            .filter(|m| !m.is_zero())
            .unwrap_or(DEFAULT_MONITOR);
        if self.updater.is_none() {
            self.updater = Some(match svc.spec.mode {
                ServiceMode::Replicated { .. } => Updater::Replicated {
                    initialized: false,
                    done: false,
                    slot_map: BTreeMap::new(),
                },
                ServiceMode::Global => Updater::Global {
                    initialized: false,
                    done: false,
                },
            });
        }
        if let Some(status) = &svc.update_status {
            use crate::swarm::model::UpdateState as U;
            match status.state {
                U::Updating => self.rollback = false,
                U::Completed => {
                    if !self.converged {
                        return Outcome::Done;
                    }
                }
                U::Paused => {
                    return Outcome::Failed(format!("service update paused: {}", status.message));
                }
                U::RollbackStarted => {
                    if !self.rollback && !status.message.is_empty() {
                        out.push(Msg::action("rollback", status.message.clone()));
                    }
                    self.rollback = true;
                }
                U::RollbackPaused => {
                    return Outcome::Failed(format!("service rollback paused: {}", status.message));
                }
                U::RollbackCompleted => {
                    if !self.converged {
                        self.message = Some(Msg::status("rollback", status.message.clone()));
                    }
                    self.rollback = true;
                }
            }
        }
        if let Some(at) = self.converged_at
            && self.converged
            && now - at >= monitor
        {
            out.push(Msg::action(
                "verify",
                format!("Service {} converged", self.label),
            ));
            if let Some(m) = self.message.take() {
                out.push(m);
            }
            return Outcome::Done;
        }

        // Tasks filtered with `_up-to-date` (not dirty against the current
        // spec), and the nodes that are not down.
        let tasks: Vec<&Task> = c
            .store
            .state
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.service == self.service && !t.deleted)
            .filter(|&(i, _)| !c.is_task_dirty(self.service, i))
            .map(|(_, t)| t)
            .collect();
        let active = |t: &Task| {
            t.node
                .is_none_or(|n| c.store.state.nodes[n].status != NodeStatus::Down)
        };
        let rollback = self.rollback;
        let converged = match self.updater.as_mut().expect("set above") {
            Updater::Replicated {
                initialized,
                done,
                slot_map,
            } => {
                let replicas = svc.spec.replicas().unwrap_or(0);
                if !*initialized {
                    out.push(overall(0, replicas, rollback));
                    if replicas <= MAX_PROGRESS_BARS {
                        for i in 1..=replicas {
                            out.push(Msg::action(format!("{i}/{replicas}"), " "));
                        }
                    }
                    *initialized = true;
                }
                let by_slot = choose(&tasks, |t| t.slot, |t| active(t));
                if *done && by_slot.values().any(|t| t.state != TaskState::Running) {
                    *done = false;
                }
                let mut running = 0;
                for (slot, t) in &by_slot {
                    let next = slot_map.len() as u64 + 1;
                    let mapped = *slot_map.entry(*slot).or_insert(next);
                    if !terminal(t.desired) && t.state == TaskState::Running {
                        running += 1;
                    }
                    if !*done && replicas <= MAX_PROGRESS_BARS && mapped <= replicas {
                        task_progress(t, format!("{mapped}/{replicas}"), out);
                    }
                }
                if !*done {
                    out.push(overall(running, replicas, rollback));
                    if running == replicas {
                        *done = true;
                    }
                }
                running == replicas
            }
            Updater::Global { initialized, done } => {
                let by_node = choose(&tasks, |t| t.node, |_| true);
                let count = by_node.len() as u64;
                if !*initialized {
                    if count == 0 {
                        out.push(Msg::action("overall progress", "waiting for new tasks"));
                        return Outcome::Continue;
                    }
                    out.push(overall(0, count, rollback));
                    *initialized = true;
                }
                if *done && by_node.values().any(|t| t.state != TaskState::Running) {
                    *done = false;
                }
                let mut running = 0;
                for (node, t) in &by_node {
                    if !active(t) {
                        continue;
                    }
                    if !terminal(t.desired) && t.state == TaskState::Running {
                        running += 1;
                    }
                    if !*done && count <= MAX_PROGRESS_BARS {
                        let id = node
                            .map(|n| c.store.state.nodes[n].id.chars().take(12).collect())
                            .unwrap_or_default();
                        task_progress(t, id, out);
                    }
                }
                if !*done {
                    out.push(overall(running, count, rollback));
                    if running == count {
                        *done = true;
                    }
                }
                running == count
            }
        };
        self.converged = converged;
        if converged {
            let at = *self.converged_at.get_or_insert(now);
            let elapsed = now - at;
            // docker: wait = monitor - time.Since(convergedAt), printed as
            // wait/1s + 1 when wait >= 0. On a real machine some time has
            // always passed since convergedAt was set, so wait is a hair
            // below monitor - elapsed: the count starts at 5, not 6, and
            // ends at 1 (`docs/swarm-rules.md#docker-cli-verify-countdown`).
            if elapsed < monitor {
                let k = (monitor - elapsed).div_ceil(secs1());
                out.push(Msg::action(
                    "verify",
                    format!("Waiting {k} seconds to verify that tasks are stable..."),
                ));
            }
        } else {
            if self.converged_at.is_some() {
                out.push(Msg::action("verify", "Detected task failure"));
            }
            self.converged_at = None;
        }
        Outcome::Continue
    }
}

const fn secs1() -> SimDuration {
    crate::sim::time::secs(1)
}

/// `writeOverallProgress`.
fn overall(n: u64, d: u64, rollback: bool) -> Msg {
    if rollback {
        Msg::action(
            "overall progress",
            format!("rolling back update: {n} out of {d} tasks"),
        )
    } else {
        Msg::action("overall progress", format!("{n} out of {d} tasks"))
    }
}

/// `writeTaskProgress` (the `done`/count checks are the caller's).
fn task_progress(t: &Task, id: String, out: &mut Vec<Msg>) {
    if let Some(err) = t.err.as_deref().filter(|e| !e.is_empty()) {
        out.push(Msg::action(id, trunc_error(err)));
        return;
    }
    if !terminal(t.desired) && !terminal(t.state) {
        out.push(Msg {
            id,
            text: format!("{:<LONGEST_STATE$}", t.state.api_str()),
            current: numbered_state(t.state),
            status: false,
        });
    }
}

/// `tasksBySlot` / `tasksByNode`: per key, the task with the lowest desired
/// state, ties broken by the lowest observed state (first one wins);
/// tasks with a state outside `numberedStates` are ignored, and `keep`
/// (tasks on active nodes, for slots) is checked last, as the CLI does.
fn choose<'a, K: Ord>(
    tasks: &[&'a Task],
    key: impl Fn(&Task) -> K,
    keep: impl Fn(&Task) -> bool,
) -> BTreeMap<K, &'a Task> {
    let mut by: BTreeMap<K, &Task> = BTreeMap::new();
    for &t in tasks {
        if numbered_state(t.desired) == 0 || numbered_state(t.state) == 0 {
            continue;
        }
        let k = key(t);
        if let Some(e) = by.get(&k) {
            let (ed, td) = (numbered_state(e.desired), numbered_state(t.desired));
            if ed < td || (ed == td && numbered_state(e.state) <= numbered_state(t.state)) {
                continue;
            }
        }
        if !keep(t) {
            continue;
        }
        by.insert(k, t);
    }
    by
}

/// What the progress output shows on a terminal: one line per ID, rewritten
/// in place, in order of first appearance (moby `DisplayJSONMessagesStream`
/// with a terminal). A status message (no progress) is appended and starts
/// a new group of IDs.
#[derive(Debug, Clone, Default)]
pub struct Screen {
    pub lines: Vec<String>,
    ids: BTreeMap<String, usize>,
    /// Whether to draw bars (terminal wider than 110 columns).
    pub bars: bool,
}

impl Screen {
    pub fn new(bars: bool) -> Screen {
        Screen {
            bars,
            ..Default::default()
        }
    }

    /// The terminal line of a message: `<ID>: <text> <bar>`.
    pub fn line(&self, m: &Msg) -> String {
        let prefix = if m.id.is_empty() {
            String::new()
        } else {
            format!("{}: ", m.id)
        };
        if m.status {
            return format!("{prefix}{}", m.text);
        }
        let bar = if self.bars && m.current > 0 {
            bar(m.current)
        } else {
            String::new()
        };
        format!("{prefix}{} {bar}", m.text)
    }

    /// Applies a message; returns the index of the line it wrote.
    pub fn apply(&mut self, m: &Msg) -> usize {
        let text = self.line(m);
        if m.id.is_empty() || m.status {
            self.ids.clear();
            self.lines.push(text);
            return self.lines.len() - 1;
        }
        match self.ids.get(&m.id) {
            Some(&i) => {
                self.lines[i] = text;
                i
            }
            None => {
                self.lines.push(text);
                let i = self.lines.len() - 1;
                self.ids.insert(m.id.clone(), i);
                i
            }
        }
    }
}

/// The non-terminal rendering of a message: `<ID>: <text>`, or nothing for
/// a message with a progress value (the per-slot state lines).
pub fn plain_line(m: &Msg) -> Option<String> {
    if m.current > 0 {
        return None;
    }
    Some(if m.id.is_empty() {
        m.text.clone()
    } else {
        format!("{}: {}", m.id, m.text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::cli::parse_command_line;
    use crate::sim::time::{SimTime, secs};
    use std::rc::Rc;

    #[test]
    fn bar_widths_follow_the_numbered_states() {
        // new 5, pending 16, assigned 22, accepted 27, preparing 33,
        // ready 38, starting 44, running 50
        // (`docs/swarm-rules.md#docker-cli-progress-bars`).
        let widths: Vec<usize> = [1, 3, 4, 5, 6, 7, 8, 9]
            .iter()
            .map(|&n| bar(n).matches('=').count())
            .collect();
        assert_eq!(widths, [5, 16, 22, 27, 33, 38, 44, 50]);
        assert_eq!(bar(9), format!("[{}>] ", "=".repeat(50)));
        assert!(bar(3).ends_with(">                                  ] "));
    }

    #[test]
    fn errors_are_cut_to_75_bytes_without_newlines() {
        assert_eq!(trunc_error("a\nb"), "a b");
        let long = "x".repeat(80);
        let cut = trunc_error(&long);
        assert_eq!(cut, format!("{}…", "x".repeat(74)));
        assert_eq!(trunc_error(&"y".repeat(75)), "y".repeat(75));
    }

    #[test]
    fn terminal_and_plain_renderings() {
        let slot = Msg {
            id: "1/3".into(),
            text: format!("{:<9}", "running"),
            current: 9,
            status: false,
        };
        let mut screen = Screen::new(true);
        screen.apply(&Msg::action("overall progress", "0 out of 3 tasks"));
        screen.apply(&slot);
        screen.apply(&Msg::action("overall progress", "1 out of 3 tasks"));
        assert_eq!(
            screen.lines,
            [
                "overall progress: 1 out of 3 tasks ".to_string(),
                format!("1/3: running   {}", bar(9)),
            ]
        );
        // A status message appends and forgets the IDs seen so far.
        screen.apply(&Msg::status("rollback", "rollback completed"));
        screen.apply(&Msg::action("overall progress", "x"));
        assert_eq!(screen.lines.len(), 4);
        assert_eq!(plain_line(&slot), None);
        assert_eq!(
            plain_line(&Msg::action("1/3", " ")).as_deref(),
            Some("1/3:  ")
        );
        assert_eq!(Screen::new(false).line(&slot), "1/3: running   ");
    }

    fn cluster(yaml: &str) -> Cluster {
        let sc = crate::scenario::parse_str(yaml, std::path::Path::new("t.yaml")).unwrap();
        Cluster::new(Rc::new(sc), 1, true)
    }

    /// Polls every 200 ms until the watch ends; returns the plain lines.
    fn watch(c: &mut Cluster, w: &mut Watch) -> (Vec<String>, Outcome) {
        let mut lines = Vec::new();
        loop {
            let mut msgs = Vec::new();
            let o = w.poll(c, &mut msgs);
            lines.extend(msgs.iter().filter_map(plain_line));
            if o != Outcome::Continue || c.store.now > SimTime::at(secs(600)) {
                return (lines, o);
            }
            let t = c.store.now + POLL;
            c.run(Some(t), 1_000_000, |_, _| {});
            c.store.now = c.store.now.max(t);
        }
    }

    const LAB: &str = "
name: t
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{n}
      count: 2
images:
  default: {pull: 1s, start: 1s, stop: 500ms}
  \"bad:1\": {pull: 1s, start: 1s, crash_after: 2s}
services:
  web:
    image: ok:1
    deploy:
      replicas: 3
      update_config: {failure_action: FAILURE}
";

    fn update(c: &mut Cluster, image: &str) -> Watch {
        c.run(Some(SimTime::at(secs(10))), 1_000_000, |_, _| {});
        let cmd =
            parse_command_line(&format!("docker service update --image {image} web")).unwrap();
        assert_eq!(c.execute(&cmd).stdout, "web\n");
        c.propagate();
        Watch::new(0, "web")
    }

    #[test]
    fn a_good_update_counts_up_then_verifies_5_to_1() {
        let mut c = cluster(&LAB.replace("FAILURE", "pause"));
        let mut w = update(&mut c, "ok:2");
        let (lines, o) = watch(&mut c, &mut w);
        assert_eq!(o, Outcome::Done);
        assert_eq!(
            &lines[..5],
            [
                "overall progress: 0 out of 3 tasks",
                "1/3:  ",
                "2/3:  ",
                "3/3:  ",
                "overall progress: 0 out of 3 tasks"
            ]
        );
        let counts: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("verify: Waiting"))
            .collect();
        assert_eq!(counts.len(), 25, "5 s of 200 ms polls");
        assert!(counts[0].contains("Waiting 5 seconds"));
        assert!(counts[24].contains("Waiting 1 seconds"));
        assert_eq!(lines.last().unwrap(), "verify: Service web converged");
        // The overall count only grows, one slot at a time.
        let mut last = 0;
        for l in lines
            .iter()
            .filter_map(|l| l.strip_prefix("overall progress: "))
        {
            let n: u64 = l.split(' ').next().unwrap().parse().unwrap();
            assert!(n == last || n == last + 1, "{l}");
            last = n;
        }
        assert_eq!(last, 3);
    }

    #[test]
    fn a_failing_update_pauses_or_rolls_back_as_configured() {
        let mut c = cluster(&LAB.replace("FAILURE", "pause"));
        let mut w = update(&mut c, "bad:1");
        let (_, o) = watch(&mut c, &mut w);
        let Outcome::Failed(e) = o else {
            panic!("{o:?}")
        };
        assert!(
            e.starts_with(
                "service update paused: update paused due to failure or early termination of task "
            ),
            "{e}"
        );

        let mut c = cluster(&LAB.replace("FAILURE", "rollback"));
        let mut w = update(&mut c, "bad:1");
        let (lines, o) = watch(&mut c, &mut w);
        assert_eq!(o, Outcome::Done);
        let rb = lines
            .iter()
            .position(|l| {
                l.starts_with(
                    "rollback: update rolled back due to failure or early termination of task ",
                )
            })
            .expect("rollback line");
        assert!(
            lines[rb + 1..]
                .iter()
                .any(|l| l.starts_with("overall progress: rolling back update: "))
        );
        // docker remembers `rollback: rollback completed` only if it sees
        // the rollback complete before its own check converged; then it
        // follows the verify line. Either way the verify line ends the wait.
        let v = lines
            .iter()
            .position(|l| l == "verify: Service web converged")
            .expect("verify line");
        assert!(
            lines[v + 1..]
                .iter()
                .all(|l| l == "rollback: rollback completed")
        );
        assert!(lines.len() - v <= 2);
    }
}

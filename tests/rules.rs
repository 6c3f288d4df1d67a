//! One test per Swarm rule, with the expected timeline written out by hand
//! from the rules in `docs/swarm-rules.md`; each test names the rules it
//! checks by their anchors there (`#updater-delay` is
//! `docs/swarm-rules.md#updater-delay`). Latencies are
//! fixed so every instant is exact. Unless a test says otherwise, images
//! pull in 1 s, start in 1 s and stop at once, so a stop-first slot takes
//! 2 s from the new task's creation to RUNNING (the new image is pulled
//! on each node once).

use std::path::Path;
use std::rc::Rc;

use swarmsim::runner::{RunOptions, RunResult, run};
use swarmsim::scenario::parse_str;
use swarmsim::swarm::store::LogKind;

/// Runs a scenario given as YAML.
fn sim(yaml: &str) -> RunResult {
    let scenario = parse_str(yaml, std::path::Path::new("test.yaml")).expect("valid scenario");
    run(
        Rc::new(scenario),
        &RunOptions {
            keep_log: true,
            ..Default::default()
        },
    )
}

/// Node `m1` (the manager) and workers `w1`..`w<N-1>`, and the default image profile.
fn cluster(nodes: usize, extra_images: &str) -> String {
    format!(
        "cluster:\n  nodes:\n    - name: m1\n      role: manager\n{}images:\n  default: {{pull: 1s, start: 1s, stop: 0s}}\n{extra_images}",
        if nodes > 1 {
            format!("    - name: w{{n}}\n      count: {}\n", nodes - 1)
        } else {
            String::new()
        }
    )
}

/// The update status changes of a run: (seconds, state, message).
fn updates(r: &RunResult) -> Vec<(String, String, String)> {
    r.cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Update)
        .map(|l| {
            (
                swarmsim::sim::time::format_secs3(l.time),
                l.state.to_string(),
                l.message.to_string(),
            )
        })
        .collect()
}

fn states(r: &RunResult) -> Vec<(String, String)> {
    updates(r).into_iter().map(|(t, s, _)| (t, s)).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Creation times (seconds) of the tasks of `image`.
fn created(r: &RunResult, image: &str) -> Vec<String> {
    r.cluster
        .store
        .log
        .iter()
        .filter(|l| {
            l.kind == LogKind::Task
                && l.state == "new"
                && l.task
                    .is_some_and(|t| r.cluster.store.state.tasks[t].spec.image == image)
        })
        .map(|l| swarmsim::sim::time::format_secs3(l.time))
        .collect()
}

fn task_id(r: &RunResult, service: &str, slot: u64, image: &str) -> String {
    let st = &r.cluster.store.state;
    let sid = st.service_names[service];
    st.tasks
        .iter()
        .find(|t| t.service == sid && t.slot == slot && t.spec.image == image)
        .map(|t| t.id.to_string())
        .expect("task")
}

/// The anchors (GitHub's heading slugs) of a markdown file.
fn doc_anchors(doc: &str) -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc))
        .expect("readable doc");
    text.lines()
        .filter_map(|l| {
            l.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| l.starts_with('#'))
        })
        .map(|h| {
            h.to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

/// Every anchor a comment points to in `src/` or `tests/` (a link to
/// a page of `docs/` with an anchor, and the bare rule names of this
/// file's comments) is a heading of that page.
#[test]
fn rule_anchors_cited_in_comments_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = [
        "docs/swarm-rules.md",
        "docs/scenario-format.md",
        "docs/usage.md",
        "docs/regression.md",
    ];
    let anchors: Vec<_> = docs.iter().map(|d| doc_anchors(d)).collect();
    let slug = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .collect()
    };
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src"), root.join("tests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut cited, mut missing) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let rules_file = file.ends_with("tests/rules.rs");
        for (n, line) in text.lines().enumerate() {
            let mut refs: Vec<(usize, String)> = Vec::new();
            for (i, doc) in docs.iter().enumerate() {
                for (at, _) in line.match_indices(&format!("{doc}#")) {
                    refs.push((i, slug(&line[at + doc.len() + 1..])));
                }
            }
            let comment = line.trim_start().trim_start_matches('/').trim_start();
            if rules_file && comment.starts_with('#') && line.trim_start().starts_with("//") {
                let names = comment.split(':').next().unwrap_or("");
                for name in names.split(", ") {
                    refs.push((0, slug(name.trim_start_matches('#'))));
                }
            }
            for (i, anchor) in refs.into_iter().filter(|r| !r.1.is_empty()) {
                cited += 1;
                if !anchors[i].contains(&anchor) {
                    missing.push(format!(
                        "{}:{}: {}#{anchor}",
                        file.display(),
                        n + 1,
                        docs[i]
                    ));
                }
            }
        }
    }
    assert!(
        cited > 40,
        "only {cited} anchors found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "no such heading:\n{}",
        missing.join("\n")
    );
}

/// #updater-delay, #updater-final-monitoring:
/// Delay is slept after every slot, the last one included, and
/// the final watch is `Delay + 1s` when `Delay >= Monitor`.
/// Slots at 60, 73, 86 (2 s pull + 1 s start + 10 s delay each with the
/// tutorial's 2 s pull), last delay ends at 99, watch 11 s → completed 110.
#[test]
fn delay_follows_every_slot_and_stretches_the_final_watch() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name redis --update-delay 10s redis:3.0.6\n  - at: 1m\n    docker: docker service update --image redis:3.0.7 redis\n",
        cluster(
            3,
            "  \"redis:3.0.7\": {pull: 2s, start: 1s, stop: 500ms}\n  \"redis:3.0.6\": {pull: 2s, start: 1s, stop: 500ms}\n"
        )
    );
    let r = sim(&yaml);
    assert_eq!(created(&r, "redis:3.0.7"), ["60.000", "73.000", "86.000"]);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("110.000", "completed")])
    );
}

/// #updater-final-monitoring:
/// with Delay < Monitor the final watch is Monitor.
/// Slots at 60, 64, 68 (2 s + 2 s delay); last delay ends at 72; +5 s.
#[test]
fn final_watch_is_monitor_when_delay_is_shorter() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web --update-delay 2s web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert_eq!(created(&r, "web:2"), ["60.000", "64.000", "68.000"]);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("77.000", "completed")])
    );
}

/// #updater-parallelism:
/// parallelism is a pool of workers; with P=2 and 4 slots two slots
/// start at 60 and two at 64 (2 s + 2 s delay); 64+2+2 = 68, +5 s watch.
#[test]
fn parallelism_two_runs_two_workers() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --name web --update-parallelism 2 --update-delay 2s web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n",
        cluster(4, "")
    );
    let r = sim(&yaml);
    assert_eq!(
        created(&r, "web:2"),
        ["60.000", "60.000", "64.000", "64.000"]
    );
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("73.000", "completed")])
    );
}

/// #updater-parallelism, #updater-delay:
/// parallelism 0 updates every dirty slot at once; the delay is
/// still slept once per worker: 60 + 2 + 2 + 5 = 69. With stop-first no
/// replica runs in between.
#[test]
fn parallelism_zero_updates_all_slots_at_once() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web --update-parallelism 0 --update-delay 2s web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert_eq!(created(&r, "web:2"), ["60.000", "60.000", "60.000"]);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("69.000", "completed")])
    );
    assert_eq!(
        r.summary.services["web"].min_running_during_updates,
        Some(0)
    );
}

/// #updater-failure-ratio, #updater-failure-action:
/// with the default ratio 0 the first failure pauses the update
/// at once, naming the failed task; the other slots keep the old image.
/// Slot 1's new task starts at 61 and fails at 62.
#[test]
fn first_failure_pauses_the_update() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web web:1\n  - at: 1m\n    docker: docker service update --image web:bad web\nuntil: 100s\n",
        cluster(
            3,
            "  \"web:bad\": {pull: 1s, start: 1s, stop: 0s, fail_on_start: 1}\n"
        )
    );
    let r = sim(&yaml);
    let failed = task_id(&r, "web", 1, "web:bad");
    assert_eq!(
        updates(&r),
        vec![
            (
                "60.000".to_string(),
                "updating".to_string(),
                "update in progress".to_string()
            ),
            (
                "62.000".to_string(),
                "paused".to_string(),
                format!("update paused due to failure or early termination of task {failed}")
            ),
        ]
    );
    let st = &r.cluster.store.state;
    let sid = st.service_names["web"];
    for slot in [2, 3] {
        let live: Vec<_> = st
            .tasks
            .iter()
            .filter(|t| t.service == sid && t.slot == slot && !t.deleted)
            .collect();
        assert_eq!(live.len(), 1, "slot {slot} untouched");
        assert_eq!(live[0].spec.image, "web:1");
    }
}

/// #updater-failure-ratio:
/// the ratio test is strictly greater and its denominator is the
/// number of dirty slots. 4 slots at 60, 62, 64, 66 (delay 0). One
/// failure (slot 1 killed at 63, 1 s after it ran) is 0.25, not > 0.25:
/// the update completes at 68 + 5.
#[test]
fn failure_ratio_at_the_boundary_does_not_pause() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --name web --update-max-failure-ratio 0.25 web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 63s\n    kill: web.1\nuntil: 100s\n",
        cluster(4, "")
    );
    let r = sim(&yaml);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("73.000", "completed")])
    );
}

/// #updater-failure-ratio:
/// a second failure (slot 2 killed at 65, 1 s after it ran) makes
/// 2/4 = 0.5 > 0.25: paused at 65.
#[test]
fn failure_ratio_exceeded_pauses() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --name web --update-max-failure-ratio 0.25 web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 63s\n    kill: web.1\n  - at: 65s\n    kill: web.2\nuntil: 100s\n",
        cluster(4, "")
    );
    let r = sim(&yaml);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("65.000", "paused")])
    );
}

/// #updater-failure-watch:
/// failures are only read while slots are handed out and during the
/// final watch, and are measured when read. Slot 4 (the last) is handed
/// out at 66; slot 1 (running since 62) is killed at 66.5, 4.5 s after it
/// ran — inside its 5 s monitor — but the event is read only when the
/// watch starts at 68, 6 s after: it does not count.
#[test]
fn failures_while_draining_are_measured_when_read() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --name web web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 66500ms\n    kill: web.1\nuntil: 100s\n",
        cluster(4, "")
    );
    let r = sim(&yaml);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("73.000", "completed")])
    );
}

/// #updater-failure-watch:
/// the same kill while slots are still being handed out counts at
/// once: slot 1 killed at 64.5 (2.5 s after running, slot 3 in progress)
/// pauses at 64.5.
#[test]
fn failures_while_dispatching_count_at_once() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --name web web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 64500ms\n    kill: web.1\nuntil: 100s\n",
        cluster(4, "")
    );
    let r = sim(&yaml);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("64.500", "paused")])
    );
}

/// #updater-failure-action, #updater-automatic-rollback, #kernel-watch-order:
/// failure action rollback: ROLLBACK_STARTED at the
/// failure (62) with the previous spec; only slot 1 is dirty; its old-image
/// task is created at 62, starts at once (image cached, the restart
/// supervisor's replacement never ran) and runs at 63; +5 s watch with the
/// default rollback config → rollback_completed at 68. The previous spec is
/// cleared, so a manual rollback then fails.
#[test]
fn automatic_rollback() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web --update-failure-action rollback web:1\n  - at: 1m\n    docker: docker service update --image web:bad web\n  - at: 2m\n    docker: docker service rollback web\nuntil: 150s\n",
        cluster(
            3,
            "  \"web:bad\": {pull: 1s, start: 1s, stop: 0s, fail_on_start: 1}\n"
        )
    );
    let r = sim(&yaml);
    let failed = task_id(&r, "web", 1, "web:bad");
    let u = updates(&r);
    assert_eq!(
        states(&r),
        pairs(&[
            ("60.000", "updating"),
            ("62.000", "rollback_started"),
            ("68.000", "rollback_completed")
        ])
    );
    assert_eq!(
        u[1].2,
        format!("update rolled back due to failure or early termination of task {failed}")
    );
    assert_eq!(r.summary.services["web"].image, "web:1");
    assert_eq!(r.summary.services["web"].running_replicas, 3);
    let svc_id = &r.cluster.store.state.services[0].id;
    assert!(r.transcript.contains(&format!(
        "Error response from daemon: rpc error: code = FailedPrecondition desc = service {svc_id} does not have a previous spec"
    )));
    // #kernel-watch-order (as on a real engine):
    // the slot's history, newest first: the rollback task running,
    // the restart supervisor's bad replacement (never started) shut down,
    // the failed task, the original task shut down.
    let st = &r.cluster.store.state;
    // Tasks are stored in creation order: newest last.
    let slot1: Vec<_> = st
        .tasks
        .iter()
        .filter(|t| t.slot == 1 && !t.deleted)
        .rev()
        .collect();
    let rows: Vec<(&str, &str, &str)> = slot1
        .iter()
        .map(|t| (t.spec.image.as_str(), t.desired.pretty(), t.state.pretty()))
        .collect();
    assert_eq!(
        rows,
        [
            ("web:1", "Running", "Running"),
            ("web:bad", "Shutdown", "Shutdown"),
            ("web:bad", "Shutdown", "Failed"),
            ("web:1", "Shutdown", "Shutdown"),
        ]
    );
}

/// #control-api-rollback-service:
/// a manual rollback swaps spec and previous spec
/// (`manually requested rollback`), so a second one goes forward again.
#[test]
fn manual_rollback_swaps_specs() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web web:1\n  - at: 10s\n    docker: docker service update --image web:2 web\n  - at: 30s\n    docker: docker service rollback web\n  - at: 50s\n    docker: docker service update --rollback web\n",
        cluster(1, "")
    );
    let r = sim(&yaml);
    let u = updates(&r);
    assert_eq!(
        states(&r),
        pairs(&[
            ("10.000", "updating"),
            ("17.000", "completed"),
            ("30.000", "rollback_started"),
            ("36.000", "rollback_completed"),
            ("50.000", "rollback_started"),
            ("56.000", "rollback_completed"),
        ])
    );
    assert_eq!(u[2].2, "manually requested rollback");
    assert_eq!(r.summary.services["web"].image, "web:2");
}

/// #restart-should-restart:
/// restart policy max attempts: a task that crashes 1 s after running
/// is replaced twice (delay 1 s), then left failed. Running at 2, crash at
/// 3, restart starts at 4, runs at 5, crashes at 6, again 7→8→9; then no
/// more replacements: 3 tasks in the slot, none running.
#[test]
fn restart_max_attempts() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --restart-max-attempts 2 --restart-delay 1s web:crash\nuntil: 60s\n",
        cluster(
            1,
            "  \"web:crash\": {pull: 1s, start: 1s, stop: 0s, crash_after: 1s}\n"
        )
    );
    let r = sim(&yaml);
    let failed_at: Vec<String> = r
        .cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Task && l.state == "failed" && l.desired_state == "running")
        .map(|l| swarmsim::sim::time::format_secs3(l.time))
        .collect();
    assert_eq!(failed_at, ["3.000", "6.000", "9.000"]);
    let s = &r.summary.services["web"];
    assert_eq!(s.running_replicas, 0);
    assert_eq!(s.task_failures, 3);
    assert_eq!(
        r.cluster
            .store
            .state
            .tasks
            .iter()
            .filter(|t| !t.deleted)
            .count(),
        3
    );
}

/// #updater-worker:
/// start-first starts the new task before stopping the old one, so
/// four tasks run for a moment; `docker service ls` shows 4/3. Slot 1's
/// new task runs at 62; the old one takes 5 s to stop (until 67).
#[test]
fn start_first_overlaps_old_and_new() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web --update-order start-first web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 63s\n    docker: docker service ls\n",
        cluster(4, "  \"web:1\": {pull: 1s, start: 1s, stop: 5s}\n")
    );
    let r = sim(&yaml);
    assert!(r.transcript.contains("   4/3   "), "{}", r.transcript);
    assert_eq!(
        r.summary.services["web"].min_running_during_updates,
        Some(3)
    );
}

/// #orchestrator-scale-down, #reaper-removed-tasks:
/// scaling down sets desired REMOVE on the extra slots; once
/// stopped they are deleted and vanish from `docker service ps`.
#[test]
fn scale_down_removes_slots() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web web:1\n  - at: 10s\n    docker: docker service scale web=1\n  - at: 20s\n    docker: docker service ps web\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert!(r.transcript.contains("web scaled to 1\n"));
    let ps = r
        .transcript
        .split("docker service ps web\n")
        .nth(1)
        .unwrap();
    assert!(ps.contains("web.1 "));
    assert!(!ps.contains("web.2") && !ps.contains("web.3"), "{ps}");
    assert_eq!(r.summary.services["web"].running_replicas, 1);
}

/// #scheduler-no-suitable-node:
/// a task that fits nowhere stays pending with the scheduler's
/// explanation.
#[test]
fn no_suitable_node_explains_why() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --constraint node.labels.zone==nowhere web:1\n  - at: 5s\n    docker: docker service ps --no-trunc web\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert!(
        r.transcript
            .contains("\"no suitable node (scheduling constraints not satisfied on 3 nodes)\""),
        "{}",
        r.transcript
    );
    assert!(r.transcript.contains("Pending 5 seconds ago"));
}

/// #dispatcher-heartbeats:
/// a stopped node is declared down only when its heartbeat is
/// overdue: 3 periods (5 s ± 0.5 s) after the last heartbeat, which was
/// sent less than one period before the stop — so 2 to 3 periods (9 to
/// 16.5 s) after the stop. Then its tasks are restarted elsewhere after the restart delay
/// (5 s), without waiting for the old task.
#[test]
fn lost_node_is_noticed_after_heartbeats_expire() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web web:1\n  - at: 30s\n    node: {{name: w2, state: down}}\nuntil: 90s\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    let down = r
        .cluster
        .store
        .log
        .iter()
        .find(|l| l.kind == LogKind::Node && l.state == "down")
        .expect("node marked down")
        .time
        .as_nanos();
    let secs = down as f64 / 1e9;
    assert!((30.0 + 9.0..=30.0 + 16.5).contains(&secs), "down at {secs}");
    let s = &r.summary.services["web"];
    assert_eq!(s.running_replicas, 3);
    // The replacement was created when the node was marked down and
    // started after the 5 s restart delay, on another node.
    let replacement_start = r
        .cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Task && l.state == "starting" && l.time.as_nanos() > down)
        .map(|l| l.time.as_nanos())
        .next()
        .expect("replacement started");
    assert_eq!(replacement_start, down + 5_000_000_000);
}

/// #orchestrator-node-down-or-drained:
/// draining a node restarts its tasks at once (restart delay 0); the
/// replacement starts when the old task has stopped (stop 3 s here).
#[test]
fn drain_moves_tasks_without_restart_delay() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web web:1\n  - at: 30s\n    docker: docker node update --availability drain w2\n  - at: 40s\n    docker: docker node ls\nuntil: 60s\n",
        cluster(3, "  \"web:1\": {pull: 1s, start: 1s, stop: 3s}\n")
    );
    let r = sim(&yaml);
    let st = &r.cluster.store.state;
    let w2 = st.find_node("w2").unwrap();
    let starting: Vec<u64> = r
        .cluster
        .store
        .log
        .iter()
        .filter(|l| {
            l.kind == LogKind::Task && l.state == "starting" && l.time.as_nanos() >= 30_000_000_000
        })
        .map(|l| l.time.as_nanos())
        .collect();
    // Old task stops at 33; the replacement (pulled on another node
    // already) starts then.
    assert_eq!(starting, [33_000_000_000]);
    assert!(
        st.tasks
            .iter()
            .all(|t| t.node != Some(w2) || t.state != swarmsim::swarm::model::TaskState::Running)
    );
    assert!(r.transcript.contains("Drain"));
}

/// #updater-paused-update-and-resume:
/// while paused nothing is updated; `docker service update` with no
/// changes resumes: a fresh update (new start time) over the slots still
/// dirty. Here the bad image is fixed by a second update instead.
#[test]
fn a_new_update_replaces_a_paused_one() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web web:1\n  - at: 10s\n    docker: docker service update --image web:bad web\n  - at: 30s\n    docker: docker service update --image web:2 web\nuntil: 60s\n",
        cluster(
            2,
            "  \"web:bad\": {pull: 1s, start: 1s, stop: 0s, fail_on_start: 1}\n"
        )
    );
    let r = sim(&yaml);
    // Paused at 12; the new update at 30 updates both slots (slot 1 holds
    // the crash-looping bad task, slot 2 the original): 30 → 32, 32 → 34,
    // +5 s.
    assert_eq!(
        states(&r),
        pairs(&[
            ("10.000", "updating"),
            ("12.000", "paused"),
            ("30.000", "updating"),
            ("39.000", "completed")
        ])
    );
    assert_eq!(r.summary.services["web"].running_replicas, 2);
}

/// #reaper-history-limit:
/// the task reaper keeps 5 tasks per slot.
#[test]
fn history_is_capped_at_five_tasks_per_slot() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --restart-delay 1s web:crash\nuntil: 59s\n",
        cluster(
            1,
            "  \"web:crash\": {pull: 1s, start: 1s, stop: 0s, crash_after: 1s}\n"
        )
    );
    let r = sim(&yaml);
    let live = r
        .cluster
        .store
        .state
        .tasks
        .iter()
        .filter(|t| !t.deleted)
        .count();
    assert_eq!(live, 5);
    assert!(r.cluster.store.state.tasks.len() > 10);
}

/// #control-api-update-service, #updater-update-status:
/// a no-op update resets the update status and makes nothing
/// dirty, so the status stays unset (inspect shows no UpdateStatus).
#[test]
fn noop_update_clears_the_status() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web web:1\n  - at: 10s\n    docker: docker service update --image web:2 web\n  - at: 30s\n    docker: docker service update web\n  - at: 31s\n    docker: docker service inspect --pretty web\n",
        cluster(1, "")
    );
    let r = sim(&yaml);
    let inspect = r.transcript.split("inspect --pretty web\n").nth(1).unwrap();
    assert!(!inspect.contains("UpdateStatus"), "{inspect}");
    assert_eq!(r.summary.services["web"].update_state, None);
}

/// #agent-healthchecks:
/// with a healthcheck the task stays STARTING until the first healthy
/// probe, one interval after the container started: created 0, pulled 1,
/// started 2, first probe (interval 5 s) at 7 → RUNNING at 7.
#[test]
fn healthcheck_delays_running() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --health-cmd true --health-interval 5s web:1\n",
        cluster(1, "")
    );
    let r = sim(&yaml);
    let running: Vec<u64> = r
        .cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Task && l.state == "running" && l.message == "started")
        .map(|l| l.time.as_nanos())
        .collect();
    assert_eq!(running, [7_000_000_000]);
}

/// #agent-healthchecks:
/// during the start period probes run every start interval (5 s by
/// default): interval 30 s but start period 20 s → healthy at 2 + 5 = 7.
#[test]
fn health_start_period_probes_at_the_start_interval() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --health-cmd true --health-interval 30s --health-start-period 20s web:1\n",
        cluster(1, "")
    );
    let r = sim(&yaml);
    let running = r
        .cluster
        .store
        .log
        .iter()
        .find(|l| l.kind == LogKind::Task && l.state == "running")
        .map(|l| l.time.as_nanos());
    assert_eq!(running, Some(7_000_000_000));
}

/// #agent-unhealthy-container:
/// a container that never turns healthy is stopped after `retries`
/// failed probes and the task fails with docker's unhealthy error: started
/// at 2, probes at 4, 6, 8 fail (interval 2 s, retries 3), stopped in 1 s
/// (SIGTERM: exit 143) → FAILED at 9.
#[test]
fn unhealthy_container_fails_the_task() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --restart-condition none --health-cmd false --health-interval 2s --health-retries 3 web:sick\n",
        cluster(
            1,
            "  \"web:sick\": {pull: 1s, start: 1s, stop: 1s, health_fail: 1}\n"
        )
    );
    let r = sim(&yaml);
    let failed = r
        .cluster
        .store
        .log
        .iter()
        .find(|l| l.kind == LogKind::Task && l.state == "failed")
        .expect("task failed");
    assert_eq!(failed.time.as_nanos(), 9_000_000_000);
    assert_eq!(
        failed.message,
        "task: non-zero exit (143): dockerexec: unhealthy container"
    );
}

/// #scheduler-filters:
/// max replicas per node: 3 replicas, 1 per node, 2 nodes → one
/// task stays pending with the filter's text (which carries no count).
#[test]
fn max_replicas_per_node_leaves_a_task_pending() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --replicas-max-per-node 1 --name web web:1\n  - at: 10s\n    docker: docker service ps --no-trunc web\n  - at: 10s\n    docker: docker service ls\n",
        cluster(2, "")
    );
    let r = sim(&yaml);
    assert!(
        r.transcript
            .contains("\"no suitable node (max replicas per node limit exceed)\""),
        "{}",
        r.transcript
    );
    assert!(r.transcript.contains("2/3 (max 1 per node)"));
}

/// #scheduler-filters, #scheduler-resources:
/// reservations that fit nowhere: each node has 4 CPUs (the
/// default); two tasks reserving 3 CPUs fill two of three nodes, the third
/// fits, the fourth does not.
#[test]
fn reservations_fill_nodes() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --reserve-cpu 3 --name web web:1\n  - at: 10s\n    docker: docker service ps --no-trunc web\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert!(
        r.transcript
            .contains("\"no suitable node (insufficient resources on 3 nodes)\""),
        "{}",
        r.transcript
    );
    assert_eq!(r.summary.services["web"].running_replicas, 3);
}

/// #scheduler-spread-preferences:
/// spread over a node label: 6 replicas over zones a (3 nodes) and
/// b (1 node) end up 3 and 3.
#[test]
fn spread_preference_balances_label_values() {
    let yaml = "cluster:\n  nodes:\n    - name: m1\n      role: manager\n      labels: {zone: a}\n    - name: a{n}\n      count: 2\n      labels: {zone: a}\n    - name: b1\n      labels: {zone: b}\nimages:\n  default: {pull: 1s, start: 1s, stop: 0s}\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 6 --placement-pref spread=node.labels.zone --name web web:1\n";
    let r = sim(yaml);
    let st = &r.cluster.store.state;
    let b1 = st.find_node("b1").unwrap();
    let on_b = st
        .tasks
        .iter()
        .filter(|t| t.node == Some(b1) && !t.deleted)
        .count();
    assert_eq!(on_b, 3);
    assert_eq!(r.summary.services["web"].running_replicas, 6);
}

/// #orchestrator-global-services:
/// a global service runs one task per eligible node; draining a node
/// shuts its task down without moving it.
#[test]
fn global_service_follows_nodes() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --name agent agent:1\n  - at: 10s\n    docker: docker node update --availability drain w1\n  - at: 20s\n    docker: docker service ls\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    let s = &r.summary.services["agent"];
    assert_eq!(s.running_replicas, 2);
    assert_eq!(s.desired_replicas, 2);
    assert!(
        r.transcript.contains("global    2/2   "),
        "{}",
        r.transcript
    );
}

/// #updater-slot-order:
/// a global service's update goes node by node like slots.
#[test]
fn global_service_rolling_update() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --name agent agent:1\n  - at: 10s\n    docker: docker service update --image agent:2 agent\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert_eq!(created(&r, "agent:2"), ["10.000", "12.000", "14.000"]);
    assert_eq!(
        states(&r),
        pairs(&[("10.000", "updating"), ("21.000", "completed")])
    );
}

/// #dispatcher-orphaned-tasks:
/// after 24 h down, the node's tasks become ORPHANED.
#[test]
fn tasks_of_a_node_down_for_a_day_are_orphaned() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web web:1\n  - at: 10s\n    node: {{name: w1, state: down}}\n  - at: 25h\n    docker: docker service ps web\nuntil: 25h\n",
        cluster(2, "")
    );
    let r = sim(&yaml);
    let orphaned = r
        .cluster
        .store
        .log
        .iter()
        .find(|l| l.kind == LogKind::Task && l.state == "orphaned")
        .expect("orphaned")
        .time;
    let down = r
        .cluster
        .store
        .log
        .iter()
        .find(|l| l.kind == LogKind::Node && l.state == "down")
        .unwrap()
        .time;
    assert_eq!(orphaned - down, swarmsim::sim::time::secs(24 * 3600));
    assert!(
        r.transcript.contains("Orphaned 59 minutes ago"),
        "{}",
        r.transcript
    );
}

/// `--explain`: every decision names the setting behind it (here the
/// tutorial's delay, the stretched final watch, and the restart policy).
#[test]
fn explanations_name_the_settings() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web --update-delay 10s web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 2m\n    kill: web.1\n",
        cluster(2, "")
    );
    let scenario = parse_str(&yaml, std::path::Path::new("test.yaml")).unwrap();
    let r = run(
        Rc::new(scenario),
        &RunOptions {
            explain: true,
            ..Default::default()
        },
    );
    for line in [
        "[1m0s] # web: update of 2 slot(s) starts with update_config: parallelism 1, delay 10s, monitor 5s, failure_action pause, max_failure_ratio 0, order stop-first",
        "[1m2s] # web: the worker sleeps 10s before its next slot",
        "[1m24s] # web: all slots done; watching for failures for 11s (delay 10s >= monitor 5s, so delay + 1s)",
        "(restart_policy.condition any): replacement",
        "starts after the 5s restart delay (Swarm's default)",
    ] {
        assert!(
            r.transcript.contains(line),
            "missing {line:?} in\n{}",
            r.transcript
        );
    }
    // Off by default: no explanation is even built.
    let plain = sim(&yaml);
    assert!(plain.cluster.store.explanations.is_empty());
    assert!(!plain.transcript.contains("] # web:"));
}

/// #orchestrator-reconcile:
/// the orchestrator reconciles on every write of the service,
/// the updater's status writes included. A start-first rollback leaves two
/// tasks in slots whose crashed task the restart supervisor replaced after
/// the rollback's snapshot (2 and 3; tasks run 7 s after creation: 1 s
/// pull, 1 s start, first probe 5 s later); the write of `rollback_completed` at
/// 1m33s starts a clean-up run with the update config (start-first,
/// delay 5 s, monitor 30 s) that keeps one task per slot: 2 slots × 5 s +
/// 30 s → `completed` at 2m13s (completeUpdate writes `completed` unless
/// the state is `rollback_started`).
#[test]
fn a_slot_left_with_two_tasks_is_cleaned_up_after_completion() {
    let yaml = format!(
        "{}services:\n  web:\n    image: web:1\n    deploy:\n      replicas: 3\n      update_config: {{parallelism: 1, delay: 5s, failure_action: rollback, monitor: 30s, order: start-first}}\n      rollback_config: {{parallelism: 1, failure_action: continue, monitor: 10s, order: start-first}}\n      restart_policy: {{condition: any, delay: 5s}}\n    healthcheck: {{test: [CMD, \"true\"], interval: 5s, timeout: 2s, retries: 3}}\ntimeline:\n  - at: 30s\n    docker: docker service update --image web:2 web\nuntil: 5m\n",
        cluster(
            3,
            "  \"web:1\": {pull: 1s, start: 1s, stop: 500ms}\n  \"web:2\": {pull: 1s, start: 1s, stop: 500ms, crash_after: 20s}\n"
        )
    );
    let r = sim(&yaml);
    assert_eq!(
        states(&r),
        pairs(&[
            ("30.000", "updating"),
            ("65.000", "rollback_started"),
            ("93.000", "rollback_completed"),
            ("133.000", "completed"),
        ])
    );
    let web = &r.summary.services["web"];
    assert_eq!(web.running_replicas, 3);
    assert_eq!(web.image, "web:1");
}

/// #agent-unhealthy-container:
/// an unhealthy container that exits 0 when stopped is not a failure:
/// the executor reports the exit code, and the health failure only names
/// the cause of a non-zero exit. Started at 2, probes at 4, 6, 8 fail,
/// stopped in 1 s with exit 0 → COMPLETE at 9, straight from STARTING: a
/// real agent never reports `running` for it (conformance
/// unhealthy-exit-zero).
#[test]
fn unhealthy_container_that_exits_zero_completes() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --restart-condition none --health-cmd false --health-interval 2s --health-retries 3 web:sick\n",
        cluster(
            1,
            "  \"web:sick\": {pull: 1s, start: 1s, stop: 1s, health_fail: 1, stop_exit_code: 0}\n"
        )
    );
    let r = sim(&yaml);
    let rows: Vec<(u64, &str, &str)> = r
        .cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Task && l.time.as_nanos() >= 9_000_000_000)
        .map(|l| (l.time.as_nanos(), l.state, l.message.as_ref()))
        .collect();
    assert_eq!(rows[0], (9_000_000_000, "complete", "finished"));
    assert!(
        !r.cluster
            .store
            .log
            .iter()
            .any(|l| l.kind == LogKind::Task && l.state == "running")
    );
    assert_eq!(r.summary.services["web"].task_failures, 0);
}

/// A machine that comes back reports the tasks whose containers had
/// started as failed with exit 255 (its dockerd died with them), even when
/// the managers had already set them to shut down (conformance
/// cluster/node-down: `failed/shutdown task: non-zero exit (255)`).
#[test]
fn a_node_that_comes_back_reports_its_dead_containers() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web web:1\n  - at: 10s\n    node: {{name: w1, state: down}}\n  - at: 60s\n    node: {{name: w1, state: up}}\nuntil: 70s\n",
        cluster(2, "")
    );
    let r = sim(&yaml);
    let back = r
        .cluster
        .store
        .log
        .iter()
        .find(|l| {
            l.kind == LogKind::Task && l.time.as_nanos() == 60_000_000_000 && l.state == "failed"
        })
        .expect("old task reported at 60s");
    assert_eq!(back.desired_state, "shutdown");
    assert_eq!(back.message, "task: non-zero exit (255)");
    assert_eq!(r.summary.services["web"].running_replicas, 2);
}

/// #updater-failure-watch:
/// a task the update created that is shut down within the monitor —
/// here because its node is drained — counts as a failure ("failure or
/// early termination"). Slot 1's new task runs on m1 at 62 (m1 holds no
/// other task of the service once its old task stopped); m1 is drained at
/// 63 and the task stops at once: 1 s after it started, within the 5 s
/// monitor, while slot 2 still waits to be handed out → paused at 63
/// (seen on a real three-node swarm in conformance drain-during-update
/// when Swarm's random placement put the new task on the drained node).
#[test]
fn a_new_task_drained_within_the_monitor_pauses_the_update() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web --update-delay 2s web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 63s\n    docker: docker node update --availability drain m1\nuntil: 90s\n",
        cluster(2, "")
    );
    let r = sim(&yaml);
    let drained = task_id(&r, "web", 1, "web:2");
    let u = updates(&r);
    assert_eq!(
        states(&r),
        pairs(&[("60.000", "updating"), ("63.000", "paused")])
    );
    assert_eq!(
        u[1].2,
        format!("update paused due to failure or early termination of task {drained}")
    );
}

/// #reaper-batching, #reaper-history-limit:
/// task updates restart the reaper's wait too, and a slot still holding
/// more than one task that is not stopped stays dirty, so it is pruned
/// after the next task event without a new task being created (swarmkit
/// `taskreaper/task_reaper.go`, `Run`: `timer.Reset` on `EventUpdateTask`;
/// `tick`: the slot stays dirty while `runningTasks > 1`).
/// `--restart-max-attempts 1`: the limit is 2 tasks per slot. Start-first
/// updates; web:1 stops in 3 s, web:2 in 0.5 s.
/// - 0: A (web:1) created, RUNNING at 2.
/// - 10: update to web:2: B created, RUNNING at 12; A desired SHUTDOWN at
///   12, SHUTDOWN at 15.
/// - 13: update to web:3 (replaces the first): C created, RUNNING at 15;
///   B desired SHUTDOWN at 15, SHUTDOWN at 15.5.
/// - tick at 13.25: A, B, C > 2, but A, B and C are all still running or
///   starting: nothing deleted, the slot stays dirty. Task events at 14
///   and 15 (no task created); tick at 15.25: by status time B (RUNNING
///   since 12, skipped), then A (SHUTDOWN at 15) deleted: B and C remain.
///   (Before, only a created task restarted the wait: A was kept.)
#[test]
fn a_slot_kept_dirty_is_pruned_after_the_next_task_update() {
    let live = |until: &str| {
        let yaml = format!(
            "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web --restart-max-attempts 1 --update-order start-first web:1\n  - at: 10s\n    docker: docker service update --image web:2 web\n  - at: 13s\n    docker: docker service update --image web:3 web\nuntil: {until}\n",
            cluster(
                1,
                "  \"web:1\": {pull: 1s, start: 1s, stop: 3s}\n  \"web:2\": {pull: 1s, start: 1s, stop: 500ms}\n"
            )
        );
        let r = sim(&yaml);
        let mut images: Vec<String> = r
            .cluster
            .store
            .state
            .tasks
            .iter()
            .filter(|t| !t.deleted)
            .map(|t| t.spec.image.clone())
            .collect();
        images.sort();
        images
    };
    assert_eq!(live("15200ms"), ["web:1", "web:2", "web:3"]);
    assert_eq!(live("15300ms"), ["web:2", "web:3"]);
}

/// #updater-slot-order, #updater-worker, #orchestrator-node-down-or-drained:
/// `engine: slot_order: random`: the update takes its slots in a seeded
/// random order (swarmkit's come out of a Go map). Timeline by hand, from
/// swarmkit's source: m1 (manager) and workers w1, w2; 4 replicas on the
/// workers, placed w1, w2, w1, w2 (slots 1-4); web:1 starts in 1 s and
/// stops in 1 s, web:2 stops in 2.5 s; update-delay 2 s, stop-first,
/// monitor 5 s; w2 drained at 63.
/// - 60: the first slot's new task T is created; its old task is desired
///   `shutdown`, so its node counts one active task fewer and T goes back
///   to it (`nodeinfo.go`, `addTask`). Old task stopped at 61, T running
///   at 62; the worker sleeps its delay until 64.
/// - 63: w2 drained: its tasks are replaced at once on w1.
/// - First slot on w2 (T there): T desired `shutdown` at 63, stopped at
///   65.5, within the monitor: the update pauses at 65.5 naming T. At 64
///   the worker took the second slot: on w1 it gets a new task at 64 (3
///   slots with a new task before the pause); the other w2 slot, already
///   shut down and replaced, fails the store batch and gets nothing
///   (`removeOldTasks`: "already shut down when reached by updater";
///   2 slots).
/// - First slot on w1: nothing the update created is drained; it completes,
///   and the two w2 slots keep only the drain's replacement.
#[test]
fn the_slot_order_decides_whether_a_drain_pauses_the_update() {
    let yaml = format!(
        "{}engine:\n  slot_order: random\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 4 --name web --constraint node.role==worker --update-delay 2s web:1\n  - at: 1m\n    docker: docker service update --image web:2 web\n  - at: 63s\n    docker: docker node update --availability drain w2\nuntil: 90s\n",
        cluster(
            3,
            "  \"web:1\": {pull: 1s, start: 1s, stop: 1s}\n  \"web:2\": {pull: 1s, start: 1s, stop: 2500ms}\n"
        )
    );
    let scenario = Rc::new(parse_str(&yaml, Path::new("test.yaml")).expect("valid scenario"));
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=40 {
        let r = run(
            scenario.clone(),
            &RunOptions {
                seed: Some(seed),
                keep_log: true,
                ..Default::default()
            },
        );
        let st = &r.cluster.store.state;
        let sid = st.service_names["web"];
        let node_of = |slot: u64| -> String {
            let t = st
                .tasks
                .iter()
                .find(|t| t.service == sid && t.slot == slot && t.spec.image == "web:1")
                .expect("initial task");
            st.nodes[t.node.expect("assigned")].hostname.to_string()
        };
        assert_eq!(
            (1..=4).map(node_of).collect::<Vec<_>>(),
            ["w1", "w2", "w1", "w2"]
        );
        // web:2 tasks by creation time: (seconds, slot).
        let mut new: Vec<(String, u64)> = st
            .tasks
            .iter()
            .filter(|t| t.service == sid && t.spec.image == "web:2")
            .map(|t| (swarmsim::sim::time::format_secs3(t.created_at), t.slot))
            .collect();
        new.sort();
        let first = new.iter().find(|(t, _)| t == "60.000").expect("T").1;
        let at_64 = new.iter().filter(|(t, _)| t == "64.000").count();
        let s = states(&r);
        if node_of(first) == "w2" {
            assert_eq!(
                s,
                pairs(&[("60.000", "updating"), ("65.500", "paused")]),
                "seed {seed}"
            );
            let t = task_id(&r, "web", first, "web:2");
            assert_eq!(
                updates(&r)[1].2,
                format!("update paused due to failure or early termination of task {t}")
            );
            let before: std::collections::BTreeSet<u64> = new
                .iter()
                .filter(|(t, _)| t.as_str() <= "65.500")
                .map(|&(_, slot)| slot)
                .collect();
            // Second slot on w1: a task at 64; the other w2 slot: none.
            assert_eq!(before.len(), 2 + at_64, "seed {seed}: {new:?}");
            seen.insert(format!("paused, {} slots", before.len()));
        } else {
            assert_eq!(
                s.last().map(|x| x.1.as_str()),
                Some("completed"),
                "seed {seed}"
            );
            for slot in [2, 4] {
                let n = new.iter().filter(|&&(_, sl)| sl == slot).count();
                assert_eq!(
                    n, 1,
                    "seed {seed}: slot {slot} only has the drain's replacement"
                );
            }
            seen.insert("completed".to_string());
        }
    }
    // Every branch comes up in 40 seeds.
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["completed", "paused, 2 slots", "paused, 3 slots"]
    );
}

/// #updater-failure-watch, #kernel-ties-swarm-leaves-to-chance:
/// `engine: failure_race` 1: the task the worker waits on fails without
/// running (a failed start) while slots are still handed out with no
/// delay; the freed worker takes the next slot before the failure is read
/// (Go's `select` with both channels ready). As in
/// `first_failure_pauses_the_update`, slot 1's new task fails at 62; now
/// slot 2 gets its new task at 62 as well, then the update pauses at 62,
/// naming slot 1's task; slot 3 keeps the old image.
#[test]
fn a_failed_start_can_release_the_worker_before_the_failure_is_read() {
    let yaml = format!(
        "{}engine:\n  failure_race: 1\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web web:1\n  - at: 1m\n    docker: docker service update --image web:bad web\nuntil: 100s\n",
        cluster(
            3,
            "  \"web:bad\": {pull: 1s, start: 1s, stop: 0s, fail_on_start: 1}\n"
        )
    );
    let r = sim(&yaml);
    let failed = task_id(&r, "web", 1, "web:bad");
    assert_eq!(
        updates(&r)[1],
        (
            "62.000".to_string(),
            "paused".to_string(),
            format!("update paused due to failure or early termination of task {failed}")
        )
    );
    assert_eq!(created(&r, "web:bad")[..2], ["60.000", "62.000"]);
    let st = &r.cluster.store.state;
    let sid = st.service_names["web"];
    let images = |slot: u64| -> Vec<String> {
        st.tasks
            .iter()
            .filter(|t| t.service == sid && t.slot == slot && !t.deleted)
            .map(|t| t.spec.image.clone())
            .collect()
    };
    assert!(
        images(2).contains(&"web:bad".to_string()),
        "{:?}",
        images(2)
    );
    assert_eq!(images(3), ["web:1"]);
}

//! Rule tests for issue 11 (fidelity against swarmkit's own tests and real
//! command lines), in the style of `tests/rules.rs`: the timeline of each
//! test is written out by hand from swarmkit's source, cited per test.
//! Images pull in 1 s, start in 1 s and stop at once unless a test says
//! otherwise; an image already on a node is not pulled again.

use std::rc::Rc;

use swarmsim::runner::{RunOptions, RunResult, run};
use swarmsim::scenario::parse_str;
use swarmsim::swarm::store::LogKind;

fn sim_with(yaml: &str, explain: bool) -> RunResult {
    let scenario = parse_str(yaml, std::path::Path::new("test.yaml")).expect("valid scenario");
    run(
        Rc::new(scenario),
        &RunOptions {
            keep_log: true,
            explain,
            ..Default::default()
        },
    )
}

fn sim(yaml: &str) -> RunResult {
    sim_with(yaml, false)
}

/// Node `m1` (the manager) and workers `w1`..`w<N-1>`.
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

/// The update status changes of a run: (seconds, state).
fn states(r: &RunResult) -> Vec<(String, String)> {
    r.cluster
        .store
        .log
        .iter()
        .filter(|l| l.kind == LogKind::Update)
        .map(|l| {
            (
                swarmsim::sim::time::format_secs3(l.time),
                l.state.to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// (seconds, node) of every task creation of `image`, in order.
fn created_on(r: &RunResult, image: &str) -> Vec<(String, String)> {
    let st = &r.cluster.store.state;
    r.cluster
        .store
        .log
        .iter()
        .filter(|l| {
            l.kind == LogKind::Task
                && l.state == "new"
                && l.task.is_some_and(|t| st.tasks[t].spec.image == image)
        })
        .map(|l| {
            let t = &st.tasks[l.task.unwrap()];
            let node = r
                .cluster
                .store
                .state
                .node_tasks
                .iter()
                .find(|(_, v)| v.contains(&l.task.unwrap()))
                .map(|(&(_, n), _)| n)
                .or(t.node)
                .map(|n| st.nodes[n].hostname.to_string())
                .unwrap_or_default();
            (swarmsim::sim::time::format_secs3(l.time), node)
        })
        .collect()
}

fn at(v: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs(v)
}

/// The `docker service ps` output printed at `[time]`.
fn ps_at<'a>(r: &'a RunResult, time: &str) -> &'a str {
    let head = format!("[{time}] $ docker service ps");
    let rest = r.transcript.split(&head).nth(1).expect("ps in transcript");
    let rest = &rest[rest.find('\n').unwrap() + 1..];
    &rest[..rest.find("\n[").unwrap_or(rest.len())]
}

/// Rows of a `ps` output on `node` (NODE column), header excluded.
fn rows_on<'a>(ps: &'a str, node: &str) -> Vec<&'a str> {
    ps.lines()
        .skip(1)
        .filter(|l| l.split_whitespace().any(|w| w == node))
        .collect()
}

// ----- item 1: a dead global task keeps its node's slot --------------------

/// swarmkit `manager/orchestrator/global/global_test.go` TestTaskFailure,
/// on two nodes. A global service with `--restart-condition none` whose
/// tasks fail is not recreated: not by a no-op update (`reconcileServices`
/// keeps, through `restart.go` `UpdatableTasksInSlot`, the newest dead task
/// of each node as its slot, because `shouldRestart` says no; the updater
/// finds it clean), not by a node label change (`reconcileOneNode`: the
/// slot has one clean task, nothing to add or shut down). A spec change
/// goes through the updater (`updater.go` `worker`: the replacement is
/// bound to the slot's node) and writes `updating` / `completed`.
///
/// 0 s: tasks created on m1 and w1; pulled 1 s, started 2 s; crash 3 s
/// after RUNNING: failed at 5 s, not restarted. 20 s: no-op update, 30 s:
/// label on w1: nothing. 40 s: `--image app:2`: update starts; slot m1:
/// new task 40 s, pull → 41 s, RUNNING 42 s; slot w1: 42 s → RUNNING 44 s;
/// monitor 5 s: completed at 49 s.
#[test]
fn global_dead_task_that_must_not_restart_keeps_its_slot() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --restart-condition none --name g bad\n  - at: 20s\n    docker: docker service update g\n  - at: 30s\n    docker: docker node update --label-add foo=bar w1\n  - at: 35s\n    docker: docker service ps g\n  - at: 40s\n    docker: docker service update --image app:2 g\n",
        cluster(
            2,
            "  bad: {pull: 1s, start: 1s, stop: 0s, crash_after: 3s}\n"
        )
    );
    let r = sim(&yaml);
    assert_eq!(
        created_on(&r, "bad"),
        at(&[("0.000", "m1"), ("0.000", "w1")]),
        "{}",
        r.transcript
    );
    let ps = ps_at(&r, "35s");
    assert_eq!(ps.lines().count(), 3, "{ps}");
    assert_eq!(rows_on(ps, "m1").len(), 1, "{ps}");
    assert!(rows_on(ps, "w1")[0].contains("Shutdown        Failed 30 seconds ago"));
    assert_eq!(
        created_on(&r, "app:2"),
        at(&[("40.000", "m1"), ("42.000", "w1")])
    );
    assert_eq!(
        states(&r),
        pairs(&[("40.000", "updating"), ("49.000", "completed")])
    );
}

/// The same holds for a task that used up `max_attempts` (`shouldRestart`:
/// `numRestarts < MaxAttempts` is false) and for an on-failure task that
/// exited 0 (`shouldRestart`: `RestartOnFailure` and COMPLETE).
///
/// `crash`: 0 s created, RUNNING 2 s, fails 5 s; restarted once (delay
/// 1 s): the replacement is created at 5 s, starts at 6 s (image present),
/// RUNNING 7 s, fails 10 s: max attempts used. `done`: RUNNING 2 s, exits 0
/// at 5 s. Then a no-op update (20 s) and a label change (30 s) create
/// nothing.
#[test]
fn global_tasks_past_max_attempts_or_exited_zero_keep_their_slot() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --restart-max-attempts 1 --restart-delay 1s --name c crash\n  - at: 0s\n    docker: docker service create --mode global --restart-condition on-failure --name d done\n  - at: 20s\n    docker: docker service update c\n  - at: 20s\n    docker: docker service update d\n  - at: 30s\n    docker: docker node update --label-add foo=bar m1\n",
        cluster(
            1,
            "  crash: {pull: 1s, start: 1s, stop: 0s, crash_after: 3s}\n  done: {pull: 1s, start: 1s, stop: 0s, crash_after: 3s, exit_code: 0}\n"
        )
    );
    let r = sim(&yaml);
    assert_eq!(
        created_on(&r, "crash"),
        at(&[("0.000", "m1"), ("5.000", "m1")]),
        "{}",
        r.transcript
    );
    assert_eq!(created_on(&r, "done"), at(&[("0.000", "m1")]));
    assert!(states(&r).is_empty());
}

/// `docker service update --force` on a global service whose tasks are
/// dead goes through the updater (`global.go` `reconcileServices` hands the
/// dead slots to `updater.Update`; `--force` bumps `ForceUpdate`, so
/// `IsTaskDirty` is true): `updating` is written at once. The new task on
/// m1 (41 s, RUNNING 42 s, image present) fails 3 s later, within the
/// 5 s monitor: 1 failure of 2 slots > ratio 0, so the update pauses at
/// 45 s; w1's task was created at 42 s when m1's slot was done.
#[test]
fn force_on_a_dead_global_service_runs_an_update() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --restart-condition none --name g bad\n  - at: 41s\n    docker: docker service update --force g\n",
        cluster(
            2,
            "  bad: {pull: 1s, start: 1s, stop: 0s, crash_after: 3s}\n"
        )
    );
    let r = sim(&yaml);
    assert_eq!(
        created_on(&r, "bad"),
        at(&[
            ("0.000", "m1"),
            ("0.000", "w1"),
            ("41.000", "m1"),
            ("42.000", "w1")
        ]),
        "{}",
        r.transcript
    );
    assert_eq!(
        states(&r),
        pairs(&[("41.000", "updating"), ("45.000", "paused")])
    );
}

// ----- item 2: a paused node is skipped -------------------------------------

/// `global.go` `reconcileServices`: "the node is paused, so we won't add or
/// update any tasks"; `updater.go` `worker`: a global replacement is
/// created with its slot's node. Three nodes, w1 paused at 10 s,
/// `--force` at 11 s: the updater gets m1's and w2's slots only. m1: new
/// task 11 s, RUNNING 12 s; w2: 12 s → 13 s; completed after the 5 s
/// monitor, at 18 s. w1 keeps its one running task. When w1 is made active
/// again (30 s), `reconcileOneNode` finds its task out of date and replaces
/// it at once, outside any rolling update (no new update status).
#[test]
fn force_on_a_global_service_skips_a_paused_node() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --name g app:1\n  - at: 10s\n    docker: docker node update --availability pause w1\n  - at: 11s\n    docker: docker service update --force g\n  - at: 20s\n    docker: docker service ps g\n  - at: 30s\n    docker: docker node update --availability active w1\n  - at: 40s\n    docker: docker service ps g\n",
        cluster(3, "")
    );
    let r = sim(&yaml);
    assert_eq!(
        created_on(&r, "app:1"),
        at(&[
            ("0.000", "m1"),
            ("0.000", "w1"),
            ("0.000", "w2"),
            ("11.000", "m1"),
            ("12.000", "w2"),
            ("30.000", "w1")
        ]),
        "{}",
        r.transcript
    );
    assert_eq!(
        states(&r),
        pairs(&[("11.000", "updating"), ("18.000", "completed")])
    );
    let ps = ps_at(&r, "20s");
    let w1 = rows_on(ps, "w1");
    assert_eq!(w1.len(), 1, "{ps}");
    assert!(
        w1[0].contains("Running         Running 18 seconds ago"),
        "{ps}"
    );
    assert!(!ps.contains("Pending"), "{ps}");
    assert_eq!(rows_on(ps, "m1").len(), 2, "{ps}");
    assert_eq!(rows_on(ps, "w2").len(), 2, "{ps}");
    let ps = ps_at(&r, "40s");
    let w1 = rows_on(ps, "w1");
    assert_eq!(w1.len(), 2, "{ps}");
    assert!(
        w1[0].contains("Running         Running 9 seconds ago"),
        "{ps}"
    );
    assert!(
        w1[1].contains("Shutdown        Shutdown 10 seconds ago"),
        "{ps}"
    );
}

/// A failed global task on a paused node is shut down, not restarted
/// (`global.go` `tickTasks`).
#[test]
fn a_global_task_failing_on_a_paused_node_is_not_restarted() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --name g bad\n  - at: 3s\n    docker: docker node update --availability pause w1\n",
        cluster(
            2,
            "  bad: {pull: 1s, start: 1s, stop: 0s, crash_after: 3s}\nuntil: 9s\n"
        )
    );
    let r = sim(&yaml);
    // m1's task fails at 5 s and is replaced (restart delay 5 s: the new
    // task is created at once); w1's is not.
    assert_eq!(
        created_on(&r, "bad"),
        at(&[("0.000", "m1"), ("0.000", "w1"), ("5.000", "m1")]),
        "{}",
        r.transcript
    );
}

// ----- item 4: the default manager ------------------------------------------

/// A swarm always has the node `docker swarm init` ran on: with no node
/// marked `role: manager`, the first listed node is the manager and the
/// leader (moby `daemon/cluster/swarm.go` `Init` makes the node it runs
/// on the first manager, hence the raft leader), shown as `Leader` by `docker node ls`
/// (docker/cli `cli/command/node/formatter.go` `ManagerStatus`) and
/// matched by `node.role==manager` (swarmkit `manager/constraint`). All
/// three replicas go to node1, created at 0 s, RUNNING at 2 s.
#[test]
fn first_listed_node_is_the_manager_when_none_is_named() {
    let yaml = "cluster:\n  nodes:\n    - name: node{n}\n      count: 3\nimages:\n  default: {pull: 1s, start: 1s, stop: 0s}\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web --constraint node.role==manager web:1\n  - at: 5s\n    docker: docker node ls\n  - at: 6s\n    docker: docker service ps web\n";
    let r = sim(yaml);
    let ls = r
        .transcript
        .split("[5s] $ docker node ls\n")
        .nth(1)
        .unwrap();
    let lines: Vec<&str> = ls.lines().take(4).collect();
    assert!(
        lines[1].contains(" *   node1      Ready     Active         Leader "),
        "{ls}"
    );
    assert!(lines[2].contains("node2      Ready     Active                  "));
    assert!(lines[3].contains("node3      Ready     Active                  "));
    let ps = ps_at(&r, "6s");
    assert_eq!(rows_on(ps, "node1").len(), 3, "{ps}");
    assert!(ps.contains("Running 4 seconds ago"), "{ps}");
    assert_eq!(r.summary.services["web"].running_replicas, 3);
}

// ----- item 3: --explain names the node avoided for its failures ------------

/// swarmkit `manager/scheduler/scheduler.go` (`nodeLess`, `maxFailures`
/// 5, `monitorFailures` 5 min; failures recorded by `nodeinfo.go`
/// `taskFailed`): a node with 5 or more recent failures of the service
/// version ranks after the others. One replica, restart delay 0: the task
/// starts in 1 s and crashes 1 s after RUNNING, so tasks created at 0, 2,
/// 4, 6, 8 s fail on m1 (listed first, tie on counts) at 2, 4, 6, 8, 10 s;
/// the replacement created at 10 s goes to w1, and `--explain` says why.
#[test]
fn explain_names_the_node_avoided_for_recent_failures() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --restart-delay 0s --name web bad\nuntil: 11s\n",
        cluster(
            2,
            "  bad: {pull: 0s, start: 1s, stop: 0s, crash_after: 1s}\n"
        )
    );
    let r = sim_with(&yaml, true);
    let placed: Vec<&str> = r
        .transcript
        .lines()
        .filter(|l| l.contains(" placed on "))
        .collect();
    assert_eq!(placed.len(), 6, "{}", r.transcript);
    for l in &placed[..5] {
        assert!(l.contains(" placed on m1: 0 task(s) of the service and 0 in all there, the fewest (ties go to the node listed first)"), "{l}");
    }
    assert!(
        placed[5].starts_with("[10s] # web.1: task "),
        "{}",
        placed[5]
    );
    assert!(
        placed[5].ends_with(" placed on w1: m1 (5 failures) avoided for recent failures of this service (5 or more in 5 minutes sink a node); of the others, w1 has the fewest tasks: 0 of the service and 0 in all (ties go to the node listed first)"),
        "{}",
        placed[5]
    );
}

// ----- item 5: real docker flags --------------------------------------------

/// `--stop-signal` with `--stop-grace-period` (moby `daemon/stop.go`
/// `containerStop`: send the stop signal, wait the grace period, SIGKILL;
/// moby `daemon/cluster/executor/container/container.go` passes `StopSignal`,
/// `controller.go` `Shutdown` the `StopGracePeriod`). `web:1` takes 8 s to stop on
/// SIGTERM. Stop-first update at 10 s; the new task pulls `web:2` (1 s)
/// while the old one stops, starts 1 s after it stopped; completed after
/// the 5 s monitor.
/// - default (SIGTERM, grace 10 s): old stops at 18 s, new RUNNING 19 s,
///   completed 24 s;
/// - `--stop-signal SIGKILL`: old dies at once (10 s), new RUNNING 12 s
///   (pull 11 s, start 12 s), completed 17 s;
/// - `--stop-signal SIGSTOP --stop-grace-period 3s`: the process never
///   ends; killed at 13 s, new RUNNING 14 s, completed 19 s.
#[test]
fn stop_signal_and_grace_period_set_the_stop_time() {
    let run = |flags: &str| {
        let yaml = format!(
            "{}timeline:\n  - at: 0s\n    docker: docker service create --replicas 1 --name web {flags} web:1\n  - at: 10s\n    docker: docker service update --image web:2 web\n",
            cluster(1, "  \"web:1\": {pull: 1s, start: 1s, stop: 8s}\n")
        );
        states(&sim(&yaml))
    };
    assert_eq!(
        run(""),
        pairs(&[("10.000", "updating"), ("24.000", "completed")])
    );
    assert_eq!(
        run("--stop-signal SIGKILL"),
        pairs(&[("10.000", "updating"), ("17.000", "completed")])
    );
    assert_eq!(
        run("--stop-signal SIGSTOP --stop-grace-period 3s"),
        pairs(&[("10.000", "updating"), ("19.000", "completed")])
    );
}

/// A real deploy line is accepted (docker/cli `cli/command/service/opts.go`
/// `addServiceFlags`, `create.go`), the settings are shown where
/// `docker service inspect --pretty` shows them (docker/cli
/// `cli/command/service/formatter.go` `serviceInspectPrettyTemplate`),
/// the transcript says once that they are not modelled, and changing one
/// (`--mount-add`) redeploys the tasks through the updater because the task
/// spec differs (swarmkit `orchestrator.IsTaskDirty`): 11 s update start,
/// slot 1: new task 11 s, the old one stops at once, RUNNING 12 s (image
/// present); slot 2: 12 s → 13 s; completed 18 s.
#[test]
fn real_deploy_flags_are_kept_shown_and_noted_once() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --name api --replicas 2 --network front --network name=back,alias=db --mount type=bind,source=/srv/data,target=/data,readonly --secret source=db_pw,target=/run/secrets/pw --config app_cfg --log-driver json-file --log-opt max-size=10m --user 1000 --workdir /app --cap-add net_admin --sysctl net.core.somaxconn=1024 --ulimit nofile=1024:2048 api:1\n  - at: 10s\n    docker: docker service inspect --pretty api\n  - at: 11s\n    docker: docker service update --mount-add type=volume,src=cache,dst=/cache --hostname api api\n",
        cluster(2, "")
    );
    let r = sim(&yaml);
    let t = &r.transcript;
    let expected_pretty = "ContainerSpec:
 Image:\t\tapi:1
 Dir:\t\t/app
 Init:\t\tfalse
 User: 1000
Capabilities:
 Add: CAP_NET_ADMIN
SysCtls:
 net.core.somaxconn: 1024
Ulimits:
 nofile: 1024:2048
Mounts:
 Target:\t/data
  Source:\t/srv/data
  ReadOnly:\ttrue
  Type:\t\tbind
Configs:
 Target:\tapp_cfg
  Source:\tapp_cfg
Secrets:
 Target:\t/run/secrets/pw
  Source:\tdb_pw
Log Driver:
 Name:\t\tjson-file
 LogOpts:
  max-size:       10m

Resources:
Networks: back front 
Endpoint Mode:\tvip

";
    assert!(t.contains(expected_pretty), "{t}");
    assert_eq!(
        t.matches("but not modelled").count(),
        2,
        "one note for the create flags, one for --hostname: {t}"
    );
    assert!(t.contains("[0s] # --cap-add, --config, --log-driver, --log-opt, --mount, --network, --secret, --sysctl, --ulimit, --user, --workdir: kept in the service spec and shown by `docker service inspect --pretty`, but not modelled: no effect on placement or timing (a change to them still redeploys the tasks, as on Swarm)\n"), "{t}");
    assert!(
        t.contains("[11s] # --hostname: kept in the service spec"),
        "{t}"
    );
    assert_eq!(
        states(&r),
        pairs(&[("11.000", "updating"), ("18.000", "completed")])
    );
}

// ----- item 6: a cluster that changes ---------------------------------------

/// `docker swarm update --task-history-limit N` sets the cluster's
/// `Orchestration.TaskHistoryRetentionLimit`, which swarmkit's task reaper
/// (`manager/orchestrator/taskreaper/task_reaper.go` `tick`) uses for every
/// slot it prunes afterwards: oldest terminal tasks first, until the slot
/// holds N. One replica whose task crashes 1 s after RUNNING, restart delay
/// 0, image present at once: tasks are created at 0, 2, 4, 6, 8 s; the one
/// of 8 s runs at 9 s. At 9.5 s a limit of 2 leaves two rows of `web.1`;
/// the default (5) leaves five.
#[test]
fn task_history_limit_caps_each_slot() {
    let run = |limit: &str| {
        let yaml = format!(
            "{}timeline:\n{limit}  - at: 0s\n    docker: docker service create --replicas 1 --restart-delay 0s --name web bad\n  - at: 9500ms\n    docker: docker service ps web\nuntil: 9500ms\n",
            cluster(
                1,
                "  bad: {pull: 0s, start: 1s, stop: 0s, crash_after: 1s}\n"
            )
        );
        let r = sim(&yaml);
        let ps = ps_at(&r, "9.5s").to_string();
        (r.transcript.clone(), ps.lines().count() - 1)
    };
    let (t, rows) = run("  - at: 0s\n    docker: docker swarm update --task-history-limit 2\n");
    assert!(
        t.contains("[0s] $ docker swarm update --task-history-limit 2\nSwarm updated.\n"),
        "{t}"
    );
    assert_eq!(rows, 2, "{t}");
    let (t, rows) = run("");
    assert_eq!(rows, 5, "{t}");
}

/// `kill: SERVICE.NODE` kills a global service's task on that node; the
/// restart supervisor replaces it on the same node (`restart.go`
/// `Restart`: a global task's replacement keeps its `NodeID`) after the
/// 5 s restart delay: created at 10 s, started at 15 s, RUNNING at 16 s.
#[test]
fn kill_a_global_task_by_node() {
    let yaml = format!(
        "{}timeline:\n  - at: 0s\n    docker: docker service create --mode global --name agent agent:1\n  - at: 10s\n    kill: agent.w1\n  - at: 20s\n    docker: docker service ps agent\n",
        cluster(2, "")
    );
    let r = sim(&yaml);
    assert!(
        r.transcript
            .contains("[10s] # kill agent.w1 (exit code 1)\n"),
        "{}",
        r.transcript
    );
    assert_eq!(
        created_on(&r, "agent:1"),
        at(&[("0.000", "m1"), ("0.000", "w1"), ("10.000", "w1")])
    );
    let ps = ps_at(&r, "20s");
    let w1 = rows_on(ps, "w1");
    assert_eq!(w1.len(), 2, "{ps}");
    assert!(
        w1[0].contains("Running         Running 4 seconds ago"),
        "{ps}"
    );
    assert!(
        w1[1].contains("Shutdown        Failed 10 seconds ago"),
        "{ps}"
    );
    assert_eq!(rows_on(ps, "m1").len(), 1, "{ps}");
}

/// Nodes joining and leaving. `w2` is listed with `joined: false`.
/// - 10 s, `docker swarm join` on w2: the node is created `Ready`; the
///   global orchestrator's `reconcileOneNode` (`global.go`, on
///   `EventCreateNode`) adds an `agent` task there at once (RUNNING 12 s:
///   pull 1 s, start 1 s); replicated tasks are not moved.
/// - 20 s, `docker swarm leave` on w1: its containers are gone; the
///   managers mark it down when its heartbeats are overdue (dispatcher
///   `nodes.go`: 3 periods of 5 s ± 0.5 s after the last one, i.e. 10 to
///   16.5 s later, drawn from the node's own stream), then `web.2` is
///   replaced on another node (started after the 5 s restart delay); w1
///   shows `Down` in `docker node ls`.
/// - 21 s, `docker node rm w1` fails: the node is not down yet
///   (controlapi `node.go` `RemoveNode`).
/// - 51 s, `docker node rm w1`: removed; its unfinished task becomes
///   ORPHANED (`orphanNodeTasks`), its global task is deleted
///   (`global.go` `EventDeleteNode` → `deleteTask`), and `docker node ls`
///   no longer lists it.
#[test]
fn nodes_join_leave_and_are_removed() {
    let yaml = "cluster:\n  nodes:\n    - name: m1\n      role: manager\n    - name: w1\n    - name: w2\n      joined: false\nimages:\n  default: {pull: 1s, start: 1s, stop: 0s}\ntimeline:\n  - at: 0s\n    docker: docker service create --mode global --name agent agent:1\n  - at: 0s\n    docker: docker service create --replicas 2 --name web web:1\n  - at: 5s\n    docker: docker node ls\n  - at: 10s\n    node: {name: w2, state: join}\n  - at: 20s\n    node: {name: w1, state: leave}\n  - at: 21s\n    docker: docker node rm w1\n  - at: 50s\n    docker: docker node ls\n  - at: 51s\n    docker: docker node rm w1\n  - at: 52s\n    docker: docker service ps agent web\n  - at: 53s\n    docker: docker node ls\nuntil: 1m\n";
    let r = sim(yaml);
    let t = &r.transcript;
    let ls = |time: &str| -> Vec<String> {
        let rest = t
            .split(&format!("[{time}] $ docker node ls\n"))
            .nth(1)
            .unwrap();
        rest.lines()
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .filter(|w| *w != "*")
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(ls("5s"), ["m1 Ready", "w1 Ready"], "{t}");
    assert_eq!(
        created_on(&r, "agent:1"),
        at(&[("0.000", "m1"), ("0.000", "w1"), ("10.000", "w2")])
    );
    assert!(t.contains("[21s] $ docker node rm w1\nError response from daemon: rpc error: code = FailedPrecondition desc = node "), "{t}");
    assert!(t.contains(" is not down and can't be removed\n"), "{t}");
    assert_eq!(ls("50s"), ["m1 Ready", "w1 Down", "w2 Ready"], "{t}");
    // web.2 (on w1) is replaced once w1 is marked down, 2 to 3 heartbeat
    // periods after the leave (29 to 36.5 s): the restart supervisor
    // creates the replacement at once (it starts after the 5 s restart
    // delay); it goes to w2, the node with the fewest tasks.
    let web = created_on(&r, "web:1");
    assert_eq!(web.len(), 3, "{web:?}");
    let at_s: f64 = web[2].0.parse().unwrap();
    assert!((29.0..=36.5).contains(&at_s), "{web:?}");
    assert_eq!(web[2].1, "w2");
    assert!(t.contains("[51s] $ docker node rm w1\nw1\n"), "{t}");
    let ps = ps_at(&r, "52s");
    assert!(
        rows_on(ps, "w1")
            .iter()
            .all(|l| l.contains("web.2") && l.contains("Shutdown        Orphaned 1 second ago")),
        "{ps}"
    );
    assert!(
        !ps.contains("agent.") || rows_on(ps, "w1").iter().all(|l| !l.contains("agent")),
        "{ps}"
    );
    assert_eq!(ls("53s"), ["m1 Ready", "w2 Ready"], "{t}");
    assert_eq!(r.summary.services["agent"].running_replicas, 2);
    assert_eq!(r.summary.services["web"].running_replicas, 2);
    // A removed node leaves no dispatcher event behind (no 24 h
    // orphaning): without `until`, the run ends with its last item.
    let r = sim(&yaml.replace("until: 1m\n", ""));
    assert_eq!(r.end.since_start(), swarmsim::sim::time::secs(53));
}

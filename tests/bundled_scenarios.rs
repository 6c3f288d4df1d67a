//! Every bundled scenario validates, and each one shows the facts its top
//! comment promises (checked by hand against the Swarm reference).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use swarmsim::report::results::{ServiceSummary, Summary};
use swarmsim::runner::{RunOptions, RunResult, run};
use swarmsim::scenario::load;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn run_bundled(file: &str) -> RunResult {
    let path = scenarios_dir().join(file);
    let scenario = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        keep_log: true,
        ..RunOptions::default()
    };
    let result = run(Rc::new(scenario), &opts);
    assert!(
        !result.summary.hit_safety_limit,
        "{file}: stopped at the safety limit"
    );
    result
}

fn service<'a>(s: &'a Summary, name: &str) -> &'a ServiceSummary {
    s.services
        .get(name)
        .unwrap_or_else(|| panic!("no service {name} in the summary"))
}

/// (kind, started_s, ended_s, state) of every update episode.
fn episodes(s: &ServiceSummary) -> Vec<(&str, f64, Option<f64>, &str)> {
    s.updates
        .iter()
        .map(|u| (u.kind, u.started_s, u.ended_s, u.state))
        .collect()
}

/// Rows of events.csv with this `kind` and `state` (and node, if given).
fn event_times(r: &RunResult, kind: &str, state: &str, node: Option<&str>) -> Vec<f64> {
    r.events_csv()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.splitn(10, ',').collect();
            let ok = cols.get(1) == Some(&kind)
                && cols.get(7) == Some(&state)
                && node.is_none_or(|n| cols.get(5) == Some(&n));
            ok.then(|| cols[0].parse::<f64>().expect("time_s"))
        })
        .collect()
}

#[test]
fn every_bundled_scenario_validates() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "bundled scenarios missing: {files:?}");
    for f in &files {
        if let Err(e) = load(f) {
            panic!("{e}");
        }
        let text = std::fs::read_to_string(f).expect("readable");
        assert!(
            text.starts_with('#'),
            "{}: a bundled scenario starts with a comment saying what it teaches",
            f.display()
        );
    }
}

#[test]
fn bad_image_pause() {
    let r = run_bundled("bad-image-pause.yaml");
    let web = service(&r.summary, "web");
    assert_eq!(
        episodes(web),
        vec![
            ("update", 30.0, Some(33.0), "paused"),
            ("update", 60.0, Some(63.0), "paused"),
            ("rollback", 100.0, Some(102.5), "rollback_paused"),
        ]
    );
    assert_eq!(web.update_state.as_deref(), Some("rollback_paused"));
    let msg = web.update_message.as_deref().unwrap_or_default();
    assert!(
        msg.starts_with("update paused due to failure or early termination of task "),
        "{msg}"
    );
    assert_eq!(web.min_running_during_updates, Some(0));
    assert_eq!(web.image, "web:2");
    // The paused state as `inspect --pretty` shows it, and the crash loop.
    assert!(r.transcript.contains(" State:\t\tpaused\n"));
    assert!(r.transcript.contains("\"task: non-zero exit (1)\""));
    assert_eq!(
        event_times(&r, "update", "rollback_started", None),
        vec![100.0]
    );
}

#[test]
fn bad_image_rollback() {
    let r = run_bundled("bad-image-rollback.yaml");
    let web = service(&r.summary, "web");
    assert_eq!(
        episodes(web),
        vec![
            ("update", 30.0, Some(33.0), "rollback_started"),
            ("rollback", 33.0, Some(39.0), "rollback_completed"),
        ]
    );
    assert_eq!(web.update_state.as_deref(), Some("rollback_completed"));
    assert_eq!(web.update_message.as_deref(), Some("rollback completed"));
    assert_eq!(web.image, "web:1");
    assert_eq!(web.running_replicas, 3);
    assert_eq!(web.min_running_during_updates, Some(2));
    // The failed slot's history, newest first, as a real engine showed it
    // (`docs/swarm-rules.md#kernel-watch-order`).
    let ps = r
        .transcript
        .split("[1m0s] $ docker service ps web\n")
        .nth(1)
        .expect("ps at 1m");
    let slot1: Vec<(&str, &str, &str)> = ps
        .lines()
        .skip(1)
        .take_while(|l| !l.contains("web.2"))
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            let name_at = c.iter().position(|w| w.starts_with("web.")).expect("name");
            (c[name_at + 1], c[name_at + 3], c[name_at + 4])
        })
        .collect();
    assert_eq!(
        slot1,
        vec![
            ("web:1", "Running", "Running"),
            ("web:2", "Shutdown", "Shutdown"),
            ("web:2", "Shutdown", "Failed"),
            ("web:1", "Shutdown", "Shutdown"),
        ]
    );
    assert!(r.transcript.contains("does not have a previous spec"));
}

#[test]
fn start_first_vs_stop_first() {
    let r = run_bundled("start-first-vs-stop-first.yaml");
    let sf = service(&r.summary, "startfirst");
    let st = service(&r.summary, "stopfirst");
    assert_eq!(
        episodes(sf),
        vec![("update", 30.0, Some(77.0), "completed")]
    );
    assert_eq!(
        episodes(st),
        vec![("update", 30.0, Some(86.0), "completed")]
    );
    assert_eq!(sf.min_running_during_updates, Some(3));
    assert_eq!(st.min_running_during_updates, Some(2));
    let ls = r
        .transcript
        .split("[34s] $ docker service ls\n")
        .nth(1)
        .expect("ls at 34s");
    let replicas = |name: &str| {
        ls.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .and_then(|l| l.split_whitespace().nth(3))
            .expect("row")
    };
    assert_eq!(replicas("startfirst"), "4/3");
    assert_eq!(replicas("stopfirst"), "2/3");
}

#[test]
fn node_drain_and_loss() {
    let r = run_bundled("node-drain-and-loss.yaml");
    let web = service(&r.summary, "web");
    assert_eq!(web.update_state.as_deref(), Some("completed"));
    assert_eq!(web.min_running_during_updates, Some(2));
    // The drained node's task is replaced at once, from the new spec.
    assert_eq!(
        event_times(&r, "node", "drain", Some("worker1")),
        vec![35.0]
    );
    // The lost node is declared Down 2-3 heartbeat periods after it stopped.
    let down = event_times(&r, "node", "down", Some("worker3"));
    assert_eq!(down.len(), 1);
    assert!((45.0..=52.5).contains(&down[0]), "worker3 down at {down:?}");
    assert!(r.transcript.contains("worker3    Ready"));
    assert!(r.transcript.contains("worker3    Down"));
}

/// The updater does not create a task for a slot whose old task was
/// already shut down (by the drain / the node loss) when it reaches it
/// (swarmkit `updateTask` → `removeOldTasks` error, batch aborted): slots
/// at 30, 42 (aborted), 52, 63.5 (aborted), + 10 s delay + 11 s watch.
#[test]
fn node_drain_and_loss_reference() {
    let r = run_bundled("node-drain-and-loss.yaml");
    let web = service(&r.summary, "web");
    assert_eq!(
        episodes(web),
        vec![("update", 30.0, Some(84.5), "completed")]
    );
    assert_eq!(web.running_replicas, 4);
}

#[test]
fn failure_ratio_continue() {
    let r = run_bundled("failure-ratio-continue.yaml");
    let tolerant = service(&r.summary, "tolerant");
    let strict = service(&r.summary, "strict");
    let workers = service(&r.summary, "workers");
    assert_eq!(
        episodes(tolerant),
        vec![("update", 30.0, Some(89.0), "completed")]
    );
    assert_eq!(
        episodes(strict),
        vec![("update", 30.0, Some(45.0), "paused")]
    );
    assert_eq!(
        episodes(workers),
        vec![("update", 30.0, Some(88.0), "completed")]
    );
    assert!(workers.task_failures > 0, "seed 1 draws failed starts");
    assert_eq!(workers.running_replicas, 8);
    assert_eq!(tolerant.task_failures, 1);
    assert_eq!(strict.task_failures, 2);
}

#[test]
fn parallelism_zero() {
    let r = run_bundled("parallelism-zero.yaml");
    let web = service(&r.summary, "web");
    let api = service(&r.summary, "api");
    assert_eq!(
        episodes(web),
        vec![("update", 30.0, Some(37.0), "completed")]
    );
    assert_eq!(
        episodes(api),
        vec![("update", 30.0, Some(53.0), "completed")]
    );
    assert_eq!(web.min_running_during_updates, Some(0));
    assert_eq!(api.min_running_during_updates, Some(4));
}

#[test]
fn redis_tutorial() {
    let r = run_bundled("redis-tutorial.yaml");
    let redis = service(&r.summary, "redis");
    assert_eq!(redis.update_state.as_deref(), Some("rollback_completed"));
    assert_eq!(redis.min_running_during_updates, Some(2));
}

#[test]
fn global_agents() {
    let r = run_bundled("global-agents.yaml");
    let t = &r.transcript;
    // node1, listed first, is the manager and leader.
    assert!(
        t.contains(" *   node1      Ready     Active         Leader "),
        "{t}"
    );
    // The dead migrate tasks keep their slots: one task per node, ever.
    let migrate = service(&r.summary, "migrate");
    assert_eq!(migrate.running_replicas, 0);
    let created = event_times(&r, "task", "new", None).len();
    // agent: 3 + 2 (--force, node3 paused) + 1 (node4); migrate: 3 + 1.
    assert_eq!(created, 10, "{t}");
    let agent = service(&r.summary, "agent");
    assert_eq!(
        episodes(agent),
        vec![("update", 31.0, Some(38.0), "completed")]
    );
    assert_eq!(agent.running_replicas, 4);
    assert!(!t.contains("Pending"), "{t}");
}

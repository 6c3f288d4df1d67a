use super::*;
use crate::dist::Dist;
use crate::scenario::Scenario;
use crate::sim::time::{SimDuration, millis, secs};
use crate::swarm::model::{
    Availability, FailureAction, NodeRole, PublishMode, RestartCondition, ServiceMode, ServiceSpec,
    UpdateOrder,
};
use serde_json::json;

const S: i64 = 1_000_000_000;

/// The answers of a real Docker 20.10.24 engine (tests/fixtures/snapshot/).
fn fixture() -> EngineState {
    EngineState::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshot"))
        .unwrap()
}

fn load(y: &str) -> Scenario {
    crate::scenario::parse_str(y, Path::new("snapshot.yaml")).unwrap_or_else(|e| panic!("{e}\n{y}"))
}

fn svc<'a>(s: &'a Scenario, name: &str) -> &'a ServiceSpec {
    s.services
        .iter()
        .find(|x| *x.name == *name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

#[test]
fn the_fixture_becomes_a_scenario_with_every_field() {
    let y = scenario_yaml(&fixture(), &Options::default()).unwrap();
    let s = load(&y);
    // The node.
    assert_eq!(s.nodes.len(), 1);
    let n = &s.nodes[0];
    assert_eq!(&*n.name, "vm");
    assert_eq!(n.role, NodeRole::Manager);
    assert_eq!(n.availability, Availability::Active);
    assert_eq!(
        n.labels.iter().collect::<Vec<_>>(),
        [
            (&"disk".to_string(), &"ssd".to_string()),
            (&"zone".to_string(), &"a".to_string())
        ]
    );
    assert_eq!((n.nano_cpus, n.memory_bytes), (2 * S, 25_276_510_208));

    // Services in name order; the job-free fixture keeps all five.
    let names: Vec<&str> = s.services.iter().map(|x| &*x.name).collect();
    assert_eq!(names, ["agent", "crashy", "front", "plain", "web"]);

    // web: every option it was created with (see tests/fixtures/snapshot/README.md).
    let web = svc(&s, "web");
    assert_eq!(web.mode, ServiceMode::Replicated { replicas: 3 });
    assert_eq!(web.task.image, "swarmsim-test:v2");
    assert_eq!(web.labels.get("team").map(String::as_str), Some("web"));
    let u = web.update_config.unwrap();
    assert_eq!(
        (u.parallelism, u.delay, u.failure_action, u.monitor, u.order),
        (
            2,
            secs(2),
            FailureAction::Rollback,
            secs(3),
            UpdateOrder::StartFirst
        )
    );
    assert_eq!(u.max_failure_ratio, 0.25);
    let r = web.rollback_config.unwrap();
    assert_eq!(
        (r.parallelism, r.delay, r.failure_action, r.monitor, r.order),
        (
            1,
            secs(1),
            FailureAction::Continue,
            secs(2),
            UpdateOrder::StopFirst
        )
    );
    assert_eq!(r.max_failure_ratio, 0.0);
    let rp = web.task.restart_policy.unwrap();
    assert_eq!(
        (rp.condition, rp.delay, rp.max_attempts, rp.window),
        (RestartCondition::OnFailure, Some(secs(2)), 3, secs(30))
    );
    let pl = &web.task.placement;
    assert_eq!(
        pl.constraints,
        ["node.role==manager", "node.labels.zone==a"]
    );
    assert_eq!(pl.preferences.len(), 1);
    assert_eq!(pl.preferences[0].spread, "node.labels.zone");
    assert_eq!(pl.max_replicas, 3);
    let res = web.task.resources;
    assert_eq!(
        (
            res.reserve_nano_cpus,
            res.reserve_memory,
            res.limit_nano_cpus,
            res.limit_memory,
            res.limit_pids
        ),
        (100_000_000, 16 << 20, 500_000_000, 64 << 20, 100)
    );
    let hc = web.task.healthcheck.as_ref().unwrap();
    assert_eq!(hc.test, ["CMD-SHELL", "test -e /healthy"]);
    assert_eq!(
        (hc.interval, hc.timeout, hc.retries, hc.start_period),
        (secs(1), secs(2), 2, secs(1))
    );
    // Docker 20.10 probes at the interval during the start period.
    assert_eq!(hc.start_interval, secs(1));
    assert_eq!(web.task.stop_grace_period, Some(secs(5)));
    assert_eq!(web.endpoint_mode, "vip");
    // No environment (the service has SECRET=hunter2), no args.
    assert!(web.task.env.is_empty() && web.task.args.is_empty());
    assert!(!y.contains("hunter2") && !y.contains("SECRET"), "{y}");

    let agent = svc(&s, "agent");
    assert_eq!(agent.mode, ServiceMode::Global);
    assert_eq!(agent.task.healthcheck.as_ref().unwrap().interval, secs(2));
    assert!(agent.update_config.is_none() && agent.task.restart_policy.is_none());

    let front = svc(&s, "front");
    let ports: Vec<(u32, u32, &str, PublishMode)> = front
        .ports
        .iter()
        .map(|p| (p.target, p.published, p.protocol.as_str(), p.mode))
        .collect();
    assert_eq!(
        ports,
        [
            (80, 8082, "tcp", PublishMode::Ingress),
            (81, 8083, "tcp", PublishMode::Host)
        ]
    );

    let crashy = svc(&s, "crashy").task.restart_policy.unwrap();
    assert_eq!(
        (crashy.condition, crashy.delay, crashy.max_attempts),
        (RestartCondition::Any, Some(secs(1)), 2)
    );
    let plain = svc(&s, "plain");
    assert_eq!(plain.mode, ServiceMode::Replicated { replicas: 2 });
    assert!(plain.update_config.is_none() && plain.rollback_config.is_none());

    // No action in the timeline: only commented update lines, one per service.
    assert!(s.timeline.is_empty());
    for (name, image) in [
        ("agent", "swarmsim-test:v1"),
        ("crashy", "swarmsim-test:crash"),
        ("front", "swarmsim-test:v1"),
        ("plain", "swarmsim-test:v2"),
        ("web", "swarmsim-test:v2"),
    ] {
        let line = format!("  #   docker: docker service update --image {image} {name}\n");
        assert!(y.contains(&line), "missing {line:?}");
    }
    // The update in progress is said.
    assert!(y.contains("UpdateStatus updating"));
    assert!(y.contains("the previous image was swarmsim-test:v1"));
}

#[test]
fn uncommented_update_lines_run() {
    let y = scenario_yaml(&fixture(), &Options::default()).unwrap();
    let edited = y.replace(
        "  # - at: 1m\n  #   docker: docker service update --image swarmsim-test:v2 plain",
        "  - at: 1m\n    docker: docker service update --image swarmsim-test:v3 plain",
    );
    assert_ne!(edited, y);
    let s = load(&edited);
    assert_eq!(s.timeline.len(), 1);
    let result = crate::runner::run(std::rc::Rc::new(s), &Default::default());
    assert!(
        result
            .transcript
            .contains("$ docker service update --image swarmsim-test:v3 plain\nplain\n"),
        "{}",
        result.transcript
    );
}

#[test]
fn images_are_fitted_from_the_task_timestamps() {
    let y = scenario_yaml(&fixture(), &Options::default()).unwrap();
    let s = load(&y);
    // swarmsim-test:v1 has 5 start samples, a fit; v2 (2) and crash (0)
    // have too few and take the default entry.
    let v1 = s.images.images.get("swarmsim-test:v1").expect("v1 fitted");
    assert_eq!(v1.pull, Dist::Fixed(SimDuration::ZERO));
    assert!(!matches!(v1.start, Dist::Fixed(_)), "{:?}", v1.start);
    assert_eq!(s.images.profile("swarmsim-test:v2"), &s.images.default);
    assert!(y.contains("\"swarmsim-test:v2\":   # too little history (4 tasks, 2 start samples, 0 stop samples): the default entry"), "{y}");
    assert!(y.contains("# 3 of 3 tasks failed (exit 1 ×3)"), "{y}");
    // The goodness of fit as calibrate prints it.
    assert!(y.contains("    # start: n=5, lognormal: KS D="), "{y}");
    assert!(y.contains("    # start: n=7, "), "{y}");
    // The pooled default: both stop-first stops of plain (1.3 s each).
    assert_eq!(s.images.default.stop, Dist::Fixed(millis(1303)));
}

#[test]
fn no_labels_drops_node_and_service_labels() {
    let y = scenario_yaml(&fixture(), &Options { no_labels: true }).unwrap();
    let s = load(&y);
    assert!(s.nodes.iter().all(|n| n.labels.is_empty()));
    assert!(s.services.iter().all(|x| x.labels.is_empty()));
    assert!(
        !y.contains("zone\": \"a\"") && !y.contains("\"team\""),
        "{y}"
    );
    assert!(y.contains("--no-labels: constraints on node.labels cannot be met"));
}

#[test]
fn the_listing_order_of_the_engine_does_not_matter() {
    let a = scenario_yaml(&fixture(), &Options::default()).unwrap();
    let mut st = fixture();
    for v in [&mut st.nodes, &mut st.services, &mut st.tasks] {
        if let Value::Array(items) = v {
            items.reverse();
        }
    }
    assert_eq!(a, scenario_yaml(&st, &Options::default()).unwrap());
}

fn time(sec: f64) -> String {
    let ns = (sec * 1e9) as i64;
    format!("2026-01-01T00:00:{:02}.{:09}Z", ns / S, ns % S)
}

fn task(svc: &str, slot: u64, image: &str, created: f64, state: &str, ts: f64) -> Value {
    json!({"ServiceID": svc, "Slot": slot, "NodeID": "n1", "CreatedAt": time(created),
           "Status": {"State": state, "Timestamp": time(ts)}, "DesiredState": "running",
           "Spec": {"ContainerSpec": {"Image": image}}})
}

fn history(tasks: Vec<Value>) -> BTreeMap<String, ImageHistory> {
    let st = EngineState {
        info: json!({}),
        nodes: json!([]),
        services: json!([]),
        tasks: Value::Array(tasks),
        watched: None,
    };
    histories(&tasks_of(&st))
}

#[test]
fn start_and_stop_samples_follow_each_slot() {
    let h = history(vec![
        // Stop-first: the new task (created at 9) waits for the old one
        // (stopped at 10) and runs at 11: start 1s, stop 1s.
        task("a", 1, "x:1", 0.0, "shutdown", 10.0),
        task("a", 1, "x:2", 9.0, "running", 11.0),
        // Start-first: the new one runs at 11 (2s after its creation), the
        // old one is asked to stop then and stops at 12.5: stop 1.5s.
        task("a", 2, "x:1", 0.0, "shutdown", 12.5),
        task("a", 2, "x:2", 9.0, "running", 11.0),
        // A restart after a failure at 5: the restart delay (5s) comes first.
        task("b", 1, "x:3", 0.0, "failed", 5.0),
        task("b", 1, "x:3", 5.0, "running", 10.25),
    ]);
    let x2 = &h["x:2"];
    assert_eq!(x2.start, [1.0, 2.0]);
    let x1 = &h["x:1"];
    assert_eq!(x1.stop, [1.0, 1.5]);
    let x3 = &h["x:3"];
    assert!((x3.start[0] - 0.25).abs() < 1e-9, "{:?}", x3.start);
    assert_eq!(x3.failed, 1);
}

#[test]
fn edge_cases_of_a_live_swarm() {
    let node = |id: &str, host: &str, role: &str, state: &str| {
        json!({"ID": id, "Spec": {"Role": role, "Availability": "drain", "Labels": {}},
               "Description": {"Hostname": host, "Resources": {"NanoCPUs": 1_500_000_000i64, "MemoryBytes": 1i64 << 30}},
               "Status": {"State": state}})
    };
    let st = EngineState {
        info: json!({"Name": "m1", "ServerVersion": "27.0", "SystemTime": "2026-01-01T00:00:00Z"}),
        nodes: json!([
            node("bbbbbbbbbbbbbbb", "w", "worker", "down"),
            node("aaaaaaaaaaaaaaa", "w", "worker", "ready"),
            node("ccccccccccccccc", "m1", "manager", "ready"),
        ]),
        services: json!([
            {"Spec": {"Name": "job", "Mode": {"ReplicatedJob": {}},
                      "TaskTemplate": {"ContainerSpec": {"Image": "j:1"}}}},
            {"Spec": {"Name": "db", "Mode": {"Replicated": {"Replicas": 1}},
                      "TaskTemplate": {"ContainerSpec": {
                          "Image": "postgres:16@sha256:0123abcd",
                          "Args": ["--password", "s3cret"],
                          "Secrets": [{"SecretName": "pw"}],
                          "Healthcheck": {"Test": ["NONE"]}}}}},
            {"Spec": {"Name": "cache", "Mode": {"Replicated": {"Replicas": 2}},
                      "UpdateConfig": {"Parallelism": 0},
                      "TaskTemplate": {"ContainerSpec": {
                          "Image": "redis:7",
                          "Healthcheck": {"Test": ["CMD", "redis-cli", "ping"], "StartPeriod": 10_000_000_000i64}},
                          "Placement": {"Constraints": ["node.platform.os==linux"]}}}}
        ]),
        tasks: json!([]),
        watched: None,
    };
    let y = scenario_yaml(&st, &Options::default()).unwrap();
    let s = load(&y);
    let names: Vec<&str> = s.nodes.iter().map(|n| &*n.name).collect();
    assert_eq!(names, ["m1", "w-aaaaaaaaaa", "w-bbbbbbbbbb"]);
    assert_eq!(s.nodes[1].availability, Availability::Drain);
    assert_eq!(s.nodes[1].nano_cpus, 1_500_000_000);
    assert!(y.contains("# \"w-bbbbbbbbbb\" was down at the snapshot"));
    assert!(y.contains("  #   node: {name: \"w-bbbbbbbbbb\", state: down}"));
    // Jobs are left out with a reason; digests and secrets are not written.
    assert!(
        y.contains("# \"job\": left out (replicated-job mode: jobs are not simulated)"),
        "{y}"
    );
    let names: Vec<&str> = s.services.iter().map(|x| &*x.name).collect();
    assert_eq!(names, ["cache", "db"]);
    assert_eq!(svc(&s, "db").task.image, "postgres:16");
    assert!(svc(&s, "db").task.healthcheck.as_ref().unwrap().disabled());
    assert!(
        !y.contains("s3cret") && !y.contains("sha256") && !y.contains("\"pw\""),
        "{y}"
    );
    let cache = svc(&s, "cache");
    let hc = cache.task.healthcheck.as_ref().unwrap();
    assert_eq!(hc.test, ["CMD", "redis-cli", "ping"]);
    // Docker 27 has its own start interval (default 5s): none written.
    assert_eq!(
        (hc.start_period, hc.start_interval),
        (secs(10), SimDuration::ZERO)
    );
    // Parallelism absent from the API is 0 (all at once), not the
    // scenario's default of 1.
    assert_eq!(cache.update_config.unwrap().parallelism, 0);
    assert_eq!(
        cache.task.placement.constraints,
        ["node.platform.os==linux"]
    );
    // No task history at all: swarmsim's defaults, said so.
    assert!(y.contains("too little history (0 start samples in all)"));
}

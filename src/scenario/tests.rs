use super::*;
use crate::sim::time::{SimDuration, SimTime, millis, secs};
use crate::swarm::model::{
    FailureAction, Healthcheck, RestartCondition, RestartPolicy, ServiceMode, SpreadPreference,
    UpdateConfig, UpdateOrder,
};

const NODES: &str = "cluster:\n  nodes:\n    - name: m1\n      role: manager\n";

fn ok(text: &str) -> Scenario {
    match parse_str(text, Path::new("s.yaml")) {
        Ok(s) => s,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn err(text: &str) -> String {
    match parse_str(text, Path::new("s.yaml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// The documented scenario keys (`docs/scenario-format.md`) in one file.
const CONTRACT: &str = r#"name: redis rolling update
description: the contract's example
seed: 7
until: 10m
cluster:
  nodes:
    - name: manager1
      role: manager            # manager | worker (default worker)
    - name: worker{n}          # with count, {n} becomes 1..count
      count: 2
      availability: active     # active | pause | drain (default active)
      labels: {zone: a}
      resources: {cpus: 4, memory: 8GiB}
images:
  default:
    pull: 1s
    start: 500ms
    stop: 200ms
    fail_on_start: 0
    crash_after: never
    exit_code: 1
  "redis:3.0.7":
    start: {dist: lognormal, median: 1.5s, p99: 6s}
    fail_on_start: 0.2
services:
  redis:
    image: redis:3.0.6
    deploy:
      mode: replicated
      replicas: 3
      update_config:   {parallelism: 1, delay: 10s, failure_action: pause, monitor: 5s, max_failure_ratio: 0, order: stop-first}
      rollback_config: {parallelism: 1, delay: 0s, failure_action: pause, monitor: 5s, max_failure_ratio: 0, order: stop-first}
      restart_policy:  {condition: any, delay: 5s, max_attempts: 0, window: 0s}
      placement:
        constraints: ["node.role==worker"]
        preferences: [{spread: node.labels.zone}]
        max_replicas_per_node: 0
      resources: {reservations: {cpus: "0.5", memory: 512M}}
    healthcheck: {interval: 5s, timeout: 3s, retries: 3, start_period: 0s}
timeline:
  - at: 0s
    docker: docker service create --replicas 3 --name web --update-delay 10s redis:3.0.6
  - at: 1m
    docker: docker service update --image redis:3.0.7 redis
  - at: 2m
    docker: docker service ps redis
  - at: 2m
    docker: docker service inspect --pretty redis
  - at: 3m
    docker: docker service rollback redis
  - at: 4m
    node: {name: worker2, state: down}     # or state: up, or availability: drain|pause|active
  - at: 5m
    kill: redis.2                          # the running task of slot 2 exits with an error
  - at: 6m
    update: {service: redis, update_config: {parallelism: 2}, image: redis:3.0.7}
  - at: 7m
    rollback: redis
  - at: 8m
    scale: {service: redis, replicas: 5}
  - at: 9m
    ps: redis
  - at: 9m
    inspect: redis
  - at: 9m30s
    node: {name: worker1, availability: drain}
  - at: 9m40s
    kill: {task: redis.1, exit_code: 137}
"#;

#[test]
fn contract_example_loads() {
    let s = ok(CONTRACT);
    assert_eq!(s.name, "redis rolling update");
    assert_eq!(s.seed, Some(7));
    assert_eq!(s.until, Some(SimTime::at(secs(600))));
    let names: Vec<_> = s.nodes.iter().map(|n| &*n.name).collect();
    assert_eq!(names, vec!["manager1", "worker1", "worker2"]);
    assert_eq!(s.nodes[0].role, NodeRole::Manager);
    assert_eq!(s.nodes[2].role, NodeRole::Worker);
    assert_eq!(s.nodes[2].labels.get("zone").map(String::as_str), Some("a"));
    assert_eq!(s.nodes[2].nano_cpus, 4_000_000_000);
    assert_eq!(s.nodes[2].memory_bytes, 8 << 30);

    let redis7 = s.images.profile("redis:3.0.7");
    assert_eq!(
        redis7.start,
        Dist::LogNormal {
            median: millis(1500),
            p99: secs(6)
        }
    );
    assert_eq!(redis7.fail_on_start, 0.2);
    // Omitted keys come from `default`.
    assert_eq!(redis7.pull, Dist::Fixed(secs(1)));
    assert_eq!(redis7.crash_after, None);
    assert_eq!(s.images.profile("nginx"), &s.images.default);

    let svc = &s.services[0];
    assert_eq!(&*svc.name, "redis");
    assert_eq!(svc.mode, ServiceMode::Replicated { replicas: 3 });
    assert_eq!(
        svc.update_config,
        Some(UpdateConfig {
            parallelism: 1,
            delay: secs(10),
            failure_action: FailureAction::Pause,
            monitor: secs(5),
            max_failure_ratio: 0.0,
            order: UpdateOrder::StopFirst,
        })
    );
    assert_eq!(
        svc.rollback_config.map(|c| c.delay),
        Some(SimDuration::ZERO)
    );
    assert_eq!(
        svc.task.restart_policy,
        Some(RestartPolicy {
            condition: RestartCondition::Any,
            delay: Some(secs(5)),
            max_attempts: 0,
            window: SimDuration::ZERO,
        })
    );
    assert_eq!(svc.task.placement.constraints, vec!["node.role==worker"]);
    assert_eq!(
        svc.task.placement.preferences,
        vec![SpreadPreference {
            spread: "node.labels.zone".into()
        }]
    );
    assert_eq!(svc.task.resources.reserve_nano_cpus, 500_000_000);
    assert_eq!(svc.task.resources.reserve_memory, 512 << 20);
    assert_eq!(
        svc.task.healthcheck,
        Some(Healthcheck {
            test: vec![],
            interval: secs(5),
            timeout: secs(3),
            retries: 3,
            start_period: SimDuration::ZERO,
            start_interval: SimDuration::ZERO,
        })
    );

    let t = &s.timeline;
    assert_eq!(t.len(), 14);
    assert_eq!(t[0].at, SimTime::ZERO);
    assert_eq!(t[0].line, 41);
    assert_eq!(t[1].line, 43);
    assert_eq!(t[13].line, 67);
    assert!(matches!(
        &t[0].action,
        Action::Docker { text, command: DockerCommand::ServiceCreate { spec, .. } }
            if text == "docker service create --replicas 3 --name web --update-delay 10s redis:3.0.6"
                && &*spec.name == "web"
    ));
    assert!(matches!(
        &t[5].action,
        Action::Node { name, change: NodeChange::Down } if name == "worker2"
    ));
    assert!(matches!(
        &t[6].action,
        Action::Kill { task, exit_code: 1 } if task == "redis.2"
    ));
    let texts: Vec<&str> = t
        .iter()
        .filter_map(|i| match &i.action {
            Action::Docker { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        &texts[5..],
        &[
            "docker service update --update-parallelism 2 --image redis:3.0.7 redis",
            "docker service rollback redis",
            "docker service scale redis=5",
            "docker service ps redis",
            "docker service inspect --pretty redis",
        ]
    );
    match &t[7].action {
        Action::Docker {
            command: DockerCommand::ServiceUpdate { service, args, .. },
            ..
        } => {
            assert_eq!(service, "redis");
            assert_eq!(args.image.as_deref(), Some("redis:3.0.7"));
            assert_eq!(args.update_config.parallelism, Some(2));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &t[12].action,
        Action::Node {
            change: NodeChange::Availability(Availability::Drain),
            ..
        }
    ));
    assert!(matches!(&t[13].action, Action::Kill { exit_code: 137, .. }));
}

#[test]
fn redis_tutorial_scenario_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redis-tutorial.yaml");
    let s = match load(&path) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let names: Vec<_> = s.nodes.iter().map(|n| &*n.name).collect();
    assert_eq!(names, vec!["manager1", "worker1", "worker2"]);
    assert_eq!(s.images.profile("redis:3.0.7").pull, Dist::Fixed(secs(2)));
    assert_eq!(s.images.profile("redis:3.0.7").start, Dist::Fixed(secs(1)));
    assert_eq!(
        s.images.profile("redis:3.0.6").stop,
        Dist::Fixed(millis(500))
    );
    let at: Vec<u64> = s
        .timeline
        .iter()
        .map(|i| i.at.since_start() / secs(1))
        .collect();
    assert_eq!(at, vec![0, 0, 60, 75, 75, 180, 240]);
    assert!(matches!(
        &s.timeline[5].action,
        Action::Docker { command: DockerCommand::ServiceRollback { service, .. }, .. } if service == "redis"
    ));
    match &s.timeline[0].action {
        Action::Docker {
            command: DockerCommand::ServiceCreate { spec, .. },
            ..
        } => {
            assert_eq!(spec.replicas(), Some(3));
            assert_eq!(spec.update_config.map(|c| c.delay), Some(secs(10)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn count_expansion_and_node_defaults() {
    let s = ok(
        "cluster:\n  nodes:\n    - {name: mgr, role: manager}\n    - name: w{n}\n      count: 3\n      availability: drain\n      resources: {cpus: \"1.5\"}\n",
    );
    let names: Vec<_> = s.nodes.iter().map(|n| &*n.name).collect();
    assert_eq!(names, vec!["mgr", "w1", "w2", "w3"]);
    assert!(
        s.nodes[1..]
            .iter()
            .all(|n| n.availability == Availability::Drain)
    );
    assert_eq!(s.nodes[3].nano_cpus, 1_500_000_000);
    assert_eq!(s.nodes[3].memory_bytes, DEFAULT_NODE_MEMORY);
    assert_eq!(s.nodes[0].nano_cpus, DEFAULT_NODE_NANO_CPUS);
    // Name defaults to the file stem; no services or timeline is fine.
    assert_eq!(s.name, "s");
    assert!(s.services.is_empty() && s.timeline.is_empty());
}

/// A cluster where no node says `role: manager`: the first listed node is
/// the manager, as `docker swarm init` on it would make it; the others
/// stay workers.
#[test]
fn first_node_is_the_manager_when_none_is_named() {
    let s = ok("cluster:\n  nodes:\n    - name: node{n}\n      count: 3\n");
    let roles: Vec<_> = s.nodes.iter().map(|n| n.role).collect();
    assert_eq!(
        roles,
        vec![NodeRole::Manager, NodeRole::Worker, NodeRole::Worker]
    );
    // A manager named anywhere wins: nothing else is promoted.
    let s = ok("cluster:\n  nodes:\n    - name: w1\n    - {name: m1, role: manager}\n");
    assert_eq!(s.nodes[0].role, NodeRole::Worker);
    assert_eq!(s.nodes[1].role, NodeRole::Manager);
}

/// `joined: false` and the `join`/`leave` node items.
#[test]
fn nodes_that_join_later() {
    let s = ok(
        "cluster:\n  nodes:\n    - name: m1\n    - {name: w1, joined: false}\ntimeline:\n  - at: 1s\n    node: {name: w1, state: join}\n  - at: 2s\n    node: {name: w1, state: leave}\n",
    );
    assert!(s.nodes[0].joined && !s.nodes[1].joined);
    assert_eq!(s.nodes[0].role, NodeRole::Manager);
    assert!(matches!(
        s.timeline[0].action,
        Action::Node {
            change: NodeChange::Join,
            ..
        }
    ));
    assert!(matches!(
        s.timeline[1].action,
        Action::Node {
            change: NodeChange::Leave,
            ..
        }
    ));
    assert_eq!(
        err("cluster:\n  nodes:\n    - {name: m1, role: manager, joined: false}\n"),
        "s.yaml:3:41: a manager cannot join later: only workers can say `joined: false`"
    );
    assert_eq!(
        err("cluster:\n  nodes:\n    - {name: w1, joined: false}\n"),
        "s.yaml:3:5: every node says `joined: false`: a swarm needs a node at time 0 (its first manager)"
    );
    assert_eq!(
        err(
            "cluster:\n  nodes:\n    - name: m1\ntimeline:\n  - at: 1s\n    node: {name: m1, state: leave}\n"
        ),
        "s.yaml:6:29: node `m1` is a manager: swarmsim models managers that stay (docker needs `swarm leave --force` and a demotion first)"
    );
}

#[test]
fn stack_deploy_defaults() {
    let s = ok(&format!(
        "{NODES}services:\n  a:\n    image: nginx\n  b:\n    image: nginx\n    deploy:\n      update_config: {{delay: 3s}}\n      rollback_config: {{}}\n      restart_policy: {{max_attempts: 2}}\n  c:\n    image: nginx\n    deploy: {{mode: global}}\n    healthcheck: {{disable: true}}\n"
    ));
    let [a, b, c] = s.services.as_slice() else {
        panic!("three services expected");
    };
    // Blocks absent ⇒ None; replicas absent ⇒ 1.
    assert_eq!(a.mode, ServiceMode::Replicated { replicas: 1 });
    assert_eq!(a.update_config, None);
    assert_eq!(a.rollback_config, None);
    assert_eq!(a.task.restart_policy, None);
    assert_eq!(a.task.healthcheck, None);
    assert_eq!(a.task.init, None);
    assert_eq!(a.endpoint_mode, "vip");
    // Present blocks: parallelism 1, monitor 0 (= 5s), pause, stop-first.
    assert_eq!(
        b.update_config,
        Some(UpdateConfig {
            parallelism: 1,
            delay: secs(3),
            failure_action: FailureAction::Pause,
            monitor: SimDuration::ZERO,
            max_failure_ratio: 0.0,
            order: UpdateOrder::StopFirst,
        })
    );
    assert_eq!(b.update_config.map(|c| c.monitor_period()), Some(secs(5)));
    assert_eq!(b.rollback_config.map(|c| c.parallelism), Some(1));
    // Restart delay absent ⇒ None (Swarm's 5s).
    assert_eq!(
        b.task.restart_policy,
        Some(RestartPolicy {
            condition: RestartCondition::Any,
            delay: None,
            max_attempts: 2,
            window: SimDuration::ZERO,
        })
    );
    assert_eq!(b.task.restart_policy().delay(), secs(5));
    assert_eq!(c.mode, ServiceMode::Global);
    assert!(c.task.healthcheck.as_ref().is_some_and(|h| h.disabled()));
}

#[test]
fn distributions() {
    let s = ok(&format!(
        "{NODES}images:\n  a:\n    pull: {{dist: uniform, min: 1s, max: 3s}}\n    start: {{dist: normal, mean: 1s, stddev: 200ms}}\n    stop: {{dist: exponential, mean: 300ms}}\n    crash_after: {{dist: weibull, scale: 1h, shape: 1.5}}\n  b:\n    start: {{dist: empirical, samples: [1s, 2s, 0]}}\n    stop: {{dist: fixed, value: 2s}}\n    health_fail: 0.1\n"
    ));
    let a = s.images.profile("a");
    assert_eq!(
        a.pull,
        Dist::Uniform {
            min: secs(1),
            max: secs(3)
        }
    );
    assert_eq!(
        a.start,
        Dist::Normal {
            mean: secs(1),
            stddev: millis(200)
        }
    );
    assert_eq!(a.stop, Dist::Exponential { mean: millis(300) });
    assert_eq!(
        a.crash_after,
        Some(Dist::Weibull {
            scale: secs(3600),
            shape: 1.5
        })
    );
    let b = s.images.profile("b");
    assert_eq!(
        b.start,
        Dist::Empirical(vec![secs(1), secs(2), SimDuration::ZERO])
    );
    assert_eq!(b.stop, Dist::Fixed(secs(2)));
    assert_eq!(b.health_fail, 0.1);
}

#[test]
fn empirical_file_relative_to_scenario() {
    let dir = std::env::temp_dir().join(format!("swarmsim-input-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("starts.csv"), "seconds\n1.5\n0.25\n\n2\n").unwrap();
    std::fs::write(dir.join("bad.csv"), "1\nabc\n").unwrap();
    let text = |f: &str| {
        format!("{NODES}images:\n  default:\n    start: {{dist: empirical, file: {f}}}\n")
    };
    let s = parse_str(&text("starts.csv"), &dir.join("x.yaml")).unwrap();
    assert_eq!(
        s.images.default.start,
        Dist::Empirical(vec![millis(1500), millis(250), secs(2)])
    );
    let e = parse_str(&text("bad.csv"), &dir.join("x.yaml")).unwrap_err();
    assert_eq!(
        e.message(),
        format!(
            "{}: line 2: not a non-negative number of seconds",
            dir.join("bad.csv").display()
        )
    );
    let e = parse_str(&text("missing.csv"), &dir.join("x.yaml")).unwrap_err();
    assert!(e.to_string().contains(":7:36: cannot read `"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn error_unknown_keys_with_suggestions() {
    assert_eq!(
        err(&format!("seeed: 1\n{NODES}")),
        "s.yaml:1:1: unknown key `seeed`; did you mean `seed`?"
    );
    assert_eq!(
        err(&format!(
            "{NODES}services:\n  web:\n    image: nginx\n    deploy:\n      replicaz: 3\n"
        )),
        "s.yaml:9:7: unknown key `replicaz`; did you mean `replicas`?"
    );
    assert_eq!(
        err(&format!(
            "{NODES}services:\n  web:\n    image: nginx\n    deploy:\n      update_config: {{parallelismm: 2}}\n"
        )),
        "s.yaml:9:23: unknown key `parallelismm`; did you mean `parallelism`?"
    );
    assert_eq!(
        err(&format!("{NODES}banana: 1\n")),
        "s.yaml:5:1: unknown key `banana` (expected one of: name, description, seed, until, cluster, images, engine, services, timeline, expect, compose)"
    );
}

#[test]
fn expect_items_parse() {
    let s = ok(&format!(
        "{NODES}expect:\n  - service: web\n    update_state: completed\n    running: {{min: 2}}\n    update_duration: {{max: 90s}}\n  - {{service: web, slot: 1, sequence: [running, shutdown]}}\n  - over: {{runs: 20}}\n    p95: {{update_duration: {{max: 90s}}}}\n    probability: {{rollback_completed: {{max: 0.05}}}}\n"
    ));
    assert_eq!(s.expect.len(), 3);
    assert_eq!(s.expect[0].line, 6);
    assert_eq!(s.expect[1].line, 10);
    match &s.expect[2].kind {
        super::expect::ExpectKind::Over { runs, checks, .. } => {
            assert_eq!(*runs, 20);
            assert_eq!(checks.len(), 2);
        }
        other => panic!("statistical item expected, got {other:?}"),
    }
}

#[test]
fn expect_errors_are_located() {
    assert_eq!(
        err(&format!(
            "{NODES}expect:\n  - service: web\n    runing: 3\n"
        )),
        "s.yaml:7:5: unknown key `runing`; did you mean `running`?"
    );
    assert_eq!(
        err(&format!(
            "{NODES}expect:\n  - service: web\n    update_state: complete\n"
        )),
        "s.yaml:7:19: invalid update state `complete`; did you mean `completed`? (one of `none`, `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused`, `rollback_completed`)"
    );
    assert_eq!(
        err(&format!(
            "{NODES}expect:\n  - service: web\n    message: \"(\"\n"
        ))
        .lines()
        .next()
        .unwrap_or_default(),
        "s.yaml:7:14: `message` is not a valid regular expression: regex parse error:"
    );
    assert_eq!(
        err(&format!(
            "{NODES}expect:\n  - service: web\n    sequence: [running]\n"
        )),
        "s.yaml:7:5: `sequence` needs `slot:` (the replica slot, e.g. `slot: 1`)"
    );
    assert_eq!(
        err(&format!(
            "{NODES}expect:\n  - over: {{runs: 0}}\n    p95: {{update_duration: {{max: 1s}}}}\n"
        )),
        "s.yaml:6:18: `runs` must be between 1 and 100000"
    );
    assert_eq!(
        err(&format!(
            "{NODES}until: 1m\nexpect:\n  - {{service: web, at: 2m, running: 1}}\n"
        )),
        "s.yaml:7:24: `at` is after the scenario's `until`: the run never gets there"
    );
    assert_eq!(
        err(&format!("{NODES}expect:\n  - service: web\n")),
        "s.yaml:6:5: an expectation needs at least one of: update_state, message, running, image, update_duration, min_running, task_failures, sequence"
    );
}

#[test]
fn error_bad_durations() {
    assert_eq!(
        err(&format!("until: 10\n{NODES}")),
        "s.yaml:1:8: `until`: time: missing unit in duration \"10\""
    );
    assert_eq!(
        err(&format!("{NODES}timeline:\n  - at: 1d\n    ps: web\n")),
        "s.yaml:6:9: `at`: time: unknown unit \"d\" in duration \"1d\""
    );
    assert_eq!(
        err(&format!(
            "{NODES}services:\n  web:\n    image: nginx\n    deploy:\n      update_config: {{delay: -5s}}\n"
        )),
        "s.yaml:9:30: `delay` must not be negative, found `-5s`"
    );
}

#[test]
fn error_bad_probability() {
    assert_eq!(
        err(&format!(
            "{NODES}images:\n  default:\n    fail_on_start: 1.5\n"
        )),
        "s.yaml:7:20: `fail_on_start` must be a probability: a number between 0 and 1, found 1.5"
    );
    assert_eq!(
        err(&format!(
            "{NODES}images:\n  default:\n    health_fail: \"0.1\"\n"
        )),
        "s.yaml:7:18: `health_fail` must be a probability: a number between 0 and 1, found `0.1`"
    );
}

#[test]
fn error_bad_dist_params() {
    let img = |body: &str| format!("{NODES}images:\n  default:\n    start: {body}\n");
    assert_eq!(
        err(&img("{dist: uniform, min: 3s, max: 1s}")),
        "s.yaml:7:42: `max` of a uniform distribution must not be less than `min`"
    );
    assert_eq!(
        err(&img("{dist: unifrom, min: 1s, max: 3s}")),
        "s.yaml:7:19: invalid distribution `unifrom`; did you mean `uniform`? (one of `fixed`, `uniform`, `normal`, `lognormal`, `exponential`, `weibull`, `empirical`)"
    );
    assert_eq!(
        err(&img("{dist: normal, mean: 1s}")),
        "s.yaml:7:12: missing key `stddev` (`normal` needs `mean` and `stddev`)"
    );
    assert_eq!(
        err(&img("{dist: lognormal, median: 2s, p90: 6s}")),
        "s.yaml:7:42: unknown key `p90`; did you mean `p99`?"
    );
    assert_eq!(
        err(&img("{dist: lognormal, median: 2s, p99: 1s}")),
        "s.yaml:7:47: `p99` of a lognormal distribution must not be less than `median`"
    );
    assert_eq!(
        err(&img("{dist: weibull, scale: 1s, shape: 0}")),
        "s.yaml:7:46: `shape` of a weibull distribution must be greater than 0"
    );
    assert_eq!(
        err(&img("{dist: empirical, samples: []}")),
        "s.yaml:7:39: `samples` must not be empty"
    );
}

#[test]
fn error_nodes() {
    assert_eq!(
        err("cluster:\n  nodes:\n    - {name: a, role: manager}\n    - {name: a}\n"),
        "s.yaml:4:14: duplicate node name `a`"
    );
    assert_eq!(
        err(
            "cluster:\n  nodes:\n    - {name: w2, role: manager}\n    - {name: \"w{n}\", count: 2}\n"
        ),
        "s.yaml:4:14: duplicate node name `w2`"
    );
    assert_eq!(
        err("cluster:\n  nodes: []\n"),
        "s.yaml:2:10: `cluster.nodes` is empty: a swarm needs at least one node"
    );
    assert_eq!(
        err("cluster:\n  nodes:\n    - {name: a, role: boss}\n"),
        "s.yaml:3:23: invalid role `boss` (expected one of `manager`, `worker`)"
    );
    assert_eq!(
        err("name: x\n"),
        "s.yaml:1:1: missing key `cluster` (a swarm needs `cluster: {nodes: [...]}`)"
    );
}

#[test]
fn error_docker_lines() {
    let line = |l: &str| format!("{NODES}timeline:\n  - at: 0s\n    docker: {l}\n");
    assert_eq!(
        err(&line("docker service create --foo x")),
        "s.yaml:7:13: unknown flag: --foo"
    );
    assert_eq!(
        err(&line(
            "docker service create --mount type=bind,src=/a nginx"
        )),
        "s.yaml:7:13: invalid argument \"type=bind,src=/a\" for \"--mount\" flag: target is required"
    );
    assert_eq!(
        err(&line("docker service update --rollback --image x:1 web")),
        "s.yaml:7:13: other flags may not be combined with --rollback"
    );
    assert_eq!(
        err(&line("docker service update --update-delay 10 web")),
        "s.yaml:7:13: invalid argument \"10\" for \"--update-delay\" flag: time: missing unit in duration \"10\""
    );
}

#[test]
fn error_timeline_items() {
    let tl = |item: &str| format!("{NODES}timeline:\n  - at: 0s\n    {item}\n");
    assert_eq!(
        err(&tl("node: {name: worker9, state: down}")),
        "s.yaml:7:18: unknown node `worker9`"
    );
    assert_eq!(
        err(&tl("node: {name: m2, state: down}")),
        "s.yaml:7:18: unknown node `m2`; did you mean `m1`?"
    );
    assert_eq!(
        err(&format!(
            "{NODES}timeline:\n  - at: 0s\n    ps: web\n    rollback: web\n"
        )),
        "s.yaml:8:5: a timeline item takes exactly one action, found `ps` and `rollback`"
    );
    assert_eq!(
        err(&format!("{NODES}timeline:\n  - at: 0s\n")),
        "s.yaml:6:5: a timeline item needs one action: docker, update, rollback, scale, ps, inspect, node, kill"
    );
    assert_eq!(
        err(&tl("kill: redis")),
        "s.yaml:7:11: `redis` is not a task name: expected SERVICE.SLOT, e.g. `redis.2`, or SERVICE.NODE for a global service"
    );
    assert_eq!(
        err(&tl("kill: agent.m2")),
        "s.yaml:7:11: `agent.m2`: `m2` is neither a slot number nor a node of the cluster; did you mean `agent.m1`?"
    );
    assert!(matches!(
        &ok(&tl("kill: agent.m1")).timeline[0].action,
        Action::Kill { task, .. } if task == "agent.m1"
    ));
    assert_eq!(
        err(&tl(
            "update: {service: web, placement: {constraints: [a==b]}}"
        )),
        "s.yaml:7:40: `placement.constraints` cannot be changed by an `update:` item; use `docker: docker service update --constraint-add/--constraint-rm/--placement-pref-add ...`"
    );
}

#[test]
fn error_services() {
    let svc = |deploy: &str| {
        format!("{NODES}services:\n  web:\n    image: nginx\n    deploy:\n      {deploy}\n")
    };
    assert_eq!(
        err(&svc("placement: {constraints: [\"node.role=worker\"]}")),
        "s.yaml:9:33: constraint expected one operator from ==, !="
    );
    assert_eq!(
        err(&svc("update_config: {failure_action: stop}")),
        "s.yaml:9:39: invalid failure_action `stop` (expected one of `pause`, `continue`, `rollback`)"
    );
    assert_eq!(
        err(&svc("update_config: {max_failure_ratio: 2}")),
        "s.yaml:9:42: `max_failure_ratio` must be between 0 and 1 (TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1)"
    );
    assert_eq!(
        err(&svc("resources: {limits: {memory: lots}}")),
        "s.yaml:9:36: `memory`: invalid size: 'lots'"
    );
    assert_eq!(
        err(&svc("mode: global\n      replicas: 2")),
        "s.yaml:9:13: replicas can only be used with replicated or replicated-job mode"
    );
    assert_eq!(
        err(&format!(
            "{NODES}services:\n  web:\n    deploy: {{replicas: 1}}\n"
        )),
        "s.yaml:7:5: missing key `image` (every service needs an image)"
    );
}

#[test]
fn error_yaml_syntax_and_types() {
    assert_eq!(
        err("cluster: [1\nseed: 2\n"),
        "s.yaml:2:5: invalid YAML: did not find expected ',' or ']', while parsing a flow sequence at line 1 column 10"
    );
    assert_eq!(
        err(&format!("seed: -1\n{NODES}")),
        "s.yaml:1:7: `seed` must be a non-negative integer, found a number"
    );
    assert_eq!(
        err(""),
        "s.yaml:1:1: the scenario is empty: at least `cluster.nodes` is required"
    );
}

#[test]
fn structured_update_maps_to_flags() {
    let s = ok(&format!(
        "{NODES}timeline:\n  - at: 1s\n    update:\n      service: web\n      image: nginx:2\n      replicas: 4\n      force: true\n      rollback_config: {{failure_action: continue, delay: 1s}}\n      restart_policy: {{condition: on-failure, max_attempts: 3}}\n      resources: {{reservations: {{cpus: 0.5}}, limits: {{memory: 1G}}}}\n      healthcheck: {{test: curl -f localhost, interval: 2s, retries: 4}}\n      environment: {{A: 1}}\n      labels: [tier=web]\n      placement: {{max_replicas_per_node: 2}}\n"
    ));
    let Action::Docker { text, command } = &s.timeline[0].action else {
        panic!("docker action expected");
    };
    assert_eq!(
        text,
        "docker service update --image nginx:2 --replicas 4 --force --rollback-failure-action continue \
         --rollback-delay 1s --restart-condition on-failure --restart-max-attempts 3 --reserve-cpu 0.5 \
         --limit-memory 1G --health-cmd 'curl -f localhost' --health-interval 2s --health-retries 4 \
         --env-add A=1 --label-add tier=web --replicas-max-per-node 2 web"
    );
    let DockerCommand::ServiceUpdate { args, .. } = command else {
        panic!("update expected");
    };
    assert_eq!(args.replicas, Some(4));
    assert!(args.force);
    assert_eq!(args.restart.max_attempts, Some(3));
    assert_eq!(args.limit_memory, Some(1 << 30));
    assert_eq!(args.health.cmd.as_deref(), Some("curl -f localhost"));
    assert_eq!(s.timeline[0].line, 6);
}

#[test]
fn flow_style_timeline_lines_fall_back_to_locator() {
    let s = ok(&format!(
        "{NODES}timeline: [{{at: 0s, ps: a}},\n  {{at: 1s, ps: b}}]\n"
    ));
    let lines: Vec<_> = s.timeline.iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![5, 6]);
}

#[test]
fn never_panics_on_odd_input() {
    for text in [
        "[]",
        "- a\n- b",
        "cluster: 5",
        "cluster: {nodes: [5]}",
        "cluster: {nodes: [{name: [1]}]}",
        "? [a]\n: 1",
        "a: &x [*x]",
        "!!binary aGVsbG8=",
        "cluster: {nodes: [{name: m, role: manager}]}\ntimeline: [{at: 0s, docker: 5}]",
        "cluster: {nodes: [{name: m, role: manager}]}\ntimeline: [{at: 0s, kill: {task: a.1, exit_code: 300}}]",
        "cluster: {nodes: [{name: m, role: manager}]}\nimages: {default: {start: {dist: empirical, file: /nonexistent/x.csv}}}",
        "\u{0}",
    ] {
        let _ = parse_str(text, Path::new("odd.yaml"));
    }
}

#[test]
fn engine_profile_defaults_to_zero_and_rejects_unknown_keys() {
    let s = ok(NODES);
    assert_eq!(s.engine, EngineProfile::default());
    let s = ok(&format!(
        "{NODES}engine:\n  schedule: 60ms\n  dispatch: 40ms\n  create: 100ms\n  start: 0s\n  stop: 5ms\n"
    ));
    assert_eq!(
        s.engine,
        EngineProfile {
            schedule: millis(60),
            dispatch: millis(40),
            create: millis(100),
            start: SimDuration::ZERO,
            stop: millis(5),
            rollback_race: 0.0,
            failure_race: 0.0,
            random_slot_order: false,
        }
    );
    let e = err(&format!("{NODES}engine:\n  creat: 100ms\n"));
    assert!(e.contains("creat"), "{e}");
}

#[test]
fn engine_profile_lengthens_a_rolling_update() {
    use std::rc::Rc;
    let text = |engine: &str| {
        format!(
            "{NODES}{engine}until: 1m\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web --update-delay 1s img:1\n  - at: 10s\n    docker: docker service update --detach --image img:2 web\n"
        )
    };
    let ended = |s: Scenario| {
        let r = crate::runner::run(
            Rc::new(s),
            &crate::runner::RunOptions {
                keep_log: true,
                ..Default::default()
            },
        );
        r.cluster
            .store
            .log
            .iter()
            .filter(|l| l.state == "completed")
            .map(|l| l.time)
            .next_back()
            .expect("the update completes")
    };
    let plain = ended(ok(&text("")));
    let slow = ended(ok(&text(
        "engine:\n  schedule: 50ms\n  dispatch: 50ms\n  create: 100ms\n",
    )));
    // Stop-first: the new task is scheduled, dispatched and created
    // (desired READY) while the old one stops (200 ms by default), so only
    // part of the 200 ms per slot shows; but it shows.
    assert!(
        slow > plain && slow - plain <= millis(400),
        "{plain:?} {slow:?}"
    );
}

/// An `update:` item builds its typed command directly; it must be what
/// docker's parser makes of the command line it echoes, and fail with
/// docker's messages where docker would.
#[test]
fn structured_update_is_what_docker_parses_from_its_text() {
    for item in [
        "{service: web, image: nginx:2, replicas: 4, force: true, stop_grace_period: 1m30s}",
        "{service: web, update_config: {order: start-first, parallelism: 0, delay: 10s, monitor: 0, failure_action: rollback, max_failure_ratio: 0.1}}",
        "{service: web, rollback_config: {max_failure_ratio: 3.3, failure_action: pause, parallelism: 2, monitor: 2s}}",
        "{service: web, restart_policy: {window: 1m, delay: 3s, condition: none, max_attempts: 0}}",
        "{service: web, resources: {limits: {pids: 30, cpus: 2, memory: 512M}, reservations: {memory: 1G, cpus: 0.25}}}",
        "{service: web, healthcheck: {test: [CMD-SHELL, true], timeout: 1s, start_period: 5s, start_interval: 1s, retries: 0}}",
        "{service: web, healthcheck: {test: [NONE]}}",
        "{service: web, healthcheck: {disable: true}, environment: [A=1, B], labels: {x: y}}",
        "{service: web, force: false, placement: {max_replicas_per_node: 0}, image: ~}",
        "{service: '-', image: a}",
    ] {
        let s = ok(&format!(
            "{NODES}timeline:\n  - at: 1s\n    update: {item}\n"
        ));
        let Action::Docker { text, command } = &s.timeline[0].action else {
            panic!("docker action expected");
        };
        let parsed = crate::docker::cli::parse_command_line(text).unwrap();
        assert_eq!(command, &parsed, "{item}: {text}");
    }
    for (item, docker) in [
        (
            "{service: web, replicas: 100001}",
            "docker service update --replicas 100001 web",
        ),
        (
            "{service: web, environment: {'': 1}}",
            "docker service update --env-add =1 web",
        ),
        (
            "{service: web, labels: [' =1'], replicas: 3}",
            "docker service update --label-add ' =1' --replicas 3 web",
        ),
        (
            "{service: web, healthcheck: {disable: true, interval: 1s}}",
            "docker service update --no-healthcheck --health-interval 1s web",
        ),
        (
            "{service: --force, image: a}",
            "docker service update --image a --force",
        ),
    ] {
        let e = err(&format!(
            "{NODES}timeline:\n  - at: 1s\n    update: {item}\n"
        ));
        let want = crate::docker::cli::parse_command_line(docker).unwrap_err();
        assert_eq!(e, format!("s.yaml:7:13: {want}"), "{item}");
    }
}

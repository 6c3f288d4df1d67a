use super::*;
use crate::sim::time::{SimDuration, millis, secs};
use crate::swarm::model::{
    Healthcheck, PortConfig, PublishMode, RestartPolicy, SpreadPreference, UpdateConfig,
};

fn create(line: &str) -> ServiceSpec {
    match parse_command_line(line) {
        Ok(DockerCommand::ServiceCreate { spec, .. }) => spec,
        other => panic!("{line}: {other:?}"),
    }
}

fn update(line: &str) -> (String, UpdateArgs) {
    match parse_command_line(line) {
        Ok(DockerCommand::ServiceUpdate { service, args, .. }) => (service, args),
        other => panic!("{line}: {other:?}"),
    }
}

fn err(line: &str) -> String {
    match parse_command_line(line) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{line}: expected an error, got {c:?}"),
    }
}

/// Applies an update line to the spec of a create line.
fn updated(create_line: &str, update_line: &str) -> ServiceSpec {
    let mut spec = create(create_line);
    let (_, args) = update(update_line);
    args.check(&spec).unwrap();
    args.apply(&mut spec);
    spec
}

#[test]
fn tutorial_create() {
    let spec =
        create("docker service create --replicas 3 --name redis --update-delay 10s redis:3.0.6");
    assert_eq!(&*spec.name, "redis");
    assert_eq!(spec.mode, ServiceMode::Replicated { replicas: 3 });
    assert_eq!(spec.task.image, "redis:3.0.6");
    assert_eq!(spec.task.init, Some(false));
    assert_eq!(spec.endpoint_mode, "vip");
    // Only the update group was given: it is pre-filled from defaults.
    assert_eq!(
        spec.update_config,
        Some(UpdateConfig {
            parallelism: 1,
            delay: secs(10),
            monitor: secs(5),
            ..UpdateConfig::default()
        })
    );
    assert_eq!(spec.rollback_config, None);
    assert_eq!(spec.task.restart_policy, None);
    assert_eq!(spec.task.healthcheck, None);
}

#[test]
fn create_defaults_and_command() {
    let spec = create("docker service create --init -d nginx:1.25 nginx -g 'daemon off;'");
    assert_eq!(spec.mode, ServiceMode::Replicated { replicas: 1 });
    assert_eq!(&*spec.name, "");
    assert_eq!(spec.task.init, Some(true));
    assert_eq!(spec.task.args, vec!["nginx", "-g", "daemon off;"]);
    assert!(matches!(
        parse_command_line("docker service create -d nginx"),
        Ok(DockerCommand::ServiceCreate { detach: true, .. })
    ));
}

#[test]
fn create_flags_after_image_are_arguments() {
    let spec = create("docker service create --name a busybox --name b");
    assert_eq!(&*spec.name, "a");
    assert_eq!(spec.task.args, vec!["--name", "b"]);
}

#[test]
fn create_global_mode() {
    let spec = create("docker service create --mode global --name agent agent:1");
    assert_eq!(spec.mode, ServiceMode::Global);
    assert_eq!(
        err("docker service create --mode global --replicas 2 x"),
        "replicas can only be used with replicated or replicated-job mode"
    );
    assert_eq!(
        err("docker service create --mode foo x"),
        "Unknown mode: foo, only replicated and global supported"
    );
    assert_eq!(
        err("docker service create --mode replicated-job x"),
        "mode replicated-job is not supported by swarmsim"
    );
}

#[test]
fn create_update_and_rollback_groups() {
    let spec = create(
        "docker service create --update-parallelism 2 --update-monitor 30s --update-failure-action rollback \
         --update-max-failure-ratio 0.25 --update-order start-first --rollback-parallelism 0 \
         --rollback-delay 1s --rollback-failure-action continue --rollback-order start-first x",
    );
    assert_eq!(
        spec.update_config,
        Some(UpdateConfig {
            parallelism: 2,
            delay: SimDuration::ZERO,
            failure_action: FailureAction::Rollback,
            monitor: secs(30),
            max_failure_ratio: 0.25,
            order: UpdateOrder::StartFirst,
        })
    );
    assert_eq!(
        spec.rollback_config,
        Some(UpdateConfig {
            parallelism: 0,
            delay: secs(1),
            failure_action: FailureAction::Continue,
            monitor: secs(5),
            max_failure_ratio: 0.0,
            order: UpdateOrder::StartFirst,
        })
    );
}

#[test]
fn update_config_errors() {
    assert_eq!(
        err("docker service update --update-delay 10 redis"),
        "invalid argument \"10\" for \"--update-delay\" flag: time: missing unit in duration \"10\""
    );
    assert_eq!(
        err("docker service update --update-delay -1s redis"),
        "TaskSpec: update-delay cannot be negative"
    );
    assert_eq!(
        err("docker service update --update-monitor -1s redis"),
        "TaskSpec: update-monitor cannot be negative"
    );
    assert_eq!(
        err("docker service update --update-max-failure-ratio 1.5 redis"),
        "TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1"
    );
    assert_eq!(
        err("docker service update --update-max-failure-ratio x redis"),
        "invalid argument \"x\" for \"--update-max-failure-ratio\" flag: strconv.ParseFloat: parsing \"x\": invalid syntax"
    );
    assert_eq!(
        err("docker service update --update-parallelism -1 redis"),
        "invalid argument \"-1\" for \"--update-parallelism\" flag: strconv.ParseUint: parsing \"-1\": invalid syntax"
    );
    assert_eq!(
        err("docker service update --update-failure-action stop redis"),
        "unrecognized update failure action stop"
    );
    assert_eq!(
        err("docker service update --rollback-order sideways redis"),
        "unrecognized update order sideways"
    );
}

#[test]
fn update_prefills_only_when_absent() {
    // No config yet: pre-filled from the defaults, then overridden.
    let spec = updated(
        "docker service create x",
        "docker service update --update-parallelism 2 s",
    );
    assert_eq!(
        spec.update_config,
        Some(UpdateConfig {
            parallelism: 2,
            monitor: secs(5),
            ..UpdateConfig::default()
        })
    );
    assert_eq!(spec.rollback_config, None);
    // Existing config: only the given field changes.
    let spec = updated(
        "docker service create --update-delay 10s --update-parallelism 3 x",
        "docker service update --update-delay 2s s",
    );
    let cfg = spec.update_config.unwrap();
    assert_eq!((cfg.parallelism, cfg.delay), (3, secs(2)));
    let spec = updated(
        "docker service create x",
        "docker service update --rollback-monitor 1s --rollback-max-failure-ratio 0.5 s",
    );
    let cfg = spec.rollback_config.unwrap();
    assert_eq!((cfg.monitor, cfg.max_failure_ratio), (secs(1), 0.5));
}

#[test]
fn update_image_replicas_force_args() {
    let spec = updated(
        "docker service create --replicas 3 --name redis redis:3.0.6",
        "docker service update --image redis:3.0.7 --replicas 5 --force --args 'redis-server --appendonly yes' redis",
    );
    assert_eq!(spec.task.image, "redis:3.0.7");
    assert_eq!(spec.mode, ServiceMode::Replicated { replicas: 5 });
    assert_eq!(spec.task.force_update, 1);
    assert_eq!(spec.task.args, vec!["redis-server", "--appendonly", "yes"]);
    let (service, args) = update("docker service update --image redis:3.0.7 redis");
    assert_eq!(service, "redis");
    assert_eq!(
        args.flags,
        vec![("image".to_string(), "redis:3.0.7".to_string())]
    );
    assert!(!args.force);
    // --force=false does not bump ForceUpdate.
    let spec = updated(
        "docker service create x",
        "docker service update --force=false s",
    );
    assert_eq!(spec.task.force_update, 0);
    // --replicas on a global service is docker's error.
    let spec = create("docker service create --mode global x");
    let (_, args) = update("docker service update --replicas 2 s");
    assert_eq!(
        args.check(&spec),
        Err(CliError::Refused(
            "replicas can only be used with replicated mode".to_string()
        ))
    );
}

#[test]
fn rollback_flag() {
    assert!(matches!(
        parse_command_line("docker service update --rollback -d -q redis"),
        Ok(DockerCommand::ServiceUpdate {
            rollback: true,
            detach: true,
            ..
        })
    ));
    assert_eq!(
        err("docker service update --rollback --image redis:3 redis"),
        "other flags may not be combined with --rollback"
    );
    assert_eq!(
        err("docker service update --rollback --force redis"),
        "other flags may not be combined with --rollback"
    );
    assert!(matches!(
        parse_command_line("docker service rollback -d redis"),
        Ok(DockerCommand::ServiceRollback { detach: true, .. })
    ));
}

#[test]
fn restart_flags() {
    let spec =
        create("docker service create --restart-condition on-failure --restart-max-attempts 3 x");
    assert_eq!(
        spec.task.restart_policy,
        Some(RestartPolicy {
            condition: RestartCondition::OnFailure,
            delay: Some(secs(5)),
            max_attempts: 3,
            window: SimDuration::ZERO,
        })
    );
    let spec = updated(
        "docker service create --restart-delay 1s x",
        "docker service update --restart-window 2m --restart-condition none s",
    );
    assert_eq!(
        spec.task.restart_policy,
        Some(RestartPolicy {
            condition: RestartCondition::None,
            delay: Some(secs(1)),
            max_attempts: 0,
            window: secs(120),
        })
    );
    assert_eq!(
        err("docker service create --restart-condition always x"),
        "invalid RestartCondition: \"always\""
    );
    assert_eq!(
        err("docker service create --restart-delay -5s x"),
        "TaskSpec: restart-delay cannot be negative"
    );
    assert_eq!(
        err("docker service create --restart-window -5s x"),
        "TaskSpec: restart-window cannot be negative"
    );
}

#[test]
fn placement_flags() {
    let spec = create(
        "docker service create --constraint node.role==worker --constraint 'node.labels.zone != b' \
         --placement-pref spread=node.labels.zone --replicas-max-per-node 2 x",
    );
    assert_eq!(
        spec.task.placement.constraints,
        vec!["node.role==worker", "node.labels.zone != b"]
    );
    assert_eq!(
        spec.task.placement.preferences,
        vec![SpreadPreference {
            spread: "node.labels.zone".into()
        }]
    );
    assert_eq!(spec.task.placement.max_replicas, 2);
    let spec = updated(
        "docker service create --constraint node.role==worker --placement-pref spread=node.labels.zone x",
        "docker service update --constraint-add node.labels.a==1 --constraint-rm node.role==worker \
         --constraint-add engine.labels.b!=2 --placement-pref-rm spread=node.labels.zone \
         --placement-pref-add spread=node.labels.rack s",
    );
    assert_eq!(
        spec.task.placement.constraints,
        vec!["engine.labels.b!=2", "node.labels.a==1"]
    );
    assert_eq!(
        spec.task.placement.preferences,
        vec![SpreadPreference {
            spread: "node.labels.rack".into()
        }]
    );
    assert_eq!(
        err("docker service create --constraint node.role=worker x"),
        "constraint expected one operator from ==, !="
    );
    assert_eq!(
        err("docker service update --constraint-add x==1 s"),
        "key 'x' is invalid"
    );
    assert_eq!(
        err("docker service create --placement-pref spread x"),
        "invalid argument \"spread\" for \"--placement-pref\" flag: placement preference must be of the format \"<strategy>=<arg>\""
    );
}

#[test]
fn resource_flags() {
    let spec = create(
        "docker service create --reserve-cpu 0.5 --reserve-memory 512M --limit-cpu 2 \
         --limit-memory 1GiB --limit-pids 100 x",
    );
    let r = spec.task.resources;
    assert_eq!(r.reserve_nano_cpus, 500_000_000);
    assert_eq!(r.reserve_memory, 512 << 20);
    assert_eq!(r.limit_nano_cpus, 2_000_000_000);
    assert_eq!(r.limit_memory, 1 << 30);
    assert_eq!(r.limit_pids, 100);
    let spec = updated(
        "docker service create --reserve-cpu 0.5 x",
        "docker service update --reserve-memory 1g s",
    );
    assert_eq!(spec.task.resources.reserve_nano_cpus, 500_000_000);
    assert_eq!(spec.task.resources.reserve_memory, 1 << 30);
    assert_eq!(
        err("docker service create --reserve-memory lots x"),
        "invalid argument \"lots\" for \"--reserve-memory\" flag: invalid size: 'lots'"
    );
    assert_eq!(
        err("docker service create --limit-cpu x x"),
        "invalid argument \"x\" for \"--limit-cpu\" flag: failed to parse x as a rational number"
    );
}

#[test]
fn health_flags() {
    let spec = create(
        "docker service create --health-cmd 'redis-cli ping' --health-interval 5s --health-timeout 3s \
         --health-retries 2 --health-start-period 10s --health-start-interval 1s x",
    );
    assert_eq!(
        spec.task.healthcheck,
        Some(Healthcheck {
            test: vec!["CMD-SHELL".into(), "redis-cli ping".into()],
            interval: secs(5),
            timeout: secs(3),
            retries: 2,
            start_period: secs(10),
            start_interval: secs(1),
        })
    );
    let spec = create("docker service create --no-healthcheck x");
    assert!(spec.task.healthcheck.clone().unwrap().disabled());
    assert_eq!(
        err("docker service create --no-healthcheck --health-cmd true x"),
        "--no-healthcheck conflicts with --health-* options"
    );
    assert_eq!(
        err("docker service create --health-interval -1s x"),
        "invalid argument \"-1s\" for \"--health-interval\" flag: duration cannot be negative"
    );
    // Update: a disabled check is re-enabled by a health flag.
    let spec = updated(
        "docker service create --no-healthcheck x",
        "docker service update --health-interval 500ms s",
    );
    let hc = spec.task.healthcheck.clone().unwrap();
    assert!(hc.test.is_empty());
    assert_eq!(hc.interval, millis(500));
    let spec = updated(
        "docker service create --health-cmd true x",
        "docker service update --no-healthcheck s",
    );
    assert!(spec.task.healthcheck.clone().unwrap().disabled());
}

#[test]
fn env_and_label_flags() {
    let spec = create("docker service create -e A=1 --env B=2 -e A=3 -l tier=db --label x x");
    assert_eq!(spec.task.env, vec!["B=2", "A=3"]);
    assert_eq!(spec.labels.get("tier").map(String::as_str), Some("db"));
    assert_eq!(spec.labels.get("x").map(String::as_str), Some(""));
    let spec = updated(
        "docker service create -e A=1 -e B=2 -l a=1 -l b=2 x",
        "docker service update --env-rm A --env-add B=3 --env-add C=4 --label-rm a --label-add c=3 s",
    );
    assert_eq!(spec.task.env, vec!["B=3", "C=4"]);
    assert_eq!(spec.labels.keys().collect::<Vec<_>>(), vec!["b", "c"]);
    assert_eq!(
        err("docker service create -e =x x"),
        "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x"
    );
    assert_eq!(
        err("docker service create -l =x x"),
        "invalid argument \"=x\" for \"-l, --label\" flag: invalid label '=x': empty name"
    );
    // update has no --env (docker's own error).
    assert_eq!(
        err("docker service update --env A=1 s"),
        "unknown flag: --env"
    );
}

#[test]
fn publish_flags() {
    let spec =
        create("docker service create -p 8080:80 --publish published=9090,target=90,mode=host x");
    assert_eq!(
        spec.ports,
        vec![
            PortConfig {
                protocol: "tcp".into(),
                target: 80,
                published: 8080,
                mode: PublishMode::Ingress
            },
            PortConfig {
                protocol: "tcp".into(),
                target: 90,
                published: 9090,
                mode: PublishMode::Host
            }
        ]
    );
    let spec = updated(
        "docker service create -p 8080:80 -p 9090:90 x",
        "docker service update --publish-rm 80 --publish-add 7070:70 s",
    );
    let got: Vec<_> = spec.ports.iter().map(|p| (p.published, p.target)).collect();
    assert_eq!(got, vec![(7070, 70), (9090, 90)]);
}

#[test]
fn misc_service_flags() {
    let spec = create(
        "docker service create --stop-grace-period 30s --endpoint-mode dnsrr --no-resolve-image x",
    );
    assert_eq!(spec.task.stop_grace_period, Some(secs(30)));
    assert_eq!(spec.endpoint_mode, "dnsrr");
    let spec = updated("docker service create x", "docker service update --init s");
    assert_eq!(spec.task.init, Some(true));
}

#[test]
fn unknown_and_unsupported_flags() {
    assert_eq!(err("docker service create --foo x"), "unknown flag: --foo");
    assert_eq!(
        err("docker service create --mountt x"),
        "unknown flag: --mountt"
    );
    // Real docker flags are accepted with docker's own checks.
    assert_eq!(
        err("docker service create --mount type=bind,src=/a x"),
        "invalid argument \"type=bind,src=/a\" for \"--mount\" flag: target is required"
    );
    assert_eq!(
        err("docker service update --network-add alias=db s"),
        "invalid argument \"alias=db\" for \"--network-add\" flag: network name/id is not specified"
    );
    assert_eq!(
        err("docker service create -t=maybe x"),
        "invalid argument \"maybe\" for \"-t, --tty\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
    );
    assert_eq!(
        err("docker service create --stop-signal SIGFOO x"),
        "Invalid signal: SIGFOO"
    );
    assert_eq!(
        err("docker service create --max-concurrent 2 x"),
        "max-concurrent can only be used with replicated-job mode"
    );
    assert_eq!(
        err("docker service create --help x"),
        "flag --help is not supported by swarmsim"
    );
    assert_eq!(
        err("docker service create -z x"),
        "unknown shorthand flag: 'z' in -z"
    );
    assert_eq!(
        err("docker service create --name"),
        "flag needs an argument: --name"
    );
    assert_eq!(
        err("docker service create"),
        "\"docker service create\" requires at least 1 argument."
    );
    assert_eq!(
        err("docker service update a b"),
        "\"docker service update\" requires exactly 1 argument."
    );
    assert_eq!(
        err("docker service frob"),
        "docker: 'service frob' is not a docker command."
    );
    assert_eq!(
        err("docker frob"),
        "docker: 'frob' is not a docker command."
    );
    assert!(err("kubectl get pods").contains("starting with `docker`"));
    assert!(err("docker run nginx").contains("not supported by swarmsim"));
}

#[test]
fn scale_rm_ls() {
    assert_eq!(
        parse_command_line("docker service scale redis=5 web=0 -d"),
        Ok(DockerCommand::ServiceScale {
            scales: vec![("redis".into(), 5), ("web".into(), 0)],
            detach: true
        })
    );
    assert_eq!(
        err("docker service scale redis"),
        "invalid scale specifier 'redis'."
    );
    assert_eq!(
        err("docker service scale redis=x"),
        "redis: invalid replicas value x: strconv.ParseUint: parsing \"x\": invalid syntax"
    );
    assert_eq!(
        parse_command_line("docker service remove a b"),
        Ok(DockerCommand::ServiceRm {
            services: vec!["a".into(), "b".into()]
        })
    );
    assert_eq!(
        parse_command_line("docker service list"),
        Ok(DockerCommand::ServiceLs)
    );
    assert_eq!(
        parse_command_line("docker node ls"),
        Ok(DockerCommand::NodeLs)
    );
    assert_eq!(
        err("docker service ls -q"),
        "flag --quiet is not supported by swarmsim"
    );
    assert_eq!(
        err("docker service ls x"),
        "\"docker service ls\" accepts no arguments."
    );
}

#[test]
fn ps_and_inspect() {
    assert_eq!(
        parse_command_line("docker service ps --no-trunc -q -f desired-state=Running redis web"),
        Ok(DockerCommand::ServicePs {
            services: vec!["redis".into(), "web".into()],
            no_trunc: true,
            quiet: true,
            desired_state: Some(TaskState::Running),
        })
    );
    assert_eq!(
        err("docker service ps --filter desired-state=sleepy redis"),
        "Invalid desired-state filter: 'sleepy'"
    );
    assert_eq!(
        err("docker service ps --filter node=a redis"),
        "filter \"node\" is not supported by swarmsim"
    );
    assert_eq!(
        err("docker service ps --no-resolve redis"),
        "flag --no-resolve is not supported by swarmsim"
    );
    assert_eq!(
        parse_command_line("docker service inspect --pretty redis"),
        Ok(DockerCommand::ServiceInspect {
            services: vec!["redis".into()],
            pretty: true
        })
    );
    assert!(err("docker service inspect redis").contains("--pretty"));
}

#[test]
fn node_update() {
    assert_eq!(
        parse_command_line(
            "docker node update --availability drain --label-add zone=a --label-rm old worker1"
        ),
        Ok(DockerCommand::NodeUpdate {
            node: "worker1".into(),
            availability: Some(Availability::Drain),
            label_add: vec![("zone".into(), "a".into())],
            label_rm: vec!["old".into()],
        })
    );
    assert_eq!(
        err("docker node update --availability off worker1"),
        "invalid Availability: \"off\""
    );
    assert_eq!(
        err("docker node update --role manager worker1"),
        "flag --role is not supported by swarmsim"
    );
}

#[test]
fn rendering_round_trips() {
    let words = [
        "docker",
        "service",
        "update",
        "--health-cmd",
        "redis-cli ping",
        "redis",
    ];
    let line = render_command_line(&words);
    assert_eq!(
        line,
        "docker service update --health-cmd 'redis-cli ping' redis"
    );
    let (_, args) = update(&line);
    assert_eq!(args.health.cmd.as_deref(), Some("redis-cli ping"));
}

/// A real deploy script's line: every docker 20.10 container flag is
/// accepted and kept in the task spec.
#[test]
fn real_container_flags_are_kept() {
    let spec = create(
        "docker service create --name api --network front --network name=back,alias=db \
         --mount type=bind,source=/srv/data,target=/data,readonly \
         --secret source=db_pw,target=/run/secrets/pw --config app_cfg \
         --log-driver json-file --log-opt max-size=10m --hostname api-{{.Task.Slot}} \
         --user 1000:1000 --workdir /app --entrypoint '/bin/sh -c' --cap-add net_admin \
         --cap-drop ALL -t --stop-signal SIGINT --read-only --dns 10.0.0.2 \
         --dns-search example.com --host db:10.0.0.3 --sysctl net.core.somaxconn=1024 \
         --ulimit nofile=1024:2048 --container-label tier=api --group video \
         --generic-resource gpu=1 --isolation default --oom-score-adj 100 \
         --credential-spec file://spec.json --env-file ./api.env api:1 serve",
    );
    let c = &spec.task.container;
    let nets: Vec<&str> = c.networks.iter().map(|n| n.target.as_str()).collect();
    assert_eq!(nets, ["back", "front"]);
    assert_eq!(c.networks[0].aliases, ["db"]);
    assert_eq!(c.mounts[0].kind, "bind");
    assert!(c.mounts[0].read_only);
    assert_eq!(c.secrets[0].target, "/run/secrets/pw");
    assert_eq!(c.configs[0].target, "app_cfg");
    assert_eq!(c.log_driver, "json-file");
    assert_eq!(c.log_opts["max-size"], "10m");
    assert_eq!(c.hostname, "api-{{.Task.Slot}}");
    assert_eq!((c.user.as_str(), c.dir.as_str()), ("1000:1000", "/app"));
    assert_eq!(c.entrypoint, ["/bin/sh", "-c"]);
    assert_eq!(c.cap_add, ["CAP_NET_ADMIN"]);
    assert_eq!(c.cap_drop, ["ALL"]);
    assert!(c.tty && c.read_only);
    assert_eq!(c.stop_signal, "SIGINT");
    assert_eq!(c.ulimits["nofile"], (1024, 2048));
    assert_eq!(c.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(c.env_files, ["./api.env"]);
    assert_eq!(spec.task.args, ["serve"]);
    let spec2 = updated(
        "docker service create --name api --network front --mount type=volume,src=v,dst=/v api:1",
        "docker service update --network-rm front --network-add back --mount-rm /v \
         --mount-add type=tmpfs,dst=/tmp,tmpfs-size=64m --user nobody api",
    );
    let c = &spec2.task.container;
    assert_eq!(c.networks.len(), 1);
    assert_eq!(c.networks[0].target, "back");
    assert_eq!(c.mounts.len(), 1);
    assert_eq!(c.mounts[0].kind, "tmpfs");
    assert_eq!(c.user, "nobody");
}

#[test]
fn swarm_update_and_node_rm() {
    assert_eq!(
        parse_command_line("docker swarm update --task-history-limit 2"),
        Ok(DockerCommand::SwarmUpdate {
            task_history_limit: Some(2),
            unmodelled: vec![]
        })
    );
    assert_eq!(
        parse_command_line("docker swarm update --dispatcher-heartbeat 10s --autolock"),
        Ok(DockerCommand::SwarmUpdate {
            task_history_limit: None,
            unmodelled: vec!["dispatcher-heartbeat", "autolock"]
        })
    );
    assert_eq!(
        err("docker swarm update --task-history-limit x"),
        "invalid argument \"x\" for \"--task-history-limit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
    );
    assert_eq!(
        err("docker swarm update --external-ca url=https://ca"),
        "invalid argument \"url=https://ca\" for \"--external-ca\" flag: the external-ca option needs a protocol= parameter"
    );
    assert!(err("docker swarm join --token x 10.0.0.1:2377").contains("timeline `node:` items"));
    assert_eq!(
        parse_command_line("docker node rm -f w1 w2"),
        Ok(DockerCommand::NodeRm {
            nodes: vec!["w1".into(), "w2".into()],
            force: true
        })
    );
    assert_eq!(
        err("docker node rm"),
        "\"docker node rm\" requires at least 1 argument."
    );
}

use std::path::PathBuf;

use super::report::*;
use super::*;
use crate::dist::Dist;
use crate::docker::cli::DockerCommand;
use crate::scenario::Action;
use crate::sim::time::{millis, secs};
use crate::swarm::model::{FailureAction, UpdateOrder};

const TEXT: &str = r#"
name: sweep keys
cluster:
  nodes:
    - name: m1
      role: manager
images:
  default: {pull: 1s, start: 1s, stop: 500ms}
  "web:2": {fail_on_start: 0.1}
services:
  web:
    image: web:1
    deploy:
      replicas: 4
      update_config: {parallelism: 1, delay: 10s}
timeline:
  - at: 0s
    docker: docker service create --replicas 3 --name api --update-delay 5s api:1
  - at: 1m
    docker: docker service update --image web:2 web
"#;

fn base() -> (ScenarioSource, Scenario) {
    let src = ScenarioSource {
        file: PathBuf::from("sweep-keys.yaml"),
        text: TEXT.to_string(),
        overrides: Vec::new(),
    };
    let sc = src.build().expect("base scenario loads");
    (src, sc)
}

fn set(pairs: &[(&str, &str)]) -> Result<Scenario, String> {
    let (src, sc) = base();
    let a: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    apply(&src, &sc, &a)
        .map(|s| s.build().expect("validated"))
        .map_err(|e| e.to_string())
}

fn create_spec(sc: &Scenario) -> &crate::swarm::model::ServiceSpec {
    match &sc.timeline[0].action {
        Action::Docker {
            command: DockerCommand::ServiceCreate { spec, .. },
            ..
        } => spec,
        _ => panic!("the first item creates api"),
    }
}

#[test]
fn keys_apply_to_services_section() {
    let sc = set(&[
        ("web.update_config.parallelism", "3"),
        ("web.update_config.delay", "2s"),
        ("web.update_config.order", "start-first"),
        ("web.update_config.failure_action", "rollback"),
        ("web.rollback_config.parallelism", "0"),
        ("web.replicas", "7"),
    ])
    .unwrap();
    let web = &sc.services[0];
    let u = web.update_config.unwrap();
    assert_eq!(u.parallelism, 3);
    assert_eq!(u.delay, secs(2));
    assert_eq!(u.order, UpdateOrder::StartFirst);
    assert_eq!(u.failure_action, FailureAction::Rollback);
    assert_eq!(web.rollback_config.unwrap().parallelism, 0);
    assert_eq!(web.replicas(), Some(7));
    // The untouched base keeps its values.
    let (_, b) = base();
    assert_eq!(b.services[0].update_config.unwrap().parallelism, 1);
}

#[test]
fn keys_apply_to_images_including_distributions() {
    let sc = set(&[
        (
            "images.web:2.start",
            "{dist: lognormal, median: 1s, p99: 5s}",
        ),
        ("images.web:2.fail_on_start", "0.02"),
        ("images.default.pull", "300ms"),
    ])
    .unwrap();
    let p = sc.images.profile("web:2");
    assert!(matches!(p.start, Dist::LogNormal { .. }), "{:?}", p.start);
    assert_eq!(p.fail_on_start, 0.02);
    // web:2 has no `pull` of its own: it inherits the patched default.
    assert_eq!(p.pull, Dist::Fixed(millis(300)));
    assert_eq!(sc.images.default.pull, Dist::Fixed(millis(300)));
}

#[test]
fn keys_apply_to_services_created_by_the_timeline() {
    let sc = set(&[
        ("api.update_config.parallelism", "2"),
        ("api.update_config.monitor", "30s"),
        ("api.update_config.max_failure_ratio", "0.25"),
        ("api.replicas", "9"),
    ])
    .unwrap();
    let spec = create_spec(&sc);
    let u = spec.update_config.unwrap();
    assert_eq!(u.parallelism, 2);
    assert_eq!(u.monitor, secs(30));
    assert_eq!(u.max_failure_ratio, 0.25);
    // The command's own flag is kept.
    assert_eq!(u.delay, secs(5));
    assert_eq!(spec.replicas(), Some(9));
}

#[test]
fn bad_keys_and_values_are_errors() {
    let e = set(&[("web.update_config.paralelism", "2")]).unwrap_err();
    assert!(
        e.contains("unknown --set key `web.update_config.paralelism`"),
        "{e}"
    );
    let e = set(&[("db.replicas", "2")]).unwrap_err();
    assert!(e.contains("no service `db`"), "{e}");
    let e = set(&[("images.web:2.colour", "red")]).unwrap_err();
    assert!(e.contains("unknown --set key"), "{e}");
    let e = set(&[("web.update_config.order", "sideways")]).unwrap_err();
    assert!(
        e.starts_with("--set web.update_config.order=sideways:"),
        "{e}"
    );
    let e = set(&[("api.update_config.delay", "soon")]).unwrap_err();
    assert!(e.contains("api.update_config.delay=soon"), "{e}");
}

#[test]
fn set_args_and_grid() {
    let a = parse_set("web.update_config.parallelism=1,2,4").unwrap();
    assert_eq!(a.values, vec!["1", "2", "4"]);
    let b = parse_set("images.default.start={dist: uniform, min: 1s, max: 3s},2s").unwrap();
    assert_eq!(b.values, vec!["{dist: uniform, min: 1s, max: 3s}", "2s"]);
    assert!(parse_set("novalue").is_err());
    assert!(parse_set("k=1,,2").is_err());
    let g = grid(&[a, b]);
    assert_eq!(g.len(), 6);
    assert_eq!(g[1][0].1, "1");
    assert_eq!(g[1][1].1, "2s");
    assert_eq!(g[2][0].1, "2");
}

fn cell(p95: Option<u64>, min: Option<u64>, paused: f64) -> CellMetrics {
    CellMetrics {
        runs: 100,
        updates_ended: 100,
        p50_duration: p95,
        p95_duration: p95,
        p5_min_running: min,
        p_paused: paused,
        p_rolled_back: 0.0,
    }
}

#[test]
fn requirements_pareto_and_best() {
    let cells = vec![
        cell(Some(50_000), Some(2), 0.0), // slow, safe
        cell(Some(20_000), Some(1), 0.0), // fast, fewer up
        cell(Some(60_000), Some(2), 0.0), // dominated by cell 1
        cell(None, None, 0.5),            // never finishes
    ];
    assert_eq!(pareto_front(&cells), vec![true, true, false, false]);
    let r = Requirement::parse("min_running>=2").unwrap();
    assert_eq!(r.metric, Metric::MinRunning);
    assert!(r.holds(&cells[0]) && !r.holds(&cells[1]) && !r.holds(&cells[3]));
    assert_eq!(
        best(&cells, std::slice::from_ref(&r), Metric::P95Duration),
        Some(0)
    );
    assert_eq!(best(&cells, &[], Metric::P95Duration), Some(1));
    let strict = Requirement::parse("min_running>=3").unwrap();
    assert_eq!(best(&cells, &[strict], Metric::P95Duration), None);
    assert!(Requirement::parse("speed>=3").is_err());
    assert!(Requirement::parse("min_running>=lots").is_err());
    let labels: Vec<String> = (1..=4).map(|i| format!("p{i}")).collect();
    let why = explain_choice(&labels, &cells, &[r], Metric::P95Duration);
    assert!(why.contains("best: cell 1 (p1): p95_duration 50s"), "{why}");
    assert!(
        why.contains("excluded: cell 2 (p2): p5_min_running is 1"),
        "{why}"
    );
    assert!(why.contains("next best: cell 3"), "{why}");
}

/// `diff --set` and `sweep --set` share one override mechanism: the same
/// key reaches a service created by the timeline either way.
#[test]
fn diff_overrides_reach_services_created_by_the_timeline() {
    let (src, _) = base();
    let o = crate::scenario::parse_override("api.update_config.parallelism=4").unwrap();
    let sc = crate::scenario::parse_str_with(&src.text, &src.file, &[o]).unwrap();
    let u = create_spec(&sc).update_config.unwrap();
    assert_eq!(u.parallelism, 4);
    assert_eq!(u.delay, secs(5));
    let o =
        crate::scenario::parse_override("api.deploy.placement.max_replicas_per_node=1").unwrap();
    let e = crate::scenario::parse_str_with(&src.text, &src.file, &[o]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sweep-keys.yaml: --set `api.deploy.placement.max_replicas_per_node=1`: `api` is created \
         by a `docker service create` of the timeline: only api.replicas, \
         api.update_config.FIELD and api.rollback_config.FIELD can be set on it"
    );
    let o = crate::scenario::parse_override("api.update_config.delay=soon").unwrap();
    let e = crate::scenario::parse_str_with(&src.text, &src.file, &[o]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("sweep-keys.yaml: --set `api.update_config.delay=soon`: `delay`: "),
        "{e}"
    );
    let o = crate::scenario::parse_override("db.replicas=2").unwrap();
    let e = crate::scenario::parse_str_with(&src.text, &src.file, &[o]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sweep-keys.yaml: --set `db.replicas=2`: no service `db` under `services:` (or in the `compose:` file)"
    );
}

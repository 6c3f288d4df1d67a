//! How one run's cost grows with the cluster: an update (parallelism 50)
//! and a rollback (one slot at a time) of 1,000 / 10,000 / 100,000
//! replicas on a tenth as many nodes, image latencies drawn from a
//! lognormal. Prints the time per run and per simulated event; asserts
//! nothing about speed (figures, not tests).
//!
//! `cargo bench --bench scaling` (the 100k case takes about a minute).
//! Whole runs with their result files and peak memory:
//! `sh benches/whole-runs.sh`.

use std::rc::Rc;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use swarmsim::runner::{RunOptions, run};
use swarmsim::scenario::parse_str;

fn scenario_text(replicas: u64) -> String {
    let nodes = replicas / 10;
    // The rollback walks one slot at a time, about 3 s a slot.
    let until_h = 2 + replicas * 3 / 3600 + 2;
    format!(
        r#"
name: scaling {replicas}
seed: 1
until: {until_h}h
cluster:
  nodes:
    - name: mgr
      role: manager
    - name: node{{n}}
      count: {workers}
images:
  default:
    pull: 1s
    start: {{dist: lognormal, median: 2s, p99: 8s}}
    stop: 500ms
services:
  web:
    image: app:1
    deploy:
      replicas: {replicas}
      update_config: {{parallelism: 50, delay: 0s, monitor: 5s}}
timeline:
  - at: 60s
    docker: docker service update --image app:2 web
  - at: 2h
    docker: docker service rollback web
"#,
        workers = nodes - 1,
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("scaling");
    group.sample_size(10);
    let opts = RunOptions::default();
    for replicas in [1_000u64, 10_000, 100_000] {
        let text = scenario_text(replicas);
        let scenario = Rc::new(
            parse_str(&text, std::path::Path::new("scaling.yaml")).expect("scaling scenario"),
        );
        let started = Instant::now();
        let probe = run(scenario.clone(), &opts);
        let took = started.elapsed();
        let events = probe.cluster.store.events_processed;
        eprintln!(
            "scaling {replicas:>7} replicas on {:>6} nodes: {events:>9} events, one run {:>8.3} s, {:>6.1} ns/event, final state {:?}",
            replicas / 10,
            took.as_secs_f64(),
            took.as_nanos() as f64 / events as f64,
            probe.summary.services["web"].update_state,
        );
        group.throughput(Throughput::Elements(events));
        group.bench_with_input(BenchmarkId::from_parameter(replicas), &scenario, |b, sc| {
            b.iter(|| run(sc.clone(), &opts))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

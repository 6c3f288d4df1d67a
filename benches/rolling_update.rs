//! One rolling update and its rollback of 10,000 replicas on 1,000 nodes
//! with parallelism 50 (fixed latencies). Reports wall time per run and
//! simulated events per second; it asserts nothing about speed.
//!
//! `cargo bench --bench rolling_update`

use std::rc::Rc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmsim::runner::{RunOptions, run};
use swarmsim::scenario::parse_str;

fn scenario_text() -> String {
    format!(
        r#"
name: bench 10k replicas on 1k nodes
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{{n}}
      count: 999
images:
  default: {{pull: 2s, start: 1s, stop: 500ms}}
services:
  web:
    image: web:1
    deploy:
      replicas: 10000
      update_config: {{parallelism: 50, delay: 0s}}
      rollback_config: {{parallelism: 50, delay: 0s}}
timeline:
  - at: {update}
    docker: docker service update --image web:2 web
  - at: {rollback}
    docker: docker service rollback web
"#,
        update = "1m",
        rollback = "30m"
    )
}

fn bench(c: &mut Criterion) {
    let text = scenario_text();
    let scenario =
        Rc::new(parse_str(&text, std::path::Path::new("bench.yaml")).expect("bench scenario"));
    let opts = RunOptions::default();
    // One run up front to report the event count.
    let probe = run(scenario.clone(), &opts);
    let events = probe.cluster.store.events_processed;
    eprintln!(
        "bench scenario: {events} events; final state {:?}",
        probe.summary.services["web"].update_state
    );
    let mut group = c.benchmark_group("rolling_update");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("10k_replicas_1k_nodes_p50_update_and_rollback", |b| {
        b.iter(|| run(scenario.clone(), &opts))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! A short, deterministic run of the seeded mutation fuzzer
//! (`swarmsim::fuzz`, issue 16) in the test suite: a thousand mutants of
//! the bundled scenarios and their docker lines must load or be refused
//! without a panic, within the time and memory budget. The long run is
//! `cargo run --release --example fuzz -- --seconds 600`.

use std::path::Path;
use std::time::Duration;

use swarmsim::fuzz::{Budget, corpus, fuzz, mutate};

#[test]
fn mutants_of_the_corpus_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (scenarios, docker) = corpus(&[root.join("scenarios")]);
    assert!(scenarios.len() >= 10 && docker.len() >= 20);
    let budget = Budget {
        max_events: 5_000,
        until_s: 600,
        slow: Duration::from_secs(3),
        ..Budget::default()
    };
    let report = fuzz(16, 1000, None, &scenarios, &docker, &budget);
    assert_eq!(report.inputs, 1000);
    assert!(report.scenario_inputs > 300 && report.docker_inputs > 200);
    // The mutants are not all refused: the run reaches the simulator.
    assert!(report.accepted > 100, "{report:?}");
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{:?}: {}: {:?}",
                f.target,
                f.what,
                String::from_utf8_lossy(&f.input)
            )
        })
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn mutation_is_deterministic() {
    use rand::SeedableRng;
    let a = mutate(
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(3),
        b"name: x\nseed: 12\n",
        b"until: 1m",
    );
    let b = mutate(
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(3),
        b"name: x\nseed: 12\n",
        b"until: 1m",
    );
    assert_eq!(a, b);
}

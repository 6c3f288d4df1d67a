//! The committed example results in `results/redis-tutorial/` must be
//! exactly what the simulator produces today: re-run the scenario through
//! the library and compare byte for byte.
//!
//! If this fails after an intended change of the simulator or of an output
//! format, regenerate the files with
//!
//!     cargo run --release -- run scenarios/redis-tutorial.yaml --out results/redis-tutorial
//!
//! and review `git diff results/` before committing.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use swarmsim::runner::{RunOptions, run};
use swarmsim::scenario;

const REGENERATE: &str =
    "cargo run --release -- run scenarios/redis-tutorial.yaml --out results/redis-tutorial";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The first differing line, to make the failure readable without dumping
/// whole files.
fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!(
                "first difference at line {}:\n  committed: {e:?}\n  generated: {a:?}",
                i + 1
            );
        }
    }
    format!(
        "the files differ in length or line endings ({} vs {} bytes, {} vs {} lines)",
        expected.len(),
        actual.len(),
        expected.lines().count(),
        actual.lines().count()
    )
}

fn check(file: &str, actual: &str) {
    let path = root().join("results/redis-tutorial").join(file);
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nregenerate it with: {REGENERATE}",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "results/redis-tutorial/{file} is out of date: {}\n\
         If the change is intended, regenerate the results with:\n    {REGENERATE}\n\
         and review `git diff results/` before committing.",
        first_difference(&expected, actual)
    );
}

#[test]
fn committed_redis_tutorial_results_are_reproducible() {
    // The same relative path the CLI is given, so that nothing that might
    // echo the path differs; integration tests run in the package root.
    let rel = Path::new("scenarios/redis-tutorial.yaml");
    let path = if rel.exists() {
        rel.to_path_buf()
    } else {
        root().join(rel)
    };
    let sc = scenario::load(&path).expect("the tutorial scenario loads");
    // Exactly what `swarmsim run` does: no seed/until override, log kept.
    let result = run(
        Rc::new(sc),
        &RunOptions {
            seed: None,
            until: None,
            keep_log: true,
            ..Default::default()
        },
    );
    check("transcript.txt", &result.transcript);
    check("events.csv", &result.events_csv());
    check("summary.json", &result.summary_json());
}

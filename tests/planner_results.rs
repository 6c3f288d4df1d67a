//! The committed capacity-planning results in `results/planner-sweep/`
//! and `results/planner-400/` must be what `sh scripts/planner-results.sh`
//! produces today.
//!
//! - `results/planner-sweep/` is regenerated in full (batch of 200 runs,
//!   sweep of 8 cells × 100 runs) and compared byte for byte.
//! - `results/planner-400/` (200 runs of 400 replicas) would take about
//!   30 s in a debug build, so this test re-simulates 4 of its seeds and
//!   compares their `runs.csv` rows, and regenerates every other file
//!   (batch.json, table, plots) from the committed `runs.csv` and
//!   `band.csv` with the same pure functions the binary uses.
//!
//! If this fails after an intended change, run
//! `sh scripts/planner-results.sh` and review `git diff results/`.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use assert_cmd::Command;
use swarmsim::batch::band::Band;
use swarmsim::batch::cmd::batch_files;
use swarmsim::batch::output::{BatchMeta, batch_table, parse_runs_csv, runs_csv_row};
use swarmsim::batch::{ScenarioSource, run_one, service_columns};

const REGENERATE: &str = "sh scripts/planner-results.sh";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed(path: &str) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}; regenerate with {REGENERATE}"))
}

fn same(path: &str, actual: &str) {
    let expected = committed(path);
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or(expected.lines().count().min(actual.lines().count()) + 1);
        panic!(
            "{path} is out of date (first difference at line {line}); regenerate with {REGENERATE}"
        );
    }
}

fn swarmsim(args: &[&str]) -> String {
    let out = Command::cargo_bin("swarmsim")
        .expect("binary built")
        .current_dir(root())
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("planner-results")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

#[test]
fn planner_sweep_results_are_reproducible() {
    let dir = scratch("sweep");
    let out = dir.display().to_string();
    let table = swarmsim(&[
        "batch",
        "scenarios/planner-sweep.yaml",
        "--runs",
        "200",
        "--out",
        &out,
    ]);
    same("results/planner-sweep/table.txt", &table);
    let sweep = swarmsim(&[
        "sweep",
        "scenarios/planner-sweep.yaml",
        "--set",
        "web.update_config.parallelism=1,2,4,8",
        "--set",
        "web.update_config.delay=0s,5s",
        "--runs",
        "100",
        "--require",
        "min_running>=36",
        "--minimize",
        "p95_duration",
        "--out",
        &out,
    ]);
    same("results/planner-sweep/sweep.txt", &sweep);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    for n in names {
        let actual = std::fs::read_to_string(dir.join(&n)).expect("file");
        same(&format!("results/planner-sweep/{n}"), &actual);
    }
}

#[test]
fn planner_400_results_are_reproducible() {
    let path = root().join("scenarios/planner-400.yaml");
    let source = ScenarioSource::load(&path).expect("loads");
    let sc = Rc::new(source.build().expect("valid"));
    let columns = service_columns(&sc);
    let runs_csv = committed("results/planner-400/runs.csv");
    let (cols, rows) = parse_runs_csv(&runs_csv).expect("committed runs.csv reads");
    assert_eq!(cols, columns);
    assert_eq!(rows.len(), 200);
    // Re-simulate a sample of seeds: their rows must be unchanged.
    let mut band = Band::new(columns.len());
    for seed in [1u64, 67, 134, 200] {
        let rec = run_one(&sc, &columns, seed, &mut band);
        let line = runs_csv_row(&rec);
        assert!(
            runs_csv.contains(&format!("\n{line}")),
            "seed {seed}: {line:?} is not the committed row; regenerate with {REGENERATE}"
        );
    }
    // Every other file follows from runs.csv and band.csv.
    let band = Band::from_csv(&committed("results/planner-400/band.csv"), &columns)
        .expect("committed band.csv reads");
    let meta = BatchMeta {
        scenario: sc.name.clone(),
        scenario_file: "planner-400.yaml".into(),
        seed_start: 1,
        runs: 200,
        shard: None,
        shard_of: None,
    };
    for (name, text) in batch_files(&meta, &columns, &rows, &band) {
        same(&format!("results/planner-400/{name}"), &text);
    }
    same(
        "results/planner-400/table.txt",
        &batch_table(&meta, &columns, &rows),
    );
}

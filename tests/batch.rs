//! End-to-end tests of `batch`, `merge` and `sweep` through the binary:
//! the same bytes for every `--jobs`, shards merged into exactly the
//! unsharded batch, sweep keys and errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("batch-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
        .display()
        .to_string()
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn swarmsim(args: &[&str]) -> Out {
    let out = Command::cargo_bin("swarmsim")
        .expect("binary built")
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .output()
        .expect("runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file of a folder, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("folder") {
        let e = e.expect("entry");
        m.insert(
            e.file_name().to_string_lossy().into_owned(),
            std::fs::read(e.path()).expect("file"),
        );
    }
    m
}

fn batch(dir: &Path, extra: &[&str]) -> Out {
    let sc = scenario("planner-sweep.yaml");
    let out = dir.display().to_string();
    let mut args = vec![
        "batch",
        &sc,
        "--runs",
        "60",
        "--seed-start",
        "11",
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    let o = swarmsim(&args);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    o
}

#[test]
fn batch_output_is_the_same_for_every_jobs_value() {
    let root = scratch("jobs");
    let one = batch(&root.join("j1"), &["--jobs", "1"]);
    let two = batch(&root.join("j2"), &["--jobs", "2"]);
    let three = batch(&root.join("j3"), &["--jobs", "3"]);
    let f1 = files(&root.join("j1"));
    assert!(f1.contains_key("runs.csv") && f1.contains_key("batch.json"));
    assert!(f1.contains_key("band.csv") && f1.contains_key("running-band-web.svg"));
    assert_eq!(f1, files(&root.join("j2")));
    assert_eq!(f1, files(&root.join("j3")));
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, three.stdout);
    // One row per seed, in seed order; the random image makes runs differ.
    let runs = String::from_utf8(f1["runs.csv"].clone()).unwrap();
    let seeds: Vec<&str> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let expected: Vec<String> = (11..71).map(|s| s.to_string()).collect();
    assert_eq!(seeds, expected);
    let durations: std::collections::BTreeSet<&str> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert!(
        durations.len() > 10,
        "seeds should give different durations"
    );
    assert!(one.stdout.contains("final state"), "{}", one.stdout);
}

#[test]
fn merged_shards_equal_the_unsharded_batch() {
    let root = scratch("shards");
    let whole = batch(&root.join("whole"), &[]);
    for i in 0..3 {
        let shard = format!("{i}/3");
        batch(&root.join(format!("s{i}")), &["--shard", &shard]);
    }
    let s0 = std::fs::read_to_string(root.join("s0/runs.csv")).unwrap();
    assert_eq!(s0.lines().count(), 1 + 20, "shard 0 runs 20 of 60 seeds");
    let dirs: Vec<String> = [2, 0, 1]
        .iter()
        .map(|i| root.join(format!("s{i}")).display().to_string())
        .collect();
    let out = root.join("merged").display().to_string();
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["--out", &out]);
    let merged = swarmsim(&args);
    assert_eq!(merged.code, Some(0), "{}", merged.stderr);
    assert_eq!(files(&root.join("whole")), files(&root.join("merged")));
    assert_eq!(whole.stdout, merged.stdout);

    // A missing shard is refused.
    let partial = swarmsim(&["merge", &dirs[0], &dirs[1], "--out", &out]);
    assert_eq!(partial.code, Some(2));
    assert!(partial.stderr.contains("missing 1/3"), "{}", partial.stderr);
}

#[test]
fn bad_batch_arguments_exit_2() {
    let root = scratch("bad");
    let sc = scenario("planner-sweep.yaml");
    let out = root.display().to_string();
    for args in [
        vec!["batch", &sc, "--runs", "0", "--out", &out],
        vec!["batch", &sc, "--runs", "5", "--shard", "3/3", "--out", &out],
        vec!["batch", "no-such-file.yaml", "--runs", "5", "--out", &out],
    ] {
        let o = swarmsim(&args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
        assert!(o.stderr.starts_with("error: "), "{}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
}

#[test]
fn sweep_runs_the_grid_with_common_seeds() {
    let root = scratch("sweep");
    let sc = scenario("planner-sweep.yaml");
    let out = root.display().to_string();
    let o = swarmsim(&[
        "sweep",
        &sc,
        "--set",
        "web.update_config.parallelism=1,4,1",
        "--runs",
        "20",
        "--require",
        "min_running>=37",
        "--minimize",
        "p95_duration",
        "--out",
        &out,
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let csv = std::fs::read_to_string(root.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4);
    // Cells 1 and 3 are the same policy on the same seeds: same numbers.
    let tail = |r: &str| r.splitn(3, ',').nth(2).unwrap().to_string();
    assert_eq!(tail(rows[1]), tail(rows[3]));
    assert_ne!(tail(rows[1]), tail(rows[2]));
    assert!(
        o.stdout.contains("best: cell 1 (parallelism=1)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("excluded: cell 2 (parallelism=4)"),
        "{}",
        o.stdout
    );
    assert!(root.join("sweep-update-cdf.svg").exists());
}

#[test]
fn sweep_rejects_unknown_keys() {
    let root = scratch("sweep-bad");
    let sc = scenario("planner-sweep.yaml");
    let out = root.display().to_string();
    for (set, msg) in [
        (
            "web.update_config.speed=1,2",
            "unknown --set key `web.update_config.speed`",
        ),
        ("db.replicas=1", "no service `db`"),
        (
            "web.update_config.order=sideways",
            "--set web.update_config.order=sideways",
        ),
    ] {
        let o = swarmsim(&["sweep", &sc, "--set", set, "--runs", "2", "--out", &out]);
        assert_eq!(o.code, Some(2), "{set}: {}", o.stderr);
        assert!(o.stderr.contains(msg), "{set}: {}", o.stderr);
    }
}

/// A user's batch or sweep without `--out` writes `out/<stem>/` in the
/// working folder, never the committed `results/<stem>/` (which the
/// planner-results test compares against).
#[test]
fn batch_and_sweep_default_to_out_not_results() {
    let dir = scratch("default_out");
    let sc = scenario("planner-sweep.yaml");
    let run = |args: &[&str]| {
        let o = Command::cargo_bin("swarmsim")
            .expect("binary built")
            .current_dir(&dir)
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&["batch", &sc, "--runs", "3"]);
    assert!(dir.join("out/planner-sweep/batch.json").is_file());
    run(&[
        "sweep",
        &sc,
        "--set",
        "web.update_config.parallelism=1,2",
        "--runs",
        "2",
    ]);
    assert!(dir.join("out/planner-sweep/sweep.csv").is_file());
    assert!(!dir.join("results").exists());
}

/// `sweep --set` uses the loader's overrides (as `diff --set` does), so a
/// key reaches a service of the scenario's `compose:` file: with a 5 s
/// monitor the leaky image's crash (20 s after the start) goes unnoticed,
/// with 30 s it is rolled back.
#[test]
fn sweep_reaches_services_of_the_compose_file() {
    let root = scratch("sweep-compose");
    let sc = scenario("regression/bad-image-rolls-back.yaml");
    let out = root.display().to_string();
    let o = swarmsim(&[
        "sweep",
        &sc,
        "--set",
        "web.update_config.monitor=5s,30s",
        "--runs",
        "2",
        "--out",
        &out,
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let rows: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.contains("monitor="))
        .collect();
    assert_eq!(rows.len(), 2, "{}", o.stdout);
    assert!(
        rows[0].trim_end().ends_with("0.0000    0.0000"),
        "{}",
        o.stdout
    );
    assert!(rows[1].trim_end().ends_with("1.0000"), "{}", o.stdout);
}

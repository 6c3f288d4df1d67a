//! End-to-end tests of the `swarmsim` binary (`docs/usage.md#output`,
//! `docs/regression.md#exit-statuses`, `docs/scenario-format.md#errors`):
//! exit statuses, result files, flags, and error messages on stderr.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

// ----- helpers --------------------------------------------------------------

/// A fresh scratch folder per test, under cargo's per-target temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn tutorial() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redis-tutorial.yaml")
}

fn swarmsim() -> Command {
    let mut c = Command::cargo_bin("swarmsim").expect("binary built");
    // A panic would then print a backtrace, which the error tests reject.
    c.env("RUST_BACKTRACE", "1");
    c
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = swarmsim()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(&dir.join("summary.json"))).expect("summary.json is JSON")
}

fn assert_no_panic(o: &Out) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "thread '"] {
        assert!(
            !o.stderr.contains(bad) && !o.stdout.contains(bad),
            "output contains {bad:?}:\nstderr: {}\nstdout: {}",
            o.stderr,
            o.stdout
        );
    }
}

const MINIMAL: &str = "name: t\ncluster:\n  nodes:\n    - name: n1\n      role: manager\n";

// ----- run --------------------------------------------------------------------

#[test]
fn run_writes_the_three_result_files_into_out() {
    let dir = scratch("run_out");
    let out = dir.join("res");
    let t = tutorial();
    let o = run_in(
        &dir,
        &["run", t.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    assert_eq!(o.stderr, "");
    for f in ["transcript.txt", "events.csv", "summary.json"] {
        assert!(out.join(f).is_file(), "{f} missing in --out");
    }
    // The transcript file is exactly what was printed.
    assert_eq!(read(&out.join("transcript.txt")), o.stdout);
    assert!(o.stdout.starts_with("[0s] $ docker service create"));
    assert!(
        read(&out.join("events.csv")).starts_with(
            "time_s,kind,service,task_id,slot,node,image,state,desired_state,message\n"
        )
    );
    let s = summary(&out);
    assert_eq!(s["scenario"], "redis tutorial rolling update");
    assert_eq!(s["seed"], 1);
    assert_eq!(s["services"]["redis"]["update_state"], "rollback_completed");
    // Nothing was written to the default folder.
    assert!(!dir.join("results").exists());
}

#[test]
fn run_without_out_writes_out_stem_not_results() {
    let dir = scratch("run_default_out");
    std::fs::copy(tutorial(), dir.join("tut.yaml")).unwrap();
    let o = run_in(&dir, &["run", "tut.yaml"]);
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    let res = dir.join("out/tut");
    assert_eq!(read(&res.join("transcript.txt")), o.stdout);
    assert!(res.join("events.csv").is_file() && res.join("summary.json").is_file());
    // The committed results/ folder is never the default.
    assert!(!dir.join("results").exists());
}

/// `conform`'s default folder is not the committed results/conformance/
/// either (conformance/run.sh names that one with --out).
#[test]
fn conform_defaults_to_out_not_results() {
    let dir = scratch("conform_help");
    let o = run_in(&dir, &["conform", "--help"]);
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    assert!(
        o.stdout.contains("[default: out/conformance]"),
        "{}",
        o.stdout
    );
}

#[test]
fn seed_flag_overrides_the_scenario_seed_and_changes_ids() {
    let dir = scratch("seed");
    let t = tutorial();
    let t = t.to_str().unwrap();
    let o_default = run_in(&dir, &["run", t, "--out", "a"]);
    let o_seed1 = run_in(&dir, &["run", t, "--seed", "1", "--out", "b"]);
    let o_seed2 = run_in(&dir, &["run", t, "--seed", "2", "--out", "c"]);
    for o in [&o_default, &o_seed1, &o_seed2] {
        assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    }
    // The scenario says `seed: 1`.
    assert_eq!(o_default.stdout, o_seed1.stdout);
    // Line 2 of the transcript is the id `service create` prints.
    let id = |o: &Out| o.stdout.lines().nth(1).unwrap().to_string();
    let (id1, id2) = (id(&o_seed1), id(&o_seed2));
    for id in [&id1, &id2] {
        assert_eq!(id.len(), 25, "{id:?}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }
    assert_ne!(id1, id2, "--seed must change the ids");
    // Task ids in events.csv change too.
    let task_ids = |d: &str| -> Vec<String> {
        read(&dir.join(d).join("events.csv"))
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let (ids1, ids2) = (task_ids("b"), task_ids("c"));
    assert!(!ids1.is_empty());
    assert!(ids1.iter().all(|i| !ids2.contains(i)));
    assert_eq!(summary(&dir.join("c"))["seed"], 2);
}

#[test]
fn until_flag_stops_the_run_early() {
    let dir = scratch("until");
    let t = tutorial();
    let o = run_in(
        &dir,
        &["run", t.to_str().unwrap(), "--until", "1m30s", "--out", "r"],
    );
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    assert!(
        o.stdout.contains("\n[1m30s] end of simulation ("),
        "{}",
        o.stdout
    );
    // The timeline items at 3m and 4m never ran.
    assert!(!o.stdout.contains("[3m0s]") && !o.stdout.contains("rollback"));
    let s = summary(&dir.join("r"));
    assert_eq!(s["end_time_s"], 90.0);
    // The update (1m to 1m50s) is still running at 1m30s.
    assert_eq!(s["services"]["redis"]["update_state"], "updating");
    let csv = read(&dir.join("r/events.csv"));
    let last_time: f64 = csv
        .lines()
        .last()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(last_time <= 90.0, "events after --until: {last_time}");
}

#[test]
fn bad_until_value_is_bad_input() {
    let dir = scratch("bad_until");
    let t = tutorial();
    let o = run_in(
        &dir,
        &["run", t.to_str().unwrap(), "--until", "10x", "--out", "r"],
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.starts_with("error: "), "{}", o.stderr);
    assert!(o.stderr.contains("10x"), "{}", o.stderr);
    assert_no_panic(&o);
    assert!(!dir.join("r").exists());
}

#[test]
fn quiet_prints_only_the_summary() {
    let dir = scratch("quiet");
    let t = tutorial();
    let o = run_in(&dir, &["run", t.to_str().unwrap(), "--quiet", "--out", "r"]);
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    let transcript = read(&dir.join("r/transcript.txt"));
    // The summary is the tail of the transcript, starting at the end line.
    let at = transcript
        .find("[4m0s] end of simulation")
        .expect("summary in the transcript");
    assert_eq!(o.stdout, transcript[at..]);
    assert!(!o.stdout.contains("$ docker"));
    assert!(o.stdout.contains("redis: 3/3 running"));
}

// ----- validate ---------------------------------------------------------------

#[test]
fn validate_prints_ok_for_each_file() {
    let dir = scratch("validate_ok");
    std::fs::write(dir.join("min.yaml"), MINIMAL).unwrap();
    std::fs::copy(tutorial(), dir.join("tut.yaml")).unwrap();
    let o = run_in(&dir, &["validate", "min.yaml", "tut.yaml"]);
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    assert_eq!(o.stdout, "ok: min.yaml\nok: tut.yaml\n");
    assert_eq!(o.stderr, "");
    // No simulation: no results folder.
    assert!(!dir.join("results").exists());
}

#[test]
fn validate_reports_bad_files_and_still_checks_the_others() {
    let dir = scratch("validate_mixed");
    std::fs::write(dir.join("min.yaml"), MINIMAL).unwrap();
    std::fs::write(dir.join("bad.yaml"), format!("{MINIMAL}seeed: 3\n")).unwrap();
    let o = run_in(&dir, &["validate", "bad.yaml", "min.yaml"]);
    assert_eq!(o.code, Some(2));
    assert_eq!(o.stdout, "ok: min.yaml\n");
    assert!(
        o.stderr.starts_with("error: bad.yaml:6:1: "),
        "{}",
        o.stderr
    );
}

// ----- bad input ----------------------------------------------------------------

/// Writes `text` as `name`, runs `validate` and `run` on it, and checks exit
/// status 2, one `error: FILE:LINE:COL: ...` line on stderr containing
/// `fragment`, no panic text, and (for `run`) no results written.
fn expect_bad_input(case: &str, text: &str, line: usize, col: usize, fragment: &str) {
    let dir = scratch(case);
    let file = format!("{case}.yaml");
    std::fs::write(dir.join(&file), text).unwrap();
    let prefix = format!("error: {file}:{line}:{col}: ");
    for args in [vec!["validate", file.as_str()], vec!["run", file.as_str()]] {
        let o = run_in(&dir, &args);
        assert_eq!(o.code, Some(2), "{args:?}: stderr {}", o.stderr);
        assert_eq!(o.stdout, "", "{args:?}");
        assert!(
            o.stderr.starts_with(&prefix),
            "{args:?}: expected stderr to start with {prefix:?}, got {:?}",
            o.stderr
        );
        assert!(
            o.stderr.contains(fragment),
            "{args:?}: expected {fragment:?} in {:?}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1, "one line: {:?}", o.stderr);
        assert_no_panic(&o);
    }
    assert!(
        !dir.join("results").exists(),
        "results written for bad input"
    );
}

#[test]
fn unknown_key_suggests_the_right_one() {
    expect_bad_input(
        "unknown_top_key",
        &format!("{MINIMAL}seeed: 3\n"),
        6,
        1,
        "unknown key `seeed`; did you mean `seed`?",
    );
    expect_bad_input(
        "unknown_nested_key",
        &format!(
            "{MINIMAL}services:\n  web:\n    image: nginx\n    deploy:\n      update_config: {{parallelizm: 2}}\n"
        ),
        10,
        23,
        "unknown key `parallelizm`; did you mean `parallelism`?",
    );
}

#[test]
fn bad_duration() {
    expect_bad_input(
        "bad_duration",
        &format!("{MINIMAL}until: 10x\n"),
        6,
        8,
        "time: unknown unit \"x\" in duration \"10x\"",
    );
}

#[test]
fn probability_out_of_range() {
    expect_bad_input(
        "probability",
        &format!("{MINIMAL}images:\n  default:\n    fail_on_start: 1.5\n"),
        8,
        20,
        "`fail_on_start` must be a probability",
    );
}

#[test]
fn unknown_docker_flag() {
    expect_bad_input(
        "unknown_flag",
        &format!(
            "{MINIMAL}timeline:\n  - at: 0s\n    docker: docker service create --foo x nginx\n"
        ),
        8,
        13,
        "unknown flag: --foo",
    );
}

#[test]
fn unsupported_docker_flag() {
    expect_bad_input(
        "unsupported_flag",
        &format!("{MINIMAL}timeline:\n  - at: 0s\n    docker: docker service ps --format x web\n"),
        8,
        13,
        "flag --format is not supported by swarmsim",
    );
}

#[test]
fn bad_docker_flag_value() {
    expect_bad_input(
        "bad_flag_value",
        &format!(
            "{MINIMAL}timeline:\n  - at: 0s\n    docker: docker service create --update-delay 10x nginx\n"
        ),
        8,
        13,
        "invalid argument \"10x\" for \"--update-delay\" flag",
    );
}

#[test]
fn invalid_yaml() {
    expect_bad_input(
        "invalid_yaml",
        "name: [unclosed\ncluster: {\n",
        2,
        8,
        "invalid YAML: ",
    );
}

#[test]
fn missing_file() {
    let dir = scratch("missing");
    for args in [vec!["validate", "nope.yaml"], vec!["run", "nope.yaml"]] {
        let o = run_in(&dir, &args);
        assert_eq!(o.code, Some(2), "{args:?}");
        assert_eq!(o.stdout, "");
        assert!(
            o.stderr
                .starts_with("error: nope.yaml: cannot read the scenario"),
            "{:?}",
            o.stderr
        );
        assert_no_panic(&o);
    }
    assert!(!dir.join("results").exists());
}

#[test]
fn unknown_subcommand_exits_2() {
    let dir = scratch("unknown_subcommand");
    let o = run_in(&dir, &["frobnicate"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("frobnicate"), "{}", o.stderr);
    assert_no_panic(&o);
}

#[test]
fn missing_arguments_exit_2() {
    let dir = scratch("missing_args");
    for args in [vec!["run"], vec!["validate"], vec![]] {
        let o = run_in(&dir, &args);
        assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
        assert_no_panic(&o);
    }
}

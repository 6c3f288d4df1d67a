//! The regression-testing layer: `expect:`, `check` (with JUnit XML),
//! `diff`, `lint`, `--fail-on`, and Compose stack files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("regress-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sim(args: &[&str]) -> Out {
    let out = Command::cargo_bin("swarmsim")
        .expect("binary built")
        .current_dir(root())
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .output()
        .expect("runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Copies the worked example to a scratch folder (to edit its policy).
fn example_copy(name: &str) -> PathBuf {
    let dir = scratch(name);
    for f in ["stack.yml", "update-web.yaml", "bad-image-rolls-back.yaml"] {
        std::fs::copy(root().join("scenarios/regression").join(f), dir.join(f)).expect("copy");
    }
    dir
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{from} not in {}", file.display());
    std::fs::write(file, text.replace(from, to)).expect("write");
}

#[test]
fn run_with_passing_expectations_exits_0() {
    let out_dir = scratch("pass");
    let o = sim(&[
        "run",
        "scenarios/regression/bad-image-rolls-back.yaml",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("expect: 2 checked, 0 failed"),
        "{}",
        o.stdout
    );
}

#[test]
fn run_with_a_failing_expectation_prints_expected_observed_and_the_deciding_event() {
    let dir = example_copy("fail");
    replace_in(&dir.join("stack.yml"), "monitor: 30s", "monitor: 5s");
    let scenario = dir.join("bad-image-rolls-back.yaml");
    let o = sim(&[
        "run",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let expected = "  update_state
    expected: rollback_completed
    observed: completed
    decided by: [1m11s] update web: completed \"update completed\" (cause: updater)
";
    assert!(o.stdout.contains(expected), "{}", o.stdout);
    assert!(o.stdout.contains("expectation 1 failed ("), "{}", o.stdout);
    assert!(
        o.stdout.contains(
            "observed: 2 of 2 running tasks run another image (web.1 web:2, web.2 web:2)"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("expect: 2 checked, 2 failed"),
        "{}",
        o.stdout
    );
}

#[test]
fn statistical_expectation_fails_with_the_seed_that_decided_it() {
    let dir = scratch("stats");
    std::fs::write(
        dir.join("s.yaml"),
        "cluster:\n  nodes:\n    - {name: m, role: manager}\n    - {name: \"w{n}\", count: 2}\nimages:\n  default: {pull: 1s, start: 1s, stop: 500ms}\n  \"web:2\": {fail_on_start: 0.3}\ntimeline:\n  - {at: 0s, docker: docker service create --replicas 3 --name web --update-failure-action rollback web:1}\n  - {at: 30s, docker: docker service update --image web:2 web}\nexpect:\n  - over: {runs: 20}\n    probability: {rollback_completed: {max: 0.05}}\n    max: {task_failures: {max: 100}}\n",
    )
    .unwrap();
    let o = sim(&["check", dir.join("s.yaml").to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("P(rollback_completed)"), "{}", o.stdout);
    assert!(o.stdout.contains("expected: <= 0.05"), "{}", o.stdout);
    assert!(o.stdout.contains("runs, first: seed "), "{}", o.stdout);
    assert!(o.stdout.contains("decided by: seed "), "{}", o.stdout);
    assert!(
        o.stdout.contains("update web: rollback_completed"),
        "{}",
        o.stdout
    );
    // Deterministic: the same report twice (time taken aside).
    let again = sim(&["check", dir.join("s.yaml").to_str().unwrap()]);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("FAIL"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&o.stdout), strip(&again.stdout));
}

/// Minimal XML shape check: balanced tags, attributes quoted.
fn xml_elements(xml: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        let j = rest[i..].find('>').expect("tag closes") + i;
        let tag = &rest[i + 1..j];
        rest = &rest[j + 1..];
        if tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "unbalanced </{name}>");
            continue;
        }
        let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
        assert_eq!(tag.matches('"').count() % 2, 0, "quotes in <{tag}>");
        seen.push(name.to_string());
        if !tag.ends_with('/') {
            stack.push(name.to_string());
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    seen
}

fn attr(xml: &str, element: &str, name: &str) -> String {
    let start = xml.find(&format!("<{element} ")).expect("element");
    let tag = &xml[start..start + xml[start..].find('>').unwrap()];
    let k = tag.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
    tag[k..k + tag[k..].find('"').unwrap()].to_string()
}

#[test]
fn check_a_folder_writes_junit_and_catches_the_policy_regression() {
    let dir = example_copy("check");
    let junit = dir.join("junit.xml");
    let o = sim(&[
        "check",
        dir.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(
        lines[0].starts_with("PASS  ")
            && lines[0].contains("bad-image-rolls-back.yaml (2 expectations, "),
        "{}",
        o.stdout
    );
    assert!(
        lines[1].starts_with("PASS  ") && lines[1].contains("update-web.yaml (4 expectations, "),
        "{}",
        o.stdout
    );
    assert_eq!(lines[2], "2 scenarios: 2 ok, 0 failed, 0 with errors");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let elements = xml_elements(&xml);
    assert_eq!(elements.iter().filter(|e| *e == "testsuite").count(), 2);
    assert_eq!(elements.iter().filter(|e| *e == "testcase").count(), 6);
    assert_eq!(attr(&xml, "testsuites", "tests"), "6");
    assert_eq!(attr(&xml, "testsuites", "failures"), "0");

    // The policy change: a shorter monitor.
    replace_in(&dir.join("stack.yml"), "monitor: 30s", "monitor: 5s");
    let o = sim(&[
        "check",
        dir.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("FAIL  "), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("bad-image-rolls-back.yaml (2 of 2 expectations failed, "),
        "{}",
        o.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let elements = xml_elements(&xml);
    assert_eq!(elements.iter().filter(|e| *e == "failure").count(), 2);
    assert_eq!(attr(&xml, "testsuites", "failures"), "2");
    assert_eq!(
        attr(&xml, "failure", "message"),
        "update_state: expected rollback_completed, observed completed"
    );
}

#[test]
fn check_reports_bad_input_with_exit_2() {
    let dir = scratch("check-bad");
    std::fs::write(dir.join("a.yaml"), "cluster:\n  nodes:\n    - {name: m, role: manager}\nexpect:\n  - {service: web, runing: 3}\n").unwrap();
    let o = sim(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("a.yaml:5:20: unknown key `runing`; did you mean `running`?"),
        "{}",
        o.stdout
    );
    let empty = scratch("check-empty");
    let o = sim(&["check", empty.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("no scenario with `expect:` found"),
        "{}",
        o.stderr
    );
}

#[test]
fn diff_shows_where_two_policies_part_and_why() {
    let o = sim(&[
        "diff",
        "scenarios/regression/bad-image-rolls-back.yaml",
        "--set",
        "web.update_config.monitor=5s",
    ]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let s = &o.stdout;
    assert!(s.contains("The timelines part at 1m5s (events row "), "{s}");
    assert!(s.contains("  A: [1m5s] update web: rollback_started \"update rolled back due to failure or early termination of task <id>\" (cause: updater)"), "{s}");
    assert!(s.contains("  B: [1m8s] task web.2 "), "{s}");
    assert!(
        s.contains("later than the 6s monitor: not counted as an update failure"),
        "{s}"
    );
    assert!(
        s.lines().any(|l| l.starts_with("web.update_state")
            && l.contains("rollback_completed")
            && l.contains("completed   *")),
        "{s}"
    );
    // web:2 dies 20 s after it starts (the scenario's crash_after); the
    // updater reads the failure 8 s later, at its final watch.
    assert!(
        s.contains("task lu80ecg1q96t failed 20s after it started (read by the updater 28s after the start, within the 30s monitor)"),
        "{s}"
    );
    assert!(
        s.contains("task lu80ecg1q96t stopped 20s after it started (read by the updater 28s after the start), later than the 6s monitor"),
        "{s}"
    );
    // The stack file is loaded for both runs; its warning is printed once.
    assert_eq!(
        o.stderr
            .matches("ignored (no effect on rolling updates)")
            .count(),
        1,
        "{}",
        o.stderr
    );
    // The summary table fits a terminal: a value of several parts (the
    // update and the rollback) takes a line each.
    let table = &s[s.find("\nsummary ").expect("summary table") + 1..];
    for l in table.lines() {
        assert!(
            l.chars().count() <= 110,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    assert!(
        table
            .lines()
            .any(|l| l.trim() == "rollback 1m5s-1m28s rollback_completed"),
        "{table}"
    );
    // The same setting on both sides: no difference.
    let o = sim(&[
        "diff",
        "scenarios/regression/bad-image-rolls-back.yaml",
        "--set",
        "web.update_config.monitor=30s",
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("The timelines are identical"),
        "{}",
        o.stdout
    );
    // Two files.
    let o = sim(&[
        "diff",
        "scenarios/bad-image-pause.yaml",
        "scenarios/bad-image-rollback.yaml",
    ]);
    assert_eq!(o.code, 1);
    assert!(
        o.stdout.contains("The timelines part at 33s"),
        "{}",
        o.stdout
    );
    let o = sim(&[
        "diff",
        "scenarios/bad-image-pause.yaml",
        "--set",
        "nosuch.replicas=2",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no service `nosuch`"), "{}", o.stderr);
}

#[test]
fn compose_host_port_blocks_a_start_first_task_beside_its_predecessor() {
    let dir = scratch("hostport");
    let o = sim(&[
        "run",
        "tests/regress/host-port.yaml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("Pending 20 seconds ago   \"no suitable node (host-mode port already in use on 1 node)\""), "{}", o.stdout);
    assert!(o.stdout.contains("*:8080->80/tcp"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("web: 1/1 running, image web:2, update state updating"),
        "{}",
        o.stdout
    );
}

#[test]
fn compose_errors_are_located_in_the_stack_file_and_ignored_keys_listed_once() {
    let o = sim(&["lint", "tests/regress/bad-stack.yml"]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        "error: tests/regress/bad-stack.yml:9:16: invalid order `fast-first`; did you mean `start-first`? (one of `stop-first`, `start-first`)\n"
    );
    let dir = scratch("compose-run");
    let o = sim(&[
        "run",
        "--compose",
        "scenarios/regression/stack.yml",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("web: 3/3 running, image web:1"),
        "{}",
        o.stdout
    );
    assert_eq!(
        o.stderr,
        "warning: scenarios/regression/stack.yml: ignored (no effect on rolling updates): `networks` (web), `logging` (web), top-level `networks`\n"
    );
}

#[test]
fn lint_fires_each_rule_with_reason_and_fix() {
    let o = sim(&["lint", "tests/regress/lint-all.yaml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rules: Vec<&str> = o
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("warning["))
        .map(|l| &l[..l.find(']').unwrap()])
        .collect();
    assert_eq!(
        rules,
        [
            "monitor-shorter-than-unhealthy",
            "delay-not-below-monitor",
            "rollback-may-pause",
            "rollback-never-finishes",
            "start-first-host-port",
            "start-first-global",
            "parallelism-zero-stop-first",
            "not-enough-places",
            "not-enough-places",
            "restart-none-pause",
        ]
    );
    assert_eq!(o.stdout.matches("\n  why: ").count(), 10);
    assert_eq!(o.stdout.matches("\n  fix: ").count(), 10);
    assert!(o.stdout.contains("warning[monitor-shorter-than-unhealthy]: tests/regress/lint-all.yaml:12:32: service health: update monitor 5s is shorter than the healthcheck's time to unhealthy 35s (start_period 5s + interval 10s x retries 3)"), "{}", o.stdout);
    assert!(o.stdout.ends_with("10 warnings\n"));
    assert_eq!(
        sim(&["lint", "tests/regress/lint-all.yaml", "--deny", "warnings"]).code,
        1
    );
    assert_eq!(
        sim(&[
            "lint",
            "tests/regress/lint-all.yaml",
            "--deny",
            "start-first-global"
        ])
        .code,
        1
    );
    assert_eq!(
        sim(&["lint", "tests/regress/lint-all.yaml", "--deny", "bogus"]).code,
        2
    );
    // The worked example's stack is clean.
    let o = sim(&[
        "lint",
        "scenarios/regression/stack.yml",
        "--deny",
        "warnings",
    ]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert_eq!(o.stdout, "0 warnings\n");
}

#[test]
fn fail_on_outcomes_have_distinct_exit_codes() {
    let dir = scratch("fail-on");
    let out = dir.to_str().unwrap();
    let code = |scenario: &str, fail_on: &str| {
        sim(&[
            "run",
            scenario,
            "--quiet",
            "--out",
            out,
            "--fail-on",
            fail_on,
        ])
        .code
    };
    assert_eq!(
        code("scenarios/bad-image-rollback.yaml", "rollback,paused"),
        4
    );
    assert_eq!(code("scenarios/bad-image-rollback.yaml", "paused"), 0);
    assert_eq!(
        code("scenarios/bad-image-pause.yaml", "rollback_paused,paused"),
        5
    );
    assert_eq!(code("scenarios/bad-image-pause.yaml", "paused"), 3);
    assert_eq!(
        code(
            "scenarios/failure-ratio-continue.yaml",
            "rollback,paused,rollback_paused"
        ),
        code_of_final_state("scenarios/failure-ratio-continue.yaml")
    );
    assert_eq!(code("tests/regress/host-port.yaml", "updating"), 6);
    assert_eq!(code("scenarios/redis-tutorial.yaml", "bogus"), 2);
}

/// What `--fail-on rollback,paused,rollback_paused` must return for a
/// scenario, from its summary.json.
fn code_of_final_state(scenario: &str) -> i32 {
    let dir = scratch("fail-on-summary");
    let o = sim(&["run", scenario, "--quiet", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.code, 0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let states: Vec<String> = summary["services"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|s| s["update_state"].as_str().map(str::to_string))
        .collect();
    if states.iter().any(|s| s == "rollback_paused") {
        5
    } else if states.iter().any(|s| s == "paused") {
        3
    } else if states.iter().any(|s| s.starts_with("rollback")) {
        4
    } else {
        0
    }
}

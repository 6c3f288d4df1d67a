//! Regression tests of issue 16 ("bounded and unbreakable"): each feeds
//! the minimal input that used to panic, hang, exhaust memory, escape the
//! results folder or point at the wrong spot, and checks the clean
//! outcome. Limits are documented in docs/limits.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use swarmsim::sim::time::{SimDuration, SimTime, secs};

// ----- helpers --------------------------------------------------------------

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("robustness-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` with `stdin`, killed after 20 s (a hang is a
/// failure, not a stuck test run).
fn run_with(dir: &Path, args: &[&str], stdin: &[u8]) -> Out {
    let out = Command::cargo_bin("swarmsim")
        .expect("binary built")
        .env("RUST_BACKTRACE", "1")
        .current_dir(dir)
        .args(args)
        .write_stdin(stdin.to_vec())
        .timeout(Duration::from_secs(20))
        .output()
        .expect("binary runs");
    let o = Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for bad in ["panicked", "stack backtrace", "memory allocation"] {
        assert!(!o.stderr.contains(bad), "{args:?}: {}", o.stderr);
    }
    assert!(o.code.is_some(), "{args:?}: killed (hang?): {}", o.stderr);
    o
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    run_with(dir, args, b"")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).expect("write input");
    name.to_string()
}

const CLUSTER: &str = "cluster:\n  nodes:\n    - name: m\n      role: manager\n";

/// A scenario: one manager, `images` and `timeline` lines appended.
fn scenario(rest: &str) -> String {
    format!("name: t\n{CLUSTER}{rest}")
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

// ----- 1. parallelism -------------------------------------------------------

#[test]
fn huge_update_parallelism_is_clamped_to_the_slots() {
    let dir = scratch("parallelism");
    let f = write(
        &dir,
        "p.yaml",
        &scenario(
            "until: 1m\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 2 --name web web:1\n  - at: 10s\n    docker: docker service update --update-parallelism 18446744073709551615 --image web:2 web\n",
        ),
    );
    let o = run_in(&dir, &["run", &f, "--quiet", "--out", "out"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let s = summary(&dir.join("out"));
    assert_eq!(s["services"]["web"]["update_state"], "completed");
    assert_eq!(s["services"]["web"]["image"], "web:2");
}

#[test]
fn huge_parallelism_through_sweep_set() {
    let dir = scratch("parallelism-sweep");
    let f = write(
        &dir,
        "p.yaml",
        &scenario(
            "until: 1m\nservices:\n  web:\n    image: web:1\n    deploy: {replicas: 2}\ntimeline:\n  - at: 10s\n    docker: docker service update --image web:2 web\n",
        ),
    );
    let o = run_in(
        &dir,
        &[
            "sweep",
            &f,
            "--runs",
            "1",
            "--set",
            "web.update_config.parallelism=18446744073709551615",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
}

// ----- 2. replicas ----------------------------------------------------------

#[test]
fn replicas_over_the_limit_are_refused() {
    let dir = scratch("replicas");
    let f = write(
        &dir,
        "r.yaml",
        &scenario("services:\n  web:\n    image: web:1\n    deploy: {replicas: 1000000000}\n"),
    );
    let o = run_in(&dir, &["validate", &f]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("r.yaml:9:24:")
            && o.stderr.contains("at most 100000 replicas per service")
            && o.stderr.contains("docs/limits.md"),
        "{}",
        o.stderr
    );
    let g = write(
        &dir,
        "s.yaml",
        &scenario(
            "timeline:\n  - at: 0s\n    docker: docker service create --name web web:1\n  - at: 1s\n    docker: docker service scale web=99999999999\n",
        ),
    );
    let o = run_in(&dir, &["validate", &g]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("99999999999 replicas"), "{}", o.stderr);
    let o = run_with(
        &dir,
        &["shell"],
        b"docker service create --replicas 100001 --name w x\ndocker service ls\n",
    );
    assert_eq!(o.code, Some(0));
    assert!(o.stdout.contains("at most 100000 replicas"), "{}", o.stdout);
}

// ----- 3. nodes -------------------------------------------------------------

#[test]
fn node_count_over_the_limit_is_refused_at_once() {
    let dir = scratch("nodes");
    let f = write(
        &dir,
        "n.yaml",
        "cluster:\n  nodes:\n    - name: m\n      role: manager\n    - name: \"w{n}\"\n      count: 4294967296\n",
    );
    let started = Instant::now();
    let o = run_in(&dir, &["validate", &f]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("n.yaml:6:14:") && o.stderr.contains("more than 100000 nodes"),
        "{}",
        o.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn duplicate_node_check_is_linear() {
    // 100,000 nodes used to take 13.7 s (release) to validate.
    let dir = scratch("nodes-many");
    let f = write(
        &dir,
        "n.yaml",
        "cluster:\n  nodes:\n    - name: m\n      role: manager\n    - name: \"w{n}\"\n      count: 99999\n",
    );
    let o = run_in(&dir, &["validate", &f]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let g = write(
        &dir,
        "d.yaml",
        "cluster:\n  nodes:\n    - name: w5\n      role: manager\n    - name: \"w{n}\"\n      count: 9\n",
    );
    let o = run_in(&dir, &["validate", &g]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("duplicate node name `w5`"),
        "{}",
        o.stderr
    );
}

// ----- 4. crash loops (the scheduler's failure list) -----------------------

/// A 3-node crash loop costs the same per simulated hour however long it
/// has run: swarmkit forgets failures older than 5 minutes
/// (`nodeinfo.go` `countRecentFailures`), so the scheduler's failure
/// lists, which every placement reads, stay as short after 8 h as after
/// 2 h instead of growing with every crash. (Counted, not timed: the
/// lists' length is what made the cost grow with the square of the run.)
#[test]
fn crash_loop_failure_lists_stay_short() {
    use std::rc::Rc;
    use swarmsim::runner::{Driver, RunConfig, RunOptions};
    let text = "name: crash\ncluster:\n  nodes:\n    - name: m\n      role: manager\n    - name: w{n}\n      count: 2\nimages:\n  default: {pull: 1s, start: 1s, stop: 500ms, crash_after: 3s}\ntimeline:\n  - at: 0s\n    docker: docker service create --replicas 3 --name web web:1\n";
    let sc = Rc::new(swarmsim::scenario::parse_str(text, Path::new("crash.yaml")).unwrap());
    let opts = RunOptions {
        skip_transcript: true,
        ..Default::default()
    };
    let config = RunConfig::new(&opts, &sc);
    let mut d = Driver::new(sc, config, None);
    let mut kept_at = |hours: u64| {
        assert!(d.advance(SimTime::at(secs(hours * 3600)), &mut ()));
        let failures = d
            .cluster
            .store
            .state
            .tasks
            .iter()
            .filter(|t| t.state.is_terminal())
            .count();
        (d.cluster.scheduler.nodes.failures_kept(), failures)
    };
    let (kept_2h, _) = kept_at(2);
    let (kept_8h, failed_8h) = kept_at(8);
    assert!(kept_2h > 0, "the crash loop records failures");
    assert!(
        kept_8h <= kept_2h + 10,
        "failure records kept: {kept_2h} after 2 h, {kept_8h} after 8 h: they grow with the run"
    );
    assert!(
        failed_8h > 10 * kept_8h,
        "{failed_8h} failed tasks in 8 h, {kept_8h} failure records kept"
    );
}

// ----- 5. the event limit ---------------------------------------------------

#[test]
fn zero_latency_crash_loop_stops_early_at_the_last_event() {
    let dir = scratch("events");
    let f = write(
        &dir,
        "z.yaml",
        &scenario(
            "until: 100h\nimages:\n  default: {pull: 0s, start: 0s, stop: 0s, crash_after: 0s}\ntimeline:\n  - at: 1s\n    docker: docker service create --name web --restart-delay 0s web:1\n",
        ),
    );
    let o = run_in(
        &dir,
        &[
            "run",
            &f,
            "--quiet",
            "--out",
            "out",
            "--max-events",
            "20000",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stderr.contains("safety limit of 20000 events")
            && o.stderr.contains("--max-events")
            && !o.stderr.contains("set `until:`"),
        "{}",
        o.stderr
    );
    let s = summary(&dir.join("out"));
    assert_eq!(s["hit_safety_limit"], true);
    assert_eq!(s["events"], 20000);
    // The loop never moves the clock past the create at 1s.
    assert_eq!(s["end_time_s"], 1.0);
    assert!(dir.join("out/events.csv").is_file());
    assert!(o.stdout.starts_with("[1s] end of simulation (20000 events"));
}

#[test]
fn the_default_event_limit_is_one_million() {
    assert_eq!(swarmsim::runner::MAX_EVENTS, 1_000_000);
}

// ----- 6. input files -------------------------------------------------------

#[test]
fn empirical_file_must_be_a_regular_file_and_is_not_echoed() {
    let dir = scratch("empirical");
    let secret = write(&dir, "secret.txt", "seconds\nroot:$6$SECRETHASH:19000:0\n");
    let f = write(
        &dir,
        "e.yaml",
        &scenario(&format!(
            "images:\n  default:\n    start: {{dist: empirical, file: {secret}}}\n"
        )),
    );
    let o = run_in(&dir, &["validate", &f]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("line 2"), "{}", o.stderr);
    assert!(!o.stderr.contains("SECRETHASH"), "{}", o.stderr);
    for dev in ["/dev/zero", "/dev/null"] {
        let g = write(
            &dir,
            "d.yaml",
            &scenario(&format!(
                "images:\n  default:\n    start: {{dist: empirical, file: {dev}}}\n"
            )),
        );
        let o = run_in(&dir, &["validate", &g]);
        assert_eq!(o.code, Some(2));
        assert!(
            o.stderr.contains("not a regular file (a device)"),
            "{}",
            o.stderr
        );
    }
    let o = run_in(&dir, &["validate", "/dev/zero"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("not a regular file"), "{}", o.stderr);
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = scratch("fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(dir.join("f.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: mkfifo not available");
        return;
    }
    let o = run_in(&dir, &["validate", "f.yaml"]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("not a regular file (a FIFO)"),
        "{}",
        o.stderr
    );
}

#[test]
fn an_oversized_input_is_refused() {
    let dir = scratch("big");
    let f = std::fs::File::create(dir.join("big.yaml")).unwrap();
    f.set_len(17 << 20).unwrap();
    let o = run_in(&dir, &["validate", "big.yaml"]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("limited to 16777216 bytes"),
        "{}",
        o.stderr
    );
}

// ----- 7. deep flow nesting -------------------------------------------------

#[test]
fn deep_flow_nesting_is_refused_quickly() {
    let dir = scratch("nesting");
    let text = format!("name: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let f = write(&dir, "deep.yaml", &text);
    let started = Instant::now();
    let o = run_in(&dir, &["validate", &f]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("deep.yaml:1:263:") && o.stderr.contains("nested more than 256"),
        "{}",
        o.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ----- 8. --speed -----------------------------------------------------------

#[test]
fn tiny_speed_is_refused_not_a_panic() {
    let dir = scratch("speed");
    let f = write(&dir, "s.yaml", &scenario("until: 1s\n"));
    let o = run_in(&dir, &["run", &f, "--play", "--speed", "1e-300"]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr
            .contains("invalid argument \"1e-300\" for \"--speed\" flag"),
        "{}",
        o.stderr
    );
    let o = run_with(&dir, &["shell", "--speed", "1e-300"], b"exit\n");
    assert_eq!(o.code, Some(2));
    // The library never panics on a speed the command line refuses.
    let w = swarmsim::limits::real_wait;
    assert_eq!(w(secs(1), 2.0), Duration::from_millis(500));
    assert_eq!(w(SimDuration::MAX, 1e-300), w(SimDuration::MAX, 0.001));
}

// ----- 9. unchecked arithmetic ---------------------------------------------

#[test]
fn seeds_and_runs_do_not_wrap() {
    let dir = scratch("seeds");
    let f = write(&dir, "b.yaml", &scenario("until: 1s\n"));
    let o = run_in(
        &dir,
        &[
            "batch",
            &f,
            "--seed-start",
            "18446744073709551575",
            "--runs",
            "3",
            "--out",
            "o1",
        ],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("3 runs") || dir.join("o1/runs.csv").is_file());
    let rows = std::fs::read_to_string(dir.join("o1/runs.csv")).unwrap();
    assert_eq!(rows.lines().count(), 4, "{rows}");
    let o = run_in(
        &dir,
        &[
            "batch",
            &f,
            "--seed-start",
            "18446744073709551615",
            "--runs",
            "3",
            "--out",
            "o2",
        ],
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("the seeds would pass"), "{}", o.stderr);
    let o = run_in(
        &dir,
        &[
            "batch",
            &f,
            "--seed-start",
            "0",
            "--runs",
            "18446744073709551615",
            "--shard",
            "1/2",
            "--out",
            "o3",
        ],
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("more than 1000000 runs"), "{}", o.stderr);
}

#[test]
fn the_shell_clock_does_not_wrap() {
    let dir = scratch("clock");
    let o = run_with(&dir, &["shell"], b"sleep 2562047h\nsleep 2562047h\ntime\n");
    assert_eq!(o.code, Some(0));
    assert!(
        o.stdout.contains("the simulated clock cannot pass"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("-1h"), "{}", o.stdout);
    assert!(
        o.stdout.trim_end().ends_with("2562047h0m0s"),
        "{}",
        o.stdout
    );
}

// ----- 10. check and link cycles --------------------------------------------

#[test]
fn check_survives_a_cycle_of_folder_links() {
    let dir = scratch("cycle");
    std::fs::create_dir_all(dir.join("s")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("s/a")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("s/b")).unwrap();
    std::fs::write(
        dir.join("s/x.yaml"),
        scenario("until: 1m\nservices:\n  web:\n    image: x\nexpect:\n  - running: 1\n"),
    )
    .unwrap();
    let o = run_in(&dir, &["check", "s"]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("1 scenarios: 1 ok"),
        "{}\n{}",
        o.stdout,
        o.stderr
    );
}

// ----- 11. merge and sweep checks -------------------------------------------

fn shards(dir: &Path, f: &str) {
    for i in 0..2 {
        let out = format!("s{i}");
        let shard = format!("{i}/2");
        let o = run_in(
            dir,
            &["batch", f, "--runs", "4", "--shard", &shard, "--out", &out],
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr);
    }
}

#[test]
fn merge_refuses_shards_of_an_edited_scenario() {
    let dir = scratch("merge-edited");
    let f = write(&dir, "m.yaml", &scenario("until: 1s\n"));
    shards(&dir, &f);
    let o = run_in(&dir, &["merge", "s0", "s1", "--out", "all"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    // Shard 1 again, from an edited scenario.
    write(&dir, "m.yaml", &scenario("until: 2s\n"));
    let o = run_in(
        &dir,
        &["batch", &f, "--runs", "4", "--shard", "1/2", "--out", "s1"],
    );
    assert_eq!(o.code, Some(0));
    let o = run_in(&dir, &["merge", "s0", "s1", "--out", "all2"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("scenario_digest"), "{}", o.stderr);
}

#[test]
fn merge_refuses_hand_edited_shard_indices() {
    let dir = scratch("merge-index");
    let f = write(&dir, "m.yaml", &scenario("until: 1s\n"));
    shards(&dir, &f);
    let json = dir.join("s1/batch.json");
    let text = std::fs::read_to_string(&json).unwrap();
    for (bad, want) in [
        ("\"index\": 7, \"count\": 2", "shard 7/2 is not a shard"),
        ("\"index\": 0, \"count\": 0", "shard 0/0 is not a shard"),
    ] {
        std::fs::write(&json, text.replace("\"index\": 1, \"count\": 2", bad)).unwrap();
        let o = run_in(&dir, &["merge", "s0", "s1", "--out", "all"]);
        assert_eq!(o.code, Some(2));
        assert!(o.stderr.contains(want), "{}", o.stderr);
        assert!(!o.stderr.contains("18446744073709551615"), "{}", o.stderr);
    }
}

#[test]
fn sweep_refuses_repeated_keys_and_nan() {
    let dir = scratch("sweep");
    let f = write(
        &dir,
        "w.yaml",
        &scenario("until: 10s\nservices:\n  web:\n    image: web:1\n"),
    );
    let k = "web.update_config.parallelism";
    let o = run_in(
        &dir,
        &[
            "sweep",
            &f,
            "--runs",
            "1",
            "--set",
            &format!("{k}=1"),
            "--set",
            &format!("{k}=2"),
        ],
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("already set"), "{}", o.stderr);
    let o = run_in(
        &dir,
        &[
            "sweep",
            &f,
            "--runs",
            "1",
            "--set",
            &format!("{k}=1,2"),
            "--minimize",
            "p95_duration",
            "--require",
            "min_running>=NaN",
        ],
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("is not a number"), "{}", o.stderr);
}

// ----- 12. service names ----------------------------------------------------

#[test]
fn service_names_follow_swarmkit() {
    let dir = scratch("names");
    let long = "a".repeat(10_000);
    for (name, want) in [
        ("''", "--name"),
        ("../../etc", "name must be valid as a DNS name component"),
        ("'a;rm -rf /'", "name must be valid as a DNS name component"),
        (long.as_str(), "name must be 63 characters or fewer"),
    ] {
        let stdin = format!("docker service create --name {name} x\ndocker service ls\n");
        let o = run_with(&dir, &["shell"], stdin.as_bytes());
        assert_eq!(o.code, Some(0));
        assert!(o.stdout.contains(want), "{name}: {}", o.stdout);
        assert!(
            !o.stdout.contains(" x:latest") && !o.stdout.contains("replicated"),
            "{}",
            o.stdout
        );
    }
    let f = write(
        &dir,
        "n.yaml",
        &scenario("services:\n  \"../etc\":\n    image: x\n"),
    );
    let o = run_in(&dir, &["validate", &f]);
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("n.yaml:7:3:")
            && o.stderr
                .contains("name must be valid as a DNS name component"),
        "{}",
        o.stderr
    );
}

// ----- 13. the results folder -----------------------------------------------

#[test]
fn a_planted_link_in_the_results_folder_is_not_followed() {
    let dir = scratch("planted");
    let f = write(&dir, "p.yaml", &scenario("until: 1s\n"));
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::fs::write(dir.join("victim.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(dir.join("victim.txt"), dir.join("out/transcript.txt")).unwrap();
    let o = run_in(&dir, &["run", &f, "--out", "out"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("victim.txt")).unwrap(),
        "keep me"
    );
    assert!(
        std::fs::symlink_metadata(dir.join("out/transcript.txt"))
            .unwrap()
            .is_file()
    );
}

#[test]
fn timeline_inside_out_works_on_a_first_run() {
    let dir = scratch("timeline");
    let f = write(&dir, "t.yaml", &scenario("until: 1s\n"));
    let o = run_in(
        &dir,
        &["run", &f, "--out", "fresh", "--timeline", "fresh/t.svg"],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(dir.join("fresh/t.svg").is_file());
    assert!(dir.join("fresh/summary.json").is_file());
}

#[test]
fn stale_batch_plots_are_removed() {
    let dir = scratch("stale");
    let f = write(
        &dir,
        "b.yaml",
        &scenario("until: 10s\nservices:\n  old:\n    image: x\n"),
    );
    let o = run_in(&dir, &["batch", &f, "--runs", "2", "--out", "out"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(dir.join("out/running-band-old.svg").is_file());
    write(
        &dir,
        "b.yaml",
        &scenario("until: 10s\nservices:\n  new:\n    image: x\n"),
    );
    let o = run_in(&dir, &["batch", &f, "--runs", "2", "--out", "out"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(dir.join("out/running-band-new.svg").is_file());
    assert!(!dir.join("out/running-band-old.svg").exists());
    assert!(!dir.join("out/update-histogram-old.svg").exists());
}

// ----- 14. locations ----------------------------------------------------------

#[test]
fn errors_point_at_the_real_spot() {
    let dir = scratch("locations");
    let cases: [(&str, &[u8], &str); 4] = [
        ("utf8.yaml", b"name: x\n\xff: 1\n", "utf8.yaml:2:1: invalid UTF-8"),
        (
            "ctl.yaml",
            b"name: x\ndescription: \"a\x01b\"\n",
            "ctl.yaml:2:16: invalid YAML: control characters are not allowed",
        ),
        (
            "dup.yaml",
            b"name: x\nseed: 1\nname: y\n",
            "dup.yaml:3:1: invalid YAML: duplicate entry with key \"name\"",
        ),
        (
            "dup2.yaml",
            b"cluster:\n  nodes:\n    - name: m\n      labels:\n        a: 1\n        b: 2\n        a: 3\n",
            "dup2.yaml:7:9: invalid YAML: cluster.nodes[0].labels: duplicate entry with key \"a\"",
        ),
    ];
    for (name, bytes, want) in cases {
        std::fs::write(dir.join(name), bytes).unwrap();
        let o = run_in(&dir, &["validate", name]);
        assert_eq!(o.code, Some(2));
        assert!(o.stderr.contains(want), "{name}: {}", o.stderr);
    }
}

#[test]
fn an_invalid_byte_on_the_shell_stdin_does_not_end_the_session() {
    let dir = scratch("stdin");
    let o = run_with(&dir, &["shell"], b"time\n\xff\xfe\nsleep 5s\ntime\n");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("line 2: invalid UTF-8"), "{}", o.stdout);
    assert!(o.stdout.trim_end().ends_with("5s"), "{}", o.stdout);
}

#[test]
fn sweep_replicas_over_the_limit_are_refused() {
    let dir = scratch("sweep-replicas");
    let f = write(
        &dir,
        "w.yaml",
        &scenario(
            "until: 10s\ntimeline:\n  - at: 0s\n    docker: docker service create --name web x\n",
        ),
    );
    let o = run_in(
        &dir,
        &[
            "sweep",
            &f,
            "--runs",
            "1",
            "--set",
            "web.replicas=1,1000000000",
        ],
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("at most 100000 replicas"), "{}", o.stderr);
}

//! The teaching layer: `swarmsim shell` driven through a pipe, `run --play`
//! and `run --timeline` (golden text; the HTML page checked in headless
//! Chromium when it is installed).
//!
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test --test teach`
//! and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n expected: {:?}\n   actual: {:?}",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

fn shell(scenario: Option<&str>, input: &str) -> String {
    let mut cmd = cargo_bin_cmd!("swarmsim");
    cmd.current_dir(root()).arg("shell");
    if let Some(s) = scenario {
        cmd.arg(s);
    }
    let out = cmd.write_stdin(input).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn lesson(name: &str) -> String {
    let text = std::fs::read_to_string(root().join("scenarios/lessons").join(name)).unwrap();
    shell(Some("scenarios/lessons/lab.yaml"), &text)
}

#[test]
fn lesson_tutorial_transcript() {
    golden("shell-01-tutorial.txt", &lesson("01-tutorial.txt"));
}

#[test]
fn lesson_failure_actions_transcript() {
    let out = lesson("04-failure-actions.txt");
    assert!(out.contains(
        "\nservice update paused: update paused due to failure or early termination of task "
    ));
    assert!(
        out.contains("\nrollback: update rolled back due to failure or early termination of task ")
    );
    assert!(out.contains("\noverall progress: rolling back update: "));
    golden("shell-04-failure-actions.txt", &out);
}

#[test]
fn lesson_drain_transcript_with_explanations() {
    let out = lesson("06-drain.txt");
    assert!(out.contains("# node worker1 is drained"));
    golden("shell-06-drain.txt", &out);
}

#[test]
fn every_lesson_runs_cleanly() {
    let dir = root().join("scenarios/lessons");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            let out = lesson(p.file_name().unwrap().to_str().unwrap());
            assert!(out.starts_with("# Lesson"), "{}", p.display());
            assert!(
                out.contains("# Watch for:"),
                "{}: says what to watch for",
                p.display()
            );
            for bad in [
                "unknown command",
                "is not supported",
                "not a docker command",
                "swarmsim: nothing more",
            ] {
                assert!(!out.contains(bad), "{}: {bad}", p.display());
            }
            n += 1;
        }
    }
    assert_eq!(n, 6);
}

#[test]
fn shell_default_cluster_commands_and_clock() {
    let out = shell(
        None,
        "docker node ls\ntime\nsleep 1m30s\nadvance 2\ntime\nhelp\nbogus\nevents 2\ndocker service scale nope=2\nexit\ndocker node ls\n",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "[0s] $ docker node ls");
    assert!(lines[1].starts_with("ID "));
    for n in ["manager1", "worker1", "worker2"] {
        assert!(out.contains(n), "{n}");
    }
    assert!(out.contains("[0s] $ time\n0s\n"));
    assert!(out.contains("[1m32s] $ time\n1m32s\n"));
    assert!(out.contains("sleep DUR | advance DUR"));
    assert!(out.contains("unknown command `bogus`"));
    // events: header and the last two rows (node ready rows at 0).
    assert!(out.contains("$ events 2\ntime_s,kind,service,task_id,slot,node,image,state,desired_state,message\n0.000,node,"));
    assert!(out.contains("nope: Error: No such service: nope"));
    // Nothing after exit.
    assert!(out.trim_end().ends_with("[1m32s] $ exit"));
}

#[test]
fn detached_commands_do_not_wait() {
    let out = shell(
        None,
        "docker service create -d --replicas 2 --name web nginx:1\ntime\n",
    );
    assert!(!out.contains("overall progress"));
    assert!(out.contains("[0s] $ time\n0s\n"));
}

#[test]
fn play_transcript() {
    let out = cargo_bin_cmd!("swarmsim")
        .current_dir(root())
        .args([
            "run",
            "scenarios/redis-tutorial.yaml",
            "--play",
            "--speed",
            "100000",
        ])
        .arg("--out")
        .arg(tempdir().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success());
    golden(
        "play-redis-tutorial.txt",
        &String::from_utf8(out.stdout).unwrap(),
    );
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "swarmsim-teach-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn timeline(ext: &str) -> String {
    let d = tempdir();
    let file = d.join(format!("timeline.{ext}"));
    let out = cargo_bin_cmd!("swarmsim")
        .current_dir(root())
        .args([
            "run",
            "scenarios/redis-tutorial.yaml",
            "--quiet",
            "--timeline",
        ])
        .arg(&file)
        .arg("--out")
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&file).unwrap()
}

#[test]
fn timeline_svg_structure() {
    let svg = timeline("svg");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    // One row per slot, one bar per task: 3 created, 3 by the update, 3 by
    // the rollback.
    let rows: Vec<&str> = svg
        .match_indices("class=\"row\" data-label=\"")
        .map(|(i, _)| &svg[i + 24..i + 31])
        .collect();
    assert_eq!(rows, ["redis.1", "redis.2", "redis.3"]);
    assert_eq!(svg.matches("<g class=\"task\"").count(), 9);
    assert_eq!(svg.matches("data-image=\"redis:3.0.7\"").count(), 3);
    assert_eq!(svg.matches("data-image=\"redis:3.0.6\"").count(), 6);
    // Every task ran, and every replaced one shows its shutdown.
    assert!(svg.matches("data-state=\"running\"").count() >= 9);
    assert_eq!(svg.matches("data-state=\"shutdown\"").count(), 6);
    for m in [
        "redis: updating",
        "redis: completed",
        "redis: rollback_started",
        "redis: rollback_completed",
    ] {
        assert!(svg.contains(m), "marker {m}");
    }
}

/// A lost node's tasks are orphaned 24 hours later; the picture still
/// ends just after the last visible change (the scenario's last command,
/// `docker service ps` at 1m40s), on a round tick, and names the change it
/// leaves out.
#[test]
fn timeline_ends_at_the_last_visible_change() {
    let d = tempdir();
    let file = d.join("drain.svg");
    let out = cargo_bin_cmd!("swarmsim")
        .current_dir(root())
        .args([
            "run",
            "scenarios/node-drain-and-loss.yaml",
            "--quiet",
            "--timeline",
        ])
        .arg(&file)
        .arg("--out")
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains("(seed 1), 0s to 1m50s</text>"), "{svg}");
    assert!(
        svg.contains("later, not drawn: web.4 (web:1, worker3) orphaned at 24h0m45.8s"),
        "{svg}"
    );
    assert!(svg.contains(">1m24.5s web: completed</text>"), "{svg}");
    // No label carries more than a tenth of a second.
    let long = regex::Regex::new(r">[^<]*\d\.\d{2,}s").unwrap();
    assert!(!long.is_match(&svg), "{:?}", long.find(&svg));
}

#[test]
fn timeline_html_is_self_contained() {
    let html = timeline("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<script type=\"application/json\" id=\"data\">"));
    assert!(html.contains("<div id=\"ps\"></div>"));
    // No network: nothing loaded from elsewhere.
    for bad in [" src=", " href=", "@import", "url("] {
        assert!(!html.contains(bad), "{bad}");
    }
}

#[test]
fn timeline_rejects_other_extensions() {
    cargo_bin_cmd!("swarmsim")
        .current_dir(root())
        .args([
            "run",
            "scenarios/redis-tutorial.yaml",
            "--quiet",
            "--timeline",
            "t.png",
        ])
        .assert()
        .code(2);
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// `docker service ps redis` at `t` seconds, as the shell prints it (the
/// Rust renderer, after everything that happens at or before `t`).
fn ps_from_shell(t: &str) -> String {
    let out = shell(
        Some("scenarios/redis-tutorial.yaml"),
        &format!("sleep {t}\ndocker service ps redis\n"),
    );
    let i = out.rfind("$ docker service ps redis\n").unwrap();
    out[i + "$ docker service ps redis\n".len()..].to_string()
}

/// The page in headless Chromium at `file://PAGE#t=T`: the text of the
/// `docker service ps` element (after the `[time]` line) and the page's
/// `data-hash` and `data-slider` attributes on <body> (set by a test
/// script, if any).
fn chromium_dom(
    chromium: &Path,
    page: &Path,
    hash: &str,
) -> (String, Option<String>, Option<String>) {
    let profile = page.with_extension("profile");
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{hash}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<div id=\"ps\"").unwrap_or_else(|| {
        panic!(
            "no ps element in the DOM: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let body = &dom[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</div>").unwrap()];
    let text = unescape(body);
    assert!(body.len() > 100, "the script filled the ps element: {text}");
    let attr = |name: &str| {
        let key = format!("{name}=\"");
        dom.find(&key).map(|i| {
            let rest = &dom[i + key.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
    };
    (text, attr("data-hash"), attr("data-slider"))
}

/// The block a `docker service ps redis` at `at` printed in a transcript.
fn ps_in_transcript(transcript: &str, at: &str) -> String {
    let cmd = format!("[{at}] $ docker service ps redis\n");
    let i = transcript
        .find(&cmd)
        .unwrap_or_else(|| panic!("no {cmd:?}"))
        + cmd.len();
    let rest = &transcript[i..];
    let end = rest.find("\n[").map_or(rest.len(), |e| e + 1);
    rest[..end].to_string()
}

/// Says SKIPPED where `cargo test` shows it (its capture only takes the
/// print macros' output).
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

#[test]
fn timeline_html_shows_ps_at_the_picked_instant_in_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        skipped(
            "timeline_html_shows_ps_at_the_picked_instant_in_chromium: /usr/bin/chromium is not \
             installed (.ci/run installs it with apt-get)",
        );
        return;
    }
    let html = timeline("html");
    let d = tempdir();
    let page = d.join("page.html");
    std::fs::write(&page, &html).unwrap();
    // The same run's transcript (timeline() writes it next to the page).
    let transcript = std::fs::read_to_string(d.join("out/transcript.txt")).unwrap();
    // The page agrees with the transcript's own `service ps` at the
    // instants the scenario runs one (1m15s: a task still Preparing), and
    // with the shell after `sleep` between events.
    for (t, expected) in [
        ("75", ps_in_transcript(&transcript, "1m15s")),
        ("240", ps_in_transcript(&transcript, "4m0s")),
        ("75.5", ps_from_shell("75.5")),
        ("200", ps_from_shell("200")),
    ] {
        let (text, _, _) = chromium_dom(chromium, &page, &format!("#t={t}"));
        let from_page = &text[text.find("$ docker service ps redis\n").unwrap() + 26..];
        assert_eq!(
            from_page.trim_end_matches('\n'),
            expected.trim_end_matches('\n'),
            "ps at {t}s"
        );
    }
    // A click on the chart picks an instant and puts it into the URL.
    let click = r#"<script>
const c = document.getElementById("chart"), r = c.getBoundingClientRect();
const sx = r.width / c.viewBox.baseVal.width;
c.dispatchEvent(new MouseEvent("click", {clientX: r.left + (+c.dataset.left + +c.dataset.width / 2) * sx, clientY: r.top + 60}));
document.body.setAttribute("data-hash", location.hash);
document.body.setAttribute("data-slider", Math.round(document.getElementById("t").getBoundingClientRect().width));
</script>
</body>"#;
    let clicked = d.join("clicked.html");
    std::fs::write(&clicked, html.replace("</body>", click)).unwrap();
    let (text, hash, slider) = chromium_dom(chromium, &clicked, "");
    // The middle of the 4m0s chart.
    assert_eq!(hash.as_deref(), Some("#t=120"), "{text}");
    assert!(text.starts_with("[2m0s]"), "{text}");
    // The slider spans the chart's time axis (960 px), not the default
    // 125 px.
    assert_eq!(slider.as_deref(), Some("960"));
}

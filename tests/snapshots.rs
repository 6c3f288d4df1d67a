//! Golden files of every output format, as insta snapshots in
//! `tests/snapshots/`.
//!
//! Update them after an intended change with
//!
//!     INSTA_UPDATE=always cargo test --test snapshots
//!
//! (or `cargo insta review` if cargo-insta is installed) and review
//! `git diff tests/snapshots/` like code, against
//! `docs/swarm-rules.md#docker-cli`.
//!
//! Text output is stored in a visible form (`visible`): every line ends
//! with `$` and tabs read `^I`, like `cat -A`, because docker's tables end
//! in padding spaces and `inspect --pretty` uses tabs; insta would
//! otherwise ignore the whitespace at the end of a snapshot, and editors
//! strip it.
//!
//! Besides the snapshots, every `ps`/`ls` table is checked against the
//! tabwriter rules (`docs/swarm-rules.md#docker-cli-tabwriter`: minwidth 10,
//! padding 3, last column unpadded),
//! so a layout bug fails even if someone accepts the snapshot.

use std::path::Path;
use std::rc::Rc;

use swarmsim::docker::duration::parse_duration_nonneg;
use swarmsim::runner::{RunOptions, RunResult, run};
use swarmsim::scenario;
use swarmsim::sim::time::SimTime;

// ----- helpers --------------------------------------------------------------

fn run_yaml(name: &str, yaml: &str, until: Option<&str>) -> RunResult {
    let sc = scenario::parse_str(yaml, Path::new(name))
        .unwrap_or_else(|e| panic!("inline scenario {name} is invalid: {e}"));
    let until = until.map(|u| SimTime::at(parse_duration_nonneg(u).expect("valid --until")));
    run(
        Rc::new(sc),
        &RunOptions {
            seed: None,
            until,
            keep_log: true,
            ..Default::default()
        },
    )
}

fn run_tutorial() -> RunResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redis-tutorial.yaml");
    let sc = scenario::load(&path).expect("tutorial loads");
    run(
        Rc::new(sc),
        &RunOptions {
            seed: None,
            until: None,
            keep_log: true,
            ..Default::default()
        },
    )
}

/// `cat -A` style: `$` at each line end, `^I` for tabs; a missing final
/// newline is spelled out.
fn visible(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(l) => {
                out.push_str(&l.replace('\t', "^I"));
                out.push_str("$\n");
            }
            None => {
                out.push_str(&line.replace('\t', "^I"));
                out.push_str("\n<no newline at end>\n");
            }
        }
    }
    out
}

/// Splits a transcript into (echo line, output) per timeline action.
fn sections(transcript: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in transcript.split_inclusive('\n') {
        let is_echo = line.starts_with('[') && (line.contains("] $ ") || line.contains("] # "));
        let is_end = line.starts_with('[') && line.contains("] end of simulation");
        if is_echo || is_end {
            out.push((line.trim_end_matches('\n').to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
        } else {
            panic!("transcript does not start with an echo line: {line:?}");
        }
    }
    out
}

/// The output of the only action whose echo line ends with `cmd`.
fn output_of(transcript: &str, cmd: &str) -> String {
    let found: Vec<(String, String)> = sections(transcript)
        .into_iter()
        .filter(|(echo, _)| echo.ends_with(&format!("$ {cmd}")))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one `{cmd}` in:\n{transcript}"
    );
    let (echo, body) = &found[0];
    format!("{echo}\n{body}")
}

fn width(s: &str) -> usize {
    // Every cell is ASCII except the ellipsis `…`, one column wide.
    s.chars().count()
}

/// Checks a `ps`/`ls` table against docker's tabwriter
/// (`docs/swarm-rules.md#docker-cli-tabwriter`): every
/// column but the last is max(10, widest cell + 3) wide, cells are
/// left-aligned and padded with spaces, the last column is not padded.
/// Column starts come from the header, whose names are separated by at
/// least two spaces.
fn check_table_layout(table: &str) {
    let lines: Vec<&str> = table.lines().collect();
    assert!(!lines.is_empty(), "empty table");
    let header = lines[0];
    let chars: Vec<char> = header.chars().collect();
    let mut starts = vec![0usize];
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            let j = (i..chars.len())
                .find(|&k| chars[k] != ' ')
                .unwrap_or(chars.len());
            if j - i >= 2 && j < chars.len() {
                starts.push(j);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    let ncols = starts.len();
    // Cut every line at the header's column starts.
    let mut cells: Vec<Vec<String>> = Vec::new();
    for line in &lines {
        let cs: Vec<char> = line.chars().collect();
        let mut row = Vec::new();
        for c in 0..ncols {
            let a = starts[c].min(cs.len());
            let b = if c + 1 < ncols {
                starts[c + 1].min(cs.len())
            } else {
                cs.len()
            };
            row.push(cs[a..b].iter().collect::<String>());
        }
        assert!(
            cs.len() >= starts[ncols - 1],
            "row shorter than the last column start (trailing padding missing?):\n{line:?}\nin\n{table}"
        );
        cells.push(row);
    }
    for c in 0..ncols - 1 {
        let col_width = starts[c + 1] - starts[c];
        let widest = cells
            .iter()
            .map(|r| width(r[c].trim_end_matches(' ')))
            .max()
            .unwrap_or(0);
        assert_eq!(
            col_width,
            (widest + 3).max(10),
            "column {c} of the table is {col_width} wide, widest cell {widest}:\n{table}"
        );
        for r in &cells {
            let cell = r[c].trim_end_matches(' ');
            assert!(
                !cell.starts_with(' ') || cell.starts_with(" \\_ "),
                "cell {cell:?} is not left-aligned:\n{table}"
            );
            assert!(
                !cell.contains("   "),
                "cell {cell:?} spills into the next column:\n{table}"
            );
        }
    }
    for r in &cells {
        let last = &r[ncols - 1];
        assert_eq!(
            last.trim_end_matches(' '),
            last.as_str(),
            "the last column must not be padded:\n{table}"
        );
    }
}

/// Checks the layout of every table printed in a transcript.
fn check_all_tables(transcript: &str) -> usize {
    let mut n = 0;
    for (echo, body) in sections(transcript) {
        if body.starts_with("ID ") {
            check_table_layout(&body);
            n += 1;
        }
        // ps -q: full 25-character ids only.
        if echo.contains(" ps ") && echo.contains(" -q ") {
            for l in body.lines() {
                assert_eq!(l.len(), 25, "ps -q line {l:?}");
                assert!(
                    l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                );
            }
        }
    }
    n
}

// ----- the tutorial -----------------------------------------------------------

#[test]
fn tutorial_transcript() {
    let r = run_tutorial();
    assert_eq!(check_all_tables(&r.transcript), 2);
    insta::assert_snapshot!("tutorial_transcript", visible(&r.transcript));
}

#[test]
fn tutorial_events_csv() {
    let r = run_tutorial();
    let csv = r.events_csv();
    assert!(
        csv.starts_with(
            "time_s,kind,service,task_id,slot,node,image,state,desired_state,message\n"
        )
    );
    assert!(csv.ends_with('\n') && !csv.contains('\r'));
    insta::assert_snapshot!("tutorial_events_csv", csv);
}

#[test]
fn tutorial_summary_json() {
    let r = run_tutorial();
    let json = r.summary_json();
    assert!(json.ends_with("}\n"), "pretty JSON with a trailing newline");
    insta::assert_snapshot!("tutorial_summary_json", json);
}

// ----- one instant in the middle of an update -------------------------------

/// Four replicas on three workers, parallelism 2, delay 5s. At 1m10.5s the
/// first two slots run the new image, the last two have just been handed
/// out: their new tasks are desired `Ready` (stop-first: the old tasks are
/// still stopping, observed `Running`, desired `Shutdown`).
const MID_UPDATE: &str = r#"
name: mid-update
seed: 7
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{n}
      count: 3
images:
  default:
    pull: 3s
    start: 2s
    stop: 1s
timeline:
  - at: 0s
    docker: docker service create --replicas 4 --name web --update-parallelism 2 --update-delay 5s --constraint node.role==worker nginx:1.26
  - at: 1m
    docker: docker service update --image nginx:1.27 web
  - at: 1m10.5s
    docker: docker service ps web
  - at: 1m10.5s
    docker: docker service ps --no-trunc web
  - at: 1m10.5s
    docker: docker service ps --filter desired-state=running web
  - at: 1m10.5s
    docker: docker service ps -q web
  - at: 1m10.5s
    docker: docker service inspect --pretty web
  - at: 1m10.5s
    docker: docker service ls
  - at: 1m10.5s
    docker: docker node ls
"#;

/// The commands every instant snapshot covers, with their snapshot names.
const COMMANDS: &[(&str, &str)] = &[
    ("docker service ps web", "service_ps"),
    ("docker service ps --no-trunc web", "service_ps_no_trunc"),
    (
        "docker service ps --filter desired-state=running web",
        "service_ps_desired_running",
    ),
    ("docker service ps -q web", "service_ps_quiet"),
    (
        "docker service inspect --pretty web",
        "service_inspect_pretty",
    ),
    ("docker service ls", "service_ls"),
    ("docker node ls", "node_ls"),
];

fn snapshot_commands(prefix: &str, transcript: &str) {
    for (cmd, name) in COMMANDS {
        let out = output_of(transcript, cmd);
        insta::assert_snapshot!(format!("{prefix}_{name}"), visible(&out));
    }
}

#[test]
fn mid_update_outputs() {
    let r = run_yaml("mid-update.yaml", MID_UPDATE, Some("1m10.5s"));
    // ps, ps --no-trunc, ps --filter, service ls, node ls.
    assert_eq!(check_all_tables(&r.transcript), 5);
    snapshot_commands("mid_update", &r.transcript);
}

// ----- after an update paused by a failing image ----------------------------

/// Every start of nginx:1.27 fails (exit 137): the update pauses on the
/// first slot, the restart supervisor crash-loops that slot (history capped
/// at 5 tasks); worker2 stops at 1m5s and is marked Down by 1m30s.
const PAUSED: &str = r#"
name: paused update
seed: 3
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{n}
      count: 2
images:
  default:
    pull: 1s
    start: 1s
    stop: 500ms
  "nginx:1.27":
    fail_on_start: 1
    exit_code: 137
timeline:
  - at: 0s
    docker: docker service create --replicas 3 --name web --update-delay 10s --update-monitor 20s nginx:1.26
  - at: 1m
    docker: docker service update --image nginx:1.27 web
  - at: 1m5s
    node: {name: worker2, state: down}
  - at: 1m30s
    docker: docker service ps web
  - at: 1m30s
    docker: docker service ps --no-trunc web
  - at: 1m30s
    docker: docker service ps --filter desired-state=running web
  - at: 1m30s
    docker: docker service ps -q web
  - at: 1m30s
    docker: docker service inspect --pretty web
  - at: 1m30s
    docker: docker service ls
  - at: 1m30s
    docker: docker node ls
"#;

#[test]
fn paused_update_outputs() {
    let r = run_yaml("paused.yaml", PAUSED, Some("1m30s"));
    assert_eq!(check_all_tables(&r.transcript), 5);
    let s = &r.summary.services["web"];
    assert_eq!(s.update_state.as_deref(), Some("paused"));
    snapshot_commands("paused_update", &r.transcript);
}

// ----- full transcript of a failing image ------------------------------------

/// nginx:1.27 crashes 2s after it started, inside the 10s monitor: the
/// update pauses (both slots were handed out before the first crash);
/// a second service cannot be placed at all (truncated ERROR `…`);
/// `docker service update web` with no flags resets the status and finds
/// no dirty slot, so no UpdateStatus is shown afterwards.
const FAILING_IMAGE: &str = r#"
name: failing image pauses the update
seed: 11
cluster:
  nodes:
    - name: manager1
      role: manager
    - name: worker{n}
      count: 2
images:
  default:
    pull: 1s
    start: 1s
    stop: 500ms
  "nginx:1.27":
    crash_after: 2s
    exit_code: 1
timeline:
  - at: 0s
    docker: docker service create --replicas 2 --name web --update-monitor 10s nginx:1.26
  - at: 30s
    docker: docker service update --image nginx:1.27 web
  - at: 45s
    docker: docker service ps web
  - at: 45s
    docker: docker service inspect --pretty web
  - at: 50s
    docker: docker service create --name db --constraint node.labels.zone==nowhere redis:7
  - at: 55s
    docker: docker service ps db
  - at: 55s
    docker: docker service ps --no-trunc db
  - at: 1m
    docker: docker service update web
  - at: 1m30s
    docker: docker service ps web
  - at: 1m30s
    docker: docker service inspect --pretty web
  - at: 1m30s
    docker: docker service ls
"#;

#[test]
fn failing_image_transcript() {
    let r = run_yaml("failing-image.yaml", FAILING_IMAGE, Some("1m30s"));
    assert_eq!(check_all_tables(&r.transcript), 5);
    // The truncated error is 29 characters plus `…`, quoted.
    let ps_db = output_of(&r.transcript, "docker service ps db");
    assert!(
        ps_db.contains("   \"no suitable node (scheduling …\"   \n"),
        "{ps_db}"
    );
    insta::assert_snapshot!("failing_image_transcript", visible(&r.transcript));
}

// ----- the checker itself -----------------------------------------------------

#[test]
fn table_checker_rejects_bad_layouts() {
    let good = "ID           NAME   \nabc          x      \n";
    // Header and cell widths above are wrong on purpose (NAME column is
    // the last, ID column 13 wide for a widest cell of 2).
    assert!(std::panic::catch_unwind(|| check_table_layout(good)).is_err());
    let ok = "ID        NAME\nabc       x\n";
    check_table_layout(ok);
    let padded_last = "ID        NAME\nabc       x   \n";
    assert!(std::panic::catch_unwind(|| check_table_layout(padded_last)).is_err());
    let missing_padding = "ID        ERROR     PORTS\nabc\n";
    assert!(std::panic::catch_unwind(|| check_table_layout(missing_padding)).is_err());
}

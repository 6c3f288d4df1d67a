//! Masking and comparison of a real run with a simulated one.
//!
//! Masks: 25-character ids become `<id>`; the 12-character ID column of
//! `service ps` is dropped; relative times (`Running 18 seconds ago`,
//! inspect's `Started:`/`Completed:`) become `<ago>`; the engine's
//! hostname becomes the scenario's node name; table padding is ignored
//! (cells are compared, not columns). Real Swarm updates slots in random
//! order, so `service ps` and the final task states are compared per slot
//! as a multiset, with slot numbers masked.

use std::collections::BTreeMap;

/// Replaces every run of exactly 25 lowercase letters/digits with `<id>`.
pub fn mask_ids(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 25 && run.chars().any(|c| c.is_ascii_digit()) {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `Running 18 seconds ago` → `Running <ago>`.
fn mask_ago(cell: &str) -> String {
    if let Some(body) = cell.strip_suffix(" ago") {
        let first = body.split(' ').next().unwrap_or("");
        return format!("{first} <ago>");
    }
    cell.to_string()
}

/// One command of a transcript: the `[time] $ command` line and what
/// followed it.
#[derive(Debug, Clone)]
pub struct Block {
    pub head: String,
    pub body: String,
}

/// Splits a transcript into command blocks (the simulator's closing
/// summary is dropped).
pub fn blocks(transcript: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for line in transcript.lines() {
        let is_head = line.starts_with('[') && line.contains("] $ ");
        let is_end = line.starts_with('[') && line.contains("] end of simulation");
        if is_end {
            break;
        }
        if is_head || line.starts_with('[') && line.contains("] # ") {
            out.push(Block {
                head: line.to_string(),
                body: String::new(),
            });
        } else if let Some(b) = out.last_mut() {
            b.body.push_str(line);
            b.body.push('\n');
        }
    }
    out
}

/// A `service ps` table, normalized: slot blocks (task rows newest first,
/// slot number masked), sorted.
pub fn normalize_ps(body: &str, hostname: &str, node: &str) -> Vec<String> {
    let mut lines = body.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    if !header.starts_with("ID ") {
        return vec![mask_ids(body)];
    }
    let names = [
        "ID",
        "NAME",
        "IMAGE",
        "NODE",
        "DESIRED STATE",
        "CURRENT STATE",
        "ERROR",
        "PORTS",
    ];
    let offs: Vec<usize> = names.iter().filter_map(|n| header.find(n)).collect();
    let mut slots: Vec<String> = Vec::new();
    for line in lines {
        let cell = |i: usize| -> String {
            let a = offs[i].min(line.len());
            let b = offs
                .get(i + 1)
                .copied()
                .unwrap_or(line.len())
                .min(line.len());
            line.get(a..b).unwrap_or("").trim().to_string()
        };
        let mut cells: Vec<String> = (1..offs.len()).map(cell).collect();
        // NAME: `\_ web.2` / `web.2` → `\_ web.N` / `web.N`.
        if let Some((svc, _)) = cells[0].rsplit_once('.') {
            cells[0] = format!("{svc}.N");
        }
        if cells.len() > 2 && cells[2] == hostname {
            cells[2] = node.to_string();
        }
        if cells.len() > 4 {
            cells[4] = mask_ago(&cells[4]);
        }
        let row = mask_ids(&cells.join(" | "));
        if row.starts_with("\\_")
            && let Some(last) = slots.last_mut()
        {
            last.push('\n');
            last.push_str(&row);
            continue;
        }
        slots.push(row);
    }
    slots.sort();
    slots
}

/// `inspect --pretty` (and any other output), masked line by line.
pub fn normalize_text(body: &str) -> String {
    let mut out = String::new();
    for line in body.lines() {
        let l = if line.starts_with(" Started:") || line.starts_with(" Completed:") {
            let key = line.split(':').next().unwrap_or("");
            format!("{key}:\t<ago>")
        } else {
            mask_ids(line)
        };
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// One comparison outcome.
#[derive(Debug, Clone)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    /// What differs (empty when equal).
    pub detail: String,
}

/// Shows two texts one after the other for a report.
pub fn show_pair(real: &str, sim: &str) -> String {
    format!("real:\n```\n{real}```\nsimulated:\n```\n{sim}```\n")
}

/// Compares the two transcripts command by command.
pub fn compare_transcripts(real: &str, sim: &str, hostname: &str, node: &str) -> Vec<Check> {
    let (r, s) = (blocks(real), blocks(sim));
    let mut checks = Vec::new();
    if r.len() != s.len() {
        checks.push(Check {
            what: "command count".to_string(),
            ok: false,
            detail: format!("real has {} commands, simulated {}", r.len(), s.len()),
        });
    }
    for (rb, sb) in r.iter().zip(&s) {
        let is_ps = rb.head.contains("$ docker service ps");
        let (rn, sn) = if is_ps {
            (
                normalize_ps(&rb.body, hostname, node).join("\n\n") + "\n",
                normalize_ps(&sb.body, hostname, node).join("\n\n") + "\n",
            )
        } else {
            (normalize_text(&rb.body), normalize_text(&sb.body))
        };
        let ok = rn == sn && rb.head == sb.head;
        checks.push(Check {
            what: rb.head.clone(),
            ok,
            detail: if ok {
                String::new()
            } else {
                show_pair(&rn, &sn)
            },
        });
    }
    checks
}

/// An update or rollback from its start to its end state.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub kind: &'static str,
    pub start: f64,
    pub end: Option<f64>,
    pub state: String,
}

/// Episodes from a sequence of (time, UpdateStatus state).
pub fn episodes(transitions: &[(f64, String)]) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    for (t, state) in transitions {
        let kind = if state.starts_with("rollback") {
            "rollback"
        } else {
            "update"
        };
        let starts = state == "updating" || state == "rollback_started";
        if starts {
            if let Some(open) = out.last_mut().filter(|e| e.end.is_none()) {
                open.end = Some(*t);
                open.state = format!("{} (replaced)", open.state);
            }
            out.push(Episode {
                kind,
                start: *t,
                end: None,
                state: state.clone(),
            });
        } else if let Some(open) = out.last_mut().filter(|e| e.end.is_none()) {
            open.end = Some(*t);
            open.state = state.clone();
        }
    }
    out
}

/// Durations agree when within 10 % of the real one or 1.5 s.
pub fn close_enough(real: f64, sim: f64) -> bool {
    let d = (real - sim).abs();
    d <= 1.5 || d <= 0.1 * real.abs()
}

pub fn compare_episodes(real: &[Episode], sim: &[Episode]) -> (Check, String) {
    let fmt = |e: &Episode| match e.end {
        Some(end) => format!(
            "{} {:.1}s→{:.1}s = {:.1}s ({})",
            e.kind,
            e.start,
            end,
            end - e.start,
            e.state
        ),
        None => format!("{} from {:.1}s, unfinished ({})", e.kind, e.start, e.state),
    };
    let mut ok = real.len() == sim.len();
    let mut lines = Vec::new();
    for i in 0..real.len().max(sim.len()) {
        let (r, s) = (real.get(i), sim.get(i));
        let agree = match (r, s) {
            (Some(r), Some(s)) => {
                r.kind == s.kind
                    && match (r.end, s.end) {
                        (Some(re), Some(se)) => close_enough(re - r.start, se - s.start),
                        (None, None) => true,
                        _ => false,
                    }
            }
            _ => false,
        };
        ok &= agree;
        lines.push(format!(
            "{} real {} / sim {}",
            if agree { "ok  " } else { "DIFF" },
            r.map(fmt).unwrap_or_else(|| "-".to_string()),
            s.map(fmt).unwrap_or_else(|| "-".to_string())
        ));
    }
    let short = real
        .iter()
        .zip(sim)
        .map(|(r, s)| {
            let d = |e: &Episode| {
                e.end
                    .map_or("…".to_string(), |x| format!("{:.1}", x - e.start))
            };
            format!("{} {}/{}s", r.kind, d(r), d(s))
        })
        .collect::<Vec<_>>()
        .join(", ");
    (
        Check {
            what: "update/rollback durations (10% or 1.5s)".to_string(),
            ok,
            detail: lines.join("\n"),
        },
        short,
    )
}

/// Compares UpdateStatus (state, message) sequences exactly (ids masked).
pub fn compare_updates(real: &[(String, String)], sim: &[(String, String)]) -> Check {
    let show = |v: &[(String, String)]| {
        v.iter()
            .map(|(s, m)| format!("{s}: {}\n", mask_ids(m)))
            .collect::<String>()
    };
    let (r, s) = (show(real), show(sim));
    Check {
        what: "UpdateStatus states and messages".to_string(),
        ok: r == s,
        detail: if r == s {
            String::new()
        } else {
            show_pair(&r, &s)
        },
    }
}

/// Per slot: the tasks newest first as `image desired/state err`; the
/// slots sorted (a multiset: slot numbers are not compared).
pub fn compare_slots(
    real: &BTreeMap<(String, u64), Vec<String>>,
    sim: &BTreeMap<(String, u64), Vec<String>>,
) -> Check {
    let canon = |m: &BTreeMap<(String, u64), Vec<String>>| {
        let mut v: Vec<String> = m
            .iter()
            .map(|((svc, _), rows)| format!("{svc}.N:\n  {}\n", rows.join("\n  ")))
            .collect();
        v.sort();
        v.concat()
    };
    let (r, s) = (canon(real), canon(sim));
    Check {
        what: "final tasks per slot (multiset)".to_string(),
        ok: r == s,
        detail: if r == s {
            String::new()
        } else {
            show_pair(&r, &s)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_ids_and_relative_times() {
        assert_eq!(
            mask_ids("task sjurxba7cfny1c3l2uwpkovuz failed"),
            "task <id> failed"
        );
        assert_eq!(
            mask_ids("abcdefghijklmnopqrstuvwxy"),
            "abcdefghijklmnopqrstuvwxy"
        );
        assert_eq!(mask_ago("Running 18 seconds ago"), "Running <ago>");
    }

    #[test]
    fn ps_is_compared_per_slot_without_padding() {
        let real = "ID             NAME        IMAGE   NODE   DESIRED STATE   CURRENT STATE            ERROR     PORTS\n\
                    aaaaaaaaaaaa   web.1       img:2   vm     Running         Running 2 seconds ago              \n\
                    bbbbbbbbbbbb    \\_ web.1   img:1   vm     Shutdown        Shutdown 3 seconds ago             \n\
                    cccccccccccc   web.2       img:1   vm     Running         Running 9 seconds ago              \n";
        let sim = "ID             NAME        IMAGE   NODE       DESIRED STATE   CURRENT STATE             ERROR     PORTS\n\
                   dddddddddddd   web.1       img:1   manager1   Running         Running 10 seconds ago              \n\
                   eeeeeeeeeeee   web.2       img:2   manager1   Running         Running 1 second ago                \n\
                   ffffffffffff    \\_ web.2   img:1   manager1   Shutdown        Shutdown 2 seconds ago              \n";
        assert_eq!(
            normalize_ps(real, "vm", "manager1"),
            normalize_ps(sim, "vm", "manager1")
        );
        let other = sim.replace("Shutdown        Shutdown", "Shutdown        Failed  ");
        assert_ne!(
            normalize_ps(real, "vm", "manager1"),
            normalize_ps(&other, "vm", "manager1")
        );
    }

    #[test]
    fn episodes_and_tolerance() {
        let t = |v: &[(f64, &str)]| {
            v.iter()
                .map(|(a, b)| (*a, b.to_string()))
                .collect::<Vec<_>>()
        };
        let e = episodes(&t(&[
            (1.0, "updating"),
            (3.0, "rollback_started"),
            (9.0, "rollback_completed"),
        ]));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].end, Some(3.0));
        assert_eq!((e[1].kind, e[1].end), ("rollback", Some(9.0)));
        assert!(close_enough(20.0, 21.9));
        assert!(!close_enough(20.0, 22.1));
        assert!(close_enough(3.0, 4.4));
        assert!(!close_enough(3.0, 4.6));
    }
}

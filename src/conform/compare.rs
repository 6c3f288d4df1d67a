//! Masking and comparison of a real run with a simulated one.
//!
//! Masks: 25-character ids become `<id>`; the 12-character ID column of
//! `service ps` is dropped; relative times (`Running 18 seconds ago`,
//! inspect's `Started:`/`Completed:`) become `<ago>`; the engine's
//! hostname becomes the scenario's node name; table padding is ignored
//! (cells are compared, not columns).
//!
//! Slots: where swarmkit's choice is deterministic — scale up fills the
//! lowest free slots, scale down keeps the slots of §4.2 of
//! docs/conformance.md, a restart stays in its slot — `service ps` and the
//! final tasks are compared slot by slot, numbers included ("slot
//! identity"). Once an update or rollback has run, which slot was updated
//! first is Go map order (swarmkit `updatableAndDeadSlots`), so the slots are
//! compared as a multiset, and the set of slot numbers separately ("slot
//! set"). Each check says which.
//!
//! A check is a MATCH or a MISMATCH; one with nothing to compare (no
//! update on either side, two unfinished episodes) is n/a, and a command's
//! echo (an id, the service's name, `web scaled to 5`) is shown but not
//! counted.

use std::collections::BTreeMap;

/// Replaces every run of exactly 25 lowercase letters/digits with `<id>`.
pub fn mask_ids(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        // Every such run, digits or not: swarmkit's ids are 25 random
        // base-36 characters (identity.NewID), and about one in 3,500 has
        // no digit at all (a real run met `bdkszibphilxsmufpsfheyvbz`).
        if run.len() == 25 {
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
/// slot number masked unless `identity`), sorted.
pub fn normalize_ps(body: &str, hostname: &str, node: &str, identity: bool) -> Vec<String> {
    let mut lines = body.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    if !header.starts_with("ID ") {
        return vec![mask_ids(body)];
    }
    let offs: Vec<usize> = crate::docker::format::ps::PS_HEADER
        .iter()
        .filter_map(|n| header.find(n))
        .collect();
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
        // NAME: `\_ web.2` / `web.2` → `\_ web.N` / `web.N`; a global
        // task's `web.<node id>` → `web.<node>`.
        if let Some((svc, slot)) = cells[0].rsplit_once('.') {
            if slot.parse::<u64>().is_err() {
                cells[0] = format!("{svc}.<node>");
            } else if !identity {
                cells[0] = format!("{svc}.N");
            }
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

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Mismatch,
    /// Nothing to compare on either side: not counted.
    NotApplicable,
    /// A command's echo that agrees (an id, a name): shown, not counted.
    Echo,
}

/// One comparison outcome.
#[derive(Debug, Clone)]
pub struct Check {
    pub what: String,
    pub verdict: Verdict,
    /// What differs (empty when equal).
    pub detail: String,
}

impl Check {
    pub fn new(what: impl Into<String>, equal: bool, detail: String) -> Check {
        Check {
            what: what.into(),
            verdict: if equal {
                Verdict::Match
            } else {
                Verdict::Mismatch
            },
            detail,
        }
    }
    pub fn ok(&self) -> bool {
        self.verdict != Verdict::Mismatch
    }
    pub fn label(&self) -> &'static str {
        match self.verdict {
            Verdict::Match => "MATCH",
            Verdict::Mismatch => "MISMATCH",
            Verdict::NotApplicable => "n/a",
            Verdict::Echo => "echo",
        }
    }
}

/// A command whose output only echoes what it was given: `service create`
/// (the new id), `update`/`rollback`/`rm` (the name), `scale` (`web scaled
/// to N`), `node update` (the node's name). Errors are not echoes.
fn is_echo(head: &str, body: &str) -> bool {
    let echoing = [
        "$ docker service create",
        "$ docker service update",
        "$ docker service rollback",
        "$ docker service scale",
        "$ docker service rm",
        "$ docker node update",
    ];
    if !echoing.iter().any(|e| head.contains(e)) {
        return false;
    }
    let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.iter().all(|l| {
        let l = l.trim();
        let words: Vec<&str> = l.split_whitespace().collect();
        words.len() == 1 && !l.contains(':')
            || words.len() == 4 && words[1] == "scaled" && words[2] == "to"
    })
}

/// Shows two texts one after the other for a report.
pub fn show_pair(real: &str, sim: &str) -> String {
    format!("real:\n```\n{real}```\nsimulated:\n```\n{sim}```\n")
}

/// The slot names (`web.3`) of the top-level rows of a `service ps` table.
fn ps_slot_names(body: &str) -> Vec<String> {
    let mut v: Vec<String> = body
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|n| *n != "\\_")
        .map(|n| match n.rsplit_once('.') {
            // A global task: `web.<node id>`.
            Some((svc, slot)) if slot.parse::<u64>().is_err() => format!("{svc}.<node>"),
            _ => n.to_string(),
        })
        .collect();
    v.sort();
    v
}

/// Compares the two transcripts command by command. `identity`: the slot
/// numbers of `service ps` are compared too (see the module comment); else
/// the rows as a multiset and the slot numbers as a set.
pub fn compare_transcripts(
    real: &str,
    sim: &str,
    hostname: &str,
    node: &str,
    identity: bool,
) -> Vec<Check> {
    let (r, s) = (blocks(real), blocks(sim));
    let mut checks = Vec::new();
    if r.len() != s.len() {
        checks.push(Check::new(
            "command count",
            false,
            format!("real has {} commands, simulated {}", r.len(), s.len()),
        ));
    }
    for (rb, sb) in r.iter().zip(&s) {
        let is_ps = rb.head.contains("$ docker service ps");
        let (rn, sn) = if is_ps {
            let mut rn = normalize_ps(&rb.body, hostname, node, identity).join("\n\n") + "\n";
            let mut sn = normalize_ps(&sb.body, hostname, node, identity).join("\n\n") + "\n";
            if !identity {
                let names = |b: &str| format!("slots: {}\n", ps_slot_names(b).join(" "));
                rn = names(&rb.body) + &rn;
                sn = names(&sb.body) + &sn;
            }
            (rn, sn)
        } else {
            (normalize_text(&rb.body), normalize_text(&sb.body))
        };
        let ok = rn == sn && rb.head == sb.head;
        let what = if is_ps {
            format!(
                "{} ({})",
                rb.head,
                if identity {
                    "slot identity"
                } else {
                    "slot set"
                }
            )
        } else {
            rb.head.clone()
        };
        let mut c = Check::new(
            what,
            ok,
            if ok {
                String::new()
            } else {
                show_pair(&rn, &sn)
            },
        );
        if ok && is_echo(&rb.head, &rb.body) {
            c.verdict = Verdict::Echo;
        }
        checks.push(c);
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

/// Absolute and relative tolerance of a duration: 0.3 s or 5 % of the
/// real one, whichever is larger.
pub const TOLERANCE_S: f64 = 0.3;
pub const TOLERANCE_REL: f64 = 0.05;

/// Durations agree when within 0.3 s or 5 % of the real one, whichever is
/// larger.
pub fn close_enough(real: f64, sim: f64) -> bool {
    within(real, sim, TOLERANCE_S, TOLERANCE_REL)
}

/// The live bound of a duration: 1 s or 20 % of the real one, whichever is
/// larger. The strict tolerance above is narrower than the real engine's
/// own run-to-run spread on a loaded machine; this one lies above every
/// error of the simulator judged with another real run's latencies
/// (docs/conformance.md, "Noise": at most 1.7 s on 9.3 s, 18 %; 1.0 s on
/// 4.5 s), and below a gross timing error (an update delay not slept:
/// 35-38 %). `conformance/noise.sh` reads these two lines.
pub const LIVE_S: f64 = 1.0;
pub const LIVE_REL: f64 = 0.20;

/// Durations within the live bound (1 s or 20 %, whichever is larger).
pub fn within_live_bound(real: f64, sim: f64) -> bool {
    within(real, sim, LIVE_S, LIVE_REL)
}

fn within(real: f64, sim: f64, abs: f64, rel: f64) -> bool {
    (real - sim).abs() <= abs.max(rel * real.abs()) + 1e-9
}

/// The title of the strict duration check (reported; gated engine-free by
/// conformance/mutants.sh, and named by conformance/run.sh).
pub const STRICT_TITLE: &str = "update/rollback durations (0.3s or 5%)";
/// The title of the live duration check (gates the live run).
pub const LIVE_TITLE: &str = "durations within the live bound (1s or 20%)";

/// The durations of each update and rollback episode, compared twice: with
/// the strict tolerance and with the live bound. Returns both checks and
/// the short `real/sim` summary of the table.
pub fn compare_episodes(real: &[Episode], sim: &[Episode]) -> (Check, Check, String) {
    let strict = episodes_check(real, sim, STRICT_TITLE, close_enough);
    let live = episodes_check(real, sim, LIVE_TITLE, within_live_bound);
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
    (strict, live, short)
}

fn episodes_check(
    real: &[Episode],
    sim: &[Episode],
    title: &str,
    agree: fn(f64, f64) -> bool,
) -> Check {
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
    // Episodes with a duration on both sides: only those are compared.
    let mut compared = 0;
    let mut lines = Vec::new();
    for i in 0..real.len().max(sim.len()) {
        let (r, s) = (real.get(i), sim.get(i));
        let (a, mark) = match (r, s) {
            (Some(r), Some(s)) if r.kind != s.kind => (false, "DIFF"),
            (Some(r), Some(s)) => match (r.end, s.end) {
                (Some(re), Some(se)) => {
                    compared += 1;
                    let a = agree(re - r.start, se - s.start);
                    (a, if a { "ok  " } else { "DIFF" })
                }
                // Two unfinished episodes: nothing to compare.
                (None, None) => (true, "n/a "),
                _ => (false, "DIFF"),
            },
            _ => (false, "DIFF"),
        };
        ok &= a;
        lines.push(format!(
            "{mark} real {} / sim {}",
            r.map(fmt).unwrap_or_else(|| "-".to_string()),
            s.map(fmt).unwrap_or_else(|| "-".to_string())
        ));
    }
    let mut check = Check::new(title, ok, lines.join("\n"));
    if ok && compared == 0 {
        check.verdict = Verdict::NotApplicable;
    }
    check
}

/// Compares UpdateStatus (state, message) sequences exactly (ids masked).
/// A real state that only the event stream saw (its message
/// [`super::record::UNSEEN`]) matches any message in the same place.
pub fn compare_updates(real: &[(String, String)], sim: &[(String, String)]) -> Check {
    let show = |v: &[(String, String)]| {
        v.iter()
            .map(|(s, m)| format!("{s}: {}\n", mask_ids(m)))
            .collect::<String>()
    };
    let unseen = super::record::UNSEEN;
    let sim: Vec<(String, String)> = sim
        .iter()
        .enumerate()
        .map(|(i, (s, m))| match real.get(i) {
            Some((rs, rm)) if rm == unseen && rs == s => (s.clone(), unseen.to_string()),
            _ => (s.clone(), m.clone()),
        })
        .collect();
    let (r, s) = (show(real), show(&sim));
    let mut c = Check::new(
        "UpdateStatus states and messages",
        r == s,
        if r == s {
            String::new()
        } else {
            show_pair(&r, &s)
        },
    );
    if real.is_empty() && sim.is_empty() {
        c.verdict = Verdict::NotApplicable;
    }
    c
}

/// Per slot: the tasks newest first as `image desired/state err`. With
/// `identity` slot by slot (`web.3:`); else the slots as a multiset
/// (`web.N:`, sorted) after the set of slot numbers.
pub fn compare_slots(
    real: &BTreeMap<(String, u64), Vec<String>>,
    sim: &BTreeMap<(String, u64), Vec<String>>,
    identity: bool,
) -> Check {
    let canon = |m: &BTreeMap<(String, u64), Vec<String>>| {
        let mut v: Vec<String> = m
            .iter()
            .map(|((svc, slot), rows)| {
                let name = if identity {
                    format!("{svc}.{slot}")
                } else {
                    format!("{svc}.N")
                };
                format!("{name}:\n  {}\n", rows.join("\n  "))
            })
            .collect();
        v.sort();
        let mut head = String::new();
        if !identity {
            let slots: Vec<String> = m.keys().map(|(svc, s)| format!("{svc}.{s}")).collect();
            head = format!("slots: {}\n", slots.join(" "));
        }
        head + &v.concat()
    };
    let (r, s) = (canon(real), canon(sim));
    Check::new(
        if identity {
            "final tasks per slot (slot identity)"
        } else {
            "final tasks per slot (slot set; contents as a multiset)"
        },
        r == s,
        if r == s {
            String::new()
        } else {
            show_pair(&r, &s)
        },
    )
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
        // An id without a digit is still an id.
        assert_eq!(mask_ids("ID: bdkszibphilxsmufpsfheyvbz"), "ID: <id>");
        // 24 or 26 characters are not.
        assert_eq!(
            mask_ids("abcdefghijklmnopqrstuvwx abcdefghijklmnopqrstuvwxyz"),
            "abcdefghijklmnopqrstuvwx abcdefghijklmnopqrstuvwxyz"
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
            normalize_ps(real, "vm", "manager1", false),
            normalize_ps(sim, "vm", "manager1", false)
        );
        // Slot identity tells web.1 from web.2.
        assert_ne!(
            normalize_ps(real, "vm", "manager1", true),
            normalize_ps(sim, "vm", "manager1", true)
        );
        let other = sim.replace("Shutdown        Shutdown", "Shutdown        Failed  ");
        assert_ne!(
            normalize_ps(real, "vm", "manager1", false),
            normalize_ps(&other, "vm", "manager1", false)
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
        // 5 % of 20 s is 1 s; 0.3 s below 6 s.
        assert!(close_enough(20.0, 21.0));
        assert!(!close_enough(20.0, 21.1));
        assert!(close_enough(3.0, 3.3));
        assert!(!close_enough(3.0, 3.35));
        // Mutant A's parallelism-0 episode (real 7.7 s, mutant 6.4 s).
        assert!(!close_enough(7.7, 6.4));
        // The live bound: 1 s below 5 s, 20 % above.
        assert!(within_live_bound(3.0, 4.0));
        assert!(!within_live_bound(3.0, 4.05));
        assert!(within_live_bound(9.3, 11.0));
        assert!(!within_live_bound(9.3, 11.2));
        // Mutant A on parallelism-0-delay (real 11.0 s, mutant 6.8 s) is
        // outside it; on parallelism-0 (7.7 s, 6.4 s) only the strict
        // tolerance catches it.
        assert!(!within_live_bound(11.0, 6.8));
        assert!(within_live_bound(7.7, 6.4));
    }

    #[test]
    fn empty_checks_are_not_matches() {
        assert_eq!(compare_updates(&[], &[]).verdict, Verdict::NotApplicable);
        let open = |k| Episode {
            kind: k,
            start: 1.0,
            end: None,
            state: "updating".to_string(),
        };
        let (c, l, _) = compare_episodes(&[open("update")], &[open("update")]);
        assert_eq!(c.verdict, Verdict::NotApplicable);
        assert_eq!(l.verdict, Verdict::NotApplicable);
        let (c, l, _) = compare_episodes(&[], &[]);
        assert_eq!(c.verdict, Verdict::NotApplicable);
        assert_eq!(l.verdict, Verdict::NotApplicable);
        let (c, l, _) = compare_episodes(&[open("update")], &[]);
        assert_eq!(c.verdict, Verdict::Mismatch);
        assert_eq!(l.verdict, Verdict::Mismatch);
    }

    #[test]
    fn echoes_are_not_counted_but_can_differ() {
        let real = "[0s] $ docker service scale web=5\nweb scaled to 5\n[1s] $ docker service ps web\nID  NAME\n";
        let c = compare_transcripts(real, real, "vm", "m", true);
        assert_eq!(c[0].verdict, Verdict::Echo);
        assert_eq!(c[1].verdict, Verdict::Match);
        let sim = real.replace("scaled to 5", "scaled to 4");
        let c = compare_transcripts(real, &sim, "vm", "m", true);
        assert_eq!(c[0].verdict, Verdict::Mismatch);
    }

    #[test]
    fn slot_identity_and_slot_set() {
        let m = |slots: &[u64]| {
            slots
                .iter()
                .map(|&s| {
                    (
                        ("web".to_string(), s),
                        vec!["img:1 running/running".to_string()],
                    )
                })
                .collect::<BTreeMap<_, _>>()
        };
        // Mutant B: a scale-down that keeps web.4 and web.5.
        assert!(!compare_slots(&m(&[1, 2]), &m(&[4, 5]), true).ok());
        assert!(!compare_slots(&m(&[1, 2]), &m(&[4, 5]), false).ok());
        assert!(compare_slots(&m(&[1, 2]), &m(&[1, 2]), false).ok());
        let mut a = m(&[1, 2]);
        a.insert(
            ("web".to_string(), 1),
            vec!["img:2 running/running".to_string()],
        );
        let mut b = m(&[1, 2]);
        b.insert(
            ("web".to_string(), 2),
            vec!["img:2 running/running".to_string()],
        );
        // Which slot was updated: only identity tells.
        assert!(!compare_slots(&a, &b, true).ok());
        assert!(compare_slots(&a, &b, false).ok());
    }
}

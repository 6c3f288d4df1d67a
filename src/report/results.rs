//! Result files: `events.csv` and `summary.json` (described for users in
//! `docs/usage.md#output`).

use std::collections::BTreeMap;

use std::io::Write;

use serde::Serialize;

use crate::sim::time::{NANOS_PER_MILLI, SimTime, secs_f64};
use crate::swarm::cluster::Cluster;
use crate::swarm::model::{NodeStatus, ServiceMode};
use crate::swarm::store::{ChangeSink, ClusterState, LogRecord};

/// The header of `events.csv`.
const EVENTS_HEADER: [&str; 10] = [
    "time_s",
    "kind",
    "service",
    "task_id",
    "slot",
    "node",
    "image",
    "state",
    "desired_state",
    "message",
];

/// `events.csv` written row by row as the run goes (a [`ChangeSink`]):
/// nothing is held in memory but one buffer of rows.
///
/// Rows are formatted by hand into that buffer (numbers without
/// `format!`, fields copied as bytes), with the quoting of the `csv`
/// crate's default writer (`QuoteStyle::Necessary`): a field is quoted
/// when it holds a comma, a double quote, `\r` or `\n`, and its double
/// quotes are doubled. A test compares the two writers on such fields.
pub struct EventsCsv<W: Write> {
    w: W,
    /// Rows not yet handed to `w`.
    buf: Vec<u8>,
    /// The first write error; later rows are dropped.
    error: Option<std::io::Error>,
}

/// Rows are handed to the writer in chunks of about this size.
const EVENTS_CHUNK: usize = 1 << 16;

impl<W: Write> EventsCsv<W> {
    pub fn new(out: W) -> EventsCsv<W> {
        let mut buf = Vec::with_capacity(EVENTS_CHUNK + 1024);
        for (i, h) in EVENTS_HEADER.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            push_field(&mut buf, h.as_bytes());
        }
        buf.push(b'\n');
        EventsCsv {
            w: out,
            buf,
            error: None,
        }
    }

    /// Flushes and returns the writer, or the first error.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        ChangeSink::finish(&mut self)?;
        Ok(self.w)
    }

    /// Hands the buffered rows to the writer.
    fn drain(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.w.write_all(&self.buf)
        {
            self.error = Some(e);
        }
        self.buf.clear();
    }
}

impl<W: Write> ChangeSink for EventsCsv<W> {
    fn record(&mut self, st: &ClusterState, rec: &LogRecord) {
        if self.error.is_some() {
            return;
        }
        let service = rec
            .service
            .map(|s| st.services[s].spec.name.as_str())
            .unwrap_or("");
        let (task_id, slot, image) = match rec.task {
            Some(t) => {
                let task = &st.tasks[t];
                (task.id.as_str(), task.slot, task.spec.image.as_str())
            }
            None => ("", 0, ""),
        };
        let node = rec
            .node
            .map(|n| st.nodes[n].hostname.as_str())
            .unwrap_or("");
        let fields: [&[u8]; 8] = [
            rec.kind.as_str().as_bytes(),
            service.as_bytes(),
            task_id.as_bytes(),
            b"",
            node.as_bytes(),
            image.as_bytes(),
            rec.state.as_bytes(),
            rec.desired_state.as_bytes(),
        ];
        let b = &mut self.buf;
        let row_start = b.len();
        // Fast path: the row as it is, then one scan of it; almost no
        // field needs quotes, and then the only commas are the 9 between
        // the fields.
        push_secs3(b, rec.time);
        for (i, f) in fields.iter().enumerate() {
            b.push(b',');
            if i == 3 {
                // Global tasks (slot 0) have an empty slot.
                if slot > 0 {
                    push_u64(b, slot);
                }
            } else {
                b.extend_from_slice(f);
            }
        }
        b.push(b',');
        b.extend_from_slice(rec.message.as_bytes());
        let (commas, other) = count_specials(&b[row_start..]);
        if commas != 9 || other {
            // Some field needs quotes: write the row again, field by field.
            b.truncate(row_start);
            push_secs3(b, rec.time);
            for (i, f) in fields.iter().enumerate() {
                b.push(b',');
                if i == 3 {
                    if slot > 0 {
                        push_u64(b, slot);
                    }
                } else {
                    push_field(b, f);
                }
            }
            b.push(b',');
            push_field(b, rec.message.as_bytes());
        }
        b.push(b'\n');
        if self.buf.len() >= EVENTS_CHUNK {
            self.drain();
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.drain();
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()
    }
}

/// Appends one CSV field, quoted the way the `csv` crate's writer quotes
/// by default: only when it holds `,`, `"`, `\r` or `\n`, with `"`
/// doubled inside.
fn push_field(buf: &mut Vec<u8>, field: &[u8]) {
    let special = |c: &u8| matches!(c, b',' | b'"' | b'\r' | b'\n');
    if !field.iter().any(special) {
        buf.extend_from_slice(field);
        return;
    }
    buf.push(b'"');
    for &c in field {
        if c == b'"' {
            buf.push(b'"');
        }
        buf.push(c);
    }
    buf.push(b'"');
}

/// Counts the commas in `row`, and whether it holds another byte that
/// needs quotes (`"`, `\r`, `\n`), eight bytes at a time.
fn count_specials(row: &[u8]) -> (u64, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut commas = 0;
    let mut other = 0;
    let mut word = |v: u64| {
        // Exactly the bytes equal to ',' get their high bit set.
        let c = v ^ (ONES * u64::from(b','));
        let zero = !(((c & LOW7) + LOW7) | c | LOW7);
        commas += (zero >> 7).wrapping_mul(ONES) >> 56;
        // Nonzero if and only if some byte is one of the others.
        for q in [b'"', b'\r', b'\n'] {
            let x = v ^ (ONES * u64::from(q));
            other |= x.wrapping_sub(ONES) & !x & HIGH;
        }
    };
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        word(u64::from_le_bytes(b));
    }
    // The tail, padded with zero bytes (which are none of these).
    let rest = chunks.remainder();
    let mut b = [0u8; 8];
    b[..rest.len()].copy_from_slice(rest);
    word(u64::from_le_bytes(b));
    (commas, other != 0)
}

/// Appends a number in decimal (no allocation, no formatter), two digits
/// at a time.
fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while v >= 100 {
        let p = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    }
    if v >= 10 {
        let p = v as usize * 2;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + v as u8;
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends `time_s` with three decimals, as [`crate::sim::time::format_secs3`] prints it.
fn push_secs3(buf: &mut Vec<u8>, t: SimTime) {
    let ms = t.as_nanos() / NANOS_PER_MILLI;
    push_u64(buf, ms / 1000);
    let frac = ms % 1000;
    buf.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

/// `events.csv` of a run that kept its log in memory.
pub fn events_csv(cluster: &Cluster) -> String {
    let mut w = EventsCsv::new(Vec::new());
    for rec in &cluster.store.log {
        w.record(&cluster.store.state, rec);
    }
    // Writing to a Vec cannot fail.
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub end_time_s: f64,
    /// Whether the run stopped at the safety limit instead of running out
    /// of events or reaching `until`.
    pub hit_safety_limit: bool,
    pub events: u64,
    pub services: BTreeMap<String, ServiceSummary>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceSummary {
    pub image: String,
    pub desired_replicas: u64,
    pub running_replicas: u64,
    pub update_state: Option<String>,
    pub update_message: Option<String>,
    pub updates: Vec<UpdateSummary>,
    pub min_running_during_updates: Option<u64>,
    pub task_failures: u64,
    /// Replacements created by the restart supervisor.
    pub restarts: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UpdateSummary {
    pub kind: &'static str,
    pub started_s: f64,
    pub ended_s: Option<f64>,
    pub state: &'static str,
}

/// The end-of-run summary of every service that still exists.
pub fn summary(cluster: &Cluster, scenario: &str, end: SimTime, hit_limit: bool) -> Summary {
    let st = &cluster.store.state;
    let mut services = BTreeMap::new();
    for (sid, svc) in st.services.iter().enumerate() {
        if svc.removed {
            continue;
        }
        let stats = &cluster.store.stats[sid];
        let desired = match svc.spec.mode {
            ServiceMode::Replicated { replicas } => replicas,
            ServiceMode::Global => st
                .service_tasks(sid)
                .filter(|t| t.desired == crate::swarm::model::TaskState::Running)
                .count() as u64,
        };
        let running = st
            .service_tasks(sid)
            .filter(|t| {
                t.state == crate::swarm::model::TaskState::Running
                    && t.node.is_some_and(|n| {
                        st.nodes[n].agent_up && st.nodes[n].status != NodeStatus::Down
                    })
            })
            .count() as u64;
        let updates = stats
            .episodes
            .iter()
            .map(|e| UpdateSummary {
                kind: if e.rollback { "rollback" } else { "update" },
                started_s: secs_f64(e.started),
                ended_s: e.ended.map(secs_f64),
                state: e.state.as_str(),
            })
            .collect();
        services.insert(
            svc.spec.name.clone(),
            ServiceSummary {
                image: svc.spec.task.image.clone(),
                desired_replicas: desired,
                running_replicas: running,
                update_state: svc
                    .update_status
                    .as_ref()
                    .map(|s| s.state.as_str().to_string()),
                update_message: svc.update_status.as_ref().map(|s| s.message.clone()),
                updates,
                min_running_during_updates: stats.min_running_during_updates,
                task_failures: stats.task_failures,
                restarts: stats.restarts,
            },
        );
    }
    Summary {
        scenario: scenario.to_string(),
        seed: cluster.store.seed,
        end_time_s: secs_f64(end),
        hit_safety_limit: hit_limit,
        events: cluster.store.events_processed,
        services,
    }
}

/// `summary.json`: pretty-printed with a trailing newline.
pub fn summary_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::{NANOS_PER_MILLI, format_secs3};

    /// The hand-written rows quote exactly as the `csv` crate's default
    /// writer did (events.csv must stay byte-identical).
    #[test]
    fn rows_are_quoted_like_the_csv_crate() {
        let fields: [&[u8]; 14] = [
            b"",
            b"plain",
            b"status ready, availability active",
            b"say \"hi\"",
            b"\"",
            b"\"\"",
            b"line\nbreak",
            b"carriage\rreturn",
            b"#comment",
            b" leading space",
            b"tab\there",
            "ünïcode, too".as_bytes(),
            b"task: non-zero exit (1): dockerexec: unhealthy container",
            b"a,\"b\"\r\n",
        ];
        let mut reference = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        for f in fields {
            reference.write_record([f, f, b"x"]).unwrap();
        }
        let reference = reference.into_inner().unwrap();
        let mut ours = Vec::new();
        for f in fields {
            push_field(&mut ours, f);
            ours.push(b',');
            push_field(&mut ours, f);
            ours.extend_from_slice(b",x\n");
        }
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&reference)
        );
    }

    /// Whole rows, on both paths (plain rows and rows with fields that
    /// need quotes), are the rows the `csv` crate's writer wrote.
    #[test]
    fn rows_are_the_csv_crate_rows() {
        let yaml = "name: t\nseed: 1\ncluster:\n  nodes:\n    - name: n{n}\n      count: 2\n\
                    images:\n  default: {pull: 1s, start: 1s, stop: 1s}\n\
                    services:\n  web:\n    image: web:1\n    deploy:\n      replicas: 3\n";
        let scenario =
            crate::scenario::parse_str(yaml, std::path::Path::new("t.yaml")).expect("scenario");
        let mut c = Cluster::new(scenario, 1, true);
        c.run(None, 10_000, |_, _| {});
        let mut log = c.store.log.clone();
        assert!(log.len() > 10);
        let mut odd = log[log.len() - 1].clone();
        odd.message = "say \"hi\", then\r\nmore".to_string().into();
        log.push(odd);
        for renamed in [false, true] {
            let st = &mut c.store.state;
            if renamed {
                st.services[0].spec.name = "we,b".to_string();
                st.nodes[0].hostname = "n\"1\"".to_string();
            }
            let mut ours = EventsCsv::new(Vec::new());
            let mut reference = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            reference.write_record(EVENTS_HEADER).unwrap();
            for rec in &log {
                ours.record(st, rec);
                let task = rec.task.map(|t| &st.tasks[t]);
                let slot = task
                    .filter(|t| t.slot > 0)
                    .map(|t| t.slot.to_string())
                    .unwrap_or_default();
                reference
                    .write_record([
                        format_secs3(rec.time).as_str(),
                        rec.kind.as_str(),
                        rec.service
                            .map_or("", |s| st.services[s].spec.name.as_str()),
                        task.map_or("", |t| t.id.as_str()),
                        slot.as_str(),
                        rec.node.map_or("", |n| st.nodes[n].hostname.as_str()),
                        task.map_or("", |t| t.spec.image.as_str()),
                        rec.state,
                        rec.desired_state,
                        &rec.message,
                    ])
                    .unwrap();
            }
            let ours = String::from_utf8(ours.into_inner().unwrap()).unwrap();
            let reference = String::from_utf8(reference.into_inner().unwrap()).unwrap();
            assert_eq!(ours, reference);
            assert_eq!(renamed, ours.contains("\"we,b\""));
        }
    }

    #[test]
    fn specials_are_counted_exactly() {
        let bytes = b",\"\r\nab,\x00\xff\x2b\x2d";
        // Every slice of every length and offset, against a plain count.
        for i in 0..bytes.len() {
            for j in i..=bytes.len() {
                for k in 0..=20 {
                    let row: Vec<u8> = bytes[i..j]
                        .iter()
                        .cycle()
                        .take(k * (j - i) / 4 + (j - i))
                        .copied()
                        .collect();
                    let commas = row.iter().filter(|&&c| c == b',').count() as u64;
                    let other = row.iter().any(|&c| matches!(c, b'"' | b'\r' | b'\n'));
                    assert_eq!(count_specials(&row), (commas, other), "{row:?}");
                }
            }
        }
    }

    #[test]
    fn numbers_are_written_like_display() {
        for v in [
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            12345,
            100_000,
            u64::MAX / 7,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            push_u64(&mut b, v);
            assert_eq!(b, v.to_string().into_bytes());
        }
        for ms in [
            0,
            1,
            10,
            999,
            1000,
            1001,
            60_500,
            7_200_123,
            u64::MAX / NANOS_PER_MILLI,
        ] {
            let t = SimTime::from_nanos(ms * NANOS_PER_MILLI);
            let mut b = Vec::new();
            push_secs3(&mut b, t);
            assert_eq!(String::from_utf8(b).unwrap(), format_secs3(t));
        }
    }

    /// A write error is kept and reported at the end; rows after it are
    /// dropped.
    #[test]
    fn the_first_write_error_is_reported() {
        struct Failing;
        impl Write for Failing {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let w = EventsCsv::new(Failing);
        let err = w.into_inner().err().expect("an error");
        assert_eq!(err.to_string(), "disk full");
    }
}

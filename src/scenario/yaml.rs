//! A thin typed view over `serde_yaml::Value` that remembers where each
//! value sits (a path of keys and indices), and [`locate`], which turns
//! such a path back into a line and column of the file by replaying the
//! document through serde_yaml (whose errors carry the position of the
//! node being read).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_yaml::Value;

use crate::docker::duration::parse_go_duration;
use crate::sim::time::{SimDuration, SimTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Where an error points: at a value, or at the key of a map entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub path: Vec<Seg>,
    pub at_key: bool,
}

/// A conversion error, before its position is resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub pos: Pos,
    pub message: String,
}

pub type R<T> = Result<T, Fail>;

/// The scalar text of a map key (`None` for a map or list used as a key).
pub fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Tagged(t) => key_text(&t.value),
        _ => None,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Levenshtein distance (for "did you mean" suggestions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| {
            let d = if c.eq_ignore_ascii_case(word) {
                0
            } else {
                edit_distance(&word.to_ascii_lowercase(), c)
            };
            (d, *c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A value and its path.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    pub v: &'a Value,
    pub path: &'a PathBuf,
}

/// A path, owned by the caller so that child nodes can borrow it.
pub type PathBuf = Vec<Seg>;

impl<'a> Node<'a> {
    pub fn new(v: &'a Value, path: &'a PathBuf) -> Self {
        Node { v, path }
    }

    pub fn fail<T>(&self, message: impl Into<String>) -> R<T> {
        Err(self.error(message))
    }

    pub fn error(&self, message: impl Into<String>) -> Fail {
        Fail {
            pos: Pos {
                path: self.path.clone(),
                at_key: false,
            },
            message: message.into(),
        }
    }

    /// The last path segment, for messages (`delay`, `timeline[2]`).
    pub fn name(&self) -> String {
        match self.path.last() {
            Some(Seg::Key(k)) => format!("`{k}`"),
            Some(Seg::Index(i)) => format!("item {}", i + 1),
            None => "the document".to_string(),
        }
    }

    fn untagged(&self) -> R<&'a Value> {
        match self.v {
            Value::Tagged(t) => self.fail(format!(
                "YAML tags such as `{}` are not supported here",
                t.tag
            )),
            v => Ok(v),
        }
    }

    fn expected<T>(&self, what: &str) -> R<T> {
        self.fail(format!(
            "{} must be {what}, found {}",
            self.name(),
            kind(self.v)
        ))
    }

    pub fn map(&self) -> R<Map<'a>> {
        match self.untagged()? {
            Value::Mapping(m) => {
                let mut entries = Vec::with_capacity(m.len());
                for (k, v) in m {
                    let Some(key) = key_text(k) else {
                        return self
                            .fail(format!("{}: map keys must be plain scalars", self.name()));
                    };
                    entries.push((key, v));
                }
                Ok(Map {
                    entries,
                    path: self.path,
                })
            }
            _ => self.expected("a mapping"),
        }
    }

    pub fn seq(&self) -> R<&'a [Value]> {
        match self.untagged()? {
            Value::Sequence(s) => Ok(s),
            _ => self.expected("a list"),
        }
    }

    pub fn str(&self) -> R<&'a str> {
        match self.untagged()? {
            Value::String(s) => Ok(s),
            _ => self.expected("a string"),
        }
    }

    /// A string, or a number/boolean written without quotes, as text.
    pub fn scalar_text(&self) -> R<String> {
        match self.untagged()? {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => self.expected("a string"),
        }
    }

    pub fn u64(&self) -> R<u64> {
        match self.untagged()? {
            Value::Number(n) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or_default()),
            _ => self.expected("a non-negative integer"),
        }
    }

    pub fn i64(&self) -> R<i64> {
        match self.untagged()? {
            Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or_default()),
            _ => self.expected("an integer"),
        }
    }

    pub fn f64(&self) -> R<f64> {
        match self.untagged()? {
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(f),
                _ => self.expected("a finite number"),
            },
            _ => self.expected("a number"),
        }
    }

    pub fn bool(&self) -> R<bool> {
        match self.untagged()? {
            Value::Bool(b) => Ok(*b),
            _ => self.expected("true or false"),
        }
    }

    /// A probability: a number in [0, 1].
    pub fn probability(&self) -> R<f64> {
        let p = match self.untagged()? {
            Value::Number(n) => n.as_f64(),
            _ => None,
        };
        match p {
            Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
            _ => self.fail(format!(
                "{} must be a probability: a number between 0 and 1, found {}",
                self.name(),
                self.display()
            )),
        }
    }

    /// A short rendering of a scalar for messages.
    pub fn display(&self) -> String {
        match self.v {
            Value::String(s) => format!("`{s}`"),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            v => kind(v).to_string(),
        }
    }

    /// A Go duration (`10s`, `1m30s`, `0`), signed nanoseconds.
    pub fn go_duration(&self) -> R<i64> {
        let text = match self.untagged()? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return self.expected("a duration such as `10s`"),
        };
        parse_go_duration(&text).map_err(|e| self.error(format!("{}: {e}", self.name())))
    }

    /// An instant, written as the duration since the start of the run.
    pub fn instant(&self) -> R<SimTime> {
        self.duration().map(SimTime::at)
    }

    /// A duration that must not be negative.
    pub fn duration(&self) -> R<SimDuration> {
        let d = self.go_duration()?;
        u64::try_from(d).map(SimDuration::from_nanos).map_err(|_| {
            self.error(format!(
                "{} must not be negative, found {}",
                self.name(),
                self.display()
            ))
        })
    }
}

/// A mapping whose keys are checked against the allowed ones.
pub struct Map<'a> {
    pub entries: Vec<(String, &'a Value)>,
    pub path: &'a PathBuf,
}

impl<'a> Map<'a> {
    /// Fails on the first key not in `allowed`, naming it and suggesting
    /// the closest allowed key.
    pub fn check_keys(&self, allowed: &[&str]) -> R<()> {
        for (k, _) in &self.entries {
            if !allowed.contains(&k.as_str()) {
                let message = match suggest(k, allowed) {
                    Some(s) => format!("unknown key `{k}`; did you mean `{s}`?"),
                    None => format!(
                        "unknown key `{k}` (expected one of: {})",
                        allowed.join(", ")
                    ),
                };
                return Err(self.key_error(k, message));
            }
        }
        Ok(())
    }

    pub fn key_error(&self, key: &str, message: impl Into<String>) -> Fail {
        let mut path = self.path.clone();
        path.push(Seg::Key(key.to_string()));
        Fail {
            pos: Pos { path, at_key: true },
            message: message.into(),
        }
    }

    /// The value of `key`; a null value counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .find(|(k, v)| k == key && !v.is_null())
            .map(|(_, v)| *v)
    }

    /// The error for a missing required key, pointing at the map.
    pub fn missing<T>(&self, key: &str, what: &str) -> R<T> {
        Err(Fail {
            pos: Pos {
                path: self.path.clone(),
                at_key: false,
            },
            message: format!("missing key `{key}` ({what})"),
        })
    }

    pub fn child_path(&self, key: &str) -> PathBuf {
        let mut p = self.path.clone();
        p.push(Seg::Key(key.to_string()));
        p
    }
}

/// Path of item `i` below `path`.
pub fn index_path(path: &[Seg], i: usize) -> PathBuf {
    let mut p = path.to_vec();
    p.push(Seg::Index(i));
    p
}

// ---- locating a path in the text ----

const HERE: &str = "\u{0}swarmsim-locate";

struct Locate<'p> {
    path: &'p [Seg],
    at_key: bool,
}

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

fn here<E: de::Error>() -> E {
    E::custom(HERE)
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(here())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(here())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(here())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(here())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(here())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(here())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(here())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(here())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if let Some((Seg::Key(want), rest)) = self.path.split_first() {
            let fail_on_key = rest.is_empty() && self.at_key;
            while let Some(matched) = map.next_key_seed(KeySeed {
                want,
                fail: fail_on_key,
            })? {
                if matched {
                    map.next_value_seed(Locate {
                        path: rest,
                        at_key: self.at_key,
                    })?;
                    break;
                }
                map.next_value::<IgnoredAny>()?;
            }
        }
        Err(here())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some((Seg::Index(i), rest)) = self.path.split_first() {
            for _ in 0..*i {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Err(here());
                }
            }
            seq.next_element_seed(Locate {
                path: rest,
                at_key: self.at_key,
            })?;
        }
        Err(here())
    }
}

/// Reads a map key; `true` if it is the wanted one (or fails there when
/// the key itself is the target).
struct KeySeed<'w> {
    want: &'w str,
    fail: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl KeySeed<'_> {
    fn check<E: de::Error>(&self, text: &str) -> Result<bool, E> {
        if text == self.want {
            if self.fail {
                return Err(here());
            }
            return Ok(true);
        }
        Ok(false)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.check(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.check(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.check(&serde_yaml::Number::from(v).to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.check("null")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// Line and column (1-based) of `pos` in `text`: of the value (or key)
/// it names, or of its nearest enclosing node that exists.
pub fn locate(text: &str, pos: &Pos) -> Option<(usize, usize)> {
    let de = serde_yaml::Deserializer::from_str(text);
    let err = Locate {
        path: &pos.path,
        at_key: pos.at_key,
    }
    .deserialize(de)
    .err()?;
    let loc = err.location()?;
    Some((loc.line(), loc.column()))
}

/// 1-based lines of the items of the top-level block sequence `key`,
/// found by scanning the text; `None` when the layout is not a plain
/// block sequence with `count` items (the caller then falls back to
/// [`locate`]).
pub fn block_sequence_lines(text: &str, key: &str, count: usize) -> Option<Vec<usize>> {
    let lines: Vec<&str> = text.lines().collect();
    let prefix = format!("{key}:");
    let start = lines.iter().position(|l| {
        l.strip_prefix(&prefix)
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
    })?;
    let mut out = Vec::new();
    let mut dash_indent: Option<usize> = None;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match dash_indent {
            None if is_item => {
                dash_indent = Some(indent);
                out.push(i + 1);
            }
            None => return None,
            Some(d) if indent == d && is_item => out.push(i + 1),
            Some(d) if indent <= d => break,
            Some(_) => {}
        }
    }
    (out.len() == count).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_string())
    }

    #[test]
    fn locates_values_keys_and_items() {
        let text = "a: 1\nb:\n  c: [x, {d: 5}]\n  e:\n    - f: 1\n      g: hello\n";
        let at = |path: Vec<Seg>, at_key: bool| locate(text, &Pos { path, at_key });
        assert_eq!(
            at(vec![key("b"), key("c"), Seg::Index(1), key("d")], false),
            Some((3, 14))
        );
        assert_eq!(
            at(vec![key("b"), key("e"), Seg::Index(0), key("g")], true),
            Some((6, 7))
        );
        assert_eq!(
            at(vec![key("b"), key("e"), Seg::Index(0), key("g")], false),
            Some((6, 10))
        );
        assert_eq!(
            at(vec![key("b"), key("e"), Seg::Index(0)], false),
            Some((5, 7))
        );
        // A missing key points at the enclosing map.
        assert_eq!(at(vec![key("b"), key("zz")], false), Some((3, 3)));
        assert_eq!(at(vec![key("a")], true), Some((1, 1)));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("replicaz", &["mode", "replicas"]), Some("replicas"));
        assert_eq!(
            suggest("update-config", &["update_config"]),
            Some("update_config")
        );
        assert_eq!(suggest("zzz", &["mode", "replicas"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn scans_block_sequence_lines() {
        let text = "name: x\ntimeline:\n  # c\n  - at: 0s\n    docker: |\n      - not an item\n  - at: 1s\nexpect: 1\n";
        assert_eq!(block_sequence_lines(text, "timeline", 2), Some(vec![4, 7]));
        assert_eq!(block_sequence_lines(text, "timeline", 3), None);
        assert_eq!(block_sequence_lines("timeline: []\n", "timeline", 0), None);
        let text = "timeline:\n- at: 0s\n- at: 1s\n";
        assert_eq!(block_sequence_lines(text, "timeline", 2), Some(vec![2, 3]));
    }
}

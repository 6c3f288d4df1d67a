//! `swarmsim check PATH...`: runs the `expect:` items of scenario files
//! (folders are searched for `*.yaml` / `*.yml` files with an `expect:`
//! key), prints one line per scenario, optionally writes JUnit XML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use super::RegressError;
use super::eval::{ExpectResult, evaluate};
use crate::scenario;

/// The outcome of one scenario file.
#[derive(Debug)]
pub struct FileResult {
    pub file: PathBuf,
    pub seconds: f64,
    /// `Err`: the file could not be used (bad input).
    pub results: Result<Vec<ExpectResult>, RegressError>,
}

impl FileResult {
    pub fn failed(&self) -> usize {
        match &self.results {
            Ok(r) => r.iter().filter(|e| !e.passed()).count(),
            Err(_) => 0,
        }
    }
}

/// The scenario files to check: files as given; folders searched
/// recursively (sorted) for YAML files with a top-level `expect:`.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RegressError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut seen = std::collections::BTreeSet::new();
            walk(p, &mut out, &mut seen).map_err(|source| RegressError::Walk {
                path: p.clone(),
                source,
            })?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(RegressError::NotFound(p.clone()));
        }
    }
    Ok(out)
}

/// Walks `dir`; a folder reached twice (through symbolic links, e.g. a
/// link to `.`) is walked once, so a cycle of links ends.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::BTreeSet<PathBuf>,
) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, seen)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") && has_expect(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Whether the file is YAML with a top-level `expect` key (files that do
/// not parse are included, so that their error is reported).
fn has_expect(p: &Path) -> bool {
    let Ok(text) = crate::fsio::read_text(p) else {
        return true;
    };
    match crate::scenario::parse_yaml(&text) {
        Ok(serde_yaml::Value::Mapping(m)) => m.contains_key("expect"),
        Ok(_) => false,
        Err(_) => true,
    }
}

/// Loads and checks one scenario file.
pub fn check_file(path: &Path) -> FileResult {
    let start = Instant::now();
    let results = match scenario::load(path) {
        Ok(s) if s.expect.is_empty() => Err(RegressError::NothingToCheck(path.to_path_buf())),
        Ok(s) => Ok(evaluate(&Rc::new(s), None, None)),
        Err(e) => Err(e.into()),
    };
    FileResult {
        file: path.to_path_buf(),
        seconds: start.elapsed().as_secs_f64(),
        results,
    }
}

/// The line printed for a file, plus failure details below it.
pub fn report_line(r: &FileResult) -> String {
    let file = r.file.display().to_string();
    match &r.results {
        Err(msg) => format!("ERROR {file} ({:.2}s)\n  error: {msg}\n", r.seconds),
        Ok(results) => {
            let failed = r.failed();
            let mut out = if failed == 0 {
                format!(
                    "PASS  {file} ({} expectation{}, {:.2}s)\n",
                    results.len(),
                    if results.len() == 1 { "" } else { "s" },
                    r.seconds
                )
            } else {
                format!(
                    "FAIL  {file} ({failed} of {} expectations failed, {:.2}s)\n",
                    results.len(),
                    r.seconds
                )
            };
            for e in results.iter().filter(|e| !e.passed()) {
                for line in e.render(&file).lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            out
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `<testsuite>` per scenario file, one `<testcase>` per
/// expectation (`<failure>` with the report when it failed); a file that
/// could not be loaded is one `<testcase name="load">` with an `<error>`.
pub fn junit(results: &[FileResult]) -> String {
    let mut tests = 0;
    let mut failures = 0;
    let mut errors = 0;
    let mut time = 0.0;
    let mut suites = String::new();
    for r in results {
        let file = r.file.display().to_string();
        let name = xml_escape(&file);
        time += r.seconds;
        match &r.results {
            Err(msg) => {
                tests += 1;
                errors += 1;
                let _ = writeln!(
                    suites,
                    "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"{:.3}\">",
                    r.seconds
                );
                let _ = writeln!(
                    suites,
                    "    <testcase classname=\"{name}\" name=\"load\" time=\"{:.3}\">\n      <error message=\"{}\">{}</error>\n    </testcase>",
                    r.seconds,
                    xml_escape(&msg.to_string()),
                    xml_escape(&msg.to_string())
                );
            }
            Ok(list) => {
                let f = r.failed();
                tests += list.len();
                failures += f;
                let _ = writeln!(
                    suites,
                    "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" time=\"{:.3}\">",
                    list.len(),
                    r.seconds
                );
                let each = if list.is_empty() {
                    0.0
                } else {
                    r.seconds / list.len() as f64
                };
                for e in list {
                    let case = xml_escape(&format!("expect[{}] {}", e.number, e.title));
                    if e.passed() {
                        let _ = writeln!(
                            suites,
                            "    <testcase classname=\"{name}\" name=\"{case}\" time=\"{each:.3}\"/>"
                        );
                    } else {
                        let first = &e.failures[0];
                        let message = format!(
                            "{}: expected {}, observed {}",
                            first.what, first.expected, first.observed
                        );
                        let _ = writeln!(
                            suites,
                            "    <testcase classname=\"{name}\" name=\"{case}\" time=\"{each:.3}\">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                            xml_escape(&message),
                            xml_escape(&e.render(&file))
                        );
                    }
                }
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"swarmsim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n{suites}</testsuites>\n"
    )
}

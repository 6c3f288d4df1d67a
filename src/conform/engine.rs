//! The real engine: the Engine API over its unix socket (for polling, no
//! process per poll) and the docker CLI (for the scenario's own commands).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::error::{bail, unexpected};
use super::{Context, Result};
use serde_json::Value;

/// Engine API version spoken; 1.41 is Docker 20.10's.
const API: &str = "v1.41";

/// A node as the engine reports it: (hostname, state, availability, label
/// keys).
pub type NodeInfo = (String, String, String, Vec<String>);

pub struct Engine {
    pub socket: PathBuf,
    /// The docker CLI binary run for the scenario's commands.
    pub docker: PathBuf,
}

/// What one CLI command printed.
pub struct CliOutput {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Engine {
    /// The engine named by `DOCKER_HOST` (`unix://PATH` only).
    pub fn from_env(docker: PathBuf) -> Result<Engine> {
        let host = std::env::var("DOCKER_HOST")
            .map_err(|_| unexpected!("DOCKER_HOST is not set; start an engine with conformance/engine.sh start and export DOCKER_HOST (see conformance/README.md)"))?;
        let Some(path) = host.strip_prefix("unix://") else {
            bail!("DOCKER_HOST must be unix://SOCKET, got {host}");
        };
        let engine = Engine {
            socket: PathBuf::from(path),
            docker,
        };
        engine.get("/_ping").context("the engine does not answer")?;
        Ok(engine)
    }

    /// `GET path` on the Engine API; the JSON body.
    pub fn get(&self, path: &str) -> Result<Value> {
        let mut s = UnixStream::connect(&self.socket)
            .with_context(|| format!("connect {}", self.socket.display()))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        // HTTP/1.0: the body ends with the connection, never chunked.
        write!(s, "GET /{API}{path} HTTP/1.0\r\nHost: docker\r\n\r\n")?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| unexpected!("bad HTTP answer for {path}"))?;
        let status = head.lines().next().unwrap_or("");
        if !status.contains(" 200 ") {
            bail!("GET {path}: {status}: {}", body.trim());
        }
        if path == "/_ping" {
            return Ok(Value::String(body.to_string()));
        }
        serde_json::from_str(body).with_context(|| format!("GET {path}: bad JSON"))
    }

    /// Runs the docker CLI with `args` (without the leading `docker`).
    pub fn cli(&self, args: &[String]) -> Result<CliOutput> {
        let out = Command::new(&self.docker)
            .args(args)
            .env("DOCKER_HOST", format!("unix://{}", self.socket.display()))
            .output()
            .with_context(|| format!("run {}", self.docker.display()))?;
        Ok(CliOutput {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        })
    }

    /// `Server: <version>, client: <version>` as `docker version` says.
    pub fn version(&self) -> String {
        let args = [
            "version".to_string(),
            "--format".to_string(),
            "engine {{.Server.Version}} (API {{.Server.APIVersion}}), CLI {{.Client.Version}}"
                .to_string(),
        ];
        match self.cli(&args) {
            Ok(o) if o.code == 0 => o.stdout.trim().to_string(),
            _ => "unknown".to_string(),
        }
    }

    /// The engine's node hostname (what `service ps` prints as NODE).
    pub fn hostname(&self) -> Result<String> {
        let info = self.get("/info")?;
        Ok(info["Name"].as_str().unwrap_or("").to_string())
    }

    /// The swarm's nodes by hostname: (hostname, state, availability,
    /// label keys).
    pub fn nodes(&self) -> Result<Vec<NodeInfo>> {
        let nodes = self.get("/nodes")?;
        Ok(nodes
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                let s = |v: &Value| v.as_str().unwrap_or("").to_string();
                let labels = n["Spec"]["Labels"]
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                (
                    s(&n["Description"]["Hostname"]),
                    s(&n["Status"]["State"]),
                    s(&n["Spec"]["Availability"]),
                    labels,
                )
            })
            .collect())
    }

    /// Puts the nodes back as a scenario expects them: every node active,
    /// without labels, and ready (waiting up to 60 s for nodes that were
    /// started again).
    pub fn reset_nodes(&self) -> Result<()> {
        for (host, _, avail, labels) in self.nodes()? {
            let mut args = vec!["node".to_string(), "update".to_string()];
            if avail != "active" {
                args.extend(["--availability".to_string(), "active".to_string()]);
            }
            for l in labels {
                args.extend(["--label-rm".to_string(), l]);
            }
            if args.len() > 2 {
                args.push(host);
                self.cli(&args)?;
            }
        }
        for _ in 0..600 {
            if self.nodes()?.iter().all(|n| n.1 == "ready") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("some nodes are not ready after 60 s")
    }

    /// Removes every service and waits until their tasks and containers
    /// are gone, so that each scenario starts on an empty swarm.
    pub fn clean(&self) -> Result<()> {
        let services = self.get("/services")?;
        let names: Vec<String> = services
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Spec"]["Name"].as_str().map(str::to_string))
            .collect();
        if !names.is_empty() {
            let mut args = vec!["service".to_string(), "rm".to_string()];
            args.extend(names);
            self.cli(&args)?;
        }
        for _ in 0..600 {
            let tasks = self.get("/tasks")?;
            let containers = self.get("/containers/json?all=1")?;
            let empty = |v: &Value| v.as_array().is_none_or(|a| a.is_empty());
            if empty(&tasks) && empty(&containers) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("services removed but tasks or containers are still there after 60 s")
    }
}

/// RFC 3339 time as the engine prints it (`2026-11-25T21:21:49.074508585Z`)
/// → nanoseconds since the Unix epoch. `0001-01-01T00:00:00Z` (Go's zero
/// time) gives `None`.
pub fn parse_time(s: &str) -> Option<i128> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if y <= 1 {
        return None;
    }
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let mut frac_ns: i128 = 0;
    let digits: String = frac.chars().take(9).collect();
    if !digits.is_empty() {
        frac_ns = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    // Days from civil (H. Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(secs as i128 * 1_000_000_000 + frac_ns)
}

/// Splits a `docker:` line into words with the same rules the scenario
/// loader uses (`docker_cli::split_words`).
pub fn split_words(line: &str) -> Result<Vec<String>> {
    crate::docker::cli::split_words(line).map_err(|e| unexpected!("{e}: {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_engine_times() {
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(
            parse_time("2026-11-25T21:21:49.074508585Z"),
            Some(1_795_641_709_074_508_585)
        );
        assert_eq!(parse_time("0001-01-01T00:00:00Z"), None);
    }

    #[test]
    fn splits_quoted_words() {
        let w = split_words(r#"docker service create --health-cmd "test -e /x" 'a b' c"#).unwrap();
        assert_eq!(
            w,
            [
                "docker",
                "service",
                "create",
                "--health-cmd",
                "test -e /x",
                "a b",
                "c"
            ]
        );
    }
}

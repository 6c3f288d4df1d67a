//! Limits on what a scenario, a docker command line or a shell session may
//! ask for, so that no input makes swarmsim panic, hang or run out of
//! memory. Docker's own rules where docker has them (service names);
//! otherwise limits of the simulator, each documented in docs/limits.md
//! with the reason and how to raise it.

use crate::sim::time::{SimDuration, SimTime};

/// Nodes in a cluster, after `count` is expanded.
pub const MAX_NODES: u64 = 100_000;

/// Replicas of one replicated service (a scenario's `replicas:`,
/// `--replicas`, `docker service scale`). Each replica is a task held in
/// memory (about 3 KB with its history); the scale benchmarks go to
/// 100,000 replicas.
pub const MAX_REPLICAS: u64 = 100_000;

/// Nesting depth of `[`/`{` flow collections in a YAML input: deeper
/// documents are refused before they reach the YAML parser, whose cost
/// grows with the square of the depth (serde_yaml refuses more than 128
/// levels anyway).
pub const MAX_FLOW_NESTING: usize = 256;

/// Runs one `batch` or `sweep` invocation does (after `--shard`; a sweep
/// counts runs × cells): each run keeps a row in memory until the files
/// are written. Larger batches are split with `--shard I/N`.
pub const MAX_RUNS: u64 = 1_000_000;

/// The simulated clock never passes this instant (about 292 years, the
/// largest Go duration), so that every time prints as a Go duration.
pub const MAX_CLOCK: SimTime = SimTime::from_nanos(i64::MAX as u64);

/// A batch or sweep beyond the limits of one invocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("--runs must be at least 1")]
    NoRuns,
    #[error(
        "--seed-start {start} --runs {runs}: the seeds would pass {} (the largest seed is {})",
        u64::MAX,
        u64::MAX - 1
    )]
    SeedsOverflow { start: u64, runs: u64 },
    /// `what` is the subcommand (`batch`, `sweep`).
    #[error(
        "{what}: more than {MAX_RUNS} runs in one invocation; split the batch with --shard I/N (see docs/limits.md)"
    )]
    TooManyRuns { what: &'static str },
}

/// Checks the seeds `start..start + runs` of a batch or sweep.
pub fn check_seeds(start: u64, runs: u64) -> Result<(), LimitError> {
    if runs == 0 {
        return Err(LimitError::NoRuns);
    }
    if start.checked_add(runs).is_none() {
        return Err(LimitError::SeedsOverflow { start, runs });
    }
    Ok(())
}

/// Checks the number of runs one invocation does.
pub fn check_runs(runs: Option<u64>, what: &'static str) -> Result<(), LimitError> {
    match runs {
        Some(n) if n <= MAX_RUNS => Ok(()),
        _ => Err(LimitError::TooManyRuns { what }),
    }
}

/// The slowest `--speed` of `run --play` and `shell`: a thousandth of real
/// time (one simulated second every 16 minutes 40 seconds).
pub const MIN_SPEED: f64 = 0.001;

/// The real time to wait for `sim` simulated time at `speed` simulated
/// seconds per real second; never panics (a speed below [`MIN_SPEED`] is
/// refused by the command line before).
pub fn real_wait(sim: SimDuration, speed: f64) -> std::time::Duration {
    let s = sim.as_secs_f64() / speed.max(MIN_SPEED);
    std::time::Duration::try_from_secs_f64(s).unwrap_or(std::time::Duration::ZERO)
}

/// A service name longer than this is refused (swarmkit
/// `manager/controlapi/common.go` `validateAnnotations`: a DNS label).
pub const MAX_SERVICE_NAME: usize = 63;

/// swarmkit's check of a service name (`validateAnnotations` with
/// `isValidDNSName = ^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$`): `Err` is the
/// daemon's message (after `desc = `).
pub fn check_service_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("meta: name must be provided");
    }
    if !is_dns_name(name) {
        return Err("name must be valid as a DNS name component");
    }
    if name.len() > MAX_SERVICE_NAME {
        return Err("name must be 63 characters or fewer");
    }
    Ok(())
}

/// `^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$`: alphanumerics, with `-` and `_`
/// only between alphanumerics.
fn is_dns_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// The message for a replica count over [`MAX_REPLICAS`].
pub fn replicas_error(n: u64) -> Option<String> {
    (n > MAX_REPLICAS).then(|| {
        format!(
            "{n} replicas: swarmsim simulates at most {MAX_REPLICAS} replicas per service (see docs/limits.md)"
        )
    })
}

/// The deepest `[`/`{` nesting of a YAML text, ignoring quoted scalars
/// and comments, and the byte offset where it first exceeds `limit`.
pub fn flow_nesting_over(text: &str, limit: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut prev = b'\n';
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' if prev == b' ' || prev == b'\t' || prev == b'\n' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                prev = b'\n';
                continue;
            }
            b'"' | b'\'' if depth > 0 || matches!(prev, b' ' | b'\t' | b'\n' | b':') => {
                let q = c;
                i += 1;
                while i < b.len() && b[i] != q {
                    if q == b'"' && b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = c;
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_follow_swarmkit() {
        for ok in ["web", "a", "web-1", "my_app", "a--b", "A9"] {
            assert_eq!(check_service_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_service_name(""), Err("meta: name must be provided"));
        for bad in [
            "../../etc",
            "a;rm -rf /",
            "-web",
            "web-",
            "we b",
            "wéb",
            "_a",
        ] {
            assert_eq!(
                check_service_name(bad),
                Err("name must be valid as a DNS name component"),
                "{bad}"
            );
        }
        assert_eq!(
            check_service_name(&"a".repeat(64)),
            Err("name must be 63 characters or fewer")
        );
        assert_eq!(check_service_name(&"a".repeat(63)), Ok(()));
    }

    #[test]
    fn nesting_ignores_quotes_and_comments() {
        assert_eq!(flow_nesting_over("a: [[[x]]]", 3), None);
        assert_eq!(flow_nesting_over("a: [[[[x]]]]", 3), Some(6));
        assert_eq!(flow_nesting_over("a: '[[[[' # {{{{\nb: \"{{{{\"", 3), None);
        assert_eq!(flow_nesting_over(&"[".repeat(100_000), 256), Some(256));
    }
}

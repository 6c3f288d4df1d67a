//! `swarmsim run --fail-on OUTCOME,...`: exit statuses that tell a
//! completed update from a paused one and from one that was rolled back.
//!
//! | status | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | an expectation failed |
//! | 2 | bad input |
//! | 3 | `--fail-on paused`: an update (or a rollback) ended paused |
//! | 4 | `--fail-on rollback`: the service was rolled back (`rollback_started`, `rollback_completed` or `rollback_paused` at the end) |
//! | 5 | `--fail-on rollback_paused`: a rollback itself paused (checked first) |
//! | 6 | `--fail-on updating`: an update or rollback was still running at the end |

use crate::docker::cli::InvalidArgument;
use crate::report::results::Summary;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paused,
    Rollback,
    RollbackPaused,
    Updating,
}

pub const OUTCOMES: &[&str] = &["paused", "rollback", "rollback_paused", "updating"];

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "paused" => Some(Outcome::Paused),
            "rollback" => Some(Outcome::Rollback),
            "rollback_paused" => Some(Outcome::RollbackPaused),
            "updating" => Some(Outcome::Updating),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Paused => "paused",
            Outcome::Rollback => "rollback",
            Outcome::RollbackPaused => "rollback_paused",
            Outcome::Updating => "updating",
        }
    }

    /// The exit status of this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Paused => 3,
            Outcome::Rollback => 4,
            Outcome::RollbackPaused => 5,
            Outcome::Updating => 6,
        }
    }

    /// Whether a final update state is this outcome.
    fn matches(self, state: &str) -> bool {
        match self {
            Outcome::Paused => matches!(state, "paused" | "rollback_paused"),
            Outcome::Rollback => matches!(
                state,
                "rollback_started" | "rollback_completed" | "rollback_paused"
            ),
            Outcome::RollbackPaused => state == "rollback_paused",
            Outcome::Updating => matches!(state, "updating" | "rollback_started"),
        }
    }
}

/// Parses `--fail-on a,b,c`.
pub fn parse_list(text: &str) -> Result<Vec<Outcome>, InvalidArgument> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match Outcome::parse(word) {
            Some(o) => out.push(o),
            None => {
                return Err(InvalidArgument::new(
                    text,
                    "--fail-on",
                    format!(
                        "unknown outcome `{word}` (expected {})",
                        OUTCOMES.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The outcomes of `wanted` that happened, in table order, each with the
/// service and its final update state and message.
pub fn occurred(summary: &Summary, wanted: &[Outcome]) -> Vec<(Outcome, String)> {
    let mut hits = Vec::new();
    // The most specific outcome first.
    for o in [
        Outcome::RollbackPaused,
        Outcome::Paused,
        Outcome::Rollback,
        Outcome::Updating,
    ] {
        if !wanted.contains(&o) {
            continue;
        }
        for (name, svc) in &summary.services {
            let Some(state) = svc.update_state.as_deref() else {
                continue;
            };
            // A rollback still running counts as `updating`, not as a
            // finished rollback.
            let state_ok = if o == Outcome::Rollback && state == "rollback_started" {
                !wanted.contains(&Outcome::Updating)
            } else {
                true
            };
            if o.matches(state) && state_ok {
                hits.push((
                    o,
                    format!(
                        "{name}: update state {state} \"{}\"",
                        svc.update_message.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
    }
    hits
}

//! Named mutations of the simulator, to test the conformance suite itself
//! (conformance/README.md, "Mutants"): each is a deliberate bug, compiled
//! in and switched on by `SWARMSIM_MUTANT=<name>`, that the suite must
//! catch against the real engine's recordings (`conformance/mutants.sh`).
//! The variable is read here and nowhere else; without it (every normal
//! run) no mutant is on and the simulator is unchanged.

use std::sync::OnceLock;

/// Every mutant: name and the bug it plants.
pub const MUTANTS: &[(&str, &str)] = &[
    (
        "no-delay-at-parallelism-0",
        "mutant A: an update with parallelism 0 never sleeps its Delay (src/swarm/updater.rs, worker_slot_done)",
    ),
    (
        "scale-down-keeps-highest",
        "mutant B: a scale-down removes the lowest slots, keeping the highest (src/swarm/orchestrator/replicated.rs)",
    ),
    (
        "watch-without-delay-plus-1s",
        "the final watch stays Monitor when Delay >= Monitor, instead of Delay + 1s (src/swarm/updater.rs)",
    ),
    (
        "failure-ratio-ge",
        "the failure ratio trips at failures/slots >= max_failure_ratio instead of > (src/swarm/updater.rs)",
    ),
    (
        "start-first-as-stop-first",
        "--update-order start-first is treated as stop-first (src/swarm/updater.rs)",
    ),
    (
        "no-restart-delay",
        "the restart policy's delay is ignored: replacements start at once (src/swarm/restart.rs)",
    ),
];

/// The mutant named by `SWARMSIM_MUTANT`, if any (empty = none).
pub fn active() -> Option<&'static str> {
    static ACTIVE: OnceLock<Option<String>> = OnceLock::new();
    ACTIVE
        .get_or_init(|| {
            std::env::var("SWARMSIM_MUTANT")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .as_deref()
}

/// Whether the mutant `name` (one of [`MUTANTS`]) is on.
pub fn on(name: &str) -> bool {
    debug_assert!(MUTANTS.iter().any(|(n, _)| *n == name), "no mutant {name}");
    active() == Some(name)
}

/// `SWARMSIM_MUTANT` names no mutant; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "SWARMSIM_MUTANT={}: no such mutant (known: {})",
    .0,
    MUTANTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
)]
pub struct UnknownMutant(pub String);

/// An error naming the known mutants when `SWARMSIM_MUTANT` names none.
pub fn check() -> Result<(), UnknownMutant> {
    match active() {
        Some(m) if !MUTANTS.iter().any(|(n, _)| *n == m) => Err(UnknownMutant(m.to_string())),
        _ => Ok(()),
    }
}

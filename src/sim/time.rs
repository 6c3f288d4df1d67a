//! Simulated time: an integer count of nanoseconds, like Go's `time.Duration`.
//!
//! Nothing in the engine uses floating-point time. Reading and writing
//! durations the way Go and docker do (`10s`, `1m30s`, `About a minute`)
//! is the docker front end's business: see `crate::docker::duration`.

/// An instant of simulated time, in nanoseconds since the start of the run.
pub type SimTime = u64;
/// A span of simulated time, in nanoseconds.
pub type SimDuration = u64;

pub const NANOS_PER_MICRO: u64 = 1_000;
pub const NANOS_PER_MILLI: u64 = 1_000_000;
pub const NANOS_PER_SEC: u64 = 1_000_000_000;
pub const NANOS_PER_MIN: u64 = 60 * NANOS_PER_SEC;
pub const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MIN;

/// Seconds to nanoseconds.
pub const fn secs(s: u64) -> SimDuration {
    s * NANOS_PER_SEC
}

/// Milliseconds to nanoseconds.
pub const fn millis(ms: u64) -> SimDuration {
    ms * NANOS_PER_MILLI
}

/// Seconds with exactly three decimals (`75.000`), for CSV and JSON.
pub fn format_secs3(t: SimTime) -> String {
    let ms = t / NANOS_PER_MILLI;
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Seconds as a JSON number, rounded to the millisecond.
pub fn secs_f64(t: SimTime) -> f64 {
    (t / NANOS_PER_MILLI) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_decimals() {
        assert_eq!(format_secs3(secs(75)), "75.000");
        assert_eq!(format_secs3(millis(101_500)), "101.500");
    }
}

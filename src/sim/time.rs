//! Simulated time: an integer count of nanoseconds, like Go's `time.Duration`.
//!
//! Nothing in the engine uses floating-point time. Reading and writing
//! durations the way Go and docker do (`10s`, `1m30s`, `About a minute`)
//! is the docker front end's business: see `crate::docker::duration`.

//! Two types, nexosim's habit: an instant ([`SimTime`]) is not a span
//! ([`SimDuration`]). An instant plus a span is an instant; an instant
//! minus an instant is a span; two instants cannot be added. Both are
//! `#[repr(transparent)]` over `u64` nanoseconds, so they cost nothing.
//! Arithmetic keeps `u64`'s semantics (overflow panics in debug builds);
//! the `saturating_*` and `checked_*` forms say where the code relies on a
//! floor or a check.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, Rem, Sub, SubAssign};

use serde::Serialize;

pub const NANOS_PER_MICRO: u64 = 1_000;
pub const NANOS_PER_MILLI: u64 = 1_000_000;
pub const NANOS_PER_SEC: u64 = 1_000_000_000;
pub const NANOS_PER_MIN: u64 = 60 * NANOS_PER_SEC;
pub const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MIN;

/// An instant of simulated time: nanoseconds since the start of the run.
/// Serializes as that number of nanoseconds.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds (never negative: signed Go
/// durations stop at the parsers in `crate::docker::duration`).
/// Serializes as that number of nanoseconds.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The last representable instant.
    pub const MAX: SimTime = SimTime(u64::MAX);

    #[inline]
    pub const fn from_nanos(ns: u64) -> SimTime {
        SimTime(ns)
    }

    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The instant `d` after the start of the run.
    #[inline]
    pub const fn at(d: SimDuration) -> SimTime {
        SimTime(d.0)
    }

    /// The time elapsed from the start of the run to this instant.
    #[inline]
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// `self - earlier`, or zero when `earlier` is later (std's
    /// `Instant::saturating_duration_since`).
    #[inline]
    pub const fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self - earlier`, or `None` when `earlier` is later.
    #[inline]
    pub const fn checked_duration_since(self, earlier: SimTime) -> Option<SimDuration> {
        match self.0.checked_sub(earlier.0) {
            Some(ns) => Some(SimDuration(ns)),
            None => None,
        }
    }

    /// `self - d`, or the start of the run when `d` reaches before it.
    #[inline]
    pub const fn saturating_sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }

    /// `self + d`, or [`SimTime::MAX`] on overflow.
    #[inline]
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// `self + d`, or `None` on overflow.
    #[inline]
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(ns) => Some(SimTime(ns)),
            None => None,
        }
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    #[inline]
    pub const fn from_nanos(ns: u64) -> SimDuration {
        SimDuration(ns)
    }

    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    #[inline]
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NANOS_PER_SEC)
    }

    #[inline]
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * NANOS_PER_MILLI)
    }

    /// How many `unit` spans cover `self`, the last one rounded up.
    #[inline]
    pub const fn div_ceil(self, unit: SimDuration) -> u64 {
        self.0.div_ceil(unit.0)
    }

    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Seconds as a float (recorded traces, summaries) rounded to the
    /// nearest nanosecond; negative and NaN give zero, values past
    /// `u64::MAX` nanoseconds saturate (`as` semantics).
    #[inline]
    pub fn from_secs_f64(s: f64) -> SimDuration {
        SimDuration((s * 1e9).round() as u64)
    }

    /// Seconds as a float, for output and statistics only.
    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    #[inline]
    pub const fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }

    #[inline]
    pub const fn saturating_add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }

    #[inline]
    pub const fn saturating_mul(self, n: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }

    #[inline]
    pub const fn checked_add(self, other: SimDuration) -> Option<SimDuration> {
        match self.0.checked_add(other.0) {
            Some(ns) => Some(SimDuration(ns)),
            None => None,
        }
    }

    #[inline]
    pub const fn checked_mul(self, n: u64) -> Option<SimDuration> {
        match self.0.checked_mul(n) {
            Some(ns) => Some(SimDuration(ns)),
            None => None,
        }
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimTime({}ns)", self.0)
    }
}

impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimDuration({}ns)", self.0)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    #[inline]
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}

impl AddAssign<SimDuration> for SimTime {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    #[inline]
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0 - d.0)
    }
}

impl SubAssign<SimDuration> for SimTime {
    #[inline]
    fn sub_assign(&mut self, d: SimDuration) {
        self.0 -= d.0;
    }
}

/// The span between two instants; like `u64` subtraction, an earlier
/// minus a later instant is a bug (it panics in debug builds).
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    #[inline]
    fn sub(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0 - earlier.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0 + other.0)
    }
}

impl AddAssign for SimDuration {
    #[inline]
    fn add_assign(&mut self, other: SimDuration) {
        self.0 += other.0;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0 - other.0)
    }
}

impl SubAssign for SimDuration {
    #[inline]
    fn sub_assign(&mut self, other: SimDuration) {
        self.0 -= other.0;
    }
}

impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn mul(self, n: u64) -> SimDuration {
        SimDuration(self.0 * n)
    }
}

impl Div<u64> for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn div(self, n: u64) -> SimDuration {
        SimDuration(self.0 / n)
    }
}

/// How many whole `other` spans fit in `self`.
impl Div for SimDuration {
    type Output = u64;
    #[inline]
    fn div(self, other: SimDuration) -> u64 {
        self.0 / other.0
    }
}

impl Rem for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn rem(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0 % other.0)
    }
}

impl Sum for SimDuration {
    fn sum<I: Iterator<Item = SimDuration>>(iter: I) -> SimDuration {
        iter.fold(SimDuration::ZERO, |a, b| a + b)
    }
}

/// Seconds to a span.
#[inline]
pub const fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

/// Milliseconds to a span.
#[inline]
pub const fn millis(ms: u64) -> SimDuration {
    SimDuration::from_millis(ms)
}

/// Seconds with exactly three decimals (`75.000`), for CSV and JSON.
pub fn format_secs3(t: SimTime) -> String {
    Secs3::new(t).as_str().to_owned()
}

/// Seconds with exactly three decimals (`{}.{:03}` of the whole seconds
/// and the milliseconds) in a stack buffer: what `events.csv` and
/// `runs.csv` write per row without formatting machinery.
pub struct Secs3 {
    buf: [u8; 24],
    len: usize,
}

impl Secs3 {
    pub fn new(t: SimTime) -> Secs3 {
        Secs3::from_millis(t.as_nanos() / NANOS_PER_MILLI)
    }

    pub fn from_millis(ms: u64) -> Secs3 {
        let mut buf = [0u8; 24];
        let mut whole = itoa::Buffer::new();
        let whole = whole.format(ms / 1000).as_bytes();
        let f = ms % 1000;
        let n = whole.len();
        buf[..n].copy_from_slice(whole);
        let digit = |d: u64| b'0' + d as u8;
        buf[n..n + 4].copy_from_slice(&[b'.', digit(f / 100), digit(f / 10 % 10), digit(f % 10)]);
        Secs3 { buf, len: n + 4 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("decimal digits are ASCII")
    }
}

/// Seconds as a JSON number, rounded to the millisecond.
pub fn secs_f64(t: SimTime) -> f64 {
    (t.as_nanos() / NANOS_PER_MILLI) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs3_is_whole_seconds_and_three_decimals() {
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
            u64::MAX,
        ] {
            let expected = format!("{}.{:03}", ms / 1000, ms % 1000);
            assert_eq!(Secs3::from_millis(ms).as_str(), expected);
        }
    }

    #[test]
    fn three_decimals() {
        assert_eq!(format_secs3(SimTime::at(secs(75))), "75.000");
        assert_eq!(format_secs3(SimTime::at(millis(101_500))), "101.500");
    }

    #[test]
    fn instants_and_spans() {
        let t = SimTime::at(secs(10));
        assert_eq!(t + millis(500), SimTime::from_nanos(10_500_000_000));
        assert_eq!((t + secs(2)) - t, secs(2));
        assert_eq!(t.saturating_duration_since(t + secs(1)), SimDuration::ZERO);
        assert_eq!(t.checked_duration_since(t + secs(1)), None);
        assert_eq!(t.saturating_sub(secs(11)), SimTime::ZERO);
        assert_eq!(t.since_start(), secs(10));
        assert_eq!(secs(3) * 2 / 3, secs(2));
        assert_eq!(secs(7) / secs(2), 3);
        assert_eq!(secs(7) % secs(2), secs(1));
        assert_eq!(millis(1500).as_secs_f64(), 1.5);
        assert_eq!(SimDuration::from_secs_f64(1.25), millis(1250));
        assert_eq!(SimDuration::from_secs_f64(1.6e-9), SimDuration(2));
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(serde_json::to_string(&t).unwrap(), "10000000000");
        assert_eq!(std::mem::size_of::<SimTime>(), 8);
    }
}

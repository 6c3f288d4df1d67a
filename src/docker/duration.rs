//! Go's `time.Duration` text and docker's `HumanDuration`: how the docker
//! CLI, swarmkit's messages and the scenario file read and write durations.
//! The kernel (`crate::sim::time`) only counts nanoseconds.

use crate::sim::time::{
    NANOS_PER_HOUR, NANOS_PER_MICRO, NANOS_PER_MILLI, NANOS_PER_MIN, NANOS_PER_SEC, SimDuration,
    SimTime,
};

/// A Go `time.Duration`: signed nanoseconds. Docker flags may be negative
/// (`--update-delay -5s` parses, then is refused by name), so the parsers
/// return this signed value and callers check the sign before it becomes a
/// [`SimDuration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub i64);

impl From<i64> for GoDuration {
    fn from(ns: i64) -> GoDuration {
        GoDuration(ns)
    }
}

impl From<SimDuration> for GoDuration {
    fn from(d: SimDuration) -> GoDuration {
        GoDuration(d.as_nanos() as i64)
    }
}

/// An instant prints as the time elapsed since the start of the run (the
/// `[1m30s]` stamps of a transcript).
impl From<SimTime> for GoDuration {
    fn from(t: SimTime) -> GoDuration {
        GoDuration(t.as_nanos() as i64)
    }
}

/// Parses a Go duration string (`time.ParseDuration`): `10s`, `1m30s`,
/// `1.5h`, `300ms`, `0`, with an optional sign. Returns signed nanoseconds,
/// or Go's own error text.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let invalid = || format!("time: invalid duration \"{orig}\"");
    let mut rest = s;
    let mut neg = false;
    if let Some(r) = rest.strip_prefix('-') {
        neg = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        // Leading integer part.
        let int_len = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        let mut had_dot = false;
        if let Some(r) = rest.strip_prefix('.') {
            had_dot = true;
            let frac_len = r.bytes().take_while(|b| b.is_ascii_digit()).count();
            frac_part = &r[..frac_len];
            rest = &r[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            // No digits at all (e.g. ".s" or a bare unit).
            return Err(invalid());
        }
        let _ = had_dot;
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration \"{orig}\""));
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => NANOS_PER_MICRO as u128,
            "ms" => NANOS_PER_MILLI as u128,
            "s" => NANOS_PER_SEC as u128,
            "m" => NANOS_PER_MIN as u128,
            "h" => NANOS_PER_HOUR as u128,
            _ => {
                return Err(format!(
                    "time: unknown unit \"{unit}\" in duration \"{orig}\""
                ));
            }
        };
        let int_val: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse::<u128>().map_err(|_| invalid())?
        };
        let mut value = int_val.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // Go truncates the fraction to the unit's resolution.
            let mut num: u128 = 0;
            let mut den: u128 = 1;
            for d in frac_part.bytes().take(30) {
                num = num * 10 + u128::from(d - b'0');
                den *= 10;
            }
            value += num * scale / den;
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i64::MAX as u128 + u128::from(neg) {
            return Err(invalid());
        }
    }
    let total = total as i128;
    Ok(if neg { (-total) as i64 } else { total as i64 })
}

/// Parses a Go duration that must not be negative.
pub fn parse_duration_nonneg(s: &str) -> Result<SimDuration, String> {
    let v = parse_go_duration(s)?;
    if v < 0 {
        return Err(format!("duration {s} cannot be negative"));
    }
    Ok(SimDuration::from_nanos(v as u64))
}

/// Formats like Go's `time.Duration.String()`: `0s`, `300ms`, `1.5s`,
/// `1m30s`, `1h0m0s`.
pub fn format_go_duration(d: impl Into<GoDuration>) -> String {
    let GoDuration(d) = d.into();
    if d == 0 {
        return "0s".to_string();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if u < NANOS_PER_SEC {
        // One unit with a fraction.
        let (unit, scale) = if u < NANOS_PER_MICRO {
            ("ns", 1)
        } else if u < NANOS_PER_MILLI {
            ("\u{b5}s", NANOS_PER_MICRO)
        } else {
            ("ms", NANOS_PER_MILLI)
        };
        out.push_str(&format_frac(u, scale));
        out.push_str(unit);
        return out;
    }
    let hours = u / NANOS_PER_HOUR;
    let mins = (u % NANOS_PER_HOUR) / NANOS_PER_MIN;
    let rem = u % NANOS_PER_MIN;
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || mins > 0 {
        out.push_str(&format!("{mins}m"));
    }
    out.push_str(&format_frac(rem, NANOS_PER_SEC));
    out.push('s');
    out
}

/// `value / scale` with the fraction's trailing zeros removed.
fn format_frac(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// docker/go-units `HumanDuration` (capitalised form, e.g. `About a minute`,
/// `Less than a second`, `37 seconds`).
pub fn human_duration(d: SimDuration) -> String {
    let d = d.as_nanos();
    let seconds = d / NANOS_PER_SEC;
    let minutes = d / NANOS_PER_MIN;
    // Go: hours := int(d.Hours() + 0.5), in integer arithmetic.
    let hours = (d + NANOS_PER_HOUR / 2) / NANOS_PER_HOUR;
    if seconds < 1 {
        "Less than a second".to_string()
    } else if seconds == 1 {
        "1 second".to_string()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".to_string()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".to_string()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", d / NANOS_PER_HOUR / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::{millis, secs};

    #[test]
    fn parses_go_examples() {
        assert_eq!(parse_go_duration("10s"), Ok(10_000_000_000));
        assert_eq!(parse_go_duration("10m30s"), Ok(630_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("2h45m"), Ok(9_900_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("0s"), Ok(0));
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_go_duration("1.s"), Ok(1_000_000_000));
        assert_eq!(parse_go_duration("+3s"), Ok(3_000_000_000));
        assert_eq!(parse_go_duration("-5s"), Ok(-5_000_000_000));
        assert_eq!(parse_go_duration("5\u{b5}s"), Ok(5_000));
        assert_eq!(parse_go_duration("5\u{3bc}s"), Ok(5_000));
        assert_eq!(parse_go_duration("2h45m0.5s"), Ok(9_900_500_000_000));
    }

    #[test]
    fn go_error_texts() {
        assert_eq!(
            parse_go_duration("10"),
            Err("time: missing unit in duration \"10\"".into())
        );
        assert_eq!(
            parse_go_duration("1d"),
            Err("time: unknown unit \"d\" in duration \"1d\"".into())
        );
        assert_eq!(
            parse_go_duration(""),
            Err("time: invalid duration \"\"".into())
        );
        assert_eq!(
            parse_go_duration("s"),
            Err("time: invalid duration \"s\"".into())
        );
        assert_eq!(
            parse_go_duration("10000000h"),
            Err("time: invalid duration \"10000000h\"".into())
        );
    }

    #[test]
    fn formats_typed_times() {
        // A span, an instant (time since the start) and a signed Go value.
        assert_eq!(format_go_duration(secs(90)), "1m30s");
        assert_eq!(format_go_duration(SimTime::at(millis(1500))), "1.5s");
        assert_eq!(format_go_duration(-5_000_000_000), "-5s");
        assert_eq!(GoDuration::from(secs(2)), GoDuration(2_000_000_000));
        assert_eq!(parse_duration_nonneg("1m30s"), Ok(secs(90)));
        assert_eq!(
            parse_duration_nonneg("-1s"),
            Err("duration -1s cannot be negative".into())
        );
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(300_000_000), "300ms");
        assert_eq!(format_go_duration(1_500_000), "1.5ms");
        assert_eq!(format_go_duration(5_000), "5\u{b5}s");
        assert_eq!(format_go_duration(10), "10ns");
        assert_eq!(format_go_duration(5_000_000_000), "5s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(90_000_000_000), "1m30s");
        assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_go_duration(36 * 3_600_000_000_000), "36h0m0s");
        assert_eq!(format_go_duration(3_660_500_000_000), "1h1m0.5s");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(millis(999)), "Less than a second");
        assert_eq!(human_duration(secs(1)), "1 second");
        assert_eq!(human_duration(secs(37)), "37 seconds");
        assert_eq!(human_duration(secs(60)), "About a minute");
        assert_eq!(human_duration(secs(119)), "About a minute");
        assert_eq!(human_duration(secs(120)), "2 minutes");
        assert_eq!(human_duration(secs(89 * 60)), "About an hour");
        assert_eq!(human_duration(secs(3 * 3600)), "3 hours");
        assert_eq!(human_duration(secs(3 * 86400)), "3 days");
    }
}

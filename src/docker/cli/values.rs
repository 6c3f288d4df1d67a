//! Value syntaxes shared by the docker CLI flags and the scenario file:
//! sizes (`RAMInBytes`), CPU counts (`ParseCPUs`), published ports
//! (`PortOpt`), placement constraints (swarmkit `constraint.Parse`) and
//! placement preferences. Error texts are docker's own.

use super::ValueError;
use crate::swarm::model::{PortConfig, PublishMode, SpreadPreference};

/// docker/go-units `RAMInBytes`: a decimal number, an optional space, an
/// optional unit prefix `k m g t p` (any case) with optional `i` and `b`;
/// multiples are binary (`512M` = 512 MiB, `8GiB` = 8 GiB, `1kb` = 1024).
pub fn parse_ram_in_bytes(s: &str) -> Result<i64, ValueError> {
    let invalid = || ValueError(format!("invalid size: '{s}'"));
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i == 0 {
        return Err(invalid());
    }
    if i < bytes.len() && bytes[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(invalid());
        }
    }
    let number = &s[..i];
    let mut rest = &s[i..];
    if let Some(r) = rest.strip_prefix(' ') {
        rest = r;
    }
    let mut chars = rest.chars().peekable();
    let mut mul: f64 = 1.0;
    if let Some(&c) = chars.peek() {
        let m = match c.to_ascii_lowercase() {
            'k' => Some(1024f64),
            'm' => Some(1024f64.powi(2)),
            'g' => Some(1024f64.powi(3)),
            't' => Some(1024f64.powi(4)),
            'p' => Some(1024f64.powi(5)),
            _ => None,
        };
        if let Some(m) = m {
            mul = m;
            chars.next();
        }
    }
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'i')) {
        chars.next();
    }
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'b')) {
        chars.next();
    }
    if chars.next().is_some() {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let bytes = value * mul;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes as i64)
}

/// docker/cli `opts.ParseCPUs`: a rational number of CPUs (`0.5`, `2`,
/// `1/4`) → nano CPUs; more than nine decimals is "too precise".
pub fn parse_cpus(s: &str) -> Result<i64, ValueError> {
    let not_rational = || ValueError(format!("failed to parse {s} as a rational number"));
    if let Some((num, den)) = s.split_once('/') {
        let n: i128 = num.parse().map_err(|_| not_rational())?;
        let d: i128 = den.parse().map_err(|_| not_rational())?;
        if d == 0 {
            return Err(not_rational());
        }
        let nano = n * 1_000_000_000;
        if nano % d != 0 {
            return Err("value is too precise".into());
        }
        return i64::try_from(nano / d).map_err(|_| not_rational());
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(not_rational());
    }
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > 9 {
        return Err("value is too precise".into());
    }
    let int_val: i128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| not_rational())?
    };
    let mut frac_val: i128 = 0;
    for (k, b) in frac_trimmed.bytes().enumerate() {
        frac_val += i128::from(b - b'0') * 10i128.pow(8 - k as u32);
    }
    let nano = int_val
        .checked_mul(1_000_000_000)
        .and_then(|v| v.checked_add(frac_val))
        .ok_or_else(not_rational)?;
    let nano = if neg { -nano } else { nano };
    i64::try_from(nano).map_err(|_| not_rational())
}

/// swarmkit `constraint.Parse` for one expression: `key==value` or
/// `key!=value`, with swarmkit's error texts.
pub fn validate_constraint(expr: &str) -> Result<(), ValueError> {
    for op in ["==", "!="] {
        let Some((key, value)) = expr.split_once(op) else {
            continue;
        };
        let key = key.trim();
        let key_ok = key.len() >= 2
            && key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !key_ok {
            return Err(format!("key '{key}' is invalid").into());
        }
        let value = value.trim();
        let value_ok = !value.is_empty()
            && value.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || c.is_whitespace()
                    || matches!(
                        c,
                        ':' | '-'
                            | '_'
                            | '.'
                            | '*'
                            | '('
                            | ')'
                            | '?'
                            | '+'
                            | '['
                            | ']'
                            | '\\'
                            | '^'
                            | '$'
                            | '|'
                            | '/'
                    )
            });
        if !value_ok {
            return Err(format!("value '{value}' is invalid").into());
        }
        return Ok(());
    }
    Err("constraint expected one operator from ==, !=".into())
}

/// docker/cli `placementPrefOpts.Set`: `spread=<descriptor>`.
pub fn parse_placement_pref(value: &str) -> Result<SpreadPreference, ValueError> {
    match value.split_once('=') {
        Some((strategy, arg)) if !strategy.is_empty() => {
            if strategy != "spread" {
                return Err(format!(
                    "unsupported placement preference {strategy} (only spread is supported)"
                )
                .into());
            }
            Ok(SpreadPreference {
                spread: arg.to_string(),
            })
        }
        _ => Err(r#"placement preference must be of the format "<strategy>=<arg>""#.into()),
    }
}

fn parse_port_number(s: &str) -> Result<u32, String> {
    s.parse::<u16>().map(u32::from).map_err(|_| {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            format!("strconv.ParseUint: parsing \"{s}\": value out of range")
        } else {
            format!("strconv.ParseUint: parsing \"{s}\": invalid syntax")
        }
    })
}

/// docker/cli `opts.PortOpt.Set`: the long syntax
/// `published=8080,target=80,protocol=tcp,mode=host` or the short syntax
/// `[PUBLISHED[-END]:]TARGET[-END][/PROTO]`. Short syntax ports are
/// published in ingress mode.
pub fn parse_port(value: &str) -> Result<Vec<PortConfig>, ValueError> {
    // docker matches `\w+=\w+` anywhere in the value.
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let chars: Vec<char> = value.chars().collect();
    let long = (1..chars.len().saturating_sub(1))
        .any(|i| chars[i] == '=' && word(chars[i - 1]) && word(chars[i + 1]));
    if long {
        let mut port = PortConfig {
            protocol: "tcp".to_string(),
            target: 0,
            published: 0,
            mode: PublishMode::Ingress,
        };
        for field in value.split(',') {
            let Some((key, val)) = field.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                return Err(format!("invalid field {field}").into());
            };
            match key {
                "protocol" => {
                    if !matches!(val, "tcp" | "udp" | "sctp") {
                        return Err(format!("invalid protocol value {val}").into());
                    }
                    port.protocol = val.to_string();
                }
                "mode" => {
                    port.mode = match val {
                        "ingress" => PublishMode::Ingress,
                        "host" => PublishMode::Host,
                        _ => return Err(format!("invalid publish mode value {val}").into()),
                    }
                }
                "target" => port.target = parse_port_number(val)?,
                "published" => port.published = parse_port_number(val)?,
                _ => return Err(format!("invalid field key {key}").into()),
            }
        }
        if port.target == 0 {
            return Err("missing mandatory field \"target\"".into());
        }
        return Ok(vec![port]);
    }
    // Short syntax (go-connections nat.ParsePortSpec, without host IPs).
    let (spec, proto) = match value.rsplit_once('/') {
        Some((s, p)) => (s, p.to_ascii_lowercase()),
        None => (value, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}").into());
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container) = match parts.as_slice() {
        [c] => ("", *c),
        [h, c] => (*h, *c),
        [_ip, _h, _c] => return Err("hostip is not supported".into()),
        _ => return Err(format!("invalid port format: {value}").into()),
    };
    let range = |s: &str| -> Option<(u32, u32)> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let a: u16 = a.parse().ok()?;
        let b: u16 = b.parse().ok()?;
        (a <= b).then_some((u32::from(a), u32::from(b)))
    };
    let (c_start, c_end) = range(container)
        .filter(|&(a, _)| a > 0)
        .ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let (h_start, h_end) = if host.is_empty() {
        (0, 0)
    } else {
        range(host).ok_or_else(|| format!("invalid hostPort: {host}"))?
    };
    let count = c_end - c_start + 1;
    if !host.is_empty() && h_end - h_start + 1 != count && h_start != h_end {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        )
        .into());
    }
    let mut out = Vec::new();
    for k in 0..count {
        let published = if host.is_empty() {
            0
        } else if h_start == h_end {
            h_start
        } else {
            h_start + k
        };
        out.push(PortConfig {
            protocol: proto.clone(),
            target: c_start + k,
            published,
            mode: PublishMode::Ingress,
        });
    }
    Ok(out)
}

/// `KEY=VALUE` or `KEY` (value empty), as docker's
/// `ConvertKVStringsToMap` splits labels.
pub fn split_kv(s: &str) -> (String, String) {
    match s.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (s.to_string(), String::new()),
    }
}

/// docker/cli `opts.ValidateLabel`.
pub fn validate_label(value: &str) -> Result<(), ValueError> {
    let key = value.split_once('=').map_or(value, |(k, _)| k);
    if key.trim().is_empty() {
        return Err(format!("invalid label '{value}': empty name").into());
    }
    Ok(())
}

/// docker/cli `opts.ValidateEnv` (a bare `KEY` is kept as is: the
/// simulator never reads the host environment).
pub fn validate_env(value: &str) -> Result<(), ValueError> {
    let key = value.split_once('=').map_or(value, |(k, _)| k);
    if key.is_empty() {
        return Err(format!("invalid environment variable: {value}").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_in_bytes_like_go_units() {
        assert_eq!(parse_ram_in_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_ram_in_bytes("8GiB"), Ok(8 << 30));
        assert_eq!(parse_ram_in_bytes("8gb"), Ok(8 << 30));
        assert_eq!(parse_ram_in_bytes("1kb"), Ok(1024));
        assert_eq!(parse_ram_in_bytes("32"), Ok(32));
        assert_eq!(parse_ram_in_bytes("1.5 k"), Ok(1536));
        assert_eq!(parse_ram_in_bytes("1b"), Ok(1));
        assert_eq!(parse_ram_in_bytes("abc"), Err("invalid size: 'abc'".into()));
        assert_eq!(parse_ram_in_bytes("12x"), Err("invalid size: '12x'".into()));
        assert_eq!(parse_ram_in_bytes(""), Err("invalid size: ''".into()));
    }

    #[test]
    fn cpus_to_nanos() {
        assert_eq!(parse_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_cpus(".25"), Ok(250_000_000));
        assert_eq!(parse_cpus("1/4"), Ok(250_000_000));
        assert_eq!(
            parse_cpus("0.0000000001"),
            Err("value is too precise".into())
        );
        assert_eq!(
            parse_cpus("one"),
            Err("failed to parse one as a rational number".into())
        );
    }

    #[test]
    fn constraints_follow_swarmkit() {
        assert_eq!(validate_constraint("node.role==worker"), Ok(()));
        assert_eq!(validate_constraint("node.labels.zone != a"), Ok(()));
        assert_eq!(
            validate_constraint("node.role=worker"),
            Err("constraint expected one operator from ==, !=".into())
        );
        assert_eq!(
            validate_constraint("n==worker"),
            Err("key 'n' is invalid".into())
        );
        assert_eq!(
            validate_constraint("node.role==wor{ker"),
            Err("value 'wor{ker' is invalid".into())
        );
        assert_eq!(
            validate_constraint("node.role=="),
            Err("value '' is invalid".into())
        );
    }

    #[test]
    fn ports_long_and_short() {
        let p = parse_port("published=8080,target=80,mode=host").unwrap();
        assert_eq!(
            p,
            vec![PortConfig {
                protocol: "tcp".into(),
                target: 80,
                published: 8080,
                mode: PublishMode::Host
            }]
        );
        let p = parse_port("8080:80/udp").unwrap();
        assert_eq!((p[0].published, p[0].target), (8080, 80));
        assert_eq!(p[0].protocol, "udp");
        assert_eq!(p[0].mode, PublishMode::Ingress);
        let p = parse_port("80").unwrap();
        assert_eq!((p[0].published, p[0].target), (0, 80));
        assert_eq!(parse_port("8080-8081:80-81").unwrap().len(), 2);
        assert_eq!(
            parse_port("published=8080"),
            Err("missing mandatory field \"target\"".into())
        );
        assert_eq!(
            parse_port("target=80,mode=x"),
            Err("invalid publish mode value x".into())
        );
        assert_eq!(
            parse_port("target=80,foo=1"),
            Err("invalid field key foo".into())
        );
        assert_eq!(
            parse_port("8080:abc"),
            Err("invalid containerPort: abc".into())
        );
    }

    #[test]
    fn placement_prefs() {
        assert_eq!(
            parse_placement_pref("spread=node.labels.zone"),
            Ok(SpreadPreference {
                spread: "node.labels.zone".into()
            })
        );
        assert_eq!(
            parse_placement_pref("binpack=x"),
            Err("unsupported placement preference binpack (only spread is supported)".into())
        );
        assert!(parse_placement_pref("spread").is_err());
    }
}

//! Small text rules of the docker CLI shared by the renderers: natural sort,
//! ellipsis, Go number formatting, byte sizes, image display names, ports.

use std::cmp::Ordering;

use unicode_width::UnicodeWidthChar;

use crate::swarm::model::{PortConfig, PublishMode};

/// Number of characters of an ID shown without `--no-trunc` (docker/cli
/// `formatter.TruncateID`, moby `stringid` `shortLen`).
pub const SHORT_ID_LEN: usize = 12;

/// First 12 characters of an ID.
pub fn truncate_id(id: &str) -> &str {
    match id.char_indices().nth(SHORT_ID_LEN) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

/// `sortorder.NaturalLess` (fvbommel/sortorder `natsort.go`) as an ordering:
/// non-digit runs compare bytewise, digit runs numerically, with fewer
/// leading zeros first on a tie; a digit sorts before a non-digit.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    if natural_less(a, b) {
        Ordering::Less
    } else if natural_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn natural_less(s1: &str, s2: &str) -> bool {
    let (a, b) = (s1.as_bytes(), s2.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (d1, d2) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if d1 != d2 {
            return d1;
        }
        if !d1 {
            if a[i] != b[j] {
                return a[i] < b[j];
            }
            i += 1;
            j += 1;
            continue;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (nz1, nz2) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (n1, n2) = (&a[nz1..i], &b[nz2..j]);
        if n1.len() != n2.len() {
            return n1.len() < n2.len();
        }
        if n1 != n2 {
            return n1 < n2;
        }
        if nz1 != nz2 {
            return nz1 < nz2;
        }
    }
    a.len() < b.len()
}

/// `formatter.Ellipsis` (docker/cli `cli/command/formatter/displayutils.go`):
/// cut `s` to `max` display columns, the last one being `…`. East Asian wide
/// and fullwidth runes count 2, every other rune 1.
pub fn ellipsis(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    if max == 1 {
        return s.chars().next().map(String::from).unwrap_or_default();
    }
    let width = |c: char| if c.width() == Some(2) { 2 } else { 1 };
    let total: usize = s.chars().map(width).sum();
    if total <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = width(c);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Go's `%v` of a float32 (`strconv.FormatFloat(v, 'g', -1, 32)`): the
/// shortest digits that round-trip (`0`, `0.2`, `0.33333334`, `1e-05`).
pub fn go_float32(v: f32) -> String {
    go_g_shortest(&format!("{v:e}"), &format!("{v}"))
}

/// Go's `%v` of a float64.
pub fn go_float64(v: f64) -> String {
    go_g_shortest(&format!("{v:e}"), &format!("{v}"))
}

/// Shared part of [`go_float32`]/[`go_float64`]. `sci` is Rust's shortest
/// `{:e}` rendering, `plain` its shortest `{}` rendering. Go's `%g` with
/// shortest precision uses the exponent form when the decimal exponent is
/// below -4 or at least 6 (strconv `%e is used if the exponent from the
/// conversion is less than -4 or greater than or equal to the precision; if
/// precision was the shortest possible, use precision 6 for this decision`),
/// writing the exponent with a sign and at least two digits (`1e-05`).
fn go_g_shortest(sci: &str, plain: &str) -> String {
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return plain.to_string();
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return plain.to_string();
    };
    let special = plain == "0" || plain == "-0" || plain.contains("inf") || plain.contains("NaN");
    if !special && !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    plain.to_string()
}

/// Go's `%.4g` for a finite non-negative value: 4 significant digits,
/// trailing zeros removed, exponent form when the exponent is < -4 or >= 4.
fn go_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let sci = format!("{v:.3e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return sci;
    };
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..4).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs());
    }
    let decimals = (3 - exp).max(0) as usize;
    trim(&format!("{v:.decimals$}"))
}

/// docker/go-units `BytesSize`: binary units (`B`, `KiB`, `MiB`, ...),
/// divided by 1024 while >= 1024, printed with `%.4g`: `512MiB`, `1.5GiB`,
/// `95.37MiB`.
pub fn bytes_size(bytes: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = bytes;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g4(size), UNITS[i])
}

/// The image as `docker service ls` / `ps` show it without `--no-trunc`:
/// a tagged reference loses its digest and is shown in familiar form
/// (`docker.io/library/nginx:1.25@sha256:…` → `nginx:1.25`); untagged or
/// unparsable references are shown unchanged (docker/cli
/// `service/formatter.go` `serviceContext.Image`, `task/formatter.go`
/// `taskContext.Image`, via `reference.ParseNormalizedNamed`).
pub fn display_image(image: &str) -> String {
    let (named, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !valid_digest(d)) {
        return image.to_string();
    }
    let last_slash = named.rfind('/').map_or(0, |i| i + 1);
    let Some(colon) = named[last_slash..].rfind(':').map(|i| i + last_slash) else {
        return image.to_string();
    };
    let (name, tag) = (&named[..colon], &named[colon + 1..]);
    if name.is_empty() || tag.is_empty() || !valid_tag(tag) {
        return image.to_string();
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let has_domain = parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost");
    let path = if has_domain { &parts[1..] } else { &parts[..] };
    if path.iter().any(|p| !valid_path_component(p)) {
        return image.to_string();
    }
    if has_domain && (parts[0] == "docker.io" || parts[0] == "index.docker.io") {
        parts.remove(0);
        if parts.len() == 2 && parts[0] == "library" {
            parts.remove(0);
        }
    }
    format!("{}:{tag}", parts.join("/"))
}

fn valid_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '.' || c == '-'))
        })
}

fn valid_path_component(p: &str) -> bool {
    !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        && p.starts_with(|c: char| c.is_ascii_alphanumeric())
        && p.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `digest.Parse` for the registered algorithms: `sha256:` + 64 lowercase
/// hex digits (96 for sha384, 128 for sha512); anything else fails.
fn valid_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    let len = match algo {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// `*:<published>-><target>/<proto>` for one port.
pub fn port_mapping(p: &PortConfig) -> String {
    format!("*:{}->{}/{}", p.published, p.target, p.protocol)
}

/// The PORTS cell of `docker service ls`: ingress ports only, sorted by
/// protocol then published port, consecutive mappings merged into ranges
/// (`*:80-81->80-81/tcp`, `*:80-81->80/tcp`), joined by `, ` (docker/cli
/// `service/formatter.go`, `serviceContext.Ports`).
pub fn ingress_ports(ports: &[PortConfig]) -> String {
    struct Range<'a> {
        p_start: u32,
        p_end: u32,
        t_start: u32,
        t_end: u32,
        proto: &'a str,
    }
    let render = |r: &Range| {
        let publ = if r.p_end > r.p_start {
            format!("{}-{}", r.p_start, r.p_end)
        } else {
            r.p_start.to_string()
        };
        let tgt = if r.t_end > r.t_start {
            format!("{}-{}", r.t_start, r.t_end)
        } else {
            r.t_start.to_string()
        };
        format!("*:{publ}->{tgt}/{}", r.proto)
    };
    let mut sorted: Vec<&PortConfig> = ports.iter().collect();
    sorted.sort_by(|a, b| {
        a.protocol
            .cmp(&b.protocol)
            .then(a.published.cmp(&b.published))
    });
    let mut out = Vec::new();
    let mut r = Range {
        p_start: 0,
        p_end: 0,
        t_start: 0,
        t_end: 0,
        proto: "",
    };
    for p in sorted
        .into_iter()
        .filter(|p| p.mode == PublishMode::Ingress)
    {
        let is_range = r.t_end != r.t_start;
        let overlaps = p.target <= r.t_end;
        // Unsigned differences wrap, as in Go.
        if p.protocol != r.proto
            || p.published.wrapping_sub(r.p_end) > 1
            || p.target.wrapping_sub(r.t_end) > 1
            || (is_range && overlaps)
        {
            if r.p_start > 0 {
                out.push(render(&r));
            }
            r = Range {
                p_start: p.published,
                p_end: p.published,
                t_start: p.target,
                t_end: p.target,
                proto: &p.protocol,
            };
            continue;
        }
        r.p_end = p.published;
        r.t_end = p.target;
    }
    if r.p_start > 0 {
        out.push(render(&r));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["web.10", "web.2", "web.1", "api.1", "web.02", "web"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["api.1", "web", "web.1", "web.2", "web.02", "web.10"]);
        assert_eq!(natural_cmp("ab1", "abc1"), Ordering::Less);
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
    }

    #[test]
    fn ellipsis_like_docker() {
        assert_eq!(
            ellipsis("no suitable node (insufficient resources on 2 nodes)", 30),
            "no suitable node (insufficien…"
        );
        assert_eq!(
            ellipsis(
                "task: non-zero exit (137): dockerexec: unhealthy container",
                30
            ),
            "task: non-zero exit (137): do…"
        );
        assert_eq!(
            ellipsis("task: non-zero exit (1)", 30),
            "task: non-zero exit (1)"
        );
        let exactly30 = "a".repeat(30);
        assert_eq!(ellipsis(&exactly30, 30), exactly30);
        // Wide runes: 14 × 2 columns = 28, the 15th would reach 30 > 29.
        let wide = "日".repeat(20);
        assert_eq!(ellipsis(&wide, 30), format!("{}…", "日".repeat(14)));
        assert_eq!(ellipsis("abc", 1), "a");
        assert_eq!(ellipsis("abc", 0), "");
    }

    #[test]
    fn go_floats() {
        assert_eq!(go_float32(0.0), "0");
        assert_eq!(go_float32(0.2), "0.2");
        assert_eq!(go_float32(0.25), "0.25");
        assert_eq!(go_float32(1.0 / 3.0), "0.33333334");
        assert_eq!(go_float32(1.0), "1");
        assert_eq!(go_float32(0.00001), "1e-05");
        assert_eq!(go_float32(0.0001), "0.0001");
        assert_eq!(go_float64(0.5), "0.5");
        assert_eq!(go_float64(2.0), "2");
        assert_eq!(go_float64(1.5e6), "1.5e+06");
        assert_eq!(go_float64(123456.0), "123456");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(bytes_size(1.0), "1B");
        assert_eq!(bytes_size(1023.0), "1023B");
        assert_eq!(bytes_size(1024.0), "1KiB");
        assert_eq!(bytes_size(512.0 * 1024.0 * 1024.0), "512MiB");
        assert_eq!(bytes_size(10.0 * 1024.0 * 1024.0), "10MiB");
        assert_eq!(bytes_size(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5GiB");
        assert_eq!(bytes_size(100_000_000.0), "95.37MiB");
        assert_eq!(bytes_size(1_048_575.0), "1024KiB");
    }

    #[test]
    fn images() {
        let d = "a".repeat(64);
        assert_eq!(
            display_image(&format!("nginx:1.25@sha256:{d}")),
            "nginx:1.25"
        );
        assert_eq!(
            display_image(&format!("docker.io/library/nginx:1.25@sha256:{d}")),
            "nginx:1.25"
        );
        assert_eq!(
            display_image("docker.io/bitnami/redis:7"),
            "bitnami/redis:7"
        );
        assert_eq!(
            display_image("registry:5000/app:v1"),
            "registry:5000/app:v1"
        );
        assert_eq!(display_image("nginx"), "nginx");
        assert_eq!(
            display_image(&format!("nginx@sha256:{d}")),
            format!("nginx@sha256:{d}")
        );
        // Not a valid digest: the reference does not parse, shown as given.
        assert_eq!(
            display_image("nginx:1.25@sha256:abc"),
            "nginx:1.25@sha256:abc"
        );
        assert_eq!(display_image("redis:3.0.6"), "redis:3.0.6");
    }

    fn port(published: u32, target: u32, mode: PublishMode) -> PortConfig {
        PortConfig {
            protocol: "tcp".into(),
            target,
            published,
            mode,
        }
    }

    #[test]
    fn port_ranges() {
        use PublishMode::*;
        assert_eq!(ingress_ports(&[]), "");
        assert_eq!(ingress_ports(&[port(8080, 80, Ingress)]), "*:8080->80/tcp");
        assert_eq!(
            ingress_ports(&[port(81, 81, Ingress), port(80, 80, Ingress)]),
            "*:80-81->80-81/tcp"
        );
        assert_eq!(
            ingress_ports(&[port(80, 80, Ingress), port(81, 80, Ingress)]),
            "*:80-81->80/tcp"
        );
        assert_eq!(
            ingress_ports(&[
                port(80, 80, Ingress),
                port(81, 81, Ingress),
                port(82, 80, Ingress)
            ]),
            "*:80-81->80-81/tcp, *:82->80/tcp"
        );
        assert_eq!(
            ingress_ports(&[port(8080, 80, Host), port(9090, 90, Ingress)]),
            "*:9090->90/tcp"
        );
        let mut udp = port(53, 53, Ingress);
        udp.protocol = "udp".into();
        assert_eq!(
            ingress_ports(&[udp, port(53, 53, Ingress)]),
            "*:53->53/tcp, *:53->53/udp"
        );
    }
}

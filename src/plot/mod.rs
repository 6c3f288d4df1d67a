//! Hand-written SVG plots for planners' reports: pure functions from data
//! to text, with fixed float formatting (two decimals), so the same data
//! always gives the same bytes.

use std::fmt::Write as _;

const W: f64 = 780.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `n` ticks over
/// `span`.
fn tick_step(span: f64, n: f64) -> f64 {
    if span <= 0.0 {
        return 1.0;
    }
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn fmt_tick(v: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{v:.0}")
    } else if step >= 0.1 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The plot frame: axes with ticks over [x0, x1] × [y0, y1].
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(x0: f64, x1: f64, y0: f64, y1: f64) -> Frame {
        let (x1, y1) = (
            if x1 > x0 { x1 } else { x0 + 1.0 },
            if y1 > y0 { y1 } else { y0 + 1.0 },
        );
        Frame { x0, x1, y0, y1 }
    }
    fn x(&self, v: f64) -> f64 {
        LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        H - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)
    }

    fn open(&self, title: &str, xlabel: &str, ylabel: &str) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W:.0}\" height=\"{H:.0}\" viewBox=\"0 0 {W:.0} {H:.0}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        let _ = writeln!(
            o,
            "<rect width=\"{W:.0}\" height=\"{H:.0}\" fill=\"white\"/>"
        );
        let _ = writeln!(
            o,
            "<text x=\"{:.2}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{}</text>",
            (LEFT + W - RIGHT) / 2.0,
            esc(title)
        );
        let (bx, by) = (self.x(self.x0), self.y(self.y0));
        let (ex, ey) = (self.x(self.x1), self.y(self.y1));
        let _ = writeln!(
            o,
            "<path d=\"M{bx:.2},{ey:.2} V{by:.2} H{ex:.2}\" fill=\"none\" stroke=\"black\"/>"
        );
        let xs = tick_step(self.x1 - self.x0, 8.0);
        let mut t = (self.x0 / xs).ceil() * xs;
        while t <= self.x1 + xs * 1e-9 {
            let px = self.x(t);
            let _ = writeln!(
                o,
                "<line x1=\"{px:.2}\" y1=\"{by:.2}\" x2=\"{px:.2}\" y2=\"{:.2}\" stroke=\"black\"/><text x=\"{px:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{}</text>",
                by + 5.0,
                by + 18.0,
                fmt_tick(t, xs)
            );
            t += xs;
        }
        let ys = tick_step(self.y1 - self.y0, 6.0);
        let mut t = (self.y0 / ys).ceil() * ys;
        while t <= self.y1 + ys * 1e-9 {
            let py = self.y(t);
            let _ = writeln!(
                o,
                "<line x1=\"{:.2}\" y1=\"{py:.2}\" x2=\"{bx:.2}\" y2=\"{py:.2}\" stroke=\"black\"/><line x1=\"{bx:.2}\" y1=\"{py:.2}\" x2=\"{ex:.2}\" y2=\"{py:.2}\" stroke=\"#dddddd\"/><text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\">{}</text>",
                bx - 5.0,
                bx - 8.0,
                py + 4.0,
                fmt_tick(t, ys)
            );
            t += ys;
        }
        let _ = writeln!(
            o,
            "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{}</text>",
            (bx + ex) / 2.0,
            H - 15.0,
            esc(xlabel)
        );
        let _ = writeln!(
            o,
            "<text x=\"18\" y=\"{:.2}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {:.2})\">{}</text>",
            (by + ey) / 2.0,
            (by + ey) / 2.0,
            esc(ylabel)
        );
        o
    }

    fn legend(&self, o: &mut String, i: usize, colour: &str, label: &str) {
        let x = W - RIGHT + 12.0;
        let y = TOP + 10.0 + 18.0 * i as f64;
        let _ = writeln!(
            o,
            "<rect x=\"{x:.2}\" y=\"{:.2}\" width=\"14\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.2}\" y=\"{:.2}\">{}</text>",
            y - 9.0,
            x + 20.0,
            y,
            esc(label)
        );
    }
}

const EMPTY_NOTE: &str = "no values";

/// Empirical CDF of durations (ms) per labelled series: a step line per
/// series, x in seconds. Series with more than 1,000 values are drawn
/// through every k-th order statistic (and the last).
pub fn cdf_svg(title: &str, xlabel: &str, series: &[(String, Vec<u64>)]) -> String {
    let max = series
        .iter()
        .filter_map(|(_, v)| v.iter().max())
        .max()
        .copied()
        .unwrap_or(0) as f64
        / 1000.0;
    let min = series
        .iter()
        .filter_map(|(_, v)| v.iter().min())
        .min()
        .copied()
        .unwrap_or(0) as f64
        / 1000.0;
    let pad = ((max - min) * 0.05).max(0.5);
    let f = Frame::new((min - pad).max(0.0), max + pad, 0.0, 1.0);
    let mut o = f.open(title, xlabel, "fraction of runs ≤ x");
    for (i, (label, values)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut v = values.clone();
        v.sort_unstable();
        let n = v.len();
        let legend = if n == 0 {
            format!("{label} ({EMPTY_NOTE})")
        } else {
            label.clone()
        };
        f.legend(&mut o, i, colour, &legend);
        if n == 0 {
            continue;
        }
        let step = n.div_ceil(1000).max(1);
        let mut d = format!("M{:.2},{:.2}", f.x(f.x0), f.y(0.0));
        let mut k = step - 1;
        loop {
            let k2 = k.min(n - 1);
            let x = f.x(v[k2] as f64 / 1000.0);
            let _ = write!(d, " H{x:.2} V{:.2}", f.y((k2 + 1) as f64 / n as f64));
            if k2 == n - 1 {
                break;
            }
            k += step;
        }
        let _ = write!(d, " H{:.2}", f.x(f.x1));
        let _ = writeln!(
            o,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>"
        );
    }
    o.push_str("</svg>\n");
    o
}

/// Histogram of durations (ms), x in seconds, at most 40 equal bins
/// between the smallest and largest value (whole milliseconds).
pub fn histogram_svg(title: &str, xlabel: &str, values: &[u64]) -> String {
    let (Some(&lo), Some(&hi)) = (values.iter().min(), values.iter().max()) else {
        let f = Frame::new(0.0, 1.0, 0.0, 1.0);
        let mut o = f.open(title, xlabel, "runs");
        let _ = writeln!(
            o,
            "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{EMPTY_NOTE}</text>\n</svg>",
            (LEFT + W - RIGHT) / 2.0,
            H / 2.0
        );
        return o;
    };
    let bins = 40u64.min(hi - lo + 1);
    let width = (hi - lo + 1).div_ceil(bins);
    let mut counts = vec![0u64; bins as usize];
    for &v in values {
        counts[((v - lo) / width).min(bins - 1) as usize] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64;
    let f = Frame::new(
        lo as f64 / 1000.0,
        (lo + width * bins) as f64 / 1000.0,
        0.0,
        top * 1.05,
    );
    let mut o = f.open(title, xlabel, "runs");
    for (b, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let x0 = f.x((lo + width * b as u64) as f64 / 1000.0);
        let x1 = f.x((lo + width * (b as u64 + 1)) as f64 / 1000.0);
        let y = f.y(c as f64);
        let _ = writeln!(
            o,
            "<rect x=\"{x0:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{}\" stroke=\"white\"/>",
            (x1 - x0).max(0.5),
            f.y(0.0) - y,
            COLOURS[0]
        );
    }
    f.legend(&mut o, 0, COLOURS[0], &format!("{} runs", values.len()));
    o.push_str("</svg>\n");
    o
}

/// Running replicas over time: the p5–p95 band and the p50 line, from
/// (time ms, p5, p50, p95) points.
pub fn band_svg(title: &str, points: &[(u64, u64, u64, u64)]) -> String {
    let tmax = points.last().map(|p| p.0).unwrap_or(0) as f64 / 1000.0;
    let ymax = points.iter().map(|p| p.3).max().unwrap_or(0) as f64;
    let f = Frame::new(0.0, tmax, 0.0, (ymax * 1.1).max(1.0));
    let mut o = f.open(title, "simulated time (s)", "running replicas");
    if !points.is_empty() {
        // Step functions: each value holds until the next sample.
        let steps = |sel: fn(&(u64, u64, u64, u64)) -> u64, d: &mut String, rev: bool| {
            let pts: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (f.x(p.0 as f64 / 1000.0), f.y(sel(p) as f64)))
                .collect();
            // Corners only: a run of equal values is one horizontal segment.
            let mut seq: Vec<(f64, f64)> = Vec::new();
            for (i, &(x, y)) in pts.iter().enumerate() {
                let x_next = pts.get(i + 1).map(|p| p.0).unwrap_or(x);
                match seq.last_mut() {
                    Some(last) if last.1 == y => last.0 = x_next,
                    _ => {
                        seq.push((x, y));
                        seq.push((x_next, y));
                    }
                }
            }
            if rev {
                seq.reverse();
            }
            for (x, y) in seq {
                let _ = write!(d, " L{x:.2},{y:.2}");
            }
        };
        let mut d = String::new();
        steps(|p| p.3, &mut d, false);
        steps(|p| p.1, &mut d, true);
        let d = format!("M{}Z", d.trim_start().trim_start_matches('L'));
        let _ = writeln!(
            o,
            "<path d=\"{d}\" fill=\"{}\" fill-opacity=\"0.3\" stroke=\"none\"/>",
            COLOURS[0]
        );
        let mut m = String::new();
        steps(|p| p.2, &mut m, false);
        let m = format!("M{}", m.trim_start().trim_start_matches('L'));
        let _ = writeln!(
            o,
            "<path d=\"{m}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>",
            COLOURS[1]
        );
    }
    f.legend(&mut o, 0, COLOURS[0], "p5–p95");
    f.legend(&mut o, 1, COLOURS[1], "p50");
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(tick_step(100.0, 8.0), 20.0);
        assert_eq!(tick_step(1.0, 6.0), 0.2);
        assert_eq!(tick_step(7.0, 8.0), 1.0);
    }

    #[test]
    fn plots_are_well_formed_and_deterministic() {
        let a = cdf_svg(
            "t",
            "x",
            &[("a".into(), vec![3000, 1000, 2000]), ("b".into(), vec![])],
        );
        assert!(a.starts_with("<svg") && a.ends_with("</svg>\n"));
        assert!(a.contains("b (no values)"));
        // The three steps of series a reach 1/3, 2/3 and 1.
        let line = a
            .lines()
            .find(|l| l.contains("stroke-width=\"1.5\""))
            .expect("the series' path");
        assert_eq!(line.matches(" V").count(), 3, "{line}");
        assert_eq!(
            a,
            cdf_svg(
                "t",
                "x",
                &[("a".into(), vec![1000, 2000, 3000]), ("b".into(), vec![])]
            )
        );
        let h = histogram_svg("h", "x", &[1000, 1000, 2000]);
        assert_eq!(
            h.matches("<rect x=").count(),
            2 + 1,
            "two bars and a legend box"
        );
        let e = histogram_svg("h", "x", &[]);
        assert!(e.contains("no values"));
        let b = band_svg("b", &[(0, 3, 3, 3), (1000, 2, 2, 3), (2000, 3, 3, 3)]);
        assert!(b.contains("fill-opacity"));
        assert!(!b.contains("NaN"));
    }
}

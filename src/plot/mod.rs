//! Hand-written SVG plots for planners' reports: pure functions from data
//! to text, with fixed float formatting (two decimals), so the same data
//! always gives the same bytes.

use std::collections::BTreeMap;
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
/// between the smallest and largest value (whole milliseconds), the bars
/// stacked by group (e.g. how the update ended), each group in its colour:
/// `(label, colour, values)`. Empty groups are left out of the legend.
pub fn histogram_svg(title: &str, xlabel: &str, groups: &[(String, &str, Vec<u64>)]) -> String {
    let tallies: Vec<(String, &str, BTreeMap<u64, u64>)> = groups
        .iter()
        .map(|(label, colour, values)| {
            let mut t = BTreeMap::new();
            for &v in values {
                *t.entry(v).or_insert(0) += 1;
            }
            (label.clone(), *colour, t)
        })
        .collect();
    histogram_tally_svg(title, xlabel, &tallies)
}

/// [`histogram_svg`] of groups given as value → number of runs (a batch
/// keeps tallies, not its runs).
pub fn histogram_tally_svg(
    title: &str,
    xlabel: &str,
    groups: &[(String, &str, BTreeMap<u64, u64>)],
) -> String {
    let all = || {
        groups
            .iter()
            .flat_map(|g| g.2.iter().filter(|(_, k)| **k > 0).map(|(v, _)| *v))
    };
    let (Some(lo), Some(hi)) = (all().min(), all().max()) else {
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
    let bin = |v: u64| ((v - lo) / width).min(bins - 1) as usize;
    // counts[bin][group]
    let mut counts = vec![vec![0u64; groups.len()]; bins as usize];
    for (g, (_, _, values)) in groups.iter().enumerate() {
        for (&v, &k) in values {
            if k > 0 {
                counts[bin(v)][g] += k;
            }
        }
    }
    let top = counts
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(1) as f64;
    let f = Frame::new(
        lo as f64 / 1000.0,
        (lo + width * bins) as f64 / 1000.0,
        0.0,
        top * 1.05,
    );
    let mut o = f.open(title, xlabel, "runs");
    for (b, per_group) in counts.iter().enumerate() {
        let x0 = f.x((lo + width * b as u64) as f64 / 1000.0);
        let x1 = f.x((lo + width * (b as u64 + 1)) as f64 / 1000.0);
        let mut below = 0u64;
        for ((_, colour, _), &c) in groups.iter().zip(per_group) {
            if c == 0 {
                continue;
            }
            let (y_top, y_bottom) = (f.y((below + c) as f64), f.y(below as f64));
            let _ = writeln!(
                o,
                "<rect x=\"{x0:.2}\" y=\"{y_top:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"{colour}\" stroke=\"white\"/>",
                (x1 - x0).max(0.5),
                y_bottom - y_top,
            );
            below += c;
        }
    }
    let mut i = 0;
    for (label, colour, values) in groups {
        let runs: u64 = values.values().sum();
        if runs == 0 {
            continue;
        }
        f.legend(&mut o, i, colour, &format!("{label}: {runs} runs"));
        i += 1;
    }
    o.push_str("</svg>\n");
    o
}

/// Where a band plot looks: the time window in which the band dips below
/// the service's full strength after first reaching it (the update, a
/// rollback, a node loss), widened by a tenth on each side, and the
/// replica range from a little under the lowest p5 there to a little over
/// the highest p95. `None` when the band never dips after reaching its
/// maximum (then the whole run is shown from 0).
fn band_window(points: &[(u64, u64, u64, u64)]) -> Option<(f64, f64, f64, f64)> {
    let full = points.iter().map(|p| p.1).max()?;
    let reached = points.iter().position(|p| p.1 == full)?;
    let dips: Vec<usize> = (reached..points.len())
        .filter(|&i| points[i].1 < full)
        .collect();
    let (&first, &last) = (dips.first()?, dips.last()?);
    // The dip starts at the sample before the first low one and ends where
    // the band is back to full.
    let t0 = points[first.saturating_sub(1)].0 as f64 / 1000.0;
    let t1 = points[(last + 1).min(points.len() - 1)].0 as f64 / 1000.0;
    let pad = ((t1 - t0) * 0.1).max(1.0);
    let end = points.last().map(|p| p.0).unwrap_or(0) as f64 / 1000.0;
    let (x0, x1) = ((t0 - pad).max(0.0), (t1 + pad).min(end));
    let in_window = |p: &&(u64, u64, u64, u64)| {
        let t = p.0 as f64 / 1000.0;
        t >= x0 && t <= x1
    };
    let ylo = points.iter().filter(in_window).map(|p| p.1).min()? as f64;
    let yhi = points.iter().filter(in_window).map(|p| p.3).max()? as f64;
    let margin = ((yhi - ylo) * 0.15).max(1.0);
    Some((
        x0,
        x1,
        (ylo - margin).floor().max(0.0),
        (yhi + margin).ceil(),
    ))
}

/// Running replicas over time: the p5–p95 band and the p50 line, from
/// (time ms, p5, p50, p95) points, zoomed to [`band_window`]. When the y
/// axis does not start at 0 it is drawn broken (a zigzag at its foot) and
/// the note under the title says where it starts.
pub fn band_svg(title: &str, points: &[(u64, u64, u64, u64)]) -> String {
    let tmax = points.last().map(|p| p.0).unwrap_or(0) as f64 / 1000.0;
    let ymax = points.iter().map(|p| p.3).max().unwrap_or(0) as f64;
    let (x0, x1, y0, y1) = band_window(points).unwrap_or((0.0, tmax, 0.0, (ymax * 1.1).max(1.0)));
    let f = Frame::new(x0, x1, y0, y1);
    let mut o = f.open(title, "simulated time (s)", "running replicas");
    if y0 > 0.0 || x0 > 0.0 || x1 < tmax {
        let note = if y0 > 0.0 {
            format!(
                "zoomed to the dip: {x0:.0}–{x1:.0} s of {tmax:.0} s; the y axis starts at {y0:.0}, not 0"
            )
        } else {
            format!("zoomed to the dip: {x0:.0}–{x1:.0} s of {tmax:.0} s")
        };
        let _ = writeln!(
            o,
            "<text x=\"{:.2}\" y=\"36\" text-anchor=\"middle\" fill=\"#b00000\">{}</text>",
            (LEFT + W - RIGHT) / 2.0,
            esc(&note)
        );
    }
    if y0 > 0.0 {
        // A broken axis: a white gap and a zigzag at the foot of the y axis.
        let (bx, by) = (f.x(x0), f.y(y0));
        let _ = writeln!(
            o,
            "<path d=\"M{:.2},{:.2} l12,-4 l-24,-8 l12,-4\" fill=\"white\" stroke=\"#b00000\" stroke-width=\"2\"/>",
            bx,
            by - 6.0
        );
    }
    if !points.is_empty() {
        // Only the samples in the window (and one on each side, so the
        // steps reach the edges), clamped to the frame.
        let first = points
            .iter()
            .rposition(|p| p.0 as f64 / 1000.0 <= x0)
            .unwrap_or(0);
        let last = points
            .iter()
            .position(|p| p.0 as f64 / 1000.0 >= x1)
            .unwrap_or(points.len() - 1);
        let shown = &points[first..=last];
        let clamp_x = |t: f64| f.x(t.clamp(x0, x1));
        let clamp_y = |v: f64| f.y(v.clamp(y0, y1));
        // Step functions: each value holds until the next sample.
        let steps = |sel: fn(&(u64, u64, u64, u64)) -> u64, d: &mut String, rev: bool| {
            let pts: Vec<(f64, f64)> = shown
                .iter()
                .map(|p| (clamp_x(p.0 as f64 / 1000.0), clamp_y(sel(p) as f64)))
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

/// One point of a trade-off scatter plot.
pub struct TradeOff {
    pub label: String,
    /// Horizontal: lower is better (e.g. p95 update duration, ms).
    pub x_ms: u64,
    /// Vertical: higher is better (e.g. p5 of min running replicas).
    pub y: u64,
    /// Marked as on the Pareto front (filled; hollow otherwise).
    pub front: bool,
}

/// Scatter of a sweep's policies: x a duration in seconds (lower is
/// better), y a count (higher is better), each point labelled, the points
/// on the Pareto front filled and the front of these two metrics joined by
/// a dashed staircase.
pub fn tradeoff_svg(title: &str, xlabel: &str, ylabel: &str, points: &[TradeOff]) -> String {
    if points.is_empty() {
        let f = Frame::new(0.0, 1.0, 0.0, 1.0);
        let mut o = f.open(title, xlabel, ylabel);
        let _ = writeln!(
            o,
            "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{EMPTY_NOTE}</text>\n</svg>",
            (LEFT + W - RIGHT) / 2.0,
            H / 2.0
        );
        return o;
    }
    let xs = || points.iter().map(|p| p.x_ms as f64 / 1000.0);
    let ys = || points.iter().map(|p| p.y as f64);
    let (xmin, xmax) = (xs().fold(f64::MAX, f64::min), xs().fold(f64::MIN, f64::max));
    let (ymin, ymax) = (ys().fold(f64::MAX, f64::min), ys().fold(f64::MIN, f64::max));
    let xpad = ((xmax - xmin) * 0.08).max(1.0);
    let ypad = ((ymax - ymin) * 0.15).max(1.0);
    let f = Frame::new(
        (xmin - xpad).max(0.0),
        xmax + xpad,
        (ymin - ypad).floor().max(0.0),
        (ymax + ypad).ceil(),
    );
    let mut o = f.open(title, xlabel, ylabel);
    // The two-metric front: sorted by x (then y descending), the points
    // with a y above every point to their left.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        (points[a].x_ms, std::cmp::Reverse(points[a].y), a).cmp(&(
            points[b].x_ms,
            std::cmp::Reverse(points[b].y),
            b,
        ))
    });
    let mut front2: Vec<usize> = Vec::new();
    for &i in &order {
        if front2.last().is_none_or(|&j| points[i].y > points[j].y) {
            front2.push(i);
        }
    }
    let mut d = String::new();
    for (k, &i) in front2.iter().enumerate() {
        let (x, y) = (f.x(points[i].x_ms as f64 / 1000.0), f.y(points[i].y as f64));
        if k == 0 {
            let _ = write!(d, "M{x:.2},{y:.2}");
        } else {
            let _ = write!(d, " H{x:.2} V{y:.2}");
        }
    }
    let _ = writeln!(
        o,
        "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"/>",
        COLOURS[1]
    );
    let centres: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (f.x(p.x_ms as f64 / 1000.0), f.y(p.y as f64)))
        .collect();
    for (p, &(x, y)) in points.iter().zip(&centres) {
        let fill = if p.front { COLOURS[1] } else { "white" };
        let _ = writeln!(
            o,
            "<circle cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"5\" fill=\"{fill}\" stroke=\"{}\" stroke-width=\"1.5\"/>",
            COLOURS[1]
        );
    }
    // Each label goes in the first of above, below, right, left of its
    // point where its box (10 px text, about 5.6 px a character) meets no
    // point and no label already placed; above when none is free.
    let mut boxes: Vec<(f64, f64, f64, f64)> = centres
        .iter()
        .map(|&(x, y)| (x - 6.0, y - 6.0, x + 6.0, y + 6.0))
        .collect();
    for (p, &(x, y)) in points.iter().zip(&centres) {
        let w = 5.6 * p.label.chars().count() as f64;
        let candidates = [
            (x - w / 2.0, y - 19.0),
            (x - w / 2.0, y + 8.0),
            (x + 9.0, y - 6.0),
            (x - 9.0 - w, y - 6.0),
        ];
        let free = |&(bx, by): &(f64, f64)| {
            let b = (bx, by, bx + w, by + 11.0);
            b.0 >= LEFT
                && b.2 <= W - RIGHT + 5.0
                && !boxes
                    .iter()
                    .any(|o| b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3)
        };
        let (bx, by) = candidates
            .iter()
            .copied()
            .find(free)
            .unwrap_or(candidates[0]);
        boxes.push((bx, by, bx + w, by + 11.0));
        let _ = writeln!(
            o,
            "<text x=\"{bx:.2}\" y=\"{:.2}\" font-size=\"10\">{}</text>",
            by + 9.0,
            esc(&p.label)
        );
    }
    f.legend(&mut o, 0, COLOURS[1], "on the Pareto front");
    let _ = writeln!(
        o,
        "<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"11\">(filled; hollow: dominated)</text>",
        W - RIGHT + 32.0,
        TOP + 24.0
    );
    let _ = writeln!(
        o,
        "<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"11\">dashed: best trade-off of</text><text x=\"{:.2}\" y=\"{:.2}\" font-size=\"11\">these two metrics</text>",
        W - RIGHT + 12.0,
        TOP + 48.0,
        W - RIGHT + 12.0,
        TOP + 62.0
    );
    let _ = writeln!(
        o,
        "<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"11\">better: left and up</text>",
        W - RIGHT + 12.0,
        TOP + 84.0
    );
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
        let h = histogram_svg(
            "h",
            "x",
            &[
                ("completed".into(), "green", vec![1000, 1000, 2000]),
                ("paused".into(), "orange", vec![1000]),
                ("rolled back".into(), "red", vec![]),
            ],
        );
        // Bin 1000 holds a green and an orange bar stacked, bin 2000 a
        // green one; two legend boxes (the empty group has none).
        assert_eq!(h.matches("fill=\"green\"").count(), 2 + 1, "{h}");
        assert_eq!(h.matches("fill=\"orange\"").count(), 1 + 1, "{h}");
        assert!(h.contains("completed: 3 runs") && !h.contains("rolled back"));
        let e = histogram_svg("h", "x", &[]);
        assert!(e.contains("no values"));
        let b = band_svg("b", &[(0, 3, 3, 3), (1000, 2, 2, 3), (2000, 3, 3, 3)]);
        assert!(b.contains("fill-opacity"));
        assert!(!b.contains("NaN"));
    }

    #[test]
    fn band_zooms_to_the_dip_with_a_broken_axis() {
        // Ramp-up 0 -> 400 in the first 10 s, full until 60 s, a dip to
        // p5 380 until 240 s, full again until 1200 s.
        let mut pts = Vec::new();
        for t in 0..=1200u64 {
            let p = match t {
                0..=9 => (t * 40, t * 40, t * 40),
                60..=239 => (380, 390, 400),
                _ => (400, 400, 400),
            };
            pts.push((t * 1000, p.0, p.1, p.2));
        }
        assert_eq!(
            band_window(&pts),
            // Dip from the sample at 59 s to the one at 240 s, 18.1 s of
            // margin; replicas 380..400 with 3 of margin.
            Some((40.9, 258.1, 377.0, 403.0))
        );
        let b = band_svg("b", &pts);
        assert!(b.contains("the y axis starts at 377, not 0"), "{b}");
        assert!(b.contains("zoomed to the dip: 41–258 s of 1200 s"), "{b}");
        assert!(!b.contains(">1200<") && !b.contains("NaN"));
        // A band that never dips is drawn whole, from 0.
        let flat: Vec<_> = (0..5u64).map(|t| (t * 1000, 3, 3, 3)).collect();
        assert_eq!(band_window(&flat), None);
        assert!(!band_svg("b", &flat).contains("zoomed"));
    }

    #[test]
    fn tradeoff_marks_the_front_and_labels_every_policy() {
        let p = |label: &str, x_ms, y, front| TradeOff {
            label: label.into(),
            x_ms,
            y,
            front,
        };
        let s = tradeoff_svg(
            "t",
            "p95 (s)",
            "min running",
            &[
                p("parallelism=1", 100_000, 39, true),
                p("parallelism=2", 60_000, 38, true),
                p("parallelism=4", 70_000, 36, false),
            ],
        );
        for l in ["parallelism=1", "parallelism=2", "parallelism=4"] {
            assert!(s.contains(&format!(">{l}</text>")), "{s}");
        }
        assert_eq!(s.matches("<circle").count(), 3);
        assert_eq!(
            s.matches("fill=\"white\" stroke").count(),
            1,
            "one hollow point"
        );
        // The staircase joins the two non-dominated points only.
        let path = s.lines().find(|l| l.contains("stroke-dasharray")).unwrap();
        assert_eq!(path.matches(" H").count(), 1, "{path}");
    }
}

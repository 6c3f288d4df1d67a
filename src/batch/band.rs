//! The replicas-running-over-time band of a batch, accumulated without
//! keeping any run: per service and per time bin, a histogram of the
//! running count. Histograms only add up, so the band does not depend on
//! which worker ran which seed, and shards merge by adding their counts.

use std::collections::BTreeMap;

use super::output::CsvError;
use crate::sim::time::{SimTime, millis};

/// Width of one time bin of the band (simulated time).
pub const BIN_MS: u64 = 1000;
/// Bins kept (`MAX_BINS` × 1 s ≈ 5.5 h of simulated time); later instants
/// are not part of the band.
pub const MAX_BINS: usize = 20_000;

/// Counts of the values `lo .. lo + c.len()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    lo: u64,
    c: Vec<u64>,
}

impl Counts {
    #[inline]
    pub fn add(&mut self, value: u64, k: u64) {
        // A value already in range (nearly every bin of every run).
        if let Some(n) = value
            .checked_sub(self.lo)
            .and_then(|i| self.c.get_mut(usize::try_from(i).ok()?))
        {
            *n += k;
        } else {
            self.add_out_of_range(value, k);
        }
    }

    /// [`Counts::add`] of a value outside `lo .. lo + c.len()`: the
    /// range grows to take it.
    #[cold]
    fn add_out_of_range(&mut self, value: u64, k: u64) {
        if self.c.is_empty() {
            self.lo = value;
            self.c.push(0);
        } else if value < self.lo {
            let grow = (self.lo - value) as usize;
            self.c.splice(0..0, std::iter::repeat_n(0, grow));
            self.lo = value;
        } else if value >= self.lo + self.c.len() as u64 {
            self.c.resize((value - self.lo) as usize + 1, 0);
        }
        self.c[(value - self.lo) as usize] += k;
    }

    pub fn merge(&mut self, other: &Counts) {
        for (v, k) in other.iter() {
            self.add(v, k);
        }
    }

    /// (value, count) with count > 0, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.c
            .iter()
            .enumerate()
            .filter(|(_, k)| **k > 0)
            .map(|(i, k)| (self.lo + i as u64, *k))
    }

    pub fn total(&self) -> u64 {
        self.c.iter().sum()
    }

    /// Nearest-rank percentile (see [`super::stats::percentile`]).
    pub fn percentile(&self, p: u32) -> Option<u64> {
        let n = self.total();
        if n == 0 {
            return None;
        }
        let rank = (u64::from(p.clamp(1, 100)) * n).div_ceil(100).max(1);
        let mut seen = 0;
        for (v, k) in self.iter() {
            seen += k;
            if seen >= rank {
                return Some(v);
            }
        }
        None
    }
}

/// One service's band: `at[b]` counts the running values at `b × BIN_MS`
/// of runs that had not ended then; `after_end[b]` counts the final values
/// of runs whose last sampled bin is `b − 1` (they hold that value for
/// every later bin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceBand {
    pub at: Vec<Counts>,
    pub after_end: Vec<Counts>,
}

impl ServiceBand {
    /// Adds one run: its running series (time, count after the change) and
    /// its end time and final running count.
    pub fn add_run(&mut self, series: &[(SimTime, u64)], end: SimTime, final_running: u64) {
        let bin = millis(BIN_MS);
        let last = ((end.since_start() / bin) as usize).min(MAX_BINS - 1);
        if self.at.len() <= last {
            self.at.resize(last + 1, Counts::default());
        }
        // Bin `b` (time `b × BIN_MS`) counts the value of the last change
        // at or before it (0 before the first): a change at `t` is seen
        // from bin ⌈t / BIN_MS⌉ on, so the bins between two changes take
        // the earlier one's value, a run of them at a time.
        let bins = &mut self.at[..=last];
        let mut from = 0;
        let mut value = 0;
        for &(t, v) in series {
            let seen_from =
                (t.since_start().as_nanos().div_ceil(bin.as_nanos()) as usize).min(bins.len());
            if seen_from > from {
                for counts in &mut bins[from..seen_from] {
                    counts.add(value, 1);
                }
                from = seen_from;
            }
            value = v;
        }
        for counts in &mut bins[from..] {
            counts.add(value, 1);
        }
        if last + 1 < MAX_BINS {
            if self.after_end.len() <= last + 1 {
                self.after_end.resize(last + 2, Counts::default());
            }
            self.after_end[last + 1].add(final_running, 1);
        }
    }

    pub fn merge(&mut self, other: &ServiceBand) {
        merge_vec(&mut self.at, &other.at);
        merge_vec(&mut self.after_end, &other.after_end);
    }

    /// Bins to draw: up to the last bin any run reached.
    pub fn bins(&self) -> usize {
        self.at.len()
    }

    /// (time in ms, p5, p50, p95) per bin, over all runs (a run that ended
    /// counts with its final value).
    pub fn quantiles(&self) -> Vec<(u64, u64, u64, u64)> {
        let mut ended = Counts::default();
        let mut out = Vec::new();
        for b in 0..self.bins() {
            if let Some(e) = self.after_end.get(b) {
                ended.merge(e);
            }
            let mut all = ended.clone();
            all.merge(&self.at[b]);
            if let (Some(p5), Some(p50), Some(p95)) =
                (all.percentile(5), all.percentile(50), all.percentile(95))
            {
                out.push((b as u64 * BIN_MS, p5, p50, p95));
            }
        }
        out
    }
}

fn merge_vec(a: &mut Vec<Counts>, b: &[Counts]) {
    if a.len() < b.len() {
        a.resize(b.len(), Counts::default());
    }
    for (x, y) in a.iter_mut().zip(b) {
        x.merge(y);
    }
}

/// The band of every service column of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Band {
    pub services: Vec<ServiceBand>,
}

impl Band {
    pub fn new(columns: usize) -> Band {
        Band {
            services: vec![ServiceBand::default(); columns],
        }
    }

    pub fn merge(&mut self, other: &Band) {
        if self.services.len() < other.services.len() {
            self.services
                .resize(other.services.len(), ServiceBand::default());
        }
        for (a, b) in self.services.iter_mut().zip(&other.services) {
            a.merge(b);
        }
    }

    /// `band.csv`: `service,kind,t_s,running,count`, kind `at` or
    /// `after_end` (see [`ServiceBand`]), sorted by service, kind, time,
    /// value.
    pub fn to_csv(&self, services: &[String]) -> String {
        let mut out = String::from("service,kind,t_s,running,count\n");
        for (name, band) in services.iter().zip(&self.services) {
            for (kind, bins) in [("after_end", &band.after_end), ("at", &band.at)] {
                for (b, counts) in bins.iter().enumerate() {
                    for (v, k) in counts.iter() {
                        let ms = b as u64 * BIN_MS;
                        out.push_str(&format!(
                            "{name},{kind},{}.{:03},{v},{k}\n",
                            ms / 1000,
                            ms % 1000
                        ));
                    }
                }
            }
        }
        out
    }

    /// Reads [`Band::to_csv`] back.
    pub fn from_csv(text: &str, services: &[String]) -> Result<Band, CsvError> {
        let index: BTreeMap<&str, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let mut band = Band::new(services.len());
        let mut lines = text.lines();
        if lines.next() != Some("service,kind,t_s,running,count") {
            return Err(CsvError::UnexpectedHeader("band.csv"));
        }
        for (i, line) in lines.enumerate() {
            let bad = || CsvError::Line {
                file: "band.csv",
                line: i + 2,
                text: line.to_string(),
            };
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != 5 {
                return Err(bad());
            }
            let s = *index.get(f[0]).ok_or_else(bad)?;
            let ms = super::output::parse_ms(f[2]).ok_or_else(bad)?;
            let b = (ms / BIN_MS) as usize;
            let v: u64 = f[3].parse().map_err(|_| bad())?;
            let k: u64 = f[4].parse().map_err(|_| bad())?;
            if b >= MAX_BINS {
                return Err(bad());
            }
            let bins = match f[1] {
                "at" => &mut band.services[s].at,
                "after_end" => &mut band.services[s].after_end,
                _ => return Err(bad()),
            };
            if bins.len() <= b {
                bins.resize(b + 1, Counts::default());
            }
            bins[b].add(v, k);
        }
        Ok(band)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    /// The bin-by-bin sampling `add_run` did before it filled runs of
    /// bins between changes: the value at bin `b` is the last change at or
    /// before `b × BIN_MS`.
    fn reference_add_run(
        band: &mut ServiceBand,
        series: &[(SimTime, u64)],
        end: SimTime,
        fin: u64,
    ) {
        let bin = millis(BIN_MS);
        let last = ((end.since_start() / bin) as usize).min(MAX_BINS - 1);
        if band.at.len() <= last {
            band.at.resize(last + 1, Counts::default());
        }
        let mut i = 0;
        let mut value = 0;
        for (b, counts) in band.at.iter_mut().enumerate().take(last + 1) {
            let t = SimTime::at(bin * b as u64);
            while i < series.len() && series[i].0 <= t {
                value = series[i].1;
                i += 1;
            }
            counts.add(value, 1);
        }
        if last + 1 < MAX_BINS {
            if band.after_end.len() <= last + 1 {
                band.after_end.resize(last + 2, Counts::default());
            }
            band.after_end[last + 1].add(fin, 1);
        }
    }

    #[test]
    fn add_run_samples_as_bin_by_bin() {
        use rand::{Rng, RngCore};
        let mut rng = crate::sim::rng::RngStreams::new(9).stream("test", "band");
        let (mut fast, mut slow) = (ServiceBand::default(), ServiceBand::default());
        for run in 0..400 {
            // Changes on and between bin edges, several at one instant,
            // some after the end.
            let mut now = 0u64;
            let mut series = Vec::new();
            for _ in 0..rng.random_range(0..12) {
                now += match rng.next_u32() % 4 {
                    0 => 0,
                    1 => S,
                    2 => rng.random_range(1..S),
                    _ => rng.random_range(0..20 * S),
                };
                series.push((t(now), rng.random_range(0..8)));
            }
            let end = t(match run % 3 {
                0 => now,
                1 => now + rng.random_range(0..5 * S),
                _ => rng.random_range(0..=now),
            });
            fast.add_run(&series, end, run % 5);
            reference_add_run(&mut slow, &series, end, run % 5);
        }
        assert_eq!(fast, slow);
        // A run past the last bin.
        let series = [(t(3 * S), 2), (t((MAX_BINS as u64 + 9) * S), 5)];
        let end = t((MAX_BINS as u64 + 20) * S);
        fast.add_run(&series, end, 5);
        reference_add_run(&mut slow, &series, end, 5);
        assert_eq!(fast, slow);
    }

    #[test]
    fn counts_grow_both_ways() {
        let mut c = Counts::default();
        c.add(5, 1);
        c.add(3, 2);
        c.add(8, 1);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(3, 2), (5, 1), (8, 1)]);
        assert_eq!(c.total(), 4);
        // Values in range, at both ends and inside.
        let mut d = c.clone();
        for v in [3, 5, 6, 8] {
            d.add(v, 10);
        }
        assert_eq!(
            d.iter().collect::<Vec<_>>(),
            vec![(3, 12), (5, 11), (6, 10), (8, 11)]
        );
        assert_eq!(c.percentile(50), Some(3)); // rank 2
        assert_eq!(c.percentile(75), Some(5)); // rank 3
        assert_eq!(c.percentile(95), Some(8)); // rank 4
    }

    #[test]
    fn band_samples_series_and_holds_the_final_value() {
        let mut b = ServiceBand::default();
        // Run A: 3 running from 0, 2 from 1.5 s, 3 from 2.5 s; ends at 3 s.
        b.add_run(
            &[(t(0), 3), (t(1_500_000_000), 2), (t(2_500_000_000), 3)],
            t(3 * S),
            3,
        );
        // Run B: 1 running from 0; ends at 1 s.
        b.add_run(&[(t(0), 1)], t(S), 1);
        let q = b.quantiles();
        // bin 0: {3, 1}; bin 1: {3, 1}; bin 2: {2} + B's final 1;
        // bin 3: {3} + 1.
        assert_eq!(q.len(), 4);
        assert_eq!(q[0], (0, 1, 1, 3));
        assert_eq!(q[2], (2000, 1, 1, 2));
        assert_eq!(q[3], (3000, 1, 1, 3));
    }

    #[test]
    fn csv_round_trip_and_merge_is_addition() {
        let names = vec!["web".to_string()];
        let mut a = Band::new(1);
        a.services[0].add_run(&[(t(0), 2)], t(2 * S), 2);
        let mut b = Band::new(1);
        b.services[0].add_run(&[(t(0), 1), (t(S), 4)], t(4 * S), 4);
        let back = Band::from_csv(&a.to_csv(&names), &names).unwrap();
        assert_eq!(back, a);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab.to_csv(&names), ba.to_csv(&names));
    }
}

//! Latency distributions of image profiles (the scenario's `dist:` maps).
//! Every draw is rounded to whole nanoseconds at once.

use crate::sim::time::SimDuration;

#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    Fixed(SimDuration),
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    /// Negative draws clamp to 0.
    Normal {
        mean: SimDuration,
        stddev: SimDuration,
    },
    LogNormal {
        median: SimDuration,
        p99: SimDuration,
    },
    Exponential {
        mean: SimDuration,
    },
    Weibull {
        scale: SimDuration,
        shape: f64,
    },
    /// Drawn uniformly with replacement.
    Empirical(Vec<SimDuration>),
}

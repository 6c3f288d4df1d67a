//! swarmsim's own result files (`events.csv`, `summary.json`); docker's
//! output formats live in [`crate::docker::format`].

pub mod results;

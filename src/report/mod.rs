//! Pure renderers: cluster state in, docker CLI text or result files out.

pub mod inspect;
pub mod ls;
pub mod ps;
pub mod results;
pub mod tabwriter;
pub mod text;

#[cfg(test)]
mod fixtures;

//! The docker front end above the model: command lines parsed into typed
//! commands ([`cli`]), commands run against the control API with what
//! docker prints ([`exec`]), and docker's output formats ([`format`]).
//! The model (`crate::swarm`) imports none of it.

pub mod cli;
pub mod duration;
pub mod exec;
pub mod format;

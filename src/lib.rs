//! swarmsim: a deterministic discrete-event simulator of Docker Swarm
//! rolling updates and rollbacks.

pub mod batch;
pub mod cli;
pub mod conform;
pub mod dist;
pub mod docker;
pub mod error;
pub mod fsio;
pub mod fuzz;
pub mod limits;
pub mod mutant;
pub mod plot;
pub mod regress;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod swarm;
pub mod sweep;
pub mod teach;

//! Docker Swarm's components, mirroring swarmkit's `manager/` packages.

pub mod docker_cli;
pub mod model;
pub mod store;

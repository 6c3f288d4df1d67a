//! Docker Swarm's components, mirroring swarmkit's `manager/` packages and
//! the node agent. Each component is an `impl Cluster` block in its own
//! module over the shared [`store::ClusterState`].

pub mod agent;
pub mod cluster;
pub mod container;
pub mod controlapi;
pub mod dispatcher;
pub mod identity;
pub mod model;
pub mod nodeset;
pub mod orchestrator;
pub mod reaper;
pub mod restart;
pub mod scheduler;
pub mod store;
pub mod updater;

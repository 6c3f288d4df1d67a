//! Docker Swarm's components, mirroring swarmkit's `manager/` packages and
//! the node agent. Each component is a struct that owns its state; its
//! methods take the shared [`store::Store`] (and, where swarmkit's
//! component holds another, that component). The manager
//! ([`cluster::Cluster`], swarmkit `manager/manager.go`) owns them all and
//! wires events and store changes to them.
//!
//! Layers (each imports only the ones below it; `layering` tests this):
//!
//! ```text
//! cluster (manager)
//! └─ controlapi
//!    ├─ orchestrator/ {mod, replicated, global, constraint_enforcer}
//!    │  ├─ updater ─ restart
//!    │  └─ orchestrator/ {slot, task}
//!    ├─ scheduler ─ nodeset
//!    ├─ dispatcher ─ agent
//!    └─ reaper
//! store ─ constraint, model, container
//! ```

pub mod agent;
pub mod cluster;
pub mod constraint;
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

#[cfg(test)]
mod layering;

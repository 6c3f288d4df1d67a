//! Slots (swarmkit `manager/orchestrator/slot.go`): the tasks that
//! occupy one replica index of a replicated service, or one node of a
//! global service. The updater receives slots, never loose tasks.

use crate::swarm::model::TaskId;

/// One slot handed to a worker: its key (slot number, or node for global
/// services) and the tasks it held when the run started (swarmkit passes
/// a snapshot).
#[derive(Debug, Clone, Default)]
pub struct SlotWork {
    pub slot: u64,
    pub node: Option<usize>,
    pub tasks: Vec<TaskId>,
}

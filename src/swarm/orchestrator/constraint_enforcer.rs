//! The constraint enforcer (swarmkit
//! `manager/orchestrator/constraintenforcer/constraint_enforcer.go`):
//! rejects tasks on a node that no longer meets their constraints or
//! resources.

use crate::swarm::model::{Availability, NodeId, NodeStatus, TaskId, TaskState};
use crate::swarm::orchestrator::Orchestrator;
use crate::swarm::store::Store;

impl Orchestrator {
    /// Rejects tasks on an active node that no longer meets their service's
    /// constraints or resources.
    pub(super) fn constraint_enforcer(&mut self, s: &mut Store, node: NodeId) {
        let n = &s.state.nodes[node];
        if n.availability != Availability::Active || n.status != NodeStatus::Ready {
            return;
        }
        let tasks: Vec<TaskId> = s.tasks_on_node(node);
        for t in tasks {
            let task = &s.state.tasks[t];
            if task.desired > TaskState::Running || task.state > TaskState::Running {
                continue;
            }
            let svc = &s.state.services[task.service];
            if svc.removed {
                continue;
            }
            let constraints = svc.spec.task.placement.constraints.clone();
            if !s.node_satisfies_constraints(node, &constraints) {
                s.set_state(
                    t,
                    TaskState::Rejected,
                    "task rejected by constraint enforcer",
                    Some("assigned node no longer meets constraints".to_string()),
                    "constraint enforcer",
                );
            }
        }
    }
}

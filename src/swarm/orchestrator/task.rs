//! The orchestrators' shared notions about tasks (swarmkit
//! `manager/orchestrator/task.go`): whether a task still matches its
//! service's spec.

use crate::swarm::model::{ServiceId, TaskId};
use crate::swarm::store::Store;

/// `orchestrator.IsTaskDirty`: the task's spec differs from the
/// service's (same spec version = clean); a placement-only change does
/// not count when the task's node satisfies the new constraints.
pub fn is_task_dirty(s: &Store, service: ServiceId, task: TaskId) -> bool {
    let svc = &s.state.services[service];
    let t = &s.state.tasks[task];
    if t.spec_version == svc.spec_version {
        return false;
    }
    if *t.ports != svc.spec.ports {
        return true;
    }
    let (a, b) = (&*t.spec, &*svc.spec.task);
    if a == b {
        return false;
    }
    if a.placement != b.placement {
        let mut a2 = a.clone();
        a2.placement = b.placement.clone();
        if a2 == *b
            && let Some(n) = t.node
        {
            return !s.node_satisfies_constraints(n, &b.placement.constraints);
        }
    }
    true
}

//! Hand-built cluster states for the renderers' golden tests.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::sim::time::{SimDuration, SimTime};
use crate::swarm::identity::Id;
use crate::swarm::model::{
    Availability, Node, NodeId, NodeRole, NodeStatus, Service, ServiceId, ServiceMode, ServiceSpec,
    Task, TaskSpec, TaskState,
};
use crate::swarm::store::ClusterState;

pub fn node(state: &mut ClusterState, id: &str, hostname: &str, role: NodeRole) -> NodeId {
    state.nodes.push(Node {
        id: Id::parse(id).expect("a 25-character base-36 id"),
        hostname: hostname.into(),
        role,
        availability: Availability::Active,
        status: NodeStatus::Ready,
        agent_up: true,
        labels: BTreeMap::new(),
        nano_cpus: 2_000_000_000,
        memory_bytes: 4 << 30,
        leader: false,
        in_swarm: true,
    });
    state.nodes.len() - 1
}

pub fn spec(name: &str, image: &str, replicas: Option<u64>) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        labels: BTreeMap::new(),
        mode: match replicas {
            Some(replicas) => ServiceMode::Replicated { replicas },
            None => ServiceMode::Global,
        },
        update_config: None,
        rollback_config: None,
        task: Rc::new(TaskSpec {
            image: image.into(),
            init: Some(false),
            ..TaskSpec::default()
        }),
        ports: Vec::new(),
        endpoint_mode: "".into(),
    }
}

pub fn service(state: &mut ClusterState, id: &str, spec: ServiceSpec) -> ServiceId {
    state
        .service_names
        .insert(spec.name.clone(), state.services.len());
    state.services.push(Service {
        id: Id::parse(id).expect("a 25-character base-36 id"),
        spec,
        spec_version: 1,
        previous_spec: None,
        previous_spec_version: None,
        update_status: None,
        created_at: SimTime::ZERO,
        updated_at: SimTime::ZERO,
        removed: false,
    });
    state.services.len() - 1
}

/// A task of `service` in `slot` created at `created`, last changed at
/// `timestamp` (both counted from the start of the run), with the service's current task spec unless `image` is given.
#[allow(clippy::too_many_arguments)]
pub fn task(
    state: &mut ClusterState,
    id: &str,
    service: ServiceId,
    slot: u64,
    node: Option<NodeId>,
    image: Option<&str>,
    desired: TaskState,
    observed: TaskState,
    created: SimDuration,
    timestamp: SimDuration,
) -> usize {
    let svc = &state.services[service];
    let spec = match image {
        Some(image) => Rc::new(TaskSpec {
            image: image.into(),
            ..(*svc.spec.task).clone()
        }),
        None => svc.spec.task.clone(),
    };
    state.tasks.push(Task {
        id: Id::parse(id).expect("a 25-character base-36 id"),
        service,
        slot,
        node,
        spec,
        spec_version: svc.spec_version,
        ports: Rc::new(svc.spec.ports.clone()),
        desired,
        state: observed,
        timestamp: SimTime::at(timestamp),
        message: "",
        err: None,
        exit_code: None,
        created_at: SimTime::at(created),
        deleted: false,
    });
    state.tasks.len() - 1
}

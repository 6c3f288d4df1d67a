//! `docker service ls` (docker/cli `cli/command/service/formatter.go`,
//! counts from swarmkit `manager/controlapi/service.go`
//! `ListServiceStatuses`) and `docker node ls` (docker/cli
//! `cli/command/node/list.go`, `cli/command/node/formatter.go`).

use crate::docker::format::tabwriter;
use crate::docker::format::text::{display_image, ingress_ports, natural_cmp, truncate_id};
use crate::sim::time::SimTime;
use crate::swarm::model::{
    Availability, NodeId, NodeRole, NodeStatus, Service, ServiceMode, TaskState,
};
use crate::swarm::store::ClusterState;

/// The engine version every simulated node reports (Debian's `docker.io`
/// on these machines).
pub const ENGINE_VERSION: &str = "20.10.24";

/// Renders `docker service ls`. `now` is unused (the table has no times)
/// but kept so every renderer has the same shape.
pub fn service_ls(state: &ClusterState, _now: SimTime) -> String {
    let mut services: Vec<(usize, &Service)> = state
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.removed)
        .collect();
    services.sort_by(|a, b| natural_cmp(&a.1.spec.name, &b.1.spec.name).then(a.0.cmp(&b.0)));

    let header = ["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"].map(String::from);
    let mut rows = vec![header.to_vec()];
    for (id, svc) in services {
        rows.push(vec![
            truncate_id(&svc.id).to_string(),
            svc.spec.name.to_string(),
            match svc.spec.mode {
                ServiceMode::Replicated { .. } => "replicated".to_string(),
                ServiceMode::Global => "global".to_string(),
            },
            replicas(state, id, svc),
            display_image(&svc.spec.task.image),
            ingress_ports(&svc.spec.ports),
        ]);
    }
    tabwriter::table(rows)
}

/// `<running>/<desired>`, plus ` (max N per node)` for replicated services
/// with a placement limit. Running = tasks in the store whose observed
/// state is RUNNING, whatever their desired state; desired = replicas, or
/// for global services the tasks whose desired state is RUNNING.
fn replicas(state: &ClusterState, id: usize, svc: &Service) -> String {
    let tasks = || state.service_tasks(id);
    let running = tasks().filter(|t| t.state == TaskState::Running).count();
    let (desired, max) = match svc.spec.mode {
        ServiceMode::Replicated { replicas } => {
            (replicas as usize, svc.spec.task.placement.max_replicas)
        }
        ServiceMode::Global => (
            tasks().filter(|t| t.desired == TaskState::Running).count(),
            0,
        ),
    };
    if max > 0 {
        format!("{running}/{desired} (max {max} per node)")
    } else {
        format!("{running}/{desired}")
    }
}

/// Renders `docker node ls` as seen from the CLI connected to `self_node`.
///
/// Rows sorted by hostname in natural order. The ID cell is the full node
/// id followed by ` *` on the node the CLI talks to, by two spaces
/// otherwise (the table format is `{{.ID}} {{if .Self}}*{{else}} {{end}}`).
/// MANAGER STATUS: `Leader`, else the raft reachability of a manager
/// (`Reachable`, or `Unreachable` while the node is down), empty for
/// workers.
pub fn node_ls(state: &ClusterState, self_node: NodeId) -> String {
    let mut nodes: Vec<(usize, &crate::swarm::model::Node)> = state
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.in_swarm)
        .collect();
    nodes.sort_by(|a, b| natural_cmp(&a.1.hostname, &b.1.hostname).then(a.0.cmp(&b.0)));

    let header = [
        "ID  ",
        "HOSTNAME",
        "STATUS",
        "AVAILABILITY",
        "MANAGER STATUS",
        "ENGINE VERSION",
    ]
    .map(String::from);
    let mut rows = vec![header.to_vec()];
    for (i, n) in nodes {
        let mark = if i == self_node { '*' } else { ' ' };
        let status = match n.status {
            NodeStatus::Unknown => "Unknown",
            NodeStatus::Down => "Down",
            NodeStatus::Ready => "Ready",
            NodeStatus::Disconnected => "Disconnected",
        };
        let availability = match n.availability {
            Availability::Active => "Active",
            Availability::Pause => "Pause",
            Availability::Drain => "Drain",
        };
        let manager = match n.role {
            NodeRole::Worker => "",
            NodeRole::Manager if n.leader => "Leader",
            NodeRole::Manager if n.status == NodeStatus::Down => "Unreachable",
            NodeRole::Manager => "Reachable",
        };
        rows.push(vec![
            format!("{} {mark}", n.id),
            n.hostname.to_string(),
            status.to_string(),
            availability.to_string(),
            manager.to_string(),
            ENGINE_VERSION.to_string(),
        ]);
    }
    tabwriter::table(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::format::fixtures::{node, service, spec, task};
    use crate::sim::time::SimDuration;
    use crate::swarm::model::{PortConfig, PublishMode, TaskState::*};
    use std::rc::Rc;

    #[test]
    fn services_sorted_with_counts() {
        let mut st = ClusterState::default();
        let n1 = node(
            &mut st,
            "n1aaaaaaaaaaaaaaaaaaaaaaa",
            "node-1",
            NodeRole::Manager,
        );
        let n2 = node(
            &mut st,
            "n2aaaaaaaaaaaaaaaaaaaaaaa",
            "node-2",
            NodeRole::Worker,
        );
        let mut web = spec("web", "docker.io/library/nginx:1.27", Some(3));
        web.ports = vec![
            PortConfig {
                protocol: "tcp".into(),
                target: 443,
                published: 8443,
                mode: PublishMode::Ingress,
            },
            PortConfig {
                protocol: "tcp".into(),
                target: 80,
                published: 8080,
                mode: PublishMode::Ingress,
            },
        ];
        let web = service(&mut st, "wwwwwwwwwwwwwwwwwwwwwwwww", web);
        let mut cache = spec("cache10", "redis:7", Some(4));
        let mut t = (*cache.task).clone();
        t.placement.max_replicas = 1;
        cache.task = Rc::new(t);
        let cache = service(&mut st, "ccccccccccccccccccccccccc", cache);
        let agent = service(
            &mut st,
            "aaaaaaaaaaaaaaaaaaaaaaaaa",
            spec("agent", "busybox", None),
        );
        let gone = service(
            &mut st,
            "ggggggggggggggggggggggggg",
            spec("cache2", "x:1", Some(1)),
        );
        st.services[gone].removed = true;
        // web: two running, an old one still running during start-first
        // (counts), one preparing, one reaped running task (does not count).
        task(
            &mut st,
            "t01aaaaaaaaaaaaaaaaaaaaaa",
            web,
            1,
            Some(n1),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        task(
            &mut st,
            "t02aaaaaaaaaaaaaaaaaaaaaa",
            web,
            2,
            Some(n2),
            None,
            Shutdown,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        task(
            &mut st,
            "t03aaaaaaaaaaaaaaaaaaaaaa",
            web,
            2,
            Some(n2),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        task(
            &mut st,
            "t04aaaaaaaaaaaaaaaaaaaaaa",
            web,
            3,
            Some(n2),
            None,
            Running,
            Preparing,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        let r = task(
            &mut st,
            "t05aaaaaaaaaaaaaaaaaaaaaa",
            web,
            3,
            Some(n2),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        st.tasks[r].deleted = true;
        task(
            &mut st,
            "t06aaaaaaaaaaaaaaaaaaaaaa",
            cache,
            1,
            Some(n1),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        // agent (global): desired = tasks desired RUNNING.
        task(
            &mut st,
            "t07aaaaaaaaaaaaaaaaaaaaaa",
            agent,
            0,
            Some(n1),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        task(
            &mut st,
            "t08aaaaaaaaaaaaaaaaaaaaaa",
            agent,
            0,
            Some(n2),
            None,
            Running,
            Starting,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        task(
            &mut st,
            "t09aaaaaaaaaaaaaaaaaaaaaa",
            agent,
            0,
            Some(n2),
            None,
            Shutdown,
            Failed,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        let got = service_ls(&st, SimTime::ZERO);
        let want = concat!(
            "ID             NAME      MODE         REPLICAS               IMAGE        PORTS\n",
            "aaaaaaaaaaaa   agent     global       1/2                    busybox      \n",
            "cccccccccccc   cache10   replicated   1/4 (max 1 per node)   redis:7      \n",
            "wwwwwwwwwwww   web       replicated   3/3                    nginx:1.27   *:8080->80/tcp, *:8443->443/tcp\n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn no_services_prints_the_header() {
        let st = ClusterState::default();
        assert_eq!(
            service_ls(&st, SimTime::ZERO),
            "ID        NAME      MODE      REPLICAS   IMAGE     PORTS\n"
        );
    }

    #[test]
    fn nodes_like_docker() {
        let mut st = ClusterState::default();
        let m1 = node(
            &mut st,
            "4dlqm0bj6bxz1ysf2t0o2c3ig",
            "manager1",
            NodeRole::Manager,
        );
        st.nodes[m1].leader = true;
        let w10 = node(
            &mut st,
            "b6i2w1kms1bxqwrqfdd9nbxbj",
            "worker10",
            NodeRole::Worker,
        );
        st.nodes[w10].availability = Availability::Drain;
        let w2 = node(
            &mut st,
            "9j68exjopxe7wfl6yuxml7a7j",
            "worker2",
            NodeRole::Worker,
        );
        st.nodes[w2].status = NodeStatus::Down;
        st.nodes[w2].availability = Availability::Pause;
        let m2 = node(
            &mut st,
            "1bcef6utixb0l0ca7gxuivsj0",
            "manager2",
            NodeRole::Manager,
        );
        let m3 = node(
            &mut st,
            "38ciaotwjuritcdtn9npbnkuz",
            "manager3",
            NodeRole::Manager,
        );
        st.nodes[m3].status = NodeStatus::Down;
        let got = node_ls(&st, m2);
        let want = concat!(
            "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n",
            "4dlqm0bj6bxz1ysf2t0o2c3ig     manager1   Ready     Active         Leader           20.10.24\n",
            "1bcef6utixb0l0ca7gxuivsj0 *   manager2   Ready     Active         Reachable        20.10.24\n",
            "38ciaotwjuritcdtn9npbnkuz     manager3   Down      Active         Unreachable      20.10.24\n",
            "9j68exjopxe7wfl6yuxml7a7j     worker2    Down      Pause                           20.10.24\n",
            "b6i2w1kms1bxqwrqfdd9nbxbj     worker10   Ready     Drain                           20.10.24\n",
        );
        assert_eq!(got, want);
    }
}

//! `docker service ps` (docker/cli `cli/command/service/ps.go`,
//! `cli/command/task/print.go`, `cli/command/task/formatter.go`).

use std::collections::BTreeSet;

use crate::docker::duration::human_duration;
use crate::docker::format::tabwriter;
use crate::docker::format::text::{
    display_image, ellipsis, natural_cmp, port_mapping, truncate_id,
};
use crate::sim::time::SimTime;
use crate::swarm::model::{PublishMode, ServiceId, Task, TaskState};
use crate::swarm::store::ClusterState;

/// Longest ERROR cell before quoting, in display columns (`maxErrLength`).
const MAX_ERR_LEN: usize = 30;

/// Flags of `docker service ps`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PsOptions {
    /// `--no-trunc`: full ids, images with digest, whole errors.
    pub no_trunc: bool,
    /// `-q`: full task ids only, one per line.
    pub quiet: bool,
    /// `--filter desired-state=<state>`.
    pub desired_state: Option<TaskState>,
}

/// Renders `docker service ps <services...>` at time `now`.
///
/// Lists every task of the given services still in the store (reaped tasks
/// are gone), sorted by NAME in natural order and, within a name, newest
/// first; rows repeating the previous row's name get the ` \_ ` prefix.
/// Tasks created at the same simulated instant are ordered by creation
/// sequence (a real engine's nanosecond timestamps never tie: the task
/// created later is newer).
pub fn service_ps(
    state: &ClusterState,
    services: &[ServiceId],
    opts: &PsOptions,
    now: SimTime,
) -> String {
    let rows = sorted_tasks(state, services, opts);
    if opts.quiet {
        return rows.iter().map(|(_, t)| format!("{}\n", t.id)).collect();
    }
    let mut table = vec![PS_HEADER.map(String::from).to_vec()];
    for mut row in rows_of(state, &rows, opts) {
        row.cells[5] = current_state_at(row.state, row.since, now);
        table.push(row.cells);
    }
    tabwriter::table(table)
}

/// The column headers of `docker service ps`.
pub const PS_HEADER: [&str; 8] = [
    "ID",
    "NAME",
    "IMAGE",
    "NODE",
    "DESIRED STATE",
    "CURRENT STATE",
    "ERROR",
    "PORTS",
];

/// One row of `docker service ps` without its time-dependent cell: the
/// CURRENT STATE cell (index 5) is empty; it is `state` and the time since
/// `since` (see [`current_state_at`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PsRow {
    pub cells: Vec<String>,
    pub state: TaskState,
    pub since: SimTime,
}

/// The rows `docker service ps` shows now, in its order, with the CURRENT
/// STATE cell left for the caller (it depends on the instant of viewing).
pub fn ps_rows(state: &ClusterState, services: &[ServiceId], opts: &PsOptions) -> Vec<PsRow> {
    let rows = sorted_tasks(state, services, opts);
    rows_of(state, &rows, opts)
}

fn sorted_tasks<'a>(
    state: &'a ClusterState,
    services: &[ServiceId],
    opts: &PsOptions,
) -> Vec<(String, &'a Task)> {
    let wanted: BTreeSet<ServiceId> = services.iter().copied().collect();
    let mut rows: Vec<(String, usize, &Task)> = state
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.deleted && wanted.contains(&t.service))
        .filter(|(_, t)| opts.desired_state.is_none_or(|d| t.desired == d))
        .filter_map(|(i, t)| {
            let service = state.services.get(t.service)?;
            Some((task_name(state, t, &service.spec.name), i, t))
        })
        .collect();
    rows.sort_by(|a, b| {
        natural_cmp(&a.0, &b.0).then((b.2.created_at, b.1).cmp(&(a.2.created_at, a.1)))
    });
    rows.into_iter().map(|(n, _, t)| (n, t)).collect()
}

fn rows_of(state: &ClusterState, rows: &[(String, &Task)], opts: &PsOptions) -> Vec<PsRow> {
    let mut out = Vec::with_capacity(rows.len());
    let mut prev_name: Option<&str> = None;
    for (name, t) in rows {
        let shown_name = if prev_name == Some(name.as_str()) {
            format!(" \\_ {name}")
        } else {
            name.clone()
        };
        prev_name = Some(name.as_str());
        out.push(PsRow {
            cells: vec![
                if opts.no_trunc {
                    t.id.to_string()
                } else {
                    truncate_id(&t.id).to_string()
                },
                shown_name,
                if opts.no_trunc {
                    t.spec.image.clone()
                } else {
                    display_image(&t.spec.image)
                },
                t.node
                    .and_then(|n| state.nodes.get(n))
                    .map(|n| n.hostname.to_string())
                    .unwrap_or_default(),
                t.desired.pretty().to_string(),
                String::new(),
                error_cell(t, opts.no_trunc),
                ports_cell(t),
            ],
            state: t.state,
            since: t.timestamp,
        });
    }
    out
}

/// `<service>.<slot>`, or `<service>.<node id>` for global tasks.
fn task_name(state: &ClusterState, t: &Task, service_name: &str) -> String {
    if t.slot > 0 {
        format!("{service_name}.{}", t.slot)
    } else {
        let node = t
            .node
            .and_then(|n| state.nodes.get(n))
            .map_or("", |n| n.id.as_str());
        format!("{service_name}.{node}")
    }
}

/// `Running 37 seconds ago`, `Preparing less than a second ago`: a task
/// in `state` since `since`, seen at `now`.
pub fn current_state_at(state: TaskState, since: SimTime, now: SimTime) -> String {
    format!(
        "{} {} ago",
        state.pretty(),
        human_duration(now.saturating_duration_since(since)).to_lowercase()
    )
}

/// The error cut to 30 columns (29 + `…`) unless `--no-trunc`, then quoted.
fn error_cell(t: &Task, no_trunc: bool) -> String {
    let err = t.err.as_deref().unwrap_or("");
    let err = if no_trunc {
        err.to_string()
    } else {
        ellipsis(err, MAX_ERR_LEN)
    };
    if err.is_empty() {
        err
    } else {
        format!("\"{err}\"")
    }
}

/// Host-mode published ports of the task (`Status.PortStatus`), comma
/// joined. The agent reports port status once the container has been
/// started, so tasks that never got that far show none. Approximation: a
/// task counts as started when it is RUNNING, COMPLETE or FAILED (FAILED
/// only happens at or after STARTING), or SHUTDOWN with an exit code.
fn ports_cell(t: &Task) -> String {
    let started = matches!(
        t.state,
        TaskState::Running | TaskState::Complete | TaskState::Failed
    ) || (t.state == TaskState::Shutdown && t.exit_code.is_some());
    if !started {
        return String::new();
    }
    t.ports
        .iter()
        .filter(|p| p.mode == PublishMode::Host)
        .map(port_mapping)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::format::fixtures::{node, service, spec, task};
    use crate::sim::time::{SimDuration, millis, secs};
    use crate::swarm::model::{NodeRole, PortConfig, TaskState::*};
    use std::rc::Rc;

    /// A constructed example (`docs/swarm-rules.md#docker-cli-service-ps`):
    /// an update from nginx:1.26 to nginx:1.27 whose slot 2 failed and
    /// cannot be placed again.
    fn example() -> (ClusterState, ServiceId) {
        let mut st = ClusterState::default();
        let w1 = node(
            &mut st,
            "n1aaaaaaaaaaaaaaaaaaaaaaa",
            "worker-1",
            NodeRole::Worker,
        );
        let w2 = node(
            &mut st,
            "n2aaaaaaaaaaaaaaaaaaaaaaa",
            "worker-2",
            NodeRole::Worker,
        );
        let web = service(
            &mut st,
            "s1aaaaaaaaaaaaaaaaaaaaaaa",
            spec("web", "nginx:1.27", Some(2)),
        );
        let now = secs(100);
        let old = Some("nginx:1.26");
        task(
            &mut st,
            "v0b3n8r4t6yzabcdefghijklm",
            web,
            1,
            Some(w1),
            old,
            Shutdown,
            Shutdown,
            secs(10),
            now - secs(20),
        );
        task(
            &mut st,
            "q7x0m2c9d1kaabcdefghijklm",
            web,
            1,
            Some(w1),
            None,
            Running,
            Running,
            secs(70),
            now - secs(12),
        );
        task(
            &mut st,
            "z9x8c7v6b5n4abcdefghijklm",
            web,
            2,
            Some(w2),
            old,
            Shutdown,
            Shutdown,
            secs(10),
            now - secs(9),
        );
        let f = task(
            &mut st,
            "a1s2d3f4g5h6abcdefghijklm",
            web,
            2,
            Some(w2),
            None,
            Shutdown,
            Failed,
            secs(80),
            now - secs(8),
        );
        st.tasks[f].err = Some("task: non-zero exit (1)".into());
        let p = task(
            &mut st,
            "h5j6k7l8m9n0abcdefghijklm",
            web,
            2,
            None,
            None,
            Ready,
            Pending,
            secs(90),
            now - secs(3),
        );
        st.tasks[p].err = Some("no suitable node (insufficient resources on 2 nodes)".into());
        // A reaped task never shows.
        let r = task(
            &mut st,
            "deadbeefdeadbeefdeadbeefd",
            web,
            2,
            Some(w2),
            old,
            Shutdown,
            Shutdown,
            secs(1),
            secs(2),
        );
        st.tasks[r].deleted = true;
        (st, web)
    }

    #[test]
    fn reference_example() {
        let (st, web) = example();
        let got = service_ps(&st, &[web], &PsOptions::default(), SimTime::at(secs(100)));
        let want = concat!(
            "ID             NAME        IMAGE        NODE       DESIRED STATE   CURRENT STATE             ERROR                              PORTS\n",
            "q7x0m2c9d1ka   web.1       nginx:1.27   worker-1   Running         Running 12 seconds ago                                       \n",
            "v0b3n8r4t6yz    \\_ web.1   nginx:1.26   worker-1   Shutdown        Shutdown 20 seconds ago                                      \n",
            "h5j6k7l8m9n0   web.2       nginx:1.27              Ready           Pending 3 seconds ago     \"no suitable node (insufficien…\"   \n",
            "a1s2d3f4g5h6    \\_ web.2   nginx:1.27   worker-2   Shutdown        Failed 8 seconds ago      \"task: non-zero exit (1)\"          \n",
            "z9x8c7v6b5n4    \\_ web.2   nginx:1.26   worker-2   Shutdown        Shutdown 9 seconds ago                                       \n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn quiet_prints_full_ids_in_table_order() {
        let (st, web) = example();
        let opts = PsOptions {
            quiet: true,
            ..PsOptions::default()
        };
        let got = service_ps(&st, &[web], &opts, SimTime::at(secs(100)));
        let want = "q7x0m2c9d1kaabcdefghijklm\nv0b3n8r4t6yzabcdefghijklm\nh5j6k7l8m9n0abcdefghijklm\na1s2d3f4g5h6abcdefghijklm\nz9x8c7v6b5n4abcdefghijklm\n";
        assert_eq!(got, want);
    }

    #[test]
    fn desired_state_filter_and_no_trunc() {
        let (st, web) = example();
        let opts = PsOptions {
            no_trunc: true,
            quiet: false,
            desired_state: Some(Ready),
        };
        let got = service_ps(&st, &[web], &opts, SimTime::at(secs(100)));
        let want = concat!(
            "ID                          NAME      IMAGE        NODE      DESIRED STATE   CURRENT STATE           ERROR                                                    PORTS\n",
            "h5j6k7l8m9n0abcdefghijklm   web.2     nginx:1.27             Ready           Pending 3 seconds ago   \"no suitable node (insufficient resources on 2 nodes)\"   \n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn global_names_natural_order_and_host_ports() {
        let mut st = ClusterState::default();
        let a = node(
            &mut st,
            "abcdefghijklmnopqrstuvwxy",
            "node-a",
            NodeRole::Manager,
        );
        let mut sp = spec("agent", "busybox:1.36", None);
        sp.ports = vec![PortConfig {
            protocol: "tcp".into(),
            target: 80,
            published: 8080,
            mode: PublishMode::Host,
        }];
        let g = service(&mut st, "s2aaaaaaaaaaaaaaaaaaaaaaa", sp);
        let mut sp10 = spec("web", "nginx:1.27", Some(10));
        sp10.ports = Vec::new();
        let w = service(&mut st, "s3aaaaaaaaaaaaaaaaaaaaaaa", sp10);
        task(
            &mut st,
            "t1aaaaaaaaaaaaaaaaaaaaaaa",
            g,
            0,
            Some(a),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            SimDuration::ZERO,
        );
        task(
            &mut st,
            "t2aaaaaaaaaaaaaaaaaaaaaaa",
            w,
            10,
            Some(a),
            None,
            Running,
            Preparing,
            SimDuration::ZERO,
            secs(3599),
        );
        task(
            &mut st,
            "t3aaaaaaaaaaaaaaaaaaaaaaa",
            w,
            2,
            Some(a),
            None,
            Running,
            Running,
            SimDuration::ZERO,
            secs(3599) + millis(500),
        );
        let t = task(
            &mut st,
            "t4aaaaaaaaaaaaaaaaaaaaaaa",
            g,
            0,
            Some(a),
            None,
            Shutdown,
            Shutdown,
            SimDuration::ZERO,
            secs(1),
        );
        st.tasks[t].ports = Rc::new(Vec::new());
        st.tasks[t].deleted = true;
        let got = service_ps(
            &st,
            &[w, g, w],
            &PsOptions::default(),
            SimTime::at(secs(3600)),
        );
        let want = concat!(
            "ID             NAME                              IMAGE          NODE      DESIRED STATE   CURRENT STATE                    ERROR     PORTS\n",
            "t1aaaaaaaaaa   agent.abcdefghijklmnopqrstuvwxy   busybox:1.36   node-a    Running         Running about an hour ago                  *:8080->80/tcp\n",
            "t3aaaaaaaaaa   web.2                             nginx:1.27     node-a    Running         Running less than a second ago             \n",
            "t2aaaaaaaaaa   web.10                            nginx:1.27     node-a    Running         Preparing 1 second ago                     \n",
        );
        assert_eq!(got, want);
    }

    #[test]
    fn no_tasks_prints_the_header_only() {
        let (st, web) = example();
        let opts = PsOptions {
            desired_state: Some(Remove),
            ..PsOptions::default()
        };
        let got = service_ps(&st, &[web], &opts, SimTime::at(secs(100)));
        assert_eq!(
            got,
            "ID        NAME      IMAGE     NODE      DESIRED STATE   CURRENT STATE   ERROR     PORTS\n"
        );
    }
}

//! The scheduler (swarmkit `manager/scheduler/`): places PENDING tasks on
//! nodes.
//!
//! - Filters in swarmkit's order (`pipeline.go`): ReadyFilter,
//!   ResourceFilter, ConstraintFilter, HostPortFilter, MaxReplicasFilter.
//! - Node order (`nodeLess`): ≥ 5 recent failures of this service version
//!   sink; then fewer active tasks of this service; then fewer active tasks
//!   in total; then — where swarmkit leaves the tie to Go's map order —
//!   scenario node order.
//! - Assignment walk (`scheduleNTasksOnNodes`) and spread preferences
//!   (`scheduleNTasksOnSubtree`).
//! - A task that fits nowhere stays PENDING with `no suitable node (...)`.
//!
//! A pass runs at the instant something changed (swarmkit debounces passes
//! by 50 ms; the simulator runs them without that latency). Tasks of one
//! service and spec version are scheduled together, oldest first.

use std::collections::{BTreeMap, BTreeSet};

use crate::swarm::model::{
    Availability, NodeId, NodeStatus, PublishMode, ServiceId, TaskId, TaskState,
};
use crate::swarm::nodeset::{MAX_FAILURES, NodeSet, OrderKey};
use crate::swarm::store::{NodeDelta, Store};

#[derive(Debug, Default)]
pub struct SchedulerState {
    /// Per-node counts, reservations, failures and per-service order.
    pub nodes: NodeSet,
    /// Buffers a pass reuses instead of allocating each time (emptied
    /// after use; only their capacity carries over).
    scratch: Scratch,
}

#[derive(Debug, Default)]
struct Scratch {
    /// The pass's groups, (service, spec version), oldest task first.
    group_keys: Vec<(ServiceId, u64)>,
    /// The pass's pending tasks with their group's index, in task order.
    members: Vec<(usize, TaskId)>,
    /// The group being scheduled.
    queue: std::collections::VecDeque<TaskId>,
    /// A walk's node order.
    ordered: Vec<NodeId>,
}

impl SchedulerState {
    pub fn new(nodes: usize) -> SchedulerState {
        SchedulerState {
            nodes: NodeSet::new(nodes),
            scratch: Scratch::default(),
        }
    }

    /// Applies the changes the store journaled since the last call to the
    /// node set, in order (the scheduler's view of task events, like
    /// swarmkit's `Scheduler.handleTaskEvent` updating its `nodeSet`).
    #[inline]
    pub fn sync(&mut self, store: &mut Store) {
        // Most events move no counter: nothing to apply.
        if !store.node_journal.is_empty() {
            self.apply_journal(store);
        }
    }

    fn apply_journal(&mut self, store: &mut Store) {
        for d in store.node_journal.drain(..) {
            match d {
                NodeDelta::Active {
                    node,
                    service,
                    delta,
                } => self.nodes.add_active(node, service, delta),
                NodeDelta::Reserved { node, cpu, mem } => self.nodes.add_reserved(node, cpu, mem),
                NodeDelta::Failure {
                    node,
                    service,
                    version,
                    at,
                } => self.nodes.record_failure(node, service, version, at),
            }
        }
    }
}

/// Why a node was filtered out, in pipeline order (for the explanation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FilterFail {
    NotReady = 0,
    Resources = 1,
    Constraints = 2,
    HostPort = 3,
    MaxReplicas = 4,
}

impl FilterFail {
    fn explain(self, n: usize) -> String {
        let nodes = if n == 1 {
            "1 node".to_string()
        } else {
            format!("{n} nodes")
        };
        match self {
            FilterFail::NotReady => format!("{nodes} not available for new tasks"),
            FilterFail::Resources => format!("insufficient resources on {nodes}"),
            FilterFail::Constraints => format!("scheduling constraints not satisfied on {nodes}"),
            FilterFail::HostPort => format!("host-mode port already in use on {nodes}"),
            FilterFail::MaxReplicas => "max replicas per node limit exceed".to_string(),
        }
    }
}

/// The nodes of one `scheduleNTasksOnNodes` walk, in `nodeLess` order as
/// it stood when the walk began, produced as the walk reaches them.
///
/// swarmkit sorts every node before each walk; the walk only ever looks
/// at a prefix of that order (it fills the best node until the next one is
/// better, and wraps round only when every node has had a task). Taking
/// the nodes lazily from the node set's per-service order gives the same
/// sequence at O(log N) a node. Only nodes the walk has already taken can
/// change their counts during the walk, so the untaken rest of the order
/// is exactly what a sort at the start would have given.
struct Walk {
    /// The order so far (nodes that pass the filters for the first task).
    ordered: Vec<NodeId>,
    /// Every node has been produced: `ordered.len()` is the count.
    exhausted: bool,
    source: WalkSource,
}

enum WalkSource {
    /// A given subset (placement preferences' branches), sorted in full.
    Sorted,
    /// The service's order in the node set, then the sinking nodes
    /// (sorted by their key when the walk began).
    Lazy {
        cursor: Option<OrderKey>,
        sinking: Vec<NodeId>,
        next_sink: usize,
    },
}

impl Walk {
    /// The nodes that may rank after others for their recent failures,
    /// in the walk's order.
    fn sinking_candidates(&self) -> &[NodeId] {
        match &self.source {
            WalkSource::Sorted => &self.ordered,
            WalkSource::Lazy { sinking, .. } => sinking,
        }
    }
}

impl SchedulerState {
    /// The walk's `i`-th node, if the order has that many: mostly one
    /// already produced (inlined), else produced by [`Self::walk_more`].
    #[inline]
    fn walk_get(
        &mut self,
        s: &mut Store,
        w: &mut Walk,
        i: usize,
        probe: TaskId,
        service: ServiceId,
    ) -> Option<NodeId> {
        match w.ordered.get(i) {
            Some(&node) => Some(node),
            None => self.walk_more(s, w, i, probe, service),
        }
    }

    fn walk_more(
        &mut self,
        s: &mut Store,
        w: &mut Walk,
        i: usize,
        probe: TaskId,
        service: ServiceId,
    ) -> Option<NodeId> {
        while w.ordered.len() <= i && !w.exhausted {
            let next = match &mut w.source {
                WalkSource::Sorted => None,
                WalkSource::Lazy {
                    cursor,
                    sinking,
                    next_sink,
                } => loop {
                    if let Some(key) = self.nodes.next_unmarked(service, *cursor) {
                        *cursor = Some(key);
                        let node = key.2 as usize;
                        self.nodes.mark(node);
                        if s.state.nodes[node].in_swarm
                            && self.filter_node(s, probe, node, 0).is_ok()
                        {
                            break Some(node);
                        }
                    } else if let Some(&node) = sinking.get(*next_sink) {
                        *next_sink += 1;
                        if s.state.nodes[node].in_swarm
                            && self.filter_node(s, probe, node, 0).is_ok()
                        {
                            break Some(node);
                        }
                    } else {
                        break None;
                    }
                },
            };
            match next {
                Some(node) => w.ordered.push(node),
                None => w.exhausted = true,
            }
        }
        w.ordered.get(i).copied()
    }

    /// How many nodes the walk has in all (produces the rest).
    fn walk_count(
        &mut self,
        s: &mut Store,
        w: &mut Walk,
        probe: TaskId,
        service: ServiceId,
    ) -> usize {
        self.walk_get(s, w, usize::MAX - 1, probe, service);
        w.ordered.len()
    }

    /// The index `iter` stands for, wrapping round once the walk went past
    /// the last node (`iter % count` in swarmkit).
    fn walk_index(
        &mut self,
        s: &mut Store,
        w: &mut Walk,
        iter: usize,
        probe: TaskId,
        service: ServiceId,
    ) -> usize {
        if self.walk_get(s, w, iter, probe, service).is_some() {
            iter
        } else {
            iter % self.walk_count(s, w, probe, service)
        }
    }
}

impl SchedulerState {
    /// The filter pipeline for one task on one node (`Pipeline.Process`).
    fn filter_node(
        &self,
        s: &Store,
        task: TaskId,
        node: NodeId,
        extra_on_node: u32,
    ) -> Result<(), FilterFail> {
        let n = &s.state.nodes[node];
        if n.status != NodeStatus::Ready || n.availability != Availability::Active {
            return Err(FilterFail::NotReady);
        }
        let t = &s.state.tasks[task];
        let r = &t.spec.resources;
        let (cpu, mem) = self.nodes.reserved(node);
        if (r.reserve_nano_cpus > 0 || r.reserve_memory > 0)
            && (cpu + r.reserve_nano_cpus > n.nano_cpus || mem + r.reserve_memory > n.memory_bytes)
        {
            return Err(FilterFail::Resources);
        }
        if !t.spec.placement.constraints.is_empty()
            && !s.node_satisfies_constraints(node, &t.spec.placement.constraints)
        {
            return Err(FilterFail::Constraints);
        }
        if t.ports.iter().any(|p| p.mode == PublishMode::Host)
            && self.host_port_in_use(s, task, node)
        {
            return Err(FilterFail::HostPort);
        }
        let max = t.spec.placement.max_replicas;
        if max > 0 {
            let active = self.nodes.by_service(node, t.service) + extra_on_node;
            if u64::from(active) >= max {
                return Err(FilterFail::MaxReplicas);
            }
        }
        Ok(())
    }

    /// HostPortFilter: another task on the node, not yet stopped, holds one
    /// of this task's host-mode published ports.
    fn host_port_in_use(&self, s: &Store, task: TaskId, node: NodeId) -> bool {
        let t = &s.state.tasks[task];
        let wanted: Vec<(u32, &str)> = t
            .ports
            .iter()
            .filter(|p| p.mode == PublishMode::Host && p.published > 0)
            .map(|p| (p.published, p.protocol.as_str()))
            .collect();
        s.state.tasks.iter().enumerate().any(|(i, o)| {
            i != task
                && !o.deleted
                && o.node == Some(node)
                && o.state <= TaskState::Running
                && o.ports.iter().any(|p| {
                    p.mode == PublishMode::Host
                        && wanted.contains(&(p.published, p.protocol.as_str()))
                })
        })
    }

    /// One scheduling pass over all PENDING tasks.
    pub fn pass(&mut self, s: &mut Store) {
        self.sync(s);
        // Group by (service, spec version), oldest task first. `pending`
        // is in task order, so groups come out ordered by their oldest
        // task; they are few, and consecutive tasks mostly share theirs.
        let mut keys = std::mem::take(&mut self.scratch.group_keys);
        let mut members = std::mem::take(&mut self.scratch.members);
        let mut preassigned = Vec::new();
        for &t in &s.pending {
            let task = &s.state.tasks[t];
            if task.deleted || task.state != TaskState::Pending {
                continue;
            }
            if !s.preassigned.is_empty() && s.preassigned.contains_key(&t) {
                preassigned.push(t);
            } else {
                let key = (task.service, task.spec_version);
                let g = match keys.iter().rposition(|k| *k == key) {
                    Some(g) => g,
                    None => {
                        keys.push(key);
                        keys.len() - 1
                    }
                };
                members.push((g, t));
            }
        }
        for t in preassigned {
            let node = s.preassigned[&t];
            match self.filter_node(s, t, node, 0) {
                Ok(()) => {
                    s.preassigned.remove(&t);
                    s.assign(
                        t,
                        node,
                        "scheduler confirmed task can run on preassigned node",
                    );
                    self.sync(s);
                }
                Err(f) => self.no_suitable_node(s, t, vec![(f, 1)]),
            }
        }
        let mut queue = std::mem::take(&mut self.scratch.queue);
        for g in 0..keys.len() {
            queue.clear();
            queue.extend(members.iter().filter(|m| m.0 == g).map(|m| m.1));
            self.schedule_group(s, &mut queue);
        }
        queue.clear();
        keys.clear();
        members.clear();
        self.scratch.queue = queue;
        self.scratch.group_keys = keys;
        self.scratch.members = members;
    }

    /// Schedules one group (`queue`, oldest first, not empty); what is
    /// left in `queue` fits nowhere.
    fn schedule_group(&mut self, s: &mut Store, queue: &mut std::collections::VecDeque<TaskId>) {
        let first = queue[0];
        let (service, version) = {
            let t = &s.state.tasks[first];
            (t.service, t.spec_version)
        };
        let preferences = &s.state.tasks[first].spec.placement.preferences;
        let prefs: Vec<String> = if preferences.is_empty() {
            Vec::new()
        } else {
            preferences.iter().map(|p| p.spread.clone()).collect()
        };
        let n = queue.len();
        if prefs.is_empty() {
            self.schedule_on_nodes(s, n, queue, None, service, version);
        } else {
            // Machines not in the swarm (not joined yet, removed) are no
            // nodes.
            let all_nodes: Vec<NodeId> = (0..s.state.nodes.len())
                .filter(|&n| s.state.nodes[n].in_swarm)
                .collect();
            self.schedule_on_subtree(s, n, queue, &all_nodes, &prefs, service, version);
        }
        // Whatever is left fits nowhere. The tasks of a group share their
        // spec and ports, so the filters give every one the same counts.
        let Some(&first_left) = queue.front() else {
            return;
        };
        let mut counts: BTreeMap<FilterFail, usize> = BTreeMap::new();
        for node in 0..s.state.nodes.len() {
            if !s.state.nodes[node].in_swarm {
                continue;
            }
            if let Err(f) = self.filter_node(s, first_left, node, 0) {
                *counts.entry(f).or_default() += 1;
            }
        }
        let counts: Vec<(FilterFail, usize)> = counts.into_iter().collect();
        while let Some(t) = queue.pop_front() {
            self.no_suitable_node(s, t, counts.clone());
        }
    }

    /// `scheduleNTasksOnSubtree`: split `n` tasks over the label groups of
    /// the first preference so that every group ends up with an equal share
    /// of the service's tasks; recurse; leaves use the node walk.
    #[allow(clippy::too_many_arguments)] // swarmkit's own signature, plus the store
    fn schedule_on_subtree(
        &mut self,
        s: &mut Store,
        n: usize,
        queue: &mut std::collections::VecDeque<TaskId>,
        nodes: &[NodeId],
        prefs: &[String],
        service: ServiceId,
        version: u64,
    ) -> usize {
        if n == 0 {
            return 0;
        }
        let Some((pref, rest)) = prefs.split_first() else {
            return self.schedule_on_nodes(s, n, queue, Some(nodes), service, version);
        };
        // Group nodes by the label value (missing label = "").
        let label = pref
            .strip_prefix("node.labels.")
            .map(|l| (true, l))
            .or_else(|| pref.strip_prefix("engine.labels.").map(|l| (false, l)));
        let mut branches: BTreeMap<String, Vec<NodeId>> = BTreeMap::new();
        for &node in nodes {
            let value = match label {
                Some((true, l)) => s.state.nodes[node]
                    .labels
                    .get(l)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            };
            branches.entry(value).or_default().push(node);
        }
        // Only branches with at least one node passing the filters count
        // (`tree` drops empty subtrees).
        let probe = queue[0];
        let branches: Vec<(Vec<NodeId>, usize)> = branches
            .into_values()
            .filter(|ns| {
                ns.iter()
                    .any(|&nd| self.filter_node(s, probe, nd, 0).is_ok())
            })
            .map(|ns| {
                let tasks = ns
                    .iter()
                    .map(|&nd| self.nodes.by_service(nd, service) as usize)
                    .sum();
                (ns, tasks)
            })
            .collect();
        if branches.is_empty() {
            return 0;
        }
        let mut scheduled = 0;
        let mut in_usable: usize = branches.iter().map(|b| b.1).sum();
        let mut no_room: BTreeSet<usize> = BTreeSet::new();
        while scheduled != n && no_room.len() != branches.len() {
            let usable = branches.len() - no_room.len();
            let total = in_usable + n - scheduled;
            let desired = total / usable;
            let mut remainder = total % usable;
            let mut progressed = false;
            for (i, (ns, tasks)) in branches.iter().enumerate() {
                if no_room.contains(&i) || scheduled == n {
                    continue;
                }
                if *tasks < desired || (*tasks == desired && remainder > 0) {
                    let mut to_assign = desired.saturating_sub(*tasks);
                    if remainder > 0 {
                        to_assign += 1;
                    }
                    to_assign = to_assign.min(n - scheduled);
                    let res =
                        self.schedule_on_subtree(s, to_assign, queue, ns, rest, service, version);
                    if res < to_assign {
                        no_room.insert(i);
                        in_usable -= tasks;
                    } else {
                        remainder = remainder.saturating_sub(1);
                    }
                    if res > 0 {
                        progressed = true;
                    }
                    scheduled += res;
                }
            }
            if !progressed && no_room.len() != branches.len() {
                // Every branch already holds its share: place the rest by
                // the node order.
                let all: Vec<NodeId> = branches
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !no_room.contains(i))
                    .flat_map(|(_, b)| b.0.iter().copied())
                    .collect();
                scheduled +=
                    self.schedule_on_nodes(s, n - scheduled, queue, Some(&all), service, version);
                break;
            }
        }
        scheduled
    }

    /// `scheduleNTasksOnNodes`: fill the best nodes until they are no
    /// better than the next, then round-robin over nodes that still pass.
    /// `nodes` is a subset to walk (a preference branch), or `None` for
    /// every node, taken lazily from the node set (see [`Walk`]).
    fn schedule_on_nodes(
        &mut self,
        s: &mut Store,
        n: usize,
        queue: &mut std::collections::VecDeque<TaskId>,
        nodes: Option<&[NodeId]>,
        service: ServiceId,
        version: u64,
    ) -> usize {
        let Some(&probe) = queue.front() else {
            return 0;
        };
        let now = s.now;
        let mut ordered = std::mem::take(&mut self.scratch.ordered);
        let mut w = match nodes {
            Some(nodes) => {
                ordered.extend(
                    nodes
                        .iter()
                        .copied()
                        .filter(|&nd| self.filter_node(s, probe, nd, 0).is_ok()),
                );
                // Stable: equal keys keep the subset's order.
                let set = &self.nodes;
                ordered.sort_by_key(|&nd| set.key(nd, service, version, now));
                Walk {
                    ordered,
                    exhausted: true,
                    source: WalkSource::Sorted,
                }
            }
            None => {
                let sinking = self.nodes.begin_walk(service, version, now);
                Walk {
                    ordered,
                    exhausted: false,
                    source: WalkSource::Lazy {
                        cursor: None,
                        sinking,
                        next_sink: 0,
                    },
                }
            }
        };
        let placed = self.place_on_walk(s, n, queue, &mut w, probe, service, version);
        // The buffer goes back for the next walk.
        let mut ordered = w.ordered;
        ordered.clear();
        self.scratch.ordered = ordered;
        placed
    }

    /// The walk itself (`scheduleNTasksOnNodes`' loop) over `w`.
    #[allow(clippy::too_many_arguments)] // the walk's state, plus the store
    fn place_on_walk(
        &mut self,
        s: &mut Store,
        n: usize,
        queue: &mut std::collections::VecDeque<TaskId>,
        w: &mut Walk,
        probe: TaskId,
        service: ServiceId,
        version: u64,
    ) -> usize {
        let now = s.now;
        if self.walk_get(s, w, 0, probe, service).is_none() {
            return 0;
        }
        let less = |set: &NodeSet, a: NodeId, b: NodeId| -> bool {
            set.key(a, service, version, now) < set.key(b, service, version, now)
        };
        let mut failed: BTreeSet<usize> = BTreeSet::new();
        let mut iter = 0usize;
        let mut scheduled = 0;
        while scheduled < n {
            let Some(task) = queue.pop_front() else {
                break;
            };
            let idx = self.walk_index(s, w, iter, probe, service);
            let node = w.ordered[idx];
            s.explain(Some(service), |c| {
                let set = &self.nodes;
                let failures = set.recent_failures(node, service, version, now);
                let (by_service, total) = (set.by_service(node, service), set.total(node));
                // Nodes ranked after this one for their recent failures
                // (swarmkit `manager/scheduler/scheduler.go` nodeLess), in
                // the walk's order.
                let avoided: Vec<String> = w
                    .sinking_candidates()
                    .iter()
                    .filter(|&&o| w.ordered.contains(&o) || self.filter_node(c, probe, o, 0).is_ok())
                    .filter_map(|&o| {
                        let f = set.recent_failures(o, service, version, now);
                        (f >= MAX_FAILURES && f > failures)
                            .then(|| format!("{} ({} failures)", c.state.nodes[o].hostname, f))
                    })
                    .collect();
                if !avoided.is_empty() {
                    return format!(
                        "{}: task {} placed on {}: {} avoided for recent failures of this service (5 or more in 5 minutes sink a node); of the others, {} has the fewest tasks: {by_service} of the service and {total} in all (ties go to the node listed first)",
                        c.task_name(task),
                        c.short_id(task),
                        c.state.nodes[node].hostname,
                        avoided.join(", "),
                        c.state.nodes[node].hostname,
                    );
                }
                format!(
                    "{}: task {} placed on {}: {by_service} task(s) of the service and {total} in all there{}, the fewest (ties go to the node listed first)",
                    c.task_name(task),
                    c.short_id(task),
                    c.state.nodes[node].hostname,
                    if failures >= MAX_FAILURES {
                        format!(", {failures} recent failures")
                    } else {
                        String::new()
                    }
                )
            });
            s.assign(task, node, "scheduler assigned task to node");
            self.sync(s);
            scheduled += 1;
            if scheduled == n || queue.is_empty() {
                break;
            }
            // `iter + 1 < count`: the order has a node after this one.
            if let Some(next) = self.walk_get(s, w, iter + 1, probe, service) {
                if less(&self.nodes, next, node) {
                    iter += 1;
                }
            } else {
                iter += 1;
            }
            let orig = iter;
            let next_task = queue[0];
            loop {
                let idx = self.walk_index(s, w, iter, probe, service);
                if !failed.contains(&idx)
                    && self.filter_node(s, next_task, w.ordered[idx], 0).is_ok()
                {
                    break;
                }
                failed.insert(idx);
                iter += 1;
                // `iter - orig == count`: every node was tried.
                if self.walk_get(s, w, iter - orig, probe, service).is_none() {
                    return scheduled;
                }
            }
        }
        scheduled
    }

    /// `noSuitableNode`: the task stays PENDING with an explanation; a task
    /// of an older spec version that is no longer wanted is shut down.
    fn no_suitable_node(
        &mut self,
        s: &mut Store,
        task: TaskId,
        mut counts: Vec<(FilterFail, usize)>,
    ) {
        let t = &s.state.tasks[task];
        let service = &s.state.services[t.service];
        if t.spec_version != service.spec_version && t.desired >= TaskState::Shutdown {
            s.set_state(task, TaskState::Shutdown, "shutdown", None, "scheduler");
            return;
        }
        // Most failures first; ties keep filter order.
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let err = if counts.is_empty() {
            "no suitable node".to_string()
        } else {
            let parts: Vec<String> = counts.iter().map(|(f, n)| f.explain(*n)).collect();
            format!("no suitable node ({})", parts.join("; "))
        };
        if t.err.as_deref() != Some(err.as_str()) {
            s.explain(Some(t.service), |c| {
                format!(
                    "{}: task {} stays pending: {err}",
                    c.task_name(task),
                    c.short_id(task)
                )
            });
        }
        let message = s.state.tasks[task].message;
        // The timestamp is refreshed on every failed attempt; the state
        // stays PENDING.
        let t = &mut s.state.tasks[task];
        let changed = t.err.as_deref() != Some(err.as_str());
        t.err = Some(err);
        t.timestamp = s.now;
        t.message = message;
        if changed {
            s.log_task(task, "scheduler: no suitable node");
        }
    }
}

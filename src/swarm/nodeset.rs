//! The scheduler's node set (swarmkit `manager/scheduler/nodeset.go` and
//! `nodeinfo.go`): per-node task counts, reservations and recent failures,
//! plus, per service, the nodes kept in `nodeLess` order so that a
//! placement costs O(log N) instead of a sort of every node.
//!
//! The order is documented in `docs/swarm-rules.md#scheduler-node-order`: nodes
//! with at least [`MAX_FAILURES`] recent failures of the task's service
//! version sink (fewer failures first), then fewer active tasks of the
//! service, then fewer active tasks in total, then scenario order (where
//! swarmkit leaves the tie to Go's map order).

use std::collections::BTreeSet;

use crate::sim::time::{SimDuration, SimTime, secs};
use crate::swarm::model::{NodeId, ServiceId};

/// `maxFailures` (scheduler.go): this many recent failures sink a node.
pub const MAX_FAILURES: usize = 5;
/// `monitorFailures` (scheduler.go): how long a failure counts.
pub const MONITOR_FAILURES: SimDuration = secs(300);

/// A node's place in one service's order: (tasks of the service, tasks in
/// total, node index). Failures are handled apart (they are rare and
/// expire with time).
pub type OrderKey = (u32, u32, u32);

/// A failure of a task of (service, spec version) on a node at a time.
#[derive(Debug, Clone, Copy)]
struct Failure {
    service: ServiceId,
    version: u64,
    at: SimTime,
}

/// Up to this many nodes, a service's order is a sorted `Vec` (a few
/// compares and a short move per change, one allocation); beyond, a
/// `BTreeSet` (O(log N) per change however many nodes tie).
const SMALL_ORDER: usize = 64;

/// Up to this many nodes, no per-service order is kept at all: a walk
/// begins by sorting every node's current key into one reused buffer
/// (a handful of compares), so a count change is only a counter update
/// and a run allocates no order. The sequence is the same: the keys are
/// the nodes' current ones when the walk begins, as in a kept order.
const TINY_ORDER: usize = 8;

/// The first key of the ascending `keys` after `cursor` (from the start
/// without one) that `take` accepts.
fn next_in_sorted(
    keys: &[OrderKey],
    cursor: Option<OrderKey>,
    mut take: impl FnMut(&OrderKey) -> bool,
) -> Option<OrderKey> {
    let start = cursor.map_or(0, |c| keys.partition_point(|k| *k <= c));
    keys[start..].iter().copied().find(|k| take(k))
}

/// The keys of one service's order, ascending: the same sequence either
/// way, only the cost of a change differs.
#[derive(Debug)]
enum OrderSet {
    Small(Vec<OrderKey>),
    Large(BTreeSet<OrderKey>),
}

impl OrderSet {
    fn new(mut keys: Vec<OrderKey>) -> OrderSet {
        if keys.len() <= SMALL_ORDER {
            keys.sort_unstable();
            OrderSet::Small(keys)
        } else {
            OrderSet::Large(keys.into_iter().collect())
        }
    }

    /// Moves a node from its `old` key to its `new` one.
    fn replace(&mut self, old: OrderKey, new: OrderKey) {
        match self {
            OrderSet::Small(v) => {
                // Counts change by one at a time: the node moves a short
                // way, past the nodes between its two keys.
                let mut i = v
                    .binary_search(&old)
                    .expect("the node's key is in its order");
                if new > old {
                    while i + 1 < v.len() && v[i + 1] < new {
                        v[i] = v[i + 1];
                        i += 1;
                    }
                } else {
                    while i > 0 && v[i - 1] > new {
                        v[i] = v[i - 1];
                        i -= 1;
                    }
                }
                v[i] = new;
            }
            OrderSet::Large(set) => {
                set.remove(&old);
                set.insert(new);
            }
        }
    }

    /// The first key after `cursor` (from the start without one) that
    /// `take` accepts.
    fn next_after(
        &self,
        cursor: Option<OrderKey>,
        mut take: impl FnMut(&OrderKey) -> bool,
    ) -> Option<OrderKey> {
        use std::ops::Bound::{Excluded, Unbounded};
        match self {
            OrderSet::Small(v) => next_in_sorted(v, cursor, take),
            OrderSet::Large(set) => {
                let range = match cursor {
                    Some(c) => set.range((Excluded(c), Unbounded)),
                    None => set.range(..),
                };
                range.copied().find(|k| take(k))
            }
        }
    }
}

/// One service's nodes in `nodeLess` order. A count change only notes the
/// node as stale (with the key it has in `set`); the set is updated when
/// the next walk of the service begins ([`NodeSet::begin_walk`]). A node
/// that changes many times between two walks (several tasks placed on it,
/// or changes caused by other services) is moved once, and a service that
/// is not scheduled any more costs no tree operation at all.
///
/// During a walk only the nodes it has already taken (marked) change, so
/// the untaken nodes' keys in `set` stay exact while it runs.
#[derive(Debug)]
struct ServiceOrder {
    set: OrderSet,
    /// Nodes whose key in `set` is out of date, with that key.
    stale: Vec<OrderKey>,
    is_stale: Vec<bool>,
}

/// One node's counters (one allocation for all nodes, not one per kind).
#[derive(Debug, Clone, Default)]
struct PerNode {
    /// Active tasks (desired ≤ complete and observed ≤ running).
    total: u32,
    /// Reserved CPU (nano CPUs) and memory (bytes).
    reserved_cpu: i64,
    reserved_mem: i64,
    /// Recent failures, oldest first; older than [`MONITOR_FAILURES`]
    /// are pruned.
    failures: Vec<Failure>,
    /// The walk that last took or passed over the node (see
    /// [`NodeSet::mark`]).
    mark: u64,
}

#[derive(Debug, Default)]
pub struct NodeSet {
    /// Per node: counts, reservations, failures, walk mark.
    nodes: Vec<PerNode>,
    /// Active tasks per service, per node: `by_service[service][node]`.
    by_service: Vec<Vec<u32>>,
    /// Nodes that have failure records.
    failing_nodes: BTreeSet<NodeId>,
    /// Per service, built on its first scheduling walk: every node keyed
    /// by [`OrderKey`], brought up to date when a walk begins.
    order: Vec<Option<ServiceOrder>>,
    walk_epoch: u64,
    /// At most [`TINY_ORDER`] nodes: `order` stays empty and the current
    /// walk's order is `snapshot`, sorted when the walk began.
    tiny: bool,
    snapshot: Vec<OrderKey>,
}

impl NodeSet {
    pub fn new(nodes: usize) -> NodeSet {
        NodeSet {
            nodes: vec![PerNode::default(); nodes],
            tiny: nodes <= TINY_ORDER,
            ..Default::default()
        }
    }

    pub fn total(&self, node: NodeId) -> u32 {
        self.nodes[node].total
    }

    pub fn by_service(&self, node: NodeId, service: ServiceId) -> u32 {
        self.by_service
            .get(service)
            .map_or(0, |v| v.get(node).copied().unwrap_or(0))
    }

    pub fn reserved(&self, node: NodeId) -> (i64, i64) {
        (self.nodes[node].reserved_cpu, self.nodes[node].reserved_mem)
    }

    /// A task of `service` became active (`+1`) or stopped being active
    /// (`-1`) on `node`.
    pub fn add_active(&mut self, node: NodeId, service: ServiceId, delta: i32) {
        if self.by_service.len() <= service {
            self.by_service.resize_with(service + 1, Vec::new);
        }
        let n_nodes = self.nodes.len();
        let counts = &mut self.by_service[service];
        if counts.is_empty() {
            counts.resize(n_nodes, 0);
        }
        let old_service = counts[node];
        let old_total = self.nodes[node].total;
        counts[node] = old_service.wrapping_add_signed(delta);
        self.nodes[node].total = old_total.wrapping_add_signed(delta);
        for (s, order) in self.order.iter_mut().enumerate() {
            let Some(order) = order else { continue };
            if order.is_stale[node] {
                continue;
            }
            // The key the node has in this service's set: its counts
            // before this change.
            let old_by = if s == service {
                old_service
            } else {
                self.by_service
                    .get(s)
                    .and_then(|v| v.get(node))
                    .copied()
                    .unwrap_or(0)
            };
            order.is_stale[node] = true;
            order.stale.push((old_by, old_total, node as u32));
        }
    }

    pub fn add_reserved(&mut self, node: NodeId, cpu: i64, mem: i64) {
        self.nodes[node].reserved_cpu += cpu;
        self.nodes[node].reserved_mem += mem;
    }

    /// How many failure records are kept over all nodes (recent ones, and
    /// expired ones not yet pruned): the length of the lists a placement
    /// may read.
    pub fn failures_kept(&self) -> usize {
        self.nodes.iter().map(|n| n.failures.len()).sum()
    }

    /// Records a failure (`nodeinfo.taskFailed`), pruning expired ones.
    pub fn record_failure(&mut self, node: NodeId, service: ServiceId, version: u64, now: SimTime) {
        self.prune(node, now);
        self.nodes[node].failures.push(Failure {
            service,
            version,
            at: now,
        });
        self.failing_nodes.insert(node);
    }

    fn prune(&mut self, node: NodeId, now: SimTime) {
        let since = now.saturating_sub(MONITOR_FAILURES);
        let list = &mut self.nodes[node].failures;
        let expired = list.iter().take_while(|f| f.at <= since).count();
        list.drain(..expired);
        if list.is_empty() {
            self.failing_nodes.remove(&node);
        }
    }

    /// Failures of (service, version) on `node` within the last
    /// [`MONITOR_FAILURES`] (`countRecentFailures`).
    pub fn recent_failures(
        &self,
        node: NodeId,
        service: ServiceId,
        version: u64,
        now: SimTime,
    ) -> usize {
        let since = now.saturating_sub(MONITOR_FAILURES);
        self.nodes[node]
            .failures
            .iter()
            .filter(|f| f.service == service && f.version == version && f.at > since)
            .count()
    }

    /// The failure count that orders nodes: the count itself when it sinks
    /// the node, else 0.
    pub fn sink(&self, node: NodeId, service: ServiceId, version: u64, now: SimTime) -> usize {
        let f = self.recent_failures(node, service, version, now);
        if f >= MAX_FAILURES { f } else { 0 }
    }

    /// A node's key in a service's order, from its current counts.
    fn order_key(&self, node: NodeId, service: ServiceId) -> OrderKey {
        (
            self.by_service(node, service),
            self.nodes[node].total,
            node as u32,
        )
    }

    /// The full `nodeLess` key of a node for (service, version).
    pub fn key(
        &self,
        node: NodeId,
        service: ServiceId,
        version: u64,
        now: SimTime,
    ) -> (usize, u32, u32) {
        (
            self.sink(node, service, version, now),
            self.by_service(node, service),
            self.nodes[node].total,
        )
    }

    /// Starts a walk over the nodes of `service` in `nodeLess` order:
    /// prunes expired failures, builds the service's order on first use,
    /// and returns the nodes that sink, sorted by their key.
    pub fn begin_walk(&mut self, service: ServiceId, version: u64, now: SimTime) -> Vec<NodeId> {
        self.walk_epoch += 1;
        // Failures are rare: most walks skip this and the sinking list.
        let any_failing = !self.failing_nodes.is_empty();
        if any_failing {
            let failing: Vec<NodeId> = self.failing_nodes.iter().copied().collect();
            for &node in &failing {
                self.prune(node, now);
            }
        }
        if self.tiny {
            let mut snapshot = std::mem::take(&mut self.snapshot);
            snapshot.clear();
            snapshot.extend((0..self.nodes.len()).map(|n| self.order_key(n, service)));
            snapshot.sort_unstable();
            self.snapshot = snapshot;
        } else {
            if self.order.len() <= service {
                self.order.resize_with(service + 1, || None);
            }
            match &mut self.order[service] {
                None => {
                    let set = OrderSet::new(
                        (0..self.nodes.len())
                            .map(|n| self.order_key(n, service))
                            .collect(),
                    );
                    self.order[service] = Some(ServiceOrder {
                        set,
                        stale: Vec::new(),
                        is_stale: vec![false; self.nodes.len()],
                    });
                }
                Some(order) => {
                    // In place (the order is not moved out and back).
                    let counts = self.by_service.get(service).map_or(&[][..], Vec::as_slice);
                    for old in order.stale.drain(..) {
                        let node = old.2 as usize;
                        order.is_stale[node] = false;
                        let new = (
                            counts.get(node).copied().unwrap_or(0),
                            self.nodes[node].total,
                            old.2,
                        );
                        if new != old {
                            order.set.replace(old, new);
                        }
                    }
                }
            }
        }
        if !any_failing {
            return Vec::new();
        }
        let mut sinking: Vec<NodeId> = self
            .failing_nodes
            .iter()
            .copied()
            .filter(|&n| self.sink(n, service, version, now) > 0)
            .collect();
        sinking.sort_by_key(|&n| (self.key(n, service, version, now), n));
        for &n in &sinking {
            self.nodes[n].mark = self.walk_epoch;
        }
        sinking
    }

    /// Marks a node as taken or passed over by the current walk.
    pub fn mark(&mut self, node: NodeId) {
        self.nodes[node].mark = self.walk_epoch;
    }

    /// The first node after `cursor` in the service's order that the
    /// current walk has not marked; returns its key too.
    pub fn next_unmarked(&self, service: ServiceId, cursor: Option<OrderKey>) -> Option<OrderKey> {
        let unmarked = |&(_, _, n): &OrderKey| self.nodes[n as usize].mark != self.walk_epoch;
        if self.tiny {
            return next_in_sorted(&self.snapshot, cursor, unmarked);
        }
        let set = &self.order.get(service)?.as_ref()?.set;
        set.next_after(cursor, unmarked)
    }

    /// Forgets a removed service's order (it is never scheduled again).
    pub fn drop_service(&mut self, service: ServiceId) {
        if let Some(o) = self.order.get_mut(service) {
            *o = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Both forms of a service's order hold the same keys in the same
    /// sequence after any series of count changes, and a walk from any
    /// cursor finds the same next key.
    #[test]
    fn small_and_large_orders_agree() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for nodes in [1usize, 2, 3, 7, 40] {
            let mut keys: Vec<OrderKey> = (0..nodes).map(|n| (0, 0, n as u32)).collect();
            let mut small = OrderSet::new(keys.clone());
            let mut large = OrderSet::Large(keys.iter().copied().collect());
            for _ in 0..2000 {
                let n = rng.random_range(0..nodes);
                let old = keys[n];
                let by = old.0.saturating_add_signed(rng.random_range(-2..=2));
                let total = old
                    .1
                    .saturating_add_signed(rng.random_range(-2..=2))
                    .max(by);
                let new = (by, total, n as u32);
                if new != old {
                    small.replace(old, new);
                    large.replace(old, new);
                    keys[n] = new;
                }
                let all = |o: &OrderSet| {
                    let mut v = Vec::new();
                    let mut c = None;
                    while let Some(k) = o.next_after(c, |_| true) {
                        v.push(k);
                        c = Some(k);
                    }
                    v
                };
                let mut sorted = keys.clone();
                sorted.sort();
                assert_eq!(all(&small), sorted);
                assert_eq!(all(&large), sorted);
                let skip = rng.random_range(0..nodes) as u32;
                let cursor = sorted.get(rng.random_range(0..nodes)).copied();
                assert_eq!(
                    small.next_after(cursor, |k| k.2 != skip),
                    large.next_after(cursor, |k| k.2 != skip)
                );
            }
        }
    }

    /// A tiny cluster's walk (a sorted snapshot) and a kept order give
    /// the same nodes in the same sequence, whatever the counts, the
    /// marks and the service.
    #[test]
    fn tiny_snapshot_walks_like_a_kept_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for nodes in 1..=TINY_ORDER {
            let mut tiny = NodeSet::new(nodes);
            let mut kept = NodeSet::new(nodes);
            kept.tiny = false;
            assert!(tiny.tiny);
            for _ in 0..500 {
                let service = rng.random_range(0..3usize);
                for _ in 0..rng.random_range(0..4) {
                    let node = rng.random_range(0..nodes);
                    let s2 = rng.random_range(0..3usize);
                    let delta = if tiny.by_service(node, s2) > 0 && rng.random_bool(0.4) {
                        -1
                    } else {
                        1
                    };
                    tiny.add_active(node, s2, delta);
                    kept.add_active(node, s2, delta);
                }
                tiny.begin_walk(service, 1, SimTime::ZERO);
                kept.begin_walk(service, 1, SimTime::ZERO);
                let (mut a, mut b) = (None, None);
                loop {
                    let x = tiny.next_unmarked(service, a);
                    let y = kept.next_unmarked(service, b);
                    assert_eq!(x, y);
                    let Some(k) = x else { break };
                    if rng.random_bool(0.3) {
                        // Taken: marked, and its counts change mid-walk.
                        tiny.mark(k.2 as usize);
                        kept.mark(k.2 as usize);
                        tiny.add_active(k.2 as usize, service, 1);
                        kept.add_active(k.2 as usize, service, 1);
                    }
                    (a, b) = (x, y);
                }
            }
        }
    }
}

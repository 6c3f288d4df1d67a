//! Node liveness (swarmkit `manager/dispatcher/dispatcher.go`,
//! `nodes.go`, `period.go`): a stopped machine stays READY until its
//! heartbeat is overdue. Each heartbeat reply gives the agent a period
//! drawn uniformly in 5 s ± 0.5 s; the node is declared DOWN when no
//! heartbeat arrived within 3 × that period. The simulator draws, per node
//! and stop, the period and how long before the stop the last heartbeat
//! was sent (uniform in one period), from the node's own stream.

use rand::Rng;

use crate::docker::duration::format_go_duration;
use crate::sim::rng::LazyStream;
use crate::sim::time::{SimDuration, SimTime, millis, secs};
use crate::swarm::cluster::{Cluster, Event};
use crate::swarm::model::{NodeId, NodeStatus, TaskState};

/// The dispatcher's view of each node's agent (swarmkit
/// `dispatcher/dispatcher.go`): heartbeat bookkeeping per node.
#[derive(Debug)]
pub struct Dispatcher {
    /// Bumped when a node stops or starts, so stale timers are ignored.
    pub epochs: Vec<u64>,
    /// Per node, the stream the heartbeat period's jitter is drawn from.
    pub heartbeat_rngs: Vec<LazyStream>,
    /// Per node: when the node stopped (for heartbeat expiry).
    pub stopped_at: Vec<Option<SimTime>>,
}

impl Dispatcher {
    pub fn new(heartbeat_rngs: Vec<LazyStream>) -> Dispatcher {
        let n = heartbeat_rngs.len();
        Dispatcher {
            epochs: vec![0; n],
            heartbeat_rngs,
            stopped_at: vec![None; n],
        }
    }
}

/// `DefaultHeartBeatPeriod` and `defaultHeartBeatEpsilon`.
const HEARTBEAT_PERIOD_MS: u64 = 5000;
const HEARTBEAT_EPSILON_MS: u64 = 500;
/// `defaultGracePeriodMultiplier`.
const GRACE_MULTIPLIER: u64 = 3;
/// `defaultNodeDownPeriod`: tasks of a node down this long are orphaned.
const NODE_DOWN_PERIOD: SimDuration = secs(24 * 3600);

impl Cluster {
    /// The machine stops: its agent and containers are gone at once; the
    /// managers notice when the heartbeat deadline passes.
    pub fn node_stop(&mut self, node: NodeId) {
        if !self.state.nodes[node].agent_up {
            return;
        }
        self.node_agent_changed(node, false);
        self.agent_node_stopped(node);
        self.dispatcher.stopped_at[node] = Some(self.now);
        self.dispatcher.epochs[node] += 1;
        let rng = &mut self.dispatcher.heartbeat_rngs[node];
        let period = millis(rng.random_range(
            HEARTBEAT_PERIOD_MS - HEARTBEAT_EPSILON_MS..=HEARTBEAT_PERIOD_MS + HEARTBEAT_EPSILON_MS,
        ));
        let since_last = SimDuration::from_nanos(rng.random_range(0..period.as_nanos()));
        let deadline = (self.now + period * GRACE_MULTIPLIER).saturating_sub(since_last);
        let epoch = self.dispatcher.epochs[node];
        self.queue.push(
            deadline.max(self.now),
            Event::HeartbeatExpired { node, epoch },
        );
        self.explain(None, |c| {
            format!(
                "node {} stopped; its last heartbeat was {} ago with a {} period, so the managers notice in {} (3 periods after that heartbeat)",
                c.state.nodes[node].hostname,
                format_go_duration(since_last),
                format_go_duration(period),
                format_go_duration(deadline.max(c.now) - c.now)
            )
        });
    }

    /// The heartbeat deadline passed: the node is DOWN (`heartbeat failure`).
    pub(crate) fn heartbeat_expired(&mut self, node: NodeId, epoch: u64) {
        if self.dispatcher.epochs[node] != epoch || self.state.nodes[node].agent_up {
            return;
        }
        self.state.nodes[node].status = NodeStatus::Down;
        self.explain(None, |c| {
            format!(
                "node {} missed its heartbeat deadline: the managers mark it down (heartbeat failure)",
                c.state.nodes[node].hostname
            )
        });
        self.log_node(node, "down");
        self.notify_node(node);
        self.queue.push(
            self.now + NODE_DOWN_PERIOD,
            Event::NodeDownPeriod { node, epoch },
        );
    }

    /// `moveTasksToOrphaned`: after 24 h down, the node's tasks that were
    /// assigned and not yet stopped are ORPHANED (the agent will never
    /// report them).
    pub(crate) fn orphan_tasks(&mut self, node: NodeId, epoch: u64) {
        if self.dispatcher.epochs[node] != epoch
            || self.state.nodes[node].status != NodeStatus::Down
        {
            return;
        }
        for t in self.tasks_on_node(node) {
            let state = self.state.tasks[t].state;
            if (TaskState::Assigned..=TaskState::Running).contains(&state) {
                self.set_state(t, TaskState::Orphaned, "orphaned", None, "dispatcher");
            }
        }
    }

    /// The machine is back: the agent registers, the node is READY, and the
    /// agent reports what became of its tasks.
    pub fn node_start(&mut self, node: NodeId) {
        if self.state.nodes[node].agent_up {
            return;
        }
        self.dispatcher.epochs[node] += 1;
        self.dispatcher.stopped_at[node] = None;
        self.node_agent_changed(node, true);
        let was_down = self.state.nodes[node].status != NodeStatus::Ready;
        self.state.nodes[node].status = NodeStatus::Ready;
        if was_down {
            self.log_node(node, "ready");
            self.notify_node(node);
        }
        self.agent_node_started(node);
    }
}
